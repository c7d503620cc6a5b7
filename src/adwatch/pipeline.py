"""The scan: fetch → parse → extract → detect language → match → store.

Network waits overlap in one asyncio event loop (the Fetcher limits requests in
flight overall and per host). CPU work (feed parsing, text extraction, Zawgyi
conversion, language detection, matching) runs in a process pool sized to the
cores, so it neither blocks the loop nor stays on one core. Each article and its
hits are committed as soon as they are ready (with the others ready at that moment,
adwatch.store_writer), and a source's ETag/Last-Modified are stored only after all its
entries are, so a scan killed at any moment loses at most the articles in flight and
a re-run picks them up.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import os
import signal
import socket
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future
from concurrent.futures import wait as futures_wait
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from adwatch.config import Config
from adwatch.embedding import semantic_settings
from adwatch.errors import (
    AdwatchError,
    ExtractError,
    FeedError,
    FetchError,
    Interrupted,
    UsageError,
)
from adwatch.models import (
    Article,
    ArticleVector,
    EvidenceRef,
    FeedEntry,
    FetchResult,
    Match,
    PageRetry,
    ParsedFeed,
    RetryCandidate,
    RobotsFile,
    SavedArticle,
    Source,
    StoryFingerprint,
    Watchlist,
)
from adwatch.store import Store, evidence_folder, open_store
from adwatch.store_writer import StoreWriter
from adwatch.text.dates import iso_utc, utc_now
from adwatch.workers import Batcher, LazyPool, warm_forkserver

if TYPE_CHECKING:
    import ssl

    from adwatch.alerting import TargetReport
    from adwatch.alerts.events import EventCalendar
    from adwatch.evidence import EvidenceWriter, PreparedPage
    from adwatch.indicators import Indicator
    from adwatch.models import Alert
    from adwatch.semantic.stage import SemanticSettings
    from adwatch.storying import StoryAssigner

MAX_ENTRIES_PER_SOURCE = 200
MAX_CHILD_SITEMAPS = 5
FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
# A page that failed is tried again on later scans: after these delays (the last
# repeats), at most PAGE_TRIES times in all, while the article is PAGE_RETRY_DAYS
# old. Its feed text stands in meanwhile (docs/scan.md).
PAGE_RETRY_DELAYS_HOURS = (1, 4, 12, 24)
PAGE_TRIES = 5
PAGE_RETRY_DAYS = 7
PAGE_RETRIES_PER_SCAN = 50  # per source, so a long outage does not stall one scan
# A source whose article pages mostly fail counts as failed (exit 3): more than
# half of the pages it fetched in this scan, and at least this many.
MIN_FAILED_PAGES = 2
# Several scanners on one PostgreSQL store (cron on several boxes): a source fetched
# by one of them is left alone by the others for this long, and a scanner's claim on
# a source expires after LEASE_SECONDS if it dies holding it (docs/postgres.md).
SCAN_WINDOW_SECONDS = 10 * 60
LEASE_SECONDS = 15 * 60


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
    pages: int = 0  # article pages fetched (new entries and retries)
    pages_failed: int = 0
    page_error: str | None = None  # the most common reason pages failed
    pages_recovered: int = 0  # retried pages that now gave their article
    warning: str | None = None
    feed_ok: bool = False  # the feed itself was read (its validators may be stored)
    claimed_elsewhere: bool = False  # another scanner of a shared store has it this window

    @property
    def pages_mostly_failed(self) -> bool:
        return self.pages_failed >= MIN_FAILED_PAGES and 2 * self.pages_failed > self.pages


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
    alerts: list[Alert] = field(default_factory=list)  # raised by this scan
    deliveries: list[TargetReport] = field(default_factory=list)

    @property
    def failed(self) -> list[SourceOutcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def targets_failed(self) -> list[TargetReport]:
        """Alert targets that did not take what was sent to them (exit 3, like a source)."""
        return [report for report in self.deliveries if not report.ok]

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
            "pages": sum(o.pages for o in self.outcomes),
            "pages_failed": sum(o.pages_failed for o in self.outcomes),
            "failed": [{"source": o.name, "error": o.error} for o in self.failed],
            "sources": [o.__dict__ for o in self.outcomes],
            "alerts": [alert.as_dict() for alert in self.alerts],
            "deliveries": [report.as_dict() for report in self.deliveries],
        }


# --- CPU stages, run in worker processes ----------------------------------------------

_worker_matcher: Any = None
_worker_semantic: Any = None  # a SemanticStage when the scan embeds articles


def _init_worker(watchlists: Sequence[Watchlist], semantic: Any = None) -> None:
    """Build the matcher (and the semantic stage) once per worker process."""
    global _worker_matcher, _worker_semantic
    from adwatch.match import Matcher

    _worker_matcher = Matcher.build(watchlists)
    if semantic is not None:
        from adwatch.semantic.stage import SemanticStage

        _worker_semantic = SemanticStage(semantic)


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
    # The request headers sent for the page, when the page is to be kept as served.
    keep_page: dict[str, str] | None = None


@dataclass(frozen=True)
class PreparedArticle:
    article: Article
    matches: list[Match]
    fingerprint: StoryFingerprint  # for stories (docs/stories.md)
    page_failed: bool = False
    note: str | None = None  # why the page gave no article, when it failed
    hit_totals: dict[str, int] = field(default_factory=dict)  # watchlists over the cap
    vector: ArticleVector | None = None  # the lead's embedding, when the scan embeds
    indicators: list[Indicator] = field(default_factory=list)  # phones, LINE ids, wallets ...
    page_record: PreparedPage | None = None  # the page's WARC records, when it is kept


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
    from adwatch.indicators import extract_indicators
    from adwatch.storying import fingerprint as story_fingerprint
    from adwatch.text.language import detect_language
    from adwatch.text.untrusted import strip_unsafe
    from adwatch.text.zawgyi import fix_zawgyi
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
    # Control characters and bidi overrides never enter the store (docs/scan.md).
    title, title_zawgyi = fix_zawgyi(strip_unsafe(title))
    body, body_zawgyi = fix_zawgyi(strip_unsafe(extracted.text))
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
        author=fix_zawgyi(strip_unsafe(extracted.author))[0] if extracted.author else None,
    )
    found = _matcher().match_article(text, market=job.market, language=language)
    matches, vector = found.matches, None
    if _worker_semantic is not None:
        try:
            vector, semantic_matches, tone = _worker_semantic.apply(
                text, market=job.market, language=language, keyword_matches=matches
            )
        except (RuntimeError, ValueError, OSError, MemoryError):
            # The model failed on this text: the article and its keyword hits are stored
            # all the same, without a vector; `adwatch rematch` embeds it later.
            pass
        else:
            matches = sorted([*matches, *semantic_matches], key=lambda m: (m.start, m.watchlist))
            article = replace(article, tone=tone)
    page_record = None
    if job.keep_page is not None and job.page is not None and not page_failed:
        from adwatch.evidence import prepare_page

        page_record = prepare_page(
            job.page, request_headers=job.keep_page, fetched_at=job.fetched_at
        )
    return PreparedArticle(
        article,
        matches,
        story_fingerprint(text),
        page_failed=page_failed,
        note=note,
        hit_totals=found.capped(),
        vector=vector,
        indicators=extract_indicators(text, market=job.market, language=language),
        page_record=page_record,
    )


# --- the scan ---------------------------------------------------------------------------


def select_sources(
    config: Config, *, markets: Sequence[str] = (), names: Sequence[str] = ()
) -> list[Source]:
    """The configured sources a scan covers; unknown names or markets are a usage error."""
    for market in markets:
        if market not in config.markets:
            raise UsageError(
                f"unknown market {market!r} (known: {', '.join(config.markets)})", field="market"
            )
    for name in names:
        if config.source(name) is None:
            raise UsageError(f"no source named {name!r} in {config.path}", field="source")
    chosen = config.sources
    if markets:
        chosen = [s for s in chosen if s.market in markets]
    if names:
        chosen = [s for s in chosen if s.name in names]
    return list(chosen)


def _pool(watchlists: Sequence[Watchlist], semantic: SemanticSettings | None = None) -> LazyPool:
    return LazyPool(_init_worker, [list(watchlists), semantic])


@dataclass
class _PageTally:
    """Article pages one source fetched in this scan, and why they failed."""

    fetched: int = 0
    failed: int = 0
    recovered: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    def failure(self, reason: str) -> None:
        self.failed += 1
        self.reasons[reason] += 1

    def common_reason(self) -> str | None:
        if not self.reasons:
            return None
        reason, count = self.reasons.most_common(1)[0]
        return reason if count == self.failed else f"{reason} (and {self.failed - count} other)"


@dataclass
class RunCounts:
    """What a scan has stored so far: the run row's numbers, even when it is interrupted."""

    articles_new: int = 0
    articles_updated: int = 0
    hits_new: int = 0


class _Scan:
    def __init__(
        self,
        config: Config,
        store: Store,
        executor: Executor,
        *,
        articles: bool,
        on_event: Callable[[ScanEvent], None] | None,
        semantic: SemanticSettings | None = None,
        environment: Future[ssl.SSLContext] | None = None,
    ) -> None:
        self.config = config
        self.environment = environment  # the TLS context, being read (fetch.read_environment_soon)
        self.semantic = semantic
        self.stories: StoryAssigner | None = None  # made on the writer thread when needed
        self.store = store
        self.executor = executor
        self.batcher = Batcher(executor)
        self.articles = articles
        self.on_event = on_event or (lambda event: None)
        self.writer = StoreWriter(store)
        self.claimed_urls: set[str] = set()  # canonical URLs taken by a source in this run
        # Validators are stored only once all of a source's entries are, so a
        # killed scan never turns the next fetch into a 304 that hides entries.
        self.validators: dict[str, tuple[str | None, str | None]] = {}
        self.pages: dict[str, _PageTally] = {}
        self.counts = RunCounts()
        self.scanner = f"{socket.gethostname()}:{os.getpid()}"
        self.calendar: EventCalendar | None = None
        # Pages kept as served (docs/evidence.md): the folder, its writer (made on the
        # writer thread at the first page), and the request headers a record shows.
        self.evidence_folder = evidence_folder(config.store, config.evidence)
        self.evidence: EvidenceWriter | None = None
        self.keep_page: dict[str, str] | None = None
        if self.evidence_folder is not None:
            from adwatch.fetch import ACCEPT_ENCODING

            self.keep_page = {
                "User-Agent": config.fetch.user_agent,
                "Accept": PAGE_ACCEPT,
                "Accept-Encoding": ACCEPT_ENCODING,
            }
        if config.events:
            from adwatch.alerts.events import EventCalendar

            self.calendar = EventCalendar(config.events)

    async def _cpu(self, fn: Callable[..., Any], *args: Any) -> Any:
        # In batches: one pool round trip for the jobs that wait while the workers are busy.
        return await self.batcher.run(fn, *args)

    async def _db(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a store call on the one writer thread; return once it is committed.

        SQLite work (inserts, the trigram index) would otherwise stall the event
        loop; one thread keeps the store's calls in order on one connection, and
        commits the calls of a moment together (adwatch.store_writer).
        """
        call = functools.partial(fn, *args, **kwargs)
        return await asyncio.wrap_future(self.writer.submit(call))

    async def run(self, sources: Sequence[Source]) -> list[SourceOutcome]:
        from adwatch.fetch import Fetcher

        self.on_event(ScanEvent("sources", total=len(sources)))
        robots = await self._kept_robots()
        try:
            # At most as many sources in hand as requests may be in flight: a source is
            # claimed when this scan can start on it, so on a shared store a second
            # scanner finds sources still free instead of all 40 claimed at once.
            slots = asyncio.Semaphore(max(1, self.config.fetch.concurrency))

            async def in_turn(fetcher: Any, source: Source) -> SourceOutcome:
                async with slots:
                    return await self._scan_source(fetcher, source)

            async with Fetcher(
                self.config.fetch, robots=robots, environment=self.environment
            ) as fetcher:
                tasks = [in_turn(fetcher, source) for source in sources]
                outcomes = list(await asyncio.gather(*tasks))
                await self._db(self.store.keep_robots, fetcher.robots_fetched)
                await self._db(self._place_leftovers)
                return outcomes
        finally:
            # Even on Ctrl-C: what was appended is synced, and the file is readable.
            await self._db(self._close_evidence)
            self.writer.close()

    async def _kept_robots(self) -> list[RobotsFile]:
        """robots.txt files an earlier scan fetched that may still be used: the fetcher
        asks a site again only once they are 24 hours old (docs/fetching.md)."""
        from adwatch.fetch import ROBOTS_MAX_AGE

        if not self.config.fetch.respect_robots:
            return []
        since = iso_utc(datetime.now(UTC) - ROBOTS_MAX_AGE)
        kept: list[RobotsFile] = await self._db(self.store.kept_robots, fetched_since=since)
        return kept

    async def _scan_source(self, fetcher: Any, source: Source) -> SourceOutcome:
        # Several scanners may share a PostgreSQL store: each source is fetched by
        # one of them per scan window (SQLite has one scanner, so it always claims).
        claimed = await self._db(
            self.store.claim_source,
            source.name,
            self.scanner,
            window_seconds=SCAN_WINDOW_SECONDS,
            ttl_seconds=LEASE_SECONDS,
        )
        if not claimed:
            outcome = SourceOutcome(source.name, ok=True, claimed_elsewhere=True)
            self.on_event(ScanEvent("source", source=source.name, outcome=outcome))
            return outcome
        try:
            return await self._scan_claimed(fetcher, source)
        finally:
            await self._db(self.store.release_source, source.name, self.scanner)

    async def _scan_claimed(self, fetcher: Any, source: Source) -> SourceOutcome:
        pages = self.pages.setdefault(source.name, _PageTally())
        try:
            outcome = await self._scan_source_unguarded(fetcher, source)
            if self.articles and source.articles:
                await self._retry_pages(fetcher, source)
            outcome = self._with_pages(outcome, pages)
        except AdwatchError as exc:
            outcome = SourceOutcome(
                source.name, ok=False, status=getattr(exc, "status", None), error=str(exc)
            )
        etag, last_modified = (
            self.validators.get(source.name, (None, None)) if outcome.feed_ok else (None, None)
        )
        await self._db(
            self.store.record_source_result,
            source.name,
            ok=outcome.ok,
            status=outcome.status,
            error=outcome.error,
            etag=etag,
            last_modified=last_modified,
            pages=outcome.pages,
            pages_failed=outcome.pages_failed,
            page_error=outcome.page_error,
        )
        self.on_event(ScanEvent("source", source=source.name, outcome=outcome))
        return outcome

    @staticmethod
    def _with_pages(outcome: SourceOutcome, pages: _PageTally) -> SourceOutcome:
        """The outcome with its page counts; a source whose pages mostly failed has failed."""
        outcome = replace(
            outcome,
            feed_ok=outcome.ok,
            pages=pages.fetched,
            pages_failed=pages.failed,
            page_error=pages.common_reason(),
            pages_recovered=pages.recovered,
        )
        if outcome.ok and outcome.pages_mostly_failed:
            outcome = replace(
                outcome,
                ok=False,
                error=f"{outcome.pages_failed} of {outcome.pages} article pages failed: "
                f"{outcome.page_error}",
            )
        return outcome

    async def _scan_source_unguarded(self, fetcher: Any, source: Source) -> SourceOutcome:
        etag, last_modified = await self._db(self.store.source_validators, source.name)
        result = await fetcher.fetch(
            source.url,
            etag=etag,
            last_modified=last_modified,
            accept=PAGE_ACCEPT if source.type == "page" else FEED_ACCEPT,
        )
        self.validators[source.name] = (result.etag, result.last_modified)
        if result.not_modified:
            return SourceOutcome(source.name, ok=True, status=result.status, not_modified=True)
        if source.type == "page":
            return await self._scan_page(source, result)
        parsed: ParsedFeed = await self.batcher.run_light(parse_source_body, source.type, result)
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
                parsed: ParsedFeed = await self.batcher.run_light(
                    parse_source_body, "sitemap", child
                )
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
        *,
        attempts_before: int = 0,
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
            keep_page=self.keep_page,
        )
        prepared: PreparedArticle = await self._cpu(prepare_article, job)
        retry = None
        if prepared.page_failed and entry is not None:
            retry = next_page_retry(attempts_before + 1, prepared.note or "no article text")
        saved: SavedArticle = await self._db(
            self._save, prepared, retry, stored_before=attempts_before > 0
        )
        self.counts.articles_new += int(saved.created)
        self.counts.articles_updated += int(saved.changed and not saved.created)
        self.counts.hits_new += saved.hits_new
        self.on_event(ScanEvent("article", source=source.name, hits=saved.hits_new))
        return prepared, saved

    def _save(
        self, prepared: PreparedArticle, retry: PageRetry | None, *, stored_before: bool = False
    ) -> SavedArticle:
        """Store an article with its hits, vector and fingerprint, in its story."""
        article = prepared.article
        # The story is chosen before the insert, so the row is written once with it.
        assigner = self._assigner()
        linkable = assigner.linkable(
            0,
            seen_at=article.published_at or article.fetched_at,
            language=article.language,
            fingerprint=prepared.fingerprint,
            vector=prepared.vector,
        )
        story_id = assigner.choose(linkable)
        matches, totals = prepared.matches, prepared.hit_totals
        if self.calendar is not None:
            # Events raise severities and switch event-only watchlists on (docs/alerts.md).
            matches, totals = self.calendar.apply_with_totals(
                matches,
                totals,
                market=article.market,
                found_at=article.fetched_at,
                published_at=article.published_at,
            )
        saved = self.store.save_article(
            article,
            matches,
            indicators=prepared.indicators,
            evidence=self._keep(prepared, stored_before=stored_before),
            totals=totals,
            page_retry=retry,
            vector=prepared.vector,
            fingerprint=prepared.fingerprint,
            place_story=True,
            story_id=story_id,
        )
        if saved.story_id is not None:
            assigner.remember(replace(linkable, key=saved.article_id), saved.story_id)
        return saved

    def _keep(self, prepared: PreparedArticle, *, stored_before: bool) -> EvidenceRef | None:
        """Append the page's records to the scan's WARC file, unless the page kept for this
        article is the same (on the writer thread, before the article is stored).

        Only a page fetched again for an article stored before (a retry) is asked about:
        a new entry's article has no page kept yet, and the look-up cost the scan's
        writer thread 0.15 ms a page."""
        record = prepared.page_record
        if record is None or self.evidence_folder is None:
            return None
        if stored_before and self.store.kept_sha256(prepared.article.url) == record.sha256:
            return None
        if self.evidence is None:
            from adwatch.evidence import EvidenceWriter

            self.evidence = EvidenceWriter(self.evidence_folder, self.config.evidence)
        kept: EvidenceRef = self.evidence.append(record)
        return kept

    def _close_evidence(self) -> None:
        """Sync the scan's WARC file, and delete whole files retention no longer keeps."""
        if self.evidence is not None:
            self.evidence.close()
        days = self.config.evidence.retention_days
        if self.evidence_folder is not None and days is not None:
            from adwatch.evidence import prune

            deleted = prune(self.evidence_folder, retention_days=days)
            if deleted:
                self.store.forget_evidence(deleted)

    def _assigner(self) -> StoryAssigner:
        """The scan's story index: the stored stories of the last weeks, read once."""
        from adwatch.storying import LOOKBACK, StoryAssigner

        if self.stories is None:
            window = timedelta(hours=self.config.stories.window_hours)
            since = datetime.now(UTC) - LOOKBACK - window
            self.stories = StoryAssigner(
                self.store, self.semantic, known_since=since, window=window
            )
        return self.stories

    def _place_leftovers(self) -> int:
        """Put into stories what an interrupted scan stored without one (at the end of a
        scan; new articles get their story as they are stored)."""
        from adwatch.storying import place, unplaced_articles

        pending = unplaced_articles(self.store, now=datetime.now(UTC))
        return place(self._assigner(), pending) if pending else 0

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
                continue  # stored already; a page that failed is retried on its own schedule
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
            warning=warning,
        )

    async def _entry_moved(self, source: Source, entry: FeedEntry) -> bool:
        stored = await self._db(
            self.store.find_article, url=entry.url, source=source.name, entry_id=entry.entry_id
        )
        return stored is not None and stored["url"] != entry.url

    async def _fetch_page(self, fetcher: Any, source: Source, url: str) -> tuple[Any, str | None]:
        """The article page at `url`, or None and why not; counted for the source."""
        tally = self.pages[source.name]
        tally.fetched += 1
        try:
            return await fetcher.fetch(url, accept=PAGE_ACCEPT), None
        except FetchError as exc:
            tally.failure(_short_reason(exc))
            return None, str(exc)

    async def _scan_entry(
        self, fetcher: Any, source: Source, entry: FeedEntry, fetch_page: bool
    ) -> tuple[str, int]:
        page = None
        page_error = None
        if fetch_page and entry.has_page:
            page, page_error = await self._fetch_page(fetcher, source, entry.url)
        prepared, saved = await self._store_article(source, entry, page, page_error)
        if page is not None and prepared.page_failed:
            self.pages[source.name].failure(_short_reason(prepared.note))
        state = "new" if saved.created else ("updated" if saved.changed else "same")
        return state, saved.hits_new

    async def _retry_pages(self, fetcher: Any, source: Source) -> None:
        """Fetch again the pages of this source's articles that failed before and are due.

        A page that now gives its article replaces the feed text and is matched again
        (triaged hits are kept, as in rematch); one that fails again waits longer.
        """
        now = datetime.now(UTC)
        due: list[RetryCandidate] = await self._db(
            self.store.pages_to_retry,
            source.name,
            now=iso_utc(now),
            fetched_since=iso_utc(now - timedelta(days=PAGE_RETRY_DAYS)),
            limit=PAGE_RETRIES_PER_SCAN,
        )
        due = [c for c in due if c.url not in self.claimed_urls]
        self.claimed_urls.update(c.url for c in due)
        await asyncio.gather(*(self._retry_page(fetcher, source, c) for c in due))

    async def _retry_page(self, fetcher: Any, source: Source, candidate: RetryCandidate) -> None:
        page, error = await self._fetch_page(fetcher, source, candidate.url)
        attempts = candidate.attempts + 1
        if page is not None:
            entry = _entry_of(candidate)
            prepared, _ = await self._store_article(
                source, entry, page, None, attempts_before=candidate.attempts
            )
            if not prepared.page_failed:
                self.pages[source.name].recovered += 1
                return
            error = prepared.note
            self.pages[source.name].failure(_short_reason(error))
            return  # _store_article recorded the next try
        retry = next_page_retry(attempts, error or "page failed")
        await self._db(self.store.record_page_retry, candidate.article_id, retry)


def next_page_retry(attempts: int, error: str, *, now: datetime | None = None) -> PageRetry:
    """When to try a failed page again after `attempts` tries (None: never again)."""
    if attempts >= PAGE_TRIES:
        return PageRetry(attempts=attempts, retry_at=None, error=error)
    delay = PAGE_RETRY_DELAYS_HOURS[min(attempts, len(PAGE_RETRY_DELAYS_HOURS)) - 1]
    moment = (now or datetime.now(UTC)) + timedelta(hours=delay)
    return PageRetry(attempts=attempts, retry_at=iso_utc(moment), error=error)


def _entry_of(candidate: RetryCandidate) -> FeedEntry:
    """The feed entry a stored article came from, as far as the store remembers it."""
    title = candidate.title
    text = candidate.text
    summary = text[len(title) :].lstrip() if title and text.startswith(title) else text
    return FeedEntry(
        url=candidate.url,
        entry_id=candidate.entry_id or candidate.url,
        title=title,
        summary=summary,
        published_at=candidate.published_at,
        language=candidate.language,
    )


def _short_reason(error: object) -> str:
    """A page failure's reason without its URL, so failures of one source can be counted."""
    if isinstance(error, FetchError) and error.status:
        return f"HTTP {error.status}"
    text = str(error or "no article text")
    for marker in (" for http", " at http", " in http", ": http", " http"):
        cut = text.find(marker)
        if cut > 0:
            text = text[:cut]
            break
    return text.strip().rstrip(":") or "page failed"


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (cron's timeout, systemd, kill) stops a scan the way Ctrl-C does."""
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield  # an embedding application has its own plan for SIGTERM
        return

    def on_term(signum: int, frame: object) -> None:
        raise _Terminated()

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class _Terminated(BaseException):
    """SIGTERM arrived during a scan."""


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

    Raises LockHeld when another scan holds the store's lock, and Interrupted
    (after closing the run row with what was stored) on Ctrl-C or SIGTERM.
    """
    chosen = select_sources(config, markets=markets, names=sources)
    from adwatch.fetch import read_environment_soon

    # The CA bundle loads (without Python's lock) while the store opens.
    environment = read_environment_soon(config.fetch)
    try:
        return _scan_store(config, chosen, articles, on_event, executor, environment)
    finally:
        # A scan that stops before it fetches never waits for the thread reading the CA
        # bundle: a thread still inside OpenSSL when the interpreter exits can crash it.
        futures_wait([environment])


def _scan_store(
    config: Config,
    chosen: list[Source],
    articles: bool,
    on_event: Callable[[ScanEvent], None] | None,
    executor: Executor | None,
    environment: Future[ssl.SSLContext],
) -> ScanSummary:
    store = open_store(config.store)
    try:
        with store.scan_session():
            store.sync_sources(config.sources)
            if articles and executor is None and store.unfetched_sources([s.name for s in chosen]):
                # A source no scan has fetched has only new entries: the workers will be
                # needed (a re-run where every feed answers 304 starts no process).
                warm_forkserver()
            store.mark_interrupted_runs()
            run_id = store.start_run()
            started_at = utc_now()
            semantic = semantic_settings(config.watchlists, config.embeddings, store)
            pool = executor or _pool(config.watchlists, semantic)
            scan = _Scan(
                config,
                store,
                pool,
                articles=articles,
                on_event=on_event,
                semantic=semantic,
                environment=environment,
            )
            try:
                with _terminate_as_interrupt():
                    outcomes = asyncio.run(scan.run(chosen))
            except (KeyboardInterrupt, _Terminated) as exc:
                signum = signal.SIGTERM if isinstance(exc, _Terminated) else signal.SIGINT
                raise _interrupted(store, run_id, scan.counts, signum) from None
            finally:
                if executor is None:
                    pool.shutdown(wait=True, cancel_futures=True)
            alerts, deliveries = _early_warning(config, store, run_id, started_at, outcomes)
            summary = ScanSummary(run_id, started_at, utc_now(), outcomes, alerts, deliveries)
            store.finish_run(
                run_id,
                status=_run_status(summary),
                sources_ok=summary.sources_ok,
                sources_failed=len(summary.failed),
                articles_new=summary.articles_new,
                hits_new=summary.hits_new,
                details=_run_details(summary),
            )
            return summary
    finally:
        store.close()


def _run_status(summary: ScanSummary) -> str:
    if summary.failed:
        return "sources-failed"
    return "alerts-failed" if summary.targets_failed else "ok"


def _early_warning(
    config: Config, store: Store, run_id: int, started_at: str, outcomes: list[SourceOutcome]
) -> tuple[list[Alert], list[TargetReport]]:
    """The alerts this scan raises, and what is due to each target delivered
    (docs/alerts.md). A re-run that stored no hit and has no target costs nothing here."""
    new_hits = any(o.hits_new for o in outcomes)
    settings = config.alerts
    if not new_hits and not settings.targets:
        return [], []
    from adwatch.alerting import deliver_due, raise_alerts

    alerts = raise_alerts(store, settings, run_id=run_id, found_since=started_at, new_hits=new_hits)
    return alerts, deliver_due(store, settings)


def _interrupted(store: Store, run_id: int, counts: RunCounts, signum: int) -> Interrupted:
    """Close the run row with what was stored before the signal; the error to raise."""
    name = signal.Signals(signum).name
    store.finish_run(
        run_id,
        status="interrupted",
        sources_ok=0,
        sources_failed=0,
        articles_new=counts.articles_new,
        hits_new=counts.hits_new,
        details={"interrupted_by": name, "articles_updated": counts.articles_updated},
    )
    return Interrupted(
        f"scan interrupted by {name}; run {run_id} closed with {counts.articles_new} new "
        f"articles and {counts.hits_new} new hits stored",
        exit_code=128 + signum,
    )


def _run_details(summary: ScanSummary) -> dict[str, Any]:
    return {
        "failed": [
            {"source": o.name, "status": o.status, "error": o.error} for o in summary.failed
        ],
        "warnings": [
            {"source": o.name, "warning": o.warning} for o in summary.outcomes if o.warning
        ],
        "not_modified": [o.name for o in summary.outcomes if o.not_modified],
        "claimed_elsewhere": [o.name for o in summary.outcomes if o.claimed_elsewhere],
        "articles_updated": summary.articles_updated,
        "pages": sum(o.pages for o in summary.outcomes),
        "pages_failed": sum(o.pages_failed for o in summary.outcomes),
        "pages_recovered": sum(o.pages_recovered for o in summary.outcomes),
        "alerts_raised": len(summary.alerts),
        "alert_failures": [{"target": r.name, "error": r.answer} for r in summary.targets_failed],
        "page_failures": [
            {
                "source": o.name,
                "pages": o.pages,
                "failed": o.pages_failed,
                "reason": o.page_error,
            }
            for o in summary.outcomes
            if o.pages_failed
        ],
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
