"""One alert message as its targets receive it: an email subject, a plain-text body, and
the JSON a webhook is posted.

The body is a Jinja2 template (`templates/alert.txt.j2`, or the user's own from
`alerts: template:`) rendered twice: once as plain text for email, once for the webhook's
`text` field, where every `{{ value }}` also has `&`, `<` and `>` escaped as Slack's mrkdwn
asks (`&amp;` `&lt;` `&gt;`), so a headline cannot forge a link or a mention
(`<!channel>`). Links are written plainly, never as `<url|title>`: chat
apps turn a bare http(s) URL into a link, and the reader sees where it goes.

Text from the web (titles, matched text, sources, URLs) reaches the template already cut to
one line without control or bidi characters, and bounded in length. Links other than
http(s) are left out. How much one message carries:

    FULL_ALERTS      alerts written out in the text; the rest are counted ("and K more")
    DIGEST_ITEMS     top hits and emerging risks written out per digest
    PAYLOAD_ALERTS   alerts in the webhook's JSON `alerts` list; past it, `more` counts the rest
    TEXT_LIMIT       characters of text, whatever a user's template writes

The webhook JSON: `{"text": ..., "alerts": [alert.as_dict(), ...], "test": bool}` plus
`"more": K` when alerts were left out of the list; every string in it has control and
bidi characters removed, nothing else changed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from adwatch import __version__
from adwatch.errors import ConfigError, one_line
from adwatch.models import SEVERITIES, AlertMessage, Digest, HitAlert, SpikeAlert
from adwatch.text.untrusted import safe_value, strip_unsafe, terminal_line
from adwatch.text.wording import counted
from adwatch.urls import is_http_url

if TYPE_CHECKING:
    from jinja2 import Environment

FULL_ALERTS = 20
DIGEST_ITEMS = 10
# Slack keeps the first 40,000 characters of `text` and limits a request's size: a scan
# with more critical hits than this has a problem no message will fix.
PAYLOAD_ALERTS = 100
TEXT_LIMIT = 30_000
SUBJECT_LIMIT = 150
# Characters of one field in the text; the JSON keeps the whole value.
TITLE_LIMIT = 300
MATCHED_LIMIT = 200
LINE_LIMIT = 500  # the `why` of a spike, a source's name, anything else
LINK_LIMIT = 2000

TEMPLATE_NAME = "alert.txt.j2"


@dataclass(frozen=True)
class RenderedMessage:
    """What the targets of one message are sent."""

    subject: str  # one line of our own words and counts: no text from the web
    text: str  # the template rendered as plain text: the email's body
    payload: dict[str, Any]  # the webhook's JSON; its `text` is escaped for Slack


def render_message(message: AlertMessage, *, template: str | None = None) -> RenderedMessage:
    """`message` as an email subject and body and a webhook's JSON, rendered with the
    default template or with `template`, a user's own template text.

    A user's template that does not parse or names a variable that does not exist raises
    ConfigError (field `alerts.template`).
    """
    context = _template_context(message)
    text = _render(context, template, slack=False)
    slack_text = _render(context, template, slack=True)
    alerts = message.alerts[:PAYLOAD_ALERTS]
    payload: dict[str, Any] = {
        "text": slack_text,
        "alerts": [safe_value(alert.as_dict()) for alert in alerts],
        "test": message.test,
    }
    if len(message.alerts) > len(alerts):
        payload["more"] = len(message.alerts) - len(alerts)
    return RenderedMessage(subject=message_subject(message), text=text, payload=payload)


def message_subject(message: AlertMessage) -> str:
    """One line that counts what `message` carries: "adwatch: 2 critical hits, 1 emerging risk"."""
    hits = sum(isinstance(alert, HitAlert) for alert in message.alerts)
    spikes = sum(isinstance(alert, SpikeAlert) for alert in message.alerts)
    digests = [alert for alert in message.alerts if isinstance(alert, Digest)]
    parts = []
    if message.test:
        parts.append("test message")
    if hits:
        parts.append(counted(hits, "critical hit"))
    if spikes:
        parts.append(counted(spikes, "emerging risk"))
    if len(digests) == 1:
        parts.append(f"digest for {digests[0].day}: {counted(digests[0].hits, 'hit')}")
    elif digests:
        parts.append(counted(len(digests), "digest"))
    subject = "adwatch: " + ", ".join(parts) if parts else "adwatch: no alerts"
    return _line(subject, SUBJECT_LIMIT)


def slack_escape(text: str) -> str:
    """`text` with the three characters Slack's mrkdwn reads as markup escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- what the template sees ------------------------------------------------------------


def _template_context(message: AlertMessage) -> dict[str, Any]:
    import platform

    written = message.alerts[:FULL_ALERTS]
    return {
        "test": message.test,
        "host": _line(platform.node() or "an unnamed host"),
        "version": __version__,
        "total": len(message.alerts),
        "more": len(message.alerts) - len(written),
        "hits": [_hit_view(alert) for alert in written if isinstance(alert, HitAlert)],
        "spikes": [_spike_view(alert) for alert in written if isinstance(alert, SpikeAlert)],
        "digests": [_digest_view(alert) for alert in written if isinstance(alert, Digest)],
    }


def _hit_view(hit: HitAlert) -> dict[str, Any]:
    return {
        "hit_id": hit.hit_id,
        "severity": _line(hit.severity),
        "watchlist": _line(hit.watchlist),
        "title": _line(hit.title, TITLE_LIMIT),
        "source": _line(hit.source),
        "market": _line(hit.market),
        "language": _line(hit.language or ""),
        "matched_text": _line(hit.matched_text, MATCHED_LIMIT),
        "url": _link(hit.url),
        "found_at": _line(hit.found_at),
        "published_at": _line(hit.published_at or ""),
        "event": _line(hit.event or ""),
    }


def _spike_view(spike: SpikeAlert) -> dict[str, Any]:
    return {
        "watchlist": _line(spike.watchlist),
        "market": _line(spike.market),
        "day": _line(spike.day),
        "observed": spike.observed,
        "expected": spike.expected,
        "p_value": spike.p_value,
        "why": _line(spike.why),
        "baseline_days": spike.baseline_days,
        "articles": spike.articles,
        "stories": list(spike.stories),
    }


def _digest_view(digest: Digest) -> dict[str, Any]:
    top = digest.top[:DIGEST_ITEMS]
    spikes = digest.spikes[:DIGEST_ITEMS]
    by_severity = [
        [severity, digest.by_severity[severity]]
        for severity in reversed(SEVERITIES)
        if digest.by_severity.get(severity)
    ]
    return {
        "day": _line(digest.day),
        "since": _line(digest.since),
        "hits": digest.hits,
        "stories": digest.stories,
        "by_severity": by_severity,
        "top": [_hit_view(hit) for hit in top],
        "spikes": [_spike_view(spike) for spike in spikes],
        "more_top": len(digest.top) - len(top),
        "more_spikes": len(digest.spikes) - len(spikes),
    }


def _line(value: object, limit: int = LINE_LIMIT) -> str:
    """`value` as one safe line of at most `limit` characters, runs of spaces as one."""
    return one_line(terminal_line(value), limit)


def _link(url: str) -> str:
    """An http(s) URL as one line with no space in it; "" for any other kind of link."""
    text = terminal_line(url).strip().replace(" ", "%20")
    if not is_http_url(text):
        return ""
    return text if len(text) <= LINK_LIMIT else text[: LINK_LIMIT - 1] + "…"


# --- rendering --------------------------------------------------------------------------


def _render(context: dict[str, Any], template: str | None, *, slack: bool) -> str:
    from jinja2 import TemplateError, TemplateSyntaxError

    env = _environment()
    try:
        compiled = (
            env.get_template(TEMPLATE_NAME) if template is None else env.from_string(template)
        )
        text = compiled.render(context, slack=slack)
    except TemplateSyntaxError as exc:
        raise ConfigError(f"{exc.message} (line {exc.lineno})", field="alerts.template") from exc
    except TemplateError as exc:
        raise ConfigError(terminal_line(exc.message), field="alerts.template") from exc
    text = text.strip() + "\n"
    if len(text) > TEXT_LIMIT:
        text = text[: TEXT_LIMIT - 2] + "…\n"
    return text


@functools.cache
def _environment() -> Environment:
    # Imported here: a scan that sends nothing does not pay for Jinja2 at its start.
    from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context

    @pass_context
    def finalize(context: Any, value: Any) -> str:
        # Every {{ value }} passes here, a user's template's too: no control or bidi
        # characters anywhere, and Slack's markup characters escaped in a webhook's text.
        if value is None:
            return ""
        # A list or dict printed whole holds titles too: its text is escaped as well.
        safe = strip_unsafe(value if isinstance(value, str) else str(value))
        return slack_escape(safe) if context.get("slack") else safe

    return Environment(
        loader=PackageLoader("adwatch", "templates"),
        autoescape=False,  # plain text: Slack's escaping is done by `finalize`
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=finalize,
    )
