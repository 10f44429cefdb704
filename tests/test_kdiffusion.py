"""helpers.research.kdiffusion: `import k_diffusion` with stand-ins for the packages its samplers never use.

The stand-in tests run everywhere; the import itself needs the optional `parity` extra (installed
by `make test`).
"""

from __future__ import annotations

import importlib.util
import sys

import pytest
import torch

from helpers import schedulers
from helpers.models import shipped_configs
from helpers.research import a1111_parity, kdiffusion
from helpers.research import mixture as mx

SD15 = dict(shipped_configs.SD15_SCHEDULER_CONFIG)
needs_k_diffusion = pytest.mark.skipif(
    not kdiffusion.available(), reason=f"k-diffusion is not installed: {kdiffusion.INSTALL_HINT}"
)


def alphas():
    return schedulers.make("Euler", SD15).alphas_cumprod


# The stand-ins -----------------------------------------------------------------------------------------


def test_stand_ins_exist_only_inside_the_context():
    assert all(name not in sys.modules for name in ("clip", "cleanfid")), "a real clip/cleanfid would make this test moot"
    with kdiffusion.stand_ins():
        import clip
        from cleanfid.inception_torchscript import InceptionV3W

        assert isinstance(InceptionV3W, kdiffusion._Absent)
        with pytest.raises(kdiffusion.StandInUsed, match="cleanfid.inception_torchscript.InceptionV3W is a stand-in"):
            InceptionV3W("model.pt")
        with pytest.raises(kdiffusion.StandInUsed, match="clip.load"):
            clip.load("ViT-B/32")
    assert "clip" not in sys.modules and "cleanfid.inception_torchscript" not in sys.modules
    assert not any(isinstance(finder, kdiffusion._StandInFinder) for finder in sys.meta_path)


def test_stand_ins_leave_modules_that_are_already_imported_alone():
    import numpy

    saved = kdiffusion.STAND_IN_MODULES
    try:
        kdiffusion.STAND_IN_MODULES = (*saved, "numpy")
        with kdiffusion.stand_ins():
            import numpy as inside
        assert inside is numpy
    finally:
        kdiffusion.STAND_IN_MODULES = saved


def test_import_without_k_diffusion_says_how_to_install(monkeypatch):
    monkeypatch.delitem(sys.modules, "k_diffusion", raising=False)
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a, **k: None if name == "k_diffusion" else real(name, *a, **k))
    assert not kdiffusion.available()
    with pytest.raises(ImportError, match=r"pip install --no-deps k-diffusion==0.1.1.post1"):
        kdiffusion.import_k_diffusion()


@needs_k_diffusion
def test_k_diffusion_imports_and_its_samplers_work_without_the_stood_in_packages():
    k = kdiffusion.import_k_diffusion()
    # the imported sampler and wrapper really compute: Euler's one step from sigma to 0 is x - sigma * eps,
    # which for the exact network is the exact denoiser D(x, sigma)
    mixture = mx.GaussianMixture.random(dim=3, components=2, seed=1)
    denoiser = k.external.DiscreteEpsDDPMDenoiser(mx.MixtureModel(mixture, alphas()), alphas(), quantize=False)
    sigma = float(a1111_parity.a1111_sigmas("Euler", 4, alphas())[1])
    x = torch.randn(5, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    out = k.sampling.sample_euler(denoiser, x, torch.tensor([sigma, 0.0], dtype=torch.float64), disable=True)
    assert torch.allclose(out, mixture.denoise(x, sigma), rtol=1e-4, atol=1e-5)
    assert not any(isinstance(m, kdiffusion._StandInModule) for m in sys.modules.values())
    with pytest.raises(kdiffusion.StandInUsed, match="torchvision.transforms.functional"):
        k.utils.to_pil_image(torch.zeros(3, 4, 4))
