from pathlib import Path

import pytest

from helpers.regression import compare, execute


def test_compare_is_exact_for_ints_strings_and_shapes():
    assert compare({"n": 3, "s": "a", "shape": [1, 4]}, {"n": 3, "s": "a", "shape": [1, 4]}) == []
    assert compare({"n": 3}, {"n": 4}) == ["n: obtained 3, expected 4"]
    assert compare({"shape": [1, 5]}, {"shape": [1, 4]}) == ["shape[1]: obtained 5, expected 4"]
    assert compare({"flag": 1}, {"flag": True}) == ["flag: obtained 1, expected True"]


def test_compare_floats_with_tolerance():
    assert compare({"x": 1.0004}, {"x": 1.0}) == []
    assert compare({"x": 1.01}, {"x": 1.0}) == ["x: obtained 1.01, expected 1.0"]
    assert compare({"x": 2}, {"x": 2.0}) == []


def test_compare_reports_missing_and_extra_keys():
    lines = compare({"a": {"b": 1, "extra": 2}}, {"a": {"b": 1, "c": 3}})
    assert lines == ["a.c: missing, expected 3", "a.extra: obtained 2, not in the reference"]


NOTEBOOK = """---
jupytext:
  text_representation: {extension: .md, format_name: myst, format_version: 0.13}
kernelspec: {display_name: Python 3, language: python, name: python3}
---

```{code-cell} ipython3
:tags: [parameters]

profile = None
```

```{code-cell} ipython3
import helpers
helpers.record(profile=profile, value=VALUE)
```
"""


@pytest.mark.parametrize(
    ("value", "error"),
    [("41 + 1", None), ("1 / 0", "cell [3] `import helpers`: ZeroDivisionError: division by zero")],
)
def test_execute_records_figures_or_reports_the_failing_cell(tmp_path: Path, value, error):
    notebook = tmp_path / "probe.md"
    notebook.write_text(NOTEBOOK.replace("VALUE", value))
    run = execute(notebook, tmp_path / "out")
    assert run.error == error
    if error is None:
        assert run.figures == {"profile": "tiny", "value": 42}


def test_cell_seconds_sums_papermill_durations(tmp_path: Path):
    import json

    from helpers.regression import cell_seconds

    executed = tmp_path / "x.ipynb"
    executed.write_text(json.dumps({"cells": [{"metadata": {"papermill": {"duration": 1.5}}}, {"metadata": {}}, {"metadata": {"papermill": {"duration": None}}}]}))
    assert cell_seconds(executed) == 1.5
    assert cell_seconds(tmp_path / "missing.ipynb") == 0.0
