"""The paper's three tasks in one registry: what each is called, where its answer comes from, how the answer is
read and scored. Every module reads what differs between tasks here, from the task's fields, and never branches
on a task's name (the prompt's instruction and the answer's token budget are settings: `tasks.<task>.instruction`,
`predict.max_new_tokens` in the config)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pandas as pd

from .modality import LABELS
from .parsing import parse_icd10, parse_modality, regimen_text


@dataclass(frozen=True)
class Task:
    name: str
    title: str  # in tables and figures
    headline: str  # the metrics column of the paper's metric
    metric: str  # its name in tables and figures
    parse: Callable[[str], str]  # generated text -> the answer, or 'unparsed'
    answer: str  # the column the answer comes from: of the curated cases, or of the labels table (`labelled`)
    average: str | None = None  # how P/R/F1 average over the classes; None: free text (ROUGE-1 and proxy grade)
    labels: tuple[str, ...] | None = None  # the only answers there are; None: free text or any ICD-10 code
    labelled: bool = False  # answers from the annotated labels (rule modality_labels), not the curated cases
    coded: bool = False  # ICD-10 codes: cases with a valid code only, scored on the main category
    baselines: tuple[str, ...] = ()  # the classical baselines fitted to it (baselines.py)
    emptied_by: str = ""  # the curation step, and the export's columns, that decide whether a case has an answer

    @property
    def classifies(self) -> bool:
        """Right or wrong per case (accuracy, P/R/F1, McNemar); else a free-text score per case (ROUGE-1,
        Wilcoxon over cases, the automatic regimen grade)."""
        return self.average is not None

    def in_pool(self, cases: pd.DataFrame) -> pd.Series:
        """Which curated cases can be this task's pairs (ICD-10: a valid code)."""
        return cases["icd10_status"] == "valid" if self.coded else pd.Series(True, index=cases.index)


TASKS = {t.name: t for t in (
    Task("regimen", "Treatment regimen", "rouge1_recall", "ROUGE-1", regimen_text, "regimen",
         baselines=("nearest-neighbour",), emptied_by="step 2 (exactly one primary plan; the plans' columns "
         "plan_type, total_dose_gy, n_fractions)"),
    Task("modality", "Treatment modality", "accuracy", "accuracy", parse_modality, "modality", "weighted", LABELS,
         labelled=True, baselines=("majority", "tfidf-logreg"), emptied_by="step 5 (modality standardised; the "
         "plans' column modality, and the modality annotation table)"),
    Task("icd10", "ICD-10 code", "accuracy", "accuracy (main category)", parse_icd10, "icd10", "macro",
         coded=True, baselines=("majority", "tfidf-logreg"), emptied_by="step 6 (valid ICD-10 code; the diagnoses' "
         "columns icd_code and icd_scheme)"),
)}
ORDER = list(TASKS)  # the paper's order, in every table and figure
CLASSIFYING = [t for t in ORDER if TASKS[t].classifies]
FREE_TEXT = [t for t in ORDER if not TASKS[t].classifies]
