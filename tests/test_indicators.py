"""Scam indicators (design.md section 12): what `extract_indicators` finds in Thai,
Vietnamese, Burmese and English text, what it must not find, and `parse_pivot`.

Every number, ID and address here is invented; the wallets are made with the module's
own encoders from fixed bytes (plus the published BIP 173/350 and EIP-55 examples).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from adwatch.indicators import KINDS, Indicator, extract_indicators, parse_pivot
from adwatch.indicators.kinds import MAX_CANDIDATES
from adwatch.indicators.wallets import (
    check_wallet,
    decode_segwit,
    eip55_address,
    encode_base58check,
    encode_segwit,
)


def found(text: str, **hints: str | None) -> set[tuple[str, str]]:
    """(kind, value) of every indicator in `text`, after checking the offsets of each."""
    indicators = extract_indicators(text, **hints)
    for item in indicators:
        assert text[item.start : item.end] == item.raw, item
        assert item.kind in KINDS
    return {(item.kind, item.value) for item in indicators}


def kinds_found(text: str, kind: str, **hints: str | None) -> set[str]:
    return {value for each, value in found(text, **hints) if each == kind}


# --- phones ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("ติดต่อ 081-234-5678 ได้ตลอด", "th", "+66812345678"),
        ("โทร 0812345678 ด่วน", "th", "+66812345678"),
        ("สำนักงาน 02-123-4567 ในเวลาราชการ", "th", "+6621234567"),
        ("โทร. ๐๘๑-๒๓๔-๕๖๗๘ (คุณเอ)", "th", "+66812345678"),
        ("call +66 81 234 5678 now", "en", "+66812345678"),
        ("+66 (0)81 234 5678", "en", "+66812345678"),
        ("Gọi 0912.345.678 ngay", "vi", "+84912345678"),
        ("Tổng đài (028) 3822 1234", "vi", "+842838221234"),
        ("Đường dây nóng 1900 6006", "vi", "+8419006006"),
        ("Từ nước ngoài gọi 0084912345678", "vi", "+84912345678"),
        ("ဖုန်း ၀၉ ၇၈၁၂ ၃၄၅၆၇ သို့", "my", "+959781234567"),
        ("ဖုန်း 09-781234567 သို့", "my", "+959781234567"),
        ("ဖုန်း +95 9 781 234 567", "my", "+959781234567"),
    ],
)
def test_phones_in_each_language_are_e164(text: str, language: str, expected: str) -> None:
    assert kinds_found(text, "phone", language=language) == {expected}


def test_the_market_decides_the_country_of_a_local_number() -> None:
    text = "Call 081-234-5678 today."
    assert kinds_found(text, "phone", market="TH") == {"+66812345678"}
    assert kinds_found(text, "phone", market="VN") == {"+84812345678"}
    # The market wins over the language: an English article on a Thai site.
    assert kinds_found(text, "phone", market="TH", language="vi") == {"+66812345678"}


def test_without_market_or_language_a_local_number_counts_only_when_one_country_has_it() -> None:
    # Valid in Thailand, Vietnam and Myanmar alike: naming one would be a guess.
    assert kinds_found("Call 081-234-5678 today.", "phone") == set()
    # Eleven digits from 09: Myanmar only.
    assert kinds_found("Call 09 259 664 017 today.", "phone") == {"+959259664017"}
    # International numbers need no country.
    assert kinds_found("Call +84 912 345 678 today.", "phone") == {"+84912345678"}


def test_thai_and_myanmar_digits_name_their_country_whatever_the_market() -> None:
    assert kinds_found("โทร ๐๘๑-๒๓๔-๕๖๗๘", "phone", market="VN") == {"+66812345678"}
    assert kinds_found("ဖုန်း ၀၉ ၇၈၁၂ ၃၄၅၆၇", "phone", market="TH") == {"+959781234567"}


def test_numbers_in_a_list_are_each_found() -> None:
    text = "โทร 081-234-5678 / 082-345-6789 / 083-456-7890, 0841234567/0852345678 หรือ 089 765 4321 086 123 4567"
    assert kinds_found(text, "phone", language="th") == {
        "+66812345678",
        "+66823456789",
        "+66834567890",
        "+66841234567",
        "+66852345678",
        "+66897654321",
        "+66861234567",
    }


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("ราคา 1,290 บาท วันที่ 12/05/2024 เวลา 14.30 น.", "th"),
        ("ยอดโอน 0812345678 บาท", "th"),  # an amount, whatever it looks like
        ("บัญชีเลขที่ 123-4-56789-0 ธนาคารกสิกรไทย", "th"),
        ("เลขพัสดุ EF582716493TH และคำสั่งซื้อ 2405181234567", "th"),
        ("สายด่วน 1441 หรือ 1212 และ 191", "th"),  # short codes are not E.164
        ("ยอดเสียหาย 9,876,543,210 บาท ในปี 2566", "th"),
        ("Giá vàng 82.500.000 đồng/lượng, mất 912.345.678 đồng", "vi"),
        ("Ngày 12.03.2024 và 2024-03-12, mã đề 0123", "vi"),  # 120… is a toll-free prefix
        ("ISBN 978-604-2-12345-6, iOS 17.4.1, version 1.2.3.4", "vi"),
        ("Order #2024051812345 and article 66812345678 were flagged", "en"),
        ("The 2023-2024 budget is 3,480,000,000 baht", "en"),
        ("ဈေးနှုန်း ၄,၅၀၀,၀၀၀ ကျပ် ၂၀၂၄ ခုနှစ်", "my"),
    ],
)
def test_prices_dates_ids_and_short_codes_are_not_phones(text: str, language: str) -> None:
    assert kinds_found(text, "phone", language=language) == set()


def test_digits_inside_a_url_or_an_address_are_not_phones() -> None:
    text = "https://news.example.com/story/0812345678 0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"
    assert kinds_found(text, "phone", market="TH") == set()


# --- LINE, Telegram, WhatsApp, Zalo ------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "แอดไลน์ @somchai.shop ได้เลย",
        "ไลน์ somchai.shop สอบถาม",
        "ไลน์ไอดี: somchai.shop",
        "ไอดีไลน์ somchai.shop",
        "ID Line: somchai.shop",
        "Line ID: Somchai.Shop.",
        "LINE: @somchai.shop",
        "Liên hệ Line ID: somchai.shop hoặc Zalo",
        "Line ID: somchai.shop ကို ဆက်သွယ်ပါ",
        "https://line.me/ti/p/~somchai.shop",
        "line.me/R/ti/p/@somchai.shop",
        "line.me/R/ti/p/%40somchai.shop",
    ],
)
def test_line_ids_in_their_usual_forms(text: str) -> None:
    assert found(text) == {("line_id", "somchai.shop")}  # and not the domain somchai.shop


@pytest.mark.parametrize(
    "text",
    [
        "ซื้อของออนไลน์ shopping ได้ทุกวัน",
        "ส่งงานก่อนเดดไลน์ deadline2024 นะ",
        "ระบบออฟไลน์ offline mode",
        "the line between fraud and marketing",
        "Buy online today at the shop",
        "ไลน์ 0812345678",  # an ID of digits is the phone it was made from: reported as phone
        "Line: hoặc liên hệ",
    ],
)
def test_words_that_are_not_a_line_id(text: str) -> None:
    assert kinds_found(text, "line_id", language="th") == set()


@pytest.mark.parametrize(
    "text",
    [
        "Telegram @scam_support",
        "เข้ากลุ่มเทเลแกรม @scam_support",
        "Nhóm Telegram: scam_support",
        "TG: @Scam_Support",
        "https://t.me/scam_support",
        "t.me/s/scam_support/123",
        "telegram.me/scam_support",
        "telegram.dog/scam_support",
    ],
)
def test_telegram_handles_in_their_usual_forms(text: str) -> None:
    assert found(text) == {("telegram", "scam_support")}


@pytest.mark.parametrize(
    "text",
    [
        "join via t.me/joinchat/AbCdEf123 or t.me/+AbCdEf123",
        "Telegram scam_support",  # no ":" and no "@": the next word, not a handle
        "Telegram: @abc",  # shorter than five characters
        "follow @scam_support for news",  # an at-sign alone names no network
    ],
)
def test_what_is_not_a_telegram_handle(text: str) -> None:
    assert found(text) == set()


@pytest.mark.parametrize(
    "text",
    [
        "wa.me/66812345678",
        "https://api.whatsapp.com/send?phone=66812345678&text=hi",
        "WhatsApp: +66 81 234 5678",
        "ทักวอทส์แอป 081-234-5678",
        "โทร 081-234-5678 (WhatsApp)",
    ],
)
def test_whatsapp_numbers(text: str) -> None:
    assert ("whatsapp", "+66812345678") in found(text, market="TH")


def test_a_phone_named_as_whatsapp_is_both() -> None:
    assert found("WhatsApp: +66 81 234 5678", market="TH") == {
        ("phone", "+66812345678"),
        ("whatsapp", "+66812345678"),
    }
    assert found("wa.me/66812345678", market="TH") == {("whatsapp", "+66812345678")}


def test_zalo_links_name_a_phone() -> None:
    indicators = extract_indicators("Kết bạn zalo.me/0912345678 hoặc zalo.me/84387654321")
    assert [(item.kind, item.value, item.detail) for item in indicators] == [
        ("phone", "+84912345678", "zalo"),
        ("phone", "+84387654321", "zalo"),
    ]
    assert found("zalo.me/0912345678 zalo.me/g/abcdef") == {("phone", "+84912345678")}


# --- wallets ----------------------------------------------------------------------------------

P2PKH = encode_base58check(b"\x00" + bytes(range(20)))
P2SH = encode_base58check(b"\x05" + bytes(range(100, 120)))
TRON = encode_base58check(b"\x41" + bytes(range(50, 70)))
SEGWIT_V0 = encode_segwit(0, bytes(range(20)))
TAPROOT = encode_segwit(1, bytes(range(32)))
# Published examples: BIP 173 (P2WPKH), BIP 350 (taproot), EIP-55.
BIP173_V0 = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
BIP350_TAPROOT = "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"
BIP350_V0_WITH_BECH32M = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh"
EIP55_EXAMPLES = (
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
)


def _one_character_changed(address: str) -> str:
    """`address` with one character near its end replaced by another of its alphabet."""
    index = len(address) - 5
    replacement = "q" if address[index] != "q" else "p"
    if address.startswith(("1", "3", "T")):
        replacement = "2" if address[index] != "2" else "3"
    return address[:index] + replacement + address[index + 1 :]


def _segwit_with_constant(version: int, program: bytes, constant: int) -> str:
    """A SegWit address whose checksum uses `constant`, right or wrong for `version`."""
    from adwatch.indicators import wallets

    regrouped = wallets._regroup(list(program), 8, 5, pad=True)
    assert regrouped is not None
    data = [version, *regrouped]
    remainder = (
        wallets._polymod([*wallets._expand_prefix("bc"), *data, 0, 0, 0, 0, 0, 0]) ^ constant
    )
    checksum = [(remainder >> 5 * (5 - index)) & 31 for index in range(6)]
    return "bc1" + "".join(wallets.BECH32_ALPHABET[value] for value in data + checksum)


@pytest.mark.parametrize(
    ("address", "chain"),
    [
        (P2PKH, "btc"),
        (P2SH, "btc"),
        (SEGWIT_V0, "btc"),
        (TAPROOT, "btc"),
        (BIP173_V0, "btc"),
        (BIP350_TAPROOT, "btc"),
        (TRON, "tron"),
        *((address, "eth") for address in EIP55_EXAMPLES),
    ],
)
def test_valid_wallets_are_found_in_text(address: str, chain: str) -> None:
    text = f"โอนไปที่ {address} ภายในวันนี้"
    indicators = extract_indicators(text)
    assert [(item.kind, item.value, item.detail) for item in indicators] == [
        ("wallet", address, chain)
    ]
    assert check_wallet(address) == (chain, address)


@pytest.mark.parametrize(
    "address",
    [
        _one_character_changed(P2PKH),
        _one_character_changed(P2SH),
        _one_character_changed(TRON),
        _one_character_changed(SEGWIT_V0),
        _one_character_changed(TAPROOT),
        BIP350_V0_WITH_BECH32M,
        _segwit_with_constant(1, bytes(range(32)), 1),  # taproot with a Bech32 checksum
        _segwit_with_constant(0, bytes(range(20)), 0x2BC830A3),
        # Mixed case that is not the EIP-55 checksum: one letter's case flipped.
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD",
        SEGWIT_V0[:10] + SEGWIT_V0[10:].upper(),  # mixed-case Bech32 is forbidden
        encode_base58check(b"\x41" + bytes(range(21))),  # 22 bytes: no address has that
    ],
)
def test_a_wallet_with_a_wrong_checksum_is_not_an_indicator(address: str) -> None:
    assert check_wallet(address) is None
    assert found(f"send to {address} now") == set()


def test_the_checksums_follow_the_published_examples() -> None:
    assert encode_segwit(0, bytes.fromhex("751e76e8199196d454941c45d1b3a323f1433bd6")) == BIP173_V0
    program = bytes.fromhex("79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
    assert encode_segwit(1, program) == BIP350_TAPROOT
    assert decode_segwit(BIP350_TAPROOT) == (1, program)
    for address in EIP55_EXAMPLES:
        assert eip55_address(address[2:].lower()) == address


def test_unchecksummed_ethereum_and_upper_case_bech32_share_one_value() -> None:
    lower, upper = EIP55_EXAMPLES[0].lower(), "0x" + EIP55_EXAMPLES[0][2:].upper()
    assert kinds_found(f"{lower} {upper}", "wallet") == {EIP55_EXAMPLES[0]}
    assert kinds_found(BIP173_V0.upper(), "wallet") == {BIP173_V0}


def test_a_wallet_inside_a_longer_token_is_not_one() -> None:
    assert found(f"hash={P2PKH}abc x{EIP55_EXAMPLES[0]}") == set()


# --- domains and emails -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "domain", "host"),
    [
        ("ลิงก์ https://login.example.co.th/verify?id=1", "example.co.th", "login.example.co.th"),
        ("hxxps://evil[.]example[.]com/login", "example.com", "evil.example.com"),
        ("hxxp[:]//evil(.)example(.)com", "example.com", "evil.example.com"),
        ("evil[dot]example[dot]com", "example.com", "evil.example.com"),
        ("เว็บไซต์ www.scam-shop.net ปิดแล้ว", "scam-shop.net", "www.scam-shop.net"),
        ("Visit evil.github.io, a copy of the bank.", "evil.github.io", "evil.github.io"),
        ("Shopee.co.th and others", "shopee.co.th", "shopee.co.th"),
        ("SEE SCAM-SHOP.COM NOW", "scam-shop.com", "scam-shop.com"),
        ("ตรวจสอบที่ฟรีลิงก์example.comเท่านั้น", "example.com", "example.com"),
    ],
)
def test_domains_are_registrable_domains(text: str, domain: str, host: str) -> None:
    (indicator,) = [item for item in extract_indicators(text) if item.kind == "domain"]
    assert (indicator.value, indicator.detail) == (domain, host)
    assert text[indicator.start : indicator.end] == indicator.raw


@pytest.mark.parametrize(
    "text",
    [
        "version 1.2.3.4 and v2.10.3 released",
        "It happened.In 2024 the law changed, e.g. in the U.S. and U.K.",
        "report.pdf photo.jpg and index.html",
        "server at http://203.0.113.5/login",  # an address, not a domain
        "Example Co.,Ltd. and Dr.Somchai",
        "TP.HCM và v.v.",
        "ติดต่อ LINE: @shop.th",  # a handle, not the domain shop.th
    ],
)
def test_what_is_not_a_domain(text: str) -> None:
    assert kinds_found(text, "domain") == set()


def test_messenger_hosts_are_accounts_not_domains() -> None:
    text = "t.me/scam_support line.me/ti/p/~shop88 wa.me/66812345678 zalo.me/0912345678 t.me/joinchat/x"
    assert kinds_found(text, "domain") == set()


@pytest.mark.parametrize(
    ("text", "email"),
    [
        ("อีเมล Support.Team@Scam-Shop.co.th", "support.team@scam-shop.co.th"),
        ("gửi tới hotro[at]evn-thanhtoan[.]vn", "hotro@evn-thanhtoan.vn"),
        ("write to name(at)example(dot)com", "name@example.com"),
        ("report [at] scamwatch.example.org.", "report@scamwatch.example.org"),
    ],
)
def test_emails_are_lower_cased_and_their_domain_is_a_domain_too(text: str, email: str) -> None:
    result = found(text)
    assert ("email", email) in result
    assert (
        kinds_found(text, "domain") == {value for kind, value in result if kind == "domain"}
        and len(kinds_found(text, "domain")) == 1
    )
    assert kinds_found(text, "email") == {email}


def test_an_email_local_part_is_not_a_domain() -> None:
    assert found("info.shop@gmail.com") == {
        ("email", "info.shop@gmail.com"),
        ("domain", "gmail.com"),
    }


def test_the_suffix_list_is_read_offline_and_nothing_is_written(tmp_path: Path) -> None:
    # A fresh interpreter, its home read-only, every socket refused: the private part of
    # the Public Suffix List must still be known and no cache file appear anywhere.
    home = tmp_path / "home"
    home.mkdir()
    home.chmod(0o555)
    script = textwrap.dedent(
        """
        import sys
        def refuse(event, args):
            if event.startswith("socket."):
                raise OSError("network used: " + event)
        sys.addaudithook(refuse)
        from adwatch.indicators import extract_indicators
        print(*[item.value for item in extract_indicators("evil.github.io shop.example.co.th")])
        """
    )
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("XDG_CACHE_HOME", "TLDEXTRACT_CACHE")
    }
    environment["HOME"] = str(home)
    try:
        result = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            env=environment,
            check=False,
            timeout=60,
        )
    finally:
        home.chmod(0o755)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["evil.github.io", "example.co.th"]
    assert result.stderr == ""
    assert list(home.rglob("*")) == []


# --- the whole text ---------------------------------------------------------------------------

MIXED = (
    "ตำรวจเตือน: มิจฉาชีพให้แอดไลน์ @kbank-help99 โทร ๐๘๑-๒๓๔-๕๖๗๘ หรือ 062 418 7735 "
    "เข้าเว็บ hxxps://evil[.]example[.]co[.]th/login อีเมล refund[at]scam-shop[.]com "
    f"Telegram: @scam_support โอน USDT ไปที่ {TRON} WhatsApp +84 912 345 678 "
    "ราคา 1,290 บาท วันที่ 12/05/2024 ออนไลน์"
)


def test_every_kind_in_one_text_in_order_with_exact_offsets() -> None:
    indicators = extract_indicators(MIXED, market="TH")
    assert [(item.kind, item.value) for item in indicators] == [
        ("line_id", "kbank-help99"),
        ("phone", "+66812345678"),
        ("phone", "+66624187735"),
        ("domain", "example.co.th"),
        ("email", "refund@scam-shop.com"),
        ("domain", "scam-shop.com"),
        ("telegram", "scam_support"),
        ("wallet", TRON),
        ("phone", "+84912345678"),
        ("whatsapp", "+84912345678"),
    ]
    for item in indicators:
        assert MIXED[item.start : item.end] == item.raw
    assert [item.start for item in indicators] == sorted(item.start for item in indicators)


def test_a_value_written_twice_is_reported_at_each_place_once() -> None:
    text = "โทร 081-234-5678 หรือ 081-234-5678"
    indicators = extract_indicators(text, market="TH")
    second = text.rindex("081")
    assert [(item.value, item.start) for item in indicators] == [
        ("+66812345678", 4),
        ("+66812345678", second),
    ]
    assert indicators[0] == Indicator("phone", "+66812345678", "081-234-5678", 4, 16)


def test_an_empty_or_plain_text_has_no_indicators() -> None:
    assert extract_indicators("") == []
    assert extract_indicators("ข่าวทั่วไปไม่มีเบอร์โทรหรือเว็บไซต์ Plain news, nothing else.") == []


def test_a_two_megabyte_text_is_read_within_its_limits() -> None:
    # Every finder meets thousands of candidates here; each reads at most MAX_CANDIDATES
    # of them, and a run of digits too long to be prose is skipped, so the time is bounded
    # by the text's length whatever it holds (benchmarks/indicators.py measures it).
    unit = (
        "โทร 081-234-5678, LINE: @shop88 hxxps://evil[.]example[.]com/a?b=1 me@example.co.th "
        f"{EIP55_EXAMPLES[1]} {P2PKH}x 1 2 3 4 5 6 7 8 9 0 t.me/scam_support ราคา 2,345,678 บาท "
    )
    text = unit * (2_000_000 // len(unit.encode("utf-8")) + 1)
    text += " " + "1 " * 50_000  # one run of digits 100 000 characters long
    assert len(text.encode("utf-8")) > 2_000_000
    indicators = extract_indicators(text, market="TH")
    counts = {kind: sum(item.kind == kind for item in indicators) for kind in KINDS}
    assert 0 < counts["phone"] <= MAX_CANDIDATES
    assert counts["line_id"] == counts["email"] == MAX_CANDIDATES
    # Half the wallet candidates are the Base58 string run into an "x": a bad checksum.
    assert counts["wallet"] == MAX_CANDIDATES // 2
    # Domains and messenger links come from the same URL pattern, and share its limit.
    assert counts["domain"] + counts["telegram"] == MAX_CANDIDATES
    assert all(text[item.start : item.end] == item.raw for item in indicators[:2000])


# --- pivots -----------------------------------------------------------------------------------

PHONE_AND_WHATSAPP = [("phone", "+66812345678"), ("whatsapp", "+66812345678")]


@pytest.mark.parametrize(
    ("pasted", "region", "expected"),
    [
        ("081-234-5678", "TH", PHONE_AND_WHATSAPP),
        ("0812345678", "TH", PHONE_AND_WHATSAPP),
        ("+66 81 234 5678", None, PHONE_AND_WHATSAPP),
        ("66812345678", None, PHONE_AND_WHATSAPP),
        ("tel:+66812345678", None, PHONE_AND_WHATSAPP),
        ("๐๘๑-๒๓๔-๕๖๗๘", None, PHONE_AND_WHATSAPP),
        ("၀၉ ၇၈၁၂ ၃၄၅၆၇", None, [("phone", "+959781234567"), ("whatsapp", "+959781234567")]),
        ("wa.me/66812345678", None, [("whatsapp", "+66812345678"), ("phone", "+66812345678")]),
        (
            "https://api.whatsapp.com/send?phone=66812345678",
            None,
            [("whatsapp", "+66812345678"), ("phone", "+66812345678")],
        ),
        ("zalo.me/0912345678", None, [("phone", "+84912345678"), ("whatsapp", "+84912345678")]),
        ("@shop88", None, [("line_id", "shop88"), ("telegram", "shop88")]),
        ("Shop88", None, [("line_id", "shop88"), ("telegram", "shop88")]),
        ("@kbank-help99", None, [("line_id", "kbank-help99")]),
        ("line.me/ti/p/~shop88", None, [("line_id", "shop88")]),
        ("https://line.me/R/ti/p/@shop88", None, [("line_id", "shop88")]),
        ("LINE: @shop88", None, [("line_id", "shop88")]),
        ("t.me/scam_support", None, [("telegram", "scam_support")]),
        ("https://telegram.me/Scam_Support", None, [("telegram", "scam_support")]),
        ("somchai.shop", None, [("domain", "somchai.shop"), ("line_id", "somchai.shop")]),
        ("https://www.evil.example.co.th/login?x=1", None, [("domain", "example.co.th")]),
        ("hxxps://evil[.]example[.]com/login", None, [("domain", "example.com")]),
        ("evil.github.io", None, [("domain", "evil.github.io"), ("line_id", "evil.github.io")]),
        ("Refund[at]Scam-Shop[.]com", None, [("email", "refund@scam-shop.com")]),
        (EIP55_EXAMPLES[0].lower(), None, [("wallet", EIP55_EXAMPLES[0])]),
        (TAPROOT, None, [("wallet", TAPROOT)]),
        (TRON, None, [("wallet", TRON)]),
    ],
)
def test_parse_pivot_reads_every_pasted_form(
    pasted: str, region: str | None, expected: list[tuple[str, str]]
) -> None:
    assert parse_pivot(pasted, default_region=region) == expected


def test_a_local_number_without_region_is_read_in_every_country_where_it_is_valid() -> None:
    assert parse_pivot("0912.345.678") == [
        ("phone", "+66912345678"),
        ("whatsapp", "+66912345678"),
        ("phone", "+84912345678"),
        ("whatsapp", "+84912345678"),
    ]
    assert parse_pivot("0912.345.678", default_region="VN") == [
        ("phone", "+84912345678"),
        ("whatsapp", "+84912345678"),
    ]


def test_a_pivot_finds_what_extraction_stored() -> None:
    # Whatever form each article used, the pasted value leads to the stored one.
    stored = found(MIXED, market="TH")
    for pasted in (
        "0812345678",
        "@kbank-help99",
        "https://evil.example.co.th",
        TRON,
        "@scam_support",
    ):
        assert set(parse_pivot(pasted, default_region="TH")) & stored, pasted


@pytest.mark.parametrize(
    ("pasted", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("@ab", "not a phone, LINE ID"),
        ("hello world, nothing here", "not a phone, LINE ID"),
        ("t.me/joinchat/AbCdEf", "not a phone, LINE ID"),
        (_one_character_changed(P2PKH), "checksum"),
        ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "checksum"),
        ("1441", "not a phone, LINE ID"),
    ],
)
def test_parse_pivot_refuses_what_it_cannot_read(pasted: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as raised:
        parse_pivot(pasted)
    assert "\n" not in str(raised.value)
