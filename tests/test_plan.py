"""The shipped GPU configs planned through profiles/slurm: every job's SLURM request fits its work.

Dry runs only: the 7B bases are faked as local directories with a LLaMA-2-7B config.json and sparse
safetensors shards (13.5 GB as the file system reports them, no bytes on disk), so planning sees what
a hospital's copy of the weights looks like without the weights.
"""
import json
import os
import re
import subprocess
import sys

import pytest

from radonc_llm.models import host_memory_mb
from test_workflow import REPO

LLAMA2_7B = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096,
             "intermediate_size": 11008, "num_hidden_layers": 32, "num_attention_heads": 32,
             "num_key_value_heads": 32, "vocab_size": 32000, "max_position_embeddings": 4096,
             "torch_dtype": "float16"}
WEIGHTS_BYTES = 13_476_839_424  # LLaMA-2-7B's safetensors, as its shard index gives them
GPU_RULES = {"finetune", "predict", "predict_prompted", "finetune_seed", "predict_seed"}
# the GPU run planned on this machine: its torch may be a CPU build (the jobs' nodes have CUDA); the check that
# refuses a CPU build for GPU jobs: tests/test_plan_checks.py, and the last test here
CPU_PLANNING = ("--config", "gpu_jobs_need_cuda=False")
ENV = {"RADONC_SLURM_GPU_PARTITION": "gpu-a100", "RADONC_SLURM_CPU_PARTITION": "cpu", "RADONC_SLURM_ACCOUNT": "onc"}


def fake_7b(folder, total=WEIGHTS_BYTES):
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(LLAMA2_7B))
    (folder / "tokenizer.json").write_text("{}")
    shards = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
    (folder / "model.safetensors.index.json").write_text(json.dumps(
        {"metadata": {"total_size": total}, "weight_map": {"a": shards[0], "b": shards[1]}}))
    for shard in shards:
        with open(folder / shard, "wb") as f:
            f.truncate(total // 2)  # sparse: the size without the bytes
    return folder


def plan(*configs, env=None, targets=(), workdir=None):
    """Every job a dry run through profiles/slurm plans: [(rule, {resource: value})]; with `workdir`, the run's
    working directory (its results/ tree) is that folder, and each job's wildcards come third."""
    where = ("--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir)) if workdir else ()
    out = subprocess.run([sys.executable, "-m", "snakemake", *targets, "--dry-run", *where, "--profile",
                          str(REPO / "profiles/slurm"), *CPU_PLANNING, "--configfile",
                          *(str(REPO / c) if c.startswith("config/") else c for c in configs)],
                         cwd=workdir or REPO, capture_output=True, text=True, env={**os.environ, **ENV, **(env or {})})
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    jobs = []
    for rule, body in re.findall(r"^(?:local)?rule (\w+):\n((?:    .*\n)+)", out.stdout, flags=re.M):
        resources = re.search(r"^    resources: (.*)$", body, flags=re.M)
        pairs = (item.split("=", 1) for item in resources.group(1).split(", ")) if resources else ()
        wildcards = re.search(r"^    wildcards: (.*)$", body, flags=re.M)
        named = dict(item.split("=", 1) for item in wildcards.group(1).split(", ")) if wildcards else {}
        jobs.append((rule, dict(pairs), named) if workdir else (rule, dict(pairs)))
    return jobs


@pytest.fixture(scope="module")
def paper_models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    overlay = root / "models.yaml"
    overlay.write_text(f"models:\n  llama2-7b: {{path: {fake_7b(root / 'llama')}}}\n"
                       f"  mistral-7b: {{path: {fake_7b(root / 'mistral')}}}\n")
    return root, overlay


PAPER_PAIRS = {"train": 7500, "eval": 403, "selection": 300, "learned": 7125}  # regimen and modality; icd10: 6,800 /
# 377 / 300 / 6,460 (the adapter's: the train pairs less a 5 % validation slice)
PROMPT_CHARS = 600  # the pairs' prompt and answer: 600 / 3 + 32 = 232 tokens each (radonc_llm/requests.py)


@pytest.fixture(scope="module")
def paper_workdir(tmp_path_factory):
    """A working directory whose results/paper/ holds pairs as many as the paper's, so that the dry run sizes
    each fine-tuning and prediction job from them (runtime and mem_mb: auto)."""
    import pandas as pd
    work = tmp_path_factory.mktemp("work")
    (work / "config").symlink_to(REPO / "config")  # the annotation templates, as in a checkout
    for task in ("regimen", "modality", "icd10"):
        folder = work / "results" / "paper" / "pairs" / task
        folder.mkdir(parents=True)
        sizes = PAPER_PAIRS | ({"train": 6800, "eval": 377, "learned": 6460} if task == "icd10" else {})
        for split, n in sizes.items():
            pd.DataFrame({"prompt": ["x" * (PROMPT_CHARS - 40)] * n, "answer": ["y" * 40] * n}).to_parquet(
                folder / f"{split}.parquet")
    return work


def estimated_minutes(rule, wildcards, parameters):
    """The job's compute at the paper config's throughput (fine-tuning 100, generation 20 TFLOP/s a GPU),
    from the pairs by hand: what the request must cover, and exceed by no more than a few times."""
    icd10 = wildcards["task"] == "icd10"
    if rule in ("finetune", "finetune_seed"):
        train = (6800 if icd10 else 7500) * 0.95
        return 8 * parameters * 3 * train * 232 / (2 * 100e12) / 60
    pairs = (377 if icd10 else 403) + 300
    answer = {"regimen": (64, 96), "modality": (8, 32), "icd10": (12, 32)}[wildcards["task"]]
    if rule == "predict_prompted":  # fewshot and retrieved: four solved pairs before the case's own, on the eval
        # and selection pairs, and on the eval pairs again shown every train pair
        tokens = 2 * (pairs + (377 if icd10 else 403)) * (5 * 232 + 10 * answer[0])
    else:
        tokens = pairs * (232 + 10 * answer[wildcards.get("variant") == "vanilla"])  # predict_seed: fine-tuned
    return 2 * parameters * tokens / 20e12 / 60


def test_the_papers_run_asks_slurm_for_what_each_job_needs(paper_models, paper_workdir):
    root, overlay = paper_models
    jobs = plan("config/paper.yaml", str(overlay), workdir=paper_workdir)
    counts = {}
    for rule, _, _ in jobs:
        counts[rule] = counts.get(rule, 0) + 1
    # 2 models x 3 tasks: adapters; x 2 variants predictions (every temperature in one job); one job for the
    # prompting variants; one scoring job for every variant
    assert counts["finetune"] == 6 and counts["predict"] == 12 and counts["predict_prompted"] == 6
    assert counts["score"] == 6
    # finetune.seeds 3: two more adapters per model and task, each predicted and scored, and their table
    assert counts["finetune_seed"] == counts["predict_seed"] == counts["score_seed"] == 12
    assert counts["seeds_table"] == counts["study_report"] == 1
    assert counts["selection_pairs"] == 3 and counts["analysis_plan"] == 1
    assert counts["baselines"] == counts["baselines_all_pairs"] == 5  # fitted on the adapter's pairs, and on all
    assert sum(counts.values()) == 56 + 3 * 12 + 2
    parameters = WEIGHTS_BYTES // 2
    for rule, res, wildcards in jobs:
        if rule == "all" or "slurm_partition" not in res:
            continue  # local rules run where Snakemake runs
        gpus = int(res.get("gpu", 0))
        if rule in GPU_RULES:
            assert res["slurm_partition"] == "gpu-a100" and res["slurm_account"] == "onc", (rule, res)
            assert gpus == (2 if rule.startswith("finetune") else 1), (rule, res)  # the paper's two A100s for training
            # mem_mb: auto, the base's weights once per process
            assert int(res["mem_mb"]) == host_memory_mb(root / "llama", False, gpus) > gpus * WEIGHTS_BYTES / 1e6
            # runtime: auto, a few times the estimated compute, not the fixed 12 h and 4 h of a request by hand
            estimate = estimated_minutes(rule, wildcards, parameters)
            # (requests.safety 3 x the compute, + the 10 minutes of start-up: every part of a job's work counted)
            assert 2.5 * estimate + 10 < int(res["runtime"]) <= 4 * estimate + 10, (rule, wildcards, res["runtime"],
                                                                                  estimate)
            assert int(res["cpus_per_task"]) >= 4, (rule, res)
        else:
            assert res["slurm_partition"] == "cpu" and gpus == 0, (rule, res)


def test_before_its_pairs_exist_a_job_sized_from_its_work_shows_tbd(paper_models):
    _, overlay = paper_models
    for rule, res in plan("config/paper.yaml", str(overlay)):
        if rule in GPU_RULES:
            assert res["runtime"] == res["mem_mb"] == "<TBD>", (rule, res)


def test_the_real_models_gpu_config_asks_for_a_gpu_per_model_job():
    jobs = plan("config/smollm2.yaml", "config/smollm2-gpu.yaml")
    gpu_jobs = [(rule, res) for rule, res in jobs if rule in GPU_RULES]
    assert len(gpu_jobs) == 3 + 6 + 3  # adapters, vanilla and fine-tuned predictions, prompting variants
    for rule, res in gpu_jobs:
        assert int(res["gpu"]) == 1 and res["slurm_partition"] == "gpu-a100", (rule, res)
    assert all(int(res.get("gpu", 0)) == 0 for rule, res in jobs if rule not in GPU_RULES)


def test_make_real_and_its_learning_curve_plan_within_its_400_training_pairs():
    jobs = plan("config/smollm2.yaml", targets=("all", "learning_curve", "--forceall"))
    subsets = [rule for rule, _ in jobs if rule == "finetune_subset"]
    assert len(subsets) == 3 * 3  # sizes x tasks, each below finetune.max_train_pairs


def test_a_job_too_small_for_its_model_is_refused_at_planning(paper_models, tmp_path):
    _, overlay = paper_models
    small = tmp_path / "small.yaml"
    small.write_text("predict:\n  resources: {gpu: 1, cpus_per_task: 4, mem_mb: 4000, runtime: 60}\n")
    out = subprocess.run([sys.executable, "-m", "snakemake", "--dry-run", *CPU_PLANNING, "--configfile",
                          "config/paper.yaml",
                          str(overlay), str(small)], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert re.search(r"^error: predict.resources.mem_mb is 4000, but llama2-7b's 13.5 GB of weights need about "
                     r"\d+ MB to load \(bf16, 1 process\(es\)\): raise it in the config$", out.stderr, flags=re.M)
    uneven = tmp_path / "uneven.yaml"
    uneven.write_text("finetune:\n  batch_size: 5\n  gradient_accumulation: 3\n")
    out = subprocess.run([sys.executable, "-m", "snakemake", "--dry-run", *CPU_PLANNING, "--configfile",
                          "config/paper.yaml",
                          str(overlay), str(uneven)], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 1 and out.stderr.strip().endswith(
        "error: finetune.batch_size 5 x gradient_accumulation 3 cannot be shared by 2 processes "
        "(finetune.resources.gpu): make one of them a multiple of 2")
    vllm = tmp_path / "vllm.yaml"
    vllm.write_text("predict:\n  backend: vllm\n  resources: {gpu: 0, cpus_per_task: 4, mem_mb: 64000, runtime: 60}\n")
    out = subprocess.run([sys.executable, "-m", "snakemake", "--dry-run", *CPU_PLANNING, "--configfile",
                          "config/paper.yaml",
                          str(overlay), str(vllm)], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 1 and out.stderr.strip().endswith(
        "error: predict.backend vllm runs on a GPU only: set predict.resources.gpu to 1 or more")


@pytest.mark.parametrize("layout", ["absent", "no weights"])
def test_a_wrong_model_directory_is_refused_at_planning_with_the_key_and_the_path(tmp_path, layout):
    folder = tmp_path / "Llama-2-7b-hf"
    if layout == "no weights":
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps(LLAMA2_7B))
        (folder / "tokenizer.model").write_bytes(b"x")
    overlay = tmp_path / "models.yaml"
    overlay.write_text(f"models:\n  llama2-7b: {{path: {folder}}}\n")
    out = subprocess.run([sys.executable, "-m", "snakemake", "--dry-run", *CPU_PLANNING, "--configfile",
                          "config/paper.yaml",
                          str(overlay)], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 1 and "Traceback" not in out.stderr and "MissingInput" not in out.stderr
    lines = out.stderr.strip().splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("error: "))
    problems = [line.strip() for line in lines[first:]]  # every problem at once, one line each
    assert problems[0].startswith(f"error: models.llama2-7b.path: {folder}: "), problems
    assert ("model directory not found" if layout == "absent" else "missing *.safetensors weights") in problems[0]
    assert problems[1].startswith("models.mistral-7b.path: /models/Mistral-7B-v0.1: model directory not found")


def test_a_learning_curve_size_not_below_the_full_adapters_pairs_is_refused_at_planning(tmp_path):
    overlay = tmp_path / "curve.yaml"
    overlay.write_text("learning_curve: {sizes: [50, 400]}\n")
    out = subprocess.run([sys.executable, "-m", "snakemake", "--dry-run", "--configfile", "config/smollm2.yaml",
                          str(overlay)], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 1 and out.stderr.strip().splitlines()[-1] == (
        "error: learning_curve.sizes: 400 is not below finetune.max_train_pairs (400), the full adapter's training "
        "pairs"), out.stderr[-1000:]


def test_a_run_without_prompting_variants_plans_the_study_and_its_learning_curve(tmp_path):
    overlay = tmp_path / "paper_variants.yaml"  # the paper's two variants only, with a plan that fits them
    overlay.write_text("prompting: {variants: []}\nstatistics: {plan: {primary: fine-tuned vs vanilla}}\n")
    rules = {rule for rule, _ in plan("config/config.yaml", str(overlay), targets=["all", "learning_curve"])}
    assert {"finetune_subset", "baselines_subset", "learned_pairs_subset", "learning_curve"} <= rules
    assert not {r for r in rules if "prompted" in r}  # no prompting job, at full size or on the curve


def test_a_second_configfile_flag_that_drops_the_papers_config_is_refused_at_planning(tmp_path):
    """`--configfile config/paper.yaml --configfile my.yaml` keeps only my.yaml: the tiny stand-ins on the
    hospital's exports. Planning refuses it in one line; one flag with both files layers them."""
    mine = tmp_path / "my.yaml"
    mine.write_text(f"run: hospital\nraw: {{diagnoses: {tmp_path}/dx.csv, plans: {tmp_path}/plans.csv}}\n")
    out = subprocess.run([sys.executable, "-m", "snakemake", "--dry-run", *CPU_PLANNING, "--configfile",
                          "config/paper.yaml",
                          "--configfile", str(mine)], cwd=REPO, capture_output=True, text=True,
                         env={**os.environ, "RADONC_PSEUDONYM_KEY": "k" * 32})
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines()[-1].startswith(
        "error: active_models are the demo's tiny stand-ins (tiny-llama, tiny-mistral), but raw.diagnoses and "
        "raw.plans are your own exports: was a config dropped?"), out.stderr[-1000:]


def test_gpu_jobs_planned_with_a_cpu_torch_are_refused_in_one_line(paper_models):
    import torch
    if torch.version.cuda:
        pytest.skip("this environment's torch is a CUDA build (the refusal itself: tests/test_plan_checks.py)")
    _, overlay = paper_models
    out = subprocess.run([sys.executable, "-m", "snakemake", "--dry-run", "--configfile", "config/paper.yaml",
                          str(overlay)], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 1 and "Traceback" not in out.stderr and "Building DAG" not in out.stdout + out.stderr
    assert out.stderr.strip().splitlines()[-1] == (
        f"error: finetune.resources.gpu is 2 and predict.resources.gpu is 1, but this environment's torch "
        f"{torch.__version__} is a CPU build: install a CUDA build (make install TORCH=cu126, from your wheelhouse: "
        "docs/finetuning.md) or set the GPU requests to 0")
