"""Shrinking a shapefile for a size-capped terminal never lowers a rate and never reaches a buffer."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from shapely.geometry import shape

from app.domain.field import FieldCreate
from app.domain.label import LabelDoc
from app.domain.prescription import StrategyIn
from app.domain.units import from_canonical_rate
from app.domain.weed_map import WeedMapCreate
from app.export import ExportJob, preflight, render
from app.export.coarsen import coarsen_up
from app.pipeline import run_documents
from app.species import DATA_DIR


@settings(max_examples=80, deadline=None)
@given(arrays(np.float32, st.tuples(st.integers(1, 2), st.integers(1, 13), st.integers(1, 13)),
              elements=st.sampled_from([0.0, 0.5, 1.0, 2.5, np.nan])),
       st.integers(2, 5), st.data())
def test_coarsen_never_lowers_and_keeps_unsprayable_cells(rates: np.ndarray, k: int, data: st.DataObject) -> None:
    # cells already sprayed are sprayable by construction; others may or may not be
    free = data.draw(arrays(np.bool_, rates.shape[1:]))
    ok = free | np.any(np.nan_to_num(rates) > 0, axis=0)
    out = coarsen_up(rates, ok, k)
    both = ~np.isnan(rates)
    assert np.array_equal(np.isnan(out), np.isnan(rates))
    assert np.all(out[both] >= rates[both])  # never lowered
    assert np.array_equal(out[:, ~ok], rates[:, ~ok], equal_nan=True)  # unsprayable cells untouched
    assert np.nanmax(out, initial=0) == np.nanmax(rates, initial=0)  # no new, higher rate


def _sample_job(slug: str, label_file: str) -> ExportJob:
    folder = DATA_DIR / "sample_fields" / slug
    field = FieldCreate.model_validate_json((folder / "field.json").read_text())
    wm = WeedMapCreate.model_validate_json((folder / "weed_map.json").read_text())
    label = LabelDoc.model_validate_json((DATA_DIR / "labels" / label_file).read_text())
    geometry, core, no_spray = run_documents(field, wm, [label], StrategyIn(name="target_efficacy"))
    return ExportJob(prescription=core, field_name=field.name, field_boundary_wgs84=geometry.boundary_wgs84,
                     no_spray_wgs84=shape(no_spray))


def test_100_ha_sample_shapefile_is_shrunk_to_fit_trimble(tmp_path: Path) -> None:
    import pyogrio

    job = _sample_job("us-ia-story-county", "enlist-one.json")
    generic = render(job, "shapefile", terminal="generic")
    assert generic.stats["bytes_unzipped"] > 250_000  # too big for the (assumed) 250 KB cap as it is
    out = render(job, "shapefile", terminal="trimble")
    assert out.stats["bytes_unzipped"] <= 250_000
    assert any("blocks of" in n for n in out.notes)
    check = preflight(job, "shapefile", "trimble")
    assert any("blocks of" in c for c in check["changes"])
    # Merging costs product: the file itself, read back, needs far more than the prescription.
    added = check["product_added"][0]
    assert added["delta_pct"] > 5.0 and added["in_file"] > added["prescribed"]
    assert check["ok"] is False and "more product" in check["trade_off"]
    assert check["verify"]["ok"] is True  # still inside the label: only the amount changed
    accepted = preflight(job, "shapefile", "trimble", tolerance_pct=added["delta_pct"] + 1)
    assert accepted["ok"] is True and accepted["trade_off"] is None
    # read back: no zone's rate exceeds the label maximum; buffers stay out of the sprayed zones
    with zipfile.ZipFile(io.BytesIO(out.content)) as z:
        z.extractall(tmp_path)
    meta, _fids, geoms, field_data = pyogrio.raw.read(next(tmp_path.glob("*.shp")))
    rates = field_data[2]  # ZONE, AREA_HA, then the rate column (in the label unit)
    label_max = from_canonical_rate(job.prescription.products[0].max_rate, job.prescription.products[0].label_unit)
    assert rates.max() <= label_max * (1 + 1e-6)
    sprayed = [shape_from_wkb(g) for g, r in zip(geoms, rates, strict=True) if r > 0]
    no_spray = job.no_spray_wgs84.buffer(-1e-7)  # type: ignore[union-attr]
    assert all(not g.intersects(no_spray) for g in sprayed)
    # rates only go up: the shrunk zones hold more product than the prescription, not less
    per = from_canonical_rate(1.0, job.prescription.products[0].label_unit)
    before = float(np.nansum(job.prescription.rates, dtype=np.float64)) * job.prescription.grid.cell_area_ha * per
    after = float(np.sum(rates * field_data[1]))  # rate (label unit) x AREA_HA
    assert after >= before * (1 - 1e-3)


def shape_from_wkb(b: bytes):  # type: ignore[no-untyped-def]
    import shapely

    return shapely.from_wkb(b)
