"""helpers.toy: the world, a training smoke test, and the committed weights (the scorer: test_toy_scorer.py)."""

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers.toy import evaluate, world
from helpers.toy import profile as toy_profile
from helpers.toy.__main__ import main as toy_main
from helpers.toy.train import TRAINING_RECIPES

ROOT = Path(__file__).resolve().parent.parent
CARD = ROOT / "models" / "toy-sd" / "README.md"
# The model card's figures (models/toy-sd/README.md): scorer accuracy, all three attributes right,
# over evaluate.eval_captions(32) with seeds 0..31, 20 steps, the shipped PNDM scheduler.
CARD_ACCURACY = {1.0: 0.96875, 5.0: 0.4375}
TOLERANCE = 2 / 32  # two samples: a sample near a scorer threshold may flip on another CPU


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


# --- training ----------------------------------------------------------------------------------


@pytest.mark.slow  # seconds: runs a kernel, trains or samples (left out of `make fast`)
def test_training_smoke(tmp_path, capsys):
    out = tmp_path / "toy"
    assert toy_main(["train", "--out", str(out), "--steps", "2", "--vae-steps", "2", "--images", "8",
                     "--batch", "2", "--vae-batch", "3"]) == 0
    summary = json.loads((out / "training.json").read_text())
    assert summary["unet_steps"] == 2 and summary["vae_steps"] == 2
    assert summary["batch"] == 2 and summary["vae_batch"] == 3
    assert summary["lr"] == TRAINING_RECIPES["cpu"].lr  # what no flag replaced comes from the default recipe
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
    with pytest.raises(TypeError, match="recipe must be a name in TRAINING_RECIPES or a Recipe; got dict"):
        train(tmp_path, recipe={"steps": 2})
    with pytest.raises(TypeError, match="unknown recipe settings \\['epochs'\\]"):
        train(tmp_path, epochs=3)
    assert not any(tmp_path.iterdir())  # refused before anything was trained or written


def test_training_recipes_keep_their_old_name_as_an_alias_only():
    from helpers import gpu
    from helpers.toy import train as train_module

    # scripts written before the rename still run; the reference page lists the new name only
    assert train_module.RECIPES is TRAINING_RECIPES and "RECIPES" not in train_module.__all__
    assert set(TRAINING_RECIPES) == {"cpu", "device"} and set(TRAINING_RECIPES).isdisjoint(gpu.RECIPES)


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
    recipe = TRAINING_RECIPES["cpu"]
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


@pytest.mark.slow  # seconds: runs a kernel, trains or samples (left out of `make fast`)
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
    assert ctx.profile == "toy" and ctx.small  # offline, tiny sizes for the other families
    pipe = pipelines.load("sd15", ctx)
    assert pipe.unet.config.block_out_channels == [48, 96, 96]  # the toy UNet, not tiny's
    with pytest.warns(UserWarning, match="'pixart-sigma' has no toy model yet"):
        other = pipelines.load("pixart-sigma", ctx)
    assert type(other).__name__ == "PixArtSigmaPipeline"


@pytest.mark.slow  # seconds: runs a kernel, trains or samples (left out of `make fast`)
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
    with pytest.raises(FileNotFoundError, match="no prior/model_index.json there.*train-wuerstchen"):
        toy_profile.load("wuerstchen", ctx, weights=out)  # an SD folder is not a Wuerstchen one


def test_pipelines_load_takes_the_toy_weights_in_any_profile():
    import helpers
    from helpers import pipelines

    ctx = helpers.setup(profile="tiny", device="cpu")
    pipe = pipelines.load("sd15", ctx, weights=None)  # None: the committed toy SD, as toy_profile.load
    assert pipe.unet.config.block_out_channels == [48, 96, 96]
    assert pipelines.load("sd15", ctx).unet.config.block_out_channels != [48, 96, 96]  # left out: tiny's
    with pytest.raises(ValueError, match="both pick what to load"):
        pipelines.load("sd15", ctx, model_id=str(toy_profile.TOY_DIR), weights=None)
    with pytest.raises(ValueError, match="for 'sd15' or 'wuerstchen'; got 'sdxl'"):
        pipelines.load("sdxl", ctx, weights=toy_profile.TOY_DIR)


def test_text_encoder_saved_in_the_other_key_layout_loads_its_trained_weights(tmp_path):
    # transformers releases disagree on the `text_model.` prefix of CLIPTextModel's saved keys;
    # helpers.models.moved renames them (the claims matrix loads the toy models under older releases)
    import shutil

    from safetensors.torch import load_file, save_file
    from transformers import CLIPTextModel

    from helpers.models import moved

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
