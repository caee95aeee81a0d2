"""ICD-10-CM codes: validity (through simple-icd-10-cm) and normal form."""
from __future__ import annotations

import functools


@functools.cache
def _cm():
    """simple-icd-10-cm parses the whole code set on import (~4 s): only jobs that need it pay."""
    import simple_icd_10_cm
    return simple_icd_10_cm


def is_icd10_scheme(scheme: str) -> bool:
    s = str(scheme).upper().replace(" ", "").replace("-", "")
    return s.startswith("ICD10")


def normalise_icd10(code: str) -> str | None:
    """The dotted, upper-case ICD-10-CM code, or None if it is not a category or (sub)category."""
    c = str(code).strip().upper()
    if not c or not _cm().is_valid_item(c) or _cm().is_chapter_or_block(c):
        return None
    return _cm().add_dot(c) if "." not in c else c


def main_category(code: str) -> str:
    """The three characters before the dot: what the paper's ICD-10 accuracy compares."""
    return str(code).strip().upper().replace(".", "")[:3]


# The paper's confusion-matrix groups (Figure 6). Chapters by their number in the official
# ICD-10-CM tabular list; neoplasms by the official description of the block the code falls in.
CHAPTER_GROUPS = {"3": "Blood and blood-forming organs", "6": "Nervous system", "7": "Eye and adnexa",
                  "17": "Congenital malformations"}
OTHERS = "Others"


def icd10_category(code: str) -> str:
    """The paper's category of an ICD-10 code: four chapters, benign and in-situ neoplasms,
    malignant neoplasms split by the site of their official block ('Malignant: breast'), Others."""
    c = str(code).strip().upper()
    c = _cm().add_dot(c) if "." not in c and len(c) > 3 else c
    if not _cm().is_valid_item(c):
        return OTHERS
    ancestors = _cm().get_ancestors(c)
    chapter = next((a for a in ancestors if _cm().is_chapter(a)), None)
    if chapter in CHAPTER_GROUPS:
        return CHAPTER_GROUPS[chapter]
    blocks = [a for a in ancestors if _cm().is_block(a)]
    top_block = blocks[-1] if blocks else c  # the block right below the chapter (a category may be one)
    description = _cm().get_description(top_block).split(" (")[0]
    if chapter != "2":
        return OTHERS
    if description.startswith("In situ"):
        return "In situ neoplasms"
    if description.startswith("Benign"):
        return "Benign neoplasms"
    if "malignant" in description.lower():  # 'Malignant neoplasm(s) of <site>', 'Melanoma and other ... of skin'
        site = description.split(" of ", 1)[1] if " of " in description else description.split(" ", 1)[1]
        return f"Malignant: {site}"
    return OTHERS
