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


SPREADSHEETS = ("xlsx", "xls", "ods")  # rows, not lines
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an old binary Excel workbook (.xls)


def what_it_is(raw: bytes) -> str:
    """What an export's bytes are, whatever the file is called: xlsx (also .xlsm), ods, xls, parquet, pdf, html,
    gzip, bzip2, zip (another archive) or text."""
    if raw.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(raw)) as archive:
                names = set(archive.namelist())
                if "xl/workbook.xml" in names:
                    return "xlsx"
                if "mimetype" in names and b"opendocument.spreadsheet" in archive.read("mimetype"):
                    return "ods"
        except (zipfile.BadZipFile, OSError, ValueError):
            pass
        return "zip"
    for magic, name in ((OLE2, "xls"), (b"PAR1", "parquet"), (b"%PDF", "pdf"), (b"\x1f\x8b", "gzip"),
                        (b"BZh", "bzip2")):
        if raw.startswith(magic):
            return name
    head = raw[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return "html" if head.startswith((b"<!doctype html", b"<html", b"<table", b"<meta", b"<head")) else "text"


NAMES = {"xlsx": "an Excel workbook (.xlsx)", "xls": "an old Excel workbook (.xls)", "ods": "a LibreOffice / "
         "OpenDocument spreadsheet (.ods)", "parquet": "a parquet file", "pdf": "a PDF document",
         "html": "a web page (HTML)", "text": "delimited text (CSV)", "zip": "a zip archive", "gzip": "a gzip file",
         "bzip2": "a bzip2 file"}


def _decompress(path: Path, raw: bytes) -> tuple[bytes, str]:
    """The export's bytes and what they are, unpacked when they are gzip, bzip2 or a zip of one file (as pandas
    reads them), each recognised by its content, whatever the file is called."""
    fmt = what_it_is(raw)
    try:
        if fmt == "gzip":
            return _decompress(path, gzip.decompress(raw))
        if fmt == "bzip2":
            return _decompress(path, bz2.decompress(raw))
        if fmt == "zip":
            with zipfile.ZipFile(io.BytesIO(raw)) as archive:
                members = [m for m in archive.namelist() if not m.endswith("/")]
                if len(members) == 1:
                    return _decompress(path, archive.read(members[0]))
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as err:
        raise ExportError(f"{path}: not a readable {fmt} file ({type(err).__name__}); "
                          "re-export or re-compress it") from None
    if fmt == "zip":
        raise ExportError(f"{path}: a zip archive holding {len(members)} files, not an export: point raw.* at the "
                          "file itself")
    return raw, fmt


def where(path: Path, index: int, fmt: str = "text", header_line: int = 1) -> str:
    """A table row as the user finds it: the line of a text export, the row of a spreadsheet (the header is on
    `header_line`, 1 unless lines come before it), the row of a parquet file (the first record is row 1)."""
    if fmt == "parquet":
        return f"row {index + 1}"
    return f"{'row' if fmt in SPREADSHEETS + ('html',) else 'line'} {index + header_line + 1}"


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


def detect_delimiter(path: Path, text: str, expected: list[str], configured: str | None) -> str:
    """The configured delimiter, else the one of , ; tab | that splits the header into the expected
    column names (most found wins; then most fields)."""
    if configured:
        return "\t" if configured in ("tab", "\\t") else configured
    lines = [line for line in text.splitlines()[:HEADER_SEARCH] if not line.startswith("#")] or [""]

    def fields(line, d):
        try:
            return [f.strip().strip('"') for f in next(csv.reader([line], delimiter=d), [])]
        except csv.Error:  # a stray quote or control character: no header on this line
            return []
    scores = []
    for d in DELIMITERS:  # the line with most of the names, for each delimiter (comment lines may come first)
        best = max((sum(name in found for name in expected), len(found)) for found in (fields(ln, d) for ln in lines))
        scores.append((*best, -DELIMITERS.index(d), d))
    return max(scores)[3]


def _read_table(path: Path, kind: str, expected: list[str], encoding, delimiter, sheet):
    """(table of strings with its header as found, duplicates kept; the delimiter of a text export or None; what
    the file is). Every cell is the text the export holds: an ID a spreadsheet stored as a number is its digits
    ("1001", never "1001.0")."""
    raw, fmt = _decompress(path, path.read_bytes())
    if fmt in SPREADSHEETS:
        sheet_name = sheet.get(kind) if isinstance(sheet, dict) else sheet
        try:
            book = pd.read_excel(io.BytesIO(raw), sheet_name=0 if sheet_name in (None, "") else sheet_name,
                                 dtype=object, na_filter=False, header=None,
                                 engine="openpyxl" if fmt == "xlsx" else "calamine")
        except ValueError as err:
            if "not found" in str(err) or "Worksheet" in str(err):
                raise ExportError(f"{path}: no sheet named {sheet_name!r} (raw.sheet)") from None
            raise ExportError(f"{path}: not a readable {NAMES[fmt]} ({type(err).__name__})") from None
        except Exception as err:  # the engines' own error types; their messages may quote cells
            raise ExportError(f"{path}: not a readable {NAMES[fmt]} ({type(err).__name__})") from None
        cells = book.apply(lambda col: col.map(cell_text))
        return _with_header(cells, expected), None, fmt
    if fmt == "parquet":
        try:
            table = pd.read_parquet(io.BytesIO(raw))
        except Exception as err:  # pyarrow's many error types; the message may quote data
            raise ExportError(f"{path}: not a readable parquet file ({type(err).__name__})") from None
        return table.rename(columns=str).apply(lambda col: col.map(cell_text)), None, fmt
    if fmt not in ("text", "html"):
        raise ExportError(f"{path}: this is {NAMES[fmt]}, not a table export: export the data as .xlsx or CSV")
    text = _decode(path, raw, encoding)
    if fmt == "html":
        return _html_table(path, text, expected), None, fmt
    sep = detect_delimiter(path, text, expected, delimiter)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    rows, lines = [], []
    try:  # blank lines are kept as rows, so that a row's index is its line (blank rows are dropped later)
        for row in reader:
            rows.append(row)
            lines.append(reader.line_num)
    except csv.Error as err:
        raise ExportError(f"{path}: line {reader.line_num} cannot be read as delimited text "
                          f"({str(err).split(':')[0]})") from None
    width = max(map(len, rows), default=0)
    table = _with_header(pd.DataFrame([(r + [""] * width)[:width] for r in rows], dtype=str), expected)
    at = table.attrs["header_line"] - 1
    header_width = len(rows[at]) if rows else 0
    table = table.iloc[:, :header_width].copy()
    table.attrs["header_line"] = at + 1
    # a row longer than the header: reported once the header is known to be the export's
    table.attrs["overlong_line"] = next((lines[i] for i in range(at + 1, len(rows)) if len(rows[i]) > header_width),
                                        None)
    return table, sep, fmt


HEADER_SEARCH = 20  # the first rows where a header is looked for, below comment and title lines


def _with_header(cells: pd.DataFrame, expected: list[str]) -> pd.DataFrame:
    """A table read without a header: its header row (among the first HEADER_SEARCH rows, the first with the most
    of the `expected` column names; comment lines starting with '#', blank and title lines before it are
    skipped and counted) as the column names (two of a name stay two), the rows after it numbered from 0."""
    head = [[str(v).strip() for v in row] for row in cells.iloc[:HEADER_SEARCH].itertuples(index=False)]
    found = [sum(name in row for name in expected) if row and not row[0].startswith("#") else -1 for row in head]
    at = max(range(len(found)), key=lambda i: (found[i], -i)) if found else 0
    header = [str(h) for h in cells.iloc[at]] if len(cells) else []
    body = cells.iloc[at + 1:].reset_index(drop=True)
    body.columns = header
    body.attrs["header_line"] = at + 1  # the line (or sheet row) the header is on
    return body


def _html_table(path: Path, text: str, expected: list[str]) -> pd.DataFrame:
    """The one table of a web page (a report tool's "export to Excel") whose first row holds the contract's
    columns, its cells as text."""
    import lxml.html
    try:
        page = lxml.html.fromstring(text)
    except Exception:  # lxml's parser errors; an empty or broken page
        page = None
    found = []
    for table in page.iter("table") if page is not None else ():
        rows = [[cell.text_content().strip() for cell in tr if cell.tag in ("td", "th")] for tr in table.iter("tr")]
        rows = [r for r in rows if any(r)]
        if rows and all(name in rows[0] for name in expected):
            found.append(rows)
    if len(found) != 1:
        which = f"{len(found)} of its tables hold" if found else "none of its tables holds"
        raise ExportError(f"{path}: this is a web page (HTML), not a spreadsheet, and {which} the export's "
                          "columns: export it as .xlsx or CSV")
    header, *rows = found[0]
    return pd.DataFrame([(r + [""] * len(header))[:len(header)] for r in rows], columns=header, dtype=str)


def cell_text(value) -> str:
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
    table, sep, fmt = _read_table(path, kind, list(site_names), encoding, delimiter, sheet)
    header_line, overlong = table.attrs.get("header_line", 1), table.attrs.get("overlong_line")
    table.columns = [str(c).strip() for c in table.columns]
    for name in site_names:  # a join in the export query writes a column twice: never pick one of them
        positions = [i + 1 for i, c in enumerate(table.columns) if c == name]
        if len(positions) > 1:
            raise ExportError(f"{path}: column {name!r} appears {len(positions)} times (columns "
                              f"{', '.join(map(str, positions))}): keep one in the export")
    missing = [name for name in site_names if name not in table.columns]
    if missing:
        hint = f" (map your export's names in raw.columns.{kind})"
        closest = (f" in the header, {where(path, -1, fmt, header_line)}, the line of the first "
                   f"{HEADER_SEARCH} with most of them" if fmt == "text" else "")
        raise ExportError(f"{path}: missing required column(s) {', '.join(repr(m) for m in missing)}{closest}{hint}")
    if overlong:
        raise ExportError(f"{path}: line {overlong} has more fields than the header "
                          f"(delimiter {sep!r}; set raw.delimiter if that is wrong)")
    table = table[list(site_names)].rename(columns=site_names)
    table = table.apply(lambda col: col.astype(str).str.strip())
    blank = (table == "").all(axis=1)  # a spreadsheet's empty rows (often at the end): skipped, counted
    table = table[~blank]
    if table.empty:
        raise ExportError(f"{path}: {kind} export has a header but no rows")
    table.attrs["blank_rows"] = int(blank.sum())
    table.attrs["format"], table.attrs["header_line"] = fmt, header_line
    table.attrs["lines_before_header"] = header_line - 1  # comment, blank and title lines: counted in step 0
    blank_ids = table.index[table["patient_id"] == ""]
    if len(blank_ids):
        raise ExportError(f"{path}: column 'patient_id' is blank at {where(path, blank_ids[0], fmt, header_line)}"
                          f" ({len(blank_ids)} row(s) in all)")
    for column in NUMERIC_COLUMNS[kind]:
        text = table[column]
        if sep not in (None, ","):  # a semicolon export from a European locale writes 50,4
            text = text.str.replace(r"^(-?\d+),(\d+)$", r"\1.\2", regex=True)
        values = pd.to_numeric(text, errors="coerce")
        bad = table.index[values.isna() & (table[column] != "")]
        if len(bad):
            raise ExportError(f"{path}: column '{column}' is not a number at {where(path, bad[0], fmt, header_line)}"
                              f" ({len(bad)} row(s) in all)")
        table[column] = values
    return table


def read_exports(paths: dict, raw: dict) -> tuple[dict, dict, dict, dict]:
    """Both raw exports (`paths`: diagnoses, plans) read by the column contract and the config's `raw`
    reading settings, identical rows collapsed, checked to share patients. By kind: the tables, the
    collapsed duplicates, the blank rows skipped, the lines before the header skipped."""
    tables, duplicates, blank, before = {}, {}, {}, {}
    for kind, path in paths.items():
        table = read_export(path, kind, raw.get("columns", {}).get(kind), raw.get("encoding"), raw.get("delimiter"),
                            raw.get("sheet"))
        blank[kind], before[kind] = table.attrs["blank_rows"], table.attrs["lines_before_header"]
        tables[kind], duplicates[kind] = collapse_duplicates(table, kind, path)
    check_shared_patients(tables["diagnoses"], tables["plans"], paths)
    return tables, duplicates, blank, before


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
    path, place = Path(path), (table.attrs.get("format", "text"), table.attrs.get("header_line", 1))
    identical = table.duplicated(keep="first")
    table = table[~identical]
    ids = list(ID_COLUMNS[kind])
    named = table[table[ids[-1]] != ""]
    conflicting = named[named.duplicated(subset=ids, keep=False)]
    if len(conflicting):
        first = conflicting.groupby(ids, sort=False).head(2).index[:2]
        raise ExportError(f"{path}: {where(path, first[0], *place)} and {where(path, first[1], *place)} have the same "
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
