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
from .routing import Handler, Router

if TYPE_CHECKING:
    from .handlers import Handlers

V1_ERRORS, V2_ERRORS = (kserve_v1.error_body, kserve_v1.STATUSES), (v2.error_body, v2.STATUSES)
BIGQUERY_ERRORS = (bigquery.error_body, bigquery.STATUSES)


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    operation: str  # its operationId in the OpenAPI document
    handler: Callable[[Handlers], Handler]  # of an instance's Handlers, its handler


def _v1(answer, scores: bool = False) -> Callable[[Handlers], Handler]:
    return lambda h: h.protocol(V1_ERRORS, answer, scores)


def _v2(answer, scores: bool = False) -> Callable[[Handlers], Handler]:
    return lambda h: h.protocol(V2_ERRORS, answer, scores)


def table(settings: Settings) -> list[Route]:
    """The routes an instance with these settings serves."""
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
        Route("POST", "/v1/models/{name}:predict", "v1_predict", _v1(kserve_v1.predict, scores=True)),
        Route("GET", "/v1/models/{name}", "v1_model", _v1(kserve_v1.model_status)),
        # Open Inference Protocol (KServe V2)
        Route("GET", "/v2", "v2_server", lambda h: h.constant(v2.SERVER)),
        Route("GET", "/v2/health/live", "v2_live", lambda h: h.constant(v2.LIVE)),
        Route("GET", "/v2/health/ready", "v2_ready", _v2(v2.ready)),
        Route("GET", "/v2/models/{name}", "v2_metadata", _v2(v2.metadata)),
        Route("GET", "/v2/models/{name}/ready", "v2_model_ready", _v2(v2.model_ready)),
        Route("POST", "/v2/models/{name}/infer", "v2_infer", _v2(v2.infer, scores=True)),
        Route("GET", "/v2/models/{name}/versions/{version}", "v2_version_metadata", _v2(v2.metadata)),
        Route("GET", "/v2/models/{name}/versions/{version}/ready", "v2_version_ready", _v2(v2.model_ready)),
        Route("POST", "/v2/models/{name}/versions/{version}/infer", "v2_version_infer", _v2(v2.infer, scores=True)),
    ]
    if settings.aip_health_route:  # Vertex AI's health check: 200 once the model is loaded
        routes.append(Route("GET", settings.aip_health_route, "vertex_health", attrgetter("ready")))
    if settings.aip_predict_route:  # Vertex AI's predictions, in KServe V1's shapes
        routes.append(
            Route("POST", settings.aip_predict_route, "vertex_predict", _v1(platforms.vertex_predict, scores=True))
        )
    if settings.bigquery_route:  # BigQuery remote functions, only when BIGQUERY_ROUTE=on
        routes.append(
            Route("POST", "/bigquery", "bigquery", lambda h: h.protocol(BIGQUERY_ERRORS, bigquery.replies, True))
        )
    return routes


def router(h: Handlers) -> Router:
    return Router((route.method, route.template, route.handler(h)) for route in table(h.settings))
