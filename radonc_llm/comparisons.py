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


def ranking(summary: pd.DataFrame, chosen: pd.DataFrame, baselines: pd.DataFrame, selection_baselines: pd.DataFrame,
            models: list[str]) -> pd.DataFrame:
    """Per model and task, every variant (zero-shot, the prompting variants, fine-tuned) at its chosen temperature
    (`chosen`: `chosen_settings`) and the task's classical baselines, ranked by their headline on the eval cases,
    with its 95 % bootstrap CI, the headline on the selection pairs where the temperature was chosen, and, for
    reference, the highest over the eval scan with its temperature (the paper's optimistic definition) and the
    median over the scan (a baseline has one value, no temperature)."""
    evaluated = at_chosen(summary, chosen)
    highest = best_temperatures(summary, "best").set_index(["model", "variant", "task"])  # the eval scan's best
    on_selection = selection_baselines.set_index(["model", "task"])["headline"]
    rows = []
    tasks = [t for t in TASK_ORDER if t in set(summary["task"])]
    for model in models:
        for task in tasks:
            scan = summary[(summary["model"] == model) & (summary["task"] == task)]
            ranked = []
            for r in evaluated[(evaluated["model"] == model) & (evaluated["task"] == task)].itertuples():
                runs, top = scan[scan["variant"] == r.variant], highest.loc[(model, r.variant, task)]
                ranked.append({"predictor": r.variant, "temperature": r.temperature, "headline": r.headline,
                               "ci_low": r.ci_low, "ci_high": r.ci_high, "selection_headline": r.selection_headline,
                               "chosen_on": r.chosen_on, "highest_over_scan": top["headline"],
                               "highest_temperature": top["temperature"], "median": runs["headline"].median()})
            for b in baselines[baselines["task"] == task].itertuples():
                ranked.append({"predictor": f"{b.model} baseline", "temperature": None, "headline": b.headline,
                               "ci_low": b.ci_low, "ci_high": b.ci_high,
                               "selection_headline": on_selection.get((b.model, task)), "chosen_on": None,
                               "highest_over_scan": b.headline, "highest_temperature": None, "median": b.headline})
            ranked.sort(key=lambda r: -r["headline"])  # stable: a tie keeps the listed order, and shares its rank
            rows += [{"model": model, "task": task, "metric": TASKS[task].metric,
                      "rank": 1 + sum(o["headline"] > r["headline"] for o in ranked), **r} for r in ranked]
    table = pd.DataFrame(rows, columns=["model", "task", "metric", "rank", "predictor", "temperature", "headline",
                                        "ci_low", "ci_high", "selection_headline", "chosen_on", "highest_over_scan",
                                        "highest_temperature", "median"])
    return table.round({c: 4 for c in ("headline", "ci_low", "ci_high", "selection_headline", "highest_over_scan",
                                       "median")})


PROXY_COLUMNS = ["model", "variant", "temperature", "proxy_graded", *[f"proxy_grade_{g}" for g in range(1, 6)],
                 "proxy_grade_1_2", "dose_match", "fractions_match", "modality_match", "median_abs_delta_eqd2"]


def evaluation_tables(summary: pd.DataFrame, models: list[str], report_temperature, load, baselines: pd.DataFrame,
                      load_baseline, curated: pd.DataFrame, bootstrap: dict, selection: pd.DataFrame,
                      selection_baselines: pd.DataFrame, statistics_temperature) -> dict[str, pd.DataFrame]:
    """Every table of rule evaluation_tables, by its output name. `summary`: the metrics of every prediction
    file; `load(model, variant, task, temperature)` and `load_baseline(name, task)` read per-case scores;
    `baselines`: the baselines' summaries; `curated`: the curated cases (for the disease-site groups);
    `selection`, `selection_baselines`: the same summaries on the selection pairs, where the paired tests, the
    ranking and the breakdown choose their temperatures (`statistics_temperature`) and best competitors. The
    paper's Table 1 and figures keep the paper's highest over the eval scan."""
    from .breakdown import by_group, case_groups, top_confusions
    from .metrics import prf_and_confusion
    from .paired import paired_table
    prf, confusion = prf_and_confusion(best_temperatures(summary, report_temperature), load)
    listed = baselines.rename(columns={"model": "baseline"}).drop(columns=["variant", "temperature"])
    first = ["task", "baseline", "headline", "ci_low", "ci_high", "n", "unparsed"]
    listed = listed[first + [c for c in listed.columns if c not in first]].dropna(axis=1, how="all")
    chosen = chosen_settings(selection, statistics_temperature)
    best = {task: best_baseline(selection_baselines, task) for task in TASK_ORDER}  # the one "best baseline"
    best = {task: b["model"] for task, b in best.items() if b is not None}
    paired = paired_table(chosen, load, models, bootstrap, best, load_baseline)
    scored = {(f"{r.model} {r.variant} (T={r.temperature:.1f})", r.task): load(r.model, r.variant, r.task,
                                                                                r.temperature)
              for r in chosen.itertuples()}
    scored |= {(f"{name} baseline", task): load_baseline(name, task) for task, name in best.items()}
    groups = case_groups(curated)
    logging.getLogger(__name__).info("tables from %d prediction files of %d models; %s", len(summary), len(models),
                                     "temperatures chosen on the selection pairs" if statistics_temperature ==
                                     "validation" else f"temperature {statistics_temperature} pre-registered")
    return {"by_temperature": summary, "table1": table1(summary, models),
            "model_vs_model": model_vs_model(summary, models),
            "regimen_proxy": summary.loc[summary["task"] == "regimen", PROXY_COLUMNS],
            "modality_prf": prf["modality"], "icd10_prf": prf["icd10"], "icd10_confusion": confusion,
            "baselines": listed, "ranking": ranking(summary, chosen, baselines, selection_baselines, models),
            "paired_tests": paired.astype({"a_only": "Int64", "b_only": "Int64"}),
            "by_group": by_group(scored, groups), "top_confusions": top_confusions(scored, groups)}
