"""Bad raw exports fail loudly, naming the file, the column and the line, never a cell's content."""
import pandas as pd
import pytest

from conftest import dx, plan
from radonc_llm.tables import DIAGNOSIS_COLUMNS, PLAN_COLUMNS, ExportError, read_export


def write(path, rows, columns):
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False)
    return path


def test_missing_file_names_the_file_and_the_config_key(tmp_path):
    with pytest.raises(ExportError, match=r"nowhere\.csv: plans export not found \(set raw\.plans"):
        read_export(tmp_path / "nowhere.csv", "plans")


def test_empty_file_and_header_only_file(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ExportError, match=r"empty\.csv: diagnoses export is empty"):
        read_export(tmp_path / "empty.csv", "diagnoses")
    (tmp_path / "header.csv").write_text(",".join(DIAGNOSIS_COLUMNS) + "\n")
    with pytest.raises(ExportError, match=r"header\.csv: diagnoses export has a header but no rows"):
        read_export(tmp_path / "header.csv", "diagnoses")


def test_missing_column_is_named(tmp_path):
    rows = [dx("A")]
    path = write(tmp_path / "dx.csv", rows, [c for c in DIAGNOSIS_COLUMNS if c != "icd_scheme"])
    with pytest.raises(ExportError, match=r"dx\.csv: missing required column\(s\) 'icd_scheme'"):
        read_export(path, "diagnoses")


def test_non_numeric_dose_names_column_and_line_but_not_the_value(tmp_path):
    rows = [plan("A"), plan("B"), plan("C")]
    rows[1]["total_dose_gy"] = "70 Gy secret-text"
    path = write(tmp_path / "plans.csv", rows, PLAN_COLUMNS)
    with pytest.raises(ExportError) as err:
        read_export(path, "plans")
    message = str(err.value)
    assert "plans.csv: column 'total_dose_gy' is not a number at line 3 (1 row(s) in all)" in message
    assert "secret" not in message


def test_non_numeric_fraction_count(tmp_path):
    rows = [plan("A"), plan("B")]
    rows[0]["n_fractions"] = "five"
    path = write(tmp_path / "plans.csv", rows, PLAN_COLUMNS)
    with pytest.raises(ExportError, match=r"column 'n_fractions' is not a number at line 2"):
        read_export(path, "plans")


def test_blank_patient_id_is_an_error(tmp_path):
    path = write(tmp_path / "dx.csv", [dx("A"), dx("")], DIAGNOSIS_COLUMNS)
    with pytest.raises(ExportError, match=r"column 'patient_id' is blank at line 3"):
        read_export(path, "diagnoses")


def test_site_column_names_are_mapped_and_extra_columns_dropped(tmp_path):
    frame = pd.DataFrame([dx("A")]).rename(columns={"patient_id": "PatientSer", "diagnosis_details": "DxText"})
    frame["Comment"] = "ignored"
    frame.to_csv(tmp_path / "dx.csv", index=False)
    table = read_export(tmp_path / "dx.csv", "diagnoses",
                        {"patient_id": "PatientSer", "diagnosis_details": "DxText"})
    assert list(table.columns) == list(DIAGNOSIS_COLUMNS)
    assert table.loc[0, "patient_id"] == "A" and table.loc[0, "age"] == 70
    plain = write(tmp_path / "plain.csv", [dx("A")], DIAGNOSIS_COLUMNS)
    with pytest.raises(ExportError, match=r"missing required column\(s\) 'PatientSer'.*raw\.columns\.diagnoses"):
        read_export(plain, "diagnoses", {"patient_id": "PatientSer"})


def test_annotation_tables_are_checked(tmp_path):
    from radonc_llm.tables import MODALITY_OVERRIDE_COLUMNS
    from radonc_llm.tables import read_annotation
    allowed = {"modality": ("photon", "proton", "electron", "brachy")}
    assert read_annotation(tmp_path / "absent.csv", MODALITY_OVERRIDE_COLUMNS, allowed).empty
    path = tmp_path / "overrides.csv"
    path.write_text("case_id,modality\nP1,proton\nP2,Protons\n")
    with pytest.raises(ExportError, match=r"overrides\.csv: column 'modality' at line 3 must be one of photon"):
        read_annotation(path, MODALITY_OVERRIDE_COLUMNS, allowed)
    path.write_text("case_id,modality\nP1,proton\nP1,photon\n")
    with pytest.raises(ExportError, match=r"case_id at line 3 appears more than once"):
        read_annotation(path, MODALITY_OVERRIDE_COLUMNS, allowed)
    path.write_text("case,modality\nP1,proton\n")
    with pytest.raises(ExportError, match=r"missing required column\(s\) 'case_id'"):
        read_annotation(path, MODALITY_OVERRIDE_COLUMNS, allowed)
