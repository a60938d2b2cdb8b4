"""The errors ingest raises: one hierarchy under ``IngestError(ValueError)``.

Every message starts with the file, field or band at fault, so the service can
return it as is (HTTP 422, or 413 for ``TooLarge``).

Examples
--------
>>> issubclass(TooLarge, IngestError) and issubclass(IngestError, ValueError)
True
>>> from app.geo import GeometryError
>>> issubclass(InvalidGeometry, GeometryError)
True
"""

from __future__ import annotations

from app.domain.units import UnitError
from app.geo import GeometryError


class IngestError(ValueError):
    """An upload that cannot be read as asked; the message names the part at fault."""


class UnsupportedFormat(IngestError):
    """A format, driver, layout or option the readers do not handle."""


class CorruptFile(IngestError):
    """A file that is truncated, damaged or not what its format claims."""


class UnsafeArchive(IngestError):
    """A zip with path traversal, absolute paths, symlinks or too many members."""


class TooLarge(IngestError):
    """An upload (or a zip's uncompressed content) over a size cap; the message names the cap."""

    def __init__(self, message: str, *, cap_bytes: int) -> None:
        super().__init__(message)
        self.cap_bytes = cap_bytes


class NoOverlap(IngestError):
    """Data that does not overlap the field or its working grid."""


class InvalidData(IngestError):
    """Values that cannot be right: negative or NaN densities, confidences outside 0..1, ..."""


class BandMismatch(InvalidData):
    """A band → species mapping that does not fit the raster's bands."""


class UnknownSpecies(InvalidData):
    """Species codes missing from the EPPO catalogue (``data/species.json``)."""

    def __init__(self, message: str, *, codes: list[str]) -> None:
        super().__init__(message)
        self.codes = codes


class InvalidGeometry(IngestError, GeometryError):
    """A geometry that cannot be used (also a ``GeometryError``, as ``app.geo`` raises)."""


class InvalidUnit(IngestError, UnitError):
    """A unit the project does not know (also a ``UnitError``); the message lists valid ones."""


def human_bytes(n: int) -> str:
    """A byte count for messages: ``human_bytes(50 * 2**20) == '50 MiB'``."""
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            value = n / size
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} bytes"
