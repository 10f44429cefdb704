"""Where the trained toy models are found, in this order:

1. `$FIELDNOTES_MODELS`, a folder that holds `toy-sd/` and `toy-wuerstchen/` (a copy of the
   repository's `models/`), for a reader who keeps the weights apart from the package;
2. `helpers/toy/weights/` inside an installed wheel: the wheel ships the repository's `models/` there
   as package data (pyproject.toml, `[tool.setuptools.package-dir]`), so `pip install` brings them;
3. `models/` at the top of a checkout (an editable install reads the repository in place).

The one place the toy model folders are named (`FOLDERS`), for the loaders
(`helpers.pipelines.load(..., weights=...)`, `helpers.toy.profile`) and the trainers. `toy_dir` and
`sd_folder` look the root up at each call; `helpers.toy.profile.TOY_DIR` and its neighbours are
fixed when that module is imported: set `$FIELDNOTES_MODELS` before that.
"""

from __future__ import annotations

import json
from pathlib import Path

from .. import settings

# what a reader is meant to use (the reference page lists these)
__all__ = ["FOLDERS", "folder", "toy_dir", "sd_folder"]

MODELS_ENV = settings.MODELS
PACKAGED = Path(__file__).resolve().parent / "weights"
CHECKOUT = Path(__file__).resolve().parents[2] / "models"
# the families with a toy model, and each one's folder under the models root; the combined
# Würstchen is the two stage folders, as on the Hub
FOLDERS = {"sd15": "toy-sd", "wuerstchen": "toy-wuerstchen", "wuerstchen-prior": "toy-wuerstchen/prior",
           "wuerstchen-decoder": "toy-wuerstchen/decoder"}  # fmt: skip
TOY_FAMILIES = tuple(FOLDERS)


def models_root() -> Path:
    """The folder that holds the toy models (`toy-sd/`, `toy-wuerstchen/`), by the order above.

    Takes no arguments. Refuses (NotADirectoryError): a `$FIELDNOTES_MODELS` that is not a folder,
    naming what it is set to. When neither the package nor a checkout has them, returns the
    checkout's path, so the loaders' "the toy model of ... is missing" names where they were looked for.
    """
    named = settings.models_folder()
    if named is not None:
        return named
    return PACKAGED if PACKAGED.is_dir() else CHECKOUT


def folder(name: str) -> Path:
    """Where the toy model of `name` belongs (it may be missing; `toy_dir` checks)."""
    return models_root() / FOLDERS[name]


def toy_dir(name: str) -> Path:
    """The folder of the toy model of `name`; ValueError if it has none or the folder is missing."""
    if not isinstance(name, str) or name not in FOLDERS:
        import difflib

        close = difflib.get_close_matches(str(name).lower(), list(FOLDERS), n=1) if isinstance(name, str) else []
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise (ValueError if isinstance(name, str) else TypeError)(
            f"no toy model for {name!r}{hint}; name must be one of {', '.join(FOLDERS)} (the families with a toy model)"
        )
    found = folder(name)
    # the combined Würstchen is two pipeline folders, as on the Hub
    indexes = [found / part / "model_index.json" for part in ("prior", "decoder")] if name == "wuerstchen" else [
        found / "model_index.json"]
    for index in indexes:
        if not index.exists():
            raise FileNotFoundError(f"the toy model of {name!r} is missing: no {index}")
    return found


def sd_folder(weights=None) -> Path:
    """The toy SD's folder: the committed `models/toy-sd`, or `weights`, a folder written by
    `python -m helpers.toy train --out DIR` (FileNotFoundError/ValueError if it is not one)."""
    if weights is None:
        return toy_dir("sd15")
    given = Path(weights).expanduser()
    if not (given / "model_index.json").is_file():
        raise FileNotFoundError(f"toy weights {str(given)!r}: no model_index.json there; pass a folder written "
                                f"by `python -m helpers.toy train --out DIR`, or None for models/toy-sd")
    index = json.loads((given / "model_index.json").read_text())
    if index.get("_class_name") != "StableDiffusionPipeline":
        raise ValueError(f"toy weights {str(given)!r} hold a {index.get('_class_name')}, not the toy "
                         f"StableDiffusionPipeline that `python -m helpers.toy train` writes")
    return given


def wuerstchen_folder(weights=None) -> Path:
    """The toy Würstchen's folder (prior/ and decoder/, each in the Hub's layout): the committed
    `models/toy-wuerstchen`, or `weights`, a folder written by `python -m helpers.toy train-wuerstchen
    --out DIR` (FileNotFoundError naming the missing model_index.json if it is not one)."""
    if weights is None:
        return toy_dir("wuerstchen")
    given = Path(weights).expanduser()
    for part in ("prior", "decoder"):
        if not (given / part / "model_index.json").is_file():
            raise FileNotFoundError(f"toy Würstchen weights {str(given)!r}: no {part}/model_index.json there; pass a "
                                    "folder written by `python -m helpers.toy train-wuerstchen --out DIR`, or None for "
                                    "models/toy-wuerstchen")
    return given
