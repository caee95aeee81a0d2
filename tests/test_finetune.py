"""LoRA fine-tuning on a tiny LLaMA-architecture base: prompt format, learning, determinism, resume."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import transformers

from conftest import SETTINGS, THREADS, adapter_bytes, spec_for
from radonc_llm.errors import UserError
from radonc_llm.finetune import per_process_batch, train_adapter, training_fingerprint
from radonc_llm.models import ModelDirError, check_model_dir, load_tokenizer
from radonc_llm.prompting import conversation, render_prompt

REPO = Path(__file__).parents[1]

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


@pytest.mark.parametrize("prompt_format", ["llama2", "mistral"])
def test_the_pairs_are_tokenised_and_labelled_exactly_as_trl_prepares_them(tiny, prompt_format):
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    from radonc_llm.finetune import tokenized_dataset
    tokenizer = load_tokenizer(tiny / "base", prompt_format)
    pairs = pd.read_parquet(tiny / "train.parquet").head(40)
    args = SFTConfig(output_dir=str(tiny / f"probe-{prompt_format}"), completion_only_loss=True, report_to="none",
                     use_cpu=True, max_length=256, activation_checkpointing=False)
    trls = SFTTrainer(model=str(tiny / "base"), args=args, processing_class=tokenizer, train_dataset=Dataset.from_list(
        [conversation(p, a) for p, a in zip(pairs["prompt"], pairs["answer"])])).train_dataset
    ours = tokenized_dataset(pairs, tokenizer)
    assert ours["input_ids"] == trls["input_ids"] and ours["labels"] == trls["labels"]
    assert all(labels[-1] == tokenizer.eos_token_id for labels in ours["labels"])  # the answer ends in EOS


def test_adapter_beats_vanilla_and_same_seed_gives_identical_weights(tiny, tiny_adapter):
    (first, card), second = tiny_adapter, spec_for(tiny, "run2")
    train_adapter(second)
    assert adapter_bytes(first) == adapter_bytes(second)
    assert card["final_validation_loss"] < 0.5 * card["vanilla_validation_loss"]
    written = json.loads(Path(first["outputs"]["card"]).read_text())
    assert written["training_fingerprint"] == card["training_fingerprint"]
    log = pd.read_csv(first["outputs"]["log_csv"])
    assert log["eval_loss"].notna().sum() >= 2 and log["train_loss"].notna().sum() >= 2
    adapter = Path(first["outputs"]["adapter"])
    assert {"adapter_model.safetensors", "adapter_config.json", "tokenizer.json"} <= {p.name for p in adapter.iterdir()}
    assert not Path(first["work_root"]).exists() or not any(Path(first["work_root"]).iterdir())


def test_cpu_bf16_training_is_mixed_precision_with_attention_in_fp32(tiny, tiny_adapter, monkeypatch):
    """On a CPU with bf16 instructions the fine-tune runs under autocast: fp32 weights (the adapter saved in
    fp32), bf16 matrix products, attention in fp32; its forward pass stays close to fp32's."""
    import torch
    from safetensors import safe_open

    from radonc_llm import models
    if torch.cuda.is_available():
        pytest.skip("CPU precision")
    _, card = tiny_adapter
    flag = models.cpu_bf16_flag()
    assert (card["precision"], card["cpu_bf16_instructions"]) == (("bf16", flag) if flag else ("fp32", None))
    with safe_open(Path(spec_for(tiny, "run1")["outputs"]["adapter"]) / "adapter_model.safetensors", "pt") as f:
        assert {f.get_tensor(k).dtype for k in f.keys()} == {torch.float32}

    sdpa, attention_inputs = torch.nn.functional.scaled_dot_product_attention, []

    def recorded(query, *args, **kwargs):
        attention_inputs.append(query.dtype)
        return sdpa(query, *args, **kwargs)

    monkeypatch.setattr(torch.nn.functional, "scaled_dot_product_attention", recorded)
    model = models.load_model(tiny / "base")
    ids = torch.tensor([[2, 40, 41, 42, 43, 44, 45, 46]])
    with torch.no_grad():
        fp32 = model(input_ids=ids).logits
        models.mixed_precision_on_cpu(model, "bf16")
        with torch.autocast("cpu", dtype=torch.bfloat16):
            mixed = model(input_ids=ids).logits
            product = model.model.layers[0].mlp.up_proj(torch.ones(1, model.config.hidden_size))
    layers = model.config.num_hidden_layers
    assert attention_inputs == [torch.float32] * (2 * layers)  # fp32 before and, under autocast, still fp32
    assert product.dtype == torch.bfloat16 and next(model.parameters()).dtype == torch.float32
    assert torch.allclose(mixed.float(), fp32, atol=0.1 * fp32.abs().max().item())
    assert (mixed.float().argmax(-1) == fp32.argmax(-1)).float().mean() >= 0.75


def killed_at_step(step: int, spec: dict, monkeypatch) -> None:
    """Train `spec` until its `step`-th training step, where the job is killed (as SLURM preempts it)."""
    real_step, calls = transformers.Trainer.training_step, []

    def dies(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == step:
            raise KeyboardInterrupt("SLURM preemption")
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(transformers.Trainer, "training_step", dies)
    with pytest.raises(KeyboardInterrupt):
        train_adapter(spec)
    monkeypatch.setattr(transformers.Trainer, "training_step", real_step)


def test_killed_job_resumes_from_its_checkpoint_to_the_same_adapter(tiny, tiny_adapter, monkeypatch):
    reference, _ = tiny_adapter  # uninterrupted
    killed = spec_for(tiny, "killed")
    killed_at_step(7, killed, monkeypatch)
    assert not Path(killed["outputs"]["adapter"]).exists()  # nothing half-written in place
    card = train_adapter(killed)
    assert card["resumed_from"] == "checkpoint-4"
    assert adapter_bytes(killed) == adapter_bytes(reference)


def test_checkpoint_of_other_data_is_never_resumed(tiny, monkeypatch):
    spec = spec_for(tiny, "changed")
    killed_at_step(6, spec, monkeypatch)
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


def test_training_subset_is_seeded_stable_and_whole_when_unset():
    from radonc_llm.finetune import training_subset
    pairs = pd.DataFrame({"case_id": [f"P{i:04d}" for i in range(200)], "prompt": "p", "answer": "a"})
    first, again = training_subset(pairs, 50, 42), training_subset(pairs, 50, 42)
    assert len(first) == 50 and first.equals(again) and first["case_id"].is_unique
    assert list(first["case_id"]) == sorted(first["case_id"])  # the pairs' own order is kept
    assert not first.equals(training_subset(pairs, 50, 43))
    assert training_subset(pairs, None, 42) is pairs and training_subset(pairs, 500, 42) is pairs
    # a case in the subset stays in it when more pairs are added (the rank depends on the case alone)
    more = pd.concat([pairs, pd.DataFrame({"case_id": ["P9999"], "prompt": "p", "answer": "a"})])
    assert set(training_subset(more, 50, 42)["case_id"]) - set(first["case_id"]) <= {"P9999"}


@pytest.mark.parametrize("bf16", [False, True])
def test_answer_tokens_only_gives_trls_loss_and_gradients(tiny, bf16):
    """The CPU trainer scores the answer positions only; its loss and LoRA gradients are TRL's own, in fp32 and
    (within bf16's rounding) in mixed precision."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from trl import SFTConfig, SFTTrainer

    from radonc_llm.finetune import _trainer_class
    from radonc_llm.models import load_model
    tokenizer = load_tokenizer(tiny / "base", "llama2")
    pairs = pd.read_parquet(tiny / "train.parquet").head(12)
    data = Dataset.from_list([conversation(p, a) for p, a in zip(pairs["prompt"], pairs["answer"])])
    results = []
    for cls in (SFTTrainer, _trainer_class(True)):
        torch.manual_seed(0)
        args = SFTConfig(output_dir=str(tiny / "loss-probe"), completion_only_loss=True, report_to="none",
                         use_cpu=True, max_length=128, per_device_train_batch_size=12, activation_checkpointing=False,
                         bf16=bf16)
        trainer = cls(model=load_model(tiny / "base"), args=args, processing_class=tokenizer, train_dataset=data,
                      peft_config=LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"],
                                             modules_to_save=["lm_head"], task_type="CAUSAL_LM"))
        batch = next(iter(trainer.get_train_dataloader()))
        assert (batch["labels"] != -100).sum() < 0.2 * batch["attention_mask"].sum()  # the answer is short
        loss = trainer.compute_loss(trainer.model, dict(batch))
        loss.backward()
        grads = {n: p.grad.clone() for n, p in trainer.model.named_parameters() if p.grad is not None}
        results.append((loss.item(), grads))
    (trl_loss, trl_grads), (ours, our_grads) = results
    assert trl_grads.keys() == our_grads.keys() and len(trl_grads) > 4
    rtol, atol = (1e-3, 1e-3) if bf16 else (1e-5, 1e-6)
    assert ours == pytest.approx(trl_loss, rel=rtol)
    for name in trl_grads:
        assert torch.allclose(trl_grads[name], our_grads[name], rtol=10 * rtol, atol=atol), name


def test_tensorboard_tracking_writes_loss_curves_next_to_the_adapter(tiny, monkeypatch):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    monkeypatch.setenv("TENSORBOARD_LOGGING_DIR", "unset")  # restored after the test
    spec = spec_for(tiny, "tracked", settings={**SETTINGS, "report_to": "tensorboard"})
    card = train_adapter(spec)
    logdir = Path(spec["outputs"]["card"]).parent / "tensorboard"
    events = list(logdir.glob("events.out.tfevents.*"))
    assert events, f"no event file in {logdir}"
    accumulator = EventAccumulator(str(logdir))
    accumulator.Reload()
    scalars = accumulator.Tags()["scalars"]
    assert "train/loss" in scalars and "eval/loss" in scalars
    losses = [e.value for e in accumulator.Scalars("train/loss")]
    assert len(losses) >= 2 and losses[-1] < losses[0]
    assert accumulator.Scalars("eval/loss")[-1].value == pytest.approx(card["final_validation_loss"], rel=1e-4)


# ---------------------------------------------------------------- data-parallel: the multi-GPU path, on CPU
def test_per_process_batch_keeps_the_effective_batch():
    assert per_process_batch(8, 4, 2) == (8, 2) and per_process_batch(8, 1, 2) == (4, 1)
    assert per_process_batch(16, 2, 1) == (16, 2) and per_process_batch(6, 1, 3) == (2, 1)
    with pytest.raises(UserError, match=r"batch_size 5 x gradient_accumulation 1 cannot be shared by 2 processes"):
        per_process_batch(5, 1, 2)


def _start_two_processes(spec):
    """run_finetune(spec, 2) in a process group of its own (so that the whole job can be killed, as SLURM does)."""
    code = ("import json, sys; from radonc_llm.finetune import run_finetune; "
            "run_finetune(json.loads(sys.argv[1]), 2)")
    return subprocess.Popen([sys.executable, "-c", code, json.dumps(spec)], cwd=REPO, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.mark.multiprocess
def test_two_processes_train_one_adapter_with_the_single_process_batch_and_resume_after_a_kill(tiny, tiny_adapter):
    _, single = tiny_adapter
    spec = spec_for(tiny, "two")
    job = _start_two_processes(spec)
    work = Path(spec["work_root"])
    deadline = time.time() + 300
    # kill the whole job (launcher and both processes) once the first checkpoint is complete
    while not all(list(work.glob(f"*/checkpoint-4/{name}")) for name in ("trainer_state.json", "rng_state_1.pth")):
        assert job.poll() is None and time.time() < deadline, job.communicate()[0][-3000:]
        time.sleep(0.05)
    os.killpg(job.pid, signal.SIGKILL)
    job.wait()
    assert not Path(spec["outputs"]["adapter"]).exists()  # nothing half-written in place
    job = _start_two_processes(spec)
    output = job.communicate(timeout=300)[0]
    assert job.returncode == 0, output[-3000:]
    card = json.loads(Path(spec["outputs"]["card"]).read_text())
    assert card["processes"] == 2 and card["resumed_from"].startswith("checkpoint-")
    assert card["effective_batch"] == single["effective_batch"] == 8 and card["processes"] * 4 == 8
    assert card["optimizer_steps"] == single["optimizer_steps"]  # the same schedule as one process
    assert card["final_validation_loss"] < 0.5 * card["vanilla_validation_loss"]  # the loss fell
    assert abs(card["final_validation_loss"] - single["final_validation_loss"]) < 0.1 * single["final_validation_loss"]
    adapter = Path(spec["outputs"]["adapter"])
    assert {p.name for p in adapter.iterdir()} >= {"adapter_model.safetensors", "adapter_config.json"}
    assert list(Path(spec["outputs"]["card"]).parent.glob("*adapter*")) == [adapter]  # written once, in place
    assert not work.exists()  # checkpoints and the launch spec are gone
    assert Path(spec["outputs"]["log_csv"]).is_file() and Path(spec["outputs"]["curve"]).is_file()


def test_a_tiny_mistral_base_learns_the_task_in_its_own_prompt_format_and_answers_it(tiny, tmp_path):
    """The Mistral architecture and prompt format (the workflow tests run the tiny LLaMA only; `make demo`
    runs both): its base is built, its adapter halves the loss, and its fine-tuned answers parse."""
    from conftest import TINY
    from radonc_llm.predict import load_for_prediction, predict_temperatures
    from radonc_llm.tiny_models import build_tiny_base
    base = tmp_path / "mistral"
    diagnoses = list(pd.read_parquet(tiny / "train.parquet")["diagnosis"])
    build_tiny_base("mistral", "mistral", tiny / "tokenizer", diagnoses, TINY, base, threads=THREADS)
    assert transformers.AutoConfig.from_pretrained(base).model_type == "mistral"
    spec = {**spec_for(tiny, "mistral-run"), "model": "tiny-mistral", "base_dir": str(base), "prompt_format": "mistral"}
    card = train_adapter(spec)
    assert card["final_validation_loss"] < 0.5 * card["vanilla_validation_loss"]
    model, tokenizer = load_for_prediction(base, "mistral", spec["outputs"]["adapter"])
    assert render_prompt(tokenizer, "q") == "<s>[INST] q [/INST]"
    evaluation = pd.read_parquet(tiny / "eval.parquet")
    settings = {"seed": 1, "top_p": 1.0, "top_k": 0, "batch_size": 8, "prefill_chunk": 8,
                "max_new_tokens": {"modality": 6}, "vanilla_max_new_tokens": {"modality": 24}}
    predict_temperatures(model, tokenizer, "modality", evaluation, settings, True, {0.2: tmp_path / "T0.2.parquet"})
    table = pd.read_parquet(tmp_path / "T0.2.parquet")
    assert list(table["case_id"]) == list(evaluation["case_id"]) and (table["answer"] != "unparsed").mean() > 0.8


@pytest.mark.parametrize("policy", ["truncate", "drop"])
def test_a_pair_longer_than_max_length_keeps_its_whole_answer_or_is_left_out(tiny, policy):
    from radonc_llm.finetune import fit_to_length
    tokenizer = load_tokenizer(tiny / "base", "llama2")
    pairs = pd.read_parquet(tiny / "train.parquet").head(3).reset_index(drop=True)
    long = "Which modality is used for this: " + " ".join(["left breast carcinoma, stage two"] * 80)
    pairs.loc[1, "prompt"] = long

    def length(prompt, answer):
        record = conversation(prompt, answer)
        text = tokenizer.apply_chat_template([*record["prompt"], *record["completion"]], tokenize=False)
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])
    assert length(long, pairs.loc[1, "answer"]) > 200 > max(length(p, a) for p, a in zip(pairs["prompt"][[0, 2]],
                                                                                          pairs["answer"][[0, 2]]))
    fitted, too_long = fit_to_length(pairs, tokenizer, 200, policy)
    assert too_long == 1
    if policy == "drop":
        assert fitted["case_id"].tolist() == pairs["case_id"][[0, 2]].tolist()
        return
    assert fitted.drop(columns="prompt").equals(pairs.drop(columns="prompt"))  # every answer whole
    assert fitted["prompt"][[0, 2]].tolist() == pairs["prompt"][[0, 2]].tolist()
    cut = fitted.loc[1, "prompt"]
    assert length(cut, fitted.loc[1, "answer"]) <= 200 and long.endswith(cut.strip()[-40:])  # its start cut off
    assert fit_to_length(pairs.iloc[[0, 2]], tokenizer, 200, policy)[1] == 0


def test_a_job_killed_between_step_checkpoints_resumes_from_its_wall_time_checkpoint(tiny, tiny_adapter, monkeypatch):
    """finetune.save_minutes: with the step interval out of reach, the wall-time checkpoints are what a killed job
    resumes from (here every step: a tiny interval), to the same adapter."""
    reference, _ = tiny_adapter
    killed = spec_for(tiny, "killed_timed", settings={**SETTINGS, "save_steps": 10_000, "save_minutes": 1e-9})
    killed_at_step(7, killed, monkeypatch)
    card = train_adapter(killed)
    assert card["resumed_from"] == "checkpoint-6"  # saved on the clock after step 6, never by step count
    assert adapter_bytes(killed) == adapter_bytes(reference)


def shaped_tokenizer(tiny, folder, special, **roles):
    """The tiny base's directory with its tokenizer given `special` tokens and the `roles` (bos, eos, pad, unk,
    chat_template) of a current model family's, saved as that family ships it."""
    import shutil
    shutil.copytree(tiny / "base", folder)
    tokenizer = load_tokenizer(folder, "llama2")
    tokenizer.add_special_tokens({"additional_special_tokens": special})
    for role, value in roles.items():
        setattr(tokenizer, role, value)
    tokenizer.save_pretrained(folder)
    return folder


def test_current_chat_models_pad_with_a_spare_special_token_never_eos(tiny, tmp_path, monkeypatch):
    # Llama-3.x: no unk, no pad, EOS <|eot_id|>, reserved special tokens (one named for padding)
    llama3 = shaped_tokenizer(tiny, tmp_path / "llama3", ["<|begin_of_text|>", "<|eot_id|>",
                              "<|reserved_special_token_0|>", "<|finetune_right_pad_id|>"],
                              bos_token="<|begin_of_text|>", eos_token="<|eot_id|>", unk_token=None, pad_token=None)
    tokenizer = load_tokenizer(llama3, "llama2")  # the tiny vocabulary's own <pad> is a spare special token too
    assert tokenizer.unk_token is None and tokenizer.pad_token in ("<pad>", "<|finetune_right_pad_id|>")
    assert tokenizer.pad_token_id != tokenizer.eos_token_id
    # Qwen2.5 base: pad = EOS = <|endoftext|>; its chat template writes <|im_start|> and <|im_end|>
    template = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
                "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    qwen = shaped_tokenizer(tiny, tmp_path / "qwen", ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|fim_pad|>"],
                            eos_token="<|endoftext|>", pad_token="<|endoftext|>", unk_token=None,
                            chat_template=template)
    tokenizer = load_tokenizer(qwen, "tokenizer")
    assert tokenizer.pad_token in ("<pad>", "<|fim_pad|>") and tokenizer.pad_token_id != tokenizer.eos_token_id
    assert render_prompt(tokenizer, "case").endswith("<|im_start|>assistant\n")  # its own template
    # nothing spare (the tiny vocabulary always has its <pad>): refused, naming the directory
    import radonc_llm.models
    monkeypatch.setattr(radonc_llm.models, "spare_special_token", lambda tokenizer: None)
    with pytest.raises(ModelDirError, match=f"{qwen}: the tokenizer has no pad token distinct from EOS"):
        load_tokenizer(qwen, "tokenizer")



@pytest.mark.parametrize("family, vocabulary, eos, template, pad", [
    ("Llama-3.1", ["<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>",
                   "<|finetune_right_pad_id|>", "<|start_header_id|>", "<|eot_id|>"], "<|eot_id|>",
     "<|start_header_id|>{{ m }}<|eot_id|>", "<|finetune_right_pad_id|>"),
    ("Qwen2.5 base", ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|fim_prefix|>", "<|fim_pad|>"],
     "<|endoftext|>", "<|im_start|>{{ m }}<|im_end|>", "<|fim_pad|>"),
    ("no spare token", ["<|endoftext|>"], "<|endoftext|>", "", None),
])
def test_the_spare_special_token_of_each_family(family, vocabulary, eos, template, pad):
    from types import SimpleNamespace

    from radonc_llm.models import spare_special_token
    added = {1000 + i: SimpleNamespace(content=t, special=True) for i, t in enumerate(vocabulary)}
    tokenizer = SimpleNamespace(unk_token=None, unk_token_id=None, eos_token=eos, eos_token_id=None,
                                bos_token=vocabulary[0] if family.startswith("Llama") else None,
                                chat_template=template, added_tokens_decoder=added)
    assert spare_special_token(tokenizer) == pad
