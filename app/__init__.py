"""Dosewise: variable-rate herbicide prescriptions from weed maps, within the label."""

__version__ = "0.1.0"
