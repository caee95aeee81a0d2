"""Standardise what the treatment machine records into photon | proton | electron | brachy."""
from __future__ import annotations

import re

LABELS = ("photon", "proton", "electron", "brachy")

# Whole-value patterns, tried in order on the lower-cased, trimmed value.
_RULES = (
    ("electron", r"\d+(\.\d+)?\s*(e|mev)|electrons?|en face electrons?|e-?beam|electron beam"),
    ("photon", r"\d+(\.\d+)?\s*(x|mv)(\s*-?\s*(fff|imrt|vmat|srs|sbrt))?|\d+\s*fff|x-?rays?|photons?|imrt|vmat|arc|"
               r"3d(-?crt)?|sbrt|sabr|srs|tomo(therapy)?|cyberknife|gamma ?knife"),
    ("proton", r"impt|pbs|protons?|proton beam|pencil beam( scanning)?|double scattering"),
    ("brachy", r"hdr|ldr|brachy(therapy)?|hdr brachy(therapy)?|ldr brachy(therapy)?|i-?125( seeds?)?|"
               r"pd-?103( seeds?)?|ir-?192|seeds?|cs-?131( seeds?)?"),
)
_COMPILED = tuple((label, re.compile(rf"(?:{pattern})")) for label, pattern in _RULES)


def standardise_modality(value: str, extra: dict | None = None) -> str | None:
    """Return the standard label for a machine modality value, or None when no rule maps it.

    `extra` (config `modality.synonyms`) maps further site-specific values, compared without case.
    """
    key = re.sub(r"\s+", " ", str(value).strip().lower())
    if extra:
        lowered = {str(k).strip().lower(): v for k, v in extra.items()}
        if key in lowered:
            return lowered[key]
    for label, pattern in _COMPILED:
        if pattern.fullmatch(key):
            return label
    return None
