"""The query language: parsing (property tests), error positions, and evaluation over a real table."""
from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from exptable_desktop.core import query as q
from exptable_desktop.core.query import (
    And,
    Catalogue,
    Not,
    Or,
    QueryError,
    Term,
    Text,
    Value,
    compile_query,
    completion_context,
    evaluate,
    format_query,
    parse,
)
from exptable_desktop.core.table_loading import load_table
from exptable_desktop.store.bulk import Scope
from views_support import names_of

# ---- Generated syntax trees ---------------------------------------------------------------------------

_WORD_CHARS = "abcXYZ019_.,@#%&*+'?é€ü"
_ANY_CHARS = _WORD_CHARS + ' \t()"\\|:=<>!~-/'
bare_words = hs.text(_WORD_CHARS, min_size=1, max_size=8)
any_text = hs.text(_ANY_CHARS, min_size=0, max_size=10)
regex_atoms = hs.sampled_from(["a", "b1", ".", ".*", "(x|y)", "[0-9]", r"\d", "/", "é", "^", "s+"])
regexes = hs.lists(regex_atoms, min_size=1, max_size=4).map("".join)


@hs.composite
def values(draw, in_term: bool):
    if draw(hs.booleans()) and draw(hs.integers(0, 3)) == 0:
        return Value(draw(regexes), regex=True)
    text = draw(hs.one_of(bare_words, any_text))
    must_quote = q._needs_quotes(text, value=in_term)
    return Value(text, quoted=must_quote or draw(hs.booleans()))


field_names = hs.one_of(
    hs.sampled_from(["status", "tag", "user", "lr", "Args/lr", "Args.lr", "started", "metric:accuracy/val.max",
                     "hp:Args/lr", "metric:a b/c d.min", "my param", "-odd", "x!=y"]),
    bare_words)


@hs.composite
def terms(draw):
    op = draw(hs.sampled_from(q.OPERATORS))
    count = draw(hs.integers(1, 3)) if op in q.LIST_OPERATORS else 1
    return Term(draw(field_names), op, tuple(draw(values(True)) for _ in range(count)))


leaves = hs.one_of(values(False).map(Text), terms())


def _trees(children):
    return hs.one_of(
        children.map(Not),
        hs.lists(children, min_size=2, max_size=4).map(lambda c: And(tuple(c))),
        hs.lists(children, min_size=2, max_size=4).map(lambda c: Or(tuple(c))),
    )


trees = hs.recursive(leaves, _trees, max_leaves=12)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(trees)
def test_every_tree_reads_back_from_its_text(tree):
    text = format_query(tree)
    assert parse(text).root == tree, text


@settings(max_examples=200)
@given(hs.text(_ANY_CHARS + "ORANDNOT ", max_size=30))
def test_any_text_parses_or_fails_with_a_position_inside_it(text):
    try:
        parsed = parse(text)
    except QueryError as exc:
        assert 0 <= exc.position <= len(text)
        assert exc.position < exc.end
        return
    # Its canonical text reads back to a tree with the same canonical text (a bare "-" comes back
    # quoted, the same text either way).
    canonical = format_query(parsed)
    assert format_query(parse(canonical)) == canonical


# Malformed endings appended to a valid query: (suffix, offset of the error inside the suffix).
MALFORMED = [
    (" (abc", 1, "never closed"),
    (" )", 1, "unmatched"),
    (' "abc', 1, "unterminated quote"),
    (" status:", 8, "expected a value"),
    (" OR", 3, "after OR"),
    (" name~/ab(/", 6, "invalid regular expression"),
    (" lr>1|2", 5, "one value"),
    (" /abc", 1, "unterminated regular expression"),
    (" ()", 1, "empty parentheses"),
    (" :x", 1, "field name"),
]


@settings(max_examples=150)
@given(trees, hs.sampled_from(MALFORMED))
def test_a_malformed_ending_is_reported_where_it_is(tree, malformed):
    suffix, offset, words = malformed
    valid = format_query(tree)
    with pytest.raises(QueryError) as caught:
        parse(valid + suffix)
    assert caught.value.position == len(valid) + offset, (valid + suffix, caught.value)
    assert words in caught.value.message


@pytest.mark.parametrize("text, position, words", [
    ("", 0, "empty"),
    ("   ", 3, "empty"),
    ("status:running AND", 18, "after AND"),
    ("NOT", 3, "after NOT"),
    ("a OR OR b", 5, "after OR"),
    ("x:\"open", 2, "unterminated quote"),
    ("(a OR (b c)", 0, "never closed"),
    ("metric:accuracy/val", 0, "needs an operator"),
])
def test_error_positions_of_known_mistakes(text, position, words):
    with pytest.raises(QueryError) as caught:
        parse(text)
    assert caught.value.position == position and words in caught.value.message
    assert f"at character {position + 1}" in str(caught.value)


def test_the_issue_example_parses_into_the_expected_tree():
    text = ('status:running tag:best -tag:debug user:alice|bob lr>0.01 metric:val/acc.max>=0.9 '
            'started>2026-11-01 name~/resnet(18|50)/ (A OR B)')
    root = parse(text).root
    assert isinstance(root, And) and len(root.children) == 9
    assert root.children[2] == Not(Term("tag", ":", (Value("debug"),)))
    assert root.children[3] == Term("user", ":", (Value("alice"), Value("bob")))
    assert root.children[5] == Term("metric:val/acc.max", ">=", (Value("0.9"),))
    assert root.children[7] == Term("name", "~", (Value("resnet(18|50)", regex=True),))
    assert root.children[8] == Or((Text(Value("A")), Text(Value("B"))))


def test_plain_words_are_plain_text_and_anything_else_is_a_query():
    assert parse("run 1").is_plain_text and parse("resnet-50").is_plain_text
    for text in ('"run 1"', "a OR b", "-x", "status:x", "/re/", "(a b)", "a AND b", "NOT a"):
        assert not parse(text).is_plain_text, text


# ---- Evaluation over a real table -----------------------------------------------------------------------

@pytest.fixture
def table(populated):
    return load_table(Scope(None, False))


SCOPE = Scope(None, False)


@pytest.mark.parametrize("text, expected", [
    ("status:running", ["c-vit", "g-resnet50", "h-late", "z-nlp"]),
    ("status:completed|failed", ["a-baseline", "b-resnet18", "e-failed"]),
    ("status:in_progress type:testing", ["c-vit"]),
    ("tag:best -tag:debug", ["b-resnet18", "h-late"]),
    ('tag:""', ["d-untagged", "f-draft", "z-nlp"]),
    ("user:alice|bob", ["a-baseline", "b-resnet18", "c-vit", "e-failed", "f-draft", "h-late"]),
    ("project:vision/cnn", ["b-resnet18", "e-failed"]),
    ("project:vit", ["c-vit", "g-resnet50"]),
    ("lr>0.05", ["b-resnet18", "h-late"]),
    ("Args/lr>=0.05", ["b-resnet18", "c-vit", "h-late"]),
    ("Args.optimizer:adam", ["b-resnet18", "c-vit", "g-resnet50"]),
    ("optimizer~/^adam/", ["b-resnet18", "c-vit", "g-resnet50", "z-nlp"]),
    ('lr:""', ["d-untagged", "f-draft"]),
    ("metric:accuracy/val.max>=0.8", ["b-resnet18", "h-late"]),
    ("accuracy/val.last<0.4", ["e-failed", "z-nlp"]),
    ("metric:accuracy/val<0.4", ["e-failed", "z-nlp"]),
    ("started>15d", ["c-vit", "e-failed", "g-resnet50", "h-late", "z-nlp"]),
    ("name~/resnet(18|50)/", ["b-resnet18", "g-resnet50"]),
    ("name:RESNET", ["b-resnet18", "g-resnet50"]),
    ("name=c-vit", ["c-vit"]),
    ("name!=c-vit user:alice", ["a-baseline", "f-draft"]),
    ("(user:dave OR tag:sweep) -status:running", []),
    ("user:dave OR tag:sweep", ["g-resnet50", "z-nlp"]),
    ("NOT user:bob AND NOT user:alice", ["d-untagged", "g-resnet50", "z-nlp"]),
    ("resnet OR nlp", ["b-resnet18", "g-resnet50", "z-nlp"]),
    ('"about a-"', ["a-baseline"]),
    ("/^[ab]-/", ["a-baseline", "b-resnet18"]),
    ("description:about -description:vit", ["a-baseline", "b-resnet18", "d-untagged", "e-failed", "f-draft",
                                             "g-resnet50", "h-late", "z-nlp"]),
    ("iteration>=4 -lr>0.01", ["a-baseline", "e-failed", "z-nlp"]),
])
def test_queries_select_the_expected_experiments(table, text, expected):
    mask = evaluate(parse(text), table, scope=SCOPE)
    assert names_of(table, mask & table.alive[:table.n]) == expected


def test_a_named_column_not_loaded_yet_is_read_in_bulk_first(table):
    from exptable_desktop.core.columns import hyperparam_key, metric_key

    assert not table.metrics and not table.hyperparams
    evaluate("lr>0.05 metric:accuracy/val.max>0.5", table, scope=SCOPE)
    assert set(table.metrics) == {metric_key("accuracy", "val", "max")}
    assert set(table.hyperparams) == {hyperparam_key("Args", "lr")}


def test_the_same_query_on_a_few_slots_agrees_with_the_whole_table(table):
    compiled = compile_query("tag:best OR lr<0.02", q.catalogue_for(SCOPE))
    q.load_columns(table, SCOPE, compiled.columns)
    whole = compiled.evaluate(table)
    some = np.array([4, 0, 2], np.int64)
    assert compiled.evaluate(table, some).tolist() == whole[some].tolist()


@pytest.mark.parametrize("text, position, words", [
    ("colour:red", 0, "unknown field 'colour'"),
    ("metric:nope/val>1", 0, "no metric 'nope/val'"),
    ("hp:Args/nope:1", 0, "no hyperparameter"),
    ("started>yesterdayish", 7, "is not a date"),
    ("run_time>5 lr>abc", 13, "compares numbers"),
    ("iteration:many", 9, "is not a number"),
    ("status>2", 0, "is a category"),
    ("started~/x/", 0, "matches text"),
    ("is:archived", 2, "only is:starred"),
    ("name<b", 0, "is text"),
])
def test_resolution_errors_point_at_the_field_or_value(table, text, position, words):
    with pytest.raises(QueryError) as caught:
        compile_query(text, q.catalogue_for(SCOPE))
    assert caught.value.position == position and words in caught.value.message


def test_dates_take_whole_days_datetimes_and_ages():
    start, end = q.parse_date("2026-11-01")
    assert time.localtime(start)[:6] == (2026, 11, 1, 0, 0, 0) and time.localtime(end)[:3] == (2026, 11, 2)
    start, end = q.parse_date("2026-11-01T14:30")
    assert end - start == 60 and time.localtime(start)[3:5] == (14, 30)
    now = 1_800_000_000.0
    assert q.parse_date("3d", now) == (now - 3 * 86400, now - 3 * 86400)
    assert q.parse_date("2026-13-01") is None and q.parse_date("soon") is None
    assert q.parse_duration("1h30m") == 5400 and q.parse_duration("90") == 90 and q.parse_duration("5x") is None


def test_day_comparisons_cover_the_whole_day():
    day_start, day_end = q.parse_date("2026-11-01")
    values = np.array([day_start - 1, day_start, day_start + 3600, day_end, np.nan])
    results = {op: q._comparison(op, day_start, day_end)(values).tolist() for op in (":", ">", ">=", "<", "<=", "!=")}
    assert results[":"] == [False, True, True, False, False]
    assert results[">"] == [False, False, False, True, False]
    assert results[">="] == [False, True, True, True, False]
    assert results["<"] == [True, False, False, False, False]
    assert results["<="] == [True, True, True, False, False]
    assert results["!="] == [True, False, False, True, False]


@pytest.mark.parametrize("text, cursor, expected", [
    ("sta", 3, (0, "sta", None)),
    ("tag:best us", 11, (9, "us", None)),
    ("status:ru", 9, (7, "ru", "status")),
    ("user:alice|b", 12, (11, "b", "user")),
    ("-tag:de", 7, (5, "de", "tag")),
    ("(lr>0", 5, (4, "0", "lr")),
    ("metric:accuracy/va", 18, (0, "metric:accuracy/va", None)),
    ("metric:accuracy/val.max>=0.", 27, (25, "0.", "metric:accuracy/val.max")),
    ("x status:ru y", 11, (9, "ru", "status")),
])
def test_completion_finds_the_word_under_the_cursor(text, cursor, expected):
    context = completion_context(text, cursor)
    assert (context.start, context.prefix, context.field) == expected


def test_suggestions_come_from_the_catalogue_and_the_table(table):
    catalogue = q.catalogue_for(SCOPE)
    fields = q.field_suggestions(catalogue)
    assert "status:" in fields and "lr:" in fields and "metric:accuracy/val.max" in fields
    q.load_columns(table, SCOPE, compile_query("lr:1", catalogue).columns)
    assert q.value_suggestions("lr", table, catalogue) == ["0.001", "0.01", "0.02", "0.05", "0.1", "0.2"]
    assert q.value_suggestions("user", table, catalogue) == ["alice", "bob", "carol", "dave"]
    assert "best" in q.value_suggestions("tag", table, catalogue)
    assert "running" in q.value_suggestions("status", table, catalogue)


def test_a_hundred_thousand_rows_evaluate_within_the_budget():
    """The issue's example over 100,000 synthetic rows: well under 100 ms (measured ~1 ms, the plain
    text and regex terms ~10-60 ms; see the report). Bound generously: the machine is shared."""
    from exptable_desktop.core.columns import hyperparam_key, metric_key
    from exptable_desktop.core.experiment_table import ExperimentTable
    from exptable_desktop.store.bulk import BASE_FIELDS

    n = 100_000
    rng = np.random.default_rng(1)
    now = time.time()
    statuses = np.array(["created", "in_progress", "completed", "failed"])[rng.integers(0, 4, n)]
    users = np.array(["alice", "bob", "carol"])[rng.integers(0, 3, n)]
    rows = [(f"{i:032x}", f"resnet{18 if i % 2 else 50}-{i}", "training", statuses[i], 1, users[i], None,
             now - i, now - i, i % 1000, None, "", 60.0, False, now - i, False) for i in range(n)]
    assert len(rows[0]) == len(BASE_FIELDS)
    table = ExperimentTable(n)
    table.tag_info = {1: ("best", None, None), 2: ("debug", None, None)}
    table.project_paths = {1: "p"}
    table.write_base_rows(rows)
    table.write_tags([(f"{i:032x}", 1 + i % 2) for i in range(0, n, 3)])
    table.add_custom_column(metric_key("val", "acc", "max"), [(f"{i:032x}", i / n) for i in range(n)])
    table.add_custom_column(hyperparam_key("Args", "lr"), [(f"{i:032x}", str(i % 5 / 100)) for i in range(n)])
    compiled = compile_query('status:running tag:best -tag:debug user:alice|bob lr>0.01 metric:val/acc.max>=0.9 '
                             'started>2026-11-01 name~/resnet(18|50)/ (A OR B)',
                             Catalogue([("val", "acc")], [("Args", "lr")]))
    best = min(_timed(lambda: compiled.evaluate(table)) for _ in range(3))
    assert best < 0.5, best


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start
