"""One set-up call per chapter: profile, device, dtype, seeds, threads, offline guard.

`setup()` is the first thing every notebook runs. It returns a `Context` that the other helpers
take, so that a chapter never decides device or dtype twice.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass

import numpy as np
import torch

from . import settings, validate

# what a reader is meant to use (the reference page lists these)
__all__ = ["OfflineProfileError", "Context", "setup"]

PROFILES = ("tiny", "full", "toy")  # toy: trained toy weights where they exist (helpers.toy), else tiny
DEVICES = ("auto", "cpu", "cuda", "mps")
PROFILE_ENV = settings.PROFILE  # its meaning: helpers.settings
CPU_THREADS = 1  # tiny models gain nothing from more, and a fixed count keeps float reductions identical

_SWITCH_HINT = (
    "To use real checkpoints from the Hugging Face Hub, run with profile='full' "
    "(papermill: -p profile full; book: PROFILE=full make book) on a machine that can reach the Hub "
    "or has the weights in its local Hub cache."
)


class OfflineProfileError(RuntimeError):
    """Raised when an offline profile (tiny or toy; the Hub guard blocks requests in either) is asked
    to reach the Hugging Face Hub. `profile` names it in the message when the caller knows it."""

    def __init__(self, what: str, profile: str | None = None):
        who = f"profile {profile!r}" if profile else "this offline profile (tiny or toy)"
        super().__init__(f"{who} is offline and never downloads: {what}. {_SWITCH_HINT}")


@dataclass(frozen=True)
class Context:
    """What a chapter runs with. Pass it to `helpers.pipelines.load` and friends."""

    profile: str
    seed: int
    device: torch.device
    dtype: torch.dtype

    def __post_init__(self):
        # checked here too, so that a hand-made or dataclasses.replace()d Context fails at once, not inside a load
        if self.profile not in PROFILES:
            raise ValueError(f"profile must be one of {', '.join(PROFILES)}, got {self.profile!r}")
        object.__setattr__(self, "seed", validate.seed("seed", self.seed, maximum=validate.NUMPY_MAX_SEED))
        if not isinstance(self.device, torch.device):
            raise TypeError(f"device must be a torch.device (helpers.setup(device=...) makes one), got {self.device!r}")
        validate.dtype("dtype", self.dtype, self.device)

    @property
    def small(self) -> bool:
        """True in the profiles of small local models, 'tiny' and 'toy': offline, tiny sizes (the toy
        profile loads trained toy weights only for the families that have them). False in 'full'."""
        return self.profile in ("tiny", "toy")

    @property
    def tiny(self) -> bool:
        """The old name of `small`, kept for code written against it: it was True in 'toy' as well,
        which the name did not say."""
        return self.small

    def generator(self, seed: int | None = None) -> torch.Generator:
        """A fresh generator seeded with `seed` (default: the context's seed).

        It lives on the device the pipeline samples on, so the same seed gives the same noise on
        every run on that device. MPS has no device generators: a CPU one is used there.
        """
        seed = self.seed if seed is None else validate.seed("seed", seed)
        device = "cpu" if self.device.type == "mps" else self.device
        return torch.Generator(device=device).manual_seed(seed)

    def generators(self, n: int, seed: int | None = None) -> list[torch.Generator]:
        """`n` identically seeded generators: one per image of a batch, all drawing the same noise."""
        n = validate.positive_int("n", n)
        seed = None if seed is None else validate.seed("seed", seed)
        return [self.generator(seed) for _ in range(n)]


def resolve_profile(profile: str | None) -> str:
    """`profile`, or the PROFILE environment variable, or 'tiny'; validated."""
    chosen = profile if profile is not None else settings.profile() or "tiny"
    if chosen not in PROFILES:
        raise ValueError(f"unknown profile {chosen!r}; accepted: {', '.join(PROFILES)} (or set {PROFILE_ENV})")
    return chosen


def resolve_device(device: str | torch.device) -> torch.device:
    """'auto' picks cuda, then mps, then cpu. An explicit device must be available."""
    if not isinstance(device, (str, torch.device)):
        accepted = f"device must be a str ({', '.join(DEVICES)}) or a torch.device"
        raise TypeError(f"{accepted}, got {type(device).__name__} {device!r}")
    name = str(device)
    kind = name.split(":")[0]
    if kind not in DEVICES:
        raise ValueError(f"unknown device {name!r}; accepted: {', '.join(DEVICES)} (cuda may carry an index, e.g. cuda:1)")
    if kind == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if kind == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} was asked for but torch sees no CUDA device; use device='auto' or 'cpu'")
    if kind == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {name!r} was asked for but MPS is not available; use device='auto' or 'cpu'")
    return torch.device(name)


def default_dtype(device: torch.device) -> torch.dtype:
    """bf16 on GPUs that support it, fp16 on other GPUs, fp32 on the CPU."""
    if device.type == "cuda":
        # native bf16 only: with emulation (the default) is_bf16_supported says yes on GPUs that
        # compute bf16 slowly in software, where float16 is the faster half precision
        return torch.bfloat16 if torch.cuda.is_bf16_supported(including_emulation=False) else torch.float16
    if device.type == "mps":
        return torch.float16
    return torch.float32


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# What the process had before the tiny profile first blocked the Hub: (HF_HUB_OFFLINE variable,
# huggingface_hub's HF_HUB_OFFLINE constant, client factory). None while the Hub is not blocked.
_before_block: tuple[str | None, bool, object] | None = None


def block_hub_downloads() -> None:
    """Make every Hub request fail fast with an error that names the profile.

    `HF_HUB_OFFLINE` is read by huggingface_hub at import time, so the constant is set as well as
    the variable; the client factory catches any request that still gets through. What was there
    before is kept (once, at the first block) so that `unblock_hub_downloads()` can put it back.
    """
    global _before_block
    from huggingface_hub import constants

    if _before_block is None:
        _before_block = (os.environ.get(settings.HUB_OFFLINE), constants.HF_HUB_OFFLINE, _client_factory())
    os.environ[settings.HUB_OFFLINE] = "1"
    constants.HF_HUB_OFFLINE = True

    def refuse(request):
        raise OfflineProfileError(f"a request to {request.url} was blocked")

    _set_client_factory(_refusing_client_factory(refuse))


# huggingface-hub 1.x and 2.x make httpx clients (set_client_factory); 0.x, which the claims
# ledger's older diffusers releases run with, makes requests sessions (configure_http_backend).
def _client_factory():
    from huggingface_hub.utils import _http

    return getattr(_http, "_GLOBAL_CLIENT_FACTORY", None) or _http._GLOBAL_BACKEND_FACTORY


def _set_client_factory(factory) -> None:
    import huggingface_hub

    if hasattr(huggingface_hub, "set_client_factory"):
        huggingface_hub.set_client_factory(factory)
    else:
        huggingface_hub.configure_http_backend(backend_factory=factory)


def _refusing_client_factory(refuse):
    import huggingface_hub

    if hasattr(huggingface_hub, "set_client_factory"):
        import httpx2

        return lambda: httpx2.Client(event_hooks={"request": [refuse]})
    import requests

    class Refusing(requests.adapters.HTTPAdapter):
        def send(self, request, *args, **kwargs):
            refuse(request)

    def session():
        refusing = requests.Session()
        refusing.mount("http://", Refusing())
        refusing.mount("https://", Refusing())
        return refusing

    return session


def unblock_hub_downloads() -> None:
    """Undo `block_hub_downloads()`: the variable, the constant and the client factory go back to
    what they were before the first block (so an HF_HUB_OFFLINE=1 the user set stays set).

    Does nothing when the Hub is not blocked.
    """
    global _before_block
    if _before_block is None:
        return
    from huggingface_hub import constants

    variable, constant, factory = _before_block
    if variable is None:
        os.environ.pop(settings.HUB_OFFLINE, None)
    else:
        os.environ[settings.HUB_OFFLINE] = variable
    constants.HF_HUB_OFFLINE = constant
    _set_client_factory(factory)
    _before_block = None


def hub_blocked() -> bool:
    """Whether the tiny profile's Hub block is in force in this process."""
    return _before_block is not None


def setup(
    profile: str | None = None, seed: int = 0, device: str | torch.device = "auto", dtype: torch.dtype | None = None
) -> Context:
    """Prepare the process for a chapter and return its `Context`.

    - profile: 'tiny' (default; tiny local pipelines, no network), 'full' (real checkpoints) or
      'toy' (as tiny, but families with trained toy weights load them: helpers.toy.profile);
      `None` reads the PROFILE environment variable.
    - seed: seeds Python, NumPy and torch; `ctx.generator()` hands out generators with it.
    - device: 'auto' (cuda, then mps, then cpu), or one of those names.
    - dtype: what pipelines load in; None picks `default_dtype(device)` (float32 on the CPU).

    Refuses: an unknown profile or device, a device torch does not see, a seed that is not an int in
    [0, 2^32 - 1] (NumPy's global seed takes no more; TypeError for "42", 1.5 or True), a dtype that is
    not a floating-point torch.dtype or that the device does not run (`validate.dtype`).

    On the CPU the thread count is fixed and torch's deterministic algorithms are switched on, so
    two runs give the same numbers.

    The process is set to the profile, whatever an earlier call set: 'tiny' blocks the Hub, 'full'
    lifts a block an earlier 'tiny' set (HF_HUB_OFFLINE goes back to what it was before that).
    Nothing is restored when the chapter ends; tests restore it with the `process_state` fixture.
    """
    chosen = resolve_profile(profile)
    seed = validate.seed("seed", seed, maximum=validate.NUMPY_MAX_SEED)
    dev = resolve_device(device)
    dtype = default_dtype(dev) if dtype is None else validate.dtype("dtype", dtype, dev)
    if chosen in ("tiny", "toy"):
        block_hub_downloads()
    else:
        unblock_hub_downloads()
    seed_everything(seed)
    if dev.type == "cpu":
        torch.set_num_threads(CPU_THREADS)
        torch.use_deterministic_algorithms(True)
    return Context(profile=chosen, seed=seed, device=dev, dtype=dtype)
