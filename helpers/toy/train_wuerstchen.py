"""Training of the toy Würstchen: Stage C (prior), Stage A (autoencoder), then Stage B.

`train(out, ...)` makes the world's images (`world.make_dataset`), trains the three stages one
after the other on the CPU or a GPU, and saves `out/prior` and `out/decoder` in the Hub's layout
(safetensors, weights stored as float16) plus `out/training.json` (settings, losses, times, the
scorer's accuracy). The text encoder is the toy SD's, frozen: the captions' hidden states are
computed once. Both diffusion stages learn the noise (epsilon) on DDPMWuerstchenScheduler's
continuous cosine schedule, r uniform in [0, 1], as the pipelines sample them. Not bit-
reproducible across machines: commit the weights, not a promise of identical retraining.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from . import world
from . import wuerstchen as toy
from .train import _lr, _optimizer_step

# what a reader is meant to use (the reference page lists these)
__all__ = ["train"]

TEXT_DROPOUT = 0.1  # captions replaced by "" (classifier-free guidance needs an unconditional branch)
STAGE_C_LR = 5e-4
STAGE_C_MAX_WEIGHT = 20.0  # cap of the 1/SNR loss weight of Stage C
EMBED_DROPOUT = 0.1  # Stage B: embeddings zeroed, as the decoder's unconditional branch zeroes them


def _loop(name: str, model, loss_fn, steps: int, lr: float, seed: int) -> list[float]:
    """AdamW with warm-up and cosine decay, gradient clipping 1.0; the per-step losses."""
    g = torch.Generator().manual_seed(seed)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    losses = []
    for step in (bar := tqdm(range(steps), desc=name, mininterval=2)):
        for group in opt.param_groups:
            group["lr"] = _lr(step, steps, lr, warmup=50)
        _optimizer_step(opt, loss_fn(g), losses, bar, step, clip_params=params)
    model.eval()
    return losses


def _noised(x0: torch.Tensor, g: torch.Generator, scheduler):
    r = torch.rand(len(x0), generator=g)
    noise = torch.randn(x0.shape, generator=g)
    return scheduler.add_noise(x0, noise, r), r, noise


def train(out, stage_a_steps: int = 800, stage_b_steps: int = 1400, stage_c_steps: int = 1800, batch: int = 64,
          n_images: int = 8000, seed: int = 0, device: str = "cpu", threads: int = 1, evaluate: bool = True) -> dict:
    """Train the three stages and save them under `out`; returns the training summary.

    Refuses step counts, batch or n_images that are not positive ints (ValueError), before any work.
    """
    from diffusers import DDPMWuerstchenScheduler

    for name, value in (("stage_a_steps", stage_a_steps), ("stage_b_steps", stage_b_steps),
                        ("stage_c_steps", stage_c_steps), ("batch", batch), ("n_images", n_images),
                        ("threads", threads)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int; got {value!r}")
    torch.set_num_threads(threads)
    out = Path(out)
    started = time.perf_counter()
    images, captions, _ = world.make_dataset(n_images, seed)
    x = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()
    embeds = toy.image_embedding(x)
    components = toy.build(seed)
    vqgan, decoder, prior = components["vqgan"], components["decoder"], components["prior"]
    tokenizer, encoder = components["tokenizer"], components["text_encoder"]
    names = world.all_captions() + [""]
    row = {c: i for i, c in enumerate(names)}
    caption_rows = torch.tensor([row[c] for c in captions])
    with torch.no_grad():
        tokens = tokenizer(names, padding="max_length", max_length=tokenizer.model_max_length, truncation=True,
                           return_tensors="pt")
        # with the attention mask, as both Würstchen pipelines encode prompts (pipeline_wuerstchen.py
        # L153, pipeline_wuerstchen_prior.py L185-L187): without it the padding positions' states
        # differ and the prior, trained on them, reads other text at inference
        hidden = encoder(tokens.input_ids, attention_mask=tokens.attention_mask).last_hidden_state  # (61, 77, 64)
    empty = len(names) - 1
    scheduler = DDPMWuerstchenScheduler()
    seconds = {}

    def text_of(index, g):
        drop = torch.rand(len(index), generator=g) < TEXT_DROPOUT
        return hidden[torch.where(drop, torch.full_like(index, empty), caption_rows[index])].to(device)

    # Stage C first: its target is the fixed embedding, so it needs neither Stage A nor B
    prior.to(device)
    target = (embeds - toy.EMBED_MEAN) / toy.EMBED_STD

    # WuerstchenPrior predicts noise as (x - a) / (|1 - b| + 1e-5) (modeling_wuerstchen_prior.py
    # L112-L113), with a pole at b = 1: trained freely, some b drift there and the loss jumps from
    # 0.2 to 1e4. The b half of the output layer starts at zero (toy.stage_c_model) and its gradient
    # is masked, so b stays 0 and the prediction is x - a.
    b_rows = torch.arange(prior.out[-1].weight.shape[0]) >= toy.EMBED_CHANNELS
    prior.out[-1].weight.register_hook(lambda grad: grad.masked_fill(b_rows[:, None, None, None], 0))
    prior.out[-1].bias.register_hook(lambda grad: grad.masked_fill(b_rows, 0))

    # Plain noise MSE barely rewards using the text where it matters, at high noise (the noise is
    # then almost the input): a first run's prior ignored the caption there and sampled the wrong
    # colour and place. Weighting each sample by 1/SNR = (1 - ᾱ)/ᾱ, capped, makes the loss the
    # error of the predicted embedding itself, up to the cap.
    def stage_c_loss(g):
        index = torch.randint(len(x), (batch,), generator=g)
        zt, r, noise = _noised(target[index], g, scheduler)
        pred = prior(zt.to(device), r.to(device), c=text_of(index, g))
        alpha = scheduler._alpha_cumprod(r, "cpu")
        weight = ((1 - alpha) / alpha).clamp(max=STAGE_C_MAX_WEIGHT).to(device)
        return (weight * (pred - noise.to(device)).square().mean(dim=(1, 2, 3))).mean() / weight.mean()

    t0 = time.perf_counter()
    losses_c = _loop("stage C", prior, stage_c_loss, stage_c_steps, STAGE_C_LR, seed + 2)
    seconds["stage_c"] = time.perf_counter() - t0
    assert not prior.out[-1].weight[b_rows].any() and not prior.out[-1].bias[b_rows].any(), "b moved"

    # Stage A: the decoder pipeline decodes without quantizing, so the autoencoder trains without it
    vqgan.to(device)

    def stage_a_loss(g):
        batch_x = x[torch.randint(len(x), (batch,), generator=g)].to(device)
        recon = vqgan.decode(vqgan.encode(batch_x).latents).sample
        return F.l1_loss(recon, batch_x) + F.mse_loss(recon, batch_x)

    t0 = time.perf_counter()
    losses_a = _loop("stage A", vqgan, stage_a_loss, stage_a_steps, 1e-3, seed)
    seconds["stage_a"] = time.perf_counter() - t0
    with torch.no_grad():
        latents = torch.cat([vqgan.encode(x[i:i + 512].to(device)).latents.cpu() for i in range(0, len(x), 512)])
    scale = float(latents.std())
    vqgan.register_to_config(scale_factor=scale)  # the pipeline decodes vqgan.decode(scale_factor * latents)
    latents = latents / scale

    decoder.to(device)

    def stage_b_loss(g):
        index = torch.randint(len(x), (batch,), generator=g)
        zt, r, noise = _noised(latents[index], g, scheduler)
        effnet = embeds[index] * (torch.rand(batch, 1, 1, 1, generator=g) >= EMBED_DROPOUT)
        pred = decoder(zt.to(device), r.to(device), effnet=effnet.to(device), clip=text_of(index, g))
        return F.mse_loss(pred, noise.to(device))

    t0 = time.perf_counter()
    losses_b = _loop("stage B", decoder, stage_b_loss, stage_b_steps, 1e-3, seed + 1)
    seconds["stage_b"] = time.perf_counter() - t0

    def tail(losses):
        return float(np.mean(losses[-100:]))

    def curve(losses):
        return [round(float(np.mean(losses[i:i + 100])), 5) for i in range(0, len(losses), 100)]

    summary = {
        "seed": seed, "n_images": n_images, "batch": batch, "device": str(device), "threads": threads,
        "stage_a_steps": stage_a_steps, "stage_b_steps": stage_b_steps, "stage_c_steps": stage_c_steps,
        "text_dropout": TEXT_DROPOUT, "stage_c_max_weight": STAGE_C_MAX_WEIGHT, "embed_dropout": EMBED_DROPOUT, "vqgan_scale_factor": scale,
        "embedding_mean": float(embeds.mean()), "embedding_std": float(embeds.std()),
        "stage_a_final_loss": tail(losses_a), "stage_b_final_loss": tail(losses_b),
        "stage_c_final_loss": tail(losses_c),
        "stage_b_first_loss": float(np.mean(losses_b[:100])), "stage_c_first_loss": float(np.mean(losses_c[:100])),
        **{f"{k}_seconds": round(v, 1) for k, v in seconds.items()},
        "training_seconds": round(time.perf_counter() - started, 1), "torch": torch.__version__,
        "stage_a_loss_curve": curve(losses_a), "stage_b_loss_curve": curve(losses_b),
        "stage_c_loss_curve": curve(losses_c),
    }
    save(components, out)
    if evaluate:
        pipe = toy.load(folder=out)
        summary["accuracy"] = {f"prior guidance {w:g}": toy.sample_accuracy(pipe, 32, prior_guidance_scale=w)
                               for w in (1.0, 4.0)}
    (out / "training.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def save(components: dict, out: Path) -> None:
    """save_pretrained of both pipelines in float16 (safetensors), with the Hub's index entries."""
    from ..pipelines import family, write_hub_layout

    for key in ("vqgan", "decoder", "prior", "text_encoder"):
        components[key].to("cpu", torch.float16).eval()
    prior, decoder = toy.pipelines_of(components)
    prior.save_pretrained(out / "prior", safe_serialization=True)
    decoder.save_pretrained(out / "decoder", safe_serialization=True)
    write_hub_layout(out / "prior", family("wuerstchen-prior"))
    write_hub_layout(out / "decoder", family("wuerstchen-decoder"))
    for key in ("vqgan", "decoder", "prior", "text_encoder"):
        components[key].to(torch.float32)
