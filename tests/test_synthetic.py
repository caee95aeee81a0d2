"""The embedded default cohort: deterministic, messy like the real exports, and curated to the paper's funnel."""
import dataclasses
from pathlib import Path

import pandas as pd
import pytest
import yaml

from radonc_llm import catalogue
from radonc_llm.cohort import PAPER_COHORT, cohort_table, funnel
from radonc_llm.consistency import check_case, check_cases, summarise
from radonc_llm.curate import curate
from radonc_llm.icd10 import main_category, normalise_icd10
from radonc_llm.pairs import resolve_modality
from radonc_llm.pseudonym import pseudonymise
from radonc_llm.synthetic import Drawn, generate_cohort, render_text, write_cohort
from radonc_llm.tables import read_export, write_csv

CATALOGUE = catalogue.load()
SITES = CATALOGUE.sites
CONFIG = yaml.safe_load((Path(__file__).parents[1] / "config" / "config.yaml").read_text())
NO_OVERRIDES = pd.DataFrame({"case_id": pd.Series(dtype=str), "modality": pd.Series(dtype=str)})


@pytest.fixture(scope="module")
def default_cohort(tmp_path_factory):
    d = tmp_path_factory.mktemp("synthetic")
    settings = CONFIG["synthetic"]
    truth = []
    diagnoses, plans = generate_cohort(settings["n_patients"], settings["seed"], settings["coding_noise"], truth,
                                       ambiguity=settings["ambiguity"])
    write_csv(diagnoses, d / "diagnoses.csv")
    write_csv(plans, d / "plans.csv")
    diagnoses, plans = read_export(d / "diagnoses.csv", "diagnoses"), read_export(d / "plans.csv", "plans")
    cases, steps = curate(diagnoses, plans, b"k")
    labels, _ = resolve_modality(cases, NO_OVERRIDES)
    truth = pd.DataFrame(truth)
    truth["case_id"] = pseudonymise(truth["patient_id"], b"k")
    return (diagnoses, plans, cases, funnel(steps, labels), cohort_table(cases, labels).set_index("characteristic"),
            truth)


@pytest.mark.slow
def test_default_funnel_within_two_percent_of_the_paper(default_cohort):
    *_, steps, table, _ = default_cohort
    assert steps.loc[steps["step"] == 0, "remaining"].iloc[0] == 15724
    for name in ("cases (tasks 1-2)", "cases (task 3, ICD-10)"):
        assert abs(table.loc[name, "value"] / PAPER_COHORT[name] - 1) <= 0.02, name


@pytest.mark.slow
def test_default_cohort_mix_within_two_points_of_the_paper(default_cohort):
    *_, table, _ = default_cohort
    for name in ("photon %", "proton %", "electron %", "brachy %", "male %", "curative %", "age mean"):
        assert abs(table.loc[name, "value"] - PAPER_COHORT[name]) <= 2, name
    assert (table.loc["age min", "value"], table.loc["age max", "value"]) == (1, 100)


@pytest.mark.slow
def test_default_cohort_carries_the_mess_curation_must_clean(default_cohort):
    diagnoses, plans, cases, steps, *_ = default_cohort
    assert diagnoses["patient_id"].duplicated().sum() > 1000
    assert plans["plan_type"].str.lower().eq("alternative primary").sum() > 1000
    assert plans["plan_type"].str.lower().eq("boost").sum() > 100
    assert set(plans["plan_type"]) >= {"Primary", "PRIMARY", "primary"}
    assert (diagnoses["icd_scheme"] == "ICD-9-CM").sum() > 500
    text = diagnoses["diagnosis_details"]
    assert text.str.contains(r"\bplan\b", case=False).sum() > 3000
    assert text.str.contains(r"\bIMPT, \d+ fractions, [\d.]+ Gy").sum() > 20  # the paper's example form
    assert text.str.contains(r" (?:-[A-Z]{2}|/[a-z]{2,3})$").sum() > 1000  # clinician initials
    assert (cases["separation"] == "pattern").sum() > 1000
    assert steps.loc[steps["step"] == 5, "dropped"].iloc[0] > 0  # unmappable modality values
    assert (cases["n_boosts"] > 0).sum() > 100


def test_generation_is_deterministic_and_seeded(tmp_path):
    write_cohort(300, 5, tmp_path / "d1.csv", tmp_path / "p1.csv")
    write_cohort(300, 5, tmp_path / "d2.csv", tmp_path / "p2.csv")
    assert (tmp_path / "d1.csv").read_bytes() == (tmp_path / "d2.csv").read_bytes()
    assert (tmp_path / "p1.csv").read_bytes() == (tmp_path / "p2.csv").read_bytes()
    other, _ = generate_cohort(300, 6)
    assert not other.equals(pd.read_csv(tmp_path / "d1.csv", keep_default_na=False))


@pytest.mark.slow
def test_default_cohort_is_consistent_apart_from_the_injected_noise(default_cohort):
    *_, cases, _, _, truth = default_cohort
    report = check_cases(cases).merge(truth[["case_id", "noise"]], on="case_id", how="left")
    summary = summarise(report).set_index("check")
    flagged = report[~report["consistent"]]
    # every flag is injected noise, and each noise kind is found for its own reason
    assert (flagged["noise"] != "").all(), flagged["flags"].value_counts()
    assert set(report.loc[report["noise"] == "wrong_side", "flags"]) == {"side_mismatch"}
    assert set(report.loc[report["noise"] == "unspecified_side", "flags"]) == {"side_unspecified"}
    assert (report["noise"] == "").mean() >= 0.95 and report.loc[report["noise"] == "", "consistent"].all()
    # the laterality disagreements match the configured rate (binomial, within 3 standard deviations)
    rates = CONFIG["synthetic"]["coding_noise"]
    for reason, kind in (("side_mismatch", "wrong_side"), ("side_unspecified", "unspecified_side")):
        n, k = summary.loc[reason, ["n_checked", "n_flagged"]]
        assert n > 1500 and abs(k - n * rates[kind]) <= 3 * (n * rates[kind] * (1 - rates[kind])) ** 0.5, reason
    for reason in ("organ_mismatch", "subsite_mismatch", "behaviour_mismatch", "stage_invalid"):
        assert summary.loc[reason, "n_flagged"] == 0, reason
    organs = summary[summary.index.str.startswith("organ: ")]
    assert len(organs) >= 30 and (organs["percent"] <= 2).all()  # each organ coded with its own category >= 98 %
    assert report["organ"].ne("").mean() >= 0.99  # the checker recognises nearly every synthetic text


def _every_case():
    """Every subtype x organ x stage x side x template of the catalogue, rendered as the generator does."""
    import random
    rnd = random.Random(0)
    for site in SITES:
        for sub in site.subtypes:
            for organ in sub.organs:
                for stage in organ.stages or sub.stages:
                    for side in ("left", "right"):
                        code = (organ.right if side == "right" else organ.left) if organ.sided else organ.code
                        regimens = stage.regimens or organ.regimens or sub.regimens
                        drawn = Drawn(site, sub, organ, side, stage, code, regimens)
                        for template in sub.templates:
                            yield drawn, render_text(template, rnd, drawn, organ.sex or "female", CATALOGUE)


def test_every_catalogue_case_is_coherent():
    cases = list(_every_case())
    assert len(cases) > 500
    for drawn, text in cases:
        result = check_case(text, drawn.code)
        assert result["consistent"] and result["organ"], (text, drawn.code, result)


def test_catalogue_codes_are_valid_icd10_cm_and_sided_organs_have_both_sides():
    for site in SITES:
        for sub in site.subtypes:
            for organ in sub.organs:
                codes = [organ.right, organ.left, organ.unspecified] if organ.sided else [organ.code]
                assert all(normalise_icd10(c) == c for c in codes), codes
                if organ.sided:
                    assert {check_case(f"the {s} side", c)["side_in_code"] for s, c in
                            (("right", organ.right), ("left", organ.left))} == {"right", "left"}, organ.text
                    assert check_case("", organ.unspecified)["side_in_code"] == ""


def _borderline_cases():
    """Every borderline wording of the catalogue with each of its codings, on both sides, as the coder writes it."""
    import random
    rnd = random.Random(0)
    for drawn, _ in _every_case():
        for wording in drawn.organ.borderline:
            for coding in wording.codings:
                organ = dataclasses.replace(drawn.organ, text=wording.text, code=coding.code, right=coding.right,
                                            left=coding.left, borderline=())
                assert organ.sided == drawn.organ.sided, wording.text  # the main random stream stays aligned
                code = (organ.right if drawn.side == "right" else organ.left) if organ.sided else organ.code
                case = dataclasses.replace(drawn, organ=organ, code=code, templates=wording.templates)
                for template in case.templates or drawn.subtype.templates:
                    yield case, render_text(template, rnd, case, organ.sex or "female", CATALOGUE)


def test_every_borderline_coding_is_valid_and_marked_as_ambiguity_not_error():
    cases = list(_borderline_cases())
    assert len(cases) >= 20
    for drawn, text in cases:
        assert normalise_icd10(drawn.code) == drawn.code
        result = check_case(text, drawn.code)
        assert result["consistent"] and result["ambiguity"] == "neighbouring_code", (text, drawn.code, result)
    for drawn, _ in _every_case():
        for wording in drawn.organ.borderline:
            assert abs(sum(c.share for c in wording.codings) - 1) < 1e-9, wording.text
            assert len({main_category(c.code or c.right) for c in wording.codings}) > 1, wording.text


def test_the_seeded_coder_chooses_per_case_and_at_rate_zero_leaves_the_cohort_as_drawn():
    plain_truth, coded_truth = [], []
    plain = generate_cohort(3000, 8, truth=plain_truth)
    coded = generate_cohort(3000, 8, truth=coded_truth, ambiguity={"borderline": 1.0})
    for table, other in zip(plain, generate_cohort(3000, 8, ambiguity={"borderline": 0.0})):
        pd.testing.assert_frame_equal(table, other)  # rate 0: the same bytes as without a coder
    plain_truth, coded_truth = pd.DataFrame(plain_truth), pd.DataFrame(coded_truth)
    assert plain_truth["patient_id"].equals(coded_truth["patient_id"])  # the same patients with the same fates
    assert plain_truth["fate"].equals(coded_truth["fate"]) and (plain_truth["ambiguity"] == "").all()
    chosen = coded_truth[coded_truth["ambiguity"] == "borderline"]
    assert len(chosen) > 300 and set(chosen["site"]) == {"GI", "breast", "lung", "head and neck", "metastases", "CNS",
                                                         "prostate"}
    notes = coded[0].drop_duplicates("patient_id").set_index("patient_id").loc[
        chosen["patient_id"][chosen["patient_id"].isin(coded[0]["patient_id"])]]
    rectosigmoid = notes[notes["diagnosis_details"].str.contains("rectosigmoid, 14 cm")]
    icd10 = rectosigmoid[rectosigmoid["icd_scheme"] == "ICD-10-CM"]["icd_code"].map(normalise_icd10)
    assert set(icd10.map(main_category)) == {"C18", "C19", "C20"}  # one wording, the coder's three choices
    assert icd10.map(main_category).value_counts(normalize=True)["C19"] == pytest.approx(0.5, abs=0.2)


def test_a_metastasis_note_naming_its_primary_may_be_coded_to_the_primary_and_is_marked_as_ambiguity():
    assert set(CATALOGUE.primary_codes) == set(CATALOGUE.fields["primary"])
    assert all(normalise_icd10(c) == c for c in CATALOGUE.primary_codes.values())
    truth = []
    diagnoses, _ = generate_cohort(3000, 8, truth=truth, ambiguity={"primary_first": 0.5})
    truth = pd.DataFrame(truth)
    coded = truth[truth["ambiguity"] == "primary_first"]
    metastases = truth[(truth["site"] == "metastases") & (truth["icd_scheme"] == "ICD-10-CM") & (truth["noise"] == "")]
    assert len(coded) / len(metastases) == pytest.approx(0.5, abs=0.15) and set(coded["site"]) == {"metastases"}
    notes = diagnoses.drop_duplicates("patient_id").set_index("patient_id").loc[
        coded["patient_id"][coded["patient_id"].isin(diagnoses["patient_id"])]]
    for text, code in zip(notes["diagnosis_details"], notes["icd_code"].map(normalise_icd10)):
        named = [c for p, c in CATALOGUE.primary_codes.items() if p in text.lower()]  # unless a stray ** split it
        assert code in (named or CATALOGUE.primary_codes.values())  # the primary the note names
        result = check_case(text, code)
        assert result["consistent"] and result["ambiguity"] == "neighbouring_code", (text, code, result)


def test_a_second_problem_names_another_cancer_or_a_comorbidity_and_the_case_stays_coherent():
    truth = []
    diagnoses, _ = generate_cohort(2000, 9, truth=truth, ambiguity={"second_problem": 0.5})
    truth = pd.DataFrame(truth)
    second = truth[truth["ambiguity"] == "second_problem"]
    assert len(second) / len(truth) == pytest.approx(0.5, abs=0.05)
    notes = diagnoses.drop_duplicates("patient_id").set_index("patient_id")
    second = second[second["patient_id"].isin(notes.index) & (second["icd_scheme"] == "ICD-10-CM")
                    & (second["noise"] == "")]
    prior = 0
    for pid, code in zip(second["patient_id"], second["drawn_code"]):
        text = notes.loc[pid, "diagnosis_details"]
        named = [c for p, c in CATALOGUE.primary_codes.items() if f"of {p} " in text or f"prior {p} " in text]
        prior += bool(named)
        assert all(c[:3] != code[:3] for c in named), (text, code)  # a prior cancer of another organ
        assert check_case(text, code)["consistent"], (text, code)  # the note's own organ is still named first
    assert 0.3 < prior / len(second) < 0.7  # half of them a prior cancer, half a comorbidity


def test_shorthand_notes_name_the_same_disease_and_the_checker_reads_them():
    import random
    rnd = random.Random(0)
    shorthand = [(drawn, render_text(t, rnd, drawn, drawn.organ.sex or "female", CATALOGUE))
                 for drawn, _ in _every_case() for t in drawn.subtype.shorthand]
    assert len(shorthand) > 100
    for drawn, text in shorthand:
        result = check_case(text, drawn.code)
        assert result["consistent"] and result["organ"], (text, drawn.code, result)
        if drawn.organ.sided:  # RUL, L breast: the side in shorthand is read
            assert result["side_in_text"] == drawn.side, text
    assert check_case("NSCLC RUL, 2.4 cm, cT1c cN0 M0, med inop", "C34.31")["flags"] == "subsite_mismatch"
    truth = []
    generate_cohort(2000, 9, truth=truth, ambiguity={"shorthand": 1.0})
    truth = pd.DataFrame(truth)
    written = truth["ambiguity"] == "shorthand"
    assert set(truth.loc[written, "site"]) == {"breast", "lung", "prostate", "head and neck", "metastases"}
    assert written.mean() > 0.4


def test_every_stage_offers_a_modality_of_its_subtype_and_regimens_belong_to_their_organ():
    for drawn, _ in _every_case():
        offered = {r.modality for r in drawn.regimens}
        assert any(drawn.subtype.modality.get(m, 0) > 0 for m in offered), drawn.organ.text
        for r in drawn.regimens:
            if (r.total_gy, r.fractions, r.target) == (25, 5, "pelvis"):  # the short course: rectum only
                assert main_category(drawn.code) in ("C19", "C20"), drawn.organ.text
            if r.total_gy / r.fractions > 8 and r.modality == "photon":  # ablative doses: stereotactic
                assert r.technique == "sbrt", (drawn.organ.text, r)
        if "in situ" in _ or "DCIS" in _:
            assert drawn.stage.group == "0" and "Tis" in drawn.stage.tnm


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["sites"][1]["subtypes"][0]["organs"].append({"txt": "prostate", "code": "C61"}),
     "sites[1].subtypes[0].organs[1]: unknown field 'txt'"),
    (lambda d: d["sites"][0]["subtypes"][0]["regimens"][0].update(fractions="fifteen"),
     "sites[0].subtypes[0].regimens[0].fractions: expected int, found str 'fifteen'"),
    (lambda d: d["sites"][0]["subtypes"][0]["regimens"][3].update(boost=["electron", 10, 5]),
     "sites[0].subtypes[0].regimens[3].boost: expected a mapping of modality, total_gy, fractions"),
    (lambda d: d["sites"][2].pop("age"), "sites[2]: Site without 'age'"),
])
def test_a_malformed_catalogue_entry_is_refused_in_one_line_naming_the_file_and_key(tmp_path, edit, message):
    data = yaml.safe_load(catalogue.DEFAULT.read_text())
    edit(data)
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(catalogue.CatalogueError) as err:
        catalogue.load(path)
    assert str(err.value).startswith(f"{path}: {message}"), str(err.value)
    assert "\n" not in str(err.value)


def test_an_edited_catalogue_changes_the_cohort_it_draws(tmp_path):
    data = yaml.safe_load(catalogue.DEFAULT.read_text())
    for site in data["sites"]:
        site["weight"] = 1.0 if site["name"] == "prostate" else 0.0
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    diagnoses, _ = generate_cohort(60, 1, catalogue_file=path)
    assert diagnoses["icd_code"].isin(["C61", "185"]).mean() > 0.9  # only prostate cases (ICD-10 or ICD-9 coded)


def test_a_borderline_wording_is_used_at_the_rate_times_its_frequency():
    import random

    from radonc_llm.synthetic import coder_choice, draw_disease
    site = next(s for s in CATALOGUE.sites if s.name == "GI")
    rnd, rectum = random.Random(3), None
    while rectum is None or not rectum.organ.borderline or rectum.organ.code != "C20":
        rectum = draw_disease(rnd, site, "male")
    wording = rectum.organ.borderline[0]
    assert wording.text.startswith("rectosigmoid") and wording.frequency == 0.4  # the catalogue's
    def share(rate, frequency):
        drawn = dataclasses.replace(rectum, organ=dataclasses.replace(
            rectum.organ, borderline=(dataclasses.replace(wording, frequency=frequency),)))
        coder = random.Random("coder")
        kinds = [coder_choice(coder, drawn, {"borderline": rate})[1] for _ in range(4000)]
        return kinds.count("borderline") / len(kinds)
    assert share(1.0, 0.4) == pytest.approx(0.4, abs=0.03)
    assert share(0.5, 0.4) == pytest.approx(0.2, abs=0.03)
    assert share(1.0, 0.0) == 0 and share(1.0, 1.0) == 1


def test_a_borderline_wording_with_its_own_course_is_treated_with_it():
    """Salvage radiation after prostatectomy is a course of the prostate bed (never a seed implant), whichever
    code the coder gives the note."""
    diagnoses, plans = generate_cohort(3000, 8, ambiguity={"borderline": 1.0})
    salvage = set(diagnoses.loc[diagnoses["diagnosis_details"].str.contains("after radical prostatectomy",
                                                                            na=False), "patient_id"])
    assert len(salvage) > 50
    codes = diagnoses[diagnoses["patient_id"].isin(salvage) & (diagnoses["icd_scheme"] == "ICD-10-CM")]["icd_code"]
    assert {"C61", "Z85", "R97"} <= set(codes.map(normalise_icd10).map(main_category))
    courses = plans[plans["patient_id"].isin(salvage)]
    doses = pd.to_numeric(courses["total_dose_gy"], errors="coerce").dropna()
    assert doses.isin([66.0, 70.0, 70.2]).mean() > 0.9  # the wording's own regimens (a few plans are messy)
    assert not courses["modality"].str.contains("brachy|seed|HDR|LDR", case=False, na=False).any()
