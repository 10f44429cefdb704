"""Tests for helpers.interpolation: slerp/lerp properties, and the UnCLIP frame makers on tiny pipelines."""

import math

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image
from scipy.spatial import geometric_slerp

from helpers.interpolation import angle_between, interpolate_images, interpolate_prompts, lerp, slerp

# ------------------------------------------------------------------------------------------
# strategies
# ------------------------------------------------------------------------------------------

FINITE = st.floats(min_value=-100, max_value=100, allow_nan=False, allow_infinity=False, width=32)
T = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@st.composite
def vector_pairs(draw, min_dim=2, max_dim=48):
    """Two float64 vectors of the same length, neither (nearly) zero."""
    dim = draw(st.integers(min_value=min_dim, max_value=max_dim))
    a = draw(arrays(np.float64, dim, elements=FINITE))
    b = draw(arrays(np.float64, dim, elements=FINITE))
    assume(np.linalg.norm(a) > 1e-3 and np.linalg.norm(b) > 1e-3)
    return torch.from_numpy(a), torch.from_numpy(b)


def close(x, y, scale=1.0, tol=1e-9):
    return torch.allclose(x, y, rtol=0, atol=tol * max(scale, 1.0))


# ------------------------------------------------------------------------------------------
# slerp / lerp properties
# ------------------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(vector_pairs())
def test_endpoints_are_exact(pair):
    a, b = pair
    for f in (slerp, lerp):
        assert torch.equal(f(a, b, 0.0), a)
        assert torch.equal(f(a, b, 1.0), b)
        batch = f(a, b, torch.tensor([0.0, 1.0]))
        assert torch.equal(batch[0], a) and torch.equal(batch[1], b)


@settings(max_examples=150, deadline=None)
@given(vector_pairs(), T)
def test_norm_is_kept_for_equal_norm_inputs(pair, t):
    a, b = pair
    b = b * (a.norm() / b.norm())
    assert math.isclose(slerp(a, b, t).norm().item(), a.norm().item(), rel_tol=1e-9)


@settings(max_examples=150, deadline=None)
@given(vector_pairs(), T)
def test_norm_goes_linearly_between_the_ends(pair, t):
    a, b = pair
    expected = (1 - t) * a.norm().item() + t * b.norm().item()
    assert math.isclose(slerp(a, b, t).norm().item(), expected, rel_tol=1e-9)


@settings(max_examples=150, deadline=None)
@given(vector_pairs(), T)
def test_symmetry(pair, t):
    a, b = pair
    scale = max(a.norm().item(), b.norm().item())
    assert close(slerp(a, b, t), slerp(b, a, 1 - t), scale, tol=1e-8)


@settings(max_examples=150, deadline=None)
@given(vector_pairs(), T)
def test_constant_angular_speed(pair, t):
    a, b = pair
    theta = angle_between(a, b).item()
    assume(theta < math.pi - 1e-6)  # opposite vectors: any great circle, still checked below
    point = slerp(a, b, t)
    assert math.isclose(angle_between(a, point).item(), t * theta, abs_tol=1e-7)
    assert math.isclose(angle_between(point, b).item(), (1 - t) * theta, abs_tol=1e-7)


@settings(max_examples=100, deadline=None)
@given(vector_pairs(), T, st.floats(min_value=1e-12, max_value=1e-5))
def test_nearly_parallel_is_stable_and_close_to_lerp(pair, t, eps):
    a, _ = pair
    b = a + eps * a.norm() * torch.roll(a, 1) / torch.roll(a, 1).norm()
    b = b * (a.norm() / b.norm())
    out = slerp(a, b, t)
    assert torch.isfinite(out).all()
    # equal norms: slerp and lerp differ by O(angle^2) only
    assert close(out, lerp(a, b, t), a.norm().item(), tol=1e-9)
    # unequal norms: lerp's angular position is off by O(angle), slerp still finite and near it
    longer = b * 1.5
    assert close(slerp(a, longer, t), lerp(a, longer, t), a.norm().item(), tol=2e-5)
    assert torch.isfinite(slerp(a, a.clone(), t)).all()
    assert close(slerp(a, a * 3, t), lerp(a, a * 3, t), a.norm().item(), tol=1e-12)


@settings(max_examples=100, deadline=None)
@given(vector_pairs(), T, st.floats(min_value=0.0, max_value=1e-9))
def test_opposite_and_nearly_opposite_are_finite(pair, t, eps):
    a, _ = pair
    b = -a + eps * a.norm() * torch.roll(a, 1) / torch.roll(a, 1).norm()
    out = slerp(a, b, t)
    assert torch.isfinite(out).all()
    expected_norm = (1 - t) * a.norm().item() + t * b.norm().item()
    assert math.isclose(out.norm().item(), expected_norm, rel_tol=1e-8)
    # half-way round a half circle: orthogonal to both ends
    mid = slerp(a, -a, 0.5)
    assert abs(torch.dot(mid, a).item()) < 1e-9 * a.norm().item() ** 2
    assert close(slerp(a, -a, t), slerp(-a, a, 1 - t), a.norm().item(), tol=1e-8)


@settings(max_examples=100, deadline=None)
@given(vector_pairs(max_dim=16), st.lists(T, min_size=1, max_size=6))
def test_agrees_with_scipy_on_the_unit_sphere(pair, ts):
    a, b = pair
    a, b = a / a.norm(), b / b.norm()
    assume(angle_between(a, b).item() < math.pi - 1e-3)  # scipy refuses antipodes
    expected = geometric_slerp(a.numpy(), b.numpy(), np.asarray(ts))
    assert np.allclose(slerp(a, b, torch.tensor(ts, dtype=torch.float64)).numpy(), expected, rtol=0, atol=1e-9)


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=0, max_value=2**31 - 1), st.lists(T, min_size=1, max_size=5))
def test_batched_t_matches_one_call_per_t(seed, ts):
    generator = torch.Generator().manual_seed(seed)
    a, b = torch.randn(3, 7, 5, generator=generator), torch.randn(3, 7, 5, generator=generator)
    batch = slerp(a, b, torch.tensor(ts))
    assert batch.shape == (len(ts), 3, 7, 5)
    for i, t in enumerate(ts):
        # t passes through float32 in the batched call
        assert torch.allclose(batch[i], slerp(a, b, float(torch.tensor(t))), atol=1e-6)


def test_rows_are_interpolated_separately():
    a = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    b = torch.tensor([[0.0, 1.0], [2.0, 0.0]])
    mid = slerp(a, b, 0.5)
    half = math.sqrt(0.5)
    assert torch.allclose(mid, torch.tensor([[half, half], [2 * half, 2 * half]]))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_dtype_is_kept(dtype):
    a, b = torch.randn(4, 8).to(dtype), torch.randn(4, 8).to(dtype)
    assert slerp(a, b, 0.3).dtype == dtype
    assert lerp(a, b, 0.3).dtype == dtype
    assert torch.equal(slerp(a, b, 0.0), a)


def test_lerp_dips_and_slerp_does_not():
    a, b = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    assert math.isclose(lerp(a, b, 0.5).norm().item(), math.sqrt(0.5), rel_tol=1e-6)
    assert math.isclose(slerp(a, b, 0.5).norm().item(), 1.0, rel_tol=1e-6)


@pytest.mark.parametrize(
    ("a", "b", "t", "error", "match"),
    [
        (torch.zeros(3, 4) + 1, torch.ones(4, 3), 0.5, ValueError, "same shape"),
        (torch.ones(4), torch.ones(4, dtype=torch.float64), 0.5, TypeError, "same dtype"),
        (torch.ones(4, dtype=torch.int64), torch.ones(4, dtype=torch.int64), 0.5, TypeError, "floating-point"),
        ([1.0, 2.0], torch.ones(2), 0.5, TypeError, "tensors"),
        (torch.tensor(1.0), torch.tensor(2.0), 0.5, ValueError, "0-d"),
        (torch.ones(4), torch.ones(4), 1.5, ValueError, r"\[0, 1\]"),
        (torch.ones(4), torch.ones(4), float("nan"), ValueError, r"\[0, 1\]"),
        (torch.ones(4), torch.ones(4), torch.ones(2, 2) / 2, ValueError, "1-D"),
        (torch.ones(4), torch.ones(4), torch.tensor([]), ValueError, "empty"),
        (torch.ones(4), torch.ones(4), "0.5", TypeError, "float"),
        (torch.ones(4), torch.ones(4), True, TypeError, "bool"),
    ],
)
def test_bad_input_is_a_specific_error(a, b, t, error, match):
    for f in (slerp, lerp):
        with pytest.raises(error, match=match):
            f(a, b, t)


def test_slerp_refuses_what_has_no_direction():
    with pytest.raises(ValueError, match="zero vectors"):
        slerp(torch.zeros(2, 4).index_fill_(0, torch.tensor([0]), 1.0), torch.ones(2, 4), 0.5)
    with pytest.raises(ValueError, match="at least 2"):
        slerp(torch.ones(3, 1), torch.ones(3, 1), 0.5)
    with pytest.raises(ValueError, match="inf or nan"):
        slerp(torch.tensor([1.0, float("inf")]), torch.ones(2), 0.5)


# ------------------------------------------------------------------------------------------
# UnCLIP frame makers on the tiny pipelines
# ------------------------------------------------------------------------------------------


# as few denoising steps as each scheduler takes (UnCLIPScheduler divides by steps - 1, so 2):
# these tests check plumbing and noise sharing, not image quality
FAST = {
    "unclip": {"prior_num_inference_steps": 2, "decoder_num_inference_steps": 2, "super_res_num_inference_steps": 2},
    "unclip-image-variation": {"decoder_num_inference_steps": 2, "super_res_num_inference_steps": 2},
    "stable-unclip": {"num_inference_steps": 1},
}


@pytest.fixture(scope="module")
def ctx():
    import helpers

    return helpers.setup(profile="tiny")


@pytest.fixture(scope="module")
def load(ctx):
    from helpers import pipelines

    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = (pipelines.load(name, ctx), {**FAST[name], "output_type": "np"})
        return cache[name]

    return get


def picture(seed: int) -> Image.Image:
    return Image.fromarray((np.random.RandomState(seed).rand(40, 40, 3) * 255).astype("uint8"))


def test_prompt_path_masks_and_shapes(load):
    from helpers.interpolation import prompt_path

    pipe, _ = load("unclip")
    path = prompt_path(pipe, "a red cat", "a small blue dog on a hill", torch.tensor([0.0, 0.5, 1.0]))
    masks = path["text_attention_mask"]
    assert masks.dtype == torch.bool
    assert masks[0].sum() < masks[2].sum()  # the longer prompt has more real tokens
    assert torch.equal(masks[1], masks[0] | masks[2])
    # masks are prefixes, so the union is the longer prompt's mask: check both orders
    reverse = prompt_path(pipe, "a small blue dog on a hill", "a red cat", torch.tensor([0.0, 0.5, 1.0]))["text_attention_mask"]
    assert torch.equal(reverse, masks.flip(0)[[0, 1, 2]]) and torch.equal(reverse[1], reverse[0])
    width = pipe.text_encoder.config.projection_dim
    assert path["text_embeds"].shape == (3, width)
    assert path["last_hidden_state"].shape == (3, pipe.tokenizer.model_max_length, pipe.text_encoder.config.hidden_size)


def test_prompt_frames_start_and_end_at_the_plain_calls(ctx, load):
    pipe, kwargs = load("unclip")
    a, b = "a red cat", "a small blue dog on a hill"
    generator = ctx.generator()
    state = generator.get_state()
    frames = interpolate_prompts(pipe, a, b, 2, generator=generator, batch_size=1, **kwargs)
    assert torch.equal(generator.get_state(), state), "the caller's generator must not be advanced"
    assert len(frames) == 2 and frames.images.shape[0] == 2
    assert np.array_equal(frames.images[0], pipe(a, generator=ctx.generator(), **kwargs).images[0])
    assert np.array_equal(frames.images[1], pipe(b, generator=ctx.generator(), **kwargs).images[0])
    assert not np.array_equal(frames.images[1], frames.images[0])
    # all frames in one call: the same noise per frame, so the same frames up to the rounding of
    # batched kernels, which guidance amplifies (measured up to 1.3e-2; other noise differs by ~1)
    batched = interpolate_prompts(pipe, a, b, 2, generator=ctx.generator(), **kwargs)
    assert np.abs(batched.images - frames.images).max() < 0.05
    other_noise = interpolate_prompts(pipe, a, b, 2, generator=ctx.generator(ctx.seed + 1), batch_size=1, **kwargs)
    assert np.abs(other_noise.images - frames.images).max() > 0.5


@pytest.mark.parametrize(("name", "argument"), [("unclip-image-variation", "image_embeddings"), ("stable-unclip", "image_embeds")])
def test_image_frames_start_at_the_plain_call(ctx, load, name, argument):
    pipe, kwargs = load(name)
    if name == "stable-unclip":  # its prompt is repeated for every frame
        kwargs = {**kwargs, "prompt": "a photo", "negative_prompt": "blur"}
    a, b = picture(0), picture(1)
    frames = interpolate_images(pipe, a, b, 2, generator=ctx.generator(), batch_size=1, **kwargs)
    assert np.array_equal(frames.images[0], pipe(image=a, generator=ctx.generator(), **kwargs).images[0])
    assert not np.array_equal(frames.images[1], frames.images[0])
    assert set(frames.embeddings) == {argument}
    assert frames.embeddings[argument].shape == (2, pipe.image_encoder.config.projection_dim)


def test_pipeline_errors(ctx, load):
    unclip, _ = load("unclip")
    variation, _ = load("unclip-image-variation")
    stable, _ = load("stable-unclip")
    g = ctx.generator()
    with pytest.raises(TypeError, match="interpolate_images"):
        interpolate_prompts(variation, "a", "b", 3, generator=g)
    with pytest.raises(TypeError, match="interpolate_prompts"):
        interpolate_images(unclip, picture(0), picture(1), 3, generator=g)
    with pytest.raises(TypeError, match="UnCLIPPipeline"):
        interpolate_prompts(object(), "a", "b", 3, generator=g)
    with pytest.raises(ValueError, match=">= 2"):
        interpolate_prompts(unclip, "a", "b", 1, generator=g)
    with pytest.raises(TypeError, match="int"):
        interpolate_prompts(unclip, "a", "b", 2.0, generator=g)
    with pytest.raises(TypeError, match="one torch.Generator"):
        interpolate_prompts(unclip, "a", "b", 3, generator=[g, g, g])
    with pytest.raises(TypeError, match="prompt_b"):
        interpolate_prompts(unclip, "a", ["b"], 3, generator=g)
    with pytest.raises(ValueError, match="text_attention_mask"):
        interpolate_prompts(unclip, "a", "b", 3, generator=g, text_attention_mask=None)
    with pytest.raises(ValueError, match="batch_size"):
        interpolate_prompts(unclip, "a", "b", 3, generator=g, batch_size=0)
    with pytest.raises(TypeError, match="PIL image"):
        interpolate_images(variation, [picture(0)], picture(1), 3, generator=g)
    with pytest.raises(ValueError, match=r"\(1, 3, H, W\)"):
        interpolate_images(variation, torch.zeros(2, 3, 32, 32), torch.zeros(1, 3, 32, 32), 3, generator=g)
    with pytest.raises(ValueError, match="takes no prompt"):
        interpolate_images(variation, picture(0), picture(1), 3, generator=g, prompt="a")
    with pytest.raises(TypeError, match="one str"):
        interpolate_images(stable, picture(0), picture(1), 2, generator=g, prompt=["a", "b"])


def test_middle_frames_get_the_union_of_masks_that_are_not_prefixes(load, monkeypatch):
    # real CLIP masks are prefixes (right padding), where the union equals the longer mask; here
    # the two masks are not nested, so "union" and "longer" differ and the check can fail
    import helpers.interpolation as interpolation

    pipe, _ = load("unclip")
    width, hidden = pipe.text_encoder.config.projection_dim, pipe.text_encoder.config.hidden_size
    generator = torch.Generator().manual_seed(0)
    masks = {"a": torch.tensor([[True, True, False, False]]), "b": torch.tensor([[False, True, True, False]])}

    def fake_encode(pipe, prompt):
        return torch.randn(1, width, generator=generator), torch.randn(1, 4, hidden, generator=generator), masks[prompt]

    monkeypatch.setattr(interpolation, "encode_prompt", fake_encode)
    path = interpolation.prompt_path(pipe, "a", "b", torch.tensor([0.0, 0.5, 1.0]))["text_attention_mask"]
    assert torch.equal(path[0], masks["a"][0]) and torch.equal(path[2], masks["b"][0])
    assert path[1].tolist() == [True, True, True, False]  # the union, which neither end's mask is


@settings(max_examples=30, deadline=None)
@given(vector_pairs(), st.floats(min_value=0.01, max_value=0.99), st.floats(min_value=0.1, max_value=10.0))
def test_equals_textbook_slerp_for_equal_norms(pair, t, length):
    # Shoemake's sin((1-t)θ)/sin θ · a + sin(tθ)/sin θ · b, valid away from θ = 0 and π
    a, b = pair
    a = a / a.norm() * length
    b = b / b.norm() * length
    omega = angle_between(a, b)
    assume(0.05 < omega.item() < np.pi - 0.05)
    textbook = (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)
    assert close(slerp(a, b, t), textbook, scale=length, tol=1e-9)


def test_nearly_parallel_follows_b_not_the_orthogonal_fallback():
    # found by hypothesis: an angle of ~1e-8 is below the plane tolerance, and the fixed orthogonal
    # direction used for opposite vectors moved the midpoint 1.1e-9 off the chord
    a = torch.tensor([0.0, 1.0, 1.0], dtype=torch.float64)
    b = a + 1e-8 * a.norm() * torch.roll(a, 1) / torch.roll(a, 1).norm()
    b = b * (a.norm() / b.norm())
    assert close(slerp(a, b, 0.5), lerp(a, b, 0.5), a.norm().item(), tol=1e-12)


@pytest.mark.parametrize("name", ["unclip-image-variation", "stable-unclip"])
def test_image_frames_by_default_come_from_one_call_and_match_frame_by_frame(ctx, load, name, monkeypatch):
    # batch_size=None (the default) renders all n frames in one pipeline call; Stable unCLIP then
    # needs its prompt once per frame
    pipe, kwargs = load(name)
    if name == "stable-unclip":
        kwargs = {**kwargs, "prompt": "a photo", "negative_prompt": "blur"}
    a, b = picture(0), picture(1)
    one_by_one = interpolate_images(pipe, a, b, 3, generator=ctx.generator(), batch_size=1, **kwargs)
    calls = []
    plain_call = type(pipe).__call__

    def counted(self, *args, **call):
        calls.append(len(call["generator"]))
        return plain_call(self, *args, **call)

    monkeypatch.setattr(type(pipe), "__call__", counted)
    together = interpolate_images(pipe, a, b, 3, generator=ctx.generator(), **kwargs)
    assert calls == [3]
    assert together.images.shape == one_by_one.images.shape and together.images.shape[0] == 3
    # the same noise per frame: the same frames up to the rounding of batched kernels
    assert np.abs(together.images - one_by_one.images).max() < 0.05
    assert not np.allclose(together.images[0], together.images[2])
    calls.clear()
    interpolate_images(pipe, a, b, 3, generator=ctx.generator(), batch_size=2, **kwargs)
    assert calls == [2, 1]


@pytest.mark.parametrize(
    ("a", "b", "error", "message"),
    [
        ([1.0, 0.0], torch.ones(2), TypeError, r"^angle_between\(\) needs floating-point tensors of vectors, got a=\[1\.0, 0\.0\]$"),
        (torch.ones(2), torch.tensor([1, 0]), TypeError, r"^angle_between\(\) needs floating-point tensors of vectors, got b=tensor\(\[1, 0\]\)$"),
        (torch.tensor(1.0), torch.ones(2), TypeError, r"got a=tensor\(1\.\)$"),
        (torch.ones(2), torch.tensor([1.0, float("nan")]), ValueError, r"^angle_between\(\): b holds NaN or infinite values$"),
        (torch.zeros(2, 2).index_fill_(0, torch.tensor([0]), 1.0), torch.ones(2), ValueError, r"^angle_between\(\): a holds a zero vector"),
        (torch.ones(2, 5, 3), torch.ones(2), ValueError, r"^angle_between\(\): b must broadcast against a \(the same vector length 3, .*got shapes a \(2, 5, 3\) and b \(2,\)$"),
    ],
)
def test_angle_between_names_what_it_refuses(a, b, error, message):
    with pytest.raises(error, match=message):
        angle_between(a, b)


def test_angle_between_takes_a_batch_against_one_vector_in_float64():
    generator = torch.Generator().manual_seed(0)
    batch, one = torch.randn(3, 4, generator=generator), torch.randn(4, generator=generator)
    angles = angle_between(batch, one)
    assert angles.shape == (3,) and angles.dtype == torch.float64
    for row, angle in zip(batch, angles):
        cosine = (row.double() @ one.double()) / (row.double().norm() * one.double().norm())
        assert math.isclose(angle.item(), math.acos(cosine.item()), abs_tol=1e-6)
    assert angle_between(batch, batch).abs().max() < 1e-6  # rows against themselves
    # meta tensors (shapes only) are not inspected for values
    assert angle_between(torch.ones(2, 3, device="meta"), torch.ones(3, device="meta")).shape == (2,)


def test_lerp_and_slerp_name_themselves_and_compute_in_float64():
    with pytest.raises(TypeError, match=r"^lerp\(\) needs tensors, got a of type int$"):
        lerp(1, torch.ones(2), 0.5)
    with pytest.raises(ValueError, match=r"^lerp\(\): every t must lie in \[0, 1\], got \[2\.0\]$"):
        lerp(torch.ones(2), torch.ones(2), 2.0)
    with pytest.raises(ValueError, match=r"^lerp\(\): every t must lie in \[0, 1\], got \[0\.0, 2\.0\]$"):
        lerp(torch.ones(2), torch.ones(2), torch.tensor([0, 2]))  # an int tensor's t are read as floats
    generator = torch.Generator().manual_seed(0)
    a, b = torch.randn(1000, generator=generator), torch.randn(1000, generator=generator)
    # in float64, then rounded once to the inputs' float32 (float32 arithmetic rounds every step)
    assert torch.equal(lerp(a, b, 0.3), ((1 - 0.3) * a.double() + 0.3 * b.double()).float())


def test_the_frame_makers_name_the_pipeline_they_refuse(ctx, load):
    variation, _ = load("unclip-image-variation")
    g = ctx.generator()
    with pytest.raises(TypeError, match=r"^pipe: interpolate_prompts\(\) needs an UnCLIPPipeline .*, got object\.$"):
        interpolate_prompts(object(), "a", "b", 2, generator=g)
    with pytest.raises(TypeError, match=r"^pipe: interpolate_images\(\) needs an UnCLIPImageVariationPipeline or a StableUnCLIPImg2ImgPipeline .*, got object\.$"):
        interpolate_images(object(), picture(0), picture(1), 2, generator=g)
    with pytest.raises(TypeError, match=r"^prompt_b must be one prompt \(a str\), got list$"):
        interpolate_prompts(load("unclip")[0], "a", ["b"], 2, generator=g)
    with pytest.raises(TypeError, match=r"^image_b must be one PIL image or a \(1, 3, H, W\) pixel tensor, got list$"):
        interpolate_images(variation, picture(0), [picture(1)], 2, generator=g)


@pytest.mark.parametrize(
    ("shape", "refused"),
    [((2, 3, 32, 32), r"got \(2, 3, 32, 32\)"), ((1, 4, 32, 32), r"got \(1, 4, 32, 32\)"), ((3, 32, 32), r"got \(3, 32, 32\)"), ((1, 3, 3, 32, 32), "got")],
)
def test_an_image_tensor_is_one_preprocessed_image(ctx, load, shape, refused):
    variation, _ = load("unclip-image-variation")
    with pytest.raises(ValueError, match=rf"^image_a as a tensor must be one preprocessed image of shape \(1, 3, H, W\), {refused}"):
        interpolate_images(variation, torch.zeros(shape), picture(1), 2, generator=ctx.generator())


def test_an_image_tensor_with_nan_is_refused_and_a_good_one_is_encoded(ctx, load):
    from helpers.interpolation import encode_image

    variation, _ = load("unclip-image-variation")
    bad = torch.zeros(1, 3, 32, 32)
    bad[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match=r"^image_b holds NaN or infinite values"):
        interpolate_images(variation, torch.zeros(1, 3, 32, 32), bad, 2, generator=ctx.generator())
    size = variation.feature_extractor.crop_size["height"]
    embedding = encode_image(variation, torch.zeros(1, 3, size, size))
    assert embedding.shape == (1, variation.image_encoder.config.projection_dim)


# ------------------------------------------------------------------------------------------
# what mutation testing found unchecked (issue 30): each test names what a user would see go wrong
# ------------------------------------------------------------------------------------------


def identical_warnings(call) -> list:
    import warnings

    from helpers.interpolation import IdenticalEndsWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [w for w in caught if issubclass(w.category, IdenticalEndsWarning)]


def pixels(variation, value: float) -> torch.Tensor:
    size = variation.feature_extractor.crop_size["height"]
    return torch.full((1, 3, size, size), value)


def test_the_same_prompt_twice_warns_and_two_prompts_do_not(load):
    from helpers.interpolation import IdenticalEndsWarning, prompt_path

    pipe, _ = load("unclip")
    with pytest.warns(IdenticalEndsWarning, match=r"^prompt_a and prompt_b are the same"):
        prompt_path(pipe, "a cat", "a cat", [0.0, 1.0])
    assert identical_warnings(lambda: prompt_path(pipe, "a cat", "a dog", [0.0, 1.0])) == []


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (lambda v: picture(0), lambda v: picture(0), True),  # different objects, equal pixels
        (lambda v: picture(0), lambda v: picture(1), False),
        (lambda v: pixels(v, 0.5), lambda v: pixels(v, 0.5), True),  # different tensors, equal values
        (lambda v: pixels(v, 0.5), lambda v: pixels(v, 0.25), False),
        (lambda v: picture(0), lambda v: pixels(v, 0.5), False),  # one of each kind
        (lambda v: pixels(v, 0.5), lambda v: picture(0), False),
    ],
    ids=["equal-images", "different-images", "equal-tensors", "different-tensors", "image-tensor", "tensor-image"],
)
def test_the_same_image_twice_warns_and_two_images_do_not(load, a, b, same):
    from helpers.interpolation import image_path

    variation, _ = load("unclip-image-variation")
    caught = identical_warnings(lambda: image_path(variation, a(variation), b(variation), [0.0, 1.0]))
    assert len(caught) == int(same)
    if same:
        assert str(caught[0].message).startswith("image_a and image_b are the same")


def test_images_with_the_same_bytes_but_another_size_are_not_the_same(load):
    from helpers.interpolation import image_path

    variation, _ = load("unclip-image-variation")
    wide = Image.fromarray((np.random.RandomState(0).rand(30, 40, 3) * 255).astype("uint8"))
    tall = Image.frombytes("RGB", (30, 40), wide.tobytes())
    assert identical_warnings(lambda: image_path(variation, wide, tall, [0.0, 1.0])) == []


PROMPT_RESERVED = ["prompt", "text_model_output", "text_attention_mask", "num_images_per_prompt", "prior_latents", "decoder_latents", "super_res_latents"]
IMAGE_RESERVED = ["image", "image_embeds", "image_embeddings", "num_images_per_prompt", "latents", "decoder_latents", "super_res_latents", "prompt_embeds", "negative_prompt_embeds"]


@pytest.mark.parametrize("argument", PROMPT_RESERVED)
def test_every_argument_interpolate_prompts_sets_is_refused_by_name(ctx, load, argument):
    pipe, kwargs = load("unclip")
    with pytest.raises(ValueError, match=rf"^interpolate_prompts\(\) sets {argument} itself"):
        interpolate_prompts(pipe, "a cat", "a dog", 2, generator=ctx.generator(), **kwargs, **{argument: None})


@pytest.mark.parametrize("name", ["unclip-image-variation", "stable-unclip"])
@pytest.mark.parametrize("argument", IMAGE_RESERVED)
def test_every_argument_interpolate_images_sets_is_refused_by_name(ctx, load, name, argument):
    pipe, kwargs = load(name)
    with pytest.raises(ValueError, match=rf"^interpolate_images\(\) sets {argument} itself"):
        interpolate_images(pipe, picture(0), picture(1), 2, generator=ctx.generator(), **kwargs, **{argument: None})


@pytest.mark.parametrize(
    ("name", "mistake", "error", "message"),
    [
        # UnCLIPScheduler needs 2 steps; each step count is checked against its own scheduler
        ("unclip", {"prior_num_inference_steps": 1}, ValueError, r"^prior_num_inference_steps must be an int"),
        ("unclip", {"decoder_num_inference_steps": 1}, ValueError, r"^decoder_num_inference_steps must be an int"),
        ("unclip", {"super_res_num_inference_steps": 1}, ValueError, r"^super_res_num_inference_steps must be an int"),
        ("unclip-image-variation", {"decoder_num_inference_steps": 1}, ValueError, r"^decoder_num_inference_steps must be an int"),
        ("stable-unclip", {"num_inference_steps": 0}, ValueError, r"^num_inference_steps must be an int"),
        ("unclip", {"prior_guidance_scale": float("nan")}, ValueError, r"^prior_guidance_scale must be a finite number"),
        ("stable-unclip", {"guidance_scale": float("inf")}, ValueError, r"^guidance_scale must be a finite number"),
        ("unclip", {"output_type": "pt"}, ValueError, r"^output_type='pt' is not accepted"),
        ("unclip-image-variation", {"output_type": "pt"}, ValueError, r"^output_type='pt' is not accepted"),
        ("stable-unclip", {"output_type": "numpy"}, ValueError, r"^output_type='numpy' is not accepted"),
        ("stable-unclip", {"noise_level": -1}, ValueError, r"^noise_level must be an int"),
        ("stable-unclip", {"noise_level": 1000}, ValueError, r"^noise_level must be an int.*1000"),  # num_train_timesteps
        ("stable-unclip", {"noise_level": 500.0}, TypeError, r"^noise_level must be an int"),
        ("unclip", {"num_inference_steps": 2}, ValueError, r"^call_kwargs \(UnCLIPPipeline\) does not take 'num_inference_steps'"),
        ("unclip", {"self": 1}, ValueError, r"^call_kwargs \(UnCLIPPipeline\) does not take 'self'"),
        ("unclip-image-variation", {"num_inference_steps": 2}, ValueError, r"^call_kwargs \(UnCLIPImageVariationPipeline\) does not take"),
        ("stable-unclip", {"guidance": 2.0}, ValueError, r"^call_kwargs \(StableUnCLIPImg2ImgPipeline\) does not take 'guidance' \(did you mean 'guidance_scale'\?\)"),
    ],
)
def test_call_arguments_the_pipeline_cannot_run_are_refused_by_name(ctx, load, name, mistake, error, message):
    pipe, kwargs = load(name)
    kwargs = {key: value for key, value in kwargs.items() if key not in mistake}
    if name == "unclip":
        call = lambda: interpolate_prompts(pipe, "a cat", "a dog", 2, generator=ctx.generator(), **kwargs, **mistake)
    else:
        call = lambda: interpolate_images(pipe, picture(0), picture(1), 2, generator=ctx.generator(), **kwargs, **mistake)
    with pytest.raises(error, match=message):
        call()


def test_frames_of_prompts_come_as_pil_or_as_a_tuple_output(ctx, load):
    pipe, kwargs = load("unclip")
    kwargs = {**kwargs, "decoder_guidance_scale": 2.0}  # the smallest step counts (FAST) and a finite guidance pass
    frames = interpolate_prompts(pipe, "a cat", "a dog", 2, generator=ctx.generator(), batch_size=1, **{**kwargs, "output_type": "pil"})
    assert isinstance(frames.images, list) and len(frames.images) == 2 and all(isinstance(i, Image.Image) for i in frames.images)
    # t and the embeddings each frame was conditioned on come back with the frames
    assert frames.t.dtype == torch.float64 and torch.equal(frames.t, torch.tensor([0.0, 1.0], dtype=torch.float64))
    assert set(frames.embeddings) == {"text_embeds", "last_hidden_state", "text_attention_mask"}
    assert frames.embeddings["text_embeds"].shape[0] == 2
    # return_dict=False: the pipeline returns a tuple, whose first item is the images
    plain = interpolate_prompts(pipe, "a cat", "a dog", 2, generator=ctx.generator(), batch_size=1, **kwargs)
    as_tuple = interpolate_prompts(pipe, "a cat", "a dog", 2, generator=ctx.generator(), batch_size=1, return_dict=False, **kwargs)
    assert np.array_equal(as_tuple.images, plain.images)
    assert np.array_equal(np.stack([np.asarray(i) for i in frames.images]), (plain.images * 255).round().astype("uint8"))


def test_frames_of_karlo_variations_come_as_pil(ctx, load):
    pipe, kwargs = load("unclip-image-variation")
    frames = interpolate_images(pipe, picture(0), picture(1), 2, generator=ctx.generator(), batch_size=1, **{**kwargs, "output_type": "pil"})
    assert isinstance(frames.images, list) and len(frames.images) == 2 and all(isinstance(i, Image.Image) for i in frames.images)
    # torch.equal ignores dtype, so the dtype is checked on its own
    assert len(frames) == 2 and frames.t.dtype == torch.float64 and torch.equal(frames.t, torch.tensor([0.0, 1.0], dtype=torch.float64))


@pytest.mark.parametrize(
    ("output_type", "extra", "kind"),
    [
        ("pil", {"noise_level": 0}, list),
        ("pt", {"noise_level": 999, "return_dict": False}, torch.Tensor),  # num_train_timesteps - 1, the noisiest
        ("latent", {}, torch.Tensor),
        ("np", {"return_dict": False, "guidance_scale": 3.0}, np.ndarray),
    ],
)
def test_stable_unclip_frames_come_in_every_output_type_it_has(ctx, load, output_type, extra, kind):
    pipe, kwargs = load("stable-unclip")
    frames = interpolate_images(pipe, picture(0), picture(1), 2, generator=ctx.generator(), batch_size=1, **{**kwargs, "output_type": output_type, **extra})
    assert isinstance(frames.images, kind) and len(frames.images) == 2
    assert len(frames) == 2 and frames.t.dtype == torch.float64
    assert frames.embeddings["image_embeds"].shape[0] == 2
    if kind is torch.Tensor:
        assert not torch.equal(frames.images[0], frames.images[1])


def test_stable_unclip_without_a_prompt_is_the_plain_call_without_one(ctx, load):
    # the plain call's prompt defaults to "" and its negative prompt to none; the frames use the same
    pipe, kwargs = load("stable-unclip")
    plain = pipe(image=picture(0), generator=ctx.generator(), **kwargs).images[0]
    one_by_one = interpolate_images(pipe, picture(0), picture(1), 2, generator=ctx.generator(), batch_size=1, **kwargs)
    assert np.array_equal(one_by_one.images[0], plain)
    # all frames in one call: the batch size comes from the prompt, so "" is given once per frame
    together = interpolate_images(pipe, picture(0), picture(1), 2, generator=ctx.generator(), **kwargs)
    assert together.images.shape == one_by_one.images.shape
    assert np.abs(together.images - one_by_one.images).max() < 0.05


def test_prompts_of_stable_unclip_and_karlo_variations_are_refused_by_name(ctx, load):
    stable, _ = load("stable-unclip")
    variation, _ = load("unclip-image-variation")
    with pytest.raises(TypeError, match=r"^negative_prompt must be one str \(repeated for every frame\), got list$"):
        interpolate_images(stable, picture(0), picture(1), 2, generator=ctx.generator(), negative_prompt=["a"])
    with pytest.raises(ValueError, match=r"^call_kwargs: UnCLIPImageVariationPipeline takes no prompt"):
        interpolate_images(variation, picture(0), picture(1), 2, generator=ctx.generator(), negative_prompt="blur")


def test_refusals_name_the_function_and_the_argument(ctx, load):
    from helpers.interpolation import image_path, prompt_path

    unclip, _ = load("unclip")
    variation, _ = load("unclip-image-variation")
    g = ctx.generator()
    with pytest.raises(TypeError, match=r"^pipe: prompt_path\(\) needs an UnCLIPPipeline .*got UnCLIPImageVariationPipeline\. It takes images: use interpolate_images\(\) / image_path\(\)\.$"):
        prompt_path(variation, "a", "b", 0.5)
    with pytest.raises(TypeError, match=r"^pipe: image_path\(\) needs .*got UnCLIPPipeline\. It takes prompts: use interpolate_prompts\(\) / prompt_path\(\)\.$"):
        image_path(unclip, picture(0), picture(1), 0.5)
    for a, b, bad in ((["a"], "b", "prompt_a"), ("a", ["b"], "prompt_b")):
        with pytest.raises(TypeError, match=rf"^{bad} must be one prompt"):
            prompt_path(unclip, a, b, 0.5)
    for a, b, bad in (([picture(0)], picture(1), "image_a"), (picture(0), [picture(1)], "image_b")):
        with pytest.raises(TypeError, match=rf"^{bad} must be one PIL image"):
            image_path(variation, a, b, 0.5)
    with pytest.raises(ValueError, match=r"^prompt_path\(\): every t must lie in \[0, 1\]"):
        prompt_path(unclip, "a", "b", 2)
    with pytest.raises(ValueError, match=r"^image_path\(\): every t must lie in \[0, 1\]"):
        image_path(variation, picture(0), picture(1), [0.0, 2.0])
    # arguments are checked in order, so the first bad one is named even when later ones are bad too
    with pytest.raises(TypeError, match=r"^prompt_a must be one prompt"):
        interpolate_prompts(unclip, ["a"], "b", 1, generator=g)
    with pytest.raises(TypeError, match=r"^image_a must be one PIL image"):
        interpolate_images(variation, [picture(0)], picture(1), 1, generator=g)
    with pytest.raises(TypeError, match=r"^prompt_b must be one prompt"):
        interpolate_prompts(unclip, "a", ["b"], 1, generator=g)
    with pytest.raises(TypeError, match=r"^image_b must be one PIL image"):
        interpolate_images(variation, picture(0), [picture(1)], 1, generator=g)
    with pytest.raises(ValueError, match=r"^n \(the number of frames, both ends included\) must be an int"):
        interpolate_prompts(unclip, "a", "b", 1, generator=g)
    with pytest.raises(ValueError, match=r"^batch_size \(frames per call, or None for all in one call\) must be an int"):
        interpolate_images(variation, picture(0), picture(1), 2, generator=g, batch_size=0)
    with pytest.raises(TypeError, match=r"Got int$"):
        interpolate_prompts(unclip, "a", "b", 2, generator=0)


def test_joining_an_output_of_unknown_type_is_refused_by_type():
    from helpers.interpolation import _concat

    with pytest.raises(TypeError, match=r"of type dict$"):
        _concat([{"images": 1}, {"images": 2}])
    assert torch.equal(_concat([torch.zeros(1, 2), torch.ones(2, 2)]), torch.tensor([[0.0, 0.0], [1.0, 1.0], [1.0, 1.0]]))


U2 = torch.tensor([1.0, 0.0, 0.0])
V2 = torch.tensor([0.0, 1.0, 0.0])


@pytest.mark.parametrize(
    "t",
    [np.array(0.5), np.float32(0.5), np.float64(0.5), 0.5, torch.tensor(0.5, dtype=torch.float16), torch.tensor(0.5, dtype=torch.float64)],
    ids=["0-d-array", "np.float32", "np.float64", "float", "0-d-half-tensor", "0-d-double-tensor"],
)
def test_t_as_one_number_of_any_kind_gives_one_vector(t):
    assert torch.allclose(slerp(U2, V2, t), torch.tensor([math.sqrt(0.5), math.sqrt(0.5), 0.0]))
    assert torch.allclose(lerp(U2, V2, t), torch.tensor([0.5, 0.5, 0.0]))


@pytest.mark.parametrize(
    "t",
    [[0.0, 0.5, 1.0], (0, 0.5, 1), np.array([0.0, 0.5, 1.0]), torch.tensor([0.0, 0.5, 1.0]), torch.tensor([0, 0.5, 1], dtype=torch.bfloat16)],
    ids=["list", "tuple", "array", "tensor", "bf16-tensor"],
)
def test_t_as_a_sequence_of_any_kind_gives_one_vector_each(t):
    from collections import UserList

    expected = torch.stack([U2, torch.tensor([0.5, 0.5, 0.0]), V2])
    assert torch.allclose(lerp(U2, V2, t), expected)
    if isinstance(t, list):  # any Sequence, not only the built-in ones
        assert torch.allclose(lerp(U2, V2, UserList(t)), expected)
    # a sequence of one t is still a batch: one row per t
    assert slerp(U2, V2, t[:1]).shape == (1, 3)


@pytest.mark.parametrize(
    ("t", "error", "message"),
    [
        ("0.5", TypeError, r"^slerp\(\): t must be a float .*, got str$"),
        (b"0.5", TypeError, r"^slerp\(\): t must be a float .*, got bytes$"),
        (None, TypeError, r"^slerp\(\): t must be a float .*, got NoneType$"),
        ({0.5}, TypeError, r"^slerp\(\): t must be a float .*, got set$"),
        ([], ValueError, r"^slerp\(\): t must be a float .*, got an empty list: pass at least one t$"),
        (torch.tensor([]), ValueError, r"^slerp\(\): t must be a float .*, got an empty Tensor: pass at least one t$"),
        (torch.tensor([True, False]), TypeError, r"^slerp\(\): t must be .*\(real numbers\), got dtype torch\.bool$"),
        (torch.tensor([0.5 + 0.5j]), TypeError, r"^slerp\(\): t must be .*\(real numbers\), got dtype torch\.complex64$"),
        ([[0.0, 0.5], [0.5, 1.0]], ValueError, r"^slerp\(\): t must be a 1-d sequence of numbers, got shape \(2, 2\).*; accepted: one float"),
        (np.array([[0.0, 0.5]]), ValueError, r"^slerp\(\): t must be a 1-d sequence of numbers, got shape \(1, 2\)"),
        ([0.5, "1"], TypeError, r"^slerp\(\): t must be a 1-d sequence of numbers.*; accepted: one float"),
        (np.array(["0.5"]), TypeError, r"^slerp\(\): t must be a 1-d sequence of numbers, got str '0\.5' among them"),
    ],
    ids=["str", "bytes", "None", "set", "empty-list", "empty-tensor", "bool-tensor", "complex-tensor", "nested-list", "2-d-array", "str-in-list", "str-array"],
)
def test_t_of_another_kind_is_refused_naming_what_was_given(t, error, message):
    with pytest.raises(error, match=message):
        slerp(U2, V2, t)


def test_lerp_works_on_shapes_alone():
    # meta tensors (shapes only, as angle_between takes) with a batch of t
    a = torch.ones(2, 3, device="meta")
    out = lerp(a, a, [0.0, 0.5, 1.0])
    assert out.shape == (3, 2, 3) and out.device.type == "meta"


def test_opposite_rows_in_a_batch_each_keep_their_length():
    a = torch.tensor([[1.0, 2.0, 3.0], [0.0, 3.0, 4.0]], dtype=torch.float64)
    mid = slerp(a, -a, 0.5)
    assert torch.allclose(mid.norm(dim=-1), a.norm(dim=-1), rtol=1e-12)
    assert torch.allclose((mid * a).sum(dim=-1), torch.zeros(2, dtype=torch.float64), atol=1e-12)


def test_angle_between_float32_vectors_is_their_float64_angle():
    generator = torch.Generator().manual_seed(0)
    a, b = torch.randn(8, 16, generator=generator), torch.randn(8, 16, generator=generator)
    assert torch.allclose(angle_between(a, b), angle_between(a.double(), b.double()), rtol=0, atol=1e-14)
    # parallel vectors of different lengths: measured in float32, the two lengths round differently
    # and the angle comes out ~1e-8 instead of 0
    assert angle_between(torch.ones(3), torch.full((3,), 3.0)).item() < 1e-12
    assert angle_between(torch.full((3,), 3.0), torch.ones(3)).item() < 1e-12


def test_the_identical_ends_warning_points_at_the_callers_line_not_the_library(ctx, load, monkeypatch):
    # Python's default filter shows a warning once per line it points at: pointed at the library's
    # line, the frame makers' warning would be shown once per session, not once per mistake
    from helpers import interpolation

    monkeypatch.setattr(interpolation, "_render", lambda *args, **kwargs: None)
    unclip, _ = load("unclip")
    variation, _ = load("unclip-image-variation")
    calls = {
        "prompt_path": lambda: interpolation.prompt_path(unclip, "a cat", "a cat", 0.5),
        "interpolate_prompts": lambda: interpolation.interpolate_prompts(unclip, "a cat", "a cat", 2, generator=ctx.generator()),
        "image_path": lambda: interpolation.image_path(variation, picture(0), picture(0), 0.5),
        "interpolate_images": lambda: interpolation.interpolate_images(variation, picture(0), picture(0), 2, generator=ctx.generator()),
    }
    for name, call in calls.items():
        (caught,) = identical_warnings(call)
        # nor past the caller, into pytest (mutmut's run puts its own wrappers in between, so the
        # test cannot ask for this very file)
        assert caught.filename != interpolation.__file__, name
        assert not caught.filename.endswith("warnings.py") and "_pytest" not in caught.filename, name


@pytest.mark.parametrize(
    ("a", "b", "error", "message"),
    [
        (torch.ones(2), [1.0, 0.0], TypeError, r"\(\) needs tensors, got b of type list$"),
        (torch.tensor([1, 0]), torch.ones(2), TypeError, r"\(\) needs floating-point tensors, got a of dtype torch\.int64$"),
        (torch.ones(2), torch.tensor([1, 0]), TypeError, r"\(\) needs floating-point tensors, got b of dtype torch\.int64$"),
        (torch.ones(2), torch.tensor(1.0), ValueError, r"\(\) interpolates vectors along the last dimension; b is a 0-d tensor$"),
        (torch.tensor([1.0, float("nan")]), torch.ones(2), ValueError, r"\(\): a holds inf or nan values"),
        (torch.ones(2), torch.tensor([float("inf"), 1.0]), ValueError, r"\(\): b holds inf or nan values"),
        (torch.ones(2), torch.ones(2, device="meta"), ValueError, r"\(\) needs a and b on the same device, got cpu and meta$"),
    ],
)
def test_slerp_and_lerp_name_the_function_and_the_bad_argument(a, b, error, message):
    for f, name in ((slerp, "slerp"), (lerp, "lerp")):
        with pytest.raises(error, match=f"^{name}" + message):
            f(a, b, 0.5)


def test_slerp_counts_the_zero_vectors_and_names_an_overflowing_length():
    a = torch.ones(3, 4)
    b = torch.zeros(3, 4).index_fill_(0, torch.tensor([1]), 1.0)  # rows 0 and 2 have no direction
    with pytest.raises(ValueError, match=r"^slerp\(\) is undefined for zero vectors: 2 vector\(s\) of b have norm 0"):
        slerp(a, b, 0.5)
    with pytest.raises(ValueError, match=r"^slerp\(\) is undefined for zero vectors: 2 vector\(s\) of a have norm 0"):
        slerp(b, a, 0.5)
    # finite values whose length overflows float64: not "inf or nan", which they do not hold
    huge = torch.tensor([1e300, 1e300], dtype=torch.float64)
    with pytest.raises(ValueError, match=r"^slerp\(\): a vector of a is too long to measure in torch\.float64"):
        slerp(huge, torch.ones(2, dtype=torch.float64), 0.5)
    with pytest.raises(ValueError, match=r"^slerp\(\): a vector of b is too long to measure"):
        slerp(torch.ones(2, dtype=torch.float64), huge, 0.5)


def test_a_batch_of_rows_is_slerped_row_by_row():
    generator = torch.Generator().manual_seed(0)
    a, b = torch.randn(4, 6, dtype=torch.float64, generator=generator), torch.randn(4, 6, dtype=torch.float64, generator=generator)
    b[1] = -a[1] * 2  # opposite
    b[2] = a[2] + 1e-8 * a[2].norm() * torch.roll(a[2], 1) / torch.roll(a[2], 1).norm()  # nearly parallel
    b[3] = -a[3]  # opposite again: more opposite rows than parallel ones
    for t in (0.3, torch.tensor([0.25, 0.5])):
        batch = slerp(a, b, t)
        rows = torch.stack([slerp(a[i], b[i], t) for i in range(4)], dim=-2)
        assert torch.allclose(batch, rows, rtol=0, atol=1e-13)


def test_float32_vectors_are_slerped_in_float64_and_rounded_once():
    generator = torch.Generator().manual_seed(0)
    a, b = torch.randn(1000, generator=generator), torch.randn(1000, generator=generator)
    assert torch.equal(slerp(a, b, 0.3), slerp(a.double(), b.double(), 0.3).float())


def test_mps_tensors_are_computed_in_float32_which_it_has():
    from helpers.interpolation import _work_dtype

    # MPS has no float64; no Mac runs these tests, so the device is only named
    assert _work_dtype(torch.device("mps")) == torch.float32
    assert _work_dtype(torch.device("cpu")) == torch.float64
