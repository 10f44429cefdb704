"""The layers of helpers/ (issue 31): the library at the top, then book/, models/, research/ and toy/.

The rule the imports keep (every import of every helpers module, function-local ones included):
- nothing outside helpers/research/ imports it: a chapter's research code is a leaf;
- the library, models/ and toy/ import nothing from helpers/book/, except helpers/__init__.py, which
  re-exports what every chapter calls (`record`, `approx`, `plotting`, `widgets`);
- helpers/book/ imports only the library (settings, validate) and itself.
The flat paths of before (helpers.claims, ...) still name the same module objects for one release
(helpers/_moved_modules.py); nothing in the repository uses them.
"""

import ast
import importlib
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import jupytext
import pytest

import helpers
from helpers import _moved_modules

ROOT = Path(__file__).resolve().parent.parent
HELPERS = ROOT / "helpers"
LAYERS = ("book", "models", "research", "toy")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(dotted: str) -> bool:
    path = ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every helpers module `path` imports (line, dotted name), relative imports resolved."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.split(".")[0] == "helpers"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if source.split(".")[0] != "helpers":
                continue
            for alias in node.names:  # `from helpers.book import claims` imports helpers.book.claims
                found.append((node.lineno, f"{source}.{alias.name}" if is_module(f"{source}.{alias.name}") else source))
    return found


def layer(dotted: str) -> str:
    parts = dotted.split(".")
    return parts[1] if len(parts) > 2 and parts[1] in LAYERS else "library"


HELPER_FILES = sorted(HELPERS.rglob("*.py"))


def test_every_helpers_module_is_in_a_layer_and_none_at_an_old_path():
    assert {p.parent.name for p in HELPER_FILES} == {"helpers", *LAYERS}
    assert [old for old in _moved_modules.MOVED if is_module(old)] == []
    assert [new for new in _moved_modules.MOVED.values() if not is_module(new)] == []


def test_the_layers_import_downward_only():
    broken = []
    for path in HELPER_FILES:
        source = layer(module_name(path))
        for line, target in imported_modules(path):
            where = f"{path.relative_to(ROOT)}:{line} imports {target}"
            if layer(target) == "research" and source != "research":
                broken.append(where)
            if layer(target) == "book" and source in ("library", "models", "toy") and path != HELPERS / "__init__.py":
                broken.append(where)
            if source == "book" and layer(target) in ("models", "research", "toy"):
                broken.append(where)
    assert broken == []


def test_the_rule_sees_function_local_and_relative_imports():
    # models/mirror.py imports black_images and pag_recipes inside tiny_mirror()
    targets = {t for _, t in imported_modules(HELPERS / "models" / "mirror.py")}
    assert {"helpers.black_images", "helpers.models.pag_recipes", "helpers.pipelines"} <= targets
    assert {t for _, t in imported_modules(HELPERS / "book" / "chapter.py")} == {
        "helpers.validate", "helpers.book.claims", "helpers.book.record"
    }


def test_old_paths_give_the_moved_module_itself():
    import helpers.book.claims
    import helpers.claims  # the old path, on purpose

    assert helpers.claims is helpers.book.claims
    from helpers import tiny  # the old path, on purpose

    assert tiny is importlib.import_module("helpers.models.tiny")
    for old, new in _moved_modules.MOVED.items():
        module = importlib.import_module(old)
        assert module is importlib.import_module(new) is sys.modules[old]
        assert module.__name__ == module.__spec__.name == new  # it keeps its own name


def test_an_old_path_does_not_hide_what_helpers_binds():
    import helpers.record  # noqa: F401  the old module path; helpers.record stays the function

    assert callable(helpers.record) and helpers.record.__module__ == "helpers.book.record"


@pytest.mark.slow  # ten seconds: a fresh interpreter imports diffusers (left out of `make fast`)
def test_an_old_command_line_path_runs_the_moved_module():
    shown = subprocess.run([sys.executable, "-m", "helpers.mirror", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert shown.returncode == 0 and shown.stdout.startswith("usage: python -m helpers.models.mirror"), shown.stderr


def test_a_monkeypatch_through_the_old_path_is_seen_through_the_new(monkeypatch):
    old = importlib.import_module("helpers.claims")
    monkeypatch.setattr(old, "CHANGED", "patched")
    assert importlib.import_module("helpers.book.claims").CHANGED == "patched"


def code_of_the_repository(only: Path | None = None):
    """(where, code) of every Python file and every chapter/page code cell that could use an old path
    (or of one chapter's code cells, `only`)."""
    if only is not None:
        yield from _code_cells(only)
        return
    for folder in ("helpers", "tests", "tools", "benchmarks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path != Path(__file__).resolve():
                yield str(path.relative_to(ROOT)), path.read_text()
    for path in sorted([*(ROOT / "notebooks").glob("*.md"), *(ROOT / "book").glob("*.md")]):
        yield from _code_cells(path)


def _code_cells(path: Path):
    for i, cell in enumerate(jupytext.read(path).cells):
        if cell.cell_type == "code":
            code = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
            yield f"{path.relative_to(ROOT)} cell {i}", code


def old_paths_in(code: str) -> list[str]:
    old_names = {old.rpartition(".")[2] for old in _moved_modules.MOVED} - set(helpers.__all__)
    old_prefixes = tuple(f"{old}." for old in _moved_modules.MOVED)
    used = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            used += [a.name for a in node.names if a.name in _moved_modules.MOVED or a.name.startswith(old_prefixes)]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "helpers":
                used += [a.name for a in node.names if a.name in old_names]
            elif node.module in _moved_modules.MOVED:
                used.append(node.module)
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "helpers":
            if node.attr in old_names:
                used.append(f"helpers.{node.attr}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            used += [node.value for old in _moved_modules.MOVED if node.value == old or node.value.startswith(f"{old}.")]
    return used


def test_nothing_in_the_repository_uses_an_old_path():
    used = {where: found for where, code in code_of_the_repository() if (found := old_paths_in(code))}
    assert used == {}


def test_nothing_reads_context_tiny_the_old_name_of_small():
    # `Context.tiny` was True in the toy profile too; `small` says what it means. The old name stays
    # for readers' code, never in the book's own.
    used = [where for where, code in code_of_the_repository() if "ctx.tiny" in code]
    assert used == []
    toy = helpers.setup(profile="toy", device="cpu")
    assert toy.small is True and toy.tiny is True  # the alias answers as before


def test_the_old_path_check_finds_each_form():
    code = "import helpers.tiny\nfrom helpers import claims, record\nfrom helpers.mixture import run\nhelpers.hooks.x\nf('helpers.toc.ROOT')"
    assert sorted(old_paths_in(code)) == sorted(["helpers.tiny", "claims", "helpers.mixture", "helpers.hooks", "helpers.toc.ROOT"])


def test_every_public_module_says_what_it_offers():
    missing, unknown = [], []
    for path in HELPER_FILES:
        name = module_name(path)
        if name.rpartition(".")[2].startswith("_"):
            continue
        module = importlib.import_module(name)
        if not hasattr(module, "__all__"):
            missing.append(name)
        else:
            # a layer's __init__ lists its modules, which are attributes only once imported
            unknown += [f"{name}.{n}" for n in module.__all__ if not (hasattr(module, n) or is_module(f"{name}.{n}"))]
    assert missing == [] and unknown == []


def helpers_modules_imported(chapter: Path) -> list[str]:
    """The helpers modules a chapter's code cells import by name (`from helpers.x import f` gives
    helpers.x; `from helpers import x` gives helpers.x when x is a module)."""
    found = set()
    for _, code in code_of_the_repository(only=chapter):
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.startswith("helpers."))
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "helpers":
                for alias in node.names:
                    submodule = f"{node.module}.{alias.name}"
                    if _is_package(node.module) and importlib.util.find_spec(submodule) is not None:
                        found.add(submodule)
                    elif node.module != "helpers":
                        found.add(node.module)
    return sorted(found)


def _is_package(name: str) -> bool:
    return hasattr(importlib.import_module(name), "__path__")


CALLS = re.compile(r"The helpers this chapter calls \((?P<names>[^)]*)\) are listed", re.S)


def test_each_chapter_names_the_helpers_it_imports():
    # the closing paragraph's list is typed by hand; this keeps it the chapter's imports, new paths
    wrong = {}
    for chapter in sorted((ROOT / "notebooks").glob("*.md")):
        match = CALLS.search(chapter.read_text())
        if match is None:
            continue
        named = sorted(re.findall(r"`([\w.]+)`", match["names"]))
        if named != helpers_modules_imported(chapter):
            wrong[chapter.name] = (named, helpers_modules_imported(chapter))
    assert wrong == {}
