"""The labelled sets in benchmarks/data keep the shape the accuracy benchmark relies on.

`eval-<lang>.jsonl` is the main set (64 passages a language); `holdout-<lang>.jsonl` is a
smaller set kept out of watchlist tuning (24 a language), so the benchmark can report an
out-of-sample score too. `fresh-<lang>.jsonl` (40 a language, exactly 20 relevant) was written
after the watchlists were tuned, by someone who had not read them, and is never tuned on;
`fresh2-<lang>.jsonl` is a second set of the same shape, written later in the same way.

These tests check the data, not the matcher: counts and balance per language, valid labels, and
that every deliberate trap (Zawgyi, Vietnamese without diacritics, NFD, decomposed sara am,
zero-width spaces, line breaks inside terms) is really present in the text, so an editor that
"cleans up" the file cannot silently remove what the benchmark is meant to measure.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import icu
import myanmartools
import pytest

DATA = Path(__file__).resolve().parents[1] / "benchmarks" / "data"
LANGUAGES = ("th", "vi", "my", "en")
CATEGORIES = {"fraud", "gambling", "deepfake", "elections", "regulator", "privacy", "influencer"}
TRAITS = {
    "trap", "code-mixed", "zawgyi", "no-diacritics", "old-tone", "nfd",
    "sara-am-decomposed", "zwsp", "linebreak",
}  # fmt: skip
MARKETS = {"th": {"TH"}, "vi": {"VN"}, "my": {"MM"}, "en": {"TH", "VN", "MM"}}
FIELDS = {"id", "language", "market", "text", "relevant", "categories", "note", "traits"}

DETECTOR = myanmartools.ZawgyiDetector()


# minimum passages, id infix
SETS = {"eval": (60, ""), "holdout": (24, "h"), "fresh": (40, "f"), "fresh2": (40, "g")}
FRESH_SETS = ("fresh", "fresh2")  # never tuned on: exactly 20 relevant and 20 not a language


def _load(subset: str, language: str) -> list[dict[str, Any]]:
    path = DATA / f"{subset}-{language}.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


ALL = {language: _load("eval", language) for language in LANGUAGES}
HOLDOUT = {language: _load("holdout", language) for language in LANGUAGES}
FRESH = {language: _load("fresh", language) for language in LANGUAGES}
FRESH2 = {language: _load("fresh2", language) for language in LANGUAGES}
BY_SET = {"eval": ALL, "holdout": HOLDOUT, "fresh": FRESH, "fresh2": FRESH2}


def _with(language: str, trait: str, subset: str = "eval") -> list[dict[str, Any]]:
    return [p for p in BY_SET[subset][language] if trait in p["traits"]]


@pytest.mark.parametrize("subset", SETS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_each_language_has_enough_passages_about_half_relevant(subset: str, language: str) -> None:
    passages = BY_SET[subset][language]
    relevant = sum(1 for p in passages if p["relevant"])
    assert len(passages) >= SETS[subset][0]
    assert 0.4 <= relevant / len(passages) <= 0.6, f"{language}: {relevant}/{len(passages)}"


@pytest.mark.parametrize("subset", FRESH_SETS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_fresh_set_has_exactly_twenty_relevant_and_twenty_not(subset: str, language: str) -> None:
    labels = Counter(p["relevant"] for p in BY_SET[subset][language])
    assert labels == {True: 20, False: 20}, f"{subset} {language}: {labels}"


@pytest.mark.parametrize("subset", FRESH_SETS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_fresh_set_has_hard_negatives(subset: str, language: str) -> None:
    # Harmless uses of risky words (a deepfake film, lottery results, a club election...).
    traps = [p for p in BY_SET[subset][language] if not p["relevant"] and "trap" in p["traits"]]
    assert len(traps) >= 8, f"{subset} {language}: {len(traps)}"


@pytest.mark.parametrize("subset", SETS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_records_have_valid_fields_and_labels(subset: str, language: str) -> None:
    infix = SETS[subset][1]
    for number, p in enumerate(BY_SET[subset][language], 1):
        where = f"{subset} {language} line {number}"
        assert FIELDS <= set(p), f"{where}: missing {FIELDS - set(p)}"
        assert p["id"] == f"{language}-{infix}{number:03d}", where
        assert p["language"] == language, where
        assert p["market"] in MARKETS[language], where
        assert isinstance(p["relevant"], bool), where
        categories = p["categories"]
        assert isinstance(categories, list) and set(categories) <= CATEGORIES, where
        # A passage is relevant exactly when it is about at least one risk theme.
        assert bool(categories) == p["relevant"], where
        assert isinstance(p["traits"], list) and set(p["traits"]) <= TRAITS, where
        text = p["text"]
        assert isinstance(text, str) and 40 <= len(text) <= 700, f"{where}: length {len(text)}"


def test_ids_and_texts_are_unique_across_languages_and_sets() -> None:
    passages = [p for subset in BY_SET.values() for language in LANGUAGES for p in subset[language]]
    ids = Counter(p["id"] for p in passages)
    assert [i for i, n in ids.items() if n > 1] == []
    texts = Counter(
        unicodedata.normalize("NFC", str(p.get("unicode", p["text"]))).casefold() for p in passages
    )
    assert [t[:40] for t, n in texts.items() if n > 1] == []


@pytest.mark.parametrize("subset", SETS)
def test_every_category_has_relevant_passages_in_every_language(subset: str) -> None:
    for language in LANGUAGES:
        seen = Counter(c for p in BY_SET[subset][language] for c in p["categories"])
        assert set(seen) == CATEGORIES, f"{language}: missing {CATEGORIES - set(seen)}"


@pytest.mark.parametrize(
    ("subset", "minimum"), [("eval", 8), ("holdout", 4), ("fresh", 3), ("fresh2", 3)]
)
def test_zawgyi_passages_really_are_zawgyi(subset: str, minimum: int) -> None:
    zawgyi = _with("my", "zawgyi", subset)
    assert len(zawgyi) >= minimum
    assert {p["relevant"] for p in zawgyi} == {True, False}
    to_zawgyi = icu.Transliterator.createInstance("my-Zawgyi")
    for p in zawgyi:
        assert DETECTOR.get_zawgyi_probability(p["text"]) > 0.95, p["id"]
        # The Unicode original is kept so a typo can be fixed and the line regenerated.
        assert to_zawgyi.transliterate(p["unicode"]) == p["text"], p["id"]


@pytest.mark.parametrize("subset", SETS)
def test_other_burmese_passages_are_unicode(subset: str) -> None:
    for p in BY_SET[subset]["my"]:
        if "zawgyi" not in p["traits"]:
            assert DETECTOR.get_zawgyi_probability(p["text"]) < 0.05, p["id"]


@pytest.mark.parametrize(
    ("subset", "minimum"), [("eval", 8), ("holdout", 2), ("fresh", 3), ("fresh2", 3)]
)
def test_vietnamese_without_diacritics_is_plain_ascii(subset: str, minimum: int) -> None:
    plain = _with("vi", "no-diacritics", subset)
    assert len(plain) >= minimum
    for p in plain:
        assert str(p["text"]).isascii(), p["id"]


@pytest.mark.parametrize("subset", FRESH_SETS)
def test_fresh_vietnamese_is_nfc(subset: str) -> None:
    for p in BY_SET[subset]["vi"]:
        assert p["text"] == unicodedata.normalize("NFC", str(p["text"])), p["id"]


def test_vietnamese_old_tone_placement_and_nfd_are_present() -> None:
    old_style = re.compile(r"(?i)(oà|oá|oả|oã|oạ|oè|oé|oẻ|oẽ|oẹ|uỳ|uý|uỷ|uỹ|uỵ)")
    old = _with("vi", "old-tone")
    assert len(old) >= 3
    for p in old:
        assert old_style.search(str(p["text"])), p["id"]
    nfd = _with("vi", "nfd")
    assert len(nfd) >= 3
    for p in nfd:
        text = str(p["text"])
        assert text != unicodedata.normalize("NFC", text), p["id"]
        assert text == unicodedata.normalize("NFD", text), p["id"]


def test_thai_decomposed_sara_am_is_present() -> None:
    decomposed = _with("th", "sara-am-decomposed")
    assert len(decomposed) >= 3
    for p in decomposed:
        text = str(p["text"])
        assert "\u0e4d\u0e32" in text and "\u0e33" not in text, p["id"]


@pytest.mark.parametrize("language", ["th"])
def test_zero_width_spaces_and_line_breaks_sit_inside_words(language: str) -> None:
    zwsp = _with(language, "zwsp")
    breaks = _with(language, "linebreak")
    assert zwsp and breaks
    assert any("พนัน\u200bออนไลน์" in str(p["text"]) for p in zwsp)
    assert any("โฆษณา\nหลอกลวง" in str(p["text"]) for p in breaks)


@pytest.mark.parametrize(
    ("language", "needle", "relevant"),
    [
        ("th", "ตาราง", False),
        ("th", "พยายาม", False),
        ("th", "เว็บพนันออนไลน์", True),
        ("th", "ดีพเฟค", True),
        ("th", "ดีปเฟค", True),
        ("th", "ติ๊กต็อก", True),
        ("vi", "mai", False),
        ("en", " bad,", False),
        ("en", "scampi", False),
        ("en", "ad hoc", False),
        ("my", "ထီး", False),
        ("my", "လိမ္မော်", False),
    ],
)
def test_boundary_traps_are_in_the_set(language: str, needle: str, relevant: bool) -> None:
    found = [p for p in ALL[language] if needle in str(p.get("unicode", p["text"]))]
    assert any(p["relevant"] is relevant for p in found), f"{needle!r} with relevant={relevant}"


@pytest.mark.parametrize("subset", ["eval", *FRESH_SETS])
@pytest.mark.parametrize("language", ["th", "my", "vi"])
def test_code_mixed_passages_carry_latin_brand_names(language: str, subset: str) -> None:
    mixed = _with(language, "code-mixed", subset)
    assert len(mixed) >= 5
    for p in mixed:
        assert re.search(r"[A-Za-z]{2,}", str(p.get("unicode", p["text"]))), p["id"]


@pytest.mark.parametrize("subset", SETS)
def test_thai_and_burmese_passages_do_not_mix_scripts(subset: str) -> None:
    # A stray Burmese vowel in a Thai word (or the reverse) is a typo no analyst would write.
    foreign = {"th": re.compile("[\u1000-\u109f]"), "my": re.compile("[\u0e00-\u0e7f]")}
    for language, pattern in foreign.items():
        for p in BY_SET[subset][language]:
            assert not pattern.search(str(p.get("unicode", p["text"]))), p["id"]


def _accuracy_module() -> Any:
    # benchmarks/ is a folder of scripts, not a package: load the benchmark by its path.
    path = DATA.parents[0] / "accuracy.py"
    spec = importlib.util.spec_from_file_location("adwatch_accuracy_benchmark", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("subset", FRESH_SETS)
def test_accuracy_benchmark_loads_each_fresh_set(subset: str) -> None:
    # Only the loading: scoring a fresh set is done once, on purpose, not on every test run.
    accuracy = _accuracy_module()
    args = accuracy.parse_args(["--set", subset])
    passages = accuracy.load_passages(DATA, accuracy.LANGUAGES, subset=args.subset)
    assert len(passages) == 160
    assert sum(p.relevant for p in passages) == 80
    assert {p.id.split("-")[1][0] for p in passages} == {SETS[subset][1]}
    zawgyi = [p for p in passages if "zawgyi" in p.traits]
    assert len(zawgyi) >= 3 and all(p.language == "my" for p in zawgyi)
