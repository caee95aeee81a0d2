"""The classical baselines on hand-made pairs: each does what its name says, deterministically."""
import pandas as pd

from radonc_llm.baselines import majority, nearest_neighbour, predictions, tfidf_logreg
from radonc_llm.metrics import score_cases


def pairs(rows):
    return pd.DataFrame(rows, columns=["case_id", "diagnosis", "answer"])


TRAIN = pairs([
    ("t1", "adenocarcinoma of the prostate gleason 7", "photon"),
    ("t2", "adenocarcinoma of the prostate gleason 6", "photon"),
    ("t3", "medulloblastoma of the posterior fossa child", "proton"),
    ("t4", "ependymoma of the fourth ventricle child", "proton"),
    ("t5", "basal cell carcinoma of the nose skin", "electron"),
    ("t6", "squamous cell carcinoma of the scalp skin", "electron"),
    ("t7", "adenocarcinoma of the prostate psa 9", "photon"),
])
EVAL = pairs([("e1", "adenocarcinoma of the prostate gleason 8", "photon"),
              ("e2", "medulloblastoma of the posterior fossa in a child", "proton"),
              ("e3", "basal cell carcinoma of the skin of the nose", "electron")])


def test_majority_takes_the_most_frequent_answer_and_breaks_ties_by_name():
    assert majority(TRAIN, EVAL) == ["photon"] * 3
    tie = pairs([("a", "x", "proton"), ("b", "y", "electron")])
    assert majority(tie, EVAL) == ["electron"] * 3


def test_nearest_neighbour_answers_with_the_most_similar_training_case():
    regimens = TRAIN.assign(answer=[f"plan {i} Gy" for i in range(len(TRAIN))])
    assert nearest_neighbour(regimens, EVAL) == ["plan 0 Gy", "plan 2 Gy", "plan 4 Gy"]


def test_tfidf_logreg_learns_separable_words_and_is_deterministic():
    first = tfidf_logreg(TRAIN, EVAL)
    assert first == ["photon", "proton", "electron"] and tfidf_logreg(TRAIN, EVAL) == first


def test_baseline_predictions_go_through_the_models_scoring():
    icd_train = TRAIN.assign(answer=["C61", "C61", "C71.6", "C71.7", "C44.311", "C44.41", "C61"])
    icd_eval = EVAL.assign(answer=["C61", "C71.7", "C44.311"])
    cases = score_cases("icd10", icd_eval, predictions("majority", icd_train, icd_eval))
    assert cases["score"].tolist() == [1.0, 0.0, 0.0]  # C61 for every case, scored on the main category
    cases = score_cases("icd10", icd_eval, predictions("tfidf-logreg", icd_train, icd_eval))
    assert cases.loc[1, "predicted"] == "C71" and cases["score"].tolist() == [1.0, 1.0,
        1.0]  # C71.6 vs C71.7: same category
