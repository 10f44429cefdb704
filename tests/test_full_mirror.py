"""Every chapter's `full` branches, run on the CPU against a mirror of tiny weights (`make full-mirror`).

`helpers.models.mirror.tiny_mirror` lays out every model id of the registry with the tiny components;
with `FIELDNOTES_MODEL_MIRROR` pointing at it and the Hub offline, each chapter runs in
`profile="full"`, `device="cpu"`, so the code that only `full` runs is executed without a GPU or a
download. The weights are random, so what only trained weights show fails by design: the chapters
check it inside `needs_weights` (and the quirks inside `still_true`), and the run sets
FIELDNOTES_LEDGER, the claims ledger's mode, in which both record the outcome and let the chapter
go on. What this test fails on is a chapter that stops: on a code error of a `full` branch, or
on a plain `assert` outside those two (it would hide every full branch after it; a finding only
trained weights show belongs inside `needs_weights`). Each chapter's outcome (ran to the end, findings not shown, claims changed) is printed and
written to `_build/full-mirror/summary.json`.

Marked `slow` (17 min on this 2-core machine, 2026-12-06) and `own_target` (tests/conftest.py): left
out of `make test`; `make full-mirror` runs it.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pytest

from helpers.book import toc
from helpers.book.claims import CHANGED_STATUS, LEDGER_ENV, NOT_SHOWN, WEIGHTS
from helpers.pipelines import CACHE_ENV, MIRROR_ENV
from tests.regression import execute

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = toc.chapters()
OUT = ROOT / "_build" / "full-mirror"

pytestmark = pytest.mark.slow


@dataclass
class Outcome:
    chapter: str
    seconds: float
    error: str | None  # the cell and exception that stopped the chapter, None if it ran to the end
    not_shown: list[str] = field(default_factory=list)  # needs_weights findings random weights do not show
    changed: list[str] = field(default_factory=list)  # still_true claims that failed on these weights

    @property
    def stopped_on_assertion(self) -> bool:
        return self.error is not None and ": AssertionError: " in self.error

    @property
    def code_error(self) -> bool:
        return self.error is not None and not self.stopped_on_assertion


def run_chapter(notebook: Path, mirror: Path, out: Path) -> Outcome:
    """`notebook` in profile full on the CPU, loading from `mirror`, in ledger mode."""
    ledger = out / f"{notebook.stem}.ledger.jsonl"
    ledger.unlink(missing_ok=True)
    env = {MIRROR_ENV: str(mirror), LEDGER_ENV: str(ledger), "HF_HUB_OFFLINE": "1", CACHE_ENV: os.environ[CACHE_ENV]}
    run = execute(notebook, out, profile="full", env=env, device="cpu")
    lines = [json.loads(line) for line in ledger.read_text().splitlines()] if ledger.exists() else []
    not_shown = sorted({line["claim"] for line in lines if line.get("kind") == WEIGHTS and line["status"] == NOT_SHOWN})
    changed = sorted({line["claim"] for line in lines if line.get("kind") is None and line["status"] == CHANGED_STATUS})
    return Outcome(notebook.stem, round(run.seconds, 1), run.error, not_shown, changed)


@pytest.fixture(scope="module")
def mirror(tmp_path_factory) -> Path:
    from helpers.models.mirror import tiny_mirror

    return tiny_mirror(tmp_path_factory.mktemp("tiny-mirror"))


@pytest.fixture(scope="module")
def summary():
    outcomes: dict[str, dict] = {}
    yield outcomes
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "summary.json").write_text(json.dumps(outcomes, indent=1, sort_keys=True) + "\n")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_full_branches_run_on_tiny_weights(notebook, mirror, summary):
    outcome = run_chapter(notebook, mirror, OUT)
    summary[notebook.stem] = asdict(outcome) | {"stopped_on_assertion": outcome.stopped_on_assertion}
    print(
        f"{outcome.chapter}: {outcome.seconds:.0f} s, "
        f"{'ran to the end' if outcome.error is None else 'stopped: ' + outcome.error}; "
        f"not shown by these weights: {outcome.not_shown or '-'}; claims changed: {outcome.changed or '-'}"
    )
    assert not outcome.code_error, f"{notebook.stem} (full, tiny-weight mirror), a code error: {outcome.error}"
    # a bare assert that stops the chapter hides every full branch after it: what only trained
    # weights show belongs inside needs_weights, which records it and goes on
    assert not outcome.stopped_on_assertion, (
        f"{notebook.stem} (full, tiny-weight mirror) stopped on an assertion outside needs_weights/still_true, "
        f"so the cells after it did not run: {outcome.error}"
    )
