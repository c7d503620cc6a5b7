"""The shape of the house (design.md section 8), checked on every run.

Each module under src/adwatch is read with `ast` (never imported), so a rule holds
for code that a test never reaches: imports inside functions count, and so do
`importlib.import_module("...")` calls with a literal name. A broken rule fails
with one line per offence: the module, the import as written with its file and
line, and the rule.

Why a test and not import-linter: these rules fit in one file with no dependency,
and two of them are not about imports at all (no connection and no SQL outside
`adwatch.store`), which import-linter cannot express.

Rules about what a layer must never reach are followed through adwatch's own
modules, as import-linter does: `adwatch.match` importing a module that imports
`adwatch.store` breaks "matching never touches the store". Third-party packages
are not followed (typer imports click, trafilatura can download), only named.
Two rules are about what a module names itself, so they are direct only: a
database driver may be imported in `adwatch.store` alone, and `adwatch.text`
imports nothing of adwatch but itself and `adwatch.errors`.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.main import get_command

from adwatch.cli import app
from adwatch.store.base import Store

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "adwatch"

# --- reading the modules ----------------------------------------------------------------


@dataclass(frozen=True)
class Import:
    """One name a module imports, resolved to absolute dotted names."""

    target: str  # the module it loads: "adwatch.store", "sqlite3", "urllib.request"
    qualified: str  # the name as imported: "adwatch.store.open_store", "urllib.request.urlopen"
    statement: str  # as written, for the message: "from adwatch.store import open_store"
    where: str  # "src/adwatch/match.py:12"

    def is_under(self, prefix: str) -> bool:
        """Whether this import names `prefix` or something inside it."""
        return any(name == prefix or name.startswith(prefix + ".") for name in self.names())

    def names(self) -> tuple[str, str]:
        return self.target, self.qualified


@dataclass(frozen=True)
class Module:
    name: str
    path: str  # relative to the repository, for messages
    tree: ast.Module
    imports: tuple[Import, ...]


def parse_module(
    name: str, source: str, *, path: str, is_package: bool, known: Iterable[str]
) -> Module:
    """A module's syntax tree and every import in it, at any depth."""
    tree = ast.parse(source, filename=path)
    return Module(name, path, tree, tuple(_imports(tree, name, path, is_package, set(known))))


def _imports(
    tree: ast.Module, module: str, path: str, is_package: bool, known: set[str]
) -> Iterator[Import]:
    for node in ast.walk(tree):
        where = f"{path}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(alias.name, alias.name, f"import {alias.name}", where)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, module, is_package)
            written = "." * node.level + (node.module or "")
            for alias in node.names:
                qualified = f"{base}.{alias.name}"
                # `from adwatch import store` loads the module adwatch.store.
                target = qualified if qualified in known else base
                yield Import(target, qualified, f"from {written} import {alias.name}", where)
        elif isinstance(node, ast.Call) and _is_dynamic_import(node):
            first = node.args[0]
            assert isinstance(first, ast.Constant) and isinstance(first.value, str)
            yield Import(first.value, first.value, f"import_module({first.value!r})", where)


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    if not is_package:
        parts = parts[:-1]  # a plain module's `.` is its package
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join([*parts, node.module] if node.module else parts)


def _is_dynamic_import(node: ast.Call) -> bool:
    func = node.func
    called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return (
        called in ("import_module", "__import__")
        and bool(node.args)
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    )


def read_package(root: Path = SRC) -> dict[str, Module]:
    """Every module of the adwatch package under `root`, by dotted name."""
    files = sorted((root / PACKAGE).rglob("*.py"))
    names = {_module_name(root, file): file for file in files}
    return {
        name: parse_module(
            name,
            file.read_text(encoding="utf-8"),
            path=file.relative_to(root.parent).as_posix(),
            is_package=file.name == "__init__.py",
            known=names,
        )
        for name, file in names.items()
    }


def _module_name(root: Path, file: Path) -> str:
    parts = list(file.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def in_layer(name: str, layer: str) -> bool:
    return name == layer or name.startswith(layer + ".")


def parents(name: str) -> list[str]:
    """The packages Python imports before `name`: adwatch.store.sqlite -> adwatch.store, adwatch."""
    parts = name.split(".")
    return [".".join(parts[:end]) for end in range(len(parts) - 1, 0, -1)]


# --- the rules -------------------------------------------------------------------------

CLI_SIDE = ("adwatch.cli", "adwatch.render", "adwatch.render_scan", "adwatch.__main__")
UI_LIBRARIES = ("rich", "typer", "click")
DATABASE_DRIVERS = ("sqlite3", "sqlite_utils", "psycopg", "psycopg2", "psycopg_pool", "apsw")
# What downloads: our fetcher, HTTP clients, and the download helpers of the standard
# library and of trafilatura. `urllib.request.url2pathname` (file:// paths) is fine.
DOWNLOADERS = (
    "adwatch.fetch",
    "httpx",
    "httpcore",
    "requests",
    "urllib3",
    "aiohttp",
    "http.client",
    "socket",
    "urllib.request.urlopen",
    "urllib.request.urlretrieve",
    "urllib.request.build_opener",
    "trafilatura.fetch_url",
    "trafilatura.downloads",
)


@dataclass(frozen=True)
class ImportRule:
    """Modules of some layers must not import what `forbids` says, directly or through
    adwatch's own modules when `transitive`."""

    key: str
    text: str
    applies_to: Callable[[str], bool]
    forbids: Callable[[Import], bool]
    transitive: bool

    def __str__(self) -> str:
        return self.text


def _names_any(prefixes: Iterable[str]) -> Callable[[Import], bool]:
    chosen = tuple(prefixes)
    return lambda imported: any(imported.is_under(prefix) for prefix in chosen)


def _in_any(layers: Iterable[str]) -> Callable[[str], bool]:
    chosen = tuple(layers)
    return lambda name: any(in_layer(name, layer) for layer in chosen)


def _outside_text_and_errors(imported: Import) -> bool:
    target = imported.target
    allowed = in_layer(target, "adwatch.text") or in_layer(target, "adwatch.errors")
    return in_layer(target, PACKAGE) and not allowed


IMPORT_RULES = [
    ImportRule(
        "library-without-cli",
        "the library never imports the CLI, rich or typer "
        "(only adwatch.cli, adwatch.render and adwatch.render_scan do)",
        applies_to=lambda name: not _in_any(CLI_SIDE)(name),
        forbids=_names_any((*CLI_SIDE, *UI_LIBRARIES)),
        transitive=True,
    ),
    ImportRule(
        "matching-without-store",
        "matching (adwatch.match, adwatch.rules, adwatch.semantic) never imports the store",
        applies_to=_in_any(("adwatch.match", "adwatch.rules", "adwatch.semantic")),
        forbids=_names_any(("adwatch.store",)),
        transitive=True,
    ),
    ImportRule(
        "fetching-without-store",
        "fetching (adwatch.fetch) never imports the store",
        applies_to=_in_any(("adwatch.fetch",)),
        forbids=_names_any(("adwatch.store",)),
        transitive=True,
    ),
    ImportRule(
        "parsers-never-download",
        "parsers (adwatch.feeds, adwatch.extract, adwatch.text) never download: "
        "no adwatch.fetch, httpx or other HTTP client",
        applies_to=_in_any(("adwatch.feeds", "adwatch.extract", "adwatch.text")),
        forbids=_names_any(DOWNLOADERS),
        transitive=True,
    ),
    ImportRule(
        "drivers-only-in-store",
        "only adwatch.store imports a database driver (sqlite3, sqlite_utils, psycopg)",
        applies_to=lambda name: not in_layer(name, "adwatch.store"),
        forbids=_names_any(DATABASE_DRIVERS),
        transitive=False,
    ),
    ImportRule(
        "text-knows-no-rules",
        "adwatch.text imports nothing of adwatch outside adwatch.text and adwatch.errors "
        "(normalisation knows no rules)",
        applies_to=_in_any(("adwatch.text",)),
        forbids=_outside_text_and_errors,
        transitive=False,
    ),
]


def import_violations(rule: ImportRule, modules: dict[str, Module]) -> list[str]:
    """One line per module that breaks `rule`: the module, the import chain, the rule."""
    found = []
    for name in sorted(modules):
        if not rule.applies_to(name):
            continue
        chain = _forbidden_chain(rule, name, modules)
        if chain:
            route = " -> ".join(f"{step.statement} ({step.where})" for step in chain)
            found.append(f"{name}: {route}: breaks the rule: {rule}")
    return found


def _forbidden_chain(rule: ImportRule, start: str, modules: dict[str, Module]) -> list[Import]:
    """The shortest chain of imports from `start` to one the rule forbids, else []."""
    came_by: dict[str, list[Import]] = {start: []}
    queue = deque([start])
    while queue:
        name = queue.popleft()
        for imported in modules[name].imports:
            chain = [*came_by[name], imported]
            if rule.forbids(imported):
                return chain
            if not rule.transitive:
                continue
            for loaded in (imported.target, *parents(imported.target)):
                if loaded in modules and loaded not in came_by:
                    came_by[loaded] = chain
                    queue.append(loaded)
    return []


# --- connections and SQL stay in adwatch.store ------------------------------------------

CONNECTION_ATTRIBUTES = {"conn", "_conn", "connection", "_connection"}
# DB-API calls: a cursor or connection is at hand when these are called.
DBAPI_METHODS = {
    "execute",
    "executemany",
    "executescript",
    "cursor",
    "fetchone",
    "fetchall",
    "fetchmany",
    "commit",
    "rollback",
}
# The base's own statement runners: the methods of Store that take a `sql` argument.
STATEMENT_RUNNERS = {
    name
    for name, function in inspect.getmembers(Store, inspect.isfunction)
    if "sql" in inspect.signature(function).parameters
}
SQL_STATEMENT = re.compile(
    r"\s*(?:"
    r"SELECT\b.*\bFROM\b|WITH\b.*\bAS\s*\(|INSERT\s+(?:OR\s+\w+\s+)?INTO\b|UPDATE\s+\S+\s+SET\b"
    r"|DELETE\s+FROM\b|(?:CREATE|DROP|ALTER)\s+(?:UNIQUE\s+|VIRTUAL\s+)?(?:TABLE|INDEX|TRIGGER|VIEW)\b"
    r"|PRAGMA\s+\w+"
    r")",
    re.DOTALL,
)
CONNECTION_RULE = "nothing outside adwatch.store holds a connection or a cursor; it asks a Store"
SQL_RULE = "SQL statements are written in adwatch.store only"


def connection_violations(module: Module) -> list[str]:
    """Reaches into a connection: `x.conn`, `x.db.y`/`x.db[...]`, DB-API calls, and the
    store's own statement runners called from outside (a heuristic: it reads names)."""
    found = {}
    for node in ast.walk(module.tree):
        reach = _reach(node)
        line = getattr(node, "lineno", 0)
        if reach and line not in found:  # the outermost reach on a line says it all
            where = f"{module.path}:{line}"
            found[line] = f"{module.name}: {reach} ({where}): breaks the rule: {CONNECTION_RULE}"
    return [found[line] for line in sorted(found)]


def _reach(node: ast.AST) -> str | None:
    if isinstance(node, ast.Attribute) and node.attr in CONNECTION_ATTRIBUTES:
        return f"`{ast.unparse(node)}`"
    if isinstance(node, ast.Attribute | ast.Subscript) and _is_db_attribute(node.value):
        return f"`{ast.unparse(node)}`"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        method = node.func
        if method.attr in DBAPI_METHODS:
            return f"`{ast.unparse(method)}(...)`"
        receiver = method.value
        is_self = isinstance(receiver, ast.Name) and receiver.id in ("self", "cls")
        if method.attr in STATEMENT_RUNNERS and not is_self:
            return f"`{ast.unparse(method)}(...)`"
    return None


def _is_db_attribute(node: ast.AST) -> bool:
    # `state.db` (a path handed on) is fine; `store.db.execute` or `store.db["hits"]` is not.
    return isinstance(node, ast.Attribute) and node.attr == "db"


def sql_violations(module: Module) -> list[str]:
    found = []
    for node, text in _string_literals(module.tree):
        if SQL_STATEMENT.match(text):
            where = f"{module.path}:{getattr(node, 'lineno', 0)}"
            shown = " ".join(text.split())[:60]
            found.append(f"{module.name}: {shown!r} ({where}): breaks the rule: {SQL_RULE}")
    return found


def _string_literals(tree: ast.AST) -> Iterator[tuple[ast.AST, str]]:
    """Every string literal, an f-string as one string with `{}` for its values."""
    inside_fstrings: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            pieces = []
            for value in node.values:
                inside_fstrings.add(id(value))
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    pieces.append(value.value)
                else:
                    pieces.append("{}")
            yield node, "".join(pieces)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in inside_fstrings
        ):
            yield node, node.value


# --- the tests on the real tree ---------------------------------------------------------

MODULES = read_package()
OUTSIDE_STORE = [m for name, m in sorted(MODULES.items()) if not in_layer(name, "adwatch.store")]


def test_the_package_is_found() -> None:
    # A wrong SRC would make every rule pass on nothing.
    assert {"adwatch.cli", "adwatch.match", "adwatch.store", "adwatch.text.normalize"} <= set(
        MODULES
    )
    assert sum(len(m.imports) for m in MODULES.values()) > 100


@pytest.mark.parametrize("rule", IMPORT_RULES, ids=lambda rule: rule.key)
def test_import_rule(rule: ImportRule) -> None:
    assert any(rule.applies_to(name) for name in MODULES), f"{rule.key} applies to no module"
    broken = import_violations(rule, MODULES)
    assert not broken, "\n".join(broken)


def test_nothing_outside_the_store_touches_a_connection() -> None:
    broken = [line for module in OUTSIDE_STORE for line in connection_violations(module)]
    assert not broken, "\n".join(broken)


def test_no_sql_outside_the_store() -> None:
    broken = [line for module in OUTSIDE_STORE for line in sql_violations(module)]
    assert not broken, "\n".join(broken)


def test_the_store_runs_statements_through_named_helpers() -> None:
    # The connection rule looks for these names; if the base renames them, it must follow.
    assert {"_fetch", "_execute"} <= STATEMENT_RUNNERS


def _commands(command: object, path: tuple[str, ...] = ()) -> Iterator[tuple[str, object]]:
    yield " ".join(path) or "adwatch", command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(get_command(app)))


@pytest.mark.parametrize("name, command", COMMANDS, ids=[name for name, _ in COMMANDS])
def test_every_option_and_argument_has_help(name: str, command: object) -> None:
    # tests/test_cli.py checks each top-level command's own help; this checks what
    # --help lists under it, and the commands of any nested group.
    assert getattr(command, "help", None), f"{name} is missing its help"
    silent = [
        param.name
        for param in getattr(command, "params", [])
        if param.param_type_name in ("option", "argument")
        and not getattr(param, "hidden", False)
        and not getattr(param, "help", None)
    ]
    assert not silent, f"{name}: no help for {', '.join(silent)}"


# --- the checker itself: each rule catches what it is for -------------------------------

KNOWN = {
    "adwatch",
    "adwatch.cli",
    "adwatch.render",
    "adwatch.match",
    "adwatch.rules",
    "adwatch.search",
    "adwatch.fetch",
    "adwatch.feeds",
    "adwatch.extract",
    "adwatch.errors",
    "adwatch.models",
    "adwatch.pipeline",
    "adwatch.store",
    "adwatch.store.sqlite",
    "adwatch.text",
    "adwatch.text.normalize",
    "adwatch.text.scripts",
}


def package_of(sources: dict[str, str]) -> dict[str, Module]:
    """A small made-up package: every KNOWN module empty unless `sources` gives it code."""
    return {
        name: parse_module(
            name,
            sources.get(name, ""),
            path=name.replace(".", "/") + ".py",
            is_package=name in ("adwatch", "adwatch.store", "adwatch.text"),
            known=KNOWN,
        )
        for name in KNOWN
    }


def rule_named(key: str) -> ImportRule:
    return next(rule for rule in IMPORT_RULES if rule.key == key)


@pytest.mark.parametrize(
    "rule_key, module, code, named",
    [
        ("library-without-cli", "adwatch.pipeline", "import rich.console", "import rich.console"),
        (
            "library-without-cli",
            "adwatch.models",
            "from typer import Exit",
            "from typer import Exit",
        ),
        (
            "library-without-cli",
            "adwatch.search",
            "from adwatch import cli",
            "from adwatch import cli",
        ),
        (
            "library-without-cli",
            "adwatch.pipeline",
            "def show():\n    from adwatch.render import table\n",
            "from adwatch.render import table",
        ),
        (
            "matching-without-store",
            "adwatch.match",
            "from adwatch.store import open_store",
            "adwatch.store",
        ),
        (
            "matching-without-store",
            "adwatch.rules",
            "from .store import sqlite",
            "from .store import sqlite",
        ),
        (
            "matching-without-store",
            "adwatch.match",
            "import adwatch.store.sqlite",
            "import adwatch.store.sqlite",
        ),
        (
            "matching-without-store",
            "adwatch.match",
            "import importlib\nimportlib.import_module('adwatch.store')",
            "import_module('adwatch.store')",
        ),
        (
            "fetching-without-store",
            "adwatch.fetch",
            "from adwatch.store import Store",
            "adwatch.store",
        ),
        ("parsers-never-download", "adwatch.feeds", "import httpx", "import httpx"),
        (
            "parsers-never-download",
            "adwatch.extract",
            "from adwatch.fetch import Fetcher",
            "adwatch.fetch",
        ),
        (
            "parsers-never-download",
            "adwatch.text.normalize",
            "from urllib.request import urlopen",
            "from urllib.request import urlopen",
        ),
        (
            "parsers-never-download",
            "adwatch.feeds",
            "from trafilatura import fetch_url",
            "fetch_url",
        ),
        ("drivers-only-in-store", "adwatch.search", "import sqlite3", "import sqlite3"),
        ("drivers-only-in-store", "adwatch.cli", "import sqlite_utils", "import sqlite_utils"),
        ("drivers-only-in-store", "adwatch.pipeline", "from psycopg import sql", "psycopg"),
        (
            "text-knows-no-rules",
            "adwatch.text.normalize",
            "from adwatch.rules import parse",
            "rules",
        ),
        (
            "text-knows-no-rules",
            "adwatch.text.scripts",
            "from .. import models",
            "from .. import models",
        ),
        ("text-knows-no-rules", "adwatch.text", "from adwatch import __version__", "__version__"),
    ],
)
def test_a_broken_rule_names_the_module_the_import_and_the_rule(
    rule_key: str, module: str, code: str, named: str
) -> None:
    rule = rule_named(rule_key)
    broken = import_violations(rule, package_of({module: code}))
    assert len(broken) == 1, broken
    assert broken[0].startswith(f"{module}: ")
    assert named in broken[0]
    assert f"{module.replace('.', '/')}.py:" in broken[0]
    assert broken[0].endswith(f"breaks the rule: {rule}")


def test_a_rule_is_broken_through_another_module_too() -> None:
    package = package_of(
        {
            "adwatch.match": "from adwatch import search\n",
            "adwatch.search": "def plan():\n    from adwatch.store import open_store\n",
        }
    )
    broken = import_violations(rule_named("matching-without-store"), package)
    assert broken == [
        "adwatch.match: from adwatch import search (adwatch/match.py:1)"
        " -> from adwatch.store import open_store (adwatch/search.py:2)"
        f": breaks the rule: {rule_named('matching-without-store')}"
    ]


def test_importing_a_submodule_loads_its_package() -> None:
    # adwatch.text.scripts runs adwatch/text/__init__.py first: what that imports counts.
    package = package_of(
        {
            "adwatch.fetch": "from adwatch.text.scripts import is_thai\n",
            "adwatch.text": "from adwatch.store import Store\n",
        }
    )
    assert len(import_violations(rule_named("fetching-without-store"), package)) == 1


@pytest.mark.parametrize(
    "rule_key, module, code",
    [
        ("library-without-cli", "adwatch.cli", "import typer\nfrom rich.console import Console"),
        ("library-without-cli", "adwatch.render", "from rich.text import Text"),
        ("matching-without-store", "adwatch.match", "from adwatch.text.normalize import normalize"),
        (
            "matching-without-store",
            "adwatch.search",
            "from adwatch.store import Store",
        ),  # not matching
        ("fetching-without-store", "adwatch.fetch", "import httpx"),
        ("parsers-never-download", "adwatch.feeds", "from urllib.request import url2pathname"),
        (
            "parsers-never-download",
            "adwatch.pipeline",
            "from adwatch.fetch import Fetcher",
        ),  # not a parser
        ("drivers-only-in-store", "adwatch.store.sqlite", "import sqlite3\nimport sqlite_utils"),
        ("drivers-only-in-store", "adwatch.store", "import importlib\nimport_module('psycopg')"),
        ("text-knows-no-rules", "adwatch.text.normalize", "from adwatch.text import scripts"),
        ("text-knows-no-rules", "adwatch.text.normalize", "from adwatch.errors import UsageError"),
        (
            "text-knows-no-rules",
            "adwatch.text.scripts",
            "import unicodedata\nfrom . import normalize",
        ),
    ],
)
def test_allowed_imports_pass(rule_key: str, module: str, code: str) -> None:
    assert import_violations(rule_named(rule_key), package_of({module: code})) == []


def test_the_driver_rule_is_direct_only() -> None:
    # Every command reaches sqlite3 through adwatch.store; only naming a driver counts.
    package = package_of(
        {
            "adwatch.pipeline": "from adwatch.store import open_store",
            "adwatch.store": "import sqlite3",
        }
    )
    assert import_violations(rule_named("drivers-only-in-store"), package) == []


def one_module(code: str, name: str = "adwatch.query") -> Module:
    return parse_module(name, code, path="src/adwatch/query.py", is_package=False, known=KNOWN)


@pytest.mark.parametrize(
    "code, shown",
    [
        ("rows = store.conn.execute('x').fetchall()", "`store.conn.execute('x').fetchall(...)`"),
        ("close = store.conn.close", "`store.conn`"),
        ("store._conn.close()", "`store._conn`"),
        ("table = store.db['hits']", "`store.db['hits']`"),
        ("store.db.execute(sql)", "`store.db.execute(...)`"),
        ("for row in cursor.fetchall():\n    pass", "`cursor.fetchall(...)`"),
        ("store._fetch(sql, params)", "`store._fetch(...)`"),
        ("def f(store):\n    return store._execute(sql)", "`store._execute(...)`"),
    ],
)
def test_a_reach_into_a_connection_is_named(code: str, shown: str) -> None:
    broken = connection_violations(one_module(code))
    assert len(broken) == 1, broken
    assert broken[0].startswith(f"adwatch.query: {shown} (src/adwatch/query.py:")
    assert broken[0].endswith(f"breaks the rule: {CONNECTION_RULE}")


@pytest.mark.parametrize(
    "code",
    [
        "config = load_config(state.config, db=state.db)",  # a path, handed on
        "if state.db is not None:\n    pass",
        "hits = list(store.iter_hits(filters))",
        "class S:\n    def rows(self):\n        return self._fetch('x')",  # a store's own method
        "pool.submit(work)",
    ],
)
def test_asking_the_store_is_not_a_reach(code: str) -> None:
    assert connection_violations(one_module(code)) == []


@pytest.mark.parametrize(
    "code",
    [
        'SQL = "SELECT id FROM hits WHERE status = ?"',
        "sql = f'SELECT {columns} FROM hits h {where}'",
        'store.run("INSERT OR IGNORE INTO hits (a) VALUES (?)")',
        "q = '''\n    UPDATE hits SET status = ? WHERE id = ?\n'''",
        'x = "DELETE FROM articles"',
        'x = "CREATE INDEX hits_found ON hits(found_at)"',
        'x = "PRAGMA journal_mode"',
        'x = "WITH recent AS (SELECT 1) SELECT * FROM recent"',
    ],
)
def test_sql_outside_the_store_is_named(code: str) -> None:
    broken = sql_violations(one_module(code))
    assert len(broken) == 1, broken
    assert broken[0].startswith("adwatch.query: ")
    assert broken[0].endswith(f"breaks the rule: {SQL_RULE}")


@pytest.mark.parametrize(
    "code",
    [
        '"""Select the hits from the store and update the table."""',
        'help_text = "select: update the table of hits"',
        'msg = f"SELECT is not a search word: {word!r}"',
        'sort = "found_at DESC"',
    ],
)
def test_prose_is_not_sql(code: str) -> None:
    assert sql_violations(one_module(code)) == []


def test_relative_imports_resolve_against_the_package() -> None:
    module = parse_module(
        "adwatch.text.normalize",
        "from . import scripts\nfrom ..errors import UsageError\nfrom .. import store\n",
        path="x.py",
        is_package=False,
        known=KNOWN,
    )
    assert [i.target for i in module.imports] == [
        "adwatch.text.scripts",
        "adwatch.errors",
        "adwatch.store",
    ]
    package = parse_module(
        "adwatch.store",
        "from .sqlite import open_sqlite\n",
        path="x.py",
        is_package=True,
        known=KNOWN,
    )
    assert [i.target for i in package.imports] == ["adwatch.store.sqlite"]
