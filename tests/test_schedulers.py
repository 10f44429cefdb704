"""helpers.schedulers: the A1111 table, make/swap/explain/schedule, and the errors they promise."""

import copy

import numpy as np
import pytest
import torch
from diffusers import (
    DDIMScheduler,
    DPMSolverMultistepScheduler,
    EulerDiscreteScheduler,
    PNDMScheduler,
)
from hypothesis import given, settings
from hypothesis import strategies as st

import helpers
from helpers import pipelines, schedulers
from helpers.models import shipped_configs, tiny
from helpers.schedulers import SAMPLERS, SCHEDULE_TYPES, explain, make, schedule, swap

WITH_CLASS = [name for name, s in SAMPLERS.items() if s.scheduler_class is not None]
WITHOUT_CLASS = [name for name, s in SAMPLERS.items() if s.scheduler_class is None]
# KDPM2 builds a 1000-step schedule in __init__ (about a second each) and interleaves its sigmas:
# kept out of the per-name schedule checks.
FAST = [name for name in WITH_CLASS if not SAMPLERS[name].scheduler_class.__name__.startswith("KDPM2")]


@pytest.fixture(scope="module")
def sd15():
    return PNDMScheduler.from_config(dict(shipped_configs.SD15_SCHEDULER_CONFIG))


@pytest.fixture(scope="module")
def sdxl():
    return EulerDiscreteScheduler.from_config(dict(shipped_configs.SDXL_SCHEDULER_CONFIG))


def training_sigmas(config) -> np.ndarray:
    """sigma_t = sqrt((1 - alpha_bar_t) / alpha_bar_t) for SD's scaled-linear betas, computed here, not by diffusers."""
    betas = np.linspace(config["beta_start"] ** 0.5, config["beta_end"] ** 0.5, config["num_train_timesteps"]) ** 2
    alpha_bar = np.cumprod(1.0 - betas)
    return np.sqrt((1.0 - alpha_bar) / alpha_bar)


def test_table_names():
    for name in ("DPM++ 2M", "DPM++ 2M Karras", "DPM++ 2M SDE Karras", "DPM++ SDE", "DPM2 a Karras", "Euler a",
                 "Heun", "LMS Karras", "DDIM", "PLMS", "UniPC", "LCM", "DPM++ 2S a", "DPM fast", "DPM adaptive"):
        assert name in SAMPLERS and SAMPLERS[name].name == name
    assert set(schedulers.table().index) == set(SAMPLERS)
    assert {"DPM++ 2S a", "DPM fast", "DPM adaptive"} <= set(WITHOUT_CLASS)


@pytest.mark.parametrize("name", WITH_CLASS)
@pytest.mark.parametrize("base", ["sd15", "sdxl"])
def test_every_name_builds(name, base, request):
    base_scheduler = request.getfixturevalue(base)
    sampler = SAMPLERS[name]
    made = make(name, base_scheduler.config)
    assert type(made) is sampler.scheduler_class
    for key, value in sampler.kwargs.items():
        assert made.config[key] == value, key
    for key in ("beta_start", "beta_end", "beta_schedule", "num_train_timesteps", "steps_offset"):
        assert made.config[key] == base_scheduler.config[key], key
    # every setting is explicit, so the plain diffusers round trip keeps them
    again = type(made).from_config(made.config)
    for key in sampler.kwargs:
        assert again.config[key] == sampler.kwargs[key], key


def test_base_may_be_the_scheduler_itself(sd15):
    assert make("Euler", sd15).config == make("Euler", sd15.config).config


@pytest.mark.parametrize("name", WITHOUT_CLASS)
def test_no_equivalent_names_raise(name, sd15):
    with pytest.raises(ValueError, match="no diffusers equivalent"):
        make(name, sd15.config)


def test_unknown_name_lists_close_matches_and_all_names(sd15):
    with pytest.raises(ValueError, match="did you mean 'DPM\\+\\+ 2M Karras'") as info:
        make("DPM++ 2m karras", sd15.config)
    assert all(name in str(info.value) for name in SAMPLERS)
    with pytest.raises(TypeError):
        make(None, sd15.config)


@given(st.text(max_size=30).filter(lambda s: s not in SAMPLERS))
@settings(max_examples=50, deadline=None)
def test_any_other_string_is_refused(name):
    with pytest.raises(ValueError, match="unknown sampler"):
        schedulers.lookup(name)


def test_override_the_class_does_not_take_raises(sd15):
    # diffusers would ignore it without a word
    assert "use_karras_sigmas" not in DDIMScheduler.from_config(sd15.config, use_karras_sigmas=True).config
    with pytest.raises(ValueError, match="DDIMScheduler does not take use_karras_sigmas"):
        make("DDIM", sd15.config, use_karras_sigmas=True)


def test_value_the_class_rejects_is_a_value_error(sd15):
    with pytest.raises(ValueError, match="DPMSolverMultistepScheduler rejected"):
        make("DPM++ 2M", sd15.config, algorithm_type="no-such-algorithm")


def test_bad_base_config():
    with pytest.raises(TypeError, match="base_config"):
        make("Euler", 42)
    with pytest.raises(ValueError, match="no noise schedule"):
        make("Euler", {"shift": 3.0})


def test_overrides_win_and_schedule_types_apply(sd15):
    assert make("DPM++ 2M Karras", sd15, use_karras_sigmas=False).config.use_karras_sigmas is False
    for schedule_type in SCHEDULE_TYPES.values():
        made = make("DPM++ 2M", sd15, **schedule_type.kwargs)
        for key, value in schedule_type.kwargs.items():
            assert made.config[key] == value


def test_edits_from_config_would_drop_are_refused(sd15):
    dpm = DPMSolverMultistepScheduler.from_config(sd15.config)
    by_attribute = copy.deepcopy(dpm)
    by_attribute.config.use_karras_sigmas = True
    with pytest.raises(ValueError, match="use_karras_sigmas: attribute True differs from item False"):
        make("DPM++ 2M", by_attribute.config)
    by_item = copy.deepcopy(dpm)
    by_item.config["use_karras_sigmas"] = True
    with pytest.raises(ValueError, match="use_karras_sigmas: attribute False differs from item True"):
        make("DPM++ 2M", by_item.config)
    registered = copy.deepcopy(dpm)
    registered.register_to_config(use_karras_sigmas=True)
    with pytest.raises(ValueError, match="use_karras_sigmas.*_use_default_values"):
        make("DPM++ 2M", registered.config)
    with pytest.raises(ValueError, match="num_train_timesteps: 500"):
        make("DDIM", DDIMScheduler(500))  # positional: diffusers issue #14460
    assert schedulers.edited_keys(dpm.config) == {}


def test_an_attribute_set_on_a_config_without_that_item_is_refused(sd15):
    # SD 1.5's PNDM config holds no use_karras_sigmas item: `config.use_karras_sigmas = True` adds only an
    # attribute, which from_config (reading items) would drop; make must refuse it, not build a uniform 2M
    assert "use_karras_sigmas" not in sd15.config
    pndm = copy.deepcopy(sd15)
    pndm.config.use_karras_sigmas = True
    assert DPMSolverMultistepScheduler.from_config(pndm.config).config.use_karras_sigmas is False  # the drop
    assert set(schedulers.edited_keys(pndm.config)) == {"use_karras_sigmas"}
    for base in (pndm.config, pndm):
        with pytest.raises(ValueError, match=r"use_karras_sigmas: attribute True has no item") as error:
            make("DPM++ 2M", base)
        assert "make('DPM++ 2M', base_config, use_karras_sigmas=True)" in str(error.value)  # what to do instead
    assert make("DPM++ 2M", sd15.config, use_karras_sigmas=True).config.use_karras_sigmas is True
    assert schedulers.edited_keys(sd15.config) == {}  # the fixture itself was not edited


def test_an_item_edit_of_an_explicit_key_is_refused_without_claiming_a_drop(sd15):
    # from_config keeps an item edit of a key the config names (SD 1.5 names beta_schedule), but the
    # live scheduler reads the attribute and make cannot tell which of the two was meant
    dpm = DPMSolverMultistepScheduler.from_config(sd15.config)
    by_item = copy.deepcopy(dpm)
    by_item.config["beta_schedule"] = "linear"
    assert DPMSolverMultistepScheduler.from_config(by_item.config).config.beta_schedule == "linear"
    with pytest.raises(ValueError, match="beta_schedule: attribute 'scaled_linear' differs from item 'linear'") as error:
        make("DPM++ 2M", by_item.config)
    assert "would not carry over as meant" in str(error.value) and "silently drop" not in str(error.value)
    assert make("DPM++ 2M", dpm.config, beta_schedule="linear").config.beta_schedule == "linear"


def test_a_combination_outside_samplers_names_the_make_call_that_builds_it(sd15):
    with pytest.raises(ValueError, match=r"is not in SAMPLERS.*make\('Euler', config, \*\*SCHEDULE_TYPES\['Karras'\]"):
        schedulers.a1111_name("Euler", "Karras")
    assert make("Euler", sd15.config, **SCHEDULE_TYPES["Karras"].kwargs).config.use_karras_sigmas is True


@pytest.mark.parametrize("name", ["Euler", "Heun", "LMS", "DPM++ 2M"])
@pytest.mark.parametrize("schedule_type", ["Uniform", "Karras"])
def test_uniform_and_karras_span_the_training_sigmas_on_a_leading_config(sdxl, name, schedule_type):
    # SDXL's config ships timestep_spacing="leading" (steps_offset=1); Euler, Heun and LMS take their Karras end
    # points from the spaced timesteps, so without linspace they would start at sigma(t = 961), not sigma_max
    sigmas = training_sigmas(shipped_configs.SDXL_SCHEDULER_CONFIG)
    assert sdxl.config.timestep_spacing == "leading"
    kwargs = SCHEDULE_TYPES[schedule_type].kwargs
    assert kwargs["timestep_spacing"] == "linspace"
    made = schedule(make(name, sdxl.config, **kwargs), 25).sigmas
    assert np.isclose(made[0], sigmas[-1], rtol=1e-4), (name, made[0])
    if name != "DPM++ 2M":  # DPM-Solver's linspace grid leaves out t = 0 (the scheduler-config chapter)
        assert np.isclose(made[-2], sigmas[0], rtol=1e-3), (name, made[-2])
    leading = {k: v for k, v in kwargs.items() if k != "timestep_spacing"}
    if name != "DPM++ 2M":  # DPM-Solver's Karras sigmas use the full training range whatever the spacing
        assert schedule(make(name, sdxl.config, **leading), 25).sigmas[0] < 0.9 * sigmas[-1], name


def test_sampler_settings_do_not_leak_into_the_next_sampler(sd15):
    karras = make("DPM++ 2M SDE Karras", sd15)
    euler = make("Euler", karras)
    assert euler.config.use_karras_sigmas is False
    assert make("DPM++ 2M", karras).config.algorithm_type == "dpmsolver++"


def test_explain_reports_the_story(sd15):
    dpm = DPMSolverMultistepScheduler.from_config(sd15.config)
    table = explain(dpm)
    assert set(table.index) == set(dpm.config) - {"_use_default_values"}
    assert table.loc["use_karras_sigmas", "set"] == "default"
    assert table.loc["use_karras_sigmas", "from_config"] == "dropped"
    assert table.loc["beta_schedule", "from_config"] == "kept"
    assert table.loc["skip_prk_steps", "from_config"] == "hidden"  # a PNDM key DPM does not take
    edited = copy.deepcopy(dpm)
    edited.config.use_karras_sigmas = True
    row = explain(edited).loc["use_karras_sigmas"]
    assert (row["attribute"], row["value"], row["from_config"]) == (True, False, "dropped")
    made = explain(make("DPM++ 2M Karras", sd15))
    assert made.loc["use_karras_sigmas", "set"] == "explicit" and made.loc["use_karras_sigmas", "from_config"] == "kept"
    # towards another class: DDIM does not take the DPM keys
    assert explain(make("DPM++ 2M Karras", sd15), target=DDIMScheduler).loc["use_karras_sigmas", "from_config"] != "kept"
    with pytest.raises(TypeError):
        explain(sd15.config)


def test_schedule_matches_the_formulas(sd15):
    train = training_sigmas(sd15.config)
    karras = make("DPM++ 2M Karras", sd15)
    timesteps, sigmas = schedule(karras, 25)
    rho = 7.0
    ramp = np.linspace(0, 1, 25)
    expected = (train[-1] ** (1 / rho) + ramp * (train[0] ** (1 / rho) - train[-1] ** (1 / rho))) ** rho
    np.testing.assert_allclose(sigmas[:-1], expected, rtol=1e-4)
    assert sigmas[-1] == 0.0 and len(timesteps) == 25  # exact: the appended literal 0
    assert karras.num_inference_steps is None  # worked on a copy
    ddim_t, ddim_sigmas = schedule(make("DDIM", sd15), 25)
    assert np.all(np.diff(ddim_t) < 0) and len(ddim_t) == 25
    np.testing.assert_allclose(ddim_sigmas, train[ddim_t.astype(int)], rtol=1e-5)


@pytest.mark.parametrize("name", FAST)
def test_schedules_decrease(name, sd15):
    timesteps, sigmas = schedule(make(name, sd15), 10)
    assert np.all(np.diff(timesteps) <= 0), timesteps
    assert np.all(sigmas >= 0) and np.all(np.diff(sigmas) <= 1e-6), sigmas


@pytest.mark.parametrize("steps", [0, -3, 2.5, True, 1001])
def test_schedule_bad_steps(steps, sd15):
    with pytest.raises(TypeError if isinstance(steps, (bool, float)) else ValueError, match="steps"):
        schedule(sd15, steps)


def test_swap_changes_the_pipeline_and_its_output():
    ctx = helpers.setup(profile="tiny", seed=0, device="cpu")
    pipe = pipelines.load("sd15", ctx)
    call = {**pipelines.default_call_kwargs("sd15", ctx), "output_type": "pt"}
    before = pipe("a cat", generator=ctx.generator(), **call).images
    assert pipe.config["scheduler"][1] == "PNDMScheduler"
    assert swap(pipe, "Euler") is pipe
    assert isinstance(pipe.scheduler, EulerDiscreteScheduler)
    assert tuple(pipe.config["scheduler"]) == ("diffusers", "EulerDiscreteScheduler")
    after = pipe("a cat", generator=ctx.generator(), **call).images
    assert before.shape == after.shape
    assert not torch.allclose(before, after)
    with pytest.raises(TypeError, match="pipeline with a scheduler"):
        swap(object(), "Euler")


def test_every_current_a1111_name_is_mapped():
    # A1111 1.6-1.8 names (sd_samplers_kdiffusion.py, sd_samplers_timesteps.py) beyond the docs table
    for name in ("DPM++ 2M SDE Exponential", "DPM++ 2M SDE Heun", "DPM++ 2M SDE Heun Karras",
                 "DPM++ 2M SDE Heun Exponential", "DPM++ 3M SDE", "DPM++ 3M SDE Karras",
                 "DPM++ 3M SDE Exponential", "DDIM CFG++", "Restart", "DEIS"):
        assert name in SAMPLERS, name
    assert SAMPLERS["DDIM CFG++"].scheduler_class is None
    assert SAMPLERS["DPM++ 2M SDE Heun"].kwargs == {"algorithm_type": "sde-dpmsolver++", "solver_type": "heun"}
    assert SAMPLERS["DPM++ 3M SDE Exponential"].kwargs["solver_order"] == 3
    assert SAMPLERS["DPM++ 3M SDE Exponential"].kwargs["use_exponential_sigmas"] is True


DISCARD = "A1111 takes steps + 1 sigmas and drops the next-to-last one (discard_next_to_last_sigma)"
BROWNIAN = "A1111 draws Brownian-tree noise, DPMSolverMultistepScheduler one randn per step"


def test_the_name_suffix_gives_the_schedule_and_its_setting():
    # one home for the schedule: the name; kwargs add its diffusers setting after the sampler's own
    assert SAMPLERS["LMS Karras"].schedule == "karras" and SAMPLERS["LMS Karras"].kwargs == {"use_karras_sigmas": True}
    assert SAMPLERS["Euler"].schedule == "uniform" and SAMPLERS["Euler"].kwargs == {}
    heun = SAMPLERS["DPM++ 2M SDE Heun Exponential"]
    assert heun.schedule == "exponential"
    assert list(heun.kwargs.items()) == [
        ("algorithm_type", "sde-dpmsolver++"), ("solver_type", "heun"), ("use_exponential_sigmas", True)
    ]
    assert list(SAMPLERS["DPM++ 3M SDE Karras"].kwargs) == [
        "algorithm_type", "solver_order", "solver_type", "lower_order_final", "use_karras_sigmas"
    ]
    assert SAMPLERS["PLMS"].kwargs == {"skip_prk_steps": True}
    # a name without a diffusers class keeps its schedule but takes no settings
    assert SAMPLERS["DPM++ 2S a Karras"].schedule == "karras" and SAMPLERS["DPM++ 2S a Karras"].kwargs == {}
    for name, sampler in SAMPLERS.items():
        suffix = {"karras": " Karras", "exponential": " Exponential"}.get(sampler.schedule)
        assert (suffix is not None and name.endswith(suffix)) or not name.endswith((" Karras", " Exponential")), name
    # kwargs is a fresh dict: editing it leaves the row (and the rows sharing its settings) alone
    edited = SAMPLERS["DPM++ 2M SDE Karras"].kwargs
    edited["algorithm_type"] = "dpmsolver++"
    assert SAMPLERS["DPM++ 2M SDE Karras"].kwargs["algorithm_type"] == "sde-dpmsolver++"
    assert SAMPLERS["DPM++ 2M SDE"].kwargs == {"algorithm_type": "sde-dpmsolver++"}


def test_note_is_the_remark_then_what_the_rows_facts_make_differ():
    docs = "diffusers docs, api/schedulers/overview"
    assert SAMPLERS["Euler"].note == docs
    assert SAMPLERS["Euler a"].note == f"{docs}; ancestral (stochastic)"
    assert SAMPLERS["DPM2 a Karras"].note == f"{docs}; ancestral (stochastic); {DISCARD}; diffusers has no such setting"
    assert SAMPLERS["DPM++ 2M SDE Heun Karras"].note == (
        f"not in the docs table (A1111 1.6+); k-diffusion's solver_type='heun'; stochastic: {BROWNIAN}, so images differ "
        "pixel for pixel"
    )
    # DPMSolverSDEScheduler draws the Brownian tree too; a deterministic DPM-Solver draws nothing
    assert SAMPLERS["DPM++ SDE"].note == SAMPLERS["DPM++ SDE"].remark
    assert "stochastic" not in SAMPLERS["DPM++ 2M"].note
    # a name without a diffusers class says only why
    assert SAMPLERS["DPM++ 2S a"].note == SAMPLERS["DPM++ 2S a"].remark
    assert SAMPLERS["DPM++ 2S a"].noise == "randn" and "ancestral (stochastic)" not in SAMPLERS["DPM++ 2S a"].note
    for name in WITH_CLASS:
        sampler = SAMPLERS[name]
        assert (DISCARD in sampler.note) == sampler.discard_next_to_last_sigma, name
        assert ("ancestral (stochastic)" in sampler.note) == (sampler.noise == "randn"), name
    assert schedulers.table().loc["DPM2", "note"] == SAMPLERS["DPM2"].note


def test_cause_is_the_dropped_sigma_the_adjustments_own_cause_and_the_noise():
    assert SAMPLERS["Euler"].adjustment is None and SAMPLERS["Euler"].cause == ""
    assert SAMPLERS["DPM2"].adjustment.cause == "" and SAMPLERS["DPM2"].cause == DISCARD
    assert SAMPLERS["DPM2 a"].cause == f"{DISCARD}; ancestral noise magnifies what the trailing grid's gap leaves"
    # the plain 3M SDE name: A1111's dropped sigma leaves DPM-Solver's own default grid, so it is
    # no cause there; its Karras and Exponential siblings keep it (their own grids lose a sigma)
    third = SAMPLERS["DPM++ 3M SDE"]
    assert third.cause == f"{third.adjustment.cause}; {BROWNIAN}" and "init_noise_sigma" in third.cause
    assert "leaves diffusers' default 'linspace' grid" in third.note
    assert "no such setting" in SAMPLERS["DPM++ 3M SDE Karras"].note
    sde = SAMPLERS["DPM++ 2M SDE"]
    assert sde.cause == f"{sde.adjustment.cause}; {BROWNIAN}" and sde.cause.startswith("diffusers' 'linspace' grid")
    for name in ("DPM++ 2M", "DPM++ 2M Karras", "DPM++ SDE", "DPM++ SDE Karras"):
        assert SAMPLERS[name].cause == SAMPLERS[name].adjustment.cause != "", name
    assert [n for n, s in SAMPLERS.items() if s.adjustment is not None and not s.adjustment.restores] == [
        "DPM++ 3M SDE", "DPM2 Karras", "DPM2 a Karras"
    ]


def test_automatic_schedule_type_resolves_as_a1111_1_9(sd15):
    assert schedulers.a1111_name("DPM++ 2M") == "DPM++ 2M Karras"
    assert schedulers.a1111_name("DPM++ 2M", "Uniform") == "DPM++ 2M"
    assert schedulers.a1111_name("DPM++ 2M SDE") == "DPM++ 2M SDE Exponential"
    assert schedulers.a1111_name("DPM++ 3M SDE") == "DPM++ 3M SDE Exponential"
    assert schedulers.a1111_name("DPM2 a") == "DPM2 a Karras"
    assert schedulers.a1111_name("Euler") == "Euler"
    assert schedulers.a1111_name("Restart") == "Restart"
    made = make(schedulers.a1111_name("DPM++ SDE"), sd15.config)
    assert made.config.use_karras_sigmas is True
    with pytest.raises(ValueError, match="takes no A1111 schedule type"):
        schedulers.a1111_name("DDIM")
    with pytest.raises(ValueError, match="not part of any SAMPLERS name"):
        schedulers.a1111_name("Euler", "Beta")
    with pytest.raises(ValueError, match="is not in SAMPLERS"):
        schedulers.a1111_name("Euler", "Exponential")


def test_docs_table_differences_name_another_class(sd15):
    from diffusers import DPMSolverSDEScheduler, DPMSolverSinglestepScheduler

    assert SAMPLERS["DPM++ SDE"].scheduler_class is DPMSolverSDEScheduler
    cls, kwargs, why = schedulers.DOCS_TABLE["DPM++ SDE"]
    assert cls is DPMSolverSinglestepScheduler and "another" in why


def test_dpm_sde_without_torchsde_says_how_to_install(sd15, monkeypatch):
    monkeypatch.setattr(schedulers, "is_torchsde_available", lambda: False)
    with pytest.raises(ValueError, match="pip install torchsde"):
        make("DPM++ SDE", sd15.config)


def test_make_carries_only_the_keys_the_base_config_sets_explicitly():
    # PNDMScheduler() lists every key in _use_default_values: PNDM's default 'leading' spacing must
    # not reach Euler, which would then start at 901 instead of its own 'linspace' 999
    pndm = PNDMScheduler()
    euler = make("Euler", pndm)
    assert euler.config.timestep_spacing == "linspace"
    assert schedule(euler, 10).timesteps[0] == 999  # exact: an integer timestep
    # a key the config sets explicitly is carried
    leading = make("Euler", PNDMScheduler(timestep_spacing="leading", steps_offset=1))
    assert leading.config.timestep_spacing == "leading" and schedule(leading, 10).timesteps[0] == 901  # exact: an integer timestep


def test_schedule_takes_as_many_steps_as_training_timesteps_and_no_more(sd15):
    timesteps, sigmas = schedule(make("Euler", sd15), 1000)
    assert len(timesteps) == 1000 and timesteps[0] == 999 and timesteps[-1] == 0  # exact: integer timesteps
    with pytest.raises(ValueError, match=r"steps \(1001\) cannot exceed the 1000 training timesteps"):
        schedule(make("Euler", sd15), 1001)
    # SD 1.5's DDIM: 'leading' plus steps_offset=1 reaches t = 1000 at 1000 steps, where DDIM's step() fails
    with pytest.raises(ValueError, match=r"^steps \(1000\): DDIMScheduler would start at timestep 1000, past its 1000 training"):
        schedule(make("DDIM", sd15), 1000)
    assert len(schedule(make("DDIM", sd15), 999).timesteps) == 999


def test_a1111_name_names_what_it_refuses():
    with pytest.raises(TypeError, match=r"^sampler must be a string such as 'DPM\+\+ 2M', got int 3$"):
        schedulers.a1111_name(3)
    with pytest.raises(TypeError, match=r"^schedule_type must be a string, one of Automatic, Uniform, Karras, Exponential, .*got int$"):
        schedulers.a1111_name("Euler", 3)
    with pytest.raises(ValueError, match=r"^schedule_type='karras' is not accepted \(did you mean 'Karras'\?\).*case matters"):
        schedulers.a1111_name("Euler", "karras")
    with pytest.raises(ValueError, match=r"samplers that do: DPM\+\+ 2M, DPM\+\+ SDE, "):
        schedulers.a1111_name("DDIM")


def test_swap_explain_and_schedule_name_the_argument_they_refuse(sd15):
    from diffusers import ConfigMixin
    from diffusers.configuration_utils import register_to_config
    from diffusers.schedulers.scheduling_utils import SchedulerMixin

    class Settings(ConfigMixin):  # a config holder without set_timesteps
        config_name = "settings.json"

        @register_to_config
        def __init__(self, steps: int = 1):
            pass

    class Bare(SchedulerMixin):  # a scheduler class without a config
        pass

    with pytest.raises(TypeError, match=r"^pipe must be a diffusers pipeline with a scheduler \(swap\); got object$"):
        swap(object(), "Euler")
    with pytest.raises(TypeError, match=r"^scheduler must be a diffusers scheduler \(explain\), e\.g\. pipe\.scheduler; got FrozenDict$"):
        explain(sd15.config)
    with pytest.raises(TypeError, match=r"^target must be a diffusers scheduler class such as DDIMScheduler, got DDIMScheduler \{"):
        explain(sd15, target=DDIMScheduler())  # an instance, not the class
    with pytest.raises(TypeError, match=r"^scheduler must be a diffusers scheduler \(schedule\), e\.g\. pipe\.scheduler; got Settings$"):
        schedule(Settings(), 10)
    with pytest.raises(TypeError, match=r"^scheduler must be a diffusers scheduler \(schedule\), got Bare$"):
        schedule(Bare(), 10)
    with pytest.raises(ValueError, match=r"^steps must be an int >= 1, got 0$"):
        schedule(sd15, 0)
    broken = copy.deepcopy(sd15)
    broken.register_to_config(beta_start=0.02, beta_end=0.01)
    with pytest.raises(ValueError, match=r"^PNDMScheduler: beta_start \(0\.02\) must not exceed beta_end"):
        schedule(broken, 10)


def test_explain_takes_a_config_without_use_default_values_and_new_items(sd15):
    explicit = DPMSolverMultistepScheduler.from_config({k: v for k, v in DPMSolverMultistepScheduler().config.items() if not k.startswith("_")})
    assert "_use_default_values" not in explicit.config
    table = explain(explicit)
    assert set(table["set"]) == {"explicit"}
    added = copy.deepcopy(sd15)
    added.config["brand_new_key"] = 1  # an item with no attribute behind it
    row = explain(added).loc["brand_new_key"]
    assert (row["value"], row["attribute"]) == (1, None)


def test_schedule_returns_float64_arrays_for_both_kinds_of_scheduler(sd15):
    for made in (make("Euler", sd15), make("DPM++ 2M", sd15), make("DDIM", sd15)):
        timesteps, sigmas = schedule(made, 10)
        assert isinstance(timesteps, np.ndarray) and isinstance(sigmas, np.ndarray)
        assert (timesteps.dtype, sigmas.dtype) == (np.float64, np.float64), type(made).__name__


def test_schedule_names_the_settings_that_reach_past_the_training_timesteps(sd15):
    with pytest.raises(ValueError) as info:
        schedule(make("PLMS", sd15), 1000)
    message = str(info.value)
    assert message.startswith("steps (1000): PNDMScheduler would start at timestep 1000, past its 1000 training timesteps")
    assert "timestep_spacing='leading', steps_offset=1" in message


def test_table_lists_class_settings_and_note_per_name():
    table = schedulers.table()
    assert table.index.name == "A1111 name" and list(table.columns) == ["diffusers class", "settings", "note"]
    assert table.loc["DPM++ 2M SDE Karras", "diffusers class"] == "DPMSolverMultistepScheduler"
    assert table.loc["DPM++ 2M SDE Karras", "settings"] == "algorithm_type='sde-dpmsolver++', use_karras_sigmas=True"
    assert table.loc["DPM fast", "diffusers class"] == "no equivalent"
    assert table.loc["DPM fast", "note"] == SAMPLERS["DPM fast"].note


def test_setting_values_reads_the_literal_annotation_else_the_table():
    from diffusers import ConfigMixin
    from diffusers.configuration_utils import register_to_config
    from diffusers.schedulers.scheduling_utils import SchedulerMixin

    class Unresolved(SchedulerMixin, ConfigMixin):  # an annotation that does not resolve
        @register_to_config
        def __init__(self, timestep_spacing: "NoSuchType" = "leading"):  # noqa: F821
            pass

    assert schedulers.setting_values(EulerDiscreteScheduler, "timestep_spacing") == ("linspace", "leading", "trailing")
    assert schedulers.setting_values(Unresolved, "timestep_spacing") == ("linspace", "leading", "trailing")
    assert schedulers.setting_values(EulerDiscreteScheduler, "timestep_type") == ("discrete", "continuous")  # its Literal
    assert schedulers.setting_values(DDIMScheduler, "timestep_type") is None  # a key DDIM does not take
    assert schedulers.setting_values(EulerDiscreteScheduler, "use_karras_sigmas") is None  # not checked by value
    with pytest.raises(TypeError, match=r"^cls must be a diffusers scheduler class .*got the string 'EulerDiscreteScheduler'"):
        schedulers.setting_values("EulerDiscreteScheduler", "timestep_spacing")
    with pytest.raises(TypeError, match=r"^key must be one setting name \(a str\) .*got int 3$"):
        schedulers.setting_values(EulerDiscreteScheduler, 3)


def test_check_settings_refuses_values_and_types_the_class_does_not_take():
    check = schedulers.check_settings
    with pytest.raises(ValueError, match=r"^EulerDiscreteScheduler: timestep_spacing='Trailing' is not accepted \(did you mean 'trailing'\?\)"):
        check(EulerDiscreteScheduler, {"timestep_spacing": "Trailing"})
    with pytest.raises(TypeError, match=r"^EulerDiscreteScheduler: use_karras_sigmas must be True or False, got str 'yes'$"):
        check(EulerDiscreteScheduler, {"use_karras_sigmas": "yes"})
    with pytest.raises(ValueError, match=r"^DPMSolverMultistepScheduler: solver_order must be an int in \[1, 3\], got 4$"):
        check(DPMSolverMultistepScheduler, {"solver_order": 4})
    with pytest.raises(TypeError, match=r"^DDIMScheduler: clip_sample_range must be a number, got str '1'$"):
        check(DDIMScheduler, {"clip_sample_range": "1"})
    settings = check(EulerDiscreteScheduler, {"use_karras_sigmas": np.bool_(True), "timestep_spacing": "trailing"})
    assert settings == {"use_karras_sigmas": True, "timestep_spacing": "trailing"} and type(settings["use_karras_sigmas"]) is bool


def test_check_settings_names_a_scheduler_instance_and_a_list_of_pairs():
    check = schedulers.check_settings
    with pytest.raises(TypeError, match=r"^cls must be .*got an instance of DDIMScheduler: pass its class, type\(scheduler\) \(here DDIMScheduler\)$"):
        check(DDIMScheduler(), {})
    with pytest.raises(TypeError, match=r"^cls must be a diffusers scheduler class such as EulerDiscreteScheduler, got str 'Euler'$"):
        check("Euler", {})
    with pytest.raises(TypeError, match=r"^settings must be a mapping .*got list \(turn a list of pairs into one with dict\(pairs\)\)$"):
        check(EulerDiscreteScheduler, [("use_karras_sigmas", True)])
    with pytest.raises(TypeError, match=r"^settings must be a mapping .*got int$"):
        check(EulerDiscreteScheduler, 3)


def test_swap_passes_the_overrides_and_refuses_a_pipeline_without_a_scheduler(sd15):
    from diffusers import DiffusionPipeline

    class WithScheduler(DiffusionPipeline):
        def __init__(self, scheduler):
            super().__init__()
            self.register_modules(scheduler=scheduler)

    class WithoutScheduler(DiffusionPipeline):
        def __init__(self):
            super().__init__()

    pipe = WithScheduler(copy.deepcopy(sd15))
    assert swap(pipe, "Euler", use_karras_sigmas=True) is pipe
    assert isinstance(pipe.scheduler, EulerDiscreteScheduler) and pipe.scheduler.config.use_karras_sigmas is True
    with pytest.raises(TypeError, match=r"^pipe must be a diffusers pipeline with a scheduler \(swap\), got WithoutScheduler$"):
        swap(WithoutScheduler(), "Euler")


def test_accepted_keys_are_the_named_arguments_of_a_scheduler_class():
    from diffusers import ConfigMixin
    from diffusers.configuration_utils import register_to_config
    from diffusers.schedulers.scheduling_utils import SchedulerMixin

    class Catchall(SchedulerMixin, ConfigMixin):
        @register_to_config
        def __init__(self, steps: int = 1, *args, **kwargs):
            pass

    assert schedulers.accepted_keys(Catchall) == {"steps"}  # not self, *args or **kwargs
    assert "self" not in schedulers.accepted_keys(EulerDiscreteScheduler)
    for bad, got in [
        (DDIMScheduler(), r"got an instance of DDIMScheduler: pass its class, type\(scheduler\)$"),
        ("EulerDiscreteScheduler", r"got the string 'EulerDiscreteScheduler': pass the class itself, e\.g\. diffusers\.EulerDiscreteScheduler$"),
        ("Euler Discrete", r"got the string 'Euler Discrete'$"),
        (3, r"got int 3$"),
    ]:
        with pytest.raises(TypeError, match=r"^cls must be a diffusers scheduler class such as EulerDiscreteScheduler, " + got):
            schedulers.accepted_keys(bad)


def test_the_beta_schedules_a_class_implements_are_read_from_its_source(sd15):
    from diffusers import DDPMScheduler

    assert schedulers._beta_schedules(DDPMScheduler) == ("laplace", "linear", "scaled_linear", "sigmoid", "squaredcos_cap_v2")
    assert schedulers._beta_schedules(EulerDiscreteScheduler) == ("linear", "scaled_linear", "squaredcos_cap_v2")
    source = "class NoSource:\n    def __init__(self, beta_schedule='linear'):\n        pass\n"
    namespace = {}
    exec(compile(source, "<no file>", "exec"), namespace)  # noqa: S102 - a class whose source cannot be read
    assert schedulers._beta_schedules(namespace["NoSource"]) == schedulers.BETA_SCHEDULES
    with pytest.raises(ValueError, match=r"beta_schedule='cosine' is not accepted"):
        make("Euler", {**sd15.config, "beta_schedule": "cosine"})


def _noise_schedule(**settings):
    """A plain base config (no _use_default_values): a DDPM noise schedule and `settings` on top."""
    return {"num_train_timesteps": 1000, "beta_schedule": "linear", "beta_start": 0.0001, "beta_end": 0.02, **settings}


@pytest.mark.parametrize(
    ("settings", "refused"),
    [
        ({"num_train_timesteps": 0}, r"^EulerDiscreteScheduler: num_train_timesteps must be an int >= 1, got 0$"),
        ({"steps_offset": -1}, r"^EulerDiscreteScheduler: steps_offset must be an int >= 0, got -1$"),
        ({"trained_betas": [[0.1, 0.2]], "num_train_timesteps": 2}, r"^EulerDiscreteScheduler: trained_betas must be a 1-d .*got shape \(1, 2\)$"),
        ({"trained_betas": [0.1, 0.0], "num_train_timesteps": 2}, r"^EulerDiscreteScheduler: trained_betas must be .* in \(0, 1\).*got values in \[0.0, 0.1\]$"),
        ({"trained_betas": [0.1, 1.0], "num_train_timesteps": 2}, r"got values in \[0.1, 1.0\]$"),
        ({"trained_betas": [0.1, "0.2"], "num_train_timesteps": 2}, r"^EulerDiscreteScheduler: trained_betas\[1\] must be a number"),
        ({"trained_betas": [0.1, 0.2], "num_train_timesteps": 3}, r"^EulerDiscreteScheduler: trained_betas must hold one beta per training timestep \(num_train_timesteps=3\), got 2$"),
        ({"beta_schedule": "cosine"}, r"^EulerDiscreteScheduler: beta_schedule='cosine' is not accepted"),
        ({"beta_start": 0.0}, r"^EulerDiscreteScheduler: beta_start must lie in \(0, 1\) .*got 0.0$"),
        ({"beta_end": 1.0}, r"^EulerDiscreteScheduler: beta_end must lie in \(0, 1\) .*got 1.0$"),
        ({"beta_start": "0.1"}, r"^EulerDiscreteScheduler: beta_start must be a number"),
        ({"beta_start": 0.02, "beta_end": 0.01}, r"^EulerDiscreteScheduler: beta_start \(0.02\) must not exceed beta_end \(0.01\)"),
        ({"beta_start": 0.02, "beta_end": 0.01, "beta_schedule": "scaled_linear"}, r"must not exceed beta_end"),
    ],
)
def test_make_refuses_an_empty_or_meaningless_noise_schedule(settings, refused):
    with pytest.raises((TypeError, ValueError), match=refused):
        make("Euler", _noise_schedule(**settings))


def test_make_accepts_the_bounds_of_a_noise_schedule():
    for settings in (
        {"num_train_timesteps": 1, "trained_betas": [0.5]},  # one training timestep
        {"steps_offset": 0},
        {"trained_betas": [0.1, 0.2], "num_train_timesteps": 2, "beta_start": 5.0},  # trained betas replace the rest
        {"beta_start": 0.01, "beta_end": 0.01},  # equal ends: constant betas
        {"beta_start": 0.02, "beta_end": 0.01, "beta_schedule": "squaredcos_cap_v2"},  # ignores both
    ):
        assert isinstance(make("Euler", _noise_schedule(**settings)), EulerDiscreteScheduler), settings
    # a noise schedule named by beta_schedule alone, or by trained_betas alone
    assert make("Euler", {"num_train_timesteps": 1000, "beta_schedule": "linear"}).config.beta_schedule == "linear"
    stored = make("Euler", {"num_train_timesteps": 2, "trained_betas": [0.1, 0.2]}).config.trained_betas
    assert stored == [0.1, 0.2]  # exact: the list is stored as given, not computed
    with pytest.raises(ValueError, match="no noise schedule"):
        make("Euler", {"num_train_timesteps": 1000})
    # the class's default beta_start counts: above this beta_end, the betas would fall
    with pytest.raises(ValueError, match=r"beta_start \(0.0001\) must not exceed beta_end \(5e-05\)"):
        make("Euler", {"num_train_timesteps": 1000, "beta_schedule": "linear", "beta_end": 0.00005})


def test_make_names_keys_no_scheduler_takes_and_overrides_this_one_does_not(sd15):
    with pytest.raises(ValueError) as info:
        make("Euler", {**sd15.config, "beta_shedule": "linear", "zzz": 1})
    message = str(info.value)
    assert message.startswith("base_config holds 'beta_shedule' (did you mean 'beta_schedule'?), 'zzz', which no diffusers scheduler takes")
    assert "such as beta_end, beta_schedule, beta_start, final_sigmas_type, interpolation_type, num_train_timesteps, ..." in message
    with pytest.raises(ValueError, match=r"^DDIMScheduler does not take use_karras_sigmas \(diffusers would silently ignore it\); it takes: "):
        make("DDIM", sd15, use_karras_sigmas=True)
    with pytest.raises(ValueError, match=r"^DDIMScheduler does not take shift, use_karras_sigmas \(diffusers would silently ignore them\)"):
        make("DDIM", sd15, use_karras_sigmas=True, shift=3.0)


def test_make_checks_carried_settings_and_carries_them_as_python_values(sd15):
    with pytest.raises(TypeError, match=r"^DDIMScheduler: clip_sample must be True or False, got str 'yes'$"):
        make("DDIM", {**sd15.config, "clip_sample": "yes"})
    with pytest.raises(TypeError, match=r"^EulerDiscreteScheduler: steps_offset must be an int, got str '1'$"):
        make("Euler", {**sd15.config, "steps_offset": "1"})
    made = make("Euler", {**sd15.config, "beta_start": np.float64(0.00085), "steps_offset": np.int64(1)})
    assert type(made.config.beta_start) is float and type(made.config.steps_offset) is int
    # a model key the new class does not take is still carried, as given
    assert make("Euler", sd15).config["set_alpha_to_one"] is False


def test_edited_keys_reads_every_key_and_names_what_it_refuses():
    config = {"_class_name": "DDIMScheduler", "num_train_timesteps": 500, "_use_default_values": ["num_train_timesteps"]}
    assert schedulers.edited_keys(config) == {
        "num_train_timesteps": "500 is listed in _use_default_values, so from_config resets it to 1000"
    }
    with pytest.raises(TypeError, match=r"^config must be a scheduler's config \(a mapping such as scheduler\.config\), got the DDIMScheduler itself: pass its \.config$"):
        schedulers.edited_keys(DDIMScheduler())
    with pytest.raises(TypeError, match=r"^config must be a scheduler's config \(a mapping such as scheduler\.config\); got int$"):
        schedulers.edited_keys(3)


class _Attributes(dict):
    """A config whose attributes are copies of its items (equal, not the same objects)."""

    def __getattr__(self, key):
        if key not in self:
            raise AttributeError(key)
        return copy.deepcopy(self[key])


def test_edited_keys_compares_attribute_and_item_by_value():
    assert schedulers.edited_keys(_Attributes(trained_betas=[0.1, 0.2])) == {}
    arrays = _Attributes(trained_betas=np.array([0.1, 0.2]))
    arrays.__class__ = type("Edited", (_Attributes,), {"trained_betas": np.array([0.3, 0.4])})
    assert set(schedulers.edited_keys(arrays)) == {"trained_betas"}  # arrays that differ are an edit


def test_lookup_suggests_at_most_three_names_and_none_when_nothing_is_close():
    with pytest.raises(ValueError, match=r"did you mean 'DPM\+\+ 2M SDE', 'DPM\+\+ 3M SDE', 'DPM\+\+ SDE'\? valid names"):
        schedulers.lookup("dpm++ 2m sde")
    with pytest.raises(ValueError) as info:
        schedulers.lookup("zzzz")
    assert "did you mean" not in str(info.value)
    with pytest.raises(TypeError, match=r"^name must be a sampler name \(a string such as 'DPM\+\+ 2M Karras'\), got int 3$"):
        schedulers.lookup(3)


def test_make_names_a_pipeline_or_a_number_given_as_the_base_config(sd15):
    from diffusers import DiffusionPipeline

    class WithScheduler(DiffusionPipeline):
        def __init__(self, scheduler):
            super().__init__()
            self.register_modules(scheduler=scheduler)

    with pytest.raises(TypeError, match=r"^base_config must be a scheduler or its config, got the pipeline WithScheduler: pass pipe\.scheduler$"):
        make("Euler", WithScheduler(copy.deepcopy(sd15)))
    with pytest.raises(TypeError, match=r"^base_config must be a scheduler or its config \(a dict such as pipe\.scheduler\.config\); got int$"):
        make("Euler", 42)


def test_the_noise_schedule_of_a_scheduler_is_checked_against_its_own_class(sd15):
    from diffusers import DDPMScheduler

    assert len(schedule(DDPMScheduler(beta_schedule="sigmoid"), 10).timesteps) == 10  # DDPM implements sigmoid
    edited = copy.deepcopy(sd15)
    edited.register_to_config(beta_start="0.1")
    with pytest.raises(TypeError, match=r"^PNDMScheduler: beta_start must be a number, got str '0.1'$"):
        schedule(edited, 10)


def test_check_settings_checks_every_setting_and_make_carries_python_values(sd15):
    with pytest.raises(TypeError, match=r"^EulerDiscreteScheduler: use_karras_sigmas must be True or False"):
        schedulers.check_settings(EulerDiscreteScheduler, {"timestep_spacing": "trailing", "use_karras_sigmas": "yes"})
    # a model key the new class does not take is carried as a Python value, so the config stays JSON
    made = make("Euler", {**sd15.config, "set_alpha_to_one": np.bool_(False)})
    assert type(made.config["set_alpha_to_one"]) is bool
