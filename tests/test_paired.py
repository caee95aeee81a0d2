"""Per-case paired statistics against hand computations and scipy."""
import numpy as np
import pandas as pd
import pytest

from radonc_llm.paired import compare, holm, mcnemar_exact, paired_bootstrap, wilcoxon_cases


def test_mcnemar_exact_on_a_hand_made_two_by_two():
    # 10 cases both right, 2 only a right, 8 only b right, 5 both wrong
    a = [1] * 10 + [1] * 2 + [0] * 8 + [0] * 5
    b = [1] * 10 + [0] * 2 + [1] * 8 + [0] * 5
    result = mcnemar_exact(a, b)
    assert (result["a_only"], result["b_only"]) == (2, 8)
    # P(X <= 2), X ~ Bin(10, 1/2) = (1 + 10 + 45) / 1024; two-sided: twice that
    assert result["p_value"] == pytest.approx(2 * 56 / 1024)
    assert mcnemar_exact(b, a)["p_value"] == pytest.approx(2 * 56 / 1024)
    assert mcnemar_exact([1, 0, 1], [1, 0, 1])["p_value"] == 1.0  # no discordant case: nothing to test
    assert mcnemar_exact([1] * 10, [0] * 10)["p_value"] == pytest.approx(2 / 1024)


def test_mcnemar_matches_the_chi_square_free_binomial_form_in_scipy():
    from scipy.stats import binomtest
    rng = np.random.default_rng(5)
    a, b = rng.random(200) < 0.7, rng.random(200) < 0.6
    result = mcnemar_exact(a, b)
    assert result["p_value"] == pytest.approx(binomtest(result["a_only"], result["a_only"] + result["b_only"]).pvalue)


def test_wilcoxon_over_cases_is_scipys_two_sided_test():
    from scipy.stats import wilcoxon
    a = np.array([0.5, 0.7, 0.9, 0.4, 0.8, 0.6, 0.75])
    b = np.array([0.4, 0.7, 0.5, 0.3, 0.6, 0.65, 0.5])
    assert wilcoxon_cases(a, b) == pytest.approx(wilcoxon(a, b).pvalue)
    # by hand: non-zero differences 0.1, 0.4, 0.1, 0.2, -0.05, 0.25 -> ranks 2.5, 6, 2.5, 4, 1, 5; W- = 1
    assert wilcoxon(a, b).statistic == 1
    assert wilcoxon_cases(a, a) == 1.0


def test_paired_bootstrap_with_a_fixed_seed():
    d = np.array([1, 0, 0, 1, 1, 0, 1, 1, -1, 0], dtype=float)
    mean, low, high = paired_bootstrap(d, resamples=2000, seed=7, confidence=0.95)
    assert mean == pytest.approx(0.4)
    draws = np.random.default_rng(7).integers(0, 10, size=(2000, 10))  # the same resampling by hand
    by_hand = d[draws].mean(axis=1)
    assert (low, high) == (pytest.approx(np.percentile(by_hand, 2.5)), pytest.approx(np.percentile(by_hand, 97.5)))
    assert low < mean < high and paired_bootstrap(d, 2000, 7, 0.95) == (mean, low, high)
    assert paired_bootstrap(np.full(5, 0.25), 100, 1, 0.95) == (0.25, 0.25, 0.25)


def test_holm_on_a_hand_example():
    # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04 -> monotone 0.02, 0.03, 0.06, 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.6]) == pytest.approx([1.0, 1.0])
    assert holm([]).size == 0


def test_compare_pairs_cases_by_id_and_refuses_other_cases():
    a = pd.DataFrame({"case_id": ["x", "y", "z", "w"], "score": [1.0, 1.0, 0.0, 1.0]})
    b = pd.DataFrame({"case_id": ["w", "z", "y", "x"], "score": [0.0, 0.0, 1.0, 0.0]})
    row = compare("modality", a, b, {"resamples": 500, "seed": 1, "confidence": 0.95})
    assert (row["a_only"], row["b_only"], row["n"]) == (2, 0, 4)  # x and w: a right, b wrong
    assert row["difference"] == pytest.approx(0.5) and row["p_value"] == pytest.approx(0.5)
    assert row["test"] == "McNemar exact"
    rouge = compare("regimen", a.assign(score=[0.5, 0.7, 0.9, 0.4]), b.assign(score=[0.3, 0.6, 0.7, 0.5]),
                    {"resamples": 500, "seed": 1, "confidence": 0.95})
    # per case a - b: x 0.5 - 0.5, y 0.7 - 0.7, z 0.9 - 0.6, w 0.4 - 0.3
    assert rouge["test"].startswith("Wilcoxon") and rouge["difference"] == pytest.approx((0.3 + 0.1) / 4)
    with pytest.raises(ValueError, match="same cases"):
        compare("modality", a, b.iloc[:3], {"resamples": 10, "seed": 1, "confidence": 0.95})


def test_fine_tuned_is_tested_against_the_prompting_variant_best_on_the_selection_pairs_at_its_temperature():
    from radonc_llm.paired import paired_table
    truth = {"fewshot": [1, 1, 0, 0], "retrieved": [1, 1, 1, 0], "vanilla": [0, 0, 0, 0], "finetuned": [1, 1, 1, 1]}
    # headlines on the selection pairs: few-shot is the best prompting variant there, retrieved on the eval cases
    chosen = pd.DataFrame({"model": "m", "task": "modality", "variant": list(truth),
                           "temperature": [0.3, 0.6, 0.1, 0.2], "headline": [0.8, 0.75, 0.0, 1.0],
                           "chosen_on": "20 selection pairs"})

    def load(model, variant, task, temperature):
        assert temperature == chosen.set_index("variant").loc[variant, "temperature"]
        return pd.DataFrame({"case_id": list("wxyz"), "score": [float(s) for s in truth[variant]]})
    table = paired_table(chosen, load, ["m"], {"resamples": 100, "seed": 1, "confidence": 0.95})
    row = table[table["comparison"] == "fine-tuned vs best prompting"].iloc[0]
    assert (row["a"], row["b"], row["chosen_on"]) == ("m finetuned (T=0.2)", "m fewshot (T=0.3)", "20 selection pairs")
    assert (row["a_only"], row["b_only"], row["difference"]) == (2, 0, 0.5)
    assert table["comparison"].tolist() == ["fine-tuned vs vanilla", "fine-tuned vs best prompting"]
    zero_shot_only = paired_table(chosen[chosen["variant"].isin(["vanilla", "finetuned"])], load, ["m"],
                                  {"resamples": 100, "seed": 1, "confidence": 0.95})
    assert zero_shot_only["comparison"].tolist() == ["fine-tuned vs vanilla"]  # the paper's run: nothing more


def test_two_models_are_tested_against_each_other_per_variant_at_their_own_chosen_temperatures():
    from radonc_llm.paired import paired_table
    scores = {("llama", "finetuned"): [1, 1, 1, 0], ("llama", "vanilla"): [0, 0, 1, 0],
              ("mistral", "finetuned"): [1, 0, 0, 0], ("mistral", "vanilla"): [0, 0, 0, 0]}
    chosen = pd.DataFrame({"model": [m for m, _ in scores], "task": "icd10", "variant": [v for _, v in scores],
                           "temperature": [0.2, 0.5, 0.7, 0.1], "headline": 0.5, "chosen_on": "9 selection pairs"})

    def load(model, variant, task, temperature):
        assert temperature == chosen.set_index(["model", "variant"]).loc[(model, variant), "temperature"]
        return pd.DataFrame({"case_id": list("wxyz"), "score": [float(s) for s in scores[model, variant]]})
    table = paired_table(chosen, load, ["llama", "mistral"], {"resamples": 100, "seed": 1, "confidence": 0.95})
    assert table["comparison"].tolist() == ["fine-tuned vs vanilla", "fine-tuned vs vanilla",
                                            "model vs model (finetuned)", "model vs model (vanilla)"]
    versus = table.set_index("comparison").loc["model vs model (finetuned)"]
    assert (versus["a"], versus["b"]) == ("llama finetuned (T=0.2)", "mistral finetuned (T=0.7)")
    assert (versus["a_only"], versus["b_only"], versus["difference"]) == (2, 0, 0.5)  # x and y: llama right only
    vanilla = table.set_index("comparison").loc["model vs model (vanilla)"]
    assert (vanilla["a_only"], vanilla["b_only"]) == (1, 0) and vanilla["p_value"] == pytest.approx(1.0)
    assert (table["p_holm"] >= table["p_value"]).all()
