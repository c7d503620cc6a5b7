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
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from adwatch.errors import FeedError, one_line
from adwatch.models import FeedEntry, FetchResult, ParsedFeed
from adwatch.text.dates import parse_date
from adwatch.text.encodings import (
    DecodedText,
    codec_for,
    decode_document,
    document_charset,
    header_charset,
    nfc,
)
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
        reason = one_line(parsed.get("bozo_exception")) if parsed.get("bozo") else None
        detail = f" ({reason})" if reason else ""
        raise FeedError(f"not a feed: no RSS or Atom structure {where}{detail}")
    feed_language = _language_tag(parsed.feed.get("language"))
    candidates, linkless = _feed_entries(parsed.entries, result.final_url, feed_language)
    notes = [
        _encoding_note(decoded, content, result.headers),
        f"{unclosed} unclosed CDATA sections closed at the end of their element"
        if unclosed
        else None,
        f"ill-formed feed: {one_line(parsed.get('bozo_exception'))}"
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
        raise FeedError(f"not a sitemap: unreadable XML {where} ({one_line(exc)})") from exc
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
