"""Preparing a task's training pairs for TRL: its own per-pair passes vs the pairs tokenised in one batch.

    .venv/bin/python benchmarks/dataset_preparation.py [model] [task] [rounds]

Times, on the run's training pairs of `task` (default tiny-llama, ICD-10: the demo's 6,470), TRL's SFT
trainer preparing the conversational prompt/completion records itself (tokenise, label, truncate, filter: what
rule finetune did before) against `tokenized_dataset` in `radonc_llm/finetune.py` (what it does now; the same
input_ids and labels, tests/test_finetune.py), alternating for `rounds` rounds (default 3), one thread as rule
finetune runs. Prints each median and their ratio. Needs `make demo` (or `make real` for smollm2-135m).
"""
import statistics
import sys
import tempfile
import time

import pandas as pd
import torch
from workflow_config import workflow_config

from radonc_llm import models
from radonc_llm.finetune import tokenized_dataset
from radonc_llm.prompting import conversation

model = sys.argv[1] if len(sys.argv) > 1 else "tiny-llama"
task = sys.argv[2] if len(sys.argv) > 2 else "icd10"
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
torch.set_num_threads(1)
config = workflow_config(model)
spec = config["models"][model]
pairs = pd.read_parquet(config["results"] / "pairs" / task / "learned.parquet")
tokenizer = models.load_tokenizer(spec["path"], spec["prompt_format"])

from datasets import Dataset, disable_caching  # noqa: E402
from trl import SFTConfig, SFTTrainer  # noqa: E402

disable_caching()  # every round prepares from scratch, as a job does
with tempfile.TemporaryDirectory() as tmp:
    args = SFTConfig(output_dir=tmp, completion_only_loss=True, report_to="none", use_cpu=True,
                     max_length=config["finetune"]["max_length"], dataset_kwargs={"skip_prepare_dataset": True})
    trainer = SFTTrainer(model=models.load_model(spec["path"]), args=args, processing_class=tokenizer,
                         train_dataset=tokenized_dataset(pairs.head(8), tokenizer))

    preparing = SFTConfig(output_dir=tmp, completion_only_loss=True, report_to="none", use_cpu=True,
                          max_length=args.max_length)  # as rule finetune configured TRL before

    def trls():
        records = Dataset.from_list([conversation(p, a) for p, a in zip(pairs["prompt"], pairs["answer"])])
        return trainer._prepare_dataset(records, tokenizer, preparing, False, None, "train")

    def timed(prepare):
        started = time.perf_counter()
        prepare()
        return time.perf_counter() - started

    timed(trls), timed(lambda: tokenized_dataset(pairs, tokenizer))  # warm-up
    runs = [(timed(trls), timed(lambda: tokenized_dataset(pairs, tokenizer))) for _ in range(rounds)]
before, after = statistics.median(b for b, _ in runs), statistics.median(a for _, a in runs)
ratios = [b / a for b, a in runs]
print(f"{model} / {task}: {len(pairs):,} pairs, {rounds} rounds: TRL's preparation {before:.2f} s, one batch "
      f"{after:.2f} s ({before / after:.1f}x; rounds {min(ratios):.1f}-{max(ratios):.1f}x)")
