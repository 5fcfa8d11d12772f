"""Hostile requests, each with the status a careful public API gives it.

The first battery runs in-process, body by body; the second talks raw HTTP to a real
server (gunicorn, as production) for what only a socket can do: announce a body and
never send it, send it slowly, cut it short, or send a chunked one without end.
After every battery the instance still answers a plain prediction.
"""

import json
import socket
import threading
import time

import pytest

from helpers import SMALL_STATEMENT, assert_error_shape, mimetype

from .raw_http import exchange, post_head

MAX_BATCH = 1000
MAX_BODY = 1 << 20
JSON = "application/json"


def statement(**changes):
    return {**SMALL_STATEMENT, **changes}


def dumps(value) -> bytes:
    return json.dumps(value).encode()


def battery(n: int, clips: bool, unknowns: bool) -> list[tuple[str, bytes, str | None, int, str | None]]:
    """(what, body, content type, expected status, expected error code) for a model of n features;
    `clips`: the model clips its inputs to bounds, so any number within the limits is scoreable;
    `unknowns`: it takes unknown inputs, so null and a ratio that cannot be computed are scored."""
    unknown = (200, None) if unknowns else (422, "invalid_input")
    row = [1.0] * n
    data = lambda *rows: dumps({"data": list(rows)})  # noqa: E731
    raw_row = lambda text: ('{"data": [[' + ", ".join([text] + ["1"] * (n - 1)) + "]]}").encode()  # noqa: E731
    return [
        ("empty body", b"", JSON, 400, "malformed_json"),
        ("only whitespace", b" \r\n\t ", JSON, 400, "malformed_json"),
        ("not JSON", b"hello", JSON, 400, "malformed_json"),
        ("JSON cut short", b'{"data": [[1,', JSON, 400, "malformed_json"),
        ("not UTF-8", b'{"data": "\xff\xfe"}', JSON, 400, "malformed_json"),
        ("a UTF-8 byte order mark", "\ufeff".encode() + data(row), JSON, 400, "malformed_json"),
        ("text/plain", data(row), "text/plain", 415, "unsupported_media_type"),
        ("no content type", data(row), None, 415, "unsupported_media_type"),
        ("a form", b"data=1", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        ("multipart", data(row), "multipart/form-data; boundary=x", 415, "unsupported_media_type"),
        ("a +json media type", data(row), "application/vnd.api+json", 200, None),
        ("json with a charset", data(row), "application/json; charset=utf-8", 200, None),
        ("NaN literal", raw_row("NaN"), JSON, 422, "invalid_input"),
        ("Infinity literal", raw_row("Infinity"), JSON, 422, "invalid_input"),
        ("-Infinity literal", raw_row("-Infinity"), JSON, 422, "invalid_input"),
        (
            "NaN in a statement",
            b'{"companies": [' + dumps(statement())[:-1] + b', "net_income": NaN}]}',
            JSON,
            400,
            "malformed_json",
        ),  # net_income twice: a duplicate key
        ("100000 [", b"[" * 100_000, JSON, 400, "malformed_json"),
        ("100000 nested objects", b'{"a":' * 100_000, JSON, 400, "malformed_json"),
        (
            "a row nested 50 deep",
            data([[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]),
            JSON,
            400,  # refused unparsed: deeper than any request (payloads.MAX_NESTING)
            "malformed_json",
        ),
        ("a row of an array of numbers (within the nesting bound)", data([[[1.0] * n]]), JSON, 422, "invalid_input"),
        ("1e308", raw_row("1e308"), JSON, 422, "invalid_input"),
        ("-1e308", raw_row("-1e308"), JSON, 422, "invalid_input"),
        ("1e400", raw_row("1e400"), JSON, 422, "invalid_input"),
        ("1e999999999", raw_row("1e999999999"), JSON, 422, "invalid_input"),
        ("10**5000", raw_row("1" + "0" * 5000), JSON, 422, "invalid_input"),
        ("-10**5000", raw_row("-1" + "0" * 5000), JSON, 422, "invalid_input"),
        # Within the limits: a clipping model scores it at its bound, another overflows float32.
        ("1e300 is still a number", raw_row("1e300"), JSON, *((200, None) if clips else (422, "invalid_input"))),
        ("a subnormal", raw_row("5e-324"), JSON, 200, None),
        ("minus zero", raw_row("-0"), JSON, 200, None),
        ("a 1000-digit mantissa", raw_row("1." + "0" * 998 + "1"), JSON, 200, None),
        ("a number as a string", data(["1", *row[1:]]), JSON, 422, "invalid_input"),
        ("a boolean", data([True, *row[1:]]), JSON, 422, "invalid_input"),
        ("null", data([None, *row[1:]]), JSON, *unknown),
        ("an array", data([[], *row[1:]]), JSON, 422, "invalid_input"),
        ("an object", data([{}, *row[1:]]), JSON, 422, "invalid_input"),
        ("500 KB of text for a number", data(["9" * 500000, *row[1:]]), JSON, 422, "invalid_input"),
        ("a duplicate top-level key", b'{"data": [[1]], "data": [[2]]}', JSON, 400, "malformed_json"),
        ("a duplicate key in a row", b'{"companies": [{"revenue": 1, "revenue": 2}]}', JSON, 400, "malformed_json"),
        ("an unknown top-level field", dumps({"data": [row], "debug": True}), JSON, 422, "unknown_input_form"),
        ("an unknown field in a row", dumps({"companies": [statement(surplus=1)]}), JSON, 422, "unknown_field"),
        (
            "10000 unknown fields",
            dumps({"companies": [{f"k{i}": 1 for i in range(10_000)}]}),
            JSON,
            422,
            "unknown_field",
        ),
        ("two forms at once", dumps({"data": [row], "instances": [{}]}), JSON, 422, "unknown_input_form"),
        ("no form", b"{}", JSON, 422, "unknown_input_form"),
        ("a top-level array", dumps([row]), JSON, 422, "invalid_request"),
        ("a top-level string", b'"data"', JSON, 422, "invalid_request"),
        ("a top-level null", b"null", JSON, 422, "invalid_request"),
        ("no rows", dumps({"data": []}), JSON, 422, "invalid_request"),
        ("rows that are an object", dumps({"data": {"0": row}}), JSON, 422, "invalid_request"),
        ("a zero denominator", dumps({"companies": [statement(revenue_prior=0)]}), JSON, *unknown),
        ("a negative denominator", dumps({"companies": [statement(total_assets=-1)]}), JSON, *unknown),
        ("every value zero", dumps({"companies": [{k: 0 for k in SMALL_STATEMENT}]}), JSON, 422, "invalid_input"),
        ("MAX_BATCH rows", data(*[row] * MAX_BATCH), JSON, 200, None),
        ("MAX_BATCH + 1 rows", data(*[row] * (MAX_BATCH + 1)), JSON, 422, "too_many_rows"),
        ("a body over MAX_BODY_BYTES", b" " * MAX_BODY + dumps({"data": [row]}), JSON, 413, "payload_too_large"),
        ("an id of 201 characters", dumps({"instances": [{"id": "x" * 201}]}), JSON, 422, "invalid_input"),
        ("an id that is an object", dumps({"data": [row], "id": {}}), JSON, 422, "unknown_input_form"),
        ("an id that is a boolean", dumps({"companies": [statement(id=True)]}), JSON, 422, "invalid_input"),
        ("an id of 400 digits", dumps({"companies": [statement(id=10**400)]}), JSON, 422, "invalid_input"),
        ("a lone surrogate as id", dumps({"companies": [statement(id="\ud800")]}), JSON, 200, None),
        ("a lone surrogate as a key", dumps({"companies": [statement(**{"\udfff": 1})]}), JSON, 422, "unknown_field"),
        (
            "a right-to-left override in an id",
            dumps({"companies": [statement(id="a\u202etxt.exe")]}),
            JSON,
            422,
            "invalid_input",
        ),
        ("an integer id beyond 2^53", dumps({"companies": [statement(id=2**53 + 1)]}), JSON, 422, "invalid_input"),
        ("a NUL in a key", dumps({"data": [row], "\u0000": 1}), JSON, 422, "unknown_input_form"),
        ("one good row, one bad", dumps({"companies": [statement(), statement(revenue="x")]}), JSON, 200, None),
    ]


def test_a_battery_of_hostile_bodies_gets_the_documented_answers(client, served_model_dir, served_features):
    manifest = json.loads((served_model_dir / "manifest.json").read_text())
    kinds = {step["kind"] for step in manifest["preprocessing"]}
    # interpolate holds its outer values beyond its knots: it clips too.
    cases = battery(
        len(served_features), clips=bool(kinds & {"clip", "interpolate"}), unknowns="missing_indicator" in kinds
    )
    wrong = []
    for what, body, content_type, status, code in cases:
        headers = {"Content-Type": content_type} if content_type else {}
        response = client.post("/predict", content=body, headers=headers)
        answer = json.loads(response.content)
        if response.status_code >= 400:
            assert_error_shape(answer)
        got = (response.status_code, answer.get("error", {}).get("code"))
        if got != (status, code):
            wrong.append((what, got, (status, code)))
    print(f"\nhostile bodies: {len(cases)} tried, {len(cases) - len(wrong)} as expected")
    assert not wrong
    assert client.post("/predict", json={"companies": [SMALL_STATEMENT]}).status_code == 200


@pytest.mark.parametrize(
    "method, path, status",
    [
        ("GET", "/predict", 405),
        ("PUT", "/predict", 405),
        ("DELETE", "/", 405),
        ("PATCH", "/health", 405),
        ("TRACE", "/predict", 405),
        ("OPTIONS", "/predict", 204),
        ("HEAD", "/health", 200),
        ("POST", "/predict/", 415),
        ("GET", "/nowhere", 404),
        ("POST", "/nowhere", 404),
        ("GET", "/%ED%A0%80", 404),
        ("GET", "/" + "a" * 10_000, 404),
    ],
)
def test_other_methods_and_paths_get_json_errors_not_html(client, method, path, status):
    response = client.request(method, path)
    assert response.status_code == status
    if status >= 400:
        assert mimetype(response) == "application/json"
        assert_error_shape(response.json())


# ---------------------------------------------------------------- a real server, raw sockets


def plain_prediction(server, n: int) -> int:
    body = dumps({"data": [[1.0] * n]})
    status, _, _ = exchange(server.port, post_head("/predict", len(body)) + body, timeout=30)
    return status


@pytest.mark.server
def test_raw_hostile_requests_get_their_status_and_the_server_keeps_answering(warm_server, served_features):
    n = len(served_features)
    big = MAX_BODY + 1
    chunk = b"[" * 65536
    over_chunked = (b"%x\r\n" % len(chunk) + chunk + b"\r\n") * (big // len(chunk) + 1)
    cases = [  # (what, bytes sent, expected status)
        ("Content-Length over the limit, nothing sent", post_head("/predict", 10**9), 413),
        ("Content-Length over the limit on a route without a body", post_head("/health", 10**9), 405),
        ("Content-Length over the limit with an API route that does not exist", post_head("/x", 10**9), 404),
        ("chunked body over the limit, never finished", post_head("/predict") + over_chunked, 413),
        ("deeply nested JSON", post_head("/predict", 100_000) + b"[" * 100_000, 400),
        ("garbage request line", b"HELLO WORLD\r\n\r\n", 400),
        (
            "invalid Content-Length",
            post_head("/predict", None).replace(b"Transfer-Encoding: chunked", b"Content-Length: abc"),
            400,
        ),
        (
            "Content-Length and chunked together",
            post_head("/predict", None).replace(b"\r\n\r\n", b"\r\nContent-Length: 5\r\n\r\n") + b"0\r\n\r\n",
            400,
        ),
        ("100 KB of headers", b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n", 431),
    ]
    wrong = []
    for what, data, status in cases:  # no answer while the client holds its connection open: None
        got, _, _ = exchange(warm_server.port, data, timeout=10)
        if got != status:
            wrong.append((what, got, status))
    print(f"\nraw hostile requests: {len(cases)} tried, {len(cases) - len(wrong)} as expected")
    assert not wrong
    assert plain_prediction(warm_server, n) == 200


@pytest.mark.server
def test_a_body_announced_too_large_is_refused_before_the_client_sends_it(warm_server):
    # The client sends the head only and waits: an answer at all means nothing waited for the body.
    status, _, body = exchange(warm_server.port, post_head("/predict", 10**10), timeout=10)
    assert status == 413
    assert json.loads(body)["error"]["code"] == "payload_too_large"


@pytest.mark.server
def test_a_body_shorter_than_announced_is_400_when_the_client_gives_up(warm_server, served_features):
    status, _, body = exchange(warm_server.port, post_head("/predict", 100) + b'{"data": [[1,', close_write=True)
    assert status == 400 and json.loads(body)["error"]["code"] == "incomplete_body"
    assert plain_prediction(warm_server, len(served_features)) == 200


@pytest.mark.server
def test_a_slow_body_is_answered_once_complete(warm_server, served_features):
    body = dumps({"data": [[1.0] * len(served_features)]})
    with socket.create_connection(("127.0.0.1", warm_server.port), timeout=5) as sock:
        sock.sendall(post_head("/predict", len(body)))
        for i in range(0, len(body), max(1, len(body) // 5)):
            sock.sendall(body[i : i + max(1, len(body) // 5)])
            time.sleep(0.1)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")


@pytest.mark.server
def test_clients_that_never_finish_their_body_do_not_stop_others_being_answered(warm_server, served_features):
    stalled = [socket.create_connection(("127.0.0.1", warm_server.port), timeout=5) for _ in range(3)]
    try:
        for sock in stalled:
            sock.sendall(post_head("/predict", 1000) + b'{"data": ')
        assert plain_prediction(warm_server, len(served_features)) == 200  # while they still hold on
    finally:
        for sock in stalled:
            sock.close()
    assert plain_prediction(warm_server, len(served_features)) == 200


@pytest.mark.server
def test_a_client_that_disconnects_mid_body_leaves_the_server_healthy(warm_server, served_features):
    threads = []
    for _ in range(8):

        def cut_short():
            with socket.create_connection(("127.0.0.1", warm_server.port), timeout=5) as sock:
                sock.sendall(post_head("/predict", 5000) + b'{"companies": [{"revenue": 1')

        threads.append(threading.Thread(target=cut_short))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert plain_prediction(warm_server, len(served_features)) == 200
    assert not [line for line in warm_server.log_lines() if line.get("httpRequest", {}).get("status", 0) >= 500]
