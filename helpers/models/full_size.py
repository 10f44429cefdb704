"""The full-size models the chapters compare, built on the meta device, and the cost of one call;
and the full-size SD 1.5 and SDXL pipelines' components (`pipeline_components`), the one place
full-size models are built (`helpers.models.mirror` writes them into a random-weight mirror).

`FULL_SIZE` holds Würstchen v2 Stages C, B and A and the Stable Diffusion 1.5 and SDXL UNets and
VAE decoders, each built from its published configuration (`helpers.models.shipped_configs`) with the
inputs its pipeline feeds it for a given image size, so that `forward_cost("sdxl-unet", 1024, 1024)`
is the cost of one UNet call at 1024², counted by `helpers.models.flops`. PixArt-Σ's transformer
(`PIXART_SIGMA_TRANSFORMER`, a `ModelSpec` of its own) is built here too, for
`helpers.research.signatures.full_size_on_meta`.
"""

from __future__ import annotations

import difflib
import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass

import diffusers
import torch
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

from .. import validate
from . import flops, moved, tiny
from ..pipelines import MODEL_IDS  # the checkpoint each config ships in
from .shipped_configs import (
    PIXART_SIGMA_TRANSFORMER_CONFIG,
    SD15_SCHEDULER,
    SD15_UNET_CONFIG,
    SD_VAE_CONFIG,
    SDXL_SCHEDULER,
    SDXL_UNET_CONFIG,
    WUERSTCHEN_DECODER_CONFIG,
    WUERSTCHEN_LATENT_DIM_SCALE,
    WUERSTCHEN_PRIOR_CONFIG,
    WUERSTCHEN_RESOLUTION_MULTIPLE,
    WUERSTCHEN_VQGAN_CONFIG,
)

# what a reader is meant to use (the reference page lists these)
__all__ = [
    "ModelSpec", "wuerstchen_latent_sizes", "MODEL_NAMES", "spec", "build", "forward_cost",
    "PIPELINE_FAMILIES", "CLIP_VOCAB", "CLIP_L_TEXT", "CLIP_BIGG_TEXT", "CLIP_PUBLISHED_PARAMS", "VAE",
    "pipeline_components", "PIXART_SIGMA_TRANSFORMER",
]

TEXT_TOKENS = 77  # every text encoder here is a CLIP text model padded to its 77-token maximum
SD_VAE_FACTOR = 8  # VAE downsampling of SD 1.5 and SDXL (2 ** (len(block_out_channels) - 1))


@dataclass(frozen=True)
class ModelSpec:
    """A full-size model: how to build it and what its pipeline feeds it for an image size.

    `inputs(height, width, batch)` returns (method name, args, kwargs) with meta tensors shaped
    exactly as the pipeline shapes them; `size_multiple` is what height and width must divide by.
    """

    name: str
    description: str
    source: str
    class_name: str
    config: dict
    inputs: Callable[[int, int, int], tuple[str, tuple, dict]]
    default_size: int
    size_multiple: int = 1

    def model_class(self) -> type:
        module, _, cls = self.class_name.rpartition(".")
        if module == "diffusers.pipelines.deprecated.wuerstchen":  # 0.42's place; helpers.models.moved
            return getattr(moved.package("wuerstchen"), cls)
        return getattr(importlib.import_module(module), cls)

    def build(self) -> torch.nn.Module:
        return flops.build_on_meta(self.model_class(), self.config)


def _meta(*shape: int) -> torch.Tensor:
    return torch.zeros(shape, device="meta")


def wuerstchen_latent_sizes(height: int, width: int) -> dict[str, tuple[int, int]]:
    """Spatial sizes of the Stage C and Stage B latents for an image, as the pipelines compute them.

    Stage C: ceil(side / resolution_multiple) (prior pipeline, 42.67); Stage B:
    int(stage_c * latent_dim_scale) (decoder pipeline, 10.67); Stage A upsamples Stage B by 4.

    Refuses: height or width that are not ints >= 1.
    """
    _check_size("Würstchen", height, width, 1)
    multiple, scale = WUERSTCHEN_RESOLUTION_MULTIPLE, WUERSTCHEN_LATENT_DIM_SCALE
    c = (math.ceil(height / multiple), math.ceil(width / multiple))
    b = (int(c[0] * scale), int(c[1] * scale))
    return {"stage_c": c, "stage_b": b, "image": (4 * b[0], 4 * b[1])}


def _prior_inputs(height, width, batch):
    h, w = wuerstchen_latent_sizes(height, width)["stage_c"]
    c_in, c_cond = WUERSTCHEN_PRIOR_CONFIG["c_in"], WUERSTCHEN_PRIOR_CONFIG["c_cond"]
    return "forward", (_meta(batch, c_in, h, w), _meta(batch), _meta(batch, TEXT_TOKENS, c_cond)), {}


def _decoder_inputs(height, width, batch):
    sizes = wuerstchen_latent_sizes(height, width)
    if any(side % 16 for side in sizes["stage_b"]):
        # patch size 2 and three stride-2 levels: the skip connections only line up at multiples of 16
        raise ValueError(
            f"{height}x{width} gives a Stage B latent of {sizes['stage_b']}, which WuerstchenDiffNeXt cannot "
            "process (each side must be a multiple of 16); use an image size such as 512, 768 or 1024"
        )
    cfg = WUERSTCHEN_DECODER_CONFIG
    x = _meta(batch, cfg["c_in"], *sizes["stage_b"])
    effnet = _meta(batch, cfg["effnet_embd"], *sizes["stage_c"])
    return "forward", (x, _meta(batch), effnet, _meta(batch, TEXT_TOKENS, cfg["clip_embd"])), {}


def _vqgan_inputs(height, width, batch):
    h, w = wuerstchen_latent_sizes(height, width)["stage_b"]
    return "decode", (_meta(batch, WUERSTCHEN_VQGAN_CONFIG["latent_channels"], h, w),), {}


def _sd_unet_inputs(config):
    def inputs(height, width, batch):
        sample = _meta(batch, config["in_channels"], height // SD_VAE_FACTOR, width // SD_VAE_FACTOR)
        text = _meta(batch, TEXT_TOKENS, config["cross_attention_dim"])
        kwargs = {}
        if config.get("addition_embed_type") == "text_time":
            # SDXL: pooled bigG text embedding (1280) + six size/crop ids, 1280 + 6 * 256 = 2816
            kwargs["added_cond_kwargs"] = {"text_embeds": _meta(batch, 1280), "time_ids": _meta(batch, 6)}
        return "forward", (sample, _meta(batch), text), kwargs

    return inputs


def _sd_vae_inputs(height, width, batch):
    latent = _meta(batch, SD_VAE_CONFIG["latent_channels"], height // SD_VAE_FACTOR, width // SD_VAE_FACTOR)
    return "decode", (latent,), {}


FULL_SIZE: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in [
        ModelSpec("wuerstchen-prior", "Würstchen Stage C (WuerstchenPrior), one denoising call",
                  MODEL_IDS["wuerstchen-prior"], "diffusers.pipelines.deprecated.wuerstchen.WuerstchenPrior", WUERSTCHEN_PRIOR_CONFIG,
                  _prior_inputs, 1024),
        ModelSpec("wuerstchen-decoder", "Würstchen Stage B (WuerstchenDiffNeXt), one denoising call",
                  MODEL_IDS["wuerstchen-decoder"], "diffusers.pipelines.deprecated.wuerstchen.WuerstchenDiffNeXt", WUERSTCHEN_DECODER_CONFIG,
                  _decoder_inputs, 1024),
        ModelSpec("wuerstchen-vqgan", "Würstchen Stage A (PaellaVQModel.decode)",
                  MODEL_IDS["wuerstchen-decoder"], "diffusers.pipelines.deprecated.wuerstchen.PaellaVQModel", WUERSTCHEN_VQGAN_CONFIG,
                  _vqgan_inputs, 1024),
        ModelSpec("sd15-unet", "SD 1.5 UNet2DConditionModel, one denoising call",
                  MODEL_IDS["sd15"], "diffusers.UNet2DConditionModel", SD15_UNET_CONFIG,
                  _sd_unet_inputs(SD15_UNET_CONFIG), 512, 64),
        ModelSpec("sd15-vae-decoder", "SD 1.5 AutoencoderKL.decode",
                  MODEL_IDS["sd15"], "diffusers.AutoencoderKL", SD_VAE_CONFIG,
                  _sd_vae_inputs, 512, SD_VAE_FACTOR),
        ModelSpec("sdxl-unet", "SDXL base UNet2DConditionModel, one denoising call",
                  MODEL_IDS["sdxl"], "diffusers.UNet2DConditionModel", SDXL_UNET_CONFIG,
                  _sd_unet_inputs(SDXL_UNET_CONFIG), 1024, 32),
        ModelSpec("sdxl-vae-decoder", "SDXL AutoencoderKL.decode (same network as SD 1.5's)",
                  MODEL_IDS["sdxl"], "diffusers.AutoencoderKL", SD_VAE_CONFIG,
                  _sd_vae_inputs, 1024, SD_VAE_FACTOR),
    ]
}  # fmt: skip
MODEL_NAMES = tuple(FULL_SIZE)

PIXART_T5_TOKENS = 300  # PixArtSigmaPipeline's max_sequence_length: T5 prompts padded to 300 tokens


def _pixart_inputs(height, width, batch):
    cfg = PIXART_SIGMA_TRANSFORMER_CONFIG
    sample = _meta(batch, cfg["in_channels"], height // SD_VAE_FACTOR, width // SD_VAE_FACTOR)
    text = _meta(batch, PIXART_T5_TOKENS, cfg["caption_channels"])
    # what the pipeline passes: no micro-conditioning (use_additional_conditions=False)
    kwargs = {"added_cond_kwargs": {"resolution": None, "aspect_ratio": None}}
    return "forward", (sample,), {"encoder_hidden_states": text, "timestep": _meta(batch), **kwargs}


# Not in FULL_SIZE: that table is the set the Würstchen chapter builds and records whole, and PixArt-Σ
# is no part of its comparison.
PIXART_SIGMA_TRANSFORMER = ModelSpec(
    "pixart-sigma-transformer", "PixArt-Σ PixArtTransformer2DModel, one denoising call",
    MODEL_IDS["pixart-sigma"], "diffusers.PixArtTransformer2DModel", PIXART_SIGMA_TRANSFORMER_CONFIG,
    _pixart_inputs, 1024, SD_VAE_FACTOR * PIXART_SIGMA_TRANSFORMER_CONFIG["patch_size"],
)  # fmt: skip


def _check_size(what: str, height, width, multiple: int) -> None:
    for label, side in (("height", height), ("width", width)):
        side = validate.positive_int(f"{what}: {label} (pixels)", side)
        if side % multiple:
            raise ValueError(f"{what}: {label} must be a multiple of {multiple}, got {side}")


def spec(name: str) -> ModelSpec:
    """The `ModelSpec` called `name`; a ValueError lists the valid names.

    Refuses: a name that is not a str (TypeError) or not in MODEL_NAMES (ValueError, with the
    closest name when it looks like a typo)."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, one of {', '.join(MODEL_NAMES)}; got {type(name).__name__} {name!r:.60}")
    if name not in FULL_SIZE:
        close = difflib.get_close_matches(name, MODEL_NAMES, n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"name: unknown model {name!r}; accepted: {', '.join(MODEL_NAMES)}{hint}")
    return FULL_SIZE[name]


def build(name: str) -> torch.nn.Module:
    """The full-size model `name` on the meta device (about a second; no memory).

    Refuses: what `spec` refuses."""
    return spec(name).build()


def forward_cost(
    name: str,
    height: int | None = None,
    width: int | None = None,
    batch: int = 1,
    model: torch.nn.Module | None = None,
    reference: bool = False,
) -> flops.Cost:
    """The `Cost` of one call of full-size model `name` for a `height` x `width` image.

    Sizes default to the model's native resolution. Pass `model` (from `build(name)`) to reuse
    one built model across sizes. FLOPs are exact for the given shapes, and linear in `batch`.

    Refuses: an unknown `name`; sizes that are not positive ints or not multiples of the
    model's `size_multiple`; a `batch` that is not an int >= 1; a `model` that is not the class
    `name` names or was built with another configuration (e.g. `build("sd15-unet")` passed for
    "sdxl-unet": same class, other shapes); a `reference` that is not a bool.
    """
    entry = spec(name)
    height = entry.default_size if height is None else height
    width = height if width is None else width
    _check_size(name, height, width, entry.size_multiple)
    batch = validate.positive_int("batch", batch)
    reference = validate.boolean("reference", reference)
    if model is not None:
        _check_model(name, entry, model)
    method, args, kwargs = entry.inputs(height, width, batch)
    model = build(name) if model is None else model
    return flops.count_flops(getattr(model, method), args, kwargs, reference=reference)


def _check_model(name: str, entry: ModelSpec, model) -> None:
    """A model given to `forward_cost` must be what `build(name)` builds: same class, same config."""
    cls = entry.model_class()
    if not isinstance(model, cls):
        raise TypeError(f"model must be a {cls.__name__} (build({name!r})), got {type(model).__name__}")
    config = getattr(model, "config", {})
    differs = [key for key, value in entry.config.items() if _plain(config.get(key)) != _plain(value)]
    if differs:
        raise ValueError(
            f"model was built with another configuration than {name!r}: {', '.join(differs[:4])} differ "
            f"(e.g. {differs[0]}={config.get(differs[0])!r}, expected {entry.config[differs[0]]!r}); pass build({name!r})"
        )


def _plain(value):
    return list(value) if isinstance(value, (list, tuple)) else value


# --- whole pipelines ------------------------------------------------------------------------------

PIPELINE_FAMILIES = ("sd15", "sdxl")
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
CLIP_PUBLISHED_PARAMS = {"clip-l-text": 123_060_480, "clip-bigg-text-projection": 694_659_840}
VAE = {"sd15": dict(sample_size=512, scaling_factor=0.18215), "sdxl": dict(sample_size=1024, scaling_factor=0.13025)}


def _check_pipeline_family(name: str) -> None:
    if not isinstance(name, str) or name not in PIPELINE_FAMILIES:
        close = [f for f in PIPELINE_FAMILIES if isinstance(name, str) and f == name.lower().replace("-", "").replace("_", "")]
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise (ValueError if isinstance(name, str) else TypeError)(
            f"name must be one of {', '.join(PIPELINE_FAMILIES)} (the families random-mirror builds), got {name!r}{hint}"
            + ("" if close or not isinstance(name, str) else "; the others' encoder configs are not in the book yet"))


def pipeline_components(name: str, device: str | torch.device = "meta", dtype: torch.dtype = torch.float32) -> dict:
    """The full-size components of `name` ('sd15' or 'sdxl') with random weights on `device`.

    On `meta` they have shapes only (for counting); on a real device, torch's default random
    initialisation. The keys are the arguments of the pipeline class. The tokenizers are
    `helpers.models.tiny.clip_tokenizer` at CLIP's vocabulary size (the real ones cannot be made offline).

    Refuses: a `name` that is not one of PIPELINE_FAMILIES (TypeError for a non-str, ValueError
    naming the accepted ones).
    """
    _check_pipeline_family(name)
    with torch.device(device):
        unet = diffusers.UNet2DConditionModel(**(SD15_UNET_CONFIG if name == "sd15" else SDXL_UNET_CONFIG))
        vae = diffusers.AutoencoderKL(**SD_VAE_CONFIG, **VAE[name])
        text_encoder = CLIPTextModel(CLIPTextConfig(**CLIP_L_TEXT))
        text_encoder_2 = CLIPTextModelWithProjection(CLIPTextConfig(**CLIP_BIGG_TEXT)) if name == "sdxl" else None
    modules = {"unet": unet, "vae": vae, "text_encoder": text_encoder}
    if text_encoder_2 is not None:
        modules["text_encoder_2"] = text_encoder_2
    for module in modules.values():
        module.to(dtype).eval()
    if name == "sd15":
        return {**modules, "tokenizer": tiny.clip_tokenizer(vocab_size=CLIP_VOCAB),
                "scheduler": diffusers.PNDMScheduler.from_config(SD15_SCHEDULER), "safety_checker": None,
                "feature_extractor": moved.clip_image_processor_class()(), "image_encoder": None,
                "requires_safety_checker": False}  # fmt: skip
    return {**modules, "tokenizer": tiny.clip_tokenizer(vocab_size=CLIP_VOCAB),
            "tokenizer_2": tiny.clip_tokenizer(vocab_size=CLIP_VOCAB, pad_token="!"),
            "scheduler": diffusers.EulerDiscreteScheduler.from_config(SDXL_SCHEDULER),
            "image_encoder": None, "feature_extractor": None}  # fmt: skip
