"""What a sprayer can do: sections, flow range, rate levels, tank."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class SprayerProfile:
    """A sprayer's physical limits, lengths in metres.

    ``turndown_ratio`` is the highest over the lowest rate the nozzles can
    deliver at one speed (PWM about 5, standard nozzles about 2).
    ``rate_levels`` are the discrete rates (canonical unit) the controller can
    set; empty means continuous. ``carrier_l_ha`` is the spray volume (water
    plus product) per hectare, used for tank loads.
    """

    boom_width_m: float = 36.0
    section_width_m: float = 0.5
    along_track_m: float = 0.5
    patch_buffer_m: float = 0.5
    min_patch_m2: float = 0.0
    turndown_ratio: float = 5.0
    rate_levels: tuple[float, ...] = ()
    tank_l: float = 3000.0
    carrier_l_ha: float = 150.0

    def __post_init__(self) -> None:
        for name in ("boom_width_m", "section_width_m", "along_track_m", "tank_l", "carrier_l_ha"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.patch_buffer_m < 0 or self.min_patch_m2 < 0:
            raise ValueError("patch_buffer_m and min_patch_m2 must not be negative")
        if not self.turndown_ratio >= 1:
            raise ValueError(f"turndown_ratio must be >= 1, got {self.turndown_ratio}")
        if any(r <= 0 for r in self.rate_levels):
            raise ValueError("rate_levels must be positive")


@dataclass
class SprayerMapping:
    """A dose-scale grid laid onto sprayer blocks, and what the mapping changed.

    ``blocks[i, j]`` is the dose scale of the block covering cell rows
    ``i*rows_per_block ...`` and columns ``j*cols_per_block ...`` (columns padded
    to whole boom passes). Counts are in blocks.
    """

    blocks: np.ndarray
    rows_per_block: int
    cols_per_block: int
    buffer_blocks: tuple[int, int] = (0, 0)
    patches_enlarged: int = 0
    turndown_raised: int = 0
    level_capped: int = 0
    notes: list[str] = field(default_factory=list)


def block_shape(sprayer: SprayerProfile, cell_size_m: float) -> tuple[int, int]:
    """Cells per sprayer block (along track = rows, across = columns), at least 1.

    Travel is assumed along grid columns (north-south), so a boom section
    spans columns and the along-track resolution spans rows. Sizes are rounded
    to whole cells: a grid cannot resolve less than one cell.

    Examples
    --------
    >>> block_shape(SprayerProfile(section_width_m=0.5, along_track_m=1.0), 0.25)
    (4, 2)
    >>> block_shape(SprayerProfile(section_width_m=0.25, along_track_m=0.25), 0.5)
    (1, 1)
    """
    fr = max(1, round(sprayer.along_track_m / cell_size_m))
    fc = max(1, round(sprayer.section_width_m / cell_size_m))
    return fr, fc


def aggregate_blocks(cells: np.ndarray, fr: int, fc: int, n_cols_blocks: int) -> np.ndarray:
    """Maximum of ``cells`` (rows and columns multiples of ``fr``/``fc``) per block.

    The result has ``n_cols_blocks`` columns (>= cells' columns / fc), zero padded.

    Examples
    --------
    >>> a = np.arange(16, dtype=np.float32).reshape(4, 4)
    >>> aggregate_blocks(a, 2, 2, 3).tolist()
    [[5.0, 7.0, 0.0], [13.0, 15.0, 0.0]]
    """
    rows, cols = cells.shape
    out = np.zeros((rows // fr, n_cols_blocks), dtype=np.float32)
    view = out[:, : cols // fc]
    # Strided maxima: one vectorised pass per offset inside a block.
    step = max(1, (1 << 20) // max(cols, 1)) * fr
    for r0 in range(0, rows, step):
        src = cells[r0:r0 + step]
        dst = view[r0 // fr:(r0 + step) // fr]
        tmp = src[:, 0::fc].copy() if fc > 1 else src.copy()
        for j in range(1, fc):
            np.maximum(tmp, src[:, j::fc], out=tmp)
        np.copyto(dst, tmp[0::fr])
        for i in range(1, fr):
            np.maximum(dst, tmp[i::fr], out=dst)
    return out


def _snap_up(blocks: np.ndarray, legal: np.ndarray) -> int:
    """Snap positive blocks up to the next legal level in place; return how many were capped."""
    pos = blocks > 0
    # A float32 dose equal to a level up to rounding must not jump a level.
    idx = np.searchsorted(legal, blocks * np.float32(1 - 4e-7), side="left")
    over = pos & (idx >= len(legal))
    np.minimum(idx, len(legal) - 1, out=idx)
    np.copyto(blocks, legal[idx], where=pos)
    return int(np.count_nonzero(over))


def map_to_sprayer(blocks: np.ndarray, sprayer: SprayerProfile, *, rows_per_block: int,
                   cols_per_block: int, cell_size_m: float, lam_min: float,
                   levels_scale: np.ndarray | None = None) -> SprayerMapping:
    """Apply a sprayer's limits to per-block dose scales (modified in place).

    In order: patch buffer (a block takes the highest dose within
    ``patch_buffer_m``, separable max filter), ``min_patch_m2`` (smaller
    patches are stretched along track), snapping up to ``levels_scale`` (legal
    levels only: a block needing more than the highest gets the highest, and
    is counted), then the turndown floor per boom pass (sections spraying
    below ``boom max / turndown_ratio`` are raised to it, and to ``lam_min``).
    Blocks at 0 stay 0 unless a buffer or a stretch covers them; the caller
    masks non-sprayable cells afterwards.

    Examples
    --------
    >>> b = np.zeros((5, 5), dtype=np.float32); b[2, 2] = 1.0
    >>> m = map_to_sprayer(b, SprayerProfile(patch_buffer_m=0.5, boom_width_m=2.5,
    ...     section_width_m=0.5, along_track_m=0.5), rows_per_block=1, cols_per_block=1,
    ...     cell_size_m=0.5, lam_min=0.5)
    >>> int((m.blocks > 0).sum())
    9
    """
    from scipy import ndimage

    along_m, across_m = rows_per_block * cell_size_m, cols_per_block * cell_size_m
    mapping = SprayerMapping(blocks=blocks, rows_per_block=rows_per_block, cols_per_block=cols_per_block)
    kr = math.ceil(sprayer.patch_buffer_m / along_m - 1e-9)
    kc = math.ceil(sprayer.patch_buffer_m / across_m - 1e-9)
    mapping.buffer_blocks = (kr, kc)
    tmp = np.empty_like(blocks) if (kr or kc) else blocks
    if kr:
        ndimage.maximum_filter1d(blocks, 2 * kr + 1, axis=0, output=tmp, mode="constant", cval=0.0)
    if kc:
        ndimage.maximum_filter1d(tmp if kr else blocks, 2 * kc + 1, axis=1, output=blocks,
                                 mode="constant", cval=0.0)
    elif kr:
        np.copyto(blocks, tmp)

    block_m2 = along_m * across_m
    if sprayer.min_patch_m2 > block_m2:
        labels, n = ndimage.label(blocks > 0, structure=np.ones((3, 3), dtype=bool))
        if n:
            sizes = np.bincount(labels.ravel())
            small = sizes * block_m2 < sprayer.min_patch_m2
            small[0] = False
            if small.any():
                mapping.patches_enlarged = int(small.sum())
                need_rows = math.ceil(sprayer.min_patch_m2 / block_m2)
                k = math.ceil((need_rows - 1) / 2)
                short = np.where(small[labels], blocks, np.float32(0))
                ndimage.maximum_filter1d(short, 2 * k + 1, axis=0, output=short, mode="constant")
                np.maximum(blocks, short, out=blocks)

    legal = None
    if levels_scale is not None and len(levels_scale):
        legal = np.asarray(levels_scale, dtype=np.float32)
        mapping.level_capped = _snap_up(blocks, legal)

    nb = max(1, round(sprayer.boom_width_m / across_m))
    if sprayer.turndown_ratio < math.inf and blocks.shape[1] % nb == 0:
        view = blocks.reshape(blocks.shape[0], -1, nb)
        floor = view.max(axis=2, keepdims=True)
        floor /= np.float32(sprayer.turndown_ratio)
        np.maximum(floor, np.float32(lam_min), out=floor)
        low = (view > 0) & (view < floor * np.float32(1 - 4e-7))
        mapping.turndown_raised = int(np.count_nonzero(low))
        if mapping.turndown_raised:
            np.copyto(view, np.broadcast_to(floor, view.shape), where=low)
            if legal is not None:
                mapping.level_capped += _snap_up(blocks, legal)
    return mapping
