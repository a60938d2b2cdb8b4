"""The one error the dosing core raises for a prescription it cannot make."""

from __future__ import annotations


class DosingError(ValueError):
    """A prescription that cannot be made as asked (the message says why).

    The service maps it to HTTP 422.

    Examples
    --------
    >>> isinstance(DosingError("no curve for AMARE"), ValueError)
    True
    """
