"""The paper's three tasks in one registry: what each is called, how its answer is read and scored. Every module
that needs a task's name, metric, answer parser or labels reads them here (the prompt's instruction and the
answer's token budget are settings: `tasks.<task>.instruction`, `predict.max_new_tokens` in the config)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .modality import LABELS
from .parsing import parse_icd10, parse_modality, parse_regimen


@dataclass(frozen=True)
class Task:
    name: str
    title: str  # in tables and figures
    headline: str  # the metrics column of the paper's metric
    metric: str  # its name in tables and figures
    parse: Callable[[str], str]  # generated text -> the answer, or 'unparsed'
    average: str | None = None  # how P/R/F1 average over the classes (classification tasks): weighted | macro
    labels: tuple[str, ...] | None = None  # the only answers there are; None: free text or any ICD-10 code


TASKS = {t.name: t for t in (
    Task("regimen", "Treatment regimen", "rouge1_recall", "ROUGE-1", parse_regimen),
    Task("modality", "Treatment modality", "accuracy", "accuracy", parse_modality, "weighted", LABELS),
    Task("icd10", "ICD-10 code", "accuracy", "accuracy (main category)", parse_icd10, "macro"),
)}
ORDER = list(TASKS)  # the paper's order, in every table and figure
