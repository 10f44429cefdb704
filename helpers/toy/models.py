"""The toy Stable Diffusion components: the real classes, sized for 32×32 images.

- `AutoencoderKL`: 32×32×3 ↔ 8×8×4 (three levels, a down factor of 4), trained first.
- `CLIPTextModel`: 2 layers, width 64, trained jointly with the UNet; the character-level CLIP
  tokenizer of `helpers.models.tiny` (made in memory, 77 positions as in SD 1.5).
- `UNet2DConditionModel`: blocks (48, 96, 96) at 8×8, 4×4 and 2×2; cross-attention (and so
  self-attention, which PAG perturbs) in the two lower down blocks, the mid block and the two
  upper up blocks.
- The scheduler: PNDM with SD 1.5's shipped config (`helpers.models.shipped_configs.SD15_SCHEDULER`), the one
  StableDiffusionPipeline checkpoints carry; training adds noise with DDPM on the same betas.
"""

from __future__ import annotations

import torch
from diffusers import AutoencoderKL, DDPMScheduler, PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel
from transformers import CLIPTextModel, CLIPTokenizer

from .. import validate
from ..models import shipped_configs, tiny

# what a reader is meant to use (the reference page lists these)
__all__ = ["noise_scheduler", "build", "pipeline"]

TEXT_WIDTH = 64
LATENT_SIZE = 8


def tokenizer() -> CLIPTokenizer:
    return tiny.clip_tokenizer(77)


def text_encoder(tok: CLIPTokenizer) -> CLIPTextModel:
    # the tiny encoder's shape with a wider MLP: the toy encoder is trained with the UNet
    return CLIPTextModel(tiny.clip_text_config(tok, hidden_size=TEXT_WIDTH, intermediate_size=128))


def vae() -> AutoencoderKL:
    return AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 3,
        up_block_types=("UpDecoderBlock2D",) * 3,
        block_out_channels=(32, 64, 64),
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=16,
        sample_size=32,
    )


def unet() -> UNet2DConditionModel:
    return UNet2DConditionModel(
        sample_size=LATENT_SIZE,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
        block_out_channels=(48, 96, 96),
        layers_per_block=1,
        cross_attention_dim=TEXT_WIDTH,
        attention_head_dim=8,
        norm_num_groups=16,
    )


def noise_scheduler() -> DDPMScheduler:
    return DDPMScheduler.from_config(shipped_configs.SD15_SCHEDULER)


def build(seed: int = 0) -> dict:
    """Untrained components, seeded; the keyword arguments of StableDiffusionPipeline.
    Refuses a seed that is not an int in [0, 2^64 - 1] (`validate.seed`)."""
    torch.manual_seed(validate.seed("seed", seed))
    tok = tokenizer()
    return {
        "vae": vae(),
        "text_encoder": text_encoder(tok),
        "tokenizer": tok,
        "unet": unet(),
        "scheduler": PNDMScheduler.from_config(shipped_configs.SD15_SCHEDULER),
        "safety_checker": None,
        "feature_extractor": None,
        "image_encoder": None,
        "requires_safety_checker": False,
    }


def pipeline(components: dict) -> StableDiffusionPipeline:
    """A StableDiffusionPipeline of `components` (what `build` returns). Refuses (TypeError) anything
    but a dict, e.g. a pipeline (pass pipe.components to rebuild one)."""
    if not isinstance(components, dict):
        hint = " (a pipeline: pass pipe.components)" if hasattr(components, "components") else ""
        raise TypeError(
            f"components must be a dict of StableDiffusionPipeline keyword arguments, as build() returns; "
            f"got {type(components).__name__}{hint}"
        )
    return StableDiffusionPipeline(**components)
