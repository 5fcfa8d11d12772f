"""Why a company got its score: each ratio's share of the log-odds, exactly additive.

DeepSHAP (DeepLIFT's rescale rule averaged over a background sample of the training
population; Lundberg and Lee 2017): for one background row r the network's change
f(x) - f(r) is split over the inputs by carrying multipliers back through the layers
(a linear layer's weights; for LeakyReLU, the ratio of its output change to its input
change). The parts sum to f(x) - f(r) exactly, whatever the network, so the average over
the background sums to f(x) - mean f(r): baseline + sum(contributions) = score. The
encoded columns of one ratio (its value and its missing indicator) are summed, so each
ratio gets one number. All numpy: the network as folded (W, b) layers, each but the last
followed by LeakyReLU (slope s) or by nothing (slope 1).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Layer = tuple[np.ndarray, np.ndarray, float]  # weight (in, out), bias, slope of the activation after


def forward(layers: list[Layer], x: np.ndarray) -> list[np.ndarray]:
    """Every layer's pre-activation, for rows x (the last is the output)."""
    pre = []
    for weight, bias, slope in layers:
        z = x @ weight + bias
        pre.append(z)
        x = np.where(z > 0, z, z * slope)
    return pre


@dataclass
class Explainer:
    layers: list[Layer]
    output: np.ndarray  # (out,) weights turning the last layer into the explained score
    offset: float  # added to the score (Platt's b)
    background: np.ndarray  # encoded background rows (B, D)
    groups: np.ndarray  # (D,) which feature each encoded column belongs to

    def __post_init__(self) -> None:
        self._background_pre = forward(self.layers, self.background)
        scores = self._background_pre[-1] @ self.output
        self.baseline = float(scores.mean() + self.offset)
        self._onehot = np.eye(int(self.groups.max()) + 1)[self.groups]  # (D, features)

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """(rows, features) shares of each row's score above the baseline."""
        pre_x = forward(self.layers, x)
        out = np.empty((len(x), self._onehot.shape[1]))
        for i in range(len(x)):
            multiplier = np.broadcast_to(self.output, (len(self.background), len(self.output)))
            for k in range(len(self.layers) - 1, -1, -1):
                weight, _, _ = self.layers[k]
                if k < len(self.layers) - 1:  # through the activation after layer k
                    slope = self.layers[k][2]
                    zx, zr = pre_x[k][i], self._background_pre[k]
                    fx, fr = np.where(zx > 0, zx, zx * slope), np.where(zr > 0, zr, zr * slope)
                    delta = zx - zr
                    same = np.abs(delta) < 1e-12
                    derivative = np.where(zx > 0, 1.0, slope)
                    rescale = np.where(same, derivative, (fx - fr) / np.where(same, 1.0, delta))
                    multiplier = multiplier * rescale
                multiplier = multiplier @ weight.T
            per_column = (multiplier * (x[i] - self.background)).mean(axis=0)
            out[i] = per_column @ self._onehot
        return out


def fold_network(state: dict[str, np.ndarray], negative_slope: float, eps: float = 1e-5) -> list[Layer]:
    """A NeuralNet state_dict (as numpy arrays) as folded layers: each BatchNorm merged into the
    Linear before it. The first block has no activation (slope 1), the hidden blocks LeakyReLU."""
    def block(linear: str, norm: str | None, slope: float) -> Layer:
        weight, bias = state[f"{linear}.weight"].astype(np.float64), state[f"{linear}.bias"].astype(np.float64)
        if norm is not None:
            scale = state[f"{norm}.weight"] / np.sqrt(state[f"{norm}.running_var"] + eps)
            weight = weight * scale[:, None]
            bias = (bias - state[f"{norm}.running_mean"]) * scale + state[f"{norm}.bias"]
        return weight.T.copy(), bias, slope

    layers = [block("input_layer", "batchnorm", 1.0)]
    i = 1
    while f"hidden_layer{i}.weight" in state:
        layers.append(block(f"hidden_layer{i}", f"batchnorm{i}", negative_slope))
        i += 1
    layers.append(block("output_layer", None, 1.0))
    return _merge_linear(layers)


def _merge_linear(layers: list[Layer]) -> list[Layer]:
    """Two layers with no activation between them are one: (x W1 + b1) W2 + b2."""
    merged = [layers[0]]
    for weight, bias, slope in layers[1:]:
        w1, b1, s1 = merged[-1]
        if s1 == 1.0:
            merged[-1] = (w1 @ weight, b1 @ weight + bias, slope)
        else:
            merged.append((weight, bias, slope))
    return merged
