"""SQLite's side of search: the FTS5 indexes find candidates, an SQL function verifies.

`adwatch.search` says what a matching article must contain (`needs`); this module
turns that into FTS5 queries on `articles_fts` (trigrams, for Thai and Burmese) and
`articles_folded_fts` (folded Latin words), streams candidate ids newest first,
and registers `adwatch_search_match()` so the `--text` filter verifies inside SQL.
"""

from __future__ import annotations

import heapq
import itertools
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from adwatch.search import (
    VERIFY_FUNCTION,
    AllOf,
    AnyOf,
    Need,
    Piece,
    Search,
    cached_search,
    needs,
)


def _one_match(need: Need) -> tuple[str, str] | None:
    """(index, MATCH expression) when one FTS5 query on one index says all of `need`."""
    if isinstance(need, Piece):
        return (need.index, need.fts()) if need.indexed else None
    parts = [_one_match(part) for part in need.parts]
    indexes = {part[0] for part in parts if part is not None}
    if None in parts or len(indexes) != 1:
        return None
    joiner = " AND " if isinstance(need, AllOf) else " OR "
    return indexes.pop(), "(" + joiner.join(part[1] for part in parts if part) + ")"


def _condition(need: Need | None, column: str) -> tuple[str, list[str]]:
    """`need` as an SQL condition on the article id in `column`."""
    if need is None:
        return "1", []
    whole = _one_match(need)
    if whole is not None:
        index, expression = whole
        return f"{column} IN (SELECT rowid FROM {index} WHERE {index} MATCH ?)", [expression]
    if isinstance(need, Piece):
        # Thai or Burmese too short for trigrams: look in the article's own row.
        return (
            f"EXISTS (SELECT 1 FROM articles sf WHERE sf.id = {column} "
            "AND (instr(sf.title, ?) > 0 OR instr(sf.text, ?) > 0))",
            [need.text, need.text],
        )
    parts = [_condition(part, column) for part in need.parts]
    joiner = " AND " if isinstance(need, AllOf) else " OR "
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
    ids = _candidate_ids(execute, needs(search.node))
    size = _FIRST_BATCH
    while batch := list(itertools.islice(ids, size)):
        marks = ", ".join("?" * len(batch))
        where = " AND ".join([f"a.id IN ({marks})", *conditions])
        sql = f"SELECT {columns} FROM articles a WHERE {where} ORDER BY a.id DESC"
        yield from execute(sql, [*batch, *params])
        size = min(2 * size, _LAST_BATCH)


def _candidate_ids(execute: Execute, need: Need | None) -> Iterator[int]:
    """Ids of the articles that have what `need` asks for, descending, each once."""
    whole = _one_match(need) if need is not None else None
    if whole is not None:
        index, expression = whole
        sql = f"SELECT rowid FROM {index} WHERE {index} MATCH ? ORDER BY rowid DESC"
        return (row[0] for row in execute(sql, [expression]))
    if need is None:
        return (row[0] for row in execute("SELECT id FROM articles ORDER BY id DESC", []))
    if isinstance(need, Piece):
        # Thai or Burmese too short for trigrams (บน): read every article. instr(),
        # not LIKE: on the SQLite that ships with Python, LIKE misses some Thai.
        sql = (
            "SELECT id FROM articles WHERE instr(title, ?) > 0 OR instr(text, ?) > 0 "
            "ORDER BY id DESC"
        )
        return (row[0] for row in execute(sql, [need.text, need.text]))
    streams = [_candidate_ids(execute, part) for part in need.parts]
    if isinstance(need, AnyOf):
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
    search = cached_search(query)
    condition, params = _condition(needs(search.node), column)
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
            verdict = self._seen[key] = cached_search(query).find(title, text) is not None
        return int(verdict)


def register_functions(conn: sqlite3.Connection) -> None:
    """Register the SQL function that `text_condition` uses on `conn`."""
    conn.create_function(VERIFY_FUNCTION, 3, _Verdicts(), deterministic=True)
