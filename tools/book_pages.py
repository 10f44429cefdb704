"""Sphinx extension for the book's HTML pages: what Jupyter Book 1 leaves undone for an offline book.

1. A ".ipynb" entry in each chapter's download menu. sphinx-book-theme offers a notebook download
   only for .ipynb sources, or for MyST-markdown notebooks when a launch service (Binder, JupyterHub,
   Colab, thebe) is configured; this book has neither. So, for every MyST-markdown notebook page,
   this writes the chapter as a notebook (jupytext, no outputs: the same notebook that JupyterLab
   opens and papermill runs) next to the page sources and tells the theme about it. Not MyST-NB's
   executed copy in jupyter_execute/: MyST-NB 1.4 writes that copy without outputs whenever the
   outputs come from its execution cache, so its content would depend on the cache's state.
2. Each inline script once. With Jupyter Book 1 and Sphinx 7.4, the inline scripts that
   sphinx-thebe and sphinx-togglebutton add appear twice on every page (once with filename None, once
   with ""); thebe's declares a `const`, so its second copy throws "Identifier 'THEBE_JS_URL' has
   already been declared".
3. No thebe scripts when thebe is off (`launch_buttons.thebe`, the default): they only point at a CDN
   copy of thebe, which needs Binder, which this book does not use.

Guarantee: every MyST-markdown notebook page gets `_sources/<page>.ipynb` and a menu link to it.
"""

from __future__ import annotations

from pathlib import Path

import jupytext
from sphinx.application import Sphinx

# The theme reads `ipynb_source` in its html-page-context handlers at priority 501: run before them.
_BEFORE_THEME = 500


def _add_ipynb_source(app: Sphinx, pagename: str, context: dict, doctree) -> None:
    if doctree is None or "kernelspec" not in app.env.metadata.get(pagename, {}):
        return
    source = Path(app.env.doc2path(pagename))
    if source.suffix == ".ipynb" or context.get("ipynb_source"):
        return  # the theme already offers this page's notebook
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    jupytext.write(jupytext.read(source), target, fmt="ipynb")
    context["ipynb_source"] = f"{pagename}.ipynb"


def _is_thebe_script(script) -> bool:
    body = getattr(script, "attributes", {}).get("body", "")
    return "THEBE_JS_URL" in body or Path(str(getattr(script, "filename", "") or "")).name == "sphinx-thebe.js"


def _script_key(script) -> tuple:
    # An inline script comes once with filename None and once with "": the same script.
    attributes = getattr(script, "attributes", {})
    return (getattr(script, "filename", None) or "", getattr(script, "priority", 500), tuple(sorted(attributes.items())))


def _clean_scripts(app: Sphinx, context: dict) -> None:
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    thebe_on = bool(app.config.html_theme_options.get("launch_buttons", {}).get("thebe"))
    kept, seen = [], set()
    for script in scripts:
        key = _script_key(script)
        if key in seen or (not thebe_on and _is_thebe_script(script)):
            continue
        seen.add(key)
        kept.append(script)
    context["script_files"] = kept


def _on_page(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    _add_ipynb_source(app, pagename, context, doctree)
    _clean_scripts(app, context)


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", _on_page, priority=_BEFORE_THEME)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
