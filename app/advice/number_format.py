"""Numbers, percentages, money and dates as each language writes them (CLDR via Babel).

Every output of the service that shows a number to a farmer (advice, map page,
PNG, CLI, pre-flight) goes through :func:`display_round` once, then through
Babel for the locale's separators, so 93.47 % reads "93 %" everywhere and a
French reader gets ``1 234,5`` while a German one gets ``1.234,5``. Which
languages exist is data: one JSON file per language in ``app/advice/locales``.

Examples
--------
>>> format_number(1234.5, "en")
'1,234.5'
>>> format_number(1234.5, "fr")
'1\\u202f234,5'
>>> format_number(1234.5, "de")
'1.234,5'
>>> format_number(1.5, "fr")
'1,5'
>>> parse_number("1\\u202f234,5", "fr")
1234.5
"""

from __future__ import annotations

import math
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from babel import Locale
from babel.dates import format_skeleton
from babel.numbers import format_currency, format_decimal
from babel.numbers import format_percent as _babel_percent

from app.advice.locales import LANGS

NNBSP = "\u202f"
NBSP = "\u00a0"


class LanguageError(ValueError):
    """A language the advice module has no locale file for."""


def style_for(lang: str) -> Locale:
    """The Babel locale of ``lang``; raises :class:`LanguageError` listing the valid ones."""
    if lang not in LANGS:
        raise LanguageError(f"unknown language {lang!r}; valid languages: {', '.join(LANGS)}")
    return Locale.parse(lang)


def display_round(value: float, decimals: int) -> Decimal:
    """The one rounding step every output shares: half away from zero to ``decimals`` places.

    Python's ``round`` and Babel both round half to even (``0.5`` → ``0``), and
    binary floats make ``2.675`` round down; a farmer reading "93 %" on the map
    and "94 %" in the advice stops trusting both, so every writer rounds here.

    >>> display_round(93.47, 0), display_round(2.675, 2), display_round(0.5, 0)
    (Decimal('93'), Decimal('2.68'), Decimal('1'))
    """
    if not math.isfinite(value):
        raise ValueError(f"cannot write {value!r} as a number")
    q = Decimal(1).scaleb(-decimals)
    out = Decimal(repr(float(value))).quantize(q, rounding=ROUND_HALF_UP)
    return out + 0 if out != 0 else Decimal(0).quantize(q)  # no "-0"


def format_number(value: float, lang: str, decimals: int = 2) -> str:
    """``value`` rounded to at most ``decimals`` places, written as ``lang`` writes it.

    >>> format_number(2.0, "en")
    '2'
    >>> format_number(-0.004, "en")
    '0'
    >>> format_number(12500, "fr", 0)
    '12\\u202f500'
    """
    style_for(lang)
    d = display_round(value, decimals)
    pattern = "#,##0" + ("." + "#" * decimals if decimals > 0 else "")
    text = format_decimal(d, format=pattern, locale=lang)
    return "0" if text.lstrip("-") == "0" else text


def format_percent(value: float, lang: str, decimals: int = 0) -> str:
    """A percentage of 0-100: ``26%`` in English, ``26 %`` (no-break space) in French and German."""
    loc = style_for(lang)
    d = display_round(value, decimals)
    pattern = loc.percent_formats[None].pattern
    if decimals:
        pattern = pattern.replace("0%", "0." + "#" * decimals + "%").replace("0\u00a0%", "0." + "#" * decimals
                                                                               + "\u00a0%")
    return str(_babel_percent(d / 100, format=pattern, locale=lang))


def format_money(value: float, currency: str, lang: str, decimals: int = 0) -> str:
    """Money in whole units by default: ``€611`` (en), ``611 €`` (fr, de), CLDR symbol placement.

    >>> format_money(611.31, "EUR", "en"), format_money(611.31, "EUR", "fr")
    ('€611', '611\\xa0€')
    """
    loc = style_for(lang)
    d = display_round(value, decimals)
    pattern = loc.currency_formats["standard"].pattern.split(";")[0]
    frac = "." + "0" * decimals if decimals else ""
    pattern = pattern.replace("#,##0.00", "#,##0" + frac)
    return str(format_currency(d, currency, format=pattern, locale=lang, currency_digits=False))


def format_day(d: date, lang: str, *, with_year: bool) -> str:
    """A weekday and date (``Wed, Jun 12``; with the year when it is not this week's)."""
    return str(format_skeleton("yMMMEd" if with_year else "MMMEd", d, locale=style_for(lang)))


def parse_number(text: str, lang: str) -> float:
    """Read a number written in ``lang`` (thousands separators allowed, any space kind)."""
    loc = style_for(lang)
    decimal = loc.number_symbols["latn"]["decimal"]
    group = loc.number_symbols["latn"]["group"]
    cleaned = text.strip()
    for sep in {group, NNBSP, NBSP, " "}:
        cleaned = cleaned.replace(sep, "")
    if decimal == ",":
        cleaned = cleaned.replace(".", "").replace(",", ".")
    else:
        cleaned = cleaned.replace(",", "")
    return float(cleaned)
