"""API keys: when configured, predictions and company searches need one of them in X-API-Key."""

from __future__ import annotations

import hmac

from .errors import ApiError, detail
from .exchange import Exchange


class ApiKeys:
    def __init__(self, keys: tuple[str, ...]):
        self._keys = [key.encode() for key in keys]

    @property
    def required(self) -> bool:
        return bool(self._keys)

    def check(self, exchange: Exchange) -> None:
        if not self._keys:
            return
        given = exchange.headers.get("x-api-key", "").encode()
        # Compare against every key, always, so timing tells nothing about which nearly matched.
        matches = [hmac.compare_digest(given, key) for key in self._keys]
        if not any(matches):
            raise ApiError(
                401,
                "unauthorized",
                "a valid X-API-Key header is required for predictions and company searches",
                [detail("X-API-Key", "missing or not recognised")],
            )
