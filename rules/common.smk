import hashlib
import itertools
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, workflow.basedir)
from radonc_llm import plan, requests
from radonc_llm.baselines import BASELINES
from radonc_llm.errors import UserError
from radonc_llm.metrics import Scoring
from radonc_llm.pseudonym import resolve_key
from radonc_llm.study_report import FIGURES as REPORT_FIGURES
from radonc_llm.tasks import ORDER as TASK_ORDER
from radonc_llm.tasks import TASKS as TASK_REGISTRY
from radonc_llm.variants import PLAIN as PLAIN_VARIANTS
from radonc_llm.variants import TRAINED as TRAINED_VARIANT
from radonc_llm.variants import VARIANTS as VARIANT_REGISTRY
from radonc_llm.variants import temperature_name

R = plan.run_root(config)


def run_path(path):
    """`path` inside this run's results folder."""
    return R + path


TASKS = TASK_ORDER  # radonc_llm/tasks.py: the registry of the tasks
SPLITS = ["train", "eval"]


wildcard_constraints:
    task="|".join(TASKS),


SYNTHETIC_EXPORTS = {
    k: plan.synthetic_export(config, k) for k in ("diagnoses", "plans")
}


def raw_export(kind):
    return plan.raw_export(config, kind)


def raw_is_synthetic():
    return plan.exports_synthetic(config)


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
    if TASK_REGISTRY[wildcards.task].labelled:
        inputs["labels"] = run_path("data/modality_labels.parquet")
    return inputs


MODELS = config["active_models"]
TINY_MODELS = [m for m, spec in config["models"].items() if spec.get("tiny")]
GGUF_MODELS = [m for m, spec in config["models"].items() if spec.get("gguf")]


def jobs_use_this_environment():
    """Whether the jobs run in this Python environment (not in conda envs of their own, --sdm conda)."""
    methods = getattr(
        getattr(workflow, "deployment_settings", None), "deployment_method", ()
    )
    return not any(str(m).lower().endswith("conda") for m in methods)


PLANNING_PROBLEMS = plan.problems(config)
PLANNING_PROBLEMS += plan.slurm_plugin_problems(config)
if jobs_use_this_environment():  # a conda env of its own has its own torch
    PLANNING_PROBLEMS += plan.cuda_problems(config)
if PLANNING_PROBLEMS:
    stop_at_planning("\n       ".join(PLANNING_PROBLEMS))


def model_setting(name):
    """A rule's input or param: models.<model>.<name> of the job's model ('path': its local directory)."""
    if name == "path":
        return lambda wc: plan.model_dir(config, wc.model)
    return lambda wc: config["models"][wc.model][name]


def finetune_settings(task):
    return plan.finetune_settings(config, task)


def held_out_settings(task):
    """What decides which train pairs a task's adapters never train on (finetune.held_out)."""
    settings = finetune_settings(task)
    return {k: settings.get(k) for k in ("max_train_pairs", "val_fraction", "seed")}


def finetune_resource(name):
    return job_request("finetune", name)


def job_request(stage, name):
    """A resource of `stage`'s jobs (finetune or predict): the config's value, or where it is `auto` (runtime,
    mem_mb) one sized from the job's model and pairs when it is scheduled (radonc_llm/requests.py).
    """
    value = config[stage]["resources"][name]
    if value != "auto":
        return value
    return lambda wc, input: requests.request(
        config,
        stage,
        name,
        dict(wc.items()),
        dict(input.items()),
        plan.model_dir(config, wc.model),
    )


def model_file(name):
    """A rule's input: the file `name` of the job's base model (its directory: `model_setting("path")`)."""
    return lambda wc: f"{plan.model_dir(config, wc.model)}/{name}"


PROMPTED = config["prompting"][
    "variants"
]  # the vanilla base shown solved training cases
VARIANTS = PLAIN_VARIANTS + PROMPTED
TEMPERATURES = [temperature_name(t) for t in config["predict"]["temperatures"]]
SCORING = Scoring.params(
    config
)  # what rules score and baselines read: alpha/beta, bootstrap, clinical window


def predict_inputs(wildcards):
    inputs = {
        "base": model_file("config.json")(wildcards),
        "eval": run_path(f"pairs/{wildcards.task}/eval.parquet"),
        "selection": run_path(f"pairs/{wildcards.task}/selection.parquet"),
    }
    if VARIANT_REGISTRY[wildcards.variant].trained:
        inputs["adapter"] = run_path(
            f"finetune/{wildcards.model}/{wildcards.task}/adapter"
        )
    return inputs


def prompted_inputs(wildcards):
    """The prompting variants' job: the vanilla base, the eval and selection pairs and the training pairs it shows
    (the adapter's: equal data; and every train pair, for the all_pairs predictions)."""
    return {
        "base": model_file("config.json")(wildcards),
        "eval": run_path(f"pairs/{wildcards.task}/eval.parquet"),
        "selection": run_path(f"pairs/{wildcards.task}/selection.parquet"),
        "train": run_path(f"pairs/{wildcards.task}/learned.parquet"),
        "all_train": run_path(f"pairs/{wildcards.task}/train.parquet"),
    }


def predict_settings():
    """What a prediction job reads of predict: (its threads, resources and what sizes them go to the scheduler;
    device_memory_gb to planning)."""
    return {k: v for k, v in config["predict"].items() if k not in plan.SCHEDULING_KEYS}


def predict_resource(name):
    return job_request("predict", name)


# The learning curve (rules/learning_curve.smk): its models, tasks and temperature (checked in radonc_llm/plan.py).
CURVE = config["learning_curve"]
CURVE_MODELS = CURVE["models"] or MODELS
CURVE_TASKS = CURVE["tasks"] or TASKS
CURVE_TEMPERATURE = CURVE["temperature"] or min(config["predict"]["temperatures"])
CURVE_T = temperature_name(CURVE_TEMPERATURE)
CURVE_VARIANTS = [
    TRAINED_VARIANT
] + PROMPTED  # those that learn from the curve's pairs at each size
BASELINE_NAMES = "|".join(sorted({n for names in BASELINES.values() for n in names}))


def keys_of(**wildcards):
    """The wildcard values of each file that expand(pattern, **wildcards) lists, in its order (temperatures as
    numbers): a rule passes them as a param so that the package knows which file is which without reading paths.
    """
    values = [
        [float(v) for v in vs] if name == "temperature" else list(vs)
        for name, vs in wildcards.items()
    ]
    return [list(key) for key in itertools.product(*values)]


# Training seeds (finetune.seeds; rules/seeds.smk): the run's own adapter is the first, the others live in seeds/seed<s>/.
SEEDS = plan.training_seeds(config)
FURTHER_SEEDS = SEEDS[1:]


def seed_path(path):
    """`path` inside the tree of one further training seed."""
    return run_path(f"seeds/seed{{seed}}/{path}")


def seed_summaries(split):
    """Every seed's fine-tuned summaries (eval: `summary.csv`; selection: `selection/summary.csv`), the run's
    own first, in the order of keys_of(seed=SEEDS, model=MODELS, task=TASKS)."""
    name = "summary.csv" if split == "eval" else "selection/summary.csv"
    own = f"metrics/{{model}}/{TRAINED_VARIANT}/{{task}}/{name}"
    return [
        run_path(own if seed == SEEDS[0] else f"seeds/seed{seed}/{own}").format(
            model=model, task=task
        )
        for seed, model, task in itertools.product(SEEDS, MODELS, TASKS)
    ]


def study_report_inputs(wildcards):
    """The run's files the study report is written from (rules/study_report.smk)."""
    curve = [
        run_path("tables/learning_curve.csv"),
        run_path("figures/learning_curve.png"),
    ]
    pairs = {
        f"{split}_pairs": [run_path(f"pairs/{t}/{split}.parquet") for t in TASKS]
        for split in ("train", "learned", "selection", "eval")
    }
    return pairs | {
        "exports": [raw_export("diagnoses"), raw_export("plans")],
        "study": config["study"],
        "cases": run_path("data/cases.parquet"),
        "bases": [f"{plan.model_dir(config, m)}/config.json" for m in MODELS],
        "funnel": run_path("data/curation_funnel.csv"),
        "cohort": run_path("data/cohort.csv"),
        "cards": [
            run_path(f"finetune/{m}/{t}/model_card.json") for m in MODELS for t in TASKS
        ],
        "plan": run_path("analysis_plan.yaml"),
        **{
            name: run_path(f"tables/{name}.csv")
            for name in (
                "table1",
                "ranking",
                "paired_tests",
                "metrics_by_temperature",
                "by_group",
            )
        },
        "seeds": [run_path("tables/seeds.csv")] if FURTHER_SEEDS else [],
        "figures": [run_path(f"figures/{name}.png") for name in REPORT_FIGURES],
        # the learning curve once `snakemake learning_curve` has drawn it; the grades once every sheet is back
        "curve": curve if os.path.exists(curve[0]) else [],
        "grading": (
            [
                run_path(f"grading/{name}")
                for name in (
                    "grade_distribution.csv",
                    "agreement.csv",
                    "figure5ab_human_grades.png",
                    "arm_comparisons.csv",
                    "raters.csv",
                )
            ]
            if graded_sheets_present()
            else []
        ),
    }


def study_report_facts():
    """What the study report states from the config (the run's settings, not its results)."""
    spec = config["models"]
    return {
        "run": config["run"],
        "config_sha256": hashlib.sha256(
            json.dumps(config, sort_keys=True, default=str).encode()
        ).hexdigest(),
        "synthetic": raw_is_synthetic(),
        "tasks": TASKS,
        "instructions": {t: config["tasks"][t]["instruction"] for t in TASKS},
        "models": {
            m: {
                "path": plan.model_dir(config, m),
                "prompt_format": spec[m]["prompt_format"],
                "tiny": bool(spec[m].get("tiny")),
            }
            for m in MODELS
        },
        "prompting": config["prompting"],
        "seeds": SEEDS,
        "split_seed": config["split"]["seed"],
        "selection_seed": config["statistics"]["seed"],
        **{
            k: config["predict"][k]
            for k in (
                "backend",
                "temperatures",
                "seed",
                "top_p",
                "top_k",
                "batch_size",
                "precision",
                "max_new_tokens",
                "vanilla_max_new_tokens",
            )
        },
    }


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


RETURNED = run_path("grading/returned")  # this run's graded sheets, never another run's
SHEET_FORMAT = config["grading"]["sheet_format"]


def returned_sheet(grader):
    """A grader's returned sheet: <grader>.xlsx or <grader>.csv in RETURNED (None while there is none); both
    is an error, as which one to read would be a guess."""
    found = [
        f"{RETURNED}/{grader}.{ext}"
        for ext in ("xlsx", "csv")
        if os.path.exists(f"{RETURNED}/{grader}.{ext}")
    ]
    if len(found) > 1:
        stop_at_planning(
            f"{' and '.join(found)}: two returned sheets of grader {grader}; keep the one to grade from"
        )
    return found[0] if found else None


def returned_sheets():
    """Rule grading_results' graded sheets: each grader's returned file (while none is back, the name it is
    expected under)."""
    return [
        returned_sheet(g) or f"{RETURNED}/{g}.{SHEET_FORMAT}"
        for g in config["grading"]["graders"]
    ]


def graded_sheets_present():
    """The grading results are built only once every grader's sheet is back in RETURNED."""
    return all(returned_sheet(g) for g in config["grading"]["graders"])


def adjudication_input():
    """The filled adjudication sheet, if the clinicians have placed one."""
    path = f"{RETURNED}/adjudication.csv"
    return [path] if os.path.exists(path) else []
