"""Where the noise comes from: generators for a batch, and Automatic1111's seeds, exactly.

- `batch_generators(seed, n, scheme)`: the generators a diffusers pipeline needs so that image i
  of a batch is reproducible alone. "diffusers": n generators seeded `seed` (each image then
  starts from the same noise; the diffusers docs on reusing seeds show one generator per
  image, generator i seeded i, not this); "a1111": seeded `seed + i`, as Automatic1111 (A1111)
  seeds image i of a batch.
- `a1111_latents(seed, shape, source, ...)`: the initial noise A1111 draws for one image, with its
  "Random number generator source" setting (CPU, GPU, NV), variation seed and "resize seed from".
- `PhiloxGenerator` / `philox4x32_10`: A1111's "NV" source, Philox 4x32-10 plus Box-Muller as
  A1111's modules/rng_philox.py describes it, written here from the published algorithm
  (Salmon et al., SC 2011; Random123). It is what CUDA's `torch.randn` computes, on any device,
  for a float32 draw of at most (SMs x max threads per SM) elements of the GPU compared: beyond
  that, torch's CUDA kernel takes elements from other lanes of earlier threads (derived from
  `calc_execution_policy` in aten/src/ATen/native/cuda/DistributionTemplates.h, not measured).
- `A1111Noise`: the per-image generators A1111's `ImageRNG` keeps for a batch: the first draw is
  the initial noise, later draws feed ancestral and SDE samplers (A1111 routes k-diffusion's
  `torch.randn_like` there).

The facts follow A1111's modules/rng.py, rng_philox.py and processing.py (v1.6 onwards); the
code is this project's own.
"""

from __future__ import annotations

import contextlib
import difflib
import math
from collections.abc import Sequence

import numpy as np
import torch

from . import validate

# what a reader is meant to use (the reference page lists these)
__all__ = [
    "philox4x32_10", "PhiloxGenerator", "batch_generators", "a1111_seeds", "a1111_latents", "A1111Noise",
    "recorded_draws", "brownian_tree_draws",
]

SOURCES = ("cpu", "gpu", "nv")
SCHEMES = ("diffusers", "a1111")
LATENT_FACTOR = 8  # A1111's opt_f: pixels per latent cell, for "resize seed from"
MAX_SEED = validate.MAX_SEED  # torch.Generator.manual_seed takes seeds in [-2^63, 2^64)

# Philox 4x32 constants (Salmon et al. 2011; Random123's philox.h)
PHILOX_M = (0xD2511F53, 0xCD9E8D57)
PHILOX_W = (0x9E3779B9, 0xBB67AE85)
_MASK32 = np.uint64(0xFFFFFFFF)
# Box-Muller constants as A1111 (and cuRAND) state them: 2^-32 and 2^-32 * 2 pi, as float32
TWO_POW32_INV = np.float32(2.3283064e-10)
TWO_POW32_INV_2PI = np.float32(2.3283064e-10 * 6.2831855)


def _check_seed(seed, name: str = "seed") -> int:
    return validate.seed(name, seed, maximum=MAX_SEED)


def _check_count(n, name: str) -> int:
    return validate.positive_int(name, n)


def _check_device(device, name: str = "device") -> torch.device:
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"{name} must be a device string such as 'cpu' or 'cuda:0', or a torch.device, got {type(device).__name__} {device!r}")
    try:
        return torch.device(device)
    except RuntimeError as error:
        raise ValueError(f"{name}={device!r} is not a torch device ({error}); use 'cpu', 'cuda', 'cuda:0', ...") from None


def _check_words(name: str, words) -> np.ndarray:
    """`words` as a uint64 array of 32-bit unsigned integers (refusing floats, negatives and bools)."""
    array = np.asarray(words)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.integer) or array.size == 0):
        raise TypeError(f"{name} must hold 32-bit unsigned integers, got dtype {array.dtype}")
    if array.size and (int(array.min()) < 0 or int(array.max()) > 0xFFFFFFFF):
        raise ValueError(f"{name} words must be 32-bit unsigned integers in [0, 2^32 - 1], got values in [{int(array.min())}, {int(array.max())}]")
    return array.astype(np.uint64)


def _check_shape(shape, name: str = "shape") -> tuple[int, ...]:
    if isinstance(shape, (str, bytes)) or not isinstance(shape, (Sequence, torch.Size)):
        raise TypeError(f"{name} must be a tuple of positive ints, got {type(shape).__name__} ({shape!r})")
    dims = tuple(shape)
    if not dims or any(isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1 for d in dims):
        raise ValueError(f"{name} must be a non-empty tuple of positive ints, got {shape!r}")
    return tuple(int(d) for d in dims)


# The NV source: Philox 4x32-10 and Box-Muller --------------------------------------------------


def philox4x32_10(counter, key) -> np.ndarray:
    """Philox 4x32 with 10 rounds on a batch of counters: `counter` (4, n) and `key` (2, n) or (2,)
    of uint32-range integers -> (4, n) uint32. Checked against Random123's known-answer vectors.

    Each round multiplies words 0 and 2 by the Philox constants (64-bit products split into high
    and low halves) and mixes in the key; the key is bumped by the Weyl constants between rounds.

    Refuses: non-integer or negative words, words of 2^32 or more, a counter without 4 rows or a
    key without 2 rows, a key whose columns do not match the counter's.
    """
    ctr = _check_words("counter", counter)
    k = _check_words("key", key)
    if ctr.ndim == 1:
        ctr = ctr[:, None]
    if k.ndim == 1:
        k = k[:, None]
    if ctr.shape[0] != 4 or k.shape[0] != 2:
        raise ValueError(f"counter must have 4 rows and key 2 rows (uint32 words), got {ctr.shape} and {k.shape}")
    if ctr.ndim != 2 or k.ndim != 2 or k.shape[1] not in (1, ctr.shape[1]):
        raise ValueError(f"counter must be (4, n) and key (2,), (2, 1) or (2, n), got {ctr.shape} and {k.shape}")
    c0, c1, c2, c3 = (ctr[i].copy() for i in range(4))
    k0 = np.broadcast_to(k[0], c0.shape).copy()
    k1 = np.broadcast_to(k[1], c0.shape).copy()
    m0, m1 = np.uint64(PHILOX_M[0]), np.uint64(PHILOX_M[1])
    w0, w1 = np.uint64(PHILOX_W[0]), np.uint64(PHILOX_W[1])
    for round_ in range(10):
        if round_:
            k0 = (k0 + w0) & _MASK32
            k1 = (k1 + w1) & _MASK32
        p0 = c0 * m0  # < 2^64: both factors < 2^32
        p1 = c2 * m1
        c0, c1, c2, c3 = (p1 >> np.uint64(32)) ^ c1 ^ k0, p1 & _MASK32, (p0 >> np.uint64(32)) ^ c3 ^ k1, p0 & _MASK32
    return np.stack([c0, c1, c2, c3]).astype(np.uint32)


def box_muller(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The first normal of the Box-Muller pair from two uint32 words, as float32:
    sqrt(-2 log u) sin(v), u and v mid-point uniforms in (0, 1) and (0, 2 pi).

    The products are taken in float64 (numpy promotes uint32 x float32 so, as in A1111's code) and
    rounded to float32 at the end; CUDA computes in float32, hence agreement to float32 precision.

    Refuses: x or y not integer words in [0, 2^32), and x and y of different shapes.
    """
    x, y = _check_words("x", x), _check_words("y", y)
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same shape (one pair of words per normal), got {x.shape} and {y.shape}")
    u = x.astype(np.uint32) * TWO_POW32_INV + TWO_POW32_INV / 2
    v = y.astype(np.uint32) * TWO_POW32_INV_2PI + TWO_POW32_INV_2PI / 2
    return (np.sqrt(-2.0 * np.log(u)) * np.sin(v)).astype(np.float32)


class PhiloxGenerator:
    """A1111's "NV" random source: `randn(shape)` gives what `torch.randn(shape, device="cuda")`
    gives after `torch.manual_seed(seed)`, computed on the CPU with numpy, while the draw has at
    most (SMs x max threads per SM) elements on that GPU: every element is then the first
    Box-Muller value of its own CUDA thread, which is what this port computes (module docstring).

    Element i of a draw uses the counter (offset, 0, i, 0) and the key (seed's low word, seed's high
    word); words 0 and 1 of the output feed Box-Muller, 2 and 3 are discarded. Each draw moves
    `offset` on by one, as A1111 does (so only a seed's first draw is claimed to match CUDA). At most
    2^32 elements per draw.

    Refuses: a seed that is not an int in [0, 2^64 - 1]; in `randn`, a shape that is not a tuple of
    positive ints or holds more than 2^32 elements.
    """

    def __init__(self, seed: int):
        self.seed = _check_seed(seed)
        self.offset = 0

    def randn(self, shape) -> torch.Tensor:
        dims = _check_shape(shape)
        n = math.prod(dims)
        if n > 2**32:
            raise ValueError(f"one draw holds at most 2^32 elements, got {n} for shape {dims}")
        counter = np.zeros((4, n), dtype=np.uint64)
        counter[0] = self.offset
        counter[2] = np.arange(n, dtype=np.uint64)
        key = np.array([self.seed & 0xFFFFFFFF, self.seed >> 32], dtype=np.uint64)
        words = philox4x32_10(counter, key)
        self.offset += 1
        return torch.from_numpy(box_muller(words[0], words[1]).reshape(dims))


# Generators for a diffusers batch --------------------------------------------------------------


def batch_generators(seed: int, n: int, scheme: str = "diffusers", device: str | torch.device = "cpu") -> list[torch.Generator]:
    """`n` generators on `device`, one per image of a batch: a diffusers pipeline given this list
    draws image i's noise (initial latents and every per-step draw) from generator i only, so
    image i can be reproduced alone with a batch of one and generator i.

    scheme "diffusers": every generator seeded `seed` (all images start from the same noise);
    "a1111": generator i seeded `seed + i`, A1111's seeds for a batch (with its CPU source, and
    its GPU source when `device` is CUDA and A1111 runs on CUDA; without a CUDA GPU A1111's GPU
    source draws on the CPU). CPU generators give the same numbers on every machine up to the last
    bits (torch's vectorised and portable CPU kernels round differently).

    Refuses: a seed outside [0, 2^64 - 1] or not an int, n not an int >= 1, an unknown scheme
    (with a did-you-mean), a device torch does not know or does not see (cuda without CUDA), seed + n - 1
    past the largest seed.
    """
    seed = _check_seed(seed)
    n = _check_count(n, "n")
    validate.one_of("scheme", scheme, SCHEMES)
    device = validate.device("device", device)
    if seed + n - 1 > MAX_SEED:
        raise ValueError(f"seed + n - 1 = {seed + n - 1} exceeds the largest seed 2^64 - 1")
    step = 1 if scheme == "a1111" else 0
    return [torch.Generator(device=device).manual_seed(seed + step * i) for i in range(n)]


# Automatic1111's seeds ------------------------------------------------------------------------


def a1111_seeds(seed: int, n: int, subseed: int | None = None, subseed_strength: float = 0.0) -> tuple[list[int], list[int]]:
    """The seeds and variation seeds A1111 gives the `n` images of a generation
    (processing.py, `process_images_inner`): seed + i, unless a variation strength is set; then
    every image keeps `seed` and the variation seed counts up instead, subseed + i.

    Refuses: seeds that are not ints in [0, 2^64 - 1], n not an int >= 1, a strength outside
    [0, 1] or NaN."""
    seed = _check_seed(seed)
    n = _check_count(n, "n")
    strength = _check_strength(subseed_strength)
    sub = 0 if subseed is None else _check_seed(subseed, "subseed")
    seeds = [seed + (i if strength == 0 else 0) for i in range(n)]
    return seeds, [sub + i for i in range(n)]


def _check_strength(strength, name: str = "subseed_strength") -> float:
    return validate.number(name, strength, minimum=0, maximum=1)


def a1111_slerp(val: float, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
    """A1111's `slerp` (modules/rng.py), applied to one image's (C, H, W) noise as A1111 applies it:
    norms and angles are taken along dim 1, so each (channel, column) vector of H values is
    interpolated on its own great circle; nearly parallel inputs (mean cosine > 0.9995) are
    mixed linearly, weights `val` on `low` and `1 - val` on `high`, exactly as A1111 writes it.

    Refuses: `val` outside [0, 1] or NaN, `low`/`high` that are not tensors of one shape with at
    least 2 dimensions, NaN or infinite values, and a zero vector along dim 1 (its direction, and
    so the result, is undefined: A1111 would return NaN).
    """
    val = validate.number("val", val, minimum=0, maximum=1)
    for name, tensor in (("low", low), ("high", high)):
        if not isinstance(tensor, torch.Tensor) or not tensor.is_floating_point():
            raise TypeError(f"{name} must be a float tensor (one image's (C, H, W) noise), got {type(tensor).__name__}")
        if tensor.ndim < 2:
            raise ValueError(f"{name} must have at least 2 dimensions ((C, H, W) noise), got shape {tuple(tensor.shape)}")
        if not torch.isfinite(tensor).all():
            raise ValueError(f"{name} holds NaN or infinite values")
        if bool((torch.norm(tensor, dim=1) == 0).any()):  # exact: a norm is 0 only for all-zero entries
            raise ValueError(f"{name} has a zero vector along dim 1: its direction is undefined (A1111's slerp gives NaN)")
    if low.shape != high.shape:
        raise ValueError(f"low and high must have the same shape, got {tuple(low.shape)} and {tuple(high.shape)}")
    low_unit = low / torch.norm(low, dim=1, keepdim=True)
    high_unit = high / torch.norm(high, dim=1, keepdim=True)
    dot = (low_unit * high_unit).sum(1)
    if dot.mean() > 0.9995:
        return low * val + high * (1 - val)
    omega = torch.acos(dot)
    so = torch.sin(omega)
    return (torch.sin((1.0 - val) * omega) / so).unsqueeze(1) * low + (torch.sin(val * omega) / so).unsqueeze(1) * high


def _fresh_draw(seed: int, shape: tuple[int, ...], source: str, device) -> torch.Tensor:
    """A seed's first draw at `shape` from `source` (A1111's `randn(seed, shape)`), on the CPU."""
    if source == "nv":
        return PhiloxGenerator(seed).randn(shape)
    generator = torch.Generator(device=device).manual_seed(seed)
    return torch.randn(shape, generator=generator, device=device).cpu()


def _source_device(source: str, device) -> torch.device:
    if not isinstance(source, str) or source not in SOURCES:
        close = difflib.get_close_matches(str(source).lower(), SOURCES, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"source must be one of {', '.join(repr(s) for s in SOURCES)} (A1111's CPU, GPU, NV), got {source!r}{hint}")
    if source == "gpu":
        chosen = torch.device("cuda") if device is None else _check_device(device)
        if chosen.type != "cuda":
            raise ValueError(f"source 'gpu' draws on a CUDA device, got device={device!r}")
        if not torch.cuda.is_available():
            raise RuntimeError("source 'gpu' needs CUDA and torch sees none; source 'nv' computes CUDA's numbers on the CPU")
        return chosen
    if device is not None:
        raise ValueError(f"device is only for source 'gpu'; source {source!r} draws on the CPU")
    return torch.device("cpu")


def a1111_latents(
    seed: int,
    shape,
    source: str = "cpu",
    subseed: int | None = None,
    subseed_strength: float = 0.0,
    seed_resize_from: tuple[int, int] | None = None,
    device: str | torch.device | None = None,
) -> torch.Tensor:
    """The initial noise A1111 draws for one image with seed `seed`: float32 (C, H, W) on the CPU
    (A1111's `ImageRNG.first`, modules/rng.py). `shape` is the latent shape (4, height // 8, width // 8).

    - source: "cpu" (`torch.randn` with a CPU generator), "gpu" (a CUDA generator; `device`
      picks the GPU; needs CUDA), "nv" (`PhiloxGenerator`, CUDA's numbers on any device).
    - subseed, subseed_strength: the variation seed; the seed's noise and the variation seed's are
      mixed with `a1111_slerp(subseed_strength, noise, subnoise)`. A strength of 0 ignores it;
      a strength > 0 without a subseed uses 0 (A1111 replaces a missing subseed by 0).
    - seed_resize_from: (height, width) in pixels. The seed's noise is drawn at that size
      (// 8) and its centre is pasted into the centre of a fresh draw of the seed at `shape`
      (cropped when the old size is larger), so a picture keeps its composition when resized.

    Refuses (before drawing) negative or non-int seeds, a shape that is not (C, H, W) of positive
    ints, an unknown source, a strength outside [0, 1] or NaN, a resize size below 8 pixels, a
    device with a source other than "gpu".
    """
    seed = _check_seed(seed)
    dims = _check_shape(shape)
    if len(dims) != 3:
        raise ValueError(f"shape must be one image's latent shape (C, H, W), got {dims}")
    strength = _check_strength(subseed_strength)
    sub = None if subseed is None else _check_seed(subseed, "subseed")
    rand_device = _source_device(source, device)
    noise_shape = dims
    if seed_resize_from is not None:
        size = _check_shape(seed_resize_from, "seed_resize_from")
        if len(size) != 2 or min(size) < LATENT_FACTOR:
            raise ValueError(f"seed_resize_from must be (height, width) in pixels, each >= {LATENT_FACTOR}, got {seed_resize_from!r}")
        noise_shape = (dims[0], size[0] // LATENT_FACTOR, size[1] // LATENT_FACTOR)

    noise = _fresh_draw(seed, noise_shape, source, rand_device)
    if strength != 0:
        subnoise = _fresh_draw(0 if sub is None else sub, noise_shape, source, rand_device)
        noise = a1111_slerp(strength, noise, subnoise)
    if noise_shape != dims:
        x = _fresh_draw(seed, dims, source, rand_device)
        # centre the old noise in the new canvas; a negative offset crops the old noise instead
        dx, dy = (dims[2] - noise_shape[2]) // 2, (dims[1] - noise_shape[1]) // 2
        w = noise_shape[2] if dx >= 0 else noise_shape[2] + 2 * dx
        h = noise_shape[1] if dy >= 0 else noise_shape[1] + 2 * dy
        tx, ty, sx, sy = max(dx, 0), max(dy, 0), max(-dx, 0), max(-dy, 0)
        x[:, ty : ty + h, tx : tx + w] = noise[:, sy : sy + h, sx : sx + w]
        noise = x
    return noise


class A1111Noise:
    """The noise A1111 hands a batch (its `ImageRNG`): one generator per image, seeded with the
    image's seed; `next()` returns (n, C, H, W). The first call is the initial noise (exactly
    `a1111_latents` per image, variation and resize included); each later call is the next draw
    of every image's own generator, which is what A1111's samplers get for `torch.randn_like`.

    `eta_noise_seed_delta` is A1111's "Eta noise seed delta" setting (ENSD, default 0): when it is
    not 0, A1111 (1.6.0 and later, `ImageRNG.first` in modules/rng.py) reseeds every image's
    generator with `seed + eta_noise_seed_delta` right after the initial noise, so the initial
    noise is unchanged and every later draw (the step noise ancestral samplers take through
    `torch.randn_like`) comes from the new generators, from their first draw.

    Refuses (at construction, before drawing): `seeds` that is not a non-empty list of ints in
    [0, 2^64 - 1], a shape that is not (C, H, W), subseeds that are not a list of such ints or
    longer than `seeds`, a strength outside [0, 1], a bad `seed_resize_from`, an unknown source,
    an `eta_noise_seed_delta` that is not an int or that takes a seed outside [0, 2^64 - 1].
    """

    def __init__(self, seeds: Sequence[int], shape, source: str = "cpu", subseeds: Sequence[int] | None = None,
                 subseed_strength: float = 0.0, seed_resize_from: tuple[int, int] | None = None,
                 device: str | torch.device | None = None, eta_noise_seed_delta: int = 0):
        if isinstance(seeds, (int, np.integer, str)) or not isinstance(seeds, Sequence) or not seeds:
            raise TypeError(f"seeds must be a non-empty list of ints (one per image), got {seeds!r}")
        self.seeds = [_check_seed(s, "seeds[i]") for s in seeds]
        self.shape = _check_shape(shape)
        if len(self.shape) != 3:
            raise ValueError(f"shape must be one image's latent shape (C, H, W), got {self.shape}")
        if subseeds is not None:
            if isinstance(subseeds, (int, np.integer, str)) or not isinstance(subseeds, Sequence):
                raise TypeError(f"subseeds must be a list of ints (one per image) or None, got {subseeds!r}")
            if len(subseeds) > len(self.seeds):
                raise ValueError(f"subseeds has {len(subseeds)} entries for {len(self.seeds)} seeds; give at most one per image")
        self.subseeds = None if subseeds is None else [_check_seed(s, "subseeds[i]") for s in subseeds]
        self.strength = _check_strength(subseed_strength)
        if seed_resize_from is not None:
            size = _check_shape(seed_resize_from, "seed_resize_from")
            if len(size) != 2 or min(size) < LATENT_FACTOR:
                raise ValueError(f"seed_resize_from must be (height, width) in pixels, each >= {LATENT_FACTOR}, got {seed_resize_from!r}")
        self.resize = seed_resize_from
        self.source = source
        self.device = _source_device(source, device)
        if isinstance(eta_noise_seed_delta, bool) or not isinstance(eta_noise_seed_delta, (int, np.integer)):
            raise TypeError(f"eta_noise_seed_delta must be an int (A1111's ENSD), got {eta_noise_seed_delta!r}")
        self.ensd = int(eta_noise_seed_delta)
        if self.ensd:
            for s in self.seeds:
                if not 0 <= s + self.ensd <= MAX_SEED:
                    raise ValueError(
                        f"seed {s} + eta_noise_seed_delta {self.ensd} = {s + self.ensd} is outside [0, 2^64 - 1]"
                    )
        self.generators = [self._generator(s) for s in self.seeds]
        self.draws = 0

    def _generator(self, seed: int):
        if self.source == "nv":
            return PhiloxGenerator(seed)
        return torch.Generator(device=self.device).manual_seed(seed)

    def next(self) -> torch.Tensor:
        if self.draws == 0:
            images = []
            for i, (seed, generator) in enumerate(zip(self.seeds, self.generators)):
                sub = None if self.subseeds is None else (self.subseeds[i] if i < len(self.subseeds) else 0)
                images.append(a1111_latents(seed, self.shape, self.source, sub, self.strength, self.resize,
                                            device=self.device if self.source == "gpu" else None))
                self._draw(generator)  # the image's generator has now given its first draw, as in A1111
            out = torch.stack(images)
            if self.ensd:  # A1111's ImageRNG.first: fresh generators seeded seed + ENSD for the later draws
                self.generators = [self._generator(s + self.ensd) for s in self.seeds]
        else:
            out = torch.stack([self._draw(g) for g in self.generators])
        self.draws += 1
        return out

    def _draw(self, generator) -> torch.Tensor:
        if isinstance(generator, PhiloxGenerator):
            return generator.randn(self.shape)
        return torch.randn(self.shape, generator=generator, device=self.device).cpu()


@contextlib.contextmanager
def recorded_draws(module):
    """Within the block, every `randn_tensor` call made by `module` (a diffusers scheduler module,
    which imports `randn_tensor` by name) is recorded: yields a list that fills with the drawn
    tensors, in order. The draws themselves are unchanged.

    Refuses (TypeError): a `module` with no `randn_tensor` to wrap."""
    original = getattr(module, "randn_tensor", None)
    if original is None:
        hint = f"; pass its module, sys.modules[{type(module).__module__!r}]" if hasattr(module, "step") else ""
        got = getattr(module, "__name__", type(module).__name__)
        raise TypeError(
            "module must be a Python module that draws noise through randn_tensor (a diffusers scheduler module such "
            f"as diffusers.schedulers.scheduling_euler_ancestral_discrete), got {got}{hint}"
        )
    draws: list[torch.Tensor] = []

    def recording(*args, **kwargs):
        tensor = original(*args, **kwargs)
        draws.append(tensor.detach().clone())
        return tensor

    module.randn_tensor = recording
    try:
        yield draws
    finally:
        module.randn_tensor = original


# --- where torchsde's Brownian tree draws its numbers -----------------------------------------------
# Where torchsde's Brownian tree draws its numbers: the device and dtype of every draw.
#
# `DPMSolverSDEScheduler` (A1111's "DPM++ SDE") takes its noise from a `BrownianTreeNoiseSampler`,
# whose torchsde tree draws each number with a generator it creates itself, in
# `torchsde._brownian.brownian_interval._randn(size, dtype, device, seed)`: the pipeline's generator
# never reaches it. A1111 replaces that function with its own; `brownian_tree_draws()` wraps it for
# the duration of a block, so a chapter can show which device and dtype the tree draws on.


@contextlib.contextmanager
def brownian_tree_draws():
    """Yields a list that fills with `(torch.device, torch.dtype)`, one per number draw torchsde's
    Brownian tree makes inside the block, in order.

    The draws themselves are unchanged, except on the `meta` device, where no generator exists:
    there a draw is an empty tensor of its size and dtype, so a scheduler step on meta tensors runs
    (shapes only). torchsde's function is put back when the block ends, even when it raises. Takes
    no arguments.
    """
    import torchsde._brownian.brownian_interval as brownian_interval  # here: only the SDE samplers need torchsde

    original = brownian_interval._randn
    draws: list[tuple[torch.device, torch.dtype]] = []

    def recording(size, dtype, device, seed):
        draws.append((torch.device(device), dtype))
        if torch.device(device).type == "meta":  # no generator exists there: shapes only
            return torch.empty(size, dtype=dtype, device=device)
        return original(size, dtype, device, seed)

    brownian_interval._randn = recording
    try:
        yield draws
    finally:
        brownian_interval._randn = original
