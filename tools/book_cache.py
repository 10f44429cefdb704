"""The book build's execution cache (`_config.yml`: execute.cache), shared with `make test`.

`make test` runs every chapter in its native regression pass with the book's own settings (the tiny
profile, static output, the chapter's folder as working directory), and then built the book, which
executed every chapter a third time: 285 s of a 590 s test run. The native pass now puts its
executed notebook into this cache, under the key myst-nb computes for the chapter, and the book
build renders it without executing it again. A pass that fails removes the chapter's entry, so the
build executes that chapter itself and reports its error too.

The book's own pages (book/*.md) read files the cache's key cannot see (the claims matrix, the
helpers' docstrings): an entry of theirs goes stale when those change, and a local `make book`
showed an old Claims page. `drop_book_pages` removes their entries before every build; they execute
each time (seconds).

The cache holds one profile's outputs: `prepare` empties it (and Sphinx's state, which would
otherwise skip unchanged pages) when the profile differs from the one `_build/.profile` names.

    python tools/book_cache.py --prepare tiny    # what `make book` runs before building
"""

from __future__ import annotations

import argparse
import fcntl
import shutil
from contextlib import contextmanager
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
PAGES = "book"  # the book's own pages, under the root
PROFILE_FILE = "_build/.profile"  # the profile the build's state belongs to
# what the book build keeps between builds besides the cache; all of it belongs to one profile
BUILD_STATE = ("_build/.doctrees", "_build/html", "_build/jupyter_execute")
# papermill's cell of injected parameters: the book reads the same values from the environment
INJECTED = "injected-parameters"


def cache_folder(root: Path = ROOT) -> Path:
    """The cache folder the book build uses, as `_config.yml` names it."""
    config = yaml.safe_load((root / "_config.yml").read_text())
    return root / config["execute"]["cache"]


def switch_profile(profile: str, root: Path = ROOT) -> bool:
    """Empty the build's state if it belongs to another profile than `profile`; True if it did."""
    marker = root / PROFILE_FILE
    if marker.exists() and marker.read_text().strip() == profile:
        return False
    for path in (cache_folder(root), *(root / state for state in BUILD_STATE)):
        shutil.rmtree(path, ignore_errors=True)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(profile + "\n")
    return True


@contextmanager
def opened(root: Path = ROOT, profile: str | None = None):
    """The book's jupyter-cache, held under a file lock: two test lanes store chapters at once, and
    jupyter-cache's SQLite writes from two processes can fail with "database is locked". With
    `profile`, the build's state of another profile is emptied first, under the same lock."""
    from jupyter_cache import get_cache

    folder = cache_folder(root)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.with_name(folder.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if profile is not None:
            switch_profile(profile, root)
        folder.mkdir(parents=True, exist_ok=True)
        yield get_cache(str(folder))


def book_notebook(chapter: Path) -> nbformat.NotebookNode:
    """The notebook myst-nb makes of a MyST chapter: its code cells and metadata are the cache key."""
    from myst_nb.core.config import NbParserConfig
    from myst_nb.core.read import create_nb_reader
    from myst_parser.config.main import MdParserConfig

    text = chapter.read_text()
    return create_nb_reader(str(chapter), MdParserConfig(), NbParserConfig(), text).read(text)


def with_outputs(chapter: Path, executed: Path) -> nbformat.NotebookNode:
    """`chapter` as the book reads it, with the outputs of `executed` (papermill's run of it)."""
    notebook = book_notebook(chapter)
    ran = [cell for cell in nbformat.read(executed, as_version=4).cells if cell.cell_type == "code" and INJECTED not in cell.metadata.get("tags", [])]
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    if len(ran) != len(code):
        raise ValueError(f"{executed} has {len(ran)} code cells, {chapter} has {len(code)}: not a run of this chapter")
    for cell, result in zip(code, ran):
        if cell.source != result.source:
            raise ValueError(f"{executed}: a code cell differs from {chapter}'s, so it is a run of another version:\n{cell.source[:200]}")
        cell.outputs = result.outputs
        cell.execution_count = result.execution_count
    return notebook


def store(chapter: Path, executed: Path, seconds: float, profile: str = "tiny", root: Path = ROOT) -> None:
    """Put papermill's successful run `executed` of `chapter`, made in `profile`, into the book's cache."""
    from jupyter_cache.base import CacheBundleIn

    notebook = with_outputs(chapter, executed)
    with opened(root, profile) as cache:
        bundle = CacheBundleIn(notebook, str(chapter.resolve()), data={"execution_seconds": seconds})
        cache.cache_notebook_bundle(bundle, check_validity=False, overwrite=True)


def forget(chapter: Path, root: Path = ROOT) -> None:
    """Remove `chapter`'s entry, if any, so that the next book build executes it."""
    with opened(root) as cache:
        try:
            record = cache.match_cache_notebook(book_notebook(chapter))
        except KeyError:
            return
        cache.remove_cache(record.pk)


def drop_book_pages(root: Path = ROOT) -> list[str]:
    """Remove the entries of the book's own pages (book/); returns their paths."""
    pages = (root / PAGES).resolve()
    dropped = []
    with opened(root) as cache:
        for record in cache.list_cache_records():
            if Path(record.uri).resolve().is_relative_to(pages):
                cache.remove_cache(record.pk)
                dropped.append(record.uri)
    return dropped


def prepare(profile: str, root: Path = ROOT) -> list[str]:
    """Before a build in `profile`: the state of another profile goes, and the book pages' entries."""
    with opened(root, profile):
        pass
    return drop_book_pages(root)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prepare", metavar="PROFILE", required=True, help="the profile the next build runs in")
    args = parser.parse_args(argv)
    for uri in prepare(args.prepare):
        print(f"book cache: {Path(uri).name} will execute again")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
