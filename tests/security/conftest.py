"""Fixtures for the reliability and security tests: a served model, a real server whose
output is read as it comes, raw sockets, and artifact directories to tamper with."""
from __future__ import annotations

import json
import re
import shutil
import socket
import urllib.request
from pathlib import Path

import pytest

from conftest import RunningServer
from soundness import artifacts

ERROR_SHAPE_KEYS = {"code", "message", "details"}


@pytest.fixture(scope="session")
def served_features(served_model_dir) -> list[str]:
    return json.loads((served_model_dir / artifacts.MANIFEST).read_text())["features"]


@pytest.fixture
def serve(start_server):
    """serve(**env) -> a healthy RunningServer (gunicorn, as production), stopped afterwards."""
    return lambda **env: start_server({key: str(value) for key, value in env.items()})


@pytest.fixture(scope="module")
def warm_server(served_model_dir):
    """One real server per test module, its model already loaded (so nothing waits on torch)."""
    server = RunningServer({"MODEL_DIR": str(served_model_dir)})
    try:
        server.wait_healthy()
        urllib.request.urlopen(server.url + "/ready", timeout=60).close()
        yield server
    finally:
        server.stop()


# ---------------------------------------------------------------- raw HTTP

def exchange(port: int, data: bytes, *, timeout: float = 5.0,
             close_write: bool = False) -> tuple[int | None, dict, bytes]:
    """Send raw bytes, read one response: (status, or None if none came in time; headers; body).

    `close_write` half-closes after sending: the client says it has nothing more to send."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        if close_write:
            sock.shutdown(socket.SHUT_WR)
        received = b""
        try:
            while not _complete(received):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
        except (socket.timeout, ConnectionResetError):
            pass
    return _parse(received)


def _complete(received: bytes) -> bool:
    head, sep, body = received.partition(b"\r\n\r\n")
    if not sep:
        return False
    match = re.search(rb"^content-length:\s*(\d+)", head, re.I | re.M)
    return bool(match) and len(body) >= int(match.group(1))


def _parse(received: bytes) -> tuple[int | None, dict, bytes]:
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    match = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
    if not match:
        return None, {}, b""
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(match.group(1)), headers, body


def post_head(path: str, content_length: int | None = None, content_type: str = "application/json",
              extra: str = "") -> bytes:
    """The head of a POST; with content_length None it announces a chunked body."""
    length = ("Transfer-Encoding: chunked\r\n" if content_length is None
              else f"Content-Length: {content_length}\r\n")
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
            f"{length}{extra}\r\n").encode()


def assert_error_shape(body: dict) -> None:
    """The documented error body: {"error": {"code", "message", "details": [{field, problem}]}}."""
    assert set(body) == {"error"}, body
    error = body["error"]
    assert ERROR_SHAPE_KEYS <= set(error) <= ERROR_SHAPE_KEYS | {"details_omitted"}, error
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    for item in error["details"]:
        assert {"field", "problem"} <= set(item) and isinstance(item["problem"], str), item


# ---------------------------------------------------------------- artifacts to tamper with

@pytest.fixture
def model_copy(served_model_dir, tmp_path) -> Path:
    return Path(shutil.copytree(served_model_dir, tmp_path / "model"))
