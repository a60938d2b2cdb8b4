"""The map pages and the JSON they draw from.

The HTML shells are public (they hold no data); every data call the pages
make carries ``Authorization: Bearer`` and needs the ``read`` permission.
Include with ``app.include_router(router)``: the router also mounts the
page assets and the vendored Leaflet under ``/static/``.
"""

from __future__ import annotations

import gzip
import html
import json
import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import shapely
from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from app import __version__
from app.advice.locales import LANGS, locale_data
from app.api.deps import Reader, SessionDep
from app.api.public import prescription_public
from app.domain.errors import NotFound
from app.domain.label import LabelDoc
from app.dosing.masks import SensitiveFeature, build_masks, label_buffers
from app.dosing.prescribe import Prescription as CorePrescription
from app.export import FORMATS, TERMINALS, ExportError, render
from app.export.registry import product_added_of
from app.geo import reproject
from app.models import repo
from app.models.tables import Field, Prescription, WeedMap
from app.pipeline import FieldGeometry, no_spray_wgs84, rates_in_label_units
from app.services.exports import export_job
from app.services.fields import weed_map_densities, weed_map_grid
from app.services.prescriptions import load_core, owned_prescription
from app.species import species_names
from app.web import layers

log = logging.getLogger("dosewise.web")

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"
TEMPLATE_DIR = WEB_DIR / "templates"
GZIP_MIN_BYTES = 16 * 1024
COORD_DECIMALS = 7  # about 1 cm

router = APIRouter(tags=["map"])
router.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")


# --- pages -----------------------------------------------------------------

@lru_cache(maxsize=8)
def _template(name: str) -> str:
    return (TEMPLATE_DIR / name).read_text(encoding="utf-8").replace("{{version}}", __version__)


def _csp(tiles_url: str | None) -> str:
    img = ["'self'", "data:", "blob:"]
    if tiles_url:
        parts = urlsplit(tiles_url)
        if parts.scheme in ("http", "https") and parts.netloc:
            # Leaflet's {s} subdomain placeholder becomes a wildcard host.
            img.append(f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}")
    return ("default-src 'self'; script-src 'self'; style-src 'self'; "
            f"img-src {' '.join(img)}; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'")


def page_lang(request: Request) -> str:
    """The page's language: ``?lang=`` when it is one of ours, else the browser's first match, else English."""
    asked = request.query_params.get("lang")
    if asked in LANGS:
        return asked
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGS:
            return code
    return "en"


_WORD = re.compile(r"\{\{t:(\w+)\}\}")


@lru_cache(maxsize=32)
def _localised(name: str, lang: str) -> str:
    """The template with ``{{t:key}}`` replaced by the locale file's map words (HTML-escaped); the
    words also ride on ``<body data-words>`` for the page script (no inline script: CSP)."""
    words: dict[str, str] = locale_data(lang)["map"]
    text = _template(name).replace("{{lang}}", lang)
    text = _WORD.sub(lambda m: html.escape(words[m.group(1)]), text)
    data = {**words, "crops": locale_data(lang)["crops"]}
    return text.replace("{{words}}", html.escape(json.dumps(data, ensure_ascii=False), quote=True))


def _page(request: Request, name: str) -> HTMLResponse:
    headers = {
        "Content-Security-Policy": _csp(request.app.state.settings.map_tiles_url),
        "Cache-Control": "no-cache",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Content-Language": (lang := page_lang(request)),
        "Vary": "Accept-Language",
    }
    return HTMLResponse(_localised(name, lang), headers=headers)


@router.get("/v1/map", summary="Map page: all fields", response_class=HTMLResponse)
def map_index(request: Request) -> HTMLResponse:
    """The organisation's fields and prescriptions (HTML; sign in with an API key in the page)."""
    return _page(request, "index.html")


@router.get("/v1/prescriptions/{prescription_id}/map", summary="Map page: one prescription",
            response_class=HTMLResponse)
def prescription_map(prescription_id: int, request: Request) -> HTMLResponse:
    """A prescription on a map with its weeds, buffers, summary and exports (HTML shell)."""
    del prescription_id  # the page reads it from its own URL
    return _page(request, "map.html")


# --- data ------------------------------------------------------------------

@router.get("/v1/map/config", summary="Map page settings")
def map_config(request: Request, caller: Reader) -> dict[str, Any]:
    """What the pages need besides data: background tiles, export formats and terminals."""
    formats = [{"name": f.name, "title": f.title, "for_terminals": f.for_terminals} for f in FORMATS.values()]
    terminals = [{"name": t.name, "title": t.title} for t in TERMINALS.values()]
    return {"tiles_url": request.app.state.settings.map_tiles_url, "organisation": caller.org_name,
            "role": caller.role, "formats": formats, "terminals": terminals}


@router.get("/v1/prescriptions/{prescription_id}/layers", summary="Map layers of a prescription")
def prescription_layers(prescription_id: int, request: Request, session: SessionDep,
                        caller: Reader) -> Response:
    """Everything the map draws, WGS84 lon/lat GeoJSON; bounds are ``[[lat, lon], [lat, lon]]``.

    ``boundary``, ``no_spray`` (buffers and no-spray zones inside the field),
    ``features`` (the sensitive features themselves), ``rates`` (one rate-zone
    FeatureCollection per product, rates and legend in the label's unit),
    ``weeds`` (one PNG overlay per species at ``image_url``), ``summary``,
    ``compliance`` and ``siblings`` (other prescriptions of the field).
    """
    row = owned_prescription(session, caller.org_id, prescription_id, caller.field_ids)
    body = json.dumps(prescription_layers_doc(session, row), separators=(",", ":"), allow_nan=False)
    return _json(request, body)


@router.get("/v1/prescriptions/{prescription_id}/weeds/{species}.png", summary="Weed density overlay (PNG)",
            response_class=Response,
            responses={200: {"content": {"image/png": {}}}})
def weed_overlay(prescription_id: int, species: str, session: SessionDep, caller: Reader) -> Response:
    """Density of one species (EPPO code) as a PNG in Web Mercator; place it at the ``bounds`` of ``/layers``."""
    row = owned_prescription(session, caller.org_id, prescription_id, caller.field_ids)
    wmap = _weed_map(session, row)
    if species not in wmap.species:
        raise NotFound(f"species {species!r} is not on weed map {wmap.id}; species: {', '.join(wmap.species)}")
    grid = weed_map_grid(wmap)
    classes = layers.density_classes(weed_map_densities(wmap)[species])
    png = layers.palette_png(layers.warp_classes(classes, grid, layers.mercator_overlay(grid)))
    # A weed map version never changes once stored.
    return Response(png, media_type="image/png",
                    headers={"Cache-Control": "private, max-age=86400", "ETag": f'"wm{wmap.id}-{species}"'})


def _json(request: Request, body: str) -> Response:
    data = body.encode("utf-8")
    headers = {"Cache-Control": "private, no-cache", "Vary": "Accept-Encoding"}
    if len(data) >= GZIP_MIN_BYTES and "gzip" in request.headers.get("accept-encoding", ""):
        data = gzip.compress(data, compresslevel=4)
        headers["Content-Encoding"] = "gzip"
    return Response(data, media_type="application/json", headers=headers)


def _weed_map(session: Session, row: Prescription) -> WeedMap:
    wmap = repo.get_owned(session, WeedMap, row.org_id, row.weed_map_id)
    if wmap is None:
        raise NotFound(f"weed map {row.weed_map_id} of prescription {row.id} not found")
    return wmap


def prescription_layers_doc(session: Session, row: Prescription) -> dict[str, Any]:
    """The ``/layers`` document of a stored prescription (see :func:`prescription_layers`)."""
    field = repo.get_owned(session, Field, row.org_id, row.field_id)
    if field is None:
        raise NotFound(f"field {row.field_id} of prescription {row.id} not found")
    wmap = _weed_map(session, row)
    core, labels = load_core(row)
    geometry = FieldGeometry.from_documents(field.boundary, field.sensitive_features)
    west, south, east, north = geometry.boundary_wgs84.bounds
    info = prescription_public(row).model_dump(mode="json")
    no_spray, buffers = _no_spray(row, geometry, core)
    exported = _export_zones(session, row)
    return {
        "prescription": {k: info[k] for k in ("id", "field_id", "weed_map_id", "weed_map_version", "strategy",
                                              "sprayer", "grid", "created_at", "links")},
        "field": {"id": field.id, "name": field.name, "crop": field.crop, "growth_stage_bbch":
                  field.growth_stage_bbch, "country": field.country, "area_ha": round(field.area_ha, 4)},
        "bounds": [[south, west], [north, east]],
        "boundary": {"type": "Feature", "properties": {"name": field.name}, "geometry": field.boundary},
        "no_spray": _feature(no_spray, {"buffers_m": buffers}),
        "features": {"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"kind": f.get("kind"), "name": f.get("name")},
             "geometry": f.get("geometry")} for f in field.sensitive_features]},
        "rates": _rate_layers(exported[0], core, labels),
        "weeds": _weed_layers(row, wmap),
        "summary": {k: v for k, v in row.summary.items() if k != "products"},
        "products": info["products"],
        "currency": _currency(labels),
        "compliance": row.compliance,
        "verify": exported[1],
        "siblings": _siblings(session, row),
    }


def _feature(geom: BaseGeometry, properties: dict[str, Any]) -> dict[str, Any] | None:
    if geom.is_empty:
        return None
    geom = shapely.set_precision(geom, 10 ** -COORD_DECIMALS)
    return {"type": "Feature", "properties": properties, "geometry": mapping(geom)}


def _no_spray(row: Prescription, geometry: FieldGeometry,
              core: CorePrescription) -> tuple[BaseGeometry, dict[str, float]]:
    """Buffers and no-spray zones inside the field (WGS84), as the prescription stored them."""
    buffers, downwind = label_buffers(core.products)
    if downwind:
        buffers["downwind"] = downwind
    if row.no_spray is not None:
        return shape(row.no_spray), buffers
    # made before the zones were stored: lay them again as build_masks did
    crs = core.grid.crs
    field_m = reproject(geometry.boundary_wgs84, "EPSG:4326", crs)
    features_m = [SensitiveFeature(kind, reproject(g, "EPSG:4326", crs)) for kind, _name, g in geometry.features]
    masks = build_masks(core.grid, field_m, features_m, core.products, wind_from_deg=row.wind_from_deg)
    return shape(no_spray_wgs84(masks, field_m, crs)), buffers


def _rate_layers(by_product: dict[str, list[dict[str, Any]]] | None, core: CorePrescription,
                 labels: list[LabelDoc]) -> list[dict[str, Any]]:
    """Rate zones per product: the GeoJSON export's when it renders, else zones polygonised here."""
    out = []
    label_rates = rates_in_label_units(core, labels) if by_product is None else None
    for k, lab in enumerate(labels):
        if by_product is not None:
            feats = by_product.get(lab.name, [])
            rates = np.array([f["properties"]["rate"] for f in feats], dtype=np.float64)
            areas = np.array([f["properties"]["area_ha"] for f in feats], dtype=np.float64)
            source = "export"
        else:
            assert label_rates is not None
            geoms, rates, areas = layers.rate_zones(label_rates[k], core.grid)
            feats = [{"type": "Feature", "properties": {"product": lab.name, "rate": float(r),
                                                       "unit": lab.rate_unit, "area_ha": round(float(a), 6)},
                      "geometry": mapping(g)}
                     for g, r, a in zip(shapely.set_precision(np.asarray(geoms, dtype=object),
                                                              10 ** -COORD_DECIMALS), rates, areas, strict=True)]
            source = "grid"
        legend = layers.rate_legend(rates, areas, lab.max_rate)
        for f in feats:
            f["properties"]["colour"] = layers.legend_colour(float(f["properties"]["rate"]), legend)
        out.append({"product": lab.name, "unit": lab.rate_unit, "min_rate": lab.min_rate,
                    "max_rate": lab.max_rate, "source": source,
                    "legend": legend,
                    "zones": {"type": "FeatureCollection", "features": feats}})
    return out


def _export_zones(session: Session, row: Prescription
                  ) -> tuple[dict[str, list[dict[str, Any]]] | None, dict[str, Any]]:
    """Features of the GeoJSON export by product name (``None`` when it cannot render), and the file check.

    The check is the export verifier's report on that GeoJSON file, the
    same ``verify`` the pre-flight (``/export/geojson/check``) gives, with
    the product added per product; ``check_urls`` lead to the other formats'.
    """
    checks = {fmt: f"/v1/prescriptions/{row.id}/export/{fmt}/check" for fmt in ("isoxml", "shapefile", "geotiff")}
    check: dict[str, Any] = {"format": "geojson", "ok": False, "error": None, "report": None,
                             "product_added": [], "check_urls": checks}
    try:
        out = render(export_job(session, row), "geojson")
    except ExportError as exc:
        log.info("rate zones polygonised on the map side: %s", exc)
        check["error"] = str(exc)
        return None, check
    report = out.stats.get("verify")
    if isinstance(report, dict):
        check.update(ok=bool(report["ok"]), report=report, product_added=product_added_of(report))
    doc = json.loads(out.content)
    by_product: dict[str, list[dict[str, Any]]] = {}
    for f in doc.get("features", []):
        by_product.setdefault(f["properties"]["product"], []).append(f)
    return by_product, check


def _weed_layers(row: Prescription, wmap: WeedMap) -> list[dict[str, Any]]:
    overlay = layers.mercator_overlay(weed_map_grid(wmap))
    out = []
    for code in wmap.species:
        stats = wmap.stats.get(code, {})
        peak = float(stats.get("max_plants_m2", 0.0))
        out.append({"species": code, "names": species_names(code), "max_plants_m2": peak,
                    "mean_plants_m2": stats.get("mean_plants_m2"), "infested_share": stats.get("infested_share"),
                    "unit": "plants/m²", "bounds": overlay.bounds_latlon,
                    "image_url": f"/v1/prescriptions/{row.id}/weeds/{code}.png",
                    "legend": layers.density_legend(peak)})
    return out


def _currency(labels: list[LabelDoc]) -> str | None:
    found = {lab.price.currency for lab in labels if lab.price is not None}
    return found.pop() if len(found) == 1 else None


def _siblings(session: Session, row: Prescription) -> list[dict[str, Any]]:
    out = []
    for other in repo.prescriptions_of_field(session, row.field_id):
        s = other.summary
        out.append({"id": other.id, "strategy": other.strategy.get("name"), "created_at": other.created_at.isoformat(),
                    "weed_map_version": other.weed_map_version,
                    "products": [p.get("name") for p in s.get("products", [])],
                    "treated_area_ha": s.get("treated_area_ha"), "this": other.id == row.id})
    return out
