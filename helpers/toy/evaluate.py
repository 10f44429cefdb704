"""Sample the toy pipeline on fixed captions and seeds, and score what comes out.

The batch is fixed: `eval_captions(n)` walks the world's 60 captions with a stride of 7 (so 32
samples name 32 different captions), and sample i uses seed i on a CPU generator, so the
starting latents are the same on any device.
"""

from __future__ import annotations

import numpy as np
import torch

from . import scorer, world


def eval_captions(n: int = 32) -> list[str]:
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be a positive int; got {n!r}")
    captions = world.all_captions()
    return [captions[(7 * i) % len(captions)] for i in range(n)]


def generate(pipe, captions: list[str], seeds=None, guidance_scale: float = 5.0, steps: int = 20,
             **call) -> np.ndarray:
    """(N, 32, 32, 3) float images in [0, 1]; seed i (default) for caption i, CPU generators."""
    seeds = list(range(len(captions))) if seeds is None else list(seeds)
    if len(seeds) != len(captions):
        raise ValueError(f"got {len(captions)} captions but {len(seeds)} seeds")
    generators = [torch.Generator("cpu").manual_seed(int(s)) for s in seeds]
    out = pipe(list(captions), generator=generators, guidance_scale=guidance_scale, num_inference_steps=steps,
               height=world.SIZE, width=world.SIZE, output_type="np", **call)
    return np.asarray(out.images)


def sample_accuracy(pipe, n: int = 32, guidance_scale: float = 5.0, steps: int = 20, **call) -> dict[str, float]:
    """The scorer's accuracy (per attribute, all three, found) over the fixed batch of n."""
    captions = eval_captions(n)
    images = generate(pipe, captions, guidance_scale=guidance_scale, steps=steps, **call)
    return scorer.accuracy(scorer.score(images, captions))
