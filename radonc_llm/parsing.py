"""Turn a model's generated text into the task's answer; what cannot be parsed is 'unparsed', never dropped."""
from __future__ import annotations

import re

from .icd10 import normalise_icd10

UNPARSED = "unparsed"

# Free-text mentions of each modality (words, techniques, sources), searched case-insensitively.
_MODALITY_WORDS = {
    "photon": r"photons?|x-?rays?|imrt|vmat|sbrt|sabr|srs|3d-?crt|tomotherapy|cyberknife|gamma ?knife|"
              r"\d+\s*mv|\d+\s*fff",
    "proton": r"protons?|impt|pbs|pencil[- ]beam( scanning)?|proton beam",
    "electron": r"electrons?|electron[- ]beam|en face|\d+\s*mev",
    "brachy": r"brachy(therapy)?|hdr|ldr|seeds?|implant|i-?125|pd-?103|ir-?192",
}
_MODALITY = re.compile("|".join(rf"(?P<{label}>\b(?:{words})\b)" for label, words in _MODALITY_WORDS.items()),
                       re.IGNORECASE)
# An ICD-10-CM code: a letter, two digits (or digit + A/B), optionally a dot and up to four characters.
_ICD10 = re.compile(r"\b([A-Z][0-9][0-9AB](?:\.?[0-9A-Z]{1,4})?)\b", re.IGNORECASE)


def parse_modality(text: str) -> str:
    """The first modality the text names, or 'unparsed'."""
    match = _MODALITY.search(text or "")
    return match.lastgroup if match else UNPARSED


def parse_icd10(text: str) -> str:
    """The first valid ICD-10-CM code in the text (dotted, upper case), or 'unparsed'."""
    for candidate in _ICD10.findall(text or ""):
        code = normalise_icd10(candidate)
        if code:
            return code
    return UNPARSED


def parse_regimen(text: str) -> str:
    """The regimen text itself, trimmed (empty when nothing was generated)."""
    return (text or "").strip()


PARSERS = {"regimen": parse_regimen, "modality": parse_modality, "icd10": parse_icd10}
