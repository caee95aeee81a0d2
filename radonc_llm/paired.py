"""Per-case paired statistics: the unit a hospital cares about is the case, not the temperature.

Two predictors scored on the same eval cases are compared case by case: McNemar's exact test for
accuracy tasks (only the cases where exactly one of them is right carry information), the paired sign-flip
permutation test of the mean difference for ROUGE-1 (the quantity reported as the effect, tied cases kept),
and for both the mean per-case difference with a paired BCa bootstrap CI. p values of one table are adjusted
together with Holm's method. Each predictor's temperature and each "best" competitor are chosen on the
selection pairs (`choice.chosen_settings`), so the eval cases are used once, for the test.
"""
from __future__ import annotations

import pandas as pd

from .stats import holm, mcnemar_exact, paired_bootstrap, sign_flip_test
from .tasks import ORDER as TASK_ORDER
from .tasks import TASKS
from .variants import TRAINED, UNTRAINED, ZERO_SHOT, predictor_label

PERMUTATIONS = 9999  # sign patterns drawn where 2^n is more (metrics.bootstrap.permutations): p resolves to 1e-4


def compare(task: str, a: pd.DataFrame, b: pd.DataFrame, bootstrap: dict) -> dict:
    """One paired comparison of two scored prediction files (case_id, score) of the same eval cases."""
    joined = a[["case_id", "score"]].merge(b[["case_id", "score"]], on="case_id", suffixes=("_a", "_b"),
                                           validate="one_to_one")
    if len(joined) != len(a) or len(joined) != len(b):
        raise ValueError("the two prediction files do not cover the same cases")
    diff = joined["score_a"] - joined["score_b"]
    mean, low, high = paired_bootstrap(diff, bootstrap["resamples"], bootstrap["seed"], bootstrap["confidence"])
    row = {"n": len(joined), "mean_a": float(joined["score_a"].mean()), "mean_b": float(joined["score_b"].mean()),
           "difference": mean, "ci_low": low, "ci_high": high}
    if TASKS[task].classifies:
        return row | {"test": "McNemar exact"} | mcnemar_exact(joined["score_a"] == 1, joined["score_b"] == 1)
    return row | {"test": "sign-flip permutation of the mean difference", "a_only": None, "b_only": None,
                  "p_value": sign_flip_test(diff, bootstrap.get("permutations", PERMUTATIONS), bootstrap["seed"])}


def best_prompting(chosen: pd.DataFrame, model: str, task: str, variants) -> str:
    """The prompting variant with the highest headline in `chosen` (on the selection pairs, at its chosen
    temperature; the first of `variants` on a tie)."""
    rows = chosen[(chosen["model"] == model) & (chosen["task"] == task) & chosen["variant"].isin(list(variants))]
    order = {v: i for i, v in enumerate(variants)}
    return rows.assign(order=rows["variant"].map(order)).sort_values(["headline", "order"],
                                                                    ascending=[False, True])["variant"].iloc[0]


def paired_table(chosen: pd.DataFrame, load, models: list[str], bootstrap: dict,
                 best_baselines: dict | None = None, load_baseline=None) -> pd.DataFrame:
    """Every paired comparison on the eval cases at the chosen settings (`chosen`: one row per model, variant and
    task with its temperature, its headline where it was chosen and `chosen_on`, as `choice.chosen_settings`
    gives them): fine-tuned vs vanilla per model, fine-tuned vs the best prompting variant (zero-shot, few-shot or
    retrieved examples, the highest in `chosen`; where the run has more than zero-shot), fine-tuned vs the task's
    best baseline (`best_baselines`: task -> name, loaded by `load_baseline(name, task)`), and each model against
    each other per variant. `load(model, variant, task, temperature)` gives the scored eval cases. Holm's
    adjustment runs over the whole table (one family)."""
    from itertools import combinations
    at = {(r.model, r.variant, r.task): r.temperature for r in chosen.itertuples()}
    how = {(r.model, r.variant, r.task): r.chosen_on for r in chosen.itertuples()}
    rows = []

    def add(comparison, task, a, b, cases_a, cases_b, chosen_on):
        rows.append({"comparison": comparison, "task": task, "a": a, "b": b, "chosen_on": chosen_on,
                     **compare(task, cases_a, cases_b, bootstrap)})

    def label(model, variant, task):
        return predictor_label(model, variant, at[(model, variant, task)])

    def models_compared(comparison, task, a, b):
        """a, b: (model, variant) scored at their chosen temperatures."""
        add(comparison, task, label(*a, task), label(*b, task), load(*a, task, at[(*a, task)]),
            load(*b, task, at[(*b, task)]), how[(*a, task)])

    for task in [t for t in TASK_ORDER if t in set(chosen["task"])]:
        for model in models:
            models_compared("fine-tuned vs vanilla", task, (model, TRAINED), (model, ZERO_SHOT))
            prompting = [v for v in UNTRAINED if (model, v, task) in at]
            if len(prompting) > 1:
                best = best_prompting(chosen, model, task, prompting)
                models_compared("fine-tuned vs best prompting", task, (model, TRAINED), (model, best))
            if best_baselines and task in best_baselines:
                best = best_baselines[task]
                add("fine-tuned vs best baseline", task, label(model, TRAINED, task), f"{best} baseline",
                    load(model, TRAINED, task, at[(model, TRAINED, task)]), load_baseline(best, task),
                    how[(model, TRAINED, task)])
        for variant in (TRAINED, ZERO_SHOT):
            for first, second in combinations(models, 2):
                models_compared(f"model vs model ({variant})", task, (first, variant), (second, variant))
    columns = ["comparison", "task", "a", "b", "chosen_on", "test", "n", "mean_a", "mean_b", "difference", "ci_low",
               "ci_high", "a_only", "b_only", "p_value", "p_holm"]
    table = pd.DataFrame(rows, columns=[c for c in columns if c != "p_holm"])
    table["p_holm"] = holm(table["p_value"]) if len(table) else []
    return table[columns]
