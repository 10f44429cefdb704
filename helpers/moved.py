"""Where diffusers keeps the pipeline packages it has moved between releases.

The Würstchen and Karlo (unCLIP) packages live in `diffusers.pipelines.deprecated` in the releases
this book pins (0.42.1; unCLIP from 0.36 on as well), and in `diffusers.pipelines` itself in older
ones. Helpers import them through `package(name)` so that one code path serves every release the
claims ledger runs (tools/matrix.py).
"""

from __future__ import annotations

import importlib
import importlib.metadata
from types import ModuleType

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
    from packaging.version import Version

    if "dtype" in options and Version(_version()) < Version("0.40.0"):
        options = dict(options)
        options["torch_dtype"] = options.pop("dtype")
    return options



def clip_tokenizer(folder):
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



def clip_text_model(folder):
    """The CLIPTextModel saved in `folder`, in float32. transformers 5 saves its weights without
    the `text_model.` prefix that transformers 4 expects (which would leave every weight randomly
    initialised, with only a warning): under transformers 4 the prefix is put back."""
    import torch
    from transformers import CLIPTextConfig, CLIPTextModel

    if not TRANSFORMERS_4:
        return CLIPTextModel.from_pretrained(folder, dtype=torch.float32)
    from pathlib import Path

    from safetensors.torch import load_file

    model = CLIPTextModel(CLIPTextConfig.from_pretrained(folder))
    state = {
        (key if key.startswith("text_model.") else f"text_model.{key}"): value.float()
        for key, value in load_file(Path(folder) / "model.safetensors").items()
    }
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [key for key in missing if not key.endswith("position_ids")]  # a buffer
    if missing or unexpected:
        raise RuntimeError(f"{folder}: missing {missing[:3]}, unexpected {unexpected[:3]}")
    return model.float().eval()


def tokenizer_overrides(folder) -> dict:
    """Components to pass to `from_pretrained(folder, ...)` so that a pipeline folder saved with
    transformers 5 loads under transformers 4 with its trained weights: the CLIP tokenizers
    (`clip_tokenizer`) and CLIP text encoders (`clip_text_model`). Empty under transformers 5."""
    from pathlib import Path

    if not TRANSFORMERS_4:
        return {}
    found = {}
    for name in ("tokenizer", "prior_tokenizer"):
        if (Path(folder) / name / "tokenizer.json").exists():
            found[name] = clip_tokenizer(Path(folder) / name)
    for name in ("text_encoder", "prior_text_encoder"):
        config = Path(folder) / name / "config.json"
        if config.exists() and '"CLIPTextModel"' in config.read_text():
            found[name] = clip_text_model(Path(folder) / name)
    return found
