"""What each Snakemake rule runs (given the `snakemake` object of its `script:`): read its named inputs, call
the package, write its outputs. A rule listing many files of one kind gives their keys in a param (rules/common.smk
`keys_of`): no path is read for its parts. Logs carry counts only: never a patient ID or diagnosis text."""
from __future__ import annotations

import json
import logging
from itertools import product
from pathlib import Path

import pandas as pd

from . import pairs
from .curate import curate
from .errors import logged
from .modality import LABELS
from .pseudonym import resolve_key
from .synthetic import write_cohort
from .tasks import TASKS
from .variants import VARIANTS
from .tables import (MODALITY_OVERRIDE_COLUMNS, TEXT_SEPARATION_COLUMNS, concat_csv, keyed, read_annotation,
                     read_exports, write_csv, write_parquet, write_tables)

log = logging.getLogger(__name__)


def synthetic_cohort(smk) -> None:
    with logged(smk):
        write_cohort(smk.params.n_patients, smk.params.seed, smk.output.diagnoses, smk.output.plans,
                     dict(smk.params.coding_noise), smk.input.catalogue, dict(smk.params.ambiguity))


def curate_cases(smk) -> None:
    with logged(smk):
        tables, duplicates, blank, before = read_exports({k: smk.input[k] for k in ("diagnoses", "plans")},
                                                         smk.params.raw)
        separations = read_annotation(smk.input.text_separations, TEXT_SEPARATION_COLUMNS)
        cases, steps = curate(tables["diagnoses"], tables["plans"], resolve_key(smk.config["pseudonym"],
                              smk.params.synthetic), separations, smk.params.synonyms, duplicates, blank,
                              smk.params.window, before)
        write_parquet(cases, smk.output.cases)
        write_csv(steps, smk.output.steps)


def modality_labels(smk) -> None:
    with logged(smk):
        overrides = read_annotation(smk.input.overrides, MODALITY_OVERRIDE_COLUMNS, {"modality": LABELS})
        labels, needs = pairs.resolve_modality(pd.read_parquet(smk.input.cases), overrides)
        write_parquet(labels, smk.output.labels)
        write_csv(needs, smk.output.needs_annotation)


def cohort_summary(smk) -> None:
    from . import cohort  # matplotlib: only the jobs that draw import it (every job imports this module)
    with logged(smk):
        cases, labels = pd.read_parquet(smk.input.cases), pd.read_parquet(smk.input.labels)
        funnel = cohort.funnel(pd.read_csv(smk.input.steps, keep_default_na=False), labels)
        write_csv(funnel, smk.output.funnel)
        write_csv(cohort.cohort_table(cases, labels), smk.output.cohort)
        cohort.plot_funnel(funnel, smk.output.figure_png, smk.output.figure_pdf)


def consistency(smk) -> None:
    from .consistency import check_cases, summarise
    with logged(smk):
        report = check_cases(pd.read_parquet(smk.input.cases), smk.input.staging)
        write_csv(report, smk.output.cases)
        write_csv(summarise(report), smk.output.summary)


def split_pairs(smk) -> None:
    with logged(smk):
        task, cases = smk.wildcards.task, pd.read_parquet(smk.input.cases)
        labels = pd.read_parquet(smk.input.labels) if TASKS[task].labelled else None  # rules/common.smk pair_inputs
        table = pairs.task_table(task, cases, labels)
        pairs.check_not_empty(task, table)
        train, evaluation = pairs.split_pairs(table, pairs.eval_pool(task, cases), smk.params.eval_size,
                                              smk.params.seed, smk.params.instruction)
        write_parquet(train, smk.output.train)
        write_parquet(evaluation, smk.output.eval)


def selection_pairs(smk) -> None:
    from .finetune import selection_pairs as select
    from .finetune import training_pairs
    with logged(smk):
        p = smk.params
        train = pd.read_parquet(smk.input.train)
        write_parquet(select(train, p.finetune, p.size, p.seed), smk.output.selection)
        write_parquet(training_pairs(train, p.finetune)[0], smk.output.learned)


def learned_pairs(smk) -> None:
    from .finetune import training_pairs
    with logged(smk):
        write_parquet(training_pairs(pd.read_parquet(smk.input.train), smk.params.finetune)[0], smk.output.learned)


def tiny_tokenizer(smk) -> None:
    from .tiny_models import tokenizer_texts, train_tokenizer
    with logged(smk):
        train_tokenizer(tokenizer_texts(pd.read_parquet(smk.input.regimen), pd.read_parquet(smk.input.icd10), LABELS,
                                        smk.params.instructions), smk.params.vocab_size, smk.output[0])


def tiny_base(smk) -> None:
    from .tiny_models import build_tiny_base
    with logged(smk):
        held_out = set().union(*(pd.read_parquet(f, columns=["case_id"])["case_id"] for f in smk.input.held_out))
        train = pd.read_parquet(smk.input.diagnoses)
        kept = ~train["case_id"].isin(held_out)
        log.info("pre-training text: the diagnoses of %d regimen train pairs, less %d of cases a task evaluates or "
                 "chooses its settings on", len(train), (~kept).sum())
        build_tiny_base(smk.params.architecture, smk.params.prompt_format, smk.input.tokenizer,
                        list(train.loc[kept, "diagnosis"]),  # never the answers
                        smk.params.settings, smk.params.model_dir, threads=smk.threads, precision=smk.params.precision)


def gguf_base(smk) -> None:
    from .gguf_model import build_from_gguf, installed_file
    with logged(smk):
        spec = smk.params.gguf
        build_from_gguf(installed_file(spec["distribution"], spec["file"]), spec["sha256"], smk.params.model_dir,
                        source=f"{spec['distribution']}: {spec['file']}")


def gpus(smk) -> int:
    """The GPUs the job asked for; without them a job stops at once (gpu_jobs_need_cuda)."""
    from .models import require_gpus
    asked = int(smk.resources.get("gpu", 0))
    if smk.config.get("gpu_jobs_need_cuda", True):
        require_gpus(asked)
    return asked


def finetune(smk) -> None:
    from .finetune import run_finetune
    with logged(smk):
        run_finetune({"model": smk.wildcards.model, "task": smk.wildcards.task, "base_dir": smk.params.base_dir,
                      "prompt_format": smk.params.prompt_format, "train": smk.input.train,
                      "settings": smk.params.settings, "work_root": smk.params.work_root, "threads": smk.threads,
                      "outputs": {"adapter": smk.output.adapter, "log_csv": smk.output.train_log,
                                  "curve": smk.output.loss_curve, "card": smk.output.model_card}},
                     gpus(smk))  # data-parallel over the job's GPUs


def predict(smk) -> None:
    from .predict import PredictionJob, predict_variants
    with logged(smk):
        gpus(smk)
        p = smk.params  # variants: the job's; splits: eval (and selection, all_pairs); prompting: None, or k, seed
        outputs = {(s, *k): f for s in p.splits
                   for k, f in keyed(smk.output[s], product(p.variants, p.settings["temperatures"])).items()}
        job = PredictionJob(smk.wildcards.model, p.base_dir, p.prompt_format, smk.input.get("adapter"),
                            smk.wildcards.task, p.settings, p.prompting, smk.threads, smk.resources.get("mem_mb"))
        # all_pairs: the eval cases, shown solved cases from every train pair instead of the adapter's
        case_files = {s: "eval" if s == "all_pairs" else s for s in p.splits}
        pool_files = {s: "all_train" if s == "all_pairs" else "train" for s in p.splits} if p.prompting else {}
        read = {name: pd.read_parquet(smk.input[name]) for name in {*case_files.values(), *pool_files.values()}}
        predict_variants(job, {s: read[f] for s, f in case_files.items()},
                         {s: read[f] for s, f in pool_files.items()} or None, outputs)


def score(smk) -> None:
    from .metrics import Scoring, score_scan
    with logged(smk):
        scoring, temperatures = Scoring.from_params(smk.params.scoring), smk.params.temperatures
        eval_pairs = pd.read_parquet(smk.input.pairs)

        def scan(pairs, files, variants, case_paths, summary_paths):
            """Score `files` (variants x temperatures) on `pairs`; write per-case scores (where `case_paths` names
            them) and a summary per variant."""
            keys = list(product(variants, temperatures))
            predictions = {k: pd.read_parquet(f) for k, f in keyed(files, keys).items()}
            cases, summary = score_scan(smk.wildcards.model, smk.wildcards.task, pairs, predictions, scoring)
            for key, path in (keyed(case_paths, keys) if case_paths else {}).items():
                write_parquet(cases[key], path)
            for variant, path in zip(variants, summary_paths, strict=True):
                write_csv(summary[summary["variant"] == variant], path)

        scan(eval_pairs, smk.input.predictions, smk.params.variants, smk.output.cases, smk.output.summaries)
        shown_all = smk.params.get("all_pairs_variants")  # the prompting variants shown every train pair
        if shown_all:
            scan(eval_pairs, smk.input.all_pairs_predictions, shown_all, smk.output.all_pairs_cases,
                 smk.output.all_pairs_summaries)
        if "selection" in smk.params.splits:  # summaries only; the learning curve's jobs score eval pairs only
            scan(pd.read_parquet(smk.input.selection), smk.input.selection_predictions, smk.params.variants, [],
                 smk.output.selection_summaries)


def baselines(smk) -> None:
    from .metrics import Scoring, score_baseline_on
    with logged(smk):
        name, task, scoring = smk.wildcards.baseline, smk.wildcards.task, Scoring.from_params(smk.params.scoring)
        fitted_on = pd.read_parquet(smk.input.train)  # the adapter's training pairs ("all available": every one)
        splits = {"eval": pd.read_parquet(smk.input.eval)}
        if "selection_summary" in smk.output.keys():
            splits["selection"] = pd.read_parquet(smk.input.selection)
            if fitted_on["case_id"].isin(splits["selection"]["case_id"]).any():
                raise ValueError(f"{smk.input.train} holds selection pairs: a baseline chosen on them must not be "
                                 "fitted on them")
        scored = score_baseline_on(name, task, fitted_on, splits, scoring)
        write_parquet(scored["eval"][0], smk.output.cases)
        write_csv(scored["eval"][1], smk.output.summary)
        if "selection" in scored:
            write_csv(scored["selection"][1], smk.output.selection_summary)


def seeds_table(smk) -> None:
    from .evaluation import seeds_table as table
    with logged(smk):
        keys = [tuple(k) for k in smk.params.seed_keys]
        write_csv(table({k: pd.read_csv(f) for k, f in keyed(smk.input.summaries, keys).items()},
                        {k: pd.read_csv(f) for k, f in keyed(smk.input.selection_summaries, keys).items()},
                        smk.params.temperature), smk.output[0])


def workflow_commit(folder: Path) -> str:
    """The workflow's git commit, marked when files differ from it; 'not a git checkout' elsewhere."""
    import subprocess
    try:
        head = subprocess.run(["git", "-C", str(folder), "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(folder), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    return head + (" with local changes" if dirty else "")


def study_report(smk) -> None:
    from .study_report import write_study_report
    with logged(smk):
        write_study_report(dict(smk.params.facts), {k: v for k, v in smk.input.items()},
                           Path(smk.output.markdown).parent, smk.output.markdown, smk.output.html,
                           workflow_commit(Path(smk.scriptdir).parent))


def analysis_plan(smk) -> None:
    from .evaluation import write_plan
    with logged(smk):
        p = smk.params
        write_plan(dict(p.plan), dict(p.statistics), dict(p.bootstrap), list(p.models), list(p.tasks), smk.output[0],
                   list(p.seeds))


def evaluation_tables(smk) -> None:
    from .evaluation import evaluation_tables as tables
    from .evaluation import labelled_pairs, read_plan
    with logged(smk):
        cases = keyed(smk.input.cases, smk.params.case_keys)
        baseline_cases = keyed(smk.input.baseline_cases, smk.params.baseline_keys)
        all_pairs_baseline_cases = keyed(smk.input.all_pairs_baseline_cases, smk.params.baseline_keys)
        all_pairs_cases = keyed(smk.input.all_pairs_cases, smk.params.all_pairs_keys)
        seed_cases = keyed(smk.input.seed_cases, smk.params.seed_case_keys)  # the further training seeds'
        p = smk.params
        cards = {key: json.loads(Path(f).read_text())["train_pairs"]
                 for key, f in keyed(smk.input.cards, p.card_keys).items()}
        sizes = {task: (pd.read_parquet(train, columns=["case_id"])["case_id"],
                        pd.read_parquet(learned, columns=["case_id"])["case_id"])
                 for task, train, learned in zip(p.tasks, smk.input.train, smk.input.learned, strict=True)}
        write_tables(tables(summary=concat_csv(smk.input.summaries),
                            selection=concat_csv(smk.input.selection_summaries),
                            baselines=concat_csv(smk.input.baselines),
                            selection_baselines=concat_csv(smk.input.selection_baselines),
                            load=lambda *key: pd.read_parquet(cases[key]),
                            load_baseline=lambda *key: pd.read_parquet(baseline_cases[key]),
                            curated=pd.read_parquet(smk.input.curated), models=p.models,
                            report_temperature=p.report_temperature, statistics_temperature=p.statistics_temperature,
                            bootstrap=p.bootstrap, plan=read_plan(smk.input.plan),
                            labelled=labelled_pairs(cards, sizes, p.models),
                            all_pairs_baselines=concat_csv(smk.input.all_pairs_baselines),
                            load_all_pairs_baseline=lambda *key: pd.read_parquet(all_pairs_baseline_cases[key]),
                            all_pairs_summary=concat_csv(smk.input.all_pairs_summaries)
                            if smk.input.all_pairs_summaries else None,  # none without prompting.variants
                            load_all_pairs=lambda *key: pd.read_parquet(all_pairs_cases[key]),
                            seed_selection=pd.concat([pd.read_csv(f).assign(seed=k[0]) for k, f in keyed(
                                smk.input.seed_selection_summaries, p.seed_keys).items()], ignore_index=True)
                            if smk.input.seed_selection_summaries else None,  # finetune.seeds: 1
                            load_seed=lambda *key: pd.read_parquet(seed_cases[key])), smk.output)


def evaluation_figures(smk) -> None:
    from .figures import evaluation_figures as figures
    with logged(smk):
        figures({name: pd.read_csv(path) for name, path in smk.input.items()}, dict(smk.output.items()),
                smk.params.report_temperature)


def learning_curve(smk) -> None:
    from .evaluation import read_plan
    from .figures import learning_curve as figure
    from .learning_curve import curve_points, curve_table
    with logged(smk):
        p = smk.params

        def count(path):
            return len(pd.read_parquet(path, columns=["case_id"]))

        def card(path):
            return json.loads(Path(path).read_text())["train_pairs"]

        learned = {tuple(k): count(f) for k, f in zip(p.curve_learned_keys, smk.input.curve_learned, strict=True)}
        full_learned = dict(zip(p.tasks, map(count, smk.input.full_learned), strict=True))
        curve_cards = {tuple(k): card(f) for k, f in zip(p.curve_card_keys, smk.input.curve_cards, strict=True)}
        full_cards = {tuple(k): card(f) for k, f in zip(p.card_keys, smk.input.full_cards, strict=True)}
        summaries = []  # (summary, the labelled pairs it learned from): the curve's sizes, then the run's own
        for (size, model, variant, task), path in zip(p.curve_keys, smk.input.curve, strict=True):
            pairs = curve_cards[size, model, task] if VARIANTS[variant].trained else learned[size, task]
            summaries.append((pd.read_csv(path), pairs))
        for (size, _, task), path in zip(p.curve_baseline_keys, smk.input.curve_baselines, strict=True):
            summaries.append((pd.read_csv(path), learned[size, task]))
        for (model, variant, task), path in zip(p.full_keys, smk.input.full, strict=True):
            if variant in p.learners:
                summaries.append((pd.read_csv(path), full_cards[model, task] if VARIANTS[variant].trained
                                  else full_learned[task]))
        for path in smk.input.baselines:
            summary = pd.read_csv(path)
            summaries.append((summary, full_learned[summary["task"].iat[0]]))
        every = concat_csv(smk.input.all_pairs_baselines)
        every["train_pairs"] = every["task"].map(dict(zip(p.tasks, map(count, smk.input.train), strict=True)))
        table = curve_table(curve_points(summaries, p.temperature), concat_csv(smk.input.full),
                            concat_csv(smk.input.selection_baselines), p.temperature, read_plan(smk.input.plan),
                            every)
        write_csv(table, smk.output.table)
        figure(table, smk.output.png, smk.output.pdf)


def grading_sheets(smk) -> None:
    from .breakdown import GROUP_COLUMNS, case_groups
    from .grading import arm_predictors, issue, make_sheets, sheet_items, stratified_sample, write_sheet
    with logged(smk):
        p = smk.params
        scored = keyed(smk.input.scored, p.scored_keys)
        scored |= {(name, "baseline", None): path for name, path in zip(p.baseline_names, smk.input.baselines)}
        arms = arm_predictors(pd.read_csv(smk.input.paired), list(p.arms))
        if p.temperature != "best":  # a fixed temperature for every model's arm
            arms = [a | {"temperature": float(p.temperature)} if a["temperature"] is not None else a for a in arms]
        pairs = pd.read_parquet(smk.input.pairs)
        cases = pd.read_parquet(smk.input.cases, columns=GROUP_COLUMNS).merge(pairs[["case_id"]], on="case_id")
        sample = stratified_sample(case_groups(cases)[["case_id", "site"]], p.cases, p.seed)
        items = sheet_items(arms, lambda *arm: pd.read_parquet(scored[arm]), pairs, sample)
        sheets, key = make_sheets(items, p.graders, p.seed)
        log.info("each grader's sheet: %d rows (%d eval cases x %d arms)", len(key), len(sample), len(arms))
        issue({"key.csv": key, **{f"{g}.csv": sheets[g] for g in smk.params.graders}}, smk.params.issued)
        for grader, path in zip(smk.params.graders, smk.output.sheets, strict=True):
            write_sheet(sheets[grader], grader, path)
        Path(smk.params.returned).mkdir(parents=True, exist_ok=True)  # where the graders' sheets come back
        write_csv(key, smk.output.key)


def grading_results(smk) -> None:
    from .figures import human_grades
    from .grading import read_graded_sheets, read_key, result_tables
    with logged(smk):
        blank, grades, raters = read_graded_sheets(smk.params.graders, smk.input.sheets, smk.input.graded)
        tables = result_tables(read_key(smk.input.key), grades, smk.params.adjudication, blank, smk.params.graders,
                               dict(smk.params.bootstrap)) | {"raters": raters}
        write_tables(tables, smk.output)
        human_grades(tables["distribution"], smk.output.figure_png, smk.output.figure_pdf)
