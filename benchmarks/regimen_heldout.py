"""How well the regimen reader reads prescriptions it was not developed against: the held-out set.

    .venv/bin/python benchmarks/regimen_heldout.py [SET.csv] [-v]

tests/data/prescriptions_heldout.csv (the default) holds 136 prescriptions written, before any change to the reader,
in the styles of several departments (Rx lines, labelled fields in capitals and in any order, decimal commas, `fr`,
`F`, `#`, cGy, twice-daily schedules, dose per fraction with and without a count, single fractions without the word)
and of model answers, each with its published dose and fractionation, in the columns of the development corpus
(tests/data/prescriptions.csv). The reader is developed against that corpus and the refusal set only; this set is
read once at the end of a change, for its score. tests/data/prescriptions_heldout2.csv is a second, fresh set of 140
(Aria plan and course lines, European notations, dictation, templates with the unit in the label, model answers,
boosts, dose levels, number words), written after the first had been looked at;
tests/data/prescriptions_heldout3.csv a third of 126 (end-of-treatment summaries, consultation plans, Aria
prescription exports, trial arms, letters, tumour board notes, non-native English, model answers), written after the
second had been scored once. Prints the share read exactly (total, fractions, dose per fraction, modality where
stated, boosts and dose levels), then each part alone; -v lists the misses.
"""
import csv
import sys
import time
from pathlib import Path

from radonc_llm.regimen import parse_regimen

SET = next((a for a in sys.argv[1:] if a.endswith(".csv")),
           Path(__file__).parents[1] / "tests/data/prescriptions_heldout.csv")
ROWS = list(csv.DictReader(open(SET, newline="", encoding="utf-8")))


def close(a, b, tolerance=0.006):
    return (a is None) == (b is None) and (a is None or abs(a - b) <= tolerance)


def checks(row) -> dict[str, bool]:
    r = parse_regimen(row["text"])
    fractions = int(row["fractions"]) if row["fractions"] else None
    per = float(row["dose_per_fraction_gy"]) if row["dose_per_fraction_gy"] else None
    boosts = [tuple(part.split("/")) for part in filter(None, row["boosts"].split(";"))]
    return {"dose": close(r.total_dose, float(row["total_gy"])),
            "fractions": r.fractions == fractions and close(r.dose_per_fraction, per),
            "modality": not row["modality"] or r.modality == row["modality"],
            "boosts": [(f"{b.total_dose:g}", str(b.fractions or ""), b.modality or "") for b in r.boosts] == boosts,
            "levels": [f"{v:g}" for v in r.levels] == list(filter(None, row["levels_gy"].split(";")))}


start = time.perf_counter()
found = [checks(row) for row in ROWS]
seconds = time.perf_counter() - start
exact = sum(all(c.values()) for c in found)
print(f"{Path(SET).name}: held-out prescriptions read exactly: {exact}/{len(ROWS)} ({exact / len(ROWS):.1%}) "
      f"in {seconds:.2f} s")
for part in ("dose", "fractions", "modality", "boosts", "levels"):
    print(f"  {part}: {sum(c[part] for c in found)}/{len(ROWS)}")
if "-v" in sys.argv:
    for row, c in zip(ROWS, found):
        if not all(c.values()):
            r = parse_regimen(row["text"])
            print(f"MISS {[k for k, v in c.items() if not v]}: {row['text']!r} -> {r.total_dose} Gy / "
                  f"{r.fractions} fx, {r.modality}, boosts {r.boosts}, levels {r.levels}")
