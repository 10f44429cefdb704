"""helpers: the small, tested package behind *diffusers field notes*.

A chapter starts with `ctx = helpers.setup(...)` and ends with `helpers.record(...)`; the modules
(`pipelines`, `schedulers`, `signatures`, ...) are imported by name where a chapter needs them.
"""

from . import plotting, widgets
from .record import approx, record
from .runtime import Context, OfflineProfileError, setup

__all__ = ["Context", "OfflineProfileError", "approx", "plotting", "record", "setup", "widgets"]
