"""Words with a fixed set of values, defined once and imported everywhere."""

from __future__ import annotations

from typing import Literal, get_args

# Sensitive features a label may set a buffer for.
FeatureKind = Literal["water", "lake", "well", "runoff_entry", "sensitive_crop", "residential", "other"]
FEATURE_KINDS: tuple[str, ...] = get_args(FeatureKind)
