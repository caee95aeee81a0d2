"""ICD-10-CM codes: validity (through simple-icd-10-cm) and normal form."""
from __future__ import annotations

import simple_icd_10_cm as cm


def is_icd10_scheme(scheme: str) -> bool:
    s = str(scheme).upper().replace(" ", "").replace("-", "")
    return s.startswith("ICD10")


def normalise_icd10(code: str) -> str | None:
    """The dotted, upper-case ICD-10-CM code, or None if it is not a category or (sub)category."""
    c = str(code).strip().upper()
    if not c or not cm.is_valid_item(c) or cm.is_chapter_or_block(c):
        return None
    return cm.add_dot(c) if "." not in c else c


def main_category(code: str) -> str:
    """The three characters before the dot: what the paper's ICD-10 accuracy compares."""
    return str(code).strip().upper().replace(".", "")[:3]
