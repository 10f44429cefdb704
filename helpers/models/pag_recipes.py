"""What PAG recipes need beyond a pipeline: which tasks AutoPipeline maps to a PAG class, and
a tiny IP-Adapter that diffusers' own loader reads from a local folder.

- `pag_task_table()` reads diffusers' AutoPipeline mappings
  (`diffusers.pipelines.auto_pipeline`, the `AUTO_*_PIPELINES_MAPPING` dicts) and lists, for every
  family that has a `<family>-pag` entry, the PAG class each task (text-to-image, image-to-image,
  inpainting) maps to, or None where `enable_pag=True` has no class to go to.
- `write_tiny_ip_adapter(unet, image_encoder, folder)` writes random IP-Adapter weights shaped for
  `unet` and the image encoder beside them, laid out like the Hub's `h94/IP-Adapter`, so that
  `pipe.load_ip_adapter(**returned)` loads them offline.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from .. import validate

__all__ = ["TASKS", "pag_task_table", "write_tiny_ip_adapter"]

# the AutoPipeline class of each task, and the mapping it reads (diffusers/pipelines/auto_pipeline.py)
TASKS = {
    "text-to-image": ("AutoPipelineForText2Image", "AUTO_TEXT2IMAGE_PIPELINES_MAPPING"),
    "image-to-image": ("AutoPipelineForImage2Image", "AUTO_IMAGE2IMAGE_PIPELINES_MAPPING"),
    "inpainting": ("AutoPipelineForInpainting", "AUTO_INPAINT_PIPELINES_MAPPING"),
}
_PAG_SUFFIX = "-pag"


def pag_task_table() -> dict[str, dict[str, str | None]]:
    """For each family key with a PAG entry in any AutoPipeline task mapping (e.g.
    "stable-diffusion-xl"): {task: name of the PAG class that task maps to, or None}.

    Read from the installed diffusers, so the table follows it: families in the order they first
    appear in the mappings, tasks in the order of `TASKS`. Kolors is in the mappings only when
    sentencepiece is installed (diffusers adds it conditionally). Takes no arguments.

    Refuses: nothing (no arguments); raises AttributeError if diffusers no longer has a mapping
    named in `TASKS`, which is news about diffusers, not a bad input.
    """
    from diffusers.pipelines import auto_pipeline

    mappings = {task: getattr(auto_pipeline, attribute) for task, (_, attribute) in TASKS.items()}
    families = []
    for mapping in mappings.values():
        for key in mapping:
            family = key.removesuffix(_PAG_SUFFIX)
            if key.endswith(_PAG_SUFFIX) and family not in families:
                families.append(family)
    return {
        family: {
            task: (mapping[family + _PAG_SUFFIX].__name__ if family + _PAG_SUFFIX in mapping else None)
            for task, mapping in mappings.items()
        }
        for family in families
    }


def write_tiny_ip_adapter(
    unet,
    image_encoder,
    folder,
    *,
    subfolder: str = "models",
    weight_name: str = "ip-adapter_tiny.safetensors",
    seed: int = 0,
    std: float = 0.05,
) -> dict[str, str]:
    """Write a random basic IP-Adapter for `unet` (and `image_encoder` beside it) under `folder`.

    Layout, as on the Hub's h94/IP-Adapter: `<folder>/<subfolder>/<weight_name>` holds
    `image_proj.proj.*`, `image_proj.norm.*` (the `ImageProjection` of 4 image tokens) and
    `ip_adapter.<k>.to_k_ip.weight` / `to_v_ip.weight` for every cross-attention layer, numbered
    k = 1, 3, 5, ... in the order of `unet.attn_processors` (the numbering diffusers' loader
    expects, loaders/unet.py `_convert_ip_adapter_attn_to_diffusers`);
    `<folder>/<subfolder>/image_encoder/` holds `image_encoder.save_pretrained(...)`.
    Weights are normal(0, std) from a CPU generator seeded with `seed` (layer-norm weights 1,
    biases 0), so the same arguments write the same file. Returns the keyword arguments of
    `pipe.load_ip_adapter`: `pretrained_model_name_or_path_or_dict`, `subfolder`, `weight_name`.

    Refuses: a `unet` that is not a `UNet2DConditionModel` or has no cross-attention layer; an
    `image_encoder` that is not a transformers `CLIPVisionModelWithProjection`; a `folder` that
    is not a path; a `subfolder` that is empty or not a plain folder name; a `weight_name` that
    does not end in ".safetensors" or holds a slash; a `seed` that is not a non-negative int; a
    `std` that is not a positive finite number.
    """
    from diffusers import UNet2DConditionModel
    from safetensors.torch import save_file
    from transformers import CLIPVisionModelWithProjection

    if not isinstance(unet, UNet2DConditionModel):
        raise TypeError(f"unet must be a diffusers UNet2DConditionModel (pipe.unet), got {type(unet).__name__}")
    if not isinstance(image_encoder, CLIPVisionModelWithProjection):
        raise TypeError(
            "image_encoder must be a transformers CLIPVisionModelWithProjection (what load_ip_adapter loads), "
            f"got {type(image_encoder).__name__}"
        )
    if not isinstance(folder, (str, os.PathLike)):
        raise TypeError(f"folder must be a path (str or Path), got {type(folder).__name__}")
    root = Path(folder)
    if not isinstance(subfolder, str) or not subfolder.strip() or "/" in subfolder or subfolder in (".", ".."):
        raise ValueError(f"subfolder must be a plain folder name such as 'models', got {subfolder!r}")
    if not isinstance(weight_name, str) or not weight_name.endswith(".safetensors") or "/" in weight_name:
        raise ValueError(f"weight_name must be a file name ending in '.safetensors', got {weight_name!r}")
    seed = validate.integer("seed", seed, minimum=0)
    std = validate.number("std", std, minimum=0.0, exclusive_minimum=True)
    modules = dict(unet.named_modules())
    cross = [
        name.removesuffix(".processor")
        for name in unet.attn_processors
        if not name.endswith("attn1.processor") and getattr(modules[name.removesuffix(".processor")], "is_cross_attention", False)
    ]
    if not cross:
        raise ValueError(f"unet ({type(unet).__name__}) has no cross-attention layer for an IP-Adapter to extend")

    generator = torch.Generator("cpu").manual_seed(seed)

    def normal(*shape):
        return (torch.randn(*shape, generator=generator) * std).contiguous()

    tokens_dim = unet.config.cross_attention_dim
    embed_dim = image_encoder.config.projection_dim
    weights = {
        "image_proj.proj.weight": normal(4 * tokens_dim, embed_dim),
        "image_proj.proj.bias": torch.zeros(4 * tokens_dim),
        "image_proj.norm.weight": torch.ones(tokens_dim),
        "image_proj.norm.bias": torch.zeros(tokens_dim),
    }
    for index, name in enumerate(cross):
        attention = modules[name]
        weights[f"ip_adapter.{2 * index + 1}.to_k_ip.weight"] = normal(attention.to_k.out_features, attention.to_k.in_features)
        weights[f"ip_adapter.{2 * index + 1}.to_v_ip.weight"] = normal(attention.to_v.out_features, attention.to_v.in_features)
    target = Path(root) / subfolder
    target.mkdir(parents=True, exist_ok=True)
    save_file(weights, str(target / weight_name))
    image_encoder.save_pretrained(target / "image_encoder")
    return {"pretrained_model_name_or_path_or_dict": str(root), "subfolder": subfolder, "weight_name": weight_name}
