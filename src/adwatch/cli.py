"""The `adwatch` command line: parse options, call the library, render.

This is the only module that exits. Errors of ours (AdwatchError) become one line
on stderr and their exit code; anything else is a bug: one line, exit 1, and the
traceback with --debug.
"""

from __future__ import annotations

import contextlib
import copy as _copy
import errno
import gc
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from adwatch import __version__
from adwatch.errors import AdwatchError
from adwatch.text.untrusted import terminal_line as clean
from adwatch.text.wording import counted

if TYPE_CHECKING:
    from adwatch.models import Filters

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
# Bounds of numeric options: past them a value is a typo, and SQLite's integers or
# Python's dates would overflow (an internal error, not an answer).
SHOWN_ALERTS = 10  # alert lines a scan prints; a first scan of a backlog raises many
MAX_LIMIT = 1_000_000_000
MAX_DAYS = 36_600  # a hundred years of daily counts
MAX_ID = 2**63 - 1  # SQLite's largest integer


class _AdwatchGroup(TyperGroup):
    """Turns our errors into one line and an exit code, whichever command raised them."""

    def invoke(self, ctx: Any) -> Any:  # typer vendors click: its Context class is private
        try:
            return super().invoke(ctx)
        except AdwatchError as exc:
            _fail(_as_options(exc), exc.exit_code)
        except (typer.Exit, typer.Abort, typer.TyperException):
            # usage errors and exits are typer's to report (exit 2, 0, 1)
            raise
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except BrokenPipeError:
            # The reader went away (`| head`): stop quietly with 1, as click and rich do.
            _silence_stdout()
            raise typer.Exit(1) from None
        except Exception as exc:
            if (message := _stdout_failure(exc)) is not None:
                _silence_stdout()
                _fail(message, 1)
            if ctx.obj is not None and ctx.obj.debug:
                raise
            from adwatch.urls import redact_urls

            _fail(
                f"internal error: {type(exc).__name__}: {redact_urls(str(exc))} (this is a bug; "
                "run with --debug for the traceback)",
                1,
            )


app = typer.Typer(
    cls=_AdwatchGroup,
    context_settings=CONTEXT_SETTINGS,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
    help="Watch Thai, Vietnamese, Burmese and English news for advertising and "
    "monetization risk: scan sources, match watchlists, triage and report hits.",
)


@dataclass
class State:
    config: Path | None
    db: str | None
    debug: bool
    # The config as `_config` read it (or why it could not): read once per run.
    loaded: Any = None


def stderr_console() -> Any:
    """rich's console on stderr, imported when something is printed there."""
    from adwatch.render import stderr_console as console

    return console()


def _fail(message: str, code: int) -> NoReturn:
    stderr_console().print(f"adwatch: {clean(message)}", markup=False)
    raise typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"adwatch {__version__}")
        raise typer.Exit()


@app.callback()
def _global_options(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            envvar="ADWATCH_CONFIG",
            help="feeds.yaml to use [default: ./feeds.yaml].",
            show_default=False,
        ),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="ADWATCH_DB",
            metavar="PATH|URL",
            help="Store to use: a SQLite file or postgresql://… [default: `store` in the config].",
            show_default=False,
        ),
    ] = None,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of an unexpected error.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    ctx.obj = State(config=config, db=db, debug=debug)


def _state(ctx: typer.Context) -> State:
    state = ctx.obj
    assert isinstance(state, State)
    return state


def _config(ctx: typer.Context) -> Any:
    """The config of --config / $ADWATCH_CONFIG, its store overridden by --db /
    $ADWATCH_DB; read and checked once however many parts of a command ask for it
    (a ConfigError is raised again each time it is asked for)."""
    from adwatch.config import load_config
    from adwatch.errors import ConfigError

    state = _state(ctx)
    if state.loaded is None:
        try:
            state.loaded = load_config(state.config, db=state.db)
        except ConfigError as exc:
            state.loaded = exc
    if isinstance(state.loaded, ConfigError):
        raise state.loaded
    return state.loaded


def _readable_config(ctx: typer.Context) -> Any:
    """The config, or None when there is no readable one (a query command run with --db)."""
    from adwatch.errors import ConfigError

    try:
        return _config(ctx)
    except ConfigError:
        return None


# --- setup ------------------------------------------------------------------------------


@app.command()
def init(
    ctx: typer.Context,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write the default feeds.yaml: real sources for TH, VN and MM and starter watchlists."""
    state = _state(ctx)
    target = state.config or Path("feeds.yaml")
    if target.exists() and not force:
        _fail(f"{target}: already exists (use --force to overwrite it)", 2)
    shipped = resources.files("adwatch") / "data" / "feeds.yaml"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with shipped.open("rb") as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
    except OSError as exc:
        _fail(f"{target}: cannot write: {exc.strerror}", 1)
    typer.echo(f"Wrote {target}. Next: `adwatch check`, then `adwatch scan`.")


@app.command()
def demo(
    ctx: typer.Context,
    folder: Annotated[
        Path,
        typer.Option(
            "--dir",
            help="Folder for the demo's feeds.yaml, sample site and demo.db "
            "[default: ./adwatch-demo].",
            show_default=False,
        ),
    ] = Path("adwatch-demo"),
) -> None:
    """Scan a sample site shipped with adwatch (no network) and show what to try next.

    Three invented outlets in Thai, Vietnamese, Burmese and English go through the
    real scan, with the starter watchlists, into demo.db in --dir. Your own --config
    and --db are not used. Running it again adds nothing twice.
    """
    import os
    import shlex

    from adwatch.demo import DEMO_EVENT, run_demo
    from adwatch.render import stdout_console
    from adwatch.render_scan import ScanReporter, describe_outcome, describe_summary

    console = stdout_console()
    with ScanReporter(console, live=False, verbose=True) as shown:
        result = run_demo(folder, on_event=shown)
    console.print(describe_summary(result.scan), markup=False)

    def shown_path(path: Path) -> str:
        relative = os.path.relpath(path)
        return shlex.quote(path.as_posix() if relative.startswith("..") else relative)

    languages = ", ".join(f"{lang} {n}" for lang, n in sorted(result.hits_by_language.items()))
    look_alikes = [o for o in result.articles if o.article.look_alike]
    hit = sum(1 for o in look_alikes if o.watchlists)
    console.print(
        f"\n{shown_path(result.store_path)}: {len(result.articles)} sample articles from "
        f"{len(result.scan.outcomes)} invented outlets, {result.hits} hits ({languages}); "
        + (
            f"{hit} of the {len(look_alikes)} harmless look-alikes among them have hits."
            if hit
            else f"none of the {len(look_alikes)} harmless look-alikes among them has a hit."
        ),
        markup=False,
        soft_wrap=True,
    )
    if result.scan.alerts:
        from adwatch.render_scan import describe_alert

        console.print(
            f"\nThe scan raised {len(result.scan.alerts)} alerts; with `alerts: targets:` in "
            "feeds.yaml they are delivered to a webhook or by e-mail (docs/alerts.md):",
            markup=False,
            soft_wrap=True,
        )
        for alert in result.scan.alerts[:3]:
            console.print(f"  {describe_alert(alert)}", markup=False, soft_wrap=True)
    # Named outright, so that $ADWATCH_CONFIG and $ADWATCH_DB do not point them elsewhere.
    prefix = f"adwatch -c {shown_path(result.config_path)}"
    if _state(ctx).db is not None:
        prefix += f" --db {shown_path(result.store_path)}"
    report = shown_path(result.folder / "report.html")
    tries = [
        "hits --group-by article",
        f"show {result.featured_hit}" if result.featured_hit is not None else None,
        f"show {result.semantic_hit}" if result.semantic_hit is not None else None,
        "stories",
        f"hits --event {DEMO_EVENT}",
        "trends --measure tone",
        f"search {shlex.quote(result.search)}",
        f"pivot {shlex.quote(result.pivot)}" if result.pivot else None,
        "indicators --min-articles 2",
        f"evidence --hit {result.featured_hit} -o {shown_path(result.folder / 'evidence.warc.gz')}"
        if result.featured_hit is not None
        else None,
        f"report --since {result.first_found[:10]} -o {report}" if result.first_found else None,
    ]
    console.print("\nTry next:", markup=False)
    for command in filter(None, tries):
        console.print(f"  {prefix} {command}", markup=False, soft_wrap=True)
    errors = stderr_console()
    for outcome in result.unexpected:
        errors.print(
            f"adwatch: demo: {outcome.article.page}: expected {list(outcome.article.expect)}, "
            f"got {list(outcome.watchlists)}",
            markup=False,
        )
    for failed in result.scan.failed:
        errors.print(f"adwatch: source {describe_outcome(failed)}", markup=False)
    if result.scan.failed:
        raise typer.Exit(3)


@app.command()
def check(
    ctx: typer.Context,
    online: Annotated[
        bool,
        typer.Option(
            "--online", help="Also fetch every source and report its status, type and entries."
        ),
    ] = False,
) -> None:
    """Validate feeds.yaml (and with --online, probe every source without storing)."""
    from adwatch.urls import redact_urls

    config = _config(ctx)
    for warning in config.warnings:
        stderr_console().print(f"adwatch: warning: {clean(warning)}", markup=False)
    terms = sum(len(w.all_terms()) for w in config.watchlists)
    queries = sum(1 for w in config.watchlists if w.query)
    described = sum(len(w.semantic.descriptions) for w in config.watchlists if w.semantic)
    semantic = f", {described} semantic descriptions" if described else ""
    extras = [
        f"{len(items)} {noun}{'s' if len(items) != 1 else ''}"
        for items, noun in ((config.alerts.targets, "alert target"), (config.events, "event"))
        if items
    ]
    typer.echo(
        f"{config.path}: OK: {len(config.sources)} sources in {len(config.markets)} markets, "
        f"{len(config.watchlists)} watchlists ({terms} terms, {queries} queries{semantic})"
        + "".join(f", {extra}" for extra in extras)
        + f"; store {redact_urls(str(config.store))}"
    )
    if online:
        _check_online(config)


def _check_online(config: Any) -> None:
    from adwatch.pipeline import probe_sources
    from adwatch.render import stdout_console
    from adwatch.render_scan import render_probe_table

    probes = probe_sources(config)
    stdout_console().print(render_probe_table(probes))
    failed = [p for p in probes if not p.ok]
    if failed:
        _fail(f"{len(failed)} of {len(probes)} sources failed", 3)


# --- the scan ------------------------------------------------------------------------


@app.command()
def scan(
    ctx: typer.Context,
    market: Annotated[
        list[str] | None, typer.Option("--market", "-m", help="Only sources of this market.")
    ] = None,
    source: Annotated[
        list[str] | None, typer.Option("--source", "-s", help="Only this source (repeatable).")
    ] = None,
    no_articles: Annotated[
        bool,
        typer.Option("--no-articles", help="Match feed titles and summaries only; fetch no pages."),
    ] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the run summary as JSON.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print nothing unless a source failed.")
    ] = False,
) -> None:
    """Fetch every source, extract articles, match watchlists and store the hits.

    Exit 0 when every source was fine, 3 when one or more failed or an alert target
    did not take its alerts (each named on stderr), 75 when another scan holds the
    store's lock, 2 for a config error.
    """

    from adwatch.pipeline import run_scan

    config = _config(ctx)
    for warning in () if quiet else config.warnings:  # --quiet: silent unless a source fails
        stderr_console().print(f"adwatch: warning: {clean(warning)}", markup=False)
    scan_options: dict[str, Any] = {
        "markets": market or (),
        "sources": source or (),
        "articles": not no_articles,
    }
    if quiet or json_output:
        # Nothing to show while it runs: cron's quiet re-run never imports rich.
        summary = run_scan(config, **scan_options)
    else:
        from adwatch.render import stdout_console
        from adwatch.render_scan import ScanReporter, describe_summary

        console = stdout_console()
        live = console.is_terminal
        with ScanReporter(console, live=live, verbose=not live) as shown:
            summary = run_scan(config, **scan_options, on_event=shown)
        console.print(describe_summary(summary), markup=False)
    if json_output:
        typer.echo(_json(summary.as_dict(), indent=2))
    elif summary.alerts and not quiet:
        from adwatch.render_scan import describe_alert

        console = stdout_console()
        for alert in summary.alerts[:SHOWN_ALERTS]:
            console.print(describe_alert(alert), markup=False, soft_wrap=True)
        if len(summary.alerts) > SHOWN_ALERTS:
            console.print(
                f"and {len(summary.alerts) - SHOWN_ALERTS} more alerts (scan --json lists them; "
                "adwatch alerts and hits --severity critical show them)",
                markup=False,
            )
    if summary.failed or summary.targets_failed:
        from adwatch.render_scan import describe_outcome, describe_target_failure

        errors = stderr_console()
        for outcome in summary.failed:
            errors.print(f"adwatch: source {describe_outcome(outcome)}", markup=False)
        for report in summary.targets_failed:
            errors.print(f"adwatch: {describe_target_failure(report)}", markup=False)
        if summary.failed:
            errors.print(
                f"adwatch: {len(summary.failed)} of {len(summary.outcomes)} sources failed "
                f"(run {summary.run_id})",
                markup=False,
            )
        raise typer.Exit(3)


@app.command()
def rematch(
    ctx: typer.Context,
    watchlist: Annotated[
        list[str] | None,
        typer.Option("--watchlist", "-w", help="Only this watchlist (repeatable)."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only articles fetched since (ISO date, or 24h, 7d)."),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Print what would be added and removed; write nothing."),
    ] = False,
) -> None:
    """Run the current watchlists over stored articles (no network) and update hits.

    Hits that no longer match are removed unless an analyst triaged them (a status
    other than new, or a note): those are kept and reported. With --dry-run, each hit
    that would be added, removed or kept is listed and nothing is written.
    """
    from adwatch.rematch import rematch as run_rematch
    from adwatch.render import stdout_console
    from adwatch.text.dates import parse_when

    config = _config(ctx)
    known = {w.name for w in config.watchlists}
    for name in watchlist or ():
        if name not in known:
            _fail(f"--watchlist: no watchlist named {name!r} in {config.path}", 2)
    since_iso = parse_when(since, "since") if since else None
    report = run_rematch(
        config.store,
        config.watchlists,
        only=watchlist or (),
        since=since_iso,
        embeddings=config.embeddings,
        events=config.events,
        dry_run=dry_run,
    )
    console = stdout_console()
    would = "would be " if dry_run else ""
    for planned in report.planned:
        mark = {"add": "+", "remove": "-", "keep": "="}[planned.action]
        hit = f"hit {planned.hit_id}" if planned.hit_id is not None else "new hit"
        console.print(
            clean(
                f"{mark} {planned.watchlist}: {hit} in article {planned.article_id}: "
                f"{planned.matched_text!r} (term {planned.term!r})"
            ),
            markup=False,
            soft_wrap=True,
        )
    listed = len(report.planned)
    total = sum(c.added + c.removed + c.kept_triaged for c in report.changes)
    if dry_run and total > listed:
        console.print(f"... and {total - listed} more", markup=False)
    changed = [c for c in report.changes if c.added or c.removed or c.kept_triaged]
    for change in changed:
        line = (
            f"{clean(change.watchlist)}: {change.added} {would}added, "
            f"{change.removed} {would}removed"
        )
        if change.kept_triaged:
            line += f", {change.kept_triaged} triaged {would}kept although they no longer match"
        console.print(line, markup=False, soft_wrap=True)
    console.print(
        ("dry run, nothing written: " if dry_run else "")
        + f"rematched {report.articles} articles: "
        f"{sum(c.added for c in report.changes)} hits {would}added, "
        f"{sum(c.removed for c in report.changes)} {would}removed, "
        f"{sum(c.kept_triaged for c in report.changes)} triaged {would}kept"
        + ("" if changed else "; nothing changed"),
        markup=False,
        soft_wrap=True,
    )


rules_app = typer.Typer(
    name="rules",
    help="Check watchlists against their examples.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(rules_app)


@rules_app.command("test")
def rules_test(
    ctx: typer.Context,
    watchlist: Annotated[
        list[str] | None,
        typer.Option("--watchlist", "-w", help="Only this watchlist (repeatable)."),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also print each example that passed.")
    ] = False,
) -> None:
    """Check every watchlist's `examples:` (match, no_match) as a scan would match them.

    Each failure is one line: file, line, field, what happened. Exit 0 when all pass,
    1 when one fails (for your own CI), 2 for a config error.
    """
    from adwatch.rule_tests import run_examples

    config = _config(ctx)
    results = run_examples(config.watchlists, only=watchlist or ())
    console = _render().stdout_console()
    for result in results:
        if result.passed and not verbose:
            continue
        console.print(_describe_example(config.path, result), markup=False, soft_wrap=True)
    failed = [r for r in results if not r.passed]
    tested = len({r.watchlist for r in results})
    if not results:
        console.print(
            f"{config.path}: no watchlist has examples "
            "(examples: {match: [...], no_match: [...]}; docs/matching.md)",
            markup=False,
            soft_wrap=True,
        )
        return
    console.print(
        f"{len(results)} example{'s' if len(results) != 1 else ''} in {tested} "
        f"watchlist{'s' if tested != 1 else ''}: "
        f"{len(results) - len(failed)} passed, {len(failed)} failed",
        markup=False,
    )
    if failed:
        raise typer.Exit(1)


def _describe_example(path: Path, result: Any) -> str:
    example = result.example
    text = example.text if len(example.text) <= 80 else example.text[:79] + "…"
    where = f"{path}:{example.line}: {example.label}"
    if result.passed:
        outcome = "ok"
    elif result.should_match:
        outcome = f"FAILED: did not match (language {result.language or 'unknown'})"
    else:
        first = result.hits[0]
        outcome = f"FAILED: matched {first.matched_text!r} (term {first.term!r})"
    return clean(f"{where}: {outcome}: {text!r}")


@app.command()
def restory(
    ctx: typer.Context,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only articles seen since (ISO date, or 24h, 7d)."),
    ] = None,
) -> None:
    """Put stored articles into stories again with the current rules (no network).

    The scan puts each new article into a story; run this after changing the story
    settings, or once after upgrading a store whose articles predate stories.
    """
    from datetime import timedelta

    from adwatch.storying import restory as run_restory
    from adwatch.text.dates import parse_when

    config = _config(ctx)
    since_iso = parse_when(since, "since") if since else None
    report = run_restory(
        config.store,
        config.watchlists,
        config.embeddings,
        since=since_iso,
        window=timedelta(hours=config.stories.window_hours),
    )
    typer.echo(f"put {report.articles} articles into {report.stories} stories")


@app.command()
def calibrate(
    ctx: typer.Context,
    show_only: Annotated[
        bool, typer.Option("--show", help="Show the thresholds in use; change nothing.")
    ] = False,
    min_articles: Annotated[
        int,
        typer.Option(
            "--min-articles",
            min=50,
            max=1_000_000,
            help="Hit-free articles a language needs to use the store's own background.",
        ),
    ] = 500,
) -> None:
    """Set semantic thresholds on this store's own articles instead of the shipped news.

    For each language with enough stored articles that no watchlist hit, the newest
    5000 become the background each description's threshold is set on (a description
    fires on about 0.5 % of it). Run it once a few weeks of scans are stored, and
    again after changing sources. Prints the thresholds now in use.
    """
    from adwatch.embedding import calibrate as run_calibrate
    from adwatch.embedding import semantic_settings
    from adwatch.models import DETECTED_LANGUAGES
    from adwatch.semantic.score import POOLED
    from adwatch.semantic.stage import SemanticStage
    from adwatch.store import open_store

    config = _config(ctx)
    semantic = [w for w in config.watchlists if w.semantic]
    if not semantic:
        _fail(f"no watchlist in {config.path} has semantic descriptions: nothing to calibrate", 2)
    with open_store(config.store, create=False) as store:
        if not show_only:
            for done in run_calibrate(
                store, config.embeddings, DETECTED_LANGUAGES, minimum=min_articles
            ):
                verdict = (
                    "the store's own background from now on"
                    if done.used
                    else f"fewer than {min_articles}: the shipped background stays"
                )
                typer.echo(f"{done.language}: {done.articles} hit-free articles, {verdict}")
        settings = semantic_settings(config.watchlists, config.embeddings, store)
    if settings is None:
        _fail("embeddings are disabled in the config (embeddings: {enabled: false})", 2)
    index = SemanticStage(settings).index
    typer.echo(f"thresholds set on: {index.origin}")
    languages = [language for language in DETECTED_LANGUAGES if language in index.means]
    typer.echo("\t".join(["watchlist", "description", *languages, "other"]))
    for entry in index.watchlists:
        for i, label in enumerate(entry.labels):
            values = [f"{entry.thresholds[key][i]:.3f}" for key in [*languages, POOLED]]
            typer.echo("\t".join([clean(entry.name), clean(label), *values]))


@app.command()
def migrate(
    source: Annotated[
        str,
        typer.Option(
            "--from", metavar="<store>", help="Store to copy: a SQLite file, or any store URL."
        ),
    ],
    target: Annotated[
        str,
        typer.Option(
            "--to",
            metavar="<store>",
            help="Store to copy into, e.g. postgresql://…; created or upgraded first.",
        ),
    ],
) -> None:
    """Copy every table of a store into another (ids kept), e.g. SQLite into PostgreSQL.

    Rows the target has already are skipped, so running it again copies only what is
    new. Prints the rows copied per table.
    """
    from adwatch.migrate import migrate_store
    from adwatch.render import stdout_console
    from adwatch.store import open_store

    with open_store(source, create=False) as source_store, open_store(target) as target_store:
        copies = migrate_store(source_store, target_store)
    console = stdout_console()
    for copy in copies:
        line = f"{copy.table}: {copy.copied} copied"
        if copy.already_there:
            line += f", {copy.already_there} already there"
        console.print(line, markup=False, soft_wrap=True)
    console.print(
        f"copied {sum(c.copied for c in copies)} rows from {clean(source_store.location)} "
        f"to {clean(target_store.location)}",
        markup=False,
        soft_wrap=True,
    )


# --- the analyst's queries (issue #5) ------------------------------------------------


# Shared by every query command: typer reads these annotations when a command is
# registered, so they are defined above the commands.
SinceOpt = Annotated[
    str | None,
    typer.Option(
        "--since", help="Only hits found since: ISO date or time, or an age (90m, 24h, 7d, 2w)."
    ),
]
UntilOpt = Annotated[
    str | None,
    typer.Option("--until", help="Only hits found until (a bare date includes that whole day)."),
]
MarketOpt = Annotated[
    list[str] | None, typer.Option("--market", "-m", help="Market code, e.g. TH (repeatable).")
]
LanguageOpt = Annotated[
    list[str] | None,
    typer.Option("--language", "-l", help="Article language: th, vi, my, en (repeatable)."),
]
WatchlistOpt = Annotated[
    list[str] | None, typer.Option("--watchlist", "-w", help="Watchlist name (repeatable).")
]
CategoryOpt = Annotated[
    list[str] | None, typer.Option("--category", help="Watchlist category (repeatable).")
]
SeverityOpt = Annotated[
    list[str] | None,
    typer.Option("--severity", help="At least this severity: low, medium, high, critical."),
]
StatusOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--status", help="Triage status: new, reviewing, escalated, dismissed (repeatable)."
    ),
]
SourceOpt = Annotated[
    list[str] | None, typer.Option("--source", "-s", help="Source name (repeatable).")
]
EventOpt = Annotated[
    list[str] | None,
    typer.Option("--event", help="Hits inside this event of feeds.yaml `events:` (repeatable)."),
]
TextOpt = Annotated[
    str | None,
    typer.Option("--text", help="Full-text search over the article (see `adwatch search`)."),
]
LimitOpt = Annotated[
    int,
    typer.Option("--limit", "-n", min=0, max=MAX_LIMIT, help="Show at most this many (0: all)."),
]


@app.command()
def hits(
    ctx: typer.Context,
    since: SinceOpt = None,
    until: UntilOpt = None,
    market: MarketOpt = None,
    language: LanguageOpt = None,
    watchlist: WatchlistOpt = None,
    category: CategoryOpt = None,
    severity: SeverityOpt = None,
    status: StatusOpt = None,
    source: SourceOpt = None,
    event: EventOpt = None,
    text: TextOpt = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="table, csv, json or jsonl.")
    ] = "table",
    limit: LimitOpt = 50,
    group_by: Annotated[
        str | None,
        typer.Option(
            "--group-by",
            help="`article`: one row per article with its watchlists; "
            "`story`: each story with its hits under it.",
        ),
    ] = None,
) -> None:
    """List hits, newest first, with the shared filters."""
    from adwatch import export as exporter
    from adwatch import query

    filters = _filters(
        since=since,
        until=until,
        market=market,
        language=language,
        watchlist=watchlist,
        category=category,
        severity=severity,
        status=status,
        source=source,
        event=event,
        text=text,
    )
    fmt = _choice(fmt, ("table", *exporter.FORMATS), "--format")
    if group_by is not None:
        group_by = _choice(group_by, ("article", "story"), "--group-by")
    with _query_store(ctx, filters) as store:
        if group_by == "story":
            stories = query.list_story_hits(store, filters, limit=limit)
            if fmt == "table":
                _print_table(
                    lambda width: _render().render_story_groups(stories, width=width),
                    len(stories),
                    limit,
                    "stories",
                    first="widest",
                )
            else:
                _write_dicts([s.as_dict() for s in stories], fmt)
        elif group_by:
            groups = query.list_articles_with_hits(store, filters, limit=limit)
            if fmt == "table":
                _print_table(
                    lambda width: _render().render_article_groups(groups, width=width),
                    len(groups),
                    limit,
                    "articles",
                )
            else:
                _write_dicts([g.as_dict() for g in groups], fmt)
        elif fmt == "table":
            found = query.list_hits(store, filters, limit=limit)
            _print_table(
                lambda width: _render().render_hits_table(found, width=width),
                len(found),
                limit,
                "hits",
            )
        else:
            exporter.export_hits(store, filters, fmt=fmt, limit=limit)


@app.command()
def show(
    ctx: typer.Context,
    hit_id: Annotated[int, typer.Argument(min=1, max=MAX_ID, help="Hit id.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
) -> None:
    """Show one hit with its article, highlighted match and triage history."""

    from adwatch import query

    fmt = _choice(fmt, ("table", "json"), "--format")
    with _query_store(ctx) as store:
        detail = query.get_hit(store, hit_id)
        if detail.hit.score is not None:
            detail = _explained(ctx, store, detail)
    if fmt == "json":
        typer.echo(_json(detail.as_dict(), indent=2))
        return
    render = _render()
    render.stdout_console().print(render.render_hit_detail(detail))


def _explained(ctx: typer.Context, store: Any, detail: Any) -> Any:
    """A semantic hit with its threshold, when the config can be read (else as stored)."""
    from adwatch import query
    from adwatch.models import EmbeddingSettings

    try:
        config = _config(ctx)
    except AdwatchError:
        return query.explain_semantic(detail, store, [], EmbeddingSettings(enabled=False))
    return query.explain_semantic(detail, store, config.watchlists, config.embeddings)


@app.command()
def alerts(
    ctx: typer.Context,
    days: Annotated[
        int,
        typer.Option(
            "--days", min=1, max=366, help="Test each of the last N days (UTC), today included."
        ),
    ] = 1,
    market: MarketOpt = None,
    watchlist: WatchlistOpt = None,
    count: Annotated[
        str,
        typer.Option(
            "--count", help="Count `articles` with a hit (default) or `stories` with a hit."
        ),
    ] = "articles",
    show_all: Annotated[
        bool, typer.Option("--all", help="Also the days tested and not flagged, with why not.")
    ] = False,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
    test: Annotated[
        bool,
        typer.Option(
            "--test", help="Send one test message to each alert target; show each answer."
        ),
    ] = False,
) -> None:
    """List emerging risks: a watchlist's day in a market that stands out from its baseline.

    Each watchlist x market's count is tested against its own last 28 days (a gap of
    2 days, the 3 highest dropped), per article scanned in that market, with a
    negative-binomial test: flagged at p < 0.001 and 3 or more (docs/alerts.md).
    Exit 3 with --test when a target did not take the message.
    """
    from adwatch import alerting

    fmt = _choice(fmt, ("table", "json"), "--format")
    count = _choice(count, alerting.SPIKE_UNITS, "--count")
    if test:
        _alerts_test(ctx, fmt)
        return
    filters = _filters(market=market, watchlist=watchlist)
    with _query_store(ctx, filters) as store:
        risks = alerting.emerging_risks(
            store,
            days=days,
            unit=count,
            markets=filters.markets,
            watchlists=filters.watchlists,
            flagged_only=not show_all,
        )
        states = store.delivery_states() if fmt == "table" else []
    if fmt == "json":
        typer.echo(_json([{**r.alert.as_dict(), "flagged": r.flagged} for r in risks], indent=2))
        return
    console = _render().stdout_console()
    if not risks:
        console.print(
            f"No emerging risk in the last {days} day{'s' if days > 1 else ''}.", markup=False
        )
    else:
        console.print(_render().render_risks(risks, width=console.width))
    for state in states:
        console.print(_render().describe_delivery_state(state), markup=False, style="dim")


def _alerts_test(ctx: typer.Context, fmt: str) -> None:
    from adwatch.alerting import send_tests

    config = _config(ctx)
    if not config.alerts.targets:
        _fail(f"no alert targets in {config.path} (alerts: targets:)", 2)
    results = send_tests(config.alerts)
    if fmt == "json":
        typer.echo(
            _json(
                [
                    {"target": r.name, "description": r.description, "ok": r.outcome.ok,
                     "answer": r.outcome.answer}
                    for r in results
                ],
                indent=2,
            )
        )  # fmt: skip
    else:
        console = _render().stdout_console()
        for r in results:
            verdict = "ok" if r.outcome.ok else "FAILED"
            console.print(
                clean(f"{r.description}: {verdict}: {r.outcome.answer}"),
                markup=False,
                style="" if r.outcome.ok else "red",
            )
    failed = [r for r in results if not r.outcome.ok]
    if failed:
        _fail(f"{len(failed)} of {len(results)} alert targets did not take the test message", 3)


@app.command()
def stories(
    ctx: typer.Context,
    since: SinceOpt = None,
    until: UntilOpt = None,
    market: MarketOpt = None,
    language: LanguageOpt = None,
    watchlist: WatchlistOpt = None,
    category: CategoryOpt = None,
    severity: SeverityOpt = None,
    status: StatusOpt = None,
    source: SourceOpt = None,
    text: TextOpt = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="table, json, jsonl or csv.")
    ] = "table",
    limit: LimitOpt = 50,
) -> None:
    """List stories with hits: one incident however many outlets and languages reported it.

    The widest stories (most outlets, then articles) come first, then the newest.
    `hits` and `watchlists` count only the hits the filters select; `adwatch story
    ID` shows a story's articles and hits.
    """
    from adwatch import query

    filters = _filters(
        since=since,
        until=until,
        market=market,
        language=language,
        watchlist=watchlist,
        category=category,
        severity=severity,
        status=status,
        source=source,
        text=text,
    )
    fmt = _choice(fmt, ("table", "json", "jsonl", "csv"), "--format")
    with _query_store(ctx, filters) as store:
        found = query.list_stories(store, filters, limit=limit)
    if fmt == "table":
        _print_table(
            lambda width: _render().render_stories(found, width=width),
            len(found),
            limit,
            "stories",
            first="widest",
        )
    elif fmt == "csv" and not found:
        _write_csv_header(STORY_COLUMNS)
    else:
        _write_dicts([story.as_dict() for story in found], fmt)


# Columns of `stories --format csv`, so that no match still writes its header.
STORY_COLUMNS = (
    "id", "first_seen", "last_seen", "title", "language", "markets", "articles", "sources",
    "languages", "hits", "watchlists",
)  # fmt: skip


def _write_csv_header(columns: tuple[str, ...]) -> None:
    from adwatch import export as exporter

    with exporter.open_output(None) as out:
        exporter.write_csv([], out, columns=columns)


@app.command()
def story(
    ctx: typer.Context,
    story_id: Annotated[int, typer.Argument(min=1, max=MAX_ID, help="Story id.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
) -> None:
    """Show one story: when and where it was seen, its articles and their hits."""
    from adwatch import query

    fmt = _choice(fmt, ("table", "json"), "--format")
    with _query_store(ctx) as store:
        detail = query.get_story(store, story_id)
    if fmt == "json":
        typer.echo(_json(detail.as_dict(), indent=2))
        return
    render = _render()
    render.stdout_console().print(render.render_story_detail(detail))


@app.command()
def evidence(
    ctx: typer.Context,
    item_id: Annotated[
        int, typer.Argument(min=1, max=MAX_ID, help="Article id (or hit id, story id).")
    ],
    output: Annotated[
        str,
        typer.Option("--output", "-o", help="The WARC file to write (name it .warc.gz)."),
    ],
    hit: Annotated[bool, typer.Option("--hit", help="ITEM_ID is a hit id: its article.")] = False,
    story: Annotated[
        bool, typer.Option("--story", help="ITEM_ID is a story id: all its articles.")
    ] = False,
) -> None:
    """Write the pages kept as served of an article (or a hit's article, or a story's
    articles) as one standalone WARC file, each page checked against its SHA-256."""
    from adwatch.evidence import write_evidence
    from adwatch.store import evidence_folder

    if hit and story:
        _fail("--hit and --story: give at most one", 2)
    config = _config(ctx)
    with _query_store(ctx) as store:
        if story:
            article_ids = [a.id for a in store.story_articles(item_id)]
            if not article_ids:
                _fail(f"no story {item_id}", 2)
        elif hit:
            record = store.hit_record(item_id)
            if record is None:
                _fail(f"no hit {item_id}", 2)
            article_ids = [record.hit.article_id]
        else:
            article_ids = [item_id]
        written = write_evidence(
            store, evidence_folder(config.store, config.evidence), article_ids, output
        )
    message = f"wrote {clean(output)}: {written.pages} page{'s' if written.pages != 1 else ''}"
    if written.missing:
        message += f"; no page kept for article {', '.join(map(str, written.missing))}"
    stderr_console().print(f"adwatch: {message}", markup=False)


@app.command()
def pivot(
    ctx: typer.Context,
    value: Annotated[
        str,
        typer.Argument(
            help="A phone (local or +66...), @lineid, a t.me / wa.me / line.me link, a URL or "
            "domain (defanged too), a wallet or an e-mail."
        ),
    ],
    market: Annotated[
        str | None,
        typer.Option("--market", "-m", help="Read a local phone number as this market's."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
    limit: LimitOpt = 200,
) -> None:
    """List every article (and its story) that mentions an indicator, newest first."""
    from adwatch.indicators import parse_pivot

    fmt = _choice(fmt, ("table", "json"), "--format")
    try:
        pairs = parse_pivot(value, default_region=market.upper() if market else None)
    except ValueError as exc:
        _fail(f"pivot: {clean(str(exc))}", 2)
    with _query_store(ctx) as store:
        found = store.pivot(pairs, limit=limit)
    if fmt == "json":
        typer.echo(_json([row.as_dict() for row in found], indent=2))
        return
    looked_for = ", ".join(f"{kind} {val}" for kind, val in pairs)
    console = _render().stdout_console()
    console.print(clean(f"looked for {looked_for}"), markup=False, style="dim", soft_wrap=True)
    _print_table(
        lambda width: _render().render_pivot(found, width=width),
        len(found),
        limit,
        "articles",
    )


@app.command()
def indicators(
    ctx: typer.Context,
    kind: Annotated[
        list[str] | None,
        typer.Option(
            "--kind",
            "-k",
            help="phone, line_id, telegram, whatsapp, wallet, domain or email (repeatable).",
        ),
    ] = None,
    market: MarketOpt = None,
    since: SinceOpt = None,
    min_articles: Annotated[
        int,
        typer.Option("--min-articles", min=1, max=MAX_LIMIT, help="Seen in at least N articles."),
    ] = 2,
    min_stories: Annotated[
        int,
        typer.Option(
            "--min-stories", min=1, max=MAX_LIMIT, help="Seen in at least N stories (incidents)."
        ),
    ] = 1,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
    limit: LimitOpt = 50,
) -> None:
    """List indicator values (phones, LINE ids, wallets, domains ...) seen in several
    articles, newest first: the thread between incidents."""
    from adwatch.indicators import KINDS

    fmt = _choice(fmt, ("table", "json"), "--format")
    kinds = tuple(_choice(k.strip().lower(), tuple(KINDS), "--kind") for k in kind or ())
    filters = _filters(since=since, market=market)
    with _query_store(ctx, filters) as store:
        found = store.indicator_summaries(
            kinds=kinds,
            markets=filters.markets,
            since=filters.since,
            min_articles=min_articles,
            min_stories=min_stories,
            limit=limit,
        )
    if fmt == "json":
        typer.echo(_json([row.as_dict() for row in found], indent=2))
        return
    _print_table(
        lambda width: _render().render_indicators(found, width=width),
        len(found),
        limit,
        "indicators",
    )


@app.command()
def triage(
    ctx: typer.Context,
    hit_ids: Annotated[
        list[int] | None,
        typer.Argument(min=1, max=MAX_ID, help="Hit ids.", show_default=False),
    ] = None,
    status: Annotated[
        str,
        typer.Option(
            "--status",
            help="New status: new, reviewing, escalated or dismissed.",
            show_default=False,
        ),
    ] = "",
    note: Annotated[
        str | None, typer.Option("--note", help="A note, kept in the hit's triage history.")
    ] = None,
    from_query: Annotated[
        bool,
        typer.Option("--from-query", help="Change every hit the filters select, not listed ids."),
    ] = False,
    story_id: Annotated[
        int | None,
        typer.Option(
            "--story", min=1, max=MAX_ID, help="Change every hit of this story, not listed ids."
        ),
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask before changing --from-query hits.")
    ] = False,
    since: SinceOpt = None,
    until: UntilOpt = None,
    market: MarketOpt = None,
    language: LanguageOpt = None,
    watchlist: WatchlistOpt = None,
    category: CategoryOpt = None,
    severity: SeverityOpt = None,
    current_status: Annotated[
        list[str] | None,
        typer.Option(
            "--current-status",
            help="With --from-query: only hits now in this status (repeatable).",
        ),
    ] = None,
    source: SourceOpt = None,
    text: TextOpt = None,
) -> None:
    """Set the triage status (and a note) of hits: listed ids, a --story, or --from-query.

    Every change is appended to the triage log with the OS user and the time;
    `adwatch show ID` prints the history.
    """
    from adwatch import query
    from adwatch.errors import UsageError

    if not status:
        raise UsageError("--status: required (new, reviewing, escalated or dismissed)")
    filters = _filters(
        since=since,
        until=until,
        market=market,
        language=language,
        watchlist=watchlist,
        category=category,
        severity=severity,
        source=source,
        text=text,
        status=current_status,
    )
    if story_id is not None and (hit_ids or from_query or not filters.is_empty()):
        raise UsageError("--story: give a story, hit ids or --from-query with filters, not two")
    if from_query and hit_ids:
        raise UsageError("give hit ids or --from-query with filters, not both")
    if not from_query and not filters.is_empty():
        raise UsageError("filters select hits only with --from-query")
    if from_query and filters.is_empty():
        raise UsageError("--from-query: give at least one filter (e.g. --source NAME)")
    if not from_query and not hit_ids and story_id is None:
        raise UsageError("give one or more hit ids, --story ID, or --from-query with filters")
    with _query_store(ctx, filters) as store:
        ids = list(hit_ids or ())
        if story_id is not None:
            ids = query.story_hit_ids(store, story_id)
        if from_query:
            ids = query.hit_ids(store, filters)
            if not ids:
                typer.echo("No hits match; nothing changed.")
                return
            if not yes:
                typer.confirm(f"Set {counted(len(ids), 'hit')} to {status!r}?", abort=True)
        changes = query.triage_hits(store, ids, status=status, note=note)
    for change in changes[:20]:
        noted = " (note added)" if change.note else ""
        typer.echo(f"hit {change.hit_id}: {change.old_status} → {change.new_status}{noted}")
    if len(changes) > 20:
        typer.echo(f"… and {len(changes) - 20} more")
    unchanged = len(set(ids)) - len(changes)
    tail = f", {unchanged} already {status}" if unchanged else ""
    typer.echo(f"{counted(len(changes), 'hit')} changed{tail}.")


@app.command()
def export(
    ctx: typer.Context,
    since: SinceOpt = None,
    until: UntilOpt = None,
    market: MarketOpt = None,
    language: LanguageOpt = None,
    watchlist: WatchlistOpt = None,
    category: CategoryOpt = None,
    severity: SeverityOpt = None,
    status: StatusOpt = None,
    source: SourceOpt = None,
    event: EventOpt = None,
    text: TextOpt = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv, jsonl or json.")] = "csv",
    output: Annotated[
        str, typer.Option("--output", "-o", help="File to write (atomically), or - for stdout.")
    ] = "-",
) -> None:
    """Export hits as CSV (UTF-8 with BOM, Excel-safe), JSON or JSON Lines.

    Streams: memory stays flat however many hits match. A file is written under
    a temporary name and renamed at the end, so it is never left half-written.
    """
    from adwatch import export as exporter

    filters = _filters(
        since=since,
        until=until,
        market=market,
        language=language,
        watchlist=watchlist,
        category=category,
        severity=severity,
        status=status,
        source=source,
        event=event,
        text=text,
    )
    fmt = _choice(fmt, exporter.FORMATS, "--format")
    with _query_store(ctx, filters) as store:
        count = exporter.export_hits(store, filters, fmt=fmt, output=output)
    if output != "-":
        stderr_console().print(f"wrote {counted(count, 'hit')} to {clean(output)}", markup=False)


@app.command()
def search(
    ctx: typer.Context,
    query_text: Annotated[str, typer.Argument(metavar="QUERY", help="What to look for.")],
    fts: Annotated[
        bool,
        typer.Option("--fts", help="QUERY is raw FTS5 syntax for the trigram index, unverified."),
    ] = False,
    since: Annotated[
        str | None, typer.Option("--since", help="Only articles fetched since (24h, 7d, a date).")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Only articles fetched until.")
    ] = None,
    market: MarketOpt = None,
    language: LanguageOpt = None,
    watchlist: Annotated[
        list[str] | None,
        typer.Option("--watchlist", "-w", help="Only articles with a hit of this watchlist."),
    ] = None,
    category: CategoryOpt = None,
    severity: SeverityOpt = None,
    status: StatusOpt = None,
    source: SourceOpt = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, json or jsonl.")] = "table",
    limit: LimitOpt = 50,
) -> None:
    """Full-text search over stored articles (Thai and Burmese included), newest first.

    QUERY uses the watchlist language and its matching: AND, OR, NOT, (…),
    "phrases", word*; whole words, Thai words and Burmese syllables. Plain words
    are one phrase. Without diacritics Vietnamese matches with or without them
    (ngo doc finds ngộ độc); with them it stays exact.
    """

    from adwatch import query

    filters = _filters(
        since=since,
        until=until,
        market=market,
        language=language,
        watchlist=watchlist,
        category=category,
        severity=severity,
        status=status,
        source=source,
    )
    fmt = _choice(fmt, ("table", "json", "jsonl"), "--format")
    with _query_store(ctx, filters) as store:
        results = query.search_articles(store, query_text, filters, fts=fts, limit=limit)
    if fmt == "table":
        _print_table(
            lambda _: _render().render_search_results(results), len(results), limit, "articles"
        )
    elif fmt == "jsonl":
        for result in results:
            typer.echo(_json(result.as_dict()))
    else:
        _write_dicts([r.as_dict() for r in results], "json")


@app.command()
def sources(
    ctx: typer.Context,
    days: Annotated[
        int,
        typer.Option(
            "--days", min=1, max=MAX_DAYS, help="Count articles and hits of the last N days."
        ),
    ] = 7,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
) -> None:
    """List configured sources with their health from the store and recent yield.

    `fails` is the current streak of consecutive failed scans; `last ok` says
    since when a failing source has given nothing.
    """
    from adwatch import query
    from adwatch.errors import NoStoreYet
    from adwatch.store import open_store

    fmt = _choice(fmt, ("table", "json"), "--format")
    config = _config(ctx)
    try:
        opened = open_store(config.store, create=False)
    except NoStoreYet:
        opened = None
    if opened is not None:
        with opened as store:
            health = query.source_health(store, config.sources, days=days)
    else:
        health = query.source_health(None, config.sources, days=days)
    if fmt == "json":
        _write_dicts([h.as_dict() for h in health], "json")
        return
    render = _render()
    console = render.stdout_console()
    console.print(render.render_sources(health, days=days, width=console.width))


@app.command()
def trends(
    ctx: typer.Context,
    by: Annotated[
        str, typer.Option("--by", help="Group by market, category, watchlist or source.")
    ] = "market",
    days: Annotated[
        int,
        typer.Option("--days", min=1, max=MAX_DAYS, help="Number of UTC days, today last."),
    ] = 14,
    market: MarketOpt = None,
    language: LanguageOpt = None,
    watchlist: WatchlistOpt = None,
    category: CategoryOpt = None,
    severity: SeverityOpt = None,
    status: StatusOpt = None,
    source: SourceOpt = None,
    text: TextOpt = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, json or csv.")] = "table",
    measure: Annotated[
        str,
        typer.Option("--measure", help="hits, or tone: the mean tone of the articles with hits."),
    ] = "hits",
    count: Annotated[
        str,
        typer.Option("--count", help="hits, or stories: the stories with a hit found that day."),
    ] = "hits",
) -> None:
    """Hits per day per market, category, watchlist or source, with sparklines.

    `change` compares the last day with the mean of the days before it, so a
    spike stands out. `--count stories` counts each story once a day however many
    outlets and hits it had. `--measure tone` shows instead how critical the
    coverage is: the mean tone (-1 critical .. +1 favourable) of the articles with hits.
    """

    from adwatch import export as exporter
    from adwatch import query

    filters = _filters(
        market=market,
        language=language,
        watchlist=watchlist,
        category=category,
        severity=severity,
        status=status,
        source=source,
        text=text,
    )
    fmt = _choice(fmt, ("table", "json", "csv"), "--format")
    measure = _choice(measure, query.TREND_MEASURES, "--measure")
    count = _choice(count, query.TREND_COUNTS, "--count")
    if measure == "tone" and count != "hits":
        from adwatch.errors import UsageError

        raise UsageError("--count stories: not with --measure tone (tone is a mean over articles)")
    if measure == "tone":
        with _query_store(ctx, filters) as store:
            tones = query.tone_trends(store, by=by, days=days, filters=filters)
        _print_tone_trends(tones, by=by, days=days, fmt=fmt)
        return
    with _query_store(ctx, filters) as store:
        result = query.hit_trends(store, by=by, days=days, filters=filters, count=count)
    if fmt == "json":
        typer.echo(_json(result.as_dict(), indent=2))
    elif fmt == "csv":
        columns = [by, *result.days, "total", "mean", "last", "change_pct"]
        rows = (
            [
                row.group,
                *row.counts,
                row.total,
                round(row.mean, 2),
                row.last,
                None if row.change is None else round(row.change, 1),
            ]
            for row in result.rows
        )
        with exporter.open_output(None) as out:
            exporter.write_csv(rows, out, columns=columns)
    else:
        render = _render()
        if not result.rows:
            typer.echo(f"No {count} in the last {days} days.")
            return
        render.stdout_console().print(render.render_trends(result))


def _print_tone_trends(result: Any, *, by: str, days: int, fmt: str) -> None:
    """`trends --measure tone` as a table, JSON or CSV (one column per day's mean)."""
    from adwatch import query

    if fmt == "json":
        typer.echo(_json(result.as_dict(), indent=2))
    elif fmt == "csv":
        from adwatch import export as exporter

        columns = [by, *result.days, "mean", "last", "articles"]
        rows = (
            [
                row.group,
                *(_two_places(mean) for mean in row.means),
                _two_places(row.mean),
                _two_places(row.last),
                row.articles,
            ]
            for row in result.rows
        )
        with exporter.open_output(None) as out:
            exporter.write_csv(rows, out, columns=columns)
    elif not result.rows:
        typer.echo(
            f"No toned articles in the last {days} days: tone needs embeddings (docs/semantic.md)."
        )
    else:
        render = _render()
        render.stdout_console().print(render.render_tone_trends(result, query.tone_note()))


def _two_places(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


@app.command()
def report(
    ctx: typer.Context,
    since: Annotated[
        str, typer.Option("--since", help="Start of the period: an age (24h, 7d) or a date.")
    ] = "24h",
    until: UntilOpt = None,
    market: MarketOpt = None,
    language: LanguageOpt = None,
    watchlist: WatchlistOpt = None,
    category: CategoryOpt = None,
    severity: SeverityOpt = None,
    status: StatusOpt = None,
    source: SourceOpt = None,
    text: TextOpt = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="HTML file to write [default: adwatch-report-DATE.html]; - for stdout.",
        ),
    ] = None,
) -> None:
    """Write a self-contained HTML digest of a period, with charts, that opens offline.

    At the top the period's numbers (hits, stories, articles), then its biggest
    stories (outlets, languages, first seen), hits per day per market and per
    category, the tone of coverage per market, the escalated and critical hits
    with their snippets and links, watchlists and sources that started to fire,
    and failing sources.
    """
    from adwatch import report as reporting
    from adwatch.text.dates import utc_now

    filters = _filters(
        since=since,
        until=until,
        market=market,
        language=language,
        watchlist=watchlist,
        category=category,
        severity=severity,
        status=status,
        source=source,
        text=text,
    )
    target = output or f"adwatch-report-{utc_now()[:10]}.html"
    with _query_store(ctx, filters) as store:
        data = reporting.build_report(store, filters, events=_configured_events(ctx))
        reporting.write_report(data, target)
    if target != "-":
        stderr_console().print(
            f"wrote {clean(target)}: {data.total_hits} hits, {data.period_label}", markup=False
        )


# --- helpers of the query commands --------------------------------------------------------


def _render() -> Any:
    """adwatch.render, imported when a command draws a table (it pulls in rich.table)."""
    from adwatch import render

    return render


def _filters(
    *,
    since: str | None = None,
    until: str | None = None,
    market: list[str] | None = None,
    language: list[str] | None = None,
    watchlist: list[str] | None = None,
    category: list[str] | None = None,
    severity: list[str] | None = None,
    status: list[str] | None = None,
    source: list[str] | None = None,
    event: list[str] | None = None,
    text: str | None = None,
) -> Filters:
    """The shared filter options of a query command as a `Filters`: the one place they
    turn into one, typed, so a renamed option is a type error, not a silent no-filter."""
    from adwatch import query

    return query.make_filters(
        since=since,
        until=until,
        market=market,
        language=language,
        watchlist=watchlist,
        category=category,
        severity=severity,
        status=status,
        source=source,
        event=event,
        text=text,
    )


# Library errors name the value at fault by its field; the options that set them.
_OPTION_OF_FIELD = {
    "since": "--since",
    "until": "--until",
    "market": "--market",
    "language": "--language",
    "watchlist": "--watchlist",
    "category": "--category",
    "severity": "--severity",
    "status": "--status",
    "source": "--source",
    "event": "--event",
    "text": "--text",
    "note": "--note",
    "format": "--format",
    "output": "--output",
    "by": "--by",
    "count": "--count",
    "days": "--days",
    "limit": "--limit",
    "store": "--db",
}


def _as_options(exc: AdwatchError) -> str:
    """The error's one line, with the field it names written as the option that sets it."""
    option = _OPTION_OF_FIELD.get(exc.field or "")
    if option is None:
        return str(exc)
    from adwatch.urls import redact_urls

    return redact_urls(f"{option}: {exc.detail}")


def _query_store(ctx: typer.Context, filters: Any = None) -> Any:
    """The store the query commands read: --db / $ADWATCH_DB, else the config's `store`.

    Names in `filters` (markets, languages, watchlists, sources, categories) must be
    known to the store or the config: a typo is a usage error, not "No hits match."
    """
    from adwatch import query
    from adwatch.config import store_override
    from adwatch.store import open_store

    # --db / $ADWATCH_DB name the store without the config: it need not be readable.
    store = open_store(store_override(_state(ctx).db) or _config(ctx).store, create=False)
    if filters is not None:
        try:
            query.check_filter_names(store, filters, lambda: _configured_names(ctx))
        except BaseException:
            store.close()
            raise
    return store


def _configured_events(ctx: typer.Context) -> tuple[Any, ...]:
    """The config's events, for the report's sections; none without a readable config."""
    config = _readable_config(ctx)
    return config.events if config is not None else ()


def _configured_names(ctx: typer.Context) -> dict[str, set[str]]:
    """Names the config defines, when there is a readable config; else none."""
    config = _readable_config(ctx)
    if config is None:
        return {}
    return {
        "markets": set(config.markets),
        "languages": {lang for m in config.markets.values() for lang in m.languages},
        "watchlists": {w.name for w in config.watchlists},
        "sources": {s.name for s in config.sources},
        "categories": {w.category for w in config.watchlists},
        "events": {e.name for e in config.events},
    }


def _choice(value: str, allowed: tuple[str, ...], option: str) -> str:
    from adwatch.errors import UsageError

    folded = value.strip().lower()
    if folded not in allowed:
        raise UsageError(f"{option}: expected one of {', '.join(allowed)}, got {value!r}")
    return folded


def _print_table(build: Any, shown: int, limit: int, noun: str, *, first: str = "newest") -> None:
    """Print the table `build(terminal width)` makes, or say that nothing matched."""
    console = _render().stdout_console()
    if not shown:
        console.print(f"No {noun} match.", markup=False)
        return
    console.print(build(console.width))
    if limit and shown >= limit:
        console.print(
            f"{shown} {first} {noun} shown; --limit N for more, --limit 0 for all.",
            markup=False,
            style="dim",
        )


def _write_dicts(rows: list[dict[str, Any]], fmt: str) -> None:

    if fmt == "json":
        typer.echo(_json(rows, indent=2))
    elif fmt == "jsonl":
        for row in rows:
            typer.echo(_json(row))
    else:
        from adwatch import export as exporter

        columns = list(rows[0]) if rows else []
        with exporter.open_output(None) as out:
            exporter.write_rows(
                ([_cell(v) for v in row.values()] for row in rows), out, "csv", columns=columns
            )


def _json(value: Any, *, indent: int | None = None) -> str:
    """`value` as JSON for stdout: text from the web loses control and bidi characters."""
    import json

    from adwatch.text.untrusted import safe_value

    return json.dumps(safe_value(value), ensure_ascii=False, indent=indent)


def _cell(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return value


# A write to stdout failed for want of room or of a working device.
_OUTPUT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO})


def _stdout_failure(exc: BaseException) -> str | None:
    """The one line for a write to stdout that failed, None when `exc` is something else."""
    # Writes to a named file fail with its name; the library reports those itself.
    if isinstance(exc, OSError) and exc.errno in _OUTPUT_ERRNOS and exc.filename is None:
        return f"cannot write to stdout: {exc.strerror}"
    return None


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the flush at exit cannot fail a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real stdout (an embedding app, a test runner)
        pass


# Global options that take a value: what follows them is not the command's name.
_VALUED_GLOBALS = ("-c", "--config", "--db")


def _app_for(argv: Sequence[str]) -> typer.Typer:
    """The app with only the command being run registered.

    typer builds the parser of every command at each start (about 20 ms for the 20 of
    them), which a cron re-run pays for nothing; the command run, its options, its help
    and its errors are the same. Without a known command name (no arguments, --help, a
    typo), the whole app, so that its help and its "no such command" list them all.
    """
    name = None
    words = iter(argv)
    for word in words:
        if word in _VALUED_GLOBALS:
            next(words, None)
        elif not word.startswith("-"):
            name = word
            break
    chosen = [c for c in app.registered_commands if _command_name(c) == name]
    if len(chosen) != 1:
        return app
    narrow = _copy.copy(app)
    narrow.registered_commands = chosen
    return narrow


def _command_name(info: Any) -> str:
    return str(info.name or info.callback.__name__.replace("_", "-"))


def main() -> None:
    """Console entry point.

    stdout can also fail outside a command (--help, --version) and at the last flush,
    which Python would otherwise report at exit with a warning and status 120.
    """
    try:
        try:
            _app_for(sys.argv[1:])(prog_name="adwatch")
        finally:
            sys.stdout.flush()
            # The interpreter's last collections at exit would walk every object the
            # imports made (25-30 ms of a 0.4 s cron re-run); what the command opened
            # is closed by now, so they are left to the process's end.
            gc.freeze()
    except BrokenPipeError:
        _silence_stdout()
        raise SystemExit(1) from None
    except OSError as exc:
        message = _stdout_failure(exc)
        if message is None:
            raise
        _silence_stdout()
        with contextlib.suppress(OSError):
            stderr_console().print(f"adwatch: {message}", markup=False)
        raise SystemExit(1) from None
