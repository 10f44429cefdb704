"""helpers.toy: the world, the scorer, a training smoke test, and the committed weights."""

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from helpers.toy import evaluate, scorer, world
from helpers.toy import profile as toy_profile
from helpers.toy.__main__ import main as toy_main
from helpers.toy.train import RECIPES

ROOT = Path(__file__).resolve().parent.parent
CARD = ROOT / "models" / "toy-sd" / "README.md"
# The model card's figures (models/toy-sd/README.md): scorer accuracy, all three attributes right,
# over evaluate.eval_captions(32) with seeds 0..31, 20 steps, the shipped PNDM scheduler.
CARD_ACCURACY = {1.0: 0.96875, 5.0: 0.4375}
TOLERANCE = 2 / 32  # two samples: a sample near a scorer threshold may flip on another CPU


@pytest.fixture(scope="module")
def world_batch():
    return world.make_dataset(400, seed=3)


# --- the world ---------------------------------------------------------------------------------


def test_world_is_deterministic_and_seeded():
    a, captions_a, _ = world.make_dataset(20, seed=5)
    b, captions_b, _ = world.make_dataset(20, seed=5)
    c, captions_c, _ = world.make_dataset(20, seed=6)
    assert np.array_equal(a, b) and captions_a == captions_b
    assert not np.array_equal(a, c)
    assert a.shape == (20, 32, 32, 3) and a.dtype == np.float32 and a.min() >= 0 and a.max() <= 1


def test_captions_round_trip_and_cover_the_world():
    captions = world.all_captions()
    assert len(captions) == len(set(captions)) == 3 * 4 * 5
    assert world.caption("red", "circle", "left") == "a red circle on the left"
    assert all(world.caption(*world.parse_caption(c)) == c for c in captions)
    with pytest.raises(ValueError, match="not a caption of the toy world"):
        world.parse_caption("a purple circle on the left")


def test_scene_and_dataset_refuse_bad_input():
    with pytest.raises(ValueError, match="colour must be one of"):
        world.Scene("purple", "circle", "left")
    with pytest.raises(ValueError, match="half_size"):
        world.Scene("red", "circle", "left", half_size=20)
    with pytest.raises(ValueError, match="n must be a positive int"):
        world.make_dataset(0)


# --- the scorer --------------------------------------------------------------------------------


def test_scorer_reads_the_world_right(world_batch):
    images, captions, _ = world_batch
    result = scorer.accuracy(scorer.score(images, captions))
    assert result["all"] >= 0.99, result


def test_scorer_catches_a_wrong_caption(world_batch):
    images, _, scenes = world_batch
    wrong = [world.caption(s.colour, world.SHAPES[(world.SHAPES.index(s.shape) + 1) % 3], s.position)
             for s in scenes[:50]]
    result = scorer.accuracy(scorer.score(images[:50], wrong))
    assert result["shape"] == 0.0 and result["colour"] == 1.0 and result["position"] == 1.0  # exact: shares


@pytest.mark.parametrize("kind", ["uniform", "gaussian", "shuffled"])
def test_scorer_never_calls_noise_correct(world_batch, kind):
    images, captions, _ = world_batch
    rng = np.random.default_rng(0)
    if kind == "uniform":
        noise = rng.random((100, 32, 32, 3))
    elif kind == "gaussian":
        noise = np.clip(rng.normal(0.5, 0.25, (100, 32, 32, 3)), 0, 1)
    else:  # the world's own pixels, scattered: right colours, no shape
        noise = np.stack([im.reshape(-1, 3)[rng.permutation(1024)].reshape(32, 32, 3) for im in images[:100]])
    verdicts = scorer.score(noise, captions[:100])
    result = scorer.accuracy(verdicts)
    # chance would be 1/60 for all three, 1/4 for colour: noise scores at chance or below
    assert result["found"] == 0.0 and result["all"] == 0.0 and result["colour"] == 0.0, result  # exact: shares
    assert {v.reading.reason for v in verdicts} <= {"no plain background", "no single object"}


def test_scorer_says_no_foreground_on_a_blank_image():
    reading = scorer.read(np.zeros((1, 32, 32, 3)))[0]
    assert not reading.found and reading.reason == "no foreground"


def test_scorer_accepts_uint8_and_pil(world_batch):
    images, captions, _ = world_batch
    as_uint8 = (images[:10] * 255).round().astype(np.uint8)
    pil = [Image.fromarray(im) for im in as_uint8]
    assert [v.all for v in scorer.score(as_uint8, captions[:10])] == [True] * 10
    assert [v.all for v in scorer.score(pil, captions[:10])] == [True] * 10
    assert scorer.score(torch.from_numpy(images[:2]), captions[0:2])[0].all


@pytest.mark.parametrize(
    "images, message",
    [
        (np.zeros((2, 3, 32, 32)), "channels first"),
        (np.zeros((32, 32, 3)), "without the batch axis"),
        (np.zeros((2, 64, 64, 3)), r"\(N, 32, 32, 3\)"),
        (np.full((1, 32, 32, 3), -0.5), r"\[-1, 1\]"),
        (np.full((1, 32, 32, 3), 200.0), "0..255"),
        (np.full((1, 32, 32, 3), np.nan), "NaN"),
        ("picture.png", "list of PIL images"),
    ],
)
def test_scorer_refuses_bad_images(images, message):
    with pytest.raises((ValueError, TypeError), match=message):
        scorer.score(images, world.caption("red", "circle", "left"))


def test_scorer_refuses_bad_captions():
    images = np.zeros((2, 32, 32, 3))
    with pytest.raises(ValueError, match="2 images but 1 captions"):
        scorer.score(images, ["a red circle on the left"])
    with pytest.raises(ValueError, match="not a caption of the toy world"):
        scorer.score(images, "a cat")
    with pytest.raises(ValueError, match="at least one verdict"):
        scorer.accuracy([])


# --- training ----------------------------------------------------------------------------------


def test_training_smoke(tmp_path, capsys):
    out = tmp_path / "toy"
    assert toy_main(["train", "--out", str(out), "--steps", "2", "--vae-steps", "2", "--images", "8",
                     "--batch", "2", "--vae-batch", "3"]) == 0
    summary = json.loads((out / "training.json").read_text())
    assert summary["unet_steps"] == 2 and summary["vae_steps"] == 2
    assert summary["batch"] == 2 and summary["vae_batch"] == 3
    assert summary["lr"] == RECIPES["cpu"].lr  # what no flag replaced comes from the default recipe
    assert np.isfinite(summary["unet_final_loss"]) and np.isfinite(summary["vae_final_loss"])
    index = json.loads((out / "model_index.json").read_text())
    assert index["unet"] == ["diffusers", "UNet2DConditionModel"] and index["vae"] == ["diffusers", "AutoencoderKL"]
    from diffusers import StableDiffusionPipeline

    pipe = StableDiffusionPipeline.from_pretrained(out, dtype=torch.float32)
    assert next(pipe.unet.parameters()).dtype == torch.float32
    assert pipe.vae.config.scaling_factor == pytest.approx(summary["latent_scaling_factor"])


def test_training_refuses_bad_settings(tmp_path):
    from helpers.toy.train import train

    with pytest.raises(ValueError, match="steps must be a positive int"):
        train(tmp_path, steps=0)
    with pytest.raises(ValueError, match="vae_batch must be a positive int"):
        train(tmp_path, vae_batch=2.5)
    with pytest.raises(ValueError, match="lr must be a positive number"):
        train(tmp_path, lr=0)
    with pytest.raises(ValueError, match="unknown recipe 'gpu'; known: cpu, device"):
        train(tmp_path, recipe="gpu")
    with pytest.raises(TypeError, match="recipe must be a name in RECIPES or a Recipe; got dict"):
        train(tmp_path, recipe={"steps": 2})
    with pytest.raises(TypeError, match="unknown recipe settings \\['epochs'\\]"):
        train(tmp_path, epochs=3)
    assert not any(tmp_path.iterdir())  # refused before anything was trained or written


# --- the committed weights and the toy profile -------------------------------------------------


def test_committed_weights_fit_the_budget():
    files = [p for p in toy_profile.TOY_DIR.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) <= 20 * 2**20
    assert max(p.stat().st_size for p in files) <= 10 * 2**20
    assert {p.name for p in files} >= {"model_index.json", "diffusion_pytorch_model.safetensors", "model.safetensors"}


def test_model_card_states_the_figures_tested_here():
    card = CARD.read_text()
    for value in CARD_ACCURACY.values():
        assert f"{value:.4f}".rstrip("0") in card or f"{value:.5f}" in card, value
    assert re.search(r"seed\W+0", card)


def test_cards_cpu_recipe_figures_are_the_recorded_run():
    # the card quotes benchmarks/results/toy_training.json (a full run of the cpu recipe); a rerun
    # that changes the figures must change the card too
    run = json.loads((ROOT / "benchmarks" / "results" / "toy_training.json").read_text())
    recipe = RECIPES["cpu"]
    assert (run["vae_steps"], run["vae_batch"], run["steps"], run["batch"]) == (
        recipe.vae_steps, recipe.vae_batch, recipe.steps, recipe.batch)
    assert run["total_seconds"] <= 30 * 60  # the toy world's budget on the 2-core CPU
    card = CARD.read_text()
    assert f"{run['total_seconds']:.0f} s ({run['total_seconds'] / 60:.1f} min) in all" in " ".join(card.split())
    row = card[card.index("| PNDM (shipped) | 1 | 0.96875 |"):].splitlines()[:4]
    cpu_column = [line.rstrip(" |").rsplit("|", 1)[1].strip() for line in row]
    recorded = [run["accuracy"][key]["all"] for key in ("PNDM 1", "PNDM 5", "Euler 1", "Euler 5")]
    assert [float(v) for v in cpu_column] == recorded


@pytest.fixture(scope="module")
def toy_pipe():
    ctx = toy_profile.setup(seed=0, device="cpu")
    assert ctx.profile == "toy"
    return toy_profile.load("sd15", ctx)


def test_toy_pipeline_loads_as_float32_with_pag_layers(toy_pipe):
    assert type(toy_pipe).__name__ == "StableDiffusionPipeline"
    assert {p.dtype for p in toy_pipe.unet.parameters()} == {torch.float32}
    assert {p.dtype for p in toy_pipe.text_encoder.parameters()} == {torch.float32}
    self_attention = [n for n, _ in toy_pipe.unet.named_modules() if n.endswith("attn1")]
    assert any(n.startswith("mid_block") for n in self_attention)
    assert any(n.startswith("down_blocks.1") for n in self_attention)
    assert type(toy_pipe.scheduler).__name__ == "PNDMScheduler"


@pytest.mark.parametrize("guidance", sorted(CARD_ACCURACY))
def test_committed_weights_reach_the_cards_accuracy(toy_pipe, guidance):
    result = evaluate.sample_accuracy(toy_pipe, n=32, guidance_scale=guidance, steps=20)
    assert result["all"] == pytest.approx(CARD_ACCURACY[guidance], abs=TOLERANCE), result


def test_toy_profile_refuses_unknown_and_falls_back_for_others():
    ctx = toy_profile.setup(seed=0, device="cpu")
    with pytest.raises(ValueError, match="unknown pipeline name"):
        toy_profile.load("sd1.5", ctx)
    with pytest.raises(ValueError, match="no toy model for 'sdxl'"):
        toy_profile.toy_dir("sdxl")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pipe = toy_profile.load("sdxl", ctx)
    assert any("no toy model yet" in str(w.message) for w in caught)
    assert type(pipe).__name__ == "StableDiffusionXLPipeline"


def test_setup_toy_and_pipelines_load_route_to_the_toy_weights():
    import helpers
    from helpers import pipelines

    ctx = helpers.setup(profile="toy", device="cpu")
    assert ctx.profile == "toy" and ctx.tiny  # offline, tiny sizes for the other families
    pipe = pipelines.load("sd15", ctx)
    assert pipe.unet.config.block_out_channels == [48, 96, 96]  # the toy UNet, not tiny's
    with pytest.warns(UserWarning, match="'pixart-sigma' has no toy model yet"):
        other = pipelines.load("pixart-sigma", ctx)
    assert type(other).__name__ == "PixArtSigmaPipeline"


def test_toy_sd_loads_another_training_runs_folder(tmp_path):
    # a reader's own `python -m helpers.toy train --out DIR` loads like the committed weights
    out = tmp_path / "run"
    assert toy_main(["train", "--out", str(out), "--steps", "1", "--vae-steps", "1", "--images", "4",
                     "--batch", "2", "--vae-batch", "2"]) == 0
    ctx = toy_profile.setup(seed=0, device="cpu")
    pipe = toy_profile.load("sd15", ctx, weights=out)
    committed = toy_profile.load("sd15", ctx)
    first = next(iter(pipe.unet.state_dict()))
    assert not torch.equal(pipe.unet.state_dict()[first], committed.unet.state_dict()[first])
    assert toy_profile.sd_folder(out) == out and toy_profile.sd_folder(None) == toy_profile.TOY_DIR
    with pytest.raises(FileNotFoundError, match="no model_index.json there"):
        toy_profile.sd_folder(tmp_path / "missing")
    with pytest.raises(ValueError, match="hold a WuerstchenDecoderPipeline"):
        toy_profile.sd_folder(toy_profile.WUERSTCHEN_DIR / "decoder")
    with pytest.raises(ValueError, match="'wuerstchen' is not 'sd15'"):
        toy_profile.load("wuerstchen", ctx, weights=out)


def test_text_encoder_saved_in_the_other_key_layout_loads_its_trained_weights(tmp_path):
    # transformers releases disagree on the `text_model.` prefix of CLIPTextModel's saved keys;
    # helpers.moved renames them (the claims matrix loads the toy models under older releases)
    import shutil

    from safetensors.torch import load_file, save_file
    from transformers import CLIPTextModel

    from helpers import moved

    folder = tmp_path / "pipe"
    shutil.copytree(toy_profile.TOY_DIR / "text_encoder", folder / "text_encoder")
    weights = folder / "text_encoder" / "model.safetensors"
    saved = load_file(weights)
    flipped = {k.removeprefix("text_model.") if k.startswith("text_model.") else f"text_model.{k}": v
               for k, v in saved.items()}
    save_file(flipped, weights, metadata={"format": "pt"})
    found = moved.component_overrides(folder)
    assert set(found) == {"text_encoder"}  # the flipped layout is noticed
    reference = CLIPTextModel.from_pretrained(toy_profile.TOY_DIR / "text_encoder", dtype=torch.float32)
    loaded = found["text_encoder"].state_dict()
    for key, value in reference.state_dict().items():
        assert torch.equal(loaded[key], value), key
    assert moved.component_overrides(toy_profile.TOY_DIR) == {}  # the committed layout is left alone


def _drawn(alpha: np.ndarray, colour) -> np.ndarray:
    """A batch of one image: `colour` at the coverage `alpha` on the world's background."""
    return (alpha[..., None] * np.asarray(colour) + (1 - alpha[..., None]) * np.asarray(world.BACKGROUND))[None]


def test_scorer_names_no_colour_far_from_every_palette_colour():
    alpha = world.coverage("square", world.POSITIONS["centre"], 6.0)
    magenta = np.array([0.9, 0.1, 0.9])
    gaps = {name: np.linalg.norm(magenta - np.asarray(rgb)) for name, rgb in world.COLOURS.items()}
    nearest = min(gaps, key=gaps.get)
    assert gaps[nearest] > scorer.COLOUR_RADIUS  # a colour the world does not have
    [verdict] = scorer.score(_drawn(alpha, magenta), world.caption(nearest, "square", "centre"))
    assert verdict.reading.found and verdict.reading.colour is None
    assert (verdict.colour, verdict.shape, verdict.position) == (False, True, True)
    # within the radius, the palette colour is named
    near = np.asarray(world.COLOURS["green"]) + np.array([0.15, -0.1, 0.1])
    assert np.linalg.norm(near - np.asarray(world.COLOURS["green"])) < scorer.COLOUR_RADIUS
    assert scorer.score(_drawn(alpha, near), world.caption("green", "square", "centre"))[0].all


def test_scorer_names_no_shape_that_overlaps_no_template_enough():
    centre = world.POSITIONS["centre"]
    ring = world.coverage("square", centre, 7.0) - world.coverage("square", centre, 5.5)  # a hollow square
    for shape in world.SHAPES:
        [verdict] = scorer.score(_drawn(ring, world.COLOURS["red"]), world.caption("red", shape, "centre"))
        assert verdict.reading.found and verdict.reading.shape is None
        assert (verdict.colour, verdict.shape, verdict.position) == (True, False, True), shape
    filled = world.coverage("square", centre, 7.0)
    assert scorer.score(_drawn(filled, world.COLOURS["red"]), world.caption("red", "square", "centre"))[0].all
