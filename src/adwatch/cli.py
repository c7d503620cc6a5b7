"""The `adwatch` command line: parse options, call the library, render.

This is the only module that exits. Errors of ours (AdwatchError) become one line
on stderr and their exit code; anything else is a bug: one line, exit 1, and the
traceback with --debug.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, NoReturn

import click
import typer
from typer.core import TyperGroup

from adwatch import __version__
from adwatch.errors import AdwatchError
from adwatch.render import clean, stderr_console

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class _AdwatchGroup(TyperGroup):
    """Turns our errors into one line and an exit code, whichever command raised them."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AdwatchError as exc:
            _fail(str(exc), exc.exit_code)
        except (typer.Exit, click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except Exception as exc:
            if "--debug" in sys.argv or (ctx.obj is not None and ctx.obj.debug):
                raise
            _fail(
                f"internal error: {type(exc).__name__}: {exc} (this is a bug; run with --debug "
                "for the traceback)",
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
    db: Path | None
    debug: bool


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
        Path | None,
        typer.Option(
            "--db",
            envvar="ADWATCH_DB",
            help="SQLite store to use [default: `store` in the config].",
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


def _not_built(command: str, issue: int) -> NoReturn:
    _fail(f"`{command}` is not built yet (tracked in issue #{issue})", 1)


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
    from adwatch.config import load_config

    state = _state(ctx)
    config = load_config(state.config, db=state.db)
    terms = sum(len(w.all_terms()) for w in config.watchlists)
    queries = sum(1 for w in config.watchlists if w.query)
    typer.echo(
        f"{config.path}: OK: {len(config.sources)} sources in {len(config.markets)} markets, "
        f"{len(config.watchlists)} watchlists ({terms} terms, {queries} queries); "
        f"store {config.store}"
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

    Exit 0 when every source was fine, 3 when one or more failed (each named on
    stderr), 75 when another scan holds the store's lock, 2 for a config error.
    """
    import json

    from adwatch.config import load_config
    from adwatch.pipeline import run_scan
    from adwatch.render import stdout_console
    from adwatch.render_scan import ScanReporter, describe_outcome, describe_summary

    state = _state(ctx)
    config = load_config(state.config, db=state.db)
    console = stdout_console()
    live = console.is_terminal and not quiet and not json_output
    with ScanReporter(
        console, live=live, verbose=not live and not quiet and not json_output
    ) as shown:
        summary = run_scan(
            config,
            markets=market or (),
            sources=source or (),
            articles=not no_articles,
            on_event=shown,
        )
    if json_output:
        typer.echo(json.dumps(summary.as_dict(), ensure_ascii=False, indent=2))
    elif not quiet:
        console.print(describe_summary(summary), markup=False)
    if summary.failed:
        errors = stderr_console()
        for outcome in summary.failed:
            errors.print(f"adwatch: source {describe_outcome(outcome)}", markup=False)
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
) -> None:
    """Run the current watchlists over stored articles (no network) and update hits.

    Hits that no longer match are removed unless an analyst triaged them (a status
    other than new, or a note): those are kept and reported.
    """
    from adwatch.config import load_config
    from adwatch.query import parse_when
    from adwatch.rematch import rematch as run_rematch
    from adwatch.render import stdout_console

    state = _state(ctx)
    config = load_config(state.config, db=state.db)
    known = {w.name for w in config.watchlists}
    for name in watchlist or ():
        if name not in known:
            _fail(f"--watchlist: no watchlist named {name!r} in {config.path}", 2)
    if not config.store.exists():
        _fail(f"{config.store}: no store here yet (run `adwatch scan` first)", 2)
    since_iso = parse_when(since, "--since") if since else None
    report = run_rematch(config.store, config.watchlists, only=watchlist or (), since=since_iso)
    console = stdout_console()
    console.print(f"rematched {report.articles} articles", markup=False)
    for change in report.changes:
        console.print(
            f"{clean(change.watchlist)}: +{change.added} added, -{change.removed} removed, "
            f"{change.kept_triaged} triaged kept (no longer matching)",
            markup=False,
        )


# --- the analyst's queries (issue #5) ------------------------------------------------


@app.command()
def hits(ctx: typer.Context) -> None:
    """List hits, newest first, with the shared filters."""
    _not_built("hits", 5)


@app.command()
def show(ctx: typer.Context, hit_id: Annotated[int, typer.Argument(help="Hit id.")]) -> None:
    """Show one hit with its article, highlighted match and triage history."""
    _not_built("show", 5)


@app.command()
def triage(ctx: typer.Context) -> None:
    """Set the triage status (and a note) of one or more hits."""
    _not_built("triage", 5)


@app.command()
def export(ctx: typer.Context) -> None:
    """Export hits as CSV (Excel-safe), JSON or JSON Lines."""
    _not_built("export", 5)


@app.command()
def search(ctx: typer.Context, query: Annotated[str, typer.Argument(help="Search query.")]) -> None:
    """Full-text search over stored articles (Thai and Burmese included)."""
    _not_built("search", 5)


@app.command()
def sources(ctx: typer.Context) -> None:
    """List configured sources with their health from the store."""
    _not_built("sources", 5)


@app.command()
def trends(ctx: typer.Context) -> None:
    """Hits per day per market, category, watchlist or source, with sparklines."""
    _not_built("trends", 5)


@app.command()
def report(ctx: typer.Context) -> None:
    """Write a self-contained HTML digest with charts for a period."""
    _not_built("report", 5)


def main() -> None:
    """Console entry point."""
    app(prog_name="adwatch")
