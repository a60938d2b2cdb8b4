"""Fewer, larger zones for terminals with a file-size cap, never lowering a cell's rate.

Each k x k block of cells takes the highest rate any of its cells needs; the
raised rate spreads only over cells that may be sprayed (inside the field,
off its edge, outside every buffer). Cells that must stay unsprayed keep 0,
cells outside the field stay NaN. So the label maximum still holds (a block
maximum is one of the legal rates) and no buffer gains product.
"""

from __future__ import annotations

import numpy as np

FACTORS: tuple[int, ...] = (2, 3, 4, 6, 8, 12, 16)


def coarsen_up(rates: np.ndarray, sprayable: np.ndarray, k: int) -> np.ndarray:
    """Rates ``[n, rows, cols]`` raised to the block maximum on sprayable cells.

    >>> r = np.array([[[0, 2, 0], [0, 0, 0], [0, 0, 5]]], dtype=np.float32)
    >>> ok = np.ones((3, 3), bool); ok[0, 0] = False
    >>> coarsen_up(r, ok, 2)[0].tolist()
    [[0.0, 2.0, 0.0], [2.0, 2.0, 0.0], [0.0, 0.0, 5.0]]
    """
    n, rows, cols = rates.shape
    rb, cb = -(-rows // k), -(-cols // k)
    padded = np.zeros((n, rb * k, cb * k), dtype=np.float32)
    padded[:, :rows, :cols] = np.nan_to_num(rates, nan=0.0)
    block_max = padded.reshape(n, rb, k, cb, k).max(axis=(2, 4))
    spread = np.repeat(np.repeat(block_max, k, axis=1), k, axis=2)[:, :rows, :cols]
    out = rates.copy()
    np.maximum(out, np.where(sprayable, spread, 0.0).astype(np.float32), out=out, where=sprayable)
    return out
