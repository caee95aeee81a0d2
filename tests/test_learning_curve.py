"""The learning curve's table: at every size every method that learns from labelled pairs (the adapter, the
prompting variants, the best baseline) at the same pairs, in order of size, with zero-shot and the best baseline
on every train pair as reference lines, all at the curve's one temperature."""
import pandas as pd

from radonc_llm.learning_curve import curve_points, curve_table


def summary_of(model, variant, headlines, temperatures=(0.2, 0.7)):
    return pd.DataFrame({"model": model, "variant": variant, "task": "modality", "temperature": list(temperatures),
                         "headline": headlines, "ci_low": 0.0, "ci_high": 1.0})


def baseline_of(name, headline):
    return pd.DataFrame({"model": [name], "variant": "baseline", "task": "modality", "temperature": float("nan"),
                         "headline": headline, "ci_low": 0.0, "ci_high": 1.0})


def test_every_method_at_every_size_at_one_temperature_with_the_references_beside_them():
    summaries = []
    for size, (tuned, fewshot, retrieved, majority, tfidf) in {47: (0.4, 0.3, 0.45, 0.5, 0.5),
                                                               190: (0.55, 0.3, 0.5, 0.5, 0.6),
                                                               380: (0.7, 0.35, 0.5, 0.5, 0.62)}.items():
        summaries += [(summary_of("m", "finetuned", [tuned, 0.0]), size - 1),  # the card: one pair too long
                      (summary_of("m", "fewshot", [fewshot, 0.0]), size),
                      (summary_of("m", "retrieved", [retrieved, 0.0]), size),
                      (baseline_of("majority", majority), size), (baseline_of("tfidf-logreg", tfidf), size)]
    points = curve_points(summaries, 0.2)
    assert len(points) == 15 and set(points["temperature"].dropna()) == {0.2}  # T = 0.2 only, baselines kept
    run = pd.concat([summary_of("m", "vanilla", [0.1, 0.2]), summary_of("m", "finetuned", [0.7, 0.6])])
    # the best baseline is chosen on the selection pairs (tfidf-logreg), then drawn at every size
    on_selection = pd.DataFrame({"model": ["majority", "tfidf-logreg"], "task": "modality", "headline": [0.5, 0.55]})
    every = baseline_of("tfidf-logreg", 0.8).assign(train_pairs=7800)
    table = curve_table(points, run, on_selection, 0.2, all_pairs_baselines=every)
    assert table["predictor"].tolist() == (["finetuned"] * 3 + ["retrieved"] * 3 + ["fewshot"] * 3
                                           + ["tfidf-logreg baseline"] * 3
                                           + ["vanilla", "tfidf-logreg baseline (all train pairs)"])
    assert table["train_pairs"].tolist()[:3] == [46, 189, 379] and table["headline"].tolist()[:3] == [0.4, 0.55, 0.7]
    assert table["train_pairs"].tolist()[3:12] == [47, 190, 380] * 3  # the same pairs for every method
    assert table["headline"].tolist()[9:] == [0.5, 0.6, 0.62, 0.1, 0.8]
    assert table["train_pairs"].isna().tolist() == [False] * 12 + [True, False]
    assert table["temperature"].isna().tolist() == [False] * 9 + [True] * 3 + [False, True]
    assert set(table["metric"]) == {"accuracy"}
