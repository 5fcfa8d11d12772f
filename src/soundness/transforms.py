"""Preprocessing steps as numpy arithmetic: each kind's transform, built from its fitted arrays.

The arithmetic is scikit-learn's, in scikit-learn's order, so a step converted from a fitted
scaler gives that scaler's numbers (tests hold each kind to it). NaN goes through every step
as NaN, as it does in scikit-learn. What each kind holds is declared in artifacts.STEP_KINDS;
a new kind needs an entry there and a builder here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

Transform = Callable[[np.ndarray], np.ndarray]
Arrays = dict[str, np.ndarray]

# np.interp's compiled core: the public wrapper's argument checks cost twice the interpolation
# of a request's one value (0.7 us a call against 0.25 us), and a row makes a call per column.
_interp = getattr(np.lib._function_base_impl, "compiled_interp", np.interp)

# QuantileTransformer's margin: inputs this close to the first or last quantile map to its ends.
BOUNDS_THRESHOLD = 1e-7


def _clipped(x: np.ndarray, lower: Any, upper: Any) -> np.ndarray:
    """np.clip's result (NaN stays NaN) for lower <= upper, in two ufunc calls: np.clip's own
    argument handling costs more than the arithmetic on a request's few values."""
    return np.minimum(np.maximum(x, lower), upper)


def _bounded(step: dict[str, Any], transform: Transform) -> Transform:
    """The transform, then clipped to the step's "bounds" when it has them (scikit-learn's clip=True)."""
    if step.get("bounds") is None:
        return transform
    low, high = step["bounds"]
    return lambda x: _clipped(transform(x), low, high)


def _clip(step: dict[str, Any], arrays: Arrays) -> Transform:
    lower, upper = arrays["lower"], arrays["upper"]
    if np.any(lower > upper):
        raise ValueError("has a lower bound above its upper bound")
    return lambda x: _clipped(x, lower, upper)


def _minmax(step: dict[str, Any], arrays: Arrays) -> Transform:
    scale, offset = arrays["scale"], arrays["offset"]
    return _bounded(step, lambda x: x * scale + offset)


def _centered(step: dict[str, Any], arrays: Arrays) -> Transform:
    """StandardScaler and RobustScaler: subtract the centre, divide by the scale."""
    center, scale = arrays["center"], arrays["scale"]
    if np.any(scale == 0):
        raise ValueError("has a scale of 0")
    return lambda x: (x - center) / scale


def _maxabs(step: dict[str, Any], arrays: Arrays) -> Transform:
    scale = arrays["scale"]
    if np.any(scale == 0):
        raise ValueError("has a scale of 0")
    return _bounded(step, lambda x: x / scale)


def _quantile(step: dict[str, Any], arrays: Arrays) -> Transform:
    """QuantileTransformer.transform on dense rows: its _transform_col, all columns at once."""
    quantiles, references = arrays["quantiles"], arrays["references"]
    if (
        np.any(np.diff(quantiles, axis=0) < 0)
        or np.any(np.diff(references) <= 0)
        or references[0] < 0
        or references[-1] > 1
    ):
        raise ValueError("needs non-decreasing quantiles and increasing references within [0, 1]")
    normal = step["output"] == "normal"
    columns = [_interpolation(q, references) for q in quantiles.T]
    first, last = quantiles[0], quantiles[-1]
    margin = BOUNDS_THRESHOLD - np.spacing(1)
    lowest, highest = ndtri(np.array([margin, 1 - margin]))

    def transform(x: np.ndarray) -> np.ndarray:
        if normal:
            below, above = x - BOUNDS_THRESHOLD < first, x + BOUNDS_THRESHOLD > last
        else:
            below, above = x == first, x == last
        out = np.empty_like(x)
        for i, interpolate in enumerate(columns):
            out[:, i] = interpolate(x[:, i])
        out[above] = 1
        out[below] = 0
        return _clipped(ndtri(out), lowest, highest) if normal else out

    return transform


def _interpolation(q: np.ndarray, references: np.ndarray) -> Transform:
    """One column's interpolation from its quantiles to the references, as scikit-learn does it:
    the mean of the upward and the downward interpolation, which differ only where quantiles
    repeat. Repeats at the ends only matter at the ends themselves, which the transform sets to
    0 or 1 anyway, so a column without repeats inside goes one way (half the calls)."""
    q = np.ascontiguousarray(q)
    ends = (q == q[0]) | (q == q[-1])
    if not np.any(np.diff(q[~ends]) == 0) and np.sum(q == q[0]) + np.sum(q == q[-1]) == np.sum(ends):
        return lambda column: _interp(column, q, references)
    reversed_q, reversed_references = np.ascontiguousarray(-q[::-1]), np.ascontiguousarray(-references[::-1])
    return lambda column: 0.5 * (_interp(column, q, references) - _interp(-column, reversed_q, reversed_references))


def _interpolate(step: dict[str, Any], arrays: Arrays) -> Transform:
    """Each column through its own piecewise-linear map (a row of `knots` to a row of `values`);
    beyond the outer knots the outer values hold. Training fits it as a quantile-normal map:
    knots at the training quantiles, values the normal quantiles at the same levels."""
    knots, values = arrays["knots"], arrays["values"]
    if np.any(np.diff(knots, axis=1) < 0):
        raise ValueError("needs non-decreasing knots in every row")

    pairs = [(np.ascontiguousarray(k, np.float64), np.ascontiguousarray(v, np.float64)) for k, v in zip(knots, values)]

    def transform(x: np.ndarray) -> np.ndarray:
        # Column by column, stacked once: writing each into a preallocated array cost more.
        return np.array([_interp(column, k, v) for column, (k, v) in zip(x.T, pairs)]).T

    return transform


def _missing_indicator(step: dict[str, Any], arrays: Arrays) -> Transform:
    """NaN (an unknown input) becomes `fill`, and every column gets a 0/1 companion saying it was
    unknown, appended after all the columns: the network tells "unknown" from "typical"."""
    fill = float(step["fill"])

    def transform(x: np.ndarray) -> np.ndarray:
        missing = np.isnan(x)
        return np.concatenate([np.where(missing, fill, x), missing], axis=1)  # booleans join as 0.0 and 1.0

    return transform


BUILDERS: dict[str, Callable[[dict[str, Any], Arrays], Transform]] = {
    "clip": _clip,
    "minmax": _minmax,
    "standard": _centered,
    "robust": _centered,
    "maxabs": _maxabs,
    "quantile": _quantile,
    "interpolate": _interpolate,
    "missing_indicator": _missing_indicator,
}


def build(step: dict[str, Any], arrays: Arrays) -> Transform:
    """The step's transform; ValueError saying what is wrong when its arrays cannot be used."""
    return BUILDERS[step["kind"]](step, arrays)


# ---------------------------------------------------------------- the normal quantile function
# Cephes' ndtri (S. L. Moshier; the algorithm scipy.special.ndtri and torch.special.ndtri use):
# a rational approximation around the median, and two in z = sqrt(-2 log y) for the tails.
# A test holds it to scipy within a few units in the last place.

_SQRT_2PI = 2.50662827463100050242
_EXP_MINUS_2 = 0.13533528323661269189
_P0 = (
    -5.99633501014107895267e1,
    9.80010754185999661536e1,
    -5.66762857469070293439e1,
    1.39312609387279679503e1,
    -1.23916583867381258016e0,
)
_Q0 = (
    1.0,
    1.95448858338141759834e0,
    4.67627912898881538453e0,
    8.63602421390890590575e1,
    -2.25462687854119370527e2,
    2.00260212380060660359e2,
    -8.20372256168333339912e1,
    1.59056225126211695515e1,
    -1.18331621121330003142e0,
)
_P1 = (
    4.05544892305962419923e0,
    3.15251094599893866154e1,
    5.71628192246421288162e1,
    4.40805073893200834700e1,
    1.46849561928858024014e1,
    2.18663306850790267539e0,
    -1.40256079171354495875e-1,
    -3.50424626827848203418e-2,
    -8.57456785154685413611e-4,
)
_Q1 = (
    1.0,
    1.57799883256466749731e1,
    4.53907635128879210584e1,
    4.13172038254672030440e1,
    1.50425385692907503408e1,
    2.50464946208309415979e0,
    -1.42182922854787788574e-1,
    -3.80806407691578277194e-2,
    -9.33259480895457427372e-4,
)
_P2 = (
    3.23774891776946035970e0,
    6.91522889068984211695e0,
    3.93881025292474443415e0,
    1.33303460815807542389e0,
    2.01485389549179081538e-1,
    1.23716634817820021358e-2,
    3.01581553508235416007e-4,
    2.65806974686737550832e-6,
    6.23974539184983293730e-9,
)
_Q2 = (
    1.0,
    6.02427039364742014255e0,
    3.67983563856160859403e0,
    1.37702099489081330271e0,
    2.16236993594496635890e-1,
    1.34204006088543189037e-2,
    3.28014464682127739104e-4,
    2.89247864745380683936e-6,
    6.79019408009981274425e-9,
)


_SMALL = 16  # up to this many values (a request's few companies), the scalar path is faster


def _polynomial(x: Any, coefficients: tuple[float, ...]) -> Any:
    """Horner's rule, highest power first, on a float or an array."""
    result = coefficients[0]
    for c in coefficients[1:]:
        result = result * x + c
    return result


def _ndtri_one(p: float) -> float:
    if not 0 < p < 1:
        return -math.inf if p == 0 else math.inf if p == 1 else math.nan
    c = p - 0.5
    if abs(c) < 0.5 - _EXP_MINUS_2:
        c2 = c * c
        return (c + c * (c2 * _polynomial(c2, _P0) / _polynomial(c2, _Q0))) * _SQRT_2PI
    x = math.sqrt(-2 * math.log(1 - p if c > 0 else p))
    inverse = 1 / x
    p_, q_ = (_P1, _Q1) if x < 8 else (_P2, _Q2)
    tail = x - math.log(x) / x - inverse * _polynomial(inverse, p_) / _polynomial(inverse, q_)
    return tail if c > 0 else -tail


def ndtri(p: np.ndarray) -> np.ndarray:
    """The x at which the standard normal distribution's CDF is p; ±inf at 0 and 1, NaN outside."""
    p = np.asarray(p, dtype=np.float64)
    if p.size <= _SMALL:
        return np.array([_ndtri_one(v) for v in p.ravel().tolist()]).reshape(p.shape)
    out = np.full(p.shape, np.nan)
    out[p == 0], out[p == 1] = -np.inf, np.inf
    c = p - 0.5
    central = np.abs(c) < 0.5 - _EXP_MINUS_2
    c, c2 = c[central], c[central] ** 2
    out[central] = (c + c * (c2 * _polynomial(c2, _P0) / _polynomial(c2, _Q0))) * _SQRT_2PI
    tails = (p > 0) & (p < 1) & ~central
    if tails.any():
        above = p[tails] > 0.5
        x = np.sqrt(-2 * np.log(np.where(above, 1 - p[tails], p[tails])))
        inverse = 1 / x
        near = inverse * _polynomial(inverse, _P1) / _polynomial(inverse, _Q1)
        far = inverse * _polynomial(inverse, _P2) / _polynomial(inverse, _Q2)
        tail = x - np.log(x) / x - np.where(x < 8, near, far)
        out[tails] = np.where(above, tail, -tail)
    return out
