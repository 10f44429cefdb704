"""The book as a reader meets it: every page of _build/html in headless Chromium, with no internet.

Each page is served from 127.0.0.1 and loaded in Debian's Chromium (driven by Playwright). A page
passes when a reader would see nothing broken:
- no console error, no uncaught script error, no failed or 4xx/5xx request, and no request leaving
  127.0.0.1 (such requests are blocked and reported, so a CDN dependency fails here even on a
  machine that has internet);
- no "Traceback" and no error output;
- every image loads, and a chapter shows as many figures and tables as its executed notebook holds;
- math is typeset by the local MathJax, without TeX errors;
- the widgets policy holds: no widget output or widget script in the static pages, and each cell
  that would show a widget in JupyterLab has a figure or table beside it (in its section);
- the navigation lists every page of the book, with previous/next links;
- a chapter offers a .ipynb download that parses as the chapter's notebook (same cells).
Over every page built from a notebook, what issue 13 asks of a page a reader meets:
- no stderr block shows a library notice that helpers.notices drops;
- no text output is a raw dict dump (starts with "{" and runs over 15 lines);
- no code cell is wider than its block (the reader would scroll sideways).
The chapter's figure and table counts come from its executed copy in the execution cache. Chromium
gets a fresh temporary profile each run (Playwright's launch()).
One full-page screenshot per page goes to _build/screenshots/<page>.png, and a JSON summary of what
each page showed (counts, stderr blocks) to _build/screenshots/report.json.
The machinery (server, browser, page reading) is in tests/browser_support.py.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import asdict
from pathlib import Path

import pytest

from tests.browser_support import (
    GENERATED_PAGES,
    SCREENSHOTS,
    Expected,
    chapter_expectations,
    dict_dumps,
    expected_from_notebook,
    launch_chromium,
    library_notices,
    long_code_lines,
    notebook_pages,
    overwide_code,
    problems_of,
    serve,
    toc_pages,
    visit,
)

PAGES = toc_pages()
NOTEBOOK_PAGES = notebook_pages(PAGES)


# ---------------------------------------------------------------------------------------------
# Fixtures: the book served once, one browser, and each page visited once for the module


@pytest.fixture(scope="module")
def served_book(built_book):
    """(base URL, html folder) of the built book.

    Pages are checked even when the build logged warnings (tests/test_book.py fails on those), so
    that one warning does not hide what the reader would see.
    """
    if not (built_book.html / "index.html").exists():
        tail = "\n".join(built_book.log.splitlines()[-15:])
        pytest.fail(f"the book has no HTML (tests/test_book.py has the details); end of the build log:\n{tail}", pytrace=False)
    with serve(built_book.html) as base_url:
        yield base_url, built_book.html


@pytest.fixture(scope="module")
def browser():
    with launch_chromium() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def screenshots():
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    report: dict[str, dict] = {}
    yield report
    (SCREENSHOTS / "report.json").write_text(json.dumps(report, indent=1, sort_keys=True))


@pytest.fixture(scope="module")
def read_page(served_book, browser, screenshots):
    """read_page(page) -> Visit: the page loaded once (with its screenshot), whichever test asks first.

    Needs `screenshots` so that the screenshot folder is emptied before the first visit, not after.
    """
    base_url, html = served_book
    visits = {}

    def read(page):
        if page not in visits:
            if not (html / f"{page}.html").exists():
                pytest.fail(f"{page}.html was not built", pytrace=False)
            visits[page] = visit(browser, base_url, page, SCREENSHOTS / f"{page}.png")
        return visits[page]

    return read


# ---------------------------------------------------------------------------------------------
# Tests


@pytest.mark.parametrize("page", PAGES + GENERATED_PAGES)
def test_browser_page_as_a_reader_sees_it(page, served_book, read_page, screenshots):
    _, html = served_book
    result = read_page(page)
    expected = chapter_expectations(page, Path(html).parent)
    problems = problems_of(result, expected, PAGES)
    screenshots[page] = {
        **{k: v for k, v in asdict(result).items() if k != "seen"},
        "seen": {k: v for k, v in result.seen.items() if k not in ("text", "navLinks", "outputTexts", "codeBlocks")},
        "expected": asdict(expected) if expected else None,
        "problems": problems,
        # What the reader checks below look at, for a person deciding what is on purpose.
        "reader": {
            "stderr_blocks": [block.splitlines()[0] for block in result.seen["stderr"] if block] if result.seen else [],
            "dict_dumps": dict_dumps(result.seen) if result.seen else [],
            "overwide_code": overwide_code(result.seen) if result.seen else [],
            "long_code_lines": long_code_lines(result.seen) if result.seen else [],
        },
    }
    assert not problems, f"{page}: " + "\n  ".join([f"{len(problems)} problem(s)", *problems])


# The reader checks of issue 13, over every page built from a notebook


@pytest.mark.parametrize("page", NOTEBOOK_PAGES)
def test_browser_page_shows_no_library_notice(page, read_page):
    notices = library_notices(read_page(page).seen)
    assert not notices, f"{page}: stderr blocks with a library notice helpers.notices should drop:\n  " + "\n  ".join(notices)


def _offences(read_page, check) -> dict[str, list[str]]:
    return {page: found for page in NOTEBOOK_PAGES if (found := check(read_page(page).seen))}


def _describe(offences: dict[str, list[str]]) -> str:
    return "\n".join(f"{page}:\n  " + "\n  ".join(found) for page, found in offences.items())


# A record cell shows a folded table (helpers.book.record.Recorded), never a dict dump.
def test_browser_no_page_shows_a_raw_dict_dump(read_page):
    dumps = _offences(read_page, dict_dumps)
    assert not dumps, "text outputs that are a dict dump:\n" + _describe(dumps)


# Chapters' code is formatted to 88 columns; book/_static/fieldnotes.css sizes the code font so that
# 88 columns fit the code column of the test's 1280-px window.
def test_browser_no_code_cell_is_wider_than_its_block(read_page):
    wide = _offences(read_page, overwide_code)
    assert not wide, "code cells the reader must scroll sideways:\n" + _describe(wide)


def test_browser_every_built_page_is_checked(served_book):
    _, html = served_book
    # Sphinx lists the documents of this build in its search index (stale .html files are not).
    index = (html / "searchindex.js").read_text()
    built = set(json.loads(re.search(r'"docnames":\s*(\[[^\]]*\])', index).group(1)))
    assert built == set(PAGES), f"built but not visited: {sorted(built - set(PAGES))}; in _toc.yml but not built: {sorted(set(PAGES) - built)}"


def test_toc_pages_reads_parts_chapters_and_sections(tmp_path):
    toc = tmp_path / "_toc.yml"
    toc.write_text(
        "format: jb-book\nroot: book/intro\nparts:\n"
        "  - caption: A\n    chapters:\n      - file: notebooks/00-a\n        sections:\n          - file: notebooks/00-b.md\n"
        "  - caption: B\n    chapters:\n      - file: notebooks/01-c\n      - url: https://example.org\n        title: x\n"
    )
    assert toc_pages(toc) == ["book/intro", "notebooks/00-a", "notebooks/00-b", "notebooks/01-c"]


def test_expected_from_notebook_counts_what_the_page_must_show():
    def out(data):
        return {"output_type": "display_data", "data": data, "metadata": {}}

    nb = {
        "cells": [
            {"cell_type": "code", "metadata": {}, "outputs": [out({"image/png": "x"}), out({"text/html": ["<table>"]})]},
            {"cell_type": "code", "metadata": {"tags": ["remove-output"]}, "outputs": [out({"image/png": "x"})]},
            {"cell_type": "code", "metadata": {}, "outputs": [out({"application/vnd.jupyter.widget-view+json": {}, "text/plain": "x"})]},
            {"cell_type": "markdown", "metadata": {}, "source": "<table>"},
        ]
    }
    assert expected_from_notebook(nb) == Expected(images=1, tables=1, widget_outputs=1)


def test_browser_check_reports_what_a_reader_would_see_broken(tmp_path, browser):
    """The harness itself: a page with each kind of breakage yields one problem line for each."""
    (tmp_path / "broken.html").write_text(
        "<html><body><article><p>Traceback (most recent call last):</p>"
        '<div class="cell_output"><img src="missing.png"></div>'
        '<section><div class="cell"><div class="cell_input"><pre>show_widget(build)  # ipywidgets</pre></div></div></section>'
        '<script type="application/vnd.jupyter.widget-view+json">{"model_id": "x"}</script>'
        '<script>console.error("boom")</script>'
        '<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>'
        "<script>notDefinedAnywhere()</script>"
        "</article></body></html>"
    )
    with serve(tmp_path) as base_url:
        result = visit(browser, base_url, "broken", tmp_path / "broken.png")
    problems = "\n".join(problems_of(result, Expected(images=1, cells=1), []))
    for expected in (
        "console error: boom",
        "script error: notDefinedAnywhere is not defined",
        "missing.png: HTTP 404",
        "request leaving the machine (the book must work offline): https://cdn.jsdelivr.net/",
        "the page shows a Traceback",
        "image does not load",
        "0 figures rendered, the executed notebook has 1",
        "no .ipynb download link",
        "1 widget element(s) or widget script(s) in a static page",
        "a widget cell (show_widget(build)  # ipywidgets) has no static figure or table in its section",
    ):
        assert expected in problems, f"not reported: {expected!r}; reported:\n{problems}"
    assert (tmp_path / "broken.png").stat().st_size > 0


def test_reader_checks_catch_a_notice_a_dict_dump_and_overwide_code(tmp_path, browser):
    """The three reader checks on a page that breaks each once, beside blocks that pass each."""
    dump = "{" + ",\n".join(f"'figure_{i}': {i}" for i in range(20)) + "}"
    short = "{" + ",\n".join(f"'figure_{i}': {i}" for i in range(5)) + "}"
    wide = "x = " + "1 + " * 60 + "1"
    (tmp_path / "reader.html").write_text(
        "<html><head><style>pre { width: 400px; overflow: auto; white-space: pre; }</style></head>"
        "<body><article>"
        '<div class="cell"><div class="cell_input"><pre>x = 1</pre></div>'
        '<div class="cell_output"><div class="output stderr"><pre>'
        "The WuerstchenDecoderPipeline has been deprecated and will not receive bug fixes.</pre></div>"
        '<div class="output stderr"><pre>a stderr line that is no library notice</pre></div></div></div>'
        f'<div class="cell"><div class="cell_input"><pre>{wide}</pre></div>'
        f'<div class="cell_output"><div class="output text_plain"><pre>{dump}</pre></div>'
        f'<div class="output text_plain"><pre>{short}</pre></div></div></div>'
        "</article></body></html>"
    )
    with serve(tmp_path) as base_url:
        seen = visit(browser, base_url, "reader", tmp_path / "reader.png").seen
    assert library_notices(seen) == ["The WuerstchenDecoderPipeline has been deprecated and will not receive bug fixes."]
    assert dict_dumps(seen) == ["20 lines: {'figure_0': 0,"]
    (overwide,) = overwide_code(seen)
    assert f"longest line {len(wide)} characters" in overwide
    assert long_code_lines(seen) == [f"{len(wide)} characters: {wide[:120]}"]
