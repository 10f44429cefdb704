"""helpers.toy.location: where the toy weights are found (FIELDNOTES_MODELS, the wheel, the checkout)."""

from pathlib import Path

import pytest

from helpers.toy import location


def test_the_checkout_is_used_when_nothing_else_is_there(monkeypatch):
    monkeypatch.delenv(location.MODELS_ENV, raising=False)
    assert not location.PACKAGED.exists()  # a checkout has no helpers/toy/weights: only a wheel does
    assert location.models_root() == location.CHECKOUT
    assert (location.models_root() / "toy-sd" / "model_index.json").is_file()


def test_the_packaged_copy_wins_over_the_checkout(monkeypatch, tmp_path):
    monkeypatch.delenv(location.MODELS_ENV, raising=False)
    monkeypatch.setattr(location, "PACKAGED", tmp_path)
    assert location.models_root() == tmp_path


def test_the_setting_wins_and_must_name_a_folder(monkeypatch, tmp_path):
    monkeypatch.setattr(location, "PACKAGED", tmp_path / "packaged")
    (tmp_path / "packaged").mkdir()
    monkeypatch.setenv(location.MODELS_ENV, str(tmp_path))
    assert location.models_root() == tmp_path
    monkeypatch.setenv(location.MODELS_ENV, str(tmp_path / "missing"))
    with pytest.raises(NotADirectoryError, match=r"FIELDNOTES_MODELS=.*missing.*toy-sd/ and toy-wuerstchen/"):
        location.models_root()
    monkeypatch.setenv(location.MODELS_ENV, "")  # empty: unset
    assert location.models_root() == tmp_path / "packaged"


def test_the_wheel_ships_the_models_folder_as_package_data():
    import tomllib

    setuptools = tomllib.loads((Path(location.__file__).parents[2] / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert setuptools["package-dir"]["helpers.toy.weights"] == "models"
    assert "helpers.toy.weights" in setuptools["packages"] and setuptools["package-data"]["helpers.toy.weights"] == ["**/*"]
    assert location.PACKAGED == Path(location.__file__).parent / "weights"
