import hashlib
import os

TASKS = ["regimen", "modality", "icd10"]
SPLITS = ["train", "eval"]


wildcard_constraints:
    task="|".join(TASKS),


def key_fingerprint():
    """Changes when the pseudonymisation key changes, so that curation re-runs; reveals nothing of the key."""
    settings = config["pseudonym"]
    key = os.environ.get(settings.get("key_env", ""), "") or settings.get("key", "")
    return hashlib.sha256(b"radonc-llm key fingerprint:" + key.encode()).hexdigest()[:12]


def task_config(task):
    return config["tasks"][task]


def eval_size(task):
    size = config["split"]["eval_size"]
    return size[task] if isinstance(size, dict) else size


def pair_inputs(wildcards):
    inputs = {"cases": "results/data/cases.parquet"}
    if wildcards.task == "modality":
        inputs["labels"] = "results/data/modality_labels.parquet"
    return inputs
