"""Weed-density grids: plants/m² per species on a georeferenced grid."""

from __future__ import annotations

import base64
import zlib
from datetime import datetime
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from app.budgets import current as current_budgets


class EncodedGrid(BaseModel):
    """A compact grid: zlib-compressed little-endian float32 rows, base64 text."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    encoding: Literal["zlib-base64-float32le"]
    shape: tuple[Annotated[int, Field(ge=1)], Annotated[int, Field(ge=1)]]
    data: str

    @model_validator(mode="after")
    def _within_budget(self) -> EncodedGrid:
        rows, cols = self.shape
        current_budgets().check("grid_cells", rows * cols, "shape")
        return self

    def to_array(self) -> np.ndarray:
        """The grid as float32; the data is inflated in bounded steps, never past the declared shape."""
        rows, cols = self.shape
        current_budgets().check("grid_cells", rows * cols, "shape")
        want = rows * cols * 4
        try:
            packed = base64.b64decode(self.data, validate=True)
            inflater = zlib.decompressobj()
            # max_length stops a zlib bomb at the declared size (+1 byte to see there is more).
            raw = inflater.decompress(packed, want + 1)
            if len(raw) <= want and not inflater.eof:
                raw += inflater.flush(want + 1 - len(raw))
        except Exception as exc:
            raise ValueError(f"grid data cannot be decoded: {exc}") from None
        if len(raw) > want:
            raise ValueError(f"grid data holds more than the {rows * cols} values shape {list(self.shape)} declares")
        if not inflater.eof:
            raise ValueError("grid data cannot be decoded: the zlib stream is truncated")
        if inflater.unused_data:
            raise ValueError("grid data has bytes after the end of its zlib stream")
        if len(raw) != want:
            raise ValueError(f"grid data holds {len(raw) // 4} values, shape {list(self.shape)} needs {rows * cols}")
        return np.frombuffer(raw, dtype="<f4").reshape(rows, cols).astype(np.float32)

    @classmethod
    def from_array(cls, arr: np.ndarray) -> EncodedGrid:
        a = np.ascontiguousarray(arr, dtype="<f4")
        return cls(encoding="zlib-base64-float32le", shape=a.shape,  # type: ignore[arg-type]
                   data=base64.b64encode(zlib.compress(a.tobytes(), 6)).decode())


def _grid_kind(v: Any) -> str:
    return "encoded" if isinstance(v, dict | EncodedGrid) else "rows"


# Chosen by the value's JSON type, so an error names the grid form that was sent
# (a bad encoded grid is not also reported as "not a list").
GridValues = Annotated[Annotated[list[list[float]], Tag("rows")] | Annotated[EncodedGrid, Tag("encoded")],
                       Discriminator(_grid_kind)]


def grid_to_array(values: GridValues, where: str) -> np.ndarray:
    """A density grid as float32, rows north → south; raises ValueError naming ``where``."""
    if isinstance(values, EncodedGrid):
        arr = values.to_array()
    else:
        if not values or not values[0]:
            raise ValueError(f"{where}: grid is empty")
        widths = {len(r) for r in values}
        if len(widths) != 1:
            raise ValueError(f"{where}: rows have different lengths {sorted(widths)}")
        arr = np.asarray(values, dtype=np.float32)
    if arr.size == 0:
        raise ValueError(f"{where}: grid is empty")
    bad = ~np.isfinite(arr)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise ValueError(f"{where}: value at row {r}, column {c} is not a finite number")
    if (arr < 0).any():
        r, c = np.argwhere(arr < 0)[0]
        raise ValueError(f"{where}: density at row {r}, column {c} is negative ({arr[r, c]:g})")
    return arr


class Origin(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    x: float = Field(ge=-1e8, le=1e8, allow_inf_nan=False, description="west edge of the grid, CRS units (m)")
    y: float = Field(ge=-1e8, le=1e8, allow_inf_nan=False, description="north edge of the grid, CRS units (m)")


class WeedMapCreate(BaseModel):
    """Density per species (plants/m²); row 0 is the northernmost row."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, json_schema_extra={"examples": [{
        # Over the FieldCreate example (UTM 31N): 9 x 9 cells of 20 m covering the whole field
        # (x 433516-433665 m, y 5372265-5372433 m), so a prescription needs no coverage fallback.
        "crs": "EPSG:32631", "origin": {"x": 433500.0, "y": 5372440.0}, "cell_size_m": 20.0,
        "source": "drone", "captured_at": "2026-05-01T10:00:00Z",
        "species": {"CHEAL": [[0, 0, 0, 0, 0, 0, 0, 0, 0],
                              [0, 0, 3.5, 8, 0, 0, 0, 0, 0],
                              [0, 1.5, 12, 6, 0, 0, 0.5, 0, 0],
                              [0, 0, 2, 0, 0, 0, 1, 0, 0],
                              [0, 0, 0, 0, 0, 2.5, 6, 1, 0],
                              [0, 0, 0, 0, 0, 4, 9, 2, 0],
                              [0, 0.5, 0, 0, 0, 0, 1.5, 0, 0],
                              [0, 0, 0, 0, 0, 0, 0, 0, 0],
                              [0, 0, 0, 0, 0, 0, 0, 0, 0]]},
    }]})

    crs: str = Field(min_length=1, max_length=64, description="a projected CRS in metres, e.g. EPSG:32631")
    origin: Origin
    cell_size_m: float = Field(ge=0.01, le=100, description="cell side, m (1 cm to 100 m)")
    species: dict[Annotated[str, Field(min_length=1, max_length=16)], GridValues] = Field(
        min_length=1, description="EPPO code → density grid (plants/m²)")
    source: str | None = Field(default=None, max_length=64, description="drone, tractor_camera, scout, ...")
    captured_at: datetime | None = None

    @model_validator(mode="after")
    def _same_shape(self) -> WeedMapCreate:
        budgets = current_budgets()
        budgets.check("species_per_map", len(self.species), "species")
        for code, v in self.species.items():
            if 0 in _shape_of(v):
                raise ValueError(f"species.{code}: grid is empty")
        shapes = {code: _shape_of(v) for code, v in self.species.items()}
        if len(set(shapes.values())) > 1:
            raise ValueError(f"species grids differ in shape: {shapes}")
        rows, cols = next(iter(shapes.values()))
        budgets.check("grid_cells", rows * cols, "species grids")
        budgets.check("map_values", rows * cols * len(shapes), "cells × species")
        return self


def _shape_of(v: GridValues) -> tuple[int, int]:
    if isinstance(v, EncodedGrid):
        return tuple(v.shape)  # type: ignore[return-value]
    return (len(v), len(v[0]) if v else 0)

