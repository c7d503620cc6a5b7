"""What an analyst pastes, as the (kind, value) pairs the store is searched for.

The same thing is pasted in many forms: "081-234-5678", "+66 81 234 5678",
"๐๘๑๒๓๔๕๖๗๘", "@shop88", "line.me/ti/p/~shop88", "hxxps://evil[.]example[.]com/login".
Each is read into the values `extract_indicators` stores, so a pivot finds every
article whatever form each of them used. Where a form can mean several things, every
reading is returned and the lookup unites them:

- a phone number is also looked up as a WhatsApp number, and a WhatsApp link as a phone;
- a local number with no region given is read in Thailand, Vietnam and Myanmar, each
  reading where it is valid;
- "@shop88" or "shop88" may be a LINE ID or a Telegram handle;
- "somchai.shop" may be a domain or a LINE ID.
"""

from __future__ import annotations

import re

from adwatch.indicators.extract import extract_indicators
from adwatch.indicators.handles import find_line_ids, find_telegram_handles
from adwatch.indicators.links import EMAIL, TELEGRAM_HANDLE, URL, find_links, refang
from adwatch.indicators.phones import parse_phone, regions_for
from adwatch.indicators.wallets import WALLET_CANDIDATE, check_wallet
from adwatch.text.untrusted import terminal_line

_PHONE_LIKE = re.compile(
    r"(?:tel:)?[+\uff0b(]?[0-9\u0e50-\u0e59\u1040-\u1049][0-9\u0e50-\u0e59\u1040-\u1049 ()\-.]{5,24}"
)
_LINE_ID = re.compile(r"[a-z0-9._\-]{4,20}")
_TRAILING_PUNCTUATION = ".,;:!?)]}'\""


def parse_pivot(value: str, *, default_region: str | None = None) -> list[tuple[str, str]]:
    """The (kind, value) pairs `value` may stand for, most likely first.

    `default_region` ("TH", "VN", "MM") is the country of a local phone number; without
    it every country of `FALLBACK_REGIONS` where the number is valid gives a reading.
    Raises ValueError, with a one-line reason, when nothing in `value` is recognised.
    """
    pasted = terminal_line(value).strip().rstrip(_TRAILING_PUNCTUATION)
    if not pasted:
        raise ValueError("nothing to look up: the value is empty")
    if WALLET_CANDIDATE.fullmatch(pasted):
        checked = check_wallet(pasted)
        if checked is None:
            raise ValueError(f"looks like a wallet address but its checksum fails: {pasted!r}")
        return [("wallet", checked[1])]
    for reader in (_as_phone, _as_email, _as_link, _as_account):
        readings = reader(pasted, default_region)
        if readings:
            return _unique(readings)
    found = extract_indicators(pasted, market=default_region)
    if found:
        return _unique([(item.kind, item.value) for item in found])
    raise ValueError(
        "not a phone, LINE ID, Telegram handle, WhatsApp or Zalo link, wallet, domain "
        f"or email: {pasted!r}"
    )


def _as_phone(pasted: str, region: str | None) -> list[tuple[str, str]]:
    if not _PHONE_LIKE.fullmatch(pasted):
        return []
    written = pasted.removeprefix("tel:")
    digits = re.sub(r"\D", "", written)
    if written.startswith(("+", "\uff0b")) or digits.startswith("00"):
        candidates = [parse_phone("+" + digits.removeprefix("00"), "ZZ")]
    else:
        candidates = [parse_phone(written, each) for each in regions_for(written, region)]
        # "66812345678": a number pasted with its country code but no "+".
        if not digits.startswith("0"):
            candidates.append(parse_phone("+" + digits, "ZZ"))
    return [("phone", number) for number in candidates if number]


def _as_email(pasted: str, region: str | None) -> list[tuple[str, str]]:
    match = EMAIL.fullmatch(pasted)
    return [("email", refang(pasted).lower())] if match else []


def _as_link(pasted: str, region: str | None) -> list[tuple[str, str]]:
    match = URL.match(pasted)
    if not match or match.end() != len(pasted):
        return []
    readings = [(item.kind, item.value) for item in find_links(pasted).indicators]
    is_bare_host = not match.group("scheme") and not match.group("path")
    if is_bare_host and _LINE_ID.fullmatch(pasted.lower()):
        readings.append(("line_id", pasted.lower()))
    return readings


def _as_account(pasted: str, region: str | None) -> list[tuple[str, str]]:
    name = pasted.removeprefix("@").lower()
    readings = []
    if _LINE_ID.fullmatch(name) and any(char.isalpha() for char in name):
        readings.append(("line_id", name))
    if TELEGRAM_HANDLE.fullmatch(name):
        readings.append(("telegram", name))
    if readings:
        return readings
    # "LINE: @shop88", "Telegram @scam_support": the app's name pasted with the ID.
    named = find_line_ids(pasted) + find_telegram_handles(pasted)
    return [(item.kind, item.value) for item in named]


def _unique(readings: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """`readings` once each, a phone number also as a WhatsApp number and the reverse:
    articles name the same number both ways."""
    twins = {"phone": "whatsapp", "whatsapp": "phone"}
    paired = []
    for kind, value in readings:
        paired.append((kind, value))
        if kind in twins:
            paired.append((twins[kind], value))
    return list(dict.fromkeys(paired))
