"""Stories (issue #11): fingerprints, facts, linking, and a scan that groups a syndicated
copy and a translation with their original while a look-alike stays apart; a re-run and
`adwatch restory` keep the stories and their ids. The scan embeds with the real model."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from pytest_httpserver import HTTPServer
from scan_site import rss
from store_sql import rows, value
from typer.testing import CliRunner

from adwatch.cli import app
from adwatch.stories.facts import conflict, numbers
from adwatch.stories.fingerprint import reduced, signature, similarity
from adwatch.stories.index import assign
from adwatch.stories.link import NEAR_DUPLICATE, StoryArticle

runner = CliRunner()

ARREST = (
    "Cyber police arrested five people in Nonthaburi who ran Facebook ads for a fake gold "
    "trading platform called GoldMax Thai. The ads used an AI-made video of a well-known "
    "economist. Police said 312 victims lost 48 million baht before the pages were closed. "
    "The suspects face fraud charges and up to five years in prison."
)
ARREST_TH = (
    "ตำรวจไซเบอร์จับกุมผู้ต้องหา 5 คนที่จังหวัดนนทบุรี ซึ่งยิงโฆษณาเฟซบุ๊กชวนลงทุนแพลตฟอร์มเทรดทองปลอมชื่อ "
    "GoldMax Thai โดยใช้คลิปที่สร้างด้วย AI ปลอมเป็นนักเศรษฐศาสตร์ชื่อดัง ผู้เสียหาย 312 ราย "
    "สูญเงินรวม 48 ล้านบาท ก่อนที่เพจจะถูกปิด ผู้ต้องหาถูกแจ้งข้อหาฉ้อโกง"
)
TRAIN = (
    "The state railway will run extra trains between Bangkok and Chiang Mai over the New "
    "Year holiday, with sleeper cars added to the night services and tickets on sale from "
    "Monday at stations and online."
)
LOOKALIKE = (
    "Police in Chiang Mai arrested two men who ran Facebook ads for a fake crypto exchange "
    "called BitNova. The ads used an AI-made video of a famous actress. Police said 57 "
    "victims lost 9.5 million baht. The suspects face fraud charges."
)


# --- fingerprints and facts -------------------------------------------------------------


def test_a_syndicated_copy_with_other_boilerplate_is_a_near_duplicate() -> None:
    copy = f"(Wire) - {ARREST} Read more: weather for the weekend. Photo: police handout."
    assert similarity(signature(ARREST), signature(copy)) >= 0.5
    assert similarity(signature(ARREST), signature(LOOKALIKE)) < 0.5  # far from a copy
    assert similarity(signature(ARREST), signature(TRAIN)) < NEAR_DUPLICATE


def test_signatures_stay_what_the_store_holds() -> None:
    """Stored signatures are compared with new ones: a faster signature must give the same
    values (these digests were taken from the first, whole-array computation)."""
    long_text = " ".join(f"word{i % 997} police warn scam ads {i}" for i in range(400))
    for text, digest in [
        (long_text, "6912e889dcb971e4bbfaf6a4048d6ccf17dd2d0ce2ce8c68206b6651c52313a5"),
        (
            "ตำรวจเตือนโฆษณาหลอกลวงลงทุนออนไลน์ 12 ราย",
            "c560745062521e8f7257ee360164ba1e6d7ee47d421fd3e4f8c9b9e46e1663bd",
        ),
    ]:
        values = signature(text).astype("<u4").tobytes()
        assert hashlib.sha256(values).hexdigest() == digest
    assert (signature("") == 0xFFFFFFFF).all()


def test_thai_and_burmese_are_shingled_without_word_boundaries() -> None:
    assert " " not in reduced(ARREST_TH) and "5" in reduced(ARREST_TH)
    thai_copy = "ข่าวด่วน " + ARREST_TH.replace(" ", "")
    assert similarity(signature(ARREST_TH), signature(thai_copy)) >= 0.7
    burmese = "ရန်ကုန်တွင် လောင်းကစားကြော်ငြာ ပြုလုပ်သူ ၅ ဦးကို ဖမ်းဆီးခဲ့သည်။ ငွေ သိန်း ၄၈၀ ဆုံးရှုံးခဲ့သည်။"
    assert similarity(signature(burmese), signature(burmese + " ဓာတ်ပုံ - ရဲ")) >= 0.6
    assert similarity(signature(burmese), signature(ARREST_TH)) < 0.1


def test_numbers_read_every_script_and_leave_out_years_and_small_ones() -> None:
    assert numbers("สูญเงิน ๔๘ ล้านบาท เมื่อ พ.ศ. 2568 จับ 5 คน") == {48}
    assert numbers("ငွေ သိန်း ၄၈၀ ၂၀၂၅ ခုနှစ်") == {480}
    assert numbers("1,2 tỷ đồng, 1.2 billion") == {12} or numbers("1,2 tỷ") == set()
    assert numbers(ARREST) == {312, 48}


def test_two_reports_that_state_numbers_and_share_none_conflict() -> None:
    assert conflict(frozenset({312, 48}), frozenset({57}))
    assert not conflict(frozenset({312, 48}), frozenset({48, 99}))
    assert not conflict(frozenset(), frozenset({57}))  # one says nothing: no evidence


# --- linking ------------------------------------------------------------------------------


def _article(
    key: int, text: str, vector: list[float] | None, hours: float, lang: str
) -> StoryArticle:
    unit = None
    if vector is not None:
        array = np.array(vector, dtype=np.float32)
        unit = array / np.linalg.norm(array)
    return StoryArticle(
        key=key,
        language=lang,
        published=datetime(2026, 11, 24, tzinfo=UTC) + timedelta(hours=hours),
        signature=signature(text),
        vector=unit,
        numbers=numbers(text),
    )


def test_assign_groups_copies_and_translations_and_keeps_look_alikes_and_old_news_apart() -> None:
    incident = [1.0, 0.2, 0.0]
    stories = assign(
        [
            _article(1, ARREST, incident, 0, "en"),
            _article(2, f"(Wire) - {ARREST}", None, 1, "en"),  # a copy, even without a vector
            _article(3, ARREST_TH, [0.9, 0.25, 0.05], 20, "th"),  # another language, close
            _article(4, LOOKALIKE, [0.95, 0.2, 0.05], 30, "en"),  # close, other numbers
            _article(5, ARREST, incident, 24 * 10, "en"),  # the same text ten days later
        ]
    )
    assert stories[1] == stories[2] == stories[3] == 1
    assert stories[4] == 4
    assert stories[5] == 5


# --- the scan, a re-run and restory --------------------------------------------------------


def _page(title: str, body: str, lang: str) -> str:
    paragraphs = "".join(f"<p>{sentence}.</p>" for sentence in body.split(". "))
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>'
        f"</head><body><article><h1>{title}</h1>{paragraphs}</article></body></html>"
    )


ARTICLES = {
    # path: (source, title, body, language, date)
    "/a/arrest": ("wire", "Five held over fake gold trading ads", ARREST, "en", "08:00"),
    "/b/arrest": ("daily", "Fake gold trading ads: five arrested", ARREST, "en", "09:00"),
    "/c/arrest": ("thai", "รวบแก๊งยิงโฆษณาเทรดทองปลอม", ARREST_TH, "th", "11:00"),
    "/a/other": ("wire", "Two held over fake crypto exchange ads", LOOKALIKE, "en", "12:00"),
}


def _serve(site: HTTPServer) -> None:
    for source in ("wire", "daily", "thai"):
        items = [
            {
                "title": title,
                "link": site.url_for(path),
                "date": f"Tue, 24 Nov 2026 {hour}:00 +0000",
            }
            for path, (src, title, _, _, hour) in ARTICLES.items()
            if src == source
        ]
        site.expect_request(f"/{source}.xml").respond_with_data(
            rss(items), content_type="application/rss+xml"
        )
    for path, (_, title, body, lang, _) in ARTICLES.items():
        site.expect_request(path).respond_with_data(
            _page(title, body, lang), content_type="text/html; charset=utf-8"
        )


def _config(tmp_path: Path, site: HTTPServer, store: str) -> Path:
    sources = "\n".join(
        f"  - {{name: {name}, url: '{site.url_for(f'/{name}.xml')}', market: TH}}"
        for name in ("wire", "daily", "thai")
    )
    path = tmp_path / "feeds.yaml"
    path.write_text(
        f"version: 1\nstore: '{store}'\nfetch: {{timeout: 5}}\n"
        "markets:\n  TH: {name: Thailand, languages: [th, en]}\n"
        f"sources:\n{sources}\n"
        "embeddings: {enabled: true}\n"
        "watchlists:\n  - name: fraud\n    terms: [Facebook, เฟซบุ๊ก]\n",
        encoding="utf-8",
    )
    return path


def _stories(store: str) -> dict[str, int]:
    found = rows(store, "SELECT url, story_id FROM articles")
    return {row["url"].split("/", 3)[-1]: row["story_id"] for row in found}


def test_a_scan_puts_copies_and_translations_in_one_story_and_restory_keeps_it(
    site: HTTPServer, tmp_path: Path, store_at: str
) -> None:
    _serve(site)
    config = _config(tmp_path, site, store_at)
    result = runner.invoke(app, ["--config", str(config), "scan", "--quiet"])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    stories = _stories(store_at)
    assert stories["a/arrest"] == stories["b/arrest"] == stories["c/arrest"]
    assert stories["a/other"] != stories["a/arrest"]
    story = stories["a/arrest"]
    assert rows(
        store_at,
        "SELECT articles, sources, languages, markets FROM stories WHERE id = ?",
        [story],
    ) == [{"articles": 3, "sources": 3, "languages": 2, "markets": "TH"}]
    assert value(store_at, "SELECT count(*) FROM article_fingerprints") == 4

    again = runner.invoke(app, ["--config", str(config), "scan", "--quiet"])
    assert again.exit_code == 0
    assert _stories(store_at) == stories

    restoried = runner.invoke(app, ["--config", str(config), "restory"])
    assert restoried.exit_code == 0, restoried.stderr
    assert "put 4 articles into 2 stories" in restoried.stdout
    assert _stories(store_at) == stories  # the same stories, with the same ids


def test_restory_gives_articles_stored_before_stories_their_stories(
    site: HTTPServer, tmp_path: Path, store_at: str
) -> None:
    _serve(site)
    config = _config(tmp_path, site, store_at)
    assert runner.invoke(app, ["--config", str(config), "scan", "--quiet"]).exit_code == 0
    grouped = _stories(store_at)
    # As a store upgraded from before stories: no story, no fingerprint.
    from store_sql import execute

    execute(store_at, "DELETE FROM article_fingerprints")
    execute(store_at, "UPDATE articles SET story_id = NULL")
    execute(store_at, "DELETE FROM stories")
    result = runner.invoke(app, ["--config", str(config), "restory"])
    assert result.exit_code == 0, result.stderr
    regrouped = _stories(store_at)
    assert None not in regrouped.values()
    same = {path: regrouped[path] == regrouped["a/arrest"] for path in regrouped}
    assert same == {path: grouped[path] == grouped["a/arrest"] for path in grouped}
    assert value(store_at, "SELECT count(*) FROM article_fingerprints") == 4


@pytest.mark.parametrize("since", ["2026-11-24T10:00:00Z"])
def test_restory_since_keeps_older_stories_and_lets_newer_articles_join_them(
    site: HTTPServer, tmp_path: Path, store_at: str, since: str
) -> None:
    _serve(site)
    config = _config(tmp_path, site, store_at)
    assert runner.invoke(app, ["--config", str(config), "scan", "--quiet"]).exit_code == 0
    before = _stories(store_at)
    result = runner.invoke(app, ["--config", str(config), "restory", "--since", since])
    assert result.exit_code == 0, result.stderr
    assert "put 2 articles" in result.stdout  # the Thai report and the look-alike
    assert _stories(store_at) == before


def test_the_window_is_set_in_feeds_yaml_and_checked(tmp_path: Path) -> None:
    from adwatch.config import load_config
    from adwatch.errors import ConfigError

    path = tmp_path / "feeds.yaml"
    base = "version: 1\nmarkets:\n  TH: {name: Thailand}\nsources: []\n"
    path.write_text(base + "stories: {window_hours: 48}\n", encoding="utf-8")
    assert load_config(path).stories.window_hours == 48
    path.write_text(base, encoding="utf-8")
    assert load_config(path).stories.window_hours == 96
    path.write_text(base + "stories: {window_hours: 0}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="stories.window_hours"):
        load_config(path)


def test_a_narrower_window_splits_what_a_wider_one_joins() -> None:
    incident = [1.0, 0.2, 0.0]
    articles = [
        _article(1, ARREST, incident, 0, "en"),
        _article(2, ARREST_TH, [0.9, 0.25, 0.05], 50, "th"),
    ]
    assert assign(articles)[2] == 1
    assert assign(articles, window=timedelta(hours=48))[2] == 2


def test_a_scan_places_articles_an_interrupted_scan_left_without_a_story(
    site: HTTPServer, tmp_path: Path, store_at: str
) -> None:
    from store_sql import execute

    _serve(site)
    config = _config(tmp_path, site, store_at)
    assert runner.invoke(app, ["--config", str(config), "scan", "--quiet"]).exit_code == 0
    grouped = _stories(store_at)
    # As if the scan had stopped after storing the Thai report, before placing it.
    thai = value(store_at, "SELECT id FROM articles WHERE url = ?", [site.url_for("/c/arrest")])
    execute(store_at, "UPDATE articles SET story_id = NULL WHERE id = ?", [thai])
    again = runner.invoke(app, ["--config", str(config), "scan", "--quiet"])
    assert again.exit_code == 0
    assert _stories(store_at) == grouped


def test_joining_a_story_counts_as_recounting_it_would(store_at: str) -> None:
    from adwatch.models import Article
    from adwatch.store import open_store

    def article(n: int, source: str, market: str, language: str, published: str) -> Article:
        return Article(
            url=f"https://example.com/{n}", source=source, market=market, title=f"title {n}",
            text=f"text {n}", language=language, published_at=published,
            fetched_at="2026-11-25T00:00:00Z", content_hash=f"h{n}", extractor="trafilatura",
        )  # fmt: skip

    with open_store(store_at) as store:
        ids = [
            store.save_article(article(*spec), []).article_id
            for spec in [
                (1, "wire", "TH", "en", "2026-11-24T08:00:00Z"),
                (2, "daily", "TH", "en", "2026-11-24T09:00:00Z"),
                (3, "thai", "MM", "th", "2026-11-23T22:00:00Z"),  # earlier than the first
                (4, "wire", "TH", "en", "2026-11-25T01:00:00Z"),
            ]
        ]
        story = store.set_story(ids[0], None)
        for article_id in ids[1:]:
            store.set_story(article_id, story)
        joined = store.story(story)
        with store.transaction():
            store.refresh_story(story)
        assert store.story(story) == joined
    assert joined is not None
    assert (joined.articles, joined.sources, joined.languages, joined.markets) == (4, 3, 2, "MM,TH")
    assert (joined.first_seen, joined.title, joined.language) == (
        "2026-11-23T22:00:00Z", "title 3", "th",
    )  # fmt: skip
    assert joined.last_seen == "2026-11-25T01:00:00Z"
