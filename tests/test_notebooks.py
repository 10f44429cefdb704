"""Every chapter, executed in the tiny profile, must record the figures in tests/reference/."""

import json
from pathlib import Path

import pytest

from helpers.regression import compare, execute

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.md"))
REFERENCES = ROOT / "tests" / "reference"
EXECUTED = ROOT / "_build" / "executed"


def test_every_chapter_has_a_notebook():
    assert NOTEBOOKS, "notebooks/ holds no chapter"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_notebook(notebook, update_refs):
    run = execute(notebook, EXECUTED)
    if run.error:
        pytest.fail(f"{notebook.name}: {run.error}", pytrace=False)
    if not run.figures:
        pytest.fail(f"{notebook.name}: recorded no figures (call helpers.record at the end)", pytrace=False)
    reference = REFERENCES / f"{notebook.stem}.json"
    if update_refs:
        reference.write_text(json.dumps(run.figures, indent=2, sort_keys=True) + "\n")
        return
    if not reference.exists():
        pytest.fail(f"{notebook.name}: no reference {reference.relative_to(ROOT)}; run pytest --update-refs and review it", pytrace=False)
    differences = compare(run.figures, json.loads(reference.read_text()))
    if differences:
        pytest.fail("\n".join(f"{notebook.name}: {line}" for line in differences), pytrace=False)
