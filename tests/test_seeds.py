"""helpers.seeds: Philox against published vectors, A1111's seeding rules, batch generators."""

import numpy as np
import pytest
import torch
from diffusers.utils.torch_utils import randn_tensor

from helpers import seeds
import torchsde._brownian.brownian_interval as brownian_interval
from diffusers.schedulers.scheduling_dpmsolver_sde import BrownianTreeNoiseSampler
from helpers.seeds import brownian_tree_draws

# Random123's known-answer vectors for Philox4x32-10 (tests/kat_vectors): counter, key, output
KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0), (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]
# A1111's modules/rng_philox.py docstring: Generator(seed=0).randn((3, 4)), CUDA's torch.randn
A1111_NV_SEED0 = [
    [-0.92466259, -0.42534415, -2.6438457, 0.14518388],
    [-0.12086647, -0.57972564, -0.62285122, -0.32838709],
    [-1.07454231, -0.36314407, -1.67105067, 2.26550497],
]


@pytest.mark.parametrize("counter,key,expected", KAT)
def test_philox_known_answers(counter, key, expected):
    assert tuple(int(w) for w in seeds.philox4x32_10(counter, key)[:, 0]) == expected


def test_philox_vectorised_equals_one_by_one():
    counters = np.array([[c[i] for c, _, _ in KAT] for i in range(4)])
    keys = np.array([[k[i] for _, k, _ in KAT] for i in range(2)])
    out = seeds.philox4x32_10(counters, keys)
    assert [tuple(int(w) for w in out[:, j]) for j in range(3)] == [e for _, _, e in KAT]


def test_philox_refuses_words_beyond_32_bits():
    with pytest.raises(ValueError, match="32-bit"):
        seeds.philox4x32_10((2**32, 0, 0, 0), (0, 0))
    with pytest.raises(ValueError, match="4 rows"):
        seeds.philox4x32_10((0, 0, 0), (0, 0))


def test_nv_matches_a1111_published_output():
    got = seeds.PhiloxGenerator(0).randn((3, 4))
    assert got.dtype == torch.float32 and got.shape == (3, 4)
    assert torch.allclose(got, torch.tensor(A1111_NV_SEED0), rtol=0, atol=1e-6)


def test_nv_is_deterministic_and_advances_per_draw():
    a, b = seeds.PhiloxGenerator(7), seeds.PhiloxGenerator(7)
    first_a, first_b = a.randn((4, 8, 8)), b.randn((4, 8, 8))
    assert torch.equal(first_a, first_b)
    second = a.randn((4, 8, 8))
    assert a.offset == 2 and not torch.equal(first_a, second)
    # element i depends on i only, not on the shape or how many are drawn
    assert torch.equal(seeds.PhiloxGenerator(7).randn((256,))[:10], seeds.PhiloxGenerator(7).randn((10,)))
    assert not torch.equal(seeds.PhiloxGenerator(8).randn((10,)), seeds.PhiloxGenerator(7).randn((10,)))


def test_nv_seed_high_word_is_used():
    low = seeds.PhiloxGenerator(5).randn((16,))
    high = seeds.PhiloxGenerator(5 + 2**32).randn((16,))
    assert not torch.equal(low, high)


def test_nv_is_standard_normal():
    x = seeds.PhiloxGenerator(123).randn((200_000,)).double()
    assert abs(float(x.mean())) < 0.01  # standard error 0.0022
    assert abs(float(x.var()) - 1) < 0.015  # standard error 0.0032
    assert abs(float((x.abs() < 1).double().mean()) - 0.6827) < 0.005
    later = seeds.PhiloxGenerator(123)
    later.randn((1,))
    y = later.randn((200_000,)).double()
    assert abs(float(torch.corrcoef(torch.stack([x, y]))[0, 1])) < 0.01  # next offset: independent


def test_cpu_source_is_torch_randn_with_a_cpu_generator():
    expected = torch.randn((4, 8, 8), generator=torch.Generator().manual_seed(42))
    assert torch.equal(seeds.a1111_latents(42, (4, 8, 8)), expected)
    assert not torch.equal(seeds.a1111_latents(42, (4, 8, 8), source="nv"), expected)


def test_a1111_seeds_count_up_unless_variation():
    assert seeds.a1111_seeds(10, 3) == ([10, 11, 12], [0, 1, 2])
    assert seeds.a1111_seeds(10, 3, subseed=5, subseed_strength=0.3) == ([10, 10, 10], [5, 6, 7])


def test_batch_generators_reproduce_a1111_batch():
    shape = (4, 4, 8, 8)
    batch = randn_tensor(shape, generator=seeds.batch_generators(3, 4, "a1111"))
    rng = seeds.A1111Noise([3, 4, 5, 6], shape[1:])
    assert torch.equal(batch, rng.next())
    same = seeds.batch_generators(3, 4, "diffusers")
    assert all(torch.equal(g.get_state(), same[0].get_state()) for g in same)


def test_a1111_noise_later_draws_continue_each_image_generator():
    rng = seeds.A1111Noise([1, 2], (4, 2, 2))
    first, second = rng.next(), rng.next()
    g = torch.Generator().manual_seed(2)
    assert torch.equal(first[1], torch.randn((4, 2, 2), generator=g))
    assert torch.equal(second[1], torch.randn((4, 2, 2), generator=g))


def test_variation_strength_ends():
    base = seeds.a1111_latents(1, (4, 8, 8))
    other = seeds.a1111_latents(2, (4, 8, 8))
    assert torch.equal(seeds.a1111_latents(1, (4, 8, 8), subseed=2, subseed_strength=0.0), base)
    assert torch.allclose(seeds.a1111_latents(1, (4, 8, 8), subseed=2, subseed_strength=1.0), other, atol=1e-5)
    mid = seeds.a1111_latents(1, (4, 8, 8), subseed=2, subseed_strength=0.5)
    # slerp keeps each (channel, column) vector's length between the two ends
    norms = [t.norm(dim=1) for t in (base, other, mid)]
    assert bool((norms[2] <= torch.maximum(norms[0], norms[1]) + 1e-5).all())
    assert not torch.allclose(mid, base) and not torch.allclose(mid, other)


def test_seed_resize_keeps_the_centre():
    old = seeds.a1111_latents(9, (4, 8, 8))
    bigger = seeds.a1111_latents(9, (4, 12, 16), seed_resize_from=(64, 64))
    assert torch.equal(bigger[:, 2:10, 4:12], old)
    fresh = torch.randn((4, 12, 16), generator=torch.Generator().manual_seed(9))
    assert torch.equal(bigger[:, :2], fresh[:, :2])
    smaller = seeds.a1111_latents(9, (4, 4, 6), seed_resize_from=(64, 64))
    assert torch.equal(smaller, old[:, 2:6, 1:7])


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        (dict(seed=-1, shape=(4, 8, 8)), ValueError, r"seed must be a non-negative int, at most 2\^64 - 1, got -1"),
        (dict(seed=1.5, shape=(4, 8, 8)), TypeError, "seed must be a non-negative int"),
        (dict(seed=True, shape=(4, 8, 8)), TypeError, "seed must be a non-negative int"),
        (dict(seed=1, shape=(4, 0, 8)), ValueError, "positive ints"),
        (dict(seed=1, shape=(1, 4, 8, 8)), ValueError, r"\(C, H, W\)"),
        (dict(seed=1, shape="4x8x8"), TypeError, "tuple of positive ints"),
        (dict(seed=1, shape=(4, 8, 8), source="cuda"), ValueError, "source must be one of"),
        (dict(seed=1, shape=(4, 8, 8), subseed_strength=1.5), ValueError, r"\[0, 1\]"),
        (dict(seed=1, shape=(4, 8, 8), subseed_strength="0.5"), TypeError, "subseed_strength"),
        (dict(seed=1, shape=(4, 8, 8), subseed=-3, subseed_strength=0.5), ValueError, r"subseed must be a non-negative int, at most 2\^64 - 1, got -3"),
        (dict(seed=1, shape=(4, 8, 8), seed_resize_from=(4, 64)), ValueError, "seed_resize_from"),
        (dict(seed=1, shape=(4, 8, 8), device="cuda"), ValueError, "only for source 'gpu'"),
    ],
)
def test_a1111_latents_refuses_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        seeds.a1111_latents(**kwargs)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a machine without CUDA")
def test_gpu_source_without_cuda_says_so():
    with pytest.raises(RuntimeError, match="'nv' computes CUDA's numbers"):
        seeds.a1111_latents(1, (4, 8, 8), source="gpu")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_nv_equals_cuda_randn():
    for seed in (0, 1, 12345):
        cuda = seeds.a1111_latents(seed, (4, 64, 64), source="gpu")
        assert torch.allclose(seeds.a1111_latents(seed, (4, 64, 64), source="nv"), cuda, atol=1e-5)


@pytest.mark.parametrize(
    "args,error,match",
    [
        ((1, 0), ValueError, "n must be an int >= 1"),
        ((1, 2, "comfy"), ValueError, "scheme=.comfy. is not accepted"),
        ((-1, 2), ValueError, r"seed must be a non-negative int, at most 2\^64 - 1, got -1"),
        (("1", 2), TypeError, "seed must be a non-negative int"),
        ((2**64 - 1, 2, "a1111"), ValueError, "exceeds the largest seed"),
    ],
)
def test_batch_generators_refuses_bad_input(args, error, match):
    with pytest.raises(error, match=match):
        seeds.batch_generators(*args)


def test_a1111_noise_refuses_bad_input():
    with pytest.raises(TypeError, match="seeds must be a non-empty list"):
        seeds.A1111Noise(3, (4, 8, 8))
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        seeds.A1111Noise([3], (8, 8))


def test_recorded_draws_sees_euler_ancestral_noise():
    import diffusers.schedulers.scheduling_euler_ancestral_discrete as module
    from diffusers import EulerAncestralDiscreteScheduler

    scheduler = EulerAncestralDiscreteScheduler()
    scheduler.set_timesteps(3)
    generator = torch.Generator().manual_seed(0)
    x = torch.zeros(1, 4)
    with seeds.recorded_draws(module) as draws:
        for t in scheduler.timesteps:
            x = scheduler.step(torch.zeros(1, 4), t, x, generator=generator).prev_sample
    assert len(draws) == 3
    again = torch.Generator().manual_seed(0)
    assert all(torch.equal(d, torch.randn(1, 4, generator=again)) for d in draws)
    assert module.randn_tensor is randn_tensor
    with pytest.raises(TypeError, match="randn_tensor"):
        with seeds.recorded_draws(np):
            pass


def test_a1111_noise_eta_noise_seed_delta_reseeds_after_the_initial_noise():
    # A1111's ImageRNG.first (modules/rng.py): initial noise from seed, then generators seed + ENSD
    shape, ensd = (4, 2, 2), 31337
    plain = seeds.A1111Noise([5, 6], shape)
    delta = seeds.A1111Noise([5, 6], shape, eta_noise_seed_delta=ensd)
    assert torch.equal(plain.next(), delta.next())  # the initial noise does not move
    second = delta.next()
    for i, s in enumerate([5, 6]):
        generator = torch.Generator().manual_seed(s + ensd)
        assert torch.equal(second[i], torch.randn(shape, generator=generator))
    assert not torch.equal(second, plain.next())
    nv = seeds.A1111Noise([5], shape, source="nv", eta_noise_seed_delta=ensd)
    nv.next()
    assert torch.equal(nv.next()[0], seeds.PhiloxGenerator(5 + ensd).randn(shape))


def test_a1111_noise_refuses_bad_eta_noise_seed_delta():
    with pytest.raises(TypeError, match="eta_noise_seed_delta must be an int"):
        seeds.A1111Noise([3], (4, 2, 2), eta_noise_seed_delta=1.5)
    with pytest.raises(TypeError, match="eta_noise_seed_delta must be an int"):
        seeds.A1111Noise([3], (4, 2, 2), eta_noise_seed_delta=True)
    with pytest.raises(ValueError, match="outside"):
        seeds.A1111Noise([3], (4, 2, 2), eta_noise_seed_delta=-4)


def test_a_missing_subseed_is_subseed_0_as_in_a1111():
    # A1111 replaces a missing variation seed by 0 (not by seed + 1, nor by the seed itself)
    assert seeds.a1111_seeds(7, 3, subseed_strength=0.5) == ([7, 7, 7], [0, 1, 2])
    assert seeds.a1111_seeds(7, 2) == ([7, 8], [0, 1])
    shape = (4, 8, 8)
    missing = seeds.a1111_latents(7, shape, subseed_strength=0.3)
    assert torch.equal(missing, seeds.a1111_latents(7, shape, subseed=0, subseed_strength=0.3))
    assert not torch.equal(missing, seeds.a1111_latents(7, shape, subseed=8, subseed_strength=0.3))
    # a batch with fewer subseeds than seeds: the images without one get 0
    batch = seeds.A1111Noise([7, 9], shape, subseeds=[5], subseed_strength=0.3).next()
    assert torch.equal(batch[0], seeds.a1111_latents(7, shape, subseed=5, subseed_strength=0.3))
    assert torch.equal(batch[1], seeds.a1111_latents(9, shape, subseed=0, subseed_strength=0.3))


# --- mutation testing (tools/mutation.py): behaviour the tests above left open ------------------

MAX = seeds.MAX_SEED


def test_box_muller_uses_mid_point_uniforms():
    # u = (x + 1/2) 2^-32 and v = (y + 1/2) 2^-32 2 pi: word 0 is not u = 0 (log 0), and the
    # half-step offset shows at the smallest words, where it is a large share of u and v
    # (v near pi or 2 pi, where sin v is near 0, would compare float32 rounding of the constants)
    words = np.array([0, 1, 5, 2**30, 3 * 2**29], dtype=np.uint64)
    for x, y in [(words, words[::-1]), (words[::-1], words), (words, words)]:
        u = (x.astype(np.float64) + 0.5) * 2.0**-32
        v = (y.astype(np.float64) + 0.5) * 2.0**-32 * 2 * np.pi
        expected = np.sqrt(-2 * np.log(u)) * np.sin(v)
        got = seeds.box_muller(x, y)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=0)


def test_box_muller_and_philox_refusals_name_the_argument():
    with pytest.raises(ValueError, match=r"x words must be 32-bit"):
        seeds.box_muller([2**32], [0])
    with pytest.raises(ValueError, match=r"y words must be 32-bit"):
        seeds.box_muller([0], [2**32])
    with pytest.raises(ValueError, match=r"x and y must have the same shape"):
        seeds.box_muller([0, 1], [0])
    with pytest.raises(ValueError, match=r"counter words must be 32-bit"):
        seeds.philox4x32_10((2**32, 0, 0, 0), (0, 0))
    with pytest.raises(ValueError, match=r"key words must be 32-bit"):
        seeds.philox4x32_10((0, 0, 0, 0), (0, 2**32))
    with pytest.raises(TypeError, match=r"counter must hold 32-bit unsigned integers, got dtype float64"):
        seeds.philox4x32_10((0.5, 0, 0, 0), (0, 0))
    with pytest.raises(TypeError, match=r"key must hold 32-bit unsigned integers"):
        seeds.philox4x32_10((0, 0, 0, 0), (0.0, 1.0))


def test_philox_refuses_mismatched_or_higher_dimensional_batches():
    counters = np.zeros((4, 3), dtype=np.uint64)
    with pytest.raises(ValueError, match=r"counter must be \(4, n\) and key"):
        seeds.philox4x32_10(counters, np.zeros((2, 2), dtype=np.uint64))  # 2 keys for 3 counters
    with pytest.raises(ValueError, match=r"counter must be \(4, n\) and key"):
        seeds.philox4x32_10(np.zeros((4, 2, 2), dtype=np.uint64), (0, 0))
    # one key for all, or one key per counter
    one = seeds.philox4x32_10(counters, (1, 2))
    each = seeds.philox4x32_10(counters, np.array([[1, 1, 1], [2, 2, 2]]))
    assert one.shape == (4, 3) and np.array_equal(one, each)


def test_philox_on_an_empty_batch_gives_an_empty_batch():
    # an empty list has numpy's default float dtype, yet holds no non-integer word
    assert seeds.philox4x32_10(np.zeros((4, 0)), (0, 0)).shape == (4, 0)
    assert seeds.box_muller([], []).shape == (0,)


def test_nv_later_draws_use_the_offset_as_counter_word_0():
    # element i of draw k: counter (k, 0, i, 0), key (seed's low word, seed's high word)
    seed, n = 2**32 + 7, 6
    generator = seeds.PhiloxGenerator(seed)
    draws = [generator.randn((n,)) for _ in range(3)]
    for k, drawn in enumerate(draws):
        counter = np.array([[k] * n, [0] * n, list(range(n)), [0] * n])
        words = seeds.philox4x32_10(counter, (7, 1))
        assert torch.equal(drawn, torch.from_numpy(seeds.box_muller(words[0], words[1])))


def test_nv_refuses_a_draw_of_more_than_2_32_elements_before_allocating():
    with pytest.raises(ValueError, match=r"at most 2\^32 elements, got 4294967297"):
        seeds.PhiloxGenerator(0).randn((2**32 + 1,))


def test_a1111_latents_nv_source_with_variation_and_resize():
    shape = (4, 6, 8)
    mixed = seeds.a1111_latents(1, shape, "nv", subseed=2, subseed_strength=0.4)
    expected = seeds.a1111_slerp(0.4, seeds.PhiloxGenerator(1).randn(shape), seeds.PhiloxGenerator(2).randn(shape))
    assert torch.equal(mixed, expected)
    resized = seeds.a1111_latents(9, (4, 12, 16), "nv", seed_resize_from=(64, 64))
    fresh = seeds.PhiloxGenerator(9).randn((4, 12, 16))
    assert torch.equal(resized[:, :2], fresh[:, :2]) and torch.equal(resized[:, 2:10, 4:12], seeds.PhiloxGenerator(9).randn((4, 8, 8)))


@pytest.mark.parametrize(
    "shape,old,new",
    [
        # (C, H, W) asked for; the slice of the old (4, 8, 12) noise (from 64 x 96 px) that lands where
        ((4, 12, 14), (slice(None), slice(None)), (slice(2, 10), slice(1, 13))),  # larger both ways
        ((4, 4, 10), (slice(2, 6), slice(1, 11)), (slice(None), slice(None))),  # smaller both ways
        ((4, 12, 8), (slice(None), slice(2, 10)), (slice(2, 10), slice(None))),  # taller, narrower
        ((4, 6, 16), (slice(1, 7), slice(None)), (slice(None), slice(2, 14))),  # shorter, wider
    ],
)
def test_seed_resize_centres_a_non_square_old_size(shape, old, new):
    before = seeds.a1111_latents(9, (4, 8, 12))
    after = seeds.a1111_latents(9, shape, seed_resize_from=(64, 96))
    assert torch.equal(after[:, new[0], new[1]], before[:, old[0], old[1]])
    # the rest is the seed's fresh draw at the new shape
    fresh = torch.randn(shape, generator=torch.Generator().manual_seed(9))
    outside = torch.ones(shape[1:], dtype=torch.bool)
    outside[new[0], new[1]] = False
    assert torch.equal(after[:, outside], fresh[:, outside])


def test_seed_resize_from_8_pixels_is_accepted():
    assert seeds.a1111_latents(3, (4, 2, 8), seed_resize_from=(8, 64)).shape == (4, 2, 8)
    assert seeds.A1111Noise([3], (4, 2, 8), seed_resize_from=(8, 64)).next().shape == (1, 4, 2, 8)


@pytest.mark.parametrize("bad", [(0, 64), (4, 64), (64, 64, 64), (64,)])
def test_seed_resize_from_refusals_name_it(bad):
    with pytest.raises(ValueError, match=r"^seed_resize_from must be"):
        seeds.a1111_latents(1, (4, 8, 8), seed_resize_from=bad)
    with pytest.raises(ValueError, match=r"^seed_resize_from must be"):
        seeds.A1111Noise([1], (4, 8, 8), seed_resize_from=bad)


def test_shape_refuses_floats_and_bools_and_names_the_type():
    for bad in [(4, 8.0, 8), (4, True, 8)]:
        with pytest.raises(ValueError, match=r"^shape must be a non-empty tuple of positive ints"):
            seeds.a1111_latents(1, bad)
    with pytest.raises(TypeError, match=r"^shape must be a tuple of positive ints, got str"):
        seeds.a1111_latents(1, "4x8x8")


def test_gpu_source_checks_its_device_before_cuda():
    with pytest.raises(TypeError, match=r"^device must be a device string .*got int 3"):
        seeds.a1111_latents(1, (4, 8, 8), source="gpu", device=3)
    with pytest.raises(ValueError, match=r"^device='nonsense' is not a torch device"):
        seeds.a1111_latents(1, (4, 8, 8), source="gpu", device="nonsense")
    with pytest.raises(ValueError, match=r"source 'gpu' draws on a CUDA device, got device='cpu'"):
        seeds.a1111_latents(1, (4, 8, 8), source="gpu", device="cpu")
    with pytest.raises(ValueError, match=r"source 'gpu' draws on a CUDA device"):
        seeds.A1111Noise([1], (4, 8, 8), source="gpu", device=torch.device("cpu"))


def test_unknown_source_lists_the_sources_and_suggests_one():
    with pytest.raises(ValueError, match=r"one of 'cpu', 'gpu', 'nv' .*got 'CPU' \(did you mean 'cpu'\?\)"):
        seeds.a1111_latents(1, (4, 8, 8), source="CPU")
    with pytest.raises(ValueError, match=r"got 'NV' \(did you mean 'nv'\?\)"):
        seeds.A1111Noise([1], (4, 8, 8), source="NV")
    with pytest.raises(ValueError, match=r"got 'mps'$"):
        seeds.a1111_latents(1, (4, 8, 8), source="mps")


def test_a1111_seeds_refusals_name_the_argument():
    with pytest.raises(ValueError, match=r"^n must be"):
        seeds.a1111_seeds(1, 0)
    with pytest.raises(ValueError, match=r"^subseed must be a non-negative int"):
        seeds.a1111_seeds(1, 2, subseed=-1)
    with pytest.raises(ValueError, match=r"^subseed_strength must be a number in \[0, 1\], got 1.5"):
        seeds.a1111_seeds(1, 2, subseed_strength=1.5)
    with pytest.raises(ValueError, match=r"^seed must be"):
        seeds.a1111_seeds(MAX + 1, 1)
    assert seeds.a1111_seeds(MAX, 1) == ([MAX], [0])


def test_slerp_ends_and_a_known_angle():
    low = torch.tensor([[1.0, 0.0], [0.0, 1.0]])  # two vectors along dim 1 (the rows): e0 and e1
    high = torch.tensor([[0.0, 1.0], [1.0, 0.0]])  # e1 and e0: a right angle in both
    assert torch.allclose(seeds.a1111_slerp(0.0, low, high), low, atol=1e-6)
    assert torch.allclose(seeds.a1111_slerp(1.0, low, high), high, atol=1e-6)
    half = 2**-0.5
    assert torch.allclose(seeds.a1111_slerp(0.5, low, high), torch.full((2, 2), half), atol=1e-6)
    third = seeds.a1111_slerp(1 / 3, low, high)  # 30 degrees from low
    assert torch.allclose(third, torch.tensor([[3**0.5 / 2, 0.5], [0.5, 3**0.5 / 2]]), atol=1e-6)
    # 60 degrees apart (sin omega is not 1): the ends still come back, a third of the way is 20 degrees
    low, high = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.5, 3**0.5 / 2]])  # one vector along dim 1
    assert torch.allclose(seeds.a1111_slerp(0.0, low, high), low, atol=1e-6)
    angle = torch.tensor(torch.pi / 9)
    expected = torch.stack([torch.cos(angle), torch.sin(angle)]).reshape(1, 2)
    assert torch.allclose(seeds.a1111_slerp(1 / 3, low, high), expected, atol=1e-6)


def test_slerp_of_parallel_inputs_is_a1111s_linear_mix():
    # A1111 weights `val` on low and 1 - val on high in this branch (the reverse of slerp's ends)
    low = torch.randn((4, 8, 8), generator=torch.Generator().manual_seed(0))
    mixed = seeds.a1111_slerp(0.25, low, 1.5 * low)
    assert torch.allclose(mixed, 0.25 * low + 0.75 * 1.5 * low, atol=1e-6)
    assert torch.isfinite(mixed).all()


def test_slerp_accepts_2d_and_refuses_bad_input_by_name():
    low, high = torch.randn((4, 8), generator=torch.Generator().manual_seed(1)), torch.randn((4, 8), generator=torch.Generator().manual_seed(2))
    assert seeds.a1111_slerp(0.5, low, high).shape == (4, 8)
    with pytest.raises(ValueError, match=r"^val must be a number in \[0, 1\]"):
        seeds.a1111_slerp(1.5, low, high)
    with pytest.raises(ValueError, match=r"^val must be a number in \[0, 1\]"):
        seeds.a1111_slerp(-0.5, low, high)
    with pytest.raises(TypeError, match=r"^low must be a float tensor .*got ndarray"):
        seeds.a1111_slerp(0.5, low.numpy(), high)
    with pytest.raises(TypeError, match=r"^high must be a float tensor .*got Tensor"):
        seeds.a1111_slerp(0.5, low, torch.ones((4, 8), dtype=torch.long))
    with pytest.raises(ValueError, match=r"^low must have at least 2 dimensions .*got shape \(8,\)"):
        seeds.a1111_slerp(0.5, low[0], high[0])
    with pytest.raises(ValueError, match=r"^high holds NaN"):
        seeds.a1111_slerp(0.5, low, high / 0 * 0)
    with pytest.raises(ValueError, match=r"low and high must have the same shape, got \(4, 8\) and \(4, 4\)"):
        seeds.a1111_slerp(0.5, low, high[:, :4])


def test_slerp_refuses_one_zero_vector_along_dim_1():
    low = torch.randn((4, 8, 8), generator=torch.Generator().manual_seed(3))
    high = torch.randn((4, 8, 8), generator=torch.Generator().manual_seed(4))
    holed = high.clone()
    holed[1, :, 5] = 0  # one (channel, column) vector; its rows and the tensor are not zero
    with pytest.raises(ValueError, match=r"^high has a zero vector along dim 1"):
        seeds.a1111_slerp(0.5, low, holed)
    with pytest.raises(ValueError, match=r"^low has a zero vector along dim 1"):
        seeds.a1111_slerp(0.5, holed, high)


def test_batch_generators_defaults_and_the_last_seed():
    default = seeds.batch_generators(3, 2)  # scheme "diffusers": every generator seeded `seed`
    assert [g.initial_seed() for g in default] == [3, 3]
    assert [g.device.type for g in default] == ["cpu", "cpu"]
    assert [g.initial_seed() for g in seeds.batch_generators(MAX - 1, 2, "a1111")] == [MAX - 1, MAX]
    with pytest.raises(ValueError, match=r"seed \+ n - 1 = 18446744073709551616 exceeds"):
        seeds.batch_generators(MAX, 2, "a1111")
    with pytest.raises(ValueError, match=r"^device='nonsense' is not a torch device"):
        seeds.batch_generators(3, 2, device="nonsense")
    with pytest.raises(TypeError, match=r"^device must be a device string"):
        seeds.batch_generators(3, 2, device=0.5)


def test_a1111_noise_refuses_other_containers_and_names_entries():
    with pytest.raises(TypeError, match=r"^seeds must be a non-empty list"):
        seeds.A1111Noise({1, 2}, (4, 2, 2))
    with pytest.raises(TypeError, match=r"^seeds must be a non-empty list"):
        seeds.A1111Noise([], (4, 2, 2))
    with pytest.raises(ValueError, match=r"^seeds\[i\] must be a non-negative int"):
        seeds.A1111Noise([1, -1], (4, 2, 2))
    with pytest.raises(TypeError, match=r"^subseeds must be a list of ints"):
        seeds.A1111Noise([1, 2], (4, 2, 2), subseeds={5})
    with pytest.raises(TypeError, match=r"^subseeds must be a list of ints"):
        seeds.A1111Noise([1, 2, 3], (4, 2, 2), subseeds="12")
    with pytest.raises(ValueError, match=r"^subseeds has 3 entries for 2 seeds"):
        seeds.A1111Noise([1, 2], (4, 2, 2), subseeds=[1, 2, 3])
    with pytest.raises(ValueError, match=r"^subseeds\[i\] must be a non-negative int"):
        seeds.A1111Noise([1, 2], (4, 2, 2), subseeds=[-1])
    with pytest.raises(ValueError, match=r"device is only for source 'gpu'"):
        seeds.A1111Noise([1], (4, 2, 2), device="cpu")


def test_a1111_noise_one_subseed_per_image_and_resize():
    shape = (4, 12, 16)
    batch = seeds.A1111Noise([7, 9], shape, subseeds=[3, 4], subseed_strength=0.3, seed_resize_from=(64, 64)).next()
    for i, (seed, sub) in enumerate([(7, 3), (9, 4)]):
        assert torch.equal(batch[i], seeds.a1111_latents(seed, shape, subseed=sub, subseed_strength=0.3, seed_resize_from=(64, 64)))


def test_a1111_noise_counts_its_draws():
    rng = seeds.A1111Noise([1], (4, 2, 2))
    assert rng.draws == 0
    rng.next()
    rng.next()
    rng.next()
    assert rng.draws == 3


def test_eta_noise_seed_delta_may_reach_seed_0_and_the_largest_seed():
    for seeds_, delta, expected in [([5], -5, 0), ([MAX - 1], 1, MAX)]:
        rng = seeds.A1111Noise(seeds_, (4, 2, 2), eta_noise_seed_delta=delta)
        rng.next()
        assert torch.equal(rng.next()[0], torch.randn((4, 2, 2), generator=torch.Generator().manual_seed(expected)))
    with pytest.raises(ValueError, match=r"seed 3 \+ eta_noise_seed_delta -4 = -1 is outside"):
        seeds.A1111Noise([3], (4, 2, 2), eta_noise_seed_delta=-4)


# --- brownian_tree_draws: the device and dtype of torchsde's Brownian tree draws ----------


def test_records_each_draw_of_the_tree_in_the_latents_dtype_and_leaves_the_numbers_alone():
    latents = torch.zeros(1, 2, 3, 3, dtype=torch.float64)
    expected = BrownianTreeNoiseSampler(latents, 0.1, 10.0, seed=3)(1.0, 0.5)
    with brownian_tree_draws() as draws:
        noise = BrownianTreeNoiseSampler(latents, 0.1, 10.0, seed=3)(1.0, 0.5)
    assert draws and set(draws) == {(torch.device("cpu"), torch.float64)}
    assert torch.equal(noise, expected)  # the same generator, seed and order: the same numbers


def test_a_meta_draw_is_shapes_only_and_torchsde_is_restored_even_on_error():
    original = brownian_interval._randn
    with pytest.raises(KeyError), brownian_tree_draws() as draws:
        drawn = brownian_interval._randn((2, 3), torch.float32, "meta", 0)
        raise KeyError("x")
    assert drawn.device.type == "meta" and drawn.shape == (2, 3) and drawn.dtype == torch.float32
    assert draws == [(torch.device("meta"), torch.float32)]
    assert brownian_interval._randn is original
