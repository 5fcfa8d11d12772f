"""Fixtures shared by every test layer.

`../shared` (the seed's reference files and the real data) is read in place; tests that
need it skip, saying so, where it is absent.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SHARED_DIR", ROOT.parent / "shared"))
REFERENCE = SHARED / "reference"
SEED_ARTIFACTS = REFERENCE / "seed-artifacts"
DEFAULT_MODEL = ROOT / "artifacts" / "default"
SERVE_ENV_KEYS = ("MODEL_DIR", "FRONTEND_DIR", "MAX_BATCH", "MAX_BODY_BYTES", "ALLOWED_ORIGINS",
                  "API_KEYS", "TORCH_THREADS", "BIGQUERY_ROUTE", "FUNCTION_TARGET", "FUNCTION_SOURCE",
                  "FUNCTION_SIGNATURE_TYPE")


def need_shared(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is absent: this test reads ../shared (the seed's reference or the real data)")
    return path


@pytest.fixture(scope="session")
def seed_example() -> dict:
    """The seed's worked example: statement inputs, the five ratios, the model's answer."""
    data = json.loads(need_shared(REFERENCE / "seed-example.json").read_text())
    return {
        "statement": {k: v["value"] for k, v in data["statement_inputs"].items()},
        "ratio_names": data["ratios_posted_by_the_seed_page"]["order"],
        "ratios": data["ratios_posted_by_the_seed_page"]["values"],
    }


@pytest.fixture(scope="session")
def seed_model_dir(tmp_path_factory) -> Path:
    """The seed's published .pth + .pkl, imported once into an artifact directory."""
    from training.import_legacy import import_legacy

    need_shared(SEED_ARTIFACTS)
    out = tmp_path_factory.mktemp("seed-model") / "seed"
    return import_legacy(SEED_ARTIFACTS / "predict_model.pth", SEED_ARTIFACTS / "minmax_scaler.pkl", out)


@pytest.fixture(scope="session")
def served_model_dir(request) -> Path:
    """The bundled model when it is there, else the seed's model imported (needs ../shared)."""
    if (DEFAULT_MODEL / "manifest.json").is_file():
        return DEFAULT_MODEL
    return request.getfixturevalue("seed_model_dir")


@pytest.fixture(scope="session")
def served_model(served_model_dir) -> dict:
    """The served model's manifest entry: its name and version."""
    return json.loads((served_model_dir / "manifest.json").read_text())["model"]


@pytest.fixture
def make_client(monkeypatch):
    """make_client(**env) -> a Flask test client of a fresh function instance with that env."""

    def make(**env):
        import functions_framework

        for key in SERVE_ENV_KEYS:
            monkeypatch.delenv(key, raising=False)
        for key, value in env.items():
            monkeypatch.setenv(key, str(value))
        app = functions_framework.create_app(target="predict", source=str(ROOT / "function" / "main.py"))
        return app.test_client()

    return make


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RunningServer:
    """functions-framework (gunicorn, as in production) in its own process on a free port."""

    def __init__(self, env: dict[str, str] | None = None, source: Path | None = None, cwd: Path | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full_env = {k: v for k, v in os.environ.items() if k not in SERVE_ENV_KEYS}
        full_env.update(env or {})
        source = source or ROOT / "function" / "main.py"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "functions_framework", "--source", str(source), "--target", "predict",
             "--host", "127.0.0.1", "--port", str(self.port)],
            env=full_env, cwd=cwd or ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        # Drained as it comes: a server blocked on a full pipe (64 KiB of logs) stops answering.
        self._chunks: list[bytes] = []
        self._reader = threading.Thread(target=lambda: self._chunks.extend(self.process.stdout), daemon=True)
        self._reader.start()

    def output(self) -> str:
        """What the server printed so far."""
        return b"".join(list(self._chunks)).decode(errors="replace")

    def log_lines(self) -> list[dict]:
        # "\n" ends a log line; splitlines() would also split inside one, at a U+2028 a path can carry.
        return [json.loads(line) for line in self.output().split("\n") if line.startswith("{")]

    def wait_healthy(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.output()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise TimeoutError("server did not answer /health")

    def stop(self) -> str:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join(timeout=5)
        return self.output()


@pytest.fixture
def start_server():
    """start_server(env=..., source=..., cwd=...) -> a healthy RunningServer, stopped afterwards."""
    servers = []

    def start(env=None, source=None, cwd=None) -> RunningServer:
        server = RunningServer(env, source, cwd)
        servers.append(server)
        server.wait_healthy()
        return server

    yield start
    for server in servers:
        server.stop()


def post_json(url: str, body, headers: dict | None = None, timeout: float = 30):
    """POST JSON with urllib; returns (status, parsed body, headers) for 2xx and errors alike."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read()), response.headers
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), error.headers


def write_small_artifact(directory: Path, hidden=(4, 3), scaler=None, seed: int = 0) -> Path:
    """A small, valid artifact on the seed's five features: for tests that need one fast."""
    import numpy as np
    import torch
    from sklearn.preprocessing import MinMaxScaler

    from soundness import artifacts
    from soundness.network import NeuralNet
    from soundness.ratios import SEED_FEATURES

    torch.manual_seed(seed)
    network = NeuralNet(len(SEED_FEATURES), list(hidden)).eval()
    rng = np.random.default_rng(seed)
    scaler = (scaler or MinMaxScaler()).fit(rng.normal(size=(50, len(SEED_FEATURES))) * 10)
    manifest = {
        "model": {"name": "small-test-model", "version": "0"},
        "features": list(SEED_FEATURES),
        "network": {"architecture": "NeuralNet", "input_size": len(SEED_FEATURES), "hidden": list(hidden),
                    "num_classes": 2, "negative_slope": 0.01, "dropout": 0.0},
        "preprocessing": {"clip": {"lower": [-50.0] * 5, "upper": [50.0] * 5}, "scaler": type(scaler).__name__},
        "decision": {"threshold": 0.5, "rule": "test"},
        "calibration": {"method": "none"},
        "metrics": {}, "training_data": {}, "feature_quantiles": {},
    }
    return artifacts.save(directory, state_dict=network.state_dict(), scaler=scaler, manifest=manifest)


@pytest.fixture
def small_model_dir(tmp_path) -> Path:
    return write_small_artifact(tmp_path / "small")


def rewrite_manifest(directory: Path, change) -> None:
    """Apply change(manifest_dict) to an artifact's manifest.json in place."""
    path = directory / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


def rehash(directory: Path) -> None:
    """Make the manifest's sha256s match the files again: a tampering that passes the hash check."""
    from soundness import artifacts

    rewrite_manifest(directory, lambda m: m.update(files={
        name: artifacts.sha256_of(directory / name) for name in (artifacts.WEIGHTS, artifacts.SCALER)}))
