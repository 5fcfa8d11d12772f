"""Company-level bootstrap intervals for ROC-AUC, paired between models, vectorised.

A company appears in many years, and its years are not independent: each resample draws
companies with replacement and weighs every row by how often its company was drawn. Both
models are scored on the same resamples, so the interval of their difference is paired.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

RESAMPLES = 2000
CHUNK = 250  # resamples held in memory at once


def company_weights(companies: np.ndarray, resamples: int = RESAMPLES, seed: int = 0) -> Iterator[np.ndarray]:
    """Chunks of (resamples, rows) weights: how often each row's company was drawn."""
    codes, index = np.unique(companies, return_inverse=True)
    rng = np.random.default_rng(seed)
    for start in range(0, resamples, CHUNK):
        size = min(CHUNK, resamples - start)
        counts = rng.multinomial(len(codes), np.full(len(codes), 1.0 / len(codes)), size=size)
        yield counts[:, index].astype(np.float64)


def weighted_auc(y: np.ndarray, score: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """ROC-AUC under each row of `weights` (ties count one half), one value per row."""
    order = np.argsort(score, kind="stable")
    s, positive = score[order], y[order].astype(bool)
    w = weights[:, order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])  # groups of tied scores
    pos = np.add.reduceat(np.where(positive, w, 0.0), starts, axis=1)
    neg = np.add.reduceat(np.where(positive, 0.0, w), starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg
    with np.errstate(invalid="ignore", divide="ignore"):
        return (pos * (below + 0.5 * neg)).sum(axis=1) / (pos.sum(axis=1) * neg.sum(axis=1))


def mean_yearly_auc(y: np.ndarray, years: np.ndarray, score: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The mean over years of each year's ROC-AUC, per weight row."""
    per_year = [weighted_auc(y[years == t], score[years == t], weights[:, years == t]) for t in np.unique(years)]
    return np.mean(per_year, axis=0)


def interval(values: np.ndarray) -> list[float]:
    return [round(float(v), 4) for v in np.nanpercentile(values, [2.5, 97.5])]


def paired(
    y: np.ndarray,
    years: np.ndarray,
    companies: np.ndarray,
    scores: dict[str, np.ndarray],
    reference: str,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> dict[str, dict]:
    """Mean per-year ROC-AUC of each score with its interval, and its difference to `reference`'s.

    Every score is judged on the same rows and the same resamples.
    """
    ones = np.ones((1, len(y)))
    point = {name: float(mean_yearly_auc(y, years, s, ones)[0]) for name, s in scores.items()}
    draws: dict[str, list[np.ndarray]] = {name: [] for name in scores}
    for weights in company_weights(companies, resamples, seed):
        for name, s in scores.items():
            draws[name].append(mean_yearly_auc(y, years, s, weights))
    samples = {name: np.concatenate(d) for name, d in draws.items()}
    out = {}
    for name in scores:
        difference = samples[name] - samples[reference]
        out[name] = {
            "mean_auc": round(point[name], 4),
            "interval": interval(samples[name]),
            f"minus_{reference}": round(point[name] - point[reference], 4),
            "difference_interval": interval(difference),
        }
    return out


def single_auc(
    y: np.ndarray,
    companies: np.ndarray,
    scores: dict[str, np.ndarray],
    reference: str,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> dict[str, dict]:
    """ROC-AUC of one pooled set (no years), with intervals and paired differences."""
    return paired(y, np.zeros(len(y), int), companies, scores, reference, resamples, seed)
