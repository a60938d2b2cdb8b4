"""File and attribute names that survive old terminals: ASCII, 8.3, bounded length."""

from __future__ import annotations

import re
import unicodedata


def ascii_text(text: str, max_len: int) -> str:
    """``text`` folded to printable ASCII and cut to ``max_len`` characters.

    >>> ascii_text("Champ Été n°3", 10)
    'Champ Ete '
    """
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^\x20-\x7e]", "", folded)[:max_len]


def dos_name(text: str, fallback: str = "RX") -> str:
    """An 8.3-safe base name: at most 8 of A-Z, 0-9 and ``_``.

    >>> dos_name("North field #2")
    'NORTHFIE'
    >>> dos_name("Été")
    'ETE'
    """
    name = re.sub(r"[^A-Z0-9_]", "", ascii_text(text, 200).upper())
    return name[:8] or fallback


def file_stem(text: str, fallback: str = "prescription") -> str:
    """A readable download file stem: ASCII letters, digits, ``-`` and ``_``.

    >>> file_stem("North field #2")
    'North_field_2'
    """
    stem = re.sub(r"[^A-Za-z0-9]+", "_", ascii_text(text, 200)).strip("_")
    return stem[:60] or fallback
