"""Tone of coverage over time: `trends --measure tone`, the store and query layers behind
it, and the report's "Tone of coverage" section, on real stores of both engines.

Articles with known tones and hits are saved through the store's own `save_article`;
their hits' `found_at` are then moved to known days. What each group's numbers must
be is worked out by hand next to TONED below.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from query_fixtures import fill_store
from store_sql import execute
from typer.testing import CliRunner, Result

from adwatch import query
from adwatch.cli import app
from adwatch.models import Article, Match, Source
from adwatch.query import make_filters
from adwatch.render import SPARK_BARS, tone_sparkline
from adwatch.report import build_report, render_report
from adwatch.semantic.tone import TONE_ACCURACY
from adwatch.store import open_store
from adwatch.text.dates import iso_utc

runner = CliRunner()
WIDE = {"COLUMNS": "220"}
NOW = datetime.now(UTC)
TODAY = NOW.date()


@dataclass(frozen=True)
class Toned:
    """An article to plant: its tone and its hits as (term, watchlist, category, days ago)."""

    url: str
    market: str
    language: str
    tone: float | None
    hits: list[tuple[str, str, str, int]]


TONED = [
    Toned("https://th.example/a1", "TH", "th", -0.6, [("scam ad", "scam-ads", "fraud", 0)]),
    Toned("https://th.example/a2", "TH", "en", -0.2,
          [("scam ad", "scam-ads", "fraud", 0), ("political ad", "election-ads", "elections", 0)]),
    Toned("https://th.example/a3", "TH", "th", 0.5,
          [("political ad", "election-ads", "elections", 2)]),
    Toned("https://vn.example/a4", "VN", "vi", 0.7, [("scam ad", "scam-ads", "fraud", 1)]),
    # Not embedded: no tone, left out of every mean.
    Toned("https://vn.example/a5", "VN", "vi", None, [("scam ad", "scam-ads", "fraud", 1)]),
    # No hit: tone is about coverage of ad risk, so it does not count.
    Toned("https://mm.example/a6", "MM", "my", -0.9, []),
    # Two hits found on two days: counted once, on the day of the first.
    Toned("https://vn.example/a7", "VN", "vi", -0.5,
          [("deepfake", "deepfake-ads", "fraud", 3), ("scam ad", "deepfake-ads", "fraud", 1)]),
    # Found 20 days ago: outside 14 days.
    Toned("https://th.example/a8", "TH", "th", 0.9, [("scam ad", "scam-ads", "fraud", 20)]),
]  # fmt: skip
# By market over 14 days:
#   TH  2 days ago 0.5 (a3), today (-0.6 - 0.2) / 2 = -0.4 (a1, a2); over the period
#       (-0.6 - 0.2 + 0.5) / 3 = -0.1 (a mean of the daily means would say 0.05)
#   VN  3 days ago -0.5 (a7), yesterday 0.7 (a4; a5 has no tone); period 0.1; today none
TEXT = "Police warn of a scam ad and a political ad using a deepfake of a singer."
CITY = {"TH": "Bangkok", "VN": "Hanoi", "MM": "Yangon"}


def day_ago(days: int) -> str:
    return (TODAY - timedelta(days=days)).isoformat()


def fill_toned(location: str, articles: list[Toned] = TONED) -> None:  # noqa: B006 - never mutated
    """Save `articles` with their tones and hits, each hit found at noon of its day."""
    with open_store(location) as store:
        store.sync_sources([Source("news", "https://news.example/rss", "TH", "th")])
        for planted in articles:
            text = f"{TEXT} Reported from {CITY[planted.market]}."
            article = Article(
                url=planted.url,
                source="news",
                market=planted.market,
                title=f"story {planted.url[-2:]}",
                text=text,
                language=planted.language,
                published_at=None,
                fetched_at=iso_utc(NOW),
                content_hash=hashlib.sha256(planted.url.encode()).hexdigest(),
                extractor="trafilatura",
                tone=planted.tone,
            )
            matches = [
                _match(text, term, watchlist, category)
                for term, watchlist, category, _ in planted.hits
            ]
            saved = store.save_article(article, matches)
            for (_, watchlist, _, ago), match in zip(planted.hits, matches, strict=True):
                execute(
                    location,
                    "UPDATE hits SET found_at = ? WHERE article_id = ? AND watchlist = ? "
                    "AND start = ?",
                    [f"{day_ago(ago)}T12:00:00Z", saved.article_id, watchlist, match.start],
                )


def _match(text: str, term: str, watchlist: str, category: str) -> Match:
    start = text.index(term)
    return Match(
        watchlist=watchlist,
        category=category,
        severity="high",
        term=term,
        matched_text=term,
        start=start,
        end=start + len(term),
        snippet=text,
    )


@pytest.fixture
def toned(store_at: str) -> str:
    fill_toned(store_at)
    return store_at


def run(db: str, *args: str) -> Result:
    return runner.invoke(app, ["--db", db, *args], env=WIDE)


# --- the store and the query layer ------------------------------------------------------------


def test_day_tones_are_mean_tones_of_articles_with_hits_per_day(toned: str) -> None:
    axis = query.day_range(14, until=NOW)
    with open_store(toned, create=False) as store:
        tones = store.day_tones("market", query.day_bounds(axis), make_filters())
    assert set(tones) == {"TH", "VN"}  # MM's only article has no hit
    th = dict(zip(axis, tones["TH"], strict=True))
    assert th[day_ago(0)] == (pytest.approx(-0.4), 2)
    assert th[day_ago(2)] == (pytest.approx(0.5), 1)
    assert th[day_ago(1)] == (None, 0)
    assert sum(count for _, count in tones["TH"]) == 3  # the 20-day-old article is out
    vn = dict(zip(axis, tones["VN"], strict=True))
    assert vn[day_ago(1)] == (pytest.approx(0.7), 1)  # the untoned article is left out
    assert vn[day_ago(3)] == (pytest.approx(-0.5), 1)  # counted on its first hit's day only


def test_tone_trends_rows_means_last_day_and_articles(toned: str) -> None:
    with open_store(toned, create=False) as store:
        trends = query.tone_trends(store, by="market", days=14, now=NOW)
    assert trends.days[-1] == TODAY.isoformat() and len(trends.days) == 14
    th, vn = trends.rows  # most toned articles first
    assert (th.group, th.articles, vn.group, vn.articles) == ("TH", 3, "VN", 2)
    # The period's mean is over articles, not a mean of the daily means (0.05).
    assert th.mean == pytest.approx(-0.1) and th.last == pytest.approx(-0.4)
    assert vn.mean == pytest.approx(0.1) and vn.last is None
    assert th.means[:-3] == [None] * 11 and th.counts[-3:] == [1, 0, 2]


def test_tone_trends_by_watchlist_count_an_article_in_each_of_its_watchlists(toned: str) -> None:
    with open_store(toned, create=False) as store:
        trends = query.tone_trends(store, by="watchlist", days=14, now=NOW)
    rows = {row.group: row for row in trends.rows}
    assert set(rows) == {"scam-ads", "election-ads", "deepfake-ads"}
    assert rows["scam-ads"].articles == 3 and rows["scam-ads"].last == pytest.approx(-0.4)
    assert rows["election-ads"].means[-3:] == [pytest.approx(0.5), None, pytest.approx(-0.2)]
    assert rows["deepfake-ads"].means[-4] == pytest.approx(-0.5)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"watchlist": ["election-ads"]}, {"TH": (2, 0.15)}),
        ({"language": ["vi"]}, {"VN": (2, 0.1)}),
        ({"market": ["TH"], "since": "1d"}, {"TH": (2, -0.4)}),
        ({"category": ["fraud"]}, {"TH": (2, -0.4), "VN": (2, 0.1)}),
        ({"text": "Hanoi"}, {"VN": (2, 0.1)}),
    ],
)
def test_tone_trends_apply_the_hit_filters(
    toned: str, filters: dict[str, Any], expected: dict[str, tuple[int, float]]
) -> None:
    with open_store(toned, create=False) as store:
        trends = query.tone_trends(
            store, days=14, filters=make_filters(**filters, now=NOW), now=NOW
        )
    got = {row.group: (row.articles, row.mean) for row in trends.rows}
    assert got == {g: (n, pytest.approx(mean)) for g, (n, mean) in expected.items()}


def test_tone_trends_check_by_and_days(toned: str) -> None:
    with open_store(toned, create=False) as store:
        with pytest.raises(query.UsageError, match="colour"):
            query.tone_trends(store, by="colour")
        with pytest.raises(query.UsageError, match="at least 1"):
            query.tone_trends(store, days=0)


def test_the_tone_note_is_built_from_the_measured_accuracy() -> None:
    note = query.tone_note()
    rates = TONE_ACCURACY["critical_or_not"]
    assert f"right {rates['all'] * 100:.0f} % of the time" in note
    assert "\n" not in note and "-1 critical .. +1 favourable" in note
    assert "(th 97, vi 97, my 93, en 90 %)" in note


def test_tone_sparkline_is_on_a_fixed_scale_with_blanks() -> None:
    assert tone_sparkline([-1.0, None, 0.0, 1.0, -0.4]) == (
        SPARK_BARS[0] + " " + SPARK_BARS[4] + SPARK_BARS[-1] + SPARK_BARS[2]
    )


# --- trends --measure tone ----------------------------------------------------------------------


def test_measure_hits_is_the_default_and_unchanged(toned: str) -> None:
    default = run(toned, "trends", "-f", "json")
    hits = run(toned, "trends", "--measure", "HITS", "-f", "json")
    assert default.exit_code == hits.exit_code == 0, default.stderr
    assert default.stdout == hits.stdout
    assert "measure" not in json.loads(default.stdout)


def test_unknown_measure_exits_2_in_one_line(toned: str) -> None:
    result = run(toned, "trends", "--measure", "mood")
    assert result.exit_code == 2, result.stdout
    lines = result.stderr.strip().splitlines()
    assert lines == ["adwatch: --measure: expected one of hits, tone, got 'mood'"]


def test_tone_table_has_sparklines_means_and_the_accuracy_line(toned: str) -> None:
    result = run(toned, "trends", "--measure", "Tone")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["market", "tone", "per", "day", "mean", "last", "day", "articles"]
    th = next(line for line in lines if line.strip().startswith("TH"))
    # 2 days ago +0.5, yesterday blank, today -0.4, on the -1 .. +1 scale
    assert tone_sparkline([0.5, None, -0.4]) in th
    assert th.split()[-3:] == ["-0.10", "-0.40", "3"]
    vn = next(line for line in lines if line.strip().startswith("VN"))
    assert vn.split()[-3:] == ["+0.10", "–", "2"]
    assert not any(line.strip().startswith("MM") for line in lines)
    assert query.tone_note() in " ".join(line.strip() for line in lines)


def test_tone_json_states_what_tone_is_and_its_accuracy(toned: str) -> None:
    result = run(toned, "trends", "--measure", "tone", "--by", "watchlist", "-f", "json")
    data = json.loads(result.stdout)
    assert data["measure"] == "tone" and data["by"] == "watchlist" and len(data["days"]) == 14
    assert data["about"] == query.tone_note()
    assert data["accuracy"]["critical_or_not"]["all"] == TONE_ACCURACY["critical_or_not"]["all"]
    rows = {row["group"]: row for row in data["rows"]}
    scam = rows["scam-ads"]
    assert set(scam) == {"group", "means", "counts", "mean", "last", "articles"}
    assert scam["means"][-2:] == [0.7, -0.4] and scam["counts"][-2:] == [1, 2]
    assert scam["means"][0] is None and scam["mean"] == pytest.approx(-0.033, abs=1e-3)


def test_tone_csv_has_a_column_per_day_then_mean_last_and_articles(toned: str) -> None:
    result = run(toned, "trends", "--measure", "tone", "--days", "4", "-f", "csv")
    table = list(csv.reader(io.StringIO(result.stdout.lstrip("\ufeff"))))
    days = [day_ago(n) for n in (3, 2, 1, 0)]
    assert table[0] == ["market", *days, "mean", "last", "articles"]
    assert table[1:] == [
        ["TH", "", "0.5", "", "-0.4", "-0.1", "-0.4", "3"],
        ["VN", "-0.5", "", "0.7", "", "0.1", "", "2"],
    ]


def test_no_toned_articles_says_so(store_at: str) -> None:
    fill_store(store_at)  # hits, but nothing embedded: no tone
    result = run(store_at, "trends", "--measure", "tone", "--days", "7")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == (
        "No toned articles in the last 7 days: tone needs embeddings (docs/semantic.md)."
    )
    data = json.loads(run(store_at, "trends", "--measure", "tone", "-f", "json").stdout)
    assert data["rows"] == [] and data["about"] == query.tone_note()


def test_tone_filters_on_the_command_line(toned: str) -> None:
    result = run(toned, "trends", "--measure", "tone", "--market", "VN", "-f", "json")
    rows = json.loads(result.stdout)["rows"]
    assert [(r["group"], r["articles"]) for r in rows] == [("VN", 2)]
    unknown = run(toned, "trends", "--measure", "tone", "--by", "colour")
    assert unknown.exit_code == 2 and "--by" in unknown.stderr


# --- the report ---------------------------------------------------------------------------------


def test_report_shows_tone_per_market_with_the_accuracy(toned: str) -> None:
    with open_store(toned, create=False) as store:
        data = build_report(store, make_filters(since="7d"), now=NOW)
    assert data.tone is not None
    assert [line.name for line in data.tone.lines] == ["TH", "VN"]
    th = data.tone.lines[0]
    # Points on days with a mean; the blank day breaks TH's line into two runs of one point.
    assert [p.label for p in th.points] == [
        f"{day_ago(2)} TH: +0.50 (1 article)",
        f"{day_ago(0)} TH: -0.40 (2 articles)",
    ]
    assert th.runs == []
    assert all(
        data.tone.top <= p.y <= data.tone.bottom for line in data.tone.lines for p in line.points
    )
    html = render_report(data)
    assert "Tone of coverage" in html and query.tone_note() in html
    assert "<td>TH</td><td>-0.10</td><td>-0.40</td><td>3</td>" in html
    assert "<td>VN</td><td>+0.10</td><td>–</td><td>2</td>" in html
    assert html.count('class="tone-point"') == 4
    assert "has a tone: tone needs embeddings" not in html


def test_report_joins_consecutive_days_of_tone_with_a_line(store_at: str) -> None:
    fill_toned(
        store_at,
        [
            Toned("https://th.example/b1", "TH", "th", -0.6, [("scam ad", "scam-ads", "fraud", 1)]),
            Toned("https://th.example/b2", "TH", "th", 0.2, [("scam ad", "scam-ads", "fraud", 0)]),
        ],
    )
    with open_store(store_at, create=False) as store:
        data = build_report(store, make_filters(since="24h"), now=NOW)
    assert data.tone is not None
    (line,) = data.tone.lines
    assert len(line.runs) == 1 and line.runs[0].count(",") == 2  # two points, one polyline
    assert render_report(data).count('class="tone-line"') == 1


def test_report_without_tones_has_a_one_line_note(store_at: str) -> None:
    fill_store(store_at)
    with open_store(store_at, create=False) as store:
        data = build_report(store, make_filters(since="24h"))
    assert data.tone is None and data.tone_days == 14  # as the hit charts: two weeks at least
    html = render_report(data)
    assert "Tone of coverage" in html
    assert (
        "No article with hits in the last 14 days has a tone: tone needs embeddings "
        "(docs/semantic.md)." in html
    )
    assert "tone-point" not in html and query.tone_note() not in html


def test_report_tone_follows_the_report_filters(toned: str) -> None:
    with open_store(toned, create=False) as store:
        data = build_report(store, make_filters(since="7d", market=["VN"]), now=NOW)
    assert data.tone is not None and [row.group for row in data.tone.rows] == ["VN"]
