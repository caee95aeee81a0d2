"""Per-temperature predictions of a vanilla or fine-tuned model on one task's eval and selection pairs.

The model is loaded once per job and writes every temperature's file. Generation is batched:
the opening all prompts share is computed once; the rest of each prompt, sorted by length, is
prefilled once per batch (in chunks, left-padded) into KV buffers with room for the answers, and
decoded at every temperature, each step writing its keys and values in place; rows leave the batch
as they reach EOS (or, for fine-tuned models, the end of the answer line). Sampling is seeded per
temperature, so a re-run writes the same bytes.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import models
from .parsing import UNPARSED, is_refusal
from .tasks import TASKS
from .batching import budget_bytes, footprint, free_memory_bytes, plan_batches
from .prompting import render_prompt
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


def shared_prefix(input_ids: list[list[int]]) -> int:
    """How many leading tokens every prompt shares (the chat template's opening and the task's question),
    leaving each prompt at least its last token, whose logits start the answer."""
    if not input_ids:
        return 0
    return min(len(os.path.commonprefix(input_ids)), min(len(ids) for ids in input_ids) - 1)


def prefix_states(model, prefix: list[int]):
    """The KV states of the shared prefix, computed once for all prompts (a third of the prefill on the
    default tasks)."""
    import torch
    from transformers import DynamicCache
    cache = DynamicCache(config=model.config)
    model(input_ids=torch.tensor([prefix], device=model.device), cache=cache, use_cache=True, logits_to_keep=1)
    return [(layer.keys, layer.values) for layer in cache.layers]


def prefill(model, tokenizer, input_ids: list[list[int]], chunk: int, prefix, room: int):
    """Run the tokenized prompts (sorted longest first) through the model in chunks padded to their own
    length, each chunk's KV states copied, left-padded, into one buffer per layer with `room` free positions
    after the longest prompt: far fewer pad tokens computed than one padded batch, and decoding writes
    into the buffer in place. `prefix` holds the KV states of the tokens all prompts start with
    (`prefix_states`); only the rest of each prompt is computed, after the prefix and its own left padding.
    Returns (key and value buffers per layer, prompt width, attention mask over the buffer, next positions,
    last logits)."""
    import torch
    from transformers import DynamicCache
    shared = prefix[0][0].shape[-2] if prefix else 0
    width = max(len(ids) for ids in input_ids)
    n = len(input_ids)
    mask = torch.zeros(n, width + room, dtype=torch.long, device=model.device)
    mask[:, width:] = 1
    positions, logits, buffers = [], [], None
    for start in range(0, n, chunk):
        rest = [ids[shared:] for ids in input_ids[start:start + chunk]]
        enc = tokenizer.pad({"input_ids": rest}, return_tensors="pt").to(model.device)
        rows, length = enc["input_ids"].shape
        chunk_mask = torch.cat([enc["attention_mask"].new_ones(rows, shared), enc["attention_mask"]], 1)
        position = shared + (enc["attention_mask"].cumsum(-1) - 1).clamp(min=0)
        cache = DynamicCache([(k.expand(rows, -1, -1, -1), v.expand(rows, -1, -1, -1)) for k, v in prefix] if prefix
                             else None, config=model.config)
        logits.append(model(input_ids=enc["input_ids"], attention_mask=chunk_mask, position_ids=position, cache=cache,
                            use_cache=True, logits_to_keep=1).logits[:, -1])
        positions.append(position[:, -1] + 1)
        states = [t for layer in cache.layers for t in (layer.keys, layer.values)]
        if buffers is None:  # zeros: padding is masked, but must not be NaN in eager attention
            buffers = [t.new_zeros(n, t.shape[1], width + room, t.shape[3]) for t in states]
        pad = width - chunk_mask.shape[1]  # padding goes left, where the mask hides it
        mask[start:start + rows, pad:width] = chunk_mask
        for buffer, t in zip(buffers, states):
            buffer[start:start + rows, :, pad:width] = t
    layers = list(zip(buffers[0::2], buffers[1::2]))
    return layers, width, mask, torch.cat(positions), torch.cat(logits)


def decoding_cache(layers, width: int, config):
    """A cache over the prefilled buffers: each step writes its key and value in place after `width`
    (DynamicLayer concatenates the whole cache into a new tensor every step, a quarter of the decode time
    on a small model). Every temperature decodes from the same buffers: a step only writes positions that
    no earlier step of this temperature has read, and dropping rows copies the buffers. Where a sliding
    window is shorter than the buffer, the model's own DynamicCache over the prompt keeps the window."""
    from transformers import DynamicCache
    from transformers.cache_utils import Cache, DynamicLayer
    window = getattr(config.get_text_config(decoder=True), "sliding_window", None)
    if window is not None and layers[0][0].shape[-2] >= window:
        return DynamicCache([(k[:, :, :width], v[:, :, :width]) for k, v in layers], config=config)

    class BufferLayer(DynamicLayer):
        def __init__(self, keys, values):
            super().__init__()
            self.lazy_initialization(keys, values)
            self.key_buffer, self.value_buffer, self.length = keys, values, width
            self._views()

        def _views(self):
            self.keys = self.key_buffer[:, :, :self.length]
            self.values = self.value_buffer[:, :, :self.length]

        def update(self, key_states, value_states, *args, **kwargs):
            end = self.length + key_states.shape[-2]
            self.key_buffer[:, :, self.length:end] = key_states
            self.value_buffer[:, :, self.length:end] = value_states
            self.length = end
            self._views()
            return self.keys, self.values

        def get_seq_length(self) -> int:
            return self.length

        def batch_select_indices(self, indices):
            self.key_buffer, self.value_buffer = self.key_buffer[indices], self.value_buffer[indices]
            self._views()

    return Cache(layers=[BufferLayer(keys, values) for keys, values in layers])


def decode(model, prefilled, *, temperature: float, warpers, max_new_tokens: int, stop, pad_id: int, generator):
    """Sample until every row has produced a stop token (kept) or max_new_tokens. Finished rows leave the
    batch (and its KV cache) once a quarter of it has finished: dropping rows copies the cache, so it is
    done in a few large steps rather than one per finished row."""
    import torch
    layers, width, mask, position, logits = prefilled
    n = len(mask)
    cache = decoding_cache(layers, width, model.config)
    tokens = torch.full((n, max_new_tokens), pad_id, dtype=torch.long, device=mask.device)
    counts = torch.full((n,), max_new_tokens, dtype=torch.long, device=mask.device)
    alive = torch.arange(n, device=mask.device)  # the batch's rows, by their row in the prefill
    finished = torch.zeros(n, dtype=torch.bool, device=mask.device)
    for step in range(max_new_tokens):
        token = sample_next(logits, temperature, warpers, generator)
        tokens[alive, step] = token  # a finished row's later tokens are cut off by its count
        stopped = torch.isin(token, stop) & ~finished
        if stopped.any():
            counts[alive[stopped]] = step + 1
            finished |= stopped
            n_finished = int(finished.sum())
            if n_finished == len(finished):
                break
            if 4 * n_finished >= len(finished):
                keep = (~finished).nonzero().squeeze(1)
                alive, token, position, mask, finished = (alive[keep], token[keep], position[keep], mask[keep],
                                                          finished[keep])
                cache.batch_select_indices(keep)
        if step + 1 == max_new_tokens:
            break
        logits = model(input_ids=token[:, None], attention_mask=mask[:, :width + step + 1],
                       position_ids=position[:, None], cache=cache, use_cache=True).logits[:, -1]
        position = position + 1
    return tokens, counts


def generate(model, tokenizer, prompts: list[str], *, temperatures: list[float], seeds: list[int], top_p: float,
             top_k: int, max_new_tokens: int, batch_size: int, stop_ids: list[int], prefill_chunk: int = 16,
             memory_budget: int | None = None, progress=None) -> list[tuple[list[str], list[int]]]:
    """Sample one completion per rendered prompt at each temperature (seeded by the matching seed).

    Prompts are sorted by length and batched: at most `batch_size` prompts, and as many as fit in
    `memory_budget` bytes (None: no limit) by the model's footprint (radonc_llm/batching.py); each batch is
    prefilled once and decoded at every temperature. Returns, per temperature, (texts, generated token counts
    incl. the stop token) in input order."""
    import torch
    from transformers.generation.logits_process import TopKLogitsWarper, TopPLogitsWarper
    warpers = ([TopKLogitsWarper(top_k)] if top_k else []) + ([TopPLogitsWarper(top_p)] if top_p < 1 else [])
    stop = torch.tensor(stop_ids, device=model.device)
    generators = [torch.Generator(device=model.device).manual_seed(seed) for seed in seeds]
    input_ids = tokenizer(prompts, add_special_tokens=False)["input_ids"]
    order = sorted(range(len(prompts)), key=lambda i: -len(input_ids[i]))
    with torch.inference_mode():
        shared = shared_prefix(input_ids)
        prefix = prefix_states(model, input_ids[0][:shared]) if shared else None
    results = [([None] * len(prompts), [0] * len(prompts)) for _ in temperatures]
    widths = [len(input_ids[i]) for i in order]
    if memory_budget is None:
        sizes = [min(batch_size, len(order) - s) for s in range(0, len(order), batch_size)]
    else:
        sizes = plan_batches(widths, max_new_tokens, model_footprint(model), memory_budget, batch_size, prefill_chunk)
        log.info("%d prompts in %d batches of %d to %d rows (%.1f GiB for generation)", len(order), len(sizes),
                 min(sizes, default=0), max(sizes, default=0), memory_budget / 2**30)
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    with torch.inference_mode():
        for start, size in zip(starts, sizes):
            index = order[start:start + size]
            prefilled = prefill(model, tokenizer, [input_ids[i] for i in index], prefill_chunk, prefix,
                                room=max_new_tokens)
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


def model_footprint(model):
    """The loaded model's batch footprint (radonc_llm/batching.py), at the dtype it computes in."""
    return footprint(model.config.get_text_config(decoder=True).to_dict(), model.dtype.itemsize)


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


def predict_variants(job: PredictionJob, pairs: dict[str, pd.DataFrame], train: pd.DataFrame | None,
                     outputs: dict[tuple[str, str, float], str]) -> None:
    """One prediction job: load the model once (base + adapter for `finetuned`; on the GPU where there is one,
    in bf16 where `predict.precision` asks for it, on CPU too) and write every split's and variant's temperature
    files (`pairs`: split -> its pairs, eval and selection; `outputs`: (split, variant, temperature) -> path).
    Prompting variants show solved `train` pairs (`job.prompting`: k and seed), cut to fit the model's context,
    and never a selection pair: the selection cases are train pairs, and a variant must be the same predictor on
    both splits (the same few-shot draw, the same pool to retrieve from)."""
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
                 "GPU" if torch.cuda.is_available() else f"CPU with {models.cpu_bf16_flag() or 'no bf16 instructions'}",
                 parameters / 1e6)
        dtype = torch.bfloat16 if precision == "bf16" else torch.float32
        model, tokenizer = load_for_prediction(base_dir, prompt_format, adapter_dir, dtype=dtype)
        if torch.cuda.is_available():
            model.to("cuda")
        budget = budget_bytes(free_memory_bytes(model.device, job.memory_mb))
    shown = job.prompting or {"k": 0, "seed": 0}
    if train is not None and "selection" in pairs:
        train = train[~train["case_id"].isin(pairs["selection"]["case_id"])].reset_index(drop=True)
    room = models.context_length(base_dir) - max_new_tokens(settings, task, one_line=True)
    for split, variant in dict.fromkeys((s, v) for s, v, _ in outputs):
        files = {t: path for (s, v, t), path in outputs.items() if (s, v) == (split, variant)}
        cases = pairs[split]
        spec = registered(variant)
        prompts, examples, cut = variant_prompts(spec.draw, tokenizer, cases, train, shown["k"], shown["seed"], room)
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
        log.info("%s %s on %d %s %s pairs at %d temperatures, %s on %s", job.model, variant, len(cases), task,
                 split, len(files), str(dtype).removeprefix("torch."), model.device)
        predict_temperatures(model, tokenizer, task, cases, settings, one_line, files, prompts, examples, budget)
