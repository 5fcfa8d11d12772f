"""How a request's framing is held, against a real server: chunked bodies cost about what plain
ones do, smuggling shapes are refused and closed, and a client waiting for 100 Continue is
refused before it sends a body nobody would read.

CPU is the worker's (/proc/PID/stat), printed with each test (pytest -s shows it).
"""

import json
import socket
import statistics
import threading
import time

import pytest

from bench.hostile import Prober
from harness.server import cpu_seconds, warm
from helpers import assert_error_shape

from .raw_http import exchange, post_head

pytestmark = pytest.mark.server
KEY = "the-key"
LIMIT = 1 << 20  # MAX_BODY_BYTES of these servers (the default)


@pytest.fixture(scope="module")
def server(served_model_dir):
    server = warm({"MODEL_DIR": str(served_model_dir), "API_KEYS": KEY})
    yield server
    server.stop()


def chunked(body: bytes, size: int, extension: bytes = b"") -> bytes:
    """`body` as chunks of `size` bytes (each with `extension` after its size), then the last chunk."""
    pieces = (body[i : i + size] for i in range(0, len(body), size))
    return b"".join(b"%x%s\r\n%s\r\n" % (len(piece), extension, piece) for piece in pieces) + b"0\r\n\r\n"


def sent_and_answered(port: int, data: bytes, timeout: float = 60) -> bytes:
    """Send `data` (as much as the server takes before closing), then read until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
        except OSError:
            pass  # answered and closed while still sending
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except OSError:
            pass
    return received


def worker_cpu(server, data: bytes) -> tuple[float, bytes]:
    pid = server.worker_pid()
    before = cpu_seconds(pid)
    answer = sent_and_answered(server.port, data)
    time.sleep(0.2)  # the worker finishes what it read
    return cpu_seconds(pid) - before, answer


def keyed_head(content_length: int | None = None, extra: str = "") -> bytes:
    return post_head("/predict", content_length, extra=f"X-API-Key: {KEY}\r\nConnection: close\r\n{extra}")


def long_rows(features: int) -> bytes:
    """A prediction body of about 1 MiB: 1000 rows of numbers written with 60 digits."""
    number = "1." + "0" * 57 + "1"
    return ('{"data": [' + ",".join(["[" + ",".join([number] * features) + "]"] * 1000) + "]}").encode()


def test_a_body_of_one_byte_chunks_costs_per_byte_on_the_wire_what_a_plain_body_costs(server, served_features):
    body = long_rows(len(served_features))
    plain_cpu, plain = worker_cpu(server, keyed_head(len(body)) + body)
    wire = keyed_head() + chunked(body, 1)  # 6 MB on the wire
    chunked_cpu, answer = worker_cpu(server, wire)
    per_byte_plain, per_byte_chunked = plain_cpu / len(body), chunked_cpu / len(wire)
    print(
        f"\nworker CPU: plain {len(body) / 1e6:.2f} MB {plain_cpu * 1000:.0f} ms ({per_byte_plain * 1e9:.1f} ns/byte); "
        f"1-byte chunks, {len(wire) / 1e6:.1f} MB on the wire, {chunked_cpu * 1000:.0f} ms "
        f"({per_byte_chunked * 1e9:.1f} ns/byte)"
    )
    assert plain.startswith(b"HTTP/1.1 200")
    assert answer.startswith(b"HTTP/1.1 413")
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["error"]["code"] == "payload_too_large"
    assert per_byte_chunked <= 3 * per_byte_plain


def test_four_chunk_tricklers_at_once_leave_health_answering(server):
    wire = keyed_head() + chunked(b" " * LIMIT, 1)
    pid = server.worker_pid()
    before = cpu_seconds(pid)
    senders = [threading.Thread(target=sent_and_answered, args=(server.port, wire)) for _ in range(4)]
    for sender in senders:
        sender.start()
    prober = Prober(server.url, ("/health",))  # timed by curl, beside this process's threads
    for sender in senders:
        sender.join()
    waits = prober.stop()["/health"]
    spent = cpu_seconds(pid) - before
    print(
        f"\nfour 6 MB chunk tricklers: worker CPU {spent:.2f} s, /health median {statistics.median(waits):.3f} s, "
        f"slowest {max(waits):.3f} s"
    )
    assert spent < 1.0  # 9.6 s before framing counted and chunks were bounded
    assert statistics.median(waits) < 0.25  # the longest is the machine's: the worker spent 0.1 s of CPU


def test_framing_counts_toward_the_limit(server):
    # 100 bytes of data, each byte with 15 KB of chunk extension: 1.5 MB on the wire.
    wire = keyed_head() + chunked(b" " * 100, 1, b";x=" + b"a" * 15_000)
    status, headers, body = exchange(server.port, wire, timeout=30)
    assert status == 413 and headers["connection"] == "close"
    assert_error_shape(json.loads(body))


def test_a_chunked_body_in_a_chunk_per_row_is_served(server, served_features):
    rows = [[1.0 + i] * len(served_features) for i in range(1000)]
    text = json.dumps({"data": rows}).encode()
    pieces = [text[: text.index(b"[[") + 1]] + [json.dumps(row).encode() + b"," for row in rows]
    pieces[-1] = pieces[-1][:-1] + b"]}"
    assert b"".join(pieces) == text.replace(b", [", b",[")
    wire = keyed_head() + b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
    status, _, body = exchange(server.port, wire, timeout=30)
    assert status == 200 and len(json.loads(body)["predictions"]) == 1000


@pytest.mark.parametrize(
    "what, head",
    [
        ("Content-Length before Transfer-Encoding", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"),
        ("Transfer-Encoding before Content-Length", "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"),
        ("Transfer-Encoding folded over two lines", "Transfer-Encoding:\r\n chunked\r\n"),
        ("another header folded", "Transfer-Encoding: chunked\r\nX-Note: one\r\n\ttwo\r\n"),
    ],
)
def test_smuggling_shapes_are_refused_and_nothing_pipelined_after_them_is_answered(server, served_features, what, head):
    body = json.dumps({"data": [[1.0] * len(served_features)]}).encode()
    request = (
        f"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-API-Key: {KEY}\r\n{head}\r\n"
    ).encode() + chunked(body, len(body))
    pipelined = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    answer = sent_and_answered(server.port, request + pipelined, timeout=10)
    assert answer.startswith(b"HTTP/1.1 400"), (what, answer[:200])
    assert answer.count(b"HTTP/1.1 ") == 1, what  # the connection closed after the one answer
    head_text, _, error = answer.partition(b"\r\n\r\n")
    assert b"connection: close" in head_text.lower()
    assert_error_shape(json.loads(error))


def test_the_same_request_unfolded_and_chunked_alone_is_served(server, served_features):
    body = json.dumps({"data": [[1.0] * len(served_features)]}).encode()
    status, _, _ = exchange(server.port, keyed_head() + chunked(body, 7), timeout=10)
    assert status == 200


def expecting(key: str | None, length: int = 100) -> bytes:
    return post_head("/predict", length, extra=(f"X-API-Key: {key}\r\n" if key else "") + "Expect: 100-continue\r\n")


@pytest.mark.parametrize("key", [None, "wrong"])
def test_expect_100_continue_without_a_valid_key_is_401_before_any_100_continue(server, key):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(expecting(key))  # and waits, as curl does, for 100 Continue or an answer
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert received.startswith(b"HTTP/1.1 401"), received[:100]
    assert b"100 Continue" not in received
    head, _, body = received.partition(b"\r\n\r\n")
    assert b"connection: close" in head.lower()  # the body it did not send is not waited for
    assert json.loads(body)["error"]["code"] == "unauthorized"


def test_expect_100_continue_with_the_key_gets_100_continue_then_the_answer(server, served_features):
    body = json.dumps({"data": [[1.0] * len(served_features)]}).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(expecting(KEY, len(body)))
        assert sock.recv(65536).startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(body)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
