"""Assertions about diffusers' behaviour that say so when diffusers changes.

A chapter documents quirks of one diffusers release. Wrapping the checks of a quirk in
`still_true("...")` turns a failed assertion into an AssertionError that starts with "diffusers
changed this behaviour", so the regression run names the claim to revisit.

Only a failed assertion reads so, plus the exception types the claim names in
`changed_if_raises=` (for a quirk whose change would show as, say, a new ValueError from
diffusers). Any other exception (a NameError or AttributeError from a typo in the chapter) is a
bug in the chapter, not news about diffusers, and propagates unchanged.
"""

from __future__ import annotations

import contextlib

CHANGED = "diffusers changed this behaviour"


def _exception_types(value) -> tuple[type[BaseException], ...]:
    types = value if isinstance(value, tuple) else (value,)
    for item in types:
        if not (isinstance(item, type) and issubclass(item, Exception)):
            raise TypeError(
                f"still_true(changed_if_raises=...) takes an exception class or a tuple of them "
                f"(e.g. (ValueError, TypeError)), got {value!r}"
            )
    return types


@contextlib.contextmanager
def still_true(quirk: str, changed_if_raises: type[Exception] | tuple[type[Exception], ...] = ()):
    """Run the checks of `quirk`.

    - a failed `assert` becomes AssertionError("diffusers changed this behaviour: quirk (detail)");
    - an exception of a type in `changed_if_raises` becomes the same message with
      "now raises Type: message" (the original is chained as the cause);
    - any other exception propagates unchanged: it is the chapter's bug, not diffusers' news.

    Refuses (before running the checks) an empty `quirk` and a `changed_if_raises` that is not an
    exception class or a tuple of them.
    """
    if not isinstance(quirk, str) or not quirk.strip():
        raise ValueError(f"still_true(quirk=...) needs the claim in words, got {quirk!r}")
    named = _exception_types(changed_if_raises)
    try:
        yield
    except AssertionError as error:
        detail = f" ({error})" if str(error) else ""
        raise AssertionError(f"{CHANGED}: {quirk}{detail}") from None
    except named as error:
        raise AssertionError(f"{CHANGED}: {quirk} (now raises {type(error).__name__}: {error})") from error


def error_message(call, *args, expect: type[BaseException] | tuple = ValueError, **kwargs) -> str:
    """Call `call(*args, **kwargs)`, expecting it to raise `expect`; return the error's message.

    For a chapter that shows the message diffusers gives for a mistake. Guarantees the message
    comes from an exception of a type in `expect` (a class or a tuple of classes):

    - returning normally raises AssertionError naming the call ("... raised nothing");
    - raising another type raises AssertionError naming the call and the type it raised (the
      original is chained as the cause).

    Refuses (before calling) a `call` that is not callable and an `expect` that is not an
    exception class or a tuple of them.
    """
    if not callable(call):
        raise TypeError(f"error_message(call=...) takes a callable, got {call!r}")
    types = expect if isinstance(expect, tuple) else (expect,)
    if not types or not all(isinstance(t, type) and issubclass(t, BaseException) for t in types):
        raise TypeError(
            f"error_message(expect=...) takes an exception class or a tuple of them "
            f"(e.g. (ValueError, TypeError)), got {expect!r}"
        )
    name = getattr(call, "__qualname__", None) or repr(call)
    wanted = " or ".join(t.__name__ for t in types)
    try:
        call(*args, **kwargs)
    except types as error:
        return str(error)
    except Exception as error:
        raise AssertionError(
            f"{name} raised {type(error).__name__} ({error}), expected {wanted}"
        ) from error
    raise AssertionError(f"{name} raised nothing, expected {wanted}")
