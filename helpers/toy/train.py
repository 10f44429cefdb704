"""Training of the toy Stable Diffusion pipeline: the VAE first, then UNet and text encoder.

`train(out, ...)` makes the world's images (`world.make_dataset`), trains, and saves a pipeline
folder in the Hub's layout (model_index.json and one subfolder per component, safetensors,
weights stored as float16) plus `training.json` (settings, losses, times). It is not bit-
reproducible across machines (threaded CPU kernels, CUDA): commit the weights, not a promise of
identical retraining.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from . import models, world

# what a reader is meant to use (the reference page lists these)
__all__ = ["Recipe", "TRAINING_RECIPES", "train", "noised_batch"]

CAPTION_DROPOUT = 0.1  # the share of captions replaced by "" so that classifier-free guidance works


def _lr(step: int, steps: int, peak: float, warmup: int = 100) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    return peak * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup)))


def _optimizer_step(opt, loss, losses: list[float], bar, step: int, clip_params=None) -> None:
    """One step of every toy training loop: backward, optional clipping of `clip_params` to norm
    1.0, the update; the loss is kept in `losses` and its last-50 mean shown every 50 steps."""
    opt.zero_grad(set_to_none=True)
    loss.backward()
    if clip_params is not None:
        torch.nn.utils.clip_grad_norm_(clip_params, 1.0)
    opt.step()
    losses.append(loss.item())
    if step % 50 == 0:
        bar.set_postfix(loss=f"{np.mean(losses[-50:]):.4f}")


def train_vae(vae, images: torch.Tensor, steps: int, batch: int, seed: int, device, kl_weight=1e-5,
              lr: float = 1e-3) -> list[float]:
    """Reconstruction (L1 + MSE) plus a small KL term; images in [-1, 1], NCHW."""
    g = torch.Generator().manual_seed(seed)
    vae.train().to(device)
    opt = torch.optim.AdamW(vae.parameters(), lr=lr, weight_decay=0.0)
    losses = []
    for step in (bar := tqdm(range(steps), desc="vae", mininterval=2)):
        for group in opt.param_groups:
            group["lr"] = _lr(step, steps, lr)
        x = images[torch.randint(len(images), (batch,), generator=g)].to(device, non_blocking=True)
        posterior = vae.encode(x).latent_dist
        recon = vae.decode(posterior.sample()).sample
        loss = F.l1_loss(recon, x) + F.mse_loss(recon, x) + kl_weight * posterior.kl().mean()
        _optimizer_step(opt, loss, losses, bar, step)
    return losses


def noised_batch(latents: torch.Tensor, alphas_cumprod: torch.Tensor, batch: int, g: torch.Generator, empty: int,
                 caption_dropout: float = CAPTION_DROPOUT, condition: torch.Tensor | None = None):
    """One training batch, drawn with `g` in a fixed order: (caption rows, with `caption_dropout` of them
    replaced by `empty`, the row of ""; the noised latents z_t; t; the noise to predict). `latents`
    holds each image's posterior (mean, std) on axis 1; z_0 is drawn from it.

    With `condition`, a second posterior per image in the same layout (inpainting's masked image),
    two more come back: the drawn image indices (to pick each example's other inputs, its mask) and
    a draw from each example's `condition`, made right after z_0 and before the noise, the order the
    inpainting loop drew in before it shared this function: a draw moved elsewhere would change
    every later draw of `g`, so the same seed would no longer give the same run."""
    index = torch.randint(len(latents), (batch,), generator=g)
    drop = torch.rand(batch, generator=g) < caption_dropout
    rows = torch.where(drop, torch.full_like(index, empty), index)
    mean, std = latents[index, 0], latents[index, 1]
    z0 = mean + std * torch.randn(mean.shape, generator=g)
    if condition is not None:
        c_mean, c_std = condition[index, 0], condition[index, 1]
        cond = c_mean + c_std * torch.randn(c_mean.shape, generator=g)
    noise = torch.randn(z0.shape, generator=g)
    t = torch.randint(0, len(alphas_cumprod), (batch,), generator=g)
    a = alphas_cumprod[t].view(-1, 1, 1, 1)
    zt = a.sqrt() * z0 + (1 - a).sqrt() * noise
    if condition is None:
        return rows, zt, t, noise
    return rows, zt, t, noise, index, cond


def _fit(params, step_loss, steps: int, lr: float, *, warmup: int, weight_decay: float, desc: str,
         peaks=(), after_step=None) -> tuple[list[float], float]:
    """The loop of the toy's fine-tuning runs (`finetune`, `inpaint`): AdamW over `params`, each
    step's learning rate warmed up over `warmup` steps then cosine to 0 (`_lr`), `step_loss(step)`
    (draws the batch and returns the loss), `_optimizer_step` clipping `params` to norm 1.0, then
    `after_step(step + 1)` if given. `peaks` holds (parameters, peak lr) pairs that take their own
    peak instead of `lr`. Returns the losses and the seconds spent in the steps, `after_step`
    excluded (a run's measurements are not its training time)."""
    own = {id(p): i for i, (group, _) in enumerate(peaks, 1) for p in group}
    # each group keeps `params`' order, and clipping sees `params` itself: the gradient norm sums
    # the parameters' norms in that order, and another order may round it differently
    groups = [{"params": [p for p in params if own.get(id(p), 0) == i], "peak": peak}
              for i, peak in enumerate([lr, *(peak for _, peak in peaks)])]
    opt = torch.optim.AdamW(groups, lr=lr, weight_decay=weight_decay)
    losses, seconds = [], 0.0
    for step in (bar := tqdm(range(steps), desc=desc, mininterval=2)):
        t0 = time.perf_counter()
        for group in opt.param_groups:
            group["lr"] = _lr(step, steps, group["peak"], warmup=warmup)
        _optimizer_step(opt, step_loss(step), losses, bar, step, clip_params=params)
        seconds += time.perf_counter() - t0
        if after_step is not None:
            after_step(step + 1)
    return losses, seconds


def _curve(losses: list[float], window: int = 25) -> list[float]:
    """The mean of each `window` consecutive losses: the curve a run's summary keeps."""
    return [float(np.mean(losses[i:i + window])) for i in range(0, len(losses), window)]


def train_unet(unet, text_encoder, tokenizer, latents, captions, steps, batch, seed, device,
               time_budget: float | None = None, lr: float = 5e-4) -> list[float]:
    """Epsilon prediction on SD 1.5's noise schedule; the text encoder trains with the UNet.

    With `time_budget` (seconds), `steps` is cut after 30 timed steps to what fits the budget,
    before the learning-rate schedule has gone far, so the schedule still ends at zero.
    """
    g = torch.Generator().manual_seed(seed + 1)
    scheduler = models.noise_scheduler()
    unet.train().to(device)
    text_encoder.train().to(device)
    ids = tokenizer(captions + [""], padding="max_length", max_length=tokenizer.model_max_length,
                    truncation=True, return_tensors="pt").input_ids
    empty = len(captions)
    params = list(unet.parameters()) + list(text_encoder.parameters())
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    alphas = scheduler.alphas_cumprod
    losses = []
    bar = tqdm(total=steps, desc="unet", mininterval=2)
    step, started = 0, None
    while step < steps:
        if step == 10:
            started = time.perf_counter()
        if time_budget is not None and step == 40:
            per_step = (time.perf_counter() - started) / 30
            steps = max(step + 1, min(steps, int(time_budget / per_step)))
            bar.total = steps
        for group in opt.param_groups:
            group["lr"] = _lr(step, steps, lr)
        token_rows, zt, t, noise = noised_batch(latents, alphas, batch, g, empty)
        hidden = text_encoder(ids[token_rows].to(device))[0]
        pred = unet(zt.to(device), t.to(device), encoder_hidden_states=hidden).sample
        loss = F.mse_loss(pred, noise.to(device))
        _optimizer_step(opt, loss, losses, bar, step, clip_params=params)
        bar.update(1)
        step += 1
    bar.close()
    return losses


@torch.no_grad()
def encode_all(vae, images: torch.Tensor, device, chunk: int = 256) -> torch.Tensor:
    """(n, 2, 4, 8, 8): the posterior's mean and std for every image, scaled by 1/overall std."""
    vae.eval()
    parts = []
    for start in range(0, len(images), chunk):
        dist = vae.encode(images[start:start + chunk].to(device)).latent_dist
        parts.append(torch.stack([dist.mean, dist.std], 1).cpu())
    return torch.cat(parts)


@dataclass(frozen=True)
class Recipe:
    """The settings of one training run (both stages)."""

    vae_steps: int
    vae_batch: int
    vae_lr: float
    steps: int  # UNet + text encoder
    batch: int
    lr: float
    n_images: int = 10000


TRAINING_RECIPES = {
    # fits 30 minutes on the 2-core CPU (measured: benchmarks/toy_training.py, models/toy-sd/README.md)
    "cpu": Recipe(vae_steps=1000, vae_batch=32, vae_lr=1e-3, steps=4300, batch=64, lr=5e-4),
    # the committed weights (models/toy-sd), trained on an H200 in 352 s; about 2.3 h on the CPU
    "device": Recipe(vae_steps=1500, vae_batch=256, vae_lr=1e-3, steps=3697, batch=256, lr=5e-4),
}
# The name of before, for readers' scripts written against it:
# `helpers.gpu.RECIPES` are optimize()'s speed/memory recipes, so the training presets took a name
# of their own. Not in __all__.
RECIPES = TRAINING_RECIPES


def _check(recipe: Recipe) -> None:
    for name in ("vae_steps", "vae_batch", "steps", "batch", "n_images"):
        value = getattr(recipe, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int; got {value!r}")
    for name in ("vae_lr", "lr"):
        value = getattr(recipe, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or not math.isfinite(value):
            raise ValueError(f"{name} must be a positive number; got {value!r}")


def train(out, recipe: Recipe | str = "cpu", seed: int = 0, device: str = "cpu", threads: int = 2,
          time_budget: float | None = None, **overrides) -> dict:
    """Train both stages and save the pipeline in `out`; returns the training summary.

    `recipe` is a name in TRAINING_RECIPES or a Recipe; keyword `overrides` replace its fields
    (e.g. `steps=2`).
    """
    if isinstance(recipe, str):
        if recipe not in TRAINING_RECIPES:
            raise ValueError(f"unknown recipe {recipe!r}; known: {', '.join(TRAINING_RECIPES)}")
        recipe = TRAINING_RECIPES[recipe]
    if not isinstance(recipe, Recipe):
        raise TypeError(f"recipe must be a name in TRAINING_RECIPES or a Recipe; got {type(recipe).__name__}")
    unknown = set(overrides) - {f.name for f in fields(Recipe)}
    if unknown:
        raise TypeError(f"unknown recipe settings {sorted(unknown)}; known: {[f.name for f in fields(Recipe)]}")
    recipe = replace(recipe, **overrides)
    _check(recipe)
    torch.set_num_threads(threads)
    out = Path(out)
    started = time.perf_counter()
    images, captions, _ = world.make_dataset(recipe.n_images, seed)
    x = torch.from_numpy(images).permute(0, 3, 1, 2) * 2 - 1
    components = models.build(seed)
    vae, unet, text_encoder = components["vae"], components["unet"], components["text_encoder"]
    t0 = time.perf_counter()
    vae_losses = train_vae(vae, x, recipe.vae_steps, recipe.vae_batch, seed, device, lr=recipe.vae_lr)
    vae_seconds = time.perf_counter() - t0
    latents = encode_all(vae, x, device)
    scale = float(1.0 / latents[:, 0].std())
    vae.register_to_config(scaling_factor=scale)
    t0 = time.perf_counter()
    unet_losses = train_unet(unet, text_encoder, components["tokenizer"], latents * scale, captions, recipe.steps,
                             recipe.batch, seed, device, time_budget, lr=recipe.lr)
    unet_seconds = time.perf_counter() - t0
    summary = {
        "seed": seed, **asdict(recipe), "device": str(device), "threads": threads,
        "unet_steps": len(unet_losses), "caption_dropout": CAPTION_DROPOUT,
        "vae_final_loss": float(np.mean(vae_losses[-100:])), "unet_final_loss": float(np.mean(unet_losses[-100:])),
        "vae_seconds": round(vae_seconds, 1), "unet_seconds": round(unet_seconds, 1),
        "latent_scaling_factor": scale, "torch": torch.__version__,
        "vae_loss_curve": [float(np.mean(vae_losses[i:i + 100])) for i in range(0, len(vae_losses), 100)],
        "unet_loss_curve": [float(np.mean(unet_losses[i:i + 100])) for i in range(0, len(unet_losses), 100)],
    }
    save(components, out)
    summary["total_seconds"] = round(time.perf_counter() - started, 1)  # saving included
    (out / "training.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def save(components: dict, out: Path) -> None:
    """save_pretrained in float16 (safetensors), with SD 1.5's scheduler_config.json as shipped."""
    from ..pipelines import family, write_hub_layout

    for key in ("vae", "unet", "text_encoder"):
        components[key].to("cpu", torch.float16).eval()
    models.pipeline(components).save_pretrained(out, safe_serialization=True)
    write_hub_layout(Path(out), family("sd15"))
    for key in ("vae", "unet", "text_encoder"):
        components[key].to(torch.float32)
