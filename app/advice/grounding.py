"""Is an answer grounded in the fact sheet? Every number with a unit must be a fact.

Checks, each reported as a :class:`Problem` code:

``rate_above_label``   a rate above the label maximum of every product in that unit;
``number_not_in_facts`` a number with a unit that matches no fact of that unit, after
                        allowing for rounding to the decimals the answer shows;
``time_not_in_facts``  a clock time that is no window bound, sunrise or sunset;
``wrong_decimal_separator`` ``1.5 L/ha`` in French or ``1,5 L/ha`` in English;
``missing_warning``    a mandatory warning code absent, or present without its number
                       (buffer distances, re-entry hours, wind limit);
``unknown_name``       a product, active or species name the facts do not name;
``empty``              no summary or no steps.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from app.advice.builtin import AdviceParts
from app.advice.facts import FactSheet
from app.domain.units import canonical_unit, from_canonical_rate, to_canonical_rate

# Answer spelling → unit key. Longest first so "fl oz/acre" wins over "oz/acre".
_UNIT_SPELLINGS: dict[str, str] = {
    "fl oz/acre": "fl oz/acre", "fl oz/ac": "fl oz/acre", "fl oz/a": "fl oz/acre",
    "fl. oz/acre": "fl oz/acre", "oz/acre": "oz/acre", "pt/acre": "pt/acre", "qt/acre": "qt/acre",
    "gal/acre": "gal/acre", "lb/acre": "lb/acre", "l/ha": "L/ha", "ml/ha": "mL/ha", "kg/ha": "kg/ha",
    "g/ha": "g/ha", "plants/m²": "plants/m2", "plants/m2": "plants/m2", "plantes/m²": "plants/m2",
    "plantes/m2": "plants/m2", "km/h": "km/h", "mph": "mph", "°c": "°C", "%": "%",
    "gallons": "gal", "gallon": "gal", "gal": "gal", "litres": "L", "liters": "L", "litre": "L",
    "liter": "L", "l": "L", "kg": "kg", "lb": "lb", "lbs": "lb", "pounds": "lb",
    "ha": "ha", "hectares": "ha", "acres": "acre", "acre": "acre", "ac": "acre",
    "mètres": "m", "metres": "m", "meters": "m", "m": "m", "ft": "ft", "feet": "ft", "pieds": "ft",
    "yd": "yd", "mm": "mm",
    "hours": "h", "hour": "h", "heures": "h", "heure": "h", "hrs": "h", "h": "h",
    "days": "d", "day": "d", "jours": "d", "jour": "d",
    "tank loads": "tanks", "tank load": "tanks", "tanks": "tanks", "cuves": "tanks", "cuve": "tanks",
    "usd": "USD", "eur": "EUR", "gbp": "GBP", "cad": "CAD", "€": "EUR",
}
_NUM = {"en": r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?",
        "fr": r"\d{1,3}(?:[\u202f\u00a0 ]\d{3})+(?:,\d+)?|\d+(?:,\d+)?"}
_UNITS_RE = "|".join(re.escape(u) for u in sorted(_UNIT_SPELLINGS, key=len, reverse=True))
_RANGE_WORDS = r"\s*(?:–|-|—|to|à|and|et)\s*"
_CLOCK = re.compile(r"\b([01]?\d|2[0-3])[:h]([0-5]\d)\b")


@dataclass(frozen=True)
class Problem:
    code: str
    detail: str


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    problems: tuple[Problem, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "problems": [asdict(p) for p in self.problems]}

    @property
    def reason(self) -> str:
        return "; ".join(f"{p.code}: {p.detail}" for p in self.problems)


def _quantity_re(lang: str) -> re.Pattern[str]:
    num = _NUM[lang]
    return re.compile(
        rf"(?<![\w.,])(?P<a>{num})(?:{_RANGE_WORDS}(?P<b>{num}))?[\s\u202f\u00a0]*"
        rf"(?P<unit>{_UNITS_RE})(?![\w/])", re.IGNORECASE)


def _to_float(text: str, lang: str) -> tuple[float, int]:
    """(value, decimals shown)."""
    t = re.sub(r"[\u202f\u00a0 ]", "", text)
    t = t.replace(",", ".") if lang == "fr" else t.replace(",", "")
    return float(t), len(t.split(".")[1]) if "." in t else 0


def quantities_in(text: str, lang: str) -> list[tuple[float, int, str, str]]:
    """Every (value, decimals, unit key, matched text) with a unit in ``text``; ranges give two."""
    out = []
    for m in _quantity_re(lang).finditer(text):
        unit = _UNIT_SPELLINGS[m.group("unit").lower()]
        for g in ("a", "b"):
            if m.group(g):
                v, d = _to_float(m.group(g), lang)
                out.append((v, d, unit, m.group(0)))
    return out


def fact_quantities(f: FactSheet) -> dict[str, list[float]]:
    """Every quantity of the sheet by unit key, as an answer may state it."""
    q: dict[str, list[float]] = defaultdict(list)

    def add(unit: str | None, *values: float | None) -> None:
        if unit:
            q[unit].extend(float(v) for v in values if v is not None)

    a = f.area
    add("ha", a.field_ha, a.sprayable_ha, a.treated_ha)
    add("acre", a.field_acre, a.treated_acre)
    add("%", a.treated_share_pct, 25.0)  # 25 %: the inversion cloud limit
    for p in f.products:
        add(p.rate_unit, p.rate, p.min_rate, p.max_rate, p.max_season_rate)
        add(p.canonical_unit, p.rate_canonical, *(to_canonical_rate(v, p.rate_unit) for v in
                                                  (p.min_rate, p.max_rate, p.max_season_rate) if v))
        canon = p.canonical_unit.split("/")[0]
        ratio = p.total_canonical / p.total if p.total else None
        add(p.total_unit, p.total, p.broadcast_total, p.saved)
        add(canon, p.total_canonical, *(v * ratio for v in (p.broadcast_total, p.saved) if ratio))
        add("%", p.saving_pct)
        add(p.currency, p.money_saved, p.price)
        add("h", p.rei_h, p.weather.rain_free_h)
        add("d", p.phi_days, p.min_days_between_applications)
        add("km/h", p.weather.wind_min_kmh, p.weather.wind_max_kmh)
        add("mph", p.weather.wind_min_mph, p.weather.wind_max_mph)
        add("°C", p.weather.temp_min_c, p.weather.temp_max_c)
    for b in f.buffers:
        add(b.unit, b.distance)
        add("m", b.metres)
    for s in f.species:
        add("%", s.control_pct)
        add("plants/m2", s.surviving_plants_m2)
    e = f.economy
    add(e.currency, e.money_saved)
    add("tanks", e.tank_loads)
    add("L", e.tank_volume_l)
    add("%", e.yield_loss_pct, e.yield_loss_broadcast_pct)
    add("km/h", 3.0)  # the inversion wind threshold (DOMAIN.md section 6)
    add("h", 1.0)  # inversions: from 1 h before sunset to 1 h after sunrise
    if f.weather is not None:
        for h in f.weather.hours:
            add("km/h", h.wind_kmh, h.gust_kmh)
            add("°C", h.temp_c)
            add("mm", h.rain_mm)
            add("%", h.cloud_pct)
        for w in f.weather.windows:
            add("km/h", w.wind_kmh_min, w.wind_kmh_max)
            add("h", w.hours)
    return q


def _clock_times(f: FactSheet) -> set[str]:
    times: set[str] = set()
    if f.weather is not None:
        for w in f.weather.windows:
            times.update({f"{w.start:%H:%M}", f"{w.end:%H:%M}"})
        for d in f.weather.sun:
            times.update(f"{t:%H:%M}" for t in (d.sunrise, d.sunset) if t is not None)
    return times


def _matches(value: float, decimals: int, facts: Iterable[float]) -> bool:
    tol = 0.5 * 10.0 ** -decimals + 1e-9
    return any(abs(value - f) <= tol * (1 + 1e-6) for f in facts)


def _label_max(f: FactSheet, unit: str) -> float | None:
    """The highest label maximum of the mix expressed in ``unit``, None if no product doses in it."""
    canon = canonical_unit(unit)
    maxima = [from_canonical_rate(to_canonical_rate(p.max_rate, p.rate_unit), unit)
              for p in f.products if p.canonical_unit == canon]
    return max(maxima) if maxima else None


_RATE_KEYS = {"fl oz/acre", "oz/acre", "pt/acre", "qt/acre", "gal/acre", "lb/acre", "L/ha", "mL/ha",
              "kg/ha", "g/ha"}


def _has_number(text: str, lang: str, values: Iterable[float]) -> bool:
    found = [(v, d) for v, d, _, _ in quantities_in(text, lang)]
    return any(_matches(v, d, values) for v, d in found)


def check_answer(parts: AdviceParts, facts: FactSheet, lang: str) -> CheckResult:
    """Check a writer's answer against the fact sheet it was written from.

    >>> from app.advice.examples import example_inputs
    >>> from app.advice.facts import build_fact_sheet
    >>> from app.advice.builtin import builtin_parts
    >>> f = build_fact_sheet(**example_inputs())
    >>> check_answer(builtin_parts(f, "en"), f, "en").ok
    True
    """
    problems: list[Problem] = []
    text = "\n".join([parts.summary, *parts.steps, *(t for _, t in parts.warnings)])
    if not parts.summary.strip() or not parts.steps:
        problems.append(Problem("empty", "no summary or no steps"))

    wrong_sep = (r"\d+\.\d+" if lang == "fr" else r"\d+,(?:\d{1,2}|\d{4,})(?!\d)")
    for m in re.finditer(rf"(?<![\w.,])({wrong_sep})\s*(?:{_UNITS_RE})(?![\w/])", text, re.IGNORECASE):
        problems.append(Problem("wrong_decimal_separator", m.group(0)))

    known = fact_quantities(facts)
    for value, decimals, unit, where in quantities_in(text, lang):
        if unit in _RATE_KEYS:
            top = _label_max(facts, unit)
            if top is not None and value - 0.5 * 10.0 ** -decimals > top * (1 + 1e-6):
                problems.append(Problem("rate_above_label", f"{where!r} is above the label maximum"))
                continue
        if not _matches(value, decimals, known.get(unit, [])):
            problems.append(Problem("number_not_in_facts", f"{where!r}"))
    clocks = _clock_times(facts)
    for m in _CLOCK.finditer(text):
        hhmm = f"{int(m.group(1)):02d}:{m.group(2)}"
        if hhmm not in clocks:
            problems.append(Problem("time_not_in_facts", m.group(0)))

    given = dict(parts.warnings)
    for code in facts.mandatory_warnings:
        if code not in given:
            problems.append(Problem("missing_warning", code))
            continue
        body = given[code]
        r = facts.restrictions
        need: list[tuple[str, list[float]]] = []
        if code == "buffers":
            need = [(f"{b.product} {b.kind}", [b.distance, b.metres]) for b in facts.buffers]
        elif code == "reentry" and r.rei_h is not None:
            need = [("re-entry hours", [r.rei_h])]
        elif code == "weather" and r.wind_max_kmh is not None:
            need = [("wind limit", [r.wind_max_kmh, *([r.wind_max_mph] if r.wind_max_mph else [])])]
        for what, values in need:
            if not _has_number(body, lang, values):
                problems.append(Problem("missing_warning", f"{code} does not state the {what}"))

    for name in facts.other_names:
        if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.IGNORECASE):
            problems.append(Problem("unknown_name", name))
    stated = " ".join(facts.names_in_facts()).lower()
    for m in re.finditer(r"([\w\-]+)\s?[®™]", text):
        if m.group(1).lower() not in stated:
            problems.append(Problem("unknown_name", m.group(0)))
    return CheckResult(ok=not problems, problems=tuple(problems))
