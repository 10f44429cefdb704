"""Execute a chapter with papermill and compare what it recorded with its reference.

Used by tests/test_notebooks.py, benchmarks/notebooks.py and tools/matrix.py (no chapter uses it, so
it lives with the tests); kept here so all of them run a chapter the same way (same environment, same
parameters, kernels over Unix sockets). Also here: the ceilings on a reference's tolerances and the
joint check on a chapter's shares, which tests/test_notebooks.py applies.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from helpers.book.record import EXACT_ATOL, EXACT_RTOL, RECORD_ENV
from helpers.book.widgets import STATIC_ENV


def ipc_kernel_manager(folder: Path):
    """A kernel manager class whose kernels talk over Unix sockets in `folder`, not TCP ports.

    jupyter_client picks a TCP kernel's five ports by binding port 0 and closing it, and the kernel
    binds them later; `make test`'s two lanes start kernels at the same moment (this lane's papermill,
    the other's book build), and one took the port the other had picked: "ZMQError: Address already in
    use" in a book kernel's heartbeat thread, a traceback in the book's log. Socket files cannot be
    taken that way."""
    from jupyter_client.manager import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            kwargs.setdefault("transport", "ipc")
            kwargs.setdefault("ip", str(folder / "socket"))
            super().__init__(**kwargs)

    return IPCKernelManager


@dataclass
class Execution:
    notebook: Path
    figures: dict
    seconds: float  # wall time, kernel start and papermill's own work included
    cell_seconds: float  # the cells' execution times, as papermill recorded them
    error: str | None  # one line: "cell [N] `first line`: ExceptionName: message"


def execute(notebook: Path, out_dir: Path, profile: str = "tiny", env: dict[str, str] | None = None, **parameters) -> Execution:
    """Run `notebook` (MyST markdown) through papermill; never raises for a failing cell.

    `env` adds environment variables for the kernel (e.g. {"ATEN_CPU_CAPABILITY": "default"} to
    run torch's portable kernels); the test process's own environment is restored afterwards.
    `parameters` are papermill parameters of the notebook.
    """
    import jupytext
    import papermill
    from papermill.exceptions import PapermillExecutionError

    extra = dict(env or {})
    for key, value in extra.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"execute(env=...) maps variable names to strings, got {key!r}: {value!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    source = out_dir / f"{notebook.stem}.source.ipynb"
    executed = out_dir / f"{notebook.stem}.ipynb"
    jupytext.write(jupytext.read(notebook), source)
    record_path = Path(tempfile.mkdtemp(prefix="record-")) / f"{notebook.stem}.json"
    offline = "1" if profile == "tiny" else os.environ.get("HF_HUB_OFFLINE", "")
    env = {RECORD_ENV: str(record_path), STATIC_ENV: "1", "PROFILE": profile, "HF_HUB_OFFLINE": offline, **extra}
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    sockets = Path(tempfile.mkdtemp(prefix="kernel-"))
    error = None
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(source),
            str(executed),
            parameters={"profile": profile, **parameters},
            kernel_name="python3",
            cwd=str(notebook.parent),
            progress_bar=False,
            kernel_manager_class=ipc_kernel_manager(sockets),
        )
    except PapermillExecutionError as exc:
        first_line = next((line for line in exc.source.splitlines() if line.strip()), "")
        message = exc.evalue.splitlines()[0] if exc.evalue else ""
        error = f"cell [{exc.exec_count}] `{first_line[:60]}`: {exc.ename}: {message}"
    finally:
        shutil.rmtree(sockets, ignore_errors=True)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    seconds = time.perf_counter() - start
    figures = json.loads(record_path.read_text()) if record_path.exists() else {}
    return Execution(notebook, figures, seconds, cell_seconds(executed), error)


def cell_seconds(executed: Path) -> float:
    """The sum of the cells' durations that papermill wrote into the executed notebook."""
    if not executed.exists():
        return 0.0
    cells = json.loads(executed.read_text()).get("cells", [])
    return sum((cell.get("metadata", {}).get("papermill", {}).get("duration") or 0.0) for cell in cells)


def compare(obtained, expected, key: str = "") -> list[str]:
    """Differences between two recorded figure trees, one line each: 'key: obtained X, expected Y'.

    Ints, strings, bools, None and shapes must match exactly; bare floats within EXACT_RTOL/EXACT_ATOL
    (rounding only); an `approx` figure within the rtol/atol its reference entry states.
    """
    if isinstance(expected, dict) and "approx" in expected:
        if isinstance(obtained, dict) and "approx" in obtained:
            got, want = obtained["approx"], expected["approx"]
            if math.isclose(got, want, rel_tol=expected["rtol"], abs_tol=expected["atol"]):
                return []
            return [f"{key}: obtained {got!r}, expected {want!r} (rtol {expected['rtol']}, atol {expected['atol']})"]
        return [f"{key}: obtained {obtained!r}, expected approx {expected['approx']!r}"]
    if isinstance(expected, dict) and isinstance(obtained, dict):
        lines = []
        for name in sorted(set(expected) | set(obtained)):
            where = f"{key}.{name}" if key else name
            if name not in obtained:
                lines.append(f"{where}: missing, expected {expected[name]!r}")
            elif name not in expected:
                lines.append(f"{where}: obtained {obtained[name]!r}, not in the reference")
            else:
                lines += compare(obtained[name], expected[name], where)
        return lines
    if isinstance(expected, list) and isinstance(obtained, list) and len(expected) == len(obtained):
        lines = []
        for index, (got, want) in enumerate(zip(obtained, expected)):
            lines += compare(got, want, f"{key}[{index}]")
        return lines
    if isinstance(expected, float) and isinstance(obtained, (int, float)) and not isinstance(obtained, bool):
        if math.isclose(obtained, expected, rel_tol=EXACT_RTOL, abs_tol=EXACT_ATOL):
            return []
    elif type(obtained) is type(expected) and obtained == expected:
        return []
    return [f"{key}: obtained {obtained!r}, expected {expected!r}"]


# The ceilings of a reference's tolerances, by what the figure is (its `why` says which):
SHARE_CEILING = 3 / 32  # a share of samples: three samples of the 32 the book's rule asks for at least
COUNT_CEILING = 3  # a count of samples: three samples
FLOAT_CEILING = 1e-2  # anything else: 1 % of the reference value
ZERO_CEILING = 1e-6  # ... or this much when the reference value is 0
# One sample's worth of 32: how far the mean of a chapter's shares may drift in one run, when each
# share alone may move by up to SHARE_CEILING (a systematic loss of two samples in every share
# passes each share's tolerance, and fails this).
JOINT_SHARE_DRIFT = 1 / 32


def approx_entries(tree, key: str = ""):
    """(key, entry) for every `approx` entry of a recorded figure tree, in key order."""
    if isinstance(tree, dict) and "approx" in tree:
        yield key, tree
    elif isinstance(tree, dict):
        for name in sorted(tree):
            yield from approx_entries(tree[name], f"{key}.{name}" if key else name)
    elif isinstance(tree, list):
        for index, item in enumerate(tree):
            yield from approx_entries(item, f"{key}[{index}]")


def under(key: str, prefix: str) -> bool:
    """Whether figure `key` is `prefix` or inside it ("a.b[2]" is under "a" and "a.b", not "a.bc")."""
    return key == prefix or key.startswith((prefix + ".", prefix + "["))


def tolerance_kind(entry: dict) -> str:
    """"share", "count" or "float", from the words of the entry's `why` ("share of 32 samples ...",
    "counts of toy samples ..."); a why that names both is refused (ValueError): say which."""
    why = entry["why"].lower()
    share, count = "share" in why, "count" in why
    if share and count:
        raise ValueError(f"the why {entry['why']!r} names shares and counts: give each kind its own why")
    return "share" if share else "count" if count else "float"


def tolerance_problems(tree, allowed: dict[str, str] | None = None) -> list[str]:
    """Every `approx` entry of `tree` whose tolerance passes its kind's ceiling, one line each,
    except those under a key of `allowed` (key -> the reason it may be wider)."""
    allowed = allowed or {}
    problems = []
    for key, entry in approx_entries(tree):
        if any(under(key, prefix) for prefix in allowed):
            continue
        value, rtol, atol = entry["approx"], entry["rtol"], entry["atol"]
        kind = tolerance_kind(entry)
        width = atol + rtol * abs(value)  # what math.isclose accepts, at most
        if kind == "share":
            ceiling, unit = SHARE_CEILING, "three samples of 32"
        elif kind == "count":
            ceiling, unit = COUNT_CEILING, "three samples"
        elif value:
            ceiling, unit = FLOAT_CEILING * abs(value), "1 % of the value"
        else:
            ceiling, unit = ZERO_CEILING, f"{ZERO_CEILING:g} at a value of 0"
        if not width <= ceiling:  # `not <=` so that a NaN tolerance fails too
            problems.append(f"{key}: a {kind} within {width:.3g} of {value!r} (rtol {rtol}, atol {atol}); the ceiling is {unit}")
    return problems


def share_drift(obtained, expected) -> float:
    """The mean of the shares `obtained` records minus the mean of those `expected` holds (the share
    entries of `expected` that `obtained` records as approx too); 0.0 when there are none."""
    found = dict(approx_entries(obtained))
    pairs = [
        (found[key]["approx"], entry["approx"])
        for key, entry in approx_entries(expected)
        if tolerance_kind(entry) == "share" and key in found
    ]
    if not pairs:
        return 0.0
    return sum(got - want for got, want in pairs) / len(pairs)
