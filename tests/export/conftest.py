"""Small prescriptions whose right answers are easy to see."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from app.dosing.grid import GridSpec
from app.dosing.label import ProductLabel
from app.dosing.masks import build_masks
from app.dosing.prescribe import Prescription, Strategy, Summary, prescribe
from app.export import ExportJob
from app.geo import reproject

CRS = "EPSG:32631"
X0, Y0 = 500_000.0, 5_000_000.0  # about 3.0 E, 45.1 N


def _field_m() -> shapely.Polygon:
    # 70 m x 50 m with a notch, inside a 80 x 60 grid of 1 m cells.
    return shapely.Polygon([(X0 + 5, Y0 - 55), (X0 + 75, Y0 - 55), (X0 + 75, Y0 - 5),
                            (X0 + 40, Y0 - 5), (X0 + 40, Y0 - 15), (X0 + 5, Y0 - 15)])


@pytest.fixture
def grid() -> GridSpec:
    return GridSpec(crs=CRS, x0_m=X0, y0_m=Y0, cell_size_m=1.0, n_rows=60, n_cols=80)


@pytest.fixture
def liquid() -> ProductLabel:
    return ProductLabel("Clethodim 240", "L/ha", 0.0, 2.5, label_unit="fl oz/acre")


@pytest.fixture
def solid() -> ProductLabel:
    return ProductLabel("Tribenuron WG", "kg/ha", 0.0, 0.5, label_unit="g/ha")


def weed_density(grid: GridSpec) -> np.ndarray:
    """Two patches of wild oat, plants/m²."""
    dens = np.zeros(grid.shape, dtype=np.float32)
    dens[20:30, 10:22] = 5.0
    dens[35:50, 50:70] = 3.0
    return dens


def threshold_by_hand(grid: GridSpec, products: list[ProductLabel], rates_canonical: list[float],
                      target: np.ndarray) -> Prescription:
    """What the threshold strategy means: NaN outside, 0 in the field, the rate on sprayable targets."""
    masks = build_masks(grid, _field_m(), [], products)
    rates = np.full((len(products), *grid.shape), np.nan, dtype=np.float32)
    sprayed = masks.sprayable & target
    for k, r in enumerate(rates_canonical):
        rates[k][masks.in_field] = 0.0
        rates[k][sprayed] = r
    ha = grid.cell_area_ha
    summary = Summary(float(masks.in_field.sum()) * ha, float(masks.sprayable.sum()) * ha,
                      float(sprayed.sum()) * ha, [0.0] * len(products), [0.0] * len(products),
                      [0.0] * len(products))
    return Prescription(grid=grid, products=products, rates=rates, summary=summary)


@pytest.fixture
def threshold_rx(grid: GridSpec, liquid: ProductLabel) -> Prescription:
    """Two weed patches sprayed at 2.0 L/ha, the rest of the field at 0."""
    return threshold_by_hand(grid, [liquid], [2.0], weed_density(grid) >= 1.0)


@pytest.fixture
def dosing_core_rx(grid: GridSpec, liquid: ProductLabel) -> Prescription:
    """The same field through the dosing core itself (threshold strategy)."""
    masks = build_masks(grid, _field_m(), [], [liquid])
    strategy = Strategy("threshold", rates=(2.0,))
    return prescribe({"AVEFA": weed_density(grid)}, grid, masks, [liquid], strategy)


@pytest.fixture
def tankmix_rx(grid: GridSpec, liquid: ProductLabel, solid: ProductLabel) -> Prescription:
    """Hand-built two-product mix with several rate levels per product."""
    masks = build_masks(grid, _field_m(), [], [liquid, solid])
    rates = np.full((2, *grid.shape), np.nan, dtype=np.float32)
    rates[:, masks.in_field] = 0.0
    sprayable = masks.sprayable
    a = np.zeros(grid.shape, dtype=np.float32)
    a[20:30, 10:22] = 1.25
    a[35:50, 50:70] = 2.0
    a[40:45, 55:60] = 2.5
    b = np.zeros(grid.shape, dtype=np.float32)
    b[20:30, 10:22] = 0.2
    b[35:50, 50:62] = 0.35
    rates[0][sprayable] = a[sprayable]
    rates[1][sprayable] = b[sprayable]
    ha = grid.cell_area_ha
    summary = Summary(float(masks.in_field.sum()) * ha, float(sprayable.sum()) * ha,
                      float((rates[0] > 0).sum()) * ha, [0.0, 0.0], [0.0, 0.0], [0.0, 0.0])
    return Prescription(grid=grid, products=[liquid, solid], rates=rates, summary=summary)


def make_job(rx: Prescription, **kw: object) -> ExportJob:
    boundary = reproject(_field_m(), CRS, "EPSG:4326")
    return ExportJob(prescription=rx, field_name=str(kw.pop("field_name", "North Field")),
                     field_boundary_wgs84=boundary, **kw)  # type: ignore[arg-type]


@pytest.fixture
def job(threshold_rx: Prescription) -> ExportJob:
    return make_job(threshold_rx, customer_name="Dupont", farm_name="Les Granges", task_name="Wild oat spot")


@pytest.fixture
def mix_job(tankmix_rx: Prescription) -> ExportJob:
    return make_job(tankmix_rx, customer_name="Dupont", farm_name="Les Granges")
