"""What each comparison is made at: each predictor's temperature and each task's best baseline. The paired
tests, the ranking and the breakdown choose them on the selection pairs (`chosen_settings`, `best_baseline`),
so that the eval cases are used once, for the test; the paper's figures keep the eval scan's best
(`best_temperatures`)."""
from __future__ import annotations

import pandas as pd

from .variants import ORDER as VARIANT_ORDER


def best_baseline(baselines: pd.DataFrame, task: str):
    """The task's baseline with the highest headline (the first by name on a tie), as a row; None if none."""
    options = baselines[baselines["task"] == task].sort_values(["headline", "model"], ascending=[False, True])
    return options.iloc[0] if len(options) else None


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
