from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adwatch.errors import QueryError
from adwatch.rules import (
    And,
    Near,
    Node,
    Not,
    Or,
    Phrase,
    Term,
    format_query,
    leaf_label,
    leaves,
    parse_query,
    split_term,
)

DESIGN_QUERY = (
    '("political ad*" OR "quảng cáo chính trị" OR "โฆษณาหาเสียง") AND (TikTok OR Facebook) NOT quiz'
)


def test_the_design_example_parses_to_the_expected_tree() -> None:
    assert parse_query(DESIGN_QUERY) == And(
        (
            Or(
                (
                    Phrase("political ad", wildcard=True),
                    Phrase("quảng cáo chính trị"),
                    Phrase("โฆษณาหาเสียง"),
                )
            ),
            Or((Term("TikTok"), Term("Facebook"))),
            Not(Term("quiz")),
        )
    )


@pytest.mark.parametrize(
    ("query", "tree"),
    [
        ("scam", Term("scam")),
        ("ad*", Term("ad", wildcard=True)),
        ("โฆษณา", Term("โฆษณา")),
        ("lừa", Term("lừa")),
        ("ကြော်ငြာ", Term("ကြော်ငြာ")),
        ('"scam  ad"', Phrase("scam ad")),
        ("“smart quotes”", Phrase("smart quotes")),
        ("a OR b AND c", Or((Term("a"), And((Term("b"), Term("c")))))),
        ("a AND b OR c", Or((And((Term("a"), Term("b"))), Term("c")))),
        ("a AND b NEAR/3 c", And((Term("a"), Near(Term("b"), Term("c"), 3)))),
        ("a NEAR/3 b OR c", Or((Near(Term("a"), Term("b"), 3), Term("c")))),
        ("a AND NOT b", And((Term("a"), Not(Term("b"))))),
        ("a NOT b", And((Term("a"), Not(Term("b"))))),
        ("a NOT b NOT c", And((Term("a"), Not(Term("b")), Not(Term("c"))))),
        ("a NOT (b OR c)", And((Term("a"), Not(Or((Term("b"), Term("c"))))))),
        ("a AND (b AND c)", And((Term("a"), Term("b"), Term("c")))),
        ("((a))", Term("a")),
        ("a NEAR/5 b NEAR/2 c", Near(Near(Term("a"), Term("b"), 5), Term("c"), 2)),
        ("(a OR b) NEAR/10 c", Near(Or((Term("a"), Term("b"))), Term("c"), 10)),
        ("NEARBY", Term("NEARBY")),
        ("a AND or", And((Term("a"), Term("or")))),
    ],
)
def test_precedence_and_forms(query: str, tree: Node) -> None:
    assert parse_query(query) == tree


@pytest.mark.parametrize(
    ("query", "position", "fragment"),
    [
        ("", 0, "expected a term, phrase or '(', got end of query"),
        ("NOT quiz", 0, "only NOT clauses"),
        ("NOT a AND NOT b", 0, "only NOT clauses"),
        ("(NOT a)", 0, "only NOT clauses"),
        ("a OR NOT b", 5, "on each side of OR"),
        (
            "quảng cáo",
            6,
            "expected AND, OR or NEAR between terms, got the term 'cáo' (to match the words together, quote them: \"quảng cáo\")",
        ),
        ("scam ad", 5, "expected AND, OR or NEAR between terms"),
        ("a and b", 2, "keywords are upper-case"),
        ("a (b)", 2, "expected AND, OR or NEAR between terms, got '('"),
        ('a "b c"', 2, "got the phrase 'b c'"),
        ("(a", 2, "expected ')' to close the '(' at position 0, got end of query"),
        ("a)", 1, "no '(' to close"),
        ("a AND", 5, "got end of query"),
        ("OR a", 0, "got 'OR'"),
        ('"abc', 4, "a closing quote for the phrase at position 0"),
        ('""', 0, "words inside the quotes"),
        ("a ”", 2, "closing quote with no opening one"),
        ("a NEAR b", 2, "NEAR/n with a number"),
        ("a NEAR/x b", 2, "NEAR/n with a number"),
        ("a NEAR/0 b", 2, "from 1 to 1000"),
        ("a NEAR/1001 b", 2, "from 1 to 1000"),
        ("NOT a NEAR/5 b", 0, "on each side of NEAR"),
        ("a NEAR/5 NOT b", 9, "on each side of NEAR"),
        ("a AND NOT NOT b", 10, "after NOT, got 'NOT'"),
        ("*", 0, "a word right before '*'"),
        ("a*", 1, "at least 2 letters"),
        ("a*b", 1, "'*' only at the end"),
        ("ad**", 2, "'*' only at the end"),
        ("โฆษณา*", 5, "plain Latin letters"),
        ("quảng*", 5, "plain Latin letters"),
        ("ကြော်*", 5, "plain Latin letters"),
        ('"quảng cáo*"', 10, "plain Latin letters"),
        ('"ad *"', 4, "a word right before '*'"),
        ("---", 0, "a term with letters or digits"),
    ],
)
def test_errors_name_the_position_and_what_was_expected(
    query: str, position: int, fragment: str
) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(query)
    assert caught.value.position == position
    message = str(caught.value)
    assert message.startswith(f"bad query at position {position}: expected ")
    assert fragment in message
    assert "\n" not in message


def test_deep_nesting_is_a_query_error_not_a_crash() -> None:
    with pytest.raises(QueryError, match="nested"):
        parse_query("(" * 5000 + "a" + ")" * 5000)


def test_huge_near_number_is_a_query_error() -> None:
    with pytest.raises(QueryError):
        parse_query("a NEAR/" + "9" * 5000 + " b")


def test_leaves_and_labels() -> None:
    tree = parse_query(DESIGN_QUERY)
    assert [leaf_label(leaf) for leaf in leaves(tree)] == [
        "political ad*",
        "quảng cáo chính trị",
        "โฆษณาหาเสียง",
        "TikTok",
        "Facebook",
        "quiz",
    ]


def test_printer_writes_readable_queries() -> None:
    assert format_query(parse_query("a NOT b OR c")) == "(a AND NOT b) OR c"
    assert format_query(parse_query(DESIGN_QUERY)) == (
        '("political ad*" OR "quảng cáo chính trị" OR "โฆษณาหาเสียง")'
        " AND (TikTok OR Facebook) AND NOT quiz"
    )


# --- fuzzing ------------------------------------------------------------------------

_PIECES = [
    "AND", "OR", "NOT", "NEAR/3", "NEAR/", "NEAR", "(", ")", '"', "“", "”", "*", "ad*",
    "scam", "and", "or", "โฆษณา", "quảng", "cáo", "ကြော်ငြာ", "TikTok", "x", "-", "\u200b",
]  # fmt: skip
_query_soup = st.lists(st.one_of(st.sampled_from(_PIECES), st.text(max_size=3)), max_size=12).map(
    lambda parts: " ".join(parts)
)


def _parses_or_raises_query_error(query: str) -> None:
    try:
        tree = parse_query(query)
    except QueryError as exc:
        assert exc.position is not None
        assert 0 <= exc.position <= len(query)
        assert str(exc).startswith(f"bad query at position {exc.position}: expected ")
        return
    # Whatever parses prints back to a query that parses to the same tree.
    assert parse_query(format_query(tree)) == tree


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=40))
def test_any_text_parses_or_raises_query_error(query: str) -> None:
    _parses_or_raises_query_error(query)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_query_soup)
def test_token_soup_parses_or_raises_query_error(query: str) -> None:
    _parses_or_raises_query_error(query)


_words = st.sampled_from(["scam", "ad", "TikTok", "lừa", "โฆษณา", "ကြော်ငြာ", "and", "x1"])
_leaf = st.one_of(
    st.builds(Term, _words),
    st.builds(Term, st.sampled_from(["ad", "deep", "gamb"]), st.just(True)),
    st.builds(lambda a, b: Phrase(f"{a} {b}"), _words, _words),
    st.builds(Phrase, st.sampled_from(["political ad", "online gamb"]), st.just(True)),
)


def _extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    def and_node(parts: list[Node], negated: list[Node]) -> Node:
        flat: list[Node] = []
        for part in parts:
            flat.extend(part.children if isinstance(part, And) else [part])
        return And(tuple(flat) + tuple(Not(n) for n in negated))

    def or_node(parts: list[Node]) -> Node:
        flat: list[Node] = []
        for part in parts:
            flat.extend(part.children if isinstance(part, Or) else [part])
        return Or(tuple(flat))

    return st.one_of(
        st.builds(
            and_node, st.lists(children, min_size=2, max_size=3), st.lists(children, max_size=2)
        ),
        st.builds(or_node, st.lists(children, min_size=2, max_size=3)),
        st.builds(Near, children, children, st.integers(1, 1000)),
    )


@settings(max_examples=300, deadline=None)
@given(st.recursive(_leaf, _extend, max_leaves=12))
def test_printed_trees_parse_back_to_themselves(tree: Node) -> None:
    assert parse_query(format_query(tree)) == tree


# --- watchlist terms: the same trailing `*` as in queries ---------------------------


@pytest.mark.parametrize(
    ("term", "words", "prefix"),
    [
        ("deepfake", "deepfake", False),
        ("deepfake*", "deepfake", True),
        ("scam ad*", "scam ad", True),
        ("scam ad* ", "scam ad", True),
        ("โฆษณาหลอกลวง", "โฆษณาหลอกลวง", False),
        ("lừa đảo", "lừa đảo", False),
        ("#ad", "#ad", False),
        # Terms are literal text: query syntax in them is just characters.
        ("(ad) AND", "(ad) AND", False),
    ],
)
def test_split_term_reads_a_trailing_star_as_in_queries(
    term: str, words: str, prefix: bool
) -> None:
    assert split_term(term) == (words, prefix)


@pytest.mark.parametrize(
    ("term", "position", "message"),
    [
        (
            "โฆษณา*",
            5,
            "expected a word in plain Latin letters before '*', got 'โฆษณา*' (Thai, Burmese "
            "and Vietnamese words take no wildcard: list the forms you mean)",
        ),
        ("quảng cáo*", 9, "expected a word in plain Latin letters before '*'"),
        ("ကြော်ငြာ*", 8, "expected a word in plain Latin letters before '*'"),
        ("*", 0, "expected a word right before '*', got '*'"),
        ("scam *", 5, "expected a word right before '*', got 'scam *'"),
        ("a*", 1, "expected at least 2 letters before '*', got 'a*'"),
        ("sc*am", 2, "expected '*' only at the end of a word, got 'sc*am'"),
        ("scam* ad", 4, "expected '*' only at the end of a word"),
        ("ad**", 2, "expected '*' only at the end of a word"),
    ],
)
def test_split_term_refuses_what_a_query_refuses(term: str, position: int, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        split_term(term)
    assert caught.value.position == position
    assert str(caught.value).startswith(message)
    with pytest.raises(QueryError):  # the same word in a query is refused too
        parse_query(f'"{term}"')
