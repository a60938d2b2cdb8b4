"""Non-linear least-squares fits of dose-response curves, reproducing the R package drc.

The models and parameter names are those of :mod:`app.dosing.response`
(``b`` slope, ``c`` lower limit, ``d`` upper limit, ``e`` ED50 or inflection
dose): LL.4, LL.3 (``c = 0``) and W1.4. Several curves (one per herbicide,
say) are fitted jointly; each parameter is either common to all curves or
estimated per curve, as drc's ``pmodels`` argument allows.

Standard errors follow drc: ``cov = 2 s^2 H^-1`` where ``H`` is the Hessian
of the residual sum of squares at the optimum (computed analytically here,
including the second-derivative term the Gauss-Newton ``J^T J`` form drops)
and ``s^2 = RSS / (n - k)``. Effective doses carry delta-method standard
errors and t-based confidence intervals, as ``ED(fit, interval = "delta")``.

Doses are in whatever unit the caller measured them; ``e`` and the effective
doses come back in that unit. Dose 0 is the limit ``log 0 -> -inf``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from app.dosing.lazy import lazy_module
from app.dosing.response import DoseResponse, Model

if TYPE_CHECKING:
    from scipy import optimize, special, stats
else:  # scipy.stats/optimize take ~2 s to import; the server starts without them
    optimize, special, stats = (lazy_module(f"scipy.{m}") for m in ("optimize", "special", "stats"))

PARAMETERS: tuple[str, ...] = ("b", "c", "d", "e")
MODEL_PARAMETERS: dict[str, tuple[str, ...]] = {
    "LL.4": ("b", "c", "d", "e"),
    "LL.3": ("b", "d", "e"),
    "W1.4": ("b", "c", "d", "e"),
}
SINGLE_CURVE = "1"  # drc's label for the only curve of a fit without curveid
INTERCEPT = "(Intercept)"  # drc's label for a parameter common to all curves
_B, _C, _D, _E = range(4)
_LOG_FLOAT_MAX = math.log(np.finfo(np.float64).max)
_W1_EXP_CAP = 50.0  # exp(-exp(50)) is 0 in float64: capping changes nothing but avoids inf * 0


class FitError(ValueError):
    """Data or options a dose-response fit cannot use (the message says why)."""


@dataclass(frozen=True)
class EffectiveDose:
    """Dose giving ``percent`` % of the curve's effect, with its delta-method interval.

    ``percent`` is relative to the span of the curve: 50 is halfway between the
    response at dose 0 and the response at an infinite dose (drc's default
    ``type = "relative"``). ``lower`` and ``upper`` bound the two-sided
    confidence interval at the fit's ``level``; doses share the data's unit.
    """

    curve: str
    percent: float
    estimate: float
    std_error: float
    lower: float
    upper: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-able mapping; non-finite numbers become ``None``."""
        return {
            "curve": self.curve,
            "percent": _json_float(self.percent),
            "estimate": _json_float(self.estimate),
            "std_error": _json_float(self.std_error),
            "lower": _json_float(self.lower),
            "upper": _json_float(self.upper),
        }


@dataclass(frozen=True, eq=False)
class FitResult:
    """A fitted dose-response model, laid out as drc's ``summary`` and ``ED``.

    Attributes
    ----------
    model : str
        ``"LL.4"``, ``"LL.3"`` or ``"W1.4"``.
    curves : tuple of str
        Curve labels, sorted like drc's factor levels (by code point here, R
        sorts by locale); ``("1",)`` for a fit without curve labels.
    shared : tuple of str
        Model parameters common to all curves.
    parameter_names : tuple of str
        drc-style names: ``"b:Bentazone"`` for a per-curve parameter,
        ``"c:(Intercept)"`` for a common one, ordered by parameter then curve.
    estimates, std_errors, t_values, p_values : ndarray
        One entry per name; p-values are two-sided from the t distribution
        with ``df`` degrees of freedom.
    vcov : ndarray
        Covariance matrix of the estimates, ``2 s^2 H^-1``.
    rss : float
        Residual sum of squares (response unit squared).
    residual_se : float
        ``sqrt(rss / df)``, response unit.
    df, n : int
        Residual degrees of freedom and number of observations.
    converged : bool
        The optimiser stopped at a point where the Hessian is positive definite
        and a Newton step would lower the RSS by a negligible amount.
    message : str
        How the optimisation ended.
    ed : tuple of EffectiveDose
        Effective doses per curve at the levels asked for, in dose unit.
    level : float
        Confidence level of the intervals in ``ed``.
    parameter_index : ndarray
        ``(len(curves), 4)`` integers: the position in ``estimates`` of each
        curve's ``b, c, d, e``, ``-1`` where the model fixes it (``c`` in LL.3).
    """

    model: str
    curves: tuple[str, ...]
    shared: tuple[str, ...]
    parameter_names: tuple[str, ...]
    estimates: NDArray[np.float64]
    std_errors: NDArray[np.float64]
    t_values: NDArray[np.float64]
    p_values: NDArray[np.float64]
    vcov: NDArray[np.float64]
    rss: float
    residual_se: float
    df: int
    n: int
    converged: bool
    message: str
    ed: tuple[EffectiveDose, ...]
    level: float
    parameter_index: NDArray[np.intp]

    def estimate(self, name: str) -> float:
        """Return the estimate of the parameter called ``name`` (e.g. ``"b:Bentazone"``)."""
        return float(self.estimates[self._position(name)])

    def std_error(self, name: str) -> float:
        """Return the standard error of the parameter called ``name``."""
        return float(self.std_errors[self._position(name)])

    def curve_parameters(self, curve: str = SINGLE_CURVE) -> dict[str, float]:
        """``{"b", "c", "d", "e"}`` of one curve (``c`` is 0 in LL.3)."""
        row = self.parameter_index[self._curve_row(curve)]
        return {
            p: (float(self.estimates[i]) if i >= 0 else 0.0) for p, i in zip(PARAMETERS, row, strict=True)
        }

    def effective_doses(
        self, percents: Sequence[float], *, level: float | None = None
    ) -> tuple[EffectiveDose, ...]:
        """Effective doses of every curve at ``percents`` (each in (0, 100)).

        ``level`` defaults to the fit's. A curve with ``b = 0`` has no
        effective dose (NaN).
        """
        level = self.level if level is None else level
        _check_level(level)
        pcts = _check_percents(percents)
        tq = float(stats.t.ppf(0.5 + level / 2.0, self.df))
        rows = []
        for k, label in enumerate(self.curves):
            ib, ie = self.parameter_index[k, _B], self.parameter_index[k, _E]
            b, e = float(self.estimates[ib]), float(self.estimates[ie])
            for p in pcts:
                ed, grad_b, grad_e = _effective_dose(self.model, b, e, p)
                var = (
                    grad_b * grad_b * self.vcov[ib, ib]
                    + 2.0 * grad_b * grad_e * self.vcov[ib, ie]
                    + grad_e * grad_e * self.vcov[ie, ie]
                )
                se = math.sqrt(var) if var >= 0 else math.nan
                rows.append(EffectiveDose(label, p, ed, se, ed - tq * se, ed + tq * se))
        return tuple(rows)

    def dose_responses(self, *, relative: bool = True, dose_scale: float = 1.0) -> dict[str, DoseResponse]:
        """One :class:`DoseResponse` per curve label.

        Parameters
        ----------
        relative : bool
            Divide ``c`` and ``d`` by ``d`` so the curve gives the surviving
            fraction relative to untreated (``d = 1``), what the dosing core
            expects. ``False`` keeps the response unit of the data.
        dose_scale : float
            Multiplies ``e``: the canonical dose unit per data dose unit (e.g.
            0.001 for data in g/ha and a product dosed in kg/ha).
        """
        if not dose_scale > 0:
            raise FitError(f"dose_scale must be positive, got {dose_scale}")
        out = {}
        for label in self.curves:
            p = self.curve_parameters(label)
            scale = p["d"] if relative else 1.0
            if relative and not p["d"] > 0:
                raise FitError(f"curve {label!r}: d = {p['d']} is not positive, cannot express it relative")
            out[label] = DoseResponse(
                model=cast(Model, self.model),  # validated against MODEL_PARAMETERS
                b=p["b"],
                c=p["c"] / scale,
                d=p["d"] / scale,
                e=p["e"] * dose_scale,
            )
        return out

    def as_dict(self) -> dict[str, Any]:
        """JSON-able summary; non-finite numbers become ``None``.

        Keys: ``model, curves, shared, n, df, rss, residual_se, converged,
        message, level, parameters`` (list of ``name, parameter, curve,
        estimate, std_error, t_value, p_value``; ``curve`` is ``None`` for a
        common parameter), ``vcov`` (list of rows) and ``ed`` (list of
        :meth:`EffectiveDose.as_dict`).
        """
        params = []
        for i, name in enumerate(self.parameter_names):
            param, _, label = name.partition(":")
            params.append(
                {
                    "name": name,
                    "parameter": param,
                    "curve": None if label == INTERCEPT else label,
                    "estimate": _json_float(self.estimates[i]),
                    "std_error": _json_float(self.std_errors[i]),
                    "t_value": _json_float(self.t_values[i]),
                    "p_value": _json_float(self.p_values[i]),
                }
            )
        return {
            "model": self.model,
            "curves": list(self.curves),
            "shared": list(self.shared),
            "n": self.n,
            "df": self.df,
            "rss": _json_float(self.rss),
            "residual_se": _json_float(self.residual_se),
            "converged": self.converged,
            "message": self.message,
            "level": self.level,
            "parameters": params,
            "vcov": [[_json_float(v) for v in row] for row in self.vcov],
            "ed": [row.as_dict() for row in self.ed],
        }

    def _position(self, name: str) -> int:
        try:
            return self.parameter_names.index(name)
        except ValueError:
            raise KeyError(f"no parameter {name!r}; parameters: {', '.join(self.parameter_names)}") from None

    def _curve_row(self, curve: str) -> int:
        try:
            return self.curves.index(str(curve))
        except ValueError:
            raise KeyError(f"no curve {curve!r}; curves: {', '.join(self.curves)}") from None


def fit_dose_response(
    dose: ArrayLike,
    response: ArrayLike,
    *,
    curve: ArrayLike | None = None,
    model: str = "LL.4",
    shared: Sequence[str] = ("c", "d"),
    ed_levels: Sequence[float] = (10.0, 50.0, 90.0),
    level: float = 0.95,
    max_curves: int | None = None,
    max_observations: int | None = None,
) -> FitResult:
    """Fit one or several dose-response curves by least squares, as drc's ``drm``.

    Parameters
    ----------
    dose : array_like
        Dose of each observation (any non-negative unit; 0 for untreated).
    response : array_like
        Response of each observation (e.g. dry matter in g/pot); negative values
        (relative growth rates, log data) are accepted by LL.4 and W1.4, whose
        lower limit is free, not by LL.3 (lower limit 0).
    curve : array_like, optional
        Curve label of each observation (herbicide, species, ...). Without it
        all observations form one curve labelled ``"1"``.
    model : {"LL.4", "LL.3", "W1.4"}
        Log-logistic with four or three (``c = 0``) parameters, or Weibull type 1.
    shared : sequence of str
        Parameters (of ``b, c, d, e``) common to all curves; the others are
        estimated per curve. ``("c", "d")`` is drc's ``pmodels`` with ``c`` and
        ``d`` common. ``c`` is fixed at 0 in LL.3, so naming it there changes nothing.
    ed_levels : sequence of float
        Percent effects (0..100, exclusive) whose effective doses go in ``ed``.
    level : float
        Confidence level of the effective-dose intervals.
    max_curves, max_observations : int, optional
        Refuse larger problems before any work (the cost grows with
        observations x parameters squared); ``None``: no limit.

    Returns
    -------
    FitResult
        Estimates, drc's Hessian-based standard errors, residual SE and
        effective doses per curve.

    Raises
    ------
    FitError
        Mismatched lengths; NaN, infinite or negative doses; negative responses
        with LL.3; a
        curve with fewer than 3 distinct doses or with no variation of the
        response across doses; fewer observations than parameters + 1; an
        unknown model, shared parameter or percent.

    Examples
    --------
    Exact data from ``LL.4`` with ``b = 2, c = 0.5, d = 4, e = 30``:

    >>> import numpy as np
    >>> dose = np.repeat([0.0, 7.5, 15.0, 30.0, 60.0, 120.0], 2)
    >>> response = 0.5 + 3.5 / (1.0 + (dose / 30.0) ** 2)
    >>> fit = fit_dose_response(dose, response, model="LL.4")
    >>> fit.parameter_names
    ('b:(Intercept)', 'c:(Intercept)', 'd:(Intercept)', 'e:(Intercept)')
    >>> {name: round(value, 6) for name, value in fit.curve_parameters().items()}
    {'b': 2.0, 'c': 0.5, 'd': 4.0, 'e': 30.0}
    >>> ed90 = fit.ed[2]
    >>> (ed90.percent, round(ed90.estimate, 3))
    (90.0, 90.0)
    """
    _check_size(dose, curve, max_curves, max_observations)
    setup = _Setup.build(dose, response, curve, model, shared, ed_levels, level)
    beta, converged, message = setup.problem.solve(setup.start())
    return setup.result(beta, converged, message)


def evaluate_dose_response(
    dose: ArrayLike,
    response: ArrayLike,
    estimates: ArrayLike,
    *,
    curve: ArrayLike | None = None,
    model: str = "LL.4",
    shared: Sequence[str] = ("c", "d"),
    ed_levels: Sequence[float] = (10.0, 50.0, 90.0),
    level: float = 0.95,
) -> FitResult:
    """Compute drc's statistics of given estimates on data, without optimising.

    For checking a published or stored fit against its data: standard errors,
    residual SE and effective doses are computed at ``estimates`` exactly as
    :func:`fit_dose_response` computes them at its optimum. ``converged`` says
    whether ``estimates`` is (numerically) a least-squares optimum.

    Parameters
    ----------
    dose, response, curve, model, shared, ed_levels, level
        As for :func:`fit_dose_response`.
    estimates : array_like
        One value per parameter, in the order of ``FitResult.parameter_names``
        (by parameter ``b, c, d, e``, then curve label in sorted order).

    Returns
    -------
    FitResult

    Examples
    --------
    >>> import numpy as np
    >>> dose = np.repeat([0.0, 7.5, 15.0, 30.0, 60.0, 120.0], 2)
    >>> response = 0.5 + 3.5 / (1.0 + (dose / 30.0) ** 2) + np.tile([0.05, -0.05], 6)
    >>> fit = evaluate_dose_response(dose, response, [2.0, 0.5, 4.0, 30.0])
    >>> (round(fit.rss, 4), fit.df)
    (0.03, 8)
    """
    setup = _Setup.build(dose, response, curve, model, shared, ed_levels, level)
    try:
        beta = np.asarray(estimates, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise FitError(f"estimates must be numeric: {exc}") from None
    if beta.size != len(setup.names):
        raise FitError(f"{beta.size} estimates for {len(setup.names)} parameters: {', '.join(setup.names)}")
    if not np.all(np.isfinite(beta)) or not np.all(beta[setup.problem.is_e] > 0):
        raise FitError("estimates must be finite, with every e positive")
    decrement = setup.problem.newton_decrement(beta)
    rss = setup.problem.rss(beta)
    converged = decrement is not None and decrement <= 1e-8 * rss + 1e-20 * setup.problem.scale
    return setup.result(beta.copy(), converged, "evaluated at the given estimates")


@dataclass(frozen=True)
class _Setup:
    """Validated data and the parameter layout shared by fitting and evaluation."""

    problem: _Problem
    labels: tuple[str, ...]
    names: tuple[str, ...]
    index: NDArray[np.intp]
    obs_curve: NDArray[np.intp]
    common: frozenset[str]
    percents: tuple[float, ...]
    level: float

    @classmethod
    def build(
        cls,
        dose: ArrayLike,
        response: ArrayLike,
        curve: ArrayLike | None,
        model: str,
        shared: Sequence[str],
        ed_levels: Sequence[float],
        level: float,
    ) -> _Setup:
        if model not in MODEL_PARAMETERS:
            raise FitError(f"unknown model {model!r}; valid models: {', '.join(MODEL_PARAMETERS)}")
        _check_level(level)
        percents = _check_percents(ed_levels)
        x, y = _check_data(dose, response, model)
        labels, obs_curve = _curve_labels(curve, x.size)
        common = _common_parameters(model, shared, single=curve is None)
        names, index = _parameter_layout(model, labels, common)
        k = len(names)
        for j, label in enumerate(labels):
            _check_curve(x[obs_curve == j], y[obs_curve == j], label)
        if x.size < k + 1:
            raise FitError(
                f"{x.size} observations for {k} parameters: need at least parameters + 1 = {k + 1} "
                "to estimate the residual variance"
            )
        problem = _Problem(model, x, y, index[obs_curve], k)
        return cls(problem, labels, names, index, obs_curve, common, percents, level)

    def start(self) -> NDArray[np.float64]:
        p = self.problem
        return _start(p.model, p.x, p.y, self.obs_curve, self.index, p.k)

    def result(self, beta: NDArray[np.float64], converged: bool, message: str) -> FitResult:
        p = self.problem
        rss, _, hess = p.rss_derivatives(beta)
        df = p.x.size - p.k
        s2 = rss / df
        try:
            np.linalg.cholesky(hess)
            vcov = np.asarray(2.0 * s2 * np.linalg.inv(hess), dtype=np.float64)
        except np.linalg.LinAlgError:
            vcov = np.full((p.k, p.k), np.nan)
            converged = False
            message += "; Hessian not positive definite, no standard errors"
        with np.errstate(divide="ignore", invalid="ignore"):
            se = np.sqrt(np.diag(vcov))
            t_values = beta / se
        p_values = 2.0 * stats.t.sf(np.abs(t_values), df)
        result = FitResult(
            model=p.model,
            curves=self.labels,
            shared=tuple(q for q in MODEL_PARAMETERS[p.model] if q in self.common),
            parameter_names=self.names,
            estimates=beta,
            std_errors=se,
            t_values=t_values,
            p_values=p_values,
            vcov=vcov,
            rss=float(rss),
            residual_se=math.sqrt(s2),
            df=df,
            n=int(p.x.size),
            converged=converged,
            message=message,
            ed=(),
            level=self.level,
            parameter_index=self.index,
        )
        # The ED table is derived from the finished result; frozen, so set it once here.
        object.__setattr__(result, "ed", result.effective_doses(self.percents))
        return result


class _Problem:
    """Residuals and their derivatives for the global parameter vector ``beta``."""

    def __init__(
        self, model: str, x: NDArray[np.float64], y: NDArray[np.float64], obs_index: NDArray[np.intp], k: int
    ):
        self.model = model
        self.x = x
        self.y = y
        self.obs_index = obs_index  # (n, 4): global position of each observation's b, c, d, e
        self.k = k
        self.active = [j for j in range(4) if PARAMETERS[j] in MODEL_PARAMETERS[model]]
        self.rows = np.arange(x.size)
        e_positions = np.unique(obs_index[:, _E])
        self.is_e = np.zeros(k, dtype=bool)
        self.is_e[e_positions] = True
        self.scale = float(np.sum((y - y.mean()) ** 2))  # sets an absolute floor for exact data

    def local(self, beta: NDArray[np.float64]) -> tuple[NDArray[np.float64], ...]:
        padded = np.append(beta, 0.0)  # position -1 (a fixed c) reads 0
        return tuple(padded[self.obs_index[:, j]] for j in range(4))

    def jacobian(self, jl: NDArray[np.float64]) -> NDArray[np.float64]:
        jac = np.zeros((self.x.size, self.k))
        for j in self.active:
            jac[self.rows, self.obs_index[:, j]] = jl[:, j]
        return jac

    def rss_derivatives(
        self, beta: NDArray[np.float64]
    ) -> tuple[float, NDArray[np.float64], NDArray[np.float64]]:
        """RSS, its gradient and its full Hessian (not Gauss-Newton) at ``beta``."""
        f, jl, hl = _derivatives(self.model, self.x, *self.local(beta), second=True)
        assert hl is not None
        resid = self.y - f
        jac = self.jacobian(jl)
        curvature = np.zeros((self.k, self.k))
        for j in self.active:
            for m in self.active:
                np.add.at(curvature, (self.obs_index[:, j], self.obs_index[:, m]), resid * hl[:, j, m])
        rss = float(resid @ resid)
        return rss, -2.0 * jac.T @ resid, 2.0 * (jac.T @ jac - curvature)

    def rss(self, beta: NDArray[np.float64]) -> float:
        f, _, _ = _derivatives(self.model, self.x, *self.local(beta), second=False)
        resid = self.y - f
        return float(resid @ resid)

    def solve(self, beta0: NDArray[np.float64]) -> tuple[NDArray[np.float64], bool, str]:
        """Levenberg-Marquardt on (b, c, d, log e), then Newton steps on the exact Hessian."""
        best: tuple[float, NDArray[np.float64], str] | None = None
        for start in self._starts(beta0):
            theta, lm_message = self._levenberg_marquardt(start)
            beta = self._to_beta(theta)
            rss = self.rss(beta)
            if best is None or rss < best[0]:
                best = (rss, beta, lm_message)
            if self.newton_decrement(beta) is not None:
                break  # a well-posed optimum: the remaining starts are only fallbacks
        assert best is not None
        beta, converged, newton_message = self._polish(best[1])
        return beta, converged, f"{best[2]}; {newton_message}"

    def _starts(self, beta0: NDArray[np.float64]) -> list[NDArray[np.float64]]:
        alt_slope = beta0.copy()
        b_positions = np.unique(self.obs_index[:, _B])
        alt_slope[b_positions] = np.sign(beta0[b_positions]) + (beta0[b_positions] == 0)
        alt_dose = alt_slope.copy()
        positive = self.x[self.x > 0]
        alt_dose[self.is_e] = math.exp(float(np.mean(np.log(positive))))
        return [beta0, alt_slope, alt_dose]

    def _to_beta(self, theta: NDArray[np.float64]) -> NDArray[np.float64]:
        beta = theta.copy()
        beta[self.is_e] = np.exp(theta[self.is_e])
        return beta

    def _levenberg_marquardt(self, beta0: NDArray[np.float64]) -> tuple[NDArray[np.float64], str]:
        # log e keeps e positive without bounds and makes the problem better scaled.
        def residuals(theta: NDArray[np.float64]) -> NDArray[np.float64]:
            f, _, _ = _derivatives(self.model, self.x, *self.local(self._to_beta(theta)), second=False)
            return f - self.y

        def jacobian(theta: NDArray[np.float64]) -> NDArray[np.float64]:
            beta = self._to_beta(theta)
            _, jl, _ = _derivatives(self.model, self.x, *self.local(beta), second=False)
            jac = self.jacobian(jl)
            jac[:, self.is_e] *= beta[self.is_e]
            return jac

        theta0 = beta0.copy()
        theta0[self.is_e] = np.log(beta0[self.is_e])
        with np.errstate(over="ignore", invalid="ignore"):
            sol = optimize.least_squares(
                residuals,
                theta0,
                jac=jacobian,
                method="lm",
                x_scale="jac",
                ftol=1e-14,
                xtol=1e-14,
                gtol=1e-14,
                max_nfev=200 * (self.k + 1),
            )
        return sol.x, f"least_squares: {sol.message}"

    def newton_decrement(self, beta: NDArray[np.float64]) -> float | None:
        """Predicted RSS decrease of a Newton step, ``None`` if the Hessian is not positive definite."""
        _, grad, hess = self.rss_derivatives(beta)
        try:
            chol = np.linalg.cholesky(hess)
        except np.linalg.LinAlgError:
            return None
        w = np.linalg.solve(chol, grad)
        return 0.5 * float(w @ w)

    def _polish(self, beta: NDArray[np.float64]) -> tuple[NDArray[np.float64], bool, str]:
        for _ in range(50):
            rss, grad, hess = self.rss_derivatives(beta)
            tol = 1e-10 * rss + 1e-20 * self.scale
            try:
                step = np.linalg.solve(hess, -grad)
                np.linalg.cholesky(hess)
            except np.linalg.LinAlgError:
                return beta, False, "Newton: Hessian not positive definite"
            decrement = -0.5 * float(grad @ step)
            if decrement <= tol:
                return beta, True, "Newton: converged"
            for _ in range(40):
                trial = beta + step
                if np.all(trial[self.is_e] > 0) and self.rss(trial) < rss:
                    beta = trial
                    break
                step = step / 2.0
            else:
                # No step along a descent direction lowers the RSS: the optimum up to rounding,
                # unless a large predicted decrease says the model itself misbehaves here.
                return beta, decrement <= 1e-6 * rss + tol, "Newton: no further descent"
        return beta, False, "Newton: iteration limit"


def _derivatives(
    model: str,
    x: NDArray[np.float64],
    b: NDArray[np.float64],
    c: NDArray[np.float64],
    d: NDArray[np.float64],
    e: NDArray[np.float64],
    *,
    second: bool,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64] | None]:
    """Curve values, gradient ``(n, 4)`` and Hessian ``(n, 4, 4)`` w.r.t. ``b, c, d, e``.

    ``f = c + (d - c) g(u)``, ``u = b (log x - log e)``; ``g`` is
    ``1 / (1 + exp u)`` (log-logistic) or ``exp(-exp u)`` (Weibull 1).
    At dose 0 the limit ``u -> -sign(b) inf`` gives ``g`` = 1 (b > 0) or 0
    (b < 0) and no dependence on ``b`` or ``e``.
    """
    zero = x <= 0
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(zero, 0.0, np.log(np.where(zero, 1.0, x)) - np.log(e))
    u = b * t
    if model == "W1.4":
        eu = np.exp(np.minimum(u, _W1_EXP_CAP))
        g = np.exp(-eu)
        g1 = -eu * g
        g2 = g * eu * (eu - 1.0)
    else:
        g = special.expit(-u)
        g1 = -g * (1.0 - g)
        g2 = g1 * (2.0 * g - 1.0)
    g = np.where(zero & (b > 0), 1.0, np.where(zero & (b < 0), 0.0, g))
    g1 = np.where(zero, 0.0, g1)
    g2 = np.where(zero, 0.0, g2)

    span = d - c
    du_de = -b / e
    f = c + span * g
    jl = np.empty((x.size, 4))
    jl[:, _B] = span * g1 * t
    jl[:, _C] = 1.0 - g
    jl[:, _D] = g
    jl[:, _E] = span * g1 * du_de
    if not second:
        return f, jl, None
    hl = np.zeros((x.size, 4, 4))
    hl[:, _B, _B] = span * g2 * t * t
    hl[:, _B, _C] = -g1 * t
    hl[:, _B, _D] = g1 * t
    hl[:, _B, _E] = span * (g2 * t * du_de - g1 / e)
    hl[:, _C, _E] = -g1 * du_de
    hl[:, _D, _E] = g1 * du_de
    hl[:, _E, _E] = span * (g2 * du_de * du_de + g1 * b / (e * e))
    for j, m in ((_B, _C), (_B, _D), (_B, _E), (_C, _E), (_D, _E)):
        hl[:, m, j] = hl[:, j, m]
    return f, jl, hl


def _effective_dose(model: str, b: float, e: float, percent: float) -> tuple[float, float, float]:
    """ED at ``percent`` % of the span and its derivatives w.r.t. ``b`` and ``e``."""
    if b == 0 or not e > 0:
        return math.nan, math.nan, math.nan
    # g is the fraction of (d - c) above c; the effect runs from g(0) toward g(inf).
    a = percent / 100.0
    g_target = 1.0 - a if b > 0 else a
    u = math.log((1.0 - g_target) / g_target) if model != "W1.4" else math.log(-math.log(g_target))
    log_ed = math.log(e) + u / b
    ed = math.exp(log_ed) if log_ed < _LOG_FLOAT_MAX else math.inf  # b near 0: beyond any dose
    return ed, -ed * u / (b * b), ed / e


def _start(
    model: str,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    obs_curve: NDArray[np.intp],
    index: NDArray[np.intp],
    k: int,
) -> NDArray[np.float64]:
    """Self-starting values: limits from the data range, b and e from a linearised fit."""
    per_curve = np.array(
        [_start_curve(model, x[obs_curve == j], y[obs_curve == j]) for j in range(len(index))]
    )
    per_curve[:, _E] = np.log(per_curve[:, _E])  # pool e on the log scale
    beta = np.zeros(k)
    for pos in range(k):
        rows, cols = np.nonzero(index == pos)
        beta[pos] = np.median(per_curve[rows, cols[0]])
    beta[np.unique(index[:, _E])] = np.exp(beta[np.unique(index[:, _E])])
    return beta


def _start_curve(model: str, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    doses, inverse = np.unique(x, return_inverse=True)
    means = np.bincount(inverse, weights=y) / np.bincount(inverse)
    lo, hi = float(means.min()), float(means.max())
    pad = 0.05 * (hi - lo)
    c0 = 0.0 if model == "LL.3" else lo - pad
    d0 = hi + pad
    decreasing = means[0] >= means[-1]
    positive = doses > 0
    b0, e0 = (1.0 if decreasing else -1.0), math.exp(float(np.mean(np.log(doses[positive]))))

    inside = positive & (means > c0) & (means < d0)
    if np.count_nonzero(inside) >= 2:
        g = (means[inside] - c0) / (d0 - c0)
        z = np.log(-np.log(g)) if model == "W1.4" else np.log((1.0 - g) / g)
        slope, intercept = np.polyfit(np.log(doses[inside]), z, 1)
        if np.isfinite(slope) and abs(slope) > 1e-8 and (slope > 0) == decreasing:
            b0 = float(slope)
            log_e = -float(intercept) / b0
            lo_dose, hi_dose = float(doses[positive].min()), float(doses.max())
            e0 = float(np.clip(math.exp(np.clip(log_e, -700, 700)), lo_dose / 100.0, hi_dose * 100.0))
    return np.array([b0, c0, d0, e0])


def _check_size(dose: ArrayLike, curve: ArrayLike | None, max_curves: int | None,
                max_observations: int | None) -> None:
    n = int(np.size(dose))
    if max_observations is not None and n > max_observations:
        raise FitError(f"{n} observations; a fit takes at most {max_observations} "
                       "(setting DOSEWISE_FIT_MAX_OBSERVATIONS)")
    if max_curves is not None and curve is not None:
        k = len({str(c) for c in np.asarray(curve).ravel()})
        if k > max_curves:
            raise FitError(f"{k} curves; a fit takes at most {max_curves} (setting DOSEWISE_FIT_MAX_CURVES)")


def _check_data(dose: ArrayLike, response: ArrayLike,
                model: str = "LL.4") -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    arrays = []
    for name, values in (("dose", dose), ("response", response)):
        try:
            arr = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise FitError(f"{name} must be numeric: {exc}") from None
        if arr.ndim != 1:
            raise FitError(f"{name} must be one-dimensional, got shape {arr.shape}")
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            raise FitError(f"{name} has NaN or infinite values at positions {_first(bad)}")
        bad = np.flatnonzero(arr < 0)
        # Responses may be negative (relative growth rates, log data) where the model has a free
        # lower limit, as in drc; LL.3 fixes the lower limit at 0, so it cannot describe them.
        if bad.size and (name == "dose" or model == "LL.3"):
            raise FitError(f"{name} has negative values at positions {_first(bad)}"
                           + ("; LL.3 fixes the lower limit at 0: use LL.4 or W1.4 for negative responses"
                              if name == "response" else ""))
        arrays.append(arr)
    x, y = arrays
    if x.size != y.size:
        raise FitError(f"dose has {x.size} values but response has {y.size}")
    if x.size == 0:
        raise FitError("no observations")
    return x, y


def _curve_labels(curve: ArrayLike | None, n: int) -> tuple[tuple[str, ...], NDArray[np.intp]]:
    if curve is None:
        return (SINGLE_CURVE,), np.zeros(n, dtype=np.intp)
    raw = np.asarray(curve)
    if raw.ndim != 1 or raw.size != n:
        raise FitError(f"curve must give one label per observation: {n} observations, shape {raw.shape}")
    try:
        levels, inverse = np.unique(raw, return_inverse=True)
    except TypeError:  # mixed label types do not sort: fall back to their text
        levels, inverse = np.unique(raw.astype(str), return_inverse=True)
    labels = tuple(str(v) for v in levels)
    if len(set(labels)) != len(labels):
        raise FitError(f"curve labels are not distinct as text: {labels}")
    return labels, inverse.reshape(-1).astype(np.intp)


def _common_parameters(model: str, shared: Sequence[str], *, single: bool) -> frozenset[str]:
    names = (shared,) if isinstance(shared, str) else tuple(shared)
    unknown = [p for p in names if p not in PARAMETERS]
    if unknown:
        raise FitError(
            f"unknown shared parameter(s) {', '.join(map(repr, unknown))}; valid for {model}: "
            f"{', '.join(MODEL_PARAMETERS[model])}"
        )
    params = MODEL_PARAMETERS[model]
    return frozenset(params if single else (p for p in names if p in params))


def _parameter_layout(
    model: str, labels: tuple[str, ...], common: frozenset[str]
) -> tuple[tuple[str, ...], NDArray[np.intp]]:
    names: list[str] = []
    index = np.full((len(labels), 4), -1, dtype=np.intp)
    for j, param in enumerate(PARAMETERS):
        if param not in MODEL_PARAMETERS[model]:
            continue
        if param in common:
            index[:, j] = len(names)
            names.append(f"{param}:{INTERCEPT}")
        else:
            for row, label in enumerate(labels):
                index[row, j] = len(names)
                names.append(f"{param}:{label}")
    return tuple(names), index


def _check_curve(x: NDArray[np.float64], y: NDArray[np.float64], label: str) -> None:
    doses, inverse = np.unique(x, return_inverse=True)
    if doses.size < 3:
        raise FitError(
            f"curve {label!r} has {doses.size} distinct dose(s); a dose-response fit needs at least 3"
        )
    means = np.bincount(inverse, weights=y) / np.bincount(inverse)
    if np.ptp(means) <= 1e-12 * max(float(np.abs(y).max()), np.finfo(float).tiny):
        raise FitError(f"curve {label!r} shows no response: the mean response is the same at every dose")


def _check_percents(percents: Sequence[float]) -> tuple[float, ...]:
    try:
        values = tuple(float(p) for p in np.atleast_1d(np.asarray(percents, dtype=np.float64)))
    except (TypeError, ValueError) as exc:
        raise FitError(f"effective-dose percents must be numbers: {exc}") from None
    bad = [p for p in values if not 0.0 < p < 100.0]
    if bad:
        raise FitError(f"effective-dose percents must lie strictly between 0 and 100, got {bad}")
    return values


def _check_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise FitError(f"confidence level must lie strictly between 0 and 1, got {level}")


def _first(positions: NDArray[np.intp], limit: int = 5) -> str:
    shown = ", ".join(str(int(i)) for i in positions[:limit])
    return shown + (f" ... ({positions.size} in all)" if positions.size > limit else "")


def _json_float(value: float | np.floating[Any]) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None
