"""Private by default: what adwatch creates is for the owner and the group only, and no
password or token from a URL or the environment is printed or stored."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils
from pytest_httpserver import HTTPServer
from query_fixtures import fill_store
from typer.testing import CliRunner

from adwatch.cli import app
from adwatch.export import open_output
from adwatch.query import Filters
from adwatch.report import build_report, write_report
from adwatch.store import lock_path, open_store, scan_lock
from adwatch.urls import redact_url, redact_urls

runner = CliRunner()


@pytest.fixture
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """Run the test under the umask it is parametrized with (default 002, a shared box's)."""
    mask = getattr(request, "param", 0o002)
    old = os.umask(mask)
    try:
        yield mask
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- files adwatch creates ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("umask", "expected"),
    [(0o002, 0o660), (0o022, 0o640), (0o077, 0o600)],
    indirect=["umask"],
    ids=["umask-002", "umask-022", "umask-077"],
)
def test_a_new_store_and_its_wal_files_are_owner_and_group_only(
    umask: int, expected: int, tmp_path: Path
) -> None:
    path = tmp_path / "adwatch.db"
    with open_store(path):
        # SQLite gives the -wal and -shm files the mode of the store itself.
        created = [path, path.with_name("adwatch.db-wal"), path.with_name("adwatch.db-shm")]
        assert {p.name: mode(p) for p in created} == {p.name: expected for p in created}


def test_an_existing_store_keeps_the_permissions_its_owner_gave_it(
    umask: int, tmp_path: Path
) -> None:
    path = tmp_path / "adwatch.db"
    fill_store(path)
    path.chmod(0o644)
    with open_store(path):
        pass
    assert mode(path) == 0o644


def test_the_scan_lock_is_owner_and_group_only(umask: int, tmp_path: Path) -> None:
    store = tmp_path / "adwatch.db"
    with scan_lock(store):
        assert mode(lock_path(store)) == 0o660


def test_a_new_export_and_report_are_owner_and_group_only(umask: int, tmp_path: Path) -> None:
    store = tmp_path / "adwatch.db"
    fill_store(store)
    exported = runner.invoke(app, ["--db", str(store), "export", "-o", str(tmp_path / "h.csv")])
    reported = runner.invoke(app, ["--db", str(store), "report", "-o", str(tmp_path / "r.html")])
    assert (exported.exit_code, reported.exit_code) == (0, 0), exported.output + reported.output
    assert (mode(tmp_path / "h.csv"), mode(tmp_path / "r.html")) == (0o660, 0o660)


@pytest.mark.parametrize("umask", [0o077], indirect=True, ids=["umask-077"])
def test_a_stricter_umask_narrows_exports_further(umask: int, tmp_path: Path) -> None:
    target = tmp_path / "hits.csv"
    with open_output(target) as out:
        out.write("id\r\n")
    assert mode(target) == 0o600


def test_a_replaced_export_or_report_keeps_its_permissions(umask: int, tmp_path: Path) -> None:
    store = tmp_path / "adwatch.db"
    fill_store(store)
    shared = tmp_path / "today.html"
    shared.write_text("yesterday's digest", encoding="utf-8")
    shared.chmod(0o644)  # the analyst published it on purpose
    with open_store(store, create=False) as opened:
        write_report(build_report(opened, Filters()), shared)
    assert mode(shared) == 0o644
    assert "yesterday" not in shared.read_text(encoding="utf-8")


def test_scan_creates_a_private_store_and_lock(umask: int, tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        "<item><title>Scam ad seen</title><link>https://ex.example/1</link>"
        "<description>A scam ad ran on TikTok.</description></item></channel></rss>",
        encoding="utf-8",
    )
    config = write_config(tmp_path, feed.as_uri())
    result = runner.invoke(app, ["-c", str(config), "scan", "--quiet"])
    assert result.exit_code == 0, result.output
    assert mode(tmp_path / "adwatch.db") == 0o660
    assert mode(tmp_path / "adwatch.db.lock") == 0o660


def write_config(folder: Path, url: str) -> Path:
    config = folder / "feeds.yaml"
    config.write_text(
        "version: 1\nstore: adwatch.db\n"
        "markets:\n  TH: {name: Thailand, languages: [th, en]}\n"
        f"sources:\n  - {{name: local, url: '{url}', market: TH, articles: false}}\n"
        "watchlists:\n  - {name: scam-ads, category: fraud, severity: high,"
        " terms: {en: [scam ad]}}\n",
        encoding="utf-8",
    )
    return config


# --- secrets in URLs and in the environment -----------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://analyst:hunter2@news.example/rss", "https://***@news.example/rss"),
        ("https://TOKEN123@news.example/rss", "https://***@news.example/rss"),
        (
            "https://news.example/rss?page=2&token=abc&api_key=k&sig=s#top",
            "https://news.example/rss?page=2&token=***&api_key=***&sig=***#top",
        ),
        (
            "https://news.example/a@b?monkey=1&keyword=ad",
            "https://news.example/a@b?monkey=1&keyword=ad",
        ),
        ("https://news.example/rss", "https://news.example/rss"),
        ("not a url", "not a url"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_redact_urls_in_a_message_keeps_the_words_around_them() -> None:
    message = "not a feed at 'http://u:pw@h.example/f?access_token=x', see https://v:w@h/x."
    assert redact_urls(message) == (
        "not a feed at 'http://***@h.example/f?access_token=***', see https://***@h/x."
    )


def test_credentials_in_a_source_url_are_never_printed_or_stored(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    # An HTML page where the feed should be: the error names the URL it came from.
    httpserver.expect_request("/feed").respond_with_data(
        "<!DOCTYPE html><html><body>Log in</body></html>", content_type="text/html"
    )
    port = httpserver.port
    config = write_config(tmp_path, f"http://analyst:hunter2@127.0.0.1:{port}/feed?token=s3cret")
    result = runner.invoke(app, ["-c", str(config), "scan", "--json"])
    assert result.exit_code == 3, result.output
    db = sqlite_utils.Database(tmp_path / "adwatch.db")
    last_error = db.execute("SELECT last_error FROM sources").fetchone()[0]
    details = db.execute("SELECT details FROM runs").fetchone()[0]
    for shown in (result.output, last_error, details):
        assert "hunter2" not in shown and "s3cret" not in shown and "analyst" not in shown
    assert f"'http://***@127.0.0.1:{port}/feed?token=***'" in last_error
    assert json.loads(details)["failed"][0]["error"] == last_error


def test_a_bad_proxy_in_the_environment_is_one_line_without_its_credentials(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "ftp://proxyuser:proxypass@proxy.example:21")
    config = write_config(tmp_path, "https://news.example/rss")
    result = runner.invoke(app, ["-c", str(config), "scan"])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert result.output.startswith("adwatch: cannot use the proxy or TLS settings")
    assert "proxyuser" not in result.output and "proxypass" not in result.output
