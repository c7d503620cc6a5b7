"""`adwatch demo`: a first scan that shows something, with no network.

The package ships a small sample site (`data/demo/`): three invented outlets, one per
market, with feeds and article pages in Thai, Vietnamese, Burmese and English, and a
manifest that says what each article is there to show. `run_demo` copies the site into
a folder of its own, writes a feeds.yaml there (the site's feeds as sources, the
starter watchlists of `adwatch init`, `store: demo.db`) and runs the real scan on it.
The sources are files, read through the same fetch, parse, extract, match and store
stages as any feed, so what the demo shows is what a scan does. The user's own config
and store are never read or written.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from adwatch.config import Config, load_config, parse_config
from adwatch.errors import AdwatchError, UsageError
from adwatch.pipeline import ScanEvent, ScanSummary, run_scan

DEFAULT_FOLDER = Path("adwatch-demo")
CONFIG_NAME = "feeds.yaml"
STORE_NAME = "demo.db"
# An election window around today in the demo's Thai market: its hits show `hits.event`
# and a raised severity (docs/alerts.md); the demo config is rewritten at each run.
DEMO_EVENT = "demo-th-election"
DEMO_EVENT_MARKET = "TH"
SITE_NAME = "site"
# The first line of the config the demo writes: it only ever overwrites a file that
# starts with it, never an analyst's own feeds.yaml in the same folder.
CONFIG_MARKER = "# adwatch demo config"

_TOP_LEVEL_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*:")


@dataclass(frozen=True)
class SampleSource:
    """One outlet of the sample site: its feed, relative to the site folder."""

    name: str
    feed: str
    market: str


@dataclass(frozen=True)
class SampleArticle:
    """One article page of the sample site and what it is there to show."""

    page: str  # relative to the site folder
    language: str
    shows: str
    expect: tuple[str, ...]  # watchlists that must fire; empty for a look-alike
    zawgyi: bool = False
    copy_of: str | None = None  # the page this one is a syndicated copy of

    @property
    def look_alike(self) -> bool:
        return not self.expect


@dataclass(frozen=True)
class Sample:
    """The manifest of the sample site."""

    sources: tuple[SampleSource, ...]
    articles: tuple[SampleArticle, ...]
    featured_page: str
    featured_watchlist: str
    search: str
    pivot: str  # an indicator named in two stories, for `adwatch pivot`


@dataclass(frozen=True)
class ArticleOutcome:
    """What the demo scan stored for one sample article."""

    article: SampleArticle
    url: str
    stored: bool
    watchlists: tuple[str, ...]  # the watchlists that fired, sorted
    hit_ids: tuple[int, ...]

    @property
    def as_expected(self) -> bool:
        """Stored, and every expected watchlist fired (for a look-alike: none did)."""
        if not self.stored:
            return False
        if self.article.look_alike:
            return not self.watchlists
        return set(self.article.expect) <= set(self.watchlists)


@dataclass(frozen=True)
class DemoResult:
    """What `run_demo` wrote and scanned, and what the store now holds."""

    folder: Path
    config_path: Path
    store_path: Path
    scan: ScanSummary
    articles: tuple[ArticleOutcome, ...]
    featured_hit: int | None  # a hit worth `adwatch show`
    search: str  # a search worth trying
    first_found: str | None  # found_at of the oldest hit in the store
    semantic_hit: int | None = None  # a hit found by meaning, where the keywords found none
    pivot: str = ""  # an indicator named in two stories, worth pivoting on

    @property
    def hits(self) -> int:
        return sum(len(outcome.hit_ids) for outcome in self.articles)

    @property
    def hits_by_language(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for outcome in self.articles:
            counts[outcome.article.language] += len(outcome.hit_ids)
        return dict(counts)

    @property
    def unexpected(self) -> tuple[ArticleOutcome, ...]:
        """Articles the starter watchlists got wrong: a miss or a look-alike that hit."""
        return tuple(outcome for outcome in self.articles if not outcome.as_expected)


def _data() -> Traversable:
    return resources.files("adwatch") / "data"


def load_sample() -> Sample:
    """The sample site's manifest (data/demo/manifest.yaml)."""
    raw: Any = yaml.safe_load((_data() / "demo" / "manifest.yaml").read_text(encoding="utf-8"))
    return Sample(
        sources=tuple(
            SampleSource(name=s["name"], feed=s["feed"], market=s["market"]) for s in raw["sources"]
        ),
        articles=tuple(
            SampleArticle(
                page=a["page"],
                language=a["language"],
                shows=a["shows"],
                expect=tuple(a["expect"]),
                zawgyi=bool(a.get("zawgyi", False)),
                copy_of=a.get("copy_of"),
            )
            for a in raw["articles"]
        ),
        featured_page=raw["featured"]["page"],
        pivot=raw["pivot"],
        featured_watchlist=raw["featured"]["watchlist"],
        search=raw["search"],
    )


def run_demo(
    folder: Path = DEFAULT_FOLDER,
    *,
    executor: Executor | None = None,
    on_event: Callable[[ScanEvent], None] | None = None,
) -> DemoResult:
    """Write the sample site and its config into `folder`, scan it into demo.db there.

    Running it again rewrites the site and the config and scans again: articles
    already stored are not stored twice, and triage in demo.db is kept.
    Raises UsageError when `folder` holds a feeds.yaml the demo did not write.
    """
    sample = load_sample()
    config = write_demo(folder, sample)
    summary = run_scan(config, executor=executor, on_event=on_event)
    return _describe(config, sample, summary)


def write_demo(folder: Path, sample: Sample | None = None) -> Config:
    """Copy the sample site into `folder`/site and write `folder`/feeds.yaml; return it loaded."""
    sample = sample or load_sample()
    # Absolute and without "..": stored article URLs are file:// URLs of these paths, and
    # feed links resolve against them with ".." segments removed.
    folder = Path(os.path.normpath(folder.expanduser().absolute()))
    config_path = folder / CONFIG_NAME
    _refuse_foreign_config(config_path)
    try:
        _copy_tree(_data() / "demo" / "site", folder / SITE_NAME)
        config_path.write_text(demo_config_text(sample), encoding="utf-8")
    except OSError as exc:
        raise AdwatchError(f"cannot write the demo: {exc.strerror or exc}: {folder}") from exc
    # The store is named outright so that $ADWATCH_DB never sends the demo into a real store.
    return load_config(config_path, db=folder / STORE_NAME)


def _refuse_foreign_config(path: Path) -> None:
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            first_line = handle.readline().rstrip("\r\n")
    except FileNotFoundError:
        return
    except OSError as exc:
        raise AdwatchError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from exc
    if first_line != CONFIG_MARKER:
        raise UsageError(
            f"{path}: exists and was not written by `adwatch demo`; use another folder for the demo"
        )


def _copy_tree(source: Traversable, target: Path) -> None:
    # Through importlib.resources, so the site is found however the package is installed.
    for relative, item in _files(source, PurePosixPath()):
        destination = target.joinpath(*relative.parts)
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(item.read_bytes())


def _files(
    folder: Traversable, prefix: PurePosixPath
) -> Iterator[tuple[PurePosixPath, Traversable]]:
    for item in sorted(folder.iterdir(), key=lambda i: i.name):
        if item.is_dir():
            yield from _files(item, prefix / item.name)
        else:
            yield prefix / item.name, item


def demo_config_text(sample: Sample) -> str:
    """The demo's feeds.yaml: the sample feeds as sources, the starter markets and watchlists."""
    shipped_text = (_data() / "feeds.yaml").read_text(encoding="utf-8")
    shipped = parse_config(shipped_text, Path("adwatch/data/feeds.yaml"))
    lines = [
        CONFIG_MARKER,
        "# Written by `adwatch demo`, which rewrites it each time it runs: copy it elsewhere",
        "# to experiment. The sources are the sample site in site/ (files: no network); the",
        "# watchlists are the starter ones that `adwatch init` writes.",
        "",
        "version: 1",
        f"store: {STORE_NAME}",
        "",
        "markets:",
    ]
    for market in shipped.markets.values():
        languages = ", ".join(market.languages)
        lines.append(
            f"  {market.code}: {{name: {json.dumps(market.name, ensure_ascii=False)}, "
            f"languages: [{languages}]}}"
        )
    lines += ["", "sources:"]
    for source in sample.sources:
        lines += [
            f"  - name: {source.name}",
            f"    url: {SITE_NAME}/{source.feed}",
            f"    market: {source.market}",
        ]
    today = date.today()
    lines += [
        "",
        "# A made-up election period around today, so that the demo shows events: hits in",
        "# it carry its name and one severity level more (docs/alerts.md).",
        "events:",
        f"  - {{name: {DEMO_EVENT}, market: {DEMO_EVENT_MARKET}, "
        f"start: {(today - timedelta(days=3)).isoformat()}, "
        f"end: {(today + timedelta(days=3)).isoformat()}, raise: 1}}",
        "",
    ]
    blocks = [_top_level_block(shipped_text, key) for key in ("semantic", "watchlists")]
    return "\n".join(lines) + "\n" + "\n".join(block for block in blocks if block)


def _top_level_block(text: str, key: str) -> str:
    """The lines of `key:` and everything under it, comments included, as written."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.startswith(f"{key}:")), None)
    if start is None:
        return ""
    end = next(
        (i for i in range(start + 1, len(lines)) if _TOP_LEVEL_KEY.match(lines[i])), len(lines)
    )
    return "".join(lines[start:end])


def _describe(config: Config, sample: Sample, summary: ScanSummary) -> DemoResult:
    """Read back from the store what each sample article got."""
    from adwatch import query
    from adwatch.store import open_store

    site = config.path.parent / SITE_NAME
    urls = {article.page: (site / article.page).as_uri() for article in sample.articles}
    with open_store(config.store, create=False) as store:
        stored = store.known_urls(list(urls.values()))
        hits = query.list_hits(store, query.Filters(), limit=None)
    by_url: dict[str, list[query.Hit]] = {}
    for hit in hits:
        by_url.setdefault(hit.url, []).append(hit)
    outcomes = tuple(
        ArticleOutcome(
            article=article,
            url=urls[article.page],
            stored=urls[article.page] in stored,
            watchlists=tuple(sorted({h.watchlist for h in by_url.get(urls[article.page], [])})),
            hit_ids=tuple(sorted(h.id for h in by_url.get(urls[article.page], []))),
        )
        for article in sample.articles
    )
    featured = [
        h
        for h in by_url.get(urls.get(sample.featured_page, ""), [])
        if h.watchlist == sample.featured_watchlist
    ]
    return DemoResult(
        folder=config.path.parent,
        config_path=config.path,
        store_path=Path(config.store),
        scan=summary,
        articles=outcomes,
        featured_hit=min((h.start, h.id) for h in featured)[1] if featured else None,
        semantic_hit=min((h.id for h in hits if h.score is not None), default=None),
        search=sample.search,
        pivot=sample.pivot,
        first_found=min((h.found_at for h in hits), default=None),
    )
