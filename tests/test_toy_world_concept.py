"""helpers.toy.world's new concepts (NEW_COLOURS, NEW_SHAPES, NEW_POSITIONS): admitted only when
asked (extended=True), so the world the committed toy models were trained on stays as it was."""

import numpy as np
import pytest

from helpers.toy import world


def test_the_default_world_is_unchanged():
    assert list(world.COLOURS) == ["red", "green", "blue", "yellow"]
    assert world.SHAPES == ("circle", "square", "triangle")
    assert list(world.POSITIONS) == ["left", "right", "top", "bottom", "centre"]
    assert len(world.all_captions()) == 60
    assert all("top left" not in c for c in world.all_captions())
    # new concepts are refused unless asked for
    for colour, shape, position in (("magenta", "circle", "left"), ("red", "diamond", "left"), ("red", "circle", "top left")):
        with pytest.raises(ValueError, match="must be one of"):
            world.caption(colour, shape, position)
        with pytest.raises(ValueError, match="must be one of"):
            world.Scene(colour, shape, position)
    with pytest.raises(ValueError, match="not a caption of the toy world"):
        world.parse_caption("a red circle at the top left")


def test_new_concepts_when_asked():
    text = world.caption("red", "circle", "top left", extended=True)
    assert text == "a red circle at the top left"
    assert world.parse_caption(text, extended=True) == ("red", "circle", "top left")
    assert world.parse_caption("a magenta diamond on the left", extended=True) == ("magenta", "diamond", "left")
    scene = world.ConceptScene("magenta", "diamond", "top left")
    assert scene.caption == "a magenta diamond at the top left" and scene.centre == (8.0, 8.0)  # exact: no jitter
    image = world.render(scene)
    ys, xs = np.nonzero(image.max(-1) > 0.5)
    assert xs.mean() < 12 and ys.mean() < 12  # drawn in the top-left quarter
    assert np.allclose(image[8, 8], world.NEW_COLOURS["magenta"])  # solid at the centre


def test_new_colour_is_far_from_the_palette():
    from helpers.toy import scorer

    for colour in world.NEW_COLOURS.values():
        gaps = [np.linalg.norm(np.subtract(colour, c)) for c in world.COLOURS.values()]
        assert min(gaps) > 2 * scorer.COLOUR_RADIUS


def test_concept_captions_and_dataset():
    captions = world.concept_captions()
    assert len(captions) == 12 and len(set(captions)) == 12
    assert all(c.endswith("at the top left") for c in captions)
    images, texts, scenes = world.make_concept_dataset(40, seed=2)
    again = world.make_concept_dataset(40, seed=2)
    assert np.array_equal(images, again[0]) and texts == again[1]  # exact: same seed, same data
    assert images.shape == (40, 32, 32, 3) and set(texts) <= set(captions)
    assert all(s.position == "top left" and abs(s.dx) <= world.JITTER for s in scenes)


@pytest.mark.parametrize("call, error, match", [
    (lambda: world.concept_captions("left"), ValueError, "new positions top left"),
    (lambda: world.concept_captions(3), ValueError, "new positions"),
    (lambda: world.make_concept_dataset(0), ValueError, "n must be a positive int"),
    (lambda: world.make_concept_dataset(4, seed=-1), ValueError, "seed"),
    (lambda: world.make_concept_dataset(4, position="corner"), ValueError, "new positions"),
    (lambda: world.caption("red", "circle", "left", extended="yes"), TypeError, "extended must be True"),
    (lambda: world.parse_caption("a red circle on the left", extended=1), TypeError, "extended must be True"),
    (lambda: world.ConceptScene("purple", "circle", "left"), ValueError, "colour must be one of .*magenta"),
    (lambda: world.coverage("hexagon", (16.0, 16.0), 5.0), ValueError, "shape must be one of"),
])
def test_new_concepts_refuse_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
