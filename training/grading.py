"""What the served probability means, measured: the event in words, the risk grades' cut points
and their observed event rates, and the fewest known features the model judges on.

All three are chosen on the validation years only; the grades' event rates are then measured
on the US test years and the Korean table, which no choice read (soundness.grades names the
grades and applies the cut points; the manifest carries what is computed here).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from soundness.grades import GRADES, grade_of

EVENT_CODE = "us_bankruptcy_filing_within_1y"
HORIZON_MONTHS = 12
# Grades 1-3 end at these shares of validation company-years (lowest probability first); grade 4
# runs to the decision threshold and grade 5 is at or above it: grade 5 is exactly "unsound".
GRADE_SHARES = (0.5, 0.8, 0.95)
GRADE_RULE = (
    "cut points on the calibrated probability_unsound of the validation company-years: grade 1 is the "
    "half with the lowest probability, grade 2 the next 30 %, grade 3 the next 15 % (their 50 %, 80 % and "
    "95 % quantiles); grade 4 runs from there to the decision threshold and grade 5 is at or above it, so "
    "grade 5 is exactly the unsound (비건전) class"
)
# Below 0.7 a ranking is "poor" (Hosmer, Lemeshow & Sturdivant, Applied Logistic Regression, 3rd ed.,
# 2013, p. 177: 0.7-0.8 acceptable, 0.8-0.9 excellent discrimination).
ACCEPTABLE_AUC = 0.7
DRAWS = 5  # random subsets per row and number of known features, averaged
INSUFFICIENT_RULE = (
    "the fewest known features from which on, for every larger number too, the model's ROC-AUC on the "
    f"validation company-years is at least {ACCEPTABLE_AUC} (acceptable discrimination, Hosmer, Lemeshow & "
    f"Sturdivant 2013), each row shown with a random subset of that many of its known features and the "
    f"others unknown, averaged over {DRAWS} draws; a row with fewer known features gets no grade but "
    "'not enough data' (판단 근거 부족)"
)


def event(fit: tuple[int, int], validation: tuple[int, int]) -> dict[str, Any]:
    """The event probability_unsound is the probability of, in Korean and English."""
    return {
        "code": EVENT_CODE,
        "horizon_months": HORIZON_MONTHS,
        "ko": (
            "probability_unsound는 회사가 해당 재무제표 회계연도 말부터 1년 안에 미국 파산법 제7장 또는 "
            f"제11장(Chapter 7/11) 파산을 신청할 확률입니다. 미국 NYSE·NASDAQ 상장사의 {fit[0]}-{fit[1]}년 "
            f"재무제표로 학습하고 {validation[0]}-{validation[1]}년 상장사로 보정했습니다. 한국 기업에 대해서는 "
            "이 확률이 보정되지 않았으며, 24개월 안의 부실 상장폐지(감사의견 거절, 자본잠식 등)와 순위가 "
            "얼마나 맞는지만 검증했습니다."
        ),
        "en": (
            "probability_unsound is the probability that the company files for bankruptcy under US Chapter 7 "
            "or Chapter 11 within one year after the fiscal year of the statements. It was learnt from US "
            f"companies listed on NYSE and NASDAQ, fiscal years {fit[0]}-{fit[1]}, and calibrated on those of "
            f"{validation[0]}-{validation[1]}. For Korean companies it is not calibrated: it was only checked "
            "for how well it ranks them by distress delisting (audit opinion, capital erosion, ...) within "
            "24 months."
        ),
    }


def known_features(frame: pd.DataFrame, features: list[str]) -> np.ndarray:
    return frame[features].notna().sum(axis=1).to_numpy()


def cut_points(p_validation: np.ndarray, threshold: float) -> list[float]:
    """GRADE_RULE's cut points; ValueError when the threshold is not above the last quantile."""
    points = [round(float(q), 6) for q in np.quantile(p_validation, GRADE_SHARES)] + [float(threshold)]
    if points != sorted(set(points)):
        raise ValueError(f"the grades' cut points are not strictly ascending: {points}")
    return points


def event_rates(
    p: np.ndarray,
    rows: pd.DataFrame,
    features: list[str],
    points: list[float],
    min_known: int,
    event: str,
    span: list[int],
) -> dict[str, Any]:
    """Rows, events and the observed rate in each grade (`p`: the rows' probabilities); rows with
    too few known features apart."""
    y = rows["label"].to_numpy()
    judged = known_features(rows, features) >= min_known
    grade = grade_of(p[judged], points)
    rows = []
    for g in range(1, len(GRADES) + 1):
        in_grade = y[judged][grade == g]
        rows.append(
            {
                "rows": len(in_grade),
                "events": int(in_grade.sum()),
                "rate": round(float(in_grade.mean()), 5) if len(in_grade) else None,
            }
        )
    return {
        "event": event,
        "years": span,
        "grades": rows,
        "insufficient": {"rows": int((~judged).sum()), "events": int(y[~judged].sum())},
    }


def masked_to(frame: pd.DataFrame, features: list[str], known: int, rng: np.random.Generator) -> pd.DataFrame:
    """The rows with at least `known` known features, each left with a random `known` of them."""
    values = frame[features].to_numpy(float)
    defined = np.isfinite(values)
    keep = defined.sum(axis=1) >= known
    values, defined = values[keep], defined[keep]
    # Rank each row's known features in a random order; keep the first `known`.
    order = np.where(defined, rng.random(values.shape), np.inf).argsort(axis=1).argsort(axis=1)
    values[order >= known] = np.nan
    out = frame[keep].copy()
    out[features] = values
    return out


def insufficient(score, validation: pd.DataFrame, features: list[str], seed: int = 0) -> dict[str, Any]:
    """INSUFFICIENT_RULE measured: ROC-AUC by number of known features, and the number chosen."""
    rng = np.random.default_rng(seed)
    evidence = []
    for known in range(1, len(features) + 1):
        aucs = []
        for _ in range(DRAWS):
            rows = masked_to(validation, features, known, rng)
            aucs.append(roc_auc_score(rows["label"], score(rows)) if rows["label"].nunique() == 2 else np.nan)
        evidence.append({"known": known, "auc": round(float(np.mean(aucs)), 4), "rows": len(rows)})
    chosen = len(features)
    for item in reversed(evidence):
        if not item["auc"] >= ACCEPTABLE_AUC:
            break
        chosen = item["known"]
    return {"min_known_features": chosen, "rule": INSUFFICIENT_RULE, "evidence": evidence}
