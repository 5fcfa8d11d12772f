"""Reading a request's body: within MAX_BODY_BYTES, and complete, or a JSON refusal."""
from __future__ import annotations

from starlette.requests import ClientDisconnect

from .errors import ApiError, detail
from .exchange import Exchange


def declared_length(exchange: Exchange) -> int | None:
    """Content-Length as the client announced it (the server has checked it is digits)."""
    raw = exchange.request.headers.get("content-length")
    return int(raw) if raw is not None else None


async def read(exchange: Exchange, limit: int) -> bytes:
    too_large = ApiError(413, "payload_too_large", f"the body may be at most {limit} bytes",
                         [detail(None, f"body larger than {limit} bytes")])
    length = declared_length(exchange)
    if length is not None and length > limit:
        raise too_large  # refused before reading a byte of it
    chunks, size = [], 0
    try:
        async for chunk in exchange.request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
    except ClientDisconnect:  # the client went away mid-body
        raise ApiError(400, "incomplete_body", "the request body ended early") from None
    if size < (length or 0):  # the client stopped sending (half-closed) before the announced length
        raise ApiError(400, "incomplete_body", "the request body ended early")
    exchange.body_read = True
    return b"".join(chunks)
