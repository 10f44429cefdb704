"""helpers.book.toc: the book's one chapter list, read from _toc.yml (the checkout's own is checked
against notebooks/ in tests/test_book.py)."""

import textwrap

import pytest

from helpers.book import ledger, toc


def _book(folder, toc_text: str, chapters=("00-a", "01-b", "02-c")):
    (folder / "notebooks").mkdir()
    for name in chapters:
        (folder / "notebooks" / f"{name}.md").write_text(f"# {name}\n")
    (folder / "_toc.yml").write_text(textwrap.dedent(toc_text))
    return folder / "_toc.yml"


def test_chapters_are_the_notebooks_entries_in_the_tocs_order_at_any_depth(tmp_path):
    file = _book(
        tmp_path,
        """\
        format: jb-book
        root: book/intro
        parts:
          - caption: One
            chapters:
              - file: book/reading
              - file: notebooks/01-b
                sections:
                  - file: notebooks/00-a.md
          - caption: Two
            chapters:
              - file: notebooks/02-c
              - url: https://example.org
                title: elsewhere
        """,
    )
    assert [path.name for path in toc.chapters(file)] == ["01-b.md", "00-a.md", "02-c.md"]
    assert all(path.is_file() for path in toc.chapters(file))


def test_chapters_reads_a_toc_without_parts(tmp_path):
    file = _book(tmp_path, "root: book/intro\nchapters:\n  - file: notebooks/00-a\n", chapters=("00-a",))
    assert toc.chapters(file) == [tmp_path / "notebooks" / "00-a.md"]


def test_the_checkouts_toc_lists_the_chapters_in_reading_order():
    chapters = toc.chapters()
    assert chapters == toc.chapters(toc.TOC)
    assert chapters[0].stem == "00-pipeline-zoo" and all(path.parent == toc.ROOT / "notebooks" for path in chapters)


def test_chapters_names_an_entry_whose_file_does_not_exist(tmp_path):
    file = _book(tmp_path, "root: book/intro\nchapters:\n  - file: notebooks/00-a\n  - file: notebooks/03-gone\n")
    with pytest.raises(FileNotFoundError, match=r"lists notebooks/03-gone, but .*03-gone\.md does not exist"):
        toc.chapters(file)


@pytest.mark.parametrize(
    ("toc_text", "message"),
    [
        ("- file: notebooks/00-a\n", "is not a Jupyter Book table of contents"),
        ("root: book/intro\nchapters:\n  - glob: notebooks/*\n", r"`glob: notebooks/\*` lists no file by name"),
        ("root: book/intro\nchapters:\n  - file: notebooks/00-a.ipynb\n", "is not a chapter; chapters are MyST markdown"),
        ("root: book/intro\nchapters:\n  - file: notebooks/00-a\n  - file: notebooks/00-a.md\n", "lists notebooks/00-a.md twice"),
        ("root: book/intro\nchapters:\n  - file: book/reading\n", "lists no chapter"),
        ("root: book/intro\nchapters:\n  - notebooks/00-a\n", "an entry must be a mapping with a `file`"),
    ],
    ids=["no-root", "glob", "ipynb", "twice", "no-chapter", "bare-string"],
)
def test_chapters_refuses_what_is_not_a_list_of_chapters(tmp_path, toc_text, message):
    file = _book(tmp_path, toc_text)
    with pytest.raises(ValueError, match=message):
        toc.chapters(file)


def test_chapters_refuses_a_missing_toc_and_a_non_path(tmp_path):
    with pytest.raises(ValueError, match="toc must be an existing file"):
        toc.chapters(tmp_path / "_toc.yml")
    with pytest.raises(TypeError, match="toc must be a path"):
        toc.chapters(3)


def test_without_a_checkout_the_ledger_scans_a_folder_and_never_reads_a_toc(tmp_path, monkeypatch):
    # as in an installed wheel: helpers/ has no _toc.yml beside it
    monkeypatch.setattr(toc, "TOC", tmp_path / "_toc.yml")
    with pytest.raises(ValueError, match="toc must be an existing file"):
        ledger.scan()
    (tmp_path / "01-a.md").write_text(
        '```{code-cell} ipython3\nwith still_true("a-claim", "it holds"):\n    pass\n```\n'
    )
    assert [claim.claim for claim in ledger.scan(tmp_path)] == ["a-claim"]


def test_the_ledger_scans_the_books_chapters_in_reading_order():
    order = [path.stem for path in toc.chapters()]
    chapters = [claim.chapter for claim in ledger.scan()]
    assert chapters == sorted(chapters, key=order.index)
