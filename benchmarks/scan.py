"""Scan speed: a first scan against one request at a time and against the physical limit,
and a re-run with nothing new, each a real `adwatch scan` process (process start counted).

Serves generated feeds and article pages (Thai, Vietnamese, Burmese, English) from ten
loopback addresses (127.0.0.11-20, so the per-host limit applies as it would to ten news
sites), with a fixed latency added to every request. The server speaks HTTP/1.1 with
keep-alive and answers a feed's conditional GET with 304, as news sites do. In one run:

- first scan: `adwatch scan --quiet` with the default limits (16 in flight, 2 per host)
  on a fresh store;
- re-run: the same command on the same store, with nothing new (one conditional GET per
  feed, answered 304; robots.txt is kept from the first scan, so not asked again);
- sequential: the first scan one request at a time (concurrency 1, per_host 1);
- worker CPU: in this process, without network, the CPU time of what the scan's worker
  processes do (parse each feed; extract, convert Zawgyi, detect the language and match
  each page) over the same bodies.

The physical limit is max(requests x latency / concurrency, worker CPU / cores): the
scan can go no faster than its requests allow, nor than its CPU work spread over every
core. Wall and CPU times of each `adwatch` process are reported; the worker processes'
CPU is counted by adopting them (Linux's child subreaper) so that they can be reaped here.

Usage: python benchmarks/scan.py [--feeds 40] [--articles 20] [--latency 0.05]
           [--repeat 3] [--no-sequential] [--json]
"""

from __future__ import annotations

import argparse
import ctypes
import hashlib
import json
import os
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HOSTS = [f"127.0.0.{i}" for i in range(11, 21)]
CONCURRENCY = 16  # the scan's default fetch.concurrency
WORDS = {
    "th": "ตำรวจ เตือน ประชาชน ระวัง โฆษณา หลอกลวง ลงทุน ออนไลน์ เว็บพนัน ข่าว รัฐบาล เศรษฐกิจ".split(),
    "vi": "cảnh báo người dân quảng cáo lừa đảo đầu tư trực tuyến cờ bạc kinh tế chính phủ".split(),
    "my": "ရန်ကုန် ကြော်ငြာ လောင်းကစား အွန်လိုင်း ရွေးကောက်ပွဲ သတင်း စီးပွားရေး အစိုးရ".split(),
    "en": "police warn public scam ads investment online gambling economy government deepfake".split(),
}
LANGS = list(WORDS)


def _sentence(rng: random.Random, lang: str, n: int) -> str:
    sep = "" if lang == "th" else " "
    return sep.join(rng.choice(WORDS[lang]) for _ in range(n))


def feed_body(host: str, feed: str, articles: int) -> bytes:
    items = "".join(
        f"<item><title>Story {feed} {i}</title><link>http://{host}/{feed}/{i}.html</link>"
        f"<guid>{host}/{feed}/{i}</guid><pubDate>Tue, 24 Nov 2026 08:{i:02d}:00 +0700</pubDate>"
        "</item>"
        for i in range(articles)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{feed}</title>'
        f"<link>http://{host}/</link><description>d</description>{items}</channel></rss>"
    ).encode()


def page_body(feed: str, name: str) -> bytes:
    rng = random.Random(f"{feed}/{name}")
    lang = LANGS[int(feed.split("-")[1]) % 4]
    paragraphs = "".join(f"<p>{_sentence(rng, lang, 40)}</p>" for _ in range(8))
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{name}</title>'
        f"</head><body><nav><a href='/'>Home</a></nav><article><h1>{_sentence(rng, lang, 6)}</h1>"
        f"{paragraphs}</article><footer>Copyright</footer></body></html>"
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    # Keep-alive, as news sites serve: a client that returns connections to its pool
    # saves a TCP handshake per request.
    protocol_version = "HTTP/1.1"
    latency = 0.05
    articles = 20
    counter: list[int] = [0]
    counter_lock = threading.Lock()

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without this, Nagle's algorithm holds the
        # body until the client's delayed ACK of the headers, 40 ms a response on keep-alive.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        with self.counter_lock:
            self.counter[0] += 1
        time.sleep(self.latency)
        host = self.headers.get("Host", "")
        parts = self.path.strip("/").split("/")
        if self.path == "/robots.txt":
            return self._send(b"User-agent: *\nAllow: /\n", "text/plain")
        if len(parts) == 2 and parts[1] == "feed.xml":
            body = feed_body(host, parts[0], self.articles)
            etag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'
            if self.headers.get("If-None-Match") == etag:
                return self._send(b"", "", status=304, etag=etag)
            return self._send(body, "application/rss+xml", etag=etag)
        if len(parts) == 2 and parts[1].endswith(".html"):
            return self._send(page_body(parts[0], parts[1]), "text/html; charset=utf-8")
        self.send_error(404)

    def _send(self, body: bytes, content_type: str, *, status: int = 200, etag: str = "") -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        if etag:
            self.send_header("ETag", etag)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _serve(latency: float, articles: int) -> tuple[list[ThreadingHTTPServer], list[int]]:
    counter = [0]
    handler = type(
        "Handler", (_Handler,), {"latency": latency, "articles": articles, "counter": counter}
    )
    servers = []
    for host in HOSTS:
        server = ThreadingHTTPServer((host, 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    return servers, counter


def _feed_url(servers: list[ThreadingHTTPServer], i: int) -> str:
    host, port = servers[i % len(servers)].server_address[:2]
    return f"http://{host}:{port}/feed-{i}/feed.xml"


def _config(
    folder: Path, servers: list[ThreadingHTTPServer], feeds: int, *, sequential: bool
) -> Path:
    fetch = "  concurrency: 1\n  per_host: 1\n" if sequential else ""
    lines = [
        "version: 1",
        "store: adwatch.db",
        f"fetch:\n  timeout: 20\n{fetch}".rstrip(),
        "markets:\n  TH: {name: Thailand}\nsources:",
    ]
    for i in range(feeds):
        lines.append(f"  - {{name: feed-{i}, url: '{_feed_url(servers, i)}', market: TH}}")
    lines.append(
        "watchlists:\n  - name: scam\n    terms:\n      en: [scam ads, deepfake]\n"
        "      th: [โฆษณาหลอกลวง, เว็บพนัน]\n      vi: [quảng cáo lừa đảo]\n      my: [လောင်းကစား]"
    )
    path = folder / "feeds.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- running `adwatch scan` and counting its CPU -----------------------------------------


@dataclass(frozen=True)
class Run:
    wall: float  # seconds, process start to exit
    cpu_main: float  # user + system seconds of the adwatch process itself
    cpu_all: float | None  # with its forkserver and workers; None where they cannot be reaped
    requests: int  # HTTP requests the server answered


def _adopt_orphans() -> bool:
    """Become the reaper of our descendants' orphans (Linux): the forkserver and the pool
    workers outlive `adwatch`'s own wait, and their CPU is counted only once reaped."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_child_subreaper = 36
    return bool(libc.prctl(pr_set_child_subreaper, 1, 0, 0, 0) == 0)


def _reap_orphans() -> None:
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _adwatch_command() -> list[str]:
    # The console script, as users and cron run it (its start-up differs from `-m`).
    script = Path(sys.executable).with_name("adwatch")
    if script.exists():
        return [str(script)]
    found = shutil.which("adwatch")
    if found is None:
        raise SystemExit("adwatch is not installed: pip install -e . first")
    return [found]


def _run_adwatch(config: Path, counter: list[int], *, reaping: bool) -> Run:
    before_children = _children_cpu()
    before_requests = counter[0]
    # Output goes to a file, not a pipe: wait4 reads nothing, so a scan that wrote more
    # than a pipe holds would wait for us forever.
    with tempfile.TemporaryFile() as output:
        start = time.perf_counter()
        process = subprocess.Popen(
            [*_adwatch_command(), "-c", str(config), "scan", "--quiet"],
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, "NO_PROXY": "*"},
        )
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        said = output.read().decode(errors="replace")
    if process.returncode != 0:
        raise SystemExit(f"adwatch scan exited {process.returncode}: {said[-2000:]}")
    cpu_all = None
    if reaping:
        _reap_orphans()
        cpu_all = _children_cpu() - before_children
    return Run(
        wall=wall,
        cpu_main=usage.ru_utime + usage.ru_stime,
        cpu_all=cpu_all,
        requests=counter[0] - before_requests,
    )


def _check_store(folder: Path, articles: int) -> None:
    import sqlite3

    with sqlite3.connect(folder / "adwatch.db") as db:
        stored = db.execute("select count(*) from articles where extractor = 'trafilatura'")
        count = stored.fetchone()[0]
    if count != articles:
        raise SystemExit(f"benchmark scan stored {count} extracted articles, not {articles}")


# --- the CPU-only work of the workers ------------------------------------------------------


def worker_cpu_seconds(config_path: Path, feeds: int, articles: int) -> float:
    """CPU seconds, in one process, of the worker stage over every feed and page body."""
    from adwatch.config import load_config
    from adwatch.models import FetchResult
    from adwatch.pipeline import ArticleJob, _init_worker, parse_source_body, prepare_article

    config = load_config(config_path)
    _init_worker(config.watchlists)
    feed_results = []
    for i in range(feeds):
        url = config.sources[i].url
        host = url.split("/")[2]
        body = feed_body(host, f"feed-{i}", articles)
        headers = {"content-type": "application/rss+xml"}
        feed_results.append(FetchResult(url, url, 200, headers, body))
    html = {"content-type": "text/html; charset=utf-8"}

    def one_feed(result: FetchResult) -> None:
        for entry in parse_source_body("rss", result).entries:
            feed, name = entry.url.split("/")[-2:]
            page = FetchResult(entry.url, entry.url, 200, html, page_body(feed, name))
            job = ArticleJob(
                source="bench",
                market="TH",
                language_hint=None,
                entry=entry,
                page=page,
                page_error=None,
                fetched_at="2026-11-24T00:00:00Z",
            )
            prepare_article(job)

    for result in feed_results[:4]:  # warm up: dictionaries and models load on first use
        one_feed(result)
    start = time.process_time()
    for result in feed_results:
        one_feed(result)
    return time.process_time() - start


# --- the report ---------------------------------------------------------------------------


def _summary(runs: list[Run]) -> dict[str, float | None]:
    walls = [r.wall for r in runs]
    cpu_all = [r.cpu_all for r in runs if r.cpu_all is not None]
    return {
        "wall_best": min(walls),
        "wall_median": statistics.median(walls),
        "cpu_main_median": statistics.median(r.cpu_main for r in runs),
        "cpu_all_median": statistics.median(cpu_all) if cpu_all else None,
    }


def _compile_bytecode() -> None:
    """Give adwatch's modules their .pyc files, as `pip install .` does.

    An editable install run with PYTHONDONTWRITEBYTECODE set (as in some CI images and
    this one) compiles adwatch's 23 modules from source at every start, about 50 ms that
    no installed adwatch spends; a re-run would be measured with it.
    """
    import compileall

    import adwatch

    compileall.compile_dir(Path(adwatch.__file__).parent, quiet=1)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--feeds", type=int, default=40)
    parser.add_argument("--articles", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--repeat", type=int, default=3, help="first scan + re-run pairs")
    parser.add_argument("--no-sequential", action="store_true", help="skip the slow baseline")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    _compile_bytecode()
    try:
        socket.create_server((HOSTS[-1], 0)).close()
    except OSError as exc:
        raise SystemExit(f"cannot listen on {HOSTS[-1]}: {exc}") from exc
    reaping = _adopt_orphans()
    pages = args.feeds * args.articles
    servers, counter = _serve(args.latency, args.articles)
    firsts: list[Run] = []
    reruns: list[Run] = []
    sequential: Run | None = None
    try:
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as name:
                folder = Path(name)
                config = _config(folder, servers, args.feeds, sequential=False)
                firsts.append(_run_adwatch(config, counter, reaping=reaping))
                _check_store(folder, pages)
                reruns.append(_run_adwatch(config, counter, reaping=reaping))
        if not args.no_sequential:
            with tempfile.TemporaryDirectory() as name:
                config = _config(Path(name), servers, args.feeds, sequential=True)
                sequential = _run_adwatch(config, counter, reaping=reaping)
                _check_store(Path(name), pages)
        with tempfile.TemporaryDirectory() as name:
            config = _config(Path(name), servers, args.feeds, sequential=False)
            worker_cpu = worker_cpu_seconds(config, args.feeds, args.articles)
    finally:
        for server in servers:
            server.shutdown()

    cores = os.cpu_count() or 1
    requests = firsts[0].requests
    network_limit = requests * args.latency / CONCURRENCY
    cpu_limit = worker_cpu / cores
    limit = max(network_limit, cpu_limit)
    first, rerun = _summary(firsts), _summary(reruns)
    figures: dict[str, Any] = {
        "feeds": args.feeds,
        "pages": pages,
        "latency_s": args.latency,
        "cores": cores,
        "load_average_1m": os.getloadavg()[0],
        "requests_first": requests,
        "requests_rerun": reruns[0].requests,
        "network_limit_s": network_limit,
        "worker_cpu_s": worker_cpu,
        "cpu_limit_s": cpu_limit,
        "limit_s": limit,
        "first": first,
        "rerun": rerun,
        "sequential": asdict(sequential) if sequential else None,
        "first_runs": [asdict(r) for r in firsts],
        "rerun_runs": [asdict(r) for r in reruns],
    }
    best = min(r.wall for r in firsts)
    median = statistics.median(r.wall for r in firsts)
    figures["limit_ratio_best"] = limit / best
    figures["limit_ratio_median"] = limit / median
    figures["rerun_ratio_median"] = statistics.median(
        rr.wall / fr.wall for fr, rr in zip(firsts, reruns, strict=True)
    )
    if sequential:
        figures["speedup_best"] = sequential.wall / best
        figures["speedup_median"] = sequential.wall / median
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    _print_report(figures, firsts, reruns, sequential)


def _print_report(
    figures: dict[str, Any], firsts: list[Run], reruns: list[Run], sequential: Run | None
) -> None:
    f = figures
    print(
        f"{f['feeds']} feeds x {f['pages']} pages, {f['latency_s'] * 1000:.0f} ms latency"
        f" per request, {f['cores']} cores, load average {f['load_average_1m']:.2f}"
    )
    print(
        f"limit {f['limit_s']:.2f} s = max(network {f['requests_first']} requests x latency"
        f" / {CONCURRENCY} = {f['network_limit_s']:.2f} s,"
        f" worker CPU {f['worker_cpu_s']:.2f} s / {f['cores']} cores = {f['cpu_limit_s']:.2f} s)"
    )
    print(f"{'run':<28}{'wall s':>9}{'CPU main':>10}{'CPU all':>9}{'requests':>10}")

    def row(label: str, run: Run) -> None:
        cpu_all = f"{run.cpu_all:9.2f}" if run.cpu_all is not None else f"{'n/a':>9}"
        print(f"{label:<28}{run.wall:>9.2f}{run.cpu_main:>10.2f}{cpu_all}{run.requests:>10}")

    for i, (first, rerun) in enumerate(zip(firsts, reruns, strict=True), 1):
        row(f"first scan #{i}", first)
        row(f"re-run, nothing new #{i}", rerun)
    if sequential:
        row("one request at a time", sequential)
    print(
        f"first scan: {f['limit_ratio_best']:.0%} of the limit (best),"
        f" {f['limit_ratio_median']:.0%} (median)"
    )
    if sequential:
        print(
            f"speed-up over one request at a time: {f['speedup_best']:.1f}x (best),"
            f" {f['speedup_median']:.1f}x (median)"
        )
    print(f"re-run / first scan: {f['rerun_ratio_median']:.1%} (median of the pairs)")


if __name__ == "__main__":
    main()
