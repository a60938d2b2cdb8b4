"""Small example inputs for docs, doctests and tests: not label facts to rely on.

The US products follow DOMAIN.md section 4 (glyphosate 32 fl oz/acre, rainfast
0.5 h; dicamba 240 ft downwind buffer, wind 3–10 mph, sunrise to sunset). The
French product is made up for the example.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.domain.label import LabelDoc
from app.domain.units import to_canonical_rate

_FL_OZ_ACRE = to_canonical_rate(1.0, "fl oz/acre")  # L/ha

MPH_KMH = 1.609344


def glyphosate_us() -> LabelDoc:
    return LabelDoc.model_validate({
        "name": "Roundup PowerMAX", "registration": "EPA Reg. No. 524-549", "country": "US",
        "formulation": "liquid",
        "active_ingredients": [{"name": "glyphosate", "concentration": 540, "concentration_unit": "g/L"}],
        "hrac_group": "9", "wssa_group": 9, "rate_unit": "fl oz/acre", "min_rate": 22, "max_rate": 32,
        "weather": {"rain_free_h": 0.5, "wind_max_kmh": 10 * MPH_KMH},
        "rei_h": 4, "phi_days": 14, "crops": [{"crop": "soybean"}],
        "price": {"amount": 6.5, "currency": "USD", "per": "L"},
    })


def dicamba_us() -> LabelDoc:
    return LabelDoc.model_validate({
        "name": "Engenia", "country": "US", "formulation": "liquid",
        "active_ingredients": [{"name": "dicamba", "concentration": 600, "concentration_unit": "g/L"}],
        "hrac_group": "4", "wssa_group": 4, "rate_unit": "fl oz/acre", "min_rate": 12.8, "max_rate": 12.8,
        "downwind_buffer": {"distance": 240, "unit": "ft"},
        "weather": {"wind_min_kmh": 3 * MPH_KMH, "wind_max_kmh": 10 * MPH_KMH, "rain_free_h": 4,
                    "no_inversion": True, "daylight_only": True},
        "rei_h": 24, "crops": [{"crop": "soybean", "max_bbch": 60}],
        "price": {"amount": 30.0, "currency": "USD", "per": "L"},
    })


def mesotrione_fr() -> LabelDoc:
    return LabelDoc.model_validate({
        "name": "Mesotrix 100", "country": "FR", "formulation": "liquid",
        "active_ingredients": [{"name": "mésotrione", "concentration": 100, "concentration_unit": "g/L"}],
        "hrac_group": "27", "wssa_group": 27, "rate_unit": "L/ha", "min_rate": 0.5, "max_rate": 1.5,
        "buffers": [{"kind": "water", "distance": 5, "unit": "m"}],
        "weather": {"wind_max_kmh": 19, "rain_free_h": 1, "temp_max_c": 25},
        "rei_h": 6, "phi_days": 3, "crops": [{"crop": "maize", "max_bbch": 18}],
        "price": {"amount": 40.0, "currency": "EUR", "per": "L"},
    })


def example_inputs() -> dict[str, Any]:
    """Keyword arguments for ``build_fact_sheet``: a US soybean field, glyphosate alone."""
    return {
        "field": {"name": "North 40", "crop": "soybean", "growth_stage_bbch": 14, "country": "US"},
        "labels": [glyphosate_us()],
        "summary": {"field_area_ha": 16.0, "sprayable_area_ha": 15.5, "treated_area_ha": 4.0,
                    "product_total": [4.0 * 32 * _FL_OZ_ACRE], "broadcast_total": [15.5 * 32 * _FL_OZ_ACRE],
                    "saving_pct": [100 * (1 - 4.0 / 15.5)]},
        "strategy": "threshold",
        "species_names": {"AMAPA": "Palmer amaranth"},
        "now": datetime(2024, 6, 4, 6, tzinfo=UTC),
    }
