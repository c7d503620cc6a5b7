from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from adwatch import config as config_module
from adwatch.cli import app
from adwatch.config import MAX_CONFIG_BYTES, load_config
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
            "FILE:30: watchlists[flat]: a watchlist needs terms, a query or semantic (it has none)",
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


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


# --- a trailing `*` in watchlist lists -----------------------------------------------------


def test_a_trailing_star_in_terms_context_and_exclude_loads(tmp_path: Path) -> None:
    text = VALID.replace('["deepfake"]', '["deepfake*", "scam ad*"]').replace(
        '["TikTok"]', '["TikTok", "advert*"]'
    )
    config = load_config(write(tmp_path, text))
    assert config.watchlists[1].terms == {"any": ("deepfake*", "scam ad*")}
    assert config.watchlists[0].context == ("TikTok", "advert*")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ('      th: ["โฆษณาหลอกลวง"]', '      th: ["โฆษณาหลอกลวง", "โฆษณา*"]'),
            "FILE:26: watchlists[scam-ads].terms.th[1]: expected a word in plain Latin letters "
            "before '*', got 'โฆษณา*' (Thai, Burmese and Vietnamese words take no wildcard: "
            "list the forms you mean)",
        ),
        (
            ('    terms: ["deepfake"]', '    terms:\n      - deepfake\n      - "*"'),
            "FILE:33: watchlists[flat].terms[1]: expected a word right before '*', got '*'",
        ),
        (
            ('    context: ["TikTok"]', '    context: ["Tik*Tok"]'),
            "FILE:27: watchlists[scam-ads].context[0]: expected '*' only at the end of a word, "
            "got 'Tik*Tok'",
        ),
        (
            ('    exclude: ["game review"]', '    exclude: ["game review", "lừa*"]'),
            "FILE:29: watchlists[scam-ads].exclude[1]: expected a word in plain Latin letters",
        ),
        (
            ('      en: ["scam ad", "fake advertisement"]', '      en: ["a*"]'),
            "FILE:25: watchlists[scam-ads].terms.en[0]: expected at least 2 letters before '*'",
        ),
    ],
)
def test_a_misplaced_star_names_file_line_and_item(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    old, new = change
    assert old in VALID
    assert error_of(tmp_path, VALID.replace(old, new, 1)).startswith(expected)


def test_check_refuses_a_star_after_a_thai_word(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace('"โฆษณาหลอกลวง"', '"โฆษณาหลอกลวง*"'))
    result = cli("--config", str(path), "check")
    assert result.exit_code == 2
    assert result.stderr == (
        f"adwatch: {path}:26: watchlists[scam-ads].terms.th[0]: expected a word in plain Latin "
        "letters before '*', got 'โฆษณาหลอกลวง*' (Thai, Burmese and Vietnamese words take no "
        "wildcard: list the forms you mean)\n"
    )


# --- YAML that used to crash: tags, nesting, aliases -------------------------------------


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        (
            "store: !!python/object:os.system x\n",
            "FILE:2: store: unsupported YAML tag '!!python/object:os.system' (adwatch reads "
            "plain text, numbers, true/false, lists and mappings)",
        ),
        (
            "store: !!python/object/apply:os.system ['true']\n",
            "FILE:2: store: unsupported YAML tag '!!python/object/apply:os.system'",
        ),
        ("store: !custom x\n", "FILE:2: store: unsupported YAML tag '!custom'"),
        ("store: !!binary aGVsbG8=\n", "FILE:2: store: unsupported YAML tag '!!binary'"),
        ("fetch: !!set {timeout: 5}\n", "FILE:2: fetch: unsupported YAML tag '!!set'"),
        (
            'fetch:\n  timeout: !!int "abc"\n',
            "FILE:3: fetch.timeout: not a valid !!int value: 'abc'",
        ),
        (
            "store: !!timestamp notadate\n",
            "FILE:2: store: not a valid !!timestamp value: 'notadate'",
        ),
        ("store: 2027-13-45\n", "FILE:2: store: not a valid !!timestamp value: '2027-13-45'"),
        ("store: !!float x\n", "FILE:2: store: not a valid !!float value: 'x'"),
        (
            "fetch:\n  respect_robots: !!bool maybe\n",
            "FILE:3: fetch.respect_robots: not a valid !!bool",
        ),
        (
            "fetch:\n  concurrency: " + "9" * 5000 + "\n",
            "FILE:3: fetch.concurrency: not a valid !!int value: '99999999999",
        ),
        (
            "defaults: &d {timeout: 5}\nfetch:\n  <<: *d\n",
            "FILE:4: fetch: YAML merge keys ('<<') are not supported: write the fields out",
        ),
    ],
)
def test_yaml_tags_and_bad_scalars_are_config_errors(
    tmp_path: Path, yaml_text: str, expected: str
) -> None:
    # Each of these was an internal error (exit 1, "this is a bug") or went unnoticed.
    message = error_of(tmp_path, "version: 1\n" + yaml_text)
    assert message.startswith(expected)
    assert len(message) < 300


@pytest.mark.parametrize(
    "yaml_text",
    [
        "x: " + "[" * 5000 + "]" * 5000 + "\n",
        "".join(" " * i + "a:\n" for i in range(1200)) + " " * 1200 + "b\n",
        "x: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n",
    ],
)
@pytest.mark.parametrize("loader", ["libyaml", "python"])
def test_deep_nesting_is_a_config_error_with_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, yaml_text: str, loader: str
) -> None:
    # 5 000 nested brackets were a RecursionError in PyYAML's composer.
    if loader == "python":
        monkeypatch.setattr(config_module, "_FAST_LOADER", None)
    message = error_of(tmp_path, yaml_text)
    # libyaml has a bound of its own (1 000), which it may reach while reading ahead.
    assert re.fullmatch(
        r"FILE:\d+: not valid YAML: "
        r"(nested more than 32 levels deep|exceeded maximum nesting depth)",
        message,
    )


def test_aliases_work_but_cannot_loop_or_explode(tmp_path: Path) -> None:
    shared = VALID.replace('    context: ["TikTok"]', '    context: &social ["TikTok"]').replace(
        '  - name: flat\n    terms: ["deepfake"]',
        '  - name: flat\n    terms: ["deepfake"]\n    context: *social',
    )
    assert load_config(write(tmp_path, shared)).watchlists[1].context == ("TikTok",)
    looped = error_of(tmp_path, "version: 1\nstore: &a [*a]\n")
    assert looped.startswith("FILE:2: store[0]: an alias refers to a value that contains it")
    # A few lines that expand to 10**9 values ("billion laughs").
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    exploded = error_of(tmp_path, "\n".join(lines) + "\n")
    assert exploded.startswith("FILE:")
    assert "more than 1000000 values once aliases are expanded" in exploded


# --- numbers: finite and in range -----------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("  timeout: 5", "  timeout: .nan"),
            "FILE:4: fetch.timeout: expected a positive number, got nan",
        ),
        (
            ("  timeout: 5", "  timeout: .inf"),
            "FILE:4: fetch.timeout: must be at most 600 seconds, got inf",
        ),
        (
            ("  timeout: 5", "  timeout: -.inf"),
            "FILE:4: fetch.timeout: expected a positive number, got -inf",
        ),
        (
            ("  timeout: 5", "  timeout: 0"),
            "FILE:4: fetch.timeout: expected a positive number, got 0",
        ),
        (
            ("  timeout: 5", "  timeout: 601"),
            "FILE:4: fetch.timeout: must be at most 600 seconds, got 601",
        ),
        (
            ("  timeout: 5", "  timeout: true"),
            "FILE:4: fetch.timeout: expected a positive number, got True",
        ),
        (("  per_host: 1", "  per_host: 0"), "FILE:5: fetch.per_host: must be at least 1, got 0"),
        (("  per_host: 1", "  per_host: 65"), "FILE:5: fetch.per_host: must be at most 64, got 65"),
        (
            ("  per_host: 1", "  per_host: 1.5"),
            "FILE:5: fetch.per_host: expected a whole number, got 1.5",
        ),
        (
            ("  per_host: 1", "  per_host: 1\n  concurrency: 100000000000000000000"),
            "FILE:6: fetch.concurrency: must be at most 256, got 100000000000000000000",
        ),
        (
            ("  per_host: 1", "  per_host: 1\n  max_bytes: 100"),
            "FILE:6: fetch.max_bytes: must be at least 10000, got 100",
        ),
        (
            ("  per_host: 1", "  per_host: 1\n  max_bytes: 1000000000"),
            "FILE:6: fetch.max_bytes: must be at most 100000000, got 1000000000",
        ),
        (
            ("    near: 300", "    near: 1000000"),
            "FILE:28: watchlists[scam-ads].near: must be at most 10000, got 1000000",
        ),
    ],
)
def test_numbers_must_be_finite_and_in_range(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    old, new = change
    assert old in VALID
    assert error_of(tmp_path, VALID.replace(old, new, 1)) == expected


@pytest.mark.parametrize("value", [".nan", ".inf"])
def test_check_and_scan_refuse_a_timeout_that_is_not_a_number(tmp_path: Path, value: str) -> None:
    # .nan passed `check` and crashed `scan`; .inf passed both and never timed out.
    path = write(tmp_path, VALID.replace("  timeout: 5", f"  timeout: {value}"))
    for command in ("check", "scan"):
        result = cli("--config", str(path), command)
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith(f"adwatch: {path}:4: fetch.timeout: ")
        assert result.stderr.count("\n") == 1
    assert not (tmp_path / "data").exists()


# --- size, misspelt keys -------------------------------------------------------------------


def test_a_config_over_the_size_limit_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    with path.open("w", encoding="utf-8") as out:
        out.write(VALID)
        out.write(("# " + "x" * 98 + "\n") * (MAX_CONFIG_BYTES // 100 + 1))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == (
        f"{path}: too large for a config file: {path.stat().st_size} bytes "
        f"(at most {MAX_CONFIG_BYTES})"
    )


def test_a_config_at_the_size_limit_still_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A smaller limit: parsing 5 MB of comments would take seconds of the suite's time.
    limit = 20_000
    monkeypatch.setattr(config_module, "MAX_CONFIG_BYTES", limit)
    path = tmp_path / "feeds.yaml"
    padding = limit - len(VALID.encode("utf-8")) - 1
    path.write_text(VALID + "#" * padding + "\n", encoding="utf-8")
    assert path.stat().st_size == limit
    assert load_config(path).watchlists
    path.write_text(VALID + "#" * padding + "#\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="too large for a config file"):
        load_config(path)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ('    terms: ["deepfake"]', "    term:\n      - deepfake"),
            "FILE:31: watchlists[flat].term: unknown key",
        ),
        (("  timeout: 5", "  timout:\n    5"), "FILE:4: fetch.timout: unknown key"),
        (
            ('      th: ["โฆษณาหลอกลวง"]', '      jp:\n        - "広告"'),
            "FILE:26: watchlists[scam-ads].terms.jp: unknown language",
        ),
        (
            ("  TH: {name: Thailand, languages: [th, en]}", "  Thai:\n    name: Thailand"),
            "FILE:7: markets.Thai: market codes are two capital letters",
        ),
    ],
)
def test_a_misspelt_key_points_at_the_key_not_its_value(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    old, new = change
    assert old in VALID
    assert error_of(tmp_path, VALID.replace(old, new, 1)).startswith(expected)


# --- warnings: loaded, but probably not what was meant ---------------------------------------


def test_a_valid_config_has_no_warnings(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, VALID)).warnings == ()


def test_the_shipped_config_has_no_warnings() -> None:
    shipped = Path(__file__).parents[1] / "src" / "adwatch" / "data" / "feeds.yaml"
    assert load_config(shipped).warnings == ()


def test_no_watchlists_and_no_sources_are_warnings(tmp_path: Path) -> None:
    without = VALID[: VALID.index("sources:")] + "sources: []\n"
    config = load_config(write(tmp_path, without))
    assert [w.replace(str(config.path), "FILE") for w in config.warnings] == [
        "FILE:9: sources: none configured: a scan has nothing to fetch",
        "FILE: watchlists: none configured: a scan stores articles but finds no hits",
    ]
    empty = load_config(write(tmp_path, VALID[: VALID.index("watchlists:")] + "watchlists: []\n"))
    assert [w.replace(str(empty.path), "FILE") for w in empty.warnings] == [
        "FILE:19: watchlists: none configured: a scan stores articles but finds no hits"
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ('    terms: ["deepfake"]', '    terms: "scam ad, fake ad, lừa đảo"'),
            "FILE:31: watchlists[flat].terms: 'scam ad, fake ad, lừa đảo' is read as one term; "
            'for several, write a list: ["scam ad", "fake ad", "lừa đảo"]',
        ),
        (
            ('      th: ["โฆษณาหลอกลวง"]', "      th: โฆษณาหลอกลวง，โฆษณาปลอม"),
            "FILE:26: watchlists[scam-ads].terms.th: 'โฆษณาหลอกลวง，โฆษณาปลอม' is read as one "
            'term; for several, write a list: ["โฆษณาหลอกลวง", "โฆษณาปลอม"]',
        ),
        (
            ('    terms: ["deepfake"]', "    terms:\n      my: လိမ်လည်ကြော်ငြာ၊ ကြော်ငြာအတု"),
            "FILE:32: watchlists[flat].terms.my: 'လိမ်လည်ကြော်ငြာ၊ ကြော်ငြာအတု' is read as one "
            'term; for several, write a list: ["လိမ်လည်ကြော်ငြာ", "ကြော်ငြာအတု"]',
        ),
        (
            ('    context: ["TikTok"]', '    context: "TikTok; Facebook"'),
            "FILE:27: watchlists[scam-ads].context: 'TikTok; Facebook' is read as one term; "
            'for several, write a list: ["TikTok", "Facebook"]',
        ),
    ],
)
def test_a_list_written_as_one_comma_string_is_a_warning_with_its_line(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    old, new = change
    assert old in VALID
    config = load_config(write(tmp_path, VALID.replace(old, new, 1)))
    assert [w.replace(str(config.path), "FILE") for w in config.warnings] == [expected]


@pytest.mark.parametrize(
    "terms",
    [
        '"1,000 baht"',
        '"10,000,000 đồng"',
        '"ads; "',
        # In a list each item is delimited: a comma in an item is meant.
        '["Ministry of Culture, Sports and Tourism"]',
        '["Bộ Văn hóa, Thể thao và Du lịch", "scam"]',
    ],
)
def test_commas_in_numbers_and_in_list_items_are_not_warned_about(
    tmp_path: Path, terms: str
) -> None:
    config = load_config(write(tmp_path, VALID.replace('["deepfake"]', terms)))
    assert config.warnings == ()


def test_check_and_scan_print_warnings_on_stderr(tmp_path: Path) -> None:
    path = write(tmp_path, VALID[: VALID.index("sources:")] + "sources: []\n")
    warning = f"adwatch: warning: {path}: watchlists: none configured"
    result = cli("--config", str(path), "check")
    assert result.exit_code == 0
    assert warning in result.stderr
    assert result.stdout.startswith(f"{path}: OK: 0 sources")
    scan = cli("--config", str(path), "scan")
    assert scan.exit_code == 0, scan.output
    assert warning in scan.stderr
    quiet = cli("--config", str(path), "scan", "--quiet")
    assert quiet.exit_code == 0 and quiet.stderr == ""
