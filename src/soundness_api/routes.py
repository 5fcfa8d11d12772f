"""The routing table: one line per method and path template (see routing.py for templates)."""

from __future__ import annotations

from functools import partial

from . import bigquery, kserve_v1, platforms
from . import open_inference as v2
from .handlers import Handlers
from .routing import Router


def router(h: Handlers) -> Router:
    v1_errors, v2_errors = (kserve_v1.error_body, kserve_v1.STATUSES), (v2.error_body, v2.STATUSES)
    v1_route, v2_route = partial(h.protocol, v1_errors), partial(h.protocol, v2_errors)
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
        ("POST", "/v1/models/{name}:predict", v1_route(kserve_v1.predict, scores=True)),
        ("GET", "/v1/models/{name}", v1_route(kserve_v1.model_status)),
        # Open Inference Protocol (KServe V2)
        ("GET", "/v2", h.constant(v2.SERVER)),
        ("GET", "/v2/health/live", h.constant(v2.LIVE)),
        ("GET", "/v2/health/ready", v2_route(v2.ready)),
        ("GET", "/v2/models/{name}", v2_route(v2.metadata)),
        ("GET", "/v2/models/{name}/ready", v2_route(v2.model_ready)),
        ("POST", "/v2/models/{name}/infer", v2_route(v2.infer, scores=True)),
        ("GET", "/v2/models/{name}/versions/{version}", v2_route(v2.metadata)),
        ("GET", "/v2/models/{name}/versions/{version}/ready", v2_route(v2.model_ready)),
        ("POST", "/v2/models/{name}/versions/{version}/infer", v2_route(v2.infer, scores=True)),
    ]
    if h.settings.aip_health_route:  # Vertex AI's health check: 200 once the model is loaded
        table.append(("GET", h.settings.aip_health_route, h.ready))
    if h.settings.aip_predict_route:  # Vertex AI's predictions, in KServe V1's shapes
        table.append(("POST", h.settings.aip_predict_route, v1_route(platforms.vertex_predict, scores=True)))
    if h.settings.bigquery_route:  # BigQuery remote functions, only when BIGQUERY_ROUTE=on
        table.append(
            ("POST", "/bigquery", h.protocol((bigquery.error_body, bigquery.STATUSES), bigquery.replies, scores=True))
        )
    return Router(table)
