"""JupyterLab as `make lab` starts it: the project's settings, read from this folder.

`make lab` puts this folder on JUPYTER_CONFIG_PATH, so these settings apply to this project only and
need nothing in the user's ~/.jupyter (whose own files and JupyterLab settings still take precedence).
- The file browser opens at notebooks/, the chapters.
- A double-click opens a chapter (.md) as a notebook through jupytext rather than in the text editor:
  lab/settings/overrides.json makes "Jupytext Notebook" the default viewer of Markdown and MyST
  files. It is read as JupyterLab's application settings (defaults a user setting can override).
- No kernel setting is needed here for the chapters' kernel `python3` to be this venv's ipykernel:
  `make lab` sets JUPYTER_PREFER_ENV_PATH=1, so the venv's kernelspecs come before a user-level
  `python3` that may point at another Python, and jupyter_client runs the venv kernelspec's
  "python" argv as the server's own interpreter. Its display name, "Python 3 (ipykernel)", is the
  one the chapters' headers carry, so a save leaves the header as it is.
"""

from pathlib import Path

HERE = Path(__file__).resolve().parent

c = get_config()  # noqa: F821 (traitlets provides it while loading this file)
c.ServerApp.root_dir = str(HERE.parent / "notebooks")
c.LabApp.app_settings_dir = str(HERE / "lab" / "settings")
