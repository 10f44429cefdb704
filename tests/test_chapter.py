"""helpers.book.chapter: the chapter conventions in one import."""

import math
import time

import pytest
import torch

import importlib

from helpers.book import chapter, claims

record = importlib.import_module("helpers.book.record")


def test_one_import_holds_the_conventions_from_their_homes():
    assert chapter.still_true is claims.still_true and chapter.error_message is claims.error_message
    assert chapter.approx is record.approx and chapter.record is record.record


@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [(0.0012345, 3, 0.00123), (123456, 3, 123000.0), (-9.876, 2, -9.9), (1.0, 1, 1.0), (0.0, 3, 0.0), (999.5, 3, 1000.0)],
)
def test_significant_keeps_significant_digits_not_decimal_places(value, digits, expected):
    assert chapter.significant(value, digits) == pytest.approx(expected, rel=1e-12)




@pytest.mark.parametrize(("value", "digits", "error"), [("1", 3, TypeError), (math.inf, 3, ValueError), (math.nan, 3, ValueError), (1.0, 0, ValueError), (1.0, 2.5, TypeError)])
def test_significant_refuses_what_it_cannot_round(value, digits, error):
    with pytest.raises(error, match="value|digits"):
        chapter.significant(value, digits)


def test_timed_measures_the_block_even_when_it_raises():
    with chapter.timed() as timing:
        assert timing.seconds is None and str(timing) == "running"
        time.sleep(0.01)
    assert timing.seconds >= 0.01 and str(timing).endswith(" s")
    with pytest.raises(KeyError), chapter.timed() as failed:
        time.sleep(0.01)
        raise KeyError("x")
    # the block's time, not a placeholder: at least the sleep, and less than the whole test so far
    assert 0.01 <= failed.seconds < 5 and str(failed).endswith(" s")


def test_timed_waits_for_a_cuda_device_before_starting_and_stopping_the_clock(monkeypatch):
    waited = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: waited.append(device))
    with chapter.timed("cuda:0") as timing:
        assert waited == [torch.device("cuda:0")]  # before the clock started
        time.sleep(0.01)
    assert waited == [torch.device("cuda:0")] * 2 and timing.seconds >= 0.01
    with chapter.timed(torch.device("cpu")) as on_cpu:
        pass
    assert len(waited) == 2 and on_cpu.seconds >= 0  # a CPU has nothing queued to wait for


@pytest.mark.parametrize(("device", "error"), [(0.5, TypeError), ("no-such-device", ValueError)])
def test_timed_refuses_what_is_no_device(device, error):
    with pytest.raises(error, match="device"), chapter.timed(device):
        pass
