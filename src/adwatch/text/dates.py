"""Every date and time adwatch reads or writes, in one place.

- Timestamps as adwatch stores them: ISO-8601 in UTC, to the second, with a Z
  (`utc_now`, `iso_utc`). One format everywhere means string order is time order, so
  SQL range filters on TEXT columns work and use their indexes.
- Dates as feeds and pages write them (`parse_date`): ISO, RFC 822, and written
  dates in Thai (Buddhist era), Vietnamese, Burmese and English, with local zones.
- Ages and dates as an analyst types them for --since/--until (`parse_when`).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo

from adwatch.errors import UsageError
from adwatch.text.encodings import nfc


def utc_now() -> str:
    """The current time as an adwatch timestamp."""
    return iso_utc(datetime.now(UTC))


def parse_timestamp(text: str) -> datetime:
    """An adwatch timestamp (ISO-8601; a time without an offset is UTC) as an aware datetime.

    Raises ValueError for text that is not one."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def iso_utc(moment: datetime) -> str:
    """`moment` in UTC as `YYYY-MM-DDTHH:MM:SSZ`; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- ages and dates as an analyst types them ------------------------------------------

_RELATIVE = re.compile(r"^(\d{1,6})\s*([smhdw])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


def parse_when(value: str, field: str, *, upper: bool = False, now: datetime | None = None) -> str:
    """`value` (ISO date or time, or an age like 90m, 24h, 7d, 2w) as an adwatch timestamp.

    With `upper`, a bare date means the end of that day, so `--until 2026-11-01`
    includes the whole day. Raises UsageError naming `field` (`since`, `until`).
    """
    text = value.strip()
    moment = now or datetime.now(UTC)
    relative = _RELATIVE.match(text)
    if relative:
        seconds = int(relative.group(1)) * _UNIT_SECONDS[relative.group(2)]
        try:
            return iso_utc(moment - timedelta(seconds=seconds))
        except OverflowError:
            raise UsageError(f"{value!r} reaches back before the year 1", field=field) from None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            clock = "23:59:59" if upper else "00:00:00"
            return f"{day.isoformat()}T{clock}Z"
        return iso_utc(datetime.fromisoformat(text))
    except ValueError:
        pass
    raise UsageError(
        "expected an ISO date or time (2026-11-01, 2026-11-01T08:00) "
        f"or an age (90m, 24h, 7d, 2w), got {value!r}",
        field=field,
    )


# --- dates as feeds and pages write them -----------------------------------------

_BANGKOK = timezone(timedelta(hours=7))
_HANOI = _BANGKOK
_YANGON = timezone(timedelta(hours=6, minutes=30))
_ZONE_ABBREVIATIONS: dict[str, tzinfo] = {
    "UTC": UTC,
    "GMT": UTC,
    "UT": UTC,
    "Z": UTC,
    "ICT": _BANGKOK,  # Indochina Time: Thailand, Vietnam, Cambodia, Laos
    "WIB": _BANGKOK,
    "MMT": _YANGON,  # Myanmar Time
    "SGT": timezone(timedelta(hours=8)),
    "MYT": timezone(timedelta(hours=8)),
    "PHT": timezone(timedelta(hours=8)),
    "HKT": timezone(timedelta(hours=8)),
    "JST": timezone(timedelta(hours=9)),
    "KST": timezone(timedelta(hours=9)),
    "EST": timezone(timedelta(hours=-5)),
    "EDT": timezone(timedelta(hours=-4)),
    "CST": timezone(timedelta(hours=-6)),
    "CDT": timezone(timedelta(hours=-5)),
    "PST": timezone(timedelta(hours=-8)),
    "PDT": timezone(timedelta(hours=-7)),
    "BST": timezone(timedelta(hours=1)),
    "CET": timezone(timedelta(hours=1)),
    "CEST": timezone(timedelta(hours=2)),
}
_THAI_MONTHS = (
    ("มกราคม", "ม.ค."),
    ("กุมภาพันธ์", "ก.พ."),
    ("มีนาคม", "มี.ค."),
    ("เมษายน", "เม.ย."),
    ("พฤษภาคม", "พ.ค."),
    ("มิถุนายน", "มิ.ย."),
    ("กรกฎาคม", "ก.ค."),
    ("สิงหาคม", "ส.ค."),
    ("กันยายน", "ก.ย."),
    ("ตุลาคม", "ต.ค."),
    ("พฤศจิกายน", "พ.ย."),
    ("ธันวาคม", "ธ.ค."),
)
_BURMESE_MONTHS = (
    "ဇန်နဝါရီ",
    "ဖေဖော်ဝါရီ",
    "မတ်",
    "ဧပြီ",
    "မေ",
    "ဇွန်",
    "ဇူလိုင်",
    "ဩဂုတ်",
    "စက်တင်ဘာ",
    "အောက်တိုဘာ",
    "နိုဝင်ဘာ",
    "ဒီဇင်ဘာ",
)
_ENGLISH_MONTHS = (
    "jan feb mar apr may jun jul aug sep oct nov dec".split(),
    "january february march april may june july august september october november december".split(),
)


def _month_names() -> list[tuple[str, int, tzinfo | None]]:
    """(regex, month number, local zone of the language) for every month name we read.

    Full names come before abbreviations, so that the alternation built from them reads
    "มีนาคม" (March) as itself and never as a piece of something shorter.
    """
    full: list[tuple[str, int, tzinfo | None]] = []
    short: list[tuple[str, int, tzinfo | None]] = []
    for number, (name, abbreviation) in enumerate(_THAI_MONTHS, start=1):
        full.append((re.escape(name), number, _BANGKOK))
        # "พ.ย.", "พ.ย", "พย." and "พ. ย." are all seen in the wild
        letters = [c for c in abbreviation if c != "."]
        short.append((r"\.?\s?".join(re.escape(c) for c in letters) + r"\.?", number, _BANGKOK))
    for number, name in enumerate(_BURMESE_MONTHS, start=1):
        full.append((re.escape(name), number, _YANGON))
    for number, (abbreviation, name) in enumerate(zip(*_ENGLISH_MONTHS, strict=True), start=1):
        spellings = (
            f"{name}|sept|{abbreviation}" if abbreviation == "sep" else f"{name}|{abbreviation}"
        )
        full.append((rf"\b(?:{spellings})\b\.?", number, None))
    return full + short


_MONTH_NAMES = _month_names()
_MONTH_WORD = re.compile(
    "|".join(f"(?P<m{index}>{regex})" for index, (regex, _, _) in enumerate(_MONTH_NAMES)),
    re.IGNORECASE,
)
# Thai and Burmese digits become ASCII; Burmese "၊" and "။" punctuate like "," and ".".
_DATE_CHARACTERS = str.maketrans(
    {
        **{chr(0x0E50 + i): str(i) for i in range(10)},
        **{chr(0x1040 + i): str(i) for i in range(10)},
        "\u104a": ",",
        "\u104b": ".",
    }
)
_ISO = re.compile(
    r"^(\d{4})-?(\d{2})-?(\d{2})"
    r"(?:[T\s]+(\d{2}):?(\d{2})(?::?(\d{2})(?:[.,]\d+)?)?)?"
    r"\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$",
    re.IGNORECASE,
)
_RFC822_MONTH = re.compile(r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b", re.I)
_RFC822_SHAPE = re.compile(r"^(?:[A-Za-z]{3},?\s+)?\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}\s+\d{1,2}:\d{2}")
_RFC822_OFFSET = re.compile(r"[+-]\d{4}\b")
_MONTH_TOKEN = "\x01"
_NUMERIC_DATE = re.compile(r"(?<!\d)(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4}|\d{2})(?!\d)")
_YEAR_FIRST_DATE = re.compile(r"(?<!\d)(\d{4})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{1,2})(?!\d)")
_NAMED_DAY_MONTH_YEAR = re.compile(
    rf"(?<!\d)(\d{{1,2}})(?:st|nd|rd|th)?[\s,.]*{_MONTH_TOKEN}(\d+){_MONTH_TOKEN}[\s,.]*(\d{{4}}|\d{{2}})(?!\d)",
    re.IGNORECASE,
)
_NAMED_MONTH_DAY_YEAR = re.compile(
    rf"{_MONTH_TOKEN}(\d+){_MONTH_TOKEN}[\s,.]*(\d{{1,2}})(?:st|nd|rd|th)?[\s,.]+(\d{{4}})(?!\d)",
    re.IGNORECASE,
)
_NAMED_YEAR_MONTH_DAY = re.compile(
    rf"(?<!\d)(\d{{4}})[\s,.]*{_MONTH_TOKEN}(\d+){_MONTH_TOKEN}[\s,.]*(\d{{1,2}})(?!\d)"
)
_VIETNAMESE_MONTH = re.compile(r"tháng\s*(\d{1,2})", re.IGNORECASE)
_TIME = re.compile(
    r"(?<!\d)(\d{1,2})\s*[:.h]\s*(\d{2})(?:\s*[:.]\s*(\d{2}))?(?!\d)"
    r"(?:\s*(a\.?m\.?|p\.?m\.?|sa|ch)\b)?",
    re.IGNORECASE,
)
# "GMT+7", "UTC+06:30", or a bare "+0700" / "+07:00" (four digits, so "- 10" is not one)
_NUMERIC_OFFSET = re.compile(
    r"\b(?:GMT|UTC)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?(?!\d)|(?<![\w])([+-])(\d{2}):?(\d{2})(?!\d)",
    re.IGNORECASE,
)
_ZONE_WORD = re.compile(
    r"\b(" + "|".join(sorted(_ZONE_ABBREVIATIONS, key=len, reverse=True)) + r")\b"
)
# Words that only decorate a date: removed so they cannot be mistaken for anything.
_FILLER = re.compile(r"พ\.\s?ศ\.|ค\.\s?ศ\.|ခုနှစ်|ရက်(?:နေ့)?|năm|ngày|วันที่|เวลา|lúc|น\.", re.I)
_EARLIEST_YEAR, _LATEST_YEAR = 1970, 2200
# The longest real date strings ("Thứ ba, 25/11/2025, 10:30 (GMT+7)", a Thai weekday, day,
# month, era and time) are under 80 characters; anything much longer is not a date.
_LONGEST_DATE = 200


def parse_date(value: str) -> str | None:
    """A feed or page date as 'YYYY-MM-DDTHH:MM:SSZ' (UTC), or None when it cannot be read.

    Reads RFC 822 and ISO 8601 with their offsets, Thai dates with Thai month names and
    Buddhist-era years, Vietnamese day-first dates ("Thứ ba, 25/11/2025, 10:30 (GMT+7)") and
    Burmese dates. A year above 2400 is Buddhist era and loses 543. Without an offset, a date
    written the Thai, Vietnamese or day-first way is local time there (+07:00; Burmese +06:30);
    ISO and RFC 822 dates without one are UTC.
    """
    text = " ".join(nfc(value or "").translate(_DATE_CHARACTERS).split())
    if not text or len(text) > _LONGEST_DATE:
        return None
    for parse in (_parse_iso, _parse_rfc822, _parse_written):
        moment = parse(text)
        if moment is not None:
            if not _EARLIEST_YEAR <= moment.astimezone(UTC).year <= _LATEST_YEAR:
                return None
            return iso_utc(moment)
    return None


def _gregorian(year: int) -> int:
    """Buddhist-era years (Thai, > 2400) become Gregorian; two-digit years get a century:
    50–99 are Buddhist era 25xx (Thai papers print "25 พ.ย. 68"), 00–49 are 20xx."""
    if year > 2400:
        return year - 543
    if year < 50:
        return 2000 + year
    if year < 100:
        return 2500 + year - 543
    return year


def _moment(
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
    zone: tzinfo = UTC,
) -> datetime | None:
    try:
        return datetime(_gregorian(year), month, day, hour, minute, second, tzinfo=zone)
    except (ValueError, OverflowError):
        return None


def _parse_iso(text: str) -> datetime | None:
    match = _ISO.match(text)
    if not match:
        return None
    year, month, day, hour, minute, second, zone = match.groups()
    return _moment(
        int(year),
        int(month),
        int(day),
        int(hour or 0),
        int(minute or 0),
        int(second or 0),
        _zone(zone) or UTC,
    )


def _parse_rfc822(text: str) -> datetime | None:
    if not _RFC822_SHAPE.match(text):
        return None
    from email.utils import parsedate_tz  # 28 ms to import: only for RFC 822 dates

    fields = parsedate_tz(text)
    if fields is None:
        return None
    year, month, day, hour, minute, second = fields[:6]
    offset = fields[9]
    zone_word = _ZONE_WORD.search(text)
    zone: tzinfo
    if zone_word and not _RFC822_OFFSET.search(text):
        # parsedate_tz knows only US zone names and reads any other (ICT, MMT) as UTC
        zone = _ZONE_ABBREVIATIONS[zone_word.group(1)]
    else:
        zone = timezone(timedelta(seconds=offset or 0))
    # parsedate_tz already gave two-digit years a century; keep Buddhist-era ones for _moment
    return _moment(year, month, day, hour, minute, second, zone)


def _parse_written(text: str) -> datetime | None:
    """Dates as people write them: day first, month names in four languages, any order."""
    marked, local_zone = _mark_months(text)
    marked = _FILLER.sub(" ", marked)
    found = _find_date(marked)
    if found is None:
        return None
    (year, month, day), span, day_first = found
    if day_first and local_zone is None:
        local_zone = _HANOI  # "25/11/2025 10:30": the Vietnamese (and Thai) way, GMT+7
    rest = marked[: span[0]] + " " + marked[span[1] :]
    hour, minute, second, rest = _find_time(rest)
    zone = _find_offset(rest) or local_zone or UTC
    if year > 2400 and zone is UTC and local_zone is None:
        zone = _BANGKOK  # a Buddhist-era year is a Thai date
    return _moment(year, month, day, hour, minute, second, zone)


def _mark_months(text: str) -> tuple[str, tzinfo | None]:
    """Month names replaced by \\x01N\\x01, and the local zone their language implies."""
    zone: tzinfo | None = None
    text = _VIETNAMESE_MONTH.sub(lambda m: f"{_MONTH_TOKEN}{int(m.group(1))}{_MONTH_TOKEN}", text)
    if _MONTH_TOKEN in text:
        zone = _HANOI
    match = _MONTH_WORD.search(text)
    if match and match.lastgroup:
        _, number, language_zone = _MONTH_NAMES[int(match.lastgroup[1:])]
        marker = f" {_MONTH_TOKEN}{number}{_MONTH_TOKEN} "
        return text[: match.start()] + marker + text[match.end() :], language_zone or zone
    return text, zone


def _find_date(text: str) -> tuple[tuple[int, int, int], tuple[int, int], bool] | None:
    """(year, month, day), the span it took, and whether it was written day-first numerically."""
    match = _NAMED_DAY_MONTH_YEAR.search(text)
    if match:
        day, month, year = match.groups()
        return (int(year), int(month), int(day)), match.span(), False
    match = _NAMED_MONTH_DAY_YEAR.search(text)
    if match:
        month, day, year = match.groups()
        return (int(year), int(month), int(day)), match.span(), False
    match = _NAMED_YEAR_MONTH_DAY.search(text)
    if match:
        year, month, day = match.groups()
        return (int(year), int(month), int(day)), match.span(), False
    match = _YEAR_FIRST_DATE.search(text)
    if match:
        year, month, day = match.groups()
        return (int(year), int(month), int(day)), match.span(), False
    match = _NUMERIC_DATE.search(text)
    if match:
        day, month, year = (int(part) for part in match.groups())
        if month > 12 >= day:  # 11/25/2025 can only be month first
            day, month = month, day
        return (year, month, day), match.span(), True
    return None


def _find_time(text: str) -> tuple[int, int, int, str]:
    match = _TIME.search(text)
    if not match:
        return 0, 0, 0, text
    hour, minute, second = int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
    meridiem = (match.group(4) or "").lower().replace(".", "")
    if meridiem in ("pm", "ch") and hour < 12:
        hour += 12
    elif meridiem in ("am", "sa") and hour == 12:
        hour = 0
    return hour, minute, second, text[: match.start()] + " " + text[match.end() :]


def _find_offset(text: str) -> tzinfo | None:
    match = _NUMERIC_OFFSET.search(text)
    if match:
        sign, hours, minutes = match.groups()[:3] if match.group(1) else match.groups()[3:]
        delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
        if delta <= timedelta(hours=14):
            return timezone(-delta if sign == "-" else delta)
    word = _ZONE_WORD.search(text)
    return _ZONE_ABBREVIATIONS[word.group(1)] if word else None


def _zone(text: str | None) -> tzinfo | None:
    if not text:
        return None
    upper = text.upper()
    if upper in ("Z", "UTC", "GMT"):
        return UTC
    sign = -1 if upper[0] == "-" else 1
    digits = upper[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    return timezone(sign * timedelta(hours=hours, minutes=minutes))
