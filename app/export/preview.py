"""A PNG preview of the prescription: coloured rates, legend in label units, scale bar, outline.

Colours are the web map's (``app.export.palette``): a rate has the same colour
in both, unsprayed cells are grey and no-spray buffers hatched red, so a buffer
never reads as "no weeds here". Text is set in DejaVu Sans, vendored in
``app/export/fonts`` (Bitstream Vera licence, beside it) so accented field and
crop names ("Prés", "maïs") render on any machine without system fonts. Words
come from the locale files (en, fr, de); areas are in acres for US customary.
"""

from __future__ import annotations

import io
import math
import warnings
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from shapely.geometry.base import BaseGeometry

from app.advice.locales import LANGS, locale_data
from app.advice.number_format import format_number, format_percent
from app.domain.units import ACRE_IN_HA
from app.dosing.grid import GridSpec
from app.export.job import ExportError, ExportFile, ExportJob
from app.export.names import file_stem
from app.export.palette import BUFFER_FILL, BUFFER_LINE, RATE_RAMP, UNSPRAYED_COLOUR, rgb
from app.export.terminals import Terminal
from app.export.zones import display_unit
from app.geo import reproject

FONT_PATH = Path(__file__).resolve().parent / "fonts" / "DejaVuSans.ttf"
_RAMP = np.array([rgb(c) for c in RATE_RAMP], dtype=np.uint8)
_UNSPRAYED = rgb(UNSPRAYED_COLOUR)
_BUFFER = rgb(BUFFER_FILL)
_BUFFER_LINE = rgb(BUFFER_LINE)
_OUTSIDE = (255, 255, 255)
_INK = (33, 37, 41)
_MUTED = (108, 117, 125)
MAP_PX = 640


@cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_PATH), size=size)


def font_has_glyphs(text: str) -> bool:
    """Whether the PNG font draws every character of ``text`` (no empty boxes).

    >>> font_has_glyphs("Prés du Ru de Vaux, maïs, Weißer Gänsefuß")
    True
    """
    font = _font(24)
    # U+10FFFD (plane-16 private use) is in no font: FreeType draws the font's "missing" box for it.
    missing = font.getmask("\U0010fffd")
    missing_key = (missing.size, bytes(missing))
    for ch in set(text) - {" ", "\u00a0", "\u202f"}:
        mask = font.getmask(ch)
        if (mask.size, bytes(mask)) == missing_key:
            return False
    return True


def _nice_length(max_m: float) -> float:
    """The largest 1, 2 or 5 x 10^n metres not above ``max_m``."""
    exp = 10 ** math.floor(math.log10(max_m))
    return max(m * exp for m in (1, 2, 5) if m * exp <= max_m)


class _Words:
    """The PNG's words and numbers in one language and unit system."""

    def __init__(self, lang: str, units: str) -> None:
        if lang not in LANGS:
            raise ExportError(f"unknown lang {lang!r}; valid languages: {', '.join(LANGS)}")
        if units not in ("metric", "us"):
            raise ExportError(f"unknown units {units!r}; valid unit systems: metric, us")
        self.lang, self.us = lang, units == "us"
        self.map: dict[str, str] = locale_data(lang)["map"]
        self.t: dict[str, str] = locale_data(lang)["templates"]

    def num(self, v: float, decimals: int = 2) -> str:
        return format_number(v, self.lang, decimals)

    def rate(self, v: float) -> str:
        if v == 0:
            return "0"
        digits = max(0, 2 - math.floor(math.log10(abs(v))))
        return self.num(v, min(digits, 4))

    def area(self, ha: float) -> str:
        if self.us:
            return f"{self.num(ha / ACRE_IN_HA)} {self.t['acres']}"
        return f"{self.num(ha * 10_000, 0)} m²" if ha < 0.1 else f"{self.num(ha)} ha"

    def length(self, m: float) -> str:
        return f"{self.num(m, 0)} m" if m < 1000 else f"{self.num(m / 1000, 1)} km"


def _downsample_max(a: np.ndarray, f: int) -> np.ndarray:
    """Block maximum, so a one-cell patch stays visible when zoomed out; NaN only where all are."""
    rows, cols = a.shape
    pr, pc = (-rows) % f, (-cols) % f
    padded = np.pad(a, ((0, pr), (0, pc)), constant_values=np.nan)
    blocks = padded.reshape(padded.shape[0] // f, f, padded.shape[1] // f, f)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN blocks (outside the field) stay NaN
        return np.nanmax(blocks, axis=(1, 3))


def _hatch(size: tuple[int, int], spacing: int = 6) -> Image.Image:
    """A diagonal-line mask (mode L): the buffer fill, so it never reads as a flat "not sprayed" grey."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    lines = ((xx + yy) % spacing) < 3
    return Image.fromarray(np.where(lines, 255, 140).astype(np.uint8), "L")


def _panel(rates: np.ndarray, grid: GridSpec, outline_m: BaseGeometry, buffers_m: BaseGeometry | None,
           title: str, unit: str, per_canonical: float, max_rate_canonical: float, words: _Words) -> Image.Image:
    shown = rates.astype(np.float64) * per_canonical
    full_res = shown
    f = max(1, math.ceil(max(grid.n_rows, grid.n_cols) / MAP_PX))
    if f > 1:
        shown = _downsample_max(shown, f)
    zoom = max(1, MAP_PX // max(shown.shape))
    px_m = grid.cell_size_m * f / zoom  # metres per screen pixel

    # The map's colours: the ramp step of each rate's share of the label maximum.
    max_label = max_rate_canonical * per_canonical
    pos_mask = shown > 0
    steps = np.zeros(shown.shape, dtype=np.int64)
    if max_label > 0:
        frac = np.clip(np.where(pos_mask, shown, 0.0) / max_label, 0.0, 1.0)
        steps = np.rint(frac * (len(_RAMP) - 1)).astype(np.int64)
    rgb_img = np.empty((*shown.shape, 3), dtype=np.uint8)
    rgb_img[:] = _OUTSIDE
    rgb_img[shown == 0] = _UNSPRAYED
    rgb_img[pos_mask] = _RAMP[steps[pos_mask]]
    img = Image.fromarray(rgb_img, "RGB").resize((shown.shape[1] * zoom, shown.shape[0] * zoom),
                                                 Image.Resampling.NEAREST)

    map_w, map_h = img.size
    pad, legend_w, head_h, foot_h = 16, 270, 52, 44
    canvas = Image.new("RGB", (pad + map_w + pad + legend_w, head_h + map_h + foot_h), (255, 255, 255))
    canvas.paste(img, (pad, head_h))
    draw = ImageDraw.Draw(canvas)
    draw.text((pad, 8), title, fill=_INK, font=_font(17))
    draw.text((pad, 31), f"{words.map['rate']} ({unit})", fill=_MUTED, font=_font(12))

    def to_px(xy: np.ndarray) -> list[tuple[float, float]]:
        return [(pad + (x - grid.x0_m) / px_m, head_h + (grid.y0_m - y) / px_m) for x, y in xy]

    def polygons(geom: BaseGeometry) -> list[BaseGeometry]:
        return [g for g in getattr(geom, "geoms", [geom]) if g.geom_type == "Polygon" and not g.is_empty]

    # No-spray buffers: hatched red over the map, outlined, clipped to the map area.
    buffer_ha = 0.0
    if buffers_m is not None and not buffers_m.is_empty:
        mask = Image.new("L", canvas.size, 0)
        mdraw = ImageDraw.Draw(mask)
        for poly in polygons(buffers_m):
            mdraw.polygon(to_px(np.asarray(poly.exterior.coords)), fill=255)
            for ring in poly.interiors:
                mdraw.polygon(to_px(np.asarray(ring.coords)), fill=0)
        clip = Image.new("L", canvas.size, 0)
        ImageDraw.Draw(clip).rectangle((pad, head_h, pad + map_w - 1, head_h + map_h - 1), fill=255)
        weight = (np.asarray(mask, dtype=np.uint32) * np.asarray(_hatch(canvas.size), dtype=np.uint32)
                  * np.asarray(clip, dtype=np.uint32)) // (255 * 255)
        alpha = Image.fromarray(weight.astype(np.uint8), "L")
        canvas.paste(Image.new("RGB", canvas.size, _BUFFER), (0, 0), alpha)
        for poly in polygons(buffers_m):
            for ring in (poly.exterior, *poly.interiors):
                # 2 px: a 5 m strip is a few pixels wide and must not vanish into the field outline
                draw.line(to_px(np.asarray(ring.coords)), fill=_BUFFER_LINE, width=2)
        buffer_ha = float(buffers_m.area) / 10_000.0

    for poly in polygons(outline_m):
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
    draw.text((x0 + bar_px + 8, y0 - 4), words.length(length_m), fill=_INK, font=_font(12))

    # North arrow in the header above the legend column: never over the field or the title (north-up grid).
    ax, ay = canvas.width - 20, 8
    draw.polygon([(ax, ay), (ax - 7, ay + 18), (ax, ay + 13), (ax + 7, ay + 18)], fill=_INK)
    draw.text((ax - 22, ay + 3), words.map["north"], fill=_INK, font=_font(13))

    # Legend: one row per ramp step used, with its rate range and area.
    lx, ly = pad + map_w + pad, head_h
    cell_ha = grid.cell_area_ha
    font = _font(12)
    draw.text((lx, ly), words.map["legend"], fill=_INK, font=_font(15))
    ly += 26
    entries: list[tuple[tuple[int, int, int], str, str]] = []
    full_pos = full_res > 0
    if full_pos.any() and max_label > 0:
        full_steps = np.rint(np.clip(full_res[full_pos] / max_label, 0, 1) * (len(_RAMP) - 1)).astype(int)
        values = full_res[full_pos]
        for step in sorted(set(full_steps.tolist()), reverse=True):
            sel = full_steps == step
            lo_v, hi_v = float(values[sel].min()), float(values[sel].max())
            text = words.rate(hi_v) if words.rate(lo_v) == words.rate(hi_v) else \
                f"{words.rate(lo_v)}–{words.rate(hi_v)}"
            colour = (int(_RAMP[step][0]), int(_RAMP[step][1]), int(_RAMP[step][2]))
            entries.append((colour, text, words.area(float(sel.sum()) * cell_ha)))
    unsprayed_ha = max(float((rates == 0).sum()) * cell_ha - buffer_ha, 0.0)
    entries.append((_UNSPRAYED, f"0 ({words.map['not_sprayed'].lower()})", words.area(unsprayed_ha)))
    for colour, text, area in entries:
        draw.rectangle((lx, ly, lx + 21, ly + 15), fill=colour, outline=_MUTED)
        draw.text((lx + 30, ly), text, fill=_INK, font=font)
        draw.text((lx + legend_w - 12, ly), area, fill=_MUTED, font=font, anchor="ra")
        ly += 22
    if buffer_ha > 0:
        canvas.paste(Image.new("RGB", (22, 16), _BUFFER), (lx, ly), _hatch((22, 16)))
        draw.rectangle((lx, ly, lx + 21, ly + 15), outline=_BUFFER_LINE)
        draw.text((lx + 30, ly), words.map["buffer"], fill=_INK, font=font)
        draw.text((lx + legend_w - 12, ly), words.area(buffer_ha), fill=_MUTED, font=font, anchor="ra")
        ly += 22
    ly += 12
    for k, text in enumerate(_summary_lines(rates, per_canonical, unit, cell_ha, words)):
        draw.text((lx, ly + 18 * k), text, fill=_MUTED, font=font)
    return canvas


def _summary_lines(rates: np.ndarray, per_canonical: float, unit: str, cell_ha: float,
                   words: _Words) -> list[str]:
    treated = float((rates > 0).sum()) * cell_ha
    field = float((~np.isnan(rates)).sum()) * cell_ha
    share = format_percent(100 * treated / max(field, 1e-12), words.lang)
    lines = [f"{words.map['area']}: {words.area(treated)} / {words.area(field)} ({share})"]
    if treated:
        mean = float(np.nanmean(rates[rates > 0])) * per_canonical
        lines.append(f"Ø {words.rate(mean)} {unit}")
    return lines


def render_png(job: ExportJob, terminal: Terminal, *, unit: str = "label", lang: str = "en",
               units: str = "metric") -> ExportFile:
    """One panel per product, side by side, legend values in the label's unit.

    ``lang`` (en, fr, de) words the legend; ``units`` ("metric" or "us") gives
    areas in ha or acres. No-spray buffers (``job.no_spray_wgs84``) are hatched.
    """
    words = _Words(lang, units)
    pres = job.prescription
    outline = reproject(job.field_boundary_wgs84, "EPSG:4326", pres.grid.crs)
    buffers = None
    if job.no_spray_wgs84 is not None and not job.no_spray_wgs84.is_empty:
        buffers = reproject(job.no_spray_wgs84, "EPSG:4326", pres.grid.crs).intersection(outline)
    notes: list[str] = []
    panels = []
    for k, product in enumerate(pres.products):
        shown = display_unit(product, unit)
        if shown.note:
            notes.append(shown.note)
        title = f"{job.field_name} – {product.name}"
        panels.append(_panel(pres.rates[k], pres.grid, outline, buffers, title, shown.unit, shown.per_canonical,
                             product.max_rate, words))
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
