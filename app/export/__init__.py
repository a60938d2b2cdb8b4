"""Exports of a prescription for terminals and GIS: ISOXML, shapefile, GeoJSON, GeoTIFF, PNG.

>>> sorted(FORMATS)
['geojson', 'geotiff', 'isoxml', 'png', 'shapefile']
"""

from app.export.job import ExportError, ExportFile, ExportJob
from app.export.registry import FORMATS, preflight, render
from app.export.terminals import TERMINALS

__all__ = ["FORMATS", "TERMINALS", "ExportError", "ExportFile", "ExportJob", "preflight", "render"]
