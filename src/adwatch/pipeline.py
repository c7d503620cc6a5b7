"""The scan: fetch → parse → extract → detect language → match → store.

Network waits overlap in one asyncio event loop (the Fetcher limits requests in
flight overall and per host). CPU work (feed parsing, text extraction, Zawgyi
conversion, language detection, matching) runs in a process pool sized to the
cores, so it neither blocks the loop nor stays on one core. Each article and its
hits are committed in one transaction as soon as they are ready, and a source's
ETag/Last-Modified are stored only after all its entries are, so a scan killed at
any moment loses at most the articles in flight and a re-run picks them up.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from adwatch.config import Config, Source, Watchlist
from adwatch.dates import utc_now
from adwatch.errors import AdwatchError, ExtractError, FeedError, FetchError, UsageError
from adwatch.models import Article, FeedEntry, FetchResult, Match, ParsedFeed
from adwatch.store import SavedArticle, Store, open_store, scan_lock

MAX_ENTRIES_PER_SOURCE = 200
MAX_CHILD_SITEMAPS = 5
FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"


@dataclass(frozen=True)
class SourceOutcome:
    """What scanning one source did."""

    name: str
    ok: bool
    status: int | None = None
    error: str | None = None
    entries: int = 0
    not_modified: bool = False
    articles_new: int = 0
    articles_updated: int = 0
    hits_new: int = 0
    pages_failed: int = 0
    warning: str | None = None


@dataclass(frozen=True)
class ScanEvent:
    """Progress reported while a scan runs (for a progress bar or log lines)."""

    kind: str  # "sources" (total known), "source" (one finished), "article" (one stored)
    source: str = ""
    total: int = 0
    outcome: SourceOutcome | None = None
    hits: int = 0


@dataclass(frozen=True)
class ScanSummary:
    run_id: int
    started_at: str
    finished_at: str
    outcomes: list[SourceOutcome]

    @property
    def failed(self) -> list[SourceOutcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def sources_ok(self) -> int:
        return sum(1 for o in self.outcomes if o.ok)

    @property
    def articles_new(self) -> int:
        return sum(o.articles_new for o in self.outcomes)

    @property
    def articles_updated(self) -> int:
        return sum(o.articles_updated for o in self.outcomes)

    @property
    def hits_new(self) -> int:
        return sum(o.hits_new for o in self.outcomes)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "sources_ok": self.sources_ok,
            "sources_failed": len(self.failed),
            "articles_new": self.articles_new,
            "articles_updated": self.articles_updated,
            "hits_new": self.hits_new,
            "failed": [{"source": o.name, "error": o.error} for o in self.failed],
            "sources": [o.__dict__ for o in self.outcomes],
        }


# --- CPU stages, run in worker processes ----------------------------------------------

_worker_matcher: Any = None


def _init_worker(watchlists: Sequence[Watchlist]) -> None:
    """Build the matcher once per worker process."""
    global _worker_matcher
    from adwatch.match import Matcher

    _worker_matcher = Matcher.build(watchlists)


def _matcher() -> Any:
    if _worker_matcher is None:
        raise RuntimeError("the matcher is not built in this process")
    return _worker_matcher


def parse_source_body(source_type: str, result: FetchResult) -> ParsedFeed:
    """Parse a fetched feed or sitemap (runs in a worker)."""
    from adwatch.feeds import parse_feed, parse_sitemap

    if source_type == "sitemap":
        return parse_sitemap(result, max_entries=MAX_ENTRIES_PER_SOURCE)
    return parse_feed(result, max_entries=MAX_ENTRIES_PER_SOURCE)


@dataclass(frozen=True)
class ArticleJob:
    """Everything a worker needs to turn an entry (and its page) into an Article."""

    source: str
    market: str
    language_hint: str | None
    entry: FeedEntry | None  # None for a `type: page` source
    page: FetchResult | None  # None when the page was not fetched
    page_error: str | None
    fetched_at: str


@dataclass(frozen=True)
class PreparedArticle:
    article: Article
    matches: list[Match]
    page_failed: bool = False
    note: str | None = None


def compose_text(title: str, body: str) -> str:
    """The stored article text: the headline as its first paragraph, then the body.

    Hits in a headline then have offsets into `articles.text` like any other hit.
    """
    title = title.strip()
    body = body.strip()
    if not title or body.startswith(title):
        return body
    return f"{title}\n\n{body}" if body else title


def prepare_article(job: ArticleJob) -> PreparedArticle:
    """Extract, convert Zawgyi, detect language and match one article (runs in a worker)."""
    from adwatch.extract import extract_page, fallback_page
    from adwatch.lang import detect_language
    from adwatch.textnorm import fix_zawgyi
    from adwatch.urls import canonical_url

    page_failed = False
    note = job.page_error
    extracted = None
    if job.page is not None:
        try:
            extracted = extract_page(job.page)
        except ExtractError as exc:
            note = str(exc)
    if extracted is None:
        if job.entry is None:
            raise ExtractError(note or "no article text")
        extracted = fallback_page(job.entry)
        page_failed = job.page is not None or job.page_error is not None
    entry = job.entry
    title = extracted.title or (entry.title if entry else "")
    title, title_zawgyi = fix_zawgyi(title)
    body, body_zawgyi = fix_zawgyi(extracted.text)
    text = compose_text(title, body)
    published = (entry.published_at if entry else None) or extracted.published_at
    language = detect_language(
        text, title=title, hint=job.language_hint or (entry.language if entry else None)
    )
    url = entry.url if entry else canonical_url(extracted.url)
    article = Article(
        url=url,
        source=job.source,
        market=job.market,
        title=title,
        text=text,
        language=language,
        published_at=published,
        fetched_at=job.fetched_at,
        content_hash=hashlib.sha256(f"{title}\x00{text}".encode()).hexdigest(),
        extractor=extracted.extractor,
        entry_id=entry.entry_id if entry else None,
        zawgyi=title_zawgyi or body_zawgyi,
        author=fix_zawgyi(extracted.author)[0] if extracted.author else None,
    )
    matches = _matcher().match(text, market=job.market, language=language)
    return PreparedArticle(article, list(matches), page_failed=page_failed, note=note)


# --- the scan ---------------------------------------------------------------------------


def select_sources(
    config: Config, *, markets: Sequence[str] = (), names: Sequence[str] = ()
) -> list[Source]:
    """The configured sources a scan covers; unknown names or markets are a usage error."""
    for market in markets:
        if market not in config.markets:
            raise UsageError(
                f"--market: unknown market {market!r} (known: {', '.join(config.markets)})"
            )
    for name in names:
        if config.source(name) is None:
            raise UsageError(f"--source: no source named {name!r} in {config.path}")
    chosen = config.sources
    if markets:
        chosen = [s for s in chosen if s.market in markets]
    if names:
        chosen = [s for s in chosen if s.name in names]
    return list(chosen)


def _pool(watchlists: Sequence[Watchlist]) -> ProcessPoolExecutor:
    # forkserver, not fork: the scan may run beside threads (a test's HTTP server,
    # httpx internals), and forking a threaded process can deadlock the child.
    context = multiprocessing.get_context("forkserver")
    # What the workers run, imported once in the forkserver and inherited by every worker
    # it forks, instead of imported again by each. The default, ["__main__"], loads
    # nothing on Python 3.11 when adwatch runs as a console script.
    context.set_forkserver_preload(
        [
            "__main__",
            "adwatch.pipeline",
            "adwatch.extract",
            "adwatch.feeds",
            "adwatch.lang",
            "adwatch.match",
            "adwatch.textnorm",
            "adwatch.urls",
            # imported lazily by the modules above, so that the CLI never pays for them
            "trafilatura",
            "lxml.html",
            "feedparser",
            "langdetect.detector_factory",
            "myanmartools",
            "icu",
            "nlpo3",
            "pythainlp.corpus",
        ]
    )
    return ProcessPoolExecutor(
        max_workers=max(1, os.cpu_count() or 1),
        mp_context=context,
        initializer=_init_worker,
        initargs=(list(watchlists),),
    )


class _Scan:
    def __init__(
        self,
        config: Config,
        store: Store,
        executor: Executor,
        *,
        articles: bool,
        on_event: Callable[[ScanEvent], None] | None,
    ) -> None:
        self.config = config
        self.store = store
        self.executor = executor
        self.articles = articles
        self.on_event = on_event or (lambda event: None)
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="adwatch-store")
        self.claimed_urls: set[str] = set()  # canonical URLs taken by a source in this run
        # Validators are stored only once all of a source's entries are, so a
        # killed scan never turns the next fetch into a 304 that hides entries.
        self.validators: dict[str, tuple[str | None, str | None]] = {}

    async def _cpu(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    async def _db(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a store call on the one writer thread.

        SQLite work (inserts, the trigram index) would otherwise stall the event
        loop; one thread keeps the store's calls in order on one connection.
        """
        call = functools.partial(fn, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self.writer, call)

    async def run(self, sources: Sequence[Source]) -> list[SourceOutcome]:
        from adwatch.fetch import Fetcher

        self.on_event(ScanEvent("sources", total=len(sources)))
        try:
            async with Fetcher(self.config.fetch) as fetcher:
                tasks = [self._scan_source(fetcher, source) for source in sources]
                return list(await asyncio.gather(*tasks))
        finally:
            self.writer.shutdown(wait=True)

    async def _scan_source(self, fetcher: Any, source: Source) -> SourceOutcome:
        try:
            outcome = await self._scan_source_unguarded(fetcher, source)
        except AdwatchError as exc:
            outcome = SourceOutcome(
                source.name, ok=False, status=getattr(exc, "status", None), error=str(exc)
            )
        if outcome.ok:
            etag, last_modified = self.validators.get(source.name, (None, None))
            await self._db(
                self.store.record_source_result,
                source.name,
                ok=True,
                status=outcome.status,
                error=None,
                etag=etag,
                last_modified=last_modified,
            )
        else:
            await self._db(
                self.store.record_source_result,
                source.name,
                ok=False,
                status=outcome.status,
                error=outcome.error,
            )
        self.on_event(ScanEvent("source", source=source.name, outcome=outcome))
        return outcome

    async def _scan_source_unguarded(self, fetcher: Any, source: Source) -> SourceOutcome:
        row = await self._db(self.store.source_row, source.name) or {}
        result = await fetcher.fetch(
            source.url,
            etag=row.get("etag"),
            last_modified=row.get("last_modified"),
            accept=PAGE_ACCEPT if source.type == "page" else FEED_ACCEPT,
        )
        self.validators[source.name] = (result.etag, result.last_modified)
        if result.not_modified:
            return SourceOutcome(source.name, ok=True, status=result.status, not_modified=True)
        if source.type == "page":
            return await self._scan_page(source, result)
        parsed: ParsedFeed = await self._cpu(parse_source_body, source.type, result)
        entries = list(parsed.entries)
        warnings = [parsed.warning] if parsed.warning else []
        if parsed.child_sitemaps:
            entries, child_warnings = await self._child_sitemap_entries(fetcher, parsed)
            warnings.extend(child_warnings)
        return await self._scan_entries(
            fetcher, source, entries, status=result.status, warning="; ".join(warnings) or None
        )

    async def _child_sitemap_entries(
        self, fetcher: Any, index: ParsedFeed
    ) -> tuple[list[FeedEntry], list[str]]:
        entries: list[FeedEntry] = []
        warnings: list[str] = []
        for child_url in index.child_sitemaps[:MAX_CHILD_SITEMAPS]:
            try:
                child = await fetcher.fetch(child_url, accept=FEED_ACCEPT)
                parsed: ParsedFeed = await self._cpu(parse_source_body, "sitemap", child)
            except (FetchError, FeedError) as exc:
                warnings.append(f"child sitemap {child_url}: {exc}")
                continue
            entries.extend(parsed.entries)
        entries.sort(key=lambda e: e.published_at or "", reverse=True)
        return entries[:MAX_ENTRIES_PER_SOURCE], warnings

    async def _store_article(
        self,
        source: Source,
        entry: FeedEntry | None,
        page: FetchResult | None,
        page_error: str | None,
    ) -> tuple[PreparedArticle, SavedArticle]:
        """Prepare one article in a worker, then store it with its hits."""
        job = ArticleJob(
            source=source.name,
            market=source.market,
            language_hint=source.language,
            entry=entry,
            page=page,
            page_error=page_error,
            fetched_at=utc_now(),
        )
        prepared: PreparedArticle = await self._cpu(prepare_article, job)
        saved: SavedArticle = await self._db(
            self.store.save_article, prepared.article, prepared.matches
        )
        self.on_event(ScanEvent("article", source=source.name, hits=saved.hits_new))
        return prepared, saved

    async def _scan_page(self, source: Source, result: FetchResult) -> SourceOutcome:
        _, saved = await self._store_article(source, None, result, None)
        return SourceOutcome(
            source.name,
            ok=True,
            status=result.status,
            entries=1,
            articles_new=int(saved.created),
            articles_updated=int(saved.changed and not saved.created),
            hits_new=saved.hits_new,
        )

    async def _scan_entries(
        self,
        fetcher: Any,
        source: Source,
        entries: list[FeedEntry],
        *,
        status: int,
        warning: str | None,
    ) -> SourceOutcome:
        fetch_pages = self.articles and source.articles
        todo: list[FeedEntry] = []
        known = (
            await self._db(self.store.known_urls, [e.url for e in entries])
            if fetch_pages
            else set()
        )
        for entry in entries:
            if entry.url in self.claimed_urls:
                continue  # the same story in another feed of this run
            if entry.url in known and not await self._entry_moved(source, entry):
                continue  # article pages already stored are not fetched again
            self.claimed_urls.add(entry.url)
            todo.append(entry)
        results = await asyncio.gather(
            *(self._scan_entry(fetcher, source, entry, fetch_pages) for entry in todo)
        )
        return SourceOutcome(
            source.name,
            ok=True,
            status=status,
            entries=len(entries),
            articles_new=sum(1 for r in results if r[0] == "new"),
            articles_updated=sum(1 for r in results if r[0] == "updated"),
            hits_new=sum(r[1] for r in results),
            pages_failed=sum(1 for r in results if r[2]),
            warning=warning,
        )

    async def _entry_moved(self, source: Source, entry: FeedEntry) -> bool:
        stored = await self._db(
            self.store.find_article, url=entry.url, source=source.name, entry_id=entry.entry_id
        )
        return stored is not None and stored["url"] != entry.url

    async def _scan_entry(
        self, fetcher: Any, source: Source, entry: FeedEntry, fetch_page: bool
    ) -> tuple[str, int, bool]:
        page = None
        page_error = None
        if fetch_page:
            try:
                page = await fetcher.fetch(entry.url, accept=PAGE_ACCEPT)
            except FetchError as exc:
                page_error = str(exc)
        prepared, saved = await self._store_article(source, entry, page, page_error)
        state = "new" if saved.created else ("updated" if saved.changed else "same")
        return state, saved.hits_new, prepared.page_failed


def run_scan(
    config: Config,
    *,
    markets: Sequence[str] = (),
    sources: Sequence[str] = (),
    articles: bool = True,
    on_event: Callable[[ScanEvent], None] | None = None,
    executor: Executor | None = None,
) -> ScanSummary:
    """Scan the chosen sources into the config's store; return what happened.

    Raises LockHeld when another scan holds the store's lock.
    """
    chosen = select_sources(config, markets=markets, names=sources)
    with scan_lock(config.store):
        store = open_store(config.store)
        try:
            store.sync_sources(config.sources)
            store.mark_interrupted_runs()
            run_id = store.start_run()
            started_at = utc_now()
            pool = executor or _pool(config.watchlists)
            try:
                scan = _Scan(config, store, pool, articles=articles, on_event=on_event)
                outcomes = asyncio.run(scan.run(chosen))
            finally:
                if executor is None:
                    pool.shutdown(cancel_futures=True)
            summary = ScanSummary(run_id, started_at, utc_now(), outcomes)
            store.finish_run(
                run_id,
                status="ok" if not summary.failed else "sources-failed",
                sources_ok=summary.sources_ok,
                sources_failed=len(summary.failed),
                articles_new=summary.articles_new,
                hits_new=summary.hits_new,
                details=_run_details(summary),
            )
            return summary
        finally:
            store.close()


def _run_details(summary: ScanSummary) -> dict[str, Any]:
    return {
        "failed": [
            {"source": o.name, "status": o.status, "error": o.error} for o in summary.failed
        ],
        "warnings": [
            {"source": o.name, "warning": o.warning} for o in summary.outcomes if o.warning
        ],
        "not_modified": [o.name for o in summary.outcomes if o.not_modified],
        "articles_updated": summary.articles_updated,
        "pages_failed": sum(o.pages_failed for o in summary.outcomes),
    }


# --- check --online -----------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """One source as `check --online` found it; nothing is stored."""

    name: str
    url: str
    ok: bool
    status: int | None = None
    kind: str | None = None
    entries: int | None = None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


async def _probe_all(config: Config, sources: Sequence[Source]) -> list[Probe]:
    from adwatch.feeds import detect_kind
    from adwatch.fetch import Fetcher

    async def probe(fetcher: Any, source: Source) -> Probe:
        try:
            result = await fetcher.fetch(source.url)
            kind = detect_kind(result)
            entries = None
            if kind in ("rss", "atom", "sitemap", "sitemapindex"):
                parsed = parse_source_body(
                    "sitemap" if kind.startswith("sitemap") else "rss", result
                )
                entries = len(parsed.entries) or len(parsed.child_sitemaps)
            elif source.type != "page":
                return Probe(
                    source.name,
                    source.url,
                    False,
                    result.status,
                    kind,
                    None,
                    f"not a feed: the response is {kind}",
                )
            return Probe(source.name, source.url, True, result.status, kind, entries)
        except AdwatchError as exc:
            return Probe(
                source.name, source.url, False, getattr(exc, "status", None), error=str(exc)
            )

    async with Fetcher(config.fetch) as fetcher:
        return list(await asyncio.gather(*(probe(fetcher, s) for s in sources)))


def probe_sources(
    config: Config, *, markets: Sequence[str] = (), names: Sequence[str] = ()
) -> list[Probe]:
    """Fetch every chosen source once and say what it is, without storing anything."""
    return asyncio.run(_probe_all(config, select_sources(config, markets=markets, names=names)))
