"""Curation of the two raw exports into one row per case, each step counted (the paper's Figure 1).

Steps 1-4 and 6 happen here; step 5's manual part (modality overrides) happens in
`modality_labels` so that editing an override re-runs only the modality task.
"""
from __future__ import annotations

import logging
import re

import pandas as pd

from .icd10 import is_icd10_scheme, normalise_icd10
from .modality import standardise_modality
from .pseudonym import pseudonymise
from .regimen import WINDOW, Window, plausible
from .text import clean_text, separate_plan

log = logging.getLogger(__name__)

STEP_COLUMNS = ("step", "description", "remaining", "dropped", "why")
DROP_REASONS = {
    "several_diagnoses": "several diagnosis records",
    "no_diagnosis": "no diagnosis record",
    "implausible_age": "age outside 0-120",
    "unknown_sex": "unknown sex code",
    "alternative_primary": "alternative primary plan",
    "no_primary": "no primary plan",
    "several_primaries": "several primary plans",
    "primary_without_dose": "primary plan without dose or fraction count",
    "dose_not_positive": "dose or fraction count not above zero",
    "dose_in_cgy": "total dose looks like cGy in the Gy column",
    "dose_per_fraction_mismatch": "dose per fraction disagrees with total / fractions",
    "dose_outside_window": "dose per fraction, fraction count or total outside the clinical window",
    "empty_diagnosis": "no diagnosis text left once the plan was separated",
}


def plan_kind(plan_type: str) -> str:
    """'primary', 'alternative', 'boost' or 'other'; compared without regard to case or spacing."""
    t = re.sub(r"[^a-z]+", " ", str(plan_type).lower()).strip()
    if t == "primary":
        return "primary"
    if re.fullmatch(r"(alternative|alternate|alt) primary", t):
        return "alternative"
    if t == "boost":
        return "boost"
    return "other"


def format_dose(gy: float) -> str:
    """25 -> '25.0', 40.05 -> '40.05' (the form of Aria's prescription summary)."""
    s = f"{gy:.2f}".rstrip("0")
    return s + "0" if s.endswith(".") else s


def prescription_summary(kind: str, modality_raw: str, total: float, fractions: float, synonyms: dict) -> str:
    label = standardise_modality(modality_raw, synonyms) or str(modality_raw).strip().lower()
    return f"{kind}, {label}, {format_dose(total)}Gy, fractions:{int(fractions)}"


SEX_CODES = {"m": "male", "male": "male", "f": "female", "female": "female", "u": "unknown", "unknown": "unknown",
             "": "unknown", "o": "other", "other": "other", "x": "other"}


def implausible_plan(total: float, fractions: float, per_fraction: float, modality: str | None,
                     window: Window = WINDOW) -> str | None:
    """Why a plan's dose cannot be a real course (a DROP_REASONS key), or None. The window (`curation.window`)
    is by default the regimen parser's (1-70 fractions, 0.5-25 Gy per fraction, 34 Gy single, <= 100 Gy);
    brachytherapy may give up to the single-fraction maximum per fraction, and an LDR implant recorded as one
    fraction the implant range (20-200 Gy)."""
    if not total > 0 or not fractions > 0:
        return "dose_not_positive"
    if fractions != int(fractions):
        return "dose_outside_window"
    fractions = int(fractions)
    brachy_ok = modality == "brachy" and (total / fractions <= window.max_single_fraction
                                          or (fractions == 1 and window.implant_min <= total <= window.implant_max))
    if total > window.max_total and not brachy_ok and plausible(total / 100, fractions, window):
        return "dose_in_cgy"
    if per_fraction == per_fraction and abs(per_fraction - total / fractions) > 0.02 * total / fractions + 0.01:
        return "dose_per_fraction_mismatch"
    return None if plausible(total, fractions, window) or brachy_ok else "dose_outside_window"


def _why(counts: dict) -> str:
    return "; ".join(f"{DROP_REASONS.get(k, k)}: {v}" for k, v in counts.items() if v)


def curate(diagnoses: pd.DataFrame, plans: pd.DataFrame, key: bytes,
           text_separations: pd.DataFrame | None = None, modality_synonyms: dict | None = None,
           duplicates: dict | None = None, blank_rows: dict | None = None, window: dict | None = None,
           lines_before_header: dict | None = None):
    """Return (cases, steps): one row per curated case and the funnel rows of steps 0-4 and 6.
    `duplicates` counts the identical records collapsed on reading ({'diagnoses': n, 'plans': m}),
    `blank_rows` the entirely blank rows skipped, `lines_before_header` the comment, blank and title lines skipped
    above each export's header; `window` the clinical window of a plausible course
    (`curation.window`; default: the regimen parser's). Each step keeps some patients and says why it dropped
    the others in its funnel row."""
    synonyms = modality_synonyms or {}
    window = Window(**window) if window else WINDOW
    patients = pd.Index(diagnoses["patient_id"].unique()).union(pd.Index(plans["patient_id"].unique()))
    notes = [f"identical duplicate {k} records collapsed: {v}" for k, v in (duplicates or {}).items() if v]
    notes += [f"blank {k} rows skipped: {v}" for k, v in (blank_rows or {}).items() if v]
    notes += [f"{k} lines before the header skipped: {v}" for k, v in (lines_before_header or {}).items() if v]
    steps = [(0, "patients extracted", len(patients), 0, "; ".join(notes))]
    kept, step = one_diagnosis(diagnoses, patients)
    steps.append(step)
    kept, plans, primaries, step = one_primary(plans, kept, synonyms, window)
    steps.append(step)
    dx = diagnoses.set_index("patient_id").loc[kept]
    cases, step = separated(dx, pseudonymise(pd.Series(kept, index=kept), key), text_separations)
    steps.append(step)
    cases, step = cleaned(cases)
    steps.append(step)
    boosts = (plans[(plans["kind"] == "boost") & plans["patient_id"].isin(cases.index)]
              .sort_values(["patient_id", "course_id", "plan_id"]))
    cases = with_answers(cases, primaries.loc[cases.index], boosts, dx.loc[cases.index], synonyms)
    cases, step = with_icd10(cases, dx.loc[cases.index])
    steps.append(step)
    cases = cases.sort_values("case_id").reset_index(drop=True)
    log.info("curated %d cases from %d patients", len(cases), len(patients))
    for step, description, remaining, dropped, _ in steps:
        log.info("step %s %s: %d remaining, %d dropped", step, description, remaining, dropped)
    return cases, pd.DataFrame(steps, columns=STEP_COLUMNS)


def one_diagnosis(diagnoses: pd.DataFrame, patients: pd.Index) -> tuple[pd.Index, tuple]:
    """Step 1: exactly one diagnosis record, with a plausible age and a known sex code."""
    n_records = diagnoses["patient_id"].value_counts().reindex(patients, fill_value=0)
    fate = pd.Series("kept", index=patients)
    fate[n_records > 1] = "several_diagnoses"
    fate[n_records == 0] = "no_diagnosis"
    single = diagnoses[diagnoses["patient_id"].isin(fate.index[fate == "kept"])].set_index("patient_id")
    age_bad = single.index[(single["age"] < 0) | (single["age"] > 120)]
    sex_bad = single.index[~single["sex"].str.lower().isin(SEX_CODES)]
    fate[age_bad] = "implausible_age"
    fate[sex_bad.difference(age_bad)] = "unknown_sex"
    drops = {k: int((fate == k).sum()) for k in ("several_diagnoses", "no_diagnosis", "implausible_age",
                                                  "unknown_sex")}
    kept = fate.index[fate == "kept"]
    return kept, (1, "exactly one diagnosis record", len(kept), sum(drops.values()), _why(drops))


def one_primary(plans: pd.DataFrame, kept: pd.Index, synonyms: dict,
                window: Window) -> tuple[pd.Index, pd.DataFrame, pd.DataFrame, tuple]:
    """Step 2: exactly one clearly identifiable primary plan, no alternative primary, and no dose that cannot be
    real (<= 0, cGy in the Gy column, outside the window) in the primary or a boost: never trained on. Returns the
    kept patients, their plans (with their `kind`), the primary plans by patient and the funnel row."""
    plans = plans[plans["patient_id"].isin(kept)].copy()
    plans["kind"] = plans["plan_type"].map(plan_kind)
    n_primary = (plans["kind"] == "primary").groupby(plans["patient_id"]).sum().reindex(kept, fill_value=0)
    has_alt = (plans["kind"] == "alternative").groupby(plans["patient_id"]).any().reindex(kept, fill_value=False)
    primaries = plans[plans["kind"] == "primary"].set_index("patient_id")
    fate = pd.Series("kept", index=kept)
    fate[n_primary == 0] = "no_primary"
    fate[n_primary > 1] = "several_primaries"
    fate[has_alt] = "alternative_primary"
    p = primaries.loc[fate.index[fate == "kept"]]
    fate[p.index[p["total_dose_gy"].isna() | p["n_fractions"].isna()]] = "primary_without_dose"
    courses = plans[plans["kind"].isin(["primary", "boost"]) & plans["patient_id"].isin(fate.index[fate == "kept"])]
    problems = pd.Series([implausible_plan(t, n, d, standardise_modality(m, synonyms), window) for t, n, d, m in
                          zip(courses["total_dose_gy"], courses["n_fractions"], courses["dose_per_fraction_gy"],
                              courses["modality"])], index=courses["patient_id"], dtype=object).dropna()
    problems = problems[~problems.index.duplicated()]
    fate[problems.index] = problems.values
    drops = {k: int((fate == k).sum()) for k in ("alternative_primary", "no_primary", "several_primaries",
                                                  "primary_without_dose", "dose_not_positive", "dose_in_cgy",
                                                  "dose_per_fraction_mismatch", "dose_outside_window")}
    kept = fate.index[fate == "kept"]
    return kept, plans, primaries, (2, "exactly one primary plan (boosts kept)", len(kept), sum(drops.values()),
                                    _why(drops))


def separated(dx: pd.DataFrame, case_ids: pd.Series, text_separations: pd.DataFrame | None) -> tuple:
    """Step 3: the plan written into the diagnosis text separated from it (manual separations override); a
    diagnosis left empty drops its case. Returns the cases (case_id, diagnosis, plan_summary, separation) by
    patient, the diagnosis text still uncleaned, and the funnel row."""
    split = [separate_plan(t) for t in dx["diagnosis_details"]]
    cases = pd.DataFrame({"case_id": case_ids.values, "diagnosis": [s[0] for s in split],
                          "plan_summary": [s[1] for s in split], "separation": [s[2] for s in split]}, index=dx.index)
    if text_separations is not None and len(text_separations):
        manual = text_separations.set_index("case_id")
        hit = cases["case_id"].isin(manual.index)
        cases.loc[hit, "diagnosis"] = manual.loc[cases.loc[hit, "case_id"], "diagnosis"].values
        cases.loc[hit, "plan_summary"] = manual.loc[cases.loc[hit, "case_id"], "plan_summary"].values
        cases.loc[hit, "separation"] = "annotation"
        unknown = int((~manual.index.isin(cases["case_id"])).sum())
        if unknown:
            log.warning("%d text separation row(s) name no curated case", unknown)
    empty = cases["diagnosis"].map(clean_text).str.len() == 0  # nothing left once cleaned (step 4)
    by_how = cases["separation"].value_counts()
    why = [f"plan found by {h}: {int(by_how.get(h, 0))}" for h in ("keyword", "pattern", "annotation")]
    why += [f"no plan text: {int(by_how.get('none', 0))}"]
    why += [f"{DROP_REASONS['empty_diagnosis']}: {int(empty.sum())}"] if empty.any() else []
    return cases, (3, "plan information separated from the diagnosis text", int((~empty).sum()), int(empty.sum()),
                   "; ".join(why))


def cleaned(cases: pd.DataFrame) -> tuple[pd.DataFrame, tuple]:
    """Step 4: unusual punctuation and clinician initials removed; the cases whose diagnosis is then empty
    (counted in step 3) dropped."""
    diagnosis = cases["diagnosis"].map(clean_text)
    n_changed = int((diagnosis != cases["diagnosis"]).sum())
    cases = cases.assign(diagnosis=diagnosis, plan_summary=cases["plan_summary"].map(clean_text))
    cases = cases[cases["diagnosis"].str.len() > 0]
    return cases, (4, "unusual punctuation and initials removed", len(cases), 0,
                   f"diagnosis texts changed: {n_changed}")


def with_answers(cases: pd.DataFrame, primary: pd.DataFrame, boosts: pd.DataFrame, dx: pd.DataFrame,
                 synonyms: dict) -> pd.DataFrame:
    """The answers (the regimen: the plan summary and the delivered prescription) and the cohort fields of the
    kept cases; step 5, the modality by rule (overrides come later, in rule modality_labels)."""
    kept = cases.index
    delivered = pd.Series([prescription_summary("primary", m, t, f, synonyms) for m, t, f in
                           zip(primary["modality"], primary["total_dose_gy"], primary["n_fractions"])], index=kept)
    boost_text = pd.Series([prescription_summary("boost", m, t, f, synonyms) for m, t, f in
                            zip(boosts["modality"], boosts["total_dose_gy"], boosts["n_fractions"])],
                           index=boosts["patient_id"], dtype=str)
    boost_text = boost_text.groupby(level=0).agg(". ".join).reindex(kept)
    delivered = delivered + boost_text.map(lambda b: f". {b}" if isinstance(b, str) else "")
    cases = cases.copy()
    cases["prescription"] = delivered
    cases["regimen"] = [f"{p}. {d}" if p else d for p, d in zip(cases["plan_summary"], delivered)]
    cases["n_boosts"] = boosts.groupby("patient_id").size().reindex(kept, fill_value=0).astype(int)
    cases["total_dose_gy"] = primary["total_dose_gy"].astype(float)
    cases["n_fractions"] = primary["n_fractions"].astype(int)
    dpf = primary["dose_per_fraction_gy"].fillna(primary["total_dose_gy"] / primary["n_fractions"])
    cases["dose_per_fraction_gy"] = dpf.astype(float).round(4)
    cases["intent"] = primary["intent"].str.lower()
    cases["age"] = dx["age"].astype(float)
    cases["sex"] = dx["sex"].str.lower().map(SEX_CODES)
    cases["stage"] = dx["stage"]
    cases["modality_raw"] = primary["modality"]
    cases["modality_mapped"] = primary["modality"].map(lambda v: standardise_modality(v, synonyms))
    return cases


def with_icd10(cases: pd.DataFrame, dx: pd.DataFrame) -> tuple[pd.DataFrame, tuple]:
    """Step 6: the ICD-10 code where the record's scheme is ICD-10 and the code valid; only task 3 needs it, so
    no case is dropped here, only counted."""
    cases = cases.copy()
    cases["icd_scheme"] = dx["icd_scheme"]
    icd10 = [normalise_icd10(c) if is_icd10_scheme(s) else None for c, s in zip(dx["icd_code"], dx["icd_scheme"])]
    cases["icd10"] = icd10
    status = ["valid" if c else ("invalid" if is_icd10_scheme(s) else "not ICD-10") for c, s in
              zip(icd10, dx["icd_scheme"])]
    cases["icd10_status"] = status
    n_valid = sum(s == "valid" for s in status)
    drops = {"ICD-9 or other scheme": sum(s == "not ICD-10" for s in status),
             "invalid ICD-10 code": sum(s == "invalid" for s in status)}
    return cases, (6, "valid ICD-10 code (task 3 only)", n_valid, len(cases) - n_valid, _why(drops))
