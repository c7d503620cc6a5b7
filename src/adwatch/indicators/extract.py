"""All the indicators of one text, each kind's finder run in the order that settles overlaps.

Wallets and named accounts go first: their spans hide what is inside them from the
finders after them ("LINE: somchai.shop" is a LINE ID, not the domain somchai.shop).
Then emails and links, whose spans hide digits from the phone finder (an article id in
a URL path, a Zalo number already read from its link). Phones go last; a phone the
text says is on WhatsApp is reported twice, as phone and as whatsapp.
"""

from __future__ import annotations

from collections.abc import Iterable

from adwatch.indicators.handles import find_line_ids, find_telegram_handles, whatsapp_numbers
from adwatch.indicators.kinds import KINDS, Indicator
from adwatch.indicators.links import find_emails, find_links
from adwatch.indicators.phones import find_phones, phone_region
from adwatch.indicators.spans import Spans
from adwatch.indicators.wallets import find_wallets


def extract_indicators(
    text: str, *, market: str | None = None, language: str | None = None
) -> list[Indicator]:
    """Every indicator in `text`, in order, de-duplicated per (kind, value, start).

    `market` (an ISO country code: "TH", "VN", "MM") decides the country of a phone
    number written without its country code; without one, `language` does (th, vi, my);
    with neither, such a number counts only when it is valid in just one of Thailand,
    Vietnam and Myanmar.
    """
    wallets = find_wallets(text)
    in_wallets = _spans(wallets)
    accounts = _outside(find_line_ids(text) + find_telegram_handles(text), in_wallets)
    emails = _outside(find_emails(text), in_wallets)
    in_accounts = _spans(accounts)
    links = find_links(text, skip=in_wallets + in_accounts)
    taken = in_wallets + in_accounts + _spans(emails) + links.url_spans
    region = phone_region(market=market, language=language)
    phones = _outside(find_phones(text, region=region), taken)
    found = [
        *wallets,
        *accounts,
        *emails,
        *links.indicators,
        *phones,
        *whatsapp_numbers(text, phones),
    ]
    unique = {(item.kind, item.value, item.start): item for item in reversed(found)}
    return sorted(unique.values(), key=lambda item: (item.start, KINDS.index(item.kind)))


def _spans(indicators: Iterable[Indicator]) -> list[tuple[int, int]]:
    return [(item.start, item.end) for item in indicators]


def _outside(indicators: list[Indicator], taken: list[tuple[int, int]]) -> list[Indicator]:
    """`indicators` but those overlapping one of the `taken` spans."""
    if not taken:
        return indicators
    claimed = Spans(taken)
    return [item for item in indicators if not claimed.overlaps(item.start, item.end)]
