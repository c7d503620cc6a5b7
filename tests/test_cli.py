from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from adwatch.cli import app
from adwatch.config import load_config

runner = CliRunner()
COMMANDS = sorted(get_command(app).commands)  # type: ignore[attr-defined]


def adwatch(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed program as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "adwatch", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_every_command_of_the_design_is_registered() -> None:
    assert COMMANDS == sorted(
        [
            "init",
            "demo",
            "check",
            "scan",
            "calibrate",
            "restory",
            "rematch",
            "migrate",
            "hits",
            "show",
            "alerts",
            "evidence",
            "pivot",
            "indicators",
            "rules",
            "stories",
            "story",
            "triage",
            "export",
            "search",
            "sources",
            "trends",
            "report",
        ]  # fmt: skip
    )


@pytest.mark.parametrize("name", COMMANDS)
def test_commands_have_help(name: str) -> None:
    command = get_command(app).commands[name]  # type: ignore[attr-defined]
    assert command.help, f"{name} is missing its help"
    result = runner.invoke(app, [name, "--help"])
    assert result.exit_code == 0
    assert "Usage: adwatch" in result.output or "Usage: root" in result.output


def test_init_then_check_in_an_empty_folder(tmp_path: Path) -> None:
    init = adwatch("init", cwd=tmp_path)
    assert init.returncode == 0, init.stderr
    assert (tmp_path / "feeds.yaml").exists()
    check = adwatch("check", cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    config = load_config(tmp_path / "feeds.yaml")
    assert check.stdout.startswith(f"feeds.yaml: OK: {len(config.sources)} sources in 3 markets")


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    (tmp_path / "feeds.yaml").write_text("mine", encoding="utf-8")
    result = adwatch("init", cwd=tmp_path)
    assert result.returncode == 2
    assert (
        result.stderr.strip() == "adwatch: feeds.yaml: already exists (use --force to overwrite it)"
    )
    assert (tmp_path / "feeds.yaml").read_text(encoding="utf-8") == "mine"


def test_missing_config_is_one_line_exit_2(tmp_path: Path) -> None:
    result = adwatch("--config", "missing.yaml", "hits", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "adwatch: missing.yaml: config file not found (run `adwatch init` to write one)"
    )
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def test_bad_config_is_one_line_exit_2_for_check_and_scan(tmp_path: Path) -> None:
    (tmp_path / "feeds.yaml").write_text(
        "version: 1\nmarkets:\n  TH: {name: Thailand}\nsources:\n  - name: a\n"
        "    url: http://example.com/f\n    market: XX\n",
        encoding="utf-8",
    )
    for command in ("check", "scan"):
        result = adwatch(command, cwd=tmp_path)
        assert result.returncode == 2
        assert result.stderr.strip() == (
            "adwatch: feeds.yaml:7: sources[a].market: unknown market 'XX' (known: TH)"
        )
    assert not (tmp_path / "adwatch.db").exists()


def test_config_from_environment(tmp_path: Path) -> None:
    config = tmp_path / "conf" / "mine.yaml"
    config.parent.mkdir()
    config.write_text(
        "markets:\n  TH: {name: Thailand}\nsources: []\nwatchlists:\n"
        "  - name: w\n    terms: [scam]\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["check"], env={"ADWATCH_CONFIG": str(config)})
    assert result.exit_code == 0, result.output
    assert "0 sources in 1 markets, 1 watchlists (1 terms, 0 queries)" in result.output


def test_version_and_python_dash_m(tmp_path: Path) -> None:
    result = adwatch("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("adwatch ")


def test_scan_exits_75_while_another_scan_holds_the_lock(tmp_path: Path) -> None:
    (tmp_path / "feeds.yaml").write_text(
        "markets:\n  TH: {name: Thailand}\nsources: []\n", encoding="utf-8"
    )
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import time
            from adwatch.store import scan_lock
            with scan_lock({str(tmp_path / "adwatch.db")!r}):
                print("locked", flush=True)
                time.sleep(60)
        """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        result = adwatch("scan", cwd=tmp_path)
        assert result.returncode == 75
        assert "another scan is running on this store" in result.stderr
        assert f"pid {holder.pid}" in result.stderr
    finally:
        holder.kill()
        holder.wait()


def test_unexpected_error_is_one_line_without_debug() -> None:
    # A hidden command that fails like a bug would, to check the error path.
    @app.command("explode", hidden=True)
    def explode() -> None:
        raise ZeroDivisionError("boom")

    try:
        result = runner.invoke(app, ["explode"])
        assert result.exit_code == 1
        assert (
            "internal error: ZeroDivisionError: boom (this is a bug; run with --debug"
            in result.output
        )
        debug = runner.invoke(app, ["--debug", "explode"])
        assert isinstance(debug.exception, ZeroDivisionError)
    finally:
        app.registered_commands.pop()
    assert "explode" not in get_command(app).commands  # type: ignore[attr-defined]


def test_bad_option_value_is_a_usage_error_not_a_bug(tmp_path: Path) -> None:
    (tmp_path / "feeds.yaml").write_text("markets:\n  TH: {name: Thailand}\nsources: []\n", "utf-8")
    result = adwatch("hits", "--limit", "many", cwd=tmp_path)
    assert result.returncode == 2
    assert "Invalid value for '--limit'" in result.stderr
    assert "internal error" not in result.stderr


def test_a_run_builds_only_the_command_it_runs() -> None:
    from adwatch.cli import _app_for, _command_name

    narrow = _app_for(["-c", "feeds.yaml", "--db", "other.db", "--debug", "scan", "--quiet"])
    assert [_command_name(c) for c in narrow.registered_commands] == ["scan"]
    # The app itself is untouched (`rules` is a group of commands, not a command).
    assert len(app.registered_commands) + len(app.registered_groups) == len(COMMANDS)
    for argv in ([], ["--help"], ["--version"], ["scn"], ["-c", "scan"]):
        assert _app_for(argv) is app, argv  # help and "no such command" list every command
