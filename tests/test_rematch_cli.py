"""End-to-end: scan local fixtures, edit the watchlists, `adwatch rematch`, check the store."""

from __future__ import annotations

from pathlib import Path

import sqlite_utils
from pytest_httpserver import HTTPServer
from scan_site import serve_news, write_config
from typer.testing import CliRunner

from adwatch.cli import app

runner = CliRunner()


def test_rematch_after_editing_watchlists_keeps_triaged_hits(
    site: HTTPServer, tmp_path: Path
) -> None:
    serve_news(site)
    config = write_config(tmp_path / "feeds.yaml", site)
    assert runner.invoke(app, ["--config", str(config), "scan", "--quiet"]).exit_code == 0
    db = sqlite_utils.Database(tmp_path / "adwatch.db")
    requests_after_scan = len(site.log)

    # The analyst escalates the Thai scam hit, then rewrites the watchlists:
    # scam-ads loses its Thai term, the weather list goes, a new one arrives.
    thai_hits = [
        row[0]
        for row in db.execute(
            "SELECT id FROM hits WHERE watchlist = 'scam-ads' AND term = 'โฆษณาหลอกลวง'"
        )
    ]
    assert len(thai_hits) >= 2  # in the headline and in the body
    thai = thai_hits[0]
    triage = runner.invoke(
        app, ["--config", str(config), "triage", str(thai), "--status", "escalated"]
    )
    assert triage.exit_code == 0, triage.output
    weather_hits = db.execute("SELECT count(*) FROM hits WHERE watchlist = 'weather'").fetchone()[0]
    assert weather_hits > 0

    text = config.read_text(encoding="utf-8")
    text = text.replace('      th: ["โฆษณาหลอกลวง"]\n', "")
    text = text[: text.index("  - name: weather")] + (
        "  - name: crypto-ads\n    category: fraud\n    severity: medium\n"
        "    terms:\n      vi: [tiền ảo]\n      th: [ลงทุน]\n"
    )
    config.write_text(text, encoding="utf-8")

    result = runner.invoke(app, ["--config", str(config), "rematch"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert (
        f"scam-ads: 0 added, {len(thai_hits) - 1} removed, "
        "1 triaged kept although they no longer match"
    ) in lines
    assert f"weather: 0 added, {weather_hits} removed" in lines
    added = db.execute("SELECT count(*) FROM hits WHERE watchlist = 'crypto-ads'").fetchone()[0]
    assert added >= 2
    assert f"crypto-ads: {added} added, 0 removed" in lines
    assert lines[-1] == (
        f"rematched {db['articles'].count} articles: {added} hits added, "
        f"{len(thai_hits) - 1 + weather_hits} removed, 1 triaged kept"
    )

    # The triaged hit and its log survive; nothing went to the network.
    kept = db["hits"].get(thai)
    assert kept["status"] == "escalated"
    assert db.execute("SELECT count(*) FROM triage_log WHERE hit_id = ?", [thai]).fetchone()[0] == 1
    assert db.execute("SELECT count(*) FROM hits WHERE watchlist = 'weather'").fetchone()[0] == 0
    assert len(site.log) == requests_after_scan

    again = runner.invoke(app, ["--config", str(config), "rematch"])
    assert again.exit_code == 0
    # Still reported each time: the analyst decides what to do with it.
    assert again.output.strip().splitlines()[-1].endswith("0 hits added, 0 removed, 1 triaged kept")


def test_rematch_unknown_watchlist_is_a_usage_error(site: HTTPServer, tmp_path: Path) -> None:
    serve_news(site)
    config = write_config(tmp_path / "feeds.yaml", site)
    result = runner.invoke(app, ["--config", str(config), "rematch", "-w", "nope"])
    assert result.exit_code == 2
    assert "--watchlist: no watchlist named 'nope'" in result.stderr
