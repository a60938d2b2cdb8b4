"""The weed species catalogue (EPPO codes) shipped in ``data/species.json``."""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from app.dosing.economics import SpeciesEconomics

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


def _crop_key(crop: str | None, table: dict[str, Any]) -> str | None:
    """The catalogue's crop entry for a field crop: 'winter_wheat' and 'spring wheat' use 'wheat'."""
    if not crop:
        return None
    words = crop.lower().replace("_", " ").replace("-", " ").split()
    for key in table:
        if key in words or key == crop.lower():
            return key
    return None


def species_economics(crop: str | None) -> dict[str, SpeciesEconomics]:
    """Sourced Cousens and seed parameters of every catalogued species for ``crop``.

    Species without a yield-loss entry for the crop are left out (the dosing
    core then uses its defaults and reports the species as unsourced). Seed
    parameters count only when every one of them has a value.
    """
    out: dict[str, SpeciesEconomics] = {}
    for code, facts in catalogue().items():
        table = facts.get("yield_loss") or {}
        key = _crop_key(crop, table)
        if key is None:
            continue
        yl = table[key]
        seed = facts.get("seed") or {}
        seed_keys = ("seeds_per_plant", "seed_density_a_m2", "seedlings_per_seed", "seedbank_carryover")
        has_seed = all(seed.get(k) is not None for k in seed_keys)
        source = f"{crop}: {yl['source']}" + (f" Seeds: {seed['source']}" if has_seed else "")
        out[code] = SpeciesEconomics(
            cousens_i_pct=float(yl["cousens_i_pct"]), cousens_a_pct=float(yl["cousens_a_pct"]),
            **({k: float(seed[k]) for k in seed_keys} if has_seed else {}), source=source)
    return out


def resistance_floors(products: list[tuple[str, str | None]]) -> dict[str, dict[str, float]]:
    """Product name -> species code -> floor (fraction of label maximum), for (name, HRAC group) pairs."""
    out: dict[str, dict[str, float]] = {}
    for name, group in products:
        if group is None:
            continue
        for code, facts in catalogue().items():
            floors = facts.get("resistance_floors") or {}
            if str(group) in floors:
                out.setdefault(name, {})[code] = float(floors[str(group)])
    return out
