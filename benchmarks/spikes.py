"""False alarms a year and spikes caught: adwatch's spike test against the usual ones.

Simulated daily series of "articles with a hit of a watchlist in a market", one year
each after a warm-up of WARMUP days, at several means (hits a day):

- articles scanned: a market's volume (VOLUME articles a day), a weekly pattern
  (weekdays x1.12, Saturday x0.75, Sunday x0.65), day-to-day noise (lognormal, 20 %),
  and feed incidents: on 1 % of days no article at all (the feeds were down), on 3 %
  half the articles (one feed of two down), on 2 % twice the articles (a feed's
  backlog, or a feed counted twice);
- hits: negative binomial with size 3 (variance mean + mean² / 3; `--size`) around the rate
  x that day's articles scanned, so that the weekend dips and the feed incidents carry
  the hits with them;
- 5 spikes a series-year, on days without a feed incident: that day's count plus
  3 to 6 (uniform) of its own standard deviations, rounded up.

Every method is run on the same series, and a day with fewer than 3 hits is never
flagged by any of them (the defaults' min_count):

- NB: `adwatch.alerts.spikes.test_day` with its defaults (negative binomial, 28-day
  baseline, 2-day gap, top 3 days dropped, p < 0.001), articles scanned as denominator;
- Poisson: the same with `overdispersion=False`;
- EWMA: in the manner of CDC ESSENCE's EWMA on the day's rate (hits per article
  scanned): smoothed with lambda 0.4, against the mean and standard deviation of the
  rates of 28 baseline days before a 2-day gap; flagged when the smoothed value is 3
  of its own standard deviations (sd x sqrt(lambda / (2 - lambda))) above the mean.
  The standard deviation is floored at half a hit on a day of the baseline's mean
  volume: an all-zero baseline would otherwise flag any day of 3 hits. (ESSENCE alerts
  at p < 0.01 of a t-test and adds a faster smoothing for sudden rises; this is the
  plain single-smoothing form);
- z-score: the day's rate more than 3 standard deviations above the same baseline's
  mean (same floor);
- NB without denominator: `test_day` with articles=None.

A flag on a spike day is a catch; a flag on any other day is a false alarm, except the
two days after a spike (the EWMA carries a spike over; the others do not, and a real
incident often lasts more than a day). Printed: a markdown table of false alarms a year
per series and of the share of spikes caught, per mean; the false alarms on feed
incident days alone; and the defaults' catch rate by spike size.

    python benchmarks/spikes.py                     # 200 series-years per mean, about 12 s
    python benchmarks/spikes.py --variants          # the NB test with other settings, about 30 s
    python benchmarks/spikes.py --size 2            # burstier simulated hits (default 3)
    python benchmarks/spikes.py --series 50 --json  # a quicker, noisier run
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from adwatch.alerts import spikes

MEANS = (0.3, 1.0, 2.0, 4.0, 8.0)
YEAR = 365
WARMUP = 35  # a full baseline (28 days and the 2-day gap) before the first tested day
SIZE = 3.0  # negative-binomial size of the simulated hits
VOLUME = 400  # articles scanned in a market on an average day
WEEK = (1.12, 1.12, 1.12, 1.12, 1.12, 0.75, 0.65)  # Monday first; averages 1
FEED_DOWN, FEED_HALVED, FEED_DOUBLED = 0.01, 0.03, 0.02
SPIKES = 5
SPIKE_SDS = (3.0, 6.0)
ECHO_DAYS = 2

# The EWMA and z-score baselines: as the NB test's, without dropping days.
BASELINE, GAP, EWMA_LAMBDA, SIGMAS = 28, 2, 0.4, 3.0
METHODS = ("NB", "Poisson", "EWMA", "z-score", "NB, no denominator")
POISSON = spikes.SpikeSettings(overdispersion=False)
DEFAULTS = spikes.SpikeSettings()


@dataclass(frozen=True)
class Series:
    counts: list[int]
    articles: list[int]
    spikes: dict[int, float]  # day -> the spike's size in standard deviations
    incidents: frozenset[int]  # days with no, half or twice the articles


def simulate(mean: float, size: float, generator: np.random.Generator) -> Series:
    days = WARMUP + YEAR
    weekday = np.array([WEEK[day % 7] for day in range(days)])
    noise = generator.lognormal(-0.02, 0.2, days)  # mean about 1
    volume = VOLUME * weekday * noise
    incident = generator.random(days)
    factor = np.ones(days)
    factor[incident < FEED_DOWN] = 0.0
    halved = (incident >= FEED_DOWN) & (incident < FEED_DOWN + FEED_HALVED)
    factor[halved] = 0.5
    doubled = incident >= 1 - FEED_DOUBLED
    factor[doubled] = 2.0
    articles = np.rint(volume * factor).astype(np.int64)
    expected = mean / VOLUME * articles
    # Negative binomial as Poisson around a gamma-distributed mean.
    counts = generator.poisson(expected * generator.gamma(size, 1 / size, days))
    incidents = frozenset(int(day) for day in np.flatnonzero(factor != 1.0))
    candidates = [day for day in range(WARMUP, days) if day not in incidents]
    chosen = sorted(int(day) for day in generator.choice(candidates, SPIKES, replace=False))
    sizes = {}
    for day in chosen:
        sds = float(generator.uniform(*SPIKE_SDS))
        sd = math.sqrt(expected[day] + expected[day] ** 2 / size)
        extra = math.ceil(sds * sd)
        counts[day] += extra
        articles[day] += extra  # the spike's articles were scanned too
        sizes[day] = sds
    return Series([int(c) for c in counts], [int(a) for a in articles], sizes, incidents)


def flags_of_test(series: Series, settings: spikes.SpikeSettings, *, rates: bool) -> set[int]:
    articles = series.articles if rates else None
    flagged = set()
    for day in range(WARMUP, len(series.counts)):
        if series.counts[day] < settings.min_count:
            continue  # never flagged: spare the test
        result = spikes.test_day(series.counts, articles, day, settings)
        if result is not None and result.flagged:
            flagged.add(day)
    return flagged


def flags_of_sigmas(series: Series) -> tuple[set[int], set[int]]:
    """Days flagged by the EWMA and by the z-score, both on rates."""
    counts = np.array(series.counts, dtype=float)
    articles = np.array(series.articles, dtype=float)
    seen = articles > 0
    rate = np.divide(counts, articles, out=np.zeros_like(counts), where=seen)
    smoothed = np.zeros_like(rate)
    level = rate[seen][0]
    for day in range(len(rate)):
        if seen[day]:  # a day without articles has no rate: the smoothing waits
            level = EWMA_LAMBDA * rate[day] + (1 - EWMA_LAMBDA) * level
        smoothed[day] = level
    ewma, zscore = set(), set()
    for day in range(WARMUP, len(rate)):
        if not seen[day] or counts[day] < DEFAULTS.min_count:
            continue
        window = slice(day - GAP - BASELINE, day - GAP)
        baseline = rate[window][seen[window]]
        volume = articles[window][seen[window]].mean()
        mean = baseline.mean()
        sd = max(baseline.std(ddof=1), 0.5 / volume)
        if smoothed[day] > mean + SIGMAS * sd * math.sqrt(EWMA_LAMBDA / (2 - EWMA_LAMBDA)):
            ewma.add(day)
        if rate[day] > mean + SIGMAS * sd:
            zscore.add(day)
    return ewma, zscore


def run_series(series: Series) -> dict[str, set[int]]:
    ewma, zscore = flags_of_sigmas(series)
    return {
        "NB": flags_of_test(series, DEFAULTS, rates=True),
        "Poisson": flags_of_test(series, POISSON, rates=True),
        "EWMA": ewma,
        "z-score": zscore,
        "NB, no denominator": flags_of_test(series, DEFAULTS, rates=False),
    }


@dataclass
class Tally:
    """What one method did over the series of one mean."""

    false_alarms: int = 0
    on_incidents: int = 0  # false alarms on days with no, half or twice the articles
    caught: int = 0
    spikes: int = 0
    # Whole standard deviations (3, 4, 5; a spike of exactly 6 joins 5) -> spikes, caught.
    spikes_by_size: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    caught_by_size: dict[int, int] = field(default_factory=lambda: defaultdict(int))


def tally(series: Series, flagged: set[int], into: Tally) -> None:
    echoes = {day + lag for day in series.spikes for lag in range(1, ECHO_DAYS + 1)}
    for day in flagged - series.spikes.keys() - echoes:
        into.false_alarms += 1
        into.on_incidents += day in series.incidents
    for day, sds in series.spikes.items():
        into.spikes += 1
        into.caught += day in flagged
        whole = min(int(sds), int(SPIKE_SDS[1]) - 1)
        into.spikes_by_size[whole] += 1
        into.caught_by_size[whole] += day in flagged


def measure(series_per_mean: int, seed: int, size: float) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for position, mean in enumerate(MEANS):
        # One generator per mean: a run with fewer means gives the same series.
        generator = np.random.default_rng([seed, position])
        tallies = {method: Tally() for method in METHODS}
        started = time.process_time()
        for _ in range(series_per_mean):
            series = simulate(mean, size, generator)
            for method, flagged in run_series(series).items():
                tally(series, flagged, tallies[method])
        years = series_per_mean * YEAR / 365
        results[f"{mean:g}"] = {
            method: {
                "false_alarms_a_year": round(t.false_alarms / years, 2),
                "on_feed_incidents_a_year": round(t.on_incidents / years, 2),
                "caught": round(t.caught / t.spikes, 3),
                "caught_by_size": {
                    f"+{sds}-{sds + 1} sd": round(t.caught_by_size[sds] / t.spikes_by_size[sds], 3)
                    for sds in sorted(t.spikes_by_size)
                },
            }
            for method, t in tallies.items()
        }
        results[f"{mean:g}"]["cpu_s"] = round(time.process_time() - started, 1)
    return results


def print_tables(results: dict[str, Any], series_per_mean: int) -> None:
    means = list(results)
    header = "| hits a day | " + " | ".join(METHODS) + " |"
    rule = "|---" * (len(METHODS) + 1) + "|"
    print(f"False alarms a year per series ({series_per_mean} series-years per mean)\n")
    print(header, rule, sep="\n")
    for mean in means:
        cells = [f"{results[mean][m]['false_alarms_a_year']:.1f}" for m in METHODS]
        print(f"| {mean} | " + " | ".join(cells) + " |")
    print(f"\nSpikes caught ({SPIKES} a series-year, +3 to +6 standard deviations)\n")
    print(header, rule, sep="\n")
    for mean in means:
        cells = [f"{100 * results[mean][m]['caught']:.0f} %" for m in METHODS]
        print(f"| {mean} | " + " | ".join(cells) + " |")
    print("\nOf the false alarms a year, on days with no, half or twice the articles\n")
    both = ("NB", "NB, no denominator")
    print("| hits a day | " + " | ".join(both) + " |", "|---" * 3 + "|", sep="\n")
    for mean in means:
        cells = [f"{results[mean][m]['on_feed_incidents_a_year']:.2f}" for m in both]
        print(f"| {mean} | " + " | ".join(cells) + " |")
    print("\nSpikes caught by the defaults (NB), by size\n")
    sizes = list(results[means[0]]["NB"]["caught_by_size"])
    print("| hits a day | " + " | ".join(sizes) + " |", "|---" * (len(sizes) + 1) + "|", sep="\n")
    for mean in means:
        by_size = results[mean]["NB"]["caught_by_size"]
        cells = [f"{100 * by_size[size]:.0f} %" for size in sizes]
        print(f"| {mean} | " + " | ".join(cells) + " |")
    cpu = sum(results[mean]["cpu_s"] for mean in means)
    print(f"\nCPU: {cpu:.1f} s", file=sys.stderr)


# The defaults' neighbours, one setting changed at a time (`--variants`).
VARIANTS = {
    "defaults": DEFAULTS,
    "drop_top 0": spikes.SpikeSettings(drop_top=0),
    "drop_top 1": spikes.SpikeSettings(drop_top=1),
    "drop_top 5": spikes.SpikeSettings(drop_top=5),
    "baseline_days 14": spikes.SpikeSettings(baseline_days=14),
    "baseline_days 56": spikes.SpikeSettings(baseline_days=56),
    "p_value 0.0001": spikes.SpikeSettings(p_value=0.0001),
    "p_value 0.01": spikes.SpikeSettings(p_value=0.01),
    "min_count 4": spikes.SpikeSettings(min_count=4),
}


def measure_variants(series_per_mean: int, seed: int, size: float) -> dict[str, dict[str, str]]:
    """False alarms a year and share caught of the NB test under each of VARIANTS."""
    table: dict[str, dict[str, str]] = {name: {} for name in VARIANTS}
    for position, mean in enumerate(MEANS):
        generator = np.random.default_rng([seed, position])  # the series of `measure`
        tallies = {name: Tally() for name in VARIANTS}
        for _ in range(series_per_mean):
            series = simulate(mean, size, generator)
            for name, settings in VARIANTS.items():
                tally(series, flags_of_test(series, settings, rates=True), tallies[name])
        for name, t in tallies.items():
            table[name][f"{mean:g}"] = (
                f"{t.false_alarms / series_per_mean:.1f} / {100 * t.caught / t.spikes:.0f} %"
            )
    return table


def print_variants(table: dict[str, dict[str, str]], series_per_mean: int) -> None:
    means = list(next(iter(table.values())))
    print(
        f"NB test, false alarms a year / spikes caught ({series_per_mean} series-years per mean)\n"
    )
    print("| settings | " + " | ".join(f"{mean} a day" for mean in means) + " |")
    print("|---" * (len(means) + 1) + "|")
    for name, row in table.items():
        print(f"| {name} | " + " | ".join(row[mean] for mean in means) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=200, help="series-years per mean")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument(
        "--size", type=float, default=SIZE, help="negative-binomial size of the simulated hits"
    )
    parser.add_argument("--variants", action="store_true", help="the NB test with other settings")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if args.variants:
        table = measure_variants(args.series, args.seed, args.size)
        if args.json:
            print(json.dumps(table, indent=2))
        else:
            print_variants(table, args.series)
        return
    results = measure(args.series, args.seed, args.size)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_tables(results, args.series)


if __name__ == "__main__":
    main()
