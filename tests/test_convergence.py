"""helpers.research.convergence: the sweep over samplers and step counts, the fitted orders, the plot and the CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import schedulers
from helpers.models import shipped_configs
from helpers.research import convergence
from tests.mixture_fixtures import mixture, noise  # noqa: F401 - `mixture` is a fixture

SD15 = dict(shipped_configs.SD15_SCHEDULER_CONFIG)


def test_fit_orders_recovers_a_power_law():
    steps = np.array([10, 20, 40, 80])
    frame = pd.DataFrame(
        {
            "label": ["a"] * 4 + ["b"] * 4 + ["c"] * 4,
            "steps": np.tile(steps, 3),
            "median_error": np.concatenate([3.0 / steps, 5.0 / steps**2, np.ones(4)]),
            "stochastic": [False] * 8 + [True] * 4,
        }
    )
    orders = convergence.fit_orders(frame)
    assert orders["a"] == pytest.approx(1.0) and orders["b"] == pytest.approx(2.0)
    assert "c" not in orders


def test_sweep_shows_heun_ahead_of_euler_and_writes_the_cli_outputs(mixture, tmp_path):
    cases = [
        convergence.Case("Euler", lambda: schedulers.make("Euler", SD15)),
        convergence.Case("Heun", lambda: schedulers.make("Heun", SD15)),
    ]
    results = convergence.sweep(cases, mixture, noise(64, 4), [10, 20])
    assert list(results.columns) == ["label", "steps", "nfe", "median_error", "max_error", "switched", "spread", "stochastic"]
    error = results.set_index(["label", "steps"])["median_error"]
    assert error["Heun", 20] < error["Euler", 20] < error["Euler", 10]
    assert results.set_index(["label", "steps"]).loc[("Heun", 10), "nfe"] == 19
    figure = convergence.plot_convergence(results)
    assert len(figure.axes) == 2
    convergence.main(["--out", str(tmp_path), "--samples", "16", "--steps", "4", "8", "--only", "Euler", "Heun"])
    written = pd.read_csv(tmp_path / "convergence.csv")
    assert set(written["label"]) == {"Euler", "Heun"} and len(written) == 4
    assert (tmp_path / "convergence.png").stat().st_size > 0 and (tmp_path / "orders.csv").exists()


def test_default_cases_cover_the_study():
    labels = [c.label for c in convergence.default_cases()]
    for name in ("Euler", "Euler a", "Heun", "LMS", "DPM2", "DPM++ 2M", "DPM++ 2M Karras", "DPM++ 2M SDE", "DPM++ SDE", "DDIM", "PLMS", "UniPC", "DEIS"):
        assert name in labels
    assert "DPM++ 2M Karras (k-diffusion start)" in labels and convergence.A1111_GRID in labels
