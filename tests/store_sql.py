"""Direct SQL on a test store of either engine: for planting data and reading it back.

The library never holds a connection outside `adwatch.store`; tests may, to set up
what no command writes (hits found days ago) and to check exactly what was stored.
`?` placeholders work on both engines.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

_PLACEHOLDER = re.compile(r"\?")


def is_postgres(location: str | Path) -> bool:
    return str(location).startswith(("postgresql://", "postgres://"))


def rows(location: str | Path, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """The rows of a query as dicts."""
    if is_postgres(location):
        with psycopg.connect(str(location), row_factory=dict_row) as conn:
            return list(conn.execute(_PLACEHOLDER.sub("%s", sql), list(params)).fetchall())
    conn = sqlite3.connect(str(location))
    conn.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in conn.execute(sql, list(params)).fetchall()]
    finally:
        conn.close()


def value(location: str | Path, sql: str, params: Sequence[Any] = ()) -> Any:
    """The first column of the first row."""
    found = rows(location, sql, params)
    return next(iter(found[0].values())) if found else None


def execute(location: str | Path, sql: str, params: Sequence[Any] = ()) -> None:
    """Run one statement and commit it."""
    if is_postgres(location):
        with psycopg.connect(str(location)) as conn:
            conn.execute(_PLACEHOLDER.sub("%s", sql), list(params))
        return
    conn = sqlite3.connect(str(location))
    try:
        with conn:
            conn.execute(sql, list(params))
    finally:
        conn.close()


class _Result:
    def __init__(self, found: list[tuple[Any, ...]]) -> None:
        self._rows = found

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows


class _Table:
    def __init__(self, location: str | Path, name: str) -> None:
        self.location = location
        self.name = name

    @property
    def rows(self) -> Iterator[dict[str, Any]]:
        """The table's rows in insertion order (by their first column, the key)."""
        return iter(rows(self.location, f"SELECT * FROM {self.name} ORDER BY 1"))

    @property
    def count(self) -> int:
        return int(value(self.location, f"SELECT COUNT(*) FROM {self.name}"))


class StoreView:
    """A store of either engine read the way sqlite_utils reads a file: `view["hits"].rows`."""

    def __init__(self, location: str | Path) -> None:
        self.location = location

    def __getitem__(self, table: str) -> _Table:
        return _Table(self.location, table)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _Result:
        found = rows(self.location, sql, params)
        return _Result([tuple(row.values()) for row in found])
