"""What semantic watchlists cost a scan: the same 1 000-article scan with them and without.

Serves the generated site of benchmarks/scan.py (feeds of 20 pages each, Thai,
Vietnamese, Burmese and English, from ten loopback hosts, 50 ms of latency per request)
and runs a real `adwatch scan --quiet` twice on fresh stores, with the shipped
watchlists: once as shipped (semantic watchlists on, so every article's lead is
embedded and scored) and once with `embeddings: {enabled: false}`. Wall time and the
CPU of every process (the scan, its forkserver and workers) are reported, and the
difference per article. Then, in this process, the CPU of embedding one lead on one
thread, which is what each article adds to a worker.

    python benchmarks/semantic_cost.py [--feeds 50] [--articles 20] [--repeat 1] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scan as site  # noqa: E402 - the generated site and the process accounting

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "src" / "adwatch" / "data" / "feeds.yaml"


def config_text(servers: Any, feeds: int, *, semantic: bool) -> str:
    """The shipped markets, semantic block and watchlists, over the generated feeds."""
    shipped = SHIPPED.read_text(encoding="utf-8")
    body = shipped[shipped.index("semantic:\n") :]
    lines = ["version: 1", "store: adwatch.db", "fetch:\n  timeout: 20"]
    if not semantic:
        lines.append("embeddings:\n  enabled: false")
    lines.append("markets:\n  TH: {name: Thailand}\n  VN: {name: Vietnam}\n  MM: {name: Myanmar}")
    lines.append("sources:")
    markets = ("TH", "VN", "MM", "TH")  # the site's feed i is in language i % 4
    for i in range(feeds):
        lines.append(
            f"  - {{name: feed-{i}, url: '{site._feed_url(servers, i)}', market: {markets[i % 4]}}}"
        )
    return "\n".join(lines) + "\n" + body


def one_scan(servers: Any, counter: list[int], feeds: int, *, semantic: bool) -> site.Run:
    with tempfile.TemporaryDirectory() as name:
        path = Path(name) / "feeds.yaml"
        path.write_text(config_text(servers, feeds, semantic=semantic), encoding="utf-8")
        return site._run_adwatch(path, counter, reaping=True)


def lead_cpu_ms(samples: int = 40) -> dict[str, float]:
    """CPU of embedding one lead (128 tokens) on one thread, per language of the site."""
    import random

    from adwatch.semantic.embed import lead_of, load_embedder

    embedder = load_embedder()
    embedder.passages(["warm up"])
    result = {}
    for language in site.LANGS:
        rng = random.Random(language)
        texts = [site._sentence(rng, language, 120) for _ in range(samples)]
        started = time.process_time()
        for text in texts:
            lead = lead_of(embedder, text)
            embedder.passages([text[lead.start : lead.end]])
        result[language] = round(1000 * (time.process_time() - started) / samples, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=50)
    parser.add_argument("--articles", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not site._adopt_orphans():
        raise SystemExit("this benchmark counts worker CPU by adopting orphans: Linux only")
    pages = args.feeds * args.articles
    servers, counter = site._serve(args.latency, args.articles)
    runs: dict[str, list[site.Run]] = {"off": [], "on": []}
    try:
        for _ in range(args.repeat):
            for mode in ("off", "on"):
                runs[mode].append(one_scan(servers, counter, args.feeds, semantic=mode == "on"))
    finally:
        for server in servers:
            server.shutdown()
    best = {mode: min(rs, key=lambda r: r.wall) for mode, rs in runs.items()}
    added_wall = best["on"].wall - best["off"].wall
    added_cpu = (best["on"].cpu_all or 0.0) - (best["off"].cpu_all or 0.0)
    figures = {
        "pages": pages,
        "cores": os.cpu_count(),
        "load_average_1m": os.getloadavg()[0],
        "off": {"wall_s": round(best["off"].wall, 2), "cpu_all_s": best["off"].cpu_all},
        "on": {"wall_s": round(best["on"].wall, 2), "cpu_all_s": best["on"].cpu_all},
        "added_wall_s": round(added_wall, 2),
        "added_cpu_ms_per_article": round(1000 * added_cpu / pages, 1),
        "lead_cpu_ms_one_thread": lead_cpu_ms(),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"{pages} articles, {figures['cores']} cores, load {figures['load_average_1m']:.2f}")
    for mode in ("off", "on"):
        f = figures[mode]
        print(
            f"semantic {mode:<3}  wall {f['wall_s']:6.2f} s   CPU, all processes {f['cpu_all_s']:.2f} s"
        )
    print(
        f"added: {figures['added_wall_s']:.2f} s wall, "
        f"{figures['added_cpu_ms_per_article']:.0f} ms CPU per article"
    )
    print(f"one lead embedded on one thread, ms CPU: {figures['lead_cpu_ms_one_thread']}")


if __name__ == "__main__":
    main()
