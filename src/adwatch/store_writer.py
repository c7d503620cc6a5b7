"""The scan's store writer: one thread that runs the store calls in the order they come,
the calls of a moment in one transaction.

The scan stores about a hundred articles a second, each with its hits, full-text index
entries and story. Committed one by one, every article paid a commit of its own, and
SQLite's full-text indexes (which write what a transaction added when it commits) a
segment of their own. So calls that queue up while the writer works share one
transaction (a *group*): each runs in a savepoint, so one that fails undoes only its own
writes, and the group is committed when no call is waiting or after GROUP_CALLS calls.

A call's future is resolved only once its group is committed: a caller that hears an
article is stored can rely on it, and when a commit fails every call of the group gets
the error. That keeps the scan's rule that a source's ETag is stored only once its
articles are (docs/scan.md): a source whose article was lost is a failed source.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adwatch.store import Store

# At most this many calls wait for one commit; a group also ends when no call is waiting.
GROUP_CALLS = 32

_Call = tuple["Future[Any]", Callable[[], Any]]


class StoreWriter:
    """Runs `store` calls on a thread of their own, in order, committed in groups."""

    def __init__(self, store: Store, *, group_calls: int = GROUP_CALLS) -> None:
        self.store = store
        self.group_calls = max(1, group_calls)
        self.commits = 0  # groups committed so far
        self._queue: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._work, name="adwatch-store", daemon=True)
        self._thread.start()

    def submit(self, call: Callable[[], Any]) -> Future[Any]:
        """Queue `call`; its future is resolved once the group it ran in is committed."""
        future: Future[Any] = Future()
        self._queue.put((future, call))
        return future

    def close(self) -> None:
        """Run and commit what was submitted, then stop the thread."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def _work(self) -> None:
        done: list[tuple[Future[Any], bool, Any]] = []  # ran in the open group
        while True:
            item = self._queue.get()
            if item is not None:
                future, call = item
                if future.set_running_or_notify_cancel():  # not cancelled while queued
                    done.append((future, *self._run(call)))
            if done and (item is None or len(done) >= self.group_calls or self._queue.empty()):
                self._commit(done)
                done = []
            if item is None:
                return

    def _run(self, call: Callable[[], Any]) -> tuple[bool, Any]:
        try:
            self.store.begin_group()
            with self.store.savepoint():
                return True, call()
        except BaseException as exc:  # the caller's to handle, as a thread pool would
            return False, exc

    def _commit(self, done: list[tuple[Future[Any], bool, Any]]) -> None:
        try:
            self.store.commit_group()
        except BaseException as exc:
            # Nothing the group wrote is stored: every call of it failed.
            for future, _, _ in done:
                future.set_exception(exc)
            return
        self.commits += 1
        for future, ok, value in done:
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
