"""The routing table: one line per method and path template (see routing.py for templates)."""
from __future__ import annotations

from .handlers import Handlers
from .routing import Router


def router(h: Handlers) -> Router:
    return Router([
        ("GET", "/", h.page),
        ("POST", "/", h.predict),
        ("POST", "/predict", h.predict),
        ("GET", "/health", h.health),
        ("GET", "/ready", h.ready),
        ("GET", "/model", h.model_info),
        ("GET", "/openapi.json", h.openapi),
        ("GET", "/companies", h.companies),
        ("GET", "/companies/{code}/statements", h.statements),
    ])
