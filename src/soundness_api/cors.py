"""Cross-origin access: which origins may read answers, and the preflight answer."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.responses import Response

ALLOWED_HEADERS = "Content-Type, X-API-Key"


class Cors:
    def __init__(self, allowed_origins: tuple[str, ...]):
        self._any = "*" in allowed_origins
        self._origins = frozenset(allowed_origins)

    def allowed(self, origin: str | None) -> str | None:
        """The value of Access-Control-Allow-Origin for this origin, or None for none."""
        if self._any:
            return "*"
        return origin if origin and origin in self._origins else None

    def add(self, origin: str | None, response: Response) -> None:
        allowed = self.allowed(origin)
        if allowed:
            response.headers["Access-Control-Allow-Origin"] = allowed
        if allowed != "*":
            response.headers.append("Vary", "Origin")

    def preflight(self, origin: str | None, methods: Iterable[str]) -> Response:
        response = Response(status_code=204)
        if self.allowed(origin):
            response.headers["Access-Control-Allow-Methods"] = ", ".join(sorted(set(methods) | {"OPTIONS"}))
            response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
            response.headers["Access-Control-Max-Age"] = "3600"
        return response
