"""Small hand-written raw exports for the curation tests."""
from __future__ import annotations

import pandas as pd
import pytest

from radonc_llm.tables import DIAGNOSIS_COLUMNS, PLAN_COLUMNS, read_export

KEY = b"test-key"
PROSTATE = "Adenocarcinoma of the prostate, Gleason 3+4=7, PSA 6.8 ng/mL, cT2a N0 M0"


def dx(pid, text=PROSTATE, code="C61", scheme="ICD-10-CM", age=70, sex="Male", stage="IIB", did=None):
    return {"patient_id": pid, "diagnosis_id": did or f"D-{pid}", "icd_code": code, "icd_scheme": scheme,
            "stage": stage, "diagnosis_details": text, "age": age, "sex": sex}


def plan(pid, plan_type="Primary", modality="6X", total=70, fx=28, plan_id="P1", course="C1", intent="Curative"):
    dpf = "" if total == "" or fx == "" else round(total / fx, 4)
    return {"patient_id": pid, "course_id": course, "plan_id": plan_id, "plan_type": plan_type, "modality": modality,
            "intent": intent, "status": "Completed", "n_fields": 2, "n_fractions": fx,
            "dose_per_fraction_gy": dpf, "total_dose_gy": total}


@pytest.fixture
def exports(tmp_path):
    """Write rows to CSV and read them back the way the workflow does; returns (diagnoses, plans)."""
    def make(dx_rows, plan_rows):
        d, p = tmp_path / "diagnoses.csv", tmp_path / "plans.csv"
        pd.DataFrame(dx_rows, columns=DIAGNOSIS_COLUMNS).to_csv(d, index=False)
        pd.DataFrame(plan_rows, columns=PLAN_COLUMNS).to_csv(p, index=False)
        return read_export(d, "diagnoses"), read_export(p, "plans")
    return make
