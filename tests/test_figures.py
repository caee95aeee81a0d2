"""The figures' content from hand-made tables: panels, titles, and the data on their axes."""
import matplotlib.colors as mcolors
import pandas as pd
import pytest

from radonc_llm import figures


@pytest.fixture
def out(tmp_path):
    return str(tmp_path / "f.png"), str(tmp_path / "f.pdf")


def bar_heights(ax):
    return [round(p.get_height(), 4) for p in ax.patches]


def texts(ax):
    return [t.get_text() for t in ax.texts]


def test_figure3_draws_each_tasks_highest_bars_median_ticks_and_p(out):
    table1 = pd.DataFrame({"model": ["m"] * 3, "task": ["regimen", "icd10", "overall"],
                           "metric": ["ROUGE-1", "accuracy (main category)", ""],
                           "finetuned_highest": [0.8, 0.6, None], "finetuned_median": [0.7, 0.5, None],
                           "vanilla_highest": [0.3, 0.1, None], "vanilla_median": [0.2, 0.05, None],
                           "p_value": [0.001, 0.02, 1e-6], "n": [10, 10, 20]})
    fig = figures.highest_and_median(table1, *out)
    assert len(fig.axes) == 2  # one panel per task, none for the pooled row
    regimen, icd10 = fig.axes
    assert regimen.get_title() == "Treatment regimen\nROUGE-1"
    assert icd10.get_title() == "ICD-10 code\naccuracy (main category)"
    assert bar_heights(regimen) == [0.3, 0.8] and bar_heights(icd10) == [0.1, 0.6]  # vanilla, then fine-tuned
    assert [c.get_segments()[0][0][1] for c in regimen.collections] == [0.2, 0.7]  # the medians
    assert "p = 0.001" in texts(regimen) and "p = 0.02" in texts(icd10)
    assert mcolors.to_hex(regimen.patches[1].get_facecolor()) == "#1f77b4"  # fine-tuned's colour


def test_temperature_scan_plots_each_variants_headline_against_temperature(out):
    rows = [("m", v, "modality", t, h) for v, hs in (("vanilla", [0.2, 0.1]), ("finetuned", [0.7, 0.9]))
            for t, h in zip((0.1, 0.25), hs)]
    summary = pd.DataFrame(rows, columns=["model", "variant", "task", "temperature", "headline"])
    summary = summary.assign(ci_low=summary["headline"] - 0.05, ci_high=summary["headline"] + 0.05)
    baselines = pd.DataFrame({"task": ["modality"], "baseline": ["majority"], "headline": [0.5]})
    fig = figures.temperature_scan(summary, *out, baselines)
    [ax] = [a for a in fig.axes if a.get_title()]
    assert ax.get_title() == "Treatment modality" and ax.get_ylabel() == "accuracy"
    lines = {line.get_label(): (list(line.get_xdata()), list(line.get_ydata())) for line in ax.lines
             if not line.get_label().startswith("_")}
    assert lines == {"m vanilla": ([0.1, 0.25], [0.2, 0.1]), "m fine-tuned": ([0.1, 0.25], [0.7, 0.9])}
    assert "majority 0.50" in texts(ax)


def test_paired_differences_show_each_comparisons_difference_both_cis_and_adjusted_p(out):
    table = pd.DataFrame({"task": ["modality", "modality"], "a": ["m finetuned (T=0.1)", "m finetuned (T=0.1)"],
                          "b": ["m fewshot (T=0.25)", "majority baseline"], "family": ["primary", "secondary"],
                          "difference": [0.3, -0.1], "ci_low": [0.2, -0.2], "ci_high": [0.4, 0.05],
                          "ci_low_adjusted": [0.15, -0.25], "ci_high_adjusted": [0.45, 0.1],
                          "p_adjusted": [0.001, 0.2]})
    fig = figures.paired_differences(table, *out)
    [ax] = fig.axes
    assert ax.get_title() == "Treatment modality\naccuracy"
    simultaneous, points = ax.containers  # the error bars: the family's CI (thin), then the 95 % CI and centres
    assert list(points.lines[0].get_xdata()) == [0.3, -0.1]
    assert [list(seg[:, 0].round(9)) for seg in points.lines[2][0].get_segments()] == [[0.2, 0.4], [-0.2, 0.05]]
    assert [list(seg[:, 0].round(9)) for seg in simultaneous.lines[2][0].get_segments()] == [[0.15, 0.45],
                                                                                              [-0.25, 0.1]]
    labels = ax.get_yticklabels()
    assert [t.get_text() for t in labels] == ["m fine-tuned\n  vs m few-shot", "m fine-tuned\n  vs majority baseline"]
    assert [t.get_fontweight() for t in labels] == ["bold", "normal"]  # the primary comparison stands out
    assert texts(ax) == ["+0.300, adjusted p 0.001", "-0.100, adjusted p 0.2"]


def test_learning_curve_plots_every_method_against_its_training_pairs_and_the_references_flat(out):
    table = pd.DataFrame({"model": ["m"] * 7, "task": ["icd10"] * 7, "metric": ["accuracy (main category)"] * 7,
                          "predictor": ["finetuned", "finetuned", "retrieved", "retrieved", "majority baseline",
                                        "majority baseline", "vanilla"],
                          "train_pairs": [50, 400, 50, 400, 50, 400, None],
                          "temperature": [0.25] * 4 + [None, None, 0.25],
                          "headline": [0.2, 0.6, 0.4, 0.45, 0.1, 0.12, 0.05], "ci_low": 0.0, "ci_high": 1.0})
    every = table.iloc[[4]].assign(predictor="majority baseline (all train pairs)", train_pairs=7800, headline=0.15)
    fig = figures.learning_curve(pd.concat([table, every], ignore_index=True), *out)
    [ax] = fig.axes
    assert ax.get_title() == "m: ICD-10 code" and ax.get_xscale() == "log"
    assert fig._suptitle.get_text().startswith("Learning curve at T = 0.25: every method learns from the same pairs")
    lines = {line.get_label(): (list(line.get_xdata()), list(line.get_ydata())) for line in ax.lines}
    assert lines["fine-tuned"] == ([50, 400], [0.2, 0.6]) and lines["retrieved examples"] == ([50, 400], [0.4, 0.45])
    assert lines["majority baseline"] == ([50, 400], [0.1, 0.12])  # at every size, like the adapter
    assert lines["vanilla"][1] == [0.05, 0.05]  # reference lines: flat
    assert lines["majority baseline (all 7,800 train pairs)"][1] == [0.15, 0.15]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["50", "400"]


def test_prf_bars_one_group_per_predictor_and_label(out):
    prf = pd.DataFrame({"model": ["m"] * 3, "variant": ["finetuned"] * 3, "temperature": [0.25] * 3,
                        "label": ["photon", "proton", "weighted"], "precision": [0.9, 0.5, 0.8],
                        "recall": [0.8, 0.4, 0.7], "f1": [0.85, 0.45, 0.75], "support": [8, 2, 10]})
    fig = figures.prf_bars(prf, "weighted", "Treatment modality: weighted P / R / F1", *out)
    [ax] = fig.axes
    assert ax.get_title() == "Treatment modality: weighted P / R / F1"
    assert sorted(bar_heights(ax)) == sorted([0.8, 0.7, 0.75])  # the weighted average's P, R and F1
    assert [t.get_text() for t in ax.get_xticklabels()] == ["m\nfine-tuned (T 0.25)"]
    assert ax.get_ylabel() == "weighted average"


def test_confusion_matrices_count_each_truth_and_prediction_pair_per_panel(out):
    cases = pd.DataFrame({"truth_category": ["Malignant: Breast", "Malignant: Breast", "Malignant: Prostate"],
                          "predicted_category": ["Malignant: Breast", "unparsed", "Malignant: Breast"]})
    fig = figures.confusion_matrices({"m fine-tuned (T 0.1)": cases, "m vanilla (T 0.1)": cases.iloc[:1]}, *out)
    first, second = fig.axes[:2]
    assert (first.get_title(), second.get_title()) == ("m fine-tuned (T 0.1)", "m vanilla (T 0.1)")
    assert [t.get_text() for t in first.get_xticklabels()] == ["Malignant - Breast", "Malignant - Prostate",
                                                               "unparsed"]
    cells = {(t.get_position(), t.get_text()) for t in first.texts}  # (column, row): breast row, prostate row
    assert cells == {((0, 0), "1"), ((2, 0), "1"), ((0, 1), "1")}
    assert [t.get_text() for t in second.texts] == ["1"]


def test_proxy_grades_stack_each_predictors_grade_shares(out):
    rows = pd.DataFrame({"model": ["m", "m"], "variant": ["vanilla", "finetuned"], "temperature": [0.1, 0.25],
                         "proxy_grade_1": [0.0, 0.5], "proxy_grade_2": [0.0, 0.25], "proxy_grade_3": [0.0, 0.25],
                         "proxy_grade_4": [0.0, 0.0], "proxy_grade_5": [1.0, 0.0]})
    fig = figures.proxy_grades(rows, *out)
    [ax] = fig.axes
    assert [t.get_text() for t in ax.get_yticklabels()] == ["m vanilla (T 0.1)", "m fine-tuned (T 0.25)"]
    widths = [(round(p.get_y() + p.get_height() / 2), round(p.get_x(), 4), round(p.get_width(), 4))
              for p in ax.patches if p.get_width() > 0]
    assert sorted(widths) == [(0, 0.0, 1.0), (1, 0.0, 0.5), (1, 0.5, 0.25), (1, 0.75, 0.25)]


def test_by_site_draws_the_sites_with_enough_cases_per_predictor(out):
    rows = [("m finetuned (T=0.1)", "modality", "site", "Breast", 12, 0.9),
            ("m finetuned (T=0.1)", "modality", "site", "Prostate", 3, 0.2),
            ("majority baseline", "modality", "site", "Breast", 12, 0.5),
            ("m vanilla (T=0.1)", "modality", "site", "Breast", 12, 0.1),
            ("m retrieved (T=0.1)", "modality", "site", "Breast", 12, 0.7),
            ("m finetuned (T=0.1)", "modality", "intent", "curative", 15, 0.8)]
    table = pd.DataFrame(rows, columns=["predictor", "task", "grouping", "group", "n", "headline"])
    fig = figures.by_site(table, *out, min_cases=10)
    [ax] = fig.axes
    assert ax.get_title() == "Treatment modality" and [t.get_text() for t in ax.get_yticklabels()] == ["Breast"]
    bars = {c.get_label(): [round(p.get_width(), 4) for p in c] for c in ax.containers}
    # the fine-tuned model beside the best baseline, not the prompted base; Prostate has fewer than 10 cases
    assert bars == {"m fine-tuned": [0.9], "the task's best baseline": [0.5]}


def test_human_grades_count_each_graders_cases_per_grade_with_the_average_shares(out):
    rows = [("m", "finetuned", grader, 4, *counts, share_1, share_12) for grader, counts, share_1, share_12 in
            (("ann", (3, 1, 0, 0, 0), 0.75, 1.0), ("bob", (2, 1, 1, 0, 0), 0.5, 0.75),
             ("average", (2.5, 1, 0.5, 0, 0), 0.625, 0.875))]
    dist = pd.DataFrame(rows, columns=["model", "variant", "grader", "n", *[f"grade_{g}" for g in range(1, 6)],
                                       "grade_1_share", "grade_1_2_share"])
    fig = figures.human_grades(dist, *out)
    [ax] = fig.axes
    assert ax.get_title() == "m fine-tuned\nGrade 1: 62%, Grade 1+2: 88% (average of graders)"
    assert {c.get_label(): [p.get_height() for p in c] for c in ax.containers} == {"ann": [3, 1, 0, 0, 0],
                                                                                   "bob": [2, 1, 1, 0, 0]}
