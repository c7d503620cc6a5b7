"""Stories as the analyst sees them (design.md section 9): `stories`, `story ID`,
`hits --group-by story`, `triage --story`, `trends --count stories` and the report's
stories, by real CLI invocations on real stores of both engines.

Articles and hits are saved through the store's own `save_article` and grouped with
`set_story`, as the scan does; hits are then moved to known days. Story A is one
incident reported by three outlets in Thai, English and Vietnamese; story B is one
article whose title is hostile text from "the web"; one more article has a hit but
no story yet (stored before stories existed), so no story command shows it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from store_sql import execute, rows, value
from typer.testing import CliRunner, Result

from adwatch.cli import app
from adwatch.models import Article, Match, Source
from adwatch.store import open_store

runner = CliRunner()
WIDE = {"COLUMNS": "200"}
TODAY = datetime.now(UTC).date()
HOSTILE_TITLE = (
    '=HYPERLINK("http://evil.example","x") \x1b[31mRED\x1b[0m [bold red]markup[/bold red] '
    "<script>alert(1)</script>"
)
TEXT = "Police arrested a gang behind a scam ad that used a deepfake of a singer; 200 victims."


def day_ago(days: int) -> str:
    return (TODAY - timedelta(days=days)).isoformat()


@dataclass(frozen=True)
class Planted:
    """An article to save: where it comes from and its hits as (term, watchlist, days ago)."""

    key: str
    source: str
    market: str
    language: str
    title: str
    hits: list[tuple[str, str, int]]
    published: int  # days ago


ARTICLES = [
    Planted("a1", "th-news", "TH", "th", "ตำรวจจับแก๊งโฆษณาหลอกลวง", [("scam ad", "scam-ads", 0)], 1),
    Planted("a2", "th-english", "TH", "en", "Police arrest scam ad gang",
            [("scam ad", "scam-ads", 0), ("deepfake", "deepfake-ads", 0)], 1),
    Planted("a3", "vn-news", "VN", "vi", "Công an bắt nhóm quảng cáo lừa đảo",
            [("scam ad", "scam-ads", 1)], 0),
    Planted("b1", "vn-news", "VN", "en", HOSTILE_TITLE, [("singer", "election-ads", 2)], 2),
    Planted("c1", "th-news", "TH", "th", "No story yet", [("victims", "scam-ads", 0)], 0),
]  # fmt: skip
SEVERITY = {"scam-ads": "high", "deepfake-ads": "critical", "election-ads": "medium"}


@dataclass(frozen=True)
class Stories:
    db: str
    a: int  # the three-outlet story
    b: int  # the hostile one-article story
    articles: dict[str, int]  # key -> article id
    hits: dict[str, list[int]]  # key -> its hit ids


def fill(location: str) -> Stories:
    articles: dict[str, int] = {}
    hits: dict[str, list[int]] = {}
    with open_store(location) as store:
        store.sync_sources(
            [
                Source("th-news", "https://th.example/rss", "TH", "th"),
                Source("th-english", "https://th.example/en/rss", "TH", "en"),
                Source("vn-news", "https://vn.example/rss", "VN", "vi"),
            ]
        )
        for planted in ARTICLES:
            article = Article(
                url=f"https://{planted.source}.example/{planted.key}",
                source=planted.source,
                market=planted.market,
                title=planted.title,
                text=TEXT,
                language=planted.language,
                published_at=f"{day_ago(planted.published)}T08:00:00Z",
                fetched_at=f"{day_ago(planted.published)}T09:00:00Z",
                content_hash=hashlib.sha256(planted.key.encode()).hexdigest(),
                extractor="trafilatura",
            )
            matches = [_match(term, watchlist) for term, watchlist, _ in planted.hits]
            saved = store.save_article(article, matches)
            articles[planted.key] = saved.article_id
            hits[planted.key] = []
            for (_, watchlist, ago), match in zip(planted.hits, matches, strict=True):
                hit_id = value(
                    location,
                    "SELECT id FROM hits WHERE article_id = ? AND watchlist = ? AND start = ?",
                    [saved.article_id, watchlist, match.start],
                )
                execute(
                    location,
                    "UPDATE hits SET found_at = ? WHERE id = ?",
                    [f"{day_ago(ago)}T12:00:00Z", hit_id],
                )
                hits[planted.key].append(hit_id)
        a = store.set_story(articles["a1"], None)
        store.set_story(articles["a2"], a)
        store.set_story(articles["a3"], a)
        b = store.set_story(articles["b1"], None)
    return Stories(location, a, b, articles, hits)


def _match(term: str, watchlist: str) -> Match:
    start = TEXT.index(term)
    return Match(
        watchlist=watchlist,
        category="fraud",
        severity=SEVERITY[watchlist],
        term=term,
        matched_text=term,
        start=start,
        end=start + len(term),
        snippet=TEXT,
    )


@pytest.fixture(name="s")
def planted_stories(store_at: str) -> Stories:
    return fill(store_at)


def run(db: str, *args: str) -> Result:
    return runner.invoke(app, ["--db", db, *args], env=WIDE)


def ok(db: str, *args: str) -> str:
    result = run(db, *args)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def story_hits(s: Stories) -> list[int]:
    return sorted(s.hits["a1"] + s.hits["a2"] + s.hits["a3"])


# --- adwatch stories ------------------------------------------------------------------------


def test_stories_json_lists_the_widest_first_with_counts_and_watchlists(s: Stories) -> None:
    listed = json.loads(ok(s.db, "stories", "-f", "json"))
    assert [row["id"] for row in listed] == [s.a, s.b]  # the article without a story is out
    a, b = listed
    assert a["title"] == "ตำรวจจับแก๊งโฆษณาหลอกลวง"  # the earliest article's
    assert (a["articles"], a["sources"], a["languages"], a["hits"]) == (3, 3, 3, 4)
    assert a["markets"] == "TH,VN" and a["watchlists"] == ["deepfake-ads", "scam-ads"]
    assert (a["first_seen"], a["last_seen"]) == (
        f"{day_ago(1)}T08:00:00Z",
        f"{day_ago(0)}T08:00:00Z",
    )
    assert (b["articles"], b["sources"], b["hits"], b["watchlists"]) == (1, 1, 1, ["election-ads"])


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--watchlist", "election-ads"], {"b": (1, ["election-ads"])}),
        (["--language", "th"], {"a": (1, ["scam-ads"])}),
        (["--severity", "critical"], {"a": (1, ["deepfake-ads"])}),
        (["--source", "vn-news"], {"a": (1, ["scam-ads"]), "b": (1, ["election-ads"])}),
        (["--since", "PLACEHOLDER"], {"a": (3, ["deepfake-ads", "scam-ads"])}),
        (["--text", "singer", "--market", "VN"], {"a": (1, ["scam-ads"]), "b": (1, ["election-ads"])}),
    ],
)  # fmt: skip
def test_stories_count_only_the_hits_the_filters_select(
    s: Stories, options: list[str], expected: dict[str, tuple[int, list[str]]]
) -> None:
    options = [day_ago(0) if o == "PLACEHOLDER" else o for o in options]
    listed = json.loads(ok(s.db, "stories", *options, "-f", "json"))
    ids = {"a": s.a, "b": s.b}
    assert {row["id"]: (row["hits"], row["watchlists"]) for row in listed} == {
        ids[key]: counts for key, counts in expected.items()
    }


def test_stories_limit_and_jsonl(s: Stories) -> None:
    lines = ok(s.db, "stories", "-f", "jsonl", "--limit", "1").splitlines()
    assert [json.loads(line)["id"] for line in lines] == [s.a]
    assert len(ok(s.db, "stories", "-f", "jsonl", "--limit", "0").splitlines()) == 2
    table = ok(s.db, "stories", "--limit", "1").splitlines()
    assert table[-1] == "1 widest stories shown; --limit N for more, --limit 0 for all."


def test_stories_unknown_filter_name_or_format_exits_2(s: Stories) -> None:
    result = run(s.db, "stories", "--watchlist", "nope")
    assert result.exit_code == 2
    assert result.stderr.startswith("adwatch: --watchlist: unknown watchlist 'nope'")
    result = run(s.db, "stories", "-f", "xml")
    assert result.exit_code == 2 and "--format" in result.stderr


def test_stories_table_has_the_counts_and_escapes_the_hostile_title(s: Stories) -> None:
    out = ok(s.db, "stories")
    lines = out.splitlines()
    assert lines[0].split()[:9] == [
        "story", "first", "seen", "last", "seen", "markets", "outlets", "articles", "langs",
    ]  # fmt: skip
    row_a = next(line for line in lines if line.split()[:1] == [str(s.a)])
    assert row_a.split()[3:8] == ["TH,VN", "3", "3", "3", "4"]
    assert "\x1b" not in out and "[bold red]markup[/bold red]" in out
    assert "No story yet" not in out


def test_stories_with_no_match_say_so(s: Stories) -> None:
    assert ok(s.db, "stories", "--status", "dismissed").strip() == "No stories match."
    assert json.loads(ok(s.db, "stories", "--status", "dismissed", "-f", "json")) == []


def test_stories_csv_is_excel_safe(s: Stories) -> None:
    out = ok(s.db, "stories", "-f", "csv")
    assert out.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(out.lstrip("\ufeff"))))
    assert table[0] == [
        "id", "first_seen", "last_seen", "title", "language", "markets", "articles", "sources",
        "languages", "hits", "watchlists",
    ]  # fmt: skip
    assert [row[0] for row in table[1:]] == [str(s.a), str(s.b)]
    assert table[1][10] == "deepfake-ads, scam-ads"
    hostile = table[2][3]
    assert hostile.startswith("'=HYPERLINK") and "\x1b" not in hostile
    empty = ok(s.db, "stories", "--status", "dismissed", "-f", "csv")
    assert list(csv.reader(io.StringIO(empty.lstrip("\ufeff")))) == [table[0]]


# --- adwatch story ID -------------------------------------------------------------------------


def test_story_json_has_its_articles_and_hits(s: Stories) -> None:
    shown = json.loads(ok(s.db, "story", str(s.a), "--format", "json"))
    assert shown["id"] == s.a and shown["hits"] == 4 and shown["sources"] == 3
    articles = shown["articles"]
    assert [a["id"] for a in articles] == [s.articles[k] for k in ("a1", "a2", "a3")]
    for article in articles:
        assert {"id", "url", "source", "language", "published_at", "title", "hits"} <= set(article)
    assert [(a["source"], a["language"], a["hits"]) for a in articles] == [
        ("th-news", "th", 1), ("th-english", "en", 2), ("vn-news", "vi", 1),
    ]  # fmt: skip
    assert articles[0]["url"] == "https://th-news.example/a1"
    assert sorted(h["id"] for h in shown["hit_list"]) == story_hits(s)


def test_story_table_shows_facts_articles_and_hits(s: Stories) -> None:
    out = ok(s.db, "story", str(s.a))
    assert out.splitlines()[0].strip() == f"story {s.a}  ตำรวจจับแก๊งโฆษณาหลอกลวง"
    assert "languages   en, th, vi" in out
    assert "watchlists  deepfake-ads, scam-ads" in out
    for title in ("Police arrest scam ad gang", "Công an bắt nhóm quảng cáo lừa đảo"):
        assert title in out
    for hit_id in story_hits(s):
        assert any(line.split()[:1] == [str(hit_id)] for line in out.splitlines())
    hostile = ok(s.db, "story", str(s.b))
    assert "\x1b" not in hostile and "[bold red]markup[/bold red]" in hostile


def test_unknown_story_exits_2_in_one_line(s: Stories) -> None:
    result = run(s.db, "story", "999999")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("adwatch: no story with id 999999 in ")


# --- hits --group-by story ----------------------------------------------------------------------


def test_hits_group_by_story_json_has_each_story_with_its_hits(s: Stories) -> None:
    groups = json.loads(ok(s.db, "hits", "--group-by", "story", "-f", "json"))
    assert [(g["id"], sorted(g["hit_ids"]), g["hits"]) for g in groups] == [
        (s.a, story_hits(s), 4),
        (s.b, s.hits["b1"], 1),
    ]
    scam = json.loads(ok(s.db, "hits", "--group-by", "STORY", "-w", "scam-ads", "-f", "json"))
    expected = sorted(s.hits["a1"] + s.hits["a2"][:1] + s.hits["a3"])
    assert [(g["id"], sorted(g["hit_ids"])) for g in scam] == [(s.a, expected)]


def test_hits_group_by_story_table_puts_hits_under_their_story(s: Stories) -> None:
    out = ok(s.db, "hits", "--group-by", "story")
    lines = out.splitlines()
    head_a = lines.index(f"story {s.a}  ตำรวจจับแก๊งโฆษณาหลอกลวง")
    head_b = next(i for i, line in enumerate(lines) if line.startswith(f"story {s.b}  "))
    assert head_a < head_b
    assert lines[head_a + 1].startswith("3 outlets, 3 articles, 3 languages, 4 hits")
    assert lines[head_b + 1].startswith("1 outlet, 1 article, 1 language, 1 hit · seen")
    under_a = {line.split()[0] for line in lines[head_a:head_b] if line[:1] == " "}
    assert {str(i) for i in story_hits(s)} <= under_a
    assert "\x1b" not in out and "[bold red]markup[/bold red]" in lines[head_b]
    csv_out = ok(s.db, "hits", "--group-by", "story", "-f", "csv")
    assert csv_out.lstrip("\ufeff").startswith("id,first_seen,")


def test_hits_group_by_unknown_exits_2(s: Stories) -> None:
    result = run(s.db, "hits", "--group-by", "outlet")
    assert result.exit_code == 2
    assert "adwatch: --group-by: expected one of article, story, got 'outlet'" in result.stderr


# --- triage --story -----------------------------------------------------------------------------


def test_triage_story_changes_every_hit_of_the_story_and_logs_each(s: Stories) -> None:
    result = run(s.db, "triage", "--story", str(s.a), "--status", "escalated", "--note", "one gang")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "4 hits changed."
    statuses = rows(s.db, "SELECT id, status, note FROM hits ORDER BY id")
    changed = {r["id"] for r in statuses if r["status"] == "escalated"}
    assert changed == set(story_hits(s))  # not story B's, not the storyless article's
    assert all(r["note"] == "one gang" for r in statuses if r["id"] in changed)
    log = rows(s.db, "SELECT hit_id, old_status, new_status, note FROM triage_log ORDER BY hit_id")
    assert [(r["hit_id"], r["old_status"], r["new_status"], r["note"]) for r in log] == [
        (hit_id, "new", "escalated", "one gang") for hit_id in story_hits(s)
    ]
    again = run(s.db, "triage", "--story", str(s.a), "--status", "escalated")
    assert again.stdout.strip().splitlines()[-1] == "0 hits changed, 4 already escalated."


def test_triage_story_unknown_or_mixed_is_a_usage_error(s: Stories) -> None:
    unknown = run(s.db, "triage", "--story", "999999", "--status", "dismissed")
    assert unknown.exit_code == 2
    assert unknown.stderr.strip().startswith("adwatch: no story with id 999999 in ")
    hit = str(s.hits["b1"][0])
    mixed = run(s.db, "triage", hit, "--story", str(s.a), "--status", "dismissed")
    assert mixed.exit_code == 2 and "--story" in mixed.stderr
    with_filters = run(s.db, "triage", "--story", str(s.a), "-w", "scam-ads", "--status", "new")
    assert with_filters.exit_code == 2 and "--story" in with_filters.stderr
    assert value(s.db, "SELECT COUNT(*) FROM triage_log") == 0


# --- trends --count stories ---------------------------------------------------------------------


def test_trends_count_stories_counts_each_story_once_a_day(s: Stories) -> None:
    data = json.loads(ok(s.db, "trends", "--count", "stories", "--days", "3", "-f", "json"))
    assert data["count"] == "stories" and data["days"] == [day_ago(2), day_ago(1), day_ago(0)]
    # TH: story A's two articles' three hits today; VN: A yesterday (a3), B two days ago.
    assert {r["group"]: r["counts"] for r in data["rows"]} == {"TH": [0, 0, 1], "VN": [1, 1, 0]}
    hits = json.loads(ok(s.db, "trends", "--days", "3", "-f", "json"))
    assert "count" not in hits
    assert {r["group"]: r["counts"] for r in hits["rows"]} == {"TH": [0, 0, 4], "VN": [1, 1, 0]}
    by_watchlist = json.loads(
        ok(s.db, "trends", "--count", "stories", "--by", "watchlist", "--days", "3", "-f", "json")
    )
    assert {r["group"]: r["counts"] for r in by_watchlist["rows"]} == {
        "scam-ads": [0, 1, 1], "deepfake-ads": [0, 0, 1], "election-ads": [1, 0, 0],
    }  # fmt: skip
    table = ok(s.db, "trends", "--count", "stories", "--days", "3")
    assert "Stories with a hit per UTC day" in table


def test_trends_count_is_checked(s: Stories) -> None:
    bad = run(s.db, "trends", "--count", "outlets")
    assert bad.exit_code == 2
    assert bad.stderr.strip() == "adwatch: --count: expected one of hits, stories, got 'outlets'"
    both = run(s.db, "trends", "--count", "stories", "--measure", "tone")
    assert both.exit_code == 2 and "--measure tone" in both.stderr


# --- the report ---------------------------------------------------------------------------------


def test_report_leads_with_the_biggest_stories(s: Stories, tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    result = run(s.db, "report", "--since", day_ago(2), "--until", day_ago(0), "-o", str(target))
    assert result.exit_code == 0, result.stderr
    html = target.read_text(encoding="utf-8")
    assert '<div class="number"><b>2</b>stories</div>' in html
    stories_at, charts_at = html.index("<h2>Biggest stories</h2>"), html.index("Hits over time")
    assert stories_at < charts_at
    section = html[stories_at:charts_at]
    row_a = section[section.index(f"<td>{s.a}</td>") :].split("</tr>")[0]
    assert "ตำรวจจับแก๊งโฆษณาหลอกลวง</a>" in row_a and 'href="https://th-news.example/a1"' in row_a
    assert "<td>3</td><td>en, th, vi</td>" in row_a
    assert f"<td>{day_ago(1)} 08:00</td><td>4</td><td>deepfake-ads, scam-ads</td>" in row_a
    assert section.index(f"<td>{s.a}</td>") < section.index(f"<td>{s.b}</td>")
    assert "<script>" not in section and "&lt;script&gt;" in section and "\x1b" not in section


def test_report_without_stories_says_so(store_at: str, tmp_path: Path) -> None:
    with open_store(store_at):
        pass
    target = tmp_path / "report.html"
    assert run(store_at, "report", "-o", str(target)).exit_code == 0
    html = target.read_text(encoding="utf-8")
    assert "No story has hits in this period." in html
    assert '<div class="number"><b>0</b>stories</div>' in html
