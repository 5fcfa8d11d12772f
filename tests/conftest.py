"""Fixtures shared by every test layer. Helpers that are not fixtures live in helpers.py.

`../shared` (the legacy service's reference files and the real data) is read in place; tests that
need it skip, saying so, where it is absent.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from harness.server import ENV_NAMES, Server
from helpers import DEFAULT_MODEL, LEGACY_ARTIFACTS, REFERENCE, ROOT, need_shared, write_small_artifact


@pytest.fixture(scope="session")
def legacy_example() -> dict:
    """The legacy service's worked example: statement inputs, the five ratios, the model's answer."""
    data = json.loads(need_shared(REFERENCE / "seed-example.json").read_text())
    return {
        "statement": {k: v["value"] for k, v in data["statement_inputs"].items()},
        "ratio_names": data["ratios_posted_by_the_seed_page"]["order"],
        "ratios": data["ratios_posted_by_the_seed_page"]["values"],
    }


@pytest.fixture(scope="session")
def legacy_model_dir(tmp_path_factory) -> Path:
    """The legacy service's published .pth + .pkl, imported once into an artifact directory."""
    from training.import_legacy import import_legacy

    need_shared(LEGACY_ARTIFACTS)
    out = tmp_path_factory.mktemp("legacy-model") / "legacy"
    return import_legacy(LEGACY_ARTIFACTS / "predict_model.pth", LEGACY_ARTIFACTS / "minmax_scaler.pkl", out)


@pytest.fixture(scope="session")
def served_model_dir(request) -> Path:
    """The bundled model when it is there, else the legacy service's model imported (needs ../shared)."""
    if (DEFAULT_MODEL / "manifest.json").is_file():
        return DEFAULT_MODEL
    return request.getfixturevalue("legacy_model_dir")


@pytest.fixture(scope="session")
def dart_stand_in():
    """A local stand-in for OpenDART (tests/dart_stand_in.py); its .env() points a function at it."""
    from dart_stand_in import DartStandIn

    stand_in = DartStandIn()
    yield stand_in
    stand_in.stop()


@pytest.fixture(scope="session")
def served_model(served_model_dir) -> dict:
    """The served model's manifest entry: its name and version."""
    return json.loads((served_model_dir / "manifest.json").read_text())["model"]


@pytest.fixture
def make_client(monkeypatch):
    """make_client(**env) -> an in-process client (starlette's TestClient) of a fresh function
    instance with that env, built as `functions-framework --asgi` and our protocol build it."""
    clients = []

    def make(**env):
        from functions_framework.aio import create_asgi_app
        from starlette.testclient import TestClient

        from soundness_api.connection import json_errors

        for key in ENV_NAMES:
            monkeypatch.delenv(key, raising=False)
        for key, value in env.items():
            monkeypatch.setenv(key, str(value))
        app = create_asgi_app(target="predict", source=str(ROOT / "function" / "main.py"))
        # Wrapped as the server's protocol wraps it (soundness_api/connection.py), so answers are the same.
        service = sys.modules["main"].service
        clients.append(TestClient(json_errors(app, service.allow, service.refusal_body), raise_server_exceptions=False))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def model_loads(monkeypatch):
    """model_loads() -> how many times the last-built instance ran its model loading (one, in a
    healthy instance), counted by wrapping LazyModel._load for this test."""
    from soundness_api.lazy_model import LazyModel

    loaded = []
    load = LazyModel._load

    def counted(model):
        loaded.append(model)
        load(model)

    monkeypatch.setattr(LazyModel, "_load", counted)
    return lambda: sum(model is sys.modules["main"].service.model for model in loaded)


@pytest.fixture
def rows_explained(monkeypatch):
    """rows_explained() -> how many rows the model's explainer has worked on during this test
    (zero when no explanation was computed), counted by wrapping Explainer.explain."""
    from soundness.explain import Explainer

    counted = []
    explain = Explainer.explain

    def counting(explainer, x):
        counted.append(len(x))
        return explain(explainer, x)

    monkeypatch.setattr(Explainer, "explain", counting)
    return lambda: sum(counted)


@pytest.fixture
def client(make_client, served_model_dir):
    """An in-process client of the function serving `served_model_dir` (a module may override either)."""
    return make_client(MODEL_DIR=served_model_dir)


@pytest.fixture
def features(client) -> list[str]:
    """The served model's features, in its order, as GET /model gives them."""
    return client.get("/model").json()["features"]


@pytest.fixture
def start_server():
    """start_server(env=..., source=..., cwd=...) -> a healthy harness Server, stopped afterwards."""
    servers = []

    def start(env=None, source=None, cwd=None) -> Server:
        server = Server(env, source or ROOT / "function" / "main.py", cwd or ROOT)
        servers.append(server)
        server.wait("/health", timeout=30)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def small_model_dir(tmp_path) -> Path:
    return write_small_artifact(tmp_path / "small")
