"""A held-out batch of careless-user mistakes: how well the checks of benchmarks/bad_input.py generalise.

    FIELDNOTES_CACHE=$PWD/_build/tiny-cache HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bad_input_heldout.py [--verbose] [--kind KIND]

benchmarks/bad_input.py (issue 28) measured one batch of mistakes, and helpers/ was then fixed against that
batch (tests/test_bad_input_fresh.py). A score on the batch one fixed against says little about the next user,
so this batch was written *after* those fixes, without looking at which checks exist: none of its cases is a
case of benchmarks/bad_input.py or of tests/test_bad_input_*.py (or, as far as a skim shows, of the other
tests). It is a measurement, not a test: nothing here is fixed, and a low share clear is a finding.

Mistakes are spread over the public helpers (setup/Context, record/approx, claims, pipelines, schedulers,
seeds, prompts, interpolation, black_images, gpu, pag, pag_recipes, hooks, plotting, widgets, signatures,
flops, full_size, mixture, convergence, a1111_parity and the toy world) and over kinds: wrong types, NumPy
scalars and 0-d arrays, out-of-range or NaN/inf numbers, empty or wrongly-shaped input, typos and wrong case
in names, objects of a related kind (a pipeline for a module, a class for an instance), a list for one item
and one item for a list.

Classification is benchmarks/bad_input.py's own (`classify`, imported from it), so the two scores compare:

- clear: an exception raised by a `raise` statement in helpers/ (the innermost frame), whose message names the
  argument (the case's `argument`, in full, as a word) and says what is accepted;
- vague: raised in helpers/, but the message misses the argument's name or what is accepted, or a call or an
  operator failed on a helpers/ line;
- deep: raised inside torch, diffusers, transformers, NumPy or Python itself;
- silent: no exception: the call went on with a wrong or meaningless value.

Controls are legal inputs (a NumPy or 0-d value of the right kind, a tensor where an array would do) that
must be accepted and give the right result ("accepted"); "refused" (over-strict) or "silent" (accepted, with a
wrong result) otherwise. They do not count in the share clear. Three inputs first written as mistakes turned out to
be documented as legal and are controls instead: a 2-d grey image for `plotting.to_array` ("HxWxC or HxW"), an
empty `away` list for `black_images.orthogonal_direction` (nothing to remove: the unit `toward`), an unknown name
for `signatures.group_of` ("unknown names are 'model-specific'"). A NaN inside a `line_plot` series was dropped:
matplotlib draws it as a gap, a common way to mark a missing point. Runs on the CPU in well under a minute.
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from functools import cached_property
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np
import torch

# the classifier, the Case record and the shared fixtures of the earlier batch, unchanged
_spec = importlib.util.spec_from_file_location("bad_input_batch1", ROOT / "benchmarks" / "bad_input.py")
batch1 = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = batch1  # dataclasses look their module up there
_spec.loader.exec_module(batch1)
Case, classify, report = batch1.Case, batch1.classify, batch1.report

NAN, INF = float("nan"), float("inf")
A, B = "a red circle on the left", "a blue square on the right"
IMAGE = np.linspace(0, 1, 8 * 8 * 3).reshape(8, 8, 3)
U, V = torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 1.0, 0.0])
TMP = Path(tempfile.mkdtemp(prefix="heldout-"))


class Env(batch1.Env):
    """benchmarks/bad_input.py's fixtures, and what the new cases need besides, built on first use."""

    @cached_property
    def checker(self):
        from helpers import black_images

        return black_images.tiny_safety_checker(image_size=32, width=16, seed=0)

    @cached_property
    def mixture(self):
        from helpers.research import mixture

        return mixture.GaussianMixture.random(dim=4, components=3, seed=0)

    @cached_property
    def z(self):
        return torch.randn(2, 4, generator=torch.Generator().manual_seed(0))

    @cached_property
    def alphas(self):
        return self.euler.alphas_cumprod

    @cached_property
    def conv_case(self):
        from helpers.research import convergence

        return convergence.Case("euler", lambda: self.euler)

    @cached_property
    def results(self):
        import pandas as pd

        return pd.DataFrame({"label": ["a"] * 3, "steps": [5, 10, 20], "nfe": [5, 10, 20],
                             "median_error": [0.2, 0.1, 0.05], "stochastic": False})  # fmt: skip

    @cached_property
    def chunks(self):
        from helpers import prompts

        return prompts.chunk(prompts.parse("a lighthouse"), self.tokenizer)

    @cached_property
    def z_text(self):
        return torch.randn(1, 77, self.encoder.config.hidden_size, generator=torch.Generator().manual_seed(0))

    @cached_property
    def pictures(self):
        import PIL.Image

        return [PIL.Image.fromarray((image * 255).round().astype(np.uint8)) for image in self.world_images]


def enter(manager):
    """Run a context manager's set-up (where its arguments are checked) with an empty body."""
    with manager:
        pass
    return manager


def _cases() -> list[Case]:
    from diffusers import (
        EulerDiscreteScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )

    import helpers
    from helpers import black_images, gpu, interpolation, pag, pipelines, prompts, schedulers, seeds
    from helpers.book import claims, plotting, widgets
    from helpers.models import flops, full_size, pag_recipes
    from helpers.research import a1111_parity, convergence, hooks, signatures
    from helpers.research import mixture as mx
    from helpers.toy import evaluate, interpolate, scorer, world
    from helpers.toy import wuerstchen as toy_wuerstchen

    why = "spread between CPU kernels"
    types, numpy, rng, empty, names, related, arity, shape = (
        "wrong type", "numpy/0-d", "range/NaN/inf", "empty", "name typo/case", "related object", "one vs many",
        "shape/dtype/layout",
    )  # fmt: skip
    return [
        # --- helpers.setup / Context --------------------------------------------------------------
        Case(names, "setup: profile 'Tiny'", lambda e: helpers.setup(profile="Tiny", device="cpu"), "profile"),
        Case(names, "setup: device 'CPU'", lambda e: helpers.setup(profile="tiny", device="CPU"), "device"),
        Case(numpy, "setup: seed np.float64(7.0)", lambda e: helpers.setup(profile="tiny", device="cpu", seed=np.float64(7.0)), "seed"),
        Case(related, "setup: dtype np.float32 (NumPy's, not torch's)", lambda e: helpers.setup(profile="tiny", device="cpu", dtype=np.float32), "dtype"),
        Case(rng, "ctx.generators: n 0", lambda e: e.ctx.generators(0), "n"),
        Case(numpy, "ctx.generator: seed np.float32(3)", lambda e: e.ctx.generator(np.float32(3)), "seed"),
        # --- helpers.record / approx ---------------------------------------------------------------
        Case(rng, "approx: negative rtol", lambda e: helpers.approx(0.5, rtol=-0.01, why=why), "rtol"),
        Case(rng, "approx: value inf", lambda e: helpers.approx(INF, rtol=0.01, why=why), "value"),
        Case(types, "record: a whole image array", lambda e: helpers.record(image=np.zeros((4, 4, 3))), "image"),
        Case(rng, "record: a 0-d NaN tensor", lambda e: helpers.record(loss=torch.tensor(NAN)), "loss"),
        Case(types, "record: a dict with int keys", lambda e: helpers.record(counts={1: 2, 2: 4}), "counts"),
        # --- helpers.book.claims -------------------------------------------------------------------
        Case(names, "still_true: id in words with capitals", lambda e: enter(claims.still_true("Frozendict accepts writes", "a frozendict takes writes")), "claim"),
        Case(arity, "still_true: changed_if_raises a list", lambda e: enter(claims.still_true("a-claim", "it holds", changed_if_raises=[ValueError])), "changed_if_raises"),
        Case(related, "still_true: an exception instance, not its class", lambda e: enter(claims.still_true("a-claim", "it holds", changed_if_raises=ValueError("x"))), "changed_if_raises"),
        Case(types, "error_message: expect as a string", lambda e: claims.error_message(int, "x", expect="ValueError"), "expect"),
        Case(arity, "needs: the names as one list", lambda e: claims.needs(torch, ["Generator", "manual_seed"]), "names"),
        # --- helpers.pipelines ---------------------------------------------------------------------
        Case(arity, "load: the names as a list", lambda e: pipelines.load(["sd15"], e.ctx), "name"),
        Case(names, "load: a trailing space in the name", lambda e: pipelines.load("sd15 ", e.ctx), "name"),
        Case(empty, "load: an empty name", lambda e: pipelines.load("", e.ctx), "name"),
        Case(related, "load: the tokenizer as text_encoder", lambda e: pipelines.load("sd15", e.ctx, text_encoder=e.sd.tokenizer), "text_encoder"),
        Case(related, "load: a UNet state_dict as unet", lambda e: pipelines.load("sd15", e.ctx, unet=e.sd.unet.state_dict()), "unet"),
        Case(types, "load: safety_checker=False", lambda e: pipelines.load("sd15", e.ctx, safety_checker=False), "safety_checker"),
        Case(names, "load: per-component dtype with a typo ('vea')", lambda e: pipelines.load("sd15", e.ctx, dtype={"unet": torch.float32, "vea": torch.float32}), "dtype"),
        Case(types, "from_pretrained: torch_dtype 'fp16'", lambda e: pipelines.from_pretrained("sd15", e.ctx, torch_dtype="fp16"), "torch_dtype"),
        Case(names, "from_pretrained: a variant the folder lacks", lambda e: pipelines.from_pretrained("sd15", e.ctx, variant="fp32"), "variant"),
        Case(names, "family: 'SD15' in capitals", lambda e: pipelines.family("SD15"), "name"),
        # --- helpers.schedulers --------------------------------------------------------------------
        Case(related, "swap: the scheduler class for the name", lambda e: schedulers.swap(e.load("sd15"), EulerDiscreteScheduler), "name"),
        Case(types, "swap: use_karras_sigmas=1", lambda e: schedulers.swap(e.load("sd15"), "Euler", use_karras_sigmas=1), "use_karras_sigmas"),
        Case(numpy, "make: num_train_timesteps np.float64(1000.0)", lambda e: schedulers.make("Euler", e.sd15_config, num_train_timesteps=np.float64(1000.0)), "num_train_timesteps"),
        Case(types, "make: the config as a JSON string", lambda e: schedulers.make("Euler", e.euler.to_json_string()), "base_config"),
        Case(names, "lookup: 'DPM++2M' without the space", lambda e: schedulers.lookup("DPM++2M"), "name"),
        Case(empty, "make: an empty sampler name", lambda e: schedulers.make("", e.sd15_config), "name"),
        Case(arity, "schedule: a list of step counts", lambda e: schedulers.schedule(e.euler, [10, 20]), "steps"),
        Case(types, "explain: target by name", lambda e: schedulers.explain(e.euler, target="DDIMScheduler"), "target"),
        Case(related, "check_settings: an instance for cls (and a setting it refuses)", lambda e: schedulers.check_settings(EulerDiscreteScheduler(), {"timestep_spacing": "Trailing"}), "cls"),
        Case(types, "check_settings: settings as a list of pairs", lambda e: schedulers.check_settings(EulerDiscreteScheduler, [("use_karras_sigmas", True)]), "settings"),
        Case(names, "a1111_name: schedule type 'karras' in lower case", lambda e: schedulers.a1111_name("Euler a", "karras"), "schedule_type"),
        # --- helpers.seeds -------------------------------------------------------------------------
        Case(rng, "a1111_seeds: subseed_strength 1.5", lambda e: seeds.a1111_seeds(0, 2, subseed=5, subseed_strength=1.5), "subseed_strength"),
        Case(shape, "a1111_latents: shape with a batch axis", lambda e: seeds.a1111_latents(0, (1, 4, 8, 8)), "shape"),
        Case(empty, "a1111_latents: an empty shape", lambda e: seeds.a1111_latents(0, ()), "shape"),
        Case(rng, "A1111Noise: negative subseed_strength", lambda e: seeds.A1111Noise([1, 2], (4, 8, 8), subseeds=[3, 4], subseed_strength=-0.1), "subseed_strength"),
        Case(types, "PhiloxGenerator.randn: a float in the shape", lambda e: seeds.PhiloxGenerator(0).randn((4, 8, 8.0)), "shape"),
        Case(types, "recorded_draws: the module's name", lambda e: enter(seeds.recorded_draws("diffusers.utils.torch_utils")), "module"),
        Case(types, "batch_generators: scheme None", lambda e: seeds.batch_generators(0, 2, scheme=None), "scheme"),
        # --- helpers.prompts -----------------------------------------------------------------------
        Case(types, "parse: bytes", lambda e: prompts.parse(b"a (lighthouse:1.2)"), "prompt"),
        Case(related, "chunk: the text encoder as tokenizer", lambda e: prompts.chunk(prompts.parse("a cat"), e.encoder), "tokenizer"),
        Case(types, "encode: layer True", lambda e: prompts.encode(e.chunks, e.encoder, layer=True), "layer"),
        Case(shape, "weight: weights one token short", lambda e: prompts.weight(e.z_text, torch.ones(76)), "weights"),
        Case(shape, "weight: embeddings without the batch axis", lambda e: prompts.weight(e.z_text[0], torch.ones(77)), "z"),
        Case(types, "encode_prompt: count 2.5", lambda e: prompts.encode_prompt("a cat", e.tokenizer, e.encoder, count=2.5), "count"),
        Case(arity, "encode_prompt: a list of prompts", lambda e: prompts.encode_prompt(["a cat", "a dog"], e.tokenizer, e.encoder), "prompt"),
        Case(names, "prompt_embeds: method 'Compel'", lambda e: prompts.prompt_embeds(e.sd, "a cat", method="Compel"), "method"),
        Case(types, "prompt_embeds: comma_backtrack 20.0", lambda e: prompts.prompt_embeds(e.sd, "a cat", comma_backtrack=20.0), "comma_backtrack"),
        # --- helpers.interpolation -----------------------------------------------------------------
        Case(types, "slerp: t as a list of strings", lambda e: interpolation.slerp(U, V, ["0", "0.5", "1"]), "t"),
        Case(shape, "slerp: t as a nested list (2-d)", lambda e: interpolation.slerp(U, V, [[0.0, 0.5], [0.5, 1.0]]), "t"),
        Case(shape, "lerp: a float32 and a float64 end", lambda e: interpolation.lerp(U, V.double(), 0.5), "b"),
        Case(types, "lerp: NumPy vectors", lambda e: interpolation.lerp(U.numpy(), V.numpy(), 0.5), "a"),
        Case(types, "angle_between: b as a list", lambda e: interpolation.angle_between(U, [0.0, 1.0, 0.0]), "b"),
        Case(related, "interpolate_prompts: the Generator class", lambda e: interpolation.interpolate_prompts(e.unclip, "a cat", "a dog", 2, generator=torch.Generator), "generator"),
        Case(empty, "prompt_path: an empty list of t", lambda e: interpolation.prompt_path(e.unclip, "a cat", "a dog", []), "t"),
        # --- helpers.black_images ------------------------------------------------------------------
        Case(types, "set_concepts: thresholds a list", lambda e: black_images.set_concepts(e.checker, thresholds=[0.1, 0.2]), "thresholds"),
        Case(shape, "set_concepts: an embedding of the wrong width", lambda e: black_images.set_concepts(e.checker, embeddings={0: torch.ones(8)}), "embeddings"),
        Case(rng, "set_concepts: a concept index past the end", lambda e: black_images.set_concepts(e.checker, thresholds={99: 0.1}), "thresholds"),
        Case(related, "why_black: output.images for the output", lambda e: black_images.why_black(np.zeros((1, 8, 8, 3), np.float32), e.sd), "output"),
        Case(shape, "unit: a 0-d tensor", lambda e: black_images.unit(torch.tensor(3.0)), "vector"),
        # --- helpers.gpu ---------------------------------------------------------------------------
        Case(names, "optimize: goal 'Speed'", lambda e: gpu.optimize(e.load("sd15"), e.ctx, "Speed"), "goal"),
        Case(names, "optimize: attention 'flash'", lambda e: gpu.optimize(e.load("sd15"), e.ctx, "vanilla", attention="flash"), "attention"),
        Case(types, "optimize: vae_slicing=1", lambda e: gpu.optimize(e.load("sd15"), e.ctx, "vanilla", vae_slicing=1), "vae_slicing"),
        Case(types, "optimize: compile fullgraph 'yes'", lambda e: gpu.optimize(e.load("sd15"), e.ctx, "vanilla", compile={"fullgraph": "yes"}), "fullgraph"),
        Case(names, "optimize: attention 'SDPA' in capitals", lambda e: gpu.optimize(e.load("sd15"), e.ctx, "vanilla", attention="SDPA"), "attention"),
        # --- helpers.pag, pag_recipes, hooks ---------------------------------------------------------
        Case(names, "check_layers: 'Mid' in capitals", lambda e: pag.check_layers(e.sd.unet, "Mid"), "layers"),
        Case(types, "layer_matches: bytes", lambda e: pag.layer_matches(e.sd.unet, b"mid"), "layers"),
        Case(arity, "with_pag: a None among the layers", lambda e: pipelines.with_pag(e.sd, layers=["mid", None]), "layers"),
        Case(related, "write_tiny_ip_adapter: the pipeline for the unet", lambda e: pag_recipes.write_tiny_ip_adapter(e.sd, None, TMP), "unet"),
        Case(related, "write_tiny_ip_adapter: the text encoder for the image_encoder", lambda e: pag_recipes.write_tiny_ip_adapter(e.sd.unet, e.sd.text_encoder, TMP), "image_encoder"),
        Case(related, "count_calls: the bound forward method", lambda e: hooks.count_calls(e.sd.unet.forward), "module"),
        Case(types, "CallCounter: argument a tuple of names", lambda e: hooks.CallCounter(e.sd.unet, argument=("sample",)), "argument"),
        # --- helpers.book.plotting, widgets ----------------------------------------------------------
        Case(shape, "to_array: a batch tensor (1, 3, H, W)", lambda e: plotting.to_array(torch.rand(1, 3, 8, 8)), "image"),
        Case(arity, "image_grid: more titles than images", lambda e: plotting.image_grid([IMAGE], titles=["a", "b"]), "titles"),
        Case(types, "image_grid: a file name among the images", lambda e: plotting.image_grid([IMAGE, "cat.png"]), "images"),
        Case(rng, "image_grid: size NaN", lambda e: plotting.image_grid([IMAGE], size=NAN), "size"),
        Case(empty, "line_plot: a series with no points", lambda e: plotting.line_plot({"a": ([], [])}, "x", "y"), "series"),
        Case(types, "line_plot: marker an int", lambda e: plotting.line_plot({"a": ([1, 2], [1, 2])}, "x", "y", marker=3), "marker"),
        Case(related, "widgets.show: the widget itself, not a function building it", lambda e: widgets.show(__import__("ipywidgets").IntSlider()), "build"),
        # --- helpers.research.signatures, models.flops, models.full_size -----------------------------
        Case(related, "call_parameters: the __call__ function", lambda e: signatures.call_parameters(StableDiffusionPipeline.__call__), "pipeline"),
        Case(types, "computed_size: width as a string", lambda e: signatures.computed_size(e.sd, "a cat", width="512"), "width"),
        Case(related, "count_params: the UNet class", lambda e: flops.count_params(UNet2DConditionModel), "model"),
        Case(related, "build_on_meta: an instance for cls", lambda e: flops.build_on_meta(e.sd.unet, {}), "cls"),
        Case(types, "build_on_meta: a config value as a string", lambda e: flops.build_on_meta(UNet2DConditionModel, {"sample_size": "64"}), "config"),
        Case(names, "spec: 'SD15-UNet' in capitals", lambda e: full_size.spec("SD15-UNet"), "name"),
        Case(rng, "forward_cost: a negative height", lambda e: full_size.forward_cost("sd15-unet", height=-512, width=512), "height"),
        Case(numpy, "wuerstchen_latent_sizes: np.float64 height", lambda e: full_size.wuerstchen_latent_sizes(np.float64(1024), 1024), "height"),
        # --- helpers.research.mixture, convergence, a1111_parity ------------------------------------
        Case(numpy, "GaussianMixture.random: dim np.float64(4)", lambda e: mx.GaussianMixture.random(dim=np.float64(4)), "dim"),
        Case(shape, "GaussianMixture: means for 3 components, stds for 2", lambda e: mx.GaussianMixture(torch.zeros(3, 2), torch.ones(2), torch.full((2,), 0.5)), "means"),
        Case(related, "sample: the Generator class", lambda e: e.mixture.sample(2, generator=torch.Generator), "generator"),
        Case(shape, "denoise: one sigma per component, not per sample", lambda e: e.mixture.denoise(e.z, torch.tensor([1.0, 2.0, 3.0])), "sigma"),
        Case(rng, "run: a repeated timestep", lambda e: mx.run(EulerDiscreteScheduler.from_config(e.sd15_config), e.mixture, e.z, [999, 999, 1]), "steps"),
        Case(names, "run: start 'Scheduler'", lambda e: mx.run(EulerDiscreteScheduler.from_config(e.sd15_config), e.mixture, e.z, 3, start="Scheduler"), "start"),
        Case(empty, "check_steps: an empty list", lambda e: mx.check_steps([]), "steps"),
        Case(types, "sweep: progress 'yes'", lambda e: convergence.sweep([e.conv_case], e.mixture, e.z, [2], progress="yes"), "progress"),
        Case(related, "sweep: schedulers instead of Cases", lambda e: convergence.sweep([e.euler], e.mixture, e.z, [2]), "cases"),
        Case(types, "fit_orders: last 2.0", lambda e: convergence.fit_orders(e.results, last=2.0), "last"),
        Case(related, "default_cases: a scheduler for base_config", lambda e: convergence.default_cases(e.euler), "base_config"),
        Case(names, "a1111_sigmas: 'euler' in lower case", lambda e: a1111_parity.a1111_sigmas("euler", 10, e.alphas), "name"),
        Case(rng, "parity_row: steps 0", lambda e: a1111_parity.parity_row("Euler", steps=0), "steps"),
        Case(types, "parity_table: seed '0'", lambda e: a1111_parity.parity_table(["Euler"], seed="0"), "seed"),
        # --- helpers.toy -----------------------------------------------------------------------------
        Case(names, "caption: 'Red' capitalised", lambda e: world.caption("Red", "circle", "left"), "colour"),
        Case(types, "render: size 16.0", lambda e: world.render(world.Scene("red", "circle", "left"), size=16.0), "size"),
        Case(types, "make_dataset: n 2.0", lambda e: world.make_dataset(2.0), "n"),
        Case(rng, "read_one: an image in [-1, 1]", lambda e: scorer.read_one(e.world_images[0] * 2 - 1), "image"),
        Case(arity, "score: more captions than images", lambda e: scorer.score(e.world_images, [A, A, B]), "captions"),
        Case(names, "score: a caption outside the world", lambda e: scorer.score(e.world_images[:1], ["a purple cat"]), "captions"),
        Case(rng, "generate: negative guidance_scale", lambda e: evaluate.generate(e.toy, [A], guidance_scale=-1.0, steps=1), "guidance_scale"),
        Case(names, "generate: height in **call (the helper sets it)", lambda e: evaluate.generate(e.toy, [A], steps=1, height=64), "height"),
        Case(rng, "sample_accuracy: n 0", lambda e: evaluate.sample_accuracy(e.toy, n=0, steps=1), "n"),
        Case(names, "caption_path: method 'Slerp'", lambda e: interpolate.caption_path(e.toy, A, B, [0.0, 1.0], method="Slerp"), "method"),
        Case(names, "caption_path: half a caption", lambda e: interpolate.caption_path(e.toy, "a red circle", B, [0.0, 1.0]), "caption_a"),
        Case(shape, "render: embeddings without the path axis", lambda e: interpolate.render(e.toy, e.toy_embeds[0], [0], steps=1), "prompt_embeds"),
        Case(shape, "endpoint_shares: frames without the seed axis", lambda e: interpolate.endpoint_shares(np.zeros((2, 32, 32, 3)), A, B), "frames"),
        Case(types, "crossing: values as strings", lambda e: interpolate.crossing([0.0, 0.5, 1.0], ["0.1", "0.4", "0.9"]), "values"),
        Case(rng, "crossing: ts decreasing", lambda e: interpolate.crossing([1.0, 0.5, 0.0], [0.1, 0.4, 0.9]), "ts"),
        Case(rng, "stage_c: prior_guidance_scale NaN", lambda e: toy_wuerstchen.stage_c(e.toy_wuerstchen, [A], prior_guidance_scale=NAN, steps=1), "prior_guidance_scale"),
        Case(arity, "generate (Würstchen): one seed for two captions", lambda e: toy_wuerstchen.generate(e.toy_wuerstchen, [A, B], seeds=[0], prior_steps=1, decoder_steps=1), "seeds"),
        Case(types, "sample_accuracy (Würstchen): n 1.5", lambda e: toy_wuerstchen.sample_accuracy(e.toy_wuerstchen, n=1.5), "n"),
    ]  # fmt: skip


def _controls() -> list[Case]:

    import helpers
    from helpers import black_images, interpolation, pipelines, schedulers, seeds
    from helpers.book import plotting
    from helpers.research import a1111_parity, signatures
    from helpers.research import mixture as mx
    from helpers.toy import interpolate, scorer

    numpy, other = "numpy/0-d", "legal input"
    return [
        Case(numpy, "setup: seed np.uint32(3)", lambda e: helpers.setup(profile="tiny", device="cpu", seed=np.uint32(3)), "seed",
             check=lambda ctx: type(ctx.seed) is int and ctx.seed == 3),
        Case(numpy, "approx: a 0-d array value", lambda e: helpers.approx(np.array(0.25), rtol=0.01, why="spread between CPU kernels"), "value",
             check=lambda a: type(a.value) is float and a.value == 0.25),  # exact: 0.25 is a float64
        Case(numpy, "slerp: t a 0-d array (as a float)", lambda e: interpolation.slerp(U, V, np.array(0.5)), "t",
             check=lambda out: tuple(out.shape) == tuple(U.shape)),  # a float t gives a's shape, as a 0-d tensor t does
        Case(numpy, "schedule: steps np.int64(10)", lambda e: schedulers.schedule(e.euler, np.int64(10)), "steps",
             check=lambda s: len(s.timesteps) == 10),
        Case(numpy, "batch_generators: seed np.uint64(5)", lambda e: seeds.batch_generators(np.uint64(5), 2), "seed",
             check=lambda gens: [g.initial_seed() for g in gens] == [5, 5]),
        Case(numpy, "a1111_timesteps: steps np.int64(10)", lambda e: mx.a1111_timesteps(np.int64(10)), "steps",
             check=lambda ts: len(ts) == 10 and all(type(t) is int for t in ts)),
        Case(other, "crossing: an array of ts, a tensor of values", lambda e: interpolate.crossing(np.array([0.0, 0.5, 1.0]), torch.tensor([0.0, 0.4, 0.8])), "ts",
             check=lambda t: abs(t - 0.625) < 1e-6),  # float32 values: 0.4 is 0.4000000059...
        Case(other, "image_grid: a (3, H, W) tensor in [0, 1]", lambda e: plotting.image_grid([torch.rand(3, 8, 8)]), "images",
             check=lambda fig: len(fig.axes) >= 1),
        Case(other, "read: a list of PIL images", lambda e: scorer.read(e.pictures), "images",
             check=lambda readings: len(readings) == 2),
        Case(other, "a1111_sigmas: alphas_cumprod as a NumPy array", lambda e: (a1111_parity.a1111_sigmas("Euler", 10, e.alphas.numpy()), a1111_parity.a1111_sigmas("Euler", 10, e.alphas)), "alphas_cumprod",
             check=lambda pair: torch.allclose(torch.as_tensor(pair[0]).double(), pair[1].double())),
        Case(other, "to_array: a 2-d grey image (documented: HxW)", lambda e: plotting.to_array(np.zeros((8, 8))), "image",
             check=lambda a: a.shape == (8, 8) and a.dtype == np.float32),
        Case(other, "orthogonal_direction: away an empty list (nothing to remove)", lambda e: black_images.orthogonal_direction(torch.ones(3), []), "away",
             check=lambda d: torch.allclose(d, torch.ones(3) / 3**0.5)),
        Case(other, "group_of: an unknown (empty) name (documented: 'model-specific')", lambda e: signatures.group_of(""), "name",
             check=lambda g: g == "model-specific"),
        Case(other, "load: sd15 in float64 on the CPU", lambda e: pipelines.load("sd15", e.ctx, dtype=torch.float64), "dtype",
             check=lambda pipe: pipe.unet.dtype == torch.float64),
    ]  # fmt: skip


def _module_of(label: str) -> str:
    """The helpers module a case exercises, from its label's function name (for the per-module table)."""
    return label.split(":")[0].split(" (")[0].split(".")[0]


MODULES = {
    "setup": "runtime", "ctx": "runtime", "approx": "record", "record": "record", "still_true": "claims",
    "error_message": "claims", "needs": "claims", "load": "pipelines", "from_pretrained": "pipelines",
    "family": "pipelines", "with_pag": "pipelines", "swap": "schedulers", "make": "schedulers", "lookup": "schedulers",
    "schedule": "schedulers", "explain": "schedulers", "check_settings": "schedulers", "a1111_name": "schedulers",
    "a1111_seeds": "seeds", "a1111_latents": "seeds", "A1111Noise": "seeds", "PhiloxGenerator": "seeds",
    "recorded_draws": "seeds", "batch_generators": "seeds", "parse": "prompts", "chunk": "prompts", "encode": "prompts",
    "weight": "prompts", "encode_prompt": "prompts", "prompt_embeds": "prompts", "slerp": "interpolation",
    "lerp": "interpolation", "angle_between": "interpolation", "interpolate_prompts": "interpolation",
    "prompt_path": "interpolation", "set_concepts": "black_images", "why_black": "black_images",
    "orthogonal_direction": "black_images", "unit": "black_images", "optimize": "gpu", "check_layers": "pag",
    "layer_matches": "pag", "write_tiny_ip_adapter": "pag_recipes", "count_calls": "hooks", "CallCounter": "hooks",
    "to_array": "plotting", "image_grid": "plotting", "line_plot": "plotting", "widgets": "widgets",
    "call_parameters": "signatures", "computed_size": "signatures", "group_of": "signatures", "count_params": "flops",
    "build_on_meta": "flops", "spec": "full_size", "forward_cost": "full_size", "wuerstchen_latent_sizes": "full_size",
    "GaussianMixture": "mixture", "sample": "mixture", "denoise": "mixture", "run": "mixture", "check_steps": "mixture",
    "a1111_timesteps": "mixture", "sweep": "convergence", "fit_orders": "convergence", "default_cases": "convergence",
    "a1111_sigmas": "a1111_parity", "parity_row": "a1111_parity", "parity_table": "a1111_parity",
    "caption": "toy.world", "render": "toy", "make_dataset": "toy.world", "read_one": "toy.scorer",
    "score": "toy.scorer", "read": "toy.scorer", "generate": "toy", "sample_accuracy": "toy",
    "caption_path": "toy.interpolate", "endpoint_shares": "toy.interpolate", "crossing": "toy.interpolate",
    "stage_c": "toy.wuerstchen",
}  # fmt: skip


def module_of(case: Case) -> str:
    name = _module_of(case.label)
    if "(Würstchen)" in case.label:
        return "toy.wuerstchen"
    if name == "render":
        return "toy.interpolate" if "embeddings" in case.label else "toy.world"
    if name in ("generate", "sample_accuracy"):
        return "toy.evaluate"
    return MODULES.get(name, name)


def main() -> int:
    args = batch1.arguments(__doc__.splitlines()[0])
    return report(_cases(), _controls(), Env(), desc="held-out cases", module_of=module_of, verbose=args.verbose,
                  kind=args.kind, start=args.start, noun="held-out cases")


if __name__ == "__main__":
    raise SystemExit(main())
