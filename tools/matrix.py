"""The release matrix: every chapter against each diffusers release, each claim's status recorded.

    .venv/bin/python tools/matrix.py                     # every release of tools/matrix_releases.toml
    .venv/bin/python tools/matrix.py --release 0.41.0    # one (repeat the flag for more)
    .venv/bin/python tools/matrix.py --chapters 01 02    # only chapters whose names contain these
    .venv/bin/python tools/matrix.py --release 0.34.0    # a held-back release: tools/matrix_held_back.json
    .venv/bin/python tools/matrix.py --newest            # the newest releases on the index today (`make matrix-newest`)

For each release it makes an environment in .matrix/<release>/ (`make matrix` runs this): a venv
whose own site-packages hold that release's diffusers, transformers and huggingface-hub (the pins
in tools/matrix_releases.toml, installed by pip) and which then falls through to the project's
.venv for everything else (torch, papermill, helpers), through a `.pth` file that adds .venv's
site-packages after its own. A release whose pins are what .venv has runs in .venv itself.
Every chapter is executed once in the tiny profile with papermill, two at a time (chapters use
one thread each), with FIELDNOTES_LEDGER set: each `still_true` claim appends its outcome, and a
changed claim does not stop the chapter (helpers.book.claims). A claim the chapter never reached is
"not run", with the chapter's error. The result is book/claims-matrix.json (the Claims page).
`--newest` makes one more overlay, .matrix/newest/, with whatever diffusers, transformers,
huggingface-hub and tokenizers the index offers today (pip install --upgrade), and writes to
_build/matrix-newest.json: the weekly CI's lane that tells whether a release newer than the pins
changes a claim, before a reader finds out. It never writes book/claims-matrix.json unless --out says so.
A [[held_back]] release of the toml runs only when named with --release, on its own, and never into
book/claims-matrix.json: by default into tools/matrix_held_back.json, the committed evidence that
every chapter still runs to its end there (tests/test_ledger.py reads it).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from helpers.book import ledger, toc  # noqa: E402
from helpers.book.claims import CHANGED_STATUS, HOLDS, LEDGER_ENV, NOT_APPLICABLE  # noqa: E402

RELEASES = ROOT / "tools" / "matrix_releases.toml"
HELD_BACK = ROOT / "tools" / "matrix_held_back.json"
NEWEST = ROOT / "_build" / "matrix-newest.json"
WORK = ROOT / ".matrix"
BASE = ROOT / ".venv"
PACKAGES = ("diffusers", "transformers", "huggingface-hub", "tokenizers")
PARALLEL = 2  # the chapters run on one thread each: two at a time fill a 2-core machine
# slowest first, so that two lanes finish together
SLOW_FIRST = ("10-toy-world",)


def releases(path: Path = RELEASES, held_back: bool = False) -> list[dict]:
    """The [[release]] tables of `path` (with `held_back`, its [[held_back]] tables: releases run
    only when named and never into the committed matrix), each with at least diffusers,
    transformers and huggingface-hub pinned, a held-back one also with `why`. Refuses a table
    without them (ValueError naming the table)."""
    kind = "held_back" if held_back else "release"
    tables = tomllib.loads(path.read_text()).get(kind, [] if held_back else None)
    if tables is None:
        raise ValueError(f"{path.name} has no [[release]] table")
    needed = [*PACKAGES[:3], "why"] if held_back else list(PACKAGES[:3])
    for index, table in enumerate(tables):
        missing = [name for name in needed if name not in table]
        if missing:
            raise ValueError(f"{path.name}: {kind} table {index + 1} lacks {missing}")
    return tables


def installed(python: Path) -> dict[str, str]:
    code = (
        "import importlib.metadata as m, json;"
        f"print(json.dumps({{p: m.version(p) for p in {list(PACKAGES)!r}}}))"
    )
    out = subprocess.run([str(python), "-c", code], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def pins(release: dict) -> dict[str, str]:
    return {name: release[name] for name in PACKAGES if name in release}


def environment(release: dict) -> Path:
    """The python that runs `release`: .venv's own when its pins are what .venv has, else an
    overlay venv in .matrix/<release>/ (made once; remade when its pins change)."""
    base_python = BASE / "bin" / "python"
    wanted = pins(release)
    have = installed(base_python)
    if all(have.get(name) == version for name, version in wanted.items()):
        return base_python
    folder = WORK / release["diffusers"]
    python = folder / "bin" / "python"
    stamp = folder / "pins.json"
    if stamp.exists() and json.loads(stamp.read_text()) == wanted:
        return python
    subprocess.run([str(base_python), "-m", "venv", "--clear", str(folder)], check=True)
    site = f"lib/python{sys.version_info.major}.{sys.version_info.minor}/site-packages"
    # after the overlay's own packages, everything the project installed in .venv
    (folder / site / "zz_fieldnotes_base.pth").write_text(
        f"import site; site.addsitedir({str(BASE / site)!r})\n"
    )
    requirements = [f"{name}=={version}" for name, version in wanted.items()]
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *requirements],
        check=True,
        # pip reports .venv's diffusers-field-notes pins as conflicts: expected, the overlay wins
        stderr=subprocess.DEVNULL,
    )
    got = installed(python)
    if any(got.get(name) != version for name, version in wanted.items()):
        raise RuntimeError(f"{folder}: asked for {wanted}, the environment has {got}")
    stamp.write_text(json.dumps(wanted))
    return python


def newest_environment() -> tuple[dict, Path]:
    """An overlay venv (.matrix/newest/) with the newest releases of PACKAGES on the index, remade on
    every call; returns the release table it amounts to ({"diffusers": version, ...}) and its python."""
    folder = WORK / "newest"
    python = folder / "bin" / "python"
    subprocess.run([str(BASE / "bin" / "python"), "-m", "venv", "--clear", str(folder)], check=True)
    site = f"lib/python{sys.version_info.major}.{sys.version_info.minor}/site-packages"
    (folder / site / "zz_fieldnotes_base.pth").write_text(f"import site; site.addsitedir({str(BASE / site)!r})\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--upgrade", *PACKAGES],
        check=True, stderr=subprocess.DEVNULL,  # pip reports .venv's pins as conflicts: expected
    )
    got = installed(python)
    return {**got, "date": date.today().isoformat(), "newest": True}, python


def run_chapter(python: Path, chapter: Path, scratch: Path) -> dict:
    """Execute `chapter` with `python` in ledger mode; {"error", "seconds", "ledger": [lines]}."""
    scratch.mkdir(parents=True, exist_ok=True)
    ledger_file = scratch / f"{chapter.stem}.ledger.jsonl"
    result_file = scratch / f"{chapter.stem}.result.json"
    ledger_file.unlink(missing_ok=True)
    command = [str(python), str(Path(__file__)), "--one-chapter", str(chapter), str(ledger_file), str(result_file)]
    env = {**os.environ, "FIELDNOTES_CACHE": str(scratch / "tiny-cache")}
    finished = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if finished.returncode != 0 or not result_file.exists():
        tail = (finished.stderr or finished.stdout).strip().splitlines()[-3:]
        result = {"error": "the runner failed: " + " | ".join(tail), "seconds": 0.0}
    else:
        result = json.loads(result_file.read_text())
    lines = ledger_file.read_text().splitlines() if ledger_file.exists() else []
    result["ledger"] = [json.loads(line) for line in lines]
    return result


def one_chapter(chapter: str, ledger_file: str, result_file: str) -> int:
    """Inside the release's python: run one chapter (the regression test's way) in ledger mode."""
    from tests.regression import execute

    scratch = Path(result_file).parent / "executed"
    run = execute(Path(chapter), scratch, env={LEDGER_ENV: ledger_file})
    Path(result_file).write_text(json.dumps({"error": run.error, "seconds": round(run.seconds, 1)}))
    return 0


def merge(claims: list[ledger.Claim], chapters: dict[str, dict]) -> dict[str, dict]:
    """Each claim's status from the ledger lines of its chapter: changed if any check of it
    changed, else not applicable if any check could not import its API, else holds; "not run"
    (with the chapter's error) if no check of it ran."""
    outcome: dict[str, dict] = {}
    for claim in claims:
        run = chapters.get(claim.chapter)
        lines = [line for line in (run or {}).get("ledger", []) if line["claim"] == claim.claim]
        for status in (CHANGED_STATUS, NOT_APPLICABLE, HOLDS):
            hit = next((line for line in lines if line["status"] == status), None)
            if hit is not None:
                outcome[claim.claim] = {"status": status, "detail": hit["detail"]}
                break
        else:
            why = (run or {}).get("error") or "the chapter did not reach it"
            outcome[claim.claim] = {"status": ledger.NOT_RUN, "detail": why}
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--release", action="append", help="diffusers versions to run (default: all)")
    parser.add_argument("--chapters", nargs="*", default=[], help="substrings of chapter names")
    parser.add_argument(
        "--out", type=Path, help=f"default: {ledger.MATRIX.name}, or {HELD_BACK.name} for held-back releases"
    )
    parser.add_argument("--newest", action="store_true", help=f"the newest releases on the index, into {NEWEST.relative_to(ROOT)}")
    parser.add_argument("--one-chapter", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one_chapter:
        return one_chapter(*args.one_chapter)

    from tqdm import tqdm

    table = releases()
    known = [entry["diffusers"] for entry in table]
    held_names = [entry["diffusers"] for entry in releases(held_back=True)]
    unknown = sorted(set(args.release or []) - set(known) - set(held_names))
    if unknown:
        parser.error(f"--release {unknown} not in {RELEASES.name} (it lists {known}, held back {held_names})")
    held = [entry for entry in releases(held_back=True) if entry["diffusers"] in (args.release or [])]
    chosen = [entry for entry in table if not args.release or entry["diffusers"] in args.release] + held
    if held and len(held) < len(chosen):
        parser.error("run held-back releases on their own: they are written to another file")
    if held and args.out is not None and args.out.resolve() == ledger.MATRIX.resolve():
        parser.error(f"--release {[entry['diffusers'] for entry in held]} is held back: it stays out of "
                     f"{ledger.MATRIX.name}; name another file with --out")
    if args.newest and args.release:
        parser.error("--newest runs on its own: it is not a release of the toml")
    args.out = args.out or (NEWEST if args.newest else HELD_BACK if held else ledger.MATRIX)
    chapters = sorted(toc.chapters(), key=lambda p: p.stem not in SLOW_FIRST)  # stable: reading order otherwise
    if args.chapters:
        chapters = [c for c in chapters if any(part in c.stem for part in args.chapters)]
        if not chapters:
            parser.error(f"--chapters {args.chapters} matches no chapter of {toc.TOC.name}")
    claims = ledger.scan()
    previous = json.loads(args.out.read_text()) if args.out.exists() else {"releases": []}
    results = {entry["diffusers"]: entry for entry in previous["releases"]}
    started = time.perf_counter()
    newest_python = None
    if args.newest:
        newest, newest_python = newest_environment()
        chosen = [newest]
        print(f"newest on the index: {', '.join(f'{k} {newest[k]}' for k in PACKAGES)}")
    for release in chosen:
        name = release["diffusers"]
        began = time.perf_counter()
        python = newest_python or environment(release)
        scratch = WORK / "runs" / name
        with ThreadPoolExecutor(PARALLEL) as pool, tqdm(total=len(chapters), desc=f"diffusers {name}") as bar:
            futures = {c.stem: pool.submit(run_chapter, python, c, scratch) for c in chapters}
            runs = {}
            for stem, future in futures.items():
                runs[stem] = future.result()
                bar.update()
        earlier = results.get(name, {}) if args.chapters else {}
        statuses = merge([c for c in claims if c.chapter in runs], runs)
        # a partial run (--chapters) keeps what the last full run found for the other chapters
        for claim in claims:
            if claim.chapter not in runs:
                statuses[claim.claim] = earlier.get("claims", {}).get(
                    claim.claim, {"status": ledger.NOT_RUN, "detail": "not in this run"}
                )
        results[name] = {
            "diffusers": name,
            "released": release.get("date"),
            "packages": installed(python),
            # the time of a full run (environment and every chapter); a partial run keeps it
            "seconds": earlier.get("seconds") or round(time.perf_counter() - began, 1),
            "chapters": {**earlier.get("chapters", {}), **runs},
            "claims": {claim.claim: statuses[claim.claim] for claim in claims},
        }
        counts = {}
        for entry in results[name]["claims"].values():
            counts[entry["status"]] = counts.get(entry["status"], 0) + 1
        print(f"diffusers {name}: {counts} in {results[name]['seconds']} s")
        for stem, run in sorted(runs.items()):
            if run["error"]:
                print(f"  {stem}: {run['error'][:160]}")
    # an --out file other than the committed matrix keeps the held-back releases run into it before
    newest_names = [entry["diffusers"] for entry in chosen if entry.get("newest")]
    order = {name: index for index, name in enumerate(known + held_names + newest_names)}
    matrix = {
        "written": date.today().isoformat(),
        "python": sys.version.split()[0],
        "claims": [claim.as_dict() for claim in claims],
        "releases": sorted(
            (entry for entry in results.values() if entry["diffusers"] in order),
            key=lambda entry: order[entry["diffusers"]],
        ),
    }
    for entry in matrix["releases"]:  # the ledger lines are in "claims"; keep the file short
        for run in entry["chapters"].values():
            run.pop("ledger", None)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(matrix, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {args.out} in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
