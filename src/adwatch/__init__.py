"""adwatch: watch South-East Asian news for advertising and monetization risk."""

from __future__ import annotations

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/adwatch/adwatch"
