"""Terminal rendering with rich. Only cli.py imports this module.

Text from the web (titles, snippets, error reasons quoting a server) is untrusted:
it goes through `clean` and is passed to rich as `Text`, never as markup, so no
ANSI escape, control character or rich markup from a page reaches the terminal.
"""

from __future__ import annotations

import re
import sys

from rich.console import Console
from rich.text import Text

# C0 and C1 controls (ESC starts ANSI sequences), DEL, and the bidi overrides that
# can make a line read differently from what it is.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean(value: object) -> str:
    """`value` as text safe to show in a terminal: controls removed, tabs and newlines as spaces."""
    text = "" if value is None else str(value)
    text = text.replace("\t", " ").replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    return _UNSAFE.sub("", text)


def safe_text(value: object, style: str = "") -> Text:
    """A rich Text holding untrusted `value` literally (markup is not interpreted)."""
    return Text(clean(value), style=style)


def stdout_console() -> Console:
    return Console(highlight=False, soft_wrap=False)


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def is_terminal() -> bool:
    return sys.stdout.isatty()
