"""How far an image moved, split into layout (low spatial frequencies) and detail (the rest).

`layout_detail(a, b, cutoff)` takes the pixel difference of two images and splits it with an
ideal radial filter in the 2-D Fourier domain: frequencies up to `cutoff` cycles per image are
"layout" (where things are, large shapes and colour masses), everything above is "detail" (edges,
texture). The two parts are orthogonal, so the squared distances add up exactly:
total² = layout² + detail². Distances are root-mean-square over pixels and channels, on images
in [0, 1].
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .. import validate
from ..book.plotting import to_array

# what a reader is meant to use (the reference page lists these)
__all__ = ["low_pass_mask", "distance_table"]


class CutoffWarning(UserWarning):
    """The cutoff reaches every frequency of the image: all of a difference is layout, detail is 0."""


def _image(image, name: str) -> np.ndarray:
    # to_array refuses channel-first arrays, 0..255 floats, NaN and batches (validate.image_array)
    array = to_array(image, name)
    return array if array.ndim == 3 else array[..., None]


def _cutoff(cutoff) -> float:
    return validate.number("cutoff (cycles per image)", cutoff, minimum=0.0)


def low_pass_mask(height: int, width: int, cutoff: float) -> np.ndarray:
    """A (height, width) boolean mask over `np.fft.fft2` bins: True where the radial frequency,
    in cycles per image along each axis, is at most `cutoff`. Symmetric under negation, so a
    filtered real image stays real.

    Refuses: height/width that are not ints >= 1, a cutoff that is not a finite number >= 0."""
    height, width = validate.positive_int("height", height), validate.positive_int("width", width)
    cutoff = _cutoff(cutoff)
    ky = np.fft.fftfreq(height) * height  # cycles per image: 0, 1, ..., -1
    kx = np.fft.fftfreq(width) * width
    return np.hypot(ky[:, None], kx[None, :]) <= cutoff


def split(signal: np.ndarray, cutoff: float) -> tuple[np.ndarray, np.ndarray]:
    """(low, high): the parts of an HxW or HxWxC array (any values, e.g. a difference of two
    images) at or below / above `cutoff` cycles per image. low + high == signal, and the two
    are orthogonal.

    Refuses: anything but a real 2-d or 3-d NumPy array, NaN or infinite values, a bad cutoff.
    Warns (CutoffWarning) when the cutoff covers every frequency, so that detail is 0."""
    if not isinstance(signal, np.ndarray) or signal.ndim not in (2, 3):
        raise TypeError(
            f"signal: split needs an HxW or HxWxC numpy array, got {type(signal).__name__} {getattr(signal, 'shape', '')}"
        )
    if not (np.issubdtype(signal.dtype, np.number) or signal.dtype == bool) or np.iscomplexobj(signal):
        raise TypeError(f"signal must hold real numbers, got dtype {signal.dtype}")
    cutoff = _cutoff(cutoff)
    highest = float(np.hypot(signal.shape[0] // 2, signal.shape[1] // 2))
    if cutoff >= highest:
        warnings.warn(
            f"cutoff={cutoff:g} reaches the highest frequency of a {signal.shape[0]}x{signal.shape[1]} image "
            f"({highest:.3g} cycles per image): everything is layout and detail is 0 by construction",
            CutoffWarning,
            stacklevel=2,
        )
    if not np.isfinite(signal).all():
        raise ValueError("signal holds NaN or infinite values; the Fourier split would spread them over every pixel")
    array = signal.astype(np.float64)
    mask = low_pass_mask(array.shape[0], array.shape[1], cutoff)
    if array.ndim == 3:
        mask = mask[:, :, None]
    low = np.fft.ifft2(np.fft.fft2(array, axes=(0, 1)) * mask, axes=(0, 1)).real
    return low, array - low


def layout_detail(a, b, cutoff: float) -> dict[str, float]:
    """RMS distances between images `a` and `b`: {"layout", "detail", "total"}.

    `a` and `b`: PIL images, HxWxC arrays or CHW/HWC tensors of the same size, values in [0, 1]
    (uint8 arrays are scaled). `cutoff`: cycles per image; frequencies at or below it are layout.
    Guarantees: all three are >= 0, symmetric in a and b, 0 for identical images, and
    total**2 == layout**2 + detail**2 up to rounding.

    Refuses: non-images (TypeError), channel-first arrays (3, H, W), float arrays outside [0, 1]
    (a 0..255 float image would be clipped), NaN, batches, images of different shapes, and a
    cutoff that is not a finite number >= 0.
    """
    cutoff = _cutoff(cutoff)
    first, second = _image(a, "a"), _image(b, "b")
    if first.shape != second.shape:
        raise ValueError(f"a and b: images must have the same shape to be compared, got {first.shape} and {second.shape}")
    low, high = split(first.astype(np.float64) - second.astype(np.float64), cutoff)
    rms = lambda x: float(np.sqrt(np.mean(np.square(x))))  # noqa: E731
    return {"layout": rms(low), "detail": rms(high), "total": rms(low + high)}


def distance_table(reference, variants: Mapping[str, object], cutoff: float) -> pd.DataFrame:
    """One row per variant: its layout, detail and total distance from `reference`, and the
    share of the squared distance that is detail (NaN where the variant equals the reference).

    Refuses (before any distance is computed): variants that are not a non-empty mapping
    {label: image}, and any image or cutoff `layout_detail` refuses, naming the variant."""
    if not isinstance(variants, Mapping):
        raise TypeError(f"variants must be a non-empty mapping {{label: image}}, got {type(variants).__name__}")
    if not variants:
        raise ValueError("variants must be a non-empty mapping {label: image}, got an empty one")
    cutoff = _cutoff(cutoff)
    first = _image(reference, "reference")
    for label, image in variants.items():
        shape = _image(image, f"variants[{label!r}]").shape
        if shape != first.shape:
            raise ValueError(f"variants[{label!r}] has shape {shape}, the reference {first.shape}; they must match")
    rows = {label: layout_detail(reference, image, cutoff) for label, image in variants.items()}
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["layout", "detail", "total"])
    squared = table["total"] ** 2
    table["detail share"] = (table["detail"] ** 2 / squared).where(squared > 0)
    return table
