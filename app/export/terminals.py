"""What each brand of in-cab terminal accepts, as far as we know.

Limits marked in ``assumed`` are working assumptions from field reports and
dealer notes, not from a manufacturer's specification: check the terminal's
own manual before relying on them. ``None`` means no known limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.export.job import ExportError


@dataclass(frozen=True)
class Terminal:
    """One terminal family and the limits an export must fit."""

    name: str
    title: str
    shapefile_folder: str = ""
    max_zones: int | None = None
    max_bytes: int | None = None
    isoxml_grid_types: tuple[int, ...] = (1, 2)
    assumed: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "title": self.title,
            "shapefile_folder": self.shapefile_folder or None,
            "max_zones": self.max_zones,
            "max_bytes": self.max_bytes,
            "isoxml_grid_types": list(self.isoxml_grid_types),
            "assumed": list(self.assumed),
            "notes": list(self.notes),
        }


TERMINALS: dict[str, Terminal] = {
    t.name: t
    for t in (
        Terminal("generic", "Any ISOBUS task controller / GIS (no brand limits)"),
        Terminal(
            "john-deere", "John Deere GreenStar / Gen4 display", shapefile_folder="Rx",
            max_bytes=20 * 1024 * 1024, assumed=("max_bytes",),
            notes=("shapefiles go in an Rx/ folder at the root of the USB stick",),
        ),
        Terminal(
            "cnh", "Case IH / New Holland AFS Pro, IntelliView", max_bytes=20 * 1024 * 1024,
            assumed=("max_bytes",),
        ),
        Terminal(
            "trimble", "Trimble GFX / TMX / FmX", max_bytes=250 * 1024, assumed=("max_bytes",),
            notes=("older Trimble firmware is reported to reject prescriptions over about 250 KB",),
        ),
        Terminal(
            "raven", "Raven Viper / CR7", max_zones=100, isoxml_grid_types=(1,),
            assumed=("max_zones", "isoxml_grid_types"),
            notes=("reported to show no colours for type 2 ISOXML grids; type 1 is used",),
        ),
    )
}


def get_terminal(name: str | None) -> Terminal:
    """The terminal called ``name`` (``None`` means ``generic``); ExportError lists the valid names."""
    key = name or "generic"
    try:
        return TERMINALS[key]
    except KeyError:
        raise ExportError(f"unknown terminal {name!r}; valid terminals: {', '.join(TERMINALS)}") from None
