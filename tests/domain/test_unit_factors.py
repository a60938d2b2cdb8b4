"""Unit factors come from the exact definitions; label values survive the round trip."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.units import RATE_UNITS, from_canonical_rate, to_canonical_rate, to_metres

# NIST Handbook 44 appendix C, written out by hand (not taken from the module).
US_FL_OZ_L = 231 * 2.54**3 / 1000 / 128  # 231 in³ per gallon, 128 fl oz per gallon
ACRE_M2 = 43_560 * 0.3048**2  # 43 560 ft²
LB_KG = 0.45359237


@pytest.mark.parametrize(("unit", "l_or_kg_per_ha"), [
    ("fl oz/acre", US_FL_OZ_L / (ACRE_M2 / 10_000)),
    ("pt/acre", 16 * US_FL_OZ_L / (ACRE_M2 / 10_000)),
    ("qt/acre", 32 * US_FL_OZ_L / (ACRE_M2 / 10_000)),
    ("gal/acre", 128 * US_FL_OZ_L / (ACRE_M2 / 10_000)),
    ("lb/acre", LB_KG / (ACRE_M2 / 10_000)),
    ("oz/acre", LB_KG / 16 / (ACRE_M2 / 10_000)),
    ("mL/ha", 1e-3),
    ("g/ha", 1e-3),
])
def test_factor_is_the_exact_definition(unit: str, l_or_kg_per_ha: float) -> None:
    assert to_canonical_rate(1.0, unit) == pytest.approx(l_or_kg_per_ha, rel=1e-14)


def test_the_rounded_factor_is_gone() -> None:
    # 0.07308 (DOMAIN.md's rounded figure) made a 32 fl oz/acre maximum export as 32.0002
    assert to_canonical_rate(1.0, "fl oz/acre") == pytest.approx(0.0730778, abs=1e-7)
    assert from_canonical_rate(to_canonical_rate(32, "fl oz/acre"), "fl oz/acre") == 32.0


@given(st.sampled_from(RATE_UNITS), st.decimals(min_value="0.01", max_value="1000", places=2))
def test_label_values_round_trip_exactly(unit: str, value: object) -> None:
    v = float(value)  # type: ignore[arg-type]
    assert from_canonical_rate(to_canonical_rate(v, unit), unit) == v


def test_lengths() -> None:
    assert to_metres(1, "ft") == 0.3048 and to_metres(1, "yd") == pytest.approx(0.9144, rel=1e-15)
