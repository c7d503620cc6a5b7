from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from pg_fixtures import pg_url  # noqa: F401  (a fresh PostgreSQL database per test)
from pytest_httpserver import HTTPServer

# The suite must give the same answer on every run: property tests draw the same
# examples each time. To hunt for new failures, register a profile without derandomize
# and pass `--hypothesis-profile` to pytest.
settings.register_profile("adwatch", derandomize=True, print_blob=True)
settings.load_profile("adwatch")


def pytest_addoption(parser: pytest.Parser) -> None:
    # The way sqlite-utils reruns its suite under another setting: `--engine postgresql`
    # runs every test that takes `store_at` on a fresh PostgreSQL database instead of a
    # SQLite file (.ci/run runs the store-facing tests both ways).
    parser.addoption(
        "--engine",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="the store engine of tests that use the store_at fixture",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: checks what only the SQLite engine has")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--engine") == "sqlite":
        return
    skip = pytest.mark.skip(reason="SQLite's own behaviour (file, FTS5, query planner)")
    for item in items:
        if "sqlite_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def store_at(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a test's store lives: a SQLite file, or with --engine postgresql a new database."""
    if request.config.getoption("--engine") == "postgresql":
        url: str = request.getfixturevalue("pg_url")
        return url
    return str(tmp_path / "adwatch.db")


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, int]:
    # Loopback only, on a free port: tests never reach another machine.
    return ("127.0.0.1", 0)


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test reads the developer's config, store, proxies or home directory."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for name in (
        "ADWATCH_CONFIG",
        "ADWATCH_DB",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def site() -> Iterator[HTTPServer]:
    """A threaded local server: one slow response must not stall the others."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        if server.is_running():
            server.stop()
