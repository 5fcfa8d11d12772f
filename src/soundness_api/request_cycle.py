"""One request from arrival to answer: route it, turn every refusal into JSON, add CORS, log it."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response

from . import body, connection, logs, pages
from .api_keys import ApiKeys
from .config import Settings
from .cors import Cors
from .errors import ApiError, Refusal, detail
from .exchange import Exchange
from .handlers import Handlers
from .lazy_model import LazyModel
from .lookup import CompanyLookup
from .responses import error_response
from .routes import error_shapes, errors_of, router


class Service:
    """One per instance: the settings, the lazily loaded model, the routes."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.model = LazyModel(settings.model_dir)
        self.cors = Cors(settings.allowed_origins)
        self.lookup = CompanyLookup(settings)
        self.handlers = Handlers(settings, self.model, ApiKeys(settings.api_keys), self.lookup)
        self.router = router(self.handlers)
        self.error_shapes = error_shapes(settings)
        if settings.bigquery_route and settings.api_keys:
            logs.emit(
                "WARNING",
                "BIGQUERY_ROUTE is on beside API_KEYS: BigQuery cannot send X-API-Key, so "
                "its calls get 401; deploy it as its own IAM-only service (deploy.sh --bigquery)",
            )

    async def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        exchange = Exchange(request, request.scope["path"].rstrip("/") or "/")
        shape = errors_of(exchange.path, self.error_shapes)  # each protocol's errors in its own shape
        try:
            response = await self.dispatch(exchange)
        except Refusal as error:
            response = error_response(error, shape)
        except Exception as exc:  # a bug of ours: answer plainly, log the type, never the trace
            logs.emit("ERROR", "unhandled error", error_type=type(exc).__name__, path=exchange.path[:200])
            response = error_response(ApiError(500, "internal", "internal error"), shape)
        self.cors.add(exchange.headers.get("origin"), response)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        closing = response.headers.get("connection") == "close"
        if not closing and not await body.discard(exchange, self.settings.max_body_bytes):
            response.headers["Connection"] = "close"  # the rest of its body is not worth reading
        logs.request(exchange, response.status_code, started, self.model.version)
        return response

    def refusal_body(self, path: str, status: int) -> bytes:
        """The body of a refusal the framework answered around the function (a path its router
        cannot take, a method outside its list), in the shape of the protocol of the path."""
        code, message = connection.PROTOCOL_ERRORS.get(status, connection.PROTOCOL_ERRORS[400])
        return bytes(error_response(ApiError(status, code, message), errors_of(path, self.error_shapes)).body)

    def allow(self, path: str) -> str:
        """The Allow header of a path: its route's methods (GET for the page's files)."""
        match = self.router.match(path.rstrip("/") or "/")
        return _allow(match.methods if match else {"GET": None})

    async def dispatch(self, exchange: Exchange) -> Response:
        request, path = exchange.request, exchange.path
        match = self.router.match(path)
        if match is not None:
            methods, exchange.params = match.methods, match.params
        else:
            static = pages.find(self.settings.frontend_dir, path)
            if static is None:
                raise ApiError(
                    404, "not_found", f"no route {path[:100]}", [detail("path", "see GET /openapi.json for the routes")]
                )

            async def serve_static(exchange: Exchange) -> Response:
                return pages.serve(static, exchange)

            methods = {"GET": serve_static}
        method = request.method
        if method == "OPTIONS":
            return self.cors.preflight(exchange.headers.get("origin"), methods)
        handler = methods.get("GET" if method == "HEAD" else method)
        if handler is None:
            allow = _allow(methods)
            raise ApiError(
                405,
                "method_not_allowed",
                f"{method} is not allowed on {path}",
                [detail("method", f"allowed: {allow}")],
                {"Allow": allow},
            )
        return await handler(exchange)


def _allow(methods) -> str:
    return ", ".join(sorted(set(methods) | {"OPTIONS"}))
