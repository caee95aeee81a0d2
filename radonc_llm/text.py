"""Diagnosis text: separate the plan written into it, then remove odd punctuation and initials."""
from __future__ import annotations

import re

# Anything that belongs to a treatment plan: the keyword, a dose, a fraction count, a technique.
PLAN_KEYWORD = re.compile(r"\b(?:treatment\s+)?plan\b", re.IGNORECASE)
PLAN_PATTERN = re.compile(
    r"\b\d+(?:\.\d+)?\s*c?Gy\b"                                     # 25 Gy, 40.05Gy, 2500 cGy
    r"|\b\d+\s*(?:fx|fxs|fractions?)\b"                              # 5 fx, 35 fractions
    r"|\bRx\b"
    r"|\b(?:IMPT|IMRT|VMAT|SBRT|SABR|SRS|SRT|3D-?CRT|PBS|HDR|LDR|photons?|protons?|electrons?|brachy(?:therapy)?)\b",
    re.IGNORECASE)
# A segment ends at a sentence stop or a semicolon; "40.05" has no space after its dot.
SEGMENT_END = re.compile(r"(?<=[.;])[\"'_*~!?]*\s+|\n+")
# Clinician initials closing a note: " -JS", " - MB", " /kl", " JS/kl".
INITIALS = re.compile(r"(?:\s+(?:[-\u2013]+\s*[A-Z]{2,3}|/[a-z]{2,4}|[A-Z]{2,3}/[a-z]{2,4}))+\s*\.?\s*$")
# Keep letters, digits, spaces and the punctuation clinical notes need; drop the rest.
UNUSUAL = re.compile(r"[^\w\s.,;:/()+\-%<>=&'\u2265\u2264\u00b1]|_")
REPEATED = re.compile(r"([.,;:/\-])(?:\s*\1)+")
SPACE_BEFORE = re.compile(r"\s+([.,;:])")


def separate_plan(text: str) -> tuple[str, str, str]:
    """Split a diagnosis text into (diagnosis, plan, how); how is 'keyword', 'pattern' or 'none'.

    In each segment the plan starts at the first plan keyword or plan pattern and runs to the
    segment's end; text before it stays diagnosis.
    """
    diagnosis, plan, how = [], [], "none"
    for segment in SEGMENT_END.split(text):
        keyword, pattern = PLAN_KEYWORD.search(segment), PLAN_PATTERN.search(segment)
        hits = [m for m in (keyword, pattern) if m]
        if not hits:
            diagnosis.append(segment)
            continue
        start = min(m.start() for m in hits)
        if how != "keyword":
            how = "keyword" if keyword else "pattern"
        diagnosis.append(segment[:start])
        plan.append(segment[start:])
    return _join(diagnosis), _join(plan), how


def _join(parts: list[str]) -> str:
    parts = [p.strip().rstrip(",;:-").strip() for p in parts]
    parts = [p.rstrip(".") for p in parts if p]
    return ". ".join(parts)


def clean_text(text: str) -> str:
    """Remove unusual punctuation and trailing clinician initials; normalise spacing."""
    text = INITIALS.sub("", text)
    text = UNUSUAL.sub(" ", text)
    text = REPEATED.sub(r"\1", text)
    text = re.sub(r"\s+", " ", text)
    text = SPACE_BEFORE.sub(r"\1", text)
    text = INITIALS.sub("", text.strip())
    return text.strip(" ,;:-").rstrip(" .")


def has_plan_information(text: str) -> bool:
    return bool(PLAN_KEYWORD.search(text) or PLAN_PATTERN.search(text))
