"""Exports: Excel-safe CSV, JSON and JSON Lines, streamed, written atomically."""

from __future__ import annotations

import csv
import io
import json
import os
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from query_fixtures import HOSTILE_TITLE, MY_TEXT, fill_store

from adwatch import export
from adwatch.errors import UsageError
from adwatch.query import EXPORT_COLUMNS, Filters, make_filters
from adwatch.store import open_store
from adwatch.text.untrusted import strip_unsafe


@pytest.fixture
def store_path(store_at: str) -> str:
    fill_store(store_at)
    return store_at


def export_to(store_path: Path, target: Path, fmt: str, filters: Filters = Filters()) -> int:  # noqa: B008
    with open_store(store_path, create=False) as store:
        return export.export_hits(store, filters, fmt=fmt, output=target)


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_csv_has_a_bom_the_design_columns_and_round_trips(store_path: Path, tmp_path: Path) -> None:
    target = tmp_path / "hits.csv"
    assert export_to(store_path, target, "csv") == 8
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 only with a BOM
    assert raw.count(b"\xef\xbb\xbf") == 1
    rows = read_csv(target)
    with open(target, encoding="utf-8-sig", newline="") as handle:
        assert next(csv.reader(handle)) == list(EXPORT_COLUMNS)
    assert [int(r["id"]) for r in rows] == [1, 3, 2, 4, 7, 6, 5, 8]
    by_id = {int(r["id"]): r for r in rows}
    assert by_id[1]["matched_text"] == "โฆษณาหลอกลวง" and by_id[1]["market"] == "TH"
    assert by_id[2]["matched_text"] == "quảng cáo lừa đảo"
    assert by_id[4]["matched_text"] in MY_TEXT and by_id[4]["language"] == "my"
    assert by_id[8]["status"] == "dismissed" and by_id[8]["source"] == "vn-news"
    assert by_id[2]["url"] == "https://vn.example/1" and by_id[2]["note"] == ""


def test_csv_cells_that_would_run_as_formulas_are_neutralised(
    store_path: Path, tmp_path: Path
) -> None:
    target = tmp_path / "hits.csv"
    export_to(store_path, target, "csv")
    by_id = {int(r["id"]): r for r in read_csv(target)}
    bait = by_id[7]
    assert bait["term"] == "'=HYPERLINK" and bait["matched_text"] == "'=HYPERLINK"
    assert bait["snippet"].startswith("'=HYPERLINK(")
    # The title keeps its text; only a leading formula character gets the quote.
    assert by_id[5]["title"] == strip_unsafe(HOSTILE_TITLE)
    for row in by_id.values():
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value


def test_newlines_inside_cells_stay_inside_their_cell(store_path: Path, tmp_path: Path) -> None:
    target = tmp_path / "hits.csv"
    export_to(store_path, target, "csv")
    by_id = {int(r["id"]): r for r in read_csv(target)}
    # Hit 6 ("political ad", second time) sits after the line break of its article.
    assert "\n" in by_id[6]["snippet"]
    assert len(read_csv(target)) == 8  # the break did not start a new row


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+66 2 123", "'+66 2 123"),
        ("-cmd", "'-cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\n=1"),
        ("a\r\nb\rc", "a\nb\nc"),
        ("nul\x00here", "nulhere"),
        ("safe = text", "safe = text"),
        ("", ""),
        (-5, -5),
        (None, None),
    ],
)
def test_neutralise(value: object, expected: object) -> None:
    assert export.neutralise(value) == expected


def test_jsonl_and_json_carry_the_same_rows(store_path: Path, tmp_path: Path) -> None:
    export_to(store_path, tmp_path / "hits.jsonl", "jsonl")
    export_to(store_path, tmp_path / "hits.json", "json")
    lines = (tmp_path / "hits.jsonl").read_text(encoding="utf-8").splitlines()
    from_lines = [json.loads(line) for line in lines]
    from_array = json.loads((tmp_path / "hits.json").read_text(encoding="utf-8"))
    assert from_lines == from_array and len(from_array) == 8
    assert list(from_array[0]) == list(EXPORT_COLUMNS)
    # JSON is data, not a spreadsheet: values are exact, nothing prefixed.
    assert {row["term"] for row in from_array} >= {"=HYPERLINK", "โฆษณาหลอกลวง"}
    assert "โฆษณาหลอกลวง" in (tmp_path / "hits.jsonl").read_text(encoding="utf-8")


def test_an_empty_export_is_still_valid(store_path: Path, tmp_path: Path) -> None:
    nothing = make_filters(market=["XX"])
    assert export_to(store_path, tmp_path / "e.json", "json", nothing) == 0
    assert json.loads((tmp_path / "e.json").read_text(encoding="utf-8")) == []
    export_to(store_path, tmp_path / "e.csv", "csv", nothing)
    assert read_csv(tmp_path / "e.csv") == []


def test_filters_apply_to_exports(store_path: Path, tmp_path: Path) -> None:
    target = tmp_path / "th.csv"
    assert export_to(store_path, target, "csv", make_filters(market=["TH"], since="24h")) == 1
    assert [r["id"] for r in read_csv(target)] == ["1"]


def failing_rows(after: int) -> Iterator[tuple[object, ...]]:
    for i in range(after):
        yield tuple([i] + ["x"] * (len(EXPORT_COLUMNS) - 1))
    raise RuntimeError("the store went away")


def test_a_failed_export_leaves_no_half_file(tmp_path: Path) -> None:
    target = tmp_path / "hits.csv"
    target.write_text("yesterday's complete export\n", encoding="utf-8")
    with pytest.raises(RuntimeError), export.open_output(target) as out:
        export.write_csv(failing_rows(1000), out)
    assert target.read_text(encoding="utf-8") == "yesterday's complete export\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hits.csv"]  # no temp file left


def test_an_atomic_file_is_private_to_owner_and_group(store_path: Path, tmp_path: Path) -> None:
    target = tmp_path / "hits.csv"
    export_to(store_path, target, "csv")
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o660 & ~umask


def test_output_into_a_missing_folder_is_a_usage_error(store_path: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="output: no such folder"):
        export_to(store_path, tmp_path / "nope" / "hits.csv", "csv")


def test_export_streams_in_flat_memory(tmp_path: Path) -> None:
    """20 000 hits through the real query and writer: memory does not grow with them."""
    path = tmp_path / "big.db"
    with open_store(path) as store, store.db.conn as conn:
        conn.execute(
            "INSERT INTO articles (id, url, source, market, title, text, fetched_at, "
            "content_hash, extractor) VALUES (1, 'https://x.example/1', 's', 'TH', 't', "
            "'text', '2026-11-01T00:00:00Z', 'h', 'trafilatura')"
        )
        conn.executemany(
            "INSERT INTO hits (article_id, watchlist, category, severity, term, matched_text, "
            'start, "end", snippet, market, found_at, source) VALUES '
            "(1, 'w', 'c', 'high', 'term', 'match', ?, ?, ?, 'TH', '2026-11-01T00:00:00Z', 's')",
            [(i, i + 5, "ข่าว" * 100) for i in range(20_000)],
        )
    with open_store(path, create=False) as store:
        tracemalloc.start()
        export.export_hits(store, Filters(), fmt="csv", output=tmp_path / "big.csv")
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert len(read_csv(tmp_path / "big.csv")) == 20_000
    # The rows' text alone is about 8 MB; a streaming export holds a few rows.
    assert peak < 1_000_000, peak


def test_write_rows_rejects_an_unknown_format() -> None:
    with pytest.raises(UsageError, match="format: expected one of csv, jsonl, json"):
        export.write_rows([], io.StringIO(), "xlsx")
