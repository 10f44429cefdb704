"""helpers.prompts: the A1111 attention parser, chunking and weighting."""

import signal
from types import SimpleNamespace

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

from helpers import prompts
from helpers.models import tiny
from helpers.prompts import BREAK, PromptSyntaxError, Run, chunk, encode, parse, weight

# plain text: no bracket, colon or backslash, and no BREAK keyword (upper-case letters left out)
PLAIN = st.text(alphabet=st.characters(blacklist_characters="()[]:\\", blacklist_categories=("Lu", "Cs")), min_size=1)
WORD = st.text(alphabet="abcdefgh ", min_size=1, max_size=12)


@pytest.fixture(autouse=True)
def fail_instead_of_hanging():
    """A test here that runs past 10 s (each takes well under one) fails rather than hanging: a parser
    or chunker that loops forever is a failure, and mutation testing then need not wait for its limit."""

    def stop(signum, frame):
        raise TimeoutError("this test ran past 10 s: an endless loop?")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


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
        ("(cat:)", 5, "not a number"),  # the ')' right after the colon closes the weight
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


# --- behaviour pinned by mutation testing (tools/mutation.py prompts) ---------------------------------


class RecordingTokenizer:
    """A CLIP tokenizer that records the texts it tokenizes; `comma_unknown` makes ",</w>" unknown to it
    (its unk id then being the id of "x", so that a mistaken comma would show)."""

    def __init__(self, inner, comma_unknown=False):
        self.inner, self.texts, self.comma_unknown = inner, [], comma_unknown
        self.bos_token_id, self.eos_token_id = inner.bos_token_id, inner.eos_token_id
        self.pad_token_id, self.model_max_length = inner.pad_token_id, inner.model_max_length
        x = inner("x", add_special_tokens=False)["input_ids"][0]
        self.unk_token_id = x if comma_unknown else inner.unk_token_id

    def convert_tokens_to_ids(self, token):
        return self.unk_token_id if self.comma_unknown else self.inner.convert_tokens_to_ids(token)

    def __call__(self, text, **kwargs):
        self.texts.append(text)
        return self.inner(text, **kwargs)


class FakeEncoder(torch.nn.Module):
    """A text encoder on the meta device that records each call's ids and keyword arguments."""

    def __init__(self, width=4):
        super().__init__()
        self.width, self.calls = width, []

    @property
    def device(self):
        return torch.device("meta")

    def forward(self, ids, **kwargs):
        self.calls.append((ids, kwargs))
        hidden = torch.zeros(1, ids.shape[1], self.width, device=ids.device)
        output = FakeOutput((hidden,))
        output.hidden_states = (hidden, hidden + 1, hidden + 2)
        return output


class FakeOutput(tuple):
    hidden_states = None


def tokens_of(chunks):
    return [c.tokens for c in chunks]


def message_lines(prompt):
    with pytest.raises(PromptSyntaxError) as caught:
        parse(prompt)
    return caught.value.position, str(caught.value).split("\n")


@pytest.mark.parametrize(
    "prompt",
    ["a (cat", "a cat)", "(cat:abc)", "it's (x", 'say "hi", it\'s \\\\ a\tb (oops', "x" * 30 + " (cat" + "y" * 30, "((a [b"],
)
def test_syntax_error_shows_the_prompt_around_a_caret(prompt):
    """Bug fix: the caret stood one column left of the offending character (under the space before it)."""
    position, lines = message_lines(prompt)
    start = max(0, position - 20)
    assert lines[1] == " " + repr(prompt[start : position + 20])  # 20 characters either side
    column = lines[2].index("^")
    assert lines[2] == " " * column + "^"
    assert lines[1][column] == prompt[position]


def test_parser_boundaries():
    # exact, every weight below: written as the parser computes it (1.0 times the same factors, in order)
    assert parse("a\\") == [Run("a\\", 1.0)]  # a trailing backslash stays
    assert parse("\\") == [Run("\\", 1.0)]
    assert parse("a\\b") == [Run("a\\b", 1.0)]  # before a character that needs no escape: kept
    assert parse("\\\\(x)") == [Run("\\", 1.0), Run("x", 1.1)]
    assert parse("eXtra X (X-ray:2) [XL]") == [Run("eXtra X ", 1.0), Run("X-ray", 2.0), Run(" ", 1.0), Run("XL", prompts.SQUARE)]
    assert parse("BREAK a") == [BREAK, Run("a", 1.0)]  # the empty text before BREAK is dropped
    assert parse("(a:0)b") == [Run("a", 0.0), Run("b", 1.0)]  # weight 0 is a weight, not an empty run
    assert parse("a (b) c") == [Run("a ", 1.0), Run("b", 1.1), Run(" c", 1.0)]  # equal weights merge only when adjacent
    assert parse("(a [b] c)") == [Run("a ", 1.1), Run("b", 1.0 * prompts.SQUARE * 1.1), Run(" c", 1.1)]
    assert parse("a:b:c") == [Run("a:b:c", 1.0)]
    assert parse("(a:2)(b:2)x") == [Run("ab", 2.0), Run("x", 1.0)]


@pytest.mark.parametrize(
    "prompt, position, words",
    [
        ("(a [b", 3, r"'\[' is never closed"),  # the innermost open bracket is named
        ("[a:b)", 4, "cannot close"),  # a colon in [ ] before a ')' is text
        ("a:b)", 3, "closes nothing"),
        ("(a:b]", 4, "cannot close"),  # a colon in ( ) before a ']' is text
        ("a:b]", 3, "closes nothing"),
        ("(a:1.5", 0, "never closed"),
    ],
)
def test_colons_only_weight_inside_their_own_bracket(prompt, position, words):
    with pytest.raises(PromptSyntaxError, match=words) as caught:
        parse(prompt)
    assert caught.value.position == position


def test_break_is_one_object():
    assert prompts.Break() is BREAK and repr(BREAK) == "BREAK"


def test_break_singleton_is_made_once(monkeypatch):
    monkeypatch.setattr(prompts.Break, "_instance", None)
    first = prompts.Break()
    assert prompts.Break() is first and prompts.Break._instance is first


def test_next_special_and_merge_refuse_bad_input():
    assert prompts.next_special("ab(c", 0) == 2
    assert prompts.next_special("(ab(c", 1) == 3
    assert prompts.next_special("abc", 1) is None
    with pytest.raises(TypeError, match="prompt must be a str, got int"):
        prompts.next_special(5, 0)
    with pytest.raises(TypeError, match="needs a str, got int"):
        parse(5)
    with pytest.raises(ValueError, match=r"\bstart\b"):
        prompts.next_special("abc", -1)
    with pytest.raises(TypeError, match=r"\bitems\b"):
        prompts.merge("abc")
    with pytest.raises(TypeError, match=r"items\[0\]"):
        prompts.merge([5])


def test_chunk_refuses_what_is_not_runs(tokenizer):
    with pytest.raises(TypeError, match="not the prompt string"):
        chunk("a cat", tokenizer)
    with pytest.raises(TypeError, match=r"\bruns must be the list of runs"):
        chunk(iter([Run("a", 1.0)]), tokenizer)
    with pytest.raises(TypeError, match=r"\bruns must be the list of runs.*got int"):
        chunk(5, tokenizer)
    for bad in ([5], [("a", 1.0, 2)], [("a",)], [(1, 1.0)], [BREAK, ("a",)]):
        with pytest.raises(TypeError, match=rf"\bruns\[{len(bad) - 1}\] must be a Run"):
            chunk(bad, tokenizer)
    with pytest.raises(TypeError, match=r"runs\[0\]\.weight"):
        chunk([("a", "heavy")], tokenizer)
    with pytest.raises(TypeError, match=r"\bbreaks\b"):
        chunk([Run("a", 1.0)], tokenizer, breaks=1)


def test_check_tokenizer_bounds(tokenizer):
    class Fake:
        bos_token_id, eos_token_id, pad_token_id = 0, 1, 1

    def with_length(length):
        fake = Fake()
        fake.model_max_length = length
        return fake

    assert prompts.check_tokenizer(tokenizer) == 75
    assert prompts.check_tokenizer(with_length(3)) == 1
    assert prompts.check_tokenizer(with_length(4096)) == 4094
    for bad in (2, 4097, 77.0, int(1e30)):
        with pytest.raises(ValueError, match="model_max_length"):
            prompts.check_tokenizer(with_length(bad))
    with pytest.raises(ValueError, match="model_max_length"):
        prompts.check_tokenizer(Fake())  # none at all
    with pytest.raises(TypeError, match="tokenizer must be.*got str"):
        prompts.check_tokenizer("openai/clip-vit-large-patch14")
    with pytest.raises(TypeError, match="tokenizer must be"):
        prompts.check_tokenizer(None)

    class NoEos:
        bos_token_id = 0

    with pytest.raises(ValueError, match="eos_token_id"):
        prompts.check_tokenizer(NoEos())


def test_chunk_padding_and_weights(tokenizer):
    [c] = chunk([Run("a", 1.0), Run("b", 1.5)], tokenizer)
    assert c.tokens == 2
    assert c.ids[3:] == (tokenizer.pad_token_id,) * 74
    assert c.weights == (1.0, 1.0, 1.5) + (1.0,) * 74  # exact: weights as written, 1.0 elsewhere


def test_break_as_a_word(tokenizer):
    recording = RecordingTokenizer(tokenizer)
    [c] = chunk([Run("a", 1.5), BREAK, Run("b", 1.5)], recording, breaks=False)
    assert recording.texts == ["a", "BREAK", "b"]
    word = tokenizer("BREAK", add_special_tokens=False)["input_ids"]
    assert c.ids[1 : 1 + c.tokens] == tuple(tokenizer("a", add_special_tokens=False)["input_ids"] + word + tokenizer("b", add_special_tokens=False)["input_ids"])
    assert c.weights[1 : 1 + c.tokens] == (1.5,) + (1.0,) * len(word) + (1.5,)  # exact: weights as written


def test_comma_backtrack_boundaries(tokenizer):
    # a short prompt with a comma is one chunk: backtracking only acts on a full chunk
    assert tokens_of(chunk(parse("a, b"), tokenizer)) == [3]
    # the comma exactly comma_backtrack (20) tokens back from the full chunk: moved; 21 back: not
    assert tokens_of(chunk(parse("x" * 55 + ", " + "x" * 30), tokenizer)) == [56, 30]
    assert tokens_of(chunk(parse("x" * 54 + ", " + "x" * 30), tokenizer)) == [75, 10]
    # the largest backtrack (size - 1) moves a comma at token 1; without a comma nothing moves
    assert tokens_of(chunk(parse("a, " + "x" * 80), tokenizer, comma_backtrack=74)) == [2, 75, 5]
    assert tokens_of(chunk(parse("x" * 160), tokenizer, comma_backtrack=74)) == [75, 75, 10]
    with pytest.raises(ValueError, match=r"\bcomma_backtrack\b"):
        chunk(parse("a"), tokenizer, comma_backtrack=75)
    # what moves keeps its weights; the ids and weights of both chunks, exactly
    runs = [Run("x" * 70 + ",", 1.0), Run(" abcdefgh", 1.5)]
    first, second = chunk(runs, tokenizer)
    assert (first.tokens, second.tokens) == (71, 8)
    assert first.ids[1:73] == (*tokenizer(runs[0].text, add_special_tokens=False)["input_ids"], tokenizer.eos_token_id)
    assert first.weights == (1.0,) * 77  # exact: weights as written
    assert second.ids[1:9] == tuple(tokenizer("abcdefgh", add_special_tokens=False)["input_ids"])
    assert second.weights == (1.0,) + (1.5,) * 8 + (1.0,) * 68  # exact: weights as written


def test_no_comma_token_means_no_backtrack(tokenizer):
    recording = RecordingTokenizer(tokenizer, comma_unknown=True)
    assert tokens_of(chunk(parse("x" * 70 + ", abcdefgh"), recording)) == [75, 4]


def test_chunk_does_not_warn_about_long_prompts():
    import logging

    fresh = tiny.clip_tokenizer()  # its warn-once state unused
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("transformers")
    logger.addHandler(handler)
    try:
        chunk(parse("x" * 200), fresh)
    finally:
        logger.removeHandler(handler)
    assert [r.getMessage() for r in records if "sequence length" in r.getMessage()] == []


def test_pad_chunks_checks(tokenizer):
    two = chunk(parse("x" * 80), tokenizer)
    assert prompts.pad_chunks(two, 2, tokenizer) == two  # already that many
    with pytest.raises(ValueError, match=r"\bcount\b"):
        prompts.pad_chunks(two, 0, tokenizer)
    short = prompts.Chunk(ids=(1, 2, 3), weights=(1.0, 1.0, 1.0), tokens=1)
    with pytest.raises(ValueError, match="model_max_length"):
        prompts.pad_chunks([short], 2, tokenizer)
    with pytest.raises(TypeError, match="chunks must be a list.*got list_iterator"):
        prompts.pad_chunks(iter(two), 2, tokenizer)
    with pytest.raises(ValueError, match="cannot pad 2 chunks down to 1"):
        prompts.pad_chunks(two, 1, tokenizer)
    with pytest.raises(TypeError, match="chunks must be a list"):
        prompts.pad_chunks(two[0], 2, tokenizer)
    with pytest.raises(ValueError, match="at least one"):
        prompts.pad_chunks([], 2, tokenizer)
    with pytest.raises(TypeError, match=r"chunks\[1\].*got str"):
        prompts.pad_chunks([two[0], "x"], 2, tokenizer)


def test_encode_layers_and_pooled(tokenizer, encoders):
    plain, projected = encoders
    chunks = chunk(parse("y" * 100), tokenizer)
    layers = plain.config.num_hidden_layers
    for layer in (-(layers + 1), layers):
        assert encode(chunks[:1], plain, layer=layer)[0].shape == (1, 77, tiny.TEXT_WIDTH)
    for layer in (-(layers + 2), layers + 1):
        with pytest.raises(ValueError, match="hidden states"):
            encode(chunks[:1], plain, layer=layer)
    with pytest.raises(TypeError, match=r"\blayer\b"):
        encode(chunks[:1], plain, layer=1.5)
    # the hidden states asked for: layer -2 is not the last hidden state
    with torch.no_grad():
        second = plain(torch.tensor([chunks[0].ids]), output_hidden_states=True).hidden_states[-2]
    assert torch.equal(encode(chunks[:1], plain, layer=-2)[0], second)
    # pooled: the first chunk's, not the last one's
    _, pooled = encode(chunks, projected, layer=-2)
    assert torch.equal(pooled, encode(chunks[:1], projected, layer=-2)[1])
    assert not torch.equal(pooled, encode(chunks[1:], projected, layer=-2)[1])
    with pytest.raises(TypeError, match="text_encoder.*got Linear"):
        encode(chunks, torch.nn.Linear(2, 2))  # a torch module, but no text model


def test_encode_and_weights_follow_the_device(tokenizer):
    fake = FakeEncoder()
    chunks = chunk(parse("a cat"), tokenizer)
    z, _ = encode(chunks, fake)
    [(ids, kwargs)] = fake.calls
    assert ids.device.type == "meta" and ids.dtype == torch.long and z.device.type == "meta"
    assert kwargs == {"attention_mask": None}
    like = torch.zeros(1, dtype=torch.float64, device="meta")
    w = prompts.weights_tensor(chunks, like)
    assert w.device.type == "meta" and w.dtype == torch.float64
    with pytest.raises(TypeError, match=r"\blike\b.*got list"):
        prompts.weights_tensor(chunks, [1.0])
    # an encoder without a config (or a config without num_hidden_layers): the layer is not range-checked
    for config in (None, SimpleNamespace()):
        if config is not None:
            fake.config = config
        z, _ = encode(chunks, fake, layer=-2)
        assert z.shape == (1, 77, 4) and fake.calls[-1][1] == {"output_hidden_states": True}


def embeddings(tokens=154, width=4, seed=0, dtype=torch.float32):
    generator = torch.Generator().manual_seed(seed)
    return (torch.randn(1, tokens, width, generator=generator) + 0.5).to(dtype)


def test_a1111_weights_each_chunk_and_restores_its_mean():
    """The weights act (an earlier test only checked the restored mean, which dividing by the weights keeps)."""
    z = embeddings()
    w = torch.ones(154)
    w[80], w[90] = 1.5, 0.5  # the first chunk unweighted, the second weighted
    got = weight(z, w)
    assert torch.equal(got[:, :77], z[:, :77])  # exact: an unweighted chunk is returned as it was
    piece, piece_w = z[:, 77:], w[None, 77:, None]
    scaled = piece * piece_w
    assert torch.equal(got[:, 77:], scaled * (piece.mean() / scaled.mean()))  # exact: the same operations
    ratio = got[0, 80] / got[0, 81]
    assert torch.allclose(ratio, 1.5 * z[0, 80] / z[0, 81], rtol=1e-5)  # token 80 weighted 1.5 against token 81


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_lpw_weights_and_restores_the_prompt_mean(dtype):
    z = embeddings(dtype=dtype)
    w = torch.ones(154)
    w[3], w[100] = 1.5, 0.5
    got = weight(z, w, "lpw")
    assert got.dtype == dtype
    before = z.float().mean(dim=(-2, -1)).to(dtype)
    scaled = z * w.to(dtype)[None, :, None]
    after = scaled.float().mean(dim=(-2, -1)).to(dtype)
    assert torch.equal(got, scaled * (before / after)[:, None, None])  # exact: the same operations
    assert not torch.allclose(got, z)


def test_weight_keeps_the_embeddings_dtype():
    z = embeddings()
    w = torch.ones(154, dtype=torch.float64)
    w[5] = 1.5
    for method in ("a1111", "lpw", "no-norm"):
        assert weight(z, w, method).dtype == torch.float32


def test_compel_keeps_unweighted_tokens_exactly():
    z = embeddings()
    empty = embeddings(tokens=77, seed=1)
    w = torch.ones(154)
    w[4], w[120] = 1.5, 0.25
    got = weight(z, w, "compel", empty)
    keep = w != 1
    assert torch.equal(got[:, ~keep], z[:, ~keep])  # exact: torch.where picks z itself
    base = empty.repeat(1, 2, 1)
    assert torch.allclose(got[:, keep], (base + (z - base) * w[None, :, None])[:, keep])


def test_weight_refusals():
    z, w = embeddings(), torch.ones(154)
    with pytest.raises(TypeError, match=r"\bz must be a tensor, got str"):
        weight("z", w)
    with pytest.raises(TypeError, match=r"\bweights must be a tensor, got list"):
        weight(z, [1.0] * 154)
    with pytest.raises(ValueError, match=r"\bz must hold finite"):
        weight(z.clone().index_fill_(1, torch.tensor([3]), float("nan")), w)
    with pytest.raises(ValueError, match=r"\bweights must hold finite"):
        weight(z, w.clone().index_fill_(0, torch.tensor([3]), float("inf")))
    with pytest.raises(ValueError, match=r"\bchunk_length\b"):
        weight(z, w, chunk_length=0)
    with pytest.raises(ValueError, match="z has 154 tokens, not a multiple of chunk_length=50"):
        weight(z, w, "no-norm", chunk_length=50)
    with pytest.raises(ValueError, match=r"\[T\]"):
        weight(z[0], w[:4])
    # Bug fix: a batch of prompts was taken (the docstring refuses it), and "a1111" restored one mean
    # over the whole batch while "lpw" restored each row's
    for method in ("a1111", "lpw", "no-norm"):
        with pytest.raises(ValueError, match=r"\[1, T, D\].*\(2, 154, 4\)"):
            weight(torch.cat([z, z]), w, method)
    with pytest.raises(TypeError, match=r"\bempty must be a tensor.*got list"):
        weight(z, w, "compel", [0.0])
    with pytest.raises(ValueError, match="does not use it"):
        weight(z, w, "a1111", torch.zeros(1, 76, 4))
    with pytest.raises(ValueError, match=r"empty must be[^;]*$"):
        weight(z, w, "compel", torch.zeros(1, 76, 4))
    with pytest.raises(ValueError, match=r"\bmethod='lpv'.*'lpw'"):
        weight(z, w, "lpv")
    with pytest.raises(TypeError, match=r"\bmethod\b"):
        weight(z, w, 5)


def test_mean_restoration_edges():
    # means of exactly 1 before and after weighting are fine (the restoration divides by them)
    z = torch.tensor([[[2.0], [0.0]]])
    w = torch.tensor([1.0, 0.5])
    for method in ("a1111", "lpw"):
        assert torch.equal(weight(z, w, method, chunk_length=2), z)  # exact: 2*1 and 0*0.5, times 1/1
    # a restoration factor that overflows is refused as undefined, not returned as infinities
    huge = torch.full((1, 1, 2), 1e30)
    tiny_weight = torch.full((1,), 1e-39)
    for method in ("a1111", "lpw"):
        with pytest.raises(ValueError, match="undefined"):
            weight(huge, tiny_weight, method, chunk_length=1)
    # the refusal names where: the prompt for LPW, the chunk's first token for A1111
    zero = torch.tensor([[[1.0, 2.0], [2.0, 3.0], [3.0, -3.0], [1.0, -1.0]]])  # exact: the second chunk's mean is 0
    w = torch.tensor([1.0, 1.0, 1.0, 1.5])
    with pytest.raises(ValueError, match="the chunk at token 2"):
        weight(zero, w, chunk_length=2)
    with pytest.raises(ValueError, match="for the prompt:"):
        weight(zero - zero.mean(), w, "lpw", chunk_length=2)


@pytest.fixture(scope="module")
def tiny_pipes():
    import helpers
    import helpers.pipelines

    ctx = helpers.setup("tiny")
    return helpers.pipelines.load("sd15", ctx), helpers.pipelines.load("sdxl", ctx)


LONG_WITH_COMMA = "x" * 70 + "," + "x" * 79  # 150 tokens: 2 chunks without backtracking, 3 with it


def test_prompt_embeds_sd15_match_diffusers(tiny_pipes):
    sd, _ = tiny_pipes
    out = prompts.prompt_embeds(sd, "a cat", "blurry")
    assert set(out) == {"prompt_embeds", "negative_prompt_embeds"}
    positive, negative = sd.encode_prompt("a cat", "cpu", 1, True, "blurry")
    assert torch.equal(out["prompt_embeds"], positive) and torch.equal(out["negative_prompt_embeds"], negative)
    # an empty negative prompt is encoded (SD has no force_zeros_for_empty_prompt), as diffusers does
    empty = prompts.prompt_embeds(sd, "a cat")["negative_prompt_embeds"]
    assert torch.equal(empty, sd.encode_prompt("a cat", "cpu", 1, True, None)[1])
    # the shorter side is padded with empty-prompt chunks to the same length
    long = prompts.prompt_embeds(sd, "y" * 80, "blurry", method="no-norm")
    assert long["prompt_embeds"].shape == long["negative_prompt_embeds"].shape == (1, 154, tiny.TEXT_WIDTH)
    assert torch.equal(long["negative_prompt_embeds"][:, 77:], empty)


def test_prompt_embeds_pass_the_chunking_options(tiny_pipes):
    sd, _ = tiny_pipes

    def length(**options):
        return prompts.prompt_embeds(sd, LONG_WITH_COMMA, **options)["prompt_embeds"].shape[1]

    assert (length(), length(comma_backtrack=0)) == (231, 154)
    for side in ("prompt", "negative_prompt"):
        texts = {"prompt": "a", "negative_prompt": "b", side: "a BREAK b"}
        breaking = prompts.prompt_embeds(sd, **texts)
        words = prompts.prompt_embeds(sd, **texts, breaks=False)
        assert breaking["prompt_embeds"].shape[1] == 154 and words["negative_prompt_embeds"].shape[1] == 77
    assert prompts.chunk_count(LONG_WITH_COMMA, sd.tokenizer) == 3
    assert prompts.chunk_count(LONG_WITH_COMMA, sd.tokenizer, comma_backtrack=0) == 2
    assert prompts.chunk_count("a BREAK b", sd.tokenizer, breaks=False) == 1
    assert prompts.chunk_count("a BREAK b", sd.tokenizer) == 2
    with pytest.raises(TypeError, match=r"\bbreaks\b"):
        prompts.prompt_embeds(sd, "a", breaks="no")


def test_prompt_embeds_sdxl_match_diffusers(tiny_pipes):
    _, xl = tiny_pipes
    assert xl.config.force_zeros_for_empty_prompt
    out = prompts.prompt_embeds(xl, "a cat", "blurry")
    assert set(out) == {"prompt_embeds", "negative_prompt_embeds", "pooled_prompt_embeds", "negative_pooled_prompt_embeds"}
    expected = xl.encode_prompt("a cat", device="cpu", num_images_per_prompt=1, do_classifier_free_guidance=True, negative_prompt="blurry")
    for key, tensor in zip(("prompt_embeds", "negative_prompt_embeds", "pooled_prompt_embeds", "negative_pooled_prompt_embeds"), expected):
        assert torch.equal(out[key], tensor), key
    # "" with force_zeros_for_empty_prompt: zeros, as diffusers gives for negative_prompt=None
    zeros = prompts.prompt_embeds(xl, "a cat")
    expected = xl.encode_prompt("a cat", device="cpu", num_images_per_prompt=1, do_classifier_free_guidance=True)
    assert torch.equal(zeros["negative_prompt_embeds"], expected[1]) and torch.equal(zeros["negative_pooled_prompt_embeds"], expected[3])
    assert not zeros["negative_prompt_embeds"].any() and out["negative_prompt_embeds"].any()


def test_prompt_embeds_two_encoders_without_the_zeros_flag(tokenizer, encoders):
    plain, projected = encoders
    # the pooled embedding comes from whichever encoder has a projection; a config without
    # force_zeros_for_empty_prompt encodes an empty negative prompt
    pipe = SimpleNamespace(
        tokenizer=tokenizer, text_encoder=projected, tokenizer_2=tokenizer, text_encoder_2=plain, config=SimpleNamespace()
    )
    out = prompts.prompt_embeds(pipe, "a cat")
    chunks = chunk(parse(""), tokenizer)
    assert torch.equal(out["negative_pooled_prompt_embeds"], encode(chunks, projected, layer=-2)[1])
    assert out["negative_prompt_embeds"].any()
    # one encoder and force_zeros_for_empty_prompt: "" is still encoded (SD's diffusers encodes it)
    one = SimpleNamespace(tokenizer=tokenizer, text_encoder=plain, config=SimpleNamespace(force_zeros_for_empty_prompt=True))
    out = prompts.prompt_embeds(one, "a cat")
    assert set(out) == {"prompt_embeds", "negative_prompt_embeds"}
    assert torch.equal(out["negative_prompt_embeds"], encode(chunks, plain)[0])


def test_prompt_embeds_refusals(tokenizer, encoders):
    plain, _ = encoders
    for pipe in (object(), SimpleNamespace(tokenizer=tokenizer), SimpleNamespace(text_encoder=plain)):
        with pytest.raises(TypeError, match=f"pipe must be a pipeline.*got {type(pipe).__name__}"):
            prompts.prompt_embeds(pipe, "a cat")
    one = SimpleNamespace(tokenizer=tokenizer, text_encoder=plain)
    with pytest.raises(TypeError, match=r"\bprompt must be one str.*got list"):
        prompts.prompt_embeds(one, ["a cat"])
    with pytest.raises(TypeError, match=r"\bnegative_prompt must be one str.*got tuple"):
        prompts.prompt_embeds(one, "a cat", ("blurry",))
    with pytest.raises(PromptSyntaxError):
        prompts.prompt_embeds(one, "a cat", "(blurry")
    with pytest.raises(ValueError, match="unknown weighting"):
        prompts.prompt_embeds(one, "a cat", method="invokeai")


def test_encode_prompt(tokenizer, encoders):
    plain, projected = encoders
    z, pooled, chunks = prompts.encode_prompt("a cat", tokenizer, plain)  # no count: no padding
    assert z.shape == (1, 77, tiny.TEXT_WIDTH) and pooled is None and len(chunks) == 1
    assert torch.equal(z, encode(chunks, plain)[0])
    assert len(prompts.encode_prompt("a BREAK b", tokenizer, plain)[2]) == 2  # BREAK splits by default
    with pytest.raises(ValueError, match=r"\bcount\b"):
        prompts.encode_prompt("a cat", tokenizer, plain, count=0)
    with pytest.raises(TypeError, match=r"\blayer\b"):
        prompts.encode_prompt("(a cat", tokenizer, plain, layer=1.5)  # checked before the prompt is parsed
    # compel: about the empty prompt's encoding at the same layer
    z, pooled, chunks = prompts.encode_prompt("a (cat:1.5)", tokenizer, projected, layer=-2, method="compel")
    raw, _ = encode(chunks, projected, layer=-2)
    empty, _ = encode(chunk(parse(""), tokenizer), projected, layer=-2)
    assert torch.equal(z, weight(raw, prompts.weights_tensor(chunks, raw), "compel", empty))  # exact: the same operations
    assert pooled.shape == (1, 8)
    # only compel encodes the empty prompt: one encoder call per chunk otherwise
    calls = []
    hook = projected.register_forward_hook(lambda *args: calls.append(1))
    try:
        prompts.encode_prompt("a (cat:1.5)", tokenizer, projected, layer=-2, method="no-norm")
    finally:
        hook.remove()
    assert len(calls) == 1
    # chunks of the tokenizer's length, weighted chunk by chunk at that length
    short = RecordingTokenizer(tokenizer)
    short.model_max_length = 20
    z, _, chunks = prompts.encode_prompt("a (cat:1.5) " + "x" * 30, short, plain, method="no-norm", comma_backtrack=10)
    assert z.shape[1] == 40 and [len(c.ids) for c in chunks] == [20, 20]
