"""Sample the toy pipeline on fixed captions and seeds, and score what comes out.

The batch is fixed: `eval_captions(n)` walks the world's 60 captions with a stride of 7 (so 32
samples name 32 different captions), and sample i uses seed i on a CPU generator, so the
starting latents are the same on any device.
"""

from __future__ import annotations

import numpy as np
import torch

from .. import validate
from . import scorer, world

# what a reader is meant to use (the reference page lists these)
__all__ = ["eval_captions", "generate", "sample_accuracy"]


def eval_captions(n: int = 32) -> list[str]:
    """The first n captions of the fixed walk. Refuses an n that is not an int >= 1 (NumPy ints are taken)."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, (bool, np.bool_)) or n < 1:
        raise ValueError(f"n must be a positive int; got {n!r}")
    n = int(n)
    captions = world.all_captions()
    return [captions[(7 * i) % len(captions)] for i in range(n)]


def generate(pipe, captions: list[str], seeds=None, guidance_scale: float = 5.0, steps: int = 20,
             **call) -> np.ndarray:
    """(N, 32, 32, 3) float images in [0, 1]; seed i (default) for caption i, CPU generators.

    Refuses (before any work): a pipe that is not a diffusers pipeline, captions that are not a list
    of str (one caption alone would be read as its characters), seeds that are not one int seed per
    caption (a float or a string is not rounded or parsed), steps < 1, a guidance_scale that is not a
    finite number >= 0, and call keywords generate sets itself (height, width, generator, ...)."""
    _check_pipe(pipe)
    _check_call(call)
    captions = _check_captions(captions)
    seeds = list(range(len(captions))) if seeds is None else _check_seeds(seeds)
    if len(seeds) != len(captions):
        raise ValueError(f"seeds must hold one seed per caption: got {len(captions)} captions but {len(seeds)} seeds")
    guidance_scale = validate.number("guidance_scale", guidance_scale, minimum=0)
    steps = validate.positive_int("steps", steps)
    generators = [torch.Generator("cpu").manual_seed(s) for s in seeds]
    out = pipe(list(captions), generator=generators, guidance_scale=guidance_scale, num_inference_steps=steps,
               height=world.SIZE, width=world.SIZE, output_type="np", **call)
    return np.asarray(out.images)


def _check_pipe(pipe) -> None:
    from diffusers import DiffusionPipeline

    validate.instance("pipe", pipe, DiffusionPipeline, "a text-to-image diffusers pipeline (the toy SD, or its PAG version)")


# the pipeline-call keywords generate sets itself, and what to pass instead
SET_BY_GENERATE = {
    "prompt": "captions", "generator": "seeds", "guidance_scale": "guidance_scale", "num_inference_steps": "steps",
    "height": None, "width": None, "output_type": None,
}


def _check_call(call: dict) -> None:
    taken = [key for key in call if key in SET_BY_GENERATE]
    if taken:
        instead = [f"{key} (pass {SET_BY_GENERATE[key]}= instead)" if SET_BY_GENERATE[key] else
                   f"{key} (fixed: {'the world size, 32' if key in ('height', 'width') else 'np'})" for key in taken]
        raise TypeError(
            f"generate() sets {', '.join(taken)} itself; do not pass {' or '.join(taken)} among the call keywords: "
            f"{'; '.join(instead)}; accepted in **call: other pipeline keywords (e.g. negative_prompt, pag_scale)"
        )


def _check_captions(captions) -> list[str]:
    if isinstance(captions, str) or not isinstance(captions, (list, tuple)):
        raise TypeError(f"captions must be a list of str (wrap one caption as [caption]); got {type(captions).__name__}")
    for i, caption in enumerate(captions):
        if not isinstance(caption, str):
            raise TypeError(f"captions[{i}] must be a str; got {type(caption).__name__} {caption!r}")
    return list(captions)


def _check_seeds(seeds) -> list[int]:
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        raise TypeError(f"seeds must be a sequence of int seeds, one per caption (e.g. range(n)); got {type(seeds).__name__}")
    return [validate.seed(f"seeds[{i}]", s) for i, s in enumerate(seeds)]


def sample_accuracy(pipe, n: int = 32, guidance_scale: float = 5.0, steps: int = 20, **call) -> dict[str, float]:
    """The scorer's accuracy (per attribute, all three, found) over the fixed batch of n.
    Refuses what `eval_captions` and `generate` refuse, before any work."""
    _check_pipe(pipe)
    _check_call(call)
    captions = eval_captions(n)
    images = generate(pipe, captions, guidance_scale=guidance_scale, steps=steps, **call)
    return scorer.accuracy(scorer.score(images, captions))
