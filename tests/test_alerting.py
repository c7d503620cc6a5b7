"""Early warning over a real store: spikes counted from it, alerts raised once, delivered
once per target, retried with backoff, given up, and a hanging target bounded.

Every test stores through `store_at`, so `--engine postgresql` runs them on PostgreSQL.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from store_sql import execute, rows, value
from werkzeug import Request, Response

from adwatch import alerting
from adwatch.models import (
    AlertSettings,
    Article,
    Filters,
    HitAlert,
    Match,
    SpikeAlert,
    WebhookTarget,
)
from adwatch.store import open_store
from adwatch.text.dates import iso_utc

# Noon, so "today" has articles already; every date below is relative to it.
NOW = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
DAYS = 33  # 28 baseline days, a 2-day gap, and today, and a little more


def _match(watchlist: str, severity: str = "high") -> Match:
    return Match(
        watchlist=watchlist,
        category="scam",
        severity=severity,
        term="scam ad",
        matched_text="scam ad",
        start=0,
        end=7,
        snippet="scam ad",
    )


def _save(store: object, n: int, *, market: str, day: datetime, hit: bool, severity: str) -> None:
    article = Article(
        url=f"https://news.example/{market}/{day.date()}/{n}",
        source=f"{market.lower()}-news",
        market=market,
        title=f"{market} story {n} of {day.date()}",
        text="scam ad seen on a video platform" if hit else "weather and football",
        language="en",
        published_at=iso_utc(day),
        fetched_at=iso_utc(day + timedelta(minutes=n)),
        content_hash=f"{market}{day.date()}{n}",
        extractor="trafilatura",
    )
    store.save_article(article, [_match("scam-ads", severity)] if hit else [])  # type: ignore[attr-defined]


def plant_history(location: str) -> None:
    """TH: 10 articles a day, a hit on one or two of them, today 7 of 10 (a spike).
    VN: 10 articles and one hit a day; today the feed doubled: 20 articles, 2 hits (no spike).
    """
    with open_store(location) as store:
        for back in range(DAYS, -1, -1):
            day = NOW - timedelta(days=back)
            th_hits = 7 if back == 0 else (1 + back % 2)
            for n in range(10):
                _save(store, n, market="TH", day=day, hit=n < th_hits, severity="high")
            vn_articles, vn_hits = (20, 2) if back == 0 else (10, 1)
            for n in range(vn_articles):
                _save(store, n, market="VN", day=day, hit=n < vn_hits, severity="high")


@pytest.fixture
def history(store_at: str) -> str:
    plant_history(store_at)
    return store_at


def test_a_spike_per_article_scanned_is_flagged_and_a_doubled_feed_is_not(history: str) -> None:
    with open_store(history) as store:
        risks = alerting.emerging_risks(store, now=NOW)
        everything = alerting.emerging_risks(store, now=NOW, flagged_only=False)
    assert [(r.alert.watchlist, r.alert.market) for r in risks] == [("scam-ads", "TH")]
    spike = risks[0].alert
    assert spike.day == NOW.date().isoformat()
    assert spike.observed == 7 and spike.articles == 10
    # The baseline: 1.5 hits per 10 articles, the top 3 days dropped (all 2s): about 1.4.
    assert 1.0 < spike.expected < 1.6
    assert spike.p_value < 0.001
    assert "7" in spike.why and spike.key == f"spike:scam-ads:TH:{spike.day}"
    vietnam = [r for r in everything if r.alert.market == "VN"]
    assert vietnam and not vietnam[0].flagged
    assert vietnam[0].alert.observed == 2 and vietnam[0].alert.articles == 20


def test_stories_can_be_counted_instead_of_articles(history: str) -> None:
    with open_store(history) as store:
        # No article has a story here: counting stories finds nothing to test.
        assert alerting.emerging_risks(store, now=NOW, unit="stories") == []


def test_dismissed_hits_do_not_make_a_spike(history: str) -> None:
    today = iso_utc(NOW.replace(hour=0))
    execute(
        history,
        "UPDATE hits SET status = 'dismissed' WHERE article_id IN "
        "(SELECT id FROM articles WHERE market = 'TH' AND fetched_at >= ?)",
        [today],
    )
    with open_store(history) as store:
        assert alerting.emerging_risks(store, now=NOW) == []


# --- raising and delivering ----------------------------------------------------------------


def _hook(server: HTTPServer, path: str = "/hooks/T000/B000/SECRETTOKEN") -> WebhookTarget:
    return WebhookTarget(name="team-webhook", url=server.url_for(path))


def _received(server: HTTPServer) -> list[dict[str, object]]:
    return [json.loads(request.get_data()) for request, _ in server.log]


def test_a_scan_raises_each_alert_once_and_queues_it_per_target_by_kind(
    history: str, httpserver: HTTPServer
) -> None:
    hook = _hook(httpserver)
    critical_only = WebhookTarget("oncall", httpserver.url_for("/oncall"))
    settings = AlertSettings(send=("critical", "spikes"), targets=(hook,))
    with open_store(history) as store:
        raised = alerting.raise_alerts(
            store, settings, run_id=None, found_since=iso_utc(NOW - timedelta(days=1)),
            new_hits=True, now=NOW,
        )  # fmt: skip
        again = alerting.raise_alerts(
            store, AlertSettings(send=("critical",), targets=(hook, critical_only)),
            run_id=None, found_since=iso_utc(NOW - timedelta(days=1)), new_hits=True, now=NOW,
        )  # fmt: skip
    assert [a.key for a in raised if isinstance(a, SpikeAlert)] == [
        f"spike:scam-ads:TH:{NOW.date().isoformat()}"
    ]
    assert not [a for a in raised if isinstance(a, HitAlert)]  # nothing critical stored
    assert again == []
    queued = rows(history, "SELECT target, alert_key, status FROM deliveries")
    assert queued == [{"target": "team-webhook", "alert_key": raised[0].key, "status": "pending"}]


def raise_for_the_last_hour(store: Any, settings: AlertSettings) -> list[Any]:
    """What a scan that began an hour ago raises."""
    return alerting.raise_alerts(
        store, settings, run_id=None, found_since=iso_utc(NOW - timedelta(hours=1)),
        new_hits=True, now=NOW,
    )  # fmt: skip


def _critical_store(location: str, count: int = 3) -> None:
    with open_store(location) as store:
        for n in range(count):
            _save(store, n, market="TH", day=NOW, hit=True, severity="critical")


def test_critical_hits_are_delivered_once_with_title_link_and_matched_text(
    store_at: str, httpserver: HTTPServer
) -> None:
    _critical_store(store_at)
    httpserver.expect_request("/hooks/T000/B000/SECRETTOKEN", method="POST").respond_with_data("ok")
    settings = AlertSettings(send=("critical",), targets=(_hook(httpserver),))
    since = iso_utc(NOW - timedelta(hours=1))
    with open_store(store_at) as store:
        raised = alerting.raise_alerts(
            store, settings, run_id=None, found_since=since, new_hits=True, now=NOW
        )
        first = alerting.deliver_due(store, settings, now=NOW)
        second = alerting.deliver_due(store, settings, now=NOW + timedelta(hours=1))
    assert len(raised) == 3 and all(isinstance(a, HitAlert) for a in raised)
    assert first[0].ok and first[0].sent == 3
    assert second[0].sent == 0  # exactly once
    (body,) = _received(httpserver)
    assert isinstance(body["text"], str) and "TH story 0" in body["text"]
    alerts = body["alerts"]
    assert isinstance(alerts, list) and len(alerts) == 3
    assert {a["hit_id"] for a in alerts} == {a.hit_id for a in raised if isinstance(a, HitAlert)}
    assert all(a["matched_text"] == "scam ad" and a["url"].startswith("https://") for a in alerts)
    assert value(store_at, "SELECT COUNT(*) FROM deliveries WHERE status = 'delivered'") == 3


def test_a_target_that_fails_is_retried_with_backoff_on_a_later_scan(
    store_at: str, httpserver: HTTPServer
) -> None:
    _critical_store(store_at, 1)
    answers = iter([Response("upstream broke", status=500), Response("ok", status=200)])

    def handler(request: Request) -> Response:
        return next(answers)

    httpserver.expect_request("/hooks/T000/B000/SECRETTOKEN").respond_with_handler(handler)
    settings = AlertSettings(send=("critical",), targets=(_hook(httpserver),))
    with open_store(store_at) as store:
        raise_for_the_last_hour(store, settings)
        failed = alerting.deliver_due(store, settings, now=NOW)
        too_soon = alerting.deliver_due(store, settings, now=NOW + timedelta(minutes=1))
        later = alerting.deliver_due(store, settings, now=NOW + timedelta(minutes=6))
        states = store.delivery_states()
    assert not failed[0].ok and failed[0].failed == 1 and "500" in (failed[0].answer or "")
    assert too_soon[0].ok and too_soon[0].sent == 0  # not due yet: the backoff holds
    assert later[0].ok and later[0].sent == 1
    assert len(httpserver.log) == 2
    (row,) = rows(store_at, "SELECT status, attempts, delivered_at FROM deliveries")
    assert row["status"] == "delivered" and row["attempts"] == 2 and row["delivered_at"]
    assert states[0].delivered == 1 and states[0].pending == 0
    for text in (failed[0].answer or "", failed[0].description, json.dumps(failed[0].as_dict())):
        assert "SECRETTOKEN" not in text


def test_a_delivery_is_given_up_after_the_last_try(store_at: str, httpserver: HTTPServer) -> None:
    _critical_store(store_at, 1)
    httpserver.expect_request("/hooks/T000/B000/SECRETTOKEN").respond_with_data("gone", status=404)
    settings = AlertSettings(send=("critical",), targets=(_hook(httpserver),))
    with open_store(store_at) as store:
        raise_for_the_last_hour(store, settings)
        when = NOW
        reports = []
        for _ in range(alerting.MAX_ATTEMPTS + 2):
            reports.append(alerting.deliver_due(store, settings, now=when)[0])
            when += alerting.LONGEST_RETRY
        states = store.delivery_states()
    assert sum(r.failed for r in reports) == alerting.MAX_ATTEMPTS
    assert reports[alerting.MAX_ATTEMPTS - 1].gave_up == 1
    assert (
        states[0].failed == 1 and states[0].pending == 0 and "404" in (states[0].last_error or "")
    )


@pytest.fixture
def hanging_receiver() -> Iterator[str]:
    """A webhook that accepts the connection and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/hooks/SECRETTOKEN"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


def test_a_hanging_target_is_bounded_and_does_not_starve_the_next(
    store_at: str, httpserver: HTTPServer, hanging_receiver: str
) -> None:
    _critical_store(store_at, 1)
    httpserver.expect_request("/ok").respond_with_data("ok")
    hanging = WebhookTarget("hangs", hanging_receiver)
    fine = WebhookTarget("fine", httpserver.url_for("/ok"))
    settings = AlertSettings(send=("critical",), targets=(hanging, fine), timeout=0.5)
    with open_store(store_at) as store:
        raise_for_the_last_hour(store, settings)
        reports = alerting.deliver_due(store, settings, now=NOW)
    by_name = {r.name: r for r in reports}
    assert not by_name["hangs"].ok and by_name["hangs"].failed == 1
    assert by_name["fine"].ok and by_name["fine"].sent == 1
    assert "SECRETTOKEN" not in (by_name["hangs"].answer or "")


def test_the_digest_is_raised_once_a_day_with_the_days_figures(
    history: str, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/digest").respond_with_data("ok")
    target = WebhookTarget("digest", httpserver.url_for("/digest"))
    settings = AlertSettings(send=("digest",), targets=(target,))
    with open_store(history) as store:
        first = alerting.raise_alerts(
            store, settings, run_id=None, found_since=iso_utc(NOW), new_hits=False, now=NOW
        )
        again = alerting.raise_alerts(
            store, settings, run_id=None, found_since=iso_utc(NOW), new_hits=False,
            now=NOW + timedelta(hours=1),
        )  # fmt: skip
        sent = alerting.deliver_due(store, settings, now=NOW + timedelta(hours=1))
        day_hits = store.count_hits(Filters(since=iso_utc(NOW - timedelta(days=1))))[0]
    (digest,) = first
    assert again == [] and sent[0].sent == 1
    payload = digest.as_dict()
    assert payload["kind"] == "digest" and payload["hits"] == day_hits
    (body,) = _received(httpserver)
    assert body["alerts"][0]["kind"] == "digest"


def test_alerts_round_trip_through_their_stored_json(history: str) -> None:
    with open_store(history) as store:
        (risk,) = alerting.emerging_risks(store, now=NOW)
        digest = alerting.build_digest(store, now=NOW)
    for alert in (risk.alert, digest):
        assert alerting.alert_from_dict(json.loads(json.dumps(alert.as_dict()))) == alert


def test_retry_delays_double_up_to_six_hours() -> None:
    delays = [alerting.retry_delay(n) for n in range(1, 10)]
    assert delays[:3] == [timedelta(minutes=5), timedelta(minutes=10), timedelta(minutes=20)]
    assert max(delays) == alerting.LONGEST_RETRY == delays[-1]


def test_two_scanners_delivering_at_once_send_each_alert_once(
    store_at: str, httpserver: HTTPServer
) -> None:
    """Cron on two boxes sharing one store: each due alert is claimed by one of them."""
    _critical_store(store_at, 3)

    def slow(request: Request) -> Response:
        time.sleep(0.3)  # both scanners are in their delivery round together
        return Response("ok")

    httpserver.expect_request("/hooks/T000/B000/SECRETTOKEN").respond_with_handler(slow)
    settings = AlertSettings(send=("critical",), targets=(_hook(httpserver),))
    with open_store(store_at) as store:
        raise_for_the_last_hour(store, settings)
    start = threading.Barrier(2)
    reports: list[alerting.TargetReport] = []

    def scanner() -> None:
        with open_store(store_at) as store:
            start.wait()
            reports.extend(alerting.deliver_due(store, settings, now=NOW))

    threads = [threading.Thread(target=scanner) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.sent for r in reports) == 3 and all(r.ok for r in reports)
    sent = [a["hit_id"] for body in _received(httpserver) for a in body["alerts"]]  # type: ignore[union-attr]
    assert sorted(sent) == sorted(set(sent)) and len(sent) == 3
