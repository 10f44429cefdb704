"""Execution time of every chapter in the tiny profile, against the targets of its issue.

    .venv/bin/python benchmarks/notebooks.py [--runs 2] [chapter-substring ...]

Runs each chapter `--runs` times with papermill (as the regression test does), prints the wall
time of each run (kernel start and papermill's own work included: what a reader waits for), the
first run's cell time (the sum of the cells' durations, imports included) against the chapter's
target, the first twelve chapters' total against the book's, and whether consecutive runs recorded
identical figures. Run it on an idle machine: the targets are for one core with nothing beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from helpers.book import toc  # noqa: E402
from tests.regression import execute  # noqa: E402

# Seconds of cells (issue 32): each of the twelve chapters of the first two rounds at most 30 s on
# one core (every chapter sets one torch thread), the twelve together at most 150 s; a chapter
# added since has its issue's 60 s.
FIRST_TWELVE = 12
CHAPTER_TARGET = 30
NEW_CHAPTER_TARGET = 60
BOOK_TARGET = 150
# Written after a run of every chapter: tests/conftest.py queues the chapter passes longest first.
CHAPTER_SECONDS = ROOT / "benchmarks" / "chapter_seconds.json"


def one_of_the_first_twelve(notebook: Path) -> bool:
    """From the chapter's reading-order number (NN-name.md)."""
    return int(notebook.stem.split("-", 1)[0]) < FIRST_TWELVE


def target(notebook: Path) -> int:
    return CHAPTER_TARGET if one_of_the_first_twelve(notebook) else NEW_CHAPTER_TARGET


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="runs per chapter (2 checks determinism)")
    parser.add_argument("chapters", nargs="*", help="substrings of chapter names to run (default: all)")
    args = parser.parse_args()
    os.environ.setdefault("FIELDNOTES_CACHE", str(ROOT / "_build" / "tiny-cache"))
    notebooks = toc.chapters()
    if args.chapters:
        notebooks = [nb for nb in notebooks if any(part in nb.stem for part in args.chapters)]
    load = os.getloadavg()[0]
    print(f"{len(notebooks)} chapters, {args.runs} run(s) each, load average {load:.1f} on {os.cpu_count()} cores")
    print(f"{'chapter':28} {'target s':>9} {'cells s':>9} " + " ".join(f"{'run ' + str(i + 1) + ' s':>9}" for i in range(args.runs)) + "  same figures")
    total, first_cells, failures, over, seconds = 0.0, 0.0, 0, [], {}
    with tempfile.TemporaryDirectory() as scratch:
        for notebook in notebooks:
            runs = [execute(notebook, Path(scratch) / f"run{i}") for i in range(args.runs)]
            errors = [run.error for run in runs if run.error]
            same = all(run.figures == runs[0].figures for run in runs[1:]) if not errors else False
            limit = target(notebook)
            cells = runs[0].cell_seconds
            seconds[notebook.stem] = round(cells, 1)  # an ordering key, not a recorded figure
            total += runs[0].seconds
            if one_of_the_first_twelve(notebook):
                first_cells += cells
            verdict = "error: " + errors[0] if errors else ("yes" if same else "NO")
            if cells > limit:
                over.append(notebook.stem)
            failures += bool(errors) or not same
            times = " ".join(f"{run.seconds:9.1f}" for run in runs)
            print(f"{notebook.stem:28} {limit:>9} {cells:9.1f} {times}  {verdict}{'  (over target)' if cells > limit else ''}")
    print(f"first runs: {total:.1f} s wall (kernel starts included); the first {FIRST_TWELVE} chapters' cells "
          f"{first_cells:.1f} s (target {BOOK_TARGET} s: {'met' if first_cells <= BOOK_TARGET else 'NOT met'})")
    print(f"chapters over their cell target: {', '.join(over) if over else 'none'}")
    if not args.chapters and not failures:
        why = ("each chapter's cell seconds in one tiny-profile run, written by benchmarks/notebooks.py when it "
               "runs every chapter; tests/conftest.py queues the chapter passes longest first from it")
        CHAPTER_SECONDS.write_text(json.dumps({"why": why, "cell_seconds": seconds}, indent=2) + "\n")
        print(f"wrote {CHAPTER_SECONDS.relative_to(ROOT)} (the test queue's order)")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
