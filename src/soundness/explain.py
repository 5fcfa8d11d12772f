"""Why a company got its score: each input's share of the log-odds, exactly additive.

DeepSHAP (DeepLIFT's rescale rule averaged over a background sample of the training
population; Lundberg and Lee 2017): for one background row r, the score's change
f(x) - f(r) is split over the encoded inputs by carrying multipliers back through the
network: a linear layer passes its weights, a LeakyReLU the ratio of its output change
to its input change. The parts sum to f(x) - f(r) exactly, whatever the weights, so their
weighted mean over the background sums to f(x) - the weighted mean of f(r), the baseline:
baseline + sum(contributions) = score. Weights let a few rows stand for a population
(training.background: k-means medoids, each weighted by its cluster's share).
The encoded columns that come from one input (a ratio's value and its missing indicator)
are added up, so each input gets one number. The network is the predictor's compiled
one: (weight, bias) layers each followed by LeakyReLU, then one vector to the log-odds.
"""

from __future__ import annotations

import numpy as np

from .blocks import BLOCK, stacked, unstacked

Layer = tuple[np.ndarray, np.ndarray]  # weight (in, out), bias (out,)


def _leaky(z: np.ndarray, slope: float) -> np.ndarray:
    return np.maximum(z, z * slope)  # LeakyReLU, slope below 1; NaN stays NaN


def forward(
    layers: list[Layer], slope: float, score_weight: np.ndarray, score_bias: float, x: np.ndarray
) -> tuple[list[np.ndarray], np.ndarray]:
    """The compiled network on rows x: each layer's pre-activations, and the calibrated log-odds.
    The predictor runs it too, so a score has the same bits with or without its explanation."""
    pre = []
    for weight, bias in layers:
        pre.append(x @ weight + bias)
        x = _leaky(pre[-1], slope)
    return pre, x @ score_weight + score_bias


class Explainer:
    def __init__(
        self,
        layers: list[Layer],
        slope: float,
        score_weight: np.ndarray,
        score_bias: float,
        background: np.ndarray,
        groups: np.ndarray,
        weights: np.ndarray | None = None,
    ):
        """`background`: encoded rows (what the first layer receives); `groups[j]`: the input
        encoded column j comes from; `weights`: each background row's share of the mean (summing
        to 1), equal shares by default."""
        self.layers, self.slope = layers, slope
        self.score_weight, self.score_bias = score_weight, score_bias
        self.background = background
        self.weights = np.full(len(background), 1 / len(background)) if weights is None else weights
        self._background_pre, background_scores = self._forward(background)
        self._background_post = [_leaky(z, slope) for z in self._background_pre]  # the same for every row
        self._transposed = [np.ascontiguousarray(weight.T) for weight, _ in layers]
        self.baseline = float(background_scores @ self.weights)
        self._onehot = np.eye(int(np.max(groups)) + 1)[np.asarray(groups)]  # (columns, inputs)

    def _forward(self, x: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
        return forward(self.layers, self.slope, self.score_weight, self.score_bias, x)

    def scores(self, x: np.ndarray) -> np.ndarray:
        return self._forward(x)[1]

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """(rows, inputs): each input's share of its row's score above the baseline."""
        return self.explain(x)[1]

    def explain(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each row's score and its contributions, from one forward pass."""
        pre, scores = self._forward(stacked(x))  # the predictor's blocks: the same scores to the last bit
        pre = [unstacked(z, len(x)) for z in pre]
        out = np.empty((len(x), self._onehot.shape[1]))
        # A few rows at a time, so the (rows, background, width) temporaries stay in the CPU's
        # cache. Padding is not explained: a row's multipliers are (background, width) products,
        # a shape that does not change with the number of rows.
        for start in range(0, len(x), BLOCK):
            rows = slice(start, start + BLOCK)
            out[rows] = self._block_contributions(x[rows], [z[rows] for z in pre])
        return unstacked(scores, len(x)), out

    def _block_contributions(self, x: np.ndarray, pre: list[np.ndarray]) -> np.ndarray:
        multiplier = self.score_weight  # (rows, background, width) once multiplied by a rescale
        for k in range(len(self.layers) - 1, -1, -1):
            zx = pre[k][:, None, :]
            delta = zx - self._background_pre[k]
            # Where x and r coincide there is no change to rescale: the slope where both sit.
            rescale = np.empty_like(delta)
            rescale[...] = np.where(zx > 0, 1.0, self.slope)
            np.divide(_leaky(zx, self.slope) - self._background_post[k], delta, out=rescale, where=delta != 0)
            rescale *= multiplier  # in place: one temporary fewer per layer
            multiplier = rescale @ self._transposed[k]
        if multiplier.ndim == 1:  # no hidden layer: the same weights for every row and background row
            multiplier = np.broadcast_to(multiplier, (len(x), *self.background.shape))
        shares = np.einsum("bkj,bkj,k->bj", multiplier, x[:, None, :] - self.background, self.weights)
        return shares @ self._onehot
