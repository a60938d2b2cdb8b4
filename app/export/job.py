"""What an export is made from and what it gives back."""

from __future__ import annotations

from dataclasses import dataclass, field

from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from app.dosing.prescribe import Prescription


class ExportError(ValueError):
    """An export that cannot be made as asked; the message says why and what is valid."""


@dataclass(frozen=True)
class ExportJob:
    """A prescription plus the farm context every export format needs.

    ``field_boundary_wgs84`` is the field boundary in WGS84 longitude/latitude
    (x = longitude). ``prescription.rates`` is in the prescription grid's
    metric CRS; every exporter converts once, at its own edge.
    ``no_spray_wgs84`` (buffers inside the field) lets an exporter that must
    shrink a file grow sprayed zones without reaching a buffer; without it,
    no exporter grows a zone. ``features_wgs84`` (kind, name, geometry) and
    ``season_left`` (canonical rate per product, ``None`` = no season limit)
    are what the export verifier (``app.export.verify``) measures a file
    against; without them it checks the stored zones and the label maximum.
    """

    prescription: Prescription
    field_name: str
    field_boundary_wgs84: Polygon | MultiPolygon
    customer_name: str | None = None
    farm_name: str | None = None
    task_name: str | None = None
    prescription_id: str | None = None
    no_spray_wgs84: BaseGeometry | None = None
    features_wgs84: tuple[tuple[str, str | None, BaseGeometry], ...] = ()
    season_left: tuple[float | None, ...] | None = None

    def __post_init__(self) -> None:
        boundary = self.field_boundary_wgs84
        if not isinstance(boundary, (Polygon, MultiPolygon)) or boundary.is_empty:
            raise ExportError("field_boundary_wgs84 must be a non-empty shapely Polygon or MultiPolygon")
        minx, miny, maxx, maxy = boundary.bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            raise ExportError(
                f"field_boundary_wgs84 bounds {self.field_boundary_wgs84.bounds} are not lon/lat "
                "(x must be longitude in [-180, 180], y latitude in [-90, 90])"
            )
        rates = self.prescription.rates
        n = len(self.prescription.products)
        if rates.ndim != 3 or rates.shape[0] != n or rates.shape[1:] != self.prescription.grid.shape:
            raise ExportError(
                f"prescription.rates has shape {rates.shape}; expected ({n}, *{self.prescription.grid.shape})"
            )
        if not self.field_name.strip():
            raise ExportError("field_name must not be empty")

    @property
    def title(self) -> str:
        """The task's display name: ``task_name`` or a name built from the field."""
        return self.task_name or f"{self.field_name} Rx"


@dataclass
class ExportFile:
    """One rendered export: bytes plus what a user should know about them.

    ``notes`` say what the exporter changed or assumed (plain sentences);
    ``stats`` holds JSON-able figures (zones, vertices, bytes) for pre-flight.
    """

    filename: str
    media_type: str
    content: bytes
    notes: list[str] = field(default_factory=list)
    stats: dict[str, object] = field(default_factory=dict)
