"""Crop yield loss from weed competition (Cousens 1985), vectorised."""

from __future__ import annotations

import numpy as np


def cousens_yield_loss_pct(load_plants_m2: np.ndarray | float, i_pct: float, a_pct: float, *,
                           out: np.ndarray | None = None) -> np.ndarray:
    """Yield loss (%) for a competitive load ``N`` (plant equivalents per m²).

    ``YL = I * N / (1 + I * N / A)``: ``I`` is the % loss per plant/m² at low
    density, ``A`` the maximum % loss.

    Examples
    --------
    >>> np.round(cousens_yield_loss_pct(np.array([0.0, 5.0, 25.0]), 6.6027, 34.894), 1).tolist()
    [0.0, 17.0, 28.8]
    """
    load = np.asarray(load_plants_m2)
    if out is None:
        out = np.empty(load.shape, dtype=np.result_type(load.dtype, np.float32))
    if a_pct <= 0:
        out[...] = 0.0
        return out
    np.multiply(load, i_pct / a_pct, out=out)
    out += 1.0
    np.divide(load, out, out=out)
    out *= i_pct
    return out
