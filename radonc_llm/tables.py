"""Reading the raw exports strictly, and writing tables so that nothing is ever half-written."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

DIAGNOSIS_COLUMNS = ("patient_id", "diagnosis_id", "icd_code", "icd_scheme", "stage", "diagnosis_details", "age", "sex")
PLAN_COLUMNS = ("patient_id", "course_id", "plan_id", "plan_type", "modality", "intent", "status", "n_fields",
                "n_fractions", "dose_per_fraction_gy", "total_dose_gy")
NUMERIC_COLUMNS = {"diagnoses": ("age",), "plans": ("n_fields", "n_fractions", "dose_per_fraction_gy", "total_dose_gy")}
REQUIRED_COLUMNS = {"diagnoses": DIAGNOSIS_COLUMNS, "plans": PLAN_COLUMNS}


class ExportError(ValueError):
    """Bad input: the message names the file, the column and the line, never a cell's content."""


def read_export(path: str | Path, kind: str, column_map: dict | None = None) -> pd.DataFrame:
    """Read the `kind` ('diagnoses' or 'plans') export at `path` with the canonical column names.

    `column_map` maps a canonical name to the site's own column name. Blank numeric cells
    become NaN; text that is not a number is an error. Extra columns are dropped.
    """
    path = Path(path)
    if not path.is_file():
        raise ExportError(f"{path}: {kind} export not found (set raw.{kind} in the config)")
    if path.stat().st_size == 0:
        raise ExportError(f"{path}: {kind} export is empty")
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    column_map = column_map or {}
    site_names = {column_map.get(c, c): c for c in REQUIRED_COLUMNS[kind]}
    missing = [name for name in site_names if name not in table.columns]
    if missing:
        hint = f" (map your export's names in raw.columns.{kind})"
        raise ExportError(f"{path}: missing required column(s) {', '.join(repr(m) for m in missing)}{hint}")
    if table.empty:
        raise ExportError(f"{path}: {kind} export has a header but no rows")
    table = table[list(site_names)].rename(columns=site_names)
    table = table.apply(lambda col: col.str.strip())
    blank_ids = table.index[table["patient_id"] == ""]
    if len(blank_ids):
        raise ExportError(f"{path}: column 'patient_id' is blank at line {blank_ids[0] + 2}"
                          f" ({len(blank_ids)} row(s) in all)")
    for column in NUMERIC_COLUMNS[kind]:
        values = pd.to_numeric(table[column], errors="coerce")
        bad = table.index[values.isna() & (table[column] != "")]
        if len(bad):
            raise ExportError(f"{path}: column '{column}' is not a number at line {bad[0] + 2}"
                              f" ({len(bad)} row(s) in all)")
        table[column] = values
    return table


def _atomic(path: str | Path, write) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the permissions of any other
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_csv(table: pd.DataFrame, path: str | Path) -> None:
    _atomic(path, lambda tmp: table.to_csv(tmp, index=False))


def write_parquet(table: pd.DataFrame, path: str | Path) -> None:
    _atomic(path, lambda tmp: table.to_parquet(tmp, index=False))


def read_annotation(path: str | Path, columns: tuple[str, ...], allowed: dict | None = None) -> pd.DataFrame:
    """Read a manual annotation table; a missing file means no annotations yet."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        return pd.DataFrame({c: pd.Series(dtype=str) for c in columns})
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ExportError(f"{path}: missing required column(s) {', '.join(repr(m) for m in missing)}")
    table = table[list(columns)].apply(lambda col: col.str.strip())
    for column, values in (allowed or {}).items():
        bad = table.index[~table[column].isin(values)]
        if len(bad):
            raise ExportError(f"{path}: column '{column}' at line {bad[0] + 2} must be one of {', '.join(values)}")
    dup = table.index[table["case_id"].duplicated()]
    if len(dup):
        raise ExportError(f"{path}: case_id at line {dup[0] + 2} appears more than once")
    return table
