"""The scan's store writer (adwatch.store_writer): calls that queue up while it works share
one commit, a call that fails undoes only its own writes, a commit that fails fails every
call of its group, and a call's future is resolved only once its group is committed.
Also the store's list of sources no scan has fetched. Run on both engines (`--engine
postgresql`)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

import pytest
from store_sql import execute, value

from adwatch.errors import StoreError
from adwatch.models import Article, Source
from adwatch.store import Store, open_store
from adwatch.store_writer import StoreWriter


def _article(number: int) -> Article:
    text = f"Cảnh báo quảng cáo lừa đảo số {number}"
    return Article(
        url=f"https://example.com/{number}",
        source="vn-test",
        market="VN",
        title=f"Tin {number}",
        text=text,
        language="vi",
        published_at="2026-11-24T01:00:00Z",
        fetched_at="2026-11-25T01:00:00Z",
        content_hash=f"hash-{number}",
        extractor="trafilatura",
    )


@pytest.fixture
def store(store_at: str) -> Iterator[Store]:
    with open_store(store_at) as opened:
        yield opened


class _Gate:
    """A call that holds the writer until the test opens the gate."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.opened = threading.Event()

    def __call__(self) -> str:
        self.entered.set()
        assert self.opened.wait(timeout=30)
        return "opened"


def _held(writer: StoreWriter) -> tuple[_Gate, Future[Any]]:
    gate = _Gate()
    future = writer.submit(gate)
    assert gate.entered.wait(timeout=30)
    return gate, future


def _stored(store_at: str, number: int) -> int:
    count: int = value(
        store_at, "SELECT COUNT(*) FROM articles WHERE url = ?", [f"https://example.com/{number}"]
    )
    return count


def test_calls_queued_while_the_writer_works_share_one_commit(store: Store, store_at: str) -> None:
    writer = StoreWriter(store)
    try:
        gate, held = _held(writer)
        saves = [writer.submit(lambda n=n: store.save_article(_article(n), [])) for n in range(10)]
        assert not any(f.done() for f in saves)
        gate.opened.set()
        ids = [f.result(timeout=30).article_id for f in saves]
        assert held.result(timeout=30) == "opened"
    finally:
        writer.close()
    assert len(set(ids)) == 10
    assert writer.commits == 1  # the gate and the ten saves: one group
    assert all(_stored(store_at, n) == 1 for n in range(10))


def test_a_group_holds_at_most_group_calls(store: Store, store_at: str) -> None:
    writer = StoreWriter(store, group_calls=4)
    try:
        gate, _ = _held(writer)
        saves = [writer.submit(lambda n=n: store.save_article(_article(n), [])) for n in range(7)]
        gate.opened.set()
        for future in saves:
            future.result(timeout=30)
    finally:
        writer.close()
    assert writer.commits == 2  # the gate and three saves, then four saves
    assert all(_stored(store_at, n) == 1 for n in range(7))


def test_a_call_that_fails_undoes_only_its_own_writes(store: Store, store_at: str) -> None:
    def save_then_fail() -> None:
        store.save_article(_article(2), [])
        raise ValueError("the page was not what it said")

    writer = StoreWriter(store)
    try:
        gate, _ = _held(writer)
        first = writer.submit(lambda: store.save_article(_article(1), []))
        failing = writer.submit(save_then_fail)
        third = writer.submit(lambda: store.save_article(_article(3), []))
        gate.opened.set()
        first.result(timeout=30)
        third.result(timeout=30)
        with pytest.raises(ValueError, match="not what it said"):
            failing.result(timeout=30)
    finally:
        writer.close()
    assert writer.commits == 1
    assert [_stored(store_at, n) for n in (1, 2, 3)] == [1, 0, 1]


def test_a_failed_commit_fails_every_call_of_its_group_and_stores_none_of_it(
    store: Store, store_at: str
) -> None:
    # A constraint checked only at COMMIT: the one way to make a real commit fail here.
    execute(
        store_at,
        "CREATE TABLE probe (article_id INTEGER REFERENCES articles(id) "
        "DEFERRABLE INITIALLY DEFERRED)",
    )
    writer = StoreWriter(store)
    try:
        gate, held = _held(writer)
        saved = writer.submit(lambda: store.save_article(_article(1), []))
        dangling = writer.submit(
            lambda: store._execute("INSERT INTO probe (article_id) VALUES (?)", [987654])
        )
        gate.opened.set()
        for future in (held, saved, dangling):
            with pytest.raises((StoreError, sqlite3.IntegrityError)):
                future.result(timeout=30)
        # The writer goes on: the next group is committed.
        after = writer.submit(lambda: store.save_article(_article(2), []))
        after.result(timeout=30)
    finally:
        writer.close()
    assert [_stored(store_at, n) for n in (1, 2)] == [0, 1]


def test_a_call_cancelled_while_it_waits_never_runs(store: Store, store_at: str) -> None:
    writer = StoreWriter(store)
    try:
        gate, _ = _held(writer)
        cancelled = writer.submit(lambda: store.save_article(_article(1), []))
        kept = writer.submit(lambda: store.save_article(_article(2), []))
        assert cancelled.cancel()
        gate.opened.set()
        kept.result(timeout=30)
    finally:
        writer.close()
    assert [_stored(store_at, n) for n in (1, 2)] == [0, 1]


def test_close_commits_what_was_submitted(store: Store, store_at: str) -> None:
    writer = StoreWriter(store)
    futures = [writer.submit(lambda n=n: store.save_article(_article(n), [])) for n in range(3)]
    writer.close()
    assert all(f.done() and f.exception() is None for f in futures)
    assert all(_stored(store_at, n) == 1 for n in range(3))
    writer.close()  # a second close does nothing


def test_unfetched_sources_are_those_no_scan_has_fetched(store: Store) -> None:
    """What tells a scan that workers will be needed before any feed answers."""
    store.sync_sources(
        [
            Source("checked", "https://example.com/a.xml", "VN"),
            Source("failed", "https://example.com/b.xml", "VN"),
            Source("new", "https://example.com/c.xml", "VN"),
        ]
    )
    store.record_source_result("checked", ok=True, status=200, error=None)
    store.record_source_result("failed", ok=False, status=404, error="HTTP 404")
    assert store.unfetched_sources(["checked", "failed", "new", "unknown"]) == ["new"]
    assert store.unfetched_sources([]) == []
