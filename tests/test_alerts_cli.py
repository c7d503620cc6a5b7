"""`adwatch scan` raising and delivering alerts, `adwatch alerts` and `alerts --test`,
end to end: a local news site, a local webhook receiver, a local SMTP server.

The secrets (the webhook's token path, the SMTP password) appear in no output, no
log and no stored row.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pytest_httpserver import HTTPServer
from scan_site import article_html, rss
from store_sql import rows
from test_alerting import NOW, plant_history
from typer.testing import CliRunner

from adwatch.cli import app

runner = CliRunner()
TOKEN = "T0K3N-do-not-print"
PASSWORD = "s3cret-smtp-pass"  # noqa: S105 - a test value
TH_TITLE = "ตำรวจเตือนโฆษณาหลอกลวงลงทุนใช้ภาพคนดังปลอม"


def serve_site(site: HTTPServer) -> None:
    items = [
        {
            "title": TH_TITLE,
            "link": site.url_for("/th/1.html"),
            "description": "scam ad",
            "pubDate": "Sat, 05 Dec 2026 01:00:00 GMT",
        },
        {
            "title": "Scam ad wave hits video platform",
            "link": site.url_for("/en/1.html"),
            "description": "scam ad",
            "pubDate": "Sat, 05 Dec 2026 02:00:00 GMT",
        },
    ]
    site.expect_request("/feed.xml").respond_with_data(
        rss(items), content_type="application/rss+xml"
    )
    bodies = {
        "/th/1.html": (TH_TITLE, f"{TH_TITLE} ผู้เสียหายกว่า 200 ราย scam ad บนแพลตฟอร์มวิดีโอ", "th"),
        "/en/1.html": (
            "Scam ad wave hits video platform",
            "Police said a scam ad using a fake celebrity ran for weeks on a video platform.",
            "en",
        ),
    }
    for path, (title, body, lang) in bodies.items():
        site.expect_request(path).respond_with_data(
            article_html(title, body, lang=lang), content_type="text/html; charset=utf-8"
        )
    site.expect_request("/robots.txt").respond_with_data("", status=404)


def write_config(path: Path, site: HTTPServer, alerts: str, store: str | None = None) -> Path:
    store_line = f"store: {json.dumps(store)}\n" if store else ""
    path.write_text(
        store_line
        + f"""markets:
  TH: {{name: Thailand, languages: [th, en]}}
sources:
  - {{name: th-news, url: "{site.url_for("/feed.xml")}", market: TH}}
watchlists:
  - name: scam-ads
    category: scam
    severity: critical
    terms: {{any: ["scam ad"]}}
{alerts}""",
        encoding="utf-8",
    )
    return path


def invoke(config: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    return runner.invoke(app, ["--config", str(config), *args], env=env)


def webhook_alerts(url: str) -> str:
    return f"""alerts:
  send: [critical, spikes]
  timeout: 2
  targets:
    - name: team-webhook
      webhook: "{url}"
"""


def no_secret_anywhere(location: str, *texts: str) -> None:
    stored = json.dumps(
        [rows(location, f"SELECT * FROM {table}") for table in ("runs", "deliveries", "alerts")],
        default=str,
    )
    for text in (*texts, stored):
        assert TOKEN not in text and PASSWORD not in text


def test_a_scan_delivers_its_critical_hits_once_and_says_so_in_json(
    site: HTTPServer, httpserver: HTTPServer, tmp_path: Path, store_at: str
) -> None:
    serve_site(site)
    httpserver.expect_request(f"/hooks/{TOKEN}", method="POST").respond_with_data("ok")
    config = write_config(
        tmp_path / "feeds.yaml", site, webhook_alerts(httpserver.url_for(f"/hooks/{TOKEN}")),
        store_at,
    )  # fmt: skip
    first = invoke(config, "scan", "--json")
    assert first.exit_code == 0, first.stderr
    summary = json.loads(first.stdout)
    critical = [a for a in summary["alerts"] if a["kind"] == "hit"]
    # One alert per article and watchlist: its first critical hit.
    stored = rows(
        store_at,
        "SELECT MIN(id) AS id FROM hits WHERE severity = 'critical' GROUP BY article_id, watchlist",
    )
    assert len(critical) == len(stored) >= 2
    assert {a["hit_id"] for a in critical} == {r["id"] for r in stored}
    assert summary["deliveries"][0]["sent"] == len(stored) and summary["deliveries"][0]["ok"]
    (request, _), *_ = httpserver.log
    body = json.loads(request.get_data())
    assert TH_TITLE in body["text"] and len(body["alerts"]) == len(stored)
    again = invoke(config, "scan", "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["alerts"] == []
    assert len(httpserver.log) == 1  # once per alert and target
    no_secret_anywhere(store_at, first.stdout, first.stderr, again.stdout, again.stderr)


def test_a_failing_target_exits_3_names_it_and_recovers_on_a_later_scan(
    site: HTTPServer, httpserver: HTTPServer, tmp_path: Path, store_at: str
) -> None:
    serve_site(site)
    httpserver.expect_oneshot_request(f"/hooks/{TOKEN}").respond_with_data("boom", status=500)
    config = write_config(
        tmp_path / "feeds.yaml", site, webhook_alerts(httpserver.url_for(f"/hooks/{TOKEN}")),
        store_at,
    )  # fmt: skip
    failed = invoke(config, "scan")
    assert failed.exit_code == 3
    assert "alert target team-webhook" in failed.stderr and "500" in failed.stderr
    assert "kept to retry" in failed.stderr
    (run,) = rows(store_at, "SELECT status, details FROM runs")
    assert run["status"] == "alerts-failed"
    assert json.loads(run["details"])["alert_failures"][0]["target"] == "team-webhook"
    listed = invoke(config, "alerts")
    waiting = len(rows(store_at, "SELECT DISTINCT article_id, watchlist FROM hits"))
    assert f"{waiting} waiting to be retried" in listed.stdout and "500" in listed.stdout
    no_secret_anywhere(store_at, failed.stdout, failed.stderr, listed.stdout)
    # The receiver is back; the retry is not due yet: the backoff is kept.
    httpserver.expect_request(f"/hooks/{TOKEN}").respond_with_data("ok")
    soon = invoke(config, "scan", "--json")
    assert soon.exit_code == 0 and json.loads(soon.stdout)["deliveries"][0]["sent"] == 0
    from adwatch.store import open_store

    with open_store(store_at) as store:
        from adwatch.alerting import deliver_due
        from adwatch.config import load_config

        later = deliver_due(store, load_config(config).alerts, now=datetime(2100, 1, 1, tzinfo=UTC))
    assert later[0].sent == waiting
    assert {r["status"] for r in rows(store_at, "SELECT status FROM deliveries")} == {"delivered"}


def test_alerts_lists_a_spike_with_its_figures_as_a_table_and_as_json(
    tmp_path: Path, store_at: str
) -> None:
    plant_history(store_at)
    config = tmp_path / "feeds.yaml"
    config.write_text(
        f"store: {json.dumps(store_at)}\nmarkets: {{TH: {{name: T}}, VN: {{name: V}}}}\n"
        "sources: []\nwatchlists: []\n",
        encoding="utf-8",
    )
    as_json = invoke(config, "alerts", "--format", "json")
    assert as_json.exit_code == 0, as_json.stderr
    (risk,) = json.loads(as_json.stdout)
    assert {k: risk[k] for k in ("watchlist", "market", "day", "observed")} == {
        "watchlist": "scam-ads", "market": "TH", "day": NOW.date().isoformat(), "observed": 7,
    }  # fmt: skip
    assert risk["expected"] < 2 and risk["why"] and risk["flagged"] is True
    table = invoke(config, "alerts")
    assert "scam-ads" in table.stdout and "TH" in table.stdout and "VN" not in table.stdout
    everything = invoke(config, "alerts", "--all", "--format", "json")
    assert {r["market"] for r in json.loads(everything.stdout)} == {"TH", "VN"}
    assert invoke(config, "alerts", "--market", "XX").exit_code == 2
    assert invoke(config, "alerts", "--count", "words").exit_code == 2


def test_alerts_test_shows_a_404_and_exits_3(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request(f"/hooks/{TOKEN}").respond_with_data("no such hook", status=404)
    httpserver.expect_request("/good").respond_with_data("ok")
    config = tmp_path / "feeds.yaml"
    config.write_text(
        f"""markets: {{TH: {{name: T}}}}
sources: []
watchlists: []
alerts:
  targets:
    - {{name: broken, webhook: "{httpserver.url_for(f"/hooks/{TOKEN}")}"}}
    - {{name: good, webhook: "{httpserver.url_for("/good")}"}}
""",
        encoding="utf-8",
    )
    result = invoke(config, "alerts", "--test")
    assert result.exit_code == 3
    assert "broken" in result.stdout and "404" in result.stdout and "no such hook" in result.stdout
    assert "good" in result.stdout and "HTTP 200" in result.stdout
    assert TOKEN not in result.stdout + result.stderr
    assert len(httpserver.log) == 2
    unconfigured = tmp_path / "none.yaml"
    unconfigured.write_text("markets: {TH: {name: T}}\nsources: []\n", encoding="utf-8")
    assert invoke(unconfigured, "alerts", "--test").exit_code == 2


# --- e-mail ------------------------------------------------------------------------------


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content, policy=default_policy))
        return "250 2.0.0 queued"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Controller, Inbox]]:
    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        ok = isinstance(data, LoginPassword) and data.password == PASSWORD.encode()
        return AuthResult(success=ok)

    inbox = Inbox()
    with socket.socket() as probe:  # a free port: the controller checks it can connect
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


def test_a_scan_mails_its_alerts_with_the_password_from_the_environment(
    site: HTTPServer, tmp_path: Path, store_at: str, smtp_server: tuple[Controller, Inbox]
) -> None:
    controller, inbox = smtp_server
    serve_site(site)
    port = controller.port
    alerts = f"""alerts:
  send: [critical]
  targets:
    - name: oncall-mail
      email: {{to: [oncall@example.com], from: adwatch@example.com, host: 127.0.0.1,
              port: {port}, starttls: false, user: adwatch, password_env: ADWATCH_TEST_SMTP}}
"""
    config = write_config(tmp_path / "feeds.yaml", site, alerts, store_at)
    env = {**os.environ, "ADWATCH_TEST_SMTP": PASSWORD}
    result = invoke(config, "scan", "--json", env=env)
    assert result.exit_code == 0, result.stderr
    (mail,) = inbox.messages
    assert mail["To"] == "oncall@example.com" and "critical" in mail["Subject"]
    body = mail.get_content()
    assert TH_TITLE in body and "scam ad" in body.lower()
    no_secret_anywhere(store_at, result.stdout, result.stderr, body)


def test_a_missing_password_variable_is_reported_and_kept_for_later(
    site: HTTPServer, tmp_path: Path, store_at: str, smtp_server: tuple[Controller, Inbox]
) -> None:
    controller, inbox = smtp_server
    serve_site(site)
    port = controller.port
    alerts = f"""alerts:
  targets:
    - name: oncall-mail
      email: {{to: oncall@example.com, from: adwatch@example.com, host: 127.0.0.1,
              port: {port}, starttls: false, user: adwatch, password_env: ADWATCH_TEST_UNSET}}
"""
    config = write_config(tmp_path / "feeds.yaml", site, alerts, store_at)
    result = invoke(config, "scan")
    assert result.exit_code == 3
    assert "ADWATCH_TEST_UNSET" in result.stderr and not inbox.messages
    assert "ADWATCH_TEST_UNSET is not set" in result.stderr


def test_check_counts_alert_targets_and_events(tmp_path: Path) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text(
        f"""markets: {{TH: {{name: T}}}}
sources: []
alerts:
  targets:
    - {{name: hook, webhook: "https://hooks.example.com/{TOKEN}"}}
events:
  - {{name: th-vote, market: TH, start: 2027-03-01, end: 2027-03-31}}
""",
        encoding="utf-8",
    )
    result = invoke(config, "check")
    assert result.exit_code == 0, result.stderr
    assert ", 1 alert target, 1 event; store " in result.stdout
    assert TOKEN not in result.stdout + result.stderr
