"""The HTML digest: its numbers, escaping, self-containment, and a real browser render."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from query_fixtures import NOW, fill_store
from store_sql import execute

from adwatch import report
from adwatch.query import TrendRow, Trends, make_filters
from adwatch.report import ReportData, build_report, render_report, write_report
from adwatch.store import open_store


@pytest.fixture
def data(store_at: str) -> ReportData:
    path = store_at
    fill_store(path)
    with open_store(path, create=False) as store:
        return build_report(store, make_filters(since="14d"))


class Elements(HTMLParser):
    """Every start tag with its attributes, and the page's text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> Elements:
    parser = Elements()
    parser.feed(html)
    return parser


def test_the_period_numbers(data: ReportData) -> None:
    # 14 days: everything but the 30-day-old dismissed regulator hit.
    assert data.total_hits == 7 and data.articles == 4
    assert data.by_severity == {"critical": 3, "high": 3, "medium": 0, "low": 1}
    assert data.by_market == {"TH": 4, "VN": 2, "MM": 1}
    assert data.by_status == {"new": 7}
    assert [s.name for s in data.failed_sources] == ["mm-news"]


def test_top_hits_are_escalated_or_critical_with_safe_links(store_at: str) -> None:
    path = store_at
    fill_store(path)
    execute(path, "UPDATE hits SET status = 'escalated' WHERE id = 8")
    with open_store(path, create=False) as store:
        data = build_report(store, make_filters(since="40d"))
    top = {t.hit.id: t for t in data.top_hits}
    assert list(top) == [8, 3, 6, 5]  # escalated first, then critical, newest first
    assert top[3].context.match == "deepfake" and top[3].link == "https://vn.example/1"
    assert top[8].link is None  # its URL is javascript:


def test_watchlists_and_sources_that_started_to_fire(data: ReportData, tmp_path: Path) -> None:
    names = {n.name for n in data.new_watchlists}
    assert names == {"scam-ads", "deepfake-investment", "election-political-ads", "formula-bait"}
    # Over the last day only, anything that fired in the 30 days before is not new.
    path = tmp_path / "day.db"
    fill_store(path)
    with open_store(path, create=False) as store:
        day = build_report(store, make_filters(since="24h"))
    assert [n.name for n in day.new_watchlists] == ["deepfake-investment"]
    assert {n.name for n in day.new_sources} == {"th-news"}  # vn-news fired 30 days ago


def test_web_text_is_escaped_and_never_becomes_markup(data: ReportData) -> None:
    html = render_report(data)
    page = parse(html)
    tags = [tag for tag, _ in page.tags]
    assert "script" not in tags and "img" not in tags
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "\x1b" not in html  # control characters are dropped, not escaped into the page
    assert any("[bold red]markup[/bold red]" in t for t in page.text)
    for tag, attrs in page.tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        if tag == "a":
            assert (attrs["href"] or "").startswith(("http://", "https://"))


def test_the_page_is_self_contained(data: ReportData) -> None:
    html = render_report(data)
    page = parse(html)
    for tag, attrs in page.tags:
        assert tag not in ("script", "link", "iframe", "object", "embed"), tag
        if tag != "a":
            for name in ("src", "href", "srcset", "data"):
                assert name not in attrs, (tag, attrs)
    assert "@import" not in html and "url(" not in html
    csp = [
        a for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"
    ]
    assert csp and "default-src 'none'" in (csp[0]["content"] or "")
    assert (
        "meta",
        {"name": "viewport", "content": "width=device-width, initial-scale=1"},
    ) in page.tags


def test_charts_are_svg_bar_charts_with_axes_and_legends(data: ReportData) -> None:
    html = render_report(data)
    page = parse(html)
    svgs = [a for t, a in page.tags if t == "svg"]
    assert len(svgs) == 2
    bars = [a for t, a in page.tags if t == "rect" and a.get("class") == "bar"]
    market, category = data.charts
    assert len(bars) == len(market.bars) + len(category.bars)
    assert sum(1 for t, a in page.tags if t == "line" and a.get("class") == "axis") == 4
    assert [name for _, name in market.legend] == ["TH", "VN", "MM"]
    assert market.total == 7  # the chart counts the same hits as the numbers
    assert any("TH: 3" in (b.label) for b in market.bars)


def test_a_stacked_chart_puts_groups_beyond_the_palette_into_other() -> None:
    days = [f"2026-11-{d:02d}" for d in range(1, 4)]
    rows = [TrendRow(f"g{i}", [i, 0, 1], i + 1, 0.5, 1) for i in range(10, 0, -1)]
    chart = report.stacked_chart(Trends("watchlist", days, rows), "t", max_groups=3)
    assert [name for _, name in chart.legend] == ["g10", "g9", "g8", "other"]
    assert chart.total == sum(r.total for r in rows)
    tallest = min(b.y for b in chart.bars)
    assert tallest >= chart.top  # no bar leaves the plot
    assert [t.label for t in chart.y_ticks] == ["0", "20", "40", "60", "80", "100"]


def test_write_report_is_atomic_and_utf8(data: ReportData, tmp_path: Path) -> None:
    target = tmp_path / "digest.html"
    write_report(data, target)
    html = target.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "Cảnh báo quảng cáo lừa đảo đầu tư" in html
    assert sorted(
        p.name for p in tmp_path.iterdir() if p.suffix != ".db" and "db" not in p.name
    ) == ["digest.html"]


# --- in a real browser ---------------------------------------------------------------


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture
def chromium() -> str:
    browser = find_chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("CI needs Chromium for the report test (apt-get install chromium)")
        pytest.skip("no Chromium found (CI installs it; see .ci/run)")
    return browser


def run_chromium(browser: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            browser, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--no-first-run",
            "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr", "--v=0", *args,
        ],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.browser
def test_the_report_renders_in_headless_chromium(
    data: ReportData, tmp_path: Path, chromium: str
) -> None:
    page = tmp_path / "digest.html"
    write_report(data, page)
    dom = run_chromium(chromium, tmp_path, "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    rendered = dom.stdout
    # The charts are in the rendered DOM, bars and all.
    assert rendered.count("<svg") == 2
    assert len(re.findall(r'<rect class="bar"', rendered)) == sum(len(c.bars) for c in data.charts)
    # The hostile title stayed text: the browser built no script or img element from it,
    # and the onerror handler never ran (it would have renamed the page).
    assert "<script" not in rendered and "<img" not in rendered
    assert "pwned" not in re.search(r"<title>(.*?)</title>", rendered, re.S).group(1)  # type: ignore[union-attr]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered
    # No script errors and nothing blocked by the page's CSP (nothing tried to load).
    log = dom.stderr
    assert "Uncaught" not in log and "Content Security Policy" not in log, log[-2000:]
    assert "CONSOLE" not in log, log[-2000:]

    shot = tmp_path / "phone.png"
    taken = run_chromium(
        chromium, tmp_path, f"--screenshot={shot}", "--window-size=412,1600", page.as_uri()
    )
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000


def test_report_period_defaults_to_the_last_day(store_at: str) -> None:
    path = store_at
    fill_store(path)
    with open_store(path, create=False) as store:
        data = build_report(store, make_filters(), now=NOW + timedelta(minutes=1))
    assert data.total_hits == 3  # the hits of the last 24 hours
    assert len(data.charts[0].x_ticks) >= 7 and data.charts[0].x_ticks[-1].label == NOW.strftime(
        "%m-%d"
    )
