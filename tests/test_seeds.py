"""helpers.seeds: Philox against published vectors, A1111's seeding rules, batch generators."""

import numpy as np
import pytest
import torch
from diffusers.utils.torch_utils import randn_tensor

from helpers import seeds

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
