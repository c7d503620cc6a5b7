"""Where output goes and what happens when it fails: devices, FIFOs, links, full disks,
closed pipes and read-only stores each end in one line and the right exit code."""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from query_fixtures import fill_store
from typer.testing import CliRunner

from adwatch.cli import app
from adwatch.errors import StoreError, UsageError
from adwatch.export import open_output
from adwatch.store import open_store, scan_lock

runner = CliRunner()


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "adwatch.db"
    fill_store(path)
    return path


def adwatch(
    *args: str, cwd: Path, stdout: int | None = None, prefix: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """Run `python -m adwatch ARGS` as a user would, through the real entry point."""
    return subprocess.run(
        [*prefix, sys.executable, "-m", "adwatch", *args],
        cwd=cwd,
        stdout=subprocess.PIPE if stdout is None else stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
    )


def device(tmp_path: Path, name: str, major: int, minor: int) -> Path:
    """A character device like /dev/<name>: a private copy of the node when we may make one.

    The copy keeps the real node out of harm's way when a broken adwatch would replace
    what it writes to; without the right to make nodes, the real one is used.
    """
    node = tmp_path / name
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(major, minor))
    except PermissionError:
        return Path("/dev") / name
    return node


# --- what is at the path decides how it is written ---------------------------------------------


def test_export_to_a_character_device_writes_through_and_keeps_the_device(
    store_path: Path, tmp_path: Path
) -> None:
    null = device(tmp_path, "null", 1, 3)
    before = os.stat(null)
    result = runner.invoke(app, ["--db", str(store_path), "export", "-o", str(null)])
    assert result.exit_code == 0, result.output
    after = os.lstat(null)
    assert stat.S_ISCHR(after.st_mode)
    assert (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)
    assert [p.name for p in null.parent.iterdir() if p.name.endswith(".part")] == []


def test_report_to_a_character_device_keeps_the_device(store_path: Path, tmp_path: Path) -> None:
    null = device(tmp_path, "null", 1, 3)
    result = runner.invoke(app, ["--db", str(store_path), "report", "-o", str(null)])
    assert result.exit_code == 0, result.output
    assert stat.S_ISCHR(os.lstat(null).st_mode)


def test_export_to_a_fifo_writes_through_to_its_reader(store_path: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "hits.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    # Opening a FIFO for reading waits for a writer, and reading ends when it closes.
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = runner.invoke(app, ["--db", str(store_path), "export", "-f", "jsonl", "-o", str(fifo)])
    if not stat.S_ISFIFO(os.lstat(fifo).st_mode):
        pytest.fail(f"the FIFO was replaced by a file: {result.output}")
    reader.join(timeout=60)
    assert result.exit_code == 0, result.output
    lines = received[0].decode("utf-8").splitlines()
    assert len(lines) == 8 and lines[0].startswith('{"id": ')


def test_a_symlink_is_followed_and_stays_a_link(store_path: Path, tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    real = exports / "2026-11-25.csv"
    real.write_text("yesterday\n", encoding="utf-8")
    link = tmp_path / "latest.csv"
    link.symlink_to(real)
    result = runner.invoke(app, ["--db", str(store_path), "export", "-o", str(link)])
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text(encoding="utf-8-sig").startswith("id,found_at,")


def test_a_dangling_symlink_creates_its_target_privately(store_path: Path, tmp_path: Path) -> None:
    target = tmp_path / "made.html"
    link = tmp_path / "today.html"
    link.symlink_to(target)
    old = os.umask(0o002)
    try:
        result = runner.invoke(app, ["--db", str(store_path), "report", "-o", str(link)])
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    assert link.is_symlink()
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert stat.S_IMODE(target.stat().st_mode) == 0o660


def test_a_regular_file_is_still_replaced_atomically(store_path: Path, tmp_path: Path) -> None:
    target = tmp_path / "hits.csv"
    target.write_text("old\n", encoding="utf-8")
    inode = target.stat().st_ino
    result = runner.invoke(app, ["--db", str(store_path), "export", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert target.stat().st_ino != inode  # a new file renamed into place
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_a_folder_is_refused_with_one_line(store_path: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["--db", str(store_path), "export", "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output == f"adwatch: --output: {str(tmp_path)!r} is a folder, not a file\n"


def test_a_socket_is_refused_and_left_alone(store_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(str(path))
        result = runner.invoke(app, ["--db", str(store_path), "report", "-o", str(path)])
    assert result.exit_code == 2
    assert result.output == f"adwatch: --output: {str(path)!r} is a socket, not a file\n"
    assert stat.S_ISSOCK(os.lstat(path).st_mode)


def test_a_block_device_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    try:
        os.mknod(disk, stat.S_IFBLK | 0o600, os.makedev(7, 200))
    except PermissionError:
        pytest.skip("making a block device node needs root (CAP_MKNOD)")
    with pytest.raises(UsageError, match="is a block device"), open_output(disk) as out:
        out.write("never")
    assert stat.S_ISBLK(os.lstat(disk).st_mode)


# --- a full device ------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["export", "report"])
def test_output_to_a_full_device_is_one_line_and_exit_1(
    command: str, store_path: Path, tmp_path: Path
) -> None:
    full = device(tmp_path, "full", 1, 7)
    result = adwatch("--db", str(store_path), command, "-o", str(full), cwd=tmp_path)
    assert result.returncode == 1
    assert (
        result.stderr == f"adwatch: --output: cannot write {str(full)!r}: No space left on device\n"
    )
    assert stat.S_ISCHR(os.lstat(full).st_mode)


@pytest.mark.parametrize(
    "args",
    [
        ["hits", "-f", "json"],
        ["hits", "-f", "csv"],
        ["hits"],
        ["export", "-o", "-"],
        ["report", "-o", "-"],
        ["show", "1", "-f", "json"],
        ["--version"],
        ["--help"],
    ],
    ids=" ".join,
)
def test_stdout_on_a_full_device_is_one_line_and_exit_1(
    args: list[str], store_path: Path, tmp_path: Path
) -> None:
    full = device(tmp_path, "full", 1, 7)
    with open(full, "wb") as stdout:
        result = adwatch("--db", str(store_path), *args, cwd=tmp_path, stdout=stdout.fileno())
    assert result.returncode == 1
    assert result.stderr == "adwatch: cannot write to stdout: No space left on device\n"


@pytest.mark.parametrize(
    "args",
    [["hits", "-f", "csv"], ["hits"], ["export", "-o", "-"], ["show", "1", "-f", "json"]],
    ids=" ".join,
)
def test_a_closed_pipe_stops_quietly_with_exit_1(
    args: list[str], store_path: Path, tmp_path: Path
) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first byte, as after `| head -0`
    try:
        result = adwatch("--db", str(store_path), *args, cwd=tmp_path, stdout=write_end)
    finally:
        os.close(write_end)
    assert (result.returncode, result.stderr) == (1, "")


# --- a store this user may read but not write ---------------------------------------------------


def unprivileged() -> tuple[str, ...]:
    """A command prefix that makes file permissions apply to us, as to any analyst.

    Root ignores them, so as root the command runs without the capabilities that let it
    (uid 0 still owns the files, so nothing else changes).
    """
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: cannot make a file read-only for us")
    caps = "-dac_override,-dac_read_search"
    return (setpriv, f"--bounding-set={caps}", f"--inh-caps={caps}", "--")


@pytest.fixture
def read_only_store(tmp_path: Path) -> Iterator[Path]:
    """A filled store, then its file and its folder made read-only."""
    folder = tmp_path / "shared"
    folder.mkdir()
    path = folder / "adwatch.db"
    fill_store(path)
    path.chmod(0o444)
    folder.chmod(0o555)
    try:
        yield path
    finally:
        folder.chmod(0o755)
        path.chmod(0o644)


def write_config(folder: Path, store: Path) -> Path:
    feed = folder / "feed.xml"
    feed.write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        "<item><title>Scam ad on TikTok</title><link>https://ex.example/a1</link>"
        "<description>Police warn about a scam ad on TikTok.</description></item>"
        "</channel></rss>",
        encoding="utf-8",
    )
    config = folder / "feeds.yaml"
    config.write_text(
        f"version: 1\nstore: {store}\n"
        "markets:\n  TH: {name: Thailand, languages: [th, en]}\n"
        f"sources:\n  - {{name: local, url: '{feed.as_uri()}', market: TH, articles: false}}\n"
        "watchlists:\n  - {name: scam-ads, category: fraud, severity: high,"
        " terms: {en: [scam ad]}}\n",
        encoding="utf-8",
    )
    return config


@pytest.mark.parametrize(
    "folder_writable", [False, True], ids=["read-only-folder", "read-only-file"]
)
def test_read_commands_work_on_a_read_only_store(
    read_only_store: Path, tmp_path: Path, folder_writable: bool
) -> None:
    if folder_writable:
        read_only_store.parent.chmod(0o755)
    listed = adwatch(
        "--db", str(read_only_store), "hits", "-f", "jsonl", cwd=tmp_path, prefix=unprivileged()
    )
    assert (listed.returncode, listed.stderr) == (0, "")
    assert len(listed.stdout.splitlines()) == 8
    exported = adwatch(
        "--db",
        str(read_only_store),
        "export",
        "-o",
        str(tmp_path / "out.csv"),
        cwd=tmp_path,
        prefix=unprivileged(),
    )
    assert exported.returncode == 0, exported.stderr


@pytest.mark.parametrize(
    "folder_writable", [False, True], ids=["read-only-folder", "read-only-file"]
)
def test_triage_on_a_read_only_store_is_one_line(
    read_only_store: Path, tmp_path: Path, folder_writable: bool
) -> None:
    if folder_writable:
        read_only_store.parent.chmod(0o755)
    result = adwatch(
        "--db",
        str(read_only_store),
        "triage",
        "1",
        "--status",
        "reviewing",
        cwd=tmp_path,
        prefix=unprivileged(),
    )
    assert result.returncode == 1
    assert result.stderr == (
        f"adwatch: {read_only_store}: cannot write to the store, it is read-only for this "
        "user: attempt to write a readonly database\n"
    )
    statuses = sqlite3.connect(read_only_store.as_uri() + "?mode=ro", uri=True).execute(
        "SELECT status FROM hits WHERE id = 1"
    )
    assert statuses.fetchall() == [("new",)]


def test_scan_into_a_read_only_folder_is_one_line(read_only_store: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path, read_only_store)
    result = adwatch("-c", str(config), "scan", cwd=tmp_path, prefix=unprivileged())
    assert result.returncode == 1
    assert result.stderr == (
        f"adwatch: {read_only_store}: the store is read-only for this user: cannot open the "
        f"scan lock {str(read_only_store) + '.lock'!r}: Permission denied\n"
    )


def test_scan_into_a_read_only_store_file_is_one_line(
    read_only_store: Path, tmp_path: Path
) -> None:
    read_only_store.parent.chmod(0o755)
    config = write_config(tmp_path, read_only_store)
    result = adwatch("-c", str(config), "scan", cwd=tmp_path, prefix=unprivileged())
    assert result.returncode == 1
    assert result.stderr == (
        f"adwatch: {read_only_store}: cannot write to the store, it is read-only for this "
        "user: attempt to write a readonly database\n"
    )


# --- a full disk under the store ------------------------------------------------------------------


def test_a_full_disk_during_a_scan_is_a_store_error(store_path: Path) -> None:
    with pytest.raises(StoreError) as caught, scan_lock(store_path):
        store = open_store(store_path)
        try:
            pages = store.db.execute("PRAGMA page_count").fetchone()[0]
            # As if the disk were full: the file may not grow by a single page.
            store.db.execute(f"PRAGMA max_page_count = {pages}")
            with store.db.conn:
                store.db.execute(
                    "UPDATE articles SET text = text || ? WHERE id = 1", ["x" * 200_000]
                )
        finally:
            store.close()
    assert str(caught.value) == f"{store_path}: cannot write to the store: database or disk is full"


def test_a_full_disk_under_a_command_is_a_store_error(store_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot write to the store: database or disk is full"):
        with open_store(store_path, create=False) as store:
            pages = store.db.execute("PRAGMA page_count").fetchone()[0]
            store.db.execute(f"PRAGMA max_page_count = {pages}")
            with store.db.conn:
                store.db.execute(
                    "UPDATE articles SET text = text || ? WHERE id = 1", ["x" * 200_000]
                )
