"""The claims ledger: every claim of the chapters is in the committed release matrix, and the
pieces that build it (the scan, the merge of ledger lines, the page's table) do what they say."""

import json
import textwrap

import diffusers
import pytest

from helpers import ledger
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


def _chapter(folder, name, code):
    source = textwrap.dedent(
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
