"""The service hands the dosing core the catalogue's sourced parameters and resistance floors."""

from __future__ import annotations

from pathlib import Path

from app.domain.label import LabelDoc
from app.domain.prescription import StrategyIn
from app.pipeline import to_core_strategy

LABELS = Path(__file__).resolve().parents[2] / "data" / "labels"


def _atlantis() -> LabelDoc:
    return LabelDoc.model_validate_json((LABELS / "atlantis-od-gb.json").read_text())


def test_atlantis_on_black_grass_in_winter_wheat_gets_full_rate_floor_and_sourced_parameters():
    core = to_core_strategy(StrategyIn(name="economic"), [_atlantis()], "winter_wheat")
    assert core.resistance_floors["Atlantis OD"]["ALOMY"] == 1.0      # HRAC 2 on black-grass: full rate only
    alomy = core.species_economics["ALOMY"]
    assert (alomy.cousens_i_pct, alomy.seedlings_per_seed) == (0.4, 0.022)
    assert "Rothamsted" in alomy.source and "HGCA" in alomy.source
    assert core.seasons_ahead == 3 and core.discount_rate == 0.05
    assert not core.override_resistance_floors


def test_unknown_crop_leaves_parameters_unsourced_and_override_is_explicit():
    core = to_core_strategy(StrategyIn(name="economic", override_resistance_floors=True), [_atlantis()], "maize")
    assert core.species_economics == {}
    assert core.override_resistance_floors
