"""The legacy service's `NeuralNet` in torch, with its depth and widths taken from the manifest: for
training, importing and checking; the served model runs in numpy (soundness.predictor).

Parameter names are the legacy service's (`input_layer`, `batchnorm`, `hidden_layerN`,
`batchnormN`, `output_layer`), so a `state_dict` the legacy service saved loads unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise
from typing import Any

import torch
from torch import nn


class NeuralNet(nn.Module):
    """Linear+BatchNorm blocks; every block after the first adds LeakyReLU and Dropout."""

    def __init__(
        self,
        input_size: int,
        hidden: list[int],
        num_classes: int = 2,
        negative_slope: float = 0.01,
        dropout: float = 0.0,
    ):
        super().__init__()
        if not hidden:
            raise ValueError("a NeuralNet needs at least one hidden width")
        self.input_layer = nn.Linear(input_size, hidden[0])
        self.batchnorm = nn.BatchNorm1d(hidden[0])
        for i, (width_in, width_out) in enumerate(pairwise(hidden), start=1):
            setattr(self, f"hidden_layer{i}", nn.Linear(width_in, width_out))
            setattr(self, f"batchnorm{i}", nn.BatchNorm1d(width_out))
        self.hidden_blocks = len(hidden) - 1  # blocks after the first, each hidden_layerN + batchnormN
        self.output_layer = nn.Linear(hidden[-1], num_classes)
        self.activation = nn.LeakyReLU(negative_slope)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.batchnorm(self.input_layer(x))
        for i in range(1, self.hidden_blocks + 1):
            block = getattr(self, f"batchnorm{i}")(getattr(self, f"hidden_layer{i}")(x))
            x = self.dropout(self.activation(block))
        return self.output_layer(x)


def build(spec: Mapping[str, Any]) -> NeuralNet:
    """A network from the manifest's `network` section."""
    return NeuralNet(
        input_size=int(spec["input_size"]),
        hidden=[int(w) for w in spec["hidden"]],
        num_classes=int(spec["num_classes"]),
        negative_slope=float(spec.get("negative_slope", 0.01)),
        dropout=float(spec.get("dropout", 0.0)),
    )


def spec_from_state_dict(state: Mapping[str, torch.Tensor]) -> dict[str, Any]:
    """Infer the network's shape from a legacy-style `state_dict`; ValueError if it is not one."""
    try:
        widths = [int(state["input_layer.weight"].shape[0])]
        input_size = int(state["input_layer.weight"].shape[1])
        i = 1
        while f"hidden_layer{i}.weight" in state:
            widths.append(int(state[f"hidden_layer{i}.weight"].shape[0]))
            i += 1
        num_classes = int(state["output_layer.weight"].shape[0])
    except (KeyError, AttributeError, IndexError) as exc:
        raise ValueError(
            "not a NeuralNet state_dict: expected input_layer, hidden_layerN and "
            f"output_layer weights ({exc!r} missing)"
        ) from None
    return {
        "architecture": "NeuralNet",
        "input_size": input_size,
        "hidden": widths,
        "num_classes": num_classes,
        "negative_slope": 0.01,
        "dropout": 0.0,
    }


def network_state(tensors: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """The network's state_dict from a format-2 artifact's tensors (numpy or torch), leaving out
    the preprocessing arrays and the explanation background stored beside it:
    `NeuralNet(...).load_state_dict(network_state(safetensors.torch.load_file(path)))`."""
    return {
        name: torch.as_tensor(value)
        for name, value in tensors.items()
        if not name.startswith(("preprocessing.", "explanation."))
    }
