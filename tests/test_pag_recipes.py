"""Tests for helpers.models.pag_recipes: the AutoPipeline PAG task table, and a tiny IP-Adapter that
diffusers' own loader reads from a local folder."""

import pytest
import torch
from diffusers import StableDiffusionPipeline, UNet2DConditionModel
from diffusers.pipelines import auto_pipeline
from diffusers.utils import is_sentencepiece_available

from helpers.models import pag_recipes, tiny
from helpers.models.pag_recipes import TASKS, pag_task_table, write_tiny_ip_adapter


def tiny_unet(cross_attention: bool = True) -> UNet2DConditionModel:
    torch.manual_seed(0)
    blocks = ("DownBlock2D", "CrossAttnDownBlock2D") if cross_attention else ("DownBlock2D", "DownBlock2D")
    ups = ("CrossAttnUpBlock2D", "UpBlock2D") if cross_attention else ("UpBlock2D", "UpBlock2D")
    return UNet2DConditionModel(
        block_out_channels=(8, 16), layers_per_block=1, sample_size=8, in_channels=4, out_channels=4,
        down_block_types=blocks, up_block_types=ups, mid_block_type="UNetMidBlock2DCrossAttn" if cross_attention else None,
        cross_attention_dim=8, attention_head_dim=2, norm_num_groups=4,
    )  # fmt: skip


def test_task_table_is_read_from_the_auto_pipeline_mappings():
    table = pag_task_table()
    assert table["stable-diffusion"] == {
        "text-to-image": "StableDiffusionPAGPipeline",
        "image-to-image": "StableDiffusionPAGImg2ImgPipeline",
        "inpainting": "StableDiffusionPAGInpaintPipeline",
    }
    assert table["pixart-sigma"] == {"text-to-image": "PixArtSigmaPAGPipeline", "image-to-image": None, "inpainting": None}
    assert ("kolors" in table) == is_sentencepiece_available()
    # every PAG entry of the three mappings is in the table, and nothing else
    for task, (_, attribute) in TASKS.items():
        mapping = getattr(auto_pipeline, attribute)
        pag_keys = {k.removesuffix("-pag"): v.__name__ for k, v in mapping.items() if k.endswith("-pag")}
        assert {f: row[task] for f, row in table.items() if row[task]} == pag_keys


def test_task_table_follows_a_changed_mapping(monkeypatch):
    class ToyPAGPipeline:
        pass

    changed = dict(auto_pipeline.AUTO_INPAINT_PIPELINES_MAPPING, **{"pixart-sigma-pag": ToyPAGPipeline})
    monkeypatch.setattr(auto_pipeline, "AUTO_INPAINT_PIPELINES_MAPPING", changed)
    assert pag_task_table()["pixart-sigma"]["inpainting"] == "ToyPAGPipeline"


def test_tiny_ip_adapter_loads_through_diffusers_loader(tmp_path):
    unet = tiny_unet()
    torch.manual_seed(0)
    encoder = tiny.clip_vision_model()
    kwargs = write_tiny_ip_adapter(unet, encoder, tmp_path)
    assert kwargs == {
        "pretrained_model_name_or_path_or_dict": str(tmp_path),
        "subfolder": "models",
        "weight_name": "ip-adapter_tiny.safetensors",
    }
    assert (tmp_path / "models" / "image_encoder" / "config.json").is_file()
    pipe = StableDiffusionPipeline(**{**tiny.build_sd15(), "unet": unet})  # no image encoder yet
    pipe.load_ip_adapter(**kwargs)
    kinds = {type(p).__name__ for name, p in unet.attn_processors.items() if "attn2" in name}
    assert kinds == {"IPAdapterAttnProcessor2_0"}
    assert type(pipe.image_encoder).__name__ == "CLIPVisionModelWithProjection"


def test_same_arguments_write_the_same_weights(tmp_path):
    from safetensors.torch import load_file

    unet, encoder = tiny_unet(), tiny.clip_vision_model()
    a = write_tiny_ip_adapter(unet, encoder, tmp_path / "a", seed=3)
    b = write_tiny_ip_adapter(unet, encoder, tmp_path / "b", seed=3)
    wa = load_file(f"{a['pretrained_model_name_or_path_or_dict']}/models/{a['weight_name']}")
    wb = load_file(f"{b['pretrained_model_name_or_path_or_dict']}/models/{b['weight_name']}")
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)
    # one pair of keys per cross-attention layer, numbered 1, 3, 5, ...
    cross = [n for n in unet.attn_processors if n.endswith("attn2.processor")]
    assert sorted(k for k in wa if k.endswith("to_k_ip.weight")) == sorted(
        f"ip_adapter.{2 * i + 1}.to_k_ip.weight" for i in range(len(cross))
    )


@pytest.mark.parametrize(
    "kwargs, error, named",
    [
        ({"unet": "unet"}, TypeError, "unet must be a diffusers UNet2DConditionModel"),
        ({"image_encoder": torch.nn.Linear(2, 2)}, TypeError, "image_encoder must be"),
        ({"folder": 3}, TypeError, "folder must be a path"),
        ({"subfolder": ""}, ValueError, "subfolder must be a plain folder name"),
        ({"subfolder": "a/b"}, ValueError, "subfolder must be a plain folder name"),
        ({"weight_name": "adapter.bin"}, ValueError, "weight_name must be a file name ending in '.safetensors'"),
        ({"seed": -1}, ValueError, "seed"),
        ({"seed": 1.5}, TypeError, "seed"),
        ({"std": 0.0}, ValueError, "std"),
        ({"std": float("nan")}, ValueError, "std"),
    ],
)
def test_refuses_bad_input_before_writing(tmp_path, monkeypatch, kwargs, error, named):
    # run in an empty folder: a refused folder (3) would otherwise be written as a relative path "3"
    monkeypatch.chdir(tmp_path)
    arguments = {"unet": tiny_unet(), "image_encoder": tiny.clip_vision_model(), "folder": tmp_path / "out", **kwargs}
    with pytest.raises(error, match=named):
        write_tiny_ip_adapter(**arguments)
    assert list(tmp_path.iterdir()) == []  # nothing written, neither in the folder given nor anywhere here


def test_refuses_a_unet_without_cross_attention(tmp_path):
    with pytest.raises(ValueError, match="no cross-attention layer"):
        write_tiny_ip_adapter(tiny_unet(cross_attention=False), tiny.clip_vision_model(), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_every_public_function_says_what_it_refuses():
    for name in pag_recipes.__all__:
        obj = getattr(pag_recipes, name)
        if callable(obj):
            assert "Refuses" in (obj.__doc__ or ""), name
