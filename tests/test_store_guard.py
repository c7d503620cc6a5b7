"""adwatch touches only its own stores: other files, newer schemas and empty files are refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adwatch.cli import app
from adwatch.store import open_store

runner = CliRunner()

READ_COMMANDS = [
    ["hits"],
    ["search", "scam"],
    ["export"],
    ["trends"],
    ["show", "1"],
    ["report", "-o", "-"],
]


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _other_database(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO customers (name) VALUES ('Somchai')")
    conn.commit()
    conn.close()
    return path


@pytest.mark.parametrize("command", READ_COMMANDS, ids=lambda c: c[0])
def test_a_read_command_refuses_another_sqlite_database_and_changes_nothing(
    tmp_path: Path, command: list[str]
) -> None:
    other = _other_database(tmp_path / "crm.db")
    before = _snapshot(tmp_path)
    result = runner.invoke(app, ["--db", str(other), *command])
    assert result.exit_code == 2
    assert result.stderr == (
        f"adwatch: {other}: not an adwatch store (an SQLite database with other tables); "
        "nothing was changed\n"
    )
    assert _snapshot(tmp_path) == before  # no schema, no -wal, no journal mode change


def test_scan_refuses_another_sqlite_database(tmp_path: Path) -> None:
    other = _other_database(tmp_path / "crm.db")
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "version: 1\nstore: crm.db\nmarkets: {TH: {name: Thailand, languages: [th]}}\n"
        "sources: [{name: s, url: 'http://127.0.0.1:9/feed.xml', market: TH}]\n"
        "watchlists: [{name: w, category: c, severity: low, terms: {en: [scam]}}]\n",
        encoding="utf-8",
    )
    before = other.read_bytes()
    result = runner.invoke(app, ["--config", str(config), "scan", "--quiet"])
    assert result.exit_code == 2
    assert "not an adwatch store" in result.stderr
    assert other.read_bytes() == before
    assert sqlite3.connect(other).execute("SELECT name FROM customers").fetchall() == [("Somchai",)]


def test_a_file_that_is_not_sqlite_is_refused_in_one_line(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("meeting notes, not a database\n" * 50, encoding="utf-8")
    result = runner.invoke(app, ["--db", str(notes), "hits"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"adwatch: {notes}: not an adwatch store (not an SQLite")
    assert len(result.stderr.splitlines()) == 1
    assert notes.read_text(encoding="utf-8").startswith("meeting notes")


def test_an_empty_file_is_not_made_a_store_by_a_read_command(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    result = runner.invoke(app, ["--db", str(empty), "hits"])
    assert result.exit_code == 2
    assert "not an adwatch store (an empty file)" in result.stderr
    assert empty.stat().st_size == 0
    # A scan may start a store in it: there is nothing to lose.
    open_store(empty).close()
    assert empty.stat().st_size > 0


def test_a_store_written_by_a_newer_adwatch_is_refused_by_reads_and_scans(tmp_path: Path) -> None:
    path = tmp_path / "adwatch.db"
    open_store(path).close()
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
        "VALUES ('adwatch', 'm999_from_the_future', '2030-01-01')"
    )
    conn.commit()
    conn.close()
    result = runner.invoke(app, ["--db", str(path), "hits"])
    assert result.exit_code == 2
    assert "written by a newer adwatch" in result.stderr
    assert "'m999_from_the_future'" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    with pytest.raises(Exception, match="newer adwatch"):
        open_store(path)  # the scan's way in: create=True


def test_a_missing_store_is_a_usage_error_everywhere(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.db"
    for command in (["hits"], ["show", "1"], ["export"]):
        result = runner.invoke(app, ["--db", str(missing), *command])
        assert result.exit_code == 2, command
        assert (
            result.stderr == f"adwatch: {missing}: no store here yet (run `adwatch scan` first)\n"
        )
    assert not missing.exists()


def test_old_rows_with_terminal_escapes_leave_every_output_clean(tmp_path: Path) -> None:
    # A store written before the scan stripped them: the outputs clean them on the way out.
    from query_fixtures import fill_store

    path = tmp_path / "adwatch.db"
    fill_store(path)
    conn = sqlite3.connect(path)
    conn.execute(
        "UPDATE articles SET title = ? WHERE id = 1",
        ["Scam \x1b]0;owned\x07 ad \x1b[2J \u202eevil\u2066 \u200f\x9b31m"],
    )
    conn.commit()
    conn.close()
    unsafe = "\x1b\x07\u202e\u2066\u200f\x9b"
    outputs = [
        ["hits", "-f", "csv"],
        ["hits", "-f", "json"],
        ["hits", "-f", "jsonl"],
        ["hits", "--group-by", "article", "-f", "csv"],
        ["hits", "--group-by", "article", "-f", "json"],
        ["export"],
        ["export", "-f", "json"],
        ["show", "1", "-f", "json"],
        ["search", "scam", "-f", "json"],
        ["report", "--since", "3650d", "-o", "-"],
    ]
    for command in outputs:
        result = runner.invoke(app, ["--db", str(path), *command])
        assert result.exit_code == 0, (command, result.stderr)
        assert not [ch for ch in unsafe if ch in result.stdout], command


def test_an_unknown_store_url_is_named_as_the_option_that_gave_it(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--db", "mysql://user:secret@db/adwatch", "hits"])
    assert result.exit_code == 2
    assert result.stderr.startswith("adwatch: --db: unknown store location 'mysql://")
    assert "secret" not in result.stderr  # the password never reaches the terminal
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "version: 1\nstore: 'postgres:/typo'\nmarkets: {TH: {name: T, languages: [th]}}\n"
        "sources: []\nwatchlists: []\n",
        encoding="utf-8",
    )
    checked = runner.invoke(app, ["--config", str(config), "check"])
    assert checked.exit_code == 2
    assert f"{config}:2: store: unknown store location 'postgres:/typo'" in checked.stderr
