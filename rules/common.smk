import hashlib
import itertools
import os
import sys
from pathlib import Path

sys.path.insert(0, workflow.basedir)
from radonc_llm.baselines import BASELINES
from radonc_llm.errors import UserError
from radonc_llm.finetune import per_process_batch
from radonc_llm.models import check_model_dir, host_memory_mb, weights_bytes
from radonc_llm.pseudonym import resolve_key
from radonc_llm.tasks import ORDER as TASK_ORDER

# Each configuration's run writes under its own root, so that two runs (the demo, make real, the paper's)
# never re-plan or overwrite each other's outputs.
R = f"results/{config['run']}/"


def run_path(path):
    """`path` inside this run's results folder."""
    return R + path


TASKS = TASK_ORDER  # radonc_llm/tasks.py: the registry of the tasks
SPLITS = ["train", "eval"]


wildcard_constraints:
    task="|".join(TASKS),


SYNTHETIC_EXPORTS = {
    "diagnoses": run_path("synthetic/diagnoses.csv"),
    "plans": run_path("synthetic/plans.csv"),
}


def raw_export(kind):
    """The export of `kind` (diagnoses or plans): raw.<kind>, or the run's synthetic cohort when it is null."""
    return config["raw"][kind] or SYNTHETIC_EXPORTS[kind]


def raw_is_synthetic():
    """Whether the exports are the embedded synthetic cohort (the only data the config's public key may key)."""
    return all(raw_export(kind) == path for kind, path in SYNTHETIC_EXPORTS.items())


def stop_at_planning(message):
    """A config error that can be known before any job runs stops the workflow here, in one line, before
    Snakemake schedules a job or touches an output (a job that failed would have its outputs deleted).
    """
    raise SystemExit(f"error: {message}")


try:  # a forgotten key must stop here, not in the curation job, whose failure would delete cases.parquet
    PSEUDONYM_KEY = resolve_key(
        config["pseudonym"], raw_is_synthetic(), workflow.basedir
    )
except UserError as err:
    stop_at_planning(err)


def key_fingerprint():
    """Changes when the pseudonymisation key changes, so that curation re-runs; reveals nothing of the key."""
    digest = hashlib.sha256(b"radonc-llm key fingerprint:")
    digest.update(PSEUDONYM_KEY)
    return digest.hexdigest()[:12]


def package_data(name):
    """A data file of the package (radonc_llm/data/): an input of the rules that read it, so editing it reruns them."""
    return str(Path(workflow.basedir, "radonc_llm", "data", name))


def source_fingerprint(*modules):
    """Changes when the named package modules change, so that their outputs are rebuilt (params are
    rerun triggers; code imported by a script is not)."""
    digest = hashlib.sha256()
    for module in modules:
        digest.update(Path(workflow.basedir, "radonc_llm", f"{module}.py").read_bytes())
    return digest.hexdigest()[:12]


def task_config(task):
    return config["tasks"][task]


def eval_size(task):
    size = config["split"]["eval_size"]
    return size[task] if isinstance(size, dict) else size


def pair_inputs(wildcards):
    inputs = {"cases": run_path("data/cases.parquet")}
    if wildcards.task == "modality":
        inputs["labels"] = run_path("data/modality_labels.parquet")
    return inputs


MODELS = config["active_models"]
TINY_MODELS = [m for m, spec in config["models"].items() if spec.get("tiny")]
GGUF_MODELS = [m for m, spec in config["models"].items() if spec.get("gguf")]
for _model, _spec in config["models"].items():
    if _model in TINY_MODELS + GGUF_MODELS:
        if _spec.get("path"):
            stop_at_planning(
                f"models.{_model}.path: leave it out, the workflow builds this base in {R}models/base/{_model}"
            )
        _spec["path"] = run_path(f"models/base/{_model}")
    elif not _spec.get("path"):
        stop_at_planning(
            f"models.{_model}.path: the local directory of this base model is not set"
        )


def model_spec(model):
    if model not in config["models"]:
        stop_at_planning(f"active_models names {model!r}, which is not in models:")
    return config["models"][model]


def check_local_model(model):
    """A base the hospital provides (not built by the workflow) must be a complete local directory whose
    weights fit the memory that rules finetune and predict ask for; checked before any job is planned.
    """
    path = model_spec(model)["path"]
    try:
        check_model_dir(path)
    except UserError as err:
        stop_at_planning(f"models.{model}.path: {err}")
    for stage in ("finetune", "predict"):
        resources = config[stage]["resources"]
        precision = config[stage]["precision"]
        loads_fp32 = precision == "fp32" or (
            precision == "auto" and not resources["gpu"]
        )
        need = host_memory_mb(path, loads_fp32, max(1, resources["gpu"]))
        if resources["mem_mb"] < need:
            gb = weights_bytes(path) / 1e9
            stop_at_planning(
                f"{stage}.resources.mem_mb is {resources['mem_mb']}, but {model}'s {gb:.1f} GB of weights "
                f"need about {need} MB to load ({'fp32' if loads_fp32 else 'bf16'}, "
                f"{max(1, resources['gpu'])} process(es)): raise it in the config"
            )


def finetune_settings(task):
    """Hyper-parameters of one task's fine-tuning: the shared ones, then finetune.per_task.<task>."""
    shared = {
        k: v
        for k, v in config["finetune"].items()
        if k not in ("per_task", "threads", "resources")
    }
    for key, value in config["finetune"].get("per_task", {}).get(task, {}).items():
        shared[key] = {**shared[key], **value} if isinstance(value, dict) else value
    return shared


def held_out_settings(task):
    """What decides which train pairs a task's adapters never train on (finetune.held_out)."""
    settings = finetune_settings(task)
    return {k: settings.get(k) for k in ("max_train_pairs", "val_fraction", "seed")}


def finetune_resource(name):
    return config["finetune"]["resources"][name]


try:  # the effective batch must be shared evenly by the fine-tuning's processes (one per GPU)
    for _task in TASKS:
        _settings = finetune_settings(_task)
        per_process_batch(
            _settings["batch_size"],
            _settings["gradient_accumulation"],
            max(1, finetune_resource("gpu")),
        )
except UserError as err:
    stop_at_planning(err)
if config["predict"]["backend"] == "vllm" and not config["predict"]["resources"]["gpu"]:
    stop_at_planning(
        "predict.backend vllm runs on a GPU only: set predict.resources.gpu to 1 or more"
    )
for _model in MODELS:
    if _model not in TINY_MODELS + GGUF_MODELS:
        check_local_model(_model)


def model_file(model, name):
    return f"{model_spec(model)['path']}/{name}"


PROMPTED = config["prompting"][
    "variants"
]  # the vanilla base shown solved training cases
VARIANTS = ["vanilla", "finetuned"] + PROMPTED
TEMPERATURES = [f"{t:.1f}" for t in config["predict"]["temperatures"]]


def predict_inputs(wildcards):
    inputs = {
        "base": model_file(wildcards.model, "config.json"),
        "eval": run_path(f"pairs/{wildcards.task}/eval.parquet"),
        "selection": run_path(f"pairs/{wildcards.task}/selection.parquet"),
    }
    if wildcards.variant == "finetuned":
        inputs["adapter"] = run_path(
            f"finetune/{wildcards.model}/{wildcards.task}/adapter"
        )
    return inputs


def prompted_inputs(wildcards):
    """The prompting variants' job: the vanilla base, the eval and selection pairs and the training pairs it shows."""
    return {
        "base": model_file(wildcards.model, "config.json"),
        "eval": run_path(f"pairs/{wildcards.task}/eval.parquet"),
        "selection": run_path(f"pairs/{wildcards.task}/selection.parquet"),
        "train": run_path(f"pairs/{wildcards.task}/train.parquet"),
    }


def predict_settings():
    """What a prediction job reads of predict: (its threads and resources go to the scheduler)."""
    return {
        k: v for k, v in config["predict"].items() if k not in ("threads", "resources")
    }


def predict_resource(name):
    return config["predict"]["resources"][name]


# The learning curve (rules/learning_curve.smk): its models, tasks and temperature, checked at planning.
CURVE = config["learning_curve"]
CURVE_MODELS = CURVE["models"] or MODELS
CURVE_TASKS = CURVE["tasks"] or TASKS
CURVE_TEMPERATURE = CURVE["temperature"] or min(config["predict"]["temperatures"])
CURVE_T = f"{CURVE_TEMPERATURE:.1f}"
if CURVE_T not in TEMPERATURES:
    stop_at_planning(
        f"learning_curve.temperature {CURVE_TEMPERATURE} is not one of predict.temperatures"
    )
for _model in CURVE_MODELS:
    if _model not in MODELS:
        stop_at_planning(
            f"learning_curve.models names {_model!r}, which is not in active_models"
        )
for _task in CURVE_TASKS:
    _full = finetune_settings(_task).get("max_train_pairs")
    if _full and max(CURVE["sizes"], default=0) >= _full:
        stop_at_planning(
            f"learning_curve.sizes: {max(CURVE['sizes'])} is not below finetune.max_train_pairs ({_full}), "
            "the full adapter's training pairs"
        )


_fixed = config["statistics"]["temperature"]
if _fixed != "validation" and f"{_fixed:.1f}" not in TEMPERATURES:
    stop_at_planning(
        f"statistics.temperature {_fixed} is not one of predict.temperatures"
    )


def keys_of(**wildcards):
    """The wildcard values of each file that expand(pattern, **wildcards) lists, in its order (temperatures as
    numbers): a rule passes them as a param so that the package knows which file is which without reading paths.
    """
    values = [
        [float(v) for v in vs] if name == "temperature" else list(vs)
        for name, vs in wildcards.items()
    ]
    return [list(key) for key in itertools.product(*values)]


def curve_path(path):
    """`path` inside the curve's tree for one training size."""
    return run_path(f"learning_curve/n{{size}}/{path}")


def slurm_placement(gpus):
    """Partition and account of a job on SLURM: RADONC_SLURM_{CPU,GPU}_PARTITION / RADONC_SLURM_ACCOUNT
    from the environment, else `slurm:` in the config; empty means the cluster's default. Jobs that
    ask for no GPU go to the CPU partition. Ignored when running without SLURM."""

    def setting(name):
        return os.environ.get(f"RADONC_SLURM_{name.upper()}") or config["slurm"][name]

    partition = setting("gpu_partition" if gpus else "cpu_partition")
    return {"slurm_partition": partition, "slurm_account": setting("account")}


def graded_sheets_present():
    """The grading results are built only once every grader's sheet is in grading.graded_dir."""
    folder = config["grading"]["graded_dir"]
    return all(
        os.path.exists(f"{folder}/{grader}.csv")
        for grader in config["grading"]["graders"]
    )


def adjudication_input():
    """The filled adjudication sheet, if the clinicians have placed one."""
    path = f"{config['grading']['graded_dir']}/adjudication.csv"
    return [path] if os.path.exists(path) else []
