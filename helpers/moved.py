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
