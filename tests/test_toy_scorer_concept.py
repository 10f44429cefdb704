"""helpers.toy.scorer on the new concepts (extended=True): validated as the world's own images
were (>= 99 % on 512 rendered images), and the default readings left as they were."""

import numpy as np
import pytest

from helpers.toy import scorer, world


@pytest.fixture(scope="module")
def concept_batch():
    return world.make_concept_dataset(512, seed=1)


def test_scorer_reads_the_new_position(concept_batch):
    images, captions, _ = concept_batch
    assert scorer.accuracy(scorer.score(images, captions, extended=True))["all"] >= 0.99


def test_default_scorer_has_no_new_position(concept_batch):
    images, _, _ = concept_batch
    readings = scorer.read(images[:64])
    assert {r.position for r in readings} <= {"left", "top"}  # the nearest of the world's own anchors


def test_scorer_reads_the_new_colour_and_shape():
    scenes = [world.ConceptScene(c, s, p) for c in ("magenta", "red") for s in ("diamond", "square")
              for p in ("left", "top left")]
    images = np.stack([world.render(s) for s in scenes])
    verdicts = scorer.score(images, [s.caption for s in scenes], extended=True)
    assert all(v.all for v in verdicts), [v.reading for v in verdicts if not v.all]
    default = scorer.read(images[:1])[0]  # a magenta diamond, read with the world's palette only
    assert default.colour is None and default.shape in world.SHAPES


def test_extended_scorer_keeps_the_worlds_readings():
    images, _, _ = world.make_dataset(200, seed=4)
    old = scorer.read(images)
    assert scorer.read(images, extended=True) == old  # exact: the world's own images hold no new concept


@pytest.mark.parametrize("call, error, match", [
    (lambda: scorer.read(np.zeros((1, 32, 32, 3)), extended="yes"), TypeError, "extended must be True"),
    (lambda: scorer.read_one(np.zeros((32, 32, 3)), extended=None), TypeError, "extended must be True"),
    (lambda: scorer.score(np.zeros((1, 32, 32, 3)), ["a red circle at the top left"]), ValueError,
     "not a caption of the toy world"),
])
def test_scorer_refuses_bad_extended_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
