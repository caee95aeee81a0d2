"""The TRIPOD-LLM checklist (Gallifant et al., Nature Medicine 2025; tripod-llm.vercel.app) as this workflow's
design answers it: a study that fine-tunes open LLMs and evaluates them against their vanilla bases, prompting
variants and classical baselines, with clinicians' grades once they are returned (human evaluation).

Every item or sub-item is answered in one of three ways: a section of the study report (written from the run),
a key of `config/study.yaml` that only the department can supply (ethics approval, funding, raters ...), or not
applicable, with the reason. The item texts are short paraphrases; the checklist itself is the reference.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

# What only the department can say, one key per answer (config/study.yaml holds them all, empty at first).
STUDY_KEYS = {
    "background": "The clinical context and rationale, with references to existing approaches and models",
    "intended_use": "The target population, intended use in the care pathway, intended users, level of autonomy "
                    "and human oversight",
    "data_period": "The institution(s) and department(s), and the dates of the oldest and newest record in the "
                   "training and in the eval data",
    "annotators": "Who corrected the annotation tables (modality, ICD-10, plan text), how many, their background",
    "raters": "The clinicians who graded the regimens: number, roles, years of practice, instructions given",
    "ethics_approval": "Ethics committee or IRB, approval number, and consent or its waiver",
    "funding": "Sources of funding and the funders' role",
    "conflicts_of_interest": "Conflicts of interest and financial disclosures of all authors",
    "protocol": "Where the study protocol can be read, or that none was prepared",
    "registration": "Registry name and number, or that the study was not registered",
    "data_availability": "Whether and how the study data can be obtained",
    "code_availability": "Where the code (this workflow at the commit under Compute) and configuration can be had",
    "public_involvement": "Patient and public involvement in design, conduct, reporting, or that there was none",
    "interpretation": "The authors' interpretation of the results, including fairness, against previous studies",
    "data_challenges": "Known challenges of the data for this task: representation, missingness, harmonisation, bias",
    "input_handling": "How poor-quality or missing input should be detected and handled in use",
    "users": "Whether users interact with the input or the model, and the expertise they need",
    "next_steps": "Next steps for research, towards applicability and generalisability",
}


@dataclass(frozen=True)
class Item:
    number: str
    topic: str
    text: str
    section: str | None = None  # answered in this section of the report
    study: str | None = None  # or by this key of config/study.yaml
    na: str | None = None  # or not applicable, for this reason
    graded: bool = False  # applies once clinicians' grades are returned (human evaluation); pending until then


ITEMS = (
    Item("1", "Title", "Identify the study as fine-tuning and/or evaluating an LLM; task, population, outcome",
         section="Summary"),
    Item("2", "Abstract", "A structured summary (TRIPOD-LLM for Abstracts)", section="Summary"),
    Item("3a", "Background", "Healthcare context, use case and rationale, with references to existing approaches",
         study="background"),
    Item("3b", "Background", "Target population, intended use in the care pathway and intended users",
         study="intended_use"),
    Item("4", "Objectives", "Objectives: development, fine-tuning and/or evaluation", section="Summary"),
    Item("5a", "Data", "Sources of the training, tuning and evaluation data and why they were used", section="Data"),
    Item("5b", "Data", "The data points, their distribution and descriptors", section="Data"),
    Item("5c", "Data", "Dates of the oldest and newest text in development and evaluation data", study="data_period"),
    Item("5d", "Data", "Pre-processing and quality checks", section="Data"),
    Item("5e", "Data", "Handling of missing and imbalanced data; reasons for omitted data", section="Data"),
    Item("6a", "Analytical methods", "LLM name, version and date of training or use", section="Models and training"),
    Item("6b", "Analytical methods", "Architecture, building steps, hyperparameter tuning, prompt engineering and "
         "inference settings", section="Models and training"),
    Item("6c", "Analytical methods", "Development from text input to output: training, fine-tuning, alignment",
         section="Models and training"),
    Item("6d", "Analytical methods", "Initial and post-processed output of the LLM", section="Inference and parsing"),
    Item("6e", "Analytical methods", "Classification: how classes were derived, thresholds",
         section="Inference and parsing"),
    Item("6f", "Analytical methods", "Metrics of the quality of generated text against a gold standard",
         section="Analysis plan"),
    Item("6g", "Analytical methods", "Relevance of the metrics to the downstream task; correlation with human "
         "evaluation", section="Clinicians' grades", graded=True),
    Item("7a", "LLM output", "The outcome, how predictions were computed, and the evaluation metrics",
         section="Analysis plan"),
    Item("7b", "LLM output", "Subjective assessment: assessors' qualifications, instructions, agreement",
         study="raters", graded=True),
    Item("7c", "LLM output", "How performance was compared with other LLMs, humans and baselines",
         section="Analysis plan"),
    Item("8a", "Annotation", "How the text was labelled", section="Data"),
    Item("8b", "Annotation", "How many annotators, and what share was labelled by more than one", study="annotators"),
    Item("8c", "Annotation", "Annotators' background and experience; inter-annotator agreement", study="annotators"),
    Item("9a", "Prompting", "How prompts were designed, curated and selected", section="Models and training"),
    Item("9b", "Prompting", "The data used to develop the prompts", section="Models and training"),
    Item("10", "Summarisation", "Pre-processing before summarisation",
         na="no task of this study summarises text"),
    Item("11", "Instruction tuning", "The instructions used, and the evaluation interface and its population",
         section="Models and training"),
    Item("12", "Compute", "Compute required: time and machines", section="Compute"),
    Item("13", "Ethics", "Ethics committee approval and consent or waiver", study="ethics_approval"),
    Item("14a", "Open science", "Funding and the funders' role", study="funding"),
    Item("14b", "Open science", "Conflicts of interest", study="conflicts_of_interest"),
    Item("14c", "Open science", "Where the protocol can be accessed", study="protocol"),
    Item("14d", "Open science", "Registration", study="registration"),
    Item("14e", "Open science", "Availability of the study data", study="data_availability"),
    Item("14f", "Open science", "Availability of the code", study="code_availability"),
    Item("15", "Public involvement", "Patient and public involvement", study="public_involvement"),
    Item("16a", "Participants", "Flow of records through the study, with and without each label", section="Data"),
    Item("16b", "Participants", "Characteristics overall and per development and evaluation split", section="Data"),
    Item("16c", "Participants", "Distribution of important predictors in development vs evaluation data",
         section="Data"),
    Item("16d", "Participants", "Number of cases and outcomes in each analysis", section="Data"),
    Item("17", "Performance", "Performance on the pre-specified metrics and human evaluation", section="Results"),
    Item("18", "LLM updating", "Results of any updating of the LLM",
         na="no model was updated after its evaluation"),
    Item("19a", "Interpretation", "Overall interpretation, including fairness, against previous studies",
         study="interpretation"),
    Item("19b", "Limitations", "Limitations: biases, statistical uncertainty, generalisability",
         section="Limitations"),
    Item("19c", "Usability", "Known challenges of the data: representation, missingness, harmonisation, bias",
         study="data_challenges"),
    Item("19d", "Usability", "Intended use: input, end user, autonomy and human oversight", study="intended_use"),
    Item("19e", "Usability", "Handling of poor-quality or missing input in use", study="input_handling"),
    Item("19f", "Usability", "Users' interaction and the expertise they need", study="users"),
    Item("19g", "Usability", "Next steps for research", study="next_steps"),
)


def read_study(path: str | Path) -> dict[str, str]:
    """config/study.yaml: every key of STUDY_KEYS, each a text or empty. An unknown key (a typo would leave its
    item silently unanswered) or a value that is not text is an error naming the file and the key."""
    path = Path(path)
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected one key per line (key: text), found {type(data).__name__}")
    unknown = sorted(set(data) - set(STUDY_KEYS))
    if unknown:
        raise ValueError(f"{path}: unknown key {', '.join(map(repr, unknown))}; the keys are "
                         f"{', '.join(STUDY_KEYS)}")
    study = {}
    for key in STUDY_KEYS:
        value = data.get(key)
        if value is not None and not isinstance(value, (str, int, float)):
            raise ValueError(f"{path}: key {key!r} must be text, found {type(value).__name__}")
        study[key] = "" if value is None else str(value).strip()
    return study


def anchor(section: str) -> str:
    """The HTML id Markdown's toc extension gives a heading (as GitHub does for its Markdown)."""
    from markdown.extensions.toc import slugify
    return slugify(section, "-")


def status(item: Item, study: dict[str, str], graded: bool) -> str:
    """Where the report answers `item`, what the department must still supply, or why it does not apply."""
    if item.graded and not graded:
        return "not applicable yet: grading pending (no clinician has graded the regimens)"
    if item.na:
        return f"not applicable: {item.na}"
    if item.study:
        if study.get(item.study):
            return f"answered in [Study information](#{anchor('Study information')}) (`{item.study}`)"
        return f"**to supply**: `{item.study}` in config/study.yaml"
    return f"answered in [{item.section}](#{anchor(item.section)})"


def checklist(study: dict[str, str], graded: bool) -> list[dict]:
    """One row per item: number, topic, what it asks, and its status in this run's report."""
    return [{"item": item.number, "topic": item.topic, "asks": item.text, "status": status(item, study, graded)}
            for item in ITEMS]
