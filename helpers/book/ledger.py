"""The claims ledger: every claim the chapters assert, and its status in each tested release.

A claim is a `with still_true("claim-id", "statement"):` block in a chapter (helpers.book.claims). This
module finds them without running anything (`scan`: the chapters' code cells, parsed), and reads
the release matrix that `make matrix` (tools/matrix.py) writes: for each diffusers release, each
claim's status, "holds", "changed" (with the failing assertion's message), "not applicable" (the
API the claim is about does not exist there) or "not run" (its chapter stopped before it, with the
chapter's error). The Claims page of the book renders `table(...)` of the committed matrix.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from .. import validate
from . import toc
from .claims import check_claim_id

# what a reader is meant to use (the reference page lists these)
__all__ = [
    "MATRIX", "NOT_RUN", "STATUSES", "Claim", "scan", "load_matrix", "statuses", "changes", "table",
    "html_table",
]

HEADING = re.compile(r"#{1,6}(\s|$)")

ROOT = Path(__file__).resolve().parents[2]  # helpers/book/<module>.py -> the checkout
NOTEBOOKS = ROOT / "notebooks"
MATRIX = ROOT / "book" / "claims-matrix.json"
NOT_RUN = "not run"
STATUSES = ("holds", "changed", "not applicable", NOT_RUN)


@dataclass(frozen=True)
class Claim:
    claim: str  # the stable id
    statement: str
    chapter: str  # the chapter file's stem, e.g. "01-scheduler-config"
    cell: int  # index of the first code cell that checks it, counting every cell from 0
    section: str  # the heading above that cell: where a reader finds the claim

    def as_dict(self) -> dict:
        return asdict(self)


def _literal(node: ast.AST, what: str, where: str) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    raise ValueError(f"{where}: still_true's {what} must be a string literal (the ledger reads it without running the chapter)")


def _claims_in_code(source: str, where: str) -> list[tuple[str, str]]:
    # IPython magics and shell escapes are not Python; chapters have none in claim cells
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    found = []
    for node in ast.walk(ast.parse("\n".join(lines))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "still_true":
            if len(node.args) < 2:
                raise ValueError(f"{where}: still_true needs a claim id and a statement, as its first two arguments")
            claim = _literal(node.args[0], "claim id", where)
            check_claim_id(claim)
            found.append((claim, _literal(node.args[1], "statement", where)))
    return sorted(found, key=lambda pair: source.find(f'"{pair[0]}"'))


def scan(notebooks: str | Path | None = None) -> list[Claim]:
    """Every claim in the book's chapters (by default: `toc.chapters()`, in reading order), or in
    the MyST-markdown chapters of the folder `notebooks` (in file-name order: a folder outside a
    checkout has no _toc.yml), each once (at the first cell that checks it).

    Refuses: a folder that does not exist; a still_true call whose id or statement is not a
    string literal; an id used with two different statements (ValueError naming both places).
    """
    import jupytext

    if notebooks is None:
        chapter_files = toc.chapters()
    else:
        chapter_files = sorted(validate.existing_dir("notebooks", notebooks).glob("*.md"))
    claims: dict[str, Claim] = {}
    for chapter in chapter_files:
        section = chapter.stem
        for index, cell in enumerate(jupytext.read(chapter).cells):
            if cell.cell_type == "markdown":
                # an ATX heading is 1-6 '#' and a space (CommonMark); a line such as "#7231 asked for ..."
                # (an issue number opening a line of prose) is not one
                headings = [line.lstrip("#").strip() for line in cell.source.splitlines() if HEADING.match(line)]
                section = headings[-1] if headings else section
                continue
            if cell.cell_type != "code" or "still_true" not in cell.source:
                continue
            where = f"{chapter.name}, cell {index}"
            for claim, statement in _claims_in_code(cell.source, where):
                earlier = claims.get(claim)
                if earlier is None:
                    claims[claim] = Claim(claim, statement, chapter.stem, index, section)
                elif earlier.statement != statement:
                    raise ValueError(
                        f"claim id {claim!r} says two things: {earlier.statement!r} ({earlier.chapter}, "
                        f"cell {earlier.cell}) and {statement!r} ({where}); give each its own id"
                    )
    return list(claims.values())


def load_matrix(path: str | Path = MATRIX) -> dict:
    """The release matrix JSON that tools/matrix.py writes (see its docstring for the layout).

    Refuses: a path that is not an existing file; a file without "releases" and "claims".
    """
    file = validate.existing_file("path", path)
    matrix = json.loads(file.read_text())
    if not isinstance(matrix, dict) or not {"releases", "claims"} <= set(matrix):
        raise ValueError(f"{file} is not a release matrix: it needs 'releases' and 'claims' keys")
    return matrix


def statuses(matrix: dict, release: str) -> dict[str, dict]:
    """{claim id: {"status": ..., "detail": ...}} of one release of `matrix`.

    Refuses: a matrix without its "claims" and "releases" lists, a release that is not a str
    (TypeError), a release the matrix does not hold (ValueError listing those it holds).
    """
    _check_matrix(matrix)
    releases = [entry["diffusers"] for entry in matrix["releases"]]
    if not isinstance(release, str):
        raise TypeError(
            f"release must be a diffusers version as a str, one of {releases}, got {type(release).__name__} {release!r}"
        )
    if release not in releases:
        raise ValueError(f"the matrix holds releases {releases}, not {release!r}: release must be one of them")
    entry = matrix["releases"][releases.index(release)]
    return entry["claims"]


def _check_matrix(matrix) -> None:
    """Refuse a matrix that is not a dict holding the lists "claims" and "releases" (what `load`
    returns and `merge` writes)."""
    if not isinstance(matrix, dict):
        raise TypeError(f"matrix must be a claims matrix (a dict with 'claims' and 'releases', as load_matrix() returns), got {type(matrix).__name__}")
    missing = [key for key in ("claims", "releases") if not isinstance(matrix.get(key), list)]
    if missing:
        raise ValueError(
            f"matrix must be a claims matrix with the lists 'claims' and 'releases' (as load_matrix() returns); "
            f"{' and '.join(map(repr, missing))} {'is' if len(missing) == 1 else 'are'} missing or not a list"
        )


def changes(matrix: dict) -> list[tuple[str, dict[str, str]]]:
    """The claims whose status is not the same in every release that ran them: [(id, {release:
    status})], in ledger order. "not run" does not count as a status here (nothing was learnt)."""
    found = []
    for claim in matrix["claims"]:
        seen = {
            entry["diffusers"]: entry["claims"].get(claim["claim"], {}).get("status", NOT_RUN)
            for entry in matrix["releases"]
        }
        if len({status for status in seen.values() if status != NOT_RUN}) > 1:
            found.append((claim["claim"], seen))
    return found


def table(matrix: dict):
    """A pandas DataFrame: one row per claim (chapter, id, statement), one column per release, each
    cell the claim's status there. Releases are the matrix's own order (newest first)."""
    import pandas as pd

    _check_matrix(matrix)
    rows = []
    for claim in matrix["claims"]:
        row = {"chapter": claim["chapter"], "claim": claim["claim"], "statement": claim["statement"]}
        for entry in matrix["releases"]:
            row[entry["diffusers"]] = entry["claims"].get(claim["claim"], {}).get("status", NOT_RUN)
        rows.append(row)
    return pd.DataFrame(rows)


# One character a release: eight releases and the claim column fit a 1280-px window (the page's
# list says what each mark means; the cell's title says it in words).
_MARK = {"holds": "✓", "changed": "✗", "not applicable": "–", NOT_RUN: "·"}


def html_table(matrix: dict, chapters_url: str = "../notebooks") -> str:
    """The Claims page's table as HTML: one row per claim, linked to the cell that checks it
    (`<chapters_url>/<chapter>.html#claim-<id>`, the anchor helpers.book.claims puts under that cell), its
    statement and chapter under it; one narrow column per release, a one-character mark whose title
    names the status; a changed or not-run cell carries its message as a tooltip and in a numbered
    footnote below the table, so nothing is hidden from a reader without a mouse."""
    from html import escape

    releases = [entry["diffusers"] for entry in matrix["releases"]]
    head = "".join(f'<th class="ledger-release">{escape(name)}</th>' for name in releases)
    rows, notes = [], []
    for claim in matrix["claims"]:
        link = f'{chapters_url}/{claim["chapter"]}.html#claim-{claim["claim"]}'
        cells = []
        for entry in matrix["releases"]:
            got = entry["claims"].get(claim["claim"], {"status": NOT_RUN, "detail": "not in this run"})
            status, detail = got["status"], got.get("detail", "")
            mark = _MARK.get(status, status)
            title = f"{entry['diffusers']}: {status}"
            if status != "holds" and detail:
                notes.append((claim["claim"], entry["diffusers"], status, detail))
                title += f" ({detail})"
                mark += f"<sup>{len(notes)}</sup>"
            css = status.replace(" ", "-")
            cells.append(f'<td class="ledger-{css}" title="{escape(title)}">{mark}</td>')
        rows.append(
            f'<tr id="claim-{claim["claim"]}"><td class="ledger-claim"><a href="{escape(link)}">'
            f'{escape(claim["claim"])}</a><br><small>{escape(claim["statement"])} '
            f"({escape(claim['chapter'])})</small></td>{''.join(cells)}</tr>"
        )
    table = (
        '<table class="claims-ledger"><thead><tr><th>claim (chapter)</th>'
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
    footnotes = "".join(
        f"<li><code>{escape(claim)}</code> on {escape(release)} ({escape(status)}): {escape(detail)}</li>"
        for claim, release, status, detail in notes
    )
    return table + (f'<ol class="claims-notes">{footnotes}</ol>' if footnotes else "")
