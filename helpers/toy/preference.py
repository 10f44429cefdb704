"""Preference tuning of the committed toy SD, with the scorer as the judge: Diffusion-DPO, diffusion
ORPO (as diffusers' research project defines it) and supervised fine-tuning on the winners.

The setting where the toy SD errs: its shipped scheduler, PNDM, at guidance 5 and 20 steps
(`SETTING`; chapter 10 measures how PNDM's accuracy falls with the guidance scale). The pairs come
from the model itself in that setting: `PAIR_SEEDS_PER_CAPTION` samples of each training caption,
scored (`scorer.score`); within a caption, every sample with more attributes right than another is
a winner over it, ties dropped (`make_pairs`). The world's 60 captions are split: every fifth is
held out (`HELD_OUT_CAPTIONS`: the world lists positions last, so these are the 12 captions "in the
centre", a position no pair shows), the other 48 train.

The three losses take per-pair denoising errors (the mean squared error of the epsilon prediction
over a latent, one number per image) and are written from diffusers' research projects
(examples/research_projects/diffusion_dpo/train_diffusion_dpo.py and
examples/research_projects/diffusion_orpo/train_diffusion_orpo_sdxl_lora.py): the winner and the
loser of a pair are noised with the same noise at the same timestep. All three train the same LoRA
(`finetune.TARGET_MODULES`, rank 4) for the same steps, batch, learning rate and pairs; the
reference of DPO is the same UNet with its adapters disabled (`unet.disable_adapters()`; with
peft 0.21.2, `enable_adapters()` afterwards makes every weight of a plain LoRA's active adapter
trainable, one frozen by hand included, while weights a LoRA variant declares frozen, such as
MiCA's B, stay frozen). The step count, learning rate and latent size (4 x 8 x 8) are the toy's,
not the project's: `DEFAULTS["beta"]["dpo"]` is the project's number, and the size of the margins
it multiplies was not compared with SD 1.5's. In many pairs the loser holds no single object (the
scorer reads "no foreground" or "no single object"), so what the runs gain may partly be fewer
such samples; the results do not measure that share.
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
from . import evaluate, finetune, location, models, scorer, train, world

# what a reader is meant to use (the reference page lists these)
__all__ = [
    "METHODS", "SETTING", "HELD_OUT_CAPTIONS", "TRAIN_CAPTIONS", "DEFAULTS", "load_setting", "make_pairs",
    "pair_statistics", "dpo_loss", "orpo_loss", "sft_loss", "implicit_accuracy", "diversity",
    "evaluate_preference", "preference", "baseline", "save_pairs", "load_pairs", "PAIRS_FILE",
]

METHODS = ("dpo", "orpo", "sft")
SETTING = {"scheduler": "PNDMScheduler", "guidance_scale": 5.0, "steps": 20}
DEFAULT_SETTING = {"scheduler": "EulerDiscreteScheduler", "guidance_scale": finetune.GUIDANCE,
                   "steps": finetune.SAMPLING_STEPS}  # where the toy SD reads 1.0: drift is measured there
HELD_OUT_CAPTIONS = tuple(c for i, c in enumerate(world.all_captions()) if i % 5 == 4)
TRAIN_CAPTIONS = tuple(c for i, c in enumerate(world.all_captions()) if i % 5 != 4)
PAIR_SEEDS_PER_CAPTION = 6
PAIR_SEED0, SEEN_SEED0, HELD_OUT_SEED0 = 10_000, 20_000, 30_000  # disjoint seed ranges
HELD_OUT_SEEDS_PER_CAPTION = 4  # 12 captions x 4 seeds = 48 samples; diversity over each caption's 4
DRIFT_SAMPLES = finetune.FORGET_SAMPLES  # the world's own captions, Euler at guidance 5 (64 samples)
WARMUP = 20
PAIRS_FILE = location.models_root() / "toy-sd-preference" / "pairs.npz"
# betas: train_diffusion_dpo.py's (SD 1.5; its SDXL script defaults to 5000 and halves it) and the ORPO script's
DEFAULTS = {"steps": 100, "batch": 8, "rank": 4, "lr": 2e-3, "weight_decay": 1e-2,
            "beta": {"dpo": 2500.0, "orpo": 0.1, "sft": None}}


def load_setting(pipe, setting: dict = SETTING):
    """`pipe` with the scheduler `setting` names, made from its own config (returns pipe)."""
    import diffusers

    pipe.scheduler = getattr(diffusers, setting["scheduler"]).from_config(pipe.scheduler.config)
    return pipe


def _generate(pipe, captions, seeds, setting):
    load_setting(pipe, setting)
    return evaluate.generate(pipe, list(captions), seeds=list(seeds), guidance_scale=setting["guidance_scale"],
                             steps=setting["steps"])


def _attributes_right(verdicts) -> np.ndarray:
    return np.array([int(v.colour) + int(v.shape) + int(v.position) for v in verdicts])


def make_pairs(pipe, captions=TRAIN_CAPTIONS, seeds_per_caption: int = PAIR_SEEDS_PER_CAPTION) -> dict:
    """Samples of the toy SD in SETTING (seed PAIR_SEED0 + i for sample i), scored, and paired: for
    each caption, every (winner, loser) of its samples where the winner has more attributes right
    (colour, shape, position); ties are dropped. Returns the images, their captions and attribute
    counts, and the pairs as index arrays `winner`, `loser` (caption order, then seed order).
    Refuses captions that are not a non-empty list of the world's captions and a seeds_per_caption < 2."""
    if isinstance(captions, str) or not isinstance(captions, (list, tuple)):
        raise TypeError(f"captions must be a list of the world's captions (wrap one as [caption]); "
                        f"got {type(captions).__name__}")
    captions = list(captions)
    if not captions:
        raise ValueError("captions must hold at least one caption of the world")
    for i, text in enumerate(captions):
        if text not in world.all_captions():
            raise ValueError(f"captions[{i}] must be one of the world's 60 captions (world.all_captions()); got {text!r}")
    seeds_per_caption = validate.integer("seeds_per_caption", seeds_per_caption, minimum=2)
    texts = [c for c in captions for _ in range(seeds_per_caption)]
    seeds = [PAIR_SEED0 + i for i in range(len(texts))]
    images = _generate(pipe, texts, seeds, SETTING)
    right = _attributes_right(scorer.score(images, texts))
    winner, loser = [], []
    for c in range(len(captions)):
        block = range(c * seeds_per_caption, (c + 1) * seeds_per_caption)
        winner += [i for i in block for j in block if right[i] > right[j]]
        loser += [j for i in block for j in block if right[i] > right[j]]
    return {"images": images, "captions": texts, "seeds": seeds, "right": right,
            "winner": np.array(winner, dtype=np.int64), "loser": np.array(loser, dtype=np.int64),
            "seeds_per_caption": seeds_per_caption}


def pair_statistics(pairs: dict) -> dict:
    """What the pair set holds: samples, their accuracy ("all three"), pairs, ties dropped, captions
    with at least one pair, and how many attributes winners and losers have right."""
    right, k = pairs["right"], pairs["seeds_per_caption"]
    per_caption = right.reshape(-1, k)
    comparisons = sum(k * (k - 1) // 2 for _ in per_caption)  # unordered pairs of samples of one caption
    ties = int(sum((row[:, None] == row[None, :]).sum() - k for row in per_caption) // 2)
    return {
        "samples": len(right), "captions": len(per_caption), "seeds_per_caption": int(k),
        "accuracy_all": float((right == 3).mean()),
        "pairs": len(pairs["winner"]), "comparisons": int(comparisons), "ties_dropped": ties,
        "captions_with_pairs": int(sum(len(set(row.tolist())) > 1 for row in per_caption)),
        "winner_right": {str(n): int((right[pairs["winner"]] == n).sum()) for n in range(4)},
        "loser_right": {str(n): int((right[pairs["loser"]] == n).sum()) for n in range(4)},
    }


def _losses_pair(name, *tensors):
    for i, t in enumerate(tensors):
        if not isinstance(t, torch.Tensor) or t.ndim != 1:
            raise TypeError(f"{name}: per-pair errors must be 1-d tensors (one error per pair); argument {i} is "
                            f"{type(t).__name__}{'' if not isinstance(t, torch.Tensor) else f' of shape {tuple(t.shape)}'}")
    if len({t.shape for t in tensors}) != 1:
        raise ValueError(f"{name}: per-pair errors must have one shape; got {[tuple(t.shape) for t in tensors]}")


def dpo_loss(model_w, model_l, ref_w, ref_l, beta: float):
    """Diffusion-DPO (sigmoid loss) from per-pair denoising errors of the policy (model_*) and the
    frozen reference (ref_*) on the winner (w) and loser (l): logits = (ref_w - ref_l) -
    (model_w - model_l), the loss -logsigmoid(beta * logits), averaged. Positive logits: the policy
    fits the winner better, relative to the loser, than the reference does. Returns (loss, logits)."""
    _losses_pair("dpo_loss", model_w, model_l, ref_w, ref_l)
    beta = validate.number("beta", beta, minimum=0, exclusive_minimum=True)
    logits = (ref_w - ref_l) - (model_w - model_l)
    return -F.logsigmoid(beta * logits).mean(), logits


def orpo_loss(model_w, model_l, beta: float):
    """Diffusion ORPO as diffusers' research project writes it (no reference model; the MSE stands in
    for the log-likelihood): log_odds = model_w - model_l, loss = mean(model_w) -
    beta * mean(logsigmoid(log_odds)). Returns (loss, log_odds)."""
    _losses_pair("orpo_loss", model_w, model_l)
    beta = validate.number("beta", beta, minimum=0, exclusive_minimum=True)
    log_odds = model_w - model_l
    return model_w.mean() - beta * F.logsigmoid(log_odds).mean(), log_odds


def sft_loss(model_w):
    """Supervised fine-tuning on the winners: their plain denoising error, averaged."""
    _losses_pair("sft_loss", model_w)
    return model_w.mean()


def implicit_accuracy(logits) -> float:
    """The share of pairs whose implicit reward margin is positive, ties counted half (as the DPO
    project logs `implicit_acc`)."""
    _losses_pair("implicit_accuracy", logits)
    n = logits.numel()
    return float((logits > 0).sum() / n + 0.5 * (logits == 0).sum() / n)


def diversity(images: np.ndarray, per_caption: int) -> float:
    """Mean pairwise root-mean-square pixel distance between the samples of one caption (consecutive
    blocks of `per_caption` images in [0, 1]), averaged over captions: 0 when every seed draws the same
    picture. Refuses a batch that is not a whole number of blocks and a per_caption < 2."""
    per_caption = validate.integer("per_caption", per_caption, minimum=2)
    images = scorer.as_images(images)
    if len(images) % per_caption:
        raise ValueError(f"images must be whole blocks of per_caption={per_caption}; got {len(images)} images")
    flat = images.reshape(len(images) // per_caption, per_caption, -1)
    distances = []
    for block in flat:
        gaps = np.sqrt(((block[:, None] - block[None]) ** 2).mean(-1))
        distances.append(gaps[np.triu_indices(per_caption, 1)].mean())
    return float(np.mean(distances))


def evaluate_preference(pipe, **call) -> dict:
    """The toy SD (with whatever adapter it carries) measured at fixed seeds: accuracy ("all three")
    in SETTING on the training captions at new seeds ("seen_captions", 48) and on the held-out
    captions ("held_out", 12 x 4), the held-out samples' diversity, and drift: accuracy on the
    world's captions in DEFAULT_SETTING ("drift_default", 64). Leaves pipe with SETTING's scheduler."""
    seen_seeds = [SEEN_SEED0 + i for i in range(len(TRAIN_CAPTIONS))]
    held = [c for c in HELD_OUT_CAPTIONS for _ in range(HELD_OUT_SEEDS_PER_CAPTION)]
    held_seeds = [HELD_OUT_SEED0 + i for i in range(len(held))]
    out = {}
    for name, captions, seeds in (("seen_captions", TRAIN_CAPTIONS, seen_seeds), ("held_out", held, held_seeds)):
        images = _generate(pipe, captions, seeds, SETTING)
        out[name] = scorer.accuracy(scorer.score(images, list(captions)))["all"]
    out["diversity_held_out"] = diversity(images, HELD_OUT_SEEDS_PER_CAPTION)
    drift = evaluate.eval_captions(DRIFT_SAMPLES)
    images = _generate(pipe, drift, range(len(drift)), DEFAULT_SETTING)
    out["drift_default"] = scorer.accuracy(scorer.score(images, drift))["all"]
    load_setting(pipe, SETTING)
    return out


def _check(method, seed, steps, batch, rank, lr, beta, threads):
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    if method == "sft" and beta is not None:
        raise ValueError(f"beta is a DPO/ORPO setting; SFT on the winners takes beta=None, got {beta!r}")
    if method != "sft":
        beta = validate.number("beta", DEFAULTS["beta"][method] if beta is None else beta,
                               minimum=0, exclusive_minimum=True)
    return (validate.seed("seed", seed), validate.positive_int("steps", steps), validate.positive_int("batch", batch),
            validate.positive_int("rank", rank), validate.number("lr", lr, minimum=0, exclusive_minimum=True),
            beta, validate.positive_int("threads", threads))


def preference(method: str, out=None, seed: int = 0, beta: float | None = None, steps: int = DEFAULTS["steps"],
               batch: int = DEFAULTS["batch"], rank: int = DEFAULTS["rank"], lr: float = DEFAULTS["lr"],
               threads: int = 2, evaluate_runs: bool = True, pairs_file=None) -> dict:
    """Preference-tune the toy SD's UNet with a LoRA; returns the run's summary (and writes
    `out`/preference.json and the adapter, `out`/pytorch_lora_weights.safetensors).

    - method: "dpo", "orpo" or "sft" (on the winners); beta: None for the project's default
      (DEFAULTS["beta"]); SFT takes none.
    - Every step logs the loss, DPO's logits' implicit accuracy against the reference (the UNet with
      its adapters disabled) for every method, and the policy's own winner-vs-loser accuracy.
    - evaluate_runs False skips the final measurement (the test's first steps).
    - pairs_file: the pairs `baseline` saved (default: the committed PAIRS_FILE).
    Refuses an unknown method, a beta with "sft", and non-positive steps, batch, rank, lr, beta or threads.
    """
    seed, steps, batch, rank, lr, beta, threads = _check(method, seed, steps, batch, rank, lr, beta, threads)
    pairs_file = validate.existing_file("pairs_file", PAIRS_FILE if pairs_file is None else pairs_file)
    torch.set_num_threads(threads)
    flushing = torch.set_flush_denormal(True)  # as finetune: AdamW's subnormal moments are slow on x86
    try:
        return _preference(method, out, seed, beta, steps, batch, rank, lr, threads, evaluate_runs, pairs_file)
    finally:
        if flushing:
            torch.set_flush_denormal(False)


def _preference(method, out, seed, beta, steps, batch, rank, lr, threads, evaluate_runs, pairs_file):
    from diffusers.training_utils import cast_training_params
    from peft import LoraConfig

    started = time.perf_counter()
    load = round(os.getloadavg()[0], 2)
    pipe = finetune.load_base()
    unet, text_encoder, vae = pipe.unet, pipe.text_encoder, pipe.vae
    for module in (unet, text_encoder, vae):
        module.requires_grad_(False)
    pairs = load_pairs(pairs_file)
    x = torch.from_numpy(pairs["images"]).float().permute(0, 3, 1, 2) / 127.5 - 1
    latents = train.encode_all(vae, x, "cpu") * vae.config.scaling_factor
    ids = pipe.tokenizer(pairs["captions"], padding="max_length", max_length=pipe.tokenizer.model_max_length,
                         truncation=True, return_tensors="pt").input_ids
    with torch.no_grad():
        hidden = text_encoder(ids)[0]

    torch.manual_seed(seed)  # the LoRA's A matrices are drawn from torch's global generator
    unet.add_adapter(LoraConfig(r=rank, lora_alpha=rank, init_lora_weights="gaussian",
                                target_modules=finetune.TARGET_MODULES))
    cast_training_params(unet, dtype=torch.float32)
    params = [p for p in unet.parameters() if p.requires_grad]
    log, seconds = _train(unet, params, latents, hidden, pairs, method, beta, steps, batch, lr, seed)
    summary = {
        "method": method, "beta": beta, "seed": seed, "steps": steps, "batch": batch, "rank": rank, "lr": lr,
        "weight_decay": DEFAULTS["weight_decay"], "warmup": WARMUP, "target_modules": finetune.TARGET_MODULES,
        "trainable_parameters": sum(p.numel() for p in params), "setting": SETTING,
        "pairs": pair_statistics(pairs), **log,
        "pairs_file": Path(pairs_file).name, "train_seconds": round(seconds, 1), "threads": threads,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {torch.get_num_threads()} torch threads",
        "load_average_at_start": load, "torch": torch.__version__,
    }
    if evaluate_runs:
        unet.eval()
        summary["evaluation"] = evaluate_preference(pipe)
        tqdm.write(f"{method} beta={beta} seed={seed}: {summary['evaluation']}")
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        summary["file_bytes"] = _save_lora(pipe, out)
        summary["total_seconds"] = round(time.perf_counter() - started, 1)
        (out / "preference.json").write_text(json.dumps(summary, indent=1) + "\n")
    else:
        summary["total_seconds"] = round(time.perf_counter() - started, 1)
    return summary


def _save_lora(pipe, out: Path) -> int:
    """The UNet's LoRA as a reader loads it (`pipe.load_lora_weights(out)`); the file's size."""
    from diffusers import StableDiffusionPipeline
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft.utils import get_peft_model_state_dict

    layers = convert_state_dict_to_diffusers(get_peft_model_state_dict(pipe.unet))
    StableDiffusionPipeline.save_lora_weights(out, unet_lora_layers=layers, safe_serialization=True)
    return (out / "pytorch_lora_weights.safetensors").stat().st_size


def _pair_batch(latents, pairs, batch, g, alphas):
    """One batch of pairs drawn with `g` in a fixed order: winner and loser latents drawn from their
    posteriors, then noised with the same noise at the same timestep (as both research projects do)."""
    index = torch.randint(len(pairs["winner"]), (batch,), generator=g)
    rows = torch.cat([torch.from_numpy(pairs["winner"])[index], torch.from_numpy(pairs["loser"])[index]])
    mean, std = latents[rows, 0], latents[rows, 1]
    z0 = mean + std * torch.randn(mean.shape, generator=g)
    noise = torch.randn((batch, *z0.shape[1:]), generator=g).repeat(2, 1, 1, 1)
    t = torch.randint(0, len(alphas), (batch,), generator=g).repeat(2)
    a = alphas[t].view(-1, 1, 1, 1)
    return rows, a.sqrt() * z0 + (1 - a).sqrt() * noise, t, noise


def _errors(unet, zt, t, hidden, noise):
    pred = unet(zt, t, encoder_hidden_states=hidden).sample
    return F.mse_loss(pred, noise, reduction="none").mean(dim=(1, 2, 3)).chunk(2)


def _train(unet, params, latents, hidden, pairs, method, beta, steps, batch, lr, seed):
    g = torch.Generator().manual_seed(seed + 1)
    alphas = models.noise_scheduler().alphas_cumprod
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=DEFAULTS["weight_decay"])
    unet.train()
    losses, implicit, policy, seconds = [], [], [], 0.0
    for step in (bar := tqdm(range(steps), desc=f"preference {method}", mininterval=2)):
        t0 = time.perf_counter()
        for group in opt.param_groups:
            group["lr"] = train._lr(step, steps, lr, warmup=WARMUP)
        rows, zt, t, noise = _pair_batch(latents, pairs, batch, g, alphas)
        model_w, model_l = _errors(unet, zt, t, hidden[rows], noise)
        unet.disable_adapters()  # the reference: the same UNet without its LoRA
        with torch.no_grad():
            ref_w, ref_l = _errors(unet, zt, t, hidden[rows], noise)
        unet.enable_adapters()
        _, logits = dpo_loss(model_w.detach(), model_l.detach(), ref_w, ref_l, 1.0)
        if method == "dpo":
            loss, _ = dpo_loss(model_w, model_l, ref_w, ref_l, beta)
        elif method == "orpo":
            loss, _ = orpo_loss(model_w, model_l, beta)
        else:
            loss = sft_loss(model_w)
        implicit.append(implicit_accuracy(logits))
        policy.append(implicit_accuracy(model_l.detach() - model_w.detach()))
        train._optimizer_step(opt, loss, losses, bar, step, clip_params=params)
        seconds += time.perf_counter() - t0

    def curve(values, window=25):
        return [float(np.mean(values[i:i + window])) for i in range(0, len(values), window)]

    return {"losses": losses, "loss_curve": curve(losses), "implicit_accuracy": implicit,
            "implicit_accuracy_curve": curve(implicit), "policy_accuracy_curve": curve(policy)}, seconds


def baseline(out=None, threads: int = 2) -> dict:
    """The committed toy SD before any tuning: the pair set's statistics and `evaluate_preference`;
    written to `out`/baseline.json when out is given. Refuses threads < 1."""
    threads = validate.positive_int("threads", threads)
    torch.set_num_threads(threads)
    started = time.perf_counter()
    pipe = finetune.load_base()
    pairs = make_pairs(pipe)
    summary = {"setting": SETTING, "default_setting": DEFAULT_SETTING, "pairs": pair_statistics(pairs),
               "pair_seconds": round(time.perf_counter() - started, 1), "evaluation": evaluate_preference(pipe),
               "held_out_captions": list(HELD_OUT_CAPTIONS), "threads": threads, "torch": torch.__version__}
    summary["total_seconds"] = round(time.perf_counter() - started, 1)
    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
        save_pairs(pairs, Path(out) / "pairs.npz")
        (Path(out) / "baseline.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def save_pairs(pairs: dict, path) -> None:
    """The pair set as a compressed .npz: the images as uint8 (what an image data set stores; the
    scorer judged them as floats, before this rounding), captions, seeds, attribute counts, pairs."""
    np.savez_compressed(path, images=np.round(np.asarray(pairs["images"]) * 255).astype(np.uint8),
                        captions=np.array(pairs["captions"]), seeds=np.array(pairs["seeds"]), right=pairs["right"],
                        winner=pairs["winner"], loser=pairs["loser"], seeds_per_caption=pairs["seeds_per_caption"])


def load_pairs(path=None) -> dict:
    """The pair set `save_pairs` wrote (default: the committed PAIRS_FILE); images stay uint8."""
    path = validate.existing_file("path", PAIRS_FILE if path is None else path)
    with np.load(path) as data:
        pairs = {key: data[key] for key in data.files}
    pairs["captions"] = [str(c) for c in pairs["captions"]]
    pairs["seeds_per_caption"] = int(pairs["seeds_per_caption"])
    return pairs
