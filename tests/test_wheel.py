"""The package outside the repository (`make wheel`): build the wheel, install it into a fresh venv in
a temporary folder, and run a chapter as a reader downloads it from the book.

The chapter is the built book's own download (`_build/html/_sources/notebooks/10-toy-world.ipynb`,
after `make book`), or, without a built book, the same conversion of its MyST source by jupytext.
It runs with papermill in the `toy` profile from a folder outside the checkout, so the toy weights
must come from the wheel (helpers/toy/location.py) and `helpers` from the venv, which the test
checks. The venv gets the book's releases (constraints.txt: torch 2.13.0, the CPU wheel on this
machine) plus papermill and ipykernel, from the index.

Two settings run it as another reader would (the weekly CI's lanes for Python 3.10, 3.12 and 3.13):
`FIELDNOTES_WHEEL_PYTHON` names the interpreter of the fresh venv (default: the one running the test),
and `FIELDNOTES_WHEEL_RESOLVE=ranges` installs without constraints.txt, as `pip install` on Colab
does: whatever the index's newest releases are within pyproject.toml's ranges (torch still first,
pinned, so that pip takes the CPU wheel).

Marked `slow` (pip installs a venv: a few minutes) and left out of `make test`; `make wheel` runs it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = "10-toy-world"
BUILT = ROOT / "_build" / "html" / "_sources" / "notebooks" / f"{CHAPTER}.ipynb"

pytestmark = pytest.mark.slow
PYTHON_ENV = "FIELDNOTES_WHEEL_PYTHON"
RESOLVE_ENV = "FIELDNOTES_WHEEL_RESOLVE"


def run(*command, cwd: Path, env: dict | None = None) -> str:
    done = subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{' '.join(map(str, command))} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_the_wheel_runs_a_downloaded_chapter_in_the_toy_profile(tmp_path):
    wheels = tmp_path / "wheels"
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", wheels, ROOT, cwd=tmp_path)
    (wheel,) = wheels.glob("diffusers_field_notes-*.whl")

    env_dir = tmp_path / "venv"
    run(os.environ.get(PYTHON_ENV) or sys.executable, "-m", "venv", env_dir, cwd=tmp_path)
    python = env_dir / "bin" / "python"
    resolve = os.environ.get(RESOLVE_ENV, "constraints")
    if resolve not in ("constraints", "ranges"):
        raise ValueError(f"${RESOLVE_ENV}={resolve!r}: use 'constraints' (the book's releases) or 'ranges' (pyproject's)")
    pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    if resolve == "constraints":
        pip += ["-c", ROOT / "constraints.txt"]
    run(*pip, "torch==2.13.0", cwd=tmp_path)  # first: the CPU wheel, before anything asks for torch
    run(*pip, f"{wheel}[prompts]", "papermill", "ipykernel", cwd=tmp_path)  # the chapter compares with compel

    reader = tmp_path / "reader"  # where the reader's download lands: no checkout above it
    reader.mkdir()
    source = reader / f"{CHAPTER}.ipynb"
    if BUILT.is_file():
        source.write_bytes(BUILT.read_bytes())
    else:
        jupytext.write(jupytext.read(ROOT / "notebooks" / f"{CHAPTER}.md"), source)

    env = {k: v for k, v in os.environ.items() if not k.startswith(("FIELDNOTES_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(HF_HUB_OFFLINE="1", FIELDNOTES_CACHE=str(tmp_path / "tiny-cache"), PATH=f"{env_dir / 'bin'}:{env['PATH']}")
    where = run(python, "-c", "import helpers, helpers.toy.profile as p; print(helpers.__file__); print(p.TOY_DIR)", cwd=reader, env=env)
    package, toy_dir = where.split()
    assert Path(package).is_relative_to(env_dir), f"helpers came from {package}, not the fresh venv"
    assert Path(toy_dir).is_relative_to(env_dir) and (Path(toy_dir) / "model_index.json").is_file(), toy_dir

    executed = reader / "executed.ipynb"
    run(python, "-m", "papermill", "--kernel", "python3", "-p", "profile", "toy", source, executed, cwd=reader, env=env)
    cells = json.loads(executed.read_text())["cells"]
    errors = [o for c in cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors and any(c.get("outputs") for c in cells)
