from __future__ import annotations

import pytest

from adwatch.text.normalize import normalize, normalize_term
from adwatch.text.zawgyi import DETECTION_WINDOW, fix_zawgyi, zawgyi_probability

# Short news lines written in Unicode Burmese, and the same lines in Zawgyi (made with
# ICU's my-Zawgyi transform and checked with the detector: probability 1.0 vs 0.0).
PAIRS = [
    # "Ordered to remove fraudulent advertisements"
    (
        "လိမ္လည္ေၾကာ္ျငာမ်ားကို ဖယ္ရွားရန္ ၫႊန္ၾကားသည္",
        "လိမ်လည်ကြော်ငြာများကို ဖယ်ရှားရန် ညွှန်ကြားသည်",
    ),
    # "Online gambling advertisements are increasing"
    (
        "အြန္လိုင္းေလာင္းကစား ေၾကာ္ျငာမ်ား တိုးပြားလာ",
        "အွန်လိုင်းလောင်းကစား ကြော်ငြာများ တိုးပွားလာ",
    ),
    # "Election campaign advertisements: new rules"
    (
        "ေရြးေကာက္ပြဲ မဲဆြယ္ေၾကာ္ျငာ စည္းမ်ဉ္းသစ္",
        "ရွေးကောက်ပွဲ မဲဆွယ်ကြော်ငြာ စည်းမျဉ်းသစ်",
    ),
    # "Fake investment advertisement on Facebook"
    (
        "ေဖ့စ္ဘြတ္ခ္ေပၚတြင္ အတုအေယာင္ ရင္းႏွီးျမႈပ္ႏွံမႈ ေၾကာ္ျငာ",
        "ဖေ့စ်ဘွတ်ခ်ပေါ်တွင် အတုအယောင် ရင်းနှီးမြှုပ်နှံမှု ကြော်ငြာ",
    ),
    # "Statement issued by the Union Election Commission"
    (
        "ျပည္ေထာင္စုေရြးေကာက္ပြဲေကာ္မရွင္က ထုတ္ျပန္ေၾကညာခ်က္",
        "ပြည်ထောင်စုရွေးကောက်ပွဲကော်မရှင်က ထုတ်ပြန်ကြေညာချက်",
    ),
    # "Gambling websites will be banned"
    (
        "ေလာင္းကစားဝက္ဘ္ဆိုက္မ်ားကို ပိတ္ပင္မည္",
        "လောင်းကစားဝက်ဘ်ဆိုက်များကို ပိတ်ပင်မည်",
    ),
    # "Political parties' social media advertisements"
    (
        "ႏိုင္ငံေရးပါတီမ်ား၏ လူမႈကြန္ရက္ ေၾကာ္ျငာ",
        "နိုင်ငံရေးပါတီများ၏ လူမှုကွန်ရက် ကြော်ငြာ",
    ),
    # "Consumers warned about medicine advertisements"
    (
        "စားသံုးသူမ်ား သတိျပဳရန္ ေဆးဝါးေၾကာ္ျငာ",
        "စားသုံးသူများ သတိပြုရန် ဆေးဝါးကြော်ငြာ",
    ),
]
IDS = [
    "scam-ads",
    "gambling-ads",
    "election-ads",
    "fake-investment",
    "commission",
    "ban",
    "parties",
    "medicine",
]


@pytest.mark.parametrize(("zawgyi", "unicode"), PAIRS, ids=IDS)
def test_zawgyi_line_is_converted_to_unicode(zawgyi: str, unicode: str) -> None:
    assert fix_zawgyi(zawgyi) == (unicode, True)


@pytest.mark.parametrize(("zawgyi", "unicode"), PAIRS, ids=IDS)
def test_unicode_line_is_left_alone(zawgyi: str, unicode: str) -> None:
    assert fix_zawgyi(unicode) == (unicode, False)


@pytest.mark.parametrize(("zawgyi", "unicode"), PAIRS, ids=IDS)
def test_detector_probabilities(zawgyi: str, unicode: str) -> None:
    assert zawgyi_probability(zawgyi) > 0.95
    assert zawgyi_probability(unicode) < 0.05


def test_mixed_page_converts_only_the_zawgyi_paragraph() -> None:
    unicode_paragraph = PAIRS[0][1]
    zawgyi_paragraph, converted_paragraph = PAIRS[2]
    page = f"{unicode_paragraph}\n\nTikTok said on Monday.\r\n{zawgyi_paragraph}\n"
    fixed, converted = fix_zawgyi(page)
    assert converted is True
    assert fixed == f"{unicode_paragraph}\n\nTikTok said on Monday.\r\n{converted_paragraph}\n"


def test_english_only_text_is_untouched() -> None:
    text = "Regulator fines platform over scam ads.\nDeepfake investment ads spread."
    assert fix_zawgyi(text) == (text, False)
    assert zawgyi_probability(text) == 0.0


@pytest.mark.parametrize("text", ["", "\n\n", "โฆษณาหลอกลวงบนติ๊กต็อก", "quảng cáo lừa đảo"])
def test_text_without_burmese_is_untouched(text: str) -> None:
    assert fix_zawgyi(text) == (text, False)
    assert zawgyi_probability(text) == 0.0


def test_converted_zawgyi_matches_a_unicode_watchlist_term() -> None:
    fixed, _ = fix_zawgyi("သတင္း: " + PAIRS[0][0])
    term = normalize_term("လိမ်လည်ကြော်ငြာ")
    assert term in normalize(fixed).text
    # Unconverted, the Zawgyi bytes would never match.
    assert term not in normalize(PAIRS[0][0]).text


def test_hand_written_pair_myanmar() -> None:
    # "Myanmar": Zawgyi writes medial ra before the consonant and a virama for asat.
    zawgyi = "\u103b\u1019\u1014\u1039\u1019\u102c" + " ႏိုင္ငံ"
    assert fix_zawgyi(zawgyi) == ("မြန်မာ နိုင်ငံ", True)


def test_unsure_short_line_follows_the_zawgyi_line_before_it() -> None:
    # "ကမ႓ာ" (world, Zawgyi) scores about 0.28: too short for the detector alone.
    assert 0.05 < zawgyi_probability("ကမ႓ာ") < 0.95
    page = PAIRS[6][0] + "\nReuters\nကမ႓ာ"
    assert fix_zawgyi(page) == (PAIRS[6][1] + "\nReuters\nကမ္ဘာ", True)


def test_unsure_line_before_a_unicode_line_is_kept() -> None:
    page = "ကမ႓ာ\n" + PAIRS[6][1]
    assert fix_zawgyi(page) == (page, False)


def test_unsure_line_alone_is_kept() -> None:
    assert fix_zawgyi("ကမ႓ာ") == ("ကမ႓ာ", False)


def test_a_long_paragraph_is_decided_by_its_head_and_converted_whole() -> None:
    # Longer than DETECTION_WINDOW: the detector reads the head only, the whole is converted.
    zawgyi = " ".join(z for z, _ in PAIRS)
    unicode = " ".join(u for _, u in PAIRS)
    assert len(zawgyi) > DETECTION_WINDOW
    prefix = "Press release, Yangon: " * 20  # English first: the window starts at the Burmese
    fixed, converted = fix_zawgyi(prefix + zawgyi)
    assert converted and fixed == prefix + unicode
    kept, changed = fix_zawgyi(prefix + unicode)
    assert not changed and kept == prefix + unicode
