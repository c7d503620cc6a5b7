"""robots.txt kept between scans for up to 24 hours (RFC 9309 2.4), on both store engines.

`.ci/run` runs this file again with `--engine postgresql`.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner
from werkzeug import Request, Response

from adwatch.cli import app
from adwatch.fetch import Fetcher, FetchStats
from adwatch.models import FetchSettings, RobotsFile
from adwatch.store import open_store
from adwatch.text.dates import iso_utc

runner = CliRunner()
UA = "adwatch-test/1.0 (+https://example.invalid/adwatch)"
DISALLOW_PRIVATE = "User-agent: *\nDisallow: /private/\n"
ALLOW_ALL = "User-agent: *\nAllow: /\n"
PAGE = (
    "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{0}</title></head>"
    "<body><article><h1>{0}</h1><p>Police warned the public about scam ads that used a "
    "famous singer's face to sell a fake investment, the third such campaign this month."
    "</p></article></body></html>"
)


class Site:
    """A one-feed news site whose robots.txt and feed entries a test can change."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.robots = ALLOW_ALL
        self.pages = ["/news/1.html"]
        self._lock = threading.Lock()
        server.expect_request("/robots.txt").respond_with_handler(self._robots)
        server.expect_request("/feed.xml").respond_with_handler(self._feed)
        server.expect_request(re.compile(r"^/(news|private)/")).respond_with_handler(self._page)

    def _robots(self, request: Request) -> Response:
        with self._lock:
            return Response(self.robots, content_type="text/plain")

    def _feed(self, request: Request) -> Response:
        with self._lock:
            items = "".join(
                f"<item><title>Story {path}</title><link>{self.server.url_for(path)}</link>"
                f"<guid>{path}</guid><description>Scam ads, story {path}</description></item>"
                for path in self.pages
            )
        body = f"<rss version='2.0'><channel><title>News</title>{items}</channel></rss>"
        etag = f'"{len(self.pages)}"'
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        return Response(body, content_type="application/rss+xml", headers={"ETag": etag})

    def _page(self, request: Request) -> Response:
        return Response(PAGE.format(request.path), content_type="text/html; charset=utf-8")

    def asked(self, path: str) -> int:
        return sum(1 for request, _ in self.server.log if request.path == path)

    def asked_under(self, prefix: str) -> int:
        return sum(1 for request, _ in self.server.log if request.path.startswith(prefix))


@pytest.fixture
def news() -> Iterator[Site]:
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    try:
        yield Site(server)
    finally:
        server.clear()
        server.stop()


def write_config(tmp_path: Path, news: Site, *, respect_robots: bool = True) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(
        "version: 1\n"
        "fetch:\n"
        "  timeout: 5\n"
        f"  respect_robots: {'true' if respect_robots else 'false'}\n"
        "markets:\n"
        "  TH: {name: Thailand}\n"
        "sources:\n"
        f"  - {{name: news, url: '{news.server.url_for('/feed.xml')}', market: TH}}\n"
        "watchlists:\n"
        "  - {name: scam-ads, terms: {en: [scam ads]}}\n",
        encoding="utf-8",
    )
    return path


def scan(config: Path, store_at: str) -> None:
    result = runner.invoke(app, ["--config", str(config), "--db", store_at, "scan", "--quiet"])
    assert result.exit_code == 0, result.output


def kept(store_at: str) -> list[RobotsFile]:
    with open_store(store_at) as store:
        return store.kept_robots(fetched_since="0")


# --- the scan ---------------------------------------------------------------------------------


def test_a_second_scan_within_a_day_asks_no_robots_txt(
    news: Site, tmp_path: Path, store_at: str
) -> None:
    config = write_config(tmp_path, news)
    scan(config, store_at)
    assert news.asked("/robots.txt") == 1
    feeds_before = news.asked("/feed.xml")

    scan(config, store_at)

    assert news.asked("/robots.txt") == 1
    assert news.asked("/feed.xml") == feeds_before + 1  # the scan did run: its conditional GET
    [robots] = kept(store_at)
    assert (robots.status, robots.body) == (200, ALLOW_ALL)
    assert robots.origin == news.server.url_for("/").rstrip("/")


def test_robots_txt_older_than_a_day_is_asked_again(
    news: Site, tmp_path: Path, store_at: str
) -> None:
    config = write_config(tmp_path, news)
    scan(config, store_at)
    [robots] = kept(store_at)
    day_old = iso_utc(datetime.now(UTC) - timedelta(hours=24, minutes=5))
    with open_store(store_at) as store:
        store.keep_robots([replace(robots, fetched_at=day_old)])

    scan(config, store_at)

    assert news.asked("/robots.txt") == 2
    [again] = kept(store_at)
    assert again.fetched_at > day_old  # the new answer replaced the old one


def test_a_disallow_kept_from_the_last_scan_is_honoured(
    news: Site, tmp_path: Path, store_at: str
) -> None:
    news.robots = DISALLOW_PRIVATE
    news.pages = ["/news/1.html", "/private/2.html"]
    config = write_config(tmp_path, news)
    scan(config, store_at)
    assert news.asked("/news/1.html") == 1 and news.asked_under("/private/") == 0

    # The site now allows everything and has a new private page; the kept robots.txt,
    # a few minutes old, still says no, and is what the scan goes by.
    news.robots = ALLOW_ALL
    news.pages = [*news.pages, "/private/3.html"]
    scan(config, store_at)

    assert news.asked("/robots.txt") == 1
    assert news.asked("/feed.xml") == 2
    assert news.asked_under("/private/") == 0


def test_respect_robots_false_neither_asks_nor_keeps(
    news: Site, tmp_path: Path, store_at: str
) -> None:
    news.robots = DISALLOW_PRIVATE
    news.pages = ["/private/2.html"]
    config = write_config(tmp_path, news, respect_robots=False)
    scan(config, store_at)
    scan(config, store_at)
    assert news.asked("/robots.txt") == 0
    assert news.asked("/private/2.html") == 1
    assert kept(store_at) == []


# --- the store --------------------------------------------------------------------------------


def test_keep_robots_replaces_an_origins_file_and_kept_robots_filters_by_age(
    store_at: str,
) -> None:
    old = RobotsFile(
        "https://a.example", 200, "User-agent: *\nDisallow: /x\n", "2026-11-01T00:00:00Z"
    )
    other = RobotsFile("https://b.example:8443", 404, "", "2026-11-02T00:00:00Z")
    with open_store(store_at) as store:
        store.keep_robots([old, other])
        store.keep_robots([])  # nothing fetched: nothing written
        newer = replace(old, body="User-agent: *\nAllow: /\n", fetched_at="2026-11-03T00:00:00Z")
        store.keep_robots([newer])
        assert sorted(store.kept_robots(fetched_since="0"), key=lambda r: r.origin) == [
            newer,
            other,
        ]
        assert store.kept_robots(fetched_since="2026-11-02T12:00:00Z") == [newer]


@pytest.mark.sqlite_only
def test_a_store_at_schema_5_gains_the_robots_table_and_keeps_its_rows(tmp_path: Path) -> None:
    import sqlite_utils

    from adwatch.store.sqlite import SCHEMA_VERSION, migrations, schema_version

    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="m006_robots")
    assert schema_version(old) == 5 and "robots" not in old.table_names()
    old.execute("INSERT INTO runs (started_at, status) VALUES ('2026-11-24T06:15:00Z', 'ok')")
    old.conn.commit()
    old.close()

    robots = RobotsFile("https://a.example", 200, ALLOW_ALL, "2026-11-24T06:15:01Z")
    with open_store(path, create=False) as store:
        store.keep_robots([robots])
        assert store.kept_robots(fetched_since="2026-11-24T00:00:00Z") == [robots]
        assert store.last_run() is not None
    assert schema_version(sqlite_utils.Database(path)) == SCHEMA_VERSION >= 6


# --- the fetcher --------------------------------------------------------------------------------


def settings() -> FetchSettings:
    return FetchSettings(timeout=5.0, user_agent=UA, respect_robots=True)


def ask(url: str, robots: list[RobotsFile]) -> tuple[bool, list[RobotsFile], FetchStats]:
    async def go() -> tuple[bool, list[RobotsFile], FetchStats]:
        async with Fetcher(settings(), robots=robots) as fetcher:
            allowed = await fetcher.robots_allowed(url)
            return allowed, fetcher.robots_fetched, fetcher.stats

    return asyncio.run(go())


def origin_of(news: Site) -> str:
    return news.server.url_for("/").rstrip("/")


def test_a_fresh_kept_file_is_used_and_not_fetched_again(news: Site) -> None:
    fresh = RobotsFile(origin_of(news), 200, DISALLOW_PRIVATE, iso_utc(datetime.now(UTC)))
    allowed, fetched, stats = ask(news.server.url_for("/private/9.html"), [fresh])
    assert allowed is False
    assert fetched == [] and stats.robots_fetches == 0 and stats.robots_kept == 1
    assert news.asked("/robots.txt") == 0


@pytest.mark.parametrize(
    "age",
    [timedelta(hours=24, seconds=1), timedelta(days=30), -timedelta(hours=1)],
    ids=["a day old", "a month old", "from the future"],
)
def test_a_stale_or_future_kept_file_is_fetched_again(news: Site, age: timedelta) -> None:
    stale = RobotsFile(origin_of(news), 200, DISALLOW_PRIVATE, iso_utc(datetime.now(UTC) - age))
    allowed, fetched, stats = ask(news.server.url_for("/private/9.html"), [stale])
    assert allowed is True  # the site's robots.txt of today allows it
    assert [(r.origin, r.status, r.body) for r in fetched] == [(origin_of(news), 200, ALLOW_ALL)]
    assert stats.robots_fetches == 1 and stats.robots_kept == 0


def test_a_kept_404_means_no_robots_txt(news: Site) -> None:
    missing = RobotsFile(origin_of(news), 404, "", iso_utc(datetime.now(UTC)))
    allowed, _, stats = ask(news.server.url_for("/private/9.html"), [missing])
    assert allowed is True and stats.robots_fetches == 0


@pytest.mark.parametrize(("status", "kept_status"), [(404, 404), (410, 410), (503, None)])
def test_what_a_fetched_robots_txt_leaves_to_keep(status: int, kept_status: int | None) -> None:
    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request("/robots.txt").respond_with_data("nope", status=status)
    server.start()
    try:
        allowed, fetched, _ = ask(server.url_for("/page"), [])
    finally:
        server.clear()
        server.stop()
    assert allowed is True
    # No robots.txt (4xx) is an answer and may be kept, without its error page; a 5xx is
    # a server in trouble, asked again at the next scan.
    assert [(r.status, r.body) for r in fetched] == (
        [] if kept_status is None else [(kept_status, "")]
    )
