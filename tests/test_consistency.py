"""The consistency checker on hand-written cases: each incoherence the synthetic cohort used to have,
and clean cases."""
import pandas as pd
import pytest

from radonc_llm.consistency import STAGING_FILE, check_case, check_cases, load_staging, summarise, text_organ
from radonc_llm.errors import UserError


@pytest.mark.parametrize("text, code, flag", [
    # laterality (the examples)
    ("LEFT breast invasive ductal carcinoma, pT1c pN0 M0", "C50.811", "side_mismatch"),
    ("Right uveal melanoma, choroidal", "C69.32", "side_mismatch"),
    ("myxoid liposarcoma of the left calf, cT2 cN0 M0", "C49.21", "side_mismatch"),
    ("Adenocarcinoma of the left upper lobe, cT1b cN0 M0", "C34.90", "side_unspecified"),
    ("Renal cell carcinoma, right kidney, 3.2 cm", "C64.9", "side_unspecified"),
    # organ against the 3-character category
    ("adenocarcinoma of the distal esophagus, cT3 cN1 M0", "C22.0", "organ_mismatch"),
    ("Undifferentiated carcinoma of the nasopharynx, cT2 cN1 M0", "C32.0", "organ_mismatch"),
    ("Adenocarcinoma of the rectum, cT3 cN0 M0", "C25.0", "organ_mismatch"),
    ("Squamous cell carcinoma of the anal canal", "C18.7", "organ_mismatch"),
    # subsite within the organ
    ("Adenocarcinoma of the right lower lobe, cT1c cN0 M0", "C34.11", "subsite_mismatch"),
    ("Adenocarcinoma of the head of the pancreas, cT3 cN0 M0", "C25.2", "subsite_mismatch"),
    ("Left frontal lobe glioblastoma, IDH wild type", "C71.2", "subsite_mismatch"),
    # behaviour and stage
    ("ductal carcinoma in situ of the right breast, cT3 cN1", "D05.11", "stage_invalid"),
    ("DCIS of the left breast, margins negative", "C50.912", "behaviour_mismatch"),
    ("Invasive ductal carcinoma of the left breast, pT2 pN0 M0", "D05.12", "behaviour_mismatch"),
    ("Right upper lobe squamous cell carcinoma, cT4a N2c M0", "C34.11", "stage_invalid"),
    ("Prostate adenocarcinoma, cT1mi N0 M0, Gleason 3+4=7", "C61", "stage_invalid"),
])
def test_each_incoherence_is_flagged_for_its_reason(text, code, flag):
    result = check_case(text, code)
    assert flag in result["flags"].split(";") and not result["consistent"]


@pytest.mark.parametrize("text, code", [
    ("LEFT BREAST invasive ductal carcinoma, pT1c pN0(sn) M0, ER positive", "C50.912"),
    ("Invasive ductal carcinoma of the upper outer quadrant of the right breast, pT2 pN1a M0", "C50.411"),
    ("Right middle lobe adenocarcinoma, 2.4 cm, cT1c cN0 M0", "C34.2"),  # the middle lobe has no left
    ("Prostate cancer, Gleason 4+3=7, cT2b N0 M0, MRI PI-RADS 5 lesion in the left peripheral zone", "C61"),
    ("Metastatic breast cancer to the left femur, painful", "C79.51"),  # the primary's organ is named too
    ("Lung adenocarcinoma with solitary brain metastasis of the right frontal lobe, 1.8 cm", "C79.31"),
    ("Extranodal marginal zone lymphoma of the left orbit, stage IE", "C88.40"),
    ("Uveal melanoma of the right choroid, 8 mm apical height", "C69.31"),
    ("Squamous cell carcinoma of the left tonsil, p16 positive, cT2 cN2 M0", "C09.9"),
    ("Squamous cell carcinoma of the floor of mouth, pT2 pN2c M0", "C04.9"),  # N2c exists in the oral cavity
    ("Classical Hodgkin lymphoma, nodular sclerosis, left neck and mediastinum, stage IIA", "C81.18"),
    ("DCIS of the left breast, pTis (DCIS) pN0 M0", "D05.12"),
    ("Arteriovenous malformation of the left parietal lobe, Spetzler-Martin grade 2", "Q28.2"),
    ("Metastatic lung adenocarcinoma to the T10 vertebral body, no cord compression", "C79.51"),  # T10 is a vertebra
])
def test_coherent_cases_pass(text, code):
    result = check_case(text, code)
    assert result["consistent"], result


@pytest.mark.parametrize("text, code, ambiguity", [
    # where categories meet, every code coders choose there is ambiguity, neither organ nor subsite mismatch
    ("Adenocarcinoma of the rectosigmoid, 14 cm from the anal verge, cT3 cN0 M0", "C19", "neighbouring_code"),
    ("Adenocarcinoma of the rectosigmoid, 14 cm from the anal verge, cT3 cN0 M0", "C18.7", "neighbouring_code"),
    ("adenocarcinoma of the gastroesophageal junction, Siewert type II, cT3 cN1 M0", "C15.5", "neighbouring_code"),
    ("adenocarcinoma of the gastroesophageal junction, Siewert type II, cT3 cN1 M0", "C16.0", "neighbouring_code"),
    ("Adenocarcinoma of the rectum, cT3 cN0 M0", "C20", ""),  # no borderline wording: nothing to mark
    ("Metastatic lung adenocarcinoma to the T10 vertebral body, painful", "C34.90", "neighbouring_code"),
    ("Metastatic lung adenocarcinoma to the T10 vertebral body, painful", "C79.51", "neighbouring_code"),
])
def test_a_defensible_neighbouring_code_is_marked_as_ambiguity_not_flagged(text, code, ambiguity):
    result = check_case(text, code)
    assert result["consistent"] and result["ambiguity"] == ambiguity, result


def test_a_code_outside_the_neighbouring_categories_is_still_an_error():
    assert check_case("Metastatic lung adenocarcinoma to the T10 vertebral body", "C61")["flags"] == "organ_mismatch"
    result = check_case("adenocarcinoma of the gastroesophageal junction, Siewert type II, cT3 cN1 M0", "C22.0")
    assert result["flags"] == "organ_mismatch" and result["ambiguity"] == ""
    report = check_cases(pd.DataFrame({
        "case_id": ["a", "b", "c"], "icd10": ["C15.5", "C22.0", "C20"],
        "diagnosis": ["adenocarcinoma of the gastroesophageal junction, Siewert type II"] * 2 + ["rectal cancer"]}))
    summary = summarise(report).set_index("check")
    assert summary.loc["neighbouring_code", ["n_checked", "n_flagged"]].tolist() == [3, 1]
    assert summary.loc["all checks", "n_flagged"] == 1  # ambiguity is not counted as an error


def test_organ_named_first_wins_and_metastasis_before_the_primary():
    assert text_organ("Adenocarcinoma of the prostate, s/p biopsy of the left lung nodule")[0] == "prostate"
    assert text_organ("Metastatic prostate cancer to the L2 vertebral body")[0] == "metastasis"
    assert text_organ("Keloid of the right earlobe") [0] == "keloid"
    assert text_organ("s/p appendectomy") is None


def test_report_counts_and_keeps_the_text_out():
    cases = pd.DataFrame({
        "case_id": ["a", "b", "c", "d"],
        "diagnosis": ["Invasive ductal carcinoma of the left breast, pT1c pN0 M0",
                      "Invasive ductal carcinoma of the left breast, pT1c pN0 M0",
                      "Adenocarcinoma of the distal esophagus, cT3 cN1 M0", "ICD-9 coded case"],
        "icd10": ["C50.912", "C50.911", "C22.0", None]})
    report = check_cases(cases)
    assert list(report["case_id"]) == ["a", "b", "c"]  # no valid ICD-10 code: not checked
    assert list(report["flags"]) == ["", "side_mismatch", "organ_mismatch"]
    assert "diagnosis" not in report.columns
    assert not report.astype(str).apply(lambda col: col.str.contains("carcinoma")).any().any()
    summary = summarise(report).set_index("check")
    assert summary.loc["all checks", ["n_checked", "n_flagged"]].tolist() == [3, 2]
    assert summary.loc["side_mismatch", ["n_checked", "n_flagged"]].tolist() == [2, 1]
    assert summary.loc["organ: breast", ["n_checked", "n_flagged", "percent"]].tolist() == [2, 0, 0.0]
    assert summary.loc["organ: esophagus", ["n_checked", "n_flagged", "percent"]].tolist() == [1, 1, 100.0]


def test_the_ajcc_table_is_data_an_edit_changes_the_check_and_a_bad_entry_is_named(tmp_path):
    text, code = "Adenocarcinoma of the prostate, cT2d N0 M0", "C61"  # AJCC 8th has no T2d for prostate
    assert check_case(text, code)["flags"] == "stage_invalid"
    edited = tmp_path / "staging.yaml"
    edited.write_text(STAGING_FILE.read_text().replace("T: X 0 1 1a 1b 1c 2 2a 2b 2c 3 3a 3b 4\n",
                                                       "T: X 0 1 1a 1b 1c 2 2a 2b 2c 2d 3 3a 3b 4\n"))
    assert check_case(text, code, edited)["consistent"]
    staging, in_situ = load_staging()
    assert staging["C19"] is staging["C20"] and staging["C20"]["M"] == {"X", "0", "1", "1a", "1b", "1c"}
    assert staging["C11"]["M"] == {"0", "1", "X"} and in_situ["T"] == {"is"}  # M omitted: 0 1 X
    bad = tmp_path / "bad.yaml"
    bad.write_text(STAGING_FILE.read_text().replace("- categories: [C22]", "- categories: [liver]"))
    with pytest.raises(UserError, match=r"bad.yaml: sites\[8\].categories: expected a list of 3-character") as err:
        load_staging(bad)
    assert "\n" not in str(err.value)
