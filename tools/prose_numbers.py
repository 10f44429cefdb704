"""Find measured numbers typed by hand in the book's prose.

A figure the code computes belongs in the sentence through `helpers.book.prose.say` (rendered from the
value), never typed into a Markdown cell, where it drifts when the code changes. This scans the
Markdown cells of every chapter and the book's own pages and reports each number that looks measured.

How a measured number is told from a constant:
- **Flagged** (the forms a measurement takes): a decimal (0.0896, 1.18), a number in scientific
  notation (3.0e-3), a percentage (31 %), a share or count against a whole ("10 of 29", "3/18"), a
  ratio ("42 times", "5×", "10-fold"), and the comparison words that stand for a ratio ("halves",
  "twice", "ten times", "an order of magnitude").
- **Not flagged**: a bare integer. In this book's prose an integer is a setting or a size the code
  defines (77 tokens, 50 steps, 32 seeds, 1024 pixels, a line number, a year); a measured count is
  written against its whole ("6 of 32") and is flagged in that form.
- **Not prose**: code cells, fenced code, inline code spans (a setting written as `guidance_scale=7.5`
  is code), link targets, math, HTML comments.
- **Versions**: a decimal right after a product or the word "version"/"release" ("SD 1.5",
  "A1111 1.9", "Kandinsky 2.2"), and any x.y.z.
- **Everything else** that is a constant (an example weight in `(word:1.3)` syntax, a paper's
  published figure) is listed in `tools/prose_constants/<page>.toml` with the text it sits in and why it is
  not measured here; an entry no line uses any more is reported as stale.

    python tools/prose_numbers.py            # every hit, file:line, and the exit status 1 if any
"""

from __future__ import annotations

import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONSTANTS = ROOT / "tools" / "prose_constants"  # one .toml per chapter or page
PAGES = ("notebooks/*.md", "book/intro.md", "book/reading.md")  # not errata.md: it quotes what was said

# Words after which a decimal is a version or a model's name, not a measurement.
VERSIONED = (
    "a1111", "automatic1111", "diffusers", "torch", "transformers", "python", "sd", "sdxl", "kandinsky",
    "version", "versions", "release", "releases", "peft", "numpy", "compel", "k-diffusion", "pixart",
    "stable diffusion", "webui", "jupyterlab", "myst-nb", "unclip", "karlo", "würstchen", "cascade", "flux",
    "hunyuandit", "v",
)
_VERSION_BEFORE = re.compile(r"(?:^|[\s(/])(?:" + "|".join(re.escape(w) for w in VERSIONED) + r")\s*$", re.I)

_MEASURED = re.compile(
    r"(?<![\w.])(?:"
    r"\d+(?:\.\d+)?\s?%"  # a percentage
    r"|\d+(?:\.\d+)?(?:\s?(?:–|-|to)\s?\d+(?:\.\d+)?)?\s?(?:×(?!\s?\d)|times\b|-fold\b)"  # a ratio (not a size, 8×8)
    r"|\d+\s(?:of|in|out of)\s\d+\b"  # a share: 10 of 29, one in four is words
    r"|\d+/\d+\b"  # a fraction
    r"|\d+(?:\.\d+)?e[-+]?\d+\b"  # scientific notation
    r"|\d+\.\d+(?!\.\d)"  # a decimal (x.y.z versions are removed before)
    r")",
    re.I,
)
_WORDS = re.compile(
    r"\b(?:halves|halved|halving|twice|doubles|doubled|triples|tripled|quadruples"
    r"|(?:ten|a hundred|hundred|a thousand|thousand|two|three|four|five|twenty|fifty) times"
    r"|orders? of magnitude)\b",
    re.I,
)
_STRIP = (
    re.compile(r"`[^`\n]*`"),  # inline code, roles' targets
    re.compile(r"\]\([^)]*\)"),  # link targets
    re.compile(r"<!--.*?-->"),  # comments
    re.compile(r"\$[^$\n]+\$"),  # inline math
    re.compile(r"https?://\S+"),  # bare addresses
    re.compile(r"arXiv:\s?\S+", re.I),  # paper ids
    re.compile(r"\b\d+\.\d+\.\d+(?:\.\w+)?\b"),  # x.y.z versions
)


@dataclass(frozen=True)
class Hit:
    path: str
    line: int
    text: str
    source: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text!r} in: {self.source.strip()[:140]}"


def prose_lines(text: str):
    """(line number, line) of every line of `text` that is prose: outside code cells and fenced code."""
    fences: list[tuple[str, bool]] = []  # (fence marker, is code)
    in_math = False
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if number == 1 and stripped == "---" or (fences and fences[-1][0] == "---"):
            # the YAML header
            if number == 1:
                fences.append(("---", True))
            elif stripped == "---":
                fences.pop()
            continue
        match = re.match(r"^(`{3,}|:{3,})(.*)$", stripped)
        if match:
            marker, info = match.group(1), match.group(2).strip()
            if fences and not info and marker == fences[-1][0]:
                fences.pop()
                continue
            if info or not fences:
                is_code = not info.startswith("{") or info.split("}")[0] in ("{code-cell", "{code-block", "{code")
                fences.append((marker, is_code))
                continue
        if stripped.startswith("$$"):
            in_math = not in_math if stripped == "$$" or not stripped.endswith("$$") or len(stripped) == 2 else in_math
            continue
        if in_math or any(code for _, code in fences):
            continue
        yield number, line


def _is_version(line: str, start: int) -> bool:
    return bool(_VERSION_BEFORE.search(line[:start]))


def scan_text(text: str, path: str) -> list[Hit]:
    hits = []
    for number, line in prose_lines(text):
        clean = line
        for pattern in _STRIP:
            clean = pattern.sub(lambda m: " " * len(m.group(0)), clean)
        for match in _MEASURED.finditer(clean):
            if re.fullmatch(r"\d+\.\d+", match.group(0)) and _is_version(clean, match.start()):
                continue
            hits.append(Hit(path, number, match.group(0), line))
        for match in _WORDS.finditer(clean):
            hits.append(Hit(path, number, match.group(0), line))
    return hits


def load_constants(path: Path = CONSTANTS) -> list[dict]:
    """The allow list (a .toml file, or a folder of them): each entry a `file` (relative to the
    root), the `text` the number sits in, `why`."""
    if path.is_dir():
        return [entry for part in sorted(path.glob("*.toml")) for entry in load_constants(part)]
    if not path.exists():
        return []
    entries = tomllib.loads(path.read_text()).get("constant", [])
    for entry in entries:
        missing = {"file", "text", "why"} - entry.keys()
        if missing:
            raise ValueError(f"{path.name}: an entry lacks {sorted(missing)}: {entry}")
        if len(entry["why"].strip()) < 10:
            raise ValueError(f"{path.name}: say why {entry['text']!r} is a constant, in a sentence")
    return entries


def files(root: Path = ROOT) -> list[Path]:
    found = []
    for pattern in PAGES:
        found.extend(sorted(p for p in root.glob(pattern) if p.is_file()))
    return found


def scan(root: Path = ROOT, constants: list[dict] | None = None) -> tuple[list[Hit], list[dict]]:
    """(hits no constant covers, constants no hit uses) over the book's prose."""
    constants = load_constants() if constants is None else constants
    used = [False] * len(constants)
    left = []
    for path in files(root):
        relative = path.relative_to(root).as_posix()
        for hit in scan_text(path.read_text(), relative):
            covering = [
                i for i, c in enumerate(constants)
                if c["file"] == relative and c["text"] in hit.source and hit.text in c["text"]
            ]
            for i in covering:
                used[i] = True
            if not covering:
                left.append(hit)
    stale = [c for c, u in zip(constants, used) if not u]
    return left, stale


def main() -> int:
    hits, stale = scan()
    for hit in hits:
        print(hit)
    for entry in stale:
        print(f"stale constant (no line uses it): {entry['file']}: {entry['text']!r}")
    print(f"{len(hits)} hand-typed measured number(s), {len(stale)} stale constant(s)")
    return 1 if hits or stale else 0


if __name__ == "__main__":
    sys.exit(main())
