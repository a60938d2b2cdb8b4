"""Exports of a prescription for terminals and GIS: ISOXML, shapefile, GeoJSON, GeoTIFF, PNG."""

from app.export.job import ExportError, ExportFile, ExportJob

__all__ = ["ExportError", "ExportFile", "ExportJob"]
