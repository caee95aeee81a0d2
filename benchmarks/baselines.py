"""The TF-IDF + logistic-regression baseline on float32 features against float64, on the demo's pairs.

    .venv/bin/python benchmarks/baselines.py [task] [rounds]

Fits `radonc_llm.baselines.tfidf_logreg` (what rule baselines runs) on the task's train pairs and predicts its
eval pairs, with the module's settings (float32 features) and with float64 features (the settings before),
alternating for `rounds` rounds. Prints each one's time, the
ratio (median of the rounds), the accuracy of each (ICD-10: on the main category, as the workflow scores it)
and how many eval cases the two answer alike. Needs `make demo`. Defaults: icd10, 3 rounds.
"""
import statistics
import sys
import time

import numpy as np
import pandas as pd
from workflow_config import workflow_config

from radonc_llm.baselines import FEATURES, LOGREG, tfidf_logreg
from radonc_llm.icd10 import main_category

task = sys.argv[1] if len(sys.argv) > 1 else "icd10"
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
pairs = workflow_config("tiny-llama")["results"] / "pairs" / task
if not (pairs / "train.parquet").is_file():
    sys.exit(f"{pairs} not found: run `make demo` first")
train, evaluation = pd.read_parquet(pairs / "train.parquet"), pd.read_parquet(pairs / "eval.parquet")
settings = {"now": (FEATURES, LOGREG),
            "before": ({**FEATURES, "dtype": np.float64}, LOGREG)}
scored = main_category if task == "icd10" else (lambda answer: answer)


def timed(name):
    start = time.perf_counter()
    answers = tfidf_logreg(train, evaluation, *settings[name])
    return time.perf_counter() - start, answers


runs = [(timed("before"), timed("now")) for _ in range(rounds)]
ratios = sorted(before / now for (before, _), (now, _) in runs)
(before, old), (now, new) = runs[len(runs) // 2]
accuracy = {name: np.mean([scored(a) == scored(t) for a, t in zip(answers, evaluation["answer"])])
            for name, answers in (("before", old), ("now", new))}
print(f"{task}: {len(train)} train and {len(evaluation)} eval pairs, {rounds} rounds")
print(f"before (float64) {before:.1f} s, accuracy {accuracy['before']:.3f}; now (float32) "
      f"{now:.1f} s, accuracy {accuracy['now']:.3f}; {np.mean(np.array(old) == np.array(new)):.1%} of answers alike")
print(f"speed-up: median {statistics.median(ratios):.1f}x (min {ratios[0]:.1f}x, max {ratios[-1]:.1f}x)")
