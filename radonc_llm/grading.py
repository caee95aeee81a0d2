"""Blinded grading of generated regimens by clinicians, and what their grades say.

Export: one sheet per grader with the same rows in a seeded order of its own; the model behind
each row is hidden in a separate key. Import: graded sheets are validated (grades 1-5, every row,
case text untouched), un-blinded, rows whose two grades differ by more than one point are flagged
for adjudication, and an adjudicated grade, once filled, overrides both. The paper's scale:
1 acceptable and interchangeable ... 5 absolutely not acceptable.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .errors import UserError
from .tables import csv_bytes

SHEET_COLUMNS = ["row_id", "diagnosis", "physician_regimen", "generated_regimen", "grade", "comment"]
KEY_COLUMNS = ["row_id", "case_id", "model", "variant", "temperature"]
GRADES = [1, 2, 3, 4, 5]


class GradingError(UserError):
    """A graded sheet that cannot be used: names the file, the row and what is wrong."""


def make_sheets(items: pd.DataFrame, graders: list[str], seed: int) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """`items`: case_id, model, variant, temperature, diagnosis, physician_regimen, generated_regimen.
    Returns one blinded sheet per grader (rows in a seeded order of its own) and the key."""
    rng = np.random.default_rng(seed)
    items = items.iloc[rng.permutation(len(items))].reset_index(drop=True)
    items.insert(0, "row_id", [f"R{i + 1:04d}" for i in range(len(items))])  # ids carry no model order
    key = items[KEY_COLUMNS]
    sheets = {}
    for k, grader in enumerate(graders):
        order = np.random.default_rng([seed, k]).permutation(len(items))
        sheet = items.iloc[order][["row_id", "diagnosis", "physician_regimen", "generated_regimen"]]
        sheets[grader] = sheet.assign(grade="", comment="").reset_index(drop=True)
    return sheets, key


def differs_from_issued(tables: dict[str, pd.DataFrame], issued: str | Path) -> list[str]:
    """The names of `tables` (file name -> table, as write_csv writes it) whose content differs from the copy
    issued earlier in `issued`; [] when nothing was issued yet or nothing changed."""
    issued = Path(issued)
    if not (issued / "key.csv").is_file():
        return []
    return [name for name, table in tables.items()
            if not (issued / name).is_file() or (issued / name).read_bytes() != csv_bytes(table)]


def read_graded(path, blank: pd.DataFrame) -> pd.DataFrame:
    """A grader's filled sheet, checked against the sheet as exported (`blank`)."""
    sheet = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in SHEET_COLUMNS if c not in sheet.columns]
    if missing:
        raise GradingError(f"{path}: missing column(s) {', '.join(missing)}")
    sheet = sheet[sheet["row_id"].str.strip() != ""]
    expected = blank.set_index("row_id")
    for line, row in zip(range(2, len(sheet) + 2), sheet.itertuples(index=False)):
        if row.row_id not in expected.index:
            raise GradingError(f"{path}: line {line}: row_id {row.row_id!r} is not on the exported sheet")
        for column in ("diagnosis", "physician_regimen", "generated_regimen"):
            if getattr(row, column) != expected.at[row.row_id, column]:
                raise GradingError(f"{path}: line {line} (row {row.row_id}): column {column!r} was edited; "
                                   "grade on the exported text")
        if row.grade.strip() not in {str(g) for g in GRADES}:
            raise GradingError(f"{path}: line {line} (row {row.row_id}): column 'grade' must be 1-5, "
                               f"found {row.grade.strip() or 'nothing'}")
    duplicated = sheet["row_id"][sheet["row_id"].duplicated()]
    if len(duplicated):
        raise GradingError(f"{path}: row {duplicated.iloc[0]} appears more than once")
    absent = sorted(set(expected.index) - set(sheet["row_id"]))
    if absent:
        raise GradingError(f"{path}: {len(absent)} exported row(s) missing, first {absent[0]}")
    return sheet.assign(grade=sheet["grade"].str.strip().astype(int))[["row_id", "grade", "comment"]]


def read_adjudication(path) -> dict[str, int]:
    """row_id -> adjudicated grade, for the rows where one was filled in."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    settled = {}
    for line, row in zip(range(2, len(table) + 2), table.itertuples(index=False)):
        value = str(getattr(row, "adjudicated_grade", "")).strip()
        if not value:
            continue
        if value not in {str(g) for g in GRADES}:
            raise GradingError(f"{path}: line {line} (row {row.row_id}): 'adjudicated_grade' must be 1-5, "
                               f"found {value}")
        settled[row.row_id] = int(value)
    return settled


def unblind(key: pd.DataFrame, grades: dict[str, pd.DataFrame], adjudicated: dict[str, int]) -> pd.DataFrame:
    """One row per graded item: each grader's grade, the flag (> 1 point apart), the adjudicated grade
    and each grader's final grade (the adjudicated one where filled)."""
    table = key.copy()
    graders = list(grades)
    for grader, sheet in grades.items():
        table = table.merge(sheet[["row_id", "grade"]].rename(columns={"grade": grader}), on="row_id")
    table["flagged"] = (table[graders].max(axis=1) - table[graders].min(axis=1)) > 1
    table["adjudicated"] = table["row_id"].map(adjudicated).astype("Int64")
    for grader in graders:
        table[f"{grader}_final"] = table["adjudicated"].fillna(table[grader]).astype(int)
    return table


def distribution(table: pd.DataFrame, graders: list[str]) -> pd.DataFrame:
    """Per model/variant and grader (and their average): cases and share at each grade, Grade 1 and 1+2."""
    rows = []
    for (model, variant), group in table.groupby(["model", "variant"]):
        per_grader = {g: group[f"{g}_final"] for g in graders}
        for name, grades in [*per_grader.items(), ("average", None)]:
            counts = ({g: float(np.mean([(per_grader[r] == g).sum() for r in graders])) for g in GRADES}
                      if grades is None else {g: float((grades == g).sum()) for g in GRADES})
            n = len(group)
            rows.append({"model": model, "variant": variant, "grader": name, "n": n,
                         **{f"grade_{g}": counts[g] for g in GRADES},
                         "grade_1_share": counts[1] / n, "grade_1_2_share": (counts[1] + counts[2]) / n})
    return pd.DataFrame(rows)


def agreement(a, b) -> dict:
    """Exact and within-one agreement and linearly weighted Cohen's kappa (scikit-learn) of two gradings."""
    from sklearn.metrics import cohen_kappa_score
    a, b = np.asarray(a, dtype=int), np.asarray(b, dtype=int)
    kappa = cohen_kappa_score(a, b, labels=GRADES, weights="linear") if len(set(a) | set(b)) > 1 else 1.0
    return {"n": len(a), "exact": float((a == b).mean()), "within_one": float((abs(a - b) <= 1).mean()),
            "weighted_kappa": float(kappa)}
