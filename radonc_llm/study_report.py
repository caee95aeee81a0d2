"""The study report of a run (rule study_report): what data went in, what was done to it and what came out,
written from the run's own files only, as Markdown and as one self-contained HTML page (figures embedded,
opens offline, prints from a browser). It holds counts, settings, metrics and file fingerprints, never a
diagnosis, a regimen or a patient ID."""
from __future__ import annotations

import base64
import json
import math
import os
import platform
import re
import struct
from pathlib import Path

import pandas as pd
import yaml

from .gguf_model import provenance, sha256
from .tasks import ORDER as TASK_ORDER
from .tasks import TASKS
from .tripod_llm import checklist, read_study

FIGURES = {"figure3_highest_median": "Figure 3: highest and median headline over the temperature scan (the paper's)",
           "paired_differences": "Per-case paired differences at the settings chosen on the selection pairs",
           "by_site": "Headline by disease site"}
# The prompt format shown on an invented case, never a patient's.
INVENTED_CASE = "Invented example, not a patient: prostate adenocarcinoma, Gleason 3+4=7, cT2b cN0 M0, PSA 8.4 ng/mL"
INVENTED_ANSWERS = {"regimen": "primary, photon, 70.0Gy, fractions:28", "modality": "photon", "icd10": "C61"}
HYPERPARAMETERS = ("learning_rate", "lr_scheduler", "warmup_ratio", "epochs", "batch_size", "gradient_accumulation",
                   "max_length", "max_train_pairs")


def fingerprint(path: str | Path) -> dict:
    """An export's name, size and sha256: what identifies the data without showing any of it."""
    return {"file": Path(path).name, "bytes": Path(path).stat().st_size, "sha256": sha256(Path(path))}


def safetensors_parameters(path: Path) -> int:
    """The number of parameters a safetensors file holds, from its header (no tensor is read)."""
    with open(path, "rb") as f:
        header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
    return sum(math.prod(tensor["shape"]) for name, tensor in header.items() if name != "__metadata__")


def base_model(name: str, base_dir: str | Path) -> dict:
    """A base model's directory, architecture, parameter count and where its weights came from: the GGUF file
    and its sha256 for a base the workflow built (provenance.json), else each weights file's sha256 (as a hub
    lists them)."""
    base_dir = Path(base_dir)
    config = json.loads((base_dir / "config.json").read_text())
    weights = sorted(base_dir.glob("*.safetensors"))
    built = provenance(base_dir)
    origin = (f"built from {built['source']}, sha256 {built['sha256']}" if built else
              "; ".join(f"{w.name} sha256 {sha256(w)}" for w in weights))
    return {"model": name, "directory": str(base_dir),
            "architecture": ", ".join(config.get("architectures") or [config.get("model_type", "")]),
            "layers": config.get("num_hidden_layers"), "hidden size": config.get("hidden_size"),
            "parameters": f"{sum(safetensors_parameters(w) for w in weights):,}", "weights": origin}


def prompt_examples(models: dict, instructions: dict[str, str]) -> list[str]:
    """Each base's training text of the invented case, per task, rendered by its tokenizer's chat template as
    training and prediction render it."""
    from transformers import AutoTokenizer

    from .pairs import pair_prompt
    from .prompting import conversation, use_prompt_format
    lines = []
    for name, spec in models.items():
        tokenizer = AutoTokenizer.from_pretrained(spec["path"], local_files_only=True)
        use_prompt_format(tokenizer, spec["prompt_format"])
        texts = []
        for task, instruction in instructions.items():
            record = conversation(pair_prompt(instruction, INVENTED_CASE), INVENTED_ANSWERS[task])
            texts.append(tokenizer.apply_chat_template(record["prompt"] + record["completion"], tokenize=False))
        lines += [f"{name} (`{spec['prompt_format']}` format):", "", "```text", "\n".join(texts).rstrip(), "```", ""]
    return lines


def table(frame: pd.DataFrame) -> str:
    """A Markdown table; an empty cell where the file has none."""
    return frame.astype(object).fillna("").to_markdown(index=False, floatfmt="g")


def number(value, digits: int = 3) -> str:
    return f"{value:.{digits}f}" if pd.notna(value) else "n/a"


def p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def sentence(row, metric: str) -> str:
    """One primary comparison of paired_tests.csv, written out as a paper would state it."""
    seeds = re.search(r"per-case mean of (\d+) training seeds", row["chosen_on"])
    a = f"{row['a']} (the per-case mean of its {seeds[1]} training seeds)" if seeds else row["a"]
    return (f"{a} reached a mean {metric} of {number(row['mean_a'])} against {number(row['mean_b'])} for "
            f"{row['b']} on the same {int(row['n'])} eval cases ({TASKS[row['task']].title}): difference "
            f"{row['difference']:+.3f} (95 % CI {number(row['ci_low'])} to {number(row['ci_high'])}; simultaneous "
            f"{number(row['ci_low_adjusted'])} to {number(row['ci_high_adjusted'])}), {row['test']}, "
            f"adjusted {p_text(row['p_adjusted'])} ({row['adjustment']}).")


def split_characteristics(cases: pd.DataFrame, split_ids: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per task and split: cases, age, sex, intent (the development vs evaluation comparison); and the first
    task's disease sites (share of cases, %) in its train and eval pairs."""
    from .breakdown import case_groups
    cases = cases.merge(case_groups(cases)[["case_id", "site"]], on="case_id", validate="one_to_one")
    def describe(part: pd.DataFrame) -> dict:
        if part.empty:
            return {"age mean (SD)": "", "male %": "", "curative %": ""}
        sd = f" ({part['age'].std():.1f})" if len(part) > 1 else ""
        return {"age mean (SD)": f"{part['age'].mean():.1f}{sd}",
                "male %": round(100 * (part["sex"] == "male").mean(), 1),
                "curative %": round(100 * (part["intent"] == "curative").mean(), 1)}
    rows = [{"task": task, "split": split, "cases": int(cases["case_id"].isin(ids).sum()),
             **describe(cases[cases["case_id"].isin(ids)])} for (task, split), ids in split_ids.items()]
    first = next(iter(split_ids))[0]
    sites = pd.DataFrame({f"{split} %": (100 * cases.loc[cases["case_id"].isin(split_ids[first, split]), "site"]
                                         .value_counts(normalize=True)).round(1) for split in ("train", "eval")})
    sites = sites.fillna(0).sort_values("train %", ascending=False, kind="stable")
    return pd.DataFrame(rows), sites.rename_axis("site").reset_index()


def data_section(facts: dict, exports: list[str], funnel: pd.DataFrame, cohort: pd.DataFrame,
                 splits: pd.DataFrame, characteristics: pd.DataFrame, sites: pd.DataFrame) -> list[str]:
    lines = ["## Data", ""]
    if facts["synthetic"]:
        lines += ["**These data are synthetic**: the workflow's embedded Aria-like cohort (seeded), not patient "
                  "records. The numbers below show the machinery, not a clinical result.", ""]
    lines += ["Exports (identified by size and sha256; their content is not reproduced here):", "",
              table(pd.DataFrame([fingerprint(p) for p in exports])), "",
              "Curation funnel (every exclusion with its count):", "", table(funnel), "",
              "Cohort beside the paper's:", "", table(cohort), "",
              "Labels are the record's own entries, not annotated for the study: the primary plan's prescription "
              "(regimen), its modality mapped to photon, proton, electron or brachy, and the diagnosis' ICD-10 "
              "code; values no rule maps wait in `data/needs_annotation.csv` for the department's annotation "
              "tables (the funnel counts both).", "",
              f"Pairs per task: eval cases drawn by a seeded hash of the pseudonymised case ID (split seed "
              f"{facts['split_seed']}), the same cases for every predictor; selection pairs drawn with seed "
              f"{facts['selection_seed']} from train pairs no adapter trains on; learned: the train pairs the "
              "adapters train on:", "", table(splits), "",
              "Development and evaluation cases compared:", "", table(characteristics), "",
              "Disease sites (the paper's ICD-10 category of the code) in the "
              f"{in_sentence(TASKS[TASK_ORDER[0]].title)} task's train and eval pairs:", "", table(sites), ""]
    return lines


def models_section(facts: dict, cards: dict) -> list[str]:
    rows = []
    for (model, task), card in cards.items():
        s = card["settings"]
        rows.append({"model": model, "task": task, "prompt format": card["prompt_format"],
                     "training pairs": card["train_pairs"], "validation pairs": card["validation_pairs"],
                     "LoRA r / alpha / dropout": f"{s['lora']['r']} / {s['lora']['alpha']} / {s['lora']['dropout']}",
                     **{k.replace("_", " "): s.get(k) for k in HYPERPARAMETERS},
                     "computed in": card["precision"],
                     "validation loss, vanilla -> fine-tuned": f"{card['vanilla_validation_loss']:.3f} -> "
                                                              f"{card['final_validation_loss']:.3f}"})
    seeds, prompting = facts["seeds"], facts["prompting"]
    tiny = [m for m, spec in facts["models"].items() if spec["tiny"]]
    lines = ["## Models and training", "",
             "Base models, loaded from local directories only (never from a hub):", "",
             table(pd.DataFrame([base_model(m, spec["path"]) for m, spec in facts["models"].items()])), ""]
    if tiny:
        lines += [f"{', '.join(tiny)}: tiny stand-ins of the LLaMA/Mistral architecture, pre-trained by the "
                  "workflow on the run's diagnosis text, not released models.", ""]
    lines += ["Each model is given a task as one user turn of its chat template, the task's instruction followed "
              "by the case's diagnosis text; the answer is the assistant's turn, ended by the end-of-sequence token "
              "that the fine-tuned models learn. Training and prediction render the same template. On an invented "
              "case (not a patient's), the text a fine-tuned model trains on:", "",
              *prompt_examples(facts["models"], facts["instructions"]),
              "Vanilla (zero-shot) prompts are the user turn alone. "
              + (f"The prompting variants ({', '.join(prompting['variants'])}) show the vanilla model "
                 f"{prompting['k']} solved training cases as earlier turns of the same conversation: `fewshot` one "
                 f"seeded draw (seed {prompting['seed']}) for every case, `retrieved` the training cases whose "
                 f"diagnoses are most similar to the case's ({prompting['retriever']}); the solved cases come from "
                 "the train pairs the adapters train on (rows marked *all train pairs*: from every train pair), never "
                 "from the selection or eval pairs. Instructions and "
                 "variants are fixed in the configuration; which variant and temperature enter the comparisons is "
                 "chosen on the selection pairs." if prompting["variants"] else "No prompting variants were run."),
              "",
              f"One LoRA adapter per model and task with TRL's SFT trainer, the loss on the answer tokens; training "
              f"seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))}"
              + (" (the first is the run's adapter; the others are trained on the same pairs)" if len(seeds) > 1
                 else "") + ". Settings as the model cards record them (first seed):", "",
              table(pd.DataFrame(rows)), ""]
    return lines


def inference_section(facts: dict, by_temperature: pd.DataFrame) -> list[str]:
    unparsed = by_temperature.groupby(["model", "variant", "task"], sort=False).agg(
        predictions=("n", "sum"), unparsed=("unparsed", "sum")).reset_index()
    return ["## Inference and parsing", "",
            f"Temperatures {', '.join(map(str, facts['temperatures']))}, one sample per case and temperature (seed "
            f"{facts['seed']} + 1000 x temperature); top-p {facts['top_p']}, top-k {facts['top_k'] or 'off'}; "
            f"generation by the `{facts['backend']}` backend, up to {facts['batch_size']} prompts decoded together, "
            f"precision `{facts['precision']}` (the chosen one in each prediction's log); new tokens at most "
            + ", ".join(f"{t} {n}" for t, n in facts["max_new_tokens"].items())
            + " (fine-tuned and prompted answers stop at the line's end; zero-shot answers at most "
            + ", ".join(f"{t} {n}" for t, n in facts["vanilla_max_new_tokens"].items()) + ").", "",
            "Answers the parsers could not read, over every temperature (counted wrong):", "",
            table(unparsed), ""]


def plan_section(plan: dict) -> list[str]:
    return ["## Analysis plan", "",
            "Pre-specified: written to `analysis_plan.yaml` from the configuration before any eval score existed.", "",
            "- Metrics on the eval cases, against the record's own answer: "
            + "; ".join(f"{TASKS[t].title}: {TASKS[t].metric}" for t in TASK_ORDER)
            + " (the paper's definitions, docs/metrics.md); beside ROUGE-1, the automatic regimen proxy grade from "
            "the dose and fractionation read from each answer. Answers a parser cannot read count as wrong.",
            f"- Primary comparison: {plan['families']['primary']}; secondary: {plan['families']['secondary']}.",
            f"- Adjustment: {plan['plan']['adjust']} within each family; intervals: "
            + "; ".join(f"{k}: {v}" for k, v in plan["intervals"].items()) + ".",
            f"- Settings (temperatures, comparators) chosen on {plan['settings_chosen_on']}.",
            "- Tests: " + "; ".join(f"{k}: {v}" for k, v in plan["tests"].items()) + ".",
            "- Descriptive only: " + "; ".join(plan["descriptive_only"]) + ".", ""]


def site_table(by_group: pd.DataFrame, paired: pd.DataFrame, task: str) -> pd.DataFrame:
    """The headline per disease site of the task's primary comparisons' predictors (their settings chosen on the
    selection pairs), sites with most eval cases first."""
    primary = paired[(paired["family"] == "primary") & (paired["task"] == task)]
    predictors = list(dict.fromkeys([*primary["a"], *primary["b"]]))
    rows = by_group[(by_group["task"] == task) & (by_group["grouping"] == "site")
                    & by_group["predictor"].isin(predictors)]
    wide = rows.pivot_table(index=["group", "n"], columns="predictor", values="headline", sort=False)
    wide = wide[[p for p in predictors if p in wide.columns]].round(3).reset_index()
    return wide.rename(columns={"group": "site", "n": "eval cases"}).sort_values(
        ["eval cases", "site"], ascending=[False, True], kind="stable")


def results_section(table1: pd.DataFrame, ranking: pd.DataFrame, paired: pd.DataFrame, by_group: pd.DataFrame,
                    seeds: pd.DataFrame | None, figures: dict[str, str], curve: pd.DataFrame | None,
                    grading: dict | None) -> list[str]:
    lines = ["## Results", "", "### Primary comparisons", ""]
    primary = paired[paired["family"] == "primary"]
    order = {t: i for i, t in enumerate(TASK_ORDER)}
    for _, row in primary.sort_values("task", key=lambda c: c.map(order), kind="stable").iterrows():
        lines += [f"- {sentence(row, TASKS[row['task']].metric)}"]
    lines += ["", "### Table 1 (the paper's definition: highest and median over the temperature scan on the eval "
              "cases, optimistic)", "", table(table1), "",
              "### Every predictor at its setting chosen on the selection pairs", "",
              table(ranking[["model", "task", "rank", "predictor", "labelled_pairs", "temperature", "headline",
                             "ci_low", "ci_high"]]), ""]
    if seeds is not None:
        lines += ["### Training seeds", "", "Each seed's headline at its temperature chosen on the selection pairs, "
                  "and their spread:", "",
                  table(seeds[["model", "task", "seed", "temperature", "headline", "ci_low", "ci_high",
                               "mean_over_seeds", "sd_over_seeds"]]), ""]
    lines += ["### Errors by disease site", "", "The headline per disease site of the primary comparisons' "
              "predictors (small sites have wide uncertainty; `tables/by_group.csv` has every predictor, intent and "
              "fractionation class):", ""]
    for task in TASK_ORDER:
        if task in set(primary["task"]):
            lines += [f"{TASKS[task].title} ({TASKS[task].metric}):", "", table(site_table(by_group, paired, task)), ""]
    if curve is not None:
        lines += ["### Learning curve", "", "The fine-tuned headline on the eval cases by the number of training "
                  "pairs (nested seeded subsets), beside the prompting variants and baselines given the same pairs:",
                  "", table(curve), "", "![Learning curve](figures/learning_curve.png)", "",
                  "*Learning curve.*", ""]
    lines += ["### Clinicians' grades", ""]
    if grading is None:
        lines += ["Grading pending: no clinician has graded the generated regimens yet (rule grading_sheets issues "
                  "the sheets).", ""]
    else:
        lines += ["The graders, from the Grader sheet of their workbooks:", "", table(grading["raters"]), "",
                  "Grades 1-5 per graded arm and grader, with the acceptable (1-2) and unsafe (4-5) shares and their "
                  "exact intervals:", "", table(grading["grade_distribution"]), "",
                  "Agreement between the graders, and between the automatic proxy grade and each grader:", "",
                  table(grading["agreement"]), "",
                  "Arms compared on the same cases (acceptable: the graders' mean grade at most 2; unsafe: at "
                  "least 4; McNemar's exact test):", "", table(grading["arm_comparisons"]), "",
                  "![Clinicians' grades](grading/figure5ab_human_grades.png)", "", "*Clinicians' grades.*", ""]
    lines += ["### Figures", ""]
    lines += [f"![{caption}](figures/{name}.png)\n\n*{caption}.*\n" for name, caption in figures.items()]
    return lines


PACKAGES = ("snakemake", "torch", "transformers", "peft", "trl", "accelerate", "datasets", "pandas", "scipy",
            "scikit-learn", "rouge-score")


def stage_times(benchmarks: Path) -> pd.DataFrame:
    """Jobs, wall and CPU seconds and the largest memory per stage, from the jobs' `benchmark:` files (the
    further training seeds' and the learning curve's jobs apart)."""
    rows = []
    for path in sorted(benchmarks.rglob("*.tsv")):
        parts = path.relative_to(benchmarks).with_suffix("").parts
        apart = {"seeds": "further seeds", "learning_curve": "learning curve"}
        stage = f"{parts[2]} ({apart[parts[0]]})" if parts[0] in apart else parts[0]
        last = pd.read_csv(path, sep="\t").iloc[-1]
        rows.append({"stage": stage, "wall_s": last["s"], "cpu_s": last["cpu_time"], "max_rss_mb": last["max_rss"]})
    if not rows:
        return pd.DataFrame(columns=["stage", "jobs", "wall s", "CPU s", "largest memory MB"])
    times = pd.DataFrame(rows).groupby("stage", sort=False).agg(
        jobs=("wall_s", "size"), wall=("wall_s", "sum"), cpu=("cpu_s", "sum"), rss=("max_rss_mb", "max"))
    return times.round(0).reset_index().rename(columns={"wall": "wall s", "cpu": "CPU s", "rss": "largest memory MB"})


def compute_section(run_dir: Path, cards: dict, facts: dict, commit: str) -> list[str]:
    from importlib.metadata import PackageNotFoundError, version

    def installed(name):
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    card = next(iter(cards.values()), {})
    return ["## Compute", "",
            f"Workflow commit {commit}; configuration sha256 {facts['config_sha256']}. Adapters trained on "
            f"{card.get('devices', 'n/a')} ({card.get('cpu_bf16_instructions') or 'no bf16 CPU instructions'}); "
            f"the report written on {platform.platform()}, {os.cpu_count()} CPUs.", "",
            "Packages: " + ", ".join(f"{p} {installed(p)}" for p in PACKAGES) + ".", "",
            "Time per stage, from the jobs' benchmark files (a stage's jobs may have run side by side):", "",
            table(stage_times(run_dir / "benchmarks")), ""]


def in_sentence(title: str) -> str:
    """A task's title inside a sentence: 'treatment regimen', 'ICD-10 code'."""
    return title if title[:2].isupper() else title[0].lower() + title[1:]


def summary_section(facts: dict, paired: pd.DataFrame, splits: pd.DataFrame, cases: int) -> list[str]:
    """The study in a paragraph: objective, data, models, design and the primary results (TRIPOD-LLM items 1, 2
    and 4)."""
    tasks = ", ".join(f"{in_sentence(TASKS[t].title)} ({TASKS[t].metric})" for t in facts["tasks"])
    eval_sizes = ", ".join(f"{in_sentence(TASKS[t].title)} {n}" for t, n in zip(splits["task"], splits["eval"]))
    primary = paired[paired["family"] == "primary"]
    results = "; ".join(f"{row['a']} vs {row['b']} ({in_sentence(TASKS[row['task']].title)}): difference "
                        f"{row['difference']:+.3f} (95 % CI {number(row['ci_low'])} to {number(row['ci_high'])}), "
                        f"adjusted {p_text(row['p_adjusted'])}" for _, row in primary.iterrows())
    data = ("the workflow's synthetic Aria-like cohort" if facts["synthetic"]
            else "the department's Aria exports, pseudonymised before anything was written")
    return ["## Summary", "",
            f"**Objective.** To fine-tune open large language models (LoRA) on a radiation-oncology department's "
            f"records and evaluate them against their vanilla bases, prompting with solved cases and classical "
            f"baselines on three tasks: {tasks}, reproducing and extending Mayo Clinic Arizona's study. "
            f"**Data.** {cases} curated cases from {data}. **Models.** {', '.join(facts['models'])}, one adapter "
            f"per task. **Evaluation.** Held-out eval cases ({eval_sizes}), the same for every predictor; settings "
            f"chosen on separate selection pairs; paired tests, adjusted within the pre-specified family. "
            f"**Primary results.** {results}.", ""]


def study_section(study: dict[str, str]) -> list[str]:
    """What the department supplied in config/study.yaml; an empty key stays visibly marked."""
    from .tripod_llm import STUDY_KEYS
    lines = ["## Study information", "", "From `config/study.yaml` (supplied by the department):", ""]
    for key, what in STUDY_KEYS.items():
        lines += [f"- **{what}** (`{key}`): " + (study[key] if study[key] else "**[to supply in config/study.yaml]**")]
    return lines + [""]


def checklist_section(study: dict[str, str], graded: bool) -> list[str]:
    rows = pd.DataFrame(checklist(study, graded))
    open_items = rows["status"].str.startswith("**to supply**").sum()
    return ["## TRIPOD-LLM checklist", "",
            "Each item of the TRIPOD-LLM reporting guideline (Gallifant et al., Nature Medicine 2025) that this "
            "design involves (fine-tuning and evaluating LLMs; human evaluation once graded), paraphrased, with "
            f"where this report answers it. {open_items} item(s) still need `config/study.yaml`.", "",
            table(rows), ""]


def limitations(facts: dict, paired: pd.DataFrame, graded: bool) -> list[str]:
    widths = (paired["ci_high"] - paired["ci_low"])[paired["family"] == "primary"]
    items = []
    if facts["synthetic"]:
        items.append("The data are the synthetic default cohort: no clinical conclusion follows.")
    items.append(f"Eval sets of {int(paired['n'].min())}–{int(paired['n'].max())} cases: the primary comparisons' "
                 f"95 % intervals are {widths.min():.3f}–{widths.max():.3f} wide.")
    if all(spec["tiny"] for spec in facts["models"].values()):
        items.append("The models are tiny stand-ins built offline, far smaller than the paper's 7B models.")
    if not graded:
        items.append("Grading pending: no clinician has graded the generated regimens yet; the regimen results rest "
                     "on ROUGE-1 and the automatic proxy grades.")
    return ["## Limitations", "", *[f"- {item}" for item in items], ""]


def write_study_report(facts: dict, inputs: dict, run_dir: str | Path, markdown_path: str | Path,
                       html_path: str | Path, commit: str = "unknown") -> None:
    """Write the report of the run in `run_dir` from its files (`inputs`: the rule's named inputs; `commit`: the
    workflow's git commit)."""
    from .tables import write_text
    study = read_study(inputs["study"])
    cards = {(card["model"], card["task"]): card for card in (json.loads(Path(f).read_text())
                                                               for f in inputs["cards"])}
    split_ids = {(task, split): pd.read_parquet(inputs[f"{split}_pairs"][i], columns=["case_id"])["case_id"]
                 for i, task in enumerate(facts["tasks"]) for split in ("train", "learned", "selection", "eval")}
    splits = pd.DataFrame([{"task": task, **{split: len(split_ids[task, split])
                                             for split in ("train", "learned", "selection", "eval")}}
                           for task in facts["tasks"]])
    from .breakdown import GROUP_COLUMNS
    cases = pd.read_parquet(inputs["cases"], columns=[*GROUP_COLUMNS, "age", "sex"])
    characteristics, sites = split_characteristics(cases, split_ids)
    paired = pd.read_csv(inputs["paired_tests"])
    curve = pd.read_csv(inputs["curve"][0]).round(3) if inputs["curve"] else None
    # the grading tables by their file names (rule grading_results' outputs), once every grader's sheet is back
    grading = {Path(f).stem: pd.read_csv(f) for f in inputs["grading"] if str(f).endswith(".csv")} or None
    lines = [f"# Study report: fine-tuned and vanilla LLMs for radiation-oncology treatment regimen, modality and "
             f"ICD-10 code, run `{facts['run']}`", "",
             "Every number below is read from this run's files; the checklist at the end says where each "
             "TRIPOD-LLM item is answered.", "",
             *summary_section(facts, paired, splits, len(cases)),
             *data_section(facts, inputs["exports"], pd.read_csv(inputs["funnel"]), pd.read_csv(inputs["cohort"]),
                           splits, characteristics, sites),
             *models_section(facts, cards),
             *inference_section(facts, pd.read_csv(inputs["metrics_by_temperature"])),
             *plan_section(yaml.safe_load(Path(inputs["plan"]).read_text())),
             *results_section(pd.read_csv(inputs["table1"]), pd.read_csv(inputs["ranking"]), paired,
                              pd.read_csv(inputs["by_group"]),
                              pd.read_csv(inputs["seeds"][0]) if inputs["seeds"] else None, FIGURES, curve, grading),
             *compute_section(Path(run_dir), cards, facts, commit),
             *limitations(facts, paired, grading is not None),
             *study_section(study),
             *checklist_section(study, grading is not None)]
    text = "\n".join(lines)
    write_text(text, markdown_path)
    write_text(html_page(text, Path(run_dir), facts["run"]), html_path)


def html_page(markdown_text: str, run_dir: Path, title: str) -> str:
    """The report as one HTML page: its figures embedded as data URIs, so that it opens anywhere offline."""
    import markdown
    body = markdown.markdown(markdown_text, extensions=["tables", "fenced_code", "toc"])

    def embedded(match):
        data = base64.b64encode((run_dir / match[1]).read_bytes()).decode()
        return f'src="data:image/png;base64,{data}"'

    body = re.sub(r'src="([\w/.-]+\.png)"', embedded, body)
    style = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45}"
             "table{border-collapse:collapse;margin:.5rem 0;font-size:.85rem}"
             "td,th{border:1px solid #bbb;padding:.2rem .45rem;text-align:left}th{background:#eee}"
             "img{max-width:100%}pre{white-space:pre-wrap;background:#f4f4f4;padding:.5rem;font-size:.8rem}"
             "@media print{h2{page-break-before:always}}")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Study report: {title}</title>'
            f"<style>{style}</style></head><body>\n{body}\n</body></html>\n")
