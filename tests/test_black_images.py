"""helpers.black_images: the checker's decision rule, forced fp16 overflow, and why_black."""

from __future__ import annotations

import copy
import logging

import numpy as np
import PIL.Image
import pytest
import torch
from diffusers import DiffusionPipeline, StableDiffusionPipeline
from diffusers.pipelines.stable_diffusion import StableDiffusionPipelineOutput
from diffusers.pipelines.stable_diffusion_xl.pipeline_output import StableDiffusionXLPipelineOutput

import helpers
from helpers import black_images as bi
from helpers import pipelines
from helpers.models import tiny


@pytest.fixture(scope="module")
def ctx():
    return helpers.setup(profile="tiny")


@pytest.fixture(scope="module")
def sd(ctx):
    return pipelines.load("sd15", ctx)


@pytest.fixture(scope="module")
def sdxl(ctx):
    return pipelines.load("sdxl", ctx)


@pytest.fixture()
def checker():
    return bi.tiny_safety_checker(image_size=32, width=16, seed=0)


def clip_batch(n: int = 3, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, 3, 32, 32, generator=torch.Generator().manual_seed(seed))


# --- the checker ---------------------------------------------------------------------------------


def test_tiny_checker_has_the_class_fixed_concept_counts(checker):
    assert tuple(checker.concept_embeds.shape) == (17, 16)
    assert tuple(checker.special_care_embeds.shape) == (3, 16)
    assert checker.vision_model.config.image_size == 32


@pytest.mark.parametrize("kwargs", [{"image_size": 30}, {"image_size": 2}, {"width": True}, {"width": "16"}, {"seed": -1}])
def test_tiny_checker_refuses_bad_sizes(kwargs):
    # a wrong kind of value (a bool, a str) is a TypeError, an int out of range a ValueError
    with pytest.raises((TypeError, ValueError), match="tiny_safety_checker"):
        bi.tiny_safety_checker(**kwargs)


def test_tiny_checker_is_seeded_and_leaves_the_global_rng_alone():
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    a = bi.tiny_safety_checker(seed=5)
    assert torch.equal(torch.random.get_rng_state(), before)
    b = bi.tiny_safety_checker(seed=5)
    assert torch.equal(a.visual_projection.weight, b.visual_projection.weight)


@pytest.mark.parametrize("seed", range(6))
def test_decide_agrees_with_forward(checker, seed):
    """Thresholds placed within 0.02 of image 0's cosines, where the 0.01 adjustment decides.

    Every concept misses image 0 by 0.0105..0.019 (a hit only with a larger adjustment); odd seeds
    add one concept missing by 0.005 (a hit only with the adjustment); seeds 2 and 5 give no
    special-care hit, so no adjustment. decide() must match forward's flags on all four images.
    """
    generator = torch.Generator().manual_seed(seed)
    clip_input = clip_batch(4, seed)
    bi.set_concepts(
        checker,
        embeddings=dict(enumerate(torch.randn(17, 16, generator=generator))),
        special_embeddings=dict(enumerate(torch.randn(3, 16, generator=generator))),
    )
    concept_cos, special_cos = bi.cosines(checker, clip_input)
    offsets = 0.0105 + torch.rand(17, generator=generator).numpy() * 0.0085
    if seed % 2:
        offsets[seed] = 0.005
    special_hit = seed % 3 != 2
    special_offsets = np.array([0.05, 0.3, 0.3]) * (-1 if special_hit else 1)
    bi.set_concepts(
        checker,
        thresholds={i: float(t) for i, t in enumerate(concept_cos[0] + offsets)},
        special_thresholds={i: float(t) for i, t in enumerate(special_cos[0] + special_offsets)},
    )
    decisions = bi.decide(checker, clip_input)
    images, flags = checker(clip_input=clip_input, images=torch.ones(4, 3, 2, 2))
    assert [d.flagged for d in decisions] == flags
    assert decisions[0].special_care == special_hit
    assert flags[0] == bool(seed % 2 and special_hit)
    for decision, image in zip(decisions, images):
        assert bool((image == 0).all()) == decision.flagged
        assert decision.flagged == bool(decision.bad_concepts)


def aimed(checker, clip_input):
    embeds = bi.image_embeddings(checker, clip_input)
    e_a = bi.unit(embeds[0])
    direction = bi.orthogonal_direction(e_a, [bi.unit(e) for e in embeds[1:]])
    neutral = bi.orthogonal_direction(torch.arange(16.0), [bi.unit(e) for e in embeds])
    bi.set_concepts(
        checker,
        embeddings={i: neutral for i in range(17)},
        thresholds={i: 0.2 for i in range(17)},
        special_embeddings={i: neutral for i in range(3)},
        special_thresholds={i: 0.2 for i in range(3)},
    )
    return direction, float(direction @ e_a)


def test_special_care_adds_one_hundredth_and_flags_nothing_alone(checker):
    clip_input = clip_batch(2)
    direction, cos_a = aimed(checker, clip_input)
    bi.set_concepts(checker, embeddings={5: direction}, thresholds={5: cos_a + 0.004})
    assert [d.flagged for d in bi.decide(checker, clip_input)] == [False, False]
    bi.set_concepts(checker, special_embeddings={1: direction}, special_thresholds={1: cos_a - 0.05})
    decision = bi.decide(checker, clip_input)[0]
    # exact: decide() rounds to 3 decimals, as forward() does, scores far from a boundary
    assert decision.special_care and decision.special_scores[1] == 0.05  # exact
    assert decision.concept_scores[5] == 0.006 and decision.bad_concepts == [5]  # exact, as above
    # the adjustment also reaches special-care concepts after the first hit (index 2 here)
    assert decision.special_scores[2] == round(-0.2 + 0.01, 3)  # exact, as above
    bi.set_concepts(checker, embeddings={5: bi.unit(torch.ones(16))}, thresholds={5: 0.99})
    assert checker(clip_input=clip_input, images=torch.ones(2, 1))[1] == [False, False]


def test_scores_round_to_three_decimals_before_the_test(checker):
    clip_input = clip_batch(2)
    direction, cos_a = aimed(checker, clip_input)
    bi.set_concepts(checker, embeddings={7: direction}, thresholds={7: cos_a - 0.0004})
    assert bi.decide(checker, clip_input)[0].concept_scores[7] == 0.0  # exact: rounded to 0
    assert checker(clip_input=clip_input, images=torch.ones(2, 1))[1] == [False, False]
    bi.set_concepts(checker, thresholds={7: cos_a - 0.0006})
    assert checker(clip_input=clip_input, images=torch.ones(2, 1))[1] == [True, False]


def test_orthogonal_direction():
    a, b = torch.tensor([1.0, 1.0, 0.0]), torch.tensor([1.0, 0.0, 0.0])
    d = bi.orthogonal_direction(a, b)
    assert abs(float(d @ bi.unit(b))) < 1e-6 and float(d @ bi.unit(a)) > 0.5
    assert abs(float(d.norm()) - 1) < 1e-6
    with pytest.raises(ValueError, match="span"):
        bi.orthogonal_direction(2 * b, [b])
    with pytest.raises(ValueError, match="no direction"):
        bi.unit(torch.zeros(3))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"thresholds": {17: 0.1}}, ValueError, "index 17"),
        ({"special_thresholds": {3: 0.1}}, ValueError, "index 3"),
        ({"embeddings": {0: torch.ones(5)}}, ValueError, "16 numbers"),
        ({"thresholds": [0.1]}, TypeError, "dict"),
        ({"thresholds": {0: "0.1"}}, TypeError, "number"),
    ],
)
def test_set_concepts_refuses_bad_input_before_changing_anything(checker, kwargs, error, match):
    before = copy.deepcopy(checker.state_dict())
    with pytest.raises(error, match=match):
        # a valid special embedding comes first: it must not be written either
        bi.set_concepts(checker, **{"special_embeddings": {1: torch.zeros(16)}, **kwargs})
    assert all(torch.equal(before[k], v) for k, v in checker.state_dict().items())


def test_checker_functions_refuse_other_models():
    with pytest.raises(TypeError, match="StableDiffusionSafetyChecker"):
        bi.decide(torch.nn.Linear(2, 2), clip_batch())
    with pytest.raises(TypeError, match="pixel_values"):
        bi.image_embeddings(bi.tiny_safety_checker(), torch.ones(3, 32, 32))


def test_captured_logs_sees_diffusers_messages_and_detaches():
    logger = logging.getLogger("diffusers.pipelines.test_black_images")
    with bi.captured_logs() as messages:
        logger.warning("first %s", "message")
    logger.warning("after")
    assert messages == ["first message"]


# --- fp16 overflow -------------------------------------------------------------------------------


def test_overflowing_vae_overflows_in_float16_only():
    vae = tiny.build(lambda: {"vae": tiny.vae(32)})["vae"]  # tiny.build takes builders of component dicts
    latents = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(0))
    original = copy.deepcopy(vae.state_dict())
    hot, factor = bi.overflowing_vae(vae, latents)
    assert all(torch.equal(original[k], v) for k, v in vae.state_dict().items())
    assert factor > 1
    peaks = bi.peak_activations(hot, latents)
    assert abs(peaks["conv_in"] / (4 * bi.FP16_MAX) - 1) < 1e-3
    assert max(bi.peak_activations(vae, latents).values()) < bi.FP16_MAX
    with torch.no_grad():
        assert hot.decode(latents).sample.isfinite().all()
        half = copy.deepcopy(hot).half().decode(latents.half()).sample
        assert half.isnan().all()
        assert not copy.deepcopy(vae).half().decode(latents.half()).sample.isnan().any()


def test_overflowing_vae_same_image_keeps_the_float32_image():
    vae = tiny.build(lambda: {"vae": tiny.vae(32)})["vae"]
    latents = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(0))
    hot, factor = bi.overflowing_vae(vae, latents, same_image=True)
    plain_peaks, hot_peaks = bi.peak_activations(vae, latents), bi.peak_activations(hot, latents)
    # every block up to conv_norm_out outputs factor times what it did (rounding: 1e-3 relative)
    stream = list(hot_peaks)[: list(hot_peaks).index("conv_norm_out")]
    assert len(stream) > 2
    assert all(abs(hot_peaks[n] / (factor * plain_peaks[n]) - 1) < 1e-3 for n in stream)
    with torch.no_grad():
        same = hot.decode(latents).sample
        assert (same - vae.decode(latents).sample).abs().max() < 1e-4  # float32 rounding
        assert copy.deepcopy(hot).half().decode(latents.half()).sample.isnan().all()
    # conv_in alone (the default) overflows too, but the float32 image is another one
    other, _ = bi.overflowing_vae(vae, latents)
    with torch.no_grad():
        assert (other.decode(latents).sample - same).abs().max() > 0.1


def test_scale_residual_stream_keeps_a_unet_s_output(sd):
    unet = sd.unet
    x = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(0))
    context = torch.randn(1, 7, unet.config.cross_attention_dim, generator=torch.Generator().manual_seed(1))
    factor = 1e5
    hot = copy.deepcopy(unet)
    with torch.no_grad():
        hot.conv_in.weight.mul_(factor)
        hot.conv_in.bias.mul_(factor)
        assert bi.scale_residual_stream(hot, factor) is hot
        expected, got = unet(x, 10, context).sample, hot(x, 10, context).sample
    assert (got - expected).abs().max() < 1e-3 * expected.abs().max()


def test_scale_residual_stream_refuses_bad_input():
    with pytest.raises(TypeError, match="torch module"):
        bi.scale_residual_stream("unet", 2.0)
    with pytest.raises(ValueError, match="ResnetBlock2D"):
        bi.scale_residual_stream(torch.nn.Linear(2, 2), 2.0)
    vae = tiny.build(lambda: {"vae": tiny.vae(32)})["vae"]
    for factor in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="factor"):
            bi.scale_residual_stream(vae.decoder, factor)
    with pytest.raises(TypeError, match="same_image"):
        bi.overflowing_vae(vae, torch.ones(1, 4, 2, 2), same_image="yes")


def test_overflowing_vae_refuses_bad_input():
    vae = tiny.build(lambda: {"vae": tiny.vae(32)})["vae"]  # tiny.build takes builders of component dicts
    with pytest.raises(TypeError, match="AutoencoderKL"):
        bi.overflowing_vae(torch.nn.Linear(2, 2), torch.ones(1, 4, 2, 2))
    with pytest.raises(TypeError, match="4-d"):
        bi.overflowing_vae(vae, torch.ones(4, 2, 2))
    with pytest.raises(ValueError, match="headroom"):
        bi.overflowing_vae(vae, torch.ones(1, 4, 2, 2), headroom=0.5)


# --- why_black -----------------------------------------------------------------------------------


def grey_pil(value: int = 128, size: int = 8) -> PIL.Image.Image:
    return PIL.Image.new("RGB", (size, size), (value, value, value))


@pytest.fixture(scope="module")
def sd_fp16(sd):
    pipe = copy.copy(sd)
    pipe.vae = copy.deepcopy(sd.vae).half()
    return pipe


def causes(output, pipe):
    return [v.cause for v in bi.why_black(output, pipe)]


def test_checker_flag_is_the_safety_checker_in_every_output_type(sd):
    pil = StableDiffusionPipelineOutput([grey_pil(0), grey_pil()], [True, False])
    np_out = StableDiffusionPipelineOutput(np.stack([np.zeros((8, 8, 3)), np.full((8, 8, 3), 0.5)]), [True, False])
    pt = StableDiffusionPipelineOutput(torch.stack([torch.zeros(3, 8, 8), torch.full((3, 8, 8), 0.5)]), [True, False])
    for output in (pil, np_out, pt, (pil.images, pil.nsfw_content_detected)):
        verdicts = bi.why_black(output, sd)
        assert [v.cause for v in verdicts] == [bi.CHECKER, bi.NOT_BLACK]
        assert verdicts[0].black and not verdicts[1].black


def test_nan_pixels_are_overflow_whatever_the_vae(sd):
    images = np.full((2, 8, 8, 3), np.nan, dtype=np.float32)
    images[1] = 0.3
    verdicts = bi.why_black(StableDiffusionPipelineOutput(images, None), sd)
    assert [v.cause for v in verdicts] == [bi.NAN, bi.NOT_BLACK]
    assert verdicts[0].nan_fraction == 1.0 and verdicts[1].nan_fraction == 0.0  # exact: all, none
    assert verdicts[0].black
    pt = torch.full((1, 3, 8, 8), float("nan"))
    assert causes(StableDiffusionPipelineOutput(pt, [False]), sd) == [bi.NAN]


def test_black_pil_is_overflow_only_when_the_vae_decodes_in_float16(sd, sd_fp16, sdxl):
    black = StableDiffusionPipelineOutput([grey_pil(0)], [False])
    assert causes(black, sd_fp16) == [bi.NAN]
    assert bi.why_black(black, sd_fp16)[0].nan_fraction is None
    assert causes(black, sd) == [bi.UNEXPLAINED]
    # SDXL upcasts a float16 VAE whose config says force_upcast (the default)
    xl = copy.copy(sdxl)
    xl.vae = copy.deepcopy(sdxl.vae).half()
    xl_black = StableDiffusionXLPipelineOutput([grey_pil(0)])
    assert xl.vae.config.force_upcast
    assert causes(xl_black, xl) == [bi.UNEXPLAINED]
    xl.vae.register_to_config(force_upcast=False)
    assert causes(xl_black, xl) == [bi.NAN]


def test_a_dark_image_is_not_black(sd_fp16):
    for value in (1, 4):
        dark = StableDiffusionPipelineOutput([grey_pil(value)], [False])
        verdict = bi.why_black(dark, sd_fp16)[0]
        assert not verdict.black and verdict.cause == bi.NOT_BLACK
    # in float outputs, black is what the 8-bit conversion makes 0: below half a level
    assert bi.why_black(StableDiffusionPipelineOutput(np.full((1, 4, 4, 3), 0.4 / 255), None), sd_fp16)[0].black
    assert not bi.why_black(StableDiffusionPipelineOutput(np.full((1, 4, 4, 3), 0.6 / 255), None), sd_fp16)[0].black


def test_why_black_on_a_real_pipeline_call(sd, ctx):
    flagging = bi.tiny_safety_checker(image_size=sd.feature_extractor.crop_size["height"])
    bi.set_concepts(flagging, thresholds={i: -2.0 for i in range(17)})  # a cosine is >= -1: every image hits
    pipe = StableDiffusionPipeline(**{**sd.components, "safety_checker": flagging}, requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    call = {"num_inference_steps": 1, "height": 32, "width": 32, "generator": ctx.generator()}
    with bi.captured_logs():
        out = pipe("a cat", **call)
    verdicts = bi.why_black(out, pipe)
    assert out.nsfw_content_detected == [True] and [v.cause for v in verdicts] == [bi.CHECKER]
    assert verdicts[0].black
    latent = pipe("a cat", output_type="latent", **{**call, "generator": ctx.generator()})
    assert latent.nsfw_content_detected is None
    with pytest.raises(ValueError, match="latent"):
        bi.why_black(latent, pipe)


@pytest.mark.parametrize(
    ("output", "error", "match"),
    [
        (42, TypeError, "output=..."),
        ("black.png", TypeError, "output=..."),
        ((), ValueError, "empty tuple"),
        (StableDiffusionPipelineOutput([], None), ValueError, "no images"),
        (StableDiffusionPipelineOutput(None, None), ValueError, "no images"),
        (StableDiffusionPipelineOutput(torch.zeros(1, 4, 8, 8), None), ValueError, "latents"),
        (StableDiffusionPipelineOutput(torch.zeros(3, 8, 8), None), ValueError, "4-d"),
        (StableDiffusionPipelineOutput(np.zeros((8, 8, 3)), None), ValueError, "numpy batch"),
        (StableDiffusionPipelineOutput(["a", "b"], None), TypeError, "PIL images"),
        (StableDiffusionPipelineOutput([PIL.Image.new("RGB", (4, 4))], [True, False]), ValueError, "one nsfw flag per image .* got 2 flags for 1 images"),
        (StableDiffusionPipelineOutput([PIL.Image.new("RGB", (4, 4))], "yes"), TypeError, "list of bools"),
    ],
)
def test_why_black_refuses_bad_outputs(sd, output, error, match):
    with pytest.raises(error, match=match):
        bi.why_black(output, sd)


def test_why_black_refuses_bad_pipelines(sd):
    output = StableDiffusionPipelineOutput([grey_pil()], [False])
    with pytest.raises(TypeError, match="DiffusionPipeline"):
        bi.why_black(output, "sd15")
    with pytest.raises(TypeError, match="DiffusionPipeline"):
        bi.why_black(output, sd.vae)
    with pytest.raises(ValueError, match="no `vae`"):
        bi.why_black(output, DiffusionPipeline())


# --- why_black with the call's final latents ------------------------------------------------------


def test_latents_tell_a_unet_overflow_from_a_vae_one(sd, sd_fp16, sdxl):
    nan_np = StableDiffusionPipelineOutput(np.full((2, 8, 8, 3), np.nan, dtype=np.float32), None)
    latents = torch.zeros(2, 4, 4, 4)
    latents[1] = float("nan")
    assert causes(nan_np, sd) == [bi.NAN, bi.NAN]  # without latents: the stage is unknown
    verdicts = bi.why_black(nan_np, sd, latents=latents)
    assert [v.cause for v in verdicts] == [bi.NAN_DECODE, bi.NAN_LATENTS]
    assert "UNet" in verdicts[1].evidence and "decode" in verdicts[0].evidence
    # black PIL from a float16 VAE: inferred; the latents place it
    black = StableDiffusionPipelineOutput([grey_pil(0), grey_pil(0)], [False, False])
    assert causes(black, sd_fp16) == [bi.NAN, bi.NAN]
    assert [v.cause for v in bi.why_black(black, sd_fp16, latents=latents)] == [bi.NAN_DECODE, bi.NAN_LATENTS]
    # SDXL upcasting a float16 VAE: NaN latents give a black image that is otherwise unexplained
    xl = copy.copy(sdxl)
    xl.vae = copy.deepcopy(sdxl.vae).half()
    xl_black = StableDiffusionXLPipelineOutput([grey_pil(0), grey_pil(0)])
    assert causes(xl_black, xl) == [bi.UNEXPLAINED, bi.UNEXPLAINED]
    assert [v.cause for v in bi.why_black(xl_black, xl, latents=latents)] == [bi.UNEXPLAINED, bi.NAN_LATENTS]
    # a flag still wins, and a bright image with finite latents is not black
    flagged = StableDiffusionPipelineOutput([grey_pil(0), grey_pil()], [True, False])
    assert [v.cause for v in bi.why_black(flagged, sd, latents=torch.zeros(2, 4, 4, 4))] == [bi.CHECKER, bi.NOT_BLACK]


def test_final_latents_keeps_what_the_vae_decodes(sd, ctx):
    keep = bi.FinalLatents()
    assert keep.latents is None
    call = {"num_inference_steps": 2, "height": 32, "width": 32}
    pipe = copy.copy(sd)
    out = pipe("a cat", output_type="latent", generator=ctx.generator(), callback_on_step_end=keep, **call)
    assert torch.equal(keep.latents, out.images)
    with pytest.raises(ValueError, match="latents"):
        keep(pipe, 0, 0, {"prompt_embeds": torch.ones(1)})


@pytest.mark.parametrize(
    ("latents", "error", "match"),
    [
        (np.zeros((1, 4, 4, 4)), TypeError, "torch tensor"),
        (torch.zeros(4, 4, 4), ValueError, "4-d"),
        (torch.zeros(1, 4, 4, 4, dtype=torch.int64), TypeError, "floating-point"),
        (torch.zeros(2, 4, 4, 4), ValueError, "one entry per image"),
    ],
)
def test_why_black_refuses_bad_latents(sd, latents, error, match):
    with pytest.raises(error, match=match):
        bi.why_black(StableDiffusionPipelineOutput([grey_pil(0)], [False]), sd, latents=latents)
