"""Small hand-written raw exports for the curation tests."""
from __future__ import annotations

import copy
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest
import torch

from radonc_llm.curate import curate
from radonc_llm.pairs import eval_pool, resolve_modality, split_pairs, task_table
from radonc_llm.synthetic import write_cohort
from radonc_llm.tables import DIAGNOSIS_COLUMNS, PLAN_COLUMNS, read_export
from radonc_llm.tiny_models import build_tiny_base, train_tokenizer

# make test runs the suite on two pytest-xdist workers, a test file at a time on one of them (--dist loadfile:
# a file's module fixtures are built once). The workflow's file, the longest, starts first, and a worker running
# other files yields the cores to the workflow's jobs (nice). Each worker's torch uses one thread: two-thread
# work slows several times over while another process holds a core.
WORKER = os.environ.get("PYTEST_XDIST_WORKER")
FIRST = "test_workflow.py"
THREADS = 1 if WORKER else 2
if WORKER:
    torch.set_num_threads(THREADS)


def pytest_collection_modifyitems(config, items):
    if WORKER:
        items.sort(key=lambda item: item.path.name != FIRST)  # stable: the others keep their order


def pytest_runtest_setup(item):
    if WORKER and item.path.name != FIRST and os.nice(0) == 0:
        os.nice(10)


def pytest_configure(config):
    """Snakemake imports its SLURM plugin at every start, and the plugin asks `scontrol show config`, which waits
    10 s where SLURM's tools are installed but no controller runs (as after `make test-slurm`). The tests that
    use no SLURM (all but `-m slurm`) give their Snakemake runs an scontrol that answers at once: none."""
    if "not slurm" in (config.option.markexpr or "") and shutil.which("scontrol"):
        folder = Path(tempfile.mkdtemp(prefix="radonc-no-slurm-"))
        (folder / "scontrol").write_text("#!/bin/sh\nexit 1\n")
        (folder / "scontrol").chmod(0o755)
        os.environ["PATH"] = f"{folder}{os.pathsep}{os.environ['PATH']}"


KEY = b"test-key"
PROSTATE = "Adenocarcinoma of the prostate, Gleason 3+4=7, PSA 6.8 ng/mL, cT2a N0 M0"


def dx(pid, text=PROSTATE, code="C61", scheme="ICD-10-CM", age=70, sex="Male", stage="IIB", did=None):
    return {"patient_id": pid, "diagnosis_id": did or f"D-{pid}", "icd_code": code, "icd_scheme": scheme,
            "stage": stage, "diagnosis_details": text, "age": age, "sex": sex}


def plan(pid, plan_type="Primary", modality="6X", total=70, fx=28, plan_id="P1", course="C1", intent="Curative"):
    dpf = "" if total == "" or fx == "" else round(total / fx, 4)
    return {"patient_id": pid, "course_id": course, "plan_id": plan_id, "plan_type": plan_type, "modality": modality,
            "intent": intent, "status": "Completed", "n_fields": 2, "n_fractions": fx,
            "dose_per_fraction_gy": dpf, "total_dose_gy": total}


@pytest.fixture
def exports(tmp_path):
    """Write rows to CSV and read them back the way the workflow does; returns (diagnoses, plans)."""
    def make(dx_rows, plan_rows):
        d, p = tmp_path / "diagnoses.csv", tmp_path / "plans.csv"
        pd.DataFrame(dx_rows, columns=DIAGNOSIS_COLUMNS).to_csv(d, index=False)
        pd.DataFrame(plan_rows, columns=PLAN_COLUMNS).to_csv(p, index=False)
        return read_export(d, "diagnoses"), read_export(p, "plans")
    return make


# ---------------------------------------------------------------- a tiny base model and adapter
TINY = {"seed": 1, "vocab_size": 600, "hidden_size": 64, "intermediate_size": 128, "layers": 2, "heads": 4,
        "max_position_embeddings": 256, "pretrain": {"epochs": 1, "batch_size": 32, "learning_rate": 0.003,
                                                     "max_length": 96}}
SETTINGS = {"seed": 42, "val_fraction": 0.1,
            "lora": {"r": 8, "alpha": 16, "dropout": 0.05, "modules_to_save": ["lm_head"],
                     "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]},
            "learning_rate": 0.003, "lr_scheduler": "cosine", "warmup_ratio": 0.03, "weight_decay": 0.0,
            "epochs": 2, "batch_size": 8, "gradient_accumulation": 1, "max_length": 128, "precision": "auto",
            "gradient_checkpointing": False, "group_by_length": True, "answer_tokens_only": True, "load_in_4bit": False,
            "logging_steps": 5, "save_steps": 4}


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    """Modality pairs of a small synthetic cohort and a tiny LLaMA base pre-trained on their diagnoses."""
    root = tmp_path_factory.mktemp("tiny")
    write_cohort(700, 4, root / "d.csv", root / "p.csv")
    cases, _ = curate(read_export(root / "d.csv", "diagnoses"), read_export(root / "p.csv", "plans"), b"k")
    labels, _ = resolve_modality(cases, pd.DataFrame({"case_id": [], "modality": []}, dtype=str))
    train, evaluation = split_pairs(task_table("modality", cases, labels), eval_pool("modality", cases), 20, 1,
                                    "Which modality is used for this:")
    train.to_parquet(root / "train.parquet")
    evaluation.to_parquet(root / "eval.parquet")
    train_tokenizer(list(train["prompt"]) + list(train["answer"]) + ["[INST] [/INST]"], TINY["vocab_size"],
                    root / "tokenizer")
    build_tiny_base("llama", "llama2", root / "tokenizer", list(train["diagnosis"]), TINY, root / "base",
                    threads=THREADS)
    return root


def spec_for(root, name, train="train.parquet", settings=SETTINGS):
    out = root / name
    return {"model": "tiny-llama", "task": "modality", "base_dir": str(root / "base"), "prompt_format": "llama2",
            "train": str(root / train), "settings": copy.deepcopy(settings), "work_root": str(out / "work"),
            "threads": THREADS, "outputs": {"adapter": str(out / "adapter"), "log_csv": str(out / "log.csv"),
                                      "curve": str(out / "curve.png"), "card": str(out / "card.json")}}


def adapter_bytes(spec):
    return (Path(spec["outputs"]["adapter"]) / "adapter_model.safetensors").read_bytes()




@pytest.fixture(scope="session")
def tiny_adapter(tiny):
    """A modality adapter trained once on the tiny base: (its spec, its model card)."""
    from radonc_llm.finetune import train_adapter
    spec = spec_for(tiny, "run1")
    return spec, train_adapter(spec)
