"""Colours shared by the web map and the PNG preview, so a rate looks the same in both.

Rates are coloured by their share of the label maximum along a 6-step
ColorBrewer YlGnBu ramp; unsprayed cells are grey and no-spray buffers red
(hatched in the PNG, dashed on the map), so a buffer never reads as "not sprayed
because no weeds".
"""

from __future__ import annotations

# Rates from low to high (fraction of the label maximum); unsprayed cells are grey.
RATE_RAMP: tuple[str, ...] = ("#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84")
UNSPRAYED_COLOUR = "#bdbdbd"
BUFFER_FILL = "#ef3b2c"
BUFFER_LINE = "#b2182b"


def rgb(hex_colour: str) -> tuple[int, int, int]:
    """``#rrggbb`` as an (r, g, b) tuple of 0-255 ints.

    >>> rgb("#0c2c84")
    (12, 44, 132)
    """
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def ramp_index(rate: float, max_rate: float) -> int:
    """The ramp step (0-5) of a positive ``rate`` as a share of ``max_rate`` (same unit).

    >>> ramp_index(2.0, 2.0), ramp_index(1.0, 2.0), ramp_index(0.01, 2.0)
    (5, 2, 0)
    """
    frac = min(max(rate / max_rate, 0.0), 1.0) if max_rate > 0 else 1.0
    return int(round(frac * (len(RATE_RAMP) - 1)))
