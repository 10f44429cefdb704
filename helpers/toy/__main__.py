"""`python -m helpers.toy train --out DIR [--steps N]`: train the toy Stable Diffusion pipeline.
`python -m helpers.toy train-wuerstchen --out DIR`: train the toy Würstchen (prior + decoder).
`python -m helpers.toy finetune --method lora --rank 4 --seed 0 --out DIR`: teach the committed toy SD
a new concept (full fine-tune or LoRA) and measure it along the way.
`python -m helpers.toy preference --method baseline --out DIR`, then `--method dpo --beta 2500 --seed 0
--out DIR`: preference-tune the toy SD with the scorer as the judge (Diffusion-DPO, ORPO, SFT on winners).
`python -m helpers.toy train-inpaint --seed 0 --out DIR`: teach the toy SD to inpaint (a 9-channel UNet:
conv_in in full and a LoRA)."""

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
    finetune = commands.add_parser(
        "finetune", help="teach the toy SD the new concept (top-left corner): full fine-tune or LoRA; measure it",
        description="Defaults: helpers.toy.finetune.DEFAULTS. Writes finetune.json (and the LoRA) to --out.")
    finetune.add_argument("--method", required=True, choices=("full", "lora"))
    finetune.add_argument("--rank", type=int, default=None, help="LoRA rank (required with --method lora)")
    finetune.add_argument("--out", required=True, help="folder to write")
    finetune.add_argument("--seed", type=int, default=0, help="training seed: batches, noise, the LoRA's init")
    finetune.add_argument("--steps", type=int, default=None)
    finetune.add_argument("--batch", type=int, default=None)
    finetune.add_argument("--lr", type=float, default=None, help="peak learning rate (default: the method's)")
    finetune.add_argument("--checkpoints", default=None,
                          help="comma-separated steps to measure after (0 = the base model), e.g. 0,50,100")
    finetune.add_argument("--scales", default="", help="comma-separated LoRA scales to measure the final adapter at")
    finetune.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    prefer = commands.add_parser(
        "preference", help="preference-tune the toy SD (DPO, ORPO, SFT on winners) on pairs the scorer judged",
        description="Defaults: helpers.toy.preference.DEFAULTS. --method baseline makes the pairs (pairs.npz) and "
                    "measures the untuned model (baseline.json); the others write preference.json and the LoRA.")
    prefer.add_argument("--method", required=True, choices=("baseline", "dpo", "orpo", "sft"))
    prefer.add_argument("--out", required=True, help="folder to write")
    prefer.add_argument("--beta", type=float, default=None, help="DPO/ORPO beta (default: the research project's)")
    prefer.add_argument("--seed", type=int, default=0, help="training seed: batches, noise, the LoRA's init")
    prefer.add_argument("--steps", type=int, default=None)
    prefer.add_argument("--batch", type=int, default=None, help="pairs per step")
    prefer.add_argument("--lr", type=float, default=None, help="peak learning rate")
    prefer.add_argument("--pairs", default=None, help="pairs.npz to train on (default: the committed one)")
    prefer.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    inpaint = commands.add_parser(
        "train-inpaint", help="teach the toy SD to inpaint: a 9-channel UNet (conv_in in full, a LoRA); save both",
        description="Defaults: helpers.toy.inpaint.DEFAULTS. Writes conv_in.safetensors, the LoRA and inpaint.json.")
    inpaint.add_argument("--out", required=True, help="folder to write")
    inpaint.add_argument("--seed", type=int, default=0, help="training seed: batches, noise, the LoRA's init")
    inpaint.add_argument("--steps", type=int, default=None)
    inpaint.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    check = commands.add_parser("concept-check", help="the scorer on the new concepts, rendered and through the "
                                                     "toy VAE, and the base model's accuracy; write JSON")
    check.add_argument("--out", required=True, help="JSON file to write")
    check.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    if args.command == "concept-check":
        return _concept_check(args)
    if args.command == "finetune":
        return _finetune(parser, args)
    if args.command == "preference":
        return _preference(parser, args)
    if args.command == "train-inpaint":
        from .inpaint import train_inpaint

        keywords = {} if args.steps is None else {"steps": args.steps}
        summary = train_inpaint(args.out, seed=args.seed, threads=args.threads, **keywords)
        print(json.dumps({k: v for k, v in summary.items() if k not in ("losses", "loss_curve")}, indent=1))
        return 0
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


def _steps_list(parser, flag: str, text: str, kind):
    try:
        return tuple(kind(part) for part in text.split(",") if part.strip())
    except ValueError:
        parser.error(f"{flag} must be comma-separated numbers, e.g. 0,50,100; got {text!r}")


def _concept_check(args) -> int:
    from pathlib import Path

    import torch

    from .finetune import concept_validation, evaluate_concept, load_base

    torch.set_num_threads(args.threads)
    pipe = load_base()
    summary = {"validation": concept_validation(pipe.vae), "base_model": evaluate_concept(pipe)}
    Path(args.out).write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary, indent=1))
    return 0


def _finetune(parser, args) -> int:
    from .finetune import DEFAULTS, finetune

    if args.method == "lora" and args.rank is None:
        parser.error("--method lora needs --rank (e.g. --rank 4)")
    if args.method == "full" and args.rank is not None:
        parser.error("--rank is a LoRA setting; leave it out with --method full")
    keywords = {name: getattr(args, name) for name in ("steps", "batch", "lr") if getattr(args, name) is not None}
    if args.checkpoints is not None:
        keywords["checkpoints"] = _steps_list(parser, "--checkpoints", args.checkpoints, int)
    elif "steps" in keywords:  # the default checkpoints that fit the steps asked for
        keywords["checkpoints"] = tuple(c for c in DEFAULTS["checkpoints"] if c <= keywords["steps"])
    summary = finetune(args.method, args.out, rank=args.rank, seed=args.seed, threads=args.threads,
                       scales=_steps_list(parser, "--scales", args.scales, float), **keywords)
    print(json.dumps({k: v for k, v in summary.items() if k not in ("losses", "loss_curve")}, indent=1))
    return 0


def _preference(parser, args) -> int:
    from .preference import baseline, preference

    if args.method == "baseline":
        given = [flag for flag in ("beta", "steps", "batch", "lr", "pairs") if getattr(args, flag) is not None]
        if given:
            parser.error(f"--method baseline trains nothing: leave out --{', --'.join(given)}")
        summary = baseline(args.out, threads=args.threads)
        print(json.dumps(summary, indent=1))
        return 0
    if args.method == "sft" and args.beta is not None:
        parser.error("--beta is a DPO/ORPO setting; leave it out with --method sft")
    keywords = {name: getattr(args, name) for name in ("steps", "batch", "lr") if getattr(args, name) is not None}
    summary = preference(args.method, args.out, seed=args.seed, beta=args.beta, threads=args.threads,
                         pairs_file=args.pairs, **keywords)
    print(json.dumps({k: v for k, v in summary.items() if not k.endswith(("losses", "curve", "accuracy"))}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
