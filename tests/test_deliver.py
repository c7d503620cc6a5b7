"""Alert messages and their delivery, against real receivers on 127.0.0.1.

Webhooks go to pytest-httpserver, email to aiosmtpd (plain, with login, and with STARTTLS
under a throwaway trustme CA, verification on), and the receivers that hang or trickle
are plain socket servers in a thread. Nothing here leaves the machine.
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from pytest_httpserver import HTTPServer

from adwatch import __version__
from adwatch.alerts.deliver import describe, send
from adwatch.alerts.messages import (
    FULL_ALERTS,
    PAYLOAD_ALERTS,
    TITLE_LIMIT,
    RenderedMessage,
    render_message,
)
from adwatch.errors import ConfigError
from adwatch.models import (
    AlertMessage,
    DeliveryOutcome,
    Digest,
    EmailTarget,
    HitAlert,
    SpikeAlert,
    WebhookTarget,
    default_user_agent,
)

THAI = "โฆษณาเว็บพนันออนไลน์ระบาดหนักช่วงเลือกตั้ง"
BURMESE = "အွန်လိုင်းလောင်းကစား ကြော်ငြာများ ပြန့်ပွား"
TOKEN = "XyZ9s3cr3tT0kenAbCdEf123"  # a Slack hook's path is its secret
HOOK_PATH = f"/services/T0ADWATCH/B0ADWATCH/{TOKEN}"
PASSWORD = "Pa55-word-for-tests"
PASSWORD_ENV = "ADWATCH_TEST_SMTP_PASSWORD"


def a_hit(hit_id: int = 1, **changes: Any) -> HitAlert:
    hit = HitAlert(
        hit_id=hit_id,
        title=THAI,
        url=f"https://news.example/th/{hit_id}",
        source="Thai news",
        watchlist="gambling-ads",
        severity="critical",
        matched_text="เว็บพนัน",
        market="TH",
        language="th",
        found_at="2025-03-02T01:00:00Z",
        published_at=None,
    )
    return replace(hit, **changes)


def a_spike() -> SpikeAlert:
    return SpikeAlert(
        watchlist="gambling-ads",
        market="TH",
        day="2025-03-02",
        observed=14,
        expected=3.24,
        p_value=1e-5,
        why="negative binomial: 14 observed, 3.2 expected, p = 1e-05",
        baseline_days=28,
        articles=400,
        stories=(7, 9),
    )


def a_message() -> RenderedMessage:
    burmese_hit = a_hit(2, title=BURMESE, market="MM", language="my", matched_text="လောင်းကစား")
    return render_message(AlertMessage((a_hit(), burmese_hit, a_spike())))


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert TOKEN not in text
        assert "/services/" not in text
        assert PASSWORD not in text


# --- rendering ---------------------------------------------------------------------------


def test_subject_counts_what_the_message_carries() -> None:
    assert a_message().subject == "adwatch: 2 critical hits, 1 emerging risk"


def test_titles_cannot_forge_slack_links_or_mentions() -> None:
    title = "<!channel> <http://evil.example|click here> & more"
    rendered = render_message(AlertMessage((a_hit(title=title),)))

    slack = rendered.payload["text"]
    assert "&lt;!channel&gt; &lt;http://evil.example|click here&gt; &amp; more" in slack
    assert "<" not in slack and ">" not in slack
    # The email body is plain text, and the JSON carries the title as data.
    assert title in rendered.text
    assert rendered.payload["alerts"][0]["title"] == title


def test_control_and_bidi_characters_are_removed() -> None:
    title = "Breaking\x1b]0;owned\x07 news \u202etxt.exe\nline two"
    rendered = render_message(AlertMessage((a_hit(title=title, source="Src\x1b[2J"),)))

    for text in (rendered.text, rendered.payload["text"], json.dumps(rendered.payload)):
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "  Breaking]0;owned news txt.exe line two\n" in rendered.text  # one line
    assert "· Src[2J" in rendered.text


def test_only_http_links_are_written() -> None:
    rendered = render_message(AlertMessage((a_hit(url="javascript:alert(document.cookie)"),)))

    assert "javascript" not in rendered.text
    assert "document.cookie" not in rendered.payload["text"]


def test_long_fields_are_cut() -> None:
    rendered = render_message(AlertMessage((a_hit(title="ข่าว" * 500),)))

    title_line = next(line for line in rendered.text.splitlines() if "ข่าว" in line)
    assert len(title_line.strip()) == TITLE_LIMIT
    assert title_line.endswith("…")
    assert rendered.payload["alerts"][0]["title"] == "ข่าว" * 500


def test_the_default_template_writes_hits_spikes_and_digests() -> None:
    digest = Digest(
        day="2025-03-03",
        since="2025-03-02T06:00:00Z",
        hits=14,
        by_severity={"critical": 2, "high": 5, "medium": 0, "low": 7},
        stories=6,
        top=(a_hit(3, title=BURMESE),),
        spikes=(a_spike(),),
    )
    rendered = render_message(AlertMessage((a_hit(event="th-election-2027"), a_spike(), digest)))

    text = rendered.text
    assert "CRITICAL · gambling-ads · TH · Thai news · event th-election-2027\n" in text
    assert f"  {THAI}\n  matched: เว็บพนัน\n  https://news.example/th/1\n" in text
    assert "gambling-ads in TH on 2025-03-02: 14 articles, 3.2 expected\n" in text
    assert "  negative binomial: 14 observed, 3.2 expected, p = 1e-05\n" in text
    assert "Daily digest for 2025-03-03 (since 2025-03-02T06:00:00Z)\n" in text
    assert "14 hits in 6 stories: 2 critical, 5 high, 7 low\n" in text
    assert f"  {BURMESE}\n" in text
    assert rendered.subject == (
        "adwatch: 1 critical hit, 1 emerging risk, digest for 2025-03-03: 14 hits"
    )
    assert [alert["kind"] for alert in rendered.payload["alerts"]] == ["hit", "spike", "digest"]


def test_a_test_message_names_the_host_and_version() -> None:
    rendered = render_message(AlertMessage((), test=True))

    assert rendered.text.startswith("adwatch test message from ")
    assert f"version {__version__}." in rendered.text
    assert rendered.subject == "adwatch: test message"
    assert rendered.payload["test"] is True and rendered.payload["alerts"] == []


def test_a_users_template_gets_the_same_variables_and_escaping() -> None:
    template = (
        "{{ total }} alert: {% for hit in hits %}{{ hit.title }} ({{ hit.severity }}){% endfor %}"
    )
    rendered = render_message(AlertMessage((a_hit(title="A & <B>"),)), template=template)

    assert rendered.text == "1 alert: A & <B> (critical)\n"
    assert rendered.payload["text"] == "1 alert: A &amp; &lt;B&gt; (critical)\n"

    # A hit printed whole is escaped too: its title is inside.
    whole = render_message(AlertMessage((a_hit(title="<!here>"),)), template="{{ hits[0] }}")
    assert "'title': '&lt;!here&gt;'" in whole.payload["text"]


def test_a_users_template_that_names_no_variable_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="alerts.template: 'nothing' is undefined"):
        render_message(AlertMessage((a_hit(),)), template="{{ nothing }}")
    with pytest.raises(ConfigError, match=r"alerts.template: .* \(line 2\)"):
        render_message(AlertMessage((a_hit(),)), template="ok\n{% for %}")


def test_past_the_caps_alerts_are_counted() -> None:
    hits = tuple(a_hit(number, title=f"headline {number}") for number in range(25))
    rendered = render_message(AlertMessage(hits))

    assert rendered.text.count("CRITICAL ·") == FULL_ALERTS
    assert "headline 19\n" in rendered.text and "headline 20\n" not in rendered.text
    assert "and 5 more alerts:" in rendered.text
    assert len(rendered.payload["alerts"]) == 25 and "more" not in rendered.payload

    many = render_message(AlertMessage(hits * 6))  # 150
    assert len(many.payload["alerts"]) == PAYLOAD_ALERTS
    assert many.payload["more"] == 150 - PAYLOAD_ALERTS
    assert "and 130 more alerts:" in many.text


# --- receivers that misbehave: plain socket servers ---------------------------------------


class RawServer:
    """A TCP server on 127.0.0.1 that runs `serve(connection, stop)` for each client in a
    thread of its own, until the test ends."""

    def __init__(self, serve: Callable[[socket.socket, threading.Event], None]) -> None:
        self.stop = threading.Event()
        self._serve = serve
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)  # so the accept loop sees `stop`
        self.port = self._listener.getsockname()[1]
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            thread = threading.Thread(target=self._handle, args=(connection,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _handle(self, connection: socket.socket) -> None:
        with connection:
            self._serve(connection, self.stop)

    def close(self) -> None:
        self.stop.set()
        for thread in list(self._threads):
            thread.join(timeout=5)
        self._listener.close()


@pytest.fixture
def raw_server() -> Iterator[
    Callable[[Callable[[socket.socket, threading.Event], None]], RawServer]
]:
    servers: list[RawServer] = []

    def start(serve: Callable[[socket.socket, threading.Event], None]) -> RawServer:
        servers.append(RawServer(serve))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def never_answer(connection: socket.socket, stop: threading.Event) -> None:
    """Accept, read what comes, and say nothing until the test ends."""
    connection.settimeout(0.05)
    while not stop.is_set():
        try:
            if not connection.recv(65536):
                return
        except TimeoutError:
            continue


def trickle_ok(connection: socket.socket, stop: threading.Event) -> None:
    """Answer 200 in full, one byte every 50 ms: each read is quick, the whole takes 2 s."""
    connection.recv(65536)
    try:
        for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok":
            if stop.is_set():
                return
            connection.sendall(bytes([byte]))
            time.sleep(0.05)
    except OSError:  # the client cut the connection: what the test wants
        return


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port: int = probe.getsockname()[1]
    return port


# --- webhooks -----------------------------------------------------------------------------


def hook(httpserver: HTTPServer) -> WebhookTarget:
    return WebhookTarget(name="team-webhook", url=httpserver.url_for(HOOK_PATH))


def test_a_webhook_gets_json_with_text_and_alerts_in_utf8(httpserver: HTTPServer) -> None:
    httpserver.expect_request(HOOK_PATH, method="POST").respond_with_data("ok")
    message = a_message()

    outcome = send(hook(httpserver), message, timeout=5)

    assert outcome.ok and outcome.answer == "HTTP 200: ok"
    request = httpserver.log[0][0]
    body = request.get_data()
    assert THAI.encode("utf-8") in body and BURMESE.encode("utf-8") in body  # not \u escapes
    posted = json.loads(body.decode("utf-8"))
    assert posted["text"] == message.payload["text"]
    assert THAI in posted["text"] and BURMESE in posted["text"]
    assert [alert["title"] for alert in posted["alerts"][:2]] == [THAI, BURMESE]
    assert posted["alerts"][2]["why"] == a_spike().why
    assert request.headers["User-Agent"] == default_user_agent()
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"


def test_a_500_is_a_failure_with_the_first_line_of_its_body(httpserver: HTTPServer) -> None:
    httpserver.expect_request(HOOK_PATH).respond_with_data(
        "upstream broke\nTraceback (most recent call last):", status=500
    )

    outcome = send(hook(httpserver), a_message(), timeout=5)

    assert not outcome.ok
    assert outcome.answer == "HTTP 500: upstream broke Traceback (most recent call last):"


def test_a_404_is_a_failure_and_the_token_it_echoes_is_hidden(httpserver: HTTPServer) -> None:
    httpserver.expect_request(HOOK_PATH).respond_with_data(
        f"no_service: nothing at {HOOK_PATH} (https://hooks.example{HOOK_PATH})", status=404
    )

    outcome = send(hook(httpserver), a_message(), timeout=5)

    assert not outcome.ok
    assert outcome.answer == "HTTP 404: no_service: nothing at *** (https://hooks.example)"
    assert_no_secret(outcome.answer)


def test_a_redirect_is_a_failure_and_is_not_followed(httpserver: HTTPServer) -> None:
    httpserver.expect_request(HOOK_PATH).respond_with_data(
        "", status=302, headers={"Location": f"https://elsewhere.example/moved/{TOKEN}"}
    )

    outcome = send(hook(httpserver), a_message(), timeout=5)

    assert not outcome.ok
    assert outcome.answer == (
        "HTTP 302: redirected to https://elsewhere.example; adwatch follows no redirect"
    )
    assert len(httpserver.log) == 1


def test_a_receiver_that_never_answers_fails_within_the_timeout(
    raw_server: Callable[..., RawServer],
) -> None:
    server = raw_server(never_answer)
    target = WebhookTarget("silent", f"http://127.0.0.1:{server.port}{HOOK_PATH}")

    outcome = send(target, a_message(), timeout=0.5)

    assert not outcome.ok
    assert outcome.answer.startswith("no answer within 0.5 s")
    assert_no_secret(outcome.answer)


def test_a_receiver_that_trickles_is_cut_at_the_deadline(
    raw_server: Callable[..., RawServer],
) -> None:
    # Every byte comes well within the read timeout, and the whole answer in 2 s: only
    # a deadline on the whole exchange turns this into a failure.
    server = raw_server(trickle_ok)
    target = WebhookTarget("slow", f"http://127.0.0.1:{server.port}{HOOK_PATH}")

    outcome = send(target, a_message(), timeout=0.5)

    assert outcome == DeliveryOutcome(ok=False, answer="no answer within 0.5 s")


def test_a_refused_connection_is_a_failure_without_the_path() -> None:
    target = WebhookTarget("down", f"http://127.0.0.1:{free_port()}{HOOK_PATH}?token={TOKEN}")

    outcome = send(target, a_message(), timeout=2)

    assert not outcome.ok
    assert outcome.answer.startswith("ConnectError: ")
    assert_no_secret(outcome.answer)


def test_a_webhook_url_that_is_not_http_is_not_posted() -> None:
    outcome = send(WebhookTarget("odd", f"file:///tmp/{TOKEN}"), a_message(), timeout=1)

    assert outcome == DeliveryOutcome(ok=False, answer="the webhook URL is not an http(s) URL")


def test_describe_names_the_host_only() -> None:
    slack = WebhookTarget("team-webhook", f"https://hooks.example.com{HOOK_PATH}")
    with_userinfo = WebhookTarget("x", f"https://bot:{PASSWORD}@hooks.example.com:8443/h?k={TOKEN}")
    mail = EmailTarget(
        "oncall-mail", to=("oncall@example.com",), sender="a@example.com", host="smtp.example.com"
    )

    assert describe(slack) == "team-webhook (webhook to hooks.example.com)"
    assert describe(with_userinfo) == "x (webhook to hooks.example.com:8443)"
    assert describe(mail) == "oncall-mail (email via smtp.example.com:587)"


# --- email --------------------------------------------------------------------------------


@dataclass
class Inbox:
    """An aiosmtpd handler that keeps what it accepts and refuses one domain's mailboxes."""

    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    logins: list[bytes] = field(default_factory=list)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.endswith("@nowhere.example"):
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 2.0.0 queued as ADW1"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: object
    ) -> AuthResult:
        if not isinstance(data, LoginPassword) or data != (b"adwatch", PASSWORD.encode()):
            # handled=False: aiosmtpd answers 535 itself (handled=True leaves it silent).
            return AuthResult(success=False, handled=False)
        self.logins.append(data.login)
        return AuthResult(success=True)


@pytest.fixture
def smtp_server() -> Iterator[Callable[..., tuple[Inbox, int]]]:
    controllers: list[Controller] = []

    def start(**settings: Any) -> tuple[Inbox, int]:
        inbox = Inbox()
        if settings.pop("login", False):
            settings["authenticator"] = inbox.authenticate
        port = free_port()
        controller = Controller(inbox, hostname="127.0.0.1", port=port, **settings)
        controller.start()
        controllers.append(controller)
        return inbox, port

    yield start
    for controller in controllers:
        controller.stop()


def mailbox(port: int, **changes: Any) -> EmailTarget:
    target = EmailTarget(
        name="oncall-mail",
        to=("oncall@example.com",),
        sender="adwatch@example.com",
        host="127.0.0.1",
        port=port,
        starttls=False,
    )
    return replace(target, **changes)


def login_settings() -> dict[str, Any]:
    return {"user": "adwatch", "password_env": PASSWORD_ENV}


def test_an_email_arrives_with_thai_and_burmese_intact(
    smtp_server: Callable[..., tuple[Inbox, int]],
) -> None:
    inbox, port = smtp_server()
    message = replace(a_message(), subject=f"adwatch: {THAI} {BURMESE}")

    outcome = send(mailbox(port), message, timeout=5)

    assert outcome.ok and outcome.answer == "250 2.0.0 queued as ADW1"
    [received] = inbox.messages
    assert received["Subject"] == f"adwatch: {THAI} {BURMESE}"
    assert received["From"] == "adwatch@example.com"
    assert received["To"] == "oncall@example.com"
    assert received["Message-ID"].endswith("@example.com>")
    assert received["Date"]
    assert received.get_content_type() == "text/plain"
    assert received.get_content_charset() == "utf-8"
    body = received.get_content()
    assert THAI in body and BURMESE in body
    assert body.replace("\r\n", "\n") == message.text


def test_a_subject_with_a_line_break_adds_no_header(
    smtp_server: Callable[..., tuple[Inbox, int]],
) -> None:
    inbox, port = smtp_server()
    message = replace(a_message(), subject="alert\r\nBcc: someone@elsewhere.example")

    assert send(mailbox(port), message, timeout=5).ok

    [received] = inbox.messages
    assert received["Bcc"] is None
    assert received["Subject"] == "alert Bcc: someone@elsewhere.example"
    assert inbox.recipients == [["oncall@example.com"]]


def test_login_takes_the_password_from_the_environment(
    smtp_server: Callable[..., tuple[Inbox, int]],
) -> None:
    inbox, port = smtp_server(login=True, auth_require_tls=False)

    outcome = send(
        mailbox(port, **login_settings()), a_message(), timeout=5, environ={PASSWORD_ENV: PASSWORD}
    )

    assert outcome.ok
    assert inbox.logins == [b"adwatch"] and len(inbox.messages) == 1


def test_a_wrong_password_is_refused_and_not_repeated(
    smtp_server: Callable[..., tuple[Inbox, int]],
) -> None:
    inbox, port = smtp_server(login=True, auth_require_tls=False)
    wrong = "not-the-Pa55word"

    outcome = send(
        mailbox(port, **login_settings()), a_message(), timeout=5, environ={PASSWORD_ENV: wrong}
    )

    assert not outcome.ok
    assert outcome.answer.startswith("login: 535 ")
    assert wrong not in outcome.answer
    assert inbox.messages == []


def test_a_missing_password_variable_is_named_and_nothing_is_sent(
    smtp_server: Callable[..., tuple[Inbox, int]],
) -> None:
    inbox, port = smtp_server(login=True, auth_require_tls=False)

    outcome = send(mailbox(port, **login_settings()), a_message(), timeout=5, environ={})

    assert outcome == DeliveryOutcome(
        ok=False, answer=f"the environment variable {PASSWORD_ENV} is not set"
    )
    assert inbox.messages == []


def test_a_refused_recipient_fails_the_message_for_all(
    smtp_server: Callable[..., tuple[Inbox, int]],
) -> None:
    inbox, port = smtp_server()
    target = mailbox(port, to=("oncall@example.com", "gone@nowhere.example"))

    outcome = send(target, a_message(), timeout=5)

    assert not outcome.ok
    assert outcome.answer == "RCPT TO gone@nowhere.example: 550 5.1.1 no such mailbox here"
    assert inbox.messages == []


def test_an_smtp_server_that_never_greets_fails_within_the_timeout(
    raw_server: Callable[..., RawServer],
) -> None:
    server = raw_server(never_answer)

    outcome = send(mailbox(server.port), a_message(), timeout=0.5)

    assert not outcome.ok
    assert "connecting" in outcome.answer
    assert "timed out" in outcome.answer or "no answer within 0.5 s" in outcome.answer


# --- STARTTLS, verified against a throwaway CA ---------------------------------------------


@pytest.fixture
def tls_context(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    """A server context whose certificate for 127.0.0.1 is signed by a new CA, and that
    CA's certificate in a file."""
    authority = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server)
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    return server, ca_file


def test_starttls_with_a_verified_certificate_and_login(
    smtp_server: Callable[..., tuple[Inbox, int]],
    tls_context: tuple[ssl.SSLContext, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, ca_file = tls_context
    # ssl.create_default_context() loads the default verify paths, which OpenSSL reads
    # from SSL_CERT_FILE: the client trusts the test's CA and nothing is switched off.
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    inbox, port = smtp_server(login=True, tls_context=server, require_starttls=True)
    target = mailbox(port, starttls=True, **login_settings())

    outcome = send(target, a_message(), timeout=5, environ={PASSWORD_ENV: PASSWORD})

    assert outcome.ok, outcome.answer
    assert inbox.logins == [b"adwatch"]
    assert THAI in inbox.messages[0].get_content()


def test_starttls_refuses_a_certificate_it_cannot_verify(
    smtp_server: Callable[..., tuple[Inbox, int]],
    tls_context: tuple[ssl.SSLContext, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, _ = tls_context
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    monkeypatch.setenv("SSL_CERT_FILE", str(other_ca))
    inbox, port = smtp_server(login=True, tls_context=server, require_starttls=True)
    target = mailbox(port, starttls=True, **login_settings())

    outcome = send(target, a_message(), timeout=5, environ={PASSWORD_ENV: PASSWORD})

    assert not outcome.ok
    assert outcome.answer.startswith("STARTTLS: SSLCertVerificationError: ")
    assert inbox.logins == [] and inbox.messages == []


def test_starttls_that_the_server_does_not_offer_is_no_plain_fallback(
    smtp_server: Callable[..., tuple[Inbox, int]],
) -> None:
    inbox, port = smtp_server()

    outcome = send(mailbox(port, starttls=True), a_message(), timeout=5)

    assert not outcome.ok
    assert outcome.answer.startswith("STARTTLS: SMTPNotSupportedError: ")
    assert inbox.messages == []


# --- webhooks over TLS ---------------------------------------------------------------------


def test_an_https_webhook_is_verified_and_cut_at_the_deadline_too(
    raw_server: Callable[..., RawServer],
    tls_context: tuple[ssl.SSLContext, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server_context, ca_file = tls_context
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))  # httpx reads it: trust_env is on

    def trickle_over_tls(connection: socket.socket, stop: threading.Event) -> None:
        with server_context.wrap_socket(connection, server_side=True) as secured:
            trickle_ok(secured, stop)

    server = raw_server(trickle_over_tls)
    slow = WebhookTarget("slow", f"https://127.0.0.1:{server.port}{HOOK_PATH}")
    assert send(slow, a_message(), timeout=0.5) == DeliveryOutcome(
        ok=False, answer="no answer within 0.5 s"
    )

    served = HTTPServer(host="127.0.0.1", port=0, ssl_context=server_context)
    served.expect_request(HOOK_PATH, method="POST").respond_with_data("ok")
    served.start()
    try:
        target = WebhookTarget("tls", served.url_for(HOOK_PATH))
        assert send(target, a_message(), timeout=5) == DeliveryOutcome(
            ok=True, answer="HTTP 200: ok"
        )
    finally:
        served.clear()
        served.stop()
