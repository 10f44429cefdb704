"""The non-clear cases of benchmarks/bad_input_heldout2.py, and its one refused control, fixed in helpers.

Each mistake must raise the stated exception from a `raise` in helpers/, before any work, with a message that
names the argument in full and says what is accepted. Five unknown-keyword cases are left to Python's own
TypeError (`setup`, `approx`, `schedulers.explain`, `interpolation.prompt_path`, toy `stage_c` take no
**kwargs: Python names the keyword); the last tests check that legal, chapter-style calls still pass.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from diffusers import DDIMScheduler, EulerDiscreteScheduler, StableDiffusionPipeline
from diffusers.pipelines.stable_diffusion import StableDiffusionPipelineOutput

import helpers
from helpers import black_images, gpu, interpolation, pag, pipelines, prompts, schedulers
from helpers.book import claims, ledger, plotting
from helpers.models import mirror, moved, shipped_configs
from helpers.research import a1111_parity, convergence, signatures
from helpers.toy import models, profile, scorer, world
from helpers.toy import wuerstchen as toy_wuerstchen
from tests.bad_input_support import Env, names_argument

A = "a red circle on the left"
NAN, INF = float("nan"), float("inf")
U, V = torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 1.0, 0.0])
MATRIX = {"claims": [], "releases": [{"diffusers": "0.42.1", "claims": {}}]}
ACCEPTED = re.compile(r"must|accept|expect|one of|use |pass |needs?|takes?|only|should|instead|valid|did you mean", re.I)


def sd15(**changes):
    return {**shipped_configs.SD15_SCHEDULER_CONFIG, **changes}


@pytest.fixture(scope="module")
def env():
    return Env()


CASES = [
    # (label, call, exception, argument, more text the message must hold)
    # silent before
    ("make: a typo key inside base_config", lambda e: schedulers.make("Euler", sd15(use_karras_sigma=True)), ValueError, "base_config", ["use_karras_sigma", "did you mean 'use_karras_sigmas'?"]),
    ("make: solver_order 5", lambda e: schedulers.make("DPM++ 2M", sd15(), solver_order=5), ValueError, "solver_order", ["[1, 3]"]),
    ("accepted_keys: a class name", lambda e: schedulers.accepted_keys("EulerDiscreteScheduler"), TypeError, "cls", ["diffusers.EulerDiscreteScheduler"]),
    ("setting_values: key as a list", lambda e: schedulers.setting_values(EulerDiscreteScheduler, ["timestep_spacing"]), TypeError, "key", ["str"]),
    ("weight: empty of another width", lambda e: prompts.weight(torch.randn(1, 77, 8), torch.ones(77), empty=torch.zeros(1, 77, 5)), ValueError, "empty", ["[1, 77, 8]", "does not use it"]),
    ("decide: raw 0..255 pixels", lambda e: black_images.decide(e.checker, torch.rand(1, 3, 32, 32) * 255), ValueError, "clip_input", ["CLIP-normalised", "0..255"]),
    ("check_layers: an empty alternative", lambda e: pag.check_layers(e.sd.unet, "mid|"), ValueError, "layers", ["empty string"]),
    ("line_plot: inf on a log axis", lambda e: plotting.line_plot({"a": ([1, 2], [1.0, INF])}, "x", "y", logy=True), ValueError, "series", ["finite", "logy"]),
    ("loading_options: a list of pairs", lambda e: moved.loading_options([("dtype", torch.float16)]), TypeError, "options", ["dict(pairs)"]),
    ("plot_convergence: stochastic 'no'", lambda e: convergence.plot_convergence(e.results, stochastic="no"), TypeError, "stochastic", ["True or False"]),
    # deep before
    ("edited_keys: the scheduler for its config", lambda e: schedulers.edited_keys(e.euler), TypeError, "config", [".config"]),
    ("placement: the UNet for the pipe", lambda e: gpu.placement(e.sd.unet), TypeError, "pipe", ["UNet2DConditionModel"]),
    ("combine: the combined pipeline for the prior", lambda e: toy_wuerstchen.combine(e.toy_wuerstchen, e.toy_wuerstchen), TypeError, "prior", ["WuerstchenPriorPipeline"]),
    # vague before
    ("needs: the owner by name", lambda e: claims.needs("torch", "Generator"), TypeError, "owner", ["not 'torch'"]),
    ("needs_weights: snake_case id", lambda e: claims.needs_weights("weights_show_cats", "cats show").__enter__(), ValueError, "finding", ["did you mean 'weights-show-cats'?"]),
    ("statuses: release as a float", lambda e: ledger.statuses(MATRIX, 0.42), TypeError, "release", ["'0.42.1'"]),
    ("table: a matrix without 'claims'", lambda e: ledger.table({"releases": []}), ValueError, "matrix", ["'claims'"]),
    ("load: an empty model_id", lambda e: pipelines.load("sd15", e.ctx, model_id=""), ValueError, "model_id", ["empty string"]),
    ("model_id: a Family", lambda e: pipelines.model_id(pipelines.family("sd15")), TypeError, "key", ["pass its name"]),
    ("with_pag: the UNet", lambda e: pipelines.with_pag(e.sd.unet), ValueError, "pipe", ["pass the pipeline itself"]),
    ("weight: NaN weights", lambda e: prompts.weight(torch.randn(1, 77, 8), torch.full((77,), NAN)), ValueError, "weights", ["finite"]),
    ("angle_between: other lengths", lambda e: interpolation.angle_between(U, V[:2]), ValueError, "b", ["(2,)"]),
    ("unit: an inf entry", lambda e: black_images.unit(torch.tensor([1.0, INF])), ValueError, "vector", ["NaN or infinite"]),
    ("orthogonal_direction: NaN in away", lambda e: black_images.orthogonal_direction(torch.ones(3), [torch.tensor([NAN, 0.0, 0.0])]), ValueError, "away", ["finite"]),
    ("why_black: two images, one flag", lambda e: black_images.why_black(StableDiffusionPipelineOutput(np.zeros((2, 8, 8, 3), np.float32), [False]), e.sd), ValueError, "output", ["one nsfw flag per image"]),
    ("peak_activations: no batch axis", lambda e: black_images.peak_activations(e.sd.vae, torch.randn(4, 8, 8)), TypeError, "latents", ["(4, 8, 8)"]),
    ("denoiser_name: the pipeline class", lambda e: gpu.denoiser_name(StableDiffusionPipeline), TypeError, "pipe", ["class StableDiffusionPipeline"]),
    ("doc_disagreements: one list", lambda e: signatures.doc_disagreements([StableDiffusionPipeline]), TypeError, "pipelines", ["*pipelines"]),
    ("mirror.components: 'SD15'", lambda e: mirror.components("SD15"), ValueError, "name", ["did you mean 'sd15'?"]),
    ("diffusers_sigmas: the scheduler class", lambda e: a1111_parity.diffusers_sigmas(EulerDiscreteScheduler, 10), TypeError, "scheduler", ["class EulerDiscreteScheduler"]),
    ("diffusers_sigmas: DDIM has no sigmas", lambda e: a1111_parity.diffusers_sigmas(DDIMScheduler.from_config(sd15()), 10), ValueError, "scheduler", ["sigma-based"]),
    ("parse_caption: a list", lambda e: world.parse_caption([A]), TypeError, "text", ["one caption"]),
    ("random_scene: a seed", lambda e: world.random_scene(0), TypeError, "rng", ["np.random.default_rng(0)"]),
    ("accuracy: no verdicts", lambda e: scorer.accuracy([]), ValueError, "verdicts", ["at least one"]),
    ("toy_dir: 'sd-15'", lambda e: profile.toy_dir("sd-15"), ValueError, "name", ["did you mean 'sd15'?"]),
    ("models.pipeline: a pipeline", lambda e: models.pipeline(e.toy), TypeError, "components", ["pipe.components"]),
]


@pytest.mark.parametrize("call, error, argument, needles", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_mistake_is_refused_clearly(env, call, error, argument, needles):
    with pytest.raises(error) as info:
        call(env)
    message = str(info.value)
    if len(argument) <= 2:  # a letter or two is in most messages: only where a name stands
        assert names_argument(message, argument), message
    else:
        assert re.search(rf"(?<![\w.]){re.escape(argument)}(?!\w)", message), message
    assert ACCEPTED.search(message), message
    for needle in needles:
        assert needle in message, (needle, message)
    frame = info.traceback[-1]
    assert "/helpers/" in str(frame.path), frame.path


@pytest.mark.parametrize(
    "call, keyword",
    [
        (lambda: helpers.setup(profile="tiny", device="cpu", seeed=1), "seeed"),
        (lambda: helpers.approx(0.5, rtol=0.01, reason="x" * 20), "reason"),
        (lambda: schedulers.explain(EulerDiscreteScheduler(), taget=DDIMScheduler), "taget"),
    ],
)
def test_unknown_keywords_of_functions_without_kwargs_get_pythons_own_error(call, keyword):
    # left as Python's TypeError on purpose: it names the keyword, and no **kwargs swallows it
    with pytest.raises(TypeError, match=f"unexpected keyword argument '{keyword}'"):
        call()


# --- no work before the refusal ----------------------------------------------------------------


def test_make_refuses_before_building(monkeypatch):
    built = []
    monkeypatch.setattr(EulerDiscreteScheduler, "from_config", classmethod(lambda *a, **k: built.append(1)))
    with pytest.raises(ValueError, match="use_karras_sigma"):
        schedulers.make("Euler", sd15(use_karras_sigma=True))
    assert built == []


def test_decide_refuses_before_the_vision_model(env, monkeypatch):
    called = []
    monkeypatch.setattr(env.checker.vision_model, "forward", lambda *a, **k: called.append(1))
    with pytest.raises(ValueError, match="clip_input"):
        black_images.decide(env.checker, torch.rand(1, 3, 32, 32) * 255)
    assert called == []


def test_empty_model_id_refused_before_from_pretrained(env, monkeypatch):
    env.ctx  # noqa: B018
    loaded = []
    monkeypatch.setattr(StableDiffusionPipeline, "from_pretrained", classmethod(lambda *a, **k: loaded.append(1)))
    with pytest.raises(ValueError, match="model_id"):
        pipelines.load("sd15", env.ctx, model_id="")
    assert loaded == []


# --- legal input still accepted ------------------------------------------------------------------


def test_generator_takes_a_0d_integer_array(env):
    a = env.ctx.generator(np.array(5)).initial_seed()
    assert a == env.ctx.generator(5).initial_seed() == 5
    with pytest.raises(TypeError, match="seed"):
        env.ctx.generator(np.array(5.0))


def test_make_accepts_real_configs_and_documented_orders(env):
    # shipped configs carry _class_name, skip_prk_steps, set_alpha_to_one (PNDM/DDIM keys)
    for name in ("Euler", "DPM++ 2M Karras", "DDIM", "LMS"):
        schedulers.make(name, sd15())
    schedulers.make("Euler", dict(shipped_configs.SDXL_SCHEDULER_CONFIG))
    schedulers.make("Euler", {**sd15(), "_diffusers_version": "0.6.0", "clip_sample": False})
    schedulers.make("Euler", env.sd.scheduler.config)
    for order in (1, 2, 3):
        assert schedulers.make("DPM++ 2M", sd15(), solver_order=order).config.solver_order == order


def test_loosened_and_tightened_helpers_keep_their_legal_forms(env):
    assert "use_karras_sigmas" in schedulers.accepted_keys(EulerDiscreteScheduler)
    assert schedulers.setting_values(EulerDiscreteScheduler, "timestep_spacing")
    assert schedulers.edited_keys(env.euler.config) == {}
    z = torch.randn(1, 77, 8)
    assert prompts.weight(z, torch.ones(77), "compel", torch.zeros(1, 77, 8)).shape == z.shape
    assert prompts.weight(z, torch.ones(77), "a1111", torch.zeros(1, 77, 8)).shape == z.shape
    black_images.decide(env.checker, torch.randn(2, 3, 32, 32))
    assert pag.check_layers(env.sd.unet, "mid")
    plotting.line_plot({"a": ([1, 2], [1.0, 2.0])}, "x", "y", logy=True)
    assert moved.loading_options({"dtype": torch.float32})
    convergence.plot_convergence(env.results, stochastic=np.bool_(False))
    assert gpu.placement(env.sd)["unet"] == "cpu"
    assert gpu.denoiser_name(env.sd) == "unet"
    assert ledger.statuses(MATRIX, "0.42.1") == {}
    assert pipelines.model_id("sd15")
    assert world.parse_caption(A) == ("red", "circle", "left")
    world.random_scene(np.random.default_rng(0))
    assert profile.toy_dir("sd15").is_dir()
    assert models.pipeline(models.build(0)).unet is not None
    assert toy_wuerstchen.combine(env.toy_wuerstchen.prior_pipe, env.toy_wuerstchen.decoder_pipe) is not None
