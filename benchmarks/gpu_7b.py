"""A LLaMA-2-7B-shaped model on one GPU, random weights in bf16 (nothing downloaded), through the workflow's code.

    python benchmarks/gpu_7b.py [shape] [n_pairs] [n_prompts]

(a) LoRA fine-tuning: non-padding tokens per second through `radonc_llm.finetune.train_adapter` (what rule
    finetune runs) with config/paper.yaml's settings, one epoch on `n_pairs` regimen pairs (default 512).
    Anchor: torchtune reports 3,083 tokens/s for an 8B LoRA on one RTX 4090; the target on one H200 is
    10,000 or more.
(b) generation: the batched path (`radonc_llm.sampler.generate`, as rule predict runs it) against
    `model.generate` one prompt at a time, greedy, on the same `n_prompts` prompts (default 32), each
    answer `max_new_tokens` long (random weights rarely stop); the target is 20x or more.
`shape` is 7b (default) or tiny (2 layers, hidden 256, for checking the script on CPU before a device run).
Needs the demo's regimen pairs and tokenizer (`make demo`); the model is written to a temporary directory
(13.5 GB for 7b) because the workflow loads bases from directories only.
"""
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch
import yaml
from workflow_config import merged, root, workflow_config

from radonc_llm.predict import load_for_prediction
from radonc_llm.sampler import generate, stop_token_ids
from radonc_llm.prompting import render_prompt

SHAPES = {  # LLaMA-2-7B's config.json, and a tiny one of the same architecture
    "7b": dict(hidden_size=4096, intermediate_size=11008, num_hidden_layers=32, num_attention_heads=32,
               num_key_value_heads=32, vocab_size=32000, max_position_embeddings=4096, rms_norm_eps=1e-5),
    "tiny": dict(hidden_size=256, intermediate_size=688, num_hidden_layers=2, num_attention_heads=8,
                 num_key_value_heads=8, vocab_size=32000, max_position_embeddings=4096, rms_norm_eps=1e-5),
}
shape = sys.argv[1] if len(sys.argv) > 1 else "7b"
n_pairs = int(sys.argv[2]) if len(sys.argv) > 2 else 512
n_prompts = int(sys.argv[3]) if len(sys.argv) > 3 else 32
config = merged(workflow_config("tiny-llama"), yaml.safe_load((root / "config" / "paper.yaml").read_text()))
device = "cuda" if torch.cuda.is_available() else "cpu"
dtype = torch.bfloat16 if device == "cuda" else torch.float32
demo = workflow_config("tiny-llama")["results"]
pairs_dir, tokenizer_dir = demo / "pairs" / "regimen", demo / "models" / "tokenizer"
if not (pairs_dir / "train.parquet").is_file() or not (tokenizer_dir / "tokenizer.json").is_file():
    sys.exit(f"{pairs_dir} or {tokenizer_dir} not found: run `make demo` first")


def build_base(out: Path) -> None:
    """Random weights (seeded) in the target dtype, straight on the device, saved as a model directory."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir, local_files_only=True)
    model_config = LlamaConfig(**SHAPES[shape], bos_token_id=tokenizer.bos_token_id,
                               eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    default = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    with torch.device(device):
        model = LlamaForCausalLM(model_config)
    torch.set_default_dtype(default)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    print(f"{shape}: {sum(p.numel() for p in model.parameters()) / 1e9:.2f} B parameters, {dtype}, {device}")


def train(base: Path, work: Path) -> dict:
    from radonc_llm.finetune import train_adapter
    settings = {k: v for k, v in config["finetune"].items() if k not in ("per_task", "threads", "resources")}
    settings.update(epochs=1, max_train_pairs=n_pairs, save_steps=10**6, precision="auto")
    return train_adapter({
        "model": f"llama2-{shape}-random", "task": "regimen", "base_dir": str(base), "prompt_format": "llama2",
        "train": str(pairs_dir / "train.parquet"), "settings": settings, "work_root": str(work / "work"),
        "threads": torch.get_num_threads(),
        "outputs": {"adapter": str(work / "adapter"), "log_csv": str(work / "log.csv"),
                    "curve": str(work / "curve.png"), "card": str(work / "card.json")}})


def generation(base: Path) -> tuple[float, int, float, int]:
    model, tokenizer = load_for_prediction(base, "llama2", dtype=dtype)
    model.to(device)
    prompts = [render_prompt(tokenizer, p) for p in pd.read_parquet(pairs_dir / "eval.parquet")["prompt"][:n_prompts]]
    max_new = config["predict"]["max_new_tokens"]["regimen"]
    stop_ids = stop_token_ids(tokenizer, stop_at_newline=True)
    settings = config["predict"]

    def one_at_a_time():
        tokens = 0
        for prompt in prompts:
            enc = tokenizer(prompt, return_tensors="pt", add_special_tokens=False).to(device)
            out = model.generate(**enc, do_sample=False, max_new_tokens=max_new, eos_token_id=stop_ids,
                                 pad_token_id=tokenizer.pad_token_id)
            tokens += out.shape[1] - enc["input_ids"].shape[1]
        return tokens

    def batched():
        [(_, counts)] = generate(model, tokenizer, prompts, temperatures=[1.0], seeds=[0], top_p=1.0, top_k=1,
                                 max_new_tokens=max_new, batch_size=settings["batch_size"],
                                 prefill_chunk=settings["prefill_chunk"], stop_ids=stop_ids)
        return sum(counts)

    def timed(run):
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        tokens = run()
        if device == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start, tokens

    with torch.inference_mode():
        batched()  # warm-up
        return (*timed(one_at_a_time), *timed(batched))


with tempfile.TemporaryDirectory() as tmp:
    base = Path(tmp) / "base"
    build_base(base)
    card = train(base, Path(tmp))
    print(f"(a) LoRA fine-tuning, {card['train_pairs']} regimen pairs, batch {card['settings']['batch_size']} x "
          f"{card['settings']['gradient_accumulation']} accumulation, max_length {card['settings']['max_length']}, "
          f"{card['precision']}, gradient checkpointing {card['settings']['gradient_checkpointing']}: "
          f"{card['train_tokens']:,} tokens in {card['train_seconds']:.1f} s, "
          f"{card['train_tokens_per_second']:,} tokens/s (target on one H200 >= 10,000)")
    if device == "cuda":
        torch.cuda.empty_cache()
    single, single_tokens, fast, fast_tokens = generation(base)
    print(f"(b) generation, {n_prompts} prompts, greedy: one at a time {single:.1f} s ({single_tokens / single:.0f} "
          f"tokens/s), batched {fast:.2f} s ({fast_tokens / fast:.0f} tokens/s): {single / fast:.1f}x "
          "(target >= 20x)")
