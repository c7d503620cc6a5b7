"""Precision and recall of adwatch's matching on the labelled set, beside a naive matcher.

For every passage in benchmarks/data/eval-<language>.jsonl:

- adwatch: Zawgyi is converted first (`adwatch.text.zawgyi.fix_zawgyi`, as the scan does before
  storing), the language is detected (`lang.detect_language`, no hint), then the shipped
  watchlists run through `match.Matcher`. The passage is predicted relevant when any
  watchlist fires.
- naive: a case-insensitive `term in text` over every watchlist's terms on the raw text
  (for a query watchlist, its quoted phrases and words, leaving out the ones under NOT).

Prints precision, recall and F1 per language and overall for both, then adwatch's false
positives (passage, watchlist, term, matched text) and false negatives, so terms can be
improved. `--json` prints the same as one JSON document.

`--set fresh` scores benchmarks/data/fresh-<language>.jsonl: 40 passages a language written
after the watchlists were tuned and never used to change them. `--set fresh2` scores
benchmarks/data/fresh2-<language>.jsonl, a second such set (40 a language, 20 relevant), written
later by someone who had read neither the watchlists nor the other sets.

    python benchmarks/accuracy.py [--json] [--set fresh2] [--language th] [--min-severity medium]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"
SHIPPED_CONFIG = ROOT / "src" / "adwatch" / "data" / "feeds.yaml"
LANGUAGES = ("th", "vi", "my", "en")
SEVERITIES = ("low", "medium", "high", "critical")


@dataclass(frozen=True)
class Passage:
    id: str
    language: str
    market: str
    text: str
    relevant: bool
    categories: tuple[str, ...]
    note: str
    traits: tuple[str, ...] = ()


@dataclass(frozen=True)
class Hit:
    watchlist: str
    term: str
    matched_text: str


@dataclass(frozen=True)
class Verdict:
    passage: Passage
    detected_language: str | None
    adwatch: tuple[Hit, ...]  # keyword hits
    naive: tuple[Hit, ...]
    semantic: tuple[Hit, ...] = ()  # watchlists whose descriptions fired
    categories: dict[str, str] | None = None  # watchlist -> category

    @property
    def either(self) -> tuple[Hit, ...]:
        return self.adwatch + self.semantic

    def own_theme(self, which: str) -> bool:
        """Whether a watchlist that fired (of `which` hits) is of the passage's own theme."""
        categories = self.categories or {}
        return any(
            categories.get(hit.watchlist) in self.passage.categories for hit in getattr(self, which)
        )


@dataclass(frozen=True)
class Score:
    passages: int
    tp: int
    fp: int
    fn: int
    tn: int
    own: int = 0  # true positives where a watchlist of the passage's own theme fired

    @property
    def own_rate(self) -> float:
        """Of the relevant passages, how many fired a watchlist of their own theme."""
        return self.own / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "own_theme": round(self.own_rate, 4),
        }


# --- loading ---------------------------------------------------------------------------


def load_passages(
    data_dir: Path, languages: Iterable[str], *, subset: str = "eval"
) -> list[Passage]:
    """Every labelled passage of the given languages, in file order."""
    passages: list[Passage] = []
    for language in languages:
        path = data_dir / f"{subset}-{language}.jsonl"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                passages.append(
                    Passage(
                        id=record["id"],
                        language=record["language"],
                        market=record["market"],
                        text=record["text"],
                        relevant=bool(record["relevant"]),
                        categories=tuple(record["categories"]),
                        note=record.get("note", ""),
                        traits=tuple(record.get("traits", ())),
                    )
                )
            except (ValueError, KeyError) as exc:
                raise SystemExit(f"{path}:{number}: bad passage record: {exc!r}") from exc
    return passages


def select_watchlists(
    watchlists: Sequence[Any], min_severity: str, skip: Sequence[str]
) -> list[Any]:
    """The watchlists at or above `min_severity`, minus the ones named in `skip`."""
    floor = SEVERITIES.index(min_severity)
    return [w for w in watchlists if SEVERITIES.index(w.severity) >= floor and w.name not in skip]


# --- the naive matcher -----------------------------------------------------------------


def query_terms(query: str) -> list[str]:
    """The words and phrases of a query that can make it fire (those under NOT cannot)."""
    from adwatch import rules

    terms: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, rules.Not):
            return
        if isinstance(node, rules.Term | rules.Phrase):
            terms.append(node.text.rstrip("*"))
            return
        if isinstance(node, rules.Near):
            walk(node.left)
            walk(node.right)
            return
        for child in getattr(node, "children", ()):
            walk(child)

    walk(rules.parse_query(query))
    return terms


def naive_term_lists(watchlists: Sequence[Any]) -> list[tuple[str, list[str]]]:
    """(watchlist name, lower-cased terms) for the substring baseline."""
    lists = []
    for w in watchlists:
        terms = query_terms(w.query) if w.query else w.all_terms()
        lists.append((w.name, list(dict.fromkeys(t.lower() for t in terms if t.strip()))))
    return lists


def naive_hits(text: str, term_lists: Sequence[tuple[str, list[str]]]) -> tuple[Hit, ...]:
    """Every (watchlist, term) whose term is a substring of the text, ignoring case."""
    lowered = text.lower()
    hits = []
    for name, terms in term_lists:
        for term in terms:
            position = lowered.find(term)
            if position >= 0:
                hits.append(Hit(name, term, text[position : position + len(term)]))
    return tuple(hits)


# --- adwatch ---------------------------------------------------------------------------


def language_detector() -> tuple[Callable[[Passage, str], str | None], str]:
    """adwatch's detector, or the passage's own label while adwatch.text.language does not exist."""
    try:
        from adwatch.text.language import detect_language
    except ImportError:
        return (
            lambda passage, text: passage.language
        ), "labels (adwatch.text.language not importable)"
    return (lambda passage, text: detect_language(text)), "adwatch.text.language.detect_language"


def adwatch_verdicts(
    passages: Sequence[Passage],
    watchlists: Sequence[Any],
) -> tuple[list[tuple[str | None, tuple[Hit, ...]]], dict[str, Any]]:
    """(detected language, hits) per passage, and timings and settings for the report."""
    from adwatch.match import Matcher
    from adwatch.text.zawgyi import fix_zawgyi

    detect, detector_name = language_detector()
    started = time.perf_counter()
    matcher = Matcher.build(watchlists)
    built = time.perf_counter()
    results = []
    for passage in passages:
        text, _converted = fix_zawgyi(passage.text)
        language = detect(passage, text)
        matches = matcher.match(text, market=passage.market, language=language)
        hits = tuple(Hit(m.watchlist, m.term, m.matched_text) for m in matches)
        results.append((language, hits))
    finished = time.perf_counter()
    info = {
        "language_detection": detector_name,
        "build_seconds": round(built - started, 3),
        "match_seconds": round(finished - built, 3),
    }
    return results, info


# --- scoring and output ----------------------------------------------------------------


MATCHERS = ("adwatch", "either", "semantic", "naive")


def score(verdicts: Sequence[Verdict], which: str) -> Score:
    """Confusion counts of one matcher over the verdicts: "adwatch" (keywords), "semantic",
    "either" (keywords or semantic, what a scan stores) or "naive"."""
    tp = fp = fn = tn = own = 0
    for verdict in verdicts:
        predicted = bool(getattr(verdict, which))
        actual = verdict.passage.relevant
        tp += predicted and actual
        fp += predicted and not actual
        fn += actual and not predicted
        tn += not actual and not predicted
        own += predicted and actual and verdict.own_theme(which)
    return Score(len(verdicts), tp, fp, fn, tn, own)


def scores_by_language(verdicts: Sequence[Verdict]) -> dict[str, dict[str, Score]]:
    """{language or "all": {"adwatch": Score, "naive": Score}}."""
    groups: dict[str, list[Verdict]] = {}
    for verdict in verdicts:
        groups.setdefault(verdict.passage.language, []).append(verdict)
    groups["all"] = list(verdicts)
    return {
        language: {which: score(group, which) for which in MATCHERS}
        for language, group in groups.items()
    }


def scores_by_trait(verdicts: Sequence[Verdict]) -> dict[str, Score]:
    """adwatch's score over the passages carrying each trait (Zawgyi, NFD, traps…)."""
    groups: dict[str, list[Verdict]] = {}
    for verdict in verdicts:
        for trait in verdict.passage.traits:
            groups.setdefault(trait, []).append(verdict)
    return {trait: score(group, "adwatch") for trait, group in sorted(groups.items())}


def errors(verdicts: Sequence[Verdict]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """adwatch's false positives (one row per hit) and false negatives."""
    false_positives = [
        {"id": v.passage.id, "note": v.passage.note, **asdict(hit)}
        for v in verdicts
        if not v.passage.relevant
        for hit in v.adwatch
    ]
    false_negatives = [
        {
            "id": v.passage.id,
            "categories": list(v.passage.categories),
            "note": v.passage.note,
            "detected_language": v.detected_language,
            "naive_hits": [f"{h.watchlist}:{h.term}" for h in v.naive],
        }
        for v in verdicts
        if v.passage.relevant and not v.adwatch
    ]
    return false_positives, false_negatives


def _row(label: str, scores: dict[str, Score]) -> str:
    cells = [f"{label:<5} {scores['adwatch'].passages:>4}"]
    for which in MATCHERS:
        s = scores[which]
        own = f" {s.own_rate:>5.2f}" if which != "naive" else ""
        cells.append(f"{s.precision:>6.3f} {s.recall:>6.3f}{own} {s.fp:>3} {s.fn:>3}")
    return "  ".join(cells)


def render_text(
    table: dict[str, dict[str, Score]],
    false_positives: list[dict[str, Any]],
    false_negatives: list[dict[str, Any]],
    mismatches: list[dict[str, Any]],
    traits: dict[str, Score],
    info: dict[str, Any],
) -> str:
    lines = [
        f"set: {info['set']}; watchlists: {', '.join(info['watchlists'])}",
        f"language: {info['language_detection']}; matcher build {info['build_seconds']} s, "
        f"match {info['match_seconds']} s for {table['all']['adwatch'].passages} passages",
        "",
        f"semantic: {info.get('semantic', 'off')}"
        + (
            f"; embedding {info['embed_cpu_ms_per_passage']} ms CPU a passage "
            f"({info['embedded_characters_per_passage']} characters embedded on average)"
            if "embed_cpu_ms_per_passage" in info
            else ""
        ),
        "",
        f"{'':<5} {'':>4}  {'keywords':-^27}  {'keywords or semantic':-^27}  "
        f"{'semantic alone':-^27}  {'naive substring':-^21}",
        f"{'lang':<5} {'n':>4}"
        + f"  {'prec':>6} {'recall':>6} {'own':>5} {'FP':>3} {'FN':>3}" * 3
        + f"  {'prec':>6} {'recall':>6} {'FP':>3} {'FN':>3}",
    ]
    for language in [*LANGUAGES, "all"]:
        if language in table:
            lines.append(_row(language, table[language]))
    lines += ["", "adwatch by trait (the traps and encodings the set was built to test):"]
    lines += [
        f"  {trait:<19} n={t.passages:<3} TP={t.tp:<3} FN={t.fn:<3} FP={t.fp:<3} TN={t.tn:<3}"
        for trait, t in traits.items()
    ]
    lines += ["", f"adwatch false positives ({len(false_positives)} hits):"]
    lines += [
        f"  {fp['id']:<7} {fp['watchlist']:<26} {fp['term']!r} matched {fp['matched_text']!r}"
        f"   [{fp['note']}]"
        for fp in false_positives
    ] or ["  none"]
    semantic_fps = [
        f"  {v['id']:<7} {v['watchlist']:<26} {v['term']!r}   [{v['note']}]"
        for v in info.get("semantic_false_positives", [])
    ]
    lines += ["", f"semantic-only false positives ({len(semantic_fps)}):", *semantic_fps]
    lines += ["", f"adwatch false negatives ({len(false_negatives)} passages):"]
    lines += [
        f"  {fn['id']:<7} {','.join(fn['categories']):<22} [{fn['note']}]"
        + (f"  naive: {', '.join(fn['naive_hits'])}" if fn["naive_hits"] else "")
        for fn in false_negatives
    ] or ["  none"]
    if mismatches:
        lines += ["", f"language detected differently from the label ({len(mismatches)}):"]
        lines += [
            f"  {m['id']:<7} labelled {m['label']}, detected {m['detected']}" for m in mismatches
        ]
    return "\n".join(lines)


def semantic_verdicts(
    passages: Sequence[Passage],
    languages: Sequence[str | None],
    watchlists: Sequence[Any],
    model_name: str,
) -> tuple[list[tuple[Hit, ...]], dict[str, Any]]:
    """Per passage, the watchlists whose descriptions fired, as the scan's workers decide
    it (the passage's lead embedded once, scored against the shipped background); and the
    CPU cost of embedding per passage."""
    from adwatch.semantic.embed import load_embedder
    from adwatch.semantic.stage import SemanticSettings, SemanticStage, embed_queries, query_texts
    from adwatch.text.zawgyi import fix_zawgyi

    embedder = load_embedder(model_name)
    settings = SemanticSettings(
        model_name=model_name,
        model=embedder.model,
        watchlists=tuple(w for w in watchlists if w.semantic),
        query_vectors=embed_queries(embedder, query_texts(watchlists)),
    )
    stage = SemanticStage(settings)
    results, seconds, characters = [], 0.0, 0
    for passage, language in zip(passages, languages, strict=True):
        text, _ = fix_zawgyi(passage.text)
        started = time.process_time()
        vector, lead = stage.embed(text)
        seconds += time.process_time() - started
        characters += lead.end - lead.start
        found = stage.index.score(vector, market=passage.market, language=language)
        results.append(
            tuple(Hit(f.watchlist, f.label, f"{f.score:.3f}>={f.threshold:.3f}") for f in found)
        )
    info = {
        "semantic": f"{embedder.model}, background {stage.index.origin}",
        "embed_cpu_ms_per_passage": round(1000 * seconds / max(1, len(passages)), 1),
        "embedded_characters_per_passage": round(characters / max(1, len(passages))),
    }
    return results, info


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--config", type=Path, default=SHIPPED_CONFIG, help="feeds.yaml to measure")
    parser.add_argument("--data", type=Path, default=DATA, help="folder of <set>-<lang>.jsonl")
    parser.add_argument(
        "--set",
        dest="subset",
        choices=("eval", "holdout", "both", "fresh", "fresh2", "dev", "blind"),
        default="eval",
        help="eval: the 256-passage set; holdout: 96 passages kept out of term tuning; "
        "fresh, fresh2: 160 passages each, written after tuning and never tuned on; "
        "dev: 200 passages for tuning semantic descriptions and broader terms; "
        "blind: 200 passages never used for tuning anything",
    )
    parser.add_argument(
        "--no-semantic", action="store_true", help="keywords only (no embedding model needed)"
    )
    parser.add_argument(
        "--language", action="append", choices=LANGUAGES, help="only these languages (repeat)"
    )
    parser.add_argument(
        "--min-severity",
        choices=SEVERITIES,
        default="low",
        help="count only watchlists at or above this severity (default: every watchlist)",
    )
    parser.add_argument(
        "--skip", action="append", default=[], metavar="WATCHLIST", help="leave out a watchlist"
    )
    parser.add_argument(
        "--show-hits", action="store_true", help="also list adwatch's hits for every passage"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    from adwatch.config import load_config

    config = load_config(args.config)
    watchlists = select_watchlists(config.watchlists, args.min_severity, args.skip)
    subsets = ("eval", "holdout") if args.subset == "both" else (args.subset,)
    passages = [
        p
        for subset in subsets
        for p in load_passages(args.data, args.language or LANGUAGES, subset=subset)
    ]
    results, info = adwatch_verdicts(passages, watchlists)
    semantic: list[tuple[Hit, ...]] = [() for _ in passages]
    if not args.no_semantic and any(w.semantic for w in watchlists):
        semantic, semantic_info = semantic_verdicts(
            passages, [language for language, _ in results], watchlists, config.embeddings.model
        )
        info.update(semantic_info)
    term_lists = naive_term_lists(watchlists)
    categories = {w.name: w.category for w in watchlists}
    verdicts = [
        Verdict(
            passage,
            language,
            hits,
            naive_hits(passage.text, term_lists),
            semantic=found,
            categories=categories,
        )
        for passage, (language, hits), found in zip(passages, results, semantic, strict=True)
    ]
    info["semantic_false_positives"] = [
        {"id": v.passage.id, "note": v.passage.note, **asdict(hit)}
        for v in verdicts
        if not v.passage.relevant and not v.adwatch
        for hit in v.semantic
    ]
    table = scores_by_language(verdicts)
    false_positives, false_negatives = errors(verdicts)
    traits = scores_by_trait(verdicts)
    mismatches = [
        {"id": v.passage.id, "label": v.passage.language, "detected": v.detected_language}
        for v in verdicts
        if v.detected_language != v.passage.language
    ]
    info["watchlists"] = [w.name for w in watchlists]
    info["set"] = args.subset
    if args.json:
        document = {
            "config": str(args.config),
            **info,
            "scores": {
                language: {name: s.as_dict() for name, s in pair.items()}
                for language, pair in table.items()
            },
            "traits": {trait: t.as_dict() for trait, t in traits.items()},
            "false_positives": false_positives,
            "false_negatives": false_negatives,
            "language_mismatches": mismatches,
        }
        json.dump(document, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        print(render_text(table, false_positives, false_negatives, mismatches, traits, info))
        if args.show_hits:
            print("\nadwatch hits per passage:")
            for v in verdicts:
                label = "relevant" if v.passage.relevant else "not relevant"
                found = "; ".join(f"{h.watchlist}:{h.matched_text!r}" for h in v.adwatch)
                print(f"  {v.passage.id:<7} {label:<12} {found or '-'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
