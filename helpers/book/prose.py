"""Numbers in prose come from the code: a sentence that quotes a measured figure is rendered from it.

    from helpers.book.prose import say
    ratio = karras_error / ays_error
    assert 0.6 < ratio < 0.8  # the word the sentence uses ("about two thirds") rests on this
    say("Karras sigmas bring the error to {ratio:.0%} of AYS's.", ratio=ratio)

`say` returns Markdown that JupyterLab shows under the cell and the static book renders as prose
(chapters tag such cells `remove-input`, so the book shows the sentence, not the call). A figure in a
Markdown cell is typed by hand and drifts when the code changes; `tests/test_prose_numbers.py`
finds those (`tools/prose_numbers.py` says how it tells a measured number from a constant).

The comparison word a sentence uses ("halves", "ten times", "every") is asserted from the same
value in the same cell, next to the `say` call: `say` formats, it cannot know what a word means.
"""

from __future__ import annotations

import string

from IPython.display import Markdown

__all__ = ["say"]


def _fields(template: str) -> set[str]:
    names = set()
    for _, field, _, _ in string.Formatter().parse(template):
        if field is None:
            continue
        name = field.split(".")[0].split("[")[0]
        if not name or name.isdigit():
            raise ValueError(
                f"say: every placeholder needs a name ({{ratio:.2f}}), got {{{field}}} in {template!r}"
            )
        names.add(name)
    return names


def say(template: str, /, **values) -> Markdown:
    """`template` (Markdown with `{name:format}` placeholders, str.format syntax) filled from `values`.

    Refuses (ValueError): a `template` that is not a str, a placeholder without a name or without a
    value, a value no placeholder uses (a figure computed for the sentence and then left out of it
    is a sign the sentence changed and the code did not).
    """
    if not isinstance(template, str):
        raise TypeError(f"say: the template must be a str of Markdown, got {type(template).__name__}")
    names = _fields(template)
    missing = sorted(names - values.keys())
    if missing:
        raise ValueError(f"say: no value for placeholder(s) {', '.join(missing)}; pass them as keywords")
    unused = sorted(values.keys() - names)
    if unused:
        raise ValueError(f"say: value(s) {', '.join(unused)} not used in the template; drop them or quote them")
    try:
        text = template.format(**values)
    except (ValueError, TypeError) as error:
        raise ValueError(f"say: a format spec does not fit its value in {template!r}: {error}") from None
    return Markdown(text)
