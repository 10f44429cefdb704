"""helpers.prompts: the A1111 attention parser, chunking and weighting."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

from helpers import prompts, tiny
from helpers.prompts import BREAK, PromptSyntaxError, Run, chunk, encode, parse, weight

# plain text: no bracket, colon or backslash, and no BREAK keyword (upper-case letters left out)
PLAIN = st.text(alphabet=st.characters(blacklist_characters="()[]:\\", blacklist_categories=("Lu", "Cs")), min_size=1)
WORD = st.text(alphabet="abcdefgh ", min_size=1, max_size=12)


@pytest.fixture(scope="module")
def tokenizer():
    return tiny.clip_tokenizer()


@pytest.fixture(scope="module")
def encoders(tokenizer):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        plain = CLIPTextModel(tiny.clip_text_config(tokenizer)).eval()
        projected = CLIPTextModelWithProjection(tiny.clip_text_config(tokenizer, projection_dim=8)).eval()
    return plain, projected


def test_a1111_doctest_examples():
    # the examples of A1111's parse_prompt_attention docstring (the last one balanced: A1111's own
    # example leaves a '(' open, which A1111 closes silently and this parser refuses)
    assert parse("normal text") == [Run("normal text", 1.0)]
    assert parse("an (important) word") == [Run("an ", 1.0), Run("important", 1.1), Run(" word", 1.0)]
    assert parse("\\(literal\\]") == [Run("(literal]", 1.0)]
    assert parse("(unnecessary)(parens)") == [Run("unnecessaryparens", 1.1)]
    assert parse("a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).)") == [
        Run("a ", 1.0),
        Run("house", 1.5730000000000004),
        Run(" ", 1.1),
        Run("on", 1.0),
        Run(" a ", 1.1),
        Run("hill", 0.55),
        Run(", sun, ", 1.1),
        Run("sky", 1.4641000000000006),
        Run(".", 1.1),
    ]


@given(PLAIN)
def test_plain_text_round_trips(text):
    assert parse(text) == [Run(text, 1.0)]


@given(WORD, st.integers(0, 6), st.integers(0, 6))
def test_nesting_multiplies(word, rounds, squares):
    expected = 1.0
    for _ in range(squares):
        expected *= 1 / 1.1
    for _ in range(rounds):
        expected *= 1.1
    [run] = parse("(" * rounds + "[" * squares + word + "]" * squares + ")" * rounds)
    assert run.text == word
    assert run.weight == pytest.approx(expected, rel=1e-12)


@given(WORD, st.floats(0.0, 5.0).map(lambda x: round(x, 3)))
def test_explicit_weight(word, value):
    # exact: the parser reads the weight with float(), as Python formatted it
    assert parse(f"({word}:{value})") == [Run(word, value)]


@given(st.lists(st.sampled_from(["(", ")", "[", "]", "\\"]), min_size=1), PLAIN)
def test_escapes_are_literal(chars, text):
    escaped = "".join("\\" + c for c in chars)
    assert parse(text + escaped) == [Run(text + "".join(chars), 1.0)]


def test_break_splits_and_eats_spaces():
    assert parse("a cat BREAK a dog") == [Run("a cat", 1.0), BREAK, Run("a dog", 1.0)]
    assert parse("(a BREAK b)") == [Run("a", 1.1), BREAK, Run("b", 1.1)]
    assert parse("aBREAK b") == [Run("aBREAK b", 1.0)]  # not a whole word
    assert parse("") == [Run("", 1.0)]


@pytest.mark.parametrize(
    "prompt, position, words",
    [
        ("a (cat", 2, "never closed"),
        ("a cat)", 5, "closes nothing"),
        ("(a cat]", 6, "cannot close"),
        ("(cat:abc)", 5, "not a number"),
        ("(cat: 1.3)", 5, "not a number"),
        ("(cat:1.2.3)", 5, "not a number"),
        ("[cat:dog:3]", 8, "prompt editing"),
    ],
)
def test_malformed_prompts_name_the_position(prompt, position, words):
    with pytest.raises(PromptSyntaxError, match=words) as caught:
        parse(prompt)
    assert caught.value.position == position
    assert isinstance(caught.value, ValueError)
    assert f"position {position}" in str(caught.value)


def test_colons_outside_a_weight_are_text():
    assert parse("style: photo, (a:b:1.2)") == [Run("style: photo, ", 1.0), Run("a:b", 1.2)]
    with pytest.raises(TypeError):
        parse(None)


def test_chunk_layout(tokenizer):
    size = tokenizer.model_max_length - 2
    chunks = chunk(parse("x" * 80), tokenizer)
    assert [c.tokens for c in chunks] == [size, 80 - size]
    for c in chunks:
        assert len(c.ids) == len(c.weights) == tokenizer.model_max_length
        assert c.ids[0] == tokenizer.bos_token_id and c.ids[c.tokens + 1] == tokenizer.eos_token_id
    assert [len(chunk(parse("x" * n), tokenizer)) for n in (0, 1, 75, 76, 150, 151)] == [1, 1, 1, 2, 2, 3]


def test_break_and_comma_backtrack(tokenizer):
    assert [c.tokens for c in chunk(parse("BREAK a"), tokenizer)] == [0, 1]
    assert len(chunk(parse("a BREAK"), tokenizer)) == 1
    assert len(chunk(parse("a BREAK b"), tokenizer, breaks=False)) == 1
    prompt = "x" * 70 + ", abcdefgh"  # the comma is token 71, the chunk fills inside "abcdefgh"
    assert [c.tokens for c in chunk(parse(prompt), tokenizer)] == [71, 8]
    assert [c.tokens for c in chunk(parse(prompt), tokenizer, comma_backtrack=0)] == [75, 4]
    with pytest.raises(ValueError, match="comma_backtrack"):
        chunk(parse(prompt), tokenizer, comma_backtrack=-1)
    with pytest.raises(TypeError, match="runs from parse"):
        chunk("a cat", tokenizer)


def test_weights_follow_tokens(tokenizer):
    [c] = chunk(parse("a (bc:2)"), tokenizer)
    assert c.weights[: c.tokens + 2] == (1.0, 1.0, 2.0, 2.0, 1.0)  # exact: weights as written


def test_encoder_shapes_and_first_chunk(tokenizer, encoders):
    plain, projected = encoders
    chunks = chunk(parse("y" * 100), tokenizer)
    z, pooled = encode(chunks, plain)
    assert z.shape == (1, 2 * 77, tiny.TEXT_WIDTH) and pooled is None
    z2, pooled2 = encode(chunks, projected, layer=-2)
    assert z2.shape == (1, 154, tiny.TEXT_WIDTH) and pooled2.shape == (1, 8)
    short = "a cat"
    ids = tokenizer(short, padding="max_length", max_length=77, return_tensors="pt").input_ids
    with torch.no_grad():
        reference = plain(ids)[0]
    assert torch.equal(encode(chunk(parse(short), tokenizer), plain)[0], reference)


def test_weighting_methods(tokenizer, encoders):
    _, projected = encoders
    chunks = chunk(parse("a (red:1.5) cat " + "z" * 80), tokenizer)
    z, _ = encode(chunks, projected, layer=-2)
    w = prompts.weights_tensor(chunks, z)
    assert torch.equal(weight(z, torch.ones_like(w)), z)
    a1111 = weight(z, w)
    for start in (0, 77):
        assert torch.allclose(a1111[:, start : start + 77].mean(), z[:, start : start + 77].mean(), rtol=1e-5)
    assert torch.allclose(weight(z, w, "lpw").mean(), z.mean(), rtol=1e-5)
    assert torch.equal(weight(z, w, "no-norm"), z * w[None, :, None])
    empty, _ = encode(chunk(parse(""), tokenizer), projected, layer=-2)
    compel = weight(z, w, "compel", empty)
    base = empty.repeat(1, 2, 1)
    assert torch.allclose(compel, base + (z - base) * w[None, :, None], atol=1e-6)
    with pytest.raises(ValueError, match="unknown weighting"):
        weight(z, w, "invokeai")
    with pytest.raises(ValueError, match="needs empty"):
        weight(z, w, "compel")
    with pytest.raises(ValueError, match=r"\[T\]"):
        weight(z, w[:-1])


def test_mean_restoration_refuses_a_zero_mean():
    """Bug fix: a chunk whose unweighted mean is exactly 0 (the tiny SD encoder's LayerNorm output)
    used to come back all zeros from "a1111" (and "lpw"), since old_mean / new_mean is 0."""
    z = torch.tensor([[[1.0, -1.0], [2.0, -2.0], [3.0, -3.0]]])  # exact: every token's mean is 0
    w = torch.tensor([1.0, 1.5, 1.0])
    assert z.mean() == 0  # exact: sums of x and -x
    for method in ("a1111", "lpw"):
        with pytest.raises(ValueError, match="unweighted mean is exactly 0"):
            weight(z, w, method, chunk_length=3)
        assert torch.equal(weight(z, torch.ones(3), method, chunk_length=3), z)  # weight 1: untouched
    assert torch.equal(weight(z, w, "no-norm", chunk_length=3), z * w[None, :, None])
    shifted = z + 1.0  # mean 1 before weighting: restored as before
    assert torch.allclose(weight(shifted, w, chunk_length=3).mean(), shifted.mean(), rtol=1e-6)


def test_pad_chunks(tokenizer):
    chunks = prompts.pad_chunks(chunk(parse("a"), tokenizer), 3, tokenizer)
    assert len(chunks) == 3 and chunks[1] == chunks[2] == chunk(parse(""), tokenizer)[0]
    with pytest.raises(ValueError):
        prompts.pad_chunks(chunks, 2, tokenizer)


def test_bad_tokenizer_refused(tokenizer):
    class NoBos:
        bos_token_id = None

    with pytest.raises(ValueError, match="bos_token_id"):
        chunk([Run("a", 1.0)], NoBos())


@settings(max_examples=30)
@given(st.lists(st.tuples(WORD, st.sampled_from([0.5, 1.0, 1.1, 1.3])), min_size=1, max_size=6))
def test_token_weights_match_runs(tokenizer, runs):
    # hypothesis and a module fixture: the tokenizer is read-only here
    chunks = chunk([Run(t, w) for t, w in runs], tokenizer)
    expected = []
    for text, w in runs:
        expected += [w] * len(tokenizer(text, add_special_tokens=False)["input_ids"])
    got = [w for c in chunks for w in c.weights[1 : 1 + c.tokens]]
    assert got == expected


def test_encode_returns_tensors_without_grad():
    """Embeddings come back detached (encode runs under no_grad), so a chapter can call .numpy() on them."""
    import helpers
    import helpers.pipelines
    from helpers.prompts import chunk, encode, parse

    ctx = helpers.setup("tiny")
    pipe = helpers.pipelines.load("sd15", ctx)
    hidden, _ = encode(chunk(parse("a red fox"), pipe.tokenizer), pipe.text_encoder)
    assert not hidden.requires_grad
