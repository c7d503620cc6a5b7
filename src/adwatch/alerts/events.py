"""Events of feeds.yaml (`events:`): election days, campaigns, silence periods.

A hit found or published inside an event of its market carries the event's name and a
severity raised by the event's `raise` levels (up to critical). A watchlist an event
names runs only while such an event is on: its hits are dropped outside them.

An event's dates are days of its market: they start at local midnight, by the market's
standard offset from UTC (none of these markets keeps summer time), and an unknown
market's days are UTC days (docs/alerts.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, timezone

from adwatch.models import SEVERITIES, Event, Match
from adwatch.text.dates import parse_timestamp

# Standard offsets from UTC, in minutes, of the markets adwatch is used for.
MARKET_UTC_OFFSETS = {
    "TH": 420, "VN": 420, "MM": 390, "KH": 420, "LA": 420, "ID": 420,
    "MY": 480, "SG": 480, "PH": 480, "BN": 480, "TL": 540,
}  # fmt: skip


@dataclass(frozen=True)
class EventWindow:
    """An event as instants: [starts, ends) in UTC."""

    event: Event
    starts: datetime
    ends: datetime

    def contains(self, instant: datetime) -> bool:
        return self.starts <= instant < self.ends


def market_zone(market: str) -> timezone:
    return timezone(timedelta(minutes=MARKET_UTC_OFFSETS.get(market, 0)))


def window(event: Event) -> EventWindow:
    zone = market_zone(event.market)
    starts = datetime.combine(date.fromisoformat(event.start), time(), zone)
    ends = datetime.combine(date.fromisoformat(event.end) + timedelta(days=1), time(), zone)
    return EventWindow(event, starts.astimezone(UTC), ends.astimezone(UTC))


def raised(severity: str, levels: int) -> str:
    """`severity` raised by `levels`, at most critical."""
    return SEVERITIES[min(SEVERITIES.index(severity) + levels, len(SEVERITIES) - 1)]


def _instant(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        return None


class EventCalendar:
    """The config's events, asked per article."""

    def __init__(self, events: Iterable[Event]) -> None:
        self.windows = [window(event) for event in events]
        # Watchlists that run only during an event that names them.
        self.event_only = frozenset(name for w in self.windows for name in w.event.watchlists)

    def __bool__(self) -> bool:
        return bool(self.windows)

    def active(self, market: str, *when: str | None) -> list[Event]:
        """The events of `market` that contain any of the instants `when` (ISO-8601)."""
        instants = [i for i in map(_instant, when) if i is not None]
        return [
            w.event
            for w in self.windows
            if w.event.market == market and any(w.contains(i) for i in instants)
        ]

    def active_between(self, start: datetime, end: datetime) -> list[Event]:
        """Events that overlap [start, end), in the config's order."""
        return [w.event for w in self.windows if w.starts < end and start < w.ends]

    def apply(
        self, matches: Sequence[Match], *, market: str, found_at: str, published_at: str | None
    ) -> tuple[list[Match], set[str]]:
        """`matches` with events applied, and the event-only watchlists whose hits were
        dropped because no event naming them is on."""
        if not self.windows:
            return list(matches), set()
        events = self.active(market, found_at, published_at)
        kept: list[Match] = []
        dropped: set[str] = set()
        for match in matches:
            mine = events
            if match.watchlist in self.event_only:
                mine = [e for e in events if match.watchlist in e.watchlists]
                if not mine:
                    dropped.add(match.watchlist)
                    continue
            if not mine:
                kept.append(replace(match, event=None) if match.event else match)
                continue
            # The event that raises most; the first in the config among equals.
            event = max(mine, key=lambda e: e.raise_levels)
            kept.append(
                replace(
                    match,
                    event=event.name,
                    severity=raised(match.severity, event.raise_levels),
                )
            )
        return kept, dropped

    def apply_with_totals(
        self,
        matches: Sequence[Match],
        totals: Mapping[str, int],
        *,
        market: str,
        found_at: str,
        published_at: str | None,
    ) -> tuple[list[Match], dict[str, int]]:
        """`apply`, and the capped watchlists' totals without the watchlists it dropped."""
        kept, dropped = self.apply(
            matches, market=market, found_at=found_at, published_at=published_at
        )
        return kept, {name: n for name, n in totals.items() if name not in dropped}
