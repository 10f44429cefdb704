"""The book build is a test: every chapter executes and Sphinx emits no warning (-W -n); and the
book's one chapter list, _toc.yml, holds every chapter file in the order of their numbers.

The tests that read the built book are `slow` (tests/conftest.py marks every test that needs it)."""

import re
from pathlib import Path

from helpers.book import toc

ROOT = Path(__file__).resolve().parent.parent


def test_book_builds_without_errors_or_warnings(built_book):
    problems = [line for line in built_book.log.splitlines() if re.search(r"WARNING:|ERROR|Traceback", line)]
    assert built_book.returncode == 0, "jupyter-book build failed:\n" + "\n".join(problems[:20] or built_book.log.splitlines()[-20:])
    assert not problems, "the build logged:\n" + "\n".join(problems[:20])


def test_every_chapter_has_a_page(built_book):
    missing = [nb.stem for nb in toc.chapters() if not (built_book.html / "notebooks" / f"{nb.stem}.html").exists()]
    assert not missing, f"chapters without an HTML page: {missing}"


def test_every_chapter_file_is_in_the_toc():
    """_toc.yml is the one chapter list (helpers.book.toc): a chapter file it left out would be on no page
    and in no test. An entry whose file does not exist fails toc.chapters() itself."""
    # the one glob of notebooks/ in the project: what the list is checked against
    on_disk = sorted(path.name for path in (ROOT / "notebooks").glob("*.md"))
    in_toc = sorted(path.name for path in toc.chapters())
    assert on_disk == in_toc, (
        f"notebooks/ and _toc.yml disagree: only in notebooks/ {sorted(set(on_disk) - set(in_toc))} "
        f"(add them to _toc.yml), only in _toc.yml {sorted(set(in_toc) - set(on_disk))}"
    )


def test_chapter_files_are_numbered_in_reading_order():
    """A reader who lists notebooks/ sees the chapters in the order the book's contents show them."""
    in_toc = [path.stem for path in toc.chapters()]
    numbers = [int(name.split("-")[0]) for name in in_toc]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers), f"_toc.yml order is not the file numbers' order: {in_toc}"


def test_every_chapter_links_the_helpers_reference_page():
    chapters = toc.chapters()
    unlinked = [c.stem for c in chapters if "(../book/helpers-reference.md)" not in c.read_text()]
    assert not unlinked, f"chapters without a link to the helpers reference page: {unlinked}"


def test_every_claim_is_anchored_in_its_chapter_page_and_linked_from_the_claims_page(built_book):
    from helpers.book import ledger

    claims_page = (built_book.html / "book" / "claims.html").read_text()
    missing = []
    for claim in ledger.scan():
        page = (built_book.html / "notebooks" / f"{claim.chapter}.html").read_text()
        if f'id="claim-{claim.claim}"' not in page:
            missing.append(f"{claim.chapter}: no anchor for {claim.claim}")
        if f'href="../notebooks/{claim.chapter}.html#claim-{claim.claim}"' not in claims_page:
            missing.append(f"claims page: no link to {claim.claim}")
    assert not missing, "\n".join(missing[:20])
