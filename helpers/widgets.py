"""ipywidgets for JupyterLab, never in the static book.

A chapter always shows a static figure; a widget is an extra for a reader in a live kernel.
Executions that produce the static book or the regression run set STATIC_ENV, so no widget
output (which needs a JavaScript runtime the static pages do not load) ends up in them.
"""

from __future__ import annotations

import os
from collections.abc import Callable

STATIC_ENV = "FIELDNOTES_STATIC"


def is_static() -> bool:
    return os.environ.get(STATIC_ENV, "") not in ("", "0")


def show(build: Callable[[], object]):
    """Build a widget with `build()` and display it, unless this run is static; return it or None."""
    if is_static():
        return None
    from IPython.display import display

    widget = build()
    display(widget)
    return widget
