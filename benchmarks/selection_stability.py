"""How many selection pairs make the settings chosen on them stable: a bootstrap of the choice.

    .venv/bin/python benchmarks/selection_stability.py [model] [sizes] [resamples]

On the run's own selection predictions (`predictions/<model>/<variant>/<task>/selection/T<t>.parquet`, scored
as rule score scores them), for each task and each n in `sizes` (comma-separated; default 25,50,100,200 and
the run's own), draws `resamples` (default 1,000) seeded bootstrap samples of n selection pairs and repeats the
two choices the tables make on them: the fine-tuned model's temperature (the highest headline, the lowest
temperature on a tie) and the prompting comparator (`statistics.plan`: the pre-specified variant unless
another leads it by the task's smallest difference of interest). Prints, per task and n, the share of samples
that make the choice all the selection pairs make, and what a different temperature costs: the mean loss of the
fine-tuned model's eval headline at the sampled choice against the choice on all the selection pairs. Needs
`make demo` (or `make real` for smollm2-135m).
"""
import sys

import numpy as np
import pandas as pd
from workflow_config import workflow_config

from radonc_llm.choice import comparator
from radonc_llm.metrics import Scoring, score_cases
from radonc_llm.variants import PROMPTED, TRAINED, temperature_name

model = sys.argv[1] if len(sys.argv) > 1 else "tiny-llama"
config = workflow_config(model)
runs = config["results"]
sizes = [int(n) for n in sys.argv[2].split(",")] if len(sys.argv) > 2 else [25, 50, 100, 200]
resamples = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
plan, scoring = config["statistics"]["plan"], Scoring.from_config(config)
temperatures = config["predict"]["temperatures"]
rng = np.random.default_rng(config["statistics"]["seed"])


def selection_scores(variant: str, task: str, pairs: pd.DataFrame) -> np.ndarray:
    """Per-case scores on the selection pairs, one column per temperature."""
    folder = runs / "predictions" / model / variant / task / "selection"
    return np.column_stack([score_cases(task, pairs, pd.read_parquet(folder / f"T{temperature_name(t)}.parquet"),
                                        scoring)["score"].to_numpy() for t in temperatures])


def first_best(means: np.ndarray) -> np.ndarray:
    """Per row, the index of the highest mean (the lowest temperature on a tie)."""
    return np.argmax(means >= means.max(axis=1, keepdims=True) - 1e-12, axis=1)


for task in config["tasks"]:
    pairs = pd.read_parquet(runs / "pairs" / task / "selection.parquet")
    tuned = selection_scores(TRAINED, task, pairs)
    shown = {v: selection_scores(v, task, pairs) for v in PROMPTED if v in config["prompting"]["variants"]}
    on_eval = pd.read_csv(runs / "metrics" / model / TRAINED / task / "summary.csv").set_index("temperature")
    eval_at = on_eval.loc[temperatures, "headline"].to_numpy()
    difference = plan["min_difference"].get(task, 0.0)

    def choices(rows: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """The fine-tuned temperature index and the prompting comparator on each sample (rows: case indices)."""
        t_index = first_best(tuned[rows].mean(axis=1))
        best = [comparator(pd.DataFrame({"variant": list(shown), "headline": [
            scores[r].mean(axis=0).max() for scores in shown.values()]}), "variant", plan["comparators"]["prompting"],
            difference)[0] for r in rows] if shown else []
        return t_index, best

    everything = np.arange(len(pairs))[None, :]
    (t_all,), chosen_all = choices(everything)
    print(f"{model} / {task}: on all {len(pairs)} selection pairs T = {temperatures[t_all]} (eval headline "
          f"{eval_at[t_all]:.3f}){', comparator ' + chosen_all[0] if chosen_all else ''}")
    for n in sizes + [len(pairs)]:
        rows = rng.integers(0, len(pairs), size=(resamples, n))
        t_index, best = choices(rows)
        same_t = (t_index == t_all).mean()
        loss = (eval_at[t_all] - eval_at[t_index]).mean()
        same_comparator = np.mean([b == chosen_all[0] for b in best]) if best else float("nan")
        print(f"  n = {n:4d}: same temperature {same_t:6.1%} (eval headline lost on average {loss:+.4f}), "
              f"same comparator {same_comparator:6.1%}")
