"""Article text out of real-looking news pages in four languages, without the page around it."""

from __future__ import annotations

import pickle
import re
import unicodedata
from pathlib import Path

import pytest
from legacy_encodings import to_cp1258
from lxml import html as lxml_html

from adwatch.errors import ExtractError
from adwatch.extract import decode_html, extract_page, fallback_page
from adwatch.feeds import parse_feed
from adwatch.models import ExtractedPage, FeedEntry, FetchResult

PAGES = Path(__file__).parent / "data" / "pages"
FEEDS = Path(__file__).parent / "data" / "feeds"


def fetched(content: bytes, content_type: str = "text/html", name: str = "article") -> FetchResult:
    url = f"https://news.example/{name}"
    headers = {"content-type": content_type} if content_type else {}
    return FetchResult(url=url, final_url=url, status=200, headers=headers, content=content)


def page(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


def body_paragraphs(html: str) -> list[str]:
    """The article's own paragraphs as a reader sees them: plain <p> inside <article>."""
    tree = lxml_html.fromstring(html)
    paragraphs = tree.xpath('//article//p[not(@class) or @class="Normal"][not(*)]')
    texts = [" ".join(p.text_content().split()) for p in paragraphs]
    return [text for text in texts if len(text) > 80]


# Strings of page furniture, one or more of each kind, that must never reach the text.
BOILERPLATE = {
    "th_scam_ads.html": [
        "เว็บไซต์นี้ใช้คุกกี้",  # cookie banner
        "ยอมรับคุกกี้ทั้งหมด",
        "ข่าวการเมือง",  # navigation
        "ข่าวบันเทิงดารา",
        "พื้นที่โฆษณาสำหรับผู้สนับสนุน",  # ad slots
        "โฆษณา - เลื่อนลงเพื่ออ่านต่อ",
        "ติดต่อลงโฆษณากับเรา",
        "ข่าวที่เกี่ยวข้องกับเรื่องนี้",  # related articles
        "จับแก๊งคอลเซ็นเตอร์ข้ามชาติ",
        "ข่าวยอดนิยมประจำวัน",  # most read
        "นักร้องดังประกาศพักงาน",
        "สมัครรับจดหมายข่าว",  # newsletter
        "รับสรุปข่าวเด่นส่งตรงถึงอีเมล",
        "สงวนลิขสิทธิ์ทุกประการ",  # footer
        "ติดต่อกองบรรณาธิการ",
        "dataLayer",  # scripts and styles
        "min-height",
    ],
    "vi_deepfake.html": [
        "Chúng tôi sử dụng cookie",
        "Đồng ý và đóng",
        "Giải trí",
        "Số hóa",
        "Quảng cáo tài trợ",
        "Liên hệ đặt quảng cáo",
        "Tin liên quan đến vụ việc",
        "Bắt nhóm lừa đảo tiền ảo",
        "Xem nhiều nhất hôm nay",
        "Hoa hậu rạng rỡ",
        "Đăng ký nhận bản tin",
        "Nhận tóm tắt tin tức",
        "Giấy phép hoạt động báo điện tử",
        "Bản quyền thuộc về",
    ],
    "my_gambling_ads.html": [
        "ကွတ်ကီးများကို အသုံးပြုပါသည်",
        "နိုင်ငံရေးသတင်း",
        "အားကစားသတင်း",
        "ကြော်ငြာထည့်သွင်းလိုပါက",
        "ဆက်စပ်သတင်းများ ဖတ်ရှုရန်",
        "မြဝတီတွင် လိမ်လည်ရေးစခန်းများ",
        "အများဆုံးဖတ်ရှုထားသော",
        "ရေကြီးမှုကြောင့်",
        "သတင်းလွှာ စာရင်းသွင်းရန်",
        "မူပိုင်ခွင့် ရယူထားသည်",
        "ကျွန်ုပ်တို့အကြောင်း",
    ],
    "en_platform_fine.html": [
        "We use cookies",
        "Accept all cookies",
        "Markets and Economy",
        "Technology desk",
        "ADVERTISEMENT",
        "Sponsored content from our commercial partners",
        "More on this story",
        "Deepfake celebrity ads surge",
        "Most read this week",
        "Central bank holds rates",
        "Get the Morning Briefing",
        "Sign up for our free daily newsletter",
        "All rights reserved",
        "Terms and conditions of use",
    ],
}


@pytest.mark.parametrize("name", sorted(BOILERPLATE))
def test_body_paragraphs_are_kept_and_boilerplate_is_not(name: str) -> None:
    html = page(name)
    paragraphs = body_paragraphs(html)
    assert len(paragraphs) == 4
    for furniture in BOILERPLATE[name]:  # the test is only as good as its fixture
        assert furniture in html
        assert not any(furniture in p for p in paragraphs), furniture

    extracted = extract_page(fetched(html.encode("utf-8"), "text/html; charset=utf-8", name))

    for paragraph in paragraphs:
        assert paragraph in extracted.text
    leaked = [furniture for furniture in BOILERPLATE[name] if furniture in extracted.text]
    assert leaked == []
    assert extracted.extractor == "trafilatura"


@pytest.mark.parametrize(
    ("name", "title", "author", "published_at", "site"),
    [
        (
            "th_scam_ads.html",
            "ตำรวจไซเบอร์เตือนโฆษณาลงทุนปลอมใช้ภาพคนดังบนเฟซบุ๊ก",
            "ทีมข่าวอาชญากรรม",
            "2025-11-25T03:30:00Z",
            "สยามนิวส์ออนไลน์",
        ),
        (
            "vi_deepfake.html",
            "Cảnh báo quảng cáo đầu tư dùng deepfake người nổi tiếng trên TikTok",
            "Minh Anh",
            "2025-11-25T03:30:00Z",
            "Thời sự Việt",
        ),
        (
            "my_gambling_ads.html",
            "အွန်လိုင်းလောင်းကစား ကြော်ငြာများ ဖေ့စ်ဘွတ်ခ်ပေါ်တွင် များပြားလာ",
            "ဇော်မင်းထွန်း",  # whole: trafilatura alone cuts the last syllable's marks
            "2025-11-25T04:00:00Z",  # +06:30
            "ရွှေမြေသတင်း",
        ),
        (
            "en_platform_fine.html",
            "Regulator fines ad platform over scam investment ads",
            "Priya Raman",
            "2025-11-24T18:05:00Z",
            "Mekong Business Times",
        ),
    ],
)
def test_page_metadata(name: str, title: str, author: str, published_at: str, site: str) -> None:
    extracted = extract_page(fetched((PAGES / name).read_bytes(), name=name))
    assert extracted.url == f"https://news.example/{name}"
    assert extracted.title == title
    assert extracted.author == author
    assert extracted.published_at == published_at
    assert extracted.site == site


# ─── dates that only the visible page states ─────────────────────────────────────────────


def test_vietnamese_visible_date_is_read_as_gmt_plus_7() -> None:
    html = re.sub(r'<meta name="pubdate"[^>]*>', "", page("vi_deepfake.html"))
    assert "datePublished" not in html
    extracted = extract_page(fetched(html.encode("utf-8")))
    # "Thứ ba, 25/11/2025, 10:30 (GMT+7)"
    assert extracted.published_at == "2025-11-25T03:30:00Z"


def test_thai_visible_buddhist_era_date_is_not_taken_as_gregorian() -> None:
    html = page("th_scam_ads.html")
    html = re.sub(r'<meta property="article:published_time"[^>]*>', "", html)
    html = html.replace('<time datetime="2025-11-25T10:30:00+07:00">', "<time>")
    assert "2025-11-25" not in html
    extracted = extract_page(fetched(html.encode("utf-8")))
    # "25 พ.ย. 2568 10:30 น." in Bangkok
    assert extracted.published_at == "2025-11-25T03:30:00Z"


def test_a_page_with_no_date_has_none_not_the_fetch_time() -> None:
    html = page("en_platform_fine.html")
    html = re.sub(r'<meta property="article:published_time"[^>]*>', "", html)
    html = re.sub(r'<script type="application/ld\+json">.*?</script>', "", html, flags=re.S)
    html = html.replace(" · November 24, 2025", "")
    assert "2025-11" not in html
    assert extract_page(fetched(html.encode("utf-8"))).published_at is None


# ─── encodings as served ─────────────────────────────────────────────────────────────────


def thai_legacy_page(declaration: str) -> bytes:
    """The Thai fixture as a legacy site serves it, in windows-874 bytes."""
    html = page("th_scam_ads.html").replace("›", ">").replace("·", "-").replace("©", "(c)")
    return html.replace('<meta charset="utf-8">', declaration).encode("cp874")


THAI_PARAGRAPHS = body_paragraphs(page("th_scam_ads.html"))


@pytest.mark.parametrize(
    ("declaration", "content_type"),
    [
        ('<meta http-equiv="Content-Type" content="text/html; charset=windows-874">', "text/html"),
        ('<meta charset="tis-620">', "text/html"),
        ('<meta charset="iso-8859-11">', ""),
        ('<meta charset="x-windows-874">', "text/html"),
        ("", "text/html; charset=windows-874"),  # the header alone
        ("", "text/html; charset=TIS-620"),
        ('<meta charset="windows-874">', "text/html; charset=utf-8"),  # a lying header
        ("", "text/html"),  # nothing declared: detected
    ],
)
def test_legacy_thai_pages(declaration: str, content_type: str) -> None:
    extracted = extract_page(fetched(thai_legacy_page(declaration), content_type))
    assert extracted.title == "ตำรวจไซเบอร์เตือนโฆษณาลงทุนปลอมใช้ภาพคนดังบนเฟซบุ๊ก"
    for paragraph in THAI_PARAGRAPHS:
        assert paragraph in extracted.text


def test_xhtml_prolog_with_a_legacy_encoding_is_not_read_twice() -> None:
    body = b'<?xml version="1.0" encoding="windows-874"?>\n' + thai_legacy_page("")
    extracted = extract_page(fetched(body))
    assert THAI_PARAGRAPHS[0] in extracted.text


VIETNAMESE_PARAGRAPHS = body_paragraphs(page("vi_deepfake.html"))


@pytest.mark.parametrize(
    ("declaration", "content_type"),
    [
        ('<meta http-equiv="Content-Type" content="text/html; charset=windows-1258">', "text/html"),
        ("", "text/html; charset=windows-1258"),
    ],
)
def test_windows_1258_vietnamese_page_text_is_nfc(declaration: str, content_type: str) -> None:
    html = page("vi_deepfake.html").replace('<meta charset="utf-8">', declaration)
    extracted = extract_page(fetched(to_cp1258(html.replace("©", "(c)")), content_type))
    assert unicodedata.is_normalized("NFC", extracted.text)
    assert unicodedata.is_normalized("NFC", extracted.title)
    for paragraph in VIETNAMESE_PARAGRAPHS:
        assert paragraph in extracted.text
    assert extracted.author == "Minh Anh"


def test_nfd_vietnamese_page_text_is_nfc() -> None:
    body = unicodedata.normalize("NFD", page("vi_deepfake.html")).encode("utf-8")
    extracted = extract_page(fetched(body))
    assert VIETNAMESE_PARAGRAPHS[0] in extracted.text
    assert extracted.title == "Cảnh báo quảng cáo đầu tư dùng deepfake người nổi tiếng trên TikTok"


def test_utf8_page_with_a_wrong_latin1_header() -> None:
    extracted = extract_page(
        fetched((PAGES / "vi_deepfake.html").read_bytes(), "text/html; charset=iso-8859-1")
    )
    assert VIETNAMESE_PARAGRAPHS[0] in extracted.text


def test_utf16_page_with_a_byte_order_mark() -> None:
    html = page("my_gambling_ads.html").replace('<meta charset="utf-8">', "")
    extracted = extract_page(fetched(b"\xff\xfe" + html.encode("utf-16-le")))
    assert body_paragraphs(page("my_gambling_ads.html"))[0] in extracted.text


def test_zawgyi_passes_through_unchanged() -> None:
    html = page("my_zawgyi.html")
    paragraphs = body_paragraphs(html)
    assert len(paragraphs) == 3 and all(p in html for p in paragraphs)
    # not Unicode Burmese: normalising would rewrite it before the Zawgyi stage sees it
    assert any(unicodedata.normalize("NFC", p) != p for p in paragraphs)

    extracted = extract_page(fetched(html.encode("utf-8")))

    for paragraph in paragraphs:
        assert paragraph in extracted.text
    assert "Copyright 2025 Yangon Daily" not in extracted.text


# ─── decode_html ─────────────────────────────────────────────────────────────────────────


def test_decode_html_finds_a_meta_charset_after_a_long_inline_script() -> None:
    html = (
        "<html><head><script>" + "var x = 1;" * 400 + "</script>"
        '<meta charset="windows-874"><title>ข่าว</title></head><body><p>ข่าวด่วน</p></body></html>'
    )
    assert decode_html(html.encode("cp874"), {}) == html


def test_decode_html_header_charset_beats_a_meta_that_does_not_decode() -> None:
    html = '<html><head><meta charset="utf-8"></head><body>Tiếng Việt có dấu</body></html>'
    decoded = decode_html(to_cp1258(html), {"content-type": "text/html; charset=windows-1258"})
    assert unicodedata.normalize("NFC", decoded) == html


def test_decode_html_prefers_the_document_when_a_western_header_disagrees() -> None:
    # the server's default ISO-8859-1 decodes anything, so it cannot be trusted blindly
    html = (
        '<html><head><meta charset="tis-620"></head><body>'
        + "<p>ตำรวจเตือนประชาชนระวังโฆษณาหลอกลวงชวนลงทุนในหุ้นและสกุลเงินดิจิทัล</p>" * 3
        + "</body></html>"
    )
    decoded = decode_html(html.encode("cp874"), {"content-type": "text/html; charset=ISO-8859-1"})
    assert decoded == html


def test_decode_html_utf8_bom() -> None:
    assert (
        decode_html(
            b"\xef\xbb\xbf<p>\xe0\xb8\x82</p>", {"content-type": "text/html; charset=windows-874"}
        )
        == "<p>ข</p>"
    )


# ─── when there is no article ────────────────────────────────────────────────────────────


def test_javascript_only_page_raises_extract_error_naming_the_url() -> None:
    with pytest.raises(ExtractError) as raised:
        extract_page(fetched((PAGES / "js_only.html").read_bytes(), name="app"))
    assert str(raised.value) == "no article text found in https://news.example/app"


@pytest.mark.parametrize("content", [b"", b"   ", b"<html><body></body></html>"])
def test_empty_pages_raise_extract_error(content: bytes) -> None:
    with pytest.raises(ExtractError, match="no article text found in https://news.example/article"):
        extract_page(fetched(content))


def test_fallback_page_uses_the_feed_title_and_summary() -> None:
    entry = FeedEntry(
        url="https://news.example/app",
        entry_id="app-1",
        title=unicodedata.normalize("NFD", "Cảnh báo quảng cáo lừa đảo"),
        summary="Bộ Công an cảnh báo thủ đoạn dùng video giả mạo.",
        published_at="2025-11-25T03:30:00Z",
        language="vi",
    )
    fallback = fallback_page(entry)
    assert fallback == ExtractedPage(
        url="https://news.example/app",
        title="Cảnh báo quảng cáo lừa đảo",
        text="Bộ Công an cảnh báo thủ đoạn dùng video giả mạo.",
        author=None,
        published_at="2025-11-25T03:30:00Z",
        site=None,
        extractor="feed-summary",
    )


def test_fallback_page_without_a_summary_uses_the_title_as_text() -> None:
    entry = FeedEntry(
        url="https://news.example/x",
        entry_id="x",
        title="Scam ads fined",
        summary="",
        published_at=None,
    )
    assert fallback_page(entry).text == "Scam ads fined"


# ─── process pool ────────────────────────────────────────────────────────────────────────


def test_inputs_and_results_survive_pickling_for_the_process_pool() -> None:
    result = fetched((PAGES / "th_scam_ads.html").read_bytes())
    assert pickle.loads(pickle.dumps(result)) == result
    extracted = extract_page(result)
    assert pickle.loads(pickle.dumps(extracted)) == extracted
    feed = parse_feed(
        FetchResult(
            url="https://f.example/rss",
            final_url="https://f.example/rss",
            status=200,
            headers={},
            content=(FEEDS / "th_news.rss").read_bytes(),
        )
    )
    assert pickle.loads(pickle.dumps(feed)) == feed
