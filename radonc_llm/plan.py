"""What a run's validated config must also satisfy before any job is planned (rules/common.smk stops on the
first planning pass with every problem listed, one line each, before Snakemake touches an output), and the
values the rules derive from the config: each model's directory, each task's fine-tuning settings.

The schema checks each key alone; these checks relate keys to each other and to the machine: a model's
directory and the memory its weights need, the exports the models meet, and the torch build and SLURM plugin
that jobs asking for GPUs need."""
from __future__ import annotations

import json
from pathlib import Path

from .batching import budget_bytes, footprint
from .errors import UserError
from .finetune import per_process_batch
from .models import check_model_dir, host_memory_mb, pad_problem, parameter_count, weights_bytes
from .tasks import ORDER as TASK_ORDER
from .variants import temperature_name


def run_root(config: dict) -> str:
    """Each configuration's run writes under its own root, so that two runs (the demo, make real, the paper's)
    never re-plan or overwrite each other's outputs."""
    return f"results/{config['run']}/"


def synthetic_export(config: dict, kind: str) -> str:
    """Where the run's synthetic cohort writes its `kind` export (diagnoses or plans)."""
    return f"{run_root(config)}synthetic/{kind}.csv"


def raw_export(config: dict, kind: str) -> str:
    """The export of `kind`: raw.<kind>, or the run's synthetic cohort when it is null."""
    return config["raw"][kind] or synthetic_export(config, kind)


def exports_synthetic(config: dict) -> bool:
    """Whether the exports are the embedded synthetic cohort (the only data the config's public key may key)."""
    return all(raw_export(config, kind) == synthetic_export(config, kind) for kind in ("diagnoses", "plans"))


def annotation_table(config: dict, name: str) -> str:
    """annotations.<name>: the table a department fills, or, until it exists, its template (headers only), so that
    creating the table re-runs what reads it."""
    path = Path(config["annotations"][name])
    return str(path) if path.exists() else f"config/annotations/{name}.template.csv"


def built(spec: dict) -> bool:
    """Whether the workflow builds this base itself (the demo's tiny models, a packaged GGUF file)."""
    return bool(spec.get("tiny") or spec.get("gguf"))


def model_dir(config: dict, model: str) -> str:
    """The local directory of a base model: the workflow's own build for the tiny and GGUF bases, else
    models.<model>.path."""
    spec = config["models"][model]
    return f"{run_root(config)}models/base/{model}" if built(spec) else spec["path"]


SCHEDULING_KEYS = ("threads", "resources", "throughput_tflops", "device_memory_gb")  # for the scheduler and planning


def training_seeds(config: dict) -> list[int]:
    """The seeds of each model and task's adapters (finetune.seeds of them): the run's own adapter first."""
    first = config["finetune"]["seed"]
    return [first + i for i in range(config["finetune"].get("seeds", 1))]


def finetune_settings(config: dict, task: str) -> dict:
    """Hyper-parameters of one task's fine-tuning: the shared ones, then finetune.per_task.<task>."""
    shared = {k: v for k, v in config["finetune"].items() if k not in ("per_task", "seeds", *SCHEDULING_KEYS)}
    for key, value in config["finetune"].get("per_task", {}).get(task, {}).items():
        shared[key] = {**shared[key], **value} if isinstance(value, dict) else value
    return shared


def model_problems(config: dict) -> list[str]:
    """Each configured model says where its weights are; each active one is configured; a base the hospital
    provides is a complete local directory whose weights fit the memory rules finetune and predict ask for."""
    problems = []
    for model, spec in config["models"].items():
        if built(spec) and spec.get("path"):
            problems.append(f"models.{model}.path: leave it out, the workflow builds this base in "
                            f"{model_dir(config, model)}")
        elif not built(spec) and not spec.get("path"):
            problems.append(f"models.{model}.path: the local directory of this base model is not set")
    for model in config["active_models"]:
        if model not in config["models"]:
            problems.append(f"active_models names {model!r}, which is not in models:")
        elif not built(config["models"][model]) and config["models"][model].get("path"):
            problems += directory_problems(config, model)
    return problems


def directory_problems(config: dict, model: str) -> list[str]:
    """A hospital's base directory: complete, a tokenizer that can pad apart from EOS, weights that fit the memory
    the jobs ask for and a card that holds one full-context prompt."""
    path = config["models"][model]["path"]
    try:
        check_model_dir(path)
    except UserError as err:
        return [f"models.{model}.path: {err}"]
    problems = [f"models.{model}.path: {pad}"] if (pad := pad_problem(path)) else []
    for stage in ("finetune", "predict"):
        asked, need = config[stage]["resources"]["mem_mb"], job_memory_mb(config, stage, path)
        if asked != "auto" and asked < need:
            problems.append(f"{stage}.resources.mem_mb is {asked}, but {model}'s {weights_bytes(path) / 1e9:.1f} GB of "
                            f"weights need about {need} MB to load ({'fp32' if loads_fp32(config, stage) else 'bf16'}, "
                            f"{processes(config, stage)} process(es)): raise it in the config")
    return problems + generation_problems(config, model)


def loads_fp32(config: dict, stage: str) -> bool:
    """Whether `stage`'s jobs load the base in fp32 (the planning estimate: auto on a CPU job)."""
    precision = config[stage]["precision"]
    return precision == "fp32" or (precision == "auto" and not config[stage]["resources"]["gpu"])


def processes(config: dict, stage: str) -> int:
    """`stage`'s processes per job, each loading the base: one per GPU."""
    return max(1, config[stage]["resources"]["gpu"])


def job_memory_mb(config: dict, stage: str, path: str) -> int:
    """The host memory one job of `stage` needs to load the base in `path` (models.host_memory_mb)."""
    return host_memory_mb(path, loads_fp32(config, stage), processes(config, stage))


def generation_problems(config: dict, model: str) -> list[str]:
    """On a GPU of predict.device_memory_gb, the base's weights leave room to generate from one prompt as long as
    the model's context (radonc_llm/batching.py; the jobs batch by the device's free memory)."""
    settings = config["predict"]
    if not settings["resources"]["gpu"] or not settings.get("device_memory_gb"):
        return []
    path = Path(config["models"][model]["path"])
    stored = json.loads((path / "config.json").read_text())
    model_config = stored.get("text_config") or stored
    dtype_bytes = 4 if settings["precision"] == "fp32" else 2
    weights = parameter_count(path) * dtype_bytes
    free = settings["device_memory_gb"] * 2**30 - weights
    room = max(settings["vanilla_max_new_tokens"].values())
    width = model_config["max_position_embeddings"] - room
    need = footprint(stored, dtype_bytes).batch_bytes(1, width, room, settings["prefill_chunk"])
    if need <= budget_bytes(free):
        return []
    return [f"predict.device_memory_gb is {settings['device_memory_gb']}, but {model}'s weights "
            f"({weights / 2**30:.1f} GiB) and one prompt of its context ({width} tokens and {room} to answer, "
            f"{need / 2**30:.1f} GiB) do not fit in it: use GPUs with more memory"]


def stand_in_problems(config: dict) -> list[str]:
    """The demo's tiny stand-ins on a hospital's own exports: most likely a config dropped from the command
    (`--configfile a.yaml --configfile b.yaml` keeps only b.yaml), unless tiny.own_exports says it is meant."""
    tiny = [m for m in config["active_models"] if config["models"].get(m, {}).get("tiny")]
    if not tiny or exports_synthetic(config) or config["tiny"].get("own_exports"):
        return []
    return [f"active_models are the demo's tiny stand-ins ({', '.join(tiny)}), but raw.diagnoses and raw.plans are "
            "your own exports: was a config dropped? Layer configs with one flag (--configfile config/paper.yaml "
            "my.yaml); to try the stand-ins on your exports, set tiny.own_exports: true"]


def finetune_problems(config: dict) -> list[str]:
    """The effective batch must be shared evenly by the fine-tuning's processes (one per GPU)."""
    problems = []
    for task in TASK_ORDER:
        settings = finetune_settings(config, task)
        try:
            per_process_batch(settings["batch_size"], settings["gradient_accumulation"],
                              processes(config, "finetune"))
        except UserError as err:
            if str(err) not in problems:
                problems.append(str(err))
    return problems


def predict_problems(config: dict) -> list[str]:
    problems = []
    if config["predict"]["backend"] == "vllm" and not config["predict"]["resources"]["gpu"]:
        problems.append("predict.backend vllm runs on a GPU only: set predict.resources.gpu to 1 or more")
    names = [temperature_name(t) for t in config["predict"]["temperatures"]]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"predict.temperatures: {names.count(name)} temperatures would write the same files "
                        f"(T{name}.parquet): list each temperature once")
    return problems


def temperature_problems(config: dict) -> list[str]:
    """Every setting that names one temperature names one of predict.temperatures."""
    scanned = {temperature_name(t) for t in config["predict"]["temperatures"]}
    settings = {"statistics.temperature": config["statistics"]["temperature"],
                "learning_curve.temperature": config["learning_curve"]["temperature"],
                "metrics.report_temperature": config["metrics"]["report_temperature"],
                "grading.temperature": config["grading"]["temperature"]}
    return [f"{key} {value} is not one of predict.temperatures" for key, value in settings.items()
            if isinstance(value, (int, float)) and temperature_name(value) not in scanned]


def curve_problems(config: dict) -> list[str]:
    """The learning curve's models are active ones, and its sizes below the full adapter's training pairs."""
    curve = config["learning_curve"]
    problems = [f"learning_curve.models names {m!r}, which is not in active_models"
                for m in curve["models"] or [] if m not in config["active_models"]]
    for task in curve["tasks"] or TASK_ORDER:
        full = finetune_settings(config, task).get("max_train_pairs")
        problem = (f"learning_curve.sizes: {max(curve['sizes'], default=0)} is not below finetune.max_train_pairs "
                   f"({full}), the full adapter's training pairs")
        if full and max(curve["sizes"], default=0) >= full and problem not in problems:
            problems.append(problem)
    return problems


def gpu_requests(config: dict) -> dict[str, int]:
    """The stages whose jobs ask the scheduler for GPUs, and how many each."""
    return {stage: config[stage]["resources"]["gpu"] for stage in ("finetune", "predict")
            if config[stage]["resources"]["gpu"]}


def torch_build() -> tuple[str, str | None]:
    """This environment's torch: its version and its CUDA version (None: a CPU build)."""
    import torch
    return torch.__version__, torch.version.cuda


def cuda_problems(config: dict, build=torch_build) -> list[str]:
    """GPU jobs with a CPU build of torch would compute a 7B model on the CPU until their time limit, or fail
    after the queue wait: refused at planning. `build` gives (torch version, CUDA version or None); called only
    when a job asks for GPUs. For the environment the jobs run in (not a conda env of their own)."""
    requests = gpu_requests(config)
    if not requests or not config.get("gpu_jobs_need_cuda", True):
        return []
    version, cuda = build()
    if cuda:
        return []
    asked = " and ".join(f"{stage}.resources.gpu is {n}" for stage, n in requests.items())
    return [f"{asked}, but this environment's torch {version} is a CPU build: install a CUDA build (make install "
            "TORCH=cu126, from your wheelhouse: docs/finetuning.md) or set the GPU requests to 0"]


SLURM_GPU_PLUGIN = "1.0.0"  # snakemake-executor-plugin-slurm 1.0.0 (2025-03-12) passes the `gpu` resource to sbatch


def slurm_plugin() -> str | None:
    """The installed version of Snakemake's SLURM executor plugin, or None."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("snakemake-executor-plugin-slurm")
    except PackageNotFoundError:
        return None


def slurm_plugin_problems(config: dict, installed=slurm_plugin) -> list[str]:
    """An older SLURM plugin ignores the `gpu` resource: the GPU jobs would be queued on nodes without GPUs."""
    if not gpu_requests(config) or (found := installed()) is None:
        return []
    def release(text):
        return tuple(int("".join(c for c in part if c.isdigit()) or 0) for part in text.split(".")[:3])
    if release(found) >= release(SLURM_GPU_PLUGIN):
        return []
    return [f"snakemake-executor-plugin-slurm {found} does not pass the gpu resource to SLURM (from "
            f"{SLURM_GPU_PLUGIN} on it does): the GPU jobs would run without GPUs; install the version "
            "requirements.txt pins"]


def analysis_plan_problems(config: dict) -> list[str]:
    """The analysis plan's primary comparison is one the run makes, and its comparators are ones it has: found
    at planning, not after every job has run."""
    from .tasks import TASKS
    plan, variants = config["statistics"]["plan"], config["prompting"]["variants"]
    problems = []
    if plan["primary"] == "fine-tuned vs best prompting" and not variants:
        problems.append("statistics.plan.primary is 'fine-tuned vs best prompting', but prompting.variants is "
                        "empty: name a comparison the run makes (fine-tuned vs vanilla, as the paper)")
    prompting = plan["comparators"]["prompting"]
    if variants and prompting not in variants:
        problems.append(f"statistics.plan.comparators.prompting is {prompting!r}, not one of prompting.variants "
                        f"({', '.join(variants)})")
    for task, name in plan["comparators"]["baselines"].items():
        if task in TASKS and name not in TASKS[task].baselines:
            problems.append(f"statistics.plan.comparators.baselines.{task} is {name!r}, not one of that task's "
                            f"baselines ({', '.join(TASKS[task].baselines)})")
    return problems


CHECKS = (model_problems, stand_in_problems, finetune_problems, predict_problems, temperature_problems, curve_problems,
          analysis_plan_problems)


def problems(config: dict) -> list[str]:
    """Every problem of a validated config that planning can know, one line each ([] when there is none)."""
    return [problem for check in CHECKS for problem in check(config)]
