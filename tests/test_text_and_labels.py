"""Plan separation, text cleaning, modality and ICD-10 normalisation on the forms real notes use."""
import pytest

from radonc_llm.icd10 import is_icd10_scheme, main_category, normalise_icd10
from radonc_llm.modality import standardise_modality
from radonc_llm.text import clean_text, has_plan_information, separate_plan

DX = "LEFT invasive lobular carcinoma, grade 2, ER Pos, PR Pos, HER2/Neu negative"


@pytest.mark.parametrize("text, diagnosis, plan, how", [
    (DX + " Plan 25 Gy/ 5 fx photons", DX, "Plan 25 Gy/ 5 fx photons", "keyword"),
    (DX + ". plan: 40.05 Gy in 15 fractions VMAT", DX, "plan: 40.05 Gy in 15 fractions VMAT", "keyword"),
    (DX + ", IMPT, 35 fractions, 60 Gy", DX, "IMPT, 35 fractions, 60 Gy", "pattern"),
    (DX + "; Rx 7 Gy x 4 HDR", DX, "Rx 7 Gy x 4 HDR", "pattern"),
    (DX + " 5000 cGy in 25 fractions to the breast", DX, "5000 cGy in 25 fractions to the breast", "pattern"),
    ("Plan 60 Gy/30 fx. " + DX, DX, "Plan 60 Gy/30 fx", "keyword"),
    ('Treatment plan: 42.56 Gy in 16 fx to the whole "breast." ' + DX, DX,
     'Treatment plan: 42.56 Gy in 16 fx to the whole "breast', "keyword"),
    (DX, DX, "", "none"),
    ("Cervical cancer, FIGO IIB, planned weekly cisplatin", "Cervical cancer, FIGO IIB, planned weekly cisplatin",
     "", "none"),
])
def test_separate_plan(text, diagnosis, plan, how):
    assert separate_plan(text) == (diagnosis, plan, how)
    assert not has_plan_information(separate_plan(text)[0])


@pytest.mark.parametrize("raw, clean", [
    ("**Melanoma** of the scalp,, Breslow 3.1 mm!!", "Melanoma of the scalp, Breslow 3.1 mm"),
    ("\u2022 Glioblastoma  , IDH wild type ..", "Glioblastoma, IDH wild type"),
    ("Prostate adenocarcinoma, Gleason 3+4=7, PSA 6.8 -JS", "Prostate adenocarcinoma, Gleason 3+4=7, PSA 6.8"),
    ("Tonsil SCC, p16 positive - MB", "Tonsil SCC, p16 positive"),
    ("Tonsil SCC, p16 positive /kl", "Tonsil SCC, p16 positive"),
    ("Tonsil SCC, p16 positive JS/kl", "Tonsil SCC, p16 positive"),
    ("Breast cancer ER/PR positive", "Breast cancer ER/PR positive"),  # not initials
    ("Oropharynx carcinoma (HPV)", "Oropharynx carcinoma (HPV)"),
    ("Ki-67 20%, T1c N0, PSA < 10", "Ki-67 20%, T1c N0, PSA < 10"),
    ("Renal cell carcinoma_ clear cell", "Renal cell carcinoma clear cell"),
])
def test_clean_text(raw, clean):
    assert clean_text(raw) == clean


@pytest.mark.parametrize("value, label", [
    ("6X", "photon"), ("10X", "photon"), ("6FFF", "photon"), ("6X-FFF", "photon"), ("VMAT", "photon"),
    ("IMRT", "photon"), ("3D", "photon"), ("Photons", "photon"), ("6 MV", "photon"),
    ("IMPT", "proton"), ("PBS", "proton"), ("Proton", "proton"), ("PROTONS", "proton"),
    ("6E", "electron"), ("12E", "electron"), ("Electron", "electron"), ("electron beam", "electron"),
    ("HDR", "brachy"), ("LDR", "brachy"), ("Brachy", "brachy"), ("I-125 seeds", "brachy"),
    ("Mixed", None), ("Other", None), ("", None), ("See Rx", None),
])
def test_standardise_modality(value, label):
    assert standardise_modality(value) == label


def test_icd10_normal_form_and_validity():
    assert normalise_icd10("c509") == "C50.9"
    assert normalise_icd10(" C50.911 ") == "C50.911"
    assert normalise_icd10("C61") == "C61"
    for bad in ("C61.9", "C5O.911", "185", "C00-C14", ""):
        assert normalise_icd10(bad) is None, bad
    assert is_icd10_scheme("ICD-10-CM") and is_icd10_scheme("icd10") and not is_icd10_scheme("ICD-9-CM")
    assert main_category("C50.911") == "C50"
