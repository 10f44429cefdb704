"""environment.yml, pyproject.toml, constraints.txt, the Makefile and .ci/run must tell the same story:
the package declares ranges (pyproject.toml), the book's environment pins them exactly (constraints.txt)."""

import re
from pathlib import Path

import tomllib
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
ENVIRONMENT = yaml.safe_load((ROOT / "environment.yml").read_text())
RANGES = {Requirement(d).name: Requirement(d) for d in PYPROJECT["project"]["dependencies"]}
MATRIX_RELEASES = tomllib.loads((ROOT / "tools" / "matrix_releases.toml").read_text())["release"]


def constraints() -> dict[str, str]:
    """constraints.txt as {name: exact version}."""
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[re.sub(r"[-_.]+", "-", name.strip().lower())] = version.strip()  # PEP 503 names
    return pins


def pip_section():
    return next(item["pip"] for item in ENVIRONMENT["dependencies"] if isinstance(item, dict))


def test_python_versions_agree():
    conda_python = next(d for d in ENVIRONMENT["dependencies"] if isinstance(d, str) and d.startswith("python="))
    version = conda_python.split("=")[1]
    assert version == "3.11", "constraints.txt is the freeze of a Python 3.11 venv (torch's CPU wheel on disk is for 3.11)"
    assert version in SpecifierSet(PYPROJECT["project"]["requires-python"])
    classifiers = {c.rsplit(" :: ", 1)[1] for c in PYPROJECT["project"]["classifiers"] if re.search(r":: 3\.\d+$", c)}
    assert version in classifiers and all(v in SpecifierSet(PYPROJECT["project"]["requires-python"]) for v in classifiers)


def test_conda_installs_the_package_with_the_same_extras_and_constraints_as_make():
    assert "-e .[book,test,parity,prompts,training]" in pip_section() and "-c constraints.txt" in pip_section()
    makefile = (ROOT / "Makefile").read_text()
    assert "-c constraints.txt -e '.[book,test,parity,prompts,training]'" in makefile


def test_torch_pin_agrees_everywhere():
    pin = f"torch=={constraints()['torch']}"
    assert pin in pip_section()
    assert f"pip install --quiet -c constraints.txt {pin}" in (ROOT / "Makefile").read_text()


def test_the_book_pins_the_core_libraries_exactly_and_the_package_leaves_them_ranges():
    pins = constraints()
    for name in ("torch", "diffusers", "transformers", "huggingface-hub"):
        assert name in pins, f"constraints.txt must pin {name}: the book documents one release"
        assert "==" not in str(RANGES[name].specifier), f"pyproject.toml pins {name}; a package gives ranges"


def test_the_package_ranges_admit_the_book_environment():
    pins = constraints()
    for name, requirement in RANGES.items():
        assert name in pins, f"{name} is a dependency but constraints.txt does not pin it"
        assert requirement.specifier.contains(pins[name], prereleases=True), f"{requirement} excludes the book's {name}=={pins[name]}"


def test_the_lower_bounds_are_the_oldest_release_of_the_matrix():
    """The package says it works down to the oldest release the claims matrix runs every chapter on."""
    for name in ("diffusers", "transformers", "huggingface-hub"):
        oldest = min((entry[name] for entry in MATRIX_RELEASES), key=lambda v: tuple(map(int, v.split("."))))
        (spec,) = RANGES[name].specifier
        assert spec.operator == ">=" and tuple(map(int, spec.version.split("."))) <= tuple(map(int, oldest.split("."))), (name, spec, oldest)
    assert str(RANGES["diffusers"].specifier) == f">={MATRIX_RELEASES[-1]['diffusers']}"


def commands(text: str) -> list[str]:
    """The command lines of a shell script or a code block: no comments, no blank lines."""
    return [line.split("#")[0].strip() for line in text.splitlines() if line.split("#")[0].strip()]


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    two_commands = readme.split("## The two commands", 1)[1].split("\n## ", 1)[0]
    block = two_commands.split("```bash", 1)[1].split("```", 1)[0]
    assert "make test" in commands(block), "README's two commands must include `make test` as a command"
    ci = commands((ROOT / ".ci" / "run").read_text())
    assert ci[-1] == "make test", f".ci/run must end by running `make test`, it runs {ci[-1]!r}"
    options = [line for line in ci if line.startswith("set ")]
    assert options and "e" in options[0].split()[1] and "pipefail" in options[0], ".ci/run must `set -eo pipefail` first"
    assert ci.index(options[0]) < ci.index("make test")
    assert re.search(r"^test:", (ROOT / "Makefile").read_text(), re.M), "the Makefile has no test target"
