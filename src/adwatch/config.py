"""Load and validate feeds.yaml into typed dataclasses.

Every problem is reported as one line naming the file, the line, the field and
what is wrong, so an analyst can fix it without reading a traceback.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from adwatch import PROJECT_URL, __version__
from adwatch.errors import ConfigError, QueryError

CONFIG_ENV = "ADWATCH_CONFIG"
DB_ENV = "ADWATCH_DB"
DEFAULT_CONFIG = "feeds.yaml"

SEVERITIES = ("low", "medium", "high", "critical")
SOURCE_TYPES = ("rss", "page", "sitemap")
# Languages adwatch detects and matches with their own rules; `any` groups terms
# that belong to no one language (brand names, hashtags).
TERM_LANGUAGES = ("en", "th", "vi", "my", "any")
DETECTED_LANGUAGES = ("en", "th", "vi", "my")
_SOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_MARKET_CODE = re.compile(r"^[A-Z]{2}$")


def default_user_agent() -> str:
    return f"adwatch/{__version__} (+{PROJECT_URL})"


@dataclass(frozen=True)
class FetchSettings:
    timeout: float = 20.0
    concurrency: int = 16
    per_host: int = 2
    max_bytes: int = 5_000_000
    user_agent: str = field(default_factory=default_user_agent)
    respect_robots: bool = True


@dataclass(frozen=True)
class Market:
    code: str
    name: str
    languages: tuple[str, ...]


@dataclass(frozen=True)
class Source:
    name: str
    url: str
    market: str
    language: str | None = None
    type: str = "rss"
    articles: bool = True


@dataclass(frozen=True)
class Watchlist:
    name: str
    category: str
    severity: str
    markets: tuple[str, ...] = ()  # empty: every market
    terms: dict[str, tuple[str, ...]] = field(default_factory=dict)  # language -> terms
    query: str | None = None
    context: tuple[str, ...] = ()
    near: int | None = None
    exclude: tuple[str, ...] = ()
    fold_diacritics: bool = False
    languages: tuple[str, ...] = ()  # empty: articles in every language

    def all_terms(self) -> list[str]:
        return [term for terms in self.terms.values() for term in terms]


@dataclass(frozen=True)
class Config:
    path: Path
    store: Path
    fetch: FetchSettings
    markets: dict[str, Market]
    sources: list[Source]
    watchlists: list[Watchlist]

    def source(self, name: str) -> Source | None:
        return next((s for s in self.sources if s.name == name), None)


# --- reading YAML with line numbers -------------------------------------------------


class _Where:
    """Turns a YAML node into 'file:line' for error messages."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def error(self, node: yaml.Node | None, field_name: str, problem: str) -> ConfigError:
        line = f":{node.start_mark.line + 1}" if node is not None else ""
        return ConfigError(f"{self.path}{line}: {field_name}: {problem}")


def _mapping(where: _Where, node: yaml.Node, field_name: str) -> dict[str, yaml.Node]:
    if not isinstance(node, yaml.MappingNode):
        raise where.error(node, field_name, f"expected a mapping, got {_kind(node)}")
    out: dict[str, yaml.Node] = {}
    for key_node, value_node in node.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if not isinstance(key, str):
            raise where.error(key_node, field_name, "keys must be plain strings")
        if key in out:
            raise where.error(key_node, f"{field_name}.{key}", "key given twice")
        out[key] = value_node
    return out


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return f"{_scalar(node)!r}"


def _scalar(node: yaml.Node) -> Any:
    """The Python value of a scalar node, as yaml.safe_load would give it."""
    return yaml.constructor.SafeConstructor().construct_object(node)


def _check_keys(
    where: _Where, fields: dict[str, yaml.Node], allowed: set[str], field_name: str
) -> None:
    for key, value in fields.items():
        if key not in allowed:
            known = ", ".join(sorted(allowed))
            raise where.error(value, f"{field_name}.{key}", f"unknown key (known: {known})")


def _value(where: _Where, node: yaml.Node, field_name: str) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        raise where.error(node, field_name, f"expected a single value, got {_kind(node)}")
    return _scalar(node)


def _str(where: _Where, node: yaml.Node, field_name: str, *, empty_ok: bool = False) -> str:
    value = _value(where, node, field_name)
    if not isinstance(value, str):
        raise where.error(node, field_name, f"expected text, got {value!r}")
    if not empty_ok and not value.strip():
        raise where.error(node, field_name, "must not be empty")
    return value


def _int(where: _Where, node: yaml.Node, field_name: str, *, minimum: int = 1) -> int:
    value = _value(where, node, field_name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise where.error(node, field_name, f"expected a whole number, got {value!r}")
    if value < minimum:
        raise where.error(node, field_name, f"must be at least {minimum}, got {value!r}")
    return value


def _number(where: _Where, node: yaml.Node, field_name: str) -> float:
    value = _value(where, node, field_name)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise where.error(node, field_name, f"expected a positive number, got {value!r}")
    return float(value)


def _bool(where: _Where, node: yaml.Node, field_name: str) -> bool:
    value = _value(where, node, field_name)
    if not isinstance(value, bool):
        raise where.error(node, field_name, f"expected true or false, got {value!r}")
    return value


def _str_list(
    where: _Where, node: yaml.Node, field_name: str, *, empty_ok: bool = False
) -> tuple[str, ...]:
    if isinstance(node, yaml.ScalarNode) and isinstance(_scalar(node), str):
        items = [node]  # a lone string is a list of one, as analysts write it
    elif isinstance(node, yaml.SequenceNode):
        items = node.value
    else:
        raise where.error(node, field_name, f"expected a list of text, got {_kind(node)}")
    values = tuple(_str(where, item, f"{field_name}[{i}]") for i, item in enumerate(items))
    if not values and not empty_ok:
        raise where.error(node, field_name, "must not be empty")
    return values


# --- the schema ------------------------------------------------------------------


def _parse_fetch(where: _Where, node: yaml.Node) -> FetchSettings:
    fields = _mapping(where, node, "fetch")
    _check_keys(
        where,
        fields,
        {"timeout", "concurrency", "per_host", "max_bytes", "user_agent", "respect_robots"},
        "fetch",
    )
    kwargs: dict[str, Any] = {}
    if "timeout" in fields:
        kwargs["timeout"] = _number(where, fields["timeout"], "fetch.timeout")
    for name in ("concurrency", "per_host", "max_bytes"):
        if name in fields:
            kwargs[name] = _int(where, fields[name], f"fetch.{name}")
    if "user_agent" in fields:
        agent = _str(where, fields["user_agent"], "fetch.user_agent")
        kwargs["user_agent"] = agent.replace("<version>", __version__).replace(
            "<project url>", PROJECT_URL
        )
    if "respect_robots" in fields:
        kwargs["respect_robots"] = _bool(where, fields["respect_robots"], "fetch.respect_robots")
    return FetchSettings(**kwargs)


def _parse_markets(where: _Where, node: yaml.Node) -> dict[str, Market]:
    markets: dict[str, Market] = {}
    for code, value in _mapping(where, node, "markets").items():
        name = f"markets.{code}"
        if not _MARKET_CODE.match(code):
            raise where.error(value, name, "market codes are two capital letters, like TH")
        fields = _mapping(where, value, name)
        _check_keys(where, fields, {"name", "languages"}, name)
        languages = (
            _str_list(where, fields["languages"], f"{name}.languages")
            if "languages" in fields
            else ()
        )
        for i, lang in enumerate(languages):
            if lang not in DETECTED_LANGUAGES:
                raise where.error(
                    fields["languages"],
                    f"{name}.languages[{i}]",
                    f"unknown language {lang!r} (known: {', '.join(DETECTED_LANGUAGES)})",
                )
        market_name = _str(where, fields["name"], f"{name}.name") if "name" in fields else code
        markets[code] = Market(code=code, name=market_name, languages=languages)
    if not markets:
        raise where.error(node, "markets", "must not be empty")
    return markets


def _check_url(where: _Where, node: yaml.Node, field_name: str, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme in ("http", "https"):
        if not parts.netloc or " " in url:
            raise where.error(node, field_name, f"not a valid URL: {url!r}")
        return
    if parts.scheme == "file" or (not parts.scheme and url.strip()):
        return  # a saved file: checked when it is read
    raise where.error(node, field_name, f"URLs must be http, https, file:// or a path, got {url!r}")


def _parse_sources(where: _Where, node: yaml.Node, markets: dict[str, Market]) -> list[Source]:
    if not isinstance(node, yaml.SequenceNode):
        raise where.error(node, "sources", f"expected a list, got {_kind(node)}")
    sources: list[Source] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(node.value):
        label = f"sources[{i}]"
        fields = _mapping(where, item, label)
        _check_keys(where, fields, {"name", "url", "market", "language", "type", "articles"}, label)
        for required in ("name", "url", "market"):
            if required not in fields:
                raise where.error(item, f"{label}.{required}", "missing")
        name = _str(where, fields["name"], f"{label}.name")
        label = f"sources[{name}]"
        if not _SOURCE_NAME.match(name):
            raise where.error(
                fields["name"], f"{label}.name", "use lower-case letters, digits and '-' only"
            )
        if name in seen:
            raise where.error(
                fields["name"],
                f"{label}.name",
                f"duplicate source name (first on line {seen[name]})",
            )
        seen[name] = fields["name"].start_mark.line + 1
        url = _str(where, fields["url"], f"{label}.url").strip()
        _check_url(where, fields["url"], f"{label}.url", url)
        if not urlsplit(url).scheme:
            # A saved file is found next to feeds.yaml, wherever the scan runs from.
            url = str(where.path.parent / Path(url).expanduser())
        market = _str(where, fields["market"], f"{label}.market")
        if market not in markets:
            raise where.error(
                fields["market"],
                f"{label}.market",
                f"unknown market {market!r} (known: {', '.join(markets)})",
            )
        language = None
        if "language" in fields:
            language = _str(where, fields["language"], f"{label}.language")
            if language not in DETECTED_LANGUAGES:
                raise where.error(
                    fields["language"],
                    f"{label}.language",
                    f"unknown language {language!r} (known: {', '.join(DETECTED_LANGUAGES)})",
                )
        source_type = "rss"
        if "type" in fields:
            source_type = _str(where, fields["type"], f"{label}.type")
            if source_type not in SOURCE_TYPES:
                raise where.error(
                    fields["type"],
                    f"{label}.type",
                    f"unknown type {source_type!r} (known: {', '.join(SOURCE_TYPES)})",
                )
        articles = (
            _bool(where, fields["articles"], f"{label}.articles") if "articles" in fields else True
        )
        sources.append(Source(name, url, market, language, source_type, articles))
    return sources


_WATCHLIST_KEYS = {
    "name", "category", "severity", "markets", "terms", "query", "context", "near",
    "exclude", "fold_diacritics", "languages",
}  # fmt: skip


def _parse_watchlists(
    where: _Where, node: yaml.Node, markets: dict[str, Market]
) -> list[Watchlist]:
    if not isinstance(node, yaml.SequenceNode):
        raise where.error(node, "watchlists", f"expected a list, got {_kind(node)}")
    watchlists: list[Watchlist] = []
    seen: set[str] = set()
    for i, item in enumerate(node.value):
        label = f"watchlists[{i}]"
        fields = _mapping(where, item, label)
        _check_keys(where, fields, _WATCHLIST_KEYS, label)
        if "name" not in fields:
            raise where.error(item, f"{label}.name", "missing")
        name = _str(where, fields["name"], f"{label}.name")
        label = f"watchlists[{name}]"
        if name in seen:
            raise where.error(fields["name"], f"{label}.name", "duplicate watchlist name")
        seen.add(name)
        category = (
            _str(where, fields["category"], f"{label}.category") if "category" in fields else name
        )
        severity = "medium"
        if "severity" in fields:
            severity = _str(where, fields["severity"], f"{label}.severity")
            if severity not in SEVERITIES:
                raise where.error(
                    fields["severity"],
                    f"{label}.severity",
                    f"unknown severity {severity!r} (known: {', '.join(SEVERITIES)})",
                )
        wl_markets: tuple[str, ...] = ()
        if "markets" in fields:
            wl_markets = _str_list(where, fields["markets"], f"{label}.markets")
            for code in wl_markets:
                if code not in markets:
                    raise where.error(
                        fields["markets"],
                        f"{label}.markets",
                        f"unknown market {code!r} (known: {', '.join(markets)})",
                    )
        terms: dict[str, tuple[str, ...]] = {}
        if "terms" in fields:
            terms_node = fields["terms"]
            if isinstance(terms_node, yaml.SequenceNode):
                # A flat list is allowed: each term's script picks its rules anyway.
                terms["any"] = _str_list(where, terms_node, f"{label}.terms")
            else:
                for lang, lang_node in _mapping(where, terms_node, f"{label}.terms").items():
                    if lang not in TERM_LANGUAGES:
                        raise where.error(
                            lang_node,
                            f"{label}.terms.{lang}",
                            f"unknown language (known: {', '.join(TERM_LANGUAGES)})",
                        )
                    terms[lang] = _str_list(where, lang_node, f"{label}.terms.{lang}")
            if not any(terms.values()):
                raise where.error(terms_node, f"{label}.terms", "must not be empty")
        query = None
        if "query" in fields:
            query = _str(where, fields["query"], f"{label}.query")
            _check_query(where, fields["query"], f"{label}.query", query)
        if terms and query:
            raise where.error(item, label, "give either terms or query, not both")
        if not terms and not query:
            raise where.error(item, label, "a watchlist needs terms or a query (it has neither)")
        context = (
            _str_list(where, fields["context"], f"{label}.context") if "context" in fields else ()
        )
        near = _int(where, fields["near"], f"{label}.near") if "near" in fields else None
        if near is not None and not context:
            raise where.error(fields["near"], f"{label}.near", "near needs a context list")
        exclude = (
            _str_list(where, fields["exclude"], f"{label}.exclude") if "exclude" in fields else ()
        )
        fold = (
            _bool(where, fields["fold_diacritics"], f"{label}.fold_diacritics")
            if "fold_diacritics" in fields
            else False
        )
        languages: tuple[str, ...] = ()
        if "languages" in fields:
            languages = _str_list(where, fields["languages"], f"{label}.languages")
            for lang in languages:
                if lang not in DETECTED_LANGUAGES:
                    raise where.error(
                        fields["languages"],
                        f"{label}.languages",
                        f"unknown language {lang!r} (known: {', '.join(DETECTED_LANGUAGES)})",
                    )
        watchlists.append(
            Watchlist(
                name=name,
                category=category,
                severity=severity,
                markets=wl_markets,
                terms=terms,
                query=query,
                context=context,
                near=near,
                exclude=exclude,
                fold_diacritics=fold,
                languages=languages,
            )
        )
    return watchlists


def _check_query(where: _Where, node: yaml.Node, field_name: str, query: str) -> None:
    from adwatch.rules import parse_query

    try:
        parse_query(query)
    except QueryError as exc:
        raise where.error(node, field_name, str(exc)) from exc


_TOP_KEYS = {"version", "store", "fetch", "markets", "sources", "watchlists"}


def parse_config(text: str, path: Path) -> Config:
    """Return the Config in `text`, read from `path`; raise ConfigError on any problem."""
    where = _Where(path)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = " ".join(str(exc.problem or exc).split())
        raise ConfigError(f"{path}{line}: not valid YAML: {problem}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from exc
    if root is None:
        raise ConfigError(f"{path}: the file is empty")
    fields = _mapping(where, root, "(top level)")
    _check_keys(where, fields, _TOP_KEYS, "(top level)")
    if "version" in fields:
        version = _value(where, fields["version"], "version")
        if version != 1:
            raise where.error(
                fields["version"], "version", f"this adwatch reads version 1, got {version!r}"
            )
    store_name = _str(where, fields["store"], "store") if "store" in fields else "adwatch.db"
    fetch = _parse_fetch(where, fields["fetch"]) if "fetch" in fields else FetchSettings()
    if "markets" not in fields:
        raise where.error(root, "markets", "missing")
    markets = _parse_markets(where, fields["markets"])
    if "sources" not in fields:
        raise where.error(root, "sources", "missing")
    sources = _parse_sources(where, fields["sources"], markets)
    watchlists = (
        _parse_watchlists(where, fields["watchlists"], markets) if "watchlists" in fields else []
    )
    store = Path(store_name).expanduser()
    if not store.is_absolute():
        store = path.parent / store
    return Config(
        path=path,
        store=store,
        fetch=fetch,
        markets=markets,
        sources=sources,
        watchlists=watchlists,
    )


def resolve_config_path(option: str | Path | None) -> Path:
    """The config file to use: --config, else $ADWATCH_CONFIG, else ./feeds.yaml."""
    return Path(option or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


def load_config(path: str | Path | None = None, *, db: str | Path | None = None) -> Config:
    """Read and validate the config; `db` (or $ADWATCH_DB) overrides its store path."""
    config_path = resolve_config_path(path)
    try:
        text = config_path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(
            f"{config_path}: config file not found (run `adwatch init` to write one)"
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{config_path}: not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from exc
    except OSError as exc:
        raise ConfigError(f"{config_path}: cannot read: {exc.strerror}") from exc
    config = parse_config(text, config_path)
    override = db or os.environ.get(DB_ENV)
    if override:
        config = Config(
            path=config.path,
            store=Path(override).expanduser(),
            fetch=config.fetch,
            markets=config.markets,
            sources=config.sources,
            watchlists=config.watchlists,
        )
    return config


def resolve_store_path(config_path: str | Path | None, db: str | Path | None) -> Path:
    """The store path for query commands: --db/$ADWATCH_DB, else the config's `store`."""
    override = db or os.environ.get(DB_ENV)
    if override:
        return Path(override).expanduser()
    return load_config(config_path).store
