"""Team scale: two scanners against one on a shared PostgreSQL store, and the analyst's
queries on PostgreSQL against SQLite.

    python benchmarks/teamscale.py --postgres 'postgresql://postgres@/postgres?host=/tmp/pg'

`--postgres` (or ADWATCH_TEST_POSTGRES) names a cluster where this user may create
databases; each measurement gets a new database, dropped afterwards. In one run:

1. Scanners. The generated loopback site of `benchmarks/scan.py` (ten hosts, feeds of
   Thai, Vietnamese, Burmese and English pages, a fixed latency per request) is
   scanned by real `adwatch scan --quiet` processes: one on a SQLite file, one on a
   new PostgreSQL database, and two started together on another new PostgreSQL
   database. The server counts every request per URL, so "fetched twice" is what the
   site saw, not what adwatch says: a feed or page asked for more than once.
2. Queries. The store of `benchmarks/store.py` is generated as a SQLite file, copied
   into PostgreSQL with `adwatch.migrate` (timed), and the library calls behind the
   commands of `benchmarks/store.py` are timed on both (median of 5 runs each).

Usage: python benchmarks/teamscale.py [--postgres URL] [--feeds 40] [--articles 10]
           [--latency 0.2] [--store-articles 30000] [--store-hits 100000] [--skip-queries]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql
from scan import HOSTS, _adwatch_command, _config, _Handler
from store import generate

from adwatch.migrate import migrate_store
from adwatch.query import hit_trends, list_hits, make_filters, search_articles
from adwatch.store import open_store

QUERY_REPEAT = 5


# --- a PostgreSQL database per measurement -------------------------------------------------


@contextmanager
def new_database(server: str) -> Iterator[str]:
    """The URL of a new database in the cluster at `server`, dropped afterwards."""
    name = f"adwatch_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit(urlsplit(server)._replace(path="/" + name))
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def _count(url: str, statement: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(statement).fetchone()  # type: ignore[arg-type]
    return int(row[0]) if row else 0


# --- the site, counting requests per URL ----------------------------------------------------


def serve(latency: float, articles: int) -> tuple[list[ThreadingHTTPServer], Counter[str]]:
    """`benchmarks/scan.py`'s site on its ten hosts, counting requests per host and path."""
    requests: Counter[str] = Counter()
    lock = threading.Lock()

    class Counting(_Handler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            with lock:
                requests[self.headers.get("Host", "") + self.path] += 1
            super().do_GET()

    handler = type(
        "Handler", (Counting,), {"latency": latency, "articles": articles, "counter": [0]}
    )
    servers = []
    for host in HOSTS:
        server = ThreadingHTTPServer((host, 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    return servers, requests


@dataclass(frozen=True)
class ScanRun:
    label: str
    scanners: int
    wall: float  # seconds from the first start to the last exit
    feeds_fetched: int  # distinct feed URLs requested
    pages_fetched: int  # distinct page URLs requested
    fetched_twice: int  # feed or page URLs requested more than once
    articles: int  # stored
    hits: int  # stored
    split: str  # sources each scanner fetched, from its run's row


def run_scanners(
    config: Path, store: str, scanners: int, requests: Counter[str]
) -> tuple[float, Counter[str]]:
    """Start `scanners` `adwatch scan` processes at once; wall time and the requests seen."""
    requests.clear()
    command = [*_adwatch_command(), "-c", str(config), "--db", store, "scan", "--quiet"]
    env = {**os.environ, "NO_PROXY": "*"}
    started = time.perf_counter()
    processes = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        for _ in range(scanners)
    ]
    for process in processes:
        stdout, stderr = process.communicate()
        if process.returncode != 0:
            raise SystemExit(
                f"adwatch scan exited {process.returncode}: {(stderr or stdout).decode()[-2000:]}"
            )
    return time.perf_counter() - started, Counter(requests)


def _split(url: str) -> str:
    """Sources each scanner fetched: its run's sources less those another one had."""
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT sources_ok + sources_failed, details FROM runs ORDER BY id")
        counts = [total - len(json.loads(details)["claimed_elsewhere"]) for total, details in rows]
    return " + ".join(str(count) for count in counts)


def _scan_run(
    label: str,
    scanners: int,
    wall: float,
    seen: Counter[str],
    articles: int,
    hits: int,
    split: str,
) -> ScanRun:
    fetched = {url: n for url, n in seen.items() if not url.endswith("/robots.txt")}
    return ScanRun(
        label=label,
        scanners=scanners,
        wall=wall,
        feeds_fetched=sum(1 for url in fetched if url.endswith("/feed.xml")),
        pages_fetched=sum(1 for url in fetched if url.endswith(".html")),
        fetched_twice=sum(1 for n in fetched.values() if n > 1),
        articles=articles,
        hits=hits,
        split=split,
    )


def measure_scanners(server: str, args: argparse.Namespace) -> list[ScanRun]:
    servers, requests = serve(args.latency, args.articles)
    runs: list[ScanRun] = []
    try:
        with tempfile.TemporaryDirectory() as name:
            folder = Path(name)
            config = _config(folder, servers, args.feeds, sequential=False)
            for _ in range(args.repeat):
                path = folder / f"sqlite-{len(runs)}.db"
                wall, seen = run_scanners(config, str(path), 1, requests)
                with open_store(path, create=False) as stored:
                    counts = stored.count_hits(make_filters())
                    articles = len(list(stored.export_rows("articles", ["id"])))
                runs.append(_scan_run("SQLite, 1 scanner", 1, wall, seen, articles, counts[0], ""))
                for scanners in (1, 2):
                    with new_database(server) as url:
                        wall, seen = run_scanners(config, url, scanners, requests)
                        articles = _count(url, "SELECT count(*) FROM articles")
                        hits = _count(url, "SELECT count(*) FROM hits")
                        split = _split(url)
                    label = f"PostgreSQL, {scanners} scanner{'s' if scanners > 1 else ''}"
                    runs.append(_scan_run(label, scanners, wall, seen, articles, hits, split))
    finally:
        for server_ in servers:
            server_.shutdown()
    return runs


# --- queries on both engines ---------------------------------------------------------------


def _median_ms(
    run: Callable[[], object], repeat: int = QUERY_REPEAT, before: Callable[[], object] = list
) -> float:
    run()  # warm: the first call loads the matcher on either engine
    times = []
    for _ in range(repeat):
        before()
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


HIT_CASES = {
    "hits --market TH --since 7d": {"market": ["TH"], "since": "7d"},
    "hits --severity high": {"severity": "high"},
    "hits --status new --market VN": {"status": ["new"], "market": ["VN"]},
    "hits --watchlist scam-ads --since 30d": {"watchlist": ["scam-ads"], "since": "30d"},
    "hits --market TH --market MM --severity critical": {
        "market": ["TH", "MM"],
        "severity": "critical",
    },
    "hits --text หลอกลวง --since 24h": {"text": "หลอกลวง", "since": "24h"},
    "hits --text deepfake --since 24h": {"text": "deepfake", "since": "24h"},
    "hits --text lua --since 24h": {"text": "lua", "since": "24h"},
}
SEARCHES = ("หลอกลวง", "regulator", "ข่าว OR news", "บน", "lừa", "lua", "ads")


def query_latencies(location: str) -> dict[str, float]:
    """Milliseconds per case (median) on the store at `location`."""
    latencies: dict[str, float] = {}
    with open_store(location, create=False) as opened:
        # PostgreSQL verifies `--text` before the query and remembers the answer until
        # the store next writes; a command asks once, so each timed run starts afresh.
        forget = getattr(opened, "_verified", {}).clear
        for label, options in HIT_CASES.items():
            filters = make_filters(**options)
            latencies[label] = _median_ms(
                lambda f=filters: list_hits(opened, f, limit=50), before=forget
            )
        for word in SEARCHES:
            latencies[f"search {word}"] = _median_ms(
                lambda w=word: search_articles(opened, w, limit=50)
            )
        latencies["trends --days 30"] = _median_ms(
            lambda: hit_trends(opened, by="market", days=30), repeat=3
        )
    return latencies


_EXPORT = """
import sys, time
from adwatch.export import export_hits
from adwatch.models import Filters
from adwatch.store import open_store
started = time.perf_counter()
with open_store(sys.argv[1], create=False) as store:
    count = export_hits(store, Filters(), fmt="csv", output=sys.argv[2])
rss = open('/proc/self/status').read().split('VmHWM:')[1].split()[0]
print(count, time.perf_counter() - started, int(rss) / 1024)
"""


def export_figures(location: str, output: Path) -> tuple[int, float, float]:
    """(rows, seconds, peak RSS MB) of exporting every hit to CSV in a new process."""
    done = subprocess.run(
        [sys.executable, "-c", _EXPORT, location, str(output)],
        capture_output=True,
        text=True,
        check=True,
    )
    rows, seconds, rss = done.stdout.split()
    output.unlink(missing_ok=True)
    return int(rows), float(seconds), float(rss)


def measure_queries(server: str, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as name, new_database(server) as url:
        path = Path(name) / "store-bench.db"
        started = time.perf_counter()
        generate(path, articles=args.store_articles, hits=args.store_hits)
        generated = time.perf_counter() - started
        started = time.perf_counter()
        with open_store(path, create=False) as source, open_store(url) as target:
            copies = migrate_store(source, target)
        copied = time.perf_counter() - started
        # A server's autovacuum analyzes tables after this much change; do it now so the
        # plans measured are the ones a running server settles on.
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("ANALYZE")
        sqlite_ms = query_latencies(str(path))
        postgres_ms = query_latencies(url)
        return {
            "generated_s": generated,
            "migrate_s": copied,
            "copied": {copy.table: copy.copied for copy in copies},
            "sqlite_ms": sqlite_ms,
            "postgres_ms": postgres_ms,
            "export_sqlite": export_figures(str(path), Path(name) / "sqlite.csv"),
            "export_postgres": export_figures(url, Path(name) / "postgres.csv"),
        }


# --- the report ---------------------------------------------------------------------------


def print_scans(runs: list[ScanRun], args: argparse.Namespace) -> None:
    print(
        f"\n{args.feeds} feeds x {args.articles} pages, {args.latency * 1000:.0f} ms a request, "
        f"{os.cpu_count()} cores shared by every scanner, load {os.getloadavg()[0]:.2f}\n"
    )
    print(
        "| scanners | wall s (median) | sources per scanner | feeds | pages | fetched twice "
        "| articles | hits |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for label in dict.fromkeys(run.label for run in runs):
        mine = [run for run in runs if run.label == label]
        walls = ", ".join(f"{run.wall:.1f}" for run in mine)
        last = mine[-1]
        print(
            f"| {label} | {statistics.median(r.wall for r in mine):.1f} ({walls}) | "
            f"{last.split or last.feeds_fetched} | {last.feeds_fetched} | {last.pages_fetched} | "
            f"{max(r.fetched_twice for r in mine)} | {last.articles} | {last.hits} |"
        )


def print_queries(figures: dict[str, Any], args: argparse.Namespace) -> None:
    copied = figures["copied"]
    print(
        f"\nstore: {copied['articles']:,} articles, {copied['hits']:,} hits; generated (SQLite) "
        f"in {figures['generated_s']:.0f} s, copied into PostgreSQL by adwatch.migrate in "
        f"{figures['migrate_s']:.0f} s\n"
    )
    print("| what | SQLite | PostgreSQL | PostgreSQL / SQLite |\n|---|---|---|---|")
    for label, lite in figures["sqlite_ms"].items():
        pg = figures["postgres_ms"][label]
        print(f"| {label} | {lite:.1f} ms | {pg:.1f} ms | {pg / lite:.1f}x |")
    for what, index in (("time", 1), ("peak RSS", 2)):
        lite, pg = figures["export_sqlite"][index], figures["export_postgres"][index]
        unit = "s" if index == 1 else "MB"
        print(f"| export CSV, all hits: {what} | {lite:.1f} {unit} | {pg:.1f} {unit} | "
              f"{pg / lite:.1f}x |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", default=os.environ.get("ADWATCH_TEST_POSTGRES", ""))
    parser.add_argument("--feeds", type=int, default=40)
    parser.add_argument("--articles", type=int, default=10, help="pages per feed")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per request")
    parser.add_argument("--repeat", type=int, default=3, help="scan measurements of each kind")
    parser.add_argument("--store-articles", type=int, default=30_000)
    parser.add_argument("--store-hits", type=int, default=100_000)
    parser.add_argument("--skip-queries", action="store_true")
    parser.add_argument("--skip-scans", action="store_true")
    args = parser.parse_args()
    if not args.postgres:
        raise SystemExit("give --postgres URL (a cluster where this user may create databases)")
    if not args.skip_scans:
        print_scans(measure_scanners(args.postgres, args), args)
    if not args.skip_queries:
        print_queries(measure_queries(args.postgres, args), args)


if __name__ == "__main__":
    main()
