"""Schedulers by their Automatic1111 names, built the way diffusers actually respects.

diffusers 0.42.1 drops scheduler settings in three quiet ways (the scheduler-config chapter shows each one):
`config.x = v` edits a copy `from_config` never reads, `from_config` drops every key listed in
`_use_default_values`, and it ignores keyword arguments the class does not take. The functions
here take the one route that works, `SchedulerClass.from_config(config, **settings)`, and turn
each quiet drop into a `ValueError` that says what to do instead.

- `SAMPLERS`: A1111 sampler name -> `Sampler`, the one table of what A1111 does per sampler: the
  diffusers class and settings, the k-diffusion function A1111 runs and how it runs it (noise,
  discard_next_to_last_sigma), the parity study's `Adjustment`; `note` and `cause` are derived from
  those facts, and so are `helpers.research.a1111_parity.KSAMPLERS` and `ADJUSTMENTS`. Names without a
  diffusers equivalent are rows with `scheduler_class=None` and raise when used.
- `SCHEDULE_TYPES`: A1111 schedule-type name -> settings to add as overrides (seven of the twelve
  types of A1111 1.10's menu; not Polyexponential, KL Optimal, Align Your Steps, Normal, DDIM); `AUTOMATIC` and
  `a1111_name(sampler, schedule_type)`: A1111 1.9+'s two menus -> a SAMPLERS name.
- `DOCS_TABLE`: where the diffusers docs table names another class, and why.
- `make(name, base_config, **overrides)`, `swap(pipe, name, **overrides)`,
  `explain(scheduler)`, `schedule(scheduler, steps)`.
- The scheduler configs the real checkpoints ship are in `helpers.models.shipped_configs`.
"""

from __future__ import annotations

import copy
import difflib
import functools
import inspect
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd
from diffusers import (
    DDIMScheduler,
    DEISMultistepScheduler,
    DPMSolverMultistepScheduler,
    DPMSolverSDEScheduler,
    DPMSolverSinglestepScheduler,
    EulerAncestralDiscreteScheduler,
    EulerDiscreteScheduler,
    HeunDiscreteScheduler,
    KDPM2AncestralDiscreteScheduler,
    KDPM2DiscreteScheduler,
    LCMScheduler,
    LMSDiscreteScheduler,
    PNDMScheduler,
    UniPCMultistepScheduler,
)
from diffusers.configuration_utils import ConfigMixin
from diffusers.schedulers.scheduling_utils import SchedulerMixin
from diffusers.utils import is_torchsde_available

from . import validate
from .notices import quiet_diffusers

# what a reader is meant to use (the reference page lists these)
__all__ = [
    "Adjustment", "Sampler", "SAMPLERS", "DOCS_TABLE", "AUTOMATIC", "a1111_name", "SCHEDULE_TYPES",
    "Schedule", "lookup", "accepted_keys", "DEFAULT_VALUES", "setting_values", "check_settings",
    "edited_keys", "make", "swap", "explain", "schedule", "table",
]

# Keys that describe the trained model rather than the sampler. `make` carries only these from the
# base config, so a sampler choice (Karras sigmas, an SDE algorithm) never leaks from the previous
# scheduler into the next one.
MODEL_KEYS = (
    "num_train_timesteps",
    "beta_start",
    "beta_end",
    "beta_schedule",
    "trained_betas",
    "prediction_type",
    "rescale_betas_zero_snr",
    "timestep_spacing",
    "steps_offset",
    "set_alpha_to_one",
    "clip_sample",
    "clip_sample_range",
    "thresholding",
    "dynamic_thresholding_ratio",
    "sample_max_value",
    "variance_type",
)


@dataclass(frozen=True)
class Adjustment:
    """A known cause of disagreement between diffusers and A1111 for one name, and the adjustment
    that removes it (the sampler-parity study, `helpers.research.a1111_parity.ADJUSTMENTS`).

    Diffusers side: `start="k-diffusion"` (latents z * sigma_0 / sqrt(1 + sigma_0^2)),
    `a1111_timesteps` (custom integer timesteps on A1111's grid), `overrides` for the scheduler,
    `scheduler_class` (a diffusers class name replacing the one `SAMPLERS` names), `seed_tree`
    (`noise_sampler_seed=seed`: the Brownian tree seeded with the image seed, as A1111 seeds a
    one-image generation).
    k-diffusion side: `quantize` (integer timesteps for the network), `noise`.
    `restores=False`: no such setting exists; the row reports no value after adjustment.
    In a `Sampler` row, `cause` holds only what the row's other fields do not already say
    (`Sampler.cause` adds the dropped sigma and the Brownian noise).
    """

    cause: str
    adjustment: str
    start: str = "scheduler"
    a1111_timesteps: bool = False
    overrides: Mapping = field(default_factory=dict)
    scheduler_class: str | None = None
    quantize: bool = False
    noise: str | None = None
    restores: bool = True
    seed_tree: bool = False


_KARRAS = {"use_karras_sigmas": True}
_EXPONENTIAL = {"use_exponential_sigmas": True}
# the diffusers settings a name's schedule suffix adds (A1111's combined names append the schedule
# type to the sampler, as `a1111_name` builds them; no suffix is A1111's "Uniform")
_SCHEDULE_SETTINGS = {"uniform": {}, "karras": _KARRAS, "exponential": _EXPONENTIAL}
_SDE = {"algorithm_type": "sde-dpmsolver++"}
# k-diffusion's sample_dpmpp_2m_sde option for A1111's "Heun" names; diffusers spells the setting
# the same, and needs the SDE algorithm besides (k-diffusion picks it by function)
_HEUN_SOLVER = {"solver_type": "heun"}
_SDE_HEUN = {**_SDE, **_HEUN_SOLVER}
# k-diffusion's 3M SDE warms up with a Heun-type second-order step and stays third order to the
# end; diffusers' midpoint default and lower_order_final (below 15 steps) would differ from it.
_THIRD = {**_SDE, "solver_order": 3, **_HEUN_SOLVER, "lower_order_final": False}
_SIGN = (
    "diffusers 0.42.1's third-order sde-dpmsolver++ step has the wrong sign on its D2 term "
    "(helpers.research.a1111_parity.fixed_third_order_sde; the sampler-parity chapter measures it)"
)
_DOCS = "diffusers docs, api/schedulers/overview"
_NEWER = "not in the docs table (A1111 1.6+)"
_PORT = (
    "DPMSolverSDEScheduler is diffusers' port of k-diffusion's sample_dpmpp_sde (Brownian-tree noise through torchsde, "
    "two model calls a step); pass noise_sampler_seed=<seed> to draw A1111's noise. The docs table names "
    "DPMSolverSinglestepScheduler instead: another, deterministic algorithm (see DOCS_TABLE)"
)
_DISCARD = "A1111 takes steps + 1 sigmas and drops the next-to-last one (discard_next_to_last_sigma)"
_BROWNIAN = "A1111 draws Brownian-tree noise, DPMSolverMultistepScheduler one randn per step"
# the parity study's causes and adjustments (helpers.research.a1111_parity)
_START = "DPM-Solver starts from z * sqrt(1 + sigma_max^2) (init_noise_sigma = 1), A1111 from z * sigma_max"
_GRID = "diffusers' 'linspace' grid stops at t = 999/steps, A1111's at t = 0 (sigma 0.0292)"
_ROUND = "diffusers rounds Karras timesteps to integers, so the network sees sigma(round(t)); A1111 passes fractional t"
_LATENTS = "latents = z * sigma_max / sqrt(1 + sigma_max^2)"
_TIMESTEPS = "timesteps = np.linspace(999, 0, steps).round()"
_QUANTIZE = "A1111 setting 'Enable quantization in K samplers'"
_K_NOISE = "k-diffusion noise_sampler drawing one randn per step (A1111 has no such setting)"
_SEED_TREE = "DPMSolverSDEScheduler.from_config(config, noise_sampler_seed=seed)"
_TRAILING = "timestep_spacing='trailing' (KDPM2's closest grid: t = round(1000k/steps) - 1, A1111's 999k/steps)"
_TRAILING_SPACING = {"timestep_spacing": "trailing"}
# not applied in the parity table; the sampler-parity chapter measures the route (claim
# kdpm2-karras-sigma-min-config-key): the Karras conversion reads config.sigma_min when present
_KDPM2_KARRAS = Adjustment(
    "", "none applied: a sigma_min key (A1111's last non-zero sigma) in the config dict gives A1111's Karras list", restores=False
)


@dataclass(frozen=True)
class Sampler:
    """One Automatic1111 sampler: what A1111 runs, the diffusers class and settings that reproduce
    it, and how the two differ. Every other per-sampler view derives from these rows
    (`helpers.research.a1111_parity.KSAMPLERS` and `ADJUSTMENTS`).

    `name`: A1111's name, its schedule type appended ("DPM++ 2M Karras"; `schedule`).
    `scheduler_class`: the diffusers class; None means diffusers 0.42.1 has no equivalent.
    `settings`: the class's settings for the sampler; `kwargs` adds the schedule's (passed to
    `from_config`; `make` copies them). `remark`: what `note` says before the facts below.
    `k_function`: the k_diffusion.sampling function A1111 runs (modules/sd_samplers_kdiffusion.py),
    None where A1111 runs none this project drives; `noise`: "none", "randn" (a fresh normal draw
    per step) or "brownian" (k-diffusion's Brownian-tree noise sampler);
    `discard_next_to_last_sigma`: A1111 asks for steps + 1 sigmas and drops the next-to-last one;
    `k_options`: keyword arguments A1111 passes to the function.
    `adjustment`: the parity study's known cause and adjustment, None where it finds none.
    """

    name: str
    scheduler_class: type | None
    settings: Mapping = field(default_factory=dict)
    remark: str = ""
    k_function: str | None = None
    noise: str = "none"
    discard_next_to_last_sigma: bool = False
    k_options: Mapping = field(default_factory=dict)
    adjustment: Adjustment | None = None

    @property
    def schedule(self) -> str:
        """A1111's schedule for the name: "karras" or "exponential" where the name ends with that
        schedule type, else "uniform" (the model's own sigmas)."""
        for suffix in ("Karras", "Exponential"):
            if self.name.endswith(f" {suffix}"):
                return suffix.lower()
        return "uniform"

    @property
    def kwargs(self) -> dict:
        """The settings `make` passes to `from_config`: `settings`, then the schedule's."""
        if self.scheduler_class is None:
            return dict(self.settings)
        return {**self.settings, **_SCHEDULE_SETTINGS[self.schedule]}

    @property
    def _discard_is_the_default_grid(self) -> bool:
        # A1111's uniform grid without its next-to-last sigma is DPM-Solver's own default
        # "linspace" grid (equal up to rounding t to whole numbers; the sampler-parity chapter's
        # claim dpm-solver-linspace-stops-early), so for these rows the drop is no difference
        return self.discard_next_to_last_sigma and self.scheduler_class is DPMSolverMultistepScheduler and self.schedule == "uniform"

    @property
    def _discard_text(self) -> str:
        if self._discard_is_the_default_grid:
            return f"{_DISCARD}, which leaves diffusers' default 'linspace' grid (up to rounding t to whole numbers)"
        return f"{_DISCARD}; diffusers has no such setting"

    @property
    def _randn_for_brownian(self) -> bool:
        # DPMSolverSDEScheduler draws the Brownian tree too; DPM-Solver multistep one randn per step
        return self.noise == "brownian" and self.scheduler_class is DPMSolverMultistepScheduler

    @property
    def note(self) -> str:
        """`remark`, then what the row's A1111 facts make differ in diffusers (a row without a
        diffusers class: `remark` alone)."""
        if self.scheduler_class is None:
            return self.remark
        parts = [self.remark]
        if self.noise == "randn":
            parts.append("ancestral (stochastic)")
        parts += [f"k-diffusion's {key}={value!r}" for key, value in self.k_options.items()]
        if self.discard_next_to_last_sigma:
            parts.append(self._discard_text)
        if self._randn_for_brownian:
            parts.append(f"stochastic: {_BROWNIAN}, so images differ pixel for pixel")
        return "; ".join(parts)

    @property
    def cause(self) -> str:
        """Why diffusers' sample differs from A1111's ('' without an `adjustment`): the dropped
        sigma, the adjustment's own cause, the noise."""
        if self.adjustment is None:
            return ""
        parts = [_DISCARD] if self.discard_next_to_last_sigma and not self._discard_is_the_default_grid else []
        parts.append(self.adjustment.cause)
        if self._randn_for_brownian:
            parts.append(_BROWNIAN)
        return "; ".join(part for part in parts if part)


_DPM2 = "sample_dpm_2"
_DPM2_A = "sample_dpm_2_ancestral"
_2M = "sample_dpmpp_2m"
_2M_SDE = "sample_dpmpp_2m_sde"
_3M_SDE = "sample_dpmpp_3m_sde"

# Names as Automatic1111 up to 1.8 listed them (and DDIM CFG++, which came after 1.9), one name per
# sampler and schedule. Since 1.9 A1111
# shows the sampler ("DPM++ 2M") and the "Schedule type" ("Karras") in two menus and still reads
# the combined names (sd_samplers.get_sampler_and_scheduler); `a1111_name` maps the two menus here.
# A name without a schedule suffix means A1111's "Uniform" schedule (the model's own sigmas).
SAMPLERS: dict[str, Sampler] = {
    s.name: s
    for s in (
        Sampler(
            "DPM++ 2M", DPMSolverMultistepScheduler, {},
            f"{_DOCS}; diffusers' 'linspace' grid differs from A1111's at every sigma after the first, most at the last (a larger last sigma)",
            _2M,
            adjustment=Adjustment(f"{_GRID}; {_START}", f"{_TIMESTEPS}; {_LATENTS}", start="k-diffusion", a1111_timesteps=True),
        ),
        Sampler(
            "DPM++ 2M Karras", DPMSolverMultistepScheduler, {}, _DOCS, _2M,
            adjustment=Adjustment(f"{_START}; {_ROUND}", f"{_LATENTS}; {_QUANTIZE}", start="k-diffusion", quantize=True),
        ),
        Sampler(
            "DPM++ 2M SDE", DPMSolverMultistepScheduler, _SDE, _DOCS, _2M_SDE, "brownian",
            adjustment=Adjustment(
                f"{_GRID}; {_START}", f"{_TIMESTEPS}; {_LATENTS}; {_K_NOISE}", start="k-diffusion", a1111_timesteps=True, noise="randn"
            ),
        ),
        Sampler(
            "DPM++ 2M SDE Karras", DPMSolverMultistepScheduler, _SDE, _DOCS, _2M_SDE, "brownian",
            adjustment=Adjustment(
                f"{_START}; {_ROUND}", f"{_LATENTS}; {_QUANTIZE}; {_K_NOISE}", start="k-diffusion", quantize=True, noise="randn"
            ),
        ),
        Sampler("DPM++ 2M SDE Exponential", DPMSolverMultistepScheduler, _SDE, _NEWER, _2M_SDE, "brownian"),
        Sampler("DPM++ 2M SDE Heun", DPMSolverMultistepScheduler, _SDE_HEUN, _NEWER, _2M_SDE, "brownian", k_options=_HEUN_SOLVER),
        Sampler("DPM++ 2M SDE Heun Karras", DPMSolverMultistepScheduler, _SDE_HEUN, _NEWER, _2M_SDE, "brownian", k_options=_HEUN_SOLVER),
        Sampler(
            "DPM++ 2M SDE Heun Exponential", DPMSolverMultistepScheduler, _SDE_HEUN, _NEWER, _2M_SDE, "brownian", k_options=_HEUN_SOLVER
        ),
        Sampler(
            "DPM++ 3M SDE", DPMSolverMultistepScheduler, _THIRD, f"{_NEWER}; {_SIGN}", _3M_SDE, "brownian", discard_next_to_last_sigma=True,
            adjustment=Adjustment(
                _START,
                "none that restores it: the start can be matched, but not the Brownian noise or the third-order "
                "step's sign",
                restores=False,
            ),
        ),
        Sampler("DPM++ 3M SDE Karras", DPMSolverMultistepScheduler, _THIRD, f"{_NEWER}; {_SIGN}", _3M_SDE, "brownian", discard_next_to_last_sigma=True),
        Sampler("DPM++ 3M SDE Exponential", DPMSolverMultistepScheduler, _THIRD, f"{_NEWER}; {_SIGN}", _3M_SDE, "brownian", discard_next_to_last_sigma=True),
        Sampler(
            "DPM++ SDE", DPMSolverSDEScheduler, {}, _PORT, "sample_dpmpp_sde", "brownian",
            adjustment=Adjustment(
                "DPMSolverSDEScheduler seeds its Brownian tree from torch's global generator (noise_sampler_seed=None), not from "
                "the pipeline's generator; A1111 seeds it with the image seed",
                _SEED_TREE,
                seed_tree=True,
            ),
        ),
        Sampler(
            "DPM++ SDE Karras", DPMSolverSDEScheduler, {}, "as 'DPM++ SDE', with Karras sigmas", "sample_dpmpp_sde", "brownian",
            adjustment=Adjustment(
                "as 'DPM++ SDE'; once seeded, the two Karras sigma lists still differ by float32 rounding, and Brownian noise "
                "queried at slightly different sigmas differs by far more",
                _SEED_TREE,
                seed_tree=True,
            ),
        ),
        Sampler(
            "DPM2", KDPM2DiscreteScheduler, {}, _DOCS, _DPM2, discard_next_to_last_sigma=True,
            adjustment=Adjustment("", _TRAILING, overrides=_TRAILING_SPACING),
        ),
        Sampler("DPM2 Karras", KDPM2DiscreteScheduler, {}, _DOCS, _DPM2, discard_next_to_last_sigma=True, adjustment=_KDPM2_KARRAS),
        Sampler(
            "DPM2 a", KDPM2AncestralDiscreteScheduler, {}, _DOCS, _DPM2_A, "randn", discard_next_to_last_sigma=True,
            adjustment=Adjustment(
                "ancestral noise magnifies what the trailing grid's gap leaves", f"closest: {_TRAILING}", overrides=_TRAILING_SPACING
            ),
        ),
        Sampler("DPM2 a Karras", KDPM2AncestralDiscreteScheduler, {}, _DOCS, _DPM2_A, "randn", discard_next_to_last_sigma=True, adjustment=_KDPM2_KARRAS),
        Sampler("Euler", EulerDiscreteScheduler, {}, _DOCS, "sample_euler"),
        Sampler("Euler a", EulerAncestralDiscreteScheduler, {}, _DOCS, "sample_euler_ancestral", "randn"),
        Sampler("Heun", HeunDiscreteScheduler, {}, f"{_DOCS}; two model calls per step", "sample_heun"),
        Sampler("LMS", LMSDiscreteScheduler, {}, _DOCS, "sample_lms"),
        Sampler("LMS Karras", LMSDiscreteScheduler, {}, _DOCS, "sample_lms"),
        Sampler("DDIM", DDIMScheduler, {}, "not in the docs table; eta is a pipeline call argument, not a scheduler setting"),
        Sampler("PLMS", PNDMScheduler, {"skip_prk_steps": True}, "not in the docs table; PNDM without its Runge-Kutta warm-up is PLMS"),
        Sampler(
            "UniPC", UniPCMultistepScheduler, {}, "the docs table lists it without an A1111 name; A1111 exposes its variant and order as settings"
        ),
        Sampler("DEIS", DEISMultistepScheduler, {}, "not an A1111 sampler; the docs table lists it without an A1111 name"),
        Sampler("LCM", LCMScheduler, {}, "not in the docs table; needs an LCM-distilled model or LoRA to give images"),
        Sampler(
            "DPM++ 2S a", None, {},
            "no equivalent: no ancestral singlestep DPM++ in diffusers (the docs call DPMSolverSinglestepScheduler 'very similar')",
            "sample_dpmpp_2s_ancestral", "randn",
        ),
        Sampler("DPM++ 2S a Karras", None, {}, "no equivalent: see 'DPM++ 2S a'", "sample_dpmpp_2s_ancestral", "randn"),
        Sampler("DPM fast", None, {}, "no equivalent: k-diffusion's DPM-Solver with a fixed budget of model calls"),
        Sampler("DPM adaptive", None, {}, "no equivalent: k-diffusion's adaptive-step DPM-Solver (the number of steps is chosen at run time)"),
        Sampler("Restart", None, {}, "no equivalent: no Restart sampler in diffusers"),
        Sampler(
            "DDIM CFG++",
            None,
            {},
            "no equivalent: CFG++ changes guidance (DDIM renoises with the unconditional noise prediction), a pipeline "
            "change no diffusers 0.42.1 scheduler or pipeline makes",
        ),
    )
}

# Where the diffusers docs table (api/schedulers/overview) names another class than SAMPLERS, and why.
DOCS_TABLE: dict[str, tuple[type, dict, str]] = {
    "DPM++ SDE": (
        DPMSolverSinglestepScheduler,
        {},
        "a deterministic singlestep DPM-Solver++; even with algorithm_type='sde-dpmsolver++' another algorithm than "
        "k-diffusion's sample_dpmpp_sde, so it cannot reproduce A1111 (the sampler-parity chapter measures it)",
    ),
    "DPM++ SDE Karras": (DPMSolverSinglestepScheduler, _KARRAS, "as 'DPM++ SDE'"),
}

# A1111 1.9+ "Schedule type: Automatic": the schedule each sampler declares as its own
# (`options['scheduler']` in modules/sd_samplers_kdiffusion.py, read by KDiffusionSampler.get_sigmas);
# a sampler that declares none runs "Uniform". DDIM, PLMS, UniPC and LCM (sd_samplers_timesteps.py,
# sd_samplers_lcm.py) take no schedule type.
AUTOMATIC: dict[str, str] = {
    "DPM++ 2M": "Karras",
    "DPM++ SDE": "Karras",
    "DPM++ 2M SDE": "Exponential",
    "DPM++ 2M SDE Heun": "Exponential",
    "DPM++ 2S a": "Karras",
    "DPM++ 3M SDE": "Exponential",
    "Euler a": "Uniform",
    "Euler": "Uniform",
    "LMS": "Uniform",
    "Heun": "Uniform",
    "DPM2": "Karras",
    "DPM2 a": "Karras",
    "DPM fast": "Uniform",
    "DPM adaptive": "Uniform",
    "Restart": "Karras",
}


def a1111_name(sampler: str, schedule_type: str = "Automatic") -> str:
    """The SAMPLERS name for A1111 1.9+'s two menus, "Sampling method" and "Schedule type".

    "Automatic" resolves as A1111 resolves it with its default options (`AUTOMATIC`; A1111's
    `get_sigmas` also reads user settings such as `always_discard_next_to_last_sigma`); "Uniform" is the bare name; "Karras"
    and "Exponential" append the suffix. ValueError for a sampler A1111 1.9 does not list with a
    schedule type, a schedule type no SAMPLERS name carries (pass its SCHEDULE_TYPES settings to
    `make` instead), or a combination SAMPLERS does not hold.
    """
    if not isinstance(sampler, str):
        raise TypeError(f"sampler must be a string such as 'DPM++ 2M', got {type(sampler).__name__} {sampler!r}")
    if not isinstance(schedule_type, str):
        raise TypeError(
            f"schedule_type must be a string, one of {', '.join(SCHEDULE_TYPES)}, got {type(schedule_type).__name__}"
        )
    if schedule_type not in SCHEDULE_TYPES:
        try:
            validate.one_of("schedule_type", schedule_type, SCHEDULE_TYPES)
        except ValueError as error:
            raise ValueError(f"{error} (A1111's menu entries; case matters)") from None
    if sampler not in AUTOMATIC:
        raise ValueError(f"sampler {sampler!r} takes no A1111 schedule type; samplers that do: {', '.join(AUTOMATIC)}")
    resolved = AUTOMATIC[sampler] if schedule_type == "Automatic" else schedule_type
    if resolved not in ("Uniform", "Karras", "Exponential"):
        raise ValueError(
            f"schedule_type={schedule_type!r} is not part of any SAMPLERS name (accepted here: Automatic, Uniform, Karras, "
            f"Exponential); use make({sampler!r}, config, **SCHEDULE_TYPES[{schedule_type!r}].kwargs) instead"
        )
    name = sampler if resolved == "Uniform" else f"{sampler} {resolved}"
    if name not in SAMPLERS and SAMPLERS[sampler].scheduler_class is None:
        return sampler  # no equivalent whatever the schedule ('Restart'): make says why
    if name not in SAMPLERS:
        raise ValueError(
            f"{sampler!r} with schedule type {resolved!r} ({name!r}) is not in SAMPLERS (it holds A1111's combined "
            f"names up to 1.8); build the combination with make({sampler!r}, config, "
            f"**SCHEDULE_TYPES[{resolved!r}].kwargs), which says whether the diffusers class takes it"
        )
    return name


@dataclass(frozen=True)
class ScheduleType:
    """One Automatic1111 schedule type: the settings to pass as overrides (`make(..., **t.kwargs)`)."""

    name: str
    kwargs: dict
    note: str


SCHEDULE_TYPES: dict[str, ScheduleType] = {
    t.name: t
    for t in (
        ScheduleType("Automatic", {}, "A1111 1.9+: the sampler's declared schedule (AUTOMATIC), else Uniform; resolve with a1111_name"),
        ScheduleType(
            "Uniform",
            {"timestep_spacing": "linspace"},
            "the model's own sigmas, evenly spaced in t from 999 to 0 (k-diffusion's DiscreteSchedule.get_sigmas); "
            "linspace spelled out because a config may ship another spacing (SDXL's: leading)",
        ),
        ScheduleType(
            "Karras",
            {"timestep_spacing": "linspace", **_KARRAS},
            "Karras et al. 2022, rho = 7, between the smallest and largest training sigma; Euler, Heun, LMS, KDPM2 "
            "and DPMSolverSDE take those end points from their spaced timesteps, so linspace is needed on a "
            "config that ships leading (SDXL's)",
        ),
        ScheduleType("Exponential", {"timestep_spacing": "linspace", **_EXPONENTIAL}, "log-uniform sigmas"),
        ScheduleType("Beta", {"timestep_spacing": "linspace", "use_beta_sigmas": True}, "beta(0.6, 0.6) spacing; needs scipy"),
        ScheduleType("SGM Uniform", {"timestep_spacing": "trailing"}, "the diffusers docs' mapping; close, not identical"),
        ScheduleType("Simple", {"timestep_spacing": "trailing"}, "the diffusers docs' mapping"),
    )
}


class Schedule(NamedTuple):
    """What a scheduler will do at a step count: unpacks as `timesteps, sigmas`."""

    timesteps: np.ndarray
    sigmas: np.ndarray


def lookup(name: str) -> Sampler:
    """The `Sampler` row for an A1111 name; a ValueError with close matches and all names otherwise."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a sampler name (a string such as 'DPM++ 2M Karras'), got {type(name).__name__} {name!r}")
    if name in SAMPLERS:
        return SAMPLERS[name]
    folded = {key.casefold(): key for key in SAMPLERS}
    close = difflib.get_close_matches(name.casefold(), folded, n=3, cutoff=0.6)
    hint = f"did you mean {', '.join(repr(folded[c]) for c in close)}? " if close else ""
    raise ValueError(f"name: unknown sampler {name!r}; {hint}valid names (as Automatic1111 writes them): {', '.join(SAMPLERS)}")


def _scheduler_class(name: str, cls) -> type:
    """`cls` if it is a diffusers scheduler class; a TypeError naming `name` otherwise (a class name
    as a string, an instance)."""
    if isinstance(cls, type) and issubclass(cls, SchedulerMixin):
        return cls
    if isinstance(cls, SchedulerMixin):
        got = f"an instance of {type(cls).__name__}: pass its class, type(scheduler)"
    elif isinstance(cls, str):
        got = f"the string {cls!r}: pass the class itself, e.g. diffusers.{cls}" if cls.isidentifier() else f"the string {cls!r}"
    else:
        got = f"{type(cls).__name__} {cls!r:.60}"
    raise TypeError(f"{name} must be a diffusers scheduler class such as EulerDiscreteScheduler, got {got}")


@functools.lru_cache(maxsize=1)
def known_config_keys() -> frozenset[str]:
    """Every setting some diffusers scheduler class takes, plus the legacy keys old shipped configs
    still carry: the keys a scheduler config may hold without being a typo."""
    import diffusers.schedulers as module

    keys = set(LEGACY_CONFIG_KEYS)
    for name in dir(module):
        if not name.endswith("Scheduler"):
            continue
        try:
            cls = getattr(module, name)
        except Exception:  # noqa: BLE001 - an optional backend (flax, torchsde) missing
            continue
        if isinstance(cls, type) and issubclass(cls, SchedulerMixin):
            keys |= accepted_keys(cls)
    return frozenset(keys)


# keys that scheduler configs on the Hub carry although no current class takes them (diffusers
# drops them with a warning at most)
LEGACY_CONFIG_KEYS = ("tensor_format", "predict_epsilon", "clip_sample_range", "set_alpha_to_zero")

# documented ranges of integer settings diffusers does not check at construction
SETTING_RANGES = {
    ("DPMSolverMultistepScheduler", "solver_order"): (1, 3),
    ("DPMSolverSinglestepScheduler", "solver_order"): (1, 3),
    ("DEISMultistepScheduler", "solver_order"): (1, 3),
}


def accepted_keys(cls: type) -> set[str]:
    """The settings `cls.__init__` takes: the only keys `from_config` can apply."""
    cls = _scheduler_class("cls", cls)
    parameters = inspect.signature(cls.__init__).parameters
    return {
        key
        for key, p in parameters.items()
        if key != "self" and p.kind not in (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL)
    }


# Values a setting takes when the class's signature does not spell them out as a Literal. Checked
# in `make` because diffusers accepts any string at construction and fails only later:
# timestep_spacing in set_timesteps, prediction_type in the first step().
DEFAULT_VALUES = {
    "prediction_type": ("epsilon", "v_prediction", "sample"),
    "timestep_spacing": ("linspace", "leading", "trailing"),
    "final_sigmas_type": ("zero", "sigma_min"),
}
# Keys whose Literal annotation is the whole truth. algorithm_type and solver_type are left out:
# their annotations are narrower than what __init__ converts ("deis" into DPM-Solver, "logrho"),
# and __init__ itself refuses the rest.
CHECKED_VALUES = ("prediction_type", "timestep_spacing", "final_sigmas_type", "timestep_type")


def setting_values(cls: type, key: str) -> tuple[str, ...] | None:
    """The string values `cls` accepts for the setting `key`: the `Literal[...]` of its `__init__`
    annotation, else `DEFAULT_VALUES[key]`; None when the key is not one `make` checks by value."""
    cls = _scheduler_class("cls", cls)
    if not isinstance(key, str):
        raise TypeError(f"key must be one setting name (a str) such as 'timestep_spacing', got {type(key).__name__} {key!r:.60}")
    if key not in CHECKED_VALUES or key not in accepted_keys(cls):
        return None
    try:
        hints = typing.get_type_hints(cls.__init__)
    except (NameError, TypeError, AttributeError):  # an annotation that does not resolve: use the table
        hints = {}
    hint = hints.get(key)
    if typing.get_origin(hint) is typing.Literal:
        return tuple(typing.get_args(hint))
    return DEFAULT_VALUES.get(key)


def check_settings(cls: type, settings: Mapping) -> dict:
    """Refuse, before diffusers does it late or never, a setting whose value `cls` does not accept.

    A string setting `setting_values` knows must be one of them ("Trailing" and "eps" are not); a
    setting whose default is a bool must be a bool, an int default an int, a float default a number.
    ValueError/TypeError naming the setting and the accepted values. Returns the settings with NumPy
    scalars as Python ones (np.bool_(True) -> True), so the config stays JSON.
    Also refuses (TypeError) a `cls` that is not a scheduler class (an instance gets the hint to pass
    type(scheduler)) and `settings` that are not a mapping (a list of pairs).
    """
    if not (isinstance(cls, type) and issubclass(cls, SchedulerMixin)):
        got = (f"an instance of {type(cls).__name__}: pass its class, type(scheduler) (here {type(cls).__name__})"
               if isinstance(cls, SchedulerMixin) else f"{type(cls).__name__} {cls!r:.60}")
        raise TypeError(f"cls must be a diffusers scheduler class such as EulerDiscreteScheduler, got {got}")
    if not isinstance(settings, Mapping):
        hint = " (turn a list of pairs into one with dict(pairs))" if isinstance(settings, (list, tuple)) else ""
        raise TypeError(
            f"settings must be a mapping of setting name to value, e.g. {{'use_karras_sigmas': True}}, "
            f"got {type(settings).__name__}{hint}"
        )
    defaults = _defaults_of(cls)
    settings = {key: value.item() if isinstance(value, np.generic) else value for key, value in settings.items()}
    for key, value in settings.items():
        values = setting_values(cls, key)
        if values is not None:
            if not isinstance(value, str) or value not in values:
                try:
                    validate.one_of(key, value, values)
                except (TypeError, ValueError) as error:
                    raise type(error)(f"{cls.__name__}: {error}") from None
            continue
        default = defaults.get(key, inspect.Parameter.empty)
        if isinstance(default, bool):
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"{cls.__name__}: {key} must be True or False, got {type(value).__name__} {value!r}")
        elif isinstance(default, int) and not isinstance(value, (list, tuple, np.ndarray)):
            low, high = SETTING_RANGES.get((cls.__name__, key), (None, None))
            validate.integer(f"{cls.__name__}: {key}", value, minimum=low, maximum=high)
        elif isinstance(default, float):
            validate.number(f"{cls.__name__}: {key}", value)
    return settings


BETA_SCHEDULES = ("linear", "scaled_linear", "squaredcos_cap_v2")  # where a class's source cannot be read


def _beta_schedules(cls: type) -> tuple[str, ...] | None:
    """The beta_schedule names `cls.__init__` implements (it raises NotImplementedError for others)."""
    try:
        found = re.findall(r'beta_schedule == "(\w+)"', inspect.getsource(cls.__init__))
    except (OSError, TypeError):
        return BETA_SCHEDULES
    return tuple(sorted(set(found))) or None


def _check_noise_schedule(cls: type, config: Mapping) -> None:
    """Refuse a config whose noise schedule is empty or meaningless; diffusers builds those without a
    word (backwards or > 1 betas give NaN or infinite sigmas) or fails deep inside (no timesteps)."""
    label = cls.__name__
    steps = config.get("num_train_timesteps")
    if steps is not None:
        steps = validate.integer(f"{label}: num_train_timesteps", steps, minimum=1)
    if config.get("steps_offset") is not None:
        validate.integer(f"{label}: steps_offset", config["steps_offset"], minimum=0)
    betas = config.get("trained_betas")
    if betas is not None:  # diffusers then ignores beta_start, beta_end and beta_schedule
        accepted = f"{label}: trained_betas must be a 1-d sequence of numbers in (0, 1), one per training timestep"
        if np.ndim(betas) != 1:
            raise ValueError(f"{accepted}, got shape {np.shape(betas)}")
        values = [validate.number(f"{label}: trained_betas[{i}]", b) for i, b in enumerate(betas)]
        if not all(0 < b < 1 for b in values):
            raise ValueError(f"{accepted}, got values in [{min(values)}, {max(values)}]")
        if steps is not None and len(values) != steps:
            raise ValueError(
                f"{label}: trained_betas must hold one beta per training timestep (num_train_timesteps={steps}), "
                f"got {len(values)}"
            )
        return
    schedule, known = config.get("beta_schedule"), _beta_schedules(cls)
    if "beta_schedule" in config and known is not None:
        validate.one_of(f"{label}: beta_schedule", schedule, known)
    for key in ("beta_start", "beta_end"):
        if config.get(key) is not None:
            value = validate.number(f"{label}: {key}", config[key])
            if not 0 < value < 1:
                raise ValueError(f"{label}: {key} must lie in (0, 1) (a beta is a variance per step), got {value}")
    start, end = config.get("beta_start"), config.get("beta_end")
    if schedule in ("linear", "scaled_linear") and start is not None and end is not None and start > end:
        raise ValueError(
            f"{label}: beta_start ({start}) must not exceed beta_end ({end}): the betas grow from beta_start to beta_end "
            "over the training timesteps (SD 1.5: 0.00085 and 0.012)"
        )


def _config_of(base) -> Mapping:
    from diffusers import DiffusionPipeline

    if isinstance(base, DiffusionPipeline):
        raise TypeError(
            f"base_config must be a scheduler or its config, got the pipeline {type(base).__name__}: pass pipe.scheduler"
        )
    if isinstance(base, ConfigMixin):
        return base.config
    return validate.instance("base_config", base, Mapping, "a scheduler or its config (a dict such as pipe.scheduler.config)")


def _same(a, b) -> bool:
    try:
        return bool(a is b or a == b)
    except (ValueError, TypeError):  # arrays compare element-wise
        return False


def _defaults_of(cls) -> dict:
    return {k: p.default for k, p in inspect.signature(cls.__init__).parameters.items() if k != "self"}


def edited_keys(config: Mapping, source: type | None = None) -> dict[str, str]:
    """Keys of a config whose edit would not carry over as meant, with the reason.

    Three cases: the attribute and the item disagree (`config.x = v` or `config["x"] = v` was used;
    `from_config` reads the item, the live scheduler the attribute, and which one is the edit cannot
    be told); an attribute has no item at all (`config.x = v` on a config that does not hold `x`,
    such as `use_karras_sigmas` on SD 1.5's PNDM config: `from_config` reads only items and drops
    it); or a key `_use_default_values` lists holds a value other than the default of the
    class that made the config (it was edited after construction, or passed positionally;
    `from_config` drops the key). That class is `source`, else the config's `_class_name`; a
    config with neither is checked for the first two cases only.
    """
    import diffusers

    if isinstance(config, ConfigMixin):
        raise TypeError(
            f"config must be a scheduler's config (a mapping such as scheduler.config), got the "
            f"{type(config).__name__} itself: pass its .config"
        )
    validate.instance("config", config, Mapping, "a scheduler's config (a mapping such as scheduler.config)")
    if source is None:
        named = getattr(diffusers, str(config.get("_class_name")), None)
        source = named if isinstance(named, type) else None
    source_defaults = _defaults_of(source) if source is not None else {}
    used_defaults = set(config.get("_use_default_values", ()))
    found = {}
    for key, value in config.items():
        if key.startswith("_"):
            continue
        if hasattr(config, key) and not _same(getattr(config, key), value):
            found[key] = f"attribute {getattr(config, key)!r} differs from item {value!r}"
        elif key in used_defaults and key in source_defaults and not _same(source_defaults[key], value):
            found[key] = f"{value!r} is listed in _use_default_values, so from_config resets it to {source_defaults[key]!r}"
    # an attribute set on a config that holds no such item (a FrozenDict keeps its items as attributes
    # too, so every other public instance attribute is an edit that from_config, reading items, drops)
    for key, value in vars(config).items() if hasattr(config, "__dict__") else ():
        if isinstance(key, str) and not key.startswith("_") and key not in config:
            found[key] = f"attribute {value!r} has no item (config.{key} was set on a config that does not hold {key!r}), so from_config drops it"
    return found


def make(name: str, base_config, **overrides):
    """A new scheduler for the A1111 sampler `name` on the noise schedule of `base_config`.

    Guarantees:
    - only the model keys (`MODEL_KEYS`) that `base_config` sets explicitly are carried over; the
      sampler's settings come from `SAMPLERS[name]` and then `overrides`, which win;
    - every carried setting and override is explicit in the result, so `from_config(result.config)`
      gives the same scheduler again;
    - ValueError for an unknown name, a name without an equivalent, an override the class does not
      take, a config edit that would not carry over as meant (an attribute and an item that disagree,
      an attribute with no item, or an edited key listed in `_use_default_values`; `edited_keys`), or settings the class rejects; a string setting
      outside the class's accepted values (`timestep_spacing="Trailing"`, `prediction_type="eps"`)
      or a setting of the wrong type (`use_karras_sigmas="yes"`) is refused here, not at the first
      `set_timesteps` or `step` (`check_settings`).
    `base_config` may be a scheduler or its config (`pipe.scheduler.config`).
    """
    sampler = lookup(name)
    if sampler.scheduler_class is None:
        raise ValueError(f"{name!r} has no diffusers equivalent: {sampler.note}")
    cls = sampler.scheduler_class
    if cls is DPMSolverSDEScheduler and not is_torchsde_available():
        raise ValueError(f"{name!r} needs torchsde (DPMSolverSDEScheduler draws Brownian-tree noise): pip install torchsde")
    config = _config_of(base_config)
    edited = edited_keys(config, type(base_config) if isinstance(base_config, ConfigMixin) else None)
    if edited:
        detail = "; ".join(f"{k}: {why}" for k, why in edited.items())
        attribute_only = [k for k in edited if k not in config]
        hint = (
            ", ".join(f"{k}={getattr(config, k)!r}" for k in attribute_only)
            if attribute_only
            else f"{next(iter(edited))}=..."
        )
        raise ValueError(
            f"base_config holds edits that would not carry over as meant ({detail}): from_config reads a config's "
            "items (an attribute with no item never reaches it) and drops the keys listed in _use_default_values, "
            "while the live scheduler reads its attributes, so make cannot tell which value was meant. Pass the value "
            f"you mean as an override instead, e.g. "
            f"make({name!r}, base_config, {hint})"
        )
    if "num_train_timesteps" not in config or not ({"beta_schedule", "trained_betas"} & set(config)):
        raise ValueError(
            "base_config has no noise schedule (num_train_timesteps and beta_schedule or trained_betas): the "
            "A1111 samplers need a DDPM-style scheduler config such as shipped_configs.SD15_SCHEDULER_CONFIG "
            "or pipe.scheduler.config"
        )
    known = known_config_keys()
    typos = [k for k in config if isinstance(k, str) and not k.startswith("_") and k not in known]
    if typos:
        hints = []
        for key in typos:
            close = difflib.get_close_matches(key, sorted(known), n=1)
            hints.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise ValueError(
            f"base_config holds {', '.join(hints)}, which no diffusers scheduler takes (from_config would silently "
            f"drop it); a config holds only scheduler settings such as {', '.join(sorted(accepted_keys(cls))[:6])}, ..."
        )
    accepted = accepted_keys(cls)
    unknown = sorted(set(overrides) - accepted)
    if unknown:
        raise ValueError(
            f"{cls.__name__} does not take {', '.join(unknown)} (diffusers would silently ignore "
            f"{'it' if len(unknown) == 1 else 'them'}); it takes: {', '.join(sorted(accepted))}"
        )
    used_defaults = set(config.get("_use_default_values", ()))
    carried = {k: config[k] for k in MODEL_KEYS if k in config and k not in used_defaults}
    carried = {k: v.item() if isinstance(v, np.generic) else v for k, v in carried.items()}
    settings = {**copy.deepcopy(sampler.kwargs), **overrides}
    checked = check_settings(cls, {**{k: v for k, v in carried.items() if k in accepted}, **settings})
    carried = {k: checked.get(k, v) for k, v in carried.items()}
    settings = {k: checked[k] for k in settings}
    _check_noise_schedule(cls, {**_defaults_of(cls), **carried, **settings})
    try:
        with quiet_diffusers():
            return cls.from_config(carried, **settings)
    except (ValueError, NotImplementedError, TypeError) as error:
        raise ValueError(f"{cls.__name__} rejected the settings for {name!r} {settings}: {error}") from error


def swap(pipe, name: str, **overrides):
    """Give `pipe` the scheduler for `name`, built by `make` from its current one; return `pipe`.

    The assignment goes through the pipeline, so `pipe.config["scheduler"]` names the new class.
    """
    from diffusers import DiffusionPipeline

    validate.instance("pipe", pipe, DiffusionPipeline, "a diffusers pipeline with a scheduler (swap)")
    current = getattr(pipe, "scheduler", None)
    if not isinstance(current, ConfigMixin):
        raise TypeError(f"pipe must be a diffusers pipeline with a scheduler (swap), got {type(pipe).__name__}")
    pipe.scheduler = make(name, current.config, **overrides)
    return pipe


def explain(scheduler, target: type | None = None) -> pd.DataFrame:
    """A table of every config key of `scheduler` and what `target.from_config` does with it.

    Columns: `value` (the item, which from_config reads), `attribute` (what `config.key` reads; the
    live scheduler uses it), `set` ("explicit" or "default": listed in `_use_default_values`), and
    `from_config`: "kept" (passed to `target.__init__`), "dropped", or "hidden" (not an argument of
    `target`; stored in the config for compatible classes). `target` defaults to the scheduler's
    own class. The kept/dropped column comes from diffusers' own `extract_init_dict`.
    """
    validate.instance("scheduler", scheduler, SchedulerMixin, "a diffusers scheduler (explain), e.g. pipe.scheduler")
    target = target or type(scheduler)
    if not (isinstance(target, type) and issubclass(target, SchedulerMixin)):
        raise TypeError(f"target must be a diffusers scheduler class such as DDIMScheduler, got {target!r}")
    config = scheduler.config
    with quiet_diffusers():
        init_dict, _, hidden = target.extract_init_dict(dict(config))
    defaults = set(config.get("_use_default_values", ()))
    rows = []
    for key, value in config.items():
        if key == "_use_default_values":
            continue
        fate = "kept" if key in init_dict else "hidden" if key in hidden else "dropped"
        rows.append(
            {
                "key": key,
                "value": value,
                "attribute": getattr(config, key, None),
                "set": "default" if key in defaults else "explicit",
                "from_config": fate,
            }
        )
    return pd.DataFrame(rows).set_index("key")


def schedule(scheduler, steps: int) -> Schedule:
    """The timesteps and sigmas `scheduler` uses at `steps` inference steps, as float64 arrays.

    Works on a copy: the caller's scheduler keeps its state. `sigmas` is the scheduler's own
    `sigmas` when it has them (k-diffusion style, usually one longer than `timesteps`, ending at
    the final sigma); for alpha-based schedulers (DDIM, PNDM, LCM) it is
    sqrt((1 - alpha_bar_t) / alpha_bar_t) at each timestep (same length as `timesteps`).

    Refuses: a `scheduler` that is not a diffusers scheduler; `steps` that is not an int >= 1, or
    more than the training timesteps; steps at which an alpha-based scheduler's timesteps pass its
    last training timestep (ValueError; SD 1.5's DDIM and PNDM at 1000 steps: 'leading' plus
    steps_offset=1 reaches t = 1000, where their step() would fail).
    """
    if not isinstance(scheduler, ConfigMixin) or not hasattr(scheduler, "set_timesteps"):
        validate.instance("scheduler", scheduler, SchedulerMixin, "a diffusers scheduler (schedule), e.g. pipe.scheduler")
        raise TypeError(f"scheduler must be a diffusers scheduler (schedule), got {type(scheduler).__name__}")
    steps = validate.positive_int("steps", steps)
    _check_noise_schedule(type(scheduler), scheduler.config)
    if steps > scheduler.config.num_train_timesteps:
        raise ValueError(f"steps ({steps}) cannot exceed the {scheduler.config.num_train_timesteps} training timesteps")
    work = copy.deepcopy(scheduler)
    with quiet_diffusers():
        work.set_timesteps(int(steps), device="cpu")
    timesteps = np.asarray(work.timesteps, dtype=np.float64)
    sigmas = getattr(work, "sigmas", None)
    if sigmas is not None:
        return Schedule(timesteps, np.asarray(sigmas.float() if hasattr(sigmas, "float") else sigmas, dtype=np.float64))
    alphas_cumprod = np.asarray(work.alphas_cumprod, dtype=np.float64)
    if timesteps.size and timesteps.max() >= len(alphas_cumprod):
        # 'leading' spacing plus steps_offset=1 (SD 1.5's DDIM and PNDM) reaches t = 1000 at 1000 steps:
        # the scheduler's own step() would index past its training timesteps there
        raise ValueError(
            f"steps ({steps}): {type(scheduler).__name__} would start at timestep {int(timesteps.max())}, past its "
            f"{len(alphas_cumprod)} training timesteps (timestep_spacing={scheduler.config.get('timestep_spacing')!r}, "
            f"steps_offset={scheduler.config.get('steps_offset')}), where its step() fails; use fewer steps"
        )
    alpha_bar = alphas_cumprod[timesteps.astype(int)]
    return Schedule(timesteps, np.sqrt((1.0 - alpha_bar) / alpha_bar))


def table() -> pd.DataFrame:
    """SAMPLERS as a table: name, diffusers class (or 'no equivalent'), settings, note."""
    return pd.DataFrame(
        [
            {
                "A1111 name": s.name,
                "diffusers class": s.scheduler_class.__name__ if s.scheduler_class else "no equivalent",
                "settings": ", ".join(f"{k}={v!r}" for k, v in s.kwargs.items()),
                "note": s.note,
            }
            for s in SAMPLERS.values()
        ]
    ).set_index("A1111 name")
