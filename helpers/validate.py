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

# what a reader is meant to use (the reference page lists these)
__all__ = [
    "integer", "positive_int", "MAX_SEED", "NUMPY_MAX_SEED", "seed", "dtype", "device", "instance",
    "boolean", "number", "one_of", "monotonic", "image_array", "tensor", "keywords", "existing_dir",
    "existing_file", "numeric_array", "init_values",
]


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


MAX_SEED = 2**64 - 1  # torch.Generator.manual_seed takes seeds in [-2^63, 2^64); negatives alias big ones
NUMPY_MAX_SEED = 2**32 - 1  # np.random.seed (the global RNG helpers.setup seeds) takes no more


def seed(name: str, value, *, maximum: int = MAX_SEED) -> int:
    """`value` as an int seed in [0, maximum]: a TypeError for a string ("42"), a float or a bool (a
    seed is never True), a ValueError for a negative seed (torch would alias -1 to 2^64 - 1) or one
    past `maximum`. NumPy ints and 0-d integer arrays are accepted."""
    limit = "2^64 - 1" if maximum == MAX_SEED else "2^32 - 1" if maximum == NUMPY_MAX_SEED else str(maximum)
    accepted = f"{name} must be a non-negative int, at most {limit}"
    if isinstance(value, np.ndarray) and value.ndim == 0 and np.issubdtype(value.dtype, np.integer):
        value = value.item()  # a 0-d integer array (np.array(5)) is one int
    if not _is_int(value):
        hint = f" (write {value.strip()} without quotes)" if isinstance(value, str) and value.strip().isdigit() else ""
        raise TypeError(f"{accepted}, got {type(value).__name__} {value!r}{hint}")
    if not 0 <= int(value) <= maximum:
        raise ValueError(f"{accepted}, got {int(value)}")
    return int(value)


# dtypes a pipeline computes in; integer, complex and float8 dtypes only store weights
FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
# Pipelines whose call needs a CPU op that has no half-precision kernel (measured with torch 2.13: the
# UnCLIP super-resolution's antialiased F.interpolate, "compute_index_ranges_weights" not implemented
# for 'Half' or 'BFloat16'); the other families of helpers.pipelines run in both on the CPU.
CPU_FULL_PRECISION = ("UnCLIPPipeline", "UnCLIPImageVariationPipeline")


def dtype(name: str, value, device=None, *, pipeline: str | None = None) -> torch.dtype:
    """`value` if it is a floating-point torch.dtype that `device` (if given) runs, for `pipeline` (a
    pipeline class name, if given): a TypeError for a non-dtype ("float16"), a ValueError for an
    integer, complex or float8 dtype, float64 on MPS, bfloat16 on a GPU without it, and float16 or
    bfloat16 on the CPU for the pipelines of CPU_FULL_PRECISION."""
    names = ", ".join(f"torch.{str(d).removeprefix('torch.')}" for d in FLOAT_DTYPES)
    if not isinstance(value, torch.dtype):
        named = isinstance(value, str) and isinstance(getattr(torch, value, None), torch.dtype)
        hint = f" (use torch.{value})" if named else ""
        raise TypeError(f"{name} must be a torch.dtype, one of {names}; got {type(value).__name__} {value!r}{hint}")
    if value not in FLOAT_DTYPES:
        raise ValueError(
            f"{name} must be a floating-point dtype a pipeline computes in, one of {names}; got {value} (integer, complex and "
            "float8 dtypes only store weights: quantize with from_pretrained's quantization_config instead)"
        )
    if device is None:
        return value
    kind = torch.device(device).type
    why = None
    if kind == "mps" and value == torch.float64:
        why = "MPS has no float64"
    elif kind == "cuda" and value == torch.bfloat16 and torch.cuda.is_available() and not torch.cuda.is_bf16_supported():
        why = "this GPU has no bfloat16 support"
    elif kind == "cpu" and value in (torch.float16, torch.bfloat16) and pipeline in CPU_FULL_PRECISION:
        why = f"{pipeline}'s super-resolution step has no {value} kernel on the CPU (its call would fail)"
    if why:
        raise ValueError(f"{name}={value} will not run on {kind}: {why}; use torch.float32 there")
    return value


def device(name: str, value) -> torch.device:
    """`value` (a str such as 'cpu' or 'cuda:0', or a torch.device) as a torch.device this machine has:
    a TypeError for another type, a ValueError for a name torch does not know or a CUDA or MPS device
    torch does not see."""
    if not isinstance(value, (str, torch.device)):
        raise TypeError(
            f"{name} must be a device string such as 'cpu' or 'cuda:0', or a torch.device; got {type(value).__name__} {value!r}"
        )
    try:
        chosen = torch.device(value)
    except RuntimeError as error:
        raise ValueError(f"{name}={value!r} is not a torch device ({error}); use 'cpu', 'cuda', 'cuda:0', ...") from None
    if chosen.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{name}={value!r}: torch sees no CUDA device here; use 'cpu'")
    if chosen.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"{name}={value!r}: MPS is not available here; use 'cpu'")
    return chosen


def instance(name: str, value, kind: type | tuple[type, ...], what: str):
    """`value` if it is an instance of `kind` (`what` names it in words, e.g. "a diffusers scheduler");
    a TypeError otherwise, which says when a class was passed instead of an instance of it."""
    if isinstance(value, kind):
        return value
    if isinstance(value, type):
        raise TypeError(f"{name} must be {what}; got the class {value.__name__} itself: pass an instance of it")
    raise TypeError(f"{name} must be {what}; got {type(value).__name__}")


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
    if isinstance(value, (torch.Tensor, np.ndarray)) and value.ndim == 0:
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


def _describe(value) -> str:
    return f"{type(value).__name__} {value!r:.40}"


_NOTHING = object()


def _first(values, wanted):
    """The first item of a nesting of lists and tuples for which `wanted(item)` holds, or _NOTHING."""
    for item in values:
        found = _first(item, wanted) if isinstance(item, (list, tuple)) else item if wanted(item) else _NOTHING
        if found is not _NOTHING:
            return found
    return _NOTHING


def numeric_array(name: str, values, *, ndim: int | None = None) -> np.ndarray:
    """`values` (a list, tuple, NumPy array or tensor of numbers) as a float64 NumPy array.

    A TypeError for a lone string or another non-sequence, and for strings ("0.5" is not parsed),
    bools or other objects among the values; a ValueError for a ragged nesting or, with `ndim`,
    another number of dimensions (a nested list is not flattened)."""
    wanted = f"a {ndim}-d sequence of numbers" if ndim is not None else "a sequence of numbers"
    if isinstance(values, torch.Tensor):
        if values.is_complex() or values.dtype == torch.bool:
            raise TypeError(f"{name} must be {wanted} (real, not bool), got a tensor of dtype {values.dtype}")
        array = values.detach().cpu().double().numpy()
    else:
        if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple, range, np.ndarray)):
            raise TypeError(f"{name} must be {wanted} (a list, tuple, NumPy array or tensor), got {_describe(values)}")
        try:
            array = np.asarray(values)
        except (ValueError, TypeError, RuntimeError):
            raise ValueError(f"{name} must be {wanted}; got a ragged or mixed nesting {values!r:.60}") from None
        flag = _first(values, lambda item: isinstance(item, (bool, np.bool_))) if isinstance(values, (list, tuple)) else _NOTHING
        if flag is not _NOTHING:  # NumPy would read [True, 0.5] as [1.0, 0.5]
            raise TypeError(f"{name} must be {wanted}, got {_describe(flag)} among them")
    if array.dtype.kind == "O" and all(_is_number(v) for v in array.ravel().tolist()):
        array = array.astype(np.float64)
    if array.dtype.kind not in "iuf":
        # the value as given: NumPy turns [1, "a"] into ["1", "a"]
        given = isinstance(values, (list, tuple))
        bad = _first(values, lambda item: not _is_number(item) and not isinstance(item, (torch.Tensor, np.ndarray))) if given else _NOTHING
        if bad is _NOTHING:
            bad = next((v for v in array.ravel().tolist() if not _is_number(v)), None)
        hint = ""
        if isinstance(bad, str):
            try:
                float(bad)
                hint = " (write the numbers without quotes; strings are not parsed)"
            except ValueError:
                pass
        raise TypeError(f"{name} must be {wanted}, got {_describe(bad)} among them{hint}")
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must be {wanted}, got shape {array.shape} (a nested sequence is not flattened)")
    return array.astype(np.float64)


def _hint_members(hint) -> list:
    """The top-level alternatives of a type hint (Optional[Union[int, Tuple[int, int]]] -> int, Tuple, None)."""
    import types
    import typing

    if typing.get_origin(hint) in (typing.Union, getattr(types, "UnionType", typing.Union)):
        return [member for arg in typing.get_args(hint) for member in _hint_members(arg)]
    return [hint]


def _member_accepts(member, value) -> bool:
    """Whether `value` (a str, number or bool) fits one alternative of a hint; True when unsure."""
    import collections.abc
    import typing

    origin = typing.get_origin(member) or member
    if member is typing.Any or isinstance(member, (typing.TypeVar, str)) or not isinstance(origin, type):
        return origin is not typing.Literal or value in typing.get_args(member)
    if member is type(None):
        return value is None
    if origin is str:
        return isinstance(value, str)
    if origin is bool:
        return isinstance(value, (bool, np.bool_, int, np.integer)) and not isinstance(value, str)
    if origin is int:
        return _is_int(value) or isinstance(value, (bool, np.bool_))
    if origin is float:
        return _is_number(value)
    if origin in (tuple, list, collections.abc.Sequence, dict, collections.abc.Mapping):
        return False  # value is a str or a number here
    return isinstance(value, origin) if origin.__module__ != "builtins" or origin is object else False


def init_values(name: str, cls: type, config) -> None:
    """Refuse, in `config` (keyword arguments for `cls(**config)`), a string where `cls.__init__` takes
    a number and a number (or bool) where it takes a string, judged by the parameter's annotation
    when it resolves, else by the type of its default. Other values are left to `cls` (a TypeError
    naming the key, `name[key]`, and what the annotation accepts)."""
    import inspect
    import typing

    try:
        parameters = inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        return
    try:
        hints = typing.get_type_hints(cls.__init__)
    except Exception:  # noqa: BLE001 - an annotation that does not resolve: fall back to the defaults
        hints = {}
    for key, value in config.items():
        if key not in parameters or not isinstance(value, (str, int, float, np.integer, np.floating, np.bool_)):
            continue
        hint, default = hints.get(key), parameters[key].default
        if hint is not None:
            members = _hint_members(hint)
            if any(_member_accepts(member, value) for member in members):
                continue
            accepted = " or ".join(
                "None" if m is type(None) else str(m).replace("typing.", "") if typing.get_args(m) or not isinstance(m, type)
                else m.__name__ for m in members
            )
        elif isinstance(default, str) and not isinstance(value, str):
            accepted = "a str (its default is a str)"
        elif _is_number(default) and isinstance(value, str):
            accepted = f"a number (its default is {default!r})"
        elif isinstance(default, bool) and isinstance(value, str):
            accepted = "True or False (its default is a bool)"
        else:
            continue
        hint_text = ""
        if isinstance(value, str):
            try:
                float(value)
                hint_text = " (write the number without quotes)"
            except ValueError:
                pass
        raise TypeError(f"{name}[{key!r}] must be {accepted} ({cls.__name__}.__init__ takes it so), got {_describe(value)}{hint_text}")
