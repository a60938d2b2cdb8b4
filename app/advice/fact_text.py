"""Facts the service writes itself: one short text per fact id, per language.

The LLM writer never types a rate, a total, a buffer, a re-entry time, a wind
limit, a spray window or an expected control. It writes ``{rate.1}`` or
``{buffers}`` and the service fills the placeholder with the text made here from
the fact sheet. The model sees the ids and what each stands for (``catalogue``),
never a way to change what they say.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from app.advice.facts import BufferFacts, FactSheet
from app.advice.number_format import LANGS, format_number, format_percent

# Decimals per kind of quantity, as the built-in writer writes them (trailing zeros dropped).
DECIMALS: dict[str, int] = {"rate": 2, "total": 2, "area": 2, "pct": 0, "m": 0, "distance": 1, "h": 1,
                            "days": 0, "kmh": 0, "mph": 0, "money": 0, "temp": 0, "density": 1, "tanks": 1}

WORDS: dict[str, dict[str, str]] = {
    "en": {"and": "and", "h": "{n} h", "days": "{n} days", "day": "{n} day", "from": "{d} from {kind} ({p})",
           "downwind": "{d} downwind of the field ({p})", "wind_max": "at or below {kmh}{mph}",
           "wind_range": "between {kmin} and {kmax}{mph}", "temp_min": "at or above {t}",
           "temp_max": "at or below {t}", "span": "{a}–{b}",
           "water": "water", "lake": "lakes and reservoirs", "well": "wells",
           "runoff_entry": "points where runoff enters streams", "sensitive_crop": "sensitive crops",
           "residential": "homes", "other": "sensitive areas"},
    "fr": {"and": "et", "h": "{n} h", "days": "{n} jours", "day": "{n} jour", "from": "{d} des {kind} ({p})",
           "downwind": "{d} sous le vent de la parcelle ({p})", "wind_max": "inférieur ou égal à {kmh}{mph}",
           "wind_range": "entre {kmin} et {kmax}{mph}", "temp_min": "à {t} au moins", "temp_max": "à {t} au plus",
           "span": "{a}–{b}",
           "water": "points d’eau", "lake": "lacs et réservoirs", "well": "puits",
           "runoff_entry": "points d’entrée du ruissellement dans les cours d’eau",
           "sensitive_crop": "cultures sensibles", "residential": "habitations", "other": "zones sensibles"},
    "de": {"and": "und", "h": "{n} h", "days": "{n} Tage", "day": "{n} Tag", "from": "{d} zu {kind} ({p})",
           "downwind": "{d} in Windrichtung vom Feld ({p})", "wind_max": "höchstens {kmh}{mph}",
           "wind_range": "zwischen {kmin} und {kmax}{mph}", "temp_min": "mindestens {t}", "temp_max": "höchstens {t}",
           "span": "{a}–{b}",
           "water": "Gewässern", "lake": "Seen und Speichern", "well": "Brunnen",
           "runoff_entry": "Stellen, an denen Abfluss in Gewässer gelangt", "sensitive_crop": "empfindlichen Kulturen",
           "residential": "Wohnhäusern", "other": "empfindlichen Flächen"},
}
WEEKDAYS: dict[str, tuple[str, ...]] = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "fr": ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."),
    "de": ("Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So."),
}
MONTHS: dict[str, tuple[str, ...]] = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "fr": ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."),
    "de": ("Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sept.", "Okt.", "Nov.", "Dez."),
}
PLACEHOLDER = re.compile(r"\{([a-z_]+(?:\.[A-Za-z0-9_]+)?)\}")


@dataclass(frozen=True)
class FactText:
    """One fact as the service words it: ``id`` for the model, ``text`` for the farmer."""

    id: str
    text: str
    about: str


def _num(value: float, lang: str, kind: str) -> str:
    if lang in LANGS:
        return format_number(value, lang, DECIMALS[kind])
    # German until number_format carries it: decimal comma, thousands dot
    return format_number(value, "en", DECIMALS[kind]).replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def _pct(value: float, lang: str) -> str:
    if lang in LANGS:
        return format_percent(value, lang, DECIMALS["pct"])
    return f"{_num(value, lang, 'pct')}\u202f%"


def _qty(value: float, unit: str, lang: str, kind: str) -> str:
    return f"{_num(value, lang, kind)} {unit}"


def _join(items: list[str], lang: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {WORDS[lang]['and']} {items[-1]}"


def _when(t: datetime, lang: str) -> str:
    return f"{WEEKDAYS[lang][t.weekday()]} {t.day} {MONTHS[lang][t.month - 1]} {t:%H:%M}"


def _distance(b: BufferFacts, lang: str) -> str:
    if b.unit == "m":
        return _qty(b.metres, "m", lang, "m")
    return f"{_qty(b.distance, b.unit, lang, 'distance')} ({_qty(b.metres, 'm', lang, 'm')})"


def _buffer(b: BufferFacts, lang: str) -> str:
    w = WORDS[lang]
    if b.kind == "downwind":
        return w["downwind"].format(d=_distance(b, lang), p=b.product)
    return w["from"].format(d=_distance(b, lang), kind=w.get(b.kind, w["other"]), p=b.product)


def _hours(h: float, lang: str) -> str:
    return WORDS[lang]["h"].format(n=_num(h, lang, "h"))


def _days(d: float, lang: str) -> str:
    return WORDS[lang]["day" if d == 1 else "days"].format(n=_num(d, lang, "days"))


def fact_table(facts: FactSheet, lang: str) -> dict[str, FactText]:
    """Every fact the model may place, by id, worded in ``lang`` (en, fr, de).

    >>> from app.advice.examples import example_inputs
    >>> from app.advice.facts import build_fact_sheet
    >>> t = fact_table(build_fact_sheet(**example_inputs()), "en")
    >>> t["rate.1"].text, t["max_rate.1"].text
    ('32 fl oz/acre (2.34 L/ha)', '32 fl oz/acre')
    """
    if lang not in WORDS:
        raise ValueError(f"no fact wording for {lang!r}; valid languages: {', '.join(WORDS)}")
    f = facts
    out: dict[str, FactText] = {}

    def put(fid: str, text: str, about: str) -> None:
        out[fid] = FactText(fid, text, about)

    def area(ha: float, acre: float | None) -> str:
        text = _qty(ha, "ha", lang, "area")
        return text if acre is None else f"{text} ({_qty(acre, 'acres', lang, 'area')})"

    put("field", f.field.name, "the field's name")
    put("crop", f.field.crop, "the crop")
    put("treated_area", area(f.area.treated_ha, f.area.treated_acre), "area to spray")
    put("field_area", area(f.area.field_ha, f.area.field_acre), "field area")
    put("treated_share", _pct(f.area.treated_share_pct, lang), "share of the field sprayed")
    for n, p in enumerate(f.products, 1):
        canon = "" if p.rate_unit == p.canonical_unit else \
            f" ({_qty(p.rate_canonical, p.canonical_unit, lang, 'rate')})"
        put(f"product.{n}", p.name, f"product {n}")
        put(f"rate.{n}", f"{_qty(p.rate, p.rate_unit, lang, 'rate')}{canon}",
            f"{p.name}: rate to apply" + (" (average; varies over the field)" if p.rate_is_average else ""))
        put(f"max_rate.{n}", _qty(p.max_rate, p.rate_unit, lang, "rate"), f"{p.name}: label maximum rate")
        put(f"min_rate.{n}", _qty(p.min_rate, p.rate_unit, lang, "rate"), f"{p.name}: label minimum rate")
        put(f"total.{n}", _qty(p.total, p.total_unit, lang, "total"), f"{p.name}: total product needed")
        put(f"broadcast_total.{n}", _qty(p.broadcast_total, p.total_unit, lang, "total"),
            f"{p.name}: total a broadcast would need")
        put(f"saved.{n}", _qty(p.saved, p.total_unit, lang, "total"), f"{p.name}: product saved")
        put(f"saving.{n}", _pct(p.saving_pct, lang), f"{p.name}: saving against a broadcast")
        if p.money_saved is not None and p.currency:
            put(f"money_saved.{n}", _qty(p.money_saved, p.currency, lang, "money"), f"{p.name}: money saved")
    if f.buffers:
        put("buffers", "; ".join(_buffer(b, lang) for b in f.buffers), "every no-spray buffer")
        for n, b in enumerate(f.buffers, 1):
            put(f"buffer.{n}", _buffer(b, lang), f"buffer {n}: {b.kind} ({b.product})")
    r = f.restrictions
    if r.rei_h is not None:
        put("reentry", _hours(r.rei_h, lang), "re-entry interval: keep people out this long")
    if r.phi_days is not None:
        put("harvest_interval", _days(r.phi_days, lang), "pre-harvest interval")
    if r.min_days_between_applications is not None:
        put("days_between", _days(r.min_days_between_applications, lang), "minimum days between applications")
    if r.rain_free_h:
        put("rain_free", _hours(r.rain_free_h, lang), "no rain for this long after spraying")
    if r.wind_max_kmh is not None:
        w = WORDS[lang]
        kmax = _qty(r.wind_max_kmh, "km/h", lang, "kmh")
        mmax = "" if r.wind_max_mph is None else _qty(r.wind_max_mph, "mph", lang, "mph")
        if r.wind_min_kmh is not None:
            kmin = _qty(r.wind_min_kmh, "km/h", lang, "kmh")
            mmin = "" if r.wind_min_mph is None else _qty(r.wind_min_mph, "mph", lang, "mph")
            mph = f" ({mmin.rsplit(' ', 1)[0]}–{mmax})" if mmax else ""
            put("wind_limit", w["wind_range"].format(kmin=kmin, kmax=kmax, mph=mph), "wind allowed by the labels")
        else:
            put("wind_limit", w["wind_max"].format(kmh=kmax, mph=f" ({mmax})" if mmax else ""),
                "wind allowed by the labels")
    temps = []
    if r.temp_min_c is not None:
        temps.append(WORDS[lang]["temp_min"].format(t=_qty(r.temp_min_c, "°C", lang, "temp")))
    if r.temp_max_c is not None:
        temps.append(WORDS[lang]["temp_max"].format(t=_qty(r.temp_max_c, "°C", lang, "temp")))
    if temps:
        put("temperature_limit", _join(temps, lang), "temperature allowed by the labels")
    if f.weather is not None:
        for n, win in enumerate(f.weather.windows[:4], 1):
            same_day = win.start.date() == win.end.date() or (win.end.hour, win.end.minute) == (0, 0)
            end = f"{win.end:%H:%M}" if same_day else _when(win.end, lang)
            put(f"window.{n}", WORDS[lang]["span"].format(a=_when(win.start, lang), b=end),
                f"spray window {n}: wind {win.wind_kmh_min:g}-{win.wind_kmh_max:g} km/h from {win.wind_from}")
    for s in f.species:
        name = s.names.get(lang) or s.name
        put(f"species.{s.code}", f"{name} ({s.code})" if name else s.code, f"weed {s.code}")
        if s.control_pct is not None:
            put(f"control.{s.code}", _pct(s.control_pct, lang), f"expected control of {s.code}")
        if s.surviving_plants_m2 is not None:
            put(f"surviving.{s.code}", f"{_num(s.surviving_plants_m2, lang, 'density')} plants/m²",
                f"{s.code} plants expected to survive")
    e = f.economy
    if e.tank_loads is not None:
        put("tanks", _num(e.tank_loads, lang, "tanks"), "tank loads")
    if e.tank_volume_l is not None:
        put("tank_volume", _qty(e.tank_volume_l, "L", lang, "total"), "tank size")
    if e.money_saved is not None and e.currency:
        put("money_saved", _qty(e.money_saved, e.currency, lang, "money"), "money saved in total")
    return out


def catalogue(table: Mapping[str, FactText]) -> dict[str, str]:
    """What the model is told about each id (never the value: it must not copy numbers)."""
    return {fid: ft.about for fid, ft in table.items()}


def fill(text: str, table: Mapping[str, FactText]) -> tuple[str, list[str]]:
    """``text`` with every ``{id}`` replaced by the service's wording; also the unknown ids."""
    unknown: list[str] = []

    def sub(m: re.Match[str]) -> str:
        fact = table.get(m.group(1))
        if fact is None:
            unknown.append(m.group(1))
            return m.group(0)
        return fact.text

    return PLACEHOLDER.sub(sub, text), unknown
