"""What each route answers. The request cycle around them owns errors, CORS and the log line."""
from __future__ import annotations

from starlette.responses import Response

from soundness.model_card import public_manifest
from . import body, openapi, pages
from .api_keys import ApiKeys
from .config import Settings
from .errors import ApiError
from .exchange import Exchange
from .lazy_model import LazyModel, ModelUnavailable
from .payloads import parse_json
from .responses import json_response


class Handlers:
    def __init__(self, settings: Settings, model: LazyModel, keys: ApiKeys):
        self.settings = settings
        self.model = model
        self.keys = keys

    async def predictor(self):
        try:
            return await self.model.get_async()
        except ModelUnavailable as exc:
            raise ApiError(503, "model_unavailable", str(exc), headers={"Retry-After": "60"}) from None

    async def health(self, exchange: Exchange) -> Response:
        return json_response({"status": "ok", "model_loaded": self.model.loaded})

    async def ready(self, exchange: Exchange) -> Response:
        predictor = await self.predictor()
        return json_response({"status": "ready",
                              "model": {"name": predictor.name, "version": predictor.version}})

    async def model_info(self, exchange: Exchange) -> Response:
        return json_response(public_manifest((await self.predictor()).manifest))

    async def openapi(self, exchange: Exchange) -> Response:
        return json_response(openapi.document(self.settings))

    async def page(self, exchange: Exchange) -> Response:
        static = pages.find(self.settings.frontend_dir, "/index.html")
        if static is None:
            raise ApiError(404, "not_found", "no web page is bundled with this deployment")
        return pages.serve(static)

    async def predict(self, exchange: Exchange) -> Response:
        from .prediction import answer  # numpy and friends: only once predictions are asked for

        self.keys.check(exchange.request)
        raw = await body.read(exchange, self.settings.max_body_bytes)
        parsed = parse_json(raw, exchange.request.headers.get("content-type"))
        answered, exchange.rows = answer(await self.predictor(), parsed, self.settings.max_batch)
        return json_response(answered)
