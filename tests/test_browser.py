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
The chapter's figure and table counts come from its executed copy in the execution cache. Chromium
gets a fresh temporary profile each run (Playwright's launch()).
One full-page screenshot per page goes to _build/screenshots/<page>.png, and a JSON summary of what
each page showed (counts, stderr blocks) to _build/screenshots/report.json.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import re
import shutil
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = os.environ.get("FIELDNOTES_CHROMIUM", "/usr/bin/chromium")
# Flags that let Chromium run headless as root in a container, and keep it from calling home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Pages Sphinx writes besides the table of contents.
GENERATED_PAGES = ["genindex", "search"]
# A Python warning raised by a chapter's own code names the kernel's cell file: that is a bug in
# the chapter (a deprecated call), unlike a library's log line, which the report only lists.
CHAPTER_WARNING = re.compile(r"ipykernel_\d+/\d+\.py:\d+: \w*Warning")
WIDGET_MIME = "application/vnd.jupyter.widget"
IMAGE_MIMES = ("image/png", "image/jpeg", "image/svg+xml", "image/gif")
PAGE_TIMEOUT_MS = 30_000


def toc_pages(toc_file: Path = ROOT / "_toc.yml") -> list[str]:
    """Docnames of the book's pages in reading order: the root, then every `file` entry of _toc.yml."""
    toc = yaml.safe_load(toc_file.read_text())
    pages = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                pages.append(str(node["file"]).removesuffix(".md").removesuffix(".ipynb"))
            for key in ("parts", "chapters", "sections"):
                walk(node.get(key, []))
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return pages


PAGES = toc_pages()


# ---------------------------------------------------------------------------------------------
# What the executed notebook says the page should show


@dataclass
class Expected:
    images: int = 0
    tables: int = 0
    widget_outputs: int = 0
    cells: int = 0
    # True when neither the execution cache nor jupyter_execute/ holds the chapter's outputs
    unavailable: bool = False


def _removed_outputs(cell: dict) -> bool:
    tags = set(cell.get("metadata", {}).get("tags", []))
    return bool(tags & {"remove-output", "remove-cell"})


def expected_from_notebook(nb: dict) -> Expected:
    """Counts of image outputs, HTML table outputs and widget outputs the page must (not) show."""
    expected = Expected()
    for cell in nb["cells"]:
        if cell["cell_type"] != "code" or _removed_outputs(cell):
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if any(mime.startswith(WIDGET_MIME) for mime in data):
                expected.widget_outputs += 1
            elif any(mime in data for mime in IMAGE_MIMES):
                expected.images += 1
            elif "<table" in "".join(data.get("text/html", "")):
                expected.tables += 1
    return expected


def _executed_copy(notebook, build: Path, page: str) -> dict | None:
    """`notebook` with the outputs this build shows, or None where no executed copy is found.

    From the execution cache first: on a cache hit MyST-NB 1.4 writes its jupyter_execute/ copy
    without outputs, so that copy holds them only when this very build executed the chapter.
    """
    config = yaml.safe_load((ROOT / "_config.yml").read_text()) or {}
    cache_dir = ROOT / ((config.get("execute") or {}).get("cache") or "_build/.jupyter_cache")
    if cache_dir.is_dir():
        from jupyter_cache import get_cache

        try:
            return get_cache(cache_dir).merge_match_into_notebook(notebook)[1]
        except KeyError:  # no cached execution of these exact cells
            pass
    copy = build / "jupyter_execute" / f"{page}.ipynb"
    if copy.is_file():
        executed = json.loads(copy.read_text())
        if any(cell.get("outputs") for cell in executed["cells"]):
            return executed
    return None


def chapter_expectations(page: str, build: Path) -> Expected | None:
    """What the page of a notebook must show, from its executed copy; None for a page that is no notebook."""
    source = ROOT / f"{page}.md"
    if not source.is_file():
        return None
    import jupytext

    notebook = jupytext.read(source)
    if "kernelspec" not in notebook.metadata:
        return None
    executed = _executed_copy(notebook, build, page)
    expected = expected_from_notebook(executed) if executed is not None else Expected(unavailable=True)
    expected.cells = len(notebook.cells)
    return expected


# ---------------------------------------------------------------------------------------------
# A local web server and one browser for the module


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".woff": "font/woff", ".js": "text/javascript"}

    def log_message(self, *args):  # the test reports what matters; no access log on stderr
        pass


@contextlib.contextmanager
def serve(directory: Path):
    """Serve `directory` on a free port of 127.0.0.1 for the duration of the block; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


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


def _missing_browser(reason: str):
    # CI installs Chromium and Playwright (make test); elsewhere a missing browser is a skip, not a pass.
    if os.environ.get("CI"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing_browser("Playwright's Python package is not installed (pip install playwright)")
    if not Path(CHROMIUM).is_file():
        _missing_browser(f"no Chromium at {CHROMIUM} (apt-get install chromium chromium-driver, or set FIELDNOTES_CHROMIUM)")
    with sync_playwright() as playwright:
        # launch() gives Chromium a fresh, temporary profile (user data dir) every time.
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def screenshots():
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    report: dict[str, dict] = {}
    yield report
    (SCREENSHOTS / "report.json").write_text(json.dumps(report, indent=1, sort_keys=True))


# ---------------------------------------------------------------------------------------------
# One visit: load the page and read what the reader sees

# Runs in the page once it has loaded (and MathJax, where the page has math, has typeset).
_READ_PAGE = r"""
() => {
  const article = document.querySelector('article') || document.body;
  const loaded = img => img.complete && img.naturalWidth > 0;
  const cellImages = [...article.querySelectorAll('.cell_output img')];
  // A cell that builds an ipywidgets control (shown only in JupyterLab, through helpers.widgets.show).
  const widgetCode = /\bipywidgets\b|widgets\.show\(/;
  const widgetCells = [...article.querySelectorAll('div.cell')]
    .map(cell => ({cell, source: (cell.querySelector('.cell_input') || {}).textContent || ''}))
    .filter(({source}) => widgetCode.test(source))
    .map(({cell, source}) => ({
      source: source.split('\n').find(line => widgetCode.test(line)).trim(),
      static: (cell.closest('section') || article).querySelectorAll('.cell_output img, .cell_output table').length,
    }));
  return {
    text: document.body.innerText,
    title: document.title,
    brokenImages: [...document.querySelectorAll('img')].filter(img => !loaded(img)).map(img => img.src),
    cellImages: cellImages.filter(loaded).length,
    cellTables: article.querySelectorAll('.cell_output table').length,
    errorOutputs: article.querySelectorAll('.output.traceback, .output.error').length,
    stderr: [...article.querySelectorAll('.output.stderr')].map(e => e.innerText.trim()),
    math: article.querySelectorAll('.math').length,
    typeset: article.querySelectorAll('mjx-container').length,
    mathErrors: [...article.querySelectorAll('mjx-merror')].map(e => e.getAttribute('data-mjx-error') || e.innerText),
    widgetMarkup: document.querySelectorAll(
      'script[type^="application/vnd.jupyter.widget"], .jupyter-widgets, .widget-area, .jupyter-widgets-view').length,
    widgetCells: widgetCells,
    navLinks: [...document.querySelectorAll('nav.bd-docs-nav a.reference.internal')].map(a => a.href),
    prev: (document.querySelector('a.left-prev') || {}).href || null,
    next: (document.querySelector('a.right-next') || {}).href || null,
    ipynbLinks: [...document.querySelectorAll('a[href$=".ipynb"]')].map(a => a.href),
  };
}
"""

_MATHJAX_DONE = """
async () => {
  if (!window.MathJax || !window.MathJax.startup) return 'MathJax did not load';
  await window.MathJax.startup.promise;
  return 'ok';
}
"""


@dataclass
class Visit:
    page: str
    url: str
    status: int | None = None
    seconds: float = 0.0
    screenshot_seconds: float = 0.0
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    mathjax: str | None = None
    seen: dict = field(default_factory=dict)
    ipynb: dict | None = None


def visit(browser, base_url: str, page: str, screenshot: Path) -> Visit:
    """Load one page as a reader would, record everything that went wrong, save a screenshot."""
    url = f"{base_url}/{page}.html"
    result = Visit(page, url)
    origin = urlsplit(base_url).netloc
    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    try:
        def route(route_):
            if urlsplit(route_.request.url).netloc == origin or route_.request.url.startswith(("data:", "blob:")):
                route_.continue_()
            else:
                result.external_requests.append(route_.request.url)
                route_.abort("blockedbyclient")

        context.route("**/*", route)
        tab = context.new_page()
        tab.on("console", lambda msg: msg.type == "error" and result.console_errors.append(f"{msg.text} ({msg.location.get('url', '')})"))
        tab.on("pageerror", lambda error: result.page_errors.append(str(error)))
        tab.on("requestfailed", lambda req: result.failed_requests.append(f"{req.url}: {req.failure}"))
        tab.on("response", lambda resp: resp.status >= 400 and result.failed_requests.append(f"{resp.url}: HTTP {resp.status}"))

        start = time.perf_counter()
        response = tab.goto(url, wait_until="load", timeout=PAGE_TIMEOUT_MS)
        result.status = response.status if response else None
        if tab.locator(".math").count():
            result.mathjax = tab.evaluate(_MATHJAX_DONE)
        tab.wait_for_load_state("networkidle", timeout=PAGE_TIMEOUT_MS)
        result.seen = tab.evaluate(_READ_PAGE)
        result.seconds = round(time.perf_counter() - start, 2)

        for link in dict.fromkeys(result.seen["ipynbLinks"]):
            download = context.request.get(link)
            try:
                notebook = json.loads(download.body()) if download.ok else None
            except ValueError:
                notebook = None
            result.ipynb = {"url": link, "status": download.status, "cells": len(notebook["cells"]) if notebook and "cells" in notebook else None}

        screenshot.parent.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        tab.screenshot(path=str(screenshot), full_page=True, animations="disabled")
        result.screenshot_seconds = round(time.perf_counter() - start, 2)
    finally:
        context.close()
    return result


def problems_of(result: Visit, expected: Expected | None, pages: list[str]) -> list[str]:
    """Everything a reader would see broken on the page, one line each; empty when the page is fine."""
    seen = result.seen
    problems: list[str] = []
    if result.status != 200:
        problems.append(f"HTTP status {result.status}")
    # A blocked external request also fails in the console and in the network log: report it once.
    blocked = "ERR_BLOCKED_BY_CLIENT"
    problems += [f"console error: {message}" for message in result.console_errors if blocked not in message]
    problems += [f"script error: {message}" for message in result.page_errors]
    problems += [f"failed request: {request}" for request in result.failed_requests if blocked not in request]
    problems += [f"request leaving the machine (the book must work offline): {url}" for url in result.external_requests]
    if not seen:
        return problems
    if "Traceback" in seen["text"]:
        problems.append("the page shows a Traceback")
    if seen["errorOutputs"]:
        problems.append(f"{seen['errorOutputs']} error output block(s)")
    problems += [f"image does not load: {src}" for src in seen["brokenImages"]]
    problems += [f"a chapter's own code warns (fix the call): {block.splitlines()[0]}" for block in seen["stderr"] if CHAPTER_WARNING.search(block)]

    if seen["math"]:
        if result.mathjax != "ok":
            problems.append(f"math not typeset: {result.mathjax}")
        elif seen["typeset"] < seen["math"]:
            problems.append(f"{seen['math']} math elements but only {seen['typeset']} typeset by MathJax")
        problems += [f"MathJax error: {error}" for error in seen["mathErrors"]]

    if seen["widgetMarkup"]:
        problems.append(f"{seen['widgetMarkup']} widget element(s) or widget script(s) in a static page")
    for cell in seen["widgetCells"]:
        if not cell["static"]:
            problems.append(f"a widget cell ({cell['source']}) has no static figure or table in its section")

    if expected is not None:
        if expected.unavailable:
            problems.append("no executed copy of the chapter (execution cache or jupyter_execute/) to count its figures against")
        if expected.widget_outputs:
            problems.append(f"the executed notebook holds {expected.widget_outputs} widget output(s); static runs must show none")
        if seen["cellImages"] < expected.images:
            problems.append(f"{seen['cellImages']} figures rendered, the executed notebook has {expected.images}")
        if seen["cellTables"] < expected.tables:
            problems.append(f"{seen['cellTables']} tables rendered, the executed notebook has {expected.tables}")
        if not result.ipynb:
            problems.append("no .ipynb download link")
        elif result.ipynb["status"] != 200 or result.ipynb["cells"] != expected.cells:
            problems.append(f"the .ipynb download is not the chapter's notebook ({expected.cells} cells): {result.ipynb}")

    if result.page in pages:
        linked = {urlsplit(href).path.removesuffix(".html").lstrip("/") for href in seen["navLinks"]}
        # The root page is the site's landing page; the navigation links it as the home page.
        missing = [page for page in pages[1:] if page not in linked]
        if missing:
            problems.append(f"navigation does not link: {missing}")
        index = pages.index(result.page)
        if index > 0 and not seen["prev"]:
            problems.append("no link to the previous page")
        if index < len(pages) - 1 and not seen["next"]:
            problems.append("no link to the next page")
    return problems


# ---------------------------------------------------------------------------------------------
# Tests


@pytest.mark.parametrize("page", PAGES + GENERATED_PAGES)
def test_browser_page_as_a_reader_sees_it(page, served_book, browser, screenshots):
    base_url, html = served_book
    if not (html / f"{page}.html").exists():
        pytest.fail(f"{page}.html was not built", pytrace=False)
    expected = chapter_expectations(page, Path(html).parent)

    result = visit(browser, base_url, page, SCREENSHOTS / f"{page}.png")
    problems = problems_of(result, expected, PAGES)
    screenshots[page] = {
        **{k: v for k, v in asdict(result).items() if k != "seen"},
        "seen": {k: v for k, v in result.seen.items() if k not in ("text", "navLinks")},
        "expected": asdict(expected) if expected else None,
        "problems": problems,
    }
    assert not problems, f"{page}: " + "\n  ".join([f"{len(problems)} problem(s)", *problems])


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
