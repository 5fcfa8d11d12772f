"""One request as the handlers see it, and what they note about it for the log line."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request


@dataclass
class Exchange:
    request: Request
    path: str  # without a trailing slash; "/" for the root
    params: dict[str, str] = field(default_factory=dict)  # named by the route's path template
    rows: int | None = None  # how many rows a prediction carried
    body_received: int = 0  # bytes of the body read so far
    body_read: bool = False  # nothing of the body is left to read on the connection
