"""How many labelled cases fine-tuning needs: the learning curve's table (drawn by `figures.learning_curve`).

At each size the curve has one set of labelled pairs (a nested seeded subset of the train pairs; the run's own
adapter's training pairs are the last point), and every method learns from exactly those: an adapter trained on
them, the prompting variants drawing their solved cases from them, the task's best classical baseline (the best
on the selection pairs) fitted on them. All are scored on the eval pairs at one temperature, so where two curves
cross is where one method starts to beat the other at the same labelled data. Beside them, reference lines: the
base model zero-shot (it learns from no pairs) and the best baseline fitted on every train pair.
"""
from __future__ import annotations

import logging

import pandas as pd

from .choice import best_baseline, planned_baseline
from .paired import ALL_PAIRS
from .tasks import ORDER as TASK_ORDER
from .tasks import TASKS
from .variants import ORDER as VARIANT_ORDER
from .variants import ZERO_SHOT, temperature_name

COLUMNS = ["model", "task", "metric", "predictor", "train_pairs", "temperature", "headline", "ci_low", "ci_high"]


def curve_points(summaries: list[tuple[pd.DataFrame, int]], temperature: float) -> pd.DataFrame:
    """The curve's points: from each (summary, the labelled pairs it learned from) — a variant's metrics by
    temperature, or a baseline's one row — the row at `temperature` (a baseline's whatever it is), with
    `train_pairs`."""
    rows = []
    for summary, pairs in summaries:
        at_t = summary[(summary["variant"] == "baseline") | ((summary["temperature"] - temperature).abs() < 1e-9)]
        rows.append(at_t.assign(train_pairs=pairs))
    points = pd.concat(rows, ignore_index=True)
    logging.getLogger(__name__).info("learning curve: %d points at T=%s", len(points), temperature_name(temperature))
    return points


def curve_table(points: pd.DataFrame, summary: pd.DataFrame, selection_baselines: pd.DataFrame,
                temperature: float, plan: dict | None = None,
                all_pairs_baselines: pd.DataFrame | None = None) -> pd.DataFrame:
    """`points` (`curve_points`): per size, the fine-tuned adapters' and the prompting variants' summaries (model,
    variant, task) and the baselines' (model: the baseline, variant: baseline), with their `train_pairs`, the
    run's own included; `summary`: the run's metrics by temperature (zero-shot's reference line);
    `selection_baselines`: the baselines on the selection pairs, where the task's best is chosen (`plan`:
    statistics.plan, its pre-specified baseline unless another beats it there by the smallest difference of
    interest); `all_pairs_baselines`: the baselines fitted on every train pair, with their `train_pairs` (a
    reference line). One row per point and reference line, per model and task in the run's order."""
    def row(model, task, predictor, r, pairs, at):
        return {"model": model, "task": task, "metric": TASKS[task].metric, "predictor": predictor,
                "train_pairs": pairs, "temperature": at, "headline": r.headline, "ci_low": r.ci_low,
                "ci_high": r.ci_high}

    learners = points[points["variant"] != "baseline"]
    at_t = (summary["temperature"] - temperature).abs() < 1e-9
    rows = []
    for (model, task), curves in learners.groupby(["model", "task"], sort=False):
        for variant in sorted(set(curves["variant"]), key=VARIANT_ORDER.index, reverse=True):  # fine-tuned first
            for r in curves[curves["variant"] == variant].sort_values("train_pairs").itertuples():
                rows.append(row(model, task, variant, r, r.train_pairs, temperature))
        best = best_baseline(selection_baselines, task, *planned_baseline(plan, task))
        if best is not None:
            fitted = points[(points["model"] == best["model"]) & (points["task"] == task)]
            for r in fitted.sort_values("train_pairs").itertuples():
                rows.append(row(model, task, f"{best['model']} baseline", r, r.train_pairs, None))
        for r in summary[at_t & (summary["model"] == model) & (summary["task"] == task)
                         & (summary["variant"] == ZERO_SHOT)].itertuples():
            rows.append(row(model, task, ZERO_SHOT, r, None, temperature))
        if best is not None and all_pairs_baselines is not None:
            for r in all_pairs_baselines[(all_pairs_baselines["model"] == best["model"])
                                         & (all_pairs_baselines["task"] == task)].itertuples():
                rows.append(row(model, task, f"{best['model']} baseline ({ALL_PAIRS})", r, r.train_pairs, None))
    table = pd.DataFrame(rows, columns=COLUMNS).astype({"train_pairs": "Int64"})
    order = {t: i for i, t in enumerate(TASK_ORDER)}
    return table.sort_values("task", key=lambda c: c.map(order), kind="stable").reset_index(drop=True)
