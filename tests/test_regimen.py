"""The regimen parser on the forms real notes use, and on texts it must refuse."""
from pathlib import Path

import pandas as pd
import pytest

from radonc_llm.metrics import Scoring, score_cases
from radonc_llm.regimen import WINDOW, Window, compare, fractionation_class, parse_regimen

# text -> (total dose Gy, fractions, modality); None where the text does not say
READ = [
    ("25 Gy/ 5 fx", (25, 5, None)),
    ("50 Gy in 25 fractions", (50, 25, None)),
    ("60Gy/30", (60, 30, None)),
    ("primary, photon, 25.0Gy, fractions:5", (25, 5, "photon")),
    ("7 Gy x 4", (28, 4, None)),
    ("40.05 Gy/15 fx", (40.05, 15, None)),
    ("5040 cGy in 28 fractions", (50.4, 28, None)),
    ("2500cGy/5fx", (25, 5, None)),
    ("plan 25 Gy/ 5 fx photons. primary, photon, 25.0Gy, fractions:5", (25, 5, "photon")),
    ("PLAN 60Gy/30fx protons to postoperative bed. primary, proton, 60.0Gy, fractions:30", (60, 30, "proton")),
    ("40 Gy in 10 fx electrons. primary, electron, 40.0Gy, fractions:10", (40, 10, "electron")),
    ("primary, brachy, 7.0Gy, fractions:3", (7, 3, "brachy")),
    ("HDR 7 Gy x 3 to the vaginal cuff", (21, 3, "brachy")),
    ("IMPT 70 Gy in 35 fractions", (70, 35, "proton")),
    ("SBRT 54 Gy in 3 fractions to the right lower lobe", (54, 3, "photon")),  # SBRT/SRS: photon techniques
    ("SRS 20 Gy in 1 fraction", (20, 1, "photon")),
    ("8 Gy single fraction to T10", (8, 1, None)),
    ("8 Gy in a single fraction", (8, 1, None)),
    ("45 Gy at 1.8 Gy per fraction", (45, 25, None)),
    ("4 x 5 Gy", (20, 4, None)),
    ("30 Gy / 10 fx palliative", (30, 10, None)),
    ("36.25 Gy in 5 fx to the prostate and seminal vesicles", (36.25, 5, None)),
    ("Treatment plan: 26 Gy in 5 fx to the chest wall and regional nodes.", (26, 5, None)),
    ("Plan - IMRT 60 Gy/20 fx.", (60, 20, "photon")),
    ("VMAT, 5 fractions, 26 Gy.", (None, None, "photon")),  # fraction count before the dose: not a form we read
    ("Rx 6600 cGy / 33 fx", (66, 33, None)),
    ("66 Gy over 33 fractions", (66, 33, None)),
    ("60 GY/30 FX", (60, 30, None)),
    ("78.0Gy, 39 fractions", (78, 39, None)),  # dose, comma, a count with its word: a course
    ("primary, photon, 78.0Gy, fractions:39", (78, 39, "photon")),
    ("primary, photon, 50.0Gy, fractions:25 boost, electron, 10.0Gy, fractions:5", (50, 25, "photon")),
    ("50 Gy in 25 fx then 10 Gy in 5 fx boost", (50, 25, None)),  # the first course is the primary
    ("plan 20 Gy in 5 fx with 3D conformal photons", (20, 5, "photon")),
    ("proton 3000 cGy/10", (30, 10, "proton")),
    ("electron beam 12 Gy/ 4 fx", (12, 4, "electron")),
]

REFUSED = [
    "",
    "Radiation therapy is recommended.",
    "Gy",
    "follow up in 3 months",
    "5 fractions",
    "50 Gy",
    "50 Gy/0 fx",  # no fractions: refused, not divided by zero
    "500 Gy in 5 fractions",  # 100 Gy per fraction: not a prescription
    "2 Gy in 100 fractions",  # more fractions than any course
    "The patient is 60/30",
    "stage pT2 N1 M0, 2/3 nodes positive",
]


@pytest.mark.parametrize("text, expected", READ)
def test_reads_the_forms_real_notes_use(text, expected):
    r = parse_regimen(text)
    total, fractions, modality = expected
    assert (r.total_dose, r.fractions, r.modality) == (pytest.approx(total) if total else None, fractions, modality)


@pytest.mark.parametrize("text", REFUSED)
def test_refuses_what_gives_no_course(text):
    r = parse_regimen(text)
    assert r.total_dose is None and r.fractions is None and r.fractionation_class is None and r.eqd2() is None


def test_boosts_dose_per_fraction_and_eqd2():
    r = parse_regimen("plan 50 Gy/25 fx. primary, photon, 50.0Gy, fractions:25 boost, electron, 10.0Gy, fractions:5")
    assert r.boosts == [(10.0, 5, "electron")]
    assert r.dose_per_fraction == 2.0 and r.fractionation_class == "conventional"
    assert r.eqd2(10) == pytest.approx(50 + 10)  # 2 Gy fractions: EQD2 = physical dose
    assert parse_regimen("25 Gy/5 fx").eqd2(10) == pytest.approx(25 * (5 + 10) / 12)  # 31.25
    assert parse_regimen("25 Gy/5 fx").eqd2(3) == pytest.approx(25 * 8 / 5)  # late tissue: 40


@pytest.mark.parametrize("total, fractions, expected", [
    (8, 1, "single fraction"), (20, 1, "single fraction"),
    (54, 3, "SBRT/SRS"), (40, 8, "SBRT/SRS"), (36.25, 5, "SBRT/SRS"),
    (45, 9, "hypofractionated"),  # 5 Gy x 9: more than 8 fractions
    (40.05, 15, "hypofractionated"), (26, 5, "SBRT/SRS"),  # 5.2 Gy x 5: the SBRT rule comes first
    (60, 30, "conventional"), (50.4, 28, "conventional"), (66, 30, "conventional"), (45, 25, "conventional"),
    (69.6, 58, "below conventional"),
    (None, 5, None), (25, None, None),
])
def test_fractionation_classes(total, fractions, expected):
    assert fractionation_class(total, fractions) == expected


@pytest.mark.parametrize("generated, grade", [
    ("plan 25 Gy/ 5 fx to the left breast. primary, photon, 25.0Gy, fractions:5", 1),  # same course
    ("primary, photon, 30.0Gy, fractions:5", 1),  # another dose, same class and modality
    ("primary, proton, 25.0Gy, fractions:5", 2),  # modality off
    ("primary, photon, 50.0Gy, fractions:25", 2),  # fractionation class off
    ("primary, electron, 40.05Gy, fractions:15", 4),  # both off, EQD2 40.05 (2.67 + 10) / 12 = 42.3: 35 % above 31.25
    ("primary, electron, 26.0Gy, fractions:10", 3),  # both off, EQD2 28.2 vs 31.25 Gy: within 25 %
    ("primary, electron, 70.0Gy, fractions:35", 4),  # both off and EQD2 70 vs 31.25 Gy
    ("radiation therapy to the breast", 5),  # no dose, no modality
    ("25 Gy in 5 fractions", 5),  # dose but no modality
])
def test_proxy_grade_follows_the_papers_scale(generated, grade):
    from radonc_llm.regimen import compare
    result = compare("plan 25 Gy/ 5 fx photons. primary, photon, 25.0Gy, fractions:5", generated)
    assert result["proxy_grade"] == grade


def test_comparison_columns_and_an_unreadable_reference():
    from radonc_llm.regimen import compare
    row = compare("plan 60 Gy/30 fx. primary, photon, 60.0Gy, fractions:30", "primary, photon, 60.0Gy, fractions:30")
    assert row["dose_match"] and row["fractions_match"] and row["modality_match"]
    assert row["abs_delta_eqd2"] == 0 and row["ref_class"] == "conventional"
    assert compare("see outside records", "primary, photon, 60.0Gy, fractions:30")["proxy_grade"] is None


def oncologist_rows():
    """tests/data/proxy_grades.csv: physician/generated pairs with the grade an oncologist gives by the paper's
    scale; the rows the proxy's rules cannot grade (intent, not modality or fractionation class) are its known
    limits: expected to fail, and a proxy that learns them fails the mark (strict), to be lifted."""
    import csv
    with open(Path(__file__).parent / "data" / "proxy_grades.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) >= 20
    return [pytest.param(row, id=f"row{i}", marks=[pytest.mark.xfail(strict=True, reason=row["why"])]
                         if row["why"].startswith("known limit") else []) for i, row in enumerate(rows, 2)]


@pytest.mark.parametrize("row", oncologist_rows())
def test_proxy_grade_is_the_radiation_oncologists_grade(row):
    assert compare(row["physician"], row["generated"])["proxy_grade"] == int(row["oncologist_grade"])


def test_ldr_implant_is_its_own_class_without_eqd2():
    from radonc_llm.regimen import compare
    r = parse_regimen("I-125 seed implant 145 Gy")
    assert (r.total_dose, r.fractions, r.implant, r.modality) == (145, None, True, "brachy")
    assert r.fractionation_class == "LDR implant" and r.dose_per_fraction is None and r.eqd2() is None
    row = compare("I-125 seed implant 145 Gy", "Pd-103 seed implant 125 Gy")
    assert row["fractions_match"] and not row["dose_match"] and row["abs_delta_eqd2"] is None
    boosted = parse_regimen("45 Gy in 25 fractions followed by an I-125 seed boost of 110 Gy")
    assert boosted.boosts == [(110, None, "brachy")] and boosted.eqd2() is None


def test_simultaneous_levels_are_not_added_to_eqd2():
    r = parse_regimen("IMRT 70 Gy, 63 Gy and 56 Gy in 35 fractions")
    assert r.levels == [63, 56] and r.boosts == [] and r.eqd2(10) == pytest.approx(70)


def test_the_reader_reads_within_the_runs_clinical_window():
    """A department that widens curation.window to keep 120 Gy courses gets them read and proxy-graded too."""
    wide = Window(max_total=130.0)
    assert parse_regimen("120 Gy in 60 fractions").total_dose is None  # outside the default window: refused
    assert (parse_regimen("120 Gy in 60 fractions", wide).total_dose, parse_regimen("120 Gy in 60 fractions",
                                                                                      wide).fractions) == (120, 60)
    assert parse_regimen("primary, photon, 120.0Gy, fractions:60", wide).fractions == 60
    assert compare("photons 120 Gy in 60 fractions", "photons 120 Gy in 60 fractions")["proxy_grade"] is None
    assert compare("photons 120 Gy in 60 fractions", "photons 120 Gy in 60 fractions", 10, wide)["proxy_grade"] == 1
    implant = "I-125 seed implant 210 Gy"
    assert not parse_regimen(implant).implant and parse_regimen(implant, Window(implant_max=250.0)).implant
    pairs = pd.DataFrame({"case_id": ["a"], "answer": ["photons 120 Gy in 60 fractions"]})
    predictions = pd.DataFrame({"case_id": ["a"], "temperature": [0.1], "answer": ["photons 60 Gy in 30 fractions"]})
    assert score_cases("regimen", pairs, predictions)["proxy_grade"].isna().all()
    scored = score_cases("regimen", pairs, predictions, Scoring(window=wide))
    assert scored["proxy_grade"].tolist() == [1] and scored["ref_dose"].tolist() == [120]  # same class and modality


def test_scoring_takes_the_window_from_the_runs_config():
    params = {"alpha_beta": 3.0, "window": {"max_fractions": 80, "min_per_fraction": 0.5, "max_single_fraction": 34.0,
                                            "max_per_fraction": 25.0, "max_total": 130.0, "implant_min": 20.0,
                                            "implant_max": 200.0}, "bootstrap": {"resamples": 10, "seed": 1,
                                                                                  "confidence": 0.9}}
    scoring = Scoring.from_params(params)
    assert scoring.window == Window(max_fractions=80, max_total=130.0) != WINDOW and scoring.alpha_beta == 3.0
    config = {"metrics": {"alpha_beta": 3.0, "bootstrap": params["bootstrap"]},
              "curation": {"window": params["window"]}}
    assert Scoring.from_config(config) == scoring
