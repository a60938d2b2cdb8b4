"""Advice for the farmer, stored with the prescription."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from app.advice import Forecast
from app.api.deps import Agronomist, Reader, SessionDep, WriteSessionDep
from app.models import repo
from app.models.tables import Advice
from app.pipeline import InputError
from app.services.advice import fact_sheet, llm_config, store, word
from app.services.prescriptions import owned_prescription

router = APIRouter(prefix="/v1/prescriptions", tags=["advice"])

Lang = Literal["en", "fr", "de"]  # the locale files in app/advice/locales
Format = Literal["json", "text", "markdown"]


class AdviceRequest(BaseModel):
    """Ask for (new) advice, optionally with an hourly forecast for the weather window."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, json_schema_extra={"examples": [
        {"lang": "fr", "writer": "builtin"}, {"lang": "en"}]})

    lang: Lang = "en"
    writer: Literal["auto", "builtin", "llm"] = "auto"
    units: Literal["metric", "us"] | None = Field(
        default=None, description="unit system of the advice; default: from the field's country "
                                  "(US customary for US fields, metric elsewhere)")
    forecast: Forecast | None = Field(default=None, description="hourly wind, gusts, rain, cloud, temperature; "
                                                                 "default: the forecast stored for the field")


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


@router.get("/{prescription_id}/advice", summary="Get the farmer's advice",
            responses={200: {"content": {"text/plain": {}, "text/markdown": {}}}})
def get_advice(prescription_id: int, request: Request, session: SessionDep, write_session: WriteSessionDep,
               caller: Reader, lang: Annotated[Lang, Query()] = "en",
               format: Annotated[Format, Query()] = "json") -> Response:
    """The stored advice in ``lang``; written (built-in or LLM, as configured) on first request.

    The facts are read, the read ends, the words are written with no
    transaction open (a model may take its whole timeout), then a short write
    stores them on a session of its own; this read session never writes.
    """
    row = owned_prescription(session, caller.org_id, prescription_id, caller.field_ids)
    advice = repo.get_advice(session, row.id, lang)
    if advice is not None:
        return render(advice, format)
    pid, facts = row.id, fact_sheet(session, row, forecast=None)
    session.rollback()
    text = word(facts, lang=lang, writer="auto", llm=llm_config(request.app.state.settings))
    # Another request may have stored it while the model was writing: keep the first.
    advice = repo.get_advice(write_session, pid, lang) or store(write_session, pid, lang, text, facts)
    return render(advice, format)


@router.post("/{prescription_id}/advice", summary="Write the advice again",
             responses={200: {"content": {"text/plain": {}, "text/markdown": {}}}})
def post_advice(prescription_id: int, body: AdviceRequest, request: Request, session: SessionDep,
                caller: Agronomist, format: Annotated[Format, Query()] = "json") -> Response:
    """Write the advice again, e.g. with a forecast for the spray window, and store it.

    As for GET: no transaction (and on SQLite no write lock) is held while the words are written.
    """
    row = owned_prescription(session, caller.org_id, prescription_id, caller.field_ids)
    if body.writer == "llm" and llm_config(request.app.state.settings) is None:
        raise InputError("writer: 'llm' needs a language model and none is configured on this server "
                         "(DOSEWISE_LLM_BASE_URL, DOSEWISE_LLM_MODEL); ask for 'auto' or 'builtin'")
    pid, facts = row.id, fact_sheet(session, row, forecast=body.forecast, units=body.units)
    session.rollback()
    text = word(facts, lang=body.lang, writer=body.writer, llm=llm_config(request.app.state.settings))
    return render(store(session, pid, body.lang, text, facts), format)
