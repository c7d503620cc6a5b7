"""`adwatch demo`: the sample site, the scan of it, and the commands it suggests."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import icu
import pytest
import sqlite_utils
from typer.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from adwatch.cli import app
from adwatch.config import load_config
from adwatch.demo import STORE_NAME, load_sample
from adwatch.extract import extract_page
from adwatch.feeds import parse_feed
from adwatch.models import FetchResult
from adwatch.text.zawgyi import ZAWGYI_THRESHOLD, fix_zawgyi, zawgyi_probability

runner = CliRunner()
WIDE = {"COLUMNS": "200"}
SAMPLE = load_sample()
SITE = resources.files("adwatch") / "data" / "demo" / "site"
STARTER = Path(str(resources.files("adwatch") / "data" / "feeds.yaml"))
ZAWGYI_PAGE = next(a.page for a in SAMPLE.articles if a.zawgyi)
# The Zawgyi page as its author wrote it, in Unicode Burmese (the page ships in Zawgyi,
# made from this with ICU's reverse Zawgyi-my transform).
ZAWGYI_PAGE_UNICODE = [
    "မန္တလေးတွင် နှစ်လုံးထီနှင့် အွန်လိုင်းလောင်းကစား ကြော်ငြာများ များပြားလာ",
    "မန္တလေးမြို့တွင် နှစ်လုံးထီ ဂဏန်းများနှင့် အွန်လိုင်းလောင်းကစား အက်ပ်များကို ကြော်ငြာသည့် "
    "ဖေ့စ်ဘုတ် စာမျက်နှာများ ယခုလအတွင်း သိသိသာသာ များပြားလာကြောင်း ဒေသခံများက ပြောသည်။",
    "ထိုစာမျက်နှာများက ငွေသွင်းသူတိုင်းကို ဆုကြေးငွေ နှစ်ဆ ပေးမည်ဟု ကြော်ငြာပြီး "
    "ကျောင်းသားများနှင့် လူငယ်များကို ဆွဲဆောင်နေသဖြင့် မိဘများ စိုးရိမ်နေကြသည်။",
    "လောင်းကစားကြောင့် ငွေဆုံးရှုံးပြီး အကြွေးတင်နေသူ အများအပြား ရှိကြောင်း ရပ်ကွက်လူကြီး တစ်ဦးက ပြောသည်။",
]


def site_file(relative: str) -> bytes:
    return SITE.joinpath(*relative.split("/")).read_bytes()


def extracted(relative: str) -> str:
    url = f"file:///site/{relative}"
    page = FetchResult(url=url, final_url=url, status=200, headers={}, content=site_file(relative))
    return extract_page(page).text


# --- the sample site ---------------------------------------------------------------------


def test_every_feed_entry_is_a_manifest_article_and_every_article_is_in_a_feed() -> None:
    base = "file:///demo/site"
    listed: dict[str, set[str]] = {}
    for source in SAMPLE.sources:
        url = f"{base}/{source.feed}"
        feed = parse_feed(
            FetchResult(
                url=url, final_url=url, status=200, headers={}, content=site_file(source.feed)
            )
        )
        assert feed.warning is None
        assert all(entry.has_page for entry in feed.entries)
        listed[source.name] = {entry.url.removeprefix(f"{base}/") for entry in feed.entries}
    in_feeds = sorted(page for pages in listed.values() for page in pages)
    assert in_feeds == sorted(a.page for a in SAMPLE.articles)
    for source in SAMPLE.sources:  # each outlet's pages live in its own folder
        assert all(page.startswith(f"{source.name}/") for page in listed[source.name])


def test_the_sample_covers_every_language_theme_and_look_alike_and_stays_small() -> None:
    assert {a.language for a in SAMPLE.articles} == {"th", "vi", "my", "en"}
    assert {a.language for a in SAMPLE.articles if a.expect} == {"th", "vi", "my", "en"}
    assert {a.language for a in SAMPLE.articles if a.look_alike} == {"th", "vi", "my", "en"}
    assert 12 <= len(SAMPLE.articles) <= 16
    starter = load_config(STARTER)
    categories = {w.name: w.category for w in starter.watchlists}
    expected = {name for a in SAMPLE.articles for name in a.expect}
    assert expected <= set(categories)
    # scam, gambling, deepfake, political, regulator fines, privacy, undisclosed promotion
    assert {categories[name] for name in expected} == {
        "fraud", "gambling", "deepfake", "elections", "regulator", "privacy", "influencer",
    }  # fmt: skip
    size = sum(len(site_file(a.page)) for a in SAMPLE.articles)
    size += sum(len(site_file(s.feed)) for s in SAMPLE.sources)
    assert size < 200_000


def test_the_zawgyi_page_is_zawgyi_and_converts_back_to_what_was_written() -> None:
    zawgyi = extracted(ZAWGYI_PAGE).splitlines()  # the headline, then the paragraphs
    for line, unicode_line in zip(zawgyi, ZAWGYI_PAGE_UNICODE, strict=True):
        assert zawgyi_probability(line) > ZAWGYI_THRESHOLD
        assert line != unicode_line
        assert fix_zawgyi(line) == (unicode_line, True)
    # The page was made with ICU's transform: going back with it gives the same text.
    to_zawgyi = icu.Transliterator.createInstance("Zawgyi-my", icu.UTransDirection.REVERSE)
    assert zawgyi == [to_zawgyi.transliterate(line) for line in ZAWGYI_PAGE_UNICODE]
    assert len([a for a in SAMPLE.articles if a.zawgyi]) == 1


def test_the_syndicated_copy_has_the_same_text_in_another_page() -> None:
    copy = next(a for a in SAMPLE.articles if a.copy_of)
    assert copy.copy_of is not None
    assert copy.page.split("/")[0] != copy.copy_of.split("/")[0]  # another outlet
    assert site_file(copy.page) != site_file(copy.copy_of)
    assert extracted(copy.page) == extracted(copy.copy_of)


# --- the demo, run as a user runs it -----------------------------------------------------


@dataclass
class DemoRun:
    folder: Path
    stdout: str
    stderr: str

    def store(self) -> sqlite_utils.Database:
        return sqlite_utils.Database(self.folder / STORE_NAME)

    def url(self, page: str) -> str:
        return (self.folder / "site" / page).as_uri()

    def next_commands(self) -> list[list[str]]:
        """The commands printed under "Try next:", as argument lists."""
        tail = self.stdout.split("Try next:\n", 1)[1]
        lines = [line.strip() for line in tail.splitlines() if line.startswith("  adwatch ")]
        return [shlex.split(line) for line in lines]


def run_cli_demo(folder: Path, env: dict[str, str] | None = None) -> DemoRun:
    result = runner.invoke(app, ["demo", "--dir", str(folder)], env={**WIDE, **(env or {})})
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return DemoRun(folder, result.stdout, result.stderr)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    """One demo run shared by the tests that only read what it stored."""
    with pytest.MonkeyPatch.context() as env:
        env.delenv("ADWATCH_CONFIG", raising=False)
        env.delenv("ADWATCH_DB", raising=False)
        yield run_cli_demo(tmp_path_factory.mktemp("demo") / "adwatch-demo")


def hits_of(run: DemoRun, page: str) -> set[str]:
    rows = run.store().query(
        "SELECT DISTINCT h.watchlist FROM hits h JOIN articles a ON a.id = h.article_id "
        "WHERE a.url = ?",
        [run.url(page)],
    )
    return {row["watchlist"] for row in rows}


def test_the_demo_stores_every_sample_article_from_its_page(demo_run: DemoRun) -> None:
    rows = list(demo_run.store().query("SELECT url, extractor, language FROM articles"))
    assert sorted(r["url"] for r in rows) == sorted(demo_run.url(a.page) for a in SAMPLE.articles)
    assert {r["extractor"] for r in rows} == {"trafilatura"}  # read from the page, not the feed
    languages = {r["url"]: r["language"] for r in rows}
    assert all(languages[demo_run.url(a.page)] == a.language for a in SAMPLE.articles)
    assert "3 sources ok, 0 failed; 15 new articles" in demo_run.stdout
    assert demo_run.stderr == ""


def test_every_themed_article_hits_its_watchlists_and_no_look_alike_hits(
    demo_run: DemoRun,
) -> None:
    for article in SAMPLE.articles:
        fired = hits_of(demo_run, article.page)
        if article.look_alike:
            assert fired == set(), article.page
        else:
            assert set(article.expect) <= fired, article.page
    assert "none of the 4 harmless look-alikes among them has a hit" in demo_run.stdout


def test_the_demo_has_hits_in_each_language(demo_run: DemoRun) -> None:
    rows = demo_run.store().query("SELECT language, count(*) AS n FROM hits GROUP BY language")
    counts = {row["language"]: row["n"] for row in rows}
    assert set(counts) == {"th", "vi", "my", "en"}
    assert all(n > 0 for n in counts.values())
    total = sum(counts.values())
    languages = ", ".join(f"{lang} {counts[lang]}" for lang in sorted(counts))
    assert f"{total} hits ({languages})" in demo_run.stdout


def test_the_zawgyi_article_is_stored_in_unicode_and_flagged(demo_run: DemoRun) -> None:
    row = next(
        demo_run.store().query(
            "SELECT title, text, zawgyi FROM articles WHERE url = ?", [demo_run.url(ZAWGYI_PAGE)]
        )
    )
    assert row["zawgyi"] == 1
    assert row["title"] == ZAWGYI_PAGE_UNICODE[0]
    assert row["text"].splitlines() == ZAWGYI_PAGE_UNICODE
    assert hits_of(demo_run, ZAWGYI_PAGE) >= {"illegal-gambling-ads"}


def test_the_demo_config_has_the_starter_watchlists_and_the_sample_sources(
    demo_run: DemoRun,
) -> None:
    config = load_config(demo_run.folder / "feeds.yaml")
    starter = load_config(STARTER)
    assert config.watchlists == starter.watchlists
    assert config.markets == starter.markets
    assert config.store == demo_run.folder / STORE_NAME
    assert [s.name for s in config.sources] == [s.name for s in SAMPLE.sources]
    assert all(Path(s.url).is_file() for s in config.sources)


def test_the_printed_next_commands_work(demo_run: DemoRun) -> None:
    commands = demo_run.next_commands()
    assert [c[3] for c in commands] == [
        "hits", "show", "show", "stories", "hits", "trends", "search", "pivot", "indicators",
        "evidence", "report",
    ]  # fmt: skip
    for command in commands:
        assert command[:3] == ["adwatch", "-c", str(demo_run.folder / "feeds.yaml")]
        result = runner.invoke(app, command[1:], env=WIDE)
        assert result.exit_code == 0, (command, result.stdout, result.stderr)
    outputs = {" ".join(c[3:]): runner.invoke(app, c[1:], env=WIDE).stdout for c in commands}
    hits_table, shown, semantic, stories, in_event, tone, found = (
        outputs[" ".join(c[3:])] for c in commands[:7]
    )
    # The made-up election around today: Thai hits in it, raised a level.
    assert "critical" in in_event and "No hits match" not in in_event
    assert "alerts" in demo_run.stdout and "critical hit" in demo_run.stdout
    assert "Regulator fines" in stories  # the original and its syndicated copy: one story
    assert "Regulator fines video platform" in hits_table
    assert "deepfake-investment-ads" in shown
    assert "semantic  score" in semantic and "vs threshold" in semantic  # found by meaning
    assert "tone per day" in tone
    pivoted, shared = outputs["pivot @tixcheap.cnx"], outputs["indicators --min-articles 2"]
    # One LINE account behind a Thai ticket scam and Vietnamese deepfake ads: two stories.
    assert "ผู้เสียหายกว่า 300 ราย" in pivoted and "Cảnh báo quảng cáo deepfake" in pivoted
    assert "tixcheap.cnx" in shared and "+66894441234" in shared
    with (demo_run.folder / "evidence.warc.gz").open("rb") as kept:
        assert [r.rec_type for r in ArchiveIterator(kept)] == ["warcinfo", "resource"]
    assert "Cảnh báo quảng cáo deepfake" in found  # Vietnamese and English articles
    assert "Regulator fines video platform" in found
    report = demo_run.folder / "report.html"
    assert report.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_running_the_demo_again_adds_nothing_and_keeps_triage(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    first = run_cli_demo(folder)
    show = next(c for c in first.next_commands() if c[3] == "show")
    hit_id = show[4]
    triaged = runner.invoke(
        app, [*show[1:3], "triage", hit_id, "--status", "escalated", "--note", "seen in demo"]
    )
    assert triaged.exit_code == 0, triaged.stderr
    counts = [(first.store()["articles"].count, first.store()["hits"].count)]
    second = run_cli_demo(folder)
    counts.append((second.store()["articles"].count, second.store()["hits"].count))
    assert counts[0] == counts[1] == (len(SAMPLE.articles), counts[0][1])
    assert "0 new articles, 0 updated; 0 new hits" in second.stdout
    assert second.next_commands() == first.next_commands()
    status = second.store().execute("SELECT status FROM hits WHERE id = ?", [int(hit_id)])
    assert status.fetchone() == ("escalated",)


def test_the_demo_never_writes_into_the_store_of_adwatch_db(tmp_path: Path) -> None:
    real_store = tmp_path / "real.db"
    run = run_cli_demo(tmp_path / "demo", env={"ADWATCH_DB": str(real_store)})
    assert not real_store.exists()
    assert (tmp_path / "demo" / STORE_NAME).is_file()
    # The printed commands name the demo store, since $ADWATCH_DB would win over -c.
    for command in run.next_commands():
        assert command[3:5] == ["--db", str(tmp_path / "demo" / STORE_NAME)]
    result = runner.invoke(
        app, run.next_commands()[0][1:], env={**WIDE, "ADWATCH_DB": str(real_store)}
    )
    assert result.exit_code == 0, result.stderr
    assert "Regulator fines video platform" in result.stdout


def test_the_demo_refuses_a_folder_with_a_feeds_yaml_of_its_own(tmp_path: Path) -> None:
    mine = tmp_path / "feeds.yaml"
    mine.write_text("version: 1\n", encoding="utf-8")
    result = runner.invoke(app, ["demo", "--dir", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"adwatch: {mine}: exists and was not written by `adwatch demo`; "
        "use another folder for the demo\n"
    )
    assert mine.read_text(encoding="utf-8") == "version: 1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feeds.yaml"]


def test_python_dash_m_adwatch_demo_in_an_empty_folder(tmp_path: Path) -> None:
    def adwatch(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "adwatch", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, **WIDE},
        )

    demo = adwatch("demo")
    assert demo.returncode == 0, demo.stderr
    assert (tmp_path / "adwatch-demo" / STORE_NAME).is_file()
    run = DemoRun(tmp_path / "adwatch-demo", demo.stdout, demo.stderr)
    commands = run.next_commands()
    assert commands[0][:3] == ["adwatch", "-c", "adwatch-demo/feeds.yaml"]  # relative to here
    for command in commands:
        result = adwatch(*command[1:])
        assert result.returncode == 0, (command, result.stderr)
    assert (tmp_path / "adwatch-demo" / "report.html").is_file()
