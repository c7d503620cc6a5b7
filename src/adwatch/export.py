"""Streaming exports of hits: CSV that Excel opens safely, JSON and JSON Lines.

Rows go from the SQLite cursor straight to the output, one at a time, so memory
stays flat however many hits there are. A new or regular file is written to a
private temporary file in the same folder and renamed into place at the end, so a
failed or interrupted export never leaves half a file under the real name; a device,
FIFO or symlink is written through and never replaced (`open_output`).
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import IO, Any, BinaryIO, TextIO

from adwatch.errors import AdwatchError, UsageError
from adwatch.files import PRIVATE_MODE, open_private_temp
from adwatch.query import EXPORT_COLUMNS, Filters, iter_export_rows
from adwatch.store import Store
from adwatch.text.untrusted import safe_row

FORMATS = ("csv", "jsonl", "json")
# A spreadsheet runs a cell starting with one of these as a formula (or, for tab
# and line breaks, may shift it into one); OWASP's list, plus LF.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
BOM = "\ufeff"  # Excel reads a CSV as UTF-8 only when it starts with this


def neutralise(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: formula-like strings get a leading `'`.

    Line breaks inside a cell are kept (the CSV writer quotes the cell) but
    made uniform, and NUL characters, which some readers choke on, are dropped.
    """
    if not isinstance(value, str):
        return value
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in value:
        value = value.replace("\x00", "")
    if value.startswith(FORMULA_START):
        return "'" + value
    return value


def _needs_care(value: Any) -> bool:
    return (
        isinstance(value, str)
        and value != ""
        and (value[0] in _FORMULA_CHARS or "\r" in value or "\x00" in value)
    )


_FORMULA_CHARS = frozenset("".join(FORMULA_START))


def write_csv(
    rows: Iterable[Sequence[Any]], out: TextIO, *, columns: Sequence[str] = EXPORT_COLUMNS
) -> int:
    """Write a header and `rows` as Excel-safe CSV (BOM, CRLF, neutralised cells); return the count."""
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    count = 0
    for row in rows:
        # Most rows need nothing: check cheaply, rebuild only the rows that do.
        if any(_needs_care(value) for value in row):
            row = [neutralise(value) for value in row]
        writer.writerow(row)
        count += 1
    return count


def write_jsonl(
    rows: Iterable[Sequence[Any]], out: TextIO, *, columns: Sequence[str] = EXPORT_COLUMNS
) -> int:
    """Write one JSON object per line; return the row count."""
    count = 0
    for row in rows:
        out.write(json.dumps(dict(zip(columns, row, strict=True)), ensure_ascii=False))
        out.write("\n")
        count += 1
    return count


def write_json(
    rows: Iterable[Sequence[Any]], out: TextIO, *, columns: Sequence[str] = EXPORT_COLUMNS
) -> int:
    """Write a JSON array of objects, one per line, without holding them all; return the count."""
    out.write("[")
    count = 0
    for row in rows:
        out.write(",\n" if count else "\n")
        out.write(json.dumps(dict(zip(columns, row, strict=True)), ensure_ascii=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def write_rows(
    rows: Iterable[Sequence[Any]],
    out: TextIO,
    fmt: str,
    *,
    columns: Sequence[str] = EXPORT_COLUMNS,
) -> int:
    """Write `rows` in `fmt` (csv, jsonl or json); return the row count."""
    writers = {"csv": write_csv, "jsonl": write_jsonl, "json": write_json}
    if fmt not in writers:
        raise UsageError(f"expected one of {', '.join(FORMATS)}, got {fmt!r}", field="format")
    # The store holds no control characters since adwatch 0.1's scan strips them;
    # rows written by an older scan are cleaned here, on their way out.
    return writers[fmt]((safe_row(row) for row in rows), out, columns=columns)


# --- where the output goes ------------------------------------------------------------


@contextmanager
def open_output(output: str | Path | None) -> Iterator[TextIO]:
    """A UTF-8 text stream to `output`: stdout for None or "-", else the path.

    What is at the path decides how it is written (docs/privacy.md):
    nothing or a regular file: a private temporary file renamed onto it at the end;
    a character device (/dev/null, a terminal) or a FIFO: written through, never replaced;
    a symlink: written through to what it points to, as the shell's `>` does;
    a folder, socket or block device: refused with a UsageError.
    """
    if output is None or str(output) == "-":
        with _stdout_text() as out:
            yield out
        return
    with _open_path(Path(output), binary=False) as out:
        yield out


@contextmanager
def open_binary_output(output: str | Path) -> Iterator[BinaryIO]:
    """A byte stream to `output` (a path, or "-" for stdout when it is not a terminal),
    written as `open_output` writes text: atomically over a file, through a device."""
    if str(output) == "-":
        if sys.stdout.isatty():
            raise UsageError("refusing to write binary data to a terminal", field="output")
        sys.stdout.flush()
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    with _open_path(Path(output), binary=True) as out:
        yield out


def _open_path(path: Path, *, binary: bool) -> AbstractContextManager[Any]:
    """How `open_output` and `open_binary_output` write to a path (see `open_output`)."""
    how = _how_to_write(path)
    if how == "atomic":
        return atomic_write(path, binary=binary)
    if how == "link":
        # Open through the link, so the kernel's rules on following links apply.
        return _write_through(path, os.O_CREAT | os.O_TRUNC, binary=binary)
    return _write_through(path, 0, binary=binary)


def _how_to_write(path: Path) -> str:
    """How to write what is at `path`: `atomic`, `link` or `through`; raise when it must not be."""
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        return "atomic"
    except OSError as exc:
        raise _cannot_write(path, exc) from exc
    if stat.S_ISREG(found.st_mode):
        return "atomic"
    if stat.S_ISLNK(found.st_mode):
        try:
            target = os.stat(path)
        except FileNotFoundError:
            return "link"  # a dangling link: the file it names is created, as by `>`
        except OSError as exc:
            raise _cannot_write(path, exc) from exc
        _refuse_unwritable_kind(path, target.st_mode)
        return "link"
    _refuse_unwritable_kind(path, found.st_mode)
    return "through"


def _refuse_unwritable_kind(path: Path, mode: int) -> None:
    if stat.S_ISDIR(mode):
        raise UsageError(f"{str(path)!r} is a folder, not a file", field="output")
    if stat.S_ISSOCK(mode):
        raise UsageError(f"{str(path)!r} is a socket, not a file", field="output")
    if stat.S_ISBLK(mode):
        raise UsageError(f"{str(path)!r} is a block device (a disk), not a file", field="output")
    if not (stat.S_ISREG(mode) or stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
        raise UsageError(f"{str(path)!r} is not a file", field="output")


@contextmanager
def atomic_write(path: Path, *, binary: bool = False) -> Iterator[Any]:
    """Write to a private temporary file next to `path`, renamed onto `path` only on success.

    A new file gets PRIVATE_MODE narrowed by the umask; a file replaced keeps its permissions.
    """
    folder = path.parent
    if not folder.is_dir():
        raise UsageError(f"no such folder: {str(folder)!r}", field="output")
    old_mode = _regular_file_mode(path)
    try:
        fd, temp = open_private_temp(folder, path.name)
    except OSError as exc:
        raise _cannot_write(path, exc) from exc
    try:
        with _fdopen(fd, binary) as handle:
            yield handle
            handle.flush()
            if old_mode is not None:
                os.fchmod(handle.fileno(), old_mode)
            os.fsync(handle.fileno())
        # Something other than a file may have appeared at the path meanwhile: never replace it.
        if old_mode is None and _how_to_write(path) != "atomic":
            raise UsageError(
                f"{str(path)!r} appeared while writing and is not a file", field="output"
            )
        os.replace(temp, path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise _cannot_write(path, exc) from exc
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _regular_file_mode(path: Path) -> int | None:
    """The permission bits of the regular file at `path`, None when there is none."""
    try:
        found = os.lstat(path)
    except OSError:
        return None
    return stat.S_IMODE(found.st_mode) & 0o777 if stat.S_ISREG(found.st_mode) else None


@contextmanager
def _write_through(path: Path, flags: int, *, binary: bool = False) -> Iterator[Any]:
    """Write into what is at `path` (a device, a FIFO, a link's target) without replacing it."""
    try:
        # A FIFO blocks here until a reader opens it, as with the shell's `>`.
        fd = os.open(path, os.O_WRONLY | os.O_NOCTTY | os.O_CLOEXEC | flags, PRIVATE_MODE)
    except OSError as exc:
        raise _cannot_write(path, exc) from exc
    try:
        with _fdopen(fd, binary) as handle:
            yield handle
            handle.flush()
    except BrokenPipeError:
        raise  # the reader went away: the CLI stops quietly, as for stdout
    except OSError as exc:
        raise _cannot_write(path, exc) from exc


def _fdopen(fd: int, binary: bool) -> IO[Any]:
    return os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="")


def _cannot_write(path: Path, exc: OSError) -> AdwatchError:
    return AdwatchError(f"cannot write {str(path)!r}: {exc.strerror or exc}", field="output")


@contextmanager
def _stdout_text() -> Iterator[TextIO]:
    """stdout as UTF-8 whatever the locale, with no newline translation.

    Write errors (a full device, a reader that went away) reach the caller: the CLI
    turns them into one line, or a quiet exit for a closed pipe.
    """
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # an already-text stream (an embedding app): use it as is
        yield sys.stdout
        return
    out = io.TextIOWrapper(buffer, encoding="utf-8", newline="")
    try:
        yield out
        out.flush()
    finally:
        try:
            out.detach()
        except (ValueError, OSError):
            pass


# --- the export command's library half ------------------------------------------------


def export_hits(
    store: Store,
    filters: Filters,
    *,
    fmt: str = "csv",
    output: str | Path | None = None,
    limit: int | None = None,
) -> int:
    """Stream hits matching `filters` (newest first) to `output` in `fmt`; return the count."""
    if fmt not in FORMATS:
        raise UsageError(f"expected one of {', '.join(FORMATS)}, got {fmt!r}", field="format")
    rows = iter_export_rows(store, filters, limit=limit)
    try:
        with open_output(output) as out:
            return write_rows(rows, out, fmt)
    finally:
        # A failed write leaves the query half-read: end it while the store is still open.
        close = getattr(rows, "close", None)
        if close is not None:
            close()
