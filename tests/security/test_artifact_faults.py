"""Broken, tampered or hostile model artifacts: the instance starts, stays alive, refuses to
predict with the reason, says so in one ERROR line, and never runs code from the files."""
import json
import os
import subprocess
import time
import urllib.error
import urllib.request

import joblib
import numpy as np
import pytest
import torch

from soundness import artifacts
from helpers import rehash, rewrite_manifest

ROW = {"data": [[1.0] * 5]}  # the small test model takes the seed's five ratios


class Calls:
    """Pickles as the call `function(*args)`: what a hostile file runs when it is unpickled."""

    def __init__(self, function, *args):
        self.function, self.args = function, args

    def __reduce__(self):
        return self.function, self.args


def code_that_touches(marker) -> list:
    """Ways a pickle can run code, each of which would create `marker`."""
    return [
        Calls(os.system, f"touch {marker}"),
        Calls(exec, f"open({str(marker)!r}, 'w').close()"),
        Calls(eval, f"open({str(marker)!r}, 'w')"),
        Calls(open, str(marker), "w"),
        Calls(subprocess.Popen, ["touch", str(marker)]),
    ]


def hostile_scaler(directory, marker, how: str) -> None:
    path = directory / artifacts.SCALER
    scaler = joblib.load(path)
    if how.startswith("call"):
        index, protocol = map(int, how.split("-")[1:])
        joblib.dump(code_that_touches(marker)[index], path, protocol=protocol)
    elif how == "nested":  # a real scaler, with the call hidden in an attribute
        scaler.note = code_that_touches(marker)[0]
        joblib.dump(scaler, path)
    elif how == "compressed":
        joblib.dump(code_that_touches(marker)[0], path, compress=3)
    elif how == "object array":  # joblib reads object arrays with plain pickle.load
        scaler.scale_ = np.array([code_that_touches(marker)[0]], dtype=object)
        joblib.dump(scaler, path)
    rehash(directory)  # the manifest vouches for it: only the unpickler stands in the way


HOSTILE_SCALERS = [f"call-{i}-{p}" for i in range(5) for p in (0, 5)] + ["nested", "compressed", "object array"]


def break_artifact(directory, how: str, marker) -> str:
    """Damage `directory` one way; the words the refusal must contain."""
    weights, scaler, manifest = (directory / name for name in (artifacts.WEIGHTS, artifacts.SCALER,
                                                               artifacts.MANIFEST))
    if how == "no manifest":
        manifest.unlink()
        return "no manifest.json"
    if how == "manifest cut short":
        manifest.write_text(manifest.read_text()[:50])
        return "manifest.json is not valid JSON"
    if how == "no weights":
        weights.unlink()
        return "model.pt is missing"
    if how == "weights tampered":
        data = weights.read_bytes()
        weights.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
        return "model.pt does not match its sha256"
    if how == "scaler tampered":
        scaler.write_bytes(scaler.read_bytes() + b"\0")
        return "scaler.joblib does not match its sha256"
    if how == "weights cut short, hash updated":
        weights.write_bytes(weights.read_bytes()[:200])
        rehash(directory)
        return "model.pt is not a readable torch state_dict"
    if how == "scaler cut short, hash updated":
        scaler.write_bytes(scaler.read_bytes()[:100])
        rehash(directory)
        return "scaler.joblib is not a readable joblib scaler"
    if how == "hidden widths that model.pt lacks":
        rewrite_manifest(directory, lambda m: m["network"].update(hidden=[10 ** 9, 7]))
        return "model.pt does not fit the network"
    if how == "weights pickle that runs code, hash updated":
        torch.save({"input_layer.weight": code_that_touches(marker)[0]}, weights)
        rehash(directory)
        return "model.pt is not a readable torch state_dict"
    if how == "decision that is not an object":
        rewrite_manifest(directory, lambda m: m.update(decision=[0.5]))
        return "decision must be an object"
    if how == "calibration without numbers":
        rewrite_manifest(directory, lambda m: m.update(calibration={"method": "platt", "a": "x", "b": 0}))
        return "platt calibration needs numbers"
    hostile_scaler(directory, marker, how)
    return "scaler.joblib"


FAULTS = ["no manifest", "manifest cut short", "no weights", "weights tampered", "scaler tampered",
          "weights cut short, hash updated", "scaler cut short, hash updated",
          "hidden widths that model.pt lacks", "weights pickle that runs code, hash updated",
          "decision that is not an object", "calibration without numbers", *HOSTILE_SCALERS]


def artifact_errors(lines: list[dict]) -> list[dict]:
    return [line for line in lines
            if line["severity"] == "ERROR" and line["message"].startswith("model artifacts cannot be served")]


@pytest.mark.parametrize("how", FAULTS)
def test_a_broken_artifact_is_refused_once_with_its_reason_and_the_instance_stays_up(
        how, make_client, small_model_dir, tmp_path, capsys):
    marker = tmp_path / "code-ran"
    reason = break_artifact(small_model_dir, how, marker)
    client = make_client(MODEL_DIR=small_model_dir)
    capsys.readouterr()

    assert client.get("/health").json() == {"status": "ok", "model_loaded": False}
    ready = client.get("/ready")
    assert ready.status_code == 503 and ready.headers["Retry-After"]
    error = ready.json()["error"]
    assert error["code"] == "model_unavailable" and reason in error["message"], error
    assert client.post("/predict", json=ROW).status_code == 503
    assert client.get("/model").status_code == 503
    assert client.get("/ready").status_code == 503
    assert client.get("/health").json()["model_loaded"] is False

    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines() if line.startswith("{")]
    assert len(artifact_errors(lines)) == 1  # said once, not retried per request
    assert "Traceback" not in captured.out + captured.err
    assert str(tmp_path) not in captured.out + json.dumps(error)  # no filesystem paths
    assert not marker.exists()


@pytest.mark.server
@pytest.mark.parametrize("how", ["call-0-5", "object array"])
def test_a_real_server_with_a_hostile_scaler_serves_health_refuses_predictions_and_runs_nothing(
        how, serve, small_model_dir, tmp_path):
    marker = tmp_path / "code-ran"
    hostile_scaler(small_model_dir, marker, how)
    server = serve(MODEL_DIR=small_model_dir)

    def get(path, data=None):
        request = urllib.request.Request(server.url + path, data=data,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    assert get("/health") == (200, {"status": "ok", "model_loaded": False})
    status, body = get("/ready")
    assert status == 503 and "scaler.joblib" in body["error"]["message"]
    assert get("/predict", json.dumps(ROW).encode())[0] == 503
    assert get("/health") == (200, {"status": "ok", "model_loaded": False})
    output = server.stop()
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert len(artifact_errors(lines)) == 1
    assert "Traceback" not in output
    assert not marker.exists()


@pytest.mark.parametrize("how", HOSTILE_SCALERS)
def test_each_hostile_scaler_really_runs_code_when_loaded_without_the_restrictions(how, small_model_dir, tmp_path):
    marker = tmp_path / "code-ran"
    hostile_scaler(small_model_dir, marker, how)
    try:
        joblib.load(small_model_dir / artifacts.SCALER)  # what a naive server would do
    except Exception:
        pass  # some payloads break the object they end up in; the code has run by then
    deadline = time.monotonic() + 5  # Popen's touch runs in a child process
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists()
