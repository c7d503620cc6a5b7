"""The analyst's questions, asked of any store: filters, hits, one hit, triage, search,
trends and source health.

This module knows what the commands mean: it validates their values, checks names,
cuts contexts around matches and verifies search candidates with the watchlists'
matcher. The store (`adwatch.store`) turns filters into SQL on indexed columns with
bound parameters and streams rows, so a million hits cost no more memory than fifty.
"""

from __future__ import annotations

import dataclasses
import getpass
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from adwatch import search
from adwatch.errors import UsageError
from adwatch.models import (
    DETECTED_LANGUAGES,
    SEVERITIES,
    ArticleHits,
    ArticleRow,
    EmbeddingSettings,
    Filters,
    Hit,
    PivotRow,
    Source,
    SourceHealth,
    StoryArticleRow,
    StorySummary,
    TriageChange,
    TriageEntry,
    Watchlist,
)
from adwatch.search import parse_search
from adwatch.store import TRIAGE_STATUSES, Store
from adwatch.text.dates import iso_utc, parse_when, utc_now
from adwatch.text.snippets import Context, cut_context

__all__ = ["ArticleHits", "Context", "Filters", "Hit", "SourceHealth", "TriageEntry"]

# Columns of `export` and of `hits --format csv`, in the order of the design, then a
# semantic hit's score (empty for keyword hits), so exports tell the two apart, and the
# event (feeds.yaml `events:`) a hit fell in.
EXPORT_COLUMNS = (
    "id", "found_at", "published_at", "market", "language", "watchlist", "category",
    "severity", "term", "matched_text", "snippet", "title", "url", "source", "status", "note",
    "score", "event",
)  # fmt: skip

TREND_GROUPS = ("market", "category", "watchlist", "source", "language", "severity")
TREND_MEASURES = ("hits", "tone")
TREND_COUNTS = ("hits", "stories")


# --- filters ------------------------------------------------------------------------


def make_filters(
    *,
    since: str | None = None,
    until: str | None = None,
    market: Sequence[str] | None = None,
    language: Sequence[str] | None = None,
    watchlist: Sequence[str] | None = None,
    category: Sequence[str] | None = None,
    severity: Sequence[str] | str | None = None,
    status: Sequence[str] | None = None,
    source: Sequence[str] | None = None,
    event: Sequence[str] | None = None,
    text: str | None = None,
    now: datetime | None = None,
) -> Filters:
    """Validate filter values into Filters; a bad one is a UsageError naming its field."""
    since_iso = parse_when(since, "since", now=now) if since is not None else None
    until_iso = parse_when(until, "until", upper=True, now=now) if until is not None else None
    if since_iso and until_iso and since_iso > until_iso:
        raise UsageError(f"{until!r} is before since {since!r}", field="until")
    if isinstance(severity, str):
        severity = [severity]
    minimum = None
    for value in severity or ():
        level = _one_of(value.strip().lower(), SEVERITIES, "severity")
        # Repeated values are ORed: at least the lowest of them.
        if minimum is None or SEVERITIES.index(level) < SEVERITIES.index(minimum):
            minimum = level
    statuses = tuple(_one_of(v.strip().lower(), TRIAGE_STATUSES, "status") for v in status or ())
    query = None
    if text is not None:
        query = text.strip()
        if not query:
            raise UsageError("the search text is empty", field="text")
        parse_search(query, field="text")
    return Filters(
        since=since_iso,
        until=until_iso,
        markets=_values(market, "market", str.upper),
        languages=_values(language, "language", str.lower),
        watchlists=_values(watchlist, "watchlist"),
        categories=_values(category, "category"),
        severity=minimum,
        statuses=statuses,
        sources=_values(source, "source"),
        events=_values(event, "event"),
        text=query,
    )


def _one_of(value: str, allowed: Sequence[str], field: str) -> str:
    if value not in allowed:
        raise UsageError(f"expected one of {', '.join(allowed)}, got {value!r}", field=field)
    return value


def _values(values: Sequence[str] | None, field: str, fold: Any = None) -> tuple[str, ...]:
    out: list[str] = []
    for value in values or ():
        item = value.strip()
        if not item:
            raise UsageError("empty value", field=field)
        item = fold(item) if fold else item
        if item not in out:
            out.append(item)
    return tuple(out)


# Filters field -> the field an error names (the CLI turns it into its option)
_NAMED_FILTERS = {
    "markets": "market",
    "languages": "language",
    "watchlists": "watchlist",
    "sources": "source",
    "categories": "category",
    "events": "event",
}


def check_filter_names(
    store: Store, filters: Filters, configured: Callable[[], dict[str, set[str]]]
) -> None:
    """Raise UsageError for a market, language, watchlist, source, category or event nobody
    knows.

    A name is known when the store has it or the config defines it (`configured()`,
    called only when the store does not know a name, since reading the config costs
    more than these indexed look-ups). "No hits match" must mean no hits, not a typo.
    """
    for field_name, noun in _NAMED_FILTERS.items():
        values: tuple[str, ...] = getattr(filters, field_name)
        if field_name == "languages":
            values = tuple(v for v in values if v not in DETECTED_LANGUAGES)
        for value in values:
            if store.has_value(field_name, value):
                continue
            known = set(configured().get(field_name, set()))
            if value in known:
                continue
            known |= store.known_values(field_name)
            if field_name == "languages":
                known |= set(DETECTED_LANGUAGES)
            listed = ", ".join(sorted(known)[:30]) or "none yet"
            raise UsageError(f"unknown {noun} {value!r} (known: {listed})", field=noun)


# --- hits ---------------------------------------------------------------------------


def iter_hits(store: Store, filters: Filters, *, limit: int | None = None) -> Iterator[Hit]:
    """Hits matching `filters`, newest first, streamed (`limit` 0/None: all)."""
    return store.iter_hits(filters, limit=limit)


def list_hits(store: Store, filters: Filters, *, limit: int | None = 50) -> list[Hit]:
    """The newest `limit` hits matching `filters` (0 or None: all of them)."""
    return list(store.iter_hits(filters, limit=limit))


def iter_export_rows(
    store: Store, filters: Filters, *, limit: int | None = None
) -> Iterator[tuple[Any, ...]]:
    """Rows of EXPORT_COLUMNS as plain tuples, newest first, streamed."""
    return store.iter_export_rows(filters, limit=limit)


def list_articles_with_hits(
    store: Store, filters: Filters, *, limit: int | None = 50
) -> list[ArticleHits]:
    """One row per article with hits matching `filters`, newest hit first."""
    return store.articles_with_hits(filters, limit=limit)


def hit_ids(store: Store, filters: Filters) -> list[int]:
    """Ids of every hit matching `filters`, newest first."""
    return store.hit_ids(filters)


# --- one hit ------------------------------------------------------------------------


@dataclass(frozen=True)
class SemanticReason:
    """A semantic hit's evidence: the lead that was compared, its score, and the score
    the watchlist's description needs in the article's language today."""

    description: str | None  # the description's text, if the watchlist still has it
    score: float
    threshold: float | None  # None: the description is no longer configured
    background: str  # what the threshold was set on
    unlike: str | None = None  # the closest of what the watchlist is not, which scored lower
    unlike_score: float | None = None


@dataclass(frozen=True)
class HitDetail:
    """Everything `show` displays about one hit."""

    hit: Hit
    fetched_at: str
    context: Context
    other_hits: list[Hit]  # the first OTHER_HITS_SHOWN in text order
    history: list[TriageEntry]
    other_hits_total: int = 0  # all other hits of the article, shown or not
    semantic: SemanticReason | None = None  # why a semantic hit fired
    indicators: list[PivotRow] = field(default_factory=list)  # phones, LINE ids ... it names

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.hit.as_dict(),
            "semantic": asdict(self.semantic) if self.semantic else None,
            "fetched_at": self.fetched_at,
            "context": asdict(self.context),
            "other_hits": [h.as_dict() for h in self.other_hits],
            "other_hits_total": self.other_hits_total,
            "history": [asdict(e) for e in self.history],
            "indicators": [
                {"kind": i.kind, "value": i.value, "raw": i.raw} for i in self.indicators
            ],
        }


CONTEXT_CHARS = 160
# One page once held 45 912 hits and `show` printed them all: list a screenful.
OTHER_HITS_SHOWN = 30


def get_hit(store: Store, hit_id: int) -> HitDetail:
    """The hit with id `hit_id` and its article, other hits and triage history."""
    record = store.hit_record(hit_id)
    if record is None:
        raise UsageError(f"no hit with id {hit_id!r} in {store.location}")
    hit = record.hit
    others, total = store.other_hits(hit.article_id, besides=hit.id, limit=OTHER_HITS_SHOWN)
    return HitDetail(
        hit=hit,
        fetched_at=record.fetched_at,
        context=match_context(record.text, hit),
        other_hits=others,
        history=store.triage_history(hit.id),
        other_hits_total=total,
        indicators=store.article_indicators(hit.article_id),
    )


def explain_semantic(
    detail: HitDetail, store: Store, watchlists: Sequence[Watchlist], embeddings: EmbeddingSettings
) -> HitDetail:
    """`detail` with the reason its semantic hit fired, scored against the current config."""
    from adwatch.embedding import semantic_settings
    from adwatch.semantic.stage import SemanticStage

    hit = detail.hit
    if hit.score is None:
        return detail
    watchlist = next((w for w in watchlists if w.name == hit.watchlist), None)
    description = None
    if watchlist is not None and watchlist.semantic is not None:
        description = next(
            (d.text for d in watchlist.semantic.descriptions if d.label == hit.term), None
        )
    threshold, origin, unlike = None, "", None
    settings = semantic_settings(list(watchlists), embeddings, store)
    if settings is not None and description is not None:
        from adwatch.semantic.stage import vector_from

        index = SemanticStage(settings).index
        threshold = index.threshold(hit.watchlist, hit.term, hit.language)
        origin = index.origin
        stored = store.article_vectors([hit.article_id]).get(hit.article_id)
        if stored is not None:
            unlike = index.closest_unlike(vector_from(stored.vector), hit.watchlist, hit.language)
    reason = SemanticReason(
        description,
        hit.score,
        threshold,
        origin,
        unlike=unlike[0] if unlike else None,
        unlike_score=unlike[1] if unlike else None,
    )
    return replace(detail, semantic=reason)


def match_context(text: str, hit: Hit, width: int = CONTEXT_CHARS) -> Context:
    """The hit's match in `text` with up to `width` characters either side, cut at spaces.

    When the article changed since the hit was found, the stored snippet stands in.
    """
    start, end = hit.start, hit.end
    if text[start:end] != hit.matched_text:
        found = hit.snippet.find(hit.matched_text)
        if found < 0:
            return Context(hit.snippet, "", "")
        text, start, end = hit.snippet, found, found + len(hit.matched_text)
    return cut_context(text, start, end, width)


def triage_history(store: Store, hit_id: int) -> list[TriageEntry]:
    return store.triage_history(hit_id)


# --- triage -------------------------------------------------------------------------


def current_user() -> str:
    """The OS user, recorded as `who` in the triage log."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def triage_hits(
    store: Store,
    ids: Sequence[int],
    *,
    status: str,
    note: str | None = None,
    who: str | None = None,
) -> list[TriageChange]:
    """Set the status (and note) of hits `ids`, logging each change; all or nothing.

    A hit already in `status` with no new note is left alone (nothing to log).
    The hit's `note` column keeps the latest note; every note stays in triage_log.
    """
    status = _one_of(status, TRIAGE_STATUSES, "status")
    if note is not None and not note.strip():
        raise UsageError("the note is empty", field="note")
    unique_ids = list(dict.fromkeys(ids))
    if not unique_ids:
        raise UsageError("triage: no hit ids given")
    return store.set_triage(
        unique_ids, status=status, note=note, who=who or current_user(), at=utc_now()
    )


# --- stories (design.md section 9, docs/commands.md) ---------------------------------


@dataclass(frozen=True)
class StoryDetail:
    """Everything `story ID` displays: the story, its articles and all their hits."""

    story: StorySummary
    articles: list[StoryArticleRow]
    hits: list[Hit]  # article by article, each article's in text order

    def as_dict(self) -> dict[str, Any]:
        # `hits` is the story's count, as `stories` prints it; the hits themselves follow.
        return {
            **self.story.as_dict(),
            "articles": [a.as_dict() for a in self.articles],
            "hit_list": [h.as_dict() for h in self.hits],
        }


@dataclass(frozen=True)
class StoryHits:
    """One story and its hits that match the filters, for `hits --group-by story`."""

    story: StorySummary
    hits: list[Hit]  # newest first

    def as_dict(self) -> dict[str, Any]:
        return {**self.story.as_dict(), "hit_ids": [h.id for h in self.hits]}


def list_stories(store: Store, filters: Filters, *, limit: int | None = 50) -> list[StorySummary]:
    """Stories with hits matching `filters`, the widest (most outlets) and newest first."""
    return store.story_summaries(filters, limit=limit or None)


def get_story(store: Store, story_id: int) -> StoryDetail:
    """The story `story_id` with its articles and every hit of them."""
    story = store.story(story_id)
    if story is None:
        raise UsageError(f"no story with id {story_id!r} in {store.location}")
    return StoryDetail(story, store.story_articles(story_id), store.story_hits(story_id))


def list_story_hits(store: Store, filters: Filters, *, limit: int | None = 50) -> list[StoryHits]:
    """The stories `list_stories` gives, each with its hits matching `filters`.

    The matching hits are streamed newest first and kept when their article is in
    one of the stories; the stream stops once every story has the count its summary
    gave, so memory holds only the hits shown.
    """
    stories = list_stories(store, filters, limit=limit)
    story_of = store.story_of_articles([story.id for story in stories])
    wanted = sum(story.hits for story in stories)
    found: dict[int, list[Hit]] = {story.id: [] for story in stories}
    kept = 0
    if wanted:
        for hit in store.iter_hits(filters):
            story_id = story_of.get(hit.article_id)
            if story_id is None:
                continue
            found[story_id].append(hit)
            kept += 1
            if kept >= wanted:
                break
    return [StoryHits(story, found[story.id]) for story in stories]


def story_hit_ids(store: Store, story_id: int) -> list[int]:
    """Ids of every hit of story `story_id`; a UsageError when there is no such story."""
    if store.story(story_id) is None:
        raise UsageError(f"no story with id {story_id!r} in {store.location}")
    ids = store.story_hit_ids(story_id)
    if not ids:
        raise UsageError(f"story {story_id!r} has no hits in {store.location}")
    return ids


# --- search -------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchResult:
    """One article found by `search`, with the first match in context."""

    article_id: int
    title: str
    url: str
    source: str
    market: str
    language: str | None
    published_at: str | None
    fetched_at: str
    hits: int
    context: Context

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "context": asdict(self.context)}


def search_articles(
    store: Store,
    query: str,
    filters: Filters = Filters(),  # noqa: B008 - frozen, never mutated
    *,
    fts: bool = False,
    limit: int | None = 50,
) -> list[SearchResult]:
    """Articles matching `query` (our query language, or raw FTS5 with `fts`), newest first.

    The store's indexes find candidates newest stored first; each is verified with
    the watchlists' matcher, and the search stops at `limit` verified articles, so
    a common word costs no more than a rare one. With `fts` the query goes to the
    index as it is, unverified (SQLite only).

    Article filters (market, language, source, since/until on fetched_at) apply to
    the article; hit filters (watchlist, category, severity, status) keep articles
    with at least one such hit.
    """
    if fts:
        highlight = [w.strip('"*') for w in re.findall(r'"[^"]+"|[^\s()"]+', query)]
        highlight = [w for w in highlight if w not in ("AND", "OR", "NOT")]
        return [
            _search_result(row, _body_context(row.text, row.title, highlight))
            for row in store.raw_fts_rows(query, filters, limit=limit)
        ]
    compiled = search.compile_search(query)
    results: list[SearchResult] = []
    for row in store.iter_search_candidates(compiled, filters):
        found = compiled.find(row.title, row.text)
        if found is None:
            continue
        results.append(_search_result(row, _found_context(row.text, row.title, found)))
        if limit and len(results) >= limit:
            break
    return results


def _search_result(row: ArticleRow, context: Context) -> SearchResult:
    values = {f.name: getattr(row, f.name) for f in dataclasses.fields(row) if f.name != "text"}
    return SearchResult(**values, context=context)


def _found_context(text: str, title: str, found: search.Found) -> Context:
    """The first verified match in the article's body: the title is shown anyway.

    The stored text often starts with the headline, so a match there comes
    after one further down; a match only in the title shows the body's start.
    """
    headline = title.strip()
    body_start = 0
    if headline and text.startswith(headline):
        body_start = len(headline)
    spans = [s for s in found.text_spans if s[0] >= body_start] or list(found.text_spans)
    if not spans:
        return _no_match_context(text)
    return cut_context(text, *spans[0], 80)


def _no_match_context(text: str, width: int = 80) -> Context:
    head = text[: 2 * width]
    return Context(head + ("…" if len(text) > len(head) else ""), "", "")


def _body_context(text: str, title: str, terms: Sequence[str]) -> Context:
    """The match in the article's body when there is one: the title is shown anyway.

    The stored text starts with the headline, so the first match is often in it.
    """
    headline = title.strip()
    if headline and text.startswith(headline):
        body = text[len(headline) :].lstrip()
        context = find_context(body, terms)
        if context.match:
            return context
    return find_context(text, terms)


def find_context(text: str, terms: Sequence[str], width: int = 80) -> Context:
    """The first place in `text` where one of `terms` occurs, case-insensitively.

    A whole-word occurrence wins over one inside a word (`ad` in "an ad", not in
    "had"); in Thai and Burmese, which have no spaces, any occurrence is taken.
    """
    lowered = text.lower()
    # lower() can change a string's length (rare letters); then offsets would
    # drift, so search the text as it is.
    haystack = lowered if len(lowered) == len(text) else text
    best: tuple[int, int] | None = None
    for whole_word in (True, False):
        for term in terms:
            needle = term.lower() if haystack is lowered else term
            if not needle:
                continue
            at = _find(haystack, needle, whole_word=whole_word)
            if at >= 0 and (best is None or at < best[0]):
                best = (at, at + len(needle))
        if best is not None:
            break
    if best is None:
        return _no_match_context(text, width)
    return cut_context(text, *best, width)


def _find(haystack: str, needle: str, *, whole_word: bool) -> int:
    if not whole_word:
        return haystack.find(needle)
    found = re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", haystack)
    return found.start() if found else -1


# --- trends -------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendRow:
    """Hits per day of one group, and how its last day compares with the days before."""

    group: str
    counts: list[int]
    total: int
    mean: float  # mean per day over the days before the last
    last: int

    @property
    def change(self) -> float | None:
        """The last day against the mean of the days before, in percent (None: no base)."""
        if self.mean == 0:
            return None
        return (self.last - self.mean) / self.mean * 100

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "change_pct": self.change}


@dataclass(frozen=True)
class Trends:
    by: str
    days: list[str]
    rows: list[TrendRow] = field(default_factory=list)
    count: str = "hits"  # what a day's number counts: hits, or stories with a hit

    def as_dict(self) -> dict[str, Any]:
        counted = {} if self.count == "hits" else {"count": self.count}
        return {
            "by": self.by,
            **counted,
            "days": self.days,
            "rows": [r.as_dict() for r in self.rows],
        }


def day_range(days: int, *, until: datetime | None = None) -> list[str]:
    """The last `days` UTC days ending today (or on `until`), oldest first, as YYYY-MM-DD."""
    end = (until or datetime.now(UTC)).astimezone(UTC).date()
    return [(end - timedelta(days=offset)).isoformat() for offset in range(days - 1, -1, -1)]


def hit_trends(
    store: Store,
    *,
    by: str = "market",
    days: int = 14,
    filters: Filters = Filters(),  # noqa: B008 - frozen, never mutated
    now: datetime | None = None,
    count: str = "hits",
) -> Trends:
    """Hits per UTC day per `by` group over the last `days` days, busiest group first.

    With `count` "stories", each day's number is how many stories had a hit matching
    `filters` found that day (a story with ten hits that day counts once)."""
    axis = _trend_axis(by, days, now)
    count = _one_of(count, TREND_COUNTS, "count")
    day_counts = store.day_story_counts if count == "stories" else store.day_counts
    counts = day_counts(by, day_bounds(axis), filters)
    rows = []
    for group, series in counts.items():
        before = series[:-1]
        mean = sum(before) / len(before) if before else 0.0
        rows.append(TrendRow(group, series, sum(series), mean, series[-1]))
    rows.sort(key=lambda r: (-r.total, r.group))
    return Trends(by=by, days=axis, rows=rows, count=count)


def _trend_axis(by: str, days: int, now: datetime | None) -> list[str]:
    """The days of a trend, once `by` and `days` are known to be good."""
    if by not in TREND_GROUPS:
        raise UsageError(f"expected one of {', '.join(TREND_GROUPS)}, got {by!r}", field="by")
    if days < 1:
        raise UsageError(f"expected at least 1, got {days!r}", field="days")
    return day_range(days, until=now)


@dataclass(frozen=True)
class ToneRow:
    """The mean tone per day of one group's articles with hits, and over the period."""

    group: str
    means: list[float | None]  # None: no toned article that day
    counts: list[int]  # toned articles behind each day's mean
    mean: float | None  # over every toned article of the period, not a mean of means
    last: float | None  # the last day's mean
    articles: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "means": [_rounded(m) for m in self.means],
            "counts": self.counts,
            "mean": _rounded(self.mean),
            "last": _rounded(self.last),
            "articles": self.articles,
        }


@dataclass(frozen=True)
class ToneTrends:
    by: str
    days: list[str]
    rows: list[ToneRow] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        from adwatch.semantic.tone import TONE_ACCURACY

        return {
            "measure": "tone",
            "by": self.by,
            "days": self.days,
            "about": tone_note(),
            "accuracy": {reading: dict(rates) for reading, rates in TONE_ACCURACY.items()},
            "rows": [r.as_dict() for r in self.rows],
        }


def _rounded(value: float | None, places: int = 3) -> float | None:
    return None if value is None else round(value, places)


def tone_note() -> str:
    """What tone measures and how often it reads right, in one line for tables and pages."""
    from adwatch.semantic.tone import TONE_ACCURACY

    rates = TONE_ACCURACY["critical_or_not"]
    languages = ", ".join(f"{lang} {rates[lang] * 100:.0f}" for lang in rates if lang != "all")
    return (
        "tone: -1 critical .. +1 favourable coverage of ads and platforms; reads "
        f"critical-or-not right {rates['all'] * 100:.0f} % of the time on unseen text "
        f"({languages} %)"
    )


def tone_trends(
    store: Store,
    *,
    by: str = "market",
    days: int = 14,
    filters: Filters = Filters(),  # noqa: B008 - frozen, never mutated
    now: datetime | None = None,
) -> ToneTrends:
    """Mean tone per UTC day per `by` group over the last `days` days, of the articles
    with a hit matching `filters` (each counted on the day its first hit was found);
    the group with most toned articles first. Articles without a tone are left out."""
    axis = _trend_axis(by, days, now)
    rows = []
    for group, series in store.day_tones(by, day_bounds(axis), filters).items():
        counts = [count for _, count in series]
        total = sum(counts)
        weighted = sum(mean * count for mean, count in series if mean is not None)
        rows.append(
            ToneRow(
                group,
                means=[mean for mean, _ in series],
                counts=counts,
                mean=weighted / total if total else None,
                last=series[-1][0],
                articles=total,
            )
        )
    rows.sort(key=lambda r: (-r.articles, r.group))
    return ToneTrends(by=by, days=axis, rows=rows)


def day_bounds(axis: Sequence[str]) -> list[tuple[str, str]]:
    """Each day of `axis` as [its midnight, the next midnight) in adwatch timestamps."""
    nexts = [*axis[1:], (date.fromisoformat(axis[-1]) + timedelta(days=1)).isoformat()]
    return [
        (f"{day}T00:00:00Z", f"{after}T00:00:00Z") for day, after in zip(axis, nexts, strict=True)
    ]


# --- sources ------------------------------------------------------------------------


def source_health(
    store: Store | None,
    configured: Sequence[Source],
    *,
    days: int = 7,
    now: datetime | None = None,
) -> list[SourceHealth]:
    """Configured sources (then any only in the store) with health and last-`days` counts.

    With no store yet, the configured sources come back with empty health.
    """
    stored: dict[str, SourceHealth] = {}
    if store is not None:
        since = iso_utc((now or datetime.now(UTC)) - timedelta(days=days))
        stored = {health.name: health for health in store.source_health(since=since)}
    out: list[SourceHealth] = []
    for source in configured:
        known = stored.pop(source.name, None)
        if known is None:
            out.append(SourceHealth(source.name, source.url, source.market, source.type, True))
        else:
            out.append(
                dataclasses.replace(
                    known, url=source.url, market=source.market, type=source.type, configured=True
                )
            )
    out.extend(stored.values())
    return out
