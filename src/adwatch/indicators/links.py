"""Domains, emails and messenger links, written plainly or defanged.

Reports on scams often defang what they quote so that nobody clicks it: "hxxps://",
"evil[.]example(.)com", "name[at]example[dot]com". The patterns accept those forms
where they are written, so offsets stay those of the text, and the value is refanged.

A domain's value is its registrable domain ("shop.example.co.th" → "example.co.th",
"evil.github.io" stays itself: the Public Suffix List's private part counts, or every
GitHub Pages site would be "github.io"). tldextract reads the list snapshot it ships:
no download, no cache written anywhere.

Messenger links are not domains, they name an account: t.me/<handle> (also
telegram.me, telegram.dog) is a Telegram handle, line.me/ti/p/~<id> a LINE ID,
wa.me/<number> and api.whatsapp.com/send?phone=<number> a WhatsApp number, and
zalo.me/<number> the phone number Zalo accounts are named by. Their hosts are never a
domain indicator, whatever their path holds (an invite link, a sticker pack).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING

from adwatch.indicators.kinds import MAX_CANDIDATES, Indicator
from adwatch.indicators.phones import parse_phone
from adwatch.indicators.spans import Spans

if TYPE_CHECKING:
    import tldextract

_DOT = r"(?:\.|\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\))"
_SCHEME = r"(?:h(?:tt|xx|\*\*|XX)ps?|fxp|ftp)(?:://|\[://\]|\[:\]//|\[:/\]/)"
_LABEL = r"[a-z0-9][a-z0-9-]{0,62}"
# A host starts where no letter, digit, "_", "-" or "." is before it, so the pattern is
# tried once per word, not at every character of one.
_HOST = rf"(?<![a-z0-9_.\-]){_LABEL}(?:{_DOT}{_LABEL}){{1,10}}"
# A path ends at a space, a quote, or Thai or Burmese text run into the link.
_PATH = "[/?#][^\\s<>\"'`\u0e00-\u0e7f\u1000-\u109f]{0,2000}"
URL = re.compile(
    rf"(?P<scheme>{_SCHEME})?(?P<host>{_HOST})(?P<port>:[0-9]{{1,5}})?(?P<path>{_PATH})?",
    re.IGNORECASE,
)
_AT = r"(?:@|\s?\[at\]\s?|\s?\(at\)\s?|\[@\]|\(@\))"
EMAIL = re.compile(
    rf"(?<![a-z0-9._%+\-])[a-z0-9][a-z0-9._%+\-]{{0,63}}{_AT}{_HOST}(?![a-z0-9\-])",
    re.IGNORECASE,
)
_DEFANGED_DOT = re.compile(_DOT, re.IGNORECASE)
# What every host has somewhere, a letter or digit on each side of a dot (or a defanged
# one): a text without it has no link, and the full pattern need not run (most Thai and
# Burmese articles; the full pattern tries every word, about 80 ns a character).
_HOST_HINT = re.compile(rf"[a-z0-9]{_DOT}[a-z0-9]", re.IGNORECASE)
_DEFANGED_AT = re.compile(_AT, re.IGNORECASE)

TELEGRAM_HOSTS = frozenset({"t.me", "telegram.me", "telegram.dog"})
LINE_HOSTS = frozenset({"line.me", "lin.ee", "page.line.me"})
WHATSAPP_HOSTS = frozenset({"wa.me", "api.whatsapp.com", "web.whatsapp.com", "whatsapp.com"})
ZALO_HOSTS = frozenset({"zalo.me", "chat.zalo.me"})
MESSENGER_HOSTS = TELEGRAM_HOSTS | LINE_HOSTS | WHATSAPP_HOSTS | ZALO_HOSTS

TELEGRAM_HANDLE = re.compile(r"[a-z][a-z0-9_]{4,31}", re.IGNORECASE)
# Paths under t.me that are not a handle: invites, stickers, the share and proxy pages.
TELEGRAM_RESERVED = frozenset(
    {"joinchat", "addstickers", "addemoji", "share", "proxy", "socks", "setlanguage", "iv"}
)
_TELEGRAM_PATH = re.compile(r"/(?:s/)?(?P<id>[a-z][a-z0-9_]{4,31})(?![a-z0-9_])", re.IGNORECASE)
_LINE_PATH = re.compile(
    r"/(?:R/)?ti/p/(?:~|@|%40)?(?P<id>[a-z0-9._\-]{4,20})(?![a-z0-9._\-])", re.IGNORECASE
)
_WHATSAPP_PATH = re.compile(r"(?:/|/send/?\?(?:[^#\s]*&)?phone=)\+?(?P<id>[0-9]{8,15})(?![0-9])")
_ZALO_PATH = re.compile(r"/(?P<id>\+?[0-9]{9,12})(?![0-9])")


@dataclass(frozen=True)
class LinkScan:
    """What `find_links` found, and the spans of every URL it read (whose digits are
    an address's parts, not phone numbers)."""

    indicators: list[Indicator]
    url_spans: list[tuple[int, int]]


@functools.cache
def _suffix_extractor() -> tldextract.TLDExtract:
    # Imported on first use: tldextract brings requests along (about 0.1 s).
    import tldextract

    # The shipped snapshot only: an empty URL list means no download, and no cache
    # directory means nothing written under the user's home (or failing read-only).
    return tldextract.TLDExtract(
        cache_dir=None, suffix_list_urls=(), include_psl_private_domains=True
    )


@functools.lru_cache(maxsize=4096)
def registrable_domain(host: str) -> str | None:
    """The registrable domain of `host` (lower case), or None when its suffix is not public."""
    parts = _suffix_extractor()(host.lower().rstrip("."))
    if not parts.suffix or not parts.domain:
        return None
    return f"{parts.domain}.{parts.suffix}"


def refang(text: str) -> str:
    """`text` with defanged dots and at-signs written plainly again."""
    return _DEFANGED_AT.sub("@", _DEFANGED_DOT.sub(".", text))


def find_emails(text: str) -> list[Indicator]:
    """Every email address in `text`, defanged ones too, lower-cased."""
    if "@" not in text and "at)" not in text.lower() and "at]" not in text.lower():
        return []
    found = []
    for match in islice(EMAIL.finditer(text), MAX_CANDIDATES):
        value = refang(match.group()).lower()
        local, _, host = value.partition("@")
        if local.endswith(".") or registrable_domain(host) is None or not _labels_ok(host):
            continue
        found.append(Indicator("email", value, match.group(), match.start(), match.end()))
    return found


def find_links(text: str, *, skip: Iterable[tuple[int, int]] = ()) -> LinkScan:
    """Domains and messenger accounts in `text`'s URLs and bare host names.

    A host inside one of the `skip` spans (a LINE ID like "somchai.shop") is left out.
    """
    taken = Spans(skip)
    indicators: list[Indicator] = []
    url_spans: list[tuple[int, int]] = []
    if not _HOST_HINT.search(text):
        return LinkScan(indicators, url_spans)
    for match in islice(URL.finditer(text), MAX_CANDIDATES):
        start, end = match.span("host")
        if taken.overlaps(start, end):
            continue
        found = _read_link(text, match)
        if found:
            indicators.extend(found)
            url_spans.append((match.start(), match.end()))
    return LinkScan(indicators, url_spans)


def _read_link(text: str, match: re.Match[str]) -> list[Indicator]:
    host_raw = match.group("host")
    host = refang(host_raw).lower()
    if not _labels_ok(host):
        return []
    path = match.group("path") or ""
    if host in MESSENGER_HOSTS or host.removeprefix("www.") in MESSENGER_HOSTS:
        return _messenger_account(text, match, host.removeprefix("www."), path)
    domain = registrable_domain(host)
    if domain is None:
        return []
    has_scheme = match.group("scheme") is not None
    if not has_scheme and not _is_plain_host(text, match, host_raw):
        return []
    start, end = match.span("host")
    return [Indicator("domain", domain, host_raw, start, end, host)]


def _is_plain_host(text: str, match: re.Match[str], host_raw: str) -> bool:
    """Whether a host written without a scheme is a host name and not prose."""
    start, end = match.span("host")
    # "somchai.shop@example.com": the part before the at-sign is not a host.
    if _DEFANGED_AT.match(text, end):
        return False
    # "@shop.th" with nothing before the at-sign is a handle, not an email's domain.
    if start and text[start - 1] == "@" and (start < 2 or not text[start - 2].isalnum()):
        return False
    # "happened.In 2024" is a sentence without its space; "Lazada.co.th" and
    # "GOOGLE.COM" are hosts: the last label is lower case, or all of it is upper case.
    last_label = _DEFANGED_DOT.split(host_raw)[-1]
    return last_label.islower() or host_raw.isupper()


def _labels_ok(host: str) -> bool:
    return all(label and label[0] != "-" and label[-1] != "-" for label in host.split("."))


def _messenger_account(text: str, match: re.Match[str], host: str, path: str) -> list[Indicator]:
    path_start = match.start("path") if match.group("path") else match.end()
    start = match.start()
    if host in TELEGRAM_HOSTS:
        found = _TELEGRAM_PATH.match(path)
        if found and found.group("id").lower() not in TELEGRAM_RESERVED:
            end = path_start + found.end()
            return [Indicator("telegram", found.group("id").lower(), text[start:end], start, end)]
    elif host in LINE_HOSTS:
        found = _LINE_PATH.match(path)
        if found:
            end = path_start + found.end()
            value = found.group("id").lower().rstrip(".")
            return [Indicator("line_id", value, text[start:end], start, end)]
    elif host in WHATSAPP_HOSTS:
        found = _WHATSAPP_PATH.match(path)
        number = found and parse_phone("+" + found.group("id"), "ZZ")
        if found and number:
            end = path_start + found.end()
            return [Indicator("whatsapp", number, text[start:end], start, end)]
    elif host in ZALO_HOSTS:
        found = _ZALO_PATH.match(path)
        number = found and _zalo_number(found.group("id"))
        if found and number:
            end = path_start + found.end()
            return [Indicator("phone", number, text[start:end], start, end, "zalo")]
    return []


def _zalo_number(digits: str) -> str | None:
    # Zalo is Vietnamese: a link carries a local 0… number or the country code 84.
    if digits.startswith("0"):
        return parse_phone(digits, "VN")
    return parse_phone("+" + digits.lstrip("+"), "ZZ")
