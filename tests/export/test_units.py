import numpy as np
import pytest

from app.domain.units import to_canonical_rate
from app.dosing.label import ProductLabel
from app.export.isoxml import DDI_FOR_UNIT, canonical_to_raw
from app.export.zones import display_unit


def test_one_litre_per_hectare_is_100_mm3_per_m2():
    # 1 L = 1e6 mm³, 1 ha = 1e4 m²  ->  100 mm³/m²; DDI 1 counts 0.01 mm³/m².
    assert 1e6 / 1e4 == 100.0
    assert DDI_FOR_UNIT["L/ha"].ddi == 0x0001
    assert int(canonical_to_raw(1.0, "L/ha")) == 100 * 100


def test_one_kilogram_per_hectare_is_100_mg_per_m2():
    assert 1e6 / 1e4 == 100.0
    assert DDI_FOR_UNIT["kg/ha"].ddi == 0x0006
    assert int(canonical_to_raw(1.0, "kg/ha")) == 100


def test_float32_noise_does_not_round_a_rate_up_a_whole_step():
    rate = np.float32(2.3386)  # a rate given to 4 decimals
    assert int(canonical_to_raw(rate, "L/ha")) == 23386


def test_rates_between_steps_round_up_never_down():
    assert int(canonical_to_raw(0.035, "kg/ha")) == 4  # 3.5 mg/m²
    assert int(canonical_to_raw(1.00001, "L/ha")) == 10001


@pytest.mark.parametrize(("label_unit", "canonical", "per_canonical"), [
    ("fl oz/acre", "L/ha", 1 / to_canonical_rate(1.0, "fl oz/acre")),
    ("g/ha", "kg/ha", 1000.0),
    ("", "L/ha", 1.0),
    ("lb/acre", "L/ha", 1.0),  # wrong kind of unit: fall back to canonical, with a note
])
def test_display_unit_follows_the_label(label_unit, canonical, per_canonical):
    p = ProductLabel("P", canonical, 0.0, 1.0, label_unit=label_unit)
    shown = display_unit(p)
    assert shown.per_canonical == pytest.approx(per_canonical)
    assert (shown.note is not None) == (label_unit == "lb/acre")
    assert display_unit(p, "canonical").unit == canonical
