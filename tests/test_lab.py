"""The book explored in JupyterLab: the MyST chapters open as notebooks (jupytext) and save back as MyST.

Starts JupyterLab the way `make lab` does (the venv's `jupyter lab`, whose jupytext server extension
is switched on by the package's own sys-prefix config), headless, on 127.0.0.1 with a token, on a
copy of notebooks/ so that a save cannot touch the real chapters, and with user-level Jupyter config
and state redirected to a temporary folder so that nothing on the machine changes the result.
It talks to the server only through its REST API, then shuts it down.
"""

from __future__ import annotations

import json
import os
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

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "notebooks").glob("*.md"))
STARTUP_SECONDS = 120


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
    env = {
        **os.environ,
        # The venv's sys-prefix config (jupytext's extension) still applies; the user's does not.
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
    }
    token = secrets.token_hex(16)
    port = _free_port()
    jupyter = Path(sys.executable).with_name("jupyter")
    command = [
        str(jupyter), "lab", "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
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


def test_lab_starts_the_kernel_the_chapters_name(lab):
    status, specs = lab.request("GET", "/api/kernelspecs")
    assert status == 200 and "python3" in specs["kernelspecs"], specs


def test_lab_saves_a_chapter_back_as_myst_markdown(lab):
    chapter = "00-pipeline-zoo.md"
    _, model = lab.request("GET", f"/api/contents/{chapter}?type=notebook&content=1")
    notebook = model["content"]
    marker = f"A sentence added in JupyterLab {secrets.token_hex(4)}."
    notebook["cells"].append({"cell_type": "markdown", "metadata": {}, "source": marker})
    status, saved = lab.request("PUT", f"/api/contents/{chapter}", {"type": "notebook", "format": "json", "content": notebook})
    assert status == 200, f"HTTP {status}: {saved}"

    on_disk = (lab.root / chapter).read_text()
    assert on_disk.startswith("---\njupytext:"), "the saved file lost its jupytext header"
    assert "format_name: myst" in on_disk and "```{code-cell} ipython3" in on_disk
    assert on_disk.rstrip().endswith(marker)
    # What was saved reads back as the same notebook: the round trip loses no cell.
    assert len(jupytext.read(lab.root / chapter).cells) == len(notebook["cells"])
    # No paired .ipynb appears: the chapters stay output-free MyST files in git.
    assert sorted(p.name for p in lab.root.iterdir()) == sorted(c.name for c in CHAPTERS)
