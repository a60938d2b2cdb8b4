"""A tank mix as one dose scale: efficacy by concentration addition.

Every product ``i`` of a mix goes into the tank at a reference rate ``r_i``
(canonical unit, L/ha or kg/ha), so a cell sprayed at *dose scale* ``lam``
receives ``lam * r_i`` of each product. By concentration addition (the
additive dose model, DOMAIN.md section 2) the mix gives control ``p`` of a
species at the scale where the products' toxic units add up to one::

    sum_i lam * r_i / ED_p,i = 1   =>   lam_p = 1 / sum_i (r_i / ED_p,i)

which at ``p = 0.5`` is ``1 / ED50(mix) = sum_i p_i / ED50_i``. A product
with no curve for a species counts as inactive on it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from app.dosing.errors import DosingError
from app.dosing.label import ProductLabel
from app.dosing.response import DoseResponse

_LUT_STEPS = 16384
# Control levels for tabulating a mix: logit-spaced so both tails are fine.
_P_GRID = 1.0 / (1.0 + np.exp(-np.linspace(-18.0, 18.0, 8193)))


def dose_for_control(curve: DoseResponse, control: np.ndarray, *,
                     out: np.ndarray | None = None, work: np.ndarray | None = None) -> np.ndarray:
    """Dose (the curve's canonical unit) giving ``control`` (0..1), vectorised.

    Control is relative to untreated (``1 - f(x)/d``); a level the curve never
    reaches (its lower limit ``c`` leaves too many alive) gives ``inf``.
    ``out`` and ``work`` are optional buffers shaped like ``control``.

    Examples
    --------
    >>> c = DoseResponse(model="LL.4", b=2.0, c=0.0, d=1.0, e=1.0)
    >>> np.round(dose_for_control(c, np.array([0.0, 0.5, 0.9, 1.0])), 6).tolist()
    [0.0, 1.0, 3.0, inf]
    """
    control = np.asarray(control)
    if out is None:
        out = np.empty(control.shape, dtype=np.result_type(control.dtype, np.float32))
    if work is None:
        work = np.empty_like(out)
    k = curve.d / (curve.d - curve.c) if curve.d > curve.c else np.inf
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        np.multiply(control, k, out=out)            # t = 1 - q, q the fraction of the span left
        np.minimum(out, 1.0, out=out)
        np.subtract(1.0, out, out=work)             # q
        if curve.model == "W1.4":
            np.log(work, out=out)
            np.negative(out, out=out)               # -log q
        else:
            np.divide(out, work, out=out)           # 1/q - 1
        np.power(out, 1.0 / curve.b, out=out)
        np.multiply(out, curve.e, out=out)
        if k == np.inf:
            out[...] = np.where(np.asarray(control) > 0, np.inf, 0.0)
    return out


class TankMix:
    """Products at fixed reference rates ``rates`` (canonical units) sprayed as one scale.

    ``lam_min``/``lam_max`` are the scales inside every product's label
    (``lam * r_i`` in ``[min_rate_i, min(max_rate_i, season_left_i)]``).

    Examples
    --------
    >>> from app.dosing.label import ProductLabel
    >>> a = ProductLabel("A", "L/ha", 0.5, 2.0,
    ...     efficacy={"SINAR": DoseResponse(model="LL.4", b=2.0, c=0.0, d=1.0, e=1.0)})
    >>> b = ProductLabel("B", "L/ha", 0.5, 2.0,
    ...     efficacy={"SINAR": DoseResponse(model="LL.4", b=2.0, c=0.0, d=1.0, e=2.0)})
    >>> mix = TankMix([a, b], [1.0, 1.0], season_left=[None, None])
    >>> round(float(mix.scale_for_control("SINAR", np.array([0.5]))[0]), 4)  # 1/(1/1 + 1/2)
    0.6667
    >>> mix.lam_min, mix.lam_max
    (0.5, 2.0)
    """

    def __init__(self, products: Sequence[ProductLabel], rates: Sequence[float],
                 *, season_left: Sequence[float | None]) -> None:
        self.products = list(products)
        self.rates = [float(r) for r in rates]
        if any(not r > 0 for r in self.rates):
            raise DosingError("reference rates of a mix must be positive")
        caps = [p.max_rate if left is None else min(p.max_rate, left)
                for p, left in zip(self.products, season_left, strict=True)]
        self.caps = caps
        self.lam_min = max(p.min_rate / r for p, r in zip(self.products, self.rates, strict=True))
        self.lam_max = min(c / r for c, r in zip(caps, self.rates, strict=True))
        self._luts: dict[str, tuple[np.ndarray, np.ndarray, float]] = {}

    def curves(self, species: str) -> list[tuple[float, DoseResponse]]:
        """(reference rate, curve) of every product in the mix with a curve for ``species``."""
        return [(r, p.efficacy[species]) for p, r in zip(self.products, self.rates, strict=True)
                if species in p.efficacy]

    def has_curve(self, species: str) -> bool:
        return bool(self.curves(species))

    def scale_for_control(self, species: str, control: np.ndarray, *, out: np.ndarray | None = None,
                          work: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
        """Dose scale giving ``control`` (0..1) of ``species``; ``inf`` if the mix cannot."""
        control = np.asarray(control)
        curves = self.curves(species)
        if not curves:
            raise DosingError(f"no dose-response curve for species {species!r} in any product of the mix")
        if out is None:
            out = np.empty(control.shape, dtype=np.result_type(control.dtype, np.float32))
        if work is None:
            work = (np.empty_like(out), np.empty_like(out))
        if len(curves) == 1:
            r, curve = curves[0]
            dose_for_control(curve, control, out=out, work=work[0])
            out *= 1.0 / r
            return out
        acc, ed = work[1], out
        acc[...] = 0.0
        with np.errstate(divide="ignore"):
            for r, curve in curves:
                dose_for_control(curve, control, out=ed, work=work[0])
                np.divide(r, ed, out=ed)   # toxic units per unit scale; 0 where unreachable
                acc += ed
            np.divide(1.0, acc, out=out)
        return out

    def _lut(self, species: str) -> tuple[np.ndarray, np.ndarray, float]:
        if species not in self._luts:
            lam_p = self.scale_for_control(species, _P_GRID)   # float64, non-decreasing in p
            ok = np.isfinite(lam_p)
            lam_p, p = np.concatenate([[0.0], lam_p[ok]]), np.concatenate([[0.0], _P_GRID[ok]])
            lam_p = np.maximum.accumulate(lam_p)
            hi = max(self.lam_max, 1e-12) * (1 + 1e-6)
            grid = np.linspace(0.0, hi, _LUT_STEPS + 1)
            surv = (1.0 - np.interp(grid, lam_p, p)).astype(np.float32)
            self._luts[species] = (surv, np.diff(surv, append=surv[-1:]), _LUT_STEPS / hi)
        return self._luts[species]

    def survival(self, species: str, lam: np.ndarray | float) -> np.ndarray:
        """Surviving fraction of ``species`` (vs untreated) at dose scale ``lam``.

        Exact for scalars; tabulated for arrays (16384 linear steps up to
        ``lam_max``, error below 1e-4 away from a dose of 0). A species no product
        has a curve for survives whole (1.0).
        """
        lam_arr = np.asarray(lam)
        curves = self.curves(species)
        if not curves:
            return np.ones(lam_arr.shape, dtype=np.float32)
        if lam_arr.ndim == 0:
            return self._survival_exact(species, lam_arr)
        surv, step, inv_dx = self._lut(species)
        x = np.multiply(lam_arr, inv_dx, dtype=np.float32)
        i = x.astype(np.int32)
        np.minimum(i, _LUT_STEPS, out=i)
        x -= i
        out = np.take(step, i)
        out *= x
        out += np.take(surv, i)
        return out

    def _survival_exact(self, species: str, lam: np.ndarray) -> np.ndarray:
        curves = self.curves(species)
        if len(curves) == 1:
            r, c = curves[0]
            return (c.survival(lam * r) / c.d).astype(np.float32)
        # Solve sum_i lam r_i / ED_p,i = 1 for p by bisection on the control level.
        lam64 = np.asarray(lam, dtype=np.float64)
        lo, hi = np.zeros(lam64.shape), np.ones(lam64.shape)
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            need = self.scale_for_control(species, mid)
            reached = need <= lam64
            lo, hi = np.where(reached, mid, lo), np.where(reached, hi, mid)
        return (1.0 - lo).astype(np.float32)
