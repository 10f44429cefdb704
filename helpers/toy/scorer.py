"""Read the toy world's truth back from pixels, and compare it with a caption.

No learned model: the foreground is every pixel far from the world's black background; the
object is its largest 8-connected component; its colour is the nearest palette colour to the
mean of its solid pixels; its position is the nearest anchor to its bounding-box centre; its
shape is the world's template (rendered at that centre and size) that overlaps it best (IoU).
An image with no plain background and one compact object (noise, a blank image, scattered
pixels) is read as "not found", and then no attribute matches: noise never scores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from . import world

# what a reader is meant to use (the reference page lists these)
__all__ = ["Reading", "Verdict", "as_images", "read_one", "read", "score", "accuracy"]

FOREGROUND = 0.4  # largest channel distance from the background: half a pixel's coverage or more
SOLID = 0.6  # pixels at least this far from the background are the object's colour, not an edge
MAX_AREA = 0.35  # the world's largest shape covers 22 % of the image
MIN_AREA = 12  # pixels
ONE_OBJECT = 0.85  # share of the foreground the largest component must hold
PLAIN = 0.08  # mean channel distance from the background outside the object (dilated) at most
COLOUR_RADIUS = 0.35  # RGB distance to the nearest palette colour at most
MIN_IOU = 0.5  # overlap with the best shape template at least


@dataclass(frozen=True)
class Reading:
    """What one image shows, as read; `found` False carries the reason and no attributes."""

    found: bool
    colour: str | None = None
    shape: str | None = None
    position: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class Verdict:
    """A reading compared with a caption: which attributes match."""

    caption: str
    reading: Reading
    colour: bool
    shape: bool
    position: bool

    @property
    def all(self) -> bool:
        return self.colour and self.shape and self.position


def as_images(images) -> np.ndarray:
    """A batch as float64 (N, 32, 32, 3) in [0, 1].

    Accepts a list of PIL images, or an array/tensor (N, 32, 32, 3): uint8 (0..255) or float in
    [0, 1] (what StableDiffusionPipeline returns with output_type "pil" or "np"). Refuses, with a
    ValueError/TypeError that says what to do: channels-first (N, 3, H, W) batches, a single image
    without its batch axis, other sizes, floats outside [0, 1] (e.g. [-1, 1] or 0..255), NaN.
    """
    if isinstance(images, (list, tuple)):
        if not images:
            raise ValueError("images is empty; pass at least one image")
        if all(hasattr(im, "convert") and hasattr(im, "size") for im in images):  # PIL images
            images = np.stack([np.asarray(im.convert("RGB")) for im in images])
        else:
            images = np.stack([np.asarray(im) for im in images])
    if hasattr(images, "detach"):  # a torch tensor: floats as float32 (numpy has no bfloat16), integers as they are
        images = images.detach().cpu()
        images = images.float().numpy() if images.is_floating_point() else images.numpy()
    if not isinstance(images, np.ndarray):
        raise TypeError(f"images must be a list of PIL images, a numpy array or a torch tensor; got {type(images).__name__}")
    if images.ndim == 3 and images.shape[-1] == 3:
        raise ValueError(f"images has shape {images.shape}: one image without the batch axis; pass images[None]")
    if images.ndim != 4:
        raise ValueError(f"images must be a batch (N, {world.SIZE}, {world.SIZE}, 3); got shape {images.shape}")
    if images.shape[1] == 3 and images.shape[-1] != 3:
        raise ValueError(
            f"images has shape {images.shape}: channels first (N, 3, H, W). The scorer reads channels last "
            "(N, H, W, 3), as pipelines return with output_type='np'; use images.permute(0, 2, 3, 1) "
            "(torch) or images.transpose(0, 2, 3, 1) (numpy)"
        )
    if images.shape[1:] != (world.SIZE, world.SIZE, 3):
        raise ValueError(f"images must be (N, {world.SIZE}, {world.SIZE}, 3) RGB; got shape {images.shape}")
    if images.dtype == np.uint8:
        return images.astype(np.float64) / 255.0
    if not np.issubdtype(images.dtype, np.floating):
        raise TypeError(f"images must be uint8 or floating point; got dtype {images.dtype}")
    images = images.astype(np.float64)
    if np.isnan(images).any():
        raise ValueError("images contains NaN")
    low, high = images.min(), images.max()
    if low < -1e-3:
        raise ValueError(f"image values must be in [0, 1]; the minimum is {low:.3g}. Images in [-1, 1] "
                         "(a VAE's output) need (x + 1) / 2 first")
    if high > 1 + 1e-3:
        raise ValueError(f"image values must be in [0, 1]; the maximum is {high:.3g}. For 0..255 values pass "
                         "uint8 or divide by 255")
    return images.clip(0, 1)


def read_one(image: np.ndarray, extended: bool = False) -> Reading:
    """The Reading of one (32, 32, 3) float image in [0, 1] (see the module docstring).

    `extended=True` also reads the fine-tuning chapter's new concepts (`world.NEW_COLOURS`,
    `world.NEW_SHAPES`, `world.NEW_POSITIONS`: a shape in the top-left corner is read as "top left"
    rather than as the nearer of "left" and "top"); the default reads the world's own attributes
    only, as the committed models were scored. TypeError for an `extended` that is not a bool.

    Refuses (before reading) anything else: a uint8 or 0..255 image would be read as all foreground.
    `read` takes the other forms (uint8, PIL, tensors) and batches."""
    colours, shapes, positions = world.palettes(extended)
    if not isinstance(image, np.ndarray) or not np.issubdtype(image.dtype, np.floating):
        kind = f"dtype {image.dtype}" if isinstance(image, np.ndarray) else type(image).__name__
        raise TypeError(f"image must be a float array (32, 32, 3) in [0, 1]; got {kind}: use read([image]) for "
                        "uint8 arrays, PIL images and tensors")
    if image.shape != (world.SIZE, world.SIZE, 3):
        raise ValueError(f"image must be a float array ({world.SIZE}, {world.SIZE}, 3) in [0, 1]; got shape {image.shape}")
    if np.isnan(image).any() or image.min() < -1e-3 or image.max() > 1 + 1e-3:
        raise ValueError(f"image must hold values in [0, 1] (no NaN); got [{image.min():.3g}, {image.max():.3g}]")
    distance = np.abs(image - np.asarray(world.BACKGROUND)).max(axis=-1)
    foreground = distance > FOREGROUND
    area = int(foreground.sum())
    if area < MIN_AREA:
        return Reading(False, reason="no foreground")
    if area > MAX_AREA * foreground.size:
        return Reading(False, reason="no plain background")
    labels, count = ndimage.label(foreground, structure=np.ones((3, 3)))
    sizes = np.bincount(labels.ravel())[1:]
    largest = int(sizes.argmax()) + 1
    mask = labels == largest
    if sizes.max() < ONE_OBJECT * area:
        return Reading(False, reason="no single object")
    surround = ~ndimage.binary_dilation(mask, iterations=2)
    if distance[surround].mean() > PLAIN:
        return Reading(False, reason="no plain background")
    solid = mask & (distance > SOLID)
    pixels = image[solid if solid.sum() >= 4 else mask]
    mean = pixels.mean(axis=0)
    names = list(colours)
    gaps = [np.linalg.norm(mean - np.asarray(colours[n])) for n in names]
    colour = names[int(np.argmin(gaps))] if min(gaps) <= COLOUR_RADIUS else None
    ys, xs = np.nonzero(mask)
    cx, cy = (xs.min() + xs.max() + 1) / 2, (ys.min() + ys.max() + 1) / 2
    anchors = list(positions)
    position = anchors[int(np.argmin([np.hypot(cx - positions[a][0], cy - positions[a][1])
                                      for a in anchors]))]
    half = ((xs.max() - xs.min() + 1) + (ys.max() - ys.min() + 1)) / 4
    ious = []
    for shape in shapes:
        template = world.coverage(shape, (cx, cy), half) > 0.5
        ious.append((template & mask).sum() / max(1, (template | mask).sum()))
    shape = shapes[int(np.argmax(ious))] if max(ious) >= MIN_IOU else None
    return Reading(True, colour, shape, position)


def read(images, extended: bool = False) -> list[Reading]:
    """One Reading per image (input rules: `as_images`; `extended` as in `read_one`)."""
    world.palettes(extended)
    return [read_one(image, extended) for image in as_images(images)]


def score(images, captions, extended: bool = False) -> list[Verdict]:
    """Per image, whether its colour, shape and position match its caption.

    - images: see `as_images`.
    - captions: one caption of the world per image (a list of str) or one str for all;
      ValueError for a count mismatch or a caption the world does not have.
    - extended: as in `read_one`; True admits the new concepts' captions and reads them.
    An image read as not found matches nothing.
    """
    world.palettes(extended)
    batch = as_images(images)
    if isinstance(captions, str):
        captions = [captions] * len(batch)
    if not isinstance(captions, (list, tuple)):
        raise TypeError(f"captions must be a str or a list of str; got {type(captions).__name__}")
    if len(captions) != len(batch):
        raise ValueError(f"got {len(batch)} images but {len(captions)} captions; pass one caption per image")
    truths = []  # every caption is validated before any work
    for i, text in enumerate(captions):
        try:
            truths.append(world.parse_caption(text, extended))
        except (TypeError, ValueError) as error:
            raise type(error)(f"captions[{i}]: {error}") from None
    verdicts = []
    for image, text, (colour, shape, position) in zip(batch, captions, truths):
        r = read_one(image, extended)
        verdicts.append(Verdict(text, r, r.found and r.colour == colour, r.found and r.shape == shape,
                                r.found and r.position == position))
    return verdicts


def accuracy(verdicts: list[Verdict]) -> dict[str, float]:
    """The share of verdicts that match, per attribute, for all three ("all"), and found at all.
    Refuses no verdicts, and anything but Verdicts (TypeError: `read` gives Readings, `score` Verdicts)."""
    if isinstance(verdicts, Verdict) or not isinstance(verdicts, (list, tuple)):
        raise TypeError(
            f"verdicts must be a list of Verdicts, as score(images, captions) returns; got {type(verdicts).__name__}"
        )
    if not verdicts:
        raise ValueError("verdicts must hold at least one verdict (a Verdict, as score(images, captions) returns); got an empty list")
    wrong = next((v for v in verdicts if not isinstance(v, Verdict)), None)
    if wrong is not None:
        raise TypeError(f"verdicts must hold Verdicts, as score(images, captions) returns (read() gives Readings); "
                        f"got a {type(wrong).__name__}")
    n = len(verdicts)
    return {
        "colour": sum(v.colour for v in verdicts) / n,
        "shape": sum(v.shape for v in verdicts) / n,
        "position": sum(v.position for v in verdicts) / n,
        "all": sum(v.all for v in verdicts) / n,
        "found": sum(v.reading.found for v in verdicts) / n,
    }
