"""How `make test`'s native chapter passes hand their runs to the book build (tools/book_cache.py).

The native pass of tests/test_notebooks.py executes a chapter exactly as the book does (tiny profile,
static output, the chapter's folder as working directory; papermill's injected `profile = "tiny"` is
the value the book reads from $PROFILE), so its executed notebook goes into the book's cache and the
book build renders it instead of executing the chapter a third time.

Under two xdist lanes the book build must wait for the other lane's native passes. tests/conftest.py
queues the book's tests after every native pass (`order_for_the_book`), so nothing a lane still has
to run sits behind the build; each native pass leaves a marker naming the test run when it ends,
pass or fail, and the build waits for the markers of the passes this run selected (`wait_for`). A
pass that never ends only costs time: after WAIT_LIMIT the build executes what is not cached.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests import project_tools

ROOT = Path(__file__).resolve().parent.parent
MARKERS = ROOT / "_build" / "executed" / "native"
RUN_ENV = "PYTEST_XDIST_TESTRUNUID"  # one id for all lanes of one `pytest -n` run
WAIT_LIMIT = 30 * 60  # seconds: longer than any lane's share of the chapter passes
book_cache = project_tools.load("book_cache")


def marker(stem: str) -> Path:
    return MARKERS / f"{stem}.done"


def hand_over(notebook: Path, executed: Path, error: str | None, seconds: float) -> None:
    """Store a successful run for the book; after a failed one, drop the chapter's old entry so the
    build executes it and shows the error itself."""
    if error is None and executed.exists():
        book_cache.store(notebook, executed, seconds)
    else:
        book_cache.forget(notebook)


def mark_done(stem: str) -> None:
    run = os.environ.get(RUN_ENV)
    if run:
        MARKERS.mkdir(parents=True, exist_ok=True)
        marker(stem).write_text(run)


def pending(stems: list[str]) -> list[str]:
    """The stems whose native pass has not ended in this xdist run (none outside xdist: one process
    runs the queue in order, the passes first)."""
    run = os.environ.get(RUN_ENV)
    if not run:
        return []
    return [stem for stem in stems if not (marker(stem).exists() and marker(stem).read_text() == run)]


def wait_for(stems: list[str], limit: float = WAIT_LIMIT, poll: float = 2.0) -> list[str]:
    """Wait until the native passes of `stems` have ended, at most `limit` seconds; returns those
    still pending then."""
    deadline = time.monotonic() + limit
    left = pending(stems)
    while left and time.monotonic() < deadline:
        time.sleep(poll)
        left = pending(left)
    return left
