"""Weed economics over more than one season: yield loss now, seeds for later.

The ``economic`` strategy chooses, per cell, the dose scale ``lam`` minimising
(currency/ha)::

    cost(lam) = herbicide(lam) + application (if lam > 0)
              + V * YL(S(lam)) / 100                       # this season
              + sum_j seed_cost_j * SR_j(S_j(lam))          # seasons to come

with ``S_j = N_j * survival_j(lam)`` the surviving plants/m² of species ``j``,
``V`` the weed-free crop value (currency/ha) and

* ``YL`` the multi-species Cousens (1985) hyperbola on the survivors,
  ``YL = sum_j I_j S_j / (1 + sum_j I_j S_j / A_j)`` (one species: exactly
  Cousens; equal ``A``: the competitive-load form of WeedSOFT);
* ``SR_j(S) = f_j S / (1 + a_j S)`` the seed rain (seeds/m²) of the
  survivors, hyperbolic in density as in Cousens & Mortensen (1995); ``a_j = 0``
  (no density dependence) where no source gives it;
* ``seed_cost_j`` (currency/ha per seed/m²) the discounted cost of the
  seedlings those seeds give in the next ``seasons`` crops:
  ``sum_k (1 + r)^-k * e_j * rho_j^(k-1) * V * I_j * (1 - kappa) / 100``,
  with ``e_j`` seedlings per fresh seed in the next crop, ``rho_j`` the yearly
  carry-over of the seedbank, ``kappa`` the control expected from next
  seasons' own programme (its cost is paid anyway, so only the escapes'
  low-density yield loss is charged to this season's survivors).

Every parameter comes with its source (:class:`SpeciesEconomics`); the
service reports which species ran on unsourced defaults.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from app.dosing.errors import DosingError


@dataclass(frozen=True)
class SpeciesEconomics:
    """Yield-loss and seed parameters of one species in one crop.

    Parameters
    ----------
    cousens_i_pct
        Cousens ``I``: % yield loss per plant/m² at low density.
    cousens_a_pct
        Cousens ``A``: maximum % yield loss.
    seeds_per_plant
        ``f``: seeds shed per surviving plant at low density (0 = no seed term).
    seed_density_a_m2
        ``a`` (m² per plant) in ``SR = f S / (1 + a S)``; 0 = seeds proportional to plants.
    seedlings_per_seed
        ``e``: seedlings in the next crop per fresh seed shed (viability, survival
        to sowing, burial and establishment together).
    seedbank_carryover
        ``rho``: fraction of the seedbank still viable and not emerged a year later.
    source
        Where the numbers come from; ``""`` = no source (defaults).
    """

    cousens_i_pct: float
    cousens_a_pct: float
    seeds_per_plant: float = 0.0
    seed_density_a_m2: float = 0.0
    seedlings_per_seed: float = 0.0
    seedbank_carryover: float = 0.0
    source: str = ""

    def __post_init__(self) -> None:
        if not self.cousens_i_pct >= 0 or not 0 < self.cousens_a_pct <= 100:
            raise DosingError(f"need Cousens I >= 0 and 0 < A <= 100, got I={self.cousens_i_pct}, "
                              f"A={self.cousens_a_pct}")
        for name in ("seeds_per_plant", "seed_density_a_m2", "seedlings_per_seed"):
            if not getattr(self, name) >= 0:
                raise DosingError(f"{name} must not be negative, got {getattr(self, name)}")
        if not 0 <= self.seedbank_carryover < 1:
            raise DosingError(f"seedbank_carryover must be in [0, 1), got {self.seedbank_carryover}")


def seed_cost_per_seed(p: SpeciesEconomics, *, crop_value_per_ha: float, seasons: int,
                       discount_rate: float, next_control: float) -> float:
    """Discounted future cost (currency/ha) of one seed/m² shed this season.

    Examples
    --------
    >>> p = SpeciesEconomics(0.4, 50.0, 1000.0, 0.0, 0.022, 0.3)
    >>> round(seed_cost_per_seed(p, crop_value_per_ha=525.0, seasons=1, discount_rate=0.0,
    ...                          next_control=0.9), 5)          # 0.022 * 525 * 0.4 % * 10 %
    0.00462
    """
    if seasons <= 0 or p.seedlings_per_seed <= 0:
        return 0.0
    per_seedling = crop_value_per_ha * p.cousens_i_pct / 100.0 * (1.0 - next_control)
    return sum(p.seedlings_per_seed * p.seedbank_carryover ** (k - 1) * per_seedling / (1.0 + discount_rate) ** k
               for k in range(1, seasons + 1))


def single_season_threshold_plants_m2(p: SpeciesEconomics, *, crop_value_per_ha: float,
                                      control_cost_per_ha: float, control: float) -> float:
    """Density (plants/m²) at which controlling ``control`` (0..1) of the weeds pays its cost this season.

    Solves ``V * (YL(N) - YL((1 - control) N)) / 100 = control_cost`` (Coble &
    Mortensen 1990, with Cousens' yield loss); ``inf`` if even the maximum loss
    ``A`` is worth less than the control.

    Examples
    --------
    >>> p = SpeciesEconomics(0.4, 50.0)
    >>> round(single_season_threshold_plants_m2(p, crop_value_per_ha=525.0, control_cost_per_ha=31.0,
    ...                                         control=0.95), 1)
    17.9
    """
    def saved(n: float) -> float:
        def yl(x: float) -> float:
            return p.cousens_i_pct * x / (1.0 + p.cousens_i_pct * x / p.cousens_a_pct)
        return crop_value_per_ha * (yl(n) - yl((1.0 - control) * n)) / 100.0

    if control_cost_per_ha <= 0:
        return 0.0
    hi = 1.0
    while saved(hi) < control_cost_per_ha:
        hi *= 2.0
        if hi > 1e7:
            return math.inf
    lo = 0.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if saved(mid) < control_cost_per_ha else (lo, mid)
    return hi
