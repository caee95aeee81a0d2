"""Fine-tuning throughput: non-padding tokens per second through the workflow's own code path.

    .venv/bin/python benchmarks/training.py [head|dropout|bf16] [model] [task] [n_pairs] [rounds] [threads]

Runs `radonc_llm.finetune.train_adapter` (what rule finetune runs) on the same seeded subset of the
task's training pairs, one epoch, with the settings of before and after a CPU speed-up, after being the
config's: `head` (the default) compares TRL's LM head on every position and random batches
(`answer_tokens_only: false, group_by_length: false`) before; `dropout` compares LoRA dropout 0.05 before;
`bf16` compares fp32 before (`precision: auto` is bf16 mixed precision on a CPU with bf16 instructions).
The two alternate for `rounds` rounds (the machines are noisy); it prints each run's tokens per second
(non-padding tokens of the training set / training time), the ratio within each round and the median.
Defaults: tiny-llama, modality, 1,500 pairs, 3 rounds, 2 threads. Needs the demo's base and pairs
(`make demo`); for `smollm2-135m` the real model's (`make real`), with config/smollm2.yaml's settings.
"""
import copy
import statistics
import sys
import tempfile
from pathlib import Path

import pandas as pd
from workflow_config import root, workflow_config

from radonc_llm.finetune import train_adapter

lever = sys.argv.pop(1) if len(sys.argv) > 1 and sys.argv[1] in ("head", "dropout", "bf16") else "head"
model = sys.argv[1] if len(sys.argv) > 1 else "tiny-llama"
task = sys.argv[2] if len(sys.argv) > 2 else "modality"
n_pairs = int(sys.argv[3]) if len(sys.argv) > 3 else 1500
rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 3
threads = int(sys.argv[5]) if len(sys.argv) > 5 else 2

config = workflow_config(model)
spec_model = config["models"][model]
base = root / spec_model["path"]
train_path = config["results"] / "pairs" / task / "train.parquet"
for needed in (base / "config.json", train_path):
    if not needed.is_file():
        sys.exit(f"{needed} not found: run `make demo` (or `make real` for smollm2-135m) first")

settings = {k: v for k, v in config["finetune"].items() if k not in ("per_task", "threads", "resources")}
settings.update(epochs=1, max_train_pairs=None, save_steps=10**6)
before = {"head": {**settings, "answer_tokens_only": False, "group_by_length": False},
          "dropout": {**settings, "lora": {**settings["lora"], "dropout": 0.05}},
          "bf16": {**settings, "precision": "fp32"}}[lever]
variants = {"before": before, "after": settings}

with tempfile.TemporaryDirectory() as tmp:
    pairs = pd.read_parquet(train_path)
    pairs.sample(n=min(n_pairs, len(pairs)), random_state=settings["seed"]).to_parquet(Path(tmp) / "train.parquet")

    def run(name):
        out = Path(tmp) / name
        card = train_adapter({
            "model": model, "task": task, "base_dir": str(base), "prompt_format": spec_model["prompt_format"],
            "train": str(Path(tmp) / "train.parquet"), "settings": copy.deepcopy(variants[name]),
            "work_root": str(out / "work"), "threads": threads,
            "outputs": {"adapter": str(out / "adapter"), "log_csv": str(out / "log.csv"),
                        "curve": str(out / "curve.png"), "card": str(out / "card.json")}})
        return (card["train_tokens_per_second"], card["train_seconds"], card["train_tokens"],
                card["final_validation_loss"], card["precision"])

    run("after")  # warm-up: imports, caches
    measured = [(run("before"), run("after")) for _ in range(rounds)]

ratios = sorted(after[0] / before[0] for before, after in measured)
before, after = measured[len(measured) // 2]
print(f"{model} / {task}: {n_pairs} pairs, 1 epoch, batch {settings['batch_size']}, {threads} threads, {rounds} rounds")
after_label = {"head": ", ".join(["answer tokens only" if settings.get("answer_tokens_only")
                                  else "LM head on every position",
                                  "length-grouped batches" if settings.get("group_by_length") else "random batches"]),
               "dropout": f"LoRA dropout {settings['lora']['dropout']}",
               "bf16": f"precision {settings['precision']}: {after[4]}"}[lever]
before_label = {"head": "LM head on every position, random batches", "dropout": "LoRA dropout 0.05",
                "bf16": "fp32"}[lever]
for label, (tps, seconds, tokens, val, _) in ((f"before ({before_label})", before), (f"after ({after_label})", after)):
    print(f"{label}: {seconds:.1f} s for {tokens:,} tokens, {tps:,.0f} tokens/s, validation loss {val:.3f}")
print(f"speed-up: median {statistics.median(ratios):.1f}x (min {ratios[0]:.1f}x, max {ratios[-1]:.1f}x)")
