"""Answer parsing on nasty model outputs: empty, verbose, several answers, upper/lower case."""
import pytest

from radonc_llm.parsing import UNPARSED, parse_icd10, parse_modality, parse_regimen


@pytest.mark.parametrize("text, label", [
    ("photon", "photon"), ("Protons.", "proton"), ("PROTON BEAM THERAPY", "proton"),
    (" photon </s>", "photon"), ("electron beam", "electron"), ("HDR brachytherapy, 7 Gy x 4", "brachy"),
    ("The patient should receive IMPT to 70 Gy in 35 fractions", "proton"),
    ("pencil-beam scanning", "proton"), ("6 MV x-rays with VMAT", "photon"), ("LDR seed implant", "brachy"),
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
    assert parse_regimen("  plan 25 Gy/ 5 fx photons. primary, photon, 25.0Gy, fractions:5 \n") == \
        "plan 25 Gy/ 5 fx photons. primary, photon, 25.0Gy, fractions:5"
    assert parse_regimen(long) == long
    assert parse_regimen("") == "" and parse_regimen(None) == ""
