import numpy as np
import pytest
import torch
from PIL import Image

from helpers.book import plotting, widgets


def test_to_array_accepts_pil_numpy_and_tensors():
    pil = Image.new("RGB", (4, 3), (255, 0, 0))
    assert plotting.to_array(pil).shape == (3, 4, 3) and plotting.to_array(pil)[0, 0, 0] == 1.0  # exact: 255 / 255
    assert plotting.to_array(np.full((2, 2, 3), 255, dtype=np.uint8)).max() == 1.0  # exact: 255 / 255
    chw = torch.zeros(3, 5, 6)
    assert plotting.to_array(chw).shape == (5, 6, 3)
    assert plotting.to_array(torch.zeros(1, 5, 6)).shape == (5, 6)


@pytest.mark.parametrize("bad", ["image.png", np.zeros((1, 2, 3, 4))])
def test_to_array_refuses_other_inputs(bad):
    with pytest.raises((TypeError, ValueError)):
        plotting.to_array(bad)


def test_image_grid_layout_and_errors():
    images = [torch.rand(3, 8, 8) for _ in range(5)]
    fig = plotting.image_grid(images, titles=list("abcde"), ncols=3)
    assert len(fig.axes) == 6 and fig.axes[0].get_title() == "a"
    with pytest.raises(ValueError, match="2 titles for 5 images"):
        plotting.image_grid(images, titles=["a", "b"])
    with pytest.raises(ValueError, match="at least one image"):
        plotting.image_grid([])


def test_line_plot():
    fig = plotting.line_plot({"a": ([1, 2], [3, 4])}, "x", "y", logy=True)
    assert fig.axes[0].get_yscale() == "log"
    with pytest.raises(ValueError):
        plotting.line_plot({}, "x", "y")


def test_widgets_are_skipped_in_static_runs(monkeypatch):
    built = []
    monkeypatch.setenv(widgets.STATIC_ENV, "1")
    assert widgets.show(lambda: built.append(1)) is None and built == []
    monkeypatch.setenv(widgets.STATIC_ENV, "0")
    assert not widgets.is_static()


def test_widget_is_displayed_once_and_not_returned(monkeypatch):
    # A returned widget would be shown a second time as the cell's result (issue 20).
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    monkeypatch.delenv(widgets.STATIC_ENV, raising=False)
    marker = object()
    assert widgets.show(lambda: marker) is None
    assert shown == [marker]


def test_widget_show_refuses_what_it_cannot_show(monkeypatch):
    monkeypatch.delenv(widgets.STATIC_ENV, raising=False)
    with pytest.raises(TypeError, match="build: expected a function"):
        widgets.show("not a function")
    with pytest.raises(TypeError, match="returned None"):
        widgets.show(lambda: None)
