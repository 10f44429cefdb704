"""Tiny Stable Cascade pipelines built from the real diffusers classes, in memory, with no download.

Stable Cascade is Würstchen's successor in diffusers (`diffusers.pipelines.stable_cascade`): both
denoisers are `StableCascadeUNet`s (Würstchen v2 has `WuerstchenPrior` and `WuerstchenDiffNeXt`),
Stage A is the same `PaellaVQModel`, and both text encoders are `CLIPTextModelWithProjection`s,
whose pooled, projected embedding both stages read (the prior its token states too). The builders
here follow the pipelines' wiring at tiny sizes: a 16-channel Stage C latent, a Stage B that takes
Stage C through `effnet_in_channels` and has a pixel mapper, and a Stage B conditioned on the
pooled text only. Weights are random and seeded (`helpers.models.tiny.build`).

The float16 trap (diffusers issue #6970) needs trained weights to show; what can be shown without
them is the mechanism, with `stream_peak` (how large the residual stream of a StableCascadeUNet
gets during a call) and `amplify_residual_blocks` (a copy whose stream is made to pass float16's
largest value, 65504, as a stand-in for what training does to the real prior).
"""

from __future__ import annotations

import contextlib
import copy
import math
from dataclasses import dataclass

import torch
from diffusers import (
    DDPMWuerstchenScheduler,
    StableCascadeCombinedPipeline,
    StableCascadeDecoderPipeline,
    StableCascadePriorPipeline,
    StableCascadeUNet,
)
from diffusers.models.unets.unet_stable_cascade import SDCascadeResBlock
from diffusers.utils import logging as diffusers_logging
from transformers import CLIPTextModelWithProjection

from .. import validate
from . import moved, tiny

# what a reader is meant to use (the reference page lists these)
__all__ = [
    "STAGE_C_CHANNELS", "build_prior", "build_decoder", "prior_pipeline", "decoder_pipeline",
    "combined_pipeline", "StreamPeak", "stream_peak", "amplify_residual_blocks",
]

PaellaVQModel = moved.package("wuerstchen").PaellaVQModel

STAGE_C_CHANNELS = 16  # the real prior's latent channels (in_channels of stable-cascade-prior)


def _text_encoder(tokenizer) -> CLIPTextModelWithProjection:
    # the pipelines read `text_embeds` (the projection) as the pooled embedding
    return CLIPTextModelWithProjection(tiny.clip_text_config(tokenizer, projection_dim=tiny.TEXT_WIDTH))


def build_prior() -> dict:
    """The keyword arguments of StableCascadePriorPipeline, tiny and random. Takes no arguments."""
    tokenizer = tiny.clip_tokenizer()
    prior = StableCascadeUNet(
        in_channels=STAGE_C_CHANNELS,
        out_channels=STAGE_C_CHANNELS,
        timestep_ratio_embedding_dim=8,
        conditioning_dim=32,
        block_out_channels=(32, 32),
        num_attention_heads=(2, 2),
        down_num_layers_per_block=(1, 1),
        up_num_layers_per_block=(1, 1),
        switch_level=(False,),  # as the real prior: no resolution change between its two levels
        clip_text_in_channels=tiny.TEXT_WIDTH,
        clip_text_pooled_in_channels=tiny.TEXT_WIDTH,
        # the pipeline feeds zeros of this width when no image is given
        clip_image_in_channels=tiny.TEXT_WIDTH,
        timestep_conditioning_type=("sca", "crp"),
        dropout=(0.0, 0.0),
    )
    # zero-initialised GlobalResponseNorm parameters: trained weights have moved them
    tiny.refill_zero_parameters(prior)
    return {
        "tokenizer": tokenizer,
        "text_encoder": _text_encoder(tokenizer),
        "prior": prior.eval(),
        "scheduler": DDPMWuerstchenScheduler(),
    }


def build_decoder() -> dict:
    """The keyword arguments of StableCascadeDecoderPipeline, tiny and random. Takes no arguments."""
    tokenizer = tiny.clip_tokenizer()
    res_time = ("SDCascadeResBlock", "SDCascadeTimestepBlock")
    decoder = StableCascadeUNet(
        in_channels=4,  # the pipeline makes 4-channel Stage B latents whatever the config says
        out_channels=4,
        timestep_ratio_embedding_dim=8,
        conditioning_dim=32,
        block_out_channels=(16, 32),
        num_attention_heads=(-1, 2),
        down_num_layers_per_block=(1, 1),
        up_num_layers_per_block=(1, 1),
        down_blocks_repeat_mappers=(1, 1),
        up_blocks_repeat_mappers=(2, 2),
        block_types_per_layer=(res_time, (*res_time, "SDCascadeAttnBlock")),
        clip_text_pooled_in_channels=tiny.TEXT_WIDTH,  # Stage B reads the pooled text only
        effnet_in_channels=STAGE_C_CHANNELS,  # Stage C's latent, as in the real decoder
        pixel_mapper_in_channels=3,
        timestep_conditioning_type=("sca",),
        dropout=(0.0, 0.0),
    )
    vqgan = PaellaVQModel(levels=2, bottleneck_blocks=1, embed_dim=16, latent_channels=4, num_vq_embeddings=32)
    tiny.refill_zero_parameters(decoder)
    tiny.refill_zero_parameters(vqgan)
    with torch.no_grad():
        # as for the tiny Würstchen: a random VQGAN decodes around 0 and the pipeline clamps to
        # [0, 1]; centring on mid-grey keeps the image informative
        vqgan.out_block[0].bias += 0.5
    return {
        "decoder": decoder.eval(),
        "tokenizer": tokenizer,
        "text_encoder": _text_encoder(tokenizer),
        "scheduler": DDPMWuerstchenScheduler(),
        "vqgan": vqgan.eval(),
    }


@contextlib.contextmanager
def _cast_quietly():
    # ModelMixin.to warns on every dtype cast, listing the modules kept in float32 even when
    # there are none (diffusers 0.42.1 modeling_utils.py L1590, L1611): for StableCascadeUNet
    # the list is empty, so the warning says nothing here
    level = diffusers_logging.get_verbosity()
    diffusers_logging.set_verbosity_error()
    try:
        yield
    finally:
        diffusers_logging.set_verbosity(level)


def _ready(pipe, dtype: torch.dtype):
    dtype = validate.dtype("dtype", dtype)
    pipe.set_progress_bar_config(disable=True)
    if dtype == torch.float32:
        return pipe
    with _cast_quietly():  # every component: `to(dtype=...)` casts them all
        return pipe.to(dtype=dtype)


def prior_pipeline(dtype: torch.dtype = torch.float32) -> StableCascadePriorPipeline:
    """A tiny StableCascadePriorPipeline on the CPU in `dtype` (the same weights every call).

    Refuses: a `dtype` that is not a floating torch.dtype the CPU runs.
    """
    return _ready(StableCascadePriorPipeline(**tiny.build(build_prior)), dtype)


def decoder_pipeline(dtype: torch.dtype = torch.float32) -> StableCascadeDecoderPipeline:
    """A tiny StableCascadeDecoderPipeline on the CPU in `dtype` (the same weights every call).

    Refuses: a `dtype` that is not a floating torch.dtype the CPU runs.
    """
    return _ready(StableCascadeDecoderPipeline(**tiny.build(build_decoder)), dtype)


def combined_pipeline(dtype: torch.dtype = torch.float32) -> StableCascadeCombinedPipeline:
    """A tiny StableCascadeCombinedPipeline: the same prior and decoder weights as
    `prior_pipeline()` and `decoder_pipeline()`, joined the way the combined class names them
    (the prior's components with a `prior_` prefix).

    Refuses: a `dtype` that is not a floating torch.dtype the CPU runs.
    """
    prior = tiny.build(build_prior)
    parts = {**tiny.build(build_decoder), **{f"prior_{key}": value for key, value in prior.items()}}
    return _ready(StableCascadeCombinedPipeline(**parts), dtype)


@dataclass
class StreamPeak:
    """The largest magnitude a StableCascadeUNet's block outputs reached, and in which block."""

    value: float = 0.0
    block: str | None = None


def _blocks(unet: StableCascadeUNet):
    for part in ("down_blocks", "up_blocks"):
        for level, blocks in enumerate(getattr(unet, part)):
            for index, block in enumerate(blocks):
                yield f"{part}.{level}.{index}", block


@contextlib.contextmanager
def stream_peak(unet: StableCascadeUNet):
    """Within the block, track the largest |value| any block of `unet`'s down and up paths
    outputs: the residual stream, where float16 overflows first. A non-finite output counts as inf.

        with stream_peak(pipe.prior) as peak:
            pipe(prompt)
        peak.value, peak.block

    Refuses: a `unet` that is not a StableCascadeUNet (TypeError).
    """
    if not isinstance(unet, StableCascadeUNet):
        raise TypeError(f"unet must be a StableCascadeUNet (pipe.prior or pipe.decoder), got {type(unet).__name__}")
    peak = StreamPeak()

    def watch(name):
        def hook(module, args, output):
            value = output.detach().abs().amax().float().item()
            if math.isnan(value):  # an overflow that became NaN: the stream left float range
                value = math.inf
            if value > peak.value:
                peak.value, peak.block = value, name

        return hook

    handles = [block.register_forward_hook(watch(name)) for name, block in _blocks(unet)]
    try:
        yield peak
    finally:
        for handle in handles:
            handle.remove()


def amplify_residual_blocks(unet: StableCascadeUNet, factor: float, dtype: torch.dtype = torch.float32) -> StableCascadeUNet:
    """A copy of `unet` in `dtype` whose residual blocks (SDCascadeResBlock) add `factor` times
    their output to the stream: their last linear layer's weight and bias multiplied, in float32
    before the cast. `unet` is unchanged.

    A stand-in for a trained network whose activations grow large, to show on tiny weights what
    float16 does once the stream passes 65504.

    Refuses: a `unet` that is not a StableCascadeUNet (TypeError), a `factor` that is not a finite
    number > 0, a `dtype` that is not a floating torch.dtype.
    """
    if not isinstance(unet, StableCascadeUNet):
        raise TypeError(f"unet must be a StableCascadeUNet, got {type(unet).__name__}")
    factor = validate.number("factor", factor, minimum=0, exclusive_minimum=True)
    dtype = validate.dtype("dtype", dtype)
    with _cast_quietly():
        amplified = copy.deepcopy(unet).to(dtype=torch.float32)
        with torch.no_grad():
            for module in amplified.modules():
                if isinstance(module, SDCascadeResBlock):
                    module.channelwise[-1].weight.mul_(factor)
                    module.channelwise[-1].bias.mul_(factor)
        return amplified.to(dtype=dtype)
