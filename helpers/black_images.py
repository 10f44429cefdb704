"""Black images from diffusers: the safety checker's decision, fp16 overflow, and telling them apart.

Two unrelated mechanisms return an all-black picture:

- `StableDiffusionSafetyChecker` replaces a flagged image with zeros, and the pipeline skips the
  denormalisation of that image, so the zeros stay black (`pipelines/stable_diffusion/
  safety_checker.py` L88-L95, `pipeline_stable_diffusion.py` L1093-L1099 in diffusers 0.42.1).
- A network running in float16 whose activations pass 65504 produces inf, then NaN: the VAE (NaN
  pixels) or the UNet (NaN latents, which no decode repairs); numpy casts NaN to 0 when the
  pipeline converts to 8-bit (`image_processor.py` L143), with a RuntimeWarning.

This module builds a tiny checker, reproduces its decision rule so the scores can be shown, forces
a VAE or a UNet to overflow in float16 (`overflowing_vae`, `scale_residual_stream`), and
`why_black(output, pipe, latents=...)` names the cause of each black image.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import PIL.Image
import torch
from diffusers import AutoencoderKL, DiffusionPipeline
from diffusers.pipelines.stable_diffusion.safety_checker import StableDiffusionSafetyChecker, cosine_distance
from transformers import CLIPConfig, CLIPVisionConfig

from . import validate
from .notices import captured_logs  # noqa: F401  (moved to notices; still importable from here)

# what a reader is meant to use (the reference page lists these)
__all__ = [
    "FP16_MAX", "SPECIAL_CARE_ADJUSTMENT", "CHECKER", "NAN", "UNEXPLAINED", "NOT_BLACK", "NAN_LATENTS",
    "NAN_DECODE", "tiny_safety_checker", "image_embeddings", "unit", "orthogonal_direction", "set_concepts",
    "Decision", "decide", "cosines", "peak_activations", "overflowing_vae", "scale_residual_stream",
    "Verdict", "FinalLatents", "why_black",
]

FP16_MAX = float(torch.finfo(torch.float16).max)  # 65504
SPECIAL_CARE_ADJUSTMENT = 0.01  # safety_checker.py L77: added to every concept score after a special-care hit
SCORE_DECIMALS = 3  # safety_checker.py L74/L82: scores are rounded before the "> 0" test

# why_black causes
CHECKER = "safety_checker"
NAN = "nan_overflow"
UNEXPLAINED = "black_unexplained"
NOT_BLACK = "not_black"
# with the call's final latents (why_black(..., latents=...)), an overflow's place is known:
NAN_LATENTS = "nan_latents"  # the latents already hold NaN/inf: the denoising loop (UNet, text encoder, scheduler)
NAN_DECODE = "nan_decode"  # finite latents, NaN pixels: the VAE's decode overflowed
CAUSES = (CHECKER, NAN, UNEXPLAINED, NOT_BLACK, NAN_LATENTS, NAN_DECODE)


def tiny_safety_checker(image_size: int = 32, width: int = 16, seed: int = 0) -> StableDiffusionSafetyChecker:
    """The real `StableDiffusionSafetyChecker` class around a tiny random CLIP vision tower.

    `image_size` must equal the feature extractor's crop size (the checker sees its crops). The
    class always holds 17 concept and 3 special-care embeddings (safety_checker.py L44-L48); here
    they start as diffusers initialises them (ones), to be set by hand with `set_concepts`.

    Refuses: image_size and width that are not ints >= 4 (TypeError for non-ints), an image_size
    that is not a multiple of 4, a seed that is not an int in [0, 2^64 - 1].
    """
    for name, value in (("image_size", image_size), ("width", width)):
        validate.integer(f"tiny_safety_checker: {name}", value, minimum=4)
    seed = validate.seed("tiny_safety_checker: seed", seed)
    if image_size % 4:
        raise ValueError(f"tiny_safety_checker(image_size={image_size}): give a multiple of 4 (4x4 patches)")
    vision = CLIPVisionConfig(
        hidden_size=width,
        intermediate_size=width,
        num_attention_heads=2,
        num_hidden_layers=1,
        image_size=image_size,
        patch_size=image_size // 4,
    )
    # the text half of CLIPConfig is never built by the checker; keep it small all the same
    text = {"hidden_size": width, "intermediate_size": width, "num_attention_heads": 2}
    text["num_hidden_layers"] = 1
    config = CLIPConfig(text_config=text, vision_config=vision.to_dict(), projection_dim=width)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        checker = StableDiffusionSafetyChecker(config)
    return checker.eval()


def image_embeddings(checker: StableDiffusionSafetyChecker, clip_input: torch.Tensor) -> torch.Tensor:
    """The checker's image embeddings for `clip_input` (the feature extractor's pixel_values).

    Computed the way `forward` does (safety_checker.py L55-L56): pooled vision output, then the
    visual projection. Unnormalised, on the checker's device and dtype.

    Refuses: a checker that is not a StableDiffusionSafetyChecker; a clip_input that is not a
    float tensor (batch, 3, size, size) at the checker's image size, or that holds NaN.
    """
    _check_checker(checker)
    _check_clip_input(checker, clip_input)
    with torch.no_grad():
        pooled = checker.vision_model(clip_input)[1]
        return checker.visual_projection(pooled)


def unit(vector: torch.Tensor) -> torch.Tensor:
    """`vector` scaled to length 1 (float32), for use as a concept embedding.

    Refuses: a non-tensor (TypeError); a 0-d tensor (a number, not a vector: ValueError); a zero,
    NaN or infinite vector (no direction)."""
    if not isinstance(vector, torch.Tensor):
        raise TypeError(f"unit(): vector must be a torch tensor, got {type(vector).__name__}")
    if vector.ndim == 0:
        raise ValueError(
            f"unit(): vector must be a tensor of at least 1 dimension (an embedding), got a 0-d tensor ({vector.item()!r}): "
            "a single number has no direction"
        )
    vector = vector.detach().float().cpu().flatten()
    norm = vector.norm()
    if not torch.isfinite(norm) or norm == 0:
        raise ValueError(
            "unit(): vector must be a nonzero vector of finite numbers; "
            + ("it holds NaN or infinite values" if not bool(torch.isfinite(vector).all()) else "it is zero")
            + " and has no direction"
        )
    return vector / norm


def orthogonal_direction(toward: torch.Tensor, away: list[torch.Tensor] | torch.Tensor) -> torch.Tensor:
    """The unit vector along `toward` minus its components along each of `away` (Gram-Schmidt).

    A concept embedding set to it has cosine 0 (up to rounding) with every `away` embedding, and a
    positive cosine with `toward`, whatever the (random) embeddings are. ValueError when `toward`
    lies in the span of `away`.

    Refuses: tensors of different sizes, an `away` that is not a tensor or a list of tensors, and
    zero or NaN vectors (ValueError from `unit`).
    """
    if not isinstance(toward, torch.Tensor):
        raise TypeError(f"orthogonal_direction(): toward must be a torch tensor, got {type(toward).__name__}")
    others = [away] if isinstance(away, torch.Tensor) else list(away) if isinstance(away, (list, tuple)) else None
    if others is None or not all(isinstance(other, torch.Tensor) for other in others):
        raise TypeError(f"orthogonal_direction(): away must be a tensor or a list of tensors, got {type(away).__name__}")
    for other in others:
        if other.numel() != toward.numel():
            raise ValueError(
                f"orthogonal_direction(): every away vector must have toward's {toward.numel()} numbers, got {other.numel()}"
            )
    for label, vector in [("toward", toward), *((f"away[{i}]" if len(others) > 1 else "away", o) for i, o in enumerate(others))]:
        if not bool(torch.isfinite(vector.detach()).all()):
            raise ValueError(f"orthogonal_direction(): {label} must hold finite numbers only; it holds NaN or infinite values")
    basis: list[torch.Tensor] = []
    for other in others:
        residue = unit(other)
        for b in basis:
            residue = residue - (residue @ b) * b
        if residue.norm() > 1e-6:
            basis.append(residue / residue.norm())
    direction = unit(toward)
    for b in basis:
        direction = direction - (direction @ b) * b
    if direction.norm() < 1e-4:
        raise ValueError("orthogonal_direction(): `toward` lies (almost) in the span of `away`")
    return direction / direction.norm()


def set_concepts(
    checker: StableDiffusionSafetyChecker,
    embeddings: dict[int, torch.Tensor] | None = None,
    thresholds: dict[int, float] | None = None,
    special_embeddings: dict[int, torch.Tensor] | None = None,
    special_thresholds: dict[int, float] | None = None,
) -> StableDiffusionSafetyChecker:
    """Overwrite some of the checker's concept embeddings and thresholds, by concept index.

    The checker keeps a threshold per concept in `concept_embeds_weights` (and
    `special_care_embeds_weights`); a concept hits when round(cos - threshold + adjustment, 3) > 0.
    Modifies `checker` in place and returns it. Indices must exist (17 concepts, 3 special ones).

    Refuses, before anything is written: values that are not dicts; indices that are not ints in
    range (bools too); embeddings of the wrong size or holding NaN/inf (every cosine would be
    NaN, which never flags; a zero embedding is fine: cosine 0); thresholds that are not finite numbers.
    """
    _check_checker(checker)
    targets = (
        ("embeddings", embeddings, checker.concept_embeds, True),
        ("thresholds", thresholds, checker.concept_embeds_weights, False),
        ("special_embeddings", special_embeddings, checker.special_care_embeds, True),
        ("special_thresholds", special_thresholds, checker.special_care_embeds_weights, False),
    )
    for name, values, parameter, is_vector in targets:
        if values is None:
            continue
        if not isinstance(values, dict):
            raise TypeError(
                f"set_concepts({name}=...) takes a dict {{concept index: value}}, got {type(values).__name__}"
            )
        for index, value in values.items():
            if not validate._is_int(index) or not 0 <= index < parameter.shape[0]:
                raise ValueError(
                    f"set_concepts(): the keys of {name} must be concept indices in 0..{parameter.shape[0] - 1} "
                    f"(this checker has {parameter.shape[0]} of them); got index {index!r}"
                )
            if is_vector:
                if not isinstance(value, torch.Tensor) or value.numel() != parameter.shape[1]:
                    got = f"a tensor of {value.numel()} numbers" if isinstance(value, torch.Tensor) else type(value).__name__
                    raise ValueError(
                        f"set_concepts(): {name}[{index}] must be a tensor of {parameter.shape[1]} numbers "
                        f"(the checker's projection_dim), got {got}"
                    )
                if not bool(torch.isfinite(value).all()):
                    # normalize() keeps NaN, so every cosine would be NaN and no score ever > 0
                    raise ValueError(f"set_concepts({name}[{index}]): the embedding holds NaN or inf; give finite numbers")
            else:
                try:
                    validate.number(f"set_concepts({name}[{index}])", value)
                except TypeError:
                    raise TypeError(f"set_concepts({name}[{index}]): a threshold is a number, got {value!r}") from None
    with torch.no_grad():
        for _, values, parameter, is_vector in targets:
            for index, value in (values or {}).items():
                if is_vector:
                    parameter[index] = value.detach().flatten().to(parameter.device, parameter.dtype)
                else:
                    parameter[index] = float(value)
    return checker


@dataclass(frozen=True)
class Decision:
    """The checker's reasoning for one image, as `forward` computes it (safety_checker.py L62-L88)."""

    special_scores: list[float]  # round(cos - threshold + adjustment, 3) per special-care concept
    concept_scores: list[float]  # the same per concept, after any special-care adjustment
    special_care: bool  # some special-care score > 0: every concept score gets +0.01
    bad_concepts: list[int]  # concepts whose score is > 0
    flagged: bool  # what nsfw_content_detected reports: some bad concept


def decide(checker: StableDiffusionSafetyChecker, clip_input: torch.Tensor) -> list[Decision]:
    """The decision for each image of `clip_input`, with the scores `forward` keeps to itself.

    It follows forward's loop line by line, including two details: the 0.01 adjustment is set
    by the first special-care hit and then also added to the later special-care scores, and a
    special-care hit alone never flags an image. The unit tests check it against `forward`.

    Refuses: what `image_embeddings` refuses.
    """
    embeds = image_embeddings(checker, clip_input)
    # detach: a checker loaded with from_pretrained has parameters that require grad
    special_cos = cosine_distance(embeds, checker.special_care_embeds).detach().cpu().float().numpy()
    concept_cos = cosine_distance(embeds, checker.concept_embeds).detach().cpu().float().numpy()
    special_thresholds = checker.special_care_embeds_weights.tolist()
    thresholds = checker.concept_embeds_weights.tolist()
    decisions = []
    for row in range(embeds.shape[0]):
        adjustment = 0.0
        special_scores = []
        for index, threshold in enumerate(special_thresholds):
            score = round(special_cos[row][index] - threshold + adjustment, SCORE_DECIMALS)
            special_scores.append(round(float(score), SCORE_DECIMALS))
            if score > 0:
                adjustment = SPECIAL_CARE_ADJUSTMENT
        # round(float32) as forward does, then once more as a Python float so that 0.006 reads 0.006
        scores = [
            round(float(round(concept_cos[row][i] - t + adjustment, SCORE_DECIMALS)), SCORE_DECIMALS)
            for i, t in enumerate(thresholds)
        ]
        bad = [i for i, score in enumerate(scores) if score > 0]
        decisions.append(Decision(special_scores, scores, adjustment > 0, bad, bool(bad)))
    return decisions


def cosines(checker: StableDiffusionSafetyChecker, clip_input: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(concept cosines, special-care cosines) as forward computes them: float32, images x concepts.

    Refuses: what `image_embeddings` refuses."""
    embeds = image_embeddings(checker, clip_input)
    concept = cosine_distance(embeds, checker.concept_embeds).detach().cpu().float().numpy()
    special = cosine_distance(embeds, checker.special_care_embeds).detach().cpu().float().numpy()
    return concept, special


def _check_checker(checker) -> None:
    if not isinstance(checker, StableDiffusionSafetyChecker):
        raise TypeError(f"checker: expected a StableDiffusionSafetyChecker, got {type(checker).__name__}")


def _check_clip_input(checker, clip_input) -> None:
    if not isinstance(clip_input, torch.Tensor) or clip_input.ndim != 4:
        raise TypeError("clip_input must be the feature extractor's pixel_values: a 4-d tensor (batch, 3, h, w)")
    validate.tensor("clip_input (pixel_values)", clip_input)
    size = checker.vision_model.config.image_size
    if tuple(clip_input.shape[1:]) != (3, size, size):
        raise ValueError(
            f"clip_input must be the feature extractor's pixel_values of shape (batch, 3, {size}, {size}) for this "
            f"checker, got {tuple(clip_input.shape)}"
        )
    peak = float(clip_input.detach().abs().max()) if clip_input.numel() else 0.0
    if peak > CLIP_INPUT_LIMIT:
        raise ValueError(
            f"clip_input must be the CLIP-normalised pixel_values (feature_extractor(images, return_tensors='pt')"
            f".pixel_values: (pixel - mean) / std, values within about -1.8..2.2; accepted: |value| <= {CLIP_INPUT_LIMIT}), "
            f"got values up to {peak:.4g}" + (": raw 0..255 pixels?" if peak > 100 else "")
        )


# |pixel_values| past this is no CLIP-normalised image ([0, 1] pixels give -1.8..2.2)
CLIP_INPUT_LIMIT = 10.0


# --- fp16 overflow -------------------------------------------------------------------------------


def peak_activations(vae: AutoencoderKL, latents: torch.Tensor) -> dict[str, float]:
    """The largest |value| each decoder module outputs when decoding `latents` (already unscaled).

    Keys are module names under `vae.decoder` in execution order; the top-level children only plus
    the ResNet blocks, which is where a float16 decoder overflows.

    Refuses: a vae that is not an AutoencoderKL; latents that are not a finite float tensor
    (batch, vae.config.latent_channels, h, w).
    """
    if not isinstance(vae, AutoencoderKL):
        raise TypeError(f"vae: peak_activations() needs an AutoencoderKL, got {type(vae).__name__}")
    _check_latents(vae, latents, "peak_activations")
    peaks: dict[str, float] = {}
    handles = []
    for name, module in vae.decoder.named_modules():
        depth = name.count(".")
        if not name or (depth > 0 and type(module).__name__ != "ResnetBlock2D"):
            continue

        def hook(_module, _inputs, output, name=name):
            tensor = output[0] if isinstance(output, tuple) else output
            peaks[name] = max(peaks.get(name, 0.0), float(tensor.detach().abs().float().max()))

        handles.append(module.register_forward_hook(hook))
    try:
        with torch.no_grad():
            vae.decode(latents.to(vae.device, vae.dtype))
    finally:
        for handle in handles:
            handle.remove()
    return peaks


def overflowing_vae(
    vae: AutoencoderKL, latents: torch.Tensor, headroom: float = 4.0, same_image: bool = False
) -> tuple[AutoencoderKL, float]:
    """A copy of `vae` whose decoder's first convolution outputs `headroom` x 65504 on `latents`.

    The weights and bias of `decoder.conv_in` are multiplied by one factor, chosen from a float32
    decode of `latents` (already divided by the scaling factor). In float16 that first activation is
    already inf, and the first GroupNorm turns it into NaN. In float32 the copy decodes to finite
    pixels, but not because each block normalises its input: a ResNet block adds its input back
    unnormalised, so the scaled activation rides the residual path through every block (each
    block's output is about `factor` times too large) until `conv_norm_out`, the GroupNorm before the
    last convolution. With `same_image=False` (the default) only conv_in is scaled, and the float32
    image is a different one (the blocks' own contributions are drowned). With `same_image=True`
    every branch that adds to the residual stream is scaled too (`scale_residual_stream`), so each
    block outputs exactly `factor` times what it did, and the float32 decode returns the original
    image up to rounding: a VAE whose activations, not whose image, leave float16's range.
    Returns (copy, factor); `vae` is untouched.

    Refuses: what `peak_activations` refuses; a headroom that is not a finite number > 1; latents
    that are all zero (the first convolution's peak could be 0, and no factor reaches 65504); a
    same_image that is not a bool.
    """
    if not isinstance(vae, AutoencoderKL):
        raise TypeError(f"vae: overflowing_vae() needs an AutoencoderKL, got {type(vae).__name__}")
    _check_latents(vae, latents, "overflowing_vae")
    headroom = validate.number("overflowing_vae: headroom (must pass the float16 maximum)", headroom, minimum=1.0, exclusive_minimum=True)
    same_image = validate.boolean("overflowing_vae: same_image", same_image)
    reference = copy.deepcopy(vae).float()
    peak = peak_activations(reference, latents.float())["conv_in"]
    if not peak > 0:
        raise ValueError("overflowing_vae: latents give conv_in a peak of 0, which no factor scales past 65504; pass real latents")
    factor = headroom * FP16_MAX / peak
    with torch.no_grad():
        reference.decoder.conv_in.weight.mul_(factor)
        reference.decoder.conv_in.bias.mul_(factor)
    if same_image:
        scale_residual_stream(reference.decoder, factor)
    return reference.to(vae.device), factor


def scale_residual_stream(model: torch.nn.Module, factor: float) -> torch.nn.Module:
    """Multiply, in place, every branch that adds to a diffusers network's residual stream by `factor`.

    For a model whose first convolution's output was already multiplied by `factor` (the VAE
    decoder's or the UNet's `conv_in`), this makes every block output exactly `factor` times what
    it did, so the network computes the same function up to rounding (GroupNorm, which opens each
    branch and closes the network as `conv_norm_out`, is scale-invariant), with every activation on
    the residual path and the skip connections `factor` times larger. Scaled: each ResnetBlock2D's
    `conv2` (weight and bias) and its `conv_shortcut` bias; each Transformer2DModel's `proj_out`
    (weight and bias); each Attention with its own GroupNorm and a residual connection (the VAE's),
    its `to_out[0]` (weight and bias); each Downsample2D/Upsample2D convolution's bias. Returns `model`.

    Refuses: a model that is not a torch module or holds no ResnetBlock2D (nothing to scale); a
    factor that is not a finite number > 0.
    """
    from diffusers.models.attention_processor import Attention
    from diffusers.models.downsampling import Downsample2D
    from diffusers.models.resnet import ResnetBlock2D
    from diffusers.models.transformers.transformer_2d import Transformer2DModel
    from diffusers.models.upsampling import Upsample2D

    validate.instance("scale_residual_stream(model=...)", model, torch.nn.Module, "a torch module (a VAE decoder or a UNet)")
    factor = validate.number("scale_residual_stream: factor", factor, minimum=0.0, exclusive_minimum=True)
    if not any(isinstance(m, ResnetBlock2D) for m in model.modules()):
        raise ValueError(f"scale_residual_stream: {type(model).__name__} holds no ResnetBlock2D; pass a VAE decoder or a UNet")

    def scale(linear, weight: bool = True):
        if weight:
            linear.weight.mul_(factor)
        if linear.bias is not None:
            linear.bias.mul_(factor)

    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, ResnetBlock2D):
                scale(module.conv2)
                if module.conv_shortcut is not None:
                    scale(module.conv_shortcut, weight=False)  # its input is already scaled
            elif isinstance(module, Transformer2DModel):
                scale(module.proj_out)
            elif isinstance(module, Attention) and module.group_norm is not None and module.residual_connection:
                scale(module.to_out[0])
            elif isinstance(module, (Downsample2D, Upsample2D)) and isinstance(getattr(module, "conv", None), torch.nn.Conv2d):
                scale(module.conv, weight=False)
    return model


def _check_latents(vae: AutoencoderKL, latents, name: str) -> None:
    if not isinstance(latents, torch.Tensor) or latents.ndim != 4:
        raise TypeError(f"{name}(latents=...): latents must be a 4-d tensor (batch, channels, h, w), got "
                        + (f"shape {tuple(latents.shape)}" if isinstance(latents, torch.Tensor) else type(latents).__name__))
    validate.tensor(f"{name}: latents", latents)
    channels = vae.config.latent_channels
    if latents.shape[1] != channels:
        raise ValueError(
            f"{name}: latents must have the VAE's {channels} latent channels (batch, {channels}, h, w), "
            f"got {tuple(latents.shape)}"
        )


# --- why_black -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """Why image `index` of an output is (or is not) black.

    - black: every pixel is 0 once converted to 8 bits the way diffusers converts (NaN counts as 0).
    - cause: one of CAUSES.
    - nan_fraction: share of NaN values; None when the output type hides them (PIL images).
    - evidence: the observations the cause rests on, in words.
    """

    index: int
    black: bool
    cause: str
    nan_fraction: float | None
    evidence: str


class FinalLatents:
    """A `callback_on_step_end` that keeps the latents after the last step: what the VAE decodes.

    `keep = FinalLatents(); out = pipe(..., callback_on_step_end=keep)`; then
    `why_black(out, pipe, latents=keep.latents)` can tell a UNet overflow (NaN already in the
    latents) from a VAE one (finite latents, NaN pixels). The SD and SDXL pipelines hand the callback
    `latents` by default (`callback_on_step_end_tensor_inputs=["latents"]`, pipeline_stable_diffusion.py
    L1064-L1070). `latents` is None until a call has run.

    Refuses (when called by a pipeline): callback_kwargs without a "latents" tensor (ValueError:
    pass callback_on_step_end_tensor_inputs that include "latents").
    """

    def __init__(self):
        self.latents: torch.Tensor | None = None

    def __call__(self, pipe, step, timestep, callback_kwargs):
        latents = callback_kwargs.get("latents") if isinstance(callback_kwargs, dict) else None
        if not isinstance(latents, torch.Tensor):
            raise ValueError(
                "FinalLatents: the pipeline handed the callback no `latents` tensor; keep \"latents\" in "
                "callback_on_step_end_tensor_inputs"
            )
        self.latents = latents.detach()
        return {}


def why_black(output, pipe: DiffusionPipeline, latents: torch.Tensor | None = None) -> list[Verdict]:
    """One `Verdict` per image of a pipeline's `output`, naming what made it black.

    - output: what the pipeline returned: an output object with `images` (and, for SD-style
      pipelines, `nsfw_content_detected`), or the tuple of `return_dict=False`. Images as PIL (the
      default), "np" or "pt"; `output_type="latent"` is refused (ValueError): latents are no image.
    - pipe: the pipeline that produced it; its VAE's dtype and `force_upcast`, and whether the class
      upcasts the VAE (SDXL-style `upcast_vae`), tell when float16 overflow is possible.
    - latents (optional): the same call's final latents, one per image (`FinalLatents` keeps them).
      With them an overflow is placed: NaN/inf in an image's latents is `nan_latents` (NaN before
      the decode: the UNet, or the text encoder or scheduler; no decode helps), finite latents under NaN or unexplained-black pixels from a
      float16 decode is `nan_decode` (the VAE overflowed).

    Order of causes: a True flag in nsfw_content_detected is the safety checker (the flagged image
    is zeros). Without latents: NaN in the pixels is `nan_overflow` (NaN: an overflow, or another
    float16 failure, which the pixels cannot tell apart), which cannot say whether the UNet or the
    VAE made it; a black PIL image, unflagged, from a VAE that decodes in float16 is
    `nan_overflow` inferred (NaN was cast away; a UNet overflow looks the same); any other black
    image is unexplained (NaN latents decoded by a float32 or upcast VAE also look like this).
    Everything is checked before any image is judged; bad input raises TypeError or ValueError.

    Refuses: a pipe that is not a DiffusionPipeline with a `vae`; an output that is not a
    pipeline output or its tuple; empty outputs; latents; tensors/arrays that are not a batch of
    (h, w, 1 or 3) / (1 or 3, h, w) images; float pixels outside [0, 1] (a [-1, 1] decoder output
    or a 0..255 array would be misjudged) or of an integer dtype; flags that are not one bool per
    image; `latents=` that is not a floating-point 4-d tensor with one entry per image.
    """
    validate.instance("why_black(pipe=...)", pipe, DiffusionPipeline, "the DiffusionPipeline that made the output")
    vae = getattr(pipe, "vae", None)
    if not isinstance(vae, torch.nn.Module):
        raise ValueError(f"why_black(pipe=...): {type(pipe).__name__} has no `vae`; the causes told apart need one")
    images, flags = _unpack(output)
    arrays, hides_nan = _as_arrays(images)
    if flags is not None and len(flags) != len(arrays):
        raise ValueError(
            f"why_black(output): output must hold one nsfw flag per image (nsfw_content_detected), got {len(flags)} "
            f"flags for {len(arrays)} images"
        )
    finite_latents = None
    if latents is not None:
        validate.tensor("why_black(latents=...)", latents, ndim=4, finite=False)
        if latents.shape[0] != len(arrays):
            raise ValueError(
                f"why_black(latents=...): latents must hold one entry per image, got {latents.shape[0]} for "
                f"{len(arrays)} images (pass the same call's final latents, e.g. from FinalLatents)"
            )
        finite_latents = [bool(torch.isfinite(one).all()) for one in latents]
    # SDXL-style pipelines decode a float16 VAE in float32 when its config says force_upcast
    upcasts = hasattr(type(pipe), "upcast_vae") and bool(getattr(vae.config, "force_upcast", False))
    fp16 = vae.dtype == torch.float16
    decoder = "float32 (upcast from float16)" if fp16 and upcasts else str(vae.dtype).removeprefix("torch.")
    verdicts = []
    for index, array in enumerate(arrays):
        flag = None if flags is None else bool(flags[index])
        finite = None if finite_latents is None else finite_latents[index]
        verdicts.append(_verdict(index, array, flag, hides_nan, fp16 and not upcasts, decoder, finite))
    return verdicts


def _verdict(index: int, array: np.ndarray, flag: bool | None, hides_nan: bool, decodes_fp16: bool, decoder: str,
             finite_latents: bool | None = None):
    nan = np.isnan(array)
    nan_fraction = None if hides_nan else float(nan.mean())
    # the conversion numpy_to_pil makes: NaN casts to 0, the rest rounds to 8 bits
    eight_bit = np.round(np.clip(np.where(nan, 0.0, array), 0.0, 1.0) * 255)
    black = bool(eight_bit.max() == 0)
    nan_share = "" if nan_fraction is None else f"{nan_fraction:.0%} of the values are NaN; "
    if flag:
        cause = CHECKER
        evidence = f"nsfw_content_detected[{index}] is True: the safety checker replaced the image with zeros"
        if not black:
            evidence += " (yet it is not black: these are not the images that call returned)"
    elif finite_latents is False and (black or nan_fraction):
        cause = NAN_LATENTS
        evidence = (
            f"{nan_share}the latents already hold NaN or inf before the decode: the denoising loop (the UNet, "
            "or NaN from the text encoder or scheduler) went wrong, and no VAE fix helps; run the text encoder and "
            "UNet in bfloat16 or float32"
        )
    elif nan_fraction:
        if finite_latents:
            cause = NAN_DECODE
            evidence = (
                f"{nan_share}the latents are finite: the decode made the NaN (an overflow, the case the "
                f"chapter builds, or another float16 failure); VAE: {decoder}"
            )
        else:
            cause = NAN
            evidence = (
                f"{nan_share}NaN (an overflow, the case the chapter builds, or another float16 failure), in the "
                f"UNet (NaN latents) or in the VAE's decode (VAE: {decoder}); pass latents= (FinalLatents) to tell which"
            )
    elif not black:
        cause, evidence = NOT_BLACK, f"brightest 8-bit value is {int(eight_bit.max())}"
    elif hides_nan and decodes_fp16:
        inferred = (
            "black, not flagged, and the VAE decodes in float16 with no upcast: NaN (an overflow, the case the "
            "chapter builds, or another float16 failure) becomes 0 in the 8-bit cast (inferred: PIL images cannot "
            "show NaN, and a picture black by itself looks the same; call with output_type='np' to see it)"
        )
        if finite_latents:
            cause, evidence = NAN_DECODE, inferred + "; the latents are finite, so the NaN, if any, came from the decode"
        else:
            cause, evidence = NAN, inferred + "; a UNet overflow (NaN latents) looks the same: pass latents= to tell"
    else:
        checked = "no safety checker ran" if flag is None else "not flagged by the safety checker"
        cause, evidence = UNEXPLAINED, f"black, {checked}, no NaN; VAE: {decoder}"
        if finite_latents is None and hides_nan:
            evidence += " (NaN latents decoded by this VAE would look the same: pass latents= to tell)"
    return Verdict(index, black, cause, nan_fraction, evidence)


def _unpack(output):
    if isinstance(output, (tuple, list)):
        if not output:
            raise ValueError("why_black(output): an empty tuple holds no images")
        images = output[0]
        flags = output[1] if len(output) > 1 else None
    elif hasattr(output, "images"):
        images = output.images
        flags = getattr(output, "nsfw_content_detected", None)
    else:
        raise TypeError(
            "why_black(output=...) takes what a pipeline returned: an output with `.images` or the tuple of "
            f"return_dict=False; got {type(output).__name__}"
        )
    if images is None or (hasattr(images, "__len__") and len(images) == 0):
        raise ValueError("why_black(output): the output holds no images")
    if flags is not None:
        if not isinstance(flags, (list, tuple)) or not all(isinstance(f, (bool, np.bool_)) for f in flags):
            raise TypeError(f"why_black(output): nsfw_content_detected must be None or a list of bools, got {flags!r}")
    return images, flags


def _as_arrays(images) -> tuple[list[np.ndarray], bool]:
    """Float arrays (H, W, C) in [0, 1] space, and whether the output type hid NaN (PIL)."""
    if isinstance(images, torch.Tensor):
        if images.ndim != 4:
            raise ValueError(
                f"why_black(output): a tensor of images must be 4-d (batch, channels, h, w), got {tuple(images.shape)}"
            )
        if images.shape[1] not in (1, 3):
            raise ValueError(
                f"why_black(output): {images.shape[1]} channels look like latents (output_type='latent'), not an "
                "image; decode them first or call the pipeline with output_type 'pil', 'np' or 'pt'"
            )
        return _in_unit_range(list(images.detach().cpu().float().permute(0, 2, 3, 1).numpy()), images.dtype), False
    if isinstance(images, np.ndarray):
        if images.ndim != 4 or images.shape[-1] not in (1, 3):
            raise ValueError(f"why_black(output): a numpy batch must be (batch, h, w, 1 or 3), got {images.shape}")
        return _in_unit_range(list(images.astype(np.float32)), images.dtype), False
    if isinstance(images, (list, tuple)) and all(isinstance(image, PIL.Image.Image) for image in images):
        return [np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0 for image in images], True
    raise TypeError(
        "why_black(output): images must be a list of PIL images, a numpy array or a torch tensor "
        f"(output_type 'pil', 'np' or 'pt'); got {type(images).__name__}"
    )


def _in_unit_range(arrays: list[np.ndarray], dtype) -> list[np.ndarray]:
    """The pipeline's 'np' and 'pt' outputs are floats in [0, 1] (NaN where a decode overflowed)."""
    if not (np.issubdtype(np.dtype(dtype), np.floating) if isinstance(dtype, np.dtype) else dtype.is_floating_point):
        raise TypeError(
            f"why_black(output): images must be float pixels in [0, 1] as output_type 'np'/'pt' return, got dtype {dtype}"
        )
    for index, array in enumerate(arrays):
        finite = array[~np.isnan(array)]
        if finite.size and (finite.min() < 0 or finite.max() > 1):
            raise ValueError(
                f"why_black(output): image {index} has values in [{finite.min():.3g}, {finite.max():.3g}]; a pipeline's "
                "'np'/'pt' output lies in [0, 1] (a [-1, 1] decoder output or a 0..255 array would be misjudged)"
            )
    return arrays
