"""Reading the raw exports strictly, and writing tables so that nothing is ever half-written."""
from __future__ import annotations

import bz2
import csv
import gzip
import io
import os
import re
import tempfile
import zipfile
from pathlib import Path

import pandas as pd

from .errors import UserError

DIAGNOSIS_COLUMNS = ("patient_id", "diagnosis_id", "icd_code", "icd_scheme", "stage", "diagnosis_details", "age", "sex")
PLAN_COLUMNS = ("patient_id", "course_id", "plan_id", "plan_type", "modality", "intent", "status", "n_fields",
                "n_fractions", "dose_per_fraction_gy", "total_dose_gy")
NUMERIC_COLUMNS = {"diagnoses": ("age",), "plans": ("n_fields", "n_fractions", "dose_per_fraction_gy", "total_dose_gy")}
REQUIRED_COLUMNS = {"diagnoses": DIAGNOSIS_COLUMNS, "plans": PLAN_COLUMNS}


class ExportError(UserError):
    """Bad input: the message names the file, the column and the line, never a cell's content."""


DELIMITERS = (",", ";", "\t", "|")
ID_COLUMNS = {"diagnoses": ("patient_id", "diagnosis_id"), "plans": ("patient_id", "course_id", "plan_id")}


COMPRESSIONS = {".gz": (b"\x1f\x8b", "gzip"), ".bz2": (b"BZh", "bzip2"), ".zip": (b"PK\x03\x04", "zip")}
SPREADSHEETS = (".xlsx", ".xlsm")


def table_format(path: Path) -> str:
    """The suffix that says how to read the table inside a (possibly compressed) export: .csv for plans.csv.gz."""
    suffixes = [s.lower() for s in path.suffixes]
    while suffixes and suffixes[-1] in COMPRESSIONS:
        suffixes.pop()
    return suffixes[-1] if suffixes else ""


def _decompress(path: Path, raw: bytes) -> tuple[bytes, str]:
    """The export's bytes and format, unpacked when it is gzip, bzip2 or a zip of one file (as pandas reads
    them; recognised by their first bytes, whatever the file is called)."""
    fmt = table_format(path)
    if fmt in SPREADSHEETS:  # an .xlsx is itself a zip
        return raw, fmt
    for magic, name in COMPRESSIONS.values():
        if not raw.startswith(magic):
            continue
        members = []
        try:
            if name == "gzip":
                return gzip.decompress(raw), fmt
            if name == "bzip2":
                return bz2.decompress(raw), fmt
            with zipfile.ZipFile(io.BytesIO(raw)) as archive:
                members = [m for m in archive.namelist() if not m.endswith("/")]
                if len(members) == 1:
                    return archive.read(members[0]), table_format(Path(members[0]))
        except (OSError, EOFError, ValueError, zipfile.BadZipFile) as err:
            raise ExportError(f"{path}: not a readable {name} file ({type(err).__name__}); "
                              "re-export or re-compress it") from None
        raise ExportError(f"{path}: a zip export must hold exactly one file, this one holds {len(members)}; "
                          "point raw.* at the file itself")
    return raw, fmt


def where(path: Path, index: int) -> str:
    """A table row as the user finds it: the line of a text export (the header is line 1), the row of a
    spreadsheet (the header is row 1), the row of a parquet file (the first record is row 1)."""
    suffix = table_format(path)
    if suffix == ".parquet":
        return f"row {index + 1}"
    return f"row {index + 2}" if suffix in SPREADSHEETS else f"line {index + 2}"


def _decode(path: Path, raw: bytes, encoding: str | None) -> str:
    """The export's text: the configured encoding, else UTF-8 (with or without BOM; UTF-16 with a BOM)."""
    if encoding is None and raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encoding = "utf-16"
    try:
        return raw.decode(encoding or "utf-8-sig")
    except (UnicodeDecodeError, LookupError) as err:
        if isinstance(err, LookupError):
            raise ExportError(f"{path}: raw.encoding {encoding!r} is not an encoding Python knows "
                              "(e.g. utf-8, cp1252, latin-1)") from None
        line = raw[:err.start].count(b"\n") + 1
        hint = ("set raw.encoding to the export's encoding" if encoding else
                "the export is not UTF-8, probably Windows-1252 or Latin-1: set raw.encoding: cp1252 "
                "(or latin-1) in the config")
        raise ExportError(f"{path}: line {line} cannot be read as {encoding or 'UTF-8'} (byte {err.start + 1}); "
                          f"{hint}") from None


def _delimiter(path: Path, text: str, expected: list[str], configured: str | None) -> str:
    """The configured delimiter, else the one of , ; tab | that splits the header into the expected
    column names (most found wins; then most fields)."""
    if configured:
        return "\t" if configured in ("tab", "\\t") else configured
    header = text.split("\n", 1)[0]
    scores = []
    for d in DELIMITERS:
        fields = [f.strip().strip('"') for f in next(csv.reader([header], delimiter=d), [])]
        scores.append((sum(name in fields for name in expected), len(fields), -DELIMITERS.index(d), d))
    return max(scores)[3]


def _read_table(path: Path, kind: str, expected: list[str], encoding, delimiter, sheet):
    """(table of strings, the delimiter of a text export or None). Every cell is the text the export holds: an
    ID a spreadsheet stored as a number is its digits ("1001", never "1001.0")."""
    raw, fmt = _decompress(path, path.read_bytes())
    if fmt in SPREADSHEETS:
        sheet_name = sheet.get(kind) if isinstance(sheet, dict) else sheet
        try:
            book = pd.read_excel(io.BytesIO(raw), sheet_name=0 if sheet_name in (None, "") else sheet_name,
                                 dtype=object, na_filter=False, engine="openpyxl")
        except ValueError as err:
            if "not found" in str(err) or "Worksheet" in str(err):
                raise ExportError(f"{path}: no sheet named {sheet_name!r} (raw.sheet)") from None
            raise ExportError(f"{path}: not a readable Excel workbook ({type(err).__name__})") from None
        except (zipfile.BadZipFile, KeyError, OSError) as err:
            raise ExportError(f"{path}: not a readable Excel workbook ({type(err).__name__})") from None
        return book.rename(columns=str).apply(lambda col: col.map(_cell_text)), None
    if fmt == ".parquet":
        try:
            table = pd.read_parquet(io.BytesIO(raw))
        except Exception as err:  # pyarrow's many error types; the message may quote data
            raise ExportError(f"{path}: not a readable parquet file ({type(err).__name__})") from None
        return table.rename(columns=str).apply(lambda col: col.map(_cell_text)), None
    text = _decode(path, raw, encoding)
    sep = _delimiter(path, text, expected, delimiter)
    try:  # blank lines are kept as rows, so that a row's index is its line (blank rows are dropped later)
        table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=sep, skip_blank_lines=False)
    except pd.errors.ParserError as err:
        line = re.search(r"line (\d+)", str(err))
        raise ExportError(f"{path}: line {line.group(1) if line else '?'} has more fields than the header "
                          f"(delimiter {sep!r}; set raw.delimiter if that is wrong)") from None
    return table.fillna(""), sep


def _cell_text(value) -> str:
    """A spreadsheet's or parquet file's cell as text: whole numbers without '.0', blanks as ''."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):  # a date cell
        return value.isoformat()
    return str(value)


def read_export(path: str | Path, kind: str, column_map: dict | None = None, encoding: str | None = None,
                delimiter: str | None = None, sheet: str | int | dict | None = None) -> pd.DataFrame:
    """Read the `kind` ('diagnoses' or 'plans') export at `path` with the canonical column names.

    CSV or other delimited text (`raw.encoding`, `raw.delimiter`: detected when not set), Excel .xlsx
    (`raw.sheet`: the first sheet when not set) or parquet, under one column contract. `column_map` maps a
    canonical name to the site's own column name. Blank numeric cells become NaN; text that is not a
    number is an error. Extra columns are dropped.
    """
    path = Path(path)
    if not path.is_file():
        raise ExportError(f"{path}: {kind} export not found (set raw.{kind} in the config)")
    if path.stat().st_size == 0:
        raise ExportError(f"{path}: {kind} export is empty")
    column_map = column_map or {}
    site_names = {column_map.get(c, c): c for c in REQUIRED_COLUMNS[kind]}
    table, sep = _read_table(path, kind, list(site_names), encoding, delimiter, sheet)
    table.columns = [str(c).strip() for c in table.columns]
    missing = [name for name in site_names if name not in table.columns]
    if missing:
        hint = f" (map your export's names in raw.columns.{kind})"
        raise ExportError(f"{path}: missing required column(s) {', '.join(repr(m) for m in missing)}{hint}")
    table = table[list(site_names)].rename(columns=site_names)
    table = table.apply(lambda col: col.astype(str).str.strip())
    blank = (table == "").all(axis=1)  # a spreadsheet's empty rows (often at the end): skipped, counted
    table = table[~blank]
    if table.empty:
        raise ExportError(f"{path}: {kind} export has a header but no rows")
    table.attrs["blank_rows"] = int(blank.sum())
    blank_ids = table.index[table["patient_id"] == ""]
    if len(blank_ids):
        raise ExportError(f"{path}: column 'patient_id' is blank at {where(path, blank_ids[0])}"
                          f" ({len(blank_ids)} row(s) in all)")
    for column in NUMERIC_COLUMNS[kind]:
        text = table[column]
        if sep not in (None, ","):  # a semicolon export from a European locale writes 50,4
            text = text.str.replace(r"^(-?\d+),(\d+)$", r"\1.\2", regex=True)
        values = pd.to_numeric(text, errors="coerce")
        bad = table.index[values.isna() & (table[column] != "")]
        if len(bad):
            raise ExportError(f"{path}: column '{column}' is not a number at {where(path, bad[0])}"
                              f" ({len(bad)} row(s) in all)")
        table[column] = values
    return table


def read_exports(paths: dict, raw: dict) -> tuple[dict, dict, dict]:
    """Both raw exports (`paths`: diagnoses, plans) read by the column contract and the config's `raw`
    reading settings, identical rows collapsed, checked to share patients. By kind: the tables, the
    collapsed duplicates, the blank rows skipped."""
    tables, duplicates, blank = {}, {}, {}
    for kind, path in paths.items():
        table = read_export(path, kind, raw.get("columns", {}).get(kind), raw.get("encoding"), raw.get("delimiter"),
                            raw.get("sheet"))
        blank[kind] = table.attrs["blank_rows"]
        tables[kind], duplicates[kind] = collapse_duplicates(table, kind, path)
    check_shared_patients(tables["diagnoses"], tables["plans"], paths)
    return tables, duplicates, blank


def check_shared_patients(diagnoses: pd.DataFrame, plans: pd.DataFrame, paths: dict) -> None:
    """Two exports that share no patient at all were read with different IDs: say so, with a hint."""
    d_ids, p_ids = set(diagnoses["patient_id"]), set(plans["patient_id"])
    if d_ids & p_ids:
        return

    def loose(ids):  # what a spreadsheet does to an ID: leading zeros dropped, '.0' added
        return {re.sub(r"\.0+$", "", i).lstrip("0") for i in ids}
    hint = ("they match once leading zeros and '.0' are ignored: a spreadsheet turned the IDs into numbers; "
            "export the ID column as text" if loose(d_ids) & loose(p_ids) else
            "check that both exports use the same patient ID column (raw.columns maps your column names) and "
            "that a spreadsheet kept the IDs' leading zeros")
    raise ExportError(f"{paths['diagnoses']} ({len(d_ids)} patients) and {paths['plans']} ({len(p_ids)} patients) "
                      f"share no patient ID: {hint}")


def collapse_duplicates(table: pd.DataFrame, kind: str, path: str | Path) -> tuple[pd.DataFrame, int]:
    """Drop rows identical in every contract column (a join artefact), returning how many; two different
    records under one ID are an error naming the ID column and both lines."""
    path = Path(path)
    identical = table.duplicated(keep="first")
    table = table[~identical]
    ids = list(ID_COLUMNS[kind])
    named = table[table[ids[-1]] != ""]
    conflicting = named[named.duplicated(subset=ids, keep=False)]
    if len(conflicting):
        first = conflicting.groupby(ids, sort=False).head(2).index[:2]
        raise ExportError(f"{path}: {where(path, first[0])} and {where(path, first[1])} have the same "
                          f"{' + '.join(ids)} but different content ({len(conflicting)} row(s) in all); "
                          f"fix the export or give each record its own {ids[-1]}")
    return table, int(identical.sum())


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


def csv_bytes(table: pd.DataFrame) -> bytes:
    """The bytes write_csv writes for `table`."""
    return table.to_csv(index=False).encode()


def write_csv(table: pd.DataFrame, path: str | Path) -> None:
    _atomic(path, lambda tmp: Path(tmp).write_bytes(csv_bytes(table)))


def write_bytes(data: bytes, path: str | Path) -> None:
    """`data` to `path`, whole or not at all."""
    _atomic(path, lambda tmp: Path(tmp).write_bytes(data))


def write_text(text: str, path: str | Path) -> None:
    """`text` to `path`, whole or not at all (a temporary file renamed into place)."""
    _atomic(path, lambda tmp: Path(tmp).write_text(text))


def write_tables(tables: dict[str, pd.DataFrame], output) -> None:
    """Each table to the file of the same name in `output` (a rule's named outputs)."""
    for name, table in tables.items():
        write_csv(table, output[name])


def keyed(files, keys) -> dict:
    """A rule's list of files by the keys its params give for them in the same order (rules/common.smk keys_of)."""
    return {tuple(key): file for key, file in zip(keys, files, strict=True)}


def concat_csv(files) -> pd.DataFrame:
    """The CSV files one below the other."""
    return pd.concat([pd.read_csv(f) for f in files], ignore_index=True)


def write_parquet(table: pd.DataFrame, path: str | Path) -> None:
    _atomic(path, lambda tmp: table.to_parquet(tmp, index=False))


MODALITY_OVERRIDE_COLUMNS = ("case_id", "modality")
TEXT_SEPARATION_COLUMNS = ("case_id", "diagnosis", "plan_summary")


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
