"""One predict request: rows in, the answer body out, in request order."""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import Invalid, detail, error_object
from .payloads import Row, RowError, explain_requested, parse_rows


def _scored(
    row: Row, probability: float, label: int, classes: dict[int, dict], explanation: dict[str, Any] | None
) -> dict[str, Any]:
    scored = {
        "index": row.index,
        "id": row.id,
        "label": label,
        "class": classes[label]["name"],
        "class_ko": classes[label]["ko"],
        "probability_unsound": probability,
        "ratios": row.ratios,
        "warnings": row.warnings,
    }
    if explanation is not None:
        scored["explanation"] = explanation
    return scored


def explanations(predictor, contributions: np.ndarray | None, rows: int) -> list[dict[str, Any] | None]:
    """Each row's score in log-odds split over the model's inputs (None: not asked, or the model
    cannot explain)."""
    if contributions is None:
        return [None] * rows
    baseline = predictor.baseline
    if not (np.isfinite(baseline) and np.isfinite(contributions).all()):
        # orjson would write NaN as null: a broken explanation must fail loudly, never pass as data.
        raise ValueError("the model gave a non-finite explanation")
    return [
        {"unit": "log_odds", "baseline": baseline, "contributions": dict(zip(predictor.features, row))}
        for row in contributions.tolist()
    ]


def _refused(row) -> dict[str, Any]:
    return {
        "index": row.index,
        "id": row.id,
        "error": error_object("invalid_row", "this row cannot be scored", row.details),
    }


def range_warnings(row: Row, features: list[str], ranges: dict[str, dict[str, float]]) -> list[dict[str, Any]]:
    """A warning per feature of the row outside its training range: the model clips such a
    value and scores it like the most extreme companies it learnt from."""
    warnings = []
    for name, value in zip(features, row.features):
        span = ranges.get(name)
        if span is None or np.isnan(value) or span["low"] <= value <= span["high"]:  # NaN: unknown
            continue
        warnings.append(
            {
                "code": "outside_training_range",
                "fields": [name],
                "value": value,
                "range": [span["low"], span["high"]],
                "quantiles": span["quantiles"],
                "message": (
                    f"{name} is {value:.6g}, outside the range of {span['share']}% of the training companies "
                    f"({span['low']:.6g} to {span['high']:.6g}): the model scores it like the most extreme "
                    "companies it learnt from; check the units"
                ),
            }
        )
    return warnings


def _outside_ranges(predictor, x: np.ndarray) -> np.ndarray:
    """Which rows have a feature outside its training range (NaN, unknown, never is)."""
    low, high = predictor.range_bounds
    return ((x < low) | (x > high)).any(axis=1)


def _overflowed(rows: list, valid: list[Row], finite: np.ndarray) -> list:
    overflowed = {row.index for row, ok in zip(valid, finite) if not ok}
    problem = "these values are too extreme for the model to score; check the units"
    return [
        RowError(row.index, row.id, [detail(None, problem, row.index)]) if row.index in overflowed else row
        for row in rows
    ]


def predictions(predictor, rows: list, explain: bool = False) -> list[dict[str, Any]]:
    """One answer per row, in order: the prediction (with its explanation when asked and the model
    can give one), or the row's errors in its place."""
    valid = [row for row in rows if isinstance(row, Row)]
    if not valid:
        return [_refused(row) for row in rows]
    x = np.array([row.features for row in valid])
    probabilities, contributions = predictor.predict(x, explain)
    finite = np.isfinite(probabilities)
    if not finite.all():
        # Values far beyond any real statement (1e300, say) overflow the network to NaN.
        rows = _overflowed(rows, valid, finite)
        valid = [row for row, ok in zip(valid, finite) if ok]
        x, probabilities = x[finite], probabilities[finite]
        contributions = contributions[finite] if contributions is not None else None
    for i in np.flatnonzero(_outside_ranges(predictor, x)):
        valid[i].warnings = valid[i].warnings + range_warnings(valid[i], predictor.features, predictor.training_ranges)
    classes = predictor.classes
    scored = {
        row.index: _scored(row, p, label, classes, e)
        for row, p, label, e in zip(
            valid,
            probabilities.tolist(),
            predictor.labels(probabilities).tolist(),
            explanations(predictor, contributions, len(valid)),
        )
    }
    return [scored.get(row.index) or _refused(row) for row in rows]


def answer(predictor, body: Any, max_batch: int) -> tuple[dict[str, Any], int]:
    """The response body for a parsed request, and how many rows it carried."""
    rows = parse_rows(body, predictor.features, max_batch, predictor.accepts_missing)
    answers = predictions(predictor, rows, explain_requested(body))
    if all("error" in a for a in answers):
        raise Invalid(
            "invalid_input",
            "no row could be scored; see details",
            [d for a in answers for d in a["error"]["details"]],
        )
    return {"model": {"name": predictor.name, "version": predictor.version}, "predictions": answers}, len(rows)
