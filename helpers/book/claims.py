"""Assertions about diffusers' behaviour that say so when diffusers changes.

A chapter documents quirks of one diffusers release. Wrapping the checks of a quirk in
`still_true("claim-id", "what the quirk is")` turns a failed assertion into an AssertionError that
starts with "diffusers changed this behaviour", so the regression run names the claim to revisit.
The id is the claim's stable name in the claims ledger (`helpers.book.ledger`, the book's Claims page):
it stays when the wording of the statement is polished.

Only a failed assertion reads so, plus the exception types the claim names in
`changed_if_raises=` (for a quirk whose change would show as, say, a new ValueError from
diffusers). Any other exception (a NameError or AttributeError from a typo in the chapter) is a
bug in the chapter, not news about diffusers, and propagates unchanged.

Ledger mode: when the environment variable FIELDNOTES_LEDGER names a file (the release matrix,
`make matrix`, sets it), each claim appends its outcome there as one JSON line and a changed claim
does not stop the chapter: the matrix wants every claim's status on an older release, not the
first one. An ImportError inside the block is recorded there as "not applicable" (the API the
claim is about does not exist in that release).
"""

from __future__ import annotations

import contextlib
import json
import re
import traceback

from .. import settings

# what a reader is meant to use (the reference page lists these)
__all__ = [
    "LEDGER_ENV", "HOLDS", "CHANGED_STATUS", "NOT_APPLICABLE", "check_claim_id", "still_true",
    "needs_weights", "needs", "MissingAPI", "error_message",
]

CHANGED = "diffusers changed this behaviour"
LEDGER_ENV = settings.LEDGER  # its meaning: helpers.settings
HOLDS, CHANGED_STATUS, NOT_APPLICABLE = "holds", "changed", "not applicable"
CLAIM_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CLAIM_ID_MAX = 64


def check_claim_id(claim: object, name: str | None = None) -> str:
    """Return `claim` if it is a valid claim id: lowercase words and digits joined by single
    hyphens, at most 64 characters (e.g. "frozendict-accepts-writes").

    Refuses anything else with a ValueError that shows the accepted form (naming the argument
    `name` when given).
    """
    if not isinstance(claim, str) or not CLAIM_ID.match(claim) or len(claim) > CLAIM_ID_MAX:
        hint = ""
        if isinstance(claim, str) and CLAIM_ID.match(claim.lower().replace("_", "-").replace(" ", "-")):
            hint = f" (did you mean {claim.lower().replace('_', '-').replace(' ', '-')!r}?)"
        raise ValueError(
            (f"{name} must be a claim id: " if name else "")
            + f"a claim id is lowercase words and digits joined by hyphens, at most {CLAIM_ID_MAX} "
            f"characters (e.g. 'frozendict-accepts-writes'), got {claim!r}{hint}"
        )
    return claim


def _exception_types(value) -> tuple[type[BaseException], ...]:
    types = value if isinstance(value, tuple) else (value,)
    for item in types:
        if not (isinstance(item, type) and issubclass(item, Exception)):
            raise TypeError(
                f"still_true(changed_if_raises=...) takes an exception class or a tuple of them "
                f"(e.g. (ValueError, TypeError)), got {value!r}"
            )
    return types


def _ledger_path() -> str | None:
    return settings.ledger_path()


def _log(claim: str, statement: str, status: str, detail: str = "", kind: str | None = None) -> None:
    path = _ledger_path()
    if path is None:
        return
    line = {"claim": claim, "statement": statement, "status": status, "detail": detail[:500]}
    if kind is not None:
        line["kind"] = kind
    with open(path, "a", encoding="utf-8") as ledger:
        ledger.write(json.dumps(line, ensure_ascii=False) + "\n")


def _failed_line(error: BaseException) -> str:
    # a bare `assert` has no message: the ledger and the raised message show the failed line instead
    frames = traceback.extract_tb(error.__traceback__)
    line = frames[-1].line if frames else ""
    return f"failed: {line}" if line else "an assertion without a message failed"


class ClaimMark:
    """What a checked claim shows under its cell: the id as an anchor the Claims page links to."""

    def __init__(self, claim: str, status: str, version: str):
        self.claim, self.status, self.version = claim, status, version

    def __repr__(self) -> str:
        return f"claim {self.claim}: {self.status} on diffusers {self.version}"

    def _repr_html_(self) -> str:
        # the Claims page link only exists in the built book
        in_book = settings.in_book()
        name = (
            f'<a href="../book/claims.html#claim-{self.claim}">{self.claim}</a>'
            if in_book
            else self.claim
        )
        return (
            f'<div class="fieldnotes-claim" id="claim-{self.claim}">claim {name}: '
            f"{self.status} on diffusers {self.version}</div>"
        )


def _show(claim: str, status: str) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # helpers work without IPython; only a notebook shows the mark
        return
    if get_ipython() is None:
        return
    import diffusers

    display(ClaimMark(claim, status, diffusers.__version__))


@contextlib.contextmanager
def still_true(
    claim: str,
    statement: str,
    changed_if_raises: type[Exception] | tuple[type[Exception], ...] = (),
):
    """Run the checks of the claim `claim` (its id), which says `statement`.

    - a failed `assert` becomes AssertionError("diffusers changed this behaviour: statement
      (detail)");
    - an exception of a type in `changed_if_raises` becomes the same message with
      "now raises Type: message" (the original is chained as the cause);
    - any other exception propagates unchanged: it is the chapter's bug, not diffusers' news.
    In a notebook a claim that holds shows a one-line mark under its cell, anchored by its id.
    In ledger mode (FIELDNOTES_LEDGER set) the outcome is appended to that file and a changed
    claim does not raise; an ImportError is recorded as "not applicable".

    Refuses (before running the checks) an id that is not lowercase words joined by hyphens, an
    empty `statement`, and a `changed_if_raises` that is not an exception class or a tuple of them.
    """
    check_claim_id(claim)
    if not isinstance(statement, str) or not statement.strip():
        raise ValueError(f"still_true(statement=...) needs the claim in words, got {statement!r}")
    named = _exception_types(changed_if_raises)
    ledger = _ledger_path() is not None
    try:
        yield
    except AssertionError as error:
        reason = str(error) or _failed_line(error)
        _log(claim, statement, CHANGED_STATUS, reason)
        if not ledger:
            raise AssertionError(f"{CHANGED}: {statement} ({reason})") from None
        _show(claim, CHANGED_STATUS)
        return
    except named as error:
        message = f"now raises {type(error).__name__}: {error}"
        _log(claim, statement, CHANGED_STATUS, message)
        if not ledger:
            raise AssertionError(f"{CHANGED}: {statement} ({message})") from error
        _show(claim, CHANGED_STATUS)
        return
    except ImportError as error:
        if not ledger:
            raise
        _log(claim, statement, NOT_APPLICABLE, f"{type(error).__name__}: {error}")
        _show(claim, NOT_APPLICABLE)
        return
    _log(claim, statement, HOLDS)
    _show(claim, HOLDS)


WEIGHTS = "weights"  # the ledger lines of `needs_weights` carry kind "weights"
NOT_SHOWN = "not shown"
NOT_SHOWN_MESSAGE = "these weights do not show this"


@contextlib.contextmanager
def needs_weights(finding: str, statement: str):
    """Run the checks of a finding only trained weights show (what an image shows), in `full`.

    Not a diffusers quirk (that is `still_true`) and not in the claims ledger: it fails when the
    weights do not show it (random weights never do, e.g. the tiny-weight mirror of
    tests/test_full_mirror.py), so a failed `assert` becomes AssertionError("these weights do not
    show this: statement (detail)"). In ledger mode (FIELDNOTES_LEDGER set) the outcome is
    appended there, `{"claim": finding, "kind": "weights", "status": "holds" | "not shown", ...}`,
    and a failure does not stop the chapter, so the code after it still runs. Any other exception
    propagates: it is the chapter's bug.

    Refuses (before running the checks) a `finding` id that is not lowercase words joined by
    hyphens and an empty `statement` (ValueError).
    """
    check_claim_id(finding, name="finding")
    if not isinstance(statement, str) or not statement.strip():
        raise ValueError(f"needs_weights(statement=...) needs the finding in words, got {statement!r}")
    try:
        yield
    except AssertionError as error:
        reason = str(error) or _failed_line(error)
        _log(finding, statement, NOT_SHOWN, reason, kind=WEIGHTS)
        if _ledger_path() is None:
            raise AssertionError(f"{NOT_SHOWN_MESSAGE}: {statement} ({reason})") from None
        return
    _log(finding, statement, HOLDS, kind=WEIGHTS)


class MissingAPI(ImportError):
    """The API a claim is about does not exist in the installed release (see `needs`)."""


def needs(owner, *names: str) -> None:
    """Check, inside a `still_true` block, that `owner` has every attribute in `names`.

    For a claim about an API that older releases lack: the missing attribute raises MissingAPI, an
    ImportError, so the claims ledger records the claim as "not applicable" there rather than as
    changed (outside ledger mode it propagates like any ImportError).

    Refuses: no `names`, or a name that is not a non-empty str (ValueError).
    """
    if not names or not all(isinstance(name, str) and name for name in names):
        raise ValueError(f"needs(owner, *names) takes attribute names as non-empty strings, got {names!r}")
    if isinstance(owner, str):
        raise TypeError(
            f"owner must be the module or class itself (e.g. torch, not 'torch': import it first), got the str {owner!r}"
        )
    missing = [name for name in names if not hasattr(owner, name)]
    if missing:
        label = getattr(owner, "__qualname__", None) or type(owner).__name__
        raise MissingAPI(f"{label} has no {', '.join(missing)} in this release")


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
