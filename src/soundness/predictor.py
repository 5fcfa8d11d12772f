"""From a matrix of feature values to probabilities and labels, in numpy, for one loaded artifact.

The network is folded at load: each BatchNorm into the Linear before it (eval-mode BatchNorm
is an affine map per unit), the first block's Linear into the next layer (no activation
stands between them), and the output layer with the Platt calibration into one vector that
gives the calibrated log-odds. What is left per row is a few matrix products and LeakyReLUs.

Arithmetic is float64, chosen by measurement (CPU time on this 2-core machine, bundled model):
float32 took 1.2 ms for a 1000-row batch against 1.8 ms and the same 41-43 us for one row, but
on the eight-ratio legacy model it differed from torch's float64 forward by 2.2e-6 in probability,
beyond the 1e-6 every model is held to (training.export); float64 agrees to about 1e-15.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import transforms
from .artifacts import (
    BACKGROUND,
    BACKGROUND_WEIGHTS,
    BATCHNORM_EPS,
    STEP_KINDS,
    TENSORS,
    Artifact,
    ArtifactError,
    step_tensor,
)
from .blocks import stacked, unstacked
from .explain import Explainer, forward
from .meaning import Meaning
from .model_card import training_ranges

DTYPE = np.float64
EXP_LIMIT = 709.0


def _layers(spec: dict[str, Any], tensors: dict[str, np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    """(weights as in x features, bias) per Linear, each followed BatchNorm folded in."""
    eps = float(spec.get("batchnorm_eps", BATCHNORM_EPS))
    names = [("input_layer", "batchnorm")]
    names += [(f"hidden_layer{i}", f"batchnorm{i}") for i in range(1, len(spec["hidden"]))]
    layers = []
    for linear, norm in names:
        t = {k: tensors[f"{norm}.{k}"].astype(np.float64) for k in ("weight", "bias", "running_mean", "running_var")}
        scale = t["weight"] / np.sqrt(t["running_var"] + eps)
        weight = tensors[f"{linear}.weight"].astype(np.float64).T * scale
        bias = (tensors[f"{linear}.bias"].astype(np.float64) - t["running_mean"]) * scale + t["bias"]
        layers.append((weight, bias))
    return layers


def _compile_network(
    spec: dict[str, Any], tensors: dict[str, np.ndarray], platt: tuple[float, float]
) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray, float]:
    layers = _layers(spec, tensors)
    out_weight = tensors["output_layer.weight"].astype(np.float64)
    out_bias = tensors["output_layer.bias"].astype(np.float64)
    # Calibrated log-odds of "unsound": a * (logit1 - logit0) + b, one column.
    a, b = platt
    score_weight = a * (out_weight[1] - out_weight[0])
    score_bias = a * (out_bias[1] - out_bias[0]) + b
    if len(layers) > 1:  # input_layer + batchnorm, then straight into hidden_layer1: one affine map
        (w0, b0), (w1, b1) = layers[:2]
        layers[:2] = [(w0 @ w1, b0 @ w1 + b1)]
    else:  # one block: nothing nonlinear at all
        ((w0, b0),) = layers
        return [], w0 @ score_weight, float(b0 @ score_weight + score_bias)
    contiguous = [(np.ascontiguousarray(w, DTYPE), np.ascontiguousarray(b, DTYPE)) for w, b in layers]
    return contiguous, np.ascontiguousarray(score_weight, DTYPE), float(score_bias)


def _step(index: int, step: dict[str, Any], tensors: dict[str, np.ndarray]) -> transforms.Transform:
    arrays = {name: tensors[step_tensor(index, name)].astype(np.float64) for name in STEP_KINDS[step["kind"]].arrays}
    try:
        return transforms.build(step, arrays)
    except ValueError as problem:
        raise ArtifactError(f"{TENSORS}: preprocessing step {index} ({step['kind']}) {problem}") from None


def _input_of_columns(kinds: list[str], features: int) -> np.ndarray:
    """Which feature each column the network receives comes from (indicators follow the columns)."""
    columns = np.arange(features)
    for kind in kinds:
        if kind == "missing_indicator":
            columns = np.concatenate([columns, columns])
    return columns


class Predictor:
    """The model one artifact describes: its features, decision threshold and probabilities."""

    def __init__(self, artifact: Artifact):
        manifest, tensors = artifact.manifest, artifact.tensors
        self.manifest = manifest
        self.features: list[str] = list(manifest["features"])
        self.threshold = float(manifest["decision"]["threshold"])
        self.classes = {c["label"]: c for c in manifest["classes"]}
        self.training_ranges = training_ranges(manifest)  # read once: answers' range warnings use it
        try:  # read once too: the event, grades and reasons' groups every answer carries
            self.meaning = Meaning(manifest, self.features)
        except ValueError as problem:
            raise ArtifactError(f"manifest.json: {problem}") from None
        # The same ranges as arrays in feature order (NaN where none is recorded: never outside).
        self.range_bounds = tuple(
            np.array([self.training_ranges.get(name, {}).get(end, np.nan) for name in self.features])
            for end in ("low", "high")
        )
        self._steps = [_step(index, step, tensors) for index, step in enumerate(manifest["preprocessing"])]
        calibration = manifest.get("calibration", {"method": "none"})
        platt = (float(calibration.get("a", 1.0)), float(calibration.get("b", 0.0)))  # 1, 0: plain softmax
        network = manifest["network"]
        self._layers, self._score_weight, self._score_bias = _compile_network(network, tensors, platt)
        self._slope = float(network.get("negative_slope", 0.01))
        kinds = [step["kind"] for step in manifest["preprocessing"]]
        # A model with missing indicators was trained to take unknown inputs (NaN); others need all.
        self.accepts_missing = "missing_indicator" in kinds
        self._explainer: Explainer | None = None
        if BACKGROUND in tensors:
            self._explainer = Explainer(
                self._layers,
                self._slope,
                self._score_weight,
                self._score_bias,
                tensors[BACKGROUND].astype(DTYPE),
                _input_of_columns(kinds, len(self.features)),
                tensors[BACKGROUND_WEIGHTS].astype(DTYPE) if BACKGROUND_WEIGHTS in tensors else None,
            )

    @property
    def explains(self) -> bool:
        return self._explainer is not None

    def predict(self, x: np.ndarray, explain: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        """Each row's probability of "unsound" and, with `explain` (and a model that can), its
        contributions per feature (soundness.explain): one preprocessing pass for both."""
        h = self._preprocess(x)
        if explain and self._explainer is not None:
            scores, contributions = self._explainer.explain(h)
            return _probabilities(scores), contributions
        return _probabilities(self._scores(h)), None

    def explain(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """The baseline log-odds and each row's contributions per feature:
        baseline + a row's contributions = its `scores` value."""
        explainer = self._explaining()
        return explainer.baseline, explainer.explain(self._preprocess(x))[1]

    @property
    def baseline(self) -> float:
        return self._explaining().baseline

    def _explaining(self) -> Explainer:
        """The explainer, for a model that can explain (`explains`); a model saved without
        background rows cannot, and asking it is a caller's bug, said as such."""
        if self._explainer is None:
            raise ValueError(f"the model has no {BACKGROUND!r} tensor to explain from")
        return self._explainer

    @property
    def name(self) -> str:
        return self.manifest["model"]["name"]

    @property
    def version(self) -> str:
        return self.manifest["model"]["version"]

    def _preprocess(self, x: np.ndarray) -> np.ndarray:
        h = np.asarray(x, dtype=np.float64)  # no step writes into its input: no copy
        for step in self._steps:
            h = step(h)
        return h

    def scores(self, x: np.ndarray) -> np.ndarray:
        """Calibrated log-odds of "unsound", one per row of feature values."""
        return self._scores(self._preprocess(x))

    def _scores(self, h: np.ndarray) -> np.ndarray:
        # Fixed-shape blocks: a row's score is the same in any batch (soundness.blocks).
        return unstacked(
            forward(self._layers, self._slope, self._score_weight, self._score_bias, stacked(h))[1], len(h)
        )

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        return _probabilities(self.scores(x))

    def labels(self, probabilities: np.ndarray) -> np.ndarray:
        return (probabilities >= self.threshold).astype(int)


def _probabilities(scores: np.ndarray) -> np.ndarray:
    # exp(709) is near the largest float: a score below -709 gives ~1e-308, not exp's overflow
    # (and the warning np.errstate would have to silence, a context manager on every request).
    return 1.0 / (1.0 + np.exp(np.minimum(-scores, EXP_LIMIT)))
