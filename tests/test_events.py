"""Events of feeds.yaml (issue #12): config checks, the calendar, a scan, hits/export, rematch."""

from __future__ import annotations

import csv
import io
import json
import textwrap
from datetime import UTC, date, datetime, time, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from scan_site import rss
from store_sql import rows
from typer.testing import CliRunner

from adwatch.alerts.events import EventCalendar, raised, window
from adwatch.cli import app
from adwatch.config import Config, load_config
from adwatch.errors import ConfigError
from adwatch.models import Event, Match

runner = CliRunner()

# --- feeds.yaml `events:` ----------------------------------------------------------------

# `events:` is line 10, so the first event starts on line 11.
BASE = """\
version: 1
markets:
  TH: {name: Thailand, languages: [th, en]}
  VN: {name: Vietnam, languages: [vi, en]}
sources:
  - {name: th-news, url: "https://example.com/th.rss", market: TH}
watchlists:
  - {name: scam-ads, category: fraud, severity: high, terms: [scam ad]}
  - {name: vote-buying, category: election, severity: medium, terms: [vote buying]}
events:
"""


def _load(tmp_path: Path, events: str) -> tuple[Path, Config]:
    path = tmp_path / "feeds.yaml"
    path.write_text(BASE + textwrap.dedent(events), encoding="utf-8")
    return path, load_config(path)


def _error(tmp_path: Path, events: str) -> str:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, events)
    message = str(info.value)
    assert "\n" not in message
    return message.replace(str(tmp_path / "feeds.yaml"), "FILE")


def _days(n: int) -> str:
    """The date `n` days from today, as feeds.yaml writes it."""
    return (date.today() + timedelta(days=n)).isoformat()


ONE_EVENT = """\
  - name: vote
    market: TH
    start: 2027-03-01
    end: 2027-03-31
"""

CONFIG_ERRORS = {
    "missing key": (
        ONE_EVENT.replace("    end: 2027-03-31\n", ""),
        "FILE:11: events[vote].end: missing",
    ),
    "unknown market": (
        ONE_EVENT.replace("market: TH", "market: KH"),
        "FILE:12: events[vote].market: unknown market 'KH' (known: TH, VN)",
    ),
    "end before start": (
        ONE_EVENT.replace("end: 2027-03-31", "end: 2027-02-28"),
        "FILE:14: events[vote].end: 2027-02-28 is before start 2027-03-01",
    ),
    "name given twice": (
        ONE_EVENT + ONE_EVENT.replace("market: TH", "market: VN"),
        "FILE:15: events[vote].name: name given twice",
    ),
    "unknown watchlist": (
        ONE_EVENT + "    watchlists: [vote-buying, vote-buyng]\n",
        "FILE:15: events[vote].watchlists[1]: no watchlist is named 'vote-buyng'",
    ),
    "not a date": (
        ONE_EVENT.replace("start: 2027-03-01", "start: 1 March 2027"),
        "FILE:13: events[vote].start: expected a date like 2027-03-01, got '1 March 2027'",
    ),
    "a day that does not exist": (
        ONE_EVENT.replace("start: 2027-03-01", "start: 2027-02-30"),
        "FILE:13: events[vote].start: not a valid !!timestamp value: '2027-02-30'",
    ),
    "a datetime": (
        ONE_EVENT.replace("end: 2027-03-31", "end: 2027-03-31T18:00:00+07:00"),
        "FILE:14: events[vote].end: expected a date (2027-03-01), not a time",
    ),
    "raise above 3": (
        ONE_EVENT + "    raise: 4\n",
        "FILE:15: events[vote].raise: must be at most 3, got 4",
    ),
    "raise below 0": (
        ONE_EVENT + "    raise: -1\n",
        "FILE:15: events[vote].raise: must be at least 0, got -1",
    ),
    "unknown key": (
        ONE_EVENT + "    severity: critical\n",
        "FILE:15: events[vote].severity: unknown key "
        "(known: end, market, name, raise, start, watchlists)",
    ),
    "not a mapping": ("  - vote\n", "FILE:11: events[0]: expected a mapping, got 'vote'"),
}


@pytest.mark.parametrize("events,expected", CONFIG_ERRORS.values(), ids=CONFIG_ERRORS.keys())
def test_a_bad_event_names_file_line_and_field(tmp_path: Path, events: str, expected: str) -> None:
    assert _error(tmp_path, events) == expected


# Bugs found while writing these tests: the line named is the list's or the event's,
# not the line of the value at fault (the field named is right).
def test_an_unknown_watchlist_in_a_block_list_names_its_own_line(tmp_path: Path) -> None:
    events = ONE_EVENT + "    watchlists:\n      - vote-buying\n      - vote-buyng\n"
    assert _error(tmp_path, events) == (
        "FILE:17: events[vote].watchlists[1]: no watchlist is named 'vote-buyng'"
    )


def test_the_stale_warning_names_the_line_of_end(tmp_path: Path) -> None:
    events = ONE_EVENT.replace("2027-03-01", "2020-03-01").replace("2027-03-31", "2020-03-31")
    path, config = _load(tmp_path, events)
    assert [w.replace(str(path), "FILE") for w in config.warnings] == [
        "FILE:14: events[vote].end: 2020-03-31: ended more than a year ago"
    ]


def test_good_events_load_with_their_fields(tmp_path: Path) -> None:
    _, config = _load(
        tmp_path,
        f"""\
          - name: th-election
            market: th
            start: {_days(10)}
            end: "{_days(40)}"
            raise: 2
            watchlists: [vote-buying]
          # A silence period inside the campaign: expected, no warning.
          - {{name: th-silence, market: TH, start: {_days(39)}, end: {_days(40)}, raise: 0}}
          # The same days in another market: no warning either.
          - {{name: vn-campaign, market: VN, start: {_days(30)}, end: {_days(50)}}}
        """,
    )
    assert config.events == (
        Event("th-election", "TH", _days(10), _days(40), 2, ("vote-buying",)),
        Event("th-silence", "TH", _days(39), _days(40), 0, ()),
        Event("vn-campaign", "VN", _days(30), _days(50), 1, ()),
    )
    assert config.warnings == ()


def test_a_stale_event_and_a_half_overlap_are_warnings(tmp_path: Path) -> None:
    path, config = _load(
        tmp_path,
        f"""\
          - {{name: old-vote, market: VN, start: {_days(-400)}, end: {_days(-366)}}}
          - {{name: last-month, market: VN, start: {_days(-40)}, end: {_days(-30)}}}
          - {{name: campaign, market: TH, start: {_days(10)}, end: {_days(20)}}}
          - {{name: runoff, market: TH, start: {_days(15)}, end: {_days(25)}}}
        """,
    )
    warnings = [w.replace(str(path), "FILE") for w in config.warnings]
    assert warnings == [
        f"FILE:11: events[old-vote].end: {_days(-366)}: ended more than a year ago",
        f"FILE:14: events[runoff]: overlaps campaign ({_days(10)} to {_days(20)}) "
        "without either containing the other",
    ]
    # Warned, still loaded.
    assert [e.name for e in config.events] == ["old-vote", "last-month", "campaign", "runoff"]


# --- the calendar -------------------------------------------------------------------------

VOTE = Event("th-vote", "TH", "2027-03-01", "2027-03-03")


def _match(watchlist: str = "scam-ads", severity: str = "high") -> Match:
    return Match(watchlist, "fraud", severity, "scam ad", "scam ad", 0, 7, "a scam ad")


def _apply(
    events: list[Event],
    matches: list[Match],
    *,
    market: str = "TH",
    found_at: str = "2027-03-02T03:00:00Z",
    published_at: str | None = None,
) -> tuple[list[Match], set[str]]:
    return EventCalendar(events).apply(
        matches, market=market, found_at=found_at, published_at=published_at
    )


@pytest.mark.parametrize(
    "instant,inside",
    [
        ("2027-02-28T16:59:59Z", False),  # 23:59:59 in Bangkok the day before
        ("2027-02-28T17:00:00Z", True),  # local midnight: the first day begins
        ("2027-03-01T00:00:00+07:00", True),
        ("2027-03-03T16:59:59Z", True),  # the end day is included until local midnight
        ("2027-03-03T17:00:00Z", False),
        ("2027-03-03T23:30:00Z", False),  # still March 3rd in UTC, already the 4th in Bangkok
        ("2027-03-01T08:00:00", True),  # no offset: read as UTC
        ("not a time", False),
    ],
)
def test_an_event_is_the_local_days_of_its_market(instant: str, inside: bool) -> None:
    assert EventCalendar([VOTE]).active("TH", instant) == ([VOTE] if inside else [])


def test_window_edges_follow_the_market_offset() -> None:
    myanmar = window(Event("mm-vote", "MM", "2027-03-01", "2027-03-01"))
    assert (myanmar.starts, myanmar.ends) == (
        datetime(2027, 2, 28, 17, 30, tzinfo=UTC),
        datetime(2027, 3, 1, 17, 30, tzinfo=UTC),
    )
    # A market adwatch has no offset for keeps UTC days.
    elsewhere = window(Event("xx-vote", "XX", "2027-03-01", "2027-03-01"))
    assert (elsewhere.starts, elsewhere.ends) == (
        datetime(2027, 3, 1, tzinfo=UTC),
        datetime(2027, 3, 2, tzinfo=UTC),
    )
    assert not elsewhere.contains(datetime(2027, 2, 28, 23, 59, tzinfo=UTC))


def test_severity_is_raised_and_capped_at_critical() -> None:
    assert [raised("low", n) for n in range(4)] == ["low", "medium", "high", "critical"]
    assert raised("high", 3) == "critical"
    big = Event("th-vote", "TH", "2027-03-01", "2027-03-03", raise_levels=3)
    kept, dropped = _apply([big], [_match(severity="medium"), _match(severity="critical")])
    assert [(m.severity, m.event) for m in kept] == [
        ("critical", "th-vote"),
        ("critical", "th-vote"),
    ]
    assert dropped == set()


def test_raise_zero_keeps_the_severity_and_sets_the_event() -> None:
    quiet = Event("th-vote", "TH", "2027-03-01", "2027-03-03", raise_levels=0)
    kept, _ = _apply([quiet], [_match(severity="medium")])
    assert kept == [Match("scam-ads", "fraud", "medium", "scam ad", "scam ad", 0, 7,
                          "a scam ad", event="th-vote")]  # fmt: skip


def test_of_two_events_on_the_larger_raise_wins() -> None:
    campaign = Event("th-campaign", "TH", "2027-02-01", "2027-03-31", raise_levels=1)
    silence = Event("th-silence", "TH", "2027-03-02", "2027-03-02", raise_levels=2)
    kept, _ = _apply([campaign, silence], [_match(severity="low")])
    assert [(m.severity, m.event) for m in kept] == [("high", "th-silence")]
    # The day after the silence period, only the campaign is on.
    kept, _ = _apply([campaign, silence], [_match(severity="low")], found_at="2027-03-03T03:00Z")
    assert [(m.severity, m.event) for m in kept] == [("medium", "th-campaign")]


def test_an_event_only_watchlist_runs_only_inside_its_event() -> None:
    vote = Event("th-vote", "TH", "2027-03-01", "2027-03-03", 1, ("vote-buying",))
    other = Event("th-other", "TH", "2027-03-01", "2027-03-03", 2)
    matches = [_match(), _match("vote-buying", "medium")]
    kept, dropped = _apply([vote, other], matches)
    # Its own event raises it, not the larger raise of an event that does not name it.
    assert [(m.watchlist, m.severity, m.event) for m in kept] == [
        ("scam-ads", "critical", "th-other"),
        ("vote-buying", "high", "th-vote"),
    ]
    assert dropped == set()
    kept, dropped = _apply([vote, other], matches, found_at="2027-04-01T03:00:00Z")
    assert kept == [_match()]
    assert dropped == {"vote-buying"}


def test_a_market_without_an_event_is_untouched() -> None:
    matches = [_match(), _match("weather", "low")]
    kept, dropped = _apply([VOTE], matches, market="VN")
    assert (kept, dropped) == (matches, set())
    # No events at all: the same.
    assert _apply([], matches) == (matches, set())


@pytest.mark.parametrize(
    "found_at,published_at,event",
    [
        ("2027-04-01T03:00:00Z", "2027-03-02T09:00:00+07:00", "th-vote"),  # published inside
        ("2027-03-02T03:00:00Z", "2026-01-01T00:00:00Z", "th-vote"),  # found inside
        ("2027-04-01T03:00:00Z", "2027-02-28T23:00:00+07:00", None),  # neither
        ("2027-04-01T03:00:00Z", None, None),
    ],
)
def test_found_or_published_inside_is_inside(
    found_at: str, published_at: str | None, event: str | None
) -> None:
    kept, _ = _apply([VOTE], [_match()], found_at=found_at, published_at=published_at)
    assert [(m.severity, m.event) for m in kept] == [("critical" if event else "high", event)]


def test_a_hit_outside_every_event_loses_an_event_it_carried() -> None:
    # What rematch relies on when an event's dates move.
    stale = Match("scam-ads", "fraud", "high", "t", "t", 0, 1, "t", event="th-vote")
    kept, _ = _apply([VOTE], [stale], found_at="2027-05-01T00:00:00Z")
    assert [m.event for m in kept] == [None]


# --- end to end: scan, hits, export, rematch ---------------------------------------------

BANGKOK = timezone(timedelta(hours=7))
TH_TODAY = datetime.now(BANGKOK).date()

# Thai summaries (no page fetched): scam ads (โฆษณาหลอกลวง) and vote buying (ซื้อเสียง).
TH_INSIDE_VOTE = "ตำรวจเตือนโฆษณาหลอกลวงช่วงหาเสียง"
TH_INSIDE = "โฆษณาหลอกลวงบนเฟซบุ๊กระบาดหนัก"
TH_OUTSIDE = "โฆษณาหลอกลวงชวนลงทุนปีที่แล้ว"
VN_OLD = "Cảnh báo quảng cáo lừa đảo trên mạng xã hội"

WATCHLISTS = """\
watchlists:
  - name: scam-ads
    category: fraud
    severity: high
    terms:
      th: ["โฆษณาหลอกลวง"]
      vi: ["quảng cáo lừa đảo"]
  - name: vote-buying
    category: election
    severity: medium
    terms:
      th: ["ซื้อเสียง"]
"""


def _th_noon(days_ago: int) -> str:
    """An RSS pubDate at noon in Bangkok, `days_ago` local days ago."""
    return format_datetime(datetime.combine(TH_TODAY - timedelta(days_ago), time(12), BANGKOK))


def _serve_feeds(site: HTTPServer) -> None:
    u = site.url_for
    th = [
        # The event (below) ran from 10 to 3 days ago: these two were published in it,
        {"title": TH_INSIDE_VOTE, "link": u("/th/1"), "date": _th_noon(5),
         "description": "มีรายงานการซื้อเสียงในหลายจังหวัด"},
        {"title": TH_INSIDE, "link": u("/th/2"), "date": _th_noon(10),
         "description": "ผู้เสียหายหลายราย"},
        # this one before it. All three are found today, after it.
        {"title": TH_OUTSIDE, "link": u("/th/3"), "date": _th_noon(30),
         "description": "ข่าวเก่าเรื่องการซื้อเสียง"},
    ]  # fmt: skip
    vn = [{"title": VN_OLD, "link": u("/vn/1"), "date": _th_noon(30), "description": "Tin cũ"}]
    for route, items in (("/th.xml", th), ("/vn.xml", vn)):
        site.expect_request(route).respond_with_data(
            rss(items).encode(), content_type="application/rss+xml"
        )


def _events() -> str:
    # th-election is over (found today is outside it; published may be inside);
    # vn-silence covers today, so whatever a scan finds in VN now is inside it;
    # th-runoff is still to come.
    return f"""\
events:
  - name: th-election
    market: TH
    start: {TH_TODAY - timedelta(days=10)}
    end: {TH_TODAY - timedelta(days=3)}
    raise: 1
    watchlists: [vote-buying]
  - {{name: vn-silence, market: VN, start: {TH_TODAY - timedelta(days=1)},
      end: {TH_TODAY + timedelta(days=1)}, raise: 1}}
  - {{name: th-runoff, market: TH, start: {TH_TODAY + timedelta(days=30)},
      end: {TH_TODAY + timedelta(days=30)}}}
"""


def _write_feeds(path: Path, site: HTTPServer, store: str, *, events: bool) -> Path:
    text = f"""\
version: 1
store: "{store}"
markets:
  TH: {{name: Thailand, languages: [th, en]}}
  VN: {{name: Vietnam, languages: [vi, en]}}
sources:
  - {{name: th-news, url: "{site.url_for("/th.xml")}", market: TH, language: th, articles: false}}
  - {{name: vn-news, url: "{site.url_for("/vn.xml")}", market: VN, language: vi, articles: false}}
{WATCHLISTS}{_events() if events else ""}"""
    path.write_text(text, encoding="utf-8")
    return path


def _cli(config: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--config", str(config), *args])
    return result.exit_code, result.stdout, result.stderr


def _stored_hits(store: str) -> set[tuple[str, str, str, str | None]]:
    """(title, watchlist, severity, event) of every stored hit."""
    found = rows(
        store,
        "SELECT a.title, h.watchlist, h.severity, h.event FROM hits h "
        "JOIN articles a ON a.id = h.article_id",
    )
    return {(r["title"], r["watchlist"], r["severity"], r["event"]) for r in found}


# What the scan stores with the events on, and what it stores without them.
WITH_EVENTS = {
    (TH_INSIDE_VOTE, "scam-ads", "critical", "th-election"),
    (TH_INSIDE_VOTE, "vote-buying", "high", "th-election"),
    (TH_INSIDE, "scam-ads", "critical", "th-election"),
    (TH_OUTSIDE, "scam-ads", "high", None),  # its vote-buying hit dropped: no event on
    (VN_OLD, "scam-ads", "critical", "vn-silence"),  # published long ago, found inside
}
WITHOUT_EVENTS = {
    (TH_INSIDE_VOTE, "scam-ads", "high", None),
    (TH_INSIDE_VOTE, "vote-buying", "medium", None),
    (TH_INSIDE, "scam-ads", "high", None),
    (TH_OUTSIDE, "scam-ads", "high", None),
    (TH_OUTSIDE, "vote-buying", "medium", None),
    (VN_OLD, "scam-ads", "high", None),
}


def test_a_scan_marks_hits_inside_events_and_hits_export_filter_them(
    site: HTTPServer, tmp_path: Path, store_at: str
) -> None:
    _serve_feeds(site)
    config = _write_feeds(tmp_path / "feeds.yaml", site, store_at, events=True)
    code, _, err = _cli(config, "scan", "--quiet")
    assert code == 0, err
    assert _stored_hits(store_at) == WITH_EVENTS

    inside = {r["id"] for r in rows(store_at, "SELECT id FROM hits WHERE event = 'th-election'")}
    code, out, err = _cli(config, "hits", "--event", "th-election", "--format", "json")
    assert code == 0, err
    listed = json.loads(out)
    assert {hit["id"] for hit in listed} == inside and len(listed) == len(inside)
    assert {hit["event"] for hit in listed} == {"th-election"}
    assert {hit["severity"] for hit in listed} == {"critical", "high"}

    # An event of the config without hits yet is a filter that matches nothing, not a typo.
    code, out, err = _cli(config, "hits", "--event", "th-runoff")
    assert (code, out.strip()) == (0, "No hits match."), err
    code, _, err = _cli(config, "hits", "--event", "nope")
    assert code == 2
    assert "--event: unknown event 'nope' (known: th-election, th-runoff, vn-silence)" in err

    code, out, err = _cli(config, "export", "--event", "th-election", "--event", "vn-silence")
    assert code == 0, err
    table = list(csv.reader(io.StringIO(out.removeprefix("\ufeff"))))
    header, exported = table[0], table[1:]
    assert header[-1] == "event"
    stored = rows(store_at, "SELECT id, event FROM hits WHERE event IS NOT NULL")
    assert {int(row[0]): row[-1] for row in exported} == {r["id"]: r["event"] for r in stored}
    assert {row[-1] for row in exported} == {"th-election", "vn-silence"}


def test_rematch_applies_events_added_to_the_config_and_undoes_removed_ones(
    site: HTTPServer, tmp_path: Path, store_at: str
) -> None:
    _serve_feeds(site)
    config = _write_feeds(tmp_path / "feeds.yaml", site, store_at, events=False)
    code, _, err = _cli(config, "scan", "--quiet")
    assert code == 0, err
    assert _stored_hits(store_at) == WITHOUT_EVENTS
    ids = _scam_ad_ids(store_at)

    _write_feeds(config, site, store_at, events=True)
    code, out, err = _cli(config, "rematch")
    assert code == 0, err
    assert _stored_hits(store_at) == WITH_EVENTS
    # The old-news vote-buying hit went: its watchlist now runs only inside th-election.
    assert "vote-buying: 0 added, 1 removed" in out.splitlines()
    assert _scam_ad_ids(store_at) == ids  # raised in place, not found again

    _write_feeds(config, site, store_at, events=False)
    code, _, err = _cli(config, "rematch")
    assert code == 0, err
    assert _stored_hits(store_at) == WITHOUT_EVENTS
    assert _scam_ad_ids(store_at) == ids


def _scam_ad_ids(store: str) -> list[int]:
    found = rows(store, "SELECT id FROM hits WHERE watchlist = 'scam-ads' ORDER BY id")
    return [r["id"] for r in found]
