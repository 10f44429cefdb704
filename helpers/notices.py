"""Library output: two notices kept off the chapters' pages, and one scoped silence for helpers.

- diffusers 0.42.1 logs "The <Pipeline> has been deprecated and will not receive bug fixes..." every
  time a deprecated pipeline (Würstchen, UnCLIP) is built (`pipelines/pipeline_utils.py` L189-L192):
  nine identical lines in the Würstchen chapter. The zoo and Würstchen chapters say in prose that
  these pipelines moved to `diffusers.pipelines.deprecated`.
- transformers 5.24 logs "`CLIPImageProcessor` requires torchvision (not installed); falling back to
  `CLIPImageProcessorPil`..." (`utils/import_utils.py` L2688-L2692): the PIL processor is the one the
  chapters mean to use.

Every other warning still reaches the reader (and the chapters that are about a warning capture it).
The filters attach to the two loggers that emit these messages, so they work in a notebook, a test and
a script alike, and `install()` is idempotent.

`quiet_diffusers()` is the one scoped silence the helpers use while they drive diffusers themselves
(helpers never print): diffusers' log below ERROR and torchsde's interval warnings, for the duration.
"""

from __future__ import annotations

import contextlib
import logging
import re
import warnings

from . import validate

# what a reader is meant to use (the reference page lists these)
__all__ = ["install", "quiet_diffusers", "captured_logs"]

# (logger name, pattern of the message to drop)
KNOWN_NOTICES = (
    ("diffusers.pipelines.pipeline_utils", re.compile(r"^The \w+ has been deprecated and will not receive bug fixes")),
    ("transformers.utils.import_utils", re.compile(r"requires torchvision \(not installed\); falling back to")),
)


class _DropKnownNotice(logging.Filter):
    def __init__(self, pattern: re.Pattern):
        super().__init__()
        self.pattern = pattern

    def filter(self, record: logging.LogRecord) -> bool:
        return not self.pattern.search(record.getMessage())


def install() -> None:
    """Attach the filters (once) to the loggers that emit the known notices."""
    for name, pattern in KNOWN_NOTICES:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropKnownNotice) and f.pattern is pattern for f in logger.filters):
            logger.addFilter(_DropKnownNotice(pattern))


@contextlib.contextmanager
def quiet_diffusers():
    """Silence diffusers' loggers (below ERROR) and torchsde's interval warnings for the duration.

    For helpers that drive diffusers themselves and check what it would warn about, raising errors
    instead: DPMSolverSinglestepScheduler.set_timesteps warns on every call with the SD 1.5
    settings, `step()` without `scale_model_input` logs a warning, and torchsde warns when a
    Brownian tree is queried a float32 rounding outside its interval. The level is restored on exit.
    """
    logger = logging.getLogger("diffusers")
    level = logger.level
    # setLevel clears every logger's cache: skip it when an outer call already raised the level
    change = level < logging.ERROR
    if change:
        logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Should have", module="torchsde")
            yield
    finally:
        if change:
            logger.setLevel(level)


# --- the messages a library logs inside a block -----------------------------------------------------
# The messages a library logs inside a block, caught where its logger sends them.
#
# diffusers' and transformers' library loggers do not propagate to the root logger, so pytest's
# caplog and a plain `logging` configuration miss them; a handler on the library's own logger (or on
# the logger of one of its modules) sees them all.
#
#     with captured_logs("diffusers") as messages:
#         DDIMScheduler.from_config(config, use_karras_sigmas=True)
#     assert not messages  # nothing logged at the default verbosity


@contextlib.contextmanager
def captured_logs(name: str = "diffusers", level: int = logging.NOTSET):
    """Yields a list that fills with the messages (str, formatted with their arguments) logged
    under logger `name` or its children inside the block, at `level` or above.

    The loggers' own levels still decide what is logged at all: at diffusers' default verbosity,
    WARNING and above. The handler is removed when the block ends, even when it raises.

    Refuses: a `name` that is not a non-empty str (TypeError); a `level` that is not an int >= 0
    such as logging.WARNING.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a logger name such as 'diffusers', got {name!r}")
    level = validate.integer("level", level, minimum=0)
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            messages.append(record.getMessage())

    logger = logging.getLogger(name)
    handler = Collect(level)
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
