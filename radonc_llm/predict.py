"""Per-temperature predictions of a vanilla or fine-tuned model on one task's eval and selection pairs.

The model is loaded once per job and writes every temperature's file; the batched sampler that generates
them is radonc_llm/sampler.py. Each temperature samples with its own seed, so a re-run writes the same bytes.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import models
from .parsing import UNPARSED, is_refusal
from .tasks import TASKS
from .batching import budget_bytes, free_memory_bytes
from .prompting import render_prompt
from .sampler import generate, stop_token_ids
from .variants import temperature_name

log = logging.getLogger(__name__)
PREDICTION_COLUMNS = ("case_id", "temperature", "generated", "answer", "n_tokens", "seed")


def temperature_seed(seed: int, temperature: float) -> int:
    return seed + int(round(temperature * 1000))


def load_for_prediction(base_dir: str | Path, prompt_format: str, adapter_dir: str | Path | None = None,
                        dtype=None):
    """Base model (vanilla) or base + LoRA adapter merged (fine-tuned), with the same prompt format."""
    tokenizer = models.load_tokenizer(base_dir, prompt_format)
    model = models.load_model(base_dir, dtype=dtype)
    if adapter_dir is not None:
        from peft import PeftModel  # a second and a half of imports: the fine-tuned variant's jobs only
        model = PeftModel.from_pretrained(model, str(adapter_dir), local_files_only=True).merge_and_unload()
    model.eval()
    tokenizer.padding_side = "left"  # decoder-only: the prompt must end where generation starts
    return model, tokenizer


def max_new_tokens(settings: dict, task: str, one_line: bool) -> int:
    """`one_line`: the model knows the answer's format (fine-tuned, or shown solved examples), so its
    answer stops at the line's end within predict.max_new_tokens; a zero-shot answer is kept whole
    (predict.vanilla_max_new_tokens)."""
    return settings["max_new_tokens"][task] if one_line else settings["vanilla_max_new_tokens"][task]


def write_predictions(task: str, pairs: pd.DataFrame, temperature: float, seed: int, texts: list[str],
                      counts: list[int], path: str, examples: list[str] | None = None) -> None:
    """One temperature's parquet (PREDICTION_COLUMNS, and `examples` for a prompting variant); its counts
    go to the log."""
    from .tables import write_parquet
    table = pd.DataFrame({"case_id": pairs["case_id"].to_numpy(), "temperature": temperature, "generated": texts,
                          "answer": [TASKS[task].parse(t) for t in texts], "n_tokens": counts, "seed": seed})
    if examples is not None:
        table["examples"] = examples
    write_parquet(table, path)
    unparsed = table["answer"] == UNPARSED
    log.info("T=%s: %d generations, %d unparsed (%d of them refusals), %.1f tokens on average",
             temperature_name(temperature),
             len(table), int(unparsed.sum()), int((unparsed & table["generated"].map(is_refusal)).sum()),
             table["n_tokens"].mean())


def predict_temperatures(model, tokenizer, task: str, pairs: pd.DataFrame, settings: dict, one_line: bool,
                         outputs: dict[float, str], prompts: list[str] | None = None,
                         examples: list[str] | None = None, memory_budget: int | None = None) -> None:
    """Write one parquet per temperature (`outputs` maps temperature -> path); `one_line` as in
    `max_new_tokens`. `prompts`: the rendered prompts (default: each pair's prompt alone); `examples`: the
    case IDs each prompt showed; `memory_budget`: bytes the batches may take (`generate`)."""
    from tqdm import tqdm
    if prompts is None:
        prompts = [render_prompt(tokenizer, p) for p in pairs["prompt"]]
    temperatures = list(outputs)
    seeds = [temperature_seed(settings["seed"], t) for t in temperatures]
    with tqdm(total=len(prompts) * len(outputs), desc=f"{task} generations", unit="gen") as bar:
        results = generate(model, tokenizer, prompts, temperatures=temperatures, seeds=seeds, top_p=settings["top_p"],
                           top_k=settings["top_k"], max_new_tokens=max_new_tokens(settings, task, one_line),
                           batch_size=settings["batch_size"], prefill_chunk=settings["prefill_chunk"],
                           memory_budget=memory_budget, stop_ids=stop_token_ids(tokenizer, stop_at_newline=one_line),
                           progress=bar)
    for temperature, seed, (texts, counts) in zip(temperatures, seeds, results):
        write_predictions(task, pairs, temperature, seed, texts, counts, outputs[temperature], examples)


def predict_vllm(base_dir, adapter_dir, task, pairs, settings, one_line, outputs, prompts, tokenizer,
                 examples=None) -> None:
    """The optional vLLM backend for GPU nodes: the base loaded once, the adapter applied per request;
    `prompts` rendered as for `predict_temperatures` (their chat template already holds the BOS), handed to the
    engine as token IDs tokenized as the transformers path does (no special tokens added), so that one BOS is
    sent, never two."""
    from vllm import LLM, SamplingParams  # imported only when selected
    from vllm.lora.request import LoRARequest
    requests = [{"prompt_token_ids": ids} for ids in tokenizer(prompts, add_special_tokens=False)["input_ids"]]
    dtype = {"bf16": "bfloat16", "fp32": "float32"}[models.resolve_precision(settings["precision"])]
    llm = LLM(model=str(base_dir), tokenizer=str(base_dir), enable_lora=adapter_dir is not None, dtype=dtype,
              max_lora_rank=settings.get("max_lora_rank", 64), seed=settings["seed"], trust_remote_code=False)
    lora = LoRARequest(f"{task}-adapter", 1, str(adapter_dir)) if adapter_dir is not None else None
    for temperature, path in outputs.items():
        seed = temperature_seed(settings["seed"], temperature)
        params = SamplingParams(temperature=temperature, top_p=settings["top_p"], top_k=settings["top_k"],
                                max_tokens=max_new_tokens(settings, task, one_line), seed=seed,
                                stop=["\n"] if one_line else None, skip_special_tokens=True)
        results = llm.generate(requests, params, lora_request=lora)
        write_predictions(task, pairs, temperature, seed, [r.outputs[0].text for r in results],
                          [len(r.outputs[0].token_ids) for r in results], path, examples)


@dataclass(frozen=True)
class PredictionJob:
    """What one prediction job predicts with: the base model (and adapter), the task and the settings."""
    model: str
    base_dir: str
    prompt_format: str
    adapter_dir: str | None  # the fine-tuned variant's LoRA adapter; None: the base alone
    task: str
    settings: dict  # predict: of the config (temperatures, seed, token budgets, batching, precision, backend)
    prompting: dict | None  # prompting: of the config (k, seed) for the prompting variants; None: no examples
    threads: int
    memory_mb: int | None = None  # the job's host memory (on the CPU, the batches' limit with what is available)


def predict_variants(job: PredictionJob, pairs: dict[str, pd.DataFrame], pools: dict[str, pd.DataFrame] | None,
                     outputs: dict[tuple[str, str, float], str]) -> None:
    """One prediction job: load the model once (base + adapter for `finetuned`; on the GPU where there is one,
    in bf16 where `predict.precision` asks for it, on CPU too) and write every split's and variant's temperature
    files (`pairs`: split -> its pairs, eval and selection; `outputs`: (split, variant, temperature) -> path).
    Prompting variants show solved training pairs (`job.prompting`: k and seed) from each split's pool (`pools`:
    split -> pairs; the adapter's training pairs, which hold no selection pair, so that a variant is the same
    predictor on the eval and the selection pairs: the same few-shot draw, the same pool to retrieve from; for
    "all_pairs", the eval cases shown every train pair), cut to fit the model's context."""
    import torch

    from .demonstrations import variant_prompts
    from .variants import variant as registered
    base_dir, prompt_format, adapter_dir, task, settings = (job.base_dir, job.prompt_format, job.adapter_dir,
                                                            job.task, job.settings)
    vllm = settings["backend"] == "vllm"
    if vllm:
        tokenizer = models.load_tokenizer(base_dir, prompt_format)
    else:
        if not torch.cuda.is_available():
            torch.set_num_threads(job.threads)
        parameters = models.parameter_count(base_dir)
        precision = models.resolve_precision(settings["precision"], parameters)
        log.info("precision %s (predict.precision %s; %s, %.0fM parameters)", precision, settings["precision"],
                 models.compute_device(), parameters / 1e6)
        dtype = torch.bfloat16 if precision == "bf16" else torch.float32
        model, tokenizer = load_for_prediction(base_dir, prompt_format, adapter_dir, dtype=dtype)
        if torch.cuda.is_available():
            model.to("cuda")
        budget = budget_bytes(free_memory_bytes(model.device, job.memory_mb))
    shown = job.prompting or {"k": 0, "seed": 0}
    if pools and "selection" in pairs and pools["selection"]["case_id"].isin(pairs["selection"]["case_id"]).any():
        raise ValueError("the solved cases shown include selection pairs: a variant chosen on them must not show them")
    room = models.context_length(base_dir) - max_new_tokens(settings, task, one_line=True)
    for split, variant in dict.fromkeys((s, v) for s, v, _ in outputs):
        files = {t: path for (s, v, t), path in outputs.items() if (s, v) == (split, variant)}
        cases = pairs[split]
        spec = registered(variant)
        prompts, examples, cut = variant_prompts(spec.draw, tokenizer, cases, pools[split] if pools else None,
                                                 shown["k"], shown["seed"], room)
        if examples is not None:
            log.info("%s: %d solved training cases shown per prompt; %d of %d prompts lost examples to fit the "
                     "model's %d tokens", variant, shown["k"], cut, len(cases), room)
        elif cut:
            log.warning("%s: %d of %d prompts longer than the model's %d tokens (less the answer's room): cut from "
                        "their start", variant, cut, len(cases), room)
        one_line = spec.one_line
        if vllm:
            predict_vllm(base_dir, adapter_dir, task, cases, settings, one_line, files, prompts, tokenizer, examples)
            continue
        on = "eval pairs, solved cases from every train pair," if split == "all_pairs" else f"{split} pairs"
        log.info("%s %s on %d %s %s at %d temperatures, %s on %s", job.model, variant, len(cases), task, on,
                 len(files), str(dtype).removeprefix("torch."), model.device)
        predict_temperatures(model, tokenizer, task, cases, settings, one_line, files, prompts, examples, budget)
