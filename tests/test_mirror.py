"""helpers.mirror: full-size shapes on meta, and the writer (with tiny parts) loadable by the full profile."""

import json

import pytest
import torch

import helpers
from helpers import flops, mirror, pipelines, shipped_configs, tiny


def test_full_size_parameter_counts_on_meta():
    parts = mirror.components("sdxl")
    assert flops.count_params(parts["unet"]) == shipped_configs.PUBLISHED_PARAMS["sdxl-unet"]
    assert flops.count_params(parts["vae"]) == shipped_configs.PUBLISHED_PARAMS["sd-vae"]
    assert flops.count_params(parts["text_encoder"]) == mirror.PUBLISHED_PARAMS["clip-l-text"]
    assert flops.count_params(parts["text_encoder_2"]) == mirror.PUBLISHED_PARAMS["clip-bigg-text-projection"]
    sd15 = mirror.components("sd15")
    assert flops.count_params(sd15["unet"]) == shipped_configs.PUBLISHED_PARAMS["sd15-unet"]
    assert sd15["unet"].device.type == "meta"


def test_offline_tokenizer_has_the_real_ids():
    tok = mirror.clip_tokenizer()
    assert len(tok) == mirror.CLIP_VOCAB == 49408
    assert (tok.bos_token_id, tok.eos_token_id) == (49406, 49407)
    ids = tok("a cat", padding="max_length", max_length=77).input_ids
    assert len(ids) == 77 and ids[0] == 49406 and max(ids) == 49407
    assert mirror.clip_tokenizer(pad_token="!").pad_token_id == tok.convert_tokens_to_ids("!")


def test_refusals(tmp_path):
    with pytest.raises(ValueError, match="random-mirror builds sd15, sdxl; 'unclip'"):
        mirror.write("unclip", tmp_path)
    with pytest.raises(ValueError, match="dtype must be one of"):
        mirror.write("sd15", tmp_path, dtype=torch.int8)
    with pytest.raises(TypeError, match="root must be a folder path"):
        mirror.write("sd15", 3)


def test_writer_lays_out_the_hub_and_loads_in_full(tmp_path, monkeypatch, process_state):
    parts = tiny.build(tiny.build_sd15)
    target = mirror.write("sd15", tmp_path, dtype=torch.float16, parts=parts)
    assert target == tmp_path / "stable-diffusion-v1-5" / "stable-diffusion-v1-5"
    index = json.loads((target / "model_index.json").read_text())
    assert index["unet"] == ["diffusers", "UNet2DConditionModel"]
    assert sorted(p.parent.name for p in target.rglob("*.safetensors")) == ["text_encoder", "unet", "vae"]
    with pytest.raises(FileExistsError):
        mirror.write("sd15", tmp_path, parts=parts)
    monkeypatch.setenv(pipelines.MIRROR_ENV, str(tmp_path))
    ctx = helpers.setup(profile="full", seed=0, device="cpu")
    assert pipelines.source("sd15", ctx) == str(target)
    pipe = pipelines.load("sd15", ctx)
    assert pipe.unet.dtype == torch.float32  # loaded in the context's dtype, whatever was saved


def test_command_line(tmp_path, monkeypatch):
    written = []
    monkeypatch.setattr(mirror, "write", lambda name, root, dtype: written.append((name, dtype)) or tmp_path)
    assert mirror.main(["random-mirror", str(tmp_path), "--families", "sdxl", "--dtype", "bfloat16"]) == 0
    assert written == [("sdxl", torch.bfloat16)]
    with pytest.raises(SystemExit):
        mirror.main(["random-mirror", str(tmp_path), "--families", "pixart"])
