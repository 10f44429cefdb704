"""On a CUDA GPU: A1111's NV (Philox) source against CUDA's own torch.randn, and CPU vs CUDA generators.

Writes the figures the seeds chapter shows (benchmarks/results/seeds_cuda.json by default):

    .venv/bin/python benchmarks/seeds_cuda.py [--out PATH]
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from helpers import seeds  # noqa: E402

SEEDS = (0, 1, 12345, 2**32 - 1)
SHAPE = (4, 64, 64)  # SD 1.5's latent at 512 px


def measure() -> dict:
    out = {
        "date": datetime.date.today().isoformat(),
        "script": "benchmarks/seeds_cuda.py",
        "device": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
    }
    a = torch.randn(1, *SHAPE, generator=torch.Generator("cpu").manual_seed(0))
    b = torch.randn(1, *SHAPE, generator=torch.Generator("cuda").manual_seed(0), device="cuda").cpu()
    out["cpu_vs_cuda_generator_max_abs_diff"] = (a - b).abs().max().item()
    out["cpu_first_values"] = a.flatten()[:4].tolist()
    out["cuda_first_values"] = b.flatten()[:4].tolist()
    for seed in SEEDS:
        nv = seeds.a1111_latents(seed, SHAPE, source="nv")
        gpu = seeds.a1111_latents(seed, SHAPE, source="gpu")
        out[f"nv_vs_gpu_seed_{seed}_max_abs_diff"] = (nv.cpu() - gpu.cpu()).abs().max().item()
    from diffusers.utils.torch_utils import randn_tensor

    r = randn_tensor((1, *SHAPE), generator=torch.Generator("cpu").manual_seed(0), device=torch.device("cuda"))
    out["randn_tensor_cpu_generator_on_cuda_equals_cpu"] = bool(torch.equal(r.cpu(), a))
    out["randn_tensor_result_device"] = str(r.device)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "seeds_cuda.json")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("benchmarks/seeds_cuda.py needs a CUDA GPU: torch.cuda.is_available() is False", file=sys.stderr)
        return 2
    figures = measure()
    print(json.dumps(figures, indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
