"""Fixtures for the reliability and security tests: a served model, real servers, and
artifact directories to tamper with. Raw-socket helpers are in raw_http.py."""

from __future__ import annotations

import json

import pytest

from harness.server import warm
from soundness import artifacts


@pytest.fixture(scope="session")
def served_features(served_model_dir) -> list[str]:
    return json.loads((served_model_dir / artifacts.MANIFEST).read_text())["features"]


@pytest.fixture
def serve(start_server):
    """serve(**env) -> a healthy Server (as production runs it), stopped afterwards."""
    return lambda **env: start_server({key: str(value) for key, value in env.items()})


@pytest.fixture(scope="module")
def warm_server(served_model_dir):
    """One real server per test module, its model already loaded (so nothing waits on loading)."""
    server = warm({"MODEL_DIR": str(served_model_dir)})
    yield server
    server.stop()
