"""Unit tests for the query language: parsing like websearch_to_tsquery, compiling to FTS5.

The parser's agreement with PostgreSQL itself is proven in
``tests/integration/test_search_backends.py``; here are the rules one by one, and the promise
that no text typed into the search box can make FTS5 fail.
"""

from __future__ import annotations

import random
import sqlite3
from contextlib import closing

import pytest

from services.index.query import (
    MAX_QUERY_WORDS,
    And,
    Not,
    Or,
    Phrase,
    Term,
    highlight_stems,
    is_negative,
    parse,
    to_fts5,
    to_tsquery_text,
)

# --- parsing ------------------------------------------------------------------------------------


def test_words_are_anded() -> None:
    """Every word typed must match, as in every web search box."""
    assert parse("Minsk Technopark") == And((Term("minsk"), Term("technopark")))


def test_words_are_folded_like_the_index_folds_them() -> None:
    """Case, composed umlauts and yo must not matter, or query and index words never meet."""
    assert parse("ЁЛКА Fo\u0308deration") == And((Term("елка"), Term("föderation")))


def test_quotes_make_a_phrase() -> None:
    """ "a b" needs the words together; one quoted word is just that word."""
    assert parse('"кластер технопарков" x') == And((Phrase(("кластер", "технопарков")), Term("x")))
    assert parse('"x"') == Term("x")


def test_an_unclosed_quote_runs_to_the_end() -> None:
    """People forget the closing quote; the rest of the line is the phrase."""
    assert parse('a "b c') == And((Term("a"), Phrase(("b", "c"))))


def test_minus_excludes_a_word_or_a_phrase() -> None:
    """-word and -"a phrase" exclude; a minus inside a word is part of the word."""
    assert parse('a -b -"c d"') == And((Term("a"), Not(Term("b")), Not(Phrase(("c", "d")))))
    assert parse("Минск-Москва") == Phrase(("минск", "москва"))


def test_or_binds_looser_than_and() -> None:
    """ "a b OR c" is (a AND b) OR c, exactly as PostgreSQL reads it."""
    assert parse("a b OR c") == Or((And((Term("a"), Term("b"))), Term("c")))
    assert parse("a OR b c") == Or((Term("a"), And((Term("b"), Term("c")))))
    assert parse("a or b OR c") == Or((Term("a"), Term("b"), Term("c")))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("OR a", And((Term("or"), Term("a")))),  # nothing before it: a word
        ("a OR", And((Term("a"), Term("or")))),  # nothing after it: a word
        ("a ORb", And((Term("a"), Term("orb")))),  # glued to a word: part of it
        ("a OR OR b", Or((Term("a"), And((Term("or"), Term("b")))))),
        ('a OR"b"', Or((Term("a"), Term("b")))),
        ("a OR -b", Or((Term("a"), Not(Term("b"))))),
    ],
)
def test_or_is_an_operator_only_between_operands(query: str, expected: object) -> None:
    """A lone or dangling OR is the word "or", as in websearch_to_tsquery."""
    assert parse(query) == expected


@pytest.mark.parametrize("query", ["(a b)", "a & b", "!a !b", "a | b", "a:* b", "<a> b"])
def test_other_operator_characters_are_ignored(query: str) -> None:
    """Parentheses, tsquery and FTS5 operators typed in are noise, never syntax."""
    assert parse(query) == And((Term("a"), Term("b")))


@pytest.mark.parametrize("query", ["", "   ", '"', '""', "-", "- -", "()", "*", ":", "!&|<", "-!"])
def test_queries_without_words_parse_to_nothing(query: str) -> None:
    """No words, no query: the backends return no hits rather than an error or everything."""
    assert parse(query) is None


def test_empty_operands_drop_out_with_their_operator() -> None:
    """ "a OR "" b" loses the empty phrase, as PostgreSQL drops stop words."""
    assert parse('a OR "" b') == Or((Term("a"), Term("b")))
    assert parse("a -") == Term("a")


def test_query_words_stop_at_the_cap() -> None:
    """A pasted wall of text must not build an unboundedly large MATCH expression."""
    node = parse(" ".join(f"w{n}" for n in range(MAX_QUERY_WORDS + 10)))
    assert isinstance(node, And)
    assert len(node.children) == MAX_QUERY_WORDS
    phrase = parse('"' + " ".join(f"w{n}" for n in range(MAX_QUERY_WORDS + 10)) + '"')
    assert isinstance(phrase, Phrase)
    assert len(phrase.words) == MAX_QUERY_WORDS


def test_tsquery_text_shows_the_tree() -> None:
    """The text form is what PostgreSQL prints, so the two can be compared."""
    node = parse('x -"y z" OR w')
    assert node is not None
    assert to_tsquery_text(node) == "( 'x' & !( 'y' <-> 'z' ) ) | 'w'"


# --- FTS5 ---------------------------------------------------------------------------------------


def _fts5(query: str) -> tuple[str, bool]:
    node = parse(query)
    assert node is not None
    return to_fts5(node)


def test_a_word_matches_any_of_its_stemmed_forms() -> None:
    """The query's language is unknown: a word matches as each stemmer would have stored it."""
    # Russian and Belarusian stems, the word as it is, and the Ukrainian lemma pymorphy3 guesses
    # for it (an adjective), since a Ukrainian document would store that.
    assert _fts5("технопарков") == ('("технопарк" OR "технопарков" OR "технопарковий")', False)
    assert _fts5("2025") == ('"2025"', False)


def test_words_and_operators_compile_to_fts5_operators() -> None:
    """AND, OR and NOT keep their meaning; every word stays inside quotes."""
    assert _fts5("x y OR z") == ('(("x" AND "y") OR "z")', False)
    assert _fts5("x -y -z") == ('"x" NOT ("y" OR "z")', False)


def test_a_phrase_matches_in_one_stemmer_form_at_a_time() -> None:
    """A document is stemmed in one language, so the phrase's words share one stemmer."""
    expression, negated = _fts5('"кластера технопарков"')
    assert not negated
    # Russian stems, unstemmed words, and Belarusian stems (which leave «-оў», not «-ов»).
    assert expression == (
        '("кластер технопарк" OR "кластер технопарков" OR "кластера технопарков")'
    )


def test_only_exclusions_compile_to_a_negated_expression() -> None:
    """FTS5 has no unary NOT: "-a -b" is "everything but (a OR b)"."""
    assert _fts5("-x -y") == ('("x" OR "y")', True)
    assert _fts5("x OR -y") == ('"y" NOT "x"', True)
    assert _fts5("--x") == ('"x"', False)
    assert is_negative(Not(Term("x")))
    assert not is_negative(Term("x"))


def test_quotes_inside_words_are_escaped() -> None:
    """Quoting must hold even for a token containing a quote, should a tokenizer allow one."""
    assert to_fts5(Term('a"b')) == ('"a""b"', False)


def test_highlights_are_the_forms_of_wanted_words_only() -> None:
    """Snippets mark why a document matched; an excluded word is never the reason."""
    assert highlight_stems(parse("технопарков -Минск")) == {
        "технопарков", "технопарк", "технопарковий",
    }  # fmt: skip
    assert highlight_stems(None) == set()


def _random_query(rng: random.Random) -> str:
    pieces = ['"', "-", "OR", "or", "AND", "NOT", "NEAR", "(", ")", "*", "^", ":", "{", "}",
              "+", "'", "\\", " ", " ", "x", "технопарк", "Straße", "1", ",", ".", "\x00", "\t",
              "title:", "a", "b", "ё", "-\"", "\"\""]  # fmt: skip
    return "".join(rng.choice(pieces) for _ in range(rng.randint(1, 16)))


def test_no_query_text_can_make_fts5_fail() -> None:
    """Whatever is typed, the compiled expression is valid FTS5 and runs."""
    rng = random.Random(20251011)
    with closing(sqlite3.connect(":memory:")) as conn:
        conn.execute("CREATE VIRTUAL TABLE t USING fts5 (title, body)")
        conn.execute("INSERT INTO t VALUES ('технопарк', 'x a b 1')")
        for _ in range(3000):
            node = parse(_random_query(rng))
            if node is None:
                continue
            expression, _ = to_fts5(node)
            conn.execute("SELECT count(*) FROM t WHERE t MATCH ?", (expression,)).fetchone()
