import os

import numpy as np
import pytest
import torch

import helpers
from helpers import runtime
from tests import conftest


def test_setup_defaults_to_tiny_on_cpu(monkeypatch):
    monkeypatch.delenv("PROFILE", raising=False)
    ctx = helpers.setup(device="cpu")
    assert (ctx.profile, ctx.device.type, ctx.dtype) == ("tiny", "cpu", torch.float32)
    assert ctx.small
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert torch.get_num_threads() == runtime.CPU_THREADS
    assert torch.are_deterministic_algorithms_enabled()


def test_profile_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("PROFILE", "full")
    assert helpers.setup(device="cpu").profile == "full"
    assert helpers.setup(profile="tiny", device="cpu").profile == "tiny"  # the argument wins


@pytest.mark.parametrize("bad", ["small", "FULL", "", "  "])
def test_unknown_profile_lists_the_accepted_ones(bad):
    with pytest.raises(ValueError, match="accepted: tiny, full"):
        helpers.setup(profile=bad, device="cpu")


def test_empty_profile_is_not_read_as_unset(monkeypatch):
    monkeypatch.setenv("PROFILE", "full")  # "" must be refused, not replaced by the environment's choice
    with pytest.raises(ValueError, match="unknown profile ''"):
        helpers.setup(profile="", device="cpu")


@pytest.mark.parametrize("bad", ["gpu", "tpu", "cuda0"])
def test_unknown_device_lists_the_accepted_ones(bad):
    with pytest.raises(ValueError, match="accepted: auto, cpu, cuda, mps"):
        helpers.setup(device=bad)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on a machine without CUDA")
def test_missing_cuda_is_a_clear_error():
    with pytest.raises(ValueError, match="no CUDA device"):
        helpers.setup(device="cuda")


@pytest.mark.parametrize("bad, error", [(-1, ValueError), (2**32, ValueError), (1.5, TypeError), ("0", TypeError), (True, TypeError)])
def test_bad_seed(bad, error):
    # 2**32: NumPy's global seed takes no more
    with pytest.raises(error, match="seed must be a non-negative int"):
        helpers.setup(seed=bad, device="cpu")


def test_seeding_makes_numpy_torch_and_generators_repeat():
    draws = []
    for _ in range(2):
        ctx = helpers.setup(seed=7, device="cpu")
        draws.append((np.random.rand(3), torch.rand(3), torch.randn(3, generator=ctx.generator())))
    for first, second in zip(*draws):
        assert np.array_equal(np.asarray(first), np.asarray(second))
    ctx = helpers.setup(seed=7, device="cpu")
    assert not torch.equal(torch.randn(3, generator=ctx.generator(1)), torch.randn(3, generator=ctx.generator(2)))


def test_generators_are_identical_and_independent():
    ctx = helpers.setup(device="cpu")
    first, second = ctx.generators(2)
    assert first is not second
    assert torch.equal(torch.randn(4, generator=first), torch.randn(4, generator=second))
    with pytest.raises(ValueError, match="n must be an int >= 1"):
        ctx.generators(0)


def test_tiny_profile_blocks_hub_requests():
    helpers.setup(device="cpu")
    from huggingface_hub.utils import get_session

    # the guard does not know which offline profile set it up: the message names both
    with pytest.raises(helpers.OfflineProfileError, match="offline profile \\(tiny or toy\\).*profile='full'"):
        get_session().get("https://huggingface.co/api/models/stable-diffusion-v1-5/stable-diffusion-v1-5")


def test_default_dtype_per_device():
    assert runtime.default_dtype(torch.device("cpu")) == torch.float32
    assert runtime.default_dtype(torch.device("mps")) == torch.float16


def hub_state():
    from huggingface_hub import constants
    from huggingface_hub.utils import _http

    return os.environ.get("HF_HUB_OFFLINE"), constants.HF_HUB_OFFLINE, _http._GLOBAL_CLIENT_FACTORY


@pytest.mark.parametrize("user_offline", [None, "0", "1"])
def test_full_after_tiny_sets_the_process_back_to_what_the_user_had(monkeypatch, user_offline):
    # Start as a fresh process would: a module-scoped tiny set-up of another test module may still
    # hold the block here (the process_state fixture puts it back after this test).
    runtime.unblock_hub_downloads()
    if user_offline is None:
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    else:
        monkeypatch.setenv("HF_HUB_OFFLINE", user_offline)
    before = hub_state()
    helpers.setup(profile="tiny", device="cpu")
    assert runtime.hub_blocked() and hub_state()[:2] == ("1", True)
    helpers.setup(profile="tiny", device="cpu")  # twice: the user's setting is still what comes back
    helpers.setup(profile="full", device="cpu")
    assert not runtime.hub_blocked()
    assert hub_state() == before  # variable, constant and client factory: all as before tiny
    from huggingface_hub.utils import get_session

    request = get_session().build_request("GET", "https://huggingface.co/api/models/x")
    from huggingface_hub.errors import OfflineModeIsEnabled

    for hook in get_session().event_hooks["request"]:  # the hooks run; no request is sent
        try:
            hook(request)
        except helpers.OfflineProfileError:
            pytest.fail("the tiny profile's block survived setup('full')")
        except OfflineModeIsEnabled:
            assert before[1] is True  # huggingface_hub's own check, as the user had it


def test_tiny_after_full_blocks_again():
    helpers.setup(profile="full", device="cpu")
    helpers.setup(profile="tiny", device="cpu")
    assert runtime.hub_blocked()
    from huggingface_hub.utils import get_session

    with pytest.raises(helpers.OfflineProfileError):
        get_session().get("https://huggingface.co/api/models/x")


def test_the_process_state_fixture_undoes_setup(process_state):
    """ProcessState.restore puts back each thing helpers.setup() changes, from a state that setup
    certainly changes (the fixture itself then restores whatever this test started from)."""
    runtime.unblock_hub_downloads()
    os.environ.pop("HF_HUB_OFFLINE", None)
    torch.set_num_threads(runtime.CPU_THREADS + 1)
    torch.use_deterministic_algorithms(False)
    np.random.seed(7)
    before = conftest.ProcessState.capture()
    helpers.setup(profile="tiny", device="cpu", seed=0)
    changed = conftest.ProcessState.capture()
    # setup changed every part, so each comparison below can fail
    assert changed.hub != before.hub and changed.hub[0] is not None and before.hub[0] is None
    assert changed.environ != before.environ and changed.environ["HF_HUB_OFFLINE"] == "1"
    assert (changed.threads, changed.deterministic) != (before.threads, before.deterministic)
    assert not np.array_equal(changed.rng[1][1], before.rng[1][1])
    before.restore()
    after = conftest.ProcessState.capture()
    assert after.threads == before.threads
    assert after.deterministic == before.deterministic
    assert after.hub == before.hub
    assert after.environ == before.environ
    assert after.rng[0] == before.rng[0] and np.array_equal(after.rng[1][1], before.rng[1][1])
    assert torch.equal(after.rng[2], before.rng[2])
