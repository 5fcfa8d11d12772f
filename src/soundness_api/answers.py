"""One predict request: rows in, the answer body out, in request order."""

from __future__ import annotations

from typing import Any

import numpy as np

from soundness import flags, ratios

from .errors import Invalid, detail, error_object
from .payloads import ARRAY_ROWS, Row, RowError, parse_request


def _scored(
    row: Row, probability: float, label: int, classes: dict[int, dict], meant: dict[str, Any]
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
    scored.update(meant)
    return scored


def explanations(predictor, contributions: np.ndarray, grouped: np.ndarray) -> list[dict[str, Any]]:
    """Each row's score in log-odds split over the model's inputs, and over the groups its
    reasons speak of (soundness.reasons: `grouped`)."""
    baseline = predictor.baseline
    if not (np.isfinite(baseline) and np.isfinite(contributions).all()):
        # orjson would write NaN as null: a broken explanation must fail loudly, never pass as data.
        raise ValueError("the model gave a non-finite explanation")
    names = predictor.meaning.reasons.names
    return [
        {
            "unit": "log_odds",
            "baseline": baseline,
            "contributions": dict(zip(predictor.features, row)),
            "groups": dict(zip(names, groups)),
        }
        for row, groups in zip(contributions.tolist(), grouped.tolist())
    ]


def _meanings(predictor, valid: list[Row], x: np.ndarray, probabilities: np.ndarray, contributions) -> list[dict]:
    """What each scored row gains beside its probability, in the answer's order of keys: its
    grade (a model with grades), its red flags (the companies form), its explanation and the
    reasons in words (when explained)."""
    meaning = predictor.meaning
    columns: dict[str, list] = {}
    grades = meaning.grades(probabilities, x)
    if grades is not None:
        columns["grade"] = grades
    if valid and valid[0].statement is not None:  # one form per request: every row has one, or none
        columns["flags"] = _flags(valid)
    if contributions is not None:
        grouped = meaning.reasons.grouped(contributions)
        columns["explanation"] = explanations(predictor, contributions, grouped)
        columns["reasons"] = meaning.reasons.reasons(grouped, np.isfinite(x))
    keys = list(columns)
    return [dict(zip(keys, values)) for values in zip(*columns.values())] if keys else [{} for _ in valid]


def _flags(valid: list[Row]) -> list[list[dict[str, Any]]]:
    given = [row.statement for row in valid if row.statement is not None]
    if len(given) != len(valid):
        raise ValueError("rows of two forms in one request: only some carry statement values")
    if len(valid) < ARRAY_ROWS:  # a few companies: one by one, without numpy's fixed costs
        fields = list(ratios.STATEMENT_FIELDS)
        return [
            flags.company_flags(dict(zip(fields, statement)), row.currency, row.market)
            for statement, row in zip(given, valid)
        ]
    statements = np.array(given, dtype=float)
    columns = dict(zip(ratios.STATEMENT_FIELDS, statements.T))
    floor = flags.floors([row.currency for row in valid], [row.market for row in valid])
    return flags.flags_of(flags.raised(columns, floor))


# A row's answer stays a few KB whatever its values: a refused row names its first
# MAX_ROW_DETAILS problems and counts the rest, and a row names its first MAX_RANGE_WARNINGS
# ratios outside their training range one by one, the rest in one more warning. (1000 rows
# with every ratio out of range, 82 KB, had a 7.1 MB answer; 999 rows of 1e999, 98 KB, 2.0 MB.)
MAX_ROW_DETAILS = 5
MAX_RANGE_WARNINGS = 3


def _refused(row) -> dict[str, Any]:
    return {
        "index": row.index,
        "id": row.id,
        "error": error_object("invalid_row", "this row cannot be scored", row.details),
    }


def _within_bounds(answer: dict[str, Any]) -> dict[str, Any]:
    """A row's answer in a 200: a refused row's details cut to MAX_ROW_DETAILS, the rest counted."""
    error = answer.get("error")
    if error is None or len(error["details"]) <= MAX_ROW_DETAILS:
        return answer
    omitted = error.get("details_omitted", 0) + len(error["details"]) - MAX_ROW_DETAILS
    return {**answer, "error": {**error, "details": error["details"][:MAX_ROW_DETAILS], "details_omitted": omitted}}


def range_warnings(row: Row, features: list[str], ranges: dict[str, dict[str, float]]) -> list[dict[str, Any]]:
    """A warning per feature of the row outside its training range (the first MAX_RANGE_WARNINGS;
    one more names the rest): the model clips such a value and scores it like the most extreme
    companies it learnt from."""
    warnings: list[dict[str, Any]] = []
    beyond: list[str] = []
    for name, value in zip(features, row.features):
        span = ranges.get(name)
        if span is None or np.isnan(value) or span["low"] <= value <= span["high"]:  # NaN: unknown
            continue
        if len(warnings) == MAX_RANGE_WARNINGS:
            beyond.append(name)
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
    if beyond:
        warnings.append(
            {
                "code": "more_outside_training_range",
                "fields": beyond,
                "message": (
                    f"{len(beyond)} more outside the range of the training companies: {', '.join(beyond)}; "
                    "check the units"
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
        row.index: _scored(row, p, label, classes, meant)
        for row, p, label, meant in zip(
            valid,
            probabilities.tolist(),
            predictor.labels(probabilities).tolist(),
            _meanings(predictor, valid, x, probabilities, contributions),
        )
    }
    return [scored.get(row.index) or _refused(row) for row in rows]


def answer(predictor, body: Any, max_batch: int) -> tuple[dict[str, Any], int]:
    """The response body for a request (its JSON text, or parsed), and how many rows it carried."""
    parsed = parse_request(body, predictor.features, max_batch, predictor.accepts_missing)
    rows = parsed.rows
    answers = predictions(predictor, rows, parsed.explain)
    if all("error" in a for a in answers):
        raise Invalid(
            "invalid_input",
            "no row could be scored; see details",
            [d for a in answers for d in a["error"]["details"]],
        )
    answered: dict[str, Any] = {"model": {"name": predictor.name, "version": predictor.version}}
    if predictor.meaning.answer_event is not None:  # what probability_unsound is the probability of
        answered["event"] = predictor.meaning.answer_event
    answered["predictions"] = [_within_bounds(a) for a in answers]
    return answered, len(rows)
