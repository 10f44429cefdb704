"""Where diffusers keeps the pipeline packages it has moved between releases.

The Würstchen and Karlo (unCLIP) packages live in `diffusers.pipelines.deprecated` in the releases
this book pins (0.42.1; both from 0.38.0 on), and in `diffusers.pipelines` itself in older
ones. Helpers import them through `package(name)` so that one code path serves every release the
claims ledger runs (tools/matrix.py).
"""

from __future__ import annotations

import importlib
import importlib.metadata
from types import ModuleType

# what a reader is meant to use (the reference page lists these)
__all__ = [
    "MOVED", "TRANSFORMERS_4", "package", "module", "clip_image_processor_class", "loading_options",
    "saved_clip_tokenizer", "clip_text_model", "component_overrides",
]

MOVED = ("wuerstchen", "unclip")
# transformers 4 (which diffusers <= 0.36 ran with) builds tokenizers from files only
TRANSFORMERS_4 = int(importlib.metadata.version("transformers").split(".")[0]) < 5


def package(name: str) -> ModuleType:
    """The module `diffusers.pipelines[.deprecated].<name>` of the installed release.

    Refuses (ValueError) a name other than "wuerstchen" and "unclip"; raises ModuleNotFoundError
    when neither place holds it (a release without that pipeline).
    """
    if name not in MOVED:
        raise ValueError(f"name must be one of {MOVED}, got {name!r}")
    places = (f"diffusers.pipelines.deprecated.{name}", f"diffusers.pipelines.{name}")
    for place in places:
        try:
            return importlib.import_module(place)
        except ModuleNotFoundError as error:
            if error.name not in (place, place.rpartition(".")[0]):
                raise  # the package is there but something it imports is not: not ours to hide
    raise ModuleNotFoundError(f"diffusers {_version()} has neither {' nor '.join(places)}", name=places[-1])


def module(name: str, submodule: str) -> ModuleType:
    """`package(name).<submodule>` (e.g. module("unclip", "text_proj")), imported."""
    return importlib.import_module(f"{package(name).__name__}.{submodule}")


def _version() -> str:
    import diffusers

    return diffusers.__version__


def clip_image_processor_class() -> type:
    """transformers' PIL-based CLIP image processor: `CLIPImageProcessorPil` in transformers 5
    (where plain `CLIPImageProcessor` wants torchvision), `CLIPImageProcessor` in transformers 4."""
    import transformers

    return getattr(transformers, "CLIPImageProcessorPil", None) or transformers.CLIPImageProcessor


def loading_options(options: dict) -> dict:
    """`options` for a pipeline's `from_pretrained`, with `dtype` renamed `torch_dtype` on the
    releases that do not know `dtype` yet (before 0.40, which added `_resolve_dtype` in
    pipeline_utils.py and turned `torch_dtype` into the deprecated spelling). Before 0.40 a `dtype=`
    is ignored with a warning and fp16 weights stay fp16."""
    from collections.abc import Mapping

    from packaging.version import Version

    if not isinstance(options, Mapping):
        hint = " (turn a list of pairs into one with dict(pairs))" if isinstance(options, (list, tuple)) else ""
        raise TypeError(
            f"options must be a mapping of from_pretrained keyword to value, e.g. {{'dtype': torch.float16}}, "
            f"got {type(options).__name__}{hint}"
        )
    if "dtype" in options and Version(_version()) < Version("0.40.0"):
        options = dict(options)
        options["torch_dtype"] = options.pop("dtype")
    return options


def saved_clip_tokenizer(folder):
    """The CLIP tokenizer saved in `folder`. transformers 5 saves only tokenizer.json, which
    transformers 4's CLIPTokenizer cannot read (it wants vocab.json and merges.txt, and diffusers
    refuses its CLIPTokenizerFast where the index says CLIPTokenizer): under transformers 4 the two
    files are written from tokenizer.json into a temporary folder and read from there."""
    import json
    import tempfile
    from pathlib import Path

    from transformers import CLIPTokenizer

    folder = Path(folder)
    if not TRANSFORMERS_4:
        return CLIPTokenizer.from_pretrained(folder)
    model = json.loads((folder / "tokenizer.json").read_text())["model"]
    merges = [m if isinstance(m, str) else " ".join(m) for m in model.get("merges", [])]
    config = json.loads((folder / "tokenizer_config.json").read_text())
    files = Path(tempfile.mkdtemp(prefix="clip-tokenizer-"))
    (files / "vocab.json").write_text(json.dumps(model["vocab"]))
    (files / "merges.txt").write_text("\n".join(["#version: 0.2", *merges]) + "\n")
    return CLIPTokenizer(
        files / "vocab.json", files / "merges.txt", model_max_length=config.get("model_max_length", 77)
    )


# its former name, which a reader's code may still import (the one that makes CLIP tokenizers
# is helpers.models.tiny.clip_tokenizer)
clip_tokenizer = saved_clip_tokenizer


def _renamed_keys(folder) -> dict[str, str] | None:
    """{saved key: key the installed CLIPTextModel expects} for the weights in `folder`, or None
    where the two layouts already agree. Reads only the safetensors header and builds the model
    on the meta device, so the check costs no weights."""
    from pathlib import Path

    import torch
    from safetensors import safe_open
    from transformers import CLIPTextConfig, CLIPTextModel

    with torch.device("meta"):
        wanted = set(CLIPTextModel(CLIPTextConfig.from_pretrained(folder)).state_dict())
    with safe_open(Path(folder) / "model.safetensors", framework="pt") as saved:
        keys = list(saved.keys())

    def fitted(key: str) -> str:
        if key in wanted:
            return key
        if f"text_model.{key}" in wanted:
            return f"text_model.{key}"
        return key.removeprefix("text_model.")

    renamed = {key: fitted(key) for key in keys}
    return None if all(key == new for key, new in renamed.items()) else renamed


def clip_text_model(folder):
    """The CLIPTextModel saved in `folder`, in float32, with its trained weights on every
    transformers release. transformers 5.x from some release on saves the weights without the
    `text_model.` prefix, which transformers 4 and early 5.x expect; they would load such a folder
    with every weight randomly initialised and only a warning. Where the layouts differ, the keys
    are renamed and loaded by hand (a missing or unexpected weight raises RuntimeError)."""
    return _clip_text_model(folder, _renamed_keys(folder))


def _clip_text_model(folder, renamed: dict[str, str] | None):
    from pathlib import Path

    import torch
    from safetensors.torch import load_file
    from transformers import CLIPTextConfig, CLIPTextModel

    if renamed is None:
        return CLIPTextModel.from_pretrained(folder, dtype=torch.float32)
    model = CLIPTextModel(CLIPTextConfig.from_pretrained(folder))
    saved = load_file(Path(folder) / "model.safetensors")
    state = {renamed[key]: value.float() for key, value in saved.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [key for key in missing if not key.endswith("position_ids")]  # a buffer
    if missing or unexpected:
        raise RuntimeError(f"{folder}: missing {missing[:3]}, unexpected {unexpected[:3]}")
    return model.float().eval()


def component_overrides(folder) -> dict:
    """Components to pass to `from_pretrained(folder, ...)` so that a pipeline folder saved with
    this project's transformers loads with its trained weights under the transformers of an older
    diffusers release (the claims ledger runs them): the CLIP tokenizers under transformers 4
    (`saved_clip_tokenizer`), the CLIP text encoders wherever their weight layout differs
    (`clip_text_model`). Empty where nothing differs."""
    from pathlib import Path

    found = {}
    for name in ("tokenizer", "prior_tokenizer"):
        if TRANSFORMERS_4 and (Path(folder) / name / "tokenizer.json").exists():
            found[name] = saved_clip_tokenizer(Path(folder) / name)
    for name in ("text_encoder", "prior_text_encoder"):
        config = Path(folder) / name / "config.json"
        is_clip = config.exists() and '"CLIPTextModel"' in config.read_text()
        renamed = _renamed_keys(Path(folder) / name) if is_clip else None
        if renamed is not None:
            found[name] = _clip_text_model(Path(folder) / name, renamed)
    return found
