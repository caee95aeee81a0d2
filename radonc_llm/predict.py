"""Per-temperature predictions of a vanilla or fine-tuned model on one task's eval pairs.

The model is loaded once per job and writes every temperature's file. Generation is batched:
prompts sorted by length and left-padded, the KV cache on, each batch stopping when every
sequence has reached EOS (or, for fine-tuned models, the end of the answer line). Sampling is
seeded per temperature, so a re-run writes the same bytes.
"""
from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from . import models
from .parsing import PARSERS
from .prompting import render_prompt

log = logging.getLogger(__name__)
PREDICTION_COLUMNS = ("case_id", "temperature", "generated", "answer", "n_tokens", "seed")


def temperature_seed(seed: int, temperature: float) -> int:
    return seed + int(round(temperature * 1000))


def load_for_prediction(base_dir: str | Path, prompt_format: str, adapter_dir: str | Path | None = None,
                        dtype=None):
    """Base model (vanilla) or base + LoRA adapter merged (fine-tuned), with the same prompt format."""
    from peft import PeftModel
    tokenizer = models.load_tokenizer(base_dir, prompt_format)
    model = models.load_model(base_dir, dtype=dtype)
    if adapter_dir is not None:
        model = PeftModel.from_pretrained(model, str(adapter_dir), local_files_only=True).merge_and_unload()
    model.eval()
    tokenizer.padding_side = "left"  # decoder-only: the prompt must end where generation starts
    return model, tokenizer


def stop_token_ids(tokenizer, stop_at_newline: bool) -> list[int]:
    """EOS, and for one-line answers every token that holds a line break."""
    ids = [tokenizer.eos_token_id]
    if stop_at_newline:
        vocab = tokenizer.get_vocab()
        ids += sorted(i for t, i in vocab.items() if "\n" in tokenizer.convert_tokens_to_string([t]))
    return ids


def generate(model, tokenizer, prompts: list[str], *, temperature: float, top_p: float, top_k: int,
             max_new_tokens: int, seed: int, batch_size: int, stop_ids: list[int], sort_by_length: bool = True,
             progress=None) -> tuple[list[str], list[int]]:
    """Sample one completion per rendered prompt; returns (texts, generated token counts) in input order."""
    import torch
    lengths = [len(ids) for ids in tokenizer(prompts, add_special_tokens=False)["input_ids"]]
    order = sorted(range(len(prompts)), key=lambda i: -lengths[i]) if sort_by_length else list(range(len(prompts)))
    texts, counts = [None] * len(prompts), [0] * len(prompts)
    torch.manual_seed(seed)
    for start in range(0, len(order), batch_size):
        index = order[start:start + batch_size]
        batch = tokenizer([prompts[i] for i in index], return_tensors="pt", padding=True, add_special_tokens=False)
        batch = batch.to(model.device)
        with torch.inference_mode():
            out = model.generate(**batch, do_sample=True, temperature=temperature, top_p=top_p, top_k=top_k,
                                 max_new_tokens=max_new_tokens, eos_token_id=stop_ids,
                                 pad_token_id=tokenizer.pad_token_id, use_cache=True)
        new = out[:, batch["input_ids"].shape[1]:]
        # tokens up to and including the first stop token; generate pads the rest
        is_stop = torch.isin(new, torch.tensor(stop_ids, device=new.device))
        first_stop = torch.where(is_stop.any(1), is_stop.int().argmax(1) + 1, torch.tensor(new.shape[1]))
        decoded = tokenizer.batch_decode(new, skip_special_tokens=True)
        for i, text, n in zip(index, decoded, first_stop.tolist()):
            texts[i], counts[i] = text, n
        if progress is not None:
            progress.update(len(index))
    return texts, counts


def predict_temperatures(model, tokenizer, task: str, pairs: pd.DataFrame, settings: dict, finetuned: bool,
                         outputs: dict[float, str]) -> None:
    """Write one parquet per temperature (`outputs` maps temperature -> path)."""
    from tqdm import tqdm

    from .tables import write_parquet
    prompts = [render_prompt(tokenizer, p) for p in pairs["prompt"]]
    stop_ids = stop_token_ids(tokenizer, stop_at_newline=finetuned)
    max_new = settings["max_new_tokens"][task] if finetuned else settings["vanilla_max_new_tokens"][task]
    parse = PARSERS[task]
    with tqdm(total=len(prompts) * len(outputs), desc=f"{task} generations", unit="gen") as bar:
        for temperature, path in outputs.items():
            seed = temperature_seed(settings["seed"], temperature)
            texts, counts = generate(model, tokenizer, prompts, temperature=temperature, top_p=settings["top_p"],
                                     top_k=settings["top_k"], max_new_tokens=max_new, seed=seed,
                                     batch_size=settings["batch_size"], stop_ids=stop_ids, progress=bar)
            table = pd.DataFrame({"case_id": pairs["case_id"], "temperature": temperature, "generated": texts,
                                  "answer": [parse(t) for t in texts], "n_tokens": counts, "seed": seed})
            write_parquet(table[list(PREDICTION_COLUMNS)], path)
            log.info("T=%.1f: %d generations, %d unparsed, %.1f tokens on average", temperature, len(table),
                     int((table["answer"] == "unparsed").sum()), table["n_tokens"].mean())


def predict_vllm(base_dir, adapter_dir, task, pairs, settings, finetuned, outputs, prompt_format) -> None:
    """The optional vLLM backend for GPU nodes: the base loaded once, the adapter applied per request."""
    from vllm import LLM, SamplingParams  # imported only when selected
    from vllm.lora.request import LoRARequest

    from .tables import write_parquet
    tokenizer = models.load_tokenizer(base_dir, prompt_format)
    prompts = [render_prompt(tokenizer, p) for p in pairs["prompt"]]
    llm = LLM(model=str(base_dir), tokenizer=str(base_dir), enable_lora=adapter_dir is not None,
              max_lora_rank=settings.get("max_lora_rank", 64), seed=settings["seed"], trust_remote_code=False)
    lora = LoRARequest(f"{task}-adapter", 1, str(adapter_dir)) if adapter_dir is not None else None
    max_new = settings["max_new_tokens"][task] if finetuned else settings["vanilla_max_new_tokens"][task]
    parse = PARSERS[task]
    for temperature, path in outputs.items():
        seed = temperature_seed(settings["seed"], temperature)
        params = SamplingParams(temperature=temperature, top_p=settings["top_p"], top_k=settings["top_k"],
                                max_tokens=max_new, seed=seed, stop=["\n"] if finetuned else None,
                                skip_special_tokens=True)
        results = llm.generate(prompts, params, lora_request=lora)
        texts = [r.outputs[0].text for r in results]
        table = pd.DataFrame({"case_id": pairs["case_id"], "temperature": temperature, "generated": texts,
                              "answer": [parse(t) for t in texts],
                              "n_tokens": [len(r.outputs[0].token_ids) for r in results], "seed": seed})
        write_parquet(table[list(PREDICTION_COLUMNS)], path)
