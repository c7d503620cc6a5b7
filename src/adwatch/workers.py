"""The process pool for CPU work (extraction, matching), set up one way for every caller.

forkserver, not fork: the scan and rematch may run beside threads (a test's HTTP
server, httpx internals, the store's writer thread), and forking a threaded process
can deadlock the child. A worker ignores Ctrl-C: the process that owns the pool
stops it, so one key press gives one message, not one traceback per worker.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

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
]


def worker_pool(
    initializer: Callable[..., None],
    initargs: Sequence[Any],
    *,
    workers: int | None = None,
) -> ProcessPoolExecutor:
    """A pool of `workers` processes (default: one per core), each set up by `initializer`."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return ProcessPoolExecutor(
        max_workers=workers or max(1, os.cpu_count() or 1),
        mp_context=context,
        initializer=_start_worker,
        initargs=(initializer, tuple(initargs)),
    )


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

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._lock:
            if self._pool is None:
                initializer, initargs, workers = self._arguments
                self._pool = worker_pool(initializer, initargs, workers=workers)
        return self._pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)
