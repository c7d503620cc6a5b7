"""Evidence and pivots end to end: a local site of scam-ad reports in four languages is
scanned; each page is kept as served (read back with warcio, checked against the SHA-256
the store keeps); the indicators they name are stored normalised, and `pivot` and
`indicators` find the thread between two stories. Runs on both engines (`store_at`)."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from scan_site import article_html, rss
from store_sql import execute, rows
from typer.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from adwatch.cli import app

runner = CliRunner()

# Two different incidents (two stories) behind the same LINE account and phone number.
PAGES = {
    "/th/1.html": (
        "ตำรวจเตือนโฆษณาลงทุนทองคำปลอมบนติ๊กต็อก",
        "มิจฉาชีพชวนลงทุนทองคำ ให้แอดไลน์ @Rich.Money99 หรือโทร ๐๘๑-๒๓๔-๕๖๗๘ "
        "ผู้เสียหายกว่า 40 รายถูกหลอกโอนเงินเข้าเว็บ hxxps://gold-th-invest[.]com/vip",
        "th",
    ),
    "/en/1.html": (
        "Fake crypto giveaway ads use a deepfake of a Thai singer",
        "The ads asked viewers to send USDT to 0x52908400098527886E0F7030069857D2E4169EE7 and to "
        "message t.me/CryptoGift_Support. Police said LINE ID: rich.money99 was also used, "
        "with the number +66 81 234 5678.",
        "en",
    ),
    "/vi/1.html": (
        "Cảnh báo quảng cáo đầu tư giả mạo trên mạng xã hội",
        "Đối tượng lừa đảo yêu cầu nạn nhân liên hệ Zalo 0912.345.678 hoặc truy cập "
        "dautu-vang[.]vn để nhận lãi suất cao.",
        "vi",
    ),
    "/my/1.html": (
        "လိမ်လည်ကြော်ငြာ သတိပေးချက်",
        "ရင်းနှီးမြှုပ်နှံမှု လိမ်လည်ကြော်ငြာများတွင် ဖုန်း ၀၉ ၇၈၁၂ ၃၄၅၆၇ ကို ဆက်သွယ်ရန် ဖော်ပြထားသည်။",
        "my",
    ),
}
SERVED: dict[str, bytes] = {}


FEEDS = {"th": ("TH", ("th", "en")), "vn": ("VN", ("vi",)), "mm": ("MM", ("my",))}


def serve(site: HTTPServer) -> None:
    for feed, (_, languages) in FEEDS.items():
        items = [
            {"title": title, "link": site.url_for(path), "description": title}
            for path, (title, _, lang) in PAGES.items()
            if lang in languages
        ]
        site.expect_request(f"/{feed}.xml").respond_with_data(
            rss(items), content_type="application/rss+xml"
        )
    for path, (title, body, lang) in PAGES.items():
        html = article_html(title, body, lang=lang).encode("utf-8")
        SERVED[path] = html
        # Served gzipped, as most sites do: the WARC keeps the body as decoded.
        site.expect_request(path).respond_with_data(
            gzip.compress(html),
            headers={"Content-Encoding": "gzip"},
            content_type="text/html; charset=utf-8",
        )
    site.expect_request("/robots.txt").respond_with_data("", status=404)


def write_config(tmp_path: Path, site: HTTPServer, store: str) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(
        f"""store: {json.dumps(store)}
evidence: {{folder: evidence}}
markets:
  TH: {{name: Thailand, languages: [th, en]}}
  VN: {{name: Vietnam, languages: [vi, en]}}
  MM: {{name: Myanmar, languages: [my, en]}}
sources:
  - {{name: th-scam-watch, url: "{site.url_for("/th.xml")}", market: TH}}
  - {{name: vn-scam-watch, url: "{site.url_for("/vn.xml")}", market: VN}}
  - {{name: mm-scam-watch, url: "{site.url_for("/mm.xml")}", market: MM}}
watchlists:
  - {{name: scam, terms: {{any: [crypto, มิจฉาชีพ, lừa đảo, လိမ်လည်]}}}}
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def scanned(site: HTTPServer, tmp_path: Path, store_at: str) -> tuple[Path, str]:
    serve(site)
    config = write_config(tmp_path, site, store_at)
    result = runner.invoke(app, ["--config", str(config), "scan", "--quiet"])
    assert result.exit_code == 0, result.stderr
    return config, store_at


def _by_value(location: str) -> dict[tuple[str, str], list[dict[str, object]]]:
    found: dict[tuple[str, str], list[dict[str, object]]] = {}
    for row in rows(location, "SELECT * FROM indicators ORDER BY article_id, start"):
        found.setdefault((str(row["kind"]), str(row["value"])), []).append(row)
    return found


def test_the_scan_stores_indicators_normalised_in_four_languages(
    scanned: tuple[Path, str],
) -> None:
    _, location = scanned
    found = _by_value(location)

    def articles(kind: str, value: str) -> set[object]:
        return {row["article_id"] for row in found[(kind, value)]}

    # "@Rich.Money99" in Thai and "LINE ID: rich.money99" in English: one account.
    assert len(articles("line_id", "rich.money99")) == 2
    # Thai digits, and +66 written out: one number.
    assert len(articles("phone", "+66812345678")) == 2
    assert ("phone", "+84912345678") in found  # Zalo with a Vietnamese number
    assert ("phone", "+959781234567") in found  # Myanmar digits
    assert ("domain", "gold-th-invest.com") in found and ("domain", "dautu-vang.vn") in found
    assert ("telegram", "cryptogift_support") in found
    assert ("wallet", "0x52908400098527886E0F7030069857D2E4169EE7") in found
    texts = {r["id"]: r["text"] for r in rows(location, "SELECT id, text FROM articles")}
    for mentions in found.values():
        for row in mentions:
            text = str(texts[row["article_id"]])
            assert text[int(str(row["start"])) : int(str(row["end"]))] == row["raw"]


def test_pivot_finds_both_stories_from_any_form_an_analyst_pastes(
    scanned: tuple[Path, str],
) -> None:
    config, location = scanned
    for pasted in ("081-234-5678", "+66812345678", "0066 81 234 5678"):
        result = runner.invoke(
            app, ["--config", str(config), "pivot", pasted, "-m", "TH", "--format", "json"]
        )
        assert result.exit_code == 0, result.stderr
        mentions = json.loads(result.stdout)
        assert {m["value"] for m in mentions} == {"+66812345678"}
        assert len({m["article_id"] for m in mentions}) == 2
        assert all({"article_id", "url", "kind", "value", "story_id"} <= set(m) for m in mentions)
    line = runner.invoke(app, ["--config", str(config), "pivot", "@RICH.money99"])
    assert line.exit_code == 0 and "rich.money99" in line.stdout
    assert "Fake crypto giveaway" in line.stdout
    domain = runner.invoke(
        app, ["--config", str(config), "pivot", "https://www.gold-th-invest.com/x", "-f", "json"]
    )
    assert [m["value"] for m in json.loads(domain.stdout)] == ["gold-th-invest.com"]
    nothing = runner.invoke(app, ["--config", str(config), "pivot", "!!!"])
    assert nothing.exit_code == 2 and "pivot:" in nothing.stderr


def test_indicators_lists_values_seen_in_several_articles(scanned: tuple[Path, str]) -> None:
    config, _ = scanned
    result = runner.invoke(app, ["--config", str(config), "indicators", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    shared = {(r["kind"], r["value"]): r for r in json.loads(result.stdout)}
    assert set(shared) == {("line_id", "rich.money99"), ("phone", "+66812345678")}
    assert all(r["articles"] == 2 and r["sources"] == 1 for r in shared.values())
    phones = runner.invoke(
        app, ["--config", str(config), "indicators", "--kind", "phone", "--min-articles", "1"]
    )
    assert "+84912345678" in phones.stdout and "rich.money99" not in phones.stdout
    assert runner.invoke(app, ["--config", str(config), "indicators", "-k", "fax"]).exit_code == 2


def test_evidence_round_trip_is_the_page_as_served_with_its_sha256(
    scanned: tuple[Path, str], site: HTTPServer, tmp_path: Path
) -> None:
    config, location = scanned
    articles = rows(location, "SELECT id, url, sha256, warc_file FROM articles ORDER BY id")
    assert all(a["warc_file"] for a in articles)
    thai = next(a for a in articles if str(a["url"]).endswith("/th/1.html"))
    out = tmp_path / "article.warc.gz"
    result = runner.invoke(
        app, ["--config", str(config), "evidence", str(thai["id"]), "-o", str(out)]
    )
    assert result.exit_code == 0, result.stderr
    assert "1 page" in result.stderr
    with out.open("rb") as stream:
        records = list(ArchiveIterator(stream))
        stream.seek(0)
        responses = [
            (r.rec_headers.get_header("WARC-Target-URI"), r.content_stream().read())
            for r in ArchiveIterator(stream)
            if r.rec_type == "response"
        ]
    assert [r.rec_type for r in records] == ["warcinfo", "response", "request"]
    ((uri, body),) = responses
    assert uri == site.url_for("/th/1.html")
    assert body == SERVED["/th/1.html"]  # as served, un-gzipped
    assert hashlib.sha256(body).hexdigest() == thai["sha256"]
    story = runner.invoke(
        app, ["--config", str(config), "evidence", "--story", "1", "-o", str(tmp_path / "s.warc")]
    )
    assert story.exit_code == 0, story.stderr


def test_a_rerun_keeps_no_page_twice_and_rematch_restores_indicators(
    scanned: tuple[Path, str],
) -> None:
    config, location = scanned
    folder = config.parent / "evidence"
    before = sorted(p.name for p in folder.iterdir())
    again = runner.invoke(app, ["--config", str(config), "scan", "--quiet"])
    assert again.exit_code == 0
    assert sorted(p.name for p in folder.iterdir()) == before
    count = len(rows(location, "SELECT id FROM indicators"))
    execute(location, "DELETE FROM indicators")
    assert runner.invoke(app, ["--config", str(config), "rematch"]).exit_code == 0
    assert len(rows(location, "SELECT id FROM indicators")) == count


def test_evidence_of_an_article_without_a_kept_page_is_a_clear_error(
    scanned: tuple[Path, str], tmp_path: Path
) -> None:
    config, location = scanned
    execute(location, "UPDATE articles SET warc_file = NULL")
    out = tmp_path / "none.warc.gz"
    result = runner.invoke(app, ["--config", str(config), "evidence", "1", "-o", str(out)])
    assert result.exit_code == 2 and "no page is kept for article 1" in result.stderr
    assert not out.exists()


def test_the_report_shows_indicators_shared_across_stories(
    scanned: tuple[Path, str], tmp_path: Path
) -> None:
    config, location = scanned
    stories = {r["story_id"] for r in rows(location, "SELECT story_id FROM articles")}
    assert len(stories) == 4  # four incidents, two of them behind one account
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["--config", str(config), "report", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    html = out.read_text(encoding="utf-8")
    section = html.split("<h2>Indicators shared across stories</h2>", 1)[1].split("<h2>", 1)[0]
    assert "rich.money99" in section and "+66812345678" in section
    assert "dautu-vang.vn" not in section  # named in one story only


def test_show_lists_the_indicators_of_the_hits_article(scanned: tuple[Path, str]) -> None:
    config, location = scanned
    (hit,) = rows(
        location,
        "SELECT MIN(h.id) AS id FROM hits h JOIN articles a ON a.id = h.article_id "
        "WHERE a.url LIKE ?",
        ["%/en/1.html"],
    )
    shown = runner.invoke(
        app, ["--config", str(config), "show", str(hit["id"])], env={"COLUMNS": "140"}
    )
    assert shown.exit_code == 0, shown.stderr
    section = shown.stdout.split("indicators in this article", 1)[1]
    assert "rich.money99" in section and "+66812345678" in section
    assert "written +66 81 234 5678" in section
    as_json = runner.invoke(app, ["--config", str(config), "show", str(hit["id"]), "-f", "json"])
    kinds = {i["kind"] for i in json.loads(as_json.stdout)["indicators"]}
    assert {"wallet", "telegram", "line_id", "phone"} <= kinds


def test_a_postgresql_store_without_an_evidence_folder_is_warned(tmp_path: Path) -> None:
    from adwatch.config import parse_config

    text = "store: postgresql://adwatch@db.example/news\nmarkets: {TH: {name: T}}\nsources: []\n"
    warned = parse_config(text, tmp_path / "feeds.yaml").warnings
    assert any("evidence.folder: a PostgreSQL store keeps no page" in w for w in warned)
    off = parse_config(text + "evidence: {enabled: false}\n", tmp_path / "feeds.yaml")
    assert not any("evidence" in w for w in off.warnings)
