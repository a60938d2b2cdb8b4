"""The built-in writer: deterministic advice from the fact sheet, worded from the locale files.

Templates, crop and compass names live in ``app/advice/locales/<lang>.json``;
numbers, percentages, money and dates come from CLDR (Babel) through
``number_format``, rounded once by ``display_round``. Adding a language is
adding a locale file with the same keys; no code here changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.advice.facts import BufferFacts, FactSheet, ProductFacts, SpeciesFacts, WarningFact
from app.advice.locales import LANGS, crop_name, locale_data
from app.advice.number_format import format_day, format_money, format_number, format_percent, style_for
from app.advice.tank_plan import TankLoad, TankPlan, TankProduct
from app.domain.units import MILE_IN_KM

# How many decimals each kind of quantity is written with (trailing zeros dropped).
DECIMALS: dict[str, int] = {"rate": 2, "total": 2, "area": 2, "pct": 0, "m": 0, "distance": 1, "h": 1,
                            "days": 0, "kmh": 0, "mph": 0, "money": 0, "temp": 0, "density": 1,
                            "tank": 0, "water": 0, "amount": 2, "carrier": 0}

TEMPLATES: dict[str, dict[str, str]] = {lang: locale_data(lang)["templates"] for lang in LANGS}


@dataclass(frozen=True)
class AdviceParts:
    """What a writer produces before rendering: one summary, steps and warnings (code, text)."""

    summary: str
    steps: tuple[str, ...]
    warnings: tuple[tuple[str, str], ...]


class _Words:
    """Number, unit and date wording for one language and unit system."""

    def __init__(self, lang: str, facts: FactSheet) -> None:
        style_for(lang)  # raises on an unknown language
        self.lang = lang
        self.t = TEMPLATES[lang]
        self.compass: dict[str, str] = locale_data(lang)["compass"]
        self.us = facts.units == "us"
        self.now = facts.generated_at

    def num(self, value: float, kind: str) -> str:
        return format_number(value, self.lang, DECIMALS[kind])

    def qty(self, value: float, unit: str, kind: str) -> str:
        return f"{self.num(value, kind)} {unit}"

    def pct(self, value: float) -> str:
        return format_percent(value, self.lang, DECIMALS["pct"])

    def money(self, value: float, currency: str) -> str:
        return format_money(value, currency, self.lang, DECIMALS["money"])

    def hours(self, h: float) -> str:
        return self.t["hours"].format(n=self.num(h, "h"))

    def days(self, d: float) -> str:
        return self.t["day" if d == 1 else "days"].format(n=self.num(d, "days"))

    def area(self, ha: float, acre: float | None) -> str:
        """Acres first (hectares in brackets) for US customary, hectares alone otherwise."""
        text = self.qty(ha, "ha", "area")
        if acre is None:
            return text
        return f"{self.qty(acre, self.t['acres'], 'area')} ({text})"

    def join(self, items: Sequence[str]) -> str:
        items = list(items)
        if len(items) <= 1:
            return "".join(items)
        return f"{', '.join(items[:-1])} {self.t['and']} {items[-1]}"

    def day(self, t: datetime) -> str:
        """Weekday and date; the year too when the day is not within the coming week."""
        near = timedelta(0) <= t.date() - self.now.astimezone(t.tzinfo).date() <= timedelta(days=6)
        return format_day(t.date(), self.lang, with_year=not near)

    def when(self, t: datetime) -> str:
        return f"{self.day(t)} {t:%H:%M}"

    def span(self, start: datetime, end: datetime) -> str:
        if start.date() == end.date() or (end.hour, end.minute) == (0, 0) and (end - start) <= timedelta(days=1):
            return f"{self.when(start)}{self.t['to']}{end:%H:%M}"
        return f"{self.when(start)} {self.t['to']} {self.when(end)}"

    def clock_span(self, start: datetime, end: datetime, day_shown: bool) -> str:
        """``09:00–11:00`` when the day was already written, else with the day."""
        if day_shown and start.date() == end.date() or day_shown and (end.hour, end.minute) == (0, 0):
            return f"{start:%H:%M}{self.t['to']}{end:%H:%M}"
        return self.span(start, end)

    def distance(self, b: BufferFacts) -> str:
        if b.unit == "m":
            return self.qty(b.metres, "m", "m")
        return f"{self.qty(b.distance, b.unit, 'distance')} ({self.qty(b.metres, 'm', 'm')})"

    def wind(self, kmh: float, mph: float | None = None) -> str:
        """``10 mph (16 km/h)`` for US customary, ``19 km/h`` otherwise."""
        if not self.us:
            return self.qty(kmh, "km/h", "kmh")
        mph = round(kmh / MILE_IN_KM, 1) if mph is None else mph
        return f"{self.qty(mph, 'mph', 'mph')} ({self.qty(kmh, 'km/h', 'kmh')})"

    def wind_range(self, kmin: float, kmax: float) -> str:
        if self.num(kmin, "kmh") == self.num(kmax, "kmh"):
            return self.wind(kmax)
        if not self.us:
            return f"{self.num(kmin, 'kmh')}{self.t['to']}{self.qty(kmax, 'km/h', 'kmh')}"
        mmin, mmax = round(kmin / MILE_IN_KM, 1), round(kmax / MILE_IN_KM, 1)
        return (f"{self.num(mmin, 'mph')}{self.t['to']}{self.qty(mmax, 'mph', 'mph')} "
                f"({self.num(kmin, 'kmh')}{self.t['to']}{self.qty(kmax, 'km/h', 'kmh')})")


def _rate_line(w: _Words, p: ProductFacts) -> str:
    canon = ""
    if p.rate_unit != p.canonical_unit:
        canon = f" ({w.qty(p.rate_canonical, p.canonical_unit, 'rate')})"
    key = "rate_average" if p.rate_is_average else "rate"
    return w.t[key].format(product=p.name, rate=w.qty(p.rate, p.rate_unit, "rate"), canon=canon,
                           max=w.qty(p.max_rate, p.rate_unit, "rate"))


def _total_line(w: _Words, p: ProductFacts) -> str:
    canon_unit = p.canonical_unit.split("/")[0]
    canon = "" if p.total_unit == canon_unit else f" ({w.qty(p.total_canonical, canon_unit, 'total')})"
    money = ""
    if p.money_saved is not None and p.currency:
        money = w.t["money"].format(money=w.money(p.money_saved, p.currency))
    return w.t["total"].format(
        product=p.name, total=w.qty(p.total, p.total_unit, "total"), canon=canon,
        broadcast=w.qty(p.broadcast_total, p.total_unit, "total"),
        saved=w.qty(p.saved, p.total_unit, "total"),
        pct=w.pct(p.saving_pct), money=money)


def _species_name(facts_species: SpeciesFacts, lang: str) -> str:
    name = facts_species.names.get(lang) or facts_species.name
    return f"{name} ({facts_species.code})" if name else facts_species.code


def _amounts(w: _Words, products: Sequence[TankProduct]) -> str:
    return w.join([f"{w.qty(p.amount, p.unit, 'amount')} {p.product}" for p in products])


def _tank_steps(w: _Words, plan: TankPlan | None) -> list[str]:
    if plan is None:
        return []
    if plan.loads == 0:
        return [w.t["tank_none"]]
    t = w.t
    vol = plan.volume_unit
    area_unit = t["acres"] if plan.area_unit == "acre" else "ha"
    loads = t["tank_loads_one"] if plan.loads == 1 else t["tank_loads_many"].format(n=plan.loads)
    steps = [t["tank_plan"].format(
        loads=loads, tank=w.qty(plan.tank_volume, vol, "tank"),
        # "150 L per ha", not "150 L/ha": a carrier volume must not read as a product rate
        carrier=t["carrier"].format(volume=w.qty(plan.carrier_rate, vol, "carrier"),
                                    area=t["per_acre"] if plan.area_unit == "acre" else "ha"))]

    def load_words(load: TankLoad) -> dict[str, str]:
        return {"water": w.qty(load.water, vol, "water"), "products": _amounts(w, load.products),
                "area": w.qty(load.area, area_unit, "area"), "volume": w.qty(load.volume, vol, "water")}

    if plan.full_tank is not None:
        key = "tank_full_one" if plan.full_tanks == 1 else "tank_full_many"
        steps.append(t[key].format(n=plan.full_tanks, **load_words(plan.full_tank)))
    if plan.last_tank is not None:
        key = "tank_last" if plan.full_tanks else "tank_only"
        steps.append(t[key].format(**load_words(plan.last_tank)))
    steps.append(t["tank_total"].format(water=w.qty(plan.total_water, vol, "water"),
                                        products=_amounts(w, plan.total_products)))
    return steps


def _weather_conditions(w: _Words, f: FactSheet) -> str:
    r = f.restrictions
    conds = []
    if r.wind_max_kmh is not None:
        if r.wind_min_kmh is not None:
            conds.append(w.t["cond_wind_range"].format(kmin=w.wind(r.wind_min_kmh, r.wind_min_mph),
                                                       kmax=w.wind(r.wind_max_kmh, r.wind_max_mph)))
        else:
            key = "cond_wind_default" if r.wind_max_source == "national_default" else "cond_wind_max"
            conds.append(w.t[key].format(wind=w.wind(r.wind_max_kmh, r.wind_max_mph)))
    if r.gust_max_kmh is not None:
        conds.append(w.t["cond_gust"].format(wind=w.wind(r.gust_max_kmh, r.gust_max_mph)))
    if r.rain_free_h:
        conds.append(w.t["cond_rain"].format(h=w.hours(r.rain_free_h)))
    if r.temp_min_c is not None:
        conds.append(w.t["cond_temp_min"].format(t=w.qty(r.temp_min_c, "°C", "temp")))
    if r.temp_max_c is not None:
        conds.append(w.t["cond_temp_max"].format(t=w.qty(r.temp_max_c, "°C", "temp")))
    if r.daylight_only:
        conds.append(w.t["cond_daylight"])
    return w.join(conds)


def _buffer_list(w: _Words, buffers: Sequence[BufferFacts]) -> str:
    items = []
    for b in buffers:
        if b.kind == "downwind":
            key = "downwind_item_all_round" if b.all_round else "downwind_item"
            items.append(w.t[key].format(dist=w.distance(b), product=b.product))
        else:
            kind = b.kind if f"kind_{b.kind}" in w.t else "other"
            items.append(w.t["buffer_item"].format(dist=w.distance(b), kind=w.t[f"kind_{kind}"],
                                                   product=b.product, why=w.t[f"why_{kind}"]))
    return w.t["list_sep"].join(items)


def _refused_lines(w: _Words, f: FactSheet) -> list[str]:
    """Each ruled-out block of hours with its reasons, so the farmer sees why the window is where it is."""
    wc = f.weather
    if wc is None or not wc.refused_blocks:
        return []
    items = []
    last_day = None
    for block in wc.refused_blocks[:8]:
        day_shown = last_day == block.start.date()
        reasons = w.join([w.t[f"reason_{c}"] for c in block.reasons])
        items.append(w.t["refused_item"].format(span=w.clock_span(block.start, block.end, day_shown),
                                                reasons=reasons))
        last_day = block.start.date()
    return [w.t["refused"].format(list=w.t["list_sep"].join(items))]


def _weather_steps(w: _Words, f: FactSheet) -> list[str]:
    if f.weather is None:
        return [w.t["no_forecast"]]
    wc = f.weather
    if not wc.hours:
        end = wc.forecast_end or f.generated_at
        return [w.t["past_forecast"].format(end=w.when(end))]
    if not wc.windows:
        end = wc.hours[-1].time + timedelta(hours=1)
        top = sorted(wc.refused_by.items(), key=lambda kv: -kv[1])[:3]
        reasons = w.join([w.t[f"reason_{c}"] for c, _ in top])
        return [w.t["no_window"].format(end=w.when(end), reasons=reasons), *_refused_lines(w, f)]
    first = wc.windows[0]
    line = w.t["window"].format(span=w.span(first.start, first.end), frm=w.compass[first.wind_from],
                                wind=w.wind_range(first.wind_kmh_min, first.wind_kmh_max),
                                side=w.compass[first.downwind_side])
    downwind = [b for b in f.buffers if b.kind == "downwind"]
    if downwind:
        line += w.t["window_buffers"].format(buffers=w.join([w.distance(b) for b in downwind]),
                                             side=w.compass[first.downwind_side])
    steps = [line, *_refused_lines(w, f)]
    if len(wc.windows) > 1:
        steps.append(w.t["windows_more"].format(
            list=w.join([w.span(x.start, x.end) for x in wc.windows[1:4]])))
    return steps


def _below_target(w: _Words, f: FactSheet) -> str:
    items: list[str] = []
    uncovered: list[str] = []
    for s in f.species:
        if not s.below_target:
            continue
        name = _species_name(s, w.lang)
        target = w.pct(s.target_pct or 0.0)
        if s.control_pct is None:
            item = w.t["below_item_unknown"].format(name=name, target=target)
        else:
            item = w.t["below_item"].format(name=name, pct=w.pct(s.control_pct), target=target)
        if s.alternatives:
            alts = w.join([w.t["alternative"].format(product=a.product, group=a.group, pct=w.pct(a.control_pct))
                           for a in s.alternatives])
            item += w.t["below_alternatives"].format(products=alts)
        else:
            uncovered.append(name)
        items.append(item)
    text = w.t["w_below_target"].format(list=w.t["list_sep"].join(items))
    if uncovered:
        text += w.t["below_none"].format(names=w.join(uncovered))
    return text


def _yield_cost(w: _Words, f: FactSheet) -> str:
    e = f.economy
    cur = e.currency or "EUR"
    words = {"loss": format_percent(e.extra_yield_loss_pct or 0.0, w.lang, 1),
             "cost": w.money(e.yield_cost or 0.0, cur), "price": w.money(e.crop_price_per_t or 0.0, cur),
             "yield_t": w.num(e.expected_yield_t_ha or 0.0, "distance")}
    if e.money_saved is None or e.net_gain is None:
        return w.t["w_yield_cost_no_money"].format(**words)
    return w.t["w_yield_cost"].format(saved=w.money(e.money_saved, cur), net=w.money(e.net_gain, cur), **words)


def _warning_text(w: _Words, f: FactSheet, wf: WarningFact) -> str:
    t = w.t
    code = wf.code
    product = wf.products[0] if wf.products else ""
    by_name = {p.name: p for p in f.products}
    if code == "buffers":
        return t["w_buffers"].format(unsprayed=w.area(f.area.unsprayed_buffer_ha, f.area.unsprayed_buffer_acre),
                                     list=_buffer_list(w, f.buffers))
    if code == "reentry":
        if f.restrictions.rei_h is None:
            return t["w_reentry_unknown"]
        return t["w_reentry"].format(h=w.hours(f.restrictions.rei_h))
    if code == "weather":
        return t["w_weather"].format(conditions=_weather_conditions(w, f))
    if code == "no_spray_window":
        return t["w_no_spray_window"]
    if code == "harvest_interval":
        if f.restrictions.phi_days is None:
            return t["w_harvest_unknown"]
        return t["w_harvest_interval"].format(days=w.days(f.restrictions.phi_days))
    if code == "below_target":
        return _below_target(w, f)
    if code == "yield_cost":
        return _yield_cost(w, f)
    if code == "crop_not_on_label":
        return t["w_crop_not_on_label"].format(product=product, crop=crop_name(f.field.crop, w.lang))
    if code == "stage_beyond_label":
        return t["w_stage_beyond_label"].format(product=product, bbch=f.field.growth_stage_bbch,
                                                max=by_name[product].crop_max_bbch)
    if code == "rate_outside_label":
        return t["w_rate_outside_label"].format(product=product)
    if code == "resistance":
        species = {s.code: _species_name(s, w.lang) for s in f.species}
        parts = []
        for note in f.resistance:
            groups = w.join(sorted({p.group for p in f.products}, key=lambda g: (len(g), g)))
            parts.append(t[f"r_{note.code}"].format(
                group=note.group, groups=groups, species=w.join([species.get(c, c) for c in note.species])))
        return " ".join(parts)
    raise ValueError(f"no wording for warning {code!r}")


def builtin_parts(facts: FactSheet, lang: str = "en") -> AdviceParts:
    """Word the fact sheet in ``lang``; same facts and language give the same text.

    >>> from app.advice.examples import example_inputs
    >>> from app.advice.facts import build_fact_sheet
    >>> builtin_parts(build_fact_sheet(**example_inputs()), "fr").steps[0]
    'Roundup PowerMAX\xa0: 32 fl oz/acre (2,34 L/ha) sur la zone traitée (maximum autorisé 32 fl oz/acre).'
    """
    w = _Words(lang, facts)
    t = w.t
    f = facts
    stage = "" if f.field.growth_stage_bbch is None else t["stage"].format(bbch=f.field.growth_stage_bbch)
    summary = t["summary"].format(
        field=f.field.name, crop=crop_name(f.field.crop, lang), stage=stage,
        verb=t["verb_broadcast" if f.strategy == "broadcast" else "verb_spot"],
        treated=w.area(f.area.treated_ha, f.area.treated_acre),
        area=w.area(f.area.field_ha, f.area.field_acre),
        share=w.pct(f.area.treated_share_pct), products=w.join([p.name for p in f.products]))
    savings = {w.pct(p.saving_pct) for p in f.products}
    if len(savings) == 1 and f.products[0].saving_pct >= 0.5:
        summary += t["summary_saving"].format(pct=savings.pop())

    steps = [_rate_line(w, p) for p in f.products]
    steps += [_total_line(w, p) for p in f.products]
    steps += _tank_steps(w, f.tank_plan)
    if f.species:
        items = []
        for s in f.species:
            name = _species_name(s, lang)
            if s.control_pct is not None:
                items.append(t["species_control"].format(name=name, pct=w.pct(s.control_pct)))
            elif s.surviving_plants_m2 is not None:
                items.append(t["species_surviving"].format(name=name,
                                                           density=w.num(s.surviving_plants_m2, "density")))
            else:
                items.append(t["species_no_curve"].format(name=name))
        steps.append(t["species"].format(list=t["list_sep"].join(items)))
    steps += _weather_steps(w, f)
    warnings = tuple((wf.code, _warning_text(w, f, wf)) for wf in f.warnings)
    return AdviceParts(summary=summary, steps=tuple(steps), warnings=warnings)


def render(parts: AdviceParts, facts: FactSheet, lang: str) -> tuple[str, str]:
    """(markdown, plain text) of a writer's parts, the same layout for every writer."""
    t = TEMPLATES[lang]
    title = t["title"].format(field=facts.field.name)
    md = [f"## {title}", "", parts.summary, "", f"### {t['steps_heading']}", ""]
    md += [f"{i}. {s}" for i, s in enumerate(parts.steps, 1)]
    md += ["", f"### {t['warnings_heading']}", ""] + [f"- **{text}**" for _, text in parts.warnings]
    txt = [title, "", parts.summary, "", f"{t['steps_heading']}{t['colon']}"]
    txt += [f"{i}. {s}" for i, s in enumerate(parts.steps, 1)]
    txt += ["", f"{t['warnings_heading']}{t['colon']}"] + [f"! {text}" for _, text in parts.warnings]
    return "\n".join(md) + "\n", "\n".join(txt) + "\n"
