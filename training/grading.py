"""What the served probability means, measured: the event in words, the risk grades' cut points
and their observed event rates, and the fewest known features the model judges on.

    python -m training.grading ARTIFACT_DIR [--data-dir DIR] [--report DIR]

All three are chosen on the validation years only; the grades' event rates are then measured
on the US test years and the Korean table, which no choice read (soundness.grades names the
grades and applies the cut points; the manifest carries what is computed here). Everything is
measured with the served (numpy) predictor of the written artifact, so the manifest's counts
are what the API's answers give. training.train ends with `regrade`; run alone, it rewrites
these keys of an artifact's manifest (and the report's text) in place.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from soundness import artifacts
from soundness.grades import GRADES, grade_of
from soundness.predictor import Predictor

from . import data, provenance, report

EVENT_CODE = "us_bankruptcy_filing_within_1y"
HORIZON_MONTHS = 12
# A ladder of probabilities, each three times the last, with the middle grade centred on the
# validation years' event rate: the probability is calibrated on those years, so each grade's
# observed rate should fall in its band, and neighbouring grades differ by about three times.
LADDER = 3.0
GRADE_RULE = (
    "probability bands each three times the last, the middle one centred on the validation years' "
    "failure rate r: cut points r/3^1.5, r/3^0.5, r*3^0.5, r*3^1.5 (grade 3 spans r/sqrt(3) to r*sqrt(3)); "
    "the probability is calibrated on those years, so each grade's observed rate should lie in its band "
    "(the validation years' rates per grade are recorded beside the test years')"
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


def cut_points(y_validation: np.ndarray) -> list[float]:
    """GRADE_RULE's cut points from the validation years' labels."""
    rate = float(np.mean(y_validation))
    return [round(rate * LADDER ** (k - 1.5), 6) for k in range(len(GRADES) - 1)]


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


def insufficient(score: Any, validation: pd.DataFrame, features: list[str], seed: int = 0) -> dict[str, Any]:
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


def describe(predictor: Predictor, us: data.Table, kr: data.Table, splits: dict[str, tuple[int, int]]) -> dict:
    """The manifest's "event", "grades" and "insufficient" for this predictor (splits: training.train.FIXED)."""
    features = predictor.features

    def rows(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[frame[features].notna().any(axis=1)]

    def score(frame: pd.DataFrame) -> np.ndarray:
        return predictor.probabilities(frame[features].to_numpy(float))

    val, test = rows(data.years(us.frame, splits["validation"])), rows(data.years(us.frame, splits["test"]))
    korean = rows(kr.frame)
    span = f"validation years {splits['validation'][0]}-{splits['validation'][1]}"
    judged = insufficient(score, val, features)
    least = judged["min_known_features"]
    points = cut_points(val["label"].to_numpy())
    years = list(splits["validation"]), list(splits["test"]), [int(korean["year"].min()), int(korean["year"].max())]
    return {
        "event": event(splits["fit"], splits["validation"]),
        "grades": {
            "cut_points": points,
            "chosen_on": span,
            "rule": GRADE_RULE,
            "event_rates": {
                "validation": event_rates(score(val), val, features, points, least, US_EVENT, years[0]),
                "us_test": event_rates(score(test), test, features, points, least, US_EVENT, years[1]),
                "kr": event_rates(score(korean), korean, features, points, least, KR_EVENT, years[2]),
            },
        },
        "insufficient": {**judged, "chosen_on": span},
    }


US_EVENT = "US Chapter 7/11 bankruptcy filing within a year (US NYSE/NASDAQ companies)"
KR_EVENT = "Korean distress delisting within 24 months (KOSPI/KOSDAQ companies, DART statements)"


def regrade(directory: Path, us: data.Table, kr: data.Table, splits: dict[str, tuple[int, int]]) -> dict:
    """Measure `describe` on the artifact in `directory` and write it into its manifest."""
    path = Path(directory) / artifacts.MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest.update(describe(Predictor(artifacts.load(directory)), us, kr, splits))
    code = provenance.code_digest(provenance.imported_code())
    manifest["created"]["grading"] = {"by": "training.grading", "git": provenance.git_state(code), "code_sha256": code}
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    artifacts.load(directory)  # still a valid artifact
    return manifest


def main(argv: list[str] | None = None) -> int:
    from .train import FIXED

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("artifact", type=Path)
    parser.add_argument("--data-dir", type=Path, default=data.DEFAULT_DATA_DIR)
    parser.add_argument("--report", type=Path, help="directory whose report.md to rewrite from the manifest")
    args = parser.parse_args(argv)
    manifest = regrade(args.artifact, data.load_us(args.data_dir), data.load_kr(args.data_dir), FIXED)
    if args.report is not None:
        (args.report / "report.md").write_text(report.markdown(manifest), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
