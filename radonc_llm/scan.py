"""One-sided Wilcoxon signed-rank tests over the temperature scan, and the paper's Table 1.

The samples are the headline metric at each temperature, paired by temperature: fine-tuned vs
vanilla per task (n = 10) and over all tasks (n = 30) for each model, and model vs model for each
variant. With every difference positive and no ties the exact one-sided p is 2^-n: 1/1024 for
n = 10, the 0.001 of the paper's Table 1.
"""
from __future__ import annotations

from itertools import combinations

import pandas as pd

from .stats import wilcoxon_greater
from .tasks import ORDER as TASK_ORDER
from .tasks import TASKS
from .variants import TRAINED, ZERO_SHOT


def scan_pairs(summary: pd.DataFrame, keys: dict, other: dict, tasks: list[str]) -> tuple[list, list]:
    """Headline values of two (model, variant) selections over the same tasks and temperatures."""
    def pick(selection):
        rows = summary[summary["task"].isin(tasks)]
        for column, value in selection.items():
            rows = rows[rows[column] == value]
        return rows.set_index(["task", "temperature"])["headline"]
    a, b = pick(keys), pick(other)
    a, b = a.align(b, join="inner")
    return list(a), list(b)


def scopes(summary: pd.DataFrame) -> dict[str, list[str]]:
    """What Table 1's rows pool: each task of `summary` alone, in the paper's order, then all of them
    ('overall')."""
    tasks = [t for t in TASK_ORDER if t in set(summary["task"])]
    return {t: [t] for t in tasks} | {"overall": tasks}


def table1(summary: pd.DataFrame, models: list[str]) -> pd.DataFrame:
    """Per model and task: highest and median headline over temperatures, fine-tuned vs vanilla,
    the one-sided p (fine-tuned > vanilla) and n; an 'overall' row pools the tasks."""
    rows = []
    for model in models:
        for name, scope in scopes(summary).items():
            ft, van = scan_pairs(summary, {"model": model, "variant": TRAINED}, {"model": model, "variant": ZERO_SHOT},
                             scope)
            # the overall row pools different metrics over tasks: the paper's descriptive figure, never a headline
            row = {"model": model, "task": name,
                   "metric": TASKS[name].metric if name in TASKS else "pooled over tasks (descriptive only)"}
            if name in TASKS:
                row |= {f"{v}_{stat}": value for v, values in ((TRAINED, ft), (ZERO_SHOT, van))
                        for stat, value in (("highest", max(values)), ("median", pd.Series(values).median()))}
            row |= {"p_value": wilcoxon_greater(ft, van), "n": len(ft)}
            rows.append(row)
    return pd.DataFrame(rows).round({f"{v}_{stat}": 4 for v in (TRAINED, ZERO_SHOT) for stat in ("highest", "median")})


def model_vs_model(summary: pd.DataFrame, models: list[str]) -> pd.DataFrame:
    """Each pair of models, per variant and task (and pooled): one-sided p both ways."""
    rows = []
    for first, second in combinations(models, 2):
        for variant in (ZERO_SHOT, TRAINED):
            for task, scope in scopes(summary).items():
                a, b = scan_pairs(summary, {"model": first, "variant": variant}, {"model": second, "variant": variant},
                              scope)
                rows.append({"model_a": first, "model_b": second, "variant": variant, "task": task,
                             "median_a": pd.Series(a).median(), "median_b": pd.Series(b).median(),
                             "p_a_greater": wilcoxon_greater(a, b), "p_b_greater": wilcoxon_greater(b, a),
                             "n": len(a)})
    return pd.DataFrame(rows)
