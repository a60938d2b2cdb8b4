"""As-applied records (what was actually sprayed) from telematics JSON.

Two shapes are read: a flat one (``{"product", "rate", "rate_unit",
"area_ha", "date"}``) and the machine-data one where quantities are
``{"valueAsDouble": 2.3, "unit": "l1ha-1"}`` (``appliedRate``, ``targetRate``,
``area``, ``startDate``). Rate units are checked by ``app.domain.units``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from app import budgets
from app.budgets import MAX_RATE
from app.domain.units import ACRE_IN_HA, RATE_UNITS, UnitError, canonical_unit, normalise_rate_unit, to_canonical_rate
from app.geo import reproject, utm_crs_for
from app.ingest.boundaries import boundary_from_geojson
from app.ingest.errors import CorruptFile, IngestError, InvalidData, InvalidUnit, UnsupportedFormat

AREA_UNITS: dict[str, float] = {"ha": 1.0, "ac": ACRE_IN_HA, "acre": ACRE_IN_HA, "m2": 1e-4}


@dataclass(frozen=True)
class AsAppliedRecord:
    """One product applied on one area on one day.

    ``rate`` is in ``rate_unit`` (one of ``app.domain.units.RATE_UNITS``);
    ``rate_canonical`` is the same rate in L/ha or kg/ha (``canonical_unit``).
    ``geometry`` is GeoJSON (WGS84) when the record had one; ``area_ha`` is
    given or computed from it.
    """

    product: str
    rate: float
    rate_unit: str
    rate_canonical: float
    canonical_unit: str
    area_ha: float
    applied_on: date
    target_rate: float | None = None
    geometry: dict[str, Any] | None = None


def rate_unit(unit: Any, where: str) -> str:
    """A rate unit as the project spells it; unknown → ``InvalidUnit`` listing the valid ones.

    >>> rate_unit("l1ha-1", "rate"), rate_unit("fl oz/acre", "rate")
    ('L/ha', 'fl oz/acre')
    """
    if not isinstance(unit, str) or not unit.strip():
        raise InvalidUnit(f"{where}: no unit; valid units: {', '.join(RATE_UNITS)}")
    u = unit.strip()
    if u in RATE_UNITS:
        return u
    alias = normalise_rate_unit(u)  # l/ha, l1ha-1, fl oz/ac ... (app.domain.units has the one table)
    if alias in RATE_UNITS:
        return alias
    try:
        canonical_unit(u)
    except UnitError as exc:
        raise InvalidUnit(f"{where}: {exc}") from None
    return u


def _quantity(v: Any, unit: Any, where: str) -> tuple[float, Any]:
    if isinstance(v, Mapping):
        unit = v.get("unit", v.get("unitId", unit))
        v = v.get("valueAsDouble", v.get("value"))
    if isinstance(v, bool):
        raise InvalidData(f"{where}: {v!r} is not a number")
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise InvalidData(f"{where}: {v!r} is not a number") from None
    if not math.isfinite(x) or x < 0:
        raise InvalidData(f"{where}: {x:g} must be a finite number, 0 or more")
    return x, unit


def _date(v: Any, where: str) -> date:
    if not isinstance(v, str) or not v:
        raise InvalidData(f"{where}: expected an ISO 8601 date, got {v!r}")
    try:
        if len(v) == 10:
            return date.fromisoformat(v)
        return datetime.fromisoformat(v.replace("Z", "+00:00")).date()
    except ValueError:
        raise InvalidData(f"{where}: {v!r} is not an ISO 8601 date") from None


def _first(rec: Mapping[str, Any], *keys: str) -> tuple[str | None, Any]:
    for k in keys:
        if rec.get(k) is not None:
            return k, rec[k]
    return None, None


def _record(rec: Any, where: str) -> AsAppliedRecord:
    if not isinstance(rec, Mapping):
        raise UnsupportedFormat(f"{where}: expected an object")
    _k, product = _first(rec, "product", "productName", "product_name")
    if isinstance(product, Mapping):
        product = product.get("name")
    if not isinstance(product, str) or not product.strip():
        raise InvalidData(f"{where}.product: no product name")
    if len(product) > 200 or "\x00" in product:
        raise InvalidData(f"{where}.product: a product name has 1 to 200 characters and no NUL")
    rk, rv = _first(rec, "appliedRate", "applied_rate", "rate", "averageRate")
    if rk is None:
        raise InvalidData(f"{where}: no rate (appliedRate or rate)")
    rate, unit = _quantity(rv, rec.get("rate_unit", rec.get("unit")), f"{where}.{rk}")
    if rate > MAX_RATE:
        raise InvalidData(f"{where}.{rk}: {rate:g} is over {MAX_RATE:g}, no label allows that rate")
    unit = rate_unit(unit, f"{where}.{rk}.unit" if isinstance(rv, Mapping) else f"{where}.rate_unit")
    target = None
    tk, tv = _first(rec, "targetRate", "target_rate")
    if tk is not None:
        target, tunit = _quantity(tv, unit, f"{where}.{tk}")
        tunit = rate_unit(tunit, f"{where}.{tk}.unit")
        if canonical_unit(tunit) != canonical_unit(unit):
            raise InvalidUnit(f"{where}.{tk}.unit: {tunit} and the applied rate's {unit} measure "
                              f"different things (volume vs mass)")
        target = to_canonical_rate(target, tunit) / to_canonical_rate(1.0, unit)
    geometry = None
    if rec.get("geometry") is not None:
        geometry = boundary_from_geojson(rec["geometry"], name=f"{where}.geometry")
    ak, av = _first(rec, "area_ha", "area")
    if ak is not None:
        area, aunit = _quantity(av, "ha" if ak == "area_ha" else rec.get("area_unit", "ha"), f"{where}.{ak}")
        factor = AREA_UNITS.get(str(aunit).strip().lower())
        if factor is None:
            raise InvalidUnit(f"{where}.{ak}.unit: unknown area unit {aunit!r}; valid units: "
                              f"{', '.join(AREA_UNITS)}")
        area_ha = area * factor
    elif geometry is not None:
        from shapely.geometry import shape

        g = shape(geometry)
        c = g.centroid
        area_ha = reproject(g, "EPSG:4326", utm_crs_for(c.x, c.y)).area / 10_000.0
    else:
        raise InvalidData(f"{where}: no area (area_ha, area) and no geometry")
    dk, dv = _first(rec, "date", "applied_on", "startDate", "start_date", "endDate")
    if dk is None:
        raise InvalidData(f"{where}: no date (date or startDate)")
    return AsAppliedRecord(product=product.strip(), rate=rate, rate_unit=unit,
                           rate_canonical=to_canonical_rate(rate, unit), canonical_unit=canonical_unit(unit),
                           area_ha=area_ha, applied_on=_date(dv, f"{where}.{dk}"), target_rate=target,
                           geometry=geometry)


def parse_as_applied(obj: Any, *, name: str = "as_applied") -> list[AsAppliedRecord]:
    """As-applied records from JSON: one record, a list, or ``{"records"|"values": [...]}``.

    Examples
    --------
    >>> r = parse_as_applied({"product": {"name": "Roundup PowerMAX"},
    ...                       "appliedRate": {"valueAsDouble": 32, "unit": "floz1ac-1"},
    ...                       "area": {"valueAsDouble": 10, "unit": "ac"}, "startDate": "2024-05-02T08:00:00Z"})
    >>> r[0].rate_unit, round(r[0].rate_canonical, 3), round(r[0].area_ha, 3), str(r[0].applied_on)
    ('fl oz/acre', 2.338, 4.047, '2024-05-02')
    >>> parse_as_applied({"product": "X", "rate": 1, "rate_unit": "furlongs", "area_ha": 1, "date": "2024-05-02"})
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    app.ingest.errors.InvalidUnit: as_applied[0].rate_unit: unknown rate unit 'furlongs'; valid units: L/ha, mL/ha, ...
    """
    if isinstance(obj, bytes | bytearray | str):
        try:
            obj = json.loads(obj)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CorruptFile(f"{name}: not valid JSON ({exc})") from None
        except RecursionError:
            raise CorruptFile(f"{name}: the JSON is nested too deeply") from None
    if isinstance(obj, Mapping):
        for key in ("records", "values"):
            if isinstance(obj.get(key), list):
                obj = obj[key]
                break
        else:
            obj = [obj]
    if not isinstance(obj, list):
        raise UnsupportedFormat(f"{name}: expected a record, a list of records or {{\"records\": [...]}}")
    if not obj:
        raise IngestError(f"{name}: no records")
    budgets.current().check("import_records", len(obj), f"{name}: records")
    return [_record(r, f"{name}[{i}]") for i, r in enumerate(obj)]
