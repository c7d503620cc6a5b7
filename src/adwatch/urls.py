"""Canonical article URLs: one spelling per page, so the store never keeps a story twice.

`canonical_url` is the identity of an article (`articles.url` is unique on it). It is a
normalisation, not a guess: it only rewrites what cannot change which page a server returns
(case of scheme and host, default ports, fragments, escape spelling) plus the click-tracking
parameters that marketing tools append to every shared link.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

# Query keys whose only job is to tell an analytics tool where a click came from.
_TRACKING_KEYS = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "igsh",
        "_ga",
        "_gl",
        "yclid",
        "ref_src",
        "ref_url",
        "spm",
        "scm",
        "twclid",
        "ttclid",
        "li_fat_id",
        "mkt_tok",
        "_hsenc",
        "_hsmi",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "wickedid",
    }
)
_TRACKING_PREFIXES = ("utm_",)
_DEFAULT_PORTS = {"http": "80", "https": "443"}

# RFC 3986 characters that may stay literal in a path or query; "%" stays so that an
# existing escape is kept as it is (quoting it again would turn %E0 into %25E0).
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_LONE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# Browsers drop tabs and newlines anywhere in a URL (WHATWG URL standard); feeds wrap long
# links across lines often enough that we do the same.
_TAB_NEWLINE = re.compile(r"[\t\n\r]")


def canonical_url(url: str, base: str | None = None) -> str:
    """The canonical spelling of `url`, resolved against `base` when it is relative.

    Lower-case scheme and host, no default port, no fragment, no tracking parameters
    (other parameters keep their order and spelling), "/" for an empty path, non-ASCII
    characters percent-encoded as UTF-8 and existing escapes kept (upper-case hex, unreserved
    characters unescaped), so `canonical_url(canonical_url(u)) == canonical_url(u)`.
    A URL with a scheme other than http(s) comes back with only its scheme lower-cased.
    """
    cleaned = _TAB_NEWLINE.sub("", url).strip()
    if base:
        cleaned = urljoin(_TAB_NEWLINE.sub("", base).strip(), cleaned)
    parts = urlsplit(cleaned)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return urlunsplit((scheme, parts.netloc, parts.path, parts.query, parts.fragment))
    netloc = _canonical_netloc(parts.netloc, scheme)
    path = _canonical_escapes(quote(_LONE_PERCENT.sub("%25", parts.path), safe=_PATH_SAFE)) or "/"
    query = _strip_tracking(parts.query)
    return urlunsplit((scheme, netloc, path, query, ""))


def is_http_url(url: str) -> bool:
    """True when `url` is an absolute http or https URL with a host."""
    parts = urlsplit(url.strip())
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def _canonical_netloc(netloc: str, scheme: str) -> str:
    userinfo, at, hostport = netloc.rpartition("@")
    host, port = _split_port(hostport)
    if port == _DEFAULT_PORTS[scheme] or port == "":
        port_part = ""
    else:
        port_part = f":{port}" if port is not None else ""
    return f"{userinfo}{at}{host.lower()}{port_part}"


def _split_port(hostport: str) -> tuple[str, str | None]:
    """Host and port text; the port is None when there is no colon."""
    if hostport.startswith("["):  # IPv6 literal: the port follows the closing bracket
        end = hostport.find("]")
        if end != -1:
            rest = hostport[end + 1 :]
            return hostport[: end + 1], rest[1:] if rest.startswith(":") else None
    host, colon, port = hostport.rpartition(":")
    if not colon:
        return hostport, None
    return host, port


def _strip_tracking(query: str) -> str:
    """`query` without tracking pairs; every other pair keeps its order and spelling."""
    if not query:
        return ""
    kept = [pair for pair in query.split("&") if pair and not _is_tracking(pair)]
    joined = _LONE_PERCENT.sub("%25", "&".join(kept))
    return _canonical_escapes(quote(joined, safe=_QUERY_SAFE))


def _is_tracking(pair: str) -> bool:
    key = unquote(pair.partition("=")[0]).strip().lower()
    return key in _TRACKING_KEYS or key.startswith(_TRACKING_PREFIXES)


def _canonical_escapes(text: str) -> str:
    """Upper-case escape hex digits; unescape characters that never need one (RFC 3986 6.2.2)."""

    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else f"%{match.group(1).upper()}"

    return _ESCAPE.sub(fix, text)


# --- credentials kept out of messages ----------------------------------------------------

REDACTED = "***"
# Query keys whose value is a credential by the usual naming of APIs and signed links.
_SECRET_KEY = re.compile(
    r"(?:^|[_-])(?:token|key|apikey|secret|password|passwd|pwd|auth|sig|signature|session|"
    r"sessionid|credential|credentials)$",
    re.IGNORECASE,
)
# A URL inside free text: up to the first space, quote or bracket that cannot be part of it.
_URL_IN_TEXT = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>`]+")


def redact_url(url: str) -> str:
    """`url` with its userinfo (`user:password@`) and credential-like query values as ***.

    Everything else is kept as written, so the URL still says which source or page it is.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority_end = len(rest)
    for mark in "/?#":
        found = rest.find(mark)
        if found != -1:
            authority_end = min(authority_end, found)
    authority, tail = rest[:authority_end], rest[authority_end:]
    if "@" in authority:
        authority = REDACTED + "@" + authority.rpartition("@")[2]
    return f"{scheme}{sep}{authority}{_redact_query(tail)}"


def redact_urls(text: str, redact: Callable[[str], str] = redact_url) -> str:
    """`text` with every URL in it passed through `redact` (`redact_url`, or another way
    of hiding what a URL holds, such as cutting it to its origin)."""
    if "://" not in text:
        return text

    def redacted(match: re.Match[str]) -> str:
        # Punctuation that ends a sentence is not part of the URL before it.
        url = match.group(0)
        kept = url.rstrip(".,;:!?)]}")
        return redact(kept) + url[len(kept) :]

    return _URL_IN_TEXT.sub(redacted, text)


def _redact_query(tail: str) -> str:
    path, question, rest = tail.partition("?")
    if not question:
        return tail
    query, hash_mark, fragment = rest.partition("#")
    pairs = []
    for pair in query.split("&"):
        key, equals, value = pair.partition("=")
        if equals and value and _SECRET_KEY.search(unquote(key)):
            pair = f"{key}={REDACTED}"
        pairs.append(pair)
    return f"{path}?{'&'.join(pairs)}{hash_mark}{fragment}"
