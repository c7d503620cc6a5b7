"""Imported by the scan's forkserver before it forks the workers (adwatch.workers.PRELOAD):
the indicator finders and the public suffix list they read, loaded once for every
worker instead of once in each (about 80 ms a worker). Nothing else imports it."""

from __future__ import annotations

from adwatch.indicators.links import registrable_domain

registrable_domain("example.co.th")  # reads tldextract's bundled snapshot now
