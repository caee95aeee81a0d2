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
from .workbook import TEXT_COLUMNS

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


def write_sheet(sheet: pd.DataFrame, grader: str, path: str | Path) -> None:
    """A grader's sheet as the file handed out: a workbook (.xlsx) or a CSV, by `path`'s suffix."""
    from .tables import write_bytes
    from .workbook import workbook_bytes
    if Path(path).suffix == ".xlsx":
        write_bytes(workbook_bytes(sheet, grader), path)
    else:
        write_csv(sheet, path)


def read_sheet(path) -> tuple[pd.DataFrame, str, dict[str, str]]:
    """A sheet as issued or returned, by its content (a zip is a workbook, whatever its name): the table with its
    `line` numbers, the text encoding it was read in, and the Grader sheet's answers (a workbook's only)."""
    from .workbook import SheetError, read_csv_sheet, read_workbook
    try:
        if Path(path).read_bytes()[:4] == b"PK\x03\x04":
            table, grader = read_workbook(path)
            return table, "utf-8", grader
        table, encoding = read_csv_sheet(path)
        return table, encoding, {}
    except SheetError as error:
        raise GradingError(str(error)) from None


def read_graded(path, blank: pd.DataFrame) -> pd.DataFrame:
    """A grader's filled sheet, checked against the sheet as exported (`blank`): the case text must be the
    exported one (after what a spreadsheet does to text it did not edit: line ends, whitespace, an encoding)."""
    from .workbook import same_text
    sheet, encoding, _ = read_sheet(path)
    missing = [c for c in SHEET_COLUMNS if c not in sheet.columns]
    if missing:
        raise GradingError(f"{path}: missing column(s) {', '.join(missing)}")
    sheet = sheet[sheet["row_id"].str.strip() != ""]
    expected = blank.set_index("row_id")
    for row in sheet.itertuples(index=False):
        line = row.line
        if row.row_id not in expected.index:
            raise GradingError(f"{path}: line {line}: row_id {row.row_id!r} is not on the exported sheet")
        for column in TEXT_COLUMNS:
            if not same_text(getattr(row, column), expected.at[row.row_id, column], encoding):
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
    blanks = [read_sheet(p)[0][SHEET_COLUMNS] for p in sheets]
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


def distribution(table: pd.DataFrame, graders: list[str], confidence: float = 0.95) -> pd.DataFrame:
    """Per model/variant and grader (and their average): cases and share at each grade, Grade 1, acceptable
    (Grade 1+2) and unsafe (Grade 4+5), the last two with exact (Clopper-Pearson) intervals; the average's
    interval is that of the graders' mean count."""
    from .stats import clopper_pearson
    rows = []
    for (model, variant), group in table.groupby(["model", "variant"]):
        per_grader = {g: group[f"{g}_final"] for g in graders}
        for name, grades in [*per_grader.items(), ("average", None)]:
            counts = ({g: float(np.mean([(per_grader[r] == g).sum() for r in graders])) for g in GRADES}
                      if grades is None else {g: float((grades == g).sum()) for g in GRADES})
            n, acceptable, unsafe = len(group), counts[1] + counts[2], counts[4] + counts[5]
            rows.append({"model": model, "variant": variant, "grader": name, "n": n,
                         **{f"grade_{g}": counts[g] for g in GRADES},
                         "grade_1_share": counts[1] / n, "grade_1_2_share": acceptable / n,
                         **dict(zip(("grade_1_2_ci_low", "grade_1_2_ci_high"),
                                    clopper_pearson(acceptable, n, confidence))),
                         "unsafe_share": unsafe / n,
                         **dict(zip(("unsafe_ci_low", "unsafe_ci_high"), clopper_pearson(unsafe, n, confidence)))})
    return pd.DataFrame(rows)


def agreement(a, b, resamples: int = 2000, seed: int = 0, confidence: float = 0.95) -> dict:
    """Exact and within-one agreement of two gradings, quadratically weighted Cohen's kappa and Gwet's AC2 (which
    stays meaningful when nearly every grade is the same), each with a bootstrap interval over cases."""
    from .stats import agreement_with_ci
    a, b = np.asarray(a, dtype=int), np.asarray(b, dtype=int)
    return {"n": len(a), "exact": float((a == b).mean()), "within_one": float((abs(a - b) <= 1).mean()),
            **agreement_with_ci(a, b, GRADES, resamples, seed, confidence)}


def arm_comparisons(table: pd.DataFrame, graders: list[str]) -> pd.DataFrame:
    """Every two graded arms (model and variant) on the same cases: the share of cases acceptable (the graders'
    mean final grade at most 2) and unsafe (at least 4) in each, compared by McNemar's exact test."""
    from itertools import combinations

    from .stats import mcnemar_exact
    mean = table[[f"{g}_final" for g in graders]].mean(axis=1)
    cases = table.assign(acceptable=mean <= 2, unsafe=mean >= 4)
    arms = {arm: part.set_index("case_id") for arm, part in cases.groupby(["model", "variant"], sort=True)}
    rows = []
    for (a, part_a), (b, part_b) in combinations(arms.items(), 2):
        shared = part_a.index.intersection(part_b.index)
        for outcome in ("acceptable", "unsafe"):
            x, y = part_a.loc[shared, outcome].to_numpy(), part_b.loc[shared, outcome].to_numpy()
            rows.append({"a": " ".join(a), "b": " ".join(b), "outcome": outcome, "n": len(shared),
                         "share_a": float(x.mean()), "share_b": float(y.mean()), **mcnemar_exact(x, y)})
    return pd.DataFrame(rows, columns=["a", "b", "outcome", "n", "share_a", "share_b", "a_only", "b_only",
                                       "p_value"])


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
                  blank: pd.DataFrame, graders: list[str], bootstrap: dict | None = None) -> dict[str, pd.DataFrame]:
    """Every table of rule grading_results, by its output name: the un-blinded grades with the proxy grade of
    each row (`proxy_files`: (model, variant, temperature) -> the regimen's per-case scores), the rows to
    adjudicate with their text (from `blank`, an issued sheet), the grade distribution, the agreement between
    the graders and between the proxy and each grader (`bootstrap`: resamples, seed, confidence of their
    intervals), the arms compared, and the proxy-against-human confusion counts. An adjudication sheet
    (`adjudication`, '' while there is none) overrides both graders' grades of its rows."""
    bootstrap = bootstrap or {"resamples": 2000, "seed": 0, "confidence": 0.95}
    resampling = {k: bootstrap[k] for k in ("resamples", "seed", "confidence")}
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
                     **agreement(group[first], group[second], **resampling)})
        gradable = group.dropna(subset=["proxy_grade"])
        for g in graders:
            rows.append({"model": model, "variant": variant, "compared": f"proxy vs {g} (final)",
                         **agreement(gradable["proxy_grade"], gradable[f"{g}_final"], **resampling)})
    gradable = table.dropna(subset=["proxy_grade"])
    confusion = pd.concat([gradable.groupby(["proxy_grade", f"{g}_final"]).size().rename("n").reset_index()
                           .rename(columns={f"{g}_final": "human_grade"}).assign(grader=g) for g in graders])
    log.info("%d graded rows, %d flagged (%d adjudicated)", len(table), int(table["flagged"].sum()),
             int(table["adjudicated"].notna().sum()))
    return {"grades": table, "adjudication": adjudication,
            "distribution": distribution(table, graders, bootstrap["confidence"]),
            "arms": arm_comparisons(table, graders),
            "agreement": pd.DataFrame(rows),
            "proxy_confusion": confusion[["grader", "proxy_grade", "human_grade", "n"]]}
