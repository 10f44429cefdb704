"""helpers.research.mixture: the closed-form mixture denoiser, the reference ODE solver, and the sampling loop."""

from __future__ import annotations

import math

import pytest
import torch
from diffusers import DPMSolverMultistepScheduler, EulerDiscreteScheduler, PNDMScheduler

from helpers.models import shipped_configs
from helpers.research import mixture as mx
from helpers.research.mixture import GaussianMixture, MixtureModel
from tests.mixture_fixtures import mixture, noise  # noqa: F401 - `mixture` is a fixture

SD15 = dict(shipped_configs.SD15_SCHEDULER_CONFIG)


# The mixture --------------------------------------------------------------------------------------


@pytest.mark.parametrize("sigma", [0.5, 1.0, 3.0])
def test_denoiser_matches_a_monte_carlo_posterior_mean(sigma):
    """E[x0 | x] estimated from prior draws weighted by the likelihood N(x; x0, sigma^2): no formula shared."""
    mix = GaussianMixture.random(dim=2, components=3, seed=3)
    draws, _ = mix.sample(200_000, torch.Generator().manual_seed(7))
    points = mix.sample(4, torch.Generator().manual_seed(8))[0] + sigma * noise(4, 2, seed=9).double()
    closed = mix.denoise(points, sigma)
    for point, expected in zip(points, closed, strict=True):
        logw = -0.5 * ((draws - point) ** 2).sum(1) / sigma**2
        w = torch.softmax(logw, 0)
        estimate = (w[:, None] * draws).sum(0)
        ess = 1.0 / (w**2).sum()
        spread = ((w[:, None] * (draws - estimate) ** 2).sum(0)).sqrt()
        tolerance = 5 * spread / ess.sqrt() + 1e-3
        assert ess > 200, "the Monte-Carlo check itself is too noisy at this point"
        assert torch.all((estimate - expected).abs() < tolerance), (estimate, expected, tolerance)


def test_velocity_is_x_minus_d_over_sigma_and_has_no_cancellation(mixture):
    x = mixture.sample(64, torch.Generator().manual_seed(0))[0] + 0.7 * noise(64, 4).double()
    for sigma in (0.3, 2.0, 10.0):
        assert torch.allclose(mixture.velocity(x, sigma), (x - mixture.denoise(x, sigma)) / sigma, rtol=1e-10, atol=1e-12)
    # as sigma -> 0, velocity / sigma -> sum_k r_k (x - mu_k) / s_k^2: exact to double precision at 1e-9,
    # where (x - D) / sigma would have lost ~9 digits
    r, _, diff = mixture._posterior(x, torch.zeros(64, 1, dtype=torch.float64))
    limit = ((r / mixture.stds**2)[..., None] * diff).sum(1)
    assert torch.allclose(mixture.velocity(x, 1e-9) / 1e-9, limit, rtol=1e-9)
    assert torch.equal(mixture.velocity(x, 0.0), torch.zeros_like(x))
    assert torch.allclose(mixture.denoise(x, 0.0), x)


def test_per_sample_sigmas_equal_scalar_sigmas(mixture):
    x = noise(5, 4).double()
    sigmas = torch.tensor([0.1, 0.5, 1.0, 2.0, 4.0], dtype=torch.float64)
    batched = mixture.denoise(x, sigmas)
    one_by_one = torch.cat([mixture.denoise(x[i : i + 1], float(s)) for i, s in enumerate(sigmas)])
    assert torch.allclose(batched, one_by_one, rtol=1e-12)


def test_component_labels_recover_the_drawing_component():
    mix = GaussianMixture(torch.tensor([[0.0, 0.0], [10.0, 0.0]]), torch.tensor([0.5, 0.5]), torch.tensor([0.3, 0.7]))
    draws, labels = mix.sample(500, torch.Generator().manual_seed(0))
    assert torch.equal(mix.component(draws), labels)
    assert abs(labels.double().mean().item() - 0.7) < 0.07


@pytest.mark.parametrize(
    "means, stds, weights, message",
    [
        (torch.zeros(3), torch.ones(3), torch.ones(3) / 3, "shape"),
        (torch.zeros(3, 2), torch.ones(2), torch.ones(3) / 3, "shape"),
        (torch.zeros(2, 2), torch.tensor([1.0, 0.0]), torch.tensor([0.5, 0.5]), "stds"),
        (torch.zeros(2, 2), torch.ones(2), torch.tensor([0.6, 0.6]), "sum to 1"),
        (torch.zeros(2, 2, dtype=torch.int64), torch.ones(2), torch.tensor([0.5, 0.5]), None),
    ],
)
def test_bad_mixtures_are_refused(means, stds, weights, message):
    with pytest.raises((ValueError, TypeError), match=message):
        GaussianMixture(means, stds, weights)


def test_bad_denoiser_inputs_are_refused(mixture):
    with pytest.raises(ValueError, match=r"shape \(n, 4\)"):
        mixture.denoise(torch.zeros(3, 5), 1.0)
    with pytest.raises(ValueError, match=">= 0"):
        mixture.denoise(torch.zeros(3, 4), -1.0)
    with pytest.raises(ValueError, match="one value per sample"):
        mixture.denoise(torch.zeros(3, 4), torch.ones(2))
    with pytest.raises(ValueError, match="dim"):
        GaussianMixture.random(dim=0)


# The network a scheduler calls ----------------------------------------------------------------


def test_every_prediction_type_encodes_the_same_denoiser(mixture):
    alphas = EulerDiscreteScheduler.from_config(SD15).alphas_cumprod
    x_vp = noise(16, 4).double()
    t = torch.tensor(412.0)
    outputs = {p: MixtureModel(mixture, alphas, p)(x_vp, t) for p in mx.PREDICTION_TYPES}
    sigma = float(MixtureModel(mixture, alphas).sigma_of(t))
    alpha, sigma_vp = 1 / math.sqrt(1 + sigma**2), sigma / math.sqrt(1 + sigma**2)
    x0_from_eps = (x_vp - sigma_vp * outputs["epsilon"]) / alpha
    x0_from_v = alpha * x_vp - sigma_vp * outputs["v_prediction"]
    assert torch.allclose(x0_from_eps, outputs["sample"], rtol=1e-9, atol=1e-10)
    assert torch.allclose(x0_from_v, outputs["sample"], rtol=1e-9, atol=1e-10)
    with pytest.raises(ValueError, match="prediction_type"):
        MixtureModel(mixture, alphas, "flow")


def test_the_network_reads_fractional_timesteps_as_the_sigmas_they_came_from(mixture):
    scheduler = EulerDiscreteScheduler.from_config(SD15, use_karras_sigmas=True)
    scheduler.set_timesteps(17)
    assert not torch.equal(scheduler.timesteps, scheduler.timesteps.round()), "Karras timesteps should be fractional"
    model = MixtureModel(mixture, scheduler.alphas_cumprod)
    assert torch.allclose(model.sigma_of(scheduler.timesteps), scheduler.sigmas[:-1].double(), rtol=1e-5)
    one_by_one = torch.stack([model.sigma_of(t) for t in scheduler.timesteps])
    assert torch.allclose(one_by_one, model.sigma_of(scheduler.timesteps), rtol=1e-12)
    assert float(model.sigma_of(999)) == pytest.approx(mx.sigma_max_of(scheduler), rel=1e-12)
    with pytest.raises(ValueError, match="timesteps must lie"):
        model.sigma_of(1000.5)


# The sampling loop ------------------------------------------------------------------------------


def test_run_matches_a_hand_stepped_euler(mixture):
    z = noise(32, 4)
    scheduler = EulerDiscreteScheduler.from_config(SD15)
    result = mx.run(scheduler, mixture, z, 12)
    sigmas = scheduler.sigmas.double()
    x = z.double() * sigmas[0]
    for i in range(12):
        x = x + (sigmas[i + 1] - sigmas[i]) * mixture.velocity(x, float(sigmas[i]))
    assert result.nfe == 12
    assert torch.allclose(result.sample.double(), x, atol=2e-5)


def test_run_honours_init_noise_sigma_and_the_k_diffusion_start(mixture):
    z = noise(8, 4)
    seen = {}
    dpm = DPMSolverMultistepScheduler.from_config(SD15)
    original = dpm.step

    def spy(model_output, timestep, sample, **kwargs):
        seen.setdefault("first", sample.clone())
        return original(model_output, timestep, sample, **kwargs)

    dpm.step = spy
    mx.run(dpm, mixture, z, 5)
    assert dpm.init_noise_sigma == 1.0 and torch.equal(seen["first"], z)  # exact: a literal
    seen.clear()
    mx.run(dpm, mixture, z, 5, start="k-diffusion")
    sigma0 = float(dpm.sigmas[0])
    assert torch.allclose(seen["first"], z * sigma0 / math.sqrt(1 + sigma0**2))
    assert mx.keeps_ve_state(EulerDiscreteScheduler.from_config(SD15)) and not mx.keeps_ve_state(dpm)


def test_run_takes_custom_timesteps_where_the_scheduler_does(mixture):
    z = noise(8, 4)
    grid = [999, 666, 333, 0]
    result = mx.run(DPMSolverMultistepScheduler.from_config(SD15), mixture, z, grid)
    assert result.nfe == 4
    with pytest.raises(ValueError, match="takes no custom timesteps"):
        mx.run(PNDMScheduler.from_config(SD15), mixture, z, grid)
    with pytest.raises(ValueError, match="non-negative integers"):
        mx.run(DPMSolverMultistepScheduler.from_config(SD15), mixture, z, [999, 500.5])


def test_v_prediction_and_epsilon_schedulers_sample_alike(mixture):
    z = noise(16, 4)
    eps = mx.run(DPMSolverMultistepScheduler.from_config(SD15), mixture, z, 10).sample
    v = mx.run(DPMSolverMultistepScheduler.from_config(SD15, prediction_type="v_prediction"), mixture, z, 10).sample
    assert torch.allclose(eps, v, atol=1e-4)


def test_bad_run_inputs_are_refused(mixture):
    euler = EulerDiscreteScheduler.from_config(SD15)
    with pytest.raises(TypeError, match="diffusers scheduler"):
        mx.run(object(), mixture, noise(2, 4), 5)
    with pytest.raises(ValueError, match=r"shape \(n, 4\)"):
        mx.run(euler, mixture, noise(2, 3), 5)
    with pytest.raises(ValueError, match="steps must be an int >= 1"):
        mx.run(euler, mixture, noise(2, 4), 0)
    with pytest.raises(ValueError, match="start="):
        mx.run(euler, mixture, noise(2, 4), 5, start="a1111")
    with pytest.raises(TypeError, match="GaussianMixture"):
        mx.run(euler, "mixture", noise(2, 4), 5)


# The reference ----------------------------------------------------------------------------------


def test_reference_solves_a_single_gaussian_in_closed_form():
    """One component: x(sigma) - mu scales with sqrt(s^2 + sigma^2), so x(0) is known exactly."""
    mu, s, sigma_max = torch.tensor([[0.5, -1.0, 2.0]]), 0.3, 14.6
    single = GaussianMixture(mu, torch.tensor([s]), torch.tensor([1.0]))
    z = noise(16, 3).double()
    expected = mu + (z * sigma_max - mu) * s / math.sqrt(s**2 + sigma_max**2)
    assert torch.allclose(mx.reference(single, z, sigma_max), expected, atol=1e-7)
    # stopping at sigma_min and denoising: D(x(sigma_min)) = mu + s^2/(s^2+sigma_min^2) (x(sigma_min) - mu)
    x_min = mu + (z * sigma_max - mu) * math.sqrt(s**2 + 0.03**2) / math.sqrt(s**2 + sigma_max**2)
    expected_min = mu + s**2 / (s**2 + 0.03**2) * (x_min - mu)
    assert torch.allclose(mx.reference(single, z, sigma_max, sigma_min=0.03), expected_min, atol=1e-7)


def test_reference_agrees_with_a_finer_solve(mixture):
    z = noise(32, 4)
    coarse = mx.reference(mixture, z, 14.6)
    fine = mx.reference(mixture, z, 14.6, rtol=1e-12, atol=1e-12)
    assert (coarse - fine).abs().max() < 1e-6
    with pytest.raises(ValueError, match="sigma_max"):
        mx.reference(mixture, z, -1.0)
    with pytest.raises(ValueError, match="larger than sigma_min"):
        mx.reference(mixture, z, 1.0, sigma_min=2.0)


def test_schedule_extremes_of_sd15():
    euler = EulerDiscreteScheduler.from_config(SD15)
    assert mx.sigma_max_of(euler) == pytest.approx(14.6146, abs=1e-4)
    assert mx.sigma_min_of(euler) == pytest.approx(0.0291675, abs=1e-6)


# Metrics ----------------------------------------------------------------------------------------


def test_compare_measures_distance_switches_and_spread():
    mix = GaussianMixture(torch.tensor([[0.0, 0.0], [10.0, 0.0]]), torch.tensor([1.0, 1.0]), torch.tensor([0.5, 0.5]))
    ref = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 1.0], [10.0, 1.0]], dtype=torch.float64)
    moved = ref + torch.tensor([[3.0, 4.0], [0.0, 0.0], [0.0, 0.0], [-9.0, 0.0]], dtype=torch.float64)
    result = mx.compare(moved, ref, mix)
    assert result["max_error"] == pytest.approx(9.0)
    assert result["median_error"] == pytest.approx(2.5)
    assert result["switched"] == pytest.approx(0.25)
    draws = mix.sample(20_000, torch.Generator().manual_seed(0))[0]
    assert mx.spread(draws, mix) == pytest.approx(1.0, abs=0.03)
    assert mx.spread(0.5 * draws + 0.5 * mix.means[mix.component(draws)], mix) == pytest.approx(0.25, abs=0.01)


def test_a1111_timesteps_are_the_rounded_default_grid():
    assert mx.a1111_timesteps(10) == [999, 888, 777, 666, 555, 444, 333, 222, 111, 0]
    assert mx.a1111_timesteps(20)[:3] == [999, 946, 894] and mx.a1111_timesteps(20)[-1] == 0
