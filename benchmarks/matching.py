"""How matching time grows with the number of watchlist terms, against the obvious alternatives.

A deterministic mixed-script corpus (5 MB of UTF-8 by default: articles in Thai, Vietnamese,
Burmese and English built from seeded random words, with Latin brand names mixed in and a few
real watchlist terms planted) is matched with 10, 1 000 and 10 000 terms: the real terms of the
shipped watchlists plus generated terms in all four scripts. The term sets are nested, and the
planted terms are in all of them, so the planted hits are the same in every row.

- adwatch: `Matcher.build` once, then `match` on every ~50 KB article (best of --repeat runs).
- (a) loop: `term in text` for each term, on the lower-cased article.
- (b) regex: one compiled alternation of every escaped term, case-insensitive, `finditer`.

(a) and (b) grow with the number of terms; when a full run would take longer than
--budget seconds they are timed on the first articles only and extrapolated linearly by bytes,
and the table says so.

    python benchmarks/matching.py [--quick] [--sizes 10,1000,10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_CONFIG = ROOT / "src" / "adwatch" / "data" / "feeds.yaml"
SEED = 20261101
ARTICLE_BYTES = 50_000
TERMS_PER_WATCHLIST = 50
PLANTED_TERMS = 10  # the 10-term set: real starter terms, planted into the corpus
PLANT_EVERY_BYTES = 2_000  # about one planted term per 2 KB of text
LANGUAGES = ("th", "vi", "my", "en")
MARKET_OF = {"th": "TH", "vi": "VN", "my": "MM", "en": "TH"}

# Everyday words for the filler text. Thai words come from PyThaiNLP's dictionary.
ENGLISH_WORDS = """
the of and to in a is that for it as was with on be at by this had not are but from or have
an they which one you were all we her she there would their will when who him been has more
if no out so said what up its about into than them can only other new some could time these
two may then do first any my now such like our over man me even most made after also did many
before must through back years where much your way well down should because each just those
people how too little state good very make world still own see men work long get here between
both life being under never day same another know while last might us great old year off come
since against go came right used take three city market police report minister government
company bank price week month river school hospital road train rain weather football team
match coach player season village farmer rice coffee festival temple museum concert film
music phone internet data law court village province election council budget tax trade
export factory worker student teacher doctor nurse family child mother father friend
""".split()
BRANDS = ["Facebook", "TikTok", "YouTube", "Google", "LINE", "Shopee", "Lazada", "Zalo",
          "Telegram", "Grab", "KOL", "AI", "Netflix", "Instagram"]  # fmt: skip
VIETNAMESE_SYLLABLES = """
người nhà nước của và trong những được cho với đã này có không một các là tại theo năm ngày
thành phố Hà Nội kinh tế xã hội chính phủ công ty thị trường giá tăng giảm học sinh bệnh viện
giao thông đường xe mưa nắng biển sông núi lúa gạo cà phê điện thoại mạng dữ liệu tin tức báo
chí văn hóa thể thao bóng đá đội tuyển trận đấu sân vận động khách du lịch mùa hè đông xuân
thu tiền ngân hàng đầu tư sản xuất nông nghiệp dịch vụ quốc gia địa phương tỉnh huyện làng
gia đình trẻ em già sức khỏe bác sĩ thuốc ăn uống phở bún chợ siêu mua bán sáng chiều tối
hôm nay mai qua tuần tháng trước sau lớn nhỏ mới cũ cao thấp nhanh chậm đẹp tốt xấu nhiều ít
""".split()
BURMESE_WORDS = """
မြို့ နေ ရာ သူ များ ပြည် နိုင်ငံ ရေး အစိုးရ ကျောင်း သား လမ်း ဈေး ဆိုင် ရုံး စာ တိုက် အိမ်
ထောင် ကောင်း ပြော ဆို သည် ကြောင်း တွင် နှင့် ပါ တယ် မယ် လာ သွား စား သောက် ရေ မိုး နေ့ ည
မနက် ညနေ လူ ကလေး မိဘ ဆရာ ဆရာဝန် ဆေးရုံ လယ် သမား စပါး ဆန် ကော်ဖီ ပွဲ ဘုရား ကျောင်းသား
ရန်ကုန် မန္တလေး နေပြည်တော် ဧရာဝတီ ချောင်း မြစ် တောင် ပင်လယ် ကား ရထား လေယာဉ် ဖုန်း ဈေးနှုန်း
ငွေ ဘဏ် ကုမ္ပဏီ အလုပ် လုပ်ငန်း စက်ရုံ ကုန် သွင်း ထုတ် ရောင်း ဝယ် ဘောလုံး အသင်း ပြိုင်ပွဲ
ရာသီ ဥတု ပူ အေး နွေ ဆောင်း မိုးရာသီ သတင်း စာမျက်နှာ ဓာတ်ပုံ ရုပ်ရှင် သီချင်း ဂီတ
""".split()
THAI_END = " "


@dataclass(frozen=True)
class Article:
    language: str
    market: str
    text: str


@dataclass(frozen=True)
class Row:
    terms: int
    build_seconds: float
    first_use_seconds: float  # the first match per language: loads the Thai dictionary
    adwatch_seconds: float
    adwatch_hits: int
    loop_seconds: float
    loop_share: float  # fraction of the corpus (a) really ran on
    regex_build_seconds: float
    regex_seconds: float
    regex_share: float


# --- the corpus -------------------------------------------------------------------------


def thai_vocabulary(rng: random.Random, size: int = 4000) -> list[str]:
    """A fixed sample of Thai dictionary words (2–12 characters)."""
    from pythainlp.corpus import thai_words

    words = sorted(w for w in thai_words() if 2 <= len(w) <= 12 and " " not in w)
    return rng.sample(words, size)


def _sentence(language: str, rng: random.Random, thai: list[str], plant: str | None) -> str:
    """One sentence of filler in the language, now and then with a Latin brand name.

    A planted term goes between two words, as an article would have it.
    """
    n = rng.randint(8, 20)
    if language == "th":
        words = [rng.choice(thai) for _ in range(n)]
    elif language == "my":
        words = [rng.choice(BURMESE_WORDS) for _ in range(n)]
    else:
        words = [
            rng.choice(VIETNAMESE_SYLLABLES if language == "vi" else ENGLISH_WORDS)
            for _ in range(n)
        ]
    if rng.random() < 0.3:
        brand = rng.choice(BRANDS)
        words.insert(rng.randrange(len(words)), f" {brand} " if language == "th" else brand)
    if plant is not None:
        words.insert(rng.randrange(1, len(words)), plant)
    if language == "th":
        return "".join(words) + THAI_END  # Thai separates sentences, not words, with a space
    if language == "my":
        return " ".join(words) + "။ "
    words[0] = words[0][:1].upper() + words[0][1:]
    return " ".join(words) + ". "


def build_corpus(
    total_bytes: int, planted: Sequence[tuple[str, str]], rng: random.Random
) -> list[Article]:
    """Articles of about ARTICLE_BYTES each, languages in turn, terms planted."""
    thai = thai_vocabulary(rng)
    articles: list[Article] = []
    produced = 0
    index = 0
    while produced < total_bytes:
        language = LANGUAGES[index % len(LANGUAGES)]
        index += 1
        parts: list[str] = []
        size = 0
        next_plant = rng.randint(PLANT_EVERY_BYTES // 2, PLANT_EVERY_BYTES * 3 // 2)
        while size < ARTICLE_BYTES:
            plant = None
            if size >= next_plant and planted:
                plant, _script = rng.choice(planted)
                next_plant = size + rng.randint(PLANT_EVERY_BYTES // 2, PLANT_EVERY_BYTES * 3 // 2)
            sentence = _sentence(language, rng, thai, plant)
            parts.append(sentence)
            size += len(sentence.encode("utf-8"))
        text = unicodedata.normalize("NFC", "".join(parts))
        articles.append(Article(language, MARKET_OF[language], text))
        produced += size
    return articles


# --- the terms --------------------------------------------------------------------------


def script_of(term: str) -> str:
    for char in term:
        if "\u0e00" <= char <= "\u0e7f":
            return "th"
        if "\u1000" <= char <= "\u109f":
            return "my"
    return "vi" if any(ord(c) > 0x7F for c in term) else "en"


def real_terms(config_path: Path) -> list[str]:
    """Every term of the shipped term-list watchlists (queries left out), in file order."""
    from adwatch.config import load_config

    config = load_config(config_path)
    terms = [t for w in config.watchlists if not w.query for t in w.all_terms()]
    return list(dict.fromkeys(terms))


def pick_planted(terms: Sequence[str], rng: random.Random) -> list[tuple[str, str]]:
    """PLANTED_TERMS real terms spread over the four scripts: the 10-term set."""
    by_script: dict[str, list[str]] = {s: [] for s in LANGUAGES}
    for term in terms:
        by_script[script_of(term)].append(term)
    quota = {"th": 3, "vi": 2, "my": 2, "en": 3}
    chosen: list[tuple[str, str]] = []
    for script, count in quota.items():
        pool = by_script[script]
        chosen += [(t, script) for t in rng.sample(pool, min(count, len(pool)))]
    return chosen


def generated_terms(count: int, rng: random.Random, thai: list[str]) -> list[str]:
    """Made-up watchlist phrases in the four scripts, in turn, unlikely to occur by chance."""
    makers: list[Callable[[], str]] = [
        lambda: rng.choice(thai) + rng.choice(thai),
        lambda: " ".join(rng.choice(VIETNAMESE_SYLLABLES) for _ in range(3)),
        lambda: "".join(rng.choice(BURMESE_WORDS) for _ in range(3)),
        lambda: " ".join(rng.choice(ENGLISH_WORDS) for _ in range(3)),
    ]
    seen: set[str] = set()
    terms: list[str] = []
    while len(terms) < count:
        term = makers[len(terms) % len(makers)]()
        if term.lower() not in seen:
            seen.add(term.lower())
            terms.append(term)
    return terms


def term_sets(
    sizes: Sequence[int], planted: Sequence[str], real: Sequence[str], generated: Sequence[str]
) -> dict[int, list[str]]:
    """Nested term lists: the planted terms first, then the other real terms, then generated."""
    pool = list(dict.fromkeys([*planted, *real, *generated]))
    if len(pool) < max(sizes):
        raise SystemExit(f"only {len(pool)} distinct terms for a set of {max(sizes)}")
    return {size: pool[:size] for size in sizes}


def watchlists_for(terms: Sequence[str]) -> list[Any]:
    """Plain term watchlists of TERMS_PER_WATCHLIST terms each, every market, every language."""
    from adwatch.models import Watchlist

    return [
        Watchlist(
            name=f"bench-{i // TERMS_PER_WATCHLIST:04d}",
            category="bench",
            severity="low",
            terms={"any": tuple(terms[i : i + TERMS_PER_WATCHLIST])},
        )
        for i in range(0, len(terms), TERMS_PER_WATCHLIST)
    ]


# --- the three matchers -----------------------------------------------------------------


def time_adwatch(
    terms: Sequence[str], articles: Sequence[Article], repeat: int
) -> tuple[float, float, float, int]:
    """(build seconds, first-use seconds, best match seconds over the corpus, hits)."""
    from adwatch.match import Matcher

    started = time.perf_counter()
    matcher = Matcher.build(watchlists_for(terms))
    build = time.perf_counter() - started
    # A short piece of one article per language first, timed apart: the Thai dictionary
    # (with every Thai term added) loads on first use.
    started = time.perf_counter()
    for language in LANGUAGES:
        sample = next(a for a in articles if a.language == language)
        matcher.match(sample.text[:2000], market=sample.market, language=sample.language)
    first_use = time.perf_counter() - started
    best = float("inf")
    hits = 0
    for _ in range(repeat):
        started = time.perf_counter()
        hits = 0
        for article in articles:
            hits += len(
                matcher.match(article.text, market=article.market, language=article.language)
            )
        best = min(best, time.perf_counter() - started)
    return build, first_use, best, hits


def time_normalize(articles: Sequence[Article], repeat: int) -> float:
    """Best seconds for `textnorm.normalize` over the corpus: adwatch's cost before any term."""
    from adwatch.text.normalize import normalize

    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for article in articles:
            normalize(article.text)
        best = min(best, time.perf_counter() - started)
    return best


def _timed_share(
    articles: Sequence[Article], run_one: Callable[[str], object], budget: float
) -> tuple[float, float]:
    """(seconds for the whole corpus, share really run): extrapolated past the budget."""
    total = sum(len(a.text.encode("utf-8")) for a in articles)
    done = 0
    started = time.perf_counter()
    elapsed = 0.0
    for article in articles:
        run_one(article.text)
        done += len(article.text.encode("utf-8"))
        elapsed = time.perf_counter() - started
        if elapsed > budget:
            break
    share = done / total
    return elapsed / share, share


def time_loop(
    terms: Sequence[str], articles: Sequence[Article], budget: float
) -> tuple[float, float]:
    lowered_terms = [t.lower() for t in terms]

    def run_one(text: str) -> list[str]:
        lowered = text.lower()
        return [t for t in lowered_terms if t in lowered]

    return _timed_share(articles, run_one, budget)


def time_regex(
    terms: Sequence[str], articles: Sequence[Article], budget: float
) -> tuple[float, float, float]:
    started = time.perf_counter()
    # Longest first, so a term is not shadowed by one of its own prefixes.
    pattern = re.compile(
        "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)), re.IGNORECASE
    )
    build = time.perf_counter() - started

    def run_one(text: str) -> int:
        return sum(1 for _ in pattern.finditer(text))

    seconds, share = _timed_share(articles, run_one, budget)
    return build, seconds, share


# --- output -----------------------------------------------------------------------------


def render(
    rows: Sequence[Row], corpus_bytes: int, articles: int, budget: float, normalize_seconds: float
) -> str:
    base = rows[0].adwatch_seconds
    lines = [
        f"corpus: {corpus_bytes / 1e6:.1f} MB UTF-8 in {articles} articles of ~{ARTICLE_BYTES // 1000} KB "
        f"(th, vi, my, en in turn), seed {SEED}",
        f"adwatch's fixed cost, textnorm.normalize over the corpus: {normalize_seconds:.3f} s",
        "",
        f"{'terms':>6} {'build s':>8} {'1st use':>8} {'match s':>8} {'hits':>6} {'vs 10':>6}   "
        f"{'(a) loop s':>11} {'(a)/adw':>8}   {'(b) regex s':>11} {'(b)/adw':>8}",
    ]
    extrapolated = False
    for row in rows:
        loop_mark = "*" if row.loop_share < 1 else " "
        regex_mark = "*" if row.regex_share < 1 else " "
        extrapolated |= row.loop_share < 1 or row.regex_share < 1
        lines.append(
            f"{row.terms:>6} {row.build_seconds:>8.3f} {row.first_use_seconds:>8.3f} "
            f"{row.adwatch_seconds:>8.3f} "
            f"{row.adwatch_hits:>6} {row.adwatch_seconds / base:>5.2f}x   "
            f"{row.loop_seconds:>10.3f}{loop_mark} {row.loop_seconds / row.adwatch_seconds:>7.2f}x   "
            f"{row.regex_seconds:>10.3f}{regex_mark} {row.regex_seconds / row.adwatch_seconds:>7.2f}x"
        )
    lines.append("")
    lines.append(
        "adwatch: Matcher.build once; '1st use' is the first short match per language "
        "(loads the Thai dictionary); match s is the best of --repeat runs over every article. "
        "(b)'s compile time is not in its column."
    )
    if extrapolated:
        lines.append(
            f"* timed on the first articles only (about {budget:.0f} s of work) and extrapolated "
            "linearly to the whole corpus by bytes."
        )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a 500 KB corpus instead of 5 MB")
    parser.add_argument("--megabytes", type=float, help="corpus size in MB of UTF-8 (default 5)")
    parser.add_argument("--sizes", default="10,1000,10000", help="term counts, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="adwatch runs per size (best kept)")
    parser.add_argument(
        "--budget", type=float, default=10.0, help="seconds (a) or (b) may run before extrapolating"
    )
    parser.add_argument("--config", type=Path, default=SHIPPED_CONFIG, help="source of real terms")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    megabytes = args.megabytes or (0.5 if args.quick else 5.0)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    rng = random.Random(SEED)
    real = real_terms(args.config)
    planted = pick_planted(real, rng)
    articles = build_corpus(int(megabytes * 1_000_000), planted, rng)
    corpus_bytes = sum(len(a.text.encode("utf-8")) for a in articles)
    generated = generated_terms(max(sizes), rng, thai_vocabulary(random.Random(SEED + 1)))
    sets = term_sets(sizes, [t for t, _ in planted], real, generated)
    normalize_seconds = time_normalize(articles, args.repeat)
    rows = []
    for size in sizes:
        terms = sets[size]
        build, first_use, seconds, hits = time_adwatch(terms, articles, args.repeat)
        loop_seconds, loop_share = time_loop(terms, articles, args.budget)
        regex_build, regex_seconds, regex_share = time_regex(terms, articles, args.budget)
        rows.append(
            Row(
                terms=size,
                build_seconds=build,
                first_use_seconds=first_use,
                adwatch_seconds=seconds,
                adwatch_hits=hits,
                loop_seconds=loop_seconds,
                loop_share=loop_share,
                regex_build_seconds=regex_build,
                regex_seconds=regex_seconds,
                regex_share=regex_share,
            )
        )
        print(f"  {size} terms done", file=sys.stderr)
    if args.json:
        document = {
            "corpus_bytes": corpus_bytes,
            "articles": len(articles),
            "seed": SEED,
            "real_terms": len(real),
            "normalize_seconds": normalize_seconds,
            "rows": [row.__dict__ for row in rows],
        }
        print(json.dumps(document, indent=2))
    else:
        print(render(rows, corpus_bytes, len(articles), args.budget, normalize_seconds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
