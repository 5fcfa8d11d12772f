"""The routing table: one row per method and path template (see routing.py for templates), each
naming its operation (the operationId under which openapi.py documents it). The router and the
OpenAPI document's paths are both built from this table, so a route is declared once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from typing import TYPE_CHECKING

from . import bigquery, kserve_v1, platforms
from . import open_inference as v2
from .config import Settings
from .responses import PREDICT_ERRORS, ErrorShape
from .routing import Handler, Router

if TYPE_CHECKING:
    from .handlers import Handlers


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    operation: str  # its operationId in the OpenAPI document
    handler: Callable[[Handlers], Handler]  # of an instance's Handlers, its handler


def _protocol(answer, scores: bool = False, media_type=None) -> Callable[[Handlers], Handler]:
    return lambda h: h.protocol(answer, scores, media_type)


def error_shapes(settings: Settings) -> dict[str, ErrorShape]:
    """Each protocol's first path segment (or a path of its own) and its errors: every answer under
    it that is not a 200 is in the protocol's shape, whether a route refused (400, 401, 413, 503,
    ...), no route or method matched (404, 405) or a bug of ours answered (500). tritonclient and
    KServe's SDK read only that shape. /bigquery is BigQuery's only while its route is on."""
    shapes: dict[str, ErrorShape] = {"/v1": kserve_v1.ERRORS, "/v2": v2.ERRORS}
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


def table(settings: Settings) -> list[Route]:
    """The routes an instance with these settings serves."""
    v2_infer = _protocol(v2.infer, scores=True, media_type=v2.media_type)
    routes = [
        Route("GET", "/", "page", attrgetter("page")),
        Route("POST", "/", "predict_at_root", attrgetter("predict")),
        Route("POST", "/predict", "predict", attrgetter("predict")),
        Route("GET", "/health", "health", attrgetter("health")),
        Route("GET", "/ready", "ready", attrgetter("ready")),
        Route("GET", "/model", "model", attrgetter("model_info")),
        Route("GET", "/openapi.json", "openapi", attrgetter("openapi")),
        Route("GET", "/companies", "companies", attrgetter("companies")),
        Route("GET", "/companies/{code}/statements", "statements", attrgetter("statements")),
        Route("GET", "/companies/{code}/history", "history", attrgetter("history")),
        # KServe V1 / Vertex AI (":predict" first: {name} would take "m:predict" whole)
        Route("POST", "/v1/models/{name}:predict", "v1_predict", _protocol(kserve_v1.predict, scores=True)),
        Route("POST", "/v1/models/{name}:explain", "v1_explain", _protocol(kserve_v1.explain, scores=True)),
        Route("GET", "/v1/models/{name}", "v1_model", _protocol(kserve_v1.model_status)),
        Route("GET", "/v1/models", "v1_models", _protocol(kserve_v1.models)),
        # Open Inference Protocol (KServe V2)
        Route("GET", "/v2", "v2_server", lambda h: h.constant(v2.SERVER)),
        Route("GET", "/v2/health/live", "v2_live", lambda h: h.constant(v2.LIVE)),
        Route("GET", "/v2/health/ready", "v2_ready", _protocol(v2.ready)),
        Route("GET", "/v2/models/{name}", "v2_metadata", _protocol(v2.metadata)),
        Route("GET", "/v2/models/{name}/ready", "v2_model_ready", _protocol(v2.model_ready)),
        Route("POST", "/v2/models/{name}/infer", "v2_infer", v2_infer),
        Route("GET", "/v2/models/{name}/versions/{version}", "v2_version_metadata", _protocol(v2.metadata)),
        Route("GET", "/v2/models/{name}/versions/{version}/ready", "v2_version_ready", _protocol(v2.model_ready)),
        Route("POST", "/v2/models/{name}/versions/{version}/infer", "v2_version_infer", v2_infer),
    ]
    if settings.aip_health_route:  # Vertex AI's health check: 200 once the model is loaded
        routes.append(Route("GET", settings.aip_health_route, "vertex_health", attrgetter("ready")))
    if settings.aip_predict_route:  # Vertex AI's predictions, in KServe V1's shapes
        routes.append(
            Route(
                "POST", settings.aip_predict_route, "vertex_predict", _protocol(platforms.vertex_predict, scores=True)
            )
        )
    if settings.bigquery_route:  # BigQuery remote functions, only when BIGQUERY_ROUTE=on
        routes.append(Route("POST", "/bigquery", "bigquery", _protocol(bigquery.replies, scores=True)))
    return routes


def router(h: Handlers) -> Router:
    return Router((route.method, route.template, route.handler(h)) for route in table(h.settings))
