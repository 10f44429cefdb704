"""Careless-user mistakes against helpers.research.ablation, models.flops, models.full_size,
research.hooks, interpolation, pag and black_images (issue 21).

Each case is a plausible mistake: a wrong type, an out-of-range value, a typo in a name, a pipeline or
model of the wrong family, a NaN or zero tensor, an image in the wrong range or layout, a keyword the
pipeline does not take. Each must raise the stated exception before any work is done, with a message
that names the argument. Legal but suspicious input gets a specific warning instead.
"""

from __future__ import annotations

import warnings
from functools import cached_property

import numpy as np
import PIL.Image
import pytest
import torch
from diffusers import UnCLIPScheduler, UNet2DConditionModel
from diffusers.pipelines.stable_diffusion import StableDiffusionPipelineOutput

import helpers
from helpers import interpolation, pag, pipelines
from helpers import black_images as bi
from helpers.models import flops, full_size, tiny
from helpers.research import ablation
from helpers.research.hooks import count_calls
from tests.bad_input_support import assert_names_argument

NAN = float("nan")
IMAGE = np.linspace(0, 1, 8 * 8 * 3).reshape(8, 8, 3)  # a valid float image in [0, 1]
PICTURE = PIL.Image.fromarray((np.random.RandomState(0).rand(32, 32, 3) * 255).astype("uint8"))
OTHER_PICTURE = PIL.Image.fromarray((np.random.RandomState(1).rand(32, 32, 3) * 255).astype("uint8"))
V = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def tiny_unet() -> UNet2DConditionModel:
    torch.manual_seed(0)
    return UNet2DConditionModel(
        block_out_channels=(8, 16), layers_per_block=1, sample_size=8, in_channels=4, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=8, attention_head_dim=2, norm_num_groups=4,
    )  # fmt: skip


class Env:
    """What the cases need, built on first use (pipelines take seconds; most cases need none)."""

    @cached_property
    def ctx(self):
        return helpers.setup(profile="tiny")

    @cached_property
    def sd(self):
        return pipelines.load("sd15", self.ctx)

    @cached_property
    def unclip(self):
        return pipelines.load("unclip", self.ctx)

    @cached_property
    def variation(self):
        return pipelines.load("unclip-image-variation", self.ctx)

    @cached_property
    def stable(self):
        return pipelines.load("stable-unclip", self.ctx)

    @cached_property
    def unet(self):
        return tiny_unet()

    @cached_property
    def checker(self):
        return bi.tiny_safety_checker(image_size=32, width=16, seed=0)

    @cached_property
    def vae(self):
        return tiny.build(lambda: {"vae": tiny.vae(32)})["vae"]

    def generator(self):
        return torch.Generator().manual_seed(0)


@pytest.fixture(scope="module")
def env():
    return Env()


def prompts(e, **kwargs):
    return interpolation.interpolate_prompts(e.unclip, "a cat", "a dog", 2, generator=e.generator(), **kwargs)


def images(e, pipe=None, a=PICTURE, b=OTHER_PICTURE, **kwargs):
    pipe = e.variation if pipe is None else pipe
    return interpolation.interpolate_images(pipe, a, b, 2, generator=e.generator(), **kwargs)


CASES = [
    # --- helpers.research.ablation ---------------------------------------------------------------
    ("layout_detail: float 0..255", lambda e: ablation.layout_detail(IMAGE * 255, IMAGE, 4), ValueError, "a"),
    ("layout_detail: channel-first", lambda e: ablation.layout_detail(np.zeros((3, 32, 32)), np.zeros((3, 32, 32)), 4), ValueError, "channel-first"),
    ("layout_detail: NaN pixel", lambda e: ablation.layout_detail(IMAGE, np.full((8, 8, 3), NAN), 4), ValueError, "b"),
    ("layout_detail: a batch", lambda e: ablation.layout_detail(IMAGE[None], IMAGE[None], 4), ValueError, "a"),
    ("layout_detail: a list", lambda e: ablation.layout_detail(IMAGE.tolist(), IMAGE, 4), TypeError, "a"),
    ("layout_detail: a path", lambda e: ablation.layout_detail(IMAGE, "b.png", 4), TypeError, "b"),
    ("layout_detail: other sizes", lambda e: ablation.layout_detail(IMAGE, IMAGE[:4], 4), ValueError, "a and b"),
    ("layout_detail: cutoff a str", lambda e: ablation.layout_detail(IMAGE, IMAGE, "4"), TypeError, "cutoff"),
    ("layout_detail: cutoff NaN", lambda e: ablation.layout_detail(IMAGE, IMAGE, NAN), ValueError, "cutoff"),
    ("layout_detail: cutoff negative", lambda e: ablation.layout_detail(IMAGE, IMAGE, -1), ValueError, "cutoff"),
    ("layout_detail: cutoff a bool", lambda e: ablation.layout_detail(IMAGE, IMAGE, True), TypeError, "cutoff"),
    ("split: a list", lambda e: ablation.split([[1.0, 2.0]], 1), TypeError, "signal"),
    ("split: complex", lambda e: ablation.split(np.ones((4, 4), complex), 1), TypeError, "signal"),
    ("split: NaN", lambda e: ablation.split(np.full((4, 4), NAN), 1), ValueError, "signal"),
    ("split: cutoff None", lambda e: ablation.split(np.ones((4, 4)), None), TypeError, "cutoff"),
    ("low_pass_mask: height 0", lambda e: ablation.low_pass_mask(0, 8, 1), ValueError, "height"),
    ("low_pass_mask: width a float", lambda e: ablation.low_pass_mask(8, 8.0, 1), TypeError, "width"),
    ("low_pass_mask: cutoff inf", lambda e: ablation.low_pass_mask(8, 8, float("inf")), ValueError, "cutoff"),
    ("distance_table: variants a list", lambda e: ablation.distance_table(IMAGE, [IMAGE], 2), TypeError, "variants"),
    ("distance_table: no variants", lambda e: ablation.distance_table(IMAGE, {}, 2), ValueError, "variants"),
    ("distance_table: one variant 0..255", lambda e: ablation.distance_table(IMAGE, {"ok": IMAGE, "x": IMAGE * 255}, 2), ValueError, "variants['x']"),
    ("distance_table: one variant other size", lambda e: ablation.distance_table(IMAGE, {"x": IMAGE[:4]}, 2), ValueError, "variants['x']"),
    ("distance_table: reference channel-first", lambda e: ablation.distance_table(np.zeros((3, 8, 8)), {"x": IMAGE}, 2), ValueError, "reference"),
    ("distance_table: cutoff a str", lambda e: ablation.distance_table(IMAGE, {"x": IMAGE}, "2"), TypeError, "cutoff"),
    # --- helpers.models.flops and helpers.models.full_size -------------------------------------
    ("count_params: a pipeline", lambda e: flops.count_params(e.sd), TypeError, "model"),
    ("count_flops: not callable", lambda e: flops.count_flops(5), TypeError, "fn"),
    ("count_flops: args a tensor", lambda e: flops.count_flops(torch.relu, torch.ones(2)), TypeError, "args"),
    ("count_flops: kwargs a list", lambda e: flops.count_flops(torch.relu, (torch.ones(2),), [1]), TypeError, "kwargs"),
    ("count_flops: model a str", lambda e: flops.count_flops(torch.relu, (torch.ones(2),), model="unet"), TypeError, "model"),
    ("count_flops: reference a str", lambda e: flops.count_flops(torch.relu, (torch.ones(2),), reference="yes"), TypeError, "reference"),
    ("build_on_meta: class name", lambda e: flops.build_on_meta("UNet2DConditionModel", {}), TypeError, "cls"),
    ("build_on_meta: config a list", lambda e: flops.build_on_meta(UNet2DConditionModel, [("sample_size", 8)]), TypeError, "config"),
    ("build_on_meta: config typo", lambda e: flops.build_on_meta(UNet2DConditionModel, {"sample_sise": 8}), ValueError, "sample_sise"),
    ("wuerstchen_latent_sizes: float", lambda e: full_size.wuerstchen_latent_sizes(1024.0, 1024), TypeError, "height"),
    ("wuerstchen_latent_sizes: zero", lambda e: full_size.wuerstchen_latent_sizes(1024, 0), ValueError, "width"),
    ("spec: typo", lambda e: full_size.spec("sdxl_unet"), ValueError, "name"),
    ("spec: None", lambda e: full_size.spec(None), TypeError, "name"),
    ("build: short name", lambda e: full_size.build("sd15"), ValueError, "name"),
    ("forward_cost: float height", lambda e: full_size.forward_cost("sd15-unet", 512.0), TypeError, "height"),
    ("forward_cost: odd height", lambda e: full_size.forward_cost("sd15-unet", 500, 512), ValueError, "height"),
    ("forward_cost: float batch", lambda e: full_size.forward_cost("sd15-vae-decoder", batch=2.0), TypeError, "batch"),
    ("forward_cost: batch 0", lambda e: full_size.forward_cost("sd15-vae-decoder", batch=0), ValueError, "batch"),
    ("forward_cost: model of another class", lambda e: full_size.forward_cost("sd15-unet", model=torch.nn.Linear(2, 2)), TypeError, "model"),
    ("forward_cost: model of another config", lambda e: full_size.forward_cost("sdxl-unet", model=full_size.build("sd15-unet")), ValueError, "model"),
    ("forward_cost: reference a str", lambda e: full_size.forward_cost("sd15-vae-decoder", reference="no"), TypeError, "reference"),
    # --- helpers.research.hooks ------------------------------------------------------------------
    ("count_calls: a pipeline", lambda e: count_calls(e.sd), TypeError, "pipe.unet"),
    ("count_calls: argument a float", lambda e: count_calls(e.unet, argument=1.5), TypeError, "argument"),
    ("count_calls: argument a bool", lambda e: count_calls(e.unet, argument=True), TypeError, "argument"),
    ("count_calls: negative index", lambda e: count_calls(e.unet, argument=-1), ValueError, "argument"),
    ("count_calls: argument typo", lambda e: count_calls(e.unet, argument="samples"), ValueError, "did you mean 'sample'"),
    # --- helpers.pag -----------------------------------------------------------------------------
    ("layer_matches: a pipeline", lambda e: pag.layer_matches(e.sd, "mid"), TypeError, "pipe.unet"),
    ("layer_matches: no attention", lambda e: pag.layer_matches(torch.nn.Linear(2, 2), "mid"), ValueError, "denoiser"),
    ("layer_matches: empty entry", lambda e: pag.layer_matches(e.unet, ""), ValueError, "layers"),
    ("layer_matches: broken regex", lambda e: pag.layer_matches(e.unet, "down[0"), ValueError, "layers"),
    ("layer_matches: empty list", lambda e: pag.layer_matches(e.unet, []), TypeError, "layers"),
    ("layer_matches: a number in the list", lambda e: pag.layer_matches(e.unet, ["mid", 1]), TypeError, "layers"),
    ("check_layers: not a module", lambda e: pag.check_layers(object(), "mid"), TypeError, "denoiser"),
    ("check_layers: matches nothing", lambda e: pag.check_layers(e.unet, ["down.block_2"]), ValueError, "'down.block_2'"),
    ("longer_numbers: names a str", lambda e: pag.longer_numbers("blocks.1", "blocks.10"), TypeError, "names"),
    ("longer_numbers: entry an int", lambda e: pag.longer_numbers(1, []), TypeError, "entry"),
    ("longer_numbers: broken regex", lambda e: pag.longer_numbers("blocks.(1", []), ValueError, "entry"),
    # --- helpers.interpolation: vectors ----------------------------------------------------------
    ("slerp: zero vector", lambda e: interpolation.slerp(torch.zeros(3), torch.ones(3), 0.5), ValueError, "zero"),
    ("slerp: NaN", lambda e: interpolation.slerp(torch.tensor([NAN, 1.0]), torch.ones(2), 0.5), ValueError, "a holds"),
    ("slerp: t above 1", lambda e: interpolation.slerp(V[0], V[1], 1.5), ValueError, "t must"),
    ("slerp: t a str", lambda e: interpolation.slerp(V[0], V[1], "0.5"), TypeError, "t must"),
    ("slerp: t NaN", lambda e: interpolation.slerp(V[0], V[1], [0.0, NAN]), ValueError, "t must"),
    ("slerp: int tensors", lambda e: interpolation.slerp(torch.tensor([1, 0]), torch.tensor([0, 1]), 0.5), TypeError, "a of dtype"),
    ("slerp: shapes differ", lambda e: interpolation.slerp(V, V[0], 0.5), ValueError, "a and b"),
    ("lerp: NaN", lambda e: interpolation.lerp(V[0], torch.tensor([NAN, 0.0, 0.0]), 0.5), ValueError, "b holds"),
    ("lerp: t a bool", lambda e: interpolation.lerp(V[0], V[1], True), TypeError, "t must"),
    ("angle_between: zero vector", lambda e: interpolation.angle_between(torch.zeros(3), V[0]), ValueError, "a holds a zero"),
    ("angle_between: NaN", lambda e: interpolation.angle_between(V, torch.tensor([NAN, 0.0, 0.0])), ValueError, "b holds"),
    ("angle_between: ints", lambda e: interpolation.angle_between(torch.tensor([1, 0]), torch.tensor([0, 1])), TypeError, "a"),
    # --- helpers.interpolation: UnCLIP frame makers ----------------------------------------------
    ("interpolate_prompts: SD pipeline", lambda e: interpolation.interpolate_prompts(e.sd, "a", "b", 2, generator=e.generator()), TypeError, "pipe"),
    ("interpolate_prompts: image pipeline", lambda e: interpolation.interpolate_prompts(e.variation, "a", "b", 2, generator=e.generator()), TypeError, "pipe"),
    ("interpolate_prompts: prior steps 0", lambda e: prompts(e, prior_num_inference_steps=0), ValueError, "prior_num_inference_steps"),
    ("interpolate_prompts: decoder steps 1", lambda e: prompts(e, decoder_num_inference_steps=1), ValueError, "decoder_num_inference_steps"),
    ("interpolate_prompts: steps a float", lambda e: prompts(e, super_res_num_inference_steps=2.0), TypeError, "super_res_num_inference_steps"),
    ("interpolate_prompts: unknown kwarg", lambda e: prompts(e, num_inference_steps=2), ValueError, "num_inference_steps"),
    ("interpolate_prompts: kwarg typo", lambda e: prompts(e, prior_guidance=2.0), ValueError, "did you mean 'prior_guidance_scale'"),
    ("interpolate_prompts: guidance NaN", lambda e: prompts(e, prior_guidance_scale=NAN), ValueError, "prior_guidance_scale"),
    ("interpolate_prompts: output_type pt", lambda e: prompts(e, output_type="pt"), ValueError, "output_type"),
    ("interpolate_prompts: output_type PIL", lambda e: prompts(e, output_type="PIL"), ValueError, "output_type"),
    ("interpolate_prompts: reserved kwarg", lambda e: prompts(e, prior_latents=torch.zeros(1)), ValueError, "prior_latents"),
    ("interpolate_prompts: n 1", lambda e: interpolation.interpolate_prompts(e.unclip, "a", "b", 1, generator=e.generator()), ValueError, "n (the number of frames"),
    ("interpolate_prompts: n a float", lambda e: interpolation.interpolate_prompts(e.unclip, "a", "b", 3.0, generator=e.generator()), TypeError, "n (the number of frames"),
    ("interpolate_prompts: batch_size 0", lambda e: prompts(e, batch_size=0), ValueError, "batch_size"),
    ("interpolate_prompts: batch_size a float", lambda e: prompts(e, batch_size=1.0), TypeError, "batch_size"),
    ("interpolate_prompts: generator a seed", lambda e: interpolation.interpolate_prompts(e.unclip, "a", "b", 2, generator=0), TypeError, "generator"),
    ("interpolate_prompts: prompt a list", lambda e: interpolation.interpolate_prompts(e.unclip, ["a"], "b", 2, generator=e.generator()), TypeError, "prompt_a"),
    ("interpolate_images: prompt pipeline", lambda e: images(e, pipe=e.unclip), TypeError, "pipe"),
    ("interpolate_images: SD pipeline", lambda e: images(e, pipe=e.sd), TypeError, "pipe"),
    ("interpolate_images: a numpy image", lambda e: images(e, a=np.asarray(PICTURE)), TypeError, "image_a"),
    ("interpolate_images: NaN pixel tensor", lambda e: images(e, b=torch.full((1, 3, 32, 32), NAN)), ValueError, "image_b"),
    ("interpolate_images: 4-channel tensor", lambda e: images(e, a=torch.zeros(1, 4, 32, 32)), ValueError, "image_a"),
    ("interpolate_images: prompt for Karlo variations", lambda e: images(e, prompt="a cat"), ValueError, "call_kwargs"),
    ("interpolate_images: unknown kwarg", lambda e: images(e, num_inference_steps=2), ValueError, "num_inference_steps"),
    ("interpolate_images: decoder steps 0", lambda e: images(e, decoder_num_inference_steps=0), ValueError, "decoder_num_inference_steps"),
    ("interpolate_images: stable noise_level", lambda e: images(e, pipe=e.stable, noise_level=5000), ValueError, "noise_level"),
    ("interpolate_images: stable steps 0", lambda e: images(e, pipe=e.stable, num_inference_steps=0), ValueError, "num_inference_steps"),
    ("interpolate_images: stable output_type typo", lambda e: images(e, pipe=e.stable, output_type="numpy"), ValueError, "output_type"),
    ("interpolate_images: stable prompt list", lambda e: images(e, pipe=e.stable, prompt=["a", "b"]), TypeError, "prompt"),
    ("encode_prompt: image pipeline", lambda e: interpolation.encode_prompt(e.variation, "a"), TypeError, "pipe"),
    ("encode_prompt: prompt a list", lambda e: interpolation.encode_prompt(e.unclip, ["a"]), TypeError, "prompt"),
    ("encode_image: prompt pipeline", lambda e: interpolation.encode_image(e.unclip, PICTURE), TypeError, "pipe"),
    ("encode_image: a path", lambda e: interpolation.encode_image(e.variation, "cat.png"), TypeError, "image"),
    ("prompt_path: t 2", lambda e: interpolation.prompt_path(e.unclip, "a", "b", 2), ValueError, "t must"),
    ("image_path: t NaN", lambda e: interpolation.image_path(e.variation, PICTURE, OTHER_PICTURE, [0.0, NAN]), ValueError, "t must"),
    # --- helpers.black_images --------------------------------------------------------------------
    ("tiny_safety_checker: image_size 30", lambda e: bi.tiny_safety_checker(image_size=30), ValueError, "image_size"),
    ("tiny_safety_checker: width a str", lambda e: bi.tiny_safety_checker(width="16"), TypeError, "width"),
    ("tiny_safety_checker: seed negative", lambda e: bi.tiny_safety_checker(seed=-1), ValueError, "seed"),
    ("image_embeddings: other size", lambda e: bi.image_embeddings(e.checker, torch.zeros(2, 3, 16, 16)), ValueError, "clip_input"),
    ("image_embeddings: channels last", lambda e: bi.image_embeddings(e.checker, torch.zeros(2, 32, 32, 3)), ValueError, "clip_input"),
    ("image_embeddings: NaN", lambda e: bi.image_embeddings(e.checker, torch.full((1, 3, 32, 32), NAN)), ValueError, "clip_input"),
    ("image_embeddings: numpy", lambda e: bi.image_embeddings(e.checker, np.zeros((1, 3, 32, 32))), TypeError, "clip_input"),
    ("image_embeddings: not a checker", lambda e: bi.image_embeddings(torch.nn.Linear(2, 2), torch.zeros(1, 3, 32, 32)), TypeError, "checker"),
    ("decide: other size", lambda e: bi.decide(e.checker, torch.zeros(1, 3, 224, 224)), ValueError, "clip_input"),
    ("cosines: a 3-d tensor", lambda e: bi.cosines(e.checker, torch.zeros(3, 32, 32)), TypeError, "clip_input"),
    ("unit: numpy", lambda e: bi.unit(np.ones(3)), TypeError, "vector"),
    ("unit: zero", lambda e: bi.unit(torch.zeros(3)), ValueError, "vector"),
    ("orthogonal_direction: toward a list", lambda e: bi.orthogonal_direction([1.0, 0.0], torch.ones(2)), TypeError, "toward"),
    ("orthogonal_direction: away a str", lambda e: bi.orthogonal_direction(torch.ones(2), "x"), TypeError, "away"),
    ("orthogonal_direction: sizes differ", lambda e: bi.orthogonal_direction(torch.ones(3), [torch.ones(2)]), ValueError, "away"),
    ("set_concepts: bool index", lambda e: bi.set_concepts(e.checker, thresholds={True: 0.1}), ValueError, "thresholds"),
    ("set_concepts: NaN threshold", lambda e: bi.set_concepts(e.checker, thresholds={0: NAN}), ValueError, "thresholds"),
    ("set_concepts: NaN embedding", lambda e: bi.set_concepts(e.checker, embeddings={0: torch.full((16,), NAN)}), ValueError, "embeddings"),
    ("captured_logs: name an int", lambda e: bi.captured_logs(3).__enter__(), TypeError, "name"),
    ("peak_activations: not a VAE", lambda e: bi.peak_activations(e.unet, torch.zeros(1, 4, 4, 4)), TypeError, "vae"),
    ("peak_activations: 3 channels", lambda e: bi.peak_activations(e.vae, torch.zeros(1, 3, 4, 4)), ValueError, "latents"),
    ("peak_activations: NaN", lambda e: bi.peak_activations(e.vae, torch.full((1, 4, 4, 4), NAN)), ValueError, "latents"),
    ("overflowing_vae: headroom a str", lambda e: bi.overflowing_vae(e.vae, torch.ones(1, 4, 4, 4), headroom="4"), TypeError, "headroom"),
    ("overflowing_vae: headroom NaN", lambda e: bi.overflowing_vae(e.vae, torch.ones(1, 4, 4, 4), headroom=NAN), ValueError, "headroom"),
    ("why_black: [-1, 1] pixels", lambda e: bi.why_black(StableDiffusionPipelineOutput(-np.ones((1, 8, 8, 3), np.float32), [False]), e.sd), ValueError, "output"),
    ("why_black: 0..255 floats", lambda e: bi.why_black(StableDiffusionPipelineOutput(np.full((1, 8, 8, 3), 255.0), None), e.sd), ValueError, "output"),
    ("why_black: uint8 array", lambda e: bi.why_black(StableDiffusionPipelineOutput(np.zeros((1, 8, 8, 3), np.uint8), None), e.sd), TypeError, "output"),
    ("why_black: the VAE as pipe", lambda e: bi.why_black(StableDiffusionPipelineOutput([PICTURE], [False]), e.sd.vae), TypeError, "pipe"),
]


@pytest.mark.parametrize("call, error, argument", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_mistake_is_refused_naming_the_argument(env, call, error, argument):
    with pytest.raises(error) as info:
        call(env)
    assert_names_argument(str(info.value), argument)


def test_every_public_function_is_covered():
    """Each public function of the seven modules has at least one case above (by name in the ids)."""
    ids = " ".join(c[0] for c in CASES)
    public = {
        ablation: ["layout_detail", "split", "low_pass_mask", "distance_table"],
        flops: ["count_params", "count_flops", "build_on_meta"],
        full_size: ["wuerstchen_latent_sizes", "spec", "build", "forward_cost"],
        pag: ["layer_matches", "check_layers", "longer_numbers"],
        interpolation: [n for n in interpolation.__all__ if n[0].islower()],
        bi: ["tiny_safety_checker", "image_embeddings", "decide", "cosines", "unit", "orthogonal_direction",
             "set_concepts", "captured_logs", "peak_activations", "overflowing_vae", "why_black"],
    }  # fmt: skip
    missing = [name for names in public.values() for name in names if f"{name}:" not in ids]
    assert "count_calls:" in ids and not missing, missing


def test_every_public_function_says_what_it_refuses():
    functions = [
        ablation.layout_detail, ablation.split, ablation.low_pass_mask, ablation.distance_table,
        flops.count_params, flops.count_flops, flops.build_on_meta, full_size.wuerstchen_latent_sizes,
        full_size.spec, full_size.build, full_size.forward_cost, count_calls, pag.layer_matches, pag.check_layers,
        pag.longer_numbers, bi.tiny_safety_checker, bi.image_embeddings, bi.decide, bi.cosines, bi.unit,
        bi.orthogonal_direction, bi.set_concepts, bi.captured_logs, bi.peak_activations, bi.overflowing_vae,
        bi.why_black, *(getattr(interpolation, n) for n in interpolation.__all__ if n[0].islower()),
    ]  # fmt: skip
    silent = [f.__name__ for f in functions if "Refuses" not in (f.__doc__ or "")]
    assert not silent, silent


def test_refusals_come_before_any_work(env, monkeypatch):
    """A refused frame maker never encodes a prompt or calls the pipeline."""
    touched = []
    monkeypatch.setattr(interpolation, "_render", lambda *a, **k: touched.append("render"))
    monkeypatch.setattr(interpolation, "encode_prompt", lambda *a, **k: touched.append("encode_prompt"))
    monkeypatch.setattr(interpolation, "encode_image", lambda *a, **k: touched.append("encode_image"))
    for call in (
        lambda: prompts(env, prior_num_inference_steps=0),
        lambda: prompts(env, output_type="pt"),
        lambda: images(env, decoder_num_inference_steps=0),
        lambda: images(env, pipe=env.stable, noise_level=-1),
    ):
        with pytest.raises((TypeError, ValueError)):
            call()
    assert touched == []


def test_forward_cost_refuses_the_model_before_counting(monkeypatch):
    counted = []
    monkeypatch.setattr(flops, "count_flops", lambda *a, **k: counted.append(1))
    with pytest.raises(ValueError, match="model"):
        full_size.forward_cost("sd15-unet", 64, model=flops.build_on_meta(UNet2DConditionModel, {}))
    assert counted == []


def test_zero_steps_would_have_rendered_noise():
    """Why UnCLIP step counts below 2 are refused: 0 gives no timesteps at all, 1 divides by zero."""
    scheduler = UnCLIPScheduler()
    scheduler.set_timesteps(0)
    assert len(scheduler.timesteps) == 0
    with pytest.raises(ZeroDivisionError):
        UnCLIPScheduler().set_timesteps(1)


def test_float_255_images_would_have_been_clipped():
    """Why layout_detail refuses 0..255 floats: clipping them to [0, 1] changes the distances."""
    rng = np.random.RandomState(0)
    a, b = rng.rand(16, 16, 3) * 255, rng.rand(16, 16, 3) * 255
    honest = ablation.layout_detail(a / 255, b / 255, 2)["total"]
    clipped = ablation.layout_detail(np.clip(a, 0, 1), np.clip(b, 0, 1), 2)["total"]
    assert abs(honest - clipped) > 0.05


# --- warnings: legal but suspicious --------------------------------------------------------------


def test_cutoff_beyond_every_frequency_warns():
    with pytest.warns(ablation.CutoffWarning, match="cutoff=100"):
        result = ablation.layout_detail(IMAGE, IMAGE[::-1], 100)
    assert result["detail"] < 1e-12  # the warning is right: nothing is left for detail
    with warnings.catch_warnings():
        warnings.simplefilter("error", ablation.CutoffWarning)
        ablation.layout_detail(IMAGE, IMAGE[::-1], 2)


def test_identical_ends_warn(env):
    with pytest.warns(interpolation.IdenticalEndsWarning, match="prompt_a and prompt_b"):
        path = interpolation.prompt_path(env.unclip, "a cat", "a cat", [0.0, 1.0])
    assert torch.equal(path["text_embeds"][0], path["text_embeds"][1])
    with pytest.warns(interpolation.IdenticalEndsWarning, match="image_a and image_b"):
        interpolation.image_path(env.variation, PICTURE, PICTURE.copy(), 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error", interpolation.IdenticalEndsWarning)
        interpolation.prompt_path(env.unclip, "a cat", "a dog", 0.5)


def test_good_input_still_works(env):
    assert ablation.layout_detail((IMAGE * 255).astype(np.uint8), IMAGE, 2)["total"] < 0.01
    assert ablation.layout_detail(torch.tensor(IMAGE).permute(2, 0, 1), IMAGE, np.float64(2))["total"] < 1e-6
    assert full_size.spec("sd15-unet").name == "sd15-unet"
    assert full_size.forward_cost("sd15-vae-decoder", np.int64(64), batch=np.int64(1)).flops > 0
    with count_calls(env.unet, argument="sample") as counter:
        env.unet(torch.zeros(2, 4, 8, 8), 1, torch.zeros(2, 3, 8))
    assert counter.batch_sizes == [2]
    assert interpolation.slerp(V[0], V[1], np.float32(0.5)).shape == (3,)
    assert bi.set_concepts(env.checker, embeddings={0: torch.zeros(16)}) is env.checker  # a zero concept: cosine 0
