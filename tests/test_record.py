import json

import numpy as np
import pytest
import torch

import helpers
from helpers.book.record import RECORD_ENV, normalise


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


def test_a_refused_figure_is_named_by_its_path_in_the_tree():
    # the message names the very entry that cannot be recorded, nested keys and indexes included
    with pytest.raises(ValueError, match=r"'fig\.a\[1\]' is nan"):
        normalise({"a": [1.0, float("nan")]}, "fig")
    with pytest.raises(ValueError, match=r"'value' is inf"):  # the default name of a bare figure
        normalise(float("inf"))
    with pytest.raises(ValueError, match=r"'m' is nan"):  # a 0-d tensor keeps the name
        normalise(torch.tensor(float("nan")), "m")
    with pytest.raises(TypeError, match=r"'fig\.inner' has a non-string key 1"):
        normalise({"inner": {1: 2}}, "fig")
    with pytest.raises(TypeError, match=r"'img' has type Tensor of shape \(2, 3\)"):
        normalise(torch.zeros(2, 3), "img")
    with pytest.raises(TypeError, match=r"'thing' has type object") as info:
        normalise(object(), "thing")
    assert "of shape" not in str(info.value)  # no shape to report
    with pytest.raises(TypeError, match=r"'image' has type ndarray"):
        helpers.record(image=np.zeros((2, 2)))  # record() names the keyword


def test_normalise_turns_numpy_bools_into_python_bools():
    assert normalise(np.bool_(True)) is True and normalise(np.bool_(False)) is False


def test_the_reference_file_is_sorted_indented_json_in_a_new_folder(tmp_path, monkeypatch):
    target = tmp_path / "new" / "folder" / "figures.json"  # its folders do not exist yet
    monkeypatch.setenv(RECORD_ENV, str(target))
    helpers.record(b=2, a=[1, 2])
    # sorted keys and a fixed indentation: a re-recorded reference differs only where a figure changed
    assert target.read_text() == '{\n  "a": [\n    1,\n    2\n  ],\n  "b": 2\n}\n'


def test_recorded_rows_show_an_absolute_tolerance_and_bare_floats():
    shown = helpers.record(
        m=helpers.approx(0.25, atol=0.001, why="a sum of float32 pixels"),
        n=helpers.approx(0.5, rtol=0.01, atol=0.002, why="a mean of float32 pixels"),
        x=0.5,
    )
    assert shown.rows() == [
        ("m", "0.25", "rtol 0, atol 0.001: a sum of float32 pixels"),
        ("n", "0.5", "rtol 0.01, atol 0.002: a mean of float32 pixels"),
        ("x", "0.5", "rtol 1e-05 (exact)"),
    ]
    assert "m, n, x" in repr(shown)
    html = shown._repr_html_()
    assert "</summary><table><thead><tr><th>figure</th><th>value</th><th>compared</th>" in html and "</tr><tr>" in html


def test_approx_names_the_argument_it_refuses():
    with pytest.raises(TypeError, match=r"^approx\(value=\.\.\.\)"):
        helpers.approx("0.5", rtol=0.1, why="a reason long enough")
    with pytest.raises(ValueError, match=r"^approx\(atol=\.\.\.\) must be a number >= 0"):
        helpers.approx(0.5, atol=-0.1, why="a reason long enough")  # a negative tolerance accepts nothing
    with pytest.raises(ValueError, match=r"^approx\(rtol=\.\.\.\) must be a number >= 0"):
        helpers.approx(0.5, rtol=-0.1, atol=0.1, why="a reason long enough")


def test_approx_takes_a_reason_of_ten_characters_or_more():
    assert helpers.approx(0.5, rtol=0.1, why="0123456789").why == "0123456789"
    with pytest.raises(ValueError, match="why="):
        helpers.approx(0.5, rtol=0.1, why=" 012345678 ")  # nine once stripped


def test_approx_keeps_python_numbers_and_converts_numpy_and_tensor_scalars():
    stat = helpers.approx(np.float32(0.5), rtol=np.float64(0.25), atol=torch.tensor(0.125), why="a reason long enough")
    assert (type(stat.value), type(stat.rtol), type(stat.atol)) == (float, float, float)
    assert (stat.value, stat.rtol, stat.atol) == (0.5, 0.25, 0.125)  # exact: dyadic values
    given = helpers.approx(1, rtol=1, atol=0, why="a reason long enough")
    assert (type(given.value), type(given.rtol), type(given.atol)) == (float, int, int)  # written as given
