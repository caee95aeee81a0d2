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
from .workbook import TEXT_COLUMNS, UNPRINTABLE

SHEET_COLUMNS = ["row_id", "diagnosis", "physician_regimen", "generated_regimen", "grade", "comment"]
KEY_COLUMNS = ["row_id", "case_id", "arm", "model", "variant", "temperature", "proxy_grade"]
GRADES = [1, 2, 3, 4, 5]
log = logging.getLogger(__name__)


class GradingError(UserError):
    """A graded sheet that cannot be used: names the file, the row and what is wrong."""


def make_sheets(items: pd.DataFrame, graders: list[str], seed: int) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """`items`: case_id, arm, model, variant, temperature, proxy_grade, diagnosis, physician_regimen,
    generated_regimen. Returns one blinded sheet per grader (rows in a seeded order of its own) and the key.
    With the physician's own regimen among the arms, the sheets leave out the physician's regimen beside each
    row (it would give the control away): each regimen is graded against the diagnosis alone."""
    rng = np.random.default_rng(seed)
    items = items.iloc[rng.permutation(len(items))].reset_index(drop=True)
    items.insert(0, "row_id", [f"R{i + 1:04d}" for i in range(len(items))])  # ids carry no model order
    key = items[KEY_COLUMNS]
    columns = [c for c in SHEET_COLUMNS if c != "physician_regimen" or "physician" not in set(items["arm"])]
    sheets = {}
    for k, grader in enumerate(graders):
        order = np.random.default_rng([seed, k]).permutation(len(items))
        sheet = items.iloc[order][[c for c in columns if c in items.columns]]
        sheets[grader] = sheet.assign(grade="", comment="").reset_index(drop=True)
    log.info("%d rows per sheet for %d graders (arms: %s)", len(key), len(graders),
             ", ".join(dict.fromkeys(items["arm"])))
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


def read_sheet(path) -> tuple[pd.DataFrame, dict[str, str]]:
    """A sheet as issued or returned, by its content (a workbook whatever its name, as exports are recognised):
    the table with its `line` numbers, and the Grader sheet's answers (a workbook's only)."""
    from .tables import what_it_is
    from .workbook import SheetError, read_csv_sheet, read_workbook
    data = Path(path).read_bytes()
    try:
        return read_workbook(data, path) if what_it_is(data) in ("xlsx", "zip") else (read_csv_sheet(data, path), {})
    except SheetError as error:
        raise GradingError(str(error)) from None


def read_graded(path, blank: pd.DataFrame, sheet: pd.DataFrame | None = None) -> pd.DataFrame:
    """A grader's filled sheet (`sheet`, as read_sheet read it from `path`; read here when not given), checked
    against the sheet as exported (`blank`): the case text must be the exported one (after what a spreadsheet does
    to text it did not edit: line ends, whitespace, an encoding)."""
    from .workbook import same_text
    sheet = read_sheet(path)[0] if sheet is None else sheet
    missing = [c for c in blank.columns if c not in sheet.columns]
    if missing:
        raise GradingError(f"{path}: missing column(s) {', '.join(missing)}")
    sheet = sheet[sheet["row_id"].str.strip() != ""]
    expected = blank.set_index("row_id")
    for row in sheet.itertuples(index=False):
        line = row.line
        if row.row_id not in expected.index:
            raise GradingError(f"{path}: line {line}: row_id {row.row_id!r} is not on the exported sheet")
        for column in [c for c in TEXT_COLUMNS if c in blank.columns]:
            if not same_text(getattr(row, column), expected.at[row.row_id, column]):
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


def read_graded_sheets(graders: list[str], sheets, graded) -> tuple[pd.DataFrame, dict, pd.DataFrame]:
    """The first issued sheet as exported (its text names the rows to adjudicate), each grader's filled sheet
    (`graded`) checked against that grader's issued one (`sheets`), and the raters: what each wrote on the
    Grader sheet of their workbook (ID, role, years of practice; empty for a CSV sheet)."""
    from .workbook import GRADER_FIELDS
    blanks = [read_sheet(p)[0].drop(columns="line") for p in sheets]
    grades, raters = {}, []
    for grader, path, blank in zip(graders, graded, blanks, strict=True):
        sheet, answers = read_sheet(path)
        grades[grader] = read_graded(path, blank, sheet)
        raters.append({"grader": grader, **{f.split(" (")[0]: answers.get(f, "") for f in GRADER_FIELDS}})
    return blanks[0], grades, pd.DataFrame(raters)


def read_key(path) -> pd.DataFrame:
    """The key as make_sheets wrote it: text as text ("NA" is no missing value), blank only where an arm has no
    temperature or proxy grade (the physician's control, a baseline)."""
    return pd.read_csv(path, keep_default_na=False, na_values={"temperature": [""], "proxy_grade": [""]})


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


ARMS = ("finetuned", "vanilla", "best_prompting", "best_baseline", "physician")  # grading.arms


def arm_predictors(paired: pd.DataFrame, arms: list[str]) -> list[dict]:
    """The predictors behind the graded `arms` of the regimen task, at the settings the paired tests chose on the
    selection pairs (`paired`: paired_tests.csv): per model its fine-tuned adapter (the run's own seed), its
    vanilla base and its best prompting variant; the best baseline; the physician's own regimen (the control)."""
    from .variants import VARIANTS, label_temperature, parse_predictor_label
    rows = paired[paired["task"].isin(FREE_TEXT) & ~paired["b"].str.endswith("(all train pairs)")]
    found = {}
    for a, b in zip(rows["a"], rows["b"]):
        model, name = parse_predictor_label(a)
        if name is None or not VARIANTS[name].trained:
            continue
        found.setdefault(("finetuned", model), (model, name, label_temperature(a)))
        other, kind = parse_predictor_label(b)
        if kind is None:  # a baseline, the same for every model
            found.setdefault(("best_baseline", ""), (b.removesuffix(" baseline"), "baseline", None))
        elif not VARIANTS[kind].trained:  # model vs model rows compare two fine-tuned sides
            arm = "best_prompting" if VARIANTS[kind].draw else "vanilla"
            found.setdefault((arm, model), (other, kind, label_temperature(b)))
    chosen = [{"arm": arm, "model": m, "variant": v, "temperature": t}
              for arm in arms for (name, _), (m, v, t) in found.items() if name == arm]
    if "physician" in arms:
        chosen.append({"arm": "physician", "model": "physician", "variant": "control", "temperature": None})
    return chosen


def stratified_sample(groups: pd.DataFrame, n: int | None, seed: int) -> list[str]:
    """`n` case IDs of `groups` (case_id, site) drawn without replacement, each site's share kept (the largest
    remainders round the quotas), seeded; every case when `n` is None or at least their number."""
    if n is None or n >= len(groups):
        return sorted(groups["case_id"])
    sites = groups.groupby("site", sort=True)["case_id"].apply(sorted)
    quota = sites.map(len) * n / len(groups)
    counts = np.floor(quota).astype(int)
    extra = (quota - counts).sort_values(ascending=False, kind="stable").index[:n - counts.sum()]
    counts[extra] += 1
    rng = np.random.default_rng(seed)
    return sorted(c for site, ids in sites.items() for c in rng.choice(ids, counts[site], replace=False))


def sheet_items(arms: list[dict], load_scored, pairs: pd.DataFrame, cases: list[str]) -> pd.DataFrame:
    """The rows to grade: for each arm (`arm_predictors`), its regimen on each sampled eval case (`cases`), with
    the proxy grade (`load_scored(model, variant, temperature)`: the scored eval cases of a model's variant, or of
    a baseline with variant 'baseline'); the physician's own regimen is the control arm (proxy grade 1)."""
    pairs = pairs.set_index("case_id").loc[cases]
    items = []
    for arm in arms:
        if arm["arm"] == "physician":
            text, proxy = pairs["answer"].to_numpy(), 1.0
        else:
            scored = load_scored(arm["model"], arm["variant"], arm["temperature"]).set_index("case_id").loc[cases]
            text, proxy = scored["predicted"].fillna("").to_numpy(), scored["proxy_grade"].to_numpy()
        items.append(pd.DataFrame({"case_id": cases, **arm, "proxy_grade": proxy,
                                   "diagnosis": pairs["diagnosis"].to_numpy(),
                                   "physician_regimen": pairs["answer"].to_numpy(), "generated_regimen": text}))
    items = pd.concat(items, ignore_index=True)
    # the text as a sheet can hold it, the same in the workbook, the CSV sheet and the issued copy: line ends
    # as one line feed (a lone carriage return, which a model may write, would end a CSV row), no control codes
    return items.assign(**{c: items[c].str.replace(r"\r\n?", "\n", regex=True).str.replace(UNPRINTABLE, "", regex=True)
                           for c in TEXT_COLUMNS})


def result_tables(key: pd.DataFrame, grades: dict[str, pd.DataFrame], adjudication: str, blank: pd.DataFrame,
                  graders: list[str], bootstrap: dict | None = None) -> dict[str, pd.DataFrame]:
    """Every table of rule grading_results, by its output name: the un-blinded grades with the proxy grade of
    each row (from the key), the rows to adjudicate with their text (from `blank`, an issued sheet), the grade
    distribution, the agreement between the graders and between the proxy and each grader (`bootstrap`:
    resamples, seed, confidence of their intervals), the arms compared, and the proxy-against-human confusion
    counts. An adjudication sheet (`adjudication`, '' while there is none) overrides both graders' grades of its
    rows."""
    bootstrap = bootstrap or {"resamples": 2000, "seed": 0, "confidence": 0.95}
    resampling = {k: bootstrap[k] for k in ("resamples", "seed", "confidence")}
    settled = read_adjudication(adjudication) if adjudication else {}
    table = unblind(key, grades, settled)
    text = blank.set_index("row_id")
    flagged = table[table["flagged"]]
    adjudication = pd.DataFrame({
        "row_id": flagged["row_id"],
        **{c: text.loc[flagged["row_id"], c].to_numpy() for c in TEXT_COLUMNS if c in text.columns},
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
