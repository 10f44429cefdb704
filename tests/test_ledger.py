"""The claims ledger: every claim of the chapters is in the committed release matrix, and the
pieces that build it (the scan, the merge of ledger lines, the page's table) do what they say."""

import ast
import json
import textwrap

import diffusers
import pytest

from helpers.book import ledger, toc
from tests.project_tools import load


@pytest.fixture(scope="module")
def matrix():
    return ledger.load_matrix()


def test_every_claim_of_the_chapters_is_in_the_committed_matrix(matrix):
    in_chapters = {claim.claim: claim.statement for claim in ledger.scan()}
    in_matrix = {claim["claim"]: claim["statement"] for claim in matrix["claims"]}
    missing = sorted(set(in_chapters) - set(in_matrix))
    assert not missing, f"claims not in book/claims-matrix.json (run `make matrix`): {missing}"
    stale = sorted(set(in_matrix) - set(in_chapters))
    assert not stale, f"book/claims-matrix.json lists claims no chapter has (run `make matrix`): {stale}"
    reworded = sorted(c for c in in_chapters if in_chapters[c] != in_matrix[c])
    assert not reworded, f"statements changed since the matrix ran (run `make matrix`): {reworded}"


def test_every_claim_holds_on_the_pinned_release_in_the_matrix(matrix):
    pinned = ledger.statuses(matrix, diffusers.__version__)
    not_holding = {claim: entry for claim, entry in pinned.items() if entry["status"] != "holds"}
    assert not not_holding, f"on the pinned diffusers {diffusers.__version__}: {not_holding}"


def test_the_matrix_spans_at_least_five_releases_with_their_own_packages(matrix):
    releases = [entry["diffusers"] for entry in matrix["releases"]]
    assert len(releases) >= 5 and diffusers.__version__ in releases, releases
    assert all(entry["packages"]["diffusers"] == entry["diffusers"] for entry in matrix["releases"])
    listed = [table["diffusers"] for table in load("matrix").releases()]
    assert releases == [name for name in listed if name in releases], "not in the file's order"


def test_a_held_back_release_runs_only_when_named_and_never_into_the_committed_matrix(matrix, tmp_path, capsys):
    tool = load("matrix")
    held = [table["diffusers"] for table in tool.releases(held_back=True)]
    assert held, "tools/matrix_releases.toml holds back no release"
    assert not set(held) & {entry["diffusers"] for entry in matrix["releases"]}
    assert not set(held) & {table["diffusers"] for table in tool.releases()}  # make matrix skips it
    # refused before any environment is made
    with pytest.raises(SystemExit):
        tool.main(["--release", held[0], "--out", str(ledger.MATRIX)])
    assert "is held back" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        tool.main(["--release", held[0], "--release", matrix["releases"][0]["diffusers"]])
    assert "on their own" in capsys.readouterr().err
    toml = tmp_path / "releases.toml"
    pins = 'transformers = "1"\nhuggingface-hub = "1"\n'
    toml.write_text(f'[[release]]\ndiffusers = "2"\n{pins}[[held_back]]\ndiffusers = "1"\n{pins}')
    with pytest.raises(ValueError, match=r"held_back table 1 lacks \['why'\]"):
        tool.releases(toml, held_back=True)


def test_every_chapter_ran_to_its_end_on_each_held_back_release():
    # the evidence `tools/matrix.py --release X` wrote for each held-back release (minutes to rerun)
    tool = load("matrix")
    held = [table["diffusers"] for table in tool.releases(held_back=True)]
    evidence = ledger.load_matrix(tool.HELD_BACK)
    assert [entry["diffusers"] for entry in evidence["releases"]] == held, f"rerun {tool.HELD_BACK.name}"
    chapters = sorted(path.stem for path in toc.chapters())
    for entry in evidence["releases"]:
        name = entry["diffusers"]
        assert sorted(entry["chapters"]) == chapters, f"{name}: chapters added or renamed since the run"
        stopped = {stem: run["error"] for stem, run in entry["chapters"].items() if run["error"]}
        assert not stopped, f"diffusers {name}: chapters stopped: {stopped}"
        not_run = sorted(claim for claim, status in entry["claims"].items() if status["status"] == ledger.NOT_RUN)
        assert not not_run, f"diffusers {name}: claims not run: {not_run}"


def _code_cells(chapter):
    import jupytext

    # IPython magics and shell escapes are not Python (as in ledger.scan)
    return [
        "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        for cell in jupytext.read(chapter).cells
        if cell.cell_type == "code"
    ]


def _outside_claims(tree, names):
    """(line, name) of each use of an attribute or string in `names` outside a still_true block."""
    inside = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.With) and any(
            isinstance(item.context_expr, ast.Call) and getattr(item.context_expr.func, "id", None) == "still_true"
            for item in node.items
        ):
            inside.update(range(node.lineno, node.end_lineno + 1))
    uses = []
    for node in ast.walk(tree):
        name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "value", None)
        if isinstance(name, str) and name in names and node.lineno not in inside:
            uses.append((node.lineno, name))
    return uses


@pytest.mark.parametrize("chapter", toc.chapters(), ids=lambda path: path.stem)
def test_an_api_a_claim_needs_is_touched_only_inside_claims(chapter):
    # needs(owner, "name") marks an API older releases lack; used outside a claim it would stop the
    # chapter there instead of making the claim "not applicable"
    cells = [ast.parse(source) for source in _code_cells(chapter)]
    names = {
        arg.value
        for tree in cells
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "needs"
        for arg in node.args[1:]
        if isinstance(arg, ast.Constant)
    }
    outside = [use for tree in cells for use in _outside_claims(tree, names)]
    assert not outside, f"{chapter.name}: APIs that some release lacks, used outside a claim: {outside}"


# a chapter's jupytext front matter, as the MyST files carry it
FRONT_MATTER = textwrap.dedent(
    """\
    ---
    jupytext:
      text_representation:
        extension: .md
        format_name: myst
        format_version: 0.13
    kernelspec:
      name: python3
      display_name: Python 3
      language: python
    ---
    """
)


def _chapter(folder, name, code):
    source = FRONT_MATTER + textwrap.dedent(
        """\

        ## A section

        ```{code-cell} ipython3
        CODE
        ```
        """
    ).replace("CODE", code)
    (folder / f"{name}.md").write_text(source)


def test_scan_reads_id_statement_chapter_cell_and_section(tmp_path):
    _chapter(tmp_path, "01-a", 'with still_true("a-claim", "it holds"):\n    assert True')
    [claim] = ledger.scan(tmp_path)
    assert (claim.claim, claim.statement, claim.chapter, claim.section) == ("a-claim", "it holds", "01-a", "A section")


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ('with still_true(name, "s"):\n    pass', "claim id must be a string literal"),
        ('with still_true("a-claim", f"{x}"):\n    pass', "statement must be a string literal"),
        ('with still_true("a-claim"):\n    pass', "needs a claim id and a statement"),
        ('with still_true("Bad Id", "s"):\n    pass', "lowercase words"),
        (
            'with still_true("a-claim", "one"):\n    pass\nwith still_true("a-claim", "two"):\n    pass',
            "says two things",
        ),
    ],
)
def test_scan_refuses_what_it_cannot_read_without_running(tmp_path, code, message):
    _chapter(tmp_path, "01-a", code)
    with pytest.raises(ValueError, match=message):
        ledger.scan(tmp_path)


def test_scan_refuses_a_folder_that_does_not_exist(tmp_path):
    with pytest.raises(ValueError, match="notebooks must be an existing folder"):
        ledger.scan(tmp_path / "nowhere")


def test_merge_takes_the_worst_outcome_of_a_claim_and_names_why_one_did_not_run():
    merge = load("matrix").merge
    claims = [
        ledger.Claim("twice", "s", "01-a", 1, "x"),
        ledger.Claim("gone", "s", "01-a", 2, "x"),
        ledger.Claim("later", "s", "01-a", 3, "x"),
        ledger.Claim("elsewhere", "s", "02-b", 1, "x"),
    ]
    lines = [
        {"claim": "twice", "status": "holds", "detail": ""},
        {"claim": "twice", "status": "changed", "detail": "now 3"},
        {"claim": "gone", "status": "not applicable", "detail": "ImportError: x"},
    ]
    runs = {"01-a": {"error": "cell [9] `x`: NameError: y", "ledger": lines}}
    merged = load("matrix").merge(claims, runs)
    assert merged == {
        "twice": {"status": "changed", "detail": "now 3"},
        "gone": {"status": "not applicable", "detail": "ImportError: x"},
        "later": {"status": "not run", "detail": "cell [9] `x`: NameError: y"},
        "elsewhere": {"status": "not run", "detail": "the chapter did not reach it"},
    }


def test_the_page_table_links_each_claim_to_its_cell_and_shows_every_message():
    matrix = {
        "claims": [{"claim": "a-claim", "statement": "x < y", "chapter": "01-a"}],
        "releases": [
            {"diffusers": "0.2", "claims": {"a-claim": {"status": "holds", "detail": ""}}},
            {"diffusers": "0.1", "claims": {"a-claim": {"status": "changed", "detail": "got <3>"}}},
        ],
    }
    html = ledger.html_table(matrix)
    assert 'href="../notebooks/01-a.html#claim-a-claim"' in html
    assert "x &lt; y" in html and "got &lt;3&gt;" in html  # escaped, and the message is on the page
    assert ledger.changes(matrix) == [("a-claim", {"0.2": "holds", "0.1": "changed"})]


def test_statuses_refuses_a_release_the_matrix_does_not_hold():
    with pytest.raises(ValueError, match=r"holds releases \['0.2'\], not '9.9'"):
        ledger.statuses({"claims": [], "releases": [{"diffusers": "0.2", "claims": {}}]}, "9.9")


def test_load_matrix_refuses_a_file_that_is_not_one(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"claims": []}))
    with pytest.raises(ValueError, match="needs 'releases' and 'claims'"):
        ledger.load_matrix(path)


def _matrix():
    return {
        "claims": [
            {"claim": "a-claim", "statement": "x < y", "chapter": "01-a"},
            {"claim": "b-claim", "statement": "it holds", "chapter": "02-b"},
        ],
        "releases": [
            {"diffusers": "0.2", "claims": {"a-claim": {"status": "holds", "detail": "fine"}, "b-claim": {"status": "holds"}}},
            {"diffusers": "0.1", "claims": {"a-claim": {"status": "not applicable", "detail": "ImportError: x"}}},
        ],
    }


def test_the_page_table_marks_each_status_and_numbers_each_message():
    html = ledger.html_table(_matrix())
    assert html.startswith(
        '<table class="claims-ledger"><thead><tr><th>claim (chapter)</th>'
        '<th class="ledger-release">0.2</th><th class="ledger-release">0.1</th></tr></thead><tbody><tr id="claim-a-claim">'
    )
    # a holding claim: its mark and no footnote, even with a detail
    assert '<td class="ledger-holds" title="0.2: holds">✓</td><td class="ledger-not-applicable" ' in html
    assert 'title="0.1: not applicable (ImportError: x)">–<sup>1</sup></td></tr><tr id="claim-b-claim">' in html
    # a release that did not reach the claim
    assert '<td class="ledger-not-run" title="0.1: not run (not in this run)">·<sup>2</sup></td></tr></tbody></table>' in html
    assert html.endswith(
        '<ol class="claims-notes"><li><code>a-claim</code> on 0.1 (not applicable): ImportError: x</li>'
        "<li><code>b-claim</code> on 0.1 (not run): not in this run</li></ol>"
    )


def test_the_page_table_has_no_notes_when_every_claim_holds_and_names_an_unknown_status():
    matrix = _matrix()
    matrix["releases"] = matrix["releases"][:1]
    assert ledger.html_table(matrix).endswith("</tbody></table>")
    matrix["releases"][0]["claims"]["b-claim"] = {"status": "flaky"}
    assert '<td class="ledger-flaky" title="0.2: flaky">flaky</td>' in ledger.html_table(matrix)


def test_table_has_a_row_per_claim_and_a_column_per_release():
    frame = ledger.table(_matrix())
    assert list(frame.columns) == ["chapter", "claim", "statement", "0.2", "0.1"]
    assert frame.to_dict("records") == [
        {"chapter": "01-a", "claim": "a-claim", "statement": "x < y", "0.2": "holds", "0.1": "not applicable"},
        {"chapter": "02-b", "claim": "b-claim", "statement": "it holds", "0.2": "holds", "0.1": "not run"},
    ]


@pytest.mark.parametrize(
    ("matrix", "error", "message"),
    [
        ([], TypeError, r"^matrix must be a claims matrix .*, got list$"),
        ({"claims": []}, ValueError, r"^matrix must be a claims matrix .*; 'releases' is missing or not a list$"),
        ({"claims": 3}, ValueError, r"; 'claims' and 'releases' are missing or not a list$"),
    ],
)
def test_table_and_statuses_refuse_what_is_not_a_matrix(matrix, error, message):
    with pytest.raises(error, match=message):
        ledger.table(matrix)
    with pytest.raises(error, match=message):
        ledger.statuses(matrix, "0.2")


def test_statuses_names_the_releases_for_a_release_that_is_not_a_string():
    assert ledger.statuses(_matrix(), "0.1") == {"a-claim": {"status": "not applicable", "detail": "ImportError: x"}}
    with pytest.raises(TypeError, match=r"^release must be a diffusers version as a str, one of \['0.2', '0.1'\], got float 0.2$"):
        ledger.statuses(_matrix(), 0.2)


def test_changes_ignores_a_claim_that_holds_everywhere_it_ran():
    matrix = _matrix()
    assert ledger.changes(matrix) == [("a-claim", {"0.2": "holds", "0.1": "not applicable"})]
    matrix["releases"][1]["claims"] = {}  # 0.1 ran neither claim
    assert ledger.changes(matrix) == []


def test_load_matrix_takes_exactly_claims_and_releases_and_names_its_argument(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"claims": [], "releases": []}))
    assert ledger.load_matrix(path) == {"claims": [], "releases": []}
    with pytest.raises(ValueError, match=r"^path must be an existing file"):
        ledger.load_matrix(tmp_path / "missing.json")


def test_scan_takes_claims_in_reading_order_with_their_cell_and_section(tmp_path):
    cells = FRONT_MATTER + textwrap.dedent(
        """\

        ```{code-cell} ipython3
        # "a-statement" is quoted here before any claim
        %matplotlib inline
        !echo shell
        import math
        if math.sqrt(4) == 2:  # exact: a square
            %time x = 1
            with still_true("zeta-claim", "z-statement"):  # nested: ast.walk meets it second
                pass
        with still_true("alpha-claim", "a-statement"):
            pass
        again = "zeta-claim"
        ```

        Text without a heading.

        ```{code-cell} ipython3
        %%bash
        echo no python here
        ```

        ## Second section

        #7231 asked for it: an issue number opening a line of prose is not a heading.

        ```{code-cell} ipython3
        with still_true("third-claim", "three"):
            pass
        ```
        """
    )
    (tmp_path / "01-a.md").write_text(cells)
    claims = ledger.scan(tmp_path)
    assert [(c.claim, c.statement, c.cell, c.section) for c in claims] == [
        ("zeta-claim", "z-statement", 0, "01-a"),  # no heading above it: the chapter names the section
        ("alpha-claim", "a-statement", 0, "01-a"),
        ("third-claim", "three", 4, "Second section"),
    ]
    assert claims[2].as_dict() == {"claim": "third-claim", "statement": "three", "chapter": "01-a", "cell": 4, "section": "Second section"}


def test_scan_names_the_chapter_and_cell_it_cannot_read(tmp_path):
    _chapter(tmp_path, "01-a", 'with still_true(name, "s"):\n    pass')
    with pytest.raises(ValueError, match=r"^01-a\.md, cell 1: still_true's claim id must be a string literal"):
        ledger.scan(tmp_path)
    _chapter(tmp_path, "01-a", 'with still_true("a-claim", statement):\n    pass')
    with pytest.raises(ValueError, match=r"^01-a\.md, cell 1: still_true's statement must be a string literal"):
        ledger.scan(tmp_path)
