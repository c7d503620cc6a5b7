from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adwatch.text.scripts import char_script
from adwatch.text.segment import (
    MYANMAR_OPTIONAL_SPACE,
    myanmar_space_free_pieces,
    myanmar_space_is_optional,
    myanmar_syllable_boundary,
    myanmar_syllables,
    safe_cut,
    thai_cluster_boundaries,
    thai_clusters,
    thai_spans_ok,
    thai_words,
)


def _spans_of(term: str, text: str) -> list[tuple[int, int]]:
    spans, at = [], text.find(term)
    while at >= 0:
        spans.append((at, at + len(term)))
        at = text.find(term, at + 1)
    assert spans, f"{term!r} does not occur in {text!r}"
    return spans


def _whole_word_everywhere(term: str, text: str) -> list[bool]:
    return thai_spans_ok(text, _spans_of(term, text))


# --- scripts -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("char", "script"),
    [
        ("a", "word"),
        ("ư", "word"),
        ("7", "word"),
        ("\u0301", "word"),  # a combining accent belongs to the word it sits on
        ("ก", "thai"),
        ("\u0e31", "thai"),
        ("က", "myanmar"),
        ("\u103a", "myanmar"),
        (" ", "other"),
        ("-", "other"),
        ("#", "other"),
    ],
)
def test_char_script(char: str, script: str) -> None:
    assert char_script(char) == script


# --- Thai clusters and words ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "clusters"),
    [
        ("ติ๊กต็อก", ["ติ๊", "ก", "ต็", "อ", "ก"]),
        ("เกี่ยว", ["เกี่ย", "ว"]),
        ("ไลน์", ["ไลน์"]),
        ("โฆษณา", ["โฆ", "ษ", "ณา"]),
        ("ab ก", ["a", "b", " ", "ก"]),
    ],
)
def test_thai_clusters(text: str, clusters: list[str]) -> None:
    assert thai_clusters(text) == clusters
    assert thai_cluster_boundaries(text) == {
        0,
        *(len("".join(clusters[: i + 1])) for i in range(len(clusters))),
    }


def test_a_thai_cluster_is_never_cut_between_consonant_and_vowel() -> None:
    boundaries = thai_cluster_boundaries("โฆษณาหลอกลวง")
    assert 4 not in boundaries  # between ณ and า
    assert 1 not in boundaries  # between the leading vowel โ and ฆ


def test_thai_words_join_back_into_the_text() -> None:
    text = "ผ่านTikTokและ Facebook ๆ 2567"
    assert "".join(thai_words(text)) == text
    assert "TikTok" in thai_words(text)


@pytest.mark.parametrize(
    ("term", "text", "expected"),
    [
        # A short word inside a longer dictionary word is not the word.
        ("ตา", "ดูตารางเวลา", [False]),
        ("ตา", "ตาราง", [False]),
        ("ยา", "ยาว", [False]),
        ("ยา", "ผมพยายามยาวนาน", [False, False, False]),
        ("กา", "กาแฟร้อน", [False]),
        # The same words standing alone are.
        ("ตา", "ตาของเขา", [True]),
        ("ยา", "ซื้อยาที่ร้าน", [True]),
        # Compounds: the parts of a dictionary word made of words.
        ("พนันออนไลน์", "เว็บพนันออนไลน์", [True]),
        ("พนันออนไลน์", "เล่นการพนันออนไลน์", [True]),
        ("พนัน", "เล่นการพนันออนไลน์", [True]),
        ("โฆษณา", "โฆษณาหลอกลวงบนติ๊กต็อก", [True]),
        ("โฆษณาหลอกลวง", "โฆษณาหลอกลวงบนติ๊กต็อก", [True]),
        ("ลวง", "หลอกลวง", [False]),
        # Loanwords the dictionary does not know.
        ("ดีพเฟค", "คลิปดีพเฟคหลอกลวง", [True]),
        ("ติ๊กต็อก", "เล่นติ๊กต็อกทุกวัน", [True]),
        ("ติ๊กต็อก", "ติ๊กต็อกร้องเรียน", [True]),
    ],
)
def test_thai_word_boundaries(term: str, text: str, expected: list[bool]) -> None:
    assert _whole_word_everywhere(term, text) == expected


def test_a_thai_span_never_ends_inside_a_cluster() -> None:
    # "โฆษณ" stops before the vowel า of its last cluster.
    assert thai_spans_ok("โฆษณาหลอกลวง", [(0, 4)]) == [False]


def test_breaks_are_boundaries_whatever_the_dictionary_says() -> None:
    assert thai_spans_ok("ตาราง", [(0, 2)]) == [False]
    assert thai_spans_ok("ตาราง", [(0, 2)], breaks=[2]) == [True]


# --- Burmese syllables ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "syllables"),
    [
        ("မြန်မာနိုင်ငံ", ["မြန်", "မာ", "နိုင်", "ငံ"]),
        ("လိမ်လည်ကြော်ငြာ", ["လိမ်", "လည်", "ကြော်", "ငြာ"]),
        ("ကြည့်ရှုသည်", ["ကြည့်", "ရှု", "သည်"]),  # dot below before asat, as NFC orders them
        ("ကမ္ဘာ", ["ကမ္ဘာ"]),  # a stacked consonant stays in its syllable
        ("အင်္ဂလိပ်", ["အင်္ဂ", "လိပ်"]),  # kinzi
        ("ကစားသည်", ["က", "စား", "သည်"]),
        ("နေ့စဉ်", ["နေ့", "စဉ်"]),
        ("ကြော်ငြာ။ ဥပဒေ", ["ကြော်", "ငြာ", "။", " ", "ဥ", "ပ", "ဒေ"]),
    ],
)
def test_myanmar_syllables(text: str, syllables: list[str]) -> None:
    assert myanmar_syllables(text) == syllables


@pytest.mark.parametrize(
    ("text", "index", "expected"),
    [
        ("ကမ္ဘာ", 3, False),  # ဘ is stacked under မ: ဘာ does not start here
        ("စား", 2, False),  # between စာ and its visarga
        ("နေ့", 2, False),
        ("စာအုပ်", 2, True),
        ("ကြော်", 2, False),  # between the medial and the vowel
        ("Facebookကြော်ငြာ", 8, True),  # a change of script
    ],
)
def test_myanmar_syllable_boundary(text: str, index: int, expected: bool) -> None:
    assert myanmar_syllable_boundary(text, index) is expected


# --- spaces between Burmese syllables ------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ("း", "လောင်း", True),  # between two words
        ("န", "ကြော်", True),  # before a consonant with a medial
        ("ာ", "ဥပဒေ", True),  # before an independent vowel
        ("ိ", "င်း", False),  # င is killed by asat: the space is inside a syllable
        ("မ", "္ဘာ", False),  # before a virama
        ("မ", "ဘ\u1039", False),  # before a consonant stacked on the next
        ("ည", "\u1037\u103a", False),  # before a dot below and asat
        ("။", "ဥပဒေ", False),  # after the section mark
        ("ာ", "၊", False),  # before the little section
        ("၂", "ခု", False),  # digits are read as 0-9
        ("ာ", "၂၀", False),
        ("k", "ကြော်", False),  # Latin before
        ("ာ", "Facebook", False),  # Latin after
        ("ก", "ก", False),  # Thai
        ("ာ", "", False),
    ],
)
def test_myanmar_space_is_optional(before: str, after: str, expected: bool) -> None:
    assert myanmar_space_is_optional(before, after) is expected
    found = [m.end() - 1 for m in MYANMAR_OPTIONAL_SPACE.finditer(before + " " + after)]
    assert found == ([1] if expected else [])


@pytest.mark.parametrize(
    ("text", "pieces"),
    [
        ("လောင်းကစား", ["လောင်း", "က", "စား"]),
        ("အွန်လိုင်း", ["အွန်", "လိုင်း"]),
        ("ကမ္ဘာ", ["ကမ္ဘာ"]),
        ("ကြော်ငြာ၂၀၂၅", ["ကြော်", "ငြာ၂၀၂၅"]),  # no space is optional before a digit
        ("โฆษณาหลอกลวง", ["โฆษณาหลอกลวง"]),  # Thai: as typed
        ("", []),
    ],
)
def test_myanmar_space_free_pieces(text: str, pieces: list[str]) -> None:
    assert myanmar_space_free_pieces(text) == pieces


burmese = st.text(alphabet=[chr(c) for c in range(0x1000, 0x10A0)], min_size=2, max_size=12)


@settings(max_examples=300, deadline=None)
@given(burmese, st.data())
def test_an_optional_space_moves_no_syllable_boundary(text: str, data: st.DataObject) -> None:
    at = data.draw(st.integers(1, len(text) - 1))
    spaced = text[:at] + " " + text[at:]
    optional = myanmar_space_is_optional(text[at - 1], text[at : at + 3])
    assert (at in [m.end() - 1 for m in MYANMAR_OPTIONAL_SPACE.finditer(spaced)]) is optional
    if optional:
        # Dropping the space keeps every boundary where it was, and the join is one too.
        assert myanmar_syllable_boundary(text, at)
        for index in range(len(text) + 1):
            in_spaced = index if index <= at else index + 1
            assert myanmar_syllable_boundary(text, index) is myanmar_syllable_boundary(
                spaced, in_spaced
            )


# --- safe cuts -------------------------------------------------------------------------------


def test_safe_cut_keeps_thai_clusters_whole() -> None:
    text = "โฆษณาหลอกลวง"
    assert safe_cut(text, 4, forward=True) == 5
    assert safe_cut(text, 4, forward=False) == 3


def test_safe_cut_keeps_burmese_syllables_and_accents_whole() -> None:
    assert safe_cut("ကြော်ငြာ", 2, forward=True) == 5
    assert safe_cut("ကြော်ငြာ", 2, forward=False) == 0
    decomposed = "cafe\u0301 noir"
    assert safe_cut(decomposed, 4, forward=True) == 5
    assert safe_cut(decomposed, 4, forward=False) == 3


def test_safe_cut_keeps_emoji_sequences_whole() -> None:
    family = "a\U0001f468\u200d\U0001f469b"
    assert safe_cut(family, 2, forward=True) == 4
    assert safe_cut(family, 3, forward=False) == 1
