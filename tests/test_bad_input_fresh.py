"""A fresh batch of careless-user mistakes (issue 28, deliverable 6), from benchmarks/bad_input.py.

Every case that benchmark found answered with a silent wrong result, a failure deep inside torch, diffusers
or NumPy, or a vague message before the fix, at least one per kind: NumPy scalars where a Python bool, int
or float is expected; scheduler configs that make no schedule; an object of a related kind; a dtype or
device that will not run; a seed that is not a seed. Each must raise the stated exception from helpers,
before any work is done, with a message that names the argument in full. Unambiguous values of the right
kind (np.int64(7) as a seed, np.bool_(True) as a setting) are accepted and converted (the last tests).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from diffusers import (
    DDIMScheduler,
    EulerDiscreteScheduler,
    StableDiffusionPipeline,
    UnCLIPPipeline,
)
from diffusers.pipelines.stable_diffusion import StableDiffusionPipelineOutput

import helpers
from helpers import black_images, gpu, pag, pipelines, schedulers, seeds, validate
from helpers.book import plotting
from helpers.models import shipped_configs
from helpers.toy import evaluate, interpolate, models, scorer, world
from helpers.toy import profile as toy_profile
from helpers.toy import wuerstchen as toy_wuerstchen
from tests.bad_input_support import Env

NAN = float("nan")
SD15 = dict(shipped_configs.SD15_SCHEDULER_CONFIG)
A, B = "a red circle on the left", "a blue square on the right"
ABSENT = [d for d, seen in (("cuda", torch.cuda.is_available()), ("mps", torch.backends.mps.is_available())) if not seen] or ["cuda:99"]


def config(**changes):
    return {**SD15, **changes}


def approx(value, **kwargs):
    return helpers.approx(value, **{"rtol": 0.01, "why": "spread between CPU kernels", **kwargs})


@pytest.fixture(scope="module")
def env():
    return Env()


CASES = [
    # --- NumPy scalars ------------------------------------------------------------------------------
    ("ctx.generators: np.bool_ n", lambda e: e.ctx.generators(np.bool_(True)), TypeError, "n must be an int"),
    ("approx: np.float64(nan) rtol", lambda e: approx(0.5, rtol=np.float64(NAN)), ValueError, "rtol"),
    ("approx: np.bool_ value", lambda e: approx(np.bool_(True)), TypeError, "value"),
    ("Scene: np.float64(nan) dx", lambda e: world.Scene("red", "circle", "left", dx=np.float64(NAN)), ValueError, "dx (pixels)"),
    ("coverage: np.float32(inf) half_size", lambda e: world.coverage("circle", (16.0, 16.0), np.float32(np.inf)), ValueError, "half_size"),
    ("optimize: np.int64 group_offload blocks", lambda e: gpu.optimize(e.sd, e.ctx, "vanilla", group_offload={"num_blocks_per_group": np.int64(0)}), ValueError, "num_blocks_per_group"),
    # --- scheduler configs that make no schedule ----------------------------------------------------
    ("make: zero training timesteps", lambda e: schedulers.make("Euler", config(num_train_timesteps=0)), ValueError, "num_train_timesteps"),
    ("make DDIM: zero training timesteps", lambda e: schedulers.make("DDIM", config(num_train_timesteps=0)), ValueError, "num_train_timesteps"),
    ("make: negative training timesteps", lambda e: schedulers.make("Euler", config(num_train_timesteps=-5)), ValueError, "num_train_timesteps"),
    ("make: beta range backwards", lambda e: schedulers.make("Euler", config(beta_start=0.02, beta_end=0.001)), ValueError, "beta_start (0.02) must not exceed beta_end"),
    ("make: beta_end above 1 as an override", lambda e: schedulers.make("Euler", SD15, beta_end=1.5), ValueError, "beta_end"),
    ("make: negative beta_start", lambda e: schedulers.make("DPM++ 2M", config(beta_start=-0.1)), ValueError, "beta_start"),
    ("make: unknown beta_schedule", lambda e: schedulers.make("DDIM", config(beta_schedule="cosine")), ValueError, "beta_schedule"),
    ("make: beta_schedule typo", lambda e: schedulers.make("Euler", config(beta_schedule="Scaled_Linear")), ValueError, "beta_schedule='Scaled_Linear' is not accepted (did you mean 'scaled_linear'?)"),
    ("make: beta_schedule None", lambda e: schedulers.make("LMS", config(beta_schedule=None)), TypeError, "beta_schedule"),
    ("make: trained_betas of the wrong length", lambda e: schedulers.make("Euler", config(trained_betas=[0.001, 0.01, 0.02])), ValueError, "trained_betas"),
    ("make: a beta of 1 in trained_betas", lambda e: schedulers.make("DDIM", config(num_train_timesteps=3, trained_betas=[0.1, 0.5, 1.0])), ValueError, "trained_betas"),
    ("swap: beta_start above beta_end", lambda e: schedulers.swap(pipelines.load("sd15", e.ctx), "Euler", beta_start=0.5), ValueError, "beta_start"),
    ("schedule: a scheduler made with beta_end 2", lambda e: schedulers.schedule(EulerDiscreteScheduler(beta_end=2.0), 10), ValueError, "beta_end"),
    ("schedule: a DDIM made with backwards betas", lambda e: schedulers.schedule(DDIMScheduler(beta_start=0.02, beta_end=0.0001), 10), ValueError, "beta_start"),
    ("make: steps_offset negative", lambda e: schedulers.make("PLMS", config(steps_offset=-1)), ValueError, "steps_offset"),
    # --- an object of a related kind ----------------------------------------------------------------
    ("explain: the pipeline", lambda e: schedulers.explain(e.sd), TypeError, "scheduler must be a diffusers scheduler"),
    ("explain: a pipeline class as target", lambda e: schedulers.explain(e.euler, target=StableDiffusionPipeline), TypeError, "target"),
    ("make: the pipeline as base_config", lambda e: schedulers.make("Euler", e.sd), TypeError, "base_config"),
    ("swap: the pipeline class", lambda e: schedulers.swap(StableDiffusionPipeline, "Euler"), TypeError, ("pipe must be a diffusers pipeline", "the class StableDiffusionPipeline itself")),
    ("load: a scheduler class as scheduler", lambda e: pipelines.load("sd15", e.ctx, scheduler=EulerDiscreteScheduler), TypeError, "scheduler must be"),
    ("load: a pipeline as scheduler", lambda e: pipelines.load("sd15", e.ctx, scheduler=e.sd), TypeError, "pipe.scheduler"),
    ("load: the VAE as unet", lambda e: pipelines.load("sd15", e.ctx, unet=e.sd.vae), TypeError, "unet must be a UNet2DConditionModel"),
    ("load: a scheduler config as scheduler", lambda e: pipelines.load("sd15", e.ctx, scheduler=e.sd.scheduler.config), TypeError, "scheduler must be"),
    ("optimize: the UNet for the pipeline", lambda e: gpu.optimize(e.sd.unet, e.ctx, "vanilla"), TypeError, "pipe must be a diffusers pipeline"),
    ("optimize: the pipeline class", lambda e: gpu.optimize(StableDiffusionPipeline, e.ctx, "vanilla"), TypeError, "pipe must be"),
    ("optimize: the pipeline as ctx", lambda e: gpu.optimize(e.sd, e.sd, "vanilla"), TypeError, "ctx must be the Context"),
    ("why_black: the pipeline class", lambda e: black_images.why_black(StableDiffusionPipelineOutput(np.zeros((1, 8, 8, 3)), [False]), StableDiffusionPipeline), TypeError, ("why_black(pipe=...) must be", "the class StableDiffusionPipeline itself")),
    ("layer_matches: the VAE for the denoiser", lambda e: pag.layer_matches(e.sd.vae, "mid"), TypeError, "denoiser"),
    ("recorded_draws: a scheduler for the module", lambda e: seeds.recorded_draws(e.euler).__enter__(), TypeError, "module must be a Python module"),
    ("sample_accuracy: the UNet for the pipeline", lambda e: evaluate.sample_accuracy(e.toy.unet, n=2, steps=1), TypeError, "pipe must be"),
    ("stage_c: the toy SD for the toy Würstchen", lambda e: toy_wuerstchen.stage_c(e.toy, [A]), TypeError, "pipe must be the combined toy Würstchen"),
    ("toy load: the device for the ctx", lambda e: toy_profile.load("sd15", "cpu"), TypeError, "ctx must be the Context"),
    ("accuracy: readings for verdicts", lambda e: scorer.accuracy(scorer.read(e.world_images)), TypeError, "verdicts"),
    ("render: a Scene class", lambda e: world.render(world.Scene), TypeError, "scene must be a world.Scene"),
    # --- a dtype or device that will not run -------------------------------------------------------
    ("setup: a float8 dtype", lambda e: helpers.setup(profile="tiny", device="cpu", dtype=torch.float8_e4m3fn), ValueError, "dtype must be a floating-point dtype"),
    ("setup: dtype as a string", lambda e: helpers.setup(profile="tiny", device="cpu", dtype="float16"), TypeError, ("dtype must be a torch.dtype", "use torch.float16")),
    ("replace: a Context with a string dtype", lambda e: dataclasses.replace(e.ctx, dtype="float16"), TypeError, "dtype must be a torch.dtype"),
    ("replace: a Context with a string device", lambda e: dataclasses.replace(e.ctx, device="cpu"), TypeError, "device must be a torch.device"),
    ("load: unclip in float16 on the CPU", lambda e: pipelines.load("unclip", e.ctx, dtype=torch.float16), ValueError, "dtype=torch.float16 will not run on cpu"),
    ("load: image variation in bfloat16 on the CPU", lambda e: pipelines.load("unclip-image-variation", e.ctx, dtype=torch.bfloat16), ValueError, "dtype=torch.bfloat16 will not run on cpu"),
    ("load: an integer dtype", lambda e: pipelines.load("sd15", e.ctx, dtype=torch.int8), ValueError, "dtype must be a floating-point dtype"),
    ("load: a float8 dtype", lambda e: pipelines.load("sd15", e.ctx, dtype=torch.float8_e4m3fn), ValueError, "dtype must be"),
    ("load: a complex dtype per component", lambda e: pipelines.load("sd15", e.ctx, dtype={"unet": torch.complex64}), ValueError, "dtype['unet']"),
    ("toy load: an integer dtype", lambda e: toy_profile.load("sd15", e.ctx, dtype=torch.int8), ValueError, "dtype must be"),
    ("optimize: compile mode typo", lambda e: gpu.optimize(pipelines.load("sd15", e.ctx), e.ctx, "vanilla", compile={"mode": "fast"}), ValueError, "mode='fast' is not accepted"),
    ("optimize: compile backend typo", lambda e: gpu.optimize(pipelines.load("sd15", e.ctx), e.ctx, "vanilla", compile={"backend": "inductr"}), ValueError, "backend='inductr' is not accepted (did you mean 'inductor'?)"),
    # --- seeds --------------------------------------------------------------------------------------
    ("setup: seed 2**32", lambda e: helpers.setup(profile="tiny", device="cpu", seed=2**32), ValueError, "seed must be a non-negative int, at most 2^32 - 1"),
    ("setup: seed 2**64", lambda e: helpers.setup(profile="tiny", device="cpu", seed=2**64), ValueError, "seed must be"),
    ("setup: seed '42'", lambda e: helpers.setup(profile="tiny", device="cpu", seed="42"), TypeError, ("seed must be a non-negative int", "write 42 without quotes")),
    ("ctx.generator: seed '42'", lambda e: e.ctx.generator("42"), TypeError, "seed must be"),
    ("ctx.generator: seed -1", lambda e: e.ctx.generator(-1), ValueError, "seed must be a non-negative int"),
    ("ctx.generator: seed True", lambda e: e.ctx.generator(True), TypeError, "seed must be"),
    ("ctx.generator: seed 2**64", lambda e: e.ctx.generator(2**64), ValueError, "seed must be"),
    ("ctx.generators: seed 1.5", lambda e: e.ctx.generators(2, seed=1.5), TypeError, "seed must be"),
    ("ctx.generators: n '2'", lambda e: e.ctx.generators("2"), TypeError, "n must be an int"),
    ("tiny_safety_checker: seed 2**64", lambda e: black_images.tiny_safety_checker(seed=2**64), ValueError, "seed must be"),
    ("make_dataset: seed '42'", lambda e: world.make_dataset(2, seed="42"), TypeError, "seed must be"),
    ("make_dataset: seed -1", lambda e: world.make_dataset(2, seed=-1), ValueError, "seed must be"),
    ("make_dataset: seed 1.5", lambda e: world.make_dataset(2, seed=1.5), TypeError, "seed must be"),
    ("toy models.build: seed '0'", lambda e: models.build(seed="0"), TypeError, "seed must be"),
    ("generate: float seeds", lambda e: evaluate.generate(e.toy, [A, B], seeds=[1.7, 2.2], steps=1), TypeError, "seeds[0]"),
    ("generate: string seeds", lambda e: evaluate.generate(e.toy, [A, B], seeds=["1", "2"], steps=1), TypeError, "seeds[0]"),
    ("generate: a negative seed", lambda e: evaluate.generate(e.toy, [A, B], seeds=[-1, 2], steps=1), ValueError, "seeds[0]"),
    ("render: seed 2**64", lambda e: interpolate.render(e.toy, torch.zeros(2, 77, 64), [2**64], steps=1), ValueError, "seeds[0]"),
    ("stage_c: bool seeds", lambda e: toy_wuerstchen.stage_c(e.toy_wuerstchen, [A, B], seeds=[True, False], steps=1), TypeError, "seeds[0]"),
    # a device this machine lacks (CPU-only here: both)
    ("batch_generators: cuda with no CUDA", lambda e: seeds.batch_generators(0, 2, device=ABSENT[0]), ValueError, "device="),
    ("batch_generators: mps with no MPS", lambda e: seeds.batch_generators(0, 2, device=ABSENT[-1]), ValueError, "device="),
    # --- other plausible mistakes ------------------------------------------------------------------
    ("approx: rtol as a string", lambda e: approx(0.5, rtol="0.01"), TypeError, "rtol"),
    ("approx: the value as a string", lambda e: approx("0.5"), TypeError, "value"),
    ("approx: a tensor of two values", lambda e: approx(torch.tensor([0.5, 0.6])), TypeError, "value"),
    ("caption: unknown colour", lambda e: world.caption("purple", "circle", "left"), ValueError, "colour must be one of"),
    ("caption: unknown position", lambda e: world.caption("red", "circle", "middle"), ValueError, "position must be one of"),
    ("Scene: half_size a string", lambda e: world.Scene("red", "circle", "left", half_size="6"), TypeError, "half_size"),
    ("Scene: dx off the image", lambda e: world.Scene("red", "circle", "left", dx=40.0), ValueError, "dx must lie in"),
    ("coverage: negative half_size", lambda e: world.coverage("circle", (16.0, 16.0), -3.0), ValueError, "half_size"),
    ("coverage: size 0", lambda e: world.coverage("circle", (16.0, 16.0), 5.0, size=0), ValueError, "size must be"),
    ("read_one: a uint8 image", lambda e: scorer.read_one((e.world_images[0] * 255).astype(np.uint8)), TypeError, "image must be a float array"),
    ("generate: one caption as a string", lambda e: evaluate.generate(e.toy, A, steps=1), TypeError, "captions must be a list"),
    ("stage_c: one caption as a string", lambda e: toy_wuerstchen.stage_c(e.toy_wuerstchen, A, steps=1), TypeError, "captions must be a list"),
]  # fmt: skip


@pytest.mark.parametrize("call, error, needles", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_mistake_is_refused_naming_the_argument(env, call, error, needles):
    """Each needle (the argument's full name, with what the message says of it) is in the message."""
    with pytest.raises(error) as caught:
        call(env)
    for needle in (needles,) if isinstance(needles, str) else needles:
        assert needle in str(caught.value), str(caught.value)


# --- no work before the refusal ----------------------------------------------------------------


def test_generation_helpers_refuse_before_calling_the_pipeline(env, monkeypatch):
    called = []
    monkeypatch.setattr(StableDiffusionPipeline, "__call__", lambda *a, **k: called.append("sd"))
    prior = type(env.toy_wuerstchen.prior_pipe)
    monkeypatch.setattr(prior, "__call__", lambda *a, **k: called.append("prior"))
    for call in (
        lambda: evaluate.generate(env.toy, [A, B], seeds=[1.7, 2.2]),
        lambda: evaluate.generate(env.toy, A),
        lambda: evaluate.generate(env.toy, [A], steps=0),
        lambda: toy_wuerstchen.stage_c(env.toy_wuerstchen, [A, B], seeds=["0", "1"]),
        lambda: toy_wuerstchen.stages_ba(env.toy_wuerstchen, torch.zeros(1, 12, 4, 4), [A], seeds=[-1]),
    ):
        with pytest.raises((TypeError, ValueError)):
            call()
    assert called == []


def test_load_refuses_dtypes_and_components_before_loading(env, monkeypatch):
    vae = env.sd.vae  # built before from_pretrained is stubbed (env builds lazily)
    loaded = []
    for cls in (StableDiffusionPipeline, UnCLIPPipeline):
        monkeypatch.setattr(cls, "from_pretrained", classmethod(lambda *a, **k: loaded.append(1)))
    for call in (
        lambda: pipelines.load("unclip", env.ctx, dtype=torch.float16),
        lambda: pipelines.load("sd15", env.ctx, dtype=torch.int8),
        lambda: pipelines.load("sd15", env.ctx, unet=vae),
        lambda: pipelines.load("sd15", env.ctx, scheduler=EulerDiscreteScheduler),
    ):
        with pytest.raises((TypeError, ValueError)):
            call()
    assert loaded == []


def test_make_refuses_a_meaningless_schedule_before_building(monkeypatch):
    built = []
    monkeypatch.setattr(EulerDiscreteScheduler, "from_config", classmethod(lambda *a, **k: built.append(1)))
    for bad in (config(num_train_timesteps=0), config(beta_start=0.02, beta_end=0.001), config(beta_end=1.5)):
        with pytest.raises(ValueError):
            schedulers.make("Euler", bad)
    assert built == []


def test_optimize_refuses_compile_typos_before_touching_the_pipeline(env):
    pipe = pipelines.load("sd15", env.ctx)
    before = {type(p).__name__ for p in pipe.unet.attn_processors.values()}
    for options in ({"mode": "fast"}, {"backend": "inductr"}):
        with pytest.raises(ValueError, match="option 'compile'"):
            gpu.optimize(pipe, env.ctx, "vanilla", attention="eager", compile=options)
    assert {type(p).__name__ for p in pipe.unet.attn_processors.values()} == before
    assert not hasattr(pipe.unet, "_compiled_call_impl") or pipe.unet._compiled_call_impl is None


def test_setup_refuses_before_seeding():
    state = torch.random.get_rng_state()
    numpy_state = np.random.get_state()[1].copy()
    for bad in ({"dtype": "float16"}, {"seed": 2**32}, {"dtype": torch.int8}):
        with pytest.raises((TypeError, ValueError)):
            helpers.setup(profile="tiny", device="cpu", **bad)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert np.array_equal(np.random.get_state()[1], numpy_state)


# --- why these are refused: what would have happened ---------------------------------------------


def test_meaningless_schedules_would_have_been_built_without_a_word():
    """diffusers builds a beta_end above 1 into NaN/infinite sigmas and backwards betas into a schedule."""
    with np.errstate(all="ignore"):
        sigmas = EulerDiscreteScheduler(beta_end=1.5).sigmas
    assert not bool(torch.isfinite(sigmas).all())
    backwards = DDIMScheduler(beta_start=0.02, beta_end=0.0001)
    assert bool((backwards.betas[1:] < backwards.betas[:-1]).all())
    with pytest.raises(IndexError):  # SD 1.5's set_alpha_to_one=False reads alphas_cumprod[0] of no timesteps
        DDIMScheduler(num_train_timesteps=0, set_alpha_to_one=False)


def test_unclip_in_half_precision_would_fail_on_the_cpu():
    """Why validate.dtype refuses float16 UnCLIP on the CPU: its call fails deep in torch. If this test
    fails, torch gained the kernel: drop the pipeline from validate.CPU_FULL_PRECISION."""
    helpers.setup(profile="tiny", device="cpu")
    pipelines.register_legacy_pipeline_modules()  # the folder names its text_proj after diffusers.pipelines.unclip
    pipe = UnCLIPPipeline.from_pretrained(str(pipelines.tiny_dir("unclip")), dtype=torch.float16)
    pipe.set_progress_bar_config(disable=True)
    call = pipelines.FAMILIES["unclip"].tiny_call
    with pytest.raises(NotImplementedError, match="Half"):
        pipe("a cat", **call, generator=torch.Generator().manual_seed(0), output_type="np")


def test_torch_would_alias_a_negative_seed():
    assert torch.Generator().manual_seed(-1).initial_seed() == 2**64 - 1


# --- unambiguous values of the right kind are accepted and converted ------------------------------


def test_numpy_scalars_of_the_right_kind_are_converted(env):
    ctx = helpers.setup(profile="tiny", device="cpu", seed=np.int64(7))
    assert type(ctx.seed) is int and ctx.seed == 7
    assert ctx.generator(np.int64(5)).initial_seed() == 5
    karras = schedulers.make("Euler", SD15, use_karras_sigmas=np.bool_(True))
    assert karras.config.use_karras_sigmas is True and '"use_karras_sigmas": true' in karras.to_json_string()
    dpm = schedulers.make("DPM++ 2M", config(beta_end=np.float32(0.012)), solver_order=np.int64(3))
    assert type(dpm.config.solver_order) is int and type(dpm.config.beta_end) is float
    report = gpu.optimize(pipelines.load("sd15", env.ctx), env.ctx, "vanilla", channels_last=np.bool_(True))
    assert report.applied["channels_last"] is True
    assert np.array_equal(world.make_dataset(np.int64(2), seed=np.int64(1))[0], world.make_dataset(2, seed=1)[0])
    made = approx(np.float32(0.5), rtol=np.float64(0.01))
    assert type(made.value) is float and type(made.rtol) is float
    assert plotting.line_plot({"a": ([1, 2], [1, 2])}, "x", "y", logy=np.bool_(True)).axes[0].get_yscale() == "log"


def test_dtypes_the_device_runs_are_accepted(env):
    assert helpers.setup(profile="tiny", device="cpu", dtype=torch.float16).dtype == torch.float16
    assert pipelines.load("sd15", env.ctx, dtype=torch.bfloat16).unet.dtype == torch.bfloat16  # runs on this CPU
    assert validate.dtype("dtype", torch.float16, "cpu", pipeline="StableDiffusionPipeline") == torch.float16


def test_chapter_style_calls_still_work(env):
    # what chapters pass: a scheduler config, a float32 world image to read_one, a list of Verdicts
    assert schedulers.make("DDIM", env.sd.scheduler.config).config.num_train_timesteps == 1000
    images, captions, _ = world.make_dataset(3, seed=1)
    assert scorer.read_one(images[0]).found
    assert scorer.accuracy(scorer.score(images, captions))["all"] == 1.0  # exact: 3 of 3
    assert world.Scene("red", "circle", "left", dx=1.5, dy=-1.5).centre == (9.5, 14.5)  # exact: halves add exactly
