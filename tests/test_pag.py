"""Tests for helpers.pag: what a PAG layer selector matches, reported before the pipeline call."""

import pytest
import torch
from diffusers import UNet2DConditionModel
from diffusers.models.attention_processor import Attention, AttnProcessor2_0

from helpers.pag import check_layers, layer_matches, longer_numbers


class Blocks(torch.nn.Module):
    """Self-attention modules named blocks.1, blocks.2 and blocks.10, and one cross-attention."""

    def __init__(self):
        super().__init__()
        self.blocks = torch.nn.ModuleDict({str(i): Attention(query_dim=8, heads=1, dim_head=8) for i in (1, 2, 10)})
        self.cross = Attention(query_dim=8, cross_attention_dim=4, heads=1, dim_head=8)


def tiny_unet():
    torch.manual_seed(0)
    return UNet2DConditionModel(
        block_out_channels=(8, 16), layers_per_block=1, sample_size=8, in_channels=4, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=8, attention_head_dim=2, norm_num_groups=4,
    )


def test_reports_self_attention_matches_like_diffusers():
    unet = tiny_unet()
    report = layer_matches(unet, ["mid", "attn", "attn2", "down.block_1"])
    self_attention = [n for n, m in unet.named_modules() if isinstance(m, Attention) and not m.is_cross_attention]
    assert report["mid"] == [n for n in self_attention if n.startswith("mid_block")] and report["mid"]
    assert report["attn"] == self_attention
    assert report["attn2"] == [] and report["down.block_1"] == []  # cross-attention never; old names nothing


def test_leaves_every_processor_object_in_place():
    unet = tiny_unet()
    before = unet.attn_processors
    layer_matches(unet, ["mid", "up", "no_such_layer"])
    after = unet.attn_processors
    assert before.keys() == after.keys() and all(after[k] is before[k] for k in before)


def test_diffusers_guard_drops_the_exact_match_13594():
    # is_fake_integral_match compares the last dotted components and drops the *equal* one
    report = layer_matches(Blocks(), ["blocks.1", "blocks.10", r"blocks\.1$"])
    assert report == {"blocks.1": ["blocks.10"], "blocks.10": [], r"blocks\.1$": ["blocks.1"]}


def test_longer_numbers_flags_matches_inside_a_longer_index():
    names = ["transformer_blocks.1.attn1", "transformer_blocks.12.attn1", "transformer_blocks.2.attn1"]
    assert longer_numbers("blocks.1", names) == ["transformer_blocks.12.attn1"]
    assert longer_numbers(r"blocks\.1\.", names) == []
    assert longer_numbers("mid", names) == []


def test_check_layers_raises_before_the_call_naming_each_problem():
    with pytest.raises(ValueError, match=r"match no self-attention module: 'down.block_1'"):
        check_layers(tiny_unet(), ["mid", "down.block_1"])
    with pytest.raises(ValueError, match=r"'blocks.1' also matches inside longer numbers: blocks.10"):
        check_layers(Blocks(), "blocks.1")
    assert check_layers(Blocks(), r"blocks\.2$") == {r"blocks\.2$": ["blocks.2"]}


@pytest.mark.parametrize("layers", [None, 3, [], ["mid", 2]])
def test_refuses_bad_selectors(layers):
    with pytest.raises(TypeError, match="layers must be a str or a non-empty list of str"):
        layer_matches(tiny_unet(), layers)


def test_refuses_a_non_module():
    with pytest.raises(TypeError, match="denoiser must be a torch.nn.Module"):
        layer_matches("unet", "mid")


def test_processors_are_restored_even_if_diffusers_raises_something_else(monkeypatch):
    from diffusers.pipelines.pag import pag_utils

    unet = tiny_unet()
    unet.set_attn_processor(AttnProcessor2_0())
    before = unet.attn_processors

    def boom(self, layers, do_classifier_free_guidance):
        for module in self.unet.modules():
            if hasattr(module, "processor"):
                module.processor = "half-way"
        raise RuntimeError("boom")

    monkeypatch.setattr(pag_utils.PAGMixin, "_set_pag_attn_processor", boom)
    with pytest.raises(RuntimeError, match="boom"):
        layer_matches(unet, "mid")
    assert all(unet.attn_processors[k] is before[k] for k in before)


def test_longer_numbers_flags_alternations_and_entries_not_ending_in_a_digit():
    # diffusers' own docstring form "blocks.(1|2)" (pag_utils.py L169) ends in ")", not a digit
    names = [f"blocks.{i}.attn1" for i in range(40)]
    flagged = longer_numbers("blocks.(1|2)", names)
    assert flagged == [f"blocks.{i}.attn1" for i in range(10, 30)]
    # a match that starts inside a number is flagged too; one alternative that fits is enough
    assert longer_numbers("2.attn1", names) == ["blocks.12.attn1", "blocks.22.attn1", "blocks.32.attn1"]
    assert longer_numbers("blocks.(1|12)", names) == [f"blocks.{i}.attn1" for i in (10, 11, *range(13, 20))]
    assert longer_numbers(r"blocks\.(1|2)\.", names) == []
    # an inline global flag cannot be wrapped: the reported matches are checked instead
    assert longer_numbers("(?i)BLOCKS.1", names) == [f"blocks.{i}.attn1" for i in range(10, 20)]


def test_check_layers_refuses_the_docstring_alternation():
    class Forty(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = torch.nn.ModuleList(Attention(query_dim=8, heads=1, dim_head=8) for _ in range(40))

    with pytest.raises(ValueError, match=r"'blocks.\(1\|2\)' also matches inside longer numbers: blocks.10"):
        check_layers(Forty(), "blocks.(1|2)")
    assert len(check_layers(Forty(), r"blocks\.(1|2)$")[r"blocks\.(1|2)$"]) == 2
