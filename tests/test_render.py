"""Terminal rendering: widths counted as terminals count them, in four scripts.

Views are rendered into a rich Console writing to a StringIO at a fixed width and
compared as exact strings; every line must fit that width as a terminal measures
it (adwatch.text.width, glibc's wcwidth rules), Burmese spacing marks included.
"""

from __future__ import annotations

import csv
import ctypes
import ctypes.util
import io
import json
import locale
import platform
import re
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from rich.console import Console, RenderableType
from typer.testing import CliRunner

from adwatch.cli import app
from adwatch.models import Article, Match
from adwatch.pipeline import Probe
from adwatch.query import ArticleHits, Context, Hit, HitDetail, SearchResult, TriageEntry
from adwatch.render import (
    render_article_groups,
    render_hit_detail,
    render_hits_table,
    render_search_results,
)
from adwatch.render_scan import render_probe_table
from adwatch.store import open_store
from adwatch.text import segment
from adwatch.text.width import ELLIPSIS, char_width, display_width, truncation_end, wrap_spans

TH_TITLE = "ตำรวจไซเบอร์เตือนโฆษณาหลอกลวงลงทุนบนเฟซบุ๊ก"
VI_TITLE = "Bộ Công an cảnh báo quảng cáo lừa đảo đầu tư trên mạng xã hội"
MY_TITLE = "အွန်လိုင်းလောင်းကစား ကြော်ငြာများ ဖေ့စ်ဘုတ်ပေါ်တွင် ပြန့်နှံ့"
EN_TITLE = "Regulator fines platform over deepfake investment ads"
MY_TEXT = (
    "ရန်ကုန် - အွန်လိုင်းလောင်းကစား ကြော်ငြာများကို ဖေ့စ်ဘုတ်ပေါ်တွင် နေ့စဉ် တွေ့ရကြောင်း "
    "ပြည်သူများက ပြောဆိုကြသည်။ အာဏာပိုင်များက ထိုကြော်ငြာများကို ဖယ်ရှားရန် တောင်းဆိုထားသည်။"
)
TH_TEXT = (
    "ตำรวจไซเบอร์เตือนประชาชนระวังโฆษณาหลอกลวงชวนลงทุนที่ใช้ภาพคนดังปลอม "
    "ซึ่งเผยแพร่บนเฟซบุ๊กและติ๊กต็อกในช่วงสัปดาห์ที่ผ่านมา มีผู้เสียหายกว่า 200 ราย"
)


def render(renderable: RenderableType, width: int) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None, highlight=False)
    console.print(renderable)
    output = console.file.getvalue()
    assert isinstance(output, str)
    return output


def assert_fits(output: str, width: int) -> None:
    for line in output.splitlines():
        assert display_width(line) <= width, line


def make_hit(
    hit_id: int,
    found_at: str,
    published_at: str | None,
    market: str,
    language: str,
    watchlist: str,
    severity: str,
    title: str,
    matched: str,
    status: str = "new",
) -> Hit:
    return Hit(
        id=hit_id, found_at=found_at, published_at=published_at, market=market,
        language=language, watchlist=watchlist, category="fraud", severity=severity,
        term=matched, matched_text=matched, snippet=title, title=title,
        url=f"https://news.example/{hit_id}", source=f"{market.lower()}-news", status=status,
        note=None, article_id=hit_id, start=0, end=len(matched),
    )  # fmt: skip


HITS = [
    make_hit(1, "2026-11-25T07:30:00Z", "2026-11-25T06:30:00Z", "TH", "th", "scam-ads", "high",
             TH_TITLE, "โฆษณาหลอกลวง"),
    make_hit(2, "2026-11-25T06:30:00Z", "2025-11-25T05:30:00Z", "VN", "vi", "scam-ads", "high",
             VI_TITLE, "quảng cáo lừa đảo"),
    make_hit(4, "2026-11-24T07:30:00Z", None, "MM", "my", "illegal-gambling-ads", "high",
             MY_TITLE, "အွန်လိုင်းလောင်းကစား"),
    make_hit(6, "2026-11-23T09:30:00Z", "2026-11-23T08:00:00Z", "TH", "en", "regulator-fines",
             "medium", EN_TITLE, "fined an ad platform", status="dismissed"),
]  # fmt: skip


# --- widths and cuts ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("char", "width"),
    [
        ("\u102c", 1),  # ာ Burmese vowel sign aa: a spacing mark (Mc)
        ("\u1031", 1),  # ေ vowel sign e, drawn before its consonant (Mc)
        ("\u1038", 1),  # း visarga (Mc)
        ("\u103c", 1),  # ြ medial ra (Mc)
        ("\u102d", 0),  # ိ vowel sign i, above (Mn)
        ("\u103a", 0),  # ် asat (Mn)
        ("\u1039", 0),  # ္ virama (Mn)
        ("\u0e31", 0),  # ั Thai mai han-akat (Mn)
        ("\u0e48", 0),  # ่ Thai mai ek (Mn)
        ("\u0e33", 1),  # ำ Thai sara am (Lo)
        ("\u0301", 0),  # combining acute, as in decomposed Vietnamese
        ("\u200d", 0),  # zero width joiner (Cf)
        ("\u00ad", 1),  # soft hyphen: a format character that is drawn
        ("ก", 1),
        ("a", 1),
        ("中", 2),
        ("\x1b", 0),
    ],
)
def test_character_widths_follow_wcwidth(char: str, width: int) -> None:
    assert char_width(char) == width


@pytest.fixture
def glibc_wcwidth() -> Iterator[Callable[[str], int]]:
    """The C library's own wcwidth, in a UTF-8 locale, where the C library is glibc."""
    if platform.libc_ver()[0] != "glibc":
        pytest.skip("the reference is glibc's wcwidth")
    before = locale.setlocale(locale.LC_CTYPE)
    try:
        locale.setlocale(locale.LC_CTYPE, "C.UTF-8")
    except locale.Error:
        pytest.skip("no C.UTF-8 locale")
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.wcwidth.argtypes = [ctypes.c_wchar]
    libc.wcwidth.restype = ctypes.c_int
    try:
        yield lambda char: int(libc.wcwidth(char))
    finally:
        locale.setlocale(locale.LC_CTYPE, before)


SCRIPT_BLOCKS = {
    "Latin-1 and Latin Extended-A/B": (0x00A0, 0x024F),
    "combining diacritical marks": (0x0300, 0x036F),
    "Thai": (0x0E00, 0x0E7F),
    "Myanmar": (0x1000, 0x109F),
    "Latin Extended Additional (Vietnamese)": (0x1E00, 0x1EFF),
    "Myanmar Extended-B": (0xA9E0, 0xA9FF),
    "Myanmar Extended-A": (0xAA60, 0xAA7F),
}


@pytest.mark.parametrize("block", SCRIPT_BLOCKS)
def test_widths_agree_with_glibc(block: str, glibc_wcwidth: Callable[[str], int]) -> None:
    first, last = SCRIPT_BLOCKS[block]
    chars = [chr(c) for c in range(first, last + 1) if unicodedata.category(chr(c)) != "Cn"]
    assert {c: char_width(c) for c in chars} == {c: glibc_wcwidth(c) for c in chars}


def test_display_width_of_words_in_four_scripts() -> None:
    assert display_width("ကြော်ငြာ") == 7  # က ြ ေ ာ (်) င ြ ာ
    assert display_width("လိမ်လည်") == 4  # the vowel sign i and the asats take no column
    assert display_width("โฆษณาหลอกลวง") == 12
    assert display_width("ติ๊กต็อก") == 5  # ต ก ต อ ก; the vowel and tone marks take none
    assert display_width("Cảnh báo") == 8
    assert display_width(unicodedata.normalize("NFD", "Cảnh báo")) == 8
    assert display_width("TikTok 中文") == 11


CUT_TEXTS = [MY_TITLE, TH_TITLE, VI_TITLE, unicodedata.normalize("NFD", VI_TITLE), MY_TEXT]


@pytest.mark.parametrize("text", CUT_TEXTS)
def test_truncation_fits_and_never_splits_a_syllable(text: str) -> None:
    for width in range(1, display_width(text) + 2):
        end = truncation_end(text, width)
        if end is None:
            assert display_width(text) <= width
            continue
        assert display_width(text[:end] + ELLIPSIS) <= width
        assert segment.safe_cut(text, end, forward=False) == end, (width, text[:end])


@pytest.mark.parametrize("text", CUT_TEXTS)
@pytest.mark.parametrize("width", [8, 13, 20, 37])
def test_wrapping_fits_keeps_every_character_and_cuts_safely(text: str, width: int) -> None:
    spans = wrap_spans(text, width)
    lines = [text[start:end] for start, end in spans]
    assert all(display_width(line) <= width for line in lines), lines
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    for start, _ in spans:
        assert segment.safe_cut(text, start, forward=False) == start


def test_english_wraps_at_spaces() -> None:
    text = "The regulator fines an ad platform for scam ads"
    assert [text[a:b] for a, b in wrap_spans(text, 20)] == [
        "The regulator fines",
        "an ad platform for",
        "scam ads",
    ]


def test_a_long_url_wraps_after_a_separator() -> None:
    url = "https://thoisuviet.example/phap-luat/phat-cong-ty-quang-cao-sai-su-that-4961950.html"
    assert [url[a:b] for a, b in wrap_spans(url, 77)] == [
        "https://thoisuviet.example/phap-luat/phat-cong-ty-quang-cao-sai-su-that-",
        "4961950.html",
    ]


def test_thai_wraps_between_words() -> None:
    text = "ตำรวจไซเบอร์เตือนประชาชนระวังโฆษณาหลอกลวง"
    words = segment.thai_words(text)
    boundaries = {sum(len(w) for w in words[:n]) for n in range(len(words) + 1)}
    spans = wrap_spans(text, 12)
    assert len(spans) > 2
    assert {start for start, _ in spans} <= boundaries
    assert [text[a:b] for a, b in spans][:2] == ["ตำรวจไซเบอร์", "เตือนประชาชน"]


def test_burmese_wraps_between_syllables() -> None:
    spans = wrap_spans(MY_TEXT, 16)
    for start, _ in spans:
        assert segment.myanmar_syllable_boundary(MY_TEXT, start)


# --- the hits table -----------------------------------------------------------------------


def test_hits_table_at_80_columns() -> None:
    assert render(render_hits_table(HITS), 80) == (
        " id  found (UTC)  pub         mkt  sev   watchlist       title           matched\n"
        " ───────────────────────────────────────────────────────────────────────────────\n"
        "  1  11-25 07:30  11-25       TH   high  scam-ads        ตำรวจไซเบอร์เตื…  โฆษณาห…\n"
        "  2  11-25 06:30  2025-11-25  VN   high  scam-ads        Bộ Công an cả…  quảng…\n"
        "  4  11-24 07:30  —           MM   high  illegal-gambl…  အွန်လိုင်းလောင်းက…    အွန်လိုင်း…\n"
        "  6  11-23 09:30  11-23       TH   med   regulator-fin…  Regulator fin…  fined…\n"
    )


def test_hits_table_at_120_columns() -> None:
    assert render(render_hits_table(HITS), 120) == (
        " id  found (UTC)       published   mkt  lang  severity  watchlist             "
        "title                           matched\n"
        " ─────────────────────────────────────────────────────────────────────────────"
        "──────────────────────────────────────────\n"
        "  1  2026-11-25 07:30  2026-11-25  TH   th    high      scam-ads              "
        "ตำรวจไซเบอร์เตือนโฆษณาหลอกลวงลง…  โฆษณาหลอก…\n"
        "  2  2026-11-25 06:30  2025-11-25  VN   vi    high      scam-ads              "
        "Bộ Công an cảnh báo quảng cáo…  quảng cáo…\n"
        "  4  2026-11-24 07:30  —           MM   my    high      illegal-gambling-ads  "
        "အွန်လိုင်းလောင်းကစား ကြော်ငြာများ…     အွန်လိုင်း…\n"
        "  6  2026-11-23 09:30  2026-11-23  TH   en    medium    regulator-fines       "
        "Regulator fines platform over…  fined an…\n"
    )


@pytest.mark.parametrize("width", [80, 100, 120, 200])
def test_burmese_rows_are_one_line_each_and_fit(width: int) -> None:
    burmese = [
        make_hit(n, "2026-11-24T07:30:00Z", "2026-11-24T05:00:00Z", "MM", "my",
                 "illegal-gambling-ads", "high", MY_TITLE + " " + MY_TITLE[: n * 5], "ကြော်ငြာ")
        for n in range(1, 6)
    ]  # fmt: skip
    output = render(render_hits_table(burmese), width)
    lines = output.splitlines()
    assert len(lines) == 2 + len(burmese)
    assert_fits(output, width)
    assert [line.split()[0] for line in lines[2:]] == ["1", "2", "3", "4", "5"]
    # The title column starts at the same column on every row.
    starts = {display_width(line[: line.index("အွန်")]) for line in lines[2:]}
    assert len(starts) == 1


def test_a_narrow_terminal_leaves_out_columns_rather_than_wrapping() -> None:
    output = render(render_hits_table(HITS), 60)
    lines = output.splitlines()
    assert len(lines) == 2 + len(HITS)
    assert_fits(output, 60)
    assert lines[0].split() == ["id", "found", "(UTC)", "pub", "sev", "title", "matched"]


def test_article_groups_show_the_published_day() -> None:
    groups = [
        ArticleHits(article_id=3, found_at="2026-11-24T07:30:00Z", market="MM", language="my",
                    title=MY_TITLE, url="https://mm.example/3", source="mm-news",
                    severity="high", watchlists=("illegal-gambling-ads", "scam-ads"),
                    hit_ids=(5, 4), published_at="2026-11-20T01:00:00Z"),
        ArticleHits(article_id=1, found_at="2026-11-24T06:00:00Z", market="TH", language="th",
                    title=TH_TITLE, url="https://th.example/1", source="th-news",
                    severity="critical", watchlists=("scam-ads",), hit_ids=(1,)),
    ]  # fmt: skip
    assert render(render_article_groups(groups), 80) == (
        " article  found (UTC)  pub    mkt  sev   hits  watchlists     title\n"
        " ───────────────────────────────────────────────────────────────────────────────\n"
        "       3  11-24 07:30  11-20  MM   high     2  illegal-gamb…  အွန်လိုင်းလောင်းကစား…\n"
        "       1  11-24 06:00  —      TH   crit     1  scam-ads       ตำรวจไซเบอร์เตือนโฆ…\n"
    )


# --- show -----------------------------------------------------------------------------------


def burmese_detail() -> HitDetail:
    hit = HITS[2]
    start = MY_TEXT.index(hit.matched_text)
    context = Context(MY_TEXT[:start], hit.matched_text, MY_TEXT[start + len(hit.matched_text) :])
    return HitDetail(
        hit=hit,
        fetched_at="2026-11-24T07:29:00Z",
        context=context,
        other_hits=[
            make_hit(
                5, "2026-11-24T07:30:00Z", None, "MM", "my", "scam-ads", "high", MY_TITLE, "ကြော်ငြာ"
            ),
        ],  # fmt: skip
        history=[
            TriageEntry(
                at="2026-11-24T09:00:00Z",
                who="thida",
                old_status="new",
                new_status="reviewing",
                note="ဖေ့စ်ဘုတ်သို့ တင်ပြပြီး",
            ),
        ],  # fmt: skip
    )


def test_show_at_80_columns() -> None:
    assert render(render_hit_detail(burmese_detail()), 80) == (
        "hit 4  high  illegal-gambling-ads (fraud)  status: new\n"
        "title      အွန်လိုင်းလောင်းကစား ကြော်ငြာများ ဖေ့စ်ဘုတ်ပေါ်တွင် ပြန့်နှံ့\n"
        "source     mm-news · market MM\n"
        "url        https://news.example/4\n"
        "language   my\n"
        "published  unknown\n"
        "found      2026-11-24T07:30:00Z\n"
        "term       အွန်လိုင်းလောင်းကစား\n"
        "╭─ match in context ───────────────────────────────────────────────────────────╮\n"
        "│ ရန်ကုန် - အွန်လိုင်းလောင်းကစား ကြော်ငြာများကို ဖေ့စ်ဘုတ်ပေါ်တွင် နေ့စဉ် တွေ့ရကြောင်း ပြည်သူများက       │\n"
        "│ ပြောဆိုကြသည်။ အာဏာပိုင်များက ထိုကြော်ငြာများကို ဖယ်ရှားရန် တောင်းဆိုထားသည်။                    │\n"
        "╰──────────────────────────────────────────────────────────────────────────────╯\n"
        "\n"
        "other hits of this article\n"
        " id  watchlist  severity  matched  status\n"
        " ────────────────────────────────────────\n"
        " 5   scam-ads   high      ကြော်ငြာ  new\n"
        "\n"
        "triage history\n"
        " when (UTC)        who    change           note\n"
        " ────────────────────────────────────────────────────────\n"
        " 2026-11-24 09:00  thida  new → reviewing  ဖေ့စ်ဘုတ်သို့ တင်ပြပြီး\n"
    )


@pytest.mark.parametrize("width", [60, 80, 120])
def test_the_context_box_closes_at_the_terminal_edge(width: int) -> None:
    output = render(render_hit_detail(burmese_detail()), width)
    assert_fits(output, width)
    box = [line for line in output.splitlines() if line[:1] in ("╭", "│", "╰")]
    assert len(box) >= 3
    assert {display_width(line) for line in box} == {width}
    assert all(line[-1] in "╮│╯" for line in box)


# --- search ---------------------------------------------------------------------------------


def test_search_shows_published_and_fetched_apart() -> None:
    results = [
        SearchResult(article_id=7, title=MY_TITLE, url="https://mm.example/7", source="mm-news",
                     market="MM", language="my", published_at=None,
                     fetched_at="2026-11-25T07:00:00Z", hits=1,
                     context=Context("", "အွန်လိုင်းလောင်းကစား", " ကြော်ငြာများကို တွေ့ရသည်")),
        SearchResult(article_id=3, title=TH_TITLE, url="https://th.example/3", source="th-news",
                     market="TH", language="th", published_at="2026-11-20T03:00:00Z",
                     fetched_at="2026-11-25T07:00:00Z", hits=2,
                     context=Context("…ประชาชนระวัง", "โฆษณาหลอกลวง", "ชวนลงทุน…")),
    ]  # fmt: skip
    assert render(render_search_results(results), 80) == (
        " article  published   fetched     mkt  ln  hits  title / match\n"
        " ───────────────────────────────────────────────────────────────────────────────\n"
        "       7  —           2026-11-25  MM   my     1  အွန်လိုင်းလောင်းကစား ကြော်ငြာများ\n"
        "                                                 ဖေ့စ်ဘုတ်ပေါ်တွင် ပြန့်နှံ့\n"
        "                                                 အွန်လိုင်းလောင်းကစား ကြော်ငြာများကို\n"
        "                                                 တွေ့ရသည်\n"
        "       3  2026-11-20  2026-11-25  TH   th     2  ตำรวจไซเบอร์เตือนโฆษณาหลอกลวงลงทุน\n"
        "                                                 บนเฟซบุ๊ก\n"
        "                                                 …ประชาชนระวังโฆษณาหลอกลวงชวน\n"
        "                                                 ลงทุน…\n"
    )


# --- check --online -------------------------------------------------------------------------


def test_probe_table_wraps_a_long_error_inside_its_border() -> None:
    probes = [
        Probe(name="mm-news", url="https://mm.example/rss", ok=False, status=503,
              error="HTTP 503: " + MY_TEXT),
        Probe(name="th-news", url="https://th.example/rss", ok=True, status=200, kind="rss",
              entries=12),
    ]  # fmt: skip
    output = render(render_probe_table(probes), 80)
    lines = output.splitlines()
    assert lines[0] == "sources, probed now (nothing stored)"
    assert {display_width(line) for line in lines[1:]} == {80}
    rows = [[c.strip() for c in line.split("│")[1:-1]] for line in lines if line[0] == "│"]
    assert rows[0] == ["source", "status", "type", "entries", "result"]
    assert rows[1][:4] == ["mm-news", "503", "-", "-"] and rows[1][4].startswith("HTTP 503:")
    assert ["th-news", "200", "rss", "12", "ok"] in rows


# --- the commands, on a real store -----------------------------------------------------------

runner = CliRunner()
DATED = "2025-03-14T02:00:00Z"


def build_store(path: Path) -> None:
    """Two articles saved by the store itself: one dated by its feed, one without a date."""
    articles = [
        ("https://mm.example/news/1", "mm-news", "MM", "my", MY_TITLE, MY_TEXT, None,
         "အွန်လိုင်းလောင်းကစား", "illegal-gambling-ads"),
        ("https://th.example/news/2", "th-news", "TH", "th", TH_TITLE, TH_TEXT, DATED,
         "โฆษณาหลอกลวง", "scam-ads"),
    ]  # fmt: skip
    with open_store(path) as store:
        for url, source, market, language, title, text, published, term, watchlist in articles:
            start = text.index(term)
            article = Article(
                url=url, source=source, market=market, title=title, text=text,
                language=language, published_at=published, fetched_at="2026-11-25T07:00:00Z",
                content_hash=url, extractor="trafilatura", entry_id=url,
            )  # fmt: skip
            match = Match(
                watchlist=watchlist, category="fraud", severity="high", term=term,
                matched_text=term, start=start, end=start + len(term), snippet=text[:60],
            )  # fmt: skip
            store.save_article(article, [match])


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "adwatch.db"
    build_store(path)
    return path


def cli(db: Path, *args: str, columns: int = 120) -> str:
    result = runner.invoke(app, ["--db", str(db), *args], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.stderr
    return result.stdout


def columns_of(line: str) -> list[str]:
    return re.split(r"\s{2,}", line.strip())


def test_hits_table_gives_published_beside_found(db: Path) -> None:
    lines = cli(db, "hits").splitlines()
    assert columns_of(lines[0])[:3] == ["id", "found (UTC)", "published"]
    rows = {columns_of(line)[6]: columns_of(line) for line in lines[2:]}
    assert rows["scam-ads"][2] == "2025-03-14"
    assert rows["illegal-gambling-ads"][2] == "—"
    # found is when adwatch stored the hit, never the article's date.
    assert rows["scam-ads"][1][:4] != "2025"


def test_hits_of_burmese_articles_fit_80_columns(db: Path) -> None:
    output = cli(db, "hits", "--language", "my", columns=80)
    assert len(output.splitlines()) == 3
    assert_fits(output, 80)
    assert "အွန်လိုင်း" in output


def test_search_table_never_shows_the_fetch_time_as_published(db: Path) -> None:
    lines = cli(db, "search", "ကြော်ငြာ OR โฆษณา").splitlines()
    assert columns_of(lines[0])[:3] == ["article", "published", "fetched"]
    rows = [columns_of(line) for line in lines[2:] if line[:9].strip()]
    assert [row[1:3] for row in rows] == [["2025-03-14", "2026-11-25"], ["—", "2026-11-25"]]


def test_show_names_published_and_found(db: Path) -> None:
    burmese = cli(db, "show", "1")
    assert "published  unknown" in burmese
    thai = cli(db, "show", "2")
    assert f"published  {DATED}" in thai and "found      20" in thai


def test_machine_formats_name_both_times(db: Path) -> None:
    for row in json.loads(cli(db, "hits", "-f", "json")):
        assert {"found_at", "published_at"} <= row.keys()
    by_url = {row["url"]: row for row in json.loads(cli(db, "hits", "-f", "json"))}
    assert by_url["https://th.example/news/2"]["published_at"] == DATED
    assert by_url["https://mm.example/news/1"]["published_at"] is None
    for line in cli(db, "hits", "-f", "jsonl").splitlines():
        assert {"found_at", "published_at"} <= json.loads(line).keys()
    header = next(csv.reader(io.StringIO(cli(db, "hits", "-f", "csv").lstrip("\ufeff"))))
    assert header[:3] == ["id", "found_at", "published_at"]
    groups = json.loads(cli(db, "hits", "--group-by", "article", "-f", "json"))
    assert {g["article_id"]: g["published_at"] for g in groups} == {1: None, 2: DATED}
    detail = json.loads(cli(db, "show", "2", "-f", "json"))
    assert (detail["published_at"], detail["fetched_at"]) == (DATED, "2026-11-25T07:00:00Z")
    assert detail["found_at"] != detail["published_at"]
    found = json.loads(cli(db, "search", "ကြော်ငြာ OR โฆษณา", "-f", "json"))
    assert [(r["published_at"], r["fetched_at"]) for r in found] == [
        (DATED, "2026-11-25T07:00:00Z"),
        (None, "2026-11-25T07:00:00Z"),
    ]
