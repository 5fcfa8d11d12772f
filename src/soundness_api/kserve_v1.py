"""KServe's V1 protocol, which is also Vertex AI's predict shape.

`GET /v1/models/{name}` says whether the model is ready; `POST /v1/models/{name}:predict` takes
`{"instances": [...], "parameters"?: {}}`, each instance an object of features by name or an array
in feature order, and answers `{"predictions": [...]}` in the same order, each as /predict answers
it, explanation included; `"parameters": {"explain": false}` leaves the explanations out, as
`"explain": false` does on /predict. Errors are KServe's `{"error": "..."}`. Framework-free: parsed
body in, body out.
"""

from __future__ import annotations

from typing import Any

from . import errors
from .answers import answer
from .errors import Invalid, NotFound, Refusal, detail, summary
from .payloads import EXPLAIN

# A request V1 cannot use is 400 (KServe's), not /predict's 422.
STATUSES = {**errors.STATUSES, Invalid: 400}


def error_body(error: Refusal) -> dict[str, str]:
    return {"error": summary(error)}


def served(predictor, name: str) -> None:
    """Nothing but the served model answers to a name: any other is 404 (shared with V2)."""
    if name != predictor.name:
        raise NotFound(
            "model_not_found",
            f"model {name[:100]!r} is not served here",
            [detail("name", f"must be {predictor.name!r}, the model served here")],
        )


def model_status(predictor, name: str) -> dict[str, Any]:
    served(predictor, name)
    return {"name": predictor.name, "ready": True}


def predict(predictor, body: Any, name: str, max_batch: int) -> tuple[dict[str, Any], int]:
    """The predictions for a V1 request body, and how many instances it carried."""
    served(predictor, name)
    if not isinstance(body, dict) or set(body) - {"instances", "parameters"} or "instances" not in body:
        raise Invalid(
            "invalid_request",
            'expected {"instances": [...]} with optional "parameters"',
            [detail(key, "is not a V1 request field") for key in body if key not in ("instances", "parameters")]
            if isinstance(body, dict)
            else [],
        )
    parameters = body.get("parameters") or {}  # null or {}: what clients send when they have none
    if not isinstance(parameters, dict) or set(parameters) - {EXPLAIN}:
        raise Invalid(
            "invalid_request",
            f"the only parameter is {EXPLAIN} (true or false)",
            [detail("parameters", f"may only hold {EXPLAIN}")],
        )
    instances = body["instances"]
    # By name or in feature order, decided by the first instance; a row in the other shape is refused.
    form = "data" if isinstance(instances, list) and instances and isinstance(instances[0], list) else "instances"
    answered, rows = answer(predictor, {form: instances, **parameters}, max_batch)  # /predict checks explain
    return {"predictions": answered["predictions"]}, rows
