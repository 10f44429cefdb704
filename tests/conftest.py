import os

import pytest

# Tests never reach the Hub and never open windows.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


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
