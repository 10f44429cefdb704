"""Every environment variable the helpers read, each named once, with what it means.

| variable | meaning | set by |
|---|---|---|
| `PROFILE` | the profile `setup(profile=None)` picks: tiny (default), toy or full | `PROFILE=full make book`, papermill runs |
| `FIELDNOTES_CACHE` | the folder the tiny pipelines are built into (default `~/.cache/diffusers-field-notes`) | the Makefile, the tests |
| `FIELDNOTES_MODEL_MIRROR` | a folder laid out like the Hub (`<folder>/<org>/<model>`): the full profile reads a model id from there when it holds it | a GPU machine without network, `make full-mirror` |
| `FIELDNOTES_MODELS` | a copy of the repository's `models/` (the trained toy weights), read before the packaged ones | a reader who keeps the weights apart |
| `FIELDNOTES_RECORD` | the JSON file `helpers.record(...)` writes the chapter's figures into (nothing is written when unset) | the regression (`tests/regression.py`) |
| `FIELDNOTES_LEDGER` | the JSON-lines file a changed claim is logged into, the chapter going on (claims raise when unset) | `tools/matrix.py`, `make full-mirror` |
| `FIELDNOTES_STATIC` | this execution makes static output (the book, the regression): no JavaScript widgets | `make book`, the regression |
| `FIELDNOTES_BOOK` | this execution makes the book's pages: a claim's mark links to the Claims page; unset, it follows `FIELDNOTES_STATIC` (see `in_book`) | `make book`, the book test (`tests/conftest.py`) |

`HF_HUB_OFFLINE` is huggingface_hub's own: `helpers.runtime` sets it (and puts it back) for the
offline profiles, it is not a setting of the helpers.

Each value is read when it is needed, not when a module is imported, so a variable set later in
the process (a test's monkeypatch, a notebook cell) counts. An empty value counts as unset.
"""

from __future__ import annotations

import os
from pathlib import Path

# what a reader is meant to use (the reference page lists these)
__all__ = [
    "PROFILE", "CACHE", "MODEL_MIRROR", "MODELS", "RECORD", "LEDGER", "STATIC", "BOOK", "HUB_OFFLINE", "NAMES",
    "text", "flag", "profile", "cache_folder", "model_mirror", "models_folder", "record_path", "ledger_path",
    "static", "in_book",
]

PROFILE = "PROFILE"
CACHE = "FIELDNOTES_CACHE"
MODEL_MIRROR = "FIELDNOTES_MODEL_MIRROR"
MODELS = "FIELDNOTES_MODELS"
RECORD = "FIELDNOTES_RECORD"
LEDGER = "FIELDNOTES_LEDGER"
STATIC = "FIELDNOTES_STATIC"
BOOK = "FIELDNOTES_BOOK"
HUB_OFFLINE = "HF_HUB_OFFLINE"
DEFAULT_CACHE = Path.home() / ".cache" / "diffusers-field-notes"


def text(name: str) -> str | None:
    """The value of the variable `name`, or None when it is unset or empty.

    Refuses (ValueError) a `name` that is not one of this module's variables, so a typo cannot
    read a variable nobody sets.
    """
    if name not in NAMES:
        raise ValueError(f"name must be one of the helpers' variables ({', '.join(NAMES)}), got {name!r}")
    return os.environ.get(name) or None


def flag(name: str) -> bool | None:
    """A yes/no variable: None when unset or empty, False for "0", True for any other value."""
    value = text(name)
    return None if value is None else value != "0"


def profile() -> str | None:
    """$PROFILE, or None (then `helpers.setup` takes 'tiny'). Validated by `runtime.resolve_profile`."""
    return text(PROFILE)


def cache_folder() -> Path:
    """$FIELDNOTES_CACHE, else `~/.cache/diffusers-field-notes`.

    Refuses (ValueError): a $FIELDNOTES_CACHE that names an existing file.
    """
    configured = text(CACHE)
    root = Path(configured) if configured else DEFAULT_CACHE
    if root.exists() and not root.is_dir():
        raise ValueError(f"${CACHE}={configured!r} is a file; it must name a folder for the tiny pipelines")
    return root


def model_mirror() -> Path | None:
    """$FIELDNOTES_MODEL_MIRROR as a folder path, or None when unset."""
    mirror = text(MODEL_MIRROR)
    return None if mirror is None else Path(mirror)


def models_folder() -> Path | None:
    """$FIELDNOTES_MODELS as a folder, or None when unset.

    Refuses (NotADirectoryError): a value that is not a folder, naming what it is set to.
    """
    named = text(MODELS)
    if named is None:
        return None
    folder = Path(named).expanduser()
    if not folder.is_dir():
        raise NotADirectoryError(f"${MODELS}={named!r} is not a folder; set it to a folder holding "
                                 f"toy-sd/ and toy-wuerstchen/ (a copy of the repository's models/), or unset it")
    return folder


def record_path() -> Path | None:
    """$FIELDNOTES_RECORD as a path, or None (then `record` writes nothing)."""
    path = text(RECORD)
    return None if path is None else Path(path)


def ledger_path() -> str | None:
    """$FIELDNOTES_LEDGER, or None (then a changed claim raises instead of being logged)."""
    return text(LEDGER)


def static() -> bool:
    """Whether this execution makes static output ($FIELDNOTES_STATIC set, and not "0"): no widgets."""
    return bool(flag(STATIC))


def in_book() -> bool:
    """Whether this execution makes the book's pages, where `../book/claims.html` exists.

    $FIELDNOTES_BOOK when set ("0" for no). Unset, it follows $FIELDNOTES_STATIC: `make book` and
    the tests' book build set only that one, and this is how the claim marks knew they were in the
    book before the two meanings were told apart (the regression run, also static, gets the links
    too; its pages are never published).
    """
    book = flag(BOOK)
    return static() if book is None else book


NAMES = (PROFILE, CACHE, MODEL_MIRROR, MODELS, RECORD, LEDGER, STATIC, BOOK)
