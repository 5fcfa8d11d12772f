"""What each route answers. The request cycle around them owns errors, CORS and the log line."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from starlette.responses import Response

from soundness.model_card import public_manifest

from . import body, kserve_v1, openapi, pages
from .api_keys import ApiKeys
from .config import Settings
from .errors import NotFound, Unavailable
from .exchange import Exchange
from .heavy import HeavyWork
from .lazy_model import LazyModel, ModelUnavailable
from .lookup import CompanyLookup, requester, require_scoreable, scored_history
from .payloads import check_media_type, parse_json
from .responses import json_response


class Handlers:
    def __init__(self, settings: Settings, model: LazyModel, keys: ApiKeys, lookup: CompanyLookup):
        self.settings = settings
        self.model = model
        self.keys = keys
        self.lookup = lookup
        # DART is called with blocking sockets, off the event loop; on threads of its own, so
        # calls waiting on a slow DART never hold up the model's loading thread. More threads than
        # the lookup lets wait on DART at once (lookup.DART_SLOTS): answers already kept never
        # queue behind calls to DART, and a lookup finding no slot free is refused at once.
        self._dart_threads = ThreadPoolExecutor(max_workers=16, thread_name_prefix="dart")
        self.heavy = HeavyWork()  # a large body's parsing, scoring and answer: off the event loop
        self._openapi: bytes | None = None  # GET /openapi.json's body

    async def predictor(self):
        try:
            return await self.model.get_async()
        except ModelUnavailable as exc:
            raise Unavailable("model_unavailable", str(exc), retry_after=exc.retry_after) from None

    async def health(self, exchange: Exchange) -> Response:
        return json_response({"status": "ok", "model_loaded": self.model.loaded})

    async def ready(self, exchange: Exchange) -> Response:
        predictor = await self.predictor()
        return json_response({"status": "ready", "model": {"name": predictor.name, "version": predictor.version}})

    async def model_info(self, exchange: Exchange) -> Response:
        # max_batch: the page splits a long CSV into requests of this many rows; company_lookup:
        # whether it offers to fill the form from DART; accepts_unknown_inputs: whether a value
        # left blank may be sent as unknown (null) rather than refused.
        predictor = await self.predictor()
        return json_response(
            {
                **public_manifest(predictor.manifest),
                "max_batch": self.settings.max_batch,
                "company_lookup": self.lookup.enabled,
                "accepts_unknown_inputs": predictor.accepts_missing,
            }
        )

    async def openapi(self, exchange: Exchange) -> Response:
        # Built once, for the model loaded (its features are the inputs the document declares), on
        # a thread. While the model cannot be loaded (it is tried again later), the document for
        # none is built for each request instead, and not kept.
        if self._openapi is not None:
            return Response(self._openapi, media_type="application/json")
        try:
            model = await self.predictor()
        except Unavailable:
            model = None
        built = await asyncio.to_thread(lambda: bytes(json_response(openapi.document(self.settings, model)).body))
        if model is not None:
            self._openapi = built
        return Response(built, media_type="application/json")

    async def page(self, exchange: Exchange) -> Response:
        if not kserve_v1.wants_page(exchange.headers.get("accept")):
            return json_response(kserve_v1.ALIVE)  # KServe V1's liveness: GET / is its path
        static = pages.find(self.settings.frontend_dir, "/index.html")
        if static is None:
            raise NotFound("not_found", "no web page is bundled with this deployment")
        return pages.serve(static, exchange)

    async def predict(self, exchange: Exchange) -> Response:
        from .answers import answer  # numpy: main imports it before the fork anyway (platforms -> kserve_v1 -> answers)

        self.keys.check(exchange)
        raw = await body.read(exchange, self.settings.max_body_bytes)
        check_media_type(exchange.headers.get("content-type"))
        async with self.heavy.turn(len(raw)) as run:
            predictor = await self.predictor()
            answered, exchange.rows = await run(answer, predictor, raw, self.settings.max_batch)
            return await run(json_response, answered)

    async def companies(self, exchange: Exchange) -> Response:
        self.keys.check(exchange)  # lookups spend this server's DART quota
        query = exchange.request.query_params.get("q")
        if self.lookup.list_ready():  # the index answers in microseconds: no thread, no waiting
            return json_response(self.lookup.search(query))
        return json_response(await self._off_loop(self.lookup.search, query))

    async def statements(self, exchange: Exchange) -> Response:
        self.keys.check(exchange)
        query = exchange.request.query_params
        answer = await self._off_loop(
            self.lookup.statements, exchange.params["code"], query.get("year"), query.get("fs"), _client(exchange)
        )
        if answer["missing"]:  # only then does the answer depend on the model served
            require_scoreable(answer, await self.predictor())
        return json_response(answer)

    async def history(self, exchange: Exchange) -> Response:
        self.keys.check(exchange)
        history = await self._off_loop(
            self.lookup.history, exchange.params["code"], exchange.request.query_params.get("fs"), _client(exchange)
        )
        return json_response(scored_history(history, await self.predictor(), self.settings.max_batch))

    async def _off_loop(self, call, *args):
        return await asyncio.get_running_loop().run_in_executor(self._dart_threads, call, *args)

    # ------------------------------------------------------------ other protocols' routes

    def constant(self, answer: Any) -> Callable[[Exchange], Awaitable[Response]]:
        """A route that always gives the same answer, and never loads the model."""

        async def handler(exchange: Exchange) -> Response:
            return json_response(answer)

        return handler

    def protocol(
        self,
        answer: Callable[..., Any],
        scores: bool = False,
        media_type: Callable[[dict[str, str]], str] | None = None,
    ) -> Callable[[Exchange], Awaitable[Response]]:
        """A route of another protocol (bigquery.py, kserve_v1.py, open_inference.py): the request
        cycle /predict has and the protocol's answer; its errors take the protocol's shape in the
        request cycle (routes.PROTOCOLS).

        answer(predictor, **path parameters); with `scores` (an API key and a JSON body, as for
        /predict) answer(predictor, body, max_batch=..., **path parameters). It returns a body, or a
        body and how many rows it carried. media_type(headers): what the body is to be read as, for
        a protocol with its own rule; else its declared Content-Type, JSON when it declares none
        (these protocols' bodies are JSON by definition: tritonclient names no type).
        """

        async def handler(exchange: Exchange) -> Response:
            if scores:
                self.keys.check(exchange)
                raw = await body.read(exchange, self.settings.max_body_bytes)
                declared = media_type(exchange.headers) if media_type else exchange.headers.get("content-type")
                async with self.heavy.turn(len(raw)) as run:
                    parsed = await run(parse_json, raw, declared or "application/json")
                    predictor = await self.predictor()
                    result = await run(
                        partial(answer, max_batch=self.settings.max_batch, **exchange.params), predictor, parsed
                    )
                    return await run(self._answered, exchange, result)
            return self._answered(exchange, answer(await self.predictor(), **exchange.params))

        return handler

    @staticmethod
    def _answered(exchange: Exchange, result: Any) -> Response:
        """A protocol's answer as a response; `result` is a body, or a body and how many rows it carried."""
        if isinstance(result, tuple):
            result, exchange.rows = result
        return json_response(result)


def _client(exchange: Exchange) -> str:
    client = exchange.request.client
    return requester(exchange.headers, client.host if client else None)
