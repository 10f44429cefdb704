"""helpers.toy.interpolate: caption paths on the toy SD, rendering with fixed seeds, reading frames, crossings."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

import helpers
from helpers.toy import interpolate, world
from helpers.toy import profile as toy_profile
from helpers.toy.interpolate import caption_path, crossing, endpoint_shares, render

A = world.caption("red", "circle", "left")
B = world.caption("blue", "square", "left")


@pytest.fixture(scope="module")
def toy():
    ctx = helpers.setup(profile="tiny")
    return toy_profile.load("sd15", ctx)


def test_paths_end_at_the_encodings_and_differ_in_between(toy):
    ts = torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64)
    paths = {m: caption_path(toy, A, B, ts, m) for m in ("slerp", "lerp")}
    width = toy.text_encoder.config.hidden_size
    encoded = [toy.encode_prompt(c, "cpu", 1, False)[0][0] for c in (A, B)]
    for path in paths.values():
        assert path.shape == (3, toy.tokenizer.model_max_length, width)
        assert torch.equal(path[0], encoded[0]) and torch.equal(path[2], encoded[1])
    # half-way slerp keeps each token's mean length; lerp cuts the chord, shorter for every moved token
    mean = (encoded[0].norm(dim=-1) + encoded[1].norm(dim=-1)) / 2
    assert torch.allclose(paths["slerp"][1].norm(dim=-1), mean, rtol=1e-5)
    assert (paths["lerp"][1].norm(dim=-1) <= mean * (1 + 1e-6)).all()
    assert (paths["lerp"][1].norm(dim=-1) < 0.9 * mean).any()
    assert caption_path(toy, A, B, 0.5).shape == (
        1,
        toy.tokenizer.model_max_length,
        width,
    )


def test_render_and_read_the_ends(toy):
    embeds = caption_path(toy, A, B, [0.0, 1.0])
    frames = render(toy, embeds, [3, 5], steps=4)
    assert frames.shape == (2, 2, world.SIZE, world.SIZE, 3)
    # column j is seed seeds[j]: the same seed alone gives the same frame
    alone = render(toy, embeds[1:], [5], steps=4)
    assert np.allclose(alone[0, 0], frames[1, 1], atol=1e-5)
    shares = endpoint_shares(frames, A, B)
    for key in ("A", "B", "neither", "colour A", "colour B", "shape A", "shape B"):
        assert shares[key].shape == (2,)
    assert np.allclose(shares["A"] + shares["B"] + shares["neither"], 1.0)
    assert len(shares["readings"]) == 2 and len(shares["readings"][0]) == 2


def test_shares_count_what_the_scorer_reads():
    # rendered world images: the scorer reads them exactly, so the shares are known
    def scene(colour, shape):
        return world.render(world.Scene(colour, shape, "left"))

    frames = np.stack(
        [
            np.stack([scene("red", "circle"), scene("red", "circle")]),
            np.stack([scene("green", "square"), np.zeros((32, 32, 3), np.float32)]),
            np.stack([scene("blue", "square"), scene("red", "square")]),
        ]
    )
    shares = endpoint_shares(frames, A, B)
    # exact: shares of two seeds, so 0, 0.5 or 1
    assert shares["A"].tolist() == [1.0, 0.0, 0.0]  # exact
    assert shares["B"].tolist() == [0.0, 0.0, 0.5]  # exact
    assert shares["neither"].tolist() == [0.0, 1.0, 0.5]  # exact
    assert shares["colour A"].tolist() == [1.0, 0.0, 0.5]  # exact
    assert shares["shape B"].tolist() == [0.0, 0.5, 1.0]  # exact
    assert not shares["readings"][1][1].found


def test_crossing():
    ts = [0.0, 0.25, 0.5, 0.75, 1.0]
    assert crossing(ts, [0, 0, 0.25, 0.75, 1]) == pytest.approx(0.625)
    assert crossing(ts, [0.6, 1, 1, 1, 1]) == 0.0  # exact: the first t, copied
    assert crossing(ts, [0, 0.1, 0.2, 0.3, 0.4]) is None
    assert crossing(ts, [0, 0, 0, 0.5, 1]) == 0.75  # reaching the level counts; exact: a t, copied
    assert crossing(ts, [0, 0, 0, 0, 1], level=0.25) == pytest.approx(0.8125)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (
            lambda p: caption_path(object(), A, B, [0.5]),
            TypeError,
            "StableDiffusionPipeline",
        ),
        (
            lambda p: caption_path(p, "a red fox", B, [0.5]),
            ValueError,
            "caption_a: not a caption",
        ),
        (lambda p: caption_path(p, A, 3, [0.5]), TypeError, "caption_b"),
        (lambda p: caption_path(p, A, A, [0.5]), ValueError, "same scene"),
        (
            lambda p: caption_path(p, A, B, [0.5], method="slurp"),
            ValueError,
            "did you mean 'slerp'",
        ),
        (lambda p: caption_path(p, A, B, [1.5]), ValueError, r"\[0, 1\]"),
        (
            lambda p: render(p, torch.zeros(2, 77, 64), [], steps=2),
            ValueError,
            "seeds is empty",
        ),
        (
            lambda p: render(p, torch.zeros(2, 77, 64), 3),
            TypeError,
            "seeds must be a sequence",
        ),
        (lambda p: render(p, torch.zeros(2, 77, 64), [1, 1]), ValueError, "repeats"),
        (lambda p: render(p, torch.zeros(2, 77, 64), [-1]), ValueError, "seeds"),
        (
            lambda p: render(p, torch.zeros(2, 77, 32), [1]),
            ValueError,
            "prompt_embeds must be",
        ),
        (lambda p: render(p, torch.zeros(77, 64), [1]), ValueError, "prompt_embeds"),
        (
            lambda p: render(p, torch.zeros(2, 77, 64), [1], steps=0),
            ValueError,
            "steps",
        ),
        (
            lambda p: render(
                p, torch.zeros(2, 77, 64), [1], guidance_scale=float("nan")
            ),
            ValueError,
            "guidance_scale",
        ),
        (
            lambda p: endpoint_shares(np.zeros((2, 32, 32, 3)), A, B),
            ValueError,
            "frames must be",
        ),
        (lambda p: endpoint_shares([[0]], A, B), TypeError, "frames must be"),
        (
            lambda p: endpoint_shares(np.full((1, 1, 32, 32, 3), 2.0), A, B),
            ValueError,
            r"\[0, 1\]",
        ),
        (
            lambda p: crossing([0, 1, 0.5], [0, 1, 1]),
            ValueError,
            "ts must be strictly increasing",
        ),
        (lambda p: crossing([0, 1], [0, 1, 1]), ValueError, "one number per t"),
        (lambda p: crossing([0, 1], [0, float("nan")]), ValueError, "values"),
        (lambda p: crossing([0, 1], [0, 1], level="half"), TypeError, "level"),
    ],
)
def test_bad_input_is_refused_before_any_work(toy, monkeypatch, call, error, match):
    called = []
    monkeypatch.setattr(type(toy), "__call__", lambda *a, **k: called.append(1))
    monkeypatch.setattr(type(toy), "encode_prompt", lambda *a, **k: called.append(1))
    with pytest.raises(error, match=match):
        call(toy)
    assert called == []


def test_every_public_function_says_what_it_refuses():
    silent = [n for n in interpolate.__all__ if inspect.isfunction(getattr(interpolate, n))
              and "Refuses" not in (getattr(interpolate, n).__doc__ or "")]  # fmt: skip
    assert not silent, silent
