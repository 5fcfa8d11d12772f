"""The HTTP service behind the function: routes, CORS, API keys, errors and the log line."""
from __future__ import annotations

import hmac
import json
import re
import time
from functools import partial
from typing import Any, Callable

from flask import Request, Response

from . import bigquery, kserve_v1, logs, open_inference, openapi, pages
from .config import Settings
from .errors import ApiError, detail
from .lazy_model import LazyModel, ModelUnavailable
from .payloads import parse_json

ALLOWED_HEADERS = "Content-Type, X-API-Key"


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    try:
        data = json.dumps(body, ensure_ascii=False, allow_nan=False).encode()
    except UnicodeEncodeError:  # a lone surrogate (\ud800) echoed from the request: only escapes carry it
        data = json.dumps(body, allow_nan=False).encode()
    response = Response(data, status, mimetype="application/json")
    response.headers.update(headers or {})
    return response


def error_response(error: ApiError) -> Response:
    return json_response(error.body(), error.status, error.headers)


class Service:
    """One per instance: holds the settings and the lazily loaded model."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.model = LazyModel(settings.model_dir, settings.torch_threads)
        self.routes: dict[str, dict[str, Callable[[Request, dict], Response]]] = {
            "/": {"GET": self.page, "POST": self.predict},
            "/predict": {"POST": self.predict},
            "/health": {"GET": self.health},
            "/ready": {"GET": self.ready},
            "/model": {"GET": self.model_info},
            "/openapi.json": {"GET": self.openapi},
        }
        # Path templates, tried in order after the exact routes; a {parameter} never holds / or :.
        self.templates = []
        for path, methods in self.protocol_routes().items():
            if "{" not in path:
                self.routes[path] = methods
            else:
                pattern = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/:]+)", re.escape(path))
                self.templates.append((re.compile(pattern), methods))
        if settings.bigquery_route and settings.api_keys:
            logs.emit("WARNING", "BIGQUERY_ROUTE is on beside API_KEYS: BigQuery cannot send X-API-Key, so "
                      "its calls get 401; deploy it as its own IAM-only service (deploy.sh --bigquery)")

    def protocol_routes(self) -> dict[str, dict[str, Callable[..., Response]]]:
        """BigQuery's remote functions (when on), KServe V1 and the Open Inference Protocol."""
        batch = {"max_batch": self.settings.max_batch}
        v1, v2 = partial(self.protocol, kserve_v1.error_body), partial(self.protocol, open_inference.error_body)
        v2_infer = {"POST": v2(partial(open_inference.infer, **batch), scores=True)}
        routes = {
            "/v1/models/{name}": {"GET": v1(kserve_v1.model_status)},
            "/v1/models/{name}:predict": {"POST": v1(partial(kserve_v1.predict, **batch), scores=True)},
            "/v2": {"GET": lambda request, facts: json_response(open_inference.SERVER)},
            "/v2/health/live": {"GET": lambda request, facts: json_response(open_inference.live())},
            "/v2/health/ready": {"GET": v2(open_inference.ready)},
            "/v2/models/{name}": {"GET": v2(open_inference.metadata)},
            "/v2/models/{name}/ready": {"GET": v2(open_inference.model_ready)},
            "/v2/models/{name}/infer": v2_infer,
            "/v2/models/{name}/versions/{version}": {"GET": v2(open_inference.metadata)},
            "/v2/models/{name}/versions/{version}/ready": {"GET": v2(open_inference.model_ready)},
            "/v2/models/{name}/versions/{version}/infer": v2_infer,
        }
        if self.settings.bigquery_route:
            routes["/bigquery"] = {"POST": self.protocol(
                bigquery.error_body, partial(bigquery.replies, **batch), scores=True)}
        return routes

    # ------------------------------------------------------------ the request cycle

    def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        facts: dict[str, Any] = {}
        try:
            response = self.dispatch(request, facts)
        except ApiError as error:
            response = error_response(error)
        except Exception as exc:  # a bug of ours: answer plainly, log the type, never the trace
            logs.emit("ERROR", "unhandled error", error_type=type(exc).__name__, path=request.path[:200])
            response = error_response(ApiError(500, "internal", "internal error"))
        self.add_cors(request, response)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if not facts.get("body_read") and (request.content_length or "Transfer-Encoding" in request.headers):
            # functions-framework reads whatever body is left before answering, unless the answer
            # streams: a refused body (too large, unauthorised, no route) must stay unread.
            response.response = iter(response.response)
        self.log(request, response, started, facts)
        return response

    def dispatch(self, request: Request, facts: dict) -> Response:
        path = request.path.rstrip("/") or "/"
        methods = self.routes.get(path) or self.templated(path)
        if methods is None:
            static = pages.find(self.settings.frontend_dir, path)
            if static is None:
                raise ApiError(404, "not_found", f"no route {path[:100]}",
                               [detail("path", "see GET /openapi.json for the routes")])
            methods = {"GET": lambda req, facts: pages.serve(static)}
        if request.method == "OPTIONS":
            return self.preflight(request, methods)
        if request.method == "HEAD" and "GET" in methods:
            return methods["GET"](request, facts)
        handler = methods.get(request.method)
        if handler is None:
            allow = ", ".join(sorted(set(methods) | {"OPTIONS"}))
            raise ApiError(405, "method_not_allowed", f"{request.method} is not allowed on {path}",
                           [detail("method", f"allowed: {allow}")], {"Allow": allow})
        return handler(request, facts)

    def templated(self, path: str) -> dict[str, Callable[[Request, dict], Response]] | None:
        """The methods of the first path template that matches, bound to its path parameters."""
        for pattern, methods in self.templates:
            if match := pattern.fullmatch(path):
                return {method: partial(handler, **match.groupdict()) for method, handler in methods.items()}
        return None

    def log(self, request: Request, response: Response, started: float, facts: dict) -> None:
        status = response.status_code
        severity = "ERROR" if status >= 500 else "WARNING" if status >= 400 else "INFO"
        path = request.path[:200]
        logs.emit(severity, f"{request.method} {path} {status}",
                  httpRequest={"requestMethod": request.method, "requestUrl": path, "status": status,
                               "latency": f"{time.perf_counter() - started:.6f}s"},
                  rows=facts.get("rows"), model_version=self.model.version,
                  **logs.trace_field(request.headers.get("X-Cloud-Trace-Context")))

    # ------------------------------------------------------------ access

    def origin_allowed(self, origin: str | None) -> str | None:
        """The value of Access-Control-Allow-Origin for this origin, or None for none."""
        if "*" in self.settings.allowed_origins:
            return "*"
        return origin if origin and origin in self.settings.allowed_origins else None

    def add_cors(self, request: Request, response: Response) -> None:
        allowed = self.origin_allowed(request.headers.get("Origin"))
        if allowed:
            response.headers["Access-Control-Allow-Origin"] = allowed
        if allowed != "*":
            response.headers.add("Vary", "Origin")

    def preflight(self, request: Request, methods: dict) -> Response:
        response = Response(status=204)
        if self.origin_allowed(request.headers.get("Origin")):
            response.headers["Access-Control-Allow-Methods"] = ", ".join(sorted(set(methods) | {"OPTIONS"}))
            response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
            response.headers["Access-Control-Max-Age"] = "3600"
        return response

    def check_api_key(self, request: Request) -> None:
        if not self.settings.api_keys:
            return
        given = request.headers.get("X-API-Key", "").encode()
        # Compare against every key, always, so timing tells nothing about which nearly matched.
        matches = [hmac.compare_digest(given, key.encode()) for key in self.settings.api_keys]
        if not any(matches):
            raise ApiError(401, "unauthorized", "a valid X-API-Key header is required for predictions",
                           [detail("X-API-Key", "missing or not recognised")])

    # ------------------------------------------------------------ routes

    def health(self, request: Request, facts: dict) -> Response:
        return json_response({"status": "ok", "model_loaded": self.model.loaded})

    def predictor(self):
        try:
            return self.model.get()
        except ModelUnavailable as exc:
            raise ApiError(503, "model_unavailable", str(exc), headers={"Retry-After": "60"}) from None

    def ready(self, request: Request, facts: dict) -> Response:
        predictor = self.predictor()
        return json_response({"status": "ready",
                              "model": {"name": predictor.name, "version": predictor.version}})

    def model_info(self, request: Request, facts: dict) -> Response:
        return json_response(public_manifest(self.predictor().manifest))

    def openapi(self, request: Request, facts: dict) -> Response:
        try:  # the document names the one model served, when it can be loaded
            predictor = self.model.get()
            model = {"name": predictor.name, "version": predictor.version}
        except ModelUnavailable:
            model = None
        return json_response(openapi.document(self.settings, model))

    def page(self, request: Request, facts: dict) -> Response:
        static = pages.find(self.settings.frontend_dir, "/index.html")
        if static is None:
            raise ApiError(404, "not_found", "no web page is bundled with this deployment")
        return pages.serve(static)

    def read_body(self, request: Request, facts: dict) -> bytes:
        limit = self.settings.max_body_bytes
        too_large = ApiError(413, "payload_too_large", f"the body may be at most {limit} bytes",
                             [detail(None, f"body larger than {limit} bytes")])
        if request.content_length is not None and request.content_length > limit:
            raise too_large  # refused before reading a byte of it
        try:
            raw = request.stream.read(limit + 1)
        except Exception:  # the client went away mid-body
            raw = None
        if raw is None or len(raw) < (request.content_length or 0):  # or sent less than it announced
            raise ApiError(400, "incomplete_body", "the request body ended early")
        if len(raw) > limit:
            raise too_large
        facts["body_read"] = True
        return raw

    def predict(self, request: Request, facts: dict) -> Response:
        from .prediction import answer  # numpy and friends: only once predictions are asked for

        self.check_api_key(request)
        body = parse_json(self.read_body(request, facts), request.content_type)
        predictor = self.predictor()
        body, rows = answer(predictor, body, self.settings.max_batch)
        facts["rows"] = rows
        return json_response(body)

    def protocol(self, error_body: Callable[[ApiError], dict], answer: Callable[..., Any],
                 scores: bool = False) -> Callable[..., Response]:
        """A route of another protocol: the request cycle /predict has, the protocol's answer and errors.

        answer(predictor, **path parameters), and with `scores` (an API key and a JSON body, as for
        /predict) answer(predictor, body, **path parameters); it returns a body, or a body and its rows.
        """
        def route(request: Request, facts: dict, **path: str) -> Response:
            try:
                if scores:
                    self.check_api_key(request)
                    # These protocols' bodies are JSON by definition: a client that names no type
                    # (tritonclient names none) is not refused; one that names another type is.
                    body = parse_json(self.read_body(request, facts), request.content_type or "application/json")
                    result = answer(self.predictor(), body, **path)
                else:
                    result = answer(self.predictor(), **path)
            except ApiError as error:  # these protocols know 400, not 422, for a request they cannot use
                return json_response(error_body(error), 400 if error.status == 422 else error.status,
                                     error.headers)
            if isinstance(result, tuple):
                result, facts["rows"] = result
            return json_response(result)

        return route


PUBLIC_KEYS = ("model", "features", "classes", "decision", "calibration", "metrics",
               "training_data", "feature_quantiles", "preprocessing", "created", "limits")


def public_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    """What /model tells a reader: everything but file hashes and the network's internals."""
    from soundness.ratios import RATIO_BY_NAME, RATIOS

    public = {key: manifest[key] for key in PUBLIC_KEYS if key in manifest}
    public["feature_labels"] = {
        name: {"ko": RATIO_BY_NAME[name].ko, "en": RATIO_BY_NAME[name].en}
        for name in manifest["features"] if name in RATIO_BY_NAME}
    # Every ratio a prediction carries, so the page names them without a copy of this list.
    public["ratio_labels"] = {r.name: {"ko": r.ko, "en": r.en} for r in RATIOS}
    return public
