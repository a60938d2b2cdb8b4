"""Known answers of the built-in writer for the three sample fields, in English and French.

Each sample goes through the real pipeline (masks, dosing, summary) with its
label; the rate and buffer lines are checked against the label's own numbers,
the totals against the prescription's summary, worded per language.
"""

from __future__ import annotations

import pytest

from app.advice import build_fact_sheet, check_answer
from app.advice.builtin import builtin_parts
from app.domain.field import FieldCreate
from app.domain.label import LabelDoc
from app.domain.prescription import StrategyIn
from app.domain.weed_map import WeedMapCreate
from app.pipeline import run_documents
from app.species import DATA_DIR

SAMPLES = {
    "fr-ru-de-vaux": "callisto-fr.json",
    "us-ia-story-county": "enlist-one.json",
    "uk-blackgrass-wheat": "atlantis-od-gb.json",
}


def _facts(slug: str):  # type: ignore[no-untyped-def]
    folder = DATA_DIR / "sample_fields" / slug
    field = FieldCreate.model_validate_json((folder / "field.json").read_text())
    wm = WeedMapCreate.model_validate_json((folder / "weed_map.json").read_text())
    label = LabelDoc.model_validate_json((DATA_DIR / "labels" / SAMPLES[slug]).read_text())
    _geometry, core, _no_spray = run_documents(field, wm, [label], StrategyIn(name="threshold", threshold_plants_m2=2))
    return build_fact_sheet(field=field, labels=[label], summary=core.summary.as_dict(), strategy="threshold"), \
        label, core.summary


@pytest.fixture(scope="module", params=list(SAMPLES))
def sample(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    return request.param, *_facts(request.param)


EXPECTED = {
    ("fr-ru-de-vaux", "en"): ["1.5 L/ha on the treated area (label maximum 1.5 L/ha)", "5 m"],
    ("fr-ru-de-vaux", "fr"): ["1,5 L/ha sur la zone traitée (maximum autorisé 1,5 L/ha)", "5 m"],
    ("us-ia-story-county", "en"): ["2 pt/acre", "(label maximum 2 pt/acre)", "30 ft"],
    ("us-ia-story-county", "fr"): ["2 pt/acre", "30 ft"],
    ("uk-blackgrass-wheat", "en"): ["1.2 L/ha on the treated area (label maximum 1.2 L/ha)", "5 m"],
    ("uk-blackgrass-wheat", "fr"): ["1,2 L/ha sur la zone traitée (maximum autorisé 1,2 L/ha)", "5 m"],
}


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_builtin_advice_for_sample_fields(sample, lang: str) -> None:  # type: ignore[no-untyped-def]
    slug, facts, label, summary = sample
    parts = builtin_parts(facts, lang)
    text = "\n".join([parts.summary, *parts.steps, *(t for _c, t in parts.warnings)])
    for expected in EXPECTED[(slug, lang)]:
        assert expected in text, (slug, lang, expected)
    assert label.name in parts.steps[0]
    # the treated share, from the dosing summary, in the language's number format
    share = 100 * summary.treated_area_ha / summary.field_area_ha
    shown = f"{share:.0f}"
    assert (f"({shown}%)" if lang == "en" else f"({shown}\u202f%)") in parts.summary
    codes = {c for c, _t in parts.warnings}
    assert {"buffers", "weather"} <= codes
    assert check_answer(parts, facts, lang).ok  # the built-in text passes the grounding check itself
