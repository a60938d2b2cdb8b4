"""The species catalogue is required: without it no species code would be checked."""

from __future__ import annotations

from pathlib import Path

import pytest

import app.species as species


def test_a_missing_catalogue_is_an_error_not_an_open_door(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(species, "DATA_DIR", tmp_path)
    species.catalogue.cache_clear()
    try:
        with pytest.raises(species.CatalogueMissing, match="species.json"):
            species.unknown_codes(["ALOMY", "NOT_A_WEED"])
    finally:
        monkeypatch.undo()
        species.catalogue.cache_clear()
    assert species.unknown_codes(["ALOMY", "NOT_A_WEED"]) == ["NOT_A_WEED"]
