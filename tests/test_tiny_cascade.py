"""helpers.models.tiny_cascade: tiny Stable Cascade pipelines from the real classes, and the
float16 overflow probes."""

from __future__ import annotations

import math

import diffusers
import pytest
import torch

from helpers.models import tiny_cascade
from helpers.research.hooks import first_call

PROMPT = "a red fox"


def generator():
    return torch.Generator().manual_seed(0)


def prior_inputs(dtype, batch=2):
    g = torch.Generator().manual_seed(0)
    width = tiny_cascade.tiny.TEXT_WIDTH
    return {
        "sample": torch.randn(batch, tiny_cascade.STAGE_C_CHANNELS, 3, 3, generator=g).to(dtype),
        "timestep_ratio": torch.full((batch,), 0.5).to(dtype),
        "clip_text_pooled": torch.randn(batch, 1, width, generator=g).to(dtype),
        "clip_text": torch.randn(batch, 77, width, generator=g).to(dtype),
        "clip_img": torch.zeros(batch, 1, width).to(dtype),
    }


def test_the_pipelines_are_the_real_classes_and_run_end_to_end():
    prior, decoder = tiny_cascade.prior_pipeline(), tiny_cascade.decoder_pipeline()
    assert type(prior) is diffusers.StableCascadePriorPipeline
    assert type(prior.prior) is type(decoder.decoder) is diffusers.StableCascadeUNet
    embeddings = prior(PROMPT, height=128, width=128, num_inference_steps=2, generator=generator()).image_embeddings
    # ceil(128 / 42.67) = 3: the same resolution_multiple as Würstchen
    assert embeddings.shape == (1, tiny_cascade.STAGE_C_CHANNELS, 3, 3)
    images = decoder(embeddings, prompt=PROMPT, num_inference_steps=2, generator=generator(), output_type="pt").images
    assert images.shape == (1, 3, 128, 128) and torch.isfinite(images).all()
    assert 0 < images.std()  # not a constant image: the refilled weights reach the output


def test_the_weights_are_the_same_on_every_build_and_the_combined_pipeline_shares_them():
    first, second = tiny_cascade.prior_pipeline(), tiny_cascade.prior_pipeline()
    for a, b in zip(first.prior.parameters(), second.prior.parameters()):
        assert torch.equal(a, b)
    combined = tiny_cascade.combined_pipeline()
    assert type(combined) is diffusers.StableCascadeCombinedPipeline
    for a, b in zip(first.prior.parameters(), combined.prior_prior.parameters()):
        assert torch.equal(a, b)
    assert not combined.prior_prior.training and not combined.decoder.training  # no dropout at call time


def test_stage_b_reads_the_pooled_text_only():
    combined = tiny_cascade.combined_pipeline()
    with first_call(combined.decoder) as stage_b:
        combined(PROMPT, height=128, width=128, prior_num_inference_steps=1, num_inference_steps=1,
                 generator=generator(), output_type="pt")  # fmt: skip
    assert stage_b.arguments["clip_text_pooled"].shape == (1, 1, tiny_cascade.tiny.TEXT_WIDTH)
    assert "clip_text" not in stage_b.arguments
    assert stage_b.arguments["effnet"].shape[1] == tiny_cascade.STAGE_C_CHANNELS


def test_a_dtype_casts_every_component_and_bad_dtypes_are_refused():
    prior = tiny_cascade.prior_pipeline(torch.bfloat16)
    assert {p.dtype for p in prior.prior.parameters()} == {torch.bfloat16}
    assert {p.dtype for p in prior.text_encoder.parameters()} == {torch.bfloat16}
    with pytest.raises(TypeError, match="torch.float16"):
        tiny_cascade.decoder_pipeline("float16")
    with pytest.raises(ValueError, match="floating-point"):
        tiny_cascade.combined_pipeline(torch.int8)


def test_stream_peak_tracks_the_block_outputs_and_removes_its_hooks():
    unet = tiny_cascade.prior_pipeline().prior
    with tiny_cascade.stream_peak(unet) as peak, torch.no_grad():
        unet(**prior_inputs(torch.float32))
    assert 0 < peak.value < 1e3 and peak.block.startswith(("down_blocks.", "up_blocks."))
    assert all(not block._forward_hooks for _, block in tiny_cascade._blocks(unet))
    with pytest.raises(TypeError, match="StableCascadeUNet"):
        with tiny_cascade.stream_peak(torch.nn.Linear(2, 2)):
            pass


def test_amplified_blocks_overflow_float16_into_nan_but_not_bfloat16():
    unet = tiny_cascade.prior_pipeline().prior
    before = [p.clone() for p in unet.parameters()]
    outputs, peaks = {}, {}
    for dtype in (torch.float32, torch.float16, torch.bfloat16):
        model = tiny_cascade.amplify_residual_blocks(unet, 1000.0, dtype)
        assert {p.dtype for p in model.parameters()} == {dtype}
        assert all(torch.equal(a, b) for a, b in zip(before, unet.parameters()))  # the original is unchanged
        with tiny_cascade.stream_peak(model) as peak, torch.no_grad():
            outputs[dtype] = model(**prior_inputs(dtype)).sample
        peaks[dtype] = peak.value
    assert peaks[torch.float32] > torch.finfo(torch.float16).max  # the stream passes 65504
    assert math.isinf(peaks[torch.float16]) and torch.isnan(outputs[torch.float16]).all()
    assert torch.isfinite(outputs[torch.bfloat16]).all() and torch.isfinite(outputs[torch.float32]).all()


@pytest.mark.parametrize("factor", [0, -1.0, float("nan"), float("inf"), True])
def test_amplify_refuses_a_factor_that_is_not_a_finite_positive_number(factor):
    unet = tiny_cascade.prior_pipeline().prior
    with pytest.raises((TypeError, ValueError), match="factor"):
        tiny_cascade.amplify_residual_blocks(unet, factor)


def test_amplify_refuses_another_module_and_a_dtype_that_is_not_one():
    with pytest.raises(TypeError, match="StableCascadeUNet"):
        tiny_cascade.amplify_residual_blocks(torch.nn.Linear(2, 2), 10.0)
    with pytest.raises(TypeError, match="torch.float16"):
        tiny_cascade.amplify_residual_blocks(tiny_cascade.prior_pipeline().prior, 10.0, "float16")


def test_casting_restores_the_diffusers_log_level():
    from diffusers.utils import logging

    level = logging.get_verbosity()
    tiny_cascade.prior_pipeline(torch.float16)
    assert logging.get_verbosity() == level
