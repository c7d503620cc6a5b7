"""The analyst's commands, invoked for real on real SQLite files."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from query_fixtures import HOSTILE_TITLE, fill_store
from rich.cells import cell_len
from scan_site import EN_BODY, EN_TITLE, TH_BODY, TH_TITLE, VI_BODY, VI_TITLE, article_html, rss
from store_sql import rows, value
from typer.testing import CliRunner, Result

from adwatch.cli import app
from adwatch.text.untrusted import strip_unsafe

runner = CliRunner()
WIDE = {"COLUMNS": "220"}


@pytest.fixture
def db(store_at: str) -> str:
    fill_store(store_at)
    return store_at


def run(db: str, *args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    return runner.invoke(app, ["--db", str(db), *args], input=input, env=env or WIDE)


def one_line_error(result: Result, code: int) -> str:
    assert result.exit_code == code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("adwatch: ")
    return lines[0]


# --- hits ---------------------------------------------------------------------------------


def test_hits_table_shows_the_newest_first_and_escapes_web_text(db: str) -> None:
    result = run(db, "hits")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    for header in ("id", "found (UTC)", "mkt", "lang", "severity", "watchlist", "title", "matched"):
        assert header in out
    assert out.index("โฆษณาหลอกลวงบนติ๊กต็อกระบาด") < out.index("Cảnh báo quảng cáo")
    # The hostile title reached the terminal as inert text.
    assert "\x1b" not in out
    assert "[bold red]markup[/bold red]" in out
    assert "RED" in out


def test_hits_fits_an_80_column_terminal(db: str) -> None:
    result = run(db, "hits", env={"COLUMNS": "80"})
    assert result.exit_code == 0
    # Display width, not len(): Thai vowel and tone marks take no column.
    assert max(cell_len(line) for line in result.stdout.splitlines()) <= 80
    assert "โฆษณาหลอก" in result.stdout  # the title still shows


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--market", "MM"], [4]),
        (["--market", "vn", "--severity", "critical"], [3]),
        (["--language", "en", "--status", "dismissed"], [8]),
        (["--watchlist", "scam-ads", "--since", "24h"], [1, 2]),
        (["--category", "elections"], [6, 5]),
        (["--source", "th-english", "--source", "mm-news"], [4, 7, 6, 5]),
        (["--text", "deepfake"], [3, 2]),
        (["--since", "5d", "--until", "90m"], [3, 2, 4]),
        (["--limit", "2"], [1, 3]),
        (["--limit", "0"], [1, 3, 2, 4, 7, 6, 5, 8]),
    ],
)
def test_hits_filters_through_the_cli(db: str, args: list[str], expected: list[int]) -> None:
    result = run(db, "hits", "--format", "json", *args)
    assert result.exit_code == 0, result.stderr
    assert [row["id"] for row in json.loads(result.stdout)] == expected


def test_hits_formats(db: str) -> None:
    as_csv = run(db, "hits", "-f", "csv", "--limit", "3")
    assert as_csv.stdout.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout.lstrip("\ufeff"))))
    assert [r["id"] for r in rows] == ["1", "3", "2"]
    as_jsonl = run(db, "hits", "-f", "jsonl")
    lines = [json.loads(line) for line in as_jsonl.stdout.splitlines()]
    assert len(lines) == 8 and lines[0]["matched_text"] == "โฆษณาหลอกลวง"
    # Machine formats keep the data exact but for control and bidi characters (issue #8).
    assert lines[4]["title"] == strip_unsafe(HOSTILE_TITLE)


def test_hits_says_when_more_are_available_and_when_nothing_matches(db: str) -> None:
    assert "2 newest hits shown; --limit N for more" in run(db, "hits", "-n", "2").stdout
    assert (
        run(
            db, "hits", "--market", "VN", "--since", "2000-01-01", "--until", "2000-01-02"
        ).stdout.strip()
        == "No hits match."
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--market", "XX"], "--market: unknown market 'XX' (known: MM, TH, VN)"),
        (
            ["--language", "burmese"],
            "--language: unknown language 'burmese' (known: en, my, th, vi)",
        ),
        (["-w", "probe"], "--watchlist: unknown watchlist 'probe' (known: "),
        (["--source", "mm-bbc"], "--source: unknown source 'mm-bbc' (known: "),
        (["--category", "nope"], "--category: unknown category 'nope' (known: "),
    ],
)
def test_unknown_filter_names_are_usage_errors_naming_the_known_ones(
    db: str, args: list[str], message: str
) -> None:
    # Each was "No hits match." with exit 0 (issue #8): a typo looked like a quiet day.
    for command in (["hits"], ["export"], ["trends"], ["search", "scam"]):
        result = run(db, *command, *args)
        assert result.exit_code == 2, (command, result.stdout)
        assert result.stderr.startswith(f"adwatch: {message}"), result.stderr
        assert len(result.stderr.splitlines()) == 1


def test_status_and_severity_values_are_case_insensitive(db: str) -> None:
    lower = run(db, "hits", "--status", "new", "--severity", "high", "-f", "json").stdout
    upper = run(db, "hits", "--status", "NEW", "--severity", "High", "-f", "json").stdout
    assert json.loads(lower) == json.loads(upper) != []


@pytest.mark.parametrize(
    "args",
    [
        ["hits", "--since", "999999d"],
        ["hits", "--limit", "99999999999999999999"],
        ["show", "99999999999999999999999"],
        ["trends", "--days", "100000000"],
        ["triage", "99999999999999999999", "--status", "new"],
    ],
)
def test_out_of_range_numbers_are_usage_errors_not_bugs(db: str, args: list[str]) -> None:
    result = run(db, *args)
    assert result.exit_code == 2, result.output
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr


def test_hits_grouped_by_article(db: str) -> None:
    table = run(db, "hits", "--group-by", "article")
    assert table.exit_code == 0
    assert "deepfake-investment, scam-ads" in table.stdout
    grouped = json.loads(run(db, "hits", "--group-by", "article", "-f", "json").stdout)
    assert [g["article_id"] for g in grouped] == [1, 2, 3, 4, 5]
    assert grouped[3]["watchlists"] == ["election-political-ads", "formula-bait"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["hits", "--since", "3x"], "adwatch: --since: expected an ISO date"),
        (["hits", "--until", "tomorrow"], "adwatch: --until: expected an ISO date"),
        (["hits", "--severity", "urgent"], "adwatch: --severity: expected one of"),
        (["hits", "--status", "done"], "adwatch: --status: expected one of"),
        (["hits", "--market", ""], "adwatch: --market: empty value"),
        (["hits", "--text", '"open'], "adwatch: --text: bad query"),
        (["hits", "--format", "xml"], "adwatch: --format: expected one of table, csv"),
        (["hits", "--group-by", "source"], "adwatch: --group-by: expected one of article"),
        (["export", "--since", "soon"], "adwatch: --since: expected"),
        (["export", "-f", "xlsx"], "adwatch: --format: expected one of csv, jsonl, json"),
        (["trends", "--by", "colour"], "adwatch: --by: expected one of"),
        (["search", "scam AND"], "adwatch: search: bad query at position"),
        pytest.param(
            ["search", '"open', "--fts"],
            "adwatch: search: the query is not valid FTS5 syntax",
            marks=pytest.mark.sqlite_only,
        ),
        (["show", "999"], "adwatch: no hit with id 999"),
        (["report", "--since", "last week"], "adwatch: --since: expected"),
    ],
)
def test_bad_values_are_one_line_and_exit_2(db: str, args: list[str], message: str) -> None:
    result = run(db, *args)
    assert one_line_error(result, 2).startswith(message)
    assert result.stdout == ""


def test_a_missing_store_is_a_one_line_error(tmp_path: Path) -> None:
    result = run(tmp_path / "none.db", "hits")
    assert "no store here yet" in one_line_error(result, 2)
    assert not (tmp_path / "none.db").exists()


# --- show and triage ----------------------------------------------------------------------


def test_show_prints_the_hit_its_article_and_history(db: str) -> None:
    assert (
        run(db, "triage", "2", "--status", "escalated", "--note", "sent to policy").exit_code == 0
    )
    result = run(db, "show", "2")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    for expected in (
        "hit 2", "scam-ads (fraud)", "escalated", "Cảnh báo quảng cáo lừa đảo đầu tư",
        "https://vn.example/1", "vn-news", "market VN", "quảng cáo lừa đảo", "match in context",
        "other hits of this article", "deepfake-investment", "triage history",
        "new → escalated", "sent to policy",
    ):  # fmt: skip
        assert expected in out, expected


def test_show_json(db: str) -> None:
    detail = json.loads(run(db, "show", "5", "--format", "json").stdout)
    assert detail["id"] == 5 and detail["title"] == strip_unsafe(HOSTILE_TITLE)
    assert detail["context"]["match"] == "political ad"
    assert [h["id"] for h in detail["other_hits"]] == [7, 6]
    assert detail["history"] == []


def test_show_escapes_the_hostile_title(db: str) -> None:
    out = run(db, "show", "5").stdout
    assert "\x1b" not in out and "[bold red]markup[/bold red]" in out


def test_triage_several_ids_logs_each_change(db: str) -> None:
    result = run(db, "triage", "1", "4", "--status", "reviewing", "--note", "checking")
    assert result.exit_code == 0, result.stderr
    assert "hit 1: new → reviewing (note added)" in result.stdout
    assert "2 hits changed." in result.stdout
    again = run(db, "triage", "1", "--status", "reviewing")
    assert "0 hits changed, 1 already reviewing." in again.stdout
    log = rows(db, "SELECT * FROM triage_log ORDER BY id")
    assert [(r["hit_id"], r["old_status"], r["new_status"], r["note"]) for r in log] == [
        (1, "new", "reviewing", "checking"),
        (4, "new", "reviewing", "checking"),
    ]
    assert all(r["who"] and r["at"].endswith("Z") for r in log)


def test_triage_from_query_asks_first(db: str) -> None:
    declined = run(db, "triage", "--from-query", "--source", "vn-news", "--status", "dismissed",
                   input="n\n")  # fmt: skip
    assert declined.exit_code == 1 and "Set 3 hits to 'dismissed'?" in declined.stdout
    assert value(db, "SELECT COUNT(*) FROM triage_log") == 0
    accepted = run(
        db, "triage", "--from-query", "--source", "vn-news", "--current-status", "new",
        "--status", "dismissed", "--note", "noisy source", input="y\n",
    )  # fmt: skip
    assert accepted.exit_code == 0, accepted.stderr
    assert "2 hits changed." in accepted.stdout  # hit 8 was dismissed already: not selected
    statuses = {r["id"]: r["status"] for r in rows(db, "SELECT id, status FROM hits")}
    assert statuses[2] == statuses[3] == statuses[8] == "dismissed"
    assert statuses[1] == "new"


def test_triage_from_query_with_yes_does_not_ask(db: str) -> None:
    result = run(db, "triage", "--from-query", "--market", "MM", "--status", "escalated", "--yes")
    assert result.exit_code == 0 and "?" not in result.stdout
    assert "hit 4: new → escalated" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["triage", "1"], "--status: required"),
        (["triage", "--status", "dismissed"], "give one or more hit ids"),
        (["triage", "1", "--status", "closed"], "--status: expected one of new, reviewing"),
        (["triage", "1", "--from-query", "--market", "TH", "--status", "new"], "not both"),
        (["triage", "1", "--market", "TH", "--status", "new"], "only with --from-query"),
        (["triage", "--from-query", "--status", "new"], "give at least one filter"),
        (["triage", "1", "99", "--status", "new"], "no hit with id 99"),
    ],
)
def test_triage_usage_errors(db: str, args: list[str], message: str) -> None:
    assert message in one_line_error(run(db, *args), 2)
    assert value(db, "SELECT COUNT(*) FROM triage_log") == 0


# --- export ---------------------------------------------------------------------------------


def test_export_to_a_file(db: str, tmp_path: Path) -> None:
    target = tmp_path / "out" / "hits.csv"
    target.parent.mkdir()
    result = run(db, "export", "--since", "7d", "-o", str(target))
    assert result.exit_code == 0, result.stderr
    assert result.stderr.strip() == f"wrote 4 hits to {target}"
    assert result.stdout == ""
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [r["id"] for r in rows] == ["1", "3", "2", "4"]
    assert rows[0]["title"] == "โฆษณาหลอกลวงบนติ๊กต็อกระบาด"


def test_export_to_stdout_as_jsonl(db: str) -> None:
    result = run(db, "export", "-f", "jsonl", "--market", "TH")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in rows] == [1, 7, 6, 5]
    assert rows[1]["term"] == "=HYPERLINK"


# --- search, trends, sources, report -------------------------------------------------------------


def test_search_finds_thai_and_burmese_and_highlights(db: str) -> None:
    thai = run(db, "search", "หลอกลวง")
    assert thai.exit_code == 0, thai.stderr
    assert "โฆษณาหลอกลวงบนติ๊กต็อกระบาด" in thai.stdout and "ตำรวจไซเบอร์" in thai.stdout
    burmese = json.loads(run(db, "search", "လိမ်လည်", "-f", "json").stdout)
    assert [r["article_id"] for r in burmese] == [3]
    assert burmese[0]["context"]["match"] == "လိမ်လည်"
    assert run(db, "search", "nothing-like-this").stdout.strip() == "No articles match."


def test_trends_table_json_and_csv(db: str) -> None:
    table = run(db, "trends", "--days", "14")
    assert table.exit_code == 0, table.stderr
    assert "TH" in table.stdout and "▁" in table.stdout and "change" in table.stdout
    data = json.loads(run(db, "trends", "--by", "watchlist", "-f", "json").stdout)
    assert data["by"] == "watchlist" and len(data["days"]) == 14
    assert {r["group"] for r in data["rows"]} == {
        "scam-ads", "deepfake-investment", "election-political-ads", "formula-bait",
    }  # fmt: skip
    as_csv = run(db, "trends", "--by", "source", "--days", "3", "-f", "csv").stdout
    rows = list(csv.reader(io.StringIO(as_csv.lstrip("\ufeff"))))
    assert rows[0][0] == "source" and rows[0][-4:] == ["total", "mean", "last", "change_pct"]
    assert {r[0] for r in rows[1:]} == {"vn-news", "th-news"}


def write_feeds(path: Path, store: Path) -> Path:
    path.write_text(
        f"""version: 1
store: {store}
markets:
  TH: {{name: Thailand, languages: [th, en]}}
  MM: {{name: Myanmar, languages: [my, en]}}
sources:
  - {{name: th-news, url: "https://th.example/rss", market: TH}}
  - {{name: mm-news, url: "https://mm.example/rss", market: MM}}
  - {{name: fresh, url: "https://fresh.example/rss", market: TH}}
""",
        encoding="utf-8",
    )
    return path


def test_sources_shows_health_and_recent_yield(db: str, tmp_path: Path) -> None:
    config = write_feeds(tmp_path / "feeds.yaml", db)
    result = runner.invoke(app, ["--config", str(config), "sources"], env=WIDE)
    assert result.exit_code == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line.strip()}
    assert "failing" in lines["mm-news"] and "HTTP 500 after 3 tries" in lines["mm-news"]
    assert "ok" in lines["th-news"] and "never checked" in lines["fresh"]
    assert "(not configured)" in lines["vn-news"]
    data = json.loads(runner.invoke(app, ["--config", str(config), "sources", "-f", "json"]).stdout)
    mm = next(s for s in data if s["name"] == "mm-news")
    assert mm["failures"] == 4 and mm["state"] == "failing" and mm["hits_recent"] == 1


def test_sources_before_the_first_scan(tmp_path: Path) -> None:
    config = write_feeds(tmp_path / "feeds.yaml", tmp_path / "later.db")
    result = runner.invoke(app, ["--config", str(config), "sources", "-f", "json"])
    assert result.exit_code == 0, result.stderr
    assert {s["state"] for s in json.loads(result.stdout)} == {"never checked"}
    assert not (tmp_path / "later.db").exists()


def test_report_writes_one_html_file(db: str, tmp_path: Path) -> None:
    target = tmp_path / "today.html"
    result = run(db, "report", "--since", "7d", "-o", str(target))
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith(f"wrote {target}: 4 hits")
    html = target.read_text(encoding="utf-8")
    assert html.count("<svg") == 2 and "mm-news" in html


def test_every_query_command_has_help() -> None:
    for command in ("hits", "show", "triage", "export", "search", "sources", "trends", "report"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0, command
        assert "Usage:" in result.stdout and "not built" not in result.stdout


# --- after a real scan ------------------------------------------------------------------


def serve_small_news(server: HTTPServer, tmp_path: Path) -> Path:
    """Two feeds and three UTF-8 article pages on 127.0.0.1, and a feeds.yaml for them."""
    u = server.url_for
    server.expect_request("/robots.txt").respond_with_data("User-agent: *\nAllow: /\n")
    pages = {"/th/1.html": (TH_TITLE, TH_BODY, "th"), "/vi/1.html": (VI_TITLE, VI_BODY, "vi"),
             "/en/1.html": (EN_TITLE, EN_BODY, "en")}  # fmt: skip
    for route, (title, body, lang) in pages.items():
        server.expect_request(route).respond_with_data(
            article_html(title, body, lang=lang), content_type="text/html; charset=utf-8"
        )
    th_items = [
        {"title": TH_TITLE, "link": u("/th/1.html")},
        {"title": EN_TITLE, "link": u("/en/1.html")},
    ]
    server.expect_request("/th/feed.xml").respond_with_data(
        rss(th_items).encode(), content_type="application/rss+xml"
    )
    server.expect_request("/vi/feed.xml").respond_with_data(
        rss([{"title": VI_TITLE, "link": u("/vi/1.html")}]).encode(),
        content_type="application/rss+xml",
    )
    config = tmp_path / "feeds.yaml"
    config.write_text(
        f"""version: 1
store: adwatch.db
markets:
  TH: {{name: Thailand, languages: [th, en]}}
  VN: {{name: Vietnam, languages: [vi, en]}}
sources:
  - {{name: th-news, url: "{u("/th/feed.xml")}", market: TH}}
  - {{name: vn-news, url: "{u("/vi/feed.xml")}", market: VN}}
watchlists:
  - name: scam-ads
    category: fraud
    severity: high
    terms:
      en: ["scam ad"]
      th: ["โฆษณาหลอกลวง"]
      vi: ["quảng cáo lừa đảo"]
  - name: deepfake
    category: deepfake
    severity: critical
    terms:
      any: ["deepfake"]
""",
        encoding="utf-8",
    )
    return config


def test_the_daily_loop_on_a_real_scan(site: HTTPServer, tmp_path: Path) -> None:
    config = serve_small_news(site, tmp_path)
    scanned = runner.invoke(app, ["--config", str(config), "scan", "--quiet"])
    assert scanned.exit_code == 0, scanned.stderr

    def cli(*args: str, input: str | None = None) -> Result:
        return runner.invoke(app, ["--config", str(config), *args], input=input, env=WIDE)

    found = json.loads(cli("hits", "--limit", "0", "-f", "json").stdout)
    assert {h["title"] for h in found} == {TH_TITLE, VI_TITLE, EN_TITLE}
    thai = next(h for h in found if h["title"] == TH_TITLE)
    assert thai["market"] == "TH" and thai["language"] == "th" and thai["source"] == "th-news"
    assert thai["matched_text"] == "โฆษณาหลอกลวง" and thai["watchlist"] == "scam-ads"
    assert {h["watchlist"] for h in found if h["title"] == VI_TITLE} == {"scam-ads", "deepfake"}

    shown = cli("show", str(thai["id"]))
    assert shown.exit_code == 0 and "ตำรวจไซเบอร์เตือนประชาชน" in shown.stdout

    triaged = cli("triage", str(thai["id"]), "--status", "escalated", "--note", "to policy")
    assert triaged.exit_code == 0
    escalated = json.loads(cli("hits", "--status", "escalated", "-f", "json").stdout)
    assert [h["id"] for h in escalated] == [thai["id"]]

    searched = json.loads(cli("search", "เฟซบุ๊ก", "-f", "json").stdout)
    assert [r["title"] for r in searched] == [TH_TITLE]

    exported = tmp_path / "hits.csv"
    assert cli("export", "--market", "VN", "-o", str(exported)).exit_code == 0
    rows = list(csv.DictReader(io.StringIO(exported.read_text(encoding="utf-8-sig"))))
    vn_hits = sum(1 for h in found if h["source"] == "vn-news")
    assert {r["market"] for r in rows} == {"VN"} and len(rows) == vn_hits

    sources = json.loads(cli("sources", "-f", "json").stdout)
    assert {s["name"]: (s["state"], s["hits_recent"]) for s in sources} == {
        "th-news": ("ok", sum(1 for h in found if h["source"] == "th-news")),
        "vn-news": ("ok", vn_hits),
    }
    trends = json.loads(cli("trends", "-f", "json").stdout)
    assert {r["group"]: r["last"] for r in trends["rows"]} == {
        "TH": len(found) - vn_hits,
        "VN": vn_hits,
    }
    report = tmp_path / "today.html"
    assert cli("report", "-o", str(report)).exit_code == 0
    assert TH_TITLE in report.read_text(encoding="utf-8")  # escalated: in the top hits


def test_the_library_names_fields_and_the_cli_names_options(db: str) -> None:
    from adwatch.errors import UsageError
    from adwatch.query import make_filters

    with pytest.raises(UsageError) as caught:
        make_filters(since="yesterday")
    assert str(caught.value).startswith("since: ") and caught.value.field == "since"
    result = run(db, "hits", "--since", "yesterday")
    assert result.exit_code == 2
    assert result.stderr.startswith("adwatch: --since: expected an ISO date or time")
