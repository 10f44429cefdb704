"""helpers.research.a1111_parity: A1111's sigmas, and diffusers against k-diffusion on the exact mixture.

These need the optional `parity` extra (installed by `make test`); the import shim is tested in
tests/test_kdiffusion.py.
"""

from __future__ import annotations

import pytest
import torch

from helpers import schedulers
from helpers.models import shipped_configs
from helpers.research import a1111_parity, kdiffusion
from helpers.research import mixture as mx
import math
from helpers.research.a1111_parity import max_gap

SD15 = dict(shipped_configs.SD15_SCHEDULER_CONFIG)
needs_k_diffusion = pytest.mark.skipif(
    not kdiffusion.available(), reason=f"k-diffusion is not installed: {kdiffusion.INSTALL_HINT}"
)


def alphas():
    return schedulers.make("Euler", SD15).alphas_cumprod


# A1111's sigmas -------------------------------------------------------------------------------------


@needs_k_diffusion
def test_a1111_default_and_karras_sigmas_equal_diffusers_euler():
    for name, kwargs in (("Euler", {}), ("LMS Karras", {"use_karras_sigmas": True})):
        ours = a1111_parity.diffusers_sigmas(schedulers.make("Euler", SD15, **kwargs), 10)
        theirs = a1111_parity.a1111_sigmas(name, 10, alphas())
        assert torch.allclose(ours, theirs, rtol=1e-5), name


@needs_k_diffusion
def test_a1111_discards_the_next_to_last_sigma_for_dpm2():
    k = kdiffusion.import_k_diffusion()
    eleven = k.external.DiscreteSchedule(((1 - alphas()) / alphas()) ** 0.5, quantize=False).get_sigmas(11)
    dpm2 = a1111_parity.a1111_sigmas("DPM2", 10, alphas())
    assert len(dpm2) == 11 and torch.equal(dpm2, torch.cat([eleven[:-2], eleven[-1:]]))
    with pytest.raises(ValueError, match="no k-diffusion sampler"):
        a1111_parity.a1111_sigmas("DDIM", 10, alphas())


# Sampling side by side --------------------------------------------------------------------------------


@needs_k_diffusion
def test_k_diffusion_euler_and_euler_a_equal_diffusers_on_the_same_draws():
    mixture = mx.GaussianMixture.random(dim=4, components=3, seed=2)
    for name in ("Euler", "Euler a"):
        z, generator = a1111_parity._stream(0, (32, 4))
        ours = mx.run(schedulers.make(name, SD15), mixture, z, 8, generator=generator).sample
        z, generator = a1111_parity._stream(0, (32, 4))
        theirs = a1111_parity.k_sample(name, mixture, z, a1111_parity.a1111_sigmas(name, 8, alphas()), alphas(), generator=generator)
        assert (ours - theirs).abs().max() < 1e-4, name


@needs_k_diffusion
def test_k_sample_refuses_bad_noise_settings():
    mixture = mx.GaussianMixture.random(dim=2, components=2)
    sigmas = a1111_parity.a1111_sigmas("Euler", 4, alphas())
    with pytest.raises(ValueError, match="deterministic"):
        a1111_parity.k_sample("Euler", mixture, torch.zeros(2, 2), sigmas, alphas(), noise="randn")
    with pytest.raises(ValueError, match="needs a torch.Generator"):
        a1111_parity.k_sample("Euler a", mixture, torch.zeros(2, 2), sigmas, alphas(), noise="randn")
    with pytest.raises(ValueError, match="noise must be"):
        a1111_parity.k_sample("Euler a", mixture, torch.zeros(2, 2), sigmas, alphas(), noise="pink")


@needs_k_diffusion
def test_dpmpp_2m_differs_as_shipped_and_agrees_after_the_adjustment():
    row = a1111_parity.parity_row("DPM++ 2M", steps=10, samples=16)
    assert row["as shipped"] > 0.1
    assert row["same sigmas, start, noise"] < 1e-4
    assert row["after adjustment"] < 1e-4


def test_parity_table_refuses_unknown_names_before_any_work():
    with pytest.raises(ValueError, match="no k-diffusion sampler for 'UniPC'"):
        a1111_parity.parity_table(["Euler", "UniPC"])


@needs_k_diffusion
def test_a1111_exponential_sigmas_are_log_uniform_and_heun_reaches_the_sampler():
    sigmas = a1111_parity.a1111_sigmas("DPM++ 2M SDE Exponential", 6, alphas())
    ratios = sigmas[1:-1] / sigmas[:-2]
    assert torch.allclose(ratios, ratios[0].expand_as(ratios), rtol=1e-4) and sigmas[-1] == 0
    assert a1111_parity.KSAMPLERS["DPM++ 2M SDE Heun"].options == {"solver_type": "heun"}
    assert len(a1111_parity.a1111_sigmas("DPM++ 3M SDE", 6, alphas())) == 7  # 6 steps after the discard


@needs_k_diffusion
def test_third_order_sde_sign_fix_is_what_separates_diffusers_from_k_diffusion():
    mixture = mx.GaussianMixture.random(dim=4, components=3, seed=2)
    shipped = a1111_parity.parity_row("DPM++ 3M SDE", steps=10, samples=16, mixture=mixture)
    with a1111_parity.fixed_third_order_sde():
        fixed = a1111_parity.parity_row("DPM++ 3M SDE", steps=10, samples=16, mixture=mixture)
    assert shipped["same sigmas, start, noise"] > 0.1
    assert fixed["same sigmas, start, noise"] < 1e-4
    from diffusers import DPMSolverMultistepScheduler

    # the patch is undone on exit
    assert "- 0.5)) * D2" in __import__("inspect").getsource(DPMSolverMultistepScheduler.multistep_dpm_solver_third_order_update)


@needs_k_diffusion
def test_dpm_sde_port_with_the_seed_equals_k_diffusion_and_the_docs_class_does_not():
    from diffusers import DPMSolverSinglestepScheduler

    mixture = mx.GaussianMixture.random(dim=4, components=3, seed=2)
    row = a1111_parity.parity_row("DPM++ SDE", steps=10, samples=16, mixture=mixture)
    assert row["diffusers"] == "DPMSolverSDEScheduler"
    assert row["after adjustment"] < 1e-4 < 0.1 < row["as shipped"]
    docs = DPMSolverSinglestepScheduler.from_config(SD15, algorithm_type="sde-dpmsolver++", lower_order_final=True)
    other = a1111_parity.parity_row("DPM++ SDE", steps=10, samples=16, mixture=mixture, scheduler=docs)
    assert other["same sigmas, start, noise"] > 0.1 and other["adjustment"] == ""


@needs_k_diffusion
def test_k_sample_seed_list_gives_each_row_the_tree_of_its_own_seed():
    # A1111's per-image Brownian trees: row i of a batch run with [s0, s1, ...] is row i run
    # alone with s_i; one int seed for the batch is another tree
    mixture = mx.GaussianMixture.random(dim=4, components=3, seed=2)
    sigmas = a1111_parity.a1111_sigmas("DPM++ SDE", 4, alphas())
    z = torch.randn(3, 4, generator=torch.Generator().manual_seed(0))
    batch = a1111_parity.k_sample("DPM++ SDE", mixture, z, sigmas, alphas(), seed=[5, 6, 7])
    alone = torch.cat(
        [a1111_parity.k_sample("DPM++ SDE", mixture, z[i : i + 1], sigmas, alphas(), seed=s) for i, s in enumerate([5, 6, 7])]
    )
    assert torch.equal(batch, alone)
    one_tree = a1111_parity.k_sample("DPM++ SDE", mixture, z, sigmas, alphas(), seed=5)
    assert float((one_tree - batch)[1:].abs().max()) > 0.1
    with pytest.raises(ValueError, match="one seed per row"):
        a1111_parity.k_sample("DPM++ SDE", mixture, z, sigmas, alphas(), seed=[5, 6])
    with pytest.raises(ValueError, match="seed"):
        a1111_parity.k_sample("DPM++ SDE", mixture, z, sigmas, alphas(), seed=[5, -1, 7])
    with pytest.raises(TypeError, match="seed"):
        a1111_parity.k_sample("DPM++ SDE", mixture, z, sigmas, alphas(), seed=[5, 6.0, 7])


@needs_k_diffusion
def test_same_rule_gap_is_the_rows_column():
    mixture = mx.GaussianMixture.random(dim=4, components=3, seed=2)
    for name in ("DPM++ 2M Karras", "DPM++ SDE", "Euler a"):
        row = a1111_parity.parity_row(name, steps=6, samples=8, mixture=mixture)
        alone = a1111_parity.same_rule_gap(name, steps=6, samples=8, mixture=mixture)
        assert alone == row["same sigmas, start, noise"], name  # exact: the same runs
    with pytest.raises(ValueError, match="no k-diffusion sampler"):
        a1111_parity.same_rule_gap("UniPC")


# The views of schedulers.SAMPLERS ----------------------------------------------------------------------


def test_ksamplers_and_adjustments_are_views_of_the_one_table():
    assert set(a1111_parity.KSAMPLERS) == {n for n, s in schedulers.SAMPLERS.items() if s.k_function is not None}
    assert not {"DDIM", "PLMS", "UniPC", "LCM", "DPM fast", "DPM adaptive", "Restart"} & set(a1111_parity.KSAMPLERS)
    assert a1111_parity.KSAMPLERS["DPM2 a Karras"] == a1111_parity.KSampler(
        "DPM2 a Karras", "sample_dpm_2_ancestral", "karras", True, "randn", {}
    )
    heun = a1111_parity.KSAMPLERS["DPM++ 2M SDE Heun Exponential"]
    assert (heun.function, heun.schedule, heun.noise, dict(heun.options)) == (
        "sample_dpmpp_2m_sde", "exponential", "brownian", {"solver_type": "heun"}
    )
    assert a1111_parity.KSAMPLERS["DPM++ 2S a"].noise == "randn"  # A1111 runs it; diffusers has no class
    assert a1111_parity.Adjustment is schedulers.Adjustment
    assert set(a1111_parity.ADJUSTMENTS) == {
        "DPM++ 2M", "DPM++ 2M Karras", "DPM++ 2M SDE", "DPM++ 2M SDE Karras", "DPM++ SDE", "DPM++ SDE Karras",
        "DPM++ 3M SDE", "DPM2", "DPM2 a", "DPM2 Karras", "DPM2 a Karras",
    }
    for name, adjustment in a1111_parity.ADJUSTMENTS.items():
        row = schedulers.SAMPLERS[name]
        assert adjustment.cause == row.cause and adjustment.adjustment == row.adjustment.adjustment, name
    assert a1111_parity.ADJUSTMENTS["DPM2"].cause.endswith("(discard_next_to_last_sigma)")
    assert schedulers.SAMPLERS["DPM2"].adjustment.cause == ""  # the row's own part; the view adds the flag's


@needs_k_diffusion
def test_diffusers_heun_settings_compute_k_diffusions_heun_option():
    # the row writes solver_type='heun' once: k-diffusion's option, and diffusers' setting beside the SDE
    # algorithm; with it diffusers' update rule is k-diffusion's, without it (the midpoint default) not
    mixture = mx.GaussianMixture.random(dim=4, components=3, seed=2)
    row = schedulers.SAMPLERS["DPM++ 2M SDE Heun"]
    assert row.kwargs["solver_type"] == row.k_options["solver_type"] == "heun"
    assert a1111_parity.same_rule_gap("DPM++ 2M SDE Heun", steps=10, samples=16, mixture=mixture) < 1e-4
    midpoint = schedulers.make("DPM++ 2M SDE", SD15)
    assert midpoint.config.solver_type == "midpoint"
    assert a1111_parity.same_rule_gap("DPM++ 2M SDE Heun", steps=10, samples=16, mixture=mixture, scheduler=midpoint) > 1e-3


# --- max_gap: the largest absolute difference of two tensors ----------


def test_the_largest_absolute_difference_in_float64():
    a = torch.tensor([1.0, 2.0, 3.0])
    assert max_gap(a, torch.tensor([1.5, 0.0, 3.0])) == 2.0  # exact: small binary fractions
    # 1 + 2**-30 rounds to 1 in float32 but not in float64: the gap is not rounded to float32
    one = torch.tensor([1.0], dtype=torch.float64)
    assert max_gap(one + 2**-30, one.float()) == 2**-30  # exact: a power of two in float64
    assert math.isnan(max_gap(torch.tensor([math.nan]), torch.tensor([0.0])))


@pytest.mark.parametrize(
    ("a", "b", "error"),
    [
        ([1.0], torch.zeros(1), TypeError),
        (torch.zeros(2), torch.zeros(3), ValueError),
        (torch.zeros(2, 1), torch.zeros(1, 2), ValueError),
        (torch.zeros(0), torch.zeros(0), ValueError),
    ],
)
def test_refuses_what_cannot_be_compared_element_by_element(a, b, error):
    with pytest.raises(error, match="a |a and b|b must"):
        max_gap(a, b)
