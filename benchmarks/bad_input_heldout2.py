"""A second held-out batch of careless-user mistakes: do the refusals of helpers/ generalise further?

    FIELDNOTES_CACHE=$PWD/_build/tiny-cache HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bad_input_heldout2.py [--verbose] [--kind KIND]

benchmarks/bad_input.py measured one batch, benchmarks/bad_input_heldout.py a held-out one; helpers/ was fixed
against both. This batch is new again: none of its cases is a case of those two scripts, of
tests/test_bad_input_*.py or (as far as a skim shows) of the other tests. It reaches modules the earlier
batches left out or barely touched (chapter, ledger, shipped_configs, mirror, moved, tiny, stable_unclip,
toy.train, toy.models, toy.profile) as well as the usual ones, and it adds mistakes of a kind the earlier
batches had few of: keyword arguments a helper does not take (a typo, or an argument of a sibling helper),
typos in keys *inside* dict arguments, a Context or a class where a pipeline, module or instance is expected,
arguments swapped, and a list where one item is expected (and vice versa).

It is a measurement, not a test: nothing here is fixed, and a low share clear is a finding. Classification
is benchmarks/bad_input.py's own (`classify`, reached through benchmarks/bad_input_heldout.py, whose
fixtures `Env` also extends), so the three scores compare:

- clear: an exception raised by a `raise` statement in helpers/ (the innermost frame), whose message names the
  argument (the case's `argument`, in full, as a word) and says what is accepted;
- vague: raised in helpers/, but the message misses the argument's name or what is accepted, or a call or an
  operator failed on a helpers/ line;
- deep: raised inside torch, diffusers, transformers, NumPy or Python itself (a keyword the helper does not
  take ends here: Python's own "unexpected keyword argument" names it, but says nothing of what is accepted);
- silent: no exception: the call went on with a wrong or meaningless value.

Controls are legal inputs (NumPy scalars, 0-d arrays and tensors of the right kind, documented alternative
forms such as one caption for all images, an empty prompt) that must be accepted with the right result
("accepted"); "refused" (over-strict) or "silent" (accepted, wrong result) otherwise. They do not count in the
share clear. Runs on the CPU in well under a minute.
"""

from __future__ import annotations

import datetime
import importlib.util
import sys
import tempfile
from functools import cached_property
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np
import torch

# the held-out batch, which itself loads benchmarks/bad_input.py: its classifier, Case record and fixtures
_spec = importlib.util.spec_from_file_location("bad_input_heldout_batch", ROOT / "benchmarks" / "bad_input_heldout.py")
heldout = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = heldout
_spec.loader.exec_module(heldout)
Case, classify, report = heldout.Case, heldout.classify, heldout.report

NAN, INF = float("nan"), float("inf")
A, B = "a red circle on the left", "a blue square on the right"
IMAGE = np.linspace(0, 1, 8 * 8 * 3).reshape(8, 8, 3)
U, V = torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 1.0, 0.0])
TMP = Path(tempfile.mkdtemp(prefix="heldout2-"))
MATRIX = {"claims": [], "releases": [{"diffusers": "0.42.1", "claims": {}}]}

MODULE: dict[str, str] = {}  # case label -> helpers module, for the per-module table


def case(module: str, kind: str, label: str, call, argument: str, check=None) -> Case:
    MODULE[label] = module
    return Case(kind, label, call, argument, check)


class Env(heldout.Env):
    """The fixtures of the two earlier batches, and what this one needs besides, built on first use."""

    @cached_property
    def variation(self):
        return self.load("unclip-image-variation")

    @cached_property
    def picture(self):
        return self.pictures[0]

    @cached_property
    def latents(self):
        return torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(0))

    @cached_property
    def clip_pixels(self):
        return torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))

    @cached_property
    def image_encoder(self):
        from helpers.models import tiny

        return tiny.clip_vision_model()

    @cached_property
    def frames(self):
        return np.stack([self.world_images[:1], self.world_images[1:]])  # (2 points, 1 seed, 32, 32, 3)


def enter(manager):
    """Run a context manager's set-up (where its arguments are checked) with an empty body."""
    with manager:
        pass
    return manager


def _cases() -> list[Case]:
    from diffusers import DDIMScheduler, EulerDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from diffusers.pipelines.stable_diffusion import StableDiffusionPipelineOutput

    import helpers
    from helpers import black_images, gpu, interpolation, pag, pipelines, prompts, schedulers, seeds
    from helpers.book import chapter, claims, ledger, plotting, widgets
    from helpers.models import flops, full_size, mirror, moved, pag_recipes, shipped_configs, tiny
    from helpers.research import a1111_parity, convergence, hooks, signatures, stable_unclip
    from helpers.research import mixture as mx
    from helpers.runtime import Context
    from helpers.toy import evaluate, interpolate, models, profile, scorer, train, train_wuerstchen, world
    from helpers.toy import wuerstchen as toy_wuerstchen

    why = "spread between CPU kernels"
    types, numpy, rng, empty, names, related, arity, shape, keyword = (
        "wrong type", "numpy/0-d", "range/NaN/inf", "empty", "name/key typo", "related object", "one vs many",
        "shape/dtype/layout", "unknown keyword",
    )  # fmt: skip
    return [
        # --- runtime: setup / Context -----------------------------------------------------------------
        case("runtime", keyword, "setup: seed misspelt 'seeed'", lambda e: helpers.setup(profile="tiny", device="cpu", seeed=1), "seeed"),
        case("runtime", arity, "setup: device as a list", lambda e: helpers.setup(profile="tiny", device=["cpu"]), "device"),
        case("runtime", arity, "ctx.generators: a list of seeds", lambda e: e.ctx.generators(3, seed=[1, 2, 3]), "seed"),
        case("runtime", numpy, "ctx.generators: n a 1-element array", lambda e: e.ctx.generators(np.array([2])), "n"),
        # --- record / chapter ---------------------------------------------------------------------------
        case("record", rng, "record: a NaN inside a list", lambda e: helpers.record(steps=[1.0, 2.0, NAN]), "steps"),
        case("record", types, "record: a datetime.date", lambda e: helpers.record(date=datetime.date(2024, 1, 1)), "date"),
        case("record", rng, "approx: negative atol", lambda e: helpers.approx(0.5, rtol=0.01, atol=-1.0, why=why), "atol"),
        case("record", keyword, "approx: 'reason' for why", lambda e: helpers.approx(0.5, rtol=0.01, reason=why), "reason"),
        case("chapter", numpy, "significant: digits np.float64(3.0)", lambda e: chapter.significant(0.0012345, np.float64(3.0)), "digits"),
        case("chapter", shape, "significant: a tensor of two values", lambda e: chapter.significant(torch.tensor([1.5, 2.5])), "value"),
        case("chapter", rng, "significant: a 0-d NaN tensor", lambda e: chapter.significant(torch.tensor(NAN)), "value"),
        # --- claims / ledger ----------------------------------------------------------------------------
        case("claims", empty, "still_true: a whitespace statement", lambda e: enter(claims.still_true("a-claim", "   ")), "statement"),
        case("claims", types, "needs: the owner by name", lambda e: claims.needs("torch", "Generator"), "owner"),
        case("claims", types, "error_message: a string inside the expect tuple", lambda e: claims.error_message(int, "x", expect=(ValueError, "TypeError")), "expect"),
        case("claims", names, "needs_weights: snake_case finding id", lambda e: enter(claims.needs_weights("weights_show_cats", "cats show")), "finding"),
        case("ledger", types, "statuses: release as a float", lambda e: ledger.statuses(MATRIX, 0.42), "release"),
        case("ledger", related, "scan: a chapter file for the folder", lambda e: ledger.scan(ROOT / "notebooks" / "00-pipeline-zoo.md"), "notebooks"),
        case("ledger", names, "table: a matrix without 'claims'", lambda e: ledger.table({"releases": []}), "matrix"),
        # --- pipelines ------------------------------------------------------------------------------------
        case("pipelines", related, "load: ctx and name swapped", lambda e: pipelines.load(e.ctx, "sd15"), "name"),
        case("pipelines", types, "load: a string inside the per-component dtype dict", lambda e: pipelines.load("sd15", e.ctx, dtype={"unet": "float16"}), "dtype"),
        case("pipelines", empty, "load: an empty model_id", lambda e: pipelines.load("sd15", e.ctx, model_id=""), "model_id"),
        case("pipelines", arity, "load: a list of schedulers", lambda e: pipelines.load("sd15", e.ctx, scheduler=[e.euler]), "scheduler"),
        case("pipelines", keyword, "load: device= (the ctx's job)", lambda e: pipelines.load("sd15", e.ctx, device="cpu"), "device"),
        case("pipelines", related, "model_id: a Family for the key", lambda e: pipelines.model_id(pipelines.family("sd15")), "key"),
        case("pipelines", related, "default_call_kwargs: the Context class", lambda e: pipelines.default_call_kwargs("sd15", Context), "ctx"),
        case("pipelines", related, "with_pag: the UNet for the pipe", lambda e: pipelines.with_pag(e.sd.unet, "mid"), "pipe"),
        case("pipelines", names, "mirror_folder: a family key, not org/name", lambda e: pipelines.mirror_folder("sd15"), "model_id"),
        # --- schedulers -----------------------------------------------------------------------------------
        case("schedulers", names, "make: a typo key inside base_config", lambda e: schedulers.make("Euler", e.config(use_karras_sigma=True)), "use_karras_sigma"),
        case("schedulers", rng, "make: solver_order 5", lambda e: schedulers.make("DPM++ 2M", e.sd15_config, solver_order=5), "solver_order"),
        case("schedulers", rng, "make DDIM: beta_start inf in the config", lambda e: schedulers.make("DDIM", e.config(beta_start=INF)), "beta_start"),
        case("schedulers", arity, "make: timestep_spacing a list", lambda e: schedulers.make("Euler", e.sd15_config, timestep_spacing=["leading"]), "timestep_spacing"),
        case("schedulers", types, "schedule: steps True", lambda e: schedulers.schedule(e.euler, True), "steps"),
        case("schedulers", related, "accepted_keys: the class name for cls", lambda e: schedulers.accepted_keys("EulerDiscreteScheduler"), "cls"),
        case("schedulers", arity, "setting_values: key as a list", lambda e: schedulers.setting_values(EulerDiscreteScheduler, ["timestep_spacing"]), "key"),
        case("schedulers", related, "edited_keys: the scheduler for its config", lambda e: schedulers.edited_keys(e.euler), "config"),
        case("schedulers", keyword, "explain: 'taget' typo", lambda e: schedulers.explain(e.euler, taget=DDIMScheduler), "taget"),
        case("schedulers", arity, "lookup: a list of names", lambda e: schedulers.lookup(["Euler"]), "name"),
        case("schedulers", keyword, "swap: config= as an override", lambda e: schedulers.swap(e.load("sd15"), "Euler", config=e.sd15_config), "config"),
        case("schedulers", related, "swap: the Context for the pipe", lambda e: schedulers.swap(e.ctx, "Euler"), "pipe"),
        # --- seeds ----------------------------------------------------------------------------------------
        case("seeds", arity, "batch_generators: n a list", lambda e: seeds.batch_generators(0, [1, 2]), "n"),
        case("seeds", types, "a1111_seeds: subseed a float", lambda e: seeds.a1111_seeds(0, 2, subseed=5.0, subseed_strength=0.5), "subseed"),
        case("seeds", names, "a1111_latents: source 'cuda' (the name is 'gpu')", lambda e: seeds.a1111_latents(0, (4, 8, 8), source="cuda"), "source"),
        case("seeds", shape, "a1111_latents: seed_resize_from one number in a tuple", lambda e: seeds.a1111_latents(0, (4, 8, 8), seed_resize_from=(64,)), "seed_resize_from"),
        case("seeds", rng, "PhiloxGenerator.randn: a negative size", lambda e: seeds.PhiloxGenerator(0).randn((-4, 8)), "shape"),
        case("seeds", shape, "philox4x32_10: counter of 3 words", lambda e: seeds.philox4x32_10(np.zeros((3, 2), np.uint32), np.zeros(2, np.uint32)), "counter"),
        case("seeds", rng, "A1111Noise: subseed_strength inf", lambda e: seeds.A1111Noise([1, 2], (4, 8, 8), subseeds=[3, 4], subseed_strength=INF), "subseed_strength"),
        # --- prompts --------------------------------------------------------------------------------------
        case("prompts", rng, "chunk: negative comma_backtrack", lambda e: prompts.chunk(prompts.parse("a, b"), e.tokenizer, comma_backtrack=-1), "comma_backtrack"),
        case("prompts", rng, "weight: NaN weights", lambda e: prompts.weight(e.z_text, torch.full((77,), NAN)), "weights"),
        case("prompts", shape, "weight: empty= of another width with the default method (which ignores it)", lambda e: prompts.weight(e.z_text, torch.ones(77), empty=torch.zeros(1, 77, 5)), "empty"),
        case("prompts", types, "encode_prompt: layer 'penultimate'", lambda e: prompts.encode_prompt("a cat", e.tokenizer, e.encoder, layer="penultimate"), "layer"),
        case("prompts", types, "prompt_embeds: negative_prompt None", lambda e: prompts.prompt_embeds(e.sd, "a cat", negative_prompt=None), "negative_prompt"),
        # --- interpolation --------------------------------------------------------------------------------
        case("interpolation", rng, "lerp: t inf", lambda e: interpolation.lerp(U, V, INF), "t"),
        case("interpolation", shape, "angle_between: vectors of other lengths", lambda e: interpolation.angle_between(U, V[:2]), "b"),
        case("interpolation", shape, "encode_image: a tensor without the batch axis", lambda e: interpolation.encode_image(e.variation, torch.rand(3, 32, 32)), "image"),
        case("interpolation", arity, "interpolate_prompts: a list of generators", lambda e: interpolation.interpolate_prompts(e.unclip, "a cat", "a dog", 2, generator=e.ctx.generators(2)), "generator"),
        case("interpolation", keyword, "prompt_path: method= (toy caption_path's)", lambda e: interpolation.prompt_path(e.unclip, "a cat", "a dog", [0.0, 1.0], method="lerp"), "method"),
        # --- black_images ---------------------------------------------------------------------------------
        case("black_images", rng, "unit: an inf entry", lambda e: black_images.unit(torch.tensor([1.0, INF])), "vector"),
        case("black_images", rng, "orthogonal_direction: NaN in away", lambda e: black_images.orthogonal_direction(torch.ones(3), [torch.tensor([NAN, 0.0, 0.0])]), "away"),
        case("black_images", types, "set_concepts: a string index in special_thresholds", lambda e: black_images.set_concepts(e.checker, special_thresholds={"0": 0.1}), "special_thresholds"),
        case("black_images", arity, "why_black: two images, one flag", lambda e: black_images.why_black(StableDiffusionPipelineOutput(np.zeros((2, 8, 8, 3), np.float32), [False]), e.sd), "output"),
        case("black_images", empty, "captured_logs: an empty name", lambda e: enter(black_images.captured_logs("")), "name"),
        case("black_images", rng, "overflowing_vae: headroom 1", lambda e: black_images.overflowing_vae(e.sd.vae, e.latents, headroom=1.0), "headroom"),
        case("black_images", shape, "peak_activations: latents without the batch axis", lambda e: black_images.peak_activations(e.sd.vae, e.latents[0]), "latents"),
        case("black_images", rng, "decide: raw 0..255 pixels for clip_input (not the normalised pixel_values)", lambda e: black_images.decide(e.checker, torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0)) * 255), "clip_input"),
        # --- gpu --------------------------------------------------------------------------------------------
        case("gpu", names, "optimize: a typo key inside group_offload", lambda e: gpu.optimize(e.load("sd15"), e.ctx, "vanilla", group_offload={"num_blocks_per_grup": 1}), "group_offload"),
        case("gpu", types, "optimize: compile dynamic 'auto'", lambda e: gpu.optimize(e.load("sd15"), e.ctx, "vanilla", compile={"dynamic": "auto"}), "dynamic"),
        case("gpu", arity, "optimize: goal as a list", lambda e: gpu.optimize(e.load("sd15"), e.ctx, ["speed"]), "goal"),
        case("gpu", related, "placement: the UNet for the pipe", lambda e: gpu.placement(e.sd.unet), "pipe"),
        case("gpu", related, "denoiser_name: the pipeline class", lambda e: gpu.denoiser_name(StableDiffusionPipeline), "pipe"),
        # --- pag, pag_recipes, hooks ------------------------------------------------------------------------
        case("pag", rng, "check_layers: 'mid|' (an empty alternative matches every layer)", lambda e: pag.check_layers(e.sd.unet, "mid|"), "layers"),
        case("pag", types, "layer_matches: a dict of layers", lambda e: pag.layer_matches(e.sd.unet, {"mid": 1.0}), "layers"),
        case("pag_recipes", rng, "write_tiny_ip_adapter: std NaN", lambda e: pag_recipes.write_tiny_ip_adapter(e.sd.unet, e.image_encoder, TMP / "ip", std=NAN), "std"),
        case("hooks", related, "count_calls: the UNet class", lambda e: hooks.count_calls(UNet2DConditionModel), "module"),
        case("hooks", arity, "count_calls: a list of modules", lambda e: hooks.count_calls([e.sd.unet, e.sd.vae]), "module"),
        # --- plotting, widgets --------------------------------------------------------------------------------
        case("plotting", shape, "to_array: a 2-channel image", lambda e: plotting.to_array(np.zeros((8, 8, 2))), "image"),
        case("plotting", types, "image_grid: suptitle a number", lambda e: plotting.image_grid([IMAGE, IMAGE], suptitle=3), "suptitle"),
        case("plotting", rng, "line_plot: an inf y value on a log axis", lambda e: plotting.line_plot({"a": ([1, 2], [1.0, INF])}, "x", "y", logy=True), "series"),
        case("widgets", arity, "show: a list of builders", lambda e: widgets.show([lambda: __import__("ipywidgets").IntSlider()]), "build"),
        # --- signatures, flops, full_size, shipped_configs ----------------------------------------------------
        case("signatures", rng, "computed_size: a negative height", lambda e: signatures.computed_size(e.sd, "a cat", height=-64), "height"),
        case("signatures", arity, "doc_disagreements: the pipelines as one list", lambda e: signatures.doc_disagreements([StableDiffusionPipeline]), "pipelines"),
        case("flops", related, "count_params: a state_dict", lambda e: flops.count_params(e.sd.unet.state_dict()), "model"),
        case("flops", rng, "build_on_meta: a NaN config value", lambda e: flops.build_on_meta(UNet2DConditionModel, {"sample_size": NAN}), "config"),
        case("full_size", types, "forward_cost: batch True", lambda e: full_size.forward_cost("sd15-vae-decoder", batch=True), "batch"),
        case("full_size", arity, "spec: a list of names", lambda e: full_size.spec(["sd15-unet"]), "name"),
        case("shipped_configs", names, "checkpoint: config name in lower case", lambda e: shipped_configs.checkpoint("sd15_unet_config"), "name"),
        # --- mirror, moved, tiny, stable_unclip ---------------------------------------------------------------
        case("mirror", types, "list_ids: a Path for mirror", lambda e: mirror.list_ids(Path("/data/mirror")), "mirror"),
        case("mirror", names, "components: 'SD15' in capitals", lambda e: mirror.components("SD15"), "name"),
        case("mirror", related, "tiny_vae8: the pipeline for like", lambda e: mirror.tiny_vae8(e.sd), "like"),
        case("moved", names, "package: 'Unclip' capitalised", lambda e: moved.package("Unclip"), "name"),
        case("moved", types, "loading_options: a list of pairs", lambda e: moved.loading_options([("dtype", torch.float16)]), "options"),
        case("tiny", rng, "clip_text_config: negative intermediate_size", lambda e: tiny.clip_text_config(e.tokenizer, intermediate_size=-1), "intermediate_size"),
        case("tiny", numpy, "vae: sample_size np.float64(64)", lambda e: tiny.vae(np.float64(64.0)), "sample_size"),
        case("stable_unclip", related, "embedding_widths: an SD pipeline for stable", lambda e: stable_unclip.embedding_widths(e.unclip, e.sd), "stable"),
        # --- mixture, convergence, a1111_parity -------------------------------------------------------------------
        case("mixture", rng, "GaussianMixture.random: NaN in std_range", lambda e: mx.GaussianMixture.random(dim=4, std_range=(0.1, NAN)), "std_range"),
        case("mixture", arity, "sample: a list of generators", lambda e: e.mixture.sample(2, generator=e.ctx.generators(2)), "generator"),
        case("mixture", shape, "component: x of the wrong dim", lambda e: e.mixture.component(e.z[:, :3]), "x"),
        case("mixture", rng, "training_sigmas: an alpha above 1", lambda e: mx.training_sigmas(torch.tensor([0.99, 0.5, 1.5])), "alphas_cumprod"),
        case("mixture", arity, "spread: one label for two samples", lambda e: mx.spread(e.z, e.mixture, labels=torch.tensor([0])), "labels"),
        case("mixture", arity, "reference: sigma_max in a list", lambda e: mx.reference(e.mixture, e.z, [14.6]), "sigma_max"),
        case("mixture", rng, "a1111_timesteps: num_train_timesteps 0", lambda e: mx.a1111_timesteps(10, num_train_timesteps=0), "num_train_timesteps"),
        case("convergence", types, "plot_convergence: stochastic 'no'", lambda e: convergence.plot_convergence(e.results, stochastic="no"), "stochastic"),
        case("a1111_parity", numpy, "a1111_sigmas: steps np.float64(10.0)", lambda e: a1111_parity.a1111_sigmas("Euler", np.float64(10.0), e.alphas), "steps"),
        case("a1111_parity", related, "diffusers_sigmas: the scheduler class", lambda e: a1111_parity.diffusers_sigmas(EulerDiscreteScheduler, 10), "scheduler"),
        case("a1111_parity", rng, "parity_row: samples 0", lambda e: a1111_parity.parity_row("Euler", samples=0), "samples"),
        case("a1111_parity", related, "parity_table: a pipeline as base_config", lambda e: a1111_parity.parity_table(["Euler"], base_config=e.sd), "base_config"),
        # --- toy -------------------------------------------------------------------------------------------------
        case("toy.world", names, "caption: plural 'circles'", lambda e: world.caption("red", "circles", "left"), "shape"),
        case("toy.world", arity, "parse_caption: a list of captions", lambda e: world.parse_caption([A]), "text"),
        case("toy.world", shape, "coverage: a centre of one number", lambda e: world.coverage("circle", (16.0,), 5.0), "centre"),
        case("toy.world", types, "random_scene: a seed for the rng", lambda e: world.random_scene(0), "rng"),
        case("toy.world", rng, "Scene: negative half_size", lambda e: world.Scene("red", "circle", "left", half_size=-3.0), "half_size"),
        case("toy.scorer", shape, "as_images: a channels-first tensor batch", lambda e: scorer.as_images(torch.rand(2, 3, 32, 32)), "images"),
        case("toy.scorer", types, "score: a number among the captions", lambda e: scorer.score(e.world_images, [A, 7]), "captions"),
        case("toy.scorer", empty, "accuracy: no verdicts", lambda e: scorer.accuracy([]), "verdicts"),
        case("toy.evaluate", related, "generate: the Context for the pipe", lambda e: evaluate.generate(e.ctx, [A], steps=1), "pipe"),
        case("toy.evaluate", rng, "generate: guidance_scale inf", lambda e: evaluate.generate(e.toy, [A], guidance_scale=INF, steps=1), "guidance_scale"),
        case("toy.interpolate", rng, "caption_path: t 1.5", lambda e: interpolate.caption_path(e.toy, A, B, [0.0, 1.5]), "t"),
        case("toy.interpolate", rng, "render: steps 0", lambda e: interpolate.render(e.toy, e.toy_embeds, [0], steps=0), "steps"),
        case("toy.interpolate", names, "endpoint_shares: caption_b outside the world", lambda e: interpolate.endpoint_shares(e.frames, A, "a purple cat"), "caption_b"),
        case("toy.interpolate", arity, "crossing: fewer values than ts", lambda e: interpolate.crossing([0.0, 0.5, 1.0], [0.1, 0.4]), "values"),
        case("toy.wuerstchen", shape, "image_embedding: channels-last images", lambda e: toy_wuerstchen.image_embedding(torch.rand(2, 32, 32, 3)), "images"),
        case("toy.wuerstchen", arity, "stages_ba: one caption for two embeddings", lambda e: toy_wuerstchen.stages_ba(e.toy_wuerstchen, torch.rand(2, 12, 4, 4), [A], steps=1), "captions"),
        case("toy.wuerstchen", keyword, "stage_c: guidance_scale= (it is prior_guidance_scale)", lambda e: toy_wuerstchen.stage_c(e.toy_wuerstchen, [A], steps=1, guidance_scale=2.0), "guidance_scale"),
        case("toy.wuerstchen", related, "combine: the combined pipeline for the prior", lambda e: toy_wuerstchen.combine(e.toy_wuerstchen, e.toy_wuerstchen), "prior"),
        case("toy.profile", empty, "load: weights a folder that does not exist", lambda e: profile.load("sd15", e.ctx, weights=TMP / "no-such-weights"), "weights"),
        case("toy.profile", names, "toy_dir: 'sd-15'", lambda e: profile.toy_dir("sd-15"), "name"),
        case("toy.models", related, "pipeline: a pipeline for the components", lambda e: models.pipeline(e.toy), "components"),
        case("toy.train", rng, "train: lr NaN as an override", lambda e: train.train(TMP / "toy-sd", lr=NAN), "lr"),
        case("toy.train_wuerstchen", types, "train: n_images 2.5", lambda e: train_wuerstchen.train(TMP / "toy-w", n_images=2.5), "n_images"),
    ]  # fmt: skip


def _controls() -> list[Case]:
    import helpers
    from helpers import black_images, interpolation, pipelines, prompts, schedulers, seeds
    from helpers.book import chapter
    from helpers.research import hooks
    from helpers.toy import evaluate, scorer, world

    numpy, other, empty = "numpy/0-d", "legal input", "empty"

    def counts_batch(e, argument):
        with hooks.count_calls(e.sd.unet, argument=argument) as counter:
            e.sd.unet(torch.zeros(2, 4, 8, 8), torch.tensor(1), torch.zeros(2, 77, e.sd.text_encoder.config.hidden_size))
        return counter

    return [
        case("runtime", numpy, "ctx.generator: seed a 0-d int array", lambda e: e.ctx.generator(np.array(5)), "seed",
             check=lambda g: g.initial_seed() == 5),
        case("chapter", numpy, "significant: np.float32 value", lambda e: chapter.significant(np.float32(0.0012345)), "value",
             check=lambda v: type(v) is float and abs(v - 0.00123) < 1e-9),
        case("record", other, "record: a torch.Size (documented: shapes)", lambda e: helpers.record(shape=torch.Size([1, 4, 8, 8])), "shape",
             check=lambda r: r["shape"] == [1, 4, 8, 8]),
        case("record", numpy, "record: a 0-d tensor", lambda e: helpers.record(loss=torch.tensor(0.25)), "loss",
             check=lambda r: r["loss"] == 0.25),  # exact: 0.25 is a float32
        case("toy.evaluate", numpy, "eval_captions: n np.int32 (documented: NumPy ints)", lambda e: evaluate.eval_captions(np.int32(4)), "n",
             check=lambda caps: len(caps) == 4 and all(isinstance(c, str) for c in caps)),
        case("toy.world", numpy, "coverage: an array centre and np.float32 half_size", lambda e: world.coverage("circle", np.array([16.0, 16.0]), np.float32(5.0)), "centre",
             check=lambda cov: cov.shape == (32, 32) and cov.min() >= 0 and cov.max() <= 1 and cov[16, 16] == 1.0),  # exact: a pixel fully inside
        case("toy.scorer", other, "score: one caption for all images (documented)", lambda e: scorer.score(e.world_images, A), "captions",
             check=lambda verdicts: len(verdicts) == 2),  # Env.world_images: world.make_dataset(2)
        case("seeds", numpy, "a1111_seeds: np.int64 seed and n", lambda e: seeds.a1111_seeds(np.int64(10), np.int64(3)), "seed",
             check=lambda pair: pair[0] == [10, 11, 12] and all(type(s) is int for s in pair[0])),
        case("interpolation", other, "lerp: t a 1-d tensor", lambda e: interpolation.lerp(U, V, torch.tensor([0.0, 1.0])), "t",
             check=lambda out: tuple(out.shape) == (2, 3) and torch.equal(out[0], U) and torch.equal(out[1], V)),
        case("schedulers", other, "make: a scheduler instance as base_config (documented)", lambda e: schedulers.make("DDIM", e.euler), "base_config",
             check=lambda s: type(s).__name__ == "DDIMScheduler" and s.config.beta_schedule == "scaled_linear"),
        case("pipelines", other, "default_call_kwargs: sd15 in tiny", lambda e: pipelines.default_call_kwargs("sd15", e.ctx), "name",
             check=lambda kw: isinstance(kw, dict) and 0 < kw.get("num_inference_steps", 0) <= 10),
        case("prompts", empty, "parse: an empty prompt (documented: one empty run)", lambda e: prompts.parse(""), "prompt",
             check=lambda runs: len(runs) == 1 and runs[0].text == "" and runs[0].weight == 1.0),  # exact: the literal 1.0
        # first written as a mistake: transformers' CLIP vision embeddings cast pixel_values to the weights' dtype,
        # so a float64 clip_input gives what the float32 one gives (as StableDiffusionSafetyChecker.forward would)
        case("black_images", other, "decide: a float64 clip_input (CLIP casts it)", lambda e: (black_images.decide(e.checker, e.clip_pixels.double()), black_images.decide(e.checker, e.clip_pixels)), "clip_input",
             check=lambda pair: [(d.flagged, d.concept_scores) for d in pair[0]] == [(d.flagged, d.concept_scores) for d in pair[1]]),
        case("hooks", numpy, "count_calls: argument np.int64(0)", lambda e: counts_batch(e, np.int64(0)), "argument",
             check=lambda c: c.calls == 1 and c.batch_sizes == [2]),
    ]  # fmt: skip


def main() -> int:
    args = heldout.batch1.arguments(__doc__.splitlines()[0])
    return report(_cases(), _controls(), Env(), desc="held-out cases (2)", module_of=lambda c: MODULE[c.label],
                  verbose=args.verbose, kind=args.kind, start=args.start, noun="held-out cases")


if __name__ == "__main__":
    raise SystemExit(main())
