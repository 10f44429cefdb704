"""Every chapter is committed in the form JupyterLab's save writes, so running a chapter in `make lab`
and saving it (or letting autosave do it) leaves no diff in git.

The save is replayed without a browser by tools/normalize_chapters.py (`saved_by_lab`: the kernelspec
JupyterLab sets, a JSON round trip, jupytext's writer with notebooks/jupytext.toml); tests/test_lab.py
checks a real JupyterLab save agrees with it. A failing chapter is fixed by running
`.venv/bin/python tools/normalize_chapters.py`.
"""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest

from helpers.book import toc
from tests import project_tools

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
CHAPTERS = toc.chapters()


tool = project_tools.load("normalize_chapters")


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_chapter_is_saved_unchanged_by_jupyterlab(chapter):
    text = chapter.read_text(encoding="utf-8")
    saved = tool.saved_by_lab(text, chapter)
    if saved != text:
        diff = "".join(list(difflib.unified_diff(
            text.splitlines(True), saved.splitlines(True), "committed", "saved from JupyterLab", n=0))[:40])
        pytest.fail(
            f"{chapter.name}: a save from JupyterLab would change the file; "
            f"run .venv/bin/python tools/normalize_chapters.py\n{diff}",
            pytrace=False,
        )


def test_chapters_folder_has_the_jupytext_config_the_lab_uses():
    # JupyterLab's root is notebooks/ and jupytext's contents manager does not look above its root.
    config = tool.lab_config(NOTEBOOKS)
    assert (NOTEBOOKS / "jupytext.toml").is_file()
    assert config.notebook_metadata_filter == "-jupytext.text_representation.jupytext_version"


CHAPTER = """\
---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
    format_version: 0.13
    jupytext_version: 1.0.0
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# A chapter

```{code-cell} ipython3
:tags: [parameters]

seed = 0


```

Text.

```{code-cell} ipython3


print(seed)
```
"""


@pytest.fixture
def folder(tmp_path):
    shutil.copy2(NOTEBOOKS / "jupytext.toml", tmp_path / "jupytext.toml")
    return tmp_path


def test_normalizer_reaches_the_form_a_save_keeps(folder):
    chapter = folder / "00-a.md"
    chapter.write_text(CHAPTER)
    result = tool.normalized(CHAPTER, chapter)
    assert tool.saved_by_lab(result, chapter) == result
    header = result.split("---")[1]
    # The kernelspec JupyterLab writes (its key order), no jupytext version, blank lines at the ends of
    # code cells gone (one per save: two saves in a row would both have changed this file).
    kernel = tool.lab_kernelspec()
    assert header.endswith(
        f"kernelspec:\n  name: python3\n  display_name: {kernel['display_name']}\n  language: python\n")
    assert "jupytext_version" not in header
    assert "seed = 0\n```" in result and "ipython3\nprint(seed)\n```" in result
    assert tool.saved_by_lab(CHAPTER, chapter) != tool.saved_by_lab(tool.saved_by_lab(CHAPTER, chapter), chapter)
    # Only whitespace at the ends of cells and the header change.
    import jupytext

    before, after = jupytext.reads(CHAPTER, fmt="md:myst"), jupytext.reads(result, fmt="md:myst")
    assert [(c.cell_type, c.source.strip(), c.metadata) for c in before.cells] == [
        (c.cell_type, c.source.strip(), c.metadata) for c in after.cells]


def test_normalizer_cli_checks_then_rewrites(folder, capsys):
    chapter = folder / "00-a.md"
    chapter.write_text(CHAPTER)
    assert tool.main(["--check", str(folder)]) == 1
    assert chapter.read_text() == CHAPTER, "--check must not write"
    assert "would change 1 chapter" in capsys.readouterr().out
    assert tool.main([str(folder)]) == 0
    assert chapter.read_text() == tool.normalized(CHAPTER, chapter)
    assert tool.main(["--check", str(folder)]) == 0


def test_normalizer_refuses_what_is_not_a_myst_chapter(folder):
    with pytest.raises(ValueError, match="not a MyST notebook"):
        tool.normalized("# plain markdown\n", folder / "plain.md")
    with pytest.raises(ValueError, match="not a .md file"):
        tool.normalized(CHAPTER, folder / "chapter.py")
    with pytest.raises(TypeError, match="text: expected"):
        tool.normalized(CHAPTER.encode(), folder / "chapter.md")
    with pytest.raises(ValueError, match="does not exist"):
        tool.main([str(folder / "missing.md")])
    with pytest.raises(ValueError, match="not a kernel of this venv"):
        tool.lab_kernelspec("no-such-kernel")


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_chapter_code_is_formatted_to_fit_the_page(chapter):
    """Every code cell is as ruff formats it at the book's line length, and no code line is longer
    (ruff never splits a string or a comment: those are shortened by hand).
    `.venv/bin/python tools/format_chapters.py` fixes the first; it lists the second."""
    formatter = project_tools.load("format_chapters")
    formatted, long_lines, LINE_LENGTH = formatter.formatted, formatter.long_lines, formatter.LINE_LENGTH
    text = chapter.read_text()
    assert formatted(chapter) == text, f"{chapter.name}: run .venv/bin/python tools/format_chapters.py"
    too_long = long_lines(text)
    assert not too_long, f"{chapter.name}: code lines over {LINE_LENGTH} characters: " + ", ".join(
        f"line {n} ({len(line)})" for n, line in too_long
    )
