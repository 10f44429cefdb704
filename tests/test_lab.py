"""The book explored in JupyterLab, as `make lab` starts it and as a reader uses it.

The server is started the way `make lab` starts it (the venv's `jupyter lab` with the project's Jupyter
config folder jupyter/ on JUPYTER_CONFIG_PATH; jupytext's server extension switched on by the venv's
sys-prefix config), headless, on 127.0.0.1 with a token, on a copy of notebooks/ (chapters and
jupytext.toml) so that a save cannot touch the real chapters, and with user-level Jupyter config
and state redirected to a temporary folder so that nothing on the machine changes the result.
The REST tests talk to its contents API. The browser test drives Debian's Chromium (Playwright) the
way a reader would: open a chapter by its URL, run all cells, move a slider, save; it skips, saying
why, when Chromium or Playwright is missing (`make browser` installs Chromium). Every test here needs
the server, so tests/conftest.py marks them all `slow` (not in `make fast`).
"""

from __future__ import annotations

import difflib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import jupytext
import pytest

from helpers.book import toc
from helpers.book.widgets import STATIC_ENV
from tests import project_tools

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
CHAPTERS = toc.chapters()
# The project's Jupyter config folder, which `make lab` puts on JUPYTER_CONFIG_PATH.
CONFIG = ROOT / "jupyter"
STARTUP_SECONDS = 120
DECOY_KERNEL = "a user-level python3 of another Python"


normalizer = project_tools.load("normalize_chapters")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Lab:
    """A running JupyterLab server and a tiny client for its REST API."""

    def __init__(self, url: str, token: str, root: Path, process: subprocess.Popen, log: Path):
        self.url, self.token, self.root, self.process, self.log = url, token, root, process, log

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict | str]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode()
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    home = tmp_path_factory.mktemp("lab")
    root = home / "notebooks"
    root.mkdir()
    for chapter in CHAPTERS:
        shutil.copy2(chapter, root / chapter.name)
    shutil.copy2(NOTEBOOKS / "jupytext.toml", root / "jupytext.toml")
    env = {
        **{k: v for k, v in os.environ.items() if k != STATIC_ENV},  # a reader's kernel is live
        "JUPYTER_CONFIG_PATH": str(CONFIG),
        "JUPYTER_PREFER_ENV_PATH": "1",
        # The venv's sys-prefix config (jupytext's extension) and the project's still apply; the user's does not.
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "PROFILE": "tiny",
    }
    # A user-level `python3` kernelspec for another Python, as many machines have: `make lab` must not pick it.
    decoy = home / "data" / "kernels" / "python3"
    decoy.mkdir(parents=True)
    (decoy / "kernel.json").write_text(json.dumps({
        "argv": ["/nonexistent/python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": DECOY_KERNEL, "language": "python"}))
    token = secrets.token_hex(16)
    port = _free_port()
    jupyter = Path(sys.executable).with_name("jupyter")
    command = [
        str(jupyter), "lab", "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        # Lets the browser test read the notebook model (outputs, kernel state); changes nothing else.
        "--LabApp.expose_app_in_browser=True",
    ]
    if os.geteuid() == 0:  # containers and CI run as root; Jupyter refuses root unless told
        command.append("--allow-root")
    log = home / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=home)
    server = Lab(f"http://127.0.0.1:{port}", token, root, process, log)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"jupyter lab exited with {process.returncode}:\n{server.log_tail()}", pytrace=False)
            try:
                if server.request("GET", "/api/status")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"jupyter lab did not answer within {STARTUP_SECONDS} s:\n{server.log_tail()}", pytrace=False)
            time.sleep(0.5)
        yield server
    finally:
        if process.poll() is None:
            try:
                server.request("POST", "/api/shutdown")
                process.wait(timeout=20)
            except (OSError, subprocess.TimeoutExpired):
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def test_lab_is_jupyterlab_with_jupytext(lab):
    status, page = lab.request("GET", "/lab")
    assert status == 200 and "JupyterLab" in page, f"/lab answered {status}"
    assert "jupyterlab_jupytext | extension was successfully loaded" in lab.log.read_text(), lab.log_tail()


@pytest.mark.parametrize("chapter", [c.name for c in CHAPTERS])
def test_lab_serves_each_chapter_as_a_notebook(lab, chapter):
    status, model = lab.request("GET", f"/api/contents/{chapter}?type=notebook&content=1")
    assert status == 200, f"{chapter}: HTTP {status}: {model}"
    assert (model["type"], model["format"]) == ("notebook", "json"), f"{chapter} is served as {model['type']}/{model['format']}"
    served = model["content"]
    expected = jupytext.read(ROOT / "notebooks" / chapter)
    assert [(c["cell_type"], c["source"]) for c in served["cells"]] == [(c.cell_type, c.source) for c in expected.cells]
    assert served["metadata"]["kernelspec"]["name"] == "python3"
    first_code = next(c for c in served["cells"] if c["cell_type"] == "code")
    assert "parameters" in first_code["metadata"].get("tags", []), f"{chapter}: papermill's parameters cell is not the first code cell"


def test_lab_uses_the_projects_settings_and_the_venvs_kernel(lab):
    # jupyter/jupyter_lab_config.py: JupyterLab's application settings come from jupyter/lab/settings
    # (where overrides.json makes jupytext's notebook the default viewer of .md files) ...
    _, page = lab.request("GET", "/lab")
    config = json.loads(re.search(r'id="jupyter-config-data"[^>]*>(.*?)</script>', page, re.S).group(1))
    assert Path(config["appSettingsDir"]) == CONFIG / "lab" / "settings", config["appSettingsDir"]
    # ... and the chapters' kernel python3 is this venv's, not the user-level one of the same name.
    # The normaliser writes the kernelspec a save writes, looked up in the same place.
    status, specs = lab.request("GET", "/api/kernelspecs")
    assert status == 200 and set(specs["kernelspecs"]) == {"python3"}, specs
    spec = specs["kernelspecs"]["python3"]["spec"]
    assert spec["display_name"] != DECOY_KERNEL and spec["argv"][0] == "python", spec
    assert normalizer.lab_kernelspec() == {"name": "python3", "display_name": spec["display_name"], "language": spec["language"]}


@pytest.mark.parametrize("chapter", [c.name for c in CHAPTERS])
def test_lab_saves_each_chapter_unchanged(lab, chapter):
    # What JupyterLab's save sends (the notebook with the kernelspec its kernel session writes) comes
    # back byte for byte. Fails until tools/normalize_chapters.py has put the chapter in that form.
    _, model = lab.request("GET", f"/api/contents/{chapter}?type=notebook&content=1")
    _, specs = lab.request("GET", "/api/kernelspecs")
    spec = specs["kernelspecs"]["python3"]["spec"]
    notebook = model["content"]
    notebook["metadata"]["kernelspec"] = {"name": "python3", "display_name": spec["display_name"], "language": spec["language"]}
    scratch = f"saved-{chapter}"
    status, saved = lab.request("PUT", f"/api/contents/{scratch}", {"type": "notebook", "format": "json", "content": notebook})
    try:
        assert status in (200, 201), f"HTTP {status}: {saved}"
        committed, saved = (lab.root / chapter).read_text(), (lab.root / scratch).read_text()
        assert saved == committed, (
            f"{chapter}: a save from JupyterLab changes the file; run .venv/bin/python tools/normalize_chapters.py\n"
            + "".join(difflib.unified_diff(committed.splitlines(True), saved.splitlines(True), n=0))[:2000])
        assert (lab.root / scratch).read_bytes() == (lab.root / chapter).read_bytes()
    finally:
        lab.request("DELETE", f"/api/contents/{scratch}")


def test_lab_saves_a_chapter_back_as_myst_markdown(lab):
    chapter, scratch = "00-pipeline-zoo.md", "edited-00-pipeline-zoo.md"
    _, model = lab.request("GET", f"/api/contents/{chapter}?type=notebook&content=1")
    notebook = model["content"]
    marker = f"A sentence added in JupyterLab {secrets.token_hex(4)}."
    notebook["cells"].append({"cell_type": "markdown", "metadata": {}, "source": marker})
    status, saved = lab.request("PUT", f"/api/contents/{scratch}", {"type": "notebook", "format": "json", "content": notebook})
    try:
        assert status in (200, 201), f"HTTP {status}: {saved}"
        on_disk = (lab.root / scratch).read_text()
        assert on_disk.startswith("---\njupytext:"), "the saved file lost its jupytext header"
        assert "format_name: myst" in on_disk and "```{code-cell} ipython3" in on_disk
        assert on_disk.rstrip().endswith(marker)
        # What was saved reads back as the same notebook: the round trip loses no cell.
        assert len(jupytext.read(lab.root / scratch).cells) == len(notebook["cells"])
        # No paired .ipynb appears: the chapters stay output-free MyST files in git.
        visible = sorted(p.name for p in lab.root.iterdir() if not p.name.startswith("."))
        assert visible == sorted([c.name for c in CHAPTERS] + ["jupytext.toml", scratch])
    finally:
        lab.request("DELETE", f"/api/contents/{scratch}")


# ---------------------------------------------------------------------------------------------------
# In a browser: what a reader does with a chapter.

CHROMIUM = os.environ.get("FIELDNOTES_CHROMIUM", "/usr/bin/chromium")
# Headless as root in a container, and never calling home (the same flags as tests/test_browser.py).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BROWSER_CHAPTER = "01-scheduler-config.md"  # has a widget: a sampler dropdown and a steps slider
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
TIMEOUT_MS = 60_000
FAILURE_SCREENSHOT = ROOT / "_build" / "screenshots" / "lab-failure.png"  # what the page showed when the test failed

# The open notebook's cells as JupyterLab holds them (the model the save writes).
CELLS_JS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const cells = [];
  for (let i = 0; i < panel.content.model.cells.length; i++) {
    const cell = panel.content.model.cells.get(i);
    cells.push({
      type: cell.type,
      source: cell.sharedModel.getSource(),
      count: cell.type === 'code' ? cell.executionCount : null,
      state: cell.type === 'code' ? cell.executionState : null,
      outputs: cell.type === 'code' ? cell.outputs.toJSON() : [],
    });
  }
  return cells;
}"""


@pytest.fixture(scope="module")
def chromium():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright's Python package is not installed (pip install -e '.[test]')")
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no Chromium at {CHROMIUM}: `make browser` installs Debian's chromium, or set FIELDNOTES_CHROMIUM")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _slider_figure(page, cell):
    """The source of the image the widget's Output area shows, or None before it has one."""
    image = cell.locator(".jp-OutputArea-output .widget-output img, .jp-OutputArea-output .jupyter-widgets-output-area img")
    return image.first.get_attribute("src") if image.count() else None


def test_lab_a_reader_runs_a_chapter_moves_a_slider_and_saves_it_unchanged(chromium, lab):
    committed = (lab.root / BROWSER_CHAPTER).read_bytes()
    page = chromium.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        # Opened by its path, as a link or a double-click opens it: with the default viewer.
        page.goto(f"{lab.url}/lab/tree/{BROWSER_CHAPTER}?token={lab.token}")
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell")
        opened = page.evaluate("() => { const w = window.jupyterapp.shell.currentWidget; "
                               "return {title: w.title.label, notebook: w.hasClass('jp-NotebookPanel')}; }")
        assert opened == {"title": BROWSER_CHAPTER, "notebook": True}, f"the chapter opened as {opened}, not as a notebook"
        assert page.locator(".jp-FileEditor").count() == 0, "the chapter opened in the text editor"
        viewers = page.evaluate("(names) => names.map(n => window.jupyterapp.docRegistry.defaultWidgetFactory(n).name)",
                                [c.name for c in CHAPTERS])
        assert set(viewers) == {"Jupytext Notebook"}, dict(zip([c.name for c in CHAPTERS], viewers))

        # Run > Run All Cells, once the kernel is up.
        page.wait_for_function("() => window.jupyterapp.shell.currentWidget.sessionContext.session?.kernel?.status === 'idle'")
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        page.wait_for_function(
            f"() => ({CELLS_JS})().every(c => c.type !== 'code' || (c.count !== null && c.state !== 'running'))",
            timeout=TIMEOUT_MS,
        )
        cells = page.evaluate(CELLS_JS)
        errors = [f"cell {i}: {o['ename']}: {o['evalue']}" for i, c in enumerate(cells) for o in c["outputs"] if o["output_type"] == "error"]
        assert not errors, "\n".join(errors)

        # Each widget shows once: one widget view per cell, never also as the cell's result.
        widget_cells = [i for i, c in enumerate(cells) if any(WIDGET_MIME in o.get("data", {}) for o in c["outputs"])]
        assert widget_cells, "no widget was displayed"
        for i in widget_cells:
            views = [o for o in cells[i]["outputs"] if WIDGET_MIME in o.get("data", {})]
            kinds = [o["output_type"] for o in views]
            assert kinds == ["display_data"], f"cell {i} shows {len(views)} widget(s), as {kinds}: {cells[i]['source'][-200:]}"

        # Moving the slider redraws the figure.
        cell = page.locator(".jp-Notebook .jp-Cell").nth(widget_cells[0])
        cell.scroll_into_view_if_needed()
        page.wait_for_function("(el) => el.querySelector('.widget-slider .noUi-handle') !== null", arg=cell.element_handle())
        before = _slider_figure(page, cell)
        assert before, "the widget shows no figure before the slider moves"
        handle = cell.locator(".widget-slider .noUi-handle").first
        readout_before = cell.locator(".widget-readout").first.inner_text()
        handle.focus()
        handle.press("ArrowLeft")
        page.wait_for_function(
            "([el, old]) => { const img = el.querySelector('.widget-output img, .jupyter-widgets-output-area img');"
            " return img !== null && img.src !== old; }",
            arg=[cell.element_handle(), before],
        )
        assert cell.locator(".widget-readout").first.inner_text() != readout_before, "the slider did not move"

        # File > Save (Ctrl+S) writes no outputs and leaves the chapter as committed.
        page.locator(".jp-NotebookPanel .jp-Notebook").first.click(position={"x": 5, "y": 5})
        page.keyboard.press("Control+s")
        page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty")
        saved = (lab.root / BROWSER_CHAPTER).read_bytes()
        assert b"image/png" not in saved and b"outputs" not in saved
        assert saved == committed, (
            f"{BROWSER_CHAPTER} changed on save; run .venv/bin/python tools/normalize_chapters.py\n"
            + "".join(difflib.unified_diff(committed.decode().splitlines(True), saved.decode().splitlines(True), n=0))[:2000]
        )
        assert sorted(p.name for p in lab.root.iterdir() if p.suffix == ".ipynb") == [], "a paired .ipynb appeared"

        # A double-click in the file browser opens another chapter as a notebook too.
        other = next(c.name for c in CHAPTERS if c.name != BROWSER_CHAPTER)
        page.locator(".jp-DirListing-item", has_text=other).first.dblclick()
        page.wait_for_function(f"() => window.jupyterapp.shell.currentWidget.title.label === {json.dumps(other)}")
        assert page.evaluate("() => window.jupyterapp.shell.currentWidget.hasClass('jp-NotebookPanel')"), (
            f"a double-click opened {other} but not as a notebook")
    except Exception:
        FAILURE_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(FAILURE_SCREENSHOT), full_page=True)
        raise
    finally:
        page.close()
