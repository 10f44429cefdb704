"""Execution time of every chapter in the tiny profile, against the targets of its issue.

    .venv/bin/python benchmarks/notebooks.py [--runs 2] [chapter-substring ...]

Runs each chapter `--runs` times with papermill (as the regression test does), prints the wall
time of each run (kernel start and papermill's own work included: what a reader waits for) and
the first run's cell time (the sum of the cells' durations, imports included), the totals against
the 60 s target for the whole book, and whether consecutive runs recorded identical figures.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.regression import execute  # noqa: E402

# seconds, from each chapter's issue
TARGETS = {
    "00-pipeline-zoo": None,
    "01-scheduler-config": 10,
    "04-pipeline-signatures": 10,
    "07-wuerstchen-stages": 20,
    "08-pag": 45,
    "09-unclip-interpolation": 45,
    "02-sampler-parity": 30,
}
BOOK_TARGET = 60


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="runs per chapter (2 checks determinism)")
    parser.add_argument("chapters", nargs="*", help="substrings of chapter names to run (default: all)")
    args = parser.parse_args()
    os.environ.setdefault("FIELDNOTES_CACHE", str(ROOT / "_build" / "tiny-cache"))
    notebooks = sorted((ROOT / "notebooks").glob("*.md"))
    if args.chapters:
        notebooks = [nb for nb in notebooks if any(part in nb.stem for part in args.chapters)]
    load = os.getloadavg()[0]
    print(f"{len(notebooks)} chapters, {args.runs} run(s) each, load average {load:.1f} on {os.cpu_count()} cores")
    print(f"{'chapter':28} {'target s':>9} {'cells s':>9} " + " ".join(f"{'run ' + str(i + 1) + ' s':>9}" for i in range(args.runs)) + "  same figures")
    total, total_cells, failures = 0.0, 0.0, 0
    with tempfile.TemporaryDirectory() as scratch:
        for notebook in notebooks:
            runs = [execute(notebook, Path(scratch) / f"run{i}") for i in range(args.runs)]
            errors = [run.error for run in runs if run.error]
            same = all(run.figures == runs[0].figures for run in runs[1:]) if not errors else False
            target = TARGETS.get(notebook.stem)
            total += runs[0].seconds
            total_cells += runs[0].cell_seconds
            verdict = "error: " + errors[0] if errors else ("yes" if same else "NO")
            over = target is not None and runs[0].seconds > target
            failures += bool(errors) or not same
            times = " ".join(f"{run.seconds:9.1f}" for run in runs)
            print(f"{notebook.stem:28} {target if target else '-':>9} {runs[0].cell_seconds:9.1f} {times}  {verdict}{'  (over target)' if over else ''}")
    print(f"total of first runs: {total:.1f} s wall, {total_cells:.1f} s in cells (target for the whole book: {BOOK_TARGET} s)")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
