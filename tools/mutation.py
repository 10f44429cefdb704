"""Mutation testing of the core helpers: do their tests fail when the code is subtly wrong?

mutmut (a dev dependency) rewrites one operator, constant or keyword at a time ("mutants") and runs
the module's own tests against each; a mutant those tests pass "survived". This script runs mutmut
on the core modules one at a time, each in a scratch copy of the project under _build/mutation/
(the checkout is never touched, and no mutmut config lives in it), and writes the committed report
benchmarks/results/mutation.md from benchmarks/results/mutation.json.

A survivor is either a gap in the tests (add a test that checks the behaviour) or an equivalent
mutant: one that no test can tell apart from the original (a dead default, a message's wording
that tests must not pin). Equivalents are listed in tools/mutation_equivalents.toml with a one-line
reason, matched by function and the changed line, not by mutmut's number (which shifts when the
module changes); an entry that no longer matches a survivor is reported as stale.

    .venv/bin/python tools/mutation.py                      # every core module, in order (`make mutation`)
    .venv/bin/python tools/mutation.py record validate      # only these
    .venv/bin/python tools/mutation.py --before dcbc5c5     # the tests of that commit: the "before" column
    .venv/bin/python tools/mutation.py --jobs 1             # mutmut's parallel workers (default: every CPU)

`--before REV` reads the module's test files as they were at REV (read-only `git show`) and records
its counts as "before"; a plain run records "after". Each mutmut run is fresh (~2-15 min a module on
two cores, over an hour for schedulers and interpolation, whose tests build pipelines); its copy and
full log stay in _build/mutation/<module>-<before|after>/ (`--resume` goes on with an interrupted one).
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tokenize
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = ROOT / "_build" / "mutation"
RESULTS = ROOT / "benchmarks" / "results" / "mutation.json"
REPORT = ROOT / "benchmarks" / "results" / "mutation.md"
EQUIVALENTS = ROOT / "tools" / "mutation_equivalents.toml"
MUTMUT = Path(sys.executable).with_name("mutmut")
# what the tests of the core modules read besides the code: the chapters and the claims matrix
# (helpers.book.ledger), tools/ (tests/project_tools.py)
COPIED = ("helpers", "tools", "tests", "notebooks", "book")
COPIED_FILES = ("_toc.yml",)  # the chapter list (helpers.book.toc) that tests and the ledger read
TARGET = 0.85  # the share of non-equivalent mutants each module's tests should kill


@dataclass(frozen=True)
class Module:
    name: str
    sources: tuple[str, ...]  # mutated
    tests: tuple[str, ...]  # the module's own tests, the only ones run against its mutants
    only: tuple[str, ...] = ()  # mutmut's mutant names (globs) to run, if not every mutant of `sources`


MODULES = (
    # of tests/regression.py only compare(): execute() runs a kernel (seconds a mutant), and its own tests are that
    Module(
        "record",
        ("helpers/book/record.py", "tests/regression.py"),
        ("tests/test_record.py", "tests/test_regression.py"),
        only=("helpers.book.record.*", "tests.regression.x_compare__mutmut_*"),
    ),
    Module("validate", ("helpers/validate.py",), ("tests/test_validate.py",)),
    Module("claims", ("helpers/book/claims.py",), ("tests/test_claims.py",)),
    Module("ledger", ("helpers/book/ledger.py",), ("tests/test_ledger.py",)),
    Module("schedulers", ("helpers/schedulers.py",), ("tests/test_schedulers.py",)),
    # its bad-input tests live with the other modules' (issue 21's files); mutmut runs only those
    # that call the mutated function
    Module(
        "interpolation",
        ("helpers/interpolation.py",),
        ("tests/test_interpolation.py", "tests/test_bad_input_analysis.py", "tests/test_bad_input_heldout_fixes.py"),
    ),
    Module("seeds", ("helpers/seeds.py",), ("tests/test_seeds.py",)),
    Module("prompts", ("helpers/prompts.py",), ("tests/test_prompts.py",)),
    Module("toy_scorer", ("helpers/toy/scorer.py",), ("tests/test_toy_scorer.py",)),
)
BY_NAME = {module.name: module for module in MODULES}

KILLED = {"killed", "timeout", "caught by type check", "segfault"}
# "no tests": no selected test calls the function; it counts as survived (nothing would notice)
SURVIVED = {"survived", "no tests"}


def toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def toml_literal(value: str) -> str:
    """`value` as a TOML string that reads like the code: a literal string where it can be one."""
    if "\n" in value:
        return toml_string(value)
    if "'" not in value:
        return f"'{value}'"
    if "'''" not in value and not value.startswith("'") and not value.endswith("'"):
        return f"'''{value}'''"
    return toml_string(value)


def change(before: str, after: str, context: int = 12) -> str:
    """The mutated part of a line and a little around it: `...x < 10...` -> `...x <= 10...`."""
    start = 0
    while start < min(len(before), len(after)) and before[start] == after[start]:
        start += 1
    end = 0
    while end < min(len(before), len(after)) - start and before[-1 - end] == after[-1 - end]:
        end += 1
    left = max(0, start - context)
    old, new = before[left : len(before) - end], after[left : len(after) - end]
    tail = before[len(before) - end :][:context]
    dots = "…" if left else ""
    more = "…" if end > context else ""
    return f"`{dots}{old}{tail}{more}` → `{dots}{new}{tail}{more}`"


def failing_tests(module: Module, where: Path, env: dict) -> list[str]:
    """The module's tests that fail on the unmutated code in the copy (they could kill nothing; mutmut
    refuses to start while one fails): run once, their ids from pytest's summary."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", "--tb=no", "-rfE", *module.tests],
        cwd=where, capture_output=True, text=True, env=env,
    )
    if done.returncode not in (0, 1):
        raise SystemExit(f"the tests of {module.name} do not run in {where}:\n{done.stdout[-3000:]}{done.stderr[-2000:]}")
    return sorted({m[1] for m in re.finditer(r"^(?:FAILED|ERROR) (\S+)", done.stdout, re.M)})


def mutmut_config(module: Module, deselected: list[str] = ()) -> str:
    """mutmut's [tool.mutmut] section for one module (appended to the scratch copy's pyproject.toml)."""
    also_copy = [f"{name}/" for name in COPIED if name != "tests"]  # mutmut copies tests/ itself
    also_copy += list(COPIED_FILES)
    lines = [
        "",
        "[tool.mutmut]",
        f"source_paths = [{', '.join(map(toml_string, module.sources))}]",
        f"also_copy = [{', '.join(map(toml_string, also_copy))}]",
        f"pytest_add_cli_args_test_selection = [{', '.join(map(toml_string, module.tests))}]",
        # a fixed order, and no cache written into the copy
        f"pytest_add_cli_args = {json.dumps(['-p', 'no:randomly', '-p', 'no:cacheprovider', '-q', *[f'--deselect={t}' for t in deselected]])}",
        "use_git_change_detection = false",
        # mutmut's wall-clock limit is (the tests' time + constant) x multiplier; its defaults (1 s, x15)
        # call a mutant "timeout" (a kill) when a loaded or niced machine is merely slow
        "timeout_constant = 10.0",
        "timeout_multiplier = 10.0",
        "",
    ]
    return "\n".join(lines)


def environment() -> dict:
    return {
        **os.environ,
        # the tiny pipelines some tests build are read from the checkout's cache, not rebuilt in the copy
        "FIELDNOTES_CACHE": os.environ.get("FIELDNOTES_CACHE", str(ROOT / "_build" / "tiny-cache")),
        # mutmut forks a worker per mutant from a process that has run torch: with a thread pool there,
        # the forked worker can hang in its first parallel op (it did, in every explain() mutant)
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


def prepare(module: Module, before: str | None, resume: bool = False) -> tuple[Path, list[str]]:
    """A fresh scratch copy of the project for `module`, with its mutmut config, and the tests
    deselected there because they fail on the unmutated code. With `resume`, the copy of an
    interrupted run as it is (mutmut then tests only the mutants it has no verdict for)."""
    where = SCRATCH / f"{module.name}-{'before' if before else 'after'}"
    if resume and (where / "pyproject.toml").exists():
        config = tomllib.loads((where / "pyproject.toml").read_text())["tool"]["mutmut"]
        return where, [arg.removeprefix("--deselect=") for arg in config["pytest_add_cli_args"] if arg.startswith("--deselect=")]
    if where.exists():
        shutil.rmtree(where)
    where.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", ".pytest_cache", ".hypothesis", ".ipynb_checkpoints")
    for name in COPIED:
        shutil.copytree(ROOT / name, where / name, ignore=ignore)
    for name in COPIED_FILES:
        shutil.copy2(ROOT / name, where / name)
    pyproject = (ROOT / "pyproject.toml").read_text()
    if before:
        for test in module.tests:
            shown = subprocess.run(["git", "show", f"{before}:{test}"], cwd=ROOT, capture_output=True, text=True)
            if shown.returncode != 0:
                raise SystemExit(f"{test} at {before}: {shown.stderr.strip()}")
            (where / test).write_text(shown.stdout)
    (where / "pyproject.toml").write_text(pyproject)
    deselected = failing_tests(module, where, environment())
    (where / "pyproject.toml").write_text(pyproject + mutmut_config(module, deselected))
    return where, deselected


def run_mutmut(module: Module, where: Path, jobs: int) -> None:
    log = where / "mutmut.log"
    env = environment()
    command = [str(MUTMUT), "run", "--max-children", str(jobs), *module.only]
    with log.open("a") as out:
        done = subprocess.run(command, cwd=where, stdout=out, stderr=subprocess.STDOUT, env=env)
    if done.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        raise SystemExit(f"mutmut failed in {where} (exit {done.returncode}); the end of {log}:\n{tail}")


def statuses(module: Module, where: Path) -> dict[str, str]:
    """mutant name -> status, parsed from `mutmut results --all true` (those of `module.only`)."""
    shown = subprocess.run([str(MUTMUT), "results", "--all", "true"], cwd=where, capture_output=True, text=True, check=True)
    out = {}
    for line in shown.stdout.splitlines():
        match = re.fullmatch(r"\s*(\S+__mutmut_\d+): (.+?)\s*", line)
        if match and (not module.only or any(fnmatch.fnmatchcase(match[1], pattern) for pattern in module.only)):
            out[match[1]] = match[2]
    if not out:
        raise SystemExit(f"no mutants in the output of `mutmut results` in {where}:\n{shown.stdout[-2000:]}")
    return out


DIFFS = """
import json, sys
from mutmut.mutation.diff_apply import get_diff_for_mutant
print(json.dumps({name: get_diff_for_mutant(name) for name in sys.argv[1:]}))
"""


def diffs(where: Path, names: list[str]) -> dict[str, str]:
    """`mutmut show` for each name, in one process."""
    if not names:
        return {}
    shown = subprocess.run([sys.executable, "-c", DIFFS, *names], cwd=where, capture_output=True, text=True, check=True)
    return json.loads(shown.stdout)


def function_of(mutant: str) -> str:
    """'helpers.book.record.xǁapproxǁ__post_init____mutmut_3' -> 'helpers/book/record.py approx.__post_init__'."""
    dotted, _, _ = mutant.rpartition("__mutmut_")
    module, _, function = dotted.rpartition(".")
    function = function.removeprefix("x_") if not function.startswith("xǁ") else ".".join(function[2:].split("ǁ"))
    return f"{module.replace('.', '/')}.py {function}"


def changed_lines(diff: str) -> tuple[str, str]:
    """The removed and the added line of a mutant's diff, each stripped (several joined by ' / ')."""
    body = diff.splitlines()[2:]
    removed = " / ".join(line[1:].strip() for line in body if line.startswith("-"))
    added = " / ".join(line[1:].strip() for line in body if line.startswith("+"))
    return removed, added


WORDING = "message wording only: the tests check what a message names, not its words"


def raise_lines(source: str) -> set[int]:
    """The line numbers that belong to a `raise` statement of `source`."""
    lines = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Raise):
            lines.update(range(node.lineno, node.end_lineno + 1))
    return lines


def _tokens(line: str) -> list[tuple[int, str]]:
    """The tokens of one line of code (an unclosed bracket is fine)."""
    found = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(line).readline):
            if token.type not in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER, tokenize.COMMENT):
                found.append((token.type, token.string))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return found


def _reworded(before: str, after: str) -> bool:
    """Whether the string literal `after` is `before` with its text, or the text of one literal inside
    an f-string's braces, wrapped in XX or put in upper or lower case (mutmut's string mutations)."""
    quote_at = min(i for i in (before.find("'"), before.find('"')) if i >= 0)
    prefix, quoted = before[:quote_at], before[quote_at:]
    if "f" not in prefix.lower():
        candidates = [(quote_at + 1, len(before) - 1)]
    else:
        inner = "'" if quoted[0] == '"' else '"'
        candidates = [(m.start() + 1, m.end() - 1) for m in re.finditer(f"{inner}[^{inner}]*{inner}", before)]
    for start, end in candidates:
        body = before[start:end]
        for variant in (f"XX{body}XX", body.upper(), body.lower()):
            if variant != body and before[:start] + variant + before[end:] == after:
                return True
    return False


def is_message_wording(source: str, removed: str, added: str) -> bool:
    """Whether a mutant only rewrites the words of an error message: a string literal on a line of
    a `raise`, or assigned to a variable that only `raise` statements read, wrapped in XX or put in
    upper or lower case. The tests deliberately do not pin a message's words."""
    if not removed or " / " in removed:
        return False
    old, new = _tokens(removed), _tokens(added)
    if len(old) != len(new):
        return False
    changed = [(a, b) for a, b in zip(old, new) if a != b]
    if len(changed) != 1 or changed[0][0][0] != tokenize.STRING or changed[0][1][0] != tokenize.STRING:
        return False
    mutated = _reworded(changed[0][0][1], changed[0][1][1])
    nonempty = changed[0][0][1].strip("rbfRBF")[1:-1] != ""
    if not mutated:
        return False
    tree = ast.parse(source)
    in_raise = raise_lines(source)
    for number, line in enumerate(source.splitlines(), 1):
        if line.strip() != removed:
            continue
        if number in in_raise or _message_variable(tree, number, in_raise, nonempty):
            return True
    return False


def _message_variable(tree: ast.Module, number: int, in_raise: set[int], nonempty: bool) -> bool:
    """Whether line `number` assigns a local variable that its function reads only inside `raise`
    statements (a part of an error message: `hint = ...`, `names = ", ".join(...)`)."""
    functions = [
        node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.lineno <= number <= node.end_lineno
    ]
    if not functions:
        return False
    function = min(functions, key=lambda node: node.end_lineno - node.lineno)
    assigned = {
        target.id
        for node in ast.walk(function)
        if isinstance(node, ast.Assign) and node.lineno <= number <= node.end_lineno
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    if not assigned:
        return False
    reads = [node for node in ast.walk(function) if isinstance(node, ast.Name) and node.id in assigned and isinstance(node.ctx, ast.Load)]
    # `if why:` reads only the truth of the text, which rewording a non-empty text keeps
    tests = {id(node.test) for node in ast.walk(function) if isinstance(node, (ast.If, ast.IfExp, ast.While))}
    return bool(reads) and all(node.lineno in in_raise or (id(node) in tests and nonempty) for node in reads)


def load_equivalents() -> list[dict]:
    return tomllib.loads(EQUIVALENTS.read_text())["equivalent"] if EQUIVALENTS.exists() else []


def classify(module: Module, where: Path) -> dict:
    """The counts of a finished mutmut run in `where`, each survivor judged (`judge`)."""
    status = statuses(module, where)
    names = sorted(name for name, state in status.items() if state in SURVIVED)
    diff_by_name = diffs(where, names)
    survivors = []
    for name in names:
        removed, added = changed_lines(diff_by_name[name])
        survivors.append({"mutant": name, "function": function_of(name), "before": removed, "after": added, "status": status[name]})
    killed = sum(state in KILLED for state in status.values())
    counts = {"total": len(status), "killed": killed, "other": len(status) - killed - len(names)}  # other: "suspicious", "not checked"
    return judge(module, counts, survivors, {path: (where / path).read_text() for path in module.sources})


def judge(module: Module, counts: dict, survivors: list[dict], sources: dict[str, str]) -> dict:
    """Split `survivors` into equivalent mutants (tools/mutation_equivalents.toml, or message wording)
    and the rest; the equivalents file's entries that match none are stale."""
    equivalents = [e for e in load_equivalents() if e["function"].split()[0] in module.sources]
    used = set()
    equivalent, survived = [], []
    for entry in survivors:
        entry = {key: entry[key] for key in ("mutant", "function", "before", "after", "status")}
        match = next(
            (
                i
                for i, e in enumerate(equivalents)
                if e["function"] == entry["function"] and e["before"] == entry["before"] and e["after"] == entry["after"]
            ),
            None,
        )
        if match is not None:
            used.add(match)
            equivalent.append({**entry, "why": equivalents[match]["why"]})
        elif is_message_wording(sources[entry["function"].split()[0]], entry["before"], entry["after"]):
            equivalent.append({**entry, "why": WORDING})
        else:
            survived.append(entry)
    return {
        **{key: counts[key] for key in ("total", "killed", "other")},
        "survived": len(survived),
        "equivalent": len(equivalent),
        "survivors": survived,
        "equivalents": equivalent,
        "stale_equivalents": [e for i, e in enumerate(equivalents) if i not in used],
    }


def rejudge(results: dict) -> None:
    """Judge the stored survivors again with the current equivalents file (no mutmut run)."""
    for module in MODULES:
        sources = {path: (ROOT / path).read_text() for path in module.sources}
        for label, counts in results.get(module.name, {}).items():
            judged = judge(module, counts, counts["survivors"] + counts["equivalents"], sources)
            if label == "before":  # an entry stale for the old tests is only killed there
                judged["stale_equivalents"] = []
            counts.update(judged)


def rate(counts: dict) -> float:
    judged = counts["killed"] + counts["survived"]
    return counts["killed"] / judged if judged else 1.0


def report(results: dict) -> str:
    lines = [
        "# Mutation testing of the core helpers",
        "",
        "Written by `make mutation` (tools/mutation.py) from mutation.json; do not edit by hand.",
        "mutmut changes one thing at a time in a module (an operator, a constant, a keyword, a default) and",
        "runs that module's own tests; a *killed* mutant made a test fail, a *survived* one did not (a gap in",
        "the tests, or a function none of them calls), an *equivalent* one cannot be told apart from the",
        "original by any test (each explained below, listed in tools/mutation_equivalents.toml).",
        f"The target: {TARGET:.0%} of the non-equivalent mutants killed in every module.",
        "",
        "| module | tests | before: killed / survived / equivalent | after: killed / survived / equivalent | killed (after) |",
        "|---|---|---|---|---|",
    ]
    for module in MODULES:
        got = results.get(module.name, {})
        cells = []
        for label in ("before", "after"):
            counts = got.get(label)
            cells.append(
                f"{counts['killed']} / {counts['survived']} / {counts['equivalent']} ({rate(counts):.0%})" if counts else "not run"
            )
        after = got.get("after")
        mark = "" if not after else (" ✓" if rate(after) >= TARGET else " below target")
        lines.append(
            f"| `{', '.join(module.sources)}` | `{', '.join(t.removeprefix('tests/') for t in module.tests)}` | {cells[0]} | {cells[1]} | "
            f"{f'{rate(after):.0%}' if after else '-'}{mark} |"
        )
    revisions = sorted({got["before"]["tests_at"] for got in results.values() if "before" in got})
    lines += ["", f"Before: the tests as of commit {', '.join(revisions) or '-'}; after: the tests committed with this report.", ""]
    for module in MODULES:
        got = results.get(module.name, {}).get("after")
        if not got:
            continue
        lines += [f"## {module.name}", "", f"{got['total']} mutants, run {got['date']} in {got['minutes']:.0f} min.", ""]
        if got.get("deselected"):
            lines += ["Left out of the run because they fail on the unmutated code:", ""]
            lines += [f"- `{test}`" for test in got["deselected"]] + [""]
        if got["equivalents"]:
            lines += ["Equivalent (no test can tell them apart from the original):", ""]
            for e in got["equivalents"]:
                lines.append(f"- `{e['function']}`: {change(e['before'], e['after'])}: {e['why']}")
            lines.append("")
        if got["survivors"]:
            lines += ["Survived (left to do):", ""]
            for e in got["survivors"]:
                note = " (no test calls it)" if e["status"] == "no tests" else ""
                lines.append(f"- `{e['function']}`{note}: {change(e['before'], e['after'])}")
            lines.append("")
        if got["stale_equivalents"]:
            lines += ["Stale entries of tools/mutation_equivalents.toml (no such survivor now; review them):", ""]
            lines += [f"- `{e['function']}`: {change(e['before'], e['after'])}" for e in got["stale_equivalents"]]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", metavar="MODULE", help=f"core modules to run: {', '.join(BY_NAME)} (default: all, in order)")
    parser.add_argument("--before", metavar="REV", help="use the module's tests as of this git revision; record as 'before'")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="mutmut's parallel workers")
    parser.add_argument("--resume", action="store_true", help="go on with an interrupted run's copy instead of a fresh one")
    parser.add_argument(
        "--report-only", action="store_true", help="judge the stored survivors again (equivalents file) and rewrite the report; run nothing"
    )
    parser.add_argument(
        "--draft-equivalents", action="store_true", help="print the last run's survivors as entries for mutation_equivalents.toml"
    )
    args = parser.parse_args(argv)
    unknown = [name for name in args.modules if name not in BY_NAME]
    if unknown:
        parser.error(f"unknown module {', '.join(unknown)}; the core modules are {', '.join(BY_NAME)}")
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    label = "before" if args.before else "after"
    if args.draft_equivalents:
        for module in [BY_NAME[name] for name in args.modules] or MODULES:
            for entry in results.get(module.name, {}).get(label, {}).get("survivors", []):
                print("[[equivalent]]")
                for key in ("function", "before", "after"):
                    print(f"{key} = {toml_literal(entry[key])}")
                print('why = ""\n')
        return 0
    if not args.report_only:
        for module in [BY_NAME[name] for name in args.modules] or MODULES:
            start = time.monotonic()
            print(f"[{module.name}] mutmut on {', '.join(module.sources)} against {', '.join(module.tests)} ...", flush=True)
            where, deselected = prepare(module, args.before, args.resume)
            if deselected:
                print(f"[{module.name}] left out, failing on the unmutated code: {', '.join(deselected)}", flush=True)
            run_mutmut(module, where, args.jobs)
            counts = classify(module, where)
            counts["deselected"] = deselected
            counts["minutes"] = (time.monotonic() - start) / 60
            counts["date"] = date.today().isoformat()
            if args.before:
                counts["tests_at"] = args.before
            # read again: another run of this tool (other modules) may have written since this one began
            results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
            results.setdefault(module.name, {})[label] = counts
            RESULTS.parent.mkdir(parents=True, exist_ok=True)
            RESULTS.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
            REPORT.write_text(report(results))
            stale = f", {len(counts['stale_equivalents'])} stale equivalents" if counts["stale_equivalents"] else ""
            print(
                f"[{module.name}] {label}: {counts['killed']} killed, {counts['survived']} survived, {counts['equivalent']} equivalent "
                f"of {counts['total']} ({rate(counts):.0%} of the non-equivalent killed) in {counts['minutes']:.1f} min{stale}",
                flush=True,
            )
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if args.report_only:
        rejudge(results)
        RESULTS.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(report(results))
    print(f"wrote {REPORT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
