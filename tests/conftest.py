import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers.record import RECORD_ENV

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


@pytest.fixture
def update_refs(request) -> bool:
    return request.config.getoption("--update-refs")


ROOT = Path(__file__).resolve().parent.parent


@dataclass
class BookBuild:
    returncode: int
    log: str
    html: Path


@pytest.fixture(scope="session")
def built_book() -> BookBuild:
    """The HTML book, built once per test session exactly as `make book` builds it (tiny profile)."""
    env = {**os.environ, "PROFILE": "tiny", "FIELDNOTES_STATIC": "1"}
    env.pop(RECORD_ENV, None)
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run(
        [str(jupyter_book), "build", str(ROOT), "-W", "-n", "--keep-going"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    return BookBuild(result.returncode, result.stdout + result.stderr, ROOT / "_build" / "html")
