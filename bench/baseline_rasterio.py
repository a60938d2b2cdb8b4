"""The yardstick for ``bench_e2e.py``: the same job as a competent rasterio + NumPy script.

What a GIS-literate agronomist would write by hand, with no service around it:
read the weed-density GeoTIFF onto the field's 0.25 m grid, mask the field and
the label's water buffer, apply the threshold rule with a patch buffer and
section/along-track blocks, then write a GeoTIFF, a zoned shapefile (WGS84,
dissolved by rate), an ISOXML grid (type 2, int32 per cell on a lat/lon grid
that never lowers a rate) and the zones as GeoJSON for a web map.

It prints one JSON line: each step's wall time in seconds and its own peak RSS
(``ru_maxrss``, KiB).

    .venv/bin/python bench/baseline_rasterio.py WEEDS.tif FIELD.json OUTDIR
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import time
from pathlib import Path

import numpy as np
import rasterio
import shapely
from pyogrio.raw import write as ogr_write
from pyproj import Transformer
from rasterio import features
from rasterio.transform import from_origin
from rasterio.warp import Resampling, reproject
from scipy import ndimage


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("tif")
    ap.add_argument("field", help="GeoJSON document: boundary polygon and a water line, WGS84")
    ap.add_argument("out")
    ap.add_argument("--cell-m", type=float, default=0.25)
    ap.add_argument("--threshold", type=float, default=1.0, help="plants/m², summed over species")
    ap.add_argument("--rate", type=float, default=2.0, help="L/ha where sprayed")
    ap.add_argument("--buffer-m", type=float, default=5.0)
    ap.add_argument("--patch-buffer-m", type=float, default=0.5)
    ap.add_argument("--block-m", type=float, default=0.5, help="section width and along-track block")
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    t: dict[str, float] = {}
    t0 = time.perf_counter()

    # 1. the field's grid in its UTM zone, and the weed map read onto it
    doc = json.loads(Path(a.field).read_text())
    with rasterio.open(a.tif) as src:
        crs = src.crs
        to_m = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        field = shapely.transform(shapely.geometry.shape(doc["boundary"]), lambda xy: np.column_stack(
            to_m.transform(xy[:, 0], xy[:, 1])))
        water = shapely.transform(shapely.geometry.shape(doc["water"]), lambda xy: np.column_stack(
            to_m.transform(xy[:, 0], xy[:, 1])))
        w, s, e, n = field.bounds
        cs = a.cell_m
        x0, y0 = math.floor(w / cs + 1e-9) * cs, math.ceil(n / cs - 1e-9) * cs
        cols, rows = math.ceil((e - x0) / cs - 1e-9), math.ceil((y0 - s) / cs - 1e-9)
        transform = from_origin(x0, y0, cs, cs)
        total = np.zeros((rows, cols), np.float32)
        band = np.empty((rows, cols), np.float32)
        for b in range(1, src.count + 1):
            reproject(rasterio.band(src, b), band, dst_transform=transform, dst_crs=crs,
                      resampling=Resampling.average, dst_nodata=0)
            total += band
        del band
    t["read_warp"] = time.perf_counter() - t0

    # 2. threshold prescription: masks, rule, patch buffer, section blocks
    t1 = time.perf_counter()
    inside = features.geometry_mask([field], (rows, cols), transform, invert=True)
    edge = features.rasterize([field.boundary], (rows, cols), transform=transform, all_touched=True).astype(bool)
    buf = features.rasterize([water.buffer(a.buffer_m)], (rows, cols), transform=transform,
                             all_touched=True).astype(bool)
    sprayable = inside & ~edge & ~buf
    hit = total >= a.threshold
    del total
    r = max(1, round(a.patch_buffer_m / cs))
    hit = ndimage.binary_dilation(hit, iterations=r)
    k = max(1, round(a.block_m / cs))
    hb, wb = -(-rows // k), -(-cols // k)
    padded = np.zeros((hb * k, wb * k), bool)
    padded[:rows, :cols] = hit
    blocks = padded.reshape(hb, k, wb, k).any(axis=(1, 3))
    hit = np.repeat(np.repeat(blocks, k, 0), k, 1)[:rows, :cols]
    rates = np.where(inside, np.float32(0), np.float32(np.nan))
    rates[hit & sprayable] = a.rate
    t["prescription"] = time.perf_counter() - t1

    # 3. GeoTIFF
    t2 = time.perf_counter()
    with rasterio.open(out / "rx.tif", "w", driver="GTiff", width=cols, height=rows, count=1, dtype="float32",
                       crs=crs, transform=transform, nodata=np.nan, compress="deflate", tiled=True) as dst:
        dst.write(rates, 1)
    t["geotiff"] = time.perf_counter() - t2

    # 4. zones dissolved by rate, WGS84 (shared by the shapefile and the web map)
    t3 = time.perf_counter()
    to_wgs = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    codes = np.where(np.isnan(rates), -1, np.round(rates * 1000)).astype(np.int32)
    geoms, vals = [], []
    for geom, v in features.shapes(codes, mask=codes >= 0, transform=transform):
        geoms.append(shapely.geometry.shape(geom))
        vals.append(v)
    geoms_a, vals_a = np.array(geoms, dtype=object), np.array(vals)
    zone_rates = np.unique(vals_a)
    zones = [shapely.union_all(geoms_a[vals_a == v]) for v in zone_rates]
    zones = [shapely.transform(z, lambda xy: np.column_stack(to_wgs.transform(xy[:, 0], xy[:, 1])))
             for z in zones]
    t["zones"] = time.perf_counter() - t3

    t4 = time.perf_counter()
    ogr_write(str(out / "rx.shp"), geometry=np.array(shapely.to_wkb(zones), dtype=object),
              field_data=[np.asarray(zone_rates / 1000.0, dtype=np.float64)], fields=["RATE_LHA"],
              driver="ESRI Shapefile", crs="EPSG:4326", geometry_type="MultiPolygon", promote_to_multi=True)
    t["shapefile"] = time.perf_counter() - t4

    # 5. ISOXML: a lat/lon grid over the field, max-resampled so no cell gets less
    t5 = time.perf_counter()
    lon_w, lat_s, lon_e, lat_n = shapely.transform(field, lambda xy: np.column_stack(
        to_wgs.transform(xy[:, 0], xy[:, 1]))).bounds
    dlat = cs / 111_320.0
    dlon = cs / (111_320.0 * math.cos(math.radians((lat_s + lat_n) / 2)))
    gcols, grows = math.ceil((lon_e - lon_w) / dlon), math.ceil((lat_n - lat_s) / dlat)
    ll = np.full((grows, gcols), np.nan, np.float32)
    reproject(rates, ll, src_transform=transform, src_crs=crs, src_nodata=np.nan,
              dst_transform=from_origin(lon_w, lat_n, dlon, dlat), dst_crs="EPSG:4326", dst_nodata=np.nan,
              resampling=Resampling.max)
    raw = np.where(np.isnan(ll), 0, np.round(ll * 100.0)).astype("<i4")  # 1 L/ha = 100 mm³/m²
    raw[::-1].tofile(out / "GRD00001.bin")  # ISOXML grids start in the south-west
    (out / "TASKDATA.XML").write_text(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ISO11783_TaskData VersionMajor="4" VersionMinor="3" '
        f'DataTransferOrigin="1"><TSK A="TSK1" B="Rx" G="1"><GRD A="{lat_s:.9f}" B="{lon_w:.9f}" '
        f'C="{dlat:.12f}" D="{dlon:.12f}" E="{gcols}" F="{grows}" G="GRD00001" I="2" J="1"/></TSK>'
        f'</ISO11783_TaskData>\n')
    t["isoxml"] = time.perf_counter() - t5

    # 6. the zones as GeoJSON for a web map
    t6 = time.perf_counter()
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"rate_l_ha": float(v) / 1000.0}, "geometry": json.loads(g)}
        for v, g in zip(zone_rates, shapely.to_geojson(zones, indent=None), strict=True)]}
    (out / "layers.json").write_text(json.dumps(fc, separators=(",", ":")))
    t["layers"] = time.perf_counter() - t6
    t["total"] = time.perf_counter() - t0
    print(json.dumps({"grid": [rows, cols], "cells": rows * cols, "seconds": t,
                      "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))


if __name__ == "__main__":
    main()
