"""Errors the services raise about stored things; the API maps each to a status code."""

from __future__ import annotations


class NotFound(LookupError):
    """A resource that does not exist or belongs to another organisation."""


class Forbidden(PermissionError):
    """The key's role may not do this."""


class Conflict(RuntimeError):
    """The request clashes with what is stored."""
