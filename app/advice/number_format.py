"""Numbers as each language writes them, and back.

English writes ``1,234.5``; French writes ``1 234,5`` with a narrow no-break
space (U+202F) between thousands and a decimal comma. Formatting rounds to at
most ``decimals`` places and drops trailing zeros, so ``1.50`` reads ``1.5``.

Examples
--------
>>> format_number(1234.5, "en")
'1,234.5'
>>> format_number(1234.5, "fr")
'1\\u202f234,5'
>>> format_number(1.5, "fr")
'1,5'
>>> parse_number("1\\u202f234,5", "fr")
1234.5
"""

from __future__ import annotations

import math
from dataclasses import dataclass

NNBSP = "\u202f"  # narrow no-break space: French thousands separator and before % (fr)
NBSP = "\u00a0"


@dataclass(frozen=True)
class NumberStyle:
    """How one language writes numbers."""

    decimal: str
    thousands: str
    percent: str  # what goes between the number and "%"


NUMBER_STYLES: dict[str, NumberStyle] = {
    "en": NumberStyle(decimal=".", thousands=",", percent=""),
    "fr": NumberStyle(decimal=",", thousands=NNBSP, percent=NNBSP),
}
LANGS: tuple[str, ...] = tuple(NUMBER_STYLES)


class LanguageError(ValueError):
    """A language the advice module has no table for."""


def style_for(lang: str) -> NumberStyle:
    """The number style of ``lang``; raises :class:`LanguageError` listing the valid ones."""
    try:
        return NUMBER_STYLES[lang]
    except KeyError:
        raise LanguageError(f"unknown language {lang!r}; valid languages: {', '.join(LANGS)}") from None


def format_number(value: float, lang: str, decimals: int = 2) -> str:
    """``value`` rounded to at most ``decimals`` places, written as ``lang`` writes it.

    >>> format_number(2.0, "en")
    '2'
    >>> format_number(-0.004, "en")
    '0'
    >>> format_number(12500, "fr", 0)
    '12\\u202f500'
    """
    style = style_for(lang)
    if not math.isfinite(value):
        raise ValueError(f"cannot write {value!r} as a number")
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text.replace(",", "\x00").replace(".", style.decimal).replace("\x00", style.thousands)


def format_percent(value: float, lang: str, decimals: int = 0) -> str:
    """A percentage: ``26%`` in English, ``26 %`` (narrow no-break space) in French."""
    return f"{format_number(value, lang, decimals)}{style_for(lang).percent}%"


def parse_number(text: str, lang: str) -> float:
    """Read a number written in ``lang`` (thousands separators allowed, any space kind)."""
    style = style_for(lang)
    cleaned = text.strip()
    for sep in {style.thousands, NNBSP, NBSP, " "}:
        cleaned = cleaned.replace(sep, "")
    if style.decimal == ",":
        cleaned = cleaned.replace(",", ".")
    else:
        cleaned = cleaned.replace(",", "")
    return float(cleaned)
