"""The two known library notices are dropped; every other warning of the same loggers still shows.
quiet_diffusers silences diffusers and torchsde for its duration only."""

import logging

from helpers import notices
import pytest
from helpers.notices import captured_logs


def _emit(logger_name: str, message: str, caplog) -> list[str]:
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=logger_name):
        logging.getLogger(logger_name).warning(message)
    return [r.getMessage() for r in caplog.records]


def test_deprecated_pipeline_notice_is_dropped_and_other_warnings_are_not(caplog):
    notices.install()
    name = "diffusers.pipelines.pipeline_utils"
    assert _emit(name, "The WuerstchenDecoderPipeline has been deprecated and will not receive bug fixes or feature updates after Diffusers version 0.33.1. ", caplog) == []
    assert _emit(name, "Keyword arguments {'x': 1} are not expected by StableDiffusionPipeline and will be ignored.", caplog)


def test_torchvision_fallback_notice_is_dropped(caplog):
    notices.install()
    name = "transformers.utils.import_utils"
    assert _emit(name, "`CLIPImageProcessor` requires torchvision (not installed); falling back to `CLIPImageProcessorPil` for backward compatibility.", caplog) == []
    assert _emit(name, "something else", caplog) == ["something else"]


def test_install_is_idempotent():
    notices.install()
    before = len(logging.getLogger("diffusers.pipelines.pipeline_utils").filters)
    notices.install()
    assert len(logging.getLogger("diffusers.pipelines.pipeline_utils").filters) == before


def test_importing_helpers_installs_the_filters():
    import helpers  # noqa: F401

    assert any(isinstance(f, notices._DropKnownNotice) for f in logging.getLogger("transformers.utils.import_utils").filters)


def test_quiet_diffusers_silences_diffusers_and_torchsde_for_the_duration_only():
    import warnings

    logger = logging.getLogger("diffusers")
    before = logger.level
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with notices.quiet_diffusers():
            assert logger.level == logging.ERROR
            with notices.quiet_diffusers():  # nested: the outer level stays
                assert logger.level == logging.ERROR
            assert logger.level == logging.ERROR
            warnings.warn_explicit("Should have tb<=t1 but got tb=1.0001", UserWarning, "torchsde/_brownian/x.py", 1, module="torchsde")
        warnings.warn_explicit("Should have tb<=t1 but got tb=1.0001", UserWarning, "torchsde/_brownian/x.py", 1, module="torchsde")
    assert logger.level == before
    assert [str(w.message) for w in caught] == ["Should have tb<=t1 but got tb=1.0001"]  # only the one outside


# --- captured_logs: the messages a library logs inside a block ----------


def test_catches_the_messages_of_a_non_propagating_logger_and_its_children():
    library = logging.getLogger("fieldnotes-test-library")
    library.propagate, library.level = False, logging.WARNING  # like diffusers' root logger
    child = logging.getLogger("fieldnotes-test-library.module")
    with captured_logs("fieldnotes-test-library") as messages:
        child.warning("cut %d tokens", 3)
        child.info("below the library's level: never logged")
    assert messages == ["cut 3 tokens"]
    child.warning("after the block")
    assert messages == ["cut 3 tokens"] and not library.handlers  # the handler is gone


def test_level_keeps_only_messages_at_or_above_it_and_the_handler_goes_on_error():
    logger = logging.getLogger("fieldnotes-test-levels")
    logger.setLevel(logging.DEBUG)
    with pytest.raises(KeyError), captured_logs("fieldnotes-test-levels", logging.WARNING) as messages:
        logger.info("info")
        logger.error("error")
        raise KeyError("x")
    assert messages == ["error"] and not logger.handlers


@pytest.mark.parametrize(
    ("name", "level", "error"),
    [("", 0, TypeError), (None, 0, TypeError), ("diffusers", -1, ValueError), ("diffusers", "WARNING", TypeError)],
)
def test_refuses_what_is_no_logger_name_or_level(name, level, error):
    with pytest.raises(error, match="name|level"), captured_logs(name, level):
        pass
