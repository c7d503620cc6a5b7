"""Terminal output of `scan` and `check --online`. Only cli.py imports this module.

On a terminal the scan shows a live progress bar; elsewhere (cron, a pipe) it
prints one plain line per source, so a log reads well without a TTY.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from adwatch.models import Alert, HitAlert, SpikeAlert
from adwatch.pipeline import Probe, ScanEvent, ScanSummary, SourceOutcome
from adwatch.render import Column, Layout, Row, clean, layout_boxed_table, safe_text

if TYPE_CHECKING:
    from adwatch.alerting import TargetReport


def describe_outcome(outcome: SourceOutcome) -> str:
    """One plain line for a source: what was fetched and stored, or why it failed."""
    name = clean(outcome.name)
    if not outcome.ok:
        return f"{name}: FAILED: {clean(outcome.error)}"
    if outcome.not_modified:
        return f"{name}: not modified"
    if outcome.claimed_elsewhere:
        return f"{name}: fetched by another scanner of this store"
    parts = [f"{outcome.entries} entries", f"{outcome.articles_new} new"]
    if outcome.articles_updated:
        parts.append(f"{outcome.articles_updated} updated")
    parts.append(f"{outcome.hits_new} hits")
    if outcome.pages_failed:
        parts.append(
            f"{outcome.pages_failed} of {outcome.pages} pages failed "
            f"({clean(outcome.page_error)}), kept from the feed text, retried later"
        )
    if outcome.pages_recovered:
        parts.append(f"{outcome.pages_recovered} pages fetched on retry")
    line = f"{name}: " + ", ".join(parts)
    if outcome.warning:
        line += f" (warning: {clean(outcome.warning)})"
    return line


def describe_summary(summary: ScanSummary) -> str:
    failed = len(summary.failed)
    pages = sum(o.pages for o in summary.outcomes)
    pages_failed = sum(o.pages_failed for o in summary.outcomes)
    line = (
        f"run {summary.run_id}: {summary.sources_ok} sources ok, {failed} failed; "
        f"{summary.articles_new} new articles, {summary.articles_updated} updated; "
        f"{summary.hits_new} new hits"
    )
    if pages_failed:
        line += f"; {pages_failed} of {pages} article pages failed"
    return line


def describe_alert(alert: Alert) -> str:
    """One line for an alert a scan raised, safe for a terminal."""
    if isinstance(alert, SpikeAlert):
        return clean(
            f"emerging risk: {alert.watchlist} in {alert.market} on {alert.day}: {alert.why}"
        )
    if isinstance(alert, HitAlert):
        event = f" [{alert.event}]" if alert.event else ""
        return clean(
            f"critical hit {alert.hit_id}{event}: {alert.watchlist}: {alert.title} ({alert.source})"
        )
    return clean(f"digest for {alert.day}: {alert.hits} hits, {alert.stories} stories")


def describe_target_failure(report: TargetReport) -> str:
    # Here, not at the top: adwatch.alerting is imported only by a scan that alerts.
    from adwatch.alerting import GIVE_UP_AFTER, MAX_ATTEMPTS

    kept = report.failed - report.gave_up + report.waiting
    line = f"alert target {report.description} failed: {report.answer or 'no answer'}"
    if kept:
        line += f"; {kept} alerts kept to retry on a later scan"
    if report.gave_up:
        line += (
            f"; {report.gave_up} given up after {MAX_ATTEMPTS} tries or {GIVE_UP_AFTER.days} days"
        )
    return clean(line)


class ScanReporter:
    """Receives ScanEvents and shows them: a progress bar on a terminal, lines otherwise."""

    def __init__(self, console: Console, *, live: bool, verbose: bool) -> None:
        self.console = console
        self.live = live
        self.verbose = verbose
        self.articles = 0
        self.hits = 0
        self.progress: Progress | None = None
        self.task: TaskID | None = None

    def __enter__(self) -> ScanReporter:
        if self.live:
            self.progress = Progress(
                TextColumn("[bold]scan"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("sources · {task.fields[articles]} articles · {task.fields[hits]} hits"),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task("scan", total=None, articles=0, hits=0)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.progress is not None:
            self.progress.stop()

    def __call__(self, event: ScanEvent) -> None:
        if event.kind == "article":
            self.articles += 1
            self.hits += event.hits
        if self.progress is not None and self.task is not None:
            if event.kind == "sources":
                self.progress.update(self.task, total=event.total)
            elif event.kind == "source":
                self.progress.advance(self.task)
            self.progress.update(self.task, articles=self.articles, hits=self.hits)
        outcome = event.outcome
        # Failures go to stderr once the scan ends; stdout lists what worked.
        if event.kind == "source" and outcome is not None and outcome.ok and self.verbose:
            self.console.print(safe_text(describe_outcome(outcome)), soft_wrap=True)


def render_probe_table(probes: Sequence[Probe]) -> Layout:
    """What `check --online` found per source, in a bordered table; long errors wrap."""
    columns = [
        Column("source", ratio=1, min_width=8, wrap=True),
        Column("status"),
        Column("type"),
        Column("entries", "right"),
        Column("result", ratio=3, min_width=10, wrap=True),
    ]
    rows: list[Row] = [
        [
            safe_text(probe.name),
            safe_text(probe.status if probe.status is not None else "-"),
            safe_text(probe.kind or "-"),
            safe_text(probe.entries if probe.entries is not None else "-"),
            safe_text("ok", "green") if probe.ok else safe_text(probe.error, "red"),
        ]
        for probe in probes
    ]
    title = Text("sources, probed now (nothing stored)", "italic")
    return Layout(lambda width: [title, *layout_boxed_table(columns, rows, width)])
