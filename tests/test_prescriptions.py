"""The regimen parser against a corpus of prescriptions written the way clinicians and models state them.

Each row of tests/data/prescriptions.csv was written from the regimen's published dose and fractionation
(column `regimen`), not from the parser's output; prescriptions_refused.csv holds what must be refused.
"""
import csv
import re
from pathlib import Path

import pytest

from radonc_llm.regimen import SUMMARY, parse_regimen

DATA = Path(__file__).parent / "data"


def rows(name):
    with open(DATA / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


READ, REFUSED = rows("prescriptions.csv"), rows("prescriptions_refused.csv")


def number(value):
    return float(value) if value else None


def boosts(value):
    out = []
    for part in filter(None, value.split(";")):
        dose, n, modality = part.split("/")
        out.append((float(dose), int(n) if n else None, modality or None))
    return out


def test_the_corpus_is_large_and_covers_every_site():
    assert len(READ) >= 150 and len(REFUSED) >= 20
    sites = {r["site"] for r in READ}
    assert {"breast", "prostate", "lung", "cns", "head and neck", "gi", "gyn", "skin", "lymphoma", "paediatric",
            "palliative", "sbrt", "brachy", "protons", "electrons", "tbi"} <= sites
    texts = " ".join(r["text"] for r in READ).lower()
    for notation in ("cgy", "gy(rbe)", "cge", "#", "fx", "f ", "bid", "x ", "@", "per fraction", "to a total of",
                     "boost", "simultaneous integrated boost", "seed"):
        assert notation in texts, notation


@pytest.mark.parametrize("row", READ, ids=[f"{i}:{r['text'][:40]}" for i, r in enumerate(READ)])
def test_reads_the_prescription(row):
    r = parse_regimen(row["text"])
    total, fractions, per = number(row["total_gy"]), row["fractions"], number(row["dose_per_fraction_gy"])
    assert r.total_dose == pytest.approx(total)
    assert r.fractions == (int(fractions) if fractions else None)
    assert r.implant == (not fractions)
    if per is None:
        assert r.dose_per_fraction is None
    else:
        assert r.dose_per_fraction == pytest.approx(per, abs=0.006)
    assert r.modality == (row["modality"] or None)
    assert [(round(b.total_dose, 4), b.fractions, b.modality) for b in r.boosts] == boosts(row["boosts"])
    assert r.levels == pytest.approx([float(v) for v in filter(None, row["levels_gy"].split(";"))])


def _in_cgy(text):
    if re.search(r"\d/\d", text):  # "70/63/56 Gy": a unit shared by the list
        return text
    return re.sub(r"(?<![\d,.])(\d+(?:\.\d+)?)\s*Gy\b(?!\s*[(\[]?\s*RBE)",
                  lambda m: f"{float(m.group(1)) * 100:g} cGy", text)


# the same prescription in another department's spelling reads the same
SPELLINGS = {
    "capitals": str.upper,
    "no space before a unit": lambda t: re.sub(r"(\d)\s+(Gy|cGy|fx|fractions?)\b", r"\1\2", t),
    "cGy": _in_cgy,
    "fx": lambda t: re.sub(r"\bfractions\b", "fx", t),
    "Fr.": lambda t: re.sub(r"(?<=\d )fractions\b", "Fr.", t),
    "behind Rx:": lambda t: "Rx: " + t,
    "in a model's sentence": lambda t: "The recommended regimen is " + t + ".",
    "in bold, between lines": lambda t: "Plan:\n**" + t + "**\nFollow-up in 3 months.",
    "spaces doubled": lambda t: t.replace(" ", "  "),
    "tabs": lambda t: t.replace(" ", "\t"),
    "one fraction word": lambda t: re.sub(r"\bfractions\b", "fraction", t),
}


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_reads_the_corpus_in_other_spellings(spelling):
    """Every corpus prescription (but the Aria summary, a fixed format, and physics notation, where case is
    the meaning) reads the same total and fractions when written in capitals, without spaces, in cGy, with
    fx or Fr., behind a label, inside a model's sentence or a bold plan line, with doubled spaces, tabs or the
    singular 'fraction': the reader reads quantities, not phrasings."""
    missed = []
    for row in READ:
        text = SPELLINGS[spelling](row["text"])
        if text == row["text"] or SUMMARY.search(row["text"]) or "d = " in row["text"]:
            continue
        r = parse_regimen(text)
        if r.total_dose != pytest.approx(float(row["total_gy"]), abs=0.006) or \
                r.fractions != (int(row["fractions"]) if row["fractions"] else None):
            missed.append(f"{text!r} -> {r.total_dose} Gy / {r.fractions}")
    assert not missed, missed


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_refuses_in_other_spellings(spelling):
    texts = {SPELLINGS[spelling](row["text"]) for row in REFUSED}
    read = [f"{text!r} -> {r.total_dose} Gy / {r.fractions}" for text in sorted(texts)
            if (r := parse_regimen(text)).total_dose is not None or r.fractions is not None]
    assert not read, read


@pytest.mark.parametrize("row", REFUSED, ids=[r["why"] for r in REFUSED])
def test_refuses_what_it_cannot_read(row):
    r = parse_regimen(row["text"])
    assert (r.total_dose, r.fractions, r.fractionation_class, r.eqd2()) == (None, None, None, None)


HELD_OUT = ("prescriptions_heldout.csv", "prescriptions_heldout2.csv", "prescriptions_heldout3.csv")


@pytest.mark.parametrize("name", HELD_OUT)
def test_the_held_out_sets_are_consistent_and_apart_from_the_corpus(name):
    """tests/data/prescriptions_heldout*.csv (scored by benchmarks/regimen_heldout.py, never a development
    target): at least 120 prescriptions each, none of them in the development corpus or another set, each
    row's dose per fraction its total over its fractions."""
    held_out = rows(name)
    others = [row for other in HELD_OUT if other != name for row in rows(other)]
    assert len(held_out) >= 120 and not {r["text"] for r in held_out} & {r["text"] for r in READ + REFUSED + others}
    for row in held_out:
        if row["fractions"]:
            assert float(row["dose_per_fraction_gy"]) == pytest.approx(float(row["total_gy"]) / int(row["fractions"]),
                                                                       abs=0.006), row["text"]
        assert row["modality"] in ("", "photon", "proton", "electron", "brachy"), row["text"]
