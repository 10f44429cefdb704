"""Record a chapter's key figures for the regression test.

A chapter ends with `helpers.record(name=value, ...)`. The regression test sets RECORD_ENV to a
JSON path before it executes the notebook and compares that file with `tests/reference/`.
Outside the test nothing is written; the normalised figures are returned either way.

What may be recorded (README, "Regression"): ints, strings, bools and shapes, compared exactly;
floats that are exact by construction, compared to `EXACT_RTOL` (float rounding only); and
statistics wrapped in `approx(value, rtol=..., why=...)`, whose tolerance and its reason are written
into the reference file beside the value. Differences between random-weight images after many
layers are chaotic: never record them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch

from .. import settings, validate

# what a reader is meant to use (the reference page lists these)
__all__ = ["approx", "Recorded", "record"]

RECORD_ENV = settings.RECORD  # its meaning: helpers.settings
# A bare float is "exact by construction": the same arithmetic on any CPU, up to rounding in the
# last few bits of a float32 (vectorised and scalar kernels round differently).
EXACT_RTOL = 1e-5
EXACT_ATOL = 1e-8


@dataclass(frozen=True)
class approx:  # noqa: N801 - reads as a function at the record(...) call
    """A recorded statistic with its tolerance: `record(mean=approx(m, rtol=0.01, why="..."))`.

    `why` says where the spread comes from (which CPU kernels, how many float32 reductions), so a
    reviewer can judge the tolerance; the reference file keeps all three.
    """

    value: float
    rtol: float = 0.0
    atol: float = 0.0
    why: str = ""

    def __post_init__(self):
        # a bool or a string is no statistic (float() would take both), a NaN tolerance no tolerance
        number = validate.number("approx(value=...)", self.value)
        rtol = validate.number("approx(rtol=...)", self.rtol, minimum=0)
        atol = validate.number("approx(atol=...)", self.atol, minimum=0)
        if rtol == 0 and atol == 0:
            raise ValueError(f"approx(rtol={rtol}, atol={atol}): give a positive rtol or atol")
        if not isinstance(self.why, str) or len(self.why.strip()) < 10:
            raise ValueError("approx(why=...): say in words why this figure needs a tolerance (at least a short sentence)")
        object.__setattr__(self, "value", number)
        for name, checked in (("rtol", rtol), ("atol", atol)):
            if type(getattr(self, name)) not in (int, float):  # a NumPy or tensor scalar: JSON takes Python numbers
                object.__setattr__(self, name, checked)

    def as_json(self) -> dict:
        return {"approx": self.value, "rtol": self.rtol, "atol": self.atol, "why": self.why}

Figure = None | bool | int | float | str | list | dict


def normalise(value, key: str = "value") -> Figure:
    """Turn a figure into plain JSON data: shapes become lists of ints, scalars become numbers.

    Anything else (an image, a large tensor, an object) is refused, because a reference file must
    stay small enough to review by eye.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, approx):
        return value.as_json()
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"figure {key!r} is {number}; record only finite numbers")
        return number
    if isinstance(value, torch.Size):
        return [int(n) for n in value]
    if isinstance(value, (torch.Tensor, np.ndarray)) and value.ndim == 0:
        return normalise(value.item(), key)
    if isinstance(value, (list, tuple)):
        return [normalise(item, f"{key}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"figure {key!r} has a non-string key {k!r}; JSON keys must be strings")
            out[k] = normalise(v, f"{key}.{k}")
        return out
    raise TypeError(
        f"figure {key!r} has type {type(value).__name__}{f' of shape {tuple(value.shape)}' if hasattr(value, 'shape') else ''}; "
        "accepted: numbers, strings, bools, None, shapes (torch.Size), 0-d tensors, and lists or dicts of those "
        "(record a summary such as its shape or mean, not the whole object)"
    )


class Recorded(dict):
    """The normalised figures of one `record(...)` call: a plain dict that a notebook shows as a
    compact table (one row per leaf, nested keys joined with dots), folded under a summary line,
    instead of a long dict dump at the end of a chapter."""

    def rows(self) -> list[tuple[str, str, str]]:
        """(figure, value, how the regression compares it) for every leaf, in key order."""
        out = []

        def walk(prefix: str, value) -> None:
            if isinstance(value, dict) and "approx" in value:
                tol = f"rtol {value['rtol']:g}" + (f", atol {value['atol']:g}" if value["atol"] else "")
                out.append((prefix, f"{value['approx']:.6g}", f"{tol}: {value['why']}"))
            elif isinstance(value, dict) and value:
                for key in sorted(value):
                    walk(f"{prefix}.{key}" if prefix else key, value[key])
            else:
                how = "rtol 1e-05 (exact)" if isinstance(value, float) else "exact"
                out.append((prefix, json.dumps(value) if not isinstance(value, str) else value, how))

        walk("", dict(self))
        return out

    def _repr_html_(self) -> str:
        from html import escape

        rows = self.rows()
        body = "".join(
            f"<tr><td><code>{escape(name)}</code></td><td>{escape(value)}</td><td>{escape(how)}</td></tr>"
            for name, value, how in rows
        )
        return (
            f"<details><summary>Recorded for the regression test: {len(rows)} figures</summary>"
            "<table><thead><tr><th>figure</th><th>value</th><th>compared</th></tr></thead>"
            f"<tbody>{body}</tbody></table></details>"
        )

    def __repr__(self) -> str:
        return f"Recorded({len(self)} figures: {', '.join(sorted(self))})"


def record(**figures) -> Recorded:
    """Add `figures` to this run's record and return them normalised.

    Repeated calls merge; recording the same key twice is an error, because the reference would
    silently keep only one of the two values.
    """
    if not figures:
        raise ValueError("record() needs at least one figure, e.g. record(image_shape=image.shape)")
    clean = {key: normalise(value, key) for key, value in figures.items()}
    target = settings.record_path()
    if target is not None:
        existing = json.loads(target.read_text()) if target.exists() else {}
        repeated = sorted(set(existing) & set(clean))
        if repeated:
            raise ValueError(f"figures recorded twice in one run: {', '.join(repeated)}")
        existing.update(clean)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(existing, indent=2, sort_keys=True) + "\n")
    return Recorded(clean)
