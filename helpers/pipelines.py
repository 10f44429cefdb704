"""Load a pipeline family by name, the same way in both profiles.

`load(name, ctx)` calls the pipeline class's `from_pretrained` on a source that depends on the
profile: in `full`, the real checkpoint's model id (MODEL_IDS); in `tiny`, a folder in the local
cache that `helpers.models.tiny` built once and saved in the Hub's layout. So the tiny profile exercises
the real loading code, loading workarounds included.

Every model id the full profile reads lives here, the registry: the families' (MODEL_IDS) and the
other checkpoints a chapter reads (CHECKPOINTS, through `checkpoint`), with the chapters that read
each (CHAPTERS); the id strings themselves are written once, in `helpers.models.shipped_configs.HUB_IDS`,
where the shipped configs name their sources with them too. In full, an id found under
$FIELDNOTES_MODEL_MIRROR is read from there; `python -m helpers.models.mirror list` prints them all with a
download line each.

`load(name, ctx, weights=...)` loads the trained toy models (`helpers.toy`) in any profile; the
`toy` profile loads them by default.
"""

from __future__ import annotations

import difflib
import hashlib
import inspect
import json
import os
import re
import shutil
import tempfile
import typing
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import diffusers
import torch
import transformers

from . import settings, validate
from .models import moved, shipped_configs, tiny
from .runtime import Context, OfflineProfileError
from .models.shipped_configs import HUB_IDS  # each model id is written there once
from .toy import location as toy_location

# what a reader is meant to use (the reference page lists these)
__all__ = [
    "CACHE_ENV", "Family", "WUERSTCHEN_PRIOR_HUB", "FAMILIES", "NAMES", "MODEL_IDS", "CHECKPOINTS",
    "model_id", "registry", "mirror_folder", "checkpoint", "family", "register_legacy_pipeline_modules",
    "tiny_dir", "write_hub_layout", "source", "hub_kwargs", "from_pretrained", "load", "quiet_loading",
    "default_call_kwargs", "with_pag",
]

CACHE_ENV = settings.CACHE  # the variables' meanings: helpers.settings
MIRROR_ENV = settings.MODEL_MIRROR
TINY_FORMAT = 4  # bump when helpers.models.tiny changes what it builds


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
        HUB_IDS["sd15"],
        tiny.build_sd15,
        scheduler_configs={"scheduler": shipped_configs.SD15_SCHEDULER},
        tiny_call={"num_inference_steps": 4},
    ),
    "sdxl": Family(
        "StableDiffusionXLPipeline",
        HUB_IDS["sdxl"],
        tiny.build_sdxl,
        scheduler_configs={"scheduler": shipped_configs.SDXL_SCHEDULER},
        tiny_call={"num_inference_steps": 4},
    ),
    "pixart-sigma": Family(
        "PixArtSigmaPipeline",
        HUB_IDS["pixart-sigma"],
        tiny.build_pixart_sigma,
        scheduler_configs={"scheduler": shipped_configs.PIXART_SIGMA_SCHEDULER},
        # binning maps requests onto the trained aspect-ratio grid (256..4096 px), far above tiny sizes
        tiny_call={"num_inference_steps": 4, "use_resolution_binning": False, "clean_caption": False},
        full_call={"clean_caption": False},
    ),
    "wuerstchen-prior": Family(
        "WuerstchenPriorPipeline",
        HUB_IDS["wuerstchen-prior"],
        tiny.build_wuerstchen_prior,
        hub_components=WUERSTCHEN_PRIOR_HUB,
        tiny_call={"num_inference_steps": 4, "height": 128, "width": 128},
    ),
    "wuerstchen-decoder": Family(
        "WuerstchenDecoderPipeline",
        HUB_IDS["wuerstchen-decoder"],
        tiny.build_wuerstchen_decoder,
        hub_components=WUERSTCHEN_DECODER_HUB,
        tiny_call={"num_inference_steps": 4},
    ),
    "wuerstchen": Family(
        "WuerstchenCombinedPipeline",
        HUB_IDS["wuerstchen-decoder"],  # the prior comes from the wuerstchen-prior family
        None,
        tiny_call={"prior_num_inference_steps": 4, "num_inference_steps": 4, "height": 128, "width": 128},
    ),
    "unclip": Family(
        "UnCLIPPipeline",
        HUB_IDS["unclip"],
        tiny.build_unclip,
        hub_components=UNCLIP_HUB,
        tiny_call={"prior_num_inference_steps": 2, "decoder_num_inference_steps": 2, "super_res_num_inference_steps": 2},
    ),
    "unclip-image-variation": Family(
        "UnCLIPImageVariationPipeline",
        HUB_IDS["unclip-image-variation"],
        tiny.build_unclip_image_variation,
        hub_components=UNCLIP_HUB,
        tiny_call={"decoder_num_inference_steps": 2, "super_res_num_inference_steps": 2},
    ),
    "stable-unclip": Family(
        "StableUnCLIPImg2ImgPipeline",
        HUB_IDS["stable-unclip"],
        tiny.build_stable_unclip,
        tiny_call={"num_inference_steps": 4},
    ),
}
NAMES = tuple(FAMILIES)
MODEL_IDS = {name: family.model_id for name, family in FAMILIES.items()}
PAG_FAMILIES = ("sd15", "sdxl", "pixart-sigma")


@dataclass(frozen=True)
class Checkpoint:
    """A model id the full profile reads besides the families' own (read with `checkpoint`)."""

    model_id: str
    what: str
    marker: str  # the file whose presence makes a mirror folder count as holding it
    include: tuple[str, ...] = ()  # the files read, for `hf download --include`; () for a pipeline's


CHECKPOINTS: dict[str, Checkpoint] = {
    "stable-unclip-vit-h": Checkpoint(
        HUB_IDS["stable-unclip-vit-h"],
        "Stable unCLIP on OpenCLIP ViT-H/14 embeddings, loaded as family 'stable-unclip'",
        "model_index.json",
    ),
    "ip-adapter-sd15": Checkpoint(
        HUB_IDS["ip-adapter-sd15"],
        "SD 1.5's IP-Adapter and the CLIP image encoder beside it (pipe.load_ip_adapter)",
        "models/ip-adapter_sd15.safetensors",
        ("models/ip-adapter_sd15.safetensors", "models/image_encoder/*"),
    ),
    "sdxl-vae-fp16-fix": Checkpoint(
        HUB_IDS["sdxl-vae-fp16-fix"],
        "SDXL's VAE fine-tuned to stay finite in float16; only its config is read",
        "config.json",
        ("config.json",),
    ),
    "stable-cascade-prior": Checkpoint(
        HUB_IDS["stable-cascade-prior"],
        "Stable Cascade's Stage C (StableCascadePriorPipeline), read in bfloat16 and cast to float16",
        "model_index.json",
    ),
    "stable-cascade": Checkpoint(
        HUB_IDS["stable-cascade"],
        "Stable Cascade's Stages B and A (StableCascadeDecoderPipeline), read in bfloat16",
        "model_index.json",
    ),
}
# Which chapters read each registry key (a family or a CHECKPOINTS key) in `full`; the tests check
# it against the chapters' code
CHAPTERS: dict[str, tuple[str, ...]] = {
    "sd15": ("00-pipeline-zoo", "01-scheduler-config", "03-seeds", "04-pipeline-signatures", "05-long-prompts",
             "06-black-images", "07-wuerstchen-stages", "08-pag", "11-gpu-speed-memory", "12-lora-finetuning",
             "13-preference-tuning", "14-control-completion"),
    "sdxl": ("00-pipeline-zoo", "04-pipeline-signatures", "05-long-prompts", "06-black-images",
             "07-wuerstchen-stages", "08-pag", "11-gpu-speed-memory"),
    "pixart-sigma": ("00-pipeline-zoo", "04-pipeline-signatures", "08-pag"),
    "wuerstchen-prior": ("00-pipeline-zoo", "07-wuerstchen-stages"),
    "wuerstchen-decoder": ("00-pipeline-zoo", "07-wuerstchen-stages"),
    "wuerstchen": ("00-pipeline-zoo", "07-wuerstchen-stages"),
    "stable-cascade-prior": ("07-wuerstchen-stages",),
    "stable-cascade": ("07-wuerstchen-stages",),
    "unclip": ("00-pipeline-zoo", "09-unclip-interpolation"),
    "unclip-image-variation": ("00-pipeline-zoo", "09-unclip-interpolation"),
    "stable-unclip": ("00-pipeline-zoo", "09-unclip-interpolation"),
    "stable-unclip-vit-h": ("09-unclip-interpolation",),
    "ip-adapter-sd15": ("08-pag",),
    "sdxl-vae-fp16-fix": ("06-black-images",),
}  # fmt: skip
# what the full profile reads of a pipeline repo: safetensors without a variant, configs, tokenizers
PIPELINE_FILES = ("model_index.json", "*/*.json", "*/*.txt", "*/*.model", "*/*.safetensors")
PIPELINE_EXCLUDE = ("*.fp16.safetensors", "*.bf16.safetensors")


def model_id(key: str) -> str:
    """The Hub model id of a registry key: a family (MODEL_IDS) or a CHECKPOINTS key.

    Refuses: a key that is not a str (TypeError), an unknown one (ValueError with the closest and
    the valid keys).
    """
    if not isinstance(key, str):
        hint = " (a Family: pass its name, e.g. 'sd15')" if isinstance(key, Family) else ""
        raise TypeError(
            f"key must be a registry key (a str): a family ({', '.join(NAMES)}) or a CHECKPOINTS key, "
            f"got {type(key).__name__}{hint}"
        )
    if key in CHECKPOINTS:
        return CHECKPOINTS[key].model_id
    if isinstance(key, str) and key not in FAMILIES:
        keys = (*NAMES, *CHECKPOINTS)
        close = difflib.get_close_matches(key, keys, n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(f"unknown registry key {key!r}.{hint} Valid keys: {', '.join(keys)}")
    return family(key).model_id


def registry() -> list[dict]:
    """One row per model id the full profile reads: `model_id`, `keys` (the families and
    CHECKPOINTS keys that read it), `what`, `chapters`, and `include`/`exclude`, the file patterns
    of `hf download` that fetch what is read. Takes no arguments.
    """
    rows: dict[str, dict] = {}
    entries = [(name, fam.model_id, f"{fam.pipeline_class} (family {name!r})", PIPELINE_FILES, PIPELINE_EXCLUDE)
               for name, fam in FAMILIES.items()]  # fmt: skip
    entries += [(key, c.model_id, c.what, c.include or PIPELINE_FILES, () if c.include else PIPELINE_EXCLUDE)
                for key, c in CHECKPOINTS.items()]  # fmt: skip
    for key, hub_id, what, include, exclude in entries:
        row = rows.setdefault(hub_id, {"model_id": hub_id, "keys": [], "what": [], "chapters": set(),
                                       "include": include, "exclude": exclude})  # fmt: skip
        row["keys"].append(key)
        row["what"].append(what)
        row["chapters"].update(CHAPTERS.get(key, ()))
    return [{**row, "what": "; ".join(row["what"]), "chapters": sorted(row["chapters"])} for row in rows.values()]


def mirror_folder(model_id: str, marker: str = "model_index.json") -> Path | None:
    """The folder of `model_id` in $FIELDNOTES_MODEL_MIRROR if it holds `marker`, else None
    (also when the variable is unset or empty). Refuses a `model_id` that is not "org/name".
    """
    if not isinstance(model_id, str) or not HUB_ID.fullmatch(model_id):
        raise ValueError(f"model_id must look like 'org/name' (a Hub model id), got {model_id!r}")
    mirror = settings.model_mirror()
    if mirror is None:
        return None
    folder = mirror / model_id
    return folder if (folder / marker).is_file() else None


def checkpoint(key: str, ctx: Context) -> str:
    """Where the full profile reads CHECKPOINTS[key]: its folder in $FIELDNOTES_MODEL_MIRROR when
    the mirror holds it (its `marker` file), else the Hub model id; what to pass to
    `from_pretrained`, `load_config` or `load_ip_adapter` in place of the id.

    Refuses: an unknown key (ValueError with the valid ones), a `ctx` that is not a Context
    (TypeError), and the tiny and toy profiles (OfflineProfileError: these are real checkpoints).
    """
    if not isinstance(key, str) or key not in CHECKPOINTS:
        close = difflib.get_close_matches(str(key), CHECKPOINTS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown checkpoint {key!r}.{hint} Valid: {', '.join(CHECKPOINTS)} (families load with load())")
    check_context(ctx)
    entry = CHECKPOINTS[key]
    if ctx.small:
        raise OfflineProfileError(f"checkpoint({key!r}) is the real {entry.model_id!r}", ctx.profile)
    folder = mirror_folder(entry.model_id, entry.marker)
    return entry.model_id if folder is None else str(folder)


def family(name: str) -> Family:
    """The registry entry for `name`.

    Refuses: a `name` that is not a str (TypeError), an unknown name (ValueError with the closest
    names and the valid ones).
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a pipeline family name (a str), one of {', '.join(NAMES)}; got {type(name).__name__} {name!r}")
    if name not in FAMILIES:
        close = difflib.get_close_matches(str(name), NAMES, n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(f"unknown pipeline name {name!r}.{hint} Valid names: {', '.join(NAMES)}")
    return FAMILIES[name]


def register_legacy_pipeline_modules() -> None:
    """Let model_index.json entries like ["wuerstchen", ...] and ["unclip", ...] resolve.

    The Würstchen and Karlo checkpoints on the Hub name their pipeline-specific components after
    `diffusers.pipelines.wuerstchen` / `.unclip`; diffusers 0.38 moved both packages under
    `pipelines.deprecated` (diffusers issue #14008). `from_pretrained` then fails in one of two
    places: a Hub model id whose file listing diffusers reads (with network; offline, from the
    cache's `trees/<commit>.json`, diffusers 0.40 on) in `_get_custom_components_and_folders`
    ("prior/wuerstchen.py as defined in `model_index.json` does not exist ..."), on every release
    since the move; a local folder, or offline a model id without a cached listing (and on 0.38 and
    0.39 any offline model id), where the components load, in `_get_library_or_raise` on 0.42
    ("wuerstchen is not one of the libraries Diffusers can load components from ...") and with
    "No module named 'wuerstchen'" on 0.38 to 0.41 (they import the name with
    `importlib.import_module`).
    All of them look the name up as an attribute of `diffusers.pipelines` first, so pointing that
    attribute at the moved package is enough; before 0.38 the attribute is the package itself. It also decides what a pipeline built afterwards writes into `model_index.json`:
    without it, ["diffusers", "WuerstchenPrior"], which 0.42.1 cannot load back.
    `import diffusers.pipelines.unclip` still fails afterwards: only the attribute is added.
    Takes no arguments; calling it twice changes nothing.
    """
    from diffusers import pipelines

    for legacy in moved.MOVED:
        if legacy not in vars(pipelines):
            setattr(pipelines, legacy, moved.package(legacy))


def hub_cache(name: str, root: str | os.PathLike, model_id: str | None = None, folder: str | os.PathLike | None = None) -> Path:
    """Lay the tiny folder of `name` out in `root` as a Hugging Face Hub cache that holds `model_id`.

    Returns `root`, ready for `from_pretrained(model_id, cache_dir=root, local_files_only=True)`.
    A model id takes another path through diffusers than a local folder: `DiffusionPipeline.download`
    reads the cached `model_index.json` and the cached file listing and checks every component's
    library (`_get_custom_components_and_folders`) before anything is loaded. This cache lets that
    path run with no network: `models--<org>--<name>/` with `refs/main`, one snapshot (a copy of
    the tiny folder) and `trees/<commit>.json`, the file listing in huggingface_hub's tree-cache
    format, which `huggingface_hub.get_cached_repo_tree` reads back. (A real cache has the listing
    only where `snapshot_download` wrote it; offline, diffusers skips the check without it, and
    0.38 and 0.39 skip it offline always.)

    - name: a family with a tiny folder of its own (not "wuerstchen"); ValueError otherwise.
    - model_id: "org/name"; defaults to the family's real model id (MODEL_IDS).
    - folder: the pipeline folder to lay out instead of the tiny one (a mirror's, see
      `hub_kwargs`). It is linked, not copied (a real checkpoint is gigabytes), and its commit hash
      comes from its file names and sizes rather than their bytes.
    An existing snapshot of the same content is reused.

    Refuses (before building anything): an unknown `name` or "wuerstchen", a `root` that is not a
    str/Path (TypeError) or is an existing file, a `model_id` that is not "org/name", a `folder`
    without model_index.json.
    """
    fam = family(name)
    if fam.build is None:
        raise ValueError(f"name={name!r} is assembled from other families and has no folder of its own")
    if not isinstance(root, (str, os.PathLike)):
        raise TypeError(f"root must be a folder path (str or Path), got {type(root).__name__}")
    if Path(root).exists() and not Path(root).is_dir():
        raise ValueError(f"root must be a folder, got the file {str(root)!r}")
    model_id = fam.model_id if model_id is None else model_id
    if not isinstance(model_id, str) or not HUB_ID.fullmatch(model_id):
        raise ValueError(f"model_id must look like 'org/name' (a Hub model id), got {model_id!r}")
    if folder is not None and not (isinstance(folder, (str, os.PathLike)) and (Path(folder) / "model_index.json").is_file()):
        raise ValueError(f"folder must be a pipeline folder holding model_index.json, got {folder!r}")
    linked = folder is not None
    source_folder = Path(folder).resolve() if linked else tiny_dir(name)
    root = Path(root)
    storage = root / ("models--" + model_id.replace("/", "--"))
    files = sorted(p for p in source_folder.rglob("*") if p.is_file())

    def content(path: Path) -> bytes:  # a linked folder's files are not read: they may be gigabytes
        return str(path.stat().st_size).encode() if linked else path.read_bytes()

    # a commit hash that changes with the content, as a real one would
    digest = hashlib.sha1()
    for path in files:
        digest.update(path.relative_to(source_folder).as_posix().encode())
        digest.update(content(path))
    commit = digest.hexdigest()
    snapshot = storage / "snapshots" / commit
    if linked and not snapshot.exists():
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        snapshot.symlink_to(source_folder, target_is_directory=True)
    elif not snapshot.is_dir():
        shutil.copytree(source_folder, snapshot)
    (storage / "refs").mkdir(parents=True, exist_ok=True)
    (storage / "refs" / "main").write_text(commit)
    listing = {
        path.relative_to(source_folder).as_posix(): {
            "size": path.stat().st_size,
            # a linked file's size alone would give equal ids to equal-sized files: add its name
            "blob_id": hashlib.sha1((path.as_posix().encode() if linked else b"") + content(path)).hexdigest(),
        }
        for path in files
    }
    (storage / "trees").mkdir(exist_ok=True)
    tree = {"format_version": 1, "files": listing}
    (storage / "trees" / f"{commit}.json").write_text(json.dumps(tree, indent=1, sort_keys=True))
    return root


def cache_root() -> Path:
    """Where tiny pipelines are saved: $FIELDNOTES_CACHE, else ~/.cache/diffusers-field-notes.

    Takes no arguments. Refuses (ValueError): a $FIELDNOTES_CACHE that names an existing file.
    """
    root = settings.cache_folder()
    versions = f"d{diffusers.__version__}-t{transformers.__version__}-torch{torch.__version__.split('+')[0]}"
    return root / f"tiny-v{TINY_FORMAT}-{versions}"


def tiny_dir(name: str) -> Path:
    """The tiny folder of `name`, built and saved on first use (safe against concurrent builders).

    Refuses: an unknown `name`, and "wuerstchen" (assembled from two folders; ValueError).
    """
    fam = family(name)
    if fam.build is None:
        raise ValueError(f"name={name!r} is assembled from other families and has no folder of its own")
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
    """Rewrite a saved folder's index and scheduler configs as the real checkpoint has them.

    Refuses: a `fam` that is not a Family (TypeError), a `folder` without model_index.json.
    """
    if not isinstance(fam, Family):
        raise TypeError(f"fam must be a pipelines.Family (e.g. pipelines.family('sd15')), got {type(fam).__name__}")
    if not isinstance(folder, (str, os.PathLike)) or not (Path(folder) / "model_index.json").is_file():
        raise ValueError(f"folder must be a saved pipeline folder holding model_index.json, got {folder!r}")
    folder = Path(folder)
    index_path = folder / "model_index.json"
    index = json.loads(index_path.read_text())
    index.update(fam.hub_components)
    index_path.write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
    for component, config in fam.scheduler_configs.items():
        class_name = index[component][1]
        shipped = {"_class_name": class_name, "_diffusers_version": diffusers.__version__, **config}
        (folder / component / "scheduler_config.json").write_text(json.dumps(shipped, indent=2, sort_keys=True) + "\n")


HUB_ID = re.compile(r"[\w.-]+/[\w.-]+")
# what `DiffusionPipeline.from_pretrained` reads from **kwargs itself, read from the installed source
# so that the list cannot fall behind diffusers; component names are added per pipeline class
try:
    _FROM_PRETRAINED_SOURCE = inspect.getsource(diffusers.DiffusionPipeline.from_pretrained)
except (OSError, TypeError):  # an install without sources: the options of diffusers 0.42.1
    _FROM_PRETRAINED_SOURCE = " ".join(f'kwargs.pop("{k}"' for k in (
        "cache_dir force_download proxies local_files_only token revision torch_dtype dtype custom_pipeline "
        "custom_revision provider sess_options provider_options device_map max_memory offload_folder "
        "offload_state_dict low_cpu_mem_usage variant use_safetensors use_onnx load_connected_pipeline "
        "quantization_config use_flashpack disable_mmap trust_remote_code").split())
# both dtype spellings on every release: from_pretrained here passes them through
# moved.loading_options, which renames dtype to torch_dtype before 0.40 (whose source pops only that)
LOADING_OPTIONS = frozenset(re.findall(r'kwargs\.pop\("(\w+)"', _FROM_PRETRAINED_SOURCE)) | {"dtype", "torch_dtype"}


def check_context(ctx) -> Context:
    """`ctx` if it is the Context that helpers.setup() returns.

    Refuses (TypeError): anything else, such as a device string or a profile name.
    """
    if not isinstance(ctx, Context):
        raise TypeError(
            f"ctx must be the Context returned by helpers.setup(), got {type(ctx).__name__} {ctx!r:.60}"
        )
    return ctx


def _looks_like_folder(model_id: str) -> bool:
    return (
        Path(model_id).is_dir()
        or model_id.startswith(("/", ".", "~"))
        or "\\" in model_id
        or os.sep in model_id and not HUB_ID.fullmatch(model_id)
    )


def check_model_id(name: str, model_id) -> str | None:
    """`model_id` as a str (None stays None): an existing folder, or a Hub id "org/name".

    Refuses: a value that is not a str or Path (TypeError), a path that does not exist or is not a
    folder, a string that is neither a folder nor "org/name", and a folder whose model_index.json
    names a pipeline class that does not fit the family `name` (e.g. an SDXL folder for "sd15").
    """
    if model_id is None:
        return None
    if not isinstance(model_id, (str, os.PathLike)):
        raise TypeError(f"model_id must be a local folder or a Hub id 'org/name' (a str), got {type(model_id).__name__} {model_id!r}")
    model_id = os.fspath(model_id)
    if not model_id.strip():
        raise ValueError(
            f"model_id must be a local pipeline folder or a Hub id 'org/name' (or None for the family's default), "
            f"got the empty string {model_id!r}"
        )
    if _looks_like_folder(model_id):
        folder = Path(model_id).expanduser()
        if not folder.exists():
            raise ValueError(f"model_id={model_id!r}: the folder does not exist (pass an existing pipeline folder or a Hub id 'org/name')")
        if not folder.is_dir():
            raise ValueError(f"model_id={model_id!r} is a file; pass the pipeline folder that holds model_index.json")
        check_folder_family(name, folder)
        return str(folder)
    if not HUB_ID.fullmatch(model_id):
        raise ValueError(f"model_id={model_id!r} is neither an existing folder nor a Hub id of the form 'org/name'")
    return model_id


def check_folder_family(name: str, folder: Path) -> None:
    """Refuse a pipeline folder whose model_index.json `_class_name` belongs to another family.

    A class fits when it is the family's own or expects the same components (an img2img folder
    loads as its text-to-image class); StableDiffusionPipeline around an SDXL UNet would drop
    text_encoder_2 and fail only at the first call, inside the UNet.

    Refuses (ValueError naming both classes): a folder without model_index.json, an unreadable
    one, and a `_class_name` of another family.
    """
    index = Path(folder) / "model_index.json"
    if not index.is_file():
        raise ValueError(f"model_id={str(folder)!r} holds no model_index.json: it is not a saved diffusers pipeline folder")
    try:
        class_name = json.loads(index.read_text()).get("_class_name")
    except (ValueError, AttributeError) as error:
        raise ValueError(f"model_id={str(folder)!r}: model_index.json is not a JSON object ({error})") from None
    wanted = family(name).pipeline_class
    if class_name == wanted:
        return
    found = getattr(diffusers, str(class_name), None)
    expected = getattr(diffusers, wanted)
    if found is not None and _components(found) == _components(expected):
        return
    owner = [n for n, f in FAMILIES.items() if f.pipeline_class == class_name]
    hint = f" (family {owner[0]!r})" if owner else ""
    raise ValueError(
        f"model_id={str(folder)!r} holds a {class_name}{hint}, which does not fit family {name!r} "
        f"({wanted}); pass a {wanted} folder or load it as its own family"
    )


def _components(pipeline_class) -> set[str]:
    return set(pipeline_class._get_signature_keys(pipeline_class)[0])


def check_overrides(name: str, overrides: dict) -> dict:
    """`overrides` for `from_pretrained` of family `name`, checked; returns a copy.

    Accepted: the loading options `DiffusionPipeline.from_pretrained` reads (LOADING_OPTIONS:
    dtype, variant, use_safetensors, ...) and the pipeline class's components and init options
    (scheduler=, safety_checker=None, requires_safety_checker=...); "prior_model_id" for "wuerstchen".
    Refuses: any other keyword, which diffusers would only log and ignore (ValueError, with the
    closest accepted name); `dtype`/`torch_dtype` both given, or not a torch.dtype (or a dict of
    them); a `variant` that is not a str; a component given as a str or number (a model id where an
    object is expected), a class, a whole pipeline or a config dict where a component is expected, and
    a model of another class than the pipeline's annotation (the VAE as `unet`); a dtype that is not a
    floating-point one a pipeline computes in (`validate.dtype`: torch.int8, float8).
    """
    overrides = dict(overrides)
    names = [family(name).pipeline_class] if name != "wuerstchen" else [
        FAMILIES["wuerstchen-prior"].pipeline_class, FAMILIES["wuerstchen-decoder"].pipeline_class]
    components, options = set(), set()
    for class_name in names:
        cls = getattr(diffusers, class_name)
        expected, optional = cls._get_signature_keys(cls)
        components |= set(expected)
        options |= set(optional)
    accepted = LOADING_OPTIONS | components | options | ({"prior_model_id"} if name == "wuerstchen" else set())
    for key in overrides:
        if key not in accepted:
            close = difflib.get_close_matches(key, sorted(accepted), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(
                f"load({name!r}) got the keyword {key}={overrides[key]!r:.40}, which from_pretrained would ignore{hint}; "
                f"accepted: the components {', '.join(sorted(components))}, init options {sorted(options)}, "
                "and from_pretrained's loading options (dtype, variant, use_safetensors, revision, ...)"
            )
    label = "torch_dtype" if "torch_dtype" in overrides else "dtype"  # messages name the keyword given
    if "torch_dtype" in overrides:
        if "dtype" in overrides:
            raise ValueError("pass dtype= or torch_dtype= (deprecated), not both")
        overrides["dtype"] = overrides.pop("torch_dtype")
    if "dtype" in overrides:
        dtype = overrides["dtype"]
        values = dtype.items() if isinstance(dtype, dict) else [(None, dtype)]
        if not all(isinstance(d, torch.dtype) for _, d in values):
            short = {"fp16": "float16", "half": "float16", "fp32": "float32", "float": "float32", "bf16": "bfloat16",
                     "fp64": "float64", "double": "float64"}
            named = short.get(dtype, dtype) if isinstance(dtype, str) else None
            hint = f" (use torch.{named})" if named and isinstance(getattr(torch, named, None), torch.dtype) else ""
            raise TypeError(
                f"{label} must be a torch.dtype (e.g. torch.float16) or a dict of them per component, "
                f"got {type(dtype).__name__} {dtype!r:.60}{hint}"
            )
        if isinstance(dtype, dict):
            keys = components | {"default"}  # diffusers reads dtype["default"] for the components not named
            for key in dtype:
                if key not in keys:
                    close = difflib.get_close_matches(str(key), sorted(keys), n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    raise ValueError(
                        f"{label}[{key!r}]: {key!r} is no component of {' or '.join(names)}{hint}; a per-component "
                        f"{label} dict takes the keys {', '.join(sorted(components))} and 'default' (the others)"
                    )
        for key, d in values:
            validate.dtype(label if key is None else f"{label}[{key!r}]", d)
    if "variant" in overrides and not isinstance(overrides["variant"], (str, type(None))):
        raise TypeError(f"variant must be a str such as 'fp16', got {type(overrides['variant']).__name__} {overrides['variant']!r}")
    for key in components & set(overrides):
        if isinstance(overrides[key], (str, bytes, int, float, os.PathLike)):
            raise TypeError(
                f"{key} must be a loaded component object (or None to leave it out), got {type(overrides[key]).__name__} "
                f"{overrides[key]!r}; load it first, e.g. with its class's from_pretrained"
            )
        _check_component(names, key, overrides[key])
    return overrides


def _check_component(class_names: list[str], key: str, value) -> None:
    """Refuse a component of another kind, which diffusers takes without a word (a VAE as `unet`) or
    refuses deep inside from_pretrained (a class, a whole pipeline, a config dict)."""
    from collections.abc import Mapping

    from diffusers.schedulers.scheduling_utils import SchedulerMixin

    if value is None:
        return
    accepted = f"{key} must be a loaded component object (or None to leave it out)"
    if isinstance(value, type):
        raise TypeError(f"{accepted}, got the class {value.__name__} itself: pass an instance, e.g. built with from_config")
    if isinstance(value, diffusers.DiffusionPipeline):
        raise TypeError(f"{accepted}, got a whole {type(value).__name__}: pass its component, pipe.{key}")
    if isinstance(value, Mapping):
        raise TypeError(
            f"{accepted}, got a config ({type(value).__name__}): build the component from it, e.g. Class.from_config(config)"
        )
    if key.endswith("scheduler"):
        validate.instance(key, value, SchedulerMixin, "a diffusers scheduler (e.g. schedulers.make(...) or pipe.scheduler)")
        return
    # a model component must be of the class the pipeline's __init__ annotates (a compiled module counts as its model)
    expected = []
    for class_name in class_names:
        try:
            hint = typing.get_type_hints(getattr(diffusers, class_name).__init__).get(key)
        except (NameError, TypeError, AttributeError):  # an annotation that does not resolve: nothing to check
            hint = None
        for kind in typing.get_args(hint) or (hint,):
            if isinstance(kind, type) and issubclass(kind, torch.nn.Module):
                expected.append(kind)
    if expected and not isinstance(getattr(value, "_orig_mod", value), tuple(expected)):
        raise TypeError(f"{key} must be a {' or '.join(k.__name__ for k in expected)}, got {type(value).__name__}")


def _check_dtype(name: str, ctx: Context, overrides: dict) -> None:
    """The dtype the pipeline will load in (an override, else ctx.dtype) must run on ctx.device."""
    dtype = overrides.get("dtype", ctx.dtype)
    parts = ("wuerstchen-prior", "wuerstchen-decoder") if name == "wuerstchen" else (name,)
    classes = [FAMILIES[n].pipeline_class for n in parts]
    for key, d in dtype.items() if isinstance(dtype, dict) else [(None, dtype)]:
        for class_name in classes:
            validate.dtype("dtype" if key is None else f"dtype[{key!r}]", d, ctx.device, pipeline=class_name)


def source(name: str, ctx: Context, model_id: str | None = None) -> str:
    """What `from_pretrained` receives: a local folder in tiny, a model id (or folder) in full.

    In full, a model id found under $FIELDNOTES_MODEL_MIRROR is loaded from there.
    Refuses: an unknown `name`, a `ctx` that is not a Context (TypeError), a `model_id` as
    `check_model_id` refuses it, and in tiny a Hub id (OfflineProfileError: it would download).
    """
    family(name)
    check_context(ctx)
    model_id = check_model_id(name, model_id)
    if model_id is None:
        if ctx.small:
            return str(tiny_dir(name))
        model_id = family(name).model_id
    if ctx.small and not Path(model_id).is_dir():
        raise OfflineProfileError(f"load({name!r}, model_id={model_id!r}) would download {model_id!r}", ctx.profile)
    is_hub_id = not Path(model_id).is_dir() and HUB_ID.fullmatch(model_id)
    folder = mirror_folder(model_id) if is_hub_id and not ctx.small else None
    if folder is not None:
        check_folder_family(name, folder)
        return str(folder)
    return model_id


def hub_kwargs(name: str, ctx: Context, root: str | os.PathLike) -> dict:
    """Keywords that make `from_pretrained(MODEL_IDS[name], **hub_kwargs(...))` take diffusers'
    model-id path wherever `source` finds the family, with no network where `source` needs none.

    `source(name, ctx)` decides, as for `load`: a folder (tiny's, or the mirror's in full) is laid
    out in `root` as a Hub cache (`hub_cache`) and the keywords are `cache_dir=root,
    local_files_only=True`; a model id (full, no mirror) gives {}, so the call goes to the Hub.

    Refuses: what `source` refuses, "wuerstchen" (no folder of its own), a `root` as `hub_cache`
    refuses it.
    """
    where = source(name, ctx)
    if where == family(name).model_id:
        return {}
    folder = None if ctx.small else where  # tiny: hub_cache copies the tiny folder itself
    return {"cache_dir": hub_cache(name, root, folder=folder), "local_files_only": True}


_WEIGHT_FILE = re.compile(r"[^.]+\.(?P<variant>[^.]+)\.(safetensors|bin|ckpt|msgpack|onnx|pt|pth)|[^.]+\.\w+\.index\.(?P<indexed>[^.]+)\.json")


def _folder_variants(folder: str | os.PathLike) -> list[str]:
    """The weight variants a local pipeline folder holds (`unet/diffusion_pytorch_model.fp16.safetensors`
    -> 'fp16'), sorted; [] when it holds only plain weights."""
    found = set()
    for path in [*Path(folder).glob("*"), *Path(folder).glob("*/*")]:
        match = _WEIGHT_FILE.fullmatch(path.name)
        if match:
            found.add(match["variant"] or match["indexed"])
    return sorted(found)


def _check_variant(where: str, variant) -> None:
    """A `variant` the local folder `where` has no weights of is refused here, naming the ones it has
    (diffusers refuses it too, deep inside from_pretrained). A Hub id is left to diffusers."""
    if variant is None or not Path(where).is_dir():
        return
    found = _folder_variants(where)
    if variant not in found:
        accepted = (f"variant must be one of the variants it has, {', '.join(map(repr, found))}, or None (the plain weights)"
                    if found else "it has no variant files, so variant must be None (the plain weights)")
        raise ValueError(f"variant={variant!r}: {where} has no weights of that variant; {accepted}")


def from_pretrained(name: str, ctx: Context, model_id: str | None = None, **overrides):
    """`<family class>.from_pretrained(source(...), dtype=ctx.dtype, use_safetensors=True, **overrides)`.

    An override of `dtype` or `use_safetensors` replaces the context's value.
    Refuses: what `source` and `check_overrides` refuse, a dtype ctx.device cannot run for this
    pipeline (`validate.dtype`), and a `variant` a local folder has no weights of (naming those it
    has), before anything is loaded.
    """
    fam = family(name)
    check_context(ctx)
    overrides = check_overrides(name, overrides)
    _check_dtype(name, ctx, overrides)
    where = source(name, ctx, model_id)
    _check_variant(where, overrides.get("variant"))
    register_legacy_pipeline_modules()
    pipeline_class = getattr(diffusers, fam.pipeline_class)
    options = {"dtype": ctx.dtype, "use_safetensors": True, **overrides}
    return pipeline_class.from_pretrained(where, **moved.loading_options(options))


class _ProfileWeights:
    """The default of `load(weights=...)`: the profile decides which weights load."""

    def __repr__(self) -> str:
        return "<the profile's weights>"


PROFILE_WEIGHTS = _ProfileWeights()


def load(name: str, ctx: Context, model_id: str | None = None, weights=PROFILE_WEIGHTS, **overrides):
    """The pipeline `name` on `ctx.device` in `ctx.dtype`.

    - name: one of NAMES (ValueError with the valid names otherwise).
    - model_id: a Hub id or local folder to use instead of the profile's default; in the tiny
      profile only a local folder is accepted (OfflineProfileError otherwise).
    - weights: the trained toy model instead of the profile's weights, in any profile, in float32:
      None for the committed one (`models/toy-sd`, `models/toy-wuerstchen`), or a folder: for
      "sd15" one written by `python -m helpers.toy train --out DIR` (`helpers.toy.location.sd_folder`),
      for "wuerstchen" one by `train-wuerstchen --out DIR` (`wuerstchen_folder`). A
      family without a toy model loads its tiny pipeline instead, with a UserWarning. Left out, the
      profile decides: in "toy" that is `weights=None`, elsewhere the profile's own weights.
    - overrides: passed to `from_pretrained` (e.g. `scheduler=...`, `variant="fp16"`); `dtype=`
      replaces `ctx.dtype` (the pipeline then runs in that dtype). For "wuerstchen",
      `prior_model_id=` picks the prior's source.

    In the tiny and toy profiles the progress bar is off: four-step runs would only clutter the page.

    Refuses, before loading anything: an unknown `name` (with a did-you-mean), a `ctx` that is not
    the Context from helpers.setup() (TypeError), a `model_id` folder that does not exist or holds
    another family's pipeline (its model_index.json `_class_name`), a Hub id in the tiny profile
    (OfflineProfileError), `model_id` together with `weights`, a `weights` folder for another family
    than "sd15" or "wuerstchen" or one that holds no toy model of that family, keywords from_pretrained would ignore, ill-typed
    dtype/variant or component overrides (see `check_overrides`), and a dtype ctx.device cannot run
    for this pipeline (float16 UnCLIP on the CPU; `validate.dtype`).
    """
    if weights is not PROFILE_WEIGHTS:
        if model_id is not None:
            raise ValueError(f"load({name!r}): model_id={model_id!r} and weights={weights!r} both pick what to "
                             "load; pass model_id for a pipeline folder or Hub id, weights for the toy model")
        return _load_toy(name, ctx, weights, overrides)
    family(name)
    check_context(ctx)
    if ctx.profile == "toy" and model_id is None:
        return _load_toy(name, ctx, None, overrides)
    prior_id = overrides.get("prior_model_id")
    overrides = check_overrides(name, overrides)
    _check_dtype(name, ctx, overrides)
    check_model_id(name if name != "wuerstchen" else "wuerstchen-decoder", model_id)
    if name == "wuerstchen":
        check_model_id("wuerstchen-prior", prior_id)
    if ctx.small:
        quiet_loading()
    if name == "wuerstchen":
        pipe = combine_wuerstchen(ctx, model_id, overrides.pop("prior_model_id", None), overrides)
    else:
        pipe = from_pretrained(name, ctx, model_id, **overrides)
    pipe = pipe.to(ctx.device)
    pipe.set_progress_bar_config(disable=ctx.small)
    return pipe


def _load_toy(name: str, ctx: Context, weights, overrides: dict):
    """`load(name, ctx, weights=weights)`: the toy model of `name` in float32 on ctx.device, or
    the tiny pipeline with a warning for a family that has none (in any profile)."""
    if weights is not None and name not in ("sd15", "wuerstchen"):
        raise ValueError(f"weights= picks another toy model's folder, for 'sd15' or 'wuerstchen'; got {name!r}")
    family(name)
    check_context(ctx)
    overrides = check_overrides(name, overrides)
    quiet_loading()
    if name not in toy_location.FOLDERS:
        warnings.warn(f"profile 'toy': {name!r} has no toy model yet; loading the tiny (random-weight) one",
                      UserWarning, stacklevel=3)
        _check_dtype(name, ctx, overrides)
        pipe = from_pretrained(name, ctx, str(tiny_dir(name)), **overrides).to(ctx.device)
        pipe.set_progress_bar_config(disable=True)
        return pipe
    _check_dtype(name, ctx, {"dtype": torch.float32, **overrides})
    if name == "wuerstchen":
        if overrides:
            raise ValueError(f"the toy Würstchen takes no loading overrides; got {', '.join(overrides)}")
        folder = toy_location.wuerstchen_folder(weights)
        pipe = _join_wuerstchen(_toy_stage("wuerstchen-prior", folder / "prior", {}),
                               _toy_stage("wuerstchen-decoder", folder / "decoder", {}))
    else:
        folder = toy_location.sd_folder(weights) if name == "sd15" else toy_location.toy_dir(name)
        pipe = _toy_stage(name, folder, overrides)
    pipe = pipe.to(ctx.device)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _toy_stage(name: str, folder: Path, overrides: dict):
    """One toy pipeline folder loaded on the CPU."""
    register_legacy_pipeline_modules()  # the Würstchen folders keep the Hub's index entries
    # the weights are stored as float16; dtype=float32 loads them back as float32 (helpers.models.moved
    # renames it for releases before 0.40 and brings the tokenizer to transformers 4)
    options = {"dtype": torch.float32, "use_safetensors": True, **moved.component_overrides(folder)}
    options = moved.loading_options({**options, **overrides})
    if name == "sd15":
        # The toy SD ships no feature extractor (it has no safety checker); the chapters that attach a
        # checker of their own get the tiny profile's 32-pixel CLIP processor, which holds no weights.
        options.setdefault("feature_extractor", tiny.clip_image_processor())
    return getattr(diffusers, family(name).pipeline_class).from_pretrained(folder, **options)


def quiet_loading() -> None:
    """Hide the load/save progress bars: tiny folders load in a blink and the bars only add noise.

    Takes no arguments.
    """
    import huggingface_hub.utils

    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.disable_progress_bar()
    huggingface_hub.utils.disable_progress_bars()


def combine_wuerstchen(ctx: Context, decoder_id: str | None, prior_id: str | None, overrides: dict):
    """Stage C (prior) and Stages B+A (decoder) loaded separately, then joined.

    The Hub's `warp-ai/wuerstchen` finds its prior through a model-card link, which a local folder
    does not have; joining the two pipelines works the same for both profiles.

    Refuses: a `ctx` that is not a Context, `overrides` that is not a dict, and what
    `from_pretrained` refuses for either stage.
    """
    check_context(ctx)
    if not isinstance(overrides, dict):
        raise TypeError(f"overrides must be a dict of from_pretrained keywords, got {type(overrides).__name__}")
    check_overrides("wuerstchen", overrides)
    prior = from_pretrained("wuerstchen-prior", ctx, prior_id, **overrides)
    decoder = from_pretrained("wuerstchen-decoder", ctx, decoder_id, **overrides)
    return _join_wuerstchen(prior, decoder)


def _join_wuerstchen(prior, decoder):
    """A WuerstchenCombinedPipeline made of a prior and a decoder pipeline (shared modules), that
    keeps their configs.

    WuerstchenCombinedPipeline.__init__ builds its prior_pipe and decoder_pipe with the default
    latent_mean, latent_std, resolution_multiple and latent_dim_scale (the real checkpoints'
    values, so copying them changes nothing there): the toy Würstchen's sizes would be lost.
    The one implementation: `helpers.toy.wuerstchen.combine` is its public name.
    Refuses (TypeError) a `prior` or `decoder` of another class.
    """
    validate.instance("prior", prior, diffusers.WuerstchenPriorPipeline,
                      "a WuerstchenPriorPipeline (stage C; pass pipe.prior_pipe of a combined one)")
    validate.instance("decoder", decoder, diffusers.WuerstchenDecoderPipeline,
                      "a WuerstchenDecoderPipeline (stages B and A; pass pipe.decoder_pipe of a combined one)")
    pipe = diffusers.WuerstchenCombinedPipeline(
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
    for inner, outer, keys in ((pipe.prior_pipe, prior, ("latent_mean", "latent_std", "resolution_multiple")),
                               (pipe.decoder_pipe, decoder, ("latent_dim_scale",))):
        inner.register_to_config(**{key: outer.config[key] for key in keys})
    return pipe


def default_call_kwargs(name: str, ctx: Context) -> dict:
    """Call arguments that suit the profile: few steps and small sizes in tiny, the usual in full.

    Refuses: an unknown `name`, a `ctx` that is not a Context (TypeError).
    """
    fam = family(name)
    check_context(ctx)
    return dict(fam.tiny_call if ctx.small else fam.full_call)


def with_pag(pipe, layers: str | list[str] | None = None):
    """The PAG version of `pipe`, sharing its modules (AutoPipelineForText2Image.from_pipe).

    `layers` selects the self-attention layers to perturb: each entry is a regular expression that
    `re.search` looks for in the self-attention modules' names ("mid", "down_blocks.1", or a list);
    None keeps the pipeline's default. The copy keeps `pipe`'s progress-bar setting.

    Refuses: `layers` that is not a string or a non-empty list of strings (TypeError), an empty
    string (it would match every layer) or an invalid regular expression (ValueError), and a
    `pipe` that is not SD 1.5, SDXL or PixArt-Σ (ValueError naming the supported classes).
    """
    if layers is not None:
        listed = [layers] if isinstance(layers, str) else layers
        if not isinstance(listed, list) or not listed or not all(isinstance(layer, str) for layer in listed):
            raise TypeError(f"layers must be a string or a non-empty list of strings, got {layers!r}")
        for layer in listed:
            if not layer.strip():
                raise ValueError(f"layers: an empty pattern matches every self-attention layer; got {layers!r}")
            try:
                re.compile(layer)
            except re.error as error:
                raise ValueError(f"layers: {layer!r} is not a valid regular expression ({error})") from None
    supported = {FAMILIES[n].pipeline_class for n in PAG_FAMILIES}
    if type(pipe).__name__ not in supported:
        raise ValueError(
            f"with_pag() supports {', '.join(sorted(supported))} (families {', '.join(PAG_FAMILIES)}): pipe must be one of them; "
            f"got pipe={type(pipe).__name__}" + (" (a module: pass the pipeline itself)" if isinstance(pipe, torch.nn.Module) else "")
        )
    extra = {} if layers is None else {"pag_applied_layers": layers}
    made = diffusers.AutoPipelineForText2Image.from_pipe(pipe, enable_pag=True, **extra)
    made.set_progress_bar_config(**getattr(pipe, "_progress_bar_config", {}))
    return made
