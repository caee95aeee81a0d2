"""What each comparison is made at: each predictor's temperature and each task's best baseline. The paired
tests, the ranking and the breakdown choose them on the selection pairs (`chosen_settings`, `best_baseline`),
so that the eval cases are used once, for the test; the paper's figures keep the eval scan's best
(`best_temperatures`)."""
from __future__ import annotations

import pandas as pd

from .variants import ORDER as VARIANT_ORDER


def comparator(candidates: pd.DataFrame, name: str, prespecified: str | None, min_difference: float) -> tuple[str, str]:
    """The competitor a comparison is made against, from `candidates` (one row each, its `name` column and its
    `headline` on the selection pairs): the pre-specified one, unless another beats it there by at least
    `min_difference` (then the highest; the first listed on a tie). Returns (the name, how it was chosen): a
    near-tie on a few selection pairs never picks a competitor by noise."""
    ranked = candidates.reset_index(drop=True)
    ranked = ranked.assign(order=range(len(ranked))).sort_values(["headline", "order"], ascending=[False, True])
    best = ranked.iloc[0]
    if prespecified not in set(candidates[name]):
        return best[name], "best on the selection pairs"
    planned = candidates.loc[candidates[name] == prespecified, "headline"].iloc[0]
    if best["headline"] - planned >= min_difference and best[name] != prespecified:
        return best[name], f"best on the selection pairs by {best['headline'] - planned:.3f} over {prespecified}"
    return prespecified, f"pre-specified (none better by {min_difference:g} on the selection pairs)"


def planned_baseline(plan: dict | None, task: str) -> tuple[str | None, float]:
    """The plan's (statistics.plan) pre-specified baseline of `task` and its smallest difference of interest."""
    if not plan:
        return None, 0.0
    return plan["comparators"]["baselines"].get(task), plan["min_difference"].get(task, 0.0)


def best_baseline(baselines: pd.DataFrame, task: str, prespecified: str | None = None, min_difference: float = 0.0):
    """The task's baseline to compare against (`comparator`; without a pre-specified one, the highest headline on
    `baselines`, the first by name on a tie), as its row with `how` it was chosen; None if the task has none."""
    options = baselines[baselines["task"] == task].sort_values("model")
    if options.empty:
        return None
    name, how = comparator(options, "model", prespecified, min_difference)
    row = options[options["model"] == name].iloc[0].copy()
    row["how"] = how
    return row


def best_temperatures(summary: pd.DataFrame, choice, setting: str = "metrics.report_temperature") -> pd.DataFrame:
    """One row of `summary` per model/variant/task: the temperature with the highest headline ('best', the lowest
    temperature on a tie) or a fixed one (`setting`: the config key that asked for it)."""
    if choice != "best":
        picked = summary[(summary["temperature"] - float(choice)).abs() < 1e-9]
        if picked.empty:
            raise ValueError(f"{setting} {choice} is not one of predict.temperatures")
    else:
        ordered = summary.sort_values(["headline", "temperature"], ascending=[False, True])
        picked = ordered.groupby(["model", "variant", "task"], sort=False).head(1)
    order = {v: i for i, v in enumerate(VARIANT_ORDER)}
    return picked.sort_values(["model", "variant", "task"], key=lambda c: c.map(order) if c.name == "variant"
                              else c).reset_index(drop=True)


def chosen_settings(selection: pd.DataFrame, choice) -> pd.DataFrame:
    """The temperature each model/variant/task is compared at beyond the paper, chosen without the eval cases:
    the highest headline on the selection pairs (`statistics.temperature: validation`; the lowest temperature on
    a tie) or the pre-registered one (a number). One row per model, variant and task: its selection summary at
    that temperature, and `chosen_on`, which says how the row's temperature and any "best" competitor were
    chosen."""
    validation = choice == "validation"
    picked = best_temperatures(selection, "best" if validation else choice, "statistics.temperature")
    return picked.assign(chosen_on=[f"{n} selection pairs" if validation else
                                    f"T pre-registered; best on {n} selection pairs" for n in picked["n"]])


def at_chosen(summary: pd.DataFrame, chosen: pd.DataFrame) -> pd.DataFrame:
    """The rows of `summary` (eval metrics) at the chosen temperatures, with the selection headline beside
    them and how each was chosen."""
    keys = ["model", "variant", "task", "temperature"]
    picked = chosen[keys + ["headline", "chosen_on"]].rename(columns={"headline": "selection_headline"})
    merged = picked.merge(summary, on=keys, how="left", validate="one_to_one")
    return merged[list(summary.columns) + ["selection_headline", "chosen_on"]]
