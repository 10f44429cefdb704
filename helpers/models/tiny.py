"""Tiny components built from the real diffusers/transformers classes, with no download.

Each `build_*` function returns the keyword arguments of one pipeline class: real model classes
with tiny configs and random weights (seeded), and tokenizers made in memory. They mirror the
shapes of diffusers' own `get_dummy_components` tests, with two differences that matter to the
book: every family keeps its real scheduler config (from `helpers.models.shipped_configs`), and the
Würstchen models are made to depend on their inputs (see `refill_zero_parameters`).
"""

from __future__ import annotations

import json
import string
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch
from diffusers import (
    AutoencoderKL,
    DDIMScheduler,
    DDPMScheduler,
    DDPMWuerstchenScheduler,
    DPMSolverMultistepScheduler,
    EulerDiscreteScheduler,
    PixArtTransformer2DModel,
    PNDMScheduler,
    PriorTransformer,
    UNet2DConditionModel,
    UNet2DModel,
    UnCLIPScheduler,
)
from diffusers.pipelines.stable_diffusion.stable_unclip_image_normalizer import StableUnCLIPImageNormalizer
from transformers import (
    CLIPTextConfig,
    CLIPTextModel,
    CLIPTextModelWithProjection,
    CLIPTokenizer,
    CLIPVisionConfig,
    CLIPVisionModelWithProjection,
    T5Config,
    T5EncoderModel,
    T5Tokenizer,
)
from transformers.convert_slow_tokenizer import bytes_to_unicode

from .. import validate
from . import moved
from .shipped_configs import PIXART_SIGMA_SCHEDULER, SD15_SCHEDULER, SDXL_SCHEDULER

# what a reader is meant to use (the reference page lists these)
__all__ = [
    "clip_tokenizer", "clip_text_config", "clip_vision_model", "clip_image_processor", "vae", "build_sd15",
    "build_sd15_inpaint",
    "build_sdxl", "build_pixart_sigma", "build_wuerstchen_prior", "build_wuerstchen_decoder", "build_unclip",
    "build_unclip_image_variation", "build_stable_unclip", "build",
]

# moved under pipelines.deprecated in newer releases (helpers.models.moved)
UnCLIPTextProjModel = moved.module("unclip", "text_proj").UnCLIPTextProjModel
PaellaVQModel = moved.package("wuerstchen").PaellaVQModel
WuerstchenDiffNeXt = moved.package("wuerstchen").WuerstchenDiffNeXt
WuerstchenPrior = moved.package("wuerstchen").WuerstchenPrior

SEED = 0
TEXT_WIDTH = 32  # hidden size of every tiny text encoder


CLIP_CHARACTER_VOCAB = 2 * 256 + 2  # every byte, alone and word-final, and the two special tokens


def clip_tokenizer(max_length: int = 77, vocab_size: int = CLIP_CHARACTER_VOCAB, pad_token: str | None = None) -> CLIPTokenizer:
    """A character-level CLIP tokenizer made in memory (no merges), offline.

    The special tokens take the two highest ids, as in CLIP's own vocabulary, so that
    CLIPTextModel's pooling (the position of the end-of-text token) is right.

    - max_length: the context (77 in every CLIP text encoder of the book).
    - vocab_size: 514 (the characters only) for the tiny and toy encoders; a full-size encoder's
      embedding table (49408 for CLIP, `helpers.models.full_size.pipeline_components`) needs the
      real size, so the ids between the characters and the special tokens are filled with unused
      tokens and the special tokens keep CLIP's ids (49406, 49407).
    - pad_token: None keeps CLIPTokenizer's (the end-of-text token, as SD 1.5's tokenizer); SDXL's
      second tokenizer pads with "!".

    Refuses: a `max_length` that is not an int >= 3 (BOS, one token, EOS), a `vocab_size` that is
    not an int >= 514, a `pad_token` that is not a str or None.
    """
    max_length = validate.integer("max_length", max_length, minimum=3)
    vocab_size = validate.integer("vocab_size", vocab_size, minimum=CLIP_CHARACTER_VOCAB)
    if pad_token is not None and not isinstance(pad_token, str):
        raise TypeError(f"pad_token must be a str (e.g. '!') or None, got {type(pad_token).__name__} {pad_token!r}")
    chars = list(bytes_to_unicode().values())
    pieces = chars + [c + "</w>" for c in chars]
    filler = [f"<|unused{i}|>" for i in range(vocab_size - CLIP_CHARACTER_VOCAB)]
    tokens = pieces + filler + ["<|startoftext|>", "<|endoftext|>"]
    vocab = {t: i for i, t in enumerate(tokens)}
    extra = {} if pad_token is None else {"pad_token": pad_token}
    if moved.TRANSFORMERS_4:  # its CLIPTokenizer reads files only (transformers 5 takes the vocab)
        folder = Path(tempfile.mkdtemp(prefix="tiny-clip-tokenizer-"))
        (folder / "vocab.json").write_text(json.dumps(vocab))
        (folder / "merges.txt").write_text("#version: 0.2\n")
        return CLIPTokenizer(folder / "vocab.json", folder / "merges.txt", model_max_length=max_length, **extra)
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=max_length, **extra)


def t5_tokenizer(max_length: int = 512) -> T5Tokenizer:
    """A character-level T5 (Unigram) tokenizer made in memory, no sentencepiece file.

    Refuses: a `max_length` that is not an int >= 2 (one token and EOS).
    """
    max_length = validate.integer("max_length", max_length, minimum=2)
    specials = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("\u2581", -2.0)]
    chars = [(c, -3.0) for c in string.ascii_letters + string.digits + string.punctuation]
    if moved.TRANSFORMERS_4:  # its T5Tokenizer needs a sentencepiece file: build the fast one
        from tokenizers import Tokenizer, models, pre_tokenizers
        from transformers import T5TokenizerFast

        unigram = Tokenizer(models.Unigram(specials + chars, unk_id=2))
        unigram.pre_tokenizer = pre_tokenizers.Metaspace()
        return T5TokenizerFast(
            tokenizer_object=unigram, eos_token="</s>", unk_token="<unk>", pad_token="<pad>",
            extra_ids=0, model_max_length=max_length,
        )
    return T5Tokenizer(vocab=specials + chars, extra_ids=0, model_max_length=max_length)


def clip_text_config(
    tokenizer: CLIPTokenizer, hidden_size: int = TEXT_WIDTH, intermediate_size: int = 37, **extra
) -> CLIPTextConfig:
    """A tiny CLIPTextConfig sized for `tokenizer` (vocabulary, context, special ids), plus `extra`.

    `hidden_size` and `intermediate_size` (the MLP width) default to the random tiny encoders'; the
    trained toy encoder (helpers.toy.models) is wider.

    Refuses: a `tokenizer` without bos/eos/pad ids or model_max_length (TypeError), and `extra`
    keys that CLIPTextConfig does not define (it would store a typo such as `projection_dims`
    silently) or that this function sets itself.
    """
    for attribute in ("bos_token_id", "eos_token_id", "pad_token_id", "model_max_length"):
        if getattr(tokenizer, attribute, None) is None:
            raise TypeError(f"tokenizer must be a CLIP tokenizer with {attribute} (e.g. clip_tokenizer()), got {type(tokenizer).__name__}")
    hidden_size = validate.positive_int("hidden_size", hidden_size)
    intermediate_size = validate.positive_int("intermediate_size", intermediate_size)
    known = set(CLIPTextConfig().to_dict())
    fixed = {"vocab_size", "num_attention_heads", "num_hidden_layers",
             "max_position_embeddings", "bos_token_id", "eos_token_id", "pad_token_id"}
    for key in extra:
        if key in fixed:
            raise ValueError(f"clip_text_config sets {key} itself; got {key}={extra[key]!r}")
        if key not in known:
            raise ValueError(f"{key!r} is not a CLIPTextConfig setting; CLIPTextConfig would store it and ignore it")
    return CLIPTextConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=intermediate_size,
        num_attention_heads=4,
        num_hidden_layers=2,
        max_position_embeddings=tokenizer.model_max_length,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **extra,
    )


def clip_vision_model() -> CLIPVisionModelWithProjection:
    """A tiny CLIP image encoder with projection (32x32 images). Takes no arguments."""
    config = CLIPVisionConfig(
        hidden_size=TEXT_WIDTH,
        projection_dim=TEXT_WIDTH,
        intermediate_size=37,
        num_attention_heads=4,
        num_hidden_layers=2,
        image_size=32,
        patch_size=4,
    )
    return CLIPVisionModelWithProjection(config)


def clip_image_processor():
    """A CLIP image processor for 32x32 crops. Takes no arguments."""
    # the PIL flavour: the default one wants torchvision, which this CPU torch cannot import beside it
    return moved.clip_image_processor_class()(crop_size=32, size=32)


def vae(sample_size: int = 64) -> AutoencoderKL:
    """A two-level KL autoencoder: 2x spatial compression, 4 latent channels.

    Refuses: a `sample_size` that is not an even int >= 2 (one downsampling halves it).
    """
    sample_size = validate.integer("sample_size", sample_size, minimum=2)
    if sample_size % 2:
        raise ValueError(f"sample_size must be even (the VAE halves it once), got {sample_size}")
    return AutoencoderKL(
        block_out_channels=(16, 32),
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        latent_channels=4,
        norm_num_groups=8,
        layers_per_block=1,
        sample_size=sample_size,
    )


def refill_zero_parameters(module: torch.nn.Module, std: float = 0.05, below: float = 1e-6) -> int:
    """Give every parameter that is all (near) zero small random values; return how many.

    Würstchen zero-initialises its output convolutions, timestep mappers, GlobalResponseNorm and
    VQ residual gammas. And WuerstchenDiffNeXt's `_init_weights` runs once per submodule through
    `self.apply`, scaling the last layer of every ResBlockStageB by sqrt(1/sum(blocks)) each time,
    so those weights end up near 1e-11. Trained checkpoints have moved all of them; random tiny
    models have not, and then Stage B ignores Stage C altogether. Refilling restores the dependence
    the chapters study.

    Refuses: a `module` that is not a torch.nn.Module (TypeError), a `std` that is not a finite
    number > 0, a `below` that is not a finite number >= 0.
    """
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    std = validate.number("std", std, minimum=0, exclusive_minimum=True)
    below = validate.number("below", below, minimum=0)
    refilled = 0
    with torch.no_grad():
        for parameter in module.parameters():
            if parameter.numel() and parameter.abs().max() < below:
                parameter.normal_(0.0, std)
                refilled += 1
    return refilled


def build_sd15() -> dict:
    """The keyword arguments of the family's pipeline class, tiny and random. Takes no arguments."""
    tokenizer = clip_tokenizer()
    return {
        "unet": UNet2DConditionModel(
            block_out_channels=(32, 64),
            layers_per_block=1,
            sample_size=32,
            in_channels=4,
            out_channels=4,
            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
            cross_attention_dim=TEXT_WIDTH,
            attention_head_dim=8,
            norm_num_groups=16,
        ),
        "vae": vae(64),
        "text_encoder": CLIPTextModel(clip_text_config(tokenizer)),
        "tokenizer": tokenizer,
        "scheduler": PNDMScheduler.from_config(SD15_SCHEDULER),
        "safety_checker": None,
        "feature_extractor": clip_image_processor(),
        "image_encoder": None,
        "requires_safety_checker": False,
    }


INPAINT_CHANNELS = 9  # 4 noisy latent + 1 mask + 4 masked-image latent channels, concatenated


def build_sd15_inpaint() -> dict:
    """The keyword arguments of StableDiffusionInpaintPipeline with a 9-channel UNet, tiny and random.

    The tiny SD 1.5 components with the UNet's `in_channels` at 9, the layout of
    stable-diffusion-inpainting: the pipeline concatenates the noisy latents (4), the mask at latent
    size (1) and the masked image's latents (4). Every input channel has random weights, so the
    UNet's output depends on the mask and the masked image. Takes no arguments.
    """
    components = build_sd15()
    config = dict(components["unet"].config)
    config["in_channels"] = INPAINT_CHANNELS
    components["unet"] = UNet2DConditionModel.from_config(config)
    return components


def build_sdxl() -> dict:
    """The keyword arguments of the family's pipeline class, tiny and random. Takes no arguments."""
    tokenizer = clip_tokenizer()
    time_embed_dim = 8
    return {
        "unet": UNet2DConditionModel(
            block_out_channels=(32, 64),
            layers_per_block=1,
            sample_size=32,
            in_channels=4,
            out_channels=4,
            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
            attention_head_dim=(2, 4),
            use_linear_projection=True,
            addition_embed_type="text_time",
            addition_time_embed_dim=time_embed_dim,
            transformer_layers_per_block=(1, 2),
            # pooled text (projection of encoder 2) + six micro-conditioning numbers
            projection_class_embeddings_input_dim=TEXT_WIDTH + 6 * time_embed_dim,
            cross_attention_dim=2 * TEXT_WIDTH,  # the two encoders' hidden states, concatenated
            norm_num_groups=16,
        ),
        "vae": vae(64),
        "text_encoder": CLIPTextModel(clip_text_config(tokenizer)),
        "tokenizer": tokenizer,
        "text_encoder_2": CLIPTextModelWithProjection(clip_text_config(tokenizer, projection_dim=TEXT_WIDTH)),
        "tokenizer_2": clip_tokenizer(),
        "scheduler": EulerDiscreteScheduler.from_config(SDXL_SCHEDULER),
        "image_encoder": None,
        "feature_extractor": None,
    }


def build_pixart_sigma() -> dict:
    """The keyword arguments of the family's pipeline class, tiny and random. Takes no arguments."""
    tokenizer = t5_tokenizer()
    return {
        "transformer": PixArtTransformer2DModel(
            sample_size=16,
            num_layers=2,
            patch_size=2,
            attention_head_dim=8,
            num_attention_heads=3,
            caption_channels=TEXT_WIDTH,
            in_channels=4,
            cross_attention_dim=24,
            out_channels=8,
            attention_bias=True,
            activation_fn="gelu-approximate",
            num_embeds_ada_norm=1000,
            norm_type="ada_norm_single",
            norm_elementwise_affine=False,
            norm_eps=1e-6,
        ),
        "vae": vae(32),
        "text_encoder": T5EncoderModel(
            T5Config(vocab_size=len(tokenizer), d_model=TEXT_WIDTH, d_ff=37, d_kv=8, num_heads=4, num_layers=2)
        ),
        "tokenizer": tokenizer,
        "scheduler": DPMSolverMultistepScheduler.from_config(PIXART_SIGMA_SCHEDULER),
    }


EFFNET_CHANNELS = 4  # Stage C latent channels (16 in the real model)


def build_wuerstchen_prior() -> dict:
    """The keyword arguments of the family's pipeline class, tiny and random. Takes no arguments."""
    tokenizer = clip_tokenizer()
    prior = WuerstchenPrior(c_in=EFFNET_CHANNELS, c=32, c_cond=TEXT_WIDTH, c_r=8, depth=2, nhead=2, dropout=0.0)
    refill_zero_parameters(prior)
    return {
        "tokenizer": tokenizer,
        "text_encoder": CLIPTextModel(clip_text_config(tokenizer)),
        "prior": prior,
        "scheduler": DDPMWuerstchenScheduler(),
    }


def build_wuerstchen_decoder() -> dict:
    """The keyword arguments of the family's pipeline class, tiny and random. Takes no arguments."""
    tokenizer = clip_tokenizer()
    decoder = WuerstchenDiffNeXt(
        c_in=4,
        c_out=4,
        c_r=8,
        patch_size=1,
        c_cond=TEXT_WIDTH,
        c_hidden=[16, 32],
        nhead=[-1, 2],
        blocks=[1, 1],
        level_config=["CT", "CTA"],
        # the real Stage B injects Stage C at every level but the first; diffusers' test model
        # injects it nowhere, which would make Stage C irrelevant
        inject_effnet=[False, True],
        effnet_embd=EFFNET_CHANNELS,
        clip_embd=TEXT_WIDTH,
        dropout=0.0,
    )
    vqgan = PaellaVQModel(levels=2, bottleneck_blocks=1, embed_dim=16, latent_channels=4, num_vq_embeddings=32)
    refill_zero_parameters(decoder)
    refill_zero_parameters(vqgan)
    with torch.no_grad():
        # a random VQGAN decodes around 0, and the pipeline clamps to [0, 1]: two thirds of the
        # pixels would be black. Centring on mid-grey keeps the whole image informative.
        vqgan.out_block[0].bias += 0.5
    return {
        "tokenizer": tokenizer,
        "text_encoder": CLIPTextModel(clip_text_config(tokenizer)),
        "decoder": decoder,
        "scheduler": DDPMWuerstchenScheduler(),
        "vqgan": vqgan,
    }


UNCLIP_CROSS_ATTENTION = 48
UNCLIP_TIME_EMBED = 128  # the decoder's block_out_channels[0] * 4


def unclip_decoder() -> UNet2DConditionModel:
    """Karlo's decoder UNet, tiny (learned variance). Takes no arguments."""
    return UNet2DConditionModel(
        sample_size=32,
        in_channels=3,
        out_channels=6,  # learned variance: mean and range
        down_block_types=("ResnetDownsampleBlock2D", "SimpleCrossAttnDownBlock2D"),
        up_block_types=("SimpleCrossAttnUpBlock2D", "ResnetUpsampleBlock2D"),
        mid_block_type="UNetMidBlock2DSimpleCrossAttn",
        block_out_channels=(32, 64),
        layers_per_block=1,
        cross_attention_dim=UNCLIP_CROSS_ATTENTION,
        attention_head_dim=4,
        resnet_time_scale_shift="scale_shift",
        class_embed_type="identity",
        norm_num_groups=16,
    )


def unclip_super_res() -> UNet2DModel:
    """Karlo's super-resolution UNet, tiny. Takes no arguments."""
    return UNet2DModel(
        sample_size=64,
        layers_per_block=1,
        down_block_types=("ResnetDownsampleBlock2D", "ResnetDownsampleBlock2D"),
        up_block_types=("ResnetUpsampleBlock2D", "ResnetUpsampleBlock2D"),
        block_out_channels=(32, 64),
        in_channels=6,
        out_channels=3,
        norm_num_groups=16,
    )


def unclip_shared() -> dict:
    """Components UnCLIPPipeline and UnCLIPImageVariationPipeline have in common. Takes no arguments."""
    tokenizer = clip_tokenizer()
    return {
        "decoder": unclip_decoder(),
        "text_encoder": CLIPTextModelWithProjection(clip_text_config(tokenizer, projection_dim=TEXT_WIDTH)),
        "tokenizer": tokenizer,
        "text_proj": UnCLIPTextProjModel(
            clip_embeddings_dim=TEXT_WIDTH, time_embed_dim=UNCLIP_TIME_EMBED, cross_attention_dim=UNCLIP_CROSS_ATTENTION
        ),
        "super_res_first": unclip_super_res(),
        "super_res_last": unclip_super_res(),
        "decoder_scheduler": UnCLIPScheduler(variance_type="learned_range", prediction_type="epsilon"),
        "super_res_scheduler": UnCLIPScheduler(variance_type="fixed_small_log", prediction_type="epsilon"),
    }


def build_unclip() -> dict:
    """The keyword arguments of the family's pipeline class, tiny and random. Takes no arguments."""
    return {
        **unclip_shared(),
        "prior": PriorTransformer(num_attention_heads=2, attention_head_dim=12, embedding_dim=TEXT_WIDTH, num_layers=1),
        "prior_scheduler": UnCLIPScheduler(
            variance_type="fixed_small_log", prediction_type="sample", clip_sample_range=5.0
        ),
    }


def build_unclip_image_variation() -> dict:
    """The keyword arguments of the family's pipeline class, tiny and random. Takes no arguments."""
    return {**unclip_shared(), "feature_extractor": clip_image_processor(), "image_encoder": clip_vision_model()}


def build_stable_unclip() -> dict:
    """The keyword arguments of the family's pipeline class, tiny and random. Takes no arguments."""
    tokenizer = clip_tokenizer()
    return {
        "feature_extractor": clip_image_processor(),
        "image_encoder": clip_vision_model(),
        "image_normalizer": StableUnCLIPImageNormalizer(embedding_dim=TEXT_WIDTH),
        "image_noising_scheduler": DDPMScheduler(beta_schedule="squaredcos_cap_v2"),
        "tokenizer": tokenizer,
        "text_encoder": CLIPTextModel(clip_text_config(tokenizer)),
        "unet": UNet2DConditionModel(
            sample_size=32,
            in_channels=4,
            out_channels=4,
            down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
            up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
            block_out_channels=(32, 64),
            attention_head_dim=(2, 4),
            class_embed_type="projection",
            # the image embedding and its noise-level embedding, concatenated
            projection_class_embeddings_input_dim=2 * TEXT_WIDTH,
            cross_attention_dim=TEXT_WIDTH,
            layers_per_block=1,
            upcast_attention=True,
            use_linear_projection=True,
            norm_num_groups=16,
        ),
        "scheduler": DDIMScheduler(
            beta_schedule="scaled_linear",
            beta_start=0.00085,
            beta_end=0.012,
            prediction_type="v_prediction",
            set_alpha_to_one=False,
            steps_offset=1,
        ),
        "vae": vae(64),
    }


def build(builder: Callable[[], dict]) -> dict:
    """Run a `build_*` function with the global RNG seeded and then restored.

    The weights are the same on every run, and building does not disturb the chapter's own seed.

    Refuses: a `builder` that is not callable (TypeError, e.g. `build(build_sd15())` instead of
    `build(build_sd15)`), and one that does not return a dict of components.
    """
    if not callable(builder):
        raise TypeError(f"builder must be a build_* function (pass build_sd15, not build_sd15()), got {type(builder).__name__}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(SEED)
        components = builder()
    if not isinstance(components, dict):
        raise TypeError(f"builder {getattr(builder, '__name__', builder)!r} returned {type(components).__name__}, not a dict of components")
    return components
