"""Streaming exports of hits: CSV that Excel opens safely, JSON and JSON Lines.

Rows go from the SQLite cursor straight to the output, one at a time, so memory
stays flat however many hits there are. A file given with -o is written to a
temporary file in the same folder and renamed into place at the end, so a
failed or interrupted export never leaves half a file under the real name.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from adwatch.errors import AdwatchError, UsageError
from adwatch.query import EXPORT_COLUMNS, Filters, iter_export_rows
from adwatch.store import Store

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
        raise UsageError(f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    return writers[fmt](rows, out, columns=columns)


# --- where the output goes ------------------------------------------------------------


@contextmanager
def open_output(output: str | Path | None) -> Iterator[TextIO]:
    """A UTF-8 text stream to `output`: stdout for None or "-", else an atomic file."""
    if output is None or str(output) == "-":
        with _stdout_text() as out:
            yield out
    else:
        with atomic_write(Path(output)) as out:
            yield out


@contextmanager
def atomic_write(path: Path) -> Iterator[TextIO]:
    """Write to a temporary file next to `path`, renamed onto `path` only on success."""
    folder = path.parent
    if not folder.is_dir():
        raise UsageError(f"-o: no such folder: {str(folder)!r}")
    if path.is_dir():
        raise UsageError(f"-o: {str(path)!r} is a folder, not a file")
    try:
        fd, temp_name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        raise AdwatchError(f"{path}: cannot write: {exc.strerror}") from exc
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes the file private; an export is for sharing, so give it
        # the permissions any new file of this user gets.
        os.chmod(temp, 0o666 & ~_umask())
        os.replace(temp, path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise AdwatchError(f"{path}: cannot write: {exc.strerror}") from exc
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def _stdout_text() -> Iterator[TextIO]:
    """stdout as UTF-8 whatever the locale, with no newline translation."""
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # an already-text stream (an embedding app): use it as is
        yield sys.stdout
        return
    out = io.TextIOWrapper(buffer, encoding="utf-8", newline="")
    try:
        yield out
        out.flush()
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as other CLI tools do.
        _silence_stdout()
    finally:
        try:
            out.detach()
        except (ValueError, BrokenPipeError):
            pass


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
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
        raise UsageError(f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    rows = iter_export_rows(store, filters, limit=limit)
    with open_output(output) as out:
        return write_rows(rows, out, fmt)
