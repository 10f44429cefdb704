"""`import k_diffusion` without the packages its samplers never use: a `sys.meta_path` shim.

k-diffusion (Automatic1111's sampler library) is the optional `parity` extra. Its `import k_diffusion`
imports every submodule, including training, evaluation and config code that needs torchvision, CLIP,
clean-fid, scikit-image, dctorch and jsonmerge. Its samplers (`k_diffusion.sampling`,
`k_diffusion.external`) need none of them, and torchvision from PyPI does not import beside the CPU
build of torch this project pins. `import_k_diffusion()` therefore imports it with stand-ins for
exactly those modules, only for the duration of the import; a stand-in raises a clear error if
anything ever uses it. The A1111 parity study that uses it is `helpers.research.a1111_parity`.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types

# what a reader is meant to use (the reference page lists these)
__all__ = ["import_k_diffusion"]

# Imported by k_diffusion's training, evaluation and config modules only (augmentation.py, config.py,
# evaluation.py, utils.py image helpers, layers.py DCT loss); never by sampling.py or external.py.
STAND_IN_MODULES = ("torchvision", "clip", "cleanfid", "skimage", "dctorch", "jsonmerge")
INSTALL_HINT = (
    "k-diffusion is the optional 'parity' extra: pip install -e '.[parity]' && "
    "pip install --no-deps k-diffusion==0.1.1.post1 (make test does both)"
)


class StandInUsed(RuntimeError):
    """A module that helpers.research.kdiffusion stood in for was used: k-diffusion's samplers never do."""


class _Absent:
    """Any attribute of a stand-in module: it fails, naming itself, as soon as it is used."""

    def __init__(self, name: str):
        self._name = name

    def _fail(self, *args, **kwargs):
        raise StandInUsed(
            f"{self._name} is a stand-in that helpers.research.kdiffusion installed so that `import k_diffusion` works "
            "without torchvision/CLIP/clean-fid/scikit-image/dctorch/jsonmerge; only k_diffusion.sampling and "
            "k_diffusion.external are supported here. Install the real package to use this part of k-diffusion."
        )

    __call__ = _fail

    def __getattr__(self, attribute):
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        self._fail()

    def __repr__(self):
        return f"<stand-in {self._name}>"


class _StandInModule(types.ModuleType):
    def __getattr__(self, attribute):
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return _Absent(f"{self.__name__}.{attribute}")


class _StandInFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves a `_StandInModule` for every module under the STAND_IN_MODULES top-level names."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in STAND_IN_MODULES:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        module = _StandInModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):
        pass


def _is_stand_in(module) -> bool:
    return isinstance(module, _StandInModule)


@contextlib.contextmanager
def stand_ins():
    """For the duration: modules named in STAND_IN_MODULES that are not imported yet import as stand-ins.

    On exit the finder is removed and the stand-ins leave `sys.modules`, so a later
    `import torchvision` finds the real package (or fails) as if nothing had happened. Modules
    imported inside keep their references to the stand-ins.
    """
    finder = _StandInFinder()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
        for name in [n for n, m in sys.modules.items() if _is_stand_in(m)]:
            del sys.modules[name]


def available() -> bool:
    """Whether k-diffusion is installed (it may not be imported yet)."""
    return "k_diffusion" in sys.modules or importlib.util.find_spec("k_diffusion") is not None


def import_k_diffusion():
    """`k_diffusion`, imported with stand-ins for the modules its samplers never use.

    ImportError with the install command when k-diffusion is not installed.
    """
    if "k_diffusion" in sys.modules:
        return sys.modules["k_diffusion"]
    if importlib.util.find_spec("k_diffusion") is None:
        raise ImportError(f"k-diffusion is not installed. {INSTALL_HINT}")
    try:
        with stand_ins():
            import k_diffusion
    except Exception:
        # leave no half-imported package behind: the next attempt starts clean
        for name in [n for n in sys.modules if n == "k_diffusion" or n.startswith("k_diffusion.")]:
            del sys.modules[name]
        raise
    return k_diffusion
