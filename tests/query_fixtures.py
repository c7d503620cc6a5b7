"""A small real store for the query, export and report tests.

Five articles in Thai, Vietnamese, Burmese and English, saved with the store's
own `save_article`; their hits' `found_at` are then moved to known ages so time
filters have something to tell apart. One English article carries hostile text
(ANSI escapes, rich markup, HTML, a spreadsheet formula) from "the web".
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from store_sql import execute, value

from adwatch.models import Article, Match, Source
from adwatch.store import open_store
from adwatch.text.dates import iso_utc

NOW = datetime.now(UTC)

TH_TEXT = "ตำรวจไซเบอร์เตือนประชาชนระวังโฆษณาหลอกลวงชวนลงทุนบนติ๊กต็อก ซึ่งใช้ภาพคนดังปลอม มีผู้เสียหายกว่า 200 ราย"
VI_TEXT = (
    "Bộ Công an cảnh báo quảng cáo lừa đảo đầu tư dùng deepfake người nổi tiếng "
    "trên mạng xã hội. Người dân không nên chuyển tiền."
)
MY_TEXT = "ရန်ကုန် - လိမ်လည်ကြော်ငြာများကို ဖေ့စ်ဘုတ်ပေါ်တွင် နေ့စဉ် တွေ့ရကြောင်း ပြောဆိုကြသည်။"
EN_TEXT = (
    '=HYPERLINK("http://evil.example") An election campaign ran a political ad on Facebook '
    "during the silence period.\nOfficials said the political ad broke the rules."
)
EN2_TEXT = "The regulator fines an ad platform for scam ads that stayed online for weeks."
HOSTILE_TITLE = (
    "\x1b[31mRED\x1b[0m [bold red]markup[/bold red] <script>alert(1)</script>"
    "<img src=x onerror=\"document.title='pwned'\"> =1+2"
)


@dataclass(frozen=True)
class Planted:
    """What a test needs to know about one hit it planted."""

    id: int
    article_id: int
    watchlist: str
    found_at: str


def _article(url: str, source: str, market: str, language: str, title: str, text: str) -> Article:
    return Article(
        url=url,
        source=source,
        market=market,
        title=title,
        text=text,
        language=language,
        published_at=iso_utc(NOW - timedelta(days=40)),
        fetched_at=iso_utc(NOW),
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
        extractor="trafilatura",
        entry_id=url,
    )


def _match(
    text: str, term: str, watchlist: str, category: str, severity: str, nth: int = 0
) -> Match:
    start = -1
    for _ in range(nth + 1):
        start = text.index(term, start + 1)
    end = start + len(term)
    return Match(
        watchlist=watchlist,
        category=category,
        severity=severity,
        term=term,
        matched_text=text[start:end],
        start=start,
        end=end,
        snippet=text[max(0, start - 30) : end + 30],
    )


# (url, source, market, language, title, text, [(term, watchlist, category, severity, age, nth)])
ARTICLES = [
    ("https://th.example/1", "th-news", "TH", "th", "โฆษณาหลอกลวงบนติ๊กต็อกระบาด", TH_TEXT,
     [("โฆษณาหลอกลวง", "scam-ads", "fraud", "high", timedelta(hours=1), 0)]),
    ("https://vn.example/1", "vn-news", "VN", "vi", "Cảnh báo quảng cáo lừa đảo đầu tư", VI_TEXT,
     [("quảng cáo lừa đảo", "scam-ads", "fraud", "high", timedelta(hours=2), 0),
      ("deepfake", "deepfake-investment", "fraud", "critical", timedelta(hours=2), 0)]),
    ("https://mm.example/1", "mm-news", "MM", "my", "လိမ်လည်ကြော်ငြာ သတိပေး", MY_TEXT,
     [("လိမ်လည်ကြော်ငြာ", "scam-ads", "fraud", "high", timedelta(days=3), 0)]),
    ("https://th.example/en/2", "th-english", "TH", "en", HOSTILE_TITLE, EN_TEXT,
     [("political ad", "election-political-ads", "elections", "critical", timedelta(days=10), 0),
      ("political ad", "election-political-ads", "elections", "critical", timedelta(days=10), 1),
      ("=HYPERLINK", "formula-bait", "other", "low", timedelta(days=10), 0)]),
    ("javascript:alert(1)", "vn-news", "VN", "en", "Regulator fines ad platform", EN2_TEXT,
     [("regulator fines", "regulator-fines", "regulation", "medium", timedelta(days=30), 0)]),
]  # fmt: skip


def fill_store(path: str | Path) -> list[Planted]:
    """Save ARTICLES into a new store at `path` (a file or a PostgreSQL URL); return the
    planted hits in order."""
    planted: list[Planted] = []
    with open_store(path) as store:
        store.sync_sources(
            [
                Source("th-news", "https://th.example/rss", "TH", "th"),
                Source("vn-news", "https://vn.example/rss", "VN", "vi"),
                Source("mm-news", "https://mm.example/rss", "MM", "my"),
                Source("th-english", "https://th.example/en/rss", "TH", "en"),
            ]
        )
        for url, source, market, language, title, text, specs in ARTICLES:
            article = _article(url, source, market, language, title, text)
            matches = [_match(text, t, w, c, s, nth) for t, w, c, s, _, nth in specs]
            saved = store.save_article(article, matches)
            for (_, watchlist, _, _, age, _), match in zip(specs, matches, strict=True):
                found_at = iso_utc(NOW - age)
                hit_id = value(
                    path,
                    "SELECT id FROM hits WHERE article_id = ? AND watchlist = ? AND start = ?",
                    [saved.article_id, watchlist, match.start],
                )
                execute(path, "UPDATE hits SET found_at = ? WHERE id = ?", [found_at, hit_id])
                planted.append(Planted(hit_id, saved.article_id, watchlist, found_at))
    # The regulator story was dismissed by an analyst; one source is failing.
    execute(path, "UPDATE hits SET status = 'dismissed' WHERE watchlist = 'regulator-fines'")
    execute(
        path,
        "UPDATE sources SET last_status = 500, last_error = 'HTTP 500 after 3 tries', "
        "last_checked_at = ?, failures = 4, last_ok_at = ? WHERE name = 'mm-news'",
        [iso_utc(NOW), iso_utc(NOW - timedelta(days=2))],
    )
    execute(
        path,
        "UPDATE sources SET last_status = 200, last_checked_at = ?, last_ok_at = ? "
        "WHERE name != 'mm-news'",
        [iso_utc(NOW), iso_utc(NOW)],
    )
    return planted
