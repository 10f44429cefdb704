"""helpers.research.signatures: parameter tables read from the installed diffusers (no pipeline is built)."""

from __future__ import annotations

import inspect

import pandas as pd
import pytest
import torch
from diffusers import (
    DDIMScheduler,
    DiffusionPipeline,
    PixArtSigmaPipeline,
    StableDiffusionPAGPipeline,
    StableDiffusionPipeline,
    StableDiffusionXLPipeline,
    UNet2DConditionModel,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.research import signatures
from helpers.research.signatures import ABSENT, GROUPS, REQUIRED, VAR_KEYWORD, call_parameters, compare, diff

CLASSES = (StableDiffusionPipeline, StableDiffusionXLPipeline, PixArtSigmaPipeline, StableDiffusionPAGPipeline)


class ToyPipeline(DiffusionPipeline):
    """A pipeline defined here, so the parsing is checked against a signature we wrote ourselves."""

    def __call__(self, prompt, strength: float = 0.5, *images, frobnicate=(0, 0), steps=20, height=None,
                 scale=1.0, **kwargs):
        """Make something.

        Args:
            prompt (`str`):
                What to draw.
                Second line of the description.
            strength: (`float`, *optional*, defaults to 0.5): How hard to try.
            frobnicate (`tuple(int)`, *optional*,
                defaults to (0, 0)): A made-up model-specific knob.
            steps (`int`, *optional*, defaults to 100):
                Documented with another value than the code's.
            height (`int`, *optional*, defaults to self.unet.config.sample_size):
                Computed when None.
            scale (`float`, *optional*, defaults to `1`):
                The same number, written as an int.

        Returns:
            nothing useful
        """


class ToyChild(ToyPipeline):
    """Inherits __call__: still a concrete pipeline."""


def by_name(pipeline) -> dict:
    return {p.name: p for p in call_parameters(pipeline)}


def bare_instance(cls):
    # an instance without running __init__ (which would need real components)
    return cls.__new__(cls)


# --- call_parameters -------------------------------------------------------------------------


def test_known_defaults_of_the_pinned_diffusers():
    sd, xl, pixart = (by_name(c) for c in CLASSES[:3])
    guidance = (sd["guidance_scale"].default, xl["guidance_scale"].default, pixart["guidance_scale"].default)
    assert guidance == (7.5, 5.0, 4.5)  # exact: default literals, read unchanged
    assert (sd["num_inference_steps"].default, pixart["num_inference_steps"].default) == (50, 20)
    assert xl["crops_coords_top_left"].default == (0, 0) and xl["crops_coords_top_left"].shown == "(0, 0)"
    assert pixart["negative_prompt"].shown == "''" and sd["negative_prompt"].shown == "None"
    assert "original_size" in xl and "original_size" not in sd and "original_size" not in pixart


def test_order_and_self_follow_the_signature():
    names = [p.name for p in call_parameters(StableDiffusionXLPipeline)]
    expected = [n for n in inspect.signature(StableDiffusionXLPipeline.__call__).parameters if n != "self"]
    assert names == expected


def test_instance_gives_the_same_parameters_as_its_class():
    assert call_parameters(bare_instance(StableDiffusionPipeline)) == call_parameters(StableDiffusionPipeline)


def test_toy_pipeline_required_var_keyword_groups_and_docs():
    params = by_name(ToyPipeline)
    assert list(params) == ["prompt", "strength", "frobnicate", "steps", "height", "scale", "kwargs"]  # not *images
    assert params["prompt"].shown == REQUIRED and params["prompt"].default is inspect.Parameter.empty
    assert params["strength"].shown == "0.5" and params["strength"].annotation == "float"
    assert params["kwargs"].shown == VAR_KEYWORD
    assert params["prompt"].group == "prompting" and params["strength"].group == "model-specific"
    assert params["prompt"].doc == "What to draw. Second line of the description."
    assert params["strength"].doc == "How hard to try."  # the `name: (type): text` variant
    assert params["frobnicate"].doc == "A made-up model-specific knob."  # type wrapped onto two lines
    assert params["kwargs"].doc == ""
    assert params["frobnicate"].documented_default == "(0, 0)"
    assert params["scale"].documented_default == "1"  # backticks stripped
    assert params["prompt"].documented_default == ""
    assert call_parameters(ToyChild) == call_parameters(ToyPipeline)


def test_docs_come_from_diffusers_docstrings():
    xl = by_name(StableDiffusionXLPipeline)
    assert "micro-conditioning" in xl["original_size"].doc
    assert xl["ip_adapter_image"].doc  # written `ip_adapter_image: (...)` in diffusers
    assert not any("*optional*" in p.doc for p in xl.values())  # no type text leaks into the prose


@pytest.mark.parametrize(
    "bad, named",
    [
        (3, "int 3"),
        ("sd15", "str 'sd15'"),
        (None, "NoneType None"),
        (StableDiffusionPipeline.__call__, "function"),
        (DDIMScheduler, "the class DDIMScheduler"),
        (UNet2DConditionModel, "the class UNet2DConditionModel"),
        (torch.nn.Linear(2, 2), "Linear"),
    ],
)
def test_anything_but_a_pipeline_is_a_type_error_that_names_it(bad, named):
    with pytest.raises(TypeError, match="expected a diffusers pipeline") as info:
        call_parameters(bad)
    assert named in str(info.value)
    assert "DiffusionPipeline subclass" in str(info.value)


def test_the_base_class_has_no_call_to_describe():
    with pytest.raises(TypeError, match="DiffusionPipeline defines no __call__"):
        call_parameters(DiffusionPipeline)


def test_group_of_unknown_names_is_model_specific():
    assert signatures.group_of("height") == "size"
    assert signatures.group_of("a_parameter_diffusers_adds_tomorrow") == "model-specific"
    assert set(signatures.GROUP_OF.values()) <= set(GROUPS)


# --- compare ---------------------------------------------------------------------------------


def test_compare_cells_rows_and_columns():
    table = compare(*CLASSES)
    assert list(table.columns) == [c.__name__ for c in CLASSES]
    assert table.index.names == ["group", "parameter"]
    assert table.loc[("guidance", "guidance_scale")].tolist() == ["7.5", "5.0", "4.5", "7.5"]
    assert table.loc[("size", "use_resolution_binning")].tolist() == [ABSENT, ABSENT, "True", ABSENT]
    assert table.loc[("model-specific", "kwargs")].tolist() == [VAR_KEYWORD, VAR_KEYWORD, VAR_KEYWORD, ABSENT]
    assert table.loc[("callbacks", "callback_steps")].tolist() == [ABSENT, ABSENT, "1", ABSENT]


def test_compare_groups_appear_in_order_and_each_parameter_once():
    table = compare(*CLASSES)
    ranks = [GROUPS.index(g) for g in table.index.get_level_values("group")]
    assert ranks == sorted(ranks)
    assert table.index.get_level_values("parameter").is_unique


def test_compare_keeps_signature_order_within_a_group():
    table = compare(StableDiffusionXLPipeline)
    sizes = table.xs("prompting").index.tolist()
    signature = [p.name for p in call_parameters(StableDiffusionXLPipeline) if p.group == "prompting"]
    assert sizes == signature


@settings(max_examples=25, deadline=None)
@given(st.permutations(CLASSES).flatmap(lambda perm: st.integers(1, len(perm)).map(lambda n: perm[:n])))
def test_compare_agrees_with_call_parameters_for_any_choice_and_order(classes):
    table = compare(*classes)
    for cls in classes:
        params = by_name(cls)
        column = table[cls.__name__]
        for (group, name), cell in column.items():
            if name in params:
                assert (cell, group) == (params[name].shown, params[name].group)
            else:
                assert cell == ABSENT
        assert (column != ABSENT).sum() == len(params)


def test_compare_accepts_instances_and_mixed_input():
    mixed = compare(bare_instance(StableDiffusionPipeline), PixArtSigmaPipeline)
    pd.testing.assert_frame_equal(mixed, compare(StableDiffusionPipeline, PixArtSigmaPipeline))


def test_compare_refuses_nothing_repeats_and_non_pipelines():
    with pytest.raises(ValueError, match="at least one pipeline"):
        compare()
    with pytest.raises(ValueError, match="more than once: StableDiffusionPipeline"):
        compare(StableDiffusionPipeline, bare_instance(StableDiffusionPipeline))
    with pytest.raises(TypeError, match="got the class DDIMScheduler"):
        compare(StableDiffusionPipeline, DDIMScheduler)


# --- diff ------------------------------------------------------------------------------------


def test_diff_of_sd_and_its_pag_variant():
    delta = diff(StableDiffusionPipeline, StableDiffusionPAGPipeline)
    assert delta.index.get_level_values("parameter").tolist() == ["pag_scale", "pag_adaptive_scale", "kwargs"]
    assert delta["change"].tolist() == [
        "only in StableDiffusionPAGPipeline",
        "only in StableDiffusionPAGPipeline",
        "only in StableDiffusionPipeline",
    ]


def test_diff_reports_changed_defaults():
    delta = diff(StableDiffusionPipeline, StableDiffusionXLPipeline)
    changed = delta[delta["change"] == "default differs"].index.get_level_values("parameter").tolist()
    assert changed == ["guidance_scale"]


def test_diff_of_a_class_with_itself_is_refused():
    with pytest.raises(ValueError, match="more than once: PixArtSigmaPipeline"):
        diff(PixArtSigmaPipeline, bare_instance(PixArtSigmaPipeline))


def test_diff_of_identical_signatures_is_empty():
    delta = diff(ToyPipeline, ToyChild)
    assert delta.empty
    assert list(delta.columns) == ["ToyPipeline", "ToyChild", "change"]


def test_parameter_docs_table():
    docs = signatures.parameter_docs(PixArtSigmaPipeline)
    assert list(docs.columns) == ["group", "default", "documented default", "type", "doc"]
    assert docs.loc["max_sequence_length", "default"] == "300"
    assert "Maximum sequence length" in docs.loc["max_sequence_length", "doc"]


# --- doc_disagreements -----------------------------------------------------------------------


def test_doc_disagreements_on_the_toy():
    found = signatures.doc_disagreements(ToyPipeline)
    assert found.index.names == ["pipeline", "parameter"]
    assert found.loc[("ToyPipeline", "steps")].to_dict() == {
        "default": "20", "documented default": "100", "documented as": "another value"}
    assert found.loc[("ToyPipeline", "height"), "documented as"] == "an expression"
    # agreeing defaults (0.5, (0, 0), 1 for 1.0) and undocumented ones are left out
    assert set(found.index.get_level_values("parameter")) == {"steps", "height"}


def test_doc_disagreements_known_in_the_pinned_diffusers():
    found = signatures.doc_disagreements(PixArtSigmaPipeline, StableDiffusionPipeline)
    assert found.loc[("PixArtSigmaPipeline", "num_inference_steps"), "documented default"] == "100"
    assert found.loc[("StableDiffusionPipeline", "height"), "documented as"] == "an expression"
    assert ("StableDiffusionPipeline", "guidance_scale") not in found.index  # documented 7.5, is 7.5


def test_doc_disagreements_needs_a_pipeline():
    with pytest.raises(ValueError, match="at least one pipeline"):
        signatures.doc_disagreements()
    with pytest.raises(TypeError, match="expected a diffusers pipeline"):
        signatures.doc_disagreements(42)


def test_same_default_edge_cases():
    import numpy as np

    assert signatures._same_default(1, 1.0)  # "defaults to 1" for a float 1.0
    assert not signatures._same_default(1, True)  # a bool is not the number 1
    assert not signatures._same_default(np.zeros(2), np.zeros(2))  # element-wise ==: no single answer


# --- computed sizes ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def full_size():
    return {name: signatures.full_size_on_meta(name) for name in signatures.META_FAMILIES}


def test_full_size_pipelines_are_on_meta_with_the_published_sizes(full_size):
    from helpers.models import flops, shipped_configs
    from helpers.models.full_size import SD_VAE_FACTOR

    for name, pipe in full_size.items():
        denoiser = pipe.unet if hasattr(pipe, "unet") else pipe.transformer
        assert all(p.is_meta for p in denoiser.parameters()), name
        assert pipe.vae_scale_factor == SD_VAE_FACTOR
    assert full_size["sd15"].unet.config.sample_size == shipped_configs.SD15_UNET_CONFIG["sample_size"]
    # PixArt-Σ XL/2 at 1024 px: about 611 M parameters (the PixArt-Σ paper's 0.6 B)
    assert 600e6 < flops.count_params(full_size["pixart-sigma"].transformer) < 620e6


def test_computed_size_reads_the_pipelines_own_defaults(full_size):
    assert {name: signatures.computed_size(pipe, "p") for name, pipe in full_size.items()} == {
        "sd15": (512, 512), "sdxl": (1024, 1024), "pixart-sigma": (1024, 1024)}
    # explicit sizes pass through; PixArt-Σ bins them unless told not to
    assert signatures.computed_size(full_size["sd15"], "p", height=640, width=384) == (640, 384)
    assert signatures.computed_size(full_size["pixart-sigma"], "p", height=96, width=1024) == (512, 2048)
    assert signatures.computed_size(
        full_size["pixart-sigma"], "p", height=96, width=1024, use_resolution_binning=False) == (96, 1024)


def test_one_missing_side_resets_both_in_sd15_only(full_size):
    assert signatures.computed_size(full_size["sd15"], "p", height=96) == (512, 512)
    assert signatures.computed_size(full_size["sd15"], "p", width=96) == (512, 512)
    assert signatures.computed_size(full_size["sdxl"], "p", height=96) == (96, 1024)
    assert signatures.computed_size(full_size["sdxl"], "p", width=96) == (1024, 96)


def test_computed_size_leaves_the_pipeline_as_it_was(full_size):
    pipe = full_size["sdxl"]
    signatures.computed_size(pipe, "p")
    assert "check_inputs" not in vars(pipe)
    assert type(pipe).check_inputs is StableDiffusionXLPipeline.check_inputs


def test_computed_size_refuses_what_it_cannot_probe():
    with pytest.raises(TypeError, match="needs a pipeline instance, got type"):
        signatures.computed_size(StableDiffusionPipeline, "p")
    with pytest.raises(TypeError, match="ToyPipeline.check_inputs takes no height and width"):
        signatures.computed_size(bare_instance(ToyPipeline), "p")

    class NeverChecks(ToyPipeline):
        def check_inputs(self, prompt, height, width):
            raise AssertionError("not reached")

    with pytest.raises(RuntimeError, match="returned without calling check_inputs"):
        signatures.computed_size(bare_instance(NeverChecks), "p")


def test_full_size_on_meta_names_the_families_it_builds():
    with pytest.raises(ValueError, match="builds sd15, sdxl, pixart-sigma; got 'wuerstchen'"):
        signatures.full_size_on_meta("wuerstchen")
