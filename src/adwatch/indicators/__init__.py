"""Scam indicators: the phone numbers, messenger accounts, wallets, domains and emails an
article names (design.md section 12, docs/indicators.md).

kinds     the Indicator dataclass and the seven kinds
phones    phone numbers in E.164 (libphonenumber, Thai and Myanmar digits)
links     domains, emails, t.me / line.me / wa.me / zalo.me links, defanged or not
handles   LINE IDs, Telegram handles and WhatsApp numbers named in prose
wallets   Bitcoin, Ethereum and TRON addresses with a valid checksum
spans     which parts of a text a finder has claimed
extract   extract_indicators: every indicator of a text
pivot     parse_pivot: what an analyst pastes, as the values to look up

Pure functions: no store, no network, nothing written to disk.
"""

from __future__ import annotations

from adwatch.indicators.extract import extract_indicators
from adwatch.indicators.kinds import KINDS, Indicator
from adwatch.indicators.pivot import parse_pivot

__all__ = ["KINDS", "Indicator", "extract_indicators", "parse_pivot"]
