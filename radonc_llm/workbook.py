"""Grading sheets as clinicians use them: an Excel workbook per grader (openpyxl), and sheets read back as
they come back, a workbook, or a CSV that went through Excel (byte-order mark, Windows-1252, CRLF, its own
quoting, a semicolon in some locales).

The workbook has three sheets: *Instructions* (the scale and how to return the file), *Grader* (ID, role and
years of practice, the TRIPOD-LLM rater items) and *Cases* (the case text locked and wrapped, the grade a 1-5
drop-down, a free comment, the header frozen). Its bytes depend only on its content: the zip entries and the
document properties carry a fixed date, so a re-run writes the same file.
"""
from __future__ import annotations

import datetime
import io
import re
import zipfile
from pathlib import Path

import pandas as pd

from .errors import UserError

SCALE = {1: "Acceptable: interchangeable with the physician's regimen",
         2: "Minor deviation, but acceptable",
         3: "Significant deviation",
         4: "Major deviation, unsafe",
         5: "Absolutely not acceptable"}
TEXT_COLUMNS = ("diagnosis", "physician_regimen", "generated_regimen")
HEADERS = {"row_id": "Row", "diagnosis": "Diagnosis", "physician_regimen": "Physician's regimen",
           "generated_regimen": "Regimen to grade", "grade": "Grade (1-5)", "comment": "Comment"}
WIDTHS = {"row_id": 8, "diagnosis": 60, "physician_regimen": 34, "generated_regimen": 34, "grade": 12,
          "comment": 40}
GRADER_FIELDS = ("grader ID", "role (e.g. radiation oncology resident, attending)", "years of practice")
FIXED_TIME = datetime.datetime(2000, 1, 1)
# what a worksheet cannot hold: control characters other than tab and line ends (a model's stray output)
UNPRINTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


class SheetError(UserError):
    """A returned sheet that cannot be read: names the file, and the row where there is one."""


def workbook_bytes(sheet: pd.DataFrame, grader: str) -> bytes:
    """The grader's workbook of `sheet` (row_id, the case text, grade, comment)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, Protection
    from openpyxl.worksheet.datavalidation import DataValidation

    from openpyxl.utils import get_column_letter
    columns = [c for c in HEADERS if c in sheet.columns]  # without the physician's regimen when it is graded too
    reference = "physician_regimen" in columns
    task = ("compare the regimen to grade with the physician's regimen for the diagnosis" if reference else
            "judge the regimen to grade for the diagnosis as you would a colleague's prescription")
    book = Workbook()
    instructions = book.active
    instructions.title = "Instructions"
    lines = [("Grading of generated radiation therapy regimens", True), ("", False),
             (f"For every row of the sheet Cases, {task}, and choose a grade from the drop-down of the column "
              "Grade:", False), ("", False),
             *[(f"{grade}  {meaning}", False) for grade, meaning in SCALE.items()], ("", False),
             ("Rows are in an order of their own; nothing on the sheet says where a regimen comes from. Add a "
              "comment where it helps. Do not change the case text, and do not add, remove or sort rows.", False),
             ("Fill in the sheet Grader, save the workbook as it is (Excel workbook, .xlsx, same name) and return "
              "it to the study team.", False)]
    for row, (text, bold) in enumerate(lines, 1):
        cell = instructions.cell(row=row, column=1, value=text)
        cell.font = Font(bold=bold)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    instructions.column_dimensions["A"].width = 110

    about = book.create_sheet("Grader")
    for row, field in enumerate(GRADER_FIELDS, 1):
        about.cell(row=row, column=1, value=field).font = Font(bold=True)
        about.cell(row=row, column=2, value=grader if row == 1 else None)
    about.column_dimensions["A"].width = 50
    about.column_dimensions["B"].width = 40

    cases = book.create_sheet("Cases")
    for col, name in enumerate(columns, 1):
        cases.cell(row=1, column=col, value=HEADERS[name]).font = Font(bold=True)
        cases.column_dimensions[get_column_letter(col)].width = WIDTHS[name]
    grades = DataValidation(type="list", formula1='"1,2,3,4,5"', allow_blank=True, showErrorMessage=True,
                            errorTitle="Grade", error="Choose a grade from 1 to 5")
    cases.add_data_validation(grades)
    for row, record in enumerate(sheet[columns].itertuples(index=False), 2):
        for col, name in enumerate(columns, 1):
            value = getattr(record, name)
            cell = cases.cell(row=row, column=col, value=int(value) if name == "grade" and value else value or None)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            cell.protection = Protection(locked=name not in ("grade", "comment"))
    if len(sheet):
        grade = get_column_letter(columns.index("grade") + 1)
        grades.add(f"{grade}2:{grade}{len(sheet) + 1}")
    cases.freeze_panes = "A2"
    cases.protection.sheet = True  # the case text locked; grade and comment open (no password: a guard, not a lock)
    cases.protection.formatColumns = False  # widths may be changed
    book.active = cases
    book.properties.created = book.properties.modified = FIXED_TIME
    buffer = io.BytesIO()
    book.save(buffer)
    return _fixed_dates(buffer.getvalue())


def _fixed_dates(xlsx: bytes) -> bytes:
    """The workbook's zip with every entry dated FIXED_TIME (openpyxl dates them now), in the same order."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time as modified
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                              rb"\g<1>2000-01-01T00:00:00Z\g<2>", data)
            target.writestr(zipfile.ZipInfo(info.filename, FIXED_TIME.timetuple()[:6]), data,
                            compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def read_workbook(data: bytes, path: str | Path) -> tuple[pd.DataFrame, dict[str, str]]:
    """A returned workbook (its bytes `data`, read from `path`): its Cases sheet as text columns (row_id, the case
    text, grade, comment; the sheet's line number in `line`) and what the grader wrote on the Grader sheet."""
    from openpyxl import load_workbook

    from .tables import cell_text
    try:  # from its bytes: openpyxl refuses a workbook by its name alone (one saved as .csv)
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # a file that is no workbook: say so, never a traceback
        raise SheetError(f"{path}: not an Excel workbook (.xlsx) that can be read ({type(error).__name__})") from None
    for name in ("Cases", "Grader"):
        if name not in book.sheetnames:
            raise SheetError(f"{path}: the sheet {name!r} is missing (sheets: {', '.join(book.sheetnames)})")
    rows = list(book["Cases"].iter_rows(values_only=True))
    names = {label: name for name, label in HEADERS.items()}
    header = [names.get(str(h).strip(), str(h).strip()) if h is not None else "" for h in rows[0]] if rows else []
    known = [c for c in header if c in HEADERS]  # the caller checks them against the sheet as issued
    table = pd.DataFrame([[cell_text(v) for v in row[:len(header)]] for row in rows[1:]], columns=header,
                         dtype=object)[known].astype(str)  # text, as a CSV sheet is read
    table.insert(0, "line", range(2, len(table) + 2))
    grader = {str(field).strip(): cell_text(value) for field, value, *_ in book["Grader"].iter_rows(values_only=True)
              if field is not None}
    book.close()
    return table, grader


def read_csv_sheet(data: bytes, path: str | Path) -> pd.DataFrame:
    """A sheet returned as CSV (its bytes `data`, read from `path`), however Excel saved it: UTF-8 with or without
    a byte-order mark, else Windows-1252; its delimiter found as an export's is; any line ends and quoting.
    Returns the table (with `line`)."""
    from .tables import detect_delimiter
    try:
        text = data.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    delimiter = detect_delimiter(Path(path), text, [*HEADERS, *HEADERS.values()], None)
    try:
        table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=delimiter)
    except (pd.errors.ParserError, ValueError) as error:
        raise SheetError(f"{path}: not a CSV sheet that can be read ({str(error).splitlines()[0]})") from None
    labels = {label: name for name, label in HEADERS.items()}
    table = table.rename(columns=lambda c: labels.get(c.strip(), c.strip()))
    table.insert(0, "line", range(2, len(table) + 2))
    return table


def same_text(returned: str, issued: str) -> bool:
    """Whether a returned cell holds the issued text, after what a spreadsheet does to text it did not edit:
    line ends, runs of whitespace, and characters a Windows-1252 file cannot hold (saved as '?'; such a file
    may then hold nothing but ASCII and read as UTF-8)."""
    returned = " ".join(returned.split())
    return returned in (" ".join(issued.split()),
                        " ".join(issued.encode("cp1252", errors="replace").decode("cp1252").split()))
