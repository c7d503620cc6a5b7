"""Early warning with the store: emerging risks, the alerts a scan raises, their delivery.

    emerging_risks   each watchlist x market's day against its trailing baseline
                     (adwatch.alerts.spikes), counted from the store
    raise_alerts     after a scan: its critical hits, today's new spikes, the daily
                     digest, each stored once (`alerts`) and queued per target
                     (`deliveries`)
    deliver_due      sends what is due to each target, one message per target and
                     batch, and keeps what failed for a later scan, with backoff
    send_tests       `adwatch alerts --test`: one message to each target, its answer

Delivery never holds a scan long: a target that fails is not tried again in the same
scan, every message is bounded by `alerts.timeout`, and the whole delivery by
DELIVERY_BUDGET (docs/alerts.md).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from adwatch.alerts import spikes
from adwatch.errors import ConfigError
from adwatch.models import (
    Alert,
    AlertMessage,
    AlertSettings,
    AlertTarget,
    DeliveryOutcome,
    Digest,
    Filters,
    HitAlert,
    PendingDelivery,
    SpikeAlert,
)
from adwatch.store import Store
from adwatch.text.dates import iso_utc, parse_timestamp

SPIKE_UNITS = ("articles", "stories")
# The kind of an alert as `alerts: send:` names it.
SEND_KIND = {"hit": "critical", "spike": "spikes", "digest": "digest"}
MAX_CRITICAL_PER_SCAN = 100  # a first scan of a big backlog must not page anyone 2 000 times
MAX_ALERTS_PER_MESSAGE = 50
MAX_ATTEMPTS = 8  # then a delivery is given up (status failed) and says so
GIVE_UP_AFTER = timedelta(days=3)  # an alert older than this is news no longer
FIRST_RETRY = timedelta(minutes=5)
LONGEST_RETRY = timedelta(hours=6)
DELIVERY_BUDGET = 60.0  # seconds the whole delivery of one scan may take
IN_FLIGHT_MARGIN = 60.0  # seconds
DIGEST_TOP = 5


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed try: 5 min, 10, 20 ... up to 6 h."""
    delay: timedelta = FIRST_RETRY * 2 ** max(attempts - 1, 0)
    return min(delay, LONGEST_RETRY)


# --- emerging risks -------------------------------------------------------------------


@dataclass(frozen=True)
class RiskTest:
    """One watchlist x market x day as the spike test saw it."""

    alert: SpikeAlert
    flagged: bool


def emerging_risks(
    store: Store,
    *,
    days: int = 1,
    now: datetime | None = None,
    unit: str = "articles",
    settings: spikes.SpikeSettings | None = None,
    markets: Sequence[str] = (),
    watchlists: Sequence[str] = (),
    flagged_only: bool = True,
) -> list[RiskTest]:
    """The spike test on each of the last `days` UTC days (today included) for every
    watchlist x market with hits then; flagged ones first, biggest surprise first.

    `unit` counts articles with a hit (default) or stories with a hit, each against the
    articles (or stories) fetched in that market that day.
    """
    settings = settings or spikes.SpikeSettings()
    now = now or datetime.now(UTC)
    today = now.astimezone(UTC).date()
    first_tested = today - timedelta(days=days - 1)
    first = first_tested - timedelta(days=settings.gap_days + settings.baseline_days)
    bounds = (iso_utc(_midnight(first)), iso_utc(_midnight(today + timedelta(days=1))))
    stories = unit == "stories"
    counts = store.spike_counts(since=bounds[0], until=bounds[1], stories=stories)
    scanned = store.scanned_counts(since=bounds[0], until=bounds[1], stories=stories)
    day_names = [(first + timedelta(days=i)).isoformat() for i in range((today - first).days + 1)]
    tested = range(len(day_names) - days, len(day_names))
    results: list[RiskTest] = []
    for (watchlist, market), by_day in sorted(counts.items()):
        if (markets and market not in markets) or (watchlists and watchlist not in watchlists):
            continue
        series = [by_day.get(day, 0) for day in day_names]
        denominators = [scanned.get(market, {}).get(day, 0) for day in day_names]
        for index in tested:
            if series[index] == 0:
                continue
            test = spikes.test_day(series, denominators, index, settings)
            if test is None or (flagged_only and not test.flagged):
                continue
            day = day_names[index]
            top: tuple[int, ...] = ()
            if test.flagged:
                start = _midnight(date.fromisoformat(day))
                top = tuple(
                    store.day_top_stories(
                        watchlist,
                        market,
                        since=iso_utc(start),
                        until=iso_utc(start + timedelta(days=1)),
                    )
                )
            alert = SpikeAlert(
                watchlist=watchlist,
                market=market,
                day=day,
                observed=test.observed,
                expected=round(test.expected, 3),
                p_value=test.p_value,
                why=test.why,
                baseline_days=test.baseline_days,
                articles=test.articles,
                stories=top,
            )
            results.append(RiskTest(alert, test.flagged))
    results.sort(key=lambda r: (not r.flagged, r.alert.p_value, r.alert.day, r.alert.key))
    return results


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


# --- what a scan raises ---------------------------------------------------------------


def raise_alerts(
    store: Store,
    settings: AlertSettings,
    *,
    run_id: int | None,
    found_since: str,
    new_hits: bool,
    now: datetime | None = None,
) -> list[Alert]:
    """Store the alerts of a scan that began at `found_since` and queue them for each
    target that wants their kind; return the alerts raised for the first time.

    Critical hits and spikes only change when the scan stored new hits (`new_hits`):
    a re-run with nothing new asks the store nothing here.
    """
    now = now or datetime.now(UTC)
    stamp = iso_utc(now)
    alerts: list[Alert] = []
    if new_hits:
        alerts.extend(store.critical_hits(found_since=found_since, limit=MAX_CRITICAL_PER_SCAN))
        # Yesterday too: a spike that grew after yesterday's last scan is raised now.
        alerts.extend(risk.alert for risk in emerging_risks(store, days=2, now=now))
    if "digest" in settings.send and settings.targets:
        key = f"digest:{now.date().isoformat()}"
        if not store.has_alert(key):
            alerts.append(build_digest(store, now=now))
    raised = store.record_alerts(alerts, run_id=run_id, now=stamp)
    queue = [
        (target.name, alert.key)
        for alert in raised
        for target in settings.targets
        if SEND_KIND[alert.kind] in settings.send
    ]
    if queue:
        store.queue_deliveries(queue, now=stamp)
    return raised


def build_digest(store: Store, *, now: datetime) -> Digest:
    """The last 24 hours in a few figures: hits by severity, stories, the worst hits, the
    spikes raised."""
    since = iso_utc(now - timedelta(days=1))
    filters = Filters(since=since)
    by_severity = store.grouped_counts("severity", filters)
    top = [
        HitAlert(
            hit_id=record.hit.id,
            title=record.hit.title,
            url=record.hit.url,
            source=record.hit.source or "",
            watchlist=record.hit.watchlist,
            severity=record.hit.severity,
            matched_text=record.hit.matched_text,
            market=record.hit.market,
            language=record.hit.language,
            found_at=record.hit.found_at,
            published_at=record.hit.published_at,
            event=record.hit.event,
        )
        for record in store.worst_hits(filters, limit=DIGEST_TOP)
    ]
    raised = [alert_from_dict(json.loads(p)) for p in store.alert_payloads(
        kind="spike", raised_since=since
    )]  # fmt: skip
    return Digest(
        day=now.date().isoformat(),
        since=since,
        hits=sum(by_severity.values()),
        by_severity=by_severity,
        stories=store.story_count(filters),
        top=tuple(top),
        spikes=tuple(a for a in raised if isinstance(a, SpikeAlert)),
    )


def alert_from_dict(data: Mapping[str, Any]) -> Alert:
    """An alert from its `as_dict()` form, as the store keeps it."""
    fields = {k: v for k, v in data.items() if k != "kind"}
    kind = data.get("kind")
    if kind == "spike":
        return SpikeAlert(**{**fields, "stories": tuple(fields.get("stories", ()))})
    if kind == "hit":
        return HitAlert(**fields)
    if kind == "digest":
        # Its hits and spikes are kept in their own as_dict() forms, kind included.
        top = tuple(map(alert_from_dict, fields.get("top", ())))
        spikes = tuple(map(alert_from_dict, fields.get("spikes", ())))
        return Digest(**{**fields, "top": top, "spikes": spikes})
    raise ValueError(f"unknown alert kind {kind!r}")


# --- delivery -------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetReport:
    """What one target got in this delivery round."""

    name: str
    description: str  # "team-webhook (webhook to hooks.example.com)": no secret
    sent: int = 0  # alerts delivered now
    failed: int = 0  # alerts tried now that did not arrive (kept for a retry, or given up)
    gave_up: int = 0
    waiting: int = 0  # due but not tried now: the target failed earlier in this round
    answer: str | None = None  # the last answer of the server

    @property
    def ok(self) -> bool:
        """Whether the target took everything tried now."""
        return self.failed == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.name,
            "description": self.description,
            "sent": self.sent,
            "failed": self.failed,
            "gave_up": self.gave_up,
            "waiting": self.waiting,
            "ok": self.ok,
            "answer": self.answer,
        }


def deliver_due(
    store: Store,
    settings: AlertSettings,
    *,
    now: datetime | None = None,
    environ: Mapping[str, str] | None = None,
    budget: float = DELIVERY_BUDGET,
) -> list[TargetReport]:
    """Send every target what is due for it; record each attempt in `deliveries`."""
    if not settings.targets:
        return []
    from adwatch.alerts.deliver import describe, send
    from adwatch.alerts.messages import render_message

    now = now or datetime.now(UTC)
    stamp = iso_utc(now)
    deadline = time.monotonic() + budget
    reports = []
    # While a message is on its way, its rows wait for this long before another scanner
    # of a shared store may send them (only if this one died before recording the answer).
    in_flight = iso_utc(now + timedelta(seconds=max(budget, settings.timeout) + IN_FLIGHT_MARGIN))
    for target in settings.targets:
        due = store.due_deliveries(target.name, now=stamp, limit=10_000)
        due = store.claim_deliveries(target.name, due, now=stamp, until=in_flight)
        report = TargetReport(target.name, describe(target))
        for batch in _batches(due):
            if not report.ok or time.monotonic() > deadline:
                report = replace(report, waiting=report.waiting + len(batch))
                continue
            alerts = tuple(alert_from_dict(json.loads(item.payload)) for item in batch)
            try:
                rendered = render_message(AlertMessage(alerts), template=settings.template)
            except ConfigError as exc:
                # A user's template that fails on these alerts: kept for a retry once fixed.
                outcome = DeliveryOutcome(False, f"alerts.template: {exc.detail}")
            else:
                outcome = send(target, rendered, timeout=settings.timeout, environ=environ)
            report = _record(store, target, batch, outcome, report, now)
        reports.append(report)
    return reports


def _batches(due: Sequence[PendingDelivery]) -> list[list[PendingDelivery]]:
    """A digest alone (it is a message of its own), the rest in batches."""
    digests = [[item] for item in due if item.kind == "digest"]
    rest = [item for item in due if item.kind != "digest"]
    batches = [
        rest[i : i + MAX_ALERTS_PER_MESSAGE] for i in range(0, len(rest), MAX_ALERTS_PER_MESSAGE)
    ]
    return batches + digests


def _record(
    store: Store,
    target: AlertTarget,
    batch: Sequence[PendingDelivery],
    outcome: DeliveryOutcome,
    report: TargetReport,
    now: datetime,
) -> TargetReport:
    stamp = iso_utc(now)
    if outcome.ok:
        store.record_delivery(
            target.name, [(item.alert_key, "delivered", None) for item in batch],
            now=stamp, ok=True, error=None,
        )  # fmt: skip
        return replace(report, sent=report.sent + len(batch), answer=outcome.answer)
    rows: list[tuple[str, str, str | None]] = []
    gave_up = 0
    for item in batch:
        attempts = item.attempts + 1
        created = parse_timestamp(item.created_at)
        if attempts >= MAX_ATTEMPTS or now - created > GIVE_UP_AFTER:
            rows.append((item.alert_key, "failed", None))
            gave_up += 1
        else:
            rows.append((item.alert_key, "pending", iso_utc(now + retry_delay(attempts))))
    store.record_delivery(target.name, rows, now=stamp, ok=False, error=outcome.answer)
    return replace(
        report,
        failed=report.failed + len(batch),
        gave_up=report.gave_up + gave_up,
        answer=outcome.answer,
    )


# --- alerts --test --------------------------------------------------------------------


@dataclass(frozen=True)
class TestResult:
    """`adwatch alerts --test` for one target."""

    __test__ = False  # not a pytest test class

    name: str
    description: str
    outcome: DeliveryOutcome


def send_tests(
    settings: AlertSettings, *, environ: Mapping[str, str] | None = None
) -> list[TestResult]:
    """Send one test message to each target; what each server answered."""
    from adwatch.alerts.deliver import describe, send
    from adwatch.alerts.messages import render_message

    rendered = render_message(AlertMessage((), test=True), template=settings.template)
    return [
        TestResult(
            target.name,
            describe(target),
            send(target, rendered, timeout=settings.timeout, environ=environ),
        )
        for target in settings.targets
    ]
