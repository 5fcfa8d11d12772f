"""Model artifacts: a directory with `manifest.json`, `model.pt` and `scaler.joblib`.

Loading trusts nothing it has not checked: the manifest's shape first, then the sha256
of every file it lists, and only then deserialisation, with torch's weights-only loader
and a joblib unpickler that admits the few classes a fitted scaler is made of.
"""
from __future__ import annotations

import hashlib
import json
import math
import pickle
import platform
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import jsontext

MANIFEST = "manifest.json"
WEIGHTS = "model.pt"
SCALER = "scaler.joblib"
SCHEMA_VERSION = 1

CLASSES = [
    {"label": 0, "name": "sound", "ko": "건전"},
    {"label": 1, "name": "unsound", "ko": "비건전"},
]

# What a pickled scikit-learn scaler may reference, and nothing else.
ALLOWED_GLOBALS = frozenset({
    ("sklearn.preprocessing._data", "MinMaxScaler"),
    ("sklearn.preprocessing._data", "StandardScaler"),
    ("sklearn.preprocessing._data", "RobustScaler"),
    ("sklearn.preprocessing._data", "MaxAbsScaler"),
    ("sklearn.preprocessing._data", "QuantileTransformer"),
    ("joblib.numpy_pickle", "NumpyArrayWrapper"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.multiarray", "scalar"),
})


class ArtifactError(Exception):
    """The artifact directory cannot be served; the message says why."""


@dataclass
class Artifact:
    manifest: dict[str, Any]
    network: Any  # soundness.network.NeuralNet, in eval mode
    scaler: Any  # a fitted scikit-learn scaler


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    import joblib
    import numpy
    import sklearn
    import torch

    return {"python": platform.python_version(), "torch": torch.__version__,
            "scikit-learn": sklearn.__version__, "numpy": numpy.__version__,
            "joblib": joblib.__version__}


# ---------------------------------------------------------------- manifest checks

def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ArtifactError(f"manifest.json: {message}")


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _section(manifest: dict[str, Any], name: str, default: dict[str, Any]) -> dict[str, Any]:
    section = manifest.get(name, default)
    _require(isinstance(section, dict), f"{name} must be an object")
    return section


def validate_manifest(manifest: Any) -> None:
    """Refuse a manifest a server could not act on, naming the first thing wrong."""
    _require(isinstance(manifest, dict), "must be a JSON object")
    _require(manifest.get("schema_version") == SCHEMA_VERSION,
             f"schema_version must be {SCHEMA_VERSION}, got {manifest.get('schema_version')!r}")
    model = manifest.get("model")
    _require(isinstance(model, dict) and isinstance(model.get("name"), str)
             and isinstance(model.get("version"), str), "model.name and model.version are required")
    features = manifest.get("features")
    _require(isinstance(features, list) and features and all(isinstance(f, str) for f in features),
             "features must be a non-empty list of names")
    _require(len(set(features)) == len(features), "features must not repeat")
    network = manifest.get("network")
    _require(isinstance(network, dict) and network.get("input_size") == len(features),
             "network.input_size must equal the number of features")
    hidden = network.get("hidden")
    _require(isinstance(hidden, list) and hidden and all(isinstance(w, int) and w > 0 for w in hidden),
             "network.hidden must list positive layer widths")
    _require(network.get("num_classes") == 2, "network.num_classes must be 2 (sound, unsound)")
    _require(_number(network.get("negative_slope", 0.01)) and _number(network.get("dropout", 0.0))
             and 0 <= network.get("dropout", 0.0) < 1,
             "network.negative_slope must be a number and network.dropout one in [0, 1)")
    classes = manifest.get("classes")
    _require(isinstance(classes, list) and len(classes) == 2 and all(
        isinstance(c, dict) and isinstance(c.get("name"), str) and isinstance(c.get("ko"), str)
        for c in classes) and {c["label"] for c in classes if "label" in c} == {0, 1},
        "classes must name label 0 and label 1")
    threshold = _section(manifest, "decision", {}).get("threshold")
    _require(_number(threshold) and 0 < threshold < 1,
             "decision.threshold must be a number between 0 and 1")
    clip = _section(manifest, "preprocessing", {}).get("clip")
    if clip is not None:
        _require(isinstance(clip, dict) and all(
            isinstance(clip.get(k), list) and len(clip[k]) == len(features) and all(map(_number, clip[k]))
            for k in ("lower", "upper")),
            "preprocessing.clip needs lower and upper bounds, one number per feature")
    calibration = _section(manifest, "calibration", {"method": "none"})
    _require(calibration.get("method") in ("none", "platt"),
             "calibration.method must be 'none' or 'platt'")
    _require(calibration["method"] == "none" or all(_number(calibration.get(k)) for k in ("a", "b")),
             "platt calibration needs numbers a and b")
    files = manifest.get("files")
    _require(isinstance(files, dict) and set(files) == {WEIGHTS, SCALER},
             f"files must give the sha256 of {WEIGHTS} and {SCALER}")


def verify_files(directory: Path, manifest: dict[str, Any]) -> None:
    for name, expected in manifest["files"].items():
        path = directory / name
        if not path.is_file():
            raise ArtifactError(f"{name} is missing from the artifact directory")
        actual = sha256_of(path)
        if actual != expected:
            raise ArtifactError(
                f"{name} does not match its sha256 in manifest.json "
                f"(expected {str(expected)[:12]}..., found {actual[:12]}...): refusing to load it")


# ---------------------------------------------------------------- deserialisation

def _restricted_unpickler_class():
    import numpy as np
    from joblib.numpy_pickle import NumpyArrayWrapper, NumpyUnpickler

    class RestrictedUnpickler(NumpyUnpickler):
        """joblib's unpickler, admitting only the classes in ALLOWED_GLOBALS."""

        dispatch = NumpyUnpickler.dispatch.copy()

        def find_class(self, module: str, name: str) -> Any:
            if (module, name) not in ALLOWED_GLOBALS:
                raise ArtifactError(
                    f"{SCALER} references {module}.{name}, which a scaler never needs: "
                    "refusing to unpickle it")
            return super().find_class(module, name)

        def load_build(self) -> None:
            pickle._Unpickler.load_build(self)
            wrapper = self.stack[-1]
            if isinstance(wrapper, NumpyArrayWrapper):
                # joblib reads object arrays with plain pickle.load, past find_class.
                if np.dtype(wrapper.dtype).hasobject:
                    raise ArtifactError(f"{SCALER} holds an object array: refusing to unpickle it")
                self.stack.append(self.stack.pop().read(self, self.ensure_native_byte_order))

        dispatch[pickle.BUILD[0]] = load_build

    return RestrictedUnpickler


def load_scaler(path: Path) -> Any:
    """Unpickle a joblib file that must hold a fitted scikit-learn scaler."""
    import warnings

    from joblib.numpy_pickle import _validate_fileobject_and_memmap
    from sklearn.exceptions import InconsistentVersionWarning

    unpickler_class = _restricted_unpickler_class()
    try:
        with open(path, "rb") as raw, _validate_fileobject_and_memmap(raw, str(path), None) as (f, _):
            if isinstance(f, str):
                raise ArtifactError(f"{path.name} uses joblib's pre-0.10 format, which is not supported")
            with warnings.catch_warnings():
                # Scalers pickled by older scikit-learn (the seed's: 1.2) load fine; say it once.
                warnings.simplefilter("ignore", InconsistentVersionWarning)
                scaler = unpickler_class(str(path), f, ensure_native_byte_order=True).load()
    except ArtifactError:
        raise
    except Exception as exc:  # any corruption: truncated, not a pickle, bad opcodes
        raise ArtifactError(f"{path.name} is not a readable joblib scaler ({type(exc).__name__}: {exc})") from None
    if not hasattr(scaler, "transform") or not hasattr(scaler, "n_features_in_"):
        raise ArtifactError(f"{path.name} does not hold a fitted scaler")
    return scaler


def load_weights(path: Path) -> dict[str, Any]:
    import torch

    try:
        state = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as exc:
        raise ArtifactError(f"{path.name} is not a readable torch state_dict ({type(exc).__name__})") from None
    if not isinstance(state, dict):
        raise ArtifactError(f"{path.name} must hold a state_dict, not {type(state).__name__}")
    return state


def build_network(spec: dict[str, Any], state: dict[str, Any]) -> Any:
    from .network import build, spec_from_state_dict

    try:
        found = spec_from_state_dict(state)
    except ValueError as exc:
        raise ArtifactError(f"{WEIGHTS}: {exc}") from None
    shape = ("input_size", "hidden", "num_classes")
    if any(found[key] != spec[key] for key in shape):
        # Checked before building: a manifest must not make us allocate layers model.pt lacks.
        raise ArtifactError(
            f"{WEIGHTS} does not fit the network described in manifest.json: it has "
            + ", ".join(f"{key} {found[key]}" for key in shape)
            + ", the manifest says " + ", ".join(f"{key} {spec[key]}" for key in shape))
    network = build(spec)
    try:
        network.load_state_dict(state, strict=True)
    except (RuntimeError, TypeError, ValueError, AttributeError) as exc:
        first = str(exc).strip().splitlines()
        raise ArtifactError(
            f"{WEIGHTS} does not fit the network described in manifest.json: "
            f"{' '.join(line.strip() for line in first[:3])}") from None
    return network.eval()


def verified_manifest(directory: Path) -> dict[str, Any]:
    """The manifest, checked and with every file's sha256 verified; standard library only."""
    manifest_path = directory / MANIFEST
    if not manifest_path.is_file():
        raise ArtifactError(f"no {MANIFEST} in {directory.name or directory}")
    try:
        manifest = jsontext.loads(manifest_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{MANIFEST} is not valid JSON ({exc})") from None
    validate_manifest(manifest)
    verify_files(directory, manifest)
    return manifest


def load(directory: Path | str) -> Artifact:
    """Load and verify an artifact directory, or raise ArtifactError saying why not."""
    directory = Path(directory)
    manifest = verified_manifest(directory)
    network = build_network(manifest["network"], load_weights(directory / WEIGHTS))
    scaler = load_scaler(directory / SCALER)
    if getattr(scaler, "n_features_in_", None) != len(manifest["features"]):
        raise ArtifactError(
            f"{SCALER} was fitted on {scaler.n_features_in_} features, "
            f"manifest.json lists {len(manifest['features'])}")
    return Artifact(manifest, network, scaler)


# ---------------------------------------------------------------- writing

def save(directory: Path | str, *, state_dict: dict[str, Any], scaler: Any,
         manifest: dict[str, Any]) -> Path:
    """Write an artifact directory; fills in files' sha256, schema and creation facts."""
    import joblib
    import torch

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    torch.save(state_dict, directory / WEIGHTS)
    joblib.dump(scaler, directory / SCALER)
    manifest = dict(manifest)
    manifest["schema_version"] = SCHEMA_VERSION
    manifest.setdefault("classes", CLASSES)
    manifest.setdefault("created", {})
    manifest["created"] = {"at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                           "libraries": library_versions(), **manifest["created"]}
    manifest["files"] = {name: sha256_of(directory / name) for name in (WEIGHTS, SCALER)}
    validate_manifest(manifest)
    (directory / MANIFEST).write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return directory
