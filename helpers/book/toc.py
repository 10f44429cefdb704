"""The book's chapters in reading order, read from its table of contents, `_toc.yml`.

`_toc.yml` (Jupyter Book 1) is the one list of chapters: the book build reads it, and so do the
tests, tools and benchmarks that go over every chapter, through `chapters()`. Adding a chapter is
adding its line there (CONTRIBUTING.md); a chapter file that `_toc.yml` leaves out is one the book
would not show, which tests/test_book.py refuses.

`_toc.yml` exists only in a checkout of the repository. An installed wheel has no book, and nothing
in `helpers` reads it there: `ledger.scan(folder)` reads a folder's chapters instead, and PyYAML is
imported only when `chapters()` runs.
"""

from __future__ import annotations

from pathlib import Path

from .. import validate

# what a reader is meant to use (the reference page lists these)
__all__ = ["TOC", "chapters"]

ROOT = Path(__file__).resolve().parents[2]  # helpers/book/<module>.py -> the checkout
TOC = ROOT / "_toc.yml"
CHAPTERS_FOLDER = "notebooks"
_NESTING = ("parts", "chapters", "sections")


def _entries(node, where: str) -> list[str]:
    """The `file` of every entry under `node`, in the order the book shows them."""
    if isinstance(node, list):
        return [file for item in node for file in _entries(item, where)]
    if not isinstance(node, dict):
        raise ValueError(f"{where}: an entry must be a mapping with a `file`, got {type(node).__name__} {node!r:.60}")
    if "glob" in node:
        raise ValueError(f"{where}: `glob: {node['glob']}` lists no file by name; name each chapter with `file:`")
    files = [str(node["file"])] if "file" in node else []
    for key in _NESTING:
        files += _entries(node.get(key, []), where)
    return files


def chapters(toc: str | Path | None = None) -> list[Path]:
    """The chapter files (`notebooks/NN-name.md`) that the table of contents `toc` (default: the
    checkout's `_toc.yml`, TOC) lists, in the book's reading order: the entries under its parts,
    chapters and sections whose file is in the notebooks/ folder beside it, named without a suffix
    or with `.md`.

    Refuses: a toc that is not an existing file (ValueError; a wheel has none: pass `ledger.scan` a
    folder instead); a file that is not a Jupyter Book table of contents, an entry with `glob:`, a
    chapter that is not MyST markdown, a chapter listed twice, or no chapter at all (ValueError); an
    entry whose chapter file does not exist (FileNotFoundError naming it).
    """
    import yaml

    file = validate.existing_file("toc", TOC if toc is None else toc)
    book = yaml.safe_load(file.read_text())
    if not isinstance(book, dict) or "root" not in book:
        raise ValueError(f"{file} is not a Jupyter Book table of contents: it needs a `root` and its entries")
    found = []
    for entry in _entries({key: book[key] for key in _NESTING if key in book}, str(file)):
        if not entry.startswith(f"{CHAPTERS_FOLDER}/"):
            continue  # a page of book/, not a chapter
        path = file.parent / (entry if Path(entry).suffix else f"{entry}.md")
        if path.suffix != ".md":
            raise ValueError(f"{file}: {entry} is not a chapter; chapters are MyST markdown, notebooks/NN-name.md")
        if path in found:
            raise ValueError(f"{file} lists {entry} twice; a chapter has one place in the book")
        if not path.is_file():
            raise FileNotFoundError(f"{file} lists {entry}, but {path} does not exist: add the chapter or remove its entry")
        found.append(path)
    if not found:
        raise ValueError(f"{file} lists no chapter (no entry in {CHAPTERS_FOLDER}/)")
    return found
