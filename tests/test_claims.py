import pytest

from helpers.claims import still_true


def test_a_holding_claim_passes():
    with still_true("1 + 1 is 2"):
        assert 1 + 1 == 2


def test_a_broken_claim_names_itself():
    with pytest.raises(AssertionError, match=r"^diffusers changed this behaviour: x is 1 \(got 2"):
        with still_true("x is 1"):
            assert 2 == 1, "got 2"


def test_a_new_exception_is_a_changed_claim():
    with pytest.raises(AssertionError, match="diffusers changed this behaviour: parsing.*now raises ValueError: bad"):
        with still_true("parsing"):
            raise ValueError("bad")
