"""Stable unCLIP text-to-image with Karlo's prior: the diffusers docs' recipe, and the width check it needs.

`StableUnCLIPPipeline` is a prior (text -> CLIP image embedding) in front of Stable unCLIP (SD 2.1
fine-tuned to take a noised CLIP image embedding beside the text). diffusers ships no prior for it:
its docs borrow Karlo's (`kakaobrain/karlo-v1-alpha`: the prior, and its UnCLIPScheduler's config
as a DDPMScheduler; the tokenizer and text encoder from `openai/clip-vit-large-patch14`, the CLIP
Karlo was trained with) and pair it with `stabilityai/stable-diffusion-2-1-unclip-small`. That works only because both sides use the same
CLIP width: Karlo's prior makes ViT-L/14 image embeddings (768), which is what the "small" model
was trained on; `stabilityai/stable-diffusion-2-1-unclip` takes OpenCLIP ViT-H embeddings (1024)
and the call fails deep inside, in the image normaliser, with a tensor-size RuntimeError.
`karlo_text_to_image` builds that pipeline from two loaded pipelines (taking the tokenizer and
text encoder Karlo's pipeline ships with, not a second download) and refuses a mismatch up front.

    t2i = karlo_text_to_image(karlo, stable_unclip_small)   # both loaded with helpers.pipelines.load
    t2i("a red fox", generator=ctx.generator()).images
"""

from __future__ import annotations

__all__ = ["embedding_widths", "karlo_text_to_image"]


def _check_pipes(karlo, stable, name: str) -> None:
    from diffusers import (
        StableUnCLIPImg2ImgPipeline,
        StableUnCLIPPipeline,
        UnCLIPPipeline,
    )

    if not isinstance(karlo, UnCLIPPipeline):
        raise TypeError(
            f"karlo: {name}() takes Karlo's UnCLIPPipeline (helpers.pipelines.load('unclip', ctx)) for its prior, "
            f"got {type(karlo).__name__}"
        )
    if not isinstance(stable, (StableUnCLIPImg2ImgPipeline, StableUnCLIPPipeline)):
        raise TypeError(
            f"stable: {name}() takes a Stable unCLIP pipeline (helpers.pipelines.load('stable-unclip', ctx)), "
            f"got {type(stable).__name__}"
        )


def embedding_widths(karlo, stable) -> dict[str, int]:
    """The CLIP image-embedding widths the two sides of the recipe make and expect.

    - "prior makes": Karlo's `prior.config.embedding_dim` (768 for karlo-v1-alpha);
    - "normaliser expects": the length of Stable unCLIP's `image_normalizer.mean` (768 for
      -unclip-small, 1024 for -unclip), which the prior's output is scaled by first;
    - "UNet class input": the UNet's `projection_class_embeddings_input_dim`, the embedding and
      its noise-level embedding side by side (2 × the normaliser's width).

    Refuses: a `karlo` that is not an UnCLIPPipeline; a `stable` that is not a Stable unCLIP
    pipeline (StableUnCLIPImg2ImgPipeline or StableUnCLIPPipeline).
    """
    _check_pipes(karlo, stable, "embedding_widths")
    return {
        "prior makes": int(karlo.prior.config.embedding_dim),
        "normaliser expects": int(stable.image_normalizer.mean.shape[-1]),
        "UNet class input": int(
            stable.unet.config.projection_class_embeddings_input_dim
        ),
    }


def karlo_text_to_image(karlo, stable):
    """A StableUnCLIPPipeline: Karlo's prior in front of `stable`'s noising, UNet and VAE.

    As the diffusers docs build it, except that `prior_tokenizer` and `prior_text_encoder` are
    the ones Karlo's pipeline ships (the docs load them from openai/clip-vit-large-patch14):
    `prior_tokenizer`, `prior_text_encoder` and `prior` are Karlo's own modules (shared, not
    copied), `prior_scheduler` is `DDPMScheduler.from_config(karlo.prior_scheduler.config)`; every other component is
    `stable`'s (its image encoder and feature extractor are left out: text-to-image makes the
    embedding with the prior instead). The progress bar follows `stable`'s setting.

    Refuses: what `embedding_widths` refuses, and (ValueError, before building anything) a pair
    whose widths differ: a prior whose embedding is not the width `stable` was trained on (the
    case of stabilityai/stable-diffusion-2-1-unclip, ViT-H, 1024, with Karlo's ViT-L/14 prior,
    768), which diffusers would only report mid-call as a tensor-size RuntimeError.
    """
    from ..pipelines import CHECKPOINTS, MODEL_IDS

    widths = embedding_widths(karlo, stable)
    made, expected = widths["prior makes"], widths["normaliser expects"]
    if made != expected or widths["UNet class input"] != 2 * expected:
        raise ValueError(
            f"stable: Karlo's prior makes {made}-wide CLIP image embeddings, but this Stable unCLIP expects "
            f"{expected} (image_normalizer) and {widths['UNet class input']} = 2 x {expected} (UNet class "
            f"input). Pair Karlo's ViT-L/14 prior with {MODEL_IDS['stable-unclip']} (768); "
            f"{CHECKPOINTS['stable-unclip-vit-h'].model_id} takes OpenCLIP ViT-H embeddings (1024)"
        )
    from diffusers import DDPMScheduler, StableUnCLIPPipeline

    decoder = {
        k: v
        for k, v in stable.components.items()
        if k not in ("feature_extractor", "image_encoder")
    }
    decoder = {k: v for k, v in decoder.items() if not k.startswith("prior")}
    pipe = StableUnCLIPPipeline(
        prior_tokenizer=karlo.tokenizer,
        prior_text_encoder=karlo.text_encoder,
        prior=karlo.prior,
        prior_scheduler=DDPMScheduler.from_config(karlo.prior_scheduler.config),
        **decoder,
    )
    pipe.set_progress_bar_config(**getattr(stable, "_progress_bar_config", {}))
    return pipe
