"""The built-in writer: deterministic advice from the fact sheet, one template table per language.

To add a language, add a ``NumberStyle`` in ``number_format`` and a table here
with the same keys; a test checks the tables have the same keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from app.advice.facts import BufferFacts, FactSheet, ProductFacts, WarningFact
from app.advice.number_format import format_number, format_percent, style_for

# How many decimals each kind of quantity is written with (trailing zeros dropped).
DECIMALS: dict[str, int] = {"rate": 2, "total": 2, "area": 2, "pct": 0, "m": 0, "distance": 1, "h": 1,
                            "days": 0, "kmh": 0, "mph": 0, "money": 0, "temp": 0, "density": 1}

TEMPLATES: dict[str, dict[str, str]] = {
    "en": {
        "title": "Spray advice: {field}",
        "steps_heading": "Steps", "warnings_heading": "Warnings",
        "summary": "{field} ({crop}{stage}): {verb} {treated} of {area} ({share}) with {products}.",
        "summary_saving": " That is {pct} less product than a broadcast application.",
        "stage": ", BBCH {bbch}",
        "verb_spot": "spot-spray", "verb_broadcast": "spray",
        "and": "and", "to": "–",
        "rate": "{product}: {rate}{canon} on the treated area (label maximum {max}).",
        "rate_average": "{product}: {rate}{canon} on average over the treated area, varying with the weeds "
                        "(label maximum {max}).",
        "total": "Total {product}: {total}{canon}, against {broadcast} for a broadcast: {saved} saved "
                 "({pct}){money}.",
        "money": ", worth {money}",
        "tanks": "Plan {tanks} tank loads.",
        "tanks_volume": "Plan {tanks} tank loads of {volume}.",
        "tank_one": "Plan 1 tank load.",
        "tank_one_volume": "Plan 1 tank load of {volume}.",
        "species": "Weeds found: {list}.",
        "species_control": "{name}: expected control {pct}",
        "species_surviving": "{name}: {density} plants/m² expected to survive",
        "window": "Next spray window: {span}, wind from {frm} ({wind}): the downwind side is {side}.",
        "window_buffers": " Keep {buffers} on the {side} side.",
        "windows_more": "Other spray windows: {list}.",
        "no_window": "No spray window in the forecast (until {end}); main reasons: {reasons}.",
        "no_forecast": "No forecast was given: check the wind and the rain forecast before spraying.",
        "buffer_item": "{dist} from {kind} ({product})",
        "downwind_item": "{dist} downwind of the field ({product})",
        "w_buffers": "No-spray buffers: {list}.",
        "w_reentry": "Re-entry: keep people out of the treated area for {h} after spraying "
                     "unless they wear the protective equipment the label requires.",
        "w_weather": "Weather: spray only {conditions}.",
        "cond_wind_max": "with wind at or below {kmh}{mph}",
        "cond_wind_range": "with wind between {kmin} and {kmax}{mph}",
        "cond_rain": "when no rain is expected for {h} after spraying",
        "cond_temp_max": "at or below {t}",
        "cond_temp_min": "at or above {t}",
        "cond_daylight": "between sunrise and sunset",
        "cond_inversion": "never in a temperature inversion (calm, clear evening, night or early morning)",
        "w_no_spray_window": "No hour in the forecast meets every label's weather limits: do not spray yet.",
        "w_harvest_interval": "Harvest: wait at least {days} after spraying (pre-harvest interval).",
        "w_crop_not_on_label": "{product}: {crop} is not on the label; do not use it on this field.",
        "w_stage_beyond_label": "{product}: the crop is at BBCH {bbch}, past the label limit of BBCH {max}.",
        "w_rate_outside_label": "{product}: the rate is outside the label range; check it before spraying.",
        "r_glyphosate_resistant_amaranthus": "Group 9 (glyphosate) resistant amaranth (pigweed) is "
                                             "widespread: "
                                             "check {species} a week after spraying.",
        "r_als_resistant_amaranthus": "Group 2 (ALS) resistant amaranth (pigweed) is common: "
                                      "check {species} a week after spraying.",
        "r_blackgrass_resistance": "Black-grass resistant to groups 1 and 2 is common: check {species} "
                                   "after spraying.",
        "r_single_mode_of_action": "Resistance: this spray relies on one mode of action (group {group}); "
                                   "rotate or mix modes of action.",
        "r_rotate_modes_of_action": "Resistance: this mix combines groups {groups}; keep rotating modes of "
                                    "action between applications.",
        "hours": "{n} h", "days": "{n} days", "day": "{n} day",
        "reason_too_windy": "too windy", "reason_too_calm": "too calm", "reason_inversion": "inversion risk",
        "reason_raining": "rain", "reason_rain_soon": "rain too soon after spraying",
        "reason_rain_unknown": "forecast too short for the rain-free time", "reason_too_cold": "too cold",
        "reason_too_hot": "too hot", "reason_night": "night",
        "kind_water": "water", "kind_lake": "lakes and reservoirs", "kind_well": "wells",
        "kind_runoff_entry": "points where runoff enters streams", "kind_sensitive_crop": "sensitive crops",
        "kind_residential": "homes", "kind_other": "sensitive areas",
        "colon": ":",
    },
    "fr": {
        "title": "Conseil de pulvérisation : {field}",
        "steps_heading": "Étapes", "warnings_heading": "Mises en garde",
        "summary": "{field} ({crop}{stage}) : {verb} {treated} sur {area} ({share}) avec {products}.",
        "summary_saving": " Soit {pct} de produit en moins qu’un traitement en plein.",
        "stage": ", BBCH {bbch}",
        "verb_spot": "traiter localement", "verb_broadcast": "traiter",
        "and": "et", "to": "–",
        "rate": "{product} : {rate}{canon} sur la zone traitée (maximum autorisé {max}).",
        "rate_average": "{product} : {rate}{canon} en moyenne sur la zone traitée, selon les adventices "
                        "(maximum autorisé {max}).",
        "total": "Total {product} : {total}{canon}, contre {broadcast} en plein : {saved} économisés "
                 "({pct}){money}.",
        "money": ", soit {money}",
        "tanks": "Prévoir {tanks} cuves.",
        "tanks_volume": "Prévoir {tanks} cuves de {volume}.",
        "tank_one": "Prévoir 1 cuve.",
        "tank_one_volume": "Prévoir 1 cuve de {volume}.",
        "species": "Adventices trouvées : {list}.",
        "species_control": "{name} : efficacité attendue {pct}",
        "species_surviving": "{name} : {density} plantes/m² devraient survivre",
        "window": "Prochain créneau de traitement : {span}, vent de {frm} ({wind}) : le côté sous le vent "
                  "est {side}.",
        "window_buffers": " Garder {buffers} côté {side}.",
        "windows_more": "Autres créneaux : {list}.",
        "no_window": "Aucun créneau de traitement dans la prévision (jusqu’au {end}) ; raisons principales : "
                     "{reasons}.",
        "no_forecast": "Aucune prévision fournie : vérifier le vent et la pluie annoncée avant de traiter.",
        "buffer_item": "{dist} des {kind} ({product})",
        "downwind_item": "{dist} sous le vent de la parcelle ({product})",
        "w_buffers": "Zones non traitées : {list}.",
        "w_reentry": "Délai de rentrée : personne dans la zone traitée pendant {h} après le traitement "
                     "sans les équipements de protection exigés par l’étiquette.",
        "w_weather": "Météo : traiter uniquement {conditions}.",
        "cond_wind_max": "avec un vent inférieur ou égal à {kmh}{mph}",
        "cond_wind_range": "avec un vent entre {kmin} et {kmax}{mph}",
        "cond_rain": "si aucune pluie n’est prévue dans les {h} qui suivent",
        "cond_temp_max": "à {t} au plus",
        "cond_temp_min": "à {t} au moins",
        "cond_daylight": "entre le lever et le coucher du soleil",
        "cond_inversion": "jamais pendant une inversion de température (soir, nuit ou petit matin calmes "
                          "et dégagés)",
        "w_no_spray_window": "Aucune heure de la prévision ne respecte les limites météo de toutes les "
                             "étiquettes : ne pas traiter pour l’instant.",
        "w_harvest_interval": "Récolte : attendre au moins {days} après le traitement (délai avant récolte).",
        "w_crop_not_on_label": "{product} : la culture {crop} ne figure pas sur l’étiquette ; ne pas "
                               "l’utiliser sur cette parcelle.",
        "w_stage_beyond_label": "{product} : la culture est au stade BBCH {bbch}, au-delà de la limite de "
                                "l’étiquette (BBCH {max}).",
        "w_rate_outside_label": "{product} : la dose sort de la plage autorisée ; la vérifier avant de "
                                "traiter.",
        "r_glyphosate_resistant_amaranthus": "Les amarantes résistantes au groupe 9 (glyphosate) sont "
                                             "répandues : contrôler {species} une semaine après le "
                                             "traitement.",
        "r_als_resistant_amaranthus": "Les amarantes résistantes au groupe 2 (ALS) sont fréquentes : "
                                      "contrôler {species} une semaine après le traitement.",
        "r_blackgrass_resistance": "Le vulpin résistant aux groupes 1 et 2 est fréquent : contrôler "
                                   "{species} après le traitement.",
        "r_single_mode_of_action": "Résistance : ce traitement repose sur un seul mode d’action (groupe "
                                   "{group}) ; alterner ou associer les modes d’action.",
        "r_rotate_modes_of_action": "Résistance : ce mélange associe les groupes {groups} ; continuer "
                                    "d’alterner les modes d’action d’un traitement à l’autre.",
        "hours": "{n} h", "days": "{n} jours", "day": "{n} jour",
        "reason_too_windy": "trop de vent", "reason_too_calm": "vent trop faible",
        "reason_inversion": "risque d’inversion", "reason_raining": "pluie",
        "reason_rain_soon": "pluie trop tôt après le traitement",
        "reason_rain_unknown": "prévision trop courte pour le délai sans pluie",
        "reason_too_cold": "trop froid",
        "reason_too_hot": "trop chaud", "reason_night": "nuit",
        "kind_water": "points d’eau", "kind_lake": "lacs et réservoirs", "kind_well": "puits",
        "kind_runoff_entry": "points d’entrée du ruissellement dans les cours d’eau",
        "kind_sensitive_crop": "cultures sensibles", "kind_residential": "habitations",
        "kind_other": "zones sensibles",
        "colon": " :",
    },
}
WEEKDAYS: dict[str, tuple[str, ...]] = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "fr": ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."),
}
MONTHS: dict[str, tuple[str, ...]] = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "fr": ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."),
}
COMPASS: dict[str, dict[str, str]] = {
    "en": {p: p for p in ("N", "NE", "E", "SE", "S", "SW", "W", "NW")},
    "fr": {"N": "N", "NE": "NE", "E": "E", "SE": "SE", "S": "S", "SW": "SO", "W": "O", "NW": "NO"},
}


@dataclass(frozen=True)
class AdviceParts:
    """What a writer produces before rendering: one summary, steps and warnings (code, text)."""

    summary: str
    steps: tuple[str, ...]
    warnings: tuple[tuple[str, str], ...]


class _Words:
    """Number, unit and date wording for one language."""

    def __init__(self, lang: str) -> None:
        style_for(lang)  # raises on an unknown language
        if lang not in TEMPLATES:
            raise ValueError(f"no advice templates for {lang!r}; valid languages: {', '.join(TEMPLATES)}")
        self.lang = lang
        self.t = TEMPLATES[lang]

    def num(self, value: float, kind: str) -> str:
        return format_number(value, self.lang, DECIMALS[kind])

    def qty(self, value: float, unit: str, kind: str) -> str:
        return f"{self.num(value, kind)} {unit}"

    def pct(self, value: float) -> str:
        return format_percent(value, self.lang, DECIMALS["pct"])

    def hours(self, h: float) -> str:
        return self.t["hours"].format(n=self.num(h, "h"))

    def days(self, d: float) -> str:
        return self.t["day" if d == 1 else "days"].format(n=self.num(d, "days"))

    def area(self, ha: float, acre: float | None) -> str:
        text = self.qty(ha, "ha", "area")
        return text if acre is None else f"{text} ({self.qty(acre, 'acres', 'area')})"

    def join(self, items: Sequence[str]) -> str:
        items = list(items)
        if len(items) <= 1:
            return "".join(items)
        return f"{', '.join(items[:-1])} {self.t['and']} {items[-1]}"

    def when(self, t: datetime) -> str:
        return f"{WEEKDAYS[self.lang][t.weekday()]} {t.day} {MONTHS[self.lang][t.month - 1]} {t:%H:%M}"

    def span(self, start: datetime, end: datetime) -> str:
        if start.date() == end.date() or (end.hour, end.minute) == (0, 0) and (end - start).days == 0:
            return f"{self.when(start)}{self.t['to']}{end:%H:%M}"
        return f"{self.when(start)} {self.t['to']} {self.when(end)}"

    def distance(self, b: BufferFacts) -> str:
        if b.unit == "m":
            return self.qty(b.metres, "m", "m")
        return f"{self.qty(b.distance, b.unit, 'distance')} ({self.qty(b.metres, 'm', 'm')})"

    def wind(self, kmh: float, mph: float | None) -> tuple[str, str]:
        return self.qty(kmh, "km/h", "kmh"), "" if mph is None else self.qty(mph, "mph", "mph")


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
        money = w.t["money"].format(money=w.qty(p.money_saved, p.currency, "money"))
    return w.t["total"].format(
        product=p.name, total=w.qty(p.total, p.total_unit, "total"), canon=canon,
        broadcast=w.qty(p.broadcast_total, p.total_unit, "total"),
        saved=w.qty(p.saved, p.total_unit, "total"),
        pct=w.pct(p.saving_pct), money=money)


def _species_name(facts_species: object, lang: str) -> str:
    names = getattr(facts_species, "names", {})
    name = names.get(lang) or getattr(facts_species, "name", None)
    code = getattr(facts_species, "code", "")
    return f"{name} ({code})" if name else code


def _weather_conditions(w: _Words, f: FactSheet) -> str:
    r = f.restrictions
    conds = []
    if r.wind_max_kmh is not None:
        kmax, mmax = w.wind(r.wind_max_kmh, r.wind_max_mph)
        if r.wind_min_kmh is not None:
            kmin, mmin = w.wind(r.wind_min_kmh, r.wind_min_mph)
            mph = f" ({_range(w, mmin, mmax)})" if mmax else ""
            conds.append(w.t["cond_wind_range"].format(kmin=kmin, kmax=kmax, mph=mph))
        else:
            conds.append(w.t["cond_wind_max"].format(kmh=kmax, mph=f" ({mmax})" if mmax else ""))
    if r.rain_free_h:
        conds.append(w.t["cond_rain"].format(h=w.hours(r.rain_free_h)))
    if r.temp_min_c is not None:
        conds.append(w.t["cond_temp_min"].format(t=w.qty(r.temp_min_c, "°C", "temp")))
    if r.temp_max_c is not None:
        conds.append(w.t["cond_temp_max"].format(t=w.qty(r.temp_max_c, "°C", "temp")))
    if r.daylight_only:
        conds.append(w.t["cond_daylight"])
    conds.append(w.t["cond_inversion"])
    return w.join(conds)


def _range(w: _Words, low: str, high: str) -> str:
    """``3–10 mph`` from ``3 mph`` and ``10 mph``: one unit for both ends."""
    return f"{low.rsplit(' ', 1)[0]}{w.t['to']}{high}"


def _buffer_list(w: _Words, buffers: Sequence[BufferFacts]) -> str:
    items = []
    for b in buffers:
        if b.kind == "downwind":
            items.append(w.t["downwind_item"].format(dist=w.distance(b), product=b.product))
        else:
            items.append(w.t["buffer_item"].format(dist=w.distance(b), kind=w.t[f"kind_{b.kind}"],
                                                   product=b.product))
    return "; ".join(items)


def _weather_steps(w: _Words, f: FactSheet) -> list[str]:
    if f.weather is None:
        return [w.t["no_forecast"]]
    wc = f.weather
    if not wc.windows:
        end = wc.hours[-1].time if wc.hours else f.generated_at
        top = sorted(wc.refused_by.items(), key=lambda kv: -kv[1])[:3]
        reasons = w.join([w.t[f"reason_{c}"] for c, _ in top])
        return [w.t["no_window"].format(end=w.when(end), reasons=reasons)]
    first = wc.windows[0]
    compass = COMPASS[w.lang]
    kmin, mph_min = w.wind(first.wind_kmh_min, None)
    kmax, _ = w.wind(first.wind_kmh_max, None)
    wind = kmax if kmin == kmax else _range(w, kmin, kmax)
    line = w.t["window"].format(span=w.span(first.start, first.end), frm=compass[first.wind_from],
                                wind=wind, side=compass[first.downwind_side])
    downwind = [b for b in f.buffers if b.kind == "downwind"]
    if downwind:
        line += w.t["window_buffers"].format(buffers=w.join([w.distance(b) for b in downwind]),
                                             side=compass[first.downwind_side])
    steps = [line]
    if len(wc.windows) > 1:
        steps.append(w.t["windows_more"].format(
            list=w.join([w.span(x.start, x.end) for x in wc.windows[1:4]])))
    return steps


def _warning_text(w: _Words, f: FactSheet, wf: WarningFact) -> str:
    t = w.t
    code = wf.code
    product = wf.products[0] if wf.products else ""
    by_name = {p.name: p for p in f.products}
    if code == "buffers":
        return t["w_buffers"].format(list=_buffer_list(w, f.buffers))
    if code == "reentry":
        return t["w_reentry"].format(h=w.hours(f.restrictions.rei_h or 0))
    if code == "weather":
        return t["w_weather"].format(conditions=_weather_conditions(w, f))
    if code == "no_spray_window":
        return t["w_no_spray_window"]
    if code == "harvest_interval":
        return t["w_harvest_interval"].format(days=w.days(f.restrictions.phi_days or 0))
    if code == "crop_not_on_label":
        return t["w_crop_not_on_label"].format(product=product, crop=f.field.crop)
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
    'Roundup PowerMAX : 32 fl oz/acre (2,34 L/ha) sur la zone traitée (maximum autorisé 32 fl oz/acre).'
    """
    w = _Words(lang)
    t = w.t
    f = facts
    stage = "" if f.field.growth_stage_bbch is None else t["stage"].format(bbch=f.field.growth_stage_bbch)
    summary = t["summary"].format(
        field=f.field.name, crop=f.field.crop, stage=stage,
        verb=t["verb_broadcast" if f.strategy == "broadcast" else "verb_spot"],
        treated=w.area(f.area.treated_ha, f.area.treated_acre),
        area=w.area(f.area.field_ha, f.area.field_acre),
        share=w.pct(f.area.treated_share_pct), products=w.join([p.name for p in f.products]))
    savings = {w.pct(p.saving_pct) for p in f.products}
    if len(savings) == 1 and f.products[0].saving_pct >= 0.5:
        summary += t["summary_saving"].format(pct=savings.pop())

    steps = [_rate_line(w, p) for p in f.products]
    steps += [_total_line(w, p) for p in f.products]
    e = f.economy
    if e.tank_loads is not None:
        tanks = w.num(e.tank_loads, "distance")
        one = "tank_one" if e.tank_loads == 1 else "tanks"
        steps.append(t[f"{one}_volume"].format(tanks=tanks, volume=w.qty(e.tank_volume_l, "L", "total"))
                     if e.tank_volume_l else t[one].format(tanks=tanks))
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
                items.append(name)
        steps.append(t["species"].format(list="; ".join(items)))
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
