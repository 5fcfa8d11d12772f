"""Broken, tampered or hostile model artifacts: the instance starts, stays alive, refuses to
predict with the reason, says so in one ERROR line, and never runs code from the files.
Pickles (users' joblib scalers and .pth files) are read only by the importer, through a
restricted unpickler; the server reads format 2, which has none."""

import json
import os
import pickle
import subprocess
import time
import urllib.error
import urllib.request

import joblib
import numpy as np
import pytest
import torch

from harness.server import vm_kib
from helpers import rehash, rewrite_manifest, small_model, write_format_1
from soundness import artifacts

ROW = {"data": [[1.0] * 5]}  # the small test model takes the legacy service's five ratios


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


def hostile_scaler(path, marker, how: str) -> None:
    """Replace the joblib scaler at `path` with one that runs code when naively unpickled."""
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


HOSTILE_SCALERS = [f"call-{i}-{p}" for i in range(5) for p in (0, 5)] + ["nested", "compressed", "object array"]


@pytest.fixture
def format_1_dir(tmp_path):
    """A valid format-1 artifact (model.pt + scaler.joblib), as the importer converts them."""
    model, manifest = small_model()
    return write_format_1(tmp_path / "format-1", model, manifest)


def format_1_rehash(directory) -> None:
    rewrite_manifest(
        directory,
        lambda m: m.update(
            files={name: artifacts.sha256_of(directory / name) for name in ("model.pt", "scaler.joblib")}
        ),
    )


def break_artifact(directory, how: str, marker) -> str:
    """Damage `directory` one way; the words the refusal must contain."""
    tensors, manifest = directory / artifacts.TENSORS, directory / artifacts.MANIFEST
    if how == "no manifest":
        manifest.unlink()
        return "no manifest.json"
    if how == "manifest cut short":
        manifest.write_text(manifest.read_text()[:50])
        return "manifest.json is not valid JSON"
    if how == "manifest nested 100,000 deep":
        manifest.write_text("[" * 100_000 + "]" * 100_000)
        return "manifest.json is not valid JSON (arrays or objects nested more than about 1000 levels deep"
    if how == "no tensors":
        tensors.unlink()
        return "model.safetensors is missing"
    if how == "tensors tampered":
        data = tensors.read_bytes()
        tensors.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
        return "model.safetensors does not match its sha256"
    if how == "tensors cut short, hash updated":
        tensors.write_bytes(tensors.read_bytes()[:200])
        rehash(directory)
        return "model.safetensors is not a readable safetensors file"
    if how == "a pickle that runs code in place of the tensors, hash updated":
        tensors.write_bytes(pickle.dumps(code_that_touches(marker)[0]))
        rehash(directory)
        return "model.safetensors is not a readable safetensors file"
    if how == "hidden widths the tensors lack":
        rewrite_manifest(directory, lambda m: m["network"].update(hidden=[10**9, 7]))
        return "model.safetensors does not fit the network"
    if how == "a preprocessing step of an unknown kind":
        rewrite_manifest(directory, lambda m: m["preprocessing"].append({"kind": "pickle", "path": "x.pkl"}))
        return "kind is one of"
    if how == "format 1":
        rewrite_manifest(directory, lambda m: (m.pop("format_version"), m.update(schema_version=1)))
        return "artifact format 1"
    if how == "a format from the future":
        rewrite_manifest(directory, lambda m: m.update(format_version=3))
        return "artifact format 3 is not one this server reads"
    if how == "decision that is not an object":
        rewrite_manifest(directory, lambda m: m.update(decision=[0.5]))
        return "decision must be an object"
    if how == "calibration without numbers":
        rewrite_manifest(directory, lambda m: m.update(calibration={"method": "platt", "a": "x", "b": 0}))
        return "platt calibration needs numbers"
    raise ValueError(how)


FAULTS = [
    "no manifest",
    "manifest cut short",
    "manifest nested 100,000 deep",
    "no tensors",
    "tensors tampered",
    "tensors cut short, hash updated",
    "a pickle that runs code in place of the tensors, hash updated",
    "hidden widths the tensors lack",
    "a preprocessing step of an unknown kind",
    "format 1",
    "a format from the future",
    "decision that is not an object",
    "calibration without numbers",
]


def artifact_errors(lines: list[dict]) -> list[dict]:
    return [
        line
        for line in lines
        if line["severity"] == "ERROR" and line["message"].startswith("model artifacts cannot be served")
    ]


@pytest.mark.parametrize("how", FAULTS)
def test_a_broken_artifact_is_refused_once_with_its_reason_and_the_instance_stays_up(
    how, make_client, small_model_dir, tmp_path, capfd
):
    marker = tmp_path / "code-ran"
    reason = break_artifact(small_model_dir, how, marker)
    client = make_client(MODEL_DIR=small_model_dir)
    capfd.readouterr()

    assert client.get("/health").json() == {"status": "ok", "model_loaded": False}
    ready = client.get("/ready")
    assert ready.status_code == 503 and ready.headers["Retry-After"]
    error = ready.json()["error"]
    assert error["code"] == "model_unavailable" and reason in error["message"], error
    assert client.post("/predict", json=ROW).status_code == 503
    assert client.get("/model").status_code == 503
    assert client.get("/ready").status_code == 503
    assert client.get("/health").json()["model_loaded"] is False

    captured = capfd.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines() if line.startswith("{")]
    assert len(artifact_errors(lines)) == 1  # said once, not retried per request
    assert "Traceback" not in captured.out + captured.err
    assert str(tmp_path) not in captured.out + json.dumps(error)  # no filesystem paths
    assert not marker.exists()


@pytest.mark.server
@pytest.mark.parametrize("how", ["call-0-5", "object array"])
def test_a_real_server_given_a_format_1_directory_with_a_hostile_scaler_refuses_it_and_runs_nothing(
    how, serve, format_1_dir, tmp_path
):
    marker = tmp_path / "code-ran"
    hostile_scaler(format_1_dir / "scaler.joblib", marker, how)
    format_1_rehash(format_1_dir)  # the manifest vouches for it: only the format stands in the way
    server = serve(MODEL_DIR=format_1_dir)

    def get(path, data=None):
        request = urllib.request.Request(server.url + path, data=data, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    assert get("/health") == (200, {"status": "ok", "model_loaded": False})
    status, body = get("/ready")
    assert status == 503 and "artifact format 1" in body["error"]["message"]
    assert get("/predict", json.dumps(ROW).encode())[0] == 503
    assert get("/health") == (200, {"status": "ok", "model_loaded": False})
    output = server.stop()
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert len(artifact_errors(lines)) == 1
    assert "Traceback" not in output
    assert not marker.exists()


@pytest.mark.parametrize("how", HOSTILE_SCALERS)
def test_the_importer_refuses_a_hostile_scaler_without_running_it(how, format_1_dir, tmp_path):
    from training.import_legacy import convert_format_1, import_legacy

    marker = tmp_path / "code-ran"
    hostile_scaler(format_1_dir / "scaler.joblib", marker, how)
    with pytest.raises(artifacts.ArtifactError, match=r"scaler.joblib"):
        import_legacy(format_1_dir / "model.pt", format_1_dir / "scaler.joblib", tmp_path / "imported")
    format_1_rehash(format_1_dir)
    with pytest.raises(artifacts.ArtifactError, match=r"scaler.joblib"):
        convert_format_1(format_1_dir, tmp_path / "converted")
    assert not marker.exists()
    assert not (tmp_path / "imported").exists() and not (tmp_path / "converted").exists()


def test_the_importer_refuses_a_weights_pickle_that_would_run_code(format_1_dir, tmp_path):
    from training.import_legacy import import_legacy

    marker = tmp_path / "code-ran"
    torch.save({"input_layer.weight": code_that_touches(marker)[0]}, format_1_dir / "model.pt")
    with pytest.raises(artifacts.ArtifactError, match=r"model.pt is not a readable torch state_dict"):
        import_legacy(format_1_dir / "model.pt", format_1_dir / "scaler.joblib", tmp_path / "imported")
    assert not marker.exists()


@pytest.mark.parametrize("how", HOSTILE_SCALERS)
def test_each_hostile_scaler_really_runs_code_when_loaded_without_the_restrictions(how, format_1_dir, tmp_path):
    marker = tmp_path / "code-ran"
    hostile_scaler(format_1_dir / "scaler.joblib", marker, how)
    try:
        joblib.load(format_1_dir / "scaler.joblib")  # what a naive server would do
    except Exception:
        pass  # some payloads break the object they end up in; the code has run by then
    deadline = time.monotonic() + 5  # Popen's touch runs in a child process
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists()


def test_a_failed_load_is_tried_again_after_a_backoff_and_a_repaired_artifact_is_then_served(
    make_client, small_model_dir, capfd, model_loads
):
    manifest = small_model_dir / artifacts.MANIFEST
    good = manifest.read_bytes()
    manifest.write_bytes(good[: len(good) // 2])  # a copy still being written, say
    client = make_client(MODEL_DIR=small_model_dir)

    first = client.get("/ready")
    assert first.status_code == 503 and first.headers["Retry-After"] == "1"
    assert "attempts: 1;" in first.json()["error"]["message"]
    manifest.write_bytes(good)
    assert client.get("/ready").status_code == 503  # within the backoff: not tried again yet
    assert model_loads() == 1
    time.sleep(1.1)
    ready = client.get("/ready")
    assert ready.status_code == 200, ready.json()
    assert client.post("/predict", json=ROW).status_code == 200
    assert model_loads() == 2
    lines = [json.loads(line) for line in capfd.readouterr().out.splitlines() if line.startswith("{")]
    assert len(artifact_errors(lines)) == 1
    assert [line["message"] for line in lines].count("model loaded") == 1


def test_the_backoff_doubles_while_the_artifact_stays_broken(make_client, small_model_dir, model_loads):
    (small_model_dir / artifacts.MANIFEST).write_text("{")
    client = make_client(MODEL_DIR=small_model_dir)
    waits = []
    for attempt in (1, 2, 3):
        answer = client.get("/ready")
        assert answer.status_code == 503 and f"(attempts: {attempt};" in answer.json()["error"]["message"]
        waits.append(int(answer.headers["Retry-After"]))
        if attempt < 3:
            time.sleep(waits[-1] + 0.1)
    assert waits == [1, 2, 4]
    assert model_loads() == 3


@pytest.mark.server
def test_a_huge_manifest_is_refused_unread(serve, small_model_dir):
    manifest = small_model_dir / artifacts.MANIFEST
    with open(manifest, "r+b") as handle:
        handle.truncate(400 << 20)  # 400 MiB, sparse: no disk spent, but reading it whole would take it all
    server = serve(MODEL_DIR=small_model_dir)
    worker = server.worker_pid()
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(server.url + "/ready", timeout=60)
    peak_mib = vm_kib(worker, "VmHWM") / 1024
    print(f"\n400 MiB manifest refused: worker peak VmHWM {peak_mib:.0f} MiB")
    assert refused.value.code == 503
    assert "larger than 4 MiB" in json.loads(refused.value.read())["error"]["message"]
    assert peak_mib < 150
