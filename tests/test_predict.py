"""Batched, seeded per-temperature predictions with the tiny base and its adapter."""
from pathlib import Path

import pandas as pd
import pytest

from radonc_llm.predict import PREDICTION_COLUMNS, load_for_prediction, predict_temperatures, temperature_seed
from radonc_llm.sampler import generate, prefill, prefix_states, sample_next, shared_prefix, stop_token_ids
from radonc_llm.prompting import render_prompt

PREDICT = {"seed": 7, "top_p": 1.0, "top_k": 0, "batch_size": 8, "prefill_chunk": 3,
           "max_new_tokens": {"modality": 6}, "vanilla_max_new_tokens": {"modality": 24}}


def run(tmp_path, name, model, tokenizer, pairs, finetuned):
    outputs = {t: tmp_path / name / f"T{t:.1f}.parquet" for t in (0.1, 0.7)}
    predict_temperatures(model, tokenizer, "modality", pairs, PREDICT, finetuned, outputs)
    return outputs


def test_rerun_gives_the_same_bytes_and_fine_tuned_answers_parse(tiny, tiny_adapter, tmp_path):
    spec, _ = tiny_adapter
    pairs = pd.read_parquet(tiny / "eval.parquet")
    model, tokenizer = load_for_prediction(tiny / "base", "llama2", spec["outputs"]["adapter"])
    first = run(tmp_path, "a", model, tokenizer, pairs, finetuned=True)
    second = run(tmp_path, "b", model, tokenizer, pairs, finetuned=True)
    for t in first:
        assert Path(first[t]).read_bytes() == Path(second[t]).read_bytes()
    table = pd.read_parquet(first[0.7])
    assert list(table.columns) == list(PREDICTION_COLUMNS)
    assert list(table["case_id"]) == list(pairs["case_id"])  # input order, whatever the batching
    assert (table["seed"] == temperature_seed(7, 0.7)).all()
    assert set(table["answer"]) <= {"photon", "proton", "electron", "brachy", "unparsed"}
    low = pd.read_parquet(first[0.1])
    assert (low["answer"] != "unparsed").mean() > 0.9  # the fine-tuned model answers in the label set
    assert (low["n_tokens"] < 6).mean() > 0.9  # ... and stops by itself (EOS learned)
    assert (low["answer"] == pairs["answer"]).mean() > 0.5


def test_vanilla_is_prompted_the_same_way_and_kept_whole(tiny, tmp_path):
    pairs = pd.read_parquet(tiny / "eval.parquet")
    model, tokenizer = load_for_prediction(tiny / "base", "llama2")
    outputs = run(tmp_path, "v", model, tokenizer, pairs, finetuned=False)
    table = pd.read_parquet(outputs[0.7])
    assert (table["answer"] == "unparsed").mean() > 0.5  # the vanilla stand-in has not learned the task
    assert table["generated"].str.len().mean() > 20  # and talks on: its answers are kept whole
    assert stop_token_ids(tokenizer, stop_at_newline=False) == [tokenizer.eos_token_id]


def test_batched_greedy_decoding_matches_model_generate_prompt_by_prompt(tiny, tiny_adapter, monkeypatch):
    """Chunked prefill, left padding, row pruning and position ids must not change what a prompt gets."""
    import torch
    spec, _ = tiny_adapter
    pairs = pd.read_parquet(tiny / "eval.parquet").head(48)
    model, tokenizer = load_for_prediction(tiny / "base", "llama2", spec["outputs"]["adapter"])
    prompts = [render_prompt(tokenizer, p) for p in pairs["prompt"]]
    stop_ids = stop_token_ids(tokenizer, True)
    reference = []
    with torch.inference_mode():
        for prompt in prompts:
            enc = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
            out = model.generate(**enc, do_sample=False, max_new_tokens=6, eos_token_id=stop_ids,
                                 pad_token_id=tokenizer.pad_token_id)
            reference.append(tokenizer.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True))
    for batch_size, chunk in ((16, 5), (48, 48), (7, 3)):
        [(texts, counts)] = generate(model, tokenizer, prompts, temperatures=[1.0], seeds=[1], top_p=1.0, top_k=1,
                                     max_new_tokens=6, batch_size=batch_size, prefill_chunk=chunk, stop_ids=stop_ids)
        assert sum(t == r for t, r in zip(texts, reference)) >= 0.95 * len(prompts), (batch_size, chunk)
        assert all(1 <= n <= 6 for n in counts)
    # batches by a memory budget (radonc_llm/batching.py): room for 5 of the longest prompts, more of the shorter
    import radonc_llm.sampler as sampler
    widths = sorted((len(ids) for ids in tokenizer(prompts, add_special_tokens=False)["input_ids"]), reverse=True)
    budget = sampler.model_footprint(model).batch_bytes(5, widths[0], 6, 4)
    sizes = []

    def spy(model, tokenizer, input_ids, *args, **kwargs):
        sizes.append(len(input_ids))
        assert sampler.model_footprint(model).batch_bytes(len(input_ids), len(input_ids[0]), 6, 4) <= budget
        return prefill(model, tokenizer, input_ids, *args, **kwargs)

    monkeypatch.setattr(sampler, "prefill", spy)
    [(texts, _)] = generate(model, tokenizer, prompts, temperatures=[1.0], seeds=[1], top_p=1.0, top_k=1,
                            max_new_tokens=6, batch_size=48, prefill_chunk=4, stop_ids=stop_ids, memory_budget=budget)
    assert sizes[0] == 5 and max(sizes) > 5 and sum(sizes) == len(prompts)
    assert sum(t == r for t, r in zip(texts, reference)) >= 0.95 * len(prompts)


def test_a_temperature_samples_the_same_whatever_else_is_scanned(tiny, tiny_adapter):
    spec, _ = tiny_adapter
    pairs = pd.read_parquet(tiny / "eval.parquet").head(40)
    model, tokenizer = load_for_prediction(tiny / "base", "llama2", spec["outputs"]["adapter"])
    prompts = [render_prompt(tokenizer, p) for p in pairs["prompt"]]
    kwargs = dict(top_p=0.9, top_k=50, max_new_tokens=6, batch_size=16, stop_ids=stop_token_ids(tokenizer, True))
    alone = generate(model, tokenizer, prompts, temperatures=[1.0], seeds=[5], **kwargs)
    scan = generate(model, tokenizer, prompts, temperatures=[0.3, 1.0], seeds=[4, 5], **kwargs)
    assert scan[1] == alone[0]
    assert scan[0] != scan[1]  # and another temperature/seed samples differently


def test_sampling_follows_the_softmax_and_top_k():
    import torch
    from transformers.generation.logits_process import TopKLogitsWarper
    logits = torch.log(torch.tensor([[0.1, 0.2, 0.7]])).repeat(20000, 1)
    drawn = sample_next(logits, 1.0, [], torch.Generator().manual_seed(0))
    assert torch.allclose(torch.bincount(drawn, minlength=3) / 20000., torch.tensor([0.1, 0.2, 0.7]), atol=0.01)
    sharper = sample_next(logits, 0.5, [], torch.Generator().manual_seed(0))  # T=0.5 squares the odds
    expected = torch.tensor([0.01, 0.04, 0.49]) / 0.54
    assert torch.allclose(torch.bincount(sharper, minlength=3) / 20000., expected, atol=0.01)
    assert (sample_next(logits, 1.0, [TopKLogitsWarper(1)], torch.Generator().manual_seed(0)) == 2).all()


def test_the_shared_opening_is_computed_once_without_changing_the_prompt_logits(tiny, tiny_adapter):
    """Prefix sharing: the template's opening and the question, computed once, then each prompt's rest after
    it (with its own padding in between) must give the logits the whole prompt gives alone."""
    import torch
    spec, _ = tiny_adapter
    pairs = pd.read_parquet(tiny / "eval.parquet").head(12)
    model, tokenizer = load_for_prediction(tiny / "base", "llama2", spec["outputs"]["adapter"])
    input_ids = tokenizer([render_prompt(tokenizer, p) for p in pairs["prompt"]], add_special_tokens=False)["input_ids"]
    input_ids.sort(key=len, reverse=True)
    shared = shared_prefix(input_ids)
    assert 3 <= shared < min(map(len, input_ids)) and input_ids[0][:shared] == input_ids[-1][:shared]
    assert tokenizer.decode(input_ids[0][:shared]).endswith("for this:")  # the template's opening and the question
    assert shared_prefix([[5, 6, 7], [5, 6, 7]]) == 2 and shared_prefix([[5, 6], [4, 6]]) == shared_prefix([]) == 0
    with torch.inference_mode():
        prefix = prefix_states(model, input_ids[0][:shared])
        _, width, mask, positions, logits = prefill(model, tokenizer, input_ids, 5, prefix, room=4)
        alone = torch.cat([model(input_ids=torch.tensor([ids])).logits[:, -1] for ids in input_ids])
    assert width == len(input_ids[0]) and mask.shape == (12, width + 4)
    assert positions.tolist() == [len(ids) for ids in input_ids]  # the next token's position, padding aside
    assert mask[:, :width].sum(1).tolist() == [len(ids) for ids in input_ids]
    assert torch.allclose(logits, alone, atol=1e-4)


def test_auto_precision_on_the_cpu_is_bf16_where_the_cpu_and_the_model_size_make_it_pay(monkeypatch):
    import torch

    import radonc_llm.models as models
    if torch.cuda.is_available():
        pytest.skip("CPU precision")
    big, small = models.BF16_CPU_MIN_PARAMETERS, models.BF16_CPU_MIN_PARAMETERS - 1
    for flag, expected in (("avx512_bf16", ["bf16", "fp32", "fp32"]), ("amx_bf16", ["bf16", "fp32", "fp32"]),
                           (None, ["fp32", "fp32", "fp32"])):
        monkeypatch.setattr(models, "cpu_bf16_flag", lambda: flag)
        assert [models.resolve_precision("auto", n) for n in (big, small, None)] == expected, flag
        # training's matrix products have a batch of tokens as rows: bf16 pays at any size where the CPU has it
        assert models.resolve_precision("auto", small, training=True) == ("bf16" if flag else "fp32"), flag
        assert models.resolve_precision("fp32", big) == "fp32" and models.resolve_precision("bf16", small) == "bf16"


def test_bf16_predictions_on_cpu_mostly_agree_with_fp32(tiny, tiny_adapter, tmp_path):
    """predict.precision bf16 (the merged model, the KV buffers and the forward pass in bf16) gives the
    fp32 model's answers on nearly every case at a low temperature; auto stays fp32 on a CPU for a model of
    unknown size."""
    import torch

    from radonc_llm.models import resolve_precision
    if torch.cuda.is_available():
        pytest.skip("CPU precision: on a GPU, auto resolves to bf16 and the model runs there")
    assert [resolve_precision(s) for s in ("auto", "bf16", "fp32")] == ["fp32", "bf16", "fp32"]
    spec, _ = tiny_adapter
    pairs = pd.read_parquet(tiny / "eval.parquet")
    answers = {}
    for dtype in (torch.float32, torch.bfloat16):
        model, tokenizer = load_for_prediction(tiny / "base", "llama2", spec["outputs"]["adapter"], dtype=dtype)
        assert next(model.parameters()).dtype == dtype
        answers[dtype] = pd.read_parquet(run(tmp_path, str(dtype), model, tokenizer, pairs, finetuned=True)[0.1])
    fp32, bf16 = answers[torch.float32], answers[torch.bfloat16]
    assert (bf16["answer"] != "unparsed").mean() > 0.9
    assert (bf16["answer"] == fp32["answer"]).mean() > 0.8


def test_vllm_is_handed_token_ids_with_one_bos(tiny, tmp_path, monkeypatch):
    """The rendered prompt already opens with the chat template's BOS; vLLM gets the IDs the transformers path
    uses (no special tokens added), so one BOS reaches the engine. vLLM itself is faked: not installed here."""
    import sys
    import types

    from radonc_llm.models import load_tokenizer
    from radonc_llm.predict import predict_vllm
    handed = {}

    class LLM:
        def __init__(self, **kwargs):
            handed["engine"] = kwargs

        def generate(self, requests, params, lora_request=None):
            handed["requests"], handed["lora"] = requests, lora_request
            out = types.SimpleNamespace(text="photon", token_ids=[5])
            return [types.SimpleNamespace(outputs=[out]) for _ in requests]

    vllm = types.ModuleType("vllm")
    vllm.LLM, vllm.SamplingParams = LLM, lambda **kwargs: kwargs
    lora = types.ModuleType("vllm.lora.request")
    lora.LoRARequest = lambda *args: args
    for name, module in {"vllm": vllm, "vllm.lora": types.ModuleType("vllm.lora"), "vllm.lora.request": lora}.items():
        monkeypatch.setitem(sys.modules, name, module)
    tokenizer = load_tokenizer(tiny / "base", "llama2")
    pairs = pd.read_parquet(tiny / "eval.parquet").head(3)
    prompts = [render_prompt(tokenizer, p) for p in pairs["prompt"]]
    settings = {**PREDICT, "precision": "bf16"}
    predict_vllm(tiny / "base", None, "modality", pairs, settings, True, {0.2: str(tmp_path / "T0.2.parquet")},
                 prompts, tokenizer)
    ids = [r["prompt_token_ids"] for r in handed["requests"]]
    assert ids == tokenizer(prompts, add_special_tokens=False)["input_ids"]
    assert all(row.count(tokenizer.bos_token_id) == 1 and row[0] == tokenizer.bos_token_id for row in ids)
    assert pd.read_parquet(tmp_path / "T0.2.parquet")["answer"].tolist() == ["photon"] * 3
