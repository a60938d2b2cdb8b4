"""Fitting dose-response trials (drc's LL.4, LL.3, W1.4)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import Agronomist
from app.dosing.fit import FitError, fit_dose_response
from app.settings import get_settings

SharedParameter = Literal["b", "c", "d", "e"]

router = APIRouter(prefix="/v1/dose-response", tags=["dose-response"])


def _default_shared() -> list[SharedParameter]:
    return ["c", "d"]


class FitRequest(BaseModel):
    """Observations of one or several curves; doses in any one unit (e.g. g/ha)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, json_schema_extra={"examples": [{
        "dose": [0, 0, 10, 10, 30, 30, 90, 90, 270, 270],
        "response": [4.1, 4.0, 3.7, 3.9, 2.1, 2.4, 1.0, 0.9, 0.7, 0.8],
        "model": "LL.4",
    }]})

    dose: list[Annotated[float, Field(ge=0, le=1e9)]] = Field(min_length=1)
    response: list[Annotated[float, Field(ge=-1e9, le=1e9)]] = Field(min_length=1)
    curve: list[Annotated[str, Field(max_length=200)]] | None = Field(
        default=None, description="curve label per observation (e.g. herbicide)")
    model: Literal["LL.4", "LL.3", "W1.4"] = "LL.4"
    shared: list[SharedParameter] = Field(default_factory=_default_shared,
                                          description="parameters common to all curves")
    ed_levels: list[Annotated[float, Field(gt=0, lt=100)]] = Field(default_factory=lambda: [10.0, 50.0, 90.0],
                                                                   max_length=20)
    level: float = Field(default=0.95, gt=0, lt=1)


@router.post("/fit", summary="Fit a dose-response curve")
def fit(body: FitRequest, caller: Agronomist) -> dict[str, Any]:
    """Least-squares fit with drc's standard errors (Hessian of the RSS) and ED10/50/90 with intervals."""
    if len(body.dose) != len(body.response):
        raise FitError(f"dose has {len(body.dose)} values but response has {len(body.response)}")
    if body.curve is not None and len(body.curve) != len(body.dose):
        raise FitError(f"curve has {len(body.curve)} labels for {len(body.dose)} observations")
    limits = get_settings()
    result = fit_dose_response(body.dose, body.response, curve=body.curve, model=body.model,
                               shared=tuple(body.shared), ed_levels=tuple(body.ed_levels), level=body.level,
                               max_curves=limits.fit_max_curves, max_observations=limits.fit_max_observations)
    return result.as_dict()
