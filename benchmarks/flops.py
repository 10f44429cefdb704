"""Time FLOP counting (helpers.models.flops) of every full-size model in helpers.models.full_size, built on meta.

    .venv/bin/python benchmarks/flops.py            # build + count each model at its native size
    .venv/bin/python benchmarks/flops.py --check    # also count with FlopCounterMode and compare

Target: build + count of all models in at most 10 s on the 2-core CI machine (the import of
torch and diffusers, a few seconds, is reported separately). `--check` fails if the fast counter
and torch's FlopCounterMode disagree on any op of any model.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

TARGET_S = 10.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with FlopCounterMode (slower)")
    options = parser.parse_args()

    started = time.perf_counter()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import torch

    from helpers.models import flops, full_size

    torch.set_num_threads(2)
    for name in full_size.MODEL_NAMES:  # import the model classes now: import time is not counting time
        full_size.spec(name).model_class()
    print(f"import of torch, diffusers and the model classes: {time.perf_counter() - started:.2f} s")

    total = 0.0
    mismatches = []
    print(f"{'model':20s} {'size':>5s} {'params':>12s} {'TFLOP/call':>11s} {'build s':>8s} {'count s':>8s}")
    for name in full_size.MODEL_NAMES:
        t0 = time.perf_counter()
        model = full_size.build(name)
        t1 = time.perf_counter()
        cost = full_size.forward_cost(name, model=model)
        t2 = time.perf_counter()
        total += t2 - t0
        size = full_size.spec(name).default_size
        print(f"{name:20s} {size:5d} {flops.count_params(model):12,d} {cost.tflops:11.4f} {t1 - t0:8.2f} {t2 - t1:8.2f}")
        if options.check:
            reference = full_size.forward_cost(name, model=model, reference=True)
            if reference != cost:
                mismatches.append(f"{name}: fast {cost.by_op} != FlopCounterMode {reference.by_op}")
    verdict = "within" if total <= TARGET_S else "OVER"
    print(f"build + count, all {len(full_size.MODEL_NAMES)} models: {total:.2f} s ({verdict} the {TARGET_S:.0f} s target)")
    if options.check:
        print("FlopCounterMode agrees op by op" if not mismatches else "\n".join(mismatches))
    return 1 if mismatches else 0


if __name__ == "__main__":
    raise SystemExit(main())
