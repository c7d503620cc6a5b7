"""Zawgyi -> Unicode converters, measured line by line on parallel Burmese text.

Reads pairs of files from --corpus DIR (lines starting with `#` are headers and are
skipped; the remaining lines correspond one to one):

- mmgov_zawgyi_src.txt -> mmgov_unicode_out.txt   (government news, real Zawgyi)
- udhr_mya_zawgyi_out.txt -> udhr_mya_unicode_src.txt   (UDHR, generated Zawgyi)

and counts the lines each converter gets exactly right after NFC:

- ICU's `Zawgyi-my` transform (what adwatch uses),
- adwatch's `fix_zawgyi` given one line at a time, and given the whole file (the
  detector decides per line; a line it is unsure about follows its neighbours),
- python-myanmar's `converter.convert` when it is installed (not a dependency of adwatch:
  `pip install python-myanmar` to include it).

It also reports the detector's verdicts (probability > 0.95 on the Zawgyi side,
< 0.05 on the Unicode side) and the time per line.

Usage: python benchmarks/zawgyi_converters.py --corpus DIR
"""

from __future__ import annotations

import argparse
import sys
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

from adwatch.text.zawgyi import fix_zawgyi, zawgyi_probability

PAIRS = [
    ("mmgov_zawgyi_src.txt", "mmgov_unicode_out.txt"),
    ("udhr_mya_zawgyi_out.txt", "udhr_mya_unicode_src.txt"),
]


def read_lines(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def each_line(convert: Callable[[str], str]) -> Callable[[list[str]], list[str]]:
    return lambda lines: [convert(line) for line in lines]


def whole_file(lines: list[str]) -> list[str]:
    return fix_zawgyi("\n".join(lines))[0].split("\n")


def converters() -> dict[str, Callable[[list[str]], list[str]]]:
    import icu

    icu_transform = icu.Transliterator.createInstance("Zawgyi-my")
    found = {
        f"ICU {icu.ICU_VERSION} Zawgyi-my": each_line(icu_transform.transliterate),
        "adwatch fix_zawgyi, per line": each_line(lambda line: fix_zawgyi(line)[0]),
        "adwatch fix_zawgyi, whole file": whole_file,
    }
    try:
        from myanmar import converter
    except ImportError:
        print("python-myanmar is not installed: skipped", file=sys.stderr)
    else:
        found["python-myanmar"] = each_line(
            lambda line: converter.convert(line, "zawgyi", "unicode")
        )
    return found


def measure(corpus: Path) -> None:
    for zawgyi_name, unicode_name in PAIRS:
        zawgyi_lines = read_lines(corpus / zawgyi_name)
        unicode_lines = read_lines(corpus / unicode_name)
        if len(zawgyi_lines) != len(unicode_lines):
            raise SystemExit(f"{zawgyi_name} and {unicode_name} differ in line count")
        total = len(zawgyi_lines)
        print(f"\n{zawgyi_name} -> {unicode_name}: {total} lines")
        high = sum(zawgyi_probability(line) > 0.95 for line in zawgyi_lines)
        low = sum(zawgyi_probability(line) < 0.05 for line in unicode_lines)
        print(f"  detector: {high}/{total} Zawgyi lines > 0.95, {low}/{total} Unicode lines < 0.05")
        for name, convert in converters().items():
            started = time.perf_counter()
            outputs = [nfc(line) for line in convert(zawgyi_lines)]
            elapsed = time.perf_counter() - started
            exact = sum(out == nfc(want) for out, want in zip(outputs, unicode_lines, strict=True))
            per_line = elapsed / total * 1e6
            print(f"  {name:32} {exact:3}/{total} exact   {per_line:7.0f} µs/line")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="folder with the parallel files")
    measure(parser.parse_args().corpus)


if __name__ == "__main__":
    main()
