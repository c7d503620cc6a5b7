"""Canonical URLs: one spelling per article, so the store never keeps a story twice."""

from __future__ import annotations

import pytest

from adwatch.urls import canonical_url, is_http_url


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        # case of scheme and host; path case is the server's business
        ("HTTPS://WWW.Example.COM/News/A", "https://www.example.com/News/A"),
        # default ports go, others stay
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("https://example.com:80/a", "https://example.com:80/a"),
        ("http://[2001:DB8::1]:80/x", "http://[2001:db8::1]/x"),
        ("https://user:pw@Ex.com:443/", "https://user:pw@ex.com/"),
        # empty path is "/"
        ("http://example.com", "http://example.com/"),
        ("https://example.com?", "https://example.com/"),
        # fragments go
        ("https://vnexpress.example/a.html#box_comment", "https://vnexpress.example/a.html"),
        # IDNA hosts stay as given, lower-cased
        ("https://xn--o3cw4h.COM/path", "https://xn--o3cw4h.com/path"),
        ("https://ไทย.com/Path", "https://ไทย.com/Path"),
        # whitespace a feed wrapped around or into the link
        ("  https://ex.com/x\n  ", "https://ex.com/x"),
        ("https://ex.com/long-\r\nslug\t", "https://ex.com/long-slug"),
        ("https://ex.com/a b", "https://ex.com/a%20b"),
    ],
)
def test_canonical_url(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        (
            "https://ex.com/a?utm_source=rss&id=5&utm_medium=feed&fbclid=IwAR0&page=2",
            "https://ex.com/a?id=5&page=2",
        ),
        ("https://ex.com/a?utm_source=x", "https://ex.com/a"),
        (
            "https://ex.com/a?b=1&UTM_Campaign=2&gclid=9&dclid=1&msclkid=2&c=3",
            "https://ex.com/a?b=1&c=3",
        ),
        (
            "https://ex.com/a?mc_cid=1&mc_eid=2&igshid=3&_ga=1.2&yclid=4&ref_src=twsrc&spm=a.b&z=0",
            "https://ex.com/a?z=0",
        ),
        # other parameters keep their order and their spelling
        ("https://ex.com/s?z=1&a=2&q=a+b&r=%20", "https://ex.com/s?z=1&a=2&q=a+b&r=%20"),
        ("https://ex.com/s?flag&x=", "https://ex.com/s?flag&x="),
    ],
)
def test_tracking_parameters_are_dropped(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


def test_non_ascii_paths_are_percent_encoded_once() -> None:
    thai = "https://th.example/ข่าว?q=ไทย"
    encoded = (
        "https://th.example/%E0%B8%82%E0%B9%88%E0%B8%B2%E0%B8%A7?q=%E0%B9%84%E0%B8%97%E0%B8%A2"
    )
    assert canonical_url(thai) == encoded
    # already encoded (in either hex case): kept, never encoded a second time
    assert canonical_url(encoded) == encoded
    assert canonical_url(encoded.lower()) == encoded


def test_escapes_of_unreserved_characters_are_unescaped() -> None:
    assert canonical_url("https://ex.com/%7Euser/%41%2F") == "https://ex.com/~user/A%2F"


def test_a_lone_percent_sign_is_escaped_once() -> None:
    assert canonical_url("https://ex.com/100%") == "https://ex.com/100%25"
    assert canonical_url("https://ex.com/100%25") == "https://ex.com/100%25"


@pytest.mark.parametrize(
    ("url", "base", "canonical"),
    [
        ("../b/c.html?x=1", "https://ex.com/a/feed/rss.xml", "https://ex.com/a/b/c.html?x=1"),
        ("/news/1", "https://shwemyay.example/feed/", "https://shwemyay.example/news/1"),
        ("//cdn.ex.com/x", "https://ex.com/", "https://cdn.ex.com/x"),
        ("https://other.example/x", "https://ex.com/", "https://other.example/x"),
        ("?page=2", "https://ex.com/list?page=1", "https://ex.com/list?page=2"),
    ],
)
def test_relative_urls_resolve_against_base(url: str, base: str, canonical: str) -> None:
    assert canonical_url(url, base=base) == canonical


@pytest.mark.parametrize(
    "url",
    [
        "HTTPS://WWW.Example.COM:443/News/A?utm_source=x&id=5&fbclid=abc#top",
        "https://th.example/ข่าว/ล่าสุด?q=ไทย&utm_medium=x",
        "https://ex.com/%e0%b8%82 x?a=%zz",
        "http://example.com",
    ],
)
def test_canonical_url_is_idempotent(url: str) -> None:
    once = canonical_url(url)
    assert canonical_url(once) == once


def test_other_schemes_are_left_alone_but_for_the_scheme_case() -> None:
    assert canonical_url("MAILTO:Someone@Example.com") == "mailto:Someone@Example.com"
    assert not is_http_url(canonical_url("javascript:void(0)"))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://ex.com/a", True),
        ("HTTP://ex.com", True),
        ("ftp://ex.com/a", False),
        ("/relative/path", False),
        ("https:///no-host", False),
        ("tag:mekongbiz.example,2025:article-1", False),
    ],
)
def test_is_http_url(url: str, expected: bool) -> None:
    assert is_http_url(url) is expected
