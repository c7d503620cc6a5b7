"""Sending one rendered alert message to one target, once: a webhook POST or an email.

`send` never raises for the network or the server: every failure comes back as a
DeliveryOutcome with ok False and what the server answered, or what went wrong, in one
line. Retrying is the caller's business (the deliveries table, `alerts --test`).

No secret reaches an answer or `describe`: a webhook is named by its host only
(a Slack hook's path is its token), URLs in error messages are cut to scheme://host, the
webhook's path and query are scrubbed from whatever a server says back, and the SMTP
password is read from the environment at login and scrubbed from every answer too.

Each send has a total deadline of `timeout` seconds. httpx and smtplib bound each socket
operation only, so a receiver that trickles a byte at a time could hold a scan for ever;
a watchdog thread shuts the connection down when the whole exchange outlasts the
deadline. What it cannot cut is a slow name lookup, which the system's resolver bounds.
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from adwatch.alerts.messages import RenderedMessage
from adwatch.errors import one_line
from adwatch.models import (
    AlertTarget,
    DeliveryOutcome,
    EmailTarget,
    WebhookTarget,
    default_user_agent,
)
from adwatch.text.untrusted import terminal_line
from adwatch.urls import redact_urls

if TYPE_CHECKING:
    import smtplib
    from email.message import EmailMessage

ANSWER_BODY_CHARS = 200  # of a webhook's answer, in the outcome
ANSWER_READ_BYTES = 4096  # read of the answer's body; the rest is never downloaded
ANSWER_LIMIT = 500  # characters of any answer
HIDDEN = "***"
# Path segments and query values this long are scrubbed one by one too: a token.
_TOKEN_LENGTH = 16


def send(
    target: AlertTarget,
    message: RenderedMessage,
    *,
    timeout: float = 10.0,
    environ: Mapping[str, str] | None = None,
) -> DeliveryOutcome:
    """How `target` answered `message`, sent once within `timeout` seconds in all.

    `environ` is where an email target's password variable is looked up (os.environ
    when None).
    """
    if isinstance(target, WebhookTarget):
        return _post_webhook(target, message, timeout)
    return _send_email(target, message, timeout, os.environ if environ is None else environ)


def describe(target: AlertTarget) -> str:
    """`target` as output names it: "team-webhook (webhook to hooks.example.com)",
    "oncall-mail (email via smtp.example.com:587)"; never a webhook's path or query."""
    name = terminal_line(target.name)
    if isinstance(target, WebhookTarget):
        origin = _host_port(target.url)
        return f"{name} (webhook to {origin})" if origin else f"{name} (webhook)"
    return f"{name} (email via {terminal_line(target.host)}:{target.port})"


def _host_port(url: str) -> str:
    """The host (and a port written in it) of `url`: no userinfo, path or query; "" if none."""
    try:
        parts = urlsplit(terminal_line(url).strip())
        host, port = parts.hostname, parts.port
    except ValueError:  # a port that is not a number
        return ""
    if not host:
        return ""
    shown = f"[{host}]" if ":" in host else host
    return f"{shown}:{port}" if port is not None else shown


def _origin(url: str, base: str | None = None) -> str:
    """scheme://host[:port] of `url` (resolved against `base`), or "a URL" without a host."""
    try:
        absolute = urljoin(base, url) if base else url
        scheme = urlsplit(terminal_line(absolute).strip()).scheme.lower()
    except ValueError:  # a bracketed host left open
        return "a URL"
    host = _host_port(absolute)
    return f"{scheme}://{host}" if scheme and host else "a URL"


def _one_line(text: str, secrets: Iterable[str], limit: int = ANSWER_LIMIT) -> str:
    """`text` as one safe line with every URL cut to its origin and every secret hidden
    (before the line is cut to `limit`, so no secret is left half shown)."""
    line = redact_urls(terminal_line(text), redact=_origin)
    # Longest first: a token inside the path is hidden with the path, not left half shown.
    for secret in sorted(set(secrets), key=len, reverse=True):
        if secret:
            line = line.replace(secret, HIDDEN)
    return one_line(line, limit)


def _url_secrets(url: str) -> list[str]:
    """The parts of a webhook URL that may be its token: path, query, long segments."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return [url]
    secrets = [url, parts.path, parts.query, parts.password or ""]
    pieces = parts.path.split("/") + re.split(r"[&=]", parts.query)
    secrets += [piece for piece in pieces if len(piece) >= _TOKEN_LENGTH]
    return [secret for secret in secrets if len(secret) > 1]


class _Deadline:
    """Shuts down the socket `current_socket()` returns if it is still in use `seconds`
    after the block began: the bound on the whole exchange that per-read timeouts lack.

    The connection is cut with `shutdown`, not closed: the thread that reads it gets an
    end of stream or an error at once, and closes it itself as usual.
    """

    def __init__(self, seconds: float, current_socket: Callable[[], socket.socket | None]) -> None:
        self.expired = False
        self._current_socket = current_socket
        self._lock = threading.Lock()
        self._finished = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        # Under the lock: once this returns, the watchdog never touches the socket again.
        with self._lock:
            self._finished = True
        self._timer.cancel()

    def _expire(self) -> None:
        with self._lock:
            if self._finished:
                return
            self.expired = True
            sock = self._current_socket()
            if sock is None:
                return
            try:
                # The plain socket's shutdown, also for a TLS socket: SSLSocket's own
                # drops its TLS state under the reading thread's feet.
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:  # closed already, or never connected
                pass


# --- webhooks ---------------------------------------------------------------------------


def _post_webhook(
    target: WebhookTarget, message: RenderedMessage, timeout: float
) -> DeliveryOutcome:
    # Imported here: a scan with no webhook target does not load httpx for it.
    from adwatch._httpx import httpx

    url = target.url.strip()
    secrets = _url_secrets(url)
    if urlsplit(url).scheme.lower() not in ("http", "https") or not _host_port(url):
        return DeliveryOutcome(ok=False, answer="the webhook URL is not an http(s) URL")
    body = json.dumps(message.payload, ensure_ascii=False).encode("utf-8")
    headers = {
        "User-Agent": default_user_agent(),
        "Content-Type": "application/json; charset=utf-8",
    }
    streams: list[Any] = []  # the connection's network streams, TCP then TLS

    def trace(event: str, info: dict[str, Any]) -> None:
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            streams.append(info["return_value"])

    def current_socket() -> socket.socket | None:
        return streams[-1].get_extra_info("socket") if streams else None

    deadline = _Deadline(timeout, current_socket)
    try:
        # The deadline's block ends before the client's, so the watchdog is done with
        # the socket before httpx closes it.
        with httpx.Client(timeout=timeout, follow_redirects=False) as client, deadline:
            request = client.build_request(
                "POST", url, content=body, headers=headers, extensions={"trace": trace}
            )
            response = client.send(request, stream=True)
            try:
                answer = _read_head(response.iter_bytes())
            finally:
                response.close()
    except httpx.TimeoutException as exc:
        return DeliveryOutcome(
            ok=False, answer=f"no answer within {timeout:g} s ({type(exc).__name__})"
        )
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        if deadline.expired:
            return DeliveryOutcome(ok=False, answer=f"no answer within {timeout:g} s")
        return DeliveryOutcome(ok=False, answer=_one_line(f"{type(exc).__name__}: {exc}", secrets))
    status = response.status_code
    if 300 <= status < 400:
        location = response.headers.get("location")
        where = _origin(location, base=url) if location else "nowhere"
        return DeliveryOutcome(
            ok=False, answer=f"HTTP {status}: redirected to {where}; adwatch follows no redirect"
        )
    text = _one_line(answer, secrets, ANSWER_BODY_CHARS)
    return DeliveryOutcome(
        ok=200 <= status < 300, answer=f"HTTP {status}: {text}" if text else f"HTTP {status}"
    )


def _read_head(chunks: Iterable[bytes]) -> str:
    """The first ANSWER_READ_BYTES of a body as text; the rest is never read."""
    head = b""
    for chunk in chunks:
        head += chunk
        if len(head) >= ANSWER_READ_BYTES:
            break
    return head[:ANSWER_READ_BYTES].decode("utf-8", errors="replace")


# --- email ------------------------------------------------------------------------------
# smtplib, ssl and email are imported where a message is sent: 20 ms of a scan's start
# otherwise, for a scan that may have no email target or nothing to send.


def _send_email(
    target: EmailTarget, message: RenderedMessage, timeout: float, environ: Mapping[str, str]
) -> DeliveryOutcome:
    import smtplib

    password = None
    if target.user is not None:
        if not target.password_env:
            return DeliveryOutcome(ok=False, answer="a user is set but no password_env")
        password = environ.get(target.password_env)
        if password is None:
            return DeliveryOutcome(
                ok=False,
                answer=f"the environment variable {terminal_line(target.password_env)} is not set",
            )
    secrets = [password] if password else []
    try:
        email = _email_message(target, message)
    except ValueError as exc:  # an address that cannot be a header
        return DeliveryOutcome(ok=False, answer=_one_line(f"not sent: {exc}", secrets))
    # An explicit EHLO name: smtplib would look up this host's FQDN in DNS first,
    # outside any timeout.
    smtp = smtplib.SMTP(timeout=timeout, local_hostname=socket.gethostname() or "localhost")
    step = _Step("connecting")
    deadline = _Deadline(timeout, lambda: smtp.sock)
    try:
        with deadline:
            outcome = _converse(smtp, target, email, password, step)
    except smtplib.SMTPResponseException as exc:
        reply = _reply_text(exc.smtp_error)
        outcome = DeliveryOutcome(ok=False, answer=f"{step.name}: {exc.smtp_code} {reply}")
    except UnicodeError:
        # Never the exception's text: it quotes the characters, maybe of the password.
        outcome = DeliveryOutcome(
            ok=False, answer=f"{step.name}: a value has characters SMTP cannot carry"
        )
    except OSError as exc:  # smtplib's other errors, the socket's and TLS's
        if deadline.expired:
            answer = f"no answer within {timeout:g} s ({step.name})"
        else:
            answer = f"{step.name}: {type(exc).__name__}: {exc}"
        outcome = DeliveryOutcome(ok=False, answer=answer)
    finally:
        smtp.close()
    # Whatever the server said, the password is not repeated (a server may echo it).
    return DeliveryOutcome(ok=outcome.ok, answer=_one_line(outcome.answer, secrets))


@dataclass
class _Step:
    """Where an SMTP conversation is, for the answer when it fails there."""

    name: str


def _converse(
    smtp: smtplib.SMTP,
    target: EmailTarget,
    email: EmailMessage,
    password: str | None,
    step: _Step,
) -> DeliveryOutcome:
    """One message through one SMTP session; errors of smtplib and the socket propagate."""
    import smtplib
    import ssl

    code, reply = smtp.connect(target.host, target.port)
    if code != 220:
        raise smtplib.SMTPConnectError(code, reply)
    # The name STARTTLS checks the certificate against: SMTP(host) would set it, but
    # reads the greeting before the deadline can see the socket, and connect() does not.
    smtp._host = target.host  # type: ignore[attr-defined]  # stdlib: starttls() reads it
    step.name = "EHLO"
    smtp.ehlo_or_helo_if_needed()
    if target.starttls:
        # Never a plain fallback: a server that does not offer STARTTLS is a failure.
        step.name = "STARTTLS"
        smtp.starttls(context=ssl.create_default_context())
        smtp.ehlo_or_helo_if_needed()
    if target.user is not None and password is not None:
        step.name = "login"
        smtp.login(target.user, password)
    step.name = "MAIL FROM"
    code, reply = smtp.mail(_address(target.sender))
    if code != 250:
        return _refused(smtp, f"MAIL FROM: {code} {_reply_text(reply)}")
    # All recipients or none: a message half delivered would be sent twice on a retry.
    for recipient in target.to:
        step.name = "RCPT TO"
        code, reply = smtp.rcpt(_address(recipient))
        if code not in (250, 251):
            return _refused(smtp, f"RCPT TO {recipient}: {code} {_reply_text(reply)}")
    step.name = "DATA"
    code, reply = smtp.data(email.as_bytes())
    if code != 250:
        return _refused(smtp, f"DATA: {code} {_reply_text(reply)}")
    step.name = "QUIT"
    try:
        smtp.quit()
    except OSError:
        pass  # the message was accepted: how the session ends does not change that
    return DeliveryOutcome(ok=True, answer=f"{code} {_reply_text(reply)}")


def _refused(smtp: smtplib.SMTP, answer: str) -> DeliveryOutcome:
    try:
        smtp.rset()
    except OSError:
        pass  # the session is closed next anyway
    return DeliveryOutcome(ok=False, answer=answer)


def _reply_text(reply: bytes | str) -> str:
    return reply.decode("utf-8", errors="replace") if isinstance(reply, bytes) else reply


def _address(value: str) -> str:
    """The bare address of `value` ("Team <a@b.example>" -> "a@b.example")."""
    from email.utils import parseaddr

    return parseaddr(value)[1] or value


def _email_message(target: EmailTarget, message: RenderedMessage) -> EmailMessage:
    """The email for `message`; ValueError for an address that cannot be a header."""
    from email.message import EmailMessage
    from email.policy import SMTP
    from email.utils import formatdate, make_msgid

    # Headers folded and encoded for SMTP (RFC 2047 words for Thai and Burmese, CRLF);
    # the body in quoted-printable or base64, whichever is shorter: no 8BITMIME needed.
    email = EmailMessage(policy=SMTP.clone(cte_type="7bit"))
    # One line whatever the caller made: a subject with a line break would add headers.
    email["Subject"] = _one_line(message.subject, (), limit=200)
    email["From"] = target.sender
    email["To"] = ", ".join(target.to)
    email["Date"] = formatdate(usegmt=True)
    # The sender's domain, not this host's: make_msgid would otherwise look it up in DNS.
    domain = _address(target.sender).rpartition("@")[2] or "adwatch.invalid"
    email["Message-ID"] = make_msgid(domain=domain)
    email.set_content(message.text, charset="utf-8")
    return email
