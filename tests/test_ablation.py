import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from helpers.research import ablation

images = st.integers(4, 24).flatmap(
    lambda h: st.integers(4, 24).flatmap(
        lambda w: st.tuples(*(arrays(np.float32, (h, w, 3), elements=st.floats(0, 1, width=32)) for _ in range(2)))
    )
)


@settings(max_examples=60, deadline=None)
# cutoffs past every frequency are part of the property
@pytest.mark.filterwarnings("ignore::helpers.research.ablation.CutoffWarning")
@given(pair=images, cutoff=st.floats(0, 20))
def test_the_split_is_orthogonal_symmetric_and_zero_for_equal_images(pair, cutoff):
    a, b = pair
    d = ablation.layout_detail(a, b, cutoff)
    assert d["total"] ** 2 == pytest.approx(d["layout"] ** 2 + d["detail"] ** 2, rel=1e-9, abs=1e-12)
    assert d["total"] == pytest.approx(float(np.sqrt(np.mean((a.astype(np.float64) - b) ** 2))), rel=1e-9, abs=1e-12)
    assert ablation.layout_detail(b, a, cutoff) == pytest.approx(d)
    assert ablation.layout_detail(a, a, cutoff) == {"layout": 0.0, "detail": 0.0, "total": 0.0}


@settings(max_examples=30, deadline=None)
# cutoffs past every frequency are part of the property
@pytest.mark.filterwarnings("ignore::helpers.research.ablation.CutoffWarning")
@given(pair=images, cutoff=st.floats(0, 20))
def test_low_plus_high_is_the_signal_and_low_is_real_and_band_limited(pair, cutoff):
    signal = pair[0] - pair[1]
    low, high = ablation.split(signal, cutoff)
    np.testing.assert_allclose(low + high, signal, atol=1e-6)
    mask = ablation.low_pass_mask(*signal.shape[:2], cutoff)
    np.testing.assert_allclose(np.fft.fft2(low, axes=(0, 1))[~mask], 0, atol=1e-9)
    np.testing.assert_allclose(np.fft.fft2(high, axes=(0, 1))[mask], 0, atol=1e-9)


def test_a_brightness_shift_is_all_layout_and_a_checkerboard_all_detail():
    rng = np.random.default_rng(0)
    base = rng.uniform(0.2, 0.8, size=(32, 32, 3))
    shifted = ablation.layout_detail(base, base + 0.1, cutoff=2)
    assert shifted["layout"] == pytest.approx(0.1, rel=1e-5) and shifted["detail"] == pytest.approx(0, abs=1e-6)  # images are float32
    checker = (np.indices((32, 32)).sum(axis=0) % 2)[..., None] * 0.1
    textured = ablation.layout_detail(base, base + checker, cutoff=2)
    # the checkerboard's mean (0.05) is layout; its 16-cycle oscillation is detail
    assert textured["layout"] == pytest.approx(0.05, rel=1e-5) and textured["detail"] == pytest.approx(0.05, rel=1e-5)


def test_moving_a_blob_is_mostly_layout_and_adding_fine_noise_mostly_detail():
    y, x = np.mgrid[0:64, 0:64] / 64
    blob = lambda cx: 0.25 + 0.5 * np.exp(-((x - cx) ** 2 + (y - 0.5) ** 2) / 0.02)[..., None].repeat(3, axis=2)  # noqa: E731
    moved = ablation.layout_detail(blob(0.3), blob(0.7), cutoff=4)
    noisy = ablation.layout_detail(blob(0.3), blob(0.3) + np.random.default_rng(1).normal(0, 0.05, (64, 64, 3)), cutoff=4)
    assert moved["layout"] > 3 * moved["detail"]
    assert noisy["detail"] > 5 * noisy["layout"]  # white noise: about 1 % of its power lies below 4 cycles


def test_inputs_can_be_pil_images_uint8_arrays_or_chw_tensors():
    rng = np.random.default_rng(2)
    a8, b8 = (rng.integers(0, 256, size=(16, 16, 3), dtype=np.uint8) for _ in range(2))
    expected = ablation.layout_detail(a8 / 255.0, b8 / 255.0, 3)
    assert ablation.layout_detail(Image.fromarray(a8), Image.fromarray(b8), 3) == pytest.approx(expected)
    as_tensor = lambda a: torch.from_numpy(a / 255.0).permute(2, 0, 1)  # noqa: E731
    assert ablation.layout_detail(as_tensor(a8), as_tensor(b8), 3) == pytest.approx(expected)


def test_distance_table_has_one_row_per_variant_and_a_detail_share():
    rng = np.random.default_rng(3)
    ref = rng.uniform(0, 1, (16, 16, 3))
    table = ablation.distance_table(ref, {"same": ref, "brighter": np.clip(ref + 0.05, 0, 1), "noisy": rng.uniform(0, 1, (16, 16, 3))}, 2)
    assert list(table.index) == ["same", "brighter", "noisy"]
    assert list(table.columns) == ["layout", "detail", "total", "detail share"]
    assert np.isnan(table.loc["same", "detail share"]) and table.loc["same", "total"] == 0
    assert table.loc["noisy", "detail share"] > table.loc["brighter", "detail share"]


def test_bad_inputs_are_clear_errors():
    a = np.zeros((8, 8, 3))
    with pytest.raises(ValueError, match=r"same shape.*\(8, 8, 3\) and \(8, 9, 3\)"):
        ablation.layout_detail(a, np.zeros((8, 9, 3)), 2)
    with pytest.raises(ValueError, match=r"cutoff \(cycles per image\) must be a number >= 0.0, got -1"):
        ablation.layout_detail(a, a, -1)
    with pytest.raises(TypeError, match="b: cannot show an image of type str"):
        ablation.layout_detail(a, "image.png", 2)
    with pytest.raises(TypeError, match="split needs an HxW or HxWxC numpy array"):
        ablation.split([1, 2], 2)
    with pytest.raises(ValueError, match="non-empty mapping"):
        ablation.distance_table(a, {}, 2)
