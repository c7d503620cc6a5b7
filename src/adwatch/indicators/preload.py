"""Imported by the scan's forkserver before it forks the workers (adwatch.workers.PRELOAD):
the indicator finders, the public suffix list they read and libphonenumber's metadata of
the markets' countries (loaded on first use: about 10 ms a country), once for every
worker instead of once in each. Nothing else imports it."""

from __future__ import annotations

from adwatch.indicators.extract import extract_indicators

for _market in ("TH", "VN", "MM", None):
    extract_indicators("+66 81 234 5678 0912 345 678 09 7812 34567 example.co.th", market=_market)
