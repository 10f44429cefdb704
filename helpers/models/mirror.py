"""A Hub-layout mirror of full-size checkpoints with random weights, for GPU machines without network.

`python -m helpers.models.mirror random-mirror DIR [--families sd15 sdxl] [--dtype float16]` writes
`DIR/<org>/<model>/` (model_index.json, one subfolder per component, safetensors) for the model
ids of `helpers.pipelines.MODEL_IDS`, built from the real configs with random weights by
`helpers.models.full_size.pipeline_components` (the UNets and VAEs of `helpers.models.shipped_configs`, the CLIP
text encoders' configs beside it). Then
`FIELDNOTES_MODEL_MIRROR=DIR` makes the `full` profile load from there: every chapter's `full`
branch runs at real sizes, and only the assertions that need trained weights are expected to fail.

What it cannot copy: the real tokenizers (49,408-entry BPE vocabularies, not reachable offline).
`helpers.models.tiny.clip_tokenizer(vocab_size=CLIP_VOCAB)` builds a compatible one in memory: the real vocabulary
size and special-token ids (<|startoftext|> 49406, <|endoftext|> 49407), character-level pieces
and no merges, so a prompt tokenises to other ids and more tokens than with the real vocabulary.
SD 1.5's safety checker (a 1.2 GB CLIP vision model) is left out (`safety_checker=None`).

Families: sd15 and sdxl. The others of MODEL_IDS (PixArt-Σ with T5-XXL, Würstchen, Karlo, Stable
unCLIP) need text- and image-encoder configs the book does not hold yet; they are refused by name.

`python -m helpers.models.mirror tiny-mirror DIR` (`tiny_mirror`) lays out every model id of the registry
(`helpers.pipelines.registry()`) with the tiny components instead: no GPU and no download, and the
chapters' `full` branches run on it (`make full-mirror`). `python -m helpers.models.mirror list` prints
every model id the chapters read, who reads it, and an `hf download` line for a real mirror.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import diffusers
import torch
from transformers import CLIPTokenizer

from .. import pipelines, settings
from . import full_size, tiny

# what a reader is meant to use (the reference page lists these)
__all__ = ["VAE", "write", "tiny_mirror", "list_ids"]

# the full-size pipelines are built in helpers.models.full_size; these names stay importable from here
FAMILIES = full_size.PIPELINE_FAMILIES
CLIP_VOCAB = full_size.CLIP_VOCAB
CLIP_L_TEXT, CLIP_BIGG_TEXT = full_size.CLIP_L_TEXT, full_size.CLIP_BIGG_TEXT
PUBLISHED_PARAMS = full_size.CLIP_PUBLISHED_PARAMS
VAE = full_size.VAE
components = full_size.pipeline_components
_check_family = full_size._check_pipeline_family
DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32}


def clip_tokenizer(pad_token: str | None = None) -> CLIPTokenizer:
    """`helpers.models.tiny.clip_tokenizer` with the real vocabulary size and special ids (kept for the
    name; the one maker of the book's CLIP tokenizers is there).

    Refuses: a `pad_token` that is not a str or None (TypeError)."""
    return tiny.clip_tokenizer(vocab_size=CLIP_VOCAB, pad_token=pad_token)


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


# Families whose real VAE compresses 8x (the tiny VAE halves): the tiny mirror gives them an 8x one
VAE8_FAMILIES = ("sd15", "sdxl", "pixart-sigma", "stable-unclip")


def tiny_vae8(like: diffusers.AutoencoderKL) -> diffusers.AutoencoderKL:
    """A random AutoencoderKL with `like`'s config but four levels (8x compression) of 8-16 channels.

    The real SD, SDXL, PixArt-Σ and Stable unCLIP VAEs compress 8x; with it a pixel size means the
    real latent size, so a full-profile call at 512 px runs the tiny denoiser on 64 x 64 latents,
    not 256 x 256.

    Refuses: a `like` that is not an AutoencoderKL (TypeError).
    """
    if not isinstance(like, diffusers.AutoencoderKL):
        raise TypeError(f"like must be a diffusers AutoencoderKL, got {type(like).__name__}")
    config = {k: v for k, v in like.config.items() if not k.startswith("_")}
    config.update(block_out_channels=(8, 8, 16, 16), down_block_types=("DownEncoderBlock2D",) * 4,
                  up_block_types=("UpDecoderBlock2D",) * 4, norm_num_groups=8, layers_per_block=1)  # fmt: skip
    return diffusers.AutoencoderKL.from_config(config)


def tiny_mirror(root: str | Path) -> Path:
    """Lay out every model id of the registry in `root/<org>/<model>/` with the tiny components.

    A stand-in for a real mirror with nothing to download: `FIELDNOTES_MODEL_MIRROR=root` and
    `profile="full"` then run the chapters' full branches on tiny random weights (see
    tests/test_full_mirror.py). Each family gets its tiny folder, in the Hub's layout (the two
    warp-ai/wuerstchen families share one), with the real checkpoint's geometry and components
    where tiny differs:

    - an 8x VAE (`tiny_vae8`) for VAE8_FAMILIES, so that full's pixel sizes give real latent sizes;
    - PixArt-Σ's transformer says sample_size 32, the smallest its resolution binning accepts (the
      tiny 16 has no bins, and full calls bin as for the real 1024-px checkpoint);
    - SD 1.5 gets a safety checker (`black_images.tiny_safety_checker`), as the checkpoint has one.

    Each CHECKPOINTS entry gets a tiny stand-in of the same kind: Stable unCLIP rebuilt for a wider
    image embedding (48 instead of 32, as ViT-H's 1024 is wider than ViT-L's 768), an IP-Adapter
    for the tiny SD 1.5 UNet (`pag_recipes.write_tiny_ip_adapter`, with the Hub's file names), and
    the mirror's SDXL VAE with the fp16-fix's `force_upcast: false`, and Stable Cascade's prior and
    decoder pipelines (`tiny_cascade`). Returns `root`.

    Refuses: a `root` that is not a path (TypeError), and one that already holds any of these
    model ids (FileExistsError; remove it or pick another folder).
    """
    import shutil

    from .. import black_images
    from . import pag_recipes, tiny_cascade

    if not isinstance(root, (str, Path)):
        raise TypeError(f"root must be a folder path, got {type(root).__name__}")
    root = Path(root)
    present = [row["model_id"] for row in pipelines.registry() if (root / row["model_id"]).exists()]
    if present:
        raise FileExistsError(f"{root} already holds {', '.join(present)}; remove them or choose another folder")
    ctx = pipelines.Context(profile="tiny", seed=0, device=torch.device("cpu"), dtype=torch.float32)
    for name, family in pipelines.FAMILIES.items():
        target = root / family.model_id
        if family.build is not None and not target.exists():
            shutil.copytree(pipelines.tiny_dir(name), target)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        made = {}
        for name in VAE8_FAMILIES:
            made[name] = pipe = pipelines.load(name, ctx)
            parts = {**pipe.components, "vae": tiny_vae8(pipe.vae)}
            if name == "sd15":
                checker = black_images.tiny_safety_checker(image_size=pipe.feature_extractor.crop_size["height"])
                parts.update(safety_checker=checker, requires_safety_checker=True)
            _save(name, parts, root / pipelines.MODEL_IDS[name])
        _update_config(root / pipelines.MODEL_IDS["pixart-sigma"] / "transformer" / "config.json", sample_size=32)
        small = pipelines.load("stable-unclip", ctx, model_id=root / pipelines.MODEL_IDS["stable-unclip"])
        wide = 48  # the tiny CLIPs are 32 wide; the ViT-H checkpoint's embedding is wider than ViT-L's
        encoder = type(small.image_encoder)(type(small.image_encoder.config)(
            **{**small.image_encoder.config.to_dict(), "projection_dim": wide}))  # fmt: skip
        _save("stable-unclip", {
            **small.components, "image_encoder": encoder,
            "image_normalizer": type(small.image_normalizer)(embedding_dim=wide),
            "unet": diffusers.UNet2DConditionModel.from_config(small.unet.config, projection_class_embeddings_input_dim=2 * wide),
        }, root / pipelines.model_id("stable-unclip-vit-h"))  # fmt: skip
        adapter = root / pipelines.model_id("ip-adapter-sd15")
        weight = Path(pipelines.CHECKPOINTS["ip-adapter-sd15"].marker)
        pag_recipes.write_tiny_ip_adapter(made["sd15"].unet, tiny.clip_vision_model(), adapter,
                                          subfolder=weight.parent.as_posix(), weight_name=weight.name)  # fmt: skip
        fp16_fix = diffusers.AutoencoderKL.from_pretrained(root / pipelines.MODEL_IDS["sdxl"], subfolder="vae")
        fp16_fix.register_to_config(force_upcast=False)  # what madebyollin/sdxl-vae-fp16-fix's config says
        fp16_fix.save_pretrained(root / pipelines.model_id("sdxl-vae-fp16-fix"), safe_serialization=True)
        tiny_cascade.prior_pipeline().save_pretrained(root / pipelines.model_id("stable-cascade-prior"),
                                                      safe_serialization=True)  # fmt: skip
        tiny_cascade.decoder_pipeline().save_pretrained(root / pipelines.model_id("stable-cascade"),
                                                        safe_serialization=True)  # fmt: skip
    return root


def _update_config(path: Path, **values) -> None:
    path.write_text(json.dumps({**json.loads(path.read_text()), **values}, indent=2, sort_keys=True) + "\n")


def _save(name: str, parts: dict, target: Path) -> None:
    """Save family `name`'s pipeline made of `parts` into `target` (replaced), in the Hub's layout."""
    import shutil

    family = pipelines.family(name)
    staging = target.with_name(target.name + ".staging")
    getattr(diffusers, family.pipeline_class)(**parts).save_pretrained(staging, safe_serialization=True)
    pipelines.write_hub_layout(staging, family)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)


def list_ids(mirror: str = "$" + settings.MODEL_MIRROR) -> str:
    """Every model id the chapters read in `full` (pipelines.registry()), one block each: the id,
    its registry keys and what it is, the chapters that read it, and the `hf download` line that
    fetches what they read into `<mirror>/<org>/<model>`. Refuses a `mirror` that is not a str.
    """
    if not isinstance(mirror, str) or not mirror:
        raise TypeError(f"mirror must be a folder path as a str, got {mirror!r}")
    lines = []
    for row in pipelines.registry():
        patterns = " ".join(f'--include "{p}"' for p in row["include"])
        patterns += "".join(f' --exclude "{p}"' for p in row["exclude"])
        lines += [
            f"{row['model_id']}  [{', '.join(row['keys'])}] {row['what']}",
            f"  chapters: {', '.join(row['chapters']) or '-'}",
            f'  hf download {row["model_id"]} --local-dir "{mirror}/{row["model_id"]}" {patterns}',
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.models.mirror", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    mirror = commands.add_parser("random-mirror", help="write full-size random-weight checkpoints")
    mirror.add_argument("folder", type=Path)
    mirror.add_argument("--families", nargs="+", default=list(FAMILIES), choices=FAMILIES)
    mirror.add_argument("--dtype", default="float16", choices=tuple(DTYPES))
    tiny_one = commands.add_parser("tiny-mirror", help="every registry id with the tiny components (no GPU, no download)")
    tiny_one.add_argument("folder", type=Path)
    listing = commands.add_parser("list", help="every model id the chapters read, with an `hf download` line each")
    listing.add_argument("--mirror", default="$" + settings.MODEL_MIRROR, help="the mirror folder the lines write into")
    args = parser.parse_args(argv)
    if args.command == "list":
        print(list_ids(args.mirror))
        return 0
    if args.command == "tiny-mirror":
        tiny_mirror(args.folder)
        print(json.dumps({settings.MODEL_MIRROR: str(args.folder.resolve())}))
        return 0
    for name in args.families:
        target = write(name, args.folder, DTYPES[args.dtype])
        size = sum(p.stat().st_size for p in target.rglob("*.safetensors"))
        print(f"{name}: {target} ({size / 1e9:.2f} GB)")
    print(json.dumps({settings.MODEL_MIRROR: str(args.folder.resolve())}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
