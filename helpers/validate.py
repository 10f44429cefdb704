"""Argument checks shared by every public helper: one home instead of a copy in each module.

Each check returns the value in its canonical form (an int for an int-like, a float for a number, a
NumPy array for an image) or raises before any work is done. A `TypeError` means the kind of value is
wrong, a `ValueError` that the value is out of range; either way the message names the argument, says
what it got, and what is accepted, e.g. "steps must be an int >= 1, got 0".
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def integer(name: str, value, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """`value` as an int within [minimum, maximum]; bools and floats (even 3.0) are refused."""
    bounds = _bounds_text(minimum, maximum)
    if not _is_int(value):
        raise TypeError(f"{name} must be an int{bounds}, got {type(value).__name__} {value!r}")
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be an int{bounds}, got {value}")
    return value


def positive_int(name: str, value) -> int:
    """`value` as an int >= 1 (a step count, a batch size, a number of frames)."""
    return integer(name, value, minimum=1)


def boolean(name: str, value) -> bool:
    """`value` as a bool; NumPy bools are accepted, and ints, strings ("yes") and None refused."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def number(
    name: str,
    value,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive_minimum: bool = False,
) -> float:
    """`value` as a finite float within the bounds; bools, NaN and infinities are refused."""
    bounds = _bounds_text(minimum, maximum, exclusive_minimum)
    if isinstance(value, torch.Tensor) and value.ndim == 0:
        value = value.item()
    if not _is_number(value):
        raise TypeError(f"{name} must be a number{bounds}, got {type(value).__name__} {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number{bounds}, got {value}")
    too_low = minimum is not None and (value <= minimum if exclusive_minimum else value < minimum)
    if too_low or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be a number{bounds}, got {value}")
    return value


def one_of(name: str, value, accepted: Iterable[str]) -> str:
    """`value` if it is one of `accepted` (exact, case-sensitive); else a ValueError listing them all,
    with the closest match first when the value looks like a typo ("Trailing" -> "trailing")."""
    accepted = list(accepted)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, one of {accepted}, got {type(value).__name__} {value!r}")
    if value in accepted:
        return value
    close = difflib.get_close_matches(value, accepted, n=1) or [a for a in accepted if a.lower() == value.lower()]
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ValueError(f"{name}={value!r} is not accepted{hint}; accepted: {', '.join(map(repr, accepted))}")


def monotonic(name: str, values, *, decreasing: bool, strict: bool = True) -> torch.Tensor:
    """A 1-d float tensor of `values` that must be (strictly) decreasing or increasing, with no NaN.

    Sigma and timestep schedules run from high noise to low; a reversed one gives plausible numbers
    that are wrong, so it is refused here rather than sampled.
    """
    tensor = torch.as_tensor(values, dtype=torch.float64) if not isinstance(values, torch.Tensor) else values.double()
    if tensor.ndim != 1 or tensor.numel() < 2:
        raise ValueError(f"{name} must be a 1-d sequence of at least 2 numbers, got shape {tuple(tensor.shape)}")
    if not bool(torch.isfinite(tensor).all()):
        raise ValueError(f"{name} must hold finite numbers, got {tensor.tolist()}")
    steps = tensor[1:] - tensor[:-1]
    ok = (steps < 0 if strict else steps <= 0) if decreasing else (steps > 0 if strict else steps >= 0)
    if not bool(ok.all()):
        order = "decreasing" if decreasing else "increasing"
        where = int((~ok).nonzero()[0])
        raise ValueError(
            f"{name} must be {'strictly ' if strict else ''}{order} (from high noise to low), but entry {where + 1} "
            f"({tensor[where + 1].item():.6g}) follows {tensor[where].item():.6g}"
        )
    return tensor


def image_array(name: str, image, *, channels: Iterable[int] = (1, 3, 4)) -> np.ndarray:
    """An image as a float64 array of shape (H, W, C) with values in [0, 1].

    Accepts PIL images, uint8 arrays (0..255) and float arrays already in [0, 1], in HWC layout.
    Refuses what would be silently misread: a channel-first array (C, H, W), float values outside
    [0, 1] (a 0..255 float image would be clipped), NaN, and 2-d arrays with no channel axis.
    """
    channels = tuple(channels)
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - pillow is a dependency
        Image = None
    if Image is not None and isinstance(image, Image.Image):
        image = np.asarray(image.convert("RGB"))
    if isinstance(image, torch.Tensor):
        raise TypeError(f"{name}: pass a NumPy array or a PIL image (H, W, C), not a torch tensor; use tensor.permute(1, 2, 0).numpy()")
    if not isinstance(image, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array (H, W, C) or a PIL image, got {type(image).__name__}")
    if image.ndim != 3:
        raise ValueError(f"{name} must have shape (H, W, C) with C in {channels}, got shape {image.shape}")
    if image.shape[-1] not in channels:
        layout = " (it looks channel-first: use image.transpose(1, 2, 0))" if image.shape[0] in channels else ""
        raise ValueError(f"{name} must have shape (H, W, C) with C in {channels}, got shape {image.shape}{layout}")
    if image.dtype == np.uint8:
        return image.astype(np.float64) / 255.0
    if not np.issubdtype(image.dtype, np.floating):
        raise TypeError(f"{name} must be uint8 (0..255) or float (0..1), got dtype {image.dtype}")
    if np.isnan(image).any():
        raise ValueError(f"{name} holds NaN values")
    low, high = float(image.min()), float(image.max())
    if low < 0.0 or high > 1.0:
        raise ValueError(
            f"{name} is a float image with values in [{low:.3g}, {high:.3g}]; float images must lie in [0, 1] "
            "(divide a 0..255 image by 255, or pass it as uint8)"
        )
    return image.astype(np.float64)


def _bounds_text(minimum, maximum, exclusive_minimum: bool = False) -> str:
    if minimum is not None and maximum is not None:
        return f" in {'(' if exclusive_minimum else '['}{minimum}, {maximum}]"
    if minimum is not None:
        return f" {'>' if exclusive_minimum else '>='} {minimum}"
    if maximum is not None:
        return f" <= {maximum}"
    return ""


def tensor(name: str, value, *, ndim: int | Iterable[int] | None = None, finite: bool = True) -> torch.Tensor:
    """`value` itself if it is a floating-point torch tensor with `ndim` dimensions (an int or a
    collection of them) and, with `finite`, no NaN or infinity; a TypeError or ValueError otherwise."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch tensor, got {type(value).__name__}")
    if not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    allowed = (ndim,) if isinstance(ndim, int) else None if ndim is None else tuple(ndim)
    if allowed is not None and value.ndim not in allowed:
        wanted = " or ".join(map(str, allowed))
        raise ValueError(f"{name} must be a {wanted}-d tensor, got shape {tuple(value.shape)}")
    if finite and not value.is_meta and not bool(torch.isfinite(value).all()):
        raise ValueError(f"{name} holds NaN or infinite values ({int((~torch.isfinite(value)).sum())} of {value.numel()})")
    return value


def keywords(name: str, given, accepted: Iterable[str]) -> dict:
    """`given` (keyword arguments) as a dict if every key is in `accepted`; a ValueError naming each
    unknown key, with the closest accepted one when it looks like a typo ("num_inference_step")."""
    accepted = sorted(accepted)
    unknown = [key for key in given if key not in accepted]
    if unknown:
        hints = []
        for key in unknown:
            close = difflib.get_close_matches(key, accepted, n=1)
            hints.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise ValueError(f"{name} does not take {', '.join(hints)}; accepted: {', '.join(accepted)}")
    return dict(given)


def _path(name: str, value) -> Path:
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path (str or Path), got {type(value).__name__}")
    return Path(value)


def existing_dir(name: str, value) -> Path:
    """`value` as a Path to an existing folder; TypeError for a non-path, ValueError otherwise."""
    path = _path(name, value)
    if not path.is_dir():
        raise ValueError(f"{name} must be an existing folder, got {str(path)!r}")
    return path


def existing_file(name: str, value) -> Path:
    """`value` as a Path to an existing file; TypeError for a non-path, ValueError otherwise."""
    path = _path(name, value)
    if not path.is_file():
        raise ValueError(f"{name} must be an existing file, got {str(path)!r}")
    return path
