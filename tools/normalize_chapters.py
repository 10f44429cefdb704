"""Rewrite chapters into the form JupyterLab's save writes, so that opening, running and saving a
chapter in `make lab` leaves the file byte for byte as committed.

A save in JupyterLab goes: the notebook the browser holds, whose `kernelspec` the kernel session has
replaced by {name, display_name, language} of the running kernel (in that key order), is sent as JSON
to jupytext's contents manager, which writes it as MyST with the jupytext configuration it finds in
the chapter's folder (notebooks/jupytext.toml). `saved_by_lab()` applies that same path to a file's
text; `normalized()` repeats it until nothing changes. tests/test_chapter_format.py checks that every
chapter is saved unchanged, and tests/test_lab.py that a real JupyterLab save agrees.

    .venv/bin/python tools/normalize_chapters.py            # rewrite the book's chapters where needed
    .venv/bin/python tools/normalize_chapters.py --check    # list what would change; exit 1 if any
    .venv/bin/python tools/normalize_chapters.py PATH ...   # other files or folders
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from pathlib import Path

import jupytext
import nbformat
from jupytext.config import (
    JUPYTEXT_CONFIG_FILES,
    JupytextConfiguration,
    find_global_jupytext_configuration_file,
    load_jupytext_configuration_file,
    notebook_formats,
    preferred_format,
)

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
sys.path.insert(0, str(ROOT))  # helpers, for the book's chapter list

from helpers.book import toc  # noqa: E402


def lab_config(folder: Path) -> JupytextConfiguration:
    """The jupytext configuration JupyterLab's contents manager uses for a chapter in `folder`.

    `make lab` serves notebooks/ as the root, so the manager looks in the chapter's folder only (it
    does not search above its root), then falls back to the user's global jupytext configuration, as
    this does. A hidden config file is skipped, as the manager skips it by default.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"folder: {folder} is not a directory; pass the folder that holds the chapters")
    for name in JUPYTEXT_CONFIG_FILES:
        if not name.startswith(".") and (folder / name).is_file():
            return load_jupytext_configuration_file(str(folder / name)) or JupytextConfiguration()
    global_file = find_global_jupytext_configuration_file()
    return (load_jupytext_configuration_file(global_file) if global_file else None) or JupytextConfiguration()


def lab_kernelspec(name: str = "python3") -> dict:
    """The kernelspec metadata JupyterLab writes into a notebook running kernel `name`.

    Looked up in this venv's kernelspecs, which `make lab` (JUPYTER_PREFER_ENV_PATH=1) puts before
    the user's. JupyterLab sets {name, display_name, language} in that order; jupytext keeps it.
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    manager = KernelSpecManager(kernel_dirs=[str(Path(sys.prefix) / "share" / "jupyter" / "kernels")])
    try:
        spec = manager.get_kernel_spec(name)
    except NoSuchKernel:
        raise ValueError(
            f"kernel: {name!r} is not a kernel of this venv ({sys.prefix}); "
            f"it has {sorted(manager.find_kernel_specs())}"
        ) from None
    return {"name": name, "display_name": spec.display_name, "language": spec.language}


def saved_by_lab(text: str, path: str | Path = "chapter.md", config: JupytextConfiguration | None = None,
                 kernelspec: dict | None = None) -> str:
    """The text JupyterLab saves after opening `text` (a MyST notebook) as a notebook, once.

    `path` only names the file in errors and picks the format by its extension. `config` defaults
    to `lab_config(path's folder)`, `kernelspec` to `lab_kernelspec()` of the kernel the chapter
    names. Refuses (ValueError) a file that is not a jupytext MyST notebook with a kernelspec.
    """
    path = Path(path)
    if not isinstance(text, str):
        raise TypeError(f"text: expected the file's text as str, got {type(text).__name__}")
    if path.suffix != ".md":
        raise ValueError(f"path: {path} is not a .md file; chapters are MyST markdown notebooks")
    if config is None:
        config = lab_config(path.parent if path.parent.is_dir() else NOTEBOOKS)
    notebook = jupytext.reads(text, fmt=preferred_format(path.suffix, config.preferred_jupytext_formats_read),
                              config=config)
    representation = notebook.metadata.get("jupytext", {}).get("text_representation", {})
    if representation.get("format_name") != "myst":
        raise ValueError(
            f"{path}: not a MyST notebook (its jupytext header says format_name="
            f"{representation.get('format_name')!r}; expected 'myst')"
        )
    if "name" not in notebook.metadata.get("kernelspec", {}):
        raise ValueError(f"{path}: the header has no kernelspec name; expected e.g. kernelspec: {{name: python3}}")
    notebook.metadata["kernelspec"] = kernelspec or lab_kernelspec(notebook.metadata["kernelspec"]["name"])
    # The browser sends the notebook as JSON; the server rebuilds it with nbformat.from_dict.
    notebook = nbformat.from_dict(json.loads(json.dumps(notebook)))
    formats = [fmt for fmt in notebook_formats(notebook, config, str(path)) if fmt["extension"] == path.suffix]
    if len(formats) != 1:
        raise ValueError(f"{path}: expected one {path.suffix} format for the file, jupytext gives {formats}")
    return jupytext.writes(notebook, fmt=formats[0], config=config)


def normalized(text: str, path: str | Path = "chapter.md", config: JupytextConfiguration | None = None,
               kernelspec: dict | None = None) -> str:
    """The text that JupyterLab saves unchanged: `saved_by_lab` repeated until it changes nothing.

    One save is not always enough: jupytext drops one blank line at each end of a code cell per
    round trip, so a cell ending in two blank lines changes on two saves in a row. Arguments and
    refusals are those of `saved_by_lab`; raises RuntimeError if no fixed point comes in 10 rounds.
    """
    for _ in range(10):
        result = saved_by_lab(text, path, config, kernelspec)
        if result == text:
            return result
        text = result
    raise RuntimeError(f"{path}: jupytext's round trip still changes the file after 10 rounds")


def chapters(paths: list[Path]) -> list[Path]:
    """The .md files named, or inside the folders named, or with no path the book's chapters (the
    list of _toc.yml, helpers.book.toc); refuses a path that does not exist."""
    if not paths:
        return toc.chapters()
    found = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(path.glob("*.md")))
        elif path.is_file():
            found.append(path)
        else:
            raise ValueError(f"path: {path} does not exist; pass chapter files or folders of chapters")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path,
                        help="chapters or folders (default: the book's chapters, listed in _toc.yml)")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; show what would change, exit 1 if anything would")
    args = parser.parse_args(argv)
    changed = []
    for path in chapters(args.paths):
        text = path.read_text(encoding="utf-8")
        result = normalized(text, path)
        if result == text:
            continue
        changed.append(path)
        if args.check:
            lines = text.splitlines(True), result.splitlines(True)
            sys.stdout.writelines(difflib.unified_diff(*lines, str(path), f"{path} (normalized)", n=1))
        else:
            path.write_text(result, encoding="utf-8")
    verb = "would change" if args.check else "rewrote"
    print(f"{verb} {len(changed)} chapter(s)" + "".join(f"\n  {p}" for p in changed))
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
