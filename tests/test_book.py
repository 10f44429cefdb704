"""The book build is a test: every chapter executes and Sphinx emits no warning (-W -n)."""

import re


def test_book_builds_without_errors_or_warnings(built_book):
    problems = [line for line in built_book.log.splitlines() if re.search(r"WARNING:|ERROR|Traceback", line)]
    assert built_book.returncode == 0, "jupyter-book build failed:\n" + "\n".join(problems[:20] or built_book.log.splitlines()[-20:])
    assert not problems, "the build logged:\n" + "\n".join(problems[:20])


def test_every_chapter_has_a_page(built_book):
    from tests.test_notebooks import NOTEBOOKS

    missing = [nb.stem for nb in NOTEBOOKS if not (built_book.html / "notebooks" / f"{nb.stem}.html").exists()]
    assert not missing, f"chapters without an HTML page (are they in _toc.yml?): {missing}"
