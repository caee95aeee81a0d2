"""predict.precision bf16 against fp32 on CPU: time and answer quality through the predict rule's own code.

    .venv/bin/python benchmarks/prediction_precision.py [model] [task] [variant] [n_prompts] [threads]

Loads the model as rule predict does (`load_for_prediction`, the adapter merged for `finetuned`) in fp32,
then in bf16, and runs `predict_temperatures` on the task's eval prompts at T = 0.7, one run each (fp32
first); prints both times, their ratio, each run's headline (ROUGE-1 recall for regimen, accuracy
otherwise) and the paired difference with its standard error, so "same results within noise" can be
read off. Worth it only on CPUs with bf16 instructions (avx512_bf16 or amx_bf16 in /proc/cpuinfo).
Defaults: smollm2-135m (`make real` first), regimen, vanilla, every eval prompt, 1 thread (as the rule).
"""
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch
from workflow_config import workflow_config

from radonc_llm.metrics import score_cases
from radonc_llm.predict import load_for_prediction, predict_temperatures

model_name = sys.argv[1] if len(sys.argv) > 1 else "smollm2-135m"
task = sys.argv[2] if len(sys.argv) > 2 else "regimen"
variant = sys.argv[3] if len(sys.argv) > 3 else "vanilla"
n = int(sys.argv[4]) if len(sys.argv) > 4 else None
torch.set_num_threads(int(sys.argv[5]) if len(sys.argv) > 5 else 1)
config = workflow_config(model_name)
spec = config["models"][model_name]
adapter = config["results"] / "finetune" / model_name / task / "adapter" if variant == "finetuned" else None
pairs_path = config["results"] / "pairs" / task / "eval.parquet"
needed = [Path(spec["path"]) / "config.json", pairs_path] + ([adapter / "adapter_config.json"] if adapter else [])
for path in needed:
    if not path.is_file():
        sys.exit(f"{path} not found: run `make real` (`make demo` for the tiny models) first")
pairs = pd.read_parquet(pairs_path).head(n)
settings = config["predict"]
headline = "ROUGE-1 recall" if task == "regimen" else "accuracy"
runs = {}
with tempfile.TemporaryDirectory() as tmp:
    for dtype in (torch.float32, torch.bfloat16):
        model, tokenizer = load_for_prediction(Path(spec["path"]), spec["prompt_format"], adapter, dtype=dtype)
        out = {0.7: Path(tmp) / f"{dtype}.parquet"}
        start = time.perf_counter()
        predict_temperatures(model, tokenizer, task, pairs, settings, variant == "finetuned", out)
        runs[dtype] = time.perf_counter() - start, score_cases(task, pairs, pd.read_parquet(out[0.7]))["score"]
(fp32, a), (bf16, b) = runs[torch.float32], runs[torch.bfloat16]
d = b.astype(float) - a.astype(float)
print(f"{model_name} {variant} / {task}: {len(pairs)} prompts, T = 0.7, {torch.get_num_threads()} thread(s)")
print(f"fp32 {fp32:.1f} s, bf16 {bf16:.1f} s: {fp32 / bf16:.2f}x")
print(f"{headline}: fp32 {a.mean():.3f}, bf16 {b.mean():.3f}; paired difference {d.mean():+.3f} "
      f"(SE {d.std(ddof=1) / len(d) ** 0.5:.3f})")
