import json
import os
import random
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers import runtime
from helpers.book.record import RECORD_ENV
from tests import book_handoff

# Tests never reach the Hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Tiny pipelines are built into the checkout's _build (ignored by git), not the user's cache, so a
# test run depends on nothing left over from earlier work outside the checkout.
os.environ.setdefault("FIELDNOTES_CACHE", str(Path(__file__).resolve().parent.parent / "_build" / "tiny-cache"))


def pytest_addoption(parser):
    parser.addoption(
        "--update-refs",
        action="store_true",
        default=False,
        help="rewrite tests/reference/<notebook>.json from this run instead of comparing (review the diff)",
    )
    parser.addoption(
        "--reverse-order",
        action="store_true",
        default=False,
        help="run the collected tests in reverse order (with -p no:randomly) to check order independence",
    )


# Tests that read or serve the built book, and JupyterLab's tests (a server and a browser running a
# chapter), go to one lane under `make test`'s two xdist lanes (--dist loadgroup): the book is a
# session fixture, built once per test process, so two lanes asking for it would build it twice, at
# once, into the same _build/html.
BOOK_LANE = "book"
# Fixtures that take from seconds to minutes to set up: the book build, JupyterLab's server,
# Chromium. A test that needs one is marked `slow`, which `make fast` leaves out; a test that is slow
# for its own reason (a chapter run) carries the mark itself.
SLOW_FIXTURES = ("built_book", "lab", "browser")
# Modules with a make target of their own, which `make test` leaves out (pyproject.toml's addopts
# deselects the `own_target` mark given here): minutes each, and they need what the book's test run
# does not set up (a mirror of tiny weights; pip and the package index).
OWN_TARGET = {"test_full_mirror": "make full-mirror", "test_wheel": "make wheel"}


def pytest_itemcollected(item):
    # here, not in pytest_collection_modifyitems: xdist reads the group marks in its own
    # modifyitems hook, and the -m selection runs in the mark plugin's, both before a trylast one
    module = getattr(item, "module", None)
    name = module.__name__.rsplit(".", 1)[-1] if module else ""
    fixtures = getattr(item, "fixturenames", ())
    if "built_book" in fixtures or name == "test_lab":
        item.add_marker(pytest.mark.xdist_group(BOOK_LANE))
    if any(fixture in fixtures for fixture in SLOW_FIXTURES):
        item.add_marker(pytest.mark.slow)
    if name in OWN_TARGET:
        item.add_marker(pytest.mark.own_target)


def native_pass(item) -> bool:
    params = getattr(getattr(item, "callspec", None), "params", {})
    return getattr(item, "originalname", "") == "test_notebook" and params.get("which") == "native"


def default_pass(item) -> bool:
    params = getattr(getattr(item, "callspec", None), "params", {})
    return getattr(item, "originalname", "") == "test_notebook" and params.get("which") == "default"


# Each chapter's cell seconds as `benchmarks/notebooks.py` last measured them (it rewrites the file
# when it runs every chapter): the chapter passes are queued longest first, so that neither lane is
# left with a long chapter at the end while the other waits, and the book's lane, which waits for
# the last native pass, waits for a short one.
CHAPTER_SECONDS = Path(__file__).resolve().parent.parent / "benchmarks" / "chapter_seconds.json"


def chapter_seconds() -> dict[str, float]:
    return json.loads(CHAPTER_SECONDS.read_text())["cell_seconds"] if CHAPTER_SECONDS.exists() else {}


CHAPTER_COSTS = chapter_seconds()


def order_for_the_book(item, seconds: dict[str, float] | None = None) -> tuple[int, float]:
    """The queue's order (stable, so shuffling and --reverse-order still act within each part): the
    other tests, the chapters' native passes, the book's lane, the portable-kernel passes; within
    each pass the chapters longest first (one not yet measured first of all: its cost is unknown).
    The book build renders what the native passes executed (tests/book_handoff.py), so its lane
    starts after them and the portable passes fill the other lane meanwhile; `make test` passes
    --no-loadscope-reorder, without which xdist would queue the book's group (the most tests) first."""
    if native_pass(item) or default_pass(item):
        costs = CHAPTER_COSTS if seconds is None else seconds
        stem = Path(item.callspec.params["notebook"]).stem
        return (1 if native_pass(item) else 3), -costs.get(stem, float("inf"))
    if any(mark.args == (BOOK_LANE,) for mark in item.iter_markers("xdist_group")):
        return 2, 0.0
    return 0, 0.0


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    if config.getoption("--reverse-order"):
        items.reverse()
    items.sort(key=order_for_the_book)


@pytest.fixture
def update_refs(request) -> bool:
    return request.config.getoption("--update-refs")


ROOT = Path(__file__).resolve().parent.parent


@dataclass
class BookBuild:
    returncode: int
    log: str
    html: Path


def claim_the_book_build() -> None:
    """Fail if another xdist lane of this test run built the book already: two builds write the same
    _build/html, so a test of one would read the other's half-written pages. The group mark above
    is what prevents it, and it is silently ignored where xdist cannot group (pytest 9.2 with
    pytest-xdist 3.8: pytest-xdist#1386), hence this check."""
    run, lane = os.environ.get("PYTEST_XDIST_TESTRUNUID"), os.environ.get("PYTEST_XDIST_WORKER")
    if not run:
        return  # one process: one session fixture, one build
    (ROOT / "_build").mkdir(exist_ok=True)
    for old in (ROOT / "_build").glob("book-test-*.lane"):
        if old.stem != f"book-test-{run}":
            old.unlink(missing_ok=True)  # an earlier run's
    try:
        with (ROOT / "_build" / f"book-test-{run}.lane").open("x") as f:  # atomic: one lane creates it
            f.write(lane)
    except FileExistsError:
        pytest.fail(
            f"lane {lane} needs the built book, and another xdist lane of this test run built it already: the "
            f"xdist_group('{BOOK_LANE}') mark did not keep the book's tests on one lane (run with --dist loadgroup; "
            "pytest 9.2 with pytest-xdist 3.8 ignores the groups: pytest-xdist#1386)"
        )


@pytest.fixture(scope="session")
def built_book(request) -> BookBuild:
    """The HTML book, built once per test session as `make book` builds it (tiny profile), from the
    runs of this session's native chapter passes where it had them (tests/book_handoff.py)."""
    claim_the_book_build()
    # render this run's chapters, not execute them again: wait for the native passes it selected
    natives = [item.callspec.params["notebook"].stem for item in request.session.items if native_pass(item)]
    book_handoff.wait_for(natives)
    book_handoff.book_cache.prepare("tiny")
    env = {**os.environ, "PROFILE": "tiny", "FIELDNOTES_STATIC": "1", "FIELDNOTES_BOOK": "1"}
    env.pop(RECORD_ENV, None)
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run(
        [str(jupyter_book), "build", str(ROOT), "-W", "-n", "--keep-going"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    log = result.stdout + result.stderr
    # the whole log, for a failure whose first lines the assertion message cuts
    (ROOT / "_build" / "book-test.log").write_text(log)
    return BookBuild(result.returncode, log, ROOT / "_build" / "html")


@dataclass
class ProcessState:
    """What `helpers.setup()` changes process-wide, captured so a test can put it back."""

    environ: dict
    threads: int
    deterministic: tuple[bool, bool]
    hub: tuple
    rng: tuple

    @classmethod
    def capture(cls) -> "ProcessState":
        from huggingface_hub import constants
        from huggingface_hub.utils import _http

        return cls(
            environ=dict(os.environ),
            threads=torch.get_num_threads(),
            deterministic=(torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled()),
            hub=(runtime._before_block, constants.HF_HUB_OFFLINE, _http._GLOBAL_CLIENT_FACTORY),
            rng=(random.getstate(), np.random.get_state(), torch.get_rng_state()),
        )

    def restore(self) -> None:
        import huggingface_hub
        from huggingface_hub import constants
        from huggingface_hub.utils import _http

        for key in set(os.environ) - set(self.environ):
            del os.environ[key]
        os.environ.update({k: v for k, v in self.environ.items() if os.environ.get(k) != v})
        if torch.get_num_threads() != self.threads:
            torch.set_num_threads(self.threads)
        torch.use_deterministic_algorithms(self.deterministic[0], warn_only=self.deterministic[1])
        runtime._before_block, constants.HF_HUB_OFFLINE, factory = self.hub
        if _http._GLOBAL_CLIENT_FACTORY is not factory:
            huggingface_hub.set_client_factory(factory)
        random.setstate(self.rng[0])
        np.random.set_state(self.rng[1])
        torch.set_rng_state(self.rng[2])


@pytest.fixture(autouse=True)
def process_state():
    """Every test leaves the process as it found it: environment, torch threads and deterministic
    mode, the Hub block of the tiny profile, and the global RNGs (all of which `helpers.setup()`
    changes). Autouse, so any test that calls setup is covered and the order of tests is free."""
    state = ProcessState.capture()
    yield state
    state.restore()


@pytest.fixture(autouse=True, scope="module")
def module_process_state():
    """The same for module-scoped fixtures that call `helpers.setup()`: undone when the module ends."""
    state = ProcessState.capture()
    yield state
    state.restore()
