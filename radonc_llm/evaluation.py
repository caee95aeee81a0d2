"""The tables of rule evaluation_tables: the paper's (Table 1, the scan's model vs model tests, P/R/F1, the
ICD-10 confusions, the proxy grades) and beyond it (every predictor ranked at its chosen temperature, the paired
tests over cases, the breakdown by disease site)."""
from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from .choice import at_chosen, best_baseline, best_temperatures, chosen_settings, planned_baseline
from .paired import ALL_PAIRS
from .scan import model_vs_model, table1
from .tasks import FREE_TEXT, TASKS
from .tasks import ORDER as TASK_ORDER
from .variants import predictor_label


def ranking(summary: pd.DataFrame, chosen: pd.DataFrame, baselines: pd.DataFrame, selection_baselines: pd.DataFrame,
            models: list[str], labelled: dict | None = None,
            all_pairs_baselines: pd.DataFrame | None = None, all_pairs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per model and task, every variant (zero-shot, the prompting variants, fine-tuned) at its chosen temperature
    (`chosen`: `chosen_settings`) and the task's classical baselines, ranked by their headline on the eval cases,
    with its 95 % CI, the headline on the selection pairs where the temperature was chosen, and, for
    reference, the highest over the eval scan with its temperature (the paper's optimistic definition) and the
    median over the scan (a baseline has one value, no temperature), and the labelled pairs each learned from
    (`labelled`, as `labelled_pairs` counts them; empty without). The baselines are fitted on the adapter's
    training pairs, and the prompting variants draw their solved cases from them; `all_pairs_baselines` (the
    baselines' summaries fitted on every train pair) and `all_pairs` (the prompting variants' metrics by
    temperature, shown every train pair; each at the temperature its variant was chosen at) are ranked beside
    them, named so."""
    labelled = labelled or {}
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
                ranked.append({"predictor": r.variant, "labelled_pairs": labelled.get((model, r.variant, task)),
                               "temperature": r.temperature, "headline": r.headline,
                               "ci_low": r.ci_low, "ci_high": r.ci_high, "selection_headline": r.selection_headline,
                               "chosen_on": r.chosen_on, "highest_over_scan": top["headline"],
                               "highest_temperature": top["temperature"], "median": runs["headline"].median()})
                shown_all = None if all_pairs is None else all_pairs[
                    (all_pairs["model"] == model) & (all_pairs["task"] == task) & (all_pairs["variant"] == r.variant)]
                if shown_all is not None and len(shown_all):
                    at = shown_all.loc[(shown_all["temperature"] - r.temperature).abs() < 1e-9].iloc[0]
                    best = shown_all.loc[shown_all["headline"].idxmax()]
                    ranked.append({"predictor": f"{r.variant} ({ALL_PAIRS})",
                                   "labelled_pairs": labelled.get((model, r.variant, task, ALL_PAIRS)),
                                   "temperature": r.temperature, "headline": at["headline"], "ci_low": at["ci_low"],
                                   "ci_high": at["ci_high"], "selection_headline": None,
                                   "chosen_on": f"{r.variant}'s temperature", "highest_over_scan": best["headline"],
                                   "highest_temperature": best["temperature"],
                                   "median": shown_all["headline"].median()})
            fitted = [(baselines, "", ()), (all_pairs_baselines, f" ({ALL_PAIRS})", (ALL_PAIRS,))]
            for table, suffix, key in (f for f in fitted if f[0] is not None):
                for b in table[table["task"] == task].itertuples():
                    ranked.append({"predictor": f"{b.model} baseline{suffix}",
                                   "labelled_pairs": labelled.get((b.model, task, *key)), "temperature": None,
                                   "headline": b.headline, "ci_low": b.ci_low, "ci_high": b.ci_high,
                                   "selection_headline": None if key else on_selection.get((b.model, task)),
                                   "chosen_on": None, "highest_over_scan": b.headline, "highest_temperature": None,
                                   "median": b.headline})
            ranked.sort(key=lambda r: -r["headline"])  # stable: a tie keeps the listed order, and shares its rank
            rows += [{"model": model, "task": task, "metric": TASKS[task].metric,
                      "rank": 1 + sum(o["headline"] > r["headline"] for o in ranked), **r} for r in ranked]
    table = pd.DataFrame(rows, columns=["model", "task", "metric", "rank", "predictor", "labelled_pairs",
                                        "temperature", "headline",
                                        "ci_low", "ci_high", "selection_headline", "chosen_on", "highest_over_scan",
                                        "highest_temperature", "median"]).astype({"labelled_pairs": "Int64"})
    return table.round({c: 4 for c in ("headline", "ci_low", "ci_high", "selection_headline", "highest_over_scan",
                                       "median")})


PROXY_COLUMNS = ["model", "variant", "temperature", "proxy_graded", *[f"proxy_grade_{g}" for g in range(1, 6)],
                 "proxy_grade_1_2", "dose_match", "fractions_match", "modality_match", "median_abs_delta_eqd2"]


def labelled_pairs(cards: dict, pairs: dict, models: list[str]) -> dict:
    """How many labelled pairs each predictor learned from, keyed (model, variant, task), (baseline, task) and,
    shown or fitted on every train pair, (model, variant, task, ALL_PAIRS) and (baseline, task, ALL_PAIRS):
    fine-tuned, its adapter's training pairs (`cards`: (model, task) -> the model card's train_pairs); zero-shot,
    none; a prompting variant, the pool its solved cases are drawn from, and a baseline, the pairs it is fitted
    on: the adapter's training pairs (`pairs`: task -> (train case IDs, the adapter's training pairs' case IDs));
    on all available pairs, every train pair."""
    from .variants import VARIANTS
    counts = {}
    for task, (train, learned) in pairs.items():
        for model in models:
            for name, v in VARIANTS.items():
                counts[model, name, task] = cards[model, task] if v.trained else len(learned) if v.draw else 0
                if v.draw:
                    counts[model, name, task, ALL_PAIRS] = len(train)
        for baseline in TASKS[task].baselines:
            counts[baseline, task] = len(learned)
            counts[baseline, task, ALL_PAIRS] = len(train)
    return counts


def evaluation_tables(*, summary: pd.DataFrame, selection: pd.DataFrame, baselines: pd.DataFrame,
                      selection_baselines: pd.DataFrame, load, load_baseline, curated: pd.DataFrame,
                      models: list[str], report_temperature, statistics_temperature,
                      bootstrap: dict, plan: dict, labelled: dict | None = None,
                      all_pairs_baselines: pd.DataFrame | None = None, load_all_pairs_baseline=None,
                      all_pairs_summary: pd.DataFrame | None = None, load_all_pairs=None,
                      seed_selection: pd.DataFrame | None = None, load_seed=None) -> dict[str, pd.DataFrame]:
    """Every table of rule evaluation_tables, by its output name. `summary`: the metrics of every prediction
    file; `load(model, variant, task, temperature)` and `load_baseline(name, task)` read per-case scores;
    `baselines`: the baselines' summaries; `curated`: the curated cases (for the disease-site groups);
    `selection`, `selection_baselines`: the same summaries on the selection pairs, where the paired tests, the
    ranking and the breakdown choose their temperatures (`statistics_temperature`) and best competitors
    (`plan`: statistics.plan, as written to analysis_plan.yaml); `labelled`: how many labelled pairs each
    predictor learned from (`labelled_pairs`), beside every row of the ranking and the paired tests. The baselines
    are fitted on the adapter's training pairs, and the prompting variants draw from them; `all_pairs_baselines`
    and `load_all_pairs_baseline(name, task)`, the same fitted on every train pair, and `all_pairs_summary` and
    `load_all_pairs(model, variant, task, temperature)`, the prompting variants shown every train pair, give the
    "all train pairs" rows. `seed_selection` (the further training seeds' fine-tuned summaries on the selection
    pairs, with their `seed`) and `load_seed(seed, model, task, temperature)` give the paired tests a fine-tuned
    side averaged over the seeds. The paper's Table 1 and figures keep the paper's highest over the eval scan."""
    from .breakdown import by_group, case_groups, top_confusions
    from .metrics import prf_and_confusion
    from .paired import paired_table
    prf, confusion = prf_and_confusion(best_temperatures(summary, report_temperature), load)
    listed = pd.concat([b.assign(fitted_on=on) for b, on in ((baselines, "the adapter's training pairs"),
                                                              (all_pairs_baselines, ALL_PAIRS)) if b is not None],
                       ignore_index=True)
    listed = listed.rename(columns={"model": "baseline"}).drop(columns=["variant", "temperature"])
    first = ["task", "baseline", "fitted_on", "headline", "ci_low", "ci_high", "n", "unparsed"]
    listed = listed[first + [c for c in listed.columns if c not in first]].dropna(axis=1, how="all")
    chosen = chosen_settings(selection, statistics_temperature)
    best = {task: best_baseline(selection_baselines, task, *planned_baseline(plan, task)) for task in TASK_ORDER}
    best = {task: (b["model"], b["how"]) for task, b in best.items() if b is not None}  # the one "best baseline"

    def further_seeds(model, task):
        """(temperature chosen on the selection pairs, scored eval cases) of each further training seed."""
        if seed_selection is None:
            return []
        mine = seed_selection[(seed_selection["model"] == model) & (seed_selection["task"] == task)]
        picked = {seed: chosen_settings(rows.drop(columns="seed"), statistics_temperature)["temperature"].iloc[0]
                  for seed, rows in mine.groupby("seed", sort=True)}
        return [(t, load_seed(seed, model, task, t)) for seed, t in picked.items()]

    paired = paired_table(chosen, load, models, bootstrap, best, load_baseline, plan, labelled,
                          load_all_pairs_baseline, load_all_pairs, further_seeds)
    scored = {(predictor_label(r.model, r.variant, r.temperature), r.task): load(r.model, r.variant, r.task,
                                                                                 r.temperature)
              for r in chosen.itertuples()}
    scored |= {(f"{name} baseline", task): load_baseline(name, task) for task, (name, _) in best.items()}
    groups = case_groups(curated)
    logging.getLogger(__name__).info("tables from %d prediction files of %d models; %s", len(summary), len(models),
                                     "temperatures chosen on the selection pairs" if statistics_temperature ==
                                     "validation" else f"temperature {statistics_temperature} pre-registered")
    return {"by_temperature": summary, "table1": table1(summary, models),
            "model_vs_model": model_vs_model(summary, models),
            "regimen_proxy": summary.loc[summary["task"].isin(FREE_TEXT), PROXY_COLUMNS],
            **{f"{task}_prf": table for task, table in prf.items()}, "icd10_confusion": confusion,
            "baselines": listed,
            "ranking": ranking(summary, chosen, baselines, selection_baselines, models, labelled,
                               all_pairs_baselines, all_pairs_summary),
            "paired_tests": paired.astype({"a_only": "Int64", "b_only": "Int64"}),
            "by_group": by_group(scored, groups), "top_confusions": top_confusions(scored, groups)}


def write_plan(plan: dict, statistics: dict, bootstrap: dict, models: list[str], tasks: list[str], path,
               seeds: list[int] | None = None) -> None:
    """The run's pre-specified analysis (rule analysis_plan), from its config alone, as YAML: what is compared
    (the primary family and the secondary one), how p is adjusted, the comparators and the smallest differences
    of interest, how temperatures and comparators are chosen, the training seeds, the tests, and what is
    descriptive only."""
    import yaml

    from .tables import write_text
    document = {
        "plan": plan,
        "families": {"primary": f"{plan['primary']}, one row per model and task",
                     "secondary": "every other paired comparison (fine-tuned vs vanilla, vs best prompting, vs best "
                                  "baseline, model vs model), less the primary"},
        "settings_chosen_on": f"the selection pairs (statistics.temperature: {statistics['temperature']}; "
                              f"selection_size: {statistics['selection_size']}, seed {statistics['seed']}), never the "
                              "eval cases",
        "training_seeds": seeds or [],
        "tests": {"accuracy": "McNemar exact, two-sided" if len(seeds or []) < 2 else
                  "McNemar exact, two-sided, where neither side is fine-tuned; a fine-tuned side is the per-case mean "
                  f"over its {len(seeds)} training seeds' adapters (each at its temperature chosen on the selection "
                  "pairs), tested as ROUGE-1 is",
                  "ROUGE-1": "paired sign-flip permutation test of the mean difference, two-sided, ties kept" + (
                      "; a fine-tuned side the per-case mean over its training seeds" if len(seeds or []) > 1
                      else "")},
        "intervals": {"accuracy": "Wilson", "means and differences": "BCa bootstrap over cases",
                      "adjusted": "Bonferroni (simultaneous) within the family"},
        "resampling": bootstrap,
        "descriptive_only": ["Table 1's highest over the temperature scan (the best of ten on the eval cases)",
                             "Table 1's overall row (pooled over tasks' different metrics)"],
        "models": models, "tasks": tasks,
    }
    write_text(yaml.safe_dump(document, sort_keys=False), path)


def read_plan(path) -> dict:
    """The run's `statistics.plan`, as rule analysis_plan wrote it (`write_plan`)."""
    import yaml
    return yaml.safe_load(Path(path).read_text())["plan"]


def seeds_table(summaries: dict, selection_summaries: dict, choice) -> pd.DataFrame:
    """How far the training seed moves the fine-tuned result (finetune.seeds). Per model, task and seed (keys
    (seed, model, task); the run's own adapter is the first seed): the headline on the eval pairs at the
    temperature chosen on the selection pairs, as the paired tests choose it (`choice`: statistics.temperature),
    with its 95 % CI, and the highest over the eval scan (the paper's definition); beside each row, the mean,
    standard deviation (n - 1) and range of the chosen headlines over the model and task's seeds."""
    rows = []
    for (seed, model, task), summary in summaries.items():
        picked = at_chosen(summary, chosen_settings(selection_summaries[(seed, model, task)], choice)).iloc[0]
        rows.append({"model": model, "task": task, "metric": TASKS[task].metric, "seed": int(seed),
                     "temperature": picked["temperature"], "n": picked["n"], "headline": picked["headline"],
                     "ci_low": picked["ci_low"], "ci_high": picked["ci_high"],
                     "selection_headline": picked["selection_headline"], "chosen_on": picked["chosen_on"],
                     "highest_over_scan": summary["headline"].max()})
    table = pd.DataFrame(rows)
    by = table.groupby(["model", "task"], sort=False)["headline"]
    spread = pd.DataFrame({"seeds": by.transform("size"), "mean_over_seeds": by.transform("mean"),
                           "sd_over_seeds": by.transform("std"), "min_over_seeds": by.transform("min"),
                           "max_over_seeds": by.transform("max")})
    order = {t: i for i, t in enumerate(TASK_ORDER)}
    table = pd.concat([table, spread], axis=1).sort_values(
        ["model", "task", "seed"], key=lambda c: c.map(order) if c.name == "task" else c,
        kind="stable").reset_index(drop=True)
    return table.round({c: 4 for c in ("headline", "ci_low", "ci_high", "selection_headline", "highest_over_scan",
                                       "mean_over_seeds", "sd_over_seeds", "min_over_seeds", "max_over_seeds")})
