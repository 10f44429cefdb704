"""The 21 unclear cases of benchmarks/bad_input_heldout.py, and its one failed control, fixed in helpers.

Each mistake must raise the stated exception from helpers, before any work is done, with a message that
names the argument in full and says what is accepted. The control (a 0-d array as t) must be read as a
scalar. Chapter-style calls of the tightened helpers are accepted (the last tests).
"""

from __future__ import annotations

import contextlib
import re

import numpy as np
import pytest
import torch
from diffusers import EulerDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel

import helpers
from helpers import black_images, interpolation, pag, pipelines, schedulers, validate
from helpers.book import plotting
from helpers.models import flops
from helpers.research import convergence
from helpers.toy import evaluate, scorer
from helpers.toy import interpolate as toy_interpolate
from helpers.toy import wuerstchen as toy_wuerstchen
from tests.bad_input_support import Env, names_argument

A, B = "a red circle on the left", "a blue square on the right"
U, V = torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 1.0, 0.0])
IMAGE = np.linspace(0, 1, 8 * 8 * 3).reshape(8, 8, 3)
ACCEPTED = re.compile(r"must|accept|expect|one of|use |pass |needs?|takes?|only|should|instead|valid|did you mean", re.I)


@pytest.fixture(scope="module")
def env():
    return Env()


CASES = [
    # (label, call, exception, argument, more text the message must hold)
    ("1 load: per-component dtype key typo", lambda e: pipelines.load("sd15", e.ctx, dtype={"unet": torch.float32, "vea": torch.float32}), ValueError, "dtype", ["did you mean 'vae'?", "unet", "default"]),
    ("2 slerp: t as strings", lambda e: interpolation.slerp(U, V, ["0", "0.5", "1"]), TypeError, "t", ["str '0'"]),
    ("3 slerp: t as a nested list", lambda e: interpolation.slerp(U, V, [[0.0, 0.5], [0.5, 1.0]]), ValueError, "t", ["(2, 2)"]),
    ("4 unit: a 0-d tensor", lambda e: black_images.unit(torch.tensor(3.0)), ValueError, "vector", ["0-d"]),
    ("5 build_on_meta: a config value as a string", lambda e: flops.build_on_meta(UNet2DConditionModel, {"sample_size": "64"}), TypeError, "config", ["sample_size", "int"]),
    ("6 sweep: progress 'yes'", lambda e: convergence.sweep([e.conv_case], e.mixture, e.z, [2], progress="yes"), TypeError, "progress", ["True or False"]),
    ("7 crossing: values as strings", lambda e: toy_interpolate.crossing([0.0, 0.5, 1.0], ["0.1", "0.4", "0.9"]), TypeError, "values", ["numbers"]),
    ("8 from_pretrained: a variant the folder lacks", lambda e: pipelines.from_pretrained("sd15", e.ctx, variant="fp32"), ValueError, "variant", ["fp32", "None"]),
    ("9 check_settings: an instance for cls", lambda e: schedulers.check_settings(EulerDiscreteScheduler(), {"timestep_spacing": "Trailing"}), TypeError, "cls", ["type(scheduler)"]),
    ("10 record: a whole image array", lambda e: helpers.record(image=np.zeros((4, 4, 3))), TypeError, "image", ["accepted:"]),
    ("11 from_pretrained: torch_dtype 'fp16'", lambda e: pipelines.from_pretrained("sd15", e.ctx, torch_dtype="fp16"), TypeError, "torch_dtype", ["torch.float16"]),
    ("12 check_settings: settings as a list of pairs", lambda e: schedulers.check_settings(EulerDiscreteScheduler, [("use_karras_sigmas", True)]), TypeError, "settings", ["mapping"]),
    ("13 a1111_name: schedule type in lower case", lambda e: schedulers.a1111_name("Euler a", "karras"), ValueError, "schedule_type", ["'Karras'", "case matters", "'Exponential'"]),
    ("14 prompt_path: an empty t", lambda e: interpolation.prompt_path(e.unclip, "a cat", "a dog", []), ValueError, "t", ["[0, 1]"]),
    ("15 set_concepts: an embedding of the wrong width", lambda e: black_images.set_concepts(e.checker, embeddings={0: torch.ones(8)}), ValueError, "embeddings", ["16 numbers"]),
    ("16 set_concepts: a concept index past the end", lambda e: black_images.set_concepts(e.checker, thresholds={99: 0.1}), ValueError, "thresholds", ["0..16", "99"]),
    ("17 check_layers: 'Mid' in capitals", lambda e: pag.check_layers(e.sd.unet, "Mid"), ValueError, "layers", ["did you mean 'mid'", "down_blocks.1"]),
    ("18 image_grid: more titles than images", lambda e: plotting.image_grid([IMAGE], titles=["a", "b"]), ValueError, "titles", ["one title per image"]),
    ("19 score: a caption outside the world", lambda e: scorer.score(e.world_images[:1], ["a purple cat"]), ValueError, "captions", ["red", "triangle"]),
    ("20 generate: height in **call", lambda e: evaluate.generate(e.toy, [A], steps=1, height=64), TypeError, "height", ["itself"]),
    ("21 generate (Würstchen): one seed for two captions", lambda e: toy_wuerstchen.generate(e.toy_wuerstchen, [A, B], seeds=[0], prior_steps=1, decoder_steps=1), ValueError, "seeds", ["one seed per caption"]),
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
    # raised by a `raise` in helpers/, not inside torch, diffusers or NumPy
    frame = info.traceback[-1]
    assert "/helpers/" in str(frame.path), frame.path


# --- no work before the refusal ----------------------------------------------------------------


def test_loading_refuses_before_from_pretrained(env, monkeypatch):
    env.ctx  # noqa: B018 - set up before from_pretrained is replaced
    loaded = []
    monkeypatch.setattr(StableDiffusionPipeline, "from_pretrained", classmethod(lambda *a, **k: loaded.append(1)))
    for call in (
        lambda: pipelines.load("sd15", env.ctx, dtype={"unet": torch.float32, "vea": torch.float32}),
        lambda: pipelines.from_pretrained("sd15", env.ctx, variant="fp32"),
        lambda: pipelines.from_pretrained("sd15", env.ctx, torch_dtype="fp16"),
    ):
        with pytest.raises((TypeError, ValueError)):
            call()
    assert loaded == []


def test_generation_refuses_before_calling_the_pipeline(env, monkeypatch):
    called = []
    monkeypatch.setattr(StableDiffusionPipeline, "__call__", lambda *a, **k: called.append("sd"))
    prior = type(env.toy_wuerstchen.prior_pipe)
    monkeypatch.setattr(prior, "__call__", lambda *a, **k: called.append("prior"))
    for key in ("height", "width", "generator", "num_inference_steps", "output_type", "prompt"):
        with pytest.raises(TypeError, match=key):
            evaluate.generate(env.toy, [A], steps=1, **{key: None})
        with pytest.raises(TypeError, match=key):
            evaluate.sample_accuracy(env.toy, n=1, steps=1, **{key: None})
    with pytest.raises(ValueError, match="seeds"):
        toy_wuerstchen.generate(env.toy_wuerstchen, [A, B], seeds=[0], prior_steps=1, decoder_steps=1)
    assert called == []


def test_sweep_refuses_progress_before_running(env, monkeypatch):
    ran = []
    monkeypatch.setattr(convergence, "run", lambda *a, **k: ran.append(1))
    monkeypatch.setattr(convergence, "reference", lambda *a, **k: ran.append(1))
    for progress in ("yes", 1, None):
        with pytest.raises(TypeError, match="progress"):
            convergence.sweep([env.conv_case], env.mixture, env.z, [2], progress=progress)
    assert ran == []


def test_set_concepts_writes_nothing_when_refusing(env):
    before = [p.detach().clone() for p in (env.checker.concept_embeds, env.checker.concept_embeds_weights)]
    with pytest.raises(ValueError, match="thresholds"):
        black_images.set_concepts(env.checker, thresholds={0: 0.5, 99: 0.1})
    with pytest.raises(ValueError, match="embeddings"):
        black_images.set_concepts(env.checker, thresholds={0: 0.5}, embeddings={0: torch.ones(8)})
    after = [env.checker.concept_embeds, env.checker.concept_embeds_weights]
    assert all(torch.equal(b, a) for b, a in zip(before, after))


def test_score_refuses_before_reading_images(env, monkeypatch):
    read = []
    monkeypatch.setattr(scorer, "read_one", lambda *a, **k: read.append(1))
    with pytest.raises(ValueError, match=r"captions\[1\]"):
        scorer.score(env.world_images, [A, "a purple cat"])
    assert read == []


def test_build_on_meta_refuses_before_building(monkeypatch):
    built = []  # build_on_meta builds inside _no_weight_init(cls): reaching it is doing the work
    monkeypatch.setattr(flops, "_no_weight_init", lambda cls: built.append(1) or contextlib.nullcontext())
    with pytest.raises(TypeError, match=r"config\['sample_size'\]"):
        flops.build_on_meta(UNet2DConditionModel, {"sample_size": "64"})
    with pytest.raises(TypeError, match=r"config\['act_fn'\]"):
        flops.build_on_meta(UNet2DConditionModel, {"act_fn": 3})
    assert built == []


# --- what stays accepted -----------------------------------------------------------------------


def test_slerp_reads_a_zero_d_array_as_a_scalar():
    result = interpolation.slerp(U, V, np.array(0.5))
    assert result.shape == (3,)
    assert torch.allclose(result, interpolation.slerp(U, V, 0.5))
    assert interpolation.lerp(U, V, np.array(1.0)).shape == (3,)


def test_t_and_values_of_the_right_kind_are_accepted():
    assert interpolation.slerp(U, V, [0.0, 0.5, 1.0]).shape == (3, 3)
    assert interpolation.slerp(U, V, np.linspace(0, 1, 4)).shape == (4, 3)
    assert interpolation.slerp(U, V, torch.linspace(0, 1, 5)).shape == (5, 3)
    assert interpolation.slerp(U, V, (0, 1)).shape == (2, 3)
    assert toy_interpolate.crossing(torch.linspace(0, 1, 3), np.array([0.1, 0.4, 0.9])) == pytest.approx(0.6)
    assert toy_interpolate.crossing([0.0, 0.5, 1.0], torch.tensor([0.1, 0.4, 0.9])) == pytest.approx(0.6)
    with pytest.raises(TypeError, match="values"):
        toy_interpolate.crossing([0.0, 0.5, 1.0], [True, False, True])


def test_other_argument_shapes_stay_accepted(env):
    assert black_images.unit(torch.tensor([3.0, 4.0])).tolist() == pytest.approx([0.6, 0.8])
    assert schedulers.check_settings(EulerDiscreteScheduler, {"use_karras_sigmas": np.bool_(True)}) == {"use_karras_sigmas": True}
    assert schedulers.a1111_name("DPM++ 2M", "Karras") == "DPM++ 2M Karras"
    assert schedulers.a1111_name("DPM++ 2M") == "DPM++ 2M Karras"
    with pytest.raises(ValueError, match="not part of any SAMPLERS name"):
        schedulers.a1111_name("Euler", "Beta")
    assert pag.check_layers(env.sd.unet, "mid")["mid"]
    model = flops.build_on_meta(UNet2DConditionModel, {"sample_size": 64, "act_fn": "silu", "norm_eps": 1})
    assert model.config.sample_size == 64


def test_a_dtype_dict_of_real_components_and_an_existing_variant_pass_the_checks(env, tmp_path):
    checked = pipelines.check_overrides("sd15", {"dtype": {"unet": torch.float32, "default": torch.float32}})
    assert checked["dtype"]["unet"] is torch.float32
    (tmp_path / "unet").mkdir()
    (tmp_path / "unet" / "diffusion_pytorch_model.fp16.safetensors").touch()
    (tmp_path / "text_encoder").mkdir()
    (tmp_path / "text_encoder" / "model.safetensors.index.bf16.json").touch()
    assert pipelines._folder_variants(tmp_path) == ["bf16", "fp16"]
    pipelines._check_variant(str(tmp_path), "fp16")
    pipelines._check_variant(str(tmp_path), None)
    with pytest.raises(ValueError, match="'bf16', 'fp16', or None"):
        pipelines._check_variant(str(tmp_path), "fp32")


def test_numeric_array_refuses_what_it_cannot_read_as_numbers():
    assert validate.numeric_array("x", [1, 2.5]).tolist() == [1.0, 2.5]  # exact: copied values
    assert validate.numeric_array("x", np.array([1, 2], dtype=object)).dtype == np.float64
    for bad, error in (("12", TypeError), ([1, "2"], TypeError), ([None], TypeError), ([[1], [2, 3]], ValueError)):
        with pytest.raises(error, match="x must be"):
            validate.numeric_array("x", bad)
    with pytest.raises(ValueError, match=r"got shape \(1, 2\)"):
        validate.numeric_array("x", [[1, 2]], ndim=1)
