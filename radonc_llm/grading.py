"""Blinded grading of generated regimens by clinicians, and what their grades say.

Export: one sheet per grader with the same rows in a seeded order of its own; the model behind
each row is hidden in a separate key. Import: graded sheets are validated (grades 1-5, every row,
case text untouched), un-blinded, rows whose two grades differ by more than one point are flagged
for adjudication, and an adjudicated grade, once filled, overrides both. The paper's scale:
1 acceptable and interchangeable ... 5 absolutely not acceptable.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import UserError
from .tasks import FREE_TEXT
from .tables import csv_bytes, write_csv

SHEET_COLUMNS = ["row_id", "diagnosis", "physician_regimen", "generated_regimen", "grade", "comment"]
KEY_COLUMNS = ["row_id", "case_id", "model", "variant", "temperature"]
GRADES = [1, 2, 3, 4, 5]
log = logging.getLogger(__name__)


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
    log.info("%d rows per sheet for %d graders (%s)", len(key), len(graders), ", ".join(sorted(set(items["variant"]))))
    return sheets, key


def differs_from_issued(tables: dict[str, pd.DataFrame], issued: str | Path) -> list[str]:
    """The names of `tables` (file name -> table, as write_csv writes it) whose content differs from the copy
    issued earlier in `issued`; [] when nothing was issued yet or nothing changed."""
    issued = Path(issued)
    if not (issued / "key.csv").is_file():
        return []
    return [name for name, table in tables.items()
            if not (issued / name).is_file() or (issued / name).read_bytes() != csv_bytes(table)]


def issue(tables: dict[str, pd.DataFrame], issued: str | Path) -> None:
    """Sheets handed to clinicians can only be un-blinded with their own key, so a copy of the sheets and key
    (`tables`: file name -> table) is kept in `issued` and never overwritten: refused when the new ones
    differ from an issued copy; the copy is written when none was issued yet."""
    if changed := differs_from_issued(tables, issued):
        raise UserError(f"{issued}: grading sheets were issued for this run and the new ones would differ "
                        f"({', '.join(changed)}); the issued sheets and their key stay there. To grade the new "
                        f"ones, move {issued} elsewhere (keep it: it un-blinds the issued sheets) and re-run; to "
                        "keep grading the issued ones, restore the predictions they came from")
    if not (Path(issued) / "key.csv").is_file():
        for name, table in tables.items():
            write_csv(table, Path(issued) / name)


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


def read_graded_sheets(graders: list[str], sheets, graded) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The first issued sheet as exported (its text names the rows to adjudicate) and each grader's filled
    sheet (`graded`), checked against that grader's issued one (`sheets`)."""
    blanks = [pd.read_csv(p, dtype=str, keep_default_na=False) for p in sheets]
    return blanks[0], {g: read_graded(path, blank) for g, path, blank in zip(graders, graded, blanks, strict=True)}


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


def sheet_items(summary: pd.DataFrame, temperature, variants: list[str], load, pairs: pd.DataFrame) -> pd.DataFrame:
    """The rows to grade: for each graded model and variant at its grading temperature (`temperature`: 'best'
    regimen ROUGE-1 in `summary`, the selection pairs' summaries, or a number), every eval case's generated
    regimen (`load(model, variant,
    temperature)` reads the prediction file) beside its diagnosis and the physician's regimen (`pairs`)."""
    from .choice import best_temperatures
    shown = best_temperatures(summary[summary["task"].isin(FREE_TEXT)], temperature)
    pairs = pairs.set_index("case_id")
    items = []
    for r in shown[shown["variant"].isin(variants)].itertuples():
        predicted = load(r.model, r.variant, r.temperature)
        items.append(pd.DataFrame({
            "case_id": predicted["case_id"], "model": r.model, "variant": r.variant, "temperature": r.temperature,
            "diagnosis": pairs.loc[predicted["case_id"], "diagnosis"].to_numpy(),
            "physician_regimen": pairs.loc[predicted["case_id"], "answer"].to_numpy(),
            "generated_regimen": predicted["answer"].to_numpy()}))
    return pd.concat(items, ignore_index=True)


def result_tables(key: pd.DataFrame, grades: dict[str, pd.DataFrame], adjudication: str, proxy_files: dict,
                  blank: pd.DataFrame, graders: list[str]) -> dict[str, pd.DataFrame]:
    """Every table of rule grading_results, by its output name: the un-blinded grades with the proxy grade of
    each row (`proxy_files`: (model, variant, temperature) -> the regimen's per-case scores), the rows to
    adjudicate with their text (from `blank`, an issued sheet), the grade distribution, the agreement between
    the graders and between the proxy and each grader, and the proxy-against-human confusion counts. An
    adjudication sheet (`adjudication`, '' while there is none) overrides both graders' grades of its rows."""
    proxy = pd.concat([pd.read_parquet(path, columns=["case_id", "proxy_grade"]).assign(
        model=model, variant=variant, temperature=temperature)
        for (model, variant, temperature), path in proxy_files.items()])
    settled = read_adjudication(adjudication) if adjudication else {}
    table = unblind(key, grades, settled).merge(proxy, on=["case_id", "model", "variant", "temperature"], how="left",
                                                validate="one_to_one")
    text = blank.set_index("row_id")
    flagged = table[table["flagged"]]
    adjudication = pd.DataFrame({
        "row_id": flagged["row_id"],
        **{c: text.loc[flagged["row_id"], c].to_numpy() for c in ("diagnosis", "physician_regimen",
                                                                   "generated_regimen")},
        **{f"grade_{g}": flagged[g] for g in graders},
        "adjudicated_grade": flagged["adjudicated"].astype(str).replace("<NA>", "")})
    rows = []
    first, second = graders[0], graders[1]
    for (model, variant), group in [(("all", "all"), table), *table.groupby(["model", "variant"])]:
        rows.append({"model": model, "variant": variant, "compared": f"{first} vs {second} (before adjudication)",
                     **agreement(group[first], group[second])})
        gradable = group.dropna(subset=["proxy_grade"])
        for g in graders:
            rows.append({"model": model, "variant": variant, "compared": f"proxy vs {g} (final)",
                         **agreement(gradable["proxy_grade"], gradable[f"{g}_final"])})
    gradable = table.dropna(subset=["proxy_grade"])
    confusion = pd.concat([gradable.groupby(["proxy_grade", f"{g}_final"]).size().rename("n").reset_index()
                           .rename(columns={f"{g}_final": "human_grade"}).assign(grader=g) for g in graders])
    log.info("%d graded rows, %d flagged (%d adjudicated)", len(table), int(table["flagged"].sum()),
             int(table["adjudicated"].notna().sum()))
    return {"grades": table, "adjudication": adjudication, "distribution": distribution(table, graders),
            "agreement": pd.DataFrame(rows),
            "proxy_confusion": confusion[["grader", "proxy_grade", "human_grade", "n"]]}
