"""Fetch feeds and pages over HTTP(S), politely, and read saved files from disk.

The only module of adwatch that touches the network. One `Fetcher` serves one scan:

    async with Fetcher(config.fetch, robots=kept) as fetcher:
        result = await fetcher.fetch(url, etag=..., last_modified=...)
    keep(fetcher.robots_fetched)   # robots.txt files worth keeping for the next scan

Every failure is a `FetchError` with a one-line reason. What a fetch promises (limits,
retries, robots.txt, conditional GET, proxies, file://) is written up in docs/fetching.md.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import importlib.util
import math
import mimetypes
import random
import ssl
import threading
import time
import urllib.robotparser
import zlib
from collections.abc import AsyncGenerator, Iterable, Iterator
from concurrent.futures import Future
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from urllib.parse import SplitResult, urlsplit
from urllib.request import url2pathname

from adwatch._httpx import httpx
from adwatch.errors import FetchError, one_line
from adwatch.models import FetchResult, FetchSettings, RobotsFile
from adwatch.text.dates import iso_utc, parse_timestamp

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# RFC 9309 2.5: crawlers must parse at least the first 500 KiB of a robots.txt.
ROBOTS_MAX_BYTES = 500 * 1024
# RFC 9309 2.4: a robots.txt may be cached, but not used for more than 24 hours.
ROBOTS_MAX_AGE = timedelta(hours=24)
# A site asking for a minute between requests would stall a morning scan; 10 s is still polite.
CRAWL_DELAY_CAP = 10.0
# Decompressed bytes produced per step, so a gzip bomb never inflates more than this at once.
_PIECE = 64 * 1024
_HAVE_BROTLI = any(importlib.util.find_spec(name) for name in ("brotli", "brotlicffi"))
ACCEPT_ENCODING = "gzip, deflate, br" if _HAVE_BROTLI else "gzip, deflate"
_ZLIB_ENCODINGS = ("gzip", "x-gzip", "deflate")
# An unwanted body up to this size is read to keep its connection (see _discard_body).
_DISCARD_MAX_BYTES = 64 * 1024
_DISCARD_SECONDS = 1.0
# A few extensions mimetypes does not know or maps to a type feed readers do not expect.
_FILE_TYPES = {".rss": "application/rss+xml", ".atom": "application/atom+xml"}


@dataclass
class FetchStats:
    """Counters for one Fetcher, reported by the scan."""

    requests: int = 0  # HTTP requests sent, robots.txt and retries included
    retries: int = 0  # requests repeated after a connection error, 408, 429 or 5xx
    bytes: int = 0  # body bytes received off the wire, before decompression
    not_modified: int = 0  # 304 answers to a conditional GET
    max_in_flight: int = 0
    max_in_flight_per_host: dict[str, int] = field(default_factory=dict)
    robots_fetches: int = 0  # robots.txt files asked for (at most one per origin)
    robots_kept: int = 0  # origins whose robots.txt came from an earlier scan, not asked
    crawl_delays: dict[str, float] = field(default_factory=dict)  # origin -> delay honoured, s
    crawl_delay_waits: int = 0  # requests that waited for a Crawl-delay


class _Failure(Exception):
    """A failure inside one fetch; `Fetcher.fetch` turns it into a FetchError."""

    def __init__(self, message: str, *, status: int | None = None, retry: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.retry = retry


@dataclass(frozen=True)
class _Reply:
    """One HTTP response, body read only when it is a 2xx."""

    url: httpx.URL
    status: int
    headers: dict[str, str]
    content: bytes


@dataclass
class _Robots:
    """What robots.txt says for one origin; `parser` None means everything is allowed."""

    parser: urllib.robotparser.RobotFileParser | None
    crawl_delay: float = 0.0
    next_slot: float = 0.0  # time.monotonic() before which the next request must wait


def read_environment_soon(settings: FetchSettings) -> Future[ssl.SSLContext]:
    """Start reading the TLS and proxy settings of the environment on a thread of its own,
    for a `Fetcher(environment=...)` made later: the CA bundle takes about 20 ms to load,
    without Python's lock, and a scan opens its store meanwhile."""
    future: Future[ssl.SSLContext] = Future()

    def read() -> None:
        try:
            future.set_result(_read_environment(settings))
        except BaseException as exc:  # the Fetcher raises it, as its own
            future.set_exception(exc)

    threading.Thread(target=read, name="adwatch-environment", daemon=True).start()
    return future


def _read_environment(settings: FetchSettings) -> ssl.SSLContext:
    """The TLS context; raises here, not at the first fetch, on a bad proxy or CA file."""
    tls = httpx.create_ssl_context(trust_env=True)
    _make_client(settings, tls)  # reads the proxy variables; it holds no connection yet
    return tls


def _make_client(settings: FetchSettings, tls: ssl.SSLContext) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.timeout),
        # We follow redirects ourselves, to refuse non-HTTP targets and ask robots.txt per hop.
        follow_redirects=False,
        # HTTP_PROXY / HTTPS_PROXY / ALL_PROXY / NO_PROXY and SSL_CERT_FILE from the environment.
        trust_env=True,
        headers={"User-Agent": settings.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
        limits=httpx.Limits(max_connections=max(100, settings.concurrency)),
        verify=tls,
    )


class Fetcher:
    """Async context manager; one per scan run."""

    def __init__(
        self,
        settings: FetchSettings,
        *,
        robots: Iterable[RobotsFile] = (),
        max_redirects: int = 5,
        max_tries: int = 3,
        retry_after_cap: float = 30.0,
        backoff: float = 0.5,
        environment: Future[ssl.SSLContext] | None = None,
    ) -> None:
        self.settings = settings
        self._environment = environment  # read_environment_soon's, if the caller started it
        self.max_redirects = max_redirects
        self.max_tries = max(1, max_tries)
        self.retry_after_cap = retry_after_cap
        self.backoff = backoff
        self.stats = FetchStats()
        # One client (connection pool) per origin: httpcore checks every connection of its
        # pool, one by one against all the others, at each request and each response, so
        # one pool for every site costs the square of the connections (docs/scan.md, Speed).
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._tls: ssl.SSLContext | None = None
        self._global_slots = asyncio.Semaphore(max(1, settings.concurrency))
        self._host_slots: dict[str, asyncio.Semaphore] = {}
        self._in_flight = 0
        self._in_flight_per_host: dict[str, int] = {}
        self._robots: dict[str, _Robots] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}
        # robots.txt files fetched by an earlier scan, used instead of asking again.
        self._kept_robots = {kept.origin: kept for kept in robots if _still_fresh(kept)}
        #: robots.txt files fetched by this Fetcher that may be kept for the next one
        self.robots_fetched: list[RobotsFile] = []

    async def __aenter__(self) -> Fetcher:
        # The CA bundle is read from disk once, off the event loop, for every site's client.
        try:
            environment = self._environment or read_environment_soon(self.settings)
            self._tls = await asyncio.wrap_future(environment)
        except (ValueError, ImportError, OSError, httpx.InvalidURL) as exc:
            # A bad HTTP_PROXY, HTTPS_PROXY, ALL_PROXY or SSL_CERT_FILE in the environment;
            # FetchError keeps a proxy's password out of the message.
            raise FetchError(
                f"cannot use the proxy or TLS settings of the environment: {one_line(str(exc))}"
            ) from exc
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        clients, self._clients = self._clients, {}
        self._tls = None
        for client in clients.values():
            await client.aclose()

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str | None = None,
    ) -> FetchResult:
        """Return what `url` (http, https, file:// or a local path) holds; raise FetchError."""
        try:
            path = _local_path(url)
            if path is not None:
                return await self._read_file(url, path)
            return await self._fetch_http(url, etag, last_modified, accept)
        except _Failure as exc:
            raise FetchError(str(exc), url=url, status=exc.status) from exc.__cause__

    async def robots_allowed(self, url: str) -> bool:
        """Return whether robots.txt lets us fetch `url` (always true for files or when off)."""
        if not self.settings.respect_robots:
            return True
        try:
            if _local_path(url) is not None:
                return True
            return await self._allowed(_http_url(url))
        except _Failure as exc:
            raise FetchError(str(exc), url=url, status=exc.status) from exc.__cause__

    async def _fetch_http(
        self, url: str, etag: str | None, last_modified: str | None, accept: str | None
    ) -> FetchResult:
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        if accept:
            headers["Accept"] = accept
        reply = await self._follow(
            _http_url(url),
            headers,
            ask_robots=self.settings.respect_robots,
            max_bytes=self.settings.max_bytes,
            truncate=False,
            max_tries=self.max_tries,
        )
        if reply.status == 304:
            self.stats.not_modified += 1
            return FetchResult(
                url=url,
                final_url=str(reply.url),
                status=304,
                headers=reply.headers,
                content=b"",
                not_modified=True,
                # A 304 need not repeat the validators: keep the ones we sent.
                etag=reply.headers.get("etag", etag),
                last_modified=reply.headers.get("last-modified", last_modified),
            )
        if not 200 <= reply.status < 300:
            raise _Failure(f"HTTP {reply.status}", status=reply.status)
        return FetchResult(
            url=url,
            final_url=str(reply.url),
            status=reply.status,
            headers=reply.headers,
            content=reply.content,
            etag=reply.headers.get("etag"),
            last_modified=reply.headers.get("last-modified"),
        )

    async def _follow(
        self,
        start: httpx.URL,
        headers: dict[str, str],
        *,
        ask_robots: bool,
        max_bytes: int,
        truncate: bool,
        max_tries: int,
    ) -> _Reply:
        """Return the first response that is not a redirect, following at most max_redirects."""
        current = start
        seen = {_without_fragment(start)}
        for _hop in range(self.max_redirects + 1):
            if ask_robots and not await self._allowed(current):
                where = "" if current is start else f": {str(current)!r}"
                raise _Failure(f"blocked by robots.txt{where}")
            reply = await self._send_with_retries(
                current, headers, max_bytes=max_bytes, truncate=truncate, max_tries=max_tries
            )
            if reply.status not in REDIRECT_STATUSES:
                return reply
            current = _redirect_target(reply)
            if _without_fragment(current) in seen:
                raise _Failure(f"redirect loop at {current}", status=reply.status)
            seen.add(_without_fragment(current))
        raise _Failure(f"too many redirects (>{self.max_redirects})")

    async def _send_with_retries(
        self,
        url: httpx.URL,
        headers: dict[str, str],
        *,
        max_bytes: int,
        truncate: bool,
        max_tries: int,
    ) -> _Reply:
        """Return the response to one GET, retried after connection errors, 408, 429 and 5xx."""
        for attempt in range(1, max_tries + 1):
            tries = f"{attempt} {'try' if attempt == 1 else 'tries'}"
            try:
                reply = await self._send_once(url, headers, max_bytes=max_bytes, truncate=truncate)
            except _Failure as exc:
                if not exc.retry:
                    raise
                if attempt == max_tries:
                    raise _Failure(f"{exc} (after {tries})") from exc.__cause__
                delay = self._backoff_delay(attempt)
            else:
                if not _worth_retrying(reply.status):
                    return reply
                if attempt == max_tries:
                    raise _Failure(f"HTTP {reply.status} after {tries}", status=reply.status)
                delay = self._retry_delay(reply, attempt)
            self.stats.retries += 1
            await asyncio.sleep(delay)
        raise AssertionError("unreachable: the last try returns or raises")

    def _retry_delay(self, reply: _Reply, attempt: int) -> float:
        """Return how long to wait before retrying `reply`; raise when Retry-After is too long."""
        retry_after = _retry_after_seconds(reply.headers.get("retry-after"))
        if retry_after is None:
            return self._backoff_delay(attempt)
        if retry_after > self.retry_after_cap:
            raise _Failure(
                f"HTTP {reply.status} (Retry-After {math.ceil(retry_after)} s exceeds "
                f"the {self.retry_after_cap:g} s cap)",
                status=reply.status,
            )
        return retry_after

    def _backoff_delay(self, attempt: int) -> float:
        # Exponential, with jitter so that many URLs failing together do not retry in step.
        base: float = self.backoff * 2.0 ** (attempt - 1)
        return base * random.uniform(1.0, 1.5)

    async def _send_once(
        self, url: httpx.URL, headers: dict[str, str], *, max_bytes: int, truncate: bool
    ) -> _Reply:
        host = url.host
        await self._wait_for_crawl_delay(url)
        # The host's slot first: waiting for a busy host must not hold one of the global slots.
        async with self._host_slot(host), self._global_slots:
            self._enter(host)
            try:
                async with asyncio.timeout(self.settings.timeout):
                    return await self._exchange(
                        url, headers, max_bytes=max_bytes, truncate=truncate
                    )
            except TimeoutError as exc:
                raise _Failure(f"timed out after {float(self.settings.timeout)} s") from exc
            finally:
                self._leave(host)

    async def _exchange(
        self, url: httpx.URL, headers: dict[str, str], *, max_bytes: int, truncate: bool
    ) -> _Reply:
        client = self._client_for(url)
        self.stats.requests += 1
        try:
            response = await client.send(
                client.build_request("GET", url, headers=headers), stream=True
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise self._failure_from(exc) from exc
        try:
            content = b""
            if 200 <= response.status_code < 300:
                content = await _read_body(response, max_bytes=max_bytes, truncate=truncate)
            else:
                await _discard_body(response)
            headers_lower = {name.lower(): value for name, value in response.headers.items()}
            return _Reply(url, response.status_code, headers_lower, content)
        except httpx.HTTPError as exc:
            raise self._failure_from(exc) from exc
        finally:
            self.stats.bytes += response.num_bytes_downloaded
            await response.aclose()

    def _failure_from(self, exc: Exception) -> _Failure:
        """Return the one-line, classified form of an httpx exception."""
        timeout = float(self.settings.timeout)
        reason = one_line(str(exc)) or type(exc).__name__
        if isinstance(exc, httpx.ConnectTimeout):
            return _Failure(f"cannot connect: timed out after {timeout} s", retry=True)
        if isinstance(exc, httpx.TimeoutException):
            # A server too slow now is slow in a second too: retrying would triple the wait.
            return _Failure(f"timed out after {timeout} s")
        if _caused_by_tls(exc):
            return _Failure(f"TLS error: {reason}")
        if isinstance(exc, httpx.ConnectError):
            return _Failure(f"cannot connect: {reason}", retry=True)
        if isinstance(exc, httpx.ProxyError):
            return _Failure(f"proxy error: {reason}")
        if isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError):
            return _Failure(f"connection broken: {reason}", retry=True)
        if isinstance(exc, httpx.DecodingError):
            return _Failure(f"cannot decode the body: {reason}")
        if isinstance(exc, httpx.InvalidURL):
            return _Failure(f"invalid URL: {reason}")
        return _Failure(f"request failed: {reason}")

    def _client_for(self, url: httpx.URL) -> httpx.AsyncClient:
        if self._tls is None:
            raise RuntimeError("Fetcher used outside 'async with Fetcher(...)'")
        origin = _origin(url)
        client = self._clients.get(origin)
        if client is None:
            client = self._clients[origin] = _make_client(self.settings, self._tls)
        return client

    def _host_slot(self, host: str) -> asyncio.Semaphore:
        if host not in self._host_slots:
            self._host_slots[host] = asyncio.Semaphore(max(1, self.settings.per_host))
        return self._host_slots[host]

    def _enter(self, host: str) -> None:
        self._in_flight += 1
        self._in_flight_per_host[host] = self._in_flight_per_host.get(host, 0) + 1
        self.stats.max_in_flight = max(self.stats.max_in_flight, self._in_flight)
        per_host = self.stats.max_in_flight_per_host
        per_host[host] = max(per_host.get(host, 0), self._in_flight_per_host[host])

    def _leave(self, host: str) -> None:
        self._in_flight -= 1
        self._in_flight_per_host[host] -= 1

    async def _allowed(self, url: httpx.URL) -> bool:
        robots = await self._robots_for(url)
        return robots.parser is None or robots.parser.can_fetch(self.settings.user_agent, str(url))

    async def _robots_for(self, url: httpx.URL) -> _Robots:
        origin = _origin(url)
        if origin not in self._robots and origin in self._kept_robots:
            kept = self._kept_robots.pop(origin)
            self.stats.robots_kept += 1
            self._robots[origin] = self._robots_from(origin, kept.status, kept.body)
        if origin not in self._robots:
            # One robots.txt request per origin, however many fetches ask at the same time.
            lock = self._robots_locks.setdefault(origin, asyncio.Lock())
            async with lock:
                if origin not in self._robots:
                    self._robots[origin] = await self._fetch_robots(origin)
        return self._robots[origin]

    async def _fetch_robots(self, origin: str) -> _Robots:
        self.stats.robots_fetches += 1
        try:
            reply = await self._follow(
                httpx.URL(f"{origin}/robots.txt"),
                {"Accept": "text/plain, */*;q=0.5"},
                ask_robots=False,
                max_bytes=ROBOTS_MAX_BYTES,
                truncate=True,
                max_tries=1,
            )
        except _Failure:
            # Unreachable, 5xx, too many redirects: allow (docs/fetching.md), and keep
            # nothing, so the next scan asks again.
            return _Robots(None)
        ok = 200 <= reply.status < 300
        body = reply.content.decode("utf-8", errors="replace") if ok else ""
        if ok or 400 <= reply.status < 500:
            # Rules, or a sure "there are none": both may be kept (RFC 9309 2.3.1.3);
            # a 5xx is a server in trouble, asked again next scan.
            fetched = RobotsFile(origin, reply.status, body, iso_utc(datetime.now(UTC)))
            self.robots_fetched.append(fetched)
        return self._robots_from(origin, reply.status, body)

    def _robots_from(self, origin: str, status: int, body: str) -> _Robots:
        """Return the rules of one origin's robots.txt answer (status and text)."""
        if not 200 <= status < 300:
            return _Robots(None)  # 4xx: no robots.txt, everything is allowed
        parser = urllib.robotparser.RobotFileParser()
        parser.parse(body.splitlines())
        delay = min(float(parser.crawl_delay(self.settings.user_agent) or 0), CRAWL_DELAY_CAP)
        if delay > 0:
            self.stats.crawl_delays[origin] = delay
        return _Robots(parser, crawl_delay=delay)

    async def _wait_for_crawl_delay(self, url: httpx.URL) -> None:
        robots = self._robots.get(_origin(url))
        if robots is None or robots.crawl_delay <= 0:
            return
        # Reserve the next slot before sleeping, so concurrent requests queue one delay apart.
        now = time.monotonic()
        slot = max(now, robots.next_slot)
        robots.next_slot = slot + robots.crawl_delay
        if slot > now:
            self.stats.crawl_delay_waits += 1
            await asyncio.sleep(slot - now)

    async def _read_file(self, url: str, path: Path) -> FetchResult:
        content, content_type = await asyncio.to_thread(_read_capped, path, self.settings.max_bytes)
        headers = {"content-type": content_type} if content_type else {}
        return FetchResult(
            url=url, final_url=path.as_uri(), status=200, headers=headers, content=content
        )


def _still_fresh(kept: RobotsFile) -> bool:
    """Return whether a robots.txt fetched earlier may still be used (RFC 9309 2.4)."""
    try:
        fetched_at = parse_timestamp(kept.fetched_at)
    except ValueError:
        return False
    age = datetime.now(UTC) - fetched_at
    # A fetch time in the future (a clock set back) proves nothing: ask again.
    return timedelta(0) <= age <= ROBOTS_MAX_AGE


def _local_path(url: str) -> Path | None:
    """Return the absolute file a file:// URL or plain path names, None for other URLs."""
    parts = _split(url)
    if parts.scheme.lower() == "file":
        if parts.netloc not in ("", "localhost"):
            raise _Failure(f"file URL on another host: {url!r}")
        return Path(url2pathname(parts.path)).absolute()
    if parts.scheme or parts.netloc:
        return None
    if not url.strip():
        raise _Failure("empty URL")
    return Path(url).expanduser().absolute()


def _split(url: str) -> SplitResult:
    try:
        return urlsplit(url)
    except ValueError as exc:  # an unbalanced [ in the host
        raise _Failure(f"invalid URL {url!r}: {exc}") from exc


def _http_url(url: str) -> httpx.URL:
    """Return `url` parsed; raise unless it is a valid http(s) URL with a host."""
    scheme = _split(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise _Failure(f"unsupported URL scheme {scheme!r} in {url!r}")
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise _Failure(f"invalid URL {url!r}: {one_line(str(exc))}") from exc
    if not parsed.host:
        raise _Failure(f"invalid URL {url!r}: no host")
    return parsed


def _redirect_target(reply: _Reply) -> httpx.URL:
    location = reply.headers.get("location")
    if not location:
        raise _Failure(
            f"HTTP {reply.status} redirect without a Location header", status=reply.status
        )
    try:
        target = reply.url.join(location.strip())
    except httpx.InvalidURL as exc:
        raise _Failure(f"invalid redirect Location {location!r}", status=reply.status) from exc
    if target.scheme not in ("http", "https"):
        # Name the Location as sent: httpx would print file:///etc/passwd as file:/etc/passwd.
        raise _Failure(f"redirect to non-HTTP URL {location.strip()!r}", status=reply.status)
    if not target.host:
        raise _Failure(f"invalid redirect Location {location!r}", status=reply.status)
    return target


def _without_fragment(url: httpx.URL) -> str:
    # httpx percent-encodes a "#" anywhere else, so the first one starts the fragment;
    # cheaper than url.copy_with(fragment=None), which parses the URL again.
    return str(url).partition("#")[0]


def _origin(url: httpx.URL) -> str:
    """Return scheme://host[:port], the unit robots.txt applies to (RFC 9309)."""
    return _origin_of(url.scheme, url.host, url.port)


# Asked twice per request; building the httpx.URL each time was 2 % of the scan's
# main-process CPU.
@functools.lru_cache(maxsize=1024)
def _origin_of(scheme: str, host: str, port: int | None) -> str:
    return str(httpx.URL(scheme=scheme, host=host, port=port))


def _worth_retrying(status: int) -> bool:
    return status in (408, 429) or 500 <= status <= 599


def _retry_after_seconds(value: str | None) -> float | None:
    """Return the wait a Retry-After header asks for (delta seconds or HTTP date), None if unusable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if math.isnan(seconds):
        return None
    return max(0.0, seconds)


async def _discard_body(response: httpx.Response) -> None:
    """Read and drop a body we do not need (a 304's empty one, a redirect's, an error page).

    A response closed before its body is read closes its connection too; read to the end,
    the connection goes back to the pool, and a re-run's conditional GETs to one site share
    it instead of opening one each. A large, slow or broken body is left: closing is cheaper,
    and the status stays the answer.
    """
    declared = response.headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > _DISCARD_MAX_BYTES:
        return
    size = 0
    try:
        async with asyncio.timeout(_DISCARD_SECONDS):
            async for chunk in response.aiter_raw():
                size += len(chunk)
                if size > _DISCARD_MAX_BYTES:
                    return
    except (httpx.HTTPError, TimeoutError):
        return  # the connection is closed with the response


async def _read_body(response: httpx.Response, *, max_bytes: int, truncate: bool) -> bytes:
    """Return the decompressed body, at most max_bytes; raise (or cut, if truncate) beyond."""
    too_large = f"response larger than {max_bytes} bytes"
    declared = response.headers.get("content-length", "").strip()
    if not truncate and declared.isdigit() and int(declared) > max_bytes:
        raise _Failure(too_large, status=response.status_code)
    chunks: list[bytes] = []
    size = 0
    async with aclosing(_decoded_pieces(response)) as pieces:
        async for piece in pieces:
            room = max_bytes - size
            if len(piece) > room:
                if not truncate:
                    raise _Failure(too_large, status=response.status_code)
                chunks.append(piece[:room])
                break
            chunks.append(piece)
            size += len(piece)
    return b"".join(chunks)


async def _decoded_pieces(response: httpx.Response) -> AsyncGenerator[bytes, None]:
    """Yield the body decompressed, in pieces of at most _PIECE bytes for gzip and deflate.

    httpx's own decoders inflate each network read in one go: 64 KB of a gzip bomb becomes
    64 MB before we could count it. So gzip and deflate are inflated here, a piece at a time.
    """
    header = response.headers.get("content-encoding", "")
    encodings = [
        e.strip().lower() for e in header.split(",") if e.strip().lower() not in ("", "identity")
    ]
    if all(e in _ZLIB_ENCODINGS for e in encodings):
        # The last encoding listed was applied last, so it is undone first.
        layers = [_Inflater(e) for e in reversed(encodings)]
        async for chunk in response.aiter_raw():
            for piece in _through(layers, chunk):
                yield piece
        for piece in _flush_through(layers):
            yield piece
    elif _HAVE_BROTLI and all(e in (*_ZLIB_ENCODINGS, "br") for e in encodings):
        async for piece in response.aiter_bytes():
            yield piece
    else:
        raise _Failure(f"unsupported Content-Encoding {header!r}", status=response.status_code)


class _Inflater:
    """One gzip or deflate layer, inflated at most _PIECE bytes at a time."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        # gzip: 32 + MAX_WBITS accepts a gzip or a zlib header; deflate should be zlib-wrapped.
        wbits = zlib.MAX_WBITS | 32 if encoding != "deflate" else zlib.MAX_WBITS
        self._inflate = zlib.decompressobj(wbits)
        self._started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        while not self._inflate.eof:
            try:
                out = self._inflate.decompress(data, _PIECE)
            except zlib.error as exc:
                if self.encoding == "deflate" and not self._started:
                    # Some servers send raw deflate without the zlib wrapper the RFC asks for.
                    self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)
                    self._started = True
                    continue
                raise _Failure(f"cannot decompress the {self.encoding} body: {exc}") from exc
            self._started = True
            data = self._inflate.unconsumed_tail
            if out:
                yield out
            # A full piece may leave output pending in zlib even when all input is consumed.
            if not data and len(out) < _PIECE:
                return

    def flush(self) -> Iterator[bytes]:
        rest = self._inflate.flush()
        if rest:
            yield rest


def _through(layers: list[_Inflater], data: bytes) -> Iterator[bytes]:
    if not layers:
        yield data
        return
    for piece in layers[0].feed(data):
        yield from _through(layers[1:], piece)


def _flush_through(layers: list[_Inflater]) -> Iterator[bytes]:
    for index, layer in enumerate(layers):
        for piece in layer.flush():
            yield from _through(layers[index + 1 :], piece)


def _read_capped(path: Path, max_bytes: int) -> tuple[bytes, str]:
    """Return a file's first bytes (raise beyond max_bytes) and its guessed content type."""
    try:
        with path.open("rb") as handle:
            content = handle.read(max_bytes + 1)  # not stat(): /dev/zero has size 0
    except FileNotFoundError as exc:
        raise _Failure(f"file not found: {str(path)!r}") from exc
    except IsADirectoryError as exc:
        raise _Failure(f"not a file: {str(path)!r}") from exc
    except OSError as exc:
        raise _Failure(f"cannot read {str(path)!r}: {exc.strerror or exc}") from exc
    if len(content) > max_bytes:
        raise _Failure(f"file larger than {max_bytes} bytes: {str(path)!r}")
    content_type = _FILE_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or ""
    return content, content_type


def _caused_by_tls(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _depth in range(8):
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
