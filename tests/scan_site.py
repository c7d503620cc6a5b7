"""A small news web served on 127.0.0.1 for end-to-end scan tests.

Feeds and pages in Thai, Vietnamese, Burmese and English, in the encodings sites
really use, plus sources that misbehave the ways real servers do.
"""

from __future__ import annotations

import gzip
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from legacy_encodings import to_cp1258
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

TH_TITLE = "ตำรวจเตือนโฆษณาหลอกลวงลงทุนบนเฟซบุ๊ก"
TH_BODY = (
    "กรุงเทพฯ - ตำรวจไซเบอร์เตือนประชาชนระวังโฆษณาหลอกลวงชวนลงทุนที่ใช้ภาพคนดังปลอม "
    "ซึ่งเผยแพร่บนเฟซบุ๊กและติ๊กต็อกในช่วงสัปดาห์ที่ผ่านมา มีผู้เสียหายกว่า 200 ราย"
)
TH_OTHER_TITLE = "ตารางเดินรถไฟฟ้าช่วงปีใหม่"
TH_OTHER_BODY = "การรถไฟฟ้าประกาศตารางเดินรถใหม่ช่วงเทศกาลปีใหม่ เพื่อรองรับผู้โดยสารที่เพิ่มขึ้น"

VI_TITLE = "Bộ Công an cảnh báo quảng cáo lừa đảo đầu tư trên mạng xã hội"
VI_BODY = (
    "Nhiều quảng cáo lừa đảo dùng hình ảnh người nổi tiếng được tạo bằng deepfake để mời "
    "chào đầu tư tiền ảo. Cơ quan chức năng đề nghị người dân không chuyển tiền cho các "
    "tài khoản lạ và báo ngay cho công an khi phát hiện."
)
VI_OLD_TONES = "Tin thời sự: hoà giải tại Khánh Hoà, mưa lớn ở Thuỷ Nguyên"

MY_UNICODE_TITLE = "အွန်လိုင်းလောင်းကစား ကြော်ငြာများ ဖေ့စ်ဘုတ်ပေါ်တွင် ပြန့်နှံ့"
MY_UNICODE_BODY = (
    "ရန်ကုန် - အွန်လိုင်းလောင်းကစား ကြော်ငြာများကို ဖေ့စ်ဘုတ်ပေါ်တွင် နေ့စဉ် တွေ့ရကြောင်း အသုံးပြုသူများက ပြောဆိုကြသည်။"
)

EN_TITLE = "Regulator fines platform over deepfake investment ads"
EN_BODY = (
    "Thailand's digital ministry said on Monday it had fined an ad platform after "
    "deepfake investment ads using a famous singer's face ran for weeks. Officials said "
    "the scam ad campaign reached millions of users before it was removed."
)


def to_zawgyi(text: str) -> str:
    import icu

    return str(icu.Transliterator.createInstance("my-Zawgyi").transliterate(text))


def article_html(title: str, body: str, *, lang: str, charset: str = "utf-8") -> str:
    paragraphs = "".join(f"<p>{sentence}</p>" for sentence in body.split("\n"))
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="{charset}"><title>{title} | News</title>
<meta property="og:title" content="{title}">
<meta property="article:published_time" content="2026-11-24T08:30:00+07:00">
</head><body>
<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/biz">Business</a></nav>
<div class="cookie-banner">We use cookies to improve your experience. Accept all cookies</div>
<main><article><h1>{title}</h1>
<div class="byline">By Staff Reporter</div>
{paragraphs}
<p>{body[:60]}</p>
</article></main>
<aside class="most-read"><h3>Most read</h3><ul><li><a href="/x">Celebrity weekend gossip roundup</a></li></ul></aside>
<footer>Copyright 2026 Example News. All rights reserved.</footer>
</body></html>"""


def rss(items: list[dict[str, str]], *, encoding: str = "utf-8", title: str = "Feed") -> str:
    body = "".join(
        f"""<item><title>{i["title"]}</title><link>{i["link"]}</link>
<guid isPermaLink="false">{i.get("guid", i["link"])}</guid>
<description>{i.get("description", "")}</description>
<pubDate>{i.get("date", "Tue, 24 Nov 2026 08:30:00 +0700")}</pubDate></item>"""
        for i in items
    )
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>\n<rss version="2.0"><channel>'
        f"<title>{title}</title><link>http://example.com/</link><description>d</description>"
        f"{body}</channel></rss>"
    )


def atom(entries: list[dict[str, str]]) -> str:
    body = "".join(
        f"""<entry><id>{e["id"]}</id><title>{e["title"]}</title>
<link href="{e["link"]}"/><updated>{e["updated"]}</updated>
<summary type="html">{e["summary"]}</summary></entry>"""
        for e in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>Atom feed</title><id>urn:feed</id><updated>2026-11-24T10:00:00Z</updated>"
        f"{body}</feed>"
    )


def gzip_bomb(size: int) -> bytes:
    return gzip.compress(b"\0" * size, compresslevel=9)


def serve_news(server: HTTPServer) -> None:
    """Feeds and pages in four languages and legacy encodings, all well-behaved."""
    u = server.url_for
    server.expect_request("/robots.txt").respond_with_data("User-agent: *\nDisallow: /private/\n")

    # Thai feed in windows-874 (Python knows only cp874), pages in UTF-8.
    th_feed = rss(
        [
            {
                "title": TH_TITLE,
                "link": u("/th/1.html?utm_source=rss&utm_medium=feed"),
                "description": TH_BODY[:40],
            },
            {"title": TH_OTHER_TITLE, "link": u("/th/2.html"), "description": TH_OTHER_BODY},
        ],
        encoding="windows-874",
    ).encode("cp874")
    server.expect_request("/th/feed.xml").respond_with_data(
        th_feed, content_type="application/rss+xml; charset=windows-874"
    )
    server.expect_request("/th/1.html").respond_with_data(
        article_html(TH_TITLE, TH_BODY, lang="th"), content_type="text/html; charset=utf-8"
    )
    server.expect_request("/th/2.html").respond_with_data(
        article_html(TH_OTHER_TITLE, TH_OTHER_BODY, lang="th"),
        content_type="text/html; charset=utf-8",
    )

    # Vietnamese feed in windows-1258 (tone marks become combining characters),
    # and its page also windows-1258.
    vi_feed = rss(
        [{"title": VI_TITLE, "link": u("/vi/1.html"), "description": VI_BODY[:50]}],
        encoding="windows-1258",
    )
    server.expect_request("/vi/feed.rss").respond_with_data(
        to_cp1258(vi_feed), content_type="application/rss+xml"
    )
    server.expect_request("/vi/1.html").respond_with_data(
        to_cp1258(article_html(VI_TITLE, VI_BODY, lang="vi", charset="windows-1258")),
        content_type="text/html; charset=windows-1258",
    )

    # Vietnamese in NFD UTF-8, old tone placement, summary only (articles: false),
    # with a raw & that makes the feed ill-formed.
    nfd = unicodedata.normalize("NFD", VI_OLD_TONES)
    bozo = rss(
        [{"title": nfd, "link": u("/vi/nfd.html"), "description": "Giá vàng & tỷ giá hôm nay"}]
    )
    server.expect_request("/vi/bozo.rss").respond_with_data(
        bozo.encode("utf-8"), content_type="application/rss+xml; charset=utf-8"
    )

    # Burmese feed whose article page is in Zawgyi.
    my_feed = rss([{"title": MY_UNICODE_TITLE, "link": u("/my/1.html"), "description": "ကြော်ငြာ"}])
    server.expect_request("/my/feed.xml").respond_with_data(
        my_feed.encode(), content_type="application/rss+xml"
    )
    server.expect_request("/my/1.html").respond_with_data(
        article_html(to_zawgyi(MY_UNICODE_TITLE), to_zawgyi(MY_UNICODE_BODY), lang="my"),
        content_type="text/html; charset=utf-8",
    )

    # English Atom feed repeating one entry id: the updated entry replaces the older.
    en_feed = atom(
        [
            {"id": "urn:story:1", "title": "Old headline", "link": u("/en/1-old.html"),
             "updated": "2026-11-24T01:00:00Z", "summary": "old"},
            {"id": "urn:story:1", "title": EN_TITLE, "link": u("/en/1.html"),
             "updated": "2026-11-24T05:00:00Z", "summary": EN_BODY[:40]},
            {"id": "urn:story:2", "title": "A page that is gone", "link": u("/en/gone.html"),
             "updated": "2026-11-24T04:00:00Z",
             "summary": "Scam ad warning issued by police &lt;b&gt;today&lt;/b&gt;"},
        ]
    )  # fmt: skip
    server.expect_request("/en/atom.xml").respond_with_data(
        en_feed.encode(), content_type="application/atom+xml"
    )
    server.expect_request("/en/1.html").respond_with_data(
        article_html(EN_TITLE, EN_BODY, lang="en"), content_type="text/html"
    )
    server.expect_request("/en/gone.html").respond_with_data("gone", status=404)


def serve_hostile(server: HTTPServer, tmp_path: Path) -> None:
    """Sources that fail in the ways real servers fail."""
    u = server.url_for
    server.expect_request("/bad/404.xml").respond_with_data("no", status=404)
    server.expect_request("/bad/500.xml").respond_with_data("oops", status=500)
    calls = {"n": 0}

    def rate_limited(request: Request) -> Response:
        calls["n"] += 1
        if calls["n"] == 1:
            return Response("slow down", status=429, headers={"Retry-After": "1"})
        return Response(
            rss([{"title": "Rate limited but fine", "link": u("/bad/ok.html")}]),
            content_type="application/rss+xml",
        )

    server.expect_request("/bad/429.xml").respond_with_handler(rate_limited)
    server.expect_request("/bad/ok.html").respond_with_data(
        article_html("Fine page", "Nothing to see here at all today.", lang="en"),
        content_type="text/html",
    )

    def slow(request: Request) -> Response:
        time.sleep(3)
        return Response(rss([]), content_type="application/rss+xml")

    server.expect_request("/bad/slow.xml").respond_with_handler(slow)

    def endless(request: Request) -> Response:
        def trickle() -> Iterator[bytes]:
            yield b'<?xml version="1.0"?><rss><channel>'
            for _ in range(100):
                time.sleep(0.1)
                yield b" "

        return Response(trickle(), content_type="application/rss+xml")

    server.expect_request("/bad/endless.xml").respond_with_handler(endless)
    server.expect_request("/bad/bomb.xml").respond_with_data(
        gzip_bomb(50_000_000),
        headers={"Content-Encoding": "gzip"},
        content_type="application/rss+xml",
    )
    server.expect_request("/bad/loop-a").respond_with_data(
        "", status=302, headers={"Location": u("/bad/loop-b")}
    )
    server.expect_request("/bad/loop-b").respond_with_data(
        "", status=302, headers={"Location": u("/bad/loop-a")}
    )
    secret = tmp_path / "secret.xml"
    secret.write_text(rss([{"title": "secret", "link": "http://example.com/s"}]), "utf-8")
    server.expect_request("/bad/to-file").respond_with_data(
        "", status=302, headers={"Location": secret.as_uri()}
    )
    server.expect_request("/bad/html.xml").respond_with_data(
        "<!DOCTYPE html><html><head><title>Home</title></head><body><p>Welcome</p></body></html>",
        content_type="text/html",
    )
    server.expect_request("/bad/empty.xml").respond_with_data(
        "", content_type="application/rss+xml"
    )


NEWS_SOURCES = [
    ("th-tis", "/th/feed.xml", "TH", "th", True),
    ("vn-1258", "/vi/feed.rss", "VN", "vi", True),
    ("vn-bozo", "/vi/bozo.rss", "VN", "vi", False),
    ("mm-zawgyi", "/my/feed.xml", "MM", "my", True),
    ("en-atom", "/en/atom.xml", "TH", "en", True),
]
HOSTILE_SOURCES = {
    "bad-404": ("/bad/404.xml", "HTTP 404"),
    "bad-500": ("/bad/500.xml", "HTTP 500 after 3 tries"),
    "bad-slow": ("/bad/slow.xml", "timed out"),
    "bad-endless": ("/bad/endless.xml", "timed out"),
    "bad-bomb": ("/bad/bomb.xml", "response larger than 2000000 bytes"),
    "bad-loop": ("/bad/loop-a", "redirect loop"),
    "bad-file": ("/bad/to-file", "redirect to non-HTTP URL"),
    "bad-html": ("/bad/html.xml", "not a feed"),
    "bad-empty": ("/bad/empty.xml", "empty"),
}

WATCHLISTS = """\
watchlists:
  - name: scam-ads
    category: fraud
    severity: high
    terms:
      en: ["scam ad", "deepfake investment ads"]
      th: ["โฆษณาหลอกลวง"]
      vi: ["quảng cáo lừa đảo"]
  - name: gambling-ads
    category: gambling
    severity: high
    terms:
      my: ["အွန်လိုင်းလောင်းကစား"]
  - name: deepfake
    category: deepfake
    severity: critical
    terms:
      any: ["deepfake"]
  - name: weather
    category: other
    severity: low
    terms:
      vi: ["hòa giải", "Thủy Nguyên"]
"""


def write_config(
    path: Path, server: HTTPServer, *, hostile: bool = False, timeout: float = 2
) -> Path:
    lines = [
        "version: 1",
        "store: adwatch.db",
        "fetch:",
        f"  timeout: {timeout}",
        "  max_bytes: 2000000",
        "markets:",
        "  TH: {name: Thailand, languages: [th, en]}",
        "  VN: {name: Vietnam, languages: [vi, en]}",
        "  MM: {name: Myanmar, languages: [my, en]}",
        "sources:",
    ]
    for name, route, market, lang, articles in NEWS_SOURCES:
        lines += [
            f"  - name: {name}",
            f"    url: {server.url_for(route)}",
            f"    market: {market}",
            f"    language: {lang}",
            f"    articles: {'true' if articles else 'false'}",
        ]
    if hostile:
        lines.append(f"  - {{name: bad-429, url: '{server.url_for('/bad/429.xml')}', market: TH}}")
        for name, (route, _) in HOSTILE_SOURCES.items():
            lines.append(f"  - {{name: {name}, url: '{server.url_for(route)}', market: TH}}")
    path.write_text("\n".join(lines) + "\n" + WATCHLISTS, encoding="utf-8")
    return path
