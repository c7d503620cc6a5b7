"""Scans and rematch on one PostgreSQL store: scans share it, rematch has it alone."""

from __future__ import annotations

import pytest

from adwatch.errors import LockHeld
from adwatch.models import Watchlist
from adwatch.rematch import rematch
from adwatch.store import open_store

WATCHLIST = Watchlist(name="w", category="c", severity="high", terms={"en": ("scam ad",)})


def test_two_scans_share_a_store_and_a_rematch_waits_for_none(pg_url: str) -> None:
    with open_store(pg_url) as first, open_store(pg_url) as second:
        with first.scan_session(), second.scan_session():  # two boxes, one store
            with pytest.raises(LockHeld, match="a scan is running on this store"):
                rematch(pg_url, [WATCHLIST], workers=1)
        assert rematch(pg_url, [WATCHLIST], workers=1).articles == 0  # scans done: it runs


def test_a_scan_refuses_a_store_a_rematch_holds(pg_url: str) -> None:
    with open_store(pg_url) as maintenance, open_store(pg_url) as scanner:
        with maintenance.exclusive_session():
            with pytest.raises(LockHeld, match="a rematch is running on this store"):
                with scanner.scan_session():
                    pass
        with scanner.scan_session():  # free again
            pass
