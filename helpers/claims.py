"""Assertions about diffusers' behaviour that say so when diffusers changes.

A chapter documents quirks of one diffusers release. Wrapping the checks of a quirk in
`still_true("...")` turns both a failed assertion and a new exception into one AssertionError
that starts with "diffusers changed this behaviour", so the regression run names the claim to
revisit.
"""

from __future__ import annotations

import contextlib

CHANGED = "diffusers changed this behaviour"


@contextlib.contextmanager
def still_true(quirk: str):
    """Run the checks of `quirk`; any failure inside becomes "diffusers changed this behaviour: quirk"."""
    try:
        yield
    except AssertionError as error:
        detail = f" ({error})" if str(error) else ""
        raise AssertionError(f"{CHANGED}: {quirk}{detail}") from None
    except Exception as error:
        raise AssertionError(f"{CHANGED}: {quirk} (now raises {type(error).__name__}: {error})") from error
