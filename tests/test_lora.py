"""Tests for helpers.research.lora: seeded LoRAs that change the output, Kohya keys, scales by block."""

import pytest
import torch
from peft.tuners.tuners_utils import BaseTunerLayer

from helpers.models import tiny
from helpers.research.lora import ATTENTION_TARGETS, CLIP_TARGETS, kohya_keys, scales_by_block, seeded_lora


@pytest.fixture(scope="module")
def parts():
    torch.manual_seed(0)
    built = tiny.build_sd15()
    return built["unet"], built["text_encoder"]


def has_lora(model):
    return any(isinstance(m, BaseTunerLayer) for m in model.modules())


def test_seeded_lora_is_seeded_nonzero_and_leaves_the_model_alone(parts):
    unet, _ = parts
    before = {k: v.clone() for k, v in unet.state_dict().items()}
    first = seeded_lora(unet, rank=2, seed=3)
    again = seeded_lora(unet, rank=2, seed=3)
    other = seeded_lora(unet, rank=2, seed=4)
    assert not has_lora(unet) and not hasattr(unet, "peft_config")
    assert unet.state_dict().keys() == before.keys()
    assert all(torch.equal(unet.state_dict()[k], v) for k, v in before.items())
    assert first.keys() == again.keys() == other.keys()
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert any(not torch.equal(first[k], other[k]) for k in first)
    a_keys = [k for k in first if k.endswith(".lora_A.weight")]
    b_keys = [k for k in first if k.endswith(".lora_B.weight")]
    assert len(a_keys) == len(b_keys) == len(first) // 2
    assert all(first[k].shape[0] == 2 for k in a_keys)
    assert all(first[k].abs().max() > 0 for k in b_keys)
    assert {k.split(".lora_")[0].split("attn1.")[-1].split("attn2.")[-1] for k in first} == set(ATTENTION_TARGETS)


def test_seeded_lora_zero_b_is_peft_start(parts):
    unet, _ = parts
    state = seeded_lora(unet, rank=1, seed=0, targets=["to_q"], b_std=0.0)
    b = [v for k, v in state.items() if k.endswith(".lora_B.weight")]
    assert b and all(int(torch.count_nonzero(v)) == 0 for v in b)


def test_seeded_lora_on_a_text_encoder(parts):
    _, text_encoder = parts
    state = seeded_lora(text_encoder, rank=2, seed=1, targets=CLIP_TARGETS)
    assert state and all(".lora_A.weight" in k or ".lora_B.weight" in k for k in state)
    assert not has_lora(text_encoder)


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(model="unet", rank=2, seed=0), TypeError, "torch.nn.Module"),
        (dict(rank=0, seed=0), ValueError, "rank"),
        (dict(rank=2.0, seed=0), TypeError, "rank"),
        (dict(rank=2, seed=-1), ValueError, "seed"),
        (dict(rank=2, seed=0, targets="to_q"), TypeError, "targets"),
        (dict(rank=2, seed=0, targets=[]), ValueError, "targets"),
        (dict(rank=2, seed=0, targets=["to_qq"]), ValueError, "to_qq"),
        (dict(rank=2, seed=0, b_std=-1.0), ValueError, "b_std"),
        (dict(rank=2, seed=0, b_std=float("nan")), ValueError, "b_std"),
    ],
)
def test_seeded_lora_refuses(parts, kwargs, error, words):
    unet, _ = parts
    kwargs = {"model": unet, **kwargs}
    with pytest.raises(error, match=words):
        seeded_lora(**kwargs)


def test_kohya_keys_renames_and_adds_alpha():
    a, b = torch.ones(4, 8), torch.ones(16, 4)
    key = "down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q"
    renamed = kohya_keys({f"unet.{key}.lora_A.weight": a, f"unet.{key}.lora_B.weight": b})
    name = "lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn1_to_q"
    assert set(renamed) == {f"{name}.lora_down.weight", f"{name}.lora_up.weight", f"{name}.alpha"}
    assert renamed[f"{name}.lora_down.weight"] is a and renamed[f"{name}.lora_up.weight"] is b
    assert renamed[f"{name}.alpha"].item() == 4.0  # exact: the rank, a small integer
    assert kohya_keys({f"{key}.lora_A.weight": a, f"{key}.lora_B.weight": b}, alpha=2)[f"{name}.alpha"].item() == 2.0  # exact


@pytest.mark.parametrize(
    "state, alpha, error, words",
    [
        ({}, None, TypeError, "non-empty"),
        ([("x.lora_A.weight", torch.ones(1))], None, TypeError, "dict"),
        ({"x.lora_A.weight": 1.0, "x.lora_B.weight": torch.ones(1)}, None, TypeError, "tensor"),
        ({"x.lora.down.weight": torch.ones(1)}, None, ValueError, "lora_A"),
        ({"x.lora_A.weight": torch.ones(1, 1)}, None, ValueError, "both A and B"),
        ({"text_encoder.x.lora_A.weight": torch.ones(1, 1)}, None, ValueError, "UNet"),
        ({"x.lora_A.weight": torch.ones(1, 1), "x.lora_B.weight": torch.ones(1, 1)}, 0, ValueError, "alpha"),
    ],
)
def test_kohya_keys_refuses(state, alpha, error, words):
    with pytest.raises(error, match=words):
        kohya_keys(state, alpha=alpha)


def test_scales_by_block_groups_the_layers(parts):
    unet, _ = parts
    from peft import LoraConfig

    model = __import__("copy").deepcopy(unet)
    model.add_adapter(LoraConfig(r=2, lora_alpha=2, target_modules=["to_q", "conv1"]), adapter_name="x")
    model.set_adapters("x", {"down": 0.25, "mid": 0.5, "up": 0.75})
    scales = scales_by_block(model, "x")
    # exact: weight * lora_alpha / r with lora_alpha == r, and the weights are binary fractions
    assert scales["down_blocks.1.attentions"] == [0.25]  # exact
    assert scales["mid_block.attentions"] == [0.5]  # exact
    assert scales["up_blocks.0.attentions"] == [0.75]  # exact
    assert "down_blocks.0.resnets" in scales and "mid_block.resnets" in scales
    with pytest.raises(ValueError, match="layers hold \\['x'\\]"):
        scales_by_block(model, "y")
    with pytest.raises(TypeError, match="adapter"):
        scales_by_block(model, 1)
    with pytest.raises(TypeError, match="torch.nn.Module"):
        scales_by_block("unet", "x")
