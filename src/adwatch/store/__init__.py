"""The store: where adwatch keeps articles, hits and triage, behind one base.

`open_store` takes a location: a path (`adwatch.db`) or `sqlite:///path` for a
SQLite file, `postgresql://…` for a PostgreSQL database. Nothing outside this
package imports a database driver or holds a connection: the rest of adwatch asks
a `Store` for what it needs (see `base.py`).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from adwatch.errors import ConfigError
from adwatch.models import EvidenceSettings
from adwatch.store.base import TRIAGE_STATUSES, Store

__all__ = [
    "EVIDENCE_SUFFIX",
    "SCHEMES",
    "TRIAGE_STATUSES",
    "evidence_folder",
    "SQLiteStore",
    "Store",
    "is_url",
    "lock_path",
    "open_store",
    "scan_lock",
    "sqlite_path",
]

SCHEMES = ("sqlite", "postgresql", "postgres")


def is_url(location: str | Path) -> bool:
    """Whether `location` is written as a URL (`scheme:…`) rather than a path."""
    text = str(location)
    scheme = text.split(":", 1)[0] if ":" in text else ""
    # A one-letter scheme is a Windows drive, not a URL.
    return len(scheme) > 1 and scheme.replace("+", "").replace("-", "").isalnum()


def sqlite_path(location: str | Path) -> Path | None:
    """The file of a SQLite location (a path or `sqlite:///path`), else None.

    Raises ConfigError for a URL whose scheme adwatch does not know (`mysql://…`,
    a typo such as `postgres:/x`): silently treating it as a file name once made
    `--db postgresql:/…` create a SQLite file named like the URL.
    """
    if not is_url(location):
        return Path(location).expanduser()
    text = str(location)
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        if parts.netloc not in ("", "localhost"):
            raise ConfigError(
                f"a sqlite URL names a file on this machine, got {text!r}", field="store"
            )
        return Path(unquote(parts.path)).expanduser()
    if scheme in ("postgresql", "postgres") and text.startswith(f"{parts.scheme}://"):
        return None
    raise ConfigError(
        f"unknown store location {text!r} (a path, sqlite:///path or postgresql://…)",
        field="store",
    )


EVIDENCE_SUFFIX = "-evidence"  # adwatch.db -> adwatch.db-evidence, as SQLite's -wal sits beside it


def evidence_folder(location: str | Path, settings: EvidenceSettings) -> Path | None:
    """Where a store's pages are kept as served (docs/evidence.md): `settings.folder` when
    set, else beside a SQLite file; None for a PostgreSQL store without a `folder`, or when
    evidence is off."""
    if not settings.enabled:
        return None
    if settings.folder is not None:
        return settings.folder.expanduser()
    path = sqlite_path(location)
    return None if path is None else path.with_name(path.name + EVIDENCE_SUFFIX)


def open_store(location: str | Path, *, create: bool = True) -> Store:
    """Open (and create or upgrade) the store at `location`.

    `create` false: the store must exist already (read commands never create one).
    """
    path = sqlite_path(location)
    if path is not None:
        from adwatch.store.sqlite import open_sqlite

        return open_sqlite(path, create=create)
    try:
        engine = importlib.import_module("adwatch.store.postgres")
    except ImportError as exc:  # psycopg is not installed
        raise ConfigError(f"store: PostgreSQL support is not available: {exc}") from exc
    store: Store = engine.open_postgres(str(location), create=create)
    return store


def __getattr__(name: str) -> Any:
    # The SQLite engine is imported when first used: config and the CLI read
    # locations without paying for sqlite-utils.
    if name in ("SQLiteStore", "lock_path", "scan_lock"):
        from adwatch.store import sqlite

        return getattr(sqlite, name)
    raise AttributeError(f"module 'adwatch.store' has no attribute {name!r}")
