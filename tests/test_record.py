import json

import numpy as np
import pytest
import torch

import helpers
from helpers.record import RECORD_ENV, normalise


def test_normalise_turns_shapes_and_scalars_into_json():
    assert normalise(torch.Size([1, 4, 8, 8])) == [1, 4, 8, 8]
    assert normalise(torch.tensor(2.5)) == 2.5  # exact: 2.5 is a float32 value
    assert normalise(np.int64(3)) == 3 and isinstance(normalise(np.int64(3)), int)
    assert normalise({"a": (1, 2.0, "x", None, True)}) == {"a": [1, 2.0, "x", None, True]}


@pytest.mark.parametrize("bad", [torch.zeros(2), object(), {1: 2}, float("nan")])
def test_normalise_refuses_what_cannot_be_reviewed(bad):
    with pytest.raises((TypeError, ValueError)):
        normalise(bad)


def test_record_writes_and_merges(tmp_path, monkeypatch):
    target = tmp_path / "figures.json"
    monkeypatch.setenv(RECORD_ENV, str(target))
    helpers.record(shape=torch.Size([2, 3]))
    helpers.record(mean=0.5)
    assert json.loads(target.read_text()) == {"shape": [2, 3], "mean": 0.5}
    with pytest.raises(ValueError, match="recorded twice.*mean"):
        helpers.record(mean=0.6)


def test_record_outside_the_test_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv(RECORD_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert helpers.record(x=1) == {"x": 1}
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="at least one figure"):
        helpers.record()


def test_record_shows_a_folded_table_not_a_dict_dump():
    shown = helpers.record(shape=torch.Size([2, 3]), nested={"b": 1, "a": "x"}, mean=helpers.approx(0.5, rtol=0.01, why="a mean over float32 pixels"))
    assert shown == {"shape": [2, 3], "nested": {"a": "x", "b": 1}, "mean": {"approx": 0.5, "rtol": 0.01, "atol": 0.0, "why": "a mean over float32 pixels"}}
    assert shown.rows() == [
        ("mean", "0.5", "rtol 0.01: a mean over float32 pixels"),
        ("nested.a", "x", "exact"),
        ("nested.b", "1", "exact"),
        ("shape", "[2, 3]", "exact"),
    ]
    html = shown._repr_html_()
    assert html.startswith("<details>") and "4 figures" in html and "<code>nested.a</code>" in html
    assert "{" not in repr(shown)
