"""One-at-a-time generation against the batched path: same model, prompts and temperature, one run.

    .venv/bin/python benchmarks/generation.py [model] [task] [n_prompts]

Needs the demo's fine-tuned adapter (`make demo`, or `snakemake adapters`). Prints both times,
the ratio and tokens per second. The target on the CPU tiny model is a ratio of 20 or more.
"""
import sys
import time
from pathlib import Path

import pandas as pd
import torch
import yaml

from radonc_llm.predict import generate, load_for_prediction, stop_token_ids
from radonc_llm.prompting import render_prompt

root = Path(__file__).parents[1]
config = yaml.safe_load((root / "config" / "config.yaml").read_text())
model_name = sys.argv[1] if len(sys.argv) > 1 else "tiny-llama"
task = sys.argv[2] if len(sys.argv) > 2 else "regimen"
n = int(sys.argv[3]) if len(sys.argv) > 3 else 128
settings = config["predict"]
spec = config["models"][model_name]
adapter = root / "results" / "finetune" / model_name / task / "adapter"
if not adapter.is_dir():
    sys.exit(f"{adapter} not found: run `make demo` (or `snakemake --profile profiles/local adapters`) first")
torch.set_num_threads(settings["threads"])
model, tokenizer = load_for_prediction(root / spec["path"], spec["prompt_format"], adapter)
pairs = pd.read_parquet(root / "results" / "pairs" / task / "eval.parquet").head(n)
prompts = [render_prompt(tokenizer, p) for p in pairs["prompt"]]
common = dict(temperature=0.7, top_p=settings["top_p"], top_k=settings["top_k"],
              max_new_tokens=settings["max_new_tokens"][task], seed=settings["seed"],
              stop_ids=stop_token_ids(tokenizer, stop_at_newline=True))
generate(model, tokenizer, prompts[:4], batch_size=4, **common)  # warm-up

start = time.perf_counter()
_, single_tokens = generate(model, tokenizer, prompts, batch_size=1, sort_by_length=False, **common)
single = time.perf_counter() - start
start = time.perf_counter()
_, batched_tokens = generate(model, tokenizer, prompts, batch_size=settings["batch_size"], **common)
batched = time.perf_counter() - start

print(f"{model_name} / {task}: {n} prompts, temperature 0.7, {torch.get_num_threads()} threads")
print(f"one at a time: {single:.1f} s, {sum(single_tokens) / single:.0f} tokens/s")
print(f"batched ({settings['batch_size']}, sorted by length): {batched:.1f} s, "
      f"{sum(batched_tokens) / batched:.0f} tokens/s")
print(f"speed-up: {single / batched:.1f}x (target >= 20x)")
