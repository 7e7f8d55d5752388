"""The search box's query language, parsed once and compiled for SQLite FTS5.

The syntax is PostgreSQL's ``websearch_to_tsquery``, which the PostgreSQL backend hands the text
to as it is; this module gives the SQLite backend the same meaning by parsing the text the way
PostgreSQL does (same tokens, same precedence, same treatment of stray operators) into a small
AST and compiling that to an FTS5 expression:

- words: all must match (``a b`` is a AND b);
- ``"quoted words"``: a phrase, the words adjacent and in order;
- ``-word`` / ``-"a phrase"``: must not match;
- ``OR`` (any case) between two operands: either; AND binds tighter than OR, so ``a b OR c``
  is ``(a AND b) OR c``;
- everything else (parentheses, ``!&|<:*``, unbalanced quotes) is ignored, never an error.

User text never reaches FTS5 as syntax: every word is sent only inside a double-quoted FTS5
string. Nothing here touches storage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from services.index.stemming import (
    STEMMING_ALGORITHMS,
    iter_words,
    query_variants,
    stem_word,
)

# Bounds the size of the MATCH expression (each word adds up to three OR-ed strings); words
# beyond this are ignored rather than making one query arbitrarily expensive.
MAX_QUERY_WORDS = 32

# Characters PostgreSQL's websearch parser skips where it expects an operand, and that end a word.
_OPERATOR_CHARS = frozenset("!&|()<")
_WORD_END = _OPERATOR_CHARS | {'"', ":"}


@dataclass(frozen=True)
class Term:
    """One word, folded (lowercase, NFC, yo as ie); matches any of its forms."""

    word: str


@dataclass(frozen=True)
class Phrase:
    """Words that must follow each other, in order."""

    words: tuple[str, ...]


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


Node = Term | Phrase | Not | And | Or

_Token = tuple[Literal["value"], tuple[str, ...]] | tuple[Literal["not", "and", "or"], None]


def _is_or_operator(text: str, at: int) -> bool:
    """PostgreSQL's rule: ``or`` not glued to a word, with some operand somewhere after it."""
    if text[at : at + 2].lower() != "or" or at + 2 >= len(text):
        return False
    follower = text[at + 2]
    if follower in "-_" or follower.isalnum():
        return False
    return any(not char.isspace() for char in text[at + 3 :])


def _lex(text: str) -> list[_Token]:
    """Split ``text`` into operands and operators as ``websearch_to_tsquery`` does.

    After an operand, operator characters and whitespace are skipped, ``OR`` is OR and anything
    else is an implicit AND; where an operand is expected, ``-`` is NOT, a double quote opens a
    phrase that runs to the next quote (or the end), operator characters are skipped, and
    anything else is a word that runs to whitespace, a quote, a colon or an operator character.
    """
    tokens: list[_Token] = []
    words_seen = 0
    position, end = 0, len(text)
    want_operand = True
    while position < end and words_seen < MAX_QUERY_WORDS:
        char = text[position]
        if not want_operand:
            if char == '"':
                tokens.append(("and", None))
                want_operand = True
            elif _is_or_operator(text, position):
                tokens.append(("or", None))
                position += 2
                want_operand = True
            elif char.isspace() or char in _OPERATOR_CHARS:
                position += 1
            else:
                tokens.append(("and", None))
                want_operand = True
            continue
        if char == "-":
            tokens.append(("not", None))
            position += 1
        elif char == '"':
            close = text.find('"', position + 1)
            close = end if close < 0 else close
            words = tuple(word for _, _, word in iter_words(text[position + 1 : close]))
            tokens.append(("value", words[: MAX_QUERY_WORDS - words_seen]))
            words_seen += len(words)
            position = close + 1
            want_operand = False
        elif char in _OPERATOR_CHARS or char.isspace():
            position += 1
        else:
            stop = position + 1
            while stop < end and not text[stop].isspace() and text[stop] not in _WORD_END:
                stop += 1
            words = tuple(word for _, _, word in iter_words(text[position:stop]))
            tokens.append(("value", words[: MAX_QUERY_WORDS - words_seen]))
            words_seen += len(words)
            position = stop
            want_operand = False
    return tokens


def _combine(kind: type[And] | type[Or], left: Node | None, right: Node | None) -> Node | None:
    # An operand without words (punctuation, an empty phrase) drops out, and its operator with
    # it, as PostgreSQL drops stop words: "a OR ''" is just "a".
    if left is None or right is None:
        return left if right is None else right
    parts: list[Node] = []
    for node in (left, right):
        parts.extend(node.children if isinstance(node, kind) else (node,))
    return kind(tuple(parts))


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self._tokens = tokens
        self._at = 0

    def _peek(self) -> str | None:
        return self._tokens[self._at][0] if self._at < len(self._tokens) else None

    def parse_or(self) -> Node | None:
        node = self._parse_and()
        while self._peek() == "or":
            self._at += 1
            node = _combine(Or, node, self._parse_and())
        return node

    def _parse_and(self) -> Node | None:
        node = self._parse_unary()
        while self._peek() == "and":
            self._at += 1
            node = _combine(And, node, self._parse_unary())
        return node

    def _parse_unary(self) -> Node | None:
        kind = self._peek()
        if kind == "not":
            self._at += 1
            child = self._parse_unary()
            return None if child is None else Not(child)
        if kind == "value":
            words = self._tokens[self._at][1]
            self._at += 1
            if not words:
                return None
            return Term(words[0]) if len(words) == 1 else Phrase(words)
        return None  # the end: a trailing operator has no operand


def parse(text: str) -> Node | None:
    """Parse a search-box query; None when it holds no words (nothing can match it)."""
    return _Parser(_lex(text)).parse_or()


# --- FTS5 -------------------------------------------------------------------------------------


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _any_of(strings: set[str]) -> str:
    alternatives = sorted(strings)
    if len(alternatives) == 1:
        return alternatives[0]
    return "(" + " OR ".join(alternatives) + ")"


def _phrase_variants(words: tuple[str, ...]) -> set[str]:
    # A document is stemmed with one language, so a phrase matches in the form one stemmer (or
    # none, for unstemmed languages) gives all of its words, not a mix of forms.
    forms = {words} | {
        tuple(stem_word(word, algorithm) for word in words) for algorithm in STEMMING_ALGORITHMS
    }
    return {_quote(" ".join(form)) for form in forms}


def _group(parts: list[str], operator: str) -> str:
    return parts[0] if len(parts) == 1 else "(" + f" {operator} ".join(parts) + ")"


def to_fts5(node: Node) -> tuple[str, bool]:  # noqa: PLR0911  # one return per case reads best
    """Compile ``node`` to an FTS5 MATCH expression: ``(expression, negated)``.

    FTS5 has only a binary ``a NOT b``, so a query that excludes without including anything
    ("-word", or "a OR -b") cannot be one MATCH. When ``negated`` is true, the query matches
    the documents the expression does *not* match.
    """
    if isinstance(node, Term):
        return _any_of({_quote(variant) for variant in query_variants(node.word)}), False
    if isinstance(node, Phrase):
        return _any_of(_phrase_variants(node.words)), False
    if isinstance(node, Not):
        expression, negated = to_fts5(node.child)
        return expression, not negated
    compiled = [to_fts5(child) for child in node.children]
    positive = [expression for expression, negated in compiled if not negated]
    negative = [expression for expression, negated in compiled if negated]
    if isinstance(node, And):
        if not positive:  # none of N1, N2 = not (N1 or N2)
            return _group(negative, "OR"), True
        if not negative:
            return _group(positive, "AND"), False
        return f"{_group(positive, 'AND')} NOT {_group(negative, 'OR')}", False
    if not negative:
        return _group(positive, "OR"), False
    # P1 or not N1 or not N2 = not ((N1 and N2) and not P1)
    if not positive:
        return _group(negative, "AND"), True
    return f"{_group(negative, 'AND')} NOT {_group(positive, 'OR')}", True


# --- PostgreSQL and snippets --------------------------------------------------------------------


def _tsquery_operand(node: Node, stemmer: str | None) -> str:
    text = to_tsquery_text(node, stemmer=stemmer)
    return text if isinstance(node, Term | Not) else f"( {text} )"


def _lexeme(word: str) -> str:
    return "'" + word.replace("'", "''") + "'"


def to_tsquery_text(node: Node, *, stemmer: str | None = None) -> str:
    """The tsquery this AST stands for.

    Unstemmed (no ``stemmer``) it is what ``websearch_to_tsquery('simple', q)`` gives for the
    same text; tests compare the two to prove the parsers agree. With a ``stemmer`` (one of
    ``PYTHON_ALGORITHMS``, which PostgreSQL lacks) it matches documents stored with that
    stemmer's stems as SQLite's expression does: a word as any of its ``query_variants``, a
    phrase in that stemmer's forms.
    """
    if isinstance(node, Term):
        if stemmer is None:
            return _lexeme(node.word)
        variants = sorted(query_variants(node.word))
        joined = " | ".join(_lexeme(variant) for variant in variants)
        return joined if len(variants) == 1 else f"( {joined} )"
    if isinstance(node, Phrase):
        forms = node.words if stemmer is None else [stem_word(w, stemmer) for w in node.words]
        return " <-> ".join(_lexeme(form) for form in forms)
    if isinstance(node, Not):
        return "!" + _tsquery_operand(node.child, stemmer)
    operator = " & " if isinstance(node, And) else " | "
    return operator.join(_tsquery_operand(child, stemmer) for child in node.children)


def highlight_stems(node: Node | None) -> set[str]:
    """Every form of the words a match is *for* (not the excluded ones): what snippets mark."""
    if node is None:
        return set()
    if isinstance(node, Term):
        return query_variants(node.word)
    if isinstance(node, Phrase):
        return set().union(*(query_variants(word) for word in node.words))
    if isinstance(node, Not):
        return set()
    return set().union(*(highlight_stems(child) for child in node.children))


def is_negative(node: Node) -> bool:
    """True when the query only excludes: it matches what the compiled expression does not."""
    return to_fts5(node)[1]
