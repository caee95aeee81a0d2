"""The Snakemake workflow on a small synthetic cohort: outputs, PHI, incremental reruns, bad input, lint."""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

REPO = Path(__file__).parents[1]
WORKFLOW_PARTS = ("Snakefile", "rules", "scripts", "config", "report", "envs", "profiles", "radonc_llm", "tests/config")
MODEL = "tiny-llama"  # tests/config/small.yaml's one model (the tiny Mistral: tests/test_finetune.py)


def snakemake(workdir, *args, targets=(), env=None):
    cmd = [sys.executable, "-m", "snakemake", *targets, "--cores", "2", "--configfile", "tests/config/small.yaml",
           *args]
    environment = {k: v for k, v in os.environ.items() if k != "RADONC_PSEUDONYM_KEY"}
    return subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, env={**environment, **(env or {})})


def planned_jobs(workdir, *args, targets=()):
    """(rule, task wildcard) of every job a dry-run plans."""
    out = snakemake(workdir, "--dry-run", *args, targets=targets)
    assert out.returncode == 0, out.stderr
    blocks = re.split(r"^(?:local)?rule (\w+):$", out.stdout, flags=re.M)[1:]
    jobs = []
    for rule, body in zip(blocks[::2], blocks[1::2]):
        task = re.search(r"^    wildcards: .*\btask=(\w+)", body, flags=re.M)
        jobs.append((rule, task.group(1) if task else ""))
    return sorted(jobs)


def digest(paths):
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def copy_workflow(work: Path) -> Path:
    """The workflow's files (no results) in `work`, as a user's clone has them."""
    for part in WORKFLOW_PARTS:
        src, dst = REPO / part, work / part
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, dst)
    return work


def states(root: Path) -> dict:
    """Every file under `root`: its bytes' hash and its modification time."""
    return {str(p): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def workflow(tmp_path_factory):
    work = copy_workflow(tmp_path_factory.mktemp("workflow"))
    out = snakemake(work, targets=["all", "learning_curve"])  # one run: the curve's jobs fill the idle core
    assert out.returncode == 0, out.stderr[-3000:]
    out = snakemake(work)  # the study report again, now with the learning curve that was drawn beside it
    assert out.returncode == 0 and out.stderr.count("rule study_report:") == 1, out.stderr[-3000:]
    return work


@pytest.mark.slow
def test_all_outputs_and_split_sizes(workflow):
    data = workflow / "results" / "small" / "data"
    for name in ("cases.parquet", "curation_funnel.csv", "curation_funnel.png", "curation_funnel.pdf", "cohort.csv",
                 "needs_annotation.csv"):
        assert (data / name).stat().st_size > 0, name
    cases = pd.read_parquet(data / "cases.parquet")
    pairs = {(t, s): pd.read_parquet(workflow / f"results/small/pairs/{t}/{s}.parquet")
             for t in ("regimen", "modality", "icd10") for s in ("train", "eval")}
    assert len(pairs["regimen", "eval"]) == 40
    assert len(pairs["regimen", "train"]) + 40 == len(cases)
    assert set(pairs["modality", "eval"]["case_id"]) <= set(pairs["regimen", "eval"]["case_id"])
    n_icd = int((cases["icd10_status"] == "valid").sum())
    assert len(pairs["icd10", "eval"]) == round(0.05 * n_icd)
    assert set(pairs["modality", "train"]["answer"]) == {"photon", "proton", "electron", "brachy"}
    funnel = pd.read_csv(data / "curation_funnel.csv")
    assert list(funnel["step"]) == [0, 1, 2, 3, 4, 5, 6]
    assert funnel.loc[funnel["step"] == 4, "remaining"].iloc[0] == len(cases)


@pytest.mark.slow
def test_every_adapter_beats_its_vanilla_base_on_the_validation_slice(workflow):
    for model in (MODEL,):
        for task in ("regimen", "modality", "icd10"):
            out = workflow / "results/small/finetune" / model / task
            card = json.loads((out / "model_card.json").read_text())
            assert card["final_validation_loss"] < 0.5 * card["vanilla_validation_loss"], (model, task, card)
            assert (out / "adapter/adapter_model.safetensors").stat().st_size > 0
            assert (out / "loss_curve.png").stat().st_size > 0
            assert not (workflow / "results/small/finetune" / model / f"{task}.work").exists() or not any(
                (workflow / "results/small/finetune" / model / f"{task}.work").iterdir())


@pytest.mark.slow
def test_prediction_files_for_every_model_variant_task_and_temperature(workflow):
    for model in (MODEL,):
        for variant in ("vanilla", "fewshot", "retrieved", "finetuned"):
            for task in ("regimen", "modality", "icd10"):
                pairs = pd.read_parquet(workflow / f"results/small/pairs/{task}/eval.parquet")
                selection = pd.read_parquet(workflow / f"results/small/pairs/{task}/selection.parquet")["case_id"]
                train = set(pd.read_parquet(workflow / f"results/small/pairs/{task}/train.parquet")["case_id"])
                for t in ("0.2", "0.7"):
                    folder = workflow / "results/small/predictions" / model / variant / task
                    table = pd.read_parquet(folder / f"T{t}.parquet")
                    assert list(table["case_id"]) == list(pairs["case_id"])
                    chosen_on = pd.read_parquet(folder / f"selection/T{t}.parquet")
                    assert list(chosen_on["case_id"]) == list(selection)
                    if variant in ("fewshot", "retrieved"):  # the solved cases each prompt showed: training only,
                        shown = table["examples"].str.split(",")  # never a selection pair
                        assert all(set(s) <= train - set(selection) and case not in s
                                   for s, case in zip(shown, table["case_id"]))
                        assert all(case not in s for s, case in zip(chosen_on["examples"].str.split(","), selection))
                        assert shown.map(len).max() == 4 and shown.map(len).mean() > 3.5
                        drawn = max(shown, key=len)  # fewshot: one draw for all, less its first where a prompt is long
                        assert all(s == drawn[len(drawn) - len(s):] for s in shown) == (variant == "fewshot")
    modality = pd.read_parquet(workflow / "results/small/predictions/tiny-llama/finetuned/modality/T0.2.parquet")
    assert (modality["answer"] != "unparsed").mean() > 0.9
    # a re-run of a prediction job writes the same bytes (fine-tuned ones: tests/test_predict.py)
    rerun = [workflow / f"results/small/predictions/tiny-llama/vanilla/regimen/T{t}.parquet" for t in ("0.2", "0.7")]
    before = digest(rerun)
    out = snakemake(workflow, "--forcerun", "predict", targets=[str(rerun[0].relative_to(workflow))])
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stderr.count("rule predict:") == 1, out.stderr[-3000:]
    assert digest(rerun) == before


@pytest.mark.slow
def test_table1_every_metric_table_figure_and_the_report(workflow):
    table = pd.read_csv(workflow / "results/small/tables/table1.csv")
    assert list(zip(table["model"], table["task"])) == [(MODEL, t) for t in ("regimen", "modality", "icd10",
                                                                             "overall")]
    assert set(table["n"]) == {2, 6}  # the small config scans two temperatures
    tasks = table[table["task"] != "overall"]
    assert (tasks["finetuned_highest"] > tasks["vanilla_highest"]).all()
    assert (tasks["finetuned_highest"] >= tasks["finetuned_median"]).all()
    by_t = pd.read_csv(workflow / "results/small/tables/metrics_by_temperature.csv")
    assert len(by_t) == 4 * 3 * 2 and (by_t["ci_low"] <= by_t["headline"]).all()  # variants x tasks x T
    assert (by_t["headline"] <= by_t["ci_high"]).all()
    modality = pd.read_csv(workflow / "results/small/tables/modality_prf.csv")
    assert set(modality["label"]) == {"photon", "proton", "electron", "brachy", "weighted"}
    assert "macro" in set(pd.read_csv(workflow / "results/small/tables/icd10_prf.csv")["label"])
    confusion = pd.read_csv(workflow / "results/small/tables/icd10_confusion.csv")
    icd_eval = len(pd.read_parquet(workflow / "results/small/pairs/icd10/eval.parquet"))
    assert (confusion.groupby(["model", "variant"])["n"].sum() == icd_eval).all()
    proxy = pd.read_csv(workflow / "results/small/tables/regimen_proxy.csv")
    assert len(proxy) == 4 * 2  # variants x temperatures
    shares = proxy[[f"proxy_grade_{g}" for g in range(1, 6)]].sum(axis=1)
    assert ((shares - 1).abs() < 1e-9).all()
    # the small config's regimen adapters are weak (no dose recovered: grade 5), but they name the modality
    assert proxy[proxy["variant"] == "finetuned"]["modality_match"].mean() > 0.2
    assert proxy[proxy["variant"] == "vanilla"]["modality_match"].max() < 0.1
    paired = pd.read_csv(workflow / "results/small/tables/paired_tests.csv")
    # tasks x (fine-tuned vs vanilla, vs the best prompting variant and vs the best baseline, the last two also
    # shown or fitted on all train pairs; one model, so no model vs model: tests/test_paired.py)
    assert len(paired) == 3 * 5
    prompting = paired[paired["comparison"] == "fine-tuned vs best prompting"]
    assert prompting["b"].str.contains(" (?:vanilla|fewshot|retrieved) ").all() and len(prompting) == 3
    ranked = pd.read_csv(workflow / "results/small/tables/ranking.csv")
    # variants x tasks + the tasks' baselines, and the prompting variants and baselines on all train pairs
    assert len(ranked) == 4 * 3 + (1 + 2 + 2) + 2 * 3 + (1 + 2 + 2)
    for (model, task), part in ranked.groupby(["model", "task"]):
        assert part["rank"].iloc[0] == 1 and part["headline"].is_monotonic_decreasing
        assert part.set_index("predictor").loc["finetuned", "highest_over_scan"] == table.set_index(
            ["model", "task"]).loc[(model, task), "finetuned_highest"]  # the paper's optimistic figure, kept apart
    every = pd.read_csv(workflow / "results/small/tables/baselines.csv")
    assert every.groupby("fitted_on").size().to_dict() == {"all train pairs": 5, "the adapter's training pairs": 5}
    baselines = every[every["fitted_on"] == "the adapter's training pairs"]
    assert sorted(zip(baselines["task"], baselines["baseline"])) == [
        ("icd10", "majority"), ("icd10", "tfidf-logreg"), ("modality", "majority"), ("modality", "tfidf-logreg"),
        ("regimen", "nearest-neighbour")]
    assert (baselines["ci_low"] <= baselines["headline"]).all() and baselines["n"].gt(0).all()
    versus = paired[paired["comparison"] == "fine-tuned vs best baseline"]
    assert set(versus["b"]) <= {f"{n} baseline" for n in baselines["baseline"]} and len(versus) == 3
    assert (paired["ci_low"] <= paired["difference"]).all() and (paired["difference"] <= paired["ci_high"]).all()
    # the fine-tuned side is the per-case mean over the config's two training seeds: no longer right or wrong,
    # so sign flips instead of McNemar (tests/test_paired.py)
    assert (paired["p_adjusted"] >= paired["p_value"]).all() and set(paired["test"]) == {
        "sign-flip permutation of the mean difference"}
    assert paired["chosen_on"].str.contains("per-case mean of 2 training seeds").all()
    tuned = paired[paired["comparison"] == "fine-tuned vs vanilla"]
    assert (tuned["difference"] > 0).all() and (tuned["b_pairs"] == 0).all() and (tuned["a_pairs"] > 0).all()
    # equal data: the baseline is fitted on the adapter's training pairs (its card may count a too-long pair less)
    learned = {t: len(pd.read_parquet(workflow / f"results/small/pairs/{t}/learned.parquet")) for t in versus["task"]}
    assert (versus["b_pairs"] == versus["task"].map(learned)).all() and (versus["a_pairs"] <= versus["b_pairs"]).all()
    on_all = paired[paired["comparison"] == "fine-tuned vs best baseline (all train pairs)"]
    assert on_all["b"].tolist() == (versus["b"] + " (all train pairs)").tolist()
    assert (on_all["family"] == "secondary").all()
    assert (on_all["b_pairs"] > on_all["task"].map(learned)).all()  # every train pair: the selection pairs too
    trained = {t: len(pd.read_parquet(workflow / f"results/small/pairs/{t}/train.parquet")) for t in versus["task"]}
    shown_all = paired[paired["comparison"] == "fine-tuned vs best prompting (all train pairs)"]
    assert (shown_all["b"] == prompting["b"].to_numpy() + " (all train pairs)").all()  # the same variant and T
    assert (shown_all["b_pairs"] == shown_all["task"].map(trained)).all() and len(shown_all) == 3
    assert (tuned["mean_a"] - tuned["mean_b"] - tuned["difference"]).abs().max() < 1e-9
    groups = pd.read_csv(workflow / "results/small/tables/by_group.csv")
    assert set(groups["grouping"]) == {"site", "intent", "fractionation class"}
    scan = pd.read_csv(workflow / "results/small/tables/metrics_by_temperature.csv")
    headline = {(f"{m} {v} (T={t})", task): h for m, v, task, t, h in
                zip(scan["model"], scan["variant"], scan["task"], scan["temperature"], scan["headline"])}
    headline |= {(f"{b} baseline", task): h for b, task, h in
                 zip(baselines["baseline"], baselines["task"], baselines["headline"])}
    for (predictor, task, grouping), part in groups.groupby(["predictor", "task", "grouping"]):
        n_eval = len(pd.read_parquet(workflow / f"results/small/pairs/{task}/eval.parquet"))
        assert part["n"].sum() == n_eval, (predictor, task, grouping)  # every eval case in one group
        # the groups' means, weighted by their sizes, give back the predictor's headline on all eval cases
        overall = (part["headline"] * part["n"]).sum() / n_eval
        assert overall == pytest.approx(headline[predictor, task], abs=1e-9), (predictor, task)
    # the breakdown's baseline is the one the paired tests call the task's best (the small config's modality
    # baselines tie at 0.65: one rule decides both)
    shown_baselines = {(task, p) for p, task in zip(groups["predictor"], groups["task"]) if p.endswith(" baseline")}
    assert shown_baselines == set(zip(versus["task"], versus["b"]))
    confusions = pd.read_csv(workflow / "results/small/tables/top_confusions.csv")
    assert (confusions["truth"] != confusions["predicted"]).all() and confusions.groupby(
        ["predictor", "task", "site"]).size().max() <= 3
    for name in ("figure3_highest_median", "temperature_scan", "figure5c_modality_prf", "figure5d_icd10_prf",
                 "figure6_icd10_confusion", "figure5ab_proxy_grades", "paired_differences", "by_site"):
        # written whole (their content: tests/test_figures.py)
        assert (workflow / f"results/small/figures/{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        assert (workflow / f"results/small/figures/{name}.pdf").read_bytes().rstrip().endswith(b"%%EOF"), name
    out = snakemake(workflow, "--report", "report.html")
    assert out.returncode == 0, out.stderr[-3000:]
    html = (workflow / "report.html").read_text(errors="replace")
    assert "table1.csv" in html and "figure6_icd10_confusion.png" in html


@pytest.mark.slow
def test_further_training_seeds_train_on_the_same_pairs_and_their_spread_is_tabled(workflow):
    root = workflow / "results/small"
    table = pd.read_csv(root / "tables/seeds.csv")
    assert table["seed"].tolist() == [42, 43] * 3 and table["task"].tolist() == [
        t for t in ("regimen", "modality", "icd10") for _ in range(2)]
    ranked = pd.read_csv(root / "tables/ranking.csv").set_index(["model", "task", "predictor"])
    for r in table[table["seed"] == 42].itertuples():  # the first seed is the run's own adapter, as ranked
        own = ranked.loc[(r.model, r.task, "finetuned")]
        assert (r.temperature, r.headline, r.ci_low) == (own["temperature"], own["headline"], own["ci_low"])
    spread = table.groupby("task")["headline"].agg(["mean", "std"])
    assert (table["mean_over_seeds"] - table["task"].map(spread["mean"])).abs().max() < 1e-4
    assert (table["sd_over_seeds"] - table["task"].map(spread["std"])).abs().max() < 1e-4
    for task in ("regimen", "modality", "icd10"):
        own, other = (root / f"finetune/{MODEL}/{task}", root / f"seeds/seed43/finetune/{MODEL}/{task}")
        cards = [json.loads((d / "model_card.json").read_text()) for d in (own, other)]
        assert cards[0]["train_data_sha256"] == cards[1]["train_data_sha256"]  # the same pairs ...
        assert cards[0]["train_pairs"] == cards[1]["train_pairs"] and cards[1]["settings"]["training_seed"] == 43
        weights = [(d / "adapter/adapter_model.safetensors").read_bytes() for d in (own, other)]
        assert weights[0] != weights[1]  # ... another initialisation and order
        assert cards[1]["final_validation_loss"] < 0.5 * cards[1]["vanilla_validation_loss"]


def report_inputs(workflow: Path, **changed) -> tuple[dict, dict]:
    """The study report's facts and inputs for the workflow's run, as rule study_report gives them (tests that
    write the report themselves, with `changed` inputs)."""
    root, tasks = workflow / "results/small", ["regimen", "modality", "icd10"]
    config = yaml.safe_load((workflow / "config/config.yaml").read_text())
    facts = {"run": "small", "config_sha256": "0", "synthetic": True, "tasks": tasks,
             "instructions": {t: config["tasks"][t]["instruction"] for t in tasks},
             "models": {MODEL: {"path": str(root / "models/base" / MODEL), "prompt_format": "llama2", "tiny": True}},
             "prompting": config["prompting"], "seeds": [42, 43], "split_seed": 3, "selection_seed": 1,
             "temperatures": [0.2, 0.7], "top_p": 1, "top_k": 0, "max_new_tokens": {}, "vanilla_max_new_tokens": {},
             **{k: config["predict"][k] for k in ("backend", "seed", "batch_size", "precision")}}
    inputs = {"exports": [root / "synthetic/diagnoses.csv", root / "synthetic/plans.csv"],
              "study": workflow / "config/study.yaml", "cases": root / "data/cases.parquet",
              "funnel": root / "data/curation_funnel.csv", "cohort": root / "data/cohort.csv",
              "cards": [root / f"finetune/{MODEL}/{t}/model_card.json" for t in tasks],
              "plan": root / "analysis_plan.yaml", "seeds": [root / "tables/seeds.csv"],
              **{name: root / f"tables/{name}.csv"
                 for name in ("table1", "ranking", "paired_tests", "metrics_by_temperature", "by_group")},
              "curve": [root / "tables/learning_curve.csv"], "grading": [],
              **{f"{s}_pairs": [root / f"pairs/{t}/{s}.parquet" for t in tasks]
                 for s in ("train", "learned", "selection", "eval")}}
    return facts, inputs | changed


def checklist_rows(text: str) -> dict:
    """The TRIPOD-LLM table of a report: item -> status."""
    rows = [line.split("|") for line in text[text.index("## TRIPOD-LLM checklist"):].splitlines()
            if re.match(r"\| \d", line)]
    return {row[1].strip(): row[4].strip() for row in rows}


@pytest.mark.slow
def test_the_study_report_is_written_from_the_run_s_files(workflow, tmp_path):
    from safetensors import safe_open

    from radonc_llm.study_report import sentence, write_study_report
    from radonc_llm.tasks import TASKS
    from radonc_llm.tripod_llm import ITEMS, STUDY_KEYS
    root = workflow / "results/small"
    text = (root / "study_report.md").read_text()
    paired = pd.read_csv(root / "tables/paired_tests.csv")
    primary = paired[paired["family"] == "primary"]
    assert len(primary) == 3 and all(f"- {sentence(row, TASKS[row['task']].metric)}" in text
                                     for _, row in primary.iterrows())
    assert "training seeds" in text and "**These data are synthetic**" in text and "Grading pending" in text
    sha = hashlib.sha256((root / "synthetic/diagnoses.csv").read_bytes()).hexdigest()
    assert sha in text  # the exports by fingerprint, never by content
    # the base: its parameters counted from its weights, their sha256; the prompt format on the invented case
    weights = root / f"models/base/{MODEL}/model.safetensors"
    with safe_open(weights, "pt") as f:
        parameters = sum(f.get_tensor(k).numel() for k in f.keys())
    assert re.search(rf"\| +{parameters:,} \|", text) and hashlib.sha256(weights.read_bytes()).hexdigest() in text
    assert ("<s>[INST] What is the ICD-10 code for this diagnosis: Invented example, not a patient: prostate "
            "adenocarcinoma, Gleason 3+4=7, cT2b cN0 M0, PSA 8.4 ng/mL [/INST] C61 </s>") in text
    # development vs evaluation: the eval cases' count and mean age, from the pairs and the curated cases
    cases = pd.read_parquet(root / "data/cases.parquet").set_index("case_id")
    eval_ids = pd.read_parquet(root / "pairs/modality/eval.parquet")["case_id"]
    assert re.search(rf"\| modality +\| eval +\| +{len(eval_ids)} \| {cases.loc[eval_ids, 'age'].mean():.1f} ", text)
    # errors by site: the fine-tuned model's headline on its largest site, as tables/by_group.csv has it
    assert "### Errors by disease site" in text and "### Learning curve" in text
    curve = pd.read_csv(root / "tables/learning_curve.csv")
    assert re.search(rf"\| +{int(curve['train_pairs'].iloc[0])} \|", text)
    from importlib.metadata import version
    compute = text[text.index("## Compute"):text.index("## Limitations")]
    assert f"torch {version('torch')}" in compute and "configuration sha256 " in compute
    for stage in ("finetune", "finetune (further seeds)", "predict (further seeds)"):  # 3 tasks, one model
        assert re.search(rf"\| {re.escape(stage)} +\| +3 \|", compute), stage
    raw = pd.read_csv(root / "synthetic/diagnoses.csv", dtype=str)
    assert not any(t[:30] in text for t in raw["diagnosis_details"]) and not any(i in text for i in raw["patient_id"])
    # the checklist: every item once; the template's keys all to supply, grading's items pending
    status = checklist_rows(text)
    assert list(status) == [item.number for item in ITEMS]
    assert {n for n, s in status.items() if s.startswith("**to supply**")} == {
        item.number for item in ITEMS if item.study and not item.graded}
    assert status["6g"].startswith("not applicable yet: grading pending") and status["10"].startswith("not appl")
    assert text.count("**[to supply in config/study.yaml]**") == len(STUDY_KEYS)
    html = (root / "study_report.html").read_text()
    assert html.count('src="data:image/png;base64,') == 4 and 'src="figures/' not in html and "<table>" in html
    links, ids = set(re.findall(r'href="#([^"]+)"', html)), set(re.findall(r' id="([^"]+)"', html))
    assert links and links <= ids, links - ids  # every checklist link lands on its section
    # every number comes from the run's files: a changed Table 1 changes the report
    table1 = pd.read_csv(root / "tables/table1.csv")
    table1.loc[0, "finetuned_highest"] = 0.1234
    table1.to_csv(tmp_path / "table1.csv", index=False)
    out = snakemake(workflow, "--forcerun", "study_report", targets=["results/small/study_report.md"])

    def results(report):  # all but the Compute section: the jobs' times, which other tests' jobs add to
        return report[:report.index("## Compute")] + report[report.index("## Limitations"):]

    assert out.returncode == 0 and results((root / "study_report.md").read_text()) == results(text), out.stderr
    # ... and a key filled in config/study.yaml answers its items
    study = tmp_path / "study.yaml"
    study.write_text("ethics_approval: Approved by the hospital's ethics committee (ref. 2026-117), consent waived\n")
    facts, inputs = report_inputs(workflow, table1=tmp_path / "table1.csv", study=study)
    write_study_report(facts, inputs, root, tmp_path / "r.md", tmp_path / "r.html")
    changed = (tmp_path / "r.md").read_text()
    assert "0.1234" in changed and "0.1234" not in text
    assert "(ref. 2026-117), consent waived" in changed
    assert checklist_rows(changed)["13"] == "answered in [Study information](#study-information) (`ethics_approval`)"
    assert checklist_rows(changed)["14a"] == "**to supply**: `funding` in config/study.yaml"


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# a page's images and errors, written onto its root element once it has loaded (read back from --dump-dom)
PROBE = ('<script>addEventListener("error",()=>{const d=document.documentElement.dataset;d.errors=+(d.errors||0)+1},'
         'true);addEventListener("load",()=>{const i=[...document.images];document.documentElement.dataset.images='
         'i.length+" "+i.filter(x=>!(x.complete&&x.naturalWidth>0)).length})</script>')


def chromium(tmp_path: Path, *args) -> subprocess.CompletedProcess:
    """Headless Chromium, offline: no background connections, a fresh profile."""
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}"]
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=120)


def loaded_in_chromium(page: Path, tmp_path: Path) -> dict:
    """How many images `page` has, how many did not load, and how many errors (scripts, resources) it raised."""
    probe = tmp_path / f"probe-{page.name}"
    probe.write_text(page.read_text().replace("<head>", "<head>" + PROBE, 1))
    dom = chromium(tmp_path, "--virtual-time-budget=10000", "--dump-dom", probe.as_uri()).stdout
    images = re.search(r'data-images="(\d+) (\d+)"', dom)
    errors = re.search(r'data-errors="(\d+)"', dom)
    assert images, dom[:500]
    return {"images": int(images[1]), "broken": int(images[2]), "errors": int(errors[1]) if errors else 0}


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM and not os.environ.get("RADONC_REQUIRE_CHROMIUM"),
                    reason="no chromium on this machine (Debian: apt-get install chromium); CI installs it")
def test_the_study_report_opens_offline_and_prints_in_headless_chromium(workflow, tmp_path):
    assert CHROMIUM, "RADONC_REQUIRE_CHROMIUM is set, but there is no chromium on PATH"
    report = workflow / "results/small/study_report.html"
    html = report.read_text()
    assert not re.findall(r'(?:src|href)="(?!data:image/png;base64,|#)', html)  # nothing outside the page
    page = tmp_path / "study_report.html"  # alone in a folder: nothing beside it to load
    page.write_text(html)
    assert loaded_in_chromium(page, tmp_path) == {"images": 4, "broken": 0, "errors": 0}
    broken = tmp_path / "broken.html"  # the probe sees a missing image
    broken.write_text(html.replace('<img alt="Learning curve" src="data:image/png;base64,',
                                   '<img alt="Learning curve" src="figures/absent.png" data-was="', 1))
    assert loaded_in_chromium(broken, tmp_path) == {"images": 4, "broken": 1, "errors": 1}
    out = chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={tmp_path / 'report.pdf'}", page.as_uri())
    pdf = (tmp_path / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-") and len(re.findall(rb"/Type\s*/Page[^s]", pdf)) >= 8, out.stderr[-2000:]


def chosen_temperatures(root: Path) -> dict:
    """(table, predictor, task) -> temperature, as paired_tests.csv's labels and ranking.csv give them (a variant
    shown every train pair is at its variant's: left out)."""
    paired, chosen = pd.read_csv(root / "results/small/tables/paired_tests.csv"), {}
    for label, task in zip([*paired["a"], *paired["b"]], [*paired["task"], *paired["task"]]):
        found = re.fullmatch(r"(.+) \(T=([0-9.]+)\)", label)
        if found:  # a model, not a baseline
            chosen["paired", found[1], task] = float(found[2])
    ranked = pd.read_csv(root / "results/small/tables/ranking.csv").dropna(subset=["temperature"])
    ranked = ranked[~ranked["predictor"].str.endswith("(all train pairs)")]
    return chosen | {("ranking", f"{m} {p}", t): T for m, p, t, T in
                     zip(ranked["model"], ranked["predictor"], ranked["task"], ranked["temperature"])}


@pytest.mark.slow
def test_settings_are_chosen_on_the_selection_pairs_and_eval_predictions_do_not_move_them(tmp_path, workflow):
    chosen = chosen_temperatures(workflow)
    assert sum(table == "ranking" for table, _, _ in chosen) == 4 * 3  # variants x tasks
    assert all(chosen["ranking", p, t] == T for (table, p, t), T in chosen.items())  # the paired tests' too
    sizes = {t: len(pd.read_parquet(workflow / f"results/small/pairs/{t}/selection.parquet"))
             for t in ("regimen", "modality", "icd10")}
    for (_, predictor, task), temperature in chosen.items():
        model, variant = predictor.split()
        on_selection = pd.read_csv(workflow / f"results/small/metrics/{model}/{variant}/{task}/selection/summary.csv")
        at_top = on_selection.loc[on_selection["headline"] == on_selection["headline"].max(), "temperature"]
        assert temperature == min(at_top)  # the highest on the selection pairs, the lowest T on a tie
        assert on_selection["n"].eq(sizes[task]).all()
    paired = pd.read_csv(workflow / "results/small/tables/paired_tests.csv")
    assert all(c.startswith(f"{sizes[t]} selection pairs") for c, t in zip(paired["chosen_on"], paired["task"]))
    # make tiny-llama's fine-tuned modality answers perfect on the eval cases at the temperature it was not chosen
    # at: the eval scan's best moves there, the chosen temperature does not
    copy = tmp_path / "copy"
    shutil.copytree(workflow, copy, symlinks=True)
    at = chosen["ranking", "tiny-llama finetuned", "modality"]
    other = ({0.2, 0.7} - {at}).pop()
    path = copy / f"results/small/predictions/tiny-llama/finetuned/modality/T{other}.parquet"
    truth = pd.read_parquet(copy / "results/small/pairs/modality/eval.parquet").set_index("case_id")["answer"]
    predictions = pd.read_parquet(path)
    predictions.assign(answer=predictions["case_id"].map(truth)).to_parquet(path)
    # mtime only: the copy's package-data inputs have another absolute path than the original's
    plan = (copy / "results/small/analysis_plan.yaml").read_bytes()
    before = pd.read_csv(copy / "results/small/tables/paired_tests.csv")
    out = snakemake(copy, "--rerun-triggers", "mtime", targets=["results/small/tables/paired_tests.csv"])
    assert out.returncode == 0, out.stderr[-3000:]
    assert "rule score:" in out.stderr and "rule predict" not in out.stderr and "rule analysis_plan" not in out.stderr
    assert chosen_temperatures(copy) == chosen
    # the plan, the comparators and how they were chosen stay as they were, and so does every paired test: the
    # perfect file is at a temperature the selection pairs did not choose
    after = pd.read_csv(copy / "results/small/tables/paired_tests.csv")
    assert (copy / "results/small/analysis_plan.yaml").read_bytes() == plan and before.equals(after)
    ranked = pd.read_csv(copy / "results/small/tables/ranking.csv").set_index(["model", "task", "predictor"])
    row = ranked.loc[("tiny-llama", "modality", "finetuned")]
    assert (row["temperature"], row["highest_temperature"], row["highest_over_scan"]) == (at, other, 1.0)
    assert row["headline"] < 1.0  # the eval headline at the chosen temperature: not the perfect file


@pytest.mark.slow
def test_learning_curve_target_and_an_added_size_plans_only_its_own_jobs(tmp_path, workflow):
    table = pd.read_csv(workflow / "results/small/tables/learning_curve.csv")
    card = json.loads((workflow / "results/small/finetune/tiny-llama/modality/model_card.json").read_text())
    points = table[table["predictor"] == "finetuned"]
    assert points["train_pairs"].tolist() == [57, card["train_pairs"]]  # 60 less its validation slice; the run's
    scan = pd.read_csv(workflow / "results/small/tables/metrics_by_temperature.csv").set_index(
        ["model", "variant", "task", "temperature"])["headline"]
    assert points["headline"].iloc[-1] == pytest.approx(scan["tiny-llama", "finetuned", "modality", 0.2])
    assert (table["temperature"].dropna() == 0.2).all()  # the lowest of the small config's temperatures
    paired = pd.read_csv(workflow / "results/small/tables/paired_tests.csv")
    best = paired[(paired["comparison"] == "fine-tuned vs best baseline") & (paired["task"] == "modality")]["b"]
    assert set(table["predictor"]) == {"finetuned", "vanilla", "fewshot", "retrieved", best.item(),
                                       f"{best.item()} (all train pairs)"}
    # every method at every size, at the same labelled pairs: 60 less the validation slice, then the run's own
    learned = len(pd.read_parquet(workflow / "results/small/pairs/modality/learned.parquet"))
    for predictor in ("retrieved", "fewshot", best.item()):
        assert table.loc[table["predictor"] == predictor, "train_pairs"].tolist() == [57, learned], predictor
    assert table.loc[table["predictor"] == "retrieved", "headline"].iloc[-1] == pytest.approx(
        scan["tiny-llama", "retrieved", "modality", 0.2])
    shown = pd.read_parquet(workflow / "results/small/learning_curve/n60/predictions/tiny-llama/retrieved/modality/"
                            "T0.2.parquet")  # the solved cases the size's prompts showed: its pairs only
    pool = set(pd.read_parquet(workflow / "results/small/learning_curve/n60/pairs/modality/learned.parquet")["case_id"])
    assert set(",".join(shown["examples"]).split(",")) <= pool
    assert (workflow / "results/small/figures/learning_curve.png").read_bytes()[:4] == b"\x89PNG"  # its content:
    # tests/test_figures.py
    subset = pd.read_parquet(workflow / "results/small/learning_curve/n60/predictions/tiny-llama/finetuned/modality/"
                             "T0.2.parquet")
    assert list(subset["case_id"]) == list(pd.read_parquet(workflow / "results/small/pairs/modality/eval.parquet")[
        "case_id"])
    curve = tmp_path / "curve.yaml"
    curve.write_text("learning_curve: {sizes: [60, 120]}\n")
    configs = ("--configfile", "tests/config/small.yaml", str(curve))
    assert planned_jobs(workflow, *configs, targets=["learning_curve"]) == [
        ("baselines_subset", "modality"), ("baselines_subset", "modality"), ("finetune_subset", "modality"),
        ("learned_pairs_subset", "modality"), ("learning_curve", ""), ("predict_prompted_subset", "modality"),
        ("predict_subset", "modality"), ("score_subset", "modality")]  # the new size's pairs and every method on
    # them, and the curve itself


@pytest.mark.slow
def test_grading_round_trip_through_the_workflow(workflow, tmp_path):
    import csv

    from openpyxl import load_workbook

    from radonc_llm.grading import read_sheet
    grading = workflow / "results/small/grading"
    sheets = {g: read_sheet(grading / f"sheets/{g}.xlsx")[0] for g in ("grader_a", "grader_b")}
    key = pd.read_csv(grading / "key.csv")
    # 20 of the 40 eval cases in each arm: the fine-tuned model, its best prompting variant, the best baseline
    # (nearest neighbour) and the physician's own regimen, blinded: the sheets leave out the physician's regimen
    assert key.groupby("arm", sort=False).size().to_dict() == {"finetuned": 20, "best_prompting": 20,
                                                                "best_baseline": 20, "physician": 20}
    assert key.groupby("arm")["case_id"].apply(frozenset).nunique() == 1  # the same cases in every arm
    assert "physician_regimen" not in sheets["grader_a"] and len(sheets["grader_a"]) == 80
    assert not (grading / "grades.csv").exists()  # no graded sheets yet: nothing to un-blind
    # grader_a gives 1 to every row in the workbook's drop-down, grader_b 3 to the first three rows of the key,
    # else 1, and saves the sheet from Excel as CSV (Windows-1252, semicolons in its locale, CRLF, quoted)
    book = load_workbook(grading / "sheets/grader_a.xlsx")
    assert book.sheetnames == ["Instructions", "Grader", "Cases"] and book["Cases"].protection.sheet
    assert str(book["Cases"].data_validations.dataValidation[0].sqref) == "D2:D81"  # the 1-5 drop-down
    assert book["Cases"]["B2"].protection.locked and not book["Cases"]["D2"].protection.locked
    for row in range(2, 82):
        book["Cases"].cell(row=row, column=4, value=1)  # the grade's column: D, without the physician's regimen
    book["Cases"]["E2"] = "très bien"
    book["Grader"]["B2"], book["Grader"]["B3"] = "radiation oncology resident", 3
    assert (grading / "returned").is_dir() and not any((grading / "returned").iterdir())  # made for the returns
    book.save(grading / "returned/grader_a.xlsx")
    bad = set(key["row_id"][:3])
    sheets["grader_b"].assign(grade=["3" if r in bad else "1" for r in sheets["grader_b"]["row_id"]]).drop(
        columns="line").to_csv(grading / "returned/grader_b.csv", index=False, encoding="cp1252", errors="replace",
                               sep=";", lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    # the returned sheets are this run's alone: another run of the same config plans no grading results
    other = tmp_path / "other.yaml"
    other.write_text("run: other\n")
    assert ("grading_results", "") not in planned_jobs(workflow, "--configfile", "tests/config/small.yaml", str(other),
                                                       targets=["grading"])
    out = snakemake(workflow, targets=["grading"])
    assert out.returncode == 0, out.stderr[-3000:]
    adjudication = pd.read_csv(workflow / "results/small/grading/adjudication_needed.csv")
    assert sorted(adjudication["row_id"]) == sorted(key["row_id"][:3])  # 1 vs 3: more than one point apart
    distribution = pd.read_csv(workflow / "results/small/grading/grade_distribution.csv")
    assert distribution.groupby("grader")["grade_1"].sum().to_dict() == {"average": 78.5, "grader_a": 80,
                                                                         "grader_b": 77}
    agreement = pd.read_csv(workflow / "results/small/grading/agreement.csv")
    overall = agreement[(agreement["model"] == "all") & agreement["compared"].str.startswith("grader_a")].iloc[0]
    assert overall["exact"] == pytest.approx(77 / 80) and overall["within_one"] == pytest.approx(77 / 80)
    assert set(pd.read_csv(grading / "arm_comparisons.csv")["a"]) >= {"nearest-neighbour baseline"}
    assert (workflow / "results/small/grading/figure5ab_human_grades.png").read_bytes()[:4] == b"\x89PNG"
    # the study report with the grades: their tables, and grading's checklist items no longer pending
    from radonc_llm.study_report import write_study_report
    facts, inputs = report_inputs(workflow, grading=[workflow / f"results/small/grading/{name}" for name in (
        "grade_distribution.csv", "agreement.csv", "figure5ab_human_grades.png", "arm_comparisons.csv",
        "raters.csv")])
    report = tmp_path / "graded.md"
    write_study_report(facts, inputs, workflow / "results/small", report, tmp_path / "graded.html")
    text = report.read_text()
    assert "Grading pending" not in text and "Agreement between the graders" in text
    assert re.search(r"\| grader_a +\| grader_a +\| radiation oncology resident +\| +3 \|", text)  # its Grader sheet
    assert checklist_rows(text)["6g"] == "answered in [Clinicians' grades](#clinicians-grades)"
    assert checklist_rows(text)["7b"] == "**to supply**: `raters` in config/study.yaml"
    assert (tmp_path / "graded.html").read_text().count('src="data:image/png;base64,') == 5
    for returned in (grading / "returned").iterdir():
        returned.unlink()  # leave the tree as the other tests expect it


@pytest.mark.slow
def test_issued_grading_sheets_and_their_key_are_never_overwritten(tmp_path, workflow):
    from radonc_llm.grading import read_sheet
    grading = workflow / "results/small/grading"
    issued = {p.name: p.read_bytes() for p in (grading / "issued").iterdir()}
    assert issued["key.csv"] == (grading / "key.csv").read_bytes() and len(issued) == 3
    for g in ("grader_a", "grader_b"):  # the workbook handed out holds the issued sheet
        handed_out = read_sheet(grading / f"sheets/{g}.xlsx")[0].drop(columns="line")
        assert handed_out.equals(pd.read_csv(grading / f"issued/{g}.csv", dtype=str, keep_default_na=False))
    reshuffled = tmp_path / "seed.yaml"
    reshuffled.write_text("grading:\n  seed: 5\n")  # new sheets whose rows and key would differ
    out = snakemake(workflow, "--configfile", "tests/config/small.yaml", str(reshuffled), targets=["grading_sheets"])
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert ("error: results/small/grading/issued: grading sheets were issued for this run and the new ones would "
            "differ (key.csv, grader_a.csv, grader_b.csv); the issued sheets and their key stay there. To grade the "
            "new ones, move results/small/grading/issued elsewhere") in out.stderr
    assert {p.name: p.read_bytes() for p in (grading / "issued").iterdir()} == issued
    out = snakemake(workflow, targets=["grading_sheets"])  # the issued settings again: the same sheets, accepted
    assert out.returncode == 0, out.stderr[-3000:]
    assert (grading / "key.csv").read_bytes() == issued["key.csv"]


@pytest.mark.slow
def test_no_raw_patient_id_or_diagnosis_text_in_results_or_logs(workflow):
    raw = pd.read_csv(workflow / "results/small/synthetic/diagnoses.csv", dtype=str)
    ids = set(raw["patient_id"])
    written = [p for p in (workflow / "results").rglob("*") if p.is_file() and "synthetic" not in p.parts]
    for path in written:
        text = (pd.read_parquet(path).to_csv() if path.suffix == ".parquet"
                else path.read_bytes().decode("utf-8", "replace"))
        assert not {i for i in re.findall(r"AZ\d{7}", text) if i in ids}, path
    logs = "".join(p.read_text() for p in (workflow / "results/small/logs").rglob("*.log"))
    assert not any(t[:40] in logs for t in raw["diagnosis_details"])
    # the data-quality report names cases by pseudonym and flags, never by their text
    report = (workflow / "results/small/data/consistency.csv").read_text()
    assert "side_mismatch" in (workflow / "results/small/data/consistency_summary.csv").read_text()
    assert not any(t[:40] in report for t in raw["diagnosis_details"])
    assert re.search(r"coding noise injected .*: wrong_side \d+, unspecified_side \d+",
                     (workflow / "results/small/logs/synthetic_cohort.log").read_text())


@pytest.mark.slow
def test_incremental_reruns_and_byte_identical_rerun(workflow):
    assert planned_jobs(workflow) == []  # a finished run plans nothing
    # a changed fine-tuning hyper-parameter of one task re-plans that task's adapters and what follows
    tweak = workflow / "tweak.yaml"
    tweak.write_text("finetune:\n  per_task:\n    icd10: {learning_rate: 0.002}\n")
    icd10_jobs = [("finetune", "icd10"), ("predict", "icd10"), ("score", "icd10"),  # and its second seed's
                  ("finetune_seed", "icd10"), ("predict_seed", "icd10"), ("score_seed", "icd10")]
    assert planned_jobs(workflow, "--configfile", "tests/config/small.yaml", str(tweak)) == sorted(
        [("all", ""), *icd10_jobs, ("evaluation_tables", ""), ("evaluation_figures", ""), ("seeds_table", ""),
         ("grading_sheets", ""), ("study_report", "")])  # the sheets' arms follow paired_tests.csv
    # an edited modality override re-runs the modality task only
    train = pd.read_parquet(workflow / "results/small/pairs/modality/train.parquet")
    selection = pd.read_parquet(workflow / "results/small/pairs/modality/selection.parquet")
    assert len(selection) == 23 and selection["case_id"].isin(train["case_id"]).all()  # 5 % of 460, held out
    case = train.loc[(train["answer"] != "proton") & ~train["case_id"].isin(selection["case_id"]), "case_id"].iloc[0]
    overrides = workflow / "config/annotations/modality_overrides.csv"  # not yet there: its template stands in
    assert not overrides.exists()
    first = digest(sorted((workflow / "results/small").glob("[dp]a*/**/*.parquet")))
    overrides.write_text(f"case_id,modality\n{case},proton\n")
    try:
        overridden(workflow, case)
    finally:  # the shared tree as it was: the template again, the files it gives, every job up to date
        overrides.unlink()
        out = snakemake(workflow, "--forceall", targets=["results/small/pairs/modality/selection.parquet"])
        assert out.returncode == 0, out.stderr[-3000:]
        out = snakemake(workflow, "--touch")  # the bytes are the first run's again: only their times moved
        assert out.returncode == 0, out.stderr[-3000:]
    assert planned_jobs(workflow) == []
    assert digest(sorted((workflow / "results/small").glob("[dp]a*/**/*.parquet"))) == first


def overridden(workflow, case):
    """With one modality override added: the jobs it plans, and what a forced re-run of its data changes."""
    modality_jobs = [("finetune", "modality"), ("predict", "modality"), ("predict", "modality"),
                     ("predict_prompted", "modality"), ("score", "modality"),
                     ("finetune_seed", "modality"), ("predict_seed", "modality"), ("score_seed", "modality"),
                     ("baselines", "modality"), ("baselines", "modality"),  # majority and tfidf-logreg
                     ("baselines_all_pairs", "modality"), ("baselines_all_pairs", "modality"),
                     # the learning curve's modality point: the study report shows the curve once it is drawn
                     ("learned_pairs_subset", "modality"), ("finetune_subset", "modality"),
                     ("predict_subset", "modality"), ("predict_prompted_subset", "modality"),
                     ("baselines_subset", "modality"), ("baselines_subset", "modality"), ("score_subset", "modality")]
    assert planned_jobs(workflow) == sorted([("all", ""), ("cohort_summary", ""), ("modality_labels", ""),
                                             ("split_pairs", "modality"), ("selection_pairs", "modality"),
                                             *modality_jobs, ("evaluation_tables", ""),
                                             ("evaluation_figures", ""), ("seeds_table", ""),
                                             ("learning_curve", ""), ("grading_sheets", ""),
                                             ("study_report", "")])
    before = digest(sorted((workflow / "results/small").glob("[dp]a*/**/*.parquet")))
    out = snakemake(workflow, "--forceall", targets=["results/small/pairs/modality/selection.parquet"])
    assert out.returncode == 0, out.stderr[-3000:]
    after = digest(sorted((workflow / "results/small").glob("[dp]a*/**/*.parquet")))
    changed = {p for p in before if before[p] != after[p]}  # a forced re-run (cohort, curation, modality
    # labels, split and selection) leaves every other file's bytes
    assert changed == {str(workflow / "results/small/data/modality_labels.parquet"),
                       str(workflow / "results/small/pairs/modality/train.parquet"),  # the overridden case's answer,
                       str(workflow / "results/small/pairs/modality/learned.parquet")}  # a pair the adapter learns


@pytest.mark.slow
def test_bad_export_fails_with_file_column_line_and_writes_nothing(tmp_path, workflow):
    bad = tmp_path / "plans.csv"
    plans = pd.read_csv(workflow / "results/small/synthetic/plans.csv", dtype=str, keep_default_na=False)
    plans.loc[4, "n_fractions"] = "thirty"
    plans.to_csv(bad, index=False)
    data, kept = workflow / "results/small/data", tmp_path / "data"
    shutil.move(data, kept)  # no curated data yet; put back as it was (bytes and times) for the other tests
    try:
        raw = f"raw={{'diagnoses': 'results/small/synthetic/diagnoses.csv', 'plans': '{bad}'}}"
        out = snakemake(workflow, "--config", raw, "--until", "curate")  # not the synthetic default: no demo key
        assert out.returncode != 0 and "Traceback" not in out.stderr + out.stdout
        assert "error: no pseudonymisation key for these exports" in out.stderr
        out = snakemake(workflow, "--config", raw, "--until", "curate", env={"RADONC_PSEUDONYM_KEY": "s" * 32})
        assert out.returncode != 0 and "Traceback" not in out.stderr + out.stdout
        assert f"error: {bad}: column 'n_fractions' is not a number at line 6" in out.stderr
        assert not (data / "cases.parquet").exists()
        log = (workflow / "results/small/logs/curate.log").read_text()
        assert log.rstrip().splitlines()[-1].endswith(f"{bad}: column 'n_fractions' is not a number at line 6 "
                                                      "(1 row(s) in all)") and "thirty" not in log
        assert "s" * 32 not in log
    finally:
        shutil.rmtree(data, ignore_errors=True)
        shutil.move(kept, data)


def hand_made_exports(synthetic: Path, folder: Path) -> Path:
    """A hospital's exports made by hand from the synthetic ones: medical record numbers of its own form and
    every diagnosis text marked as this hospital's, so that any trace of either can be searched for."""
    folder.mkdir()
    diagnoses = pd.read_csv(synthetic / "diagnoses.csv", dtype=str, keep_default_na=False)
    plans = pd.read_csv(synthetic / "plans.csv", dtype=str, keep_default_na=False)
    mrn = {pid: f"MRN{7300000 + i:07d}" for i, pid in enumerate(diagnoses["patient_id"].unique())}
    diagnoses["patient_id"] = diagnoses["patient_id"].map(mrn)
    diagnoses["diagnosis_details"] = [f"St Handmade note {i}: {t}"
                                      for i, t in enumerate(diagnoses["diagnosis_details"])]
    plans["patient_id"] = plans["patient_id"].map(lambda p: mrn.get(p, f"MRN9{p}"))
    diagnoses.to_csv(folder / "diagnoses.csv", index=False)
    plans.to_csv(folder / "plans.csv", index=False)
    return folder


def no_patient_data_in_the_study_report(workflow: Path, exports: Path, tmp_path: Path) -> None:
    """The study report written from the hand-made exports' run (its exports, curation, cohort, cases and pairs:
    everything that carries their content; the models and metrics of the first run) holds none of their
    patient IDs or diagnosis texts."""
    from radonc_llm.study_report import write_study_report
    hospital = workflow / "results/hospital"
    facts, inputs = report_inputs(workflow)
    inputs |= {"exports": [exports / "diagnoses.csv", exports / "plans.csv"], "cases": hospital / "data/cases.parquet",
               "funnel": hospital / "data/curation_funnel.csv", "cohort": hospital / "data/cohort.csv",
               **{f"{s}_pairs": [hospital / f"pairs/{t}/{s}.parquet" for t in facts["tasks"]]
                  for s in ("train", "learned", "selection", "eval")}}
    write_study_report(facts, inputs, workflow / "results/small", tmp_path / "r.md", tmp_path / "r.html")
    diagnoses = pd.read_csv(exports / "diagnoses.csv", dtype=str, keep_default_na=False)
    cases = pd.read_parquet(hospital / "data/cases.parquet", columns=["case_id", "diagnosis"])
    assert re.search(r"\| regimen +\| +\d+ \| +\d+ \| +\d+ \| +30 \|", (tmp_path / "r.md").read_text())  # its pairs
    for report in (tmp_path / "r.md", tmp_path / "r.html"):
        text = report.read_text()
        assert "Handmade" not in text and "MRN" not in text
        assert not [pid for pid in diagnoses["patient_id"] if pid in text]
        assert not [t for t in diagnoses["diagnosis_details"] if t[:30] in text]
        assert not [t for t in cases["diagnosis"] if t[:30] in text]  # nor the curated texts


@pytest.mark.slow
def test_a_second_run_has_its_own_tree_and_a_forgotten_key_touches_nothing(tmp_path, workflow):
    """A hospital's run beside the first (as make real beside the demo): its own results tree and split. In a new
    shell without its key (or with a mistyped one) it stops at planning and changes no file; switching back to
    the first run, and re-running the second with its key, plan nothing."""
    first, first_plan = states(workflow / "results/small"), planned_jobs(workflow)  # [] unless an earlier test
    exports = hand_made_exports(workflow / "results/small/synthetic", tmp_path / "exports")  # a key is required
    hospital = tmp_path / "hospital.yaml"
    hospital.write_text(f"run: hospital\nraw: {{diagnoses: {exports}/diagnoses.csv, plans: {exports}/plans.csv}}\n"
                        "split:\n  eval_size: {regimen: 30, modality: 30, icd10: 0.1}\n")
    configs = ("--configfile", "tests/config/small.yaml", str(hospital))
    key, target = {"RADONC_PSEUDONYM_KEY": "k" * 40}, ["pairs", "results/hospital/data/cohort.csv"]
    out = snakemake(workflow, *configs, targets=target, env=key)
    assert out.returncode == 0, out.stderr[-3000:]
    assert len(pd.read_parquet(workflow / "results/hospital/pairs/regimen/eval.parquet")) == 30
    assert states(workflow / "results/small") == first  # nothing of the first run touched
    no_patient_data_in_the_study_report(workflow, exports, tmp_path)
    before = states(workflow / "results")
    for env, what, args in (({}, "no pseudonymisation key", ()),
                            ({"RADONC_PSEUDONYM_KEY": "short"}, "the pseudonymisation key from the environment "
                             "variable RADONC_PSEUDONYM_KEY has 5 characters", ("--dry-run",))):
        out = snakemake(workflow, *configs, *args, targets=target, env=env)
        assert out.returncode == 1 and "Traceback" not in out.stderr and "k" * 40 not in out.stderr
        assert out.stderr.strip().splitlines()[-1].startswith(f"error: {what}"), out.stderr[-500:]
        assert "Building DAG" not in out.stderr + out.stdout  # stopped before Snakemake planned a job
        assert states(workflow / "results") == before  # every output's bytes and mtime
    out = snakemake(workflow, *configs, "--dry-run", targets=target, env=key)
    assert out.returncode == 0 and "Nothing to be done" in out.stdout + out.stderr, out.stdout[-2000:]
    assert planned_jobs(workflow) == first_plan  # the first run, switched back to: nothing more to re-run


@pytest.mark.slow
def test_missing_export_and_invalid_config_fail_before_any_job(tmp_path, workflow):
    out = snakemake(workflow, "--dry-run", "--config",
                    f"raw={{'diagnoses': '{tmp_path}/absent.csv', 'plans': 'results/small/synthetic/plans.csv'}}",
                    "--forcerun", "curate", env={"RADONC_PSEUDONYM_KEY": "k" * 32})
    assert out.returncode != 0 and f"{tmp_path}/absent.csv" in out.stdout + out.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("split:\n  seed: 1\n  eval_size: -3\n")
    out = snakemake(workflow, "--dry-run", "--configfile", str(bad))
    assert out.returncode != 0 and "eval_size" in out.stdout + out.stderr and "-3" in out.stdout + out.stderr


def test_snakemake_lint_is_clean():
    out = subprocess.run([sys.executable, "-m", "snakemake", "--lint"], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0 and "Congratulations" in out.stdout + out.stderr, out.stdout + out.stderr
