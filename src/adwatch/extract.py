"""The main text of an article page, and its metadata, without the page around it.

    FetchResult ──extract_page──► ExtractedPage(extractor="trafilatura")
    FeedEntry ──fallback_page──► ExtractedPage(extractor="feed-summary")

trafilatura finds the article body and drops navigation, sidebars, "most read" lists,
cookie banners, newsletter boxes, ad slots, footers and related-article lists. We decode
the bytes ourselves first (`decode_html`): trafilatura cannot see the HTTP header's charset,
and the text it returns is not NFC for Vietnamese pages in windows-1258 or NFD. Pure
functions: bytes in, dataclasses out, for the pipeline's process pool.
"""

from __future__ import annotations

import json
import re
from typing import Any

from adwatch.errors import ExtractError, one_line
from adwatch.models import ExtractedPage, FeedEntry, FetchResult
from adwatch.text.dates import parse_date
from adwatch.text.encodings import decode_document, nfc

_XML_DECLARATION = re.compile(r"\A\s*<\?xml[^>]*\?>")
# Where pages state when they were published, most specific first.
_DATE_META_KEYS = (
    "article:published_time",
    "og:article:published_time",
    "article.published",
    "datepublished",
    "pubdate",
    "publishdate",
    "publish-date",
    "publish_date",
    "publication_date",
    "sailthru.date",
    "parsely-pub-date",
    "dc.date.issued",
    "dcterms.created",
    "dc.date",
    "date",
)
_DATE_PARAMETERS = {"extensive_search": False, "original_date": True}
_DATE_CLASS = re.compile(r"date|time|publish|posted", re.IGNORECASE)
_PAGE_FURNITURE = frozenset({"header", "nav", "footer", "aside"})
_PARAGRAPH_BREAKS = re.compile(r"[ \t]*\n[\n \t]*")
_SPACES = re.compile(r"[^\S\n]+")


def decode_html(content: bytes, headers: dict[str, str]) -> str:
    """An HTML body as text: BOM, then valid UTF-8, then the header's or `<meta>` charset,
    then detection (see `adwatch.text.encodings`). Thai legacy labels decode as cp874."""
    return decode_document(content, headers, markup="html").text


def extract_page(result: FetchResult) -> ExtractedPage:
    """The article in a fetched page: title, main text (NFC, paragraphs on their own lines),
    author, publication time (UTC) and site name.

    Raises ExtractError when the page has no article text, e.g. a page that only renders
    with JavaScript; the pipeline then falls back to `fallback_page`.
    """
    from lxml import etree
    from lxml import html as lxml_html
    from trafilatura import bare_extraction

    url = result.final_url or result.url
    markup = _XML_DECLARATION.sub("", decode_html(result.content, result.headers), count=1)
    if not markup.strip():
        raise ExtractError(f"no article text found in {url}")
    try:
        document = bare_extraction(
            markup,
            url=url,
            with_metadata=True,
            include_comments=False,
            favor_precision=True,
            # No second opinion from readability and jusText: the same text on every page we
            # test (tests/data/pages, the demo site, the benchmark's pages) for about a
            # quarter less CPU in the scan's costliest stage (docs/scan.md, Speed).
            fast=True,
            # htmldate's extensive search turns a footer's "Copyright 2025" into 2025-01-01;
            # without it a page with no date says so, and we never make one up
            date_extraction_params=_DATE_PARAMETERS,
        )
    except (ValueError, TypeError) as exc:  # trafilatura raises these on pages it rejects
        raise ExtractError(f"no article text found in {url} ({one_line(str(exc))})") from exc
    text = _tidy_text(str(_field(document, "text") or ""))
    if not text:
        raise ExtractError(f"no article text found in {url}")
    try:
        tree = lxml_html.fromstring(markup)
    except (ValueError, TypeError, etree.LxmlError):
        tree = None  # the metadata lookups then fall back to trafilatura's
    return ExtractedPage(
        url=url,
        title=nfc(_collapse(str(_field(document, "title") or "")) or _page_title(tree)),
        text=text,
        author=_page_author(tree) or _optional(_field(document, "author")),
        published_at=_published_at(tree, _field(document, "date")),
        site=_optional(_field(document, "sitename")),
        extractor="trafilatura",
    )


def fallback_page(entry: FeedEntry) -> ExtractedPage:
    """A page built from the feed's own title and summary, for when extraction fails.

    The summary is the text; an entry without one uses its title, so the article is never
    empty and its title still gets matched.
    """
    return ExtractedPage(
        url=entry.url,
        title=nfc(entry.title),
        text=nfc(entry.summary or entry.title),
        author=None,
        published_at=entry.published_at,
        site=None,
        extractor="feed-summary",
    )


def _field(document: Any, name: str) -> Any:
    if document is None:
        return None
    if isinstance(document, dict):
        return document.get(name)
    return getattr(document, name, None)


def _tidy_text(text: str) -> str:
    """NFC, runs of spaces collapsed, one newline between paragraphs."""
    text = _SPACES.sub(" ", text)
    return nfc(_PARAGRAPH_BREAKS.sub("\n", text).strip())


def _optional(value: Any) -> str | None:
    text = nfc(_collapse(str(value))) if value else ""
    return text or None


def _page_title(tree: Any) -> str:
    if tree is None:
        return ""
    for xpath in ('//meta[@property="og:title"]/@content', "//title/text()", "//h1//text()"):
        found = [str(value) for value in tree.xpath(xpath) if str(value).strip()]
        if found:
            return nfc(_collapse(found[0]))
    return ""


def _page_author(tree: Any) -> str | None:
    """The author as the page's metadata states it (JSON-LD, then `<meta name="author">`).

    Preferred to trafilatura's, whose clean-up cuts the final vowel signs and tone marks off
    Burmese names ("ဇော်မင်းထွန်း" becomes "ဇော်မင်းထွန").
    """
    if tree is None:
        return None
    names: list[str] = []
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            data = json.loads(script.text_content())
        except ValueError:
            continue
        for author in _json_objects(data, "author"):
            for name in _author_names(author):
                if name not in names:
                    names.append(name)
    if names:
        return "; ".join(names)
    for value in tree.xpath('//meta[@name="author" or @property="author"]/@content'):
        meta_name = _optional(value)
        if meta_name and not meta_name.lower().startswith(("http://", "https://")):
            return meta_name
    return None


def _author_names(value: Any) -> list[str]:
    if isinstance(value, str):
        found = [value]
    elif isinstance(value, dict):
        found = [value["name"]] if isinstance(value.get("name"), str) else []
    elif isinstance(value, list):
        found = [name for item in value for name in _author_names(item)]
    else:
        found = []
    return [name for raw in found if (name := _optional(raw)) and not name.startswith("http")]


def _published_at(tree: Any, trafilatura_date: Any) -> str | None:
    """The publication time, from the most precise evidence on the page.

    Metadata first (meta tags, JSON-LD, `<time datetime>`), then a visible date next to the
    article (Vietnamese and Thai pages often have nothing else), then trafilatura's date,
    which has no time of day and reads a Buddhist-era year as nothing at all.
    """
    if tree is not None:
        for found in (
            _meta_date(tree),
            _json_ld_date(tree),
            _time_element_date(tree),
            _visible_date(tree),
        ):
            if found:
                return found
    return parse_date(str(trafilatura_date)) if trafilatura_date else None


def _meta_date(tree: Any) -> str | None:
    values: dict[str, str] = {}
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        content = meta.get("content")
        if content and key and key not in values:
            values[key] = content
        itemprop = (meta.get("itemprop") or "").lower()
        if content and itemprop and itemprop not in values:
            values[itemprop] = content
    for key in _DATE_META_KEYS:
        if key in values:
            parsed = parse_date(values[key])
            if parsed:
                return parsed
    return None


def _json_ld_date(tree: Any) -> str | None:
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            data = json.loads(script.text_content())
        except ValueError:
            continue
        for value in _json_values(data, "datePublished"):
            parsed = parse_date(value)
            if parsed:
                return parsed
    return None


def _json_values(data: Any, key: str) -> list[str]:
    """Every string under `key` anywhere in parsed JSON (JSON-LD nests: @graph, lists)."""
    return [value for value in _json_objects(data, key) if isinstance(value, str)]


def _json_objects(data: Any, key: str) -> list[Any]:
    """Every value under `key` anywhere in parsed JSON, in document order."""
    found: list[Any] = []
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if key in item:
                found.append(item[key])
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return found


def _time_element_date(tree: Any) -> str | None:
    candidates = tree.xpath(
        '//time[@itemprop="datePublished"][@datetime]'
        " | //article//time[@datetime]"
        ' | //*[contains(@class, "publish")]//time[@datetime]'
    )
    for element in candidates:
        parsed = parse_date(element.get("datetime", ""))
        if parsed:
            return parsed
    return None


def _visible_date(tree: Any) -> str | None:
    """The first date-looking element outside the header, navigation, footer and sidebars
    (those carry today's date and other stories' dates)."""
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        marker = f"{element.tag} {element.get('class') or ''} {element.get('itemprop') or ''}"
        if not _DATE_CLASS.search(marker) or _in_furniture(element):
            continue
        text = _collapse(element.text_content())
        if 6 <= len(text) <= 80:
            parsed = parse_date(text)
            if parsed:
                return parsed
    return None


def _in_furniture(element: Any) -> bool:
    for ancestor in element.iterancestors():
        if ancestor.tag in _PAGE_FURNITURE:
            return True
    return False


def _collapse(text: str) -> str:
    """Text with every run of whitespace (line breaks included) as one space."""
    return " ".join(text.split())
