"""The conventions a chapter follows to state a finding, in one import.

    from helpers.book.chapter import approx, error_message, needs, needs_weights, significant, still_true, timed

- a quirk of diffusers is checked inside `still_true("claim-id", "statement")` (helpers.book.claims), so
  a change reads "diffusers changed this behaviour: ..." and the claims ledger can find it;
- a claim about an API older releases lack starts with `needs(owner, "name")`, so the claims
  ledger reads it as "not applicable" there;
- a finding only trained weights show (what an image shows, asserted in `full`) is checked inside
  `needs_weights("finding-id", "statement")`, so a run on random weights can go on past it;
- a message diffusers gives for a mistake is captured with `error_message(call, ...)`, which fails
  when the call raises nothing or the wrong type;
- a statistic is recorded as `approx(value, rtol=..., why=...)` (helpers.record), with its reason;
- wall time is measured with `timed()` (`timed(ctx.device)` waits for a GPU's queued work), and
  shown, never recorded (it differs between machines);
- a number shown in prose or a table is rounded to significant digits with `significant(x, 3)`,
  not decimal places, so that 0.000123 and 12 300 both keep their information.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass

import torch

from .. import validate
from .claims import MissingAPI, error_message, needs, needs_weights, still_true
from .record import approx, record

__all__ = [
    "MissingAPI", "Timing", "approx", "error_message", "needs", "needs_weights", "record", "significant", "still_true",
    "timed",
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
def timed(device=None):
    """`with timed() as t: ...` then `t.seconds`: the block's wall time (time.perf_counter).

    On a CUDA `device` (a torch.device or a string such as "cuda:0"), the block's queued GPU work is
    waited for (torch.cuda.synchronize) before the clock starts and before it stops: CUDA calls
    return before their kernels finish, so the time would otherwise be that of queueing them. Any
    other device, or None, times the block as it runs.

    The time is set even when the block raises.

    Refuses: a `device` that is neither None nor a torch.device or device string (TypeError); a
    string torch cannot read, or a CUDA or MPS device this machine does not have (ValueError).
    """
    synchronize = _synchronizer(device)
    timing = Timing()
    synchronize()
    started = time.perf_counter()
    try:
        yield timing
    finally:
        synchronize()
        timing.seconds = time.perf_counter() - started


def _synchronizer(device):
    """A function that waits for `device`'s queued work: torch.cuda.synchronize on CUDA, else nothing."""
    if device is None:
        return lambda: None
    checked = validate.device("device", device)
    if checked.type != "cuda":
        return lambda: None
    return lambda: torch.cuda.synchronize(checked)
