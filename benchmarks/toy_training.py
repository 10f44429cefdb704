"""Time the toy Stable Diffusion's training recipe against the 30-minute target on a 2-core CPU.

    .venv/bin/python benchmarks/toy_training.py               # time a few steps, project the recipe
    .venv/bin/python benchmarks/toy_training.py --full DIR    # train the whole recipe into DIR, score it

The projection times 20 VAE and 40 UNet steps at the recipe's batch sizes (the first few of each
are warm-up and not counted) and multiplies out; data, encoding and saving are not in it. `--full`
is the real measure: it trains, then reads the scorer's accuracy at the model card's settings
(32 fixed captions and seeds, 20 steps; PNDM and Euler at guidance 1 and 5) and writes
benchmarks/results/toy_training.json. Run either on an idle machine: a second busy process halves
the speed of a 2-thread run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 30 * 60


def project(recipe, threads: int) -> dict:
    import torch
    import torch.nn.functional as F

    from helpers.toy import models

    torch.set_num_threads(threads)
    parts = models.build(0)
    vae, unet, text_encoder, tokenizer = parts["vae"], parts["unet"], parts["text_encoder"], parts["tokenizer"]
    opt = torch.optim.AdamW(list(vae.parameters()), lr=recipe.vae_lr)

    def vae_step():
        x = torch.rand(recipe.vae_batch, 3, 32, 32) * 2 - 1
        posterior = vae.encode(x).latent_dist
        loss = F.mse_loss(vae.decode(posterior.sample()).sample, x)
        opt.zero_grad()
        loss.backward()
        opt.step()

    params = list(unet.parameters()) + list(text_encoder.parameters())
    unet_opt = torch.optim.AdamW(params, lr=recipe.lr)
    ids = tokenizer(["a red circle on the left"] * recipe.batch, padding="max_length", max_length=77,
                    return_tensors="pt").input_ids

    def unet_step():
        z = torch.randn(recipe.batch, 4, 8, 8)
        t = torch.randint(0, 1000, (recipe.batch,))
        pred = unet(z, t, encoder_hidden_states=text_encoder(ids)[0]).sample
        loss = F.mse_loss(pred, z)
        unet_opt.zero_grad()
        loss.backward()
        unet_opt.step()

    def per_step(step, n, warmup):
        for _ in range(warmup):
            step()
        started = time.perf_counter()
        for _ in range(n):
            step()
        return (time.perf_counter() - started) / n

    vae_s, unet_s = per_step(vae_step, 20, 3), per_step(unet_step, 40, 5)
    return {"vae_s_per_step": vae_s, "unet_s_per_step": unet_s,
            "projected_s": vae_s * recipe.vae_steps + unet_s * recipe.steps}


def full(recipe_name: str, out: Path, threads: int) -> dict:
    import torch
    from diffusers import EulerDiscreteScheduler, StableDiffusionPipeline

    from helpers.toy import evaluate, train

    summary = train.train(out, recipe=recipe_name, threads=threads)
    pipe = StableDiffusionPipeline.from_pretrained(out, dtype=torch.float32)
    pipe.set_progress_bar_config(disable=True)
    accuracy = {}
    for scheduler in ("PNDM", "Euler"):
        if scheduler == "Euler":
            pipe.scheduler = EulerDiscreteScheduler.from_config(pipe.scheduler.config)
        for guidance in (1.0, 5.0):
            accuracy[f"{scheduler} {guidance:g}"] = evaluate.sample_accuracy(pipe, n=32, guidance_scale=guidance)
    return {k: v for k, v in summary.items() if not k.endswith("curve")} | {"accuracy": accuracy}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="cpu", help="a name in helpers.toy.train.TRAINING_RECIPES (default cpu)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--full", type=Path, metavar="DIR", help="train the whole recipe into DIR and score it")
    options = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from helpers.toy.train import TRAINING_RECIPES

    if options.recipe not in TRAINING_RECIPES:
        parser.error(f"unknown recipe {options.recipe!r}; known: {', '.join(TRAINING_RECIPES)}")
    recipe = TRAINING_RECIPES[options.recipe]
    print(f"recipe {options.recipe}: {recipe}")
    if options.full is None:
        figures = project(recipe, options.threads)
        print(f"VAE  {figures['vae_s_per_step']:.3f} s/step x {recipe.vae_steps} steps (batch {recipe.vae_batch})")
        print(f"UNet {figures['unet_s_per_step']:.3f} s/step x {recipe.steps} steps (batch {recipe.batch})")
        total = figures["projected_s"]
    else:
        figures = full(options.recipe, options.full, options.threads)
        print(json.dumps(figures, indent=1))
        results = ROOT / "benchmarks" / "results"
        results.mkdir(exist_ok=True)
        (results / "toy_training.json").write_text(json.dumps(figures, indent=1) + "\n")
        total = figures["total_seconds"]
    verdict = "meets" if total <= TARGET_S else "MISSES"
    print(f"{'projected' if options.full is None else 'measured'} total {total:.0f} s: {verdict} the "
          f"{TARGET_S // 60}-minute target on {options.threads} threads")
    return 0 if total <= TARGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
