"""httpx, imported without its command-line client: `from adwatch._httpx import httpx`.

httpx's __init__ tries `from ._main import main`, its own CLI, which imports click, rich
and pygments: about 35 ms of every scan's start (benchmarks/README.md, the re-run), for
a `main` adwatch never calls. httpx falls back to a stub when that import fails, so the
module is marked missing while httpx loads, then unmarked: whoever imports `httpx._main`
later gets it as usual. Only the first import of httpx in a process is affected.
"""

from __future__ import annotations

import sys

_CLI = "httpx._main"
_marked = "httpx" not in sys.modules and _CLI not in sys.modules
if _marked:
    sys.modules[_CLI] = None  # type: ignore[assignment]  # the import fails at once
try:
    import httpx
finally:
    if _marked:
        del sys.modules[_CLI]

__all__ = ["httpx"]
