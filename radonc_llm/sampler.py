"""The batched sampler: one completion per prompt at several temperatures, each seeded, from one prefill.

The opening all prompts share is computed once; the rest of each prompt, sorted by length, is prefilled once
per batch (in chunks, left-padded) into KV buffers with room for the answers, and decoded at every temperature,
each step writing its keys and values in place; rows leave the batch as they reach a stop token (EOS, or for
one-line answers the end of the line). Batches hold as many prompts as fit the memory budget
(radonc_llm/batching.py). Sampling is seeded per temperature, so a re-run writes the same bytes.
"""
from __future__ import annotations

import logging
import math
import os
from itertools import accumulate

from .batching import DROP_FINISHED, footprint, plan_batches

log = logging.getLogger(__name__)


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
    batch (and its KV cache) once half of it has finished: dropping rows copies the cache, so it is done in a
    few large steps rather than one per finished row (at a quarter, the copies were a fifth of a tiny model's
    decoding; docs/benchmarks.md)."""
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
            if n_finished >= DROP_FINISHED * len(finished):
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
    sizes = plan_batches([len(input_ids[i]) for i in order], max_new_tokens, model_footprint(model),
                         math.inf if memory_budget is None else memory_budget, batch_size, prefill_chunk)
    if memory_budget is not None:
        log.info("%d prompts in %d batches of %d to %d rows (%.1f GiB for generation)", len(order), len(sizes),
                 min(sizes, default=0), max(sizes, default=0), memory_budget / 2**30)
    with torch.inference_mode():
        for start, size in zip(accumulate(sizes, initial=0), sizes):
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
