"""The spike test of early warning (adwatch.alerts.spikes): its tails against sums of
the probabilities written out, and days that must and must not be flagged.

The module is imported, not its functions: pytest would collect `test_day` as a test.
"""

from __future__ import annotations

import math
import random

import pytest

from adwatch.alerts import spikes

DEFAULTS = spikes.SpikeSettings()


def poisson_probability(j: int, mean: float) -> float:
    return math.exp(-mean) * mean**j / math.factorial(j)


def negative_binomial_probability(j: int, mean: float, size: int) -> float:
    """P(X = j): j failures before the size-th success, success chance size / (size + mean)."""
    p = size / (size + mean)
    return math.comb(j + size - 1, j) * p**size * (1 - p) ** j


# --- tails -------------------------------------------------------------------------------


@pytest.mark.parametrize("mean", [0.05, 0.5, 2.0, 7.5, 20.0])
@pytest.mark.parametrize("observed", [0, 1, 2, 3, 5, 10, 25, 40])
def test_poisson_tail_is_the_sum_of_the_probabilities_from_observed_up(
    mean: float, observed: int
) -> None:
    # Summed upwards, so that a tiny tail is compared at full precision.
    expected = sum(poisson_probability(j, mean) for j in range(observed, observed + 100))
    assert spikes.poisson_tail(observed, mean) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("size", [1, 2, 5])
@pytest.mark.parametrize("mean", [0.3, 3.0, 12.0])
@pytest.mark.parametrize("observed", [0, 1, 3, 8, 20, 40])
def test_negative_binomial_tail_is_the_sum_of_the_probabilities(
    size: int, mean: float, observed: int
) -> None:
    below = sum(negative_binomial_probability(j, mean, size) for j in range(observed))
    above = sum(negative_binomial_probability(j, mean, size) for j in range(observed, 2000))
    assert below + above == pytest.approx(1.0, abs=1e-12)  # the written-out pmf is whole
    assert spikes.negative_binomial_tail(observed, mean, size) == pytest.approx(above, rel=1e-9)


def test_a_negative_binomial_of_growing_size_becomes_poisson() -> None:
    poisson = spikes.poisson_tail(9, 3.0)
    gaps = [abs(spikes.negative_binomial_tail(9, 3.0, size) - poisson) for size in (10, 1e3, 1e6)]
    assert gaps[0] > gaps[1] > gaps[2]
    assert gaps[2] < poisson * 1e-4
    assert spikes.negative_binomial_tail(9, 3.0, math.inf) == poisson


def test_tails_of_counts_in_the_thousands_are_finite_and_ordered() -> None:
    # A market scanning tens of thousands of articles a day.
    nb = [spikes.negative_binomial_tail(x, 2500.0, 40.0) for x in (2500, 3000, 4000, 6000)]
    poisson = [spikes.poisson_tail(x, 2500.0) for x in (2500, 2600, 2800, 3000)]
    for tails in (nb, poisson):
        assert 0.4 < tails[0] < 0.6  # about half the mass is at or above the mean
        assert all(0 < later < earlier for earlier, later in zip(tails, tails[1:], strict=False))
    # Against the upper sum written out with logarithms (math.factorial would overflow).
    log_terms = [j * math.log(2500) - 2500 - math.lgamma(j + 1) for j in range(3000, 4000)]
    assert poisson[3] == pytest.approx(sum(math.exp(t) for t in log_terms), rel=1e-9)


def test_a_mean_of_zero_gives_certainty_not_a_division_by_zero() -> None:
    assert spikes.poisson_tail(0, 0.0) == 1.0
    assert spikes.poisson_tail(3, 0.0) == 0.0
    assert spikes.negative_binomial_tail(3, 0.0, 2.0) == 0.0


def test_tails_refuse_impossible_arguments() -> None:
    with pytest.raises(ValueError, match="mean"):
        spikes.poisson_tail(3, -1.0)
    with pytest.raises(ValueError, match="size"):
        spikes.negative_binomial_tail(3, 1.0, 0.0)


# --- days --------------------------------------------------------------------------------


def test_a_clear_spike_is_flagged_with_its_figures() -> None:
    # 30 days of 2 articles with hits out of 400 scanned, then 12. The baseline is days
    # 0-27 (28 and 29 are the gap) less the 3 top days: 25 days of rate 2 / 400, so 2.0
    # expected; no variance at all, so Poisson.
    counts = [2] * 30 + [12]
    result = spikes.test_day(counts, [400] * 31, 30)
    p_value = 1 - sum(poisson_probability(j, 2.0) for j in range(12))
    assert result is not None
    assert result.flagged
    assert (result.observed, result.expected, result.articles) == (12, 2.0, 400)
    assert (result.baseline_days, result.baseline_rate, result.dispersion) == (25, 0.005, None)
    assert result.p_value == pytest.approx(p_value, rel=1e-9)
    assert result.why == (
        "12 articles against 2.0 expected "
        "(p = 0.0000014, Poisson, 25 baseline days, 400 articles scanned)"
    )


def test_the_dispersion_is_the_documented_method_of_moments() -> None:
    # Days alternating 0 and 4; the top 3 (three 4s) dropped leaves 14 zeros and 11 fours.
    counts = [0, 4] * 14 + [0, 0, 9]
    result = spikes.test_day(counts, None, 30)
    mean = 44 / 25
    squares = 14 * mean**2 + 11 * (4 - mean) ** 2
    size = 25 * mean**2 / (squares * 25 / 24 - 44)
    assert result is not None
    assert result.dispersion == pytest.approx(size, rel=1e-12)
    assert result.p_value == pytest.approx(spikes.negative_binomial_tail(9, mean, size))
    # The same 9 under Poisson would be a spike: the overdispersion is what stops it.
    assert spikes.poisson_tail(9, mean) < DEFAULTS.p_value
    assert not result.flagged
    assert "negative binomial k = 1.3" in result.why
    assert result.why.startswith("not flagged: p not below 0.001: 9 articles against 1.8")


def test_overdispersion_of_a_millionth_is_poisson() -> None:
    # 25 kept days around 1 000 whose squared deviations sum to 24 002: the excess is
    # 24 002 x 25/24 - 25 000 = 2.08, so k = 25 x 1000² / 2.08, about 1.2e7.
    kept = [1109, 891, 1010, 990, 1004, 996, 1002, 998] + [1000] * 17
    counts = kept + [2000] * 3 + [1000, 1000, 1100]
    result = spikes.test_day(counts, None, 30)
    assert result is not None
    assert (result.baseline_days, result.dispersion) == (25, None)
    assert result.p_value == pytest.approx(spikes.poisson_tail(1100, 1000.0))
    # Twice the deviations: k = 25 x 1000² / (96 008 x 25/24 - 25 000), about 3.3e2.
    wider = [1000 + 2 * (count - 1000) for count in kept] + [2000] * 3 + [1000, 1000, 1100]
    result = spikes.test_day(wider, None, 30)
    assert result is not None and result.dispersion == pytest.approx(
        25 * 1000**2 / (96_008 * 25 / 24 - 25_000)
    )


def test_an_ordinary_series_raises_no_flag() -> None:
    # Poisson-like counts around 3 a day on 400 to 800 articles, drawn from a fixed seed.
    draw = random.Random(7)
    articles = [draw.randint(400, 800) for _ in range(200)]
    counts = [sum(draw.random() < 0.006 for _ in range(a)) for a in articles]
    results = spikes.test_series(counts, articles)
    tested = [result for result in results if result is not None]
    assert len(tested) > 150
    assert [result.why for result in tested if result.flagged] == []
    # The same series with one day made a spike: only that day is flagged.
    counts[120] += 15
    flagged = [day for day, r in enumerate(spikes.test_series(counts, articles)) if r and r.flagged]
    assert flagged == [120]


def test_a_day_with_twice_the_articles_and_twice_the_hits_is_no_spike() -> None:
    counts = [20] * 30 + [40]
    articles = [400] * 30 + [800]  # a feed's backlog arrived, or a second feed
    result = spikes.test_day(counts, articles, 30)
    assert result is not None
    assert (result.expected, result.flagged) == (40.0, False)
    # Without the denominator the same day is a spike.
    counted = spikes.test_day(counts, None, 30)
    assert counted is not None and counted.flagged


def test_a_day_without_articles_is_not_tested_nor_counted_in_a_baseline() -> None:
    counts = [2] * 30 + [0]
    articles = [400] * 30 + [0]
    assert spikes.test_day(counts, articles, 30) is None
    # Days 5 and 10 had their feeds down: left out, not read as quiet days.
    counts[5] = counts[10] = 0
    articles[5] = articles[10] = 0
    articles[30], counts[30] = 400, 2
    result = spikes.test_day(counts, articles, 30)
    assert result is not None
    assert (result.baseline_days, result.expected) == (23, 2.0)


def test_too_short_a_baseline_gives_no_test() -> None:
    counts = [1] * 9 + [6]
    assert spikes.test_day(counts, None, 8) is None  # days 0-5: 6 baseline days
    result = spikes.test_day(counts, None, 9)  # days 0-6: 7, none dropped below that
    assert result is not None and result.baseline_days == 7
    articles = [100] * 10
    articles[3] = 0  # one of the 7 had no articles: 6 are left
    assert spikes.test_day(counts, articles, 9) is None


def test_fewer_than_min_count_is_never_flagged() -> None:
    counts = [0] * 30 + [2]
    result = spikes.test_day(counts, [300] * 31, 30)
    assert result is not None
    # A baseline without hits reads as half a hit over its 7 500 articles scanned.
    assert result.expected == pytest.approx(0.5 / 7500 * 300)
    assert 0 < result.p_value < DEFAULTS.p_value
    assert not result.flagged
    assert result.why.startswith("not flagged: fewer than 3: 2 articles against 0.02 expected")
    assert "25 baseline days without a hit" in result.why
    counts[30] = 3
    three = spikes.test_day(counts, [300] * 31, 30)
    assert three is not None and three.flagged


def test_an_old_spike_in_the_baseline_does_not_hide_a_new_one() -> None:
    counts = [1] * 33 + [8]
    counts[20] = 15  # a spike twelve days before, inside the baseline
    result = spikes.test_day(counts, None, 33)
    assert result is not None
    assert result.flagged
    assert (result.expected, result.dispersion) == (1.0, None)
    kept = spikes.test_day(counts, None, 33, spikes.SpikeSettings(drop_top=0))
    assert kept is not None and not kept.flagged
    # Kept, the old spike makes the baseline look burstier than the floor allows.
    assert kept.dispersion == spikes.DISPERSION_FLOOR


def test_the_top_days_are_those_of_the_highest_rate_not_count() -> None:
    # 22 ordinary days (2 of 400), 3 days of twice the articles and hits (4 of 800),
    # and 3 days of three times the rate (3 of 200): the last three are dropped.
    counts = [2] * 22 + [4] * 3 + [3] * 3 + [2, 2, 2]
    articles = [400] * 22 + [800] * 3 + [200] * 3 + [400, 400, 400]
    result = spikes.test_day(counts, articles, 30)
    assert result is not None
    assert result.baseline_rate == pytest.approx(2 / 400)
    assert result.expected == pytest.approx(2.0)


def test_without_overdispersion_the_test_is_poisson() -> None:
    counts = [0, 4] * 14 + [0, 0, 9]
    result = spikes.test_day(counts, None, 30, spikes.SpikeSettings(overdispersion=False))
    assert result is not None
    assert result.dispersion is None and result.flagged
    assert result.p_value == pytest.approx(spikes.poisson_tail(9, 44 / 25))


def test_the_same_series_gives_the_same_results() -> None:
    draw = random.Random(3)
    counts = [draw.randint(0, 6) for _ in range(90)]
    articles = [draw.randint(0, 500) for _ in range(90)]
    first = spikes.test_series(counts, articles)
    assert sum(result is not None for result in first) > 50
    assert first == spikes.test_series(list(counts), list(articles))


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="articles: must have one value per day"):
        spikes.test_day([1, 2, 3], [10, 10], 2)
    with pytest.raises(ValueError, match="day: not a day of the series"):
        spikes.test_day([1, 2, 3], None, 3)
    with pytest.raises(ValueError, match="must not be negative"):
        spikes.test_day([1] * 9 + [-1] * 3, None, 11)
    with pytest.raises(ValueError, match="min_baseline_days"):
        spikes.SpikeSettings(baseline_days=5)
    with pytest.raises(ValueError, match="p_value"):
        spikes.SpikeSettings(p_value=0.0)
