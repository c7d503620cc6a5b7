"""Build the shipped background of ordinary news that semantic thresholds are set on.

A semantic watchlist fires when an article's lead is closer to one of its descriptions
than all but 0.5 % of ordinary news in the article's language (docs/semantic.md). A
fresh store has no news of its own yet, so adwatch ships one: the NTREX-128 test set
(1 997 sentences of English news, professionally translated into 128 languages; its
Burmese is in Zawgyi and is converted here), embedded with the default model.

The file written, src/adwatch/data/semantic/background.npz, holds per language the
vectors quantised to int8 (a unit vector's components are below 1; x 127 keeps three
decimals, which moves a percentile by less than 0.001). It is a derivative of NTREX-128
and shares its licence, CC BY-SA 4.0 (see docs/semantic.md).

    git clone https://github.com/MicrosoftTranslator/NTREX
    python tools/semantic_background.py NTREX/NTREX-128
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from adwatch.semantic.embed import DEFAULT_MODEL, lead_of, load_embedder
from adwatch.text.zawgyi import fix_zawgyi

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "src" / "adwatch" / "data" / "semantic" / "background.npz"
FILES = {
    "th": "newstest2019-ref.tha.txt",
    "vi": "newstest2019-ref.vie.txt",
    "my": "newstest2019-ref.mya.txt",
    "en": "newstest2019-src.eng.txt",
}


def sentences(folder: Path, language: str) -> list[str]:
    lines = (folder / FILES[language]).read_text(encoding="utf-8").splitlines()
    texts = [" ".join(line.split()) for line in lines]
    if language == "my":
        texts = [fix_zawgyi(text)[0] for text in texts]
    return [text for text in texts if text]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ntrex", type=Path, help="the NTREX-128 folder of a NTREX clone")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--languages", default="th,vi,my,en")
    args = parser.parse_args()
    embedder = load_embedder(DEFAULT_MODEL)
    arrays: dict[str, np.ndarray] = {"model": np.array(embedder.model)}
    for language in args.languages.split(","):
        texts = sentences(args.ntrex, language)
        started = time.process_time()
        leads = [text[: lead_of(embedder, text).end] for text in texts]
        vectors = embedder.passages(leads)
        seconds = time.process_time() - started
        arrays[language] = np.round(vectors * 127).astype(np.int8)
        print(f"{language}: {len(texts)} sentences, {seconds:.0f} s CPU", file=sys.stderr)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.output, **arrays)
    print(f"wrote {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
