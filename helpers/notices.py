"""Keep two library notices off the chapters' pages, and nothing else.

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
"""

from __future__ import annotations

import logging
import re

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
