"""KServe's V1 protocol, which is also Vertex AI's predict shape.

`GET /v1/models` lists the model served, `GET /v1/models/{name}` says whether it is ready;
`POST /v1/models/{name}:predict` takes `{"instances": [...]}` or `{"inputs": [...]}` (either name;
`inputs` may also be TensorFlow Serving's columnar object of features), with optional
`"parameters"`; each instance an object of features by name or an array in feature order. It answers
`{"predictions": [...]}` in the same order, each as /predict answers it, explanation included;
`"parameters": {"explain": false}` leaves the explanations out, as `"explain": false` does on
/predict, and other parameters are ignored, as KServe ignores them. `POST .../{name}:explain` takes
the same body and answers `{"explanations": [...]}`. `GET /` answers KServe's `{"status": "alive"}`
to a client asking for JSON (handlers.page). Errors are KServe's `{"error": "..."}`, every status
under /v1 (routes.PROTOCOLS). Framework-free: parsed body in, body out.
"""

from __future__ import annotations

import json
from typing import Any

from . import errors
from .answers import answer
from .errors import MAX_ECHO, Invalid, NotFound, Refusal, detail, summary
from .payloads import EXPLAIN

ALIVE = {"status": "alive"}  # GET / to a client that does not ask for a web page: KServe's liveness
PAGE_TYPES = ("text/html", "application/xhtml+xml")  # what a browser's Accept names, and no API client's
FORMS = ("instances", "inputs")  # KServe's V1 rows: either name, one per request
PARAMETERS = (EXPLAIN,)  # the parameters read; any other a caller sends is ignored

# A request V1 cannot use is 400 (KServe's), not /predict's 422.
STATUSES = {**errors.STATUSES, Invalid: 400}


def error_body(error: Refusal) -> dict[str, str]:
    return {"error": summary(error)}


ERRORS = (error_body, STATUSES)  # every answer under /v1 that is not a 200 (routes.PROTOCOLS)


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


def wants_page(accept: str | None) -> bool:
    """Whether GET / should answer the web page: the client names a page type in Accept, at least
    as wanted as JSON. Browsers do; KServe's SDK (Accept: */*), curl and programs asking for
    application/json get KServe V1's liveness instead."""
    wanted: dict[str, float] = {}
    for part in (accept or "").lower().split(","):
        media, *parameters = (piece.strip() for piece in part.split(";"))
        quality = next((p[2:] for p in parameters if p.startswith("q=")), "1")
        try:
            wanted[media] = max(wanted.get(media, 0.0), float(quality))
        except ValueError:
            continue  # a malformed q counts for nothing
    page = max((wanted.get(media, 0.0) for media in PAGE_TYPES), default=0.0)
    json_ = next((wanted[m] for m in ("application/json", "application/*", "*/*") if m in wanted), 0.0)
    return page > 0 and page >= json_


def models(predictor) -> dict[str, list[str]]:
    """GET /v1/models: the models served here (KServe's list), one."""
    return {"models": [predictor.name]}


def predict(predictor, body: Any, name: str, max_batch: int) -> tuple[dict[str, Any], int]:
    """The predictions for a V1 request body, and how many instances it carried."""
    served(predictor, name)
    answered, rows = answer(predictor, _predict_body(body), max_batch)
    return {"predictions": answered["predictions"]}, rows


def explain(predictor, body: Any, name: str, max_batch: int) -> tuple[dict[str, Any], int]:
    """KServe's explainer contract on the same request as :predict: {"explanations": [...]}, one per
    instance in order, each /predict's explanation of the row (log-odds contributions over the
    features and the baseline they add up from), or the row's error in its place."""
    served(predictor, name)
    if not predictor.explains:
        raise NotFound("explainer_not_found", f"model {predictor.name!r} does not explain its predictions")
    answered, rows = answer(predictor, {**_predict_body(body), EXPLAIN: True}, max_batch)
    explained = [
        {key: row[key] for key in ("index", "id", "error" if "error" in row else "explanation")}
        for row in answered["predictions"]
    ]
    return {"explanations": explained}, rows


def _predict_body(body: Any) -> dict[str, Any]:
    """A V1 request as /predict's body: its rows in the form they take, its known parameters."""
    if not isinstance(body, dict) or set(body) - {*FORMS, "parameters"} or len(set(body) & set(FORMS)) != 1:
        raise Invalid(
            "invalid_request",
            'expected {"instances": [...]} or {"inputs": [...]}, with optional "parameters"',
            [detail(key, "is not a V1 request field") for key in body if key not in (*FORMS, "parameters")]
            if isinstance(body, dict)
            else [],
        )
    parameters = body.get("parameters")  # null: what clients send when they have none
    if parameters is not None and not isinstance(parameters, dict):
        raise Invalid(
            "invalid_request",
            "parameters must be an object of names and values",
            [detail("parameters", f"must be an object, got {json.dumps(parameters)[:MAX_ECHO]}")],
        )
    # A caller's own parameters are ignored, as KServe ignores them; the known ones are checked.
    known = {key: value for key, value in (parameters or {}).items() if key in PARAMETERS}
    form = next(form for form in FORMS if form in body)
    rows = _columnar(body[form]) if form == "inputs" and isinstance(body[form], dict) else body[form]
    # By name or in feature order, decided by the first instance; a row in the other shape is refused.
    rows_form = "data" if isinstance(rows, list) and rows and isinstance(rows[0], list) else "instances"
    return {rows_form: rows, **known}


def _columnar(inputs: dict[str, Any]) -> list[dict[str, Any]]:
    """TensorFlow Serving's columnar `inputs` ({feature: [one value per row]}) as rows by name."""
    lengths = {len(values) if isinstance(values, list) else None for values in inputs.values()}
    if len(lengths) != 1 or None in lengths:
        raise Invalid(
            "invalid_request",
            "columnar inputs give each feature a list of values, one per row, all of one length",
            [detail("inputs", "has features with lists of different lengths, or a value that is not a list")],
        )
    return [dict(zip(inputs, values)) for values in zip(*inputs.values())]
