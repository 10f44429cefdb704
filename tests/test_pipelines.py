import json

import diffusers
import pytest
import torch

import helpers
from helpers import pipelines, shipped_configs, tiny


@pytest.fixture(scope="module")
def ctx():
    return helpers.setup(profile="tiny", device="cpu")


def test_unknown_name_lists_close_matches_and_valid_names(ctx):
    with pytest.raises(ValueError, match=r"unknown pipeline name 'sd1\.5'\. Did you mean 'sd15'.*Valid names: sd15, sdxl"):
        pipelines.load("sd1.5", ctx)


def test_load_needs_a_context():
    with pytest.raises(TypeError, match="Context returned by helpers.setup"):
        pipelines.load("sd15", "cpu")


def test_tiny_refuses_hub_ids_with_the_profile_in_the_message(ctx):
    with pytest.raises(helpers.OfflineProfileError, match="profile 'tiny'.*would download 'org/model'.*profile='full'"):
        pipelines.load("sd15", ctx, model_id="org/model")


def test_full_profile_uses_the_model_ids(monkeypatch):
    full = helpers.setup(profile="full", device="cpu")
    assert pipelines.source("sdxl", full) == "stabilityai/stable-diffusion-xl-base-1.0"
    assert pipelines.source("sdxl", full, model_id="my/sdxl") == "my/sdxl"
    assert pipelines.default_call_kwargs("pixart-sigma", full) == {"clean_caption": False}


@pytest.mark.parametrize("name", pipelines.NAMES)
def test_every_family_loads_and_runs_in_tiny(ctx, name):
    pipe = pipelines.load(name, ctx)
    assert type(pipe).__name__ == pipelines.FAMILIES[name].pipeline_class
    assert all(m.device.type == "cpu" for m in pipe.components.values() if isinstance(m, torch.nn.Module))
    kwargs = pipelines.default_call_kwargs(name, ctx)
    if name == "wuerstchen-decoder":
        kwargs["image_embeddings"] = torch.randn(1, tiny.EFFNET_CHANNELS, 3, 3, generator=ctx.generator())
    if name in ("unclip-image-variation", "stable-unclip"):
        kwargs["image"] = torch.rand(1, 3, 32, 32, generator=ctx.generator())
    if name != "unclip-image-variation":
        kwargs["prompt"] = "a lighthouse"
    def sample():
        output = pipe(generator=ctx.generator(), output_type="pt", **kwargs)
        # the UnCLIP pipelines answer output_type="pt" with numpy arrays
        return torch.as_tensor(output.image_embeddings if name == "wuerstchen-prior" else output.images)

    result = sample()
    assert result.numel() and torch.isfinite(result).all()
    assert torch.equal(result, sample()), "same seed, different output"


def test_tiny_folders_use_the_hub_component_names():
    prior = json.loads((pipelines.tiny_dir("wuerstchen-prior") / "model_index.json").read_text())
    decoder = json.loads((pipelines.tiny_dir("wuerstchen-decoder") / "model_index.json").read_text())
    karlo = json.loads((pipelines.tiny_dir("unclip") / "model_index.json").read_text())
    assert prior["prior"] == ["wuerstchen", "WuerstchenPrior"]
    assert decoder["vqgan"] == ["wuerstchen", "PaellaVQModel"]
    assert karlo["text_proj"] == ["unclip", "UnCLIPTextProjModel"]


def test_sd15_scheduler_folder_holds_exactly_the_real_keys(ctx):
    saved = json.loads((pipelines.tiny_dir("sd15") / "scheduler" / "scheduler_config.json").read_text())
    assert set(saved) - {"_class_name", "_diffusers_version"} == set(shipped_configs.SD15_SCHEDULER)
    scheduler = pipelines.load("sd15", ctx).scheduler
    # keys the real file leaves out are recorded as defaults, as with the real checkpoint
    assert set(scheduler.config["_use_default_values"]) == {"timestep_spacing", "prediction_type"}


def test_tiny_folder_is_reused(ctx):
    folder = pipelines.tiny_dir("sd15")
    stamp = (folder / "model_index.json").stat().st_mtime_ns
    assert pipelines.tiny_dir("sd15") == folder
    assert (folder / "model_index.json").stat().st_mtime_ns == stamp
    assert not list(folder.parent.glob(".sd15-*")), "a staging folder was left behind"


def test_tiny_weights_are_the_same_on_every_build():
    first, second = tiny.build(tiny.build_sd15), tiny.build(tiny.build_sd15)
    for (name, a), (_, b) in zip(first["unet"].state_dict().items(), second["unet"].state_dict().items()):
        assert torch.equal(a, b), name


def test_tiny_build_does_not_disturb_the_callers_rng():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    tiny.build(tiny.build_wuerstchen_prior)
    assert torch.equal(torch.rand(3), expected)


def test_refilled_wuerstchen_decoder_depends_on_stage_c():
    decoder = tiny.build(tiny.build_wuerstchen_decoder)["decoder"].eval()
    x = torch.randn(1, 4, 16, 16)
    r = torch.tensor([0.5])
    clip = torch.randn(1, 1, tiny.TEXT_WIDTH)
    with torch.no_grad():
        a = decoder(x, r, torch.zeros(1, tiny.EFFNET_CHANNELS, 3, 3), clip)
        b = decoder(x, r, torch.randn(1, tiny.EFFNET_CHANNELS, 3, 3), clip)
    assert (a - b).abs().max() > 1e-3


def test_refill_zero_parameters_counts_what_it_changes():
    layer = torch.nn.Linear(3, 2)
    with torch.no_grad():
        layer.bias.zero_()
    assert tiny.refill_zero_parameters(layer) == 1
    assert layer.bias.any()


def test_legacy_module_alias_is_idempotent():
    import diffusers.pipelines

    pipelines.register_legacy_pipeline_modules()
    pipelines.register_legacy_pipeline_modules()
    assert diffusers.pipelines.wuerstchen is diffusers.pipelines.deprecated.wuerstchen
    with pytest.raises(ModuleNotFoundError):
        import diffusers.pipelines.unclip  # noqa: F401  (only the attribute is added, not the module)


def test_with_pag_shares_modules_and_checks_its_input(ctx):
    base = pipelines.load("sd15", ctx)
    pag = pipelines.with_pag(base, layers=["mid"])
    assert type(pag).__name__ == "StableDiffusionPAGPipeline"
    assert pag.unet is base.unet
    with pytest.raises(TypeError, match="layers must be a string or a non-empty list"):
        pipelines.with_pag(base, layers=[])
    with pytest.raises(ValueError, match="with_pag\\(\\) supports"):
        pipelines.with_pag(pipelines.load("wuerstchen-prior", ctx))


def test_full_profile_runs_the_real_loading_path_from_a_local_mirror(tmp_path, monkeypatch):
    """The full branch of load(): model ids, dtype from the context, safetensors, the Würstchen join.

    A mirror laid out like the Hub, filled with the tiny folders, stands in for the network.
    """
    for name, fam in pipelines.FAMILIES.items():
        if fam.build is not None:
            target = tmp_path / fam.model_id
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                target.symlink_to(pipelines.tiny_dir(name), target_is_directory=True)
    monkeypatch.setenv(pipelines.MIRROR_ENV, str(tmp_path))
    full = helpers.setup(profile="full", device="cpu")
    assert pipelines.source("sd15", full) == str(tmp_path / "stable-diffusion-v1-5/stable-diffusion-v1-5")
    for name in ("sd15", "wuerstchen", "unclip"):
        pipe = pipelines.load(name, full)
        assert type(pipe).__name__ == pipelines.FAMILIES[name].pipeline_class
    assert pipelines.load("sd15", full)._progress_bar_config == {"disable": False}  # bars stay on outside tiny
    assert pipelines.source("sdxl", full, model_id="not/mirrored") == "not/mirrored"


def _without_legacy_alias():
    """Remove the #14008 alias; returns what to put back."""
    return {name: vars(diffusers.pipelines).pop(name) for name in ("wuerstchen", "unclip") if name in vars(diffusers.pipelines)}


def test_hub_cache_is_a_hub_cache_that_diffusers_loads_by_model_id(tmp_path, ctx):
    from huggingface_hub import get_cached_repo_tree

    root = pipelines.hub_cache("wuerstchen-prior", tmp_path)
    model_id = pipelines.MODEL_IDS["wuerstchen-prior"]
    listed = {entry.path for entry in get_cached_repo_tree(model_id, cache_dir=root)}
    folder = pipelines.tiny_dir("wuerstchen-prior")
    assert listed == {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert pipelines.hub_cache("wuerstchen-prior", tmp_path) == root  # a second call reuses the snapshot
    assert len(list((root / "models--warp-ai--wuerstchen-prior" / "snapshots").iterdir())) == 1
    removed = _without_legacy_alias()
    try:  # the model-id path fails where the Hub fails (diffusers#14008), not where a folder does
        with pytest.raises(ValueError, match=r"^prior/wuerstchen\.py as defined in `model_index\.json` does not exist"):
            diffusers.WuerstchenPriorPipeline.from_pretrained(model_id, cache_dir=root, local_files_only=True)
    finally:
        vars(diffusers.pipelines).update(removed)
    pipelines.register_legacy_pipeline_modules()
    pipe = diffusers.WuerstchenPriorPipeline.from_pretrained(model_id, cache_dir=root, local_files_only=True)
    assert type(pipe.prior).__name__ == "WuerstchenPrior"


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        (("wuerstchen", "x"), ValueError, "has no folder of its own"),
        (("sd15", "x", "no-slash"), ValueError, "model_id must look like 'org/name'"),
        (("sd15", "x", "a/b/c"), ValueError, "model_id must look like 'org/name'"),
        (("sd15", 3), TypeError, "root must be a folder path"),
        (("nope", "x"), ValueError, "unknown pipeline name"),
    ],
)
def test_hub_cache_refuses_bad_input(args, error, match):
    with pytest.raises(error, match=match):
        pipelines.hub_cache(*args)


def test_a_wuerstchen_pipeline_built_without_the_alias_saves_an_entry_it_cannot_load(tmp_path):
    parts = tiny.build(tiny.build_wuerstchen_prior)
    removed = _without_legacy_alias()
    try:
        bare = diffusers.WuerstchenPriorPipeline(**parts)
    finally:
        vars(diffusers.pipelines).update(removed)
    pipelines.register_legacy_pipeline_modules()
    bare.save_pretrained(tmp_path)
    assert json.loads((tmp_path / "model_index.json").read_text())["prior"] == ["diffusers", "WuerstchenPrior"]
    with pytest.raises(ValueError, match="`diffusers` has no class `WuerstchenPrior`"):
        diffusers.WuerstchenPriorPipeline.from_pretrained(tmp_path)
    assert list(diffusers.WuerstchenPriorPipeline(**parts).config["prior"]) == ["wuerstchen", "WuerstchenPrior"]
