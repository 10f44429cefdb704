"""The convergence study: every sampler against the ODE reference (to sigma_min, then denoised).

Built on `helpers.research.mixture` (the exact Gaussian-mixture denoiser, the sampling loop, the reference):

- `Case`: one line of the plot (a scheduler factory, its start, optional custom timesteps);
  `CONVERGENCE` and `default_cases()`: the samplers of the study on the SD 1.5 noise schedule.
- `sweep(cases, mixture, z, steps)`: one row per case and step count; `fit_orders`: the empirical
  order of each deterministic sampler; `plot_convergence`: error against steps and evaluations.

`python -m helpers.research.convergence --out _build/convergence` runs the full sweep and writes a CSV and a PNG.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from .. import validate
from ..models import shipped_configs
from .mixture import (
    STARTS,
    GaussianMixture,
    _as_float64,
    a1111_timesteps,
    check_mixture,
    check_steps,
    compare,
    one_thread,
    reference,
    run,
    sigma_max_of,
    sigma_min_of,
)
from ..notices import quiet_diffusers

# what a reader is meant to use (the reference page lists these)
__all__ = ["Case", "A1111_GRID", "default_cases", "sweep", "fit_orders", "plot_convergence"]


def _check_results(results, needed=("label", "steps", "median_error", "stochastic")) -> None:
    needed = set(needed)
    if not isinstance(results, pd.DataFrame):
        raise TypeError(f"results must be the DataFrame sweep returns, got {type(results).__name__}")
    if not needed <= set(results.columns):
        raise ValueError(f"results must have the columns sweep returns ({', '.join(sorted(needed))}); missing {sorted(needed - set(results.columns))}")


@dataclass(frozen=True)
class Case:
    """One line of the convergence plot: a scheduler factory, how to start it, and optionally
    `timesteps(steps)` -> the custom integer timesteps to run instead of a step count."""

    label: str
    build: Callable[[], object]
    stochastic: bool = False
    start: str = "scheduler"
    timesteps: Callable[[int], list[int]] | None = None

    def __post_init__(self):
        if not isinstance(self.label, str) or not self.label:
            raise TypeError(f"label must be a non-empty string, got {self.label!r}")
        if not callable(self.build):
            raise TypeError(f"build must be a callable returning a scheduler (e.g. lambda: make(...)), got {self.build!r}")
        if not isinstance(self.stochastic, (bool, np.bool_)):
            raise TypeError(f"stochastic must be True or False, got {self.stochastic!r}")
        validate.one_of("start", self.start, STARTS)
        if self.timesteps is not None and not callable(self.timesteps):
            raise TypeError(f"timesteps must be None or a callable steps -> list of timesteps, got {self.timesteps!r}")


# A1111 names of the convergence study; "DEIS" is diffusers-only. Stochastic samplers are drawn
# dashed: they follow other paths than the ODE by design, so their error against it does not vanish.
CONVERGENCE = (
    ("Euler", False),
    ("Euler a", True),
    ("Heun", False),
    ("LMS", False),
    ("DPM2", False),
    ("DPM++ 2M", False),
    ("DPM++ 2M Karras", False),
    ("DPM++ 2M SDE", True),
    ("DPM++ SDE", True),
    ("DDIM", False),
    ("PLMS", False),
    ("UniPC", False),
    ("DEIS", False),
)
MATCHED_START = ("DPM++ 2M Karras",)
A1111_GRID = "DPM++ 2M (A1111 grid and start)"


def default_cases(base_config=None) -> list[Case]:
    """The samplers of the study on the SD 1.5 noise schedule, built by `helpers.schedulers.make`.

    DPM++ 2M Karras appears again with k-diffusion's start noise, and DPM++ 2M with k-diffusion's
    start on A1111's timestep grid (`A1111_GRID`).
    """
    from collections.abc import Mapping

    from .. import schedulers

    if base_config is not None and not isinstance(base_config, Mapping):
        raise TypeError(f"base_config must be a scheduler config (a dict) or None, got {type(base_config).__name__}")
    base = dict(shipped_configs.SD15_SCHEDULER_CONFIG if base_config is None else base_config)

    def factory(name: str) -> Callable[[], object]:
        if name == "DEIS":
            from diffusers import DEISMultistepScheduler

            return lambda: DEISMultistepScheduler.from_config(base)
        return lambda: schedulers.make(name, base)

    cases = [Case(name, factory(name), stochastic) for name, stochastic in CONVERGENCE]
    cases += [Case(f"{name} (k-diffusion start)", factory(name), False, "k-diffusion") for name in MATCHED_START]
    cases.append(Case(A1111_GRID, factory("DPM++ 2M"), False, "k-diffusion", a1111_timesteps))
    return cases


def sweep(
    cases: Sequence[Case],
    mixture: GaussianMixture,
    z: torch.Tensor,
    steps: Sequence[int],
    *,
    ref: torch.Tensor | None = None,
    seed: int = 0,
    progress: bool = False,
) -> pd.DataFrame:
    """Run every case at every step count; one row each: label, steps, nfe, the `compare` columns,
    stochastic. The reference (default: `reference` down to the schedule's smallest sigma, the limit
    of every sampler on it) is computed once from z; pass `ref` to reuse one.
    Stochastic samplers get a fresh generator seeded with `seed` for every run.

    Refuses a single Case (pass a list), an empty list, `steps` given as one int or holding a count
    below 1, a negative or non-int seed, a progress that is not a bool ("yes"), z or ref of the wrong shape."""
    from tqdm.auto import tqdm

    if isinstance(cases, Case) or not isinstance(cases, Sequence) or not all(isinstance(c, Case) for c in cases):
        raise TypeError(f"cases must be a list of convergence.Case, got {type(cases).__name__}")
    if not cases:
        raise ValueError("cases: sweep needs at least one Case")
    check_mixture(mixture)
    if isinstance(steps, (int, np.integer)) or not isinstance(steps, Sequence):
        raise TypeError(f"steps must be a list of step counts such as [10, 20], got {steps!r}")
    steps = [check_steps(s, "steps[]") for s in steps]
    if not steps:
        raise ValueError("steps: sweep needs at least one step count")
    seed = validate.integer("seed", seed, minimum=0)
    progress = validate.boolean("progress", progress)
    z = _as_float64(z, "z") if isinstance(z, np.ndarray) else z
    if not isinstance(z, torch.Tensor) or z.ndim != 2 or z.shape[1] != mixture.dim:
        raise ValueError(f"z must be a float tensor of shape (n, {mixture.dim}), got {getattr(z, 'shape', type(z).__name__)}")
    if ref is not None and (not isinstance(ref, torch.Tensor) or ref.shape != z.shape):
        raise ValueError(f"ref must be a tensor of z's shape {tuple(z.shape)}, got {getattr(ref, 'shape', type(ref).__name__)}")
    labels = [c.label for c in cases]
    if len(set(labels)) != len(labels):
        raise ValueError(f"case labels must be unique, got {labels}")
    if ref is None:
        first = cases[0].build()
        ref = reference(mixture, z, sigma_max_of(first), sigma_min=sigma_min_of(first))
    rows = []
    with tqdm(total=len(cases) * len(steps), disable=not progress, desc="sweep") as bar, quiet_diffusers(), one_thread():
        for case in cases:
            with quiet_diffusers():
                template = case.build()  # built once: some schedulers (KDPM2) take seconds to construct
            for n in steps:
                bar.set_postfix_str(f"{case.label} @ {n}")
                scheduler = copy.deepcopy(template)
                plan = case.timesteps(n) if case.timesteps is not None else n
                result = run(scheduler, mixture, z, plan, generator=torch.Generator().manual_seed(seed), start=case.start)
                rows.append(
                    {"label": case.label, "steps": n, "nfe": result.nfe, **compare(result.sample, ref, mixture), "stochastic": case.stochastic}
                )
                bar.update()
    return pd.DataFrame(rows)


def fit_orders(results: pd.DataFrame, last: int = 3) -> pd.Series:
    """The empirical order of each deterministic sampler: minus the slope of log(median error)
    against log(steps), least squares over its `last` largest step counts."""
    _check_results(results)
    last = validate.integer("last", last, minimum=2)
    orders = {}
    for label, group in results[~results["stochastic"]].groupby("label", sort=False):
        tail = group.sort_values("steps").tail(last)
        if len(tail) < 2:
            continue
        slope = np.polyfit(np.log(tail["steps"]), np.log(tail["median_error"]), 1)[0]
        orders[label] = -slope
    return pd.Series(orders, name="order")


def plot_convergence(results: pd.DataFrame, title: str | None = None, stochastic: bool = False):
    """Log-log median error against steps (left) and against model evaluations (right).

    Stochastic samplers are left out unless `stochastic=True` (then dashed): they do not follow
    the ODE, so their error against it stays at the distance between components.
    """
    import matplotlib.pyplot as plt

    _check_results(results, ("label", "steps", "nfe", "median_error", "stochastic"))
    stochastic = validate.boolean("stochastic", stochastic)
    shown = results if stochastic else results[~results["stochastic"].astype(bool)]
    if shown.empty:
        raise ValueError("no rows to plot (only stochastic samplers? pass stochastic=True)")
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    labels = list(dict.fromkeys(shown["label"]))
    # tab20's dark shades first, then the light ones: neighbours in the legend get distinct colours
    colors = [plt.get_cmap("tab20")(i) for i in (*range(0, 20, 2), *range(1, 20, 2))]
    markers = "os^vD<>ph*"
    for i, label in enumerate(labels):
        group = shown[shown["label"] == label].sort_values("steps")
        style = {
            "color": colors[i % 20],
            "marker": markers[i % len(markers)],
            "markersize": 3,
            "linestyle": "--" if bool(group["stochastic"].iloc[0]) else "-",
            "label": label,
        }
        axes[0].plot(group["steps"], group["median_error"], **style)
        axes[1].plot(group["nfe"], group["median_error"], **style)
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    for ax, xlabel, column in zip(axes, ("steps", "model evaluations"), ("steps", "nfe"), strict=True):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3, which="both")
        if column == "steps":  # label the step counts themselves, not powers of ten
            ax.set_xticks(sorted(shown["steps"].unique()))
            ax.xaxis.set_major_formatter(ScalarFormatter())
            ax.xaxis.set_minor_formatter(NullFormatter())
    axes[0].set_ylabel("median error vs ODE to sigma_min, denoised")
    axes[1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _parse(argv):
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m helpers.research.convergence",
        description="Convergence of diffusers' samplers on an exact Gaussian-mixture denoiser (SD 1.5 noise schedule).",
    )
    parser.add_argument("--out", default="_build/convergence", help="folder for convergence.csv and convergence.png (default: %(default)s)")
    parser.add_argument("--samples", type=int, default=4096, help="start noises (default: %(default)s)")
    parser.add_argument("--steps", type=int, nargs="+", default=[5, 10, 20, 40, 80, 160], help="step counts (default: %(default)s)")
    parser.add_argument("--dim", type=int, default=8, help="data dimension (default: %(default)s)")
    parser.add_argument("--components", type=int, default=8, help="mixture components (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the mixture, the noise and the SDE samplers (default: %(default)s)")
    parser.add_argument("--only", nargs="+", default=None, metavar="LABEL", help="run only these case labels")
    args = parser.parse_args(argv)
    if args.samples < 1:
        parser.error("--samples must be >= 1")
    if any(s < 1 for s in args.steps):
        parser.error("--steps must all be >= 1")
    return args


def main(argv=None) -> pd.DataFrame:
    """The full sweep: writes convergence.csv, orders.csv and convergence.png to --out; prints the time."""
    import time
    from pathlib import Path

    args = _parse(argv)
    began = time.perf_counter()
    mixture = GaussianMixture.random(dim=args.dim, components=args.components, seed=args.seed)
    z = torch.randn(args.samples, args.dim, generator=torch.Generator().manual_seed(args.seed))
    cases = default_cases()
    if args.only:
        known = {c.label for c in cases}
        unknown = sorted(set(args.only) - known)
        if unknown:
            raise SystemExit(f"unknown case label(s) {unknown}; known: {', '.join(sorted(known))}")
        cases = [c for c in cases if c.label in args.only]
    first = cases[0].build()
    ref = reference(mixture, z, sigma_max_of(first), sigma_min=sigma_min_of(first))
    results = sweep(cases, mixture, z, args.steps, ref=ref, seed=args.seed, progress=True)
    orders = fit_orders(results)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results.to_csv(out / "convergence.csv", index=False)
    orders.to_csv(out / "orders.csv")
    plot_convergence(results, title=f"{args.samples} samples, {args.dim}-D mixture of {args.components}").savefig(
        out / "convergence.png", dpi=120, bbox_inches="tight"
    )
    elapsed = time.perf_counter() - began
    print(orders.round(2).to_string())
    print(f"wrote {out / 'convergence.csv'}, {out / 'orders.csv'}, {out / 'convergence.png'} in {elapsed:.1f} s")
    return results


if __name__ == "__main__":
    main()
