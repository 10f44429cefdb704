"""The conventions a chapter follows to state a finding, in one import.

    from helpers.chapter import approx, error_message, needs, needs_weights, significant, still_true, timed

- a quirk of diffusers is checked inside `still_true("claim-id", "statement")` (helpers.claims), so
  a change reads "diffusers changed this behaviour: ..." and the claims ledger can find it;
- a claim about an API older releases lack starts with `needs(owner, "name")`, so the claims
  ledger reads it as "not applicable" there;
- a finding only trained weights show (what an image shows, asserted in `full`) is checked inside
  `needs_weights("finding-id", "statement")`, so a run on random weights can go on past it;
- a message diffusers gives for a mistake is captured with `error_message(call, ...)`, which fails
  when the call raises nothing or the wrong type;
- a statistic is recorded as `approx(value, rtol=..., why=...)` (helpers.record), with its reason;
- wall time is measured with `timed()`, and shown, never recorded (it differs between machines);
- a number shown in prose or a table is rounded to significant digits with `significant(x, 3)`,
  not decimal places, so that 0.000123 and 12 300 both keep their information.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass

from . import validate
from .claims import error_message, needs, needs_weights, still_true
from .record import approx, record

__all__ = [
    "Timing", "approx", "error_message", "needs", "needs_weights", "record", "significant", "still_true", "timed",
]


def significant(value: float, digits: int = 3) -> float:
    """`value` rounded to `digits` significant digits (significant(0.0012345) == 0.00123,
    significant(123456) == 123000.0); 0 stays 0.

    For what a chapter shows. Never record a value rounded this way: a value near a rounding
    boundary rounds differently on another CPU (README, "Regression").

    Refuses: a `value` that is not a real number (TypeError) or is inf/nan (ValueError); `digits`
    not an int >= 1.
    """
    value = validate.number("value", value)
    digits = validate.positive_int("digits", digits)
    if value == 0:
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


@dataclass
class Timing:
    """Seconds of wall time measured by `timed()`; `seconds` is None until the block ends."""

    seconds: float | None = None

    def __str__(self) -> str:
        return "running" if self.seconds is None else f"{significant(self.seconds, 3)} s"


@contextlib.contextmanager
def timed():
    """`with timed() as t: ...` then `t.seconds`: the block's wall time (time.perf_counter).

    The time is set even when the block raises. Takes no arguments.
    """
    timing = Timing()
    started = time.perf_counter()
    try:
        yield timing
    finally:
        timing.seconds = time.perf_counter() - started
