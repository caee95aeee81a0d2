"""A prompting-variant prediction job (few-shot and retrieved, eval and selection pairs, every temperature of
the scan) with finished rows leaving a decoding batch at a quarter of it finished (before) and at half (after).

    .venv/bin/python benchmarks/prompted.py [model] [task] [rounds] [threads]

Runs `radonc_llm.predict.predict_variants` as rule predict_prompted runs it; dropping rows copies the batch's
KV buffers, so dropping them in fewer, larger steps copies less at the price of decoding finished rows a little
longer. The two alternate for `rounds` rounds (the machines are noisy); it prints each run's seconds, the
ratio within each round and its median. Defaults: tiny-llama, regimen, 2 rounds, 1 thread (as the demo's jobs).
Needs the demo's base and pairs (`make demo`).
"""
import statistics
import sys
import tempfile
import time

import pandas as pd
from workflow_config import workflow_config

from radonc_llm import sampler
from radonc_llm.predict import PredictionJob, predict_variants

model = sys.argv[1] if len(sys.argv) > 1 else "tiny-llama"
task = sys.argv[2] if len(sys.argv) > 2 else "regimen"
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 2
threads = int(sys.argv[4]) if len(sys.argv) > 4 else 1

config = workflow_config(model)
spec = config["models"][model]
pairs_dir = config["results"] / "pairs" / task
if not (pairs_dir / "train.parquet").is_file():
    sys.exit(f"{pairs_dir} not found: run `make demo` first")
splits = ("eval", "selection")
pairs = {s: pd.read_parquet(pairs_dir / f"{s}.parquet") for s in splits}
pools = dict.fromkeys(splits, pd.read_parquet(pairs_dir / "learned.parquet"))  # the adapter's pairs, as the rule
job = PredictionJob(model, spec["path"], spec["prompt_format"], None, task, config["predict"], config["prompting"],
                    threads, mem if isinstance(mem := config["predict"]["resources"].get("mem_mb"), int) else None)


def run(drop: float) -> float:
    sampler.DROP_FINISHED = drop
    with tempfile.TemporaryDirectory() as tmp:
        outputs = {(s, v, t): f"{tmp}/{s}-{v}-{t}.parquet" for s in splits for v in ("fewshot", "retrieved")
                   for t in config["predict"]["temperatures"]}
        started = time.perf_counter()
        predict_variants(job, pairs, pools, outputs)
        return time.perf_counter() - started


run(0.5)  # warm-up: imports, caches
measured = [(run(0.25), run(0.5)) for _ in range(rounds)]
ratios = sorted(before / after for before, after in measured)
print(f"{model} / {task}: prompting variants on {sum(map(len, pairs.values()))} pairs at "
      f"{len(config['predict']['temperatures'])} temperatures, {threads} thread(s), {rounds} rounds")
for label, i in (("before (rows leave at a quarter finished)", 0), ("after (at half)", 1)):
    print(f"{label}: " + ", ".join(f"{m[i]:.1f} s" for m in measured))
print(f"speed-up: median {statistics.median(ratios):.2f}x (min {ratios[0]:.2f}x, max {ratios[-1]:.2f}x)")
