"""End-to-end: `adwatch scan` against a local news web, well-behaved and hostile."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import sqlite_utils
from pytest_httpserver import HTTPServer
from scan_site import (
    EN_TITLE,
    HOSTILE_SOURCES,
    MY_UNICODE_BODY,
    TH_TITLE,
    VI_TITLE,
    serve_hostile,
    serve_news,
    write_config,
)
from typer.testing import CliRunner

from adwatch.cli import app

runner = CliRunner()


def scan(config: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--config", str(config), "scan", *args])
    return result.exit_code, result.stdout, result.stderr


def articles(db: Path) -> dict[str, dict[str, object]]:
    return {
        row["source"] + ":" + row["title"]: row
        for row in sqlite_utils.Database(db)["articles"].rows
    }


def test_scan_stores_articles_in_four_languages_and_encodings(
    site: HTTPServer, tmp_path: Path
) -> None:
    serve_news(site)
    config = write_config(tmp_path / "feeds.yaml", site)
    code, out, err = scan(config)
    assert code == 0, err
    assert "new hits" in out

    db = sqlite_utils.Database(tmp_path / "adwatch.db")
    rows = {row["source"]: row for row in db.query("SELECT * FROM articles ORDER BY id")}
    by_title = {row["title"]: row for row in db["articles"].rows}

    # windows-874 feed: correct Thai, tracking parameters gone from the URL.
    thai = by_title[TH_TITLE]
    assert thai["language"] == "th" and thai["extractor"] == "trafilatura"
    assert thai["url"] == site.url_for("/th/1.html")
    assert "Most read" not in thai["text"] and "cookies" not in thai["text"]
    assert "Copyright" not in thai["text"]
    assert thai["author"] == "Staff Reporter"

    # windows-1258 page: tone marks recombined into NFC.
    vi = by_title[VI_TITLE]
    assert vi["language"] == "vi"
    assert unicodedata.is_normalized("NFC", vi["text"])
    assert "quảng cáo lừa đảo" in vi["text"]

    # NFD summary-only entry from an ill-formed feed, stored as NFC from the summary.
    bozo = rows["vn-bozo"]
    assert bozo["extractor"] == "feed-summary"
    assert unicodedata.is_normalized("NFC", bozo["title"])
    assert "Giá vàng & tỷ giá hôm nay" in bozo["text"]

    # Zawgyi page converted to Unicode before storing, and flagged.
    burmese = rows["mm-zawgyi"]
    assert burmese["zawgyi"] == 1 and burmese["language"] == "my"
    assert MY_UNICODE_BODY.split(" - ")[1][:20] in burmese["text"]

    # Atom: the updated entry with the same id replaced the older one; the 404 page
    # kept its feed summary (HTML stripped) and says so.
    english = [r for r in db["articles"].rows if r["source"] == "en-atom"]
    assert sorted(r["title"] for r in english) == sorted([EN_TITLE, "A page that is gone"])
    gone = next(r for r in english if r["title"] == "A page that is gone")
    assert gone["extractor"] == "feed-summary"
    assert "<b>" not in gone["text"] and "today" in gone["text"]

    hits = {(h["watchlist"], h["matched_text"]) for h in db["hits"].rows}
    assert ("scam-ads", "โฆษณาหลอกลวง") in hits
    assert ("scam-ads", "quảng cáo lừa đảo") in hits
    assert ("gambling-ads", "အွန်လိုင်းလောင်းကစား") in hits
    assert ("deepfake", "deepfake") in hits
    assert ("weather", "hoà giải") in hits  # old tone placement matched, shown as written
    for hit in db["hits"].rows:
        text = db["articles"].get(hit["article_id"])["text"]
        assert text[hit["start"] : hit["end"]] == hit["matched_text"]

    run = next(db["runs"].rows)
    assert run["status"] == "ok" and run["sources_ok"] == 5 and run["sources_failed"] == 0
    assert run["articles_new"] == db["articles"].count
    assert all(s["failures"] == 0 and s["last_ok_at"] for s in db["sources"].rows)


def test_rescan_sends_conditional_gets_and_adds_nothing(site: HTTPServer, tmp_path: Path) -> None:
    serve_news(site)
    config = write_config(tmp_path / "feeds.yaml", site)
    assert scan(config)[0] == 0
    db = sqlite_utils.Database(tmp_path / "adwatch.db")
    counts = (db["articles"].count, db["hits"].count)
    pages_before = sum(1 for r, _ in site.log if r.path.endswith(".html"))

    code, out, _ = scan(config, "--json")
    assert code == 0
    summary = json.loads(out)
    assert summary["articles_new"] == 0 and summary["hits_new"] == 0
    assert (db["articles"].count, db["hits"].count) == counts
    # Article pages already stored are not fetched again (the 404 one is retried
    # only because it was never stored with its page).
    pages_after = sum(1 for r, _ in site.log if r.path.endswith(".html"))
    assert pages_after - pages_before <= 1


def test_hostile_sources_fail_one_line_each_and_the_scan_goes_on(
    site: HTTPServer, tmp_path: Path
) -> None:
    serve_news(site)
    serve_hostile(site, tmp_path)
    config = write_config(tmp_path / "feeds.yaml", site, hostile=True, timeout=1.5)
    code, out, err = scan(config)
    assert code == 3

    lines = err.strip().splitlines()
    assert "Traceback" not in err
    for name, (_, reason) in HOSTILE_SOURCES.items():
        mine = [line for line in lines if line.startswith(f"adwatch: source {name}: FAILED: ")]
        assert len(mine) == 1, (name, lines)
        assert reason in mine[0], (name, mine[0])
    assert lines[-1].startswith(f"adwatch: {len(HOSTILE_SOURCES)} of ")

    db = sqlite_utils.Database(tmp_path / "adwatch.db")
    run = next(db["runs"].rows)
    details = json.loads(run["details"])
    assert run["status"] == "sources-failed" and run["sources_failed"] == len(HOSTILE_SOURCES)
    assert {f["source"] for f in details["failed"]} == set(HOSTILE_SOURCES)
    health = {s["name"]: s for s in db["sources"].rows}
    assert health["bad-404"]["failures"] == 1 and health["bad-404"]["last_status"] == 404
    assert health["bad-404"]["last_ok_at"] is None
    assert health["bad-429"]["failures"] == 0  # retried after Retry-After and succeeded
    assert any(r["source"] == "th-tis" for r in db["articles"].rows)
    assert not [r for r in db["articles"].rows if r["title"] == "secret"]


def test_quiet_prints_nothing_when_all_is_well(site: HTTPServer, tmp_path: Path) -> None:
    serve_news(site)
    config = write_config(tmp_path / "feeds.yaml", site)
    code, out, err = scan(config, "--quiet")
    assert (code, out, err) == (0, "", "")


def test_killed_scan_leaves_a_valid_store_and_the_rerun_completes(
    site: HTTPServer, tmp_path: Path
) -> None:
    serve_news(site)

    def slow_page(request):  # type: ignore[no-untyped-def]
        time.sleep(0.5)
        from scan_site import article_html
        from werkzeug import Response

        return Response(article_html(f"Slow story {request.path}", "A scam ad story.", lang="en"),
                        content_type="text/html")  # fmt: skip

    from scan_site import rss

    many = rss(
        [{"title": f"Story {i}", "link": site.url_for(f"/slow/{i}.html")} for i in range(30)]
    )
    site.expect_request("/slow/feed.xml").respond_with_data(
        many, content_type="application/rss+xml"
    )
    for i in range(30):
        site.expect_request(f"/slow/{i}.html").respond_with_handler(slow_page)
    config = write_config(tmp_path / "feeds.yaml", site)
    text = config.read_text(encoding="utf-8").replace(
        "watchlists:",
        f"  - {{name: slow, url: '{site.url_for('/slow/feed.xml')}', market: TH}}\nwatchlists:",
        1,
    )
    config.write_text(text, encoding="utf-8")

    process = subprocess.Popen(
        [sys.executable, "-m", "adwatch", "--config", str(config), "scan", "--quiet"],
        env={**os.environ, "NO_PROXY": "127.0.0.1"},
        start_new_session=True,
    )
    db_path = tmp_path / "adwatch.db"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(0.2)
        if db_path.exists():
            try:
                done = (
                    sqlite_utils.Database(db_path)
                    .execute("SELECT count(*) FROM articles WHERE source = 'slow'")
                    .fetchone()[0]
                )
            except Exception:
                continue
            if done >= 3:
                break
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()

    db = sqlite_utils.Database(db_path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored_before = db.execute("SELECT count(*) FROM articles WHERE source = 'slow'").fetchone()[0]
    assert 3 <= stored_before < 30

    code, _, err = scan(config, "--quiet")
    assert code == 0, err
    slow_urls = [r[0] for r in db.execute("SELECT url FROM articles WHERE source = 'slow'")]
    assert len(slow_urls) == len(set(slow_urls)) == 30
    hits = db.execute(
        "SELECT article_id, watchlist, term, start, count(*) FROM hits GROUP BY 1, 2, 3, 4"
        " HAVING count(*) > 1"
    ).fetchall()
    assert hits == []
    statuses = [r["status"] for r in db["runs"].rows]
    assert statuses == ["interrupted", "ok"]


def test_check_online_probes_without_storing(site: HTTPServer, tmp_path: Path) -> None:
    serve_news(site)
    site.expect_request("/bad/404.xml").respond_with_data("no", status=404)
    site.expect_request("/bad/html.xml").respond_with_data(
        "<!DOCTYPE html><html><body><p>Home</p></body></html>", content_type="text/html"
    )
    config = write_config(tmp_path / "feeds.yaml", site)
    text = config.read_text(encoding="utf-8").replace(
        "watchlists:",
        f"  - {{name: bad-404, url: '{site.url_for('/bad/404.xml')}', market: TH}}\n"
        f"  - {{name: bad-html, url: '{site.url_for('/bad/html.xml')}', market: TH}}\n"
        "watchlists:",
        1,
    )
    config.write_text(text, encoding="utf-8")
    result = runner.invoke(
        app, ["--config", str(config), "check", "--online"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 3
    cells = [
        [cell.strip() for cell in line.split("│")[1:-1]]
        for line in result.stdout.splitlines()
        if line.startswith("│")
    ]
    rows = {row[0]: row[1:] for row in cells}
    assert rows["th-tis"] == ["200", "rss", "2", "ok"]
    assert rows["en-atom"] == ["200", "atom", "2", "ok"]
    assert rows["bad-404"][0] == "404" and rows["bad-404"][3].startswith("HTTP 404")
    assert rows["bad-html"][1] == "html" and rows["bad-html"][3].startswith("not a feed")
    assert result.stderr.strip() == "adwatch: 2 of 7 sources failed"
    assert not (tmp_path / "adwatch.db").exists()
    assert not [r for r, _ in site.log if r.path.endswith(".html")]
