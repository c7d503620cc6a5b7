"""Copy a store into another, table by table, ids kept: `adwatch migrate`.

The usual move is a team's: a SQLite file into PostgreSQL. Every row goes through
the store API (`export_rows`, `import_rows`), so either engine can be either end.
A row already in the target (same primary key, or same article URL) is skipped,
so a second run copies only what the first did not: an interrupted copy resumes,
and a last catch-up before the switch is cheap.

Before anything is written, the ids both stores hold must name the same rows: a
target whose article 7 has another URL than the source's article 7 was filled by
something else, and copying hits onto it would attach them to the wrong article.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from adwatch.errors import StoreError
from adwatch.store import Store

# Every table of the store, each after the tables its rows refer to.
TABLES = (
    "sources", "stories", "articles", "hits", "hit_totals", "runs", "triage_log",
    "article_vectors", "description_vectors", "semantic_background", "article_fingerprints",
    "robots", "alerts", "deliveries", "indicators",
)  # fmt: skip
# Per table with ids: the columns that say which row an id is.
IDENTITY = {
    "stories": ("id", "first_seen"),
    "articles": ("id", "url"),
    "hits": ("id", "article_id", "watchlist", "term", "start"),
    "runs": ("id", "started_at"),
    "triage_log": ("id", "hit_id", "at"),
    "indicators": ("id", "article_id", "kind", "value", "start"),
}
BATCH = 1000  # rows written per statement batch: memory stays flat


@dataclass(frozen=True)
class TableCopy:
    """What copying one table did."""

    table: str
    rows: int  # rows in the source
    copied: int  # of those, new in the target

    @property
    def already_there(self) -> int:
        return self.rows - self.copied


def migrate_store(source: Store, target: Store) -> list[TableCopy]:
    """Copy every table of `source` into `target`; what was copied, per table.

    Raises StoreError, having written nothing, when the target lacks a column the
    source has (it would lose data) or holds other rows under the source's ids.
    """
    columns = {table: _common_columns(source, target, table) for table in TABLES}
    for table, identity in IDENTITY.items():
        _check_same_rows(source, target, table, identity)
    return [_copy(source, target, table, columns[table]) for table in TABLES]


def _common_columns(source: Store, target: Store, table: str) -> list[str]:
    """The source table's columns, all of which the target must have."""
    have = source.table_columns(table)
    missing = [column for column in have if column not in target.table_columns(table)]
    if missing:
        raise StoreError(
            f"{target.location}: table {table!r} has no column {missing[0]!r}, which "
            f"{source.location} has; upgrade the adwatch that made it (nothing was copied)"
        )
    return have


def _check_same_rows(source: Store, target: Store, table: str, identity: tuple[str, ...]) -> None:
    """Raise StoreError when an id names one row in `source` and another in `target`.

    Both stores are read in id order and compared as they stream.
    """
    theirs = target.export_rows(table, identity)
    their_row = next(theirs, None)
    for row in source.export_rows(table, identity):
        while their_row is not None and their_row[0] < row[0]:
            their_row = next(theirs, None)
        if their_row is None:
            return
        if their_row[0] == row[0] and tuple(their_row) != tuple(row):
            raise StoreError(
                f"{target.location}: {table} id {row[0]} is another row than in "
                f"{source.location} ({identity[1]} {their_row[1]!r}, not {row[1]!r}); "
                "copy into an empty store (nothing was copied)"
            )


def _copy(source: Store, target: Store, table: str, columns: list[str]) -> TableCopy:
    rows = copied = 0
    for batch in _batches(source.export_rows(table, columns)):
        rows += len(batch)
        copied += target.import_rows(table, columns, batch)
    return TableCopy(table, rows, copied)


def _batches(rows: Iterator[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    while batch := list(itertools.islice(rows, BATCH)):
        yield batch
