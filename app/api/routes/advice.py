"""Advice for the farmer, stored with the prescription."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from app.advice import Advice as AdviceText
from app.advice import FactsError, Forecast, LLMConfig, build_fact_sheet, write_advice
from app.api.deps import Agronomist, Reader, SessionDep
from app.api.errors import NotFound, register_extra
from app.api.routes.prescriptions import owned_prescription
from app.api.schemas.label import LabelDoc
from app.models import repo
from app.models.tables import Advice, Prescription, Product
from app.models.tables import Field as FieldRow
from app.pipeline import InputError
from app.settings import Settings
from app.species import catalogue

router = APIRouter(prefix="/v1/prescriptions", tags=["advice"])
register_extra(FactsError, 422, "advice_facts")

Lang = Literal["en", "fr"]
Format = Literal["json", "text", "markdown"]


class AdviceRequest(BaseModel):
    """Ask for (new) advice, optionally with an hourly forecast for the weather window."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    lang: Lang = "en"
    writer: Literal["auto", "builtin", "llm"] = "auto"
    forecast: Forecast | None = Field(default=None, description="hourly wind, gusts, rain, cloud, temperature; "
                                                                 "default: the forecast stored for the field")


def _llm(settings: Settings) -> LLMConfig | None:
    if not (settings.llm_base_url and settings.llm_model):
        return None
    return LLMConfig(base_url=settings.llm_base_url, model=settings.llm_model,
                     api_key=settings.llm_api_key or "not-needed", timeout_s=settings.llm_timeout_s)


def _species_names() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for code, facts in catalogue().items():
        names = facts.get("common_names") or {}
        by_lang = {lang: (v[0] if isinstance(v, list) else v) for lang, v in names.items() if v}
        out[code] = by_lang or facts.get("scientific_name", code)
    return out


def generate(session: SessionDep, row: Prescription, settings: Settings, *, lang: str, writer: str,
             forecast: Forecast | None) -> Advice:
    """Write advice for a prescription and store it (replacing older advice in that language)."""
    field = repo.get_owned(session, FieldRow, row.org_id, row.field_id)
    if field is None:  # pragma: no cover - prescriptions keep their field (ON DELETE CASCADE)
        raise NotFound(f"field {row.field_id} of prescription {row.id} not found")
    if forecast is None and field.forecast is not None:
        forecast = Forecast.model_validate(field.forecast)
    labels = [LabelDoc.model_validate(lab) for lab in row.labels]
    facts = build_fact_sheet(field=field, labels=labels, summary=row.summary,
                             strategy=str(row.strategy.get("name")), species_names=_species_names(),
                             forecast=forecast,
                             other_names=[p.name for p in repo.list_owned(session, Product, row.org_id, limit=500)])
    text: AdviceText = write_advice(facts, lang=lang, writer=writer, llm=_llm(settings))  # type: ignore[arg-type]
    content = text.as_dict()
    content["facts"] = facts.as_dict()
    existing = repo.get_advice(session, row.id, lang)
    if existing is not None:
        session.delete(existing)
        session.flush()
    return repo.add(session, Advice(prescription_id=row.id, lang=lang, writer=text.writer, model=text.model,
                                    prompt_version=text.prompt_version, check=content.get("check") or {},
                                    content=content))


def render(advice: Advice, fmt: str) -> Response:
    c = advice.content
    if fmt == "text":
        return PlainTextResponse(c.get("text", ""))
    if fmt == "markdown":
        return Response(c.get("markdown", ""), media_type="text/markdown; charset=utf-8")
    body = {k: v for k, v in c.items() if k != "facts"}
    body.update({"prescription_id": advice.prescription_id, "stored_at": advice.created_at.isoformat(),
                 "facts": c.get("facts")})
    return JSONResponse(body)


@router.get("/{prescription_id}/advice", responses={200: {"content": {"text/plain": {}, "text/markdown": {}}}})
def get_advice(prescription_id: int, request: Request, session: SessionDep, caller: Reader,
               lang: Annotated[Lang, Query()] = "en",
               format: Annotated[Format, Query()] = "json") -> Response:
    """The stored advice in ``lang``; written (built-in or LLM, as configured) on first request."""
    row = owned_prescription(session, caller, prescription_id)
    advice = repo.get_advice(session, row.id, lang)
    if advice is None:
        advice = generate(session, row, request.app.state.settings, lang=lang, writer="auto", forecast=None)
        session.commit()
    return render(advice, format)


@router.post("/{prescription_id}/advice",
             responses={200: {"content": {"text/plain": {}, "text/markdown": {}}}})
def post_advice(prescription_id: int, body: AdviceRequest, request: Request, session: SessionDep,
                caller: Agronomist, format: Annotated[Format, Query()] = "json") -> Response:
    """Write the advice again, e.g. with a forecast for the spray window, and store it."""
    row = owned_prescription(session, caller, prescription_id)
    if body.writer == "llm" and _llm(request.app.state.settings) is None:
        raise InputError("writer: 'llm' needs a language model and none is configured on this server "
                         "(DOSEWISE_LLM_BASE_URL, DOSEWISE_LLM_MODEL); ask for 'auto' or 'builtin'")
    advice = generate(session, row, request.app.state.settings, lang=body.lang, writer=body.writer,
                      forecast=body.forecast)
    session.commit()
    return render(advice, format)
