"""A procedural world whose truth can be read back from the pixels.

Every image is 32×32 RGB on a black background and holds one filled shape (circle, square or
upward triangle) in one of four colours, at one of five positions, with a small seeded jitter
in size and place. Its caption names the three attributes: "a red circle on the left".
Nothing is downloaded: `make_dataset(n, seed)` returns the same images for the same seed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

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
HALF_SIZES = (5.0, 6.0, 7.0)  # half the side of the shape's bounding box, in pixels
JITTER = 1.5  # largest shift of the centre, in pixels, each way
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

    def __post_init__(self):
        for name, value, allowed in (("colour", self.colour, COLOURS), ("shape", self.shape, SHAPES),
                                     ("position", self.position, POSITIONS)):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
        if not 2.0 <= self.half_size <= 8.0:
            raise ValueError(f"half_size must be in [2, 8] pixels; got {self.half_size}")

    @property
    def caption(self) -> str:
        return caption(self.colour, self.shape, self.position)

    @property
    def centre(self) -> tuple[float, float]:
        x, y = POSITIONS[self.position]
        return x + self.dx, y + self.dy


def caption(colour: str, shape: str, position: str) -> str:
    """The caption of a scene: "a red circle on the left"."""
    return f"a {colour} {shape} {PHRASES[position]}"


def all_captions() -> list[str]:
    """The 60 captions of the world, in a fixed order (colour, then shape, then position)."""
    return [caption(c, s, p) for c in COLOURS for s in SHAPES for p in POSITIONS]


def parse_caption(text: str) -> tuple[str, str, str]:
    """(colour, shape, position) named in a caption of the world; ValueError for any other text."""
    if not isinstance(text, str):
        raise TypeError(f"a caption must be a string; got {type(text).__name__}")
    for c in COLOURS:
        for s in SHAPES:
            for p in POSITIONS:
                if text.strip().lower() == caption(c, s, p):
                    return c, s, p
    raise ValueError(f"not a caption of the toy world: {text!r}; expected e.g. {caption('red', 'circle', 'left')!r}")


@functools.lru_cache(maxsize=4)
def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    grid = ((np.arange(size * SUPERSAMPLE) + 0.5) / SUPERSAMPLE).astype(np.float32)
    return tuple(np.meshgrid(grid, grid))


def coverage(shape: str, centre: tuple[float, float], half_size: float, size: int = SIZE) -> np.ndarray:
    """Fraction of each pixel (size×size) that the shape covers, from SUPERSAMPLE² samples."""
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {', '.join(SHAPES)}; got {shape!r}")
    x, y = _grid(size)
    cx, cy = centre
    u, v = x - cx, y - cy
    if shape == "circle":
        inside = u * u + v * v <= half_size * half_size
    elif shape == "square":
        inside = (np.abs(u) <= half_size) & (np.abs(v) <= half_size)
    else:  # apex at the top, base at the bottom, as wide as it is tall
        t = (v + half_size) / (2 * half_size)  # 0 at the apex, 1 at the base
        inside = (t >= 0) & (t <= 1) & (np.abs(u) <= t * half_size)
    return inside.reshape(size, SUPERSAMPLE, size, SUPERSAMPLE).mean(axis=(1, 3))


def render(scene: Scene, size: int = SIZE) -> np.ndarray:
    """The image of `scene`: float32 (size, size, 3) in [0, 1], height × width × channels."""
    alpha = coverage(scene.shape, scene.centre, scene.half_size, size)[..., None]
    colour = np.asarray(COLOURS[scene.colour], dtype=np.float64)
    return (alpha * colour + (1 - alpha) * np.asarray(BACKGROUND)).astype(np.float32)


def random_scene(rng: np.random.Generator) -> Scene:
    return Scene(
        colour=str(rng.choice(list(COLOURS))),
        shape=str(rng.choice(SHAPES)),
        position=str(rng.choice(list(POSITIONS))),
        half_size=float(rng.choice(HALF_SIZES)),
        dx=float(rng.uniform(-JITTER, JITTER)),
        dy=float(rng.uniform(-JITTER, JITTER)),
    )


def make_dataset(n: int = 4000, seed: int = 0) -> tuple[np.ndarray, list[str], list[Scene]]:
    """n images (n, 32, 32, 3) float32 in [0, 1], their captions and scenes; same seed, same data."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be a positive int; got {n!r}")
    rng = np.random.default_rng(seed)
    scenes = [random_scene(rng) for _ in range(n)]
    images = np.stack([render(s) for s in scenes])
    return images, [s.caption for s in scenes], scenes
