"""What each Snakemake rule runs: read its inputs, call the package, write its outputs.

Each function takes the `snakemake` object that a `script:` directive provides. Logs carry
counts only: never a patient ID or diagnosis text.
"""
from __future__ import annotations

import contextlib
import logging

import pandas as pd

from . import cohort, pairs
from .curate import curate
from .modality import LABELS
from .pseudonym import resolve_key
from .synthetic import write_cohort
from .tables import ExportError, read_annotation, read_export, write_csv, write_parquet

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
    except ExportError as err:  # our own messages name file, column and line only
        root.error("%s", err)
        raise
    except Exception as err:  # a library's message may quote a cell (an ID, a diagnosis): keep it out of the log
        root.error("failed with %s (message withheld from the log; see the console)", type(err).__name__)
        raise
    finally:
        root.removeHandler(handler)
        handler.close()


def synthetic_cohort(smk) -> None:
    with logged(smk) as log:
        write_cohort(smk.params.n_patients, smk.params.seed, smk.output.diagnoses, smk.output.plans)
        log.info("wrote a synthetic cohort of %d patients (seed %d)", smk.params.n_patients, smk.params.seed)


def curate_cases(smk) -> None:
    with logged(smk) as log:
        columns = smk.params.columns
        diagnoses = read_export(smk.input.diagnoses, "diagnoses", columns.get("diagnoses"))
        plans = read_export(smk.input.plans, "plans", columns.get("plans"))
        separations = read_annotation(smk.input.text_separations, TEXT_SEPARATION_COLUMNS)
        key = resolve_key(smk.config["pseudonym"])
        cases, steps = curate(diagnoses, plans, key, separations, smk.params.synonyms)
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
