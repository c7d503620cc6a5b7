"""Terminal rendering with rich. Only cli.py imports this module.

Text from the web (titles, snippets, error reasons quoting a server) is untrusted:
it goes through `clean` and is passed to rich as `Text`, never as markup, so no
ANSI escape, control character or rich markup from a page reaches the terminal.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    # Types only: importing query (and the store behind it) here would slow every
    # command, `scan --quiet` from cron included.
    from adwatch.query import (
        ArticleHits,
        Context,
        Hit,
        HitDetail,
        SearchResult,
        SourceHealth,
        TrendRow,
        Trends,
    )

# C0 and C1 controls (ESC starts ANSI sequences), DEL, and the bidi overrides that
# can make a line read differently from what it is.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean(value: object) -> str:
    """`value` as text safe to show in a terminal: controls removed, tabs and newlines as spaces."""
    text = "" if value is None else str(value)
    text = text.replace("\t", " ").replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    return _UNSAFE.sub("", text)


def safe_text(value: object, style: str = "") -> Text:
    """A rich Text holding untrusted `value` literally (markup is not interpreted)."""
    return Text(clean(value), style=style)


def stdout_console() -> Console:
    return Console(highlight=False, soft_wrap=False)


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def is_terminal() -> bool:
    return sys.stdout.isatty()


# --- the analyst's views (hits, show, search, trends, sources) --------------------------

SEVERITY_STYLES = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "dim"}
STATUS_STYLES = {"new": "", "reviewing": "cyan", "escalated": "bold magenta", "dismissed": "dim"}
MATCH_STYLE = "bold black on yellow"
SPARK_BARS = "▁▂▃▄▅▆▇█"


def short_time(value: str | None) -> str:
    """`2026-11-25T10:42:07Z` as `2026-11-25 10:42` (UTC), for narrow columns."""
    return value[:16].replace("T", " ") if value else ""


def _severity(value: str) -> Text:
    return safe_text(value, SEVERITY_STYLES.get(value, ""))


def _status(value: str) -> Text:
    return safe_text(value, STATUS_STYLES.get(value, ""))


SEVERITY_SHORT = {"critical": "crit", "high": "high", "medium": "med", "low": "low"}
COMPACT_BELOW = 110  # terminal columns under which tables drop the year and abbreviate


def _found(value: str, compact: bool) -> str:
    return short_time(value)[5:] if compact else short_time(value)


def _table(width: int) -> Table:
    return Table(
        expand=True,
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        header_style="bold",
        collapse_padding=width < COMPACT_BELOW,  # one space between columns, not two
    )


def render_hits_table(hits: Sequence[Hit], *, width: int = 120) -> Table:
    """Hits as one line each, fitted to `width` columns; dismissed hits dimmed.

    Below COMPACT_BELOW columns the found time drops its year and severities are
    abbreviated, so the title keeps room on an 80-column terminal.
    """
    compact = width < COMPACT_BELOW
    table = _table(width)
    table.add_column("id", justify="right", no_wrap=True)
    table.add_column("found (UTC)", no_wrap=True)
    table.add_column("mkt", no_wrap=True)
    table.add_column("ln" if compact else "lang", no_wrap=True)
    table.add_column("sev" if compact else "severity", no_wrap=True)
    table.add_column(
        "watchlist", no_wrap=True, overflow="ellipsis", max_width=14 if compact else 26
    )
    table.add_column("title", no_wrap=True, overflow="ellipsis", ratio=3, min_width=12)
    table.add_column("matched", no_wrap=True, overflow="ellipsis", ratio=1, min_width=6)
    for hit in hits:
        severity = SEVERITY_SHORT.get(hit.severity, hit.severity) if compact else hit.severity
        table.add_row(
            safe_text(hit.id, STATUS_STYLES.get(hit.status, "")),
            _found(hit.found_at, compact),
            safe_text(hit.market),
            safe_text(hit.language or ""),
            safe_text(severity, SEVERITY_STYLES.get(hit.severity, "")),
            safe_text(hit.watchlist),
            safe_text(hit.title),
            safe_text(hit.matched_text, "bold"),
            style="dim" if hit.status == "dismissed" else None,
        )
    return table


def render_article_groups(groups: Sequence[ArticleHits], *, width: int = 120) -> Table:
    """One line per article: its newest hit, highest severity and every watchlist."""
    compact = width < COMPACT_BELOW
    table = _table(width)
    table.add_column("article", justify="right", no_wrap=True)
    table.add_column("found (UTC)", no_wrap=True)
    table.add_column("mkt", no_wrap=True)
    table.add_column("ln" if compact else "lang", no_wrap=True)
    table.add_column("sev" if compact else "severity", no_wrap=True)
    table.add_column("hits", justify="right", no_wrap=True)
    table.add_column("watchlists", no_wrap=True, overflow="ellipsis", ratio=2, min_width=10)
    table.add_column("title", no_wrap=True, overflow="ellipsis", ratio=3, min_width=12)
    for group in groups:
        severity = SEVERITY_SHORT.get(group.severity, group.severity) if compact else group.severity
        table.add_row(
            str(group.article_id),
            _found(group.found_at, compact),
            safe_text(group.market),
            safe_text(group.language or ""),
            safe_text(severity, SEVERITY_STYLES.get(group.severity, "")),
            str(len(group.hit_ids)),
            safe_text(", ".join(group.watchlists)),
            safe_text(group.title),
        )
    return table


def highlighted(context: Context) -> Text:
    """The context with its match highlighted; every part is untrusted text."""
    text = safe_text(context.before)
    text.append_text(safe_text(context.match, MATCH_STYLE))
    text.append_text(safe_text(context.after))
    return text


def render_hit_detail(detail: HitDetail) -> Group:
    """The `show` view: the article, the highlighted match, other hits, triage history."""
    hit = detail.hit
    head = Text()
    head.append_text(safe_text(f"hit {hit.id}", "bold"))
    head.append("  ")
    head.append_text(_severity(hit.severity))
    head.append("  ")
    head.append_text(safe_text(f"{hit.watchlist} ({hit.category})"))
    head.append("  status: ")
    head.append_text(_status(hit.status))
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column(overflow="fold")
    facts.add_row("title", safe_text(hit.title, "bold"))
    facts.add_row("source", safe_text(f"{hit.source or ''} · market {hit.market}"))
    facts.add_row("url", safe_text(hit.url))
    facts.add_row("language", safe_text(hit.language or "unknown"))
    facts.add_row("published", safe_text(hit.published_at or "unknown"))
    facts.add_row("found", safe_text(hit.found_at))
    facts.add_row("term", safe_text(hit.term))
    if hit.note:
        facts.add_row("note", safe_text(hit.note))
    parts: list[RenderableType] = [
        head,
        facts,
        Panel(highlighted(detail.context), title="match in context", title_align="left"),
    ]
    if detail.other_hits:
        others = Table(box=box.SIMPLE_HEAD, pad_edge=False, title="other hits of this article",
                       title_justify="left", header_style="bold")  # fmt: skip
        for column in ("id", "watchlist", "severity", "matched", "status"):
            others.add_column(column, overflow="fold")
        for other in detail.other_hits:
            others.add_row(
                str(other.id),
                safe_text(other.watchlist),
                _severity(other.severity),
                safe_text(other.matched_text, "bold"),
                _status(other.status),
            )
        parts.append(others)
    history = Table(box=box.SIMPLE_HEAD, pad_edge=False, title="triage history",
                    title_justify="left", header_style="bold")  # fmt: skip
    for column in ("when (UTC)", "who", "change", "note"):
        history.add_column(column, overflow="fold")
    for entry in detail.history:
        change = Text()
        change.append_text(_status(entry.old_status or "?"))
        change.append(" → ")
        change.append_text(_status(entry.new_status))
        history.add_row(
            short_time(entry.at), safe_text(entry.who), change, safe_text(entry.note or "")
        )
    if not detail.history:
        history.add_row("", "", Text("no changes yet", "dim"), "")
    parts.append(history)
    return Group(*parts)


def render_search_results(results: Sequence[SearchResult]) -> Table:
    """Articles found: title, then the first match in context, highlighted."""
    table = Table(expand=True, box=box.SIMPLE_HEAD, pad_edge=False, header_style="bold")
    table.add_column("article", justify="right", no_wrap=True)
    table.add_column("published", no_wrap=True)
    table.add_column("mkt", no_wrap=True)
    table.add_column("lang", no_wrap=True)
    table.add_column("hits", justify="right", no_wrap=True)
    table.add_column("title / match", ratio=1, overflow="fold")
    for result in results:
        cell = safe_text(result.title, "bold")
        cell.append("\n")
        cell.append_text(highlighted(result.context))
        table.add_row(
            str(result.article_id),
            short_time(result.published_at or result.fetched_at)[:10],
            safe_text(result.market),
            safe_text(result.language or ""),
            str(result.hits),
            cell,
        )
    return table


def sparkline(counts: Sequence[int]) -> str:
    """One block character per count, scaled to the largest; zero is the lowest bar."""
    top = max(counts, default=0)
    if top <= 0:
        return SPARK_BARS[0] * len(counts)
    last = len(SPARK_BARS) - 1
    return "".join(
        SPARK_BARS[0] if n <= 0 else SPARK_BARS[max(1, round(n / top * last))] for n in counts
    )


def describe_change(row: TrendRow) -> Text:
    """The last day against the mean of the days before; a doubling or more stands out."""
    change = row.change
    if change is None:
        return Text("new", "bold red") if row.last else Text("–", "dim")
    style = "bold red" if change >= 100 and row.last >= 3 else ("green" if change < 0 else "")
    return Text(f"{change:+.0f}%", style)


def render_trends(trends: Trends) -> Group:
    """Hits per day per group: a sparkline, totals and the last day's change."""
    first, last = (trends.days[0], trends.days[-1]) if trends.days else ("", "")
    table = Table(expand=False, box=box.SIMPLE_HEAD, pad_edge=False, header_style="bold")
    table.add_column(trends.by, no_wrap=True, overflow="ellipsis", max_width=30)
    table.add_column("per day", no_wrap=True)
    table.add_column("total", justify="right", no_wrap=True)
    table.add_column("mean/day", justify="right", no_wrap=True)
    table.add_column("last day", justify="right", no_wrap=True)
    table.add_column("change", justify="right", no_wrap=True)
    for row in trends.rows:
        table.add_row(
            safe_text(row.group or "(none)"),
            Text(sparkline(row.counts), "cyan"),
            str(row.total),
            f"{row.mean:.1f}",
            str(row.last),
            describe_change(row),
        )
    note = f"Hits per UTC day, {first} to {last}; change: the last day vs the mean before it."
    return Group(table, Text(note, "dim"))


def render_sources(health: Sequence[SourceHealth], *, days: int = 7, width: int = 120) -> Table:
    """Configured sources with their health and their recent articles and hits.

    `fails` is the current streak of failed scans. Below COMPACT_BELOW columns the
    times drop their year and the last-checked column is left out.
    """
    compact = width < COMPACT_BELOW
    table = _table(width)
    table.add_column("source", no_wrap=True, overflow="ellipsis", max_width=24)
    table.add_column("mkt", no_wrap=True)
    table.add_column("state", no_wrap=True)
    table.add_column("http", justify="right", no_wrap=True)
    table.add_column("fails", justify="right", no_wrap=True)
    table.add_column("last ok (UTC)", no_wrap=True)
    if not compact:
        table.add_column("checked (UTC)", no_wrap=True)
    table.add_column(f"art {days}d", justify="right", no_wrap=True)
    table.add_column(f"hits {days}d", justify="right", no_wrap=True)
    table.add_column("last error", overflow="ellipsis", no_wrap=True, ratio=1, min_width=10)
    styles = {"ok": "green", "failing": "bold red", "never checked": "dim"}
    for source in health:
        name = safe_text(source.name)
        if not source.configured:
            name.append(" (not configured)", "dim")
        cells: list[RenderableType] = [
            name,
            safe_text(source.market),
            Text("never" if compact and source.last_checked_at is None else source.state,
                 styles[source.state]),
            "" if source.last_status is None else str(source.last_status),
            str(source.failures) if source.failures else "",
            _found(source.last_ok_at or "", compact),
        ]  # fmt: skip
        if not compact:
            cells.append(short_time(source.last_checked_at))
        cells += [
            str(source.articles_recent),
            str(source.hits_recent),
            safe_text(source.last_error or ""),
        ]
        table.add_row(*cells)
    return table
