"""A procedural world whose truth can be read back from the pixels.

Every image is 32×32 RGB on a black background and holds one filled shape (circle, square or
upward triangle) in one of four colours, at one of five positions, with a small seeded jitter
in size and place. Its caption names the three attributes: "a red circle on the left".
Nothing is downloaded: `make_dataset(n, seed)` returns the same images for the same seed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .. import validate

# what a reader is meant to use (the reference page lists these)
__all__ = [
    "SIZE", "BACKGROUND", "SHAPES", "COLOURS", "POSITIONS", "Scene", "caption", "all_captions", "palettes",
    "parse_caption", "coverage", "render", "random_scene", "make_dataset",
    "NEW_COLOURS", "NEW_SHAPES", "NEW_POSITIONS", "ConceptScene", "concept_captions", "make_concept_dataset",
]

SIZE = 32
BACKGROUND = (0.0, 0.0, 0.0)
SHAPES = ("circle", "square", "triangle")
COLOURS = {
    "red": (0.90, 0.12, 0.10),
    "green": (0.15, 0.80, 0.15),
    "blue": (0.15, 0.30, 0.95),
    "yellow": (0.95, 0.85, 0.10),
}
# centre of the shape in pixels (x, y), y growing downwards as in an image array
POSITIONS = {
    "left": (8.0, 16.0),
    "right": (24.0, 16.0),
    "top": (16.0, 8.0),
    "bottom": (16.0, 24.0),
    "centre": (16.0, 16.0),
}
PHRASES = {"left": "on the left", "right": "on the right", "top": "at the top", "bottom": "at the bottom",
           "centre": "in the centre"}
# Concepts the committed toy models never saw, for the fine-tuning chapter. Kept out of COLOURS,
# SHAPES and POSITIONS so that the world, its 60 captions, its data sets and the scorer's default
# readings stay as the committed models were trained on them; functions take them only when asked
# (extended=True). The toy VAE carries only one of them: a shape in the top-left corner comes back
# from an encode/decode round trip as it went in, while magenta (0.75 or more from every colour of
# COLOURS in RGB, over twice the scorer's COLOUR_RADIUS) comes back green and a diamond comes back
# round (models/toy-sd-lora/README.md measures both). Fine-tuning the UNet cannot teach an image
# the decoder does not make, so the concept the fine-tuning chapter teaches is the new position.
NEW_COLOURS = {"magenta": (0.90, 0.15, 0.85)}
NEW_SHAPES = ("diamond",)  # a square turned 45 degrees: |x| + |y| <= half_size
NEW_POSITIONS = {"top left": (8.0, 8.0)}  # 8 px from both "left" and "top": as far apart as the world's anchors
_NEW_PHRASES = {"top left": "at the top left"}
_EXTENDED_COLOURS = {**COLOURS, **NEW_COLOURS}
_EXTENDED_SHAPES = SHAPES + NEW_SHAPES
_EXTENDED_POSITIONS = {**POSITIONS, **NEW_POSITIONS}
_EXTENDED_PHRASES = {**PHRASES, **_NEW_PHRASES}
HALF_SIZES = (5.0, 6.0, 7.0)  # half the side of the shape's bounding box, in pixels
JITTER = 1.5  # largest shift of the centre, in pixels, each way
MAX_SHIFT = 4.0  # half the 8 px between anchors: a shape shifted further sits nearer another position
SUPERSAMPLE = 4  # sub-pixels per side: edges are anti-aliased, as a camera would see them


@dataclass(frozen=True)
class Scene:
    """What one image shows."""

    colour: str
    shape: str
    position: str
    half_size: float = 6.0
    dx: float = 0.0
    dy: float = 0.0

    extended: ClassVar[bool] = False  # not a field: ConceptScene admits NEW_COLOURS, NEW_SHAPES, NEW_POSITIONS

    def __post_init__(self):
        _check_attributes(self.colour, self.shape, self.position, self.extended)
        object.__setattr__(self, "half_size", validate.number("half_size (pixels)", self.half_size, minimum=2, maximum=8))
        for name in ("dx", "dy"):
            shift = validate.number(f"{name} (pixels)", getattr(self, name))
            if abs(shift) >= MAX_SHIFT:
                raise ValueError(f"{name} must lie in (-{MAX_SHIFT:g}, {MAX_SHIFT:g}) pixels, got {shift}: further, the "
                                 f"shape is nearer another position than {self.position!r}, and the caption is wrong")
            object.__setattr__(self, name, shift)

    @property
    def caption(self) -> str:
        return caption(self.colour, self.shape, self.position, extended=self.extended)

    @property
    def centre(self) -> tuple[float, float]:
        x, y = _EXTENDED_POSITIONS[self.position]  # a plain Scene's position is in POSITIONS
        return x + self.dx, y + self.dy


def palettes(extended) -> tuple[dict, tuple[str, ...], dict]:
    """(colours, shapes, positions) the world names: its own, or with the new concepts (extended=True).
    Refuses (TypeError) an `extended` that is not a bool."""
    if not isinstance(extended, bool):
        raise TypeError(f"extended must be True (admit NEW_COLOURS, NEW_SHAPES and NEW_POSITIONS) or False (the "
                        f"world's own colours, shapes and positions); got {type(extended).__name__} {extended!r}")
    return (_EXTENDED_COLOURS, _EXTENDED_SHAPES, _EXTENDED_POSITIONS) if extended else (COLOURS, SHAPES, POSITIONS)


def _check_attributes(colour, shape, position, extended: bool = False) -> None:
    colours, shapes, positions = palettes(extended)
    for name, value, allowed in (("colour", colour, colours), ("shape", shape, shapes), ("position", position, positions)):
        if not isinstance(value, str):
            raise TypeError(f"{name} must be one of {', '.join(allowed)}; got {type(value).__name__} {value!r}")
        if value not in allowed:
            raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")


def caption(colour: str, shape: str, position: str, extended: bool = False) -> str:
    """The caption of a scene: "a red circle on the left". Refuses a colour, shape or position the
    world does not have (ValueError; TypeError for a non-string); `extended=True` admits the new
    concepts (NEW_COLOURS, NEW_SHAPES, NEW_POSITIONS) too."""
    _check_attributes(colour, shape, position, extended)
    return f"a {colour} {shape} {_EXTENDED_PHRASES[position]}"  # a position of POSITIONS unless extended


def all_captions() -> list[str]:
    """The 60 captions of the world, in a fixed order (colour, then shape, then position)."""
    return [caption(c, s, p) for c in COLOURS for s in SHAPES for p in POSITIONS]


def concept_captions(position: str = "top left") -> list[str]:
    """The 12 captions of the new position (each colour and shape of the world), in a fixed order
    (colour, then shape). Refuses a position that is not one of NEW_POSITIONS."""
    if not isinstance(position, str) or position not in NEW_POSITIONS:
        raise ValueError(f"position must be one of the new positions {', '.join(NEW_POSITIONS)}; got {position!r} "
                         "(the world's own captions are all_captions())")
    return [caption(c, s, position, extended=True) for c in COLOURS for s in SHAPES]


def parse_caption(text: str, extended: bool = False) -> tuple[str, str, str]:
    """(colour, shape, position) named in a caption of the world; ValueError for any other text.
    `extended=True` reads the new concepts' captions too."""
    colours, shapes, positions = palettes(extended)
    if not isinstance(text, str):
        hint = " (one caption at a time: parse each of a list in a loop)" if isinstance(text, (list, tuple)) else ""
        raise TypeError(f"text must be one caption, a str; got {type(text).__name__}{hint}")
    for c in colours:
        for s in shapes:
            for p in positions:
                if text.strip().lower() == caption(c, s, p, extended):
                    return c, s, p
    raise ValueError(
        f"not a caption of the toy world: {text!r}; a caption must read 'a <colour> <shape> <place>' with colour one of "
        f"{', '.join(colours)}, shape one of {', '.join(shapes)}, place one of {', '.join(repr(_EXTENDED_PHRASES[p]) for p in positions)} "
        f"(e.g. {caption('red', 'circle', 'left')!r})"
    )


@functools.lru_cache(maxsize=4)
def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    grid = ((np.arange(size * SUPERSAMPLE) + 0.5) / SUPERSAMPLE).astype(np.float32)
    return tuple(np.meshgrid(grid, grid))


def coverage(shape: str, centre: tuple[float, float], half_size: float, size: int = SIZE) -> np.ndarray:
    """Fraction of each pixel (size×size) that the shape covers, from SUPERSAMPLE² samples.

    Refuses an unknown shape, a centre that is not two finite numbers (x, y), a half_size that is not
    a finite number > 0 (an empty or infinite shape) and a size that is not an int >= 1."""
    if shape not in _EXTENDED_SHAPES:
        raise ValueError(f"shape must be one of {', '.join(_EXTENDED_SHAPES)}; got {shape!r}")
    if isinstance(centre, (str, bytes)) or not hasattr(centre, "__len__") or len(centre) != 2:
        raise TypeError(f"centre must be a pair (x, y) of pixel coordinates; got {centre!r}")
    cx, cy = (validate.number(f"centre[{i}]", c) for i, c in enumerate(centre))
    half_size = validate.number("half_size", half_size, minimum=0, exclusive_minimum=True)
    size = validate.positive_int("size", size)
    x, y = _grid(size)
    u, v = x - cx, y - cy
    if shape == "circle":
        inside = u * u + v * v <= half_size * half_size
    elif shape == "square":
        inside = (np.abs(u) <= half_size) & (np.abs(v) <= half_size)
    elif shape == "diamond":  # a new concept (NEW_SHAPES); the world's own images never hold one
        inside = np.abs(u) + np.abs(v) <= half_size
    else:  # apex at the top, base at the bottom, as wide as it is tall
        t = (v + half_size) / (2 * half_size)  # 0 at the apex, 1 at the base
        inside = (t >= 0) & (t <= 1) & (np.abs(u) <= t * half_size)
    return inside.reshape(size, SUPERSAMPLE, size, SUPERSAMPLE).mean(axis=(1, 3))


def render(scene: Scene, size: int = SIZE) -> np.ndarray:
    """The image of `scene`: float32 (size, size, 3) in [0, 1], height × width × channels.
    Refuses a `scene` that is not a Scene (TypeError) and a size that is not an int >= 1."""
    validate.instance("scene", scene, Scene, "a world.Scene, e.g. Scene('red', 'circle', 'left')")
    alpha = coverage(scene.shape, scene.centre, scene.half_size, size)[..., None]
    colour = np.asarray(_EXTENDED_COLOURS[scene.colour], dtype=np.float64)  # a plain Scene's colour is in COLOURS
    return (alpha * colour + (1 - alpha) * np.asarray(BACKGROUND)).astype(np.float32)


def random_scene(rng: np.random.Generator) -> Scene:
    """A Scene drawn with `rng`; refuses (TypeError) anything but a np.random.Generator."""
    if not isinstance(rng, np.random.Generator):
        hint = f" (for a seed, pass np.random.default_rng({rng!r}))" if isinstance(rng, (int, np.integer)) else ""
        raise TypeError(f"rng must be a np.random.Generator, got {type(rng).__name__}{hint}")
    return Scene(
        colour=str(rng.choice(list(COLOURS))),
        shape=str(rng.choice(SHAPES)),
        position=str(rng.choice(list(POSITIONS))),
        half_size=float(rng.choice(HALF_SIZES)),
        dx=float(rng.uniform(-JITTER, JITTER)),
        dy=float(rng.uniform(-JITTER, JITTER)),
    )


def make_dataset(n: int = 4000, seed: int = 0) -> tuple[np.ndarray, list[str], list[Scene]]:
    """n images (n, 32, 32, 3) float32 in [0, 1], their captions and scenes; same seed, same data.
    Refuses an n that is not an int >= 1 and a seed that is not an int >= 0 (NumPy ints are taken)."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, (bool, np.bool_)) or n < 1:
        raise ValueError(f"n must be a positive int; got {n!r}")
    n, seed = int(n), validate.seed("seed", seed)
    rng = np.random.default_rng(seed)
    scenes = [random_scene(rng) for _ in range(n)]
    images = np.stack([render(s) for s in scenes])
    return images, [s.caption for s in scenes], scenes


@dataclass(frozen=True)
class ConceptScene(Scene):
    """A Scene whose colour, shape and position may also be the new concepts' (NEW_COLOURS,
    NEW_SHAPES, NEW_POSITIONS); `render` draws it."""

    extended: ClassVar[bool] = True


def make_concept_dataset(n: int, seed: int = 0, position: str = "top left") -> tuple[np.ndarray, list[str], list[ConceptScene]]:
    """n images at one new position (NEW_POSITIONS), with colour, shape, size and jitter drawn as
    `random_scene` draws them; their captions and scenes. Same seed, same data. Refuses an n that
    is not an int >= 1, a seed that is not an int >= 0 and a position that is not a new one."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, (bool, np.bool_)) or n < 1:
        raise ValueError(f"n must be a positive int; got {n!r}")
    concept_captions(position)  # refuses a position that is not a new one
    n, seed = int(n), validate.seed("seed", seed)
    rng = np.random.default_rng(seed)
    scenes = [ConceptScene(str(rng.choice(list(COLOURS))), str(rng.choice(SHAPES)), position,
                           float(rng.choice(HALF_SIZES)), float(rng.uniform(-JITTER, JITTER)),
                           float(rng.uniform(-JITTER, JITTER))) for _ in range(n)]
    images = np.stack([render(s) for s in scenes])
    return images, [s.caption for s in scenes], scenes
