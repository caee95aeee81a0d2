"""What each Snakemake rule runs: read its inputs, call the package, write its outputs.

Each function takes the `snakemake` object that a `script:` directive provides. Logs carry
counts only: never a patient ID or diagnosis text.
"""
from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import pandas as pd

from . import cohort, pairs
from .curate import curate
from .modality import LABELS
from .pseudonym import resolve_key
from .synthetic import write_cohort
from .errors import UserError
from .tables import (check_shared_patients, collapse_duplicates, read_annotation, read_export, write_csv,
                     write_parquet)

MODALITY_OVERRIDE_COLUMNS = ("case_id", "modality")
TEXT_SEPARATION_COLUMNS = ("case_id", "diagnosis", "plan_summary")


@contextlib.contextmanager
def logged(smk):
    """Send the package's log to the rule's log file; record a failure there too."""
    handler = logging.FileHandler(smk.log[0], mode="w")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield logging.getLogger(f"radonc_llm.{smk.rule}")
    except UserError as err:  # our own messages name file, column and line only: one line, no traceback
        root.error("%s", err)
        raise SystemExit(f"error: {err}") from None
    except Exception as err:  # a library's message may quote a cell (an ID, a diagnosis): keep it out of the log
        root.error("failed with %s (message withheld from the log; see the console)", type(err).__name__)
        raise
    finally:
        root.removeHandler(handler)
        handler.close()


def input_for(files, *parts: str) -> str:
    """The one file of `files` (a rule's inputs or outputs) whose path ends in the folders and name `parts`
    (e.g. model, variant, task, file)."""
    tail = "/" + "/".join(parts)
    found = [f for f in files if ("/" + f).endswith(tail)]
    if len(found) != 1:
        raise ValueError(f"{len(found)} of the rule's inputs end in {tail}")
    return found[0]


def synthetic_cohort(smk) -> None:
    with logged(smk) as log:
        write_cohort(smk.params.n_patients, smk.params.seed, smk.output.diagnoses, smk.output.plans,
                     dict(smk.params.coding_noise))
        log.info("wrote a synthetic cohort of %d patients (seed %d, coding noise %s)", smk.params.n_patients,
                 smk.params.seed, dict(smk.params.coding_noise))


def curate_cases(smk) -> None:
    with logged(smk) as log:
        key = resolve_key(smk.config["pseudonym"], smk.params.synthetic, Path(smk.scriptdir).parent)
        raw = smk.params.raw
        tables, duplicates, blank = {}, {}, {}
        for kind in ("diagnoses", "plans"):
            table = read_export(smk.input[kind], kind, raw.get("columns", {}).get(kind), raw.get("encoding"),
                                raw.get("delimiter"), raw.get("sheet"))
            blank[kind] = table.attrs["blank_rows"]
            tables[kind], duplicates[kind] = collapse_duplicates(table, kind, smk.input[kind])
        check_shared_patients(tables["diagnoses"], tables["plans"], smk.input)
        separations = read_annotation(smk.input.text_separations, TEXT_SEPARATION_COLUMNS)
        cases, steps = curate(tables["diagnoses"], tables["plans"], key, separations, smk.params.synonyms, duplicates,
                              blank)
        for _, s in steps.iterrows():
            log.info("step %s %s: %d remaining, %d dropped", s["step"], s["description"], s["remaining"], s["dropped"])
        write_parquet(cases, smk.output.cases)
        write_csv(steps, smk.output.steps)


def modality_labels(smk) -> None:
    with logged(smk):
        cases = pd.read_parquet(smk.input.cases)
        overrides = read_annotation(smk.input.overrides, MODALITY_OVERRIDE_COLUMNS, {"modality": LABELS})
        labels, needs = pairs.resolve_modality(cases, overrides)
        write_parquet(labels, smk.output.labels)
        write_csv(needs, smk.output.needs_annotation)


def cohort_summary(smk) -> None:
    with logged(smk):
        cases = pd.read_parquet(smk.input.cases)
        labels = pd.read_parquet(smk.input.labels)
        steps = pd.read_csv(smk.input.steps, keep_default_na=False)
        funnel = cohort.funnel(steps, labels)
        write_csv(funnel, smk.output.funnel)
        write_csv(cohort.cohort_table(cases, labels), smk.output.cohort)
        cohort.plot_funnel(funnel, smk.output.figure_png, smk.output.figure_pdf)


def consistency(smk) -> None:
    from .consistency import check_cases, summarise
    with logged(smk) as log:
        report = check_cases(pd.read_parquet(smk.input.cases))
        summary = summarise(report)
        write_csv(report, smk.output.cases)
        write_csv(summary, smk.output.summary)
        for _, row in summary[~summary["check"].str.startswith("organ: ")].iterrows():
            log.info("%s: %d of %d flagged", row["check"], row["n_flagged"], row["n_checked"])


def split_pairs(smk) -> None:
    with logged(smk) as log:
        task = smk.wildcards.task
        cases = pd.read_parquet(smk.input.cases)
        labels = pd.read_parquet(smk.input.labels) if task == "modality" else None
        table = pairs.task_table(task, cases, labels)
        train, evaluation = pairs.split_pairs(table, pairs.eval_pool(task, cases), smk.params.eval_size,
                                              smk.params.seed, smk.params.instruction)
        write_parquet(train, smk.output.train)
        write_parquet(evaluation, smk.output.eval)
        log.info("%s: %d train and %d eval pairs", task, len(train), len(evaluation))


def tiny_tokenizer(smk) -> None:
    from .tiny_models import train_tokenizer
    with logged(smk):
        regimen, icd10 = pd.read_parquet(smk.input.regimen), pd.read_parquet(smk.input.icd10)
        texts = (list(regimen["prompt"]) + list(regimen["answer"]) + list(icd10["answer"]) + list(LABELS)
                 + list(smk.params.instructions) + ["[INST] [/INST]"])  # the prompt formats' markers
        train_tokenizer(texts, smk.params.vocab_size, smk.output[0])


def tiny_base(smk) -> None:
    from pathlib import Path

    from .tiny_models import build_tiny_base
    with logged(smk):
        diagnoses = list(pd.read_parquet(smk.input.diagnoses)["diagnosis"])  # never the answers
        build_tiny_base(smk.params.architecture, smk.params.prompt_format, smk.input.tokenizer, diagnoses,
                        smk.params.settings, Path(smk.output.config).parent, threads=smk.threads)


def gguf_base(smk) -> None:
    from .gguf_model import build_from_gguf, installed_file
    with logged(smk) as log:
        spec = smk.params.gguf
        path = installed_file(spec["distribution"], spec["file"])
        provenance = build_from_gguf(path, spec["sha256"], Path(smk.output.config).parent,
                                     source=f"{spec['distribution']}: {spec['file']}")
        log.info("built %s from %s (sha256 %s, %d parameters)", smk.wildcards.model, spec["file"],
                 provenance["sha256"], provenance["parameters"])


def finetune(smk) -> None:
    from .finetune import run_finetune
    from .models import check_model_dir
    with logged(smk) as log:
        check_model_dir(smk.params.base_dir)
        spec = {
            "model": smk.wildcards.model, "task": smk.wildcards.task, "base_dir": smk.params.base_dir,
            "prompt_format": smk.params.prompt_format, "train": smk.input.train, "settings": smk.params.settings,
            "work_root": smk.params.work_root, "threads": smk.threads,
            "outputs": {"adapter": smk.output.adapter, "log_csv": smk.output.train_log,
                        "curve": smk.output.loss_curve, "card": smk.output.model_card},
        }
        # data-parallel over the job's GPUs, as the paper's two A100s
        card = run_finetune(spec, int(smk.resources.get("gpu", 0)))
        log.info("validation loss on answer tokens: vanilla %.3f, fine-tuned %.3f (%s pairs, %d process(es), "
                 "effective batch %d, %s s)", card["vanilla_validation_loss"], card["final_validation_loss"],
                 card["train_pairs"], card["processes"], card["effective_batch"], card["seconds"])


def predict(smk) -> None:
    """One model on one task's eval pairs: the fine-tuned adapter, the vanilla base zero-shot, or the
    vanilla base shown solved training cases (the prompting variants; one job writes them all)."""
    import torch

    from .demonstrations import variant_prompts
    from .models import context_length, load_tokenizer, resolve_precision
    from .predict import load_for_prediction, max_new_tokens, predict_temperatures, predict_vllm
    with logged(smk) as log:
        task, settings, base = smk.wildcards.task, smk.params.settings, smk.params.base_dir
        # rule predict: its variant wildcard; rule predict_prompted: every prompting variant
        variants = list(smk.params.variants) if hasattr(smk.params, "variants") else [smk.wildcards.variant]
        adapter = smk.input.adapter if variants == ["finetuned"] else None
        evaluation = pd.read_parquet(smk.input.pairs)
        temperatures = settings["temperatures"]
        outputs = {v: dict(zip(temperatures, smk.output[i * len(temperatures):(i + 1) * len(temperatures)]))
                   for i, v in enumerate(variants)}
        vllm = settings["backend"] == "vllm"
        if vllm:
            tokenizer = load_tokenizer(base, smk.params.prompt_format)
        else:
            if not torch.cuda.is_available():
                torch.set_num_threads(smk.threads)
            # bf16 also on CPU where asked: faster on CPUs with bf16 instructions (docs/benchmarks.md)
            dtype = torch.bfloat16 if resolve_precision(settings["precision"]) == "bf16" else torch.float32
            model, tokenizer = load_for_prediction(base, smk.params.prompt_format, adapter, dtype=dtype)
            if torch.cuda.is_available():
                model.to("cuda")
        shown = getattr(smk.params, "prompting", {"k": 0, "seed": 0})
        train = pd.read_parquet(smk.input.train) if hasattr(smk.input, "train") else None
        room = context_length(base) - max_new_tokens(settings, task, one_line=True)
        for variant in variants:
            prompts, examples, cut = variant_prompts(variant, tokenizer, evaluation, train, shown["k"], shown["seed"],
                                                     room)
            if examples is not None:
                log.info("%s: %d solved training cases shown per prompt; %d of %d prompts lost examples to fit the "
                         "model's %d tokens", variant, shown["k"], cut, len(evaluation), room)
            one_line = variant != "vanilla"  # fine-tuned, or shown solved examples: answers of one line
            if vllm:
                predict_vllm(base, adapter, task, evaluation, settings, one_line, outputs[variant], prompts, examples)
                continue
            log.info("%s %s on %d %s eval pairs at %d temperatures, %s on %s", smk.wildcards.model, variant,
                     len(evaluation), task, len(temperatures), str(dtype).removeprefix("torch."), model.device)
            predict_temperatures(model, tokenizer, task, evaluation, settings, one_line, outputs[variant], prompts,
                                 examples)


def score(smk) -> None:
    from .metrics import summarise, score_cases
    with logged(smk) as log:
        task = smk.wildcards.task
        pairs_ = pd.read_parquet(smk.input.pairs)
        for variant, summary in zip(smk.params.variants, smk.output.summaries):
            rows = []
            for temperature in smk.params.temperatures:
                name = f"T{temperature:.1f}.parquet"
                prediction = pd.read_parquet(input_for(smk.input.predictions, variant, task, name))
                cases = score_cases(task, pairs_, prediction, smk.params.alpha_beta)
                write_parquet(cases, input_for(smk.output.cases, variant, task, name))
                rows.append({"model": smk.wildcards.model, "variant": variant, "task": task,
                             "temperature": temperature, **summarise(task, cases, smk.params.bootstrap)})
                log.info("%s T=%.1f: headline %.3f (95%% CI %.3f-%.3f), %d cases, %d unparsed", variant, temperature,
                         rows[-1]["headline"], rows[-1]["ci_low"], rows[-1]["ci_high"], rows[-1]["n"],
                         rows[-1]["unparsed"])
            write_csv(pd.DataFrame(rows), summary)


def baselines(smk) -> None:
    from .baselines import predictions
    from .metrics import score_cases, summarise
    with logged(smk) as log:
        task, name = smk.wildcards.task, smk.wildcards.baseline
        train, evaluation = pd.read_parquet(smk.input.train), pd.read_parquet(smk.input.eval)
        cases = score_cases(task, evaluation, predictions(name, train, evaluation), smk.params.alpha_beta)
        write_parquet(cases, smk.output.cases)
        row = {"model": name, "variant": "baseline", "task": task, "temperature": float("nan"),
               **summarise(task, cases, smk.params.bootstrap)}
        write_csv(pd.DataFrame([row]), smk.output.summary)
        log.info("%s / %s: headline %.3f (95%% CI %.3f-%.3f) on %d cases", name, task, row["headline"],
                 row["ci_low"], row["ci_high"], row["n"])


def evaluation_tables(smk) -> None:
    from .comparisons import best_temperatures, model_vs_model, ranking, table1
    from .metrics import AVERAGE, averaged, per_class
    with logged(smk) as log:
        summary = pd.concat([pd.read_csv(p) for p in smk.input.summaries], ignore_index=True)
        models = smk.params.models
        write_csv(summary, smk.output.by_temperature)
        write_csv(table1(summary, models), smk.output.table1)
        write_csv(model_vs_model(summary, models), smk.output.model_vs_model)
        proxy_columns = ["model", "variant", "temperature", "proxy_graded", *[f"proxy_grade_{g}" for g in range(1, 6)],
                         "proxy_grade_1_2", "dose_match", "fractions_match", "modality_match", "median_abs_delta_eqd2"]
        write_csv(summary.loc[summary["task"] == "regimen", proxy_columns], smk.output.regimen_proxy)
        shown = best_temperatures(summary, smk.params.report_temperature)
        prf = {"modality": [], "icd10": []}
        confusion = []
        cases_files = set(smk.input.cases)
        for r in shown[shown["task"].isin(list(prf))].itertuples():
            cases = pd.read_parquet(input_for(cases_files, r.model, r.variant, r.task, f"T{r.temperature:.1f}.parquet"))
            key = {"model": r.model, "variant": r.variant, "temperature": r.temperature}
            prf[r.task] += [per_class(r.task, cases).assign(**key),
                            pd.DataFrame([{**key, "label": AVERAGE[r.task], **averaged(r.task, cases),
                                           "support": len(cases)}])]
            if r.task == "icd10":
                confusion.append(cases.groupby(["truth_category", "predicted_category"]).size()
                                 .rename("n").reset_index().assign(**key))
        columns = ["model", "variant", "temperature", "label", "precision", "recall", "f1", "support"]
        for task, output in (("modality", smk.output.modality_prf), ("icd10", smk.output.icd10_prf)):
            write_csv(pd.concat(prf[task], ignore_index=True)[columns] if prf[task] else pd.DataFrame(columns=columns),
                      output)
        confusion_columns = ["model", "variant", "temperature", "truth_category", "predicted_category", "n"]
        write_csv(pd.concat(confusion, ignore_index=True)[confusion_columns] if confusion
                  else pd.DataFrame(columns=confusion_columns), smk.output.icd10_confusion)
        from .paired import paired_table

        def load(model, variant, task, temperature):
            return pd.read_parquet(input_for(cases_files, model, variant, task, f"T{temperature:.1f}.parquet"))
        baseline_summary = pd.concat([pd.read_csv(p) for p in smk.input.baselines], ignore_index=True)
        shown_baselines = baseline_summary.rename(columns={"model": "baseline"}).drop(columns=["variant",
            "temperature"])
        first = ["task", "baseline", "headline", "ci_low", "ci_high", "n", "unparsed"]
        write_csv(shown_baselines[first + [c for c in shown_baselines.columns if c not in first]].dropna(axis=1,
            how="all"),
                  smk.output.baselines)
        baseline_files = set(smk.input.baseline_cases)
        write_csv(ranking(summary, baseline_summary, models), smk.output.ranking)

        def load_baseline(name, task):
            return pd.read_parquet(input_for(baseline_files, "baselines", task, f"{name}.parquet"))
        paired = paired_table(shown, load, models, smk.params.bootstrap, baseline_summary, load_baseline)
        write_csv(paired.astype({"a_only": "Int64", "b_only": "Int64"}), smk.output.paired_tests)
        from .breakdown import by_group, case_groups, top_confusions
        groups = case_groups(pd.read_parquet(smk.input.curated))
        scored = {(f"{r.model} {r.variant} (T={r.temperature:.1f})", r.task): load(r.model, r.variant, r.task,
            r.temperature)
                  for r in shown.itertuples()}
        scored |= {(f"{b.model} baseline", b.task): load_baseline(b.model, b.task)
                   for b in baseline_summary.sort_values("headline",
                       ascending=False).drop_duplicates("task").itertuples()}
        write_csv(by_group(scored, groups), smk.output.by_group)
        write_csv(top_confusions(scored, groups), smk.output.top_confusions)
        log.info("tables from %d prediction files of %d models", len(summary), len(models))


def evaluation_figures(smk) -> None:
    from . import figures
    from .comparisons import best_temperatures
    with logged(smk) as log:
        out = smk.output
        figures.highest_and_median(pd.read_csv(smk.input.table1), out.figure3_png, out.figure3_pdf)
        figures.temperature_scan(pd.read_csv(smk.input.by_temperature), out.scan_png, out.scan_pdf,
                                 pd.read_csv(smk.input.baselines))
        figures.prf_bars(pd.read_csv(smk.input.modality_prf), "weighted", "Treatment modality: weighted P / R / F1",
                         out.modality_png, out.modality_pdf)
        figures.prf_bars(pd.read_csv(smk.input.icd10_prf), "macro", "ICD-10 main category: macro P / R / F1",
                         out.icd10_png, out.icd10_pdf)
        confusion = pd.read_csv(smk.input.icd10_confusion)
        panels = {f"{m} {figures.variant_name(v)} (T {t:.1f})": g.loc[g.index.repeat(g["n"])]
                  for (m, v, t), g in confusion.groupby(["model", "variant", "temperature"], sort=False)}
        figures.confusion_matrices(panels, out.confusion_png, out.confusion_pdf)
        figures.paired_differences(pd.read_csv(smk.input.paired_tests), out.paired_png, out.paired_pdf)
        figures.by_site(pd.read_csv(smk.input.by_group), out.by_site_png, out.by_site_pdf)
        proxy = pd.read_csv(smk.input.regimen_proxy)
        shown = pd.read_csv(smk.input.by_temperature)
        shown = best_temperatures(shown[shown["task"] == "regimen"], smk.params.report_temperature)
        figures.proxy_grades(proxy.merge(shown[["model", "variant", "temperature"]]), out.proxy_png, out.proxy_pdf)
        log.info("figures written")


def learning_curve(smk) -> None:
    import json

    from . import figures
    from .learning_curve import curve_table
    with logged(smk) as log:
        def adapter_row(summary_file, card_file):
            card = json.loads(Path(card_file).read_text())
            return pd.read_csv(summary_file).assign(train_pairs=card["train_pairs"])
        # the curve's adapters (inputs listed size by size, in the same order), then the run's own
        adapters = [adapter_row(summary, card) for summary, card in zip(smk.input.curve, smk.input.curve_cards)]
        summary = pd.concat([pd.read_csv(p) for p in smk.input.full], ignore_index=True)
        adapters += [adapter_row(input_for(smk.input.full, model, "finetuned", task, "summary.csv"),
                                 input_for(smk.input.full_cards, model, task, "model_card.json"))
                     for model, task in summary[["model", "task"]].drop_duplicates().itertuples(index=False)]
        adapters = pd.concat(adapters, ignore_index=True)
        temperature = smk.params.temperature
        adapters = adapters[(adapters["temperature"] - temperature).abs() < 1e-9]
        baselines = pd.concat([pd.read_csv(p) for p in smk.input.baselines], ignore_index=True)
        table = curve_table(adapters, summary, baselines, temperature)
        write_csv(table, smk.output.table)
        figures.learning_curve(table, smk.output.png, smk.output.pdf)
        log.info("learning curve: %d adapters of %d models and tasks at T=%.1f", len(adapters),
                 len(adapters[["model", "task"]].drop_duplicates()), temperature)


def grading_sheets(smk) -> None:
    from .comparisons import best_temperatures
    from .grading import differs_from_issued, make_sheets
    with logged(smk) as log:
        pairs_ = pd.read_parquet(smk.input.pairs).set_index("case_id")
        summary = pd.read_csv(smk.input.by_temperature)
        shown = best_temperatures(summary[summary["task"] == "regimen"], smk.params.temperature)
        items = []
        for r in shown[shown["variant"].isin(smk.params.variants)].itertuples():
            predicted = pd.read_parquet(input_for(smk.input.predictions, r.model, r.variant, "regimen",
                                                  f"T{r.temperature:.1f}.parquet"))
            items.append(pd.DataFrame({
                "case_id": predicted["case_id"], "model": r.model, "variant": r.variant, "temperature": r.temperature,
                "diagnosis": pairs_.loc[predicted["case_id"], "diagnosis"].to_numpy(),
                "physician_regimen": pairs_.loc[predicted["case_id"], "answer"].to_numpy(),
                "generated_regimen": predicted["answer"].to_numpy()}))
        sheets, key = make_sheets(pd.concat(items, ignore_index=True), smk.params.graders, smk.params.seed)
        tables = {"key.csv": key, **{f"{grader}.csv": sheets[grader] for grader in smk.params.graders}}
        # sheets handed to clinicians can only be un-blinded with their own key: a copy of both, never overwritten
        issued = Path(smk.output.key).parent / "issued"
        if changed := differs_from_issued(tables, issued):
            raise UserError(f"{issued}: grading sheets were issued for this run and the new ones would differ "
                            f"({', '.join(changed)}); the issued sheets and their key stay there. To grade the new "
                            f"ones, move {issued} elsewhere (keep it: it un-blinds the issued sheets) and re-run; to "
                            "keep grading the issued ones, restore the predictions they came from")
        for grader, path in zip(smk.params.graders, smk.output.sheets):
            write_csv(sheets[grader], path)
        write_csv(key, smk.output.key)
        if not (issued / "key.csv").is_file():
            for name, table in tables.items():
                write_csv(table, issued / name)
        log.info("%d rows per sheet for %d graders (%s)", len(key), len(sheets), ", ".join(smk.params.variants))


def grading_results(smk) -> None:
    from .figures import human_grades
    from .grading import agreement, distribution, read_adjudication, read_graded, unblind
    with logged(smk) as log:
        graders = smk.params.graders
        key = pd.read_csv(smk.input.key)
        blanks = [pd.read_csv(p, dtype=str, keep_default_na=False) for p in smk.input.sheets]
        grades = {g: read_graded(path, blank) for g, path, blank in zip(graders, smk.input.graded, blanks)}
        adjudication = smk.params.adjudication
        settled = read_adjudication(adjudication) if adjudication else {}
        table = unblind(key, grades, settled)
        proxy = []
        for path in smk.input.proxy:
            cases = pd.read_parquet(path)
            parts = Path(path).parts  # results/<run>/metrics/{model}/{variant}/regimen/T{t}.parquet
            proxy.append(cases[["case_id", "proxy_grade"]].assign(model=parts[-4], variant=parts[-3],
                                                                  temperature=float(Path(path).stem[1:])))
        table = table.merge(pd.concat(proxy), on=["case_id", "model", "variant", "temperature"], how="left",
                            validate="one_to_one")
        write_csv(table, smk.output.grades)
        text = blanks[0].set_index("row_id")
        flagged = table[table["flagged"]]
        write_csv(pd.DataFrame({"row_id": flagged["row_id"],
                                "diagnosis": text.loc[flagged["row_id"], "diagnosis"].to_numpy(),
                                "physician_regimen": text.loc[flagged["row_id"], "physician_regimen"].to_numpy(),
                                "generated_regimen": text.loc[flagged["row_id"], "generated_regimen"].to_numpy(),
                                **{f"grade_{g}": flagged[g] for g in graders},
                                "adjudicated_grade": flagged["adjudicated"].astype(str).replace("<NA>", "")}),
                  smk.output.adjudication)
        dist = distribution(table, graders)
        write_csv(dist, smk.output.distribution)
        rows = []
        for (model, variant), group in [(("all", "all"), table), *table.groupby(["model", "variant"])]:
            first, second = graders[0], graders[1]
            rows.append({"model": model, "variant": variant, "compared": f"{first} vs {second} (before adjudication)",
                         **agreement(group[first], group[second])})
            gradable = group.dropna(subset=["proxy_grade"])
            for g in graders:
                rows.append({"model": model, "variant": variant, "compared": f"proxy vs {g} (final)",
                             **agreement(gradable["proxy_grade"], gradable[f"{g}_final"])})
        write_csv(pd.DataFrame(rows), smk.output.agreement)
        gradable = table.dropna(subset=["proxy_grade"])
        confusion = pd.concat([gradable.groupby(["proxy_grade", f"{g}_final"]).size().rename("n").reset_index()
                               .rename(columns={f"{g}_final": "human_grade"}).assign(grader=g) for g in graders])
        write_csv(confusion[["grader", "proxy_grade", "human_grade", "n"]], smk.output.proxy_confusion)
        human_grades(dist, smk.output.figure_png, smk.output.figure_pdf)
        log.info("%d graded rows, %d flagged (%d adjudicated)", len(table), int(table["flagged"].sum()),
                 int(table["adjudicated"].notna().sum()))
