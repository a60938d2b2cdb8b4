"""The fact sheet: everything the advice may say, and nothing else.

Writers (built-in or LLM) word these facts; they never compute. Every quantity
is stored in the label's own unit and, where it helps, in metric too, so a
writer never converts and a checker can compare an answer against the sheet.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.advice.tank_plan import TankPlan, UnitSystem, tank_plan, unit_system_for
from app.advice.weather import GUST_FACTOR, Forecast, WeatherCheck, check_weather, default_wind_max_kmh
from app.domain.label import LabelDoc
from app.domain.units import ACRE_IN_HA as ACRE_HA
from app.domain.units import MILE_IN_KM as MILE_KM
from app.domain.units import canonical_unit, from_canonical_rate, to_canonical_rate
from app.dosing.prescribe import Strategy
from app.dosing.sprayer import SprayerProfile

FACTS_VERSION = "2"

# The unit a label's total is counted in: gallons for US liquid rates, pounds for US solids.
TOTAL_UNIT: dict[str, str] = {
    "L/ha": "L", "mL/ha": "L", "fl oz/acre": "gal", "pt/acre": "gal", "qt/acre": "gal",
    "gal/acre": "gal", "kg/ha": "kg", "g/ha": "kg", "lb/acre": "lb", "oz/acre": "lb",
}
_PER_AREA = {"L": "L/ha", "kg": "kg/ha", "gal": "gal/acre", "lb": "lb/acre"}

# Product and active names the service knows of (DOMAIN.md section 4); an answer may
# name one only when the facts do. Callers add their own catalogue through ``other_names``.
KNOWN_PRODUCT_NAMES: tuple[str, ...] = (
    "glyphosate", "Roundup", "Roundup PowerMAX", "dicamba", "Engenia", "XtendiMax", "Banvel",
    "2,4-D", "Enlist", "Enlist One", "Enlist Duo", "glufosinate", "Liberty", "mesotrione",
    "Callisto", "atrazine",
)

# "Control" on a label, and in extension trials, means at least 90 % of the weeds killed;
# below that a species is only suppressed. Used as the target when the strategy sets none.
DEFAULT_CONTROL_TARGET_PCT = 90.0

# Legacy HRAC letters → the numeric HRAC/WSSA group, so "G" and "9" compare equal.
_HRAC_LETTERS = {"A": "1", "B": "2", "C1": "5", "C2": "7", "C3": "6", "D": "22", "E": "14",
                 "F1": "12", "F2": "27", "G": "9", "H": "10", "K1": "3", "K3": "15", "N": "8",
                 "O": "4"}

# (group, how to spot the species, note code): resistance worth naming when both meet.
_RESISTANCE_RULES: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("9", re.compile(r"^AMA|amaranth|pigweed|waterhemp|amarante", re.I), "glyphosate_resistant_amaranthus"),
    ("2", re.compile(r"^AMA|amaranth|pigweed|waterhemp|amarante", re.I), "als_resistant_amaranthus"),
    ("1", re.compile(r"^ALOMY|black-?grass|vulpin", re.I), "blackgrass_resistance"),
    ("2", re.compile(r"^ALOMY|black-?grass|vulpin", re.I), "blackgrass_resistance"),
)

# Optional summary entries another part of the service may add, by the names it may use.
_SUMMARY_KEYS: dict[str, tuple[str, ...]] = {
    "control_pct": ("control_pct", "control_by_species_pct", "control_by_species"),
    "surviving_plants_m2": ("surviving_plants_m2", "surviving_weeds_plants_m2", "surviving_weeds"),
    "yield_loss_pct": ("yield_loss_pct",),
    "yield_loss_broadcast_pct": ("yield_loss_broadcast_pct",),
    "tank_loads": ("tank_loads", "n_tank_loads"),
    "tank_volume_l": ("tank_volume_l", "tank_size_l"),
    "money_saved": ("money_saved", "saving_money", "money_saved_total"),
    "currency": ("currency",),
    "rates": ("rates", "rates_canonical", "rate"),
}


class FactsError(ValueError):
    """Inputs that cannot make a coherent fact sheet (the message says which)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FieldFacts(_Frozen):
    name: str
    crop: str
    growth_stage_bbch: int | None = None
    country: str | None = None


class AreaFacts(_Frozen):
    """Areas in ha, and in acres when a label in the mix uses per-acre rates."""

    field_ha: float
    sprayable_ha: float
    treated_ha: float
    treated_share_pct: float = Field(description="treated area as a share of the field area")
    field_acre: float | None = None
    treated_acre: float | None = None
    unsprayed_buffer_ha: float = Field(default=0.0, description="field area left unsprayed by buffers, ha")
    unsprayed_buffer_acre: float | None = None


class BufferFacts(_Frozen):
    """A no-spray buffer of a label. ``all_round``: a downwind buffer laid on every side because the
    wind direction was not given with the prescription."""

    product: str
    kind: str = Field(description="water, lake, well, runoff_entry, ... or 'downwind'")
    distance: float
    unit: str
    metres: float
    all_round: bool = False


class WeatherLimitFacts(_Frozen):
    wind_min_kmh: float | None = None
    wind_max_kmh: float | None = None
    wind_min_mph: float | None = None
    wind_max_mph: float | None = None
    rain_free_h: float | None = None
    temp_min_c: float | None = None
    temp_max_c: float | None = None
    no_inversion: bool = False
    daylight_only: bool = False


class ProductFacts(_Frozen):
    """One product of the mix: rates in ``rate_unit`` (the label's) and ``canonical_unit``."""

    name: str
    registration: str | None = None
    active_ingredients: tuple[str, ...] = ()
    hrac_group: str
    wssa_group: int | None = None
    group: str = Field(description="numeric HRAC/WSSA mode-of-action group")
    rate: float
    rate_unit: str
    rate_canonical: float
    canonical_unit: str
    rate_is_average: bool = Field(description="true when rates vary across the field (mean shown)")
    min_rate: float
    max_rate: float
    max_season_rate: float | None = None
    within_label: bool
    total: float
    total_unit: str
    total_canonical: float
    broadcast_total: float
    saved: float
    saving_pct: float
    price: float | None = None
    price_per: str | None = None
    currency: str | None = None
    money_saved: float | None = None
    rei_h: float | None = None
    phi_days: float | None = None
    min_days_between_applications: float | None = None
    weather: WeatherLimitFacts
    crop_on_label: bool | None = Field(default=None, description="None when the label lists no crops")
    crop_max_bbch: int | None = None


class AlternativeFacts(_Frozen):
    """A product of the organisation's catalogue (not in this mix) that controls a species at its maximum rate."""

    product: str
    group: str = Field(description="numeric HRAC/WSSA mode-of-action group")
    control_pct: float = Field(description="expected control at the label's maximum rate, %")


class SpeciesFacts(_Frozen):
    """One species found. ``below_target``: expected control under ``target_pct`` (or unknown)."""

    code: str
    name: str | None = None
    names: dict[str, str] = Field(default_factory=dict, description="language → common name")
    control_pct: float | None = None
    surviving_plants_m2: float | None = None
    target_pct: float | None = None
    below_target: bool = False
    alternatives: tuple[AlternativeFacts, ...] = ()


class RestrictionFacts(_Frozen):
    """The strictest limit over the mix: longest intervals, narrowest wind range."""

    rei_h: float | None = None
    phi_days: float | None = None
    min_days_between_applications: float | None = None
    rain_free_h: float | None = None
    wind_min_kmh: float | None = None
    wind_max_kmh: float | None = None
    wind_min_mph: float | None = None
    wind_max_mph: float | None = None
    temp_min_c: float | None = None
    temp_max_c: float | None = None
    no_inversion: bool = False
    daylight_only: bool = False
    wind_max_source: str = Field(default="label", description="'label', or 'national_default' when no label in "
                                                              "the mix sets a wind limit")
    gust_max_kmh: float | None = Field(default=None, description="gusts above this refuse an hour")
    gust_max_mph: float | None = None


class ResistanceNote(_Frozen):
    code: str
    group: str | None = None
    products: tuple[str, ...] = ()
    species: tuple[str, ...] = ()


class EconomyFacts(_Frozen):
    money_saved: float | None = None
    currency: str | None = None
    tank_loads: float | None = None
    tank_volume_l: float | None = None
    yield_loss_pct: float | None = None
    yield_loss_broadcast_pct: float | None = None
    extra_yield_loss_pct: float | None = Field(
        default=None, description="yield loss of this prescription less that of a broadcast, % of weed-free yield")
    yield_cost: float | None = Field(
        default=None, description="value of extra_yield_loss_pct at crop_price_per_t and expected_yield_t_ha, "
                                  "in ``currency`` (the crop is priced in the herbicide's currency)")
    net_gain: float | None = Field(default=None, description="money_saved less yield_cost")
    crop_price_per_t: float | None = None
    expected_yield_t_ha: float | None = None
    trades_yield: bool = Field(default=False, description="the strategy saves herbicide at a yield cost")


class WarningFact(_Frozen):
    """A warning the advice must (``mandatory``) or should carry; writers word it from the sheet."""

    code: str
    mandatory: bool
    products: tuple[str, ...] = ()


class FactSheet(_Frozen):
    """Everything the advice may state. JSON-able: ``facts.as_dict()``."""

    facts_version: str = FACTS_VERSION
    generated_at: datetime
    field: FieldFacts
    strategy: str
    units: UnitSystem = Field(description="'us' (acres, gallons, mph first) or 'metric': from the field's country, "
                                          "or the request's override")
    area: AreaFacts
    products: tuple[ProductFacts, ...]
    species: tuple[SpeciesFacts, ...] = ()
    buffers: tuple[BufferFacts, ...] = ()
    restrictions: RestrictionFacts
    resistance: tuple[ResistanceNote, ...] = ()
    economy: EconomyFacts
    weather: WeatherCheck | None = None
    tank_plan: TankPlan | None = None
    warnings: tuple[WarningFact, ...] = ()
    other_names: tuple[str, ...] = Field(
        default=(), description="product/species names NOT in this job; an answer must not use them")

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def prompt_payload(self) -> dict[str, Any]:
        """The sheet as a model should read it: no hour-by-hour table, no names to avoid."""
        data = self.model_dump(mode="json", exclude={"other_names"})
        if data.get("weather"):
            data["weather"].pop("hours", None)
        return data

    def stated_quantities(self) -> dict[str, list[float]]:
        """Quantities (by unit key, as ``grounding`` spells them) of the facts added in version 2:
        tank plan, unsprayed buffer area, yield cost, gust and default wind limits, alternatives."""
        q: dict[str, list[float]] = {}

        def add(unit: str | None, *values: float | None) -> None:
            if unit:
                q.setdefault(unit, []).extend(float(v) for v in values if v is not None)

        a, r, e = self.area, self.restrictions, self.economy
        add("ha", a.unsprayed_buffer_ha)
        add("acre", a.unsprayed_buffer_acre, a.field_acre, a.treated_acre)
        add("km/h", r.gust_max_kmh, r.wind_max_kmh)
        add("mph", r.gust_max_mph, r.wind_max_mph)
        add(e.currency, e.yield_cost, e.net_gain, e.money_saved, e.crop_price_per_t)
        add("%", e.extra_yield_loss_pct, *(s.target_pct for s in self.species),
            *(x.control_pct for s in self.species for x in s.alternatives))
        add("t/ha", e.expected_yield_t_ha)
        if self.weather is not None:
            # winds in mph as the advice writes them (whole mph), so the check reads them at that precision
            add("mph", *(round(h.wind_kmh / MILE_KM) for h in self.weather.hours),
                *(round(h.gust_kmh / MILE_KM) for h in self.weather.hours if h.gust_kmh is not None),
                *(round(w.wind_kmh_min / MILE_KM) for w in self.weather.windows),
                *(round(w.wind_kmh_max / MILE_KM) for w in self.weather.windows))
        t = self.tank_plan
        if t is not None:
            add(t.volume_unit, t.tank_volume, t.total_volume, t.total_water)
            add("L", t.tank_volume_l)
            add(t.volume_unit, t.carrier_rate)  # worded "150 L per ha", never as a rate unit
            add("tanks", t.loads, t.full_tanks)
            for load in (t.full_tank, t.last_tank):
                if load is not None:
                    add(t.volume_unit, load.volume, load.water)
                    add(t.area_unit, load.area)
                    for p in load.products:
                        add(p.unit, p.amount)
                        add(p.canonical_unit, p.amount_canonical)
            for p in t.total_products:
                add(p.unit, p.amount)
                add(p.canonical_unit, p.amount_canonical)
        return q

    @property
    def mandatory_warnings(self) -> tuple[str, ...]:
        return tuple(w.code for w in self.warnings if w.mandatory)

    def names_in_facts(self) -> set[str]:
        """Product, active-ingredient and species names this sheet states."""
        names = {p.name for p in self.products}
        names.update(a for p in self.products for a in p.active_ingredients)
        names.update(a.product for s in self.species for a in s.alternatives)
        for s in self.species:
            names.add(s.code)
            names.update(n for n in [s.name, *s.names.values()] if n)
        return names


def catalogue_species_names() -> dict[str, Any]:
    """EPPO code → ``{lang: common name}`` (first name per language) from the species catalogue.

    >>> catalogue_species_names()["ECHCG"]["de"]
    'Hühnerhirse'
    """
    from app.species import catalogue

    out: dict[str, Any] = {}
    for code, facts in catalogue().items():
        names = facts.get("common_names") or {}
        by_lang = {lang: (v[0] if isinstance(v, list) else v) for lang, v in names.items() if v}
        out[code] = by_lang or facts.get("scientific_name", code)
    return out


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, Mapping) else getattr(obj, key, None)


def _optional(summary: Mapping[str, Any], key: str) -> Any:
    for alias in _SUMMARY_KEYS[key]:
        if summary.get(alias) is not None:
            return summary[alias]
    return None


def _group(label: LabelDoc) -> str:
    if label.wssa_group is not None:
        return str(label.wssa_group)
    g = label.hrac_group.strip().upper()
    return _HRAC_LETTERS.get(g, g)


def _per_product(summary: Mapping[str, Any], key: str, n: int) -> list[float]:
    try:
        values = [float(v) for v in summary[key]]
    except KeyError:
        raise FactsError(f"summary has no {key!r}") from None
    if len(values) != n:
        raise FactsError(f"summary {key!r} has {len(values)} values for {n} labels")
    return values


def _total_in(total_canonical: float, rate_unit: str) -> tuple[float, str]:
    unit = TOTAL_UNIT[rate_unit]
    per_area = _PER_AREA[unit]
    if per_area.endswith("/acre"):
        # rate over one acre's worth of hectares: L → gal, kg → lb
        return from_canonical_rate(total_canonical, per_area) / ACRE_HA, unit
    return total_canonical, unit


def _by_species(values: Any, codes: Sequence[str] | None) -> dict[str, Any]:
    """Per-species values as a mapping: given as one, or as a list in the order of ``codes``
    (the dosing core's ``Summary``)."""
    if isinstance(values, Mapping):
        return dict(values)
    if isinstance(values, list | tuple) and codes:
        return dict(zip(codes, values, strict=False))
    return {}


def _species(summary: Mapping[str, Any], species_names: Mapping[str, Any] | None
             ) -> tuple[list[SpeciesFacts], list[str]]:
    listed = summary.get("species")
    control = _by_species(_optional(summary, "control_pct"), listed)
    surviving = _by_species(_optional(summary, "surviving_plants_m2"), listed)
    if not surviving and listed and isinstance(summary.get("weeds_surviving"), list):
        # the dosing core reports surviving plants on the whole field; the facts speak per m²
        area_m2 = float(summary.get("field_area_ha") or 0.0) * 10_000.0
        if area_m2 > 0:
            surviving = {c: float(n) / area_m2 for c, n in zip(listed, summary["weeds_surviving"], strict=False)}
    names = dict(species_names or {})
    if control or surviving or listed:
        found = list(dict.fromkeys([*(listed or []), *control, *surviving]))
    else:
        found = list(names)  # no per-species results yet: the caller's names are the species found
    out = []
    for code in found:
        raw = names.get(code)
        by_lang = dict(raw) if isinstance(raw, Mapping) else ({"en": raw} if raw else {})
        out.append(SpeciesFacts(
            code=code, name=by_lang.get("en") or next(iter(by_lang.values()), None), names=by_lang,
            control_pct=None if control.get(code) is None else round(float(control[code]), 4),
            surviving_plants_m2=None if surviving.get(code) is None else round(float(surviving[code]), 2),
        ))
    others: list[str] = []
    for code, raw in names.items():
        if code not in found:
            others.append(code)
            others.extend(raw.values() if isinstance(raw, Mapping) else [raw])
    return out, [n for n in others if n]


def _resistance(labels: Sequence[LabelDoc], species: Sequence[SpeciesFacts]) -> list[ResistanceNote]:
    notes: list[ResistanceNote] = []
    groups = {_group(lab) for lab in labels}
    for group, pattern, code in _RESISTANCE_RULES:
        if group not in groups:
            continue
        hit = [s.code for s in species if pattern.search(s.code) or any(
            pattern.search(n) for n in [s.name or "", *s.names.values()])]
        if hit and all(n.code != code for n in notes):
            notes.append(ResistanceNote(
                code=code, group=group, species=tuple(hit),
                products=tuple(lab.name for lab in labels if _group(lab) == group)))
    notes.append(ResistanceNote(
        code="single_mode_of_action" if len(groups) == 1 else "rotate_modes_of_action",
        group=next(iter(groups)) if len(groups) == 1 else None,
        products=tuple(lab.name for lab in labels)))
    return notes


DEFAULT_TANK_L = SprayerProfile().tank_l
DEFAULT_CARRIER_L_HA = SprayerProfile().carrier_l_ha


def _control_at_max(lab: LabelDoc, code: str) -> float | None:
    """Expected control (%) of ``code`` at the label's maximum rate, None without a curve."""
    try:
        curve = lab.to_core().efficacy.get(code)
    except ValueError:
        return None
    if curve is None:
        return None
    return round(100.0 * (1.0 - float(curve.survival(to_canonical_rate(lab.max_rate, lab.rate_unit)))), 1)


def _with_target(s: SpeciesFacts, target_pct: float, others: Sequence[LabelDoc]) -> SpeciesFacts:
    below = s.control_pct is None or s.control_pct < target_pct - 1e-9
    alternatives: list[AlternativeFacts] = []
    if below:
        for lab in others:
            c = _control_at_max(lab, s.code)
            if c is not None and c >= target_pct:
                # whole per cent, as the advice states it
                alternatives.append(AlternativeFacts(product=lab.name, group=_group(lab), control_pct=float(round(c))))
    alternatives.sort(key=lambda a: -a.control_pct)
    return s.model_copy(update={"target_pct": target_pct, "below_target": below,
                                "alternatives": tuple(alternatives[:3])})


def _economy(summary: Mapping[str, Any], params: Mapping[str, Any], strategy: str, field_ha: float,
             money: Any, currency: Any) -> EconomyFacts:
    """Herbicide saved against the yield the extra surviving weeds cost, at the strategy's prices."""
    loss = _optional(summary, "yield_loss_pct")
    loss_b = _optional(summary, "yield_loss_broadcast_pct")
    defaults = Strategy()
    price = float(params.get("crop_price_per_t", defaults.crop_price_per_t))
    yield_t_ha = float(params.get("expected_yield_t_ha", defaults.expected_yield_t_ha))
    extra = cost = net = None
    trades = False
    if loss is not None and loss_b is not None and strategy != "broadcast":
        extra = round(float(loss) - float(loss_b), 1)  # % of yield to one decimal, as the advice states it
        cost = float(round(max(extra, 0.0) / 100.0 * yield_t_ha * field_ha * price))
        net = None if money is None else float(round(float(money)) - cost)
        trades = extra > 0 and cost >= 0.5
    return EconomyFacts(
        money_saved=None if money is None else float(round(float(money))), currency=currency,
        yield_loss_pct=loss, yield_loss_broadcast_pct=loss_b, extra_yield_loss_pct=extra, yield_cost=cost,
        net_gain=net, crop_price_per_t=price, expected_yield_t_ha=yield_t_ha, trades_yield=trades)


def _mph(kmh: float | None, us: bool) -> float | None:
    return None if kmh is None or not us else round(kmh / MILE_KM, 1)


def _strictest(values: Iterable[float | None], pick: Any) -> float | None:
    vals = [v for v in values if v is not None]
    return pick(vals) if vals else None


def build_fact_sheet(*, field: Any, labels: Sequence[LabelDoc], summary: Mapping[str, Any],
                     strategy: str, species_names: Mapping[str, Any] | None = None,
                     forecast: Forecast | None = None, now: datetime | None = None,
                     other_names: Iterable[str] = (), sprayer: Mapping[str, Any] | None = None,
                     unit_system: str | None = None, wind_from_deg: float | None = None,
                     strategy_params: Mapping[str, Any] | None = None,
                     catalogue: Sequence[LabelDoc] = ()) -> FactSheet:
    """Gather the facts of one prescription for the advice writers.

    ``field`` is a ``FieldCreate`` (or anything with ``name``, ``crop``,
    ``growth_stage_bbch``, ``country``); ``labels`` are the products of the mix in
    the order of ``summary``'s per-product lists; ``summary`` is
    ``Summary.as_dict()`` (areas in ha, totals in canonical L or kg) and may carry
    the optional entries listed in ``_SUMMARY_KEYS``. ``species_names`` maps EPPO
    codes to a common name or to ``{lang: name}``; codes not among the species
    the summary reports are taken as the catalogue to keep out of the advice.
    ``other_names`` adds product names of the catalogue.

    Added in facts version 2: ``sprayer`` (the prescription's sprayer profile,
    ``tank_l`` and ``carrier_l_ha`` in litres; default a 3000 L tank) gives the
    tank plan; ``unit_system`` ("metric" or "us") overrides the one of the
    field's country; ``wind_from_deg`` is the wind the prescription was laid
    for (``None``: downwind buffers were laid all round); ``strategy_params``
    (the stored strategy: ``control_target``, ``crop_price_per_t``,
    ``expected_yield_t_ha``) set the control target and price the yield;
    ``catalogue`` (the organisation's labels) names products that would
    control a species this mix leaves below its target. Forecast hours
    before ``now`` (default: the current time) are ignored.

    >>> from app.advice.examples import example_inputs
    >>> facts = build_fact_sheet(**example_inputs())
    >>> facts.products[0].rate, facts.products[0].rate_unit
    (32.0, 'fl oz/acre')
    """
    if not labels:
        raise FactsError("at least one label is needed")
    n = len(labels)
    totals = _per_product(summary, "product_total", n)
    broadcast = _per_product(summary, "broadcast_total", n)
    saving = _per_product(summary, "saving_pct", n)
    field_ha = float(summary["field_area_ha"])
    treated_ha = float(summary["treated_area_ha"])
    sprayable_ha = float(summary.get("sprayable_area_ha", field_ha))
    country = _get(field, "country")
    if unit_system is None and not country:
        unit_system = "us" if any(lab.rate_unit.endswith("/acre") for lab in labels) else "metric"
    system = unit_system_for(country, unit_system)
    us = system == "us"
    now = now or datetime.now(UTC)
    params = dict(strategy_params or {})
    crop = str(_get(field, "crop"))
    bbch = _get(field, "growth_stage_bbch")
    fixed_rates = _optional(summary, "rates")
    if fixed_rates is not None and (isinstance(fixed_rates, (int, float)) or len(fixed_rates) != n):
        raise FactsError(f"summary rates must list one canonical rate per label ({n})")

    products: list[ProductFacts] = []
    buffers: list[BufferFacts] = []
    warnings: list[WarningFact] = []
    for k, lab in enumerate(labels):
        canon = canonical_unit(lab.rate_unit)
        if fixed_rates is not None:
            rate_c, average = float(fixed_rates[k]), False
        else:
            rate_c = totals[k] / treated_ha if treated_ha > 0 else 0.0
            average = strategy in ("target_efficacy", "economic")
        rate = from_canonical_rate(rate_c, lab.rate_unit)
        total, total_unit = _total_in(totals[k], lab.rate_unit)
        bcast, _ = _total_in(broadcast[k], lab.rate_unit)
        # rounding noise from the grid must not read as a label breach
        within = to_canonical_rate(lab.min_rate, lab.rate_unit) * (1 - 1e-6) <= rate_c \
            <= to_canonical_rate(lab.max_rate, lab.rate_unit) * (1 + 1e-6) or treated_ha == 0
        crops = {c.crop: c.max_bbch for c in lab.crops}
        on_label = None if not crops else crop in crops
        max_bbch = crops.get(crop)
        w = lab.weather
        products.append(ProductFacts(
            name=lab.name, registration=lab.registration,
            active_ingredients=tuple(a.name for a in lab.active_ingredients),
            hrac_group=lab.hrac_group, wssa_group=lab.wssa_group, group=_group(lab),
            rate=round(rate, 4), rate_unit=lab.rate_unit, rate_canonical=round(rate_c, 4),
            canonical_unit=canon, rate_is_average=average, min_rate=lab.min_rate, max_rate=lab.max_rate,
            max_season_rate=lab.max_season_rate, within_label=within,
            total=round(total, 4), total_unit=total_unit, total_canonical=round(totals[k], 4),
            broadcast_total=round(bcast, 4), saved=round(bcast - total, 4), saving_pct=round(saving[k], 4),
            price=lab.price.amount if lab.price else None, price_per=lab.price.per if lab.price else None,
            currency=lab.price.currency if lab.price else None,
            # money in whole units, as every output writes it (one rounding step)
            money_saved=float(round((broadcast[k] - totals[k]) * lab.price.amount)) if lab.price else None,
            rei_h=lab.rei_h, phi_days=lab.phi_days,
            min_days_between_applications=lab.min_days_between_applications,
            weather=WeatherLimitFacts(
                wind_min_kmh=w.wind_min_kmh, wind_max_kmh=w.wind_max_kmh,
                wind_min_mph=_mph(w.wind_min_kmh, us), wind_max_mph=_mph(w.wind_max_kmh, us),
                rain_free_h=w.rain_free_h, temp_min_c=w.temp_min_c, temp_max_c=w.temp_max_c,
                no_inversion=w.no_inversion, daylight_only=w.daylight_only),
            crop_on_label=on_label, crop_max_bbch=max_bbch,
        ))
        for b in lab.buffers:
            buffers.append(BufferFacts(product=lab.name, kind=b.kind, distance=b.distance, unit=b.unit,
                                       metres=round(b.metres, 3)))
        if lab.downwind_buffer is not None and lab.downwind_buffer.distance > 0:
            d = lab.downwind_buffer
            buffers.append(BufferFacts(product=lab.name, kind="downwind", distance=d.distance, unit=d.unit,
                                       metres=round(d.metres, 3), all_round=wind_from_deg is None))
        if not within:
            warnings.append(WarningFact(code="rate_outside_label", mandatory=True, products=(lab.name,)))
        if on_label is False:
            warnings.append(WarningFact(code="crop_not_on_label", mandatory=True, products=(lab.name,)))
        elif max_bbch is not None and bbch is not None and int(bbch) > max_bbch:
            warnings.append(WarningFact(code="stage_beyond_label", mandatory=True, products=(lab.name,)))

    species, catalogue_others = _species(summary, species_names)
    target = params.get("control_target") if strategy == "target_efficacy" else None
    target_pct = DEFAULT_CONTROL_TARGET_PCT if target is None else round(100.0 * float(target), 1)
    in_mix = {lab.name for lab in labels}
    # only labels registered for this crop (and country, when both say) may be offered as partners
    usable = [lab for lab in catalogue if lab.name not in in_mix and crop in {c.crop for c in lab.crops}
              and (not lab.country or not country or lab.country.upper() == str(country).upper())]
    species = [_with_target(s, target_pct, usable) for s in species]
    stated = {p.name.lower() for p in products} | {a.lower() for p in products for a in p.active_ingredients}
    others = [
        name for name in dict.fromkeys([*KNOWN_PRODUCT_NAMES, *other_names, *catalogue_others])
        if not any(name.lower() in s or s in name.lower() for s in stated)
        and name not in {s.code for s in species}
        and not any(name.lower() in a.product.lower() for s in species for a in s.alternatives)
    ]

    labs_w = [lab.weather for lab in labels]
    restrictions = RestrictionFacts(
        rei_h=_strictest((lab.rei_h for lab in labels), max),
        phi_days=_strictest((lab.phi_days for lab in labels), max),
        min_days_between_applications=_strictest((lab.min_days_between_applications for lab in labels), max),
        rain_free_h=_strictest((w.rain_free_h for w in labs_w), max),
        wind_min_kmh=_strictest((w.wind_min_kmh for w in labs_w), max),
        wind_max_kmh=_strictest((w.wind_max_kmh for w in labs_w), min),
        temp_min_c=_strictest((w.temp_min_c for w in labs_w), max),
        temp_max_c=_strictest((w.temp_max_c for w in labs_w), min),
        no_inversion=any(w.no_inversion for w in labs_w), daylight_only=any(w.daylight_only for w in labs_w),
    )
    source = "label"
    if restrictions.wind_max_kmh is None:
        restrictions = restrictions.model_copy(update={"wind_max_kmh": default_wind_max_kmh(country)})
        source = "national_default"
    gust = float(round(restrictions.wind_max_kmh * GUST_FACTOR)) if restrictions.wind_max_kmh else None
    restrictions = restrictions.model_copy(update={
        "wind_min_mph": _mph(restrictions.wind_min_kmh, us),
        "wind_max_mph": _mph(restrictions.wind_max_kmh, us), "wind_max_source": source,
        "gust_max_kmh": gust, "gust_max_mph": None if gust is None or not us else float(round(gust / MILE_KM))})

    moneys = [p.money_saved for p in products]
    currencies = {p.currency for p in products}
    money = _optional(summary, "money_saved")
    currency = _optional(summary, "currency")
    if money is None and None not in moneys and len(currencies) == 1:
        money, currency = sum(m for m in moneys if m is not None), next(iter(currencies))
    if currency is None and len(currencies) == 1:
        currency = next(iter(currencies))
    economy = _economy(summary, params, strategy, field_ha, money, currency)

    spray_l = float(summary.get("spray_volume_l") or 0.0)
    tank_l = float((sprayer or {}).get("tank_l") or _optional(summary, "tank_volume_l") or DEFAULT_TANK_L)
    if spray_l <= 0 and treated_ha > 0:
        spray_l = treated_ha * float((sprayer or {}).get("carrier_l_ha") or DEFAULT_CARRIER_L_HA)
    plan = tank_plan(spray_volume_l=spray_l, treated_ha=treated_ha, tank_l=tank_l, unit_system=system,
                     products=[(lab.name, totals[k], canonical_unit(lab.rate_unit).split("/")[0], lab.rate_unit)
                               for k, lab in enumerate(labels)])
    economy = economy.model_copy(update={"tank_loads": plan.loads, "tank_volume_l": tank_l})

    weather = check_weather(forecast, labels, now=now, country=country) if forecast is not None else None
    if buffers:
        warnings.append(WarningFact(code="buffers", mandatory=True,
                                    products=tuple(dict.fromkeys(b.product for b in buffers))))
    # Re-entry and pre-harvest lines are always there: "check the label" when the label document lacks them.
    warnings.append(WarningFact(code="reentry", mandatory=True,
                                products=tuple(lab.name for lab in labels if lab.rei_h is not None)))
    warnings.append(WarningFact(code="weather", mandatory=True))
    if weather is not None and not weather.windows:
        warnings.append(WarningFact(code="no_spray_window", mandatory=True))
    warnings.append(WarningFact(code="harvest_interval", mandatory=True,
                                products=tuple(lab.name for lab in labels if lab.phi_days is not None)))
    if any(s.below_target for s in species):
        warnings.append(WarningFact(code="below_target", mandatory=True))
    if economy.trades_yield:
        warnings.append(WarningFact(code="yield_cost", mandatory=True))
    resistance = _resistance(labels, species)
    warnings.append(WarningFact(code="resistance", mandatory=False,
                                products=tuple(dict.fromkeys(p for r in resistance for p in r.products))))

    return FactSheet(
        generated_at=now,
        field=FieldFacts(name=str(_get(field, "name")), crop=crop,
                         growth_stage_bbch=None if bbch is None else int(bbch),
                         country=_get(field, "country")),
        strategy=strategy, units=system,
        area=AreaFacts(
            field_ha=round(field_ha, 4), sprayable_ha=round(sprayable_ha, 4), treated_ha=round(treated_ha, 4),
            treated_share_pct=round(100.0 * treated_ha / field_ha, 4) if field_ha > 0 else 0.0,
            field_acre=round(field_ha / ACRE_HA, 3) if us else None,
            treated_acre=round(treated_ha / ACRE_HA, 3) if us else None,
            unsprayed_buffer_ha=round(max(field_ha - sprayable_ha, 0.0), 4),
            unsprayed_buffer_acre=round(max(field_ha - sprayable_ha, 0.0) / ACRE_HA, 3) if us else None),
        products=tuple(products), species=tuple(species), buffers=tuple(buffers),
        restrictions=restrictions, resistance=tuple(resistance), economy=economy, weather=weather,
        tank_plan=plan,
        warnings=tuple(warnings), other_names=tuple(others),
    )
