"""The mechanisms the scan's speed rests on (docs/scan.md, Speed), each checked for what it
must not change: the same text, the same language, a connection kept, a worker that starts
with its modules. Timings themselves are measured by benchmarks/scan.py, not here."""

from __future__ import annotations

from pathlib import Path

import pytest
from trafilatura import bare_extraction

from adwatch import extract
from adwatch.extract import extract_page
from adwatch.lang import detect_language, vietnamese_evidence
from adwatch.models import FetchResult

PAGES = Path(__file__).parent / "data" / "pages"


# --- extraction: trafilatura's fast mode --------------------------------------------------


@pytest.mark.parametrize(
    "name", sorted(p.name for p in PAGES.glob("*.html") if p.name != "js_only.html")
)
def test_fast_extraction_gives_the_text_of_the_full_cascade(name: str) -> None:
    """fast=True skips trafilatura's second opinion (readability, jusText); on our pages
    the article text must be exactly what the full cascade finds."""
    content = (PAGES / name).read_bytes()
    url = f"https://news.example/{name}"
    result = FetchResult(url, url, 200, {"content-type": "text/html"}, content)
    markup = extract.decode_html(content, result.headers)
    full = bare_extraction(
        markup,
        url=url,
        with_metadata=True,
        include_comments=False,
        favor_precision=True,
        date_extraction_params={"extensive_search": False, "original_date": True},
        fast=False,
    )
    assert full is not None
    expected = extract._tidy_text(str(full.text))
    assert expected
    assert extract_page(result).text == expected


# --- language detection: bounded evidence ---------------------------------------------------


def test_vietnamese_evidence_stops_after_enough_words() -> None:
    vietnamese = " ".join(["người dân cảnh báo quảng cáo lừa đảo"] * 20)  # 140 words
    english = " ".join(["the police warn people about the scam"] * 40)
    evidence = vietnamese_evidence(f"{vietnamese}\n{english}")
    assert evidence == (100, 0)


def test_a_vietnamese_article_quoting_english_later_is_vietnamese() -> None:
    """The verdict comes from the article's start; a long English quote further down the
    sample no longer outvotes it."""
    vietnamese = "Bộ Công an cảnh báo người dân về quảng cáo lừa đảo đầu tư trên mạng xã hội. " * 8
    english = "The police said the scam adverts were paid for with stolen cards. " * 30
    assert detect_language(f"{vietnamese}\n{english}") == "vi"
