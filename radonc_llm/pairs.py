"""Prompt/answer pairs per task and their train/eval splits."""
from __future__ import annotations

import hashlib
import logging

import pandas as pd

from .errors import UserError
from .tasks import TASKS

log = logging.getLogger(__name__)

PAIR_COLUMNS = ("case_id", "prompt", "answer", "diagnosis")


def resolve_modality(cases: pd.DataFrame, overrides: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply manual modality overrides: return (labels, needs_annotation).

    labels: case_id, modality (None while unresolved), source ('rule', 'annotation', 'unresolved').
    An override wins over the rule, so an annotator can also correct a mapped value.
    """
    labels = cases[["case_id", "modality_raw", "modality_mapped"]].copy()
    manual = overrides.set_index("case_id")["modality"] if len(overrides) else pd.Series(dtype=str)
    from_manual = labels["case_id"].map(manual).astype(object)
    labels["modality"] = from_manual.fillna(labels["modality_mapped"])
    labels["source"] = "rule"
    labels.loc[from_manual.notna(), "source"] = "annotation"
    labels.loc[labels["modality"].isna(), "source"] = "unresolved"
    unknown = int((~manual.index.isin(labels["case_id"])).sum())
    if unknown:
        log.warning("%d modality override row(s) name no curated case", unknown)
    todo = labels["source"] == "unresolved"
    needs = cases.loc[todo.values, ["case_id", "modality_raw", "diagnosis", "prescription"]].copy()
    needs.insert(1, "reason", "modality value maps to no standard label")
    needs["modality"] = ""  # to fill in and copy into the overrides table
    log.info("modality: %d by rule, %d by annotation, %d awaiting annotation",
             (labels["source"] == "rule").sum(), (labels["source"] == "annotation").sum(), todo.sum())
    return labels[["case_id", "modality_raw", "modality", "source"]], needs.reset_index(drop=True)


def task_table(task: str, cases: pd.DataFrame, labels: pd.DataFrame | None = None) -> pd.DataFrame:
    """case_id, diagnosis, answer for every case that belongs to `task`: in its pool, with an answer (for a task
    with fixed labels, one of them: a modality awaiting annotation has none). `labels`: the annotated labels
    table, for a `labelled` task."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; tasks are {', '.join(TASKS)}")
    spec = TASKS[task]
    table = cases[spec.in_pool(cases)]
    table = table.assign(answer=table["case_id"].map(labels.set_index("case_id")[spec.answer]) if spec.labelled
                         else table[spec.answer])
    if spec.labels:
        table = table[table["answer"].isin(spec.labels)]
    return table[["case_id", "diagnosis", "answer"]].reset_index(drop=True)


def check_not_empty(task: str, table: pd.DataFrame) -> None:
    """A task that curation left without a case stops here, naming the curation step and the export's columns
    that emptied it (not the split that would fail next)."""
    if table.empty:
        raise UserError(f"task {task} has no cases: curation dropped every case at {TASKS[task].emptied_by}; "
                        "data/curation_funnel.csv says why")


def eval_count(size: float, pool: int) -> int:
    """A count (>= 1) is taken as is; a fraction (0 < size < 1) of the pool is rounded."""
    n = int(round(size * pool)) if 0 < size < 1 else int(size)
    if n < 1 or n >= pool:
        raise ValueError(f"split.eval_size {size} leaves no cases for {'eval' if n < 1 else 'training'}"
                         f" (the task has {pool} cases)")
    return n


def split_rank(case_ids: pd.Series, seed: int) -> pd.Series:
    """A seeded random order that does not change when other cases come or go."""
    return case_ids.map(lambda c: hashlib.sha256(f"{seed}:{c}".encode()).hexdigest())


def pair_prompt(instruction: str, diagnosis):
    """A pair's prompt: the task's instruction, then the case's diagnosis text (a string or a Series of them)."""
    return instruction.strip() + " " + diagnosis


def split_pairs(table: pd.DataFrame, pool: pd.Series, size: float, seed: int, instruction: str):
    """Return (train, eval) pairs: eval = the first cases of the pool in seeded order that are in `table`.

    Tasks that share a pool (regimen and modality: all curated cases) share their eval cases.
    """
    n_eval = eval_count(size, len(pool))
    ranked = pool.iloc[split_rank(pool, seed).argsort(kind="stable").values]
    eval_ids = set(ranked.iloc[:n_eval])
    pairs = table.assign(prompt=pair_prompt(instruction, table["diagnosis"]))[list(PAIR_COLUMNS)]
    pairs = pairs.sort_values("case_id").reset_index(drop=True)
    in_eval = pairs["case_id"].isin(eval_ids)
    if in_eval.sum() < n_eval:
        log.warning("%d eval case(s) of the pool are not in this task (e.g. modality awaiting annotation)",
                    n_eval - int(in_eval.sum()))
    log.info("%d train and %d eval pairs", int((~in_eval).sum()), int(in_eval.sum()))
    return pairs[~in_eval].reset_index(drop=True), pairs[in_eval].reset_index(drop=True)


def eval_pool(task: str, cases: pd.DataFrame) -> pd.Series:
    """The case IDs a task's eval cases are drawn from (tasks with the same pool share their eval cases)."""
    return cases.loc[TASKS[task].in_pool(cases), "case_id"]
