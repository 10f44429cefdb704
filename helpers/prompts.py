"""Long prompts and prompt weighting the Automatic1111 way, as `prompt_embeds` diffusers accepts.

- `parse(prompt)`: A1111's attention syntax, `(word)` x1.1, `[word]` x(1/1.1), `(word:1.3)`, escapes
  `\\(` `\\)` `\\[` `\\]` `\\\\`, and `BREAK`, into a list of `Run(text, weight)` and `BREAK`.
  Unlike A1111 (modules/prompt_parser.py, `parse_prompt_attention`), which silently closes
  unbalanced brackets and reads `(word:abc)` as text, a malformed prompt raises `PromptSyntaxError`
  (a ValueError) that names the position: a typo should not quietly change the weights. A weight
  with spaces, `(word: 1.3)`, which A1111 reads as 1.3, is refused too.
- `chunk(runs, tokenizer)`: A1111's layout (modules/sd_hijack_clip.py, `tokenize_line`): chunks of
  `tokenizer.model_max_length - 2` prompt tokens (75 for CLIP), each wrapped in BOS ... EOS and
  padded; `BREAK` starts a new chunk; a chunk that would split a phrase moves the words after
  the last comma (within `comma_backtrack` tokens) to the next chunk.
- `encode(...)` / `weight(...)`: each chunk through the text encoder on its own, concatenated
  along the sequence (`[1, 77*k, D]`), then per-token weights applied by one of the methods in
  `METHODS` (A1111's scaling with mean restoration, compel's scaling about the empty prompt, ...).
- `prompt_embeds(pipe, prompt, negative_prompt)`: keyword arguments for a StableDiffusionPipeline
  or StableDiffusionXLPipeline call, the negative padded with empty-prompt chunks to the same length.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

import torch

from . import validate

# what a reader is meant to use (the reference page lists these)
__all__ = [
    "Run", "Break", "BREAK", "PromptSyntaxError", "parse", "Chunk", "chunk", "encode", "weights_tensor",
    "weight", "encode_prompt", "prompt_embeds",
]

ROUND = 1.1  # A1111: "(abc) - increases attention to abc by a multiplier of 1.1"
SQUARE = 1 / 1.1
COMMA_BACKTRACK = 20  # A1111's default for opts.comma_padding_backtrack
METHODS = ("a1111", "no-norm", "lpw", "compel")
# A1111's weight pattern is `:\s*([+-]?[.\d]+)\s*\)`, which also takes "1.2.3" and then crashes in
# float(); this one takes only numbers, and no spaces: A1111 reads `(word: 1.3)` as weight 1.3,
# this parser refuses it (a deliberate strictness, kept so that behaviour does not change).
NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)")
BREAK_WORD = re.compile(r"\s*\bBREAK\b\s*")  # A1111's re_break
SPECIAL = "()[]:\\"
ESCAPABLE = "()[]\\"


class Run(NamedTuple):
    """A piece of prompt text and the weight of every token it becomes."""

    text: str
    weight: float


class Break:
    """The `BREAK` keyword: the next text starts a new chunk."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "BREAK"


BREAK = Break()


class PromptSyntaxError(ValueError):
    """A malformed prompt; `position` is the 0-based index of the offending character."""

    def __init__(self, prompt: str, position: int, problem: str):
        self.prompt, self.position = prompt, position
        start = max(0, position - 20)
        shown = repr(prompt[start : position + 20])
        # the caret under the offending character: past the line's leading space and the opening
        # quote, each character before it as wide as repr shows it (an escape takes several columns)
        column = 2 + sum(2 if c == shown[0] else len(repr(c)) - 2 for c in prompt[start:position])
        caret = " " * column + "^"
        super().__init__(f"{problem} at position {position} of the prompt:\n {shown}\n{caret}")


def parse(prompt: str) -> list[Run | Break]:
    """Split `prompt` into weighted runs the way A1111 weights them, or raise PromptSyntaxError.

    Guarantees: the runs' texts joined (with each BREAK replaced by a space) are the prompt without
    its bracket syntax; nested brackets multiply in A1111's order (so `((a))` gives exactly
    `1.1 * 1.1`, and the float values equal A1111's); adjacent runs of equal weight are merged;
    an empty prompt gives `[Run("", 1.0)]`. `BREAK` (upper case, a whole word) splits at any
    depth: A1111 splits only where the enclosing brackets' factors multiply to exactly 1 (outside
    brackets, or `(a BREAK b:1)`) and elsewhere encodes the word BREAK with weight -1 times those
    factors (-1.1 inside `( )`). A backslash before any other character stays a backslash (A1111
    drops it).

    Refuses (PromptSyntaxError, a ValueError, naming the position): a `)` or `]` with nothing
    open or closing the other kind, a bracket left open, `(word:x)` where `x` is not a number
    written without spaces (A1111 allows `(word: 1.3)`; this parser does not), and `[a:b]`
    (A1111's prompt editing, a schedule rather than a weight, is not supported).
    """
    if not isinstance(prompt, str):
        raise TypeError(f"parse(prompt) needs a str, got {type(prompt).__name__}")
    items: list[list | Break] = []  # [text, weight] pairs, mutable while brackets close
    open_groups: list[tuple[str, int, int]] = []  # (bracket, first item index, position)

    def multiply(start: int, factor: float) -> None:
        for item in items[start:]:
            if item is not BREAK:
                item[1] *= factor

    def add_text(text: str) -> None:
        for i, part in enumerate(BREAK_WORD.split(text)):
            if i:
                items.append(BREAK)
            items.append([part, 1.0])

    i, n = 0, len(prompt)
    while i < n:
        char = prompt[i]
        if char == "\\":
            if i + 1 < n and prompt[i + 1] in ESCAPABLE:
                items.append([prompt[i + 1], 1.0])
                i += 2
            else:
                items.append(["\\", 1.0])
                i += 1
        elif char in "([":
            open_groups.append((char, len(items), i))
            i += 1
        elif char in ")]":
            close(prompt, i, char, open_groups, multiply, ROUND if char == ")" else SQUARE)
            i += 1
        elif char == ":":
            closer = next_special(prompt, i + 1)
            inner = open_groups[-1][0] if open_groups else None
            if inner == "(" and closer is not None and prompt[closer] == ")":
                number = prompt[i + 1 : closer]
                if not NUMBER.fullmatch(number):
                    raise PromptSyntaxError(
                        prompt, i + 1, f"the weight {number!r} in (text:weight) is not a number like 1.3 (no spaces)"
                    )
                close(prompt, closer, ")", open_groups, multiply, float(number))
                i = closer + 1
            elif inner == "[" and closer is not None and prompt[closer] == "]":
                raise PromptSyntaxError(
                    prompt, i, "'[a:b]' is A1111's prompt editing (a schedule), which this parser does not support"
                )
            else:
                items.append([":", 1.0])
                i += 1
        else:
            end = next_special(prompt, i)
            end = n if end is None else end
            add_text(prompt[i:end])
            i = end
    if open_groups:
        bracket, _, position = open_groups[-1]
        raise PromptSyntaxError(prompt, position, f"'{bracket}' is never closed")
    return merge(items)


def next_special(prompt: str, start: int) -> int | None:
    """Index of the first bracket, colon or backslash at or after `start`, or None.

    Refuses: a `prompt` that is not a str (TypeError), a `start` that is not an int >= 0.
    """
    if not isinstance(prompt, str):
        raise TypeError(f"prompt must be a str, got {type(prompt).__name__}")
    validate.integer("start", start, minimum=0)
    for j in range(start, len(prompt)):
        if prompt[j] in SPECIAL:
            return j
    return None


def close(prompt, position, bracket, open_groups, multiply, factor) -> None:
    """Close the innermost open group with `bracket`, multiplying its runs' weights by `factor`.

    A step of `parse`. Refuses (PromptSyntaxError): a bracket with nothing open, or one that
    closes the other kind.
    """
    if not open_groups:
        raise PromptSyntaxError(prompt, position, f"'{bracket}' closes nothing (escape it as '\\{bracket}')")
    opened, start, where = open_groups[-1]
    if {"(": ")", "[": "]"}[opened] != bracket:
        raise PromptSyntaxError(prompt, position, f"'{bracket}' cannot close the '{opened}' opened at position {where}")
    open_groups.pop()
    multiply(start, factor)


def merge(items: list) -> list[Run | Break]:
    """Drop empty texts and merge neighbours of equal weight (A1111 merges; empties add no tokens).

    Refuses: `items` that are not a list of BREAK and (text, weight) pairs.
    """
    _check_runs("items", items)
    out: list[Run | Break] = []
    for item in items:
        if item is BREAK:
            out.append(BREAK)
        elif item[0]:
            if out and out[-1] is not BREAK and out[-1].weight == item[1]:
                out[-1] = Run(out[-1].text + item[0], out[-1].weight)
            else:
                out.append(Run(item[0], item[1]))
    return out or [Run("", 1.0)]


@dataclass(frozen=True)
class Chunk:
    """One text-encoder input: BOS, up to `size` prompt tokens, EOS, padding; a weight per id."""

    ids: tuple[int, ...]
    weights: tuple[float, ...]
    tokens: int  # prompt tokens in this chunk (without BOS, EOS and padding)


def _check_runs(name: str, runs) -> None:
    if isinstance(runs, (str, bytes)) or not isinstance(runs, (list, tuple)):
        raise TypeError(f"{name} must be the list of runs from parse(prompt), got {type(runs).__name__}")
    for i, run in enumerate(runs):
        if run is BREAK:
            continue
        if not isinstance(run, (list, tuple)) or len(run) != 2 or not isinstance(run[0], str):
            raise TypeError(f"{name}[{i}] must be a Run(text, weight) or BREAK, got {run!r:.60}")
        validate.number(f"{name}[{i}].weight", run[1])


def check_tokenizer(tokenizer) -> int:
    """The chunk size, `model_max_length - 2`; refuses tokenizers without BOS/EOS/pad or a length.

    Refuses (ValueError naming the attribute): a `tokenizer` without bos/eos/pad ids, or whose
    model_max_length is not an int in [3, 4096] (a tokenizer saved without one reports ~1e30).
    """
    if isinstance(tokenizer, (str, bytes)) or tokenizer is None:
        raise TypeError(f"tokenizer must be a transformers tokenizer (e.g. pipe.tokenizer), got {type(tokenizer).__name__}")
    for name in ("bos_token_id", "eos_token_id", "pad_token_id"):
        if getattr(tokenizer, name, None) is None:
            raise ValueError(f"the tokenizer has no {name}; A1111 chunking needs BOS, EOS and padding ids (a CLIP tokenizer)")
    length = getattr(tokenizer, "model_max_length", None)
    if not isinstance(length, int) or not 3 <= length <= 4096:
        raise ValueError(f"tokenizer.model_max_length is {length!r}; expected the text encoder's context (77 for CLIP)")
    return length - 2


def chunk(runs, tokenizer, comma_backtrack: int = COMMA_BACKTRACK, breaks: bool = True) -> list[Chunk]:
    """Tokenize `runs` (from `parse`) into chunks the way A1111's `tokenize_line` does.

    - Each run is tokenized on its own, without special tokens or truncation.
    - A chunk holds `tokenizer.model_max_length - 2` tokens (75 for CLIP): ids are
      `[BOS] + tokens + [EOS] + [pad] * (75 - len(tokens))`, weights 1.0 on BOS, EOS and padding.
      With `pad == EOS` (SD 1.x's tokenizer) this is A1111's layout exactly; with another pad token,
      A1111 also writes pad after the first EOS (`process_tokens`).
    - `BREAK` closes the current chunk, even an empty one; `breaks=False` reads it as the word.
    - `comma_backtrack` (A1111's "comma padding backtrack", default 20; 0 switches it off): when a
      chunk is full and its last comma is at most that many tokens back, the tokens after the comma
      move to the next chunk.
    Always returns at least one chunk; a trailing empty chunk is not emitted (as in A1111).

    Refuses: the prompt string instead of its runs, runs that are not Run/BREAK, a tokenizer as
    `check_tokenizer` refuses it, a `comma_backtrack` that is not an int in [0, size - 1] (bools
    included), a `breaks` that is not a bool.
    """
    if isinstance(runs, str):
        raise TypeError("chunk() takes the runs from parse(prompt), not the prompt string")
    _check_runs("runs", runs)
    size = check_tokenizer(tokenizer)
    validate.integer("comma_backtrack", comma_backtrack, minimum=0, maximum=size - 1)
    validate.boolean("breaks", breaks)
    comma = tokenizer.convert_tokens_to_ids(",</w>")
    comma = comma if comma != tokenizer.unk_token_id else None
    chunks: list[Chunk] = []
    ids: list[int] = []
    weights: list[float] = []
    last_comma = -1

    def emit() -> None:
        nonlocal ids, weights, last_comma
        pad = size - len(ids)
        chunks.append(
            Chunk(
                ids=(tokenizer.bos_token_id, *ids, tokenizer.eos_token_id, *[tokenizer.pad_token_id] * pad),
                weights=(1.0, *weights, 1.0, *[1.0] * pad),
                tokens=len(ids),
            )
        )
        ids, weights, last_comma = [], [], -1

    for run in runs:
        if run is BREAK and breaks:
            emit()
            continue
        text, weight = ("BREAK", 1.0) if run is BREAK else run
        for token in tokenizer(text, add_special_tokens=False, truncation=False, verbose=False)["input_ids"]:
            if token == comma:
                last_comma = len(ids)
            elif comma_backtrack and len(ids) == size and last_comma != -1 and len(ids) - last_comma <= comma_backtrack:
                moved_ids, moved_weights = ids[last_comma + 1 :], weights[last_comma + 1 :]
                ids, weights = ids[: last_comma + 1], weights[: last_comma + 1]
                emit()
                ids, weights = moved_ids, moved_weights
            if len(ids) == size:
                emit()
            ids.append(token)
            weights.append(float(weight))
    if ids or not chunks:
        emit()
    return chunks


def pad_chunks(chunks: list[Chunk], count: int, tokenizer) -> list[Chunk]:
    """`chunks` followed by empty-prompt chunks up to `count` (A1111's `pad_cond_uncond`, compel's padding
    of tensors built in one call or passed to `pad_conditioning_tensors_to_same_length`).

    Refuses: `chunks` that is not a non-empty list of Chunk, a `count` that is not an int or is
    below len(chunks), chunks whose length differs from the tokenizer's.
    """
    _check_chunks(chunks)
    count = validate.positive_int("count", count)
    if any(len(piece.ids) != check_tokenizer(tokenizer) + 2 for piece in chunks):
        raise ValueError("chunks were made with a tokenizer of another model_max_length than tokenizer")
    if count < len(chunks):
        raise ValueError(f"cannot pad {len(chunks)} chunks down to {count}")
    return chunks + chunk([Run("", 1.0)], tokenizer) * (count - len(chunks))


def _check_chunks(chunks) -> None:
    if isinstance(chunks, Chunk) or not isinstance(chunks, (list, tuple)):
        raise TypeError(f"chunks must be a list of Chunk (from chunk(...)), got {type(chunks).__name__}")
    if not chunks:
        raise ValueError("chunks must hold at least one Chunk, got an empty list")
    for i, piece in enumerate(chunks):
        if not isinstance(piece, Chunk):
            raise TypeError(f"chunks[{i}] must be a Chunk (from chunk(...)), got {type(piece).__name__}")


def _check_text_encoder(text_encoder) -> None:
    if not isinstance(text_encoder, torch.nn.Module) or not hasattr(text_encoder, "device"):
        raise TypeError(
            f"text_encoder must be a transformers text model (e.g. pipe.text_encoder), got {type(text_encoder).__name__}"
        )


def _check_layer(layer) -> None:
    if layer is not None:
        validate.integer("layer", layer)


@torch.no_grad()
def encode(chunks: list[Chunk], text_encoder, layer: int | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Encode each chunk on its own and concatenate: (`[1, 77*k, D]` hidden states, pooled).

    - layer None: `last_hidden_state` (what StableDiffusionPipeline uses, called the same way, so a
      one-chunk prompt gives its `prompt_embeds` bit for bit); an int: `hidden_states[layer]`
      (SDXL uses -2, without the final layer norm).
    - pooled: the projected EOS embedding (`text_embeds`) of the first chunk when the encoder has a
      projection (SDXL's second encoder), else None. A1111 also takes the first chunk's.

    Refuses: an empty or ill-typed `chunks`, a `text_encoder` that is not a torch text model, a
    `layer` that is not an int (or None) or lies outside the encoder's hidden states.
    """
    _check_chunks(chunks)
    _check_text_encoder(text_encoder)
    _check_layer(layer)
    if layer is not None:
        layers = getattr(getattr(text_encoder, "config", None), "num_hidden_layers", None)
        if isinstance(layers, int) and not -(layers + 1) <= layer <= layers:
            raise ValueError(f"layer must index the {layers + 1} hidden states, in [{-(layers + 1)}, {layers}], got {layer}")
    device = text_encoder.device
    hidden, pooled = [], None
    for i, piece in enumerate(chunks):
        ids = torch.tensor([piece.ids], dtype=torch.long, device=device)
        if layer is None:
            output = text_encoder(ids, attention_mask=None)
            hidden.append(output[0])
        else:
            output = text_encoder(ids, output_hidden_states=True)
            hidden.append(output.hidden_states[layer])
        if i == 0 and output[0].ndim == 2:
            pooled = output[0]
    return torch.cat(hidden, dim=1), pooled


def weights_tensor(chunks: list[Chunk], like: torch.Tensor) -> torch.Tensor:
    """The chunks' per-token weights, flattened, in `like`'s dtype and device.

    Refuses: ill-typed `chunks`, a `like` that is not a tensor.
    """
    _check_chunks(chunks)
    if not isinstance(like, torch.Tensor):
        raise TypeError(f"like must be a tensor (the embeddings), got {type(like).__name__}")
    return torch.tensor([w for piece in chunks for w in piece.weights], dtype=like.dtype, device=like.device)


def weight(z: torch.Tensor, weights: torch.Tensor, method: str = "a1111", empty: torch.Tensor | None = None,
           chunk_length: int = 77) -> torch.Tensor:
    """Apply per-token `weights` ([T]) to embeddings `z` ([1, T, D]); a new tensor.

    - "a1111": `z * w`, then each chunk of `chunk_length` rescaled so its mean over tokens and
      channels is what it was (A1111's "Original" emphasis, sd_emphasis.py).
    - "no-norm": `z * w` (A1111's "No norm" emphasis).
    - "lpw": `z * w`, the mean restored over the whole prompt at once, the means computed in float32
      and cast back to z's dtype, the ratio and products in z's dtype (lpw_stable_diffusion's
      `get_weighted_text_embeddings`).
    - "compel": `empty + (z - empty) * w` where `w != 1`, `z` elsewhere; `empty` is the encoding of
      the empty prompt, one chunk, repeated over the chunks (compel's `build_weighted_embedding_tensor`,
      the formula only). The compel package, for a weight below 1, also blends this embedding toward
      the prompt encoded with the word masked out of attention (or removed); that blend is not
      reproduced here, so weight 0 here is not the compel package's weight 0.

    Refuses: an unknown method (with a did-you-mean), `z`/`weights` that are not tensors of shapes
    [1, T, D] and [T], NaN or infinite values in either, a `chunk_length` that is not an int >= 1
    or does not divide T, "compel" without `empty`, and, for "a1111" (per weighted chunk) and
    "lpw" (over the prompt, when any weight is not 1), a mean of exactly 0 before weighting (the
    restoration would zero every token) or after it (a division by 0).
    """
    _check_method(method)
    for name, tensor in (("z", z), ("weights", weights)):
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"{name} must be a tensor, got {type(tensor).__name__}")
        if not torch.isfinite(tensor).all():
            raise ValueError(f"{name} must hold finite numbers only; it holds NaN or infinite values")
    chunk_length = validate.positive_int("chunk_length", chunk_length)
    if z.ndim != 3 or z.shape[0] != 1 or weights.shape != (z.shape[1],):
        raise ValueError(f"z must be [1, T, D] and weights [T]; got {tuple(z.shape)} and {tuple(weights.shape)}")
    if empty is not None:  # checked for every method: a wrong encoding is a mistake even where unused
        if not isinstance(empty, torch.Tensor):
            raise TypeError(f"empty must be a tensor (the empty prompt's encoding) or None, got {type(empty).__name__}")
        if tuple(empty.shape) != (1, chunk_length, z.shape[2]):
            raise ValueError(
                f"empty must be the empty prompt's encoding of shape [1, {chunk_length}, {z.shape[2]}] (one chunk, z's "
                f"width), got {tuple(empty.shape)}" + ("" if method == "compel" else f"; method {method!r} does not use it")
            )
    if z.shape[1] % chunk_length:
        raise ValueError(f"z has {z.shape[1]} tokens, not a multiple of chunk_length={chunk_length}")
    w = weights.to(z.dtype)[None, :, None]
    if method == "no-norm":
        return z * w
    if method == "lpw":
        before = z.float().mean(dim=(-2, -1)).to(z.dtype)
        scaled = z * w
        after = scaled.float().mean(dim=(-2, -1)).to(z.dtype)
        if bool((w == 1).all()):  # LPW computes z * (m / m): the same bits, except NaN for m == 0
            return z.clone()
        _check_restorable(before, after, "the prompt")
        return scaled * (before / after)[:, None, None]
    if method == "compel":
        if empty is None or empty.shape != (1, chunk_length, z.shape[2]):
            raise ValueError(f"method 'compel' needs empty= the empty prompt's encoding, [1, {chunk_length}, {z.shape[2]}]")
        base = empty.repeat(1, z.shape[1] // chunk_length, 1)
        return torch.where(w == 1, z, base + (z - base) * w)
    pieces = []
    for start in range(0, z.shape[1], chunk_length):
        piece, piece_w = z[:, start : start + chunk_length], w[:, start : start + chunk_length]
        if bool((piece_w == 1).all()):
            # A1111 computes z * (m / m): the same bits, except that a mean of exactly 0 gives NaN
            pieces.append(piece.clone())
            continue
        before = piece.mean()
        scaled = piece * piece_w
        after = scaled.mean()
        _check_restorable(before, after, f"the chunk at token {start}")
        pieces.append(scaled * (before / after))
    return torch.cat(pieces, dim=1)


def _check_restorable(before: torch.Tensor, after: torch.Tensor, where: str) -> None:
    """Refuse a mean restoration `* before / after` that would zero `where` or is undefined.

    A mean of exactly 0 before weighting (as on a LayerNorm output with gamma 1 and beta 0, the
    tiny SD's encoder) would multiply every token by 0: A1111's formula then returns zeros, which
    no caller wants silently. A mean of 0 after weighting divides by 0.
    """
    if bool((before == 0).any()):
        raise ValueError(
            f"mean restoration is degenerate for {where}: its unweighted mean is exactly 0, so "
            f"old_mean / new_mean would zero every token; use method='no-norm' for such an encoder"
        )
    if bool((after == 0).any()) or not bool(torch.isfinite(before / after).all()):
        raise ValueError(
            f"mean restoration is undefined for {where}: its weighted mean is {after.flatten()[0].item()}; "
            f"use method='no-norm' (weights without the mean restoration)"
        )


def _check_method(method) -> None:
    if not isinstance(method, str) or method not in METHODS:
        try:
            validate.one_of("method", method, METHODS)
        except ValueError as error:
            raise ValueError(f"unknown weighting method: {error}") from None


def encode_prompt(prompt: str, tokenizer, text_encoder, count: int | None = None, layer: int | None = None,
                  method: str = "a1111", comma_backtrack: int = COMMA_BACKTRACK, breaks: bool = True):
    """parse + chunk (+ pad to `count` chunks) + encode + weight: (`[1, 77*k, D]`, pooled, chunks).

    Refuses, before encoding: what parse, chunk, pad_chunks, encode and weight refuse (a
    malformed prompt, a bad method, count, layer, comma_backtrack or breaks).
    """
    _check_method(method)
    _check_text_encoder(text_encoder)
    _check_layer(layer)
    if count is not None:
        validate.positive_int("count", count)
    chunks = chunk(parse(prompt), tokenizer, comma_backtrack=comma_backtrack, breaks=breaks)
    if count is not None:
        chunks = pad_chunks(chunks, count, tokenizer)
    z, pooled = encode(chunks, text_encoder, layer)
    empty = encode(chunk([Run("", 1.0)], tokenizer), text_encoder, layer)[0] if method == "compel" else None
    return weight(z, weights_tensor(chunks, z), method, empty, chunk_length=tokenizer.model_max_length), pooled, chunks


def chunk_count(prompt: str, tokenizer, comma_backtrack: int = COMMA_BACKTRACK, breaks: bool = True) -> int:
    """How many chunks `prompt` takes. Refuses what parse and chunk refuse."""
    return len(chunk(parse(prompt), tokenizer, comma_backtrack=comma_backtrack, breaks=breaks))


def prompt_embeds(pipe, prompt: str, negative_prompt: str = "", method: str = "a1111",
                  comma_backtrack: int = COMMA_BACKTRACK, breaks: bool = True) -> dict:
    """Keyword arguments for `pipe(...)`: `prompt_embeds`, `negative_prompt_embeds` (+ pooled for SDXL).

    Both are `[1, 77*k, D]` with the same k: the shorter is padded with empty-prompt chunks, as
    A1111's "pad prompt/negative prompt" option (off by default) and compel's padding do (A1111's
    default instead runs the two through the UNet separately, which diffusers cannot do, so a
    shorter non-empty negative gives other images than A1111's default). SDXL (a pipeline with `text_encoder_2`):
    both encoders' `hidden_states[-2]` concatenated on the last axis, as diffusers and A1111 do,
    each weighted on its own; the pooled embedding is the second encoder's on the first chunk. When
    `pipe.config.force_zeros_for_empty_prompt` is True, an SDXL negative prompt of "" becomes zeros,
    as diffusers does for `negative_prompt=None` (diffusers encodes a negative prompt of "", so
    this matches `pipe(prompt, negative_prompt=None)`), and as A1111 does whatever the checkpoint
    (`force_zero_negative_prompt`, when every negative prompt of its batch is ''); when it is
    False, "" is encoded.

    Refuses, before encoding: a `pipe` without tokenizer and text_encoder (TypeError), a prompt or
    negative prompt that is not one str or is malformed, an unknown method, a bad comma_backtrack
    or breaks.
    """
    for name, text in (("prompt", prompt), ("negative_prompt", negative_prompt)):
        if not isinstance(text, str):
            raise TypeError(f"{name} must be one str (batch by calling once per prompt), got {type(text).__name__}")
        parse(text)
    if getattr(pipe, "tokenizer", None) is None or getattr(pipe, "text_encoder", None) is None:
        raise TypeError(
            f"pipe must be a pipeline with a CLIP tokenizer and text_encoder (StableDiffusionPipeline or "
            f"StableDiffusionXLPipeline), got {type(pipe).__name__}"
        )
    _check_method(method)
    validate.boolean("breaks", breaks)
    options = {"method": method, "comma_backtrack": comma_backtrack, "breaks": breaks}
    if getattr(pipe, "text_encoder_2", None) is None:
        pairs = [(pipe.tokenizer, pipe.text_encoder, None)]
    else:
        pairs = [(pipe.tokenizer, pipe.text_encoder, -2), (pipe.tokenizer_2, pipe.text_encoder_2, -2)]
    count = max(chunk_count(text, tok, comma_backtrack, breaks) for text in (prompt, negative_prompt) for tok, _, _ in pairs)
    out = {}
    for key, text in (("prompt_embeds", prompt), ("negative_prompt_embeds", negative_prompt)):
        parts, pooled = [], None
        for tokenizer, text_encoder, layer in pairs:
            z, pool, _ = encode_prompt(text, tokenizer, text_encoder, count, layer, **options)
            parts.append(z)
            pooled = pool if pool is not None else pooled
        out[key] = torch.cat(parts, dim=-1)
        if len(pairs) == 2:
            out[key.replace("prompt_embeds", "pooled_prompt_embeds")] = pooled
    if len(pairs) == 2 and negative_prompt == "" and getattr(pipe.config, "force_zeros_for_empty_prompt", False):
        out["negative_prompt_embeds"] = torch.zeros_like(out["negative_prompt_embeds"])
        out["negative_pooled_prompt_embeds"] = torch.zeros_like(out["negative_pooled_prompt_embeds"])
    return out
