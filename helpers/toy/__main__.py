"""`python -m helpers.toy train --out DIR [--steps N]`: train the toy Stable Diffusion pipeline."""

from __future__ import annotations

import argparse
import json


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.toy", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train VAE, then UNet + text encoder; save a pipeline folder")
    train.add_argument("--out", required=True, help="folder to write (Hub layout)")
    train.add_argument("--steps", type=int, default=3697,
                       help="UNet steps (default 3697, as the committed weights)")
    train.add_argument("--vae-steps", type=int, default=1500, help="VAE steps (default 1500)")
    train.add_argument("--batch", type=int, default=256)
    train.add_argument("--images", type=int, default=10000, help="world images to train on")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--device", default="cpu")
    train.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    train.add_argument("--time-budget", type=float, default=None,
                       help="seconds for the UNet stage: fewer steps if --steps would take longer")
    args = parser.parse_args(argv)
    from .train import train as run

    summary = run(args.out, steps=args.steps, vae_steps=args.vae_steps, batch=args.batch,
                  n_images=args.images, seed=args.seed, device=args.device, threads=args.threads,
                  time_budget=args.time_budget)
    print(json.dumps({k: v for k, v in summary.items() if not k.endswith("curve")}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
