"""helpers: the small, tested package behind *diffusers field notes*.

A chapter starts with `ctx = helpers.setup(...)` and ends with `helpers.record(...)`; the modules
(`pipelines`, `schedulers`, `signatures`, ...) are imported by name where a chapter needs them.
"""

from . import notices, plotting, widgets
from .record import approx, record
from .runtime import Context, OfflineProfileError, setup

# Two known library notices (see helpers.notices) stay off the pages from the first import on.
notices.install()

__all__ = ["Context", "OfflineProfileError", "approx", "plotting", "record", "setup", "widgets"]
