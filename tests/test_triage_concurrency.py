"""Two analysts triaging one hit at once: the history stays exact."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from query_fixtures import fill_store

from adwatch.query import triage_history, triage_hits
from adwatch.store import open_store


def test_a_triage_waiting_for_another_logs_the_status_that_one_left(tmp_path: Path) -> None:
    path = tmp_path / "adwatch.db"
    fill_store(path)
    # Another analyst's triage is in the middle of its transaction on hit 1.
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE hits SET status = 'reviewing' WHERE id = 1")
    other.execute(
        "INSERT INTO triage_log (hit_id, old_status, new_status, who, at) "
        "VALUES (1, 'new', 'reviewing', 'ann', '2026-12-01T00:00:00Z')"
    )
    done: list[object] = []

    def mine() -> None:
        with open_store(path, create=False) as store:
            done.append(triage_hits(store, [1], status="escalated", who="bob"))

    worker = threading.Thread(target=mine)
    worker.start()
    time.sleep(0.5)  # ours now waits for the write lock (busy timeout), having read nothing
    other.execute("COMMIT")
    worker.join(timeout=30)
    assert done, "the second triage finished"
    with open_store(path, create=False) as store:
        history = [(e.who, e.old_status, e.new_status) for e in triage_history(store, 1)]
    assert history == [("ann", "new", "reviewing"), ("bob", "reviewing", "escalated")]
