"""Evidence WARC files, written with our writer and read back with warcio itself."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import random
import signal
import subprocess
import sys
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from warcio.archiveiterator import ArchiveIterator

from adwatch.evidence import (
    EvidenceError,
    EvidenceWriter,
    export_evidence,
    prune,
    read_page,
    readable_length,
)
from adwatch.models import EvidenceRef, EvidenceSettings, FetchResult
from adwatch.store import evidence_folder

FETCHED_AT = "2026-12-05T06:30:00Z"
SENT = {"User-Agent": "adwatch/0.1.0 (+https://example.org)", "Accept": "text/html"}
THAI = "<p>โฆษณาหลอกลงทุน ดีปเฟก</p>".encode()
BURMESE = "<p>လိမ်လည်ကြော်ငြာ မြန်မာ</p>".encode()
# Every byte value, CR LF pairs and a fake record boundary: stored exactly as they came.
BINARY = bytes(range(256)) + b"\r\n\r\nWARC/1.0\r\n" + bytes(range(255, -1, -1))


def page(url: str, body: bytes, **headers: str) -> FetchResult:
    names = {"content-type": "text/html; charset=utf-8"}
    names.update({name.replace("_", "-"): value for name, value in headers.items()})
    return FetchResult(url=url, final_url=url, status=200, headers=names, content=body)


@dataclass(frozen=True)
class Read:
    """One record as warcio reads it."""

    kind: str
    warc: dict[str, str]
    http: dict[str, str]
    statusline: str  # the HTTP request or status line
    body: bytes


def warc_records(data: bytes) -> list[Read]:
    """Every record warcio reads from `data`, with its block as stored."""
    found = []
    for record in ArchiveIterator(io.BytesIO(data), check_digests="raise"):
        headers = record.http_headers
        found.append(
            Read(
                record.rec_type,
                dict(record.rec_headers.headers),
                dict(headers.headers) if headers else {},
                f"{headers.protocol} {headers.statusline}" if headers else "",
                record.raw_stream.read(),
            )
        )
    return found


def files_of(folder: Path) -> list[Path]:
    return sorted(folder.glob("adwatch-*.warc.gz"))


# --- what a page's records hold -----------------------------------------------------------


def test_records_keep_request_response_headers_and_exact_bodies(tmp_path: Path) -> None:
    folder = tmp_path / "adwatch.db-evidence"
    pages = [
        page("https://news.example.co.th/a/1", THAI, etag='"t1"'),
        page("https://news.example.com.mm/a/2", BURMESE),
        page("https://files.example.com/a.bin", BINARY, content_type="application/pdf"),
        page("https://news.example.vn/empty", b""),
    ]
    with EvidenceWriter(folder) as writer:
        kept = [writer.write(p, request_headers=SENT, fetched_at=FETCHED_AT) for p in pages]

    [file] = files_of(folder)
    records = warc_records(file.read_bytes())
    assert [r.kind for r in records] == ["warcinfo"] + ["response", "request"] * 4
    assert b"software: adwatch/" in records[0].body
    for index, (sent, where) in enumerate(zip(pages, kept, strict=True)):
        response, request = records[1 + 2 * index], records[2 + 2 * index]
        assert response.body == sent.content
        assert response.statusline == "HTTP/1.1 200 OK"
        assert response.http["content-length"] == str(len(sent.content))
        assert response.warc["WARC-Target-URI"] == sent.final_url
        assert response.warc["WARC-Date"] == FETCHED_AT
        assert response.warc["WARC-Adwatch-SHA256"] == hashlib.sha256(sent.content).hexdigest()
        assert where.sha256 == hashlib.sha256(sent.content).hexdigest()
        assert request.warc["WARC-Concurrent-To"] == response.warc["WARC-Record-ID"]
        assert request.warc["WARC-Target-URI"] == sent.final_url
        assert request.statusline == f"GET {urlsplit(sent.final_url).path} HTTP/1.1"
        assert request.http["Host"] == urlsplit(sent.final_url).netloc
        assert request.http["User-Agent"] == SENT["User-Agent"]
        assert read_page(folder, where).body == sent.content
    assert records[1].http["etag"] == '"t1"'
    assert records[5].http["content-type"] == "application/pdf"


def test_codings_adwatch_undid_are_renamed_and_the_length_is_the_stored_one(tmp_path: Path) -> None:
    served = FetchResult(
        url="https://user:secret@news.example.com/story?id=7",
        final_url="https://news.example.com/story-7?id=7",
        status=200,
        headers={
            "content-type": "text/html",
            "content-encoding": "gzip",
            "transfer-encoding": "chunked",
            "content-length": "61",
            "x-injected": "a\r\nset-cookie: evil=1",
        },
        content=THAI,
    )
    sent = {**SENT, "Authorization": "Bearer token", "Cookie": "s=1", "If-None-Match": '"v1"'}
    with EvidenceWriter(tmp_path) as writer:
        where = writer.write(served, request_headers=sent, fetched_at="2026-12-05T13:30:00+07:00")

    got = read_page(tmp_path, where)
    headers = dict(got.headers)
    assert "content-encoding" not in headers and "transfer-encoding" not in headers
    assert headers["x-adwatch-original-content-encoding"] == "gzip"
    assert headers["x-adwatch-original-transfer-encoding"] == "chunked"
    assert headers["x-adwatch-original-content-length"] == "61"
    assert headers["content-length"] == str(len(THAI))
    assert "set-cookie" not in headers and headers["x-injected"] == "a  set-cookie: evil=1"
    assert got.fetched_at == "2026-12-05T06:30:00Z"  # WARC dates are UTC
    assert got.url == "https://news.example.com/story-7?id=7"

    records = warc_records(files_of(tmp_path)[0].read_bytes())
    response, request = records[1], records[2]
    assert response.warc["WARC-Adwatch-Requested-URI"] == "https://news.example.com/story?id=7"
    assert request.statusline == "GET /story-7?id=7 HTTP/1.1"
    assert request.http["If-None-Match"] == '"v1"'
    assert "Authorization" not in request.http and "Cookie" not in request.http
    assert b"secret" not in gzip.decompress(files_of(tmp_path)[0].read_bytes())


def test_status_phrase_from_the_server_or_http_status(tmp_path: Path) -> None:
    with EvidenceWriter(tmp_path) as writer:
        standard = writer.write(
            page("https://a.example/1", b"x"), request_headers=SENT, fetched_at=FETCHED_AT
        )
        unusual = FetchResult("https://a.example/2", "https://a.example/2", 299, {}, b"y")
        unknown = writer.write(unusual, request_headers=SENT, fetched_at=FETCHED_AT)
        served = writer.write(
            page("https://a.example/3", b"z"),
            request_headers=SENT,
            fetched_at=FETCHED_AT,
            reason="Fine",
        )
    data = files_of(tmp_path)[0].read_bytes()
    lines = [r.statusline for r in warc_records(data) if r.kind == "response"]
    assert lines == ["HTTP/1.1 200 OK", "HTTP/1.1 299", "HTTP/1.1 200 Fine"]
    # No phrase for a status Python does not know: the line ends after the code's space.
    assert b"\r\nHTTP/1.1 299 \r\n" in gzip.decompress(data)
    assert [read_page(tmp_path, r).status for r in (standard, unknown, served)] == [200, 299, 200]


def test_what_httpx_would_have_encoded_is_written_as_ascii(tmp_path: Path) -> None:
    served = page("https://th.example/ข่าว/a b?q=โฆษณา", THAI)
    with EvidenceWriter(tmp_path) as writer:
        where = writer.write(served, request_headers=SENT, fetched_at=FETCHED_AT, reason="Reçu")
    records = warc_records(files_of(tmp_path)[0].read_bytes())
    encoded = "https://th.example/%E0%B8%82%E0%B9%88%E0%B8%B2%E0%B8%A7/a%20b?q=%E0%B9%82%E0%B8%86%E0%B8%A9%E0%B8%93%E0%B8%B2"
    assert records[1].warc["WARC-Target-URI"] == encoded
    assert records[1].statusline == "HTTP/1.1 200 Re?u"
    assert (
        records[2].statusline == "GET " + encoded.removeprefix("https://th.example") + " HTTP/1.1"
    )
    assert read_page(tmp_path, where).body == THAI


def test_a_file_page_is_a_resource_record(tmp_path: Path) -> None:
    local = page("file:///srv/demo/story.html", THAI)
    with EvidenceWriter(tmp_path) as writer:
        where = writer.write(local, request_headers={}, fetched_at=FETCHED_AT)
    records = warc_records(files_of(tmp_path)[0].read_bytes())
    assert [r.kind for r in records] == ["warcinfo", "resource"]
    assert records[1].warc["Content-Type"] == "text/html; charset=utf-8"
    assert records[1].body == THAI
    got = read_page(tmp_path, where)
    assert (got.status, got.body, got.url) == (None, THAI, "file:///srv/demo/story.html")


# --- reading back and checking --------------------------------------------------------------


def test_read_page_checks_the_sha256_and_the_file_name(tmp_path: Path) -> None:
    with EvidenceWriter(tmp_path) as writer:
        where = writer.write(
            page("https://a.example/1", THAI), request_headers=SENT, fetched_at=FETCHED_AT
        )
    assert read_page(tmp_path, where).sha256 == hashlib.sha256(THAI).hexdigest()

    other = EvidenceRef(where.warc_file, where.warc_offset, hashlib.sha256(b"other").hexdigest())
    with pytest.raises(EvidenceError, match="does not match its SHA-256"):
        read_page(tmp_path, other)
    with pytest.raises(EvidenceError, match="not an evidence file name"):
        read_page(tmp_path, EvidenceRef("../adwatch.db", 0, where.sha256))
    with pytest.raises(EvidenceError, match="is gone"):
        read_page(tmp_path, EvidenceRef("adwatch-20200101-000000-1.warc.gz", 0, where.sha256))
    with pytest.raises(EvidenceError, match="not a page"):
        read_page(tmp_path, EvidenceRef(where.warc_file, 0, where.sha256))  # the warcinfo

    # One byte changed inside the stored record: gzip's CRC no longer holds.
    file = tmp_path / where.warc_file
    data = bytearray(file.read_bytes())
    data[where.warc_offset + 40] ^= 0xFF
    file.write_bytes(bytes(data))
    with pytest.raises(EvidenceError, match="offset"):
        read_page(tmp_path, where)


def test_a_page_kept_by_this_writer_is_not_written_again(tmp_path: Path) -> None:
    with EvidenceWriter(tmp_path) as writer:
        first = writer.write(
            page("https://a.example/1", THAI), request_headers=SENT, fetched_at=FETCHED_AT
        )
        again = writer.write(
            page("https://a.example/1", THAI), request_headers=SENT, fetched_at=FETCHED_AT
        )
        changed = writer.write(
            page("https://a.example/1", BURMESE), request_headers=SENT, fetched_at=FETCHED_AT
        )
    assert again == first and changed != first
    assert writer.pages_written == 2
    kinds = [r.kind for r in warc_records(files_of(tmp_path)[0].read_bytes())]
    assert kinds.count("response") == 2


def test_export_copies_the_chosen_pages_byte_for_byte(tmp_path: Path) -> None:
    folder = tmp_path / "evidence"
    bodies = [THAI, BURMESE, BINARY, b"<p>four</p>", b"<p>five</p>"]
    with EvidenceWriter(folder, EvidenceSettings(max_file_bytes=3_000)) as writer:
        kept = [
            writer.write(
                page(f"https://a.example/{i}", body), request_headers=SENT, fetched_at=FETCHED_AT
            )
            for i, body in enumerate(bodies)
        ]
    assert len({where.warc_file for where in kept}) > 1  # the export reads from several files

    chosen = [kept[3], kept[0], kept[3]]  # a story's articles; one listed twice
    output = io.BytesIO()
    assert export_evidence(folder, chosen, output) == 2

    records = warc_records(output.getvalue())
    assert [r.kind for r in records] == ["warcinfo", "response", "request", "response", "request"]
    assert [r.body for r in records if r.kind == "response"] == [bodies[3], bodies[0]]
    assert [r.warc["WARC-Target-URI"] for r in records[1:]] == ["https://a.example/3"] * 2 + [
        "https://a.example/0"
    ] * 2
    # The page's two gzip members appear in the export exactly as in the evidence file.
    source = (folder / kept[3].warc_file).read_bytes()[kept[3].warc_offset :]
    end = readable_length(folder / kept[3].warc_file) - kept[3].warc_offset
    members = _members(source[:end])
    assert output.getvalue().find(members[0] + members[1]) > 0


def _members(data: bytes) -> list[bytes]:
    """`data` cut into its gzip members."""
    members = []
    while data:
        inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
        inflater.decompress(data)
        used = len(data) - len(inflater.unused_data)
        members.append(data[:used])
        data = data[used:]
    return members


def test_export_refuses_a_page_that_no_longer_matches(tmp_path: Path) -> None:
    with EvidenceWriter(tmp_path) as writer:
        where = writer.write(
            page("https://a.example/1", THAI), request_headers=SENT, fetched_at=FETCHED_AT
        )
    wrong = EvidenceRef(where.warc_file, where.warc_offset, hashlib.sha256(BURMESE).hexdigest())
    output = io.BytesIO()
    with pytest.raises(EvidenceError, match="SHA-256"):
        export_evidence(tmp_path, [where, wrong], output)
    assert output.getvalue() == b""  # nothing half-written


# --- files: rotation, retention, kills ------------------------------------------------------


def incompressible(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def test_files_rotate_at_the_size_cap(tmp_path: Path) -> None:
    cap = 20_000
    bodies = [incompressible(6_000, seed) for seed in range(7)] + [incompressible(30_000, 99)]
    with EvidenceWriter(tmp_path, EvidenceSettings(max_file_bytes=cap)) as writer:
        kept = [
            writer.write(
                page(f"https://a.example/{i}", body), request_headers=SENT, fetched_at=FETCHED_AT
            )
            for i, body in enumerate(bodies)
        ]
        kept.append(
            writer.write(
                page("https://a.example/after", THAI), request_headers=SENT, fetched_at=FETCHED_AT
            )
        )

    files = files_of(tmp_path)
    assert writer.files == [file.name for file in files]
    per_file = [_members(file.read_bytes()) for file in files]
    # warcinfo, then two records a page: two 6 KB pages fit under the cap, a third not;
    # the 30 KB page goes alone, and the next page needs a new file after it.
    assert [(len(members) - 1) // 2 for members in per_file] == [2, 2, 2, 1, 1, 1]
    for file, members in zip(files, per_file, strict=True):
        assert warc_records(file.read_bytes())[0].kind == "warcinfo"
        assert file.stat().st_size <= cap or len(members) == 3
    for file, following in zip(files, per_file[1:], strict=False):
        # A file was closed only because the next page would have taken it past the cap.
        assert file.stat().st_size + len(following[1]) + len(following[2]) > cap
    big = kept[7]
    assert [r.kind for r in warc_records((tmp_path / big.warc_file).read_bytes())] == [
        "warcinfo",
        "response",
        "request",
    ]
    for where, body in zip(kept, [*bodies, THAI], strict=True):
        assert read_page(tmp_path, where).body == body
    assert writer.bytes_written == sum(f.stat().st_size for f in files)


def test_prune_deletes_only_whole_old_files_of_ours(tmp_path: Path) -> None:
    with EvidenceWriter(tmp_path) as writer:
        writer.write(page("https://a.example/1", THAI), request_headers=SENT, fetched_at=FETCHED_AT)
    [written] = files_of(tmp_path)
    content = written.read_bytes()
    written.unlink()
    names = {
        "adwatch-20261001-063000-1.warc.gz": True,  # 65 days before `now`
        "adwatch-20261105-062959-3.warc.gz": True,  # 30 days and one second
        "adwatch-20261105-063001-1.warc.gz": False,  # 30 days less one second
        "adwatch-20261204-063000-1.warc.gz": False,
        "notes-20261001.warc.gz": False,  # someone else's file
        "adwatch-20261001-063000-1.warc": False,  # not named as we name them
    }
    for name in names:
        (tmp_path / name).write_bytes(content)
    (tmp_path / "adwatch-20261001-063000-2.warc.gz").mkdir()  # a folder is never deleted

    now = datetime(2026, 12, 5, 6, 30, 0, tzinfo=UTC)
    deleted = prune(tmp_path, retention_days=30, now=now)

    assert deleted == sorted(name for name, old in names.items() if old)
    left = {path.name for path in tmp_path.iterdir()}
    assert left == {name for name, old in names.items() if not old} | {
        "adwatch-20261001-063000-2.warc.gz"
    }
    assert (tmp_path / "adwatch-20261204-063000-1.warc.gz").read_bytes() == content
    assert prune(tmp_path / "missing", retention_days=30, now=now) == []
    with pytest.raises(ValueError, match="retention_days"):
        prune(tmp_path, retention_days=0, now=now)


def test_a_file_cut_anywhere_reads_up_to_the_cut(tmp_path: Path) -> None:
    bodies = [THAI, BINARY, BURMESE, incompressible(3_000, 1), b"", b"<p>six</p>"]
    with EvidenceWriter(tmp_path) as writer:
        for i, body in enumerate(bodies):
            writer.write(
                page(f"https://a.example/{i}", body), request_headers=SENT, fetched_at=FETCHED_AT
            )
    [file] = files_of(tmp_path)
    data = file.read_bytes()
    members = _members(data)
    ends = [sum(map(len, members[: i + 1])) for i in range(len(members))]
    whole = warc_records(data)
    assert len(whole) == len(members) == 13

    cuts = sorted(random.Random(13).sample(range(1, len(data)), 150)) + ends
    for cut in cuts:
        cut_file = tmp_path / "cut.warc.gz"
        cut_file.write_bytes(data[:cut])
        complete = sum(end <= cut for end in ends)
        assert readable_length(cut_file) == (ends[complete - 1] if complete else 0)
        # The reading docs/evidence.md gives: every whole record before the cut, and
        # nothing made up from the cut one.
        read = [(r.kind, r.body) for r in records_before_a_cut(data[:cut])]
        assert len(read) >= complete, cut  # the cut may fall in the last gzip bytes only
        assert read == [(r.kind, r.body) for r in whole[: len(read)]], cut


def records_before_a_cut(data: bytes) -> list[Read]:
    """A cut file's records as docs/evidence.md says to read them with warcio: those whose
    digest passed, up to the first error."""
    found = []
    try:
        for record in ArchiveIterator(io.BytesIO(data), check_digests=True):
            body = record.raw_stream.read()
            if record.digest_checker.passed is True:
                found.append(Read(record.rec_type, {}, {}, "", body))
    except Exception:  # the cut record's headers: warcio raises several types
        pass
    return found


def test_a_new_writer_never_appends_to_an_existing_file(tmp_path: Path) -> None:
    with EvidenceWriter(tmp_path) as first:
        first.write(page("https://a.example/1", THAI), request_headers=SENT, fetched_at=FETCHED_AT)
    [old] = files_of(tmp_path)
    old.write_bytes(old.read_bytes()[:-20])  # a killed scan's last record, cut
    before = old.read_bytes()

    with EvidenceWriter(tmp_path) as second:
        where = second.write(
            page("https://a.example/2", BURMESE), request_headers=SENT, fetched_at=FETCHED_AT
        )
    assert where.warc_file != old.name
    assert old.read_bytes() == before
    assert read_page(tmp_path, where).body == BURMESE


def test_an_empty_scan_leaves_no_file(tmp_path: Path) -> None:
    folder = tmp_path / "adwatch.db-evidence"
    with EvidenceWriter(folder):
        pass
    assert not folder.exists()


KILLED_SCAN = """
import json, sys
from pathlib import Path
from adwatch.evidence import EvidenceWriter
from adwatch.models import FetchResult
writer = EvidenceWriter(Path(sys.argv[1]))
kept = []
for i in range(5):
    body = ("ข่าว %d " % i * 500).encode()
    page = FetchResult("https://a.example/%d" % i, "https://a.example/%d" % i, 200, {}, body)
    kept.append(writer.write(page, request_headers={}, fetched_at="2026-12-05T06:30:00Z").__dict__)
print(json.dumps(kept), flush=True)
sys.stdin.read()  # wait, never closing the writer, until killed
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_killed_scan_leaves_every_written_page_readable(tmp_path: Path) -> None:
    scan = subprocess.Popen(
        [sys.executable, "-c", KILLED_SCAN, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert scan.stdout is not None
    kept = [EvidenceRef(**fields) for fields in json.loads(scan.stdout.readline())]
    scan.send_signal(signal.SIGKILL)
    scan.wait()

    for i, where in enumerate(kept):
        assert read_page(tmp_path, where).body == (f"ข่าว {i} " * 500).encode()
    [file] = files_of(tmp_path)
    assert sum(r.kind == "response" for r in warc_records(file.read_bytes())) == 5


# --- where, and who may read -----------------------------------------------------------------


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_folder_and_files_are_private(tmp_path: Path, umask: int) -> None:
    folder = tmp_path / "adwatch.db-evidence"
    old = os.umask(umask)
    try:
        with EvidenceWriter(folder) as writer:
            writer.write(
                page("https://a.example/1", THAI), request_headers=SENT, fetched_at=FETCHED_AT
            )
    finally:
        os.umask(old)
    assert folder.stat().st_mode & 0o777 == 0o770 & ~umask
    [file] = files_of(folder)
    assert file.stat().st_mode & 0o777 == 0o660 & ~umask


def test_evidence_folder_sits_beside_a_sqlite_store(tmp_path: Path) -> None:
    default = EvidenceSettings()
    store = tmp_path / "team" / "adwatch.db"
    assert evidence_folder(store, default) == tmp_path / "team" / "adwatch.db-evidence"
    assert (
        evidence_folder(f"sqlite://{store}", default) == tmp_path / "team" / "adwatch.db-evidence"
    )
    assert evidence_folder("postgresql://adwatch@db.example/news", default) is None
    chosen = EvidenceSettings(folder=tmp_path / "warcs")
    assert evidence_folder("postgresql://adwatch@db.example/news", chosen) == tmp_path / "warcs"
    assert evidence_folder(store, chosen) == tmp_path / "warcs"
