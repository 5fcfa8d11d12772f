"""The one error type the HTTP layer turns into a JSON answer."""
from __future__ import annotations

from typing import Any


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str,
                 details: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


def detail(field: str | None, problem: str, index: int | None = None) -> dict[str, Any]:
    """One entry of an error's `details`: which row, which field, what is wrong."""
    entry: dict[str, Any] = {"field": field, "problem": problem}
    if index is not None:
        entry = {"index": index, **entry}
    return entry


def summary(error: ApiError, limit: int = 1000) -> str:
    """The error as one line for protocols whose errors are a single string, at most `limit` bytes."""
    parts = [error.message] + [
        " ".join(str(part) for part in (
            f"row {d['index']}:" if "index" in d else None, d["field"], d["problem"]) if part is not None)
        for d in error.details]
    text = "; ".join(parts)
    encoded = text.encode()
    if len(encoded) <= limit:
        return text
    return encoded[:limit - 3].decode(errors="ignore") + "..."
