"""One request as the handlers see it, and what they note about it for the log line."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from starlette.requests import Request


@dataclass
class Exchange:
    request: Request
    path: str  # without a trailing slash; "/" for the root
    params: dict[str, str] = field(default_factory=dict)  # named by the route's path template
    rows: int | None = None  # how many rows a prediction carried
    body_received: int = 0  # bytes of the body read so far
    body_read: bool = False  # nothing of the body is left to read on the connection

    @cached_property
    def headers(self) -> dict[str, str]:
        """The request's headers by lower-case name (the server gives them so), the first of a
        repeated one as starlette's `Headers.get` does: read once, where each `Headers.get`
        searched the list anew."""
        found: dict[str, str] = {}
        for name, value in self.request.scope["headers"]:
            found.setdefault(name.decode("latin-1"), value.decode("latin-1"))
        return found
