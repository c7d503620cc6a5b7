"""Turn bytes from the web into text, the way Thai, Vietnamese and Burmese sites serve them.

Order of evidence (see docs/feeds-and-pages.md):

1. a byte-order mark (UTF-8, UTF-16, UTF-32) decides alone;
2. a body that is valid UTF-8 and not plain ASCII is UTF-8, whatever a label says
   (servers that label everything ISO-8859-1 or windows-874 are common; valid multi-byte
   UTF-8 by accident in a legacy encoding is not);
3. otherwise the declared labels, HTTP header first, then the document's own (XML prolog,
   `<meta charset>`, `<meta http-equiv>`): the first that decodes without error; when the
   header and the document disagree and both decode, charset-normalizer picks between them;
4. otherwise detection by charset-normalizer over the whole body.

Web labels are mapped to Python codecs first: Python has no `windows-874`, and the Thai
labels `tis-620` and `iso-8859-11` name subsets of cp874 that lack the curly quotes and
ellipsis Thai pages use, so all of them decode as cp874 (the WHATWG Encoding Standard does
the same).

Every text field adwatch emits is NFC (`nfc`), except runs of Myanmar-block characters: a
Burmese page may be in the Zawgyi font encoding, which is not Unicode, and canonical
reordering rewrites it (40 of 63 real Zawgyi news lines change under NFC). Those runs pass
through exactly as served; the Zawgyi stage converts them and normalises afterwards.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

from adwatch.text.scripts import MYANMAR_CLASS

_THAI = "cp874"
# Web labels (lower-case) that Python does not know, or knows as a narrower codec.
_LABEL_TO_CODEC = {
    "windows-874": _THAI,
    "x-windows-874": _THAI,
    "windows874": _THAI,
    "tis-620": _THAI,
    "tis620": _THAI,
    "tis_620": _THAI,
    "iso-8859-11": _THAI,
    "iso8859-11": _THAI,
    "iso_8859-11": _THAI,
    "iso885911": _THAI,
    "iso8859_11": _THAI,
    "dos-874": _THAI,
    "ms874": _THAI,
    "windows-1258": "cp1258",
    "x-windows-1258": "cp1258",
    # Browsers read these as windows-1252, and so do the pages labelled with them.
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "big5": "big5hkscs",
    "shift_jis": "cp932",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "unicode-1-1-utf-8": "utf-8",
    "utf8": "utf-8",
}
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([\w.:-]+)", re.IGNORECASE)
_XML_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']\s*([\w.:-]+)", re.IGNORECASE)
_META_CHARSET = re.compile(rb"<meta[^>]*?charset\s*=\s*[\"']?\s*([\w.:-]+)", re.IGNORECASE)
# The HTML standard looks for <meta charset> in the first 1024 bytes; Thai and Vietnamese
# portals often put kilobytes of inline script before it, so we look further.
_META_WINDOW = 8192
_MYANMAR_RUN = re.compile(f"[{MYANMAR_CLASS}]+")


@dataclass(frozen=True)
class DecodedText:
    """Text decoded from bytes, the codec used and what decided it."""

    text: str
    encoding: str  # Python codec name
    source: str  # "bom" | "utf-8" | "header" | "declaration" | "detected" | "fallback"


def codec_for(label: str | None) -> str | None:
    """The Python codec for a web charset label, or None when the label is unknown."""
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    if name in _LABEL_TO_CODEC:
        return _LABEL_TO_CODEC[name]
    try:
        python_name = codecs.lookup(name).name
    except LookupError:
        return None
    return _LABEL_TO_CODEC.get(python_name, python_name)


def header_charset(headers: dict[str, str]) -> str | None:
    """The charset label of the Content-Type header, as written."""
    match = _HEADER_CHARSET.search(headers.get("content-type", ""))
    return match.group(1) if match else None


def document_charset(content: bytes, *, markup: str) -> str | None:
    """The charset label the document declares itself: XML prolog, then (HTML) `<meta>`."""
    match = _XML_DECLARATION.match(content[:512])
    if match:
        return match.group(1).decode("ascii")
    if markup == "html":
        meta = _META_CHARSET.search(content[:_META_WINDOW])
        if meta:
            return meta.group(1).decode("ascii")
    return None


def decode_document(content: bytes, headers: dict[str, str], *, markup: str) -> DecodedText:
    """Decode an XML (`markup="xml"`) or HTML (`markup="html"`) body to text."""
    for bom, codec in _BOMS:
        if content.startswith(bom):
            return DecodedText(content[len(bom) :].decode(codec, "replace"), codec, "bom")
    declared = _declared_codecs(content, headers, markup=markup)
    wide = _bomless_wide_codec(content, [codec for _, codec in declared])
    if wide:
        return DecodedText(content.decode(wide, "replace"), wide, "declaration")
    as_utf8 = _strict(content, "utf-8")
    if as_utf8 is not None:
        return DecodedText(as_utf8, "utf-8", "utf-8")
    decodable = [
        (source, codec, text)
        for source, codec in declared
        if codec != "utf-8" and (text := _strict(content, codec)) is not None
    ]
    if len({codec for _, codec, _ in decodable}) > 1:
        return _arbitrate(content, decodable)
    if decodable:
        source, codec, text = decodable[0]
        return DecodedText(text, codec, source)
    return _detect(content)


def nfc(text: str) -> str:
    """`text` in Unicode NFC, except Myanmar-block runs, which stay exactly as they are."""
    if text.isascii():
        return text
    pieces: list[str] = []
    position = 0
    for run in _MYANMAR_RUN.finditer(text):
        pieces.append(unicodedata.normalize("NFC", text[position : run.start()]))
        pieces.append(run.group())
        position = run.end()
    pieces.append(unicodedata.normalize("NFC", text[position:]))
    return "".join(pieces)


def _declared_codecs(
    content: bytes, headers: dict[str, str], *, markup: str
) -> list[tuple[str, str]]:
    """(source, codec) for each known label: the header's first, then the document's."""
    found: list[tuple[str, str]] = []
    for source, label in (
        ("header", header_charset(headers)),
        ("declaration", document_charset(content, markup=markup)),
    ):
        codec = codec_for(label)
        if codec and codec not in (known for _, known in found):
            found.append((source, codec))
    return found


def _bomless_wide_codec(content: bytes, declared: list[str]) -> str | None:
    """A declared UTF-16/32 codec when the body really is one (it has NUL bytes)."""
    if b"\x00" not in content[:1024]:
        return None
    for codec in declared:
        if codec.startswith(("utf-16", "utf-32")):
            return codec
    # An undeclared XML document starting "<?" in UTF-16 (XML 1.0, appendix F).
    if content.startswith(b"<\x00?\x00"):
        return "utf-16-le"
    if content.startswith(b"\x00<\x00?"):
        return "utf-16-be"
    return None


def _strict(content: bytes, codec: str) -> str | None:
    try:
        return content.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _arbitrate(content: bytes, decodable: list[tuple[str, str, str]]) -> DecodedText:
    """Header and document disagree and both decode: let the detector rank only those two."""
    from charset_normalizer import from_bytes  # 35 ms to import: only when it must decide

    codecs_in_play = [codec for _, codec, _ in decodable]
    best = from_bytes(content, cp_isolation=codecs_in_play).best()
    chosen = codec_for(best.encoding) if best is not None else None
    for source, codec, text in decodable:
        if codec == chosen:
            return DecodedText(text, codec, source)
    source, codec, text = decodable[0]
    return DecodedText(text, codec, source)


def _detect(content: bytes) -> DecodedText:
    from charset_normalizer import from_bytes  # see _arbitrate

    best = from_bytes(content).best()
    codec = codec_for(best.encoding) if best is not None else None
    if codec:
        return DecodedText(content.decode(codec, "replace"), codec, "detected")
    return DecodedText(content.decode("utf-8", "replace"), "utf-8", "fallback")
