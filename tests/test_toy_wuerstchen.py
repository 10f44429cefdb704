"""helpers.toy.wuerstchen: the fixed embedding, a training smoke test, loading, and the committed weights."""

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers.toy import profile as toy_profile
from helpers.toy import train_wuerstchen, world
from helpers.toy import wuerstchen as toy
from helpers.toy.__main__ import main as toy_main

ROOT = Path(__file__).resolve().parent.parent
CARD = ROOT / "models" / "toy-wuerstchen" / "README.md"
TOLERANCE = 2 / 32  # two samples: a sample near a scorer threshold may flip on another CPU


def render(colour, shape, position):
    image = world.render(world.Scene(colour, shape, position))
    return torch.from_numpy(image).permute(2, 0, 1)[None]


# --- the fixed image embedding -----------------------------------------------------------------


def test_embedding_is_cell_means_stacked_into_channels():
    x = render("red", "square", "left")
    e = toy.image_embedding(x)
    assert e.shape == (1, toy.EMBED_CHANNELS, 4, 4)
    pooled = torch.nn.functional.avg_pool2d(x, 4)[0]  # (3, 8, 8): means of 4×4 pixel cells
    # channel 4c + 2i + j holds colour c of cell (2h + i, 2w + j): pixel_unshuffle's order
    assert torch.equal(e[0, 0], pooled[0, 0::2, 0::2]) and torch.equal(e[0, 11], pooled[2, 1::2, 1::2])
    assert torch.isclose(e.sum(), torch.nn.functional.avg_pool2d(x, 4).sum())  # nothing lost or added
    # colour and position survive: a red shape on the left puts red, not blue, in the left columns
    cells = torch.nn.functional.pixel_shuffle(e, 2)[0]  # back to (3, 8, 8)
    assert cells[0, :, :4].sum() > 5 * cells[0, :, 4:].sum() and cells[0].sum() > 5 * cells[2].sum()


@pytest.mark.slow  # seconds: runs a kernel, trains or samples (left out of `make fast`)
def test_embedding_mean_and_std_constants_match_the_data():
    images, _, _ = world.make_dataset(8000, seed=0)
    e = toy.image_embedding(torch.from_numpy(images).permute(0, 3, 1, 2))
    # the constants are the data's statistics to 4 decimals; a tolerance, since rounding a float32
    # sum to 4 decimals flips on another CPU when it lies near a boundary
    assert abs(float(e.mean()) - toy.EMBED_MEAN) <= 6e-5 and abs(float(e.std()) - toy.EMBED_STD) <= 6e-5


@pytest.mark.parametrize(
    ("images", "error", "match"),
    [
        (np.zeros((1, 3, 32, 32), np.float32), TypeError, "float torch tensor"),
        (torch.zeros(1, 3, 32, 32, dtype=torch.uint8), TypeError, "float torch tensor"),
        (torch.zeros(1, 32, 32, 3), ValueError, r"shape \(N, 3, 32, 32\)"),
        (torch.zeros(3, 32, 32), ValueError, r"shape \(N, 3, 32, 32\)"),
        (torch.full((1, 3, 32, 32), 255.0), ValueError, r"\[0, 1\]"),
    ],
)
def test_embedding_refuses_bad_input(images, error, match):
    with pytest.raises(error, match=match):
        toy.image_embedding(images)


# --- training smoke test and loading -----------------------------------------------------------


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("toy-wuerstchen")
    summary = train_wuerstchen.train(out, 2, 2, 2, batch=4, n_images=16, evaluate=False)
    return out, summary


def test_training_writes_two_hub_style_pipeline_folders(smoke):
    out, summary = smoke
    prior_index = json.loads((out / "prior" / "model_index.json").read_text())
    decoder_index = json.loads((out / "decoder" / "model_index.json").read_text())
    assert prior_index["prior"] == ["wuerstchen", "WuerstchenPrior"]  # as warp-ai/wuerstchen-prior
    assert decoder_index["decoder"] == ["wuerstchen", "WuerstchenDiffNeXt"]
    assert decoder_index["vqgan"] == ["wuerstchen", "PaellaVQModel"]
    assert prior_index["resolution_multiple"] == toy.RESOLUTION_MULTIPLE
    assert decoder_index["latent_dim_scale"] == toy.LATENT_DIM_SCALE
    assert (prior_index["latent_mean"], prior_index["latent_std"]) == (toy.EMBED_STD, -toy.EMBED_MEAN)
    weights = list(out.rglob("*.safetensors"))
    assert weights and not list(out.rglob("*.bin"))
    assert {"stage_a_steps": 2, "stage_b_steps": 2, "stage_c_steps": 2}.items() <= summary.items()
    assert all(np.isfinite(summary[f"stage_{s}_final_loss"]) for s in "abc")


def test_loaded_toy_keeps_its_sizes_and_makes_32px_images(smoke):
    out, _ = smoke
    pipe = toy.load(folder=out)
    assert type(pipe).__name__ == "WuerstchenCombinedPipeline"
    assert pipe.prior_pipe.config.resolution_multiple == toy.RESOLUTION_MULTIPLE
    assert pipe.decoder_pipe.config.latent_dim_scale == toy.LATENT_DIM_SCALE
    assert all(p.dtype == torch.float32 for p in pipe.decoder.parameters())
    captions = ["a red circle on the left", "a blue square at the top"]
    embeddings = toy.stage_c(pipe, captions, steps=2)
    assert embeddings.shape == (2, toy.EMBED_CHANNELS, 4, 4)
    images = toy.stages_ba(pipe, embeddings, captions, steps=2)
    assert images.shape == (2, 32, 32, 3) and images.min() >= 0 and images.max() <= 1
    again = toy.generate(pipe, captions, prior_steps=2, decoder_steps=2)
    assert np.array_equal(again, images)  # seed i for image i, both stages


def test_combined_pipeline_drops_the_halves_configs(smoke):
    """Why toy.combine copies the configs: diffusers builds the inner pipelines with defaults."""
    from diffusers import WuerstchenCombinedPipeline

    out, _ = smoke
    pipe = toy.load(folder=out)
    plain = WuerstchenCombinedPipeline(**pipe.components)
    assert plain.prior_pipe.config.resolution_multiple == 42.67  # exact: default literals, copied
    assert plain.decoder_pipe.config.latent_dim_scale == 10.67  # exact: as above


def test_stages_ba_runs_matches_one_call_per_image(smoke):
    """The grouped decoder calls give the images of stages_ba, run by run, to float rounding."""
    out, _ = smoke
    pipe = toy.load(folder=out)
    captions = ["a red circle on the left", "a blue square at the top", "a red circle on the left"]
    embeddings = toy.stage_c(pipe, captions, steps=2)
    runs = {
        "own": (embeddings, captions, [0, 1, 2]),
        "seed": (embeddings, captions, [5, 6, 7]),
        "off": (embeddings.flip(0), ["", "", ""], [0, 1, 2]),
    }
    grouped = toy.stages_ba_runs(pipe, runs, steps=2, max_batch=2)
    assert list(grouped) == list(runs)
    for name, run in runs.items():
        # float rounding: a batched convolution may sum in another order than a batch of one
        assert np.abs(grouped[name] - toy.stages_ba(pipe, *run, steps=2)).max() < 1e-4, name
    with pytest.raises(TypeError, match="non-empty dict"):
        toy.stages_ba_runs(pipe, {})
    with pytest.raises(ValueError, match=r"runs\['own'\]: got 3 embeddings, 2 captions"):
        toy.stages_ba_runs(pipe, {"own": (embeddings, captions[:2], [0, 1])})


def test_generation_helpers_refuse_mismatched_lengths(smoke):
    out, _ = smoke
    pipe = toy.load(folder=out)
    with pytest.raises(ValueError, match="2 captions but 1 seeds"):
        toy.stage_c(pipe, ["a", "b"], seeds=[0])
    with pytest.raises(ValueError, match="must match"):
        toy.stages_ba(pipe, torch.zeros(2, 12, 4, 4), ["a"])


def test_training_refuses_bad_settings(tmp_path):
    with pytest.raises(ValueError, match="stage_b_steps must be a positive int"):
        train_wuerstchen.train(tmp_path, 1, 0, 1)
    with pytest.raises(ValueError, match="batch must be a positive int"):
        train_wuerstchen.train(tmp_path, 1, 1, 1, batch=True)
    assert not list(tmp_path.iterdir())  # refused before any work


def test_cli_trains_and_saves(tmp_path, capsys):
    out = tmp_path / "cli"
    assert toy_main(["train-wuerstchen", "--out", str(out), "--stage-a-steps", "1", "--stage-b-steps", "1",
                     "--stage-c-steps", "1", "--batch", "2", "--images", "8", "--no-eval"]) == 0
    printed = capsys.readouterr().out
    assert json.loads(printed[printed.index("{"):])["stage_c_steps"] == 1
    assert (out / "prior" / "model_index.json").exists() and (out / "training.json").exists()
    # the folder loads through the one toy loader, by either name
    from helpers import pipelines
    from helpers.runtime import Context

    ctx = Context(profile="tiny", seed=0, device=torch.device("cpu"), dtype=torch.float32)
    mine, same = toy.load(folder=out), pipelines.load("wuerstchen", ctx, weights=out)
    assert torch.equal(mine.prior_prior.state_dict()["projection.weight"], same.prior_prior.state_dict()["projection.weight"])
    committed = pipelines.load("wuerstchen", ctx, weights=None)
    assert not torch.equal(mine.prior_prior.state_dict()["projection.weight"], committed.prior_prior.state_dict()["projection.weight"])


def test_load_refuses_a_folder_without_both_halves(tmp_path):
    (tmp_path / "prior").mkdir()
    (tmp_path / "prior" / "model_index.json").write_text("{}")
    with pytest.raises(FileNotFoundError, match="decoder"):
        toy.load(folder=tmp_path)


# --- the committed weights ---------------------------------------------------------------------


def test_committed_weights_are_small_float16_safetensors():
    files = [p for p in toy_profile.WUERSTCHEN_DIR.rglob("*") if p.is_file()]
    weights = [p for p in files if p.suffix == ".safetensors"]
    assert len(weights) == 5  # prior, two text encoders, decoder, vqgan
    assert sum(p.stat().st_size for p in files) < 8.5e6
    from safetensors import safe_open

    for path in weights:
        with safe_open(path, "pt") as f:
            # every float tensor is float16; BatchNorm's num_batches_tracked is an int64 counter
            names = list(f.keys())
            dtypes = {k: f.get_slice(k).get_dtype() for k in names}
            assert {d for k, d in dtypes.items() if not k.endswith("num_batches_tracked")} == {"F16"}, path


@pytest.fixture(scope="module")
def committed():
    ctx = toy_profile.setup(seed=0, device="cpu")
    return toy_profile.load("wuerstchen", ctx)


def test_toy_profile_loads_the_toy_wuerstchen(committed):
    assert type(committed).__name__ == "WuerstchenCombinedPipeline"
    assert committed.prior_pipe.config.resolution_multiple == toy.RESOLUTION_MULTIPLE
    ctx = toy_profile.setup(seed=0, device="cpu")
    with pytest.raises(ValueError, match="no loading overrides"):
        toy_profile.load("wuerstchen", ctx, variant="fp16")
    prior = toy_profile.load("wuerstchen-prior", ctx)
    assert type(prior).__name__ == "WuerstchenPriorPipeline" and prior.config.latent_mean == toy.EMBED_STD
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fall-back warning for a family with a toy model
        toy_profile.load("wuerstchen-decoder", ctx)


@pytest.mark.slow  # seconds: runs a kernel, trains or samples (left out of `make fast`)
def test_committed_weights_match_the_card(committed):
    """The model card's accuracy at the defaults (prior guidance 4), within two samples."""
    card = CARD.read_text()
    training = json.loads((toy_profile.WUERSTCHEN_DIR / "training.json").read_text())
    measured = toy.sample_accuracy(committed, 32)
    expected = training["accuracy"]["prior guidance 4"]
    for key in ("colour", "shape", "position", "all"):
        assert abs(measured[key] - expected[key]) <= TOLERANCE, (key, measured, expected)
    assert re.search(rf"\| 4 \(the pipeline's default\) \|[^\n]*\| {expected['all']:g} \|", card), (
        "the card's table must show training.json")
    # what the card says the toy has learned: colour well, shape and position partly
    assert measured["colour"] >= 0.85 and measured["found"] >= 0.85
    assert measured["shape"] >= 0.5 and measured["position"] >= 0.35
