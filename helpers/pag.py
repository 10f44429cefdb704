"""Which modules a PAG layer selector perturbs, known before the pipeline is called.

diffusers checks `pag_applied_layers` only when the PAG pipeline is called, after the prompt has
been encoded, and then raises on the first entry that matches nothing; an entry that matches too
much (`"blocks.1"` also selects `blocks.10` to `blocks.19`, diffusers issue #13594) raises nothing.
`layer_matches(denoiser, layers)` answers both questions up front, on a real model or on a
full-size one built on the meta device (`helpers.models.full_size.build("sdxl-unet")`):

    report = layer_matches(pipe.unet, ["mid", "down.block_2"])
    report["mid"]            # ['mid_block.attentions.0.transformer_blocks.0.attn1', ...]
    report["down.block_2"]   # []: the call would raise

It does not re-implement the selection: it runs diffusers' own
`PAGMixin._set_pag_attn_processor` on a stand-in pipeline that holds `denoiser`, with marker
processors, reads which modules received a marker, and puts every original processor back.
"""

from __future__ import annotations

import difflib
import re
import types

import torch

__all__ = ["layer_matches", "longer_numbers", "check_layers"]

_MARK = "pag-selection-marker"


def _entries(layers) -> list[str]:
    if isinstance(layers, str):
        entries = [layers]
    elif isinstance(layers, (list, tuple)) and layers and all(isinstance(entry, str) for entry in layers):
        entries = list(layers)
    else:
        raise TypeError(f"layers must be a str or a non-empty list of str (as pag_applied_layers), got {layers!r:.80}")
    for entry in entries:
        _pattern(entry, "layers")
    return entries


def _pattern(entry: str, name: str) -> re.Pattern:
    # diffusers feeds each entry to re.search: "" matches every module, a broken pattern raises re.error
    if not entry.strip():
        raise ValueError(f"{name}: an empty entry {entry!r} would match every self-attention module; name a block (e.g. 'mid')")
    try:
        compiled = re.compile(entry)
    except re.error as error:
        raise ValueError(f"{name}: {entry!r} is not a valid regular expression ({error}); diffusers uses re.search") from None
    found = compiled.search("\x00")  # an empty match in a name that holds no block: it matches every name
    if found is not None and found.group() == "":
        raise ValueError(
            f"{name}: {entry!r} matches the empty string (an empty alternative such as 'mid|'?), so re.search finds it in "
            "every self-attention module; every entry must name a block (e.g. 'mid', 'down.*attentions')"
        )
    return compiled


def _check_denoiser(denoiser) -> None:
    if isinstance(denoiser, torch.nn.Module):
        if callable(getattr(denoiser, "encode", None)) and callable(getattr(denoiser, "decode", None)):
            # an autoencoder's mid-block attention is no PAG layer: PAG perturbs the denoiser only
            raise TypeError(f"denoiser must be the pipeline's denoiser (pipe.unet or pipe.transformer), got the "
                            f"autoencoder {type(denoiser).__name__}")
        return
    parts = [part for part in ("unet", "transformer") if isinstance(getattr(denoiser, part, None), torch.nn.Module)]
    hint = f"; this looks like a pipeline: pass pipe.{parts[0]}" if parts else ""
    raise TypeError(
        f"denoiser must be a torch.nn.Module (pipe.unet or pipe.transformer), got {type(denoiser).__name__}{hint}"
    )


def layer_matches(denoiser: torch.nn.Module, layers) -> dict[str, list[str]]:
    """For each entry of `layers`: the names of the modules diffusers 0.42.1 would perturb.

    - `denoiser`: the pipeline's `unet` or `transformer` (real or on the meta device).
    - `layers`: a str or a list of str, as `pag_applied_layers`.
    An entry that matches nothing maps to `[]` (the PAG call would raise
    "Cannot find PAG layer to set attention processor for: <entry>"). The model is left exactly
    as it was: every attention module keeps its processor object.

    Refuses: a `denoiser` that is not a module (a pipeline gets the hint to pass `pipe.unet`) or
    holds no diffusers `Attention` module (e.g. a transformers text encoder); `layers`
    that is not a str or a non-empty list of str; empty entries (they match everything) and
    entries that are not valid regular expressions.
    """
    _check_denoiser(denoiser)
    entries = _entries(layers)
    from diffusers.models.attention_processor import Attention
    from diffusers.pipelines.pag.pag_utils import PAGMixin

    if not any(isinstance(module, Attention) for module in denoiser.modules()):
        raise ValueError(
            f"denoiser ({type(denoiser).__name__}) holds no diffusers Attention module, so PAG has nothing to perturb; "
            "pass the pipeline's unet or transformer"
        )

    saved = {name: module.processor for name, module in denoiser.named_modules() if hasattr(module, "processor")}
    stand_in = types.SimpleNamespace(unet=denoiser, _pag_attn_processors=(_MARK, _MARK))
    report = {}
    try:
        for entry in entries:
            try:
                PAGMixin._set_pag_attn_processor(stand_in, [entry], do_classifier_free_guidance=True)
            except ValueError as error:
                if not str(error).startswith("Cannot find PAG layer"):
                    raise
            report[entry] = [n for n, m in denoiser.named_modules() if getattr(m, "processor", None) is _MARK]
            for name, module in denoiser.named_modules():
                if getattr(module, "processor", None) is _MARK:
                    module.processor = saved[name]
    finally:
        modules = dict(denoiser.named_modules())
        for name, processor in saved.items():
            modules[name].processor = processor
    return report


def longer_numbers(entry: str, names: list[str]) -> list[str]:
    """The names that `entry` matches only inside a longer number: with `"blocks.1"` or
    `"blocks.(1|2)"`, `transformer_blocks.12.attn1` (every match of the entry there ends on a digit
    that another digit follows, or starts on a digit that another digit precedes). Such matches
    are almost never meant; anchor the entry (`r"blocks\\.1\\."`) to drop them.

    Refuses: an `entry` that is not a non-empty str or not a valid regular expression, and
    `names` that is not a list of str (a single str would be read letter by letter)."""
    if not isinstance(entry, str):
        raise TypeError(f"entry must be a str, got {type(entry).__name__}")
    pattern = _pattern(entry, "entry")
    if isinstance(names, str) or not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        raise TypeError(f"names must be a list of module names (str), got {type(names).__name__} {names!r:.60}")
    whole = _whole_numbers(entry)
    flagged = []
    for name in names:
        if pattern.search(name) is None:
            continue
        if whole is not None:
            # the regex engine tries every way to match: one that neither starts nor ends inside a number
            inside_only = whole.search(name) is None
        else:  # inline global flags: only the matches re.finditer reports are checked
            spans = [m.span() for m in pattern.finditer(name)]
            inside_only = all(_inside(name, start) or _inside(name, end) for start, end in spans)
        if inside_only:
            flagged.append(name)
    return flagged


# at a position p: the character before p and the one at p are both digits, i.e. p splits a number
_SPLITS_A_NUMBER = r"(?<=\d)\d"


def _whole_numbers(entry: str) -> re.Pattern | None:
    """`entry`, constrained so that a match neither starts nor ends inside a number; None when the
    entry cannot be wrapped (inline global flags such as `(?i)` must open the pattern)."""
    try:
        return re.compile(f"(?!{_SPLITS_A_NUMBER})(?:{entry})(?!{_SPLITS_A_NUMBER})")
    except re.error:
        return None


def _inside(name: str, position: int) -> bool:
    return 0 < position < len(name) and name[position - 1].isdigit() and name[position].isdigit()


def check_layers(denoiser: torch.nn.Module, layers) -> dict[str, list[str]]:
    """`layer_matches`, but a selector diffusers would refuse at call time raises here, now.

    ValueError names every entry that matches nothing, and every entry that matches a module
    only inside a longer number (`"blocks.1"` or `"blocks.(1|2)"` -> `blocks.12`), with the matched
    names.

    Refuses: what `layer_matches` refuses, then the selectors above.
    """
    report = layer_matches(denoiser, layers)
    empty = [entry for entry, names in report.items() if not names]
    too_much = {entry: longer_numbers(entry, names) for entry, names in report.items()}
    too_much = {entry: names for entry, names in too_much.items() if names}
    problems = []
    if empty:
        problems.append(f"match no self-attention module: {', '.join(map(repr, empty))}{_what_matches(denoiser, empty)}")
    for entry, names in too_much.items():
        problems.append(f"{entry!r} also matches inside longer numbers: {', '.join(names[:4])}{' ...' if len(names) > 4 else ''}")
    if problems:
        raise ValueError("layers: pag_applied_layers entries that " + "; ".join(problems))
    return report


def _what_matches(denoiser: torch.nn.Module, empty: list[str]) -> str:
    """What an entry must look like, from `denoiser`'s self-attention module names: the blocks
    that hold one, and for each failed entry a close match (another case, a near spelling)."""
    from diffusers.models.attention_processor import Attention

    names = [n for n, m in denoiser.named_modules() if isinstance(m, Attention) and not m.is_cross_attention]
    blocks = []
    for name in names:
        parts = name.split(".")
        block = ".".join(parts[:2]) if len(parts) > 1 and parts[1].isdigit() else parts[0]
        if block not in blocks:
            blocks.append(block)
    examples = [e for e in ("mid", "down", "up") if any(e in name for name in names)] + blocks
    hints = []
    for entry in empty:
        close = []
        if any(re.search(entry, name, re.IGNORECASE) for name in names):
            close.append(entry.lower() if any(re.search(entry.lower(), n) for n in names) else f"{entry} in another case")
        close += [c for c in difflib.get_close_matches(entry, examples, n=2) if c not in close]
        if close:
            hints.append(f"{entry!r}: did you mean {' or '.join(map(repr, close))}? (diffusers uses re.search: case matters)")
    shown = ", ".join(map(repr, examples[:10])) + (" ..." if len(examples) > 10 else "")
    return (f" ({'; '.join(hints)})" if hints else "") + (
        f"; each entry of layers must match part of a self-attention module's name, e.g. {shown}"
    )
