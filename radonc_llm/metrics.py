"""Per-case scores of one prediction file and their summary, with the paper's definitions.

Task 1 (regimen): ROUGE-1 from `rouge-score` against the physician's regimen. The paper's footnote
defines ROUGE-1 as overlapping unigrams over the *reference's* unigrams, which is what rouge-score
calls recall (its precision divides by the generated unigrams); all three are reported and the
headline is the recall, the paper's formula. Task 2 (modality): accuracy and weighted P/R/F1.
Task 3 (ICD-10): accuracy on the main category (three characters before the dot) and macro
P/R/F1 over the main categories. `unparsed` answers always count as wrong.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pandas as pd

from .icd10 import main_category
from .parsing import UNPARSED
from .stats import bootstrap_ci, proportion_ci
from .regimen import WINDOW, Window
from .tasks import CLASSIFYING, TASKS
from .variants import temperature_name

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Scoring:
    """How a run scores its answers (the `scoring` param of rules score and baselines): the alpha/beta of
    EQD2 (metrics.alpha_beta), the bootstrap of each headline's CI (metrics.bootstrap), and the clinical window
    the regimen reader reads courses within (curation.window: the one curation kept the courses by)."""
    alpha_beta: float = 10.0
    window: Window = WINDOW
    bootstrap: dict = field(default_factory=lambda: {"resamples": 1000, "seed": 0, "confidence": 0.95})

    @classmethod
    def from_params(cls, params: dict) -> Scoring:
        """From the rules' `scoring` param (`params(config)`)."""
        return cls(params["alpha_beta"], Window(**params["window"]), dict(params["bootstrap"]))

    @staticmethod
    def params(config: dict) -> dict:
        """What of a run's config scoring reads, as plain values (a rule's param)."""
        return {"alpha_beta": config["metrics"]["alpha_beta"], "window": dict(config["curation"]["window"]),
                "bootstrap": dict(config["metrics"]["bootstrap"])}

    @classmethod
    def from_config(cls, config: dict) -> Scoring:
        return cls.from_params(cls.params(config))


def rouge1(references, generated) -> pd.DataFrame:
    """ROUGE-1 precision, recall and F1 per pair (rouge-score's tokenizer: lower case, alphanumeric)."""
    from rouge_score import rouge_scorer
    scorer = rouge_scorer.RougeScorer(["rouge1"])
    rows = [scorer.score(ref, gen)["rouge1"] for ref, gen in zip(references, generated)]
    return pd.DataFrame([(r.precision, r.recall, r.fmeasure) for r in rows],
                        columns=["rouge1_precision", "rouge1_recall", "rouge1_f1"])


def score_cases(task: str, pairs: pd.DataFrame, predictions: pd.DataFrame,
                scoring: Scoring = Scoring()) -> pd.DataFrame:
    """One row per eval case: truth, prediction and the case's score (1/0 or ROUGE-1); for the
    regimen also the parsed doses, fractions, modalities, classes and the proxy grade."""
    table = pairs[["case_id", "answer"]].rename(columns={"answer": "truth"}).merge(
        predictions[["case_id", "temperature", "answer"]].rename(columns={"answer": "predicted"}),
        on="case_id", how="left", validate="one_to_one")
    if table["predicted"].isna().any():
        raise ValueError(f"{int(table['predicted'].isna().sum())} eval cases have no prediction")
    spec = TASKS[task]
    if not spec.classifies:
        from .regimen import compare
        proxy = pd.DataFrame([compare(t, g, scoring.alpha_beta, scoring.window)
                              for t, g in zip(table["truth"], table["predicted"])])
        table = pd.concat([table, rouge1(table["truth"], table["predicted"]), proxy], axis=1)
        table["proxy_grade"] = table["proxy_grade"].astype("Int64")
        table["score"] = table[spec.headline]
        return table
    if spec.coded:
        from .icd10 import icd10_category
        table["truth"] = table["truth"].map(main_category)
        table["predicted"] = table["predicted"].map(lambda c: c if c == UNPARSED else main_category(c))
        table["truth_category"] = table["truth"].map(icd10_category)
        table["predicted_category"] = table["predicted"].map(
            lambda c: UNPARSED if c == UNPARSED else icd10_category(c))
    table["score"] = (table["truth"] == table["predicted"]).astype(float)
    return table


def class_labels(task: str, cases: pd.DataFrame) -> list[str]:
    """The classes P/R/F1 average over, the same for every predictor of a task: its labels (the four
    modalities); for ICD-10 the main categories of the eval cases' truth. A prediction outside them (a valid
    category no eval case has, or `unparsed`) is a miss of the case's own class and adds no class of its own, so
    a wrong answer never weighs more, or less, than no answer."""
    if TASKS[task].labels:
        return list(TASKS[task].labels)
    return sorted(set(cases["truth"]))


def per_class(task: str, cases: pd.DataFrame) -> pd.DataFrame:
    """Precision, recall, F1 and support per class (scikit-learn)."""
    from sklearn.metrics import precision_recall_fscore_support
    labels = class_labels(task, cases)
    p, r, f, n = precision_recall_fscore_support(cases["truth"], cases["predicted"], labels=labels,
                                                 zero_division=0)
    return pd.DataFrame({"label": labels, "precision": p, "recall": r, "f1": f, "support": n})


def averaged(task: str, cases: pd.DataFrame) -> dict:
    """Precision, recall and F1 averaged the paper's way: weighted for modality, macro for ICD-10."""
    from sklearn.metrics import precision_recall_fscore_support
    p, r, f, _ = precision_recall_fscore_support(cases["truth"], cases["predicted"], average=TASKS[task].average,
                                                 labels=class_labels(task, cases), zero_division=0)
    return {"precision": float(p), "recall": float(r), "f1": float(f)}


def proxy_summary(cases: pd.DataFrame) -> dict:
    """The automatic regimen comparison of one prediction file: the share of each proxy grade (of the
    cases whose physician regimen could be read), exact total-dose, fraction and modality matches,
    and the median |delta EQD2| (Gy) where both doses could be read."""
    graded = cases["proxy_grade"].dropna()
    shares = {f"proxy_grade_{g}": float((graded == g).mean()) if len(graded) else float("nan") for g in range(1, 6)}
    return {"proxy_graded": int(len(graded)), **shares,
            "proxy_grade_1_2": shares["proxy_grade_1"] + shares["proxy_grade_2"],
            "dose_match": float(cases["dose_match"].mean()), "fractions_match": float(cases["fractions_match"].mean()),
            "modality_match": float(cases["modality_match"].mean()),
            "median_abs_delta_eqd2": float(cases["abs_delta_eqd2"].astype(float).median())}


def summarise(task: str, cases: pd.DataFrame, bootstrap_settings: dict) -> dict:
    """Every metric of one prediction file, the headline's CI, n and the unparsed count."""
    row = {"n": len(cases), "unparsed": int((cases["predicted"] == UNPARSED).sum())}
    if TASKS[task].classifies:
        row["accuracy"] = cases["score"].mean()
        row |= {f"{k}_{TASKS[task].average}": v for k, v in averaged(task, cases).items()}
    else:
        row |= cases[["rouge1_precision", "rouge1_recall", "rouge1_f1"]].mean().to_dict()
        row |= proxy_summary(cases)
    row["headline"] = row[TASKS[task].headline]
    b = bootstrap_settings  # accuracy: Wilson's interval (a proportion); ROUGE-1: the mean's BCa bootstrap
    row["ci_low"], row["ci_high"] = (proportion_ci(cases["score"], b["confidence"]) if TASKS[task].classifies
                                     else bootstrap_ci(cases["score"], b["resamples"], b["seed"], b["confidence"]))
    return row


def score_scan(model: str, task: str, pairs: pd.DataFrame, predictions: dict,
               scoring: Scoring) -> tuple[dict, pd.DataFrame]:
    """Score one model's prediction files on one task, keyed (variant, temperature): the per-case tables by
    the same keys, and one summary row per file (model, variant, task, temperature, every metric)."""
    cases, rows = {}, []
    for (variant, temperature), prediction in predictions.items():
        cases[variant, temperature] = score_cases(task, pairs, prediction, scoring)
        rows.append({"model": model, "variant": variant, "task": task, "temperature": temperature,
                     **summarise(task, cases[variant, temperature], scoring.bootstrap)})
        log.info("%s T=%s: headline %.3f (95%% CI %.3f-%.3f), %d cases, %d unparsed", variant,
                 temperature_name(temperature),
                 rows[-1]["headline"], rows[-1]["ci_low"], rows[-1]["ci_high"], rows[-1]["n"], rows[-1]["unparsed"])
    return cases, pd.DataFrame(rows)


def score_baseline(name: str, task: str, train: pd.DataFrame, evaluation: pd.DataFrame,
                   scoring: Scoring) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One classical baseline (baselines.py) fitted on `train`, scored on `evaluation` like the models: its per-case
    scores and its one-row summary."""
    return score_baseline_on(name, task, train, {"eval": evaluation}, scoring)["eval"]


def score_baseline_on(name: str, task: str, train: pd.DataFrame, splits: dict[str, pd.DataFrame],
                      scoring: Scoring) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """`score_baseline` on several sets of cases (split name -> pairs) from one fit."""
    from .baselines import predictions
    answers = predictions(name, train, pd.concat(list(splits.values()), ignore_index=True))  # case by case
    scored, start = {}, 0
    for split, pairs in splits.items():
        cases = score_cases(task, pairs, answers.iloc[start:start + len(pairs)].reset_index(drop=True), scoring)
        start += len(pairs)
        row = {"model": name, "variant": "baseline", "task": task, "temperature": float("nan"),
               **summarise(task, cases, scoring.bootstrap)}
        log.info("%s / %s, %s: headline %.3f (95%% CI %.3f-%.3f) on %d cases, fitted on %d pairs", name, task, split,
                 row["headline"], row["ci_low"], row["ci_high"], row["n"], len(train))
        scored[split] = cases, pd.DataFrame([row])
    return scored


PRF_COLUMNS = ["model", "variant", "temperature", "label", "precision", "recall", "f1", "support"]
CONFUSION_COLUMNS = ["model", "variant", "temperature", "truth_category", "predicted_category", "n"]


def prf_and_confusion(shown: pd.DataFrame, load) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Supplementary Tables 3 and 4 (P/R/F1 per class and averaged) and the ICD-10 category confusion counts
    behind Figure 6, for each model/variant at the temperature `shown` gives it; `load(model, variant, task,
    temperature)` reads that file's per-case scores."""
    prf, confusion = {task: [] for task in CLASSIFYING}, []
    for r in shown[shown["task"].isin(list(prf))].itertuples():
        cases = load(r.model, r.variant, r.task, r.temperature)
        key = {"model": r.model, "variant": r.variant, "temperature": r.temperature}
        prf[r.task] += [per_class(r.task, cases).assign(**key),
                        pd.DataFrame([{**key, "label": TASKS[r.task].average, **averaged(r.task, cases),
                                       "support": len(cases)}])]
        if TASKS[r.task].coded:  # by the codes' categories (chapters)
            confusion.append(cases.groupby(["truth_category", "predicted_category"]).size()
                             .rename("n").reset_index().assign(**key))
    tables = {task: pd.concat(parts, ignore_index=True)[PRF_COLUMNS] if parts else pd.DataFrame(columns=PRF_COLUMNS)
              for task, parts in prf.items()}
    confusion = (pd.concat(confusion, ignore_index=True)[CONFUSION_COLUMNS] if confusion
                 else pd.DataFrame(columns=CONFUSION_COLUMNS))
    return tables, confusion
