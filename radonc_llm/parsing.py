"""Turn a model's generated text into the task's answer; what cannot be parsed is 'unparsed', never dropped."""
from __future__ import annotations

import re

from .icd10 import normalise_icd10

UNPARSED = "unparsed"

# Free-text mentions of each modality, searched case-insensitively. Named modalities (photons, x-rays,
# MV/kV beams, protons, electrons, brachytherapy and its sources and applicators) decide by the first one
# named; a photon technique (EBRT, IMRT, VMAT, SBRT, SRS, ...) means photons unless protons or electrons
# are named anywhere ("SBRT with protons", "external beam with electrons").
_MODALITY_WORDS = {
    # (6X, 15X: a linac's photon energy, not a product "6 x 5 Gy" or a rate "2x/week")
    "photon": r"photons?|x-?rays?|\d+\s*(?:mv|kv)|\d+\s*fff|(?:4|6|10|15|16|18|20|23)\s?x(?!\s*(?:\d|/|daily|per\b|a\b|"
              r"weekly|times|fractions?|fx|[a-z]))|megavoltage|kilovoltage|orthovoltage|"
              r"superficial x-?ray|gamma ?knife|cyberknife|tomotherapy",
    "proton": r"protons?|impt|pbs|pencil[- ]beam(?: scanning)?|proton beam|passive(?:ly)? scatter(?:ing|ed)|"
              r"double scattering|uniform scanning",
    "electron": r"electrons?|electron[- ]beam|e-beam|en face|\d+\s*mev|tsebt|tset|total skin electrons?",
    "brachy": r"brachy(?:therapy)?|hdr|ldr|pdr|seeds?|seed implant|permanent implant|interstitial|intracavitary|"
              r"intraluminal|tandem|ovoids?|vaginal cylinder|mammosite|savi|contura|leipzig|i-?125|iodine-?125|"
              r"pd-?103|palladium-?103|ir-?192|iridium-?192|cs-?131|ce?sium-?131",
    "technique": r"ebrt|external[- ]beam(?: radiation| radiotherapy)?|imrt|vmat|rapidarc|sbrt|sabr|srs|fsrt|hsrt|srt|"
                 r"3d-?crt|3d conformal|stereotactic|radiosurgery",
}
# (one word boundary before the alternatives: the search fails fast inside words)
_MODALITY = re.compile(r"\b(?:" + "|".join(rf"(?P<{label}>(?:{words})\b)" for label, words in _MODALITY_WORDS.items())
                       + ")", re.IGNORECASE)
# "not protons", "rather than protons", "protons are not indicated": a mention that is no recommendation
_NEGATED_BEFORE = re.compile(r"\b(?:not|no|without|rather than|instead of|avoid(?:ing)?|unlike|preferred over|"
                             r"in preference to)\s+(?:\w+\s+){0,2}$", re.IGNORECASE)
_NEGATED_AFTER = re.compile(r"^(?:\s+\w+){0,2}\s+(?:is|are|would be|were)\s+(?:not|contraindicated)\b", re.IGNORECASE)
_RBE_UNIT = re.compile(r"gy\s*[(\[]\s*(?:rbe|e)\s*[)\]]|gy\s*rbe\b|gye\b|\bcge\b", re.IGNORECASE)
# Answers that decline: counted apart in the predictions' log (still 'unparsed' unless they name an answer)
_REFUSAL = re.compile(r"\b(?:i(?:'m| am) (?:not able|unable|sorry)|i (?:cannot|can't|can not)|"
                      r"unable to (?:provide|determine)|"
                      r"not able to (?:provide|determine)|as an ai\b|consult (?:a|your|with a) (?:qualified )?"
                      r"(?:physician|doctor|radiation oncologist|healthcare))", re.IGNORECASE)
# An ICD-10-CM code: a letter, two digits (or digit + A/B), optionally a dot and up to four characters.
_ICD10 = re.compile(r"\b([A-Z][0-9][0-9AB](?:\.?[0-9A-Z]{1,4})?)\b", re.IGNORECASE)


def parse_modality(text: str) -> str:
    """The modality the text recommends (rules above), or 'unparsed'."""
    text = text or ""
    mentions = [m for m in _MODALITY.finditer(text)
                if not _NEGATED_BEFORE.search(text[max(0, m.start() - 40):m.start()])
                and not _NEGATED_AFTER.search(text[m.end():m.end() + 40])]
    named = [m.lastgroup for m in mentions if m.lastgroup != "technique"]
    if mentions and mentions[0].lastgroup == "technique":
        particles = [label for label in named if label in ("proton", "electron")]
        return particles[0] if particles else "photon"
    if named:
        return named[0]
    return "proton" if _RBE_UNIT.search(text) else UNPARSED


def is_refusal(text: str) -> bool:
    """Whether a generated answer declines to answer ("I'm not able to provide ...")."""
    return bool(_REFUSAL.search(text or ""))


def parse_icd10(text: str) -> str:
    """The first valid ICD-10-CM code in the text (dotted, upper case), or 'unparsed'."""
    for candidate in _ICD10.findall(text or ""):
        code = normalise_icd10(candidate)
        if code:
            return code
    return UNPARSED


def regimen_text(text: str) -> str:
    """The regimen text itself, trimmed (empty when nothing was generated)."""
    return (text or "").strip()


