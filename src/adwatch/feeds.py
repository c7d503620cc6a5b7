"""Feeds and sitemaps, as news sites serve them, turned into `ParsedFeed`.

    FetchResult ──parse_feed──► ParsedFeed(kind="rss"|"atom")        feedparser
    FetchResult ──parse_sitemap──► ParsedFeed(kind="sitemap"|"sitemapindex")   lxml

Everything here is pure (bytes in, dataclasses out) so the pipeline can run it in a process
pool. Neither library ever sees a URL or a file name: feedparser would download the one and
open the other (a body that reads "/etc/passwd" is a file name to it), so it gets a stream.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import zlib
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_tz
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from adwatch.dates import iso_utc
from adwatch.encodings import (
    DecodedText,
    codec_for,
    decode_document,
    document_charset,
    header_charset,
    nfc,
)
from adwatch.errors import FeedError
from adwatch.models import FeedEntry, FetchResult, ParsedFeed
from adwatch.urls import canonical_url, is_http_url

MAX_CHILD_SITEMAPS = 5
# The sitemap protocol caps an uncompressed sitemap at 50 MB; a .xml.gz that inflates past
# that is a bomb, not a sitemap.
MAX_INFLATED_BYTES = 50_000_000
_SNIFF_BYTES = 65_536

# ─── what kind of body is this ────────────────────────────────────────────────────────────

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
    (b"RIFF", "application/octet-stream"),  # WebP, WAV, AVI
    (b"OggS", "audio/ogg"),
    (b"\x7fELF", "application/x-executable"),
)
# Whitespace, processing instructions, comments and a DOCTYPE before the root element.
# Possessive (*+) and one character of whitespace per step: a body of 10 000 spaces must
# not send the regex into exponential backtracking.
_XML_PREAMBLE = re.compile(
    r"\A(?:\s|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>)*+<([A-Za-z_][\w:.-]*)",
    re.DOTALL | re.IGNORECASE,
)
_ROOT_KINDS = {
    "rss": "rss",
    "rdf": "rss",  # RSS 0.90 and 1.0 (rdf:RDF)
    "feed": "atom",
    "urlset": "sitemap",
    "sitemapindex": "sitemapindex",
    "html": "html",
}
# A PHP warning or a stray banner before the root element is common on small news sites:
# when the root cannot be read from the start, look for a known root further in.
_ROOT_ANYWHERE = re.compile(r"<(rss|rdf:rdf|feed|urlset|sitemapindex|html)[\s>]", re.IGNORECASE)
_HTML_HINT = re.compile(r"<!doctype\s+html|<(?:head|body|div|p|title|meta|script)[\s>]", re.I)


def detect_kind(result: FetchResult) -> str:
    """What the body is: "rss", "atom", "sitemap", "sitemapindex", "html", "empty", "binary",
    or "unknown" for text that is none of those (plain text, JSON, some other XML)."""
    content = result.content
    if not content.strip():
        return "empty"
    if content.startswith(b"\x1f\x8b"):
        inner = _inflate(content, limit=_SNIFF_BYTES, truncate=True)
        if inner is None:
            return "binary"
        content = inner
    if _binary_type(content, result.content_type):
        return "binary"
    return _sniff_text_kind(_sniff_text(content, result.headers))


def _sniff_text(content: bytes, headers: dict[str, str]) -> str:
    head = content[:_SNIFF_BYTES]
    if b"\x00" in head[:1024] or head.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return decode_document(head, headers, markup="xml").text
    # Root element names are ASCII: any ASCII-compatible reading finds them.
    return head.decode("latin-1")


def _sniff_text_kind(text: str) -> str:
    match = _XML_PREAMBLE.match(text)
    if match:
        kind = _ROOT_KINDS.get(match.group(1).rpartition(":")[2].lower())
        if kind:
            return kind
    anywhere = _ROOT_ANYWHERE.search(text)
    if anywhere:
        return _ROOT_KINDS[anywhere.group(1).rpartition(":")[2].lower()]
    if _HTML_HINT.search(text[:4096]):
        return "html"
    return "unknown"


def _binary_type(content: bytes, content_type: str) -> str | None:
    """The media type of a body that is not text, or None when it is text."""
    for magic, media_type in _MAGIC:
        if content.startswith(magic):
            return media_type
    head = content[:1024]
    if b"\x00" in head and not _looks_utf16_or_32(head):
        declared = content_type.split(";")[0].strip().lower()
        textual = declared.startswith("text/") or "xml" in declared or "html" in declared
        return declared if declared and not textual else "application/octet-stream"
    return None


def _looks_utf16_or_32(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")):
        return True
    # Text in UTF-16 has a NUL in every other byte for ASCII markup like "<rss".
    return head.startswith((b"<\x00", b"\x00<")) or head[:4] in (b"\x00\x00\x00<", b"<\x00\x00\x00")


def _inflate(content: bytes, *, limit: int, truncate: bool = False) -> bytes | None:
    """Decompress a gzip body, at most `limit` bytes; None when it is not gzip or is larger
    than `limit` (unless `truncate`, which returns the first `limit` bytes)."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(content, limit)
    except zlib.error:
        return None
    if inflater.unconsumed_tail and not truncate:
        return None
    return data


def _readable_body(result: FetchResult, *, what: str) -> bytes:
    """The body, inflated when it is a .gz file; FeedError when empty or binary."""
    content = result.content
    where = f"at {result.final_url!r}"
    if not content.strip():
        raise FeedError(f"empty response {where}")
    if content.startswith(b"\x1f\x8b"):
        inflated = _inflate(content, limit=MAX_INFLATED_BYTES)
        if inflated is None:
            raise FeedError(
                f"not a {what}: gzip body that does not inflate within "
                f"{MAX_INFLATED_BYTES} bytes {where}"
            )
        content = inflated
        if not content.strip():
            raise FeedError(f"empty response {where}")
    media_type = _binary_type(content, result.content_type)
    if media_type:
        raise FeedError(f"not a {what}: binary content ({media_type}) {where}")
    return content


def _as_utf8_xml(decoded: DecodedText, text: str | None = None) -> bytes:
    """The document (or `text`, a repaired copy of it) as UTF-8 bytes, declared as such."""
    text = decoded.text if text is None else text
    head = _ENCODING_IN_DECLARATION.sub(r"\1utf-8\2", text[:300], count=1)
    return (head + text[300:]).encode("utf-8", "surrogatepass")


# An element's start tag followed by a CDATA section: the section should end before the
# element does.
_CDATA_OPENING = re.compile(r"<([A-Za-z_][\w:.-]*)(?:\s[^<>]*)?>\s*<!\[CDATA\[")


def close_unclosed_cdata(text: str) -> tuple[str, int]:
    """`text` with every CDATA section that runs past the end of its element closed there.

    A feed that forgets a `]]>` swallows every following entry into one description,
    and feedparser says nothing (the XML stays well-formed). When the element's end tag
    comes before the section's end, the section is closed right before that tag.
    Returns the text and how many sections were closed.
    """
    if "<![CDATA[" not in text:
        return text, 0
    pieces: list[str] = []
    done = 0
    closed = 0
    for opening in _CDATA_OPENING.finditer(text):
        if opening.start() < done:
            continue  # inside a section already handled
        body = opening.end()
        section_end = text.find("]]>", body)
        element_end = text.find(f"</{opening.group(1)}>", body)
        if element_end >= 0 and (section_end < 0 or element_end < section_end):
            pieces.append(text[done:element_end])
            pieces.append("]]>")
            done = element_end
            closed += 1
        elif section_end >= 0:
            pieces.append(text[done : section_end + 3])
            done = section_end + 3
    if not closed:
        return text, 0
    pieces.append(text[done:])
    return "".join(pieces), closed


_ENCODING_IN_DECLARATION = re.compile(
    r"(\A\s*<\?xml[^>]*?encoding\s*=\s*[\"'])[^\"']*([\"'])", re.IGNORECASE
)


def _encoding_note(decoded: DecodedText, content: bytes, headers: dict[str, str]) -> str | None:
    """A warning when the declared charset did not fit and something else decided."""
    labels = [
        label
        for label in (header_charset(headers), document_charset(content, markup="xml"))
        if label
    ]
    if not labels or decoded.source in ("bom", "header", "declaration"):
        return None
    if all(codec_for(label) == decoded.encoding for label in labels):
        return None
    said = " and ".join(repr(label) for label in labels)
    how = "the body is valid UTF-8" if decoded.source == "utf-8" else "detected"
    return f"declared charset {said} does not fit the bytes; decoded as {decoded.encoding} ({how})"


# ─── RSS and Atom ──────────────────────────────────────────────────────────────────────────


def parse_feed(result: FetchResult, *, max_entries: int = 200) -> ParsedFeed:
    """The entries of an RSS (0.9x, 1.0, 2.0) or Atom feed, newest first, deduplicated.

    Raises FeedError when the body is empty, binary, an HTML page, a sitemap, or has no
    feed structure at all. An ill-formed feed that still yields entries is not an error:
    the reason goes into `ParsedFeed.warning`.
    """
    import feedparser  # imported here: about 60 ms that a no-change cron run never needs

    content = _readable_body(result, what="feed")
    kind = _sniff_text_kind(_sniff_text(content, result.headers))
    where = f"at {result.final_url!r}"
    if kind == "html":
        raise FeedError(f"not a feed: the response is an HTML page {where}")
    if kind in ("sitemap", "sitemapindex"):
        raise FeedError(f"not a feed: the response is a sitemap {where} (use type: sitemap)")
    decoded = decode_document(content, result.headers, markup="xml")
    xml, unclosed = close_unclosed_cdata(decoded.text)
    parsed = feedparser.parse(
        io.BytesIO(_as_utf8_xml(decoded, xml)),
        response_headers=_feed_headers(result.final_url),
        # strip_html keeps only text (script and style dropped), so feedparser's HTML
        # sanitiser and link rewriting inside summaries are wasted work: 40% of its time
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    version = str(parsed.get("version") or "")
    if not version and not parsed.entries:
        reason = _one_line(parsed.get("bozo_exception")) if parsed.get("bozo") else None
        detail = f" ({reason})" if reason else ""
        raise FeedError(f"not a feed: no RSS or Atom structure {where}{detail}")
    feed_language = _language_tag(parsed.feed.get("language"))
    candidates, linkless = _feed_entries(parsed.entries, result.final_url, feed_language)
    notes = [
        _encoding_note(decoded, content, result.headers),
        f"{unclosed} unclosed CDATA sections closed at the end of their element"
        if unclosed
        else None,
        f"ill-formed feed: {_one_line(parsed.get('bozo_exception'))}"
        if parsed.get("bozo")
        else None,
        f"{linkless} entries without an http(s) link kept from the feed's text"
        if linkless
        else None,
    ]
    return ParsedFeed(
        kind="atom" if version.startswith("atom") else "rss",
        title=nfc(strip_html(str(parsed.feed.get("title") or ""))),
        entries=_newest_first(_dedupe(candidates))[:max_entries],
        language=feed_language,
        warning="; ".join(note for note in notes if note) or None,
    )


def _feed_headers(feed_url: str) -> dict[str, str]:
    headers = {"content-type": "application/xml; charset=utf-8"}
    if is_http_url(feed_url):
        # relative links resolve against the feed's own URL. Not for a file: feedparser
        # turns file:///a/b into file://a/b; canonical_url resolves those links instead.
        headers["content-location"] = feed_url
    return headers


class _Candidate:
    """A feed entry with what deduplication needs: its freshness and its document order."""

    __slots__ = ("entry", "freshness", "order")

    def __init__(self, entry: FeedEntry, freshness: str | None, order: int) -> None:
        self.entry = entry
        self.freshness = freshness
        self.order = order

    def beats(self, other: _Candidate) -> bool:
        """Newer updated/published date wins; on a tie the later entry in the feed wins."""
        mine, theirs = self.freshness or "", other.freshness or ""
        return (mine, self.order) > (theirs, other.order)


def _feed_entries(
    raw_entries: list[Any], base: str, feed_language: str | None
) -> tuple[list[_Candidate], int]:
    candidates: list[_Candidate] = []
    linkless = 0
    for order, raw in enumerate(raw_entries):
        link = _entry_link(raw)
        url = canonical_url(link, base=base) if link else ""
        raw_id = str(raw.get("id") or "").strip()
        title = nfc(_text_of(raw, "title"))
        summary = nfc(_entry_summary(raw))
        has_page = is_http_url(url) or is_local_page(url, base)
        if not has_page:
            if not (title or summary):
                continue  # nothing to read and nowhere to read it
            linkless += 1
            url = entry_url_without_link(base, raw_id or f"{title}\x00{summary}")
        published = _first_date(raw, "published", "updated", "created")
        updated = _first_date(raw, "updated")
        entry = FeedEntry(
            url=url,
            entry_id=raw_id or url,
            title=title,
            summary=summary,
            published_at=published,
            language=_language_tag((raw.get("title_detail") or {}).get("language"))
            or feed_language,
            has_page=has_page,
        )
        freshness = max(filter(None, (published, updated)), default=None)
        candidates.append(_Candidate(entry, freshness, order))
    return candidates, linkless


def is_local_page(url: str, feed_url: str) -> bool:
    """True when a feed read from a file links to a file in the feed's folder or below.

    Such a page is read from disk like the feed (saved feeds and pages, the demo's
    sample site). Any other file link stays text: a saved feed is still untrusted, and
    a link to file:///etc/passwd in it must never be read.
    """
    feed, page = urlsplit(feed_url), urlsplit(url)
    if feed.scheme != "file" or page.scheme != "file" or page.netloc not in ("", "localhost"):
        return False
    # Decoded and normalised first, so neither %2e%2e nor ../ can climb out of the folder.
    folder = os.path.dirname(os.path.normpath(url2pathname(feed.path)))
    target = os.path.normpath(url2pathname(page.path))
    return os.path.commonpath([folder, target]) == folder and target != folder


def entry_url_without_link(feed_url: str, identity: str) -> str:
    """A stable URL for a feed entry that has no http(s) link of its own.

    The feed's URL with a fragment made from the entry's id (or, without one, its
    title and text), so the entry is stored once and found again on the next scan.
    Canonical URLs never carry a fragment, so this cannot collide with a real page.
    """
    digest = hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()[:20]
    return f"{canonical_url(feed_url)}#entry-{digest}"


def _entry_link(raw: Any) -> str | None:
    link = raw.get("link")
    if link:
        return str(link)
    for candidate in raw.get("links") or []:
        if candidate.get("href") and candidate.get("rel", "alternate") == "alternate":
            return str(candidate["href"])
    return None


def _first_date(raw: Any, *keys: str) -> str | None:
    # The raw strings, never feedparser's *_parsed: it reads a Buddhist-era 2568 as Gregorian.
    for key in keys:
        # dict.get: feedparser's own get() answers "updated" with "published" when absent
        value = dict.get(raw, key)
        if value:
            parsed = parse_date(str(value))
            if parsed:
                return parsed
    return None


def _text_of(raw: Any, key: str) -> str:
    value = str(raw.get(key) or "")
    detail = raw.get(f"{key}_detail") or {}
    if detail.get("type") == "text/plain":
        return _collapse(value)
    return strip_html(value)


def _entry_summary(raw: Any) -> str:
    if raw.get("summary"):
        return _text_of(raw, "summary")
    for content in raw.get("content") or []:
        if content.get("value"):
            return strip_html(str(content["value"]))
    return ""


def _dedupe(candidates: list[_Candidate]) -> list[_Candidate]:
    """One entry per entry id and per canonical URL: the freshest, the later on a tie."""
    winners: dict[int, _Candidate] = {}  # keyed by id(candidate) to keep them hashable
    by_key: dict[str, _Candidate] = {}
    for candidate in candidates:
        keys = (f"id:{candidate.entry.entry_id}", f"url:{candidate.entry.url}")
        rivals = {id(by_key[key]): by_key[key] for key in keys if key in by_key}
        best = candidate
        for rival in rivals.values():
            if rival.beats(best):
                best = rival
        for rival in rivals.values():
            winners.pop(id(rival), None)
            for key in (f"id:{rival.entry.entry_id}", f"url:{rival.entry.url}"):
                by_key.pop(key, None)
        winners[id(best)] = best
        for key in {*keys, f"id:{best.entry.entry_id}", f"url:{best.entry.url}"}:
            by_key[key] = best
    return list(winners.values())


def _newest_first(candidates: list[_Candidate]) -> list[FeedEntry]:
    """Dated entries newest first, then undated ones; each group in feed order."""
    dated = sorted(
        (c for c in candidates if c.entry.published_at),
        key=lambda c: (c.entry.published_at or "", -c.order),
        reverse=True,
    )
    undated = sorted((c for c in candidates if not c.entry.published_at), key=lambda c: c.order)
    return [c.entry for c in (*dated, *undated)]


def _language_tag(value: Any) -> str | None:
    """The primary subtag of a declared language ("th-TH" → "th"), a hint only."""
    if not value:
        return None
    primary = re.split(r"[-_\s]", str(value).strip().lower(), maxsplit=1)[0]
    return primary if primary.isalpha() and 2 <= len(primary) <= 3 else None


def _one_line(value: Any, limit: int = 240) -> str:
    text = _collapse(
        f"{type(value).__name__}: {value}" if isinstance(value, Exception) else str(value)
    )
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ─── sitemaps ──────────────────────────────────────────────────────────────────────────────


def parse_sitemap(result: FetchResult, *, max_entries: int = 200) -> ParsedFeed:
    """The pages of a `<urlset>` sitemap (Google News tags included), newest first, or the
    child sitemaps of a `<sitemapindex>` (newest first, at most five) for the pipeline to
    fetch. Raises FeedError when the body is not a sitemap."""
    from lxml import etree

    content = _readable_body(result, what="sitemap")
    where = f"at {result.final_url!r}"
    kind = _sniff_text_kind(_sniff_text(content, result.headers))
    if kind == "html":
        raise FeedError(f"not a sitemap: the response is an HTML page {where}")
    if kind in ("rss", "atom"):
        name = "an RSS" if kind == "rss" else "an Atom"
        raise FeedError(f"not a sitemap: the response is {name} feed {where} (use type: rss)")
    decoded = decode_document(content, result.headers, markup="xml")
    # No entity expansion, no DTD or network fetches, libxml2's size limits kept: a billion
    # laughs stays a few hundred bytes. recover=True reads the raw "&" some sites leave in
    # their URLs, as feedparser does for feeds.
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        recover=True,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(_as_utf8_xml(decoded), parser=parser)
    except etree.XMLSyntaxError as exc:
        raise FeedError(f"not a sitemap: unreadable XML {where} ({_one_line(exc)})") from exc
    if root is None:
        raise FeedError(f"not a sitemap: unreadable XML {where}")
    root_name = etree.QName(root).localname
    if root_name == "sitemapindex":
        return _sitemap_index(root, result.final_url)
    if root_name != "urlset":
        raise FeedError(f"not a sitemap: root element <{root_name}> {where}")
    entries, skipped = _sitemap_entries(root, result.final_url)
    notes = [
        _encoding_note(decoded, content, result.headers),
        f"{skipped} URLs that are not http(s) skipped" if skipped else None,
    ]
    return ParsedFeed(
        kind="sitemap",
        title=_publication_name(root),
        entries=_newest_first(_dedupe(entries))[:max_entries],
        language=next((e.entry.language for e in entries if e.entry.language), None),
        warning="; ".join(note for note in notes if note) or None,
    )


def _local(element: Any) -> str:
    tag = element.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _child(element: Any, *names: str) -> Any:
    """The first descendant reached through children with these local names, or None."""
    for name in names:
        element = next((c for c in element if _local(c) == name), None)
        if element is None:
            return None
    return element


def _child_text(element: Any, *names: str) -> str:
    found = _child(element, *names)
    return _collapse(found.text or "") if found is not None else ""


def _sitemap_entries(root: Any, base: str) -> tuple[list[_Candidate], int]:
    candidates: list[_Candidate] = []
    skipped = 0
    for order, node in enumerate(c for c in root if _local(c) == "url"):
        loc = _child_text(node, "loc")
        url = canonical_url(loc, base=base) if loc else ""
        if not is_http_url(url):
            skipped += 1
            continue
        lastmod = parse_date(_child_text(node, "lastmod"))
        published = parse_date(_child_text(node, "news", "publication_date")) or lastmod
        entry = FeedEntry(
            url=url,
            entry_id=url,
            title=nfc(_child_text(node, "news", "title")),
            summary="",
            published_at=published,
            language=_language_tag(_child_text(node, "news", "publication", "language")),
        )
        freshness = max(filter(None, (published, lastmod)), default=None)
        candidates.append(_Candidate(entry, freshness, order))
    return candidates, skipped


def _publication_name(root: Any) -> str:
    """The Google News publication name of the first URL that has one."""
    for node in root:
        name = _child_text(node, "news", "publication", "name")
        if name:
            return nfc(name)
    return ""


def _sitemap_index(root: Any, base: str) -> ParsedFeed:
    children: list[tuple[str, int, str]] = []
    seen = {canonical_url(base)}  # an index that lists itself would be fetched forever
    for order, node in enumerate(c for c in root if _local(c) == "sitemap"):
        loc = _child_text(node, "loc")
        url = canonical_url(loc, base=base) if loc else ""
        if not is_http_url(url) or url in seen:
            continue
        seen.add(url)
        children.append((parse_date(_child_text(node, "lastmod")) or "", -order, url))
    children.sort(reverse=True)
    return ParsedFeed(
        kind="sitemapindex",
        title="",
        entries=[],
        child_sitemaps=[url for _, _, url in children[:MAX_CHILD_SITEMAPS]],
    )


# ─── HTML fragments ────────────────────────────────────────────────────────────────────────

_BLOCK_TAGS = frozenset(
    "address article aside blockquote br dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 "
    "h6 header hr li main nav ol p pre section table tbody td tfoot th thead tr ul".split()
)
_SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template", "iframe", "object", "svg"})
_WHITESPACE = re.compile(r"\s+")


class _TextCollector(HTMLParser):
    """Collects text, a space at every block boundary, nothing from scripts or styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self.skip_depth += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.skip_depth:
            self.parts.append(data)


def strip_html(fragment: str) -> str:
    """The plain text of an HTML fragment: tags dropped (a space where a block ends),
    scripts and styles dropped, entities decoded, whitespace collapsed, NFC."""
    if "<" not in fragment and "&" not in fragment:
        return nfc(_collapse(fragment))
    collector = _TextCollector()
    collector.feed(fragment)
    collector.close()
    return nfc(_collapse("".join(collector.parts)))


def _collapse(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


# ─── dates ─────────────────────────────────────────────────────────────────────────────────

_BANGKOK = timezone(timedelta(hours=7))
_HANOI = _BANGKOK
_YANGON = timezone(timedelta(hours=6, minutes=30))
_ZONE_ABBREVIATIONS: dict[str, tzinfo] = {
    "UTC": UTC,
    "GMT": UTC,
    "UT": UTC,
    "Z": UTC,
    "ICT": _BANGKOK,  # Indochina Time: Thailand, Vietnam, Cambodia, Laos
    "WIB": _BANGKOK,
    "MMT": _YANGON,  # Myanmar Time
    "SGT": timezone(timedelta(hours=8)),
    "MYT": timezone(timedelta(hours=8)),
    "PHT": timezone(timedelta(hours=8)),
    "HKT": timezone(timedelta(hours=8)),
    "JST": timezone(timedelta(hours=9)),
    "KST": timezone(timedelta(hours=9)),
    "EST": timezone(timedelta(hours=-5)),
    "EDT": timezone(timedelta(hours=-4)),
    "CST": timezone(timedelta(hours=-6)),
    "CDT": timezone(timedelta(hours=-5)),
    "PST": timezone(timedelta(hours=-8)),
    "PDT": timezone(timedelta(hours=-7)),
    "BST": timezone(timedelta(hours=1)),
    "CET": timezone(timedelta(hours=1)),
    "CEST": timezone(timedelta(hours=2)),
}
_THAI_MONTHS = (
    ("มกราคม", "ม.ค."),
    ("กุมภาพันธ์", "ก.พ."),
    ("มีนาคม", "มี.ค."),
    ("เมษายน", "เม.ย."),
    ("พฤษภาคม", "พ.ค."),
    ("มิถุนายน", "มิ.ย."),
    ("กรกฎาคม", "ก.ค."),
    ("สิงหาคม", "ส.ค."),
    ("กันยายน", "ก.ย."),
    ("ตุลาคม", "ต.ค."),
    ("พฤศจิกายน", "พ.ย."),
    ("ธันวาคม", "ธ.ค."),
)
_BURMESE_MONTHS = (
    "ဇန်နဝါရီ",
    "ဖေဖော်ဝါရီ",
    "မတ်",
    "ဧပြီ",
    "မေ",
    "ဇွန်",
    "ဇူလိုင်",
    "ဩဂုတ်",
    "စက်တင်ဘာ",
    "အောက်တိုဘာ",
    "နိုဝင်ဘာ",
    "ဒီဇင်ဘာ",
)
_ENGLISH_MONTHS = (
    "jan feb mar apr may jun jul aug sep oct nov dec".split(),
    "january february march april may june july august september october november december".split(),
)


def _month_names() -> list[tuple[str, int, tzinfo | None]]:
    """(regex, month number, local zone of the language) for every month name we read.

    Full names come before abbreviations, so that the alternation built from them reads
    "มีนาคม" (March) as itself and never as a piece of something shorter.
    """
    full: list[tuple[str, int, tzinfo | None]] = []
    short: list[tuple[str, int, tzinfo | None]] = []
    for number, (name, abbreviation) in enumerate(_THAI_MONTHS, start=1):
        full.append((re.escape(name), number, _BANGKOK))
        # "พ.ย.", "พ.ย", "พย." and "พ. ย." are all seen in the wild
        letters = [c for c in abbreviation if c != "."]
        short.append((r"\.?\s?".join(re.escape(c) for c in letters) + r"\.?", number, _BANGKOK))
    for number, name in enumerate(_BURMESE_MONTHS, start=1):
        full.append((re.escape(name), number, _YANGON))
    for number, (abbreviation, name) in enumerate(zip(*_ENGLISH_MONTHS, strict=True), start=1):
        spellings = (
            f"{name}|sept|{abbreviation}" if abbreviation == "sep" else f"{name}|{abbreviation}"
        )
        full.append((rf"\b(?:{spellings})\b\.?", number, None))
    return full + short


_MONTH_NAMES = _month_names()
_MONTH_WORD = re.compile(
    "|".join(f"(?P<m{index}>{regex})" for index, (regex, _, _) in enumerate(_MONTH_NAMES)),
    re.IGNORECASE,
)
# Thai and Burmese digits become ASCII; Burmese "၊" and "။" punctuate like "," and ".".
_DATE_CHARACTERS = str.maketrans(
    {
        **{chr(0x0E50 + i): str(i) for i in range(10)},
        **{chr(0x1040 + i): str(i) for i in range(10)},
        "\u104a": ",",
        "\u104b": ".",
    }
)
_ISO = re.compile(
    r"^(\d{4})-?(\d{2})-?(\d{2})"
    r"(?:[T\s]+(\d{2}):?(\d{2})(?::?(\d{2})(?:[.,]\d+)?)?)?"
    r"\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$",
    re.IGNORECASE,
)
_RFC822_MONTH = re.compile(r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b", re.I)
_RFC822_SHAPE = re.compile(r"^(?:[A-Za-z]{3},?\s+)?\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}\s+\d{1,2}:\d{2}")
_RFC822_OFFSET = re.compile(r"[+-]\d{4}\b")
_MONTH_TOKEN = "\x01"
_NUMERIC_DATE = re.compile(r"(?<!\d)(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4}|\d{2})(?!\d)")
_YEAR_FIRST_DATE = re.compile(r"(?<!\d)(\d{4})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{1,2})(?!\d)")
_NAMED_DAY_MONTH_YEAR = re.compile(
    rf"(?<!\d)(\d{{1,2}})(?:st|nd|rd|th)?[\s,.]*{_MONTH_TOKEN}(\d+){_MONTH_TOKEN}[\s,.]*(\d{{4}}|\d{{2}})(?!\d)",
    re.IGNORECASE,
)
_NAMED_MONTH_DAY_YEAR = re.compile(
    rf"{_MONTH_TOKEN}(\d+){_MONTH_TOKEN}[\s,.]*(\d{{1,2}})(?:st|nd|rd|th)?[\s,.]+(\d{{4}})(?!\d)",
    re.IGNORECASE,
)
_NAMED_YEAR_MONTH_DAY = re.compile(
    rf"(?<!\d)(\d{{4}})[\s,.]*{_MONTH_TOKEN}(\d+){_MONTH_TOKEN}[\s,.]*(\d{{1,2}})(?!\d)"
)
_VIETNAMESE_MONTH = re.compile(r"tháng\s*(\d{1,2})", re.IGNORECASE)
_TIME = re.compile(
    r"(?<!\d)(\d{1,2})\s*[:.h]\s*(\d{2})(?:\s*[:.]\s*(\d{2}))?(?!\d)"
    r"(?:\s*(a\.?m\.?|p\.?m\.?|sa|ch)\b)?",
    re.IGNORECASE,
)
# "GMT+7", "UTC+06:30", or a bare "+0700" / "+07:00" (four digits, so "- 10" is not one)
_NUMERIC_OFFSET = re.compile(
    r"\b(?:GMT|UTC)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?(?!\d)|(?<![\w])([+-])(\d{2}):?(\d{2})(?!\d)",
    re.IGNORECASE,
)
_ZONE_WORD = re.compile(
    r"\b(" + "|".join(sorted(_ZONE_ABBREVIATIONS, key=len, reverse=True)) + r")\b"
)
# Words that only decorate a date: removed so they cannot be mistaken for anything.
_FILLER = re.compile(r"พ\.\s?ศ\.|ค\.\s?ศ\.|ခုနှစ်|ရက်(?:နေ့)?|năm|ngày|วันที่|เวลา|lúc|น\.", re.I)
_EARLIEST_YEAR, _LATEST_YEAR = 1970, 2200
# The longest real date strings ("Thứ ba, 25/11/2025, 10:30 (GMT+7)", a Thai weekday, day,
# month, era and time) are under 80 characters; anything much longer is not a date.
_LONGEST_DATE = 200


def parse_date(value: str) -> str | None:
    """A feed or page date as 'YYYY-MM-DDTHH:MM:SSZ' (UTC), or None when it cannot be read.

    Reads RFC 822 and ISO 8601 with their offsets, Thai dates with Thai month names and
    Buddhist-era years, Vietnamese day-first dates ("Thứ ba, 25/11/2025, 10:30 (GMT+7)") and
    Burmese dates. A year above 2400 is Buddhist era and loses 543. Without an offset, a date
    written the Thai, Vietnamese or day-first way is local time there (+07:00; Burmese +06:30);
    ISO and RFC 822 dates without one are UTC.
    """
    text = _collapse(nfc(value or "").translate(_DATE_CHARACTERS))
    if not text or len(text) > _LONGEST_DATE:
        return None
    for parse in (_parse_iso, _parse_rfc822, _parse_written):
        moment = parse(text)
        if moment is not None:
            if not _EARLIEST_YEAR <= moment.astimezone(UTC).year <= _LATEST_YEAR:
                return None
            return iso_utc(moment)
    return None


def _gregorian(year: int) -> int:
    """Buddhist-era years (Thai, > 2400) become Gregorian; two-digit years get a century:
    50–99 are Buddhist era 25xx (Thai papers print "25 พ.ย. 68"), 00–49 are 20xx."""
    if year > 2400:
        return year - 543
    if year < 50:
        return 2000 + year
    if year < 100:
        return 2500 + year - 543
    return year


def _moment(
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
    zone: tzinfo = UTC,
) -> datetime | None:
    try:
        return datetime(_gregorian(year), month, day, hour, minute, second, tzinfo=zone)
    except (ValueError, OverflowError):
        return None


def _parse_iso(text: str) -> datetime | None:
    match = _ISO.match(text)
    if not match:
        return None
    year, month, day, hour, minute, second, zone = match.groups()
    return _moment(
        int(year),
        int(month),
        int(day),
        int(hour or 0),
        int(minute or 0),
        int(second or 0),
        _zone(zone) or UTC,
    )


def _parse_rfc822(text: str) -> datetime | None:
    if not _RFC822_SHAPE.match(text):
        return None
    fields = parsedate_tz(text)
    if fields is None:
        return None
    year, month, day, hour, minute, second = fields[:6]
    offset = fields[9]
    zone_word = _ZONE_WORD.search(text)
    zone: tzinfo
    if zone_word and not _RFC822_OFFSET.search(text):
        # parsedate_tz knows only US zone names and reads any other (ICT, MMT) as UTC
        zone = _ZONE_ABBREVIATIONS[zone_word.group(1)]
    else:
        zone = timezone(timedelta(seconds=offset or 0))
    # parsedate_tz already gave two-digit years a century; keep Buddhist-era ones for _moment
    return _moment(year, month, day, hour, minute, second, zone)


def _parse_written(text: str) -> datetime | None:
    """Dates as people write them: day first, month names in four languages, any order."""
    marked, local_zone = _mark_months(text)
    marked = _FILLER.sub(" ", marked)
    found = _find_date(marked)
    if found is None:
        return None
    (year, month, day), span, day_first = found
    if day_first and local_zone is None:
        local_zone = _HANOI  # "25/11/2025 10:30": the Vietnamese (and Thai) way, GMT+7
    rest = marked[: span[0]] + " " + marked[span[1] :]
    hour, minute, second, rest = _find_time(rest)
    zone = _find_offset(rest) or local_zone or UTC
    if year > 2400 and zone is UTC and local_zone is None:
        zone = _BANGKOK  # a Buddhist-era year is a Thai date
    return _moment(year, month, day, hour, minute, second, zone)


def _mark_months(text: str) -> tuple[str, tzinfo | None]:
    """Month names replaced by \\x01N\\x01, and the local zone their language implies."""
    zone: tzinfo | None = None
    text = _VIETNAMESE_MONTH.sub(lambda m: f"{_MONTH_TOKEN}{int(m.group(1))}{_MONTH_TOKEN}", text)
    if _MONTH_TOKEN in text:
        zone = _HANOI
    match = _MONTH_WORD.search(text)
    if match and match.lastgroup:
        _, number, language_zone = _MONTH_NAMES[int(match.lastgroup[1:])]
        marker = f" {_MONTH_TOKEN}{number}{_MONTH_TOKEN} "
        return text[: match.start()] + marker + text[match.end() :], language_zone or zone
    return text, zone


def _find_date(text: str) -> tuple[tuple[int, int, int], tuple[int, int], bool] | None:
    """(year, month, day), the span it took, and whether it was written day-first numerically."""
    match = _NAMED_DAY_MONTH_YEAR.search(text)
    if match:
        day, month, year = match.groups()
        return (int(year), int(month), int(day)), match.span(), False
    match = _NAMED_MONTH_DAY_YEAR.search(text)
    if match:
        month, day, year = match.groups()
        return (int(year), int(month), int(day)), match.span(), False
    match = _NAMED_YEAR_MONTH_DAY.search(text)
    if match:
        year, month, day = match.groups()
        return (int(year), int(month), int(day)), match.span(), False
    match = _YEAR_FIRST_DATE.search(text)
    if match:
        year, month, day = match.groups()
        return (int(year), int(month), int(day)), match.span(), False
    match = _NUMERIC_DATE.search(text)
    if match:
        day, month, year = (int(part) for part in match.groups())
        if month > 12 >= day:  # 11/25/2025 can only be month first
            day, month = month, day
        return (year, month, day), match.span(), True
    return None


def _find_time(text: str) -> tuple[int, int, int, str]:
    match = _TIME.search(text)
    if not match:
        return 0, 0, 0, text
    hour, minute, second = int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
    meridiem = (match.group(4) or "").lower().replace(".", "")
    if meridiem in ("pm", "ch") and hour < 12:
        hour += 12
    elif meridiem in ("am", "sa") and hour == 12:
        hour = 0
    return hour, minute, second, text[: match.start()] + " " + text[match.end() :]


def _find_offset(text: str) -> tzinfo | None:
    match = _NUMERIC_OFFSET.search(text)
    if match:
        sign, hours, minutes = match.groups()[:3] if match.group(1) else match.groups()[3:]
        delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
        if delta <= timedelta(hours=14):
            return timezone(-delta if sign == "-" else delta)
    word = _ZONE_WORD.search(text)
    return _ZONE_ABBREVIATIONS[word.group(1)] if word else None


def _zone(text: str | None) -> tzinfo | None:
    if not text:
        return None
    upper = text.upper()
    if upper in ("Z", "UTC", "GMT"):
        return UTC
    sign = -1 if upper[0] == "-" else 1
    digits = upper[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    return timezone(sign * timedelta(hours=hours, minutes=minutes))
