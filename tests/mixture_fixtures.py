"""The small Gaussian mixture and the noise that the mixture and convergence tests share."""

from __future__ import annotations

import pytest
import torch

from helpers.research.mixture import GaussianMixture


@pytest.fixture(scope="module")
def mixture():
    return GaussianMixture.random(dim=4, components=3, seed=1)


def noise(n: int, dim: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, dim, generator=torch.Generator().manual_seed(seed))
