"""Refusals: what the domain code (payloads, lookup, answers, the protocol modules) raises when a
request cannot be answered, by kind and never by HTTP status; and the table that maps each kind to
a status. Each protocol keeps its own table beside its error shape (kserve_v1.STATUSES: a request
it cannot use is 400 there, 422 on /predict); `status_of` reads one. ApiError is the HTTP layer's
own refusal (401, 404/405 of a route, 408, 413), which carries its status."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# An error answer stays small whatever the body was (the platform caps answers at 32 MiB and
# the instance has 1 GiB): at most this many details, each repeating at most MAX_ECHO
# characters of what the client sent. 50 details of ~500 bytes is ~25 KiB, under 64 KiB.
MAX_DETAILS = 50
MAX_ECHO = 64

Detail = dict[str, Any]


class Refusal(Exception):
    """A request that cannot be answered, said for its client: a code, a message and details
    naming the row and the field. `retry_after`: seconds after which asking again may work."""

    def __init__(
        self,
        code: str,
        message: str,
        details: list[Detail] | None = None,
        *,
        omitted: int = 0,
        retry_after: int | None = None,
    ):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or []
        self.omitted = omitted  # details the raiser did not even build
        self.headers: dict[str, str] = {} if retry_after is None else {"Retry-After": str(retry_after)}

    def body(self) -> dict[str, Any]:
        return {"error": error_object(self.code, self.message, self.details, self.omitted)}


class Malformed(Refusal):
    """The body cannot be read: not JSON, not UTF-8, a key twice in one object."""


class UnsupportedMedia(Refusal):
    """The body is declared as something other than JSON."""


class Invalid(Refusal):
    """Read, but not a request that can be answered: a wrong field, a value out of range, no row
    that can be scored, a query parameter malformed."""


class NotFound(Refusal):
    """What the request names does not exist: a company, a filing, a model."""


class Unavailable(Refusal):
    """Cannot be answered now: the model cannot be loaded, the lookup is off or refused."""


class Busy(Refusal):
    """A quota is used up (DART's daily limit): ask again after `retry_after`."""


class UpstreamFailed(Refusal):
    """A service we call (DART) answered something that cannot be used, or not at all."""


class UpstreamTimeout(Refusal):
    """A service we call (DART) did not answer in time."""


class ApiError(Refusal):
    """A refusal of the HTTP layer itself, which knows its status (401 no key, 404 no route, 405,
    408 a slow body, 413 a large one)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: list[Detail] | None = None,
        headers: dict[str, str] | None = None,
        omitted: int = 0,
    ):
        super().__init__(code, message, details, omitted=omitted)
        self.status = status
        self.headers = headers or {}


# /predict's table, and the one every protocol starts from.
STATUSES: Mapping[type[Refusal], int] = {
    Malformed: 400,
    NotFound: 404,
    UnsupportedMedia: 415,
    Invalid: 422,
    Busy: 429,
    UpstreamFailed: 502,
    Unavailable: 503,
    UpstreamTimeout: 504,
}


def status_of(error: Refusal, statuses: Mapping[type[Refusal], int] = STATUSES) -> int:
    """The HTTP status of a refusal under a protocol's table (its own, for an ApiError)."""
    if isinstance(error, ApiError):
        return error.status
    return next(statuses[kind] for kind in type(error).__mro__ if kind in statuses)


def error_object(code: str, message: str, details: list[Detail], omitted: int = 0) -> dict[str, Any]:
    """{code, message, details}, the details capped at MAX_DETAILS and the rest counted."""
    error: dict[str, Any] = {"code": code, "message": message, "details": details[:MAX_DETAILS]}
    omitted += max(len(details) - MAX_DETAILS, 0)
    if omitted:
        error["details_omitted"] = omitted
    return error


def echo(text: str) -> str:
    """A client's text (a key, a name) as an answer repeats it: cut to MAX_ECHO characters."""
    return text if len(text) <= MAX_ECHO else text[:MAX_ECHO] + "…"


def detail(field: str | None, problem: str, index: int | None = None) -> Detail:
    """One entry of an error's `details`: which row, which field, what is wrong."""
    entry: Detail = {"field": None if field is None else echo(field), "problem": problem}
    if index is not None:
        entry = {"index": index, **entry}
    return entry


def summary(error: Refusal, limit: int = 1000) -> str:
    """The error as one line for protocols whose errors are a single string, at most `limit` bytes."""
    parts = [error.message] + [
        " ".join(
            str(part)
            for part in (f"row {d['index']}:" if "index" in d else None, d["field"], d["problem"])
            if part is not None
        )
        for d in error.details
    ]
    text = "; ".join(parts)
    encoded = text.encode()
    if len(encoded) <= limit:
        return text
    return encoded[: limit - 3].decode(errors="ignore") + "..."
