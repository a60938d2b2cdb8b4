"""Georeference of a dosing grid: a north-up raster in a metric CRS."""

from __future__ import annotations

from dataclasses import dataclass

from affine import Affine


@dataclass(frozen=True)
class GridSpec:
    """A north-up grid of square cells in a projected, metric CRS.

    Row 0 is the northernmost row and column 0 the westernmost, as in an image
    or a GeoTIFF. ``x0_m``/``y0_m`` are the west and north edges of the grid.

    Examples
    --------
    >>> g = GridSpec(crs="EPSG:32631", x0_m=500000.0, y0_m=5000100.0,
    ...              cell_size_m=0.5, n_rows=200, n_cols=100)
    >>> g.cell_area_m2
    0.25
    >>> g.bounds_m
    (500000.0, 5000000.0, 500050.0, 5000100.0)
    """

    crs: str
    x0_m: float
    y0_m: float
    cell_size_m: float
    n_rows: int
    n_cols: int

    def __post_init__(self) -> None:
        if not self.cell_size_m > 0:
            raise ValueError(f"cell_size_m must be positive, got {self.cell_size_m}")
        if self.n_rows <= 0 or self.n_cols <= 0:
            raise ValueError(f"grid must have at least one cell, got {self.shape}")

    @property
    def shape(self) -> tuple[int, int]:
        return (self.n_rows, self.n_cols)

    @property
    def cell_area_m2(self) -> float:
        return self.cell_size_m * self.cell_size_m

    @property
    def cell_area_ha(self) -> float:
        return self.cell_area_m2 / 10_000.0

    @property
    def transform(self) -> Affine:
        """Affine from (col, row) to (x, y) of the cell's north-west corner."""
        return Affine(self.cell_size_m, 0.0, self.x0_m, 0.0, -self.cell_size_m, self.y0_m)

    @property
    def bounds_m(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) in metres of the CRS."""
        return (
            self.x0_m,
            self.y0_m - self.n_rows * self.cell_size_m,
            self.x0_m + self.n_cols * self.cell_size_m,
            self.y0_m,
        )
