"""Which products, actives and weeds an answer names, and whether the facts name them too.

Names are recognised from a broad list, not only from the job: every label of
the organisation (the caller passes their names and actives), the shipped labels
and species catalogue (EPPO codes, scientific and common names per language),
the curated :mod:`app.advice.lexicon`, plus patterns no list can hold: a word
with ® or ™, a capitalised name followed by a formulation code ("Zorro 500 SC"),
a word with an active-ingredient suffix ("…sulfuron", "…trione").

Matching ignores case, accents and hyphens: "mesotrione" is "mésotrione",
"black grass" is "black-grass". Each name resolves to an entity key
(``species:CHEAL``, ``product:callisto``, ``active:mesotrion``) so spellings of
one thing in different languages compare equal.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from app.advice.facts import KNOWN_PRODUCT_NAMES, FactSheet
from app.advice.lexicon import ACTIVE_SUFFIXES, ACTIVES, FORMULATION_CODES, GENERIC_WEEDS, WEEDS
from app.species import DATA_DIR, catalogue

_SALT_WORDS = re.compile(
    r"\b(acid equivalent|potassium salt|isopropylamine salt|choline salt|dimethylamine salt|bapma salt|"
    r"dga salt|salt|ester|ammonium|sodium|methyl|ethyl|butyl|equivalent acide|sel de \w+)\b")
_FORMULATION_TAIL = re.compile(
    r"(?:\s+\d+(?:[.,]\d+)?)?\s*(?:" + "|".join(re.escape(c.lower()) for c in FORMULATION_CODES) + r")$")


def normalize(text: str) -> str:
    """Lower case, no accents, hyphens and apostrophe variants as spaces, one space between words.

    >>> normalize("Weißer Gänsefuß"), normalize("Black-grass"), normalize("mésotrione")
    ('weisser gansefuss', 'black grass', 'mesotrione')
    """
    t = unicodedata.normalize("NFKD", text)
    t = "".join(c for c in t if not unicodedata.combining(c)).casefold()
    t = re.sub(r"[\u2010-\u2015\-_/]", " ", t)
    t = re.sub(r"[\u2018\u2019\u02bc`]", "'", t)
    return re.sub(r"\s+", " ", t).strip()


def _active_key(name: str) -> str:
    base = normalize(re.split(r"[(]|, (?!\d)", name)[0])
    base = _SALT_WORDS.sub("", base).strip()
    # one key per stem across languages: mesotrione / mesotrion, glyphosate / glyphosat
    return "active:" + re.sub(r"e$", "", base)


def _product_base(name: str) -> str:
    base = normalize(re.split(r"[(]|, ", name)[0])
    stripped = _FORMULATION_TAIL.sub("", base).strip()
    return stripped or base


def _normalize_with_map(text: str) -> tuple[str, list[int]]:
    """:func:`normalize` of ``text`` and, per output character, the index of the input character."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        piece = normalize(ch) if not ch.isspace() else " "
        if ch.isspace() or re.fullmatch(r"[\u2010-\u2015\-_/]", ch):
            piece = " "
        for c in piece:
            if c == " " and (not out or out[-1] == " "):
                continue
            out.append(c)
            where.append(i)
    return "".join(out), where


@dataclass(frozen=True)
class NameHit:
    """A name found in an answer: the text as written and the entity keys it may stand for."""

    text: str
    keys: frozenset[str]


class NameIndex:
    """Alias (normalized) → entity keys, and one regex that finds any alias in normalized text."""

    def __init__(self, aliases: dict[str, set[str]]) -> None:
        self.aliases = {a: frozenset(k) for a, k in aliases.items() if len(a) >= 3}
        ordered = sorted(self.aliases, key=len, reverse=True)
        self._re = re.compile(r"(?<![\w])(" + "|".join(re.escape(a) for a in ordered) + r")(?![\w])") \
            if ordered else None

    def find(self, text: str) -> list[NameHit]:
        if self._re is None:
            return []
        norm, where = _normalize_with_map(text)
        return [NameHit(text[where[m.start(1)]:where[m.end(1) - 1] + 1], self.aliases[m.group(1)])
                for m in self._re.finditer(norm)]


def _add(aliases: dict[str, set[str]], name: str | None, key: str) -> None:
    if name and name.strip():
        aliases.setdefault(normalize(name), set()).add(key)


def _add_product(aliases: dict[str, set[str]], name: str, actives: Iterable[str] = ()) -> None:
    key = "product:" + _product_base(name)
    _add(aliases, name, key)
    _add(aliases, re.split(r"[(]|, ", name)[0], key)
    base = _product_base(name)
    _add(aliases, base, key)
    first = base.split(" ")[0]
    if len(first) >= 5 and first not in _COMMON_WORDS:
        _add(aliases, first, key)
    for a in actives:
        _add_active(aliases, a)


def _add_active(aliases: dict[str, set[str]], name: str) -> None:
    key = _active_key(name)
    _add(aliases, name, key)
    _add(aliases, re.split(r"[(]|, (?!\d)", name)[0], key)
    _add(aliases, key.split(":", 1)[1], key)


# First words of product names that are ordinary words and must not be read as the product.
_COMMON_WORDS = frozenset({"super", "ultra", "power", "total", "extra", "field", "green", "clean", "great",
                           "first", "prime", "pro", "plus", "max", "round", "turbo"})


@lru_cache
def _shipped_aliases() -> dict[str, frozenset[str]]:
    aliases: dict[str, set[str]] = {}
    for code, names in WEEDS.items():
        _add(aliases, code, f"species:{code}")
        for n in names:
            _add(aliases, n, f"species:{code}")
    for generic, codes in GENERIC_WEEDS.items():
        for code in codes:
            _add(aliases, generic, f"species:{code}")
    for code, facts in catalogue().items():
        _add(aliases, code, f"species:{code}")
        _add(aliases, facts.get("scientific_name"), f"species:{code}")
        for names in (facts.get("common_names") or {}).values():
            for n in ([names] if isinstance(names, str) else names):
                _add(aliases, n, f"species:{code}")
    for a in ACTIVES:
        _add_active(aliases, a)
    for p in KNOWN_PRODUCT_NAMES:
        if _active_key(p) in aliases.get(normalize(p), set()):
            continue  # "glyphosate" in that list is an active, already known
        _add_product(aliases, p)
    for path in sorted((DATA_DIR / "labels").glob("*.json")):
        try:
            doc = json.loads(path.read_text())
            _add_product(aliases, doc["name"], [a["name"] for a in doc.get("active_ingredients", [])])
        except (ValueError, KeyError, TypeError):
            continue  # a broken shipped label is the label tests' business, not the advice's
    return {a: frozenset(k) for a, k in aliases.items()}


def name_index(extra_products: Iterable[str] = (), extra_actives: Iterable[str] = (),
               facts: FactSheet | None = None) -> NameIndex:
    """The shipped names plus the organisation's labels (and the names in ``facts``)."""
    products = list(extra_products)
    actives = list(extra_actives)
    species: list[tuple[str, str]] = []
    others: list[str] = []
    if facts is not None:
        for p in facts.products:
            products.append(p.name)
            actives.extend(p.active_ingredients)
        for s in facts.species:
            species += [(n, s.code) for n in [s.code, s.name, *s.names.values()] if n]
            products += [a.product for a in getattr(s, "alternatives", ())]
        others = list(facts.other_names)
    return _index(tuple(products), tuple(actives), tuple(species), tuple(others))


@lru_cache(maxsize=64)
def _index(products: tuple[str, ...], actives: tuple[str, ...], species: tuple[tuple[str, str], ...],
           others: tuple[str, ...]) -> NameIndex:
    aliases: dict[str, set[str]] = {a: set(k) for a, k in _shipped_aliases().items()}
    for p in products:
        _add_product(aliases, p)
    for a in actives:
        _add_active(aliases, a)
    for n, code in species:
        _add(aliases, n, f"species:{code}")
    for n in others:
        if normalize(n) not in aliases:
            _add(aliases, n, "other:" + normalize(n))
    return NameIndex(aliases)


def allowed_keys(facts: FactSheet) -> set[str]:
    """Entity keys the facts name: their products, those products' actives, the species found."""
    keys: set[str] = set()
    for p in facts.products:
        keys.add("product:" + _product_base(p.name))
        keys.update(_active_key(a) for a in p.active_ingredients)
    keys.update(f"species:{s.code}" for s in facts.species)
    # catalogue products the facts propose for a weed the mix does not control
    keys.update("product:" + _product_base(a.product) for s in facts.species for a in getattr(s, "alternatives", ()))
    return keys


_TRADEMARK = re.compile(r"([\w][\w\-]*)\s?[®™]")
_FORMULATED = re.compile(
    r"\b([A-Z][\w\-]+)\s(?:\d+(?:[.,]\d+)?\s?)?(?:"
    + "|".join(re.escape(c) for c in FORMULATION_CODES if len(c) > 1) + r")\b")
_SUFFIXED = re.compile(r"\b([\w\-]*(?:" + "|".join(ACTIVE_SUFFIXES) + r"))(?:[\-\s]methyl)?\b", re.IGNORECASE)


def unknown_names(text: str, facts: FactSheet, index: NameIndex) -> list[str]:
    """Names in ``text`` of products, actives or weeds the facts do not state (each once).

    >>> from app.advice.examples import example_inputs
    >>> from app.advice.facts import build_fact_sheet
    >>> f = build_fact_sheet(**example_inputs())
    >>> unknown_names("Roundup also controls wild oat and Canada thistle.", f, name_index(facts=f))
    ['wild oat', 'Canada thistle']
    """
    allowed = allowed_keys(facts)
    masked = text.replace(facts.field.name, " ")  # a field called "Thistle Meadow" names no weed
    out: list[str] = []
    for hit in index.find(masked):
        if not hit.keys & allowed and normalize(hit.text) not in {normalize(o) for o in out}:
            out.append(hit.text)
    stated = {normalize(n) for n in facts.names_in_facts()} | {k.split(":", 1)[1] for k in allowed}
    known_aliases = {a for a, k in index.aliases.items() if k & allowed}

    def is_stated(word: str) -> bool:
        w = normalize(word)
        return w in known_aliases or any(w in s or s in w for s in stated if len(s) >= 4)

    for rx in (_TRADEMARK, _FORMULATED, _SUFFIXED):
        for m in rx.finditer(masked):
            word = m.group(1)
            if normalize(word) in index.aliases:
                continue  # a known name: the index has judged it above
            if not is_stated(word) and normalize(word) not in {normalize(o) for o in out}:
                out.append(word)
    return out
