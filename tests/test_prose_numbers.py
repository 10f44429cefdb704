"""Numbers in prose come from the code: no measured figure typed by hand in a chapter or a page."""

import pytest

from helpers.book.prose import say
from tools import prose_numbers


def test_no_measured_number_is_typed_by_hand_in_the_book_and_no_constant_is_stale():
    hits, stale = prose_numbers.scan()
    report = "\n".join(str(h) for h in hits) + "".join(f"\nstale: {c['file']}: {c['text']!r}" for c in stale)
    assert not hits and not stale, (
        "render measured figures with helpers.book.prose.say, or list a true constant in "
        "tools/prose_constants/<page>.toml with why:\n" + report
    )


SAMPLE = """---
jupytext: {}
---

# A title 0.5

Karras's error is 0.0896 against 0.1291, 31 % less; 10 of 29 seeds, 3/18, 42 times, 5×, halves,
a hundred times, 3.0e-3.

Constants: 77 tokens, 50 steps, SD 1.5, A1111 1.9, diffusers 0.42.1, `guidance_scale=7.5`,
[a link](https://x.org/v0.42.1/a.py#L12), 8×8 latents, arXiv:2403.17377, $x = 0.5$.

```{code-cell} ipython3
ratio = 0.25  # code is not prose
```

```{admonition} In short
Inside a box, 2.5 is prose.
```

```python
print(1.5)
```
"""


def test_scan_flags_each_measured_form_and_only_those():
    found = [h.text for h in prose_numbers.scan_text(SAMPLE, "x.md")]
    assert found == [
        "0.5", "0.0896", "0.1291", "31 %", "10 of 29", "3/18", "42 times", "5×", "halves", "3.0e-3",
        "a hundred times", "2.5",
    ]


def test_a_constant_lets_its_line_through_and_an_unused_one_is_stale(tmp_path):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "a.md").write_text("Weight `(x)` is 1.1 here.\n\nMeasured 0.25.\n")
    constants = [
        {"file": "notebooks/a.md", "text": "is 1.1 here", "why": "the parser's constant factor"},
        {"file": "notebooks/a.md", "text": "gone 2.5", "why": "a sentence that was removed"},
    ]
    hits, stale = prose_numbers.scan(tmp_path, constants)
    assert [h.text for h in hits] == ["0.25"]
    assert [c["text"] for c in stale] == ["gone 2.5"]


def test_a_constant_needs_a_reason(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[[constant]]\nfile = "a.md"\ntext = "1.1"\nwhy = ""\n')
    with pytest.raises(ValueError, match="say why"):
        prose_numbers.load_constants(path)


def test_say_fills_the_sentence_from_the_values():
    assert say("Karras is {r:.0%} of AYS.", r=0.694).data == "Karras is 69% of AYS."


@pytest.mark.parametrize(
    "template, values, message",
    [
        ("{r:.2f} and {s}", {"r": 1.0}, "no value for placeholder"),
        ("{r:.2f}", {"r": 1.0, "s": 2}, "not used"),
        ("{:.2f}", {}, "needs a name"),
        ("{r:.2f}", {"r": "text"}, "format spec"),
    ],
)
def test_say_refuses_a_sentence_and_values_that_do_not_match(template, values, message):
    with pytest.raises(ValueError, match=message):
        say(template, **values)
