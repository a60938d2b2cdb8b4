"""Rate and distance units, converted once at the edge.

Inside the dosing core every product rate is in a canonical metric unit:
``L/ha`` for liquid formulations and ``kg/ha`` for solid ones, and every
distance is in metres. Labels and users speak many units; this module is the
only place that knows them.

Every factor is computed from the exact legal definitions (NIST Handbook 44,
appendix C): 1 US fl oz = 29.5735295625 mL, 1 acre = 4046.8564224 m²,
1 lb = 0.45359237 kg, 1 ft = 0.3048 m. Converting back rounds to 12
significant digits, so a label value survives the trip to canonical units and
back exactly (a float division alone can land one unit in the last place off).

Examples
--------
>>> round(to_canonical_rate(32, "fl oz/acre"), 6)
2.338489
>>> from_canonical_rate(to_canonical_rate(32, "fl oz/acre"), "fl oz/acre")
32.0
>>> canonical_unit("lb/acre")
'kg/ha'
>>> to_metres(240, "ft")
73.152
"""

from __future__ import annotations

from fractions import Fraction

# Exact definitions, as fractions so derived factors carry no rounding until the end.
US_FL_OZ_L = Fraction("29.5735295625") / 1000  # 1/128 US gallon of 231 in³
ACRE_HA = Fraction("4046.8564224") / 10_000
LB_KG = Fraction("0.45359237")
FOOT_M = Fraction("0.3048")

_L_PER_HA = {  # litres per hectare of one (volume unit)/acre
    "fl oz/acre": US_FL_OZ_L / ACRE_HA,
    "pt/acre": 16 * US_FL_OZ_L / ACRE_HA,
    "qt/acre": 32 * US_FL_OZ_L / ACRE_HA,
    "gal/acre": 128 * US_FL_OZ_L / ACRE_HA,
}
_KG_PER_HA = {"lb/acre": LB_KG / ACRE_HA, "oz/acre": LB_KG / 16 / ACRE_HA}

# factor: how many canonical units (L/ha or kg/ha) one label unit is.
_RATE_UNITS: dict[str, tuple[str, float]] = {
    "L/ha": ("L/ha", 1.0),
    "mL/ha": ("L/ha", 1e-3),
    **{u: ("L/ha", float(f)) for u, f in _L_PER_HA.items()},
    "kg/ha": ("kg/ha", 1.0),
    "g/ha": ("kg/ha", 1e-3),
    **{u: ("kg/ha", float(f)) for u, f in _KG_PER_HA.items()},
}

_LENGTH_UNITS: dict[str, float] = {"m": 1.0, "ft": float(FOOT_M), "yd": float(3 * FOOT_M), "km": 1000.0}

RATE_UNITS: tuple[str, ...] = tuple(_RATE_UNITS)
LENGTH_UNITS: tuple[str, ...] = tuple(_LENGTH_UNITS)
ACRE_IN_HA: float = float(ACRE_HA)
MILE_IN_KM: float = float(5280 * FOOT_M / 1000)  # 1.609344, for wind speeds in mph


# Spellings seen on labels and in terminal exports, keyed by ``_spelling_key``.
_RATE_SPELLINGS: dict[str, str] = {
    "l/ha": "L/ha", "lha-1": "L/ha", "litre/ha": "L/ha", "liter/ha": "L/ha", "litres/ha": "L/ha",
    "liters/ha": "L/ha", "ml/ha": "mL/ha", "mlha-1": "mL/ha",
    "floz/acre": "fl oz/acre", "floz/ac": "fl oz/acre", "floz/a": "fl oz/acre", "fluidounce/acre": "fl oz/acre",
    "pt/acre": "pt/acre", "pt/ac": "pt/acre", "pt/a": "pt/acre", "pint/acre": "pt/acre", "pints/acre": "pt/acre",
    "qt/acre": "qt/acre", "qt/ac": "qt/acre", "qt/a": "qt/acre", "quart/acre": "qt/acre", "quarts/acre": "qt/acre",
    "gal/acre": "gal/acre", "gal/ac": "gal/acre", "gal/a": "gal/acre", "gallon/acre": "gal/acre",
    "gallons/acre": "gal/acre",
    "kg/ha": "kg/ha", "kgha-1": "kg/ha", "g/ha": "g/ha", "gha-1": "g/ha",
    "lb/acre": "lb/acre", "lb/ac": "lb/acre", "lb/a": "lb/acre", "lbs/acre": "lb/acre", "lbs/ac": "lb/acre",
    "lbs/a": "lb/acre", "oz/acre": "oz/acre", "oz/ac": "oz/acre", "oz/a": "oz/acre",
    # machine-data codes (unit1 per-unit-1), as telematics as-applied records carry them
    "l1ha-1": "L/ha", "ml1ha-1": "mL/ha", "kg1ha-1": "kg/ha", "g1ha-1": "g/ha", "gal1ac-1": "gal/acre",
    "floz1ac-1": "fl oz/acre", "lb1ac-1": "lb/acre",
}
_LENGTH_SPELLINGS: dict[str, str] = {
    "m": "m", "metre": "m", "metres": "m", "meter": "m", "meters": "m", "ft": "ft", "foot": "ft", "feet": "ft",
    "yd": "yd", "yard": "yd", "yards": "yd", "km": "km",
}


def _spelling_key(text: str) -> str:
    """Lower case, no dots or spaces, "per" as "/", plurals dropped ("pts/ac" -> "pt/ac")."""
    key = "".join(text.lower().replace(".", "").split()).replace("per", "/")
    num, _, den = key.partition("/")
    if num.endswith("s") and num not in ("lbs",) and len(num) > 2:
        num = num[:-1]
    return f"{num}/{den}" if den else num


def normalise_rate_unit(text: str) -> str:
    """The project's spelling of a rate unit written another common way (``l/ha``, ``fl oz/ac``, ...).

    Unknown spellings come back unchanged, for the caller to refuse with the list of valid units.

    >>> normalise_rate_unit("l/ha"), normalise_rate_unit("ml/ha"), normalise_rate_unit("fl oz/ac")
    ('L/ha', 'mL/ha', 'fl oz/acre')
    >>> normalise_rate_unit("furlongs/ha")
    'furlongs/ha'
    """
    if text in _RATE_UNITS:
        return text
    return _RATE_SPELLINGS.get(_spelling_key(text), text)


def normalise_length_unit(text: str) -> str:
    """The project's spelling of a length unit (``feet`` -> ``ft``); unknown spellings unchanged."""
    if text in _LENGTH_UNITS:
        return text
    return _LENGTH_SPELLINGS.get(_spelling_key(text), text)


class UnitError(ValueError):
    """A unit the project does not know, or a unit used where it makes no sense."""


def _rate(unit: str) -> tuple[str, float]:
    try:
        return _RATE_UNITS[unit]
    except KeyError:
        raise UnitError(
            f"unknown rate unit {unit!r}; valid units: {', '.join(RATE_UNITS)}"
        ) from None


def canonical_unit(unit: str) -> str:
    """The canonical unit (``L/ha`` or ``kg/ha``) a label rate unit converts to."""
    return _rate(unit)[0]


def to_canonical_rate(value: float, unit: str) -> float:
    """Convert a rate in ``unit`` to its canonical unit (L/ha or kg/ha)."""
    return float(value) * _rate(unit)[1]


def from_canonical_rate(value: float, unit: str) -> float:
    """Convert a canonical rate (L/ha or kg/ha) back to ``unit`` (12 significant digits)."""
    factor = _rate(unit)[1]
    return float(value) if factor == 1.0 else float(f"{float(value) / factor:.12g}")


def to_metres(value: float, unit: str) -> float:
    """Convert a distance in ``unit`` (m, ft, yd, km) to metres."""
    try:
        return float(value) * _LENGTH_UNITS[unit]
    except KeyError:
        raise UnitError(
            f"unknown length unit {unit!r}; valid units: {', '.join(LENGTH_UNITS)}"
        ) from None
