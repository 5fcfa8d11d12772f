"""Rows in blocks of one fixed shape, so that a row's arithmetic never depends on its neighbours.

BLAS picks its kernel by a matrix's shape (for one row a matrix-vector product, for more a
matrix-matrix one), and its kernels add in different orders: the same company scored alone and
in a batch differed in the 16th significant digit. Every pass through the network takes BLOCK
rows, the last block padded with zeros, so a row's result is the same whatever else is in its
request and wherever it stands there.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

# Small: one company pads 7 rows, and an explanation's (rows, background, width) temporaries stay
# in the CPU's cache. The network alone then takes 11-13 us for one row (7 us unpadded) and 1.3 ms
# for 1000 (0.4 ms in unpadded blocks of 64); 64-row blocks would cost one row 28 us.
BLOCK = 8


def blocks(x: np.ndarray) -> Iterator[tuple[slice, np.ndarray]]:
    """(where in x, a block of exactly BLOCK rows) over x's rows; only the first rows of the last
    block are x's (as many as the slice covers), the rest zeros."""
    for start in range(0, len(x), BLOCK):
        block = x[start : start + BLOCK]
        if len(block) < BLOCK:
            block = np.concatenate([block, np.zeros((BLOCK - len(block), *x.shape[1:]), x.dtype)])
        yield slice(start, min(start + BLOCK, len(x))), block
