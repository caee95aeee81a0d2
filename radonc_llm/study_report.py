"""The study report of a run (rule study_report): what data went in, what was done to it and what came out,
written from the run's own files only, as Markdown and as one self-contained HTML page (figures embedded,
opens offline, prints from a browser). It holds counts, settings, metrics and file fingerprints, never a
diagnosis, a regimen or a patient ID."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import platform
import re
from pathlib import Path

import pandas as pd
import yaml

from .tasks import ORDER as TASK_ORDER
from .tasks import TASKS

FIGURES = {"figure3_highest_median": "Figure 3: highest and median headline over the temperature scan (the paper's)",
           "paired_differences": "Per-case paired differences at the settings chosen on the selection pairs",
           "by_site": "Headline by disease site"}
HYPERPARAMETERS = ("learning_rate", "lr_scheduler", "warmup_ratio", "epochs", "batch_size", "gradient_accumulation",
                   "max_length", "max_train_pairs")


def fingerprint(path: str | Path) -> dict:
    """An export's name, size and sha256: what identifies the data without showing any of it."""
    data = Path(path).read_bytes()
    return {"file": Path(path).name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


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


def data_section(facts: dict, exports: list[str], funnel: pd.DataFrame, cohort: pd.DataFrame,
                 splits: pd.DataFrame) -> list[str]:
    lines = ["## Data", ""]
    if facts["synthetic"]:
        lines += ["**These data are synthetic**: the workflow's embedded Aria-like cohort (seeded), not patient "
                  "records. The numbers below show the machinery, not a clinical result.", ""]
    lines += ["Exports (identified by size and sha256; their content is not reproduced here):", "",
              table(pd.DataFrame([fingerprint(p) for p in exports])), "",
              "Curation funnel (every exclusion with its count):", "", table(funnel), "",
              "Cohort beside the paper's:", "", table(cohort), "",
              f"Pairs per task (split seed {facts['split_seed']}; selection pairs drawn with seed "
              f"{facts['selection_seed']} from train pairs no adapter trains on):", "", table(splits), ""]
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
    seeds = facts["seeds"]
    return ["## Models and training", "",
            "Base models: " + "; ".join(f"{m} ({spec})" for m, spec in facts["models"].items()) + ".", "",
            f"One LoRA adapter per model and task with TRL's SFT trainer, the loss on the answer tokens; training "
            f"seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))}"
            + (" (the first is the run's adapter; the others are trained on the same pairs)" if len(seeds) > 1
               else "") + ". Settings as the model cards record them (first seed):", "",
            table(pd.DataFrame(rows)), ""]


def inference_section(facts: dict, by_temperature: pd.DataFrame) -> list[str]:
    unparsed = by_temperature.groupby(["model", "variant", "task"], sort=False).agg(
        predictions=("n", "sum"), unparsed=("unparsed", "sum")).reset_index()
    return ["## Inference and parsing", "",
            f"Temperatures {', '.join(map(str, facts['temperatures']))}, one seeded sample per case and temperature; "
            f"top-p {facts['top_p']}, top-k {facts['top_k'] or 'off'}; new tokens at most "
            + ", ".join(f"{t} {n}" for t, n in facts["max_new_tokens"].items())
            + " (fine-tuned and prompted answers stop at the line's end; zero-shot answers at most "
            + ", ".join(f"{t} {n}" for t, n in facts["vanilla_max_new_tokens"].items()) + ").", "",
            "Answers the parsers could not read, over every temperature (counted wrong):", "",
            table(unparsed), ""]


def plan_section(plan: dict) -> list[str]:
    return ["## Analysis plan (pre-specified)", "",
            "Written to `analysis_plan.yaml` from the configuration before any eval score existed:", "",
            f"- Primary comparison: {plan['families']['primary']}; secondary: {plan['families']['secondary']}.",
            f"- Adjustment: {plan['plan']['adjust']} within each family; intervals: "
            + "; ".join(f"{k}: {v}" for k, v in plan["intervals"].items()) + ".",
            f"- Settings (temperatures, comparators) chosen on {plan['settings_chosen_on']}.",
            "- Tests: " + "; ".join(f"{k}: {v}" for k, v in plan["tests"].items()) + ".",
            "- Descriptive only: " + "; ".join(plan["descriptive_only"]) + ".", ""]


def results_section(table1: pd.DataFrame, ranking: pd.DataFrame, paired: pd.DataFrame,
                    seeds: pd.DataFrame | None, figures: dict[str, str]) -> list[str]:
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


def limitations(facts: dict, paired: pd.DataFrame, graded: bool) -> list[str]:
    widths = (paired["ci_high"] - paired["ci_low"])[paired["family"] == "primary"]
    items = []
    if facts["synthetic"]:
        items.append("The data are the synthetic default cohort: no clinical conclusion follows.")
    items.append(f"Eval sets of {int(paired['n'].min())}–{int(paired['n'].max())} cases: the primary comparisons' "
                 f"95 % intervals are {widths.min():.3f}–{widths.max():.3f} wide.")
    if facts["tiny"]:
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
    cards = {(card["model"], card["task"]): card for card in (json.loads(Path(f).read_text())
                                                               for f in inputs["cards"])}
    splits = pd.DataFrame([{"task": task, **{split: len(pd.read_parquet(inputs[f"{split}_pairs"][i],
                                                                         columns=["case_id"]))
                                             for split in ("train", "learned", "selection", "eval")}}
                           for i, task in enumerate(facts["tasks"])])
    paired = pd.read_csv(inputs["paired_tests"])
    lines = [f"# Study report: run `{facts['run']}`", "",
             "Fine-tuned open LLMs against their vanilla bases, prompting variants and classical baselines on three "
             "radiation-oncology tasks (treatment regimen, modality, ICD-10 code), reproducing and extending "
             "Mayo Clinic Arizona's study. Every number below is read from this run's files.", "",
             *data_section(facts, inputs["exports"], pd.read_csv(inputs["funnel"]), pd.read_csv(inputs["cohort"]),
                           splits),
             *models_section(facts, cards),
             *inference_section(facts, pd.read_csv(inputs["metrics_by_temperature"])),
             *plan_section(yaml.safe_load(Path(inputs["plan"]).read_text())),
             *results_section(pd.read_csv(inputs["table1"]), pd.read_csv(inputs["ranking"]), paired,
                              pd.read_csv(inputs["seeds"][0]) if inputs["seeds"] else None, FIGURES),
             *compute_section(Path(run_dir), cards, facts, commit),
             *limitations(facts, paired, facts["graded"])]
    text = "\n".join(lines)
    write_text(text, markdown_path)
    write_text(html_page(text, Path(run_dir), facts["run"]), html_path)


def html_page(markdown_text: str, run_dir: Path, title: str) -> str:
    """The report as one HTML page: its figures embedded as data URIs, so that it opens anywhere offline."""
    import markdown
    body = markdown.markdown(markdown_text, extensions=["tables"])

    def embedded(match):
        data = base64.b64encode((run_dir / match[1]).read_bytes()).decode()
        return f'src="data:image/png;base64,{data}"'

    body = re.sub(r'src="(figures/[^"]+\.png)"', embedded, body)
    style = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45}"
             "table{border-collapse:collapse;margin:.5rem 0;font-size:.85rem}"
             "td,th{border:1px solid #bbb;padding:.2rem .45rem;text-align:left}th{background:#eee}"
             "img{max-width:100%}@media print{h2{page-break-before:always}}")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Study report: {title}</title>'
            f"<style>{style}</style></head><body>\n{body}\n</body></html>\n")
