"""Prediction batches sized by memory (radonc_llm/batching.py): the paper's 7B models on 40 and 80 GB cards."""
import random

import pytest

from radonc_llm.batching import Footprint, budget_bytes, footprint, plan_batches
from radonc_llm.errors import UserError
from test_plan import LLAMA2_7B, WEIGHTS_BYTES

MISTRAL_7B = {**LLAMA2_7B, "architectures": ["MistralForCausalLM"], "model_type": "mistral",
              "intermediate_size": 14336, "num_key_value_heads": 8, "max_position_embeddings": 32768,
              "sliding_window": 4096}
MISTRAL_WEIGHTS = 14_483_464_192  # Mistral-7B-v0.1's safetensors
GiB = 2**30


def test_the_footprint_is_read_from_the_models_config():
    llama, mistral = footprint(LLAMA2_7B, 2), footprint(MISTRAL_7B, 2)
    # 2 (keys, values) x 32 layers x KV heads x 128 dims x 2 bytes: 0.5 MiB a token without grouped-query attention
    assert llama.kv_per_token == 2 * 32 * 32 * 128 * 2 == 2**19
    assert mistral.kv_per_token == 2 * 32 * 8 * 128 * 2 == 2**17  # 8 KV heads: a quarter
    assert llama.act_per_token == (6 * 4096 + 3 * 11008) * 2 and llama.logits_per_row == 32000 * 16
    assert footprint({**LLAMA2_7B, "head_dim": 64}, 4).kv_per_token == 2 * 32 * 32 * 64 * 4
    assert footprint({"text_config": LLAMA2_7B}, 2) == llama  # a multimodal config's text model


def test_batches_take_prompts_while_they_fit():
    cost = Footprint(kv_per_token=10, act_per_token=0, logits_per_row=0)
    # 1.5 x 10 bytes x (width + room 2) per row, plus the chunk's own cache: min(chunk 1, rows) x width x 10
    widths = [8, 8, 6, 4, 4, 4, 2, 2]
    assert cost.batch_bytes(2, 8, 2, 1) == int(2 * 10 * 10 * 1.5 + 8 * 10) == 380
    # from width 8: 2 rows (380), 3 need 3 x 150 + 80 = 530 > 430; from 6: 3 rows 3 x 120 + 60 = 420, 4 need 540;
    # from 4: the last three, 3 x 90 + 40 = 310
    assert plan_batches(widths, 2, cost, budget=430, max_rows=8, prefill_chunk=1) == [2, 3, 3]
    assert plan_batches(widths, 2, cost, budget=430, max_rows=2, prefill_chunk=1) == [2, 2, 2, 2]
    # 540: from 8, 3 rows (530); from 4, all five (5 x 90 + 40 = 490)
    assert plan_batches(widths, 2, cost, budget=540, max_rows=8, prefill_chunk=1) == [3, 5]
    assert plan_batches(widths, 2, cost, budget=10**9, max_rows=256, prefill_chunk=1) == [8]
    with pytest.raises(UserError, match=r"a prompt of 8 tokens with room for 2 answer tokens needs about"):
        plan_batches(widths, 2, cost, budget=200, max_rows=8, prefill_chunk=1)
    with pytest.raises(ValueError):
        plan_batches([2, 8], 2, cost, budget=430, max_rows=8, prefill_chunk=1)


def retrieved_prompt_widths(context: int, room: int, n: int = 703, seed: int = 0) -> list[int]:
    """The lengths of a paper run's retrieved prompts (403 eval and 300 selection cases): four solved cases of
    100 to 700 tokens each before the case's own question, cut to the model's context less the answer's room."""
    rng = random.Random(seed)
    widths = [min(context - room, 60 + sum(rng.randint(100, 700) for _ in range(4))) for _ in range(n)]
    return sorted(widths, reverse=True)


@pytest.mark.parametrize("card_gb", [40, 80])
@pytest.mark.parametrize("config, weights", [(LLAMA2_7B, WEIGHTS_BYTES), (MISTRAL_7B, MISTRAL_WEIGHTS)],
                         ids=["llama2-7b", "mistral-7b"])
def test_the_papers_models_generate_from_retrieved_prompts_within_the_card(config, weights, card_gb):
    cost, room, chunk = footprint(config, 2), 96, 32  # bf16; the vanilla regimen answers' room; the default chunk
    budget = budget_bytes(card_gb * GiB - weights)
    context = min(config["max_position_embeddings"], 4096)  # Mistral's prompts: as long as LLaMA-2's would be
    for widths in (retrieved_prompt_widths(context, room), [context - room] * 50):  # a run's, and the worst case
        sizes = plan_batches(widths, room, cost, budget, max_rows=256, prefill_chunk=chunk)
        assert sum(sizes) == len(widths)
        start = 0
        for rows in sizes:
            width = widths[start]  # the batch's longest prompt
            assert cost.batch_bytes(rows, width, room, chunk) <= budget  # fits, with the answers' room
            if rows < 256 and start + rows < len(widths):  # and is as large as fits
                assert cost.batch_bytes(rows + 1, width, room, chunk) > budget
            start += rows
        if config is LLAMA2_7B:  # a fixed 256 long prompts would need several cards
            assert cost.batch_bytes(256, widths[0], room, chunk) > 4 * card_gb * GiB
    assert min(sizes) >= (2 if card_gb == 40 else 5)  # worst case: still batched
