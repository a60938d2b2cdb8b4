"""Crop names as people write them, reduced to the one key labels and fields share.

``Winter wheat``, ``winter-wheat``, ``WINTER_WHEAT`` and French ``blé d'hiver``
all name the crop ``winter_wheat``; a label for ``maize`` covers a field of
``corn`` (US) or ``maïs`` (FR). Names not in the synonym table keep their
normalised spelling, so a crop the table does not know still matches itself.
"""

from __future__ import annotations

import re
import unicodedata

# Synonyms by language, keys already in normalised form (see ``_key``).
SYNONYMS: dict[str, dict[str, str]] = {
    "en": {
        "corn": "maize", "grain_maize": "maize", "field_corn": "maize",
        "soybeans": "soybean", "soya": "soybean", "soya_bean": "soybean", "soya_beans": "soybean",
        "wheat_winter": "winter_wheat", "winter_barley": "winter_barley", "barley_winter": "winter_barley",
        "spring_wheat": "spring_wheat", "wheat_spring": "spring_wheat",
        "oilseed_rape": "oilseed_rape", "rapeseed": "oilseed_rape", "canola": "oilseed_rape",
        "sugar_beet": "sugar_beet", "sugarbeet": "sugar_beet", "grain_sorghum": "sorghum",
    },
    "fr": {
        "ble_d_hiver": "winter_wheat", "ble_tendre_d_hiver": "winter_wheat", "ble_hiver": "winter_wheat",
        "ble_de_printemps": "spring_wheat", "orge_d_hiver": "winter_barley", "mais": "maize",
        "mais_grain": "maize", "soja": "soybean", "colza": "oilseed_rape", "betterave": "sugar_beet",
        "betterave_sucriere": "sugar_beet",
    },
}
_ALL: dict[str, str] = {k: v for table in SYNONYMS.values() for k, v in table.items()}


def _key(name: str) -> str:
    """Lower case, accents dropped, every run of spaces, hyphens and apostrophes one ``_``."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "_", plain.lower()).strip("_")


def normalise_crop(name: str) -> str:
    """The crop key for ``name``: case, spacing and accents ignored, synonyms (en, fr) resolved.

    >>> normalise_crop("Winter wheat"), normalise_crop("blé d'hiver"), normalise_crop(" Corn ")
    ('winter_wheat', 'winter_wheat', 'maize')
    >>> normalise_crop("Triticale")
    'triticale'
    """
    key = _key(name)
    return _ALL.get(key, key)
