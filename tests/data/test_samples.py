"""The sample data under data/: labels, species catalogue and synthetic fields.

Every file must load through the API's own schemas, the weed maps must sit on
their fields' working grids, the weeds must be patchy, and the generator must
reproduce data/sample_fields byte for byte.
"""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import shapely
from rasterio import features
from scipy import ndimage

from app.domain.field import FieldCreate
from app.domain.label import LabelDoc
from app.domain.weed_map import WeedMapCreate, grid_to_array
from app.dosing.grid import GridSpec
from app.dosing.response import DoseResponse
from app.geo import parse_geojson, reproject, utm_crs_for

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
LABEL_FILES = sorted((DATA / "labels").glob("*.json"))
FIELD_SLUGS = ("fr-ru-de-vaux", "us-ia-story-county", "uk-blackgrass-wheat")
US_RATE_UNITS = {"fl oz/acre", "pt/acre", "qt/acre", "gal/acre", "lb/acre", "oz/acre"}


@cache
def species_catalogue() -> dict:
    return json.loads((DATA / "species.json").read_text(encoding="utf-8"))


@cache
def label(slug: str) -> LabelDoc:
    return LabelDoc.model_validate_json((DATA / "labels" / f"{slug}.json").read_text(encoding="utf-8"))


@cache
def sample(slug: str) -> tuple[FieldCreate, WeedMapCreate, dict[str, np.ndarray]]:
    d = DATA / "sample_fields" / slug
    field = FieldCreate.model_validate_json((d / "field.json").read_text(encoding="utf-8"))
    weed_map = WeedMapCreate.model_validate_json((d / "weed_map.json").read_text(encoding="utf-8"))
    grids = {code: grid_to_array(v, code) for code, v in weed_map.species.items()}
    return field, weed_map, grids


def grid_spec(weed_map: WeedMapCreate, shape: tuple[int, int]) -> GridSpec:
    return GridSpec(
        crs=weed_map.crs,
        x0_m=weed_map.origin.x,
        y0_m=weed_map.origin.y,
        cell_size_m=weed_map.cell_size_m,
        n_rows=shape[0],
        n_cols=shape[1],
    )


def field_in_crs(field: FieldCreate, crs: str):
    return reproject(
        parse_geojson(field.boundary, allowed=("Polygon", "MultiPolygon"), where="boundary"), "EPSG:4326", crs
    )


# --------------------------------------------------------------------------- species


def test_species_catalogue_has_the_required_species():
    cat = species_catalogue()
    required = {
        "ALOMY",
        "AMAPA",
        "AMATU",
        "GALAP",
        "STEME",
        "CHEAL",
        "SETVI",
        "SETFA",
        "ECHCG",
        "PAPRH",
        "CIRAR",
        "AMBEL",
        "POAAN",
    }
    assert required <= set(cat)
    for code, sp in cat.items():
        assert len(code) == 5 and code.isupper(), code
        assert sp["scientific_name"] and sp["common_names"]["en"] and sp["common_names"]["fr"], code
        assert sp["plant_class"] in ("monocot", "dicot"), code
        assert sp["competitive_index"] > 0, code
        # an index is either marked illustrative or names its source
        assert "illustrative" in sp["competitive_index_status"] or "Rothamsted" in sp["competitive_index_status"], code
        for crop, yl in (sp.get("yield_loss") or {}).items():
            assert yl["cousens_i_pct"] > 0 and 0 < yl["cousens_a_pct"] <= 100 and yl["source"], (code, crop)


def test_waterhemp_uses_the_eppo_code_and_keeps_amata_as_alias():
    cat = species_catalogue()
    assert cat["AMATU"]["scientific_name"] == "Amaranthus tuberculatus"
    assert "AMATA" in cat["AMATU"]["other_codes"]["legacy"]
    assert "AMATA" not in cat


@pytest.mark.parametrize(
    ("code", "autumn", "spring"), [("ALOMY", 18, 33), ("GALAP", 9, 7), ("STEME", 23, 11)]
)
def test_rothamsted_thresholds_match_domain(code, autumn, spring):
    thr = species_catalogue()[code]["rothamsted_threshold_plants_m2"]
    assert (thr["autumn"], thr["spring"]) == (autumn, spring)


def test_monocots_are_the_grasses():
    cat = species_catalogue()
    assert {c for c, s in cat.items() if s["plant_class"] == "monocot"} == {
        "ALOMY",
        "SETVI",
        "SETFA",
        "ECHCG",
        "POAAN",
        "AVEFA",
    }


# --------------------------------------------------------------------------- labels


def test_every_expected_label_exists():
    assert {p.stem for p in LABEL_FILES} == {
        "roundup-powermax",
        "engenia",
        "enlist-one",
        "liberty-280-sl",
        "callisto-4sc",
        "atrazine-4l",
        "callisto-fr",
        "atlantis-od-gb",
    }


@pytest.mark.parametrize("path", LABEL_FILES, ids=lambda p: p.stem)
def test_label_validates_converts_and_is_sourced(path):
    doc = label(path.stem)
    core = doc.to_core()
    assert core.canonical_unit == "L/ha"
    assert 0 < core.min_rate <= core.max_rate
    assert doc.sources, "every label cites at least one source"
    assert doc.notes and "unverified" in doc.notes.lower()
    if doc.country == "US":
        assert doc.rate_unit in US_RATE_UNITS
        assert all(b.unit == "ft" for b in doc.buffers)
    raw = json.loads(path.read_text(encoding="utf-8"))
    for b in raw.get("buffers", []):
        assert "unit" in b and "kind" in b


@pytest.mark.parametrize("path", LABEL_FILES, ids=lambda p: p.stem)
def test_label_efficacy_is_plausible_and_marked_illustrative(path):
    doc = label(path.stem)
    cat = species_catalogue()
    assert doc.efficacy
    for e in doc.efficacy:
        assert e.species in cat
        assert e.model == "LL.4" and e.d == 1.0 and 0 <= e.c <= 0.05 and 1.5 <= e.b <= 4.0
        assert e.source and "Illustrative" in e.source
        if "Susceptible" in e.source:
            ed90 = DoseResponse(model="LL.4", b=e.b, c=e.c, d=e.d, e=e.e).dose_for_control(0.9)
            assert ed90 <= doc.max_rate, f"{e.species}: ED90 {ed90:.3g} above label max {doc.max_rate}"


def test_glyphosate_resistant_amaranths_are_harder_than_susceptible_species():
    doc = label("roundup-powermax")
    ed50 = {e.species: e.e for e in doc.efficacy}
    assert min(ed50["AMAPA"], ed50["AMATU"]) > 2 * max(ed50["CHEAL"], ed50["SETFA"])
    curve = {e.species: e for e in doc.efficacy}["AMAPA"]
    assert DoseResponse("LL.4", curve.b, curve.c, curve.d, curve.e).dose_for_control(0.9) > doc.max_rate


def test_label_facts_from_domain():
    core = label("roundup-powermax").to_core()
    assert core.max_rate == pytest.approx(2.34, abs=0.01)  # 32 fl oz/acre
    assert label("roundup-powermax").weather.rain_free_h == 0.5
    engenia = label("engenia")
    assert engenia.to_core().downwind_buffer_m == pytest.approx(73.152)  # 240 ft
    assert engenia.weather.wind_min_kmh == pytest.approx(4.8, abs=0.05)  # 3 mph
    assert engenia.weather.wind_max_kmh == pytest.approx(16.1, abs=0.05)  # 10 mph
    assert engenia.weather.daylight_only and engenia.weather.no_inversion
    assert label("enlist-one").to_core().downwind_buffer_m == pytest.approx(9.144)  # 30 ft
    liberty = label("liberty-280-sl")
    assert liberty.max_rate == 43 and {c.crop: c.max_bbch for c in liberty.crops} == {
        "maize": 16,
        "soybean": 60,
    }
    assert liberty.weather.rain_free_h == 4
    callisto = label("callisto-4sc")
    assert callisto.max_rate == 3 and callisto.max_season_rate == 10.7
    assert callisto.min_days_between_applications == 14
    atrazine = label("atrazine-4l")
    assert atrazine.to_core().buffers_m == pytest.approx(
        {"runoff_entry": 66 * 0.3048, "lake": 200 * 0.3048, "well": 50 * 0.3048}
    )
    assert atrazine.max_season_rate == 3.0 and atrazine.rei_h == 12
    fr = label("callisto-fr")
    assert fr.to_core().buffers_m == {"water": 5.0}
    assert (fr.weather.wind_max_kmh, fr.rei_h, fr.rate_unit) == (19.0, 6, "L/ha")
    assert fr.price is not None and any("4 mai 2017" in s.title for s in fr.sources)


# --------------------------------------------------------------------------- fields and weed maps


EXPECTED = {
    # slug: (crs, cell size m, area range ha, country, crop)
    "fr-ru-de-vaux": ("EPSG:32631", 0.5, (8, 15), "FR", "maize"),
    "us-ia-story-county": ("EPSG:32615", 1.0, (90, 110), "US", "soybean"),
    "uk-blackgrass-wheat": ("EPSG:32630", 1.0, (10, 20), "GB", "winter_wheat"),
}


@pytest.mark.parametrize("slug", FIELD_SLUGS)
def test_field_boundary_is_realistic(slug):
    field, weed_map, _ = sample(slug)
    crs, cell, (lo, hi), country, crop = EXPECTED[slug]
    assert (field.country, field.crop) == (country, crop)
    geom_ll = parse_geojson(field.boundary, allowed=("Polygon", "MultiPolygon"), where="boundary")
    polys = list(geom_ll.geoms) if geom_ll.geom_type == "MultiPolygon" else [geom_ll]
    for p in polys:
        assert p.exterior.is_ccw, "RFC 7946 exterior rings run counter-clockwise"
        assert all(not ring.is_ccw for ring in p.interiors), "holes run clockwise"
    centroid = geom_ll.centroid
    assert weed_map.crs == utm_crs_for(centroid.x, centroid.y) == crs
    geom_m = field_in_crs(field, crs)
    assert lo <= geom_m.area / 10_000 <= hi
    # Not an axis-aligned rectangle: clearly smaller than its bounding box.
    assert geom_m.area < 0.95 * shapely.box(*geom_m.bounds).area


@pytest.mark.parametrize("slug", FIELD_SLUGS)
def test_weed_map_covers_field_on_a_snapped_grid(slug):
    field, weed_map, grids = sample(slug)
    crs, cell, *_ = EXPECTED[slug]
    assert weed_map.cell_size_m == cell
    shape = next(iter(grids.values())).shape
    grid = grid_spec(weed_map, shape)
    for v in (grid.x0_m, grid.y0_m):
        assert v / cell == pytest.approx(round(v / cell), abs=1e-9), "origin snapped to the cell size"
    west, south, east, north = grid.bounds_m
    fx0, fy0, fx1, fy1 = field_in_crs(field, crs).bounds
    assert west <= fx0 < west + cell and north - cell < fy1 <= north
    assert east - cell < fx1 <= east and south <= fy0 < south + cell


@pytest.mark.parametrize("slug", FIELD_SLUGS)
def test_no_weeds_outside_the_field(slug):
    field, weed_map, grids = sample(slug)
    shape = next(iter(grids.values())).shape
    grid = grid_spec(weed_map, shape)
    touched = features.rasterize(
        [(field_in_crs(field, weed_map.crs), 1)],
        out_shape=shape,
        transform=grid.transform,
        all_touched=True,
        fill=0,
        dtype="uint8",
    ).astype(bool)
    for code, a in grids.items():
        assert not a[~touched].any(), f"{code} has plants outside the field"
        assert a.dtype == np.float32 and (a >= 0).all()


@pytest.mark.parametrize("slug", FIELD_SLUGS)
def test_weed_species_are_in_the_catalogue(slug):
    _, weed_map, _ = sample(slug)
    assert len(weed_map.species) >= 3
    assert set(weed_map.species) <= set(species_catalogue())


def _in_field(slug: str) -> np.ndarray:
    field, weed_map, grids = sample(slug)
    shape = next(iter(grids.values())).shape
    grid = grid_spec(weed_map, shape)
    return features.rasterize(
        [(field_in_crs(field, weed_map.crs), 1)],
        out_shape=shape,
        transform=grid.transform,
        all_touched=False,
        fill=0,
        dtype="uint8",
    ).astype(bool)


@pytest.mark.parametrize("slug", FIELD_SLUGS)
def test_weeds_are_patchy(slug):
    _, weed_map, grids = sample(slug)
    in_field = _in_field(slug)
    cell_area = weed_map.cell_size_m**2
    field_m2 = in_field.sum() * cell_area
    for code, a in grids.items():
        occupied = a > 0
        zero_share = 1.0 - occupied[in_field].mean()
        assert zero_share >= 0.75, f"{code}: only {zero_share:.0%} of the field is clean"
        labels, _ = ndimage.label(occupied, structure=np.ones((3, 3), dtype=bool))
        sizes_m2 = np.bincount(labels.ravel())[1:] * cell_area
        patches = sizes_m2[sizes_m2 >= 10.0]
        assert patches.size >= 8, f"{code}: {patches.size} patches"
        assert patches.max() < 0.2 * field_m2, f"{code}: one patch covers too much of the field"
        median_diameter_m = float(np.median(2 * np.sqrt(patches / math.pi)))
        assert 5.0 <= median_diameter_m <= 40.0, f"{code}: median patch {median_diameter_m:.1f} m across"


@pytest.mark.parametrize(
    ("slug", "code", "low", "high"),
    [
        ("uk-blackgrass-wheat", "ALOMY", 150, 600),
        ("uk-blackgrass-wheat", "GALAP", 5, 60),
        ("us-ia-story-county", "AMAPA", 20, 60),
        ("us-ia-story-county", "AMATU", 20, 100),
        ("fr-ru-de-vaux", "CHEAL", 20, 120),
    ],
)
def test_peak_densities_are_plausible(slug, code, low, high):
    assert low <= float(sample(slug)[2][code].max()) <= high


def test_blackgrass_is_the_dominant_weed_in_the_uk_field():
    grids = sample("uk-blackgrass-wheat")[2]
    totals = {code: float(a.sum()) for code, a in grids.items()}
    assert max(totals, key=totals.get) == "ALOMY"


def test_blackgrass_patches_stretch_along_the_drilling_direction():
    # Second moments of each large patch: its long axis points along the drill (76° from north).
    a = sample("uk-blackgrass-wheat")[2]["ALOMY"]
    labels, n = ndimage.label(a > 0, structure=np.ones((3, 3), dtype=bool))
    angles = []
    for sl, idx in zip(ndimage.find_objects(labels), range(1, n + 1), strict=True):
        rows, cols = np.nonzero(labels[sl] == idx)
        if rows.size < 60:
            continue
        x, y = cols - cols.mean(), -(rows - rows.mean())
        w, v = np.linalg.eigh(np.cov(np.vstack([x, y])))
        if w[1] > 4 * w[0]:
            ex, ey = v[:, 1]
            angles.append(math.degrees(math.atan2(ex, ey)) % 180.0)
    assert len(angles) >= 5
    assert abs(float(np.median(angles)) - 76.0) < 15.0


def test_sensitive_features_sit_where_the_brief_puts_them():
    fr_field = sample("fr-ru-de-vaux")[0]
    fr = field_in_crs(fr_field, "EPSG:32631")
    stream = next(f for f in fr_field.sensitive_features if f.kind == "water")
    stream_m = reproject(
        parse_geojson(stream.geometry, allowed=("LineString",), where="s"), "EPSG:4326", "EPSG:32631"
    )
    assert 1.0 <= stream_m.distance(fr) <= 10.0 and not stream_m.intersects(fr)

    us_field = sample("us-ia-story-county")[0]
    us = field_in_crs(us_field, "EPSG:32615")
    kinds = {f.kind: f for f in us_field.sensitive_features}
    assert kinds["well"].geometry["type"] == "Point"
    assert {"runoff_entry", "sensitive_crop", "well"} <= set(kinds)
    crop_m = reproject(
        parse_geojson(kinds["sensitive_crop"].geometry, allowed=("Polygon",), where="c"),
        "EPSG:4326",
        "EPSG:32615",
    )
    assert not crop_m.intersects(us) and crop_m.distance(us) < 20.0

    uk_field = sample("uk-blackgrass-wheat")[0]
    uk = parse_geojson(uk_field.boundary, allowed=("Polygon", "MultiPolygon"), where="boundary")
    assert uk.geom_type == "MultiPolygon" or len(uk.interiors) >= 1


@pytest.mark.parametrize("slug", FIELD_SLUGS)
def test_files_stay_modest(slug):
    assert (DATA / "sample_fields" / slug / "weed_map.json").stat().st_size < 3_000_000
    assert (DATA / "sample_fields" / slug / "README.md").read_text(encoding="utf-8").strip()


# --------------------------------------------------------------------------- generator


def _load_generator():
    spec = importlib.util.spec_from_file_location(
        "make_sample_fields", ROOT / "scripts" / "make_sample_fields.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file executes
    spec.loader.exec_module(module)
    return module


def test_generator_reproduces_the_committed_files_byte_for_byte(tmp_path):
    gen = _load_generator()
    assert gen.main(["--out", str(tmp_path)]) == 0
    committed = sorted(
        p.relative_to(DATA / "sample_fields") for p in (DATA / "sample_fields").rglob("*") if p.is_file()
    )
    fresh = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert fresh == committed
    for rel in fresh:
        assert (tmp_path / rel).read_bytes() == (DATA / "sample_fields" / rel).read_bytes(), str(rel)
