"""Clients that stall, trickle, or send what nobody will read, against a real server.

The server keeps answering everyone else; a stalled request gets 408 once its time is up; a
refused body is read and dropped up to MAX_BODY_BYTES so the client's connection serves its
next request, and beyond that the answer says Connection: close and the connection closes
cleanly, so urllib, requests and curl all read the answer instead of a broken pipe.
"""

import json
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import requests

from harness.server import cpu_seconds, warm
from helpers import assert_error_shape, post_json

from .raw_http import exchange, post_head

pytestmark = pytest.mark.server
DEADLINE = 3  # CLIENT_TIMEOUT_SECONDS of these servers
KEY = "the-key"
SIZES = {"200 KB": 200_000, "2 MB": 2_000_000, "20 MB": 20_000_000}


@pytest.fixture(scope="module")
def server(served_model_dir):
    server = warm({"MODEL_DIR": str(served_model_dir), "CLIENT_TIMEOUT_SECONDS": str(DEADLINE), "API_KEYS": KEY})
    yield server
    server.stop()


def row(n: int) -> bytes:
    return json.dumps({"data": [[1.0] * n]}).encode()


def silent_clients(port: int) -> list[socket.socket]:
    """64 connections that each send part of a request and then nothing."""
    shapes = [
        post_head("/predict", 10),  # headers announcing a body, then nothing
        b"POST /pred",  # a request line trickled, never finished
        post_head("/predict") + b"5\nhello\n",  # a chunked body with bare LF line ends
        post_head("/predict", 1000) + b'{"data": ',  # half a body
    ]
    clients = []
    for i in range(64):
        sock = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE * 3)
        sock.sendall(shapes[i % len(shapes)])
        clients.append(sock)
    return clients


def test_sixty_four_silent_clients_do_not_stop_health_or_predictions(server, served_features):
    clients = silent_clients(server.port)
    try:
        started = time.monotonic()
        with urllib.request.urlopen(server.url + "/health", timeout=5) as response:
            assert response.status == 200
        assert time.monotonic() - started < 1.0
        for _ in range(5):
            status, body, _ = post_json(
                server.url + "/predict", json.loads(row(len(served_features))), {"X-API-Key": KEY}, timeout=5
            )
            assert status == 200 and body["predictions"][0]["label"] in (0, 1)
    finally:
        for sock in clients:
            sock.close()


def test_a_request_that_stops_arriving_gets_408_json_and_is_closed(server):
    answers = []
    for partial in (
        post_head("/predict", 10, extra=f"X-API-Key: {KEY}\r\n"),
        post_head("/predict", 1000, extra=f"X-API-Key: {KEY}\r\n") + b'{"data": ',
        b"POST /predict HTTP/1.1\r\nHost: x\r\n",
    ):
        started = time.monotonic()
        status, headers, body = exchange(server.port, partial, timeout=DEADLINE * 3)
        answers.append((status, time.monotonic() - started))
        assert status == 408, partial
        assert headers["connection"] == "close"
        assert json.loads(body)["error"]["code"] in ("body_timeout", "request_timeout")
        assert_error_shape(json.loads(body))
    assert all(DEADLINE - 0.5 < waited < DEADLINE + 2 for _, waited in answers), answers


def big_body(tmp_path: Path, size: int) -> Path:
    path = tmp_path / f"body-{size}"
    path.write_bytes(b" " * size)
    return path


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_a_refused_body_leaves_urllib_requests_and_curl_reading_the_answer(server, tmp_path, size):
    url = server.url + "/predict"
    keeps_alive = size <= 1 << 20  # MAX_BODY_BYTES: read and dropped; beyond it, the connection closes
    body = big_body(tmp_path, size)
    wrong = {"Content-Type": "application/json", "X-API-Key": "wrong"}

    request = urllib.request.Request(url, data=body.read_bytes(), headers=wrong, method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 401 and json.loads(refused.value.read())["error"]["code"] == "unauthorized"

    with requests.Session() as session:
        answer = session.post(url, data=body.read_bytes(), headers=wrong, timeout=30)
        assert answer.status_code == 401 and answer.json()["error"]["code"] == "unauthorized"
        assert (answer.headers.get("Connection") == "close") is not keeps_alive
        for _ in range(3):  # the same session's next requests are answered
            assert session.get(server.url + "/health", timeout=10).status_code == 200

    curl = subprocess.run(
        [
            "curl",
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{num_connects}\\n",
            "-H",
            "Content-Type: application/json",
            "-H",
            "X-API-Key: wrong",
            "--data-binary",
            f"@{body}",
            url,
            "--next",
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{num_connects}\\n",
            server.url + "/health",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert curl.returncode == 0, curl.stderr
    (first, _), (second, reconnects) = (line.split() for line in curl.stdout.split("\n") if line)
    assert (first, second) == ("401", "200")
    assert reconnects == ("0" if keeps_alive else "1")  # the second request reused the connection


@pytest.mark.parametrize("size", [2_000_000, 20_000_000], ids=["2 MB", "20 MB"])
def test_a_body_over_the_limit_is_413_with_connection_close_for_urllib(server, tmp_path, size):
    request = urllib.request.Request(
        server.url + "/predict",
        data=big_body(tmp_path, size).read_bytes(),
        headers={"Content-Type": "application/json", "X-API-Key": KEY},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 413 and refused.value.headers["Connection"] == "close"
    assert json.loads(refused.value.read())["error"]["code"] == "payload_too_large"


@pytest.mark.parametrize(
    "what, head, status",
    [
        ("a 100 KB URL", b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        ("100 KB of headers", b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n", 431),
        ("a request line that never ends", b"GET /" + b"a" * 100_000, 414),
    ],
)
def test_long_request_lines_and_headers_get_json_refusals(server, what, head, status):
    got, headers, body = exchange(server.port, head, timeout=10)
    assert got == status, what
    assert headers["content-type"] == "application/json"
    assert_error_shape(json.loads(body))


def test_a_16_mb_request_line_costs_the_server_at_most_50_ms_of_cpu(server):
    before = cpu_seconds(server.worker_pid())
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        try:
            sock.sendall(b"GET /" + b"a" * (16 << 20) + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        except OSError:
            pass  # refused and closed while still sending: what we want
    time.sleep(0.5)
    assert cpu_seconds(server.worker_pid()) - before <= 0.05


@pytest.mark.parametrize(
    "head, status",
    [
        (b"GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n", 501),
        (b"GET /health HTTP/1.1\r\n\r\n", 400),  # no Host
        (b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 1e3\r\n\r\n", 400),
        (b"TRACE /predict HTTP/1.1\r\nHost: x\r\n\r\n", 405),
    ],
)
def test_the_servers_own_refusals_are_json(server, head, status):
    got, headers, body = exchange(server.port, head, timeout=10)
    assert got == status
    assert headers["content-type"] == "application/json"
    assert_error_shape(json.loads(body))
    if status == 405:
        assert headers["allow"] == "OPTIONS, POST"


def test_the_server_keeps_answering_after_all_that(server, served_features):
    threads = [
        threading.Thread(target=exchange, args=(server.port, post_head("/predict", 10)), kwargs={"timeout": 1})
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    status, _, _ = post_json(server.url + "/predict", json.loads(row(len(served_features))), {"X-API-Key": KEY})
    assert status == 200
    errors = [line for line in server.log_lines() if line.get("httpRequest", {}).get("status", 0) >= 500]
    assert {line["httpRequest"]["status"] for line in errors} <= {501}  # only the refused transfer coding
