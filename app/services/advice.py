"""Advice for a stored prescription: facts read from the database, words written outside it.

Writing may call a language model (seconds, up to its timeout), so it is kept
apart from the reads (:func:`fact_sheet`) and the short write (:func:`store`):
a caller can end its read transaction before :func:`word` and open a write
transaction only after it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.advice import Advice as AdviceText
from app.advice import FactSheet, Forecast, LLMConfig, build_fact_sheet, write_advice
from app.advice.facts import catalogue_species_names
from app.domain.errors import NotFound
from app.domain.label import LabelDoc
from app.models import repo
from app.models.tables import Advice, Prescription, Product
from app.models.tables import Field as FieldRow
from app.settings import Settings


def llm_config(settings: Settings) -> LLMConfig | None:
    """The configured model, or ``None`` when advice is worded by the built-in templates only."""
    if not (settings.llm_base_url and settings.llm_model):
        return None
    return LLMConfig(base_url=settings.llm_base_url, model=settings.llm_model,
                     api_key=settings.llm_api_key or "not-needed", timeout_s=settings.llm_timeout_s,
                     max_tokens=settings.llm_max_tokens, max_chars=settings.llm_max_chars,
                     second_opinion=settings.llm_second_opinion)


def _species_names() -> dict[str, Any]:
    return catalogue_species_names()


def fact_sheet(session: Session, row: Prescription, *, forecast: Forecast | None,
               units: str | None = None) -> FactSheet:
    """The facts of a stored prescription (reads only); the field's stored forecast when none is given.

    The organisation's other labels are the catalogue a species left below its control target is
    matched against; ``units`` overrides the unit system of the field's country.
    """
    field = repo.get_owned(session, FieldRow, row.org_id, row.field_id)
    if field is None:  # pragma: no cover - prescriptions keep their field (ON DELETE CASCADE)
        raise NotFound(f"field {row.field_id} of prescription {row.id} not found")
    if forecast is None and field.forecast is not None:
        forecast = Forecast.model_validate(field.forecast)
    labels = [LabelDoc.model_validate(lab) for lab in row.labels]
    org_products = repo.list_owned(session, Product, row.org_id, limit=500)
    catalogue_labels = []
    for p in org_products:
        try:
            catalogue_labels.append(LabelDoc.model_validate(p.label))
        except ValueError:  # a stored label an older schema accepted: it just offers no alternative
            continue
    return build_fact_sheet(field=field, labels=labels, summary=row.summary,
                            strategy=str(row.strategy.get("name")), species_names=_species_names(),
                            forecast=forecast, other_names=[p.name for p in org_products],
                            sprayer=row.sprayer, wind_from_deg=row.wind_from_deg, strategy_params=row.strategy,
                            catalogue=catalogue_labels, unit_system=units)


def word(facts: FactSheet, *, lang: str, writer: str, llm: LLMConfig | None) -> AdviceText:
    """The advice text; may call the model, so call it with no transaction open."""
    return write_advice(facts, lang=lang, writer=writer, llm=llm)  # type: ignore[arg-type]


def store(session: Session, prescription_id: int, lang: str, text: AdviceText, facts: FactSheet) -> Advice:
    """Store advice, replacing older advice of the prescription in that language (flushes only)."""
    content = text.as_dict()
    content["facts"] = facts.as_dict()
    existing = repo.get_advice(session, prescription_id, lang)
    if existing is not None:
        session.delete(existing)
        session.flush()
    return repo.add(session, Advice(prescription_id=prescription_id, lang=lang, writer=text.writer,
                                    model=text.model, prompt_version=text.prompt_version,
                                    check=content.get("check") or {}, content=content))


def generate(session: Session, row: Prescription, llm: LLMConfig | None, *, lang: str, writer: str,
             forecast: Forecast | None, units: str | None = None) -> Advice:
    """Facts, words and store in one go (for callers without a slow model or a shared database)."""
    facts = fact_sheet(session, row, forecast=forecast, units=units)
    return store(session, row.id, lang, word(facts, lang=lang, writer=writer, llm=llm), facts)
