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


@lru_cache
def catalogue() -> dict[str, dict[str, Any]]:
    """EPPO code → species facts; empty if the catalogue file is missing."""
    path = DATA_DIR / "species.json"
    if not path.exists():
        return {}
    raw = json.loads(path.read_text())
    return raw.get("species", raw) if isinstance(raw, dict) else {}


def unknown_codes(codes: list[str]) -> list[str]:
    """Codes not in the catalogue (all of them pass if there is no catalogue)."""
    known = catalogue()
    if not known:
        return []
    return [c for c in codes if c not in known]
