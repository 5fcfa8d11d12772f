"""The function started as each platform starts it, and stopped as each stops it.

Cloud Run functions and Cloud Run (a buildpack image) run functions-framework's CLI with its
settings in the environment: FUNCTION_TARGET, FUNCTION_USE_ASGI (deploy.sh's env file), PORT,
K_SERVICE and LOG_EXECUTION_ID=true (Cloud Run functions' default, inferred from Google's
logging docs: no Google Cloud account here), as a user without root whose HOME is not
writable. Vertex AI sets AIP_HTTP_PORT, AIP_PREDICT_ROUTE and AIP_HEALTH_ROUTE instead of PORT.
These tests start the real CLI that way (harness.server.Server(platform=True)).
"""

from __future__ import annotations

import asyncio
import http.client
import io
import json
import os
import signal
import socket
import sys
import time
import urllib.error
import urllib.request

import pytest

from harness.server import Server, free_port
from helpers import LEGACY_RATIOS, LEGACY_STATEMENT, post_json
from soundness_api import logs
from soundness_api.config import ConfigError, Settings

PROJECT = "demo-project"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACE_HEADERS = {"X-Cloud-Trace-Context": f"{TRACE_ID}/1234567890;o=1", "Function-Execution-Id": "k3Xq9ZrT2bLm"}


def cloud_run_env(port: int, log_execution_id: str) -> dict[str, str]:
    """What Cloud Run functions gives the container, with deploy.sh's env file."""
    return {
        "PORT": str(port),
        "K_SERVICE": "soundness",
        "K_REVISION": "soundness-00001-abc",
        "K_CONFIGURATION": "soundness",
        "FUNCTION_TARGET": "predict",
        "FUNCTION_SIGNATURE_TYPE": "http",
        "FUNCTION_USE_ASGI": "true",
        "LOG_EXECUTION_ID": log_execution_id,
        "GOOGLE_CLOUD_PROJECT": PROJECT,
    }


@pytest.fixture
def start_platform():
    servers = []

    def start(env_of_port) -> Server:
        port = free_port()
        server = Server(env_of_port(port), port=port, platform=True)
        servers.append(server)
        server.wait_listening(timeout=60)
        return server

    yield start
    for server in servers:
        server.stop()


def request_lines(server: Server) -> list[dict]:
    """Every line the server printed, each of which must be a JSON object."""
    lines = [line for line in server.output().split("\n") if line]
    for line in lines:
        assert line.startswith("{") and isinstance(json.loads(line), dict), f"not a JSON log line: {line[:300]}"
    return [json.loads(line) for line in lines]


# ---------------------------------------------------------------- log lines reach fd 1


def test_log_lines_reach_fd_1_whatever_stands_in_sys_stdout(capfd, monkeypatch):
    # functions-framework's LOG_EXECUTION_ID wrapper takes text only, as this stand-in does.
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    logs.emit("INFO", "model loaded")
    assert json.loads(capfd.readouterr().out)["message"] == "model loaded"
    assert sys.stdout.getvalue() == ""


@pytest.fixture
def writes(monkeypatch) -> list[bytes]:
    """What logs writes to fd 1, one item per system call, each call taking at most 7 bytes."""
    written: list[bytes] = []
    write = os.write

    def short_write(fd, data):
        if fd != logs.STDOUT:
            return write(fd, data)
        written.append(bytes(data[:7]))
        return len(written[-1])

    monkeypatch.setattr(logs.os, "write", short_write)
    return written


def test_the_lines_of_one_turn_of_the_event_loop_leave_together_and_whole(writes):
    async def one_turn():
        for number in range(3):
            logs.emit("INFO", f"line {number}", _soon=True)
        assert writes == []  # not yet: the turn has not ended
        await asyncio.sleep(0)

    asyncio.run(one_turn())
    lines = b"".join(writes).decode().splitlines()
    assert [json.loads(line)["message"] for line in lines] == ["line 0", "line 1", "line 2"]
    # One write of all three, in as many calls as a pipe needs: every call but the last was whole.
    assert all(len(chunk) == 7 for chunk in writes[:-1])


def test_lines_written_while_a_request_is_served_carry_its_trace_span_and_execution_id(capfd, monkeypatch):
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", PROJECT)
    with logs.for_request({k.lower(): v for k, v in TRACE_HEADERS.items()}):
        logs.emit("INFO", "inside")
    logs.emit("INFO", "outside")
    inside, outside = map(json.loads, capfd.readouterr().out.splitlines())
    assert inside["logging.googleapis.com/trace"] == f"projects/{PROJECT}/traces/{TRACE_ID}"
    assert inside["logging.googleapis.com/spanId"] == "00000000499602d2"  # 1234567890 in hex
    assert inside["logging.googleapis.com/labels"] == {"execution_id": "k3Xq9ZrT2bLm"}
    assert outside.keys() == {"severity", "message"}


@pytest.mark.parametrize(
    ("headers", "trace"),
    [
        ({"x-cloud-trace-context": "abc/span;o=1", "function-execution-id": "x" * 65}, "abc"),
        ({"x-cloud-trace-context": "ab\u2028c/1", "function-execution-id": "id\nwith a line end"}, None),
        ({"x-cloud-trace-context": f"{TRACE_ID}/0;o=1", "function-execution-id": ""}, TRACE_ID),
    ],
)
def test_malformed_trace_span_or_execution_ids_are_left_out_not_guessed(headers, trace):
    fields = logs.request_fields(headers)
    assert "logging.googleapis.com/labels" not in fields and "logging.googleapis.com/spanId" not in fields
    assert fields.get("logging.googleapis.com/trace") == trace


def test_what_goes_through_pythons_logging_is_one_json_line_with_a_severity(capfd, monkeypatch):
    import logging

    from soundness_api import platforms

    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))  # put back after the test
    platforms.json_root_logging()
    try:
        raise RuntimeError("escaped the function")
    except RuntimeError:
        logging.getLogger("functions_framework").exception("Exception on /predict [POST]")
    (line,) = capfd.readouterr().err.splitlines()
    record = json.loads(line)
    assert record["severity"] == "ERROR" and record["logger"] == "functions_framework"
    assert record["message"].startswith("Exception on /predict [POST]\nTraceback")
    assert "RuntimeError: escaped the function" in record["message"]


# ---------------------------------------------------------------- Cloud Run (functions)


@pytest.mark.server
@pytest.mark.parametrize("log_execution_id", ["true", "false"])
def test_on_cloud_run_the_first_request_is_a_prediction_and_every_line_carries_its_request(
    start_platform, log_execution_id
):
    server = start_platform(lambda port: cloud_run_env(port, log_execution_id))
    status, body, _ = post_json(server.url + "/predict", {"companies": [LEGACY_STATEMENT]}, TRACE_HEADERS)
    assert status == 200, body
    assert 0 <= body["predictions"][0]["probability_unsound"] <= 1
    status, _, _ = post_json(server.url + "/predict", {"companies": [LEGACY_STATEMENT]}, TRACE_HEADERS)
    assert status == 200
    server.stop()
    lines = request_lines(server)
    messages = [line["message"] for line in lines]
    assert messages.count("POST /predict 200") == 2 and "model loaded" in messages  # the first request loads it
    for line in lines:
        assert line["severity"] in ("INFO", "WARNING"), line
        assert line["logging.googleapis.com/trace"] == f"projects/{PROJECT}/traces/{TRACE_ID}", line
        assert line["logging.googleapis.com/spanId"] == f"{1234567890:016x}", line
        assert line["logging.googleapis.com/labels"] == {"execution_id": TRACE_HEADERS["Function-Execution-Id"]}, line


@pytest.mark.server
def test_a_request_without_an_execution_id_gets_the_frameworks_own(start_platform):
    # functions-framework's middleware gives each request an id where the platform sent none.
    server = start_platform(lambda port: cloud_run_env(port, "true"))
    status, _, _ = post_json(server.url + "/predict", {"companies": [LEGACY_STATEMENT]})
    assert status == 200
    server.stop()
    (request_line,) = [line for line in request_lines(server) if line["message"] == "POST /predict 200"]
    assert len(request_line["logging.googleapis.com/labels"]["execution_id"]) == 12
    assert "logging.googleapis.com/trace" not in request_line


# ---------------------------------------------------------------- Vertex AI


VERTEX_HEALTH = "/v1/endpoints/1234567890/deployedModels/987654321"
VERTEX_PREDICT = VERTEX_HEALTH + ":predict"


def vertex_env(port: int) -> dict[str, str]:
    """What Vertex AI gives a custom container (no PORT), with the buildpack image's own
    FUNCTION_TARGET and the FUNCTION_USE_ASGI that docs/deploy.md passes as --container-env-vars."""
    return {
        "AIP_HTTP_PORT": str(port),
        "AIP_PREDICT_ROUTE": VERTEX_PREDICT,
        "AIP_HEALTH_ROUTE": VERTEX_HEALTH,
        "AIP_MODE": "PREDICTION",
        "AIP_ENDPOINT_ID": "1234567890",
        "AIP_DEPLOYED_MODEL_ID": "987654321",
        "FUNCTION_TARGET": "predict",
        "FUNCTION_SIGNATURE_TYPE": "http",
        "FUNCTION_USE_ASGI": "true",
    }


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.server
def test_on_vertex_ai_the_routes_it_names_are_served_on_the_port_it_names(start_platform):
    server = start_platform(vertex_env)  # listening on AIP_HTTP_PORT, with no PORT set
    status, health = get(server.url + VERTEX_HEALTH)
    assert status == 200 and health["status"] == "ready"  # the model is loaded: Vertex may send traffic
    name = health["model"]["name"]
    features = get(server.url + "/model")[1]["features"]
    instances = [dict(zip(features, LEGACY_RATIOS)), dict(zip(features, reversed(LEGACY_RATIOS)))]
    status, body, _ = post_json(server.url + VERTEX_PREDICT, {"instances": instances[:1]})
    assert status == 200 and body.keys() == {"predictions"}
    # The same answer as KServe V1's own route, of which it is the shape.
    assert body == post_json(server.url + f"/v1/models/{name}:predict", {"instances": instances[:1]})[1]
    status, body, _ = post_json(server.url + VERTEX_PREDICT, {"instances": instances[1:], "parameters": None})
    assert status == 200 and 0 <= body["predictions"][0]["probability_unsound"] <= 1
    status, body, _ = post_json(server.url + VERTEX_PREDICT, {"rows": instances})  # V1 takes instances or inputs
    assert status == 400 and "rows is not a V1 request field" in body["error"]
    server.stop()
    request_lines(server)  # every line JSON


@pytest.mark.server
def test_on_vertex_ai_health_says_503_while_the_model_cannot_be_served(start_platform, tmp_path):
    server = start_platform(lambda port: {**vertex_env(port), "MODEL_DIR": "/nonexistent/model"})
    status, body = get(server.url + VERTEX_HEALTH)
    # In KServe V1's shape, as every Vertex route answers: the error is its message.
    assert status == 503 and "model artifacts cannot be served" in body["error"], body
    assert get(server.url + "/health")[0] == 200  # alive, yet not ready: Vertex keeps traffic away


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("AIP_HTTP_PORT", "http"),
        ("AIP_HTTP_PORT", "70000"),
        ("AIP_PREDICT_ROUTE", "predict"),
        ("AIP_HEALTH_ROUTE", "/{x}"),
    ],
)
def test_a_malformed_vertex_variable_is_refused_naming_it(name, value):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})


# ---------------------------------------------------------------- shutdown (Cloud Run: SIGTERM, 10 s, SIGKILL)

BURST = 32


def keep_alive_connections(server: Server, count: int) -> list[http.client.HTTPConnection]:
    """`count` connections that have each had one answer and wait idle, as a front end keeps them."""
    connections = []
    for _ in range(count):
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        connection.request("GET", "/health")
        connection.getresponse().read()
        connections.append(connection)
    return connections


@pytest.mark.server
def test_sigterm_in_a_burst_answers_every_request_already_sent(start_platform):
    server = start_platform(lambda port: cloud_run_env(port, "true"))
    assert get(server.url + "/ready")[0] == 200
    connections = keep_alive_connections(server, BURST)
    body = json.dumps({"companies": [LEGACY_STATEMENT] * 100})
    # Half the burst written before the signal, half after it, while the first half keeps the
    # event loop busy: uvicorn closes every idle connection at once, some with a request unread.
    for number, connection in enumerate(connections):
        if number == BURST // 2:
            server.process.send_signal(signal.SIGTERM)
        connection.request("POST", "/predict", body, {"Content-Type": "application/json"})
    statuses = []
    for connection in connections:
        try:
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
        except (OSError, http.client.HTTPException) as error:
            statuses.append(type(error).__name__)
    assert statuses == [200] * BURST
    assert server.process.wait(timeout=10) == 0
    request_lines(server)  # every line JSON, the shutdown's too


@pytest.mark.server
def test_sigterm_with_a_client_stalled_mid_body_exits_within_8_seconds(start_platform):
    server = start_platform(lambda port: {**cloud_run_env(port, "true"), "CLIENT_TIMEOUT_SECONDS": "60"})
    stalled = socket.create_connection(("127.0.0.1", server.port))
    stalled.sendall(
        b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
    )
    time.sleep(0.5)  # the function is waiting for the rest of the body
    signalled = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    server.process.wait(timeout=15)
    exited = time.monotonic() - signalled
    answer = stalled.recv(4096)
    stalled.close()
    assert exited < 8, f"exited {exited:.1f} s after SIGTERM: Cloud Run kills at 10"
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 ") and b"connection: close" in head.lower()
    assert json.loads(body)["error"]["code"] == "body_timeout"
    request_lines(server)
