"""Budgets: how much one request may ask the service to hold or compute.

Every input that decides an allocation (a grid's declared shape, a cell size
over a field's extent, a raster window, a vertex or record count) is checked
against its budget *before* anything is allocated, so a few bytes of request
can never ask for gigabytes. Each budget has a ``DOSEWISE_`` setting
(:class:`app.settings.Settings`); the defaults let a 100 ha field at 0.25 m
cells with 3 species through (16 M cells) and hold one request under the
memory ceiling the README states.

This module imports nothing from the web framework or the database so that
ingest and dosing can raise :class:`BudgetExceeded` themselves.

Examples
--------
>>> b = Budgets()
>>> b.check("grid_cells", 4000 * 4000)
>>> b.check("grid_cells", 50_000 * 50_000)
Traceback (most recent call last):
...
app.budgets.BudgetExceeded: grid_cells: 2500000000 is over the budget of 24000000 (DOSEWISE_MAX_GRID_CELLS)
"""

from __future__ import annotations

from dataclasses import dataclass, fields


class BudgetExceeded(ValueError):
    """A request over one of the service's budgets (HTTP 413); the message names the budget and its setting."""

    def __init__(self, message: str, *, budget: str | None = None, asked: float | None = None,
                 limit: float | None = None) -> None:
        super().__init__(message)
        self.budget = budget
        self.asked = asked
        self.limit = limit
        self.setting = setting_name(budget) if budget else None


def setting_name(budget: str) -> str:
    """The environment variable that sets ``budget``.

    >>> setting_name("grid_cells")
    'DOSEWISE_MAX_GRID_CELLS'
    """
    return f"DOSEWISE_MAX_{budget.upper()}"


@dataclass(frozen=True)
class Budgets:
    """Per-request budgets; see the README's "Limits" table for what each one bounds."""

    grid_cells: int = 24_000_000
    """Cells of one grid (rows × cols): a weed map's declared shape, cell size × field extent,
    a GeoTIFF's read window. 24 M cells × 4 B = 96 MB per float32 layer."""
    species_per_map: int = 8
    """Species (layers) in one weed map."""
    map_values: int = 72_000_000
    """Cells × species of one weed map: 72 M float32 = 288 MB (16 M cells × 3 species fits with room)."""
    geometry_vertices: int = 100_000
    """Vertices in one geometry document (a boundary, a feature set, an import)."""
    import_records: int = 50_000
    """Records in one import: shapefile/ISOXML features, as-applied records."""
    detection_points: int = 2_000_000
    """Point detections in one upload."""

    def check(self, budget: str, asked: int | float, what: str | None = None) -> None:
        """Raise :class:`BudgetExceeded` if ``asked`` is over ``budget``."""
        limit = getattr(self, budget)
        if asked > limit:
            shown = f"{asked:g}" if isinstance(asked, float) else str(asked)
            raise BudgetExceeded(f"{what or budget}: {shown} is over the budget of {limit} "
                                 f"({setting_name(budget)})", budget=budget, asked=asked, limit=limit)


# Ranges of physical quantities the schemas accept: past these a value is a typo or an attack,
# and each bounds some work or storage (a rate feeds totals, a density feeds patch sizes).
MAX_ID = 2**31 - 1
"""Largest id any table can hold: ids are 32-bit INTEGER columns on PostgreSQL."""
MAX_RATE = 100_000.0
"""Largest rate in any label unit (L/ha, g/ha, mL/ha, oz/ac ...)."""
MAX_DENSITY_PLANTS_M2 = 100_000.0
"""Largest weed density, plants/m²."""


BUDGET_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Budgets))
DEFAULT = Budgets()
_active = DEFAULT


def configure(budgets: Budgets) -> None:
    """Make ``budgets`` the ones :func:`current` returns (the app does this from its settings at start)."""
    global _active
    _active = budgets


def current() -> Budgets:
    """The budgets in force: one set per process, from the settings the app was built with."""
    return _active
