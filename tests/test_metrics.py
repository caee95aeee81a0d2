"""Metric, category and Wilcoxon code against hand-computed cases."""
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import precision_recall_fscore_support

from radonc_llm.choice import best_temperatures, chosen_settings
from radonc_llm.evaluation import ranking
from radonc_llm.icd10 import icd10_category
from radonc_llm.metrics import averaged, per_class, prf_and_confusion, rouge1, score_cases, summarise
from radonc_llm.scan import model_vs_model, table1
from radonc_llm.stats import bootstrap_ci, wilcoxon_greater

BOOT = {"resamples": 2000, "seed": 1, "confidence": 0.95}


def frames(task, truth, predicted, temperature=0.5):
    ids = [f"P{i:03d}" for i in range(len(truth))]
    pairs = pd.DataFrame({"case_id": ids, "answer": truth})
    predictions = pd.DataFrame({"case_id": ids[::-1], "temperature": temperature, "answer": predicted[::-1]})
    return score_cases(task, pairs, predictions)


@pytest.mark.parametrize("reference, generated, expected", [
    ("25 Gy in 5 fractions", "25 Gy in 10 fractions", (0.8, 0.8, 0.8)),  # 4 of 5 unigrams shared
    ("plan 25 Gy/ 5 fx photons", "25 Gy", (1.0, 2 / 6, 0.5)),  # short answer: precise, low recall
    ("gy gy", "gy", (1.0, 0.5, 2 / 3)),  # repeated unigrams are clipped
    ("primary, photon, 25.0Gy, fractions:5", "", (0.0, 0.0, 0.0)),
    ("Primary, PHOTON", "primary photon", (1.0, 1.0, 1.0)),  # case and punctuation ignored
])
def test_rouge1_on_hand_counted_pairs(reference, generated, expected):
    row = rouge1([reference], [generated]).iloc[0]
    assert (row["rouge1_precision"], row["rouge1_recall"], row["rouge1_f1"]) == pytest.approx(expected)


def test_regimen_headline_is_the_papers_rouge1_overlap_over_reference_unigrams():
    cases = frames("regimen", ["25 Gy in 5 fractions", "plan 25 Gy/ 5 fx photons"], ["25 Gy", "25 Gy"])
    summary = summarise("regimen", cases, BOOT)
    assert summary["headline"] == pytest.approx((2 / 5 + 2 / 6) / 2) == summary["rouge1_recall"]
    assert summary["rouge1_precision"] == 1.0


def test_modality_accuracy_and_weighted_average_by_hand():
    truth = ["photon"] * 4 + ["proton"] * 2
    predicted = ["photon", "photon", "photon", "proton", "proton", "unparsed"]
    cases = frames("modality", truth, predicted)
    assert list(cases["truth"]) == truth  # merged back into eval order
    summary = summarise("modality", cases, BOOT)
    assert summary["accuracy"] == pytest.approx(4 / 6) and summary["unparsed"] == 1
    # photon P 1, R 3/4, F 6/7 (support 4); proton P 1/2, R 1/2, F 1/2 (support 2); weights 4/6, 2/6
    assert summary["precision_weighted"] == pytest.approx(5 / 6)
    assert summary["recall_weighted"] == pytest.approx(4 / 6)
    assert summary["f1_weighted"] == pytest.approx(31 / 42)
    classes = per_class("modality", cases).set_index("label")
    assert classes.loc["photon", "f1"] == pytest.approx(6 / 7) and classes.loc["electron", "support"] == 0


def test_icd10_main_category_accuracy_and_macro_average_by_hand():
    truth = ["C50.911", "C50.412", "C61", "C61"]
    predicted = ["C50.412", "C34.90", "C61", "unparsed"]
    cases = frames("icd10", truth, predicted)
    assert list(cases["score"]) == [1.0, 0.0, 1.0, 0.0]  # C50.412 vs C50.911: same main category
    # the label set is the eval truth's categories, C50 and C61, whatever a predictor answers: C50 (P 1, R 1/2),
    # C61 (P 1, R 1/2); the wrong C34 and the unparsed answer are each a miss of their case's class
    assert averaged("icd10", cases) == pytest.approx({"precision": 1.0, "recall": 0.5, "f1": 2 / 3})
    p, r, f, _ = precision_recall_fscore_support(cases["truth"], cases["predicted"], average="macro",
                                                 labels=["C50", "C61"], zero_division=0)
    assert (p, r, f) == pytest.approx((1.0, 0.5, 2 / 3))
    assert list(cases["predicted_category"]) == ["Malignant: breast", "Malignant: respiratory and intrathoracic organs",
                                                 "Malignant: male genital organs", "unparsed"]


@pytest.mark.parametrize("code, category", [
    ("D63.0", "Blood and blood-forming organs"),
    ("Q21.1", "Congenital malformations"),
    ("G93.1", "Nervous system"),
    ("H35.30", "Eye and adnexa"),
    ("D12.6", "Benign neoplasms"),
    ("D3A.010", "Benign neoplasms"),
    ("D05.10", "In situ neoplasms"),
    ("C50.911", "Malignant: breast"),
    ("C34.90", "Malignant: respiratory and intrathoracic organs"),
    ("C71.9", "Malignant: eye, brain and other parts of central nervous system"),
    ("C79.31", "Malignant: ill-defined, other secondary and unspecified sites"),
    ("C83.30", "Malignant: lymphoid, hematopoietic and related tissue"),
    ("C44.319", "Malignant: skin"),
    ("C7A.00", "Malignant: neuroendocrine tumors"),
    ("D44.1", "Others"),  # uncertain behaviour: neither benign, in situ nor malignant
    ("Z51.0", "Others"),
    ("C50", "Malignant: breast"),  # a bare main category
    ("XYZ", "Others"),
])
def test_icd10_categories_come_from_the_official_chapters_and_blocks(code, category):
    assert icd10_category(code) == category


def summary_of(values: dict) -> pd.DataFrame:
    """A metrics_by_temperature table from {(model, variant, task): [headline at T0.1..T1.0]}."""
    rows = [{"model": m, "variant": v, "task": t, "temperature": round(0.1 * (i + 1), 1), "headline": h}
            for (m, v, t), series in values.items() for i, h in enumerate(series)]
    return pd.DataFrame(rows)


def test_wilcoxon_exact_p_for_all_positive_differences():
    ft = list(np.linspace(0.5, 0.6, 10))
    vanilla = [x - 0.1 - 0.01 * i for i, x in enumerate(ft)]  # distinct positive differences, no ties
    assert wilcoxon_greater(ft, vanilla) == pytest.approx(1 / 1024)  # the paper's "0.001"
    assert wilcoxon_greater(vanilla, ft) == pytest.approx(1.0)
    values = {}
    for m, model in enumerate(("llama", "mistral")):
        for k, task in enumerate(("regimen", "modality", "icd10")):
            values[model, "finetuned", task] = [0.5 + 0.01 * i + 0.001 * k + 0.0001 * m for i in range(10)]
            # 30 distinct positive differences: no ties, so scipy's exact distribution applies
            values[model, "vanilla", task] = [f - 0.3 - 0.001 * (10 * k + i) for i, f in
                                              enumerate(values[model, "finetuned", task])]
    table = table1(summary_of(values), ["llama", "mistral"])
    assert list(zip(table["model"], table["task"])) == [(m, t) for m in ("llama", "mistral")
                                                        for t in ("regimen", "modality", "icd10", "overall")]
    per_task = table[table["task"] != "overall"]
    assert per_task["p_value"].to_list() == pytest.approx([1 / 1024] * 6) and set(per_task["n"]) == {10}
    overall = table[table["task"] == "overall"]
    assert overall["p_value"].to_list() == pytest.approx([2.0 ** -30] * 2) and set(overall["n"]) == {30}
    regimen = table.iloc[0]
    assert regimen["finetuned_highest"] == pytest.approx(0.59) and regimen["finetuned_median"] == pytest.approx(0.545)
    assert regimen["vanilla_highest"] == pytest.approx(0.59 - 0.3 - 0.009)
    versus = model_vs_model(summary_of(values), ["llama", "mistral"])
    ft = versus[(versus["variant"] == "finetuned") & (versus["task"] == "regimen")].iloc[0]
    assert ft["p_b_greater"] == pytest.approx(1 / 1024) and ft["p_a_greater"] == pytest.approx(1.0)
    overall = versus[(versus["variant"] == "vanilla") & (versus["task"] == "overall")].iloc[0]
    assert overall["n"] == 30 and overall["p_a_greater"] > 0.5  # mistral's vanilla is 0.0001 higher throughout
    tied = model_vs_model(summary_of({("a", "vanilla", "icd10"): [0.2] * 10, ("b", "vanilla", "icd10"): [0.2] * 10,
                                      ("a", "finetuned", "icd10"): [0.3] * 10,
                                      ("b", "finetuned", "icd10"): [0.3] * 10}), ["a", "b"])
    assert set(tied["p_a_greater"]) == {1.0} and set(tied["p_b_greater"]) == {1.0}  # identical: no evidence


def test_macro_f1_ranks_a_wrong_answer_and_no_answer_alike():
    """The old label set (truth and predicted categories, less `unparsed`) gave a model that answers with a wrong
    but valid category a zero-F1 class of its own, and so ranked a model that does not answer above it."""
    truth = ["C50.1", "C50.2", "C61", "C61"]
    answers = frames("icd10", truth, ["C50.1", "C50.2", "C61", "C34.1"])  # one wrong but valid category
    silent = frames("icd10", truth, ["C50.1", "C50.2", "C61", "unparsed"])  # one unparsed answer
    def old_f1(c):
        labels = sorted((set(c["truth"]) | set(c["predicted"])) - {"unparsed"})
        return precision_recall_fscore_support(c["truth"], c["predicted"], average="macro", zero_division=0,
                                               labels=labels)[2]
    old = {"answers": old_f1(answers), "silent": old_f1(silent)}
    assert old["silent"] == pytest.approx((1 + 2 / 3) / 2) and old["answers"] == pytest.approx((1 + 2 / 3 + 0) / 3)
    assert old["silent"] > old["answers"]
    # now: the same two classes for both, C50 (F1 1) and C61 (P 1, R 1/2, F1 2/3)
    f1 = {name: averaged("icd10", c)["f1"] for name, c in (("answers", answers), ("silent", silent))}
    sklearn_f1 = precision_recall_fscore_support(answers["truth"], answers["predicted"], average="macro",
                                                 labels=["C50", "C61"], zero_division=0)[2]
    assert f1["answers"] == f1["silent"] == pytest.approx(5 / 6) == pytest.approx(sklearn_f1)


def test_accuracy_intervals_are_wilson_never_zero_width_and_cover():
    from radonc_llm.stats import proportion_ci
    cases = frames("icd10", ["C61"] * 100, ["unparsed"] * 100)  # 0 of 100 right
    summary = summarise("icd10", cases, BOOT)
    # Wilson at 0/100: upper bound z^2 / (n + z^2) = 3.8415 / 103.8415
    assert summary["accuracy"] == 0 and summary["ci_low"] == 0 and summary["ci_high"] == pytest.approx(0.0370, abs=1e-4)
    low, high = proportion_ci([1] * 70 + [0] * 30, 0.95)
    assert (low, high) == pytest.approx((0.6041, 0.7810), abs=1e-4)  # (p + z²/2n ± z √(p(1-p)/n + z²/4n²)) / (1 + z²/n)
    rng = np.random.default_rng(2026)
    for p in (0.05, 0.5):  # seeded simulation: 2,000 samples of 100 cases
        hits = [(lambda lo_hi: lo_hi[0] <= p <= lo_hi[1])(proportion_ci(rng.random(100) < p, 0.95))
                for _ in range(2000)]
        assert np.mean(hits) >= 0.93, p


def test_bootstrap_ci_is_seeded_and_brackets_the_mean():
    scores = np.r_[np.ones(70), np.zeros(30)]
    low, high = bootstrap_ci(scores, **BOOT)
    assert (low, high) == bootstrap_ci(scores, **BOOT)
    assert low < 0.7 < high and high - low == pytest.approx(2 * 1.96 * np.sqrt(0.21 / 100), abs=0.03)
    assert bootstrap_ci(np.ones(5), **BOOT) == (1.0, 1.0)
    # BCa bends the interval towards the long tail: for skewed scores (most near 0, a few large) the upper
    # bound lies further from the mean than the lower, more than the percentile interval's
    skewed = np.r_[np.zeros(90), np.linspace(0.5, 1, 10)]
    low, high = bootstrap_ci(skewed, resamples=4000, seed=3, confidence=0.95)
    assert low < skewed.mean() < high and high - skewed.mean() > skewed.mean() - low


def test_best_temperature_takes_the_highest_headline_and_the_lowest_temperature_on_ties():
    summary = summary_of({("m", "finetuned", "modality"): [0.5, 0.7, 0.7, 0.6, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]})
    assert best_temperatures(summary, "best")["temperature"].tolist() == [0.2]
    assert best_temperatures(summary, 0.4)["headline"].tolist() == [0.6]
    with pytest.raises(ValueError, match="report_temperature"):
        best_temperatures(summary, 0.35)


def test_ranking_orders_every_variant_at_its_selection_chosen_temperature_and_keeps_the_scan_highest_apart():
    summary = summary_of({("m", "vanilla", "modality"): [0.1] * 10,
                          ("m", "fewshot", "modality"): [0.3, 0.5] + [0.2] * 8,
                          ("m", "retrieved", "modality"): [0.6] * 10,
                          ("m", "finetuned", "modality"): [0.7, 0.8, 0.8] + [0.6] * 7})
    summary = summary.assign(ci_low=summary["headline"] - 0.05, ci_high=summary["headline"] + 0.05)
    # on the selection pairs fine-tuned peaks at T=0.1 and few-shot at T=0.1, where on eval they peak at 0.2
    selection = summary_of({("m", "vanilla", "modality"): [0.2] * 10,
                            ("m", "fewshot", "modality"): [0.4, 0.3] + [0.1] * 8,
                            ("m", "retrieved", "modality"): [0.5] * 10,
                            ("m", "finetuned", "modality"): [0.9, 0.7] + [0.6] * 8}).assign(n=40)
    baselines = pd.DataFrame({"model": ["majority", "tfidf-logreg", "nearest-neighbour"],
                              "task": ["modality", "modality", "regimen"], "headline": [0.5, 0.6, 0.9],
                              "ci_low": [0.4, 0.5, 0.8], "ci_high": [0.6, 0.7, 1.0]})
    labelled = {("m", "vanilla", "modality"): 0, ("m", "fewshot", "modality"): 40, ("m", "retrieved", "modality"): 40,
                ("m", "finetuned", "modality"): 38, ("majority", "modality"): 40, ("tfidf-logreg", "modality"): 40,
                ("tfidf-logreg", "modality", "all train pairs"): 100}
    every = baselines.iloc[1:2].assign(headline=0.65, ci_low=0.55, ci_high=0.75)  # tfidf-logreg on all 100 pairs
    labelled[("m", "retrieved", "modality", "all train pairs")] = 100
    # retrieved shown all 100 pairs: scored at retrieved's chosen temperature (0.1), whatever its own scan's best
    shown_all = summary_of({("m", "retrieved", "modality"): [0.62, 0.9] + [0.62] * 8})
    shown_all = shown_all.assign(ci_low=shown_all["headline"] - 0.05, ci_high=shown_all["headline"] + 0.05)
    table = ranking(summary, chosen_settings(selection, "validation"), baselines,
                    baselines.assign(headline=[0.55, 0.5, 0.8]), ["m"], labelled, every, shown_all)
    assert table["labelled_pairs"].tolist() == [38, 100, 100, 40, 40, 40, 40, 0]  # as ranked below
    assert table["predictor"].tolist() == ["finetuned", "tfidf-logreg baseline (all train pairs)",
                                           "retrieved (all train pairs)", "retrieved", "tfidf-logreg baseline",
                                           "majority baseline", "fewshot", "vanilla"]
    assert table["rank"].tolist() == [1, 2, 3, 4, 4, 6, 7, 8]  # ties share their rank
    retrieved_all = table.set_index("predictor").loc["retrieved (all train pairs)"]
    assert (retrieved_all["temperature"], retrieved_all["headline"], retrieved_all["highest_over_scan"]) == (
        0.1, 0.62, 0.9)
    assert pd.isna(table.set_index("predictor").loc["tfidf-logreg baseline (all train pairs)", "selection_headline"])
    top = table.iloc[0]
    # ranked by the eval headline at the chosen T=0.1 (0.7), not by the eval scan's highest (0.8 at T=0.2)
    assert (top["temperature"], top["headline"], top["ci_low"], top["selection_headline"]) == (0.1, 0.7, 0.65, 0.9)
    assert (top["highest_over_scan"], top["highest_temperature"], top["median"]) == (0.8, 0.2, 0.6)
    assert top["chosen_on"] == "40 selection pairs"
    fewshot = table.set_index("predictor").loc["fewshot"]
    assert (fewshot["temperature"], fewshot["headline"], fewshot["highest_temperature"]) == (0.1, 0.3, 0.2)
    assert table["temperature"].isna().tolist() == [False, True, False, False, True, True, False, False]
    assert table.set_index("predictor").loc["majority baseline", "selection_headline"] == 0.55
    fixed = ranking(summary, chosen_settings(selection, 0.3), baselines, baselines, ["m"])
    assert set(fixed["temperature"].dropna()) == {0.3}
    assert fixed.loc[0, "chosen_on"] == "T pre-registered; best on 40 selection pairs"
    with pytest.raises(ValueError, match="statistics.temperature"):
        chosen_settings(selection, 0.35)


def test_prf_tables_and_confusion_counts_at_each_predictor_shown_temperature():
    modality = pd.DataFrame({"truth": ["photon", "photon", "proton", "electron"],
                             "predicted": ["photon", "proton", "proton", "unparsed"]})
    cases = {("m", "finetuned", "modality", 0.5): modality,
             ("m", "finetuned", "icd10", 0.2): pd.DataFrame({"truth": ["C50", "C50", "C61"],
                                                             "predicted": ["C50", "C61", "C61"],
                                                             "truth_category": ["Malignant: breast"] * 2 + ["M"],
                                                             "predicted_category": ["Malignant: breast", "M", "M"]})}
    shown = pd.DataFrame({"model": ["m", "m", "m"], "variant": ["finetuned"] * 3,
                          "task": ["regimen", "modality", "icd10"], "temperature": [0.1, 0.5, 0.2]})
    prf, confusion = prf_and_confusion(shown, lambda *key: cases[key])
    modality = prf["modality"].set_index("label")
    assert list(modality.index) == ["photon", "proton", "electron", "brachy", "weighted"]  # four classes, then average
    assert modality.loc["photon", "recall"] == 0.5 and modality.loc["proton", "precision"] == 0.5
    assert modality.loc["weighted", "support"] == 4 and (modality["temperature"] == 0.5).all()
    icd10 = prf["icd10"].set_index("label")
    assert icd10.loc["macro", "f1"] == pytest.approx(2 / 3)  # C50: P 1, R 1/2, F1 2/3; C61: P 1/2, R 1, F1 2/3
    assert confusion.set_index(["truth_category", "predicted_category"])["n"].to_dict() == {
        ("M", "M"): 1, ("Malignant: breast", "M"): 1, ("Malignant: breast", "Malignant: breast"): 1}
