"""helpers.parity: the k-diffusion import shim, A1111's sigmas, and diffusers against k-diffusion.

The shim tests run everywhere; the rest need the optional `parity` extra (installed by `make test`).
"""

from __future__ import annotations

import importlib.util
import sys

import pytest
import torch

from helpers import exact, parity, schedulers

SD15 = dict(schedulers.SD15_SCHEDULER_CONFIG)
needs_k_diffusion = pytest.mark.skipif(
    not parity.available(), reason=f"k-diffusion is not installed: {parity.INSTALL_HINT}"
)


def alphas():
    return schedulers.make("Euler", SD15).alphas_cumprod


# The shim -----------------------------------------------------------------------------------------


def test_stand_ins_exist_only_inside_the_context():
    assert all(name not in sys.modules for name in ("clip", "cleanfid")), "a real clip/cleanfid would make this test moot"
    with parity.stand_ins():
        import clip
        from cleanfid.inception_torchscript import InceptionV3W

        assert isinstance(InceptionV3W, parity._Absent)
        with pytest.raises(parity.StandInUsed, match="cleanfid.inception_torchscript.InceptionV3W is a stand-in"):
            InceptionV3W("model.pt")
        with pytest.raises(parity.StandInUsed, match="clip.load"):
            clip.load("ViT-B/32")
    assert "clip" not in sys.modules and "cleanfid.inception_torchscript" not in sys.modules
    assert not any(isinstance(finder, parity._StandInFinder) for finder in sys.meta_path)


def test_stand_ins_leave_modules_that_are_already_imported_alone():
    import numpy

    saved = parity.STAND_IN_MODULES
    try:
        parity.STAND_IN_MODULES = (*saved, "numpy")
        with parity.stand_ins():
            import numpy as inside
        assert inside is numpy
    finally:
        parity.STAND_IN_MODULES = saved


def test_import_without_k_diffusion_says_how_to_install(monkeypatch):
    monkeypatch.delitem(sys.modules, "k_diffusion", raising=False)
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a, **k: None if name == "k_diffusion" else real(name, *a, **k))
    assert not parity.available()
    with pytest.raises(ImportError, match=r"pip install --no-deps k-diffusion==0.1.1.post1"):
        parity.import_k_diffusion()


@needs_k_diffusion
def test_k_diffusion_imports_and_its_samplers_work_without_the_stood_in_packages():
    k = parity.import_k_diffusion()
    # the imported sampler and wrapper really compute: Euler's one step from sigma to 0 is x - sigma * eps,
    # which for the exact network is the exact denoiser D(x, sigma)
    mixture = exact.GaussianMixture.random(dim=3, components=2, seed=1)
    denoiser = k.external.DiscreteEpsDDPMDenoiser(exact.MixtureModel(mixture, alphas()), alphas(), quantize=False)
    sigma = float(parity.a1111_sigmas("Euler", 4, alphas())[1])
    x = torch.randn(5, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    out = k.sampling.sample_euler(denoiser, x, torch.tensor([sigma, 0.0], dtype=torch.float64), disable=True)
    assert torch.allclose(out, mixture.denoise(x, sigma), rtol=1e-4, atol=1e-5)
    assert not any(isinstance(m, parity._StandInModule) for m in sys.modules.values())
    with pytest.raises(parity.StandInUsed, match="torchvision.transforms.functional"):
        k.utils.to_pil_image(torch.zeros(3, 4, 4))


# A1111's sigmas -------------------------------------------------------------------------------------


@needs_k_diffusion
def test_a1111_default_and_karras_sigmas_equal_diffusers_euler():
    for name, kwargs in (("Euler", {}), ("LMS Karras", {"use_karras_sigmas": True})):
        ours = parity.diffusers_sigmas(schedulers.make("Euler", SD15, **kwargs), 10)
        theirs = parity.a1111_sigmas(name, 10, alphas())
        assert torch.allclose(ours, theirs, rtol=1e-5), name


@needs_k_diffusion
def test_a1111_discards_the_next_to_last_sigma_for_dpm2():
    k = parity.import_k_diffusion()
    eleven = k.external.DiscreteSchedule(((1 - alphas()) / alphas()) ** 0.5, quantize=False).get_sigmas(11)
    dpm2 = parity.a1111_sigmas("DPM2", 10, alphas())
    assert len(dpm2) == 11 and torch.equal(dpm2, torch.cat([eleven[:-2], eleven[-1:]]))
    with pytest.raises(ValueError, match="no k-diffusion sampler"):
        parity.a1111_sigmas("DDIM", 10, alphas())


# Sampling side by side --------------------------------------------------------------------------------


@needs_k_diffusion
def test_k_diffusion_euler_and_euler_a_equal_diffusers_on_the_same_draws():
    mixture = exact.GaussianMixture.random(dim=4, components=3, seed=2)
    for name in ("Euler", "Euler a"):
        z, generator = parity._stream(0, (32, 4))
        ours = exact.run(schedulers.make(name, SD15), mixture, z, 8, generator=generator).sample
        z, generator = parity._stream(0, (32, 4))
        theirs = parity.k_sample(name, mixture, z, parity.a1111_sigmas(name, 8, alphas()), alphas(), generator=generator)
        assert (ours - theirs).abs().max() < 1e-4, name


@needs_k_diffusion
def test_k_sample_refuses_bad_noise_settings():
    mixture = exact.GaussianMixture.random(dim=2, components=2)
    sigmas = parity.a1111_sigmas("Euler", 4, alphas())
    with pytest.raises(ValueError, match="deterministic"):
        parity.k_sample("Euler", mixture, torch.zeros(2, 2), sigmas, alphas(), noise="randn")
    with pytest.raises(ValueError, match="needs a torch.Generator"):
        parity.k_sample("Euler a", mixture, torch.zeros(2, 2), sigmas, alphas(), noise="randn")
    with pytest.raises(ValueError, match="noise must be"):
        parity.k_sample("Euler a", mixture, torch.zeros(2, 2), sigmas, alphas(), noise="pink")


@needs_k_diffusion
def test_dpmpp_2m_differs_as_shipped_and_agrees_after_the_adjustment():
    row = parity.parity_row("DPM++ 2M", steps=10, samples=16)
    assert row["as shipped"] > 0.1
    assert row["same sigmas, start, noise"] < 1e-4
    assert row["after adjustment"] < 1e-4


def test_parity_table_refuses_unknown_names_before_any_work():
    with pytest.raises(ValueError, match="no k-diffusion sampler for 'UniPC'"):
        parity.parity_table(["Euler", "UniPC"])


@needs_k_diffusion
def test_a1111_exponential_sigmas_are_log_uniform_and_heun_reaches_the_sampler():
    sigmas = parity.a1111_sigmas("DPM++ 2M SDE Exponential", 6, alphas())
    ratios = sigmas[1:-1] / sigmas[:-2]
    assert torch.allclose(ratios, ratios[0].expand_as(ratios), rtol=1e-4) and sigmas[-1] == 0
    assert parity.KSAMPLERS["DPM++ 2M SDE Heun"].options == {"solver_type": "heun"}
    assert len(parity.a1111_sigmas("DPM++ 3M SDE", 6, alphas())) == 7  # 6 steps after the discard


@needs_k_diffusion
def test_third_order_sde_sign_fix_is_what_separates_diffusers_from_k_diffusion():
    mixture = exact.GaussianMixture.random(dim=4, components=3, seed=2)
    shipped = parity.parity_row("DPM++ 3M SDE", steps=10, samples=16, mixture=mixture)
    with parity.fixed_third_order_sde():
        fixed = parity.parity_row("DPM++ 3M SDE", steps=10, samples=16, mixture=mixture)
    assert shipped["same sigmas, start, noise"] > 0.1
    assert fixed["same sigmas, start, noise"] < 1e-4
    from diffusers import DPMSolverMultistepScheduler

    # the patch is undone on exit
    assert "- 0.5)) * D2" in __import__("inspect").getsource(DPMSolverMultistepScheduler.multistep_dpm_solver_third_order_update)


@needs_k_diffusion
def test_dpm_sde_port_with_the_seed_equals_k_diffusion_and_the_docs_class_does_not():
    from diffusers import DPMSolverSinglestepScheduler

    mixture = exact.GaussianMixture.random(dim=4, components=3, seed=2)
    row = parity.parity_row("DPM++ SDE", steps=10, samples=16, mixture=mixture)
    assert row["diffusers"] == "DPMSolverSDEScheduler"
    assert row["after adjustment"] < 1e-4 < 0.1 < row["as shipped"]
    docs = DPMSolverSinglestepScheduler.from_config(SD15, algorithm_type="sde-dpmsolver++", lower_order_final=True)
    other = parity.parity_row("DPM++ SDE", steps=10, samples=16, mixture=mixture, scheduler=docs)
    assert other["same sigmas, start, noise"] > 0.1 and other["adjustment"] == ""
