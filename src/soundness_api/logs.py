"""One JSON object per line on fd 1: the shape Cloud Logging turns into structured entries.

Written to file descriptor 1 itself, not through `sys.stdout`: functions-framework swaps
`sys.stdout` for a text wrapper of its own during each request where LOG_EXECUTION_ID is set
(and tests capture it), and a line must reach the platform's log agent whatever stands there.
The fields that tie a line to its request (trace, span, execution id) are added here, from the
request's headers, to every line written while that request is served (`for_request`).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import os
import select
import threading
import time
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import Any

import orjson

from .exchange import Exchange

STDOUT = 1
TRACE = "logging.googleapis.com/trace"
SPAN = "logging.googleapis.com/spanId"
LABELS = "logging.googleapis.com/labels"  # Cloud Run functions' own lines carry {"execution_id": ...}
EXECUTION_ID_HEADER = "function-execution-id"
MAX_ID_CHARS = 64

# The request-tying fields of the request being served in this context (task or its threads).
_request_fields: ContextVar[Mapping[str, Any]] = ContextVar("request_fields", default={})  # noqa: B039 - never mutated


def request_fields(headers: Mapping[str, str]) -> dict[str, Any]:
    """What ties a line to its request: `X-Cloud-Trace-Context: TRACE/SPAN;o=1` as Cloud Logging's
    trace (projects/PROJECT/traces/TRACE with GOOGLE_CLOUD_PROJECT) and span (16 hex digits; the
    header's are decimal), and the Function-Execution-Id header as the execution_id label.
    A malformed value is left out, never guessed at."""
    fields: dict[str, Any] = {}
    trace, _, rest = (headers.get("x-cloud-trace-context") or "").partition("/")
    trace = trace.strip()
    if trace and trace.isascii() and trace.isalnum() and len(trace) <= MAX_ID_CHARS:
        project = os.environ.get("GOOGLE_CLOUD_PROJECT")
        fields[TRACE] = f"projects/{project}/traces/{trace}" if project else trace
        span = rest.split(";", 1)[0].strip()
        if span.isascii() and span.isdigit() and 0 < int(span) < 1 << 64:
            fields[SPAN] = f"{int(span):016x}"
    execution_id = headers.get(EXECUTION_ID_HEADER, "").strip()
    if execution_id and execution_id.isascii() and execution_id.isprintable() and len(execution_id) <= MAX_ID_CHARS:
        fields[LABELS] = {"execution_id": execution_id}
    return fields


@contextlib.contextmanager
def for_request(headers: Mapping[str, str]) -> Iterator[None]:
    """Every line written inside (by this task, or a thread it starts with asyncio.to_thread)
    carries the request's trace, span and execution id."""
    token = _request_fields.set(request_fields(headers))
    try:
        yield
    finally:
        _request_fields.reset(token)


# JSON leaves these unescaped, yet some readers (Python's str.splitlines among them) end a line at
# them: escaped, a request path holding one cannot split its log line in two. As UTF-8 bytes.
LINE_ENDS = {c.encode(): f"\\u{ord(c):04x}".encode() for c in "\x85\u2028\u2029"}


def emit(severity: str, message: str, _soon: bool = False, **fields: Any) -> None:
    """One line; with `_soon`, from a request on the event loop, written when the loop's turn ends."""
    _write(line(severity, message, **fields), _soon)


def line(severity: str, message: str, **fields: Any) -> bytes:
    """The JSON line, ending in a newline, with the fields of the request being served."""
    record = {"severity": severity, "message": message, **fields, **_request_fields.get()}
    # orjson, as bytes for the file descriptor: a request's line in about 1.5 us of CPU, where
    # json.dumps took 10 and orjson through the text layer 4.
    try:
        encoded = orjson.dumps(record, default=str, option=orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONEncodeError:  # a lone surrogate (\ud800) from a path: only escapes carry it
        encoded = (json.dumps(record, default=str) + "\n").encode()  # ASCII: no line end left unescaped
    # A quick sieve: U+0085's bytes, and those U+2028 and U+2029 start with.
    if b"\xc2\x85" in encoded or b"\xe2\x80" in encoded:
        for raw, escaped in LINE_ENDS.items():
            encoded = encoded.replace(raw, escaped)
    return encoded


# Lines waiting for the end of the event loop's turn, and the loop that will write them.
_waiting: list[bytes] = []
_writer_loop = None
_lock = threading.Lock()


def _write(line: bytes, soon: bool) -> None:
    """Write now, or `soon`: once the running event loop has run what is ready, so the lines of
    the requests answered in one turn of the loop go out in one write. A write is a system call
    of about 25 us here, more than the rest of a request's log line; the lines still leave before the loop waits.
    Only request lines wait: any other line may come from a thread that merely has a loop."""
    global _writer_loop
    loop = asyncio.get_running_loop() if soon else None
    with _lock:
        _waiting.append(line)
        if loop is None:
            _drain()
        elif _writer_loop is not loop:  # none scheduled (or on a loop since closed)
            _writer_loop = loop
            loop.call_soon(_write_waiting)


@atexit.register  # a loop stopped before its turn ended: its lines still go out
def _write_waiting() -> None:
    global _writer_loop
    with _lock:
        _writer_loop = None
        _drain()


def _drain() -> None:
    if not _waiting:
        return
    data = memoryview(b"".join(_waiting))
    _waiting.clear()
    while data:
        try:
            data = data[os.write(STDOUT, data) :]  # a pipe may take part of a long write
        except BlockingIOError:  # fd 1 shared with a parent that made it non-blocking
            select.select([], [STDOUT], [])


def request(exchange: Exchange, status: int, started: float, model_version: str | None) -> None:
    """The request's one line: method, path, status, latency, rows; never a body's values."""
    severity = "ERROR" if status >= 500 else "WARNING" if status >= 400 else "INFO"
    method, path = exchange.request.method, exchange.request.scope["path"][:200]
    emit(
        severity,
        f"{method} {path} {status}",
        _soon=True,
        httpRequest={
            "requestMethod": method,
            "requestUrl": path,
            "status": status,
            "latency": f"{time.perf_counter() - started:.6f}s",
        },
        rows=exchange.rows,
        model_version=model_version,
    )
