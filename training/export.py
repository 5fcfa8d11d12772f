"""From torch and scikit-learn objects to a format-2 artifact, held to torch's own answers.

Every model enters the service through `write`: training's, a user's .pth + joblib scaler,
a converted format-1 directory. It runs the served numpy predictor and the reference (clip,
scikit-learn's transform, torch's eval-mode forward, the calibration) on the same rows, and
refuses to write when any probability differs by more than AGREEMENT.

The reference runs the network in float64: torch's own float32 forward is off by up to 2e-6
in probability on rows beyond the eight-ratio legacy model's fitted range (measured against
float64), so a float32 reference would blame the runtime for torch's rounding. The float32
difference is recorded beside the check, for information.
"""

from __future__ import annotations

import copy
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from soundness import artifacts, transforms
from soundness.artifacts import Artifact, ArtifactError, step_tensor
from soundness.predictor import Predictor
from soundness.ratios import LEGACY_FEATURES

from .network import NeuralNet, build, network_state

AGREEMENT = 1e-6
# Step kinds training fits itself (no scikit-learn counterpart): a Model carries them as `steps`.
FITTED_IN_TRAINING = {"interpolate", "missing_indicator"}
LEGACY_EXAMPLE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "seed-example.json"


@dataclass
class Model:
    """A model as torch and scikit-learn hold it: clip bounds, a fitted scaler, a network.

    Or, instead of clip and scaler, format-2 steps fitted in training (`steps`: kinds without a
    scikit-learn counterpart, such as missing indicators; the reference runs them with the
    server's own numpy transforms, so the check holds the network's folding, not the steps),
    and encoded background rows for explanations, with their weights (equal when None)."""

    network: NeuralNet  # in eval mode
    scaler: Any = None
    clip: tuple[np.ndarray, np.ndarray] | None = None
    calibration: dict[str, Any] = field(default_factory=lambda: {"method": "none"})
    steps: list[tuple[dict[str, Any], dict[str, np.ndarray]]] | None = None
    background: np.ndarray | None = None
    background_weights: np.ndarray | None = None


# ---------------------------------------------------------------- scikit-learn scalers <-> steps


def _ones_unless(flag: bool, values: Any, width: int) -> np.ndarray:
    return np.asarray(values, np.float64) if flag else np.ones(width)


def scaler_step(scaler: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The preprocessing step that computes this fitted scaler's transform, and its arrays."""
    kind, width = type(scaler).__name__, scaler.n_features_in_
    if kind == "MinMaxScaler":
        return (
            {"kind": "minmax", "bounds": list(map(float, scaler.feature_range)) if scaler.clip else None},
            {"scale": scaler.scale_, "offset": scaler.min_},
        )
    if kind == "StandardScaler":
        return (
            {"kind": "standard"},
            {
                "center": scaler.mean_ if scaler.with_mean else np.zeros(width),
                "scale": _ones_unless(scaler.with_std, scaler.scale_, width),
            },
        )
    if kind == "RobustScaler":
        return (
            {"kind": "robust"},
            {
                "center": scaler.center_ if scaler.with_centering else np.zeros(width),
                "scale": _ones_unless(scaler.with_scaling, scaler.scale_, width),
            },
        )
    if kind == "MaxAbsScaler":
        return {"kind": "maxabs", "bounds": [-1.0, 1.0] if getattr(scaler, "clip", False) else None}, {
            "scale": scaler.scale_
        }
    if kind == "QuantileTransformer":
        return (
            {"kind": "quantile", "output": scaler.output_distribution},
            {"quantiles": scaler.quantiles_, "references": scaler.references_},
        )
    raise ArtifactError(
        f"a {kind} cannot be served: the scalers that can are MinMaxScaler, StandardScaler, "
        "RobustScaler, MaxAbsScaler and QuantileTransformer"
    )


def scaler_from_step(step: dict[str, Any], arrays: dict[str, np.ndarray]) -> Any:
    """The fitted scikit-learn scaler a step came from (for the reference on a stored artifact)."""
    from sklearn import preprocessing as sk

    kind = step["kind"]
    if kind == "minmax":
        bounds = step.get("bounds")
        scaler = sk.MinMaxScaler(feature_range=tuple(bounds or (0, 1)), clip=bounds is not None)
        scaler.scale_, scaler.min_ = arrays["scale"], arrays["offset"]
    elif kind in ("standard", "robust"):
        scaler = sk.StandardScaler() if kind == "standard" else sk.RobustScaler()
        scaler.scale_ = arrays["scale"]
        setattr(scaler, "mean_" if kind == "standard" else "center_", arrays["center"])
    elif kind == "maxabs":
        scaler = sk.MaxAbsScaler(clip=step.get("bounds") is not None)
        scaler.scale_ = scaler.max_abs_ = arrays["scale"]
    elif kind == "quantile":
        scaler = sk.QuantileTransformer(n_quantiles=len(arrays["references"]), output_distribution=step["output"])
        scaler.quantiles_, scaler.references_ = arrays["quantiles"], arrays["references"]
        scaler.n_quantiles_ = len(arrays["references"])
    else:
        raise ArtifactError(f"no scikit-learn scaler computes a {kind} step")
    scaler.n_features_in_ = len(next(iter(arrays.values())).T)
    return scaler


def model_from_artifact(artifact: Artifact) -> Model:
    """The torch + scikit-learn model a stored artifact describes: [clip], [scaler], network; or
    training's own steps (FITTED_IN_TRAINING), network and explanation background."""
    manifest, tensors = artifact.manifest, artifact.tensors
    network = build(manifest["network"])
    network.load_state_dict(network_state(tensors), strict=True)
    calibration = manifest.get("calibration", {"method": "none"})
    if {step["kind"] for step in manifest["preprocessing"]} <= FITTED_IN_TRAINING:
        steps = [
            (step, {name: tensors[step_tensor(index, name)] for name in artifacts.STEP_KINDS[step["kind"]].arrays})
            for index, step in enumerate(manifest["preprocessing"])
        ]
        return Model(
            network.eval(),
            calibration=calibration,
            steps=steps,
            background=tensors.get(artifacts.BACKGROUND),
            background_weights=tensors.get(artifacts.BACKGROUND_WEIGHTS),
        )
    steps = list(enumerate(manifest["preprocessing"]))
    clip = None
    if steps and steps[0][1]["kind"] == "clip":
        clip = (tensors[step_tensor(0, "lower")], tensors[step_tensor(0, "upper")])
        steps = steps[1:]
    if len(steps) > 1:
        raise ArtifactError("only [clip], [scaler] preprocessing has a scikit-learn reference")
    scaler = None
    for index, step in steps:
        arrays = {name: tensors[step_tensor(index, name)] for name in artifacts.STEP_KINDS[step["kind"]].arrays}
        scaler = scaler_from_step(step, arrays)
    return Model(network.eval(), scaler, clip, calibration)


# ---------------------------------------------------------------- the reference and the check


def reference_probabilities(model: Model, x: np.ndarray, dtype: torch.dtype = torch.float64) -> np.ndarray:
    """P(unsound) the textbook way: clip, scikit-learn's transform, torch's eval-mode forward, Platt."""
    x = np.asarray(x, np.float64)
    if model.clip is not None:
        x = np.clip(x, *model.clip)
    if model.scaler is not None:
        x = model.scaler.transform(x)
    for step, arrays in model.steps or []:
        x = transforms.build(step, arrays)(x)
    network = copy.deepcopy(model.network).eval().to(dtype)
    with torch.inference_mode():
        logits = network(torch.from_numpy(np.ascontiguousarray(x)).to(dtype)).numpy()
    margin = (logits[:, 1] - logits[:, 0]).astype(np.float64)
    a, b = (model.calibration.get("a", 1.0), model.calibration.get("b", 0.0))
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-(a * margin + b)))


def recorded_range(scaler: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """The span of the training values a fitted scaler recorded (a MinMaxScaler's data_min_ and
    data_max_, a QuantileTransformer's outer quantiles), or None when it records none."""
    ranges = {
        "MinMaxScaler": lambda s: (s.data_min_, s.data_max_),
        "QuantileTransformer": lambda s: (s.quantiles_[0], s.quantiles_[-1]),
    }
    try:
        return tuple(np.asarray(bound, np.float64) for bound in ranges[type(scaler).__name__](scaler))
    except (KeyError, AttributeError, TypeError):  # another kind, or one without the fitted arrays
        return None


def _fitted_range(model: Model, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Where the model's inputs were seen: its clip bounds, its first step's knots, its scaler's
    recorded range, or three scales around a standardising scaler's centre."""
    if model.clip is not None:
        return model.clip
    if model.steps:  # the first step's knots span the training values
        knots = model.steps[0][1]["knots"]
        return knots[:, 0], knots[:, -1]
    s = model.scaler
    recorded = recorded_range(s)
    if recorded is not None:
        return recorded
    spread = {
        "StandardScaler": lambda: (s.mean_ - 3 * s.scale_, s.mean_ + 3 * s.scale_),
        "RobustScaler": lambda: (s.center_ - 3 * s.scale_, s.center_ + 3 * s.scale_),
        "MaxAbsScaler": lambda: (-s.max_abs_, s.max_abs_),
    }
    try:
        return tuple(np.asarray(bound, np.float64) for bound in spread[type(s).__name__]())
    except (KeyError, AttributeError, TypeError):  # no scaler, or one without the fitted arrays
        return np.full(width, -100.0), np.full(width, 100.0)


def check_rows(model: Model, features: list[str], count: int = 2000, seed: int = 0) -> np.ndarray:
    """Rows to hold the served model to the reference on: `count` random rows across and beyond
    the fitted range, its ends, zeros, and the legacy example when the model takes its five ratios."""
    width = len(features)
    low, high = _fitted_range(model, width)
    span = np.where(high > low, high - low, 1.0)
    rows = [
        np.random.default_rng(seed).uniform(low - span / 2, high + span / 2, size=(count, width)),
        np.vstack([low, high, np.zeros(width), (low + high) / 2]),
    ]
    if model.steps:  # a model that takes unknown inputs: some of every row's values unknown
        unknown = rows[0].copy()
        unknown[np.random.default_rng(seed + 1).random(unknown.shape) < 0.3] = np.nan
        rows.append(unknown)
    if list(features) == list(LEGACY_FEATURES) and LEGACY_EXAMPLE.is_file():
        example = json.loads(LEGACY_EXAMPLE.read_text(encoding="utf-8"))
        rows.append(np.array([example["ratios_posted_by_the_seed_page"]["values"]]))
    return np.vstack(rows)


def max_difference(served: np.ndarray, reference: np.ndarray) -> float:
    """The largest absolute difference; infinite when one side is NaN where the other is not."""
    if not np.array_equal(np.isnan(served), np.isnan(reference)):
        return float("inf")
    both = ~np.isnan(served)
    return float(np.max(np.abs(served[both] - reference[both]), initial=0.0))


# ---------------------------------------------------------------- building and writing


def artifact(model: Model, manifest: dict[str, Any]) -> Artifact:
    """The format-2 artifact of a model in memory: its steps and arrays, its network's tensors."""
    steps, tensors = [], {}
    parts = list(model.steps or [])
    if model.clip is not None:
        parts.append(({"kind": "clip"}, {"lower": model.clip[0], "upper": model.clip[1]}))
    if model.scaler is not None:
        parts.append(scaler_step(model.scaler))
    for index, (step, arrays) in enumerate(parts):
        steps.append(step)
        tensors |= {step_tensor(index, name): np.ascontiguousarray(value, np.float64) for name, value in arrays.items()}
    tensors |= {
        name: np.ascontiguousarray(value.detach().cpu().numpy()) for name, value in model.network.state_dict().items()
    }
    manifest = {
        **manifest,
        "preprocessing": steps,
        "calibration": model.calibration,
        "format_version": artifacts.FORMAT_VERSION,
        "classes": manifest.get("classes", artifacts.CLASSES),
        "files": {artifacts.TENSORS: ""},
    }
    manifest["network"] = {**manifest["network"], "batchnorm_eps": model.network.batchnorm.eps}
    if model.background is not None:
        tensors[artifacts.BACKGROUND] = np.ascontiguousarray(model.background, np.float64)
        if model.background_weights is not None:
            tensors[artifacts.BACKGROUND_WEIGHTS] = np.ascontiguousarray(model.background_weights, np.float64)
        manifest["explanation"] = {**manifest.get("explanation", {}), "background_rows": len(model.background)}
    artifacts.validate_manifest(manifest)
    artifacts.check_tensors(manifest, tensors)
    return Artifact(manifest, tensors)


def library_versions() -> dict[str, str]:
    import sklearn

    return {"torch": torch.__version__, "scikit-learn": sklearn.__version__}


def write(out: Path, model: Model, manifest: dict[str, Any], rows: np.ndarray) -> Path:
    """Write the model to `out` in format 2 if the served predictor gives the reference's
    probabilities on `rows` within AGREEMENT; ArtifactError, with nothing written, if not."""
    built = artifact(model, manifest)
    probabilities = Predictor(built).probabilities(rows)
    difference = max_difference(probabilities, reference_probabilities(model, rows))
    if difference > AGREEMENT:
        raise ArtifactError(
            f"the numpy predictor differs from torch's forward by up to {difference:.3g} in probability "
            f"on {len(rows)} rows (allowed: {AGREEMENT:g}): refusing to write the artifact"
        )
    created = dict(built.manifest.get("created", {}))
    created["libraries"] = {**created.get("libraries", {}), **library_versions()}
    created["agreement"] = {
        "rows": len(rows),
        "max_abs_difference": difference,
        "against": "clip, scikit-learn's transform and torch's eval-mode forward in float64",
        "max_abs_difference_float32": max_difference(
            probabilities, reference_probabilities(model, rows, torch.float32)
        ),
    }
    built.manifest["created"] = created
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}-") as scratch:
        written = artifacts.save(Path(scratch) / "artifact", built)
        if not np.array_equal(
            Predictor(artifacts.load(written)).probabilities(rows), Predictor(built).probabilities(rows), equal_nan=True
        ):
            raise ArtifactError("the written artifact does not reproduce the model's probabilities")
        out.mkdir(exist_ok=True)
        for name in (artifacts.TENSORS, artifacts.MANIFEST):  # the manifest last: it vouches for the rest
            shutil.move(written / name, out / name)
            (out / name).chmod(0o644)
    return out
