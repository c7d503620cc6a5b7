"""Errors raised by adwatch, each carrying the exit code the CLI uses.

    AdwatchError                 exit 1
    ├── ConfigError              exit 2  (bad feeds.yaml, bad watchlist query)
    ├── UsageError               exit 2  (bad option value, unknown hit id)
    ├── FetchError               exit 1  (one source or page could not be fetched)
    ├── FeedError                exit 1  (a body that is not a usable feed)
    ├── ExtractError             exit 1  (no article text in a page)
    ├── StoreError               exit 1  (the SQLite store is unusable)
    │   └── NotAStore            exit 2  (no store there, or a file that is not ours)
    │       └── NoStoreYet       exit 2  (nothing there yet: run a scan first)
    ├── QueryError               exit 2  (a watchlist or search query that does not parse)
    ├── LockHeld                 exit 75 (another scan holds the store's lock)
    └── Interrupted              exit 130 or 143 (Ctrl-C or SIGTERM; 128 + the signal)

Every message is one line: what went wrong, then where.
"""

from __future__ import annotations

from adwatch.urls import redact_urls


class AdwatchError(Exception):
    "Base class of every error adwatch raises on purpose"

    exit_code = 1

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        #: the value at fault, by its field name (`since`, `market`, `output`); the CLI
        #: alone knows which option sets it (`--since`), so the library never says so
        self.field = field
        self.detail = message

    def __str__(self) -> str:
        # Messages are printed and stored (sources.last_error, runs.details): a password
        # or token in a URL from feeds.yaml, a feed or the environment stays out of them.
        text = f"{self.field}: {self.detail}" if self.field else self.detail
        return redact_urls(text)


class ConfigError(AdwatchError):
    "The configuration file is missing or invalid"

    exit_code = 2


class UsageError(AdwatchError):
    "A command-line value is invalid"

    exit_code = 2


class FetchError(AdwatchError):
    "A URL could not be fetched"

    def __init__(self, message: str, *, url: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class FeedError(AdwatchError):
    "A response is not a feed, sitemap or page we can read"


class ExtractError(AdwatchError):
    "No article text could be extracted from a page"


class StoreError(AdwatchError):
    "The SQLite store cannot be opened or used"


class NotAStore(StoreError):
    "The path names no adwatch store: missing, someone else's file, or a newer schema"

    exit_code = 2


class NoStoreYet(NotAStore):
    "No store at this location yet"


class QueryError(AdwatchError):
    "A query does not parse"

    exit_code = 2

    def __init__(
        self, message: str, *, position: int | None = None, field: str | None = None
    ) -> None:
        super().__init__(message, field=field)
        self.position = position


class LockHeld(AdwatchError):
    "Another scan holds the lock on this store"

    exit_code = 75


class Interrupted(AdwatchError):
    "A signal stopped the work; what was done is kept"

    exit_code = 130

    def __init__(self, message: str, *, exit_code: int = 130) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def one_line(value: object, limit: int = 240) -> str:
    """`value` (an exception: its type and message) as one line of at most `limit` characters.

    Messages quote servers, parsers and drivers, whose text may span lines; a message
    of ours is one line (what went wrong, then where).
    """
    text = f"{type(value).__name__}: {value}" if isinstance(value, BaseException) else str(value)
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
