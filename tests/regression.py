"""Execute a chapter with papermill and compare what it recorded with its reference.

Used by tests/test_notebooks.py and benchmarks/notebooks.py (no chapter uses it, so it lives with the tests); kept here so both run a chapter the
same way (same environment, same parameters).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from helpers.record import EXACT_ATOL, EXACT_RTOL, RECORD_ENV
from helpers.widgets import STATIC_ENV


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
        )
    except PapermillExecutionError as exc:
        first_line = next((line for line in exc.source.splitlines() if line.strip()), "")
        message = exc.evalue.splitlines()[0] if exc.evalue else ""
        error = f"cell [{exc.exec_count}] `{first_line[:60]}`: {exc.ename}: {message}"
    finally:
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
