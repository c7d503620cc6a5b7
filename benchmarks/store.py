"""Benchmark the analyst's queries on a big store, against the obvious alternatives.

    python benchmarks/store.py                 # 1 000 000 hits over 300 000 articles
    python benchmarks/store.py --articles 30000 --hits 100000   # a quick run

Generates (or reuses, with --reuse) a store in benchmarks/out/, then measures in
the same run:

- `hits` with common filters (the newest 50), against loading the hits table into
  Python and filtering and sorting there;
- `search` for Thai, English and Vietnamese words (FTS5 candidates, each verified
  with the watchlist matcher), against reading every article's text into Python
  and using `in`;
- `trends --days 30`, against counting in Python over every (day, market) row;
- `export` of every hit to CSV in a child process (peak RSS and time), against
  `SELECT` into a list, then writing the CSV.

Timings are the median of several runs in this process; peak RSS is the child's
ru_maxrss. Nothing here touches the network.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from adwatch.query import EXPORT_COLUMNS, hit_trends, list_hits, make_filters, search_articles
from adwatch.store import open_store
from adwatch.text.dates import iso_utc

HERE = Path(__file__).resolve().parent
DAYS = 90  # hits spread over the last 90 days

WORDS = {
    "th": (
        "ข่าว วันนี้ รัฐบาล ประกาศ โฆษณา ออนไลน์ หลอกลวง ผู้บริโภค ตำรวจ จับกุม แพลตฟอร์ม "
        "เฟซบุ๊ก ติ๊กต็อก การพนัน เว็บไซต์ ผิดกฎหมาย ลงทุน ปลอม ดารา คลิป เตือน ประชาชน "
        "ธนาคาร บัญชี เงิน ล้านบาท กระทรวง ดิจิทัล เลือกตั้ง หาเสียง พรรค การเมือง ร้องเรียน "
        "ตรวจสอบ บริษัท ค่าปรับ คณะกรรมการ สื่อสาร ความปลอดภัย ข้อมูล"
    ).split(),
    "vi": (
        "tin tức hôm nay chính phủ công bố quảng cáo trực tuyến lừa đảo người tiêu dùng "
        "công an bắt giữ nền tảng mạng xã hội cờ bạc trang web bất hợp pháp đầu tư giả mạo "
        "người nổi tiếng video cảnh báo ngân hàng tài khoản tiền tỷ đồng bộ thông tin "
        "bầu cử chính trị khiếu nại kiểm tra công ty xử phạt an toàn dữ liệu"
    ).split(),
    "my": (
        "သတင်း ယနေ့ အစိုးရ ကြေညာ ကြော်ငြာ အွန်လိုင်း လိမ်လည် စားသုံးသူ ရဲ ဖမ်းဆီး "
        "ပလက်ဖောင်း ဖေ့စ်ဘုတ် လောင်းကစား ဝက်ဘ်ဆိုက် တရားမဝင် ရင်းနှီးမြှုပ်နှံ အတု "
        "ဗီဒီယို သတိပေး ဘဏ် ငွေ ကျပ် ဝန်ကြီးဌာန ရွေးကောက်ပွဲ နိုင်ငံရေး တိုင်ကြား"
    ).split(),
    "en": (
        "news today government announces online advertising scam consumers police arrest "
        "platform facebook tiktok gambling website illegal investment fake celebrity video "
        "warning bank account money million ministry digital election political campaign "
        "complaint regulator fine company safety data deepfake crypto lottery betting ads "
        "report officials said week market users review policy content removed"
    ).split(),
}
SPACED = {"vi", "en"}
MARKETS = {"th": "TH", "vi": "VN", "my": "MM", "en": "TH"}
WATCHLISTS = [
    ("scam-ads", "fraud", "high"),
    ("deepfake-investment-ads", "fraud", "critical"),
    ("illegal-gambling-ads", "gambling", "high"),
    ("online-lottery", "gambling", "medium"),
    ("election-political-ads", "elections", "critical"),
    ("regulator-fines", "regulation", "medium"),
    ("platform-complaints", "regulation", "low"),
    ("fake-celebrity-endorsement", "fraud", "high"),
    ("crypto-promotions", "finance", "medium"),
    ("data-privacy", "privacy", "low"),
    ("loan-sharks", "finance", "high"),
    ("health-claims", "health", "medium"),
]
STATUSES = ["new"] * 85 + ["reviewing"] * 6 + ["escalated"] * 4 + ["dismissed"] * 5
LANGUAGE_MIX = ["th"] * 30 + ["vi"] * 30 + ["my"] * 15 + ["en"] * 25


# Syllables to make a large synthetic vocabulary per language, so that the
# trigram index and word frequencies look like news, not like a 40-word loop.
SYLLABLES = {
    "th": [c + v for c in "กขคงจชซดตถทนบปผพฟมยรลวสหอ" for v in ("า", "ิ", "ี", "ุ", "ู", "ั", "ำ", "")],
    "vi": [o + r for o in ("b", "c", "d", "đ", "g", "h", "l", "m", "n", "ng", "nh", "ph", "t", "th",
                           "tr", "v", "x")
           for r in ("a", "à", "á", "ạ", "ăn", "ân", "ê", "ế", "in", "o", "ô", "ơ", "u", "ư",
                     "ương", "iệt", "ước", "anh", "ông")],
    "my": [c + v for c in "ကခဂငစဆဇညတထဒနပဖဗဘမယရလဝသဟအ" for v in ("ာ", "ိ", "ီ", "ု", "ူ", "ေ", "ဲ", "င်", "")],
    "en": [c + v for c in ("b", "c", "d", "f", "g", "l", "m", "n", "p", "r", "s", "t", "v", "st",
                           "tr", "pl") for v in ("a", "e", "i", "o", "u", "er", "on", "al", "ing")],
}  # fmt: skip
VOCABULARY = 5000  # synthetic words per language, drawn with Zipf-like frequencies
REAL_WORD_SHARE = 0.04  # of word slots filled from WORDS: each real word in ~6% of articles


class _Vocabulary:
    def __init__(self, rng: random.Random, language: str) -> None:
        syllables = SYLLABLES[language]
        words = {
            "".join(rng.choice(syllables) for _ in range(rng.randint(1, 3)))
            for _ in range(VOCABULARY * 2)
        }
        self.words = sorted(words)[:VOCABULARY]
        rng.shuffle(self.words)
        weights = [1 / (rank + 1) for rank in range(len(self.words))]
        self.cumulative = list(itertools.accumulate(weights))
        self.real = WORDS[language]

    def draw(self, rng: random.Random, count: int) -> list[str]:
        words = rng.choices(self.words, cum_weights=self.cumulative, k=count)
        for i in range(count):
            if rng.random() < REAL_WORD_SHARE:
                words[i] = rng.choice(self.real)
        return words


def _text(rng: random.Random, vocabulary: _Vocabulary, language: str, words: int) -> str:
    picked = vocabulary.draw(rng, words)
    if language in SPACED:
        return " ".join(picked)
    # Thai and Burmese: no spaces inside a phrase, a space between phrases.
    return " ".join("".join(picked[i : i + 5]) for i in range(0, len(picked), 5))


def _article_rows(rng: random.Random, count: int, now: datetime) -> Iterator[tuple[Any, ...]]:
    vocabularies = {language: _Vocabulary(rng, language) for language in WORDS}
    for article_id in range(1, count + 1):
        language = rng.choice(LANGUAGE_MIX)
        market = MARKETS[language] if language != "en" else rng.choice(["TH", "VN", "MM"])
        fetched = now - timedelta(seconds=rng.randrange(DAYS * 86_400))
        published = fetched - timedelta(minutes=rng.randrange(600))
        source = f"{market.lower()}-source-{rng.randrange(15)}"
        yield (
            article_id,
            f"https://news.example/{source}/{article_id}",
            source,
            market,
            _text(rng, vocabularies[language], language, 8),
            _text(rng, vocabularies[language], language, 60),
            language,
            iso_utc(published),
            iso_utc(fetched),
            f"{article_id:032x}",
            "trafilatura",
        )


def generate(path: Path, *, articles: int, hits: int, seed: int = 7) -> None:
    """Write a store at `path` with `articles` articles and about `hits` hits."""
    if path.exists():
        path.unlink()
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    store = open_store(path)
    conn = store.db.conn
    rng = random.Random(seed)
    now = datetime.now(UTC)
    per_article = hits / articles
    conn.execute("PRAGMA synchronous = OFF")
    # Fill the FTS index in one rebuild at the end instead of row by row.
    triggers = [
        row[0]
        for row in conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'articles' "
            "AND name IN ('articles_ai', 'articles_ad', 'articles_au')"
        )
    ]
    for name in ("articles_ai", "articles_ad", "articles_au"):
        conn.execute(f"DROP TRIGGER IF EXISTS {name}")
    sources: set[tuple[str, str]] = set()
    hit_id = 0
    batch_articles: list[tuple[Any, ...]] = []
    batch_hits: list[tuple[Any, ...]] = []

    def flush() -> None:
        with conn:
            conn.executemany(
                "INSERT INTO articles (id, url, source, market, title, text, language, "
                "published_at, fetched_at, content_hash, extractor) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                batch_articles,
            )
            conn.executemany(
                "INSERT INTO hits (id, article_id, watchlist, category, severity, term, "
                'matched_text, start, "end", snippet, market, language, found_at, status, '
                "source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                batch_hits,
            )
        batch_articles.clear()
        batch_hits.clear()

    for row in _article_rows(rng, articles, now):
        batch_articles.append(row)
        sources.add((row[2], row[3]))
        text, language, fetched = row[5], row[6], row[8]
        count = max(1, round(rng.expovariate(1 / per_article))) if hit_id < hits else 0
        for k in range(min(count, hits - hit_id)):
            hit_id += 1
            watchlist, category, severity = rng.choice(WATCHLISTS)
            start = rng.randrange(max(1, len(text) - 12))
            matched = text[start : start + 10]
            batch_hits.append(
                (
                    hit_id, row[0], watchlist, category, severity, f"term-{k}", matched,
                    start, start + 10, text[max(0, start - 60) : start + 70], row[3],
                    language, fetched, rng.choice(STATUSES), row[2],
                )
            )  # fmt: skip
        if len(batch_articles) >= 20_000:
            flush()
    flush()
    with conn:
        conn.executemany(
            "INSERT OR IGNORE INTO sources (name, url, market) VALUES (?, ?, ?)",
            [(name, f"https://news.example/{name}/rss", market) for name, market in sources],
        )
        conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')")
        for sql in triggers:
            conn.execute(sql)
    # No ANALYZE: a store made by scans has no statistics either, and the plans
    # measured here must be the ones analysts get.
    conn.execute("PRAGMA synchronous = NORMAL")
    store.close()


# --- measuring ----------------------------------------------------------------------


def _median_ms(run: Callable[[], object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _child(code: str, db: Path) -> tuple[float, float]:
    """Run `code` in a fresh Python; return (seconds, peak RSS in MB) of that child.

    The child reports its own VmHWM: ru_maxrss from wait4() would include the
    parent's memory, inherited at fork.
    """
    report = "\nprint(open('/proc/self/status').read().split('VmHWM:')[1].split()[0])"
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code + report, str(db)], capture_output=True, text=True, check=True
    )
    elapsed = time.perf_counter() - started
    return elapsed, int(done.stdout.split()[-1]) / 1024


_EXPORT_STREAMING = """
import sys
from adwatch.export import export_hits
from adwatch.query import Filters
from adwatch.store import open_store
with open_store(sys.argv[1], create=False) as store:
    export_hits(store, Filters(), fmt="csv", output=sys.argv[1] + ".stream.csv")
"""

_EXPORT_LIST = """
import csv, sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
rows = conn.execute(
    "SELECT h.id, h.found_at, a.published_at, h.market, h.language, h.watchlist, h.category, "
    "h.severity, h.term, h.matched_text, h.snippet, a.title, a.url, h.source, h.status, h.note, "
    "h.score "
    "FROM hits h JOIN articles a ON a.id = h.article_id ORDER BY h.found_at DESC"
).fetchall()
with open(sys.argv[1] + ".list.csv", "w", encoding="utf-8-sig", newline="") as out:
    writer = csv.writer(out)
    writer.writerow([d for d in "%s".split()])
    writer.writerows(rows)
"""


def _python_hits(conn: Any, market: str, since: str) -> list[tuple[Any, ...]]:
    rows = conn.execute("SELECT * FROM hits").fetchall()
    keep = [r for r in rows if r[10] == market and r[12] >= since]
    keep.sort(key=lambda r: r[12], reverse=True)
    return keep[:50]


def _python_search(conn: Any, word: str) -> list[int]:
    rows = conn.execute("SELECT id, title, text FROM articles").fetchall()
    return [r[0] for r in rows if word in r[1] or word in r[2]][:50]


def _python_trends(conn: Any, since: str) -> Counter[tuple[str, str]]:
    rows = conn.execute("SELECT found_at, market FROM hits").fetchall()
    return Counter((r[0][:10], r[1]) for r in rows if r[0] >= since)


def measure(db: Path) -> list[tuple[str, str, str, str]]:
    """Rows of (what, adwatch, obvious alternative, ratio)."""
    results: list[tuple[str, str, str, str]] = []
    store = open_store(db, create=False)
    conn = store.db.conn
    n_hits = conn.execute("SELECT COUNT(*) FROM hits").fetchone()[0]
    n_articles = conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    print(f"store: {n_hits:,} hits over {n_articles:,} articles, {db.stat().st_size / 1e6:.0f} MB")

    cases = {
        "hits --market TH --since 7d": make_filters(market=["TH"], since="7d"),
        "hits --severity high": make_filters(severity="high"),
        "hits --status new --market VN": make_filters(status=["new"], market=["VN"]),
        "hits --watchlist scam-ads --since 30d": make_filters(watchlist=["scam-ads"], since="30d"),
        "hits --market TH --market MM --severity critical": make_filters(
            market=["TH", "MM"], severity="critical"
        ),
        "hits --text หลอกลวง --since 24h": make_filters(text="หลอกลวง", since="24h"),
        "hits --text deepfake --since 24h": make_filters(text="deepfake", since="24h"),
        "hits --text lua --since 24h": make_filters(text="lua", since="24h"),
    }
    since_7d = make_filters(since="7d").since or ""
    alternative = _median_ms(lambda: _python_hits(conn, "TH", since_7d), repeat=1)
    for label, filters in cases.items():
        ms = _median_ms(lambda f=filters: list_hits(store, f, limit=50))
        results.append((label, f"{ms:.1f} ms", f"{alternative:.0f} ms", f"{alternative / ms:.0f}x"))

    for word in ("หลอกลวง", "regulator", "ข่าว OR news", "บน", "lừa", "lua", "ads"):
        ms = _median_ms(lambda w=word: search_articles(store, w, limit=50))
        alt = _median_ms(lambda w=word: _python_search(conn, w.split()[0]), repeat=1)
        results.append((f"search {word}", f"{ms:.1f} ms", f"{alt:.0f} ms", f"{alt / ms:.0f}x"))

    since_30d = make_filters(since="30d").since or ""
    ms = _median_ms(lambda: hit_trends(store, by="market", days=30), repeat=3)
    alt = _median_ms(lambda: _python_trends(conn, since_30d), repeat=1)
    results.append(("trends --days 30", f"{ms:.0f} ms", f"{alt:.0f} ms", f"{alt / ms:.1f}x"))
    store.close()

    command = [sys.executable, "-m", "adwatch", "--db", str(db), "hits", "--severity", "high"]
    whole = _median_ms(
        lambda: subprocess.run(
            command, capture_output=True, check=True, env={**os.environ, "COLUMNS": "120"}
        ),
        repeat=3,
    )
    startup = _median_ms(
        lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), repeat=3
    )
    results.append(
        ("`adwatch hits --severity high`, whole command", f"{whole:.0f} ms",
         f"{startup:.0f} ms (bare Python start)", "")
    )  # fmt: skip

    seconds, rss = _child(_EXPORT_STREAMING, db)
    alt_seconds, alt_rss = _child(_EXPORT_LIST % " ".join(EXPORT_COLUMNS), db)
    results.append(
        ("export CSV, all hits: time", f"{seconds:.1f} s", f"{alt_seconds:.1f} s",
         f"{alt_seconds / seconds:.1f}x")
    )  # fmt: skip
    results.append(
        ("export CSV, all hits: peak RSS", f"{rss:.0f} MB", f"{alt_rss:.0f} MB",
         f"{alt_rss / rss:.1f}x")
    )  # fmt: skip
    with open(str(db) + ".stream.csv", encoding="utf-8-sig", newline="") as handle:
        exported = sum(1 for _ in csv.reader(handle)) - 1
    if exported != n_hits:
        raise SystemExit(f"export wrote {exported} rows, the store has {n_hits} hits")
    for suffix in (".stream.csv", ".list.csv"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=300_000)
    parser.add_argument("--hits", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=HERE / "out" / "store-bench.db")
    parser.add_argument("--reuse", action="store_true", help="Keep an existing generated store.")
    args = parser.parse_args()
    args.db.parent.mkdir(parents=True, exist_ok=True)
    if not (args.reuse and args.db.exists()):
        started = time.perf_counter()
        generate(args.db, articles=args.articles, hits=args.hits)
        print(f"generated in {time.perf_counter() - started:.0f} s")
    rows = measure(args.db)
    print("\n| what | adwatch | obvious alternative | ratio |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n(this process peaked at {peak:.0f} MB, alternatives included)")


if __name__ == "__main__":
    main()
