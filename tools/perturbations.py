"""Which recorded figures move when the machine changes in a way torch's kernel pass does not cover.

The regression runs every chapter twice: torch's best kernels and its portable ones
(`ATEN_CPU_CAPABILITY=default`). Two machines with the same kernel set can still disagree, because
other libraries pick their code path by CPU: MKL (torch's BLAS, and its vector maths such as `exp`
and `pow`) runs another path on AMD than on Intel, and NumPy dispatches `exp`, `sin` and others on
the SIMD the CPU has. Each of these can be forced on one machine with an environment variable:

    MKL_CBWR=COMPATIBLE                 MKL's conditional numerical reproducibility: its portable path
    NPY_DISABLE_CPU_FEATURES="..."      NumPy without its AVX2/AVX-512 loops (the names of numpy 2.4)
    ONEDNN_MAX_CPU_ISA=SSE41            oneDNN (convolutions; bfloat16 attention's packing) at its oldest
    ATEN_CPU_CAPABILITY=default         for comparison: what the existing second pass already varies

This survey runs the chapters under each, compares what they record with tests/reference/ and
prints every figure that moved past its tolerance (and every chapter that stopped), then every
figure that differs in any bit from the unperturbed ("native") run, so the perturbation that finds
the most can join the regression. It takes a few minutes a perturbation on two cores.

    .venv/bin/python tools/perturbations.py                      # every perturbation, every chapter
    .venv/bin/python tools/perturbations.py --only mkl --chapters 01 06
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from helpers.book import toc  # noqa: E402
from tests.regression import compare, execute  # noqa: E402

# The names numpy 2.4 reports in np.show_runtime() as "found" on an AVX-512 machine; disabling a
# name the CPU lacks is harmless.
NUMPY_SIMD = "X86_V3 X86_V4 AVX512_ICL AVX512_SPR"
PERTURBATIONS = {
    "native": {},  # the baseline the others are compared with bit for bit
    "mkl": {"MKL_CBWR": "COMPATIBLE"},
    "numpy": {"NPY_DISABLE_CPU_FEATURES": NUMPY_SIMD},
    "onednn": {"ONEDNN_MAX_CPU_ISA": "SSE41"},
    "aten": {"ATEN_CPU_CAPABILITY": "default"},
}


def survey(names: list[str], chapters: list[Path], out: Path) -> dict[str, dict[str, list[str]]]:
    """{perturbation: {chapter: [moved figure or stop, ...]}} over `chapters`."""
    import os

    from helpers.pipelines import CACHE_ENV

    from tqdm import tqdm

    cache = os.environ.get(CACHE_ENV, str(ROOT / "_build" / "tiny-cache"))
    found: dict[str, dict[str, list[str]]] = {}
    runs = [(name, chapter) for name in names for chapter in chapters]
    for name, chapter in tqdm(runs, desc="perturbed chapters", unit="chapter"):
        env = dict(PERTURBATIONS[name])
        # torch's portable kernels also initialise the tiny weights differently (last bit), as in
        # the regression's second pass; MKL and NumPy leave torch's random init alone
        env[CACHE_ENV] = cache + "-default-kernels" if name == "aten" else cache
        start = time.perf_counter()
        run = execute(chapter, out / name, env=env)
        reference = json.loads((ROOT / "tests" / "reference" / f"{chapter.stem}.json").read_text())
        lines = [f"stopped: {run.error}"] if run.error else compare(run.figures, reference)
        (out / name / f"{chapter.stem}.figures.json").write_text(json.dumps(run.figures, indent=1) + "\n")
        found.setdefault(name, {})[chapter.stem] = lines
        tqdm.write(f"{name:6} {chapter.stem:28} {len(lines):3} moved  ({time.perf_counter() - start:.0f} s)")
    return found


def moved_at_all(out: Path, name: str) -> dict[str, list[str]]:
    """The figures of `name` that differ in any bit from the native run's (both saved in `out`)."""
    moved = {}
    for path in sorted((out / name).glob("*.figures.json")):
        native = out / "native" / path.name
        if native.exists():
            strict = _strict(json.loads(path.read_text()), json.loads(native.read_text()))
            moved[path.name.removesuffix(".figures.json")] = strict
    return moved


def _strict(obtained, expected, key: str = "") -> list[str]:
    if isinstance(expected, dict) and isinstance(obtained, dict):
        return [line for name in sorted(set(expected) | set(obtained))
                for line in _strict(obtained.get(name), expected.get(name), f"{key}.{name}" if key else name)]
    if isinstance(expected, list) and isinstance(obtained, list) and len(expected) == len(obtained):
        return [line for i, (a, b) in enumerate(zip(obtained, expected)) for line in _strict(a, b, f"{key}[{i}]")]
    return [] if obtained == expected else [f"{key}: {obtained!r} (native {expected!r})"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted(PERTURBATIONS), default=sorted(PERTURBATIONS))
    parser.add_argument("--chapters", nargs="*", default=[], help="prefixes or substrings of chapter names")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "perturbations")
    args = parser.parse_args(argv)
    chapters = toc.chapters()
    if args.chapters:
        chapters = [c for c in chapters if any(s in c.stem for s in args.chapters)]
        if not chapters:
            parser.error(f"no chapter matches {args.chapters}")
    found = survey(args.only, chapters, args.out)
    for name, by_chapter in found.items():
        total = sum(len(lines) for lines in by_chapter.values())
        print(f"\n## {name} ({' '.join(f'{k}={v}' for k, v in PERTURBATIONS[name].items())}): {total} moved")
        for chapter, lines in by_chapter.items():
            for line in lines:
                print(f"- {chapter}: {line}")
        if name != "native":
            for chapter, lines in moved_at_all(args.out, name).items():
                for line in lines:
                    print(f"  moved within its tolerance, {chapter}: {line}")
    (args.out / "survey.json").write_text(json.dumps(found, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
