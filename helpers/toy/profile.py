"""The `toy` profile: trained toy weights where a family has them, tiny everywhere else.

"sd15" (`models/toy-sd` at the repository's top level, made by `python -m helpers.toy train`) and
the Würstchen families (`models/toy-wuerstchen`, `python -m helpers.toy train-wuerstchen`) have
toy models; there is no UnCLIP-style toy. `load(name, ctx)` returns the toy pipeline for those
and, for any other family, the tiny one with a UserWarning that says so.
`helpers.pipelines.load(name, ctx)` calls it when `ctx.profile == "toy"` (from
`helpers.setup(profile="toy")`, which sets the process up as tiny does: Hub blocked, one CPU
thread, seeds).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import torch

from .location import models_root

TOY_DIR = models_root() / "toy-sd"
WUERSTCHEN_DIR = TOY_DIR.parent / "toy-wuerstchen"
TOY_FAMILIES = {"sd15": TOY_DIR, "wuerstchen": WUERSTCHEN_DIR, "wuerstchen-prior": WUERSTCHEN_DIR / "prior",
                "wuerstchen-decoder": WUERSTCHEN_DIR / "decoder"}


def setup(seed: int = 0, device: str | torch.device = "auto"):
    """helpers.setup(profile="toy", seed=seed, device=device)."""
    from ..runtime import setup as runtime_setup

    return runtime_setup(profile="toy", seed=seed, device=device)


def toy_dir(name: str) -> Path:
    """The folder of the toy model of `name`; ValueError if it has none or the folder is missing."""
    if not isinstance(name, str) or name not in TOY_FAMILIES:
        import difflib

        close = difflib.get_close_matches(str(name).lower(), list(TOY_FAMILIES), n=1) if isinstance(name, str) else []
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise (ValueError if isinstance(name, str) else TypeError)(
            f"no toy model for {name!r}{hint}; name must be one of {', '.join(TOY_FAMILIES)} (the families with a toy model)"
        )
    folder = TOY_FAMILIES[name]
    # the combined Würstchen is two pipeline folders, as on the Hub
    indexes = [folder / part / "model_index.json" for part in ("prior", "decoder")] if name == "wuerstchen" else [
        folder / "model_index.json"]
    for index in indexes:
        if not index.exists():
            raise FileNotFoundError(f"the toy model of {name!r} is missing: no {index}")
    return folder


def sd_folder(weights=None) -> Path:
    """The toy SD's folder: the committed `models/toy-sd`, or `weights`, a folder written by
    `python -m helpers.toy train --out DIR` (FileNotFoundError/ValueError if it is not one)."""
    if weights is None:
        return toy_dir("sd15")
    folder = Path(weights).expanduser()
    if not (folder / "model_index.json").is_file():
        raise FileNotFoundError(f"toy weights {str(folder)!r}: no model_index.json there; pass a folder written "
                                f"by `python -m helpers.toy train --out DIR`, or None for models/toy-sd")
    index = json.loads((folder / "model_index.json").read_text())
    if index.get("_class_name") != "StableDiffusionPipeline":
        raise ValueError(f"toy weights {str(folder)!r} hold a {index.get('_class_name')}, not the toy "
                         f"StableDiffusionPipeline that `python -m helpers.toy train` writes")
    return folder


def load(name: str, ctx, weights=None, **overrides):
    """The toy pipeline of `name` in float32 on ctx.device, or the tiny one (with a warning).

    Works with a Context of any profile (a chapter about the toy world loads it in all of them).
    Refuses an unknown family name (ValueError, from helpers.pipelines.family), a `ctx` that is not
    the Context of helpers.setup() and overrides `pipelines.check_overrides` refuses (TypeError or
    ValueError). `weights` (sd15 only) loads another training run's folder instead of the committed
    one (see `sd_folder`).
    """
    if weights is not None and name != "sd15":
        raise ValueError(f"weights= picks another toy SD folder; {name!r} is not 'sd15'")
    from .. import moved, pipelines, tiny

    pipelines.family(name)
    pipelines.check_context(ctx)
    overrides = pipelines.check_overrides(name, overrides)

    if name not in TOY_FAMILIES:
        pipelines.family(name)  # an unknown name raises here, with the valid ones
        warnings.warn(f"profile 'toy': {name!r} has no toy model yet; loading the tiny (random-weight) one",
                      UserWarning, stacklevel=2)
        tiny_ctx = ctx if ctx.profile == "tiny" else __import__("dataclasses").replace(ctx, profile="tiny")
        return pipelines.load(name, tiny_ctx, **overrides)
    from diffusers import (
        StableDiffusionPipeline,
        WuerstchenDecoderPipeline,
        WuerstchenPriorPipeline,
    )

    if name == "wuerstchen":
        from . import wuerstchen

        if overrides:
            raise ValueError(f"the toy Würstchen takes no loading overrides; got {', '.join(overrides)}")
        return wuerstchen.load(ctx, toy_dir(name))
    pipelines.quiet_loading()
    pipelines.register_legacy_pipeline_modules()  # the Würstchen folders keep the Hub's index entries
    # the weights are stored as float16; dtype=float32 loads them back as float32 (helpers.moved
    # renames it for releases before 0.40 and brings the tokenizer to transformers 4)
    folder = sd_folder(weights) if name == "sd15" else toy_dir(name)
    options = {"dtype": torch.float32, "use_safetensors": True, **moved.component_overrides(folder)}
    options = moved.loading_options({**options, **overrides})
    if name.startswith("wuerstchen-"):
        cls = WuerstchenPriorPipeline if name == "wuerstchen-prior" else WuerstchenDecoderPipeline
        pipe = cls.from_pretrained(folder, **options).to(ctx.device)
        pipe.set_progress_bar_config(disable=True)
        return pipe
    # The toy SD ships no feature extractor (it has no safety checker); the chapters that attach a
    # checker of their own get the tiny profile's 32-pixel CLIP processor, which holds no weights.
    options.setdefault("feature_extractor", tiny.clip_image_processor())
    pipe = StableDiffusionPipeline.from_pretrained(folder, **options).to(ctx.device)
    pipe.set_progress_bar_config(disable=True)
    return pipe
