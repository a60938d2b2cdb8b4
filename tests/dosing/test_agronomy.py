"""Agronomy a weed scientist can check: thresholds, dose against density, resistance floors.

Parameters come from data/species.json (each with its source); the label
curve is the Atlantis OD sample label's black-grass curve (data/labels).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from dosing_helpers import make_grid, make_masks
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.dosing.economics import SpeciesEconomics, single_season_threshold_plants_m2
from app.dosing.label import ProductLabel
from app.dosing.prescribe import STRATEGIES, Strategy, prescribe
from app.dosing.response import DoseResponse
from app.species import resistance_floors, species_economics

CATALOGUE = json.loads((Path(__file__).resolve().parents[2] / "data" / "species.json").read_text())
# Rothamsted's price assumptions (catalogue): 7.5 t/ha wheat at 70 GBP/t, 6 GBP/ha application.
YIELD_T_HA, PRICE_PER_T, APPLICATION_PER_HA = 7.5, 70.0, 6.0
# Stated tolerance of the known-answer test: the thresholds are field averages over
# three seasons, the parameters come from other studies; +-30 % of the autumn value.
TOLERANCE = 0.30

ATLANTIS = ProductLabel(
    "Atlantis OD", "L/ha", 0.6, 1.2, max_season_rate=1.2, price_per_unit=30.0,
    efficacy={"ALOMY": DoseResponse(model="LL.4", b=1.8, c=0.01, d=1.0, e=0.75)},
)


def _threshold(code: str) -> float:
    wheat = CATALOGUE[code]["yield_loss"]["wheat"]
    roth = CATALOGUE[code]["rothamsted_threshold_plants_m2"]
    return single_season_threshold_plants_m2(
        SpeciesEconomics(wheat["cousens_i_pct"], wheat["cousens_a_pct"]),
        crop_value_per_ha=YIELD_T_HA * PRICE_PER_T,
        control_cost_per_ha=APPLICATION_PER_HA + roth["herbicide_cost_per_ha"], control=roth["control_fraction"])


@pytest.mark.parametrize("code", ["ALOMY", "STEME"])
def test_single_season_threshold_matches_rothamsted(code):
    expected = CATALOGUE[code]["rothamsted_threshold_plants_m2"]["autumn"]
    got = _threshold(code)
    print(f"{code}: threshold {got:.1f} plants/m2 vs Rothamsted autumn {expected}")
    assert abs(got - expected) <= TOLERANCE * expected


@pytest.mark.xfail(strict=True, reason=(
    "Known disagreement between sources: with I = 2.8 %/plant (Crop Protect: 2 plants/m2 give 5 % loss, "
    "IACR competitive index 3) the cleavers threshold is ~2 plants/m2, not Rothamsted 1998's 9; IACR's "
    "Cussans (2002) himself says thresholds for the most competitive weeds approach the detection limit"))
def test_cleavers_threshold_matches_rothamsted():
    assert abs(_threshold("GALAP") - 9) <= TOLERANCE * 9


def test_wild_oat_has_sourced_parameters_but_no_rothamsted_threshold():
    # The 1998 study covered black-grass, cleavers and chickweed only: there is nothing to compare with.
    assert "rothamsted_threshold_plants_m2" not in CATALOGUE["AVEFA"]
    assert species_economics("winter_wheat")["AVEFA"].cousens_i_pct == 1.0


def test_economic_kernel_sprays_from_the_formula_threshold():
    """On a density gradient, the single-season economic dose switches on at the formula's threshold."""
    p = SpeciesEconomics(0.4, 50.0, source="test")
    label = ProductLabel("H", "L/ha", 1.0, 1.0, price_per_unit=20.0,
                         efficacy={"ALOMY": DoseResponse(model="LL.4", b=2.0, c=0.0, d=1.0, e=1.0 / 19 ** 0.5)})
    control = 1.0 - float(label.efficacy["ALOMY"].survival(1.0))          # 0.95
    expected = single_season_threshold_plants_m2(p, crop_value_per_ha=525.0, control_cost_per_ha=26.0,
                                                 control=control)
    dens = np.linspace(0.0, 40.0, 401, dtype=np.float32)[None, :]
    rx = prescribe({"ALOMY": dens}, make_grid(1, dens.size), make_masks(np.ones(dens.shape, bool)), [label],
                   Strategy(name="economic", crop_price_per_t=70.0, expected_yield_t_ha=7.5,
                            application_cost_per_ha=6.0, seasons_ahead=0, species_economics={"ALOMY": p}))
    first = float(dens[0][np.argmax(rx.rates[0][0] > 0)])
    assert abs(first - expected) <= 0.1 + 1e-3 * expected


def _gradient(strategy: Strategy, density: np.ndarray) -> np.ndarray:
    grid = make_grid(1, density.size)
    rx = prescribe({"ALOMY": density[None, :].astype(np.float32)}, grid,
                   make_masks(np.ones((1, density.size), bool)), [ATLANTIS], strategy)
    return rx.rates[0][0]


def test_gradient_field_dose_by_density_per_strategy(capsys):
    """The issue's gradient field: Atlantis on black-grass in winter wheat, each strategy's dose by density."""
    density = np.array([0, 1, 2, 5, 10, 20, 50, 100, 200, 400], dtype=np.float32)
    econ = species_economics("winter_wheat")
    floors = resistance_floors([("Atlantis OD", "2")])
    common = {"crop_price_per_t": PRICE_PER_T, "expected_yield_t_ha": YIELD_T_HA,
              "application_cost_per_ha": APPLICATION_PER_HA, "species_economics": econ}
    rows = {}
    for name in STRATEGIES:
        rows[name] = _gradient(Strategy(name=name, resistance_floors=floors, **common), density)
    rows["economic, 1 season"] = _gradient(Strategy(name="economic", seasons_ahead=0, resistance_floors=floors,
                                                    **common), density)
    rows["economic, no floor"] = _gradient(Strategy(name="economic", resistance_floors=floors,
                                                    override_resistance_floors=True, **common), density)
    with capsys.disabled():
        print("\nAtlantis OD (L/ha) on black-grass, winter wheat, by density (plants/m2)")
        print(f"{'strategy':>20} " + " ".join(f"{d:>5g}" for d in density))
        for name, rates in rows.items():
            print(f"{name:>20} " + " ".join(f"{r:5.2f}" for r in rates))
    econ_rates = rows["economic"]
    assert np.all(np.diff(econ_rates) >= 0), "denser must never get less"
    # ~70 % control at the label maximum (a partly ALS-resistant population): above ~10 plants/m2 the
    # seeds the survivors return pay for the full (floor) rate; this season alone needs ~50 plants/m2.
    assert np.all(econ_rates[density >= 10] == pytest.approx(1.2, rel=1e-6))
    assert np.all(econ_rates[density <= 2] == 0)
    assert np.all(rows["economic, 1 season"][density >= 50] == pytest.approx(1.2, rel=1e-6))
    assert np.all(np.diff(rows["economic, no floor"]) >= 0)
    assert rows["economic, no floor"][-1] > 0, "the densest patch is sprayed even without the floor"


SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@given(code=st.sampled_from(["ALOMY", "GALAP", "STEME", "AVEFA"]), b=st.floats(0.8, 4.0),
       e=st.floats(0.05, 1.5), c=st.floats(0.0, 0.3), price=st.floats(0.0, 80.0),
       seasons=st.integers(0, 5), crop_price=st.floats(50.0, 400.0), top=st.floats(1.0, 1000.0))
@SETTINGS
def test_economic_dose_never_falls_with_density(code, b, e, c, price, seasons, crop_price, top):
    """Multi-season objective, catalogue parameters: a denser cell never gets a lower dose."""
    label = ProductLabel("H", "L/ha", 0.25, 1.0, price_per_unit=price,
                         efficacy={code: DoseResponse(model="LL.4", b=b, c=c, d=1.0, e=e)})
    density = np.linspace(0.0, top, 64, dtype=np.float32)
    grid = make_grid(1, density.size)
    rx = prescribe({code: density[None, :]}, grid, make_masks(np.ones((1, density.size), bool)), [label],
                   Strategy(name="economic", crop_price_per_t=crop_price, seasons_ahead=seasons,
                            application_cost_per_ha=6.0, species_economics=species_economics("winter_wheat")))
    assert np.all(np.diff(rx.rates[0][0]) >= 0)


@given(seed=st.integers(0, 2**32 - 1), frac=st.floats(0.3, 1.0), name=st.sampled_from(["target_efficacy", "economic"]),
       e=st.floats(0.05, 1.0))
@SETTINGS
def test_resistance_floors_are_never_undercut(seed, frac, name, e):
    rng = np.random.default_rng(seed)
    dens = {s: np.where(rng.random((6, 7)) < 0.5, rng.gamma(1.0, 10.0, (6, 7)), 0.0).astype(np.float32)
            for s in ("ALOMY", "STEME")}
    label = ProductLabel("H", "L/ha", 0.2, 2.0, price_per_unit=10.0,
                         efficacy={s: DoseResponse(model="LL.4", b=2.0, c=0.0, d=1.0, e=e) for s in dens})
    masks = make_masks(rng.random((6, 7)) < 0.9)
    strategy = Strategy(name=name, resistance_floors={"H": {"ALOMY": frac}})
    rx = prescribe(dens, make_grid(6, 7), masks, [label], strategy)
    sprayed = np.nan_to_num(rx.rates[0]) > 0
    hit = sprayed & (dens["ALOMY"] > 0)
    assert np.all(rx.rates[0][hit] >= np.float32(frac * 2.0) * (1 - 1e-6))
    assert rx.summary.resistance_floor_pct == [pytest.approx(100 * frac), None]
    assert any(c["check"] == "resistance_floor" and c["outcome"] == "pass" for c in rx.compliance)
    # and an explicit override is the only way under them, and it is reported
    low = prescribe(dens, make_grid(6, 7), masks, [label],
                    Strategy(name=name, resistance_floors={"H": {"ALOMY": frac}}, override_resistance_floors=True))
    assert low.summary.resistance_floors_overridden
    assert any("OVERRIDDEN" in str(c["detail"]) for c in low.compliance)
