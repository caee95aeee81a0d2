"""radonc_llm/plan.py called directly: each planning check on a config that breaks it, and on the shipped configs
that break none (the dry runs through Snakemake are in test_plan.py)."""
import copy
import json

import pytest
import yaml

from radonc_llm import plan
from test_workflow import REPO


def layered(*names):
    """The configs as Snakemake layers them (`--configfile a b`): later keys replace earlier ones, recursively."""
    def merge(a, b):
        return {k: merge(a[k], v) if isinstance(v, dict) and isinstance(a.get(k), dict) else v
                for k, v in {**a, **b}.items()}
    config = {}
    for name in names:
        config = merge(config, yaml.safe_load((REPO / "config" / name).read_text()))
    return config


@pytest.fixture
def config():
    return copy.deepcopy(layered("config.yaml"))


def model_dir(folder, weights_bytes=1000):
    """A local model directory: config, tokenizer and one safetensors file of `weights_bytes` (sparse)."""
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "llama", "torch_dtype": "bfloat16"}))
    (folder / "tokenizer.json").write_text("{}")
    with open(folder / "model.safetensors", "wb") as f:
        f.truncate(weights_bytes)
    return folder


def test_the_shipped_demo_and_real_model_configs_have_no_problems():
    assert plan.problems(layered("config.yaml")) == []
    assert plan.problems(layered("config.yaml", "smollm2.yaml")) == []


def test_built_bases_live_in_the_run_and_take_no_path(config):
    assert plan.model_dir(config, "tiny-llama") == "results/demo/models/base/tiny-llama"
    config["models"]["tiny-llama"]["path"] = "/models/x"
    assert plan.problems(config) == ["models.tiny-llama.path: leave it out, the workflow builds this base in "
                                     "results/demo/models/base/tiny-llama"]


def test_a_hospital_base_needs_a_path_and_an_active_model_a_definition(config):
    config["models"]["llama2-7b"] = {"prompt_format": "llama2"}
    config["active_models"] = ["tiny-llama", "gpt-9"]
    assert plan.problems(config) == ["models.llama2-7b.path: the local directory of this base model is not set",
                                     "active_models names 'gpt-9', which is not in models:"]


def test_an_active_hospital_base_must_be_a_complete_directory(config, tmp_path):
    config["models"]["llama2-7b"] = {"path": str(tmp_path / "absent"), "prompt_format": "llama2"}
    config["active_models"] = ["llama2-7b"]
    [problem] = plan.problems(config)
    assert problem.startswith(f"models.llama2-7b.path: {tmp_path / 'absent'}: model directory not found")
    config["active_models"] = ["tiny-llama"]  # an inactive model's directory is not looked at
    assert plan.problems(config) == []


def test_weights_that_do_not_fit_the_jobs_memory_are_refused_per_stage(config, tmp_path):
    # 10 GB of bf16 weights: bf16 on the GPU loads 10 GB, x 1.2 + 2 GB = 14,000 MB; fp32 on a CPU node twice that
    path = model_dir(tmp_path / "m", weights_bytes=10_000_000_000)
    config["models"]["big"] = {"path": str(path), "prompt_format": "llama2"}
    config["active_models"] = ["big"]
    config["finetune"]["resources"] |= {"gpu": 1, "mem_mb": 14_000}
    config["predict"]["resources"] |= {"gpu": 0, "mem_mb": 14_000}
    assert plan.problems(config) == [
        "predict.resources.mem_mb is 14000, but big's 10.0 GB of weights need about 26000 MB to load (fp32, "
        "1 process(es)): raise it in the config"]


def test_a_card_too_small_to_generate_from_one_full_context_is_refused(config, tmp_path):
    from test_batching import LLAMA2_7B, WEIGHTS_BYTES
    path = model_dir(tmp_path / "m", weights_bytes=WEIGHTS_BYTES)
    (path / "config.json").write_text(json.dumps(LLAMA2_7B))
    config["models"]["llama2-7b"] = {"path": str(path), "prompt_format": "llama2"}
    config["active_models"] = ["llama2-7b"]
    config["finetune"]["resources"] |= {"gpu": 1, "mem_mb": 64_000}
    config["predict"]["resources"] |= {"gpu": 1, "mem_mb": 64_000}
    config["predict"]["device_memory_gb"] = 24  # 12.6 GiB of weights; one 4,096-token row ~5.4 GiB: fits
    assert plan.problems(config) == []
    config["predict"]["device_memory_gb"] = 16
    # budget 0.9 x (16 - 12.55) GiB = 3.1 GiB; one row: 4096 x 0.5 MiB x 1.5 (3.0 GiB)
    # + 4000 x (0.5 MiB + 112.5 KiB) (2.4 GiB) + logits
    assert plan.problems(config) == [
        "predict.device_memory_gb is 16, but llama2-7b's weights (12.6 GiB) and one prompt of its context (4000 "
        "tokens and 96 to answer, 5.4 GiB) do not fit in it: use GPUs with more memory"]
    config["predict"]["resources"]["gpu"] = 0  # on the CPU the card is not used
    assert plan.problems(config) == []


def tokenizer_config(folder, **declared):
    (folder / "tokenizer_config.json").write_text(json.dumps(declared))


def test_a_tokenizer_that_cannot_pad_apart_from_eos_is_refused_at_planning_from_its_files(config, tmp_path):
    path = model_dir(tmp_path / "qwen")
    config["models"]["qwen"] = {"path": str(path), "prompt_format": "tokenizer"}
    config["active_models"] = ["qwen"]
    config["finetune"]["resources"] |= {"gpu": 1, "mem_mb": 8000}
    config["predict"]["resources"] |= {"gpu": 1}
    # Qwen2.5 base as it ships: pad = EOS, no unk, its chat template writes <|im_start|> and <|im_end|>
    added = {"151643": {"content": "<|endoftext|>", "special": True},
             "151644": {"content": "<|im_start|>", "special": True},
             "151645": {"content": "<|im_end|>", "special": True}}
    template = "{% for m in messages %}<|im_start|>{{ m['content'] }}<|im_end|>{% endfor %}"
    tokenizer_config(path, eos_token="<|endoftext|>", pad_token="<|endoftext|>", unk_token=None,
                     added_tokens_decoder=added, chat_template=template)
    assert plan.problems(config) == [
        f"models.qwen.path: {path}: the tokenizer has no pad token distinct from EOS, no unk token and no spare "
        "special token to pad with; add a pad token to the model directory"]
    added["151662"] = {"content": "<|fim_pad|>", "special": True}  # the real one reserves this: it pads
    tokenizer_config(path, eos_token="<|endoftext|>", pad_token="<|endoftext|>", unk_token=None,
                     added_tokens_decoder=added, chat_template=template)
    assert plan.problems(config) == []
    # Llama-3.1-Instruct: no pad, no unk, EOS <|eot_id|>, a reserved padding token; roles as dicts, as older files
    llama3 = {"128000": {"content": "<|begin_of_text|>", "special": True},
              "128009": {"content": "<|eot_id|>", "special": True},
              "128004": {"content": "<|finetune_right_pad_id|>", "special": True}}
    tokenizer_config(path, bos_token={"content": "<|begin_of_text|>"}, eos_token={"content": "<|eot_id|>"},
                     added_tokens_decoder=llama3, chat_template="<|begin_of_text|>{{ m }}<|eot_id|>")
    assert plan.problems(config) == []
    # LLaMA-2: no pad, its unk pads
    tokenizer_config(path, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token=None)
    assert plan.problems(config) == []


def test_an_effective_batch_the_gpus_cannot_share_is_refused_once(config):
    config["finetune"] |= {"batch_size": 3, "gradient_accumulation": 1}
    config["finetune"]["resources"]["gpu"] = 2
    assert plan.problems(config) == ["finetune.batch_size 3 x gradient_accumulation 1 cannot be shared by 2 processes "
                                     "(finetune.resources.gpu): make one of them a multiple of 2"]


def test_vllm_needs_a_gpu(config):
    config["predict"]["backend"] = "vllm"
    assert plan.problems(config) == ["predict.backend vllm runs on a GPU only: set predict.resources.gpu to 1 or more"]


def test_temperature_names_are_exact_and_a_collision_is_refused(config):
    assert [plan.temperature_name(t) for t in (0.1, 0.15, 0.25, 1, 1.0, 0.2)] == \
        ["0.1", "0.15", "0.25", "1.0", "1.0", "0.2"]
    config["predict"]["temperatures"] = [0.1, 0.15, 0.25]  # one decimal would write 0.1, 0.1 (or 0.2), 0.2
    assert plan.problems(config) == []
    config["predict"]["temperatures"] = [0.5, 1, 1.0]  # the schema's uniqueItems sees 1 and 1.0 as one too
    assert plan.problems(config) == ["predict.temperatures: 2 temperatures would write the same files (T1.0.parquet): "
                                     "list each temperature once"]


def test_every_setting_naming_a_temperature_names_a_scanned_one(config):
    config["predict"]["temperatures"] = [0.1, 0.25]
    config["statistics"]["temperature"] = 0.2
    config["learning_curve"]["temperature"] = 0.25
    config["metrics"]["report_temperature"] = 0.7
    config["grading"]["temperature"] = "best"
    assert plan.problems(config) == ["statistics.temperature 0.2 is not one of predict.temperatures",
                                     "metrics.report_temperature 0.7 is not one of predict.temperatures"]


def test_the_learning_curve_uses_active_models_and_sizes_below_the_full_adapters(config):
    config["learning_curve"]["models"] = ["tiny-llama", "mistral-7b"]
    config["learning_curve"]["sizes"] = [10, 50]
    config["finetune"]["max_train_pairs"] = 60
    config["finetune"].setdefault("per_task", {})["icd10"] = {"max_train_pairs": 50}
    assert plan.problems(config) == [
        "learning_curve.models names 'mistral-7b', which is not in active_models",
        "learning_curve.sizes: 50 is not below finetune.max_train_pairs (50), the full adapter's training pairs"]


def test_finetune_settings_layer_the_tasks_own_over_the_shared(config):
    config["finetune"]["per_task"] = {"icd10": {"epochs": 9, "lora": {"r": 4}}}
    icd10, regimen = plan.finetune_settings(config, "icd10"), plan.finetune_settings(config, "regimen")
    assert icd10["epochs"] == 9 and icd10["lora"]["r"] == 4
    assert icd10["lora"]["alpha"] == regimen["lora"]["alpha"] == config["finetune"]["lora"]["alpha"]
    assert regimen["epochs"] == config["finetune"]["epochs"]
    assert "resources" not in regimen and "per_task" not in regimen


def test_the_tiny_stand_ins_on_a_hospitals_exports_are_refused_unless_meant(config):
    assert plan.exports_synthetic(config)  # raw: null, the run's synthetic cohort
    config["raw"] |= {"diagnoses": "results/demo/synthetic/diagnoses.csv", "plans": "results/demo/synthetic/plans.csv"}
    assert plan.exports_synthetic(config) and plan.problems(config) == []  # named explicitly: still the cohort's
    config["raw"] |= {"diagnoses": "/data/aria/dx.csv", "plans": "/data/aria/plans.csv"}
    assert plan.problems(config) == [
        "active_models are the demo's tiny stand-ins (tiny-llama, tiny-mistral), but raw.diagnoses and raw.plans are "
        "your own exports: was a config dropped? Layer configs with one flag (--configfile config/paper.yaml "
        "my.yaml); to try the stand-ins on your exports, set tiny.own_exports: true"]
    config["tiny"]["own_exports"] = True
    assert plan.problems(config) == []


def test_gpu_jobs_with_a_cpu_build_of_torch_are_refused(config):
    def never():
        raise AssertionError("torch is looked at only when a job asks for GPUs")
    assert plan.cuda_problems(config, never) == []  # the demo asks for none
    config["finetune"]["resources"]["gpu"], config["predict"]["resources"]["gpu"] = 2, 1
    assert plan.cuda_problems(config, lambda: ("2.13.0+cpu", None)) == [
        "finetune.resources.gpu is 2 and predict.resources.gpu is 1, but this environment's torch 2.13.0+cpu is a CPU "
        "build: install a CUDA build (make install TORCH=cu126, from your wheelhouse: docs/finetuning.md) or set the "
        "GPU requests to 0"]
    assert plan.cuda_problems(config, lambda: ("2.13.0+cu126", "12.6")) == []
    config["gpu_jobs_need_cuda"] = False  # fake GPUs (the live-SLURM test)
    assert plan.cuda_problems(config, lambda: ("2.13.0+cpu", None)) == []


def test_a_gpu_job_without_its_devices_stops_at_once_naming_host_and_devices(monkeypatch):
    import socket

    import torch

    from radonc_llm.errors import UserError
    from radonc_llm.models import require_gpus
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    require_gpus(0)  # a CPU job: nothing to check
    with pytest.raises(UserError, match=rf"asked for 1 GPU\(s\) but sees 0 \(host {socket.gethostname()}, "
                                        r"CUDA_VISIBLE_DEVICES=, torch .*\): it stops rather than compute on the CPU"):
        require_gpus(1)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    require_gpus(1)
    with pytest.raises(UserError, match=r"asked for 2 GPU\(s\) but sees 1"):
        require_gpus(2)


def test_an_annotation_table_not_yet_filled_is_its_template(config, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the workflow's directory: config/annotations/ holds the templates
    table = tmp_path / "secure" / "overrides.csv"
    config["annotations"]["modality_overrides"] = str(table)
    assert plan.annotation_table(config, "modality_overrides") == "config/annotations/modality_overrides.template.csv"
    table.parent.mkdir()
    table.write_text("case_id,modality\n")
    assert plan.annotation_table(config, "modality_overrides") == str(table)
    assert (REPO / "config/annotations/modality_overrides.template.csv").read_text() == "case_id,modality\n"
    assert (REPO / "config/annotations/text_separations.template.csv").read_text() == \
        "case_id,diagnosis,plan_summary\n"


def test_a_slurm_plugin_that_ignores_the_gpu_resource_is_refused_for_gpu_jobs(config):
    def never():
        raise AssertionError("the plugin is looked at only when a job asks for GPUs")
    assert plan.slurm_plugin_problems(config, never) == []
    config["predict"]["resources"]["gpu"] = 1
    assert plan.slurm_plugin_problems(config, lambda: "0.15.1") == [
        "snakemake-executor-plugin-slurm 0.15.1 does not pass the gpu resource to SLURM (from 1.0.0 on it does): "
        "the GPU jobs would run without GPUs; install the version requirements.txt pins"]
    assert plan.slurm_plugin_problems(config, lambda: "1.0.0") == []
    assert plan.slurm_plugin_problems(config, lambda: "2.8.0") == []
    assert plan.slurm_plugin_problems(config, lambda: None) == []  # not installed: not run through SLURM
    assert plan.slurm_plugin() is not None  # pinned in requirements.txt


def test_an_analysis_plan_the_run_cannot_carry_out_is_refused_at_planning(config):
    config["prompting"]["variants"] = []
    assert plan.problems(config) == [
        "statistics.plan.primary is 'fine-tuned vs best prompting', but prompting.variants is empty: name a "
        "comparison the run makes (fine-tuned vs vanilla, as the paper)"]
    config["statistics"]["plan"]["primary"] = "fine-tuned vs vanilla"
    assert plan.problems(config) == []
    config["prompting"]["variants"] = ["fewshot"]
    config["statistics"]["plan"]["comparators"]["baselines"]["modality"] = "nearest-neighbour"
    assert plan.problems(config) == [
        "statistics.plan.comparators.prompting is 'retrieved', not one of prompting.variants (fewshot)",
        "statistics.plan.comparators.baselines.modality is 'nearest-neighbour', not one of that task's baselines "
        "(majority, tfidf-logreg)"]
