"""Scan wall time: 50 feeds x 20 articles with 50 ms of server latency per request.

Serves generated feeds and article pages (Thai, Vietnamese, Burmese, English) from
ten loopback addresses (127.0.0.11-20, so the per-host limit applies as it would to
ten news sites), then runs the real scan twice on fresh stores, in the same run:

- adwatch as configured by default (16 requests in flight, 2 per host);
- the same work done one request at a time (concurrency 1, per_host 1).

Usage: python benchmarks/scan.py [--feeds 50] [--articles 20] [--latency 0.05]
"""

from __future__ import annotations

import argparse
import random
import socket
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from adwatch.config import load_config
from adwatch.pipeline import run_scan

HOSTS = [f"127.0.0.{i}" for i in range(11, 21)]
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


class _Handler(BaseHTTPRequestHandler):
    latency = 0.05
    articles = 20

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        time.sleep(self.latency)
        host = self.headers.get("Host", "")
        path = self.path
        if path == "/robots.txt":
            return self._send(b"User-agent: *\nAllow: /\n", "text/plain")
        parts = path.strip("/").split("/")
        if len(parts) == 2 and parts[1] == "feed.xml":
            return self._send(self._feed(host, parts[0]), "application/rss+xml")
        if len(parts) == 2 and parts[1].endswith(".html"):
            return self._send(self._page(parts[0], parts[1]), "text/html; charset=utf-8")
        self.send_error(404)

    def _send(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _feed(self, host: str, feed: str) -> bytes:
        items = "".join(
            f"<item><title>Story {feed} {i}</title><link>http://{host}/{feed}/{i}.html</link>"
            f"<guid>{host}/{feed}/{i}</guid><pubDate>Tue, 24 Nov 2026 08:{i:02d}:00 +0700</pubDate>"
            "</item>"
            for i in range(self.articles)
        )
        return (
            f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{feed}</title>'
            f"<link>http://{host}/</link><description>d</description>{items}</channel></rss>"
        ).encode()

    def _page(self, feed: str, name: str) -> bytes:
        rng = random.Random(f"{feed}/{name}")
        lang = LANGS[int(feed.split("-")[1]) % 4]
        paragraphs = "".join(f"<p>{_sentence(rng, lang, 40)}</p>" for _ in range(8))
        return (
            f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{name}</title>'
            f"</head><body><nav><a href='/'>Home</a></nav><article><h1>{_sentence(rng, lang, 6)}</h1>"
            f"{paragraphs}</article><footer>Copyright</footer></body></html>"
        ).encode()


def _serve(latency: float, articles: int) -> list[ThreadingHTTPServer]:
    handler = type("Handler", (_Handler,), {"latency": latency, "articles": articles})
    servers = []
    for host in HOSTS:
        server = ThreadingHTTPServer((host, 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    return servers


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
        server = servers[i % len(servers)]
        host, port = server.server_address[:2]
        lines.append(
            f"  - {{name: feed-{i}, url: 'http://{host}:{port}/feed-{i}/feed.xml', market: TH}}"
        )
    lines.append(
        "watchlists:\n  - name: scam\n    terms:\n      en: [scam ads, deepfake]\n"
        "      th: [โฆษณาหลอกลวง, เว็บพนัน]\n      vi: [quảng cáo lừa đảo]\n      my: [လောင်းကစား]"
    )
    path = folder / "feeds.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _timed_scan(
    servers: list[ThreadingHTTPServer], feeds: int, *, sequential: bool
) -> tuple[float, int, int]:
    with tempfile.TemporaryDirectory() as folder:
        config = load_config(_config(Path(folder), servers, feeds, sequential=sequential))
        start = time.perf_counter()
        summary = run_scan(config)
        elapsed = time.perf_counter() - start
        if summary.failed:
            raise SystemExit(f"benchmark scan failed: {summary.failed[0].error}")
        pages_failed = sum(o.pages_failed for o in summary.outcomes)
        if pages_failed:
            raise SystemExit(f"benchmark scan could not extract {pages_failed} pages")
        return elapsed, summary.articles_new, summary.hits_new


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--feeds", type=int, default=50)
    parser.add_argument("--articles", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()
    try:
        socket.create_server((HOSTS[-1], 0)).close()
    except OSError as exc:
        raise SystemExit(f"cannot listen on {HOSTS[-1]}: {exc}") from exc
    servers = _serve(args.latency, args.articles)
    try:
        concurrent, articles, hits = _timed_scan(servers, args.feeds, sequential=False)
        sequential, articles_seq, _ = _timed_scan(servers, args.feeds, sequential=True)
    finally:
        for server in servers:
            server.shutdown()
    assert articles == articles_seq == args.feeds * args.articles
    print(
        f"{args.feeds} feeds x {args.articles} articles, {args.latency * 1000:.0f} ms latency per request"
    )
    print(f"{'mode':<34}{'wall s':>9}{'articles':>10}{'hits':>8}")
    print(f"{'adwatch (16 in flight, 2/host)':<34}{concurrent:>9.2f}{articles:>10}{hits:>8}")
    print(f"{'one request at a time':<34}{sequential:>9.2f}{articles_seq:>10}")
    print(f"speed-up: {sequential / concurrent:.1f}x")


if __name__ == "__main__":
    main()
