"""One-sided Wilcoxon signed-rank tests over the temperature scan, and the paper's Table 1.

The samples are the headline metric at each temperature, paired by temperature: fine-tuned vs
vanilla per task (n = 10) and over all tasks (n = 30) for each model, and model vs model for each
variant. With every difference positive and no ties the exact one-sided p is 2^-n: 1/1024 for
n = 10, the 0.001 of the paper's Table 1.
"""
from __future__ import annotations

import logging
from itertools import combinations

import pandas as pd

from .tasks import ORDER as TASK_ORDER
from .tasks import TASKS

VARIANT_ORDER = ["vanilla", "fewshot", "retrieved", "finetuned"]  # zero-shot, the prompting variants, fine-tuned


def wilcoxon_greater(x, y) -> float:
    """p of the one-sided Wilcoxon signed-rank test that x > y (paired); 1.0 when every pair is tied."""
    from scipy.stats import wilcoxon
    if all(a == b for a, b in zip(x, y)):
        return 1.0
    return float(wilcoxon(x, y, alternative="greater").pvalue)


def paired(summary: pd.DataFrame, keys: dict, other: dict, tasks: list[str]) -> tuple[list, list]:
    """Headline values of two (model, variant) selections over the same tasks and temperatures."""
    def pick(selection):
        rows = summary[summary["task"].isin(tasks)]
        for column, value in selection.items():
            rows = rows[rows[column] == value]
        return rows.set_index(["task", "temperature"])["headline"]
    a, b = pick(keys), pick(other)
    a, b = a.align(b, join="inner")
    return list(a), list(b)


def table1(summary: pd.DataFrame, models: list[str]) -> pd.DataFrame:
    """Per model and task: highest and median headline over temperatures, fine-tuned vs vanilla,
    the one-sided p (fine-tuned > vanilla) and n; an 'overall' row pools the tasks."""
    rows = []
    for model in models:
        tasks = [t for t in TASK_ORDER if t in set(summary["task"])]
        for task in tasks + ["overall"]:
            scope = tasks if task == "overall" else [task]
            ft, van = paired(summary, {"model": model, "variant": "finetuned"},
                             {"model": model, "variant": "vanilla"}, scope)
            row = {"model": model, "task": task, "metric": "" if task == "overall" else TASKS[task].metric}
            if task != "overall":
                row |= {"finetuned_highest": max(ft), "finetuned_median": pd.Series(ft).median(),
                        "vanilla_highest": max(van), "vanilla_median": pd.Series(van).median()}
            row |= {"p_value": wilcoxon_greater(ft, van), "n": len(ft)}
            rows.append(row)
    return pd.DataFrame(rows).round({c: 4 for c in ("finetuned_highest", "finetuned_median", "vanilla_highest",
                                                     "vanilla_median")})


def model_vs_model(summary: pd.DataFrame, models: list[str]) -> pd.DataFrame:
    """Each pair of models, per variant and task (and pooled): one-sided p both ways."""
    rows = []
    tasks = [t for t in TASK_ORDER if t in set(summary["task"])]
    for first, second in combinations(models, 2):
        for variant in ("vanilla", "finetuned"):
            for task in tasks + ["overall"]:
                scope = tasks if task == "overall" else [task]
                a, b = paired(summary, {"model": first, "variant": variant}, {"model": second, "variant": variant},
                              scope)
                rows.append({"model_a": first, "model_b": second, "variant": variant, "task": task,
                             "median_a": pd.Series(a).median(), "median_b": pd.Series(b).median(),
                             "p_a_greater": wilcoxon_greater(a, b), "p_b_greater": wilcoxon_greater(b, a),
                             "n": len(a)})
    return pd.DataFrame(rows)


def best_baseline(baselines: pd.DataFrame, task: str):
    """The task's baseline with the highest headline (the first by name on a tie), as a row; None if none."""
    options = baselines[baselines["task"] == task].sort_values(["headline", "model"], ascending=[False, True])
    return options.iloc[0] if len(options) else None


def best_temperatures(summary: pd.DataFrame, choice) -> pd.DataFrame:
    """The temperature each model/variant/task is shown at in the P/R/F1 and confusion figures:
    the one with the highest headline ('best', the lowest temperature on a tie) or a fixed one."""
    if choice != "best":
        picked = summary[(summary["temperature"] - float(choice)).abs() < 1e-9]
        if picked.empty:
            raise ValueError(f"metrics.report_temperature {choice} is not one of predict.temperatures")
    else:
        ordered = summary.sort_values(["headline", "temperature"], ascending=[False, True])
        picked = ordered.groupby(["model", "variant", "task"], sort=False).head(1)
    order = {v: i for i, v in enumerate(VARIANT_ORDER)}
    return picked.sort_values(["model", "variant", "task"], key=lambda c: c.map(order) if c.name == "variant"
                              else c).reset_index(drop=True)


def ranking(summary: pd.DataFrame, baselines: pd.DataFrame, models: list[str]) -> pd.DataFrame:
    """Per model and task, every variant (zero-shot, the prompting variants, fine-tuned) and the task's
    classical baselines ranked by their highest headline over the temperature scan, with the temperature
    it was reached at, its 95 % bootstrap CI and the median over the scan (a baseline has one value)."""
    rows = []
    tasks = [t for t in TASK_ORDER if t in set(summary["task"])]
    for model in models:
        for task in tasks:
            scan = summary[(summary["model"] == model) & (summary["task"] == task)]
            ranked = []
            for variant, runs in scan.groupby("variant", sort=False):
                top = runs.sort_values(["headline", "temperature"], ascending=[False, True]).iloc[0]
                ranked.append({"predictor": variant, "highest": top["headline"], "temperature": top["temperature"],
                               "ci_low": top["ci_low"], "ci_high": top["ci_high"], "median": runs["headline"].median()})
            for b in baselines[baselines["task"] == task].itertuples():
                ranked.append({"predictor": f"{b.model} baseline", "highest": b.headline, "temperature": None,
                               "ci_low": b.ci_low, "ci_high": b.ci_high, "median": b.headline})
            ranked.sort(key=lambda r: -r["highest"])  # stable: a tie keeps the listed order, and shares its rank
            rows += [{"model": model, "task": task, "metric": TASKS[task].metric,
                      "rank": 1 + sum(o["highest"] > r["highest"] for o in ranked), **r} for r in ranked]
    table = pd.DataFrame(rows, columns=["model", "task", "metric", "rank", "predictor", "highest", "temperature",
                                        "ci_low", "ci_high", "median"])
    return table.round({c: 4 for c in ("highest", "ci_low", "ci_high", "median")})


PROXY_COLUMNS = ["model", "variant", "temperature", "proxy_graded", *[f"proxy_grade_{g}" for g in range(1, 6)],
                 "proxy_grade_1_2", "dose_match", "fractions_match", "modality_match", "median_abs_delta_eqd2"]


def evaluation_tables(summary: pd.DataFrame, models: list[str], report_temperature, load, baselines: pd.DataFrame,
                      load_baseline, curated: pd.DataFrame, bootstrap: dict) -> dict[str, pd.DataFrame]:
    """Every table of rule evaluation_tables, by its output name. `summary`: the metrics of every prediction
    file; `load(model, variant, task, temperature)` and `load_baseline(name, task)` read per-case scores;
    `baselines`: the baselines' summaries; `curated`: the curated cases (for the disease-site groups)."""
    from .breakdown import by_group, case_groups, top_confusions
    from .metrics import prf_and_confusion
    from .paired import paired_table
    shown = best_temperatures(summary, report_temperature)
    prf, confusion = prf_and_confusion(shown, load)
    listed = baselines.rename(columns={"model": "baseline"}).drop(columns=["variant", "temperature"])
    first = ["task", "baseline", "headline", "ci_low", "ci_high", "n", "unparsed"]
    listed = listed[first + [c for c in listed.columns if c not in first]].dropna(axis=1, how="all")
    paired = paired_table(shown, load, models, bootstrap, baselines, load_baseline)
    scored = {(f"{r.model} {r.variant} (T={r.temperature:.1f})", r.task): load(r.model, r.variant, r.task,
                                                                                r.temperature)
              for r in shown.itertuples()}
    best = [best_baseline(baselines, task) for task in TASK_ORDER]  # the one rule for "the task's best baseline"
    scored |= {(f"{b['model']} baseline", b["task"]): load_baseline(b["model"], b["task"])
               for b in best if b is not None}
    groups = case_groups(curated)
    logging.getLogger(__name__).info("tables from %d prediction files of %d models", len(summary), len(models))
    return {"by_temperature": summary, "table1": table1(summary, models),
            "model_vs_model": model_vs_model(summary, models),
            "regimen_proxy": summary.loc[summary["task"] == "regimen", PROXY_COLUMNS],
            "modality_prf": prf["modality"], "icd10_prf": prf["icd10"], "icd10_confusion": confusion,
            "baselines": listed, "ranking": ranking(summary, baselines, models),
            "paired_tests": paired.astype({"a_only": "Int64", "b_only": "Int64"}),
            "by_group": by_group(scored, groups), "top_confusions": top_confusions(scored, groups)}
