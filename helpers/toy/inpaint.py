"""The toy inpainting model: the committed toy SD's UNet given the nine input channels of
stable-diffusion-inpainting, then taught to fill a hole.

`StableDiffusionInpaintPipeline` feeds a 9-channel UNet the noisy latents (4), the mask at latent
size (1) and the masked image's latents (4), in that order
(pipeline_stable_diffusion_inpaint.py L1274 in diffusers 0.42.1). `inpainting_unet` builds that
UNet from the toy SD's: every weight copied, and the five new input channels of `conv_in` at zero,
so that before training it is the toy SD, blind to the mask and the masked image. Training teaches
`conv_in` in full and a LoRA on the attention projections (peft, through diffusers'
`unet.add_adapter`), so the committed result is two small files rather than a second UNet:
`conv_in.safetensors` and `pytorch_lora_weights.safetensors` (`StableDiffusionPipeline.
save_lora_weights`; a reader loads it with `pipe.load_lora_weights(folder)`).

Training prepares each example as the pipeline prepares a call: the masked image is the image in
[-1, 1] times (mask < 0.5) (L1207), encoded by the VAE and scaled; the mask goes to latent size by
nearest-neighbour interpolation (L771). Masks are boxes on the 4-pixel grid of a latent cell, so
the latent mask is exactly the pixel mask: the object's box (the hole to fill),
a random box anywhere, or the whole image (plain text-to-image).
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .. import validate
from . import finetune, models, train, world

# what a reader is meant to use (the reference page lists these)
__all__ = [
    "INPAINT_CHANNELS", "DEFAULTS", "MASK_KINDS", "inpainting_unet", "object_box", "box_mask", "training_masks",
    "train_inpaint", "load_inpaint",
]

INPAINT_CHANNELS = 9  # 4 noisy latents + 1 mask + 4 masked-image latents
CELL = world.SIZE // models.LATENT_SIZE  # pixels per latent cell (4: the toy VAE downsamples 32 to 8)
MASK_KINDS = {"object": 0.5, "random": 0.3, "everything": 0.2}  # the share of training examples of each
DATA_SEED = 2  # the images inpainting trains on (the toy SD trained on seed 0's)
# caption_dropout: in this world the caption names everything the image holds, so only an example
# without its caption asks the model to read the mask and the masked image; half of them are
DEFAULTS = {"steps": 800, "batch": 32, "n_images": 2000, "rank": 16, "lr": 2e-3, "weight_decay": 1e-2,
            "warmup": 20, "conv_in_lr": 1e-2, "caption_dropout": 0.5, "target_modules": ["to_q", "to_k", "to_v", "to_out.0", "conv1", "conv2"]}
CONV_IN_FILE = "conv_in.safetensors"
SUMMARY_FILE = "inpaint.json"


def inpainting_unet(unet):
    """A 9-channel copy of a 4-channel `UNet2DConditionModel` (the layout of stable-diffusion-
    inpainting): every weight copied, the five new input channels of conv_in at zero, so that its
    output equals `unet`'s whatever the mask and masked image. Refuses a UNet whose conv_in does
    not take 4 channels."""
    from diffusers import UNet2DConditionModel

    validate.instance("unet", unet, UNet2DConditionModel, "the toy SD's UNet (a UNet2DConditionModel)")
    if unet.config.in_channels != 4:
        raise ValueError(f"unet must take 4 input channels (a text-to-image UNet); got in_channels="
                         f"{unet.config.in_channels}")
    wide = UNet2DConditionModel.from_config({**unet.config, "in_channels": INPAINT_CHANNELS})
    state = dict(unet.state_dict())
    weight = state["conv_in.weight"]
    grown = torch.zeros(weight.shape[0], INPAINT_CHANNELS, *weight.shape[2:], dtype=weight.dtype)
    grown[:, :4] = weight
    state["conv_in.weight"] = grown
    wide.load_state_dict(state)
    # from_config builds float32; cast only a UNet of another dtype (to() on a float32 model logs a notice)
    return wide if unet.dtype == torch.float32 else wide.to(unet.dtype)


def object_box(scene: world.Scene, margin: float = 2.0) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1), end-exclusive pixels: the scene's shape with `margin` pixels round it,
    widened outwards to whole latent cells (so the latent mask is the pixel mask exactly)."""
    x, y = scene.centre
    reach = scene.half_size + margin
    lo = [int(np.floor((c - reach) / CELL)) * CELL for c in (x, y)]
    hi = [int(np.ceil((c + reach) / CELL)) * CELL for c in (x, y)]
    return max(lo[0], 0), max(lo[1], 0), min(hi[0], world.SIZE), min(hi[1], world.SIZE)


def box_mask(box: tuple[int, int, int, int]) -> np.ndarray:
    """(SIZE, SIZE) float32: 1 inside the end-exclusive box (the pipeline repaints white), 0 outside."""
    x0, y0, x1, y1 = (validate.integer(f"box[{i}]", v, minimum=0, maximum=world.SIZE) for i, v in enumerate(box))
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f"box must be (x0, y0, x1, y1) with x0 < x1 and y0 < y1; got {box!r}")
    mask = np.zeros((world.SIZE, world.SIZE), np.float32)
    mask[y0:y1, x0:x1] = 1.0
    return mask


def training_masks(scenes, seed: int) -> tuple[np.ndarray, list[str]]:
    """One mask per scene, (n, SIZE, SIZE) float32, and its kind (MASK_KINDS, drawn with `seed`):
    the object's box, a random box of 2 to 5 cells a side, or the whole image."""
    rng = np.random.default_rng(validate.seed("seed", seed))
    kinds = rng.choice(list(MASK_KINDS), size=len(scenes), p=list(MASK_KINDS.values()))
    cells = world.SIZE // CELL
    masks = []
    for scene, kind in zip(scenes, kinds):
        if kind == "object":
            masks.append(box_mask(object_box(scene, margin=float(rng.uniform(1, 3)))))
        elif kind == "random":
            w, h = rng.integers(2, 6, size=2)
            x0, y0 = rng.integers(0, cells - w + 1), rng.integers(0, cells - h + 1)
            masks.append(box_mask((int(x0 * CELL), int(y0 * CELL), int((x0 + w) * CELL), int((y0 + h) * CELL))))
        else:
            masks.append(np.ones((world.SIZE, world.SIZE), np.float32))
    return np.stack(masks), [str(k) for k in kinds]


def _conditioning(vae, images: np.ndarray, masks: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """What the pipeline concatenates for each example: the mask at latent size (n, 1, 8, 8) and the
    masked image's posterior, scaled ((n, 2, 4, 8, 8): mean and std, drawn from at each step as the
    pipeline's `_encode_vae_image` samples it)."""
    x = torch.from_numpy(images).permute(0, 3, 1, 2) * 2 - 1
    mask = torch.from_numpy(masks)[:, None]
    masked = x * (mask < 0.5)
    with torch.no_grad():
        posterior = train.encode_all(vae, masked, "cpu") * vae.config.scaling_factor
    latent_mask = F.interpolate(mask, size=posterior.shape[-2:])  # nearest, as the pipeline's
    return latent_mask, posterior


def train_inpaint(out=None, seed: int = 0, steps: int = DEFAULTS["steps"], batch: int = DEFAULTS["batch"],
                  rank: int = DEFAULTS["rank"], lr: float = DEFAULTS["lr"], threads: int = 2) -> dict:
    """Teach the toy SD to inpaint; returns the run's summary and, with `out`, writes conv_in, the
    LoRA and the summary (SUMMARY_FILE: settings, losses, times) there.
    Refuses non-positive steps, batch, rank, threads or lr, and a seed that is not an int >= 0."""
    from diffusers import StableDiffusionPipeline
    from diffusers.training_utils import cast_training_params
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict
    from safetensors.torch import save_file

    seed = validate.seed("seed", seed)
    steps, batch, rank, threads = (validate.positive_int(n, v) for n, v in
                                   (("steps", steps), ("batch", batch), ("rank", rank), ("threads", threads)))
    lr = validate.number("lr", lr, minimum=0, exclusive_minimum=True)
    torch.set_num_threads(threads)
    flushing = torch.set_flush_denormal(True)  # as finetune: AdamW's subnormal moments are slow on x86
    started, load = time.perf_counter(), round(os.getloadavg()[0], 2)
    try:
        base = finetune.load_base()
        vae, text_encoder, tokenizer = base.vae, base.text_encoder, base.tokenizer
        unet = inpainting_unet(base.unet)
        for module in (unet, text_encoder, vae):
            module.requires_grad_(False)
        torch.manual_seed(seed)  # the LoRA's A matrices come from torch's global generator
        unet.add_adapter(LoraConfig(r=rank, lora_alpha=rank, init_lora_weights="gaussian",
                                    target_modules=DEFAULTS["target_modules"]))
        unet.conv_in.requires_grad_(True)
        cast_training_params(unet, dtype=torch.float32)
        params = [p for p in unet.parameters() if p.requires_grad]

        images, captions, scenes = world.make_dataset(DEFAULTS["n_images"], DATA_SEED)
        masks, kinds = training_masks(scenes, DATA_SEED)
        x = torch.from_numpy(images).permute(0, 3, 1, 2) * 2 - 1
        with torch.no_grad():
            latents = train.encode_all(vae, x, "cpu") * vae.config.scaling_factor
            latent_mask, masked = _conditioning(vae, images, masks)
            ids = tokenizer(captions + [""], padding="max_length", max_length=tokenizer.model_max_length,
                            truncation=True, return_tensors="pt").input_ids
            hidden_all = text_encoder(ids)[0]
        losses, seconds = _train(unet, params, latents, latent_mask, masked, hidden_all, steps, batch, lr, seed)
        summary = {
            "seed": seed, "steps": steps, "batch": batch, "rank": rank, "lr": lr, "conv_in_lr": DEFAULTS["conv_in_lr"],
            "weight_decay": DEFAULTS["weight_decay"], "warmup": DEFAULTS["warmup"], "n_images": DEFAULTS["n_images"],
            "data_seed": DATA_SEED, "mask_kinds": MASK_KINDS, "caption_dropout": DEFAULTS["caption_dropout"],
            "target_modules": DEFAULTS["target_modules"], "trained_in_full": ["conv_in"],
            "trainable_parameters": sum(p.numel() for p in params),
            "losses": losses, "loss_curve": train._curve(losses),
            "train_seconds": round(seconds, 1), "threads": threads,
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {torch.get_num_threads()} torch threads",
            "load_average_at_start": load, "torch": torch.__version__,
        }
        if out is not None:
            out = Path(out)
            out.mkdir(parents=True, exist_ok=True)
            save_file({"weight": unet.conv_in.weight.detach().contiguous(),
                       "bias": unet.conv_in.bias.detach().contiguous()}, out / CONV_IN_FILE)
            # peft's keys as they are: convert_state_dict_to_diffusers renames only the attention
            # projections' (state_dict_utils.py PEFT_TO_DIFFUSERS), and load_lora_adapter picks the format
            # from the first key alone (loaders/peft.py L238-L241), so a file mixing the two loads one part
            layers = get_peft_model_state_dict(unet)
            StableDiffusionPipeline.save_lora_weights(out, unet_lora_layers=layers, safe_serialization=True)
            summary["file_bytes"] = sum((out / f).stat().st_size for f in (CONV_IN_FILE, "pytorch_lora_weights.safetensors"))
            summary["total_seconds"] = round(time.perf_counter() - started, 1)
            (out / SUMMARY_FILE).write_text(json.dumps(summary, indent=1) + "\n")
        return summary
    finally:
        if flushing:
            torch.set_flush_denormal(False)


def _train(unet, params, latents, latent_mask, masked, hidden_all, steps, batch, lr, seed):
    """The toy's training step (DDPM noising on SD 1.5's schedule, epsilon MSE, empty captions
    (DEFAULTS), AdamW, clipping to 1.0, warm-up then cosine; the loop fine-tuning shares,
    `train._fit`) with the mask and the masked image's latents concatenated to the noisy latents,
    as the pipeline concatenates them."""
    g = torch.Generator().manual_seed(seed + 1)
    alphas = models.noise_scheduler().alphas_cumprod
    empty = len(hidden_all) - 1

    def loss(step):
        rows, zt, t, noise, index, cond = train.noised_batch(
            latents, alphas, batch, g, empty, caption_dropout=DEFAULTS["caption_dropout"], condition=masked)
        pred = unet(torch.cat([zt, latent_mask[index], cond], dim=1), t, encoder_hidden_states=hidden_all[rows]).sample
        return F.mse_loss(pred, noise)

    unet.train()
    # conv_in's five new channels start at zero and are the only way in for the mask and the masked
    # image: they get a larger step than the LoRA
    return train._fit(params, loss, steps, lr, warmup=DEFAULTS["warmup"], weight_decay=DEFAULTS["weight_decay"],
                      desc="inpaint", peaks=[(list(unet.conv_in.parameters()), DEFAULTS["conv_in_lr"])])


def load_inpaint(weights, base=None):
    """The toy inpainting model as a float32 `StableDiffusionInpaintPipeline` on the CPU, Euler
    scheduler: the toy SD (`base`, a loaded toy SD pipeline, or `finetune.load_base()`) with the
    9-channel UNet, conv_in from `weights`/conv_in.safetensors and the LoRA loaded with
    `load_lora_weights`. Refuses a folder without those two files."""
    from diffusers import StableDiffusionInpaintPipeline
    from safetensors.torch import load_file

    folder = Path(weights)
    missing = [f for f in (CONV_IN_FILE, "pytorch_lora_weights.safetensors") if not (folder / f).is_file()]
    if missing:
        raise FileNotFoundError(f"{folder} is not a toy inpainting folder: it lacks {', '.join(missing)} "
                                f"(python -m helpers.toy train-inpaint writes both)")
    base = finetune.load_base() if base is None else base
    unet = inpainting_unet(base.unet)
    unet.conv_in.load_state_dict(load_file(folder / CONV_IN_FILE))
    pipe = StableDiffusionInpaintPipeline(**{**base.components, "unet": unet}, requires_safety_checker=False)
    pipe.load_lora_weights(folder)
    pipe.set_progress_bar_config(disable=True)
    return pipe


EVAL_SEED = 7  # the scenes the fill is measured on (neither the toy SD's nor inpainting's training images)
EVAL_SCENES = 64
GUIDANCE = finetune.GUIDANCE  # Euler at guidance 5 and 20 steps, as the fine-tuning chapter samples
SAMPLING_STEPS = finetune.SAMPLING_STEPS


def eval_scenes(n: int = EVAL_SCENES, seed: int = EVAL_SEED):
    """(images, captions, scenes, masks): n world scenes and the mask over each one's shape
    (`object_box`, margin 2): the hole the model is asked to fill."""
    images, captions, scenes = world.make_dataset(validate.positive_int("n", n), validate.seed("seed", seed))
    masks = np.stack([box_mask(object_box(s)) for s in scenes])
    return images, captions, scenes, masks


def fill(pipe, images: np.ndarray, masks: np.ndarray, prompts: list[str], seeds=None, **call) -> np.ndarray:
    """(n, SIZE, SIZE, 3) in [0, 1]: `pipe` (a StableDiffusionInpaintPipeline) repaints each image's
    mask with its prompt; seed i for image i (default), strength 1, Euler at guidance 5, 20 steps."""
    from diffusers import StableDiffusionInpaintPipeline

    validate.instance("pipe", pipe, StableDiffusionInpaintPipeline, "an inpainting pipeline (load_inpaint)")
    images, masks = np.asarray(images, np.float32), np.asarray(masks, np.float32)
    if images.ndim != 4 or masks.shape != images.shape[:3] or len(prompts) != len(images):
        raise ValueError(f"images must be (n, H, W, 3), masks (n, H, W) and prompts n strings; got {images.shape}, "
                         f"{masks.shape} and {len(prompts)} prompts")
    seeds = list(range(len(images))) if seeds is None else list(seeds)
    call = {"guidance_scale": GUIDANCE, "num_inference_steps": SAMPLING_STEPS, **call}
    out = pipe(list(prompts), image=torch.from_numpy(images).permute(0, 3, 1, 2),
               mask_image=torch.from_numpy(masks)[:, None], height=world.SIZE, width=world.SIZE,
               generator=[torch.Generator("cpu").manual_seed(s) for s in seeds], output_type="np", **call)
    return np.asarray(out.images)
