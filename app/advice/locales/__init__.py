"""Languages as data: one JSON file per language (``en.json``, ``fr.json``, ``de.json`` ...).

Each file holds the advice templates, crop and compass names, and the map page's
words. Adding a language is adding a file with the same keys as ``en.json``
(a test checks the key sets match) whose name Babel knows as a locale; no code
changes. Numbers, dates and money come from CLDR through Babel, not from here.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

LOCALE_DIR = Path(__file__).resolve().parent
LANGS: tuple[str, ...] = tuple(sorted(p.stem for p in LOCALE_DIR.glob("*.json")))


@cache
def locale_data(lang: str) -> dict[str, Any]:
    """The parsed locale file of ``lang`` (cached); ``KeyError`` for a language without one."""
    if lang not in LANGS:
        raise KeyError(lang)
    data: dict[str, Any] = json.loads((LOCALE_DIR / f"{lang}.json").read_text(encoding="utf-8"))
    return data


def crop_name(crop: str, lang: str) -> str:
    """The crop's name in ``lang`` (``maize`` → ``maïs``); the code with spaces when not listed."""
    return str(locale_data(lang).get("crops", {}).get(crop) or crop.replace("_", " "))
