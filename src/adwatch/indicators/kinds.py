"""What one indicator is: a kind, its normalised value, and where it was written."""

from __future__ import annotations

from dataclasses import dataclass

# design.md section 12; a Zalo link counts as the phone number it carries.
KINDS = ("phone", "line_id", "telegram", "whatsapp", "wallet", "domain", "email")
# Candidates each finder reads in one text at most. An article names a few dozen; a text
# with thousands is a dump (a list of every domain, a page of addresses) that would
# otherwise cost seconds, and its first ones stand for it well enough.
MAX_CANDIDATES = 5_000


@dataclass(frozen=True)
class Indicator:
    """A contact point or payment address written in an article.

    `value` is what two articles share when they name the same thing: a phone in E.164
    ("+66812345678"), a LINE ID or Telegram handle lower-cased without "@", a WhatsApp
    number in E.164, a wallet as its chain writes it (the EIP-55 form for Ethereum), a
    registrable domain in lower case ("evil.github.io"), an email in lower case.
    `raw` is `text[start:end]`, as written; `detail` says more where there is more:
    the wallet's chain ("btc", "eth", "tron") or the full host of a domain.
    """

    kind: str
    value: str
    raw: str
    start: int
    end: int
    detail: str | None = None
