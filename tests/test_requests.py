"""SLURM requests sized from the work (radonc_llm/requests.py): the formula by hand, and the paper's run."""
import pandas as pd
import pytest

from radonc_llm import requests
from radonc_llm.models import parameter_count
from test_plan import WEIGHTS_BYTES, fake_7b
from test_plan_checks import layered

PARAMETERS = WEIGHTS_BYTES // 2  # LLaMA-2-7B: 6.74 billion bf16 parameters


def pairs(n, chars=600):
    """`n` pairs of `chars` characters of prompt and answer together: 600 / 3 + 32 = 232 tokens each."""
    return pd.DataFrame({"prompt": ["x" * (chars - 40)] * n, "answer": ["y" * 40] * n})


def test_the_formula_by_hand():
    assert requests.tokens_per_pair(pairs(3), max_length=512) == 232
    assert requests.tokens_per_pair(pairs(3, chars=3000), max_length=512) == 512  # truncated to max_length
    settings = {"epochs": 3, "val_fraction": 0.05, "max_length": 512, "max_train_pairs": None}
    # 8 x N x 3 epochs x 7,125 training pairs x 232 tokens
    assert requests.finetune_flops(10**9, pairs(7500), settings) == pytest.approx(8e9 * 3 * 7125 * 232)
    assert requests.finetune_flops(10**9, pairs(7500), settings | {"max_train_pairs": 400}) == pytest.approx(
        8e9 * 3 * 380 * 232)
    # vanilla: 403 x (232 + 10 x 96); retrieved (k = 4): 403 x (5 x 232 + 10 x 64)
    flops = requests.predict_flops(10**9, [pairs(403)], ["vanilla", "retrieved"], 10,
                                   {"vanilla": 96, "retrieved": 64}, k=4, max_length=512)
    assert flops == pytest.approx(2e9 * 403 * ((232 + 960) + (5 * 232 + 640)))
    # 10 + 3 x 1.2e17 FLOP / (2 x 100 TFLOP/s) = 10 + 3 x 600 s = 40 minutes
    assert requests.minutes(1.2e17, gpus=2, tflops=100, requests={"safety": 3, "startup_minutes": 10}) == 40


@pytest.fixture(scope="module")
def paper_run(tmp_path_factory):
    """The paper's config over a fake LLaMA-2-7B, and its regimen pairs as the paper counted them."""
    root = tmp_path_factory.mktemp("paper")
    base = fake_7b(root / "llama")
    config = layered("config.yaml", "paper.yaml")
    files = {}
    for split, n in (("train", 7500), ("eval", 403), ("selection", 300)):
        files[split] = root / f"{split}.parquet"
        pairs(n).to_parquet(files[split])
    return config, base, {**files, "base": base / "config.json"}


def test_the_papers_jobs_ask_for_a_few_times_their_estimated_time(paper_run):
    config, base, files = paper_run
    assert parameter_count(base) == PARAMETERS

    def ask(stage, name, wildcards, keys):
        return requests.request(config, stage, name, {"model": "llama2-7b", "task": "regimen", **wildcards},
                                {k: str(files[k]) for k in ("base", *keys)}, str(base))

    # fine-tuning: 8 x 6.74e9 x 3 x 7,125 x 232 = 2.67e17 FLOP on 2 GPUs at 100 TFLOP/s: 22 minutes of compute
    estimate = 8 * PARAMETERS * 3 * 7125 * 232 / (2 * 100e12) / 60
    runtime = ask("finetune", "runtime", {}, ["train"])
    assert estimate < runtime <= 4 * estimate + 10 and runtime < 720 / 5  # the fixed request was 12 h
    assert ask("finetune", "runtime", {"size": "200"}, ["train"]) < 20  # a learning-curve adapter: minutes
    assert ask("finetune", "mem_mb", {}, ["train"]) == 2 * int(WEIGHTS_BYTES * 1.2 / 1e6) + 2000  # 2 processes
    # predictions: every temperature of the eval and selection pairs, at 20 TFLOP/s
    vanilla = 2 * PARAMETERS * 703 * (232 + 10 * 96) / 20e12 / 60
    runtime = ask("predict", "runtime", {"variant": "vanilla"}, ["eval", "selection"])
    assert vanilla < runtime <= 4 * vanilla + 10 and runtime < 240 / 2  # the fixed request was 4 h
    prompted = 2 * PARAMETERS * 703 * 2 * (5 * 232 + 10 * 64) / 20e12 / 60  # fewshot and retrieved, k = 4
    runtime = ask("predict", "runtime", {}, ["eval", "selection", "train"])
    assert prompted < runtime <= 4 * prompted + 10
    assert ask("predict", "mem_mb", {"variant": "vanilla"}, ["eval"]) == int(WEIGHTS_BYTES * 1.2 / 1e6) + 2000


def test_a_job_whose_pairs_are_not_built_yet_is_sized_when_they_are(paper_run, tmp_path):
    config, base, files = paper_run
    missing = str(tmp_path / "train.parquet")
    with pytest.raises(FileNotFoundError) as err:  # Snakemake shows <TBD>, then asks again when it is ready
        requests.request(config, "finetune", "runtime", {"model": "llama2-7b", "task": "regimen"},
                         {"base": str(files["base"]), "train": missing}, str(base))
    assert err.value.filename == missing
