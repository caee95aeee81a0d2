"""The learning curve's table: every adapter in order of its training pairs, the prompted base model and the
best baseline beside it, all at the curve's one temperature."""
import pandas as pd

from radonc_llm.learning_curve import curve_table


def test_points_in_order_of_training_pairs_with_the_prompted_model_and_the_best_baseline_at_one_temperature():
    adapters = pd.DataFrame({"model": "m", "task": "modality", "temperature": 0.2, "headline": [0.7, 0.4, 0.55],
                             "ci_low": [0.6, 0.3, 0.45], "ci_high": [0.8, 0.5, 0.65], "train_pairs": [380, 47, 190]})
    summary = pd.DataFrame({"model": "m", "task": "modality",
                            "variant": ["finetuned", "retrieved", "vanilla", "fewshot", "vanilla"],
                            "temperature": [0.2, 0.2, 0.2, 0.2, 0.7], "headline": [0.7, 0.5, 0.1, 0.3, 0.2],
                            "ci_low": 0.0, "ci_high": 1.0})
    baselines = pd.DataFrame({"model": ["majority", "tfidf-logreg", "nearest-neighbour"],
                              "task": ["modality", "modality", "regimen"], "headline": [0.6, 0.65, 0.5],
                              "ci_low": 0.5, "ci_high": 0.7})
    # the best baseline is chosen on the selection pairs (tfidf-logreg), then shown at its eval headline
    on_selection = baselines.assign(headline=[0.5, 0.55, 0.5])
    table = curve_table(adapters, summary, baselines.assign(headline=[0.66, 0.65, 0.5]), on_selection, 0.2)
    assert table["predictor"].tolist() == ["finetuned"] * 3 + ["vanilla", "fewshot", "retrieved",
                                                               "tfidf-logreg baseline"]
    assert table["train_pairs"].tolist()[:3] == [47, 190, 380] and table["headline"].tolist()[:3] == [0.4, 0.55, 0.7]
    assert table["headline"].tolist()[3:] == [0.1, 0.3, 0.5, 0.65]  # T = 0.2 only; the best baseline only
    assert table["train_pairs"].isna().tolist() == [False] * 3 + [True] * 4
    assert set(table["metric"]) == {"accuracy"}
