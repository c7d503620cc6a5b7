"""The feeds.yaml that `adwatch init` ships: real sources per market, starter watchlists
in all four languages, Burmese in Unicode, Vietnamese in NFC with the modern tone marks."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from adwatch.config import Config, load_config
from adwatch.models import FetchSettings, Watchlist

MARKET_LANGUAGES = {"TH": ("th", "en"), "VN": ("vi", "en"), "MM": ("my", "en")}
GOOGLE_NEWS_EDITIONS = {
    "th": {"hl": "th", "gl": "TH", "ceid": "TH:th"},
    "vi": {"hl": "vi", "gl": "VN", "ceid": "VN:vi"},
    "my": {"hl": "my", "gl": "MM", "ceid": "MM:my"},
    "en": {"hl": "en-US", "gl": "US", "ceid": "US:en"},
}
REQUIRED_CATEGORIES = (
    "fraud",
    "gambling",
    "deepfake",
    "elections",
    "regulator",
    "privacy",
    "influencer",
)
# The words that would flag half the news on their own (see the file's header).
TOO_COMMON_ALONE = {"ad", "ads", "advertising", "โฆษณา", "quảng cáo", "ကြော်ငြာ"}

THAI = re.compile(r"[\u0E00-\u0E7F]")
BURMESE = re.compile(r"[\u1000-\u109F\uAA60-\uAA7F]")
VIETNAMESE_ONLY = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.I)
# Old-style tone placement puts the mark on the last vowel of an open oa/oe/uy
# syllable ("hoà", "thuỷ"); the modern style marks the first ("hòa", "thủy").
# "qu" is a consonant, so "quý" and "quả" are right as written.
OLD_STYLE_TONE = re.compile(r"(?<![qQ])(?:o[àáảãạèéẻẽẹ]|u[ỳýỷỹỵ])(?![\w])", re.I)


@pytest.fixture(scope="module")
def shipped_path() -> Path:
    path = Path(str(resources.files("adwatch") / "data" / "feeds.yaml"))
    assert path.is_file(), f"the package does not ship {path}"
    return path


@pytest.fixture(scope="module")
def config(shipped_path: Path) -> Config:
    return load_config(shipped_path)


@pytest.fixture(scope="module")
def raw(shipped_path: Path) -> dict[str, object]:
    data = yaml.safe_load(shipped_path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _burmese_texts(config: Config) -> list[str]:
    texts = []
    for watchlist in config.watchlists:
        texts += watchlist.all_terms() + list(watchlist.context) + list(watchlist.exclude)
    return [text for text in texts if BURMESE.search(text)]


def _every_text(config: Config) -> list[str]:
    texts: list[str] = []
    for watchlist in config.watchlists:
        texts += watchlist.all_terms() + list(watchlist.context) + list(watchlist.exclude)
        if watchlist.query:
            texts.append(watchlist.query)
    return texts


def _is_google_news(url: str) -> bool:
    return urlsplit(url).netloc == "news.google.com"


# --- the top of the file -------------------------------------------------------------


def test_top_level_settings_are_the_documented_defaults(config: Config, raw: dict) -> None:
    assert raw["version"] == 1
    assert raw["store"] == "adwatch.db"
    assert "user_agent" not in raw["fetch"], "the built-in user agent must be used"
    defaults = FetchSettings()
    assert config.fetch == defaults
    assert (config.fetch.timeout, config.fetch.concurrency, config.fetch.per_host) == (20, 16, 2)
    assert (config.fetch.max_bytes, config.fetch.respect_robots) == (5_000_000, True)


def test_markets_and_their_languages(config: Config) -> None:
    assert {code: market.languages for code, market in config.markets.items()} == {
        "TH": ("th", "en"),
        "VN": ("vi", "en"),
        "MM": ("my", "en"),
    }


# --- sources ---------------------------------------------------------------------------


def test_source_names_are_unique_and_well_formed(raw: dict) -> None:
    names = [source["name"] for source in raw["sources"]]
    duplicates = [name for name, count in Counter(names).items() if count > 1]
    assert not duplicates
    for name in names:
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]*", name), name
        assert name.split("-")[0] in {"th", "vn", "mm"}, f"{name!r} does not start with its market"


@pytest.mark.parametrize("market", ["TH", "VN", "MM"])
def test_each_market_has_enough_sources_in_each_of_its_languages(
    config: Config, market: str
) -> None:
    sources = [source for source in config.sources if source.market == market]
    assert len(sources) >= 6
    outlets = [source for source in sources if not _is_google_news(source.url)]
    assert len(outlets) >= 5, "Google News searches complement outlets, they do not replace them"
    for language in MARKET_LANGUAGES[market]:
        assert any(source.language == language for source in sources), (market, language)
    assert all(source.language in MARKET_LANGUAGES[market] for source in sources)


def test_sources_are_https_rss_with_articles_fetched_except_google_news(config: Config) -> None:
    for source in config.sources:
        assert source.type == "rss", source.name
        assert urlsplit(source.url).scheme == "https", source.name
        assert source.articles is not _is_google_news(source.url), (
            f"{source.name}: Google News links are redirects (articles: false); "
            "outlets' links are the articles (articles: true)"
        )


@pytest.mark.parametrize("language", ["th", "vi", "my", "en"])
def test_google_news_searches_exist_for_each_language(config: Config, language: str) -> None:
    searches = [
        source
        for source in config.sources
        if _is_google_news(source.url) and source.language == language
    ]
    assert searches, f"no Google News search in {language}"
    for source in searches:
        parts = urlsplit(source.url)
        assert parts.path == "/rss/search"
        params = {key: values[0] for key, values in parse_qs(parts.query).items()}
        assert params["q"].strip(), source.name
        for key, value in GOOGLE_NEWS_EDITIONS[language].items():
            assert params[key] == value, (source.name, key)


def test_google_news_queries_are_in_the_language_they_claim(config: Config) -> None:
    scripts = {"th": THAI, "my": BURMESE, "vi": VIETNAMESE_ONLY}
    for source in config.sources:
        if not _is_google_news(source.url):
            continue
        query = parse_qs(urlsplit(source.url).query)["q"][0]
        if source.language in scripts:
            assert scripts[source.language].search(query), source.name
        else:
            assert query.isascii(), source.name


# --- watchlists ------------------------------------------------------------------------


@pytest.mark.parametrize("category", REQUIRED_CATEGORIES)
def test_each_risk_category_covers_all_four_languages(config: Config, category: str) -> None:
    watchlists = [w for w in config.watchlists if w.category == category]
    assert watchlists, f"no watchlist in category {category!r}"
    languages: set[str] = set()
    for watchlist in watchlists:
        languages |= {lang for lang, terms in watchlist.terms.items() if terms}
        if watchlist.query:
            languages |= _query_languages(watchlist.query)
    assert languages >= {"en", "th", "vi", "my"}, (category, sorted(languages))


def _query_languages(query: str) -> set[str]:
    found = set()
    if THAI.search(query):
        found.add("th")
    if BURMESE.search(query):
        found.add("my")
    if VIETNAMESE_ONLY.search(query):
        found.add("vi")
    quoted_or_bare = re.findall(r'"([^"]+)"|([A-Za-z][A-Za-z*]+)', query)
    keywords = {"AND", "OR", "NOT"}
    if any(
        (phrase or word).isascii() and (phrase or word) not in keywords
        for phrase, word in quoted_or_bare
    ):
        found.add("en")
    return found


def test_term_lists_are_sizeable_in_every_language(config: Config) -> None:
    for watchlist in config.watchlists:
        if watchlist.query:
            continue
        assert set(watchlist.terms) == {"en", "th", "vi", "my"}, watchlist.name
        # Lists that need a context word hold a few plain words; the others are
        # phrase lists an analyst can rely on.
        minimum = 1 if watchlist.context else 7
        for language, terms in watchlist.terms.items():
            assert len(terms) >= minimum, (watchlist.name, language, len(terms))
            assert len(set(terms)) == len(terms), (watchlist.name, language)


def test_severities_follow_the_risk(config: Config) -> None:
    by_category: dict[str, set[str]] = {}
    for watchlist in config.watchlists:
        by_category.setdefault(watchlist.category, set()).add(watchlist.severity)
    assert by_category["elections"] == {"critical"}
    assert by_category["regulator"] == {"high"}
    assert by_category["deepfake"] == {"high"}
    assert by_category["fraud"] == {"high"}
    assert by_category["gambling"] == {"high"}
    assert by_category["platform-policy"] == {"low"}


def test_the_rule_features_are_all_in_use(config: Config) -> None:
    queries = [w for w in config.watchlists if w.query]
    assert queries, "at least one query watchlist"
    text = " ".join(w.query or "" for w in queries)
    for feature in ("AND", "OR", "NOT", "NEAR/", "(", '"', "*"):
        assert feature in text, feature
    assert any(w.context and w.near for w in config.watchlists)
    assert any(w.exclude for w in config.watchlists)


def test_common_words_appear_alone_only_where_context_is_required(config: Config) -> None:
    for watchlist in config.watchlists:
        plain = {term.casefold() for term in watchlist.all_terms()} & TOO_COMMON_ALONE
        if plain:
            assert watchlist.context and watchlist.near, (watchlist.name, sorted(plain))


def test_wildcards_live_in_queries_not_in_term_lists(config: Config) -> None:
    for watchlist in config.watchlists:
        for term in watchlist.all_terms() + list(watchlist.context) + list(watchlist.exclude):
            assert "*" not in term, (watchlist.name, term)
            assert term == term.strip() and "  " not in term, (watchlist.name, term)


def test_burmese_is_unicode_not_zawgyi(config: Config) -> None:
    myanmartools = pytest.importorskip("myanmartools")
    detector = myanmartools.ZawgyiDetector()
    for watchlist in config.watchlists:
        for term in watchlist.terms.get("my", ()):
            assert detector.get_zawgyi_probability(term) < 0.05, (watchlist.name, term)
        # Context and exclude lists hold single short words, on which the detector
        # is unsure in both directions; joined into one line it has enough to decide.
        short = [t for t in list(watchlist.context) + list(watchlist.exclude) if BURMESE.search(t)]
        if short:
            assert detector.get_zawgyi_probability(" ".join(short)) < 0.05, watchlist.name
    assert len(_burmese_texts(config)) > 100


def test_detector_would_catch_a_zawgyi_term() -> None:
    # The check above is only worth something if the detector flags real Zawgyi:
    # "ကြော်ငြာ" (advertisement) as Zawgyi fonts encode it.
    myanmartools = pytest.importorskip("myanmartools")
    assert myanmartools.ZawgyiDetector().get_zawgyi_probability("ေၾကာ္ျငာ") > 0.95


def test_vietnamese_is_nfc_with_modern_tone_marks(config: Config) -> None:
    texts = _every_text(config)
    vietnamese = [text for text in texts if VIETNAMESE_ONLY.search(text)]
    assert len(vietnamese) > 100
    for text in vietnamese:
        assert unicodedata.normalize("NFC", text) == text, text
        assert not OLD_STYLE_TONE.search(text), f"old-style tone placement in {text!r}"


def test_old_style_tone_check_tells_the_two_styles_apart() -> None:
    assert OLD_STYLE_TONE.search("văn hoá")
    assert OLD_STYLE_TONE.search("Uỷ ban")
    assert not OLD_STYLE_TONE.search("văn hóa")
    assert not OLD_STYLE_TONE.search("Ủy ban")
    assert not OLD_STYLE_TONE.search("toàn diện quý khách hoàn thành")


def test_thai_terms_carry_no_stray_marks(config: Config) -> None:
    for text in _every_text(config):
        if THAI.search(text):
            assert "\u200b" not in text and "\u0e4d\u0e32" not in text, text
            assert unicodedata.normalize("NFC", text) == text, text


# --- the shipped watchlists against a few real-world sentences ---------------------------

SENTENCES = [
    ("TH", "th", "ตำรวจไซเบอร์จับแก๊งมิจฉาชีพยิงโฆษณาบนเฟซบุ๊กขายโทรศัพท์ราคาถูก", "fraud"),
    ("TH", "th", "ตำรวจจับเน็ตไอดอลรับจ้างโปรโมทเว็บพนันออนไลน์ผ่านติ๊กต็อก", "gambling"),
    ("TH", "th", "ก.ล.ต. เตือนเพจปลอมใช้คลิปดีพเฟคผู้บริหารชวนลงทุนหุ้น", "deepfake"),
    (
        "VN",
        "vi",
        "Công an cảnh báo quảng cáo lừa đảo mạo danh người nổi tiếng trên Facebook",
        "fraud",
    ),
    ("VN", "vi", "canh bao quang cao lua dao tren facebook", "fraud"),
    (
        "VN",
        "vi",
        "Xử phạt 70 triệu đồng công ty quảng cáo thực phẩm chức năng sai công dụng",
        "regulator",
    ),
    ("MM", "my", "အွန်လိုင်းလောင်းကစား ကြော်ငြာတွေကို ဖေ့စ်ဘုတ်ပေါ်မှာ တွေ့ရသည်", "gambling"),
    ("MM", "my", "ရွေးကောက်ပွဲ မဲဆွယ်ကြော်ငြာများ ဖေ့စ်ဘုတ်တွင် ပြန့်ပွားနေသည်", "elections"),
    ("TH", "en", "Meta was fined by the regulator over scam ads on Facebook", "regulator"),
]
HARMLESS = [
    ("TH", "th", "บริษัทเปิดตัวโฆษณาชิ้นใหม่ใช้นักแสดงชื่อดัง ยอดวิวทะลุล้านในสามวัน"),
    ("VN", "vi", "Doanh thu quảng cáo của các đài truyền hình giảm mạnh trong quý ba."),
    ("MM", "my", "ကုမ္ပဏီသစ်က ရုပ်မြင်သံကြားတွင် ကြော်ငြာအသစ် ထုတ်လွှင့်ခဲ့သည်။"),
    ("TH", "en", "The Advertising Association of Thailand held its election of a new president."),
    ("TH", "en", "Film review: a deepfake thriller, and the ads for it are everywhere."),
]


@pytest.fixture(scope="module")
def matcher(config: Config) -> Any:
    match = pytest.importorskip("adwatch.match")
    return match.Matcher.build(config.watchlists)


@pytest.mark.parametrize(("market", "language", "text", "category"), SENTENCES)
def test_risk_sentences_hit_the_right_category(
    config: Config, matcher, market: str, language: str, text: str, category: str
) -> None:
    categories = _categories(config.watchlists)
    hits = matcher.match(text, market=market, language=language)
    assert category in {categories[hit.watchlist] for hit in hits}, text


@pytest.mark.parametrize(("market", "language", "text"), HARMLESS)
def test_everyday_ad_news_is_not_a_hit(matcher, market: str, language: str, text: str) -> None:
    assert matcher.match(text, market=market, language=language) == [], text


def _categories(watchlists: list[Watchlist]) -> dict[str, str]:
    return {watchlist.name: watchlist.category for watchlist in watchlists}
