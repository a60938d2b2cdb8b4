"""Chunk kernels of the dosing step: one small object per strategy, plus the emitter.

A kernel works on a band of grid rows ``[r0, r1)`` at a time, so its working
set (a few float32 rows of ``_CHUNK_CELLS`` cells) stays in cache. Each kernel
*declares* the scratch arrays it needs (:class:`ScratchSpec`: name, dtype and
width), gets one set per worker thread from :func:`run_chunks`, and returns a
typed statistics object for its chunk; the chunks' statistics are combined by
that type's own ``merge``. Nothing in here allocates per chunk.

Kernels write the dose scale into a shared ``scale`` array (cells x scale =
rate of each product, see :mod:`app.dosing.mixture`); different threads own
different row bands, so they never write the same cell.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol, Self, TypeVar

import numpy as np

from app.dosing.mixture import TankMix
from app.dosing.yield_loss import cousens_yield_loss_pct

_CHUNK_CELLS = 1 << 16   # ~256 KB per float32 buffer: a chunk's working set stays in L2


# --------------------------------------------------------------------------- scratch and running


@dataclass(frozen=True)
class ScratchSpec:
    """One scratch array of a kernel: ``rows_per_chunk x width`` of ``dtype``.

    ``width`` ``None`` means the grid's number of columns.
    """

    name: str
    dtype: type[np.generic]
    width: int | None = None


Scratch = dict[str, np.ndarray]


class ChunkStats(Protocol):
    """Statistics of one chunk, combinable across chunks and threads."""

    def merge(self, other: Self) -> Self: ...


S = TypeVar("S", bound=ChunkStats)
S_co = TypeVar("S_co", bound=ChunkStats, covariant=True)


class ChunkKernel(Protocol[S_co]):
    """A kernel: the scratch it needs, an empty statistic, and the work on rows ``[r0, r1)``."""

    def scratch(self) -> Sequence[ScratchSpec]: ...

    def empty(self) -> S_co: ...

    def __call__(self, r0: int, r1: int, scratch: Scratch) -> S_co: ...


def _bands(n_rows: int, align: int, n_threads: int) -> list[tuple[int, int]]:
    blocks = -(-n_rows // align)
    per = -(-blocks // n_threads)
    return [(b * align, min((b + per) * align, n_rows)) for b in range(0, blocks, per)]


def run_chunks(kernel: ChunkKernel[S], n_rows: int, n_cols: int, *, align: int, threads: int) -> S:
    """Run ``kernel`` over row chunks (multiples of ``align`` rows), one band per thread; merge the stats."""
    step = max(align, (_CHUNK_CELLS // max(n_cols, 1)) // align * align)
    specs = kernel.scratch()

    def band(r0: int, r1: int) -> S:
        scratch = {s.name: np.empty((step, n_cols if s.width is None else s.width), dtype=s.dtype)
                   for s in specs}
        acc = kernel.empty()
        with np.errstate(all="ignore"):
            for c0 in range(r0, r1, step):
                acc = acc.merge(kernel(c0, min(c0 + step, r1), scratch))
        return acc

    spans = _bands(n_rows, align, threads)
    if len(spans) == 1:
        parts = [band(*spans[0])]
    else:
        with ThreadPoolExecutor(max_workers=len(spans)) as pool:
            parts = list(pool.map(lambda s: band(*s), spans))
    total = kernel.empty()
    for part in parts:
        total = total.merge(part)
    return total


# --------------------------------------------------------------------------- dose kernels


@dataclass(frozen=True)
class DoseStats:
    """Counts from the dose step (cells)."""

    cells_target_unreached: int = 0
    cells_below_min: int = 0
    cells_raised_to_floor: int = 0

    def merge(self, other: DoseStats) -> DoseStats:
        return DoseStats(self.cells_target_unreached + other.cells_target_unreached,
                         self.cells_below_min + other.cells_below_min,
                         self.cells_raised_to_floor + other.cells_raised_to_floor)


_F32 = np.float32
_BOOL = np.bool_


@dataclass
class DoseContext:
    """What every dose kernel reads: the densities, where spraying is allowed, the label range.

    ``scale`` is the output (dose scale per cell, float32), written row band by row band.
    """

    densities: Sequence[np.ndarray]
    species: Sequence[str]
    sprayable: np.ndarray
    scale: np.ndarray
    scale_min: float
    scale_max: float
    scale_ref: float
    raise_to_min: bool
    presence_plants_m2: float = 0.0
    floors: Sequence[tuple[int, float]] = ()
    """Resistance floors: (species index, lowest scale a sprayed cell with that species present may get)."""


class _DoseKernel:
    """Common part: the label range and min-rate rule applied to a chunk's doses."""

    needs: tuple[ScratchSpec, ...] = ()

    def __init__(self, ctx: DoseContext) -> None:
        self.ctx = ctx
        self._min32 = _F32(ctx.scale_min)
        self._max32 = _F32(ctx.scale_max)

    def scratch(self) -> Sequence[ScratchSpec]:
        return (*self.needs, ScratchSpec("not_sprayable", _BOOL), ScratchSpec("flag", _BOOL))

    def empty(self) -> DoseStats:
        return DoseStats()

    def _raise_to_floors(self, r0: int, r1: int, out: np.ndarray, scratch: Scratch) -> int:
        """Sprayed cells where a floored species is present get at least its floor; returns the cells raised."""
        n = r1 - r0
        raised = 0
        for j, floor in self.ctx.floors:
            low = np.less(out, _F32(floor), out=scratch["flag"][:n])
            low &= np.greater(out, 0.0, out=scratch["not_sprayable"][:n])
            low &= np.greater(self.ctx.densities[j][r0:r1], _F32(self.ctx.presence_plants_m2),
                              out=scratch["not_sprayable"][:n])
            k = int(np.count_nonzero(low))
            if k:
                np.copyto(out, _F32(floor), where=low)
                raised += k
        return raised

    def _within_label(self, r0: int, r1: int, out: np.ndarray, scratch: Scratch) -> DoseStats:
        """Raise to resistance floors, zero unsprayable cells, cap at the label maximum, apply the
        min-rate rule; count what changed."""
        raised = self._raise_to_floors(r0, r1, out, scratch) if self.ctx.floors else 0
        n = r1 - r0
        not_sprayable = np.logical_not(self.ctx.sprayable[r0:r1], out=scratch["not_sprayable"][:n])
        np.copyto(out, 0.0, where=not_sprayable)
        over = np.greater(out, self._max32, out=scratch["flag"][:n])
        unreached = int(np.count_nonzero(over))
        np.minimum(out, self._max32, out=out)
        below = np.less(out, self._min32, out=scratch["flag"][:n])
        below &= np.greater(out, 0.0, out=scratch["not_sprayable"][:n])
        n_below = int(np.count_nonzero(below))
        if n_below:
            np.copyto(out, self._min32 if self.ctx.raise_to_min else _F32(0.0), where=below)
        return DoseStats(unreached, n_below, raised)


class BroadcastKernel(_DoseKernel):
    """The reference scale on every sprayable cell."""

    def scratch(self) -> Sequence[ScratchSpec]:
        return ()

    def __call__(self, r0: int, r1: int, scratch: Scratch) -> DoseStats:
        np.multiply(self.ctx.sprayable[r0:r1], _F32(self.ctx.scale_ref), out=self.ctx.scale[r0:r1])
        return DoseStats()


class ThresholdKernel(_DoseKernel):
    """The reference scale where the total density reaches the threshold (and is above 0)."""

    def __init__(self, ctx: DoseContext, threshold_plants_m2: float) -> None:
        super().__init__(ctx)
        self.threshold_plants_m2 = threshold_plants_m2

    def scratch(self) -> Sequence[ScratchSpec]:
        return (ScratchSpec("total_density", _F32), ScratchSpec("density", _F32),
                ScratchSpec("hit", _BOOL), ScratchSpec("positive", _BOOL))

    def __call__(self, r0: int, r1: int, scratch: Scratch) -> DoseStats:
        n = r1 - r0
        total, density = scratch["total_density"][:n], scratch["density"][:n]
        total[...] = 0.0
        for d in self.ctx.densities:
            np.fmax(d[r0:r1], 0.0, out=density)
            total += density
        hit = np.greater_equal(total, _F32(self.threshold_plants_m2), out=scratch["hit"][:n])
        hit &= np.greater(total, 0.0, out=scratch["positive"][:n])
        hit &= self.ctx.sprayable[r0:r1]
        np.multiply(hit, _F32(self.ctx.scale_ref), out=self.ctx.scale[r0:r1])
        return DoseStats()


class TargetEfficacyKernel(_DoseKernel):
    """The scale the hardest present species needs for a control level rising with its density.

    Control required at density ``N``: ``target - (target - min) * h / (N + h)``.
    """

    needs = (ScratchSpec("control", _F32), ScratchSpec("need", _F32),
             ScratchSpec("work_a", _F32), ScratchSpec("work_b", _F32), ScratchSpec("present", _BOOL))

    def __init__(self, ctx: DoseContext, mix: TankMix, *, control_target: float, control_min: float,
                 half_density_plants_m2: float, presence_plants_m2: float) -> None:
        super().__init__(ctx)
        self.mix = mix
        self.control_target = control_target
        self.control_span = control_target - control_min
        self.half_density_plants_m2 = half_density_plants_m2
        self.presence_plants_m2 = presence_plants_m2

    def __call__(self, r0: int, r1: int, scratch: Scratch) -> DoseStats:
        n = r1 - r0
        out = self.ctx.scale[r0:r1]
        control, need = scratch["control"][:n], scratch["need"][:n]
        work = (scratch["work_a"][:n], scratch["work_b"][:n])
        present = scratch["present"][:n]
        h = _F32(self.half_density_plants_m2)
        out[...] = 0.0
        for code, d in zip(self.ctx.species, self.ctx.densities, strict=True):
            density = d[r0:r1]
            np.greater(density, self.presence_plants_m2, out=present)
            if not present.any():
                continue
            # control = target - span * h / (N + h): non-decreasing in N, exactly, in float32
            np.add(density, h, out=control)
            np.divide(h, control, out=control)
            control *= _F32(-self.control_span)
            control += _F32(self.control_target)
            self.mix.scale_for_control(code, control, out=need, work=work)
            np.maximum(out, need, out=out, where=present)
        return self._within_label(r0, r1, out, scratch)


@dataclass(frozen=True)
class EconomicCandidate:
    """One dose scale tried by :class:`EconomicKernel`.

    ``cost_per_ha`` is the herbicide and application cost of the scale;
    ``survival`` the surviving fraction of each species after it.
    """

    scale: float
    cost_per_ha: float
    survival: tuple[np.float32, ...]


@dataclass(frozen=True)
class SpeciesCost:
    """Per species constants of the economic objective (see :mod:`app.dosing.economics`).

    ``i_pct`` and ``i_over_a`` are Cousens ``I`` and ``I / A``; ``seed_cost_per_plant``
    is ``f * seed_cost`` (currency/ha per surviving plant/m² at low density) and
    ``seed_density_a_m2`` the ``a`` of the hyperbolic seed rain.
    """

    i_pct: float
    i_over_a: float
    seed_cost_per_plant: float = 0.0
    seed_density_a_m2: float = 0.0


class EconomicKernel(_DoseKernel):
    """Per cell, the candidate scale of least total cost: herbicide, application, yield lost, seeds returned.

    ``value_per_pct`` is the crop value (currency/ha) of 1 % yield. Yield loss by the
    multi-species Cousens hyperbola on the survivors; the seed term adds the discounted
    future cost of their seed rain. Ties keep the lower dose.
    """

    def __init__(self, ctx: DoseContext, *, species_cost: Sequence[SpeciesCost], value_per_pct: float,
                 candidates: Sequence[EconomicCandidate]) -> None:
        super().__init__(ctx)
        self.species_cost = list(species_cost)
        self.value_per_pct = value_per_pct
        self.candidates = list(candidates)

    def scratch(self) -> Sequence[ScratchSpec]:
        per_species = tuple(ScratchSpec(f"density_{j}", _F32) for j in range(len(self.ctx.species)))
        return (ScratchSpec("load", _F32), ScratchSpec("load_over_a", _F32), ScratchSpec("best_cost", _F32),
                ScratchSpec("cost", _F32), ScratchSpec("survivors", _F32), ScratchSpec("term", _F32),
                ScratchSpec("better", _BOOL), ScratchSpec("past_half", _BOOL), *per_species, *super().scratch())

    def _cost(self, density: Sequence[np.ndarray], survival: Sequence[np.float32] | None,
              scratch: Scratch, n: int, out: np.ndarray) -> None:
        """``out`` = value of yield lost + cost of seeds returned, for survivors ``density * survival``."""
        load, load_a = scratch["load"][:n], scratch["load_over_a"][:n]
        surv, term = scratch["survivors"][:n], scratch["term"][:n]
        load[...] = 0.0
        load_a[...] = 0.0
        out[...] = 0.0
        for j, sc in enumerate(self.species_cost):
            if survival is None:
                surv[...] = density[j]
            else:
                np.multiply(density[j], survival[j], out=surv)
            np.multiply(surv, _F32(sc.i_pct), out=term)
            load += term
            np.multiply(surv, _F32(sc.i_over_a), out=term)
            load_a += term
            if sc.seed_cost_per_plant > 0:
                if sc.seed_density_a_m2 > 0:       # seed rain f S / (1 + a S), tangent beyond a S = 1
                    v = surv * _F32(sc.seed_density_a_m2)
                    np.copyto(term, np.where(v > 1, (v + 1) / (4 * _F32(sc.seed_density_a_m2)), surv / (1 + v)))
                    term *= _F32(sc.seed_cost_per_plant)
                else:
                    np.multiply(surv, _F32(sc.seed_cost_per_plant), out=term)
                out += term
        # Yield loss L / (1 + u), u = sum I S / A; beyond u = 1 (half the maximum loss) the decision
        # follows the hyperbola's tangent, L (1 + u) / (4 u): without it the saturating loss makes a
        # denser patch "not worth" a dose a sparser one gets (see docs/AGRONOMY.md).
        past = np.greater(load_a, _F32(1.0), out=scratch["past_half"][:n])
        load_a += _F32(1.0)
        np.divide(load, load_a, out=term)
        if past.any():
            np.multiply(load, load_a, out=load, where=past)
            load_a -= _F32(1.0)
            load_a *= _F32(4.0)
            np.divide(load, load_a, out=term, where=past)
        term *= _F32(self.value_per_pct)
        out += term

    def __call__(self, r0: int, r1: int, scratch: Scratch) -> DoseStats:
        n = r1 - r0
        out = self.ctx.scale[r0:r1]
        best, cost = scratch["best_cost"][:n], scratch["cost"][:n]
        better = scratch["better"][:n]
        density = [scratch[f"density_{j}"][:n] for j in range(len(self.ctx.species))]
        any_weeds = False
        for j, d in enumerate(self.ctx.densities):
            np.fmax(d[r0:r1], 0.0, out=density[j])
            any_weeds = any_weeds or bool(density[j].any())
        out[...] = 0.0
        if not any_weeds:
            return DoseStats()
        self._cost(density, None, scratch, n, best)
        for cand in self.candidates:
            self._cost(density, cand.survival, scratch, n, cost)
            cost += _F32(cand.cost_per_ha)
            np.less(cost, best, out=better)
            np.copyto(best, cost, where=better)
            np.copyto(out, _F32(cand.scale), where=better)
        return self._within_label(r0, r1, out, scratch)


# --------------------------------------------------------------------------- emitting rates and totals


def _max(a: list[float], b: list[float]) -> list[float]:
    return [max(x, y) for x, y in zip(a, b, strict=True)]


def _add(a: list[float], b: list[float]) -> list[float]:
    return [x + y for x, y in zip(a, b, strict=True)]


@dataclass(frozen=True)
class EmitStats:
    """Totals over cells from the emit step; ``merge`` adds sums and keeps extremes.

    Per product ``k``: highest sprayed rate, lowest sprayed rate, highest rate in
    no-spray zones (canonical units). Per species ``j``: plants/m² summed over
    field cells untreated and killed. Yield losses (%) summed over field cells:
    untreated, as prescribed, and under broadcast at the reference scale.
    """

    treated_cells: int = 0
    scale_sum: float = 0.0
    max_rate: list[float] = field(default_factory=list)
    min_sprayed_rate: list[float] = field(default_factory=list)
    max_rate_in_zones: list[float] = field(default_factory=list)
    density_sum: list[float] = field(default_factory=list)
    killed_sum: list[float] = field(default_factory=list)
    yield_loss_untreated_sum: float = 0.0
    yield_loss_sum: float = 0.0
    yield_loss_broadcast_sum: float = 0.0

    @classmethod
    def empty(cls, n_products: int, n_species: int) -> EmitStats:
        return cls(max_rate=[0.0] * n_products, min_sprayed_rate=[math.inf] * n_products,
                   max_rate_in_zones=[0.0] * n_products, density_sum=[0.0] * n_species,
                   killed_sum=[0.0] * n_species)

    def merge(self, other: EmitStats) -> EmitStats:
        return EmitStats(
            treated_cells=self.treated_cells + other.treated_cells,
            scale_sum=self.scale_sum + other.scale_sum,
            max_rate=_max(self.max_rate, other.max_rate),
            min_sprayed_rate=[min(x, y) for x, y in zip(self.min_sprayed_rate, other.min_sprayed_rate,
                                                        strict=True)],
            max_rate_in_zones=_max(self.max_rate_in_zones, other.max_rate_in_zones),
            density_sum=_add(self.density_sum, other.density_sum),
            killed_sum=_add(self.killed_sum, other.killed_sum),
            yield_loss_untreated_sum=self.yield_loss_untreated_sum + other.yield_loss_untreated_sum,
            yield_loss_sum=self.yield_loss_sum + other.yield_loss_sum,
            yield_loss_broadcast_sum=self.yield_loss_broadcast_sum + other.yield_loss_broadcast_sum,
        )


@dataclass(frozen=True)
class BlockLayout:
    """Sprayer blocks on the grid: ``rows_per_block x cols_per_block`` cells each.

    ``block_rows x block_cols`` blocks cover the grid; the padded scale array is
    ``block_rows * rows_per_block`` by ``block_cols * cols_per_block`` cells.
    """

    rows_per_block: int
    cols_per_block: int
    block_rows: int
    block_cols: int


class EmitKernel:
    """Lays the blocks' scales back on cells, writes the rates, and totals weeds and yield loss.

    Reads ``blocks`` (scale per sprayer block), writes ``scale_padded`` (per cell) and
    ``rates[k]`` (float32, canonical units; NaN outside the field).
    """

    def __init__(self, *, blocks: np.ndarray, layout: BlockLayout, scale_padded: np.ndarray,
                 rates: np.ndarray, in_field: np.ndarray, sprayable: np.ndarray, mix: TankMix,
                 species: Sequence[str], densities: Sequence[np.ndarray], ref_rates: Sequence[float],
                 rate_caps: Sequence[np.float32], rate_floors: Sequence[np.float32],
                 species_cost: Sequence[SpeciesCost], scale_ref: float) -> None:
        self.blocks, self.layout = blocks, layout
        self.scale_padded = scale_padded
        n_rows, n_cols = in_field.shape
        self.scale = scale_padded[:n_rows, :n_cols]
        self.rates, self.in_field, self.sprayable = rates, in_field, sprayable
        self.mix, self.species, self.densities = mix, list(species), list(densities)
        self.ref32 = [_F32(r) for r in ref_rates]
        self.caps32, self.floors32 = list(rate_caps), list(rate_floors)
        # Yield loss sum_j I_j S_j / (1 + sum_j I_j S_j / A_j): with one A for all species
        # (the common case) it is Cousens on the load sum_j I_j S_j, one accumulator less.
        i_pct = [sc.i_pct for sc in species_cost]
        a_pct = {sc.i_pct / sc.i_over_a for sc in species_cost if sc.i_over_a > 0}
        self.common_a_pct = a_pct.pop() if len(a_pct) == 1 and all(sc.i_over_a > 0 for sc in species_cost) \
            else None
        if not species_cost:
            self.common_a_pct = 100.0
        k_ref = [1.0 - float(mix.survival(s, scale_ref)) for s in species]
        self.weights = [(_F32(sc.i_pct), _F32(sc.i_over_a)) for sc in species_cost]
        self.ref_killed = [(_F32(i_pct[j] * k_ref[j]), _F32(species_cost[j].i_over_a * k_ref[j]))
                           for j in range(len(species))]

    def scratch(self) -> Sequence[ScratchSpec]:
        lay = self.layout
        by_a = () if self.common_a_pct is not None else tuple(
            ScratchSpec(f"{name}_over_a", _F32) for name in ("load_untreated", "load_left", "load_broadcast"))
        return (ScratchSpec("density", _F32), ScratchSpec("term", _F32), ScratchSpec("load_untreated", _F32),
                ScratchSpec("load_left", _F32), ScratchSpec("load_broadcast", _F32), *by_a,
                ScratchSpec("sprayed", _BOOL), ScratchSpec("outside", _BOOL), ScratchSpec("zone", _BOOL),
                ScratchSpec("killed", _F32, width=lay.block_cols * lay.cols_per_block))

    def empty(self) -> EmitStats:
        return EmitStats.empty(len(self.ref32), len(self.species))

    def __call__(self, r0: int, r1: int, scratch: Scratch) -> EmitStats:
        n = r1 - r0
        fr, fc, cb = self.layout.rows_per_block, self.layout.cols_per_block, self.layout.block_cols
        n_cols = self.scale.shape[1]
        b0, b1 = r0 // fr, -(-r1 // fr)
        n_block_rows = b1 - b0
        blk = self.blocks[b0:b1, :cb]
        self.scale_padded[r0:r0 + n_block_rows * fr].reshape(n_block_rows, fr, cb, fc)[...] = \
            blk[:, None, :, None]
        sc = self.scale[r0:r1]
        spr, inf_ = self.sprayable[r0:r1], self.in_field[r0:r1]
        np.multiply(sc, spr, out=sc)
        sprayed = np.greater(sc, 0.0, out=scratch["sprayed"][:n])
        outside = np.logical_not(inf_, out=scratch["outside"][:n])
        zone = np.logical_not(spr, out=scratch["zone"][:n])
        zone &= inf_                                  # buffer zones and edge cells inside the field
        max_rate, min_rate, max_zone = [], [], []
        nan32 = _F32(np.nan)
        for k, (ref, cap, floor) in enumerate(zip(self.ref32, self.caps32, self.floors32, strict=True)):
            o = self.rates[k, r0:r1]
            np.multiply(sc, ref, out=o)
            np.minimum(o, cap, out=o)
            np.maximum(o, floor, out=o, where=sprayed)
            max_rate.append(float(o.max(initial=0.0, where=sprayed)))
            min_rate.append(float(o.min(initial=np.inf, where=sprayed)))
            max_zone.append(float(o.max(initial=0.0, where=zone)))
            np.copyto(o, nan32, where=outside)
        # weeds and yield loss: Cousens on the loads untreated, left, and left by broadcast
        killed_full, density, term = scratch["killed"], scratch["density"][:n], scratch["term"][:n]
        loads = [scratch[name][:n] for name in ("load_untreated", "load_left", "load_broadcast")]
        by_a = self.common_a_pct is None
        loads_a = [scratch[f"{name}_over_a"][:n] for name in ("load_untreated", "load_left", "load_broadcast")] \
            if by_a else []
        for arr in (*loads, *loads_a):
            arr[...] = 0.0
        killed = killed_full[:n, :n_cols]
        density_sum, killed_sum = [], []
        for j, s in enumerate(self.species):
            np.fmax(self.densities[j][r0:r1], 0.0, out=density)
            np.multiply(density, inf_, out=density)
            density_sum.append(float(density.sum()))
            kb = self.mix.survival(s, blk)
            np.subtract(_F32(1.0), kb, out=kb)
            killed_full[:n_block_rows * fr].reshape(n_block_rows, fr, cb, fc)[...] = kb[:, None, :, None]
            np.multiply(killed, spr, out=killed)
            np.multiply(killed, density, out=killed)
            killed_sum.append(float(killed.sum()))
            for m, acc in enumerate((loads, loads_a) if by_a else (loads,)):
                w, w_ref = self.weights[j][m], self.ref_killed[j][m]
                # killed load (turned into the load left below); the last pass may overwrite ``killed``
                np.multiply(killed, w, out=term if (m == 0 and by_a) else killed)
                acc[1] += term if (m == 0 and by_a) else killed
                np.multiply(density, w, out=term)
                acc[0] += term
                np.multiply(density, w_ref, out=term)
                acc[2] += term
        for acc in (loads, loads_a) if by_a else (loads,):
            np.multiply(acc[2], spr, out=acc[2])
            np.subtract(acc[0], acc[2], out=acc[2])
            np.subtract(acc[0], acc[1], out=acc[1])
        sums = []
        for m, load in enumerate(loads):
            if by_a:
                np.add(loads_a[m], _F32(1.0), out=term)
                np.divide(load, term, out=term)
            else:
                cousens_yield_loss_pct(load, 1.0, float(self.common_a_pct or 100.0), out=term)
            sums.append(float(term.sum()))
        return EmitStats(
            treated_cells=int(np.count_nonzero(sprayed)), scale_sum=float(sc.sum(dtype=np.float32)),
            max_rate=max_rate, min_sprayed_rate=min_rate, max_rate_in_zones=max_zone,
            density_sum=density_sum, killed_sum=killed_sum, yield_loss_untreated_sum=sums[0],
            yield_loss_sum=sums[1], yield_loss_broadcast_sum=sums[2],
        )
