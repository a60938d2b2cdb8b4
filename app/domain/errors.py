"""Errors the services raise about stored things; the API maps each to a status code."""

from __future__ import annotations

import difflib


class NotFound(LookupError):
    """A resource that does not exist or belongs to another organisation."""


class Forbidden(PermissionError):
    """The key's role may not do this."""


class Conflict(RuntimeError):
    """The request clashes with what is stored."""


def did_you_mean(unknown: str, known: list[str]) -> str | None:
    """The known name closest to ``unknown``, if one is close (a typo or another unit suffix).

    >>> did_you_mean("wind_max_mph", ["wind_max_kmh", "wind_min_kmh", "rain_free_h"])
    'wind_max_kmh'
    >>> did_you_mean("colour", ["wind_max_kmh"]) is None
    True
    """
    close = difflib.get_close_matches(unknown, known, n=1, cutoff=0.75)
    return close[0] if close else None
