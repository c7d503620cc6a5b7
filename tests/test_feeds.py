"""Feeds and sitemaps as the web serves them: ill-formed XML, legacy Thai and Vietnamese
encodings, Buddhist-era dates, duplicated entries, hostile XML."""

from __future__ import annotations

import gzip
import unicodedata
from pathlib import Path

import pytest
from legacy_encodings import to_cp1258
from pytest_httpserver import HTTPServer

from adwatch.errors import FeedError
from adwatch.feeds import (
    close_unclosed_cdata,
    detect_kind,
    parse_feed,
    parse_sitemap,
    strip_html,
)
from adwatch.models import FetchResult
from adwatch.text.dates import parse_date

FEEDS = Path(__file__).parent / "data" / "feeds"
PAGES = Path(__file__).parent / "data" / "pages"


def fetched(
    content: bytes,
    content_type: str = "application/rss+xml",
    url: str = "https://feeds.example/rss.xml",
) -> FetchResult:
    headers = {"content-type": content_type} if content_type else {}
    return FetchResult(url=url, final_url=url, status=200, headers=headers, content=content)


def feed_text(name: str) -> str:
    return (FEEDS / name).read_text(encoding="utf-8")


# ─── ill-formed feeds still yield their entries ──────────────────────────────────────────


def test_ill_formed_feed_yields_entries_and_records_the_reason_on_one_line() -> None:
    # A raw "&" in an enclosure URL and "</br>" inside CDATA, as VnExpress serves them.
    feed = parse_feed(fetched((FEEDS / "vi_vnexpress_style.rss").read_bytes()))

    assert feed.kind == "rss"
    assert feed.title == "Pháp luật - Thời sự Việt RSS"
    assert len(feed.entries) == 3
    assert feed.warning is not None
    assert feed.warning.startswith("ill-formed feed:")
    assert "not well-formed" in feed.warning
    assert "\n" not in feed.warning


def test_summary_is_plain_text_from_the_cdata_description() -> None:
    feed = parse_feed(fetched((FEEDS / "vi_vnexpress_style.rss").read_bytes()))
    deepfake = next(e for e in feed.entries if "deepfake" in e.title)

    assert deepfake.summary.startswith("Bộ Công an cảnh báo thủ đoạn")
    assert "<" not in deepfake.summary and "img" not in deepfake.summary


def test_entries_are_newest_first_with_canonical_urls_and_guid_ids() -> None:
    feed = parse_feed(fetched((FEEDS / "vi_vnexpress_style.rss").read_bytes()))

    assert [e.published_at for e in feed.entries] == [
        "2025-11-25T03:30:00Z",
        "2025-11-25T00:45:00Z",
        "2025-11-24T14:15:00Z",
    ]
    first, second, _ = feed.entries
    # utm_* parameters and the #fragment are gone
    assert first.url == (
        "https://thoisuviet.example/phap-luat/canh-bao-quang-cao-dau-tu-deepfake-4962231.html"
    )
    assert second.url.endswith("phat-cong-ty-quang-cao-sai-su-that-4961950.html")
    assert first.entry_id == first.url  # the guid
    assert second.summary == (
        "Sở Y tế xử phạt 90 triệu đồng đối với doanh nghiệp chạy quảng cáo "
        '"chữa khỏi bệnh" trên YouTube.'
    )


def test_a_valid_feed_with_no_items_is_an_empty_feed_not_an_error() -> None:
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet</title></channel></rss>'
    feed = parse_feed(fetched(body))
    assert feed.entries == [] and feed.title == "Quiet" and feed.warning is None


@pytest.mark.parametrize(
    ("body", "version_hint"),
    [
        (
            b'<?xml version="1.0"?><rss version="0.91"><channel><title>Old</title>'
            b"<link>https://old.example/</link><item><title>One</title>"
            b"<link>https://old.example/1</link></item></channel></rss>",
            "RSS 0.91",
        ),
        (
            b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
            b' xmlns="http://purl.org/rss/1.0/"><channel rdf:about="https://old.example/">'
            b"<title>Old</title><link>https://old.example/</link></channel>"
            b'<item rdf:about="https://old.example/1"><title>One</title>'
            b"<link>https://old.example/1</link></item></rdf:RDF>",
            "RSS 1.0",
        ),
    ],
)
def test_rss_091_and_10_are_read(body: bytes, version_hint: str) -> None:
    feed = parse_feed(fetched(body))
    assert feed.kind == "rss", version_hint
    assert [(e.title, e.url) for e in feed.entries] == [("One", "https://old.example/1")]


def test_entries_are_bounded_by_max_entries_keeping_the_newest() -> None:
    items = "".join(
        f"<item><title>Story {n}</title><link>https://big.example/{n}</link>"
        f"<pubDate>Tue, 25 Nov 2025 {n // 60:02d}:{n % 60:02d}:00 +0000</pubDate></item>"
        for n in range(300)
    )
    body = f'<rss version="2.0"><channel><title>Big</title>{items}</channel></rss>'.encode()
    feed = parse_feed(fetched(body), max_entries=200)
    assert len(feed.entries) == 200
    assert feed.entries[0].title == "Story 299"
    assert feed.entries[-1].title == "Story 100"


# ─── feedparser never fetches anything itself ────────────────────────────────────────────


def test_a_body_that_is_a_local_file_name_is_not_opened(tmp_path: Path) -> None:
    # feedparser.parse(b"/some/path") would read that file; adwatch hands it a stream.
    secret = tmp_path / "secret-feed.xml"
    secret.write_text(
        '<rss version="2.0"><channel><title>Local secret</title><item><title>leak</title>'
        "<link>https://leak.example/</link></item></channel></rss>",
        encoding="utf-8",
    )
    with pytest.raises(FeedError, match="not a feed") as raised:
        parse_feed(fetched(str(secret).encode()))
    assert "Local secret" not in str(raised.value)


def test_a_body_that_is_a_url_is_not_downloaded(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/elsewhere.xml").respond_with_data(
        (FEEDS / "th_news.rss").read_bytes(), content_type="application/rss+xml"
    )
    with pytest.raises(FeedError, match="not a feed"):
        parse_feed(fetched(httpserver.url_for("/elsewhere.xml").encode()))
    assert httpserver.log == []


# ─── what is not a feed ──────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("content", "content_type", "message"),
    [
        (b"", "application/rss+xml", "empty response at 'https://feeds.example/rss.xml'"),
        (b"  \r\n\t ", "text/xml", "empty response"),
        (
            (PAGES / "th_scam_ads.html").read_bytes(),
            "text/html; charset=utf-8",
            "not a feed: the response is an HTML page",
        ),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
            "image/png",
            r"binary content \(image/png\)",
        ),
        (
            b"\x00\x01\x02\x03binary\x00junk",
            "application/octet-stream",
            "not a feed: binary content",
        ),
        ((FEEDS / "news_sitemap.xml").read_bytes(), "application/xml", "is a sitemap"),
        (b"Service temporarily unavailable, try later", "text/plain", "no RSS or Atom structure"),
    ],
)
def test_what_is_not_a_feed_raises_feed_error_with_one_line(
    content: bytes, content_type: str, message: str
) -> None:
    with pytest.raises(FeedError, match=message) as raised:
        parse_feed(fetched(content, content_type))
    assert "\n" not in str(raised.value)


def test_html_served_as_rss_is_still_recognised_as_html() -> None:
    page = b"<!DOCTYPE html>\n<html><head><title>Login</title></head><body><p>Please log in</p></body></html>"
    with pytest.raises(FeedError, match="HTML page"):
        parse_feed(fetched(page, "application/rss+xml"))


# ─── encodings ───────────────────────────────────────────────────────────────────────────

THAI_TITLE = "ตำรวจไซเบอร์เตือนโฆษณาลงทุนปลอมใช้ภาพคนดังบนเฟซบุ๊ก"
# Curly quotes and the ellipsis exist in windows-874 but not in Python's tis-620 codec.
THAI_SUMMARY_START = "ตำรวจเตือนประชาชนระวัง “โฆษณาหลอกลวง” ชวนลงทุน"


@pytest.mark.parametrize("label", ["windows-874", "tis-620", "iso-8859-11", "x-windows-874"])
def test_legacy_thai_declared_in_the_prolog_decodes_as_cp874(label: str) -> None:
    xml = feed_text("th_news.rss").replace('encoding="utf-8"', f'encoding="{label}"')
    feed = parse_feed(fetched(xml.encode("cp874"), "application/rss+xml"))

    assert feed.warning is None  # no mojibake override, no bozo
    assert feed.title == "สยามนิวส์ออนไลน์ - ข่าวอาชญากรรม"
    titles = {e.title for e in feed.entries}
    assert THAI_TITLE in titles
    summary = next(e.summary for e in feed.entries if e.title == THAI_TITLE)
    assert summary.startswith(THAI_SUMMARY_START)
    assert summary.endswith("…")


@pytest.mark.parametrize("label", ["windows-874", "TIS-620"])
def test_legacy_thai_declared_only_in_the_http_header(label: str) -> None:
    xml = feed_text("th_news.rss").replace('<?xml version="1.0" encoding="utf-8"?>\n', "")
    feed = parse_feed(fetched(xml.encode("cp874"), f"application/rss+xml; charset={label}"))
    assert THAI_TITLE in {e.title for e in feed.entries}
    assert feed.warning is None


def test_undeclared_legacy_thai_is_detected() -> None:
    xml = feed_text("th_news.rss").replace('<?xml version="1.0" encoding="utf-8"?>\n', "")
    feed = parse_feed(fetched(xml.encode("cp874"), "text/xml"))
    assert THAI_TITLE in {e.title for e in feed.entries}


def test_windows_1258_vietnamese_comes_out_nfc() -> None:
    xml = '<?xml version="1.0" encoding="windows-1258"?>\n' + feed_text(
        "vi_vnexpress_style.rss"
    ).replace("&h=0&q=100", "&amp;h=0&amp;q=100")
    body = to_cp1258(xml)
    assert "ế".encode("cp1258", "replace") == b"?"  # really decomposed: no precomposed ế

    feed = parse_feed(fetched(body))

    assert feed.warning is None
    titles = [e.title for e in feed.entries]
    assert "Cảnh báo quảng cáo đầu tư dùng deepfake người nổi tiếng trên TikTok" in titles
    for entry in feed.entries:
        assert unicodedata.is_normalized("NFC", entry.title)
        assert unicodedata.is_normalized("NFC", entry.summary)
    assert unicodedata.is_normalized("NFC", feed.title)


def test_nfd_utf8_feed_comes_out_nfc() -> None:
    body = unicodedata.normalize("NFD", feed_text("vi_vnexpress_style.rss")).encode("utf-8")
    feed = parse_feed(fetched(body))
    entry = next(e for e in feed.entries if "TikTok" in e.title)
    assert entry.title == "Cảnh báo quảng cáo đầu tư dùng deepfake người nổi tiếng trên TikTok"
    assert unicodedata.is_normalized("NFC", entry.summary)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_feed_with_a_byte_order_mark(codec: str) -> None:
    xml = feed_text("th_news.rss").replace('encoding="utf-8"', 'encoding="utf-16"')
    bom = b"\xff\xfe" if codec.endswith("le") else b"\xfe\xff"
    feed = parse_feed(fetched(bom + xml.encode(codec)))
    assert THAI_TITLE in {e.title for e in feed.entries}
    assert feed.warning is None


def test_utf8_bom_feed() -> None:
    feed = parse_feed(fetched(b"\xef\xbb\xbf" + (FEEDS / "my_news.rss").read_bytes()))
    assert feed.title == "ရွှေမြေသတင်း"


def test_wrong_latin1_header_on_a_utf8_feed_is_overruled_and_noted() -> None:
    body = (FEEDS / "th_news.rss").read_bytes()
    feed = parse_feed(fetched(body, "text/xml; charset=ISO-8859-1"))
    assert THAI_TITLE in {e.title for e in feed.entries}
    assert feed.warning is not None
    assert "declared charset 'ISO-8859-1'" in feed.warning
    assert "valid UTF-8" in feed.warning


def test_utf8_header_on_a_cp874_feed_falls_back_to_the_prolog() -> None:
    xml = feed_text("th_news.rss").replace('encoding="utf-8"', 'encoding="windows-874"')
    feed = parse_feed(fetched(xml.encode("cp874"), "application/rss+xml; charset=utf-8"))
    assert THAI_TITLE in {e.title for e in feed.entries}


def test_utf8_header_on_an_undeclared_cp1258_feed_is_detected_as_wrong() -> None:
    xml = feed_text("vi_vnexpress_style.rss").replace("&h=0&q=100", "&amp;h=0&amp;q=100")
    feed = parse_feed(fetched(to_cp1258(xml), "application/rss+xml; charset=utf-8"))
    assert feed.title == "Pháp luật - Thời sự Việt RSS"
    assert feed.warning is not None and "decoded as cp1258 (detected)" in feed.warning


# ─── dates in feeds ──────────────────────────────────────────────────────────────────────


def test_thai_feed_dates_in_buddhist_era_become_gregorian_utc() -> None:
    feed = parse_feed(fetched((FEEDS / "th_news.rss").read_bytes()))
    by_title = {e.title: e.published_at for e in feed.entries}
    # "Tue, 25 Nov 2568 10:30:00 +0700": feedparser alone would say the year 2568
    assert by_title[THAI_TITLE] == "2025-11-25T03:30:00Z"
    # dc:date "25 พฤศจิกายน 2568 08:15 น." (Bangkok time)
    assert by_title["จับแก๊งคอลเซ็นเตอร์ข้ามชาติ ตุ๋นเหยื่อนับร้อยล้าน"] == "2025-11-25T01:15:00Z"
    # pubDate "24 พ.ย. 2568 19:40 น."
    assert by_title["เปิดโปงเพจปลอมขายทองราคาถูกหลอกโอนมัดจำ"] == "2025-11-24T12:40:00Z"
    assert [e.entry_id for e in feed.entries] == [
        "siamnews-1045872",
        "siamnews-1045811",
        "siamnews-1045790",
    ]
    assert feed.language == "th" and {e.language for e in feed.entries} == {"th"}


def test_myanmar_offsets_and_relative_links() -> None:
    feed = parse_feed(
        fetched((FEEDS / "my_news.rss").read_bytes(), url="https://shwemyay.example/feed/")
    )
    gambling, crypto = feed.entries
    assert gambling.published_at == "2025-11-25T04:00:00Z"  # 10:30 at +06:30
    assert gambling.url == "https://shwemyay.example/news/2025/11/online-gambling-ads"
    assert gambling.entry_id == gambling.url  # no guid: the canonical link
    assert crypto.published_at == "2025-11-24T11:30:00Z"
    assert crypto.url == "https://shwemyay.example/news/2025/11/crypto-scam-warning?id=7"


def test_an_unparseable_date_stays_none_and_sorts_last() -> None:
    body = (
        b'<rss version="2.0"><channel><title>T</title>'
        b"<item><title>Undated</title><link>https://d.example/1</link><pubDate>sometime soon</pubDate></item>"
        b"<item><title>Dated</title><link>https://d.example/2</link>"
        b"<pubDate>Mon, 24 Nov 2025 08:00:00 GMT</pubDate></item>"
        b"</channel></rss>"
    )
    feed = parse_feed(fetched(body))
    assert [(e.title, e.published_at) for e in feed.entries] == [
        ("Dated", "2025-11-24T08:00:00Z"),
        ("Undated", None),
    ]


# ─── Atom: repeated ids, duplicates, missing links ───────────────────────────────────────


def test_atom_repeated_id_keeps_the_updated_entry_and_duplicate_urls_collapse() -> None:
    feed = parse_feed(fetched((FEEDS / "en_updates.atom").read_bytes(), "application/atom+xml"))

    assert feed.kind == "atom"
    assert [e.title for e in feed.entries] == [
        "Regulator fines ad platform over scam investment ads (updated: platform to appeal)",
        "Deepfake celebrity ads surge ahead of holiday shopping season",
        "Podcast: who polices political ads?",
        "Election commission publishes ad library rules",
    ]
    fine = feed.entries[0]
    assert fine.entry_id == "tag:mekongbiz.example,2025:article-88213"
    assert fine.url == "https://www.mekongbiz.example/tech/regulator-fines-ad-platform"
    assert fine.published_at == "2025-11-24T18:05:00Z"
    assert fine.summary.startswith("The platform says it will consider an appeal")
    assert feed.entries[1].published_at == "2025-11-23T02:00:00Z"
    assert feed.entries[3].published_at is None
    assert feed.language == "en"


def test_an_entry_without_an_http_link_is_kept_with_a_stable_url_from_the_feed() -> None:
    feed = parse_feed(fetched((FEEDS / "en_updates.atom").read_bytes(), "application/atom+xml"))
    podcast = next(e for e in feed.entries if e.title.startswith("Podcast"))
    assert not podcast.has_page
    assert podcast.summary == "Our weekly podcast."
    assert podcast.url.startswith("https://feeds.example/rss.xml#entry-")
    assert podcast.entry_id == "tag:mekongbiz.example,2025:podcast-12"
    assert feed.warning == "1 entries without an http(s) link kept from the feed's text"
    again = parse_feed(fetched((FEEDS / "en_updates.atom").read_bytes(), "application/atom+xml"))
    assert [e.url for e in again.entries] == [e.url for e in feed.entries]


def test_a_tis620_feed_of_descriptions_only_keeps_every_entry() -> None:
    # A real pattern of small Thai sites: windows-874 bytes, <description> and nothing else.
    items = "".join(
        f"<item><description>ข่าวที่ {n}: เตือนโฆษณาหลอกลวงลงทุน</description></item>" for n in (1, 2, 3)
    )
    body = (
        '<?xml version="1.0" encoding="windows-874"?><rss version="2.0"><channel>'
        f"<title>ข่าว</title>{items}</channel></rss>"
    ).encode("cp874")
    feed = parse_feed(fetched(body, "text/xml", url="https://th.example/rss.xml"))
    assert [e.summary for e in feed.entries] == [
        f"ข่าวที่ {n}: เตือนโฆษณาหลอกลวงลงทุน" for n in (1, 2, 3)
    ]
    assert len({e.url for e in feed.entries}) == 3
    assert all(e.url.startswith("https://th.example/rss.xml#entry-") for e in feed.entries)
    assert not any(e.has_page for e in feed.entries)


def test_an_unclosed_cdata_section_does_not_swallow_the_next_entries() -> None:
    body = (
        b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
        b"<item><title>One</title><link>https://e.example/1</link>"
        b"<description><![CDATA[first <b>bold</b> </description></item>"
        b"<item><title>Two</title><link>https://e.example/2</link>"
        b"<description><![CDATA[second]]></description></item>"
        b"<item><title>Three</title><link>https://e.example/3</link>"
        b"<description><![CDATA[third</description></item>"
        b"</channel></rss>"
    )
    feed = parse_feed(fetched(body, "application/rss+xml"))
    assert sorted((e.title, e.summary) for e in feed.entries) == [
        ("One", "first bold"),
        ("Three", "third"),
        ("Two", "second"),
    ]
    assert "2 unclosed CDATA sections closed" in (feed.warning or "")


def test_close_unclosed_cdata_leaves_well_formed_sections_alone() -> None:
    text = "<d><![CDATA[a </b> c]]></d><e><![CDATA[x]]></e>"
    assert close_unclosed_cdata(text) == (text, 0)


def test_the_later_of_two_identical_entries_wins() -> None:
    body = (
        b'<rss version="2.0"><channel><title>T</title>'
        b"<item><guid>https://d.example/1</guid><title>First wording</title></item>"
        b"<item><guid>https://d.example/1</guid><title>Corrected wording</title></item>"
        b"</channel></rss>"
    )
    feed = parse_feed(fetched(body))
    assert [e.title for e in feed.entries] == ["Corrected wording"]


def test_html_in_titles_is_stripped_and_entities_decoded() -> None:
    body = (
        b'<rss version="2.0"><channel><title>A &amp;amp; B</title><item>'
        b"<title><![CDATA[<b>Deepfake</b> &amp; scam ads: <i>what</i> to know]]></title>"
        b"<link>https://d.example/1</link></item></channel></rss>"
    )
    feed = parse_feed(fetched(body))
    assert feed.entries[0].title == "Deepfake & scam ads: what to know"
    assert feed.title == "A & B"


# ─── hostile XML ─────────────────────────────────────────────────────────────────────────

BILLION_LAUGHS_DTD = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 2 else "") + ";") * 10}">'
        for n in range(2, 10)
    )
    + "]>\n"
)


def test_billion_laughs_in_a_feed_does_not_expand() -> None:
    body = (
        BILLION_LAUGHS_DTD
        + '<rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title>'
        "<link>https://bomb.example/1</link></item></channel></rss>"
    ).encode()
    try:
        feed = parse_feed(fetched(body))
    except FeedError:
        return
    assert len(feed.title) < 100
    assert all(len(e.title) < 100 for e in feed.entries)


def test_external_entities_in_a_feed_are_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE", encoding="utf-8")
    body = (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>'
        '<rss version="2.0"><channel><title>x</title><item><title>&xxe;</title>'
        "<link>https://xxe.example/1</link></item></channel></rss>"
    ).encode()
    feed = parse_feed(fetched(body))
    assert "TOP-SECRET" not in repr(feed)


# ─── sitemaps ────────────────────────────────────────────────────────────────────────────


def test_news_sitemap_entries_newest_first_with_news_tags() -> None:
    sitemap = parse_sitemap(fetched((FEEDS / "news_sitemap.xml").read_bytes(), "application/xml"))

    assert sitemap.kind == "sitemap"
    assert sitemap.title == "สยามนิวส์ออนไลน์"
    assert sitemap.language == "th"
    assert [(e.url, e.published_at) for e in sitemap.entries] == [
        ("https://www.siamnews.example/crime/1045872", "2025-11-25T03:30:00Z"),
        # news:publication_date in Buddhist era, 2568
        ("https://www.siamnews.example/crime/1045811", "2025-11-25T01:15:00Z"),
        # no news tags: lastmod
        ("https://www.siamnews.example/economy/1045702", "2025-11-24T00:00:00Z"),
    ]
    assert sitemap.entries[0].title == THAI_TITLE
    assert sitemap.entries[0].entry_id == sitemap.entries[0].url
    assert sitemap.entries[0].language == "th"
    assert sitemap.entries[2].title == "" and sitemap.entries[2].language is None
    assert sitemap.warning == "1 URLs that are not http(s) skipped"


def test_sitemap_index_lists_the_five_newest_children() -> None:
    index = parse_sitemap(
        fetched(
            (FEEDS / "sitemap_index.xml").read_bytes(),
            "application/xml",
            url="https://thoisuviet.example/sitemap.xml",
        )
    )
    assert index.kind == "sitemapindex"
    assert index.entries == []
    assert index.child_sitemaps == [
        "https://thoisuviet.example/sitemaps/news.xml",  # relative <loc>, resolved
        "https://thoisuviet.example/sitemaps/2025-11.xml",
        "https://thoisuviet.example/sitemaps/2025-10.xml",
        "https://thoisuviet.example/sitemaps/2025-09.xml",
        "https://thoisuviet.example/sitemaps/2025-08.xml",
    ]


def test_sitemap_entries_are_bounded_by_max_entries() -> None:
    urls = "".join(
        f"<url><loc>https://big.example/{n}</loc><lastmod>2025-11-{1 + n % 28:02d}</lastmod></url>"
        for n in range(500)
    )
    body = f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'.encode()
    sitemap = parse_sitemap(fetched(body, "application/xml"), max_entries=50)
    every_date = sorted((f"2025-11-{1 + n % 28:02d}T00:00:00Z" for n in range(500)), reverse=True)
    assert [e.published_at for e in sitemap.entries] == every_date[:50]


def test_gzipped_sitemap_is_inflated() -> None:
    body = gzip.compress((FEEDS / "news_sitemap.xml").read_bytes())
    sitemap = parse_sitemap(fetched(body, "application/x-gzip"))
    assert len(sitemap.entries) == 3
    assert detect_kind(fetched(body, "application/x-gzip")) == "sitemap"


def test_sitemap_with_a_raw_ampersand_is_still_read() -> None:
    body = (
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>https://amp.example/a?x=1&y=2</loc></url>"
        b"<url><loc>https://amp.example/b</loc></url></urlset>"
    )
    sitemap = parse_sitemap(fetched(body, "application/xml"))
    assert "https://amp.example/b" in [e.url for e in sitemap.entries]


def test_billion_laughs_in_a_sitemap_does_not_expand() -> None:
    body = (
        BILLION_LAUGHS_DTD + '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<url><loc>https://bomb.example/&lol9;</loc></url></urlset>"
    ).encode()
    try:
        sitemap = parse_sitemap(fetched(body, "application/xml"))
    except FeedError:
        return
    assert all(len(e.url) < 200 for e in sitemap.entries)


def test_external_entities_in_a_sitemap_are_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE", encoding="utf-8")
    body = (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<url><loc>https://xxe.example/&xxe;</loc></url></urlset>"
    ).encode()
    try:
        sitemap = parse_sitemap(fetched(body, "application/xml"))
    except FeedError:
        return
    assert "TOP-SECRET" not in repr(sitemap)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            (PAGES / "en_platform_fine.html").read_bytes(),
            "not a sitemap: the response is an HTML page",
        ),
        ((FEEDS / "th_news.rss").read_bytes(), "not a sitemap: the response is an RSS feed"),
        (b"", "empty response"),
        (b"<?xml version='1.0'?><catalog><book/></catalog>", "root element <catalog>"),
        (gzip.compress(b"\x00" * 60_000_000), "does not inflate within"),
    ],
)
def test_what_is_not_a_sitemap_raises_feed_error(content: bytes, message: str) -> None:
    with pytest.raises(FeedError, match=message):
        parse_sitemap(fetched(content, "application/xml"))


# ─── detect_kind ─────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        ((FEEDS / "th_news.rss").read_bytes(), "rss"),
        ((FEEDS / "vi_vnexpress_style.rss").read_bytes(), "rss"),
        ((FEEDS / "en_updates.atom").read_bytes(), "atom"),
        (b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="x"><item/></rdf:RDF>', "rss"),
        ((FEEDS / "news_sitemap.xml").read_bytes(), "sitemap"),
        ((FEEDS / "sitemap_index.xml").read_bytes(), "sitemapindex"),
        ((PAGES / "vi_deepfake.html").read_bytes(), "html"),
        (b"<html><body>hi</body></html>", "html"),
        (
            b"<br />\n<b>Warning</b>: mysql_connect()\n<?xml version='1.0'?><rss version='2.0'></rss>",
            "rss",
        ),
        (b"\xff\xfe" + '<feed xmlns="http://www.w3.org/2005/Atom"/>'.encode("utf-16-le"), "atom"),
        (b"", "empty"),
        (b" \n ", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "binary"),
        (b"%PDF-1.7\n", "binary"),
        (b'{"items": []}', "unknown"),
        # a sniffing regex that backtracks would never return on this one
        (b" " * 10_000 + b"x", "unknown"),
        (b"<!--" * 10_000, "unknown"),
    ],
)
def test_detect_kind(content: bytes, kind: str) -> None:
    assert detect_kind(fetched(content, "application/octet-stream")) == kind


# ─── strip_html ──────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("fragment", "text"),
    [
        ("<p>First paragraph.</p><p>Second one.</p>", "First paragraph. Second one."),
        ("Tik<b>Tok</b> ads", "TikTok ads"),  # inline tags join, they do not split words
        ("<p>ข่าว</p><p>ใหม่</p>", "ข่าว ใหม่"),
        ("ข่าว<span>ด่วน</span>", "ข่าวด่วน"),
        ("AT&amp;T&nbsp;fined &#8220;again&#8221; &lt;3", "AT&T fined \u201cagain\u201d <3"),
        ("line one<br>line two<br/>line three", "line one line two line three"),
        ("<a><img src=x></a></br>Ngoại trưởng Israel", "Ngoại trưởng Israel"),
        ("<script>var ad = 1;</script><style>p{}</style>Text", "Text"),
        ("  lots \n\t of   space  ", "lots of space"),
        ("plain text, no markup", "plain text, no markup"),
        ("", ""),
    ],
)
def test_strip_html(fragment: str, text: str) -> None:
    assert strip_html(fragment) == text


def test_strip_html_output_is_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "<p>Quảng cáo lừa đảo</p>")
    assert strip_html(decomposed) == "Quảng cáo lừa đảo"


def test_strip_html_leaves_zawgyi_exactly_as_it_is() -> None:
    # Zawgyi "ေစာင့္" (watch): dot below U+1037 after U+1039, which NFC would swap
    zawgyi = "\u1031\u1005\u102c\u1004\u1039\u1037 \u1031\u1015\u1038"
    assert unicodedata.normalize("NFC", zawgyi) != zawgyi
    assert strip_html(f"<p>{zawgyi}</p>") == zawgyi


# ─── parse_date ──────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # RFC 822 with offsets
        ("Tue, 25 Nov 2025 10:30:00 +0700", "2025-11-25T03:30:00Z"),
        ("Tue, 25 Nov 2025 10:30:00 +0630", "2025-11-25T04:00:00Z"),
        ("Tue, 25 Nov 2025 10:30:00 GMT", "2025-11-25T10:30:00Z"),
        ("Tue, 25 Nov 2025 10:30:00 ICT", "2025-11-25T03:30:00Z"),
        ("Tue, 25 Nov 2025 10:30:00 -0500", "2025-11-25T15:30:00Z"),
        # ISO 8601
        ("2025-11-25T10:30:00+07:00", "2025-11-25T03:30:00Z"),
        ("2025-11-25T10:30:00+06:30", "2025-11-25T04:00:00Z"),
        ("2025-11-25T10:30:00.123456Z", "2025-11-25T10:30:00Z"),
        ("2025-11-25 10:30:00", "2025-11-25T10:30:00Z"),
        ("2025-11-25", "2025-11-25T00:00:00Z"),
        ("20251125T103000Z", "2025-11-25T10:30:00Z"),
        # Buddhist era: never Gregorian
        ("Tue, 25 Nov 2568 10:30:00 +0700", "2025-11-25T03:30:00Z"),
        ("2568-11-25T10:30:00+07:00", "2025-11-25T03:30:00Z"),
        ("Thu, 29 Feb 2567 09:00:00 +0700", "2024-02-29T02:00:00Z"),  # 2567 BE is a leap year
        # Thai month names, Bangkok time unless an offset is given
        ("25 พ.ย. 2568", "2025-11-24T17:00:00Z"),
        ("25 พฤศจิกายน 2568 10:30 น.", "2025-11-25T03:30:00Z"),
        ("วันอังคารที่ 25 พฤศจิกายน พ.ศ. 2568 เวลา 10.30 น.", "2025-11-25T03:30:00Z"),
        ("๒๕ พ.ย. ๖๘ ๑๐:๓๐ น.", "2025-11-25T03:30:00Z"),
        ("1 มีนาคม 2568", "2025-02-28T17:00:00Z"),
        ("25 พ.ย. 2568 10:30 GMT", "2025-11-25T10:30:00Z"),
        # Vietnamese: day first, GMT+7 unless an offset is given
        ("25/11/2025 10:30", "2025-11-25T03:30:00Z"),
        ("Thứ ba, 25/11/2025, 10:30 (GMT+7)", "2025-11-25T03:30:00Z"),
        ("Thứ Ba, 25/11/2025 - 10:30", "2025-11-25T03:30:00Z"),
        ("25/11/2025 02:30 CH", "2025-11-25T07:30:00Z"),
        ("10h30 ngày 25/11/2025", "2025-11-25T03:30:00Z"),
        ("ngày 25 tháng 11 năm 2025 lúc 10:30", "2025-11-25T03:30:00Z"),
        ("25/11/2025 10:30 UTC", "2025-11-25T10:30:00Z"),
        ("25/11/2568", "2025-11-24T17:00:00Z"),
        # Burmese digits and month names, Yangon time
        ("နိုဝင်ဘာ ၂၅၊ ၂၀၂၅ ၁၀:၃၀", "2025-11-25T04:00:00Z"),
        ("၂၀၂၅ ခုနှစ် နိုဝင်ဘာ ၂၅ ရက်", "2025-11-24T17:30:00Z"),
        # English written dates
        ("November 25, 2025 10:30 AM", "2025-11-25T10:30:00Z"),
        ("Nov 25, 2025 at 3:05 pm EST", "2025-11-25T20:05:00Z"),
        ("Tuesday 25 November 2025 10:30 MMT", "2025-11-25T04:00:00Z"),
    ],
)
def test_parse_date(value: str, expected: str) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "garbage",
        "3 hours ago",
        "31/02/2025",
        "2025-13-45",
        "Tue, 25 Nov 1066 10:00:00 GMT",
        "25/11/2025 10:30 " + "x" * 500,  # no date is this long
    ],
)
def test_unparseable_dates_are_none(value: str) -> None:
    assert parse_date(value) is None


# ─── a feed saved on disk may link to pages saved beside it ──────────────────────────────

LOCAL_LINKS = (
    '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Saved</title>'
    "<item><title>Beside</title><link>news/a.html</link></item>"
    "<item><title>Up</title><link>../secret.html</link></item>"
    "<item><title>Encoded up</title><link>news/%2e%2e/%2e%2e/secret.html</link></item>"
    "<item><title>Elsewhere</title><link>file:///etc/passwd</link></item>"
    "</channel></rss>"
)


def test_a_feed_read_from_a_file_links_to_pages_in_its_own_folder_only(tmp_path: Path) -> None:
    folder = (tmp_path / "saved").as_uri()
    feed = parse_feed(fetched(LOCAL_LINKS.encode(), url=f"{folder}/rss.xml"))
    assert {e.title: e.url for e in feed.entries if e.has_page} == {
        "Beside": f"{folder}/news/a.html"
    }
    assert len(feed.entries) == 4  # the others are kept from the feed's text


def test_a_feed_served_over_http_never_links_to_files() -> None:
    feed = parse_feed(fetched(LOCAL_LINKS.encode(), url="https://feeds.example/rss.xml"))
    assert {e.title for e in feed.entries if e.has_page} == {"Beside", "Up", "Encoded up"}
    assert all(e.url.startswith("https://feeds.example/") for e in feed.entries)
