"""Walk the toy Stable Diffusion's text conditioning from one caption to another, and read the frames.

The toy SD (`models/toy-sd`) is conditioned on `prompt_embeds`, the last hidden state of its CLIP
text encoder: one vector per token. `caption_path` encodes two captions of the toy world as the
pipeline does and interpolates every token's vector (slerp or lerp, from `helpers.interpolation`);
`render` draws every point of the path with the same seeds (seed j for column j, as
`helpers.toy.evaluate` seeds its samples) in one pipeline call; `endpoint_shares` reads each frame
with the scorer and says, per point of the path, which share of the seeds shows caption A, caption
B, or neither; `crossing` finds where a share crosses a level (the switch).

    embeds = caption_path(pipe, "a red circle on the left", "a blue square on the left", ts)
    frames = render(pipe, embeds, seeds=range(32))        # (len(ts), 32, 32, 32, 3)
    shares = endpoint_shares(frames, "a red circle on the left", "a blue square on the left")
    crossing(ts, shares["B"], 0.5)                         # where B takes over
"""

from __future__ import annotations

import numpy as np
import torch

from .. import validate
from ..interpolation import _as_t, lerp, slerp
from . import scorer, world

__all__ = ["METHODS", "caption_path", "crossing", "endpoint_shares", "render"]

METHODS = {"slerp": slerp, "lerp": lerp}


def _check_captions(caption_a, caption_b) -> None:
    for label, text in (("caption_a", caption_a), ("caption_b", caption_b)):
        if not isinstance(text, str):
            raise TypeError(
                f"{label} must be one caption of the toy world (a str), got {type(text).__name__}"
            )
        try:
            world.parse_caption(text)
        except ValueError as error:
            raise ValueError(f"{label}: {error}") from None
    if world.parse_caption(caption_a) == world.parse_caption(caption_b):
        raise ValueError(
            f"caption_a and caption_b name the same scene ({caption_a!r}): there is no path to walk"
        )


def _check_pipe(pipe, name: str) -> None:
    from diffusers import StableDiffusionPipeline

    if not isinstance(pipe, StableDiffusionPipeline):
        raise TypeError(
            f"pipe: {name}() needs the toy StableDiffusionPipeline (helpers.toy.profile.load('sd15', ctx), "
            f"or one built from its components), got {type(pipe).__name__}"
        )


@torch.no_grad()
def caption_path(
    pipe, caption_a: str, caption_b: str, t, method: str = "slerp"
) -> torch.Tensor:
    """`prompt_embeds` (n, L, W) from `caption_a` (t=0) to `caption_b` (t=1), float32 on the CPU.

    Both captions are encoded with the pipeline's own `encode_prompt` (its tokenizer, padded to L
    tokens, no guidance); every token's vector is interpolated along the last dimension with
    `method` ("slerp": great circle, length linear in t; "lerp": the straight chord). The ends
    are the encodings themselves, bit for bit, for either method.

    Refuses: a pipe that is not a StableDiffusionPipeline; captions that are not one caption of the
    toy world each (`world.parse_caption`), or two captions of the same scene; a method other than
    "slerp" or "lerp"; t that is not a float or a 1-D sequence of floats in [0, 1].
    """
    _check_pipe(pipe, "caption_path")
    _check_captions(caption_a, caption_b)
    validate.one_of("method", method, METHODS)
    ts, _ = _as_t(t, "caption_path")
    device = pipe._execution_device
    ends = [
        pipe.encode_prompt(text, device, 1, False)[0][0].float().cpu()
        for text in (caption_a, caption_b)
    ]
    return METHODS[method](ends[0], ends[1], ts)


def _check_seeds(seeds) -> list[int]:
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        raise TypeError(
            f"seeds must be a sequence of ints (e.g. range(32)), got {type(seeds).__name__}"
        )
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds is empty; pass at least one seed (e.g. range(32))")
    checked = [
        validate.seed(f"seeds[{i}]", s) for i, s in enumerate(seeds)
    ]
    if len(set(checked)) != len(checked):
        raise ValueError(f"seeds repeats a seed ({checked}); each column needs its own")
    return checked


@torch.no_grad()
def render(
    pipe,
    prompt_embeds: torch.Tensor,
    seeds,
    *,
    steps: int = 20,
    guidance_scale: float = 1.0,
) -> np.ndarray:
    """Frames (n, S, 32, 32, 3), float in [0, 1]: point i of the path drawn with seed `seeds[j]`.

    One pipeline call for all n·S frames, 32×32, `steps` steps; frame (i, j) starts from a CPU
    generator seeded with `seeds[j]`, so a column is one starting noise across the whole path and
    the same seed draws the same picture on any device. With `guidance_scale` > 1 the pipeline
    encodes the empty negative prompt itself.

    Refuses: a pipe that is not a StableDiffusionPipeline; `prompt_embeds` that is not a finite
    float tensor (n, L, W) whose width W is the text encoder's hidden size; seeds that are not a
    non-empty sequence of distinct ints >= 0; steps < 1; a guidance_scale that is not a finite
    number >= 0.
    """
    _check_pipe(pipe, "render")
    validate.tensor("prompt_embeds", prompt_embeds, ndim=3)
    width = pipe.text_encoder.config.hidden_size
    if prompt_embeds.shape[-1] != width:
        raise ValueError(
            f"prompt_embeds must be (n, L, {width}) for this pipeline's text encoder, got {tuple(prompt_embeds.shape)}"
        )
    seeds = _check_seeds(seeds)
    steps = validate.positive_int("steps", steps)
    guidance_scale = validate.number("guidance_scale", guidance_scale, minimum=0)
    n, count = prompt_embeds.shape[0], len(seeds)
    embeds = prompt_embeds.repeat_interleave(count, dim=0).to(
        pipe._execution_device, pipe.text_encoder.dtype
    )
    generators = [
        torch.Generator("cpu").manual_seed(s) for _ in range(n) for s in seeds
    ]
    out = pipe(
        prompt_embeds=embeds,
        generator=generators,
        guidance_scale=guidance_scale,
        num_inference_steps=steps,
        height=world.SIZE,
        width=world.SIZE,
        output_type="np",
    ).images
    return np.asarray(out).reshape(n, count, world.SIZE, world.SIZE, 3)


def endpoint_shares(frames, caption_a: str, caption_b: str) -> dict:
    """Per point of the path (row of `frames`), the share of its frames read as A, as B, or neither.

    A frame is "A" when the scorer reads all three attributes of `caption_a` in it (colour,
    shape, position), "B" likewise for `caption_b`, and "neither" otherwise (another colour or
    shape, or no single object found). Returns numpy arrays of length n: "A", "B", "neither"
    (they sum to 1 per row), the per-attribute shares "colour A", "colour B", "shape A",
    "shape B", and "readings": the scorer's Reading of every frame, as n lists of S.

    Refuses: frames that are not an array (n, S, 32, 32, 3) of floats in [0, 1] (the scorer's
    input rules, `scorer.as_images`, apply to the n·S frames) and captions `caption_path` refuses.
    """
    _check_captions(caption_a, caption_b)
    if not isinstance(frames, np.ndarray):
        raise TypeError(
            f"frames must be the numpy array render() returns, (n, S, 32, 32, 3); got {type(frames).__name__}"
        )
    if frames.ndim != 5:
        raise ValueError(
            f"frames must be (n points, S seeds, 32, 32, 3) as render() returns; got shape {frames.shape}"
        )
    n, count = frames.shape[:2]
    flat = scorer.as_images(frames.reshape(n * count, *frames.shape[2:]))
    readings = [scorer.read_one(image) for image in flat]
    truths = {"A": world.parse_caption(caption_a), "B": world.parse_caption(caption_b)}

    def share(test) -> np.ndarray:
        hits = np.array(
            [bool(r.found and test(r)) for r in readings], dtype=float
        ).reshape(n, count)
        return hits.mean(axis=1)

    shares = {
        key: share(lambda r, c=truth: (r.colour, r.shape, r.position) == c)
        for key, truth in truths.items()
    }
    shares["neither"] = 1.0 - shares["A"] - shares["B"]
    for key, (colour, shape, _) in truths.items():
        shares[f"colour {key}"] = share(lambda r, c=colour: r.colour == c)
        shares[f"shape {key}"] = share(lambda r, s=shape: r.shape == s)
    shares["readings"] = [readings[i * count : (i + 1) * count] for i in range(n)]
    return shares


def crossing(ts, values, level: float = 0.5) -> float | None:
    """The first t at which `values` (sampled at increasing `ts`) reaches `level`, linearly
    interpolated between the two grid points around it; `ts[0]` if it starts there; None if never.

    "Reaches" means going from below `level` to `level` or above: for a share that falls (A's),
    pass `1 - share`. The result is only as fine as the grid: it assumes a straight line between
    neighbouring points.

    Refuses: ts that is not a strictly increasing 1-D sequence of at least 2 finite numbers;
    values that are not finite numbers, one per t; a level that is not a finite number.
    """
    grid = validate.monotonic("ts", ts, decreasing=False)
    values = torch.as_tensor(validate.numeric_array("values", values))  # "0.4" is not parsed
    if values.ndim != 1 or values.numel() != grid.numel():
        raise ValueError(
            f"values must be one number per t ({grid.numel()}), got shape {tuple(values.shape)}"
        )
    validate.tensor("values", values)
    level = validate.number("level", level)
    if values[0] >= level:
        return float(grid[0])
    for i in range(1, grid.numel()):
        if values[i] >= level:
            low, high = values[i - 1].item(), values[i].item()
            return float(
                grid[i - 1] + (grid[i] - grid[i - 1]) * (level - low) / (high - low)
            )
    return None
