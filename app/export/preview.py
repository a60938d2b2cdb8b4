"""A PNG preview of the prescription: coloured rates, legend in label units, scale bar, outline."""

from __future__ import annotations

import io
import math

import numpy as np
import shapely
from PIL import Image, ImageDraw, ImageFont

from app.dosing.grid import GridSpec
from app.export.job import ExportFile, ExportJob
from app.export.names import file_stem
from app.export.terminals import Terminal
from app.export.zones import display_unit
from app.geo import reproject

# ColorBrewer YlOrRd: pale for low rates, dark red for the highest.
_RAMP = np.array([
    (255, 237, 160), (254, 217, 118), (254, 178, 76), (253, 141, 60),
    (252, 78, 42), (227, 26, 28), (189, 0, 38), (128, 0, 38),
], dtype=np.float64)
_UNSPRAYED = (222, 226, 214)
_OUTSIDE = (255, 255, 255)
_INK = (33, 37, 41)
_MUTED = (108, 117, 125)
_MAX_DISCRETE = 8
MAP_PX = 640


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _ramp(t: np.ndarray) -> np.ndarray:
    """Colours for ``t`` in [0, 1] along the ramp, uint8 RGB."""
    pos = np.clip(t, 0.0, 1.0) * (len(_RAMP) - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, len(_RAMP) - 1)
    f = (pos - lo)[..., None]
    return np.round(_RAMP[lo] * (1 - f) + _RAMP[hi] * f).astype(np.uint8)


def _nice_length(max_m: float) -> float:
    """The largest 1, 2 or 5 x 10^n metres not above ``max_m``."""
    exp = 10 ** math.floor(math.log10(max_m))
    return max(m * exp for m in (1, 2, 5) if m * exp <= max_m)


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    digits = max(0, 2 - math.floor(math.log10(abs(v))))
    return f"{v:.{min(digits, 4)}f}"


def _area(ha: float) -> str:
    return f"{ha * 10_000:.0f} m²" if ha < 0.1 else f"{ha:.2f} ha"


def _downsample_max(a: np.ndarray, f: int) -> np.ndarray:
    """Block maximum, so a one-cell patch stays visible when zoomed out; NaN only where all are."""
    rows, cols = a.shape
    pr, pc = (-rows) % f, (-cols) % f
    padded = np.pad(a, ((0, pr), (0, pc)), constant_values=np.nan)
    blocks = padded.reshape(padded.shape[0] // f, f, padded.shape[1] // f, f)
    with np.errstate(invalid="ignore"), np.testing.suppress_warnings() as sup:
        sup.filter(RuntimeWarning)
        return np.nanmax(blocks, axis=(1, 3))


def _panel(rates: np.ndarray, grid: GridSpec, outline_m: shapely.Geometry, title: str, unit: str,
           per_canonical: float) -> Image.Image:
    shown = rates.astype(np.float64) * per_canonical
    full_res = shown
    f = max(1, math.ceil(max(grid.n_rows, grid.n_cols) / MAP_PX))
    if f > 1:
        shown = _downsample_max(shown, f)
    zoom = max(1, MAP_PX // max(shown.shape))
    px_m = grid.cell_size_m * f / zoom  # metres per screen pixel

    positive = shown[shown > 0]
    levels = np.unique(positive)
    discrete = 0 < len(levels) <= _MAX_DISCRETE
    rgb = np.empty((*shown.shape, 3), dtype=np.uint8)
    rgb[:] = _OUTSIDE
    rgb[shown == 0] = _UNSPRAYED
    lo, hi = (float(levels[0]), float(levels[-1])) if len(levels) else (0.0, 0.0)
    pos_mask = shown > 0
    if discrete:
        t = np.linspace(0.15, 1.0, len(levels)) if len(levels) > 1 else np.array([0.7])
        colours = _ramp(t)
        rgb[pos_mask] = colours[np.searchsorted(levels, shown[pos_mask])]
    elif len(levels):
        rgb[pos_mask] = _ramp((shown[pos_mask] - lo) / max(hi - lo, 1e-12))
    img = Image.fromarray(rgb, "RGB").resize((shown.shape[1] * zoom, shown.shape[0] * zoom), Image.Resampling.NEAREST)

    map_w, map_h = img.size
    pad, legend_w, head_h, foot_h = 16, 250, 52, 44
    canvas = Image.new("RGB", (pad + map_w + pad + legend_w, head_h + map_h + foot_h), (255, 255, 255))
    canvas.paste(img, (pad, head_h))
    draw = ImageDraw.Draw(canvas)
    draw.text((pad, 10), title, fill=_INK, font=_font(18))
    draw.text((pad, 32), f"rate in {unit}", fill=_MUTED, font=_font(13))

    # Field outline, metric CRS -> canvas pixels.
    def to_px(xy: np.ndarray) -> list[tuple[float, float]]:
        return [(pad + (x - grid.x0_m) / px_m, head_h + (grid.y0_m - y) / px_m) for x, y in xy]

    polys = outline_m.geoms if hasattr(outline_m, "geoms") else [outline_m]
    for poly in polys:
        for ring in (poly.exterior, *poly.interiors):
            draw.line(to_px(np.asarray(ring.coords)), fill=_INK, width=2, joint="curve")
    draw.rectangle((pad - 1, head_h - 1, pad + map_w, head_h + map_h), outline=(206, 212, 218))

    # Scale bar: a quarter of the map, rounded to 1/2/5 x 10^n m, in four black/white segments.
    length_m = _nice_length(map_w * px_m / 4)
    bar_px = length_m / px_m
    x0, y0 = pad, head_h + map_h + 14
    for i in range(4):
        seg = (x0 + i * bar_px / 4, y0, x0 + (i + 1) * bar_px / 4, y0 + 7)
        draw.rectangle(seg, fill=_INK if i % 2 == 0 else (255, 255, 255), outline=_INK)
    label = f"{length_m:g} m" if length_m < 1000 else f"{length_m / 1000:g} km"
    draw.text((x0 + bar_px + 8, y0 - 4), label, fill=_INK, font=_font(13))

    # North arrow in the map's top-right corner (the grid is north-up).
    ax, ay = pad + map_w - 22, head_h + 12
    draw.polygon([(ax, ay), (ax - 7, ay + 18), (ax, ay + 13), (ax + 7, ay + 18)], fill=_INK)
    draw.text((ax - 4, ay + 19), "N", fill=_INK, font=_font(12))

    # Legend.
    lx, ly = pad + map_w + pad, head_h
    cell_ha = grid.cell_area_ha
    font = _font(13)
    draw.text((lx, ly), "Legend", fill=_INK, font=_font(15))
    ly += 26
    entries: list[tuple[tuple[int, int, int], str, str]] = []
    if discrete:
        for colour, v in zip(colours[::-1], levels[::-1], strict=True):
            ha = float((full_res == v).sum()) * cell_ha
            entries.append(((int(colour[0]), int(colour[1]), int(colour[2])), _fmt(v), _area(ha)))
    elif len(levels):
        bar_h = 160
        ramp = _ramp(np.linspace(1.0, 0.0, bar_h))[:, None, :].repeat(22, axis=1)
        canvas.paste(Image.fromarray(ramp, "RGB"), (lx, ly))
        draw.rectangle((lx, ly, lx + 21, ly + bar_h - 1), outline=_MUTED)
        for t in np.linspace(0, 1, 5):
            y = ly + (1 - t) * (bar_h - 1)
            draw.line((lx + 22, y, lx + 27, y), fill=_INK)
            draw.text((lx + 31, y - 7), _fmt(lo + t * (hi - lo)), fill=_INK, font=font)
        ly += bar_h + 10
    unsprayed_ha = float((rates == 0).sum()) * cell_ha
    entries.append((_UNSPRAYED, "0 (not sprayed)", _area(unsprayed_ha)))
    for colour, text, area in entries:
        draw.rectangle((lx, ly, lx + 21, ly + 15), fill=colour, outline=_MUTED)
        draw.text((lx + 30, ly), text, fill=_INK, font=font)
        draw.text((lx + legend_w - 12, ly), area, fill=_MUTED, font=font, anchor="ra")
        ly += 22
    draw.rectangle((lx, ly + 4, lx + 21, ly + 19), fill=_OUTSIDE, outline=_MUTED)
    draw.text((lx + 30, ly + 4), "outside field", fill=_INK, font=font)
    ly += 34
    for k, text in enumerate(_summary_lines(rates, per_canonical, unit, cell_ha)):
        draw.text((lx, ly + 18 * k), text, fill=_MUTED, font=_font(12))
    return canvas


def _summary_lines(rates: np.ndarray, per_canonical: float, unit: str, cell_ha: float) -> list[str]:
    treated = float((rates > 0).sum()) * cell_ha
    field = float((~np.isnan(rates)).sum()) * cell_ha
    lines = [f"sprayed {treated:.2f} of {field:.2f} ha ({100 * treated / max(field, 1e-12):.0f}%)"]
    if treated:
        mean = float(np.nanmean(rates[rates > 0])) * per_canonical
        lines.append(f"mean rate where sprayed: {_fmt(mean)} {unit}")
    return lines


def render_png(job: ExportJob, terminal: Terminal, *, unit: str = "label") -> ExportFile:
    """One panel per product, side by side, legend values in the label's unit."""
    pres = job.prescription
    outline = reproject(job.field_boundary_wgs84, "EPSG:4326", pres.grid.crs)
    notes: list[str] = []
    panels = []
    for k, product in enumerate(pres.products):
        shown = display_unit(product, unit)
        if shown.note:
            notes.append(shown.note)
        title = f"{job.field_name} - {product.name}"
        panels.append(_panel(pres.rates[k], pres.grid, outline, title, shown.unit, shown.per_canonical))
    width = sum(p.width for p in panels)
    height = max(p.height for p in panels)
    out = Image.new("RGB", (width, height), (255, 255, 255))
    x = 0
    for p in panels:
        out.paste(p, (x, 0))
        x += p.width
    buf = io.BytesIO()
    out.save(buf, format="PNG", optimize=True)
    stats = {"width": width, "height": height, "bytes_unzipped": buf.tell(), "crs": pres.grid.crs,
             "zones": None, "vertices": None}
    return ExportFile(f"{file_stem(job.field_name)}_preview.png", "image/png", buf.getvalue(), notes, stats)
