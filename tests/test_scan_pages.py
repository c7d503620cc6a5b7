"""Article pages that fail, come back, have no link, or flood: nothing missed, nothing hidden."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from scan_site import article_html, rss
from store_sql import StoreView, execute
from typer.testing import CliRunner

from adwatch.cli import app
from adwatch.pipeline import PAGE_TRIES

runner = CliRunner()

WATCHLISTS = """
watchlists:
  - name: scam-ads
    category: fraud
    severity: high
    terms:
      en: ["scam ad", "investment scam"]
"""


def write_config(path: Path, server: HTTPServer, *routes: str, store: str = "adwatch.db") -> Path:
    lines = ["version: 1", f"store: '{store}'", "fetch: {timeout: 2}"]
    lines += ["markets:", "  TH: {name: Thailand, languages: [th, en]}", "sources:"]
    for number, route in enumerate(routes):
        lines.append(f"  - {{name: src-{number}, url: '{server.url_for(route)}', market: TH}}")
    path.write_text("\n".join(lines) + WATCHLISTS, encoding="utf-8")
    return path


def scan(config: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--config", str(config), "scan", *args])
    return result.exit_code, result.stdout, result.stderr


def make_due(db: StoreView) -> None:
    """Pretend the retry delay has passed (a scan an hour later)."""
    execute(
        db.location,
        "UPDATE articles SET page_retry_at = '2000-01-01T00:00:00Z'"
        " WHERE page_retry_at IS NOT NULL",
    )


def test_a_page_that_failed_is_retried_and_replaces_the_feed_text(
    site: HTTPServer, tmp_path: Path, store_at: str
) -> None:
    feed = rss([{
        "title": "Police warn of fake ads",
        "link": site.url_for("/story.html"),
        "description": "Short teaser about a scam ad.",
    }])  # fmt: skip
    site.expect_request("/feed.xml").respond_with_data(feed, content_type="application/rss+xml")
    site.expect_request("/story.html").respond_with_data("gone", status=404)
    config = write_config(tmp_path / "feeds.yaml", site, "/feed.xml", store=store_at)
    code, _, err = scan(config, "--quiet")
    assert code == 0, err  # one failed page of one is not a failed source

    db = StoreView(store_at)
    article = next(db["articles"].rows)
    assert article["extractor"] == "feed-summary"
    assert article["warc_file"] is None  # a 404 is not kept as the article's page
    assert article["page_attempts"] == 1 and article["page_error"] == "HTTP 404"
    assert article["page_retry_at"] > article["fetched_at"]
    teaser_hit = next(db["hits"].rows)
    triage = runner.invoke(
        app, ["--config", str(config), "triage", str(teaser_hit["id"]), "--status", "escalated"]
    )
    assert triage.exit_code == 0, triage.stderr

    # Later: the page is online, and the feed has moved on to other stories.
    site.clear()
    site.expect_request("/feed.xml").respond_with_data(rss([]), content_type="application/rss+xml")
    body = "A long report.\nThe investment scam reached thousands of people before removal."
    site.expect_request("/story.html").respond_with_data(
        article_html("Police warn of fake ads", body, lang="en"), content_type="text/html"
    )
    make_due(db)
    code, out, err = scan(config, "--json")
    assert code == 0, err
    assert json.loads(out)["sources"][0]["pages_recovered"] == 1

    article = next(db["articles"].rows)
    assert article["extractor"] == "trafilatura"
    assert "thousands of people" in article["text"]
    # The page that came back is kept as served (on PostgreSQL only with a folder).
    assert (article["warc_file"] is not None) == (not store_at.startswith("postgresql"))
    assert (article["page_attempts"], article["page_retry_at"], article["page_error"]) == (
        0,
        None,
        None,
    )
    hits = {h["matched_text"]: h for h in db["hits"].rows}
    assert "investment scam" in hits  # matched again on the page's text
    assert hits["scam ad"]["status"] == "escalated"  # the triaged hit is kept


def test_retries_back_off_and_stop_after_the_last_try(
    site: HTTPServer, tmp_path: Path, store_at: str
) -> None:
    feed = rss([{"title": "A scam ad story", "link": site.url_for("/down.html")}])
    site.expect_request("/feed.xml").respond_with_data(feed, content_type="application/rss+xml")
    site.expect_request("/down.html").respond_with_data("busy", status=503)
    config = write_config(tmp_path / "feeds.yaml", site, "/feed.xml", store=store_at)
    db = StoreView(store_at)
    delays = []
    for attempt in range(1, PAGE_TRIES + 2):
        scan(config, "--quiet")
        row = next(db["articles"].rows)
        if attempt <= PAGE_TRIES:
            assert row["page_attempts"] == attempt
        delays.append(row["page_retry_at"])
        make_due(db)
    assert all(delays[: PAGE_TRIES - 1]) and delays[PAGE_TRIES - 1] is None
    page_fetches = sum(1 for request, _ in site.log if request.path == "/down.html")
    # 503 is retried inside one fetch too (bounded): every scan tried, none after the last.
    assert page_fetches >= PAGE_TRIES
    before = page_fetches
    scan(config, "--quiet")
    assert sum(1 for request, _ in site.log if request.path == "/down.html") == before


def test_a_source_whose_pages_mostly_fail_is_reported_and_exits_3(
    site: HTTPServer, tmp_path: Path, store_at: str
) -> None:
    items = [{"title": f"Story {n} on a scam ad", "link": site.url_for(f"/p/{n}.html")} for n in range(6)]  # fmt: skip
    site.expect_request("/feed.xml").respond_with_data(rss(items), content_type="application/rss+xml")  # fmt: skip
    for n in range(6):
        if n == 0:
            site.expect_request(f"/p/{n}.html").respond_with_data(
                article_html("Story 0", "A scam ad.", lang="en"), content_type="text/html"
            )
        else:
            site.expect_request(f"/p/{n}.html").respond_with_data("forbidden", status=403)
    config = write_config(tmp_path / "feeds.yaml", site, "/feed.xml", store=store_at)
    code, out, err = scan(config)
    assert code == 3
    assert "adwatch: source src-0: FAILED: 5 of 6 article pages failed: HTTP 403" in err
    assert "Traceback" not in err
    assert "5 of 6 article pages failed" in " ".join(out.split())  # and the run summary

    db = StoreView(store_at)
    assert db["articles"].count == 6  # nothing missed: five kept from the feed text
    run = next(db["runs"].rows)
    details = json.loads(run["details"])
    assert run["status"] == "sources-failed" and run["sources_failed"] == 1
    assert details["page_failures"] == [
        {"source": "src-0", "pages": 6, "failed": 5, "reason": "HTTP 403"}
    ]
    source = next(db["sources"].rows)
    assert (source["last_pages"], source["last_pages_failed"], source["last_page_error"]) == (
        6,
        5,
        "HTTP 403",
    )
    assert source["failures"] == 1 and source["etag"] is None

    listed = runner.invoke(app, ["--config", str(config), "sources", "--format", "json"])
    health = json.loads(listed.stdout)[0]
    assert health["state"] == "pages failing"
    assert health["last_pages_failed"] == 5 and health["last_page_error"] == "HTTP 403"


def test_entries_without_links_are_stored_from_the_feed_and_not_fetched(
    site: HTTPServer, tmp_path: Path, store_at: str
) -> None:
    body = (
        '<?xml version="1.0" encoding="windows-874"?><rss version="2.0"><channel><title>t</title>'
        "<item><description>ตำรวจเตือน scam ad ระบาด</description></item>"
        "<item><description>ข่าวกีฬา ฟุตบอลนัดกระชับมิตร</description></item>"
        "</channel></rss>"
    ).encode("cp874")
    site.expect_request("/tis.xml").respond_with_data(body, content_type="text/xml")
    config = write_config(tmp_path / "feeds.yaml", site, "/tis.xml", store=store_at)
    code, out, err = scan(config, "--json")
    assert code == 0, err
    assert json.loads(out)["sources"][0]["pages"] == 0
    db = StoreView(store_at)
    rows = list(db["articles"].rows)
    assert len(rows) == 2 and all(r["extractor"] == "feed-summary" for r in rows)
    assert all(r["page_retry_at"] is None for r in rows)  # nothing to retry
    assert [h["matched_text"] for h in db["hits"].rows] == ["scam ad"]
    assert [r.path for r, _ in site.log if r.path != "/robots.txt"] == ["/tis.xml"]
    # The same entries on the next scan are the same articles.
    site.clear()
    site.expect_request("/tis.xml").respond_with_data(body, content_type="text/xml")
    assert scan(config, "--quiet")[0] == 0
    assert db["articles"].count == 2


def test_a_page_repeating_a_term_keeps_a_capped_number_of_hits_and_the_total(
    site: HTTPServer, tmp_path: Path, store_at: str
) -> None:
    body = "\n".join(f"Paragraph {n}: another scam ad was reported." for n in range(400))
    feed = rss([{"title": "Flood", "link": site.url_for("/flood.html")}])
    site.expect_request("/feed.xml").respond_with_data(feed, content_type="application/rss+xml")
    site.expect_request("/flood.html").respond_with_data(
        article_html("Flood", body, lang="en"), content_type="text/html"
    )
    config = write_config(tmp_path / "feeds.yaml", site, "/feed.xml", store=store_at)
    assert scan(config, "--quiet")[0] == 0
    db = StoreView(store_at)
    assert db["hits"].count == 25
    total = next(db["hit_totals"].rows)
    assert total["watchlist"] == "scam-ads" and total["kept"] == 25 and total["total"] >= 400


def test_terminal_escapes_and_bidi_overrides_never_reach_the_store(
    site: HTTPServer, tmp_path: Path, store_at: str
) -> None:
    title = "Scam ad \x1b]0;pwned\x07alert\x1b[2J \u202eevil\u2066 x\u200f"
    feed = rss([{"title": title, "link": site.url_for("/s.html"), "description": "scam ad"}])
    site.expect_request("/feed.xml").respond_with_data(feed, content_type="application/rss+xml")
    site.expect_request("/s.html").respond_with_data("no", status=404)
    config = write_config(tmp_path / "feeds.yaml", site, "/feed.xml", store=store_at)
    assert scan(config, "--quiet")[0] == 0
    db = StoreView(store_at)
    stored = next(db["articles"].rows)
    assert stored["title"] == "Scam ad ]0;pwnedalert[2J evil x"
    for fmt in ("csv", "json"):
        result = runner.invoke(app, ["--config", str(config), "hits", "--format", fmt])
        assert result.exit_code == 0
        assert not any(ch in result.stdout for ch in "\x1b\x07\u202e\u2066\u200f")


def _descendants(pid: int) -> set[int]:
    """Every process below `pid` (the forkserver and its workers), read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _slow_site(site: HTTPServer, count: int) -> None:
    def slow_page(request):  # type: ignore[no-untyped-def]
        from werkzeug import Response

        time.sleep(0.4)
        page = article_html(f"Slow {request.path}", "Another scam ad story.", lang="en")
        return Response(page, content_type="text/html")

    items = [{"title": f"Slow {n}", "link": site.url_for(f"/slow/{n}.html")} for n in range(count)]
    site.expect_request("/feed.xml").respond_with_data(rss(items), content_type="application/rss+xml")  # fmt: skip
    for n in range(count):
        site.expect_request(f"/slow/{n}.html").respond_with_handler(slow_page)


def _start_scan(config: Path, store: str) -> tuple[subprocess.Popen[bytes], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "adwatch", "--config", str(config), "scan", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_PROXY": "127.0.0.1"},
        start_new_session=True,
    )
    db_path = store
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(0.2)
        try:
            stored = StoreView(db_path).execute("SELECT count(*) FROM articles")
            if stored.fetchone()[0] >= 3:
                break
        except Exception:  # the store is not there yet
            continue
    return process, db_path


@pytest.mark.parametrize(("how", "code"), [("SIGTERM", 143), ("SIGINT", 130)])
def test_a_signal_stops_the_scan_with_one_line_no_process_left_and_true_counts(
    site: HTTPServer, tmp_path: Path, store_at: str, how: str, code: int
) -> None:
    _slow_site(site, 40)
    config = write_config(tmp_path / "feeds.yaml", site, "/feed.xml", store=store_at)
    process, db_path = _start_scan(config, store_at)
    helpers = _descendants(process.pid)
    assert helpers, "the scan runs a worker pool"
    if how == "SIGTERM":
        os.kill(process.pid, signal.SIGTERM)  # as cron, systemd or `kill PID` send it
    else:
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group
    _, err = process.communicate(timeout=60)
    assert process.returncode == code
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"adwatch: scan interrupted by {how}; run 1")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in helpers):
        time.sleep(0.1)
    assert not [pid for pid in helpers if _alive(pid)]

    db = StoreView(db_path)
    run = next(db["runs"].rows)
    stored = db["articles"].count
    assert run["status"] == "interrupted" and run["finished_at"]
    assert run["articles_new"] == stored >= 3
    assert run["hits_new"] == db["hits"].count > 0


def test_show_lists_a_screenful_of_other_hits_and_counts_the_rest(tmp_path: Path) -> None:
    # A store from before the cap: one article with 200 hits.
    from adwatch.match import Matcher
    from adwatch.models import Article, Watchlist
    from adwatch.store import open_store

    text = " ".join(["another scam ad."] * 200)
    article = Article(
        url="https://e.example/1", source="s", market="TH", title="t", text=text,
        language="en", published_at=None, fetched_at="2026-12-01T00:00:00Z",
        content_hash="h", extractor="trafilatura",
    )  # fmt: skip
    watchlist = Watchlist(name="w", category="c", severity="high", terms={"en": ["scam ad"]})
    path = tmp_path / "adwatch.db"
    with open_store(path) as store:
        store.save_article(
            article, Matcher.build([watchlist]).match(text, market="TH", language="en")
        )
    shown = runner.invoke(app, ["--db", str(path), "show", "1"], env={"COLUMNS": "100"})
    assert shown.exit_code == 0, shown.stderr
    assert "… and 169 more" in shown.stdout
    assert len(shown.stdout.splitlines()) < 80
    detail = json.loads(runner.invoke(app, ["--db", str(path), "show", "1", "-f", "json"]).stdout)
    assert len(detail["other_hits"]) == 30 and detail["other_hits_total"] == 199
