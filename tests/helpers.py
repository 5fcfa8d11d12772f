"""Helpers the tests share: paths, a JSON client, small artifacts to serve or tamper with.

A module of its own (not conftest.py), imported as `from helpers import ...`.
"""
from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SHARED_DIR", ROOT.parent / "shared"))
REFERENCE = SHARED / "reference"
SEED_ARTIFACTS = REFERENCE / "seed-artifacts"
DEFAULT_MODEL = ROOT / "artifacts" / "default"
ERROR_SHAPE_KEYS = {"code", "message", "details"}
SEED_STATEMENT = {  # the seed's worked example, also in ../shared/reference/seed-example.json
    "total_assets": 273842119656, "total_assets_prior": 203882590806,
    "total_liabilities": 186096875465, "total_equity": 87745244191,
    "revenue": 356740019691, "revenue_prior": 237961500135,
    "operating_income": 20804647592, "operating_income_prior": 15215334844,
    "net_income": 21679416652,
}


def need_shared(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is absent: this test reads ../shared (the seed's reference or the real data)")
    return path


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


def assert_error_shape(body: dict) -> None:
    """The documented error body: {"error": {"code", "message", "details": [{field, problem}]}}."""
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == ERROR_SHAPE_KEYS, error
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    for item in error["details"]:
        assert {"field", "problem"} <= set(item) and isinstance(item["problem"], str), item


def mimetype(response: Any) -> str:
    """The media type of an answer, without parameters."""
    return response.headers.get("content-type", "").split(";", 1)[0].strip()


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
