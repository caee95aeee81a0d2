"""The embedded default cohort: deterministic, messy like the real exports, and curated to the paper's funnel."""
from pathlib import Path

import pandas as pd
import pytest
import yaml

from radonc_llm.cohort import PAPER_COHORT, cohort_table, funnel
from radonc_llm.curate import curate
from radonc_llm.pairs import resolve_modality
from radonc_llm.synthetic import generate_cohort, write_cohort
from radonc_llm.tables import read_export

CONFIG = yaml.safe_load((Path(__file__).parents[1] / "config" / "config.yaml").read_text())
NO_OVERRIDES = pd.DataFrame({"case_id": pd.Series(dtype=str), "modality": pd.Series(dtype=str)})


@pytest.fixture(scope="module")
def default_cohort(tmp_path_factory):
    d = tmp_path_factory.mktemp("synthetic")
    size, seed = CONFIG["synthetic"]["n_patients"], CONFIG["synthetic"]["seed"]
    write_cohort(size, seed, d / "diagnoses.csv", d / "plans.csv")
    diagnoses, plans = read_export(d / "diagnoses.csv", "diagnoses"), read_export(d / "plans.csv", "plans")
    cases, steps = curate(diagnoses, plans, b"k")
    labels, _ = resolve_modality(cases, NO_OVERRIDES)
    return diagnoses, plans, cases, funnel(steps, labels), cohort_table(cases, labels).set_index("characteristic")


@pytest.mark.slow
def test_default_funnel_within_two_percent_of_the_paper(default_cohort):
    *_, steps, table = default_cohort
    assert steps.loc[steps["step"] == 0, "remaining"].iloc[0] == 15724
    for name in ("cases (tasks 1-2)", "cases (task 3, ICD-10)"):
        assert abs(table.loc[name, "value"] / PAPER_COHORT[name] - 1) <= 0.02, name


@pytest.mark.slow
def test_default_cohort_mix_within_two_points_of_the_paper(default_cohort):
    *_, table = default_cohort
    for name in ("photon %", "proton %", "electron %", "brachy %", "male %", "curative %", "age mean"):
        assert abs(table.loc[name, "value"] - PAPER_COHORT[name]) <= 2, name
    assert (table.loc["age min", "value"], table.loc["age max", "value"]) == (1, 100)


@pytest.mark.slow
def test_default_cohort_carries_the_mess_curation_must_clean(default_cohort):
    diagnoses, plans, cases, steps, _ = default_cohort
    assert diagnoses["patient_id"].duplicated().sum() > 1000
    assert plans["plan_type"].str.lower().eq("alternative primary").sum() > 1000
    assert plans["plan_type"].str.lower().eq("boost").sum() > 100
    assert set(plans["plan_type"]) >= {"Primary", "PRIMARY", "primary"}
    assert (diagnoses["icd_scheme"] == "ICD-9-CM").sum() > 500
    text = diagnoses["diagnosis_details"]
    assert text.str.contains(r"\bplan\b", case=False).sum() > 3000
    assert text.str.contains(r"\bIMPT, \d+ fractions, [\d.]+ Gy").sum() > 20  # the paper's example form
    assert text.str.contains(r" (?:-[A-Z]{2}|/[a-z]{2,3})$").sum() > 1000  # clinician initials
    assert (cases["separation"] == "pattern").sum() > 1000
    assert steps.loc[steps["step"] == 5, "dropped"].iloc[0] > 0  # unmappable modality values
    assert (cases["n_boosts"] > 0).sum() > 100


def test_generation_is_deterministic_and_seeded(tmp_path):
    write_cohort(300, 5, tmp_path / "d1.csv", tmp_path / "p1.csv")
    write_cohort(300, 5, tmp_path / "d2.csv", tmp_path / "p2.csv")
    assert (tmp_path / "d1.csv").read_bytes() == (tmp_path / "d2.csv").read_bytes()
    assert (tmp_path / "p1.csv").read_bytes() == (tmp_path / "p2.csv").read_bytes()
    other, _ = generate_cohort(300, 6)
    assert not other.equals(pd.read_csv(tmp_path / "d1.csv", keep_default_na=False))


def test_synthetic_icd10_codes_are_valid_for_the_catalogue():
    from radonc_llm.catalogue import SITES
    from radonc_llm.icd10 import normalise_icd10
    codes = {c for s in SITES for sub in s.subtypes for c in sub.icd10}
    assert all(normalise_icd10(c) == c for c in codes), [c for c in codes if normalise_icd10(c) != c]
