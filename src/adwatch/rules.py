"""The watchlist query language: parse a query into a tree of nodes, and print it back.

    query    := or_expr
    or_expr  := and_expr ("OR" and_expr)*
    and_expr := near ("AND" near | "NOT" near)*        a NOT b  is  a AND NOT b
    near     := unary ("NEAR/n" unary)*
    unary    := "NOT" primary | primary
    primary  := WORD | WORD* | "a phrase" | "a phrase*" | "(" or_expr ")"

Precedence is NOT > NEAR > AND > OR. Keywords are upper-case; `and`, `or`, `not`
in lower case are ordinary words. Two terms side by side are an error: words that
belong together go in quotes. docs/matching.md is the user's reference.

Watchlist `terms`, `context` and `exclude` lists are literal text, except that a
trailing `*` means what it means here (`split_term`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypeAlias

from adwatch.errors import QueryError

MAX_NEAR = 1000
MAX_DEPTH = 40  # parentheses and NOTs nested deeper than this are a typo, not a query
MIN_WILDCARD_STEM = 2  # `a*` would match a quarter of English: ask for two letters

_KEYWORDS = ("AND", "OR", "NOT")
_NEAR = re.compile(r"NEAR/([0-9]{1,6})")
_OPEN_QUOTES = '"“'
_CLOSE_QUOTES = '"”'
_SPECIAL = "()" + _OPEN_QUOTES + _CLOSE_QUOTES
# A wildcard stem is plain Latin: letters a-z, digits and the joiners found in
# brand names and hashtags. Vietnamese syllables are whole words, never prefixes.
_WILDCARD_STEM = re.compile(r"[A-Za-z0-9][A-Za-z0-9'._&+#@-]*")


# --- the tree -----------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One word, matched whole (or as a prefix when `wildcard`)."""

    text: str
    wildcard: bool = False


@dataclass(frozen=True)
class Phrase:
    """Quoted words matched in sequence; `wildcard` makes the last word a prefix."""

    text: str
    wildcard: bool = False


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class Near:
    left: Node
    right: Node
    distance: int


Node: TypeAlias = Term | Phrase | And | Or | Not | Near
Leaf: TypeAlias = Term | Phrase


def leaves(node: Node) -> list[Leaf]:
    """Every term and phrase of the tree, in query order (NOT clauses included)."""
    if isinstance(node, Term | Phrase):
        return [node]
    if isinstance(node, Not):
        return leaves(node.child)
    if isinstance(node, Near):
        return leaves(node.left) + leaves(node.right)
    return [leaf for child in node.children for leaf in leaves(child)]


def leaf_label(leaf: Leaf) -> str:
    """How a hit names the term of a query that fired: its words, with `*` if any."""
    return leaf.text + ("*" if leaf.wildcard else "")


# --- printing -----------------------------------------------------------------------


def format_query(node: Node) -> str:
    """The query text for `node`; parse_query(format_query(n)) == n."""
    if isinstance(node, Term):
        return leaf_label(node)
    if isinstance(node, Phrase):
        return f'"{leaf_label(node)}"'
    if isinstance(node, Not):
        return f"NOT {_operand(node.child)}"
    if isinstance(node, Near):
        return f"{_operand(node.left)} NEAR/{node.distance} {_operand(node.right)}"
    if isinstance(node, And):
        return " AND ".join(
            format_query(child) if isinstance(child, Not) else _operand(child)
            for child in node.children
        )
    return " OR ".join(_operand(child) for child in node.children)


def _operand(node: Node) -> str:
    if isinstance(node, Term | Phrase):
        return format_query(node)
    return f"({format_query(node)})"


# --- tokens -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # "word", "phrase", "(", ")", "AND", "OR", "NOT", "NEAR", "end"
    position: int
    text: str = ""
    wildcard: bool = False
    distance: int = 0

    def describe(self) -> str:
        if self.kind == "end":
            return "end of query"
        if self.kind == "word":
            return f"the term {self.text + ('*' if self.wildcard else '')!r}"
        if self.kind == "phrase":
            return f"the phrase {self.text!r}"
        if self.kind == "NEAR":
            return f"'NEAR/{self.distance}'"
        return repr(self.kind)


def _error(position: int, expected: str, got: str, hint: str = "") -> QueryError:
    message = f"bad query at position {position}: expected {expected}, got {got}"
    if hint:
        message += f" ({hint})"
    return QueryError(message, position=position)


def _tokenize(query: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(query):
        char = query[i]
        if char.isspace():
            i += 1
        elif char in "()":
            tokens.append(_Token(char, i))
            i += 1
        elif char in _OPEN_QUOTES:
            token, i = _read_phrase(query, i)
            tokens.append(token)
        elif char in _CLOSE_QUOTES:
            raise _error(
                i, "a term, phrase or '('", repr(char), "a closing quote with no opening one"
            )
        else:
            token, i = _read_word(query, i)
            tokens.append(token)
    tokens.append(_Token("end", len(query)))
    return tokens


def _read_phrase(query: str, start: int) -> tuple[_Token, int]:
    close = next((j for j in range(start + 1, len(query)) if query[j] in _CLOSE_QUOTES), -1)
    if close < 0:
        raise _error(
            len(query), f"a closing quote for the phrase at position {start}", "end of query"
        )
    raw = query[start + 1 : close]
    text, wildcard = _strip_wildcard(raw, start + 1)
    text = " ".join(text.split())
    if not _has_letter(text):
        raise _error(start, "words inside the quotes", repr(query[start : close + 1]))
    return _Token("phrase", start, text=text, wildcard=wildcard), close + 1


def _read_word(query: str, start: int) -> tuple[_Token, int]:
    end = start
    while end < len(query) and not query[end].isspace() and query[end] not in _SPECIAL:
        end += 1
    word = query[start:end]
    if word in _KEYWORDS:
        return _Token(word, start), end
    if word == "NEAR" or word.startswith("NEAR/"):
        return _near_token(word, start), end
    text, wildcard = _strip_wildcard(word, start)
    if not _has_letter(text):
        raise _error(start, "a term with letters or digits", repr(word))
    return _Token("word", start, text=text, wildcard=wildcard), end


def _near_token(word: str, start: int) -> _Token:
    found = _NEAR.fullmatch(word)
    if not found:
        raise _error(start, "NEAR/n with a number of words n, like NEAR/5", repr(word))
    distance = int(found.group(1))
    if not 1 <= distance <= MAX_NEAR:
        raise _error(start, f"a NEAR distance from 1 to {MAX_NEAR}", repr(word))
    return _Token("NEAR", start, distance=distance)


def _strip_wildcard(text: str, offset: int) -> tuple[str, bool]:
    """`text` without its trailing `*`, and whether it had one; a misplaced `*` is an error."""
    problem = _wildcard_problem(text)
    if problem is not None:
        raise _error(offset + problem.position, problem.expected, repr(text), problem.hint)
    return _without_star(text)


def _without_star(text: str) -> tuple[str, bool]:
    """`text` without its (well-placed) trailing `*`, and whether it had one."""
    if "*" not in text:
        return text, False
    return text.rstrip()[:-1], True


@dataclass(frozen=True)
class _WildcardProblem:
    position: int  # of the offending '*'
    expected: str
    hint: str = ""


def _wildcard_problem(text: str) -> _WildcardProblem | None:
    """What is wrong with the `*` in `text`, if anything: only a trailing one is allowed."""
    star = text.find("*")
    if star < 0:
        return None
    body = text.rstrip()
    if star != len(body) - 1:
        return _WildcardProblem(star, "'*' only at the end of a word")
    stem = body[:-1]
    last_word = stem.split()[-1] if stem.strip() else ""
    if not last_word or stem != stem.rstrip():
        return _WildcardProblem(star, "a word right before '*'")
    if not _WILDCARD_STEM.fullmatch(last_word):
        return _WildcardProblem(
            star,
            "a word in plain Latin letters before '*'",
            "Thai, Burmese and Vietnamese words take no wildcard: list the forms you mean",
        )
    if sum(c.isalnum() for c in last_word) < MIN_WILDCARD_STEM:
        return _WildcardProblem(star, f"at least {MIN_WILDCARD_STEM} letters before '*'")
    return None


def split_term(term: str) -> tuple[str, bool]:
    """The words of a watchlist term, and whether its last word is a prefix (`deepfake*`).

    A term is literal text except for a trailing `*`, which means what it means in a
    query. Raises QueryError (position: the `*`) for any `*` a query would refuse.
    """
    problem = _wildcard_problem(term)
    if problem is not None:
        hint = f" ({problem.hint})" if problem.hint else ""
        raise QueryError(
            f"expected {problem.expected}, got {term!r}{hint}", position=problem.position
        )
    return _without_star(term)


def _has_letter(text: str) -> bool:
    return any(c.isalnum() for c in text)


# --- parsing ------------------------------------------------------------------------


def parse_query(query: str) -> Node:
    """The tree of `query`; raises QueryError naming the position of the first problem."""
    parser = _Parser(_tokenize(query))
    node, positive = parser.parse()
    if not positive:
        raise _error(0, "a term or phrase to look for", "only NOT clauses", "NOT only rules out")
    return node


class _Parser:
    """Recursive descent over the tokens; each rule returns (node, can it find a word)."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.depth = 0

    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def parse(self) -> tuple[Node, bool]:
        result = self.or_expr()
        if self.token.kind == ")":
            raise _error(
                self.token.position, "AND, OR, NEAR or end of query", "')'", "no '(' to close"
            )
        if self.token.kind != "end":  # pragma: no cover - and_expr reports every other token
            raise _error(self.token.position, "end of query", self.token.describe())
        return result

    def or_expr(self) -> tuple[Node, bool]:
        start = self.token.position
        first = self.and_expr()
        parts = [(start, first)]
        while self.token.kind == "OR":
            self.advance()
            parts.append((self.token.position, self.and_expr()))
        if len(parts) == 1:
            return first
        for position, (_, positive) in parts:
            if not positive:
                raise _error(
                    position,
                    "a term or phrase on each side of OR",
                    "a NOT-only clause",
                    "OR NOT would match nearly every article; use AND NOT",
                )
        return Or(tuple(_flatten(Or, [node for _, (node, _) in parts]))), True

    def and_expr(self) -> tuple[Node, bool]:
        first = self.near_expr()
        parts = [first]
        while True:
            kind = self.token.kind
            if kind == "AND":
                self.advance()
                parts.append(self.near_expr())
            elif kind == "NOT":  # infix: `a NOT b` reads as `a AND NOT b`
                self.advance()
                node, _ = self.near_expr()
                parts.append((Not(node), False))
            elif kind in ("word", "phrase", "("):
                raise self._missing_operator()
            else:
                break
        if len(parts) == 1:
            return first
        positive = any(p for _, p in parts)
        return And(tuple(_flatten(And, [node for node, _ in parts]))), positive

    def _missing_operator(self) -> QueryError:
        previous, token = self.tokens[self.index - 1], self.token
        hint = ""
        if previous.kind in ("word", "phrase") and token.kind in ("word", "phrase"):
            together = f"{previous.text} {token.text}"
            hint = f'to match the words together, quote them: "{together}"'
        if token.kind == "word" and token.text.upper() in _KEYWORDS + ("NEAR",):
            hint = "keywords are upper-case: AND, OR, NOT, NEAR/n"
        return _error(token.position, "AND, OR or NEAR between terms", token.describe(), hint)

    def near_expr(self) -> tuple[Node, bool]:
        start = self.token.position
        left, left_positive = self.unary()
        while self.token.kind == "NEAR":
            near = self.advance()
            right_start = self.token.position
            right, right_positive = self.unary()
            for position, positive in ((start, left_positive), (right_start, right_positive)):
                if not positive:
                    raise _error(
                        position,
                        "a term, phrase or group on each side of NEAR",
                        "a NOT clause",
                        f"to rule out words near each other write NOT (a NEAR/{near.distance} b)",
                    )
            left, left_positive = Near(left, right, near.distance), True
        return left, left_positive

    def unary(self) -> tuple[Node, bool]:
        if self.token.kind != "NOT":
            return self.primary()
        self.advance()
        if self.token.kind == "NOT":
            raise _error(self.token.position, "a term, phrase or '(' after NOT", "'NOT'")
        node, _ = self.primary()
        return Not(node), False

    def primary(self) -> tuple[Node, bool]:
        token = self.token
        if token.kind == "word":
            self.advance()
            return Term(token.text, token.wildcard), True
        if token.kind == "phrase":
            self.advance()
            return Phrase(token.text, token.wildcard), True
        if token.kind == "(":
            return self.group()
        raise _error(token.position, "a term, phrase or '('", token.describe())

    def group(self) -> tuple[Node, bool]:
        opening = self.advance()
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _error(opening.position, f"at most {MAX_DEPTH} nested '('", "more")
        result = self.or_expr()
        if self.token.kind != ")":
            raise _error(
                self.token.position,
                f"')' to close the '(' at position {opening.position}",
                self.token.describe(),
            )
        self.advance()
        self.depth -= 1
        return result


def _flatten(kind: type[And] | type[Or], nodes: list[Node]) -> list[Node]:
    """`a AND (b AND c)` is one AND of three: the same query, printed the same way."""
    flat: list[Node] = []
    for node in nodes:
        if isinstance(node, kind):
            flat.extend(node.children)
        else:
            flat.append(node)
    return flat
