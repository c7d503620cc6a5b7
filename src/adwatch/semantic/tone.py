"""Tone of coverage: how critical an article is of ads, ad platforms and advertisers.

No packaged offline sentiment model reads Thai, Vietnamese or Burmese, and a general
sentiment model would answer another question (is the text happy?). Tone here is
narrower: an article's lead is compared, in the embedding space its semantic
watchlists already use, with anchor sentences of critical coverage and of favourable
coverage; the difference, scaled, is `articles.tone` in [-1, 1] (negative: critical).
Its accuracy per language, measured on a labelled set nobody tuned on, is in
docs/semantic.md; read tone as a trend over many articles, not as a verdict on one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Vectors = npt.NDArray[np.float32]

ANCHORS: Mapping[str, tuple[str, ...]] = {
    "critical": (
        "Regulators fine the platform for failing to remove scam advertisements",
        "Victims blame the social network for ads that led them to lose their savings",
        "Authorities summon the platform and demand it stop running illegal gambling ads",
        "Lawmakers criticise the company for profiting from fraudulent advertising",
        "The platform is accused of ignoring complaints about fake celebrity ads",
        "Police say criminals used paid ads on the platform to cheat thousands of people",
    ),
    "favourable": (
        "The platform signs an agreement with police to fight online fraud together",
        "Scam ad losses fell sharply after the platform introduced advertiser verification",
        "The company is praised for quickly removing harmful advertisements",
        "The ad campaign wins an award for its creativity and public benefit",
        "The platform launches a free tool that helps users report fake ads",
        "Regulators welcome the platform's new transparency rules for political ads",
    ),
}
SCALE = 0.12  # a difference of this much is a tone of about -1 or 1 (tanh)


@dataclass(frozen=True)
class ToneScale:
    """Anchor vectors, and each language's mean to centre a lead with."""

    critical: Vectors  # (anchors, dim)
    favourable: Vectors
    means: Mapping[str, Vectors]

    @classmethod
    def build(cls, queries: Mapping[str, Vectors], means: Mapping[str, Vectors]) -> ToneScale:
        import numpy as np

        return cls(
            critical=np.vstack([queries[a] for a in ANCHORS["critical"]]),
            favourable=np.vstack([queries[a] for a in ANCHORS["favourable"]]),
            means=means,
        )

    def raw(self, vector: Vectors, language: str | None) -> float:
        """Closeness to critical minus closeness to favourable anchors (centred leads)."""
        from adwatch.semantic.score import background_key, centred

        lead = centred(vector, self.means[background_key(language, self.means)])
        return float((self.critical @ lead).mean() - (self.favourable @ lead).mean())

    def tone(self, vector: Vectors, language: str | None) -> float:
        """-1 (critical) .. 1 (favourable), rounded to two decimals."""
        import math

        return round(-math.tanh(self.raw(vector, language) / SCALE), 2)
