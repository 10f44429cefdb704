import pytest

from helpers.book.claims import still_true


def test_a_holding_claim_runs_its_checks_and_passes():
    ran = []
    with still_true("one-and-one", "1 + 1 is 2"):
        assert 1 + 1 == 2
        ran.append(True)
    assert ran == [True]  # the body ran to its end and nothing was raised


def test_a_broken_claim_names_itself():
    with pytest.raises(AssertionError, match=r"^diffusers changed this behaviour: x is 1 \(got 2"):
        with still_true("x-is-one", "x is 1"):
            assert 2 == 1, "got 2"


def test_a_named_exception_is_a_changed_claim():
    with pytest.raises(AssertionError, match=r"^diffusers changed this behaviour: parsing \(now raises ValueError: bad\)$") as info:
        with still_true("parsing", "parsing", changed_if_raises=(ValueError, TypeError)):
            raise ValueError("bad")
    assert isinstance(info.value.__cause__, ValueError)
    with pytest.raises(AssertionError, match="now raises KeyError"):
        with still_true("lookup", "lookup", changed_if_raises=KeyError):  # one class is accepted as well
            {}["missing"]


@pytest.mark.parametrize(
    ("error", "named"),
    [(NameError("name 'pipe' is not defined"), ()), (AttributeError("no attribute 'unet'"), (ValueError,)), (ValueError("bad"), ())],
)
def test_any_other_exception_is_the_chapters_bug_and_propagates_unchanged(error, named):
    with pytest.raises(type(error)) as info:
        with still_true("a-claim", "a claim", changed_if_raises=named):
            raise error
    assert info.value is error  # the very exception, not a "diffusers changed" AssertionError


@pytest.mark.parametrize("bad", [ValueError("not a class"), "ValueError", (ValueError, 3), BaseException])
def test_changed_if_raises_takes_exception_classes_only(bad):
    with pytest.raises(TypeError, match=r"changed_if_raises=.*exception class"):
        with still_true("x", "x", changed_if_raises=bad):
            pass


@pytest.mark.parametrize("bad", ["", "   ", None])
def test_the_claim_must_be_said_in_words(bad):
    with pytest.raises(ValueError, match=r"still_true\(statement=...\) needs the claim in words"):
        with still_true("an-id", bad):
            pass


@pytest.mark.parametrize("bad", ["", "Upper-case", "two  spaces", "trailing-", "-leading", "a--b", "x" * 65, None, 3])
def test_a_claim_id_is_lowercase_words_joined_by_hyphens(bad):
    ran = []
    with pytest.raises(ValueError, match=r"a claim id is lowercase words and digits joined by hyphens"):
        with still_true(bad, "a statement"):
            ran.append(True)
    assert ran == []  # refused before the checks ran


def _ledger(path):
    import json

    return [json.loads(line) for line in path.read_text().splitlines()]


def test_ledger_mode_records_every_outcome_and_lets_the_chapter_go_on(tmp_path, monkeypatch):
    from helpers.book.claims import LEDGER_ENV

    ledger = tmp_path / "ledger.jsonl"
    monkeypatch.setenv(LEDGER_ENV, str(ledger))
    with still_true("holds-claim", "it holds"):
        assert True
    with still_true("changed-claim", "it changed"):
        assert 1 == 2, "one is not two"
    with still_true("raising-claim", "it raises now", changed_if_raises=KeyError):
        {}["gone"]
    with still_true("missing-api", "an API of another release"):
        import diffusers.no_such_module  # noqa: F401
    assert [(e["claim"], e["status"]) for e in _ledger(ledger)] == [
        ("holds-claim", "holds"),
        ("changed-claim", "changed"),
        ("raising-claim", "changed"),
        ("missing-api", "not applicable"),
    ]
    details = [e["detail"] for e in _ledger(ledger)]
    assert details[1].startswith("one is not two") and details[2] == "now raises KeyError: 'gone'"
    assert "diffusers.no_such_module" in details[3]


def test_ledger_mode_still_propagates_the_chapters_own_bugs(tmp_path, monkeypatch):
    from helpers.book.claims import LEDGER_ENV

    monkeypatch.setenv(LEDGER_ENV, str(tmp_path / "ledger.jsonl"))
    with pytest.raises(NameError):
        with still_true("a-claim", "a claim"):
            raise NameError("name 'pipe' is not defined")
    assert not (tmp_path / "ledger.jsonl").exists()  # a bug is not an outcome of the claim


def test_outside_ledger_mode_an_import_error_is_not_hidden(monkeypatch):
    from helpers.book.claims import LEDGER_ENV

    monkeypatch.delenv(LEDGER_ENV, raising=False)
    with pytest.raises(ImportError):
        with still_true("missing-api", "an API"):
            import diffusers.no_such_module  # noqa: F401


def test_the_mark_under_a_cell_anchors_the_claim():
    from helpers.book.claims import ClaimMark

    mark = ClaimMark("frozendict-accepts-assignments", "holds", "0.42.1")
    assert repr(mark) == "claim frozendict-accepts-assignments: holds on diffusers 0.42.1"
    assert 'id="claim-frozendict-accepts-assignments"' in mark._repr_html_()


def _refuse(value):
    raise ValueError(f"bad value {value!r}")


def test_error_message_returns_the_expected_errors_message():
    from helpers.book.claims import error_message

    assert error_message(_refuse, 3) == "bad value 3"
    assert error_message(int, "x", expect=(TypeError, ValueError)).startswith("invalid literal")
    assert error_message(_refuse, value=4, expect=Exception) == "bad value 4"  # a parent class


def test_error_message_names_the_call_when_nothing_is_raised():
    from helpers.book.claims import error_message

    with pytest.raises(AssertionError, match=r"^abs raised nothing, expected ValueError$"):
        error_message(abs, -1)


def test_error_message_names_the_call_and_the_wrong_type():
    from helpers.book.claims import error_message

    wrong = r"^_refuse raised ValueError \(bad value 1\), expected TypeError$"
    with pytest.raises(AssertionError, match=wrong) as info:
        error_message(_refuse, 1, expect=TypeError)
    assert isinstance(info.value.__cause__, ValueError)


@pytest.mark.parametrize(
    ("call", "expect"),
    [("not callable", ValueError), (abs, "ValueError"), (abs, ()), (abs, (ValueError, 3))],
)
def test_error_message_refuses_bad_arguments_before_calling(call, expect):
    from helpers.book.claims import error_message

    with pytest.raises(TypeError, match=r"error_message\((call|expect)=\.\.\.\)"):
        error_message(call, expect=expect)


def test_needs_turns_a_missing_api_into_not_applicable(tmp_path, monkeypatch):
    import json

    from helpers.book.claims import LEDGER_ENV, MissingAPI, needs

    needs(dict, "keys", "items")  # present: nothing happens
    with pytest.raises(MissingAPI, match=r"dict has no enable_group_offload in this release"):
        needs(dict, "keys", "enable_group_offload")
    ledger = tmp_path / "ledger.jsonl"
    monkeypatch.setenv(LEDGER_ENV, str(ledger))
    with still_true("group-offload", "group offloading refuses streams on the CPU"):
        needs(dict, "enable_group_offload")
        raise AssertionError("never reached")
    [line] = [json.loads(x) for x in ledger.read_text().splitlines()]
    assert line["status"] == "not applicable" and "enable_group_offload" in line["detail"]


@pytest.mark.parametrize("names", [(), ("",), (3,)])
def test_needs_refuses_what_is_not_an_attribute_name(names):
    from helpers.book.claims import needs

    with pytest.raises(ValueError, match="takes attribute names"):
        needs(dict, *names)


def test_the_ledger_names_the_failed_line_of_a_bare_assert(tmp_path, monkeypatch):
    import json

    from helpers.book.claims import LEDGER_ENV

    ledger = tmp_path / "ledger.jsonl"
    monkeypatch.setenv(LEDGER_ENV, str(ledger))
    import importlib.util

    cell = tmp_path / "cell.py"  # a chapter's code: pytest does not rewrite its asserts
    cell.write_text("def check(width):\n    assert width == 4\n")
    spec = importlib.util.spec_from_file_location("cell", cell)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with still_true("bare", "a bare assert"):
        module.check(3)
    [line] = [json.loads(x) for x in ledger.read_text().splitlines()]
    assert line["detail"].startswith("failed: assert width == 4")
    # outside ledger mode the raised message names the line too: which of a claim's checks failed
    monkeypatch.delenv(LEDGER_ENV)
    with pytest.raises(AssertionError, match=r"a bare assert \(failed: assert width == 4\)"):
        with still_true("bare", "a bare assert"):
            module.check(3)


def test_needs_weights_fails_with_what_the_weights_do_not_show(monkeypatch):
    from helpers.book.claims import LEDGER_ENV, needs_weights

    monkeypatch.delenv(LEDGER_ENV, raising=False)
    with needs_weights("shown", "trained weights show it"):
        assert True
    with pytest.raises(AssertionError, match=r"^these weights do not show this: PAG sharpens \(too blurry\)$"):
        with needs_weights("pag-sharpens", "PAG sharpens"):
            raise AssertionError("too blurry")  # a chapter's failed assert (pytest rewrites this file's)
    with pytest.raises(NameError):  # the chapter's own bug is not a finding
        with needs_weights("a-finding", "a finding"):
            raise NameError("name 'pipe' is not defined")


def test_needs_weights_in_ledger_mode_records_and_goes_on(tmp_path, monkeypatch):
    from helpers.book.claims import LEDGER_ENV, needs_weights

    ledger = tmp_path / "ledger.jsonl"
    monkeypatch.setenv(LEDGER_ENV, str(ledger))
    with needs_weights("shown", "it shows"):
        assert True
    with needs_weights("not-shown", "it does not show"):
        assert 1 == 2, "one is not two"
    with still_true("a-claim", "a diffusers quirk"):  # the claims keep their own lines
        assert True
    assert [(e["claim"], e["status"], e.get("kind")) for e in _ledger(ledger)] == [
        ("shown", "holds", "weights"),
        ("not-shown", "not shown", "weights"),
        ("a-claim", "holds", None),
    ]
    assert _ledger(ledger)[1]["detail"].startswith("one is not two")


@pytest.mark.parametrize(("finding", "statement"), [("Bad Id", "x"), ("ok-id", " "), ("ok-id", None)])
def test_needs_weights_refuses_a_bad_id_or_an_empty_statement(finding, statement):
    from helpers.book.claims import needs_weights

    ran = []
    with pytest.raises(ValueError):
        with needs_weights(finding, statement):
            ran.append(True)
    assert ran == []


def test_a_claim_id_may_have_64_characters_and_no_more():
    from helpers.book.claims import check_claim_id

    longest = "a" * 30 + "-" + "b" * 33
    assert len(longest) == 64 and check_claim_id(longest) == longest
    with pytest.raises(ValueError, match="at most 64"):
        check_claim_id(longest + "c")


def test_a_refused_claim_id_names_the_argument_and_suggests_the_hyphenated_form():
    from helpers.book.claims import check_claim_id

    with pytest.raises(ValueError, match=r"^finding must be a claim id: a claim id is") as info:
        check_claim_id("Frozen_Dict Writes", name="finding")
    assert str(info.value).endswith("got 'Frozen_Dict Writes' (did you mean 'frozen-dict-writes'?)")
    with pytest.raises(ValueError, match=r"^a claim id is") as info:
        check_claim_id("a--b")
    assert str(info.value).endswith("got 'a--b'")  # no suggestion: lowering and hyphenating does not help


def test_a_bare_assert_without_a_traceback_is_described(tmp_path):
    from helpers.book.claims import _failed_line

    described = _failed_line(AssertionError())
    assert "without a message" in described and not described.startswith("failed")


def test_the_ledger_line_keeps_the_statement_in_its_own_letters_and_cuts_a_long_detail(tmp_path, monkeypatch):
    from helpers.book.claims import LEDGER_ENV

    ledger = tmp_path / "ledger.jsonl"
    monkeypatch.setenv(LEDGER_ENV, str(ledger))
    with still_true("holds-claim", "the décodeur keeps its ß"):
        assert True
    with still_true("long-claim", "a long reason"):
        assert False, "x" * 600
    holds, long = _ledger(ledger)
    assert holds == {"claim": "holds-claim", "statement": "the décodeur keeps its ß", "status": "holds", "detail": ""}
    assert "décodeur keeps its ß" in ledger.read_text(encoding="utf-8")  # not \u escapes: the file is read by eye
    assert long["detail"] == "x" * 500


def test_a_notebook_shows_the_mark_of_the_claim_under_its_cell(monkeypatch):
    import diffusers
    import IPython
    import IPython.display

    from helpers.book.claims import ClaimMark

    shown = []
    monkeypatch.setattr(IPython.display, "display", shown.append)
    monkeypatch.setattr(IPython, "get_ipython", lambda: None)
    with still_true("outside-a-notebook", "nothing is shown"):
        assert True
    assert shown == []
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    with still_true("in-a-notebook", "a mark is shown"):
        assert True
    [mark] = shown
    assert isinstance(mark, ClaimMark)
    assert (mark.claim, mark.status, mark.version) == ("in-a-notebook", "holds", diffusers.__version__)


def test_the_mark_links_to_the_claims_page_only_in_the_built_book(monkeypatch):
    from helpers.book.claims import ClaimMark

    mark = ClaimMark("frozendict-accepts-assignments", "holds", "0.42.1")
    monkeypatch.setenv("FIELDNOTES_STATIC", "1")
    assert '<a href="../book/claims.html#claim-frozendict-accepts-assignments">frozendict-accepts-assignments</a>' in mark._repr_html_()
    monkeypatch.setenv("FIELDNOTES_BOOK", "0")  # static, but not the book's pages (helpers.settings.in_book)
    assert "<a " not in mark._repr_html_()
    monkeypatch.delenv("FIELDNOTES_BOOK")
    monkeypatch.delenv("FIELDNOTES_STATIC")
    html = mark._repr_html_()
    assert "<a " not in html and "claim frozendict-accepts-assignments: holds on diffusers 0.42.1" in html


def test_error_message_and_needs_name_what_has_no_qualified_name():
    import functools
    import json

    from helpers.book.claims import MissingAPI, error_message, needs

    call = functools.partial(abs)  # no __qualname__: its repr names it
    with pytest.raises(AssertionError, match=r"^functools\.partial\(<built-in function abs>\) raised nothing"):
        error_message(call, -1)
    with pytest.raises(MissingAPI, match=r"^module has no no_such_function in this release$"):
        needs(json, "no_such_function")
    with pytest.raises(MissingAPI, match=r"^dict has no no_such_method in this release$"):
        needs({}, "no_such_method")
    with pytest.raises(TypeError, match=r"^owner must be the module or class itself .*got the str 'json'$"):
        needs("json", "dumps")
