"""The scan's pieces one at a time: no network, no store, no process pool.

`prepare_article` is what each worker runs on one entry and its page; here it runs in
the test process on pages the tests write, after `_init_worker` built the matcher as a
worker would. The end-to-end scan is tested in test_scan.py and test_scan_pages.py.
"""

from __future__ import annotations

import json
import signal
import unicodedata
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from html import escape
from pathlib import Path

import pytest

from adwatch import pipeline
from adwatch.config import load_config
from adwatch.errors import ExtractError, FetchError, UsageError
from adwatch.models import FeedEntry, FetchResult, RetryCandidate, Watchlist
from adwatch.pipeline import (
    ArticleJob,
    PreparedArticle,
    ScanSummary,
    SourceOutcome,
    compose_text,
    next_page_retry,
    prepare_article,
    select_sources,
)
from adwatch.text.untrusted import UNSAFE_CHARACTERS

SCAM_TH = "โฆษณาหลอกลวง"
SCAM_VI = "quảng cáo lừa đảo"
SCAM_MY = "လိမ်လည်ကြော်ငြာ"
SCAM_EN = "scam ad"

WATCHLISTS = [
    Watchlist(
        "scam-ads",
        "fraud",
        "high",
        terms={"th": (SCAM_TH,), "vi": (SCAM_VI,), "my": (SCAM_MY,), "en": (SCAM_EN,)},
    ),
    # Fires only in articles detected as Thai: shows the detected language reaches the matcher.
    Watchlist(
        "deepfake-th", "deepfake", "critical", terms={"any": ("deepfake",)}, languages=("th",)
    ),
    # Fires only in the VN market: shows the job's market reaches the matcher.
    Watchlist(
        "political-vn", "elections", "medium", markets=("VN",), terms={"en": ("political ad",)}
    ),
]

TH_TITLE = f"เตือนภัย{SCAM_TH}ชวนลงทุนออนไลน์"
TH_BODY = [
    f"ตำรวจไซเบอร์เตือนประชาชนให้ระวัง{SCAM_TH}ที่ชวนลงทุนผ่านแอปพลิเคชันปลอม "
    "ซึ่งมีผู้เสียหายจำนวนมากในช่วงสัปดาห์ที่ผ่านมา",
    "เจ้าหน้าที่ระบุว่าโฆษณาดังกล่าวใช้ภาพ deepfake ของคนดัง เพื่อหลอกให้ผู้ชมโอนเงินไปยังบัญชีของมิจฉาชีพ",
]
VI_TITLE = f"Cảnh báo {SCAM_VI} đầu tư trên mạng xã hội"
VI_BODY = [
    f"Công an thành phố cho biết nhiều người đã mất tiền sau khi bấm vào {SCAM_VI} "
    "mời đầu tư tiền ảo trên mạng xã hội.",
    "Các quảng cáo này dùng hình ảnh người nổi tiếng được làm giả bằng trí tuệ nhân tạo "
    "để dụ người xem chuyển tiền.",
]
MY_TITLE = "လိမ်လည်ကြော်ငြာများ သတိပြုရန် ရဲတပ်ဖွဲ့ သတိပေး"
MY_BODY = [
    "ဆိုက်ဘာရဲတပ်ဖွဲ့က ဖေ့စ်ဘွတ်ခ်ပေါ်တွင် တွေ့ရသော အတုအယောင် ရင်းနှီးမြှုပ်နှံမှု ကြော်ငြာများကို မယုံကြည်ရန် ပြည်သူများကို သတိပေးလိုက်သည်။",
    "ထိုလိမ်လည်ကြော်ငြာများသည် နာမည်ကြီးသူများ၏ ဓာတ်ပုံများကို အသုံးပြုပြီး ငွေလွှဲရန် တောင်းဆိုကြောင်း သိရသည်။",
]
# The same Burmese in the Zawgyi font encoding (made with ICU's my-Zawgyi transform;
# the detector gives each line 1.0, and fix_zawgyi turns it back into MY_* exactly).
ZG_TITLE = "လိမ္လည္ေၾကာ္ျငာမ်ား သတိျပဳရန္ ရဲတပ္ဖြဲ႔ သတိေပး"
ZG_BODY = [
    "ဆိုက္ဘာရဲတပ္ဖြဲ႔က ေဖ့စ္ဘြတ္ခ္ေပၚတြင္ ေတြ့ရေသာ အတုအေယာင္ ရင္းႏွီးျမႈပ္ႏွံမႈ "
    "ေၾကာ္ျငာမ်ားကို မယံုၾကည္ရန္ ျပည္သူမ်ားကို သတိေပးလိုက္သည္။",
    "ထိုလိမ္လည္ေၾကာ္ျငာမ်ားသည္ နာမည္ႀကီးသူမ်ား၏ ဓာတ္ပံုမ်ားကို အသံုးျပဳၿပီး ေငြလႊဲရန္ ေတာင္းဆိုေၾကာင္း သိရသည္။",
]
EN_TITLE = "Deepfake singer sells fake crypto scheme"
EN_BODY = [
    f"Police warned on Monday that a {SCAM_EN} using a deepfake of a famous singer had "
    "spread on social media, asking viewers to invest in a fake trading platform.",
    "More than two hundred people reported losses after clicking the advertisement "
    "during the past week, the cyber crime bureau said.",
]
FETCHED_AT = "2026-03-02T06:00:00Z"


@pytest.fixture(scope="module", autouse=True)
def worker() -> Iterator[None]:
    """The matcher built as in a scan worker; the module state put back after, and the
    SIGINT handler too (a worker ignores Ctrl-C; this process must not)."""
    previous_handler = signal.getsignal(signal.SIGINT)
    previous_matcher = pipeline._worker_matcher
    try:
        pipeline._init_worker(WATCHLISTS)
        yield
    finally:
        signal.signal(signal.SIGINT, previous_handler)
        pipeline._worker_matcher = previous_matcher


def html_page(
    title: str, paragraphs: Sequence[str], *, lang: str, head: str = "", headline: bool = False
) -> bytes:
    """A news page: the headline in <title> (and in an <h1> in the article if asked)."""
    h1 = f"<h1>{escape(title)}</h1>" if headline else ""
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title>{head}</head><body>"
        '<nav><a href="/">Home</a> <a href="/world">World</a></nav>'
        f"<article>{h1}{body}</article><footer>Contact us</footer></body></html>"
    ).encode()


def fetched(content: bytes, url: str = "https://news.example/story/1") -> FetchResult:
    return FetchResult(
        url=url,
        final_url=url,
        status=200,
        headers={"content-type": "text/html; charset=utf-8"},
        content=content,
    )


def feed_entry(
    title: str,
    summary: str,
    *,
    published_at: str | None = "2026-03-02T01:30:00Z",
    language: str | None = None,
) -> FeedEntry:
    return FeedEntry(
        url="https://news.example/story/1",
        entry_id="story-1",
        title=title,
        summary=summary,
        published_at=published_at,
        language=language,
    )


def job(
    *,
    page: FetchResult | None = None,
    entry: FeedEntry | None = None,
    page_error: str | None = None,
    market: str = "TH",
    hint: str | None = None,
) -> ArticleJob:
    return ArticleJob(
        source="news-example",
        market=market,
        language_hint=hint,
        entry=entry,
        page=page,
        page_error=page_error,
        fetched_at=FETCHED_AT,
    )


def hits_of(prepared: PreparedArticle, watchlist: str = "scam-ads") -> list[tuple[int, int]]:
    """Where a watchlist's hits are, each checked against the stored text first."""
    text = prepared.article.text
    for match in prepared.matches:
        assert text[match.start : match.end] == match.matched_text
    return [(m.start, m.end) for m in prepared.matches if m.watchlist == watchlist]


def places(text: str, term: str) -> list[tuple[int, int]]:
    found, start = [], text.find(term)
    while start >= 0:
        found.append((start, start + len(term)))
        start = text.find(term, start + 1)
    return found


# --- prepare_article: pages in four languages -------------------------------------------


def test_init_worker_builds_the_matcher() -> None:
    assert pipeline._matcher().watchlists == WATCHLISTS


def test_a_thai_page_is_stored_headline_first_and_matched_in_both() -> None:
    page = fetched(
        html_page(TH_TITLE, TH_BODY, lang="th"),
        url="https://news.example/story/1?utm_source=line&id=7",
    )
    prepared = prepare_article(job(page=page))
    article = prepared.article
    assert article.title == TH_TITLE
    assert article.text == TH_TITLE + "\n\n" + "\n".join(TH_BODY)
    assert article.language == "th"
    assert article.zawgyi is False
    assert article.extractor == "trafilatura"
    assert article.url == "https://news.example/story/1?id=7"  # a page source: canonical
    assert (article.source, article.market, article.fetched_at) == (
        "news-example",
        "TH",
        FETCHED_AT,
    )
    assert hits_of(prepared) == places(article.text, SCAM_TH)
    assert hits_of(prepared)[0][0] < len(TH_TITLE)  # the headline's hit, offsets into the text
    assert (prepared.page_failed, prepared.note, prepared.hit_totals) == (False, None, {})


def test_a_headline_the_page_repeats_is_stored_once() -> None:
    prepared = prepare_article(
        job(page=fetched(html_page(TH_TITLE, TH_BODY, lang="th", headline=True)))
    )
    assert prepared.article.text.count(TH_TITLE) == 1
    assert prepared.article.text.startswith(TH_TITLE)


def test_a_decomposed_vietnamese_page_is_stored_composed_and_matched() -> None:
    decomposed = [unicodedata.normalize("NFD", p) for p in VI_BODY]
    assert decomposed != VI_BODY
    prepared = prepare_article(
        job(page=fetched(html_page(VI_TITLE, decomposed, lang="vi")), market="VN")
    )
    article = prepared.article
    assert article.text == VI_TITLE + "\n\n" + "\n".join(VI_BODY)
    assert article.language == "vi"
    assert hits_of(prepared) == places(article.text, SCAM_VI)
    assert len(hits_of(prepared)) == 2


def test_a_burmese_unicode_page_is_not_flagged_as_zawgyi() -> None:
    prepared = prepare_article(
        job(page=fetched(html_page(MY_TITLE, MY_BODY, lang="my")), market="MM")
    )
    article = prepared.article
    assert article.text == MY_TITLE + "\n\n" + "\n".join(MY_BODY)
    assert (article.language, article.zawgyi) == ("my", False)
    assert hits_of(prepared) == places(article.text, SCAM_MY)
    assert len(hits_of(prepared)) == 2


def test_a_zawgyi_page_is_converted_before_it_is_matched_and_stored() -> None:
    assert SCAM_MY not in ZG_TITLE + "".join(ZG_BODY)  # no hit without the conversion
    prepared = prepare_article(
        job(page=fetched(html_page(ZG_TITLE, ZG_BODY, lang="my")), market="MM")
    )
    article = prepared.article
    assert article.title == MY_TITLE
    assert article.text == MY_TITLE + "\n\n" + "\n".join(MY_BODY)
    assert (article.language, article.zawgyi) == ("my", True)
    assert hits_of(prepared) == places(article.text, SCAM_MY)
    assert len(hits_of(prepared)) == 2


def test_a_zawgyi_headline_alone_sets_the_flag() -> None:
    # A feed whose titles are typed in Zawgyi above summaries in Unicode.
    prepared = prepare_article(job(entry=feed_entry(ZG_TITLE, MY_BODY[0]), market="MM"))
    article = prepared.article
    assert (article.title, article.zawgyi) == (MY_TITLE, True)
    assert article.text == f"{MY_TITLE}\n\n{MY_BODY[0]}"


def test_an_english_page_is_matched_by_language_and_market() -> None:
    prepared = prepare_article(job(page=fetched(html_page(EN_TITLE, EN_BODY, lang="en"))))
    article = prepared.article
    assert article.text == EN_TITLE + "\n\n" + "\n".join(EN_BODY)
    assert article.language == "en"
    assert hits_of(prepared) == places(article.text, SCAM_EN)
    # "deepfake" is in the text, but that watchlist is for Thai articles only ...
    assert "deepfake" in article.text and hits_of(prepared, "deepfake-th") == []
    # ... and fires in a Thai article that uses the English word.
    thai = prepare_article(job(page=fetched(html_page(TH_TITLE, TH_BODY, lang="th"))))
    assert hits_of(thai, "deepfake-th") == places(thai.article.text, "deepfake")


def test_the_jobs_market_decides_which_watchlists_apply() -> None:
    body = ["The commission said every political ad must carry the name of its sponsor."]
    page = fetched(html_page("New rules for campaigns", body * 2, lang="en"))
    assert hits_of(prepare_article(job(page=page, market="TH")), "political-vn") == []
    assert len(hits_of(prepare_article(job(page=page, market="VN")), "political-vn")) == 1


def test_hits_are_capped_per_watchlist_and_the_total_is_kept() -> None:
    body = [
        f"Report {n}: another {SCAM_EN} was seen on a video site, readers said." for n in range(30)
    ]
    prepared = prepare_article(
        job(page=fetched(html_page("Readers report scams", body, lang="en")))
    )
    everywhere = places(prepared.article.text, SCAM_EN)
    assert len(everywhere) == 30
    assert hits_of(prepared) == everywhere[:25]  # the first ones in the text
    assert prepared.hit_totals == {"scam-ads": 30}


def test_a_watchlist_under_the_cap_has_no_total() -> None:
    prepared = prepare_article(job(page=fetched(html_page(EN_TITLE, EN_BODY, lang="en"))))
    assert hits_of(prepared) and prepared.hit_totals == {}


# --- prepare_article: what the feed says, and when the page fails ------------------------


def test_a_missing_page_falls_back_to_the_feed_summary() -> None:
    summary = f"Police warned that a {SCAM_EN} used a famous singer's face."
    error = "HTTP 404 for https://news.example/story/1"
    prepared = prepare_article(job(entry=feed_entry(EN_TITLE, summary), page_error=error))
    article = prepared.article
    assert article.extractor == "feed-summary"
    assert article.title == EN_TITLE
    assert article.text == f"{EN_TITLE}\n\n{summary}"
    assert article.url == "https://news.example/story/1"
    assert article.entry_id == "story-1"
    assert (prepared.page_failed, prepared.note) == (True, error)
    assert hits_of(prepared) == places(article.text, SCAM_EN)


def test_a_page_without_article_text_falls_back_to_the_feed_summary() -> None:
    script_only = b'<html><body><div id="app"></div><script>render()</script></body></html>'
    entry = feed_entry(TH_TITLE, TH_BODY[0])
    prepared = prepare_article(job(page=fetched(script_only), entry=entry))
    assert prepared.article.extractor == "feed-summary"
    assert prepared.article.text == f"{TH_TITLE}\n\n{TH_BODY[0]}"
    assert prepared.page_failed is True
    assert prepared.note == "no article text found in https://news.example/story/1"
    assert hits_of(prepared) == places(prepared.article.text, SCAM_TH)


def test_an_entry_whose_page_was_not_fetched_is_not_a_failure() -> None:
    # `articles: false` sources and entries without a link: the feed text is the article.
    prepared = prepare_article(job(entry=feed_entry(VI_TITLE, VI_BODY[0]), market="VN"))
    assert prepared.article.extractor == "feed-summary"
    assert (prepared.page_failed, prepared.note) == (False, None)
    assert prepared.article.language == "vi"


def test_an_entry_without_summary_is_its_title() -> None:
    prepared = prepare_article(job(entry=feed_entry(TH_TITLE, "")))
    assert prepared.article.text == TH_TITLE
    assert hits_of(prepared) == [(8, 8 + len(SCAM_TH))]


def test_a_page_source_without_article_text_is_an_error() -> None:
    with pytest.raises(ExtractError, match="no article text found in https://news.example/"):
        prepare_article(job(page=fetched(b"<html><body></body></html>")))


def test_the_feed_date_wins_over_the_page_date() -> None:
    head = '<meta property="article:published_time" content="2026-03-01T08:00:00+07:00">'
    page = fetched(html_page(EN_TITLE, EN_BODY, lang="en", head=head))
    from_page = prepare_article(job(page=page))
    assert from_page.article.published_at == "2026-03-01T01:00:00Z"
    with_entry = prepare_article(job(page=page, entry=feed_entry(EN_TITLE, "")))
    assert with_entry.article.published_at == "2026-03-02T01:30:00Z"
    undated = prepare_article(job(page=page, entry=feed_entry(EN_TITLE, "", published_at=None)))
    assert undated.article.published_at == "2026-03-01T01:00:00Z"


def test_the_sources_language_hint_decides_short_latin_text() -> None:
    # Two words say nothing about en or vi: the source's language, else the feed's.
    assert (
        prepare_article(job(entry=feed_entry("Shopee Live", ""), hint="vi")).article.language
        == "vi"
    )
    feed_says_en = feed_entry("Shopee Live", "", language="en")
    assert prepare_article(job(entry=feed_says_en)).article.language == "en"
    assert prepare_article(job(entry=feed_says_en, hint="vi")).article.language == "vi"


def test_the_content_hash_changes_with_the_text_only() -> None:
    first = prepare_article(job(entry=feed_entry(EN_TITLE, EN_BODY[0]))).article
    again = prepare_article(job(entry=feed_entry(EN_TITLE, EN_BODY[0]))).article
    edited = prepare_article(job(entry=feed_entry(EN_TITLE, EN_BODY[1]))).article
    assert first.content_hash == again.content_hash
    assert first.content_hash != edited.content_hash
    assert len(first.content_hash) == 64


def test_control_and_bidi_characters_never_reach_the_article() -> None:
    title = "\x1b]0;owned\x07Deepfake \u202esinger\u202c sells \x1b[2Jfake crypto"
    summary = f"Police warned\x00 that a \u2066{SCAM_EN}\u2069 spread\x85 on\r\nsocial media."
    prepared = prepare_article(job(entry=feed_entry(title, summary)))
    article = prepared.article
    assert article.title == "]0;ownedDeepfake singer sells [2Jfake crypto"
    assert (
        article.text
        == f"{article.title}\n\nPolice warned that a {SCAM_EN} spread on\nsocial media."
    )
    for text in (article.title, article.text, *(m.snippet for m in prepared.matches)):
        assert not UNSAFE_CHARACTERS.search(text), repr(text)
    assert hits_of(prepared) == places(article.text, SCAM_EN)


def test_control_characters_in_a_pages_author_are_stripped() -> None:
    head = '<meta name="author" content="Somchai &#x202E;Jaidee">'
    prepared = prepare_article(
        job(page=fetched(html_page(EN_TITLE, EN_BODY, lang="en", head=head)))
    )
    assert prepared.article.author == "Somchai Jaidee"


def test_prepare_article_needs_the_workers_matcher(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "_worker_matcher", None)
    with pytest.raises(RuntimeError, match="matcher is not built"):
        prepare_article(job(entry=feed_entry(EN_TITLE, "")))


# --- compose_text -------------------------------------------------------------------


@pytest.mark.parametrize(
    "title, body, text",
    [
        ("Headline", "Body text.", "Headline\n\nBody text."),
        ("Headline", "Headline and the body.", "Headline and the body."),  # the page repeats it
        ("", "Body text.", "Body text."),
        ("Headline", "", "Headline"),
        ("  Headline \n", "\n Body text. \n", "Headline\n\nBody text."),
        ("", "", ""),
        (TH_TITLE, TH_BODY[0], f"{TH_TITLE}\n\n{TH_BODY[0]}"),
    ],
)
def test_compose_text(title: str, body: str, text: str) -> None:
    assert compose_text(title, body) == text


def test_a_retried_entry_gets_back_the_summary_it_was_stored_with() -> None:
    stored = RetryCandidate(
        article_id=3,
        url="https://news.example/story/1",
        entry_id="story-1",
        title=EN_TITLE,
        text=compose_text(EN_TITLE, EN_BODY[0]),
        published_at=None,
        language="en",
        attempts=1,
    )
    entry = pipeline._entry_of(stored)
    assert (entry.title, entry.summary, entry.entry_id) == (EN_TITLE, EN_BODY[0], "story-1")


# --- select_sources -----------------------------------------------------------------

CONFIG = """\
version: 1
markets:
  TH: {name: Thailand, languages: [th, en]}
  VN: {name: Vietnam, languages: [vi, en]}
  MM: {name: Myanmar, languages: [my, en]}
sources:
  - {name: th-one, url: "https://th.example/rss", market: TH}
  - {name: vn-one, url: "https://vn.example/rss", market: VN}
  - {name: th-two, url: "https://th2.example/rss", market: TH}
  - {name: mm-one, url: "https://mm.example/rss", market: MM}
watchlists:
  - {name: scam-ads, category: fraud, severity: high, terms: {en: [scam ad]}}
"""


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "markets, names, chosen",
    [
        ((), (), ["th-one", "vn-one", "th-two", "mm-one"]),
        (("TH",), (), ["th-one", "th-two"]),
        (("MM", "VN"), (), ["vn-one", "mm-one"]),  # in config order
        ((), ("th-two", "vn-one"), ["vn-one", "th-two"]),
        (("TH",), ("th-two", "vn-one"), ["th-two"]),  # both: sources of those markets
    ],
)
def test_select_sources(
    config_path: Path, markets: tuple[str, ...], names: tuple[str, ...], chosen: list[str]
) -> None:
    config = load_config(config_path)
    selected = select_sources(config, markets=markets, names=names)
    assert [s.name for s in selected] == chosen


@pytest.mark.parametrize(
    "markets, names, field, problem",
    [
        (("XX",), (), "market", "unknown market 'XX' (known: TH, VN, MM)"),
        (("th",), (), "market", "unknown market 'th'"),  # codes are case-sensitive
        ((), ("th-three",), "source", "no source named 'th-three' in "),
        (("TH",), ("nope",), "source", "no source named 'nope'"),
    ],
)
def test_select_sources_refuses_what_the_config_does_not_have(
    config_path: Path, markets: tuple[str, ...], names: tuple[str, ...], field: str, problem: str
) -> None:
    with pytest.raises(UsageError) as raised:
        select_sources(load_config(config_path), markets=markets, names=names)
    message = str(raised.value)
    assert problem in message
    assert raised.value.exit_code == 2
    # The library speaks field names; cli.py alone knows they are --market and --source.
    assert raised.value.field == field
    assert "--" not in message


# --- retries of failed pages ----------------------------------------------------------

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "attempts, retry_at",
    [
        (1, "2026-03-02T07:00:00Z"),  # 1 h
        (2, "2026-03-02T10:00:00Z"),  # 4 h
        (3, "2026-03-02T18:00:00Z"),  # 12 h
        (4, "2026-03-03T06:00:00Z"),  # 24 h
        (5, None),  # five tries: no more
        (6, None),
    ],
)
def test_next_page_retry(attempts: int, retry_at: str | None) -> None:
    retry = next_page_retry(attempts, "HTTP 503", now=NOW)
    assert (retry.attempts, retry.retry_at, retry.error) == (attempts, retry_at, "HTTP 503")


def test_next_page_retry_counts_from_now_by_default() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    retry = next_page_retry(1, "timed out after 20.0 s")
    assert retry.retry_at is not None
    moment = datetime.strptime(retry.retry_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert (moment - before).total_seconds() >= 3600


@pytest.mark.parametrize(
    "error, reason",
    [
        (FetchError("HTTP 404", url="https://news.example/a", status=404), "HTTP 404"),
        (FetchError("HTTP 503 after 3 tries", status=503), "HTTP 503"),
        (FetchError("timed out after 20.0 s"), "timed out after 20.0 s"),
        (FetchError("redirect loop at https://news.example/a"), "redirect loop"),
        ("no article text found in https://news.example/a", "no article text found"),
        ("cannot connect: https://news.example/a", "cannot connect"),
        ("blocked by robots.txt for https://news.example/a", "blocked by robots.txt"),
        (None, "no article text"),
        ("", "no article text"),
        (": https://news.example/a", "page failed"),
    ],
)
def test_short_reason_drops_the_url_so_failures_can_be_counted(error: object, reason: str) -> None:
    assert pipeline._short_reason(error) == reason


def test_the_common_reason_says_how_many_failed_otherwise() -> None:
    tally = pipeline._PageTally()
    assert tally.common_reason() is None
    for reason in ("HTTP 404", "HTTP 404", "timed out after 20.0 s"):
        tally.failure(reason)
    assert tally.common_reason() == "HTTP 404 (and 1 other)"
    only = pipeline._PageTally()
    only.failure("HTTP 403")
    assert only.common_reason() == "HTTP 403"


# --- what a scan reports ------------------------------------------------------------


@pytest.mark.parametrize(
    "pages, failed, mostly",
    [
        (0, 0, False),
        (1, 1, False),  # one page is not a pattern
        (2, 2, True),
        (3, 2, True),
        (4, 2, False),  # half is not most
        (10, 5, False),
        (10, 6, True),
    ],
)
def test_pages_mostly_failed(pages: int, failed: int, mostly: bool) -> None:
    outcome = SourceOutcome("th-one", ok=True, pages=pages, pages_failed=failed)
    assert outcome.pages_mostly_failed is mostly


def test_scan_summary_as_dict() -> None:
    outcomes = [
        SourceOutcome(
            "th-one",
            ok=True,
            status=200,
            entries=5,
            articles_new=3,
            hits_new=4,
            pages=5,
            pages_failed=1,
        ),
        SourceOutcome(
            "vn-one", ok=True, status=200, articles_new=1, articles_updated=2, hits_new=1, pages=2
        ),
        SourceOutcome("mm-one", ok=False, status=503, error="HTTP 503"),
    ]
    summary = ScanSummary(7, "2026-03-02T06:00:00Z", "2026-03-02T06:01:00Z", outcomes)
    data = summary.as_dict()
    assert {key: value for key, value in data.items() if key != "sources"} == {
        "run_id": 7,
        "started_at": "2026-03-02T06:00:00Z",
        "finished_at": "2026-03-02T06:01:00Z",
        "sources_ok": 2,
        "sources_failed": 1,
        "articles_new": 4,
        "articles_updated": 2,
        "hits_new": 5,
        "pages": 7,
        "pages_failed": 1,
        "failed": [{"source": "mm-one", "error": "HTTP 503"}],
        "alerts": [],
        "deliveries": [],
    }
    assert [s["name"] for s in data["sources"]] == ["th-one", "vn-one", "mm-one"]
    assert data["sources"][2] == {
        **SourceOutcome("mm-one", ok=False).__dict__,
        "status": 503,
        "error": "HTTP 503",
    }
    assert json.loads(json.dumps(data)) == data  # what `scan --json` prints
