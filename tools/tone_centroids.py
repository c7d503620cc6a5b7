"""Build the tone reference that ships with adwatch, from the tone-dev labelled set.

Each passage of benchmarks/data/tone-dev-<language>.jsonl (critical, neutral or
favourable coverage of ads and ad platforms, 30 a language) is embedded as a scan
embeds a lead, centred on its language's mean of ordinary news; the mean of each
label's passages, normalised, is that label's centroid. src/adwatch/data/semantic/tone.npz
holds the three centroids and the model they were made with. tone-blind is never read
here: benchmarks/tone.py measures on it.

    python tools/tone_centroids.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from adwatch.semantic.embed import DEFAULT_MODEL, lead_of, load_embedder
from adwatch.semantic.score import centred, shipped_background
from adwatch.semantic.tone import LABELS
from adwatch.text.zawgyi import fix_zawgyi

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"
OUTPUT = ROOT / "src" / "adwatch" / "data" / "semantic" / "tone.npz"


def main() -> None:
    embedder = load_embedder(DEFAULT_MODEL)
    background = shipped_background(embedder.model)
    means = {language: rows.mean(axis=0) for language, rows in background.vectors.items()}
    rows: dict[str, list[np.ndarray]] = {label: [] for label in LABELS}
    for language in ("th", "vi", "my", "en"):
        for line in (DATA / f"tone-dev-{language}.jsonl").read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            text, _ = fix_zawgyi(record["text"])
            lead = lead_of(embedder, text)
            vector = embedder.passages([text[lead.start : lead.end]])[0]
            rows[record["tone"]].append(centred(vector, means[language]))
    centroids = np.vstack([np.mean(rows[label], axis=0) for label in LABELS])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    np.savez(OUTPUT, centroids=centroids.astype(np.float32), model=np.array(embedder.model))
    counts = ", ".join(f"{label} {len(rows[label])}" for label in LABELS)
    print(f"wrote {OUTPUT} ({counts})", file=sys.stderr)


if __name__ == "__main__":
    main()
