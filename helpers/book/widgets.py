"""ipywidgets for JupyterLab, never in the static book.

A chapter always shows a static figure; a widget is an extra for a reader in a live kernel.
Executions that produce the static book or the regression run set STATIC_ENV, so no widget
output (which needs a JavaScript runtime the static pages do not load) ends up in them.
"""

from __future__ import annotations

from collections.abc import Callable

from .. import settings

# what a reader is meant to use (the reference page lists these)
__all__ = ["show"]

STATIC_ENV = settings.STATIC  # its meaning: helpers.settings


def is_static() -> bool:
    """True when $FIELDNOTES_STATIC is set to anything but "" or "0". Takes no arguments."""
    return settings.static()


def show(build: Callable[[], object]) -> None:
    """Build a widget with `build()` and display it once, unless this run is static (then build nothing).

    Returns None on purpose: the call is usually a cell's last line, and a returned widget would be
    displayed a second time as the cell's result.

    Refuses (TypeError): a `build` that is not callable, static run or not (e.g. a widget itself:
    pass `lambda: widget`), and a `build()` that returns None (nothing to show).
    """
    if not callable(build):
        raise TypeError(f"build: expected a function that returns a widget, got {type(build).__name__}")
    if is_static():
        return None
    from IPython.display import display

    widget = build()
    if widget is None:
        name = getattr(build, "__name__", build)
        raise TypeError(f"build: {name!r} returned None; it must return the widget to show")
    display(widget)
    return None
