"""Imported by the scan's forkserver before it forks the workers (adwatch.workers.PRELOAD):
the Thai word list, as a set and in nlpo3's segmenter (about 170 ms and 47 MB), loaded
once and shared by every worker instead of loaded again at each worker's first Thai page.
Nothing else imports it."""

from __future__ import annotations

from adwatch.text.segment import load_thai_dictionary

load_thai_dictionary()
