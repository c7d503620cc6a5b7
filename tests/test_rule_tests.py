"""Watchlists you can test: `examples:` checked by `adwatch rules test`, and
`rematch --dry-run` saying what a rule change would add and remove, writing nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from scan_site import serve_news, write_config
from store_sql import rows
from typer.testing import CliRunner

from adwatch.cli import app
from adwatch.config import load_config, parse_config
from adwatch.errors import ConfigError
from adwatch.rule_tests import run_examples

runner = CliRunner()

CONFIG = """markets:
  TH: {name: Thailand, languages: [th, en]}
  MM: {name: Myanmar, languages: [my]}
sources: []
watchlists:
  - name: scam-ads
    severity: high
    terms:
      th: [โฆษณาหลอกลวง]
      my: [လိမ်လည်ကြော်ငြာ]
      en: [scam ad*]
    exclude: [satire]
    examples:
      match:
        - ตำรวจเตือนโฆษณาหลอกลวงบนติ๊กต็อก มีผู้เสียหายหลายราย
        - ဖေ့စ်ဘုတ်ပေါ်တွင် လိမ်လည်ကြော်ငြာများ တွေ့ရသည်
        - Police warn of scam adverts on video sites
      no_match:
        - ตามที่มีโฆษณาสินค้าใหม่ในห้าง
        - A satire site ran a scam ad parody
  - name: th-gambling
    markets: [TH]
    severity: critical
    query: '"เว็บพนัน" AND (โฆษณา OR โปรโมท)'
    examples:
      match: [โฆษณาเว็บพนันออนไลน์ระบาดบนโซเชียล]
      no_match: [ตำรวจจับเว็บพนันรายใหญ่]
"""


def write(tmp_path: Path, text: str = CONFIG) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_examples_pass_with_the_scans_boundaries_in_each_script(tmp_path: Path) -> None:
    config = load_config(write(tmp_path))
    results = run_examples(config.watchlists)
    assert len(results) == 7 and all(r.passed for r in results), [
        (r.example.label, r.hits) for r in results if not r.passed
    ]
    # The Thai look-alike: โฆษณา inside other text is no hit of "โฆษณาหลอกลวง".
    thai_lookalike = next(r for r in results if r.example.label.endswith("no_match[0]"))
    assert thai_lookalike.language == "th" and not thai_lookalike.hits
    # The query watchlist limited to TH is asked in TH.
    assert {r.watchlist for r in results} == {"scam-ads", "th-gambling"}


def test_rules_test_exits_0_and_counts(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--config", str(write(tmp_path)), "rules", "test"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "7 examples in 2 watchlists: 7 passed, 0 failed"


def test_each_failure_is_one_line_with_file_line_and_field_and_exit_1(tmp_path: Path) -> None:
    text = CONFIG.replace(
        "        - A satire site ran a scam ad parody\n",
        "        - A satire site ran a scam ad parody\n        - New scam ads flood feeds\n",
    ).replace("      match: [โฆษณาเว็บพนันออนไลน์ระบาดบนโซเชียล]", "      match: [เว็บพนันโดนปิด]")
    path = write(tmp_path, text)
    result = runner.invoke(app, ["--config", str(path), "rules", "test"])
    assert result.exit_code == 1
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == "8 examples in 2 watchlists: 6 passed, 2 failed"
    failures = lines[:-1]
    assert len(failures) == 2
    no_match_line = text.splitlines().index("        - New scam ads flood feeds") + 1
    assert failures[0] == (
        f"{path}:{no_match_line}: watchlists[scam-ads].examples.no_match[2]: FAILED: "
        "matched 'scam ads' (term 'scam ad*'): 'New scam ads flood feeds'"
    )
    assert (
        failures[1].startswith(f"{path}:")
        and "th-gambling].examples.match[0]: FAILED: " in (failures[1])
    )
    assert "did not match (language th)" in failures[1]
    only = runner.invoke(app, ["--config", str(path), "rules", "test", "-w", "th-gambling"])
    assert only.exit_code == 1 and only.stdout.strip().endswith(
        "2 examples in 1 watchlist: 1 passed, 1 failed"
    )
    unknown = runner.invoke(app, ["--config", str(path), "rules", "test", "-w", "nope"])
    assert unknown.exit_code == 2 and "no watchlist named 'nope'" in unknown.stderr


def test_verbose_lists_the_examples_that_passed(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--config", str(write(tmp_path)), "rules", "test", "-v"])
    assert result.exit_code == 0
    assert sum(": ok: " in line for line in result.stdout.splitlines()) == 7


def test_a_config_without_examples_says_so(tmp_path: Path) -> None:
    plain = "markets: {TH: {name: T}}\nsources: []\nwatchlists:\n  - {name: w, terms: {en: [x]}}\n"
    result = runner.invoke(app, ["--config", str(write(tmp_path, plain)), "rules", "test"])
    assert result.exit_code == 0 and "no watchlist has examples" in result.stdout


@pytest.mark.parametrize(
    ("examples", "problem"),
    [
        ("examples: {}", "examples: give match, no_match or both"),
        ("examples: {match: [], no_match: [x]}", "examples.match: must not be empty"),
        ("examples: {matches: [x]}", "examples.matches: unknown key"),
        ("examples: {match: [{text: x}]}", "examples.match[0]: expected a single value"),
        ("examples: [x]", "examples: expected a mapping"),
    ],
)
def test_bad_examples_are_config_errors_naming_the_field(examples: str, problem: str) -> None:
    text = f"markets: {{TH: {{name: T}}}}\nsources: []\nwatchlists:\n  - name: w\n    terms: {{en: [x]}}\n    {examples}\n"
    with pytest.raises(ConfigError) as caught:
        parse_config(text, Path("feeds.yaml"))
    assert f"feeds.yaml:6: watchlists[w].{problem}" in str(caught.value)


def test_the_shipped_watchlists_pass_their_examples_in_four_languages() -> None:
    shipped = Path(__file__).parent.parent / "src" / "adwatch" / "data" / "feeds.yaml"
    config = load_config(shipped)
    results = run_examples(config.watchlists)
    assert results and all(r.passed for r in results), [
        r.example.label for r in results if not r.passed
    ]
    languages = {r.language for r in results}
    assert {"th", "vi", "my", "en"} <= languages
    with_terms = [w for w in config.watchlists if w.terms or w.query]
    assert all(w.examples for w in with_terms)


# --- rematch --dry-run ---------------------------------------------------------------------


def _fingerprint(location: Path) -> str:
    tables = ("hits", "hit_totals", "triage_log", "articles", "runs")
    dump = repr([rows(str(location), f"SELECT * FROM {t} ORDER BY 1") for t in tables])
    return hashlib.sha256(dump.encode()).hexdigest()


def test_rematch_dry_run_lists_what_would_change_and_writes_nothing(
    site: HTTPServer, tmp_path: Path
) -> None:
    serve_news(site)
    config = write_config(tmp_path / "feeds.yaml", site)
    assert runner.invoke(app, ["--config", str(config), "scan", "--quiet"]).exit_code == 0
    store = tmp_path / "adwatch.db"
    thai = rows(
        str(store), "SELECT id FROM hits WHERE watchlist = 'scam-ads' AND term = 'โฆษณาหลอกลวง'"
    )
    assert len(thai) >= 2
    triage = ["--config", str(config), "triage", str(thai[0]["id"]), "--status", "escalated"]
    assert runner.invoke(app, triage).exit_code == 0
    text = config.read_text(encoding="utf-8")
    text = text.replace('      th: ["โฆษณาหลอกลวง"]\n', "")
    text = text[: text.index("  - name: weather")] + (
        "  - name: crypto-ads\n    category: fraud\n    severity: medium\n"
        "    terms:\n      vi: [tiền ảo]\n      th: [ลงทุน]\n"
    )
    config.write_text(text, encoding="utf-8")
    before = _fingerprint(store)

    dry = runner.invoke(app, ["--config", str(config), "rematch", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert _fingerprint(store) == before  # nothing written
    lines = dry.stdout.strip().splitlines()
    removed = [line for line in lines if line.startswith("- scam-ads: hit ")]
    kept = [line for line in lines if line.startswith("= scam-ads: hit ")]
    added = [line for line in lines if line.startswith("+ crypto-ads: new hit in article ")]
    assert len(removed) == len(thai) - 1 and len(kept) == 1
    assert f"hit {thai[0]['id']} " in kept[0] and "'โฆษณาหลอกลวง'" in kept[0]
    assert added and all("(term 'ลงทุน')" in a or "(term 'tiền ảo')" in a for a in added)
    assert lines[-1].startswith("dry run, nothing written: rematched ")
    assert f"{len(added)} hits would be added" in lines[-1]

    # The real rematch does what the dry run said.
    real = runner.invoke(app, ["--config", str(config), "rematch"])
    assert real.exit_code == 0
    summary = real.stdout.strip().splitlines()[-1]
    assert summary.startswith("rematched ") and f"{len(added)} hits added" in summary
    assert len(rows(str(store), "SELECT id FROM hits WHERE watchlist = 'crypto-ads'")) == len(added)
