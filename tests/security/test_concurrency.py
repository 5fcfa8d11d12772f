"""Many clients at once on a cold instance, and requests that fail half-way."""

import asyncio
import json
import threading
import urllib.request

import pytest

from helpers import assert_error_shape, post_json

CLIENTS = 32


def body_for(i: int, n: int) -> dict:
    return {"data": [[0.5 * i - 3.0 + 0.25 * j for j in range(n)]]}


@pytest.mark.server
def test_a_cold_server_hit_by_many_clients_loads_the_model_once_and_answers_each_as_alone(
    serve, served_model_dir, served_features
):
    server = serve(MODEL_DIR=served_model_dir)
    n = len(served_features)
    barrier = threading.Barrier(CLIENTS + 1)
    answers, health = {}, []

    def client(i):
        barrier.wait()
        answers[i] = post_json(server.url + "/predict", body_for(i, n), timeout=120)[:2]

    def health_check():  # never waits for the model being loaded next door
        barrier.wait()
        with urllib.request.urlopen(server.url + "/health", timeout=120) as response:
            health.append(json.loads(response.read()))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    threads.append(threading.Thread(target=health_check))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)

    assert sorted(answers) == list(range(CLIENTS))
    assert {status for status, _ in answers.values()} == {200}
    assert health and health[0]["status"] == "ok"
    for i in range(CLIENTS):  # the same answer as a request on its own
        status, alone, _ = post_json(server.url + "/predict", body_for(i, n))
        assert status == 200 and alone["predictions"] == answers[i][1]["predictions"]
    loaded = [line for line in server.log_lines() if line["message"] == "model loaded"]
    assert len(loaded) == 1


def test_a_request_that_fails_inside_leaves_the_instance_healthy_and_says_nothing_private(
    make_client, served_model_dir, served_features, monkeypatch, capfd, model_loads
):
    from soundness.predictor import Predictor

    client = make_client(MODEL_DIR=served_model_dir)
    body = body_for(1, len(served_features))
    assert client.post("/predict", json=body).status_code == 200
    working = Predictor.predict

    def fails(self, x, explain=False):
        raise RuntimeError("disk /work/secret failed at 987654321.125")

    monkeypatch.setattr(Predictor, "predict", fails)
    capfd.readouterr()
    response = client.post("/predict", json=body)
    assert response.status_code == 500
    assert_error_shape(response.json())
    captured = capfd.readouterr()
    for leak in ("/work", "987654321", "Traceback", "disk"):
        assert leak not in response.text + captured.out + captured.err
    assert [json.loads(line)["error_type"] for line in captured.out.splitlines() if "error_type" in line] == [
        "RuntimeError"
    ]

    monkeypatch.setattr(Predictor, "predict", working)
    again = client.post("/predict", json=body)
    assert again.status_code == 200 and client.get("/ready").status_code == 200
    assert model_loads() == 1


def test_a_failure_while_reading_the_body_is_a_400_and_the_next_request_is_served(
    make_client, served_model_dir, served_features
):
    client = make_client(MODEL_DIR=served_model_dir)

    arriving = [{"type": "http.request", "body": b" " * 50, "more_body": True}]
    sent = []

    async def receive():  # part of the body, then the client is gone
        return arriving.pop(0) if arriving else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/predict",
        "raw_path": b"/predict",
        "query_string": b"",
        "root_path": "",
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"100")],
    }
    # On a thread of its own: a test run may already have an event loop on this one (Playwright's).
    runner = threading.Thread(target=asyncio.run, args=(client.app(scope, receive, send),))
    runner.start()
    runner.join()
    assert sent[0]["status"] == 400 and json.loads(sent[1]["body"])["error"]["code"] == "incomplete_body"
    assert client.post("/predict", json=body_for(2, len(served_features))).status_code == 200
