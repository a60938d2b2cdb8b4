"""The weed species catalogue (EPPO codes) shipped in ``data/species.json``."""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

# The shipped data (species catalogue, sample fields, labels); DOSEWISE_SHARE_DIR
# points elsewhere when the package is installed without its source tree.
DATA_DIR = Path(os.environ.get("DOSEWISE_SHARE_DIR") or Path(__file__).resolve().parent.parent / "data")


class CatalogueMissing(RuntimeError):
    """The species catalogue file is not where the service looks for it: a deployment error."""


@lru_cache
def catalogue() -> dict[str, dict[str, Any]]:
    """EPPO code → species facts.

    Raises ``CatalogueMissing`` when ``data/species.json`` cannot be found:
    without it every species code would pass unchecked.
    """
    path = DATA_DIR / "species.json"
    if not path.exists():
        raise CatalogueMissing(f"species catalogue {path} not found; set DOSEWISE_SHARE_DIR to the folder that "
                               f"holds species.json (the repository's data/)")
    raw = json.loads(path.read_text())
    return raw.get("species", raw) if isinstance(raw, dict) else {}


def unknown_codes(codes: list[str]) -> list[str]:
    """Codes not in the catalogue."""
    known = catalogue()
    return [c for c in codes if c not in known]


def species_names(code: str) -> dict[str, str]:
    """A species' common name per language (the first where several are listed), and ``scientific``.

    >>> species_names("ALOMY")["en"], species_names("ALOMY")["scientific"]
    ('black-grass', 'Alopecurus myosuroides')
    """
    facts = catalogue().get(code, {})
    names = {lang: (v[0] if isinstance(v, list) else v) for lang, v in (facts.get("common_names") or {}).items()
             if v}
    if facts.get("scientific_name"):
        names["scientific"] = facts["scientific_name"]
    return names
