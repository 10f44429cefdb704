"""Where the trained toy models are found, in this order:

1. `$FIELDNOTES_MODELS`, a folder that holds `toy-sd/` and `toy-wuerstchen/` (a copy of the
   repository's `models/`), for a reader who keeps the weights apart from the package;
2. `helpers/toy/weights/` inside an installed wheel: the wheel ships the repository's `models/` there
   as package data (pyproject.toml, `[tool.setuptools.package-dir]`), so `pip install` brings them;
3. `models/` at the top of a checkout (an editable install reads the repository in place).

Read once, when `helpers.toy.profile` is imported: set `$FIELDNOTES_MODELS` before that.
"""

from __future__ import annotations

import os
from pathlib import Path

MODELS_ENV = "FIELDNOTES_MODELS"
PACKAGED = Path(__file__).resolve().parent / "weights"
CHECKOUT = Path(__file__).resolve().parents[2] / "models"


def models_root() -> Path:
    """The folder that holds the toy models (`toy-sd/`, `toy-wuerstchen/`), by the order above.

    Takes no arguments. Refuses (NotADirectoryError): a `$FIELDNOTES_MODELS` that is not a folder,
    naming what it is set to. When neither the package nor a checkout has them, returns the
    checkout's path, so the loaders' "the toy model of ... is missing" names where they were looked for.
    """
    named = os.environ.get(MODELS_ENV)
    if named:
        folder = Path(named).expanduser()
        if not folder.is_dir():
            raise NotADirectoryError(f"${MODELS_ENV}={named!r} is not a folder; set it to a folder holding "
                                     f"toy-sd/ and toy-wuerstchen/ (a copy of the repository's models/), or unset it")
        return folder
    return PACKAGED if PACKAGED.is_dir() else CHECKOUT
