"""Batches by a fixed count against batches by the memory budget, on the CPU: same model, prompts, temperature.

    .venv/bin/python benchmarks/memory_batches.py [model] [task] [rounds]

Needs the demo's fine-tuned adapter (`make demo`; `make real` for smollm2-135m). The fixed path is
`radonc_llm.sampler.generate` with `predict.batch_size` prompts a batch, as before batches were sized by memory;
the budgeted path is what rule predict runs: the same limit, and the budget of the CPU job's memory
(`predict.resources.mem_mb`, radonc_llm/batching.py). Prints the batches each path forms, both times and their
ratio (median of the rounds, alternating; the target: 1.0 within noise, the budget costs nothing on the CPU).
"""
import sys
import time

import pandas as pd
import torch
from workflow_config import workflow_config

from radonc_llm.batching import budget_bytes, free_memory_bytes, plan_batches
from radonc_llm.predict import load_for_prediction, temperature_seed
from radonc_llm.sampler import generate, model_footprint, stop_token_ids
from radonc_llm.prompting import render_prompt

model_name = sys.argv[1] if len(sys.argv) > 1 else "tiny-llama"
task = sys.argv[2] if len(sys.argv) > 2 else "regimen"
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
config = workflow_config(model_name)
settings, spec = config["predict"], config["models"][model_name]
torch.set_num_threads(2)
adapter = config["results"] / "finetune" / model_name / task / "adapter"
if not adapter.is_dir():
    sys.exit(f"{adapter} not found: run `make demo` (or `make real` for smollm2-135m) first")
model, tokenizer = load_for_prediction(spec["path"], spec["prompt_format"], adapter)
pairs = pd.read_parquet(config["results"] / "pairs" / task / "eval.parquet")
prompts = [render_prompt(tokenizer, p) for p in pairs["prompt"]]
stop_ids, max_new = stop_token_ids(tokenizer, stop_at_newline=True), settings["max_new_tokens"][task]
budget = budget_bytes(free_memory_bytes(model.device, settings["resources"]["mem_mb"]))
widths = sorted((len(ids) for ids in tokenizer(prompts, add_special_tokens=False)["input_ids"]), reverse=True)
sizes = plan_batches(widths, max_new, model_footprint(model), budget, settings["batch_size"], settings["prefill_chunk"])


def run(memory_budget):
    return generate(model, tokenizer, prompts, temperatures=[0.7], seeds=[temperature_seed(settings["seed"], 0.7)],
                    top_p=settings["top_p"], top_k=settings["top_k"], max_new_tokens=max_new,
                    batch_size=settings["batch_size"], prefill_chunk=settings["prefill_chunk"], stop_ids=stop_ids,
                    memory_budget=memory_budget)


def timed(memory_budget):
    start = time.perf_counter()
    run(memory_budget)
    return time.perf_counter() - start


run(None)  # warm-up
measured = [(timed(None), timed(budget)) for _ in range(rounds)]
ratios = sorted(budgeted / fixed for fixed, budgeted in measured)
fixed, budgeted = measured[len(measured) // 2]
print(f"{model_name} / {task}: {len(prompts)} prompts, T 0.7, 2 threads, {rounds} rounds; budget "
      f"{budget / 2**30:.1f} GiB of mem_mb {settings['resources']['mem_mb']}")
print(f"fixed: batches of {settings['batch_size']}; budgeted: {len(sizes)} batches of {min(sizes)} to {max(sizes)}")
print(f"fixed {fixed:.2f} s, budgeted {budgeted:.2f} s: budgeted / fixed median {ratios[len(ratios) // 2]:.2f} "
      f"(min {ratios[0]:.2f}, max {ratios[-1]:.2f}; target: 1.0 within noise)")
