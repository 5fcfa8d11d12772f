"""The routing table: one line per method and path template (see routing.py for templates)."""

from __future__ import annotations

from . import bigquery, kserve_v1, platforms
from . import open_inference as v2
from .config import Settings
from .handlers import Handlers
from .responses import PREDICT_ERRORS, ErrorShape
from .routing import Router


def error_shapes(settings: Settings) -> dict[str, ErrorShape]:
    """Each protocol's first path segment and its errors: every answer under it that is not a 200
    is in the protocol's shape, whether a route refused (400, 401, 413, 503, ...), no route or method
    matched (404, 405) or a bug of ours answered (500). tritonclient and KServe's SDK read only that
    shape. /bigquery is BigQuery's only while its route is on."""
    shapes = {"/v1": kserve_v1.ERRORS, "/v2": v2.ERRORS}
    if settings.aip_predict_route:  # Vertex AI's predictions: KServe V1's shapes, on a path of its own
        shapes[settings.aip_predict_route] = kserve_v1.ERRORS
    if settings.bigquery_route:
        shapes["/bigquery"] = bigquery.ERRORS
    return shapes


def errors_of(path: str, shapes: dict[str, ErrorShape]) -> ErrorShape:
    """The error shape of the protocol of `path` (a path of its own, or its first segment);
    /predict's for the rest."""
    end = path.find("/", 1)
    return shapes.get(path) or shapes.get(path if end < 0 else path[:end], PREDICT_ERRORS)


def router(h: Handlers) -> Router:
    v2_infer = h.protocol(v2.infer, scores=True, media_type=v2.media_type)
    table = [
        ("GET", "/", h.page),
        ("POST", "/", h.predict),
        ("POST", "/predict", h.predict),
        ("GET", "/health", h.health),
        ("GET", "/ready", h.ready),
        ("GET", "/model", h.model_info),
        ("GET", "/openapi.json", h.openapi),
        ("GET", "/companies", h.companies),
        ("GET", "/companies/{code}/statements", h.statements),
        ("GET", "/companies/{code}/history", h.history),
        # KServe V1 / Vertex AI (":predict" first: {name} would take "m:predict" whole)
        ("POST", "/v1/models/{name}:predict", h.protocol(kserve_v1.predict, scores=True)),
        ("POST", "/v1/models/{name}:explain", h.protocol(kserve_v1.explain, scores=True)),
        ("GET", "/v1/models/{name}", h.protocol(kserve_v1.model_status)),
        ("GET", "/v1/models", h.protocol(kserve_v1.models)),
        # Open Inference Protocol (KServe V2)
        ("GET", "/v2", h.constant(v2.SERVER)),
        ("GET", "/v2/health/live", h.constant(v2.LIVE)),
        ("GET", "/v2/health/ready", h.protocol(v2.ready)),
        ("GET", "/v2/models/{name}", h.protocol(v2.metadata)),
        ("GET", "/v2/models/{name}/ready", h.protocol(v2.model_ready)),
        ("POST", "/v2/models/{name}/infer", v2_infer),
        ("GET", "/v2/models/{name}/versions/{version}", h.protocol(v2.metadata)),
        ("GET", "/v2/models/{name}/versions/{version}/ready", h.protocol(v2.model_ready)),
        ("POST", "/v2/models/{name}/versions/{version}/infer", v2_infer),
    ]
    if h.settings.aip_health_route:  # Vertex AI's health check: 200 once the model is loaded
        table.append(("GET", h.settings.aip_health_route, h.ready))
    if h.settings.aip_predict_route:  # Vertex AI's predictions, in KServe V1's shapes
        table.append(("POST", h.settings.aip_predict_route, h.protocol(platforms.vertex_predict, scores=True)))
    if h.settings.bigquery_route:  # BigQuery remote functions, only when BIGQUERY_ROUTE=on
        table.append(("POST", "/bigquery", h.protocol(bigquery.replies, scores=True)))
    return Router(table)
