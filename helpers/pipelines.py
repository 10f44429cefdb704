"""Load a pipeline family by name, the same way in both profiles.

`load(name, ctx)` calls the pipeline class's `from_pretrained` on a source that depends on the
profile: in `full`, the real checkpoint's model id (MODEL_IDS); in `tiny`, a folder in the local
cache that `helpers.tiny` built once and saved in the Hub's layout. So the tiny profile exercises
the real loading code, loading workarounds included.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import diffusers
import torch
import transformers

from . import tiny
from .runtime import Context, OfflineProfileError

CACHE_ENV = "FIELDNOTES_CACHE"
# A folder laid out like the Hub (<mirror>/<org>/<model>, e.g. from `hf download --local-dir`):
# the full profile loads a model id from there when it is present, for GPU machines with no network.
MIRROR_ENV = "FIELDNOTES_MODEL_MIRROR"
TINY_FORMAT = 4  # bump when helpers.tiny changes what it builds


@dataclass(frozen=True)
class Family:
    """One loadable name: its pipeline class, real checkpoint, tiny builder and call defaults."""

    pipeline_class: str
    model_id: str
    build: Callable[[], dict] | None
    # model_index.json entries as the Hub checkpoints write them, where save_pretrained writes
    # something else; the tiny folders use the Hub's names so the loading workaround is exercised
    hub_components: dict[str, list[str]] = field(default_factory=dict)
    # scheduler_config.json contents as the real checkpoints ship them
    scheduler_configs: dict[str, dict] = field(default_factory=dict)
    tiny_call: dict = field(default_factory=dict)
    full_call: dict = field(default_factory=dict)


WUERSTCHEN_PRIOR_HUB = {"prior": ["wuerstchen", "WuerstchenPrior"]}
WUERSTCHEN_DECODER_HUB = {"decoder": ["wuerstchen", "WuerstchenDiffNeXt"], "vqgan": ["wuerstchen", "PaellaVQModel"]}
UNCLIP_HUB = {"text_proj": ["unclip", "UnCLIPTextProjModel"]}

FAMILIES: dict[str, Family] = {
    "sd15": Family(
        "StableDiffusionPipeline",
        "stable-diffusion-v1-5/stable-diffusion-v1-5",
        tiny.build_sd15,
        scheduler_configs={"scheduler": tiny.SD15_SCHEDULER},
        tiny_call={"num_inference_steps": 4},
    ),
    "sdxl": Family(
        "StableDiffusionXLPipeline",
        "stabilityai/stable-diffusion-xl-base-1.0",
        tiny.build_sdxl,
        scheduler_configs={"scheduler": tiny.SDXL_SCHEDULER},
        tiny_call={"num_inference_steps": 4},
    ),
    "pixart-sigma": Family(
        "PixArtSigmaPipeline",
        "PixArt-alpha/PixArt-Sigma-XL-2-1024-MS",
        tiny.build_pixart_sigma,
        scheduler_configs={"scheduler": tiny.PIXART_SIGMA_SCHEDULER},
        # binning maps requests onto the trained aspect-ratio grid (256..4096 px), far above tiny sizes
        tiny_call={"num_inference_steps": 4, "use_resolution_binning": False, "clean_caption": False},
        full_call={"clean_caption": False},
    ),
    "wuerstchen-prior": Family(
        "WuerstchenPriorPipeline",
        "warp-ai/wuerstchen-prior",
        tiny.build_wuerstchen_prior,
        hub_components=WUERSTCHEN_PRIOR_HUB,
        tiny_call={"num_inference_steps": 4, "height": 128, "width": 128},
    ),
    "wuerstchen-decoder": Family(
        "WuerstchenDecoderPipeline",
        "warp-ai/wuerstchen",
        tiny.build_wuerstchen_decoder,
        hub_components=WUERSTCHEN_DECODER_HUB,
        tiny_call={"num_inference_steps": 4},
    ),
    "wuerstchen": Family(
        "WuerstchenCombinedPipeline",
        "warp-ai/wuerstchen",  # the decoder; the prior comes from the wuerstchen-prior family
        None,
        tiny_call={"prior_num_inference_steps": 4, "num_inference_steps": 4, "height": 128, "width": 128},
    ),
    "unclip": Family(
        "UnCLIPPipeline",
        "kakaobrain/karlo-v1-alpha",
        tiny.build_unclip,
        hub_components=UNCLIP_HUB,
        tiny_call={"prior_num_inference_steps": 2, "decoder_num_inference_steps": 2, "super_res_num_inference_steps": 2},
    ),
    "unclip-image-variation": Family(
        "UnCLIPImageVariationPipeline",
        "kakaobrain/karlo-v1-alpha-image-variations",
        tiny.build_unclip_image_variation,
        hub_components=UNCLIP_HUB,
        tiny_call={"decoder_num_inference_steps": 2, "super_res_num_inference_steps": 2},
    ),
    "stable-unclip": Family(
        "StableUnCLIPImg2ImgPipeline",
        "stabilityai/stable-diffusion-2-1-unclip-small",
        tiny.build_stable_unclip,
        tiny_call={"num_inference_steps": 4},
    ),
}
NAMES = tuple(FAMILIES)
MODEL_IDS = {name: family.model_id for name, family in FAMILIES.items()}
PAG_FAMILIES = ("sd15", "sdxl", "pixart-sigma")


def family(name: str) -> Family:
    """The registry entry for `name`; an unknown name is a ValueError that lists the valid ones."""
    if name not in FAMILIES:
        close = difflib.get_close_matches(str(name), NAMES, n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(f"unknown pipeline name {name!r}.{hint} Valid names: {', '.join(NAMES)}")
    return FAMILIES[name]


def register_legacy_pipeline_modules() -> None:
    """Let model_index.json entries like ["wuerstchen", ...] and ["unclip", ...] resolve.

    The Würstchen and Karlo checkpoints on the Hub name their pipeline-specific components after
    `diffusers.pipelines.wuerstchen` / `.unclip`; diffusers 0.42 moved both packages under
    `pipelines.deprecated` (diffusers issue #14008). `from_pretrained` then fails in one of two
    places: a Hub model id in `_get_custom_components_and_folders` ("prior/wuerstchen.py as defined
    in `model_index.json` does not exist ..."), a local folder in `_get_library_or_raise`
    ("wuerstchen is not one of the libraries Diffusers can load components from ..."). Both look the
    name up as an attribute of `diffusers.pipelines`, so pointing that attribute at the moved package
    is enough. It also decides what a pipeline built afterwards writes into `model_index.json`:
    without it, ["diffusers", "WuerstchenPrior"], which 0.42.1 cannot load back.
    `import diffusers.pipelines.unclip` still fails afterwards: only the attribute is added.
    """
    from diffusers import pipelines
    from diffusers.pipelines import deprecated

    for legacy in ("wuerstchen", "unclip"):
        if legacy not in vars(pipelines):
            setattr(pipelines, legacy, getattr(deprecated, legacy))


def hub_cache(name: str, root: str | os.PathLike, model_id: str | None = None) -> Path:
    """Lay the tiny folder of `name` out in `root` as a Hugging Face Hub cache that holds `model_id`.

    Returns `root`, ready for `from_pretrained(model_id, cache_dir=root, local_files_only=True)`.
    A model id takes another path through diffusers than a local folder: `DiffusionPipeline.download`
    reads the cached `model_index.json` and the cached file listing and checks every component's
    library (`_get_custom_components_and_folders`) before anything is loaded. This cache lets that
    path run with no network: `models--<org>--<name>/` with `refs/main`, one snapshot (a copy of
    the tiny folder) and `trees/<commit>.json`, the file listing in huggingface_hub's tree-cache
    format, which `huggingface_hub.get_cached_repo_tree` reads back.

    - name: a family with a tiny folder of its own (not "wuerstchen"); ValueError otherwise.
    - model_id: "org/name"; defaults to the family's real model id (MODEL_IDS).
    An existing snapshot of the same content is reused.
    """
    source_folder = tiny_dir(name)  # validates `name`
    model_id = family(name).model_id if model_id is None else model_id
    if not isinstance(model_id, str) or model_id.count("/") != 1 or not all(model_id.split("/")):
        raise ValueError(f"model_id must look like 'org/name' (a Hub model id), got {model_id!r}")
    if not isinstance(root, (str, os.PathLike)):
        raise TypeError(f"root must be a folder path (str or Path), got {type(root).__name__}")
    root = Path(root)
    storage = root / ("models--" + model_id.replace("/", "--"))
    files = sorted(p for p in source_folder.rglob("*") if p.is_file())
    # a commit hash that changes with the content, as a real one would
    digest = hashlib.sha1()
    for path in files:
        digest.update(path.relative_to(source_folder).as_posix().encode())
        digest.update(path.read_bytes())
    commit = digest.hexdigest()
    snapshot = storage / "snapshots" / commit
    if not snapshot.is_dir():
        shutil.copytree(source_folder, snapshot)
    (storage / "refs").mkdir(parents=True, exist_ok=True)
    (storage / "refs" / "main").write_text(commit)
    listing = {
        path.relative_to(source_folder).as_posix(): {
            "size": path.stat().st_size,
            "blob_id": hashlib.sha1(path.read_bytes()).hexdigest(),
        }
        for path in files
    }
    (storage / "trees").mkdir(exist_ok=True)
    tree = {"format_version": 1, "files": listing}
    (storage / "trees" / f"{commit}.json").write_text(json.dumps(tree, indent=1, sort_keys=True))
    return root


def cache_root() -> Path:
    """Where tiny pipelines are saved: $FIELDNOTES_CACHE, else ~/.cache/diffusers-field-notes."""
    configured = os.environ.get(CACHE_ENV)
    root = Path(configured) if configured else Path.home() / ".cache" / "diffusers-field-notes"
    versions = f"d{diffusers.__version__}-t{transformers.__version__}-torch{torch.__version__.split('+')[0]}"
    return root / f"tiny-v{TINY_FORMAT}-{versions}"


def tiny_dir(name: str) -> Path:
    """The tiny folder of `name`, built and saved on first use (safe against concurrent builders)."""
    fam = family(name)
    if fam.build is None:
        raise ValueError(f"{name!r} is assembled from other families and has no folder of its own")
    target = cache_root() / name
    if (target / "model_index.json").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
    try:
        components = tiny.build(fam.build)
        pipeline_class = getattr(diffusers, fam.pipeline_class)
        pipeline_class(**components).save_pretrained(staging, safe_serialization=True)
        write_hub_layout(staging, fam)
        try:
            staging.rename(target)
        except OSError:
            if not (target / "model_index.json").exists():
                raise  # not a lost race with another process: a real failure
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def write_hub_layout(folder: Path, fam: Family) -> None:
    """Rewrite a saved folder's index and scheduler configs as the real checkpoint has them."""
    index_path = folder / "model_index.json"
    index = json.loads(index_path.read_text())
    index.update(fam.hub_components)
    index_path.write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
    for component, config in fam.scheduler_configs.items():
        class_name = index[component][1]
        shipped = {"_class_name": class_name, "_diffusers_version": diffusers.__version__, **config}
        (folder / component / "scheduler_config.json").write_text(json.dumps(shipped, indent=2, sort_keys=True) + "\n")


def source(name: str, ctx: Context, model_id: str | None = None) -> str:
    """What `from_pretrained` receives: a local folder in tiny, a model id (or folder) in full.

    In full, a model id found under $FIELDNOTES_MODEL_MIRROR is loaded from there.
    """
    if model_id is None:
        if ctx.tiny:
            return str(tiny_dir(name))
        model_id = family(name).model_id
    if ctx.tiny and not Path(model_id).is_dir():
        raise OfflineProfileError(f"load({name!r}, model_id={model_id!r}) would download {model_id!r}")
    mirror = os.environ.get(MIRROR_ENV)
    if not ctx.tiny and mirror and (Path(mirror) / model_id / "model_index.json").exists():
        return str(Path(mirror) / model_id)
    return model_id


def from_pretrained(name: str, ctx: Context, model_id: str | None = None, **overrides):
    fam = family(name)
    register_legacy_pipeline_modules()
    pipeline_class = getattr(diffusers, fam.pipeline_class)
    return pipeline_class.from_pretrained(
        source(name, ctx, model_id), dtype=ctx.dtype, use_safetensors=True, **overrides
    )


def load(name: str, ctx: Context, model_id: str | None = None, **overrides):
    """The pipeline `name` on `ctx.device` in `ctx.dtype`.

    - name: one of NAMES (ValueError with the valid names otherwise).
    - model_id: a Hub id or local folder to use instead of the profile's default; in the tiny
      profile only a local folder is accepted (OfflineProfileError otherwise).
    - overrides: passed to `from_pretrained` (e.g. `scheduler=...`, `variant="fp16"`). For
      "wuerstchen", `prior_model_id=` picks the prior's source.

    In the tiny profile the progress bar is off: four-step runs would only clutter the page.
    """
    if not isinstance(ctx, Context):
        raise TypeError(f"load() needs the Context returned by helpers.setup(), got {type(ctx).__name__}")
    if ctx.tiny:
        quiet_loading()
    if name == "wuerstchen":
        pipe = combine_wuerstchen(ctx, model_id, overrides.pop("prior_model_id", None), overrides)
    else:
        pipe = from_pretrained(name, ctx, model_id, **overrides)
    pipe = pipe.to(ctx.device)
    pipe.set_progress_bar_config(disable=ctx.tiny)
    return pipe


def quiet_loading() -> None:
    """Hide the load/save progress bars: tiny folders load in a blink and the bars only add noise."""
    import huggingface_hub.utils

    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.disable_progress_bar()
    huggingface_hub.utils.disable_progress_bars()


def combine_wuerstchen(ctx: Context, decoder_id: str | None, prior_id: str | None, overrides: dict):
    """Stage C (prior) and Stages B+A (decoder) loaded separately, then joined.

    The Hub's `warp-ai/wuerstchen` finds its prior through a model-card link, which a local folder
    does not have; joining the two pipelines works the same for both profiles.
    """
    prior = from_pretrained("wuerstchen-prior", ctx, prior_id, **overrides)
    decoder = from_pretrained("wuerstchen-decoder", ctx, decoder_id, **overrides)
    return diffusers.WuerstchenCombinedPipeline(
        tokenizer=decoder.tokenizer,
        text_encoder=decoder.text_encoder,
        decoder=decoder.decoder,
        scheduler=decoder.scheduler,
        vqgan=decoder.vqgan,
        prior_tokenizer=prior.tokenizer,
        prior_text_encoder=prior.text_encoder,
        prior_prior=prior.prior,
        prior_scheduler=prior.scheduler,
    )


def default_call_kwargs(name: str, ctx: Context) -> dict:
    """Call arguments that suit the profile: few steps and small sizes in tiny, the usual in full."""
    fam = family(name)
    return dict(fam.tiny_call if ctx.tiny else fam.full_call)


def with_pag(pipe, layers: str | list[str] | None = None):
    """The PAG version of `pipe`, sharing its modules (AutoPipelineForText2Image.from_pipe).

    `layers` selects the self-attention layers to perturb: each entry is a regular expression that
    `re.search` looks for in the self-attention modules' names ("mid", "down_blocks.1", or a list);
    None keeps the pipeline's default. The copy keeps `pipe`'s progress-bar setting.
    """
    if layers is not None:
        listed = [layers] if isinstance(layers, str) else layers
        if not isinstance(listed, list) or not listed or not all(isinstance(layer, str) for layer in listed):
            raise TypeError(f"layers must be a string or a non-empty list of strings, got {layers!r}")
    supported = {FAMILIES[n].pipeline_class for n in PAG_FAMILIES}
    if type(pipe).__name__ not in supported:
        raise ValueError(
            f"with_pag() supports {', '.join(sorted(supported))} (families {', '.join(PAG_FAMILIES)}); "
            f"got {type(pipe).__name__}"
        )
    extra = {} if layers is None else {"pag_applied_layers": layers}
    made = diffusers.AutoPipelineForText2Image.from_pipe(pipe, enable_pag=True, **extra)
    made.set_progress_bar_config(**getattr(pipe, "_progress_bar_config", {}))
    return made
