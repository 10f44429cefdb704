"""The `toy` profile: trained toy weights where a family has them, tiny everywhere else.

"sd15" (`models/toy-sd` at the repository's top level, made by `python -m helpers.toy train`) and
the Würstchen families (`models/toy-wuerstchen`, `python -m helpers.toy train-wuerstchen`) have
toy models; there is no UnCLIP-style toy. `helpers.pipelines.load(name, ctx)` loads them when
`ctx.profile == "toy"` (from `helpers.setup(profile="toy")`, which sets the process up as tiny
does: Hub blocked, one CPU thread, seeds), and in any profile with `weights=` (None for the
committed model, or another training run's folder): a family without a toy model loads its tiny
pipeline with a UserWarning. The folders are named in `helpers.toy.location`.

This module keeps the names chapters and readers import: `load(name, ctx, weights=None)` is
`pipelines.load(name, ctx, weights=weights)`.
"""

from __future__ import annotations

import torch

from .location import FOLDERS, folder, sd_folder, toy_dir  # noqa: F401 - re-exported

# what a reader is meant to use (the reference page lists these)
__all__ = ["load"]

# fixed at import, as before the folders moved to helpers.toy.location
TOY_DIR = folder("sd15")
WUERSTCHEN_DIR = folder("wuerstchen")
TOY_FAMILIES = {name: folder(name) for name in FOLDERS}


def setup(seed: int = 0, device: str | torch.device = "auto"):
    """helpers.setup(profile="toy", seed=seed, device=device)."""
    from ..runtime import setup as runtime_setup

    return runtime_setup(profile="toy", seed=seed, device=device)


def load(name: str, ctx, weights=None, **overrides):
    """The toy pipeline of `name` in float32 on ctx.device, or the tiny one (with a warning):
    `helpers.pipelines.load(name, ctx, weights=weights, **overrides)`.

    Works with a Context of any profile (a chapter about the toy world loads it in all of them).
    Refuses an unknown family name (ValueError, from helpers.pipelines.family), a `ctx` that is not
    the Context of helpers.setup() and overrides `pipelines.check_overrides` refuses (TypeError or
    ValueError). `weights` (sd15 only) loads another training run's folder instead of the committed
    one (see `sd_folder`).
    """
    from .. import pipelines

    return pipelines.load(name, ctx, weights=weights, **overrides)
