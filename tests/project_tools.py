"""The scripts in tools/ as modules, for the tests that check them (tools/ is not a package)."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

TOOLS = Path(__file__).resolve().parent.parent / "tools"


def load(name: str) -> ModuleType:
    """tools/<name>.py, imported once; tools/ goes on sys.path because the scripts import each other."""
    if str(TOOLS) not in sys.path:
        sys.path.insert(0, str(TOOLS))
    __import__(name)
    return sys.modules[name]
