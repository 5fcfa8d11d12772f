"""From a matrix of feature values to probabilities and labels, for one loaded artifact.

Two paths that must agree (a test holds them to 1e-6): `plain` is the textbook one
(scikit-learn's transform, then the network); the default path does the scaler's
arithmetic in numpy, skipping scikit-learn's per-call validation, which costs more
than the network itself for one row.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .artifacts import Artifact


def _affine(scaler: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """The scaler as x * mul + add, for the scaler classes that are affine."""
    name = type(scaler).__name__
    if name == "MinMaxScaler" and not scaler.clip:
        return scaler.scale_, scaler.min_
    if name == "StandardScaler":
        ones = np.ones(scaler.n_features_in_)
        scale = scaler.scale_ if scaler.with_std else ones
        mean = scaler.mean_ if scaler.with_mean else 0 * ones
        return 1.0 / scale, -mean / scale
    return None


class Predictor:
    def __init__(self, artifact: Artifact):
        manifest = artifact.manifest
        self.manifest = manifest
        self.features: list[str] = list(manifest["features"])
        self.threshold = float(manifest["decision"]["threshold"])
        clip = manifest.get("preprocessing", {}).get("clip")
        self._clip = (np.asarray(clip["lower"], float), np.asarray(clip["upper"], float)) if clip else None
        calibration = manifest.get("calibration", {"method": "none"})
        self._platt = (float(calibration.get("a", 1.0)), float(calibration.get("b", 0.0)))
        self._scaler = artifact.scaler
        self._network = artifact.network
        affine = _affine(artifact.scaler)
        self._affine = tuple(np.asarray(a, np.float64) for a in affine) if affine else None

    @property
    def name(self) -> str:
        return self.manifest["model"]["name"]

    @property
    def version(self) -> str:
        return self.manifest["model"]["version"]

    def _clipped(self, x: np.ndarray) -> np.ndarray:
        return np.clip(x, *self._clip) if self._clip else x

    def _probability(self, scaled: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            logits = self._network(torch.from_numpy(np.ascontiguousarray(scaled, np.float32)))
        margin = (logits[:, 1] - logits[:, 0]).double().numpy()
        a, b = self._platt  # a=1, b=0 is the network's own softmax
        return 1.0 / (1.0 + np.exp(-(a * margin + b)))

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        x = self._clipped(np.asarray(x, np.float64))
        scaled = x * self._affine[0] + self._affine[1] if self._affine else self._scaler.transform(x)
        return self._probability(scaled)

    def probabilities_plain(self, x: np.ndarray) -> np.ndarray:
        return self._probability(self._scaler.transform(self._clipped(np.asarray(x, np.float64))))

    def logits(self, x: np.ndarray) -> np.ndarray:
        scaled = self._scaler.transform(self._clipped(np.asarray(x, np.float64)))
        with torch.inference_mode():
            return self._network(torch.from_numpy(np.asarray(scaled, np.float32))).numpy()

    def labels(self, probabilities: np.ndarray) -> np.ndarray:
        return (probabilities >= self.threshold).astype(int)
