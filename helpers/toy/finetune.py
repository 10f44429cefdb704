"""Teach the committed toy SD a new concept: full fine-tuning of the UNet, or a LoRA on it.

The concept is the world's new position, the top-left corner (`world.NEW_POSITIONS`; captions
like "a red circle at the top left"): the toy VAE carries it (`concept_validation` checks), and
the committed model has never been asked for it. Both methods train on the same images, in the
same order, for the same steps, with the toy's own loss (epsilon prediction on SD 1.5's noise
schedule, `helpers.toy.train`), and are scored along the way at fixed seeds:

- the new concept: `world.concept_captions()` (12), `CONCEPT_SEEDS_PER_CAPTION` seeds each;
- forgetting: the world's own captions, `evaluate.eval_captions(FORGET_SAMPLES)`, seed i for sample i.

LoRA goes through diffusers' PEFT integration (`unet.add_adapter(LoraConfig(...))`,
`cast_training_params`, `get_peft_model_state_dict`, `StableDiffusionPipeline.save_lora_weights`),
so a reader loads the result with `pipe.load_lora_weights(folder)`. The text encoder and the VAE
stay frozen in both methods: the LoRA has no text-encoder layers, and freezing the encoder in the
full run as well keeps the two methods changing the same network.
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from .. import validate
from . import evaluate, location, models, scorer, train, world

# what a reader is meant to use (the reference page lists these)
__all__ = ["METHODS", "TARGET_MODULES", "load_base", "concept_validation", "evaluate_concept", "finetune"]

METHODS = ("full", "lora")
TARGET_MODULES = ["to_q", "to_k", "to_v", "to_out.0"]  # the attention projections (issue 33 names them)
CONCEPT_SEEDS_PER_CAPTION = 4  # 12 captions x 4 seeds = 48 samples of the new concept
FORGET_SAMPLES = 64  # the world's own captions (60 different ones), one seed each
GUIDANCE = 5.0  # with Euler: the committed model reads 1.0 there (models/toy-sd/README.md)
SAMPLING_STEPS = 20
DATA_SEED = 0  # every run trains on the same images; the run's seed draws batches and noise
WARMUP = 20  # learning-rate warm-up steps (the toy's schedule: linear warm-up, cosine to 0)
DEFAULTS = {"steps": 300, "batch": 32, "n_images": 1000, "weight_decay": 1e-2,
            "lr": {"full": 1e-4, "lora": 2e-3}, "checkpoints": (25, 50, 100, 150, 200, 300)}


def load_base(weights=None):
    """The committed toy SD (or the training run in `weights`) as a float32 StableDiffusionPipeline
    on the CPU, with the Euler scheduler the evaluation samples with."""
    from diffusers import EulerDiscreteScheduler

    from .. import pipelines
    from ..runtime import Context

    # the one toy loader (helpers.pipelines.load), with a CPU context: helpers.setup() would change
    # the process's settings, which a training script sets itself
    ctx = Context(profile="toy", seed=0, device=torch.device("cpu"), dtype=torch.float32)
    pipe = pipelines.load("sd15", ctx, weights=weights)
    pipe.scheduler = EulerDiscreteScheduler.from_config(pipe.scheduler.config)
    return pipe


def _round_trip(vae, images: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        x = torch.from_numpy(images).permute(0, 3, 1, 2) * 2 - 1
        decoded = vae.decode(vae.encode(x).latent_dist.mean).sample
    return ((decoded + 1) / 2).clamp(0, 1).permute(0, 2, 3, 1).numpy()


def concept_validation(vae, n: int = 512, seed: int = 1) -> dict:
    """The scorer's accuracy ("all three") on n world images of each new concept, as rendered and
    after an encode/decode round trip through `vae`: the new position (what `finetune` teaches),
    and, for the record, the new colour and shape the toy VAE does not carry.
    Refuses an n that is not an int >= 1 and a seed that is not an int >= 0."""
    n = validate.positive_int("n", n)
    seed = validate.seed("seed", seed)
    images, captions, scenes = world.make_concept_dataset(n, seed)
    result = {"n": n, "seed": seed}
    for name, batch, texts in _concept_batches(images, captions, scenes):
        rendered = scorer.accuracy(scorer.score(batch, texts, extended=True))["all"]
        decoded = scorer.accuracy(scorer.score(_round_trip(vae, batch), texts, extended=True))["all"]
        result[name] = {"rendered": rendered, "vae_round_trip": decoded}
    return result


def _concept_batches(images, captions, scenes):
    yield "top left", images, captions
    # the same scenes recoloured magenta, and the same scenes drawn as diamonds at their own positions
    new_colour, new_shape = next(iter(world.NEW_COLOURS)), world.NEW_SHAPES[0]
    for name, change in ((new_colour, lambda s: {"colour": new_colour}), (new_shape, lambda s: {"shape": new_shape})):
        altered = [world.ConceptScene(**{**_fields(s), "position": "left" if s.position == "top left" else s.position,
                                         **change(s)}) for s in scenes]
        # the top-left anchor moved to "left": one new concept at a time
        yield name, np.stack([world.render(s) for s in altered]), [s.caption for s in altered]


def _fields(scene) -> dict:
    return {"colour": scene.colour, "shape": scene.shape, "position": scene.position,
            "half_size": scene.half_size, "dx": scene.dx, "dy": scene.dy}


def evaluate_concept(pipe, **call) -> dict:
    """Accuracy ("all three", the scorer with extended=True) at fixed seeds: on the new concept's
    captions ("concept", 48 samples) and the world's own ("original", 64), Euler at guidance 5,
    20 steps. `call` goes to the pipeline (e.g. cross_attention_kwargs={"scale": 0.5})."""
    concept = [c for c in world.concept_captions() for _ in range(CONCEPT_SEEDS_PER_CAPTION)]
    original = evaluate.eval_captions(FORGET_SAMPLES)
    out = {}
    for name, captions in (("concept", concept), ("original", original)):
        images = evaluate.generate(pipe, captions, guidance_scale=GUIDANCE, steps=SAMPLING_STEPS, **call)
        out[name] = scorer.accuracy(scorer.score(images, captions, extended=True))["all"]
    return out


def _check(method, rank, seed, steps, batch, lr, checkpoints, threads):
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    if method == "full" and rank is not None:
        raise ValueError(f"rank is a LoRA setting; a full fine-tune takes rank=None, got {rank!r}")
    if method == "lora":
        if rank is None:
            raise ValueError("method 'lora' needs a rank (an int >= 1, e.g. rank=4)")
        rank = validate.positive_int("rank", rank)
    steps = validate.positive_int("steps", steps)
    batch = validate.positive_int("batch", batch)
    threads = validate.positive_int("threads", threads)
    lr = validate.number("lr", lr, minimum=0, exclusive_minimum=True)
    if isinstance(checkpoints, (str, bytes)) or not hasattr(checkpoints, "__iter__"):
        raise TypeError(f"checkpoints must be a sequence of step counts (e.g. (0, 50, 100)); got {checkpoints!r}")
    checkpoints = sorted({validate.integer("checkpoints[i]", c, minimum=0) for c in checkpoints})
    if checkpoints and checkpoints[-1] > steps:
        raise ValueError(f"checkpoints must lie in [0, steps={steps}]; got {checkpoints[-1]}")
    return rank, validate.seed("seed", seed), steps, batch, lr, checkpoints, threads


def finetune(method: str, out=None, rank: int | None = None, seed: int = 0, steps: int = DEFAULTS["steps"],
             batch: int = DEFAULTS["batch"], lr: float | None = None, checkpoints=DEFAULTS["checkpoints"],
             threads: int = 2, weights=None, evaluate_runs: bool = True, scales=()) -> dict:
    """Fine-tune the toy SD's UNet on the new concept; returns the run's summary (and writes it to
    `out`/finetune.json, with the LoRA as `out`/pytorch_lora_weights.safetensors for method "lora").

    - method: "full" (every UNet weight trains) or "lora" (a LoRA of `rank` on TARGET_MODULES).
    - lr: None for the method's default (DEFAULTS["lr"]).
    - checkpoints: steps after which both accuracies are measured (0: the base model).
    - scales: LoRA scales at which the final adapter is also measured (cross_attention_kwargs).
    - evaluate_runs False skips every measurement (the test's first steps).
    Refuses an unknown method, a rank with "full" or none with "lora", non-positive steps, batch,
    threads or lr, checkpoints past `steps`, and scales with "full" or outside [0, 1].
    """
    rank, seed, steps, batch, lr_, checkpoints, threads = _check(
        method, rank, seed, steps, batch, DEFAULTS["lr"][method] if lr is None and method in METHODS else lr,
        checkpoints, threads)
    scales = [validate.number("scales[i]", s, minimum=0, maximum=1) for s in scales]
    if scales and method != "lora":
        raise ValueError("scales are LoRA scales; a full fine-tune has none")
    torch.set_num_threads(threads)
    # AdamW's second moments of the UNet's many near-zero gradients fall into float32's subnormal
    # range, where an x86 CPU computes many times slower (a full fine-tune ran 10x slower); flushed
    # to zero for the whole run, measurements included, so that they all see the same arithmetic
    flushing = torch.set_flush_denormal(True)
    try:
        return _finetune(method, out, rank, seed, steps, batch, lr_, checkpoints, threads, weights, evaluate_runs, scales)
    finally:
        if flushing:
            torch.set_flush_denormal(False)


def _finetune(method, out, rank, seed, steps, batch, lr_, checkpoints, threads, weights, evaluate_runs, scales):
    started = time.perf_counter()
    load = round(os.getloadavg()[0], 2)  # the machine is shared: how busy it was says what the times mean
    pipe = load_base(weights)
    unet, text_encoder, vae = pipe.unet, pipe.text_encoder, pipe.vae
    for module in (unet, text_encoder, vae):
        module.requires_grad_(False)
    if method == "lora":
        from diffusers.training_utils import cast_training_params
        from peft import LoraConfig

        torch.manual_seed(seed)  # the LoRA's A matrices are drawn from torch's global generator
        # lora_alpha = r: the scaling alpha / r is 1 at every rank, so ranks differ only in capacity
        unet.add_adapter(LoraConfig(r=rank, lora_alpha=rank, init_lora_weights="gaussian",
                                    target_modules=TARGET_MODULES))
        cast_training_params(unet, dtype=torch.float32)  # trainable weights in float32 (a no-op here: all are)
    else:
        unet.requires_grad_(True)
    params = [p for p in unet.parameters() if p.requires_grad]
    trainable = sum(p.numel() for p in params)

    images, captions, _ = world.make_concept_dataset(DEFAULTS["n_images"], DATA_SEED)
    x = torch.from_numpy(images).permute(0, 3, 1, 2) * 2 - 1
    latents = train.encode_all(vae, x, "cpu") * vae.config.scaling_factor
    ids = pipe.tokenizer(captions + [""], padding="max_length", max_length=pipe.tokenizer.model_max_length,
                         truncation=True, return_tensors="pt").input_ids
    with torch.no_grad():  # the text encoder is frozen: encode every caption once
        hidden_all = text_encoder(ids)[0]

    evaluations = []
    if evaluate_runs and 0 in checkpoints:
        evaluations.append({"step": 0, **_evaluate(pipe, "step 0")})
    losses, step_seconds = _train(unet, params, latents, hidden_all, steps, batch, lr_, seed,
                                  lambda step: evaluations.append({"step": step, **_evaluate(pipe, f"step {step}")})
                                  if evaluate_runs and step in checkpoints else None)
    summary = {
        "method": method, "rank": rank, "seed": seed, "steps": steps, "batch": batch, "lr": lr_,
        "weight_decay": DEFAULTS["weight_decay"], "warmup": WARMUP, "n_images": DEFAULTS["n_images"],
        "data_seed": DATA_SEED, "caption_dropout": train.CAPTION_DROPOUT, "target_modules": TARGET_MODULES if rank else None,
        "trainable_parameters": trainable, "unet_parameters": sum(p.numel() for n, p in unet.named_parameters()
                                                                   if "lora_" not in n),
        "losses": losses, "loss_curve": train._curve(losses),
        "evaluations": evaluations, "train_seconds": round(step_seconds, 1), "threads": threads,
        "evaluation": {"scheduler": "EulerDiscreteScheduler", "guidance_scale": GUIDANCE,
                       "steps": SAMPLING_STEPS, "concept_samples": CONCEPT_SEEDS_PER_CAPTION * 12,
                       "original_samples": FORGET_SAMPLES, "scorer": "extended=True"},
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {torch.get_num_threads()} torch threads",
        "load_average_at_start": load, "torch": torch.__version__,
    }
    if method == "lora" and scales and evaluate_runs:
        summary["scale_curve"] = [{"scale": s, **_evaluate(pipe, f"scale {s}", cross_attention_kwargs={"scale": s})}
                                  for s in scales]
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        if method == "lora":
            summary["file_bytes"] = _save_lora(pipe, out)
        else:  # float16, as the committed toy SD stores its UNet
            summary["file_bytes"] = 2 * summary["unet_parameters"]
        summary["total_seconds"] = round(time.perf_counter() - started, 1)
        (out / "finetune.json").write_text(json.dumps(summary, indent=1) + "\n")
    else:
        summary["total_seconds"] = round(time.perf_counter() - started, 1)
    return summary


def _evaluate(pipe, label: str = "", **call) -> dict:
    pipe.unet.eval()
    try:
        result = evaluate_concept(pipe, **call)
    finally:
        pipe.unet.train()
    tqdm.write(f"{label}: new concept {result['concept']:.3f}, original captions {result['original']:.3f}")
    return result


def _train(unet, params, latents, hidden_all, steps, batch, lr, seed, after_step) -> tuple[list[float], float]:
    """The toy's training step (as train.train_unet: DDPM noising on SD 1.5's schedule, epsilon
    MSE, 10 % empty captions, AdamW, clipping to 1.0, warm-up then cosine), over the UNet's
    trainable parameters only, in the loop inpainting shares (`train._fit`), with a measurement
    hook after each step. Returns the losses and the seconds spent training (measurements
    excluded). train.train_unet itself cannot be called: it trains the text encoder too and has no
    hook between steps."""
    g = torch.Generator().manual_seed(seed + 1)
    alphas = models.noise_scheduler().alphas_cumprod
    empty = len(hidden_all) - 1

    def loss(step):
        rows, zt, t, noise = train.noised_batch(latents, alphas, batch, g, empty)
        return F.mse_loss(unet(zt, t, encoder_hidden_states=hidden_all[rows]).sample, noise)

    unet.train()
    return train._fit(params, loss, steps, lr, warmup=WARMUP, weight_decay=DEFAULTS["weight_decay"],
                      desc="finetune", after_step=after_step)


def _save_lora(pipe, out: Path) -> int:
    from diffusers import StableDiffusionPipeline
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft.utils import get_peft_model_state_dict

    layers = convert_state_dict_to_diffusers(get_peft_model_state_dict(pipe.unet))
    StableDiffusionPipeline.save_lora_weights(out, unet_lora_layers=layers, safe_serialization=True)
    return (out / "pytorch_lora_weights.safetensors").stat().st_size

