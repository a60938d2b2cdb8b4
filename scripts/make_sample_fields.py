"""Regenerate the synthetic sample fields under ``data/sample_fields/``.

Each field gets a ``field.json`` (``FieldCreate``), a ``weed_map.json``
(``WeedMapCreate`` with ``EncodedGrid`` grids) and a ``README.md``. Everything
is synthetic and deterministic: a fixed seed per field, no clock, no network,
so running the script twice writes byte-identical files.

Weed densities follow a log-Gaussian-Cox-like recipe. A Gaussian random field
(white noise smoothed by an anisotropic Gaussian kernel in the Fourier domain,
elongated along the drilling direction for species the drill spreads) plus an
optional headland term is thresholded so that only a given share of the field
lies inside patches; inside, the intensity rises from zero at the patch edge to
the species' peak density, and the plants per cell are Poisson counts of that
intensity. Most of each field therefore stays clean, patches are 5–40 m across
and within-patch counts are noisy, as in camera or drone counts.

Usage::

    .venv/bin/python scripts/make_sample_fields.py            # writes data/sample_fields
    .venv/bin/python scripts/make_sample_fields.py --out /tmp/x
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from scipy import ndimage
from shapely.geometry import LineString, Point, Polygon, mapping
from shapely.geometry.polygon import orient

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a plain script from anywhere
    sys.path.insert(0, str(ROOT))

from app.domain.field import FieldCreate  # noqa: E402
from app.domain.weed_map import EncodedGrid, Origin, WeedMapCreate  # noqa: E402
from app.geo import transformer, utm_crs_for  # noqa: E402

DEFAULT_OUT = ROOT / "data" / "sample_fields"
LONLAT_DECIMALS = 7  # ~1 cm: finer than any GNSS boundary survey


@dataclass(frozen=True)
class SpeciesPattern:
    """How one species is spread over a field.

    ``cover_fraction`` is the share of the field area inside patches before
    Poisson thinning; ``sigma_along_m``/``sigma_across_m`` are the smoothing
    lengths along and across the drilling direction (patch size scales with
    them); ``edge_weight`` (in standard deviations of the random field) and
    ``edge_scale_m`` make patches likelier near the field edge.
    """

    code: str
    peak_density_plants_m2: float
    cover_fraction: float
    sigma_along_m: float
    sigma_across_m: float
    edge_weight: float = 0.0
    edge_scale_m: float = 20.0
    profile_power: float = 1.3


@dataclass(frozen=True)
class FeatureSpec:
    kind: str
    name: str
    geometry_m: Any  # shapely geometry in local metres (x east, y north from the anchor)


@dataclass(frozen=True)
class FieldSpec:
    """One sample field: geometry in local metres from an anchor point, weeds, README text."""

    slug: str
    name: str
    crop: str
    growth_stage_bbch: int
    country: str
    anchor_lonlat: tuple[float, float]
    boundary_m: Polygon
    features: tuple[FeatureSpec, ...]
    cell_size_m: float
    drilling_bearing_deg: float
    species: tuple[SpeciesPattern, ...]
    seed: int
    captured_at: datetime
    readme_intro: str
    readme_labels: str


# --------------------------------------------------------------------------- geometry


def _wavy(
    x0: float, y0: float, x1: float, y1: float, *, n: int, amp_m: float, waves: float, phase: float = 0.0
) -> list[tuple[float, float]]:
    """Points from (x0, y0) towards (x1, y1), displaced sideways by a sine (a meander)."""
    dx, dy = x1 - x0, y1 - y0
    length = math.hypot(dx, dy)
    nx, ny = -dy / length, dx / length
    pts = []
    for i in range(n + 1):
        t = i / n
        off = amp_m * math.sin(2 * math.pi * waves * t + phase)
        pts.append((x0 + t * dx + off * nx, y0 + t * dy + off * ny))
    return pts


def _circle(cx: float, cy: float, r: float, n: int = 20, wobble: float = 0.0) -> list[tuple[float, float]]:
    """A counter-clockwise ring of ``n`` points, radius ``r`` m, lobed by ``wobble`` so it looks dug."""
    return [
        (
            cx + r * (1 + wobble * math.sin(3 * a)) * math.cos(a),
            cy + r * (1 + wobble * math.sin(3 * a)) * math.sin(a),
        )
        for a in (2 * math.pi * i / n for i in range(n))
    ]


def _fr_field() -> FieldSpec:
    # South edge follows the Ru de Vaux, which meanders a few metres outside it.
    south = _wavy(0, 0, 400, -14, n=16, amp_m=6.0, waves=1.5)
    boundary = Polygon([*south, (418, 120), (409, 292), (262, 306), (150, 318), (22, 297), (-9, 152)])
    # offset_curve: negative distances lie right of the line's direction, i.e. outside here.
    stream = LineString([(-70, 6), *south, (480, -20)]).offset_curve(-3.0)
    return FieldSpec(
        slug="fr-ru-de-vaux",
        name="Les Prés du Ru de Vaux",
        crop="maize",
        growth_stage_bbch=14,
        country="FR",
        anchor_lonlat=(2.0995, 48.4992),
        boundary_m=boundary,
        features=(FeatureSpec("water", "Ru de Vaux", stream),),
        cell_size_m=0.5,
        drilling_bearing_deg=96.0,
        species=(
            SpeciesPattern("CHEAL", 40.0, 0.16, 9.0, 6.0, edge_weight=0.6, edge_scale_m=25.0),
            SpeciesPattern("ECHCG", 60.0, 0.10, 8.0, 5.0, edge_weight=1.0, edge_scale_m=30.0),
            SpeciesPattern("SETVI", 45.0, 0.08, 6.0, 5.0),
        ),
        seed=20240514,
        captured_at=datetime.fromisoformat("2024-05-14T10:30:00+02:00"),
        readme_intro=(
            "A maize field at 4 leaves (BBCH 14) in the Essonne, south of Paris, bordered on its "
            "south side by a small stream, the *Ru de Vaux*, which runs about 3 m outside the "
            "boundary. It exercises the French untreated zone next to water (ZNT, 5 m by default "
            "under the arrêté du 4 mai 2017) and the 19 km/h (3 Beaufort) wind limit."
        ),
        readme_labels=(
            "- `data/labels/callisto-fr.json` (mesotrione, maize, L/ha, ZNT 5 m): the label written "
            "for this field. Mesotrione controls fat hen (CHEAL) well but grasses (ECHCG, SETVI) "
            "only partly, so a grass partner would be needed in practice.\n"
            "- The US labels (Callisto 4SC, atrazine 4L) also list maize, but they are US "
            "registrations: use them only to compare units and strategies."
        ),
    )


def _us_field() -> FieldSpec:
    # A quarter-section-like field: the north-east corner is cut by a creek, a
    # farmstead (with its well) takes a notch out of the north edge.
    creek_edge = _wavy(1028, 640, 880, 1004, n=10, amp_m=12.0, waves=1.0)
    boundary = Polygon(
        [
            (0, 0),
            (520, -6),
            (1024, 4),
            *creek_edge,
            (420, 1008),
            (415, 900),
            (245, 896),
            (238, 1010),
            (-4, 1006),
            (-10, 520),
        ]
    )
    creek = LineString([(1060, 560), *creek_edge, (850, 1080)]).offset_curve(-10.0)
    neighbour = Polygon([(-14, -4), (-16, 1000), (-420, 1004), (-415, -2)])
    return FieldSpec(
        slug="us-ia-story-county",
        name="Story County quarter, north 100",
        crop="soybean",
        growth_stage_bbch=13,
        country="US",
        anchor_lonlat=(-93.4712, 42.0785),
        boundary_m=boundary,
        features=(
            FeatureSpec("well", "farmstead well", Point(300, 908)),
            FeatureSpec("runoff_entry", "waterway outlet to Keigley Branch", Point(1022, 660)),
            FeatureSpec("water", "Keigley Branch (creek)", creek),
            FeatureSpec("sensitive_crop", "neighbour's non-dicamba-tolerant soybean", neighbour),
        ),
        cell_size_m=1.0,
        drilling_bearing_deg=1.0,
        species=(
            SpeciesPattern("AMAPA", 30.0, 0.05, 8.0, 6.0, edge_weight=1.2, edge_scale_m=60.0),
            SpeciesPattern("AMATU", 45.0, 0.15, 9.0, 7.0, edge_weight=0.5, edge_scale_m=40.0),
            SpeciesPattern("SETFA", 80.0, 0.12, 12.0, 7.0),
        ),
        seed=20240612,
        captured_at=datetime.fromisoformat("2024-06-12T09:00:00-05:00"),
        readme_intro=(
            'The "100 ha sample": a soybean field (V3, BBCH 13) north-east of Ames, Iowa. '
            "Palmer amaranth (AMAPA) is a recent arrival, in small patches mostly near the edges; "
            "waterhemp (AMATU) and giant foxtail (SETFA) are spread more widely. A farmstead notch "
            "holds the well, a creek cuts the north-east corner with a grassed-waterway outlet "
            "(runoff entry point), and the neighbour to the west grows non-dicamba-tolerant soybean."
        ),
        readme_labels=(
            "- `roundup-powermax.json` (glyphosate; weak on the glyphosate-resistant AMAPA/AMATU here), "
            "`engenia.json` (dicamba: 240 ft downwind buffer, sensitive crop to the west), "
            "`enlist-one.json` (2,4-D choline, 30 ft downwind buffer), `liberty-280-sl.json` "
            "(glufosinate, soybean up to R1).\n"
            "- `atrazine-4l.json` and `callisto-4sc.json` are corn products: they do not fit a "
            "soybean crop (the label check should refuse them), but the field's well, runoff entry "
            "and creek exercise the atrazine setbacks."
        ),
    )


def _uk_field() -> FieldSpec:
    north = _wavy(470, 300, 10, 330, n=12, amp_m=5.0, waves=1.0)
    exterior = [(0, 0), (210, -22), (455, 8), (488, 140), *north, (-18, 170)]
    pond = _circle(300, 150, 20.0, n=20, wobble=0.08)
    boundary = Polygon(exterior, [pond])
    ditch = LineString([(540, 296), *north, (-50, 334)]).offset_curve(-4.0)
    return FieldSpec(
        slug="uk-blackgrass-wheat",
        name="Long Pond Field",
        crop="winter_wheat",
        growth_stage_bbch=13,
        country="GB",
        anchor_lonlat=(-0.4605, 52.1398),
        boundary_m=boundary,
        features=(
            FeatureSpec("water", "field pond", Polygon(_circle(300, 150, 14.0, n=20, wobble=0.1))),
            FeatureSpec("water", "boundary ditch (north)", ditch),
        ),
        cell_size_m=1.0,
        drilling_bearing_deg=76.0,
        species=(
            # Blackgrass: drill and combine spread it along the working direction.
            SpeciesPattern(
                "ALOMY", 300.0, 0.22, 18.0, 4.0, edge_weight=0.8, edge_scale_m=24.0, profile_power=1.6
            ),
            SpeciesPattern("GALAP", 15.0, 0.10, 6.0, 5.0, edge_weight=1.6, edge_scale_m=15.0),
            SpeciesPattern("STEME", 60.0, 0.09, 7.0, 6.0),
        ),
        seed=20241105,
        captured_at=datetime.fromisoformat("2024-11-05T11:00:00+00:00"),
        readme_intro=(
            "A winter wheat field at 3 leaves (BBCH 13, autumn) in north Bedfordshire with a "
            "heavy blackgrass (ALOMY) problem: patches stretched along the drilling direction "
            "(bearing 76°) and heavier on the headlands, up to a few hundred plants/m². Cleavers "
            "(GALAP) hug the hedged margins; chickweed (STEME) is scattered. A pond inside the "
            "field is cut out of the boundary as an interior ring (hole), and a ditch runs along "
            "the north side."
        ),
        readme_labels=(
            "- `atlantis-od-gb.json` (mesosulfuron + iodosulfuron, winter wheat, L/ha): fits the "
            "crop and stage; its illustrative ALOMY curve models a partly ALS-resistant population "
            "that the label maximum does not control to 90 %.\n"
            "- Rothamsted autumn thresholds (species.json) for ALOMY/GALAP/STEME apply to this map."
        ),
    )


FIELDS: tuple[Callable[[], FieldSpec], ...] = (_fr_field, _us_field, _uk_field)


# --------------------------------------------------------------------------- coordinates


def _anchor_xy(spec: FieldSpec) -> tuple[str, float, float]:
    crs = utm_crs_for(*spec.anchor_lonlat)
    x, y = transformer("EPSG:4326", crs).transform(*spec.anchor_lonlat)
    return crs, float(x), float(y)


def _local_to_lonlat(geom: Any, crs: str, ax: float, ay: float) -> Any:
    t = transformer(crs, "EPSG:4326")

    def fn(xy: np.ndarray) -> np.ndarray:
        lon, lat = t.transform(xy[:, 0] + ax, xy[:, 1] + ay)
        return np.round(np.column_stack([lon, lat]), LONLAT_DECIMALS)

    return shapely.transform(geom, fn)


def _lonlat_to_crs(geom: Any, crs: str) -> Any:
    t = transformer("EPSG:4326", crs)
    return shapely.transform(geom, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def _geojson(geom: Any) -> dict[str, Any]:
    if isinstance(geom, Polygon):
        geom = orient(geom, sign=1.0)  # RFC 7946: exterior counter-clockwise, holes clockwise
    gj = mapping(geom)
    return json.loads(json.dumps(gj))  # tuples → lists


# --------------------------------------------------------------------------- weeds


def _gaussian_field(
    rng: np.random.Generator,
    shape: tuple[int, int],
    cell_m: float,
    sigma_along_m: float,
    sigma_across_m: float,
    bearing_deg: float,
) -> np.ndarray:
    """Unit-variance Gaussian random field, correlated along ``bearing_deg`` (from north, clockwise)."""
    pad = int(math.ceil(3 * max(sigma_along_m, sigma_across_m) / cell_m))
    rows, cols = shape[0] + 2 * pad, shape[1] + 2 * pad
    noise = rng.standard_normal((rows, cols))
    th = math.radians(bearing_deg)
    ux, uy = math.sin(th), math.cos(th)  # along the drilling direction, (east, north)
    vx, vy = uy, -ux
    sxx = sigma_along_m**2 * ux * ux + sigma_across_m**2 * vx * vx
    syy = sigma_along_m**2 * uy * uy + sigma_across_m**2 * vy * vy
    sxy = sigma_along_m**2 * ux * uy + sigma_across_m**2 * vx * vy
    kx = np.fft.rfftfreq(cols, d=cell_m)[None, :]
    ky = -np.fft.fftfreq(rows, d=cell_m)[:, None]  # rows run north → south
    transfer = np.exp(-2.0 * math.pi**2 * (sxx * kx * kx + 2.0 * sxy * kx * ky + syy * ky * ky))
    smooth = np.fft.irfft2(np.fft.rfft2(noise) * transfer, s=(rows, cols))[pad:-pad, pad:-pad]
    return (smooth - smooth.mean()) / smooth.std()


def _density(
    rng: np.random.Generator,
    sp: SpeciesPattern,
    in_field: np.ndarray,
    edge_dist_m: np.ndarray,
    cell_m: float,
    bearing_deg: float,
) -> np.ndarray:
    """Plants/m² per cell: Poisson counts of a thresholded, edge-weighted Gaussian intensity."""
    g = _gaussian_field(rng, in_field.shape, cell_m, sp.sigma_along_m, sp.sigma_across_m, bearing_deg)
    if sp.edge_weight:
        g = g + sp.edge_weight * np.exp(-edge_dist_m / sp.edge_scale_m)
    inside = g[in_field]
    t = float(np.quantile(inside, 1.0 - sp.cover_fraction))
    top = float(inside.max())
    rel = np.clip((g - t) / (top - t), 0.0, 1.0) ** sp.profile_power
    intensity = np.where(in_field, sp.peak_density_plants_m2 * rel, 0.0)
    cell_area = cell_m * cell_m
    # Rounding the Poisson mean keeps the draw stable against last-bit FFT differences.
    counts = rng.poisson(np.round(intensity * cell_area, 4))
    return (counts / cell_area).astype(np.float32)


@dataclass(frozen=True)
class Grid:
    """A north-up grid: west/north edges ``x0``/``y0`` (m) in ``crs``, square cells of ``cell_m``."""

    crs: str
    x0: float
    y0: float
    cell_m: float
    rows: int
    cols: int


def grid_for(boundary_lonlat: Any, crs: str, cell_m: float) -> Grid:
    """The smallest cell-snapped grid covering the boundary in ``crs``; origin at its west/north edge."""
    minx, miny, maxx, maxy = _lonlat_to_crs(boundary_lonlat, crs).bounds
    x0 = math.floor(minx / cell_m) * cell_m
    y0 = math.ceil(maxy / cell_m) * cell_m
    cols = int(math.ceil((maxx - x0) / cell_m))
    rows = int(math.ceil((y0 - miny) / cell_m))
    return Grid(crs, x0, y0, cell_m, rows, cols)


def in_field_mask(boundary_lonlat: Any, grid: Grid) -> np.ndarray:
    """Cells whose centre lies inside the field."""
    geom = _lonlat_to_crs(boundary_lonlat, grid.crs)
    xs = grid.x0 + (np.arange(grid.cols) + 0.5) * grid.cell_m
    ys = grid.y0 - (np.arange(grid.rows) + 0.5) * grid.cell_m
    shapely.prepare(geom)
    return shapely.contains_xy(geom, xs[None, :], ys[:, None])


def patch_stats(
    density: np.ndarray, in_field: np.ndarray, cell_m: float, min_patch_m2: float = 10.0
) -> dict[str, float]:
    """Share of zero cells in the field and the number/size of patches (8-connected)."""
    occupied = density > 0
    labels, n = ndimage.label(occupied, structure=np.ones((3, 3), dtype=bool))
    sizes_m2 = np.bincount(labels.ravel())[1:] * cell_m * cell_m
    big = sizes_m2[sizes_m2 >= min_patch_m2]
    diam = 2.0 * np.sqrt(big / math.pi) if big.size else np.zeros(0)
    return {
        "zero_share_in_field": float(1.0 - occupied[in_field].mean()),
        "n_patches": int(big.size),
        "median_patch_diameter_m": float(np.median(diam)) if diam.size else 0.0,
        "max_density_plants_m2": float(density.max()),
    }


# --------------------------------------------------------------------------- build and write


def build(spec: FieldSpec) -> tuple[FieldCreate, WeedMapCreate, str]:
    """The field document, its weed map and README text, validated by the API schemas."""
    crs, ax, ay = _anchor_xy(spec)
    boundary = _local_to_lonlat(spec.boundary_m, crs, ax, ay)
    if not boundary.is_valid:
        raise RuntimeError(f"{spec.slug}: boundary invalid after rounding")
    work_crs = utm_crs_for(boundary.centroid.x, boundary.centroid.y)
    if work_crs != crs:
        raise RuntimeError(f"{spec.slug}: anchor and centroid fall in different UTM zones")
    feats = []
    for f in spec.features:
        geom = _local_to_lonlat(f.geometry_m, crs, ax, ay)
        if f.kind != "water" or not isinstance(f.geometry_m, Polygon):
            # Features other than the pond lie a few metres outside the field.
            if f.geometry_m.distance(spec.boundary_m) < 2.0:
                raise RuntimeError(f"{spec.slug}: feature {f.name!r} is within 2 m of the field")
        feats.append({"kind": f.kind, "name": f.name, "geometry": _geojson(geom)})
    field_doc = FieldCreate(
        name=spec.name,
        crop=spec.crop,
        growth_stage_bbch=spec.growth_stage_bbch,
        country=spec.country,
        boundary=_geojson(boundary),
        sensitive_features=feats,
    )

    grid = grid_for(boundary, work_crs, spec.cell_size_m)
    in_field = in_field_mask(boundary, grid)
    edge_dist_m = ndimage.distance_transform_edt(in_field) * grid.cell_m
    rng = np.random.default_rng(spec.seed)
    grids: dict[str, np.ndarray] = {}
    for sp in spec.species:
        grids[sp.code] = _density(rng, sp, in_field, edge_dist_m, grid.cell_m, spec.drilling_bearing_deg)
    weed_map = WeedMapCreate(
        crs=work_crs,
        origin=Origin(x=grid.x0, y=grid.y0),
        cell_size_m=grid.cell_m,
        species={code: EncodedGrid.from_array(a) for code, a in grids.items()},
        source="synthetic (scripts/make_sample_fields.py)",
        captured_at=spec.captured_at,
    )
    readme = _readme(spec, boundary, work_crs, grid, in_field, grids)
    return field_doc, weed_map, readme


def _readme(
    spec: FieldSpec, boundary: Any, crs: str, grid: Grid, in_field: np.ndarray, grids: dict[str, np.ndarray]
) -> str:
    area_ha = _lonlat_to_crs(boundary, crs).area / 10_000.0
    lines = [
        f"# {spec.slug}: {spec.name}",
        "",
        spec.readme_intro,
        "",
        "**Everything here is synthetic**: the boundary, the features and the weed counts were made "
        "by `scripts/make_sample_fields.py` (seeded, deterministic; edit the script, not these "
        "files). Place names are for flavour; the field does not exist.",
        "",
        "## Facts",
        "",
        f"- crop `{spec.crop}`, growth stage BBCH {spec.growth_stage_bbch}, country {spec.country}",
        f"- area {area_ha:.2f} ha; boundary WGS84 lon/lat, working CRS {crs} (UTM zone of the centroid)",
        f"- weed map: {grid.rows} rows x {grid.cols} columns of {grid.cell_m:g} m cells, origin "
        f"(west, north) = ({grid.x0:.1f}, {grid.y0:.1f}); densities in plants/m², 0 outside the field",
        "- sensitive features: " + ", ".join(f"{f.name} (`{f.kind}`)" for f in spec.features),
        "",
        "| species | peak (plants/m²) | cells without plants (in field) | patches ≥ 10 m² "
        "| median patch diameter (m) |",
        "|---|---|---|---|---|",
    ]
    for code, a in grids.items():
        s = patch_stats(a, in_field, grid.cell_m)
        lines.append(
            f"| {code} | {s['max_density_plants_m2']:.0f} | {100 * s['zero_share_in_field']:.1f} % "
            f"| {s['n_patches']} | {s['median_patch_diameter_m']:.1f} |"
        )
    lines += ["", "## Labels that fit", "", spec.readme_labels, ""]
    return "\n".join(lines)


_PAIR = re.compile(r"\[\s+(-?[0-9.eE+-]+),\s+(-?[0-9.eE+-]+)\s+\]")


def _dump(obj: Any) -> str:
    """Indented JSON with each [x, y] pair (positions, grid shapes) kept on one line."""
    return _PAIR.sub(r"[\1, \2]", json.dumps(obj, indent=1, ensure_ascii=False)) + "\n"


def write_all(out_dir: Path, only: Sequence[str] = ()) -> list[Path]:
    """Write every sample field under ``out_dir``; returns the files written."""
    written = []
    for make in FIELDS:
        spec = make()
        if only and spec.slug not in only:
            continue
        field_doc, weed_map, readme = build(spec)
        d = out_dir / spec.slug
        d.mkdir(parents=True, exist_ok=True)
        for name, text in (
            ("field.json", _dump(field_doc.model_dump(mode="json", exclude_none=True))),
            ("weed_map.json", _dump(weed_map.model_dump(mode="json", exclude_none=True))),
            ("README.md", readme),
        ):
            (d / name).write_text(text, encoding="utf-8")
            written.append(d / name)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})"
    )
    parser.add_argument(
        "--only", action="append", default=[], metavar="SLUG", help="generate only this field"
    )
    args = parser.parse_args(argv)
    for path in write_all(args.out, args.only):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
