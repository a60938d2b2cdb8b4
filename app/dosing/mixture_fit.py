"""Binary-mixture dose-response fits: isobole models as drc's ``mixture()``.

Trials spray two herbicides A and B at fixed ratios (``fraction_a`` of A in
the dose) and dilutions. Each ratio gets an LL.3 curve
``f(x) = d / (1 + exp(b_i (log x - log e_i)))`` with its own slope ``b_i`` and a
common upper limit ``d``. The models differ in how the ED50s ``e_i`` relate
(Soerensen, Cedergreen, Skovgaard & Streibig 2007; drc ``mixture``):

- ``free``: one ``e_i`` per ratio (the reference model);
- ``CA`` (concentration addition / Loewe additivity):
  ``1 / e(p) = p / e_A + (1 - p) / e_B``;
- ``Hewlett``: ``e(p) = ((p / e_A)^(1/lam) + ((1 - p) / e_B)^(1/lam))^(-lam)``;
  ``lam = 1`` is CA, ``lam < 1`` synergy... ``lam > 1`` antagonism.

Untreated controls (dose 0) are common to all ratios (``f(0) = d``). An F test
of a model against ``free`` tests the isobole (drc's ``anova``); the
lack-of-fit test compares ``free`` with one mean per treatment (``modelFit``).
Estimates only: standard errors are not computed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, stats

from app.dosing.fit import FitError

MixtureModel = Literal["free", "CA", "Hewlett"]
MIXTURE_MODELS: tuple[str, ...] = ("free", "CA", "Hewlett")


@dataclass(frozen=True)
class MixtureFit:
    """A fitted mixture model: estimates by name, residual sum of squares and degrees of freedom.

    ``ratios`` are the fractions of A of the curves, in the order of ``b`` and ``e``.
    """

    model: str
    ratios: tuple[float, ...]
    b: tuple[float, ...]
    d: float
    e: tuple[float, ...]
    e_a: float | None
    e_b: float | None
    lam: float | None
    rss: float
    df: int

    @property
    def residual_se(self) -> float:
        return float(np.sqrt(self.rss / self.df))


@dataclass(frozen=True)
class FTest:
    """An F test of a reduced model against a fuller one (drc's ``anova``)."""

    f: float
    df_num: int
    df_den: int
    p_value: float


def _ed50(model: str, theta: NDArray[np.float64], ratios: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    if model == "free":
        return np.exp(theta[n + 1:2 * n + 1])
    e_a, e_b = np.exp(theta[n + 1]), np.exp(theta[n + 2])
    p = ratios
    if model == "CA":
        return 1.0 / (p / e_a + (1.0 - p) / e_b)
    lam = theta[n + 3]
    return np.asarray((np.power(p / e_a, 1.0 / lam) + np.power((1.0 - p) / e_b, 1.0 / lam)) ** (-lam))


def _predict(model: str, theta: NDArray[np.float64], x: NDArray[np.float64], curve: NDArray[np.intp],
             ratios: NDArray[np.float64]) -> NDArray[np.float64]:
    n = ratios.size
    b, d = theta[:n], theta[n]
    e = _ed50(model, theta, ratios, n)
    out = np.full(x.shape, d)
    treated = x > 0
    c = curve[treated]
    z = b[c] * (np.log(x[treated]) - np.log(e[c]))
    out[treated] = d / (1.0 + np.exp(np.clip(z, -700, 700)))
    return out


def fit_binary_mixture(dose: ArrayLike, response: ArrayLike, fraction_a: ArrayLike, *,
                       model: MixtureModel = "CA") -> MixtureFit:
    """Fit LL.3 curves per mixture ratio with the ``model`` isobole (see the module docstring).

    Parameters
    ----------
    dose, response
        Total dose of the mixture (one unit for both compounds) and response of
        each observation; doses 0 are the common untreated controls.
    fraction_a
        Fraction (0..1) of compound A in each observation's dose; ignored where dose is 0.
    model
        ``"free"``, ``"CA"`` or ``"Hewlett"``. ``CA`` and ``Hewlett`` need both pure
        compounds or at least two ratios.

    Examples
    --------
    Exact data from concentration addition with ``e_A = 10``, ``e_B = 40``:

    >>> p = np.repeat([0.0, 0.5, 1.0], 12)
    >>> x = np.tile(np.repeat([2.5, 5.0, 10.0, 20.0, 40.0, 80.0], 2), 3)
    >>> e = 1.0 / (p / 10.0 + (1.0 - p) / 40.0)
    >>> y = 2.0 / (1.0 + (x / e) ** 2.0)
    >>> fit = fit_binary_mixture(x, y, p, model="CA")
    >>> round(fit.e_a, 4), round(fit.e_b, 4), round(fit.e[1], 4)   # e at p = 0.5: 1 / (0.05 + 0.0125)
    (10.0, 40.0, 16.0)
    """
    if model not in MIXTURE_MODELS:
        raise FitError(f"unknown mixture model {model!r}; valid models: {', '.join(MIXTURE_MODELS)}")
    x = np.asarray(dose, dtype=np.float64)
    y = np.asarray(response, dtype=np.float64)
    p_obs = np.asarray(fraction_a, dtype=np.float64)
    if not x.shape == y.shape == p_obs.shape or x.ndim != 1:
        raise FitError("dose, response and fraction_a must be one-dimensional and of equal length")
    if not (np.isfinite(x).all() and np.isfinite(y).all()) or (x < 0).any():
        raise FitError("doses must be finite and non-negative, responses finite")
    treated = x > 0
    if not (np.isfinite(p_obs[treated]).all() and ((p_obs[treated] >= 0) & (p_obs[treated] <= 1)).all()):
        raise FitError("fraction_a must lie in [0, 1] for every treated observation")
    ratios, inverse = np.unique(p_obs[treated], return_inverse=True)
    if model != "free" and ratios.size < 2:
        raise FitError(f"the {model} isobole needs at least two mixture ratios")
    curve = np.zeros(x.size, dtype=np.intp)
    curve[treated] = inverse
    n = ratios.size

    # Starts: d from the controls, e per ratio where the curve crosses d / 2, b = 1.5.
    d0 = float(np.mean(y[~treated])) if (~treated).any() else float(y.max())
    e_free = np.empty(n)
    for i in range(n):
        xi, yi = x[treated][inverse == i], y[treated][inverse == i]
        below = xi[yi <= d0 / 2]
        e_free[i] = float(below.min()) if below.size else float(xi.max())
    theta0: list[float] = [1.5] * n + [d0]
    if model == "free":
        theta0 += list(np.log(e_free))
    else:
        # pure-compound ED50s from the free starts: the ends of the ratio range
        theta0 += [float(np.log(e_free[-1])), float(np.log(e_free[0]))]
        if model == "Hewlett":
            theta0.append(1.0)

    def residuals(theta: NDArray[np.float64]) -> NDArray[np.float64]:
        return _predict(model, theta, x, curve, ratios) - y

    lower = [-np.inf] * (len(theta0))
    if model == "Hewlett":
        lower[-1] = 1e-3
    sol = optimize.least_squares(residuals, np.array(theta0), method="trf", x_scale="jac",
                                 bounds=(lower, [np.inf] * len(theta0)), xtol=1e-14, ftol=1e-14, gtol=1e-14,
                                 max_nfev=20000)
    theta = sol.x
    rss = float(np.sum(sol.fun ** 2))
    df = x.size - theta.size
    if df <= 0:
        raise FitError(f"{x.size} observations for {theta.size} parameters")
    e = _ed50(model, theta, ratios, n)
    return MixtureFit(
        model=model, ratios=tuple(float(r) for r in ratios), b=tuple(float(v) for v in theta[:n]),
        d=float(theta[n]), e=tuple(float(v) for v in e),
        e_a=None if model == "free" else float(np.exp(theta[n + 1])),
        e_b=None if model == "free" else float(np.exp(theta[n + 2])),
        lam=float(theta[n + 3]) if model == "Hewlett" else None, rss=rss, df=df,
    )


def f_test(reduced: MixtureFit, full: MixtureFit) -> FTest:
    """F test of ``reduced`` (e.g. CA) against ``full`` (e.g. free); a large p accepts the reduced model."""
    df_num = reduced.df - full.df
    if df_num <= 0:
        raise FitError("the reduced model must have fewer parameters than the full one")
    f = ((reduced.rss - full.rss) / df_num) / (full.rss / full.df)
    return FTest(f=float(f), df_num=df_num, df_den=full.df, p_value=float(stats.f.sf(f, df_num, full.df)))


def lack_of_fit(fit: MixtureFit, dose: ArrayLike, response: ArrayLike, fraction_a: ArrayLike) -> FTest:
    """Lack-of-fit F test of ``fit`` against one mean per treatment (dose x ratio), as drc's ``modelFit``."""
    x = np.asarray(dose, dtype=np.float64)
    y = np.asarray(response, dtype=np.float64)
    p = np.where(x > 0, np.asarray(fraction_a, dtype=np.float64), -1.0)
    _, group = np.unique(np.column_stack([x, p]), axis=0, return_inverse=True)
    group = group.ravel()
    means = np.bincount(group, weights=y) / np.bincount(group)
    ss_pure = float(np.sum((y - means[group]) ** 2))
    df_pure = x.size - int(group.max()) - 1
    df_num = fit.df - df_pure
    f = ((fit.rss - ss_pure) / df_num) / (ss_pure / df_pure)
    return FTest(f=float(f), df_num=df_num, df_den=df_pure, p_value=float(stats.f.sf(f, df_num, df_pure)))
