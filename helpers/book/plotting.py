"""Figures the chapters share: image grids and line plots with the book's defaults.

Every function returns a matplotlib Figure and never calls `plt.show()`: the notebook displays
the figure, and a test can inspect it.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from PIL import Image

from .. import validate

# what a reader is meant to use (the reference page lists these)
__all__ = ["to_array", "image_grid", "line_plot"]


class LayoutWarning(UserWarning):
    """A legal but suspicious grid layout, e.g. more columns than images (empty panels)."""


def detach(fig):
    """Close `fig` in pyplot and return it: the notebook shows it once, as the cell's value.

    Left open, the inline backend would draw it a second time at the end of the cell.
    Refuses (TypeError): anything but a matplotlib Figure.
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    plt.close(fig)
    return fig


def to_array(image, name: str | None = None) -> np.ndarray:
    """An HxWxC (or HxW) float32 array in [0, 1] from a PIL image, a numpy array or a tensor.

    Accepted: PIL images; uint8 arrays (0..255) and float arrays in [0, 1], HxWxC or HxW; tensors
    (CHW or HWC or HW, e.g. diffusers' output_type="pt" for one image).
    Refuses, naming `name` ("image" by default): other types (TypeError); a NumPy array laid out channel-first
    (C, H, W), a batch (N, H, W, C), float values outside [0, 1] (a 0..255 float image or a
    [-1, 1] decoder output would be clipped), NaN, other integer dtypes (see validate.image_array).
    """
    if name is not None and not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    prefix = "" if name is None else f"{name}: "
    name = "image" if name is None else name
    if isinstance(image, Image.Image):
        return validate.image_array(name, image).astype(np.float32)
    if isinstance(image, torch.Tensor):
        array = image.detach().cpu()
        array = (array if array.dtype == torch.uint8 else array.float()).numpy()
        if array.ndim == 3 and array.shape[0] in (1, 3, 4) and array.shape[-1] not in (1, 3, 4):
            array = array.transpose(1, 2, 0)
    elif isinstance(image, np.ndarray):
        array = image
    else:
        raise TypeError(
            f"{prefix}cannot show an image of type {type(image).__name__}; pass a PIL image, numpy array or tensor"
        )
    if array.ndim == 4:
        raise ValueError(
            f"{name} has shape {array.shape}, a batch; pass one image (e.g. images[0]) or a list of images"
        )
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3:
        raise ValueError(f"{name} must have 2 or 3 dimensions (H, W[, C]), got shape {array.shape}")
    array = validate.image_array(name, array).astype(np.float32)
    return array[..., 0] if array.shape[-1] == 1 else array


def image_grid(
    images: Sequence,
    titles: Sequence[str] | None = None,
    ncols: int | None = None,
    size: float = 2.0,
    suptitle: str | None = None,
):
    """A grid of images with optional titles; `ncols` defaults to one row.

    Refuses, before drawing: an empty or non-list `images`, any image `to_array` refuses (named
    images[i]), `titles` given as one string or of another length than `images` or holding
    non-strings, `ncols` that is not an int >= 1, a `size` that is not a number > 0, a `suptitle`
    that is not a str. Warns (LayoutWarning) when `ncols` exceeds the number of images.
    """
    if isinstance(images, (str, bytes, np.ndarray, torch.Tensor, Image.Image)) or not isinstance(images, Iterable):
        raise TypeError(
            f"images must be a list of images, got {type(images).__name__}; wrap a single image as [image]"
            " (a batch array/tensor: list(batch))"
        )
    images = list(images)
    if not images:
        raise ValueError("image_grid needs at least one image: images is empty")
    arrays = [to_array(image, f"images[{i}]") for i, image in enumerate(images)]
    if titles is not None:
        if isinstance(titles, (str, bytes)) or not isinstance(titles, Iterable):
            raise TypeError(f"titles must be a list of strings, one per image, got {type(titles).__name__} {titles!r:.40}")
        titles = list(titles)
        if len(titles) != len(images):
            raise ValueError(f"titles must hold one title per image: got {len(titles)} titles for {len(images)} images")
        for i, title in enumerate(titles):
            if not isinstance(title, str):
                raise TypeError(f"titles[{i}] must be a str, got {type(title).__name__} {title!r}")
    ncols = len(images) if ncols is None else validate.positive_int("ncols", ncols)
    if ncols > len(images):
        warnings.warn(f"ncols={ncols} exceeds the {len(images)} images: the grid has empty panels", LayoutWarning, stacklevel=2)
    size = validate.number("size", size, minimum=0, exclusive_minimum=True)
    if suptitle is not None and not isinstance(suptitle, str):
        raise TypeError(f"suptitle must be a str or None, got {type(suptitle).__name__}")
    nrows = -(-len(images) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + (0.4 if suptitle else 0)), squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index < len(images):
            ax.imshow(arrays[index], cmap="gray", interpolation="antialiased")
            if titles is not None:
                ax.set_title(titles[index], fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return detach(fig)


def line_plot(series: dict, xlabel: str, ylabel: str, title: str | None = None, logy: bool = False, marker: str = "o"):
    """One line per entry of `series` ({label: (x, y)}), with a legend.

    Refuses, before drawing: a `series` that is not a non-empty dict, an entry that is not an
    (x, y) pair of 1-d numeric sequences of one length, labels that are not strings, and with
    `logy` a y value <= 0 (matplotlib would silently drop it). xlabel/ylabel/title/marker must be
    strings (title may be None), logy a bool.
    """
    if not isinstance(series, dict):
        raise TypeError(f"series must be a dict {{label: (x, y)}}, got {type(series).__name__}")
    if not series:
        raise ValueError("line_plot needs at least one series: series is empty")
    for name, value in (("xlabel", xlabel), ("ylabel", ylabel), ("marker", marker)):
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a str, got {type(value).__name__} {value!r}")
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a str or None, got {type(title).__name__}")
    logy = validate.boolean("logy", logy)
    data = {}
    for label, pair in series.items():
        if not isinstance(label, str):
            raise TypeError(f"series labels must be strings, got {type(label).__name__} {label!r}")
        if isinstance(pair, (str, dict)) or not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise TypeError(f"series[{label!r}] must be an (x, y) pair, got {type(pair).__name__}")
        x, y = (np.asarray(v.detach().cpu() if isinstance(v, torch.Tensor) else v) for v in pair)
        for axis, values in (("x", x), ("y", y)):
            if values.ndim != 1 or not values.size or not (np.issubdtype(values.dtype, np.number) or values.dtype == bool):
                raise ValueError(f"series[{label!r}]: {axis} must be a non-empty 1-d sequence of numbers, got shape {values.shape} dtype {values.dtype}")
        if x.shape != y.shape:
            raise ValueError(f"series[{label!r}]: x has {x.size} values and y {y.size}; they must have the same length")
        if logy and (y <= 0).any():
            raise ValueError(f"series[{label!r}]: y holds values <= 0 ({y[y <= 0][:3].tolist()}), which a log axis (logy=True) drops")
        if logy and np.isinf(y.astype(float)).any():
            raise ValueError(
                f"series[{label!r}]: y must be finite on a log axis (logy=True), which drops infinite values without a "
                f"word; got {y[np.isinf(y.astype(float))][:3].tolist()}"
            )
        data[label] = (x, y)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for label, (x, y) in data.items():
        ax.plot(x, y, marker=marker, markersize=3, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return detach(fig)
