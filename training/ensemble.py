"""Several trained networks as one `NeuralNet` whose logits are the mean of theirs.

The artifact holds one network. Networks of the same shape placed side by side
(first layers stacked, hidden layers block-diagonal, output layer averaging) are one
wider `NeuralNet` of the same architecture: BatchNorm, LeakyReLU and Dropout act per
unit, so no member sees another's units, and the output is exactly the average.
"""

from __future__ import annotations

import torch

from .network import NeuralNet


def average_networks(networks: list[NeuralNet], negative_slope: float, dropout: float) -> NeuralNet:
    """One NeuralNet computing the mean of the members' logits (members must share a shape)."""
    first = networks[0]
    hidden = [first.input_layer.out_features]
    hidden += [getattr(first, f"hidden_layer{i}").out_features for i in range(1, first.hidden_blocks + 1)]
    merged = NeuralNet(
        first.input_layer.in_features,
        [w * len(networks) for w in hidden],
        first.output_layer.out_features,
        negative_slope,
        dropout,
    )
    states = [n.state_dict() for n in networks]
    state = {}
    for name in merged.state_dict():
        parts = [s[name] for s in states]
        if name.startswith("output_layer."):
            # logits = sum_k W_k h_k / K + mean_k b_k
            averaged = torch.cat(parts, dim=1) / len(parts) if name.endswith("weight") else torch.stack(parts).mean(0)
            state[name] = averaged
        elif name.startswith("hidden_layer") and name.endswith("weight"):
            state[name] = torch.block_diag(*parts)
        elif name.endswith("num_batches_tracked"):
            state[name] = parts[0]  # a counter; eval mode does not read it
        else:  # stacked units: input layer, BatchNorm parameters and statistics, hidden biases
            state[name] = torch.cat(parts, dim=0)
    merged.load_state_dict(state, strict=True)
    return merged.eval()
