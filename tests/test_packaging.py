"""environment.yml, pyproject.toml, the Makefile and .ci/run must tell the same story."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
ENVIRONMENT = yaml.safe_load((ROOT / "environment.yml").read_text())


def pip_section():
    return next(item["pip"] for item in ENVIRONMENT["dependencies"] if isinstance(item, dict))


def test_python_versions_agree():
    conda_python = next(d for d in ENVIRONMENT["dependencies"] if isinstance(d, str) and d.startswith("python="))
    version = conda_python.split("=")[1]
    assert PYPROJECT["project"]["requires-python"] == f">={version},<3.{int(version.split('.')[1]) + 1}"


def test_conda_installs_the_package_with_the_same_extras_as_make():
    assert "-e .[book,test,parity,prompts]" in pip_section()
    assert "'.[book,test,parity,prompts]'" in (ROOT / "Makefile").read_text()


def test_torch_pin_agrees_everywhere():
    pyproject_pin = next(d for d in PYPROJECT["project"]["dependencies"] if d.startswith("torch"))
    assert pyproject_pin in pip_section()
    assert f"pip install --quiet {pyproject_pin}" in (ROOT / "Makefile").read_text()


def test_core_libraries_are_pinned_exactly():
    pins = {re.split("[=<>]", d)[0]: d for d in PYPROJECT["project"]["dependencies"]}
    for name in ("torch", "diffusers", "transformers"):
        assert "==" in pins[name], f"{name} must be pinned exactly: the book documents one release"


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
