"""The statistics of the comparisons, on plain arrays: paired tests over cases (McNemar's exact test, the
sign-flip permutation test of the mean difference), intervals (Wilson's for a proportion, BCa bootstrap for a
mean or a mean difference), Holm's adjustment, and the one-sided Wilcoxon test over the temperature scan of
the paper's Table 1. Nothing here knows a task or a file."""
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


def sign_flip_test(differences, permutations: int, seed: int) -> float:
    """Two-sided paired permutation test of the mean per-case difference (scipy): under the null each case's
    difference is as likely with either sign. Tied cases (difference 0) stay in: they carry no sign but count
    in the mean, so the test and the reported effect (the mean difference) are about the same quantity. Exact
    where 2^n sign patterns are no more than `permutations`; 1.0 when every case is tied."""
    from scipy.stats import permutation_test
    d = np.asarray(differences, dtype=float)
    if not np.any(d):
        return 1.0
    result = permutation_test((d,), np.mean, permutation_type="samples", n_resamples=permutations,
                              alternative="two-sided", rng=np.random.default_rng(seed))
    return float(result.pvalue)


def paired_bootstrap(differences, resamples: int, seed: int, confidence: float) -> tuple[float, float, float]:
    """Mean per-case difference and its BCa bootstrap CI, resampling cases (both predictors' scores of a case
    stay together, so the pairing is kept); (mean, mean, mean) when every case has the same difference."""
    d = np.asarray(differences, dtype=float)
    low, high = bootstrap_ci(d, resamples, seed, confidence)
    return float(d.mean()), low, high


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
    """BCa bootstrap CI of the mean per-case score, resampling cases (scipy; bias-corrected and accelerated,
    which covers better than the percentile interval near the ends of the scale); the percentile interval where
    BCa is undefined; (mean, mean) when every score is the same."""
    import warnings

    from scipy.stats import bootstrap
    scores = np.asarray(scores, dtype=float)
    if len(scores) < 2 or np.ptp(scores) == 0:
        return float(scores.mean()), float(scores.mean())
    def interval(method):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # BCa's own warning where it is undefined: the percentile follows
            return bootstrap((scores,), np.mean, n_resamples=resamples, confidence_level=confidence,
                             method=method, rng=np.random.default_rng(seed)).confidence_interval

    low, high = interval("BCa")
    if not (np.isfinite(low) and np.isfinite(high)):
        low, high = interval("percentile")
    return float(low), float(high)


def proportion_ci(successes, confidence: float) -> tuple[float, float]:
    """Wilson score interval of a proportion (`successes`: one 0/1 per case; scipy): never zero-width, and at
    n = 100 it covers 94-97 % for a true proportion between 0.03 and 0.5 (tests/test_metrics.py)."""
    from scipy.stats import binomtest
    s = np.asarray(successes, dtype=float)
    interval = binomtest(int(s.sum()), len(s)).proportion_ci(confidence, method="wilson")
    return float(interval.low), float(interval.high)


def clopper_pearson(successes: float, n: int, confidence: float) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval of a proportion from beta quantiles; `successes` may be an average of
    counts (the graders' mean), which the beta quantiles take as they are."""
    from scipy.stats import beta
    alpha = 1 - confidence
    low = float(beta.ppf(alpha / 2, successes, n - successes + 1)) if successes > 0 else 0.0
    high = float(beta.ppf(1 - alpha / 2, successes + 1, n - successes)) if successes < n else 1.0
    return low, high


def _rating_tables(a, b, q: int, resamples: int = 0, seed: int = 0) -> np.ndarray:
    """Joint distributions (q x q, summing to 1) of two raters' ratings coded 0..q-1: the observed one, and
    after it `resamples` bootstrap ones (cases drawn with replacement)."""
    a, b = np.asarray(a, dtype=int), np.asarray(b, dtype=int)
    n = len(a)
    draws = np.vstack([np.arange(n), np.random.default_rng(seed).integers(0, n, size=(resamples, n))])
    cells = (np.arange(len(draws))[:, None] * q * q + a[draws] * q + b[draws]).ravel()
    return np.bincount(cells, minlength=len(draws) * q * q).reshape(len(draws), q, q) / n


def _quadratic_weights(q: int) -> np.ndarray:
    i, j = np.indices((q, q))
    return 1 - (i - j) ** 2 / (q - 1) ** 2


def gwet_ac2(p: np.ndarray) -> np.ndarray:
    """Gwet's AC2 with quadratic weights of two raters, from their joint distribution(s) `p` (..., q, q):
    weighted agreement corrected for the agreement of raters who rate some cases at random
    (Gwet, Handbook of Inter-Rater Reliability, 2014)."""
    q = p.shape[-1]
    w = _quadratic_weights(q)
    pa = (w * p).sum(axis=(-2, -1))
    pi = (p.sum(axis=-1) + p.sum(axis=-2)) / 2
    pe = w.sum() / (q * (q - 1)) * (pi * (1 - pi)).sum(axis=-1)
    return (pa - pe) / (1 - pe)


def quadratic_kappa(p: np.ndarray) -> np.ndarray:
    """Cohen's kappa with quadratic weights from joint distribution(s) `p` (..., q, q); 1 where both raters
    gave one and the same grade throughout (no disagreement to correct)."""
    q = p.shape[-1]
    d = 1 - _quadratic_weights(q)  # disagreement weights
    expected = p.sum(axis=-1)[..., :, None] * p.sum(axis=-2)[..., None, :]
    observed, chance = (d * p).sum(axis=(-2, -1)), (d * expected).sum(axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(chance > 0, 1 - observed / np.where(chance > 0, chance, 1), 1.0)


def agreement_with_ci(a, b, categories, resamples: int, seed: int, confidence: float) -> dict:
    """Quadratically weighted kappa and Gwet's AC2 of two raters' ratings (`categories`: the scale, in order),
    each with a percentile bootstrap interval over cases."""
    code = {c: i for i, c in enumerate(categories)}
    tables = _rating_tables([code[x] for x in a], [code[x] for x in b], len(categories), resamples, seed)
    alpha = (1 - confidence) / 2
    found = {}
    for name, statistic in (("quadratic_kappa", quadratic_kappa), ("gwet_ac2", gwet_ac2)):
        values = statistic(tables)
        low, high = np.quantile(values[1:], [alpha, 1 - alpha]) if resamples else (np.nan, np.nan)
        found |= {name: float(values[0]), f"{name}_ci_low": float(low), f"{name}_ci_high": float(high)}
    return found
