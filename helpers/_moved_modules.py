"""The modules' old paths, kept for one release after the move into layers (issue 31).

Until then helpers/ was flat: `helpers.claims`, `helpers.tiny`, `helpers.mixture`, ... Code written
against those paths (a reader's notebook, a pinned script) keeps working: `import helpers.claims`
and `from helpers import tiny` give the module at its new path, the SAME module object (not a copy),
so a monkeypatch through either name is seen through both. Nothing in this repository imports the
old paths (tests/test_layout.py checks); no warning is printed, since chapters would show it.

How: a finder on `sys.meta_path` answers only for the old dotted names; its loader hands back the
module imported under its new name and puts its own spec back afterwards, so the module keeps
`__name__` and `__spec__` of its new path. A target already imported is registered at once
(`install`): `helpers.record` stays the function `helpers/__init__` binds, not the module.
`python -m helpers.mirror ...` runs the module at its new path.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys

# old dotted name -> new dotted name; to be removed in the release after the move
MOVED = {
    f"helpers.{name}": f"helpers.{layer}.{name}"
    for layer, names in {
        "book": ("chapter", "claims", "ledger", "plotting", "prose", "record", "toc", "widgets"),
        "models": ("flops", "full_size", "mirror", "moved", "pag_recipes", "shipped_configs", "tiny"),
        "research": (
            "a1111_parity", "ablation", "convergence", "hooks", "kdiffusion", "mixture", "signatures",
            "stable_unclip",
        ),
    }.items()
    for name in names
}


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self):
        self._specs = {}  # old name -> the module's own spec, while the import system borrows it

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec):
        module = importlib.import_module(MOVED[spec.name])
        self._specs[spec.name] = module.__spec__
        return module

    def exec_module(self, module):
        # the import system has just set the old name's spec on the module: its own goes back
        module.__spec__ = self._specs.pop(module.__spec__.name)

    def get_code(self, fullname):
        # `python -m helpers.mirror ...` (runpy asks for the code): run the module at its new path
        return compile(f"import runpy\nrunpy.run_module({MOVED[fullname]!r}, run_name='__main__', alter_sys=True)",
                       f"<{fullname}, moved to {MOVED[fullname]}>", "exec")


def install() -> None:
    """Answer the old paths from now on (idempotent)."""
    for old, new in MOVED.items():
        if new in sys.modules:
            sys.modules.setdefault(old, sys.modules[new])
    if not any(isinstance(finder, _Alias) for finder in sys.meta_path):
        sys.meta_path.append(_Alias())
