"""The machinery of tests/test_browser.py: serve _build/html, drive Chromium, read each page.

- `toc_pages` lists the book's pages from _toc.yml; `chapter_expectations` says, from a chapter's
  executed notebook, how many figures and tables its page must show.
- `serve` puts a folder on 127.0.0.1; `launch_chromium` starts Debian's Chromium through Playwright
  (a skip where either is missing, a failure under CI).
- `visit` loads one page as a reader would and records what went wrong and what the page shows;
  `problems_of` turns a visit into one line per thing a reader would see broken, and
  `library_notices`, `dict_dumps` and `overwide_code` read the three reader checks of issue 13.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import re
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from tests import project_tools

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = os.environ.get("FIELDNOTES_CHROMIUM", "/usr/bin/chromium")
# the tallest screenshot taken whole (see visit()); a taller page is captured from its top
SCREENSHOT_MAX_PX = 65_535
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
# Library notices that helpers.notices drops: their text on a page means a chapter let one through.
LIBRARY_NOTICES = ("has been deprecated and will not receive", "requires torchvision")
# A text output that starts with "{" and runs over this many lines is a dict printed for the reader
# to parse (as the final `helpers.record(...)` value showed), not a table.
DICT_DUMP_LINES = 15
# The book's code-line limit; reported beside the rendered check (a line can fit a wide block).
CODE_LINE_LIMIT = 100


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
    cache_dir = project_tools.load("book_cache").cache_folder(ROOT)  # the one reading of _config.yml's cache
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
# A local web server and a browser


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


def _missing_browser(reason: str):
    # CI installs Chromium and Playwright (make test); elsewhere a missing browser is a skip, not a pass.
    if os.environ.get("CI"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@contextlib.contextmanager
def launch_chromium():
    """Headless Chromium for the block, or a skip (a failure under CI) where it cannot start."""
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


# ---------------------------------------------------------------------------------------------
# One visit: load the page and read what the reader sees

# Runs in the page once it has loaded (and MathJax, where the page has math, has typeset).
_READ_PAGE = r"""
() => {
  const article = document.querySelector('article') || document.body;
  const loaded = img => img.complete && img.naturalWidth > 0;
  const cellImages = [...article.querySelectorAll('.cell_output img')];
  // A cell that builds an ipywidgets control (shown only in JupyterLab, through helpers.book.widgets.show).
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
    // Every text output: its first line and its length in lines (the dict-dump check).
    outputTexts: [...article.querySelectorAll('.cell_output pre')].map(pre => {
      const text = pre.textContent.trim();
      return {start: text.split('\n')[0].slice(0, 80), lines: text ? text.split('\n').length : 0};
    }),
    // The claims ledger's table: its right edge against the window's (a release column off-screen).
    ledgerTables: [...article.querySelectorAll('table.claims-ledger')].map(t => ({
      right: Math.round(t.getBoundingClientRect().right), window: document.documentElement.clientWidth})),
    // Code cells whose input does not fit its block (the reader must scroll sideways to read it).
    codeBlocks: [...article.querySelectorAll('.cell_input pre')].map(pre => {
      const lines = pre.textContent.split('\n');
      const longest = lines.reduce((a, b) => (b.length > a.length ? b : a), '');
      return {scrollWidth: pre.scrollWidth, clientWidth: pre.clientWidth, longest: longest.length, line: longest.slice(0, 120)};
    }),
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
        # Chromium cannot capture a page taller than it can paint in one image ("Unable to capture
        # screenshot": the errata page, 431k px in 2026-12, fails; 65,535 px passes): such a page is
        # captured from its top, which is what a reader looking at it sees first.
        height = tab.evaluate("document.documentElement.scrollHeight")
        clip = None
        if height > SCREENSHOT_MAX_PX:
            clip = {"x": 0, "y": 0, "width": tab.viewport_size["width"], "height": SCREENSHOT_MAX_PX}
        tab.screenshot(path=str(screenshot), full_page=True, clip=clip, animations="disabled")
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

    problems += [
        f"the claims table reaches {t['right']}px in a {t['window']}px window: release columns are off-screen"
        for t in seen.get("ledgerTables", [])
        if t["right"] > t["window"]
    ]

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
# The reader checks of issue 13 (each takes `Visit.seen` and returns one line per offence)


def library_notices(seen: dict) -> list[str]:
    """The stderr blocks (`.output.stderr`) that show one of LIBRARY_NOTICES, first line each."""
    return [block.splitlines()[0] for block in seen["stderr"] if any(notice in block for notice in LIBRARY_NOTICES)]


def dict_dumps(seen: dict) -> list[str]:
    """The text outputs (`.cell_output pre`) that start with "{" and run over DICT_DUMP_LINES lines."""
    return [
        f"{text['lines']} lines: {text['start']}"
        for text in seen["outputTexts"]
        if text["start"].startswith("{") and text["lines"] > DICT_DUMP_LINES
    ]


def overwide_code(seen: dict) -> list[str]:
    """The code inputs (`.cell_input pre`) wider than their block as rendered (scrollWidth > clientWidth)."""
    return [
        f"{block['scrollWidth'] - block['clientWidth']}px too wide, longest line {block['longest']} characters: {block['line']}"
        for block in seen["codeBlocks"]
        if block["scrollWidth"] > block["clientWidth"]
    ]


def long_code_lines(seen: dict) -> list[str]:
    """The code inputs whose longest line is over CODE_LINE_LIMIT characters (reported, not checked)."""
    return [f"{block['longest']} characters: {block['line']}" for block in seen["codeBlocks"] if block["longest"] > CODE_LINE_LIMIT]


def notebook_pages(pages: list[str]) -> list[str]:
    """The pages built from an executed notebook (a MyST file with a kernelspec), in `pages` order."""
    return [page for page in pages if (ROOT / f"{page}.md").is_file() and "kernelspec:" in (ROOT / f"{page}.md").read_text()]
