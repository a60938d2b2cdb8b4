"""Ingest: farm data in the shapes it arrives in, turned into what the dosing core takes.

A pure library (NumPy, shapely, pyproj, rasterio, pyogrio; no web framework,
no database). Every reader raises an ``IngestError`` whose message names the
file, field or band at fault.

- ``boundaries``: field boundaries and sensitive features from GeoJSON, zipped
  shapefiles, ISOXML partfields and the telematics ring form → WGS84 GeoJSON;
- ``rasters``: weed-density GeoTIFFs warped onto a field's working grid;
- ``points``: point detections binned into density grids;
- ``as_applied``: as-applied records from telematics JSON;
- ``spool`` and ``safezip``: uploads to disk under a size cap; zips read safely.
"""

from app.ingest.as_applied import AsAppliedRecord, parse_as_applied, rate_unit
from app.ingest.boundaries import (
    FEATURE_KINDS,
    FORMATS,
    boundary_from_geojson,
    boundary_from_isoxml,
    boundary_from_rings,
    boundary_from_shapefile_zip,
    detect_format,
    features_from_geojson,
    features_from_isoxml,
    features_from_rings,
    features_from_shapefile_zip,
    read_boundary,
    read_features,
)
from app.ingest.errors import (
    BandMismatch,
    CorruptFile,
    IngestError,
    InvalidData,
    InvalidGeometry,
    InvalidUnit,
    NoOverlap,
    TooLarge,
    UnknownSpecies,
    UnsafeArchive,
    UnsupportedFormat,
)
from app.ingest.points import PointDensity, PointDetections, aggregate_points, points_from_csv, points_from_geojson
from app.ingest.rasters import RESAMPLINGS, WeedRaster, grid_for_field, plant_total, read_weed_geotiff
from app.ingest.safezip import SafeZip
from app.ingest.spool import spooled

__all__ = [
    "FEATURE_KINDS", "FORMATS", "RESAMPLINGS",
    "AsAppliedRecord", "PointDensity", "PointDetections", "SafeZip", "WeedRaster",
    "aggregate_points", "boundary_from_geojson", "boundary_from_isoxml", "boundary_from_rings",
    "boundary_from_shapefile_zip", "detect_format", "features_from_geojson", "features_from_isoxml",
    "features_from_rings", "features_from_shapefile_zip", "grid_for_field", "parse_as_applied", "plant_total",
    "points_from_csv", "points_from_geojson", "rate_unit", "read_boundary", "read_features", "read_weed_geotiff",
    "spooled",
    "BandMismatch", "CorruptFile", "IngestError", "InvalidData", "InvalidGeometry", "InvalidUnit", "NoOverlap",
    "TooLarge", "UnknownSpecies", "UnsafeArchive", "UnsupportedFormat",
]
