"""tools/check_float_equality.py: no float compared with == in the book, and the check can fail."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tools.check_float_equality import ROOT, check_file, check_source, main

TOOL = ROOT / "tools" / "check_float_equality.py"


def test_the_repository_has_no_unmarked_float_equality(capsys):
    assert main([]) == 0, capsys.readouterr().out


@pytest.mark.parametrize(
    "line",
    [
        "assert zsnr_sigmas[0] == 4096.0",  # the line that stopped `make book` on another machine
        "assert x != -0.5",
        "assert float(a) == b",
        "assert t.item() == b",
        "assert round(v, 3) == w",
        "assert a.mean() == b",
        "assert np.float32(a) == b",
        "assert pair == (8.0, 4)",
        "assert a / b == c",
        "assert 2.0**-24 == a",
        "ok = a == b == 1.5",
        "ok = [x == 0.5 for x in xs]",
    ],
)
def test_a_float_equality_is_found(line):
    assert check_source(f"{line}\n") == [(1, line)]


@pytest.mark.parametrize(
    "source",
    [
        "assert n == 4096\n",  # ints
        "assert name == 'x'\n",
        "assert folder / 'a' == other\n",  # path joins are not divisions
        "assert float(a) == pytest.approx(1.0)\n",  # a tolerance
        "assert abs(a - 4096.0) <= 1e-3\n",
        "assert a <= 0.5\n",
        "assert x == 0.5  # exact: a literal copied unchanged\n",
        "# why it is exact, above\nassert s == [0.0, 0.5]  # exact\n",
        "assert (\n    s == 0.0\n)  # exact: bit for bit is the claim\n",  # where a formatter puts it
    ],
)
def test_ints_tolerances_and_marked_lines_pass(source):
    assert check_source(source) == []


def test_an_exact_comment_covers_its_own_statement_only():
    # the mark sits on the comparison's line, where a reader (and a grep) sees it
    source = "# exact: a literal\nassert a == 1.0\nassert b == 2.0  # exact\n"
    assert check_source(source) == [(2, "assert a == 1.0")]
    # in an if/with, the comment above the block does not cover a comparison deep inside it
    block = "if ready:  # exact\n    x = 1\n    assert y == 0.5\n"
    assert check_source(block) == [(3, "    assert y == 0.5")]


def chapter(tmp_path: Path, cells: list[str]) -> Path:
    text = "---\njupytext: {}\n---\n# A chapter\n\nProse with x == 1.0 in it is not code.\n\n"
    for code in cells:
        text += f"```{{code-cell}} ipython3\n{code}```\n\nMore prose.\n\n"
    path = tmp_path / "99-planted.md"
    path.write_text(text)
    return path


def test_a_planted_chapter_line_is_named_by_chapter_cell_and_line(tmp_path):
    path = chapter(
        tmp_path,
        [
            "import math\n",
            "---\ntags: [hide-input]\n---\n%matplotlib inline\nx = 1\nassert x == 1.0\n",
        ],
    )
    [finding] = check_file(path)
    assert (finding.cell, finding.line) == (2, path.read_text().splitlines().index("assert x == 1.0") + 1)
    assert "99-planted.md, code cell 2, line" in str(finding) and "assert x == 1.0" in str(finding)


def test_the_command_fails_on_a_planted_line_and_names_it(tmp_path):
    path = chapter(tmp_path, ["sigma = 4095.999755859375\nassert sigma == 4096.0\n"])
    run = subprocess.run([sys.executable, str(TOOL), str(path)], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 1
    assert "code cell 1, line" in run.stdout and "assert sigma == 4096.0" in run.stdout
    assert "exact" in run.stderr  # it says how to mark a value that is exact by construction
    path.write_text(path.read_text().replace("== 4096.0", "== 4096.0  # exact: copied"))
    assert subprocess.run([sys.executable, str(TOOL), str(path)], capture_output=True, cwd=ROOT).returncode == 0


def test_a_cell_that_does_not_parse_is_named(tmp_path):
    path = chapter(tmp_path, ["x = (\n"])
    with pytest.raises(SyntaxError, match=r"99-planted.md, code cell 1"):
        check_file(path)


def test_refuses_other_files(tmp_path):
    other = tmp_path / "notes.txt"
    other.write_text("x == 1.0")
    with pytest.raises(ValueError, match=r"\.md.*\.py"):
        check_file(other)


def test_the_check_runs_on_its_own_in_make_check():
    makefile = (ROOT / "Makefile").read_text()
    check = makefile.split("\ncheck:", 1)[1].split("\n\n", 1)[0]
    assert "tools/check_float_equality.py" in check
    assert "check" in makefile.split("\ntest:", 1)[1].split("\n", 1)[0]  # make test runs it first
