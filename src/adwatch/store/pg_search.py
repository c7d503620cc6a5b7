"""PostgreSQL's side of search: pg_trgm indexes find candidates, adwatch verifies.

`adwatch.search` says what a matching article must contain (`needs`). Here each
piece becomes a LIKE that a GIN trigram index answers (pg_schema.py): Thai and
Burmese pieces against `title` and `text` as stored, other pieces against
`articles.folded`, the article's Latin-script words folded and separated by
single spaces, so `% ngo doc %` finds "Ngộ độc" as whole words. AND
and OR become AND and OR: the planner combines the index scans itself.

PostgreSQL cannot call adwatch's matcher inside a statement, so the `--text`
filter verifies the candidates first, in Python, and then filters on their ids.
"""

from __future__ import annotations

from typing import Any

from adwatch.search import RAW_INDEX, AllOf, Need, Piece


def like_escape(text: str) -> str:
    """`text` for a LIKE pattern: its own `%`, `_` and `\\` taken literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def need_condition(need: Need | None, alias: str = "a") -> tuple[str, list[Any]]:
    """What `need` asks of an article (`articles` as `alias`), as an SQL condition.

    Never stricter than the query (NOT and NEAR are left to verification), so the
    candidates may be too many, never too few.
    """
    if need is None:
        return "TRUE", []
    if isinstance(need, Piece):
        return _piece_condition(need, alias)
    parts = [need_condition(part, alias) for part in need.parts]
    joiner = " AND " if isinstance(need, AllOf) else " OR "
    return (
        "(" + joiner.join(sql for sql, _ in parts) + ")",
        [param for _, params in parts for param in params],
    )


def _piece_condition(piece: Piece, alias: str) -> tuple[str, list[Any]]:
    if piece.index == RAW_INDEX:
        # Thai or Burmese as typed, anywhere in the title or the text (no word
        # boundaries in the index: adwatch's matcher decides those).
        pattern = f"%{like_escape(piece.text)}%"
        return f"({alias}.title LIKE ? OR {alias}.text LIKE ?)", [pattern, pattern]
    # The pattern is computed by the database's own folding, so query and index
    # agree; it is a constant by the time the planner looks for an index.
    return (
        f"{alias}.folded LIKE adwatch_word_pattern(?, ?)",
        [piece.text, piece.prefix],
    )
