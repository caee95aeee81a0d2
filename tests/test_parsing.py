"""Answer parsing on nasty model outputs: empty, verbose, several answers, upper/lower case."""
import pytest

from radonc_llm.parsing import UNPARSED, is_refusal, parse_icd10, parse_modality, regimen_text


@pytest.mark.parametrize("text, label", [
    ("photon", "photon"), ("Protons.", "proton"), ("PROTON BEAM THERAPY", "proton"),
    (" photon </s>", "photon"), ("electron beam", "electron"), ("HDR brachytherapy, 7 Gy x 4", "brachy"),
    ("The patient should receive IMPT to 70 Gy in 35 fractions", "proton"),
    ("pencil-beam scanning", "proton"), ("6 MV x-rays with VMAT", "photon"), ("LDR seed implant", "brachy"),
    ("tangents, 6X", "photon"), ("15X, wedges", "photon"), ("6 x 5 Gy", UNPARSED), ("2x/week", UNPARSED),
    ("10 x 3 Gy", UNPARSED), ("4x per week", UNPARSED),
    ("12 MeV en face", "electron"),
    ("Radiation therapy with photons, or protons if the heart dose is high", "photon"),  # the first one named
    ("", UNPARSED), ("I recommend radiation therapy.", UNPARSED), ("photonic crystal", UNPARSED),
    ("Adenocarcinoma of the prostate, Gleason 3+4=7", UNPARSED), (None, UNPARSED),
])
def test_parse_modality(text, label):
    assert parse_modality(text) == label


@pytest.mark.parametrize("text, code", [
    ("C50.911", "C50.911"), ("c61", "C61"), ("C509", "C50.9"), (" C34.90 </s>", "C34.90"),
    ("The ICD-10 code is C34.90 (malignant neoplasm of lung), alternatively C34.91", "C34.90"),
    ("ICD-9 185, ICD-10 C61", "C61"),
    ("C5O.911 is a typo; the code is C50.912", "C50.912"),
    ("Stage T1a N0 M0, code D05.11", "D05.11"),
    ("", UNPARSED), ("no code here", UNPARSED), ("C61.9", UNPARSED), (None, UNPARSED),
])
def test_parse_icd10(text, code):
    assert parse_icd10(text) == code


def test_parse_regimen_keeps_the_text_whole_but_trimmed():
    long = "The radiation therapy prescription would likely involve:\n1. Radiation Field: ...\n2. Dose: 40-50 Gy"
    assert regimen_text("  plan 25 Gy/ 5 fx photons. primary, photon, 25.0Gy, fractions:5 \n") == \
        "plan 25 Gy/ 5 fx photons. primary, photon, 25.0Gy, fractions:5"
    assert regimen_text(long) == long
    assert regimen_text("") == "" and regimen_text(None) == ""


# How real instruction models answer: sentences, synonyms, abbreviations, negations, refusals.
@pytest.mark.parametrize("text, label", [
    ("Treatment would typically involve external beam radiation therapy using photons (IMRT) to the breast.", "photon"),
    ("The recommended modality is external beam radiation therapy (EBRT).", "photon"),  # a technique: photons
    ("VMAT", "photon"), ("3D-CRT", "photon"), ("Radiosurgery (Gamma Knife)", "photon"), ("SBRT", "photon"),
    ("SBRT delivered with protons", "proton"),  # a technique, but protons are named
    ("External beam radiation with electrons (9 MeV) to the scar", "electron"),
    ("PBS", "proton"), ("IMPT is preferred to spare the heart.", "proton"), ("Passive scattering", "proton"),
    ("EBRT followed by an HDR brachytherapy boost", "photon"),  # the primary course comes first
    ("Permanent seed implant (LDR)", "brachy"), ("Tandem and ovoid applicator", "brachy"),
    ("The best modality is brachytherapy (HDR).", "brachy"),
    ("TSEBT for mycosis fungoides", "electron"),
    ("Protons are not indicated; IMRT is recommended.", "photon"),  # a negated mention does not count
    ("Rather than protons, use 6 MV photons.", "photon"),
    ("70 Gy(RBE) in 35 fractions", "proton"),  # an RBE-weighted dose is a particle dose
    ("I'm sorry, I cannot recommend a modality without more information.", UNPARSED),
    ("Radiation therapy is a common treatment.", UNPARSED),
])
def test_parse_modality_in_sentences(text, label):
    assert parse_modality(text) == label


@pytest.mark.parametrize("text, code", [
    ("The ICD-10 code for this diagnosis is C50.911 (malignant neoplasm of unspecified site of right female breast).",
     "C50.911"),
    ("**ICD-10-CM:** C34.11", "C34.11"), ("code: c61", "C61"), ("Diagnosis code (C18.7) - sigmoid colon", "C18.7"),
    ("ICD-10: C71.1; ICD-O-3: 8140/3", "C71.1"),
    ("The most appropriate codes are C50.912 and C77.3.", "C50.912"),  # several: the first valid one
    ("Stage T2N1M0 (C32.0)", "C32.0"), ("T10 spine metastasis, code C79.51", "C79.51"),  # T10 is no code
    ("C7A.1 (malignant poorly differentiated neuroendocrine tumour)", "C7A.1"),
    ("I'm not able to provide a specific ICD-10 code without more information.", UNPARSED),
])
def test_parse_icd10_in_sentences(text, code):
    assert parse_icd10(text) == code


@pytest.mark.parametrize("text, refusal", [
    ("I'm not able to provide a specific ICD-10 code without more information.", True),
    ("I cannot give medical advice. Please consult your radiation oncologist.", True),
    ("As an AI language model, I am unable to determine the treatment.", True),
    ("photon", False), ("The ICD-10 code is C61.", False), ("", False), (None, False),
])
def test_refusals_are_recognised(text, refusal):
    assert is_refusal(text) is refusal


def test_one_task_registry_that_the_config_schema_and_the_workflow_follow():
    from pathlib import Path

    import yaml

    from radonc_llm.metrics import class_labels
    from radonc_llm.tasks import ORDER, TASKS
    repo = Path(__file__).parents[1]
    schema = yaml.safe_load((repo / "config" / "schema.yaml").read_text())
    assert list(schema["properties"]["tasks"]["properties"]) == ORDER == ["regimen", "modality", "icd10"]
    assert list(yaml.safe_load((repo / "config" / "config.yaml").read_text())["tasks"]) == ORDER
    assert [TASKS[t].parse("Photons, 50 Gy in 25 fractions; code C61") for t in ORDER] == [
        "Photons, 50 Gy in 25 fractions; code C61", "photon", "C61"]
    assert class_labels("modality", None) == ["photon", "proton", "electron", "brachy"]
