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
LEGACY_ARTIFACTS = REFERENCE / "seed-artifacts"
DEFAULT_MODEL = ROOT / "artifacts" / "default"
ERROR_SHAPE_KEYS = {"code", "message", "details"}
# The legacy service's worked example, whose source is ../shared/reference/seed-example.json:
# here for the tests that run without ../shared; tests/test_worked_example.py holds it, the
# README's curl example and the page's example CSV equal to that source.
LEGACY_STATEMENT = {
    "total_assets": 273842119656,
    "total_assets_prior": 203882590806,
    "total_liabilities": 186096875465,
    "total_equity": 87745244191,
    "revenue": 356740019691,
    "revenue_prior": 237961500135,
    "operating_income": 20804647592,
    "operating_income_prior": 15215334844,
    "net_income": 21679416652,
}
# Its five ratios, in the legacy service's order, as its page posted them.
LEGACY_RATIOS = [49.91501544939611, 34.313635398408515, 5.831879364143251, 32.04227468777463, 1.3027215102597665]


# A small, plain company in round numbers (any unit): for tests that need a valid row, not the example.
SMALL_STATEMENT = {
    "total_assets": 5000,
    "total_assets_prior": 4000,
    "total_liabilities": 3000,
    "total_equity": 2000,
    "revenue": 6000,
    "revenue_prior": 5000,
    "operating_income": 300,
    "operating_income_prior": 250,
    "net_income": 200,
}


def need_shared(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is absent: this test reads ../shared (the legacy service's reference or the real data)")
    return path


def post_json(url: str, body, headers: dict | None = None, timeout: float = 30):
    """POST JSON with urllib; returns (status, parsed body, headers) for 2xx and errors alike."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read()), response.headers
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), error.headers


def assert_error_shape(body: dict) -> None:
    """The documented error body: {"error": {"code", "message", "details": [{field, problem}]}}."""
    assert set(body) == {"error"}, body
    error = body["error"]
    assert ERROR_SHAPE_KEYS <= set(error) <= ERROR_SHAPE_KEYS | {"details_omitted"}, error
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    for item in error["details"]:
        assert {"field", "problem"} <= set(item) and isinstance(item["problem"], str), item


def assert_kserve_error(response, status: int, *words: str) -> str:
    """KServe's error answer (V1 and the Open Inference Protocol alike): {"error": "..."} with these
    words in it; returns the message."""
    assert response.status_code == status
    body = response.json()
    assert list(body) == ["error"] and isinstance(body["error"], str)
    for word in words:
        assert word in body["error"]
    return body["error"]


def schema_validator(document: dict, name: str):
    """A validator for one of the OpenAPI document's component schemas."""
    import jsonschema_rs  # schemathesis's own validator

    return jsonschema_rs.Draft202012Validator(
        {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    )


def mimetype(response: Any) -> str:
    """The media type of an answer, without parameters."""
    return response.headers.get("content-type", "").split(";", 1)[0].strip()


def small_model(hidden=(4, 3), scaler=None, seed: int = 0, clip: float | None = 50.0, features=None):
    """A small torch + scikit-learn model (training.export.Model) and its manifest, for tests."""
    import numpy as np
    import torch
    from sklearn.preprocessing import MinMaxScaler

    from soundness.ratios import LEGACY_FEATURES
    from training.export import Model
    from training.network import NeuralNet

    features = list(features or LEGACY_FEATURES)
    torch.manual_seed(seed)
    network = NeuralNet(len(features), list(hidden)).eval()
    rng = np.random.default_rng(seed)
    scaler = (scaler or MinMaxScaler()).fit(rng.normal(size=(50, len(features))) * 10)
    bounds = (np.full(len(features), -clip), np.full(len(features), clip)) if clip else None
    manifest = {
        "model": {"name": "small-test-model", "version": "0"},
        "features": features,
        "network": {
            "architecture": "NeuralNet",
            "input_size": len(features),
            "hidden": list(hidden),
            "num_classes": 2,
            "negative_slope": 0.01,
            "dropout": 0.0,
        },
        "decision": {"threshold": 0.5, "rule": "test"},
        "metrics": {},
        "training_data": {},
        "feature_quantiles": {},
    }
    return Model(network, scaler, bounds), manifest


def write_small_artifact(directory: Path, hidden=(4, 3), scaler=None, seed: int = 0) -> Path:
    """A small, valid artifact on the legacy service's five features: for tests that need one fast."""
    from training import export

    model, manifest = small_model(hidden, scaler, seed)
    return export.write(directory, model, manifest, export.check_rows(model, manifest["features"], count=50))


def write_format_1(directory, model, manifest):
    """An artifact as format 1 wrote it: manifest.json (schema_version 1), model.pt, scaler.joblib."""
    import joblib
    import torch

    from soundness import artifacts

    directory.mkdir(parents=True)
    torch.save(model.network.state_dict(), directory / "model.pt")
    joblib.dump(model.scaler, directory / "scaler.joblib")
    clip = {"lower": model.clip[0].tolist(), "upper": model.clip[1].tolist()} if model.clip else None
    manifest = {
        **manifest,
        "schema_version": 1,
        "classes": artifacts.CLASSES,
        "preprocessing": {"clip": clip, "scaler": type(model.scaler).__name__},
        "calibration": {"method": "platt", "a": 1.5, "b": -2.0},
        "files": {name: artifacts.sha256_of(directory / name) for name in ("model.pt", "scaler.joblib")},
    }
    (directory / "manifest.json").write_text(json.dumps(manifest))
    return directory


def rewrite_manifest(directory: Path, change) -> None:
    """Apply change(manifest_dict) to an artifact's manifest.json in place."""
    path = directory / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


def rehash(directory: Path) -> None:
    """Make the manifest's sha256s match the files again: a tampering that passes the hash check."""
    from soundness import artifacts

    rewrite_manifest(
        directory, lambda m: m.update(files={artifacts.TENSORS: artifacts.sha256_of(directory / artifacts.TENSORS)})
    )
