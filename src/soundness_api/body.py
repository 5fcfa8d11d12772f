"""Reading a request's body: its coding and charset, within MAX_BODY_BYTES, complete, in time.

And the other side of it: a body the handler did not read (a refusal) is read and dropped
up to a bound, so the client's connection stays usable; beyond the bound the answer closes it.
A client waiting for `100 Continue` before sending its body is never asked for one nobody
will read: the refusal comes first, and closes the connection.
"""

from __future__ import annotations

import zlib

from .connection import BODY_DEADLINE, BODY_OVERRUN, MAX_CHUNKS
from .errors import ApiError, detail
from .exchange import Exchange

CHARSETS = ("utf-8", "utf8")


def declared_length(exchange: Exchange) -> int | None:
    """Content-Length as the client announced it (the server has checked it is digits)."""
    raw = exchange.headers.get("content-length")
    return int(raw) if raw is not None else None


def has_body(exchange: Exchange) -> bool:
    return bool(declared_length(exchange)) or "transfer-encoding" in exchange.headers


def _marked(exchange: Exchange, mark: str) -> bool:
    """Whether the server ended the body early, marked `mark` (connection.py)."""
    return mark in exchange.request.scope.get("extensions", ())


def _coding(exchange: Exchange) -> str:
    """The body's content coding: "identity" or "gzip"; 415 for any other."""
    coding = exchange.headers.get("content-encoding", "").strip().lower() or "identity"
    if coding not in ("identity", "gzip"):
        raise ApiError(
            415,
            "unsupported_content_encoding",
            "send the body as is, or gzip-compressed",
            [detail("Content-Encoding", f"got {coding[:50]}; accepted: identity, gzip")],
        )
    return coding


def _check_charset(exchange: Exchange) -> None:
    for parameter in exchange.headers.get("content-type", "").split(";")[1:]:
        name, _, value = parameter.partition("=")
        charset = value.strip().strip('"').lower()
        if name.strip().lower() == "charset" and charset not in CHARSETS:
            raise ApiError(
                415,
                "unsupported_charset",
                "send the body as UTF-8",
                [detail("Content-Type", f"charset {charset[:50]}; accepted: utf-8")],
            )


async def read(exchange: Exchange, limit: int) -> bytes:
    """The body, decoded: at most `limit` bytes on the wire and after gunzipping (413); 408 if
    the server's deadline ended it (connection.py), 400 if the client stopped short of its length."""
    coding = _coding(exchange)
    _check_charset(exchange)
    length = declared_length(exchange)
    if length is not None and length > limit:
        raise _too_large(limit)  # refused before reading a byte of it
    chunks, size, receive = [], 0, exchange.request.receive
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away mid-body
            exchange.body_read = True
            raise ApiError(400, "incomplete_body", "the request body ended early")
        chunk = message.get("body", b"")
        size += len(chunk)
        exchange.body_received = size
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    exchange.body_read = True
    if _marked(exchange, BODY_DEADLINE):
        raise ApiError(408, "body_timeout", "the body did not arrive in time", headers={"Connection": "close"})
    if _marked(exchange, BODY_OVERRUN):  # its framing took it over the limit, or it came in too many chunks
        raise _too_large(limit, f"body larger than {limit} bytes on the wire, or in more than {MAX_CHUNKS} chunks")
    if size < (length or 0):  # the client half-closed before sending all it announced
        raise ApiError(400, "incomplete_body", "the request body ended early")
    raw = b"".join(chunks)
    return _gunzip(raw, limit) if coding == "gzip" else raw


def _too_large(limit: int, problem: str | None = None) -> ApiError:
    return ApiError(
        413,
        "payload_too_large",
        f"the body may be at most {limit} bytes",
        [detail(None, problem or f"body larger than {limit} bytes")],
        {"Connection": "close"} if problem else None,
    )


def _gunzip(raw: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(wbits=31)  # gzip framing
    try:
        data = inflater.decompress(raw, limit + 1)  # never more than the limit in memory
    except zlib.error:
        raise ApiError(
            400, "malformed_body", "the body is not valid gzip", [detail("Content-Encoding", "gzip declared")]
        ) from None
    if len(data) > limit or inflater.unconsumed_tail:
        raise _too_large(limit)
    if not inflater.eof:
        raise ApiError(
            400, "malformed_body", "the gzip body ended early", [detail("Content-Encoding", "gzip declared")]
        )
    return data


async def discard(exchange: Exchange, bound: int) -> bool:
    """Read and drop what is left of a body nobody read; True if it ended within `bound` bytes
    and in time (the connection can serve the client's next request)."""
    if exchange.body_read or not has_body(exchange):
        return True
    length = declared_length(exchange)
    size = exchange.body_received
    if (length or 0) > bound or size > bound:
        return False
    if size == 0 and exchange.headers.get("expect", "").lower() == "100-continue":
        return False  # reading would send 100 Continue, asking for a body only to drop it
    while True:
        message = await exchange.request.receive()
        if message["type"] != "http.request":
            return False
        size += len(message.get("body", b""))
        if size > bound:
            return False
        if not message.get("more_body", False):
            exchange.body_read = True
            return not (_marked(exchange, BODY_DEADLINE) or _marked(exchange, BODY_OVERRUN))
