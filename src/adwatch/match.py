"""Find watchlist hits in article text: one automaton, then per-script boundary rules.

Every term, phrase, query word, context word and exclude word of every watchlist
is one key of a single Aho-Corasick automaton over the normalised text, so the cost
of reading an article does not grow with the number of terms. Each raw hit is then
checked against the boundary rule of its own script (docs/matching.md):

- Latin script (English, Vietnamese, brand names): whole words; `ad*` is a prefix.
- Thai: dictionary word boundaries, with character clusters as the fallback.
- Burmese: syllable boundaries; a space between two syllables is optional in
  terms and text alike (normalisation drops it, adwatch.text.normalize).

Only then do `exclude`, `context`/`near` and query logic look at the positions.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any, NamedTuple

import ahocorasick  # ships no type hints

from adwatch.models import Match, Watchlist
from adwatch.rules import (
    And,
    Leaf,
    Near,
    Node,
    Not,
    Or,
    leaf_label,
    leaves,
    parse_query,
    split_term,
)
from adwatch.text.normalize import NormalizedText, normalize, normalize_term
from adwatch.text.scripts import (
    UNSPACED_CHAR,
    char_script,
    is_myanmar,
    is_spaced_word_char,
    is_thai,
)
from adwatch.text.segment import myanmar_syllable_boundary, safe_cut, thai_spans_ok

SNIPPET_WIDTH = 120
# Hits kept per article and watchlist. A real page that names a scam 40 times is
# one story; a 5 MB page once gave 45 912 rows and a `show` of 45 935 lines.
MAX_HITS_PER_WATCHLIST = 25
THAI_WINDOW = 40  # characters of context on each side for the Thai segmenter
NEAR_CHARACTERS_PER_WORD = 5  # NEAR/n spans 5n characters of Thai or Burmese text

# What decides whether a pattern may start or end where the automaton found it.
_NO_RULE, _WORD, _THAI, _MYANMAR = range(4)
_RULE_OF_SCRIPT = {"word": _WORD, "thai": _THAI, "myanmar": _MYANMAR, "other": _NO_RULE}
# What a pattern is to a watchlist.
_TERM, _CONTEXT, _EXCLUDE, _LEAF = range(4)
_PLAIN, _FOLDED = 0, 1

_NEWLINE = re.compile("[\n\r\u2028\u2029]")


@dataclass(frozen=True)
class ArticleMatches:
    """The hits kept for one article, and how many each watchlist found in all."""

    matches: list[Match]
    totals: dict[str, int]  # watchlist name -> hits before the per-watchlist cap

    def capped(self) -> dict[str, int]:
        """Watchlists that found more hits than were kept: name -> total found."""
        kept: dict[str, int] = defaultdict(int)
        for match in self.matches:
            kept[match.watchlist] += 1
        return {name: total for name, total in self.totals.items() if total > kept[name]}


class _Use(NamedTuple):
    """One watchlist's use of a pattern."""

    watchlist: int
    role: int
    ref: Any  # the term as written (str) or, for a query, its Leaf node


@dataclass
class _Pattern:
    length: int
    start_rule: int
    end_rule: int
    # uses[form] = (uses needing both edges, uses needing the start only: wildcards)
    uses: tuple[tuple[list[_Use], list[_Use]], tuple[list[_Use], list[_Use]]]


class _Occurrence(NamedTuple):
    role: int
    ref: Any
    start: int  # in the normalised text of the watchlist's form
    end: int


class Matcher:
    """Every watchlist compiled into one automaton. Build it once per process."""

    def __init__(self, watchlists: Sequence[Watchlist]) -> None:
        self.watchlists = list(watchlists)
        self._queries: list[Node | None] = [
            parse_query(w.query) if w.query else None for w in self.watchlists
        ]
        self._patterns: list[_Pattern] = []
        self._keys: dict[str, int] = {}
        self._eligible_cache: dict[tuple[str, str | None], list[bool]] = {}
        for index, watchlist in enumerate(self.watchlists):
            self._add_watchlist(index, watchlist)
        self._automaton: Any = None
        if self._keys:
            self._automaton = ahocorasick.Automaton()
            for key, pattern_id in self._keys.items():
                self._automaton.add_word(key, pattern_id)
            self._automaton.make_automaton()

    @classmethod
    def build(cls, watchlists: Sequence[Watchlist]) -> Matcher:
        """Compile every term of every watchlist into one automaton."""
        return cls(watchlists)

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from the watchlists in the receiving process: cheaper to send, and
        # the Thai dictionary must be loaded there anyway.
        return (Matcher.build, (self.watchlists,))

    # --- compiling ---------------------------------------------------------------------

    def _add_watchlist(self, index: int, watchlist: Watchlist) -> None:
        form = _FOLDED if watchlist.fold_diacritics else _PLAIN
        query = self._queries[index]
        if query is None:
            for term in dict.fromkeys(watchlist.all_terms()):
                self._add_term(term, form, _Use(index, _TERM, term))
        else:
            for leaf in dict.fromkeys(leaves(query)):
                self._add_use(leaf.text, leaf.wildcard, form, _Use(index, _LEAF, leaf))
        for word in dict.fromkeys(watchlist.context):
            self._add_term(word, form, _Use(index, _CONTEXT, word))
        for word in dict.fromkeys(watchlist.exclude):
            self._add_term(word, form, _Use(index, _EXCLUDE, word))

    def _add_term(self, term: str, form: int, use: _Use) -> None:
        # A trailing `*` in a list is the query's prefix (`deepfake*`), so the same word
        # finds the same hits in `terms:` as in `query:`; the hit is named as written.
        words, prefix = split_term(term)
        self._add_use(words, prefix, form, use)

    def _add_use(self, text: str, prefix: bool, form: int, use: _Use) -> None:
        key = normalize_term(text, fold_diacritics=form == _FOLDED).strip()
        if not key:
            return  # nothing to look for (a term of invisible characters)
        pattern_id = self._keys.get(key)
        if pattern_id is None:
            pattern_id = self._keys[key] = len(self._patterns)
            self._patterns.append(
                _Pattern(
                    length=len(key),
                    start_rule=_RULE_OF_SCRIPT[char_script(key[0])],
                    end_rule=_RULE_OF_SCRIPT[char_script(key[-1])],
                    uses=(([], []), ([], [])),
                )
            )
        uses = self._patterns[pattern_id].uses[form][1 if prefix else 0]
        if use.role != _LEAF and any(u[:2] == use[:2] for u in uses):
            return  # `TikTok` under en and `tiktok` under any: one hit per place, first spelling
        uses.append(use)

    # --- matching ----------------------------------------------------------------------

    def match(self, text: str, *, market: str, language: str | None) -> list[Match]:
        """Every hit of every watchlist that applies to this market and language.

        One hit per place per watchlist: where terms of one watchlist overlap
        (โฆษณา, โฆษณาหลอก and โฆษณาหลอกลวง at one offset), the longest wins.
        """
        return self.match_article(text, market=market, language=language, limit=None).matches

    def match_article(
        self,
        text: str,
        *,
        market: str,
        language: str | None,
        limit: int | None = MAX_HITS_PER_WATCHLIST,
    ) -> ArticleMatches:
        """Hits as `match` finds them, at most `limit` per watchlist (the first in the text).

        `totals` counts every hit before the cut, so a page that repeats a term ten
        thousand times is kept as a few hits and a number, not ten thousand rows.
        """
        eligible = self._eligible(market, language)
        if self._automaton is None or not any(eligible):
            return ArticleMatches([], {})
        folding = {w.fold_diacritics for w, ok in zip(self.watchlists, eligible, strict=True) if ok}
        spans: dict[int, dict[tuple[str, int], int]] = defaultdict(dict)
        for form in (_PLAIN, _FOLDED):
            if (form == _FOLDED) not in folding:
                continue
            normalized, junctions = _join_wrapped_lines(
                normalize(text, fold_diacritics=form == _FOLDED), text
            )
            scanned = self._scan(normalized.text, form, eligible, junctions)
            for index, occurrences in scanned.items():
                found = spans[index]
                for label, start, end in self._fire(index, occurrences, normalized):
                    source_start, source_end = normalized.span(start, end)
                    found.setdefault((label, source_start), source_end)
        matches: list[Match] = []
        totals: dict[str, int] = {}
        for index, found in spans.items():
            places = longest_per_place([(s, e, label) for (label, s), e in found.items()])
            if not places:
                continue
            watchlist = self.watchlists[index]
            totals[watchlist.name] = len(places)
            for start, end, label in places[:limit] if limit is not None else places:
                matches.append(
                    Match(
                        watchlist=watchlist.name,
                        category=watchlist.category,
                        severity=watchlist.severity,
                        term=label,
                        matched_text=text[start:end],
                        start=start,
                        end=end,
                        snippet=make_snippet(text, start, end),
                    )
                )
        matches.sort(key=lambda m: (m.start, m.watchlist, m.term))
        return ArticleMatches(matches, totals)

    def _eligible(self, market: str, language: str | None) -> list[bool]:
        key = (market, language)
        cached = self._eligible_cache.get(key)
        if cached is None:
            cached = self._eligible_cache[key] = [
                (not w.markets or market in w.markets)
                and (not w.languages or language in w.languages)
                for w in self.watchlists
            ]
        return cached

    def _scan(
        self, text: str, form: int, eligible: list[bool], junctions: frozenset[int]
    ) -> dict[int, list[_Occurrence]]:
        """Occurrences per watchlist that pass their boundary rules."""
        occurrences: dict[int, list[_Occurrence]] = defaultdict(list)
        pending: list[tuple[int, int, int, bool]] = []  # Thai edges for the segmenter
        patterns = self._patterns
        for last, pattern_id in self._automaton.iter(text):
            pattern = patterns[pattern_id]
            exact_uses, prefix_uses = pattern.uses[form]
            if not exact_uses and not prefix_uses:
                continue
            end = last + 1
            start = end - pattern.length
            start_ok = start in junctions or _edge_ok(text, start, pattern.start_rule, before=True)
            if start_ok is False:
                continue
            end_ok = (
                (end in junctions or _edge_ok(text, end, pattern.end_rule, before=False))
                if exact_uses
                else False
            )
            if start_ok is None or end_ok is None:
                pending.append((start, end, pattern_id, end_ok is not False))
                continue
            _add(occurrences, eligible, exact_uses if end_ok else (), prefix_uses, text, start, end)
        if pending:
            self._check_thai(text, pending, form, eligible, occurrences, junctions)
        return occurrences

    def _check_thai(
        self,
        text: str,
        pending: list[tuple[int, int, int, bool]],
        form: int,
        eligible: list[bool],
        occurrences: dict[int, list[_Occurrence]],
        junctions: frozenset[int],
    ) -> None:
        """Segment one window around each run of nearby candidates, then judge them."""
        pending.sort()
        for window_start, window_end, group in _windows(text, pending):
            window = text[window_start:window_end]
            spans = [(s - window_start, e - window_start) for s, e, _, _ in group]
            breaks = [j - window_start for j in junctions if window_start <= j <= window_end]
            verdicts = thai_spans_ok(window, spans, breaks=breaks)
            for (start, end, pattern_id, whole), ok in zip(group, verdicts, strict=True):
                if ok:
                    exact_uses, prefix_uses = self._patterns[pattern_id].uses[form]
                    exact = exact_uses if whole else ()
                    _add(occurrences, eligible, exact, prefix_uses, text, start, end)

    def _fire(
        self, index: int, occurrences: list[_Occurrence], normalized: NormalizedText
    ) -> list[tuple[str, int, int]]:
        """(term label, start, end) of each hit of one watchlist; empty when it does not fire."""
        watchlist = self.watchlists[index]
        by_role: dict[int, list[_Occurrence]] = defaultdict(list)
        for occurrence in occurrences:
            by_role[occurrence.role].append(occurrence)
        if by_role[_EXCLUDE]:
            return []
        query = self._queries[index]
        if query is None:
            hits = [(o.ref, o.start, o.end) for o in by_role[_TERM]]
        else:
            leaf_spans: dict[Leaf, list[tuple[int, int]]] = defaultdict(list)
            for o in by_role[_LEAF]:
                leaf_spans[o.ref].append((o.start, o.end))
            fired = _evaluate(query, leaf_spans, normalized.text) or []
            hits = [(leaf_label(leaf), s, e) for leaf, s, e in dict.fromkeys(fired)]
        if not hits or not watchlist.context:
            return hits
        context = [normalized.span(o.start, o.end) for o in by_role[_CONTEXT]]
        if watchlist.near is None or not context:
            return hits if context else []
        near = watchlist.near
        return [hit for hit in hits if _within(normalized.span(hit[1], hit[2]), context, near)]


def longest_per_place(spans: Sequence[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """One span per place: of spans that overlap, the longest (then the first) is kept.

    `spans` are (start, end, label); the result is in text order.
    """
    ordered = sorted(spans, key=lambda span: (span[0], -span[1], span[2]))
    kept: list[tuple[int, int, str]] = []
    cluster: list[tuple[int, int, str]] = []
    reach = -1
    for span in ordered:
        if cluster and span[0] >= reach:
            kept.extend(_longest_first(cluster))
            cluster = []
        cluster.append(span)
        reach = max(reach, span[1]) if len(cluster) > 1 else span[1]
    kept.extend(_longest_first(cluster))
    return sorted(kept)


def _longest_first(cluster: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Spans of one run of overlapping spans that survive, longest chosen first."""
    chosen: list[tuple[int, int, str]] = []
    for span in sorted(cluster, key=lambda s: (s[0] - s[1], s[0], s[2])):
        if all(span[1] <= other[0] or span[0] >= other[1] for other in chosen):
            chosen.append(span)
    return chosen


# --- boundaries ------------------------------------------------------------------------


def _edge_ok(text: str, index: int, rule: int, *, before: bool) -> bool | None:
    """May a pattern start (before=True) or end at `index`? None: ask the Thai segmenter."""
    if rule == _NO_RULE or index <= 0 or index >= len(text):
        return True
    if rule == _WORD:
        return not is_spaced_word_char(text[index - 1] if before else text[index])
    if rule == _MYANMAR:
        return myanmar_syllable_boundary(text, index)
    neighbour = text[index - 1] if before else text[index]
    return True if not is_thai(neighbour) else None


def _add(
    occurrences: dict[int, list[_Occurrence]],
    eligible: list[bool],
    exact_uses: Sequence[_Use],
    prefix_uses: Sequence[_Use],
    text: str,
    start: int,
    end: int,
) -> None:
    for use in exact_uses:
        if eligible[use.watchlist]:
            occurrences[use.watchlist].append(_Occurrence(use.role, use.ref, start, end))
    if prefix_uses:
        # A wildcard hit covers the whole word it begins: `ad*` found "advert".
        word_end = end
        while word_end < len(text) and is_spaced_word_char(text[word_end]):
            word_end += 1
        for use in prefix_uses:
            if eligible[use.watchlist]:
                occurrences[use.watchlist].append(_Occurrence(use.role, use.ref, start, word_end))


def _windows(
    text: str, candidates: list[tuple[int, int, int, bool]]
) -> list[tuple[int, int, list[tuple[int, int, int, bool]]]]:
    """Candidates (sorted by start) grouped by overlapping segmenter windows."""
    groups: list[tuple[int, int, list[tuple[int, int, int, bool]]]] = []
    for candidate in candidates:
        low, high = _window(text, candidate[0], candidate[1])
        if groups and low <= groups[-1][1]:
            first, last, members = groups[-1]
            members.append(candidate)
            groups[-1] = (first, max(last, high), members)
        else:
            groups.append((low, high, [candidate]))
    return groups


def _window(text: str, start: int, end: int) -> tuple[int, int]:
    """About THAI_WINDOW characters each side of [start, end), cut at a space when one is near."""
    low = max(0, start - THAI_WINDOW)
    space = text.rfind(" ", max(0, low - THAI_WINDOW), low)
    low = space + 1 if space >= 0 else low
    high = min(len(text), end + THAI_WINDOW)
    space = text.find(" ", high, high + THAI_WINDOW)
    high = space if space >= 0 else high
    return low, high


def _join_wrapped_lines(
    normalized: NormalizedText, original: str
) -> tuple[NormalizedText, frozenset[int]]:
    """Drop line breaks between two Thai or two Burmese letters; return where they were.

    Normalisation turns every whitespace run into a space, which would split a Thai
    word that a page wrapped across lines (Thai and Burmese put no space between
    words). The places stay word boundaries too, so a paragraph that ends in ตา does
    not run into the next one.
    """
    text, starts, ends = normalized.text, normalized.source_starts, normalized.source_ends
    drop: list[int] = []
    for newline in _NEWLINE.finditer(original):
        # The normalised character that the line break became, if it became one.
        at = bisect_right(starts, newline.start()) - 1
        if 0 < at < len(text) - 1 and text[at] == " " and ends[at] > newline.start():
            if (not drop or drop[-1] != at) and _same_unspaced_script(text[at - 1], text[at + 1]):
                drop.append(at)
    if not drop:
        return normalized, frozenset()
    pieces = list(zip([-1, *drop], [*drop, len(text)], strict=True))
    joined = NormalizedText(
        "".join(text[before + 1 : after] for before, after in pieces),
        list(chain.from_iterable(starts[before + 1 : after] for before, after in pieces)),
        list(chain.from_iterable(ends[before + 1 : after] for before, after in pieces)),
    )
    return joined, frozenset(at - number for number, at in enumerate(drop))


def _same_unspaced_script(before: str, after: str) -> bool:
    return (is_thai(before) and is_thai(after)) or (is_myanmar(before) and is_myanmar(after))


# --- proximity and query logic -----------------------------------------------------------


def _within(span: tuple[int, int], context: list[tuple[int, int]], near: int) -> bool:
    """Is any context span within `near` characters (of the original text) of `span`?"""
    start, end = span
    return any(max(c_start - end, start - c_end, 0) <= near for c_start, c_end in context)


_Hit = tuple[Leaf, int, int]


def _evaluate(node: Node, spans: dict[Leaf, list[tuple[int, int]]], text: str) -> list[_Hit] | None:
    """The leaf hits that make `node` true, [] when true without any (NOT), None when false."""
    if isinstance(node, Not):
        return [] if _evaluate(node.child, spans, text) is None else None
    if isinstance(node, And):
        hits: list[_Hit] = []
        for child in node.children:
            found = _evaluate(child, spans, text)
            if found is None:
                return None
            hits.extend(found)
        return hits
    if isinstance(node, Or):
        results = [_evaluate(child, spans, text) for child in node.children]
        if all(found is None for found in results):
            return None
        return [hit for found in results if found for hit in found]
    if isinstance(node, Near):
        return _near(node, spans, text)
    found_spans = spans.get(node)
    return [(node, s, e) for s, e in found_spans] if found_spans else None


def _near(node: Near, spans: dict[Leaf, list[tuple[int, int]]], text: str) -> list[_Hit] | None:
    left = _evaluate(node.left, spans, text)
    right = _evaluate(node.right, spans, text)
    if not left or not right:
        return None
    keep: dict[_Hit, None] = {}
    for ours, theirs in ((left, right), (right, left)):
        ordered = sorted(theirs, key=lambda hit: hit[1])
        starts = [hit[1] for hit in ordered]
        for hit in ours:
            for other in _close_hits(hit, ordered, starts, node.distance, text):
                keep[hit] = None
                keep[other] = None
    return list(keep) or None


def _close_hits(
    hit: _Hit, ordered: list[_Hit], starts: list[int], distance: int, text: str
) -> list[_Hit]:
    """Hits of `ordered` that start at or after `hit` starts and lie within `distance` of it."""
    close = []
    for other in ordered[bisect_left(starts, hit[1]) :]:
        if (other[1], other[2]) == (hit[1], hit[2]):
            continue  # one place in the text is not near itself
        gap = text[hit[2] : other[1]] if other[1] >= hit[2] else ""
        if _gap_ok(gap, distance):
            close.append(other)
        elif len(gap) > NEAR_CHARACTERS_PER_WORD * distance and _words(gap) > distance:
            break  # farther hits only have longer gaps
    return close


def _gap_ok(gap: str, distance: int) -> bool:
    """NEAR/n: at most n words between, or 5n characters where the gap is Thai or Burmese."""
    if UNSPACED_CHAR.search(gap):
        return len(gap) <= NEAR_CHARACTERS_PER_WORD * distance
    return _words(gap) <= distance


def _words(gap: str) -> int:
    return sum(1 for piece in gap.split() if any(c.isalnum() for c in piece))


# --- snippets ----------------------------------------------------------------------------


def make_snippet(text: str, start: int, end: int, *, width: int = SNIPPET_WIDTH) -> str:
    """About `width` characters each side of text[start:end], whitespace collapsed, "…" where cut.

    The cut falls at a space when there is one near, else between two Thai character
    clusters, Burmese syllables or graphemes: never inside one.
    """
    left = max(0, start - width)
    if left > 0:
        space = _first_space(text, left, min(start, left + width // 3))
        left = space + 1 if space >= 0 else min(safe_cut(text, left, forward=True), start)
    right = min(len(text), end + width)
    if right < len(text):
        space = _last_space(text, max(end, right - width // 3), right)
        right = space if space >= 0 else max(safe_cut(text, right, forward=False), end)
    body = " ".join(text[left:right].split())
    return ("…" if left > 0 else "") + body + ("…" if right < len(text) else "")


def _first_space(text: str, low: int, high: int) -> int:
    for i in range(low, high):
        if text[i].isspace():
            return i
    return -1


def _last_space(text: str, low: int, high: int) -> int:
    for i in range(high - 1, low - 1, -1):
        if text[i].isspace():
            return i
    return -1
