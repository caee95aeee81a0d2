"""SLURM requests sized from the work: a fine-tuning or prediction job whose `resources.runtime` or
`resources.mem_mb` is `auto` asks for what its own model and pairs need, computed when the job is scheduled
(its pairs exist by then; a dry run before they do shows <TBD>). An estimate for the scheduler, erring long:

    runtime (minutes) = requests.startup_minutes
                        + requests.safety x FLOPs / (GPUs x <stage>.throughput_tflops x 10^12) / 60
    fine-tuning FLOPs = 8 x parameters x training tokens
        (per parameter and token: forward 2, backward 4, gradient checkpointing's recomputation 2; LoRA's
        frozen weights need no weight gradients, so this counts more than is done)
    training tokens   = epochs x training pairs (less the validation share) x tokens per pair
    prediction FLOPs  = 2 x parameters x (prompt tokens + answer tokens)
    prompt tokens     = pairs x tokens per pair (a prompting variant: k + 1 pairs' worth, its solved cases;
                        pairs: eval and selection, and the prompting variants' eval pairs again, all_pairs/)
    answer tokens     = pairs x temperatures x the answer budget (every answer its whole max_new_tokens)
    tokens per pair   = characters of prompt and answer / 3 + 32 (the template), at most finetune.max_length
    mem_mb            = the model's weights at the dtype they load in, once per process, x 1.2 + 2 GB
                        (models.host_memory_mb)

Parameters are counted from the weights' size and the dtype config.json stores them in. The throughput
figures are effective ones (what a job sustains, not the card's peak): config/README.md gives the defaults'
sources; measure your own with `benchmarks/gpu_7b.py` and set them.
"""
from __future__ import annotations

import errno
import math
import os

import pandas as pd

from .models import parameter_count
from .variants import PROMPTED, TRAINED, VARIANTS

CHARS_PER_TOKEN = 3  # clinical text with doses and codes: LLaMA/Mistral tokenizers give 3 to 4 characters a token
TEMPLATE_TOKENS = 32  # the chat template and the task's question around each pair


def tokens_per_pair(pairs: pd.DataFrame, max_length: int) -> float:
    chars = pairs["prompt"].str.len() + pairs["answer"].str.len()
    return float((chars / CHARS_PER_TOKEN + TEMPLATE_TOKENS).clip(upper=max_length).mean())


def finetune_flops(parameters: int, train: pd.DataFrame, settings: dict) -> float:
    """`settings`: one task's finetune settings (plan.finetune_settings), max_train_pairs already the job's."""
    pairs = len(train) if settings.get("max_train_pairs") is None else min(len(train), settings["max_train_pairs"])
    tokens = settings["epochs"] * pairs * (1 - settings["val_fraction"]) * tokens_per_pair(train,
                                                                                         settings["max_length"])
    return 8 * parameters * tokens


def predict_flops(parameters: int, splits: list[pd.DataFrame], variants: list[str], temperatures: int,
                  answer_budget: dict[str, int], k: int, max_length: int) -> float:
    """`answer_budget`: variant -> max_new_tokens; a prompting variant's prompt holds k solved pairs."""
    tokens = 0.0
    for pairs in splits:
        per_pair = tokens_per_pair(pairs, max_length)
        for variant in variants:
            shown = k if variant in PROMPTED else 0
            tokens += len(pairs) * ((shown + 1) * per_pair + temperatures * answer_budget[variant])
    return 2 * parameters * tokens


def minutes(flops: float, gpus: int, tflops: float, requests: dict) -> int:
    return math.ceil(requests["startup_minutes"] + requests["safety"] * flops / (max(1, gpus) * tflops * 1e12) / 60)


def require(paths) -> None:
    """A missing input stops the estimate the way Snakemake expects of a job not yet ready (<TBD> in a dry run)."""
    for path in paths:
        if not os.path.exists(path):
            raise FileNotFoundError(errno.ENOENT, "not yet built", str(path))


def request(config: dict, stage: str, name: str, wildcards: dict, inputs: dict, base_dir: str) -> int:
    """The `name` (runtime or mem_mb) of one job of `stage` (finetune or predict, the learning curve's and the
    prompting variants' jobs too) from its wildcards and inputs (`inputs`: name -> path)."""
    from .plan import finetune_settings, job_memory_mb
    require([inputs["base"], *(p for key, p in inputs.items() if key in ("train", "eval", "selection"))])
    if name == "mem_mb":
        return job_memory_mb(config, stage, base_dir)
    parameters = parameter_count(base_dir)
    size = wildcards.get("size")  # the learning curve's jobs: a subset, one temperature, the eval pairs
    if stage == "finetune":
        settings = finetune_settings(config, wildcards["task"])
        if size is not None:
            settings["max_train_pairs"] = int(size)
        flops = finetune_flops(parameters, pd.read_parquet(inputs["train"], columns=["prompt", "answer"]), settings)
    else:
        settings, task = config["predict"], wildcards["task"]
        prompted = "train" in inputs
        variants = list(config["prompting"]["variants"]) if prompted else [wildcards.get("variant", TRAINED)]
        budget = {v: settings["max_new_tokens" if VARIANTS[v].one_line else "vanilla_max_new_tokens"][task]
                  for v in variants}
        # a prompting job of the run also writes the eval pairs shown every train pair (all_pairs/): eval twice
        names = [s for s in ("eval", "selection") if s in inputs] + (["eval"] if "all_train" in inputs else [])
        splits = [pd.read_parquet(inputs[s], columns=["prompt", "answer"]) for s in names]
        flops = predict_flops(parameters, splits, variants, 1 if size is not None else len(settings["temperatures"]),
                              budget, config["prompting"]["k"], config["finetune"]["max_length"])
    return minutes(flops, config[stage]["resources"]["gpu"], config[stage]["throughput_tflops"], config["requests"])
