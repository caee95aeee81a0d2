"""Current chat-model families through fine-tuning and prediction: tiny offline models shaped like Llama-3.x (its
special tokens and chat template, no pad and no unk token) and Qwen2.5 (the qwen2 architecture, its template, pad
= EOS), built the way the demo's stand-ins are, with prompt_format: tokenizer (each its own template)."""
import copy

import pandas as pd
import pytest

from conftest import SETTINGS, THREADS, TINY
from radonc_llm.finetune import train_adapter
from radonc_llm.models import load_tokenizer, pad_problem
from radonc_llm.predict import load_for_prediction, predict_temperatures
from radonc_llm.prompting import render_prompt
from radonc_llm.tiny_models import build_tiny_base, train_tokenizer

LLAMA3_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}<|start_header_id|>{{ message['role'] }}<|end_header_id|>\n\n"
    "{{ message['content'] | trim }}<|eot_id|>{% endfor %}"
    "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}")
QWEN_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}<|im_start|>system\n"
    "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
FAMILIES = {
    # Llama-3.1-Instruct: EOS <|eot_id|>, no pad, no unk; the reserved tokens and the one meant for padding
    "llama3": ("llama", ["<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>",
                         "<|reserved_special_token_1|>", "<|finetune_right_pad_id|>", "<|start_header_id|>",
                         "<|end_header_id|>", "<|eom_id|>", "<|eot_id|>", "<|python_tag|>"],
               {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>", "chat_template": LLAMA3_TEMPLATE},
               "<|finetune_right_pad_id|>", "<|start_header_id|>assistant<|end_header_id|>\n\n"),
    # Qwen2.5 base: no BOS, pad = EOS = <|endoftext|>, its template's <|im_start|> and <|im_end|>, fill-in tokens
    "qwen2.5": ("qwen2", ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|fim_prefix|>", "<|fim_middle|>",
                          "<|fim_suffix|>", "<|fim_pad|>"],
                {"eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>", "chat_template": QWEN_TEMPLATE},
                "<|fim_pad|>", "<|im_start|>assistant\n"),
}


@pytest.fixture(scope="module", params=sorted(FAMILIES))
def family(request, tiny, tmp_path_factory):
    """(name, its tiny base directory, its fine-tuned modality adapter's spec and model card)."""
    name = request.param
    architecture, special, roles, _, _ = FAMILIES[name]
    root = tmp_path_factory.mktemp(name)
    train = pd.read_parquet(tiny / "train.parquet")
    train_tokenizer(list(train["prompt"]) + list(train["answer"]), TINY["vocab_size"], root / "tokenizer",
                    special=special, **roles)
    build_tiny_base(architecture, "tokenizer", root / "tokenizer", list(train["diagnosis"]), TINY, root / "base",
                    threads=THREADS)
    out = root / "adapter"
    spec = {"model": f"tiny-{name}", "task": "modality", "base_dir": str(root / "base"), "prompt_format": "tokenizer",
            "train": str(tiny / "train.parquet"), "settings": copy.deepcopy(SETTINGS), "work_root": str(out / "work"),
            "threads": THREADS, "outputs": {"adapter": str(out / "adapter"), "log_csv": str(out / "log.csv"),
                                          "curve": str(out / "curve.png"), "card": str(out / "card.json")}}
    return name, root / "base", spec, train_adapter(spec)


def test_the_family_pads_with_its_spare_token_and_prompts_with_its_own_template(family):
    name, base, _, card = family
    _, _, roles, pad, generation_prompt = FAMILIES[name]
    assert pad_problem(base) is None  # planning reads the same choice from the directory's files
    tokenizer = load_tokenizer(base, "tokenizer")
    assert tokenizer.eos_token == roles["eos_token"]
    assert tokenizer.unk_token in (None, tokenizer.eos_token)  # Qwen2's tokenizer class makes EOS its unk: no pad
    assert tokenizer.pad_token == pad and tokenizer.pad_token_id != tokenizer.eos_token_id
    assert render_prompt(tokenizer, "Which modality is used for this: x").endswith(generation_prompt)
    assert card["final_validation_loss"] < card["vanilla_validation_loss"] / 2  # it learned the task


def test_the_fine_tuned_family_model_answers_and_stops(family, tiny, tmp_path):
    name, base, spec, _ = family
    pairs = pd.read_parquet(tiny / "eval.parquet")
    model, tokenizer = load_for_prediction(base, "tokenizer", spec["outputs"]["adapter"])
    settings = {"seed": 7, "top_p": 1.0, "top_k": 0, "batch_size": 8, "prefill_chunk": 3,
                "max_new_tokens": {"modality": 6}, "vanilla_max_new_tokens": {"modality": 24}}
    predict_temperatures(model, tokenizer, "modality", pairs, settings, True, {0.1: tmp_path / "T0.1.parquet"})
    table = pd.read_parquet(tmp_path / "T0.1.parquet")
    assert (table["answer"] != "unparsed").mean() > 0.9, table["generated"].head().tolist()  # in the label set
    assert (table["n_tokens"] < 6).mean() > 0.9  # and it stops by itself: the turn's end was in the labels
    assert (table["answer"] == pairs["answer"]).mean() > 0.5
