"""Tiny LLaMA- and Mistral-architecture base models for the laptop demo, built offline.

A byte-level BPE tokenizer is trained on the cohort's training text; each tiny model then gets
a short causal-LM pre-training on diagnosis text only (never an answer), so that the "vanilla"
model speaks the domain's language but has not learned the tasks, as vanilla LLaMA-2 had not.
"""
from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from . import models  # sets the offline environment first
from .prompting import use_prompt_format

log = logging.getLogger(__name__)
SPECIAL_TOKENS = ("<pad>", "<unk>", "<s>", "</s>")


def tokenizer_texts(regimen, icd10, labels, instructions) -> list[str]:
    """What the tiny tokenizer learns from: the regimen task's prompts and answers, the ICD-10 codes, the
    modality labels, the task instructions and the prompt formats' markers."""
    return (list(regimen["prompt"]) + list(regimen["answer"]) + list(icd10["answer"]) + list(labels)
            + list(instructions) + ["[INST] [/INST]"])


def train_tokenizer(texts: list[str], vocab_size: int, out_dir: str | Path, special=SPECIAL_TOKENS, **roles):
    """Train a byte-level BPE tokenizer on `texts` and save it as a transformers tokenizer. `special`: its special
    tokens; `roles`: which of them is pad, unk, bos and eos, and a chat_template (default: the LLaMA-2-like
    stand-ins'; a current family's shape, e.g. no pad and no unk, by passing its own)."""
    from tokenizers import Tokenizer, decoders, models as tok_models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(tok_models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(special), show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer)
    roles = roles or {"pad_token": "<pad>", "unk_token": "<unk>", "bos_token": "<s>", "eos_token": "</s>"}
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, **roles)
    fast.save_pretrained(out_dir)
    log.info("trained a byte-level BPE tokenizer of %d tokens on %d texts", len(fast), len(texts))
    return fast


def tiny_config(architecture: str, tokenizer, settings: dict):
    from transformers import LlamaConfig, MistralConfig, Qwen2Config
    common = dict(
        vocab_size=len(tokenizer), hidden_size=settings["hidden_size"],
        intermediate_size=settings["intermediate_size"], num_hidden_layers=settings["layers"],
        num_attention_heads=settings["heads"], max_position_embeddings=settings["max_position_embeddings"],
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=False)
    if architecture == "llama":
        return LlamaConfig(num_key_value_heads=settings["heads"], **common)
    if architecture == "mistral":  # grouped-query attention and a sliding window, as in Mistral-7B
        return MistralConfig(num_key_value_heads=max(1, settings["heads"] // 2),
                             sliding_window=settings["max_position_embeddings"], **common)
    if architecture == "qwen2":  # Qwen2.5's: grouped-query attention, biases on the query, key and value projections
        return Qwen2Config(num_key_value_heads=max(1, settings["heads"] // 2), **common)
    raise ValueError(f"unknown tiny architecture {architecture!r}: use llama, mistral or qwen2")


def build_tiny_base(architecture: str, prompt_format: str, tokenizer_dir: str | Path, diagnoses: list[str],
                    settings: dict, out_dir: str | Path, threads: int = 1, precision: str = "auto") -> dict:
    """Randomly initialise a tiny model (seeded), pre-train it on diagnosis text, save it to `out_dir`. On a CPU
    that computes in bf16, in mixed precision, as the fine-tunes (`precision`: finetune.precision)."""
    import torch
    from datasets import Dataset
    from transformers import (AutoModelForCausalLM, DataCollatorForLanguageModeling, PreTrainedTokenizerFast,
                              Trainer, TrainingArguments, set_seed)

    torch.set_num_threads(threads)
    shipped = PreTrainedTokenizerFast.from_pretrained(tokenizer_dir)  # saved with the model as it is
    use_prompt_format(shipped, prompt_format)
    tokenizer = PreTrainedTokenizerFast.from_pretrained(tokenizer_dir)  # pre-training pads as fine-tuning will
    tokenizer.pad_token = models.pad_token_for(tokenizer)
    set_seed(settings["seed"])
    model = AutoModelForCausalLM.from_config(tiny_config(architecture, shipped, settings))
    precision = models.training_precision(precision)
    models.mixed_precision_on_cpu(model, precision)
    pre = settings["pretrain"]
    texts = [(tokenizer.bos_token or "") + t + tokenizer.eos_token for t in diagnoses]
    data = Dataset.from_dict({"text": texts}).map(
        lambda b: tokenizer(b["text"], truncation=True, max_length=pre["max_length"], add_special_tokens=False),
        batched=True, remove_columns=["text"])
    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(
            output_dir=tmp, num_train_epochs=pre["epochs"], per_device_train_batch_size=pre["batch_size"],
            learning_rate=pre["learning_rate"], lr_scheduler_type="cosine", warmup_steps=0.05, weight_decay=0.01,
            seed=settings["seed"], data_seed=settings["seed"], save_strategy="no", report_to="none",
            logging_steps=50, use_cpu=not torch.cuda.is_available(), dataloader_num_workers=0, bf16=precision == "bf16")
        trainer = Trainer(model=model, args=args, train_dataset=data,
                          data_collator=DataCollatorForLanguageModeling(tokenizer, mlm=False))
        result = trainer.train()
    model.set_attn_implementation("sdpa")  # as saved: mixed_precision_on_cpu's attention is this process's only
    model.save_pretrained(out_dir, safe_serialization=True)
    shipped.save_pretrained(out_dir)
    log.info("pre-trained tiny %s (%d parameters) on %d diagnoses: final loss %.3f", architecture,
             model.num_parameters(), len(texts), result.training_loss)
    return {"parameters": model.num_parameters(), "pretrain_loss": result.training_loss}
