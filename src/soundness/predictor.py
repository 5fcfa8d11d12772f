"""From a matrix of feature values to probabilities and labels, for one loaded artifact.

Two paths that must agree (a test holds them to 1e-6): `plain` is the textbook one
(scikit-learn's transform, then the network module); the default path does the same
arithmetic without the overheads that dominate a one-row request. scikit-learn's
per-call validation and torch's module machinery (hooks, attribute lookups) each cost
more than the arithmetic, so the default path does the scaler's arithmetic in numpy, in
scikit-learn's own order, and runs the network as a flat list of the torch kernels its
modules call: the same kernels on the same tensors, so the same logits.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch
import torch.fx
import torch.nn.functional as F
from torch import nn

from .artifacts import Artifact

Step = tuple[Callable[..., torch.Tensor], tuple]


def _numpy_transform(scaler: Any) -> Callable[[np.ndarray], np.ndarray] | None:
    """The scaler's transform as numpy arithmetic in scikit-learn's order; None for other scalers."""
    name = type(scaler).__name__
    if name == "MinMaxScaler":
        scale, offset = scaler.scale_, scaler.min_
        if scaler.clip:
            low, high = scaler.feature_range
            return lambda x: np.clip(x * scale + offset, low, high)
        return lambda x: x * scale + offset
    if name == "StandardScaler":
        mean = scaler.mean_ if scaler.with_mean else 0.0
        spread = scaler.scale_ if scaler.with_std else 1.0
        return lambda x: (x - mean) / spread
    if name == "RobustScaler":
        center = scaler.center_ if scaler.with_centering else 0.0
        spread = scaler.scale_ if scaler.with_scaling else 1.0
        return lambda x: (x - center) / spread
    if name == "MaxAbsScaler":
        return lambda x: x / scaler.scale_
    if name == "QuantileTransformer":
        return _quantile_transform(scaler)
    return None


def _quantile_transform(scaler: Any) -> Callable[[np.ndarray], np.ndarray]:
    """QuantileTransformer.transform for dense rows: its _transform_col's arithmetic, all columns at once.

    scikit-learn's own costs about 1 ms a row with normal output, most of it in
    scipy.stats.norm.ppf's argument handling around scipy.special.ndtri.
    """
    from scipy.special import ndtri
    from sklearn.preprocessing._data import BOUNDS_THRESHOLD

    normal = scaler.output_distribution == "normal"
    refs = scaler.references_
    per_column = [(q, -q[::-1], -refs[::-1]) for q in scaler.quantiles_.T]
    first, last = scaler.quantiles_[0], scaler.quantiles_[-1]
    margin = BOUNDS_THRESHOLD - np.spacing(1)
    clip_min, clip_max = ndtri(margin), ndtri(1 - margin)

    def transform(x: np.ndarray) -> np.ndarray:
        if normal:
            below, above = x - BOUNDS_THRESHOLD < first, x + BOUNDS_THRESHOLD > last
        else:
            below, above = x == first, x == last
        # Both directions' interpolations, averaged, as scikit-learn does for repeated quantiles
        # (NaN stays NaN through np.interp, as scikit-learn leaves it).
        columns, negated = x.T, -x.T
        out = np.array([np.interp(columns[i], q, refs) - np.interp(negated[i], reversed_q, reversed_refs)
                        for i, (q, reversed_q, reversed_refs) in enumerate(per_column)]).T
        out *= 0.5
        out[above], out[below] = 1, 0
        return np.clip(ndtri(out), clip_min, clip_max) if normal else out

    return transform


def _kernel(module: nn.Module) -> Step | None:
    """What `module(x)` computes in eval mode, as (kernel, arguments after x); None if unknown."""
    if isinstance(module, nn.Linear):
        return F.linear, (module.weight, module.bias)
    if isinstance(module, nn.BatchNorm1d) and not module.training and module.running_mean is not None:
        return torch.batch_norm, (module.weight, module.bias, module.running_mean, module.running_var,
                                  False, 0.0, module.eps, torch.backends.cudnn.enabled)
    if isinstance(module, nn.LeakyReLU):
        return F.leaky_relu, (module.negative_slope,)
    return None


def _kernel_steps(network: nn.Module) -> list[Step] | None:
    """The network's forward as kernels applied in turn, or None unless it is a chain of known modules."""
    try:
        graph = torch.fx.symbolic_trace(network).graph
    except torch.fx.proxy.TraceError:
        return None
    steps: list[Step] = []
    previous = None  # the node whose output the next node must take as its only input
    for node in graph.nodes:
        if node.op == "placeholder" and previous is None:
            previous = node
            continue
        if node.op == "output":
            return steps if node.args == (previous,) else None
        if node.op != "call_module" or node.args != (previous,) or node.kwargs:
            return None
        module = network.get_submodule(node.target)
        if not (isinstance(module, nn.Dropout) and not module.training):  # eval dropout passes x on
            step = _kernel(module)
            if step is None:
                return None
            steps.append(step)
        previous = node
    return None


def _run_steps(steps: list[Step], x: torch.Tensor) -> torch.Tensor:
    for kernel, arguments in steps:
        x = kernel(x, *arguments)
    return x


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
        self._transform = _numpy_transform(artifact.scaler) or artifact.scaler.transform
        steps = _kernel_steps(artifact.network)
        self._forward = (lambda x: _run_steps(steps, x)) if steps else artifact.network

    @property
    def name(self) -> str:
        return self.manifest["model"]["name"]

    @property
    def version(self) -> str:
        return self.manifest["model"]["version"]

    def _clipped(self, x: np.ndarray) -> np.ndarray:
        return np.clip(x, *self._clip) if self._clip else x

    @staticmethod
    def _logits(scaled: np.ndarray, forward: Callable[[torch.Tensor], torch.Tensor]) -> np.ndarray:
        with torch.inference_mode():
            return forward(torch.from_numpy(np.ascontiguousarray(scaled, np.float32))).numpy()

    def _probability(self, logits: np.ndarray) -> np.ndarray:
        margin = (logits[:, 1] - logits[:, 0]).astype(np.float64)  # float32 difference, as torch's
        a, b = self._platt  # a=1, b=0 is the network's own softmax
        with np.errstate(over="ignore"):  # exp overflowing to inf gives the right limit, 0
            return 1.0 / (1.0 + np.exp(-(a * margin + b)))

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        scaled = self._transform(self._clipped(np.asarray(x, np.float64)))
        return self._probability(self._logits(scaled, self._forward))

    def probabilities_plain(self, x: np.ndarray) -> np.ndarray:
        return self._probability(self.logits(x))

    def logits(self, x: np.ndarray) -> np.ndarray:
        """The network's two logits on the plain path (scikit-learn transform, module forward)."""
        return self._logits(self._scaler.transform(self._clipped(np.asarray(x, np.float64))), self._network)

    def labels(self, probabilities: np.ndarray) -> np.ndarray:
        return (probabilities >= self.threshold).astype(int)
