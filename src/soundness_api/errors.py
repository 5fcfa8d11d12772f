"""The one error type the HTTP layer turns into a JSON answer."""

from __future__ import annotations

from typing import Any

# An error answer stays small whatever the body was (the platform caps answers at 32 MiB and
# the instance has 1 GiB): at most this many details, each repeating at most MAX_ECHO
# characters of what the client sent. 50 details of ~500 bytes is ~25 KiB, under 64 KiB.
MAX_DETAILS = 50
MAX_ECHO = 64


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        omitted: int = 0,
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []
        self.headers = headers or {}
        self.omitted = omitted  # details the raiser did not even build

    def body(self) -> dict[str, Any]:
        return {"error": error_object(self.code, self.message, self.details, self.omitted)}


def error_object(code: str, message: str, details: list[dict[str, Any]], omitted: int = 0) -> dict[str, Any]:
    """{code, message, details}, the details capped at MAX_DETAILS and the rest counted."""
    error = {"code": code, "message": message, "details": details[:MAX_DETAILS]}
    omitted += max(len(details) - MAX_DETAILS, 0)
    if omitted:
        error["details_omitted"] = omitted
    return error


def echo(text: str) -> str:
    """A client's text (a key, a name) as an answer repeats it: cut to MAX_ECHO characters."""
    return text if len(text) <= MAX_ECHO else text[:MAX_ECHO] + "…"


def detail(field: str | None, problem: str, index: int | None = None) -> dict[str, Any]:
    """One entry of an error's `details`: which row, which field, what is wrong."""
    entry: dict[str, Any] = {"field": None if field is None else echo(field), "problem": problem}
    if index is not None:
        entry = {"index": index, **entry}
    return entry


def summary(error: ApiError, limit: int = 1000) -> str:
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
