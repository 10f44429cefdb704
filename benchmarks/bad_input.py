"""A fresh batch of careless-user mistakes against the public helpers, and how each is answered (issue 28).

    .venv/bin/python benchmarks/bad_input.py [--verbose] [--kind KIND]

Each case is a plausible mistake (none copies a case of tests/test_bad_input_*.py), made the way a careless
user would make it: a NumPy scalar where a Python bool, int or float is expected, a scheduler config that
makes no schedule, an object of a related kind (a pipeline where a scheduler is expected, a class instead of
an instance), a dtype or device the helper can know will not run, a seed that is not a seed. Each answer is
classified:

- clear: an exception raised by a `raise` statement in helpers/ (the innermost frame), whose message names the
  argument (the case's `argument`, in full, as a word) and says what is accepted;
- vague: raised in helpers/, but the message misses the argument's name or what is accepted, or a call or an
  operator failed on a helpers/ line (e.g. `'<' not supported`, or torch's own message from `manual_seed`);
- deep: raised inside torch, diffusers, transformers, NumPy or Python itself;
- silent: no exception: the call went on with a wrong or meaningless value.

Controls are not mistakes: unambiguous values of the right kind (np.int64(7) as a seed, np.bool_(True) as a
setting) that the helpers accept and convert. A control is "accepted" when the call succeeds and its result
checks out; "refused" (over-strict) or "silent" (accepted, wrong result) otherwise. They are reported apart
and do not count in the share clear. Runs on the CPU in about half a minute (tiny pipelines, toy weights).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import re
import sys
import time
import traceback
import warnings
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np
import torch
from tqdm import tqdm

HELPERS = str(ROOT / "helpers")
# words by which a message says what is accepted
ACCEPTED_WORDS = re.compile(
    r"must|accept|expect|one of|use |pass |needs?|takes?|only|should|instead|valid|did you mean", re.IGNORECASE
)
NAN = float("nan")
IMAGE = np.linspace(0, 1, 8 * 8 * 3).reshape(8, 8, 3)
A, B = "a red circle on the left", "a blue square on the right"


@dataclass(frozen=True)
class Case:
    kind: str
    label: str
    call: object  # env -> result
    argument: str  # the argument a clear message names, in full
    check: object = None  # controls only: result -> True when the accepted value was converted right

    @property
    def control(self) -> bool:
        return self.check is not None


class Env:
    """What the cases need, built on first use."""

    @cached_property
    def ctx(self):
        import helpers

        return helpers.setup(profile="tiny", device="cpu")

    def load(self, name, **overrides):
        from helpers import pipelines

        return pipelines.load(name, self.ctx, **overrides)

    @cached_property
    def sd(self):
        return self.load("sd15")

    @cached_property
    def unclip(self):
        return self.load("unclip")

    @cached_property
    def toy(self):
        from helpers.toy import profile

        return profile.load("sd15", self.ctx)

    @cached_property
    def toy_wuerstchen(self):
        from helpers.toy import wuerstchen

        return wuerstchen.load(self.ctx)

    @cached_property
    def toy_embeds(self):
        from helpers.toy import interpolate

        return interpolate.caption_path(self.toy, A, B, [0.0, 1.0])

    @cached_property
    def sd15_config(self):
        from helpers.models import shipped_configs

        return dict(shipped_configs.SD15_SCHEDULER_CONFIG)

    def config(self, **changes):
        return {**self.sd15_config, **changes}

    @cached_property
    def euler(self):
        from diffusers import EulerDiscreteScheduler

        return EulerDiscreteScheduler.from_config(self.sd15_config)

    @cached_property
    def tokenizer(self):
        from helpers.models import tiny

        return tiny.clip_tokenizer()

    @cached_property
    def encoder(self):
        from helpers.models import tiny

        return tiny.CLIPTextModel(tiny.clip_text_config(self.tokenizer))

    @cached_property
    def world_images(self):
        from helpers.toy import world

        return world.make_dataset(2, seed=0)[0]


def _cases() -> list[Case]:
    from diffusers import DDIMScheduler, EulerDiscreteScheduler, StableDiffusionPipeline
    from diffusers.pipelines.stable_diffusion import StableDiffusionPipelineOutput

    import helpers
    from helpers import black_images, gpu, interpolation, pag, pipelines, prompts, schedulers, seeds
    from helpers.book import claims, plotting
    from helpers.research import hooks, mixture
    from helpers.toy import evaluate, interpolate, models, scorer, world
    from helpers.toy import wuerstchen as toy_wuerstchen

    def approx(value, **kwargs):
        return helpers.approx(value, **{"rtol": 0.01, "why": "spread between CPU kernels", **kwargs})

    def runs_clean(scheduler) -> bool:
        return "numpy" not in scheduler.to_json_string() and isinstance(scheduler.to_json_string(), str)

    numpy, config, related, dtype, seed, other = (
        "numpy scalar", "scheduler config", "related object", "dtype/device", "seed", "other"
    )  # fmt: skip
    return [
        # --- NumPy scalars where a Python bool, int or float is expected -----------------------
        Case(numpy, "make: np.int64(1) as use_karras_sigmas", lambda e: schedulers.make("Euler", e.sd15_config, use_karras_sigmas=np.int64(1)), "use_karras_sigmas"),
        Case(numpy, "make: np.bool_ as solver_order", lambda e: schedulers.make("DPM++ 2M", e.sd15_config, solver_order=np.bool_(True)), "solver_order"),
        Case(numpy, "make: np.float64(nan) beta_end in the config", lambda e: schedulers.make("Euler", e.config(beta_end=np.float64(NAN))), "beta_end"),
        Case(numpy, "schedule: np.float64(10.0) steps", lambda e: schedulers.schedule(e.euler, np.float64(10.0)), "steps"),
        Case(numpy, "setup: np.bool_ seed", lambda e: helpers.setup(profile="tiny", device="cpu", seed=np.bool_(True)), "seed"),
        Case(numpy, "ctx.generators: np.bool_ n", lambda e: e.ctx.generators(np.bool_(True)), "n"),
        Case(numpy, "image_grid: np.float64 ncols", lambda e: plotting.image_grid([IMAGE], ncols=np.float64(1.0)), "ncols"),
        Case(numpy, "line_plot: np.int64 logy", lambda e: plotting.line_plot({"a": ([1, 2], [1, 2])}, "x", "y", logy=np.int64(1)), "logy"),
        Case(numpy, "chunk: np.int64(0) breaks", lambda e: prompts.chunk(prompts.parse("a cat"), e.tokenizer, breaks=np.int64(0)), "breaks"),
        Case(numpy, "approx: np.float64(nan) rtol", lambda e: approx(0.5, rtol=np.float64(NAN)), "rtol"),
        Case(numpy, "approx: np.bool_ value", lambda e: approx(np.bool_(True)), "value"),
        Case(numpy, "Scene: np.float64(nan) dx", lambda e: world.Scene("red", "circle", "left", dx=np.float64(NAN)), "dx"),
        Case(numpy, "coverage: np.float32(inf) half_size", lambda e: world.coverage("circle", (16.0, 16.0), np.float32(np.inf)), "half_size"),
        Case(numpy, "tiny_safety_checker: np.bool_ seed", lambda e: black_images.tiny_safety_checker(seed=np.bool_(False)), "seed"),
        Case(numpy, "optimize: np.int64 group_offload blocks", lambda e: gpu.optimize(e.sd, e.ctx, "vanilla", group_offload={"num_blocks_per_group": np.int64(0)}), "num_blocks_per_group"),
        Case(numpy, "render: np.float64 guidance_scale nan", lambda e: interpolate.render(e.toy, e.toy_embeds, [0], steps=1, guidance_scale=np.float64(NAN)), "guidance_scale"),
        Case(numpy, "crossing: np.float64(nan) level", lambda e: interpolate.crossing([0.0, 1.0], [0.0, 1.0], level=np.float64(NAN)), "level"),
        # --- scheduler configs that make no schedule -------------------------------------------
        Case(config, "make: zero training timesteps", lambda e: schedulers.make("Euler", e.config(num_train_timesteps=0)), "num_train_timesteps"),
        Case(config, "make DDIM: zero training timesteps", lambda e: schedulers.make("DDIM", e.config(num_train_timesteps=0)), "num_train_timesteps"),
        Case(config, "make: negative training timesteps", lambda e: schedulers.make("Euler", e.config(num_train_timesteps=-5)), "num_train_timesteps"),
        Case(config, "make: beta range backwards", lambda e: schedulers.make("Euler", e.config(beta_start=0.02, beta_end=0.001)), "beta_start"),
        Case(config, "make: beta_end above 1 as an override", lambda e: schedulers.make("Euler", e.sd15_config, beta_end=1.5), "beta_end"),
        Case(config, "make: negative beta_start", lambda e: schedulers.make("DPM++ 2M", e.config(beta_start=-0.1)), "beta_start"),
        Case(config, "make: unknown beta_schedule", lambda e: schedulers.make("DDIM", e.config(beta_schedule="cosine")), "beta_schedule"),
        Case(config, "make: beta_schedule typo", lambda e: schedulers.make("Euler", e.config(beta_schedule="Scaled_Linear")), "beta_schedule"),
        Case(config, "make: beta_schedule None", lambda e: schedulers.make("LMS", e.config(beta_schedule=None)), "beta_schedule"),
        Case(config, "make: trained_betas of the wrong length", lambda e: schedulers.make("Euler", e.config(trained_betas=[0.001, 0.01, 0.02])), "trained_betas"),
        Case(config, "make: a beta of 1 in trained_betas", lambda e: schedulers.make("DDIM", e.config(num_train_timesteps=3, trained_betas=[0.1, 0.5, 1.0])), "trained_betas"),
        Case(config, "swap: beta_start above beta_end", lambda e: schedulers.swap(e.load("sd15"), "Euler", beta_start=0.5), "beta_start"),
        Case(config, "schedule: a scheduler made with beta_end 2", lambda e: schedulers.schedule(EulerDiscreteScheduler(beta_end=2.0), 10), "beta_end"),
        Case(config, "schedule: a DDIM made with backwards betas", lambda e: schedulers.schedule(DDIMScheduler(beta_start=0.02, beta_end=0.0001), 10), "beta_start"),
        Case(config, "make: steps_offset negative", lambda e: schedulers.make("PLMS", e.config(steps_offset=-1)), "steps_offset"),
        # --- an object of a related kind ----------------------------------------------------------
        Case(related, "swap: the UNet for the pipeline", lambda e: schedulers.swap(e.sd.unet, "Euler"), "pipe"),
        Case(related, "swap: the pipeline class", lambda e: schedulers.swap(StableDiffusionPipeline, "Euler"), "pipe"),
        Case(related, "schedule: the pipeline", lambda e: schedulers.schedule(e.sd, 10), "scheduler"),
        Case(related, "schedule: the scheduler class", lambda e: schedulers.schedule(EulerDiscreteScheduler, 10), "scheduler"),
        Case(related, "explain: the pipeline", lambda e: schedulers.explain(e.sd), "scheduler"),
        Case(related, "explain: a pipeline class as target", lambda e: schedulers.explain(e.euler, target=StableDiffusionPipeline), "target"),
        Case(related, "make: the pipeline as base_config", lambda e: schedulers.make("Euler", e.sd), "base_config"),
        Case(related, "load: a scheduler class as scheduler", lambda e: pipelines.load("sd15", e.ctx, scheduler=EulerDiscreteScheduler), "scheduler"),
        Case(related, "load: a pipeline as scheduler", lambda e: pipelines.load("sd15", e.ctx, scheduler=e.sd), "scheduler"),
        Case(related, "load: the VAE as unet", lambda e: pipelines.load("sd15", e.ctx, unet=e.sd.vae), "unet"),
        Case(related, "load: a scheduler config as scheduler", lambda e: pipelines.load("sd15", e.ctx, scheduler=e.sd.scheduler.config), "scheduler"),
        Case(related, "optimize: the UNet for the pipeline", lambda e: gpu.optimize(e.sd.unet, e.ctx, "vanilla"), "pipe"),
        Case(related, "optimize: the pipeline class", lambda e: gpu.optimize(StableDiffusionPipeline, e.ctx, "vanilla"), "pipe"),
        Case(related, "optimize: the pipeline as ctx", lambda e: gpu.optimize(e.sd, e.sd, "vanilla"), "ctx"),
        Case(related, "why_black: the pipeline class", lambda e: black_images.why_black(StableDiffusionPipelineOutput(np.zeros((1, 8, 8, 3)), [False]), StableDiffusionPipeline), "pipe"),
        Case(related, "layer_matches: the VAE for the denoiser", lambda e: pag.layer_matches(e.sd.vae, "mid"), "denoiser"),
        Case(related, "count_calls: the scheduler", lambda e: hooks.count_calls(e.sd.scheduler), "module"),
        Case(related, "encode_prompt: the text encoder for the pipeline", lambda e: interpolation.encode_prompt(e.unclip.text_encoder, "a cat"), "pipe"),
        Case(related, "recorded_draws: a scheduler for the module", lambda e: seeds.recorded_draws(e.euler).__enter__(), "module"),
        Case(related, "mixture.run: the pipeline as scheduler", lambda e: mixture.run(e.sd, mixture.GaussianMixture.random(dim=4, seed=0), torch.zeros(2, 4), 3), "scheduler"),
        Case(related, "sample_accuracy: the UNet for the pipeline", lambda e: evaluate.sample_accuracy(e.toy.unet, n=2, steps=1), "pipe"),
        Case(related, "stage_c: the toy SD for the toy Würstchen", lambda e: toy_wuerstchen.stage_c(e.toy, [A]), "pipe"),
        Case(related, "toy load: the device for the ctx", lambda e: __import__("helpers.toy.profile").toy.profile.load("sd15", "cpu"), "ctx"),
        Case(related, "accuracy: readings for verdicts", lambda e: scorer.accuracy(scorer.read(e.world_images)), "verdicts"),
        Case(related, "render: a Scene class", lambda e: world.render(world.Scene), "scene"),
        # --- a dtype or device the helper can know will not run ----------------------------------
        Case(dtype, "setup: a float8 dtype", lambda e: helpers.setup(profile="tiny", device="cpu", dtype=torch.float8_e4m3fn), "dtype"),
        Case(dtype, "setup: dtype as a string", lambda e: helpers.setup(profile="tiny", device="cpu", dtype="float16"), "dtype"),
        Case(dtype, "setup: device 'gpu'", lambda e: helpers.setup(profile="tiny", device="gpu"), "device"),
        Case(dtype, "replace: a Context with a string dtype", lambda e: pipelines.load("sd15", dataclasses.replace(e.ctx, dtype="float16")), "dtype"),
        Case(dtype, "load: unclip in float16 on the CPU", lambda e: e.load("unclip", dtype=torch.float16), "dtype"),
        Case(dtype, "load: image variation in bfloat16 on the CPU", lambda e: e.load("unclip-image-variation", dtype=torch.bfloat16), "dtype"),
        Case(dtype, "load: an integer dtype", lambda e: e.load("sd15", dtype=torch.int8), "dtype"),
        Case(dtype, "load: a float8 dtype", lambda e: e.load("sd15", dtype=torch.float8_e4m3fn), "dtype"),
        Case(dtype, "load: a complex dtype per component", lambda e: e.load("sd15", dtype={"unet": torch.complex64}), "dtype"),
        Case(dtype, "toy load: an integer dtype", lambda e: __import__("helpers.toy.profile").toy.profile.load("sd15", e.ctx, dtype=torch.int8), "dtype"),
        Case(dtype, "optimize: compile mode typo", lambda e: gpu.optimize(e.load("sd15"), e.ctx, "vanilla", compile={"mode": "fast"}), "mode"),
        Case(dtype, "optimize: compile backend typo", lambda e: gpu.optimize(e.load("sd15"), e.ctx, "vanilla", compile={"backend": "inductr"}), "backend"),
        Case(dtype, "batch_generators: cuda with no CUDA", lambda e: seeds.batch_generators(0, 2, device="cuda"), "device"),
        Case(dtype, "batch_generators: mps with no MPS", lambda e: seeds.batch_generators(0, 2, device="mps"), "device"),
        # --- seeds -------------------------------------------------------------------------------
        Case(seed, "setup: seed 2**32", lambda e: helpers.setup(profile="tiny", device="cpu", seed=2**32), "seed"),
        Case(seed, "setup: seed 2**64", lambda e: helpers.setup(profile="tiny", device="cpu", seed=2**64), "seed"),
        Case(seed, "setup: seed '42'", lambda e: helpers.setup(profile="tiny", device="cpu", seed="42"), "seed"),
        Case(seed, "ctx.generator: seed '42'", lambda e: e.ctx.generator("42"), "seed"),
        Case(seed, "ctx.generator: seed -1", lambda e: e.ctx.generator(-1), "seed"),
        Case(seed, "ctx.generator: seed True", lambda e: e.ctx.generator(True), "seed"),
        Case(seed, "ctx.generator: seed 2**64", lambda e: e.ctx.generator(2**64), "seed"),
        Case(seed, "ctx.generators: seed 1.5", lambda e: e.ctx.generators(2, seed=1.5), "seed"),
        Case(seed, "ctx.generators: n '2'", lambda e: e.ctx.generators("2"), "n"),
        Case(seed, "a1111_latents: seed 2**64", lambda e: seeds.a1111_latents(2**64, (4, 8, 8)), "seed"),
        Case(seed, "PhiloxGenerator: seed True", lambda e: seeds.PhiloxGenerator(True), "seed"),
        Case(seed, "tiny_safety_checker: seed 2**64", lambda e: black_images.tiny_safety_checker(seed=2**64), "seed"),
        Case(seed, "random mixture: seed '0'", lambda e: mixture.GaussianMixture.random(seed="0"), "seed"),
        Case(seed, "make_dataset: seed '42'", lambda e: world.make_dataset(2, seed="42"), "seed"),
        Case(seed, "make_dataset: seed -1", lambda e: world.make_dataset(2, seed=-1), "seed"),
        Case(seed, "make_dataset: seed 1.5", lambda e: world.make_dataset(2, seed=1.5), "seed"),
        Case(seed, "toy models.build: seed '0'", lambda e: models.build(seed="0"), "seed"),
        Case(seed, "generate: float seeds", lambda e: evaluate.generate(e.toy, [A, B], seeds=[1.7, 2.2], steps=1), "seeds"),
        Case(seed, "generate: string seeds", lambda e: evaluate.generate(e.toy, [A, B], seeds=["1", "2"], steps=1), "seeds"),
        Case(seed, "generate: a negative seed", lambda e: evaluate.generate(e.toy, [A, B], seeds=[-1, 2], steps=1), "seeds"),
        Case(seed, "render: seed 2**64", lambda e: interpolate.render(e.toy, e.toy_embeds, [2**64], steps=1), "seeds"),
        Case(seed, "stage_c: bool seeds", lambda e: toy_wuerstchen.stage_c(e.toy_wuerstchen, [A, B], seeds=[True, False], steps=1), "seeds"),
        # --- other plausible mistakes ------------------------------------------------------------
        Case(other, "approx: rtol as a string", lambda e: approx(0.5, rtol="0.01"), "rtol"),
        Case(other, "approx: the value as a string", lambda e: approx("0.5"), "value"),
        Case(other, "approx: a tensor of two values", lambda e: approx(torch.tensor([0.5, 0.6])), "value"),
        Case(other, "approx: why None", lambda e: approx(0.5, why=None), "why"),
        Case(other, "error_message: the call's result", lambda e: claims.error_message(abs(-1)), "call"),
        Case(other, "still_true: statement a number", lambda e: claims.still_true("a-claim", 3).__enter__(), "statement"),
        Case(other, "caption: unknown colour", lambda e: world.caption("purple", "circle", "left"), "colour"),
        Case(other, "caption: unknown position", lambda e: world.caption("red", "circle", "middle"), "position"),
        Case(other, "Scene: half_size a string", lambda e: world.Scene("red", "circle", "left", half_size="6"), "half_size"),
        Case(other, "Scene: dx off the image", lambda e: world.Scene("red", "circle", "left", dx=40.0), "dx"),
        Case(other, "coverage: negative half_size", lambda e: world.coverage("circle", (16.0, 16.0), -3.0), "half_size"),
        Case(other, "coverage: size 0", lambda e: world.coverage("circle", (16.0, 16.0), 5.0, size=0), "size"),
        Case(other, "read_one: a uint8 image", lambda e: scorer.read_one((e.world_images[0] * 255).astype(np.uint8)), "image"),
        Case(other, "eval_captions: n a float", lambda e: evaluate.eval_captions(4.0), "n"),
        Case(other, "generate: one caption as a string", lambda e: evaluate.generate(e.toy, A, steps=1), "captions"),
        Case(other, "stage_c: one caption as a string", lambda e: toy_wuerstchen.stage_c(e.toy_wuerstchen, A, steps=1), "captions"),
        Case(other, "encode_prompt: count True", lambda e: prompts.encode_prompt("a cat", e.tokenizer, e.encoder, count=True), "count"),
    ]  # fmt: skip


def _controls() -> list[Case]:
    import helpers
    from helpers import gpu, schedulers, seeds
    from helpers.book import plotting
    from helpers.toy import world

    control = "numpy scalar"
    return [
        Case(control, "setup: seed np.int64(7)", lambda e: helpers.setup(profile="tiny", device="cpu", seed=np.int64(7)), "seed",
             check=lambda ctx: type(ctx.seed) is int and ctx.seed == 7),
        Case(control, "ctx.generator: seed np.int64(5)", lambda e: e.ctx.generator(np.int64(5)), "seed",
             check=lambda g: g.initial_seed() == 5),
        Case(control, "make: use_karras_sigmas np.bool_(True)", lambda e: schedulers.make("Euler", e.sd15_config, use_karras_sigmas=np.bool_(True)), "use_karras_sigmas",
             check=lambda s: s.config.use_karras_sigmas is True and "true" in s.to_json_string()),
        Case(control, "make: beta_end np.float32 in the config", lambda e: schedulers.make("Euler", e.config(beta_end=np.float32(0.012))), "beta_end",
             check=lambda s: type(s.config.beta_end) is float and bool(s.to_json_string())),
        Case(control, "make: solver_order np.int64(3)", lambda e: schedulers.make("DPM++ 2M", e.sd15_config, solver_order=np.int64(3)), "solver_order",
             check=lambda s: type(s.config.solver_order) is int and bool(s.to_json_string())),
        Case(control, "optimize: channels_last np.bool_(True)", lambda e: gpu.optimize(e.load("sd15"), e.ctx, "vanilla", channels_last=np.bool_(True)), "channels_last",
             check=lambda report: report.applied.get("channels_last") is True),
        Case(control, "make_dataset: n and seed np.int64", lambda e: world.make_dataset(np.int64(2), seed=np.int64(1)), "n",
             check=lambda made: np.array_equal(made[0], world.make_dataset(2, seed=1)[0])),
        Case(control, "batch_generators: np.int64 seed and n", lambda e: seeds.batch_generators(np.int64(3), np.int64(2)), "seed",
             check=lambda gens: [g.initial_seed() for g in gens] == [3, 3]),
        Case(control, "line_plot: logy np.bool_(True)", lambda e: plotting.line_plot({"a": ([1, 2], [1, 2])}, "x", "y", logy=np.bool_(True)), "logy",
             check=lambda fig: fig.axes[0].get_yscale() == "log"),
        Case(control, "approx: np.float32 value and np.float64 rtol", lambda e: helpers.approx(np.float32(0.5), rtol=np.float64(0.01), why="spread between CPU kernels"), "value",
             check=lambda a: type(a.value) is float and type(a.rtol) is float and a.value == 0.5),  # exact: 0.5 in float32
        Case("dtype/device", "setup: dtype float16 on the CPU", lambda e: helpers.setup(profile="tiny", device="cpu", dtype=torch.float16), "dtype",
             check=lambda ctx: ctx.dtype == torch.float16),
        Case("dtype/device", "load: sd15 in float16 on the CPU (runs: measured)", lambda e: e.load("sd15", dtype=torch.float16), "dtype",
             check=lambda pipe: pipe.unet.dtype == torch.float16),
    ]  # fmt: skip


def _raising_frame(error: BaseException) -> tuple[str, str]:
    """(file, source line) of the innermost frame: where the exception was raised."""
    frames = traceback.extract_tb(error.__traceback__)
    return (frames[-1].filename, frames[-1].line or "") if frames else ("?", "")


def classify(case: Case, env: Env) -> tuple[str, str]:
    """(outcome, detail) of one case; see the module docstring."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = case.call(env)
    except Exception as error:  # noqa: BLE001 - every answer is classified, none propagates
        where, line = _raising_frame(error)
        message = f"{type(error).__name__}: {error}"
        if case.control:
            return "refused", message
        if not where.startswith(HELPERS):
            short = where.split("site-packages/")[-1].replace(str(ROOT) + "/", "")
            return "deep", f"{message} [{short}]"
        # a helpers line that is no raise statement: a torch call or an operator failed there
        raised = line.lstrip().startswith("raise")
        named = re.search(rf"(?<![\w.]){re.escape(case.argument)}(?!\w)", str(error)) is not None
        says = ACCEPTED_WORDS.search(str(error)) is not None
        return ("clear" if raised and named and says else "vague"), message + ("" if raised else f" [at: {line.strip()}]")
    if case.control:
        try:
            good = bool(case.check(result))
        except Exception as error:  # noqa: BLE001
            return "silent", f"accepted, but the result does not check out ({type(error).__name__}: {error})"
        return ("accepted", "") if good else ("silent", "accepted, but the result does not check out")
    return "silent", f"returned {type(result).__name__}"


def arguments(description: str) -> argparse.Namespace:
    """The command line every bad-input script takes (`--verbose`, `--kind`), and the time the run starts."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--verbose", action="store_true", help="print every case's message, not only the non-clear")
    parser.add_argument("--kind", help="only the cases of this kind")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    args.start = time.perf_counter()  # the run is timed from here: building the cases imports helpers/
    return args


def _table(title: str, groups: list[str], cases: list[Case], outcomes: dict, key) -> None:
    columns = ("clear", "vague", "deep", "silent")
    print(f"\n{title:22} {'cases':>5} " + " ".join(f"{c:>6}" for c in columns) + f" {'clear %':>8}")
    for group in [*groups, "all"]:
        chosen = [c for c in cases if group == "all" or key(c) == group]
        counts = Counter(outcomes[c][0] for c in chosen)
        share = 100 * counts["clear"] / len(chosen) if chosen else 0.0
        print(f"{group:22} {len(chosen):>5} " + " ".join(f"{counts[c]:>6}" for c in columns) + f" {share:>7.1f}%")


def _short(detail: str, head: int = 220, tail: int = 110) -> str:
    """One line; a long message (one that prints a whole pipeline config) keeps its start and its end."""
    detail = " ".join(detail.split())
    return detail if len(detail) <= head + tail else f"{detail[:head]} ... {detail[-tail:]}"


def report(
    cases: list[Case],
    controls: list[Case],
    env: Env,
    *,
    desc: str,
    module_of=None,
    verbose: bool = False,
    kind: str | None = None,
    start: float | None = None,
    noun: str = "cases",
    controls_note: str = "legal input, accepted with the right result",
) -> int:
    """Classify every case and control, and print the tables (per kind; per module where `module_of` maps a case
    to its helpers module), the controls line, the non-clear cases (every case with `verbose`) and the totals.
    `kind` keeps only the cases and controls of that kind; `desc` labels the progress bar, `noun` the totals;
    `start` is when the run began (by default, now)."""
    logging.disable(logging.WARNING)
    start = time.perf_counter() if start is None else start
    if kind:
        cases = [c for c in cases if c.kind == kind]
        controls = [c for c in controls if c.kind == kind]
    outcomes = {}
    for case in tqdm(cases + controls, desc=desc, unit="case", file=sys.stderr):
        outcomes[case] = classify(case, env)
    _table("kind", list(dict.fromkeys(c.kind for c in cases)), cases, outcomes, lambda c: c.kind)
    if module_of is not None:
        _table("module", sorted(dict.fromkeys(module_of(c) for c in cases)), cases, outcomes, module_of)
    control_counts = Counter(outcomes[c][0] for c in controls)
    print(f"\ncontrols ({controls_note}): {control_counts['accepted']} of {len(controls)}"
          + "".join(f", {n} {k}" for k, n in control_counts.items() if k != "accepted"))
    print()
    for case in cases + controls:
        outcome, detail = outcomes[case]
        if verbose or outcome not in ("clear", "accepted"):
            module = f"{module_of(case)} | " if module_of is not None else ""
            print(f"[{outcome:8}] {case.kind} | {module}{case.label} ({case.argument}): {_short(detail)}")
    print(f"\n{len(cases)} {noun}, {len(controls)} controls in {time.perf_counter() - start:.0f} s")
    return 0


def main() -> int:
    args = arguments(__doc__.splitlines()[0])
    return report(_cases(), _controls(), Env(), desc="cases", verbose=args.verbose, kind=args.kind,
                  start=args.start, controls_note="accepted and converted")


if __name__ == "__main__":
    raise SystemExit(main())
