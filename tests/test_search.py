"""Search as analysts type it: Vietnamese without diacritics, watchlist word boundaries.

Every test runs on a real store written with the store's own `save_article`, and
most through the real CLI.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlite_utils
from typer.testing import CliRunner, Result

from adwatch.cli import app
from adwatch.models import Article, Match
from adwatch.query import make_filters, search_articles
from adwatch.search import FOLDED_INDEX, compile_search, parse_search
from adwatch.store import open_store
from adwatch.store.sqlite import migrations
from adwatch.text.dates import iso_utc

runner = CliRunner()
NOW = datetime.now(UTC)

# (key, market, language, title, text): saved oldest first, so article ids follow this order.
ARTICLES = [
    ("drugs-1", "VN", "vi", "Bắt đường dây ma túy xuyên quốc gia",
     "Công an triệt phá đường dây buôn bán ma túy, thu giữ 20 kg heroin."),
    ("football", "VN", "vi", "Bóng đá: đội tuyển thắng đậm",
     "Tuy nhiên, huấn luyện viên nói mà không cười: trận sau mới khó. Khán giả mà cổ vũ."),
    ("poisoning-1", "VN", "vi", "Hơn 50 học sinh nhập viện",
     "Nhiều học sinh bị ngộ độc thực phẩm sau bữa trưa ở trường."),
    ("drugs-2", "VN", "vi", "Triệt phá ổ nhóm sử dụng ma tuý",
     "Nhóm thanh niên tổ chức sử dụng trái phép chất ma tuý tại quán karaoke."),
    ("singer", "VN", "vi", "Ca sĩ ra mắt MV mới",
     "Nữ ca sĩ tùy hứng hát bài Ma Cà Rồng, tuy vậy khán giả vẫn thích."),
    ("poisoning-2", "VN", "vi", "Ngộ độc rượu ở Hà Nội",
     "Ba người ngộ độc methanol sau khi uống rượu không rõ nguồn gốc."),
    ("drugs-3", "VN", "vi", "Cảnh báo ma túy núp bóng quảng cáo trên mạng",
     "Quảng cáo bán ma túy tổng hợp xuất hiện trên mạng xã hội. Hoà giải không thành."),
    ("ad", "TH", "en", "Regulator fines an ad platform",
     "The shadow of a scam: an ad for fake crypto ran for weeks on TikTok."),
    ("madonna", "TH", "en", "Madonna tour announced", "Madonna announces dates in Bangkok; fans made queues."),
    ("thai-eye", "TH", "th", "ข่าวสุขภาพ", "หมอเตือนว่าใช้มือถือนานทำให้ปวดตา ควรพักสายตา"),
    ("thai-follow", "TH", "th", "ข่าวการเมือง", "รัฐบาลประกาศตามที่ได้แถลงไว้ โฆษณาหลอกลวงบน TikTok ถูกลบ"),
]  # fmt: skip


def _article(key: str, market: str, language: str, title: str, text: str) -> Article:
    return Article(
        url=f"https://news.example/{key}",
        source=f"{market.lower()}-news",
        market=market,
        title=title,
        text=f"{title}\n\n{text}",  # extracted pages start with their headline
        language=language,
        published_at=iso_utc(NOW - timedelta(days=1)),
        fetched_at=iso_utc(NOW),
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
        extractor="trafilatura",
        entry_id=key,
    )


def _hit(article: Article, word: str) -> Match:
    start = article.text.index(word)
    return Match(
        watchlist="news",
        category="other",
        severity="low",
        term=word,
        matched_text=word,
        start=start,
        end=start + len(word),
        snippet=article.text,
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A store holding ARTICLES, each with one hit on its first word."""
    path = tmp_path / "adwatch.db"
    with open_store(path) as store:
        for row in ARTICLES:
            article = _article(*row)
            store.save_article(article, [_hit(article, article.title.split()[0])])
    return path


IDS = {row[0]: number for number, row in enumerate(ARTICLES, start=1)}


def keys(ids: list[int]) -> set[str | None]:
    names = {number: key for key, number in IDS.items()}
    return {names.get(i) for i in ids}


def run(db: Path, *args: str) -> Result:
    return runner.invoke(app, ["--db", str(db), *args], env={"COLUMNS": "200"})


def search_keys(db: Path, query: str, *extra: str) -> set[str | None]:
    result = run(db, "search", query, "-f", "json", "--limit", "0", *extra)
    assert result.exit_code == 0, result.stderr
    return keys([r["article_id"] for r in json.loads(result.stdout)])


def hit_keys(db: Path, *args: str) -> set[str]:
    result = run(db, "hits", *args, "-f", "json", "--limit", "0")
    assert result.exit_code == 0, result.stderr
    return {r["url"].rsplit("/", 1)[1] for r in json.loads(result.stdout)}


# --- how analysts type Vietnamese ---------------------------------------------------------


def test_search_without_diacritics_finds_the_vietnamese_words(db: Path) -> None:
    assert search_keys(db, "ngo doc") == {"poisoning-1", "poisoning-2"}
    # ma túy and ma tuý (the tone mark placed the old or the new way), never the
    # football or singer stories that have "mà", "tuy nhiên", "Ma Cà Rồng", "tùy".
    assert search_keys(db, "ma tuy") == {"drugs-1", "drugs-2", "drugs-3"}
    assert search_keys(db, "NGO DOC") == {"poisoning-1", "poisoning-2"}


def test_a_query_with_diacritics_stays_exact_but_for_tone_placement_and_case(db: Path) -> None:
    assert search_keys(db, "ngộ độc") == {"poisoning-1", "poisoning-2"}
    assert search_keys(db, "ma túy") == {"drugs-1", "drugs-2", "drugs-3"}  # túy = tuý
    assert search_keys(db, "mà") == {"football"}  # not the "ma" of ma túy
    assert search_keys(db, "MÀ") == {"football"}
    assert search_keys(db, "hòa giải") == {"drugs-3"}  # written "Hoà giải"
    assert search_keys(db, "ma") == {"drugs-1", "drugs-2", "drugs-3", "football", "singer"}


def test_hits_text_uses_the_same_search(db: Path) -> None:
    assert hit_keys(db, "--text", "ma tuy") == {"drugs-1", "drugs-2", "drugs-3"}
    assert hit_keys(db, "--text", "ngo doc") == {"poisoning-1", "poisoning-2"}
    assert hit_keys(db, "--text", "mà") == {"football"}
    assert hit_keys(db, "--text", "ad*") == {"ad"}
    assert hit_keys(db, "--text", "ma tuy", "--group-by", "article") == {
        "drugs-1",
        "drugs-2",
        "drugs-3",
    }


def test_export_and_trends_use_the_same_search(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "hits.jsonl"
    assert run(db, "export", "--text", "ma tuy", "-f", "jsonl", "-o", str(out)).exit_code == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {r["url"].rsplit("/", 1)[1] for r in rows} == {"drugs-1", "drugs-2", "drugs-3"}
    trends = json.loads(run(db, "trends", "--text", "ma tuy", "-f", "json").stdout)
    assert [(r["group"], r["total"]) for r in trends["rows"]] == [("VN", 3)]


# --- the watchlists' word and syllable boundaries ------------------------------------------


def test_a_prefix_starts_a_word(db: Path) -> None:
    assert search_keys(db, "ad*") == {"ad"}  # not M[ad]onna, sh[ad]ow or m[ad]e
    assert search_keys(db, "ad") == {"ad"}
    assert search_keys(db, "madonna") == {"madonna"}


def test_a_short_thai_word_is_not_found_inside_a_longer_one(db: Path) -> None:
    assert search_keys(db, "ตา") == {"thai-eye"}  # ปวดตา, not ตามที่
    assert search_keys(db, "ตามที่") == {"thai-follow"}


def test_latin_words_are_found_in_thai_articles(db: Path) -> None:
    assert search_keys(db, "tiktok") == {"ad", "thai-follow"}
    assert search_keys(db, "โฆษณาหลอกลวง AND TikTok") == {"thai-follow"}
    # One query, both indexes: Thai through trigrams (ตา: too short, read row by row),
    # Latin words through the folded index; results still newest first.
    assert search_keys(db, "ตา OR madonna") == {"thai-eye", "madonna"}
    found = json.loads(run(db, "search", 'ปวดตา OR madonna OR "ngo doc"', "-f", "json").stdout)
    assert [r["article_id"] for r in found] == sorted(
        [IDS["thai-eye"], IDS["madonna"], IDS["poisoning-1"], IDS["poisoning-2"]], reverse=True
    )


def test_plain_words_are_a_phrase_in_latin_script_and_anded_in_thai() -> None:
    assert parse_search("ma tuy") == parse_search('"ma tuy"')
    assert parse_search("ตาม ประกาศ") == parse_search("ตาม AND ประกาศ")
    assert parse_search("TikTok scam ad*") == parse_search('"TikTok scam ad*"')
    assert parse_search("ad* scam") == parse_search("ad* AND scam")


def test_the_context_is_the_verified_match(db: Path) -> None:
    found = json.loads(run(db, "search", "ad", "-f", "json").stdout)
    assert [r["article_id"] for r in found] == [IDS["ad"]]
    context = found[0]["context"]
    # In the body (the headline is shown anyway), and not the "ad" of "shadow".
    assert context["match"] == "ad" and context["before"].endswith("a scam: an ")
    drugs = json.loads(run(db, "search", "ma tuy", "-f", "json", "--limit", "1").stdout)
    assert drugs[0]["context"]["match"] == "ma túy"


def test_the_limit_counts_verified_articles(db: Path) -> None:
    # Madonna is newer than the ad article and a candidate for "ad" (trigrams), but
    # does not match: the one result is still the ad article.
    found = json.loads(run(db, "search", "ad*", "-f", "json", "--limit", "1").stdout)
    assert [r["article_id"] for r in found] == [IDS["ad"]]


def test_raw_fts_stays_raw_and_unverified(db: Path) -> None:
    assert search_keys(db, "adonn", "--fts") == {"madonna"}
    assert search_keys(db, "tuy", "--fts") == {"football", "singer"}


def test_filters_still_apply_to_search(db: Path) -> None:
    assert search_keys(db, "tiktok", "--market", "TH", "--language", "th") == {"thai-follow"}
    assert search_keys(db, "ma", "--status", "new", "--source", "vn-news") == {
        "drugs-1",
        "drugs-2",
        "drugs-3",
        "football",
        "singer",
    }


# --- the folded index ------------------------------------------------------------------------


def folded_ids(db: Path, phrase: str) -> set[int]:
    sql = f"SELECT rowid FROM {FOLDED_INDEX} WHERE {FOLDED_INDEX} MATCH ?"
    return {row[0] for row in sqlite_utils.Database(db).execute(sql, [phrase]).fetchall()}


def test_the_folded_index_holds_latin_words_without_diacritics(db: Path) -> None:
    assert folded_ids(db, '"ngo doc"') == {IDS["poisoning-1"], IDS["poisoning-2"]}
    assert folded_ids(db, '"duong day"') == {IDS["drugs-1"]}  # đường dây: đ is d
    # Latin words of a Thai article, even written against Thai letters; no Thai words.
    assert folded_ids(db, "tiktok") == {IDS["ad"], IDS["thai-follow"]}
    assert folded_ids(db, '"ตา"') == set()


def test_an_article_written_by_another_client_is_searchable(db: Path) -> None:
    other = sqlite_utils.Database(db)  # plain SQLite, without adwatch's functions
    with other.conn:
        other.execute(
            "INSERT INTO articles (url, source, market, title, text, fetched_at, content_hash,"
            " extractor) VALUES ('https://e.com/x', 's', 'VN', 'Đột kích', 'Ma túy đá', 'now',"
            " 'h', 'manual')"
        )
    other.close()
    assert search_keys(db, "ma tuy") == {"drugs-1", "drugs-2", "drugs-3", None}
    assert search_keys(db, "dot kich") == {None}


def test_an_updated_article_is_searched_as_it_is_now(db: Path) -> None:
    with open_store(db) as store:
        article = _article("drugs-1", "VN", "vi", "Bắt đường dây lừa đảo", "Lừa đảo đầu tư.")
        store.save_article(article, [])
    assert search_keys(db, "ma tuy") == {"drugs-2", "drugs-3"}
    assert search_keys(db, "lua dao") == {"drugs-1"}


def test_a_deleted_article_leaves_the_folded_index(db: Path) -> None:
    with open_store(db) as store, store.db.conn:
        store.db.execute("DELETE FROM articles WHERE id = ?", [IDS["drugs-1"]])
    assert folded_ids(db, '"ma tuy"') == {IDS["drugs-2"], IDS["drugs-3"]}


def test_the_upgrade_indexes_articles_stored_before_it(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="m004_folded_search")
    old.execute(
        "INSERT INTO articles (id, url, source, market, title, text, fetched_at, content_hash,"
        " extractor) VALUES (1, 'https://e.com/1', 's', 'VN', 'Ngộ độc', 'Ngộ độc nấm', 'now',"
        " 'h', 'trafilatura')"
    )
    old.conn.commit()
    old.close()
    with open_store(path, create=False) as store:
        assert [r.article_id for r in search_articles(store, "ngo doc")] == [1]
        assert [r.article_id for r in search_articles(store, "nam")] == [1]


# --- the library ---------------------------------------------------------------------------


def test_verification_reports_spans_in_title_and_text() -> None:
    found = compile_search("ngo doc").find("Ngộ độc rượu", "Ba người ngộ độc methanol")
    assert found is not None
    assert found.title_spans == ((0, 7),) and found.text_spans == ((9, 16),)
    assert compile_search("mà").find("", "ma túy") is None


def test_search_in_the_library_matches_the_cli(db: Path) -> None:
    with open_store(db, create=False) as store:
        results = search_articles(store, "ma tuy", make_filters(market=["VN"]), limit=2)
    assert [r.article_id for r in results] == [IDS["drugs-3"], IDS["drugs-2"]]
