"""adwatch.fetch against real HTTP servers on 127.0.0.1 that misbehave on purpose."""

from __future__ import annotations

import asyncio
import email.utils
import functools
import gzip
import importlib.util
import socket
import threading
import time
import tracemalloc
import zlib
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeAlias

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from adwatch.errors import FetchError
from adwatch.fetch import Fetcher, FetchStats
from adwatch.models import FetchResult, FetchSettings

UA = "adwatch-test/1.0 (+https://example.invalid/adwatch)"


# pytest-httpserver's own `httpserver` fixture runs a single-threaded werkzeug server
# (make_httpserver passes no threaded=True): one slow handler would stall every other
# request, and concurrency could not be observed. Its HTTPServer class takes threaded=True.
@pytest.fixture(scope="module")
def threaded_server() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def server(threaded_server: HTTPServer) -> HTTPServer:
    threaded_server.clear()
    return threaded_server


def make_settings(**overrides: Any) -> FetchSettings:
    values: dict[str, Any] = {"timeout": 5.0, "user_agent": UA, "respect_robots": False}
    values.update(overrides)
    return FetchSettings(**values)


Outcome: TypeAlias = FetchResult | FetchError


def fetch(
    url: str,
    settings: FetchSettings | None = None,
    *,
    fetcher: dict[str, Any] | None = None,
    **kwargs: Any,
) -> tuple[Outcome, FetchStats]:
    """Fetch one URL with a fresh Fetcher; return the result or the FetchError, and the stats."""

    async def go() -> tuple[Outcome, FetchStats]:
        async with Fetcher(settings or make_settings(), **(fetcher or {})) as f:
            try:
                return await f.fetch(url, **kwargs), f.stats
            except FetchError as exc:
                return exc, f.stats

    return asyncio.run(go())


def fetch_error(url: str, settings: FetchSettings | None = None, **kwargs: Any) -> FetchError:
    outcome, _ = fetch(url, settings, **kwargs)
    assert isinstance(outcome, FetchError), outcome
    assert "\n" not in str(outcome)
    assert outcome.url == url
    return outcome


def requests_to(server: HTTPServer, path: str) -> int:
    return sum(1 for request, _ in server.log if request.path == path)


def sequence(*responses: Response) -> Callable[[Request], Response]:
    """A handler answering with each response in turn, then repeating the last one."""
    answers = list(responses)
    lock = threading.Lock()

    def handler(request: Request) -> Response:
        with lock:
            return answers.pop(0) if len(answers) > 1 else answers[0]

    return handler


# ── plain requests ───────────────────────────────────────────────────────────


def test_get_sends_user_agent_and_accept_encoding(server: HTTPServer) -> None:
    encodings = "gzip, deflate, br" if importlib.util.find_spec("brotli") else "gzip, deflate"
    server.expect_request(
        "/feed.xml", headers={"User-Agent": UA, "Accept-Encoding": encodings}
    ).respond_with_data("<rss/>", headers={"X-Thing": "1"}, content_type="application/rss+xml")

    result, stats = fetch(server.url_for("/feed.xml"))

    assert isinstance(result, FetchResult)
    assert (result.status, result.content) == (200, b"<rss/>")
    assert result.final_url == server.url_for("/feed.xml")
    assert result.headers["x-thing"] == "1"
    assert result.content_type == "application/rss+xml"
    assert stats.requests == 1 and stats.bytes == len(b"<rss/>")


def test_accept_header_is_sent_when_given(server: HTTPServer) -> None:
    server.expect_request("/a", headers={"Accept": "application/rss+xml"}).respond_with_data("ok")
    result, _ = fetch(server.url_for("/a"), accept="application/rss+xml")
    assert isinstance(result, FetchResult) and result.content == b"ok"


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        # Raw deflate without the zlib wrapper: wrong, but some servers send it.
        ("deflate", lambda data: zlib.compress(data)[2:-4]),
        ("gzip, gzip", lambda data: gzip.compress(gzip.compress(data))),
    ],
)
def test_compressed_bodies_are_decompressed(
    server: HTTPServer, encoding: str, compress: Callable[[bytes], bytes]
) -> None:
    text = "ข่าวโฆษณาหลอกลวง quảng cáo lừa đảo ".encode() * 5000
    server.expect_request("/z").respond_with_data(
        compress(text), headers={"Content-Encoding": encoding}
    )
    result, _ = fetch(server.url_for("/z"))
    assert isinstance(result, FetchResult) and result.content == text


def test_unsupported_content_encoding_is_an_error(server: HTTPServer) -> None:
    server.expect_request("/z").respond_with_data(b"\x00\x01", headers={"Content-Encoding": "zstd"})
    assert str(fetch_error(server.url_for("/z"))) == "unsupported Content-Encoding 'zstd'"


def test_client_trusts_proxy_environment() -> None:
    async def go() -> bool:
        async with Fetcher(make_settings()) as f:
            return f._client_for(httpx.URL("https://news.example/")).trust_env

    assert asyncio.run(go()) is True


def test_http_proxy_from_environment_is_used(
    server: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Our server plays the proxy: the request for a host that does not exist reaches it.
    monkeypatch.setenv("HTTP_PROXY", server.url_for("/"))
    monkeypatch.delenv("NO_PROXY")
    server.expect_request("/via-proxy").respond_with_data("proxied")

    result, _ = fetch("http://adwatch-proxy-test.invalid/via-proxy")

    assert isinstance(result, FetchResult) and result.content == b"proxied"
    assert server.log[0][0].headers["Host"] == "adwatch-proxy-test.invalid"


# ── status codes and retries ─────────────────────────────────────────────────


def test_404_is_reported_and_not_retried(server: HTTPServer) -> None:
    server.expect_request("/gone").respond_with_data("no", status=404)
    error = fetch_error(server.url_for("/gone"), fetcher={"backoff": 0.01})
    assert (str(error), error.status) == ("HTTP 404", 404)
    assert requests_to(server, "/gone") == 1


@pytest.mark.parametrize("first_status", [500, 408, 429])
def test_transient_status_then_200_succeeds(server: HTTPServer, first_status: int) -> None:
    server.expect_request("/flaky").respond_with_handler(
        sequence(Response("busy", status=first_status), Response("fine"))
    )
    result, stats = fetch(server.url_for("/flaky"), fetcher={"backoff": 0.01})
    assert isinstance(result, FetchResult) and result.content == b"fine"
    assert requests_to(server, "/flaky") == 2
    assert (stats.requests, stats.retries) == (2, 1)


def test_503_three_times_gives_up(server: HTTPServer) -> None:
    server.expect_request("/down").respond_with_data("down", status=503)
    error = fetch_error(server.url_for("/down"), fetcher={"backoff": 0.01})
    assert (str(error), error.status) == ("HTTP 503 after 3 tries", 503)
    assert requests_to(server, "/down") == 3


def test_429_with_retry_after_waits_then_succeeds(server: HTTPServer) -> None:
    server.expect_request("/limited").respond_with_handler(
        sequence(Response("slow down", status=429, headers={"Retry-After": "1"}), Response("ok"))
    )
    result, stats = fetch(server.url_for("/limited"))
    assert isinstance(result, FetchResult) and result.content == b"ok"
    assert requests_to(server, "/limited") == 2 and stats.retries == 1


def test_retry_after_over_the_cap_gives_up_at_once(server: HTTPServer) -> None:
    server.expect_request("/limited").respond_with_data(
        "later", status=429, headers={"Retry-After": "3600"}
    )
    error = fetch_error(server.url_for("/limited"))
    assert str(error) == "HTTP 429 (Retry-After 3600 s exceeds the 30 s cap)"
    assert requests_to(server, "/limited") == 1


def test_retry_after_as_http_date(server: HTTPServer) -> None:
    past = email.utils.format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)
    future = email.utils.format_datetime(datetime.now(UTC) + timedelta(hours=2), usegmt=True)
    server.expect_request("/past").respond_with_handler(
        sequence(Response("x", status=503, headers={"Retry-After": past}), Response("ok"))
    )
    server.expect_request("/future").respond_with_data(
        "x", status=503, headers={"Retry-After": future}
    )

    result, _ = fetch(server.url_for("/past"))
    assert isinstance(result, FetchResult) and result.content == b"ok"
    error = fetch_error(server.url_for("/future"), fetcher={"retry_after_cap": 60})
    assert str(error).startswith("HTTP 503 (Retry-After 7")  # about 7200 s
    assert str(error).endswith(" s exceeds the 60 s cap)")


def test_connection_refused_is_retried_then_reported() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/feed"  # nothing listens there any more

    outcome, stats = fetch(url, fetcher={"max_tries": 2, "backoff": 0.01})

    assert isinstance(outcome, FetchError) and "\n" not in str(outcome)
    assert str(outcome).startswith("cannot connect: ")
    assert str(outcome).endswith(" (after 2 tries)")
    assert (stats.requests, stats.retries) == (2, 1)


def test_tls_error_is_one_line_and_not_retried(server: HTTPServer) -> None:
    url = server.url_for("/x").replace("http://", "https://")
    outcome, stats = fetch(url, fetcher={"backoff": 0.01})
    assert isinstance(outcome, FetchError) and "\n" not in str(outcome)
    assert str(outcome).startswith("TLS error: ")
    assert stats.requests == 1


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/x", "unsupported URL scheme 'ftp' in 'ftp://example.com/x'"),
        ("javascript:alert(1)", "unsupported URL scheme 'javascript' in 'javascript:alert(1)'"),
        ("http://", "invalid URL 'http://': no host"),
        ("http://[::1/feed", "invalid URL 'http://[::1/feed': "),
        ("//example.com/feed", "unsupported URL scheme '' in '//example.com/feed'"),
    ],
)
def test_bad_urls_are_fetch_errors(url: str, message: str) -> None:
    outcome, stats = fetch(url)
    assert isinstance(outcome, FetchError) and outcome.url == url
    assert str(outcome).startswith(message)
    assert stats.requests == 0


def test_fetcher_must_be_entered() -> None:
    with pytest.raises(RuntimeError, match="async with"):
        asyncio.run(Fetcher(make_settings()).fetch("http://127.0.0.1:9/x"))


# ── timeouts and size caps ───────────────────────────────────────────────────


def test_server_slower_than_the_timeout(server: HTTPServer) -> None:
    seen = []

    def slow(request: Request) -> Response:
        seen.append(request.path)
        time.sleep(1.5)
        return Response("late")

    server.expect_request("/slow").respond_with_handler(slow)
    error = fetch_error(server.url_for("/slow"), make_settings(timeout=1))
    assert str(error) == "timed out after 1.0 s"
    assert seen == ["/slow"]  # a timeout is not retried


def test_endless_trickle_is_cut_at_the_total_timeout(server: HTTPServer) -> None:
    def trickle(request: Request) -> Response:
        def drip() -> Iterator[bytes]:
            for _ in range(100):  # 10 s: far past the timeout, still ends on its own
                yield b"x"
                time.sleep(0.1)

        return Response(drip(), content_type="text/html")

    server.expect_request("/drip").respond_with_handler(trickle)
    outcome, stats = fetch(server.url_for("/drip"), make_settings(timeout=1))
    assert isinstance(outcome, FetchError) and str(outcome) == "timed out after 1.0 s"
    # Bytes kept arriving faster than the read timeout: only the whole-request limit stops it.
    assert stats.bytes > 0


@functools.cache
def gzip_bomb() -> bytes:
    """About 100 KB of gzip that inflates to 100 MB of zeros."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    megabyte = bytes(1 << 20)
    return b"".join(packer.compress(megabyte) for _ in range(100)) + packer.flush()


def test_gzip_bomb_is_cut_at_max_bytes_without_inflating_it(server: HTTPServer) -> None:
    server.expect_request("/bomb").respond_with_data(
        gzip_bomb(), headers={"Content-Encoding": "gzip"}
    )
    tracemalloc.start()
    try:
        outcome, stats = fetch(server.url_for("/bomb"), make_settings(max_bytes=1_000_000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(outcome, FetchError)
    assert str(outcome) == "response larger than 1000000 bytes"
    # httpx's own decoder would inflate a whole 64 KB read, 64 MB, in one go.
    assert peak < 20_000_000
    assert stats.bytes < len(gzip_bomb())


def test_content_length_over_the_cap_is_refused_before_reading(server: HTTPServer) -> None:
    server.expect_request("/big").respond_with_data(b"a" * 200_000)
    outcome, stats = fetch(server.url_for("/big"), make_settings(max_bytes=100_000))
    assert isinstance(outcome, FetchError)
    assert str(outcome) == "response larger than 100000 bytes"
    assert stats.bytes == 0


def test_streamed_body_without_length_is_cut_at_the_cap(server: HTTPServer) -> None:
    def endless(request: Request) -> Response:
        return Response((b"a" * 10_000 for _ in range(1000)), content_type="text/plain")

    server.expect_request("/stream").respond_with_handler(endless)
    outcome, stats = fetch(server.url_for("/stream"), make_settings(max_bytes=100_000))
    assert isinstance(outcome, FetchError)
    assert str(outcome) == "response larger than 100000 bytes"
    assert stats.bytes < 10_000_000


def test_body_of_exactly_max_bytes_is_accepted(server: HTTPServer) -> None:
    server.expect_request("/edge").respond_with_data(b"a" * 1000)
    result, _ = fetch(server.url_for("/edge"), make_settings(max_bytes=1000))
    assert isinstance(result, FetchResult) and len(result.content) == 1000


# ── redirects ────────────────────────────────────────────────────────────────


def redirect(location: str, status: int = 302) -> Response:
    return Response("", status=status, headers={"Location": location})


def test_relative_redirect_is_resolved(server: HTTPServer) -> None:
    server.expect_request("/news/old/feed").respond_with_response(redirect("../new/feed", 301))
    server.expect_request("/news/new/feed").respond_with_data("moved")
    result, _ = fetch(server.url_for("/news/old/feed"))
    assert isinstance(result, FetchResult) and result.content == b"moved"
    assert result.url == server.url_for("/news/old/feed")
    assert result.final_url == server.url_for("/news/new/feed")


def test_redirect_loop(server: HTTPServer) -> None:
    server.expect_request("/a").respond_with_response(redirect("/b"))
    server.expect_request("/b").respond_with_response(redirect("/a"))
    error = fetch_error(server.url_for("/a"))
    assert str(error) == f"redirect loop at {server.url_for('/a')}"


def test_too_many_redirects(server: HTTPServer) -> None:
    for hop in range(10):
        server.expect_request(f"/r{hop}").respond_with_response(redirect(f"/r{hop + 1}", 307))
    assert str(fetch_error(server.url_for("/r0"))) == "too many redirects (>5)"
    assert requests_to(server, "/r5") == 1 and requests_to(server, "/r6") == 0
    assert str(fetch_error(server.url_for("/r0"), fetcher={"max_redirects": 1})) == (
        "too many redirects (>1)"
    )


def test_redirect_to_a_file_url_is_refused(server: HTTPServer) -> None:
    server.expect_request("/evil").respond_with_response(redirect("file:///etc/passwd"))
    error = fetch_error(server.url_for("/evil"))
    assert str(error) == "redirect to non-HTTP URL 'file:///etc/passwd'"


# ── conditional GET ──────────────────────────────────────────────────────────


def test_304_with_etag(server: HTTPServer) -> None:
    server.expect_request("/feed", headers={"If-None-Match": '"v1"'}).respond_with_response(
        Response(status=304, headers={"ETag": '"v1"'})
    )
    result, stats = fetch(server.url_for("/feed"), etag='"v1"')
    assert isinstance(result, FetchResult)
    assert (result.status, result.not_modified, result.content) == (304, True, b"")
    assert result.etag == '"v1"'
    assert stats.not_modified == 1


def test_304_with_last_modified_keeps_the_validator(server: HTTPServer) -> None:
    stamp = "Wed, 04 Nov 2026 01:00:00 GMT"
    server.expect_request("/feed", headers={"If-Modified-Since": stamp}).respond_with_response(
        Response(status=304)
    )
    result, _ = fetch(server.url_for("/feed"), last_modified=stamp)
    assert isinstance(result, FetchResult) and result.not_modified
    assert result.last_modified == stamp


def test_200_returns_the_validators(server: HTTPServer) -> None:
    server.expect_request("/feed").respond_with_data(
        "<rss/>", headers={"ETag": 'W/"abc"', "Last-Modified": "Wed, 04 Nov 2026 01:00:00 GMT"}
    )
    result, _ = fetch(server.url_for("/feed"))
    assert isinstance(result, FetchResult) and not result.not_modified
    assert (result.etag, result.last_modified) == ('W/"abc"', "Wed, 04 Nov 2026 01:00:00 GMT")


# ── robots.txt ───────────────────────────────────────────────────────────────


def test_robots_disallow_blocks_without_requesting(server: HTTPServer) -> None:
    server.expect_request("/robots.txt", headers={"User-Agent": UA}).respond_with_data(
        "User-agent: *\nDisallow: /private\n"
    )
    server.expect_request("/public").respond_with_data("ok")
    settings = make_settings(respect_robots=True)

    error = fetch_error(server.url_for("/private/page"), settings)
    result, _ = fetch(server.url_for("/public"), settings)

    assert str(error) == "blocked by robots.txt"
    assert requests_to(server, "/private/page") == 0
    assert isinstance(result, FetchResult) and result.content == b"ok"


def test_robots_rules_for_our_user_agent(server: HTTPServer) -> None:
    server.expect_request("/robots.txt").respond_with_data(
        "User-agent: adwatch-test\nDisallow: /\n\nUser-agent: *\nAllow: /\n"
    )

    async def go() -> tuple[bool, bool]:
        async with Fetcher(make_settings(respect_robots=True)) as f:
            ours = await f.robots_allowed(server.url_for("/page"))
        async with Fetcher(make_settings(respect_robots=True, user_agent="other/1")) as f:
            theirs = await f.robots_allowed(server.url_for("/page"))
        return ours, theirs

    assert asyncio.run(go()) == (False, True)


def test_redirect_into_a_disallowed_path_is_blocked(server: HTTPServer) -> None:
    server.expect_request("/robots.txt").respond_with_data("User-agent: *\nDisallow: /private\n")
    server.expect_request("/open").respond_with_response(redirect("/private/x"))
    error = fetch_error(server.url_for("/open"), make_settings(respect_robots=True))
    assert str(error) == f"blocked by robots.txt: {server.url_for('/private/x')!r}"
    assert requests_to(server, "/private/x") == 0


@pytest.mark.parametrize("status", [404, 500])
def test_robots_error_allows_everything(server: HTTPServer, status: int) -> None:
    server.expect_request("/robots.txt").respond_with_data("no", status=status)
    server.expect_request("/page").respond_with_data("ok")
    result, stats = fetch(server.url_for("/page"), make_settings(respect_robots=True))
    assert isinstance(result, FetchResult) and result.content == b"ok"
    assert requests_to(server, "/robots.txt") == 1  # robots.txt itself is not retried
    assert stats.robots_fetches == 1


def test_robots_fetched_once_per_host_under_concurrency(server: HTTPServer) -> None:
    def slow_robots(request: Request) -> Response:
        time.sleep(0.2)  # every fetch below asks while this one is still in flight
        return Response("User-agent: *\nDisallow: /private\n")

    server.expect_request("/robots.txt").respond_with_handler(slow_robots)
    for n in range(5):
        server.expect_request(f"/p{n}").respond_with_data(str(n))

    async def go() -> list[FetchResult]:
        async with Fetcher(make_settings(respect_robots=True)) as f:
            return await asyncio.gather(*(f.fetch(server.url_for(f"/p{n}")) for n in range(5)))

    results = asyncio.run(go())
    assert [r.content for r in results] == [b"0", b"1", b"2", b"3", b"4"]
    assert requests_to(server, "/robots.txt") == 1


def test_robots_not_asked_when_off(server: HTTPServer) -> None:
    server.expect_request("/robots.txt").respond_with_data("User-agent: *\nDisallow: /\n")
    server.expect_request("/page").respond_with_data("ok")
    result, _ = fetch(server.url_for("/page"), make_settings(respect_robots=False))
    assert isinstance(result, FetchResult)
    assert requests_to(server, "/robots.txt") == 0


def test_crawl_delay_is_honoured_between_requests(server: HTTPServer) -> None:
    server.expect_request("/robots.txt").respond_with_data("User-agent: *\nCrawl-delay: 1\n")
    server.expect_request("/a").respond_with_data("a")
    server.expect_request("/b").respond_with_data("b")

    async def go() -> FetchStats:
        async with Fetcher(make_settings(respect_robots=True)) as f:
            await f.fetch(server.url_for("/a"))
            await f.fetch(server.url_for("/b"))
            return f.stats

    stats = asyncio.run(go())
    assert stats.crawl_delays == {server.url_for("/").rstrip("/"): 1.0}
    assert stats.crawl_delay_waits == 1


def test_crawl_delay_is_capped(server: HTTPServer) -> None:
    server.expect_request("/robots.txt").respond_with_data("User-agent: *\nCrawl-delay: 3600\n")
    server.expect_request("/a").respond_with_data("a")
    _, stats = fetch(server.url_for("/a"), make_settings(respect_robots=True))
    assert stats.crawl_delays == {server.url_for("/").rstrip("/"): 10.0}


# ── concurrency ──────────────────────────────────────────────────────────────


def counting_handler() -> tuple[Callable[[Request], Response], Callable[[], int]]:
    """A handler that holds each request 0.3 s and records how many overlapped."""
    lock = threading.Lock()
    state = {"now": 0, "max": 0}

    def handler(request: Request) -> Response:
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        time.sleep(0.3)
        with lock:
            state["now"] -= 1
        return Response("ok")

    return handler, lambda: state["max"]


def fetch_many(server: HTTPServer, settings: FetchSettings, count: int) -> FetchStats:
    async def go() -> FetchStats:
        async with Fetcher(settings) as f:
            jobs: list[Awaitable[FetchResult]] = [
                f.fetch(server.url_for(f"/c/{n}")) for n in range(count)
            ]
            await asyncio.gather(*jobs)
            return f.stats

    return asyncio.run(go())


def test_per_host_limit(server: HTTPServer) -> None:
    handler, most = counting_handler()
    for n in range(6):
        server.expect_request(f"/c/{n}").respond_with_handler(handler)

    stats = fetch_many(server, make_settings(concurrency=16, per_host=2), 6)

    assert most() == 2
    assert stats.max_in_flight_per_host == {"127.0.0.1": 2}


def test_global_limit(server: HTTPServer) -> None:
    handler, most = counting_handler()
    for n in range(6):
        server.expect_request(f"/c/{n}").respond_with_handler(handler)

    stats = fetch_many(server, make_settings(concurrency=3, per_host=10), 6)

    assert most() == 3
    assert stats.max_in_flight == 3


# ── offline sources ──────────────────────────────────────────────────────────


def test_file_url_is_read_from_disk(tmp_path: Path) -> None:
    page = tmp_path / "saved page.html"
    page.write_text("<html>ข่าว</html>", encoding="utf-8")

    result, stats = fetch(page.as_uri())

    assert isinstance(result, FetchResult)
    assert result.content == "<html>ข่าว</html>".encode()
    assert (result.status, result.headers) == (200, {"content-type": "text/html"})
    assert result.final_url == page.as_uri()
    assert stats.requests == 0


def test_plain_and_home_paths_are_read_from_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "saved").mkdir()
    (tmp_path / "saved" / "feed.rss").write_bytes(b"<rss/>")
    (Path.home() / "x.xml").write_bytes(b"<urlset/>")
    (tmp_path / "notes").write_bytes(b"plain")
    monkeypatch.chdir(tmp_path)

    relative, _ = fetch("saved/feed.rss")
    home, _ = fetch("~/x.xml")
    untyped, _ = fetch("notes")

    assert isinstance(relative, FetchResult) and relative.content == b"<rss/>"
    assert relative.headers == {"content-type": "application/rss+xml"}
    assert isinstance(home, FetchResult) and home.content == b"<urlset/>"
    assert home.headers == {"content-type": "application/xml"}
    assert isinstance(untyped, FetchResult) and untyped.headers == {}


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.html"
    assert str(fetch_error(str(missing))) == f"file not found: {str(missing)!r}"
    assert str(fetch_error(missing.as_uri())) == f"file not found: {str(missing)!r}"


def test_file_over_the_cap(tmp_path: Path) -> None:
    big = tmp_path / "big.html"
    big.write_bytes(b"a" * 101)
    error = fetch_error(str(big), make_settings(max_bytes=100))
    assert str(error) == f"file larger than 100 bytes: {str(big)!r}"


def test_file_url_on_another_host_is_refused() -> None:
    error = fetch_error("file://fileserver/share/feed.xml")
    assert str(error) == "file URL on another host: 'file://fileserver/share/feed.xml'"


class _KeepAliveSite(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive (werkzeug's server closes every connection); records the
    client port of each request, which stays the same while a connection is reused."""

    protocol_version = "HTTP/1.1"
    ports: list[int] = []

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.ports.append(self.client_address[1])
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


def test_each_site_keeps_its_connection_however_many_sites_are_scanned() -> None:
    """Each site has its own connection pool: after requests to 21 other sites, the first
    site's connection is still there (httpx's default pool keeps only 20 idle)."""
    servers: list[ThreadingHTTPServer] = []
    sites: list[tuple[str, list[int]]] = []
    for _ in range(22):
        ports: list[int] = []
        handler = type("Site", (_KeepAliveSite,), {"ports": ports})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        sites.append((f"http://127.0.0.1:{server.server_address[1]}/", ports))

    async def go() -> None:
        async with Fetcher(make_settings()) as f:
            for url, _ in sites:
                await f.fetch(url)
            await f.fetch(sites[0][0])

    try:
        asyncio.run(go())
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
    first_site_ports = sites[0][1]
    assert len(first_site_ports) == 2 and first_site_ports[0] == first_site_ports[1]
