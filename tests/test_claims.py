import pytest

from helpers.claims import still_true


def test_a_holding_claim_runs_its_checks_and_passes():
    ran = []
    with still_true("1 + 1 is 2"):
        assert 1 + 1 == 2
        ran.append(True)
    assert ran == [True]  # the body ran to its end and nothing was raised


def test_a_broken_claim_names_itself():
    with pytest.raises(AssertionError, match=r"^diffusers changed this behaviour: x is 1 \(got 2"):
        with still_true("x is 1"):
            assert 2 == 1, "got 2"


def test_a_named_exception_is_a_changed_claim():
    with pytest.raises(AssertionError, match=r"^diffusers changed this behaviour: parsing \(now raises ValueError: bad\)$") as info:
        with still_true("parsing", changed_if_raises=(ValueError, TypeError)):
            raise ValueError("bad")
    assert isinstance(info.value.__cause__, ValueError)
    with pytest.raises(AssertionError, match="now raises KeyError"):
        with still_true("lookup", changed_if_raises=KeyError):  # one class is accepted as well
            {}["missing"]


@pytest.mark.parametrize(
    ("error", "named"),
    [(NameError("name 'pipe' is not defined"), ()), (AttributeError("no attribute 'unet'"), (ValueError,)), (ValueError("bad"), ())],
)
def test_any_other_exception_is_the_chapters_bug_and_propagates_unchanged(error, named):
    with pytest.raises(type(error)) as info:
        with still_true("a claim", changed_if_raises=named):
            raise error
    assert info.value is error  # the very exception, not a "diffusers changed" AssertionError


@pytest.mark.parametrize("bad", [ValueError("not a class"), "ValueError", (ValueError, 3), BaseException])
def test_changed_if_raises_takes_exception_classes_only(bad):
    with pytest.raises(TypeError, match=r"changed_if_raises=.*exception class"):
        with still_true("x", changed_if_raises=bad):
            pass


@pytest.mark.parametrize("bad", ["", "   ", None])
def test_the_claim_must_be_said_in_words(bad):
    with pytest.raises(ValueError, match=r"still_true\(quirk=...\) needs the claim in words"):
        with still_true(bad):
            pass


def _refuse(value):
    raise ValueError(f"bad value {value!r}")


def test_error_message_returns_the_expected_errors_message():
    from helpers.claims import error_message

    assert error_message(_refuse, 3) == "bad value 3"
    assert error_message(int, "x", expect=(TypeError, ValueError)).startswith("invalid literal")
    assert error_message(_refuse, value=4, expect=Exception) == "bad value 4"  # a parent class


def test_error_message_names_the_call_when_nothing_is_raised():
    from helpers.claims import error_message

    with pytest.raises(AssertionError, match=r"^abs raised nothing, expected ValueError$"):
        error_message(abs, -1)


def test_error_message_names_the_call_and_the_wrong_type():
    from helpers.claims import error_message

    wrong = r"^_refuse raised ValueError \(bad value 1\), expected TypeError$"
    with pytest.raises(AssertionError, match=wrong) as info:
        error_message(_refuse, 1, expect=TypeError)
    assert isinstance(info.value.__cause__, ValueError)


@pytest.mark.parametrize(
    ("call", "expect"),
    [("not callable", ValueError), (abs, "ValueError"), (abs, ()), (abs, (ValueError, 3))],
)
def test_error_message_refuses_bad_arguments_before_calling(call, expect):
    from helpers.claims import error_message

    with pytest.raises(TypeError, match=r"error_message\((call|expect)=\.\.\.\)"):
        error_message(call, expect=expect)
