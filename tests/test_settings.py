"""helpers.settings: every environment variable the helpers read, read in one place."""

import ast
from pathlib import Path

import pytest

from helpers import settings

HELPERS = Path(__file__).resolve().parent.parent / "helpers"


def test_only_settings_reads_the_environment():
    # runtime saves and restores HF_HUB_OFFLINE around the Hub block: process state, not a setting
    allowed = {"settings.py": None, "runtime.py": settings.HUB_OFFLINE}
    readers = []
    for path in sorted(HELPERS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv") and getattr(node.value, "id", "") == "os":
                if path.name not in allowed:
                    readers.append(f"{path.relative_to(HELPERS)}:{node.lineno}")
    assert not readers, f"read the environment through helpers.settings: {readers}"


def test_each_variable_is_named_once_in_the_helpers():
    for name in settings.NAMES:
        quoted = [p.relative_to(HELPERS).as_posix() for p in HELPERS.rglob("*.py") if f'"{name}"' in p.read_text()]
        assert quoted == ["settings.py"], (name, quoted)


def test_empty_counts_as_unset_and_zero_as_no(monkeypatch):
    monkeypatch.setenv(settings.LEDGER, "")
    assert settings.ledger_path() is None
    monkeypatch.setenv(settings.STATIC, "0")
    assert settings.static() is False
    monkeypatch.setenv(settings.STATIC, "yes")
    assert settings.static() is True
    monkeypatch.delenv(settings.STATIC)
    assert settings.static() is False
    with pytest.raises(ValueError, match="name must be one of the helpers' variables"):
        settings.text("FIELDNOTES_TYPO")


def test_the_book_follows_static_unless_set(monkeypatch):
    monkeypatch.delenv(settings.BOOK, raising=False)
    monkeypatch.setenv(settings.STATIC, "1")  # what `make book` sets
    assert settings.in_book()
    monkeypatch.setenv(settings.BOOK, "0")  # a static run that is not the book: no links
    assert settings.static() and not settings.in_book()
    monkeypatch.delenv(settings.STATIC)
    monkeypatch.setenv(settings.BOOK, "1")
    assert settings.in_book() and not settings.static()


def test_folders(monkeypatch, tmp_path):
    monkeypatch.setenv(settings.CACHE, str(tmp_path))
    assert settings.cache_folder() == tmp_path
    monkeypatch.delenv(settings.CACHE)
    assert settings.cache_folder() == settings.DEFAULT_CACHE
    (tmp_path / "file").write_text("")
    monkeypatch.setenv(settings.CACHE, str(tmp_path / "file"))
    with pytest.raises(ValueError, match="is a file"):
        settings.cache_folder()
    monkeypatch.setenv(settings.MODELS, str(tmp_path / "missing"))
    with pytest.raises(NotADirectoryError, match="is not a folder"):
        settings.models_folder()
    monkeypatch.setenv(settings.MODEL_MIRROR, str(tmp_path))
    assert settings.model_mirror() == tmp_path
    monkeypatch.setenv(settings.RECORD, str(tmp_path / "r.json"))
    assert settings.record_path() == tmp_path / "r.json"
