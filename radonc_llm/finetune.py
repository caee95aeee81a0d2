"""LoRA fine-tuning of one base model on one task's pairs (TRL's SFT trainer, loss on answer tokens only).

Run in-process by the Snakemake rule, or data-parallel in one process per GPU (`run_finetune`:
torchrun starts `python -m radonc_llm.finetune SPEC.json` in each; gloo on CPU, NCCL on GPUs).
Checkpoints live in a work directory keyed to a hash of the training data, the settings and the
base model, so a killed job resumes on re-run but never from a checkpoint of other data. The
adapter is moved into place only when training has finished.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import sys
import time
from pathlib import Path

import pandas as pd

from . import models
from .errors import UserError
from .gguf_model import provenance
from .pairs import split_rank
from .prompting import conversation, cut_prompt_start

log = logging.getLogger(__name__)
LOG_COLUMNS = ("step", "epoch", "train_loss", "eval_loss", "learning_rate")


def training_fingerprint(train_path: str | Path, settings: dict, base_dir: str | Path) -> str:
    """Hash of the training pairs, the hyper-parameters and the base model (config + weight file sizes)."""
    h = hashlib.sha256()
    h.update(Path(train_path).read_bytes())
    h.update(json.dumps(settings, sort_keys=True).encode())
    base = Path(base_dir)
    h.update((base / "config.json").read_bytes())
    for weights in sorted(base.glob("*.safetensors")):
        h.update(f"{weights.name}:{weights.stat().st_size}".encode())
    return h.hexdigest()


def split_validation(pairs: pd.DataFrame, fraction: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Carve a seeded validation slice out of the training pairs."""
    n_val = max(1, int(round(fraction * len(pairs))))
    order = split_rank(pairs["case_id"], seed).argsort(kind="stable").values
    val_ids = set(pairs["case_id"].iloc[order[:n_val]])
    in_val = pairs["case_id"].isin(val_ids)
    return pairs[~in_val].reset_index(drop=True), pairs[in_val].reset_index(drop=True)


def training_subset(pairs: pd.DataFrame, size: int | None, seed: int) -> pd.DataFrame:
    """A seeded subset of `size` pairs (all when size is None): for CPU-sized runs of real models."""
    if not size or size >= len(pairs):
        return pairs
    order = split_rank(pairs["case_id"], seed + 1).argsort(kind="stable").values
    return pairs.iloc[sorted(order[:size])].reset_index(drop=True)


def training_seed(settings: dict) -> int:
    """The seed of an adapter's LoRA initialisation and batch order: `training_seed` where rule finetune_seed
    trains a further seed (finetune.seeds) on the same pairs, else finetune.seed, which also draws the pairs."""
    return settings.get("training_seed", settings["seed"])


def training_pairs(pairs: pd.DataFrame, settings: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, validation): the pairs an adapter fine-tuned with `settings` trains and validates on."""
    subset = training_subset(pairs, settings.get("max_train_pairs"), settings["seed"])
    return split_validation(subset, settings["val_fraction"], settings["seed"])


def fit_to_length(pairs: pd.DataFrame, tokenizer, max_length: int, policy: str) -> tuple[pd.DataFrame, int]:
    """The trainer cuts a sequence over `max_length` tokens at its end, so a long pair would train on a prompt
    without its answer or EOS. `policy` 'truncate' cuts such a pair's prompt from its start until prompt, answer
    and EOS fit (a pair whose answer alone does not fit is dropped); 'drop' leaves them out. Returns the pairs
    and how many were too long."""
    def lengths(prompts, answers):
        return [len(ids) for ids in conversation_ids(tokenizer, prompts, answers)]

    over = [i for i, n in enumerate(lengths(pairs["prompt"], pairs["answer"])) if n > max_length]
    if not over:
        return pairs, 0
    fitted, keep = pairs.copy(), [True] * len(pairs)
    column = fitted.columns.get_loc("prompt")
    for i in over:
        answer = fitted["answer"].iat[i]
        if policy == "truncate":
            fitted.iat[i, column] = cut_prompt_start(tokenizer, fitted["prompt"].iat[i],
                                                     lambda p: lengths([p], [answer])[0], max_length)
        # dropped, or its answer alone does not fit
        keep[i] = policy == "truncate" and lengths([fitted["prompt"].iat[i]], [answer])[0] <= max_length
    return fitted[keep].reset_index(drop=True), len(over)


def held_out(pairs: pd.DataFrame, settings: dict) -> pd.DataFrame:
    """The train pairs that an adapter fine-tuned with `settings` never trains on: its validation slice and,
    with `max_train_pairs`, every pair outside its subset."""
    trained, _ = training_pairs(pairs, settings)
    return pairs[~pairs["case_id"].isin(trained["case_id"])].reset_index(drop=True)


def selection_pairs(pairs: pd.DataFrame, settings: dict, size: int | None, seed: int) -> pd.DataFrame:
    """Where temperatures and the best competitor are chosen, so that the eval cases are used once: `size`
    held-out train pairs in seeded order (default: 300 or 5 % of the train pairs, whichever is smaller)."""
    pool = held_out(pairs, settings)
    size = min(300, max(1, round(0.05 * len(pairs)))) if size is None else size
    order = split_rank(pool["case_id"], seed).argsort(kind="stable").values
    selection = pool.iloc[sorted(order[:size])].reset_index(drop=True)
    log.info("%d selection pairs of %d held out from fine-tuning", len(selection), len(pool))
    return selection


def per_process_batch(batch_size: int, accumulation: int, processes: int) -> tuple[int, int]:
    """(per-process batch, accumulation steps) that keep the effective batch, batch_size x accumulation, the
    same on any number of processes, so that a run on 2 GPUs takes the same optimizer steps as on one."""
    if accumulation % processes == 0:
        return batch_size, accumulation // processes
    if batch_size % processes == 0:
        return batch_size // processes, accumulation
    raise UserError(f"finetune.batch_size {batch_size} x gradient_accumulation {accumulation} cannot be shared by "
                    f"{processes} processes (finetune.resources.gpu): make one of them a multiple of {processes}")


def conversation_ids(tokenizer, prompts, answers, prompt_only: bool = False) -> list[list[int]]:
    """The token IDs of each pair's chat-rendered conversation, prompt and answer (`prompt_only`: its prompt with
    the generation prompt), as TRL tokenises a conversational prompt/completion pair."""
    records = [conversation(p, a) for p, a in zip(prompts, answers)]
    texts = [tokenizer.apply_chat_template(r["prompt"], tokenize=False, add_generation_prompt=True) if prompt_only
             else tokenizer.apply_chat_template(r["prompt"] + r["completion"], tokenize=False) for r in records]
    return tokenizer(texts, add_special_tokens=False)["input_ids"]


def tokenized_dataset(pairs: pd.DataFrame, tokenizer):
    """The pairs as TRL's SFT trainer prepares a conversational prompt/completion dataset — `input_ids` of the
    whole conversation, `labels` -100 up to where the rendered prompt alone stops matching them — in one batched
    tokenizer call instead of TRL's per-pair passes (tokenise, label, truncate, filter: seconds of a tiny
    adapter's job). Pairs are already within max_length (`fit_to_length`). Tested against TRL's own."""
    from datasets import Dataset
    from trl.data_utils import common_prefix_length
    input_ids = conversation_ids(tokenizer, pairs["prompt"], pairs["answer"])
    prompt_ids = conversation_ids(tokenizer, pairs["prompt"], pairs["answer"], prompt_only=True)
    labels = [[-100] * (shared := common_prefix_length(prompt, ids)) + ids[shared:]
              for prompt, ids in zip(prompt_ids, input_ids, strict=True)]
    return Dataset.from_dict({"input_ids": input_ids, "labels": labels})


def _trainer_class(answer_tokens_only: bool):
    """TRL's SFT trainer; on CPU one that scores the answer tokens only.

    TRL's fused LM head scores only the positions that carry a label on Triton (GPU) devices, but every
    position elsewhere. With the loss on the answer alone (a few tokens after a 60-token prompt), on CPU
    most of the LM head's work, about a third of a tiny model's, is thrown away: this computes the same
    loss (summed over answer tokens, divided by their count) from the answer positions' hidden states.
    """
    import torch
    from trl import SFTTrainer
    if not answer_tokens_only:
        return SFTTrainer

    class AnswerTokensSFTTrainer(SFTTrainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            causal_lm = model.get_base_model() if hasattr(model, "get_base_model") else model
            backbone = getattr(causal_lm, causal_lm.base_model_prefix)
            labels = inputs["labels"][:, 1:]
            answer = labels != -100
            with self.accelerator.autocast():  # bf16 on a CPU that has it: the model's forward is bypassed
                hidden = backbone(input_ids=inputs["input_ids"], attention_mask=inputs.get("attention_mask"),
                                  use_cache=False).last_hidden_state[:, :-1]
                logits = causal_lm.get_output_embeddings()(hidden[answer]).float()
            count = answer.sum() if num_items_in_batch is None else torch.as_tensor(num_items_in_batch)
            loss = torch.nn.functional.cross_entropy(logits, labels[answer], reduction="sum") / count.clamp(min=1)
            return (loss, None) if return_outputs else loss

    return AnswerTokensSFTTrainer


def train_adapter(spec: dict) -> dict:
    """Fine-tune per `spec` (see `stages.finetune`); returns the model card."""
    import torch
    from peft import LoraConfig
    from transformers import set_seed
    from transformers.trainer_utils import get_last_checkpoint

    s = spec["settings"]
    started = time.time()
    processes = int(os.environ.get("WORLD_SIZE", "1"))  # set by torchrun (run_finetune)
    batch_size, accumulation = per_process_batch(s["batch_size"], s["gradient_accumulation"], processes)
    if not torch.cuda.is_available():
        torch.set_num_threads(max(1, spec.get("threads", 1) // processes))
    precision = models.training_precision(s["precision"])
    log.info("precision %s (finetune.precision %s; %s)", precision, s["precision"], models.compute_device())
    fingerprint = training_fingerprint(spec["train"], s, spec["base_dir"])
    work = Path(spec["work_root"]) / fingerprint[:16]
    work.mkdir(parents=True, exist_ok=True)

    tokenizer = models.load_tokenizer(spec["base_dir"], spec["prompt_format"])
    set_seed(training_seed(s))  # the LoRA matrices are initialised when the trainer wraps the model
    model = _base_for_training(spec["base_dir"], precision, s.get("load_in_4bit"))
    if s.get("report_to") == "tensorboard":  # event files beside the adapter, not in the work directory (removed)
        os.environ["TENSORBOARD_LOGGING_DIR"] = str(Path(spec["outputs"]["card"]).parent / "tensorboard")
    train, val = training_pairs(pd.read_parquet(spec["train"]), s)
    policy = s.get("too_long", "truncate")
    (train, too_long), (val, val_too_long) = (fit_to_length(p, tokenizer, s["max_length"], policy)
                                              for p in (train, val))
    if too_long or val_too_long:
        log.warning("%d training and %d validation pairs exceed finetune.max_length %d tokens: %s", too_long,
                    val_too_long, s["max_length"], "prompts cut from their start, answers whole"
                    if policy == "truncate" else "left out")
    lora = s["lora"]
    args = _sft_config(s, work, batch_size, accumulation, precision)
    # the answer-token loss calls the backbone directly, around DistributedDataParallel's forward: one process only
    answer_tokens_only = not torch.cuda.is_available() and processes == 1 and s.get("answer_tokens_only", True)
    trainer = _trainer_class(answer_tokens_only)(
        model=model, args=args, train_dataset=tokenized_dataset(train, tokenizer),
        eval_dataset=tokenized_dataset(val, tokenizer),
        processing_class=tokenizer,
        callbacks=[wall_clock_checkpoints(s["save_minutes"])] if s.get("save_minutes") else None,
        peft_config=LoraConfig(r=lora["r"], lora_alpha=lora["alpha"], lora_dropout=lora["dropout"],
                               target_modules=lora["target_modules"], modules_to_save=lora.get("modules_to_save"),
                               task_type="CAUSAL_LM"))
    # LoRA's B matrices start at zero, so the wrapped model is still the vanilla base here
    vanilla_loss = trainer.evaluate()["eval_loss"]
    resume = get_last_checkpoint(str(work)) if work.is_dir() else None
    if resume:
        log.info("resuming from %s", Path(resume).name)
    trained = trainer.train(resume_from_checkpoint=resume)
    final_loss = trainer.evaluate()["eval_loss"]

    card = _model_card(spec, trainer, trained, fingerprint=fingerprint, n_train=len(train), n_val=len(val),
                       too_long={"train": too_long, "validation": val_too_long},
                       precision=precision, processes=processes, per_process_batch=batch_size * accumulation,
                       resume=resume, vanilla_loss=vanilla_loss, final_loss=final_loss, started=started)
    if trainer.is_world_process_zero():
        _write_outputs(trainer, tokenizer, card, work, spec["outputs"])
        shutil.rmtree(work, ignore_errors=True)
        with contextlib.suppress(OSError):
            work.parent.rmdir()  # the work root, once no other training's checkpoints are in it
    return card


def wall_clock_checkpoints(minutes: float):
    """A trainer callback: a checkpoint every `minutes` of training wall time besides every finetune.save_steps,
    so that a job preempted or killed at its time limit loses at most that much work (a 7B step can take
    seconds, or minutes with long prompts)."""
    from transformers import TrainerCallback

    class WallClockCheckpoints(TrainerCallback):
        def __init__(self):
            self.last = time.monotonic()

        def on_step_end(self, args, state, control, **kwargs):
            if time.monotonic() - self.last >= 60 * minutes:
                control.should_save = True
            return control

        def on_save(self, args, state, control, **kwargs):
            self.last = time.monotonic()
            return control

    return WallClockCheckpoints()


def _base_for_training(base_dir, precision: str, load_in_4bit: bool):
    """The base model in the training precision (on a CPU, fp32 weights: bf16 there is autocast's, with attention
    in fp32); with finetune.load_in_4bit, quantised to NF4 (QLoRA, GPU only)."""
    import torch
    quantization = None
    if load_in_4bit:
        if not torch.cuda.is_available():
            raise ValueError("finetune.load_in_4bit (QLoRA) needs a GPU")
        from transformers import BitsAndBytesConfig
        quantization = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                          bnb_4bit_compute_dtype=torch.bfloat16)
    on_gpu_bf16 = precision == "bf16" and torch.cuda.is_available()
    model = models.load_model(base_dir, dtype=torch.bfloat16 if on_gpu_bf16 else torch.float32,
                              quantization_config=quantization)
    models.mixed_precision_on_cpu(model, precision)
    return model


def _sft_config(s: dict, work: Path, batch_size: int, accumulation: int, precision: str):
    """TRL's training arguments from the task's fine-tuning settings (per process: batch and accumulation)."""
    import torch
    from trl import SFTConfig
    return SFTConfig(
        output_dir=str(work), num_train_epochs=s["epochs"], per_device_train_batch_size=batch_size,
        per_device_eval_batch_size=batch_size, gradient_accumulation_steps=accumulation,
        learning_rate=s["learning_rate"], lr_scheduler_type=s["lr_scheduler"], warmup_steps=s["warmup_ratio"],
        weight_decay=s["weight_decay"], max_length=s["max_length"], completion_only_loss=True, packing=False,
        bf16=precision == "bf16", activation_checkpointing=s["gradient_checkpointing"],
        seed=training_seed(s), data_seed=training_seed(s), eval_strategy="epoch", logging_steps=s["logging_steps"],
        save_strategy="steps", save_steps=s["save_steps"], save_total_limit=2, report_to=s.get("report_to", "none"),
        use_cpu=not torch.cuda.is_available(), dataloader_num_workers=0, dataset_num_proc=None,
        dataset_kwargs={"skip_prepare_dataset": True},  # tokenized_dataset prepares it
        train_sampling_strategy="group_by_length" if s.get("group_by_length") else "random")


def _model_card(spec: dict, trainer, trained, *, fingerprint: str, n_train: int, n_val: int, too_long: dict,
                precision: str,
                processes: int, per_process_batch: int, resume, vanilla_loss: float, final_loss: float,
                started: float) -> dict:
    """What the adapter is: its base, data, settings, devices, steps, losses and time (model_card.json)."""
    import torch
    s = spec["settings"]
    # non-padding tokens through the model while training: what a GPU hour buys
    tokens = sum(len(ids) for ids in trainer.train_dataset["input_ids"]) * s["epochs"]
    return {
        "model": spec["model"], "task": spec["task"], "base_model": str(spec["base_dir"]),
        "prompt_format": spec["prompt_format"], "training_fingerprint": fingerprint,
        "train_data_sha256": hashlib.sha256(Path(spec["train"]).read_bytes()).hexdigest(),
        "train_pairs": n_train, "validation_pairs": n_val, "too_long_pairs": too_long, "settings": s,
        "precision": precision,
        "cpu_bf16_instructions": None if torch.cuda.is_available() else models.cpu_bf16_flag(),
        "devices": max(1, torch.cuda.device_count()) if torch.cuda.is_available() else "cpu",
        "processes": processes, "effective_batch": per_process_batch * processes,
        "optimizer_steps": trainer.state.global_step,
        "resumed_from": Path(resume).name if resume else None,
        "vanilla_validation_loss": vanilla_loss, "final_validation_loss": final_loss,
        "final_train_loss": next((e["loss"] for e in reversed(trainer.state.log_history) if "loss" in e), None),
        "seconds": round(time.time() - started, 1),
        "train_seconds": round(trained.metrics["train_runtime"], 2), "train_tokens": tokens,
        "train_tokens_per_second": round(tokens / trained.metrics["train_runtime"]) if not resume else None,
        "base_provenance": provenance(spec["base_dir"]),
    }


def _write_outputs(trainer, tokenizer, card: dict, work: Path, outputs: dict) -> None:
    from .tables import write_csv
    final = work / "final-adapter"
    shutil.rmtree(final, ignore_errors=True)
    trainer.model.save_pretrained(final, safe_serialization=True)
    config = json.loads((final / "adapter_config.json").read_text())  # peft keeps target_modules as a set:
    for key in ("target_modules", "modules_to_save"):  # its order follows the process's hash seed
        if isinstance(config.get(key), list):
            config[key] = sorted(config[key])
    (final / "adapter_config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    tokenizer.save_pretrained(final)
    history = training_log(trainer.state.log_history)
    write_csv(history, outputs["log_csv"])
    plot_losses(history, card, outputs["curve"])
    Path(outputs["card"]).write_text(json.dumps(card, indent=2, default=str) + "\n")
    adapter = Path(outputs["adapter"])
    shutil.rmtree(adapter, ignore_errors=True)
    adapter.parent.mkdir(parents=True, exist_ok=True)
    final.replace(adapter)  # complete adapters only: a killed job leaves none behind


def training_log(history: list[dict]) -> pd.DataFrame:
    rows = [{"step": e.get("step"), "epoch": e.get("epoch"), "train_loss": e.get("loss"),
             "eval_loss": e.get("eval_loss"), "learning_rate": e.get("learning_rate")}
            for e in history if "loss" in e or "eval_loss" in e]
    return pd.DataFrame(rows, columns=LOG_COLUMNS)


def plot_losses(history: pd.DataFrame, card: dict, path: str | Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    train = history.dropna(subset=["train_loss"])
    evals = history.dropna(subset=["eval_loss"])
    ax.plot(train["step"], train["train_loss"], label="train loss", color="#4c72b0")
    ax.plot(evals["step"], evals["eval_loss"], "o-", label="validation loss", color="#dd8452")
    ax.axhline(card["vanilla_validation_loss"], ls="--", color="grey",
               label=f"vanilla validation loss ({card['vanilla_validation_loss']:.2f})")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("cross-entropy on answer tokens")
    ax.set_title(f"LoRA fine-tuning: {card['model']} / {card['task']}")
    ax.legend(frameon=False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    fig.savefig(path, dpi=130, metadata={"Software": None})
    plt.close(fig)


def run_finetune(spec: dict, processes: int = 1) -> dict:
    """Fine-tune in this process, or data-parallel in `processes` processes (one per GPU; on CPU, gloo) started
    by torchrun on this node; returns the model card, which the first process wrote."""
    models.check_model_dir(spec["base_dir"])
    card = train_adapter(spec) if processes <= 1 else launch_processes(spec, processes)
    log.info("validation loss on answer tokens: vanilla %.3f, fine-tuned %.3f (%s pairs, %d process(es), "
             "effective batch %d, %s s)", card["vanilla_validation_loss"], card["final_validation_loss"],
             card["train_pairs"], card["processes"], card["effective_batch"], card["seconds"])
    return card


def launch_processes(spec: dict, processes: int) -> dict:
    """`processes` training processes started by torchrun (python -m radonc_llm.finetune SPEC.json)."""
    import subprocess
    work_root = Path(spec["work_root"])
    work_root.mkdir(parents=True, exist_ok=True)
    spec_path = work_root / "spec.json"
    spec_path.write_text(json.dumps(spec))
    card = Path(spec["outputs"]["card"])
    card.unlink(missing_ok=True)
    log.info("fine-tuning data-parallel in %d processes", processes)
    # --standalone: a free port per job, so that two jobs on one node do not meet
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node",
                           str(processes), "-m", "radonc_llm.finetune", str(spec_path)])
    if done.returncode != 0 or not card.is_file():
        raise UserError(f"fine-tuning in {processes} processes failed (exit code {done.returncode}); the processes' "
                        "messages are above, a re-run resumes from the last checkpoint")
    spec_path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        work_root.rmdir()
    return json.loads(card.read_text())


def main(argv: list[str]) -> None:
    """`python -m radonc_llm.finetune SPEC.json`: one process of a data-parallel fine-tuning (run_finetune)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        train_adapter(json.loads(Path(argv[0]).read_text()))
    except UserError as err:
        raise SystemExit(f"error: {err}") from None


if __name__ == "__main__":
    main(sys.argv[1:])
