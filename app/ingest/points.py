"""Point detections (camera, drone, scout) aggregated into density grids.

A detection is one plant (or ``count`` plants) of a species at a position,
with an optional classifier confidence in 0..1. Aggregation bins them into the
cells of a ``GridSpec`` with one ``np.bincount`` per species over flat cell
indices and divides by the cell area, giving plants/m². Weights are
``count × confidence`` (the expected number of plants) unless confidence
weighting is off; detections under ``min_confidence`` are dropped.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pyproj import CRS

from app import budgets
from app.dosing.grid import GridSpec
from app.geo import transformer
from app.ingest.errors import CorruptFile, IngestError, InvalidData, InvalidGeometry, UnknownSpecies, UnsupportedFormat
from app.species import unknown_codes

WGS84 = "EPSG:4326"

MAX_COUNT = 1e6
"""Most plants one detection may stand for."""


@dataclass(frozen=True)
class PointDetections:
    """Detections as parallel arrays; positions in ``crs`` (x = easting or longitude).

    Build with ``PointDetections.from_arrays`` (which validates), or the readers.
    """

    x: np.ndarray
    y: np.ndarray
    crs: str
    species_codes: tuple[str, ...]
    species_index: np.ndarray
    confidence: np.ndarray | None = None
    count: np.ndarray | None = None
    size: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @classmethod
    def from_arrays(cls, x: Any, y: Any, species: Any, *, crs: str = WGS84, confidence: Any = None,
                    count: Any = None, size: Any = None, name: str = "detections") -> PointDetections:
        """Validate and pack detections.

        ``species`` is a sequence of EPPO codes, one per detection. ``count``
        is plants per detection (default 1); ``size`` is carried along, unused
        in densities.

        Examples
        --------
        >>> d = PointDetections.from_arrays([2.0, 2.1], [48.0, 48.1], ["ALOMY", "GALAP"], confidence=[0.9, 0.5])
        >>> len(d), d.species_codes
        (2, ('ALOMY', 'GALAP'))
        """
        xa = np.ascontiguousarray(x, dtype=np.float64)
        ya = np.ascontiguousarray(y, dtype=np.float64)
        n = xa.shape[0]
        budgets.current().check("detection_points", n, f"{name}: detections")
        if xa.ndim != 1 or ya.shape != xa.shape:
            raise InvalidData(f"{name}: x and y must be 1-D and of one length, got {xa.shape} and {ya.shape}")
        sp = np.asarray(species)
        if sp.shape != (n,):
            raise InvalidData(f"{name}: {sp.shape[0] if sp.ndim else 1} species for {n} positions")
        bad = ~(np.isfinite(xa) & np.isfinite(ya))
        if bad.any():
            i = int(np.argmax(bad))
            raise InvalidGeometry(f"{name}[{i}]: position ({xa[i]!r}, {ya[i]!r}) is not finite")
        try:
            crs_obj = CRS.from_user_input(crs)
        except Exception:
            raise UnsupportedFormat(f"{name}: crs {crs!r} is not a CRS pyproj knows") from None
        if crs_obj.is_geographic:
            _check_lon_lat(xa, ya, name)
        codes, inverse = np.unique(sp.astype(str), return_inverse=True)
        codes_t = tuple(str(c).strip().upper() for c in codes)
        if len(set(codes_t)) != len(codes_t):
            # differently spelled codes (case, spaces) that name one species
            norm = np.array(codes_t)
            codes, remap = np.unique(norm, return_inverse=True)
            inverse = remap[inverse]
            codes_t = tuple(str(c) for c in codes)
        unknown = unknown_codes(list(codes_t))
        if unknown:
            raise UnknownSpecies(f"{name}: unknown species code{'s' if len(unknown) > 1 else ''} "
                                 f"{', '.join(unknown)}; use EPPO codes from the catalogue", codes=unknown)
        conf = _optional(confidence, n, "confidence", name)
        if conf is not None:
            out = ~((conf >= 0) & (conf <= 1))
            if out.any():
                i = int(np.argmax(out))
                raise InvalidData(f"{name}[{i}].confidence: {conf[i]:g} is outside 0..1")
        cnt = _optional(count, n, "count", name)
        if cnt is not None:
            # finite and bounded, or one detection's inf/1e38 would poison every density sum after it
            bad = ~((cnt >= 0) & (cnt <= MAX_COUNT))
            if bad.any():
                i = int(np.argmax(bad))
                raise InvalidData(f"{name}[{i}].count: {cnt[i]:g} plants; a count must be 0 to {MAX_COUNT:g}")
        size = _optional(size, n, "size", name)
        if size is not None and not np.isfinite(size).all():
            i = int(np.argmax(~np.isfinite(size)))
            raise InvalidData(f"{name}[{i}].size: {size[i]:g} is not a finite number")
        return cls(x=xa, y=ya, crs=crs_obj.to_string() if crs != WGS84 else WGS84, species_codes=codes_t,
                   species_index=inverse.astype(np.int32).reshape(n),
                   confidence=conf, count=cnt, size=size)


def _crs(crs: str, name: str) -> CRS:
    try:
        return CRS.from_user_input(crs)
    except Exception:  # pyproj's CRSError and friends: the caller sent a name it does not know
        raise UnsupportedFormat(f"{name}: crs {crs!r} is not a CRS pyproj knows") from None


def _optional(v: Any, n: int, what: str, name: str) -> np.ndarray | None:
    if v is None:
        return None
    a = np.asarray(v, dtype=np.float32)
    if a.shape != (n,):
        raise InvalidData(f"{name}: {a.size} {what} values for {n} detections")
    return a


def _check_lon_lat(lon: np.ndarray, lat: np.ndarray, name: str) -> None:
    bad = np.abs(lat) > 90
    if bad.any():
        i = int(np.argmax(bad))
        hint = " (were longitude and latitude swapped?)" if abs(lon[i]) <= 90 else ""
        raise InvalidGeometry(f"{name}[{i}]: latitude {lat[i]:g} is out of range [-90, 90]{hint}")
    bad = np.abs(lon) > 180
    if bad.any():
        i = int(np.argmax(bad))
        raise InvalidGeometry(f"{name}[{i}]: longitude {lon[i]:g} is out of range [-180, 180]")


@dataclass(frozen=True)
class PointDensity:
    """Detections binned on a grid: plants/m² per species, and what was left out."""

    grid: GridSpec
    densities_plants_m2: dict[str, np.ndarray]
    n_used: int
    n_outside: int
    n_below_confidence: int
    notes: list[str] = field(default_factory=list)


def aggregate_points(detections: PointDetections, grid: GridSpec, *, min_confidence: float | None = None,
                     weight_by_confidence: bool = True) -> PointDensity:
    """Density grids (plants/m², float32, row 0 north) from point detections.

    Each detection adds ``count × confidence`` plants (``count`` when
    ``weight_by_confidence`` is False) to the cell it falls in; detections
    with confidence under ``min_confidence`` are dropped, as are those outside
    the grid. Positions are transformed to ``grid.crs`` with a cached
    transformer.

    Examples
    --------
    >>> g = GridSpec("EPSG:32631", 500000.0, 5000002.0, 1.0, 2, 2)
    >>> d = PointDetections.from_arrays([500000.5, 500000.6, 500001.5], [5000001.5, 5000001.2, 5000000.5],
    ...                                 ["ALOMY"] * 3, crs="EPSG:32631", confidence=[1.0, 0.5, 0.2])
    >>> aggregate_points(d, g).densities_plants_m2["ALOMY"].tolist()
    [[1.5, 0.0], [0.0, 0.20000000298023224]]
    >>> r = aggregate_points(d, g, min_confidence=0.4, weight_by_confidence=False)
    >>> r.densities_plants_m2["ALOMY"].tolist(), r.n_below_confidence
    ([[2.0, 0.0], [0.0, 0.0]], 1)
    """
    if min_confidence is not None and not 0.0 <= min_confidence <= 1.0:
        raise IngestError(f"min_confidence: {min_confidence!r} is outside 0..1")
    n = len(detections)
    if detections.crs == grid.crs:
        x, y = detections.x, detections.y
    else:
        x, y = transformer(detections.crs, grid.crs).transform(detections.x, detections.y)
        x, y = np.asarray(x), np.asarray(y)
    cs = grid.cell_size_m
    col = np.floor((x - grid.x0_m) * (1.0 / cs))
    row = np.floor((grid.y0_m - y) * (1.0 / cs))
    keep = (col >= 0) & (col < grid.n_cols) & (row >= 0) & (row < grid.n_rows)
    n_outside = n - int(np.count_nonzero(keep))
    n_below = 0
    conf = detections.confidence
    if min_confidence is not None and conf is not None:
        high = conf >= np.float32(min_confidence)
        n_below = int(np.count_nonzero(keep & ~high))
        keep &= high
    flat = row.astype(np.int64) * grid.n_cols + col.astype(np.int64)
    weights: np.ndarray | None = None
    if detections.count is not None:
        weights = detections.count.astype(np.float64)
    if weight_by_confidence and conf is not None:
        weights = conf.astype(np.float64) if weights is None else weights * conf
    n_cells = grid.n_rows * grid.n_cols
    inv_area = 1.0 / grid.cell_area_m2
    densities: dict[str, np.ndarray] = {}
    sidx = detections.species_index
    for k, code in enumerate(detections.species_codes):
        sel = keep & (sidx == k) if len(detections.species_codes) > 1 else keep
        w = None if weights is None else weights[sel]
        counts = np.bincount(flat[sel], weights=w, minlength=n_cells)
        dens = np.empty(n_cells, dtype=np.float32)
        np.multiply(counts, inv_area, out=dens, casting="same_kind")
        densities[code] = dens.reshape(grid.shape)
    n_used = int(np.count_nonzero(keep))
    notes = []
    if n_outside:
        notes.append(f"{n_outside} of {n} detections fall outside the grid and were left out")
    if n_below:
        notes.append(f"{n_below} detections under confidence {min_confidence:g} were dropped")
    return PointDensity(grid=grid, densities_plants_m2=densities, n_used=n_used, n_outside=n_outside,
                        n_below_confidence=n_below, notes=notes)


# --------------------------------------------------------------------------- readers

def points_from_geojson(obj: Any, *, name: str = "detections", species_property: str = "species",
                        confidence_property: str = "confidence", count_property: str = "count",
                        size_property: str = "size") -> PointDetections:
    """Detections from a GeoJSON FeatureCollection of Points (WGS84 lon/lat).

    Properties: ``species`` (EPPO code), optional ``confidence`` (0..1),
    ``count`` (plants, default 1) and ``size``.

    Examples
    --------
    >>> fc = {"type": "FeatureCollection", "features": [{"type": "Feature",
    ...       "geometry": {"type": "Point", "coordinates": [2.0, 48.0]}, "properties": {"species": "ALOMY"}}]}
    >>> points_from_geojson(fc).species_codes
    ('ALOMY',)
    """
    if isinstance(obj, bytes | bytearray | str):
        try:
            obj = json.loads(obj)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CorruptFile(f"{name}: not valid JSON ({exc})") from None
        except RecursionError:
            raise CorruptFile(f"{name}: the JSON is nested too deeply") from None
    if not isinstance(obj, Mapping) or obj.get("type") != "FeatureCollection":
        raise UnsupportedFormat(f"{name}: expected a GeoJSON FeatureCollection of Points")
    feats = obj.get("features")
    if not isinstance(feats, list):
        raise UnsupportedFormat(f"{name}.features: expected a list")
    n = len(feats)
    budgets.current().check("detection_points", n, f"{name}: detections")
    xy = np.empty((n, 2), dtype=np.float64)
    species: list[str] = []
    cols: dict[str, list[Any]] = {confidence_property: [], count_property: [], size_property: []}
    for i, f in enumerate(feats):
        at = f"{name}.features[{i}]"
        try:
            g = f["geometry"]
            gtype = g["type"]
            if gtype == "Point":
                c = g["coordinates"]
                xy[i, 0], xy[i, 1] = c[0], c[1]
            props = f.get("properties") or {}
        except (KeyError, TypeError, IndexError, ValueError):
            raise InvalidGeometry(f"{at}: expected a Feature with a Point geometry [lon, lat]") from None
        if gtype != "Point":
            raise InvalidGeometry(f"{at}.geometry: a {gtype}, expected a Point")
        code = props.get(species_property)
        if not code:
            raise InvalidData(f"{at}.properties: no {species_property!r}")
        species.append(code)
        for k, vals in cols.items():
            vals.append(props.get(k))
    return PointDetections.from_arrays(
        xy[:, 0], xy[:, 1], np.array(species), crs=WGS84, name=name,
        confidence=_column(cols[confidence_property], n, name, confidence_property),
        count=_column(cols[count_property], n, name, count_property),
        size=_column(cols[size_property], n, name, size_property))


def _column(values: Sequence[Any], n: int, name: str, what: str) -> np.ndarray | None:
    """A numeric column with None for missing; None if the column is absent everywhere."""
    present = [v for v in values if v not in (None, "")]
    if not present:
        return None
    if len(present) != n:
        i = next(i for i, v in enumerate(values) if v in (None, ""))
        raise InvalidData(f"{name}[{i}]: no {what} while other detections have one")
    try:
        return np.array(values, dtype=np.float32)
    except (TypeError, ValueError):
        i = next(i for i, v in enumerate(values) if not _is_number(v))
        raise InvalidData(f"{name}[{i}].{what}: {values[i]!r} is not a number") from None


def _is_number(v: Any) -> bool:
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True


def points_from_csv(data: bytes | str | Iterable[str], *, crs: str | None = None,
                    name: str = "detections.csv", delimiter: str | None = None) -> PointDetections:
    """Detections from CSV with a header: ``lon,lat`` (WGS84) or ``x,y`` (with ``crs``).

    Columns (case-insensitive): ``lon``/``longitude`` and ``lat``/``latitude``,
    or ``x`` and ``y``; ``species``; optional ``confidence``, ``count``, ``size``.

    Examples
    --------
    >>> d = points_from_csv("lat,lon,species,confidence\\n48.0,2.0,ALOMY,0.8\\n")
    >>> d.x.tolist(), d.y.tolist(), d.confidence.tolist()
    ([2.0], [48.0], [0.800000011920929])
    """
    if isinstance(data, bytes | bytearray):
        try:
            data = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise CorruptFile(f"{name}: not UTF-8 text") from None
    lines = io.StringIO(data) if isinstance(data, str) else data
    if delimiter is None and isinstance(data, str):
        first = data.split("\n", 1)[0]
        delimiter = ";" if first.count(";") > first.count(",") else ("\t" if "\t" in first else ",")
    reader = csv.reader(lines, delimiter=delimiter or ",")
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise CorruptFile(f"{name}: empty file") from None
    idx = {h: i for i, h in enumerate(header)}

    def col(*names: str) -> int | None:
        return next((idx[n] for n in names if n in idx), None)

    ix, iy = col("lon", "longitude", "lng"), col("lat", "latitude")
    if ix is not None and iy is not None:
        if crs is not None and not _crs(crs, name).is_geographic:
            raise IngestError(f"{name}: lon/lat columns but crs={crs!r} is projected; use x,y columns")
        crs = crs or WGS84
    else:
        ix, iy = col("x", "easting"), col("y", "northing")
        if ix is None or iy is None:
            raise UnsupportedFormat(f"{name}: needs lon,lat or x,y columns; header is {','.join(header)}")
        if crs is None:
            raise IngestError(f"{name}: x,y columns need the crs they are in (e.g. crs='EPSG:32631')")
    isp = col("species", "eppo", "eppo_code")
    if isp is None:
        raise UnsupportedFormat(f"{name}: no species column; header is {','.join(header)}")
    opt = {k: col(k) for k in ("confidence", "count", "size")}
    rows = [r for r in reader if r and any(c.strip() for c in r)]
    budgets.current().check("detection_points", len(rows), f"{name}: detections")
    width = len(header)
    for i, r in enumerate(rows):
        if len(r) != width:
            raise CorruptFile(f"{name}: line {i + 2} has {len(r)} fields, the header has {width}")
    n = len(rows)
    if n == 0:
        raise InvalidData(f"{name}: no detections")
    cols = list(zip(*rows, strict=True))

    def floats(j: int, what: str) -> np.ndarray:
        try:
            return np.array(cols[j], dtype=np.float64)
        except ValueError:
            i = next(i for i, v in enumerate(cols[j]) if not _is_number(v))
            raise InvalidData(f"{name}: line {i + 2}: {what} {cols[j][i]!r} is not a number") from None

    x, y = floats(ix, header[ix]), floats(iy, header[iy])
    extra = {k: (None if j is None else _column([v.strip() for v in cols[j]], n, name, k)) for k, j in opt.items()}
    return PointDetections.from_arrays(x, y, np.array(cols[isp]), crs=crs, name=name, **extra)


__all__ = ["PointDensity", "PointDetections", "aggregate_points", "points_from_csv", "points_from_geojson"]
