"""Terminal rendering with rich. Only cli.py imports this module.

Text from the web (titles, snippets, error reasons quoting a server) is untrusted:
it goes through `clean` and is passed to rich as `Text`, never as markup, so no
ANSI escape, control character or rich markup from a page reaches the terminal.

adwatch lays out its tables and boxes itself and hands rich finished lines
(`Layout`): rich measures text with tables that count a Burmese spacing vowel
sign or medial as taking no column, so rich-drawn Burmese rows ran past the
terminal's edge and wrapped. Every cell is measured, cut and padded with
`adwatch.text.width`, which counts them as terminals do, and is cut only where no
Thai cluster, Burmese syllable or letter with its marks is split.
docs/terminal.md explains the rules.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.segment import Segment
from rich.text import Text

from adwatch.text.untrusted import terminal_line
from adwatch.text.width import ELLIPSIS, display_width, truncation_end, wrap_spans
from adwatch.text.wording import counted

if TYPE_CHECKING:
    # Types only: importing query (and the store behind it) here would slow every
    # command, `scan --quiet` from cron included.
    from adwatch.alerting import RiskTest
    from adwatch.models import DeliveryState, IndicatorSummary, PivotRow, StorySummary
    from adwatch.query import (
        ArticleHits,
        Context,
        Hit,
        HitDetail,
        SearchResult,
        SourceHealth,
        StoryDetail,
        StoryHits,
        ToneTrends,
        TrendRow,
        Trends,
    )


def clean(value: object) -> str:
    """`value` as text safe to show in a terminal: controls removed, tabs and newlines as spaces."""
    return terminal_line(value)


def safe_text(value: object, style: str = "") -> Text:
    """A rich Text holding untrusted `value` literally (markup is not interpreted)."""
    return Text(clean(value), style=style)


def stdout_console() -> Console:
    return Console(highlight=False, soft_wrap=False)


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def is_terminal() -> bool:
    return sys.stdout.isatty()


# --- layout: adwatch measures, cuts and pads; rich only prints -------------------------


class Layout:
    """Lines laid out for the console's width when printed; rich neither wraps nor pads them.

    `width`, when given, is the most columns to use even on a wider console.
    """

    def __init__(self, build: Callable[[int], list[Text]], *, width: int | None = None) -> None:
        self.build = build
        self.width = width

    def lines(self, width: int) -> list[Text]:
        """The lines at `width` columns, each at most that wide."""
        width = max(1, width if self.width is None else min(self.width, width))
        return [fit_text(line, width) for line in self.build(width)]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in self.lines(options.max_width):
            yield from line.render(console)
            yield Segment.line()


def text_width(text: Text) -> int:
    return display_width(text.plain)


def fit_text(text: Text, width: int) -> Text:
    """`text` cut to `width` columns with an ellipsis, never inside a cluster or syllable."""
    end = truncation_end(text.plain, width)
    if end is None:
        return text
    if width < display_width(ELLIPSIS):
        return text[:0]
    cut = text[:end]
    cut.append(ELLIPSIS)
    return cut


def wrap_text(text: Text, width: int) -> list[Text]:
    """`text` as lines of at most `width` columns; a newline in it starts a new line."""
    lines: list[Text] = []
    for paragraph in text.split("\n", allow_blank=True):
        spans = wrap_spans(paragraph.plain, width)
        lines.extend(paragraph[start:end] for start, end in spans)
        if not spans:
            lines.append(Text())
    return lines


def _padded(text: Text, width: int, justify: str = "left") -> Text:
    padding = " " * max(0, width - text_width(text))
    if justify == "right":
        return Text(padding).append_text(text)
    return Text().append_text(text).append(padding)


@dataclass(frozen=True)
class Column:
    """How one table column takes its share of the width.

    A column with `ratio` 0 is as wide as its widest cell (up to `max_width`); the
    columns with a ratio share what is left, in proportion, down to `min_width`.
    A `wrap` column breaks long cells into lines; the others cut them with "…".
    When even the narrowest layout does not fit, columns with a `drop` rank are
    left out, the highest rank first.
    """

    header: str
    justify: Literal["left", "right"] = "left"
    ratio: int = 0
    min_width: int = 1
    max_width: int | None = None
    wrap: bool = False
    drop: int = 0


_GAP = "  "
Row = list[Text | str]


def _cell_width(cell: Text) -> int:
    return max(display_width(line) for line in cell.plain.split("\n"))


def _natural_widths(columns: Sequence[Column], rows: Sequence[Sequence[Text]]) -> list[int]:
    widths = []
    for index, column in enumerate(columns):
        width = max([display_width(column.header), *(_cell_width(row[index]) for row in rows)])
        widths.append(width if column.max_width is None else min(width, column.max_width))
    return widths


def _share(room: int, columns: Sequence[Column], natural: Sequence[int]) -> list[int]:
    """Widths for the sharing columns: `room` in proportion to their ratios.

    A column that needs less than its share takes what it needs and leaves the
    rest to the others.
    """
    widths = list(natural)
    pending = list(range(len(columns)))
    while pending:
        total = sum(columns[i].ratio for i in pending)
        settled = [i for i in pending if natural[i] * total <= room * columns[i].ratio]
        if not settled:
            break
        for i in settled:
            room -= natural[i]
            pending.remove(i)
    if pending:
        total = sum(columns[i].ratio for i in pending)
        floor = [min(natural[i], columns[i].min_width) for i in range(len(columns))]
        for i in pending:
            widths[i] = max(floor[i], room * columns[i].ratio // total)
        # A column raised to its minimum takes from the others, down to theirs.
        while sum(widths[i] for i in pending) > room:
            wider = [i for i in pending if widths[i] > floor[i]]
            if not wider:
                break
            widths[max(wider, key=lambda i: widths[i] - floor[i])] -= 1
        leftover = room - sum(widths[i] for i in pending)
        for i in pending:
            extra = min(max(0, leftover), natural[i] - widths[i])
            widths[i] += extra
            leftover -= extra
    return widths


def column_widths(
    columns: Sequence[Column], rows: Sequence[Sequence[Text]], room: int
) -> list[int]:
    """Each column's width so that together they take at most `room` columns if they can."""
    natural = _natural_widths(columns, rows)
    if sum(natural) <= room:
        return natural
    sharing = [i for i, column in enumerate(columns) if column.ratio]
    fixed = sum(w for i, w in enumerate(natural) if i not in sharing)
    shares = _share(room - fixed, [columns[i] for i in sharing], [natural[i] for i in sharing])
    widths = list(natural)
    for i, width in zip(sharing, shares, strict=True):
        widths[i] = width
    return widths


def _kept_columns(
    columns: Sequence[Column], rows: Sequence[Sequence[Text]], width: int
) -> list[int]:
    """The columns that fit `width` at their narrowest, leaving out `drop` ranks as needed."""
    natural = _natural_widths(columns, rows)
    narrowest = [
        min(n, c.min_width) if c.ratio else n for c, n in zip(columns, natural, strict=True)
    ]
    kept = list(range(len(columns)))
    while True:
        needed = 1 + sum(narrowest[i] for i in kept) + len(_GAP) * (len(kept) - 1)
        droppable = [i for i in kept if columns[i].drop]
        if needed <= width or not droppable:
            return kept
        kept.remove(max(droppable, key=lambda i: columns[i].drop))


def _row_lines(
    cells: Sequence[Text], columns: Sequence[Column], widths: Sequence[int]
) -> list[list[Text]]:
    """One row's lines, each a list of padded cells."""
    pieces = [
        wrap_text(cell, width) if column.wrap else [fit_text(cell, width)]
        for cell, column, width in zip(cells, columns, widths, strict=True)
    ]
    height = max(len(piece) for piece in pieces)
    return [
        [
            _padded(piece[line] if line < len(piece) else Text(), width, column.justify)
            for piece, column, width in zip(pieces, columns, widths, strict=True)
        ]
        for line in range(height)
    ]


def _header(columns: Sequence[Column], widths: Sequence[int]) -> list[Text]:
    return [
        _padded(fit_text(Text(c.header, "bold"), w), w, c.justify)
        for c, w in zip(columns, widths, strict=True)
    ]


def _joined(parts: Sequence[Text], separator: str, *, style: str = "") -> Text:
    line = Text()
    for index, part in enumerate(parts):
        if index:
            line.append(separator)
        line.append_text(part)
    if style:
        line.stylize(style)
    return line


def layout_table(
    columns: Sequence[Column],
    rows: Sequence[Sequence[Text | str]],
    width: int,
    *,
    row_styles: Sequence[str] = (),
) -> list[Text]:
    """A table as lines: a bold header, a rule under it, then the rows; no borders.

    Columns are two spaces apart after a one-space margin. Lines end without
    padding.
    """
    cells = [[cell if isinstance(cell, Text) else Text(cell) for cell in row] for row in rows]
    kept = _kept_columns(columns, cells, width)
    columns = [columns[i] for i in kept]
    cells = [[row[i] for i in kept] for row in cells]
    room = width - 1 - len(_GAP) * (len(columns) - 1)
    widths = column_widths(columns, cells, room)
    lines = [Text(" ").append_text(_joined(_header(columns, widths), _GAP))]
    lines.append(Text(" " + "─" * (sum(widths) + len(_GAP) * (len(columns) - 1))))
    for index, row in enumerate(cells):
        style = row_styles[index] if index < len(row_styles) else ""
        for parts in _row_lines(row, columns, widths):
            lines.append(Text(" ").append_text(_joined(parts, _GAP, style=style)))
    for line in lines:
        line.rstrip()
    return lines


def layout_boxed_table(
    columns: Sequence[Column], rows: Sequence[Sequence[Text | str]], width: int
) -> list[Text]:
    """A table as lines with a border around every cell."""
    cells = [[cell if isinstance(cell, Text) else Text(cell) for cell in row] for row in rows]
    widths = column_widths(columns, cells, width - 1 - 3 * len(columns))

    def rule(left: str, middle: str, right: str) -> Text:
        return Text(left + middle.join("─" * (w + 2) for w in widths) + right)

    def row_line(parts: Sequence[Text]) -> Text:
        return Text("│ ").append_text(_joined(parts, " │ ")).append(" │")

    lines = [rule("┌", "┬", "┐"), row_line(_header(columns, widths)), rule("├", "┼", "┤")]
    for row in cells:
        lines.extend(row_line(parts) for parts in _row_lines(row, columns, widths))
    lines.append(rule("└", "┴", "┘"))
    return lines


def layout_box(title: str, content: Text, width: int) -> list[Text]:
    """`content` wrapped inside a rounded box `width` columns wide, `title` on its top edge."""
    inner = max(1, width - 4)
    heading = fit_text(Text(f" {title} "), max(0, width - 3))
    top = Text("╭─").append_text(heading)
    top.append("─" * max(0, width - 3 - text_width(heading)) + "╮")
    lines = [top]
    for line in wrap_text(content, inner):
        lines.append(Text("│ ").append_text(_padded(line, inner)).append(" │"))
    lines.append(Text("╰" + "─" * max(0, width - 2) + "╯"))
    return lines


# --- the analyst's views (hits, show, search, trends, sources) --------------------------

SEVERITY_STYLES = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "dim"}
STATUS_STYLES = {"new": "", "reviewing": "cyan", "escalated": "bold magenta", "dismissed": "dim"}
MATCH_STYLE = "bold black on yellow"
SPARK_BARS = "▁▂▃▄▅▆▇█"
UNKNOWN_DATE = "—"


def short_time(value: str | None) -> str:
    """`2026-11-25T10:42:07Z` as `2026-11-25 10:42` (UTC), for narrow columns."""
    return value[:16].replace("T", " ") if value else ""


def _severity(value: str) -> Text:
    return safe_text(value, SEVERITY_STYLES.get(value, ""))


def _status(value: str) -> Text:
    return safe_text(value, STATUS_STYLES.get(value, ""))


SEVERITY_SHORT = {"critical": "crit", "high": "high", "medium": "med", "low": "low"}
COMPACT_BELOW = 110  # terminal columns under which tables drop the year and abbreviate
SOURCES_COMPACT_BELOW = 140  # `sources` has more fixed columns than the others


def _found(value: str, compact: bool) -> str:
    return short_time(value)[5:] if compact else short_time(value)


def _published(published_at: str | None, found_at: str, compact: bool) -> Text:
    """The article's publication day (UTC); compact tables drop the year it shares with `found_at`.

    An article whose feed and page gave no date shows UNKNOWN_DATE, never another time.
    """
    if not published_at:
        return Text(UNKNOWN_DATE, "dim")
    day = clean(published_at)[:10]
    return Text(day[5:] if compact and day[:4] == found_at[:4] else day)


def render_hits_table(hits: Sequence[Hit], *, width: int | None = None) -> Layout:
    """Hits as one line each, fitted to the console (or `width`); dismissed hits dimmed.

    `found` is when adwatch found the hit, `published` the article's own date. Below
    COMPACT_BELOW columns times drop the year (published keeps it when it differs
    from found), severities are abbreviated and the language column is left out.
    """
    return Layout(lambda w: _hits_lines(hits, w), width=width)


def _hits_lines(hits: Sequence[Hit], width: int) -> list[Text]:
    compact = width < COMPACT_BELOW
    columns = [
        Column("id", "right"),
        Column("found (UTC)"),
        Column("pub" if compact else "published"),
        Column("mkt", drop=3),
        *([] if compact else [Column("lang", drop=4)]),
        Column("sev" if compact else "severity", drop=1),
        Column("watchlist", max_width=14 if compact else 26, drop=2),
        Column("title", ratio=3, min_width=12),
        Column("matched", ratio=1, min_width=7),
    ]
    rows: list[Row] = []
    for hit in hits:
        severity = SEVERITY_SHORT.get(hit.severity, hit.severity) if compact else hit.severity
        rows.append(
            [
                safe_text(hit.id, STATUS_STYLES.get(hit.status, "")),
                _found(hit.found_at, compact),
                _published(hit.published_at, hit.found_at, compact),
                safe_text(hit.market),
                *([] if compact else [safe_text(hit.language or "")]),
                safe_text(severity, SEVERITY_STYLES.get(hit.severity, "")),
                safe_text(hit.watchlist),
                safe_text(hit.title),
                safe_text(hit.matched_text, "bold"),
            ]
        )
    styles = ["dim" if hit.status == "dismissed" else "" for hit in hits]
    return layout_table(columns, rows, width, row_styles=styles)


def render_article_groups(groups: Sequence[ArticleHits], *, width: int | None = None) -> Layout:
    """One line per article: its newest hit, its date, highest severity and every watchlist."""
    return Layout(lambda w: _group_lines(groups, w), width=width)


def _group_lines(groups: Sequence[ArticleHits], width: int) -> list[Text]:
    compact = width < COMPACT_BELOW
    columns = [
        Column("article", "right"),
        Column("found (UTC)"),
        Column("pub" if compact else "published"),
        Column("mkt", drop=4),
        *([] if compact else [Column("lang", drop=5)]),
        Column("sev" if compact else "severity", drop=2),
        Column("hits", "right", drop=3),
        Column("watchlists", ratio=2, min_width=10),
        Column("title", ratio=3, min_width=12),
    ]
    rows: list[Row] = []
    for group in groups:
        severity = SEVERITY_SHORT.get(group.severity, group.severity) if compact else group.severity
        rows.append(
            [
                str(group.article_id),
                _found(group.found_at, compact),
                _published(group.published_at, group.found_at, compact),
                safe_text(group.market),
                *([] if compact else [safe_text(group.language or "")]),
                safe_text(severity, SEVERITY_STYLES.get(group.severity, "")),
                str(len(group.hit_ids)),
                safe_text(", ".join(group.watchlists)),
                safe_text(group.title),
            ]
        )
    return layout_table(columns, rows, width)


def highlighted(context: Context) -> Text:
    """The context with its match highlighted; every part is untrusted text."""
    text = safe_text(context.before)
    text.append_text(safe_text(context.match, MATCH_STYLE))
    text.append_text(safe_text(context.after))
    return text


def render_hit_detail(detail: HitDetail) -> Layout:
    """The `show` view: the article, the highlighted match, other hits, triage history."""
    return Layout(lambda width: _detail_lines(detail, width))


def _detail_head(detail: HitDetail) -> Text:
    hit = detail.hit
    head = Text()
    head.append_text(safe_text(f"hit {hit.id}", "bold"))
    head.append("  ")
    head.append_text(_severity(hit.severity))
    head.append("  ")
    head.append_text(safe_text(f"{hit.watchlist} ({hit.category})"))
    head.append("  status: ")
    head.append_text(_status(hit.status))
    return head


def _facts(detail: HitDetail) -> list[tuple[str, Text]]:
    hit = detail.hit
    facts = [
        ("title", safe_text(hit.title, "bold")),
        ("source", safe_text(f"{hit.source or ''} · market {hit.market}")),
        ("url", safe_text(hit.url)),
        ("language", safe_text(hit.language or "unknown")),
        ("published", safe_text(hit.published_at or "unknown")),
        ("found", safe_text(hit.found_at)),
        ("term", safe_text(hit.term)),
    ]
    if hit.note:
        facts.append(("note", safe_text(hit.note)))
    return facts


def _detail_lines(detail: HitDetail, width: int) -> list[Text]:
    lines = [fit_text(_detail_head(detail), width)]
    facts = _facts(detail)
    label_width = max(len(label) for label, _ in facts)
    for label, value in facts:
        for index, part in enumerate(wrap_text(value, max(1, width - label_width - 2))):
            label_cell = Text(label if index == 0 else "", "bold")
            lines.append(_padded(label_cell, label_width).append("  ").append_text(part))
    if detail.hit.score is not None:
        lines += _semantic_lines(detail, width)
    lines += layout_box(
        "lead compared (semantic)" if detail.hit.score is not None else "match in context",
        highlighted(detail.context),
        width,
    )
    if detail.other_hits:
        lines += [Text(), Text("other hits of this article", "bold")]
        lines += _other_hits_lines(detail.other_hits, width)
        hidden = detail.other_hits_total - len(detail.other_hits)
        if hidden > 0:
            lines.append(Text(f"… and {hidden} more (hits --group-by article, or export)", "dim"))
    if detail.indicators:
        lines += [Text(), Text("indicators in this article (adwatch pivot VALUE)", "bold")]
        for item in detail.indicators:
            line = Text(f"{item.kind:<9} ", "dim").append_text(safe_text(item.value, "bold"))
            if item.raw != item.value:
                line.append_text(safe_text(f"  written {item.raw}", "dim"))
            lines.append(fit_text(line, width))
    lines += [Text(), Text("triage history", "bold")]
    lines += _history_lines(detail, width)
    return lines


def _semantic_lines(detail: HitDetail, width: int) -> list[Text]:
    """Why a semantic hit fired: its score against the description's threshold."""
    hit, reason = detail.hit, detail.semantic
    line = Text("semantic  ", "bold")
    line.append(f"score {hit.score:.3f}")
    if reason is not None and reason.threshold is not None:
        margin = (hit.score or 0.0) - reason.threshold
        language = hit.language or "unknown language"
        line.append(f" vs threshold {reason.threshold:.3f} for {language} ({margin:+.3f})")
    else:
        line.append(" (the description is no longer configured: no threshold to compare)")
    lines = wrap_text(line, width)
    if reason is not None and reason.description:
        lines += wrap_text(safe_text(f"described as: {reason.description}", "dim"), width)
    if reason is not None and reason.unlike and reason.unlike_score is not None:
        lines += wrap_text(
            safe_text(f"closest unlike ({reason.unlike_score:.3f}): {reason.unlike}", "dim"), width
        )
    if reason is not None and reason.background:
        lines += wrap_text(safe_text(f"threshold set on: {reason.background}", "dim"), width)
    return lines


def _other_hits_lines(others: Sequence[Hit], width: int) -> list[Text]:
    columns = [
        Column("id"),
        Column("watchlist", ratio=1, wrap=True),
        Column("severity"),
        Column("matched", ratio=1, wrap=True),
        Column("status"),
    ]
    rows: list[Row] = [
        [str(other.id), safe_text(other.watchlist), _severity(other.severity),
         safe_text(other.matched_text, "bold"), _status(other.status)]
        for other in others
    ]  # fmt: skip
    return layout_table(columns, rows, width)


def _history_lines(detail: HitDetail, width: int) -> list[Text]:
    columns = [
        Column("when (UTC)"),
        Column("who", ratio=1, wrap=True),
        Column("change"),
        Column("note", ratio=3, min_width=10, wrap=True),
    ]
    rows: list[Row] = []
    for entry in detail.history:
        change = _status(entry.old_status or "?")
        change.append(" → ")
        change.append_text(_status(entry.new_status))
        rows.append(
            [short_time(entry.at), safe_text(entry.who), change, safe_text(entry.note or "")]
        )
    if not detail.history:
        rows.append(["", "", Text("no changes yet", "dim"), ""])
    return layout_table(columns, rows, width)


def render_search_results(results: Sequence[SearchResult]) -> Layout:
    """Articles found: dates, then the title and the first match in context, highlighted.

    `published` is the article's own date (UNKNOWN_DATE when its feed and page gave
    none); `fetched` is when adwatch stored it. One is never shown for the other.
    """
    return Layout(lambda width: _search_lines(results, width))


def _search_lines(results: Sequence[SearchResult], width: int) -> list[Text]:
    compact = width < COMPACT_BELOW
    columns = [
        Column("article", "right"),
        Column("published"),
        Column("fetched", drop=4),
        Column("mkt", drop=3),
        Column("ln" if compact else "lang", drop=2),
        Column("hits", "right", drop=1),
        Column("title / match", ratio=1, min_width=16, wrap=True),
    ]
    rows: list[Row] = []
    for result in results:
        cell = safe_text(result.title, "bold")
        cell.append("\n")
        cell.append_text(highlighted(result.context))
        rows.append(
            [
                str(result.article_id),
                _published(result.published_at, "", False),
                safe_text(result.fetched_at[:10]),
                safe_text(result.market),
                safe_text(result.language or ""),
                str(result.hits),
                cell,
            ]
        )
    return layout_table(columns, rows, width)


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
    columns = [
        Column(trends.by, ratio=1, min_width=8, max_width=30),
        Column("per day"),
        Column("total", "right"),
        Column("mean/day", "right"),
        Column("last day", "right"),
        Column("change", "right"),
    ]
    rows: list[Row] = [
        [
            safe_text(row.group or "(none)"),
            Text(sparkline(row.counts), "cyan"),
            str(row.total),
            f"{row.mean:.1f}",
            str(row.last),
            describe_change(row),
        ]
        for row in trends.rows
    ]
    note = Text(
        f"{'Stories with a hit' if trends.count == 'stories' else 'Hits'} per UTC day, "
        f"{first} to {last}; change: the last day vs the mean before it.",
        "dim",
    )
    return Group(
        Layout(lambda width: layout_table(columns, rows, width)),
        Layout(lambda width: wrap_text(note, width)),
    )


def tone_sparkline(means: Sequence[float | None]) -> str:
    """One block character per day on a fixed scale, -1 lowest to +1 highest, so rows
    and runs compare; a day without a toned article is a blank."""
    last = len(SPARK_BARS) - 1
    return "".join(
        " " if mean is None else SPARK_BARS[round((max(-1.0, min(1.0, mean)) + 1) / 2 * last)]
        for mean in means
    )


def _tone(value: float | None) -> str:
    return "–" if value is None else f"{value:+.2f}"


def render_tone_trends(trends: ToneTrends, note: str) -> Group:
    """Mean tone per day per group: a sparkline, the period's and the last day's mean,
    the articles behind them, then what tone measures (`note`)."""
    first, last = (trends.days[0], trends.days[-1]) if trends.days else ("", "")
    columns = [
        Column(trends.by, ratio=1, min_width=8, max_width=30),
        Column("tone per day"),
        Column("mean", "right"),
        Column("last day", "right"),
        Column("articles", "right"),
    ]
    rows: list[Row] = [
        [
            safe_text(row.group or "(none)"),
            Text(tone_sparkline(row.means), "cyan"),
            _tone(row.mean),
            _tone(row.last),
            str(row.articles),
        ]
        for row in trends.rows
    ]
    lines = Text(
        f"Mean tone per UTC day of the articles with hits, {first} to {last} "
        "(a blank: no toned article that day).\n",
        "dim",
    )
    lines.append(note, "dim")
    return Group(
        Layout(lambda width: layout_table(columns, rows, width)),
        Layout(lambda width: wrap_text(lines, width)),
    )


# --- stories (stories, story ID, hits --group-by story) ---------------------------------

STORY_HITS_SHOWN = 10  # hits under each story in `hits --group-by story`'s table
STORY_DETAIL_HITS_SHOWN = 30  # hits in `story ID`'s table; its JSON has them all


def _day(value: str | None) -> str:
    return clean(value)[:10] if value else UNKNOWN_DATE


def render_stories(stories: Sequence[StorySummary], *, width: int | None = None) -> Layout:
    """One line per story: when it was seen, how wide it is, its hits and watchlists."""
    return Layout(lambda w: _stories_lines(stories, w), width=width)


def _stories_lines(stories: Sequence[StorySummary], width: int) -> list[Text]:
    # Below COMPACT_BELOW the last-seen day and the article count give their room
    # to the watchlists and the title (`story ID` has both).
    compact = width < COMPACT_BELOW
    columns = [
        Column("story", "right"),
        Column("first seen"),
        *([] if compact else [Column("last seen", drop=4)]),
        Column("mkt" if compact else "markets", drop=5),
        Column("outlets", "right"),
        *([] if compact else [Column("articles", "right", drop=3)]),
        Column("langs", "right", drop=2),
        Column("hits", "right"),
        Column("watchlists", ratio=2, min_width=10, drop=1),
        Column("title", ratio=3, min_width=12),
    ]
    rows: list[Row] = [
        [
            str(story.id),
            _day(story.first_seen),
            *([] if compact else [_day(story.last_seen)]),
            safe_text(story.markets),
            str(story.sources),
            *([] if compact else [str(story.articles)]),
            str(story.languages),
            str(story.hits),
            safe_text(", ".join(story.watchlists)),
            safe_text(story.title, "bold"),
        ]
        for story in stories
    ]
    return layout_table(columns, rows, width)


def _story_head(story: StorySummary) -> Text:
    head = safe_text(f"story {story.id}", "bold")
    head.append("  ")
    head.append_text(safe_text(story.title, "bold"))
    return head


def _story_numbers(story: StorySummary) -> Text:
    counts = ", ".join(
        counted(number, noun)
        for number, noun in (
            (story.sources, "outlet"),
            (story.articles, "article"),
            (story.languages, "language"),
            (story.hits, "hit"),
        )
    )
    seen = f"seen {_day(story.first_seen)} to {_day(story.last_seen)}"
    return Text(f"{counts} · {seen}", "dim")


def render_story_detail(detail: StoryDetail) -> Layout:
    """The `story ID` view: the story's facts, its articles, then their hits."""
    return Layout(lambda width: _story_detail_lines(detail, width))


def _story_detail_lines(detail: StoryDetail, width: int) -> list[Text]:
    story = detail.story
    lines = wrap_text(_story_head(story), width)
    facts = [
        ("first seen", safe_text(story.first_seen)),
        ("last seen", safe_text(story.last_seen)),
        ("markets", safe_text(story.markets)),
        ("outlets", safe_text(f"{story.sources} ({story.articles} articles)")),
        ("languages", safe_text(", ".join(_story_languages(detail)) or "unknown")),
        ("hits", safe_text(story.hits)),
        ("watchlists", safe_text(", ".join(story.watchlists) or "none")),
    ]
    label_width = max(len(label) for label, _ in facts)
    for label, value in facts:
        for index, part in enumerate(wrap_text(value, max(1, width - label_width - 2))):
            label_cell = Text(label if index == 0 else "", "bold")
            lines.append(_padded(label_cell, label_width).append("  ").append_text(part))
    lines += [Text(), Text("articles", "bold")]
    columns = [
        Column("article", "right"),
        Column("source", ratio=1, max_width=24, min_width=8),
        Column("lang"),
        Column("published"),
        Column("hits", "right"),
        Column("title", ratio=3, min_width=12),
    ]
    rows: list[Row] = [
        [
            str(article.id),
            safe_text(article.source),
            safe_text(article.language or ""),
            _published(article.published_at, "", False),
            str(article.hits),
            safe_text(article.title),
        ]
        for article in detail.articles
    ]
    lines += layout_table(columns, rows, width)
    lines += [Text(), Text("hits", "bold")]
    shown = detail.hits[:STORY_DETAIL_HITS_SHOWN]
    lines += _story_hits_lines(shown, width) if shown else [Text("none", "dim")]
    hidden = len(detail.hits) - len(shown)
    if hidden > 0:
        lines.append(Text(f" … and {hidden} more (--format json has them all)", "dim"))
    return lines


def _story_languages(detail: StoryDetail) -> list[str]:
    return sorted({a.language for a in detail.articles if a.language})


def _story_hits_lines(hits: Sequence[Hit], width: int) -> list[Text]:
    columns = [
        Column("id", "right"),
        Column("article", "right", drop=3),
        Column("found (UTC)", drop=4),
        Column("lang", drop=2),
        Column("severity", drop=1),
        Column("watchlist", max_width=26),
        Column("matched", ratio=1, min_width=7),
        Column("status"),
    ]
    rows: list[Row] = [
        [
            safe_text(hit.id),
            str(hit.article_id),
            short_time(hit.found_at),
            safe_text(hit.language or ""),
            _severity(hit.severity),
            safe_text(hit.watchlist),
            safe_text(hit.matched_text, "bold"),
            _status(hit.status),
        ]
        for hit in hits
    ]
    styles = ["dim" if hit.status == "dismissed" else "" for hit in hits]
    return layout_table(columns, rows, width, row_styles=styles)


def render_story_groups(groups: Sequence[StoryHits], *, width: int | None = None) -> Layout:
    """Each story as a head line (id, title, how wide) over its matching hits, the
    newest STORY_HITS_SHOWN of them."""
    return Layout(lambda w: _story_group_lines(groups, w), width=width)


def _story_group_lines(groups: Sequence[StoryHits], width: int) -> list[Text]:
    lines: list[Text] = []
    for index, group in enumerate(groups):
        if index:
            lines.append(Text())
        lines += wrap_text(_story_head(group.story), width)
        lines += wrap_text(_story_numbers(group.story), width)
        lines += _story_hits_lines(group.hits[:STORY_HITS_SHOWN], width)
        hidden = len(group.hits) - STORY_HITS_SHOWN
        if hidden > 0:
            lines.append(Text(f" … and {hidden} more (adwatch story {group.story.id})", "dim"))
    return lines


def render_sources(
    health: Sequence[SourceHealth], *, days: int = 7, width: int | None = None
) -> Layout:
    """Configured sources with their health and their recent articles and hits.

    `fails` is the current streak of failed scans. Below SOURCES_COMPACT_BELOW
    columns the times drop their year and the last-checked column is left out.
    """
    return Layout(lambda w: _sources_lines(health, days, w), width=width)


_SOURCE_STATE_STYLES = {
    "ok": "green",
    "failing": "bold red",
    "pages failing": "red",
    "never checked": "dim",
}


def _sources_lines(health: Sequence[SourceHealth], days: int, width: int) -> list[Text]:
    compact = width < SOURCES_COMPACT_BELOW
    columns = [
        Column("source", ratio=2, min_width=12, max_width=30),
        Column("mkt", drop=2),
        Column("state"),
        Column("http", "right", drop=3),
        Column("fails", "right"),
        Column("last ok (UTC)"),
        *([] if compact else [Column("checked (UTC)")]),
        Column(f"art {days}d", "right", drop=4),
        Column(f"hits {days}d", "right", drop=1),
        Column("last error", ratio=1, min_width=10),
    ]
    rows: list[Row] = []
    for source in health:
        name = safe_text(source.name)
        if not source.configured:
            name.append(" (not configured)", "dim")
        state = "never" if compact and source.last_checked_at is None else source.state
        rows.append(
            [
                name,
                safe_text(source.market),
                Text(state, _SOURCE_STATE_STYLES.get(source.state, "")),
                "" if source.last_status is None else str(source.last_status),
                str(source.failures) if source.failures else "",
                _found(source.last_ok_at or "", compact),
                *([] if compact else [short_time(source.last_checked_at)]),
                str(source.articles_recent),
                str(source.hits_recent),
                safe_text(source.last_error or ""),
            ]
        )
    return layout_table(columns, rows, width)


# --- alerts -------------------------------------------------------------------------------


def render_risks(risks: Sequence[RiskTest], *, width: int | None = None) -> Layout:
    """One line per tested day: its figures against the baseline, and why."""
    return Layout(lambda w: _risk_lines(risks, w), width=width)


def _risk_lines(risks: Sequence[RiskTest], width: int) -> list[Text]:
    columns = [
        Column("day"),
        Column("mkt"),
        Column("watchlist", ratio=1, min_width=8),
        Column("seen", "right"),
        Column("expected", "right"),
        Column("p", "right", drop=2),
        Column("scanned", "right", drop=3),
        Column("stories", drop=1),
        Column("why", ratio=3, min_width=16, wrap=True),
    ]
    rows: list[Row] = [
        [
            safe_text(risk.alert.day, "bold red" if risk.flagged else ""),
            safe_text(risk.alert.market),
            safe_text(risk.alert.watchlist),
            str(risk.alert.observed),
            f"{risk.alert.expected:.1f}",
            f"{risk.alert.p_value:.1g}",
            str(risk.alert.articles),
            safe_text(", ".join(map(str, risk.alert.stories)) or "-"),
            safe_text(risk.alert.why),
        ]
        for risk in risks
    ]
    return layout_table(columns, rows, width)


def describe_delivery_state(state: DeliveryState) -> str:
    """A target's deliveries in one line, under the `alerts` table."""
    parts = [f"{state.delivered} delivered"]
    if state.pending:
        parts.append(f"{state.pending} waiting to be retried")
    if state.failed:
        parts.append(f"{state.failed} given up")
    line = f"alert target {state.target}: " + ", ".join(parts)
    if state.last_error and (state.pending or state.failed):
        line += f" (last error: {state.last_error})"
    return clean(line)


# --- pivots -------------------------------------------------------------------------------


def render_pivot(rows: Sequence[PivotRow], *, width: int | None = None) -> Layout:
    """One line per mention: the article, its story, what it wrote."""
    return Layout(lambda w: _pivot_lines(rows, w), width=width)


def _pivot_lines(rows: Sequence[PivotRow], width: int) -> list[Text]:
    columns = [
        Column("article", "right"),
        Column("story", "right", drop=3),
        Column("fetched"),
        Column("mkt", drop=4),
        Column("source", drop=2),
        Column("written", ratio=1, min_width=8),
        Column("title", ratio=3, min_width=12),
    ]
    table_rows: list[Row] = [
        [
            str(row.article_id),
            str(row.story_id) if row.story_id is not None else "-",
            _day(row.fetched_at),
            safe_text(row.market),
            safe_text(row.source),
            safe_text(row.raw),
            safe_text(row.title, "bold"),
        ]
        for row in rows
    ]
    return layout_table(columns, table_rows, width)


def render_indicators(rows: Sequence[IndicatorSummary], *, width: int | None = None) -> Layout:
    """One line per indicator value: how widely it was seen."""
    return Layout(lambda w: _indicator_lines(rows, w), width=width)


def _indicator_lines(rows: Sequence[IndicatorSummary], width: int) -> list[Text]:
    columns = [
        Column("kind"),
        Column("value", ratio=2, min_width=10),
        Column("articles", "right"),
        Column("sources", "right", drop=2),
        Column("stories", "right", drop=1),
        Column("first seen", drop=3),
        Column("last seen"),
    ]
    table_rows: list[Row] = [
        [
            safe_text(row.kind),
            safe_text(row.value, "bold"),
            str(row.articles),
            str(row.sources),
            str(row.stories),
            _day(row.first_seen),
            _day(row.last_seen),
        ]
        for row in rows
    ]
    return layout_table(columns, table_rows, width)
