"""vi vs en language identification: accuracy, time and memory of the candidates.

Runs on the labelled lines in tests/data/lang/labelled.tsv (label, kind, text; kinds:
vi-diacritics, vi-plain (the same headlines without diacritics), en, mixed (code-mixed and
brand names), script (Thai and Burmese lines, decided by script)), plus, with
--corpus DIR, the English article texts in DIR/en/*.expected.txt and the Vietnamese
feed items in DIR/vi/*.xml.

Candidates, all measured in the same run:
- langdetect-all: langdetect with all 55 profiles (seeded), vi if P(vi) > P(en);
- langdetect-envi: langdetect loaded with only the en and vi profiles (seeded);
- lingua: lingua-language-detector restricted to EN, VI, TH (skipped if not installed;
  it is not a dependency of adwatch);
- evidence: Vietnamese letters and common syllables vs English function words only;
- evidence+lingua: the evidence, and lingua where the evidence is not clear;
- adwatch: adwatch.text.language.detect_language (the evidence, then langdetect-envi).

Usage: python benchmarks/language_id.py [--labelled FILE] [--corpus DIR]
"""

from __future__ import annotations

import argparse
import html
import re
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from adwatch.text import language as lang

Detector = Callable[[str], str | None]
DEFAULT_LABELLED = Path(__file__).resolve().parent.parent / "tests/data/lang/labelled.tsv"


def rss_mb() -> float:
    """Resident memory of this process (Linux)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * 4096 / 1e6


def load_labelled(path: Path) -> list[tuple[str, str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, kind, text = line.split("\t", 2)
            rows.append((label, kind, text))
    return rows


def load_corpus(corpus: Path) -> list[tuple[str, str, str]]:
    rows = []
    for path in sorted((corpus / "en").glob("*.expected.txt")):
        rows.append(("en", "article-en", path.read_text(encoding="utf-8")))
    for path in sorted((corpus / "vi").glob("*.xml")):
        raw = path.read_text(encoding="utf-8")
        for item in re.findall(r"<item>(.*?)</item>", raw, re.S):
            text = re.sub(r"<[^>]+>|<!\[CDATA\[|\]\]>", " ", item)
            rows.append(("vi", "article-vi", html.unescape(text)))
    return rows


def timed(label: str, build: Callable[[], Detector]) -> tuple[Detector, str]:
    before, started = rss_mb(), time.perf_counter()
    detector = build()
    note = f"load {time.perf_counter() - started:5.2f} s, +{rss_mb() - before:5.0f} MB"
    return detector, note


def langdetect_all() -> Detector:
    from langdetect import DetectorFactory, detect_langs

    DetectorFactory.seed = 0

    def detect(text: str) -> str:
        try:
            probabilities = {r.lang: r.prob for r in detect_langs(text)}
        except Exception:  # langdetect raises on text without features
            return "en"
        return "vi" if probabilities.get("vi", 0) > probabilities.get("en", 0) else "en"

    detect("warm up the profiles")
    return detect


def langdetect_envi() -> Detector:
    def detect(text: str) -> str:
        probabilities = lang.langdetect_probabilities(text)
        return "vi" if probabilities.get("vi", 0) > probabilities.get("en", 0) else "en"

    detect("warm up")
    return detect


def lingua_model() -> Callable[[str], dict[str, float]]:
    from lingua import Language, LanguageDetectorBuilder

    built = LanguageDetectorBuilder.from_languages(
        Language.ENGLISH, Language.VIETNAMESE, Language.THAI
    ).build()
    codes = {Language.ENGLISH: "en", Language.VIETNAMESE: "vi", Language.THAI: "th"}

    def probabilities(text: str) -> dict[str, float]:
        values = built.compute_language_confidence_values(text)
        return {codes[value.language]: value.value for value in values}

    probabilities("warm up")
    return probabilities


def lingua_detector() -> Detector:
    model = lingua_model()

    def detect(text: str) -> str:
        found = model(text)
        return "vi" if found.get("vi", 0) > found.get("en", 0) else "en"

    return detect


def evidence_only(text: str) -> str:
    vietnamese, english = lang.vietnamese_evidence(text)
    return "vi" if vietnamese > english else "en"


def evidence_then_lingua() -> Detector:
    model = lingua_model()
    return lambda text: lang.latin_language(text, model=model)[0]


def candidates() -> dict[str, tuple[Detector, str]]:
    found = {
        "langdetect-all": timed("langdetect-all", langdetect_all),
        "langdetect-envi": timed("langdetect-envi", langdetect_envi),
        "evidence": (evidence_only, "no model"),
    }
    try:
        lingua, note = timed("lingua", lingua_detector)
    except ImportError:
        print("lingua-language-detector is not installed: skipped")
    else:
        found["lingua"] = (lingua, note)
        found["evidence+lingua"] = (evidence_then_lingua(), note)
    found["adwatch"] = (lang.detect_language, "langdetect-envi")
    return found


def measure(rows: list[tuple[str, str, str]]) -> None:
    kinds = sorted({kind for _, kind, _ in rows})
    widths = [max(len(kind), 7) for kind in kinds]
    header = " ".join(f"{kind:>{width}}" for kind, width in zip(kinds, widths, strict=True))
    print(f"{'detector':16} {header}   total  µs/line  cost")
    for name, (detect, note) in candidates().items():
        right: dict[str, int] = defaultdict(int)
        total: dict[str, int] = defaultdict(int)
        misses = []
        started = time.perf_counter()
        for label, kind, text in rows:
            if kind == "script" and name != "adwatch":
                continue  # Thai and Burmese are decided by script, not by these models
            total[kind] += 1
            got = detect(text)
            if got == label:
                right[kind] += 1
            else:
                misses.append(f"{got}: {text[:70]}")
        per_line = (time.perf_counter() - started) / max(1, sum(total.values())) * 1e6
        cells = " ".join(
            f"{f'{right[k]}/{total[k]}' if total[k] else '-':>{width}}"
            for k, width in zip(kinds, widths, strict=True)
        )
        score = f"{sum(right.values())}/{sum(total.values())}"
        print(f"{name:16} {cells} {score:>7} {per_line:8.0f}  {note}")
        for miss in misses:
            print(f"{'':17}miss -> {miss}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labelled", type=Path, default=DEFAULT_LABELLED)
    parser.add_argument("--corpus", type=Path, help="folder with en/ and vi/ real articles")
    args = parser.parse_args()
    rows = load_labelled(args.labelled)
    if args.corpus:
        rows += load_corpus(args.corpus)
    measure(rows)


if __name__ == "__main__":
    main()
