"""How good a model is: ranking, calibration and decisions, next to baselines on the same rows.

Every figure here is measured on rows the model never trained on: the validation years (where
early stopping, calibration and the threshold were chosen, so slightly optimistic), the test
years (read once, after everything was fixed) and the Korean DART table (external, never used
for any choice).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import QuantileTransformer

RELIABILITY_BINS = 10
ALTMAN_UNAVAILABLE_KR = ("not computable: Altman's Z needs market value, current assets and liabilities "
                         "and retained earnings, which the DART table does not carry")


def ranking_metrics(y: np.ndarray, score: np.ndarray) -> dict[str, Any]:
    """ROC-AUC and PR-AUC (average precision) of any score where higher means riskier."""
    return {"rows": int(len(y)), "positives": int(y.sum()),
            "roc_auc": round(float(roc_auc_score(y, score)), 4),
            "pr_auc": round(float(average_precision_score(y, score)), 4)}


def probability_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    """Ranking plus the Brier score next to that of always forecasting the set's own base rate."""
    base_rate = float(y.mean())
    return {**ranking_metrics(y, p), "base_rate": round(base_rate, 5),
            "brier": round(float(brier_score_loss(y, p)), 5),
            "base_rate_brier": round(base_rate * (1 - base_rate), 5),
            "mean_probability": round(float(p.mean()), 5)}


def reliability(y: np.ndarray, p: np.ndarray, bins: int = RELIABILITY_BINS) -> list[dict[str, Any]]:
    """Mean forecast vs observed rate in bins of equal count (fixed-width bins would put
    nearly every row of a 1% event into the first one)."""
    order = np.argsort(p, kind="stable")
    return [{"rows": int(len(part)), "mean_probability": round(float(p[part].mean()), 5),
             "observed_rate": round(float(y[part].mean()), 5)}
            for part in np.array_split(order, bins) if len(part)]


def confusion(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, Any]:
    flagged = p >= threshold
    tp, fp = int((flagged & (y == 1)).sum()), int((flagged & (y == 0)).sum())
    fn, tn = int((~flagged & (y == 1)).sum()), int((~flagged & (y == 0)).sum())
    return {"threshold": threshold, "true_positive": tp, "false_positive": fp,
            "false_negative": fn, "true_negative": tn,
            "recall": round(tp / max(tp + fn, 1), 4), "precision": round(tp / max(tp + fp, 1), 4),
            "false_positive_rate": round(fp / max(fp + tn, 1), 4)}


def full_metrics(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, Any]:
    return {**probability_metrics(y, p), "at_threshold": confusion(y, p, threshold),
            "reliability": reliability(y, p)}


# ---------------------------------------------------------------- baselines

def altman_z(frame: pd.DataFrame) -> pd.Series:
    """Altman's 1968 Z-score from the US columns (lower is riskier); NaN where undefined."""
    assets, liabilities = frame["X10"].where(frame["X10"] > 0), frame["X17"].where(frame["X17"] > 0)
    z = (1.2 * (frame["X1"] - frame["X14"]) / assets + 1.4 * frame["X15"] / assets
         + 3.3 * frame["X12"] / assets + 0.6 * frame["X8"] / liabilities + 1.0 * frame["X9"] / assets)
    return z.where(np.isfinite(z))


def baseline_models(seed: int) -> dict[str, Any]:
    """The two learned baselines, as the data README measured them."""
    return {
        "logistic_regression": make_pipeline(
            QuantileTransformer(n_quantiles=1000, output_distribution="normal", random_state=seed),
            LogisticRegression(max_iter=2000)),
        "hist_gradient_boosting": HistGradientBoostingClassifier(random_state=seed),
    }


def fitted_baselines(train: pd.DataFrame, features: list[str], seed: int) -> dict[str, Callable]:
    """Each baseline fitted on the training rows, as a function frame -> P(unsound)."""
    models = baseline_models(seed)
    for model in models.values():
        model.fit(train[features].to_numpy(float), train["label"].to_numpy())
    return {name: (lambda frame, m=model: m.predict_proba(frame[features].to_numpy(float))[:, 1])
            for name, model in models.items()}


def altman_metrics(frame: pd.DataFrame) -> dict[str, Any]:
    z = altman_z(frame)
    defined = z.notna()
    return {**ranking_metrics(frame["label"].to_numpy()[defined], -z[defined].to_numpy()),
            "rows_without_z": int((~defined).sum())}


def evaluate(predict: Callable[[np.ndarray], np.ndarray], splits: dict[str, pd.DataFrame],
             kr: pd.DataFrame, features: list[str], threshold: float, seed: int
             ) -> tuple[dict[str, Any], dict[str, dict[str, np.ndarray]]]:
    """Our model and the baselines on validation, test and kr-dart rows (all features defined).

    Returns the metrics for the manifest and, for the report's curves, each set's labels and scores.
    """
    baselines = fitted_baselines(splits["train"], features, seed)
    sets = {"validation": splits["validation"], "test": splits["test"], "kr_dart": kr}
    metrics: dict[str, Any] = {"baselines": {"altman_z_1968": {}, **{name: {} for name in baselines}}}
    scores: dict[str, dict[str, np.ndarray]] = {}
    for set_name, frame in sets.items():
        y = frame["label"].to_numpy()
        ours = predict(frame[features].to_numpy(float))
        metrics[set_name] = full_metrics(y, ours, threshold)
        scores[set_name] = {"label": y, "ours": ours}
        for name, model in baselines.items():
            scores[set_name][name] = model(frame)
            metrics["baselines"][name][set_name] = probability_metrics(y, scores[set_name][name])
        metrics["baselines"]["altman_z_1968"][set_name] = (
            ALTMAN_UNAVAILABLE_KR if set_name == "kr_dart" else altman_metrics(frame))
        if set_name != "kr_dart":
            scores[set_name]["altman_z_1968"] = -altman_z(frame).to_numpy()
    return metrics, scores
