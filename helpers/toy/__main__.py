"""`python -m helpers.toy train --out DIR [--steps N]`: train the toy Stable Diffusion pipeline.
`python -m helpers.toy train-wuerstchen --out DIR`: train the toy Würstchen (prior + decoder)."""

from __future__ import annotations

import argparse
import json
from dataclasses import fields

from .train import TRAINING_RECIPES, Recipe

OVERRIDABLE = tuple(field.name for field in fields(Recipe))  # each has a flag of the same dest


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.toy", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser(
        "train", help="train VAE, then UNet + text encoder; save a pipeline folder",
        description="A recipe's settings (see helpers.toy.train.TRAINING_RECIPES), each replaceable by its flag.")
    train.add_argument("--out", required=True, help="folder to write (Hub layout)")
    train.add_argument("--recipe", choices=TRAINING_RECIPES, default="cpu",
                       help="cpu (default): fits 30 min on a 2-core CPU; "
                            "device: the committed weights' settings (about 6 min on an H200)")
    train.add_argument("--steps", type=int, help="UNet + text encoder steps")
    train.add_argument("--batch", type=int, help="UNet batch")
    train.add_argument("--lr", type=float, help="UNet + text encoder peak learning rate")
    train.add_argument("--vae-steps", type=int, help="VAE steps")
    train.add_argument("--vae-batch", type=int, help="VAE batch")
    train.add_argument("--vae-lr", type=float, help="VAE peak learning rate")
    train.add_argument("--images", type=int, dest="n_images", help="world images to train on")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--device", default="cpu")
    train.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    train.add_argument("--time-budget", type=float, default=None,
                       help="seconds for the UNet stage: fewer steps if --steps would take longer")
    wuerstchen = commands.add_parser("train-wuerstchen",
                                     help="train Stage C, Stage A, then Stage B; save prior/ and decoder/ folders")
    wuerstchen.add_argument("--out", required=True, help="folder to write (prior/ and decoder/, Hub layout)")
    wuerstchen.add_argument("--stage-a-steps", type=int, default=800)
    wuerstchen.add_argument("--stage-b-steps", type=int, default=1400)
    wuerstchen.add_argument("--stage-c-steps", type=int, default=1800)
    wuerstchen.add_argument("--batch", type=int, default=64)
    wuerstchen.add_argument("--images", type=int, default=8000, help="world images to train on")
    wuerstchen.add_argument("--seed", type=int, default=0)
    wuerstchen.add_argument("--device", default="cpu")
    wuerstchen.add_argument("--threads", type=int, default=1,
                            help="torch CPU threads (default 1: the machine is shared)")
    wuerstchen.add_argument("--no-eval", action="store_true", help="skip the scorer's accuracy at the end")
    args = parser.parse_args(argv)
    if args.command == "train-wuerstchen":
        from .train_wuerstchen import train as run_wuerstchen

        summary = run_wuerstchen(args.out, stage_a_steps=args.stage_a_steps, stage_b_steps=args.stage_b_steps,
                                 stage_c_steps=args.stage_c_steps, batch=args.batch, n_images=args.images,
                                 seed=args.seed, device=args.device, threads=args.threads,
                                 evaluate=not args.no_eval)
        print(json.dumps({k: v for k, v in summary.items() if not k.endswith("curve")}, indent=1))
        return 0
    from .train import train as run

    overrides = {name: getattr(args, name) for name in OVERRIDABLE if getattr(args, name) is not None}
    summary = run(args.out, recipe=args.recipe, seed=args.seed, device=args.device, threads=args.threads,
                  time_budget=args.time_budget, **overrides)
    print(json.dumps({k: v for k, v in summary.items() if not k.endswith("curve")}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
