"""Prediction batches that fit the device: rows are added to a batch while its estimated memory stays within
a budget, computed from the model's own config (layers, KV heads, head size, vocabulary, dtype) and the memory
the device has free, instead of a fixed number of prompts.

A batch of `rows` prompts, the longest `width` tokens, with `room` tokens for the answers, prefilled `chunk`
prompts at a time, needs about

    rows x (width + room) x kv_per_token x 1.5    key/value buffers; dropping finished rows copies up to half of them
  + chunk x width x (kv_per_token + act_per_token) one prefill chunk's own cache and its activations
  + rows x vocabulary x 16 bytes                 float32 logits and the sampler's copies (scaled, softmax, cumsum)

with kv_per_token = 2 x layers x KV heads x head size x dtype bytes and act_per_token = (6 x hidden + 3 x
intermediate) x dtype bytes (the residual stream, q/k/v/o and the MLP's gate, up and product of one layer).
The budget is 90 % of the free memory once the model is loaded (the rest: the allocator's fragmentation).
Attention's own scores are not counted: the GPU's SDPA kernels do not hold them whole.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import UserError

DROP_FINISHED = 0.5  # the sampler's: finished rows leave a decoding batch once this share of it has finished
KV_COPY = 1 + (1 - DROP_FINISHED)  # the buffers plus the copy of the rows that stay when the finished ones leave
LOGIT_COPIES = 4  # float32 logits, scaled, softmax and its cumulative sum, per row
USABLE = 0.9  # of the free memory: the allocator needs the rest


@dataclass(frozen=True)
class Footprint:
    """Bytes one prediction job's batch costs per unit, from the model's config and dtype."""
    kv_per_token: int
    act_per_token: int
    logits_per_row: int

    def batch_bytes(self, rows: int, width: int, room: int, chunk: int) -> int:
        return int(rows * (width + room) * self.kv_per_token * KV_COPY
                   + min(chunk, rows) * width * (self.kv_per_token + self.act_per_token)
                   + rows * self.logits_per_row)


def footprint(config: dict, dtype_bytes: int) -> Footprint:
    """The footprint of a model from its config.json (a dict; a multimodal config's text part)."""
    text = config.get("text_config") or config
    layers, heads, hidden = text["num_hidden_layers"], text["num_attention_heads"], text["hidden_size"]
    kv_heads = text.get("num_key_value_heads") or heads
    head_dim = text.get("head_dim") or hidden // heads
    return Footprint(kv_per_token=2 * layers * kv_heads * head_dim * dtype_bytes,
                     act_per_token=(6 * hidden + 3 * text["intermediate_size"]) * dtype_bytes,
                     logits_per_row=text["vocab_size"] * 4 * LOGIT_COPIES)


def plan_batches(widths: list[int], room: int, cost: Footprint, budget: float, max_rows: int,
                 prefill_chunk: int) -> list[int]:
    """Split prompts of `widths` tokens (sorted longest first) into consecutive batches: each starts at the
    longest prompt left and takes prompts while its `Footprint.batch_bytes` stays within `budget` bytes and
    it has at most `max_rows` rows (`budget` math.inf: by the row limit alone). Returns each batch's number of
    rows. A prompt that does not fit alone is refused, naming its length and the memory."""
    if any(a < b for a, b in zip(widths, widths[1:])):
        raise ValueError("widths must be sorted longest first")
    sizes, start = [], 0
    while start < len(widths):
        width = widths[start]
        if cost.batch_bytes(1, width, room, prefill_chunk) > budget:
            raise UserError(f"a prompt of {width} tokens with room for {room} answer tokens needs about "
                            f"{cost.batch_bytes(1, width, room, prefill_chunk) / 2**30:.1f} GiB, but the device has "
                            f"{budget / 2**30:.1f} GiB left for generation: lower predict.prefill_chunk, the "
                            "prompts' length (prompting.k) or use a larger device")
        # the largest count within the budget (the cost grows with the rows), then the limits
        low, high = 1, min(max_rows, len(widths) - start)
        while low < high:
            mid = (low + high + 1) // 2
            if cost.batch_bytes(mid, width, room, prefill_chunk) <= budget:
                low = mid
            else:
                high = mid - 1
        sizes.append(low)
        start += low
    return sizes


def free_memory_bytes(device, host_limit_mb: int | None = None) -> int:
    """What the device has free for generation once the model is loaded: the GPU's free memory, or on the CPU
    the host's available memory, within the job's own limit (its mem_mb less what the process holds)."""
    import torch
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    available = _meminfo_bytes("MemAvailable") or 2**40
    if host_limit_mb:
        available = min(available, host_limit_mb * 2**20 - _resident_bytes())
    return max(available, 0)


def budget_bytes(free: int) -> int:
    return math.floor(free * USABLE)


def _meminfo_bytes(field: str) -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _resident_bytes() -> int:
    import os
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0
