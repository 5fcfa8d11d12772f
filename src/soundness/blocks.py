"""Rows in blocks of one fixed shape, so that a row's arithmetic never depends on its neighbours.

BLAS picks its kernel by a matrix's shape (for one row a matrix-vector product, for more a
matrix-matrix one), and its kernels add in different orders: the same company scored alone and
in a batch differed in the 16th significant digit. The network takes rows stacked as
(blocks, BLOCK, width), the last block padded with zeros: numpy's matmul runs a stack one
(BLOCK, width) matrix at a time, the same BLAS call for every block, so a row's result is the
same whatever else is in its request and wherever it stands there, and a batch costs one call
per layer, not one per block.
"""

from __future__ import annotations

import numpy as np

# Small: one company pads 7 rows. The network alone then takes 11-13 us for one row (7 us
# unpadded) and 0.9 ms for 1000 (0.4 ms in unpadded blocks of 64); 64-row blocks would cost one
# row 28 us.
BLOCK = 8


def stacked(x: np.ndarray) -> np.ndarray:
    """x's rows as (blocks, BLOCK, columns): the last block's rows beyond x's are zeros."""
    count = -(-len(x) // BLOCK)
    if count * BLOCK == len(x):
        return x.reshape(count, BLOCK, *x.shape[1:])
    padded = np.zeros((count * BLOCK, *x.shape[1:]), x.dtype)
    padded[: len(x)] = x
    return padded.reshape(count, BLOCK, *x.shape[1:])


def unstacked(y: np.ndarray, rows: int) -> np.ndarray:
    """The first `rows` rows of a stacked result (the padding's rows dropped)."""
    return y.reshape(-1, *y.shape[2:])[:rows]
