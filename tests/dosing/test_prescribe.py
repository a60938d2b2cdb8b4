"""Known answers of each strategy and label constraint on tiny grids."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from dosing_helpers import make_grid, make_masks

from app.dosing.errors import DosingError
from app.dosing.label import ProductLabel
from app.dosing.masks import SensitiveFeature, build_masks, downwind_zone
from app.dosing.prescribe import Strategy, prescribe
from app.dosing.response import DoseResponse
from app.dosing.sprayer import SprayerProfile

LL = DoseResponse(model="LL.4", b=2.0, c=0.0, d=1.0, e=1.0)       # ED50 1, ED90 3
LL_HARD = DoseResponse(model="LL.4", b=2.0, c=0.0, d=1.0, e=2.0)  # ED50 2, ED90 6


def label(**kw) -> ProductLabel:
    base = {"name": "A", "canonical_unit": "L/ha", "min_rate": 0.5, "max_rate": 8.0,
            "efficacy": {"SINAR": LL, "GALAP": LL_HARD}}
    base.update(kw)
    return ProductLabel(**base)


def one_cell(value: float, rows: int = 3, cols: int = 3) -> dict[str, np.ndarray]:
    d = np.zeros((rows, cols), np.float32)
    d[1, 1] = value
    return {"SINAR": d}


def test_broadcast_sprays_label_max_on_sprayable_cells_only():
    g = make_grid(3, 3)
    inf = np.ones((3, 3), bool)
    inf[0, 0] = False
    spr = inf.copy()
    spr[2, 2] = False
    p = prescribe(one_cell(0.0), g, make_masks(inf, spr), [label()], Strategy(name="broadcast"))
    r = p.rates[0]
    assert r.dtype == np.float32 and r.shape == (3, 3)
    assert math.isnan(r[0, 0])
    assert r[2, 2] == 0.0
    assert np.count_nonzero(r == 8.0) == 7
    assert p.summary.saving_pct == [0.0]
    assert p.summary.product_total[0] == pytest.approx(7 * 8.0 * 1e-4)


def test_threshold_sprays_chosen_rate_at_or_above_threshold():
    g = make_grid(1, 3)
    d = {"SINAR": np.array([[0.5, 1.0, 3.0]], np.float32)}
    p = prescribe(d, g, make_masks(np.ones((1, 3))), [label()],
                  Strategy(name="threshold", rates=(2.0,), threshold_plants_m2=1.0))
    assert p.rates[0].tolist() == [[0.0, 2.0, 2.0]]
    assert p.summary.treated_area_ha == pytest.approx(2e-4)


def test_target_efficacy_constant_control_gives_ed90():
    p = prescribe(one_cell(4.0), make_grid(3, 3), make_masks(np.ones((3, 3))), [label()],
                  Strategy(name="target_efficacy", control_target=0.9, control_min=0.9))
    assert p.rates[0, 1, 1] == pytest.approx(3.0, rel=1e-5)
    assert np.count_nonzero(p.rates[0]) == 1
    assert p.summary.control_pct[0] == pytest.approx(90.0, abs=0.01)
    assert p.summary.weeds_surviving[0] == pytest.approx(0.4, rel=1e-3)   # 4 plants/m² on 1 m², 10 % live


def test_target_efficacy_control_rises_with_density():
    # N = 10 = h: control 0.9 - 0.4 * 0.5 = 0.7, ED70 = (0.7 / 0.3) ** 0.5
    p = prescribe(one_cell(10.0), make_grid(3, 3), make_masks(np.ones((3, 3))), [label()],
                  Strategy(name="target_efficacy", control_target=0.9, control_min=0.5,
                           control_half_density_plants_m2=10.0))
    assert p.rates[0, 1, 1] == pytest.approx((0.7 / 0.3) ** 0.5, rel=1e-5)


def test_target_efficacy_doses_for_the_hardest_species():
    d = {"SINAR": np.full((1, 2), 5.0, np.float32), "GALAP": np.array([[0.0, 5.0]], np.float32)}
    p = prescribe(d, make_grid(1, 2), make_masks(np.ones((1, 2))), [label()],
                  Strategy(name="target_efficacy", control_target=0.9, control_min=0.9))
    assert p.rates[0, 0].tolist() == pytest.approx([3.0, 6.0], rel=1e-5)


def test_target_efficacy_species_without_curve_is_named():
    d = {"SINAR": np.ones((2, 2), np.float32), "CHEAL": np.ones((2, 2), np.float32)}
    with pytest.raises(DosingError, match="CHEAL"):
        prescribe(d, make_grid(2, 2), make_masks(np.ones((2, 2))), [label()],
                  Strategy(name="target_efficacy"))


def test_target_beyond_label_is_capped_and_reported():
    p = prescribe(one_cell(5.0), make_grid(3, 3), make_masks(np.ones((3, 3))), [label(max_rate=2.0)],
                  Strategy(name="target_efficacy", control_target=0.9, control_min=0.9))
    assert p.rates[0, 1, 1] == 2.0
    assert p.summary.cells_target_unreached == 1
    assert any(c["check"] == "control_target" for c in p.compliance)


def test_tank_mix_by_concentration_addition():
    a = label(name="A", efficacy={"SINAR": LL})
    b = label(name="B", canonical_unit="kg/ha", efficacy={"SINAR": LL_HARD})
    p = prescribe(one_cell(5.0), make_grid(3, 3), make_masks(np.ones((3, 3))), [a, b],
                  Strategy(name="target_efficacy", rates=(1.0, 1.0), control_target=0.5, control_min=0.5,
                           min_rate_rule="skip"))
    # 1 / ED50(mix) = 1/1 + 1/2 per unit of scale: scale 2/3, below the 0.5 minimum? no: 0.667 >= 0.5
    assert p.rates[:, 1, 1] == pytest.approx([2 / 3, 2 / 3], rel=1e-5)
    assert p.summary.control_pct[0] == pytest.approx(50.0, abs=0.05)


def test_mix_keeps_each_product_in_its_own_label():
    a = label(name="A", min_rate=0.5, max_rate=8.0)
    b = label(name="B", min_rate=0.2, max_rate=1.0)
    p = prescribe(one_cell(50.0), make_grid(3, 3), make_masks(np.ones((3, 3))), [a, b],
                  Strategy(name="target_efficacy", rates=(4.0, 1.0)))
    assert p.rates[1, 1, 1] <= 1.0 and p.rates[0, 1, 1] <= 4.0
    with pytest.raises(DosingError, match="no dose of this tank mix"):
        prescribe(one_cell(5.0), make_grid(3, 3), make_masks(np.ones((3, 3))),
                  [label(name="A", min_rate=7.0), label(name="B", max_rate=1.0, min_rate=0.1,
                                                        max_season_rate=1.2)],
                  Strategy(name="target_efficacy"), season_used={"B": 0.8})


def test_min_rate_rule_raise_or_skip():
    # control 0.1 needs ED10 = (1/9) ** 0.5 = 0.333 < 0.5 minimum
    s = {"name": "target_efficacy", "control_target": 0.1, "control_min": 0.1}
    up = prescribe(one_cell(1.0), make_grid(3, 3), make_masks(np.ones((3, 3))), [label()],
                   Strategy(**s, min_rate_rule="raise_to_min"))
    skip = prescribe(one_cell(1.0), make_grid(3, 3), make_masks(np.ones((3, 3))), [label()],
                     Strategy(**s, min_rate_rule="skip"))
    assert up.rates[0, 1, 1] == 0.5 and up.summary.cells_raised_to_min == 1
    assert skip.rates[0, 1, 1] == 0.0 and skip.summary.cells_skipped_below_min == 1
    assert skip.summary.min_rate_rule == "skip"


def test_economic_matches_brute_force_over_candidates():
    price, value = 30.0, 200.0 * 7.5
    lab = label(max_rate=4.0, price_per_unit=price)
    dens = np.array([[0.0, 0.2, 1.0, 5.0, 40.0]], np.float32)
    st = Strategy(name="economic", economic_candidates=9)
    p = prescribe({"SINAR": dens}, make_grid(1, 5), make_masks(np.ones((1, 5))), [lab], st)

    def cost(dose: float, n: float) -> float:
        live = n * float(LL.survival(dose)) if dose > 0 else n
        i, a = st.cousens_i_pct_per_plant_m2, st.cousens_a_pct
        yl = i * live / (1 + i * live / a)
        return price * dose + value * yl / 100

    cands = [0.0, *np.linspace(0.5, 4.0, 9)]
    want = [min(cands, key=lambda d, n=n: cost(d, n)) for n in dens[0]]
    assert p.rates[0, 0].tolist() == pytest.approx(want, rel=1e-5)
    assert want[0] == 0.0 and want[-1] > 0


def test_economic_free_product_doses_the_maximum_where_weeds_are():
    lab = label(max_rate=4.0, price_per_unit=0.0)
    p = prescribe(one_cell(2.0), make_grid(3, 3), make_masks(np.ones((3, 3))), [lab],
                  Strategy(name="economic"))
    assert p.rates[0, 1, 1] == 4.0 and np.count_nonzero(p.rates[0]) == 1


def test_season_remainder_caps_and_exhausted_season_fails():
    lab = label(max_rate=2.0, max_season_rate=3.0)
    p = prescribe(one_cell(1.0), make_grid(3, 3), make_masks(np.ones((3, 3))), [lab],
                  Strategy(name="broadcast"), season_used={"A": 2.0})
    assert np.all(p.rates[0] == 1.0)
    with pytest.raises(DosingError, match="season"):
        prescribe(one_cell(1.0), make_grid(3, 3), make_masks(np.ones((3, 3))), [lab],
                  Strategy(name="broadcast"), season_used={"A": 2.8})
    with pytest.raises(DosingError, match="outside the label range"):
        prescribe(one_cell(1.0), make_grid(3, 3), make_masks(np.ones((3, 3))), [lab],
                  Strategy(name="broadcast", rates=(2.0,)), season_used={"A": 2.0})


def test_crop_and_growth_stage_restrictions():
    lab = label(crops={"maize": 16})
    args = (one_cell(1.0), make_grid(3, 3), make_masks(np.ones((3, 3))), [lab], Strategy())
    with pytest.raises(DosingError, match="BBCH 16"):
        prescribe(*args, crop="maize", growth_stage_bbch=18)
    with pytest.raises(DosingError, match="not labelled for crop 'wheat'"):
        prescribe(*args, crop="wheat", growth_stage_bbch=12)
    ok = prescribe(*args, crop="maize", growth_stage_bbch=14)
    assert {"check": "crop_stage", "outcome": "pass", "detail": "A: maize at BBCH 14 <= 16"} in ok.compliance


def test_masks_built_without_a_products_buffer_are_refused():
    g = make_grid(10, 10)
    field = shapely.box(0.2, 0.2, 9.8, 9.8)
    feats = [SensitiveFeature("water", shapely.Point(5, 5))]
    lab = label(buffers_m={"water": 2.0})
    masks = build_masks(g, field, feats, [label()])
    with pytest.raises(DosingError, match="2 m buffer around water"):
        prescribe(one_cell(1.0, 10, 10), g, masks, [lab], Strategy(name="broadcast"))
    good = build_masks(g, field, feats, [lab])
    p = prescribe(one_cell(1.0, 10, 10), g, good, [lab], Strategy(name="broadcast"))
    assert p.rates[0, 5, 5] == 0.0 and p.rates[0, 4, 4] == 0.0   # within 2 m of the point
    assert all(c["outcome"] != "fail" for c in p.compliance)


def test_downwind_zone_sweeps_edges_upwind():
    field = shapely.box(0, 0, 100, 50)
    assert downwind_zone(field, 10, 270).area == pytest.approx(500)    # from the west: east strip
    assert downwind_zone(field, 10, 0).area == pytest.approx(1000)     # from the north: south strip
    u = shapely.Polygon([(0, 0), (30, 0), (30, 30), (20, 30), (20, 10), (10, 10), (10, 30), (0, 30)])
    zone = downwind_zone(u, 5, 270)
    # east edges of both arms and the notch's west-facing edge (x=10 side of the notch)
    assert zone.area == pytest.approx(5 * 30 + 5 * 20)


def test_downwind_buffer_without_masks_record_is_refused():
    g = make_grid(10, 10)
    lab = label(downwind_buffer_m=3.0)
    masks = build_masks(g, shapely.box(0.2, 0.2, 9.8, 9.8), [], [label()])
    with pytest.raises(DosingError, match="downwind"):
        prescribe(one_cell(1.0, 10, 10), g, masks, [lab], Strategy(name="broadcast"))


def test_sprayer_blocks_buffer_levels_and_masking():
    g = make_grid(8, 8, cell_m=0.25)
    spr = np.ones((8, 8), bool)
    spr[:, 6:] = False                       # a buffer strip on the east
    d = np.zeros((8, 8), np.float32)
    d[3, 5] = 5.0                            # a weed next to the buffer
    sp = SprayerProfile(boom_width_m=2.0, section_width_m=0.5, along_track_m=0.5, patch_buffer_m=0.5,
                        rate_levels=(1.0, 4.0), turndown_ratio=100.0)
    p = prescribe({"SINAR": d}, g, make_masks(np.ones((8, 8)), spr), [label()],
                  Strategy(name="target_efficacy", control_target=0.9, control_min=0.9), sp)
    r = p.rates[0]
    # ED90 = 3 snaps up to 4; 2x2-cell blocks; one block of buffer each way; east strip never sprayed
    assert set(np.unique(r).tolist()) == {0.0, 4.0}
    assert np.all(r[:, 6:] == 0.0)
    assert r[0:6, 2:6].min() == 4.0 and r[6:, :].max() == 0.0 and r[:, :2].max() == 0.0


def test_rate_levels_cap_at_highest_legal_level():
    sp = SprayerProfile(section_width_m=1.0, along_track_m=1.0, patch_buffer_m=0.0,
                        rate_levels=(1.0, 2.0, 9.0))
    p = prescribe(one_cell(5.0), make_grid(3, 3), make_masks(np.ones((3, 3))), [label()],
                  Strategy(name="target_efficacy", control_target=0.9, control_min=0.9, rates=(2.0,)), sp)
    # need 3 L/ha; 9 is above the 8 label max, so the cell gets 2 and the cap is reported
    assert p.rates[0, 1, 1] == 2.0
    assert any(c["check"] == "rate_levels" and c["outcome"] == "info" for c in p.compliance)
    with pytest.raises(DosingError, match="no rate level"):
        prescribe(one_cell(5.0), make_grid(3, 3), make_masks(np.ones((3, 3))), [label()], Strategy(),
                  SprayerProfile(rate_levels=(0.1, 9.0)))


def test_turndown_raises_low_sections_on_the_same_boom():
    d = np.zeros((1, 4), np.float32)
    d[0, 0], d[0, 3] = 50.0, 0.01
    sp = SprayerProfile(boom_width_m=4.0, section_width_m=1.0, along_track_m=1.0, patch_buffer_m=0.0,
                        turndown_ratio=2.0)
    p = prescribe({"SINAR": d}, make_grid(1, 4), make_masks(np.ones((1, 4))), [label(min_rate=0.1)],
                  Strategy(name="target_efficacy", control_target=0.9, control_min=0.2), sp)
    hi, lo = p.rates[0, 0, 0], p.rates[0, 0, 3]
    assert lo == pytest.approx(hi / 2, rel=1e-5)
    assert p.rates[0, 0, 1] == 0.0


def test_min_patch_stretches_small_patches_along_track():
    d = np.zeros((9, 3), np.float32)
    d[4, 1] = 5.0
    sp = SprayerProfile(section_width_m=1.0, along_track_m=1.0, patch_buffer_m=0.0, min_patch_m2=3.0)
    p = prescribe({"SINAR": d}, make_grid(9, 3), make_masks(np.ones((9, 3))), [label()],
                  Strategy(name="threshold"), sp)
    assert np.flatnonzero(p.rates[0, :, 1]).tolist() == [3, 4, 5]


def test_summary_tank_loads_and_yield_loss():
    g = make_grid(10, 10, cell_m=10.0)        # 1 ha
    d = np.full((10, 10), 2.0, np.float32)
    sp = SprayerProfile(section_width_m=10.0, along_track_m=10.0, patch_buffer_m=0.0,
                        tank_l=60.0, carrier_l_ha=150.0)
    st = Strategy(name="broadcast")
    p = prescribe({"SINAR": d}, g, make_masks(np.ones((10, 10))), [label(price_per_unit=10.0)], st, sp)
    s = p.summary
    assert s.treated_area_ha == pytest.approx(1.0)
    assert s.spray_volume_l == pytest.approx(150.0) and s.tank_loads == 3
    i, a = st.cousens_i_pct_per_plant_m2, st.cousens_a_pct
    assert s.yield_loss_untreated_pct == pytest.approx(i * 2 / (1 + i * 2 / a), rel=1e-5)
    live = 2 * float(LL.survival(8.0))
    assert s.yield_loss_pct == pytest.approx(i * live / (1 + i * live / a), rel=1e-3)
    assert s.herbicide_cost == pytest.approx(80.0)
    assert s.weeds_untreated[0] == pytest.approx(20000.0)
    d_json = s.as_dict()
    assert isinstance(d_json["control_pct"], list) and isinstance(d_json["tank_loads"], int)


def test_invalid_options_list_valid_ones():
    with pytest.raises(DosingError, match="valid rules: raise_to_min, skip"):
        Strategy(min_rate_rule="round")
    with pytest.raises(DosingError, match="shape"):
        prescribe({"SINAR": np.zeros((2, 2))}, make_grid(3, 3), make_masks(np.ones((3, 3))), [label()],
                  Strategy())


@pytest.mark.parametrize("rate", [0.935424, 0.1, 2.3386, 1.1692])
@pytest.mark.parametrize("strategy", ["broadcast", "threshold", "target_efficacy", "economic"])
def test_single_rate_label_never_exceeds_its_maximum(rate: float, strategy: str) -> None:
    """min == max, a rate float32 cannot hold: the cap wins, by at most one float32 step."""
    grid = make_grid(4, 4)
    dens = {"SINAR": np.array([[0, 1, 5, 50]] * 4, np.float32)}
    lab = ProductLabel("Solo", "L/ha", rate, rate, price_per_unit=10.0,
                       efficacy={"SINAR": DoseResponse(model="LL.4", b=2.0, c=0.0, d=1.0, e=rate / 3)})
    rx = prescribe(dens, grid, make_masks(np.ones((4, 4), bool)), [lab], Strategy(name=strategy))
    sprayed = rx.rates[0][rx.rates[0] > 0]
    assert sprayed.size and float(sprayed.max()) <= rate
    assert float(sprayed.min()) >= rate * (1 - 2e-7)
    assert {c["outcome"] for c in rx.compliance if c["check"] in ("max_rate", "min_rate")} == {"pass"}
