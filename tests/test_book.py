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


def test_chapter_files_are_numbered_in_reading_order():
    """A reader who lists notebooks/ sees the chapters in the order the book's contents show them."""
    import yaml
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    in_toc = [c["file"].split("/")[-1] for part in toc["parts"] for c in part["chapters"] if c["file"].startswith("notebooks/")]
    on_disk = sorted(p.stem for p in (root / "notebooks").glob("*.md"))
    assert sorted(in_toc) == on_disk, f"_toc.yml and notebooks/ list different chapters: {sorted(in_toc)} vs {on_disk}"
    numbers = [int(name.split("-")[0]) for name in in_toc]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers), f"_toc.yml order is not the file numbers' order: {in_toc}"


def test_every_chapter_links_the_helpers_reference_page():
    from pathlib import Path

    chapters = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.md"))
    unlinked = [c.stem for c in chapters if "(../book/helpers-reference.md)" not in c.read_text()]
    assert not unlinked, f"chapters without a link to the helpers reference page: {unlinked}"


def test_every_claim_is_anchored_in_its_chapter_page_and_linked_from_the_claims_page(built_book):
    from helpers import ledger

    claims_page = (built_book.html / "book" / "claims.html").read_text()
    missing = []
    for claim in ledger.scan():
        page = (built_book.html / "notebooks" / f"{claim.chapter}.html").read_text()
        if f'id="claim-{claim.claim}"' not in page:
            missing.append(f"{claim.chapter}: no anchor for {claim.claim}")
        if f'href="../notebooks/{claim.chapter}.html#claim-{claim.claim}"' not in claims_page:
            missing.append(f"claims page: no link to {claim.claim}")
    assert not missing, "\n".join(missing[:20])
