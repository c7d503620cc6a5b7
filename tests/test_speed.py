"""The mechanisms the scan's speed rests on (docs/scan.md, Speed), each checked for what it
must not change: the same text, the same language, a connection kept, a worker that starts
with its modules. Timings themselves are measured by benchmarks/scan.py, not here."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from trafilatura import bare_extraction

from adwatch import extract
from adwatch.errors import FetchError
from adwatch.extract import extract_page
from adwatch.fetch import Fetcher
from adwatch.models import FetchResult, FetchSettings
from adwatch.text.language import detect_language, vietnamese_evidence
from adwatch.workers import MAX_BATCH, Batcher, LazyPool

PAGES = Path(__file__).parent / "data" / "pages"


# --- extraction: trafilatura's fast mode --------------------------------------------------


@pytest.mark.parametrize(
    "name", sorted(p.name for p in PAGES.glob("*.html") if p.name != "js_only.html")
)
def test_fast_extraction_gives_the_text_of_the_full_cascade(name: str) -> None:
    """fast=True skips trafilatura's second opinion (readability, jusText); on our pages
    the article text must be exactly what the full cascade finds."""
    content = (PAGES / name).read_bytes()
    url = f"https://news.example/{name}"
    result = FetchResult(url, url, 200, {"content-type": "text/html"}, content)
    markup = extract.decode_html(content, result.headers)
    full = bare_extraction(
        markup,
        url=url,
        with_metadata=True,
        include_comments=False,
        favor_precision=True,
        date_extraction_params={"extensive_search": False, "original_date": True},
        fast=False,
    )
    assert full is not None
    expected = extract._tidy_text(str(full.text))
    assert expected
    assert extract_page(result).text == expected


# --- fetching: a 304 keeps its connection --------------------------------------------------


class _KeepAliveHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive, as news sites serve; records each request's client port."""

    protocol_version = "HTTP/1.1"
    ports: list[int] = []

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.ports.append(self.client_address[1])
        if self.path == "/feed.xml" and self.headers.get("If-None-Match") == '"v1"':
            self.send_response(304)
            self.send_header("ETag", '"v1"')
            self.end_headers()
            return
        body = b"<html><body>not here</body></html>"
        self.send_response(404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def keep_alive_server() -> Iterator[tuple[str, list[int]]]:
    ports: list[int] = []
    handler = type("Handler", (_KeepAliveHandler,), {"ports": ports})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", ports
    finally:
        server.shutdown()
        server.server_close()


def test_304_and_error_answers_leave_their_connection_for_the_next_request(
    keep_alive_server: tuple[str, list[int]],
) -> None:
    """A re-run is one conditional GET per feed: each must not cost a new connection."""
    base, ports = keep_alive_server

    async def go() -> list[object]:
        settings = FetchSettings(timeout=5.0, user_agent="adwatch-test", respect_robots=False)
        outcomes: list[object] = []
        async with Fetcher(settings) as fetcher:
            for _ in range(3):
                outcomes.append(await fetcher.fetch(f"{base}/feed.xml", etag='"v1"'))
            try:
                await fetcher.fetch(f"{base}/gone.html")
            except FetchError as exc:
                outcomes.append(exc)
            outcomes.append(await fetcher.fetch(f"{base}/feed.xml", etag='"v1"'))
        return outcomes

    outcomes = asyncio.run(go())
    assert [getattr(o, "status", None) for o in outcomes] == [304, 304, 304, 404, 304]
    assert len(ports) == 5 and len(set(ports)) == 1, ports


# --- the worker pool: modules loaded once, in the forkserver ------------------------------

_WORKER_PROBE = """
import json
import os
from adwatch.pipeline import _pool

pool = _pool([])
try:
    loaded = pool.submit(
        eval,
        "sorted(m for m in __import__('sys').modules if m in "
        "('trafilatura', 'adwatch.extract', 'adwatch.text.language', 'typer', 'rich', 'adwatch.cli'))",
    ).result(timeout=120)
finally:
    pool.shutdown()
print(json.dumps(loaded))
"""


def test_scan_workers_start_with_the_worker_modules_and_without_the_cli() -> None:
    """Workers are forked from a forkserver that imported the extraction, language and
    matching modules once; none of those pulls in the CLI, typer or rich."""
    done = subprocess.run(
        [sys.executable, "-c", _WORKER_PROBE], capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout)
    assert loaded == ["adwatch.extract", "adwatch.text.language", "trafilatura"]


_THAI_PROBE = """
import json
from adwatch.pipeline import _pool

pool = _pool([])
try:
    job = "__import__('adwatch.text.segment').text.segment._nlpo3_dictionary.cache_info().currsize"
    loaded = pool.submit(eval, job).result(timeout=120)
    words = pool.submit(
        eval, "__import__('adwatch.text.segment').text.segment.thai_words('โฆษณาหลอกลวง')"
    ).result(timeout=120)
finally:
    pool.shutdown()
print(json.dumps([loaded, words]))
"""


def test_scan_workers_start_with_the_thai_word_list_loaded() -> None:
    """The forkserver reads the Thai word list once (about 170 ms); each worker it forks
    has it already, and segments with it."""
    done = subprocess.run(
        [sys.executable, "-c", _THAI_PROBE], capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr
    loaded, words = json.loads(done.stdout)
    assert loaded == 1
    assert words == ["โฆษณา", "หลอกลวง"]


_FORKSERVER_PROBE = """
import json
import os
import sys
from pathlib import Path

from adwatch.config import load_config
from adwatch.pipeline import run_scan

run_scan(load_config(Path(sys.argv[1])))
commands = []
for entry in os.listdir("/proc"):
    if not entry.isdigit():
        continue
    try:
        stat = Path(f"/proc/{entry}/stat").read_text()
        command = Path(f"/proc/{entry}/cmdline").read_bytes()
    except OSError:
        continue
    if int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid():  # a child of this process
        commands.append(command.decode(errors="replace"))
print(json.dumps(any("forkserver" in command for command in commands)))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_scan_of_sources_never_fetched_starts_the_forkserver_before_any_job(
    tmp_path: Path, keep_alive_server: tuple[str, list[int]]
) -> None:
    """The forkserver imports the worker modules while the first scan of a source opens
    its store and waits on the network; a scan of sources fetched before starts nothing
    until a job comes (here none: the feed is gone)."""
    base, _ = keep_alive_server
    config = tmp_path / "feeds.yaml"
    config.write_text(
        f"version: 1\nstore: {tmp_path / 'adwatch.db'}\nmarkets:\n  TH: {{name: Thailand}}\n"
        f"sources:\n  - {{name: gone, url: '{base}/gone.xml', market: TH}}\n"
        "watchlists:\n  - name: scam\n    terms:\n      en: [scam ads]\n",
        encoding="utf-8",
    )

    def forkserver_started() -> bool:
        done = subprocess.run(
            [sys.executable, "-c", _FORKSERVER_PROBE, str(config)],
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stderr
        started: bool = json.loads(done.stdout)
        return started

    assert forkserver_started()  # the source was never fetched
    assert not forkserver_started()  # it was, and failed: no job, no process


# --- language detection: bounded evidence ---------------------------------------------------


def test_vietnamese_evidence_stops_after_enough_words() -> None:
    vietnamese = " ".join(["người dân cảnh báo quảng cáo lừa đảo"] * 20)  # 140 words
    english = " ".join(["the police warn people about the scam"] * 40)
    evidence = vietnamese_evidence(f"{vietnamese}\n{english}")
    assert evidence == (100, 0)


def test_a_vietnamese_article_quoting_english_later_is_vietnamese() -> None:
    """The verdict comes from the article's start; a long English quote further down the
    sample no longer outvotes it."""
    vietnamese = "Bộ Công an cảnh báo người dân về quảng cáo lừa đảo đầu tư trên mạng xã hội. " * 8
    english = "The police said the scam adverts were paid for with stolen cards. " * 30
    assert detect_language(f"{vietnamese}\n{english}") == "vi"


_LAZY_PROBE = """
import sys
from adwatch.pipeline import _pool

pool = _pool([])
pool.shutdown()
print("multiprocessing.resource_tracker" in sys.modules)
"""


def test_a_scan_with_no_cpu_work_starts_no_worker_processes() -> None:
    """A cron re-run where every feed answers 304 never starts the pool (LazyPool)."""
    done = subprocess.run(
        [sys.executable, "-c", _LAZY_PROBE], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_the_cli_imports_no_rich_until_it_prints_a_table() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import sys, adwatch.cli; print('rich' in sys.modules)"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.strip() == "False", done.stderr


_HTTPX_PROBE = """
import sys
import adwatch.fetch
print(sorted({"click", "rich", "pygments", "httpx._main"} & set(sys.modules)))
from httpx._main import main
print(main.name)
"""


def test_fetching_skips_the_httpx_command_line_client() -> None:
    """httpx's __init__ imports its CLI (click, rich, pygments: ~35 ms of a re-run);
    adwatch.fetch imports httpx without it, and the CLI stays importable afterwards."""
    done = subprocess.run(
        [sys.executable, "-c", _HTTPX_PROBE], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["[]", "main"]


_OPEN_PROBE = """
import sys
from adwatch.store import open_store

with open_store(sys.argv[1]) as store:
    triggers = store.conn.execute("PRAGMA recursive_triggers").fetchone()[0]
print("sqlite_utils" in sys.modules, triggers)
"""


def test_a_store_at_this_schema_opens_without_sqlite_utils(tmp_path: Path) -> None:
    """sqlite-utils (and numpy through it) is imported only to run migrations; a store
    already at this schema version opens with the same connection settings without it."""
    from adwatch.store import open_store

    path = tmp_path / "adwatch.db"
    with open_store(path) as store:
        assert store.db.table_names()  # sqlite-utils' view of it still works
    done = subprocess.run(
        [sys.executable, "-c", _OPEN_PROBE, str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "1"]


# --- CPU jobs go to the pool in batches ----------------------------------------------------


class _CountingPool(ThreadPoolExecutor):
    """A real thread pool that remembers how many jobs each round trip carried."""

    def __init__(self) -> None:
        super().__init__(max_workers=4)
        self.batches: list[int] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.batches.append(len(args[0]))  # run_each(calls)
        return super().submit(fn, *args, **kwargs)


_GATE = threading.Event()


def _square_unless_seven(n: int) -> int:
    if n == 7:
        raise ValueError(f"not seven: {n!r}")
    return n * n


def _square_when_open(n: int) -> int:
    assert _GATE.wait(timeout=30)
    return n * n


async def _run_jobs(batcher: Batcher, numbers: Sequence[int]) -> list[object]:
    outcomes = await asyncio.gather(
        *(batcher.run(_square_unless_seven, n) for n in numbers), return_exceptions=True
    )
    return list(outcomes)


def test_jobs_ready_together_are_spread_over_the_free_slots() -> None:
    """Two batches per worker may be in the pool: 5 jobs and 4 free slots make 2+2+1."""
    with _CountingPool() as pool:
        outcomes = asyncio.run(_run_jobs(Batcher(pool, workers=2), [1, 2, 3, 4, 5]))
    assert outcomes == [1, 4, 9, 16, 25]
    assert pool.batches == [2, 2, 1]


def test_jobs_wait_while_the_workers_are_busy_and_then_leave_together() -> None:
    async def scenario(batcher: Batcher) -> list[int]:
        first = [asyncio.ensure_future(batcher.run(_square_when_open, n)) for n in (1, 2)]
        await asyncio.sleep(0.05)  # both sent: the one worker's two slots are taken
        later = [asyncio.ensure_future(batcher.run(_square_when_open, n)) for n in (3, 4, 5)]
        await asyncio.sleep(0.05)
        _GATE.set()
        return list(await asyncio.gather(*first, *later))

    _GATE.clear()
    with _CountingPool() as pool:
        assert asyncio.run(scenario(Batcher(pool, workers=1))) == [1, 4, 9, 16, 25]
    # The three that waited leave in one batch, or two if both slots came free together.
    assert pool.batches[:2] == [1, 1] and pool.batches[2:] in ([3], [2, 1])


def test_a_batch_holds_at_most_max_batch_jobs() -> None:
    numbers = [10 + n for n in range(2 * MAX_BATCH + 3)]
    with _CountingPool() as pool:
        outcomes = asyncio.run(_run_jobs(Batcher(pool, workers=1), numbers))
    assert outcomes == [n * n for n in numbers]
    assert pool.batches == [MAX_BATCH, MAX_BATCH, 3]


def test_a_failing_job_fails_alone_in_its_batch() -> None:
    with _CountingPool() as pool:
        outcomes = asyncio.run(_run_jobs(Batcher(pool, workers=1), [6, 7, 8, 9]))
    assert outcomes[0] == 36 and outcomes[2:] == [64, 81]
    assert isinstance(outcomes[1], ValueError) and str(outcomes[1]) == "not seven: 7"
    assert "_square_unless_seven" in outcomes[1].__notes__[0]  # where it failed, for --debug
    assert pool.batches == [2, 2]


def test_jobs_in_a_process_pool_come_back_from_batches() -> None:
    """Through real worker processes (a LazyPool started off the event loop)."""
    pool = LazyPool(_nothing_to_set_up, [], workers=2)
    try:
        outcomes = asyncio.run(_run_jobs(Batcher(pool), [3, 7, 5]))
    finally:
        pool.shutdown()
    assert outcomes[0] == 9 and outcomes[2] == 25
    assert isinstance(outcomes[1], ValueError)


def _nothing_to_set_up() -> None:
    pass


def _process_id() -> int:
    return os.getpid()


def test_a_light_job_runs_here_while_the_pool_starts_and_in_the_pool_once_it_has() -> None:
    """A feed parsed while the forkserver imports lets its pages be fetched meanwhile."""
    pool = LazyPool(_nothing_to_set_up, [], workers=1)

    async def scenario() -> tuple[int, int, int]:
        batcher = Batcher(pool)
        while_starting = await batcher.run_light(_process_id)
        heavy = await batcher.run(_process_id)  # waits for the pool
        once_started = await batcher.run_light(_process_id)
        return while_starting, heavy, once_started

    try:
        while_starting, heavy, once_started = asyncio.run(scenario())
    finally:
        pool.shutdown()
    assert while_starting == os.getpid()
    assert heavy != os.getpid() and once_started == heavy
