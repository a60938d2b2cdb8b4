"""The export formats by name, and the two calls the service makes: ``render`` and ``preflight``."""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.export.geojson import render_geojson
from app.export.geotiff import render_geotiff
from app.export.isoxml import render_isoxml
from app.export.job import ExportError, ExportFile, ExportJob
from app.export.preview import render_png
from app.export.shapefile import render_shapefile
from app.export.terminals import TERMINALS, Terminal, get_terminal
from app.export.verify import GroundTruth, VerifyReport, verify
from app.export.zones import display_unit

# Formats a terminal sprays from: each is read back and verified before it is served.
VERIFIED: tuple[str, ...] = ("isoxml", "shapefile", "geojson", "geotiff")
DEFAULT_TOLERANCE_PCT = 5.0


class ExportRefused(ExportError):
    """A rendered file that would break the label; it is never served (HTTP 422)."""


def verified(job: ExportJob, fmt: str, out: ExportFile) -> VerifyReport | None:
    """Verify ``out`` (format ``fmt``) against ``job``; raise ``ExportRefused`` naming what breaks the label.

    The report lands in ``out.stats["verify"]``; ``out.stats["verify_seconds"]``
    says what it cost.
    """
    if fmt not in VERIFIED:
        return None
    t0 = time.perf_counter()
    report = verify(out.content, fmt, GroundTruth.from_job(job))
    out.stats["verify_seconds"] = time.perf_counter() - t0
    out.stats["verify"] = report.as_dict()
    if not report.ok:
        raise ExportRefused(f"the {fmt} file would break the label, so it is not served: "
                            + "; ".join(report.problems))
    return report


_TRADE_OFF = {
    "isoxml": "added where lat/lon cells straddle a sprayed patch's edge and take its rate (resample=max) or where "
              "rates were rounded up to fit zones. Choose: oversample=2 halves the growth (a 4x larger file); "
              "resample=nearest keeps the product but may leave the edge of a patch under-dosed; fewer zones or a "
              "coarser grid make a smaller file but spray more; or accept the extra by raising tolerance_pct",
    "shapefile": "added where cells were merged or rates rounded up to fit the terminal's zone or size cap. "
                 "Choose: more zones (max_zones) or another terminal keep the product; a coarser dosing grid makes "
                 "a smaller file but sprays more; or accept the extra by raising tolerance_pct",
}


def product_added(report: VerifyReport) -> list[dict[str, object]]:
    """Product the file needs beyond the prescription, per product (delta and %)."""
    return product_added_of(report.as_dict())


def product_added_of(report: dict[str, Any]) -> list[dict[str, object]]:
    """:func:`product_added` from a report as :meth:`VerifyReport.as_dict` gives it (the map page's)."""
    return [{"product": p["product"], "unit": p["total_unit"], "prescribed": round(p["prescribed_total"], 6),
             "in_file": round(p["file_total"], 6), "delta": round(p["delta"], 6),
             "delta_pct": round(p["delta_pct"], 3) if p["delta_pct"] is not None else None}
            for p in report["products"]]

Renderer = Callable[..., ExportFile]


@dataclass(frozen=True)
class Format:
    """One export format: its renderer and the keyword options it takes."""

    name: str
    title: str
    media_type: str
    renderer: Renderer
    for_terminals: bool

    @property
    def options(self) -> tuple[str, ...]:
        params = list(inspect.signature(self.renderer).parameters.values())
        return tuple(p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY)


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("isoxml", "ISO 11783-10 task data (ISOXML v4.3)", "application/zip", render_isoxml, True),
        Format("shapefile", "ESRI shapefile rate zones (zip)", "application/zip", render_shapefile, True),
        Format("geojson", "GeoJSON rate zones (RFC 7946)", "application/geo+json", render_geojson, False),
        Format("geotiff", "Cloud-optimised GeoTIFF rate grid", "image/tiff", render_geotiff, False),
        Format("png", "PNG preview map", "image/png", render_png, False),
    )
}


def get_format(name: str) -> Format:
    """The format called ``name``; ExportError lists the valid names."""
    try:
        return FORMATS[name]
    except (KeyError, TypeError):
        raise ExportError(f"unknown format {name!r}; valid formats: {', '.join(FORMATS)}") from None


def _check_options(fmt: Format, options: dict[str, object]) -> None:
    unknown = sorted(set(options) - set(fmt.options))
    if unknown:
        raise ExportError(
            f"format {fmt.name!r} takes no option(s) {', '.join(unknown)}; valid options: "
            f"{', '.join(fmt.options) or 'none'}"
        )


def render(job: ExportJob, fmt: str, *, terminal: str | None = None, **options: object) -> ExportFile:
    """Render ``job`` as ``fmt`` for ``terminal`` (default ``generic``).

    Raises ``ExportError`` (a ``ValueError``) for an unknown format, terminal
    or option, and for a prescription that cannot fit the terminal's limits.

    Examples
    --------
    >>> render(None, "kml")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    app.export.job.ExportError: unknown format 'kml'; valid formats: isoxml, shapefile, geojson, geotiff, png
    """
    f = get_format(fmt)
    t = get_terminal(terminal)
    _check_options(f, options)
    out = f.renderer(job, t, **options)
    verified(job, f.name, out)
    return out


def _limit_checks(t: Terminal, fmt: Format, stats: dict[str, object]) -> list[dict[str, object]]:
    checks: list[dict[str, object]] = []
    zones = stats.get("zones")
    zone_applies = fmt.name in ("shapefile", "geojson") or (
        fmt.name == "isoxml" and stats.get("grid_type") == 1)
    if t.max_zones is not None and zone_applies and isinstance(zones, int):
        checks.append({"limit": "max_zones", "cap": t.max_zones, "value": zones, "ok": zones <= t.max_zones,
                       "assumed": "max_zones" in t.assumed})
    size = stats.get("bytes_unzipped")
    if t.max_bytes is not None and fmt.for_terminals and isinstance(size, int):
        checks.append({"limit": "max_bytes", "cap": t.max_bytes, "value": size, "ok": size <= t.max_bytes,
                       "assumed": "max_bytes" in t.assumed})
    if fmt.name == "isoxml" and "grid_type" in stats:
        gt = stats["grid_type"]
        checks.append({"limit": "isoxml_grid_types", "cap": list(t.isoxml_grid_types), "value": gt,
                       "ok": gt in t.isoxml_grid_types, "assumed": "isoxml_grid_types" in t.assumed})
    return checks


def preflight(job: ExportJob, fmt: str, terminal: str | None = None, *,
              tolerance_pct: float = DEFAULT_TOLERANCE_PCT, **options: object) -> dict[str, object]:
    """Render ``fmt`` for ``terminal`` and report whether it fits, as a JSON-able dict.

    Keys: ``format``, ``terminal``, ``ok``, ``error`` (why it cannot be made,
    or ``None``), ``zones``, ``vertices``, ``bytes`` (download), ``bytes_unzipped``,
    ``crs``, ``units`` per product, ``grid`` (ISOXML), ``checks`` against the
    terminal's limits (each says whether the limit is an assumption),
    ``changes`` (what the exporter did to fit) and ``terminal_limits``.
    ``verify`` is the export verifier's report on the file itself
    (:mod:`app.export.verify`); ``product_added`` is product beyond the
    prescription per product. ``ok`` is False when the file breaks the label,
    or when it needs more than ``tolerance_pct`` % extra product, and
    ``trade_off`` then says what the caller can change.
    """
    f = get_format(fmt)
    t = get_terminal(terminal)
    _check_options(f, options)
    units = [
        {"product": p.name, "canonical_unit": p.canonical_unit,
         "unit": display_unit(p, str(options.get("unit", "label"))).unit}
        for p in job.prescription.products
    ]
    report: dict[str, object] = {
        "format": f.name, "terminal": t.name, "ok": False, "error": None, "units": units,
        "terminal_limits": t.as_dict(), "crs": None, "zones": None, "vertices": None,
        "bytes": None, "bytes_unzipped": None, "checks": [], "changes": [],
        "verify": None, "product_added": [], "tolerance_pct": tolerance_pct, "trade_off": None,
    }
    try:
        out = f.renderer(job, t, **options)
    except ExportError as exc:
        report["error"] = str(exc)
        return report
    try:
        vr = verified(job, f.name, out)
    except ExportRefused as exc:
        report["error"] = str(exc)
        report["verify"] = out.stats.get("verify")
        return report
    stats = out.stats
    report.update({
        "ok": True, "filename": out.filename, "bytes": len(out.content),
        "bytes_unzipped": stats.get("bytes_unzipped"), "crs": stats.get("crs"),
        "zones": stats.get("zones"), "vertices": stats.get("vertices"), "changes": list(out.notes),
    })
    if f.name == "isoxml":
        report["grid"] = {k: stats[k] for k in ("grid_type", "grid_rows", "grid_cols", "cell_size_deg")}
        report["isoxml_grid_types_supported"] = list(t.isoxml_grid_types)
    checks = _limit_checks(t, f, stats)
    report["checks"] = checks
    report["ok"] = all(c["ok"] for c in checks)
    if vr is not None:
        report["verify"] = stats["verify"]
        report["verify_seconds"] = round(float(stats["verify_seconds"]), 4)  # type: ignore[arg-type]
        added = product_added(vr)
        report["product_added"] = added
        worst = vr.product_delta_pct()
        if worst > tolerance_pct:
            report["ok"] = False
            report["trade_off"] = (
                f"this file needs {worst:.1f} % more product than the prescription (tolerance {tolerance_pct:g} %), "
                + _TRADE_OFF.get(f.name, _TRADE_OFF["shapefile"]))
    return report


__all__ = ["FORMATS", "TERMINALS", "ExportRefused", "Format", "get_format", "preflight", "render", "verified"]
