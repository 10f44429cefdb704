"""The toy Würstchen: the real diffusers classes, sized for the toy world's 32×32 images.

- Stage A, `PaellaVQModel`: 32×32×3 ↔ 4×8×8 (two levels, a down factor of 4), trained first as a
  plain autoencoder. Its quantizer is bypassed, as the decoder pipeline bypasses it:
  `PaellaVQModel.decode(h, force_not_quantize=True)` is the default, and
  `WuerstchenDecoderPipeline` calls `vqgan.decode(latents)` without the argument.
- Stage C's target, the "image embedding": in the real model an EfficientNet feature map (16×24×24
  for 1024²). Here a fixed map with no weights, `image_embedding`: the image averaged over 4×4
  pixel cells (8×8×3), each 2×2 block of cells stacked into channels, so 12×4×4. It keeps colour
  and position and a coarse silhouette (a shape 10-14 pixels wide covers 3-4 cells a side); it
  throws away edges. Stage B gets it raw (values in [0, 1]); Stage C learns it normalised, and
  the prior pipeline's own `latent_mean`/`latent_std` config turns its output back
  (`latents * latent_mean - latent_std`).
- Stage B, `WuerstchenDiffNeXt`: on Stage A's 4×8×8 latent, the embedding injected at both levels,
  text through cross-attention in the lower level.
- Stage C, `WuerstchenPrior`: on the 12×4×4 embedding, text through cross-attention.
- Text: the toy Stable Diffusion's trained `CLIPTextModel` and tokenizer (`models/toy-sd`), frozen,
  used by both stages (the real Würstchen uses one CLIP for the prior and another for Stage B).
- Sizes: the prior pipeline's `resolution_multiple` is 8 (32 px → a 4×4 embedding, 42.67 in the
  real model) and the decoder's `latent_dim_scale` is 2 (4×4 → 8×8, 10.67 in the real model).

`load(ctx)` returns the committed weights (`models/toy-wuerstchen`) as a WuerstchenCombinedPipeline.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .. import validate
from ..models import moved
from . import world
from . import location

# what a reader is meant to use (the reference page lists these)
__all__ = [
    "EMBED_CHANNELS", "CELL", "RESOLUTION_MULTIPLE", "LATENT_DIM_SCALE", "EMBED_MEAN", "EMBED_STD",
    "PRIOR_STEPS", "DECODER_STEPS", "image_embedding", "build", "pipelines_of", "combine", "load", "stage_c",
    "stages_ba", "stages_ba_runs", "generate", "sample_accuracy",
]

MODEL_DIR = location.folder("wuerstchen")
TOY_SD_DIR = location.folder("sd15")
TEXT_WIDTH = 64  # the toy SD text encoder's hidden size
EMBED_CHANNELS = 12  # 3 colour channels × 2×2 cells
CELL = 4  # pixels per side of an averaged cell
RESOLUTION_MULTIPLE = 8.0  # image side / embedding side
LATENT_DIM_SCALE = 2.0  # Stage B latent side / embedding side
# the embedding's mean and standard deviation over `world.make_dataset(8000, seed=0)`: Stage C learns
# (embedding - EMBED_MEAN) / EMBED_STD, the prior pipeline maps it back with latent_mean =
# EMBED_STD and latent_std = -EMBED_MEAN
EMBED_MEAN = 0.0504
EMBED_STD = 0.1626
# the call a chapter makes: the combined pipeline's defaults are 60 prior and 12 decoder steps
PRIOR_STEPS = 20
DECODER_STEPS = 12


def image_embedding(images: torch.Tensor) -> torch.Tensor:
    """Stage C's target for images (N, 3, 32, 32) in [0, 1]: (N, 12, 4, 4), values in [0, 1].

    Deterministic, no weights: 4×4 average pooling, then `pixel_unshuffle(2)`. Refuses anything but
    a float tensor of that shape with values in [0, 1] (TypeError/ValueError).
    """
    if not isinstance(images, torch.Tensor) or not images.is_floating_point():
        raise TypeError(f"images must be a float torch tensor (N, 3, 32, 32); got {type(images).__name__}")
    if images.ndim != 4 or tuple(images.shape[1:]) != (3, world.SIZE, world.SIZE):
        raise ValueError(f"images must have shape (N, 3, {world.SIZE}, {world.SIZE}); got {tuple(images.shape)}")
    if images.numel() and (images.min() < 0 or images.max() > 1):
        raise ValueError("images must hold values in [0, 1] (the world's pixels); got values outside")
    return F.pixel_unshuffle(F.avg_pool2d(images, CELL), int(RESOLUTION_MULTIPLE) // CELL)


def text_components():
    """(tokenizer, text_encoder): the toy SD's trained CLIP text model, frozen, float32."""
    tokenizer = moved.saved_clip_tokenizer(TOY_SD_DIR / "tokenizer")
    encoder = moved.clip_text_model(TOY_SD_DIR / "text_encoder")
    return tokenizer, encoder.eval().requires_grad_(False)


def stage_a_model():
    PaellaVQModel = moved.package("wuerstchen").PaellaVQModel

    # scale_factor is set after training, from the latents' spread
    return PaellaVQModel(levels=2, bottleneck_blocks=2, embed_dim=64, latent_channels=4, num_vq_embeddings=64,
                         scale_factor=1.0)


def stage_b_model():
    WuerstchenDiffNeXt = moved.package("wuerstchen").WuerstchenDiffNeXt

    return WuerstchenDiffNeXt(c_in=4, c_out=4, c_r=32, patch_size=1, c_cond=64, c_hidden=[48, 96], nhead=[-1, 4],
                              blocks=[1, 2], level_config=["CT", "CTA"], inject_effnet=[True, True],
                              effnet_embd=EMBED_CHANNELS, clip_embd=TEXT_WIDTH, dropout=0.0)


def stage_c_model():
    WuerstchenPrior = moved.package("wuerstchen").WuerstchenPrior

    prior = WuerstchenPrior(c_in=EMBED_CHANNELS, c=96, c_cond=TEXT_WIDTH, c_r=32, depth=3, nhead=4, dropout=0.0)
    # the prior predicts noise as (x - a) / (|1 - b| + 1e-5) (modeling_wuerstchen_prior.py L112-L113):
    # from a random output layer some b start near 1 and the first losses reach 1e4-1e5. Starting
    # the output layer at zero (a = b = 0: the prediction is the input) keeps away from that pole.
    torch.nn.init.zeros_(prior.out[-1].weight)
    torch.nn.init.zeros_(prior.out[-1].bias)
    return prior


def build(seed: int = 0) -> dict:
    """Untrained Stage A/B/C (seeded) and the frozen toy text encoder."""
    torch.manual_seed(seed)
    tokenizer, encoder = text_components()
    return {"tokenizer": tokenizer, "text_encoder": encoder, "vqgan": stage_a_model(), "decoder": stage_b_model(),
            "prior": stage_c_model()}


def pipelines_of(components: dict):
    """(WuerstchenPriorPipeline, WuerstchenDecoderPipeline) over `components`, with the toy sizes."""
    from diffusers import (
        DDPMWuerstchenScheduler,
        WuerstchenDecoderPipeline,
        WuerstchenPriorPipeline,
    )

    prior = WuerstchenPriorPipeline(tokenizer=components["tokenizer"], text_encoder=components["text_encoder"],
                                    prior=components["prior"], scheduler=DDPMWuerstchenScheduler(),
                                    latent_mean=EMBED_STD, latent_std=-EMBED_MEAN,
                                    resolution_multiple=RESOLUTION_MULTIPLE)
    decoder = WuerstchenDecoderPipeline(tokenizer=components["tokenizer"], text_encoder=components["text_encoder"],
                                        decoder=components["decoder"], scheduler=DDPMWuerstchenScheduler(),
                                        vqgan=components["vqgan"], latent_dim_scale=LATENT_DIM_SCALE)
    return prior, decoder


def combine(prior, decoder):
    """A WuerstchenCombinedPipeline made of a prior and a decoder pipeline (shared modules), that
    keeps their configs: diffusers would rebuild the inner pipelines with the real model's
    latent_mean, latent_std, resolution_multiple and latent_dim_scale, losing the toy's sizes.

    The joining itself lives in `helpers.pipelines` (it joins the Hub checkpoints the same way);
    this is its public name for the toy. Refuses (TypeError) a `prior` or `decoder` of another class.
    """
    from ..pipelines import _join_wuerstchen

    return _join_wuerstchen(prior, decoder)


def load(ctx=None, folder: str | Path | None = None):
    """The toy Würstchen as a WuerstchenCombinedPipeline in float32, on ctx.device (CPU without ctx):
    `helpers.pipelines.load("wuerstchen", ctx, weights=folder)`, the one loader of the toy models.

    `folder` (default `models/toy-wuerstchen`) holds `prior/` and `decoder/` in the Hub's layout
    (model_index.json entries `["wuerstchen", ...]`, as `warp-ai/wuerstchen-prior` and
    `warp-ai/wuerstchen` have them; `helpers.pipelines.register_legacy_pipeline_modules` lets them
    resolve, diffusers issue #14008). Refuses a folder without both model_index.json files
    (FileNotFoundError, naming the missing file) and a `ctx` that is not helpers.setup()'s Context.
    """
    from .. import pipelines
    from ..runtime import Context

    if ctx is None:  # a CPU context without helpers.setup(), which would change the process's settings
        ctx = Context(profile="toy", seed=0, device=torch.device("cpu"), dtype=torch.float32)
    return pipelines.load("wuerstchen", ctx, weights=folder)


def _check_call(pipe, captions, seeds, steps) -> tuple[list[str], list[int]]:
    from diffusers import WuerstchenCombinedPipeline

    from .evaluate import _check_captions, _check_seeds

    validate.instance("pipe", pipe, WuerstchenCombinedPipeline, "the combined toy Würstchen (helpers.toy.wuerstchen.load())")
    captions = _check_captions(captions)
    seeds = list(range(len(captions))) if seeds is None else _check_seeds(seeds)
    validate.positive_int("steps", steps)
    return captions, seeds


def stage_c(pipe, captions: list[str], seeds=None, prior_guidance_scale: float = 4.0,
            steps: int = PRIOR_STEPS) -> torch.Tensor:
    """Stage C's image embeddings (N, 12, 4, 4) for captions, one batch; seed i (default) for
    caption i on CPU generators (the same starting noise on any device). `pipe`: a combined toy
    pipeline. Refuses (before any work) another pipe, captions that are not a list of str, seeds that
    are not int seeds or of another length than captions, steps < 1, a guidance scale that is not a
    finite number >= 0."""
    captions, seeds = _check_call(pipe, captions, seeds, steps)
    prior_guidance_scale = validate.number("prior_guidance_scale", prior_guidance_scale, minimum=0)
    if len(seeds) != len(captions):
        raise ValueError(f"seeds must hold one seed per caption: got {len(captions)} captions but {len(seeds)} seeds")
    generators = [torch.Generator("cpu").manual_seed(s) for s in seeds]
    return pipe.prior_pipe(captions, height=world.SIZE, width=world.SIZE, num_inference_steps=steps,
                           guidance_scale=prior_guidance_scale, generator=generators).image_embeddings


def stages_ba(pipe, embeddings: torch.Tensor, captions: list[str], seeds=None,
              steps: int = DECODER_STEPS) -> np.ndarray:
    """Stage B then A: (N, 32, 32, 3) float images in [0, 1] from embeddings (N, 12, 4, 4), with
    Stage B's text captions[i] and seed i (default) for image i. Decoder guidance stays at the
    pipeline's default, 0.

    One decoder call per image: WuerstchenDecoderPipeline repeats each prompt's text states
    image_embeddings.size(0) times, so a batch of N different prompts gives N² rows and fails.
    Refuses (before any work) another pipe, embeddings that are not a 4-d float tensor, captions or
    seeds as `stage_c` refuses them or of another length than embeddings (ValueError)."""
    captions, seeds = _check_call(pipe, captions, seeds, steps)
    validate.tensor("embeddings", embeddings, ndim=4)
    if not (len(captions) == len(seeds) == len(embeddings)):
        raise ValueError(f"got {len(embeddings)} embeddings, {len(captions)} captions and {len(seeds)} seeds; "
                         "they must match")
    images = [
        pipe.decoder_pipe(embedding[None], prompt=caption, num_inference_steps=steps, output_type="np",
                          generator=torch.Generator("cpu").manual_seed(seed)).images[0]
        for embedding, caption, seed in zip(embeddings, captions, seeds)
    ]
    return np.stack(images)


def stages_ba_runs(pipe, runs: dict, steps: int = DECODER_STEPS, max_batch: int = 64) -> dict[str, np.ndarray]:
    """`stages_ba` for several runs at once: {name: (embeddings, captions, seeds)} -> {name: images}.

    The same images as `stages_ba` per run, in fewer decoder calls: every image of every run with
    the same Stage B text goes into one call (at most `max_batch` images), as one prompt string with
    its embeddings stacked and one CPU generator per image, seeded as `stages_ba` seeds it. One
    prompt string with N embeddings is what WuerstchenDecoderPipeline handles (it repeats the prompt
    N times); `randn_tensor` draws each image's noise from its own generator, so the noise is the
    same as one call per image, and the images agree to float rounding (a batched convolution may
    sum in another order).

    Refuses (before any work) what `stages_ba` refuses, for each run (named), a `runs` that is not
    a non-empty dict of 3-tuples, and a max_batch < 1.
    """
    if not isinstance(runs, dict) or not runs:
        raise TypeError("runs must be a non-empty dict {name: (embeddings, captions, seeds)}; got "
                        f"{type(runs).__name__}")
    validate.positive_int("max_batch", max_batch)
    checked = {}
    for name, run in runs.items():
        if not isinstance(run, tuple) or len(run) != 3:
            raise TypeError(f"runs[{name!r}] must be a tuple (embeddings, captions, seeds); got {type(run).__name__}")
        embeddings, captions, seeds = run
        captions, seeds = _check_call(pipe, captions, seeds, steps)
        validate.tensor(f"runs[{name!r}] embeddings", embeddings, ndim=4)
        if not (len(captions) == len(seeds) == len(embeddings)):
            raise ValueError(f"runs[{name!r}]: got {len(embeddings)} embeddings, {len(captions)} captions and "
                             f"{len(seeds)} seeds; they must match")
        checked[name] = (embeddings, captions, seeds)
    by_text: dict[str, list] = {}
    for name, (embeddings, captions, seeds) in checked.items():
        for index, (caption, seed) in enumerate(zip(captions, seeds)):
            by_text.setdefault(caption, []).append((name, index, embeddings[index], seed))
    out = {name: [None] * len(run[1]) for name, run in checked.items()}
    for caption, items in by_text.items():
        for start in range(0, len(items), max_batch):
            chunk = items[start:start + max_batch]
            images = pipe.decoder_pipe(
                torch.stack([embedding for _, _, embedding, _ in chunk]), prompt=caption,
                num_inference_steps=steps, output_type="np",
                generator=[torch.Generator("cpu").manual_seed(seed) for *_, seed in chunk]).images
            for (name, index, _, _), image in zip(chunk, images):
                out[name][index] = image
    return {name: np.stack(images) for name, images in out.items()}


def generate(pipe, captions: list[str], seeds=None, prior_guidance_scale: float = 4.0,
             prior_steps: int = PRIOR_STEPS, decoder_steps: int = DECODER_STEPS) -> np.ndarray:
    """(N, 32, 32, 3) float images in [0, 1]: `stage_c`, then `stages_ba` with the same captions."""
    embeddings = stage_c(pipe, captions, seeds, prior_guidance_scale, prior_steps)
    return stages_ba(pipe, embeddings, captions, seeds, decoder_steps)


def sample_accuracy(pipe, n: int = 32, **call) -> dict[str, float]:
    """The scorer's accuracy over `evaluate.eval_captions(n)`, seed i for caption i."""
    from . import evaluate, scorer

    captions = evaluate.eval_captions(n)
    return scorer.accuracy(scorer.score(generate(pipe, captions, **call), captions))
