"""A weed map covering part of the field: the field keeps its area, the rest follows a declared rule."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
import shapely

from app.domain.field import FieldCreate
from app.domain.label import LabelDoc
from app.domain.prescription import SprayerIn, StrategyIn
from app.domain.weed_map import WeedMapCreate
from app.dosing.grid import GridSpec
from app.pipeline import MAX_GRID_CELLS, CoverageRule, InputError, grid_over_field, run_documents
from tests.api.conftest import CRS, FIELD, LABEL, X0, Y0

# The 100 m x 60 m test field (0.6 ha, 1 m cells); the map covers its west 29 columns: 29 % of the field.
COVERED_COLS = 29
PATCH = (slice(20, 30), slice(10, 16))  # 10 x 6 cells of 20 plants/m², inside the covered part


def partial_map(cols: int = COVERED_COLS) -> dict[str, Any]:
    a = np.zeros((60, cols), dtype=np.float32)
    a[PATCH] = 20.0
    return {"crs": CRS, "origin": {"x": X0, "y": Y0 + 60}, "cell_size_m": 1.0, "species": {"ALOMY": a.tolist()}}


def _run(rule: CoverageRule | None, strategy: str = "threshold", cols: int = COVERED_COLS) -> Any:
    return run_documents(FieldCreate.model_validate(copy.deepcopy(FIELD)),
                         WeedMapCreate.model_validate(partial_map(cols)),
                         [LabelDoc.model_validate(LABEL)], StrategyIn(name=strategy),
                         SprayerIn(patch_buffer_m=0.0), coverage=rule)  # no patch buffer: cells are what they are


def test_29_pct_coverage_is_refused_by_default_naming_coverage_and_setting() -> None:
    with pytest.raises(InputError) as exc:
        _run(None)
    msg = str(exc.value)
    assert "covers 29.0 % of the field" in msg and "min_coverage_pct 95 %" in msg
    assert "uncovered='broadcast'" in msg and "uncovered='no_spray'" in msg
    # A fallback declared with an explicit threshold above the coverage is refused too.
    with pytest.raises(InputError, match=r"29\.0 %.*min_coverage_pct 30 %"):
        _run(CoverageRule("broadcast", 30.0))


def test_29_pct_coverage_with_broadcast_sprays_the_label_rate_on_the_uncovered_field() -> None:
    _g, rx, _ns = _run(CoverageRule("broadcast"))
    s = rx.summary
    # The field's area, not the map's (0.174 ha).
    assert rx.grid.shape == (60, 100) and rx.grid.x0_m == X0
    assert s.field_area_ha == pytest.approx(0.6, abs=0.0061)
    assert s.coverage_pct == pytest.approx(29.0, abs=0.6)
    assert s.covered_area_ha == pytest.approx(0.174, abs=0.0061)
    assert s.uncovered_area_ha == pytest.approx(0.426, abs=0.0061)
    assert (s.uncovered, s.min_coverage_pct) == ("broadcast", 0.0)
    r = rx.rates[0]
    uncovered = np.zeros(r.shape, dtype=bool)
    uncovered[:, COVERED_COLS:] = True
    sprayed_unc = uncovered & (r > 0)
    # Every uncovered interior cell gets the label maximum (2.0 L/ha); the edge ring stays unsprayed.
    assert (r[sprayed_unc] == 2.0).all()
    assert 58 * 70 <= sprayed_unc.sum() <= 60 * 71
    assert (r[1:-1, COVERED_COLS:-1] == 2.0).all()
    # In the covered part only the weed patch is sprayed.
    covered_sprayed = (r[:, :COVERED_COLS] > 0)
    assert covered_sprayed.sum() == 60 and (r[PATCH] == 2.0).all()
    # Totals include the uncovered part: 2.0 L/ha on every sprayed cell of 1 m².
    n_sprayed = int(sprayed_unc.sum()) + 60
    assert s.product_total[0] == pytest.approx(2.0 * n_sprayed / 10_000, rel=1e-6)
    assert s.treated_area_ha == pytest.approx(n_sprayed / 10_000, rel=1e-9)
    note = next(c for c in rx.compliance if c["check"] == "map_coverage")
    assert "29.0 %" in str(note["detail"]) and "reference (label) rate" in str(note["detail"])


@pytest.mark.parametrize("strategy", ["threshold", "broadcast"])
def test_29_pct_coverage_with_no_spray_leaves_the_uncovered_field_unsprayed(strategy: str) -> None:
    _g, rx, _ns = _run(CoverageRule("no_spray"), strategy)
    s = rx.summary
    r = rx.rates[0]
    assert s.field_area_ha == pytest.approx(0.6, abs=0.0061)
    assert (s.uncovered, s.coverage_pct) == ("no_spray", pytest.approx(29.0, abs=0.6))
    assert np.nanmax(r[:, COVERED_COLS:]) == 0.0  # even a broadcast strategy leaves it alone
    assert not np.isnan(r[1:-1, COVERED_COLS:-1]).any()  # in the field: 0, not "outside"
    assert s.sprayable_area_ha <= s.covered_area_ha
    n = int((r > 0).sum())
    assert s.product_total[0] == pytest.approx(2.0 * n / 10_000, rel=1e-6)
    if strategy == "threshold":
        assert n == 60
    note = next(c for c in rx.compliance if c["check"] == "map_coverage")
    assert "are not sprayed" in str(note["detail"]) and note["uncovered"] == "no_spray"


def test_a_map_covering_the_field_keeps_its_grid_and_reports_full_coverage() -> None:
    _g, rx, _ns = _run(None, cols=100)
    assert rx.grid.shape == (60, 100)
    assert (rx.summary.coverage_pct, rx.summary.uncovered_area_ha) == (100.0, 0.0)
    assert rx.summary.field_area_ha == pytest.approx(0.6, abs=0.0061)


def test_96_pct_coverage_passes_refuse_and_the_gap_is_not_sprayed() -> None:
    _g, rx, _ns = _run(None, "broadcast", cols=96)
    s = rx.summary
    assert s.coverage_pct == pytest.approx(96.0, abs=0.6) and s.uncovered == "refuse"
    assert s.min_coverage_pct == 95.0
    assert np.nanmax(rx.rates[0][:, 96:]) == 0.0


def test_grid_grows_on_its_own_lattice_and_refuses_a_huge_grid() -> None:
    g = GridSpec(CRS, 1000.0, 2000.0, 0.5, 10, 10)
    grown = grid_over_field(g, shapely.box(997.3, 1990.0, 1004.0, 2001.2))
    assert (grown.x0_m, grown.y0_m, grown.n_rows, grown.n_cols) == (997.0, 2001.5, 23, 16)
    assert grid_over_field(g, shapely.box(1000.0, 1995.0, 1005.0, 2000.0)) is g
    with pytest.raises(InputError, match="more than the 100 cells allowed"):
        grid_over_field(g, shapely.box(990, 1990, 1010, 2000), max_cells=100)
    assert MAX_GRID_CELLS >= 16_000_000  # 100 ha at 0.25 m still fits
