"""Refuse a float compared with `==` or `!=` in the chapters' code cells and the tests.

A float computed on one machine may differ by one ulp on another (another CPU, another BLAS code
path, a correctly rounded square root against a fast one), so `x == 4096.0` passes where it was
written and fails on a reader's machine. This check parses every chapter's code cells and every
test module and reports each equality whose side looks like a float: a float literal (also inside a
tuple, list or arithmetic), a true division, `float(...)`, `round(...)`, `.item()`, `np.float32(...)`
and the like. A comparison that is exact by construction (a count divided by a count that is 0 or
1, a power of two set by the code, a value copied unchanged) keeps `==` when one of its lines
carries a comment with the word "exact" (the reason may stand in the lines above it).

    .venv/bin/python tools/check_float_equality.py            # chapters, tests, helpers, tools, benchmarks; exit 1 on a finding
    .venv/bin/python tools/check_float_equality.py FILE ...   # only these (.md chapters or .py files)
"""

from __future__ import annotations

import argparse
import ast
import io
import re
import sys
import tokenize
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATHS = tuple(ROOT / name for name in ("notebooks", "tests", "helpers", "tools", "benchmarks"))
EXACT = re.compile(r"#.*\bexact\b", re.IGNORECASE)
FENCE = re.compile(r"^(`{3,}|~{3,})\{code-cell\}")
# calls whose result is a float (or an array of floats) whatever their arguments
FLOAT_CALLS = {"float", "round", "float16", "float32", "float64", "longdouble", "sqrt", "exp", "log", "mean"}
FLOAT_METHODS = {"item", "mean", "std", "var", "norm"}


@dataclass(frozen=True)
class Finding:
    path: Path
    cell: int | None  # the chapter's code cell, counted from 1; None for a .py file
    line: int  # in the file on disk
    source: str

    def __str__(self) -> str:
        where = f"{_relative(self.path)}, code cell {self.cell}, line {self.line}" if self.cell else f"{_relative(self.path)}:{self.line}"
        return f"{where}: float compared for equality: {self.source.strip()}"


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def floatish(node: ast.AST) -> bool:
    """Whether `node` plainly evaluates to a float (or a container of floats)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, float)
    if isinstance(node, ast.UnaryOp):
        return floatish(node.operand)
    if isinstance(node, ast.BinOp):
        # a true division gives a float, unless it joins paths (`folder / "name"`)
        divides = isinstance(node.op, ast.Div) and not any(_is_str(side) for side in (node.left, node.right))
        return divides or floatish(node.left) or floatish(node.right)
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return any(floatish(e) for e in node.elts)
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name):
            return func.id in FLOAT_CALLS
        if isinstance(func, ast.Attribute):
            # np.float32(x), math.sqrt(x), t.item(), a.mean(); not pytest.approx(x) or math.isclose
            return func.attr in FLOAT_CALLS or func.attr in FLOAT_METHODS
    return False


def _is_str(node: ast.AST) -> bool:
    return isinstance(node, (ast.JoinedStr, ast.Constant)) and not isinstance(getattr(node, "value", None), (int, float))


def _tolerant(node: ast.AST) -> bool:
    """`pytest.approx(...)` or `approx(...)`: a comparison with a tolerance."""
    func = node.func if isinstance(node, ast.Call) else None
    return getattr(func, "attr", getattr(func, "id", None)) == "approx"


def _comments(source: str) -> dict[int, str]:
    comments: dict[int, str] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                comments[tok.start[0]] = tok.string
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return comments


def check_source(source: str) -> list[tuple[int, str]]:
    """(line, source line) of each unmarked float equality in Python `source` (lines from 1)."""
    tree = ast.parse(source)
    comments = _comments(source)
    lines = source.splitlines()
    statement_of = {}  # each node's innermost enclosing statement
    for stmt in ast.walk(tree):
        if isinstance(stmt, ast.stmt):
            for child in ast.walk(stmt):
                statement_of[child] = stmt  # inner statements come later and win
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        for op, left, right in zip(node.ops, operands, operands[1:]):
            if not isinstance(op, (ast.Eq, ast.NotEq)) or not (floatish(left) or floatish(right)):
                continue
            if _tolerant(left) or _tolerant(right):
                continue
            if _marked_exact(node, statement_of.get(node, node), comments):
                continue
            found.append((node.lineno, lines[node.lineno - 1]))
            break
    return sorted(set(found))


def _marked_exact(node: ast.Compare, statement: ast.AST, comments: dict[int, str]) -> bool:
    """An "exact" comment on a line of the comparison or of the simple statement that holds it."""
    first = min(node.lineno, statement.lineno)
    # a simple statement's own lines (a formatter moves `# exact` behind its closing bracket);
    # of a compound one (if, with, for) only the lines up to the comparison's end
    last = (node.end_lineno or node.lineno) if hasattr(statement, "body") else (statement.end_lineno or first)
    marked = set(range(first, max(last, node.end_lineno or node.lineno) + 1))
    return any(EXACT.search(comments.get(n, "")) for n in marked)


def code_cells(markdown: str) -> list[tuple[int, str]]:
    """(first line in the file, code) of each MyST code cell, options and IPython magics blanked."""
    cells, lines, i = [], markdown.splitlines(), 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        start, body, i = i + 2, [], i + 1
        while i < len(lines) and lines[i].strip() != fence.group(1):
            body.append(lines[i])
            i += 1
        i += 1
        # cell options: a `---` YAML block or `:key: value` lines; blank them to keep line numbers
        if body and body[0].strip() == "---":
            end = next((k for k in range(1, len(body)) if body[k].strip() == "---"), 0)
            body[: end + 1] = [""] * (end + 1)
        for k, line in enumerate(body):  # `:key: value` options lead a cell
            if line.strip() and not line.startswith(":"):
                break
            body[k] = ""
        body = ["" if line.lstrip().startswith(("%", "!")) else line for line in body]
        cells.append((start, "\n".join(body)))
    return cells


def check_file(path: Path) -> list[Finding]:
    path = Path(path)
    text = path.read_text()
    if path.suffix == ".py":
        return [Finding(path, None, n, line) for n, line in check_source(text)]
    if path.suffix != ".md":
        raise ValueError(f"check_file takes a chapter (.md) or a Python file (.py), got {path}")
    findings = []
    for number, (start, code) in enumerate(code_cells(text), 1):
        try:
            found = check_source(code)
        except SyntaxError as exc:
            raise SyntaxError(f"{_relative(path)}, code cell {number} (line {start}): {exc.msg}") from exc
        findings += [Finding(path, number, start + n - 1, line) for n, line in found]
    return findings


def files(paths: list[Path]) -> list[Path]:
    out = []
    for path in paths:
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.suffix in (".md", ".py") and p.is_file())
        elif path.exists():
            out.append(path)
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="chapters (.md), Python files or folders")
    args = parser.parse_args(argv)
    paths = files(args.paths or list(DEFAULT_PATHS))
    findings = [f for path in paths for f in check_file(path)]
    for finding in findings:
        print(finding)
    if findings:
        print(f"{len(findings)} float equalit{'y' if len(findings) == 1 else 'ies'}: compare with a tolerance "
              "(math.isclose, np.isclose, pytest.approx) or, if exact by construction, say why in a comment "
              "with the word 'exact' on the comparison's line", file=sys.stderr)
        return 1
    print(f"no float compared for equality in {len(paths)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
