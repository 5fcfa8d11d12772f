"""How good a model is: ranking, calibration and decisions, and Altman's Z as the oldest baseline.

training.train measures with these on rows the model never trained on: the test years (read
once, after everything was fixed) and the Korean DART table (external, never used for any choice).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

RELIABILITY_BINS = 10


def ranking_metrics(y: np.ndarray, score: np.ndarray) -> dict[str, Any]:
    """ROC-AUC and PR-AUC (average precision) of any score where higher means riskier."""
    return {
        "rows": len(y),
        "positives": int(y.sum()),
        "roc_auc": round(float(roc_auc_score(y, score)), 4),
        "pr_auc": round(float(average_precision_score(y, score)), 4),
    }


def probability_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    """Ranking plus the Brier score next to that of always forecasting the set's own base rate."""
    base_rate = float(y.mean())
    return {
        **ranking_metrics(y, p),
        "base_rate": round(base_rate, 5),
        "brier": round(float(brier_score_loss(y, p)), 5),
        "base_rate_brier": round(base_rate * (1 - base_rate), 5),
        "mean_probability": round(float(p.mean()), 5),
    }


def reliability(y: np.ndarray, p: np.ndarray, bins: int = RELIABILITY_BINS) -> list[dict[str, Any]]:
    """Mean forecast vs observed rate in bins of equal count (fixed-width bins would put
    nearly every row of a 1% event into the first one)."""
    order = np.argsort(p, kind="stable")
    return [
        {
            "rows": len(part),
            "mean_probability": round(float(p[part].mean()), 5),
            "observed_rate": round(float(y[part].mean()), 5),
        }
        for part in np.array_split(order, bins)
        if len(part)
    ]


def confusion(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, Any]:
    flagged = p >= threshold
    tp, fp = int((flagged & (y == 1)).sum()), int((flagged & (y == 0)).sum())
    fn, tn = int((~flagged & (y == 1)).sum()), int((~flagged & (y == 0)).sum())
    return {
        "threshold": threshold,
        "true_positive": tp,
        "false_positive": fp,
        "false_negative": fn,
        "true_negative": tn,
        "recall": round(tp / max(tp + fn, 1), 4),
        "precision": round(tp / max(tp + fp, 1), 4),
        "false_positive_rate": round(fp / max(fp + tn, 1), 4),
    }


def full_metrics(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, Any]:
    return {**probability_metrics(y, p), "at_threshold": confusion(y, p, threshold), "reliability": reliability(y, p)}


# ---------------------------------------------------------------- baselines


def altman_z(frame: pd.DataFrame) -> pd.Series:
    """Altman's 1968 Z-score from the US columns (lower is riskier); NaN where undefined."""
    assets = frame["total_assets"].where(frame["total_assets"] > 0)
    liabilities = frame["total_liabilities"].where(frame["total_liabilities"] > 0)
    working_capital = frame["current_assets"] - frame["current_liabilities"]
    z = (
        1.2 * working_capital / assets
        + 1.4 * frame["retained_earnings"] / assets
        + 3.3 * frame["operating_income"] / assets
        + 0.6 * frame["market_value"] / liabilities
        + 1.0 * frame["net_sales"] / assets
    )
    return z.where(np.isfinite(z))


def altman_metrics(frame: pd.DataFrame) -> dict[str, Any]:
    z = altman_z(frame)
    defined = z.notna()
    return {
        **ranking_metrics(frame["label"].to_numpy()[defined], -z[defined].to_numpy()),
        "rows_without_z": int((~defined).sum()),
    }
