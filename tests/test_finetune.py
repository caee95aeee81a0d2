"""LoRA fine-tuning on a tiny LLaMA-architecture base: prompt format, learning, determinism, resume."""
import copy
import json
from pathlib import Path

import pandas as pd
import pytest
import transformers

from radonc_llm.curate import curate
from radonc_llm.finetune import train_adapter, training_fingerprint
from radonc_llm.models import ModelDirError, check_model_dir, load_tokenizer
from radonc_llm.pairs import eval_pool, resolve_modality, split_pairs, task_table
from radonc_llm.prompting import conversation, render_prompt
from radonc_llm.synthetic import write_cohort
from radonc_llm.tables import read_export
from radonc_llm.tiny_models import build_tiny_base, train_tokenizer

TINY = {"seed": 1, "vocab_size": 600, "hidden_size": 64, "intermediate_size": 128, "layers": 2, "heads": 4,
        "max_position_embeddings": 256, "pretrain": {"epochs": 1, "batch_size": 32, "learning_rate": 0.003,
                                                     "max_length": 96}}
SETTINGS = {"seed": 42, "val_fraction": 0.1,
            "lora": {"r": 8, "alpha": 16, "dropout": 0.05, "modules_to_save": ["lm_head"],
                     "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]},
            "learning_rate": 0.003, "lr_scheduler": "cosine", "warmup_ratio": 0.03, "weight_decay": 0.0,
            "epochs": 2, "batch_size": 8, "gradient_accumulation": 1, "max_length": 128, "precision": "auto",
            "gradient_checkpointing": False, "load_in_4bit": False, "logging_steps": 5, "save_steps": 4}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """Modality pairs of a small synthetic cohort and a tiny LLaMA base pre-trained on their diagnoses."""
    root = tmp_path_factory.mktemp("tiny")
    write_cohort(700, 4, root / "d.csv", root / "p.csv")
    cases, _ = curate(read_export(root / "d.csv", "diagnoses"), read_export(root / "p.csv", "plans"), b"k")
    labels, _ = resolve_modality(cases, pd.DataFrame({"case_id": [], "modality": []}, dtype=str))
    train, _ = split_pairs(task_table("modality", cases, labels), eval_pool("modality", cases), 20, 1,
                           "Which modality is used for this:")
    train.to_parquet(root / "train.parquet")
    train_tokenizer(list(train["prompt"]) + list(train["answer"]) + ["[INST] [/INST]"], TINY["vocab_size"],
                    root / "tokenizer")
    build_tiny_base("llama", "llama2", root / "tokenizer", list(train["diagnosis"]), TINY, root / "base", threads=2)
    return root


def spec_for(root, name, train="train.parquet", settings=SETTINGS):
    out = root / name
    return {"model": "tiny-llama", "task": "modality", "base_dir": str(root / "base"), "prompt_format": "llama2",
            "train": str(root / train), "settings": copy.deepcopy(settings), "work_root": str(out / "work"),
            "threads": 2, "outputs": {"adapter": str(out / "adapter"), "log_csv": str(out / "log.csv"),
                                      "curve": str(out / "curve.png"), "card": str(out / "card.json")}}


def adapter_bytes(spec):
    return (Path(spec["outputs"]["adapter"]) / "adapter_model.safetensors").read_bytes()


def test_training_and_prediction_use_the_same_prompt_and_keep_eos_in_the_labels(tiny):
    from trl import SFTConfig, SFTTrainer
    from datasets import Dataset
    tokenizer = load_tokenizer(tiny / "base", "llama2")
    assert tokenizer.pad_token_id != tokenizer.eos_token_id
    prompt, answer = "Which modality is used for this: Prostate adenocarcinoma, Gleason 3+4=7", "photon"
    text = render_prompt(tokenizer, prompt)
    assert text == "<s>[INST] " + prompt + " [/INST]"
    args = SFTConfig(output_dir=str(tiny / "probe"), completion_only_loss=True, report_to="none", use_cpu=True,
                     max_length=128, activation_checkpointing=False)
    trainer = SFTTrainer(model=str(tiny / "base"), args=args, processing_class=tokenizer,
                         train_dataset=Dataset.from_list([conversation(prompt, answer)]))
    row = trainer.train_dataset[0]
    prompt_ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert row["input_ids"][:len(prompt_ids)] == prompt_ids  # what prediction feeds is what training saw
    completion = [t for t, label in zip(row["input_ids"], row["labels"]) if label != -100]
    assert completion[-1] == tokenizer.eos_token_id  # the model learns to stop
    assert tokenizer.decode(completion, skip_special_tokens=True).strip() == answer


def test_adapter_beats_vanilla_and_same_seed_gives_identical_weights(tiny):
    first, second = spec_for(tiny, "run1"), spec_for(tiny, "run2")
    card = train_adapter(first)
    train_adapter(second)
    assert adapter_bytes(first) == adapter_bytes(second)
    assert card["final_validation_loss"] < 0.5 * card["vanilla_validation_loss"]
    assert json.loads(Path(first["outputs"]["card"]).read_text())["training_fingerprint"] == card["training_fingerprint"]
    log = pd.read_csv(first["outputs"]["log_csv"])
    assert log["eval_loss"].notna().sum() >= 2 and log["train_loss"].notna().sum() >= 2
    adapter = Path(first["outputs"]["adapter"])
    assert {"adapter_model.safetensors", "adapter_config.json", "tokenizer.json"} <= {p.name for p in adapter.iterdir()}
    assert not Path(first["work_root"]).exists() or not any(Path(first["work_root"]).iterdir())


def test_killed_job_resumes_from_its_checkpoint_to_the_same_adapter(tiny, monkeypatch):
    reference = spec_for(tiny, "run1")  # uninterrupted, from the test above or made here
    if not Path(reference["outputs"]["adapter"]).exists():
        train_adapter(reference)
    killed = spec_for(tiny, "killed")
    real_step, calls = transformers.Trainer.training_step, []

    def dies_at_step_7(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 7:
            raise KeyboardInterrupt("SLURM preemption")
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(transformers.Trainer, "training_step", dies_at_step_7)
    with pytest.raises(KeyboardInterrupt):
        train_adapter(killed)
    monkeypatch.setattr(transformers.Trainer, "training_step", real_step)
    assert not Path(killed["outputs"]["adapter"]).exists()  # nothing half-written in place
    card = train_adapter(killed)
    assert card["resumed_from"] == "checkpoint-4"
    assert adapter_bytes(killed) == adapter_bytes(reference)


def test_checkpoint_of_other_data_is_never_resumed(tiny, monkeypatch):
    spec = spec_for(tiny, "changed")
    real_step = transformers.Trainer.training_step
    calls = []

    def dies(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 6:
            raise KeyboardInterrupt
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(transformers.Trainer, "training_step", dies)
    with pytest.raises(KeyboardInterrupt):
        train_adapter(spec)
    monkeypatch.setattr(transformers.Trainer, "training_step", real_step)
    pairs = pd.read_parquet(tiny / "train.parquet")
    pairs.iloc[: len(pairs) - 5].to_parquet(tiny / "edited.parquet")  # an annotator changed the data
    edited = spec_for(tiny, "changed", train="edited.parquet")
    assert training_fingerprint(edited["train"], SETTINGS, edited["base_dir"]) != training_fingerprint(
        spec["train"], SETTINGS, spec["base_dir"])
    assert train_adapter(edited)["resumed_from"] is None


def test_model_directory_checks_name_the_directory(tmp_path, tiny):
    with pytest.raises(ModelDirError, match=f"{tmp_path}/nope: model directory not found"):
        check_model_dir(tmp_path / "nope")
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "config.json").write_text((tiny / "base" / "config.json").read_text())
    with pytest.raises(ModelDirError, match=r"partial: incomplete model directory, missing tokenizer.json or "
                                            r"tokenizer.model, \*.safetensors weights"):
        check_model_dir(partial)
    assert check_model_dir(tiny / "base") == tiny / "base"
