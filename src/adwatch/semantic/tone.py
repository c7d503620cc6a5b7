"""Tone of coverage: how critical an article is of ads, ad platforms and advertisers.

No packaged offline sentiment model reads Thai, Vietnamese or Burmese, and a general
sentiment model would answer another question (is the text happy?). Tone here is
narrower. An article's lead, in the embedding space its semantic watchlists already
use and centred on its language's mean of ordinary news, is compared with three
reference points: the mean of labelled leads of critical, neutral and favourable
coverage (tools/tone_centroids.py, from benchmarks/data/tone-dev-*). Its closeness to
each, through a softmax, gives p(critical), p(neutral), p(favourable), and

    articles.tone = p(favourable) - p(critical)      in [-1, 1], negative = critical

Its accuracy per language, measured on a labelled set nobody tuned on, is in
docs/semantic.md; read tone as a trend over many articles, not as a verdict on one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

from adwatch.semantic.embed import model_family

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Vectors = npt.NDArray[np.float32]

LABELS = ("critical", "neutral", "favourable")
SHARPNESS = 20.0  # softmax sharpness over cosines (they differ by hundredths)
# A tone this far from 0 reads as critical or favourable coverage, else neutral: on
# tone-dev this reading agrees with the closest centroid on all but a few leads.
NEUTRAL_BAND = 0.2

# How often tone reads a lead right, measured by benchmarks/tone.py on tone-blind (120
# leads, 30 a language, never used for tuning): "critical_or_not" is the reading the
# report and `trends --measure tone` lean on, "three_labels" critical/neutral/favourable
# with NEUTRAL_BAND. The one place these figures live: rerun the benchmark and update
# them here when the centroids, the band or the model change.
TONE_ACCURACY: Mapping[str, Mapping[str, float]] = {
    "critical_or_not": {"all": 0.942, "th": 0.967, "vi": 0.967, "my": 0.933, "en": 0.900},
    "three_labels": {"all": 0.792, "th": 0.833, "vi": 0.833, "my": 0.833, "en": 0.667},
}


@dataclass(frozen=True)
class ToneScale:
    """The three centroids, and each language's mean to centre a lead with."""

    centroids: Vectors  # (3, dim), in LABELS order
    means: Mapping[str, Vectors]

    @classmethod
    def shipped(cls, model: str, means: Mapping[str, Vectors]) -> ToneScale | None:
        """The shipped centroids for `model`'s family; None for a model they do not fit."""
        import numpy as np

        path = resources.files("adwatch") / "data" / "semantic" / "tone.npz"
        with resources.as_file(path) as file, np.load(file) as data:
            if model_family(str(data["model"])) != model_family(model):
                return None
            return cls(centroids=data["centroids"].astype(np.float32), means=means)

    def probabilities(self, vector: Vectors, language: str | None) -> Vectors:
        """p(critical), p(neutral), p(favourable) of a lead."""
        import numpy as np

        from adwatch.semantic.score import background_key, centred

        lead = centred(vector, self.means[background_key(language, self.means)])
        weights = np.exp(SHARPNESS * (self.centroids @ lead))
        return weights / weights.sum()  # type: ignore[no-any-return]

    def tone(self, vector: Vectors, language: str | None) -> float:
        """-1 (critical) .. 1 (favourable), rounded to two decimals."""
        critical, _, favourable = self.probabilities(vector, language)
        return round(float(favourable - critical), 2)
