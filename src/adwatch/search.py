"""Full-text search over stored articles, with the watchlists' own matching rules.

A search runs in two steps (docs/store.md, "Searching"):

1. Candidates. Two FTS5 indexes find the articles that contain every term:
   `articles_fts`, trigrams of the stored title and text, for Thai and Burmese
   terms (their words are not separated by spaces); `articles_folded_fts`, the
   words of the Latin-script text in lower case without diacritics, for every
   other term. They find a little too much (trigrams find `ตา` inside `ตามที่`),
   never too little.
2. Verification. Each candidate, newest first, is read by adwatch's own
   `Matcher`, with the query as the query of a one-off watchlist: word and
   syllable boundaries, prefixes (`ad*`), tone-mark placement and NEAR are
   exactly the watchlists'. A query without Vietnamese diacritics is matched
   with `fold_diacritics`, so `ngo doc` finds "ngộ độc"; a query with them stays
   exact, so `mà` does not find "ma".

The folded index is kept by triggers in plain SQL (store.py, m004), so any
SQLite client that writes an article keeps it right.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import re
import sqlite3
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from adwatch import rules
from adwatch.errors import QueryError, UsageError
from adwatch.models import Watchlist
from adwatch.text.scripts import UNSPACED_RUN

if TYPE_CHECKING:
    from adwatch.match import Matcher

RAW_INDEX = "articles_fts"  # trigrams of articles(title, text)
FOLDED_INDEX = "articles_folded_fts"  # words of the Latin-script text, folded
MIN_TRIGRAM_CHARS = 3  # the trigram tokenizer indexes runs of three characters
VERIFY_FUNCTION = "adwatch_search_match"  # the SQL function behind the --text filter

# Thai and Burmese: looked for in `articles_fts`. The folded index treats these
# blocks as separators (store.py, m004), so it holds every other word.
_OPERATORS = re.compile(r'["“”()]|\b(?:AND|OR|NOT|NEAR(?:/\d*)?)\b')
_TITLE_GAP = "\n\n"  # between the title and the text when both are matched at once


# --- the query ------------------------------------------------------------------------


def parse_search(query: str, *, option_name: str = "search") -> rules.Node:
    """Parse a search in the watchlist query language (see `adwatch.rules`).

    Plain words without any operator, quote or parenthesis are one phrase, like
    a watchlist term: `ma tuy` is the Vietnamese word "ma túy", not `ma` and
    `tuy` anywhere. Thai and Burmese put spaces between phrases, not inside
    words, so their words typed apart are ANDed instead. Raises QueryError
    prefixed with `option_name`.
    """
    text = query.strip()
    if not text:
        raise UsageError(f"{option_name}: nothing to search for")
    if not _OPERATORS.search(text):
        text = _plain_words(text.split())
    try:
        return rules.parse_query(text)
    except QueryError as exc:
        raise QueryError(f"{option_name}: {exc}", position=exc.position) from exc


def _plain_words(words: list[str]) -> str:
    """Plain words as a query: runs of Latin-script words quoted as phrases, ANDed.

    A word with a trailing `*` ends its phrase (`ad* scam` is `ad* AND scam`).
    """
    groups: list[list[str]] = []
    for word in words:
        previous = groups[-1][-1] if groups else None
        if (
            previous is not None
            and not previous.endswith("*")
            and not UNSPACED_RUN.search(previous)
            and not UNSPACED_RUN.search(word)
        ):
            groups[-1].append(word)
        else:
            groups.append([word])
    return " AND ".join(f'"{" ".join(group)}"' if len(group) > 1 else group[0] for group in groups)


def has_diacritics(node: rules.Node) -> bool:
    """Whether any term of the query carries a diacritic that folding would drop."""
    from adwatch.text.normalize import normalize_term  # see _matcher

    return any(
        normalize_term(leaf.text, fold_diacritics=True) != normalize_term(leaf.text)
        for leaf in rules.leaves(node)
    )


@dataclass(frozen=True)
class Found:
    """Where a search matched one article: (start, end) spans in its title and its text."""

    title_spans: tuple[tuple[int, int], ...]
    text_spans: tuple[tuple[int, int], ...]


class Search:
    """A parsed search, compiled into a one-watchlist Matcher. Use `compile_search`."""

    def __init__(self, node: rules.Node) -> None:
        self.node = node
        # Without diacritics in the query, analysts typed Vietnamese the quick way.
        self.fold = not has_diacritics(node)
        watchlist = Watchlist(
            name="search",
            category="search",
            severity="low",
            query=rules.format_query(node),
            fold_diacritics=self.fold,
        )
        self._matcher = _matcher(watchlist)

    def find(self, title: str, text: str) -> Found | None:
        """Where the query matches the article, or None when it does not.

        Title and text are matched as one text, so `a AND b` holds with `a` in
        the title and `b` in the text, as the index would say.
        """
        both = title + _TITLE_GAP + text
        matches = self._matcher.match(both, market="", language=None)
        if not matches:
            return None
        offset = len(title) + len(_TITLE_GAP)
        spans = sorted({(m.start, m.end) for m in matches})
        return Found(
            title_spans=tuple(s for s in spans if s[1] <= len(title)),
            text_spans=tuple((s - offset, e - offset) for s, e in spans if s >= offset),
        )


def _matcher(watchlist: Watchlist) -> Matcher:
    # Imported on first use: every command opens a store, which registers this
    # module's SQL function, and most never search; matching costs 20 ms to import.
    from adwatch.match import Matcher

    return Matcher.build([watchlist])


def compile_search(query: str, *, option_name: str = "search") -> Search:
    """The search `query` ready to find candidates and verify them."""
    return Search(parse_search(query, option_name=option_name))


@functools.lru_cache(maxsize=16)
def _cached_search(query: str) -> Search:
    return compile_search(query)


# --- candidates -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Piece:
    """Text an article must contain, and the index that can tell."""

    index: str  # RAW_INDEX (characters) or FOLDED_INDEX (words)
    text: str
    prefix: bool = False  # the last word may go on (`ad*`)

    @property
    def indexed(self) -> bool:
        return self.index == FOLDED_INDEX or len(self.text) >= MIN_TRIGRAM_CHARS

    def fts(self) -> str:
        """The piece as an FTS5 string (a phrase of the index's tokens), `*` for a prefix."""
        return '"' + self.text.replace('"', '""') + '"' + (" *" if self.prefix else "")


@dataclass(frozen=True)
class _AllOf:
    parts: tuple[_Need, ...]


@dataclass(frozen=True)
class _AnyOf:
    parts: tuple[_Need, ...]


_Need = _Piece | _AllOf | _AnyOf


def _leaf_pieces(leaf: rules.Leaf) -> list[_Piece]:
    """A term cut where the script changes: Thai and Burmese as typed, the rest folded."""
    pieces: list[_Piece] = []
    position = 0
    for run in UNSPACED_RUN.finditer(leaf.text):
        pieces += _folded_pieces(leaf.text[position : run.start()])
        pieces.append(_Piece(RAW_INDEX, unicodedata.normalize("NFC", run.group())))
        position = run.end()
    pieces += _folded_pieces(leaf.text[position:])
    if leaf.wildcard and pieces and pieces[-1].index == FOLDED_INDEX:
        pieces[-1] = _Piece(FOLDED_INDEX, pieces[-1].text, prefix=True)
    return pieces


def _folded_pieces(text: str) -> list[_Piece]:
    from adwatch.text.normalize import normalize_term  # see _matcher

    folded = normalize_term(text, fold_diacritics=True).strip()
    return [_Piece(FOLDED_INDEX, folded)] if any(c.isalnum() for c in folded) else []


def _needs(node: rules.Node) -> _Need | None:
    """What a matching article must contain; None when the index cannot narrow it.

    Only ever less strict than the query: a NOT is left to verification (an
    article containing "regulators" has the characters of NOT regulator but
    does not contain the word), and NEAR is read as AND.
    """
    if isinstance(node, rules.Term | rules.Phrase):
        pieces = _leaf_pieces(node)
        return _combine(_AllOf, [p for p in pieces if p.indexed] or pieces)
    if isinstance(node, rules.Not):
        return None
    children = [node.left, node.right] if isinstance(node, rules.Near) else list(node.children)
    needs = [_needs(child) for child in children]
    if isinstance(node, rules.Or):
        return None if None in needs else _combine(_AnyOf, needs)
    return _combine(_AllOf, [n for n in needs if n is not None])


def _combine(kind: type[_AllOf] | type[_AnyOf], parts: Sequence[_Need | None]) -> _Need | None:
    kept = [p for p in parts if p is not None]
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else kind(tuple(kept))


def _one_match(need: _Need) -> tuple[str, str] | None:
    """(index, MATCH expression) when one FTS5 query on one index says all of `need`."""
    if isinstance(need, _Piece):
        return (need.index, need.fts()) if need.indexed else None
    parts = [_one_match(part) for part in need.parts]
    indexes = {part[0] for part in parts if part is not None}
    if None in parts or len(indexes) != 1:
        return None
    joiner = " AND " if isinstance(need, _AllOf) else " OR "
    return indexes.pop(), "(" + joiner.join(part[1] for part in parts if part) + ")"


def _condition(need: _Need | None, column: str) -> tuple[str, list[str]]:
    """`need` as an SQL condition on the article id in `column`."""
    if need is None:
        return "1", []
    whole = _one_match(need)
    if whole is not None:
        index, expression = whole
        return f"{column} IN (SELECT rowid FROM {index} WHERE {index} MATCH ?)", [expression]
    if isinstance(need, _Piece):
        # Thai or Burmese too short for trigrams: look in the article's own row.
        return (
            f"EXISTS (SELECT 1 FROM articles sf WHERE sf.id = {column} "
            "AND (instr(sf.title, ?) > 0 OR instr(sf.text, ?) > 0))",
            [need.text, need.text],
        )
    parts = [_condition(part, column) for part in need.parts]
    joiner = " AND " if isinstance(need, _AllOf) else " OR "
    return (
        "(" + joiner.join(sql for sql, _ in parts) + ")",
        [param for _, params in parts for param in params],
    )


Execute = Callable[[str, Sequence[object]], Iterable[Sequence[Any]]]
_FIRST_BATCH, _LAST_BATCH = 32, 1024  # candidates read per query, doubling


def iter_candidates(
    execute: Execute,
    search: Search,
    *,
    columns: str,
    conditions: Sequence[str] = (),
    params: Sequence[object] = (),
) -> Iterator[Sequence[Any]]:
    """Rows of `columns` (of `articles a`) of every candidate, newest stored first.

    Each index is read in descending rowid order and the streams are merged
    (OR) or intersected (AND) here, so the newest candidates come first and the
    caller can stop at any point, however common the words and whichever
    indexes they need. `conditions` on `a` narrow the candidates, in batches.
    """
    ids = _candidate_ids(execute, _needs(search.node))
    size = _FIRST_BATCH
    while batch := list(itertools.islice(ids, size)):
        marks = ", ".join("?" * len(batch))
        where = " AND ".join([f"a.id IN ({marks})", *conditions])
        sql = f"SELECT {columns} FROM articles a WHERE {where} ORDER BY a.id DESC"
        yield from execute(sql, [*batch, *params])
        size = min(2 * size, _LAST_BATCH)


def _candidate_ids(execute: Execute, need: _Need | None) -> Iterator[int]:
    """Ids of the articles that have what `need` asks for, descending, each once."""
    whole = _one_match(need) if need is not None else None
    if whole is not None:
        index, expression = whole
        sql = f"SELECT rowid FROM {index} WHERE {index} MATCH ? ORDER BY rowid DESC"
        return (row[0] for row in execute(sql, [expression]))
    if need is None:
        return (row[0] for row in execute("SELECT id FROM articles ORDER BY id DESC", []))
    if isinstance(need, _Piece):
        # Thai or Burmese too short for trigrams (บน): read every article. instr(),
        # not LIKE: on the SQLite that ships with Python, LIKE misses some Thai.
        sql = (
            "SELECT id FROM articles WHERE instr(title, ?) > 0 OR instr(text, ?) > 0 "
            "ORDER BY id DESC"
        )
        return (row[0] for row in execute(sql, [need.text, need.text]))
    streams = [_candidate_ids(execute, part) for part in need.parts]
    if isinstance(need, _AnyOf):
        return _distinct(heapq.merge(*streams, reverse=True))
    return _common(streams)


def _distinct(ids: Iterator[int]) -> Iterator[int]:
    previous = None
    for article_id in ids:
        if article_id != previous:
            yield article_id
        previous = article_id


def _common(streams: list[Iterator[int]]) -> Iterator[int]:
    """Ids present in every descending stream, descending."""
    heads = [next(stream, None) for stream in streams]
    while None not in heads:
        lowest = min(h for h in heads if h is not None)
        if all(head == lowest for head in heads):
            yield lowest
            heads = [next(stream, None) for stream in streams]
            continue
        for number, stream in enumerate(streams):
            head = heads[number]
            while head is not None and head > lowest:
                head = next(stream, None)
            heads[number] = head


def text_condition(query: str, column: str) -> tuple[str, list[object]]:
    """An SQL condition that the article whose id is in `column` matches `query`.

    The index narrows the articles; `adwatch_search_match()` (registered on every
    connection by `register_functions`) verifies each one with the Matcher, once
    per article, only for the rows the statement actually reads.
    """
    search = _cached_search(query)
    condition, params = _condition(_needs(search.node), column)
    verify = (
        f"EXISTS (SELECT 1 FROM articles sv WHERE sv.id = {column} "
        f"AND {VERIFY_FUNCTION}(?, sv.title, sv.text))"
    )
    return f"({condition} AND {verify})", [*params, query]


class _Verdicts:
    """The verdict of the SQL function per article, so one article's many hits cost one match."""

    LIMIT = 20_000

    def __init__(self) -> None:
        self._seen: dict[tuple[str, int, int], bool] = {}

    def __call__(self, query: str, title: str | None, text: str | None) -> int:
        title, text = title or "", text or ""
        key = (query, hash(title), hash(text))
        verdict = self._seen.get(key)
        if verdict is None:
            if len(self._seen) >= self.LIMIT:
                self._seen.clear()
            verdict = self._seen[key] = _cached_search(query).find(title, text) is not None
        return int(verdict)


def register_functions(conn: sqlite3.Connection) -> None:
    """Register the SQL function that `text_condition` uses on `conn`."""
    conn.create_function(VERIFY_FUNCTION, 3, _Verdicts(), deterministic=True)
