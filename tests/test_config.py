from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from adwatch.config import load_config
from adwatch.errors import ConfigError

VALID = """\
version: 1
store: data/adwatch.db
fetch:
  timeout: 5
  per_host: 1
markets:
  TH: {name: Thailand, languages: [th, en]}
  VN: {name: Vietnam, languages: [vi, en]}
sources:
  - name: th-news
    url: https://example.com/th.rss
    market: TH
    language: th
  - name: vn-page
    url: saved/page.html
    market: VN
    type: page
    articles: false
watchlists:
  - name: scam-ads
    category: fraud
    severity: high
    markets: [TH]
    terms:
      en: ["scam ad", "fake advertisement"]
      th: ["โฆษณาหลอกลวง"]
    context: ["TikTok"]
    near: 300
    exclude: ["game review"]
  - name: flat
    terms: ["deepfake"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "\n" not in message
    return message.replace(str(path), "FILE")


def test_valid_config_loads_typed(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, VALID))
    assert config.store == tmp_path / "data" / "adwatch.db"
    assert config.fetch.timeout == 5.0
    assert config.fetch.per_host == 1
    assert config.fetch.concurrency == 16
    assert config.fetch.user_agent.startswith("adwatch/")
    assert [s.name for s in config.sources] == ["th-news", "vn-page"]
    assert config.sources[1].type == "page" and config.sources[1].articles is False
    # a saved page is found next to feeds.yaml, wherever the scan runs from
    assert config.sources[1].url == str(tmp_path / "saved" / "page.html")
    scam = config.watchlists[0]
    assert scam.terms["th"] == ("โฆษณาหลอกลวง",)
    assert scam.near == 300 and scam.context == ("TikTok",)
    assert config.watchlists[1].terms == {"any": ("deepfake",)}
    assert config.watchlists[1].severity == "medium"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("  per_host: 1", "  per_host: 1\n  retries: 3"), "FILE:6: fetch.retries: unknown key"),
        (
            ("  timeout: 5", "  timeout: soon"),
            "FILE:4: fetch.timeout: expected a positive number, got 'soon'",
        ),
        (
            ("    market: VN\n", "    market: XX\n"),
            "FILE:16: sources[vn-page].market: unknown market 'XX' (known: TH, VN)",
        ),
        (
            ("  - name: vn-page", "  - name: th-news"),
            "FILE:14: sources[th-news].name: duplicate source name (first on line 10)",
        ),
        (
            ("https://example.com/th.rss", "ftp://example.com/th.rss"),
            "FILE:11: sources[th-news].url: URLs must be http, https, file:// or a path, got 'ftp://example.com/th.rss'",
        ),
        (
            ("https://example.com/th.rss", "https:///th.rss"),
            "FILE:11: sources[th-news].url: not a valid URL: 'https:///th.rss'",
        ),
        (
            ("    type: page", "    type: atom"),
            "FILE:17: sources[vn-page].type: unknown type 'atom' (known: rss, page, sitemap)",
        ),
        (
            ("    articles: false", "    articles: maybe"),
            "FILE:18: sources[vn-page].articles: expected true or false, got 'maybe'",
        ),
        (
            ("    severity: high", "    severity: urgent"),
            "FILE:22: watchlists[scam-ads].severity: unknown severity 'urgent' (known: low, medium, high, critical)",
        ),
        (
            ("    markets: [TH]", "    markets: [MM]"),
            "FILE:23: watchlists[scam-ads].markets: unknown market 'MM' (known: TH, VN)",
        ),
        (
            ('  - name: flat\n    terms: ["deepfake"]', "  - name: flat\n    terms: []"),
            "FILE:31: watchlists[flat].terms: must not be empty",
        ),
        (
            ('  - name: flat\n    terms: ["deepfake"]', "  - name: flat\n    category: x"),
            "FILE:30: watchlists[flat]: a watchlist needs terms or a query (it has neither)",
        ),
        (
            ('      th: ["โฆษณาหลอกลวง"]', '      jp: ["広告"]'),
            "FILE:26: watchlists[scam-ads].terms.jp: unknown language (known: en, th, vi, my, any)",
        ),
        (
            ("    near: 300", "    near: -3"),
            "FILE:28: watchlists[scam-ads].near: must be at least 1, got -3",
        ),
        (
            ("    language: th", "    language: thai"),
            "FILE:13: sources[th-news].language: unknown language 'thai' (known: en, th, vi, my)",
        ),
        (
            ("    url: saved/page.html", "    url: [a, b]"),
            "FILE:15: sources[vn-page].url: expected a single value, got a list",
        ),
        (("version: 1", "version: 2"), "FILE:1: version: this adwatch reads version 1, got 2"),
        (
            ("  - name: vn-page", "  - name: VN_Page"),
            "FILE:14: sources[VN_Page].name: use lower-case letters, digits and '-' only",
        ),
    ],
)
def test_each_error_names_file_line_and_field(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    old, new = change
    assert old in VALID
    assert error_of(tmp_path, VALID.replace(old, new, 1)).startswith(expected)


def test_broken_query_names_watchlist_and_position(tmp_path: Path) -> None:
    text = VALID + "  - name: election\n    query: '(TikTok OR Facebook AND'\n"
    message = error_of(tmp_path, text)
    assert message.startswith("FILE:33: watchlists[election].query: ")
    assert "position" in message


def test_yaml_syntax_error_is_one_line_with_line_number(tmp_path: Path) -> None:
    message = error_of(tmp_path, "version: 1\nmarkets: {TH: [\n")
    assert message.startswith("FILE:3: not valid YAML:")


def test_missing_file_suggests_init(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"missing\.yaml: config file not found \(run `adwatch init`"
    ):
        load_config(tmp_path / "missing.yaml")


def test_empty_file(tmp_path: Path) -> None:
    assert error_of(tmp_path, "") == "FILE: the file is empty"


def test_yaml_tags_are_not_constructed(tmp_path: Path) -> None:
    # safe loading only: a python tag is an error, never executed
    message = error_of(tmp_path, "version: 1\nstore: !!python/object/apply:os.system ['true']\n")
    assert "FILE:2" in message


def test_env_and_db_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, VALID)
    monkeypatch.setenv("ADWATCH_CONFIG", str(path))
    monkeypatch.setenv("ADWATCH_DB", str(tmp_path / "other.db"))
    config = load_config()
    assert config.path == path
    assert config.store == tmp_path / "other.db"
    assert load_config(db=tmp_path / "x.db").store == tmp_path / "x.db"
