"""helpers.models.mirror: full-size shapes on meta, and the writer (with tiny parts) loadable by the full profile."""

import json

import pytest
import torch

import helpers
from helpers import pipelines
from helpers.models import flops, mirror, shipped_configs, tiny


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
    # one maker: the tiny tokenizer is the same vocabulary without the filler
    small = tiny.clip_tokenizer()
    assert len(small) == tiny.CLIP_CHARACTER_VOCAB and small.tokenize("a cat") == tok.tokenize("a cat")
    assert tok.get_vocab() == tiny.clip_tokenizer(vocab_size=mirror.CLIP_VOCAB).get_vocab()
    with pytest.raises(ValueError, match="vocab_size"):
        tiny.clip_tokenizer(vocab_size=100)
    with pytest.raises(TypeError, match="pad_token must be a str"):
        tiny.clip_tokenizer(pad_token=0)


def test_refusals(tmp_path):
    with pytest.raises(ValueError, match=r"name must be one of sd15, sdxl \(the families random-mirror builds\), got 'unclip'"):
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


@pytest.fixture(scope="module")
def tiny_mirror(tmp_path_factory):
    return mirror.tiny_mirror(tmp_path_factory.mktemp("tiny-mirror"))


def test_tiny_mirror_holds_every_registry_id_with_the_real_layout(tiny_mirror):
    for row in pipelines.registry():
        assert (tiny_mirror / row["model_id"]).is_dir(), row["model_id"]
    for key, entry in pipelines.CHECKPOINTS.items():
        assert (tiny_mirror / entry.model_id / entry.marker).is_file(), key
    sd15 = tiny_mirror / pipelines.MODEL_IDS["sd15"]
    index = json.loads((sd15 / "model_index.json").read_text())
    assert index["safety_checker"] == ["stable_diffusion", "StableDiffusionSafetyChecker"]
    for name in mirror.VAE8_FAMILIES:
        vae = json.loads((tiny_mirror / pipelines.MODEL_IDS[name] / "vae" / "config.json").read_text())
        assert 2 ** (len(vae["block_out_channels"]) - 1) == 8, name
    pixart = tiny_mirror / pipelines.MODEL_IDS["pixart-sigma"] / "transformer" / "config.json"
    assert json.loads(pixart.read_text())["sample_size"] == 32
    fp16_fix = tiny_mirror / pipelines.model_id("sdxl-vae-fp16-fix") / "config.json"
    assert json.loads(fp16_fix.read_text())["force_upcast"] is False
    with pytest.raises(FileExistsError, match="already holds"):
        mirror.tiny_mirror(tiny_mirror)
    with pytest.raises(TypeError, match="root must be a folder path"):
        mirror.tiny_mirror(3)


def test_the_full_profile_loads_every_family_and_checkpoint_from_the_tiny_mirror(tiny_mirror, monkeypatch):
    monkeypatch.setenv(pipelines.MIRROR_ENV, str(tiny_mirror))
    ctx = helpers.setup(profile="full", seed=0, device="cpu")
    for name in pipelines.NAMES:
        if name != "wuerstchen":
            assert pipelines.source(name, ctx) == str(tiny_mirror / pipelines.MODEL_IDS[name])
    for key, entry in pipelines.CHECKPOINTS.items():
        assert pipelines.checkpoint(key, ctx) == str(tiny_mirror / entry.model_id)
    sd15 = pipelines.load("sd15", ctx)
    assert sd15.vae_scale_factor == 8 and sd15.safety_checker is not None
    vit_h = pipelines.load("stable-unclip", ctx, model_id=pipelines.model_id("stable-unclip-vit-h"))
    assert vit_h.image_encoder.config.projection_dim == 48 == vit_h.image_normalizer.mean.shape[-1]
    sd15.load_ip_adapter(pipelines.checkpoint("ip-adapter-sd15", ctx), subfolder="models",
                         weight_name="ip-adapter_sd15.safetensors")  # fmt: skip
    assert sd15.image_encoder is not None


def test_tiny_vae8_compresses_eight_times():
    vae = mirror.tiny_vae8(tiny.vae(32))
    with torch.no_grad():
        decoded = vae.decode(torch.zeros(1, 4, 4, 4)).sample
    assert tuple(decoded.shape) == (1, 3, 32, 32)
    assert vae.config.scaling_factor == tiny.vae(32).config.scaling_factor  # exact: a copied config value
    with pytest.raises(TypeError, match="must be a diffusers AutoencoderKL"):
        mirror.tiny_vae8(torch.nn.Linear(2, 2))


def test_list_names_every_id_with_its_chapters_and_a_download_line():
    listed = mirror.list_ids("/data/mirror")
    for row in pipelines.registry():
        assert f"hf download {row['model_id']} --local-dir \"/data/mirror/{row['model_id']}\"" in listed
    assert '--include "models/ip-adapter_sd15.safetensors" --include "models/image_encoder/*"' in listed
    assert "chapters: 08-pag" in listed
    with pytest.raises(TypeError, match="mirror must be a folder path"):
        mirror.list_ids(None)


def test_command_line_lists_and_builds(tmp_path, monkeypatch, capsys):
    assert mirror.main(["list", "--mirror", "/m"]) == 0
    assert "hf download h94/IP-Adapter --local-dir \"/m/h94/IP-Adapter\"" in capsys.readouterr().out
    built = []
    monkeypatch.setattr(mirror, "tiny_mirror", lambda folder: built.append(folder))
    assert mirror.main(["tiny-mirror", str(tmp_path)]) == 0
    assert built == [tmp_path]
