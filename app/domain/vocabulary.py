"""Words with a fixed set of values, defined once and imported everywhere.

Strategy names and minimum-rate rules belong to the dosing core, which
implements them; they are re-exported here so the rest of the service has
one place to look.
"""

from __future__ import annotations

from typing import Literal, get_args

from app.dosing.prescribe import MIN_RATE_RULES, STRATEGIES, MinRateRule, StrategyName

# Sensitive features a label may set a buffer for.
FeatureKind = Literal["water", "lake", "well", "runoff_entry", "sensitive_crop", "residential", "other"]
FEATURE_KINDS: tuple[str, ...] = get_args(FeatureKind)

# What an API key may do (app/api/deps.py maps each role to its permissions).
Role = Literal["agronomist", "telematics", "farmer"]
ROLES: tuple[str, ...] = get_args(Role)

__all__ = ["FEATURE_KINDS", "MIN_RATE_RULES", "ROLES", "STRATEGIES", "FeatureKind", "MinRateRule", "Role",
           "StrategyName"]
