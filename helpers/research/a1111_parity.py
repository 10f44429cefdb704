"""Do diffusers' samplers compute what Automatic1111 computes? k-diffusion side by side, on exact data.

Automatic1111 samples with k-diffusion. This module drives k-diffusion's own sampler functions and
the diffusers scheduler that `helpers.schedulers.SAMPLERS` names for the same A1111 sampler with
one perfect network (`helpers.research.mixture.MixtureModel`), from the same start noise, and reports how far
the final samples are apart, with and without the known adjustments (`ADJUSTMENTS`).

- `KSAMPLERS`: what A1111 runs for each name, and `ADJUSTMENTS`: views of `helpers.schedulers.SAMPLERS`,
  the one table of what A1111 does per sampler; `a1111_sigmas`, `diffusers_sigmas`: the two sigma lists.
- `k_sample`: k-diffusion's sampler on the exact denoiser; `parity_row`, `parity_table`: the study;
  `same_rule_gap`: one column of a row alone.
- `fixed_third_order_sde`: diffusers' third-order SDE step with the sign of the 0.5 in its D2
  coefficient corrected.

k-diffusion is imported through `helpers.research.kdiffusion` (the optional `parity` extra).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from .. import schedulers, validate
from ..models import shipped_configs
from . import kdiffusion
from .mixture import (
    GaussianMixture,
    MixtureModel,
    a1111_timesteps,
    check_mixture,
    check_steps,
    keeps_ve_state,
    one_thread,
    run,
)
from ..notices import quiet_diffusers

# what a reader is meant to use (the reference page lists these)
__all__ = [
    "KSAMPLERS", "a1111_sigmas", "diffusers_sigmas", "k_sample", "fixed_third_order_sde", "ADJUSTMENTS",
    "parity_row", "same_rule_gap", "parity_table", "max_gap",
]

# What Automatic1111 runs for each name ---------------------------------------------------------

# defined beside schedulers.SAMPLERS, whose rows hold them; still importable from here
Adjustment = schedulers.Adjustment


@dataclass(frozen=True)
class KSampler:
    """An A1111 sampler as A1111 configures k-diffusion (modules/sd_samplers_kdiffusion.py).

    `function`: the k_diffusion.sampling function; `schedule`: "uniform" (the model's own discrete
    schedule, linear in t), "karras" or "exponential" (k-diffusion's get_sigmas_karras /
    get_sigmas_exponential between the smallest and largest training sigma);
    `discard_next_to_last_sigma`: A1111 asks for steps + 1 sigmas and drops the next-to-last one;
    `noise`: "none", "randn" (a fresh normal draw per step) or "brownian" (k-diffusion's
    Brownian-tree noise sampler); `options`: keyword arguments A1111 passes to the function
    (`solver_type="heun"` for the "DPM++ 2M SDE Heun" names). A view of a `schedulers.SAMPLERS` row.
    """

    name: str
    function: str
    schedule: str = "uniform"
    discard_next_to_last_sigma: bool = False
    noise: str = "none"
    options: Mapping = field(default_factory=dict)

    @property
    def karras(self) -> bool:
        return self.schedule == "karras"


# the SAMPLERS rows A1111 runs through a k-diffusion function, in SAMPLERS' order
KSAMPLERS: dict[str, KSampler] = {
    name: KSampler(name, s.k_function, s.schedule, s.discard_next_to_last_sigma, s.noise, s.k_options)
    for name, s in schedulers.SAMPLERS.items()
    if s.k_function is not None
}


def _check_name(name: str, argument: str = "name") -> KSampler:
    if not isinstance(name, str):
        raise TypeError(f"{argument} must be an A1111 sampler name (a string such as 'Euler'), got {type(name).__name__} {name!r}")
    if name not in KSAMPLERS:
        try:
            validate.one_of(argument, name, KSAMPLERS)
        except ValueError as error:  # keep validate's did-you-mean, lead with what is missing
            hint = str(error).split(" is not accepted")[1].split(";")[0]
            raise ValueError(f"{argument}: no k-diffusion sampler for {name!r}{hint}; known: {', '.join(KSAMPLERS)}") from None
    return KSAMPLERS[name]


def _check_alphas(alphas_cumprod) -> torch.Tensor:
    """alphas_cumprod as float32, refused unless 1-d, in (0, 1) and decreasing (noise grows with t)."""
    if not isinstance(alphas_cumprod, (torch.Tensor, list, tuple)) and not hasattr(alphas_cumprod, "__array__"):
        raise TypeError(f"alphas_cumprod must be a 1-d tensor (scheduler.alphas_cumprod), got {type(alphas_cumprod).__name__}")
    values = validate.monotonic("alphas_cumprod", alphas_cumprod, decreasing=True, strict=False)
    if not bool(((values > 0) & (values < 1)).all()):
        raise ValueError("alphas_cumprod must lie in (0, 1) (a zero-terminal-SNR schedule has no finite sigma_max)")
    return values.float()


def a1111_sigmas(name: str, steps: int, alphas_cumprod) -> torch.Tensor:
    """The sigmas A1111 hands k-diffusion for `name` at `steps` (float32, ending with 0).

    Built with k-diffusion's own `DiscreteSchedule.get_sigmas` (A1111's "Uniform"),
    `get_sigmas_karras` or `get_sigmas_exponential` between the smallest and largest training
    sigma, as A1111 does, and A1111's discard_next_to_last_sigma rule.
    """
    spec = _check_name(name)
    steps = check_steps(steps)
    alphas_cumprod = _check_alphas(alphas_cumprod)
    k = kdiffusion.import_k_diffusion()
    schedule = k.external.DiscreteSchedule(((1 - alphas_cumprod) / alphas_cumprod) ** 0.5, quantize=False)
    n = steps + 1 if spec.discard_next_to_last_sigma else steps
    if spec.schedule == "karras":
        sigmas = k.sampling.get_sigmas_karras(n, schedule.sigma_min.item(), schedule.sigma_max.item())
    elif spec.schedule == "exponential":
        sigmas = k.sampling.get_sigmas_exponential(n, schedule.sigma_min.item(), schedule.sigma_max.item())
    else:
        sigmas = schedule.get_sigmas(n)
    if spec.discard_next_to_last_sigma:
        sigmas = torch.cat([sigmas[:-2], sigmas[-1:]])
    return sigmas.float()


def diffusers_sigmas(scheduler, steps: int) -> torch.Tensor:
    """The distinct sigmas a diffusers scheduler steps through at `steps`, k-diffusion style
    (float32, ending with its final sigma). Heun and DPM2 list each inner sigma twice; the
    repeats are dropped. Alpha-based schedulers (DDIM, PNDM) have none: ValueError."""
    steps = check_steps(steps)
    if isinstance(scheduler, type):
        raise TypeError(
            f"scheduler must be a diffusers scheduler instance (e.g. schedulers.make(...) or pipe.scheduler), "
            f"got the class {scheduler.__name__} itself"
        )
    if not hasattr(scheduler, "set_timesteps") or not hasattr(scheduler, "config"):
        raise TypeError(f"scheduler must be a diffusers scheduler, got {type(scheduler).__name__}")
    if not hasattr(scheduler, "sigmas"):
        raise ValueError(
            f"scheduler must be a k-diffusion style (sigma-based) sampler such as Euler or DPM++ 2M; "
            f"{type(scheduler).__name__} has no sigmas"
        )
    _, sigmas = schedulers.schedule(scheduler, steps)
    return torch.unique_consecutive(torch.from_numpy(sigmas).float())


class _Noise:
    """k-diffusion noise sampler that draws what a diffusers scheduler draws: one
    torch.randn(shape, generator=generator) per call."""

    def __init__(self, like: torch.Tensor, generator: torch.Generator):
        self.shape, self.dtype, self.generator = like.shape, like.dtype, generator

    def __call__(self, sigma, sigma_next):
        return torch.randn(self.shape, generator=self.generator, dtype=self.dtype)


def k_sample(
    name: str,
    mixture: GaussianMixture,
    z: torch.Tensor,
    sigmas: torch.Tensor,
    alphas_cumprod,
    *,
    x_start: torch.Tensor | None = None,
    noise: str | None = None,
    generator: torch.Generator | None = None,
    seed: int | Sequence[int] = 0,
    quantize: bool = False,
) -> torch.Tensor:
    """Run k-diffusion's sampler for `name` on `sigmas`, from z * sigmas[0] (or `x_start`, a VE state).

    The network is `MixtureModel` (epsilon prediction) behind k-diffusion's own
    `DiscreteEpsDDPMDenoiser`, the wrapper A1111 uses for SD 1.5, with continuous timesteps
    (`quantize=True`: rounded to integers, A1111's "Enable quantization in K samplers").
    Noise of stochastic samplers (`noise` overrides A1111's choice): "randn" draws one
    torch.randn per step from `generator` (as a diffusers scheduler does); "brownian" is
    k-diffusion's Brownian tree with `seed`: an int gives one tree for the whole tensor (A1111
    with one image per generation, the rows standing for that image's numbers); a list of ints,
    one per row of z, gives each row its own tree, as A1111 seeds one tree per image of a
    batch (`create_noise_sampler(..., seed=current_iter_seeds)`, seeds `seed + i`). The tree
    draws on z's device (torchsde's `_randn`).

    Refuses, before importing k-diffusion: a name KSAMPLERS lacks (with the closest one); sigmas that
    are not strictly decreasing, hold NaN or go below 0 (k-diffusion itself returns all-NaN samples
    for flipped sigmas); alphas_cumprod outside (0, 1) or increasing; z or x_start of the wrong
    shape or with NaN; noise for a deterministic sampler; "randn" noise without a generator; a
    seed list whose length is not z's row count, or holding a negative or non-int seed.
    """
    spec = _check_name(name)
    noise = spec.noise if noise is None else noise
    if noise not in ("none", "randn", "brownian"):
        raise ValueError(f"noise must be 'none', 'randn' or 'brownian', got {noise!r}")
    if spec.noise == "none" and noise != "none":
        raise ValueError(f"noise: {name!r} is deterministic: it takes no noise")
    check_mixture(mixture)
    if not isinstance(z, torch.Tensor) or not torch.is_floating_point(z) or z.ndim != 2 or z.shape[1] != mixture.dim:
        raise ValueError(f"z must be a float tensor of shape (n, {mixture.dim}), got {getattr(z, 'shape', type(z).__name__)}")
    if not bool(torch.isfinite(z).all()):
        raise ValueError("z holds NaN or infinite values")
    if x_start is not None and (not isinstance(x_start, torch.Tensor) or x_start.shape != z.shape):
        raise ValueError(f"x_start must be None or a tensor of z's shape {tuple(z.shape)}, got {getattr(x_start, 'shape', x_start)!r}")
    # k-diffusion steps from sigmas[i] to sigmas[i + 1]; flipped sigmas give all-NaN samples, not an error
    sigmas = validate.monotonic("sigmas", sigmas, decreasing=True).float()
    if float(sigmas[-1]) < 0:
        raise ValueError(f"sigmas must be >= 0 (the last one usually 0), got {float(sigmas[-1])}")
    alphas_cumprod = _check_alphas(alphas_cumprod)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    seed = _check_tree_seed(seed, z.shape[0])
    if not isinstance(quantize, (bool, np.bool_)):
        raise TypeError(f"quantize must be True or False, got {quantize!r}")
    k = kdiffusion.import_k_diffusion()
    network = MixtureModel(mixture, alphas_cumprod, "epsilon")
    denoiser = k.external.DiscreteEpsDDPMDenoiser(network, alphas_cumprod, quantize=quantize)
    x = z.float() * sigmas[0] if x_start is None else x_start.float()
    extra = {}
    if noise == "randn":
        if generator is None:
            raise ValueError("generator: noise='randn' needs a torch.Generator to draw from (the one the start noise came from)")
        extra["noise_sampler"] = _Noise(x, generator)
    elif noise == "brownian":
        positive = sigmas[sigmas > 0]
        extra["noise_sampler"] = k.sampling.BrownianTreeNoiseSampler(x, positive.min(), positive.max(), seed=seed)
    with one_thread(), quiet_diffusers(), torch.no_grad():
        return getattr(k.sampling, spec.function)(denoiser, x, sigmas, disable=True, **spec.options, **extra)


def _check_tree_seed(seed, rows: int) -> int | list[int]:
    """An int (one Brownian tree) or a list of ints, one per row (one tree per image)."""
    if isinstance(seed, (list, tuple)):
        if len(seed) != rows:
            raise ValueError(
                f"seed: a list gives each row of z its own Brownian tree (A1111's per-image seeds) and needs "
                f"one seed per row ({rows}), got {len(seed)}"
            )
        return [validate.integer("seed[]", s, minimum=0) for s in seed]
    return validate.integer("seed", seed, minimum=0)


_BUGGY_D2 = "+ (alpha_t * ((1.0 - torch.exp(-2.0 * h) - 2.0 * h) / (2.0 * h) ** 2 - 0.5)) * D2"
_FIXED_D2 = "+ (alpha_t * ((1.0 - torch.exp(-2.0 * h) - 2.0 * h) / (2.0 * h) ** 2 + 0.5)) * D2"


@contextlib.contextmanager
def fixed_third_order_sde():
    """For the duration, DPMSolverMultistepScheduler's third-order sde-dpmsolver++ step with the
    sign of the 0.5 in its D2 coefficient corrected (`- 0.5` -> `+ 0.5`), everything else diffusers'
    own code.

    Why: the coefficient must vanish as the step h -> 0 (as the ODE branch's does); diffusers
    0.42.1's tends to -1. k-diffusion's sample_dpmpp_3m_sde has `+ 0.5` (-phi_3 with phi_3 =
    phi_2 / h_eta - 0.5). RuntimeError, before any change, if the installed source no longer holds
    the line this fixes.
    """
    import inspect
    import textwrap

    from diffusers.schedulers import scheduling_dpmsolver_multistep as module

    cls = module.DPMSolverMultistepScheduler
    original = cls.multistep_dpm_solver_third_order_update
    source = textwrap.dedent(inspect.getsource(original))
    if source.count(_BUGGY_D2) != 1:
        raise RuntimeError("diffusers changed DPMSolverMultistepScheduler.multistep_dpm_solver_third_order_update: no fix to apply")
    namespace: dict = {}
    exec(compile(source.replace(_BUGGY_D2, _FIXED_D2), inspect.getsourcefile(original), "exec"), module.__dict__, namespace)
    cls.multistep_dpm_solver_third_order_update = namespace[original.__name__]
    try:
        yield
    finally:
        cls.multistep_dpm_solver_third_order_update = original


# The parity table ------------------------------------------------------------------------------

# a known cause of disagreement for each name that has one, and the adjustment that removes it: the
# `adjustment` of its SAMPLERS row, with the row's full `cause`
ADJUSTMENTS: dict[str, Adjustment] = {
    name: dataclasses.replace(s.adjustment, cause=s.cause)
    for name, s in schedulers.SAMPLERS.items()
    if s.adjustment is not None
}


_BUILT: dict = {}


def _made(name: str, base: Mapping, **overrides):
    """`schedulers.make(name, base, **overrides)`, built once per configuration and handed out as a
    copy (KDPM2 schedulers take about a second to construct; a copy of the fresh one is the same
    scheduler)."""
    key = (name, repr(sorted(base.items())), repr(sorted(overrides.items())))
    if key not in _BUILT:
        _BUILT[key] = schedulers.make(name, base, **overrides)
    return copy.deepcopy(_BUILT[key])


def _stream(seed: int, shape) -> tuple[torch.Tensor, torch.Generator]:
    """The start noise and the generator that drew it: per-step noise continues the same stream,
    as in a diffusers pipeline (latents first, then scheduler.step) and in A1111."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=generator), generator


def _seeds_tree(scheduler) -> bool:
    """Whether the scheduler draws Brownian-tree noise with a `noise_sampler_seed` (DPMSolverSDEScheduler)."""
    return "noise_sampler_seed" in getattr(scheduler, "config", {})


def _diffusers_side(name: str, base: dict, mixture, shape, steps: int, seed: int, adjustment: Adjustment | None = None, built=None):
    """The diffusers sample for `name`, adjusted or not; `built` reuses a scheduler made for the
    unadjusted case (a copy runs: KDPM2 schedulers take seconds to construct).

    A Brownian tree without `noise_sampler_seed` draws its seed from torch's global generator;
    that generator is forked and seeded with `seed` around the run, so "as shipped" is the same on
    every run.
    """
    import diffusers

    z, generator = _stream(seed, shape)
    if adjustment is None:
        adjustment = Adjustment("", "")
        scheduler = copy.deepcopy(built) if built is not None else _made(name, base)
    elif adjustment.scheduler_class is not None:
        cls = getattr(diffusers, adjustment.scheduler_class)
        with quiet_diffusers():
            scheduler = cls.from_config(base, **adjustment.overrides)
    elif adjustment.overrides or built is None:
        scheduler = _made(name, base, **adjustment.overrides)
    else:
        scheduler = copy.deepcopy(built)
    if adjustment.seed_tree:
        scheduler.noise_sampler_seed = seed  # what from_config(..., noise_sampler_seed=seed) sets
    plan = a1111_timesteps(steps, scheduler.config.num_train_timesteps) if adjustment.a1111_timesteps else steps
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return run(scheduler, mixture, z, plan, generator=generator, start=adjustment.start).sample


def _k_side(name: str, mixture, shape, sigmas, alphas, seed: int, **kwargs) -> torch.Tensor:
    z, generator = _stream(seed, shape)
    return k_sample(name, mixture, z, sigmas, alphas, generator=generator, seed=seed, **kwargs)


def _check_counts(steps, samples, seed) -> tuple[int, int, int]:
    return check_steps(steps), validate.positive_int("samples", samples), validate.integer("seed", seed, minimum=0)


def _check_base(base_config, schedulers) -> dict:
    if base_config is not None and not isinstance(base_config, Mapping):
        raise TypeError(f"base_config must be a scheduler config (a dict) or None, got {type(base_config).__name__}")
    return dict(shipped_configs.SD15_SCHEDULER_CONFIG if base_config is None else base_config)


def _prepare(name, steps, samples, seed, mixture, base_config, scheduler):
    """Checked arguments of parity_row / same_rule_gap, and the scheduler to run."""
    spec = _check_name(name)
    steps, samples, seed = _check_counts(steps, samples, seed)
    base = _check_base(base_config, schedulers)
    if mixture is not None:
        check_mixture(mixture)
    mixture = GaussianMixture.random(seed=seed) if mixture is None else mixture
    custom = scheduler is not None
    if custom and (not hasattr(scheduler, "set_timesteps") or not hasattr(scheduler, "sigmas")):
        raise TypeError(f"scheduler must be a k-diffusion style diffusers scheduler (with sigmas), got {type(scheduler).__name__}")
    scheduler = _made(name, base) if scheduler is None else scheduler
    return spec, steps, samples, seed, base, mixture, custom, scheduler


_SEEDED = Adjustment("", "", seed_tree=True)


def _same_gap(name, spec, base, mixture, shape, steps, seed, scheduler, ours, shipped=None, seeded=None) -> float:
    """k-diffusion on diffusers' own sigmas, start state and noise: the update rules alone. A
    seedable Brownian tree (DPMSolverSDEScheduler) is seeded alike on both sides (`seeded`: that
    diffusers run, if already made); otherwise k-diffusion draws what diffusers draws, one randn
    per step from the same stream."""
    alphas = scheduler.alphas_cumprod
    z, generator = _stream(seed, shape)
    ve_start = z * float(scheduler.init_noise_sigma)
    if not keeps_ve_state(scheduler):
        ve_start = ve_start * math.sqrt(1 + float(ours[0]) ** 2)
    if spec.noise != "none" and _seeds_tree(scheduler):
        if seeded is None:
            seeded = _diffusers_side(name, base, mixture, shape, steps, seed, _SEEDED, built=scheduler)
        same = k_sample(name, mixture, z, ours, alphas, x_start=ve_start, noise="brownian", seed=seed)
        return max_gap(seeded, same)
    if shipped is None:
        shipped = _diffusers_side(name, base, mixture, shape, steps, seed, built=scheduler)
    noise = "randn" if spec.noise != "none" else "none"
    same = k_sample(name, mixture, z, ours, alphas, x_start=ve_start, noise=noise, generator=generator)
    return max_gap(shipped, same)


def parity_row(
    name: str, *, steps: int = 10, samples: int = 64, seed: int = 0, mixture=None, base_config=None, scheduler=None
) -> dict:
    """The parity figures for one A1111 name (see `parity_table`).

    `scheduler`: a diffusers scheduler to test instead of the one `SAMPLERS` names (e.g. the class
    the diffusers docs table names); the adjustment columns are then left empty.
    """
    spec, steps, samples, seed, base, mixture, custom, scheduler = _prepare(name, steps, samples, seed, mixture, base_config, scheduler)
    shape = (samples, mixture.dim)
    alphas = scheduler.alphas_cumprod
    ours = diffusers_sigmas(scheduler, steps)
    theirs = a1111_sigmas(name, steps, alphas)
    shipped = _diffusers_side(name, base, mixture, shape, steps, seed, built=scheduler)
    # the seeded Brownian-tree run serves the `same` column and, when the adjustment is only that
    # seed, the adjusted run; the as-shipped k-diffusion run is the reference of an adjustment
    # that leaves k-diffusion as it is (the same calls: reused, not repeated)
    seeded = None
    if spec.noise != "none" and _seeds_tree(scheduler):
        seeded = _diffusers_side(name, base, mixture, shape, steps, seed, _SEEDED, built=scheduler)
    k_shipped = _k_side(name, mixture, shape, theirs, alphas, seed)
    row = {
        "diffusers": type(scheduler).__name__,
        "k-diffusion": spec.function,
        "sigma gap": float(((ours - theirs).abs() / theirs.clamp_min(1e-12)).max()) if len(ours) == len(theirs) else math.nan,
        "same sigmas, start, noise": _same_gap(name, spec, base, mixture, shape, steps, seed, scheduler, ours, shipped, seeded),
        "as shipped": max_gap(shipped, k_shipped),
        "cause": "",
        "adjustment": "",
        "after adjustment": math.nan,
    }
    adjustment = None if custom else ADJUSTMENTS.get(name)
    if adjustment is not None:
        row.update(cause=adjustment.cause, adjustment=adjustment.adjustment)
        if adjustment.restores:
            only_seed = (
                adjustment.seed_tree
                and adjustment.start == "scheduler"
                and not adjustment.a1111_timesteps
                and not adjustment.overrides
                and adjustment.scheduler_class is None
            )
            if only_seed and seeded is not None:
                adjusted = seeded
            else:
                adjusted = _diffusers_side(name, base, mixture, shape, steps, seed, adjustment, built=scheduler)
            if not adjustment.quantize and adjustment.noise is None:
                reference = k_shipped
            else:
                reference = _k_side(name, mixture, shape, theirs, alphas, seed, quantize=adjustment.quantize, noise=adjustment.noise)
            row["after adjustment"] = max_gap(adjusted, reference)
    return row


def same_rule_gap(
    name: str, *, steps: int = 10, samples: int = 64, seed: int = 0, mixture=None, base_config=None, scheduler=None
) -> float:
    """`parity_row`'s `same sigmas, start, noise` figure alone (the update rules compared), with two
    or three runs instead of the row's five or more: for checking that column at more step counts.
    Same arguments and refusals as `parity_row`."""
    spec, steps, samples, seed, base, mixture, _, scheduler = _prepare(name, steps, samples, seed, mixture, base_config, scheduler)
    ours = diffusers_sigmas(scheduler, steps)
    return _same_gap(name, spec, base, mixture, (samples, mixture.dim), steps, seed, scheduler, ours)


def parity_table(
    names: Sequence[str] | None = None,
    *,
    steps: int = 10,
    samples: int = 64,
    seed: int = 0,
    mixture: GaussianMixture | None = None,
    base_config=None,
    progress: bool = False,
) -> pd.DataFrame:
    """For each A1111 name that diffusers (`SAMPLERS`) and k-diffusion (`KSAMPLERS`) both have, the
    largest difference of the final samples (max over samples and coordinates), on the SD 1.5 noise
    schedule unless `base_config` says otherwise, from the same start noise.

    Columns: `sigma gap` (max relative difference of the two sigma lists; NaN if their lengths
    differ); `same sigmas, start, noise` (k-diffusion run on diffusers' own sigmas and start
    state, stochastic samplers fed diffusers' per-step normal draws: the update rules alone);
    `as shipped` (each side with its defaults: A1111's sigmas, start and noise); `cause`,
    `adjustment`, `after adjustment` (the same comparison once the adjustment is applied) for the
    names in ADJUSTMENTS. Sample values are on the scale of SD latents (unit variance).

    Refuses, before any run: `names` given as one string (write ["Euler"]) or empty, a name
    KSAMPLERS lacks, counts that are not ints >= 1, a negative seed, a base_config that is not a
    dict, a mixture that is not an GaussianMixture.
    """
    from tqdm.auto import tqdm

    if names is None:
        names = [n for n, s in schedulers.SAMPLERS.items() if s.scheduler_class is not None and n in KSAMPLERS]
    if isinstance(names, str):
        raise TypeError(f"names must be a list of A1111 names, got the string {names!r}: write [{names!r}]")
    if not isinstance(names, Sequence) or not names:
        raise TypeError(f"names must be a non-empty list of A1111 names, got {names!r}")
    for name in names:
        _check_name(name, "names[]")
    steps, samples, seed = _check_counts(steps, samples, seed)
    _check_base(base_config, schedulers)
    if mixture is not None:
        check_mixture(mixture)
    if not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"progress must be True or False, got {progress!r}")
    kdiffusion.import_k_diffusion()
    rows = {}
    with quiet_diffusers(), one_thread():
        for name in tqdm(names, disable=not progress, desc="parity"):
            rows[name] = parity_row(name, steps=steps, samples=samples, seed=seed, mixture=mixture, base_config=base_config)
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "A1111 name"
    return table


# --- how far apart two results are ------------------------------------------------------------------
# How far apart two results are: the largest absolute difference of two tensors, in float64.
#
# Two samplers, two seeds' noise or two pipelines' latents agree "to within x" when this gap is under
# x. The difference is taken in float64, so that the gap of two float32 (or float16) tensors is not
# itself rounded to their precision.


def max_gap(a: torch.Tensor, b: torch.Tensor) -> float:
    """max |a - b| over all elements, computed in float64 (nan where either holds a nan).

    Refuses: an `a` or `b` that is not a torch.Tensor (TypeError); tensors of different shapes
    (ValueError: broadcasting would compare the wrong elements) or empty ones.
    """
    for name, value in (("a", a), ("b", b)):
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    if a.numel() == 0:
        raise ValueError("a and b are empty: there is no gap to measure")
    return float((a.double() - b.double()).abs().max())
