"""helpers.research.stable_unclip: the docs' Karlo-prior + Stable unCLIP text-to-image recipe on the tiny pipelines."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch
from diffusers import (
    DDPMScheduler,
    StableUnCLIPImg2ImgPipeline,
    StableUnCLIPPipeline,
    UNet2DConditionModel,
)
from diffusers.pipelines.stable_diffusion.stable_unclip_image_normalizer import (
    StableUnCLIPImageNormalizer,
)

import helpers
from helpers import pipelines
from helpers.research import stable_unclip
from helpers.research.stable_unclip import embedding_widths, karlo_text_to_image

FAST = {"num_inference_steps": 1, "prior_num_inference_steps": 2, "output_type": "np"}


@pytest.fixture(scope="module")
def ctx():
    return helpers.setup(profile="tiny")


@pytest.fixture(scope="module")
def karlo(ctx):
    return pipelines.load("unclip", ctx)


@pytest.fixture(scope="module")
def small(ctx):
    return pipelines.load("stable-unclip", ctx)


def widened(small, width: int) -> StableUnCLIPImg2ImgPipeline:
    unet = UNet2DConditionModel.from_config(
        small.unet.config, projection_class_embeddings_input_dim=2 * width
    )
    return StableUnCLIPImg2ImgPipeline(
        **{
            **small.components,
            "image_normalizer": StableUnCLIPImageNormalizer(embedding_dim=width),
            "unet": unet,
        }
    )


def test_the_recipe_builds_the_docs_pipeline_and_runs(ctx, karlo, small):
    pipe = karlo_text_to_image(karlo, small)
    assert isinstance(pipe, StableUnCLIPPipeline)
    assert pipe.prior is karlo.prior and pipe.prior_text_encoder is karlo.text_encoder
    assert (
        pipe.prior_tokenizer is karlo.tokenizer
        and pipe.unet is small.unet
        and pipe.vae is small.vae
    )
    assert isinstance(pipe.prior_scheduler, DDPMScheduler)
    assert torch.equal(pipe.prior_scheduler.betas, karlo.prior_scheduler.betas)
    received = []  # the class embedding each UNet call gets: the prior's image embedding and its noise level

    def unet_input(module, args, kwargs):
        received.append(kwargs["class_labels"].detach().clone())

    def negated(module, args, output):
        output.predicted_image_embedding = -output.predicted_image_embedding
        return output

    listening = pipe.unet.register_forward_pre_hook(unet_input, with_kwargs=True)
    try:
        image = pipe("a red fox", generator=ctx.generator(), **FAST).images
        assert image.shape[0] == 1 and image.shape[-1] == 3 and np.isfinite(image).all()
        # seeded the same, the same image twice
        again = pipe("a red fox", generator=ctx.generator(), **FAST).images
        assert np.array_equal(image, again)
        plain = len(received)
        # the tiny prior keeps diffusers' initial clip_std of zeros, which scales every embedding it
        # makes to clip_mean: give it a spread, so that its output can show in the UNet's input
        spread = karlo.prior.clip_std.detach().clone()
        with torch.no_grad():
            karlo.prior.clip_std.fill_(1.0)
        try:
            unchanged = pipe("a red fox", generator=ctx.generator(), **FAST).images
            flipping = karlo.prior.register_forward_hook(negated)  # the same prompt, another prior output
            try:
                other = pipe("a red fox", generator=ctx.generator(), **FAST).images
            finally:
                flipping.remove()
        finally:
            with torch.no_grad():
                karlo.prior.clip_std.copy_(spread)
    finally:
        listening.remove()
    # the prior's embedding is what reaches the UNet: it is the first half of the UNet's class
    # input, and another prior output gives another class input and another image
    width = karlo.prior.config.embedding_dim
    assert plain and all(labels.shape[-1] == 2 * width for labels in received)
    assert torch.equal(received[0], received[plain // 2])
    assert not torch.allclose(received[-2][..., :width], received[-1][..., :width])
    assert torch.equal(received[-2][..., width:], received[-1][..., width:])  # the same noise level
    assert not np.allclose(unchanged, other)


def test_widths(karlo, small):
    width = karlo.prior.config.embedding_dim
    assert embedding_widths(karlo, small) == {
        "prior makes": width,
        "normaliser expects": width,
        "UNet class input": 2 * width,
    }
    assert (
        embedding_widths(karlo, widened(small, width + 16))["normaliser expects"]
        == width + 16
    )


def test_a_mismatch_is_refused_before_building_and_diffusers_fails_mid_call(
    ctx, karlo, small
):
    wide = widened(small, karlo.prior.config.embedding_dim + 16)
    with pytest.raises(ValueError, match=r"makes 32-wide .* expects 48 .*unclip-small"):
        karlo_text_to_image(karlo, wide)
    docs_way = StableUnCLIPPipeline(
        prior_tokenizer=karlo.tokenizer, prior_text_encoder=karlo.text_encoder, prior=karlo.prior,
        prior_scheduler=DDPMScheduler.from_config(karlo.prior_scheduler.config),
        **{k: v for k, v in wide.components.items() if k not in ("feature_extractor", "image_encoder")},
    )  # fmt: skip
    with pytest.raises(
        RuntimeError,
        match=r"size of tensor a \(32\) must match the size of tensor b \(48\)",
    ):
        docs_way("a red fox", generator=ctx.generator(), **FAST)


def test_a_unet_of_the_wrong_class_input_is_refused(karlo, small):
    width = karlo.prior.config.embedding_dim
    unet = UNet2DConditionModel.from_config(
        small.unet.config, projection_class_embeddings_input_dim=3 * width
    )
    odd = StableUnCLIPImg2ImgPipeline(**{**small.components, "unet": unet})
    with pytest.raises(ValueError, match="UNet class input"):
        karlo_text_to_image(karlo, odd)


@pytest.mark.parametrize("function", [embedding_widths, karlo_text_to_image])
def test_wrong_pipelines_are_refused(karlo, small, function):
    with pytest.raises(TypeError, match="karlo: .*UnCLIPPipeline"):
        function(small, small)
    with pytest.raises(TypeError, match="stable: .*Stable unCLIP"):
        function(karlo, karlo)


def test_every_public_function_says_what_it_refuses():
    silent = [
        n
        for n in stable_unclip.__all__
        if "Refuses" not in (inspect.getdoc(getattr(stable_unclip, n)) or "")
    ]
    assert not silent, silent
