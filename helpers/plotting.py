"""Figures the chapters share: image grids and line plots with the book's defaults.

Every function returns a matplotlib Figure and never calls `plt.show()`: the notebook displays
the figure, and a test can inspect it.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from PIL import Image


def detach(fig):
    """Close `fig` in pyplot and return it: the notebook shows it once, as the cell's value.

    Left open, the inline backend would draw it a second time at the end of the cell.
    """
    plt.close(fig)
    return fig


def to_array(image) -> np.ndarray:
    """An HxWxC (or HxW) float array in [0, 1] from a PIL image, a numpy array or a CHW/HWC tensor."""
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    if isinstance(image, torch.Tensor):
        array = image.detach().float().cpu().numpy()
        if array.ndim == 3 and array.shape[0] in (1, 3, 4) and array.shape[-1] not in (1, 3, 4):
            array = array.transpose(1, 2, 0)
    elif isinstance(image, np.ndarray):
        array = image.astype(np.float32) / (255.0 if image.dtype == np.uint8 else 1.0)
    else:
        raise TypeError(f"cannot show an image of type {type(image).__name__}; pass a PIL image, numpy array or tensor")
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3):
        raise ValueError(f"an image must have 2 or 3 dimensions, got shape {array.shape}")
    return np.clip(array, 0.0, 1.0)


def image_grid(
    images: Sequence,
    titles: Sequence[str] | None = None,
    ncols: int | None = None,
    size: float = 2.0,
    suptitle: str | None = None,
):
    """A grid of images with optional titles; `ncols` defaults to one row."""
    images = list(images)
    if not images:
        raise ValueError("image_grid needs at least one image")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"got {len(titles)} titles for {len(images)} images")
    ncols = ncols or len(images)
    if ncols < 1:
        raise ValueError(f"ncols must be >= 1, got {ncols}")
    nrows = -(-len(images) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + (0.4 if suptitle else 0)), squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index < len(images):
            ax.imshow(to_array(images[index]), cmap="gray", interpolation="antialiased")
            if titles is not None:
                ax.set_title(titles[index], fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return detach(fig)


def line_plot(series: dict, xlabel: str, ylabel: str, title: str | None = None, logy: bool = False, marker: str = "o"):
    """One line per entry of `series` ({label: (x, y)}), with a legend."""
    if not series:
        raise ValueError("line_plot needs at least one series")
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for label, (x, y) in series.items():
        ax.plot(np.asarray(x), np.asarray(y), marker=marker, markersize=3, label=label)
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
