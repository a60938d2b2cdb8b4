"""Draw docs/dose_by_density.png: each strategy's dose against black-grass density.

Run: ``.venv/bin/python scripts/plot_dose_by_density.py``. The field is the
gradient of tests/dosing/test_agronomy.py: Atlantis OD (sample label curve,
a partly ALS-resistant population) on black-grass in winter wheat, catalogue
parameters, Rothamsted prices (7.5 t/ha, 70 GBP/t, 6 GBP/ha application).
Drawn with Pillow (already a dependency) to keep matplotlib out of the install.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.dosing.grid import GridSpec  # noqa: E402
from app.dosing.label import ProductLabel  # noqa: E402
from app.dosing.masks import FieldMasks  # noqa: E402
from app.dosing.prescribe import Strategy, prescribe  # noqa: E402
from app.dosing.response import DoseResponse  # noqa: E402
from app.species import resistance_floors, species_economics  # noqa: E402

ATLANTIS = ProductLabel("Atlantis OD", "L/ha", 0.6, 1.2, max_season_rate=1.2, price_per_unit=30.0,
                        efficacy={"ALOMY": DoseResponse(model="LL.4", b=1.8, c=0.01, d=1.0, e=0.75)})


def doses(strategy: Strategy, density: np.ndarray) -> np.ndarray:
    import shapely
    n = density.size
    grid = GridSpec(crs="EPSG:32631", x0_m=0.0, y0_m=1.0, cell_size_m=1.0, n_rows=1, n_cols=n)
    masks = FieldMasks(np.ones((1, n), bool), np.ones((1, n), bool), shapely.Polygon())
    return prescribe({"ALOMY": density[None, :]}, grid, masks, [ATLANTIS], strategy).rates[0][0]


def main() -> None:
    density = np.geomspace(0.5, 400, 120).astype(np.float32)
    common = {"crop_price_per_t": 70.0, "expected_yield_t_ha": 7.5, "application_cost_per_ha": 6.0,
              "species_economics": species_economics("winter_wheat"),
              "resistance_floors": resistance_floors([("Atlantis OD", "2")])}
    lines = {
        "threshold (1 plant/m2)": (doses(Strategy(name="threshold", **common), density), (120, 120, 120)),
        "target_efficacy": (doses(Strategy(name="target_efficacy", **common), density), (31, 119, 180)),
        "target_efficacy, floor overridden": (doses(Strategy(name="target_efficacy", override_resistance_floors=True,
                                                             **common), density), (158, 202, 225)),
        "economic, 3 seasons": (doses(Strategy(name="economic", **common), density), (214, 39, 40)),
        "economic, this season only": (doses(Strategy(name="economic", seasons_ahead=0, **common), density),
                                       (255, 152, 150)),
        "economic, 3 seasons, floor overridden": (doses(Strategy(name="economic", override_resistance_floors=True,
                                                                 **common), density), (44, 160, 44)),
    }
    w, h, left, right, top, bottom = 900, 560, 70, 20, 30, 200
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    x0, x1, y0, y1 = left, w - right, h - bottom, top
    lx0, lx1 = np.log10(density[0]), np.log10(density[-1])

    def px(v: float) -> float:
        return x0 + (np.log10(v) - lx0) / (lx1 - lx0) * (x1 - x0)

    def py(v: float) -> float:
        return y0 - v / 1.3 * (y0 - y1)

    d.rectangle([x0, y1, x1, y0], outline="black")
    for v in (0.0, 0.3, 0.6, 0.9, 1.2):
        d.line([x0 - 4, py(v), x0, py(v)], fill="black")
        d.text((x0 - 40, py(v) - 6), f"{v:.1f}", fill="black")
    for v in (1, 2, 5, 10, 20, 50, 100, 200, 400):
        d.line([px(v), y0, px(v), y0 + 4], fill="black")
        d.text((px(v) - 8, y0 + 6), f"{v:g}", fill="black")
    d.text((x0, 8), "Atlantis OD dose (L/ha) vs black-grass density (plants/m2, log scale), winter wheat",
           fill="black")
    for i, (name, (rates, colour)) in enumerate(lines.items()):
        offset = (i - 2.5) * 0.006                       # keep overlapping lines visible
        pts = [(px(float(x)), py(float(r) + offset)) for x, r in zip(density, rates, strict=True)]
        d.line(pts, fill=colour, width=3)
        ly = y0 + 30 + 22 * i
        d.line([x0, ly + 6, x0 + 30, ly + 6], fill=colour, width=3)
        d.text((x0 + 40, ly), name, fill="black")
    out = ROOT / "docs" / "dose_by_density.png"
    img.save(out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
