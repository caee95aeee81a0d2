"""Curation, rule by rule, on small hand-written exports: each case's expected fate."""
import pandas as pd

from conftest import KEY, PROSTATE, dx, plan
from radonc_llm.curate import curate, format_dose, plan_kind
from radonc_llm.pairs import resolve_modality, task_table
from radonc_llm.pseudonym import pseudonymise


def case_of(cases, pid, key=KEY):
    cid = pseudonymise(pd.Series([pid]), key).iloc[0]
    rows = cases[cases["case_id"] == cid]
    return rows.iloc[0] if len(rows) else None


def why(steps, step):
    return steps.loc[steps["step"] == step, "why"].iloc[0]


def test_rule1_only_patients_with_exactly_one_diagnosis_record(exports):
    d, p = exports(
        [dx("A"), dx("B", did="B1"), dx("B", did="B2")],
        [plan("A"), plan("B"), plan("C")],  # C has plans but no diagnosis record
    )
    cases, steps = curate(d, p, KEY)
    assert case_of(cases, "A") is not None
    assert case_of(cases, "B") is None and case_of(cases, "C") is None
    row = steps[steps["step"] == 1].iloc[0]
    assert (row["remaining"], row["dropped"]) == (1, 2)
    assert why(steps, 1) == "several diagnosis records: 1; no diagnosis record: 1"


def test_rule2_exactly_one_primary_plan_case_insensitive_boosts_kept(exports):
    d, p = exports(
        [dx(x) for x in "ABCDEF"],
        [plan("A", "PRIMARY", "6X", 50, 25), plan("A", " boost ", "12E", 10, 5, plan_id="P2"),
         plan("B", "Primary"), plan("B", "Alternative Primary", plan_id="P2"),
         plan("C", "Replan"),
         plan("D", "primary"), plan("D", "Primary", plan_id="P2", course="C2"),
         plan("E", "Primary", total="", fx=""),
         plan("F", "primary"), plan("F", "Replan", "IMPT", 60, 30, plan_id="P2")],
    )
    cases, steps = curate(d, p, KEY)
    a = case_of(cases, "A")
    assert a["prescription"] == "primary, photon, 50.0Gy, fractions:25. boost, electron, 10.0Gy, fractions:5"
    assert a["n_boosts"] == 1
    assert case_of(cases, "F")["prescription"] == "primary, photon, 70.0Gy, fractions:28"  # replan ignored
    for dropped in "BCDE":
        assert case_of(cases, dropped) is None, dropped
    assert why(steps, 2) == ("alternative primary plan: 1; no primary plan: 1; several primary plans: 1; "
                             "primary plan without dose or fraction count: 1")
    assert plan_kind("Alt. Primary") == "alternative" and plan_kind("PRIMARY") == "primary"


def test_rule3_plan_text_leaves_the_prompt_and_joins_the_regimen(exports):
    d, p = exports(
        [dx("A", PROSTATE + " Plan 70 Gy/ 28 fx photons"),
         dx("B", "Base of tongue SCC, p16 positive, cT2 N1, IMPT, 35 fractions, 60 Gy"),
         dx("C", PROSTATE)],
        [plan("A"), plan("B", modality="IMPT", total=60, fx=30), plan("C")],
    )
    cases, steps = curate(d, p, KEY)
    a, b, c = (case_of(cases, x) for x in "ABC")
    assert a["diagnosis"] == PROSTATE and a["plan_summary"] == "Plan 70 Gy/ 28 fx photons"
    assert a["separation"] == "keyword"
    assert a["regimen"] == "Plan 70 Gy/ 28 fx photons. primary, photon, 70.0Gy, fractions:28"
    assert b["diagnosis"] == "Base of tongue SCC, p16 positive, cT2 N1" and b["separation"] == "pattern"
    assert b["regimen"] == "IMPT, 35 fractions, 60 Gy. primary, proton, 60.0Gy, fractions:30"
    assert c["plan_summary"] == "" and c["regimen"] == "primary, photon, 70.0Gy, fractions:28"
    assert "plan found by keyword: 1; plan found by pattern: 1" in why(steps, 3)


def test_rule3_manual_separation_overrides_the_automatic_one(exports):
    d, p = exports([dx("A", "Glioblastoma; the team favoured a short course"), dx("B")], [plan("A"), plan("B")])
    cid = pseudonymise(pd.Series(["A"]), KEY).iloc[0]
    manual = pd.DataFrame({"case_id": [cid], "diagnosis": ["Glioblastoma"],
                           "plan_summary": ["short course 40.05 Gy/15 fx"]})
    cases, steps = curate(d, p, KEY, text_separations=manual)
    a = case_of(cases, "A")
    assert (a["diagnosis"], a["plan_summary"], a["separation"]) == ("Glioblastoma", "short course 40.05 Gy/15 fx",
                                                                   "annotation")
    assert case_of(cases, "B")["separation"] == "none"


def test_rule3_case_whose_text_is_only_a_plan_is_dropped_and_counted(exports):
    d, p = exports([dx("A", "Plan 8 Gy x 1 to the femur"), dx("B")], [plan("A"), plan("B")])
    cases, steps = curate(d, p, KEY)
    assert case_of(cases, "A") is None and case_of(cases, "B") is not None
    assert steps.loc[steps["step"] == 3, "dropped"].iloc[0] == 1


def test_rule4_unusual_punctuation_and_initials_removed(exports):
    d, p = exports(
        [dx("A", "\u2022 **Melanoma** of the scalp,, Breslow 3.1 mm!! -JS"),
         dx("B", 'Prostate adenocarcinoma, "Gleason" 3+4=7 JS/kl'),
         dx("C", "Breast cancer ER/PR positive, HER2 negative")],
        [plan("A", modality="9E"), plan("B"), plan("C")],
    )
    cases, steps = curate(d, p, KEY)
    assert case_of(cases, "A")["diagnosis"] == "Melanoma of the scalp, Breslow 3.1 mm"
    assert case_of(cases, "B")["diagnosis"] == "Prostate adenocarcinoma, Gleason 3+4=7"
    assert case_of(cases, "C")["diagnosis"] == "Breast cancer ER/PR positive, HER2 negative"  # untouched
    assert why(steps, 4) == "diagnosis texts changed: 2"


def test_rule5_modality_standardised_unmapped_awaits_annotation_until_overridden(exports):
    d, p = exports([dx(x) for x in "ABCDE"],
                   [plan("A", modality="10FFF"), plan("B", modality="PBS"), plan("C", modality="12E"),
                    plan("D", modality="I-125 seeds"), plan("E", modality="Mixed")])
    cases, _ = curate(d, p, KEY)
    assert [case_of(cases, x)["modality_mapped"] for x in "ABCD"] == ["photon", "proton", "electron", "brachy"]
    empty = pd.DataFrame({"case_id": pd.Series(dtype=str), "modality": pd.Series(dtype=str)})
    labels, needs = resolve_modality(cases, empty)
    e = case_of(cases, "E")["case_id"]
    assert list(needs["case_id"]) == [e]
    assert e not in set(task_table("modality", cases, labels)["case_id"])
    assert e in set(task_table("regimen", cases, labels)["case_id"])  # only the modality task waits

    labels, needs = resolve_modality(cases, pd.DataFrame({"case_id": [e], "modality": ["proton"]}))
    assert needs.empty
    table = task_table("modality", cases, labels).set_index("case_id")
    assert table.loc[e, "answer"] == "proton"
    assert labels.set_index("case_id").loc[e, "source"] == "annotation"


def test_rule5_config_synonyms_map_site_specific_values(exports):
    d, p = exports([dx("A")], [plan("A", modality="TB3-Halcyon")])
    cases, _ = curate(d, p, KEY, modality_synonyms={"tb3-halcyon": "photon"})
    assert case_of(cases, "A")["modality_mapped"] == "photon"


def test_rule6_icd10_task_keeps_only_valid_icd10_codes(exports):
    d, p = exports(
        [dx("A", code="C61"), dx("B", code="185", scheme="ICD-9-CM"), dx("C", code="C61.9"),
         dx("D", code="c50911", scheme="ICD10")],
        [plan(x) for x in "ABCD"],
    )
    cases, steps = curate(d, p, KEY)
    assert len(cases) == 4  # ICD-9 and invalid codes stay in tasks 1-2
    icd = task_table("icd10", cases).set_index("case_id")["answer"]
    assert icd.to_dict() == {case_of(cases, "A")["case_id"]: "C61", case_of(cases, "D")["case_id"]: "C50.911"}
    assert why(steps, 6) == "ICD-9 or other scheme: 1; invalid ICD-10 code: 1"


def test_no_raw_identifier_reaches_the_cases(exports):
    d, p = exports([dx("MRN1234567")], [plan("MRN1234567")])
    cases, _ = curate(d, p, KEY)
    assert "MRN1234567" not in cases.to_csv()
    assert cases["case_id"].iloc[0] == pseudonymise(pd.Series(["MRN1234567"]), KEY).iloc[0]
    other, _ = curate(d, p, b"another key")
    assert other["case_id"].iloc[0] != cases["case_id"].iloc[0]


def test_format_dose_matches_the_aria_summary():
    assert [format_dose(x) for x in (25, 40.05, 50.4, 7.25)] == ["25.0", "40.05", "50.4", "7.25"]
