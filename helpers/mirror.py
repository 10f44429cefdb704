"""A Hub-layout mirror of full-size checkpoints with random weights, for GPU machines without network.

`python -m helpers.mirror random-mirror DIR [--families sd15 sdxl] [--dtype float16]` writes
`DIR/<org>/<model>/` (model_index.json, one subfolder per component, safetensors) for the model
ids of `helpers.pipelines.MODEL_IDS`, built from the real configs (`helpers.shipped_configs` for the UNets
and VAEs, `TEXT_CONFIGS` below for the CLIP text encoders) with random weights. Then
`FIELDNOTES_MODEL_MIRROR=DIR` makes the `full` profile load from there: every chapter's `full`
branch runs at real sizes, and only the assertions that need trained weights are expected to fail.

What it cannot copy: the real tokenizers (49,408-entry BPE vocabularies, not reachable offline).
`clip_tokenizer` builds a compatible one in memory as `helpers.tiny` does: the real vocabulary
size and special-token ids (<|startoftext|> 49406, <|endoftext|> 49407), character-level pieces
and no merges, so a prompt tokenises to other ids and more tokens than with the real vocabulary.
SD 1.5's safety checker (a 1.2 GB CLIP vision model) is left out (`safety_checker=None`).

Families: sd15 and sdxl. The others of MODEL_IDS (PixArt-Σ with T5-XXL, Würstchen, Karlo, Stable
unCLIP) need text- and image-encoder configs the book does not hold yet; they are refused by name.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import diffusers
import torch
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer
from transformers.convert_slow_tokenizer import bytes_to_unicode

from . import moved, pipelines, shipped_configs

FAMILIES = ("sd15", "sdxl")
CLIP_VOCAB = 49408
# text_encoder/config.json of SD 1.5 and SDXL (OpenAI CLIP ViT-L/14's text tower), and SDXL's
# text_encoder_2 (OpenCLIP ViT-bigG/14's), minus bookkeeping keys
CLIP_L_TEXT = dict(vocab_size=CLIP_VOCAB, hidden_size=768, intermediate_size=3072, num_attention_heads=12,
                   num_hidden_layers=12, max_position_embeddings=77, hidden_act="quick_gelu", projection_dim=768,
                   bos_token_id=0, eos_token_id=2, pad_token_id=1)  # fmt: skip
CLIP_BIGG_TEXT = dict(vocab_size=CLIP_VOCAB, hidden_size=1280, intermediate_size=5120, num_attention_heads=20,
                      num_hidden_layers=32, max_position_embeddings=77, hidden_act="gelu", projection_dim=1280,
                      bos_token_id=0, eos_token_id=2, pad_token_id=1)  # fmt: skip
# Published parameter counts, checked by the tests on the meta device
PUBLISHED_PARAMS = {"clip-l-text": 123_060_480, "clip-bigg-text-projection": 694_659_840}
VAE = {"sd15": dict(sample_size=512, scaling_factor=0.18215), "sdxl": dict(sample_size=1024, scaling_factor=0.13025)}
DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32}


def clip_tokenizer(pad_token: str | None = None) -> CLIPTokenizer:
    """A CLIP tokenizer with the real vocabulary size and special ids, made offline (no merges)."""
    chars = list(bytes_to_unicode().values())
    pieces = chars + [c + "</w>" for c in chars]
    filler = [f"<|unused{i}|>" for i in range(CLIP_VOCAB - 2 - len(pieces))]
    vocab = {t: i for i, t in enumerate(pieces + filler + ["<|startoftext|>", "<|endoftext|>"])}
    extra = {} if pad_token is None else {"pad_token": pad_token}
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77, **extra)


def _check_family(name: str) -> None:
    if name not in FAMILIES:
        raise ValueError(f"random-mirror builds {', '.join(FAMILIES)}; {name!r} is not one of them "
                         "(its encoders' configs are not in the book yet)")


def components(name: str, device: str | torch.device = "meta", dtype: torch.dtype = torch.float32) -> dict:
    """The full-size components of `name` ('sd15' or 'sdxl') with random weights on `device`.

    On `meta` they have shapes only (for counting); on a real device, torch's default random
    initialisation. The arguments are those of the pipeline class.
    """
    _check_family(name)
    with torch.device(device):
        unet = diffusers.UNet2DConditionModel(
            **(shipped_configs.SD15_UNET_CONFIG if name == "sd15" else shipped_configs.SDXL_UNET_CONFIG))
        vae = diffusers.AutoencoderKL(**shipped_configs.SD_VAE_CONFIG, **VAE[name])
        text_encoder = CLIPTextModel(CLIPTextConfig(**CLIP_L_TEXT))
        text_encoder_2 = CLIPTextModelWithProjection(CLIPTextConfig(**CLIP_BIGG_TEXT)) if name == "sdxl" else None
    modules = {"unet": unet, "vae": vae, "text_encoder": text_encoder}
    if text_encoder_2 is not None:
        modules["text_encoder_2"] = text_encoder_2
    for module in modules.values():
        module.to(dtype).eval()
    if name == "sd15":
        return {**modules, "tokenizer": clip_tokenizer(),
                "scheduler": diffusers.PNDMScheduler.from_config(shipped_configs.SD15_SCHEDULER), "safety_checker": None,
                "feature_extractor": moved.clip_image_processor_class()(), "image_encoder": None,
                "requires_safety_checker": False}  # fmt: skip
    return {**modules, "tokenizer": clip_tokenizer(), "tokenizer_2": clip_tokenizer(pad_token="!"),
            "scheduler": diffusers.EulerDiscreteScheduler.from_config(shipped_configs.SDXL_SCHEDULER),
            "image_encoder": None, "feature_extractor": None}  # fmt: skip


def write(name: str, root: str | Path, dtype: torch.dtype = torch.float16, parts: dict | None = None) -> Path:
    """Write family `name` into `root/<model id>/` in the Hub's layout and return that folder.

    `parts` replaces the full-size components (the tests pass tiny ones); by default they are built
    on the CPU in float32 (torch's initialisers) and saved in `dtype`. Refuses an existing folder.
    """
    _check_family(name)
    if not isinstance(root, (str, Path)):
        raise TypeError(f"root must be a folder path, got {type(root).__name__}")
    if dtype not in DTYPES.values():
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    family = pipelines.family(name)
    target = Path(root) / family.model_id
    if target.exists():
        raise FileExistsError(f"{target} exists; remove it or choose another folder")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        made = components(name, "cpu") if parts is None else dict(parts)
    for value in made.values():
        if isinstance(value, torch.nn.Module):
            value.to(dtype)
    pipeline = getattr(diffusers, family.pipeline_class)(**made)
    pipeline.save_pretrained(target, safe_serialization=True)
    pipelines.write_hub_layout(target, family)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.mirror", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    mirror = commands.add_parser("random-mirror", help="write full-size random-weight checkpoints")
    mirror.add_argument("folder", type=Path)
    mirror.add_argument("--families", nargs="+", default=list(FAMILIES), choices=FAMILIES)
    mirror.add_argument("--dtype", default="float16", choices=tuple(DTYPES))
    args = parser.parse_args(argv)
    for name in args.families:
        target = write(name, args.folder, DTYPES[args.dtype])
        size = sum(p.stat().st_size for p in target.rglob("*.safetensors"))
        print(f"{name}: {target} ({size / 1e9:.2f} GB)")
    print(json.dumps({"FIELDNOTES_MODEL_MIRROR": str(args.folder.resolve())}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
