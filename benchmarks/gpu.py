"""Speed and memory of the `helpers.gpu` recipes on a CUDA GPU, full-size SD 1.5 and SDXL, random weights.

    .venv/bin/python benchmarks/gpu.py [--out benchmarks/results/gpu.json] [--steps 30] [--models sd15 sdxl]

Per model and recipe (vanilla = bf16 + SDPA, the 1.0x; speed; memory; balanced): first-call
time (compilation included), seconds per image and denoising iterations per second (median of
`--repeats` timed calls after one warm-up), peak memory (`torch.cuda.max_memory_allocated`), and
where each component sits after a call. The FLOP floor: SD 1.5's UNet costs 0.803 TFLOP per
latent at 512², SDXL's 6.76 at 1024² (`helpers.models.full_size`, chapter 03); with CFG the UNet sees 2
latents per step, so TFLOP/s = 2 * cost * it/s, shown as a fraction of the device's dense bf16
peak (`PEAK_BF16`). Timing needs no trained weights: the models are built from the real configs
(`helpers.models.mirror.components`) with random weights, in bf16. Refuses to run without CUDA.
Sized for about 6 minutes on an H100/H200 (SDXL compilation is the longest part).
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import diffusers  # noqa: E402
import torch  # noqa: E402

import helpers  # noqa: E402
from helpers import gpu, pipelines  # noqa: E402
from helpers.models import mirror  # noqa: E402

# TFLOP per UNet forward of one latent, from helpers.models.full_size.forward_cost (asserted by no test)
UNET_TFLOP = {"sd15": 0.803, "sdxl": 6.76}
SIZE = {"sd15": 512, "sdxl": 1024}
# dense (no sparsity) bf16 tensor-core peaks from the vendors' data sheets, TFLOP/s
PEAK_BF16 = {"H200": 989.0, "H100 80GB HBM3": 989.0, "H100 SXM": 989.0, "H100 PCIe": 756.0, "H100 NVL": 835.0,
             "A100": 312.0, "L40S": 362.0, "L4": 121.0, "RTX 4090": 165.2}  # fmt: skip
RECIPES = ("vanilla", "speed", "memory", "balanced")
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "gpu.json"


def peak_for(device_name: str) -> float | None:
    for key, value in PEAK_BF16.items():
        if key in device_name:
            return value
    return None


def build(name: str, ctx) -> diffusers.DiffusionPipeline:
    parts = mirror.components(name, device="cuda", dtype=torch.bfloat16)
    pipe = getattr(diffusers, pipelines.family(name).pipeline_class)(**parts)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def run_recipe(name: str, recipe: str, ctx, steps: int, repeats: int) -> dict:
    torch._dynamo.reset()
    pipe = build(name, ctx)
    report = gpu.optimize(pipe, ctx, goal=recipe)
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    side = SIZE[name]
    step_times: list[float] = []

    def call():
        ticks = []

        def on_step(p, i, t, kwargs):
            torch.cuda.synchronize()
            ticks.append(time.perf_counter())
            return kwargs

        torch.cuda.synchronize()
        start = time.perf_counter()
        pipe("a photo of a cat", height=side, width=side, num_inference_steps=steps, guidance_scale=7.5,
             generator=ctx.generator(), output_type="np", callback_on_step_end=on_step)
        torch.cuda.synchronize()
        end = time.perf_counter()
        # denoising rate: the steps after the first (the first includes text encoding)
        step_times.append((ticks[-1] - ticks[0]) / (len(ticks) - 1))
        return end - start

    first = call()
    call()  # warm-up (a second shape-identical call finishes CUDA-graph recording)
    step_times.clear()
    seconds = [call() for _ in range(repeats)]
    per_image = statistics.median(seconds)
    it_s = 1.0 / statistics.median(step_times)
    result = {
        "recipe": recipe,
        "applied": {k: v for k, v in report.applied.items()},
        "first_call_s": round(first, 3),
        "s_per_image": round(per_image, 4),
        "denoise_it_per_s": round(it_s, 2),
        "peak_gib": round(torch.cuda.max_memory_allocated() / 2**30, 3),
        "placement_after_call": gpu.placement(pipe),
        "graphs_compiled": None if report.compile_counter is None else report.compile_counter.graphs,
        "unet_tflop_per_s": round(2 * UNET_TFLOP[name] * it_s, 1),
    }
    del pipe
    torch.cuda.empty_cache()
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--models", nargs="+", default=["sd15", "sdxl"], choices=tuple(SIZE))
    parser.add_argument("--recipes", nargs="+", default=list(RECIPES), choices=RECIPES)
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print("benchmarks/gpu.py measures CUDA time and memory: torch sees no CUDA device here. "
              "Run it on a machine with an NVIDIA GPU and a CUDA build of torch.", file=sys.stderr)
        return 2
    if args.steps < 2 or args.repeats < 1:
        parser.error("--steps must be at least 2 and --repeats at least 1")
    ctx = helpers.setup(profile="full", seed=0, device="cuda")
    ctx = helpers.Context(profile="full", seed=0, device=ctx.device, dtype=torch.bfloat16)
    device_name = torch.cuda.get_device_name()
    peak = peak_for(device_name)
    rows = []
    for name in args.models:
        for recipe in args.recipes:
            started = time.perf_counter()
            try:
                row = run_recipe(name, recipe, ctx, args.steps, args.repeats)
            except Exception as error:  # one failing recipe must not lose the others' figures
                row = {"recipe": recipe, "error": f"{type(error).__name__}: {error}"[:500]}
            row.update(model=name, size=SIZE[name], steps=args.steps, wall_s=round(time.perf_counter() - started, 1))
            if peak and "unet_tflop_per_s" in row:
                row["fraction_of_bf16_peak"] = round(row["unet_tflop_per_s"] / peak, 3)
            rows.append(row)
            print(json.dumps(row), flush=True)
    for name in args.models:
        base = next((r for r in rows if r["model"] == name and r["recipe"] == "vanilla" and "error" not in r), None)
        for row in rows:
            if row["model"] == name and base and "error" not in row:
                row["speedup_vs_vanilla"] = round(base["s_per_image"] / row["s_per_image"], 2)
    result = {
        "device": device_name,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "torch": torch.__version__,
        "diffusers": diffusers.__version__,
        "cuda": torch.version.cuda,
        "dense_bf16_peak_tflops": peak,
        "unet_tflop_per_latent": UNET_TFLOP,
        "weights": "random (full-size models from the real configs, bf16)",
        "rows": rows,
    }
    header = f"{'model':<5} {'recipe':<9} {'s/img':>7} {'it/s':>7} {'peak GiB':>9} {'first s':>8} {'x':>5} {'%peak':>6}"
    print(f"\n{device_name}, torch {torch.__version__}, diffusers {diffusers.__version__}\n{header}")
    for row in rows:
        if "error" in row:
            print(f"{row['model']:<5} {row['recipe']:<9} ERROR {row['error'][:80]}")
            continue
        pct = row.get("fraction_of_bf16_peak")
        print(f"{row['model']:<5} {row['recipe']:<9} {row['s_per_image']:>7.3f} {row['denoise_it_per_s']:>7.1f} "
              f"{row['peak_gib']:>9.2f} {row['first_call_s']:>8.1f} {row.get('speedup_vs_vanilla', 0):>5.2f} "
              f"{'' if pct is None else f'{100 * pct:.0f}%':>6}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
