"""Fixtures for the advice tests: example facts and a fake OpenAI-compatible server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from advice_helpers import CEST, FakeChatServer, hourly

from app.advice import Forecast, build_fact_sheet
from app.advice.examples import dicamba_us, example_inputs, glyphosate_us, mesotrione_fr
from app.domain.units import to_canonical_rate

FL_OZ_ACRE = to_canonical_rate(1.0, "fl oz/acre")  # L/ha


@pytest.fixture(scope="session")
def chat_server() -> Iterator[FakeChatServer]:
    with FakeChatServer() as server:
        yield server


FR_FIELD = {"name": "Les Prés du Ru", "crop": "maize", "growth_stage_bbch": 14, "country": "FR"}
FR_SUMMARY = {"field_area_ha": 12.5, "sprayable_area_ha": 12.0, "treated_area_ha": 3.2,
              "product_total": [4.8], "broadcast_total": [18.0], "saving_pct": [73.3],
              "control_pct": {"CHEAL": 96.0}, "tank_loads": 2}
FR_SPECIES = {"CHEAL": {"en": "fat hen", "fr": "chénopode blanc"},
              "AMARE": {"en": "redroot pigweed", "fr": "amarante réfléchie"}}


@pytest.fixture
def fr_facts():
    """Maize in France, one metric product, a day of forecast with a morning window."""
    t0 = datetime(2024, 6, 4, 0, tzinfo=CEST)
    wind = lambda i: 2.0 if i < 8 else 10.0 if i < 15 else 25.0  # noqa: E731
    fc = Forecast(lat=48.5, lon=2.1, hours=hourly(t0, 24, wind_kmh=wind, cloud_pct=10.0))
    return build_fact_sheet(field=FR_FIELD, labels=[mesotrione_fr()], summary=FR_SUMMARY,
                            strategy="threshold",
                            species_names=FR_SPECIES, forecast=fc, now=t0)


@pytest.fixture
def us_facts():
    """Soybean in Iowa: glyphosate + dicamba (downwind buffer), a forecast with an afternoon window."""
    t0 = datetime(2024, 6, 4, 5, tzinfo=UTC)  # midnight CDT
    inputs = example_inputs()
    treated = inputs["summary"]["treated_area_ha"]
    summary = {**inputs["summary"],
               "product_total": [treated * 32 * FL_OZ_ACRE, treated * 12.8 * FL_OZ_ACRE],
               "broadcast_total": [15.5 * 32 * FL_OZ_ACRE, 15.5 * 12.8 * FL_OZ_ACRE], "saving_pct": [74.2, 74.2]}
    fc = Forecast(lat=41.6, lon=-93.6, hours=hourly(t0, 24))
    return build_fact_sheet(**{**inputs, "labels": [glyphosate_us(), dicamba_us()], "summary": summary,
                               "forecast": fc, "now": t0})
