"""Plain frozen dataclasses passed between the pipeline's stages.

fetch ──► FetchResult ──feeds──► FeedEntry ──extract──► ExtractedPage
      ──pipeline──► Article ──match──► Match ──store──► rows
"""

from __future__ import annotations

from dataclasses import dataclass, field

from adwatch import PROJECT_URL, __version__

SEVERITIES = ("low", "medium", "high", "critical")


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
