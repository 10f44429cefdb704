"""Every chapter, executed in the tiny profile, must record the figures in tests/reference/.

Each chapter runs twice: with the CPU kernels torch picks for this machine ("native"), and with
torch's portable kernels (`ATEN_CPU_CAPABILITY=default`), which sum floats in another order, as an
older or different CPU would. Both must match the same reference, so a figure that depends on the
CPU fails on the machine where it is added, not on the next reader's.

The second pass also switches MKL (torch's BLAS and vector maths: `pow`, `exp`) to the code path
another CPU vendor gets (`MKL_CBWR`, MKL's conditional numerical reproducibility), which torch's
kernel setting does not reach: MKL's `pow` on Intel's path rounds sqrt(2**24 - 1) to 4095.99976 and
on the compatible path (as on the AMD machine the references were first recorded on) to 4096.0.
tools/perturbations.py measures which figures each such setting moves.
"""

import ast
import json
import os
from pathlib import Path

import pytest
import torch

from helpers.book import toc
from helpers.pipelines import CACHE_ENV
from tests import book_handoff
from tests.regression import JOINT_SHARE_DRIFT, approx_entries, compare, execute, share_drift, tolerance_problems, under

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = toc.chapters()
REFERENCES = ROOT / "tests" / "reference"
EXECUTED = ROOT / "_build" / "executed"
CAPABILITY_ENV = "ATEN_CPU_CAPABILITY"
MKL_ENV = "MKL_CBWR"
# oneDNN (torch's convolutions, and the choice of a packed bfloat16 attention kernel) picks its own
# instruction set from the CPU, also past torch's kernel setting. The second pass caps it at SSE4.1,
# oneDNN's oldest, so that the simulated old machine is one machine: on a CPU with AMX, torch 2.13's
# bfloat16 scaled_dot_product_attention asks oneDNN, packs for AMX, and then finds the packing kernel
# missing from the portable kernel set ("pack_vnni2 is only supported when avx512 is supported"),
# an error no real CPU gives.
ONEDNN_ENV = "ONEDNN_MAX_CPU_ISA"
ONEDNN_ISA = "SSE41"
# What this process runs: ATEN_CPU_CAPABILITY if set, else the best the CPU has (e.g. AVX512).
NATIVE = torch.backends.cpu.get_cpu_capability()
PASSES = ("native", "default")


def other_mkl_path() -> str:
    """An MKL code path other than this CPU's own: COMPATIBLE on Intel, whose own path is AVX2 or
    AVX-512; AVX2 elsewhere, since the AMD machine the references come from computed `pow` as the
    pre-AVX2 paths do (4096.0 above). The AVX2 choice is reasoned, not yet run on AMD."""
    cpuinfo = Path("/proc/cpuinfo")
    intel = cpuinfo.exists() and "GenuineIntel" in cpuinfo.read_text(errors="replace")
    return "COMPATIBLE" if intel else "AVX2"


def pass_environment(which: str) -> tuple[dict[str, str], str]:
    """The kernel's extra environment for a pass, and how the failure line names it."""
    if which == "native":
        return {}, f"{CAPABILITY_ENV}={os.environ.get(CAPABILITY_ENV, 'unset')}, torch runs {NATIVE}"
    # A machine without AVX2 would also build the tiny weights with the portable kernels (their
    # random init rounds differently in the last bit), so this pass builds its own cache.
    cache = Path(os.environ[CACHE_ENV]).with_name(Path(os.environ[CACHE_ENV]).name + "-default-kernels")
    mkl = other_mkl_path()
    environment = {CAPABILITY_ENV: "default", MKL_ENV: mkl, ONEDNN_ENV: ONEDNN_ISA, CACHE_ENV: str(cache)}
    return environment, f"{CAPABILITY_ENV}=default {MKL_ENV}={mkl} {ONEDNN_ENV}={ONEDNN_ISA}"


@pytest.mark.slow  # a chapter run: seconds to a minute each
@pytest.mark.parametrize("which", PASSES)
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_notebook(notebook, which, update_refs):
    if which == "default" and NATIVE == "DEFAULT" and os.environ.get(MKL_ENV):
        pytest.skip("the native pass already ran torch's default kernels and a fixed MKL path on this machine")
    if which == "default" and update_refs:
        pytest.skip("--update-refs writes references from the native pass; run again without it to check them")
    env, label = pass_environment(which)
    name = f"{notebook.name} ({label})"
    if which == "native":
        try:
            run = execute(notebook, EXECUTED / which, env=env)
            # the book build renders this run instead of executing the chapter again (tests/book_handoff.py)
            book_handoff.hand_over(notebook, EXECUTED / which / f"{notebook.stem}.ipynb", run.error, run.cell_seconds)
        finally:
            book_handoff.mark_done(notebook.stem)
    else:
        run = execute(notebook, EXECUTED / which, env=env)
    if run.error:
        pytest.fail(f"{name}: {run.error}", pytrace=False)
    if not run.figures:
        pytest.fail(f"{name}: recorded no figures (call helpers.record at the end)", pytrace=False)
    reference = REFERENCES / f"{notebook.stem}.json"
    if update_refs:
        reference.write_text(json.dumps(run.figures, indent=2, sort_keys=True) + "\n")
        return
    if not reference.exists():
        pytest.fail(f"{name}: no reference {reference.relative_to(ROOT)}; run pytest --update-refs and review it", pytrace=False)
    expected = json.loads(reference.read_text())
    differences = compare(run.figures, expected)
    if differences:
        pytest.fail("\n".join(f"{name}: {line}" for line in differences), pytrace=False)
    drift = share_drift(run.figures, expected)
    if not abs(drift) <= JOINT_SHARE_DRIFT:
        pytest.fail(
            f"{name}: every share is within its tolerance, but their mean moved by {drift:+.4f}, more than one sample "
            f"of 32 ({JOINT_SHARE_DRIFT:.4f}): a systematic change, not a sample or two near a threshold",
            pytrace=False,
        )


# Tolerances above their kind's ceiling (tests/regression.py), each with the reason it may be.
WIDER_THAN_THE_CEILING = {
    "08-pag": {
        "measured_adaptive_scales": "a fitted PAG scale of exactly 0 (the adaptive scale clipped it) within the "
        "3e-4 its siblings of 1 to 3 get: 1e-4 of the scale's range, which the chapter asserts against the formula",
    },
}


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_every_tolerance_in_the_reference_is_under_its_ceiling(notebook):
    """A tolerance wide enough to pass anything is no test: each `approx` of a reference stays under
    the ceiling of its kind (tests/regression.py: three samples for shares and counts, 1 % for other
    figures), unless WIDER_THAN_THE_CEILING names it with a reason."""
    expected = json.loads((REFERENCES / f"{notebook.stem}.json").read_text())
    problems = tolerance_problems(expected, WIDER_THAN_THE_CEILING.get(notebook.stem))
    assert not problems, f"{notebook.stem}: tolerances above their ceiling:\n" + "\n".join(problems)


def test_the_wider_tolerances_name_keys_that_exist():
    for stem, allowed in WIDER_THAN_THE_CEILING.items():
        keys = [key for key, _ in approx_entries(json.loads((REFERENCES / f"{stem}.json").read_text()))]
        for prefix in allowed:
            assert any(under(key, prefix) for key in keys), f"{stem}: WIDER_THAN_THE_CEILING names {prefix!r}, which is no approx figure"


def rounded_in_records(source: str) -> list[str]:
    """The `round(...)` calls (builtin, numpy's or a tensor's) inside `record(...)` calls of a code cell
    (as tools/check_float_equality.code_cells gives it: options and IPython magics blanked)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) == "record":
            found += [
                ast.unparse(sub)
                for sub in ast.walk(node)
                if isinstance(sub, ast.Call) and "round" in (getattr(sub.func, "id", None), getattr(sub.func, "attr", None))
            ]
    return found


def test_no_chapter_records_a_rounded_value():
    """A value rounded before it is recorded flips on another machine when it sits near a rounding
    boundary (README, "What may be recorded"): record it unrounded, with approx if it can move."""
    from tools.check_float_equality import code_cells

    found = [
        f"{notebook.name}:{line}: {call}"
        for notebook in NOTEBOOKS
        for line, source in code_cells(notebook.read_text())
        for call in rounded_in_records(source)
    ]
    assert not found, "rounded values recorded:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "source, found",
    [
        ("helpers.record(x=round(float(v), 4))", ["round(float(v), 4)"]),
        ("record(d={k: np.round(v, 2) for k, v in d.items()})", ["np.round(v, 2)"]),
        ("helpers.record(x=t.round())", ["t.round()"]),
        ("helpers.record(x=float(v))\nshown = round(v, 3)", []),  # rounding for display is fine
        ("helpers.record(x=round(v)", []),  # not Python: the chapter run reports it
    ],
)
def test_the_rounding_check_finds_round_inside_record_only(source, found):
    assert rounded_in_records(source) == found
