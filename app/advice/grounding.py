"""Is an answer safe to serve? Every number tied to its fact, prose checked for contradictions.

The LLM writer places facts through ``{id}`` placeholders the service fills
(:mod:`app.advice.fact_text`), so the numbers left in an answer are the ones the
model typed anyway. Each is checked at full precision against the facts of the
role its sentence gives it: a rate against that product's rates, hours in a
sentence about re-entry against the re-entry interval, a percentage next to a
weed against that weed's expected control. A number matches a fact only when it
is written with at least the precision the service writes that fact with, so a
whole number never gets rounding slack ("13 fl oz/acre" is not 12.8).

Problems, each a :class:`Problem` code (``rule`` says which rule or role):

``rate_above_label``        a rate above the label maximum;
``number_not_in_facts``     a number with a unit that is no fact of its role;
``time_not_in_facts``       a clock time, or a time range, that is no spray window or sun time;
``wrong_decimal_separator`` ``1.5 L/ha`` in French or German, ``1,5 L/ha`` in English;
``unknown_fact``            a placeholder the service has no fact for;
``wrong_fact``              a placeholder where its sentence says another fact goes;
``missing_fact``            a product's rate not stated (placeholder or number);
``missing_warning``         a mandatory warning absent or without its number (built-in text only:
                            the LLM's warnings are the service's own);
``unsafe_instruction``      prose that contradicts a label or warning (:mod:`app.advice.safety`);
``unknown_name``            a product, active or weed the facts do not name (:mod:`app.advice.names`);
``wrong_language``          the answer is not in the language asked for;
``too_long``                more text than any advice needs;
``empty``                   no summary or no steps.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import lru_cache

from app.advice.builtin import AdviceParts
from app.advice.fact_text import DECIMALS, PLACEHOLDER, fact_table
from app.advice.facts import FactSheet, ProductFacts
from app.advice.language import language_problem
from app.advice.names import NameIndex, name_index, normalize, unknown_names
from app.advice.safety import unsafe_instructions
from app.domain.units import canonical_unit, from_canonical_rate, to_canonical_rate

MAX_ANSWER_CHARS = 6000

# Answer spelling → unit key (lower case; matched longest first, case-insensitively).
_UNIT_SPELLINGS: dict[str, str] = {
    "fl oz/acre": "fl oz/acre", "fl oz/ac": "fl oz/acre", "fl oz/a": "fl oz/acre", "fl. oz/acre": "fl oz/acre",
    "fl oz per acre": "fl oz/acre", "fluid ounces per acre": "fl oz/acre", "ounces per acre": "fl oz/acre",
    "oz/acre": "oz/acre", "pt/acre": "pt/acre", "pints per acre": "pt/acre", "pint per acre": "pt/acre",
    "qt/acre": "qt/acre", "quarts per acre": "qt/acre", "gal/acre": "gal/acre", "gallons per acre": "gal/acre",
    "lb/acre": "lb/acre", "pounds per acre": "lb/acre",
    "l/ha": "L/ha", "litres per hectare": "L/ha", "liters per hectare": "L/ha", "litre per hectare": "L/ha",
    "liter per hectare": "L/ha", "litres/ha": "L/ha", "liters/ha": "L/ha", "litres par hectare": "L/ha",
    "litre par hectare": "L/ha", "litres à l'hectare": "L/ha", "litres/hectare": "L/ha", "liter pro hektar": "L/ha",
    "liter je hektar": "L/ha", "l je ha": "L/ha", "l pro ha": "L/ha",
    "ml/ha": "mL/ha", "kg/ha": "kg/ha", "g/ha": "g/ha",
    "plants/m²": "plants/m2", "plants/m2": "plants/m2", "plants per m²": "plants/m2", "plantes/m²": "plants/m2",
    "plantes/m2": "plants/m2", "pflanzen/m²": "plants/m2", "pflanzen/m2": "plants/m2",
    "km/h": "km/h", "km/hr": "km/h", "kph": "km/h", "kmh": "km/h", "kilometres per hour": "km/h",
    "kilometers per hour": "km/h", "mph": "mph", "miles per hour": "mph", "°c": "°C", "%": "%",
    "gallons": "gal", "gallon": "gal", "gal": "gal", "litres": "L", "liters": "L", "litre": "L", "liter": "L",
    "l": "L", "kg": "kg", "lb": "lb", "lbs": "lb", "pounds": "lb",
    "ha": "ha", "hectares": "ha", "hectare": "ha", "hektar": "ha", "acres": "acre", "acre": "acre", "ac": "acre",
    "mètres": "m", "mètre": "m", "metres": "m", "metre": "m", "meters": "m", "meter": "m", "m": "m",
    "ft": "ft", "feet": "ft", "foot": "ft", "pieds": "ft", "fuß": "ft", "yd": "yd", "yards": "yd", "mm": "mm",
    "hours": "h", "hour": "h", "heures": "h", "heure": "h", "hrs": "h", "hr": "h", "h": "h", "stunden": "h",
    "stunde": "h", "std": "h",
    "days": "d", "day": "d", "jours": "d", "jour": "d", "tage": "d", "tagen": "d", "tag": "d",
    "tank loads": "tanks", "tank load": "tanks", "tanks": "tanks", "cuves": "tanks", "cuve": "tanks",
    "tankfüllungen": "tanks", "tankfüllung": "tanks",
    "usd": "USD", "eur": "EUR", "gbp": "GBP", "cad": "CAD", "€": "EUR", "euros": "EUR", "euro": "EUR",
    "dollars": "USD", "$": "USD",
    # tank-plan amounts and yields (facts version 2)
    "fl oz": "fl oz", "pt": "pt", "qt": "qt", "ml": "mL", "t/ha": "t/ha",
}
_NUMBER_WORDS: dict[str, float] = {
    **{w: float(i) for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen twenty".split())},
    "thirty": 30, "forty": 40, "fifty": 50, "half": 0.5,
    **{w: float(i) for i, w in enumerate(
        "zéro un deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze quinze seize".split())},
    "une": 1, "vingt": 20, "trente": 30, "quarante": 40, "cinquante": 50,
    **{w: float(i) for i, w in enumerate(
        "null eins zwei drei vier fünf sechs sieben acht neun zehn elf zwölf".split())},
    "ein": 1, "eine": 1, "einen": 1, "zwanzig": 20, "dreißig": 30, "vierzig": 40, "fünfzig": 50,
}
_NUM = {"en": r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?",
        "fr": r"\d{1,3}(?:[\u202f\u00a0 ]\d{3})+(?:,\d+)?|\d+(?:,\d+)?",
        "de": r"\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+(?:,\d+)?"}
_WORDS_RE = "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
_UNITS_RE = "|".join(re.escape(u) for u in sorted(_UNIT_SPELLINGS, key=len, reverse=True))
_RANGE_WORDS = r"\s*(?:–|-|—|to|à|and|et|bis|und)\s*"
_CLOCK = r"(?:[01]?\d|2[0-3])(?::|h)[0-5]\d"
_CLOCK_RE = re.compile(rf"(?<![\d.,:])({_CLOCK})(?![\d])")
_CLOCK_RANGE = re.compile(
    rf"(?<![\d.,:])({_CLOCK})\s*(?:–|-|—|to|and|until|till|à|a|et|jusqu'à|bis|und)\s*({_CLOCK})(?!\d)",
    re.IGNORECASE)
_RATE_KEYS = {"fl oz/acre", "oz/acre", "pt/acre", "qt/acre", "gal/acre", "lb/acre", "L/ha", "mL/ha",
              "kg/ha", "g/ha"}
_SENTENCE = re.compile(r"[.!?](?=\s|$)|\n")
_CLAUSE = re.compile(r";|,\s|\s[\u2013\u2014]\s")

# Words that say which fact a number of hours, days, metres or percent claims to be (normalize() form).
_ROLE_WORDS: dict[str, re.Pattern[str]] = {k: re.compile(rf"(?<![\w])(?:{v})(?![\w])") for k, v in {
    "reentry": r"re ?ent\w*|keep (?:\w+ ){0,2}out|out of the (?:field|area|crop)|back (?:in|into)|people|workers|"
               r"rentree|rentrer|personne|personnes|betret\w*|wiederbetret\w*|zutritt|personen|gloves|gants|"
               r"handschuhe|protective|protection|schutz\w*",
    "rain": r"rain\w*|shower\w*|pluie|averse\w*|regen\w*|niederschlag|rainfast|rain free",
    "inversion": r"sunset|sunrise|dusk|dawn|inversion\w*|coucher|lever|sonnenuntergang|sonnenaufgang",
    "window": r"window\w*|creneau\w*|fenster|zeitfenster",
    "harvest": r"harvest\w*|recolte\w*|ernte\w*",
    "interval": r"between (?:applications|sprays|treatments)|entre (?:deux )?(?:traitements|applications)|"
                r"zwischen (?:zwei )?(?:behandlungen|anwendungen)",
    "downwind": r"downwind|sous le vent|windabgewandt\w*|in windrichtung|leeseite",
    "water": r"water|stream|river|ditch|pond|creek|brook|well|lake|runoff|eau|ruisseau|riviere|fosse|puits|lac|"
             r"ruissellement|cours d'eau|wasser|gewasser|bach|graben|fluss|teich|brunnen|see|ufer",
    "saving": r"sav\w*|less|fewer|econom\w*|moins|spar\w*|weniger|einspar\w*",
    "share": r"treated|of the field|traitee|de la parcelle|behandelt\w*|des feldes|der flache",
    "yield": r"yield|rendement|ertrag\w*",
    "cloud": r"cloud\w*|nuage\w*|nuageux|wolk\w*|bewolk\w*",
}.items()}


@dataclass(frozen=True)
class Problem:
    """One reason to refuse an answer: ``code`` (what), ``detail`` (where), ``rule`` (which rule or role)."""

    code: str
    detail: str
    rule: str = ""


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    problems: tuple[Problem, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "problems": [asdict(p) for p in self.problems]}

    @property
    def reason(self) -> str:
        return "; ".join(f"{p.code}: {p.detail}" for p in self.problems)


@dataclass(frozen=True)
class Quantity:
    value: float
    decimals: int
    unit: str
    text: str


def _quantity_re(lang: str) -> re.Pattern[str]:
    num = rf"{_NUM.get(lang, _NUM['en'])}|{_WORDS_RE}"
    return re.compile(
        rf"(?<![\w.,])(?P<a>{num})(?:{_RANGE_WORDS}(?P<b>{num}))?[\s\u202f\u00a0\-]*"
        rf"(?P<unit>{_UNITS_RE})(?![\w/])", re.IGNORECASE)


def _to_float(text: str, lang: str) -> tuple[float, int]:
    """(value, decimals shown) of a number as ``lang`` writes it, or a number word."""
    word = _NUMBER_WORDS.get(text.lower())
    if word is not None:
        return word, 0 if word == int(word) else 1
    t = re.sub(r"[\u202f\u00a0 ]", "", text)
    if lang in ("fr", "de"):
        t = t.replace(".", "").replace(",", ".")
    else:
        t = t.replace(",", "")
    return float(t), len(t.split(".")[1]) if "." in t else 0


def quantities_in(text: str, lang: str) -> list[Quantity]:
    """Every number with a unit in ``text``; a range ``3–10 mph`` gives two.

    >>> [(q.value, q.unit) for q in quantities_in("Keep a three-metre strip; 1.5 litres per hectare.", "en")]
    [(3.0, 'm'), (1.5, 'L/ha')]
    """
    out = []
    for m in _quantity_re(lang).finditer(text):
        unit = _UNIT_SPELLINGS[m.group("unit").lower()]
        for g in ("a", "b"):
            if m.group(g):
                v, d = _to_float(m.group(g), lang)
                out.append(Quantity(v, d, unit, m.group(0)))
    return out


def _needed_decimals(value: float, kind: str) -> int:
    text = f"{value:.{DECIMALS[kind]}f}"
    return len(text.rstrip("0").split(".")[1]) if "." in text.rstrip("0") else 0


def same_value(value: float, decimals: int, fact: float, kind: str) -> bool:
    """``value`` written with ``decimals`` places states ``fact`` at the precision the service uses.

    >>> same_value(2.34, 2, 2.3385, "rate"), same_value(13, 0, 12.8, "rate"), same_value(2, 0, 1.5, "rate")
    (True, False, False)
    """
    if abs(value - fact) <= 1e-9 * max(1.0, abs(fact)):
        return True
    return decimals >= _needed_decimals(fact, kind) and abs(value - fact) <= 0.5 * 10.0 ** -decimals + 1e-9


@dataclass
class _Claim:
    """Facts a number may state in one role, and how precisely the service writes them."""

    role: str
    kind: str
    values: list[float] = field(default_factory=list)


def _rate_values(p: ProductFacts, unit: str) -> list[float]:
    if canonical_unit(unit) != p.canonical_unit:
        return []
    vals = [p.rate_canonical, *(to_canonical_rate(v, p.rate_unit) for v in
                                (p.min_rate, p.max_rate, p.max_season_rate) if v is not None)]
    return [from_canonical_rate(v, unit) for v in vals]


def _label_max(products: Iterable[ProductFacts], unit: str) -> float | None:
    maxima = [from_canonical_rate(to_canonical_rate(p.max_rate, p.rate_unit), unit)
              for p in products if p.canonical_unit == canonical_unit(unit)]
    return max(maxima) if maxima else None


def _mentions(norm: str, names: Iterable[str]) -> bool:
    return any(re.search(rf"(?<![\w]){re.escape(normalize(n))}(?![\w])", norm) for n in names if n)


def _words_only(text: str) -> str:
    """normalize() of ``text`` without placeholders: ``{rain_free}`` is not the word "rain"."""
    return normalize(PLACEHOLDER.sub(" ", text))


def _mask_names(text: str, f: FactSheet) -> str:
    """``text`` with the field's, products' and actives' names blanked out (same length): a name may
    carry digits and a unit ("AAtrex 4L", "Liberty 280 SL") that are no quantity."""
    names = {f.field.name, *(p.name for p in f.products), *(a for p in f.products for a in p.active_ingredients),
             *(a.product for s in f.species for a in s.alternatives)}
    for name in sorted(names, key=len, reverse=True):
        text = re.sub(re.escape(name), lambda m: " " * len(m.group(0)), text, flags=re.IGNORECASE)
    return text


def _present(values: Iterable[float | None]) -> list[float]:
    return [float(v) for v in values if v is not None]


def _claims(q: Quantity, f: FactSheet, clause: str, sentence: str) -> list[_Claim]:
    """The facts ``q`` may claim to be, narrowed by the words of its clause and sentence, plus the
    sheet's own list of further quantities (tank plan, yield cost...) when it has one."""
    claims = _role_claims(q, f, clause, sentence)
    stated = getattr(f, "stated_quantities", None)
    extra = stated().get(q.unit, []) if callable(stated) else []
    return [*claims, _Claim("fact", "total", list(extra))] if extra else claims


def _role_claims(q: Quantity, f: FactSheet, clause: str, sentence: str) -> list[_Claim]:
    c_norm, s_norm = _words_only(clause), _words_only(sentence)
    roles = {r for r, rx in _ROLE_WORDS.items() if rx.search(s_norm)}
    u = q.unit
    r = f.restrictions
    if u in _RATE_KEYS:
        named = [p for p in f.products if _mentions(c_norm, [p.name, *p.active_ingredients])]
        return [_Claim("rate", "rate", [v for p in (named or f.products) for v in _rate_values(p, u)])]
    if u in ("L", "gal", "kg", "lb"):
        claim = _Claim("total", "total")
        for p in f.products:
            canon = p.canonical_unit.split("/")[0]
            ratio = p.total_canonical / p.total if p.total else None
            if u == p.total_unit:
                claim.values += [p.total, p.broadcast_total, p.saved]
            if u == canon and ratio:
                claim.values += [p.total_canonical, p.broadcast_total * ratio, p.saved * ratio]
        if u == "L" and f.economy.tank_volume_l is not None:
            claim.values.append(f.economy.tank_volume_l)
        return [claim]
    if u in ("ha", "acre"):
        a = f.area
        areas = [a.field_ha, a.sprayable_ha, a.treated_ha] if u == "ha" else [a.field_acre, a.treated_acre]
        return [_Claim("area", "area", _present(areas))]
    if u in ("m", "ft", "yd"):
        kinds = ({"downwind"} if "downwind" in roles else set()) | \
            ({b.kind for b in f.buffers if b.kind != "downwind"} if "water" in roles else set())
        bufs = [b for b in f.buffers if not kinds or b.kind in kinds]
        return [_Claim("buffer", "m" if u == "m" else "distance",
                       [b.metres if u == "m" else b.distance for b in bufs if u == "m" or b.unit == u])]
    if u == "h":
        hours: dict[str, list[float | None]] = {"reentry": [r.rei_h, *(p.rei_h for p in f.products)],
                 "rain": [r.rain_free_h, *(p.weather.rain_free_h for p in f.products)],
                 "inversion": [1.0],  # inversions: from 1 h before sunset to 1 h after sunrise
                 "window": [float(w.hours) for w in (f.weather.windows if f.weather else ())]}
        picked = [k for k in hours if k in roles] or list(hours)
        return [_Claim(k, "h", _present(hours[k])) for k in picked]
    if u == "d":
        days: dict[str, list[float | None]] = {"harvest": [r.phi_days, *(p.phi_days for p in f.products)],
                 "interval": [r.min_days_between_applications,
                              *(p.min_days_between_applications for p in f.products)]}
        picked = [k for k in days if k in roles] or list(days)
        return [_Claim(k, "days", _present(days[k])) for k in picked]
    if u in ("km/h", "mph"):
        kmh = u == "km/h"
        winds: list[float | None] = [r.wind_min_kmh, r.wind_max_kmh] if kmh else [r.wind_min_mph, r.wind_max_mph]
        for p in f.products:
            w = p.weather
            winds += [w.wind_min_kmh, w.wind_max_kmh] if kmh else [w.wind_min_mph, w.wind_max_mph]
        if f.weather is not None and kmh:
            for win in f.weather.windows:
                winds += [win.wind_kmh_min, win.wind_kmh_max]
        if kmh:
            winds.append(3.0)  # the inversion wind threshold (DOMAIN.md section 6)
        return [_Claim("wind", "kmh" if kmh else "mph", _present(winds))]
    if u == "°C":
        return [_Claim("temperature", "temp", [v for v in (r.temp_min_c, r.temp_max_c) if v is not None])]
    if u == "%":
        weeds = [s for s in f.species if _mentions(c_norm, [s.code, s.name or "", *s.names.values()])]
        if weeds:
            alternatives = [a.control_pct for s in weeds for a in getattr(s, "alternatives", ())]
            targets = [getattr(s, "target_pct", None) for s in weeds]
            return [_Claim("control", "pct", _present([*(s.control_pct for s in weeds), *targets, *alternatives]))]
        c_roles = {rr for rr, rx in _ROLE_WORDS.items() if rx.search(c_norm)}
        pcts: dict[str, list[float | None]] = {
            "saving": [p.saving_pct for p in f.products], "share": [f.area.treated_share_pct],
            "yield": [f.economy.yield_loss_pct, f.economy.yield_loss_broadcast_pct],
            "cloud": [25.0]}  # 25 %: the inversion cloud limit
        picked = [k for k in pcts if k in c_roles]
        if picked:
            return [_Claim(k, "pct", _present(pcts[k])) for k in picked]
        every = _present([v for vs in pcts.values() for v in vs] + [s.control_pct for s in f.species])
        return [_Claim("percent", "pct", every)]
    if u == "plants/m2":
        weeds = [s for s in f.species if _mentions(c_norm, [s.code, s.name or "", *s.names.values()])]
        return [_Claim("density", "density", _present(s.surviving_plants_m2 for s in (weeds or f.species)))]
    if u == "tanks":
        return [_Claim("tanks", "tanks", [f.economy.tank_loads] if f.economy.tank_loads is not None else [])]
    if u in ("USD", "EUR", "GBP", "CAD"):
        money = [p.money_saved for p in f.products if p.currency == u] + \
            [p.price for p in f.products if p.currency == u]
        if f.economy.currency == u:
            money.append(f.economy.money_saved)
        return [_Claim("money", "money", _present(money))]
    return [_Claim(u, "rate", [])]  # mm of rain, hourly forecast values: not facts an answer may state


def _clauses(text: str) -> list[tuple[str, str]]:
    """(clause, its sentence) pairs."""
    out = []
    for s in _SENTENCE.split(text):
        if s.strip():
            out += [(c, s) for c in _CLAUSE.split(s) if c.strip()]
    return out


def _check_numbers(text: str, f: FactSheet, lang: str) -> tuple[list[Problem], set[str]]:
    """Problems with numbers, and the products whose rate the text states."""
    problems: list[Problem] = []
    rates_stated: set[str] = set()
    for clause, sentence in _clauses(text):
        for q in quantities_in(_mask_names(clause, f), lang):
            if q.unit in _RATE_KEYS:
                c_norm = _words_only(clause)
                named = [p for p in f.products if _mentions(c_norm, [p.name, *p.active_ingredients])]
                top = _label_max(named or f.products, q.unit)
                if top is not None:
                    slack = 0.5 * 10.0 ** -q.decimals if q.decimals >= _needed_decimals(top, "rate") else 0.0
                    if q.value > top + slack + 1e-9:
                        problems.append(Problem("rate_above_label", f"{q.text!r} is above the label maximum",
                                                "rate"))
                        continue
                for p in named or f.products:
                    rate = _rate_values(p, q.unit)[:1]
                    if rate and same_value(q.value, q.decimals, rate[0], "rate"):
                        rates_stated.add(p.name)
            claims = _claims(q, f, clause, sentence)
            if not any(same_value(q.value, q.decimals, v, c.kind) for c in claims for v in c.values):
                roles = "/".join(c.role for c in claims)
                problems.append(Problem("number_not_in_facts", f"{q.text!r} is no {roles} in the facts", roles))
    return problems, rates_stated


# Placeholder → the role words its sentence must not contradict (time facts are easy to swap).
_TIME_FACTS = {"reentry": "reentry", "rain_free": "rain", "harvest_interval": "harvest", "days_between": "interval"}


def _check_placeholders(text: str, f: FactSheet) -> list[Problem]:
    """Facts placed where their sentence says another fact goes: ``keep people out for {rain_free}``,
    ``fat hen: {control.AMARE}``, ``Engenia: {rate.1}``."""
    problems = []
    for clause, sentence in _clauses(text):
        c_norm, s_norm = _words_only(clause), _words_only(sentence)
        roles = {r for r in _TIME_FACTS.values() if _ROLE_WORDS[r].search(s_norm)}
        weeds = {s.code for s in f.species if _mentions(c_norm, [s.code, s.name or "", *s.names.values()])}
        products = {n for n, p in enumerate(f.products, 1)
                    if _mentions(c_norm, [p.name, *p.active_ingredients])}
        for m in PLACEHOLDER.finditer(clause):
            fid = m.group(1)
            kind, _, key = fid.partition(".")
            wrong = (kind in _TIME_FACTS and roles and _TIME_FACTS[kind] not in roles) or \
                (kind in ("control", "surviving") and weeds and key not in weeds) or \
                (key.isdigit() and kind != "product" and products and int(key) not in products)
            if wrong:
                problems.append(Problem("wrong_fact", f"{{{fid}}} in {clause.strip()!r}", kind))
    return problems


def _sheet_numbers(f: FactSheet) -> list[float]:
    """Every number the sheet holds, in any field or inside any name ("Mesotrix 100", "BBCH 14")."""
    out: list[float] = []

    def walk(x: object) -> None:
        if isinstance(x, bool):
            return
        if isinstance(x, int | float):
            out.append(float(x))
        elif isinstance(x, str) and not re.match(r"\d{4}-\d\d-\d\d", x):  # dates and times are checked apart
            out.extend(float(n) for n in re.findall(r"\d+(?:\.\d+)?", x))
        elif isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, list | tuple):
            for v in x:
                walk(v)

    walk(f.prompt_payload())  # what the model was shown: no hour-by-hour forecast
    return out


@lru_cache(maxsize=8)
def _date_re(lang: str) -> re.Pattern[str]:
    """Day numbers and years written beside a month name of ``lang`` (CLDR): dates, not quantities."""
    from babel.dates import get_month_names

    months = {n for width in ("abbreviated", "wide") for n in get_month_names(width, locale=lang).values()}
    alt = "|".join(re.escape(m.rstrip(".")) for m in sorted(months, key=len, reverse=True))
    return re.compile(rf"\d{{1,2}}\.?\s+(?:{alt})\.?(?:\s+\d{{4}})?|(?:{alt})\.?\s+\d{{1,2}}(?:,\s+\d{{4}})?",
                      re.IGNORECASE)


def _check_bare_numbers(text: str, f: FactSheet, lang: str) -> list[Problem]:
    """Numbers without a unit ("go up to 2 on dense patches") must still be numbers of the sheet;
    small counts (up to 10) pass."""
    masked = _mask_names(text, f)  # same length: positions hold in both
    taken = [m.span() for m in _quantity_re(lang).finditer(masked)] + [m.span() for m in _CLOCK_RE.finditer(text)]
    taken += [m.span() for m in PLACEHOLDER.finditer(text)]
    taken += [m.span() for m in _date_re(lang).finditer(text)]  # "Thu, Jun 13, 2024", "13. Juni 2024"
    known = _sheet_numbers(f)
    problems = []
    for m in re.finditer(_BARE.get(lang, _BARE["en"]), masked):
        if any(a <= m.start() < b for a, b in taken):
            continue
        value, decimals = _to_float(m.group(0), lang)
        clause = _clause_at(text, m.start())
        c_norm = _words_only(clause)
        named = [p for p in f.products if _mentions(c_norm, [p.name, *p.active_ingredients])]
        labelled = _LABELLED.search(text[max(0, m.start() - 16):m.start()])  # "BBCH 14", "group 27"
        dose = _RATE_WORDS.search(c_norm) is not None
        if decimals == 0 and value <= 10 and not dose:
            continue  # a count ("2 tank loads", "step 3")
        if not labelled and (named or dose):
            # a number next to a product or a dose is a rate, whatever unit it forgot
            rates = [v for p in (named or f.products) for u in (p.rate_unit, p.canonical_unit)
                     for v in _rate_values(p, u)]
            if not any(same_value(value, decimals, v, "rate") for v in rates):
                problems.append(Problem("number_not_in_facts", f"{m.group(0)!r} (no unit) in {clause.strip()!r} "
                                        "is no rate of the facts", "bare_rate"))
            continue
        if not any(same_value(value, decimals, v, "rate") for v in known):
            problems.append(Problem("number_not_in_facts", f"{m.group(0)!r} (no unit) is no number of the facts",
                                    "bare"))
    return problems


_RATE_WORDS = re.compile(r"(?<![\w])(?:rate|dose|doses|apply|go (?:up )?to|dosage|appliquer|passer a|aufwandmenge|"
                         r"dosis|ausbringen)(?![\w])")


_LABELLED = re.compile(r"(?:bbch|groups?|groupes?|gruppen?|hrac|wssa|stages?|stades?|stadium)\s*(?:\d+\s*"
                       r"(?:and|et|und|,)\s*)?$", re.IGNORECASE)


def _clause_at(text: str, pos: int) -> str:
    start = max([m.end() for m in re.finditer(r"[;\n]|[.!?](?=\s)|,\s", text[:pos])], default=0)
    end = re.search(r"[;\n]|[.!?](?=\s|$)|,\s", text[pos:])
    return text[start: pos + end.start()] if end else text[start:]


_BARE = {"en": r"(?<![\w.,\-])\d+(?:\.\d+)?(?![\w\-]|[.,]\d)",
         # French groups thousands with a (narrow) no-break space: "1 763 $US" is one number
         "fr": r"(?<![\w.,\-\u202f\u00a0])(?:\d{1,3}(?:[\u202f\u00a0]\d{3})+|\d+)(?:,\d+)?(?![\w\-]|[.,]\d)",
         "de": r"(?<![\w.,\-])\d+(?:,\d+)?(?![\w\-]|[.,]\d)"}


def _check_times(text: str, f: FactSheet) -> list[Problem]:
    def hhmm(t: str) -> str:
        h, m = re.split(r"[:h]", t)
        return f"{int(h):02d}:{m}"

    pairs: set[tuple[str, str]] = set()
    refused: set[tuple[str, str]] = set()
    singles: set[str] = set()
    if f.weather is not None:
        for w in f.weather.windows:
            pairs.add((f"{w.start:%H:%M}", f"{w.end:%H:%M}"))
        for d in f.weather.sun:
            if d.sunrise is not None and d.sunset is not None:
                pairs.add((f"{d.sunrise:%H:%M}", f"{d.sunset:%H:%M}"))
            singles.update(f"{t:%H:%M}" for t in (d.sunrise, d.sunset) if t is not None)
        for b in getattr(f.weather, "refused_blocks", ()):  # hours refused, with their reasons
            refused.add((f"{b.start:%H:%M}", f"{b.end:%H:%M}"))
        end = getattr(f.weather, "forecast_end", None)
        if end is not None:
            singles.add(f"{end:%H:%M}")
    singles.update(t for p in pairs | refused for t in p)
    problems = []
    in_ranges: set[tuple[int, int]] = set()
    for m in _CLOCK_RANGE.finditer(text):
        a, b = hhmm(m.group(1)), hhmm(m.group(2))
        in_ranges.update({m.span(1), m.span(2)})
        # a ruled-out block is stated with its reason in brackets ("07:00–09:00 (rain)"), never as a window
        reasoned = (a, b) in refused and text[m.end():].lstrip().startswith("(")
        if (a, b) not in pairs and not reasoned:
            problems.append(Problem("time_not_in_facts", f"{m.group(0)!r} is not one spray window", "window"))
    for m in _CLOCK_RE.finditer(text):
        if m.span(1) not in in_ranges and hhmm(m.group(1)) not in singles:
            problems.append(Problem("time_not_in_facts", m.group(0), "clock"))
    return problems


def _check_warnings(parts: AdviceParts, f: FactSheet, lang: str) -> list[Problem]:
    problems = []
    given = dict(parts.warnings)
    r = f.restrictions
    for code in f.mandatory_warnings:
        if code not in given:
            problems.append(Problem("missing_warning", code, code))
            continue
        need: list[tuple[str, list[float], str]] = []
        if code == "buffers":
            need = [(f"{b.product} {b.kind}", [b.distance, b.metres], "distance") for b in f.buffers]
        elif code == "reentry" and r.rei_h is not None:
            need = [("re-entry hours", [r.rei_h], "h")]
        elif code == "weather" and r.wind_max_kmh is not None:
            need = [("wind limit", [r.wind_max_kmh, *([r.wind_max_mph] if r.wind_max_mph else [])], "kmh")]
        found = quantities_in(given[code], lang)
        for what, values, kind in need:
            if not any(same_value(q.value, q.decimals, v, kind if q.unit != "m" else "m")
                       for q in found for v in values):
                problems.append(Problem("missing_warning", f"{code} does not state the {what}", code))
    return problems


def check_answer(parts: AdviceParts, facts: FactSheet, lang: str, *, names: NameIndex | None = None,
                 warnings_from_writer: bool = True) -> CheckResult:
    """Check a writer's answer (placeholders left in) against the fact sheet it was written from.

    ``warnings_from_writer=False`` when the service supplies the warnings itself
    (the LLM writer), so only the writer's notes on them are checked.

    >>> from app.advice.examples import example_inputs
    >>> from app.advice.facts import build_fact_sheet
    >>> from app.advice.builtin import builtin_parts
    >>> f = build_fact_sheet(**example_inputs())
    >>> check_answer(builtin_parts(f, "en"), f, "en").ok
    True
    """
    problems: list[Problem] = []
    chunks = [parts.summary, *parts.steps, *(t for _, t in parts.warnings)]
    text = "\n".join(chunks)
    if not parts.summary.strip() or not parts.steps:
        problems.append(Problem("empty", "no summary or no steps", "shape"))
    if len(text) > MAX_ANSWER_CHARS:
        return CheckResult(False, (*problems, Problem("too_long", f"{len(text)} characters", "shape")))

    table = fact_table(facts, lang) if lang in ("en", "fr", "de") else {}
    placed = set(PLACEHOLDER.findall(text))
    for fid in sorted(placed - set(table)):
        problems.append(Problem("unknown_fact", f"{{{fid}}}", "placeholder"))
    for stray in re.findall(r"\{[^{}]*\}", PLACEHOLDER.sub("", text)):
        problems.append(Problem("unknown_fact", stray, "placeholder"))

    # German groups thousands with "." (3.000 L): only 1-2 decimals after a point are a wrong separator there
    sep = (r"\d+\.\d+" if lang == "fr" else r"\d+\.\d{1,2}(?!\d)" if lang == "de"
           else r"\d+,(?:\d{1,2}|\d{4,})(?!\d)")
    for m in re.finditer(rf"(?<![\w.,])({sep})\s*(?:{_UNITS_RE})(?![\w/])", text, re.IGNORECASE):
        if not _CLOCK_RE.fullmatch(m.group(1)):
            problems.append(Problem("wrong_decimal_separator", m.group(0), "number_format"))

    number_problems, rates_stated = _check_numbers(text, facts, lang)
    problems += number_problems
    problems += _check_times(text, facts)
    problems += _check_placeholders(text, facts)
    problems += _check_bare_numbers(text, facts, lang)
    for n, p in enumerate(facts.products, 1):
        if f"rate.{n}" not in placed and p.name not in rates_stated:
            problems.append(Problem("missing_fact", f"the rate of {p.name} ({{rate.{n}}})", "rate"))
    if warnings_from_writer:
        problems += _check_warnings(parts, facts, lang)

    for v in unsafe_instructions(text):
        problems.append(Problem("unsafe_instruction", v.text, v.rule))
    for name in unknown_names(text, facts, names or name_index(facts=facts)):
        problems.append(Problem("unknown_name", name, "names"))
    wrong = language_problem(text, lang)
    if wrong:
        problems.append(Problem("wrong_language", wrong, "language"))
    return CheckResult(ok=not problems, problems=tuple(problems))
