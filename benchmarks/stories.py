"""Same story or not: pairwise precision and recall of adwatch's story linking.

benchmarks/data/stories-<set>.jsonl holds articles labelled with the incident they
report: originals, syndicated copies (other boilerplate, re-titled, trimmed), rewrites
by other outlets, reports in the other three languages, and look-alikes (the same kind
of incident with other facts). Every article gets what a scan would give it: a MinHash
signature of its title and text, its lead embedded with the default model and centred
on its language's mean (the shipped background), and the numbers it states. Then
`adwatch.stories.index.assign` groups them in order of publication, and every pair of
articles is scored: predicted in one story or not, against the labels.

Reported by kind of pair (copies: same language, one a syndicated copy of the other;
rewrites: other same-language pairs; across languages) and by language pair, with the
CPU per article of the signature and of the embedding. `stories-dev` is the set the
thresholds were tuned on; `stories-blind` was not.

    python benchmarks/stories.py [--set stories-blind] [--json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"


def load(subset: str) -> list[dict[str, Any]]:
    lines = (DATA / f"{subset}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def prepare(records: list[dict[str, Any]]) -> tuple[list[Any], dict[str, float]]:
    import numpy as np

    from adwatch.pipeline import compose_text
    from adwatch.semantic.embed import lead_of, load_embedder
    from adwatch.semantic.score import centred, shipped_background
    from adwatch.stories.facts import numbers
    from adwatch.stories.fingerprint import signature
    from adwatch.stories.link import StoryArticle
    from adwatch.text.zawgyi import fix_zawgyi

    embedder = load_embedder()
    background = shipped_background(embedder.model).pooled()
    means = {language: rows.mean(axis=0) for language, rows in background.vectors.items()}
    articles, signing, embedding = [], 0.0, 0.0
    for key, record in enumerate(records):
        title, _ = fix_zawgyi(record["title"])
        body, _ = fix_zawgyi(record["text"])
        text = compose_text(title, body)
        started = time.process_time()
        sig = signature(text)
        signed = time.process_time()
        lead = lead_of(embedder, text)
        vector = embedder.passages([text[lead.start : lead.end]])[0]
        embedding += time.process_time() - signed
        signing += signed - started
        language = record["language"]
        articles.append(
            StoryArticle(
                key=key,
                language=language,
                published=datetime.fromisoformat(record["published_at"].replace("Z", "+00:00")),
                signature=sig,
                vector=np.asarray(centred(vector, means[language])),
                numbers=numbers(text),
            )
        )
    count = max(1, len(records))
    return articles, {
        "signature_ms": round(1000 * signing / count, 2),
        "embedding_ms": round(1000 * embedding / count, 1),
    }


def kind_of_pair(first: dict[str, Any], second: dict[str, Any]) -> str:
    if first["language"] != second["language"]:
        return "across languages"
    if "syndicated" in (first["kind"], second["kind"]) and first["story"] == second["story"]:
        return "copies"
    return "same language"


def score(records: list[dict[str, Any]], story: dict[int, int]) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"tp": 0, "fp": 0, "fn": 0})
    for (i, first), (j, second) in itertools.combinations(enumerate(records), 2):
        actual = first["story"] == second["story"]
        predicted = story[i] == story[j]
        if not actual and not predicted:
            continue
        languages = "-".join(sorted((first["language"], second["language"])))
        outcome = "tp" if actual and predicted else "fp" if predicted else "fn"
        for group in (kind_of_pair(first, second), languages, "all"):
            counts[group][outcome] += 1
    return counts


def throughput(count: int) -> dict[str, float]:
    """Seconds to put `count` articles into stories, as restory does (oldest first, a
    96-hour window), with random signatures and vectors: linking's own cost, the
    signature and embedding costs being measured per article on the labelled sets."""
    from datetime import UTC, timedelta

    import numpy as np

    from adwatch.stories.index import assign
    from adwatch.stories.link import StoryArticle

    generator = np.random.default_rng(7)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    vectors = generator.normal(size=(count, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    articles = [
        StoryArticle(
            key=i,
            language=("th", "vi", "my", "en")[i % 4],
            published=start + timedelta(seconds=int(generator.integers(0, 365 * 86400))),
            signature=generator.integers(0, 2**31, 128, dtype=np.uint32),
            vector=vectors[i],
            numbers=frozenset({int(generator.integers(10, 10_000))}),
        )
        for i in range(count)
    ]
    started = time.perf_counter()
    assign(articles)
    seconds = time.perf_counter() - started
    return {
        "articles": count,
        "seconds": round(seconds, 2),
        "ms_per_article": round(1000 * seconds / count, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--set", dest="subset", default="stories-dev", choices=("stories-dev", "stories-blind")
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--throughput",
        type=int,
        metavar="N",
        help="instead: time linking N synthetic articles spread over a year (restory's loop)",
    )
    args = parser.parse_args()
    if args.throughput:
        print(json.dumps(throughput(args.throughput), indent=2))
        return
    from adwatch.stories.index import assign

    records = load(args.subset)
    articles, cost = prepare(records)
    started = time.process_time()
    story = assign(articles)
    cost["assign_ms"] = round(1000 * (time.process_time() - started) / max(1, len(records)), 2)
    counts = score(records, story)
    table = {
        group: {
            **c,
            "precision": round(c["tp"] / (c["tp"] + c["fp"]), 3) if c["tp"] + c["fp"] else None,
            "recall": round(c["tp"] / (c["tp"] + c["fn"]), 3) if c["tp"] + c["fn"] else None,
        }
        for group, c in counts.items()
    }
    stories = len(set(story.values()))
    labelled = len({r["story"] for r in records})
    if args.json:
        result = {"set": args.subset, "stories": stories, "labelled": labelled, **cost}
        json.dump({**result, "pairs": table}, sys.stdout, indent=2)
        return
    print(
        f"{args.subset}: {len(records)} articles, {labelled} labelled incidents, "
        f"{stories} stories found"
    )
    print(
        f"CPU per article: signature {cost['signature_ms']} ms, embedding "
        f"{cost['embedding_ms']} ms, linking {cost['assign_ms']} ms"
    )
    print(f"{'pairs':<18} {'prec':>6} {'recall':>7} {'TP':>4} {'FP':>4} {'FN':>4}")
    order = ["copies", "same language", "across languages", "all"]
    for group in order + sorted(g for g in table if g not in order):
        row = table[group]
        precision = "-" if row["precision"] is None else f"{row['precision']:.3f}"
        recall = "-" if row["recall"] is None else f"{row['recall']:.3f}"
        print(
            f"{group:<18} {precision:>6} {recall:>7} {row['tp']:>4} {row['fp']:>4} {row['fn']:>4}"
        )


if __name__ == "__main__":
    main()
