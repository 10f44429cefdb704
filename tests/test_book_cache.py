"""tools/book_cache.py: the test run's chapter executions reach the book build's cache under the key
the build looks up, and nothing stale or of another profile is rendered."""

from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from jupyter_cache import get_cache

from helpers.book import toc
from tests import book_handoff, conftest, project_tools

book_cache = project_tools.load("book_cache")

CHAPTER = """---
jupytext:
  text_representation:
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# A chapter

```{code-cell} ipython3
:tags: [parameters]
profile = None
```

Some prose.

```{code-cell} ipython3
print(41 + 1)
```
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "_config.yml").write_text("execute:\n  cache: _build/.jupyter_cache\n")
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "ch.md").write_text(CHAPTER)
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "page.md").write_text(CHAPTER.replace("41 + 1", "1 + 1"))
    return tmp_path


def papermill_run(chapter: Path, out: Path, text: str = "42\n") -> Path:
    """What papermill writes: the chapter's cells, an injected-parameters cell after the parameters
    cell, the outputs, and papermill's own cell metadata."""
    notebook = book_cache.book_notebook(chapter)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    injected = nbformat.v4.new_code_cell('profile = "tiny"', metadata={"tags": ["injected-parameters"]})
    code[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
    for number, cell in enumerate(code, 1):
        cell.execution_count = number
        cell.metadata["papermill"] = {"duration": 0.1}
    notebook.cells = [code[0], injected, *code[1:]]
    nbformat.write(notebook, out)
    return out


def cached_outputs(root: Path, chapter: Path) -> list:
    cache = get_cache(str(book_cache.cache_folder(root)))
    _, merged = cache.merge_match_into_notebook(book_cache.book_notebook(chapter))
    return [output for cell in merged.cells if cell.cell_type == "code" for output in cell.outputs]


def test_a_stored_run_is_what_the_book_build_finds_for_the_chapter(root, tmp_path):
    chapter = root / "notebooks" / "ch.md"
    book_cache.store(chapter, papermill_run(chapter, tmp_path / "run.ipynb"), 1.5, root=root)
    outputs = cached_outputs(root, chapter)
    assert [output["text"] for output in outputs] == ["42\n"]


def test_a_run_of_another_version_of_the_chapter_is_refused(root, tmp_path):
    chapter = root / "notebooks" / "ch.md"
    run = papermill_run(chapter, tmp_path / "run.ipynb")
    chapter.write_text(CHAPTER.replace("41 + 1", "40 + 2"))
    with pytest.raises(ValueError, match="another version"):
        book_cache.store(chapter, run, 1.0, root=root)


def test_forget_makes_the_build_execute_the_chapter_again(root, tmp_path):
    chapter = root / "notebooks" / "ch.md"
    book_cache.store(chapter, papermill_run(chapter, tmp_path / "run.ipynb"), 1.0, root=root)
    book_cache.forget(chapter, root=root)
    with pytest.raises(KeyError):
        cached_outputs(root, chapter)
    book_cache.forget(chapter, root=root)  # nothing left to forget: no error


def test_prepare_drops_the_book_pages_and_keeps_the_chapters(root, tmp_path):
    chapter, page = root / "notebooks" / "ch.md", root / "book" / "page.md"
    book_cache.store(chapter, papermill_run(chapter, tmp_path / "a.ipynb"), 1.0, root=root)
    book_cache.store(page, papermill_run(page, tmp_path / "b.ipynb", "2\n"), 1.0, root=root)
    assert book_cache.prepare("tiny", root=root) == [str(page.resolve())]
    assert cached_outputs(root, chapter)
    with pytest.raises(KeyError):
        cached_outputs(root, page)


def test_another_profile_empties_the_cache(root, tmp_path):
    chapter = root / "notebooks" / "ch.md"
    book_cache.store(chapter, papermill_run(chapter, tmp_path / "run.ipynb"), 1.0, root=root)
    (root / "_build" / "html").mkdir()
    book_cache.prepare("toy", root=root)
    assert (root / "_build" / ".profile").read_text().strip() == "toy"
    assert not (root / "_build" / "html").exists()
    with pytest.raises(KeyError):
        cached_outputs(root, chapter)


def item(name: str, which: str | None = None, group: str | None = None, notebook: str = "ch"):
    marks = [SimpleNamespace(args=(group,))] if group else []
    return SimpleNamespace(
        originalname=name,
        callspec=SimpleNamespace(params={"which": which, "notebook": Path(f"notebooks/{notebook}.md")})
        if which
        else None,
        iter_markers=lambda mark_name: marks if mark_name == "xdist_group" else [],
        label=(name, which, group) if notebook == "ch" else (which, notebook),
    )


def test_the_queue_puts_the_book_after_the_native_passes_and_before_the_portable_ones():
    items = [
        item("test_notebook", "default"),
        item("test_book_builds", group=conftest.BOOK_LANE),
        item("test_unit"),
        item("test_notebook", "native"),
    ]
    ordered = sorted(items, key=conftest.order_for_the_book)
    assert [entry.label for entry in ordered] == [
        ("test_unit", None, None),
        ("test_notebook", "native", None),
        ("test_book_builds", None, conftest.BOOK_LANE),
        ("test_notebook", "default", None),
    ]


def test_the_build_waits_for_this_runs_markers_only(tmp_path, monkeypatch):
    monkeypatch.setattr(book_handoff, "MARKERS", tmp_path)
    monkeypatch.setenv(book_handoff.RUN_ENV, "run-2")
    (tmp_path / "a.done").write_text("run-1")  # an earlier run's
    (tmp_path / "b.done").write_text("run-2")
    assert book_handoff.pending(["a", "b"]) == ["a"]
    assert book_handoff.wait_for(["a", "b"], limit=0.05, poll=0.01) == ["a"]
    book_handoff.mark_done("a")
    assert book_handoff.wait_for(["a", "b"], limit=0.05, poll=0.01) == []
    monkeypatch.delenv(book_handoff.RUN_ENV)
    assert book_handoff.pending(["c"]) == []  # one process runs the passes first: nothing to wait for


def test_each_pass_queues_the_chapters_longest_first_and_an_unmeasured_one_before_them():
    seconds = {"short": 5.0, "long": 70.0, "middle": 20.0}
    items = [item("test_notebook", which, notebook=name) for which in ("default", "native")
             for name in ("short", "new", "long", "middle")]
    ordered = sorted(items, key=lambda entry: conftest.order_for_the_book(entry, seconds))
    assert [entry.label for entry in ordered] == [
        (which, name) for which in ("native", "default") for name in ("new", "long", "middle", "short")
    ]


def test_the_committed_chapter_seconds_name_only_chapters_of_the_book():
    # benchmarks/notebooks.py rewrites the file; a chapter added since is queued first (its cost is
    # unknown) until the next run of the benchmark, so only a stale name is an error
    assert set(conftest.chapter_seconds()) <= {path.stem for path in toc.chapters()}
