"""The statistics of the comparisons, on plain arrays: paired tests over cases (McNemar's exact test, the
Wilcoxon signed-rank test), percentile bootstrap CIs, Holm's adjustment, and the one-sided Wilcoxon test over
the temperature scan of the paper's Table 1. Nothing here knows a task or a file."""
from __future__ import annotations

import numpy as np


def wilcoxon_greater(x, y) -> float:
    """p of the one-sided Wilcoxon signed-rank test that x > y (paired); 1.0 when every pair is tied."""
    from scipy.stats import wilcoxon
    if all(a == b for a, b in zip(x, y)):
        return 1.0
    return float(wilcoxon(x, y, alternative="greater").pvalue)


def mcnemar_exact(a_correct, b_correct) -> dict:
    """McNemar's exact test of two predictors right/wrong on the same cases.

    a_only: cases only `a` gets right; b_only: only `b`. Under the null both are equally likely, so
    a_only ~ Binomial(a_only + b_only, 1/2); two-sided p = min(1, 2 P(X <= min(a_only, b_only)))."""
    from scipy.stats import binomtest
    a, b = np.asarray(a_correct, dtype=bool), np.asarray(b_correct, dtype=bool)
    if a.shape != b.shape:
        raise ValueError("both predictors must be scored on the same cases")
    a_only, b_only = int((a & ~b).sum()), int((~a & b).sum())
    p = binomtest(a_only, a_only + b_only, 0.5).pvalue if a_only + b_only else 1.0
    return {"a_only": a_only, "b_only": b_only, "p_value": float(p)}


def wilcoxon_cases(a_scores, b_scores) -> float:
    """Two-sided Wilcoxon signed-rank test over cases (ties dropped, as in scipy's default); 1.0 when
    every case is tied."""
    from scipy.stats import wilcoxon
    a, b = np.asarray(a_scores, dtype=float), np.asarray(b_scores, dtype=float)
    if np.all(a == b):
        return 1.0
    return float(wilcoxon(a, b).pvalue)


def paired_bootstrap(differences, resamples: int, seed: int, confidence: float) -> tuple[float, float, float]:
    """Mean per-case difference and its percentile bootstrap CI, resampling cases (both predictors'
    scores of a case stay together, so the pairing is kept)."""
    d = np.asarray(differences, dtype=float)
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, len(d), size=(resamples, len(d)))].mean(axis=1)
    tail = 100 * (1 - confidence) / 2
    return float(d.mean()), float(np.percentile(means, tail)), float(np.percentile(means, 100 - tail))


def holm(p_values) -> np.ndarray:
    """Holm's step-down adjustment: the i-th smallest of m p values times (m - i + 1), made monotone
    and capped at 1; controls the family-wise error rate without assuming independence."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, p[order] * (len(p) - np.arange(len(p))))
    adjusted = np.empty_like(p)
    adjusted[order] = np.maximum.accumulate(scaled)
    return adjusted


def bootstrap_ci(scores, resamples: int, seed: int, confidence: float) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean per-case score, resampling cases (scipy)."""
    from scipy.stats import bootstrap
    scores = np.asarray(scores, dtype=float)
    if len(scores) < 2 or np.ptp(scores) == 0:
        return float(scores.mean()), float(scores.mean())
    result = bootstrap((scores,), np.mean, n_resamples=resamples, confidence_level=confidence,
                       method="percentile", rng=np.random.default_rng(seed))
    return float(result.confidence_interval.low), float(result.confidence_interval.high)
