"""Cryptocurrency addresses, kept only when their checksum holds.

A scam report that prints a wallet prints it whole; a string of the same shape with a
wrong checksum is a typo, a truncated copy or not an address at all, and a pivot on it
would join unrelated articles. So every candidate is decoded and checked:

- Bitcoin legacy (P2PKH "1…", P2SH "3…") and TRON ("T…", version byte 0x41): Base58Check,
  the first four bytes of a double SHA-256 of the payload.
- Bitcoin SegWit "bc1…": Bech32 for witness version 0 (BIP 173) and Bech32m for version
  1 and up, taproot among them (BIP 350). The `bech32` package predates BIP 350, so the
  checksum is written here from the specification.
- Ethereum "0x" + 40 hex digits: mixed case must be the EIP-55 checksum (Keccak-256, which
  is not the SHA3-256 of hashlib); all lower or all upper case carries no checksum and is
  accepted, then written in its EIP-55 form so every spelling shares one value.
"""

from __future__ import annotations

import hashlib
import re
from itertools import islice

from adwatch.indicators.kinds import MAX_CANDIDATES, Indicator

BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_INDEX = {char: index for index, char in enumerate(BASE58_ALPHABET)}
BECH32_ALPHABET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_INDEX = {char: index for index, char in enumerate(BECH32_ALPHABET)}

# What the checksum must leave behind: 1 for Bech32 (BIP 173), this for Bech32m (BIP 350).
BECH32_CONSTANT = 1
BECH32M_CONSTANT = 0x2BC830A3
_POLYMOD_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)

BITCOIN_P2PKH = 0x00
BITCOIN_P2SH = 0x05
TRON_VERSION = 0x41

# One pattern for all shapes; a letter or digit on either side means the candidate is a
# piece of a longer token (a hash, a base64 blob), not an address.
_B58 = "[1-9A-HJ-NP-Za-km-z]"
WALLET_CANDIDATE = re.compile(
    "(?<![0-9A-Za-z])(?:"
    f"0x[0-9A-Fa-f]{{40}}"
    f"|[bB][cC]1[0-9A-Za-z]{{8,87}}"
    f"|T{_B58}{{33}}"
    f"|[13]{_B58}{{25,34}}"
    ")(?![0-9A-Za-z])"
)


def find_wallets(text: str) -> list[Indicator]:
    """Every checksum-valid Bitcoin, Ethereum and TRON address in `text`, in order."""
    found = []
    for match in islice(WALLET_CANDIDATE.finditer(text), MAX_CANDIDATES):
        checked = check_wallet(match.group())
        if checked is not None:
            chain, value = checked
            found.append(
                Indicator("wallet", value, match.group(), match.start(), match.end(), chain)
            )
    return found


def check_wallet(candidate: str) -> tuple[str, str] | None:
    """(chain, normalised address) when `candidate` is a valid address, else None."""
    if candidate[:2] in ("0x", "0X") and len(candidate) == 42:
        checksummed = eip55_address(candidate[2:])
        return ("eth", checksummed) if checksummed is not None else None
    if candidate[:3].lower() == "bc1":
        return ("btc", candidate.lower()) if decode_segwit(candidate) is not None else None
    payload = decode_base58check(candidate)
    if payload is None or len(payload) != 21:
        return None
    if candidate[0] == "T" and payload[0] == TRON_VERSION:
        return ("tron", candidate)
    if payload[0] in (BITCOIN_P2PKH, BITCOIN_P2SH) and candidate[0] in "13":
        return ("btc", candidate)
    return None


# --- Base58Check --------------------------------------------------------------------------


def decode_base58check(text: str) -> bytes | None:
    """The payload of a Base58Check string (version byte first), or None when it is not one."""
    number = 0
    for char in text:
        digit = _BASE58_INDEX.get(char)
        if digit is None:
            return None
        number = number * 58 + digit
    # Each leading "1" stands for one leading zero byte, which the number cannot carry.
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    raw = b"\x00" * zeros + body
    if len(raw) < 5:
        return None
    payload, checksum = raw[:-4], raw[-4:]
    if _double_sha256(payload)[:4] != checksum:
        return None
    return payload


def encode_base58check(payload: bytes) -> str:
    """`payload` with its four-byte checksum, in Base58 (to make test addresses)."""
    raw = payload + _double_sha256(payload)[:4]
    number = int.from_bytes(raw, "big")
    digits = []
    while number:
        number, digit = divmod(number, 58)
        digits.append(BASE58_ALPHABET[digit])
    zeros = len(raw) - len(raw.lstrip(b"\x00"))
    return "1" * zeros + "".join(reversed(digits))


def _double_sha256(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


# --- Bech32 and Bech32m (BIP 173, BIP 350) ----------------------------------------------


def _polymod(values: list[int]) -> int:
    """The BCH checksum remainder over GF(32) that both Bech32 variants share."""
    remainder = 1
    for value in values:
        top = remainder >> 25
        remainder = ((remainder & 0x1FFFFFF) << 5) ^ value
        for bit, generator in enumerate(_POLYMOD_GENERATOR):
            if (top >> bit) & 1:
                remainder ^= generator
    return remainder


def _expand_prefix(prefix: str) -> list[int]:
    # The human-readable part enters the checksum as its high bits, a zero, its low bits.
    return [ord(char) >> 5 for char in prefix] + [0] + [ord(char) & 31 for char in prefix]


def _regroup(values: list[int], from_bits: int, to_bits: int, *, pad: bool) -> list[int] | None:
    """`values` of `from_bits` bits re-cut into groups of `to_bits`; None on bad padding."""
    accumulator = bits = 0
    grouped = []
    mask = (1 << to_bits) - 1
    for value in values:
        accumulator = (accumulator << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            grouped.append((accumulator >> bits) & mask)
    if pad:
        if bits:
            grouped.append((accumulator << (to_bits - bits)) & mask)
    elif bits >= from_bits or (accumulator << (to_bits - bits)) & mask:
        # Decoding may drop fewer than 5 bits of padding, and they must all be zero.
        return None
    return grouped


def decode_segwit(address: str, prefix: str = "bc") -> tuple[int, bytes] | None:
    """(witness version, program) of a SegWit address, or None when any rule fails."""
    if address.lower() != address and address.upper() != address:
        return None  # mixed case is forbidden, so a checksum cannot hide behind it
    address = address.lower()
    separator = address.rfind("1")
    if address[:separator] != prefix or len(address) > 90 or len(address) - separator < 8:
        return None
    data = [_BECH32_INDEX.get(char, -1) for char in address[separator + 1 :]]
    if -1 in data:
        return None
    constant = _polymod(_expand_prefix(prefix) + data)
    version, program_5bit = data[0], data[1:-6]
    if version > 16:
        return None
    if constant != (BECH32_CONSTANT if version == 0 else BECH32M_CONSTANT):
        return None
    program = _regroup(program_5bit, 5, 8, pad=False)
    if program is None or not 2 <= len(program) <= 40:
        return None
    if version == 0 and len(program) not in (20, 32):
        return None
    return version, bytes(program)


def encode_segwit(version: int, program: bytes, prefix: str = "bc") -> str:
    """A SegWit address for a witness program (to make test addresses)."""
    regrouped = _regroup(list(program), 8, 5, pad=True)
    assert regrouped is not None  # padding on the way in never fails
    data = [version, *regrouped]
    constant = BECH32_CONSTANT if version == 0 else BECH32M_CONSTANT
    remainder = _polymod([*_expand_prefix(prefix), *data, 0, 0, 0, 0, 0, 0]) ^ constant
    checksum = [(remainder >> 5 * (5 - index)) & 31 for index in range(6)]
    return prefix + "1" + "".join(BECH32_ALPHABET[value] for value in data + checksum)


# --- Ethereum EIP-55 ------------------------------------------------------------------------


def keccak256(data: bytes) -> bytes:
    """Keccak-256 as Ethereum uses it (the original padding, not FIPS 202's SHA3-256)."""
    # Imported here: only an article with an 0x address pays for loading it.
    from Crypto.Hash import keccak

    return keccak.new(data=data, digest_bits=256).digest()


def eip55_address(hex_digits: str) -> str | None:
    """The address in EIP-55 case, "0x" first; None when mixed case disagrees with it."""
    lower = hex_digits.lower()
    digest = keccak256(lower.encode("ascii")).hex()
    checksummed = "".join(
        char.upper() if char.isalpha() and int(digest[index], 16) >= 8 else char
        for index, char in enumerate(lower)
    )
    is_mixed = hex_digits != lower and hex_digits != hex_digits.upper()
    if is_mixed and hex_digits != checksummed:
        return None
    return "0x" + checksummed
