"""Walks through CLIP embedding space for the UnCLIP pipelines: slerp, lerp and frame makers.

UnCLIP models (Karlo, Stable unCLIP) generate from CLIP embeddings, so moving from one prompt or
image to another is a path between two embeddings. `slerp` walks the great circle between them
(`lerp` the straight chord, for comparison); `interpolate_prompts` and `interpolate_images` encode
both ends exactly as the pipeline would, interpolate, and render every frame from the same noise,
so that frame 0 is the plain call on the first prompt or image.

    frames = interpolate_prompts(pipe, "a cat", "a dog", 5, generator=ctx.generator())
    frames.images[0]            # the image pipe("a cat", generator=ctx.generator()) gives
    frames.embeddings["text_embeds"].shape   # (5, D): what each frame was conditioned on
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import inspect
import warnings

import numpy as np
import torch

from . import validate

__all__ = [
    "Frames",
    "IdenticalEndsWarning",
    "angle_between",
    "encode_image",
    "encode_prompt",
    "image_path",
    "interpolate_images",
    "interpolate_prompts",
    "lerp",
    "prompt_path",
    "slerp",
]


class IdenticalEndsWarning(UserWarning):
    """Both ends of an interpolation are the same prompt or image: every frame is the same."""


def _warn_if_identical(first, second, what: str) -> None:
    from PIL import Image

    same = first is second
    if isinstance(first, str) and isinstance(second, str):
        same = first == second
    elif isinstance(first, Image.Image) and isinstance(second, Image.Image):
        same = same or (first.size == second.size and first.mode == second.mode and first.tobytes() == second.tobytes())
    elif isinstance(first, torch.Tensor) and isinstance(second, torch.Tensor):
        same = same or (first.shape == second.shape and bool(torch.equal(first, second)))
    if same:
        # attributed to the user's call, however deep in this module it comes from (prompt_path called
        # alone, or inside interpolate_prompts): a fixed stacklevel pointed the frame makers' warning
        # at this file, where Python's default filter shows it once per session, not once per call
        frame, level = inspect.currentframe(), 1
        while frame is not None and frame.f_code.co_filename == __file__:
            frame, level = frame.f_back, level + 1
        warnings.warn(f"{what}_a and {what}_b are the same: every frame will show the same thing", IdenticalEndsWarning, stacklevel=level)


# --------------------------------------------------------------------------------------------
# slerp and lerp
# --------------------------------------------------------------------------------------------


def _check_pair(a, b, name: str) -> None:
    for label, value in (("a", a), ("b", b)):
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{name}() needs tensors, got {label} of type {type(value).__name__}")
        if not value.is_floating_point():
            raise TypeError(f"{name}() needs floating-point tensors, got {label} of dtype {value.dtype}")
        if value.ndim == 0:
            raise ValueError(f"{name}() interpolates vectors along the last dimension; {label} is a 0-d tensor")
    if a.shape != b.shape:
        raise ValueError(f"{name}() needs a and b of the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    if a.dtype != b.dtype:
        raise TypeError(f"{name}() needs a and b of the same dtype, got {a.dtype} and {b.dtype}")
    if a.device != b.device:
        raise ValueError(f"{name}() needs a and b on the same device, got {a.device} and {b.device}")
    for label, value in (("a", a), ("b", b)):
        if not value.is_meta and not bool(torch.isfinite(value).all()):
            raise ValueError(f"{name}(): {label} holds inf or nan values; every frame in between would too")


def _work_dtype(device: torch.device) -> torch.dtype:
    # float64 makes the angle and the orthogonal direction accurate to ~1e-8 even for nearly
    # parallel or opposite vectors; MPS has no float64, so float32 there
    return torch.float32 if device.type == "mps" else torch.float64


def _as_t(t, name: str) -> tuple[torch.Tensor, bool]:
    """`t` as a 1-D float64 CPU tensor, and whether the caller asked for a batch."""
    accepted = "t must be a float in [0, 1] or a 1-D sequence (list, array, tensor) of them"
    if isinstance(t, np.ndarray) and t.ndim == 0:
        t = t[()]  # a 0-d array is a scalar, as NumPy scalars are
    if isinstance(t, (bool, np.bool_)):
        raise TypeError(f"{name}(): {accepted}, got a bool")
    if isinstance(t, (int, float, np.integer, np.floating)):
        values, batched = torch.tensor([float(t)], dtype=torch.float64), False
    elif isinstance(t, torch.Tensor):
        if t.ndim > 1:
            raise ValueError(f"{name}(): {accepted}, got shape {tuple(t.shape)}")
        if t.is_complex() or t.dtype == torch.bool:
            raise TypeError(f"{name}(): {accepted} (real numbers), got dtype {t.dtype}")
        values, batched = t.detach().to("cpu", torch.float64).reshape(-1), t.ndim == 1
    elif isinstance(t, (Sequence, np.ndarray)) and not isinstance(t, (str, bytes)):
        try:  # strings are not parsed, a nested list is not flattened
            values = torch.as_tensor(validate.numeric_array("t", t if isinstance(t, np.ndarray) else list(t), ndim=1))
        except (TypeError, ValueError) as error:
            raise type(error)(f"{name}(): {error}; accepted: one float in [0, 1] or a 1-D sequence of them") from None
        batched = True
    else:
        raise TypeError(f"{name}(): {accepted}, got {type(t).__name__}")
    if batched and values.numel() == 0:
        raise ValueError(f"{name}(): {accepted}, got an empty {type(t).__name__}: pass at least one t")
    if not torch.isfinite(values).all() or (values < 0).any() or (values > 1).any():
        raise ValueError(f"{name}(): every t must lie in [0, 1], got {values.tolist()}")
    return values, batched


def _broadcast_t(values: torch.Tensor, batched: bool, like: torch.Tensor) -> torch.Tensor:
    """t shaped to broadcast over `like`: (n, 1, ..., 1) for a batch, a 0-d tensor otherwise."""
    values = values.to(like.device, like.dtype)
    return values.reshape((-1,) + (1,) * like.ndim) if batched else values.reshape(())


def lerp(a: torch.Tensor, b: torch.Tensor, t) -> torch.Tensor:
    """Linear interpolation `(1 - t) a + t b`, with the same conventions as `slerp`.

    - `t`: a float in [0, 1] (result shaped like `a`) or a 1-D tensor of n of them (result
      shaped `(n, *a.shape)`).
    - Endpoints are exact: t=0 returns `a` and t=1 returns `b`, bit for bit.
    Between two vectors at an angle the path cuts the chord, so its norm dips below the ends'
    mean norm (not always below both ends: half-way between [1, 0] and [0, 10] it is about
    5.02); for two ends of equal length at angle θ the midpoint is cos(θ/2) times that length.
    That dip is what `slerp` avoids.

    Refuses: non-tensors, integer tensors, 0-d tensors, a and b of different shape, dtype or
    device, NaN or infinite values, and any t outside [0, 1] (or NaN, or a bool).
    """
    _check_pair(a, b, "lerp")
    values, batched = _as_t(t, "lerp")
    work = _work_dtype(a.device)
    a_w, b_w = a.to(work), b.to(work)
    tt = _broadcast_t(values, batched, a_w)
    # (1 - t) a + t b rather than torch.lerp's a + t (b - a), which misses b at t=1 by rounding
    return ((1 - tt) * a_w + tt * b_w).to(a.dtype)


def _orthogonal_to(unit: torch.Tensor) -> torch.Tensor:
    """A unit vector orthogonal to each row of `unit`, chosen deterministically.

    The basis vector along `unit`'s smallest component, with its `unit` part removed: its norm
    is at least sqrt(1 - 1/D), so the normalisation never divides by a small number. For `u`
    and `-u` it gives the same vector, which keeps slerp symmetric for opposite inputs.
    """
    k = unit.abs().argmin(dim=-1, keepdim=True)
    basis = torch.zeros_like(unit).scatter_(-1, k, 1.0)
    perp = basis - unit.gather(-1, k) * unit
    return perp / perp.norm(dim=-1, keepdim=True)


def slerp(a: torch.Tensor, b: torch.Tensor, t) -> torch.Tensor:
    """Spherical interpolation between `a` and `b` along their last dimension.

    Each vector (row) is interpolated separately: its direction moves along the great circle from
    `a`'s direction to `b`'s at constant angular speed (angle t·θ from `a` at parameter t), and its
    length goes linearly from |a| to |b|. For vectors of equal length this is the textbook
    `sin((1-t)θ)/sin θ · a + sin(tθ)/sin θ · b`, and the length stays |a| all along.

    - `a`, `b`: floating-point tensors of the same shape, dtype and device, last dimension >= 2,
      no zero vectors (ValueError otherwise).
    - `t`: a float in [0, 1] (result shaped like `a`) or a 1-D tensor of n of them (result shaped
      `(n, *a.shape)`: one interpolation per t).
    - Endpoints are exact: t=0 returns `a` and t=1 returns `b`, bit for bit.
    - Stable everywhere: the angle comes from `2 atan2(|â - b̂|, |â + b̂|)`, which keeps full
      precision near 0 and near π. Nearly parallel vectors give (nearly) the straight path;
      opposite vectors, for which any great circle is a shortest one, take a fixed one, so the
      result is finite and still has the interpolated length.
    - Computed in float64 (float32 on MPS) and returned in the inputs' dtype.

    Refuses: what `lerp` refuses, plus vectors of fewer than 2 components and zero vectors (a
    zero vector has no direction to rotate).
    """
    _check_pair(a, b, "slerp")
    if a.shape[-1] < 2:
        raise ValueError(f"slerp() needs vectors of at least 2 components along the last dimension, got shape {tuple(a.shape)}")
    values, batched = _as_t(t, "slerp")
    work = _work_dtype(a.device)
    a_w, b_w = a.to(work), b.to(work)
    norm_a = a_w.norm(dim=-1, keepdim=True)
    norm_b = b_w.norm(dim=-1, keepdim=True)
    for label, norms in (("a", norm_a), ("b", norm_b)):
        if not torch.isfinite(norms).all():
            # its values are finite (checked above), so the length overflowed: "inf or nan" would mislead
            raise ValueError(f"slerp(): a vector of {label} is too long to measure in {work} (its norm overflows); scale {label} down")
        if (norms == 0).any():
            raise ValueError(
                f"slerp() is undefined for zero vectors: {int((norms == 0).sum())} vector(s) of {label} have norm 0; "
                "a zero vector has no direction to rotate (use lerp)"
            )
    unit_a, unit_b = a_w / norm_a, b_w / norm_b
    theta = 2 * torch.atan2((unit_a - unit_b).norm(dim=-1, keepdim=True), (unit_a + unit_b).norm(dim=-1, keepdim=True))
    # the direction of b seen from a, in the plane of the two: b̂ without its â component
    perp = unit_b - (unit_a * unit_b).sum(dim=-1, keepdim=True) * unit_a
    perp_norm = perp.norm(dim=-1, keepdim=True)
    # below this length the plane is not determined by the data (parallel or opposite vectors);
    # errors in `perp` are ~eps/|perp| <= sqrt(eps) above it
    tolerance = torch.finfo(work).eps ** 0.5
    toward_b = torch.where(perp_norm > tolerance, perp / perp_norm.clamp_min(tolerance), _orthogonal_to(unit_a))

    tt = _broadcast_t(values, batched, a_w)
    angle = tt * theta
    direction = torch.cos(angle) * unit_a + torch.sin(angle) * toward_b
    # nearly parallel rows (angle below ~1e-8): the fixed orthogonal fallback would rotate away
    # from b̂ by up to the angle itself; the normalised chord is within O(angle³) of the arc
    parallel = (perp_norm <= tolerance) & ((unit_a * unit_b).sum(dim=-1, keepdim=True) > 0)
    chord = (1 - tt) * unit_a + tt * unit_b
    direction = torch.where(parallel, chord / chord.norm(dim=-1, keepdim=True), direction)
    result = ((1 - tt) * norm_a + tt * norm_b) * direction
    # the rotation reaches b̂ only up to rounding; the ends are returned as given
    result = torch.where(tt == 0, a_w, torch.where(tt == 1, b_w, result))
    return result.to(a.dtype)


def angle_between(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The angle (radians, float64) between `a` and `b` along the last dimension, accurate near 0 and π.

    `a` and `b` broadcast against each other (e.g. one vector against a batch of them).

    Refuses: non-tensors, integer or 0-d tensors, shapes that do not broadcast, NaN or infinite
    values, and zero vectors (no direction, so no angle: the result would be NaN).
    """
    for label, value in (("a", a), ("b", b)):
        if not isinstance(value, torch.Tensor) or not value.is_floating_point() or value.ndim == 0:
            raise TypeError(f"angle_between() needs floating-point tensors of vectors, got {label}={value!r:.60}")
        if not value.is_meta:
            if not bool(torch.isfinite(value).all()):
                raise ValueError(f"angle_between(): {label} holds NaN or infinite values")
            if bool((value.norm(dim=-1) == 0).any()):  # exact: a norm is 0 only for all-zero entries
                raise ValueError(f"angle_between(): {label} holds a zero vector, which has no direction (the angle would be NaN)")
    try:
        torch.broadcast_shapes(a.shape, b.shape)
    except RuntimeError:
        raise ValueError(
            f"angle_between(): b must broadcast against a (the same vector length {a.shape[-1]}, or a batch of such "
            f"vectors); got shapes a {tuple(a.shape)} and b {tuple(b.shape)}"
        ) from None
    work = _work_dtype(a.device)
    unit_a = a.to(work) / a.to(work).norm(dim=-1, keepdim=True)
    unit_b = b.to(work) / b.to(work).norm(dim=-1, keepdim=True)
    return 2 * torch.atan2((unit_a - unit_b).norm(dim=-1), (unit_a + unit_b).norm(dim=-1))


# --------------------------------------------------------------------------------------------
# UnCLIP pipelines
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Frames:
    """The result of an interpolation.

    - `t`: the n interpolation parameters, `linspace(0, 1, n)` (float64, CPU).
    - `images`: the n frames in the pipeline's `output_type` (a list of PIL images, an array
      (n, H, W, C) or a tensor (n, C, H, W)).
    - `embeddings`: what each frame was conditioned on, by the pipeline argument's name, each a
      tensor with the n frames along its first dimension.
    """

    t: torch.Tensor
    images: object
    embeddings: dict

    def __len__(self) -> int:
        return int(self.t.numel())


def _pipeline_classes():
    # imported here so that `import helpers.interpolation` stays cheap for slerp alone
    from diffusers import StableUnCLIPImg2ImgPipeline, UnCLIPImageVariationPipeline, UnCLIPPipeline

    return UnCLIPPipeline, UnCLIPImageVariationPipeline, StableUnCLIPImg2ImgPipeline


def _check_n(n) -> int:
    # both ends are frames, so fewer than 2 cannot hold them
    return validate.integer("n (the number of frames, both ends included)", n, minimum=2)


def _check_batch_size(batch_size, n: int) -> int:
    if batch_size is None:
        return n
    return validate.positive_int("batch_size (frames per call, or None for all in one call)", batch_size)


def _check_generator(generator) -> torch.Generator:
    if not isinstance(generator, torch.Generator):
        raise TypeError(
            "generator must be one torch.Generator (e.g. ctx.generator()); every frame gets a copy of its state, "
            f"so that all frames share the same noise. Got {type(generator).__name__}"
        )
    return generator


def _copies(generator: torch.Generator, k: int) -> list[torch.Generator]:
    """k generators in `generator`'s current state; `generator` itself is not advanced."""
    state = generator.get_state()
    copies = []
    for _ in range(k):
        copy = torch.Generator(device=generator.device)
        copy.set_state(state)
        copies.append(copy)
    return copies


def _check_reserved(call_kwargs: dict, reserved: set[str], name: str) -> None:
    clash = sorted(reserved & set(call_kwargs))
    if clash:
        raise ValueError(f"{name}() sets {', '.join(clash)} itself; leave them out of the call arguments")


def _check_call_kwargs(pipe, call_kwargs: dict, output_types: tuple[str, ...]) -> None:
    """Refuse what the pipeline would take silently or fail on late: unknown names, step counts its
    scheduler cannot run, non-finite guidance, output types it would not honour."""
    parameters = inspect.signature(type(pipe).__call__).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        validate.keywords(f"call_kwargs ({type(pipe).__name__})", call_kwargs, [n for n in parameters if n != "self"])
    from diffusers import UnCLIPScheduler

    for key, value in call_kwargs.items():
        if key.endswith("num_inference_steps"):
            scheduler = getattr(pipe, key.replace("num_inference_steps", "scheduler"), None)
            # UnCLIPScheduler spaces steps by (T - 1) / (steps - 1): 1 divides by zero, and 0 gives no
            # timesteps at all, so the frames would be the un-denoised starting noise
            least = 2 if isinstance(scheduler, UnCLIPScheduler) else 1
            validate.integer(key, value, minimum=least)
        elif key.endswith("guidance_scale"):
            validate.number(key, value)
        elif key == "output_type":
            validate.one_of("output_type", value, output_types)
        elif key == "noise_level":
            top = pipe.image_noising_scheduler.config.num_train_timesteps - 1
            validate.integer("noise_level", value, minimum=0, maximum=top)


def _concat(parts: list):
    first = parts[0]
    if isinstance(first, list):
        return [image for part in parts for image in part]
    if isinstance(first, np.ndarray):
        return np.concatenate(parts)
    if isinstance(first, torch.Tensor):
        return torch.cat(parts)
    raise TypeError(f"cannot join pipeline outputs of type {type(first).__name__}")


def _render(pipe, n: int, batch_size: int, generator: torch.Generator, per_frame, call_kwargs: dict) -> object:
    """Call `pipe` on frames [i, i + batch_size), each with a fresh copy of `generator`."""
    parts = []
    for start in range(0, n, batch_size):
        frames = slice(start, min(start + batch_size, n))
        k = frames.stop - frames.start
        output = pipe(generator=_copies(generator, k), **per_frame(frames), **call_kwargs)
        parts.append(output.images if hasattr(output, "images") else output[0])
    return _concat(parts)


@torch.no_grad()
def encode_prompt(pipe, prompt: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """`(text_embeds, last_hidden_state, attention_mask)` of `prompt`, batch 1, as UnCLIPPipeline makes them.

    This is the pipeline's own `_encode_prompt` without guidance: same tokenizer padding and
    truncation, text encoder called without the attention mask, mask returned as booleans.

    Refuses: a `pipe` that is not an UnCLIPPipeline, a `prompt` that is not one str.
    """
    _check_prompt_pipe(pipe, "encode_prompt")
    _check_prompts(prompt=prompt)
    text_embeds, hidden, mask = pipe._encode_prompt(prompt, pipe._execution_device, 1, False)
    return text_embeds, hidden, mask


@torch.no_grad()
def encode_image(pipe, image) -> torch.Tensor:
    """The CLIP image embedding (1, D) that UnCLIPImageVariationPipeline / StableUnCLIPImg2ImgPipeline compute.

    A PIL image goes through the pipeline's `feature_extractor`; a tensor is taken as its
    output (pixel values, (1, 3, H, W)), as the pipelines do. Stable unCLIP's noise augmentation
    is not applied here: the pipeline adds it to whatever `image_embeds` it is given.

    Refuses: a `pipe` that is not UnCLIPImageVariationPipeline or StableUnCLIPImg2ImgPipeline; an
    `image` that is not one PIL image or one (1, 3, H, W) float tensor without NaN.
    """
    _check_image_pipe(pipe, "encode_image")
    _check_images(image=image)
    if not isinstance(image, torch.Tensor):
        image = pipe.feature_extractor(images=image, return_tensors="pt").pixel_values
    encoder = pipe.image_encoder
    image = image.to(device=pipe._execution_device, dtype=next(encoder.parameters()).dtype)
    return encoder(image).image_embeds


def _frame_ts(n: int) -> torch.Tensor:
    return torch.linspace(0, 1, n, dtype=torch.float64)


def _check_prompt_pipe(pipe, name: str) -> None:
    UnCLIPPipeline, UnCLIPImageVariationPipeline, StableUnCLIPImg2ImgPipeline = _pipeline_classes()
    if not isinstance(pipe, UnCLIPPipeline):
        takes_images = isinstance(pipe, (UnCLIPImageVariationPipeline, StableUnCLIPImg2ImgPipeline))
        hint = " It takes images: use interpolate_images() / image_path()." if takes_images else ""
        raise TypeError(
            f"pipe: {name}() needs an UnCLIPPipeline (Karlo; helpers.pipelines.load('unclip', ctx)), "
            f"got {type(pipe).__name__}.{hint}"
        )


def _check_image_pipe(pipe, name: str) -> bool:
    """Validate; True for Stable unCLIP, False for Karlo image variations."""
    UnCLIPPipeline, UnCLIPImageVariationPipeline, StableUnCLIPImg2ImgPipeline = _pipeline_classes()
    if not isinstance(pipe, (UnCLIPImageVariationPipeline, StableUnCLIPImg2ImgPipeline)):
        hint = " It takes prompts: use interpolate_prompts() / prompt_path()." if isinstance(pipe, UnCLIPPipeline) else ""
        raise TypeError(
            f"pipe: {name}() needs an UnCLIPImageVariationPipeline or a StableUnCLIPImg2ImgPipeline "
            "(helpers.pipelines.load('unclip-image-variation' or 'stable-unclip', ctx)), "
            f"got {type(pipe).__name__}.{hint}"
        )
    return isinstance(pipe, StableUnCLIPImg2ImgPipeline)


def _check_prompts(**prompts) -> None:
    for label, prompt in prompts.items():
        if not isinstance(prompt, str):
            raise TypeError(f"{label} must be one prompt (a str), got {type(prompt).__name__}")


def _check_images(**images) -> None:
    from PIL import Image

    for label, image in images.items():
        if isinstance(image, torch.Tensor):
            if image.ndim != 4 or image.shape[0] != 1 or image.shape[1] != 3:
                raise ValueError(f"{label} as a tensor must be one preprocessed image of shape (1, 3, H, W), got {tuple(image.shape)}")
            validate.tensor(label, image)
        elif not isinstance(image, Image.Image):
            raise TypeError(f"{label} must be one PIL image or a (1, 3, H, W) pixel tensor, got {type(image).__name__}")


def prompt_path(pipe, prompt_a: str, prompt_b: str, t) -> dict:
    """The conditioning of UnCLIPPipeline frames at `t` (a float or 1-D tensor in [0, 1]), without rendering.

    Returns {"text_embeds": (n, D), "last_hidden_state": (n, L, W), "text_attention_mask": (n, L)}:
    both prompts encoded as the pipeline does (`encode_prompt`), slerped per token, and the mask
    of `prompt_a` at t=0, of `prompt_b` at t=1, their union in between (a token that is padding
    for one prompt carries the other prompt's text there).

    Refuses: a pipe that is not an UnCLIPPipeline, prompts that are not one str each, any t
    outside [0, 1]. Warns (IdenticalEndsWarning) when both prompts are the same.
    """
    _check_prompt_pipe(pipe, "prompt_path")
    _check_prompts(prompt_a=prompt_a, prompt_b=prompt_b)
    _warn_if_identical(prompt_a, prompt_b, "prompt")
    ts, _ = _as_t(t, "prompt_path")
    embeds_a, hidden_a, mask_a = encode_prompt(pipe, prompt_a)
    embeds_b, hidden_b, mask_b = encode_prompt(pipe, prompt_b)
    union = mask_a[0] | mask_b[0]
    masks = torch.stack([mask_a[0] if t == 0 else mask_b[0] if t == 1 else union for t in ts.tolist()])
    return {
        "text_embeds": slerp(embeds_a[0], embeds_b[0], ts),
        "last_hidden_state": slerp(hidden_a[0], hidden_b[0], ts),
        "text_attention_mask": masks,
    }


def image_path(pipe, image_a, image_b, t) -> torch.Tensor:
    """The CLIP image embeddings (n, D) of frames at `t`: `encode_image` of both images, slerped.

    Refuses: a pipe of another family, images `encode_image` refuses, any t outside [0, 1].
    Warns (IdenticalEndsWarning) when both images are the same."""
    _check_image_pipe(pipe, "image_path")
    _check_images(image_a=image_a, image_b=image_b)
    _warn_if_identical(image_a, image_b, "image")
    ts, _ = _as_t(t, "image_path")
    return slerp(encode_image(pipe, image_a)[0], encode_image(pipe, image_b)[0], ts)


def interpolate_prompts(
    pipe, prompt_a: str, prompt_b: str, n: int, *, generator: torch.Generator, batch_size: int | None = None, **call_kwargs
) -> Frames:
    """n frames of an UnCLIPPipeline (Karlo) walking from `prompt_a` to `prompt_b`.

    Both prompts are encoded as the pipeline encodes them (`encode_prompt`); `text_embeds` and
    every token of `last_hidden_state` are slerped at t = linspace(0, 1, n). The attention mask
    of frame 0 is `prompt_a`'s, that of the last frame `prompt_b`'s, and in between the union
    of both (a token that is padding for one prompt carries the other prompt's text there).
    Every frame starts from a copy of `generator`'s state, so all frames share the same noise,
    and frame 0 is what `pipe(prompt_a, generator=<that generator>, **call_kwargs)` returns
    (bit for bit with batch_size=1; up to batched-kernel rounding otherwise).

    - n: number of frames, >= 2 (both ends included).
    - generator: one torch.Generator; it is copied, not advanced.
    - batch_size: frames per pipeline call (None: all n in one call).
    - call_kwargs: passed to every call (steps, guidance scales, output_type...), except the
      arguments this function sets (ValueError).

    Refuses: a pipe that is not an UnCLIPPipeline (naming the image interpolator for image
    pipelines); prompts that are not one str each; n < 2; batch_size < 1; a generator that is not
    one torch.Generator; call arguments the pipeline does not take (with the closest name), step
    counts below 2 (UnCLIPScheduler: 0 renders un-denoised noise, 1 divides by zero), non-finite
    guidance scales, and an output_type other than "pil" or "np" (UnCLIP returns NumPy for any
    other string). Warns (IdenticalEndsWarning) when both prompts are the same.
    """
    _check_prompt_pipe(pipe, "interpolate_prompts")
    _check_prompts(prompt_a=prompt_a, prompt_b=prompt_b)
    n = _check_n(n)
    batch_size = _check_batch_size(batch_size, n)
    _check_generator(generator)
    _check_reserved(
        call_kwargs,
        {"prompt", "text_model_output", "text_attention_mask", "generator", "num_images_per_prompt", "prior_latents",
         "decoder_latents", "super_res_latents"},
        "interpolate_prompts",
    )
    _check_call_kwargs(pipe, call_kwargs, ("pil", "np"))
    from transformers.models.clip.modeling_clip import CLIPTextModelOutput

    ts = _frame_ts(n)
    embeddings = prompt_path(pipe, prompt_a, prompt_b, ts)

    def per_frame(frames: slice) -> dict:
        output = CLIPTextModelOutput(
            text_embeds=embeddings["text_embeds"][frames], last_hidden_state=embeddings["last_hidden_state"][frames]
        )
        return {"text_model_output": output, "text_attention_mask": embeddings["text_attention_mask"][frames]}

    images = _render(pipe, n, batch_size, generator, per_frame, call_kwargs)
    return Frames(t=ts, images=images, embeddings=embeddings)


def interpolate_images(
    pipe, image_a, image_b, n: int, *, generator: torch.Generator, batch_size: int | None = None, **call_kwargs
) -> Frames:
    """n frames of an image-conditioned UnCLIP pipeline walking from `image_a` to `image_b`.

    Works with UnCLIPImageVariationPipeline (Karlo variations; argument `image_embeddings`) and
    StableUnCLIPImg2ImgPipeline (argument `image_embeds`, noise-augmented by the pipeline at
    `noise_level` with each frame's generator, its `prompt` repeated for every frame). The CLIP
    image embeddings of both images (`encode_image`) are slerped at t = linspace(0, 1, n); every
    frame starts from a copy of `generator`'s state, so frame 0 is what
    `pipe(image=image_a, generator=<that generator>, **call_kwargs)` returns (bit for bit with
    batch_size=1; up to batched-kernel rounding otherwise).

    - image_a, image_b: one PIL image each, or one preprocessed pixel tensor (1, 3, H, W) each.
    - n, generator, batch_size, call_kwargs: as in `interpolate_prompts`.

    Refuses: a pipe of another family (naming `interpolate_prompts` for UnCLIPPipeline); images
    that are not one PIL image or one (1, 3, H, W) float tensor each; prompts for Karlo
    variations (they take none) or prompts that are not one str; and what `interpolate_prompts`
    refuses of n, batch_size, generator and call_kwargs (Stable unCLIP: steps >= 1, output_type
    "pil", "np", "pt" or "latent", noise_level within its noising scheduler's range).
    Warns (IdenticalEndsWarning) when both images are the same.
    """
    stable = _check_image_pipe(pipe, "interpolate_images")
    _check_images(image_a=image_a, image_b=image_b)
    n = _check_n(n)
    batch_size = _check_batch_size(batch_size, n)
    _check_generator(generator)
    argument = "image_embeds" if stable else "image_embeddings"
    _check_reserved(
        call_kwargs,
        {"image", "image_embeds", "image_embeddings", "generator", "num_images_per_prompt", "latents",
         "decoder_latents", "super_res_latents", "prompt_embeds", "negative_prompt_embeds"},
        "interpolate_images",
    )
    texts = {}
    if stable:
        # with image_embeds the batch size comes from the prompt, so the prompt is repeated per frame
        for key in ("prompt", "negative_prompt"):
            value = call_kwargs.pop(key, "" if key == "prompt" else None)
            if value is not None and not isinstance(value, str):
                raise TypeError(f"{key} must be one str (repeated for every frame), got {type(value).__name__}")
            texts[key] = value
    elif "prompt" in call_kwargs or "negative_prompt" in call_kwargs:
        raise ValueError(f"call_kwargs: {type(pipe).__name__} takes no prompt (nor negative_prompt)")
    _check_call_kwargs(pipe, call_kwargs, ("pil", "np", "pt", "latent") if stable else ("pil", "np"))

    ts = _frame_ts(n)
    embeds = image_path(pipe, image_a, image_b, ts)

    def per_frame(frames: slice) -> dict:
        k = frames.stop - frames.start
        extra = {key: [value] * k for key, value in texts.items() if value is not None}
        return {argument: embeds[frames], **extra}

    images = _render(pipe, n, batch_size, generator, per_frame, call_kwargs)
    return Frames(t=ts, images=images, embeddings={argument: embeds})

