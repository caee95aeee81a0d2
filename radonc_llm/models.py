"""Loading base models from local directories only: offline, safetensors, no remote code."""
from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before transformers is imported anywhere through this module
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from .errors import UserError  # noqa: E402
from .prompting import use_prompt_format  # noqa: E402


class ModelDirError(UserError):
    pass


def check_model_dir(path: str | Path) -> Path:
    """Fail early, naming the directory, unless it holds a config, a tokenizer and safetensors weights."""
    path = Path(path)
    if not path.is_dir():
        raise ModelDirError(f"{path}: model directory not found (models.<name>.path in the config; "
                            "weights must be on local disk, never fetched from a hub)")
    missing = []
    if not (path / "config.json").is_file():
        missing.append("config.json")
    if not any(path.glob("tokenizer.json")) and not any(path.glob("tokenizer.model")):
        missing.append("tokenizer.json or tokenizer.model")
    weights = list(path.glob("*.safetensors"))
    index = path / "model.safetensors.index.json"
    if not weights:
        missing.append("*.safetensors weights (pickled .bin weights are not loaded)")
    elif index.is_file():
        shards = set(json.loads(index.read_text())["weight_map"].values())
        missing += sorted(s for s in shards if not (path / s).is_file())
    if missing:
        raise ModelDirError(f"{path}: incomplete model directory, missing {', '.join(missing)}")
    return path


def weights_bytes(path: str | Path) -> int:
    """Size of a model directory's safetensors weights: the shard index's total, else the files' sizes."""
    path = Path(path)
    index = path / "model.safetensors.index.json"
    if index.is_file():
        total = json.loads(index.read_text()).get("metadata", {}).get("total_size")
        if total:
            return int(total)
    return sum(f.stat().st_size for f in path.glob("*.safetensors"))


def parameter_count(path: str | Path) -> int:
    """The model's parameters, from its weights' size and the dtype config.json says they are stored in."""
    stored = json.loads((Path(path) / "config.json").read_text())
    return weights_bytes(path) // (4 if (stored.get("dtype") or stored.get("torch_dtype")) == "float32" else 2)


def host_memory_mb(path: str | Path, loads_fp32: bool, processes: int = 1) -> int:
    """Host memory (MB) a job needs to load the model in `path`: its weights at the dtype they are loaded in,
    once per process (each process reads the whole base before it moves to its GPU), plus a fifth and 2 GB
    for the framework, the batch and the tokenizer. An estimate for planning, not a measurement."""
    loaded = parameter_count(path) * (4 if loads_fp32 else 2)
    return int(processes * loaded * 1.2 / 1e6) + 2000


def load_tokenizer(path: str | Path, prompt_format: str):
    from transformers import AutoTokenizer
    tokenizer = AutoTokenizer.from_pretrained(check_model_dir(path), local_files_only=True, trust_remote_code=False)
    pad = pad_token_for(tokenizer)
    if pad is None:
        raise ModelDirError(f"{path}: {NO_PAD}")
    tokenizer.pad_token = pad  # never predicted, always masked; no new embedding row
    use_prompt_format(tokenizer, prompt_format)
    return tokenizer


def pad_token_for(tokenizer) -> str | None:
    """What to pad with: the tokenizer's own pad token where it is not EOS, else `spare_special_token`. Padding
    with EOS would mask EOS out of the labels and the model would never learn to stop (LLaMA-2 has no pad token);
    a distinct pad keeps EOS in the answer's labels. None if there is nothing to pad with."""
    if tokenizer.pad_token is not None and tokenizer.pad_token != tokenizer.eos_token:
        return tokenizer.pad_token
    return spare_special_token(tokenizer)


def spare_special_token(tokenizer) -> str | None:
    """A token to pad with that is not EOS and that no text or chat turn contains: the unk token (LLaMA-2),
    else a special token the tokenizer reserves and its chat template never writes (Llama-3.x's
    <|finetune_right_pad_id|> or a <|reserved_special_token_N|>, Qwen2.5 base's <|fim_pad|>), a pad-named
    one first; None if there is none."""
    if tokenizer.unk_token is not None and tokenizer.unk_token_id != tokenizer.eos_token_id:
        return tokenizer.unk_token
    taken = {tokenizer.bos_token, tokenizer.eos_token}
    template = str(getattr(tokenizer, "chat_template", None) or "")
    spare = [t.content for _, t in sorted(tokenizer.added_tokens_decoder.items())
             if t.special and t.content not in taken and t.content not in template]
    return next((t for t in spare if "pad" in t.lower()), next(iter(spare), None))


NO_PAD = ("the tokenizer has no pad token distinct from EOS, no unk token and no spare special token to pad with; "
          "add a pad token to the model directory")


def declared_tokens(path: str | Path):
    """What a model directory's tokenizer files declare of the special tokens (their roles, the added special
    tokens, the chat template), shaped as `spare_special_token` reads a tokenizer, read without loading it; None
    where there is no tokenizer_config.json to read."""
    from types import SimpleNamespace
    path = Path(path)
    if not (path / "tokenizer_config.json").is_file():
        return None
    declared = json.loads((path / "tokenizer_config.json").read_text())
    if (path / "special_tokens_map.json").is_file():
        declared = {**json.loads((path / "special_tokens_map.json").read_text()), **declared}

    def content(value):
        return value.get("content") if isinstance(value, dict) else value
    template = declared.get("chat_template") or ""
    if isinstance(template, list):  # several named templates
        template = " ".join(t.get("template", "") for t in template)
    if (path / "chat_template.jinja").is_file():
        template += (path / "chat_template.jinja").read_text()
    roles = {role: content(declared.get(f"{role}_token")) for role in ("bos", "eos", "unk", "pad")}
    added = {int(i): t for i, t in declared.get("added_tokens_decoder", {}).items()}
    if not added and (path / "tokenizer.json").is_file():  # as transformers 5 saves them
        added = {t["id"]: t for t in json.loads((path / "tokenizer.json").read_text()).get("added_tokens", [])}
    added = {i: SimpleNamespace(content=t["content"], special=t.get("special", False)) for i, t in added.items()}
    return SimpleNamespace(bos_token=roles["bos"], eos_token=roles["eos"], unk_token=roles["unk"],
                           pad_token=roles["pad"], unk_token_id=roles["unk"], eos_token_id=roles["eos"],
                           chat_template=template, added_tokens_decoder=added)


def pad_problem(path: str | Path) -> str | None:
    """Planning's check of what `load_tokenizer` will pad with (`pad_token_for`), from the directory's files: None
    if there is a pad token to use, or the files do not say."""
    tokens = declared_tokens(path)
    return None if tokens is None or pad_token_for(tokens) is not None else f"{path}: {NO_PAD}"


def require_gpus(gpus: int) -> None:
    """A job that asked the scheduler for `gpus` GPUs computes on them: without them it stops at once, naming the
    host and the devices it was given, instead of running a 7B model on the CPU until its time limit."""
    import socket

    import torch
    seen = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if gpus and seen < gpus:
        raise UserError(f"this job asked for {gpus} GPU(s) but sees {seen} (host {socket.gethostname()}, "
                        f"CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES', '(unset)')}, torch "
                        f"{torch.__version__}): it stops rather than compute on the CPU; check the GPU partition's "
                        "nodes and that torch is a CUDA build (gpu_jobs_need_cuda: false only for fake GPUs)")


BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")  # /proc/cpuinfo's names of the CPU instructions that compute in bf16
# below this, a model's matrix products are too small for bf16 to pay on the CPU: SmolLM2-135M's predictions ran
# 2.25x faster in bf16, the demo's 1M-parameter stand-ins 1.02x (docs/benchmarks.md)
BF16_CPU_MIN_PARAMETERS = 50_000_000


def cpu_bf16_flag() -> str | None:
    """The bf16 instruction set this CPU has (amx_bf16 or avx512_bf16), None where it has none or cannot say."""
    try:
        flags = next((line.split(":", 1)[1].split() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("flags")), [])
    except OSError:
        return None
    return next((flag for flag in BF16_CPU_FLAGS if flag in flags), None)


def resolve_precision(setting: str, parameters: int | None = None, training: bool = False) -> str:
    """auto: bf16 on a GPU that has it; on a CPU that computes in bf16, bf16 for training (mixed precision: a
    training step's matrix products have thousands of rows, so it pays at any model size) and for prediction
    with a model of `parameters` large enough for it to pay; else fp32. bf16 or fp32 as given."""
    import torch
    if setting != "auto":
        return setting
    if torch.cuda.is_available():
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    pays = training or (parameters is not None and parameters >= BF16_CPU_MIN_PARAMETERS)
    return "bf16" if pays and cpu_bf16_flag() else "fp32"


def compute_device() -> str:
    """Where this process computes, for the logs and model cards: the GPU, or the CPU and its bf16 instructions."""
    import torch
    return "GPU" if torch.cuda.is_available() else f"CPU with {cpu_bf16_flag() or 'no bf16 instructions'}"


def training_precision(setting: str) -> str:
    """The training precision (finetune.precision; the tiny bases' too): bf16 on a GPU (the weights in bf16) or on
    a CPU that computes in bf16 (mixed precision: `mixed_precision_on_cpu`), else fp32."""
    import torch
    setting = resolve_precision(setting, training=True)
    if setting != "bf16":
        return setting
    if torch.cuda.is_available() and not torch.cuda.is_bf16_supported():
        raise ValueError("finetune.precision bf16: this GPU does not compute in bf16; use auto or fp32")
    if not torch.cuda.is_available() and not cpu_bf16_flag():
        raise ValueError("finetune.precision bf16 needs a GPU or a CPU with bf16 instructions (avx512_bf16 or "
                         "amx_bf16), and this process sees neither: on a GPU node, check its devices and that torch "
                         "is a CUDA build; auto or fp32 to train on this CPU")
    return setting


def mixed_precision_on_cpu(model, precision: str) -> None:
    """A model to train at `precision` on the CPU keeps fp32 weights (bf16 there is the trainer's autocast) and,
    in bf16, computes attention in fp32: PyTorch's bf16 attention backward on the CPU was 4x slower than fp32 for
    a tiny model's heads, while its bf16 matrix products were 3.5x faster (docs/benchmarks.md). Nothing on a
    GPU, or in fp32."""
    import torch
    if precision != "bf16" or torch.cuda.is_available():
        return
    from transformers import AttentionInterface
    from transformers.integrations.sdpa_attention import sdpa_attention_forward
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

    def sdpa_fp32(module, query, key, value, attention_mask, **kwargs):
        with torch.autocast("cpu", enabled=False):
            out, weights = sdpa_attention_forward(module, query.float(), key.float(), value.float(),
                                                  attention_mask, **kwargs)
        return out.to(query.dtype), weights

    AttentionInterface.register("sdpa_fp32", sdpa_fp32)
    AttentionMaskInterface.register("sdpa_fp32", sdpa_mask)
    model.set_attn_implementation("sdpa_fp32")


def load_model(path: str | Path, dtype=None, quantization_config=None, device_map=None):
    from transformers import AutoModelForCausalLM
    return AutoModelForCausalLM.from_pretrained(
        check_model_dir(path), local_files_only=True, trust_remote_code=False, use_safetensors=True,
        dtype=dtype, quantization_config=quantization_config, device_map=device_map)


def context_length(path: str | Path) -> int:
    """The longest sequence (prompt and answer) the base model in `path` takes."""
    from transformers import AutoConfig
    config = AutoConfig.from_pretrained(check_model_dir(path), local_files_only=True, trust_remote_code=False)
    return config.get_text_config(decoder=True).max_position_embeddings
