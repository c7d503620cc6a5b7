"""Full-text search over stored articles, with the watchlists' own matching rules.

A search runs in two steps (docs/store.md, "Searching"):

1. Candidates. Two FTS5 indexes find the articles that contain every term:
   `articles_fts`, trigrams of the stored title and text, for Thai and Burmese
   terms (their words are not separated by spaces); `articles_folded_fts`, the
   words of the Latin-script text in lower case without diacritics, for every
   other term. They find a little too much (trigrams find `ตา` inside `ตามที่`),
   never too little.
2. Verification. Each candidate, newest first, is read by adwatch's own
   `Matcher`, with the query as the query of a one-off watchlist: word and
   syllable boundaries, prefixes (`ad*`), tone-mark placement and NEAR are
   exactly the watchlists'. A query without Vietnamese diacritics is matched
   with `fold_diacritics`, so `ngo doc` finds "ngộ độc"; a query with them stays
   exact, so `mà` does not find "ma".

The folded index is kept by triggers in plain SQL (store.py, m004), so any
SQLite client that writes an article keeps it right.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from adwatch import rules
from adwatch.errors import QueryError, UsageError
from adwatch.models import Watchlist
from adwatch.text.scripts import UNSPACED_RUN

if TYPE_CHECKING:
    from adwatch.match import Matcher

RAW_INDEX = "articles_fts"  # trigrams of articles(title, text)
FOLDED_INDEX = "articles_folded_fts"  # words of the Latin-script text, folded
MIN_TRIGRAM_CHARS = 3  # the trigram tokenizer indexes runs of three characters
VERIFY_FUNCTION = "adwatch_search_match"  # the SQL function behind the --text filter

# Thai and Burmese: looked for in `articles_fts`. The folded index treats these
# blocks as separators (store.py, m004), so it holds every other word.
_OPERATORS = re.compile(r'["“”()]|\b(?:AND|OR|NOT|NEAR(?:/\d*)?)\b')
_TITLE_GAP = "\n\n"  # between the title and the text when both are matched at once


# --- the query ------------------------------------------------------------------------


def parse_search(query: str, *, field: str = "search") -> rules.Node:
    """Parse a search in the watchlist query language (see `adwatch.rules`).

    Plain words without any operator, quote or parenthesis are one phrase, like
    a watchlist term: `ma tuy` is the Vietnamese word "ma túy", not `ma` and
    `tuy` anywhere. Thai and Burmese put spaces between phrases, not inside
    words, so their words typed apart are ANDed instead. Raises QueryError
    naming `field`.
    """
    text = query.strip()
    if not text:
        raise UsageError("nothing to search for", field=field)
    if not _OPERATORS.search(text):
        text = _plain_words(text.split())
    try:
        return rules.parse_query(text)
    except QueryError as exc:
        raise QueryError(str(exc), position=exc.position, field=field) from exc


def _plain_words(words: list[str]) -> str:
    """Plain words as a query: runs of Latin-script words quoted as phrases, ANDed.

    A word with a trailing `*` ends its phrase (`ad* scam` is `ad* AND scam`).
    """
    groups: list[list[str]] = []
    for word in words:
        previous = groups[-1][-1] if groups else None
        if (
            previous is not None
            and not previous.endswith("*")
            and not UNSPACED_RUN.search(previous)
            and not UNSPACED_RUN.search(word)
        ):
            groups[-1].append(word)
        else:
            groups.append([word])
    return " AND ".join(f'"{" ".join(group)}"' if len(group) > 1 else group[0] for group in groups)


def has_diacritics(node: rules.Node) -> bool:
    """Whether any term of the query carries a diacritic that folding would drop."""
    from adwatch.text.normalize import normalize_term  # see _matcher

    return any(
        normalize_term(leaf.text, fold_diacritics=True) != normalize_term(leaf.text)
        for leaf in rules.leaves(node)
    )


@dataclass(frozen=True)
class Found:
    """Where a search matched one article: (start, end) spans in its title and its text."""

    title_spans: tuple[tuple[int, int], ...]
    text_spans: tuple[tuple[int, int], ...]


class Search:
    """A parsed search, compiled into a one-watchlist Matcher. Use `compile_search`."""

    def __init__(self, node: rules.Node) -> None:
        self.node = node
        # Without diacritics in the query, analysts typed Vietnamese the quick way.
        self.fold = not has_diacritics(node)
        watchlist = Watchlist(
            name="search",
            category="search",
            severity="low",
            query=rules.format_query(node),
            fold_diacritics=self.fold,
        )
        self._matcher = _matcher(watchlist)

    def find(self, title: str, text: str) -> Found | None:
        """Where the query matches the article, or None when it does not.

        Title and text are matched as one text, so `a AND b` holds with `a` in
        the title and `b` in the text, as the index would say.
        """
        both = title + _TITLE_GAP + text
        matches = self._matcher.match(both, market="", language=None)
        if not matches:
            return None
        offset = len(title) + len(_TITLE_GAP)
        spans = sorted({(m.start, m.end) for m in matches})
        return Found(
            title_spans=tuple(s for s in spans if s[1] <= len(title)),
            text_spans=tuple((s - offset, e - offset) for s, e in spans if s >= offset),
        )


def _matcher(watchlist: Watchlist) -> Matcher:
    # Imported on first use: every command opens a store, which registers this
    # module's SQL function, and most never search; matching costs 20 ms to import.
    from adwatch.match import Matcher

    return Matcher.build([watchlist])


def compile_search(query: str, *, field: str = "search") -> Search:
    """The search `query` ready to find candidates and verify them."""
    return Search(parse_search(query, field=field))


@functools.lru_cache(maxsize=16)
def cached_search(query: str) -> Search:
    """`compile_search`, remembered for the last few queries (the SQL function asks often)."""
    return compile_search(query)


# --- candidates -----------------------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    """Text an article must contain, and the index that can tell."""

    index: str  # RAW_INDEX (characters) or FOLDED_INDEX (words)
    text: str
    prefix: bool = False  # the last word may go on (`ad*`)

    @property
    def indexed(self) -> bool:
        return self.index == FOLDED_INDEX or len(self.text) >= MIN_TRIGRAM_CHARS

    def fts(self) -> str:
        """The piece as an FTS5 string (a phrase of the index's tokens), `*` for a prefix."""
        return '"' + self.text.replace('"', '""') + '"' + (" *" if self.prefix else "")


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Need, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Need, ...]


Need = Piece | AllOf | AnyOf


def _leaf_pieces(leaf: rules.Leaf) -> list[Piece]:
    """A term cut where the script changes: Thai as typed, Burmese by syllable, the rest folded."""
    pieces: list[Piece] = []
    position = 0
    for run in UNSPACED_RUN.finditer(leaf.text):
        pieces += _folded_pieces(leaf.text[position : run.start()])
        pieces += _unspaced_pieces(unicodedata.normalize("NFC", run.group()))
        position = run.end()
    pieces += _folded_pieces(leaf.text[position:])
    if leaf.wildcard and pieces and pieces[-1].index == FOLDED_INDEX:
        pieces[-1] = Piece(FOLDED_INDEX, pieces[-1].text, prefix=True)
    return pieces


def _unspaced_pieces(run: str) -> list[Piece]:
    """Thai as typed; Burmese cut where the matcher reads a space as optional, so
    `လောင်းကစား` finds `လောင်း ကစား` (each syllable must be there)."""
    from adwatch.text.segment import myanmar_space_free_pieces  # see _matcher

    pieces = myanmar_space_free_pieces(run)
    return [Piece(RAW_INDEX, piece) for piece in dict.fromkeys(pieces)]


def _folded_pieces(text: str) -> list[Piece]:
    from adwatch.text.normalize import normalize_term  # see _matcher

    folded = normalize_term(text, fold_diacritics=True).strip()
    return [Piece(FOLDED_INDEX, folded)] if any(c.isalnum() for c in folded) else []


def needs(node: rules.Node) -> Need | None:
    """What a matching article must contain; None when the index cannot narrow it.

    Only ever less strict than the query: a NOT is left to verification (an
    article containing "regulators" has the characters of NOT regulator but
    does not contain the word), and NEAR is read as AND.
    """
    if isinstance(node, rules.Term | rules.Phrase):
        pieces = _leaf_pieces(node)
        return _combine(AllOf, [p for p in pieces if p.indexed] or pieces)
    if isinstance(node, rules.Not):
        return None
    children = [node.left, node.right] if isinstance(node, rules.Near) else list(node.children)
    wanted = [needs(child) for child in children]
    if isinstance(node, rules.Or):
        return None if None in wanted else _combine(AnyOf, wanted)
    return _combine(AllOf, [n for n in wanted if n is not None])


def _combine(kind: type[AllOf] | type[AnyOf], parts: Sequence[Need | None]) -> Need | None:
    kept = [p for p in parts if p is not None]
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else kind(tuple(kept))
