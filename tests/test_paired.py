"""Per-case paired statistics against hand computations and scipy."""
import itertools
import math

import numpy as np
import pandas as pd
import pytest

from radonc_llm.paired import compare
from radonc_llm.stats import holm, mcnemar_exact, paired_bootstrap, sign_flip_test


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


def test_mcnemar_exact_is_the_binomial_tail_summed_by_hand():
    # 3 cases only a gets right, 12 only b: P(X <= 3), X ~ Bin(15, 1/2), is (1 + 15 + 105 + 455) / 2^15
    a = [1] * 3 + [0] * 12 + [1] * 20 + [0] * 7
    b = [0] * 3 + [1] * 12 + [1] * 20 + [0] * 7
    result = mcnemar_exact(a, b)
    assert (result["a_only"], result["b_only"]) == (3, 12)
    by_hand = 2 * sum(math.comb(15, k) for k in range(4)) / 2 ** 15
    assert by_hand == 1152 / 32768 and result["p_value"] == pytest.approx(by_hand, rel=1e-12)
    # 7 vs 8 of 15: the tail passes the middle, so the two-sided p is capped at 1
    assert mcnemar_exact([1] * 7 + [0] * 8, [0] * 7 + [1] * 8)["p_value"] == pytest.approx(1.0)


def test_the_sign_flip_test_is_the_exact_permutation_test_of_the_mean_difference_by_hand():
    # differences 0.1 .. 0.5, -0.05 and a tie (0): under the null each of the 2^7 sign patterns is equally likely;
    # p = the share of patterns whose mean is at least as far from 0 as the observed one. The tie stays in the
    # mean (n = 7) and its sign changes nothing. |sum| >= 1.45: the observed signs, the one with -0.05 flipped
    # (1.55) and their mirror images, 4 of the 64 patterns of the six non-zero differences, each twice over the tie.
    d = np.array([0.1, 0.2, 0.3, 0.4, 0.5, -0.05, 0.0])
    observed = abs(d.mean())
    means = [abs(np.mean(d * np.array(signs))) for signs in itertools.product([1, -1], repeat=7)]
    by_hand = sum(m >= observed - 1e-12 for m in means) / len(means)
    assert by_hand == 8 / 128 and sign_flip_test(d, permutations=9999, seed=1) == pytest.approx(by_hand)
    assert sign_flip_test(np.zeros(5), 9999, 1) == 1.0  # every case tied: no evidence
    # more cases than patterns: Monte Carlo, seeded, close to the normal approximation of the mean's test
    from scipy.stats import norm
    many = np.random.default_rng(0).normal(0.15, 1, 400)
    z = many.mean() / np.sqrt(np.mean(many ** 2) / len(many))  # the sign-flip distribution's own variance
    assert sign_flip_test(many, 9999, 1) == sign_flip_test(many, 9999, 1)
    assert sign_flip_test(many, 9999, 1) == pytest.approx(2 * norm.sf(abs(z)), abs=0.01)


def test_paired_bootstrap_is_seeded_and_brackets_the_mean_difference():
    # 30 of 100 cases a right and b wrong, 10 the other way: difference 0.2; the BCa interval lies near
    # the normal one, 0.2 ± 1.96 x sd / sqrt(n)
    d = np.r_[np.ones(30), -np.ones(10), np.zeros(60)]
    mean, low, high = paired_bootstrap(d, resamples=4000, seed=1, confidence=0.95)
    assert (mean, low, high) == paired_bootstrap(d, resamples=4000, seed=1, confidence=0.95)
    half = 1.96 * d.std(ddof=1) / np.sqrt(len(d))
    assert mean == pytest.approx(0.2) and low == pytest.approx(0.2 - half, abs=0.02)
    assert high == pytest.approx(0.2 + half, abs=0.02)
    assert paired_bootstrap(np.full(5, 0.25), 2000, 1, 0.95) == (0.25, 0.25, 0.25)


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
    assert rouge["test"].startswith("sign-flip") and rouge["difference"] == pytest.approx((0.3 + 0.1) / 4)
    # the two cases with a difference, 0.3 and 0.1: of 2^4 sign patterns, 4 reach |mean| >= 0.1 (both signs alike)
    assert rouge["p_value"] == pytest.approx(8 / 16)
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
    assert (row["a"], row["b"]) == ("m finetuned (T=0.2)", "m fewshot (T=0.3)")
    assert row["chosen_on"] == "20 selection pairs; comparator best on the selection pairs"  # none pre-specified
    assert (row["a_only"], row["b_only"], row["difference"]) == (2, 0, 0.5)
    assert table["comparison"].tolist() == ["fine-tuned vs vanilla", "fine-tuned vs best prompting"]
    zero_shot_only = paired_table(chosen[chosen["variant"].isin(["vanilla", "finetuned"])], load, ["m"],
                                  {"resamples": 100, "seed": 1, "confidence": 0.95},
                                  plan=plan_of(primary="fine-tuned vs vanilla"))
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
    table = paired_table(chosen, load, ["llama", "mistral"], {"resamples": 100, "seed": 1, "confidence": 0.95},
                         plan=plan_of(primary="fine-tuned vs vanilla"))
    assert table["comparison"].tolist() == ["fine-tuned vs vanilla", "fine-tuned vs vanilla",
                                            "model vs model (finetuned)", "model vs model (vanilla)"]
    versus = table.set_index("comparison").loc["model vs model (finetuned)"]
    assert (versus["a"], versus["b"]) == ("llama finetuned (T=0.2)", "mistral finetuned (T=0.7)")
    assert (versus["a_only"], versus["b_only"], versus["difference"]) == (2, 0, 0.5)  # x and y: llama right only
    vanilla = table.set_index("comparison").loc["model vs model (vanilla)"]
    assert (vanilla["a_only"], vanilla["b_only"]) == (1, 0) and vanilla["p_value"] == pytest.approx(1.0)
    assert (table["p_adjusted"] >= table["p_value"]).all()
    assert set(table["family"]) == {"secondary"} | ({"primary"} if (table["family"] == "primary").any() else set())


def scored(values):
    return pd.DataFrame({"case_id": [f"c{i}" for i in range(len(values))], "score": [float(v) for v in values]})


def plan_of(primary="fine-tuned vs best prompting", adjust="holm", prompting="retrieved", min_difference=0.05):
    return {"primary": primary, "adjust": adjust, "comparators": {"prompting": prompting, "baselines": {}},
            "min_difference": {"modality": min_difference}}


def test_the_primary_family_is_adjusted_alone_with_intervals_that_match_and_never_zero_shot_as_best_prompting():
    from radonc_llm.paired import paired_table
    rng = np.random.default_rng(4)
    truth = {v: (rng.random(200) < p).astype(int) for v, p in
             (("vanilla", 0.3), ("fewshot", 0.5), ("retrieved", 0.55), ("finetuned", 0.7))}
    chosen = pd.DataFrame({"model": "m", "task": "modality", "variant": list(truth), "temperature": 0.5,
                           "headline": [0.9, 0.5, 0.52, 0.7], "chosen_on": "30 selection pairs"})
    table = paired_table(chosen, lambda model, variant, task, t: scored(truth[variant]), ["m"],
                         {"resamples": 2000, "seed": 1, "confidence": 0.95}, plan=plan_of())
    rows = table.set_index("comparison")
    # zero-shot leads the selection pairs (0.9) but is the vanilla comparison, never "best prompting"; few-shot
    # and retrieved differ by 0.02 < 0.05 there, so the plan's comparator (retrieved) stands
    primary = rows.loc["fine-tuned vs best prompting"]
    assert primary["b"] == "m retrieved (T=0.5)" and primary["family"] == "primary"
    assert "comparator pre-specified" in primary["chosen_on"]
    # one primary row: its adjusted p is its own p, and its simultaneous interval its 95 % one
    assert primary["p_adjusted"] == primary["p_value"]
    assert primary["adjustment"] == "Holm over the primary family (1 rows)"
    assert (primary["ci_low_adjusted"], primary["ci_high_adjusted"]) == (primary["ci_low"], primary["ci_high"])
    vanilla = rows.loc["fine-tuned vs vanilla"]
    assert vanilla["family"] == "secondary" and vanilla["p_adjusted"] == vanilla["p_value"]  # alone there too
    # Bonferroni over a family of two: each p doubled, and each interval at 97.5 %, wider than its 95 %
    two = paired_table(chosen, lambda model, variant, task, t: scored(truth[variant]), ["m"],
                       {"resamples": 2000, "seed": 1, "confidence": 0.95}, plan=plan_of(primary="fine-tuned vs vanilla",
                                                                                    adjust="bonferroni"))
    two = two.set_index("comparison")
    assert two.loc["fine-tuned vs vanilla", "family"] == "primary"
    secondary = two.loc["fine-tuned vs best prompting"]
    assert secondary["p_adjusted"] == min(1.0, secondary["p_value"])  # one secondary row
    assert list(two["family"]) == ["primary", "secondary"]
    # a bigger lead on the selection pairs than the smallest difference of interest picks few-shot instead
    lead = paired_table(chosen.assign(headline=[0.9, 0.6, 0.52, 0.7]), lambda m, v, task, t: scored(truth[v]), ["m"],
                        {"resamples": 2000, "seed": 1, "confidence": 0.95}, plan=plan_of())
    picked = lead.set_index("comparison").loc["fine-tuned vs best prompting"]
    assert picked["b"] == "m fewshot (T=0.5)" and "by 0.080 over retrieved" in picked["chosen_on"]


def test_bonferroni_intervals_widen_with_the_family():
    from radonc_llm.paired import paired_table
    rng = np.random.default_rng(5)
    scores = {(m, v): (rng.random(150) < p).astype(int) for m in ("a", "b", "c")
              for v, p in (("vanilla", 0.3), ("finetuned", 0.6))}
    chosen = pd.DataFrame([{"model": m, "task": "modality", "variant": v, "temperature": 0.5, "headline": 0.5,
                            "chosen_on": "20 selection pairs"} for m, v in scores])
    table = paired_table(chosen, lambda m, v, task, t: scored(scores[m, v]), ["a", "b", "c"],
                         {"resamples": 2000, "seed": 1, "confidence": 0.95},
                         plan=plan_of(primary="fine-tuned vs vanilla"))
    primary = table[table["family"] == "primary"]
    assert len(primary) == 3 and (primary["adjustment"] == "Holm over the primary family (3 rows)").all()
    # 3 rows: each simultaneous interval at 1 - 0.05 / 3, wider than the 95 % one on both sides
    assert (primary["ci_low_adjusted"] < primary["ci_low"]).all()
    assert (primary["ci_high_adjusted"] > primary["ci_high"]).all()
    assert (table.loc[table["family"] == "secondary", "adjustment"] == "Holm over the secondary family (6 rows)").all()


def test_the_plan_temperatures_and_comparators_do_not_move_when_eval_predictions_change():
    from radonc_llm.paired import paired_table
    variants = ["vanilla", "fewshot", "retrieved", "finetuned"]
    chosen = pd.DataFrame({"model": "m", "task": "modality", "variant": variants,
                           "temperature": [0.1, 0.4, 0.7, 0.2], "headline": [0.3, 0.55, 0.5, 0.8],
                           "chosen_on": "25 selection pairs"})
    tables = []
    for seed in (1, 2):  # two different sets of eval predictions
        rng = np.random.default_rng(seed)
        scores = {v: (rng.random(120) < rng.random()).astype(int) for v in chosen["variant"]}
        tables.append(paired_table(chosen, lambda m, v, task, t: scored(scores[v]), ["m"],
                                   {"resamples": 2000, "seed": 1, "confidence": 0.95}, plan=plan_of()))
    keys = ["comparison", "family", "a", "b", "chosen_on", "adjustment"]
    assert tables[0][keys].equals(tables[1][keys]) and not tables[0]["p_value"].equals(tables[1]["p_value"])


def test_a_primary_comparison_the_run_does_not_make_is_refused():
    from radonc_llm.errors import UserError
    from radonc_llm.paired import paired_table
    chosen = pd.DataFrame({"model": "m", "task": "modality", "variant": ["vanilla", "finetuned"], "temperature": 0.5,
                           "headline": 0.5, "chosen_on": "9 selection pairs"})
    with pytest.raises(UserError, match="statistics.plan.primary is 'fine-tuned vs best prompting'"):
        paired_table(chosen, lambda m, v, task, t: scored([1, 0, 1]), ["m"],
                     {"resamples": 2000, "seed": 1, "confidence": 0.95}, plan=plan_of())


def test_each_row_says_how_many_labelled_pairs_each_side_learned_from():
    from radonc_llm.evaluation import labelled_pairs
    from radonc_llm.paired import paired_table
    train = pd.Series([f"t{i}" for i in range(100)])
    counts = labelled_pairs({("m", "modality"): 38}, {"modality": (train, train.iloc[:40])}, ["m"])
    # the adapter: its card's 38 (of its 40 training pairs, 2 too long); zero-shot: none; the prompting variants
    # draw from, and each baseline is fitted on, the adapter's 40 training pairs; "all train pairs": all 100
    assert counts == {("m", "vanilla", "modality"): 0, ("m", "fewshot", "modality"): 40,
                      ("m", "retrieved", "modality"): 40, ("m", "finetuned", "modality"): 38,
                      ("majority", "modality"): 40, ("tfidf-logreg", "modality"): 40,
                      ("m", "fewshot", "modality", "all train pairs"): 100,
                      ("m", "retrieved", "modality", "all train pairs"): 100,
                      ("majority", "modality", "all train pairs"): 100,
                      ("tfidf-logreg", "modality", "all train pairs"): 100}
    chosen = pd.DataFrame({"model": "m", "task": "modality", "variant": ["vanilla", "retrieved", "finetuned"],
                           "temperature": 0.5, "headline": [0.2, 0.5, 0.6], "chosen_on": "9 selection pairs"})
    table = paired_table(chosen, lambda m, v, task, t: scored([1, 0, 1, 1]), ["m"],
                         {"resamples": 2000, "seed": 1, "confidence": 0.95}, {"modality": ("tfidf-logreg", "how")},
                         lambda name, task: scored([1, 1, 0, 1]), plan_of(), counts,
                         lambda name, task: scored([1, 1, 1, 1]), lambda m, v, task, t: scored([0, 1, 1, 1]))
    assert table.set_index("comparison")[["a_pairs", "b_pairs"]].to_dict("index") == {
        "fine-tuned vs vanilla": {"a_pairs": 38, "b_pairs": 0},
        "fine-tuned vs best prompting": {"a_pairs": 38, "b_pairs": 40},
        "fine-tuned vs best prompting (all train pairs)": {"a_pairs": 38, "b_pairs": 100},
        "fine-tuned vs best baseline": {"a_pairs": 38, "b_pairs": 40},
        "fine-tuned vs best baseline (all train pairs)": {"a_pairs": 38, "b_pairs": 100}}
    shown_all = table.set_index("comparison").loc["fine-tuned vs best prompting (all train pairs)"]
    assert (shown_all["b"], shown_all["family"], shown_all["mean_b"]) == (
        "m retrieved (T=0.5) (all train pairs)", "secondary", 0.75)
    every = table.set_index("comparison").loc["fine-tuned vs best baseline (all train pairs)"]
    assert (every["b"], every["family"], every["mean_b"]) == ("tfidf-logreg baseline (all train pairs)",
                                                              "secondary", 1.0)


def test_with_training_seeds_the_fine_tuned_side_is_the_per_case_mean_over_seeds_tested_by_sign_flips():
    from radonc_llm.paired import paired_table, seed_mean
    # three seeds of one adapter on four cases: case c0 right in all, c1 in two, c2 in one, c3 in none
    seeds = [scored([1, 1, 0, 0]), scored([1, 0, 1, 0]), scored([1, 1, 0, 0]).iloc[::-1]]  # any case order
    mean = seed_mean(seeds)
    assert mean["case_id"].tolist() == ["c0", "c1", "c2", "c3"]
    assert mean["score"].tolist() == pytest.approx([1, 2 / 3, 1 / 3, 0])
    with pytest.raises(ValueError, match="same eval cases"):
        seed_mean([scored([1, 0]), scored([1, 0, 1])])
    chosen = pd.DataFrame({"model": "m", "task": "modality", "variant": ["vanilla", "finetuned"],
                           "temperature": [0.5, 0.2], "headline": [0.4, 0.7], "chosen_on": "30 selection pairs"})
    vanilla = scored([0, 0, 1, 0])
    load = {"vanilla": vanilla, "finetuned": seeds[0]}
    bootstrap = {"resamples": 200, "seed": 1, "confidence": 0.95, "permutations": 9999}
    table = paired_table(chosen, lambda m, v, task, t: load[v], ["m"], bootstrap,
                         plan=plan_of(primary="fine-tuned vs vanilla"),
                         further_seeds=lambda m, task: [(0.3, seeds[1]), (0.2, seeds[2])])
    row = table.iloc[0]
    assert row["a"] == "m finetuned (T=0.2)" and row["test"] == "sign-flip permutation of the mean difference"
    assert row["mean_a"] == pytest.approx(0.5) and row["difference"] == pytest.approx(0.5 - 0.25)
    # by hand: differences (1, 2/3, -2/3, 0); 12 of the 2^4 sign patterns give a sum as far from 0 as 1
    assert row["p_value"] == pytest.approx(12 / 16)
    assert "per-case mean of 3 training seeds" in row["chosen_on"] and "T=0.2, 0.3, 0.2" in row["chosen_on"]
    agreeing = paired_table(chosen, lambda m, v, task, t: load[v], ["m"], bootstrap,  # seeds alike on every case:
                            plan=plan_of(primary="fine-tuned vs vanilla"),  # the design decides the test, not
                            further_seeds=lambda m, task: [(0.2, seeds[0])])  # the scores
    assert agreeing.iloc[0]["test"] == "sign-flip permutation of the mean difference"
    one_seed = paired_table(chosen, lambda m, v, task, t: load[v], ["m"], bootstrap,
                            plan=plan_of(primary="fine-tuned vs vanilla"), further_seeds=lambda m, task: [])
    assert one_seed.iloc[0]["test"] == "McNemar exact" and one_seed.iloc[0]["mean_a"] == 0.5
