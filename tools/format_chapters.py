"""Format the chapters' code cells with ruff, so that code fits the book's code column.

Every code cell of a chapter is run through `ruff format --line-length 88`; the chapter is then
written in the form JupyterLab saves (tools/normalize_chapters.py), so formatting and saving agree.
ruff wraps calls and literals but never splits a string or a comment: a line it leaves longer than
`LINE_LENGTH` is listed, to be shortened by hand. tests/test_chapter_format.py checks both.

    .venv/bin/python tools/format_chapters.py            # format the book's chapters (_toc.yml) in place
    .venv/bin/python tools/format_chapters.py --check    # list what would change or is too long; exit 1 if any
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import jupytext

sys.path.insert(0, str(Path(__file__).resolve().parent))
from normalize_chapters import chapters, normalized  # noqa: E402

# The code column of the rendered book holds 88 characters (book/_static/fieldnotes.css sizes it).
LINE_LENGTH = 88


def ruff() -> str:
    """The ruff executable of this venv (installed with the test extra)."""
    found = Path(sys.executable).with_name("ruff")
    if found.exists():
        return str(found)
    on_path = shutil.which("ruff")
    if on_path is None:
        raise RuntimeError("ruff is not installed: pip install -e '.[test]' (it brings ruff)")
    return on_path


def format_code(source: str, where: str = "cell") -> str:
    """`source` formatted by ruff at LINE_LENGTH; ValueError naming `where` if ruff cannot parse it."""
    result = subprocess.run(
        [ruff(), "format", "--line-length", str(LINE_LENGTH), "--stdin-filename", "cell.py", "-"],
        input=source,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise ValueError(f"{where}: ruff could not format this cell: {result.stderr.strip()}")
    return result.stdout.rstrip("\n")


def formatted(path: Path) -> str:
    """The chapter's text with every code cell formatted, in the form JupyterLab saves."""
    text = path.read_text()
    notebook = jupytext.reads(text, fmt="md:myst")
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and cell.source.strip():
            cell.source = format_code(cell.source, f"{path.name} code cell {index}")
    return normalized(jupytext.writes(notebook, fmt="md:myst"), path)


def long_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) of code-cell lines over LINE_LENGTH in a chapter's text."""
    out, in_code = [], False
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("```{code-cell}"):
            in_code = True
        elif in_code and line.startswith("```"):
            in_code = False
        elif in_code and len(line) > LINE_LENGTH:
            out.append((number, line))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report only; exit 1 if anything would change")
    parser.add_argument("chapters", nargs="*", type=Path, help="chapters or folders (default: the book's, in _toc.yml)")
    args = parser.parse_args(argv)
    problems = 0
    for path in chapters(args.chapters):
        new = formatted(path)
        if new != path.read_text():
            problems += 1
            print(f"{path.name}: {'would be reformatted' if args.check else 'reformatted'}")
            if not args.check:
                path.write_text(new)
        for number, line in long_lines(new):
            problems += 1
            print(f"{path.name}:{number}: {len(line)} > {LINE_LENGTH} characters: {line.strip()[:60]}...")
    return 1 if problems and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
