from __future__ import annotations

from datetime import date

import pytest
from shapely.geometry import mapping

from app.domain.units import UnitError, to_canonical_rate
from app.ingest import InvalidData, InvalidUnit, parse_as_applied
from tests.ingest.helpers import FIELD


def test_machine_shape_with_value_as_double() -> None:
    recs = parse_as_applied({"values": [{
        "product": {"name": "Liberty 280 SL"},
        "appliedRate": {"valueAsDouble": 2.5, "unit": "l1ha-1"},
        "targetRate": {"valueAsDouble": 32, "unit": "fl oz/acre"},
        "area": {"valueAsDouble": 12.5, "unit": "ha"},
        "startDate": "2024-05-02T06:30:00Z",
    }]})
    r = recs[0]
    assert (r.product, r.rate, r.rate_unit, r.canonical_unit) == ("Liberty 280 SL", 2.5, "L/ha", "L/ha")
    assert r.area_ha == 12.5
    assert r.applied_on == date(2024, 5, 2)
    assert r.target_rate == pytest.approx(to_canonical_rate(32, "fl oz/acre"))


def test_flat_shape_with_geometry_area() -> None:
    r = parse_as_applied([{"product": "Callisto", "rate": 3, "rate_unit": "fl oz/acre", "geometry": mapping(FIELD),
                           "date": "2024-06-01"}])[0]
    # 0.004° x 0.003° at 48.5° N less the pond: ~9.8 ha
    assert 9.0 < r.area_ha < 10.5
    assert r.rate_canonical == pytest.approx(to_canonical_rate(3, "fl oz/acre"))
    assert r.geometry is not None and r.geometry["type"] == "Polygon"


def test_unknown_unit_lists_valid_ones() -> None:
    with pytest.raises(InvalidUnit, match=r"as_applied\[0\].appliedRate.unit: unknown rate unit 'bushel/acre'; "
                                          r"valid units: L/ha, mL/ha, fl oz/acre") as exc:
        parse_as_applied({"product": "X", "appliedRate": {"valueAsDouble": 1, "unit": "bushel/acre"},
                          "area_ha": 1, "date": "2024-01-01"})
    assert isinstance(exc.value, UnitError)


@pytest.mark.parametrize(("rec", "match"), [
    ({"rate": 1, "rate_unit": "L/ha", "area_ha": 1, "date": "2024-01-01"}, r"\[0\].product: no product name"),
    ({"product": "X", "rate": -1, "rate_unit": "L/ha", "area_ha": 1, "date": "2024-01-01"}, r"\[0\].rate: -1"),
    ({"product": "X", "rate": 1, "rate_unit": "L/ha", "date": "2024-01-01"}, r"no area"),
    ({"product": "X", "rate": 1, "rate_unit": "L/ha", "area_ha": 1, "date": "May 2"}, r"'May 2' is not an ISO"),
    ({"product": "X", "rate": 1, "rate_unit": "L/ha", "area_ha": 1, "date": "2024-01-01",
      "targetRate": {"valueAsDouble": 1, "unit": "kg/ha"}}, r"kg/ha and the applied rate's L/ha"),
])
def test_bad_records(rec: dict, match: str) -> None:
    with pytest.raises((InvalidData, InvalidUnit), match=match):
        parse_as_applied(rec)
