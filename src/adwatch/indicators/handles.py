"""LINE IDs, Telegram handles and WhatsApp numbers named in prose, not in a link.

Ads and the reports quoting them write "LINE: @shop88", "ไลน์ไอดี shop88",
"ID Line: shop88", "Telegram @scam_support", "WhatsApp: +66 81 234 5678". A bare
"@name" is not enough (it could be any network), and neither is the English word
"line" alone ("the line between"): an ID follows the name of the app with a colon,
an at-sign or the word "ID" between them. Thai "ไลน์" is only ever the app, so it
needs nothing more.

LINE IDs are 4 to 20 of a-z 0-9 . _ - (lower-cased, the "@" of an official account
dropped); one made of digits only is the phone number it was registered with, and the
phone extractor reports it. Telegram handles are 5 to 32 of a-z 0-9 _, from a letter.
"""

from __future__ import annotations

import re
from itertools import islice

from adwatch.indicators.kinds import MAX_CANDIDATES, Indicator

# Latin letters with diacritics end an ID like any letter: "Line: liên hệ" names no ID.
_ID_END = r"(?![a-z0-9._\-@\u00c0-\u024f\u1e00-\u1eff])"
# Thai borrows "line" into other words: ออนไลน์ online, ออฟไลน์ offline, เดดไลน์
# deadline, แอร์ไลน์ airline, ไกด์ไลน์ guideline. None of them names the app.
_NOT_IN_A_WORD = "(?<!ออน)(?<!ออฟ)(?<!เดด)(?<!แอร์)(?<!ไกด์)"
LINE_MENTION = re.compile(
    r"(?P<keyword>(?<![a-z])(?:id\s?line|line\s?(?:id|official(?:\s?account)?|oa|@)?"
    r"|ไอดี\s?ไลน์|แอด\s?ไลน์|" + _NOT_IN_A_WORD + r"ไลน์?\s?(?:ไอดี|id)?|လိုင်း\s?(?:id|အိုင်ဒီ)?))"
    r"(?P<separator>\s{0,3}(?:[:：=]\s{0,3})?)"
    r"(?P<id>@?\s?[a-z0-9][a-z0-9._\-]{2,22})" + _ID_END,
    re.IGNORECASE,
)
TELEGRAM_MENTION = re.compile(
    r"(?P<keyword>(?<![a-z])(?:telegram|tele|tg|เทเลแก?รม|တယ်လီဂရမ်)"
    r"(?:\s?(?:id|channel|kênh|nhóm|group|ไอดี))?)"
    r"(?P<separator>\s{0,3}(?:[:：=]\s{0,3})?)"
    r"(?P<id>@?\s?[a-z][a-z0-9_]{4,31})" + _ID_END,
    re.IGNORECASE,
)
# Words that follow "LINE:" in a sentence and are not an ID.
_NOT_AN_ID = frozenset(
    {"please", "search", "contact", "official", "account", "group", "only", "chat", "with", "from"}
)
WHATSAPP_BEFORE = re.compile(
    r"(?:whats\s?app|(?<![a-z])wa(?![a-z])|วอ[ทต]ส?์?แอ[พป])[^\n0-9]{0,15}$",
    re.IGNORECASE,
)
WHATSAPP_AFTER = re.compile(r"\s?[(\[]\s?(?:whats\s?app|wa)\s?[)\]]", re.IGNORECASE)
_LOOK_BEHIND = 40


def find_line_ids(text: str) -> list[Indicator]:
    """LINE IDs named after "LINE", "ไลน์", "ID Line" and the like, in order."""
    found: list[Indicator] = []
    if not _mentions(text, ("line", "ไลน", "လိုင်း")):
        return found
    for match in islice(LINE_MENTION.finditer(text), MAX_CANDIDATES):
        keyword = match.group("keyword").lower()
        is_thai_or_burmese = not keyword.isascii()
        explicit = ":" in match.group("separator") or "：" in match.group("separator")
        written = match.group("id")
        if not (is_thai_or_burmese or explicit or "id" in keyword or "@" in keyword + written):
            continue
        indicator = _account(text, match, "line_id", min_length=4, max_length=20)
        if indicator and any(char.isalpha() for char in indicator.value):
            found.append(indicator)
    return found


def find_telegram_handles(text: str) -> list[Indicator]:
    """Telegram handles named after "Telegram", "TG", "เทเลแกรม" with ":" or "@"."""
    found: list[Indicator] = []
    if not _mentions(text, ("tele", "tg", "เทเลแ", "တယ်လီ")):
        return found
    for match in islice(TELEGRAM_MENTION.finditer(text), MAX_CANDIDATES):
        explicit = ":" in match.group("separator") or "：" in match.group("separator")
        if not explicit and not match.group("id").startswith("@"):
            continue
        indicator = _account(text, match, "telegram", min_length=5, max_length=32)
        if indicator:
            found.append(indicator)
    return found


def _mentions(text: str, keywords: tuple[str, ...]) -> bool:
    # A substring test is a hundred times faster than the pattern tried at every
    # position, and most articles name no messenger at all.
    return any(keyword in text for keyword in keywords) or any(
        keyword in text.lower() for keyword in keywords if keyword.isascii()
    )


def _account(
    text: str, match: re.Match[str], kind: str, *, min_length: int, max_length: int
) -> Indicator | None:
    start, end = match.span("id")
    # A full stop or dash after an ID ends the sentence, it is not part of the ID.
    while end > start and text[end - 1] in ".-_" and kind == "line_id":
        end -= 1
    value = text[start:end].lstrip("@").strip().lower()
    if not min_length <= len(value) <= max_length or value in _NOT_AN_ID:
        return None
    return Indicator(kind, value, text[start:end], start, end)


def whatsapp_numbers(text: str, phones: list[Indicator]) -> list[Indicator]:
    """The phones of `phones` that `text` says are on WhatsApp ("WhatsApp: +66…",
    "0812345678 (WhatsApp)"), as whatsapp indicators on the same span."""
    found = []
    for phone in phones:
        before = text[max(0, phone.start - _LOOK_BEHIND) : phone.start]
        if WHATSAPP_BEFORE.search(before) or WHATSAPP_AFTER.match(text, phone.end):
            found.append(Indicator("whatsapp", phone.value, phone.raw, phone.start, phone.end))
    return found
