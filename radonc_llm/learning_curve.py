"""How many labelled cases fine-tuning needs: the learning curve's table (drawn by `figures.learning_curve`).

Each point is an adapter trained on a nested seeded subset of the train pairs (the run's own adapter is the
last point), scored at one temperature; beside them, the same model prompted (zero-shot, few-shot, retrieved
examples) at that temperature and the task's best classical baseline (the best on the selection pairs), which
need no fine-tuning.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from .choice import best_baseline, planned_baseline
from .variants import ORDER as VARIANT_ORDER
from .variants import TRAINED, temperature_name
from .tasks import ORDER as TASK_ORDER
from .tasks import TASKS

COLUMNS = ["model", "task", "metric", "predictor", "train_pairs", "temperature", "headline", "ci_low", "ci_high"]


def curve_table(adapters: pd.DataFrame, summary: pd.DataFrame, baselines: pd.DataFrame,
                selection_baselines: pd.DataFrame, temperature: float, plan: dict | None = None) -> pd.DataFrame:
    """`adapters`: one summary row per curve adapter (model, task, temperature, headline, ci_low, ci_high) with
    its `train_pairs`, the run's own adapters included; `summary`: the run's metrics by temperature (every
    variant); `baselines`: the baselines' summaries on the eval pairs; `selection_baselines`: on the selection
    pairs, where the task's best is chosen (`plan`: statistics.plan, its pre-specified baseline unless another
    beats it there by the smallest difference of interest). One row per point and reference line, per model and
    task in the run's order."""
    at_t = (summary["temperature"] - temperature).abs() < 1e-9
    rows = []
    for (model, task), points in adapters.groupby(["model", "task"], sort=False):
        metric = TASKS[task].metric
        for r in points.sort_values("train_pairs").itertuples():
            rows.append({"model": model, "task": task, "metric": metric, "predictor": TRAINED,
                         "train_pairs": r.train_pairs, "temperature": temperature, "headline": r.headline,
                         "ci_low": r.ci_low, "ci_high": r.ci_high})
        prompted = summary[at_t & (summary["model"] == model) & (summary["task"] == task)
                           & (summary["variant"] != TRAINED)]
        for r in prompted.sort_values("variant", key=lambda c: c.map(VARIANT_ORDER.index)).itertuples():
            rows.append({"model": model, "task": task, "metric": metric, "predictor": r.variant, "train_pairs": None,
                         "temperature": temperature, "headline": r.headline, "ci_low": r.ci_low,
                         "ci_high": r.ci_high})
        best = best_baseline(selection_baselines, task, *planned_baseline(plan, task))
        if best is not None:
            best = baselines.set_index(["model", "task"]).loc[(best["model"], task)]
            rows.append({"model": model, "task": task, "metric": metric, "predictor": f"{best.name[0]} baseline",
                         "train_pairs": None, "temperature": None, "headline": best["headline"],
                         "ci_low": best["ci_low"], "ci_high": best["ci_high"]})
    table = pd.DataFrame(rows, columns=COLUMNS).astype({"train_pairs": "Int64"})
    order = {t: i for i, t in enumerate(TASK_ORDER)}
    return table.sort_values("task", key=lambda c: c.map(order), kind="stable").reset_index(drop=True)


def adapter_points(adapters: list[tuple[str, str]], temperature: float) -> pd.DataFrame:
    """The `adapters` argument of curve_table: from each adapter's summary file (one row per temperature) and
    model card, the row at `temperature` with the card's count of training pairs."""
    points = pd.concat([pd.read_csv(summary).assign(train_pairs=json.loads(Path(card).read_text())["train_pairs"])
                        for summary, card in adapters], ignore_index=True)
    points = points[(points["temperature"] - temperature).abs() < 1e-9]
    logging.getLogger(__name__).info("learning curve: %d adapters at T=%s", len(points), temperature_name(temperature))
    return points
