"""Missing-aware input encoding in numpy: two preprocessing step kinds training fits and
the server applies, each a step dict (settings) plus named arrays, built into a transform.

- `interpolate`: each column through its own piecewise-linear map (arrays `knots` and
  `values`, one row per column). Fitted as a quantile-normal map: knots at the training
  quantiles, values the standard normal's quantiles at the same levels, so the scaling is
  rank-based and needs no special functions when serving. Beyond the outer knots the outer
  values hold: extremes are clipped by construction. NaN stays NaN.
- `missing_indicator`: NaN becomes `fill` (0: the median after the quantile-normal map)
  and every column gets a 0/1 companion saying it was missing, so the network tells
  "unknown" from "typical". Every feature has one, even one never missing in training:
  the seed's five-ratio requests leave all the others unknown.
"""
from __future__ import annotations

from statistics import NormalDist
from typing import Any, Callable

import numpy as np

Transform = Callable[[np.ndarray], np.ndarray]
INTERPOLATE = "interpolate"
MISSING_INDICATOR = "missing_indicator"


def fit_quantile_normal(x: np.ndarray, knots: int = 101) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """An `interpolate` step mapping each column's defined training values to normal scores."""
    levels = np.linspace(0.0, 1.0, knots)
    # The outer levels map to the normal quantiles of 1/(2n) and 1 - 1/(2n), not to +-infinity.
    normal = np.array([NormalDist().inv_cdf(float(p)) for p in np.clip(levels, 0.5 / knots, 1 - 0.5 / knots)])
    all_knots, all_values = np.zeros((x.shape[1], knots)), np.zeros((x.shape[1], knots))
    for j, column in enumerate(x.T):
        defined = column[np.isfinite(column)]
        if not len(defined):
            continue
        # A mass of equal values (many zeros, say) gives repeated quantiles: one knot with
        # their mean score, so the map is a function; padded by repeating the last knot.
        values, group = np.unique(np.quantile(defined, levels), return_inverse=True)
        scores = np.bincount(group, normal) / np.bincount(group)
        all_knots[j] = np.pad(values, (0, knots - len(values)), mode="edge")
        all_values[j] = np.pad(scores, (0, knots - len(scores)), mode="edge")
    return {"kind": INTERPOLATE, "fitted": "quantile_normal"}, {"knots": all_knots, "values": all_values}


def interpolate(step: dict[str, Any], arrays: dict[str, np.ndarray]) -> Transform:
    knots, values = arrays["knots"], arrays["values"]
    if np.any(np.diff(knots, axis=1) < 0):
        raise ValueError("needs non-decreasing knots in every row")

    def transform(x: np.ndarray) -> np.ndarray:
        out = np.empty(x.shape, dtype=np.float64)
        for j in range(x.shape[1]):
            out[:, j] = np.interp(x[:, j], knots[j], values[j])
        return out

    return transform


def missing_step(fill: float = 0.0) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    return {"kind": MISSING_INDICATOR, "fill": fill}, {}


def missing_indicator(step: dict[str, Any], arrays: dict[str, np.ndarray]) -> Transform:
    fill = float(step["fill"])

    def transform(x: np.ndarray) -> np.ndarray:
        missing = np.isnan(x)
        return np.concatenate([np.where(missing, fill, x), missing.astype(np.float64)], axis=1)

    return transform


BUILDERS: dict[str, Callable[[dict[str, Any], dict[str, np.ndarray]], Transform]] = {
    INTERPOLATE: interpolate, MISSING_INDICATOR: missing_indicator}
