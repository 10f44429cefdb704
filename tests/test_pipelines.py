import dataclasses
import json
from pathlib import Path

import diffusers
import pytest
import torch

import helpers
from helpers import pipelines
from helpers.book import toc
from helpers.models import shipped_configs, tiny

ROOT = Path(__file__).resolve().parent.parent


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


def test_toy_names_itself_when_it_refuses_a_hub_id(ctx):
    toy = dataclasses.replace(ctx, profile="toy")
    with pytest.raises(helpers.OfflineProfileError, match="profile 'toy'.*would download 'org/model'"):
        pipelines.load("sd15", toy, model_id="org/model")


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


def test_the_registry_lists_every_model_id_once_with_its_keys_and_chapters():
    rows = pipelines.registry()
    ids = [row["model_id"] for row in rows]
    assert len(ids) == len(set(ids))
    assert set(ids) == set(pipelines.MODEL_IDS.values()) | {c.model_id for c in pipelines.CHECKPOINTS.values()}
    by_id = {row["model_id"]: row for row in rows}
    assert by_id["warp-ai/wuerstchen"]["keys"] == ["wuerstchen-decoder", "wuerstchen"]
    assert by_id["h94/IP-Adapter"]["include"] == ("models/ip-adapter_sd15.safetensors", "models/image_encoder/*")
    assert by_id["stabilityai/stable-diffusion-2-1-unclip"]["exclude"] == pipelines.PIPELINE_EXCLUDE
    keys = set(pipelines.NAMES) | set(pipelines.CHECKPOINTS)
    assert set(pipelines.CHAPTERS) == keys  # every key says who reads it
    chapters = {p.stem for p in toc.chapters()}
    assert {c for listed in pipelines.CHAPTERS.values() for c in listed} <= chapters
    assert not set(pipelines.CHECKPOINTS) & set(pipelines.NAMES)



def test_the_registry_names_the_chapters_whose_code_reads_each_key():
    """A key a chapter's code names (a quoted family or checkpoint key, not in a toy-model line)
    is read by that chapter in full, and the other way round: CHAPTERS follows the chapters."""
    import jupytext

    keys = (*pipelines.NAMES, *pipelines.CHECKPOINTS)
    named: dict[str, set[str]] = {key: set() for key in keys}
    for chapter in toc.chapters():
        for cell in jupytext.read(chapter).cells:
            if cell.cell_type != "code":
                continue
            for line in cell.source.splitlines():
                if "toy_" in line:  # toy_profile / toy_wuerstchen load the committed toy weights
                    continue
                for key in keys:
                    if f'"{key}"' in line:
                        named[key].add(chapter.stem)
    assert named == {key: set(pipelines.CHAPTERS[key]) for key in keys}


def test_no_chapter_or_helper_hard_codes_a_model_id_the_registry_holds():
    """Model ids live in the registry; code elsewhere reads them from there (prose may name them)."""
    import jupytext

    ids = {row["model_id"] for row in pipelines.registry()}
    found = []
    for chapter in toc.chapters():
        for cell in jupytext.read(chapter).cells:
            if cell.cell_type == "code":
                found += [(chapter.name, i) for i in ids if f'"{i}"' in cell.source]
    for module in sorted((ROOT / "helpers").rglob("*.py")):
        if module.name == "shipped_configs.py":  # HUB_IDS: where each id is written, once
            continue
        found += [(module.name, i) for i in ids if f'"{i}"' in module.read_text()]
    assert found == []


def test_model_id_reads_families_and_checkpoints_and_refuses_the_rest():
    assert pipelines.model_id("sd15") == pipelines.MODEL_IDS["sd15"]
    assert pipelines.model_id("ip-adapter-sd15") == "h94/IP-Adapter"
    with pytest.raises(ValueError, match=r"unknown registry key 'ip-adapter'\. Did you mean 'ip-adapter-sd15'"):
        pipelines.model_id("ip-adapter")
    with pytest.raises(TypeError, match="a str"):
        pipelines.model_id(3)


def test_checkpoint_reads_the_mirror_when_it_holds_the_file(tmp_path, monkeypatch):
    full = helpers.setup(profile="full", device="cpu")
    monkeypatch.delenv(pipelines.MIRROR_ENV, raising=False)
    assert pipelines.checkpoint("sdxl-vae-fp16-fix", full) == "madebyollin/sdxl-vae-fp16-fix"
    folder = tmp_path / "madebyollin" / "sdxl-vae-fp16-fix"
    folder.mkdir(parents=True)
    monkeypatch.setenv(pipelines.MIRROR_ENV, str(tmp_path))
    assert pipelines.checkpoint("sdxl-vae-fp16-fix", full) == "madebyollin/sdxl-vae-fp16-fix"  # no config.json
    (folder / "config.json").write_text("{}")
    assert pipelines.checkpoint("sdxl-vae-fp16-fix", full) == str(folder)
    assert pipelines.mirror_folder("madebyollin/sdxl-vae-fp16-fix", "config.json") == folder
    assert pipelines.mirror_folder("madebyollin/sdxl-vae-fp16-fix") is None  # no model_index.json
    with pytest.raises(ValueError, match="Did you mean 'ip-adapter-sd15'"):
        pipelines.checkpoint("ip-adapter", full)
    with pytest.raises(TypeError, match="Context returned by helpers.setup"):
        pipelines.checkpoint("ip-adapter-sd15", "cuda")
    with pytest.raises(ValueError, match="model_id must look like 'org/name'"):
        pipelines.mirror_folder("not-an-id")
    tiny_ctx = helpers.setup(profile="tiny", device="cpu")
    with pytest.raises(helpers.OfflineProfileError, match="h94/IP-Adapter"):
        pipelines.checkpoint("ip-adapter-sd15", tiny_ctx)


def test_hub_kwargs_take_the_model_id_path_from_where_load_finds_the_family(tmp_path, monkeypatch):
    """diffusers#14008's Hub-path failure, offline: from the tiny folder in tiny, from the mirror's
    folder in full (as load() reads it), and from the Hub in full without a mirror."""
    model_id = pipelines.MODEL_IDS["wuerstchen-prior"]
    tiny_ctx = helpers.setup(profile="tiny", device="cpu")
    assert pipelines.hub_kwargs("wuerstchen-prior", tiny_ctx, tmp_path / "tiny")["local_files_only"] is True
    full = helpers.setup(profile="full", device="cpu")
    monkeypatch.delenv(pipelines.MIRROR_ENV, raising=False)
    assert pipelines.hub_kwargs("wuerstchen-prior", full, tmp_path / "none") == {}
    mirror = tmp_path / "mirror"
    (mirror / "warp-ai").mkdir(parents=True)
    (mirror / model_id).symlink_to(pipelines.tiny_dir("wuerstchen-prior"), target_is_directory=True)
    monkeypatch.setenv(pipelines.MIRROR_ENV, str(mirror))
    kwargs = pipelines.hub_kwargs("wuerstchen-prior", full, tmp_path / "cache")
    assert kwargs == {"cache_dir": tmp_path / "cache", "local_files_only": True}
    [snapshot] = (tmp_path / "cache" / "models--warp-ai--wuerstchen-prior" / "snapshots").iterdir()
    assert snapshot.is_symlink() and snapshot.resolve() == (mirror / model_id).resolve()  # linked, not copied
    removed = _without_legacy_alias()
    try:
        with pytest.raises(ValueError, match=r"^prior/wuerstchen\.py as defined in `model_index\.json` does not exist in warp-ai"):
            diffusers.WuerstchenPriorPipeline.from_pretrained(model_id, **kwargs)
    finally:
        vars(diffusers.pipelines).update(removed)
    pipelines.register_legacy_pipeline_modules()
    assert type(diffusers.WuerstchenPriorPipeline.from_pretrained(model_id, **kwargs)).__name__ == "WuerstchenPriorPipeline"


def test_hub_cache_refuses_a_folder_that_is_no_pipeline(tmp_path):
    with pytest.raises(ValueError, match="folder must be a pipeline folder holding model_index.json"):
        pipelines.hub_cache("sd15", tmp_path / "cache", folder=tmp_path)
