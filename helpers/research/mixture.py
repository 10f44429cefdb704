"""An exact benchmark for samplers: a Gaussian mixture whose denoiser is known in closed form.

If the data are a mixture of isotropic Gaussians, the ideal denoiser D(x, sigma) = E[x0 | x] is a
formula, so any diffusers scheduler can be driven by a "perfect network" and its result compared
with a high-accuracy solution of the probability-flow ODE from the same start noise. No weights,
no GPU, seconds on a CPU.

- `GaussianMixture`: the data, its denoiser, the ODE velocity, component labels.
- `MixtureModel`: the network a scheduler calls, `model(sample, t)`, answering in the scheduler's
  `prediction_type` ("epsilon", "v_prediction" or "sample") in the VP parameterisation of its betas.
- `run(scheduler, mixture, z, steps)`: one sampling loop, as a pipeline runs it (`a1111_timesteps`:
  A1111's grid, for the schedulers that take custom timesteps).
- `reference(mixture, z, sigma_max)`: the ODE solution from the same noise (scipy DOP853).
- `compare`, `spread`: how far a sample is from the reference, and how plausible it is as data.

The convergence study built on these is `helpers.research.convergence`; the side-by-side with k-diffusion
(Automatic1111's sampler library) is `helpers.research.a1111_parity`.

Conventions (those of k-diffusion and Karras et al. 2022): the "VE" state is x = x0 + sigma * n;
a diffusers scheduler whose `init_noise_sigma` is 1 (DDIM, PNDM, DPM-Solver, UniPC, DEIS) keeps
the "VP" state x / sqrt(1 + sigma^2) instead. sigma(t) = sqrt((1 - alpha_bar_t) / alpha_bar_t).
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch

from .. import validate
from ..notices import quiet_diffusers

# what a reader is meant to use (the reference page lists these)
__all__ = [
    "STARTS", "GaussianMixture", "training_sigmas", "MixtureModel", "one_thread", "Run", "check_mixture",
    "check_steps", "run", "keeps_ve_state", "reference", "sigma_max_of", "sigma_min_of", "compare", "spread",
    "a1111_timesteps",
]

PREDICTION_TYPES = ("epsilon", "v_prediction", "sample")
STARTS = ("scheduler", "k-diffusion")


def _as_float64(x, what: str) -> torch.Tensor:
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(x)
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{what} must be a torch tensor or numpy array, got {type(x).__name__}")
    if not torch.is_floating_point(x):
        raise TypeError(f"{what} must hold floats, got dtype {x.dtype}")
    return x.detach().to(device="cpu", dtype=torch.float64)


@dataclass(frozen=True, eq=False)
class GaussianMixture:
    """p0(x) = sum_k w_k N(x; mu_k, s_k^2 I): `means` (K, d), `stds` (K,), `weights` (K,), float64.

    Noised with x = x0 + sigma * n, it stays a mixture with variances s_k^2 + sigma^2, which is
    what makes the posterior mean (the ideal denoiser) a closed formula.
    """

    means: torch.Tensor
    stds: torch.Tensor
    weights: torch.Tensor

    def __post_init__(self):
        means = _as_float64(self.means, "means")
        stds = _as_float64(self.stds, "stds")
        weights = _as_float64(self.weights, "weights")
        if means.ndim != 2 or means.shape[0] < 1 or means.shape[1] < 1:
            raise ValueError(f"means must have shape (components, dim), got {tuple(means.shape)}")
        k = means.shape[0]
        if stds.shape != (k,) or weights.shape != (k,):
            raise ValueError(
                f"stds and weights must have shape ({k},) to match {k} means, got {tuple(stds.shape)} and {tuple(weights.shape)}"
            )
        if not bool(torch.isfinite(means).all()):
            raise ValueError("means must be finite")
        if not bool((stds > 0).all()) or not bool(torch.isfinite(stds).all()):
            raise ValueError(f"stds must be finite and > 0 (a zero-width component has no density), got {stds.tolist()}")
        if not bool((weights > 0).all()) or abs(float(weights.sum()) - 1.0) > 1e-9:
            raise ValueError(f"weights must be > 0 and sum to 1, got {weights.tolist()} (sum {float(weights.sum())})")
        object.__setattr__(self, "means", means)
        object.__setattr__(self, "stds", stds)
        object.__setattr__(self, "weights", weights)

    @classmethod
    def random(
        cls,
        dim: int = 8,
        components: int = 8,
        seed: int = 0,
        spread: float = 1.0,
        std_range: tuple[float, float] = (0.1, 0.4),
    ) -> GaussianMixture:
        """A reproducible mixture: means ~ N(0, spread^2 I), stds uniform in `std_range`, weights ~ Dirichlet(4).

        The defaults give clusters on the scale of Stable Diffusion latents (unit variance overall)
        that are well separated, so "which component did a sample land in" is meaningful.
        """
        dim = validate.positive_int("dim", dim)
        components = validate.positive_int("components", components)
        seed = validate.integer("seed", seed, minimum=0)
        spread = validate.number("spread", spread, minimum=0.0, exclusive_minimum=True)
        if not isinstance(std_range, (tuple, list)) or len(std_range) != 2:
            raise TypeError(f"std_range must be a pair (low, high), got {std_range!r}")
        low = validate.number("std_range[0]", std_range[0], minimum=0.0, exclusive_minimum=True)
        high = validate.number("std_range[1]", std_range[1], minimum=0.0, exclusive_minimum=True)
        if not low <= high:
            raise ValueError(f"std_range must be (low, high) with 0 < low <= high, got {std_range!r}")
        rng = np.random.default_rng(seed)
        means = rng.normal(0.0, spread, size=(components, dim))
        stds = rng.uniform(low, high, size=components)
        weights = rng.dirichlet(np.full(components, 4.0))
        return cls(torch.from_numpy(means), torch.from_numpy(stds), torch.from_numpy(weights))

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    @property
    def components(self) -> int:
        return self.means.shape[0]

    def sample(self, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """`n` exact draws (float64, shape (n, d)) and their component labels."""
        n = validate.positive_int("n", n)
        _check_generator(generator)
        labels = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        noise = torch.randn(n, self.dim, generator=generator, dtype=torch.float64)
        return self.means[labels] + self.stds[labels, None] * noise, labels

    def _check(self, x, sigma) -> tuple[torch.Tensor, torch.Tensor]:
        """x as float64 (n, d); sigma as a float64 column: (1, 1) for one sigma, (n, 1) for one per sample."""
        x = _as_float64(x, "x")
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"x must have shape (n, {self.dim}) for this {self.dim}-D mixture, got {tuple(x.shape)}")
        sigma = _as_float64(torch.as_tensor(sigma, dtype=torch.float64), "sigma").reshape(-1, 1)
        if sigma.shape[0] not in (1, x.shape[0]):
            raise ValueError(f"sigma must be a scalar or hold one value per sample ({x.shape[0]}), got {sigma.shape[0]}")
        if not bool(torch.isfinite(sigma).all()) or not bool((sigma >= 0).all()):
            raise ValueError(f"sigma must be finite and >= 0, got {sigma.flatten().tolist()[:4]}")
        return x, sigma

    def _posterior(self, x: torch.Tensor, sigma: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Responsibilities r_k(x) (n, K), the variances s_k^2 + sigma^2 ((1 or n), K) and x - mu_k (n, K, d)."""
        var = self.stds**2 + sigma**2
        diff = x[:, None, :] - self.means
        # log w_k + log N(x; mu_k, var I), up to a constant shared by all k
        log_joint = self.weights.log() - 0.5 * diff.square().sum(-1) / var - 0.5 * self.dim * var.log()
        return torch.softmax(log_joint, dim=1), var, diff

    def denoise(self, x, sigma) -> torch.Tensor:
        """D(x, sigma) = E[x0 | x0 + sigma n = x], exactly; float64, shape of x.

        Each component contributes its own posterior mean mu_k + s_k^2 / (s_k^2 + sigma^2) (x - mu_k),
        weighted by the probability that x came from it.
        """
        x, sigma = self._check(x, sigma)
        r, var, diff = self._posterior(x, sigma)
        shrink = self.stds**2 / var
        return r @ self.means + ((r * shrink)[..., None] * diff).sum(1)

    def velocity(self, x, sigma) -> torch.Tensor:
        """dx/dsigma of the probability-flow ODE, (x - D(x, sigma)) / sigma, without cancellation.

        Subtracting D from x loses every digit as sigma -> 0; the same quantity written per component,
        sigma * sum_k r_k (x - mu_k) / (s_k^2 + sigma^2), stays accurate and is 0 at sigma = 0.
        It is also the exact epsilon: the noise a perfect network predicts from the VE state.
        """
        x, sigma = self._check(x, sigma)
        r, var, diff = self._posterior(x, sigma)
        return sigma * ((r / var)[..., None] * diff).sum(1)

    def component(self, x) -> torch.Tensor:
        """The most probable component of each clean sample (argmax of the posterior at sigma = 0)."""
        x, sigma = self._check(x, 0.0)
        r, _, _ = self._posterior(x, sigma)
        return r.argmax(dim=1)


def training_sigmas(alphas_cumprod) -> torch.Tensor:
    """sigma_t = sqrt((1 - alpha_bar_t) / alpha_bar_t) for t = 0..T-1, float64."""
    a = _as_float64(torch.as_tensor(alphas_cumprod), "alphas_cumprod")
    if a.ndim != 1 or a.shape[0] < 2 or not bool(((a > 0) & (a < 1)).all()):
        raise ValueError("alphas_cumprod must be a 1-D sequence of at least 2 values in (0, 1)")
    return ((1 - a) / a).sqrt()


class MixtureModel:
    """The perfect network for a scheduler: `model(sample, t)` -> its `prediction_type` output.

    It reads the timestep the way a trained network is conditioned on it: sigma(t) interpolated
    log-linearly between the integer training timesteps (k-diffusion's `t_to_sigma`), so a
    fractional t from diffusers' `_sigma_to_t` maps back to the sigma it came from. `sample` is the
    VP state (what `scale_model_input` hands a UNet). Computes in float64, answers in the sample's
    dtype. `calls` counts the evaluations.
    """

    def __init__(self, mixture: GaussianMixture, alphas_cumprod, prediction_type: str = "epsilon"):
        if not isinstance(mixture, GaussianMixture):
            raise TypeError(f"mixture must be a GaussianMixture, got {type(mixture).__name__}")
        validate.one_of("prediction_type", prediction_type, PREDICTION_TYPES)
        self.mixture = mixture
        self.prediction_type = prediction_type
        self.log_sigmas = training_sigmas(alphas_cumprod).log()
        self.calls = 0

    def sigma_of(self, t) -> torch.Tensor:
        """sigma at (possibly fractional) timesteps `t`, float64, same shape as `t`."""
        t = torch.as_tensor(t).detach().to("cpu", torch.float64)
        last = self.log_sigmas.shape[0] - 1
        if not bool(((t >= 0) & (t <= last)).all()):
            raise ValueError(f"timesteps must lie in [0, {last}], got {t.min().item()}..{t.max().item()}")
        if t.ndim == 0:  # the common case, one timestep per call: plain floats are 10x cheaper here
            value = float(t)
            low = math.floor(value)
            high = min(low + 1, last)
            w = value - low
            log_sigma = (1 - w) * float(self.log_sigmas[low]) + w * float(self.log_sigmas[high])
            return torch.tensor(math.exp(log_sigma), dtype=torch.float64)
        low = t.floor().long()
        high = t.ceil().long()
        w = t - low
        return ((1 - w) * self.log_sigmas[low] + w * self.log_sigmas[high]).exp()

    def __call__(self, sample: torch.Tensor, t) -> torch.Tensor:
        self.calls += 1
        x_vp = _as_float64(sample, "sample")
        shape = x_vp.shape
        x_vp = x_vp.reshape(shape[0], -1)
        sigma = self.sigma_of(t).reshape(-1, 1)  # (1, 1), or (n, 1) for one timestep per sample
        scale = (1 + sigma**2).sqrt()
        x = x_vp * scale
        eps = self.mixture.velocity(x, sigma)
        if self.prediction_type == "epsilon":
            out = eps
        elif self.prediction_type == "sample":
            out = self.mixture.denoise(x, sigma)
        else:  # v = alpha * eps - sigma_vp * x0, with alpha = 1 / scale and sigma_vp = sigma / scale
            out = (eps - sigma * self.mixture.denoise(x, sigma)) / scale
        return out.reshape(shape).to(dtype=sample.dtype, device=sample.device)


@contextlib.contextmanager
def one_thread():
    """Run torch on one thread for the duration.

    The tensors here are tiny (samples x components x dim); on a busy two-core machine torch's
    intra-op threads cost 10-20x more in synchronisation than they save.
    """
    threads = torch.get_num_threads()
    if threads != 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if threads != 1:
            torch.set_num_threads(threads)


class Run(NamedTuple):
    """What `run` returns: the final `sample` (what a pipeline would decode) and the model calls."""

    sample: torch.Tensor
    nfe: int


def check_mixture(mixture) -> None:
    """TypeError unless `mixture` is a GaussianMixture."""
    if not isinstance(mixture, GaussianMixture):
        raise TypeError(f"mixture must be a GaussianMixture, got {type(mixture).__name__}")

def check_steps(steps, name: str = "steps") -> int:
    """`steps` as an int >= 1 (`validate.positive_int`): TypeError for a non-int, ValueError below 1."""
    return validate.positive_int(name, steps)


def _check_generator(generator, batch: int | None = None) -> None:
    """None, a torch.Generator, or (when `batch` is given: diffusers' randn_tensor takes one per
    sample) a list of `batch` torch.Generators."""
    if generator is None or isinstance(generator, torch.Generator):
        return
    if batch is not None and isinstance(generator, (list, tuple)):
        if not all(isinstance(g, torch.Generator) for g in generator):
            raise TypeError(f"generator: a list must hold only torch.Generators, got {[type(g).__name__ for g in generator]}")
        if len(generator) != batch:
            raise ValueError(f"generator: a list needs one torch.Generator per sample ({batch}), got {len(generator)}")
        return
    accepted = "a torch.Generator, a list of one per sample, or None" if batch is not None else "a torch.Generator or None"
    raise TypeError(f"generator must be {accepted}, got {type(generator).__name__}")


def _check_scheduler(scheduler) -> None:
    missing = [m for m in ("set_timesteps", "step", "scale_model_input") if not hasattr(scheduler, m)]
    if missing or not hasattr(scheduler, "alphas_cumprod"):
        raise TypeError(
            f"scheduler must be a diffusers scheduler with a DDPM noise schedule (alphas_cumprod, set_timesteps, "
            f"scale_model_input, step), got {type(scheduler).__name__}"
        )


def run(
    scheduler,
    mixture: GaussianMixture,
    z: torch.Tensor,
    steps: int | Sequence[int],
    *,
    generator: torch.Generator | None = None,
    start: str = "scheduler",
) -> Run:
    """Sample `mixture` with `scheduler` from the start noise `z` (n, d), as a diffusers pipeline does.

    The loop is the pipelines': `set_timesteps(steps)`, latents = z * `init_noise_sigma`, then per
    timestep `scale_model_input`, the model, `step`. `steps` is a count, or a list of integer
    timesteps for the schedulers whose `set_timesteps` takes `timesteps=` (a pipeline's
    `timesteps=` argument). `generator` feeds the stochastic samplers.
    `start="k-diffusion"` replaces the scheduler's start by k-diffusion's, z * sigma_0 in the VE
    state (sigma_0: the first timestep's sigma), converted to the scheduler's own state.
    The scheduler is modified (timesteps, step index), as a pipeline call modifies it.
    Returns the final sample in z's dtype and the number of model evaluations.

    Refuses, before any step: an object that is not a DDPM-style diffusers scheduler; z that is not
    a finite float (n, d) tensor for this mixture; a step count that is not an int >= 1; custom
    timesteps that are not whole, not strictly descending (diffusers would sample them upwards
    without a word), or past the schedule's last training timestep, or that the scheduler's
    `set_timesteps` does not take; an unknown `start`; a `generator` that is not a torch.Generator.
    """
    _check_scheduler(scheduler)
    if not isinstance(mixture, GaussianMixture):
        raise TypeError(f"mixture must be a GaussianMixture, got {type(mixture).__name__}")
    if not isinstance(z, torch.Tensor) or not torch.is_floating_point(z) or z.ndim != 2 or z.shape[1] != mixture.dim:
        raise ValueError(f"z must be a float tensor of shape (n, {mixture.dim}), got {getattr(z, 'shape', type(z).__name__)}")
    if not bool(torch.isfinite(z).all()):
        raise ValueError("z holds NaN or infinite values")
    if isinstance(steps, (list, tuple, np.ndarray, torch.Tensor)):
        custom = [float(t) for t in steps]
        if not custom or any(not math.isfinite(t) or t != int(t) or t < 0 for t in custom):
            raise ValueError(f"steps: custom timesteps must be a non-empty list of non-negative integers, got {list(steps)!r}")
        if "timesteps" not in inspect.signature(scheduler.set_timesteps).parameters:
            raise ValueError(f"steps: {type(scheduler).__name__}.set_timesteps takes no custom timesteps; pass a step count")
        if len(custom) > 1:  # a reversed list samples from low noise to high: plausible numbers, all wrong
            validate.monotonic("steps (custom timesteps)", custom, decreasing=True)
        last = int(scheduler.config.num_train_timesteps) - 1
        if custom[0] > last:
            raise ValueError(f"steps: custom timesteps must lie in [0, {last}], got {int(custom[0])}")
        plan = {"timesteps": [int(t) for t in custom]}
    else:
        plan = {"num_inference_steps": check_steps(steps)}
    validate.one_of("start", start, STARTS)
    _check_generator(generator, batch=z.shape[0])
    prediction_type = getattr(scheduler.config, "prediction_type", "epsilon")
    model = MixtureModel(mixture, scheduler.alphas_cumprod, prediction_type)
    takes_generator = "generator" in inspect.signature(scheduler.step).parameters
    ve = keeps_ve_state(scheduler) if start == "k-diffusion" else None
    with quiet_diffusers(), one_thread():
        scheduler.set_timesteps(**plan)
        x = z * scheduler.init_noise_sigma
        if start == "k-diffusion":
            sigma0 = float(model.sigma_of(scheduler.timesteps[0]))
            x = z * (sigma0 if ve else sigma0 / math.sqrt(1 + sigma0**2))
        for t in scheduler.timesteps:
            model_input = scheduler.scale_model_input(x, t)
            out = model(model_input, t)
            extra = {"generator": generator} if takes_generator else {}
            x = scheduler.step(out, t, x, **extra).prev_sample
    return Run(x, model.calls)


def keeps_ve_state(scheduler) -> bool:
    """Whether the scheduler keeps the VE state x0 + sigma n (its `scale_model_input` rescales,
    k-diffusion style) rather than the VP state (DDIM, PNDM, DPM-Solver, UniPC, DEIS).

    Probed on a fresh copy at its first timestep, so the caller's scheduler state does not matter.
    """
    _check_scheduler(scheduler)
    probe = copy.deepcopy(scheduler)
    with quiet_diffusers():
        probe.set_timesteps(2)
        ones = torch.ones(1, 1)
        return not torch.equal(probe.scale_model_input(ones, probe.timesteps[0]), ones)


def reference(
    mixture: GaussianMixture,
    z,
    sigma_max: float,
    *,
    sigma_min: float = 0.0,
    rtol: float = 1e-9,
    atol: float = 1e-9,
) -> torch.Tensor:
    """The probability-flow ODE solved from x(sigma_max) = z * sigma_max (float64, shape of z).

    x(sigma_max) = z * sigma_max is k-diffusion's (and Automatic1111's) start. The ODE runs down to
    `sigma_min`; with sigma_min = 0 the result is the exact end point x(0). With sigma_min > 0 the
    result is D(x(sigma_min), sigma_min): one denoising jump to sigma = 0, which is where every
    sampler on a schedule that ends at sigma_min (SD 1.5: 0.0292, then 0) converges as its steps
    grow. scipy's DOP853 (8th order) with tight tolerances; the whole batch is one system.
    """
    from scipy.integrate import solve_ivp

    if not isinstance(mixture, GaussianMixture):
        raise TypeError(f"mixture must be a GaussianMixture, got {type(mixture).__name__}")
    z = _as_float64(z, "z")
    if z.ndim != 2 or z.shape[1] != mixture.dim:
        raise ValueError(f"z must have shape (n, {mixture.dim}), got {tuple(z.shape)}")
    if not bool(torch.isfinite(z).all()):
        raise ValueError("z holds NaN or infinite values")
    sigma_max = validate.number("sigma_max", sigma_max, minimum=0.0)
    sigma_min = validate.number("sigma_min", sigma_min, minimum=0.0)
    rtol = validate.number("rtol", rtol, minimum=0.0, exclusive_minimum=True)
    atol = validate.number("atol", atol, minimum=0.0, exclusive_minimum=True)
    if not sigma_max > sigma_min:
        raise ValueError(f"sigma_max ({sigma_max}) must be larger than sigma_min ({sigma_min})")
    n = z.shape[0]

    def rhs(sigma, y):
        x = torch.from_numpy(y).reshape(n, mixture.dim)
        return mixture.velocity(x, sigma).reshape(-1).numpy()

    y0 = (z * sigma_max).reshape(-1).numpy()
    with one_thread():
        solution = solve_ivp(rhs, (float(sigma_max), float(sigma_min)), y0, method="DOP853", rtol=rtol, atol=atol)
    if not solution.success:
        raise RuntimeError(f"the reference ODE solve failed: {solution.message}")
    x = torch.from_numpy(solution.y[:, -1].copy()).reshape(n, mixture.dim)
    with one_thread():
        return mixture.denoise(x, sigma_min) if sigma_min > 0 else x


def sigma_max_of(scheduler) -> float:
    """The largest training sigma of a scheduler's noise schedule (14.6146 for SD 1.5)."""
    _check_scheduler(scheduler)
    return float(training_sigmas(scheduler.alphas_cumprod)[-1])


def sigma_min_of(scheduler) -> float:
    """The smallest training sigma of a scheduler's noise schedule (0.0292 for SD 1.5)."""
    _check_scheduler(scheduler)
    return float(training_sigmas(scheduler.alphas_cumprod)[0])


def compare(sample, ref, mixture: GaussianMixture) -> dict:
    """How far `sample` is from the reference, sample by sample, and how plausible it is as data.

    - `median_error`, `max_error`: L2 distance to the reference, median and max over samples;
    - `switched`: fraction of samples in another mixture component than the reference's;
    - `spread`: mean of |x - mu_c|^2 / (d s_c^2) over samples, c the sample's component: 1 for
      exact draws (up to sampling noise), below 1 for over-smoothed samples, above for noisy ones.
    """
    check_mixture(mixture)
    sample = _as_float64(sample, "sample")
    ref = _as_float64(ref, "ref")
    if sample.shape != ref.shape:
        raise ValueError(f"sample and ref must have the same shape, got {tuple(sample.shape)} and {tuple(ref.shape)}")
    distance = (sample - ref).norm(dim=1)
    labels = mixture.component(sample)
    switched = (labels != mixture.component(ref)).double().mean()
    return {
        "median_error": float(np.median(distance.numpy())),
        "max_error": float(distance.max()),
        "switched": float(switched),
        "spread": spread(sample, mixture, labels),
    }


def spread(sample, mixture: GaussianMixture, labels: torch.Tensor | None = None) -> float:
    """Mean of |x - mu_c|^2 / (d s_c^2) over samples (c: each sample's component); 1 for exact draws."""
    check_mixture(mixture)
    sample = _as_float64(sample, "sample")
    if labels is None:
        labels = mixture.component(sample)
    elif not isinstance(labels, torch.Tensor) or labels.shape != (sample.shape[0],) or torch.is_floating_point(labels):
        raise ValueError(f"labels must be an integer tensor of shape ({sample.shape[0]},), got {getattr(labels, 'shape', labels)!r}")
    elif int(labels.min()) < 0 or int(labels.max()) >= mixture.components:
        raise ValueError(f"labels must lie in [0, {mixture.components - 1}], the mixture's components")
    deviation = (sample - mixture.means[labels]).square().sum(1) / (mixture.dim * mixture.stds[labels] ** 2)
    return float(deviation.mean())

def a1111_timesteps(steps: int, num_train_timesteps: int = 1000) -> list[int]:
    """Automatic1111's default grid, linspace(T - 1, 0, steps) in t, rounded to integers.

    A1111 uses the fractional values; DPM-Solver's `set_timesteps(timesteps=...)` takes integers.
    At 10 steps (and any steps where (T - 1) / (steps - 1) is whole) the grid is exact.
    """
    steps = check_steps(steps)
    num_train_timesteps = validate.integer("num_train_timesteps", num_train_timesteps, minimum=2)
    if steps > num_train_timesteps:
        raise ValueError(f"steps ({steps}) cannot exceed num_train_timesteps ({num_train_timesteps})")
    return np.linspace(num_train_timesteps - 1, 0, steps).round().astype(int).tolist()
