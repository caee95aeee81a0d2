"""The curation funnel (the paper's Figure 1) and the "Data cohort" table."""
from __future__ import annotations

import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from .curate import STEP_COLUMNS  # noqa: E402
from .modality import LABELS  # noqa: E402

# The paper's "Data cohort" section, shown beside the curated numbers.
PAPER_COHORT = {
    "cases (tasks 1-2)": 7903, "cases (task 3, ICD-10)": 7177, "age mean": 62, "age min": 1, "age max": 100,
    "male %": 56, "female %": 44, "curative %": 99, "palliative %": 1,
    "photon %": 64, "proton %": 32, "electron %": 3, "brachy %": 1,
}


def funnel(steps: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Insert step 5 (modality standardised, overrides applied) before step 6."""
    n_cases = int(steps.loc[steps["step"] == 4, "remaining"].iloc[0])
    source = labels["source"].value_counts()
    unresolved = int(source.get("unresolved", 0))
    step5 = pd.DataFrame([(5, "modality standardised (task 2 only)", n_cases - unresolved, unresolved,
                           f"mapped by rule: {int(source.get('rule', 0))}; by annotation: "
                           f"{int(source.get('annotation', 0))}; awaiting annotation: {unresolved}")],
                         columns=STEP_COLUMNS)
    return pd.concat([steps[steps["step"] <= 4], step5, steps[steps["step"] > 5]], ignore_index=True)


def cohort_table(cases: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    n = len(cases)
    pct = lambda mask: round(100 * float(mask.sum()) / n, 1) if n else float("nan")  # noqa: E731
    modality = cases["case_id"].map(labels.set_index("case_id")["modality"])
    rows = {
        "cases (tasks 1-2)": n,
        "cases (task 3, ICD-10)": int((cases["icd10_status"] == "valid").sum()),
        "age mean": round(float(cases["age"].mean()), 1),
        "age min": int(cases["age"].min()), "age max": int(cases["age"].max()),
        "male %": pct(cases["sex"] == "male"), "female %": pct(cases["sex"] == "female"),
        "curative %": pct(cases["intent"] == "curative"), "palliative %": pct(cases["intent"] == "palliative"),
        **{f"{m} %": pct(modality == m) for m in LABELS},
        "modality awaiting annotation %": pct(modality.isna()),
    }
    return pd.DataFrame({"characteristic": list(rows), "value": pd.Series(list(rows.values()), dtype=object),
                         "paper": pd.Series([PAPER_COHORT.get(k, "") for k in rows], dtype=object)})


def plot_funnel(table: pd.DataFrame, png: str, pdf: str) -> None:
    """One bar per step with what remains; below it, in grey, what was dropped and why."""
    rows = table.iloc[::-1].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(11, 0.95 * len(rows) + 1.3))
    colors = ["#4c72b0" if s <= 4 else "#55a868" for s in rows["step"]]
    ax.barh(rows.index, rows["remaining"], height=0.45, color=colors)
    top = float(table["remaining"].max())
    for i, r in rows.iterrows():
        ax.text(r["remaining"] + top * 0.01, i, f"{r['remaining']:,}", va="center", fontsize=10, fontweight="bold")
        note = (f"dropped {r['dropped']:,}: " if r["dropped"] else "") + str(r["why"]).replace("; ", " \u00b7 ")
        if note.strip():
            ax.text(0, i - 0.42, textwrap.fill(note, 110), va="center", fontsize=7.5, color="#444444")
    ax.set_yticks(rows.index, [f"{s}. {d}" for s, d in zip(rows["step"], rows["description"])])
    ax.set_ylim(-0.8, len(rows) - 0.5)
    ax.set_xlim(0, top * 1.12)
    ax.set_xlabel("patients (steps 0-2) / cases (steps 3-6) remaining")
    ax.set_title("Curation funnel (blue: every task; green: the modality or the ICD-10 task only)", fontsize=11)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    fig.savefig(png, dpi=150, metadata={"Software": None})
    fig.savefig(pdf, metadata={"CreationDate": None, "Producer": None, "Creator": None})
    plt.close(fig)
