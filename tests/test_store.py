from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlite_utils

from adwatch.errors import LockHeld, StoreError
from adwatch.models import Article, Match
from adwatch.store import open_store, scan_lock
from adwatch.store.sqlite import SCHEMA_VERSION, migrations, schema_version


def article(
    url: str = "https://example.com/a", text: str = "Quảng cáo lừa đảo trên TikTok", **kw: object
) -> Article:
    values: dict[str, object] = {
        "url": url,
        "source": "vn-test",
        "market": "VN",
        "title": "Tiêu đề",
        "text": text,
        "language": "vi",
        "published_at": "2026-11-24T01:00:00Z",
        "fetched_at": "2026-11-25T01:00:00Z",
        "content_hash": str(hash(text)),
        "extractor": "trafilatura",
    }
    values.update(kw)
    return Article(**values)  # type: ignore[arg-type]


def match(term: str, start: int, end: int, text: str) -> Match:
    return Match("scam-ads", "fraud", "high", term, text[start:end], start, end, text)


def test_new_store_has_schema_wal_fts_and_foreign_keys(tmp_path: Path) -> None:
    with open_store(tmp_path / "a.db") as store:
        assert schema_version(store.db) == SCHEMA_VERSION == len(migrations._migrations)
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
        tables = set(store.db.table_names())
        assert {"sources", "articles", "hits", "runs", "triage_log", "articles_fts"} <= tables
        hit_columns = [c.name for c in store.db["hits"].columns]
        for name in ("id", "article_id", "watchlist", "category", "severity", "term",
                     "matched_text", "start", "end", "snippet", "market", "language",
                     "found_at", "status", "note"):  # fmt: skip
            assert name in hit_columns


def test_article_and_hits_saved_together_and_not_duplicated(tmp_path: Path) -> None:
    text = "Quảng cáo lừa đảo trên TikTok"
    with open_store(tmp_path / "a.db") as store:
        saved = store.save_article(article(text=text), [match("quảng cáo lừa đảo", 0, 17, text)])
        assert saved.created and saved.hits_new == 1
        again = store.save_article(article(text=text), [match("quảng cáo lừa đảo", 0, 17, text)])
        assert not again.created and not again.changed and again.hits_new == 0
    db = sqlite_utils.Database(tmp_path / "a.db")
    assert db["articles"].count == 1
    hit = next(db["hits"].rows)
    assert (hit["start"], hit["end"], hit["matched_text"]) == (0, 17, "Quảng cáo lừa đảo")
    assert hit["source"] == "vn-test" and hit["status"] == "new"


def test_updated_entry_replaces_older_and_keeps_triaged_hits(tmp_path: Path) -> None:
    first = "Quảng cáo lừa đảo trên TikTok"
    second = "Cảnh báo: quảng cáo lừa đảo lan rộng"
    with open_store(tmp_path / "a.db") as store:
        store.save_article(article(text=first, entry_id="guid-1"), [match("TikTok", 23, 29, first)])
        store.db.execute("UPDATE hits SET status = 'escalated'")
        store.db.conn.commit()
        saved = store.save_article(
            article(url="https://example.com/a-v2", text=second, entry_id="guid-1"),
            [match("quảng cáo lừa đảo", 10, 27, second)],
        )
        assert not saved.created and saved.changed and saved.hits_new == 1
    db = sqlite_utils.Database(tmp_path / "a.db")
    assert [r["url"] for r in db["articles"].rows] == ["https://example.com/a-v2"]
    statuses = sorted((r["term"], r["status"]) for r in db["hits"].rows)
    assert statuses == [("TikTok", "escalated"), ("quảng cáo lừa đảo", "new")]


def test_fts_finds_thai_and_burmese_substrings(tmp_path: Path) -> None:
    with open_store(tmp_path / "a.db") as store:
        store.save_article(article(url="https://e.com/th", text="ตำรวจเตือนโฆษณาหลอกลวงบนเฟซบุ๊ก"), [])
        store.save_article(article(url="https://e.com/my", text="အွန်လိုင်းလောင်းကစားကြော်ငြာများ"), [])
        found = lambda q: [r[0] for r in store.db.execute(  # noqa: E731
            "SELECT a.url FROM articles_fts f JOIN articles a ON a.id = f.rowid"
            " WHERE articles_fts MATCH ?", [q])]  # fmt: skip
        assert found('"หลอกลวง"') == ["https://e.com/th"]
        assert found('"လောင်းကစား"') == ["https://e.com/my"]


def test_only_a_new_title_or_text_rewrites_the_search_index(tmp_path: Path) -> None:
    """A story id or a kept page's place changes no word: the trigram index is left alone
    (it was rewritten at every update of any column), and a new text is still found."""
    with open_store(tmp_path / "a.db") as store:
        saved = store.save_article(article(text="ตำรวจเตือนโฆษณาหลอกลวงบนเฟซบุ๊ก"), [])
        index_rows = "SELECT COUNT(*) FROM articles_fts_data"
        before = store.db.execute(index_rows).fetchone()[0]
        store.db.execute(
            "UPDATE articles SET story_id = NULL, warc_file = 'x.warc.gz', warc_offset = 0 "
            "WHERE id = ?",
            [saved.article_id],
        )
        assert store.db.execute(index_rows).fetchone()[0] == before
        store.db.execute(
            "UPDATE articles SET text = 'quảng cáo lừa đảo' WHERE id = ?", [saved.article_id]
        )
        found = store.db.execute(
            "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?", ['"lừa đảo"']
        ).fetchall()
        assert found == [(saved.article_id,)]
        assert store.db.execute(
            "SELECT COUNT(*) FROM articles_fts WHERE articles_fts MATCH ?", ['"หลอกลวง"']
        ).fetchone() == (0,)


def test_upgrade_from_schema_v1_keeps_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite_utils.Database(path)
    migrations.apply(db, stop_before="m002_zawgyi_entries_triage")
    assert schema_version(db) == 1
    db.execute(
        "INSERT INTO articles (id, url, source, market, title, text, fetched_at, content_hash,"
        " extractor) VALUES (1, 'https://e.com/1', 's', 'TH', 't', 'x', 'now', 'h', 'trafilatura')"
    )
    db.execute(
        "INSERT INTO hits (article_id, watchlist, category, severity, term, matched_text, start,"
        ' "end", snippet, market, found_at, status, note) VALUES'
        " (1, 'w', 'c', 'high', 'x', 'x', 0, 1, 'x', 'TH', 'now', 'escalated', 'keep me')"
    )
    db.conn.commit()
    db.close()

    with open_store(path) as store:
        assert schema_version(store.db) == SCHEMA_VERSION
        hit = next(store.db["hits"].rows)
        assert (hit["note"], hit["status"], hit["source"]) == ("keep me", "escalated", "s")
        assert next(store.db["articles"].rows)["zawgyi"] == 0
        article = next(store.db["articles"].rows)
        assert (article["page_attempts"], article["page_retry_at"]) == (0, None)
        assert store.db["hit_totals"].exists() and store.db["hit_totals"].count == 0


def test_not_a_store_is_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="junk.db: "):
        open_store(path)


def test_missing_store_without_create(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no store here yet"):
        open_store(tmp_path / "none.db", create=False)


def test_second_scan_lock_in_same_process_names_holder(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    with scan_lock(path):
        with pytest.raises(
            LockHeld, match=r"another scan is running on this store \(pid \d+, started "
        ):
            with scan_lock(path):
                pass
    with scan_lock(path):  # released
        pass


def test_lock_held_by_another_process_and_readers_not_blocked(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    with open_store(path) as store:
        store.save_article(article(), [])
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import sys, time
            from adwatch.store import scan_lock, open_store
            with scan_lock({str(path)!r}):
                store = open_store({str(path)!r})
                store.db.execute("BEGIN IMMEDIATE")
                store.db.execute("UPDATE articles SET title = 'writing'")
                print("locked", flush=True)
                time.sleep(30)
        """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(LockHeld, match=f"pid {holder.pid}"):
            with scan_lock(path):
                pass
        # A reader sees the committed data while the writer holds its transaction.
        reader = sqlite_utils.Database(path)
        assert next(reader["articles"].rows)["title"] == "Tiêu đề"
        reader.close()
    finally:
        holder.kill()
        holder.wait()
    with scan_lock(path):  # the kernel released the killed holder's lock
        pass
