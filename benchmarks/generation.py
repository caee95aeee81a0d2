"""One-at-a-time generation against the batched path: same model, prompts and temperature, one run.

    .venv/bin/python benchmarks/generation.py [model] [task] [n_prompts] [threads] [rounds] [--scan]

Needs the demo's fine-tuned adapter (`make demo`, or `snakemake adapters`; `make real` for
smollm2-135m). "One at a time" is what a first script does: `model.generate` per prompt (KV cache
on, stop at the end of the line). The batched path is `radonc_llm.sampler.generate` as the predict
rule runs it, at one temperature (the rule also reuses each batch's prefill across its ten
temperatures, which this leaves out). Prints both times, the ratio and tokens per second; the target
on the CPU tiny model is a ratio of 20 or more. Default: the whole eval set of the task, 2 threads,
three rounds of (one at a time, batched), the ratio taken within each round and its median quoted
(the machines are noisy). With --scan, one more round of the predict rule's own workload: every
temperature of the config's scan, one at a time per prompt and temperature against one batched call
that prefills each batch once for all temperatures.
"""
import sys
import time

import pandas as pd
import torch
from workflow_config import workflow_config

from radonc_llm.predict import load_for_prediction, temperature_seed
from radonc_llm.sampler import generate, stop_token_ids
from radonc_llm.prompting import render_prompt

scan = "--scan" in sys.argv
sys.argv = [a for a in sys.argv if a != "--scan"]
model_name = sys.argv[1] if len(sys.argv) > 1 else "tiny-llama"
config = workflow_config(model_name)
task = sys.argv[2] if len(sys.argv) > 2 else "regimen"
n = int(sys.argv[3]) if len(sys.argv) > 3 else None
torch.set_num_threads(int(sys.argv[4]) if len(sys.argv) > 4 else 2)
rounds = int(sys.argv[5]) if len(sys.argv) > 5 else 3
settings = config["predict"]
spec = config["models"][model_name]
adapter = config["results"] / "finetune" / model_name / task / "adapter"
if not adapter.is_dir():
    sys.exit(f"{adapter} not found: run `make demo` (or `snakemake --profile profiles/local adapters`) first")
model, tokenizer = load_for_prediction(spec["path"], spec["prompt_format"], adapter)
pairs = pd.read_parquet(config["results"] / "pairs" / task / "eval.parquet").head(n)
prompts = [render_prompt(tokenizer, p) for p in pairs["prompt"]]
stop_ids = stop_token_ids(tokenizer, stop_at_newline=True)
temperature, max_new = 0.7, settings["max_new_tokens"][task]


def one_at_a_time(prompts, temperature=temperature):
    torch.manual_seed(settings["seed"])
    n_tokens = 0
    with torch.inference_mode():
        for prompt in prompts:
            enc = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
            out = model.generate(**enc, do_sample=True, temperature=temperature, top_p=settings["top_p"],
                                 top_k=settings["top_k"], max_new_tokens=max_new, eos_token_id=stop_ids,
                                 pad_token_id=tokenizer.pad_token_id)
            n_tokens += out.shape[1] - enc["input_ids"].shape[1]
    return n_tokens


def batched(prompts, temperatures=(temperature,)):
    seeds = [temperature_seed(settings["seed"], t) for t in temperatures]
    results = generate(model, tokenizer, prompts, temperatures=list(temperatures), seeds=seeds,
                       top_p=settings["top_p"], top_k=settings["top_k"], max_new_tokens=max_new,
                       batch_size=settings["batch_size"], prefill_chunk=settings["prefill_chunk"], stop_ids=stop_ids)
    return sum(sum(counts) for _, counts in results)


one_at_a_time(prompts[:4]), batched(prompts[:4])  # warm-up


def timed(run):
    start = time.perf_counter()
    tokens = run(prompts)
    return time.perf_counter() - start, tokens


measured = [(timed(one_at_a_time), timed(batched)) for _ in range(rounds)]
ratios = sorted(single / fast for (single, _), (fast, _) in measured)
(single, single_tokens), (fast, batched_tokens) = measured[len(measured) // 2]
print(f"{model_name} / {task}: {len(prompts)} prompts, temperature {temperature}, {torch.get_num_threads()} threads, "
      f"{rounds} rounds")
print(f"one at a time (model.generate per prompt): {single:.1f} s, {single_tokens / single:.0f} tokens/s")
print(f"batched ({settings['batch_size']} per batch, sorted by length): {fast:.2f} s, "
      f"{batched_tokens / fast:.0f} tokens/s")
print(f"speed-up: median {ratios[len(ratios) // 2]:.1f}x (min {ratios[0]:.1f}x, max {ratios[-1]:.1f}x; target >= 20x)")
if scan:
    temperatures = settings["temperatures"]
    (single, single_tokens), (fast, batched_tokens) = [
        timed(lambda prompts: sum(one_at_a_time(prompts, t) for t in temperatures)),
        timed(lambda prompts: batched(prompts, temperatures))]
    print(f"the predict rule's scan, {len(temperatures)} temperatures, one round: one at a time {single:.1f} s "
          f"({single_tokens / single:.0f} tokens/s), batched {fast:.2f} s ({batched_tokens / fast:.0f} tokens/s): "
          f"{single / fast:.1f}x")
