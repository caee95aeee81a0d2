"""Where the models fail: the headline metric per disease site, intent and fractionation class, and the
most frequent confusions per site, for every predictor at its chosen temperature (as the paired tests)."""
from __future__ import annotations

import pandas as pd

from .icd10 import icd10_category
from .regimen import fractionation_class
from .tasks import TASKS

GROUPINGS = ("site", "intent", "fractionation class")
GROUP_COLUMNS = ["case_id", "icd10", "intent", "total_dose_gy", "n_fractions"]  # of the curated cases: what it needs


def case_groups(cases: pd.DataFrame) -> pd.DataFrame:
    """Per case: its site (the paper's ICD-10 category of its code; 'no ICD-10 code' for ICD-9 and other
    schemes), its intent and the fractionation class of the physician's primary course."""
    site = [icd10_category(c) if isinstance(c, str) and c else "no ICD-10 code" for c in cases["icd10"]]
    return pd.DataFrame({"case_id": cases["case_id"], "site": site, "intent": cases["intent"].fillna("unknown"),
                         "fractionation class": [fractionation_class(t, int(n)) for t, n in
                                                 zip(cases["total_dose_gy"], cases["n_fractions"])]})


def by_group(scored: dict, groups: pd.DataFrame) -> pd.DataFrame:
    """`scored` maps (predictor, task) to its scored cases (case_id, score): the mean score per group."""
    rows = []
    for (predictor, task), cases in scored.items():
        joined = cases[["case_id", "score"]].merge(groups, on="case_id", validate="one_to_one")
        for grouping in GROUPINGS:
            for group, part in joined.groupby(grouping, sort=True):
                rows.append({"predictor": predictor, "task": task, "grouping": grouping, "group": group,
                             "n": len(part), "headline": float(part["score"].mean())})
    return pd.DataFrame(rows, columns=["predictor", "task", "grouping", "group", "n", "headline"])


def top_confusions(scored: dict, groups: pd.DataFrame, k: int = 3) -> pd.DataFrame:
    """The k most frequent (truth, predicted) errors per site, for the modality and ICD-10 tasks."""
    rows = []
    for (predictor, task), cases in scored.items():
        if not TASKS[task].classifies:
            continue
        wrong = cases[cases["score"] < 1][["case_id", "truth", "predicted"]].merge(groups[["case_id", "site"]],
                                                                                   on="case_id")
        counts = wrong.groupby(["site", "truth", "predicted"]).size().rename("n").reset_index()
        counts = counts.sort_values(["site", "n", "truth", "predicted"], ascending=[True, False, True, True])
        rows.append(counts.groupby("site", sort=False).head(k).assign(predictor=predictor, task=task))
    columns = ["predictor", "task", "site", "truth", "predicted", "n"]
    return pd.concat(rows, ignore_index=True)[columns] if rows else pd.DataFrame(columns=columns)
