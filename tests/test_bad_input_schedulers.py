"""Careless-user mistakes against helpers.schedulers, .mixture, .convergence and .a1111_parity (issue 21).

Each case is a plausible mistake; each must raise the stated exception before any work is done, with a
message that names the argument. None may come back with a result.
"""

import numpy as np
import pandas as pd
import pytest
import torch
from diffusers import DDIMScheduler, EulerDiscreteScheduler

from helpers import schedulers
from helpers.models import shipped_configs
from helpers.research import a1111_parity, convergence, kdiffusion
from helpers.research import mixture as mx
from tests.bad_input_support import assert_names_argument

SD15 = dict(shipped_configs.SD15_SCHEDULER_CONFIG)
MIX = mx.GaussianMixture.random(dim=4, components=3, seed=0)
Z = torch.randn(2, 4, generator=torch.Generator().manual_seed(0))
EULER = EulerDiscreteScheduler.from_config(SD15)
ALPHAS = EULER.alphas_cumprod
SIGMAS = a1111_parity.diffusers_sigmas(EULER, 4)
RESULTS = pd.DataFrame({"label": ["a"] * 2, "steps": [10, 20], "nfe": [10, 20], "median_error": [0.1, 0.05], "stochastic": False})

needs_k = pytest.mark.skipif(not kdiffusion.available(), reason="k-diffusion (the parity extra) is not installed")

CASES = [
    # helpers.schedulers
    ("make: spacing typo", lambda: schedulers.make("Euler", SD15, timestep_spacing="Trailing"), ValueError, "timestep_spacing"),
    ("make: prediction_type abbreviation", lambda: schedulers.make("Euler", SD15, prediction_type="eps"), ValueError, "prediction_type"),
    ("make: DPM prediction_type", lambda: schedulers.make("DPM++ 2M", SD15, prediction_type="v"), ValueError, "prediction_type"),
    ("make: final_sigmas_type case", lambda: schedulers.make("DPM++ 2M", SD15, final_sigmas_type="Zero"), ValueError, "final_sigmas_type"),
    ("make: bool as string", lambda: schedulers.make("Euler", SD15, use_karras_sigmas="yes"), TypeError, "use_karras_sigmas"),
    ("make: float solver_order", lambda: schedulers.make("DPM++ 2M", SD15, solver_order=2.0), TypeError, "solver_order"),
    ("make: spacing not a string", lambda: schedulers.make("DDIM", SD15, timestep_spacing=1), TypeError, "timestep_spacing"),
    ("make: bad base prediction_type", lambda: schedulers.make("Euler", {**SD15, "prediction_type": "eps"}), ValueError, "prediction_type"),
    ("make: name not a string", lambda: schedulers.make(["Euler"], SD15), TypeError, "name"),
    ("make: name typo", lambda: schedulers.make("Eular", SD15), ValueError, "name"),
    ("make: base_config a string", lambda: schedulers.make("Euler", "runwayml/stable-diffusion-v1-5"), TypeError, "base_config"),
    ("make: unknown override", lambda: schedulers.make("DDIM", SD15, use_karras_sigmas=True), ValueError, "use_karras_sigmas"),
    ("lookup: None", lambda: schedulers.lookup(None), TypeError, "name"),
    ("schedule: zero steps", lambda: schedulers.schedule(EULER, 0), ValueError, "steps"),
    ("schedule: float steps", lambda: schedulers.schedule(EULER, 2.5), TypeError, "steps"),
    ("schedule: a config, not a scheduler", lambda: schedulers.schedule(SD15, 4), TypeError, "scheduler"),
    ("explain: a config", lambda: schedulers.explain(SD15), TypeError, "scheduler"),
    ("explain: target an instance", lambda: schedulers.explain(EULER, target=EULER), TypeError, "target"),
    ("swap: a scheduler instead of a pipeline", lambda: schedulers.swap(EULER, "Euler"), TypeError, "pipe"),
    ("a1111_name: sampler not a string", lambda: schedulers.a1111_name(3), TypeError, "sampler"),
    ("a1111_name: schedule_type not a string", lambda: schedulers.a1111_name("Euler", None), TypeError, "schedule_type"),
    ("a1111_name: unknown sampler", lambda: schedulers.a1111_name("DDIM"), ValueError, "sampler"),
    ("setting_values: fine, check_settings refuses", lambda: schedulers.check_settings(DDIMScheduler, {"timestep_spacing": "lead"}), ValueError, "timestep_spacing"),
    # helpers.research.mixture and helpers.research.convergence
    ("run: ascending custom timesteps", lambda: mx.run(EulerDiscreteScheduler.from_config(SD15), MIX, Z, [1, 500, 999]), ValueError, "steps"),
    ("run: timestep past the schedule", lambda: mx.run(EulerDiscreteScheduler.from_config(SD15), MIX, Z, [1000, 500]), ValueError, "steps"),
    ("run: NaN timesteps", lambda: mx.run(EulerDiscreteScheduler.from_config(SD15), MIX, Z, [float("nan"), 1]), ValueError, "steps"),
    ("run: zero steps", lambda: mx.run(EulerDiscreteScheduler.from_config(SD15), MIX, Z, 0), ValueError, "steps"),
    ("run: float steps", lambda: mx.run(EulerDiscreteScheduler.from_config(SD15), MIX, Z, 10.0), TypeError, "steps"),
    ("run: NaN noise", lambda: mx.run(EulerDiscreteScheduler.from_config(SD15), MIX, Z * float("nan"), 3), ValueError, "z"),
    ("run: wrong dim", lambda: mx.run(EulerDiscreteScheduler.from_config(SD15), MIX, torch.randn(2, 3), 3), ValueError, "z"),
    ("run: start typo", lambda: mx.run(EulerDiscreteScheduler.from_config(SD15), MIX, Z, 3, start="kdiffusion"), ValueError, "start"),
    ("run: generator an int", lambda: mx.run(EulerDiscreteScheduler.from_config(SD15), MIX, Z, 3, generator=0), TypeError, "generator"),
    ("run: one generator too few", lambda: mx.run(EulerDiscreteScheduler.from_config(SD15), MIX, Z, 3, generator=[torch.Generator()]), ValueError, "generator"),
    ("run: a list of seeds", lambda: mx.run(EulerDiscreteScheduler.from_config(SD15), MIX, Z, 3, generator=[0, 1]), TypeError, "generator"),
    ("run: a config as scheduler", lambda: mx.run(SD15, MIX, Z, 3), TypeError, "scheduler"),
    ("run: mixture swapped for z", lambda: mx.run(EULER, Z, MIX, 3), TypeError, "mixture"),
    ("random: zero dim", lambda: mx.GaussianMixture.random(dim=0), ValueError, "dim"),
    ("random: float components", lambda: mx.GaussianMixture.random(components=2.0), TypeError, "components"),
    ("random: negative spread", lambda: mx.GaussianMixture.random(spread=-1.0), ValueError, "spread"),
    ("random: reversed std_range", lambda: mx.GaussianMixture.random(std_range=(0.4, 0.1)), ValueError, "std_range"),
    ("random: std_range a number", lambda: mx.GaussianMixture.random(std_range=0.2), TypeError, "std_range"),
    ("random: negative seed", lambda: mx.GaussianMixture.random(seed=-1), ValueError, "seed"),
    ("GaussianMixture: weights not summing to 1", lambda: mx.GaussianMixture(torch.zeros(2, 2), torch.ones(2), torch.ones(2)), ValueError, "weights"),
    ("GaussianMixture: zero std", lambda: mx.GaussianMixture(torch.zeros(2, 2), torch.zeros(2), torch.full((2,), 0.5)), ValueError, "stds"),
    ("sample: zero n", lambda: MIX.sample(0), ValueError, "n"),
    ("sample: generator a seed", lambda: MIX.sample(2, 0), TypeError, "generator"),
    ("denoise: negative sigma", lambda: MIX.denoise(Z, -1.0), ValueError, "sigma"),
    ("denoise: NaN sigma", lambda: MIX.denoise(Z, float("nan")), ValueError, "sigma"),
    ("velocity: wrong dim", lambda: MIX.velocity(torch.randn(2, 5), 1.0), ValueError, "x"),
    ("component: integer x", lambda: MIX.component(torch.zeros(2, 4, dtype=torch.long)), TypeError, "x"),
    ("MixtureModel: eps", lambda: mx.MixtureModel(MIX, ALPHAS, "eps"), ValueError, "prediction_type"),
    ("MixtureModel: alphas with 1", lambda: mx.MixtureModel(MIX, torch.tensor([1.0, 0.5])), ValueError, "alphas_cumprod"),
    ("sigma_of: t past the schedule", lambda: mx.MixtureModel(MIX, ALPHAS).sigma_of(1000.0), ValueError, "timesteps"),
    ("training_sigmas: zero-SNR alphas", lambda: mx.training_sigmas(torch.tensor([0.9, 0.0])), ValueError, "alphas_cumprod"),
    ("reference: sigma_max below sigma_min", lambda: mx.reference(MIX, Z, 0.01, sigma_min=0.03), ValueError, "sigma_max"),
    ("reference: NaN sigma_max", lambda: mx.reference(MIX, Z, float("nan")), ValueError, "sigma_max"),
    ("reference: bool sigma_min", lambda: mx.reference(MIX, Z, 14.6, sigma_min=True), TypeError, "sigma_min"),
    ("reference: zero rtol", lambda: mx.reference(MIX, Z, 14.6, rtol=0), ValueError, "rtol"),
    ("reference: NaN z", lambda: mx.reference(MIX, Z * float("nan"), 14.6), ValueError, "z"),
    ("sigma_max_of: a config", lambda: mx.sigma_max_of(SD15), TypeError, "scheduler"),
    ("sigma_min_of: a pipeline-like object", lambda: mx.sigma_min_of(object()), TypeError, "scheduler"),
    ("keeps_ve_state: a config", lambda: mx.keeps_ve_state(SD15), TypeError, "scheduler"),
    ("compare: shapes differ", lambda: mx.compare(Z, Z[:1], MIX), ValueError, "ref"),
    ("compare: mixture missing", lambda: mx.compare(Z, Z, None), TypeError, "mixture"),
    ("spread: float labels", lambda: mx.spread(Z, MIX, torch.zeros(2)), ValueError, "labels"),
    ("spread: labels out of range", lambda: mx.spread(Z, MIX, torch.tensor([0, 7])), ValueError, "labels"),
    ("a1111_timesteps: zero steps", lambda: mx.a1111_timesteps(0), ValueError, "steps"),
    ("a1111_timesteps: more steps than timesteps", lambda: mx.a1111_timesteps(20, 10), ValueError, "num_train_timesteps"),
    ("a1111_timesteps: float T", lambda: mx.a1111_timesteps(10, 1000.0), TypeError, "num_train_timesteps"),
    ("check_steps: string", lambda: mx.check_steps("10"), TypeError, "steps"),
    ("Case: build not callable", lambda: convergence.Case("x", EULER), TypeError, "build"),
    ("Case: start typo", lambda: convergence.Case("x", lambda: EULER, start="a1111"), ValueError, "start"),
    ("Case: empty label", lambda: convergence.Case("", lambda: EULER), TypeError, "label"),
    ("Case: timesteps a list", lambda: convergence.Case("x", lambda: EULER, timesteps=[999, 0]), TypeError, "timesteps"),
    ("default_cases: a string", lambda: convergence.default_cases("sd15"), TypeError, "base_config"),
    ("sweep: one Case, not a list", lambda: convergence.sweep(convergence.Case("x", lambda: EULER), MIX, Z, [2]), TypeError, "cases"),
    ("sweep: empty cases", lambda: convergence.sweep([], MIX, Z, [2]), ValueError, "cases"),
    ("sweep: steps an int", lambda: convergence.sweep([convergence.Case("x", lambda: EULER)], MIX, Z, 10), TypeError, "steps"),
    ("sweep: zero in steps", lambda: convergence.sweep([convergence.Case("x", lambda: EULER)], MIX, Z, [0, 10]), ValueError, "steps"),
    ("sweep: ref of another shape", lambda: convergence.sweep([convergence.Case("x", lambda: EULER)], MIX, Z, [2], ref=Z[:1]), ValueError, "ref"),
    ("sweep: float seed", lambda: convergence.sweep([convergence.Case("x", lambda: EULER)], MIX, Z, [2], seed=0.5), TypeError, "seed"),
    ("fit_orders: last=1", lambda: convergence.fit_orders(RESULTS, last=1), ValueError, "last"),
    ("fit_orders: a dict", lambda: convergence.fit_orders(RESULTS.to_dict()), TypeError, "results"),
    ("fit_orders: missing column", lambda: convergence.fit_orders(RESULTS.drop(columns="median_error")), ValueError, "results"),
    ("plot_convergence: missing nfe", lambda: convergence.plot_convergence(RESULTS.drop(columns="nfe")), ValueError, "results"),
    # helpers.research.a1111_parity (the k-diffusion-free checks run before k-diffusion is imported)
    ("k_sample: flipped sigmas", lambda: a1111_parity.k_sample("Euler", MIX, Z, SIGMAS.flip(0), ALPHAS), ValueError, "sigmas"),
    ("k_sample: negative sigma", lambda: a1111_parity.k_sample("Euler", MIX, Z, torch.tensor([14.6, 1.0, -0.5]), ALPHAS), ValueError, "sigmas"),
    ("k_sample: NaN sigma", lambda: a1111_parity.k_sample("Euler", MIX, Z, torch.tensor([14.6, float("nan"), 0.0]), ALPHAS), ValueError, "sigmas"),
    ("k_sample: name not a string", lambda: a1111_parity.k_sample(None, MIX, Z, SIGMAS, ALPHAS), TypeError, "name"),
    ("k_sample: diffusers-only name", lambda: a1111_parity.k_sample("UniPC", MIX, Z, SIGMAS, ALPHAS), ValueError, "name"),
    ("k_sample: noise for a deterministic sampler", lambda: a1111_parity.k_sample("Euler", MIX, Z, SIGMAS, ALPHAS, noise="randn"), ValueError, "noise"),
    ("k_sample: randn without generator", lambda: a1111_parity.k_sample("Euler a", MIX, Z, SIGMAS, ALPHAS, noise="randn"), ValueError, "generator"),
    ("k_sample: wrong z dim", lambda: a1111_parity.k_sample("Euler", MIX, torch.randn(2, 5), SIGMAS, ALPHAS), ValueError, "z"),
    ("k_sample: x_start of another shape", lambda: a1111_parity.k_sample("Euler", MIX, Z, SIGMAS, ALPHAS, x_start=Z[:1]), ValueError, "x_start"),
    ("k_sample: ascending alphas", lambda: a1111_parity.k_sample("Euler", MIX, Z, SIGMAS, ALPHAS.flip(0)), ValueError, "alphas_cumprod"),
    ("k_sample: quantize a string", lambda: a1111_parity.k_sample("Euler", MIX, Z, SIGMAS, ALPHAS, quantize="yes"), TypeError, "quantize"),
    ("k_sample: seed negative", lambda: a1111_parity.k_sample("Euler", MIX, Z, SIGMAS, ALPHAS, seed=-1), ValueError, "seed"),
    ("k_sample: mixture missing", lambda: a1111_parity.k_sample("Euler", None, Z, SIGMAS, ALPHAS), TypeError, "mixture"),
    ("a1111_sigmas: name typo", lambda: a1111_parity.a1111_sigmas("Eular", 10, ALPHAS), ValueError, "name"),
    ("a1111_sigmas: zero steps", lambda: a1111_parity.a1111_sigmas("Euler", 0, ALPHAS), ValueError, "steps"),
    ("a1111_sigmas: alphas a string", lambda: a1111_parity.a1111_sigmas("Euler", 10, "sd15"), TypeError, "alphas_cumprod"),
    ("a1111_sigmas: alphas with 1", lambda: a1111_parity.a1111_sigmas("Euler", 10, torch.tensor([1.0, 0.5])), ValueError, "alphas_cumprod"),
    ("diffusers_sigmas: DDIM has none", lambda: a1111_parity.diffusers_sigmas(DDIMScheduler.from_config(SD15), 10), ValueError, "scheduler"),
    ("diffusers_sigmas: a config", lambda: a1111_parity.diffusers_sigmas(SD15, 10), TypeError, "scheduler"),
    ("diffusers_sigmas: zero steps", lambda: a1111_parity.diffusers_sigmas(EULER, 0), ValueError, "steps"),
    ("parity_table: a string", lambda: a1111_parity.parity_table("Euler"), TypeError, "names"),
    ("parity_table: empty list", lambda: a1111_parity.parity_table([]), TypeError, "names"),
    ("parity_table: unknown name", lambda: a1111_parity.parity_table(["Euler", "UniPC"]), ValueError, "names"),
    ("parity_table: zero samples", lambda: a1111_parity.parity_table(["Euler"], samples=0), ValueError, "samples"),
    ("parity_table: float steps", lambda: a1111_parity.parity_table(["Euler"], steps=10.0), TypeError, "steps"),
    ("parity_table: base_config a string", lambda: a1111_parity.parity_table(["Euler"], base_config="sd15"), TypeError, "base_config"),
    ("parity_table: mixture a tensor", lambda: a1111_parity.parity_table(["Euler"], mixture=Z), TypeError, "mixture"),
    ("parity_table: progress a string", lambda: a1111_parity.parity_table(["Euler"], progress="yes"), TypeError, "progress"),
    ("parity_row: name a list", lambda: a1111_parity.parity_row(["Euler"]), TypeError, "name"),
    ("parity_row: negative seed", lambda: a1111_parity.parity_row("Euler", seed=-3), ValueError, "seed"),
    ("parity_row: zero samples", lambda: a1111_parity.parity_row("Euler", samples=0), ValueError, "samples"),
    ("parity_row: DDIM as scheduler", lambda: a1111_parity.parity_row("Euler", scheduler=DDIMScheduler.from_config(SD15)), TypeError, "scheduler"),
]


@pytest.mark.parametrize("call, error, argument", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_mistake_is_refused_naming_the_argument(call, error, argument):
    with pytest.raises(error) as info:
        call()
    assert_names_argument(str(info.value), argument)


def test_refusals_come_before_any_work(monkeypatch):
    """A refused call never reaches diffusers' set_timesteps or k-diffusion's import."""
    touched = []
    monkeypatch.setattr(EulerDiscreteScheduler, "set_timesteps", lambda *a, **k: touched.append("set_timesteps"))
    monkeypatch.setattr(kdiffusion, "import_k_diffusion", lambda: touched.append("k_diffusion"))
    for call in (
        lambda: mx.run(EulerDiscreteScheduler.from_config(SD15), MIX, Z, [1, 999]),
        lambda: a1111_parity.k_sample("Euler", MIX, Z, SIGMAS.flip(0), ALPHAS),
        lambda: a1111_parity.parity_table("Euler"),
        lambda: a1111_parity.a1111_sigmas("Euler", 10, ALPHAS.flip(0)),
    ):
        with pytest.raises((TypeError, ValueError)):
            call()
    assert touched == []


@needs_k
def test_flipped_sigmas_would_have_been_nan():
    """Why k_sample checks the order: k-diffusion itself returns all-NaN samples for flipped sigmas."""
    k = kdiffusion.import_k_diffusion()
    network = mx.MixtureModel(MIX, ALPHAS, "epsilon")
    denoiser = k.external.DiscreteEpsDDPMDenoiser(network, ALPHAS.float(), quantize=False)
    flipped = SIGMAS.flip(0)
    with torch.no_grad():
        out = k.sampling.sample_euler(denoiser, Z.float() * flipped[0], flipped, disable=True)
    assert not bool(torch.isfinite(out).all())


def test_ascending_timesteps_would_have_run():
    """Why run checks the order: diffusers' Euler accepts ascending custom timesteps without a word."""
    scheduler = EulerDiscreteScheduler.from_config(SD15)
    scheduler.set_timesteps(timesteps=[1, 500, 999])
    assert scheduler.timesteps.tolist() == [1.0, 500.0, 999.0]  # exact: whole numbers


def test_good_input_still_works():
    assert schedulers.make("Euler", SD15, timestep_spacing="trailing").config.timestep_spacing == "trailing"
    assert schedulers.make("DPM++ 2M", SD15, prediction_type="v_prediction", solver_order=np.int64(3)).config.solver_order == 3
    run = mx.run(EulerDiscreteScheduler.from_config(SD15), MIX, Z, [999, 500, 1])
    assert run.nfe == 3 and bool(torch.isfinite(run.sample).all())
    per_sample = [torch.Generator().manual_seed(i) for i in range(Z.shape[0])]  # one per image, as 03-seeds does
    assert mx.run(schedulers.make("Euler a", SD15), MIX, Z, 3, generator=per_sample).nfe == 3
