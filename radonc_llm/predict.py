"""Per-temperature predictions of a vanilla or fine-tuned model on one task's eval pairs.

The model is loaded once per job and writes every temperature's file. Generation is batched:
prompts sorted by length, prefilled once per batch (in chunks, left-padded) and decoded at every
temperature with the KV cache; rows leave the batch as they reach EOS (or, for fine-tuned models,
the end of the answer line). Sampling is seeded per temperature, so a re-run writes the same bytes.
"""
from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from . import models
from .parsing import PARSERS, UNPARSED, is_refusal
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


def sample_next(logits, temperature: float, warpers, generator):
    """One token per row from softmax(logits / T), top-k/top-p applied by transformers' own warpers.

    Inverse-CDF sampling draws one uniform number per row (torch.multinomial and Gumbel noise draw
    one per vocabulary entry, a fifth of the decode time on a small model)."""
    import torch
    scores = logits.float() / temperature
    for warp in warpers:
        scores = warp(None, scores)
    cdf = torch.softmax(scores, -1).cumsum(-1)
    u = torch.rand(len(cdf), 1, generator=generator, device=cdf.device) * cdf[:, -1:]
    # right=True: u = 0 must not pick a leading zero-probability token
    return torch.searchsorted(cdf, u, right=True).squeeze(1).clamp_(max=cdf.shape[1] - 1)


def prefill(model, tokenizer, input_ids: list[list[int]], chunk: int):
    """Run the tokenized prompts (sorted longest first) through the model in chunks padded to their own
    length, then left-pad the chunks' KV caches to one batch: far fewer pad tokens computed than
    one padded batch. Returns (cache tensors per layer, attention mask, next positions, logits)."""
    import torch
    import torch.nn.functional as F
    from transformers import DynamicCache
    parts = []
    for start in range(0, len(input_ids), chunk):
        enc = tokenizer.pad({"input_ids": input_ids[start:start + chunk]}, return_tensors="pt").to(model.device)
        positions = (enc["attention_mask"].cumsum(-1) - 1).clamp(min=0)
        cache = DynamicCache(config=model.config)
        logits = model(**enc, position_ids=positions, cache=cache, use_cache=True,
                       logits_to_keep=1).logits[:, -1]
        parts.append((enc["attention_mask"], positions[:, -1] + 1, logits,
                      [(layer.keys, layer.values) for layer in cache.layers]))
    width = max(mask.shape[1] for mask, *_ in parts)
    left = [width - mask.shape[1] for mask, *_ in parts]  # padding goes left, where the mask hides it
    mask = torch.cat([F.pad(m, (pad, 0)) for (m, *_), pad in zip(parts, left)])
    layers = [tuple(torch.cat([F.pad(part[3][i][j], (0, 0, pad, 0)) for part, pad in zip(parts, left)])
                    for j in (0, 1)) for i in range(len(parts[0][3]))]
    return layers, mask, torch.cat([p[1] for p in parts]), torch.cat([p[2] for p in parts])


def decode(model, prefilled, *, temperature: float, warpers, max_new_tokens: int, stop, pad_id: int, generator):
    """Sample until every row has produced a stop token (kept) or max_new_tokens. Finished rows are
    dropped from the batch (and its KV cache) as they finish, so no step computes for them."""
    import torch
    from transformers import DynamicCache
    layers, mask, position, logits = prefilled
    n, width = mask.shape
    cache = DynamicCache(layers, config=model.config)  # a fresh copy: the prefill serves every temperature
    mask = torch.cat([mask, mask.new_ones(n, max_new_tokens)], 1)
    tokens = torch.full((n, max_new_tokens), pad_id, dtype=torch.long, device=mask.device)
    counts = torch.full((n,), max_new_tokens, dtype=torch.long, device=mask.device)
    alive = torch.arange(n, device=mask.device)
    for step in range(max_new_tokens):
        token = sample_next(logits, temperature, warpers, generator)
        tokens[alive, step] = token
        done = torch.isin(token, stop)
        if done.any():
            counts[alive[done]] = step + 1
            keep = (~done).nonzero().squeeze(1)
            if keep.numel() == 0:
                break
            alive, token, position, mask = alive[keep], token[keep], position[keep], mask[keep]
            cache.batch_select_indices(keep)
        if step + 1 == max_new_tokens:
            break
        logits = model(input_ids=token[:, None], attention_mask=mask[:, :width + step + 1],
                       position_ids=position[:, None], cache=cache, use_cache=True).logits[:, -1]
        position = position + 1
    return tokens, counts


def generate(model, tokenizer, prompts: list[str], *, temperatures: list[float], seeds: list[int], top_p: float,
             top_k: int, max_new_tokens: int, batch_size: int, stop_ids: list[int], prefill_chunk: int = 16,
             progress=None) -> list[tuple[list[str], list[int]]]:
    """Sample one completion per rendered prompt at each temperature (seeded by the matching seed).

    Prompts are sorted by length and batched; each batch is prefilled once and decoded at every
    temperature. Returns, per temperature, (texts, generated token counts incl. the stop token)
    in input order."""
    import torch
    from transformers.generation.logits_process import TopKLogitsWarper, TopPLogitsWarper
    warpers = ([TopKLogitsWarper(top_k)] if top_k else []) + ([TopPLogitsWarper(top_p)] if top_p < 1 else [])
    stop = torch.tensor(stop_ids, device=model.device)
    generators = [torch.Generator(device=model.device).manual_seed(seed) for seed in seeds]
    input_ids = tokenizer(prompts, add_special_tokens=False)["input_ids"]
    order = sorted(range(len(prompts)), key=lambda i: -len(input_ids[i]))
    results = [([None] * len(prompts), [0] * len(prompts)) for _ in temperatures]
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            index = order[start:start + batch_size]
            prefilled = prefill(model, tokenizer, [input_ids[i] for i in index], prefill_chunk)
            for (texts, counts), temperature, generator in zip(results, temperatures, generators):
                tokens, n_tokens = decode(model, prefilled, temperature=temperature, warpers=warpers,
                                          max_new_tokens=max_new_tokens, stop=stop,
                                          pad_id=tokenizer.pad_token_id, generator=generator)
                n_tokens = n_tokens.tolist()
                decoded = tokenizer.batch_decode([row[:n] for row, n in zip(tokens.tolist(), n_tokens)],
                                                 skip_special_tokens=True)
                for i, text, n in zip(index, decoded, n_tokens):
                    texts[i], counts[i] = text, n
                if progress is not None:
                    progress.update(len(index))
    return results


def predict_temperatures(model, tokenizer, task: str, pairs: pd.DataFrame, settings: dict, finetuned: bool,
                         outputs: dict[float, str]) -> None:
    """Write one parquet per temperature (`outputs` maps temperature -> path)."""
    from tqdm import tqdm

    from .tables import write_parquet
    prompts = [render_prompt(tokenizer, p) for p in pairs["prompt"]]
    stop_ids = stop_token_ids(tokenizer, stop_at_newline=finetuned)
    max_new = settings["max_new_tokens"][task] if finetuned else settings["vanilla_max_new_tokens"][task]
    parse = PARSERS[task]
    temperatures = list(outputs)
    seeds = [temperature_seed(settings["seed"], t) for t in temperatures]
    with tqdm(total=len(prompts) * len(outputs), desc=f"{task} generations", unit="gen") as bar:
        results = generate(model, tokenizer, prompts, temperatures=temperatures, seeds=seeds, top_p=settings["top_p"],
                           top_k=settings["top_k"], max_new_tokens=max_new, batch_size=settings["batch_size"],
                           prefill_chunk=settings["prefill_chunk"], stop_ids=stop_ids, progress=bar)
    for temperature, seed, (texts, counts) in zip(temperatures, seeds, results):
        table = pd.DataFrame({"case_id": pairs["case_id"], "temperature": temperature, "generated": texts,
                              "answer": [parse(t) for t in texts], "n_tokens": counts, "seed": seed})
        write_parquet(table[list(PREDICTION_COLUMNS)], outputs[temperature])
        log.info("T=%.1f: %d generations, %d unparsed (%d of them refusals), %.1f tokens on average", temperature,
                 len(table), int((table["answer"] == UNPARSED).sum()),
                 int(((table["answer"] == UNPARSED) & table["generated"].map(is_refusal)).sum()),
                     table["n_tokens"].mean())


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
