"""Precision and recall of the indicator extractor on its labelled sets, and its speed.

Each passage of benchmarks/data/indicators-<set>.jsonl carries the indicators a careful
reader finds in it, as (kind, value) pairs. `extract_indicators(text, language=...)` runs
on it (no market: the passages do not name their source, so a local phone number is
read in its language's country, and in English only where it is valid in just one of
Thailand, Vietnam and Myanmar). A predicted pair in the passage's labels is a true
positive; one not there is a false positive; a label not predicted is a false negative.

- `dev`: the set the extractor was tuned on.
- `blind`: written before any tuning, with the same conventions, and never used to
  change the extractor; its figures are the ones to quote.

Speed, in CPU seconds per MB of UTF-8: the passages extracted one by one, as articles
are, until about 2 MB (the best of `--repeat` runs); the same passages joined into one
5 MB text (one huge article); 5 MB of text dense with numbers, URLs, handles and
addresses (the worst a page could be: the per-text limits on candidates apply). The
first call also pays for loading the Public Suffix List snapshot, reported apart.

    python benchmarks/indicators.py [--set dev|blind|both] [--errors] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from adwatch.indicators import KINDS, extract_indicators

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"
LANGUAGES = ("th", "vi", "my", "en")


@dataclass(frozen=True)
class Passage:
    id: str
    language: str
    text: str
    labels: frozenset[tuple[str, str]]


@dataclass
class Tally:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0

    def precision(self) -> float | None:
        predicted = self.true_positives + self.false_positives
        return self.true_positives / predicted if predicted else None

    def recall(self) -> float | None:
        expected = self.true_positives + self.false_negatives
        return self.true_positives / expected if expected else None


def load_passages(name: str) -> list[Passage]:
    path = DATA / f"indicators-{name}.jsonl"
    passages = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        labels = frozenset((item["kind"], item["value"]) for item in row["indicators"])
        passages.append(Passage(row["id"], row["language"], row["text"], labels))
    return passages


def score(passages: Iterable[Passage]) -> tuple[dict[tuple[str, str], Tally], list[str]]:
    """Tallies by (kind, language), "all" standing for either, and one line per error."""
    tallies: dict[tuple[str, str], Tally] = {}
    errors = []
    for passage in passages:
        found = extract_indicators(passage.text, language=passage.language)
        predicted = {(item.kind, item.value) for item in found}
        for kind, value in predicted | passage.labels:
            outcome = (
                "tp"
                if (kind, value) in predicted and (kind, value) in passage.labels
                else "fp"
                if (kind, value) in predicted
                else "fn"
            )
            for key in ((kind, passage.language), (kind, "all"), ("all", passage.language)):
                _count(tallies.setdefault(key, Tally()), outcome)
            _count(tallies.setdefault(("all", "all"), Tally()), outcome)
            if outcome != "tp":
                errors.append(f"{outcome.upper()} {passage.id} {kind} {value!r}: {passage.text}")
    return tallies, errors


def _count(tally: Tally, outcome: str) -> None:
    if outcome == "tp":
        tally.true_positives += 1
    elif outcome == "fp":
        tally.false_positives += 1
    else:
        tally.false_negatives += 1


def _ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def markdown_table(tallies: dict[tuple[str, str], Tally]) -> str:
    """Precision / recall (and the labels behind them) per kind and language."""
    columns = [*LANGUAGES, "all"]
    lines = [
        "| kind | " + " | ".join(columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for kind in [*KINDS, "all"]:
        cells = []
        for language in columns:
            tally = tallies.get((kind, language))
            if tally is None:
                cells.append("")
                continue
            expected = tally.true_positives + tally.false_negatives
            cells.append(f"{_ratio(tally.precision())} / {_ratio(tally.recall())} ({expected})")
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cpu_seconds_per_mb(texts: list[str], repeat: int) -> tuple[float, int]:
    """The best of `repeat` runs over `texts`, each extracted alone, in CPU s per MB."""
    best = float("inf")
    count = 0
    for _ in range(repeat):
        started = time.process_time()
        count = sum(len(extract_indicators(text, market="TH")) for text in texts)
        best = min(best, time.process_time() - started)
    size = sum(len(text.encode("utf-8")) for text in texts)
    return best / (size / 1_000_000), count


def _dense_text(size: int) -> str:
    """Text that is mostly candidates: numbers, dates, prices, URLs, handles, addresses."""
    line = (
        "โทร 081-234-5678 ราคา 1,290 บาท 12/05/2024 ไลน์ @shop88 "
        "hxxps://evil[.]example[.]com/a/b?c=1 mail me@example.co.th "
        "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb "
        "v1.2.3 +84 912 345 678 t.me/scam_support 2,345,678.90 "
    )
    return line * (size // len(line.encode("utf-8")) + 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=("dev", "blind", "both"), default="both")
    parser.add_argument("--errors", action="store_true", help="list every FP and FN")
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()

    started = time.perf_counter()
    extract_indicators("see example.com")
    print(f"first call (loads the suffix list): {time.perf_counter() - started:.3f} s\n")

    names = ("dev", "blind") if arguments.set == "both" else (arguments.set,)
    everything: list[Passage] = []
    for name in names:
        passages = load_passages(name)
        everything += passages
        tallies, errors = score(passages)
        counts = Counter(passage.language for passage in passages)
        shown = ", ".join(f"{language} {counts[language]}" for language in LANGUAGES)
        print(f"## {name}: {len(passages)} passages ({shown})")
        print("precision / recall (labels)\n")
        print(markdown_table(tallies))
        print()
        if arguments.errors:
            print("\n".join(errors) or "no errors")
            print()

    texts = [passage.text for passage in everything]
    articles = texts * (2_000_000 // len("".join(texts).encode("utf-8")) + 1)
    _print_speed("passages one by one", articles, arguments.repeat)
    joined = "\n".join(texts)
    _print_speed("passages as one text", [joined * (5_000_000 // len(joined.encode()) + 1)], 1)
    _print_speed("dense candidates as one text", [_dense_text(5_000_000)], 1)


def _print_speed(label: str, texts: list[str], repeat: int) -> None:
    per_mb, count = _cpu_seconds_per_mb(texts, repeat)
    size = sum(len(text.encode("utf-8")) for text in texts) / 1e6
    print(f"speed, {label} ({size:.1f} MB, {count} indicators): {per_mb:.3f} CPU s per MB")


if __name__ == "__main__":
    main()
