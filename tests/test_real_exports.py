"""Exports shaped the way record systems and spreadsheet tools write them: encodings, delimiters, Excel,
parquet, duplicate records, implausible values, and the pseudonymisation key real data needs."""
import pandas as pd
import pytest

from conftest import KEY, dx, plan
from radonc_llm.curate import curate
from radonc_llm.errors import UserError
from radonc_llm.pseudonym import pseudonymise, resolve_key
from radonc_llm.tables import (DIAGNOSIS_COLUMNS, PLAN_COLUMNS, ExportError, check_shared_patients,
                               collapse_duplicates, read_export)

ACCENTED = "Adénocarcinome de la prostate, Gleason 3+4=7, cT2a N0 M0"


def csv_text(rows, columns, sep=","):
    return pd.DataFrame(rows, columns=columns).to_csv(index=False, sep=sep)


# ---------------------------------------------------------------- encodings
def test_windows_1252_export_is_refused_with_file_line_and_the_setting(tmp_path):
    path = tmp_path / "dx.csv"
    path.write_bytes(csv_text([dx("A"), dx("B", text=ACCENTED)], DIAGNOSIS_COLUMNS).encode("cp1252"))
    with pytest.raises(ExportError) as err:
        read_export(path, "diagnoses")
    message = str(err.value)
    assert message.startswith(f"{path}: line 3 cannot be read as UTF-8") and "raw.encoding: cp1252" in message
    assert "Adénocarcinome" not in message and "\n" not in message
    table = read_export(path, "diagnoses", encoding="cp1252")
    assert table.loc[1, "diagnosis_details"] == ACCENTED


def test_utf8_with_bom_and_utf16_are_read_without_settings(tmp_path):
    text = csv_text([dx("A", text=ACCENTED)], DIAGNOSIS_COLUMNS)
    (tmp_path / "bom.csv").write_bytes(text.encode("utf-8-sig"))
    (tmp_path / "u16.csv").write_bytes(text.encode("utf-16"))
    for name in ("bom.csv", "u16.csv"):
        table = read_export(tmp_path / name, "diagnoses")
        assert list(table.columns) == list(DIAGNOSIS_COLUMNS) and table.loc[0, "diagnosis_details"] == ACCENTED


def test_unknown_encoding_setting_is_named(tmp_path):
    path = tmp_path / "dx.csv"
    path.write_text(csv_text([dx("A")], DIAGNOSIS_COLUMNS))
    with pytest.raises(ExportError, match=r"raw\.encoding 'klingon' is not an encoding"):
        read_export(path, "diagnoses", encoding="klingon")


# ---------------------------------------------------------------- delimiters
def test_semicolon_export_with_decimal_commas_is_read(tmp_path):
    path = tmp_path / "plans.csv"
    rows = [plan("A", total=50.4, fx=28), plan("B", total=40.05, fx=15)]
    path.write_text(csv_text(rows, PLAN_COLUMNS, sep=";").replace("50.4", "50,4").replace("40.05", "40,05"))
    table = read_export(path, "plans")
    assert table["total_dose_gy"].tolist() == [50.4, 40.05] and table["n_fractions"].tolist() == [28, 15]
    assert table.loc[0, "dose_per_fraction_gy"] == 1.8


def test_tab_and_configured_delimiters(tmp_path):
    path = tmp_path / "dx.txt"
    path.write_text(csv_text([dx("A", text="Prostate, Gleason 7; cT2a")], DIAGNOSIS_COLUMNS, sep="\t"))
    assert read_export(path, "diagnoses").loc[0, "diagnosis_details"] == "Prostate, Gleason 7; cT2a"
    assert read_export(path, "diagnoses", delimiter="tab").loc[0, "age"] == 70
    with pytest.raises(ExportError, match="missing required column"):
        read_export(path, "diagnoses", delimiter=";")


# ---------------------------------------------------------------- Excel and parquet
def test_xlsx_first_or_named_sheet_and_parquet(tmp_path):
    path = tmp_path / "exports.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as book:
        pd.DataFrame([{"note": "cover sheet"}]).to_excel(book, sheet_name="About", index=False)
        pd.DataFrame([dx("A"), dx("B", age=None)], columns=DIAGNOSIS_COLUMNS).to_excel(book, sheet_name="Dx",
                                                                                      index=False)
        pd.DataFrame([plan("A")], columns=PLAN_COLUMNS).to_excel(book, sheet_name="Plans", index=False)
    with pytest.raises(ExportError, match=r"exports\.xlsx: missing required column"):
        read_export(path, "diagnoses")  # the first sheet is the cover
    table = read_export(path, "diagnoses", sheet={"diagnoses": "Dx", "plans": "Plans"})
    assert table["patient_id"].tolist() == ["A", "B"] and table.loc[0, "age"] == 70 and pd.isna(table.loc[1, "age"])
    assert read_export(path, "plans", sheet="Plans").loc[0, "total_dose_gy"] == 70
    with pytest.raises(ExportError, match=r"exports\.xlsx: no sheet named 'Nope' \(raw\.sheet\)"):
        read_export(path, "plans", sheet="Nope")
    bad = [dx("A"), dx("B")]
    bad[1]["age"] = "seventy"
    pd.DataFrame(bad, columns=DIAGNOSIS_COLUMNS).to_excel(tmp_path / "bad.xlsx", index=False)
    with pytest.raises(ExportError, match=r"bad\.xlsx: column 'age' is not a number at row 3"):
        read_export(tmp_path / "bad.xlsx", "diagnoses")
    frame = pd.DataFrame([plan("A"), {**plan("B"), "total_dose_gy": None, "dose_per_fraction_gy": None}],
                         columns=PLAN_COLUMNS).astype({"total_dose_gy": float, "dose_per_fraction_gy": float})
    frame.to_parquet(tmp_path / "plans.parquet")
    table = read_export(tmp_path / "plans.parquet", "plans")
    assert table.loc[0, "total_dose_gy"] == 70 and pd.isna(table.loc[1, "total_dose_gy"])
    assert table.loc[0, "n_fractions"] == 28 and table.loc[0, "patient_id"] == "A"


# ---------------------------------------------------------------- exports a spreadsheet made
def test_ids_a_spreadsheet_stored_as_numbers_are_read_as_their_digits(tmp_path):
    import openpyxl
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(DIAGNOSIS_COLUMNS))
    for pid in (1001.0, 1002, "01003", 1234567890123457.0):  # a float cell, an int cell, text, a long number
        row = dx(pid)
        sheet.append([row[c] for c in DIAGNOSIS_COLUMNS])
    book.save(tmp_path / "dx.xlsx")
    table = read_export(tmp_path / "dx.xlsx", "diagnoses")
    assert table["patient_id"].tolist() == ["1001", "1002", "01003", "1234567890123457"]
    assert table["age"].tolist() == [70, 70, 70, 70]
    plans = tmp_path / "plans.csv"
    plans.write_text(csv_text([plan(p) for p in ("1001", "1002", "01003", "1234567890123457")], PLAN_COLUMNS))
    check_shared_patients(table, read_export(plans, "plans"), {"diagnoses": "dx.xlsx", "plans": plans})
    cases, _ = curate(table, read_export(plans, "plans"), KEY)
    assert len(cases) == 4  # every patient joined its plan


def test_exports_that_share_no_patient_are_refused_with_counts_and_a_hint(tmp_path):
    dx_path, plan_path = tmp_path / "dx.csv", tmp_path / "plans.csv"
    dx_path.write_text(csv_text([dx("00123"), dx("00456"), dx("00789")], DIAGNOSIS_COLUMNS))
    plan_path.write_text(csv_text([plan("123.0"), plan("456.0")], PLAN_COLUMNS))  # what a spreadsheet wrote
    paths = {"diagnoses": dx_path, "plans": plan_path}
    with pytest.raises(ExportError) as err:
        check_shared_patients(read_export(dx_path, "diagnoses"), read_export(plan_path, "plans"), paths)
    assert str(err.value) == (f"{dx_path} (3 patients) and {plan_path} (2 patients) share no patient ID: they match "
                              "once leading zeros and '.0' are ignored: a spreadsheet turned the IDs into numbers; "
                              "export the ID column as text")
    plan_path.write_text(csv_text([plan("Z1")], PLAN_COLUMNS))
    with pytest.raises(ExportError, match=r"\(1 patients\) share no patient ID: check that both exports use the same "
                                          r"patient ID column \(raw.columns"):
        check_shared_patients(read_export(dx_path, "diagnoses"), read_export(plan_path, "plans"), paths)


@pytest.mark.parametrize("name", ["dx.csv.gz", "dx.csv.bz2", "dx.zip", "dx.csv"])
def test_compressed_exports_are_read_as_pandas_reads_them(tmp_path, name):
    import bz2
    import gzip
    import zipfile
    text = csv_text([dx("A"), dx("B", text=ACCENTED)], DIAGNOSIS_COLUMNS).encode()
    path = tmp_path / name
    if name.endswith(".gz") or name == "dx.csv":  # dx.csv: gzip under a plain name, known by its first bytes
        path.write_bytes(gzip.compress(text, mtime=0))
    elif name.endswith(".bz2"):
        path.write_bytes(bz2.compress(text))
    else:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("Diagnoses export.csv", text)
    table = read_export(path, "diagnoses")
    assert table["patient_id"].tolist() == ["A", "B"] and table.loc[1, "diagnosis_details"] == ACCENTED


def test_broken_or_ambiguous_archives_are_named(tmp_path):
    import zipfile
    truncated = tmp_path / "dx.csv.gz"
    import gzip
    truncated.write_bytes(gzip.compress(csv_text([dx("A")], DIAGNOSIS_COLUMNS).encode())[:30])
    with pytest.raises(ExportError, match=r"dx\.csv\.gz: not a readable gzip file \(EOFError\); re-export"):
        read_export(truncated, "diagnoses")
    two = tmp_path / "both.zip"
    with zipfile.ZipFile(two, "w") as archive:
        archive.writestr("dx.csv", csv_text([dx("A")], DIAGNOSIS_COLUMNS))
        archive.writestr("plans.csv", csv_text([plan("A")], PLAN_COLUMNS))
    with pytest.raises(ExportError, match=r"both\.zip: a zip archive holding 2 files, not an export"):
        read_export(two, "diagnoses")


def test_blank_rows_are_skipped_counted_and_later_lines_still_named(tmp_path):
    path = tmp_path / "plans.csv"
    rows = csv_text([plan("A"), plan("B")], PLAN_COLUMNS).splitlines()
    bad = csv_text([{**plan("C"), "n_fractions": "x"}], PLAN_COLUMNS).splitlines()[1]
    blank = "," * (len(PLAN_COLUMNS) - 1)
    path.write_text("\n".join([rows[0], rows[1], blank, "", rows[2], blank, blank]) + "\n")  # a spreadsheet's tail
    table = read_export(path, "plans")
    assert table["patient_id"].tolist() == ["A", "B"] and table.attrs["blank_rows"] == 4
    _, steps = curate(pd.DataFrame([dx("A"), dx("B")]).astype({"age": float}), table, KEY,
                      blank_rows={"diagnoses": 0, "plans": 4})
    assert steps.loc[0, "why"] == "blank plans rows skipped: 4"
    path.write_text("\n".join([rows[0], blank, "", rows[1], bad]) + "\n")
    with pytest.raises(ExportError, match=r"column 'n_fractions' is not a number at line 5 "):
        read_export(path, "plans")  # the line as an editor shows it, blank lines counted
    path.write_text("\n".join([rows[0], blank, blank]) + "\n")
    with pytest.raises(ExportError, match=r"plans export has a header but no rows"):
        read_export(path, "plans")


# ---------------------------------------------------------------- duplicates
def test_identical_duplicate_records_are_collapsed_and_counted(tmp_path):
    path = tmp_path / "dx.csv"
    path.write_text(csv_text([dx("A"), dx("B"), dx("A")], DIAGNOSIS_COLUMNS))
    table, n = collapse_duplicates(read_export(path, "diagnoses"), "diagnoses", path)
    assert n == 1 and table["patient_id"].tolist() == ["A", "B"]
    cases, steps = curate(table, pd.DataFrame([plan("A"), plan("B")]).astype({"total_dose_gy": float}), KEY,
                          duplicates={"diagnoses": n, "plans": 0})
    assert len(cases) == 2  # patient A keeps its (one) diagnosis record
    assert steps.loc[0, "why"] == "identical duplicate diagnoses records collapsed: 1"


def test_conflicting_records_under_one_id_are_an_error_naming_id_and_lines(tmp_path):
    path = tmp_path / "dx.csv"
    path.write_text(csv_text([dx("A"), dx("B"), dx("A", code="C61.9", did="D-A")], DIAGNOSIS_COLUMNS))
    with pytest.raises(ExportError) as err:
        collapse_duplicates(read_export(path, "diagnoses"), "diagnoses", path)
    assert str(err.value).startswith(f"{path}: line 2 and line 4 have the same patient_id + diagnosis_id but "
                                     "different content")
    two_records = tmp_path / "two.csv"  # two different diagnoses of one patient: no error, step 1 drops them
    two_records.write_text(csv_text([dx("A"), dx("A", did="D-A2", code="C34.90")], DIAGNOSIS_COLUMNS))
    assert collapse_duplicates(read_export(two_records, "diagnoses"), "diagnoses", two_records)[1] == 0


# ---------------------------------------------------------------- plausibility: dropped with a named reason
def test_implausible_doses_ages_and_sex_codes_never_reach_the_cases(exports):
    d, p = exports(
        [dx(pid) for pid in "ABCDEFGHIJ"] + [dx("K", age=150), dx("L", sex="Q"), dx("M", sex="U")],
        [plan("A", total=-50, fx=25), plan("B", total=5000, fx=15), {**plan("C"), "n_fractions": 0,
            "dose_per_fraction_gy": ""},
         {**plan("D", total=50, fx=25), "dose_per_fraction_gy": 200},
         plan("E", total=2, fx=100), plan("F", total=70, fx=28),
         plan("G", modality="HDR", total=21, fx=3), plan("H", modality="I-125 seeds", total=145, fx=1),
         plan("I", modality="6X", total=145, fx=1),
         plan("J", total=50, fx=25), plan("J", plan_type="Boost", plan_id="P2", total=1000, fx=5),
         plan("K"), plan("L"), plan("M")])
    cases, steps = curate(d, p, KEY)
    kept = set(cases["case_id"])
    ids = dict(zip("ABCDEFGHIJKLM", pseudonymise(pd.Series(list("ABCDEFGHIJKLM")), KEY)))
    assert {pid for pid, cid in ids.items() if cid in kept} == {"F", "G", "H", "M"}
    assert (cases["total_dose_gy"] > 0).all() and (cases["total_dose_gy"] <= 200).all()
    assert cases.loc[cases["case_id"] == ids["M"], "sex"].item() == "unknown"
    assert steps.loc[1, "why"] == "age outside 0-120: 1; unknown sex code: 1"
    assert steps.loc[2, "why"] == ("dose or fraction count not above zero: 2; total dose looks like cGy in the Gy "
                                   "column: 3; dose per fraction disagrees with total / fractions: 1; dose per "
                                   "fraction, fraction count or total outside the clinical window: 1")


def test_the_clinical_window_is_the_configs(exports):
    """A department with a 76-fraction hyperfractionated schedule and 220 Gy implants widens the window."""
    d, p = exports([dx("A"), dx("B"), dx("C")],
                   [plan("A", total=76, fx=76), plan("B", modality="I-125 seeds", total=220, fx=1), plan("C")])
    ids = dict(zip("ABC", pseudonymise(pd.Series(list("ABC")), KEY)))
    cases, steps = curate(d, p, KEY)
    assert set(cases["case_id"]) == {ids["C"]} and steps.loc[2, "dropped"] == 2
    wide = {"max_fractions": 80, "min_per_fraction": 0.5, "max_single_fraction": 34.0, "max_per_fraction": 25.0,
            "max_total": 100.0, "implant_min": 20.0, "implant_max": 250.0}
    cases, _ = curate(d, p, KEY, window=wide)
    assert set(cases["case_id"]) == set(ids.values())


# ---------------------------------------------------------------- the key
SECRET = "k" * 40


def test_real_exports_refuse_the_public_config_key(monkeypatch):
    monkeypatch.delenv("RADONC_PSEUDONYM_KEY", raising=False)
    settings = {"key_env": "RADONC_PSEUDONYM_KEY", "key": "synthetic-demo-key-not-for-patient-data"}
    assert resolve_key(settings, synthetic=True) == b"synthetic-demo-key-not-for-patient-data"
    with pytest.raises(UserError) as err:
        resolve_key(settings, synthetic=False)
    message = str(err.value)
    assert "export RADONC_PSEUDONYM_KEY=" in message and "key_file" in message and "\n" not in message
    assert "synthetic-demo-key" not in message


def test_real_exports_need_a_long_key_from_the_environment_or_a_file_outside_the_repository(
        monkeypatch, tmp_path):
    settings = {"key_env": "RADONC_PSEUDONYM_KEY", "key": "public"}
    monkeypatch.setenv("RADONC_PSEUDONYM_KEY", "short-key-1234")
    with pytest.raises(UserError, match="has 14 characters; real exports need at least 32") as err:
        resolve_key(settings, synthetic=False)
    assert "short-key-1234" not in str(err.value)
    monkeypatch.setenv("RADONC_PSEUDONYM_KEY", SECRET)
    assert resolve_key(settings, synthetic=False) == SECRET.encode()
    monkeypatch.delenv("RADONC_PSEUDONYM_KEY")
    repo = tmp_path / "repo"
    (repo / "config").mkdir(parents=True)
    (repo / "config" / "key.txt").write_text(SECRET)
    (tmp_path / "key.txt").write_text(SECRET + "\n")
    with pytest.raises(UserError, match="lies inside the repository"):
        resolve_key({**settings, "key_file": str(repo / "config" / "key.txt")}, False, repo)
    assert resolve_key({**settings, "key_file": str(tmp_path / "key.txt")}, False, repo) == SECRET.encode()


# ---------------------------------------------------------------- what a file really is
def expected_diagnoses():
    return [dx("A"), dx("B", text=ACCENTED, age=55, code="C61")]


def test_an_html_table_named_xls_is_read_and_a_page_without_the_table_is_named(tmp_path):
    header = "".join(f"<th>{c}</th>" for c in DIAGNOSIS_COLUMNS)
    rows = "".join("<tr>" + "".join(f"<td>{r[c]}</td>" for c in DIAGNOSIS_COLUMNS) + "</tr>"
                   for r in expected_diagnoses())
    page = (f'<html><head><meta charset="utf-8"><title>Report</title></head><body><table><tr><td>Run by</td>'
            f"<td>report tool</td></tr></table><table><tr>{header}</tr>{rows}</table></body></html>")
    (tmp_path / "dx.xls").write_text(page, encoding="utf-8")
    table = read_export(tmp_path / "dx.xls", "diagnoses")
    assert table["patient_id"].tolist() == ["A", "B"] and table.loc[1, "diagnosis_details"] == ACCENTED
    assert table["age"].tolist() == [70, 55]
    (tmp_path / "other.xls").write_text("<!DOCTYPE html><html><body><p>No data</p></body></html>")
    with pytest.raises(ExportError, match=r"other\.xls: this is a web page \(HTML\), not a spreadsheet, and none of "
                                          r"its tables holds the export's columns: export it as \.xlsx or CSV"):
        read_export(tmp_path / "other.xls", "diagnoses")


def test_workbooks_are_read_by_content_whatever_their_name_old_xls_and_ods_too(tmp_path):
    frame = pd.DataFrame(expected_diagnoses(), columns=DIAGNOSIS_COLUMNS)
    frame.to_excel(tmp_path / "dx.csv", index=False, engine="openpyxl")  # "Save as" kept the .csv name
    import xlwt  # an old binary workbook, as Crystal Reports and older Aria report exports write them
    book = xlwt.Workbook()
    sheet = book.add_sheet("Diagnoses")
    for j, column in enumerate(DIAGNOSIS_COLUMNS):
        sheet.write(0, j, column)
        for i, row in enumerate(expected_diagnoses(), 1):
            sheet.write(i, j, row[column])
    book.save(str(tmp_path / "dx.xls"))
    ods_zip(tmp_path / "dx.ods", [list(DIAGNOSIS_COLUMNS)] + [[r[c] for c in DIAGNOSIS_COLUMNS]
                                                              for r in expected_diagnoses()])
    for name in ("dx.csv", "dx.xls", "dx.ods"):
        table = read_export(tmp_path / name, "diagnoses")
        assert table["patient_id"].tolist() == ["A", "B"], name
        assert table.loc[1, "diagnosis_details"] == ACCENTED and table["age"].tolist() == [70, 55], name
    (tmp_path / "dx.pdf.csv").write_bytes(b"%PDF-1.7\n%\xe2\xe3\n1 0 obj <<>> endobj\n")
    with pytest.raises(ExportError, match=r"dx\.pdf\.csv: this is a PDF document, not a table export"):
        read_export(tmp_path / "dx.pdf.csv", "diagnoses")


def ods_zip(path, rows):
    """A minimal OpenDocument spreadsheet (what LibreOffice saves), built by hand: its mimetype and one table."""
    import zipfile
    from xml.sax.saxutils import escape

    def cell(value):
        if isinstance(value, (int, float)):
            return f'<table:table-cell office:value-type="float" office:value="{value}"><text:p>{value}</text:p>' \
                   "</table:table-cell>"
        return f'<table:table-cell office:value-type="string"><text:p>{escape(str(value))}</text:p></table:table-cell>'
    body = "".join("<table:table-row>" + "".join(cell(v) for v in row) + "</table:table-row>" for row in rows)
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body>'
               f'<office:spreadsheet><table:table table:name="Dx">{body}</table:table></office:spreadsheet>'
               "</office:body></office:document-content>")
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                '<manifest:file-entry manifest:full-path="/" '
                'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                "</manifest:manifest>")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet",
                         compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", content)
        archive.writestr("META-INF/manifest.xml", manifest)


@pytest.mark.parametrize("name", ["dx.csv", "dx.xlsx"])
def test_a_column_written_twice_is_refused_naming_its_positions(tmp_path, name):
    columns = [*DIAGNOSIS_COLUMNS, "patient_id"]  # a join in the export query
    frame = pd.DataFrame([[*dx("A").values(), "A"], [*dx("B").values(), "Z"]], columns=columns)
    if name.endswith(".csv"):
        frame.to_csv(tmp_path / name, index=False)
    else:
        frame.to_excel(tmp_path / name, index=False)
    with pytest.raises(ExportError, match=rf"{name}: column 'patient_id' appears 2 times \(columns 1, 9\): keep "
                                          "one in the export"):
        read_export(tmp_path / name, "diagnoses")


def test_comment_and_title_lines_before_the_header_are_skipped_counted_and_lines_still_named(tmp_path):
    rows = csv_text([plan("A"), plan("B"), {**plan("C"), "n_fractions": "x"}], PLAN_COLUMNS).splitlines()
    path = tmp_path / "plans.csv"
    path.write_text("\n".join(["# Aria report: radiotherapy plans", "# exported 2026-11-30 by the report tool", "",
                               "Treatment plans, all courses", *rows[:3]]) + "\n")
    table = read_export(path, "plans")
    assert table["patient_id"].tolist() == ["A", "B"] and table.attrs["lines_before_header"] == 4
    _, steps = curate(pd.DataFrame([dx("A"), dx("B")]).astype({"age": float}), table, KEY,
                      lines_before_header={"diagnoses": 0, "plans": 4})
    assert steps.loc[0, "why"] == "plans lines before the header skipped: 4"
    path.write_text("\n".join(["# report", "", *rows]) + "\n")
    with pytest.raises(ExportError, match=r"column 'n_fractions' is not a number at line 6 "):
        read_export(path, "plans")  # the line as an editor shows it
    path.write_text("\n".join(["# report", rows[0].replace("plan_id", "plan"), *rows[1:3]]) + "\n")
    with pytest.raises(ExportError, match=r"plans\.csv: missing required column\(s\) 'plan_id' in the header, "
                                          r"line 2, the line of the first 20 with most of them"):
        read_export(path, "plans")
    book = tmp_path / "plans.xlsx"  # a workbook with a title row and a blank row above its header
    pd.DataFrame([["Plans report"] + [""] * (len(PLAN_COLUMNS) - 1), [""] * len(PLAN_COLUMNS), list(PLAN_COLUMNS),
                  *[[str(plan(p)[c]) for c in PLAN_COLUMNS] for p in ("A", "B")]]).to_excel(book, index=False,
                                                                                              header=False)
    table = read_export(book, "plans")
    assert table["patient_id"].tolist() == ["A", "B"] and table.attrs["lines_before_header"] == 2


def test_a_fuzzed_export_is_read_or_refused_in_one_line_never_a_traceback(tmp_path):
    """Seeded mutations of a good export (bytes flipped, inserted and cut, line ends, quotes, delimiters,
    truncation, cells emptied or doubled): each is read or refused with an ExportError, never another error."""
    import random
    good = csv_text([dx(p, text=ACCENTED if i % 3 else "Prostate, Gleason 7; cT2a") for i, p in
                     enumerate("ABCDEFGH")], DIAGNOSIS_COLUMNS).encode()
    rng = random.Random(20261207)

    def mutate(data: bytes) -> bytes:
        kind = rng.randrange(9)
        i = rng.randrange(len(data))
        if kind == 0:
            return data[:i] + bytes([rng.randrange(256)]) + data[i + 1:]
        if kind == 1:
            return data[:i] + bytes(rng.randrange(256) for _ in range(rng.randrange(1, 6))) + data[i:]
        if kind == 2:
            return data[:i] + data[i + rng.randrange(1, 40):]
        if kind == 3:
            return data.replace(b"\n", rng.choice([b"\r\n", b"\r", b"\n\n", b""]))
        if kind == 4:
            return data[:i] + b'"' + data[i:]
        if kind == 5:
            return data.replace(b",", rng.choice([b";", b"\t", b"|", b",,", b'","']), rng.randrange(1, 20))
        if kind == 6:
            return data[:i]
        if kind == 7:
            lines = data.split(b"\n")
            j = rng.randrange(len(lines))
            return b"\n".join(lines[:j] + [lines[j]] * 2 + lines[j + 1:])
        return rng.choice([b"PK\x03\x04", b"\x1f\x8b", b"BZh", b"PAR1", b"%PDF", b"<html>", OLE2_SIGNATURE]) + data
    outcomes = {"read": 0, "refused": 0}
    for k in range(300):
        path = tmp_path / f"fuzz{k}.csv"
        path.write_bytes(mutate(mutate(good)) if k % 2 else mutate(good))
        try:
            read_export(path, "diagnoses")
            outcomes["read"] += 1
        except ExportError as err:
            assert "\n" not in str(err) and str(path) in str(err), str(err)
            outcomes["refused"] += 1
    assert outcomes["read"] > 30 and outcomes["refused"] > 30, outcomes


OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
