"""Whether a watchlist's day in a market stands out from its own trailing baseline.

What is counted is the articles of one market with at least one hit of one watchlist
on a UTC day; the denominator is the articles scanned in that market that day. The
test compares rates, not counts, so a day on which a feed was down or doubled brings
fewer or more hits with it and is not a spike.

    baseline    the `baseline_days` days before the tested day and its `gap_days`,
                less the days no article was scanned and the `drop_top` days of
                highest rate
    expected    the baseline's hits per article scanned x the day's articles scanned
    dispersion  negative-binomial size k, by the method of moments on the baseline
                with each day's own expected count; Poisson when the baseline varies
                no more than Poisson counts do
    p-value     P(X >= observed) for X negative binomial (or Poisson) with that mean
    flagged     observed >= min_count and p-value < p_value

docs/spikes.md explains each default and gives the false alarms a year and the share
of spikes caught, measured by benchmarks/spikes.py.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from adwatch.text.wording import counted

# A baseline without a single hit would expect 0 and make any hit infinitely unlikely.
# It is read as if half an article with a hit had been seen over its articles scanned
# (the usual continuity correction): three hits on a day then still give a tiny but
# finite p-value, and more articles scanned in the baseline make it tinier.
ZERO_BASELINE_HITS = 0.5

# The method of moments on three or four weeks of small counts is noisy: one quiet week
# and one busy one can make the variance look many times the mean. k = 1 (variance
# mean + mean², the geometric distribution) is already a very bursty series; a smaller
# estimate would make a clear spike unremarkable, so it is raised to 1.
DISPERSION_FLOOR = 1.0
# Above this the extra variance (mean² / k) is under a millionth of the mean² and the
# test is Poisson's; the cut also keeps lgamma(k) small enough for the tail to keep
# its precision.
DISPERSION_CEILING = 1e6


@dataclass(frozen=True)
class SpikeSettings:
    """How a day is tested (docs/spikes.md gives the reason for each default)."""

    baseline_days: int = 28  # trailing days the baseline is drawn from
    gap_days: int = 2  # days just before the tested day left out (a spike's own start)
    drop_top: int = 3  # the highest baseline days dropped (earlier spikes do not inflate it)
    min_count: int = 3  # a day with fewer is never flagged
    p_value: float = 0.001
    min_baseline_days: int = 7  # fewer baseline days with articles scanned: no test
    # False: always Poisson. Real daily counts are overdispersed; this is for comparison.
    overdispersion: bool = True

    def __post_init__(self) -> None:
        for name in ("baseline_days", "min_baseline_days"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: must be at least 1: {getattr(self, name)!r}")
        for name in ("gap_days", "drop_top", "min_count"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}: must not be negative: {getattr(self, name)!r}")
        if self.min_baseline_days > self.baseline_days:
            raise ValueError(
                f"min_baseline_days: must be at most baseline_days ({self.baseline_days}): "
                f"{self.min_baseline_days!r}"
            )
        if not 0 < self.p_value <= 1:
            raise ValueError(f"p_value: must be in (0, 1]: {self.p_value!r}")


@dataclass(frozen=True)
class SpikeTest:
    """One day tested against its baseline, with the figures an analyst checks."""

    observed: int
    expected: float  # baseline rate x the day's articles scanned
    p_value: float  # P(X >= observed) under the fitted distribution
    dispersion: float | None  # negative-binomial size k; None: no overdispersion (Poisson)
    baseline_days: int  # days actually used
    baseline_rate: float  # hits per article scanned in the baseline (a day, without articles)
    articles: int  # the day's articles scanned (1 when no denominator was given)
    flagged: bool
    why: str  # one line: the figures, and why not when not flagged


def test_day(
    counts: Sequence[int],
    articles: Sequence[int] | None,
    day: int,
    settings: SpikeSettings = SpikeSettings(),
) -> SpikeTest | None:
    """Test counts[day] against its trailing baseline.

    `articles[i]` is the number of articles scanned on day i; None weighs every day
    alike. Returns None when the day cannot be tested: no article scanned that day, or
    fewer than `min_baseline_days` baseline days with articles scanned.
    """
    _check_series(counts, articles, day)
    scanned = [1] * len(counts) if articles is None else articles
    if scanned[day] == 0:
        return None
    baseline = _baseline(counts, scanned, day, settings)
    if baseline is None:
        return None
    hits = sum(count for count, _ in baseline)
    baseline_articles = sum(exposure for _, exposure in baseline)
    rate = max(hits, ZERO_BASELINE_HITS) / baseline_articles
    expected = rate * scanned[day]
    # A baseline without hits has no variance to read: Poisson.
    dispersion = _dispersion(baseline, rate) if settings.overdispersion and hits > 0 else None
    observed = counts[day]
    if dispersion is None:
        p_value = poisson_tail(observed, expected)
    else:
        p_value = negative_binomial_tail(observed, expected, dispersion)
    flagged = observed >= settings.min_count and p_value < settings.p_value
    figures = _figures(
        p_value,
        dispersion,
        days=len(baseline),
        quiet=hits == 0,
        articles=None if articles is None else scanned[day],
    )
    return SpikeTest(
        observed=observed,
        expected=expected,
        p_value=p_value,
        dispersion=dispersion,
        baseline_days=len(baseline),
        baseline_rate=rate,
        articles=scanned[day],
        flagged=flagged,
        why=_why(observed, expected, figures, flagged, settings),
    )


def test_series(
    counts: Sequence[int],
    articles: Sequence[int] | None,
    settings: SpikeSettings = SpikeSettings(),
) -> list[SpikeTest | None]:
    """`test_day` for every day of the series, oldest first."""
    return [test_day(counts, articles, day, settings) for day in range(len(counts))]


def _check_series(counts: Sequence[int], articles: Sequence[int] | None, day: int) -> None:
    if articles is not None and len(articles) != len(counts):
        raise ValueError(
            f"articles: must have one value per day of counts ({len(counts)}): {len(articles)!r}"
        )
    if not 0 <= day < len(counts):
        raise ValueError(f"day: not a day of the series (0 to {len(counts) - 1}): {day!r}")
    if counts[day] < 0 or (articles is not None and articles[day] < 0):
        raise ValueError(f"day {day}: counts and articles must not be negative")


def _baseline(
    counts: Sequence[int], scanned: Sequence[int], day: int, settings: SpikeSettings
) -> list[tuple[int, int]] | None:
    """(count, articles scanned) of the baseline days the test uses, or None if too few."""
    last = day - settings.gap_days  # exclusive
    first = max(0, last - settings.baseline_days)
    days = []
    for i in range(first, max(first, last)):
        count, exposure = counts[i], scanned[i]
        if count < 0 or exposure < 0:
            raise ValueError(
                f"day {i}: counts and articles must not be negative: {count!r}, {exposure!r}"
            )
        if exposure > 0:  # no article scanned: a feed was down, not a quiet day
            days.append((count, exposure))
    if len(days) < settings.min_baseline_days:
        return None
    # The top days go, but never below min_baseline_days: seven days with three of them
    # cut would leave a baseline of four.
    drop = min(settings.drop_top, len(days) - settings.min_baseline_days)
    if drop > 0:
        # By rate, so a day with twice the articles and twice the hits is not "high".
        days = sorted(days, key=lambda entry: entry[0] / entry[1])[:-drop]
    return days


def _dispersion(baseline: list[tuple[int, int]], rate: float) -> float | None:
    """Negative-binomial size k of the baseline, or None when it shows no overdispersion.

    Day i's count has mean m_i = rate x its articles and, if negative binomial,
    variance m_i + m_i² / k. Matching the sum of squared deviations to the sum of those
    variances gives 1/k = (sum (c_i - m_i)² x n/(n-1) - sum m_i) / sum m_i²: the day's
    own mean is used, so a day with more articles is allowed more hits, not counted as
    variance. (n/(n-1): the rate was estimated from the same days.)
    """
    n = len(baseline)
    if n < 2:
        return None
    means = [rate * exposure for _, exposure in baseline]
    squares = sum((count - mean) ** 2 for (count, _), mean in zip(baseline, means, strict=True))
    excess = squares * n / (n - 1) - sum(means)
    if excess <= 0:
        return None
    size = sum(mean * mean for mean in means) / excess
    if size > DISPERSION_CEILING:
        return None
    return max(size, DISPERSION_FLOOR)


# --- tails ------------------------------------------------------------------------------

# Sums and continued fractions stop when the next step changes the result by less than
# this share of it: below double precision's own rounding.
_PRECISION = 1e-15
# The continued fraction takes about the square root of its larger parameter in steps;
# this bounds it for counts in the hundreds of thousands.
_MAX_STEPS = 20_000
_TINY = 1e-300  # stands in for a zero denominator in Lentz's method


def poisson_tail(observed: int, mean: float) -> float:
    """P(X >= observed) for X Poisson with this mean."""
    _check_tail(observed, mean)
    if observed <= 0:
        return 1.0
    if mean == 0:
        return 0.0
    if observed > mean:
        # Past the mean each term is a smaller share of the one before (mean / (j + 1)),
        # so summing upwards from `observed` converges, and a tiny tail keeps its
        # precision (1 minus the rest would lose it).
        term = math.exp(observed * math.log(mean) - mean - math.lgamma(observed + 1))
        total, j = term, observed
        while term > 0:
            ratio = mean / (j + 1)
            term *= ratio
            total += term
            j += 1
            if term * ratio / (1 - ratio) <= total * _PRECISION:
                break
        return min(total, 1.0)
    # At or below the mean the tail is at least about a half: 1 minus the few terms below
    # `observed`, summed downwards (each j / mean of the one above) until negligible.
    j = observed - 1
    term = math.exp(j * math.log(mean) - mean - math.lgamma(j + 1))
    below = term
    while j > 0 and term > below * _PRECISION:
        term *= j / mean
        below += term
        j -= 1
    return max(0.0, 1.0 - below)


def negative_binomial_tail(observed: int, mean: float, size: float) -> float:
    """P(X >= observed) for X negative binomial with this mean and size k (variance
    mean + mean² / k); an infinite size is Poisson."""
    _check_tail(observed, mean)
    if not size > 0:
        raise ValueError(f"size: must be positive: {size!r}")
    if math.isinf(size):
        return poisson_tail(observed, mean)
    if observed <= 0:
        return 1.0
    if mean == 0:
        return 0.0
    # X counts failures before the k-th success of chance p = k / (k + mean), so
    # P(X <= x - 1) = I_p(k, x) and P(X >= x) = I_q(x, k) with q = 1 - p: the
    # regularized incomplete beta function. 1 - p is formed as mean / (k + mean), not
    # subtracted, so it stays exact when p is close to 1.
    total = size + mean
    return _incomplete_beta(mean / total, size / total, observed, size)


def _check_tail(observed: int, mean: float) -> None:
    if not (mean >= 0 and math.isfinite(mean)):
        raise ValueError(f"mean: must be a finite number, 0 or more: {mean!r}")
    if observed < 0:
        raise ValueError(f"observed: must not be negative: {observed!r}")


def _incomplete_beta(x: float, y: float, a: float, b: float) -> float:
    """I_x(a, b), with y = 1 - x given by the caller to keep its precision."""
    log_front = a * math.log(x) + b * math.log(y) + math.lgamma(a + b)
    log_front -= math.lgamma(a) + math.lgamma(b)
    # The continued fraction converges fast for x below about a / (a + b), the mean of
    # a Beta(a, b); above it, I_x(a, b) = 1 - I_y(b, a) is computed instead.
    if x < (a + 1) / (a + b + 2):
        return min(1.0, math.exp(log_front) * _beta_fraction(x, a, b) / a)
    return max(0.0, 1.0 - math.exp(log_front) * _beta_fraction(y, b, a) / b)


def _beta_fraction(x: float, a: float, b: float) -> float:
    """1 / (1 + d1 / (1 + d2 / (1 + ...))), the continued fraction of I_x(a, b) (DLMF
    8.17.22), by the modified Lentz method:

        d(2i+1) = -(a + i)(a + b + i) x / ((a + 2i)(a + 2i + 1))
        d(2i)   = i (b - i) x / ((a + 2i - 1)(a + 2i))
    """
    # Each step's numerator: 1, then d1, d2, ...; every partial denominator is 1.
    value = _TINY
    c, d = value, 0.0
    for step in range(1, 2 * _MAX_STEPS):
        if step == 1:
            numerator = 1.0
        elif step % 2 == 0:  # d(2i+1), i = step / 2 - 1
            i = step // 2 - 1
            numerator = -(a + i) * (a + b + i) * x / ((a + 2 * i) * (a + 2 * i + 1))
        else:  # d(2i), i = (step - 1) / 2
            i = (step - 1) // 2
            numerator = i * (b - i) * x / ((a + 2 * i - 1) * (a + 2 * i))
        d = 1.0 + numerator * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + numerator / c
        c = c if abs(c) > _TINY else _TINY
        change = c * d
        value *= change
        if abs(change - 1.0) < _PRECISION:
            break
    return value


# --- the analyst's line -----------------------------------------------------------------


def _why(
    observed: int,
    expected: float,
    figures: str,
    flagged: bool,
    settings: SpikeSettings,
) -> str:
    against = f"{counted(observed, 'article')} against {_number(expected)} expected"
    if flagged:
        return f"{against} ({figures})"
    if observed < settings.min_count:
        return f"not flagged: fewer than {settings.min_count}: {against} ({figures})"
    return f"not flagged: p not below {settings.p_value:g}: {against} ({figures})"


def _figures(
    p_value: float, dispersion: float | None, *, days: int, quiet: bool, articles: int | None
) -> str:
    model = "Poisson" if dispersion is None else f"negative binomial k = {_number(dispersion)}"
    baseline = f"{days} baseline days" + (" without a hit" if quiet else "")
    scanned = "" if articles is None else f", {counted(articles, 'article')} scanned"
    return f"p = {_p_value(p_value)}, {model}, {baseline}{scanned}"


def _number(value: float) -> str:
    """Two significant figures at most below 10, whole numbers above."""
    if value >= 10:
        return f"{value:.0f}"
    if value >= 1:
        return f"{value:.1f}"
    return f"{value:.2g}"


def _p_value(p: float) -> str:
    """Two significant figures, as decimals down to a millionth: 0.12, 0.0031, 0.000023,
    0.00002; then 2.3e-07."""
    if p == 0:
        return "0 (below 1e-300)"
    if p >= 1e-6:
        digits = max(2, 1 - math.floor(math.log10(p)))
        return f"{p:.{digits}f}".rstrip("0").rstrip(".")
    return f"{p:.1e}"
