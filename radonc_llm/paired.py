"""Per-case paired statistics: the unit a hospital cares about is the case, not the temperature.

Two predictors scored on the same eval cases are compared case by case: McNemar's exact test for
accuracy tasks (only the cases where exactly one of them is right carry information), the paired sign-flip
permutation test of the mean difference for ROUGE-1 (the quantity reported as the effect, tied cases kept)
and for a fine-tuned model's per-case scores averaged over its training seeds (a case right in two of three
seeds scores 2/3, which McNemar cannot take), and for all the mean per-case difference with a paired BCa
bootstrap CI. p values are adjusted within the
analysis plan's families (statistics.plan: the primary comparison's rows, and every other row). Each
predictor's temperature and each competitor are chosen on the selection pairs (`choice.chosen_settings`,
`choice.comparator`), so the eval cases are used once, for the test.
"""
from __future__ import annotations

import pandas as pd

from .errors import UserError
from .stats import holm, mcnemar_exact, paired_bootstrap, sign_flip_test
from .tasks import ORDER as TASK_ORDER
from .tasks import TASKS
from .variants import TRAINED, UNTRAINED, VARIANTS, ZERO_SHOT, predictor_label, temperature_name

PERMUTATIONS = 9999  # sign patterns drawn where 2^n is more (metrics.bootstrap.permutations): p resolves to 1e-4


def differences(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """The two scored prediction files (case_id, score) of the same eval cases side by side, case by case."""
    joined = a[["case_id", "score"]].merge(b[["case_id", "score"]], on="case_id", suffixes=("_a", "_b"),
                                           validate="one_to_one")
    if len(joined) != len(a) or len(joined) != len(b):
        raise ValueError("the two prediction files do not cover the same cases")
    return joined


def compare(task: str, a: pd.DataFrame, b: pd.DataFrame, bootstrap: dict) -> dict:
    """One paired comparison of two scored prediction files (case_id, score) of the same eval cases."""
    return compare_joined(task, differences(a, b), bootstrap)


def compare_joined(task: str, joined: pd.DataFrame, bootstrap: dict, averaged: bool = False) -> dict:
    """`compare` on the two files side by side (`differences`); `averaged`: a side's scores are means over
    training seeds (then sign flips on every task, whatever the scores happen to be)."""
    diff = joined["score_a"] - joined["score_b"]
    mean, low, high = paired_bootstrap(diff, bootstrap["resamples"], bootstrap["seed"], bootstrap["confidence"])
    row = {"n": len(joined), "mean_a": float(joined["score_a"].mean()), "mean_b": float(joined["score_b"].mean()),
           "difference": mean, "ci_low": low, "ci_high": high}
    if TASKS[task].classifies and not averaged:
        return row | {"test": "McNemar exact"} | mcnemar_exact(joined["score_a"] == 1, joined["score_b"] == 1)
    return row | {"test": "sign-flip permutation of the mean difference", "a_only": None, "b_only": None,
                  "p_value": sign_flip_test(diff, bootstrap.get("permutations", PERMUTATIONS), bootstrap["seed"])}


DEFAULT_PLAN = {"primary": "fine-tuned vs best prompting", "adjust": "holm",
                "comparators": {"prompting": None, "baselines": {}}, "min_difference": {}}
ALL_PAIRS = "all train pairs"  # a comparator fitted on every train pair, not the adapter's: its rows say so
COLUMNS = ["comparison", "family", "task", "a", "b", "a_pairs", "b_pairs", "chosen_on", "test", "n", "mean_a",
           "mean_b", "difference",
           "ci_low", "ci_high", "ci_low_adjusted", "ci_high_adjusted", "a_only", "b_only", "p_value", "p_adjusted",
           "adjustment"]


def best_prompting(chosen: pd.DataFrame, model: str, task: str, variants, plan: dict = DEFAULT_PLAN) -> tuple[str, str]:
    """The prompting variant to compare the fine-tuned model against, among `variants` (never zero-shot: that is
    the vanilla comparison), by their headlines in `chosen` (on the selection pairs, at their chosen temperatures):
    the plan's comparator unless another beats it there by the task's minimum difference (`choice.comparator`).
    Returns (the variant, how it was chosen)."""
    from .choice import comparator
    rows = chosen[(chosen["model"] == model) & (chosen["task"] == task) & chosen["variant"].isin(list(variants))]
    rows = rows.set_index("variant").loc[list(variants)].reset_index()  # in the order of `variants` for ties
    return comparator(rows, "variant", plan["comparators"].get("prompting"), plan["min_difference"].get(task, 0.0))


def seed_mean(scored: list[pd.DataFrame]) -> pd.DataFrame:
    """One fine-tuned model's per-case scores averaged over its training seeds' scored eval cases (each at its
    own chosen temperature): case_id and score, in the first seed's case order."""
    first = scored[0][["case_id", "score"]]
    if len(scored) == 1:
        return first
    others = [s.set_index("case_id")["score"] for s in scored[1:]]
    if any(len(o) != len(first) or not o.index.isin(first["case_id"]).all() for o in others):
        raise ValueError("the training seeds' scored files do not cover the same eval cases")
    total = first.set_index("case_id")["score"] + sum(others)
    return total.div(len(scored)).rename("score").reset_index()


def paired_table(chosen: pd.DataFrame, load, models: list[str], bootstrap: dict,
                 best_baselines: dict | None = None, load_baseline=None, plan: dict = DEFAULT_PLAN,
                 labelled: dict | None = None, load_all_pairs_baseline=None, load_all_pairs=None,
                 further_seeds=None) -> pd.DataFrame:
    """Every paired comparison on the eval cases at the chosen settings (`chosen`: one row per model, variant and
    task with its temperature, its headline where it was chosen and `chosen_on`, as `choice.chosen_settings`
    gives them): fine-tuned vs vanilla per model, fine-tuned vs the best prompting variant other than zero-shot
    (`best_prompting`; where the run has one), fine-tuned vs the task's best baseline (`best_baselines`: task ->
    (name, how it was chosen), loaded by `load_baseline(name, task)`), and each model against each other per
    variant. Every comparator learned from the adapter's training pairs (equal data); with
    `load_all_pairs(model, variant, task, temperature)` and `load_all_pairs_baseline(name, task)`, fine-tuned is
    also compared with the same prompting variant shown every train pair (at its chosen temperature) and the same
    baseline fitted on every train pair, in rows of their own ("... (all train pairs)", secondary).
    `load(model, variant, task, temperature)` gives the scored eval cases; `labelled` (as
    `evaluation.labelled_pairs` counts them) gives how many labelled pairs each side learned from (`a_pairs`,
    `b_pairs`). `further_seeds(model, task)` (finetune.seeds) gives the further training seeds' scored eval cases,
    each at its temperature chosen on the selection pairs, as (temperature, cases) pairs: a fine-tuned side is
    then the per-case mean over every seed (`seed_mean`), its label the first seed's, `chosen_on` saying so.

    `plan` (statistics.plan) names the primary comparison: its rows are the primary family, every other row the
    secondary one. p is adjusted within each family (Holm or Bonferroni), and each row has, beside its 95 %
    interval, the family's simultaneous (Bonferroni) interval, so that an interval and an adjusted p agree."""
    from itertools import combinations
    at = {(r.model, r.variant, r.task): r.temperature for r in chosen.itertuples()}
    how = {(r.model, r.variant, r.task): r.chosen_on for r in chosen.itertuples()}
    rows, diffs = [], []
    labelled = labelled or {}

    def add(comparison, task, a, b, cases_a, cases_b, chosen_on, keys, averaged=False):
        joined = differences(cases_a, cases_b)
        rows.append({"comparison": comparison, "task": task, "a": a, "b": b,
                     "a_pairs": labelled.get(keys[0]), "b_pairs": labelled.get(keys[1]), "chosen_on": chosen_on,
                     **compare_joined(task, joined, bootstrap, averaged)})
        diffs.append(joined["score_a"] - joined["score_b"])  # for the family's simultaneous interval

    def label(model, variant, task):
        return predictor_label(model, variant, at[(model, variant, task)])

    def scored(model, variant, task):
        """The scored eval cases at the chosen temperature, how they were chosen, and whether they are a fine-tuned
        model's averaged over its training seeds (where there are several)."""
        key = (model, variant, task)
        cases = load(*key, at[key])
        if not VARIANTS[variant].trained or further_seeds is None or not (seeds := further_seeds(model, task)):
            return cases, how[key], False
        temperatures = ", ".join(temperature_name(t) for t in (at[key], *(t for t, _ in seeds)))
        return seed_mean([cases, *(c for _, c in seeds)]), (
            f"{how[key]}; per-case mean of {len(seeds) + 1} training seeds, each at its temperature chosen "
            f"there (T={temperatures})"), True

    def models_compared(comparison, task, a, b):
        """a, b: (model, variant) scored at their chosen temperatures."""
        (cases_a, how_a, mean_a), (cases_b, _, mean_b) = scored(*a, task), scored(*b, task)
        add(comparison, task, label(*a, task), label(*b, task), cases_a, cases_b, how_a, ((*a, task), (*b, task)),
            mean_a or mean_b)

    for task in [t for t in TASK_ORDER if t in set(chosen["task"])]:
        for model in models:
            tuned = (model, TRAINED, task)
            tuned_cases, tuned_how, averaged = scored(*tuned)  # read once for every comparison it is in

            def versus(comparison, b, b_cases, b_key, comparator_how=None):
                """The fine-tuned model against `b` (its label, scored cases and key in `labelled`)."""
                add(comparison, task, label(*tuned), b, tuned_cases, b_cases,
                    tuned_how + (f"; comparator {comparator_how}" if comparator_how else ""), (tuned, b_key),
                    averaged)

            vanilla = (model, ZERO_SHOT, task)
            versus("fine-tuned vs vanilla", label(*vanilla), load(*vanilla, at[vanilla]), vanilla)
            prompting = [v for v in UNTRAINED if v != ZERO_SHOT and (model, v, task) in at]
            if prompting:
                best, chosen_how = best_prompting(chosen, model, task, prompting, plan)
                shown = (model, best, task)
                versus("fine-tuned vs best prompting", label(*shown), load(*shown, at[shown]), shown, chosen_how)
                if load_all_pairs is not None:
                    versus(f"fine-tuned vs best prompting ({ALL_PAIRS})", f"{label(*shown)} ({ALL_PAIRS})",
                           load_all_pairs(*shown, at[shown]), (*shown, ALL_PAIRS), chosen_how)
            if best_baselines and task in best_baselines:
                best, chosen_how = best_baselines[task]
                versus("fine-tuned vs best baseline", f"{best} baseline", load_baseline(best, task), (best, task),
                       chosen_how)
                if load_all_pairs_baseline is not None:
                    versus(f"fine-tuned vs best baseline ({ALL_PAIRS})", f"{best} baseline ({ALL_PAIRS})",
                           load_all_pairs_baseline(best, task), (best, task, ALL_PAIRS), chosen_how)
        for variant in (TRAINED, ZERO_SHOT):
            for first, second in combinations(models, 2):
                models_compared(f"model vs model ({variant})", task, (first, variant), (second, variant))
    table = pd.DataFrame(rows, columns=[c for c in COLUMNS if c not in
                                        ("family", "ci_low_adjusted", "ci_high_adjusted", "p_adjusted", "adjustment")])
    table = table.astype({"a_pairs": "Int64", "b_pairs": "Int64"})
    table.insert(1, "family", ["primary" if c == plan["primary"] else "secondary" for c in table["comparison"]])
    if len(table) and not (table["family"] == "primary").any():
        raise UserError(f"statistics.plan.primary is {plan['primary']!r}, but this run has no such comparison "
                        "(fine-tuned vs best prompting needs prompting.variants): name one it makes")
    table["p_adjusted"], table["adjustment"] = float("nan"), ""
    table["ci_low_adjusted"], table["ci_high_adjusted"] = float("nan"), float("nan")
    for family, members in table.groupby("family").groups.items():
        m = len(members)
        p = table.loc[members, "p_value"]
        table.loc[members, "p_adjusted"] = holm(p) if plan["adjust"] == "holm" else (p * m).clip(upper=1.0)
        table.loc[members, "adjustment"] = f"{plan['adjust'].capitalize()} over the {family} family ({m} rows)"
        level = 1 - (1 - bootstrap["confidence"]) / m
        for i in members:  # a family of one: its simultaneous interval is its 95 % one
            low, high = (table.loc[i, ["ci_low", "ci_high"]] if m == 1 else
                         paired_bootstrap(diffs[i], bootstrap["resamples"], bootstrap["seed"], level)[1:])
            table.loc[i, ["ci_low_adjusted", "ci_high_adjusted"]] = low, high
    return table[COLUMNS]
