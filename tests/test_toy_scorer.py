"""helpers.toy.scorer: reading the toy world's truth back from pixels, and comparing it with captions."""

import numpy as np
import pytest
import torch
from PIL import Image

from helpers.toy import scorer, world


@pytest.fixture(scope="module")
def world_batch():
    return world.make_dataset(400, seed=3)


def _drawn(alpha: np.ndarray, colour) -> np.ndarray:
    """A batch of one image: `colour` at the coverage `alpha` on the world's background."""
    return (alpha[..., None] * np.asarray(colour) + (1 - alpha[..., None]) * np.asarray(world.BACKGROUND))[None]


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


# --- mutation testing (tools/mutation.py): behaviour the tests above left open ------------------

GREEN = np.asarray(world.COLOURS["green"])


def _blank() -> np.ndarray:
    return np.zeros((world.SIZE, world.SIZE, 3))


def _block(image: np.ndarray, ys: slice, xs: slice, colour) -> np.ndarray:
    image[ys, xs] = colour
    return image


def test_accuracy_gives_shares_per_attribute(world_batch):
    images, captions, scenes = world_batch
    s = scenes[0]
    other_position = next(p for p in world.POSITIONS if p != s.position)
    other_colour = next(c for c in world.COLOURS if c != s.colour)
    texts = [captions[0], world.caption(s.colour, s.shape, other_position),
             world.caption(other_colour, s.shape, s.position), captions[0]]
    batch = np.stack([images[0], images[0], images[0], np.zeros_like(images[0])])
    verdicts = scorer.score(batch, texts)
    assert [v.caption for v in verdicts] == texts
    assert [(v.colour, v.shape, v.position) for v in verdicts] == [
        (True, True, True), (True, True, False), (False, True, True), (False, False, False)]
    # exact: quarters are exact binary fractions
    assert scorer.accuracy(verdicts) == {"colour": 0.5, "shape": 0.75, "position": 0.5, "all": 0.25, "found": 0.75}


def test_accuracy_refuses_what_is_not_a_list_of_verdicts(world_batch):
    images, captions, _ = world_batch
    verdicts = scorer.score(images[:2], captions[:2])
    with pytest.raises(TypeError, match=r"^verdicts must be a list of Verdicts, .*got Verdict"):
        scorer.accuracy(verdicts[0])
    with pytest.raises(TypeError, match=r"^verdicts must be a list of Verdicts, .*got str"):
        scorer.accuracy("verdicts")
    with pytest.raises(TypeError, match=r"^verdicts must be a list of Verdicts, .*got generator"):
        scorer.accuracy(v for v in verdicts)
    with pytest.raises(TypeError, match=r"^verdicts must hold Verdicts, .*got a Reading"):
        scorer.accuracy([verdicts[0], scorer.read(images[:1])[0]])


def test_score_refuses_captions_of_the_wrong_type():
    with pytest.raises(TypeError, match=r"^captions must be a str or a list of str; got int"):
        scorer.score(np.zeros((1, 32, 32, 3)), 5)


def test_as_images_accepts_lists_of_arrays_and_pil_images_of_any_mode(world_batch):
    images, _, _ = world_batch
    as_list = scorer.as_images([images[0], images[1]])
    assert as_list.dtype == np.float64 and np.allclose(as_list, images[:2], atol=1e-6)
    rgb = [Image.fromarray((im * 255).round().astype(np.uint8)) for im in images[:2]]
    expected = scorer.as_images(rgb)
    assert np.array_equal(scorer.as_images([im.convert("RGBA") for im in rgb]), expected)
    assert scorer.as_images([im.convert("L") for im in rgb]).shape == (2, 32, 32, 3)  # grey, as RGB
    with pytest.raises(ValueError, match=r"^images is empty"):
        scorer.read([])


def test_uint8_and_bfloat16_tensors_read_as_their_arrays_do(world_batch):
    """A uint8 tensor is 0..255 like a uint8 array (it was once cast to float first and refused as
    "0..255 floats"); a bfloat16 tensor is read through float32, which numpy can hold."""
    images = world_batch[0]
    as_uint8 = (images[:4] * 255).round().astype(np.uint8)
    np.testing.assert_array_equal(scorer.as_images(torch.from_numpy(as_uint8)), scorer.as_images(as_uint8))
    half = torch.from_numpy(images[:4]).bfloat16()
    np.testing.assert_array_equal(scorer.as_images(half), half.float().numpy().astype(np.float64))
    with pytest.raises(TypeError, match=r"^images must be uint8 or floating point; got dtype int64"):
        scorer.as_images(torch.zeros((1, 32, 32, 3), dtype=torch.int64))


def test_as_images_scales_uint8_by_255():
    got = scorer.as_images(np.array([[[[0, 51, 255]] * 32] * 32], dtype=np.uint8))
    assert got.dtype == np.float64
    assert np.array_equal(got[0, 0, 0], [0.0, 0.2, 1.0])  # exact: 51 / 255 is the double nearest 0.2


def test_as_images_tolerates_rounding_and_clips_it_to_0_1():
    image = np.full((1, 32, 32, 3), 0.5)
    image[0, 0, 0] = -1e-3  # the tolerance itself is accepted, each way
    image[0, 0, 1] = 1 + 1e-3
    got = scorer.as_images(image)
    assert got.min() == 0.0 and got.max() == 1.0  # exact: clipped
    for bad, message in [(-0.002, r"minimum is -0\.002"), (1.002, r"maximum is 1"), (1.5, r"maximum is 1\.5")]:
        image[0, 1, 1] = bad
        with pytest.raises(ValueError, match=message):
            scorer.as_images(image)
        with pytest.raises(ValueError, match=r"^image must hold values in \[0, 1\] \(no NaN\)"):
            scorer.read_one(image[0])
        image[0, 1, 1] = 0.5
    assert scorer.read_one(image[0]).reason == "no plain background"  # tolerated by read_one too


@pytest.mark.parametrize(
    "images, error, message",
    [
        (np.zeros((1, 32, 32, 4)), ValueError, r"RGB; got shape \(1, 32, 32, 4\)"),  # not channels first
        (np.zeros((1, 3, 32, 3)), ValueError, r"RGB; got shape \(1, 3, 32, 3\)"),  # 3 rows, channels last
        (np.zeros((1, 3, 3, 32)), ValueError, "channels first"),
        (np.zeros((32, 32)), ValueError, r"^images must be a batch \(N, 32, 32, 3\); got shape \(32, 32\)"),
        (np.zeros((1, 32, 32, 3), dtype=np.int64), TypeError, r"^images must be uint8 or floating point; got dtype int64"),
        ("picture.png", TypeError, r"or a torch tensor; got str"),
    ],
)
def test_as_images_refusals_say_what_was_wrong(images, error, message):
    with pytest.raises(error, match=message):
        scorer.as_images(images)


def test_read_one_takes_float32_and_refuses_other_forms(world_batch):
    images, _, _ = world_batch
    assert images.dtype == np.float32
    assert scorer.read_one(images[0]) == scorer.read(images[:1])[0]
    assert scorer.read_one(images[0]).found
    with pytest.raises(TypeError, match=r"^image must be a float array .*got dtype uint8: use read"):
        scorer.read_one((images[0] * 255).astype(np.uint8))
    with pytest.raises(TypeError, match=r"^image must be a float array .*got list: use read"):
        scorer.read_one(images[0].tolist())
    with pytest.raises(ValueError, match=r"^image must be a float array \(32, 32, 3\) .*got shape \(16, 16, 3\)"):
        scorer.read_one(np.zeros((16, 16, 3)))
    for bad in (np.nan, -0.5, 1.5):
        image = images[0].astype(np.float64)
        image[3, 3, 1] = bad
        with pytest.raises(ValueError, match=r"^image must hold values in \[0, 1\]"):
            scorer.read_one(image)


def test_foreground_is_strictly_farther_than_the_threshold():
    faint = _block(_blank(), slice(12, 20), slice(12, 20), scorer.FOREGROUND)
    reading = scorer.read_one(faint)
    assert reading.found is False and reading.reason == "no foreground"
    assert scorer.read_one(faint + 1e-6).found


def test_the_smallest_object_has_min_area_pixels():
    small = _block(_blank(), slice(14, 17), slice(14, 18), GREEN)  # 12 pixels
    assert scorer.MIN_AREA == 12 and scorer.read_one(small).found
    smaller = _block(_blank(), slice(14, 17), slice(14, 17), GREEN)  # 9 pixels
    reading = scorer.read_one(smaller)
    assert reading.found is False and reading.reason == "no foreground"


def test_a_large_bright_area_is_no_plain_background():
    reading = scorer.read_one(_block(_blank(), slice(0, 20), slice(0, 20), GREEN))  # 400 px > 35 %
    assert reading == scorer.Reading(False, reason="no plain background")


def test_an_object_touching_itself_diagonally_is_one_object():
    image = _block(_blank(), slice(10, 15), slice(10, 15), GREEN)
    image = _block(image, slice(15, 20), slice(15, 20), GREEN)  # corners meet: 8-connected
    reading = scorer.read_one(image)
    assert reading.found and reading.colour == "green"


def test_the_largest_component_may_hold_exactly_one_object_share():
    image = _block(_blank(), slice(12, 16), slice(12, 16), GREEN)  # 16 px
    image[16, 12] = GREEN  # 17 px object
    image = _block(image, slice(28, 29), slice(28, 31), GREEN)  # and a 3 px speck: 17 / 20 = 0.85
    assert 17 / 20 == scorer.ONE_OBJECT  # exact: both sides are the same double
    assert scorer.read_one(image).found
    image[29, 28] = GREEN  # 17 / 21 < 0.85
    assert scorer.read_one(image).reason == "no single object"


def test_the_background_is_judged_beyond_a_two_pixel_halo():
    from scipy import ndimage

    mask = np.zeros((32, 32), dtype=bool)
    mask[12:20, 12:20] = True
    rings = [ndimage.binary_dilation(mask, iterations=k) for k in (1, 2, 3)]
    halo, beyond = rings[1] & ~rings[0], rings[2] & ~rings[1]
    red = np.asarray(world.COLOURS["red"])

    def scene(halo_value, beyond_value, rest_value):
        image = np.full((32, 32, 3), rest_value)
        image[halo], image[beyond], image[mask] = halo_value, beyond_value, red
        return image

    # a bright halo 2 pixels out is ignored; the rest (3 pixels out and on) averages under PLAIN
    assert scorer.read_one(scene(0.39, 0.0, 0.083)).found
    # but a bright ring 3 pixels out is background, and it is not plain
    reading = scorer.read_one(scene(0.0, 0.39, 0.07))
    assert reading == scorer.Reading(False, reason="no plain background")


def test_colour_is_the_mean_of_the_solid_pixels_of_the_object():
    # a faint object (no pixel beyond SOLID) takes the mean of all its pixels
    assert scorer.read_one(_block(_blank(), slice(12, 20), slice(12, 20), (0.15, 0.55, 0.15))).colour == "green"
    # four solid pixels are enough to ignore the edge-like rest
    image = _block(_blank(), slice(12, 20), slice(12, 20), scorer.SOLID)  # grey, exactly SOLID: not solid
    image = _block(image, slice(15, 17), slice(15, 17), GREEN)
    assert scorer.read_one(image).colour == "green"
    image[15, 15] = scorer.SOLID  # three solid pixels: the mean of the whole object, grey
    assert scorer.read_one(image).colour is None
    # solid pixels of a speck outside the object do not count
    near = (0.3, 0.65, 0.3)
    image = _block(_blank(), slice(12, 20), slice(12, 20), near)  # 64 px, green within the radius
    image = _block(image, slice(28, 31), slice(28, 31), (1.0, 0.0, 1.0))  # 9 px magenta speck
    assert scorer.read_one(image).colour == "green"


def test_position_is_the_anchor_nearest_the_bounding_box_centre():
    # pixels 9..15 span x in [9, 16): centre 12.5, nearer the centre anchor (16) than the left (8)
    assert scorer.read_one(_block(_blank(), slice(13, 20), slice(9, 16), GREEN)).position == "centre"
    assert scorer.read_one(_block(_blank(), slice(13, 20), slice(8, 15), GREEN)).position == "left"  # 11.5
    assert scorer.read_one(_block(_blank(), slice(9, 16), slice(13, 20), GREEN)).position == "centre"
    assert scorer.read_one(_block(_blank(), slice(8, 15), slice(13, 20), GREEN)).position == "top"


def test_wrong_position_in_a_caption_is_caught(world_batch):
    images, _, scenes = world_batch
    moved = [world.caption(s.colour, s.shape, next(p for p in world.POSITIONS if p != s.position)) for s in scenes[:20]]
    result = scorer.accuracy(scorer.score(images[:20], moved))
    assert result["position"] == 0.0 and result["colour"] == 1.0 and result["shape"] == 1.0  # exact: shares
