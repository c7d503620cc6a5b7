"""Phone numbers in E.164, from Thai, Vietnamese, Burmese and English text.

libphonenumber (`phonenumbers`) decides what is a number: its matcher at leniency VALID
keeps a candidate only when the number is valid for its region (right length, a prefix
that is assigned) and no Latin letter touches it, and it already rejects dates, times
and page ranges. It reads Thai (๐-๙) and Myanmar (၀-၉) digits itself, with offsets into
the original text.

It is slow on long text (about 2 s a megabyte, most of it spent looking for candidates),
so a plain pattern finds the runs of digits and separators first and the matcher reads
only a few characters around each run (a long run in pieces). A text that needs more
than `MAX_MATCHER_CALLS` readings is a table of figures, and the rest of it is not read;
so is a run of digits and separators longer than `MAX_RUN` characters.

Two rules of ours on top, because news is full of numbers the matcher would accept:

- A national number must be written with its trunk prefix: "081-234-5678", not
  "812345678". In Vietnamese text "912.345.678 đồng" is a sum of money that happens to
  be a valid mobile number without its 0. Numbers written with "+" or "00" are
  international and always fine. Without the prefix only a toll-free, shared-cost or
  premium number is kept ("1900 1234", "1800 588 888", how such hotlines are printed),
  and never one grouped like money ("1.900.000").
- A number shaped like a date ("12.03.2024", "2024-03-12") is a date.
- A number followed by a currency ("… 0 8123 4567 บาท") is a sum, not a phone.

Short codes (1441, 1212, 113) are not E.164 numbers and are not indicators.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import phonenumbers
from phonenumbers import Leniency, PhoneNumber, PhoneNumberFormat, PhoneNumberMatcher

from adwatch.indicators.kinds import Indicator

# The region a local number belongs to when the source's market does not say.
REGION_BY_LANGUAGE = {"th": "TH", "vi": "VN", "my": "MM"}
# With neither market nor language: a local number must be valid in exactly one of these.
FALLBACK_REGIONS = ("TH", "VN", "MM")

_THAI_DIGITS = "\u0e50-\u0e59"
_MYANMAR_DIGITS = "\u1040-\u1049"
_DIGIT = f"[0-9{_THAI_DIGITS}{_MYANMAR_DIGITS}\uff10-\uff19]"
_THAI_DIGIT = re.compile(f"[{_THAI_DIGITS}]")
_MYANMAR_DIGIT = re.compile(f"[{_MYANMAR_DIGITS}]")
_SEPARATOR = "[ \u00a0\t\\-\u2010-\u2013.()/]"
# Digits and separators alternate without overlap, so the pattern cannot backtrack.
MIN_DIGITS = 7
PHONE_RUN = re.compile(f"[+\uff0b(]?{_DIGIT}(?:{_SEPARATOR}{{0,3}}{_DIGIT}){{{MIN_DIGITS - 1},}}")
# A run of digits and separators longer than this is a table or a dump, not prose.
MAX_RUN = 2_000
# A digit group longer than this is an id, a hash or a table cell run together, never
# part of a number (E.164 has at most 15 digits, written with a trunk prefix 16).
MAX_GROUP_DIGITS = 16
_NUMBER_START = re.compile("(?<= )[+\uff0b(0\u0e50\u1040\uff10]")
_LIST_SEPARATOR = re.compile(r"\s*/\s*|\s{2,}|\s[\-\u2010-\u2013]\s")
_DIGIT_GROUP = re.compile(f"[+\uff0b(]?{_DIGIT}+")
# The matcher reads a run whole when it is this short (a number and its neighbours),
# and a longer run (a list of numbers, a table) in overlapping pieces of about this size.
MAX_WINDOW = 80
_OVERLAP_GROUPS = 4
# Characters of context the matcher needs around a window: the one before and after it
# (a letter there means a code, not a number) and a time's ":30" after it.
_CONTEXT_BEFORE = 2
_CONTEXT_AFTER = 4
# The matcher is the slow part (about 0.1 ms a call): a text that needs more calls than
# this is a table of figures, and the rest of it is not read.
MAX_MATCHER_CALLS = 3_000

_TO_ASCII = str.maketrans(
    "๐๑๒๓๔๕๖๗๘๙၀၁၂၃၄၅၆၇၈၉０１２３４５６７８９＋", "012345678901234567890123456789+"
)
_MONEY_GROUPING = re.compile(r"\d{1,3}(?:[.,]\d{3})+")
# libphonenumber rejects dates written with slashes only; "12.03.2024" is a valid
# Vietnamese toll-free number (120…) to it.
_DATE_SHAPE = re.compile(r"\d{1,2}([.\-/])\d{1,2}\1\d{4}|\d{4}([.\-/])\d{1,2}\2\d{1,2}")
_CURRENCY_AFTER = re.compile(
    r"\s{0,2}(?:บาท|ล้าน|đồng|đ\b|vnđ|vnd|usd|thb|baht|dollars?|kyats?|ks\b|ကျပ်|သိန်း|triệu|tỷ|\$|฿|₫)",
    re.IGNORECASE,
)
_NO_PREFIX_TYPES = frozenset(
    {
        phonenumbers.PhoneNumberType.TOLL_FREE,
        phonenumbers.PhoneNumberType.SHARED_COST,
        phonenumbers.PhoneNumberType.PREMIUM_RATE,
        phonenumbers.PhoneNumberType.UAN,
    }
)


def phone_region(*, market: str | None = None, language: str | None = None) -> str | None:
    """The region of local numbers in an article: its market, else its language's country,
    else None (then `FALLBACK_REGIONS` decide number by number)."""
    if market and market.upper() in phonenumbers.SUPPORTED_REGIONS:
        return market.upper()
    return REGION_BY_LANGUAGE.get(language or "")


def find_phones(text: str, *, region: str | None) -> list[Indicator]:
    """Every valid phone number in `text`, in order, its value in E.164."""
    reading = _Reading(text, region)
    for run in PHONE_RUN.finditer(text):
        if run.end() - run.start() > MAX_RUN:
            continue
        for start, end in _windows(text, run):
            if not reading.read_window(start, end):
                break
        if reading.calls_left <= 0:
            break
    return sorted(reading.found.values(), key=lambda indicator: indicator.start)


@dataclass
class _Reading:
    """The numbers found so far in one text, and how many more matcher calls it may take."""

    text: str
    region: str | None
    calls_left: int = MAX_MATCHER_CALLS
    found: dict[tuple[int, int], Indicator] = field(default_factory=dict)

    def read_window(self, start: int, end: int) -> bool:
        """Read text[start:end]; False once the budget of matcher calls is spent."""
        numbers = self._read(max(0, start - _CONTEXT_BEFORE), end + _CONTEXT_AFTER)
        if numbers is None:
            return False
        if numbers or _digit_count(self.text, start, end) < 2 * MIN_DIGITS:
            return True
        # The matcher gives up on numbers joined by single spaces ("2024 0812345678",
        # "081 234 5678 089 765 4321"): read again, cut before each group that can start one.
        starts = _NUMBER_START.finditer(self.text, start + 1, end)
        cuts = [start, *(group.start() for group in starts)]
        for begin, stop in zip(cuts, [*cuts[1:], end], strict=True):
            if self._read(begin, stop + _CONTEXT_AFTER if stop == end else stop) is None:
                return False
        return True

    def _read(self, start: int, end: int) -> int | None:
        """How many numbers text[start:end] holds; None when no call is left."""
        if self.calls_left <= 0:
            return None
        self.calls_left -= 1
        numbers = list(_phones_in_window(self.text[start:end], start, self.text, self.region))
        for indicator in numbers:
            self.found.setdefault((indicator.start, indicator.end), indicator)
        return len(numbers)


def _digit_count(text: str, start: int, end: int) -> int:
    return sum(char.isdigit() for char in text[start:end])


def _windows(text: str, run: re.Match[str]) -> Iterator[tuple[int, int]]:
    """The spans of `run` the matcher should read.

    A slash, two spaces or a spaced dash separate numbers in a list ("081-234-5678 /
    082-345-6789"): each part is read alone, since the matcher gives up on long lists, and
    a date's "12/05/2024" falls apart into parts too short to be a number. A part too long
    for one window (a table of figures) is read in pieces cut between digit groups, each
    starting a few groups back so that a number across a cut is read whole once.
    """
    start = run.start()
    for separator in _LIST_SEPARATOR.finditer(text, run.start(), run.end()):
        yield from _part_windows(text, start, separator.start())
        start = separator.end()
    yield from _part_windows(text, start, run.end())


def _part_windows(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    if end - start <= MAX_WINDOW:
        if _digit_count(text, start, end) >= MIN_DIGITS:
            yield start, end
        return
    groups: list[tuple[int, int]] = []
    for group in _DIGIT_GROUP.finditer(text, start, end):
        if group.end() - group.start() > MAX_GROUP_DIGITS + 1:
            yield from _pieces(groups)
            groups = []
            continue
        groups.append(group.span())
        if groups[-1][1] - groups[0][0] > MAX_WINDOW:
            yield from _pieces(groups[:-1])
            groups = groups[-_OVERLAP_GROUPS:]
    yield from _pieces(groups)


def _pieces(groups: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    if len(groups) > 0:
        yield groups[0][0], groups[-1][1]


def regions_for(written: str, region: str | None) -> tuple[str, ...]:
    """The countries a local number in `written` is read in: a number written in Thai or
    Myanmar digits belongs to that country, whatever the market; else `region`, or each of
    FALLBACK_REGIONS when there is none."""
    if _THAI_DIGIT.search(written):
        return ("TH",)
    if _MYANMAR_DIGIT.search(written):
        return ("MM",)
    return (region.upper(),) if region else FALLBACK_REGIONS


def _phones_in_window(
    window: str, offset: int, text: str, region: str | None
) -> Iterable[Indicator]:
    readings: dict[tuple[int, int], set[str]] = {}
    for candidate_region in regions_for(window, region):
        for match in PhoneNumberMatcher(window, candidate_region, leniency=Leniency.VALID):
            start, end = offset + match.start, offset + match.end
            if _is_kept(match.raw_string, match.number, candidate_region, text, end):
                readings.setdefault((start, end), set()).add(_e164(match.number))
    for (start, end), values in readings.items():
        # Without a region, a local number valid in two countries is two different
        # numbers: naming either would join articles that share nothing.
        if len(values) == 1:
            yield Indicator("phone", values.pop(), text[start:end], start, end)


def _is_kept(raw: str, number: PhoneNumber, region: str, text: str, end: int) -> bool:
    if _CURRENCY_AFTER.match(text, end):
        return False
    written = raw.translate(_TO_ASCII).lstrip("(")
    if _DATE_SHAPE.fullmatch(written):
        return False
    if written.startswith("+"):
        return True
    prefix = phonenumbers.PhoneMetadata.metadata_for_region(region)
    national_prefix = prefix.national_prefix if prefix is not None else None
    if not national_prefix or written.startswith(national_prefix):
        return True
    if _MONEY_GROUPING.fullmatch(written):
        return False
    return phonenumbers.number_type(number) in _NO_PREFIX_TYPES


def _e164(number: PhoneNumber) -> str:
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def parse_phone(value: str, region: str) -> str | None:
    """`value` as an E.164 number read in `region`, or None when it is not a valid number."""
    try:
        number = phonenumbers.parse(value.translate(_TO_ASCII), region)
    except phonenumbers.NumberParseException:
        return None
    return _e164(number) if phonenumbers.is_valid_number(number) else None
