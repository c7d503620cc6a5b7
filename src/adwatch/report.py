"""The HTML digest: one self-contained file a policy lead can read on a phone.

Everything the page needs is inside it: inline CSS, charts as inline SVG drawn
here, no script, no font or image to fetch (a Content-Security-Policy in the
page forbids any). Text from the web reaches the page only through Jinja2 with
autoescape on, and links only when they are http(s) URLs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from adwatch import __version__
from adwatch.export import open_output
from adwatch.models import (
    SEVERITIES,
    Event,
    FailedSource,
    IndicatorSummary,
    SpikeAlert,
    StorySummary,
)
from adwatch.query import (
    Context,
    Filters,
    Hit,
    ToneRow,
    ToneTrends,
    Trends,
    hit_trends,
    match_context,
    tone_note,
    tone_trends,
)
from adwatch.store import Store
from adwatch.text.dates import iso_utc, parse_timestamp
from adwatch.text.untrusted import strip_unsafe
from adwatch.urls import is_http_url

CHART_MIN_DAYS = 14  # a 24-hour digest still shows two weeks of context
TOP_HITS = 25
TOP_STORIES = 8  # the report leads with the period's widest stories
TOP_SHARED = 20  # indicators shared across stories the report lists
RISK_DAYS = 31  # emerging risks are tested on the period's last days, at most this many
QUIET_DAYS = 30  # "started to fire": no hit in this many days before the period
PALETTE = (
    "#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d",
)  # fmt: skip
OTHER_COLOR = "#9ca3af"


# --- charts -------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    color: str
    label: str  # shown as the bar's tooltip


@dataclass(frozen=True)
class Tick:
    at: float  # pixel position along its axis
    label: str


@dataclass(frozen=True)
class Chart:
    """A stacked bar chart, laid out in pixels for the template to draw as SVG."""

    title: str
    width: int
    height: int
    left: int
    top: int
    right: int
    bottom: int
    bars: list[Bar]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    legend: list[tuple[str, str]]  # (color, group name)
    total: int


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5 × 10^k at or above `value` (at least 1)."""
    power = 1
    while True:
        for step in (power, 2 * power, 5 * power):
            if step >= value:
                return step
        power *= 10


def tick_step(top: int) -> int:
    """The smallest round step (1, 2, 5 × 10^k) that puts at most five gridlines up to `top`."""
    power = 1
    while True:
        for step in (power, 2 * power, 5 * power):
            if top <= 5 * step:
                return step
        power *= 10


def stacked_chart(
    trends: Trends, title: str, *, width: int = 480, height: int = 240, max_groups: int = 7
) -> Chart:
    """Hits per day stacked by group; groups beyond `max_groups` are summed as `other`."""
    # Narrow on purpose: the SVG scales to the screen, and a phone shows 480
    # units at about 380 pixels, so 13-unit labels stay readable.
    left, top, right, bottom = 40, 12, width - 8, height - 26
    rows = trends.rows[:max_groups]
    series = [
        (PALETTE[i % len(PALETTE)], row.group or "(none)", row.counts) for i, row in enumerate(rows)
    ]
    rest = trends.rows[max_groups:]
    if rest:
        other = [sum(r.counts[d] for r in rest) for d in range(len(trends.days))]
        series.append((OTHER_COLOR, "other", other))
    days = trends.days
    per_day = [sum(s[2][d] for s in series) for d in range(len(days))]
    y_max = nice_ceiling(max(per_day, default=0))
    plot_h = bottom - top
    slot = (right - left) / max(1, len(days))
    bar_w = max(1.0, slot * 0.78)
    bars: list[Bar] = []
    for d, day in enumerate(days):
        x = left + d * slot + (slot - bar_w) / 2
        base = float(bottom)
        for color, name, counts in series:
            if counts[d] <= 0:
                continue
            h = counts[d] / y_max * plot_h
            base -= h
            label = f"{day} {name}: {counts[d]}"
            bars.append(
                Bar(round(x, 1), round(base, 1), round(bar_w, 1), round(h, 1), color, label)
            )
    step = tick_step(y_max)
    y_ticks = [
        Tick(round(bottom - value / y_max * plot_h, 1), str(value))
        for value in range(0, y_max + 1, step)
    ]
    every = max(1, math.ceil(len(days) / 7))
    x_ticks = [
        Tick(round(left + d * slot + slot / 2, 1), day[5:])
        for d, day in enumerate(days)
        if (len(days) - 1 - d) % every == 0
    ]
    return Chart(
        title=title,
        width=width,
        height=height,
        left=left,
        top=top,
        right=right,
        bottom=bottom,
        bars=bars,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        legend=[(color, name) for color, name, _ in series],
        total=sum(per_day),
    )


@dataclass(frozen=True)
class TonePoint:
    x: float
    y: float
    label: str  # shown as the point's tooltip


@dataclass(frozen=True)
class ToneLine:
    """One group's daily mean tone: its points, and polylines through runs of days that
    have one (a day without a toned article breaks the line)."""

    color: str
    name: str
    points: list[TonePoint]
    runs: list[str]  # SVG polyline `points` attributes


@dataclass(frozen=True)
class ToneChart:
    """Mean tone per day by group on a fixed -1 .. +1 axis, with the numbers beside it."""

    title: str
    width: int
    height: int
    left: int
    top: int
    right: int
    bottom: int
    zero: float  # where tone 0 is drawn
    lines: list[ToneLine]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    rows: list[ToneRow]  # per group: period mean, last day, articles
    note: str  # what tone measures and how often it reads right


def tone_chart(
    trends: ToneTrends, title: str, *, width: int = 480, height: int = 200, max_groups: int = 7
) -> ToneChart | None:
    """The daily mean tone of each group as lines, the busiest `max_groups` groups;
    None when no article of these days has a tone."""
    if not trends.rows:
        return None
    left, top, right, bottom = 40, 12, width - 8, height - 26
    days = trends.days
    slot = (right - left) / max(1, len(days))

    def y_of(tone: float) -> float:
        return round(bottom - (tone + 1) / 2 * (bottom - top), 1)

    lines = []
    for i, row in enumerate(trends.rows[:max_groups]):
        name = row.group or "(none)"
        points: list[TonePoint] = []
        runs: list[list[TonePoint]] = [[]]
        for d, (day, mean, count) in enumerate(zip(days, row.means, row.counts, strict=True)):
            if mean is None:
                runs.append([])
                continue
            label = f"{day} {name}: {mean:+.2f} ({count} article{'s' if count != 1 else ''})"
            point = TonePoint(round(left + d * slot + slot / 2, 1), y_of(mean), label)
            points.append(point)
            runs[-1].append(point)
        polylines = [" ".join(f"{p.x},{p.y}" for p in run) for run in runs if len(run) > 1]
        lines.append(ToneLine(PALETTE[i % len(PALETTE)], name, points, polylines))
    every = max(1, math.ceil(len(days) / 7))
    return ToneChart(
        title=title,
        width=width,
        height=height,
        left=left,
        top=top,
        right=right,
        bottom=bottom,
        zero=y_of(0.0),
        lines=lines,
        y_ticks=[Tick(y_of(v), f"{v:+g}" if v else "0") for v in (1.0, 0.5, 0.0, -0.5, -1.0)],
        x_ticks=[
            Tick(round(left + d * slot + slot / 2, 1), day[5:])
            for d, day in enumerate(days)
            if (len(days) - 1 - d) % every == 0
        ],
        rows=trends.rows,
        note=tone_note(),
    )


# --- the report's content -------------------------------------------------------------


@dataclass(frozen=True)
class TopHit:
    hit: Hit
    context: Context
    link: str | None  # the URL when it is safe to link (http or https)


@dataclass(frozen=True)
class TopStory:
    """One of the period's widest stories, as the report's first section shows it."""

    story: StorySummary  # hits and watchlists: the period's, under the report's filters
    languages: list[str]  # which languages reported it
    link: str | None  # its first article, when it is safe to link


@dataclass(frozen=True)
class Newcomer:
    name: str
    hits: int


@dataclass(frozen=True)
class EventSection:
    """An event of feeds.yaml on during the period, and the hits that fell in it."""

    event: Event
    hits: int
    by_severity: dict[str, int]
    top_hits: list[TopHit]


@dataclass(frozen=True)
class ReportData:
    generated_at: str
    since: str
    until: str
    filters: list[str]  # what the period's numbers are restricted to, for the header
    total_hits: int
    articles: int
    by_severity: dict[str, int]
    by_status: dict[str, int]
    by_market: dict[str, int]
    charts: list[Chart]
    top_hits: list[TopHit]
    new_watchlists: list[Newcomer]
    new_sources: list[Newcomer]
    failed_sources: list[FailedSource]
    last_run: dict[str, Any] | None = None
    stories: int = 0  # stories with hits in the period
    top_stories: list[TopStory] = field(default_factory=list)
    tone: ToneChart | None = None  # None: no article of the chart's days has a tone
    tone_days: int = CHART_MIN_DAYS
    events: list[EventSection] = field(default_factory=list)
    risks: list[SpikeAlert] = field(default_factory=list)  # emerging risks of the period
    # Phones, LINE ids, wallets ... named in articles of two stories or more in the period.
    shared_indicators: list[IndicatorSummary] = field(default_factory=list)
    version: str = __version__

    @property
    def period_label(self) -> str:
        return f"{self.since.replace('T', ' ')[:16]} to {self.until.replace('T', ' ')[:16]} UTC"


def safe_link(url: str | None) -> str | None:
    """`url` if it is an http(s) URL a reader may follow; None for javascript:, data: and the rest."""
    if not url:
        return None
    try:
        return url.strip() if is_http_url(url) else None
    except ValueError:
        return None


def _describe_filters(filters: Filters) -> list[str]:
    out = []
    for label, values in (
        ("market", filters.markets),
        ("language", filters.languages),
        ("watchlist", filters.watchlists),
        ("category", filters.categories),
        ("status", filters.statuses),
        ("source", filters.sources),
    ):
        if values:
            out.append(f"{label}: {', '.join(values)}")
    if filters.severity:
        out.append(f"severity: {filters.severity} or higher")
    if filters.text:
        out.append(f"text: {filters.text}")
    return out


def build_report(
    store: Store,
    filters: Filters,
    *,
    now: datetime | None = None,
    events: Sequence[Event] = (),
) -> ReportData:
    """Gather the digest of the period `filters.since`–`filters.until` (default: the last 24h).

    `events` (feeds.yaml `events:`) on during the period get a section each."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    generated_at = iso_utc(moment)
    since = filters.since or iso_utc(moment - timedelta(hours=24))
    until = filters.until or generated_at
    period = replace(filters, since=since, until=until)
    total, articles = store.count_hits(period)
    stories = store.story_summaries(period, limit=TOP_STORIES)
    by_severity = _severity_counts(store, period)

    until_dt = parse_timestamp(until)
    since_dt = parse_timestamp(since)
    chart_days = max(CHART_MIN_DAYS, (until_dt.date() - since_dt.date()).days + 1)
    untimed = replace(filters, since=None, until=None)
    charts = [
        stacked_chart(
            hit_trends(store, by=by, days=chart_days, filters=untimed, now=until_dt),
            f"Hits per day by {by}, last {chart_days} days",
        )
        for by in ("market", "category")
    ]
    tone = tone_chart(
        tone_trends(store, by="market", days=chart_days, filters=untimed, now=until_dt),
        f"Mean tone of coverage per day by market, last {chart_days} days",
    )
    return ReportData(
        generated_at=generated_at,
        since=since,
        until=until,
        filters=_describe_filters(filters),
        total_hits=total,
        articles=articles,
        by_severity=by_severity,
        by_status=store.grouped_counts("status", period),
        by_market=store.grouped_counts("market", period),
        charts=charts,
        top_hits=_top_hits(store, period),
        new_watchlists=_newcomers(store, "watchlist", period, since_dt),
        new_sources=_newcomers(store, "source", period, since_dt),
        failed_sources=store.failed_sources(),
        last_run=store.last_run(),
        tone=tone,
        tone_days=chart_days,
        stories=store.story_count(period),
        top_stories=[_top_story(store, story) for story in stories],
        events=_event_sections(store, events, period, since_dt, until_dt),
        risks=_risks(store, filters, since_dt, until_dt),
        shared_indicators=store.indicator_summaries(
            markets=filters.markets, since=since, min_articles=2, min_stories=2, limit=TOP_SHARED
        ),
    )


def _event_sections(
    store: Store, events: Sequence[Event], period: Filters, since: datetime, until: datetime
) -> list[EventSection]:
    from adwatch.alerts.events import EventCalendar

    sections = []
    for event in EventCalendar(events).active_between(since, until):
        inside = replace(period, events=(event.name,))
        by_severity = _severity_counts(store, inside)
        sections.append(
            EventSection(
                event,
                hits=sum(by_severity.values()),
                by_severity=by_severity,
                top_hits=_top_hits(store, inside),
            )
        )
    return sections


def _severity_counts(store: Store, filters: Filters) -> dict[str, int]:
    """Hits by severity, most severe first, every severity listed."""
    counts = store.grouped_counts("severity", filters)
    return {severity: counts.get(severity, 0) for severity in reversed(SEVERITIES)}


def _top_hits(store: Store, filters: Filters) -> list[TopHit]:
    """The worst hits (escalated or critical) with their context and a safe link."""
    return [
        TopHit(r.hit, match_context(r.text, r.hit, width=140), safe_link(r.hit.url))
        for r in store.worst_hits(filters, limit=TOP_HITS)
    ]


def _risks(store: Store, filters: Filters, since: datetime, until: datetime) -> list[SpikeAlert]:
    """The emerging risks flagged on the period's days (docs/alerts.md)."""
    from adwatch.alerting import emerging_risks

    days = min(max(1, (until.date() - since.date()).days + 1), RISK_DAYS)
    return [
        risk.alert
        for risk in emerging_risks(
            store, days=days, now=until, markets=filters.markets, watchlists=filters.watchlists
        )
    ]


def _top_story(store: Store, story: StorySummary) -> TopStory:
    articles = store.story_articles(story.id)
    return TopStory(
        story,
        languages=sorted({a.language for a in articles if a.language}),
        link=safe_link(articles[0].url) if articles else None,
    )


def _newcomers(store: Store, column: str, period: Filters, since: datetime) -> list[Newcomer]:
    """Groups with hits in the period and none in the QUIET_DAYS before it."""
    quiet_from = iso_utc(since - timedelta(days=QUIET_DAYS))
    quiet_until = iso_utc(since)
    return [
        Newcomer(name, count)
        for name, count in store.grouped_counts(column, period).items()
        if name and not store.has_hits_between(column, name, quiet_from, quiet_until)
    ]


# --- rendering ----------------------------------------------------------------------


def render_report(data: ReportData) -> str:
    """The report as one HTML document (autoescaped: web text cannot become markup)."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(
        loader=PackageLoader("adwatch", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_printable,
    )
    return env.get_template("report.html.j2").render(data=data, severities=SEVERITIES)


def _printable(value: Any) -> Any:
    """Every `{{ value }}` passes here before escaping: no control or bidi characters."""
    return strip_unsafe(value) if isinstance(value, str) else value


def write_report(data: ReportData, output: str | Path) -> None:
    """Write the report to `output` atomically ("-": stdout)."""
    html = render_report(data)
    with open_output(output) as out:
        out.write(html)
