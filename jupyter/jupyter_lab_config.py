"""JupyterLab as `make lab` starts it: the project's settings, read from this folder.

`make lab` puts this folder on JUPYTER_CONFIG_PATH, so these settings apply to this project only and
need nothing in the user's ~/.jupyter (whose own files and JupyterLab settings still take precedence).
- The file browser opens at notebooks/, the chapters.
- A double-click opens a chapter (.md) as a notebook through jupytext rather than in the text editor:
  lab/settings/overrides.json makes "Jupytext Notebook" the default viewer of Markdown and MyST
  files. It is read as JupyterLab's application settings (defaults a user setting can override).
- Kernels come from this venv only, so the chapters' kernel `python3` is the venv's ipykernel (whose
  "python" argv jupyter_client runs as the server's own interpreter), never a user-level `python3`
  kernelspec that points at another Python. Its display name, "Python 3 (ipykernel)", is the one the
  chapters' headers carry, so a save leaves the header as it is.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

c = get_config()  # noqa: F821 (traitlets provides it while loading this file)
c.ServerApp.root_dir = str(HERE.parent / "notebooks")
c.LabApp.app_settings_dir = str(HERE / "lab" / "settings")
c.KernelSpecManager.kernel_dirs = [str(Path(sys.prefix) / "share" / "jupyter" / "kernels")]
