"""`adwatch rules test`: every watchlist's `examples:` checked as a scan would match them.

Each example text goes through the scan's own stages for a text: control characters
removed, Zawgyi converted, the language detected, then the one automaton of every
watchlist with its normalisation and its word and syllable boundaries. An example under
`match` must give the watchlist a hit; one under `no_match` must not. The semantic part
of a watchlist is not asked (it needs the model and the store's background; docs/
matching.md, "Testing a watchlist"): examples test the keyword rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from adwatch.errors import UsageError
from adwatch.models import Example, Match, Watchlist


@dataclass(frozen=True)
class ExampleResult:
    """One example and what the watchlist did with it."""

    watchlist: str
    example: Example
    should_match: bool
    language: str | None
    hits: tuple[Match, ...]  # the watchlist's hits in the example

    @property
    def passed(self) -> bool:
        return bool(self.hits) == self.should_match


def run_examples(
    watchlists: Sequence[Watchlist], *, only: Sequence[str] = ()
) -> list[ExampleResult]:
    """Check the examples of `watchlists` (of the `only` ones, when given), in config order."""
    from adwatch.match import Matcher
    from adwatch.text.language import detect_language
    from adwatch.text.untrusted import strip_unsafe
    from adwatch.text.zawgyi import fix_zawgyi

    known = {w.name for w in watchlists}
    for name in only:
        if name not in known:
            raise UsageError(f"no watchlist named {name!r}", field="watchlist")
    chosen = [w for w in watchlists if w.examples and (not only or w.name in only)]
    # One automaton for them all, as in a scan; each example asks only its own watchlist.
    matcher = Matcher.build(watchlists)
    results = []
    for watchlist in chosen:
        assert watchlist.examples is not None
        # A watchlist limited to some markets is asked in the first of them.
        market = watchlist.markets[0] if watchlist.markets else ""
        cases = [(e, True) for e in watchlist.examples.match]
        cases += [(e, False) for e in watchlist.examples.no_match]
        for example, should_match in cases:
            text, _ = fix_zawgyi(strip_unsafe(example.text))
            language = detect_language(text, title="", hint=None)
            found = matcher.match_article(text, market=market, language=language)
            hits = tuple(m for m in found.matches if m.watchlist == watchlist.name)
            results.append(ExampleResult(watchlist.name, example, should_match, language, hits))
    return results
