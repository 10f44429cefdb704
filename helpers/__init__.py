"""helpers: the small, tested package behind *diffusers field notes*.

A chapter starts with `ctx = helpers.setup(...)` and ends with `helpers.record(...)`; the modules
are imported by name where a chapter needs them. The layers:

- `helpers.<module>`: the small library a reader takes into their own work (`runtime`, `pipelines`,
  `settings`, `validate`, `gpu`, `schedulers`, `seeds`, `prompts`, `interpolation`, `pag`,
  `black_images`, `notices`);
- `helpers.book`: the book's machinery (claims, the regression record, the ledger, plots, widgets);
- `helpers.models`: model building (tiny and full-size models, shipped configs, mirrors);
- `helpers.research`: the chapters' research code (mixture, parity, convergence, signatures, ...);
- `helpers.toy`: the toy world and its trained pipelines.
"""

from . import _moved_modules, notices
from .book import plotting, widgets
from .book.record import approx, record
from .runtime import Context, OfflineProfileError, setup

# Two known library notices (see helpers.notices) stay off the pages from the first import on.
notices.install()
# The flat paths of before the layers (helpers.claims, helpers.tiny, ...) name the same modules for
# one more release (see helpers._moved_modules).
_moved_modules.install()

__all__ = ["Context", "OfflineProfileError", "approx", "plotting", "record", "setup", "widgets"]
