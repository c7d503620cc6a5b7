"""The process pool for CPU work (extraction, matching), set up one way for every caller.

forkserver, not fork: the scan and rematch may run beside threads (a test's HTTP
server, httpx internals, the store's writer thread), and forking a threaded process
can deadlock the child. A worker ignores Ctrl-C: the process that owns the pool
stops it, so one key press gives one message, not one traceback per worker.
"""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import threading
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing.context import BaseContext

# What the workers run, imported once in the forkserver and inherited by every worker
# it forks, instead of imported again by each. The default, ["__main__"], loads
# nothing on Python 3.11 when adwatch runs as a console script.
PRELOAD = [
    "__main__",
    "adwatch.pipeline",
    "adwatch.rematch",
    "adwatch.extract",
    "adwatch.feeds",
    "adwatch.text.language",
    "adwatch.match",
    "adwatch.text.normalize",
    "adwatch.urls",
    # imported lazily by the modules above, so that the CLI never pays for them
    "trafilatura",
    "lxml.html",
    "feedparser",
    "charset_normalizer",
    "langdetect.detector_factory",
    "myanmartools",
    "icu",
    "nlpo3",
    "pythainlp.corpus",
    "adwatch.semantic.stage",  # semantic watchlists: numpy, once for every worker
    "adwatch.stories.fingerprint",
    "numpy",
    "adwatch.indicators.preload",  # phonenumbers, the suffix list (docs/indicators.md)
    "adwatch.evidence",  # warcio: a page's WARC records are built in the workers
    "adwatch.text.preload",  # the Thai word list, read once for every worker
]


def warm_forkserver() -> None:
    """Start the forkserver now, for a scan that is sure to need workers: it imports the
    worker modules (PRELOAD, about half a second of CPU) while the scan opens its store and
    waits on its first requests, and the pool forks its workers from it when it starts."""
    from multiprocessing import forkserver

    _forkserver_context()
    forkserver.ensure_running()


def worker_pool(
    initializer: Callable[..., None],
    initargs: Sequence[Any],
    *,
    workers: int | None = None,
) -> ProcessPoolExecutor:
    """A pool of `workers` processes (default: one per core), each set up by `initializer`."""
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(
        max_workers=workers or max(1, os.cpu_count() or 1),
        mp_context=_forkserver_context(),
        initializer=_start_worker,
        initargs=(initializer, tuple(initargs)),
    )


def _forkserver_context() -> BaseContext:
    """The forkserver's context, its server set to import PRELOAD before it forks."""
    import multiprocessing

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def _start_worker(initializer: Callable[..., None], initargs: tuple[Any, ...]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    initializer(*initargs)


class LazyPool(Executor):
    """`worker_pool`, started on the first job.

    A cron re-run where every feed answers 304 has no CPU work: it then never imports
    multiprocessing, starts no forkserver and no resource tracker (about 70 ms).
    """

    def __init__(
        self,
        initializer: Callable[..., None],
        initargs: Sequence[Any],
        *,
        workers: int | None = None,
    ) -> None:
        self._arguments = (initializer, initargs, workers)
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    @property
    def workers(self) -> int:
        return self._arguments[2] or max(1, os.cpu_count() or 1)

    @property
    def started(self) -> bool:
        return self._pool is not None

    def start(self) -> None:
        """Start the pool and its workers now (it blocks while the forkserver imports)."""
        pool = self._started_pool()
        # The pool forks one worker per job until it has them all; jobs that do nothing
        # make them all now, so a caller can do this off its event loop.
        for _ in range(self.workers):
            pool.submit(_nothing)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return self._started_pool().submit(fn, *args, **kwargs)

    def _started_pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                initializer, initargs, workers = self._arguments
                self._pool = worker_pool(initializer, initargs, workers=workers)
            return self._pool

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)


def _read_outcome(done: asyncio.Future[None]) -> None:
    if not done.cancelled():
        done.exception()


def _nothing() -> None:
    """A job that only makes the pool fork a worker."""


# --- batches: one pool round trip for several jobs -------------------------------------

MAX_BATCH = 8

_Call = tuple[Callable[..., Any], tuple[Any, ...]]


def run_each(calls: Sequence[_Call]) -> list[tuple[bool, Any]]:
    """`fn(*args)` for each of `calls` (in a worker): (True, result) or (False, exception)."""
    outcomes: list[tuple[bool, Any]] = []
    for fn, args in calls:
        try:
            outcomes.append((True, fn(*args)))
        except Exception as exc:  # handed to the job's caller, as the pool would
            # The worker's traceback, for `--debug` (the pool would attach it as the cause).
            exc.add_note(traceback.format_exc().rstrip())
            outcomes.append((False, exc))
    return outcomes


class Batcher:
    """Runs CPU jobs in a pool, several to a round trip when the workers are busy.

    Each pool round trip costs the main process a future, a wake-up of the pool's feeder
    and manager threads, pickling and a wake-up of the event loop (docs/scan.md, Speed).
    At most two batches per worker are in the pool (one running, one waiting, so a worker
    never waits for the main process); jobs that come meanwhile wait here and leave
    together, at most MAX_BATCH to a batch, when a batch comes back.
    """

    def __init__(self, executor: Executor, *, workers: int | None = None) -> None:
        self.executor = executor
        self.workers = workers or getattr(executor, "workers", None) or os.cpu_count() or 1
        self.max_in_flight = 2 * self.workers
        self._ready: list[tuple[Callable[..., Any], tuple[Any, ...], asyncio.Future[Any]]] = []
        self._in_flight = 0
        self._scheduled = False
        self._starting: asyncio.Future[None] | None = None

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Return `fn(*args)` run in the pool (its exception raised here)."""
        await self._start()
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._ready.append((fn, args, future))
        self._schedule()
        return await future

    async def run_light(self, fn: Callable[..., Any], *args: Any) -> Any:
        """`run` for a job of a few milliseconds (a feed to parse): while a LazyPool is
        still starting, it runs on a thread of this process instead of waiting.

        The forkserver's imports take about half a second; a feed parsed meanwhile lets
        its pages be fetched meanwhile, so the network is busy while the workers start
        (docs/scan.md, Speed)."""
        if self._pool_ready():
            return await self.run(fn, *args)
        self._begin_start()
        return await asyncio.to_thread(fn, *args)

    def _pool_ready(self) -> bool:
        if not isinstance(self.executor, LazyPool):
            return True
        if self._starting is None:
            return self.executor.started  # started by its owner before this batcher
        return self._starting.done()

    def _begin_start(self) -> asyncio.Future[None]:
        if self._starting is None:
            assert isinstance(self.executor, LazyPool)  # any other pool is ready from the start
            self._starting = asyncio.ensure_future(asyncio.to_thread(self.executor.start))
            # A light job starts the pool without waiting for it, and no job may come after
            # it: the start's error is read here too, so asyncio never logs it as unread.
            self._starting.add_done_callback(_read_outcome)
        return self._starting

    async def _start(self) -> None:
        """Start a LazyPool off the event loop: fetching goes on while the forkserver imports."""
        if self._pool_ready():
            return
        await asyncio.shield(self._begin_start())

    def _schedule(self) -> None:
        # After this turn of the event loop, so that jobs made ready together go together.
        if not self._scheduled and self._ready and self._in_flight < self.max_in_flight:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._send)

    def _send(self) -> None:
        self._scheduled = False
        ready = [job for job in self._ready if not job[2].done()]  # done: caller cancelled
        free = self.max_in_flight - self._in_flight
        size = min(MAX_BATCH, -(-len(ready) // max(1, free)))
        while ready and self._in_flight < self.max_in_flight:
            self._dispatch(ready[:size])
            ready = ready[size:]
        self._ready = ready

    def _dispatch(
        self, batch: list[tuple[Callable[..., Any], tuple[Any, ...], asyncio.Future[Any]]]
    ) -> None:
        futures = [future for _, _, future in batch]
        calls = [(fn, args) for fn, args, _ in batch]
        try:
            sent = asyncio.get_running_loop().run_in_executor(self.executor, run_each, calls)
        except Exception as exc:  # a broken or closed pool: each job raises it
            for future in futures:
                future.set_exception(exc)
            return
        self._in_flight += 1
        sent.add_done_callback(functools.partial(self._deliver, futures))

    def _deliver(self, futures: list[asyncio.Future[Any]], sent: asyncio.Future[Any]) -> None:
        self._in_flight -= 1
        self._schedule()
        if sent.cancelled():
            for future in futures:
                future.cancel()
            return
        error = sent.exception()
        outcomes = sent.result() if error is None else [(False, error)] * len(futures)
        for future, (ok, value) in zip(futures, outcomes, strict=True):
            if future.done():
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
