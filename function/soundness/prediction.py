"""One predict request: rows in, the answer body out, in request order."""
from __future__ import annotations

from typing import Any

import numpy as np

from .errors import ApiError
from .payloads import Row, parse_rows


def _scored(row: Row, probability: float, label: int, classes: dict[int, dict]) -> dict[str, Any]:
    return {"index": row.index, "id": row.id, "label": label, "class": classes[label]["name"],
            "class_ko": classes[label]["ko"], "probability_unsound": probability,
            "ratios": row.ratios, "warnings": row.warnings}


def _refused(row) -> dict[str, Any]:
    return {"index": row.index, "id": row.id,
            "error": {"code": "invalid_row", "message": "this row cannot be scored",
                      "details": row.details}}


def answer(predictor, body: Any, max_batch: int) -> tuple[dict[str, Any], int]:
    """The response body for a parsed request, and how many rows it carried."""
    _form, rows = parse_rows(body, predictor.features, max_batch)
    valid = [row for row in rows if isinstance(row, Row)]
    if not valid:
        raise ApiError(422, "invalid_input", "no row could be scored; see details",
                       [d for row in rows for d in row.details])
    probabilities = predictor.probabilities(np.array([row.features for row in valid]))
    labels = predictor.labels(probabilities)
    classes = {c["label"]: c for c in predictor.manifest["classes"]}
    scored = {row.index: _scored(row, float(p), int(label), classes)
              for row, p, label in zip(valid, probabilities, labels)}
    predictions = [scored.get(row.index) or _refused(row) for row in rows]
    return {"model": {"name": predictor.name, "version": predictor.version},
            "predictions": predictions}, len(rows)
