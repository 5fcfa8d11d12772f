"""Model artifacts, format 2: a directory with `manifest.json` and `model.safetensors`. No pickle.

manifest.json says what the model is (features, network shape, the ordered preprocessing
steps, decision, calibration, provenance) and gives the sha256 of model.safetensors. That
file holds tensors only: the network's weights under their torch `state_dict` names, and
each preprocessing step's fitted arrays as `preprocessing.<index>.<array>`.

Loading trusts nothing it has not checked: the manifest's shape (standard library only, so
deploy.sh can run it where numpy is absent), then the sha256 of every file, and only then
the tensors, each held to the name, shape and kind the manifest implies.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeGuard

from . import jsontext

FORMAT_VERSION = 2
MANIFEST = "manifest.json"
TENSORS = "model.safetensors"
BATCHNORM_EPS = 1e-5  # torch's BatchNorm1d default, which the legacy service's and our networks use
# The bundled manifest is 25 KB; a model with a hundred features and their quantiles stays well
# under 1 MiB. Read whole, a JSON text takes ten times its size in memory: bounded first.
MAX_MANIFEST_BYTES = 4 << 20
CONVERT_HINT = "convert it with `python -m training.import_legacy --artifact DIR --out NEW_DIR`"

CLASSES = [
    {"label": 0, "name": "sound", "ko": "건전"},
    {"label": 1, "name": "unsound", "ko": "비건전"},
]


class ArtifactError(Exception):
    """The artifact directory cannot be served; the message says why."""


@dataclass
class Artifact:
    manifest: dict[str, Any]
    tensors: dict[str, Any]  # name -> numpy array, as read from model.safetensors


# ---------------------------------------------------------------- preprocessing step kinds


def _no_settings(step: dict[str, Any]) -> str | None:
    return None


def _bounds_setting(step: dict[str, Any]) -> str | None:
    bounds = step.get("bounds")
    if bounds is None or (
        isinstance(bounds, list) and len(bounds) == 2 and all(map(_number, bounds)) and bounds[0] <= bounds[1]
    ):
        return None
    return "bounds must be null or [low, high]"


def _output_setting(step: dict[str, Any]) -> str | None:
    return None if step.get("output") in ("uniform", "normal") else "output must be 'uniform' or 'normal'"


@dataclass(frozen=True)
class StepKind:
    """What a preprocessing step of one kind holds: its arrays' shapes and its settings.

    A shape names its dimensions: "width" is the number of columns the step receives;
    any other name is a size the step's arrays must agree on. A kind that adds columns
    (missing-value indicators, say) gives `width`, the columns it hands on.
    """

    arrays: dict[str, tuple[str, ...]]
    settings: Callable[[dict[str, Any]], str | None] = _no_settings
    width: Callable[[dict[str, Any], int], int] = field(default=lambda step, width: width)


def _fill_setting(step: dict[str, Any]) -> str | None:
    return None if _number(step.get("fill")) else "fill must be a finite number"


PER_COLUMN = ("width",)
STEP_KINDS: dict[str, StepKind] = {
    "clip": StepKind({"lower": PER_COLUMN, "upper": PER_COLUMN}),
    "minmax": StepKind({"scale": PER_COLUMN, "offset": PER_COLUMN}, _bounds_setting),
    "standard": StepKind({"center": PER_COLUMN, "scale": PER_COLUMN}),
    "robust": StepKind({"center": PER_COLUMN, "scale": PER_COLUMN}),
    "maxabs": StepKind({"scale": PER_COLUMN}, _bounds_setting),
    "quantile": StepKind({"quantiles": ("quantiles", "width"), "references": ("quantiles",)}, _output_setting),
    "interpolate": StepKind({"knots": ("width", "knots"), "values": ("width", "knots")}),
    # Unknown inputs (NaN) become `fill`, with a 0/1 indicator column each, appended.
    "missing_indicator": StepKind({}, _fill_setting, lambda step, width: 2 * width),
}
# Encoded rows of the training population that explanations are measured against (optional),
# and each row's share of the population (optional with them: equal shares when absent).
BACKGROUND = "explanation.background"
BACKGROUND_WEIGHTS = "explanation.background_weights"
WEIGHTS_SUM_TOLERANCE = 1e-9


def step_tensor(index: int, array: str) -> str:
    return f"preprocessing.{index}.{array}"


# ---------------------------------------------------------------- manifest checks


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ArtifactError(f"manifest.json: {message}")


def _number(value: Any) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _section(manifest: dict[str, Any], name: str, default: dict[str, Any]) -> dict[str, Any]:
    section = manifest.get(name, default)
    _require(isinstance(section, dict), f"{name} must be an object")
    return section


def _check_format(manifest: dict[str, Any]) -> None:
    version = manifest.get("format_version")
    if version == FORMAT_VERSION:
        return
    if version is None and manifest.get("schema_version") == 1:
        raise ArtifactError(
            "manifest.json: this is artifact format 1 (model.pt and a pickled scaler), "
            f"which is no longer served: {CONVERT_HINT}"
        )
    raise ArtifactError(
        f"manifest.json: artifact format {version!r} is not one this server reads "
        f"(it reads format_version {FORMAT_VERSION})"
    )


def preprocessed_width(manifest: dict[str, Any]) -> int:
    """How many columns the network receives: the features, as the steps hand them on."""
    width = len(manifest["features"])
    for step in manifest["preprocessing"]:
        width = STEP_KINDS[step["kind"]].width(step, width)
    return width


def _check_preprocessing(steps: Any) -> None:
    _require(isinstance(steps, list), "preprocessing must be a list of steps")
    for index, step in enumerate(steps):
        _require(
            isinstance(step, dict) and step.get("kind") in STEP_KINDS,
            f"preprocessing step {index} must be an object whose kind is one of "
            f"{', '.join(STEP_KINDS)}, got {step.get('kind') if isinstance(step, dict) else step!r}",
        )
        problem = STEP_KINDS[step["kind"]].settings(step)
        _require(problem is None, f"preprocessing step {index} ({step['kind']}): {problem}")


def validate_manifest(manifest: Any) -> None:
    """Refuse a manifest a server could not act on, naming the first thing wrong."""
    _require(isinstance(manifest, dict), "must be a JSON object")
    _check_format(manifest)
    model = manifest.get("model")
    _require(
        isinstance(model, dict) and isinstance(model.get("name"), str) and isinstance(model.get("version"), str),
        "model.name and model.version are required",
    )
    features = manifest.get("features")
    _require(
        isinstance(features, list) and len(features) > 0 and all(isinstance(f, str) for f in features),
        "features must be a non-empty list of names",
    )
    _require(len(set(features)) == len(features), "features must not repeat")
    _check_preprocessing(manifest.get("preprocessing"))
    network = manifest.get("network")
    _require(
        isinstance(network, dict) and network.get("architecture") == "NeuralNet",
        "network.architecture must be 'NeuralNet'",
    )
    _require(
        network.get("input_size") == preprocessed_width(manifest),
        "network.input_size must equal the number of columns preprocessing hands on",
    )
    hidden = network.get("hidden")
    _require(
        isinstance(hidden, list)
        and len(hidden) > 0
        and all(isinstance(w, int) and not isinstance(w, bool) and w > 0 for w in hidden),
        "network.hidden must list positive layer widths",
    )
    _require(network.get("num_classes") == 2, "network.num_classes must be 2 (sound, unsound)")
    _require(
        _number(network.get("negative_slope", 0.01))
        and _number(network.get("dropout", 0.0))
        and 0 <= network.get("dropout", 0.0) < 1,
        "network.negative_slope must be a number and network.dropout one in [0, 1)",
    )
    _require(
        _number(network.get("batchnorm_eps", BATCHNORM_EPS)) and network.get("batchnorm_eps", 1) > 0,
        "network.batchnorm_eps must be a positive number",
    )
    classes = manifest.get("classes")
    _require(
        isinstance(classes, list)
        and len(classes) == 2
        and all(
            isinstance(c, dict) and isinstance(c.get("name"), str) and isinstance(c.get("ko"), str) for c in classes
        )
        and {c["label"] for c in classes if "label" in c} == {0, 1},
        "classes must name label 0 and label 1",
    )
    threshold = _section(manifest, "decision", {}).get("threshold")
    _require(_number(threshold) and 0 < threshold < 1, "decision.threshold must be a number between 0 and 1")
    calibration = _section(manifest, "calibration", {"method": "none"})
    _require(calibration.get("method") in ("none", "platt"), "calibration.method must be 'none' or 'platt'")
    _require(
        calibration["method"] == "none" or all(_number(calibration.get(k)) for k in ("a", "b")),
        "platt calibration needs numbers a and b",
    )
    explanation = _section(manifest, "explanation", {"background_rows": 1})
    _require(
        isinstance(explanation.get("background_rows"), int) and explanation["background_rows"] > 0,
        "explanation.background_rows must be a positive integer",
    )
    files = manifest.get("files")
    _require(
        isinstance(files, dict) and set(files) == {TENSORS},
        f"files must give the sha256 of {TENSORS}, and of nothing else",
    )


def verify_files(directory: Path, manifest: dict[str, Any]) -> None:
    for name, expected in manifest["files"].items():
        path = directory / name
        if not path.is_file():
            raise ArtifactError(f"{name} is missing from the artifact directory")
        actual = sha256_of(path)
        if actual != expected:
            raise ArtifactError(
                f"{name} does not match its sha256 in manifest.json "
                f"(expected {str(expected)[:12]}..., found {actual[:12]}...): refusing to load it"
            )


def verified_manifest(directory: Path) -> dict[str, Any]:
    """The manifest, checked and with every file's sha256 verified; standard library only."""
    manifest_path = directory / MANIFEST
    if not manifest_path.is_file():
        raise ArtifactError(f"no {MANIFEST} in {directory.name or directory}")
    with open(manifest_path, "rb") as handle:
        text = handle.read(MAX_MANIFEST_BYTES + 1)  # never more than the bound in memory, however large the file
    if len(text) > MAX_MANIFEST_BYTES:
        raise ArtifactError(f"{MANIFEST} is larger than {MAX_MANIFEST_BYTES >> 20} MiB: refusing to read it")
    try:
        manifest = jsontext.loads(text.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{MANIFEST} is not valid JSON ({exc})") from None
    validate_manifest(manifest)
    verify_files(directory, manifest)
    return manifest


# ---------------------------------------------------------------- tensors


def network_shapes(spec: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """The state_dict names and shapes of the legacy service's NeuralNet with this manifest's widths."""
    widths = [spec["input_size"], *spec["hidden"]]
    shapes: dict[str, tuple[int, ...]] = {}
    for i, (width_in, width_out) in enumerate(itertools.pairwise(widths)):
        linear, norm = ("input_layer", "batchnorm") if i == 0 else (f"hidden_layer{i}", f"batchnorm{i}")
        shapes |= {f"{linear}.weight": (width_out, width_in), f"{linear}.bias": (width_out,)}
        shapes |= {f"{norm}.{name}": (width_out,) for name in ("weight", "bias", "running_mean", "running_var")}
    return shapes | {
        "output_layer.weight": (spec["num_classes"], widths[-1]),
        "output_layer.bias": (spec["num_classes"],),
    }


def _step_shapes(manifest: dict[str, Any], tensors: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """Each step's arrays and the shapes the manifest implies, free sizes taken from the file."""
    shapes = {}
    width = len(manifest["features"])
    for index, step in enumerate(manifest["preprocessing"]):
        kind = STEP_KINDS[step["kind"]]
        sizes: dict[str, int] = {"width": width}
        for array, dimensions in kind.arrays.items():
            name = step_tensor(index, array)
            found = getattr(tensors.get(name), "shape", ())
            for dimension, size in zip(dimensions, found):
                sizes.setdefault(dimension, size)  # the first array to use a free size sets it
            shapes[name] = tuple(sizes.get(d, -1) for d in dimensions)
        width = kind.width(step, width)
    return shapes


def check_tensors(manifest: dict[str, Any], tensors: dict[str, Any]) -> None:
    """Every tensor the manifest implies is there, with its shape, floating and finite; no others."""
    import numpy as np

    expected = network_shapes(manifest["network"]) | _step_shapes(manifest, tensors)
    if "explanation" in manifest:
        rows = manifest["explanation"]["background_rows"]
        expected[BACKGROUND] = (rows, manifest["network"]["input_size"])
        if BACKGROUND_WEIGHTS in tensors:
            expected[BACKGROUND_WEIGHTS] = (rows,)
    # torch's BatchNorm counts batches seen; eval mode never reads it, a state_dict carries it.
    counters = {
        name
        for name in tensors
        if name.endswith(".num_batches_tracked") and name.rsplit(".", 1)[0] + ".running_mean" in expected
    }
    missing = sorted(set(expected) - set(tensors))
    unknown = sorted(set(tensors) - set(expected) - counters)
    if missing or unknown:
        raise ArtifactError(
            f"{TENSORS} does not fit the network and preprocessing described in manifest.json: "
            + "; ".join(
                part
                for part in (
                    f"it lacks {', '.join(missing[:5])}" if missing else "",
                    f"it holds {', '.join(unknown[:5])}, which the manifest does not describe" if unknown else "",
                )
                if part
            )
        )
    for name, shape in expected.items():
        array = tensors[name]
        if array.shape != shape:
            raise ArtifactError(
                f"{TENSORS} does not fit the network and preprocessing described in manifest.json: "
                f"{name} has shape {tuple(array.shape)}, the manifest implies {shape}"
            )
        if array.dtype.kind != "f" or not np.isfinite(array).all():
            raise ArtifactError(f"{TENSORS}: {name} must hold finite floating-point numbers")
    if BACKGROUND_WEIGHTS in expected:
        _check_weights(tensors[BACKGROUND_WEIGHTS].astype(np.float64))


def _check_weights(weights: Any) -> None:
    total = float(weights.sum())
    if (weights < 0).any() or abs(total - 1) > WEIGHTS_SUM_TOLERANCE:
        raise ArtifactError(
            f"{TENSORS}: {BACKGROUND_WEIGHTS} must be shares of the background: none negative, "
            f"summing to 1 within {WEIGHTS_SUM_TOLERANCE:g} (they sum to {total!r}, smallest {float(weights.min())!r})"
        )


def read_tensors(path: Path) -> dict[str, Any]:
    from safetensors.numpy import load_file

    try:
        return load_file(path)
    except Exception as exc:  # any corruption: truncated, a bad header, an unknown dtype
        raise ArtifactError(f"{path.name} is not a readable safetensors file ({type(exc).__name__})") from None


def load(directory: Path | str) -> Artifact:
    """Load and verify an artifact directory, or raise ArtifactError saying why not."""
    directory = Path(directory)
    manifest = verified_manifest(directory)
    tensors = read_tensors(directory / TENSORS)
    check_tensors(manifest, tensors)
    return Artifact(manifest, tensors)


# ---------------------------------------------------------------- writing


def library_versions() -> dict[str, str]:
    import numpy
    import safetensors

    return {"python": platform.python_version(), "numpy": numpy.__version__, "safetensors": safetensors.__version__}


def save(directory: Path | str, artifact: Artifact) -> Path:
    """Write an artifact directory after checking it as loading would; fills in format, classes,
    creation facts and the tensors' sha256."""
    from safetensors.numpy import save_file

    manifest = dict(artifact.manifest)
    manifest["format_version"] = FORMAT_VERSION
    manifest.pop("schema_version", None)
    manifest.setdefault("classes", CLASSES)
    created = dict(manifest.get("created", {}))
    created.setdefault("at", datetime.now(UTC).isoformat(timespec="seconds"))
    created["libraries"] = {**library_versions(), **created.get("libraries", {})}
    manifest["created"] = created
    manifest["files"] = {TENSORS: ""}
    validate_manifest(manifest)
    check_tensors(manifest, artifact.tensors)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    save_file(artifact.tensors, directory / TENSORS)
    manifest["files"] = {TENSORS: sha256_of(directory / TENSORS)}
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return directory
