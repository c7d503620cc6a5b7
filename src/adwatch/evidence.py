"""Evidence: every fetched article page kept as served, in WARC files next to the store.

    adwatch.db
    adwatch.db-evidence/                     private, as the store is (adwatch.files)
        adwatch-20261205-063000-1.warc.gz    a scan's file: warcinfo, then for each page
        adwatch-20261205-063000-2.warc.gz      its response and request; the next file
                                               once this one reaches max_file_bytes

Each record is its own gzip member and a page's two records are written at once and
flushed, so a scan killed at any moment leaves files that read up to their last
complete record. A writer never appends to a file that already exists: a file a
killed scan left may end inside a record. The store keeps where a page's response
record starts (`articles.warc_file`, `articles.warc_offset`) and the SHA-256 of its
body (`articles.sha256`); warcio's own digests are SHA-1. See docs/evidence.md.
"""

from __future__ import annotations

import hashlib
import http
import io
import os
import re
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import IO, Any, BinaryIO
from urllib.parse import quote, urlsplit, urlunsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders, StatusAndHeadersParser
from warcio.warcwriter import WARCWriter

from adwatch import __version__
from adwatch.errors import StoreError
from adwatch.files import create_private
from adwatch.models import EvidenceRef, EvidenceSettings, FetchResult
from adwatch.store import Store
from adwatch.text.dates import iso_utc, parse_timestamp

# Only files named like this are ever pruned: the folder may hold someone's own files.
FILE_NAME = re.compile(r"^adwatch-(\d{8})-(\d{6})-(\d+)\.warc\.gz$")
# The folder gets the private files' permissions plus the search bit, narrowed by the umask.
FOLDER_MODE = 0o770

SHA256_HEADER = "WARC-Adwatch-SHA256"  # hex SHA-256 of the body as stored, in the response
REQUESTED_HEADER = "WARC-Adwatch-Requested-URI"  # the URL asked for, when it redirected
# adwatch keeps the body decompressed and de-chunked: a replay tool must not undo a
# coding that is no longer there, so these headers are kept under other names.
_RENAMED_HEADERS = {
    "content-encoding": "x-adwatch-original-content-encoding",
    "transfer-encoding": "x-adwatch-original-transfer-encoding",
}
# Request headers that would carry a credential; adwatch sends none, and none is kept.
_SECRET_REQUEST_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # an HTTP header name (RFC 9110)
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # tab stays: HTTP allows it
# What a URL not yet encoded keeps as it is; anything else (a space, a Thai letter) is
# percent-encoded.
_URL_SAFE = "!#$%&'()*+,/:;=?@[]~"
_READ_CHUNK = 1 << 16


class EvidenceError(StoreError):
    "Kept evidence is missing, unreadable or does not match its SHA-256"


@dataclass(frozen=True)
class PreparedPage:
    """A page's WARC records, built where the page was extracted (a scan's worker: the
    compression is CPU work), appended to a file by the writer."""

    url: str  # WARC-Target-URI
    sha256: str  # hex, of the response body as stored
    data: bytes  # the records, each its own gzip member


def prepare_page(
    page: FetchResult,
    *,
    request_headers: Mapping[str, str],
    fetched_at: str,
    reason: str | None = None,
) -> PreparedPage:
    """The records that keep `page` (the request adwatch sent with `request_headers`, and
    the response with its body as stored); `reason` is the server's reason phrase."""
    url = _target_uri(page.final_url)
    sha256 = hashlib.sha256(page.content).hexdigest()
    data = _page_records(
        page, url, sha256, headers=request_headers, date=_warc_date(fetched_at), reason=reason
    )
    return PreparedPage(url, sha256, data)


@dataclass(frozen=True)
class EvidencePage:
    """A kept page read back: the HTTP response as stored, its body checked."""

    url: str  # WARC-Target-URI: the final URL, after redirects
    fetched_at: str  # WARC-Date, an adwatch timestamp
    status: int | None  # None for a page read from a file:// URL (a resource record)
    headers: tuple[tuple[str, str], ...]  # as stored: see _response_headers
    body: bytes
    sha256: str
    record_id: str  # WARC-Record-ID, which the page's request record refers to


class EvidenceWriter:
    """Appends each page's records to `adwatch-YYYYMMDD-HHMMSS-N.warc.gz` files in `folder`.

    One writer per scan, used from one thread. The first file is created at the first
    page (a scan with nothing new leaves no file); a file is closed and another started
    when the next page would take it past `settings.max_file_bytes`, unless it holds no
    page yet (a page bigger than the cap gets a file of its own). Each page is flushed
    once written; `close` also syncs the file to disk.
    """

    def __init__(self, folder: Path, settings: EvidenceSettings | None = None) -> None:
        self.folder = folder
        self.settings = settings or EvidenceSettings()
        self.pages_written = 0
        self.bytes_written = 0  # warcinfo records included
        self.files: list[str] = []  # the files this writer created, in order
        self._file: BinaryIO | None = None
        self._size = 0
        self._holds_pages = False
        self._kept: dict[tuple[str, str], EvidenceRef] = {}

    def write(
        self,
        page: FetchResult,
        *,
        request_headers: Mapping[str, str],
        fetched_at: str,
        reason: str | None = None,
    ) -> EvidenceRef:
        """Keep `page` (the request adwatch sent with `request_headers`, and the response
        with its body as stored); return where it is kept.

        `reason` is the server's reason phrase, when known. A page this writer kept
        already (same final URL and body) is not written again.
        """
        return self.append(
            prepare_page(
                page, request_headers=request_headers, fetched_at=fetched_at, reason=reason
            )
        )

    def append(self, prepared: PreparedPage) -> EvidenceRef:
        """Keep a page `prepare_page` made; return where it is kept."""
        kept = self._kept.get((prepared.url, prepared.sha256))
        if kept is not None:
            return kept
        file = self._file_for(len(prepared.data))
        record = EvidenceRef(self.files[-1], self._size, prepared.sha256)
        self._append(file, prepared.data)
        self._holds_pages = True
        self.pages_written += 1
        self._kept[(prepared.url, prepared.sha256)] = record
        return record

    def close(self) -> None:
        """Flush and sync the open file to disk, and close it."""
        file, self._file = self._file, None
        if file is None:
            return
        try:
            file.flush()
            os.fsync(file.fileno())
        except OSError as exc:
            raise _write_error(self.files[-1], exc) from exc
        finally:
            file.close()
        _sync_folder(self.folder)

    def __enter__(self) -> EvidenceWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _file_for(self, size: int) -> BinaryIO:
        if (
            self._file is not None
            and self._holds_pages
            and self._size + size > self.settings.max_file_bytes
        ):
            self.close()
        if self._file is None:
            self._file = self._open_new()
        return self._file

    def _open_new(self) -> BinaryIO:
        _make_private_folder(self.folder)
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        number = len(self.files)
        while True:
            number += 1
            name = f"adwatch-{stamp}-{number}.warc.gz"
            # Always a new file: one a killed scan left may end inside a record, and a
            # record appended after that would not be readable.
            if create_private(self.folder / name):
                break
        file = open(self.folder / name, "ab")  # kept open across pages: no `with`
        self.files.append(name)
        self._size = 0
        self._holds_pages = False
        self._append(file, _warcinfo(name))
        return file

    def _append(self, file: BinaryIO, data: bytes) -> None:
        try:
            file.write(data)
            file.flush()
        except OSError as exc:
            # The file may now end inside a record: the next page goes to a new file.
            self._file = None
            file.close()
            raise _write_error(self.files[-1], exc) from exc
        self._size += len(data)
        self.bytes_written += len(data)


def read_page(folder: Path, record: EvidenceRef) -> EvidencePage:
    """The page kept at `record`, its body checked against `record.sha256`."""
    with _open_evidence(folder, record.warc_file) as file:
        _compressed, block = _member_at(file, record.warc_offset, record.warc_file)
    return _page_from(block, record)


def export_evidence(folder: Path, records: Iterable[EvidenceRef], output: IO[bytes]) -> int:
    """Write a standalone WARC of `records` to `output`: a warcinfo record, then each
    page's records copied byte for byte; return how many pages were written.

    Every page is checked against its SHA-256 before anything is written, so a page that
    fails leaves `output` empty. A page listed twice is written once.
    """
    return _copy_records(folder, _checked_extents(folder, records), output)


def _checked_extents(folder: Path, records: Iterable[EvidenceRef]) -> dict[EvidenceRef, int]:
    """Each page (once) and how many bytes from its offset hold its records, every page's
    body checked against its SHA-256."""
    extents: dict[EvidenceRef, int] = {}
    for record in records:
        if record in extents:
            continue
        with _open_evidence(folder, record.warc_file) as file:
            response, block = _member_at(file, record.warc_offset, record.warc_file)
            page = _page_from(block, record)
            request = _request_after(file, record.warc_offset + len(response), page.record_id)
        extents[record] = len(response) + len(request)
    return extents


def _copy_records(folder: Path, extents: Mapping[EvidenceRef, int], output: IO[bytes]) -> int:
    """A warcinfo record, then each page's records byte for byte; the pages written."""
    output.write(_warcinfo(None))
    for record, length in extents.items():
        with _open_evidence(folder, record.warc_file) as file:
            file.seek(record.warc_offset)
            output.write(file.read(length))
    return len(extents)


def readable_length(path: Path) -> int:
    """How many bytes from the start of the WARC file at `path` hold complete records.

    A scan killed while writing leaves a file whose end is cut inside a record (gzip
    member); everything before this offset reads, and the rest is that one cut record.
    """
    end = 0  # of the last whole member
    member = 0  # bytes read of the member being inflated
    inflater = _gzip_inflater()
    with open(path, "rb") as file:
        data = file.read(_READ_CHUNK)
        while data:
            try:
                inflater.decompress(data)
            except zlib.error:
                break
            if not inflater.eof:
                member += len(data)
                data = file.read(_READ_CHUNK)
                continue
            rest = inflater.unused_data  # the next members' bytes, read with this one
            end += member + len(data) - len(rest)
            member = 0
            inflater = _gzip_inflater()
            data = rest or file.read(_READ_CHUNK)
    return end


def prune(folder: Path, *, retention_days: int, now: datetime | None = None) -> list[str]:
    """Delete the evidence files in `folder` started more than `retention_days` days
    before `now`; return their names, sorted. Only whole files named as a writer names
    them are deleted: the pages of a newer file are all kept."""
    if retention_days < 1:
        raise ValueError(f"retention_days must be at least 1, got {retention_days!r}")
    cutoff = (now or datetime.now(UTC)) - timedelta(days=retention_days)
    deleted = []
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return []
    for entry in entries:
        name = FILE_NAME.match(entry.name)
        if name is None or not entry.is_file(follow_symlinks=False):
            continue
        started = datetime.strptime(name[1] + name[2], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        if started >= cutoff:
            continue
        try:
            os.unlink(entry.path)
        except FileNotFoundError:
            continue  # another scan pruned it first
        except OSError as exc:
            raise EvidenceError(
                f"cannot delete old evidence file {entry.name!r}: {exc.strerror}"
            ) from exc
        deleted.append(entry.name)
    return sorted(deleted)


# --- building records --------------------------------------------------------------------


def _page_records(
    page: FetchResult,
    url: str,
    sha256: str,
    *,
    headers: Mapping[str, str],
    date: str,
    reason: str | None,
) -> bytes:
    """A page's records as they go into a file: response then request, each gzipped."""
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    parts = urlsplit(url)
    kind = "response" if parts.scheme in ("http", "https") else "resource"
    # In the order WARC readers show them: what the record is first, then the page's own.
    warc_headers = {
        "WARC-Type": kind,
        "WARC-Record-ID": StatusAndHeadersParser.make_warc_id(),
        "WARC-Date": date,
        "WARC-Target-URI": url,
        SHA256_HEADER: sha256,
    }
    requested = _target_uri(page.url)
    if requested != url:
        warc_headers[REQUESTED_HEADER] = requested
    if kind == "resource":
        # A page read from a file:// URL had no HTTP exchange: a resource record keeps its
        # bytes and type, with nothing to pretend about a request.
        resource = writer.create_warc_record(
            url,
            "resource",
            payload=io.BytesIO(page.content),
            length=len(page.content),
            warc_content_type=_clean_value(page.content_type) or "application/octet-stream",
            warc_headers_dict=warc_headers,
        )
        writer.write_record(resource)
        return buffer.getvalue()
    phrase = _clean_value(reason if reason is not None else _standard_phrase(page.status))
    # warcio writes the status line as ASCII and fails on anything else.
    phrase = phrase.encode("ascii", "replace").decode("ascii")
    response = writer.create_warc_record(
        url,
        "response",
        payload=io.BytesIO(page.content),
        length=len(page.content),
        http_headers=StatusAndHeaders(
            f"{page.status} {phrase}", _response_headers(page), protocol="HTTP/1.1"
        ),
        warc_headers_dict=warc_headers,
    )
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    request = writer.create_warc_record(
        url,
        "request",
        http_headers=StatusAndHeaders(
            f"GET {target} HTTP/1.1",
            _request_headers(headers, parts.netloc),
            is_http_request=True,
        ),
    )
    # warcio writes the response first, then the request, linked by WARC-Concurrent-To.
    writer.write_request_response_pair(request, response)
    return buffer.getvalue()


def _response_headers(page: FetchResult) -> list[tuple[str, str]]:
    """The response's headers as the stored body needs them: its codings renamed (the body
    is kept decoded) and Content-Length the stored length."""
    headers = []
    for name, value in page.headers.items():
        cleaned = _clean_header(name, value)
        if cleaned is None:
            continue
        name, value = cleaned
        lowered = name.lower()
        if lowered in _RENAMED_HEADERS:
            headers.append((_RENAMED_HEADERS[lowered], value))
        elif lowered == "content-length":
            if value.strip() != str(len(page.content)):
                headers.append(("x-adwatch-original-content-length", value))
        else:
            headers.append((name, value))
    headers.append(("content-length", str(len(page.content))))
    return headers


def _request_headers(sent: Mapping[str, str], netloc: str) -> list[tuple[str, str]]:
    host = netloc.rpartition("@")[2]
    headers = [] if any(name.lower() == "host" for name in sent) else [("Host", host)]
    for name, value in sent.items():
        cleaned = _clean_header(name, value)
        if cleaned is not None and cleaned[0].lower() not in _SECRET_REQUEST_HEADERS:
            headers.append(cleaned)
    return headers


def _clean_header(name: str, value: str) -> tuple[str, str] | None:
    """The header fit for a record, else None: a line break in a value would start a
    header of its own, and a name that is not a token would break the header block."""
    if not _TOKEN.match(name):
        return None
    return name, _clean_value(value)


def _clean_value(value: str) -> str:
    return _CONTROL_CHARACTERS.sub(" ", value).strip()


def _standard_phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""  # a status Python does not know: an empty reason is allowed (RFC 9112)


def _target_uri(url: str) -> str:
    """`url` as a record names it: no user or password, nothing that breaks a header line."""
    parts = urlsplit(url)
    if "@" in parts.netloc:
        parts = parts._replace(netloc=parts.netloc.rpartition("@")[2])
        url = urlunsplit(parts)
    if url.isascii() and url.isprintable() and " " not in url:
        return url  # as httpx gives it: encoded already, kept exactly
    # Else the request line and the WARC header would not be ASCII, or break apart.
    return quote(url, safe=_URL_SAFE)


def _warc_date(fetched_at: str) -> str:
    """An adwatch timestamp (any ISO-8601 time) as WARC/1.0 writes dates."""
    return iso_utc(parse_timestamp(fetched_at))


def _warcinfo(name: str | None) -> bytes:
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    fields = {
        "software": f"adwatch/{__version__}",
        "format": "WARC File Format 1.0",
        "description": (
            "News pages an adwatch scan fetched. Bodies are stored decoded: the server's"
            " Content-Encoding and Transfer-Encoding are kept as X-Adwatch-Original-*"
            " headers and Content-Length is the stored length."
        ),
    }
    writer.write_record(writer.create_warcinfo_record(name, fields))
    return buffer.getvalue()


# --- files --------------------------------------------------------------------------------


def _make_private_folder(folder: Path) -> None:
    try:
        # The mode applies to a folder made now (narrowed by the umask); one that exists
        # keeps its own, as a file does (adwatch.files).
        folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    except OSError as exc:
        raise EvidenceError(
            f"cannot create the evidence folder {str(folder)!r}: {exc.strerror}"
        ) from exc


def _sync_folder(folder: Path) -> None:
    """Make the new files' names durable too; a platform that cannot open a folder skips it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_error(name: str, exc: OSError) -> EvidenceError:
    return EvidenceError(f"cannot write evidence file {name!r}: {exc.strerror or exc}")


def _open_evidence(folder: Path, warc_file: str) -> BinaryIO:
    # The name comes from the store: it must name a file in the folder, not a path out of it.
    if FILE_NAME.match(warc_file) is None:
        raise EvidenceError(f"not an evidence file name: {warc_file!r}")
    try:
        return open(folder / warc_file, "rb")
    except FileNotFoundError:
        raise EvidenceError(
            f"evidence file {warc_file!r} is gone (deleted by retention?)"
        ) from None
    except OSError as exc:
        raise EvidenceError(f"cannot read evidence file {warc_file!r}: {exc.strerror}") from exc


# --- reading records back -----------------------------------------------------------------


def _member_at(file: BinaryIO, offset: int, name: str) -> tuple[bytes, bytes]:
    """The gzip member (one record) that starts at `offset`: its bytes as stored and
    decompressed. zlib checks the member's CRC, so a returned record is whole."""
    file.seek(offset)
    inflater = _gzip_inflater()
    compressed = bytearray()
    block = bytearray()
    try:
        while not inflater.eof:
            chunk = file.read(_READ_CHUNK)
            if not chunk:
                raise EvidenceError(
                    f"evidence file {name!r} ends inside the record at offset {offset}"
                )
            compressed += chunk
            block += inflater.decompress(chunk)
    except zlib.error as exc:
        raise EvidenceError(
            f"no readable record at offset {offset} of evidence file {name!r}: {exc}"
        ) from exc
    del compressed[len(compressed) - len(inflater.unused_data) :]
    return bytes(compressed), bytes(block)


def _gzip_inflater() -> zlib._Decompress:
    return zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)  # one gzip member, CRC checked


def _parsed(block: bytes) -> Any:
    """warcio's record (untyped: warcio ships no type information) of one record's bytes."""
    return next(iter(ArchiveIterator(io.BytesIO(block))))


def _page_from(block: bytes, record: EvidenceRef) -> EvidencePage:
    where = f"at offset {record.warc_offset} of evidence file {record.warc_file!r}"
    try:
        parsed = _parsed(block)
        kind = parsed.rec_type
        body = parsed.raw_stream.read()
        http_headers = parsed.http_headers if kind == "response" else None
        status = int(http_headers.get_statuscode()) if http_headers else None
        headers = tuple(http_headers.headers) if http_headers else ()
    except Exception as exc:  # warcio raises several types on a malformed record
        raise EvidenceError(f"no readable record {where}: {type(exc).__name__}") from exc
    if kind not in ("response", "resource"):
        raise EvidenceError(f"the record {where} is a {kind!r} record, not a page")
    sha256 = hashlib.sha256(body).hexdigest()
    if sha256 != record.sha256.lower():
        raise EvidenceError(
            f"the page {where} does not match its SHA-256: {sha256!r}, expected {record.sha256!r}"
        )
    return EvidencePage(
        url=parsed.rec_headers.get_header("WARC-Target-URI"),
        fetched_at=parsed.rec_headers.get_header("WARC-Date"),
        status=status,
        headers=headers,
        body=body,
        sha256=sha256,
        record_id=str(parsed.rec_headers.get_header("WARC-Record-ID")),
    )


def _request_after(file: BinaryIO, offset: int, response_id: str) -> bytes:
    """The request record at `offset` when it belongs to the response `response_id`, else
    b"" (a page from a file:// URL has none, and a killed scan may have cut it)."""
    try:
        compressed, block = _member_at(file, offset, "")
        parsed = _parsed(block)
    except Exception:  # no whole request there: the page goes without it
        return b""
    if (
        parsed.rec_type == "request"
        and parsed.rec_headers.get_header("WARC-Concurrent-To") == response_id
    ):
        return compressed
    return b""


# --- `adwatch evidence`: the library half -------------------------------------------------


@dataclass(frozen=True)
class EvidenceExport:
    """What `write_evidence` wrote."""

    pages: int
    missing: tuple[int, ...]  # articles asked for whose page is not kept


def write_evidence(
    store: Store, folder: Path | None, article_ids: Sequence[int], output: str | Path
) -> EvidenceExport:
    """Write the kept pages of `article_ids` as one standalone WARC file at `output`.

    Nothing is written when no page is kept for any of them, or when a kept page is
    missing or fails its SHA-256 (the file is written whole or not at all)."""
    from adwatch.errors import UsageError
    from adwatch.export import open_binary_output

    if folder is None:
        raise UsageError(
            "this store keeps no pages (evidence: is off, or a PostgreSQL store has no "
            "evidence: folder:)",
            field="output",
        )
    kept = store.evidence_of(article_ids)
    missing = tuple(i for i in article_ids if i not in kept)
    if not kept:
        listed = ", ".join(map(str, article_ids[:10]))
        raise UsageError(f"no page is kept for article {listed} (docs/evidence.md)")
    # Checked before the output is opened: nothing half-written.
    extents = _checked_extents(folder, [kept[i] for i in article_ids if i in kept])
    with open_binary_output(output) as out:
        pages = _copy_records(folder, extents, out)
    return EvidenceExport(pages, missing)
