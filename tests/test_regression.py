import os
import tempfile
from pathlib import Path

import pytest

from helpers.book.record import approx, normalise
from tests.regression import compare, execute


def test_compare_is_exact_for_ints_strings_and_shapes():
    assert compare({"n": 3, "s": "a", "shape": [1, 4]}, {"n": 3, "s": "a", "shape": [1, 4]}) == []
    assert compare({"n": 3}, {"n": 4}) == ["n: obtained 3, expected 4"]
    assert compare({"shape": [1, 5]}, {"shape": [1, 4]}) == ["shape[1]: obtained 5, expected 4"]
    assert compare({"flag": 1}, {"flag": True}) == ["flag: obtained 1, expected True"]


def test_bare_floats_are_exact_up_to_rounding():
    assert compare({"x": 1.000001}, {"x": 1.0}) == []  # float32 rounding in the last bits
    assert compare({"x": 1.0001}, {"x": 1.0}) == ["x: obtained 1.0001, expected 1.0"]
    assert compare({"x": 2}, {"x": 2.0}) == []
    assert compare({"x": True}, {"x": 1.0}) == ["x: obtained True, expected 1.0"]


def test_approx_figures_use_the_tolerance_their_reference_states():
    stat = approx(0.5, rtol=0.01, why="float32 sums in another order")
    reference = {"m": normalise(stat)}
    assert reference["m"] == {"approx": 0.5, "rtol": 0.01, "atol": 0.0, "why": "float32 sums in another order"}
    assert compare({"m": normalise(approx(0.504, rtol=0.01, why="float32 sums in another order"))}, reference) == []
    assert compare({"m": normalise(approx(0.51, rtol=0.01, why="float32 sums in another order"))}, reference) == [
        "m: obtained 0.51, expected 0.5 (rtol 0.01, atol 0.0)"
    ]
    # the reference's tolerance rules, not the new run's: a loosened call must be reviewed via --update-refs
    assert compare({"m": normalise(approx(0.6, rtol=0.5, why="loosened without updating the reference"))}, reference)
    assert compare({"m": 0.5}, reference) == ["m: obtained 0.5, expected approx 0.5"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"rtol": 0.0}, "positive rtol or atol"), ({"rtol": -1.0}, r"rtol=\.\.\.\) must be a number >= 0"), ({"rtol": 0.1, "why": "noise"}, "why=")],
)
def test_approx_refuses_a_missing_tolerance_or_reason(kwargs, message):
    with pytest.raises(ValueError, match=message):
        approx(1.0, **{"why": "a reason long enough", **kwargs})


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
import os
import torch
import helpers
helpers.record(profile=profile, value=VALUE, capability=torch.backends.cpu.get_cpu_capability(), probe=os.environ.get("PROBE"))
```
"""


@pytest.mark.slow  # seconds: runs a kernel, trains or samples (left out of `make fast`)
@pytest.mark.parametrize(
    ("value", "error"),
    [("41 + 1", None), ("1 / 0", "cell [3] `import os`: ZeroDivisionError: division by zero")],
)
def test_execute_records_figures_or_reports_the_failing_cell(tmp_path: Path, value, error):
    notebook = tmp_path / "probe.md"
    notebook.write_text(NOTEBOOK.replace("VALUE", value))
    run = execute(notebook, tmp_path / "out", env={"ATEN_CPU_CAPABILITY": "default", "PROBE": "set"})
    assert run.error == error
    if error is None:
        # the kernel got the extra environment (torch there runs its portable kernels) ...
        assert run.figures == {"profile": "tiny", "value": 42, "capability": "DEFAULT", "probe": "set"}
    assert "PROBE" not in os.environ  # ... and the test process got its own environment back


@pytest.mark.slow  # seconds: runs a kernel, trains or samples (left out of `make fast`)
def test_execute_runs_its_kernel_over_unix_sockets_and_removes_them(tmp_path: Path, monkeypatch):
    """Not TCP: two test lanes starting kernels at once took each other's ports (tests/regression.py)."""
    notebook = tmp_path / "probe.md"
    notebook.write_text(
        NOTEBOOK.replace("VALUE", "__import__('ipykernel.kernelapp').kernelapp.IPKernelApp.instance().transport")
    )
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where execute makes its socket folder
    run = execute(notebook, tmp_path / "out")
    assert run.error is None and run.figures["value"] == "ipc"
    assert not list(tmp_path.glob("kernel-*")), "the socket folder is left behind"


def test_execute_refuses_an_environment_that_is_not_strings(tmp_path: Path):
    with pytest.raises(TypeError, match=r"env=.*strings"):
        execute(tmp_path / "probe.md", tmp_path / "out", env={"ATEN_CPU_CAPABILITY": None})


def test_cell_seconds_sums_papermill_durations(tmp_path: Path):
    import json

    from tests.regression import cell_seconds

    executed = tmp_path / "x.ipynb"
    executed.write_text(json.dumps({"cells": [{"metadata": {"papermill": {"duration": 1.5}}}, {"metadata": {}}, {"metadata": {"papermill": {"duration": None}}}]}))
    assert cell_seconds(executed) == 1.5  # exact: a sum of dyadic durations
    assert cell_seconds(tmp_path / "missing.ipynb") == 0.0  # exact: nothing ran


def test_compare_reports_lists_of_different_length():
    # zip() would stop at the shorter list and report nothing
    assert compare({"s": [1, 4]}, {"s": [1, 4, 4]}) == ["s: obtained [1, 4], expected [1, 4, 4]"]
    assert compare({"s": [1, 4, 4]}, {"s": [1, 4]}) == ["s: obtained [1, 4, 4], expected [1, 4]"]
    assert compare({"s": []}, {"s": [1]}) == ["s: obtained [], expected [1]"]


def test_compare_reports_every_difference_not_only_the_last():
    assert compare({"a": 1, "b": 2}, {"a": 0, "b": 0}) == ["a: obtained 1, expected 0", "b: obtained 2, expected 0"]
    assert compare({"s": [5, 6]}, {"s": [1, 2]}) == ["s[0]: obtained 5, expected 1", "s[1]: obtained 6, expected 2"]


def test_compare_reports_a_change_of_kind_as_one_difference():
    assert compare({"a": {"b": 1}}, {"a": 2}) == ["a: obtained {'b': 1}, expected 2"]
    assert compare({"a": 2}, {"a": {"b": 1}}) == ["a: obtained 2, expected {'b': 1}"]
    assert compare({"x": 3}, {"x": [3]}) == ["x: obtained 3, expected [3]"]
    assert compare({"x": [3]}, {"x": 3}) == ["x: obtained [3], expected 3"]


def test_compare_uses_the_absolute_tolerances():
    reference = {"m": {"approx": 0.0, "rtol": 0.0, "atol": 0.01, "why": "a difference of two float32 means"}}
    assert compare({"m": {"approx": 0.005, "rtol": 0.0, "atol": 0.01, "why": "x"}}, reference) == []
    assert compare({"m": {"approx": 0.02, "rtol": 0.0, "atol": 0.01, "why": "x"}}, reference) == [
        "m: obtained 0.02, expected 0.0 (rtol 0.0, atol 0.01)"
    ]
    assert compare({"x": 1e-9}, {"x": 0.0}) == []  # a bare float near zero: EXACT_ATOL
    assert compare({"x": 1e-6}, {"x": 0.0}) == ["x: obtained 1e-06, expected 0.0"]


def entry(value, rtol=0.0, atol=0.0, why="float32 sums in another order"):
    return normalise(approx(value, rtol=rtol, atol=atol, why=why))


SHARE = "share of 32 samples the scorer reads right; a sample may flip"
COUNT = "count of 32 samples the scorer reads right; a sample may flip"


@pytest.mark.parametrize(
    "figure, kind",
    [
        (entry(0.5, rtol=1e9), "float"),  # accepts -400: the audit's planted example
        (entry(0.5, rtol=0.011), "float"),  # just over 1 %
        (entry(0.5, atol=0.006), "float"),  # the same as an absolute tolerance
        (entry(0.0, atol=1e-5), "float"),  # at a value of 0 only 1e-6 absolute
        (entry(0.5, atol=0.1, why=SHARE), "share"),  # 3.2 samples of 32
        (entry(12.0, atol=4, why=COUNT), "count"),
        (entry(12.0, atol=3, rtol=0.01, why=COUNT), "count"),  # rtol adds to it
        # approx() refuses a NaN tolerance; a hand-edited reference could still hold one
        ({"approx": 0.5, "rtol": 0.0, "atol": float("nan"), "why": "hand-edited"}, "float"),
    ],
)
def test_the_ceiling_refuses_a_planted_oversized_tolerance(figure, kind):
    from tests.regression import tolerance_problems

    [problem] = tolerance_problems({"chapter": {"figure": [figure]}})
    assert problem.startswith(f"chapter.figure[0]: a {kind} within"), problem


def test_the_ceiling_lets_each_kind_reach_its_limit_and_names_the_exceptions():
    from tests.regression import tolerance_problems

    tree = {
        "float": entry(0.5, rtol=0.01),
        "float_abs": entry(-2.0, atol=0.02),
        "zero": entry(0.0, atol=1e-6),
        "share": entry(0.5, atol=3 / 32, why=SHARE),
        "count": entry(12.0, atol=3, why=COUNT),
        "exact": 0.5,  # a bare float is compared up to rounding: no tolerance to cap
    }
    assert tolerance_problems(tree) == []
    wide = {"wide": {"inner": [entry(0.5, rtol=0.5)]}, "widest": entry(0.5, rtol=0.5)}
    assert tolerance_problems(wide, {"wide": "a reason"}) == [tolerance_problems(wide)[1]]
    assert tolerance_problems(wide, {"wid": "a prefix of a name, not a key above it"}) == tolerance_problems(wide)
    assert len(tolerance_problems(wide)) == 2


def test_a_why_that_names_shares_and_counts_is_refused():
    from tests.regression import tolerance_kind

    with pytest.raises(ValueError, match="shares and counts"):
        tolerance_kind(entry(0.5, atol=0.05, why="shares and counts of samples"))
    assert tolerance_kind(entry(0.5, atol=0.05, why="Share of 32 seeds")) == "share"
    assert tolerance_kind(entry(3.0, atol=3, why="counts of seeds")) == "count"
    assert tolerance_kind(entry(3.0, rtol=0.01, why="pixel std of 32 samples")) == "float"


def test_share_drift_is_the_mean_move_of_the_shares_alone():
    from tests.regression import JOINT_SHARE_DRIFT, share_drift

    expected = {f"s{i}": entry(0.5, atol=2 / 32, why=SHARE) for i in range(8)}
    expected["std"] = entry(0.3, rtol=0.01)
    # two samples lost in every share: each within its tolerance, the mean not
    lost = {f"s{i}": entry(0.5 - 2 / 32, atol=2 / 32, why=SHARE) for i in range(8)}
    lost["std"] = entry(0.9, rtol=0.01)  # not a share: ignored
    assert compare(lost, expected) == ["std: obtained 0.9, expected 0.3 (rtol 0.01, atol 0.0)"]
    assert share_drift(lost, expected) == pytest.approx(-2 / 32)
    assert abs(share_drift(lost, expected)) > JOINT_SHARE_DRIFT
    # one sample of one share flipped, either way: well inside
    flipped = {**expected, "s3": entry(0.5 + 1 / 32, atol=2 / 32, why=SHARE)}
    assert share_drift(flipped, expected) == pytest.approx(1 / 32 / 8)
    assert share_drift({"s0": "missing as approx"}, expected) == 0.0  # exact: the literal returned; compare reports it
    assert share_drift({}, {}) == 0.0  # exact: the literal returned when there are no shares
